"""The host stage: transactions in, receipts and a committed block out (SPEC.md section 2).

``Chain`` (:mod:`.chain`) composes the pieces: :mod:`.validate` checks transactions before they
reach the worker and every untrusted reply after; :mod:`.worker_client` starts and stops the
sandbox worker; :mod:`.hashing` gives transactions their hashes; :mod:`.limits` holds the size
limits both sides enforce. The host never parses, compiles or runs contract source.

Names load lazily so that the worker can import :mod:`.limits` without the host's machinery.
"""

from __future__ import annotations

__all__ = [
    "Chain", "PendingBlock", "Tx", "Receipt", "Event", "LedgerVersionError", "NAME_RE",
    "MAX_GAS_PER_TX", "DEFAULT_DEPLOY_GAS", "DEFAULT_CALL_GAS", "DEFAULT_QUERY_GAS",
]

_LAZY = {
    "Chain": "chain", "PendingBlock": "chain",
    "Tx": "records", "Receipt": "records", "Event": "records", "LedgerVersionError": "records",
    "DEFAULT_DEPLOY_GAS": "records", "DEFAULT_CALL_GAS": "records", "DEFAULT_QUERY_GAS": "records",
    "NAME_RE": "validate", "MAX_GAS_PER_TX": "limits",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"pycontract.host.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'pycontract.host' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
