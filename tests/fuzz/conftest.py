"""Fixtures and options of the differential fuzzer (issue #13).

Profiles: the quick one runs in the normal suite (derandomized, a few seconds); the long one
runs with ``pytest tests/fuzz --fuzz-long`` or ``PYCONTRACT_FUZZ_LONG=1`` (any invocation; the
option is only known when tests/fuzz is on the command line, as pytest reads options from the
conftests of the given paths). ``PYCONTRACT_FUZZ_EXAMPLES=N`` overrides the long example count.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck


def pytest_addoption(parser):
    parser.addoption("--fuzz-long", action="store_true", default=False,
                     help="run the long differential-fuzzing profile (tests/fuzz)")


def vet_entry():
    """The vetting entry function: the one line to change when pycontract's modules move."""
    from pycontract.vetting import vet

    return vet


@pytest.fixture(scope="session")
def vet():
    return vet_entry()


def fuzz_is_long(config) -> bool:
    try:
        opt = config.getoption("--fuzz-long")
    except ValueError:  # the option is not registered (tests/fuzz not on the command line)
        opt = False
    return bool(opt) or os.environ.get("PYCONTRACT_FUZZ_LONG", "") not in ("", "0")


@pytest.fixture(scope="session")
def fuzz_long(pytestconfig) -> bool:
    return fuzz_is_long(pytestconfig)


@pytest.fixture(scope="session")
def fuzz_settings(fuzz_long):
    """Hypothesis settings for the profile: a function of the example count (quick / long)."""
    from hypothesis import settings

    def make(quick: int, long: int, **kw):
        n = int(os.environ.get("PYCONTRACT_FUZZ_EXAMPLES", long)) if fuzz_long else quick
        return settings(max_examples=n, deadline=None, database=None,
                        derandomize=not fuzz_long, print_blob=fuzz_long,
                        suppress_health_check=list(HealthCheck), **kw)

    return make


@pytest.fixture(scope="module")
def chain():
    """One ledger and worker per test module: every batch of programs is one more contract."""
    from pycontract import Chain

    with Chain() as c:
        yield c
