"""Attacker's review of schedule 7 (issue 12): deploys that make the node rewrite and compile
far more than they pay for, recursions whose work or ints escape what the rewriter assumed,
and differences between the fast and slow paths. Real Chain (worker subprocess + SQLite)."""

from __future__ import annotations

import ast

from pycontract import vetting
from pycontract.metering import rewriter as gas_rewriter

from attack_support import assert_host_works, deploy, src as _src


def _nested_mod_add(depth: int) -> str:
    e = "x"
    for _ in range(depth):
        e = f"({e} % 7 + y)"
    return ("@public\ndef main(x: int, y: int) -> int:\n"
            f"    return {e}\n")


def _rewritten_nodes(source: str):
    v = vetting.vet(_src(source), "c")
    out = gas_rewriter.rewrite(v.tree, entry_points=dict(v.entry_points))
    return out.pc_units, sum(1 for _ in ast.walk(out))


def test_nested_bounded_operands_are_not_written_twice_per_level():
    """``(x % 7 + y)`` nested d deep: ``int_inline`` wrote the bounded operand ``... % 7`` in
    both branches of its ``IfExp``, and that operand holds the level below, so the code
    written doubled at every level (4**d nodes) while a deploy pays per node of the source
    (linear in d): a 224-byte source took 12 s to rewrite and compile, 16 levels ran the
    worker out of memory. The code written must stay proportional to the nodes paid."""
    for depth in (2, 6, 10, 14, 20):
        paid, written = _rewritten_nodes(_nested_mod_add(depth))
        assert written <= 20 * paid, (depth, paid, written)


def test_a_nested_bounded_expression_deploys_and_runs(chain):
    """Through the node: 16 levels made the worker fail with MemoryError (a node fault:
    the block was not committed) after 30 s; now it deploys, runs and gives CPython's
    result."""
    name = deploy(chain, _nested_mod_add(16), gas=20_000_000)
    r = chain.call(name, "main", {"x": 5, "y": 3}, sender="alice", gas_limit=1_000_000)
    x, y = 5, 3
    for _ in range(16):
        x = x % 7 + y
    assert (r.status, r.result) == ("success", x), (r.status, r.error)
    r = chain.call(name, "main", {"x": 5 * 2**70, "y": -2**90}, sender="alice",
                   gas_limit=1_000_000)
    x, y = 5 * 2**70, -2**90
    for _ in range(16):
        x = x % 7 + y
    assert (r.status, r.result) == ("success", x), (r.status, r.error)
    assert_host_works(chain)
