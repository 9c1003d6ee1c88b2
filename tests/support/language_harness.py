"""Helpers for runtime-level tests: the worker's own host over plain dicts, and a one-call runner.

Imported by name (``from language_harness import run``): pytest's default import mode puts a
test file's directory on ``sys.path``. ``conftest.py`` re-exports it for fixtures."""

from __future__ import annotations

from ledger_store import codec
from pycontract.metering.compiler import compile_contract
from pycontract.errors import ContractAbort
from pycontract.runtime import CallFrame, Meter
from pycontract.worker.process import Rejected, TxHost, check_args


class _DictOverlay:
    """The part of a ledger overlay the worker's host uses, over plain dicts."""

    def __init__(self, storage: dict, contracts: dict):
        self.storage, self.contracts = storage, contracts

    def get(self, contract, key):
        return self.storage.get((contract, key))

    def put(self, contract, key, value):
        self.storage[(contract, key)] = value

    def delete(self, contract, key):
        self.storage.pop((contract, key), None)

    def contract(self, name):
        return self.contracts.get(name)  # a CompiledContract stands in for its record


class _DictExecutor:
    def compiled_record(self, cc, ov):
        return cc


class DictHost(TxHost):
    """The worker's own host (``pycontract.worker.process.TxHost``: every check it makes on
    storage, events and cross-contract calls) over plain dicts instead of a ledger overlay, so
    runtime tests run without a worker process but never with a laxer host than the real one.
    ``events`` hold decoded fields for the tests' convenience."""

    def __init__(self):
        self.storage = {}  # (contract, key bytes) -> value bytes
        self.contracts = {}  # name -> CompiledContract
        super().__init__(_DictExecutor(), _DictOverlay(self.storage, self.contracts),
                         block_height=7, block_time=1_700_000_000, origin=None)

    def emit(self, contract, name, fields):
        super().emit(contract, name, fields)  # the real checks, then decode for the tests
        c, n, f = self.events[-1]
        self.events[-1] = (c, n, codec.decode_value(f))

    def value(self, contract, *key):
        raw = self.storage.get((contract, codec.encode_key(tuple(key))))
        return None if raw is None else codec.decode_value(raw)


class Outcome:
    def __init__(self, status, gas_used, result=None, error=None, meter=None):
        self.status = status
        self.gas_used = gas_used
        self.result = result
        self.error = error
        self.meter = meter

    def __repr__(self):
        return f"Outcome({self.status!r}, gas={self.gas_used}, result={self.result!r}, error={self.error!r})"


def run(source, function="main", gas=1_000_000, host=None, name="c", readonly=False,
        sender="alice", **kwargs):
    """Compile ``source`` and run ``function(**kwargs)`` in contract ``name``. The arguments
    pass the worker's own ``check_args`` first, as on every real call (the rewriter relies on
    it: entry points' ``int`` parameters are proven ints); refused, the outcome is
    ``rejected``, 0 gas."""
    host = host or DictHost()
    cc = compile_contract(source, name)
    ep = cc.entry_points.get(function)
    if ep is not None:
        try:
            check_args(name, ep, kwargs)
        except Rejected as e:
            return Outcome("rejected", 0, None, str(e))
    host.contracts[name] = cc
    meter = Meter(gas)
    host.meter = meter
    host.loaded = {name}  # a transaction of its own; its own code's code_load is the worker's
    frame = CallFrame(name, sender, sender, 7, 1_700_000_000, readonly, 0)
    try:
        result = host.run(cc, function, kwargs, frame)
    except ContractAbort as e:
        return Outcome(e.status, meter.used, None, e.message, meter)
    return Outcome("success", meter.used, result, None, meter)


HEADER = "from pycontract import public, view, constructor, Map, Value, ctx, require, revert, emit, call\n"


def contract(body: str) -> str:
    """Prefix the standard import line to a contract body."""
    return HEADER + body


#: the rewriter's switches for the recursion variants: everything (prepaid self-calls, bounded
#: copies), prepaid without bounded copies, the schedule 6 copy (the callee charges its own
#: entry), no copy at all
RECURSION_VARIANTS = {"full": {}, "unbounded": {"BOUNDED_COPIES": False},
                      "s6": {"PREPAY_SELF_CALLS": False}, "none": {"RECURSIVE_COPIES": False}}


def recursion_variants(monkeypatch, src, **kw) -> dict:
    """(status, result, error, gas_used) of one source run under each RECURSION_VARIANTS."""
    from pycontract.metering import compiler
    from pycontract.metering import rewriter as gas_rewriter

    out = {}
    for key, flags in RECURSION_VARIANTS.items():
        with monkeypatch.context() as mp:
            for k, v in flags.items():
                mp.setattr(gas_rewriter.GasRewriter, k, v)
            compiler.clear_cache()
            try:
                o = run(src, **kw)
                out[key] = (o.status, o.result, o.error, o.gas_used)
            finally:
                compiler.clear_cache()
    return out
