"""``execute`` reuses idle Runtimes (bound-method tables built once) but every execution must
still start from a fresh contract namespace, and one execution's meter/host/frame must never be
visible to another (docs/architecture.md, pycontract.runtime.executor._POOL)."""

from __future__ import annotations

import ast

import pytest
from language_harness import DictHost, contract, run

from pycontract import vetting
from pycontract.runtime import executor as runtime
from pycontract.metering import rewriter as gas_rewriter
from pycontract.metering.compiler import CompiledContract, compile_contract
from pycontract.errors import VetError
from pycontract.runtime import CallFrame, Meter

# Vetting only lets immutable literals reach module level (constants and parameter defaults must
# be int/str/bytes/bool/None or tuples of them, no ``global``), so a vetted contract has no
# mutable module-level object to leak. The runtime must not rely on that alone: the contracts
# below are vetted with tuple placeholders that are then swapped for a list / dict literal in the
# vetted tree, before the gas rewrite and compile, as if vetting had let them through.


def test_vetting_refuses_mutable_module_level_state():
    for src in ("L = [1]\n", "D = {'a': 1}\n", "def f(a=[]):\n    return a\n",
                "def f():\n    global X\n    X = 1\n"):
        with pytest.raises(VetError):
            compile_contract(contract(src), "c")


def compile_with_mutable_constants(source, name, values):
    """compile_contract, with module-level ``NAME = ()`` constants and ``()`` defaults replaced
    by the literals in ``values`` (name -> value; a function's default as ``'f.param'``)."""
    v = vetting.vet(source, name)

    def literal(value, where):
        node = ast.parse(repr(value), mode="eval").body
        for n in ast.walk(node):
            ast.copy_location(n, where)
        return node

    for stmt in v.tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
            key = stmt.targets[0].id
            if key in values:
                stmt.value = literal(values[key], stmt.value)
        elif isinstance(stmt, ast.FunctionDef):
            args = stmt.args.args[len(stmt.args.args) - len(stmt.args.defaults):]
            for i, a in enumerate(args):
                key = f"{stmt.name}.{a.arg}"
                if key in values:
                    stmt.args.defaults[i] = literal(values[key], stmt.args.defaults[i])
    tree = gas_rewriter.rewrite(v.tree)
    code = compile(tree, name, "exec", dont_inherit=True, optimize=0)
    return CompiledContract(code=code, code_hash="test-" + name, entry_points=dict(v.entry_points),
                            storage=dict(v.storage), imports=dict(v.imports), source=source,
                            filename=name)


MUTABLE = {"LIMITS": [1, 2, 3], "TABLE": {"a": 1}, "NESTED": {"l": [0]}, "helper.acc": []}
MUTATOR = contract(
    "LIMITS = ()\n"
    "TABLE = ()\n"
    "NESTED = ()\n\n"
    "def helper(acc=()):\n"
    "    acc.append(1)\n"
    "    return len(acc)\n\n"
    "@public\n"
    "def main() -> list:\n"
    "    seen = [list(LIMITS), dict(TABLE), list(NESTED['l']), helper()]\n"
    "    LIMITS.append(4)\n"
    "    LIMITS[0] = 99\n"
    "    TABLE['b'] = 2\n"
    "    NESTED['l'].append(5)\n"
    "    helper()\n"
    "    return seen\n\n"
    "@view\n"
    "def peek() -> list:\n"
    "    return [list(LIMITS), dict(TABLE), list(NESTED['l']), helper()]\n\n"
    "@public\n"
    "def reenter() -> list:\n"
    "    LIMITS.append(4)\n"
    "    TABLE['b'] = 2\n"
    "    NESTED['l'].append(5)\n"
    "    helper()\n"
    "    inner = call('relay', 'relay')\n"
    "    return [inner, [list(LIMITS), dict(TABLE), list(NESTED['l']), helper()], ctx.sender]\n"
)
RELAY = contract(
    "@public\n"
    "def relay() -> list:\n"
    "    return [call('m', 'peek'), ctx.sender]\n"
)


def mutator_host():
    h = DictHost()
    h.contracts["m"] = compile_with_mutable_constants(MUTATOR, "m", MUTABLE)
    h.contracts["relay"] = compile_contract(RELAY, "relay")
    return h


def call(h, contract_name, function, sender="alice", gas=1_000_000, **kwargs):
    m = Meter(gas)
    h.meter = m
    h.loaded = set()  # a transaction of its own: it pays each contract's code_load once
    f = CallFrame(contract_name, sender, sender, 7, 1_700_000_000, False, 0)
    return h.run(h.contracts[contract_name], function, kwargs, f), m.used


