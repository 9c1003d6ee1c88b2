"""Fixtures for the attack tests: a real Chain (worker subprocess + SQLite file) per test."""

from __future__ import annotations

import pytest

from pycontract import Chain


@pytest.fixture
def chain(tmp_path):
    with Chain(tmp_path / "ledger.db") as c:
        yield c
