"""Shared test setup: the helper modules in tests/support (harnesses for the runtime, the host
and the attack tests) are importable from every test folder, which mirrors the package layout
(vetting, metering, runtime, host, ledger, attacks, cli)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))

from language_harness import DictHost  # noqa: E402


@pytest.fixture
def host():
    """The in-process storage host of runtime-level tests (tests/support/language_harness.py)."""
    return DictHost()
