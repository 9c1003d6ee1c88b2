"""Shared waits of the network tests: poll a condition with a deadline (never sleep for timing
alone), and read a node's height over its RPC."""

from __future__ import annotations

import time

from pycontract.node.client import NodeClient, NodeError


def poll(pred, timeout, what, interval=0.1):
    """``pred()``'s first truthy value, polled every ``interval`` s; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(interval)


def height(url):
    """The node's latest block height, or None while it does not answer."""
    try:
        return NodeClient(url, timeout=2).status()["height"]
    except NodeError:
        return None
