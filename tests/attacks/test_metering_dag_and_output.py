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

def test_returning_a_dag_is_charged_per_node_before_encoding(chain):
    r = attack(chain, DAG.format(n=17, tail="return a"), gas=150_000)
    assert (r.status, r.gas_used) == ("out_of_gas", 150_000), (r.status, r.gas_used, r.error)


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


def test_result_is_charged_at_least_one_gas_per_node(chain):
    body = """
        @public
        def f() -> int:
            return [[[[[[[[0]]]]]]]] * 20000
    """
    r = attack(chain, body, gas=5_000_000)
    assert r.status == "success", (r.status, r.error)
    # 8 container nodes + 1 int per element: 180,000 nodes
    assert r.gas_used >= 180_000, r.gas_used


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
