"""Fixtures for runtime-level tests; the helpers live in language_harness.py."""

from __future__ import annotations

import pytest

from language_harness import HEADER, DictHost, Outcome, contract, run  # noqa: F401


@pytest.fixture
def host():
    return DictHost()
