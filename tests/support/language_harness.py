"""Helpers for runtime-level tests: a tiny in-memory host and a one-call runner.

Imported by name (``from language_harness import run``): pytest's default import mode puts a
test file's directory on ``sys.path``. ``conftest.py`` re-exports it for fixtures."""

from __future__ import annotations

from ledger_store import codec
from pycontract.metering.compiler import compile_contract
from pycontract.errors import ContractAbort, Reverted
from pycontract.runtime import CallFrame, Meter, execute
from pycontract.worker.process import encode_result


class DictHost:
    """storage_get/put, emit and call_contract over plain dicts (no ledger, no worker)."""

    def __init__(self):
        self.storage = {}  # (contract, key bytes) -> value bytes
        self.events = []
        self.contracts = {}  # name -> CompiledContract
        self.meter = None

    def storage_get(self, contract, key):
        return self.storage.get((contract, key))

    def storage_put(self, contract, key, value):
        if value is None:
            self.storage.pop((contract, key), None)
        else:
            self.storage[(contract, key)] = value

    def emit(self, contract, name, fields):
        # the runtime hands over the canonical bytes of the fields (encoded once)
        self.events.append((contract, name, codec.decode_value(fields)))

    def call_contract(self, frame, contract, function, kwargs):
        """Arguments arrive and the result leaves as canonical bytes, as with the real host."""
        kwargs = codec.decode_value(kwargs)
        cc = self.contracts.get(contract)
        if cc is None:
            raise Reverted(f"{frame.contract}: call to {contract}.{function}: no such contract")
        ep = cc.entry_points.get(function)
        callee = CallFrame(contract, frame.contract, frame.origin, frame.block_height,
                           frame.block_time, bool(frame.readonly or ep.kind == "view"),
                           frame.depth + 1)
        return encode_result(execute(cc, function, kwargs, meter=self.meter, host=self,
                                     frame=callee))

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
    """Compile ``source`` and run ``function(**kwargs)`` in contract ``name``."""
    host = host or DictHost()
    cc = compile_contract(source, name)
    host.contracts[name] = cc
    meter = Meter(gas)
    host.meter = meter
    frame = CallFrame(name, sender, sender, 7, 1_700_000_000, readonly, 0)
    try:
        result = execute(cc, function, kwargs, meter=meter, host=host, frame=frame)
    except ContractAbort as e:
        return Outcome(e.status, meter.used, None, e.message, meter)
    return Outcome("success", meter.used, result, None, meter)


HEADER = "from pycontract import public, view, constructor, Map, Value, ctx, require, revert, emit, call\n"


def contract(body: str) -> str:
    """Prefix the standard import line to a contract body."""
    return HEADER + body
