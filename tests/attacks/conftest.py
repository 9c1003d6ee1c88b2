"""Fixtures for the attack tests: a real Chain (worker subprocess + SQLite file) per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pycontract import Chain  # noqa: E402


@pytest.fixture
def chain(tmp_path):
    with Chain(tmp_path / "ledger.db") as c:
        yield c
