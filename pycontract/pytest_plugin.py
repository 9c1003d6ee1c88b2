"""The pytest plugin installed with pycontract (entry point ``pytest11``: ``pycontract``).

Fixtures:

* ``chain``: a :class:`pycontract.testing.TestChain` on a fresh ledger in the test's temporary
  directory, closed after the test (its worker stopped). Relative contract paths given to
  ``chain.deploy_file`` are found next to the test file first.

Imports stay lazy so that loading the plugin costs nothing in projects that do not use it.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def chain(request, tmp_path):
    """A fresh pycontract ledger (real engine, real sandbox worker) for one test."""
    from pycontract.testing import TestChain

    base = getattr(request, "path", None)
    tc = TestChain(tmp_path / "ledger.db", base_dir=base.parent if base is not None else None)
    try:
        yield tc
    finally:
        tc.close()
