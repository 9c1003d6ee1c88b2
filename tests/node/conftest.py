"""Shared fixtures for the network tests: the pinned CometBFT binary and real localnets.

Every test here runs real CometBFT processes on loopback. NODE_APP is the application the
localnet tests run: CometBFT's built-in "kvstore" until pycontract.node.app exists, then
"pycontract" (the one line to change); `app_tx` sends one state-changing transaction for
either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NODE_APP = "pycontract"

REPO = Path(__file__).resolve().parents[2]

COUNTER = '''
from pycontract import Value, public, view, constructor

count = Value(default=0)


@constructor
def init() -> None:
    count.set(0)


@public
def bump(by: int) -> int:
    count.set(count.get() + by)
    return count.get()


@view
def get() -> int:
    return count.get()
'''


@pytest.fixture(scope="session")
def cometbft_bin():
    """The pinned CometBFT (found or built once per session)."""
    from pycontract.node.cometbft import ensure_installed

    return ensure_installed()


def run_cli(*args, timeout=180, env=None):
    """`python -m pycontract.node.cli ARGS` as a subprocess (the network commands, unwired)."""
    return subprocess.run(
        [sys.executable, "-m", "pycontract.node.cli", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, cwd=str(REPO),
        env=env if env is not None else os.environ.copy(),
    )


def app_tx(client, n: int, key=None):
    """Send one state-changing transaction to the localnet's app and wait for its commit;
    returns the tx hash."""
    if NODE_APP == "kvstore":
        h = client.broadcast(f"key{n}=value{n}".encode())
        res = client.wait_for(h)
        assert res["code"] == 0, res
        return h
    from pycontract.node.client import NodeClient
    from pycontract.node.keys import Key

    c = NodeClient(client.url, key=key or Key.generate())
    r = c.deploy(f"counter{n}", COUNTER)
    assert r.status == "success", r
    return r.tx_hash


@pytest.fixture(scope="session")
def node_cli():
    """Runs the network CLI in a subprocess: node_cli("status", "--node", url)."""
    return run_cli


@pytest.fixture(scope="session")
def node_app():
    """(NODE_APP, app_tx): the localnet application and how to send it a transaction."""
    return NODE_APP, app_tx
