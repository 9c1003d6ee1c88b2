"""Round 2 red team: work and memory not paid for by gas, through shared-structure values (DAGs:
``a = [a, a]`` doubles the tree size of a value for ~20 gas) and through the per-byte pricing of
what a transaction sends back (results, events).

Real worker, real SQLite ledger in tmp_path, small gas limits, outcomes only (no timing).
``xfail(strict=True)`` tests are successful attacks asserting the CORRECT behaviour; see the
"Round 2" section of docs/security.md."""

from __future__ import annotations

import pytest
from attack_support import assert_host_works, attack

from pycontract.errors import NodeFault

DAG = """
    @public
    def f() -> int:
        a = [1]
        for i in range({n}):
            a = [a, a]
        {tail}
"""

# --- stopped (regressions): every sink that measures the deep size first ----------------------

STOPPED_DAG_SINKS = {
    "emit": "emit('E', x=a)\n        return 0",
    "str": "return len(str(a))",
    "fstring": "return len(f'{a}')",
    "percent": "return len('%s' % (a,))",
    "eq_copy": "b = [1]\n        for i in range(40):\n            b = [b, b]\n        return a == b",
    "in_list": "return a in [[1], [2], 3]",
    "count": "b = [1]\n        for i in range(40):\n            b = [b, b]\n        return [b, b].count(a)",
    "sorted": "return len(sorted([a, a, a]))",
    "call_kwargs": "return call(ctx.this, 'f2', x=a)\n    @public\n    def f2(x: list) -> int:\n        return 1",
}


@pytest.mark.parametrize("tail", STOPPED_DAG_SINKS.values(), ids=list(STOPPED_DAG_SINKS))
def test_dag_sinks_that_measure_first_stop_at_the_gas_limit(chain, tail):
    r = attack(chain, DAG.format(n=40, tail=tail), gas=300_000)
    assert r.status in ("out_of_gas", "reverted"), (r.status, r.error)
    if r.status == "out_of_gas":
        assert r.gas_used == 300_000


def test_storing_a_dag_stops_at_the_gas_limit(chain):
    body = """
        v = Value(default=None)
        @public
        def f() -> int:
            a = [1]
            for i in range(40):
                a = [a, a]
            v.set(a)
            return 0
    """
    r = attack(chain, body, gas=300_000)
    assert (r.status, r.gas_used) == ("out_of_gas", 300_000), (r.status, r.error)


# --- successful attacks -------------------------------------------------------------------------

@pytest.mark.xfail(strict=True, reason=(
    "runtime.execute encodes the returned value (ledger_store.codec.encode_value: a recursive "
    "_value_ok walk, then cbor2) BEFORE charging anything for it, and then charges only "
    "1 + encoded_bytes/16; the shared-structure value `a = [a, a]` x17 (~400 gas to build) is a "
    "262k-node tree. At x20 one call takes ~10 s of worker+host time for ~197k gas "
    "(~49,000 ns/gas); at x30 the worker never answers and the host raises NodeFault "
    "(60 s timeout): a ~1,000-gas transaction halts the chain. Fix: in execute (and for "
    "cross-contract call results / queries) charge deep_units(result, meter.g) before encoding"))
def test_returning_a_dag_is_charged_per_node_before_encoding(chain):
    r = attack(chain, DAG.format(n=17, tail="return a"), gas=150_000)
    assert (r.status, r.gas_used) == ("out_of_gas", 150_000), (r.status, r.gas_used, r.error)


@pytest.mark.xfail(strict=True, raises=NodeFault, reason=(
    "a callee's return value goes through runtime.execute's encode (codec._value_ok walk + "
    "cbor2) and then worker.TxHost.call's to_plain/encode/decode before the caller is charged "
    "(1 + bytes*2, after the work): a callee returning `a = [a, a]` x30 (2**31 nodes, ~1,000 "
    "gas to build) never answers; the host stops the worker after its 60 s + gas/1M s timeout "
    "and raises NodeFault (chain halted). This test takes ~61 s while the bug exists. "
    "Fix: charge deep_units(result) before any encoding in runtime.execute"))
def test_callee_returning_a_huge_dag_does_not_hang_the_worker(chain):
    body = """
        @public
        def f() -> int:
            r = call(ctx.this, "g")
            return 0
        @public
        def g() -> int:
            a = [1]
            for i in range(30):
                a = [a, a]
            return a
    """
    r = attack(chain, body, gas=1_000_000)
    assert (r.status, r.gas_used) == ("out_of_gas", 1_000_000), (r.status, r.gas_used, r.error)


@pytest.mark.xfail(strict=True, reason=(
    "results are priced per encoded byte (1 + bytes/16, runtime.execute) but the worker "
    "(to_plain, codec _value_ok walk) and the host (engine._validate_result decode + canonical "
    "check, codec.to_json, receipt digest, commit) each walk every node in Python: "
    "`return [[[...30 levels...[0]...]]] * 500000` (1.44M gas) took 48 s on this machine, "
    "~33,700 ns/gas vs a ~6 ns/gas median; two such transactions in one block pass the host's "
    "60 s block timeout (NodeFault). Fix: charge >= 1 gas per node (deep_units) of the result, "
    "and price the host's per-node work (tens of gas per node)"))
def test_result_is_charged_at_least_one_gas_per_node(chain):
    body = """
        @public
        def f() -> int:
            return [[[[[[[[0]]]]]]]] * 20000
    """
    r = attack(chain, body, gas=1_000_000)
    assert r.status == "success", (r.status, r.error)
    # 8 container nodes + 1 int per element: 180,000 nodes
    assert r.gas_used >= 180_000, r.gas_used


@pytest.mark.xfail(strict=True, reason=(
    "worker.TxHost.emit runs to_plain(dict(fields)) (a fresh list per node, ~64 bytes, "
    "not memory-accounted) and keeps every event's encoding; four fields naming the same "
    "1M-element nested list (~93M gas, under MAX_GAS_PER_TX) exhaust the worker's 2 GiB "
    "RLIMIT_AS: a real MemoryError that runtime.execute turns into `CONTRACT:LINE: MemoryError` "
    "(node-dependent outcome). Fix: account the bytes to_plain/encoding allocate in meter.mem "
    "(memory_limit), or encode without copying"))
def test_emitting_shared_fields_does_not_reach_a_real_memory_error(chain):
    body = """
        @public
        def f() -> int:
            v = [[[[0]]]] * 1000000
            emit("E", a=v, b=v, c=v, d=v)
            return 0
    """
    r = attack(chain, body, gas=100_000_000)
    assert "MemoryError" not in (r.error or ""), r.error
    assert_host_works(chain)


@pytest.mark.xfail(strict=True, reason=(
    "the real MemoryError raised inside worker.TxHost.emit (see the test above) is an ordinary "
    "exception, not a sticky abort: the `except` handler check (Runtime.uncatch) never runs "
    "for `finally: return`, and execute only re-checks meter.abort/meter.g, so the node that "
    "ran out of memory commits SUCCESS (result 7) while a node with more address space runs "
    "out of gas: a consensus split. Fix: turn MemoryError/RecursionError raised by any runtime "
    "helper or host call into meter.revert (sticky) where it is raised, and account the "
    "memory so it cannot happen"))
def test_memory_error_in_emit_cannot_be_swallowed_by_finally_return(chain):
    body = """
        def g():
            v = [[[[0]]]] * 1000000
            try:
                emit("E", a=v, b=v, c=v, d=v)
            finally:
                return 7
        @public
        def f():
            return g()
    """
    r = attack(chain, body, gas=100_000_000)
    assert r.status != "success", (r.status, r.gas_used, r.result)