ORIGINAL = [[1, 2, 3], {"a": 1}, [0], 1]


def test_module_level_constants_are_fresh_in_every_transaction():
    h = mutator_host()
    outs = [call(h, "m", "main") for _ in range(4)]
    assert [r for r, _ in outs] == [ORIGINAL] * 4
    assert len({g for _, g in outs}) == 1
    assert call(h, "m", "peek")[0] == ORIGINAL


def test_module_level_constants_are_fresh_in_a_reentrant_call():
    h = mutator_host()
    result, gas = call(h, "m", "reenter", sender="alice")
    inner, outer, sender = result
    # m -> relay -> m.peek: the inner execution of m builds its own namespace ...
    assert inner == [ORIGINAL, "m"]
    # ... and the outer one still sees its own mutations, and its own frame
    assert outer == [[1, 2, 3, 4], {"a": 1, "b": 2}, [0, 5], 2]
    assert sender == "alice"
    assert call(h, "m", "reenter", sender="alice") == (result, gas)
    assert call(h, "m", "main")[0] == ORIGINAL


def test_idle_runtimes_hold_no_execution_state():
    h = mutator_host()
    call(h, "m", "reenter")
    out = run(contract("@public\ndef main() -> int:\n    require(False, 'no')\n    return 1\n"),
              host=h)
    assert out.status == "reverted"
    assert runtime._POOL
    for rt in runtime._POOL:
        assert (rt.cc, rt.m, rt.host, rt.frame, rt.ctx) == (None, None, None, None, None)


def test_each_execution_charges_its_own_meter_and_sees_its_own_frame():
    src = contract(
        "n = Value(default=0)\n\n"
        "@public\n"
        "def main(k: int) -> list:\n"
        "    return [ctx.sender, ctx.block_height, n.get(), len('x' * k)]\n"
    )
    cc = compile_contract(src, "c")
    h = DictHost()
    h.contracts["c"] = cc
    used = []
    for i, sender in enumerate(["alice", "bob", "carol"]):
        m = Meter(1_000_000)
        h.meter = m
        f = CallFrame("c", sender, sender, 10 + i, 1_700_000_000, False, 0)
        assert h.run(cc, "main", {"k": 16}, f) == [
            sender, 10 + i, 0, 16]
        used.append(m.used)
    assert used[0] == used[1] == used[2] > 0
    # a meter that is already exhausted ends the next execution at once, whatever ran before
    m = Meter(0)
    h.meter = m
    out = run(src, host=h, k=1, gas=0)
    assert out.status == "out_of_gas"


def test_deeply_nested_calls_get_their_own_runtimes():
    src = contract(
        "L = ()\n\n"
        "@public\n"
        "def down(k: int) -> list:\n"
        "    L.append(k)\n"
        "    if k == 0:\n"
        "        return [list(L)]\n"
        "    return call('c', 'down', k=k - 1) + [list(L)]\n"
    )
    # the pool now holds as many Runtimes as calls can nest (the depth limit stops deeper
    # chains), so a chain cannot outgrow it: 40 nested executions, each with its own Runtime
    depth = 40
    h = DictHost()
    h.contracts["c"] = compile_with_mutable_constants(src, "c", {"L": [0]})
    first = call(h, "c", "down", k=depth)
    assert first[0] == [[0, k] for k in range(depth + 1)]
    assert call(h, "c", "down", k=depth) == first
    assert len(runtime._POOL) <= runtime._POOL_SIZE


def test_a_deep_chain_of_calls_builds_no_runtime_once_the_pool_is_warm(monkeypatch):
    """Regression (issue 12 round 2): with a pool of 16, every call deeper than 16 built a new
    Runtime and its bound-method namespace (~0.25 ms each with the direct-method helpers), so a
    64-deep chain of cross-contract calls took 3x longer than before those helpers."""
    src = contract(
        "@public\n"
        "def hop(n: int) -> int:\n"
        "    if n == 0:\n"
        "        return 0\n"
        "    return 1 + call('c', 'hop', n=n - 1)\n"
    )
    h = DictHost()
    h.contracts["c"] = compile_contract(src, "c")
    assert call(h, "c", "hop", n=64)[0] == 64  # warms the pool
    built = []
    init = runtime.Runtime.__init__

    def counting(self, *a, **kw):
        built.append(1)
        init(self, *a, **kw)
    monkeypatch.setattr(runtime.Runtime, "__init__", counting)
    assert call(h, "c", "hop", n=64)[0] == 64
    assert built == []

