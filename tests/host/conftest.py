"""Fixtures for the engine tests: real worker subprocesses, real SQLite files in tmp_path."""

from __future__ import annotations

import pytest
from engine_support import COUNTER, example

from pycontract import Chain


@pytest.fixture
def chain(tmp_path):
    with Chain(tmp_path / "ledger.db") as c:
        yield c


@pytest.fixture
def counter(chain):
    r = chain.deploy("counter", COUNTER, sender="alice")
    assert r.status == "success", r.error
    return chain


@pytest.fixture
def token_chain(chain):
    r = chain.deploy("token", example("token.py"), sender="alice", args={"supply": 1000})
    assert r.status == "success", r.error
    return chain
