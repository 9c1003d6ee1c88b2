"""Int facts proven by the rewriter in issue 12 round 2: static bounds of int locals (no range
test where the sizing helper would charge nothing anyway), compares with a proven-int side (the
plain compare: the helper charges nothing for them), and module functions proven to return
ints (the type test of their results is dropped). Every fast path must give CPython's results
and errors and exactly the gas of the helpers; the bounds' premise (every loop iteration is
charged and tested, at most ``MAX_GAS_LIMIT`` gas per meter) is checked too."""

from __future__ import annotations

import ast
import re

import pytest

import language_harness as _h

from pycontract import vetting
from pycontract.host import Chain
from pycontract.metering import rewriter
from pycontract.metering.schedule import MAX_GAS_LIMIT
from pycontract.runtime import Meter

contract, run = _h.contract, _h.run
N = rewriter.EXEC_MAX


def _fn(src: str, fn: str):
    tree = vetting.vet(contract(src), "c").tree
    return tree, next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fn)


def bounds(src: str, fn: str = "main") -> dict:
    tree, f = _fn(src, fn)
    range_ok = not rewriter.binds_range(tree)
    return rewriter.int_facts(f, range_ok, rewriter.int_functions(tree, range_ok))[1]


def rewritten(src: str, fn: str = "main") -> str:
    v = vetting.vet(contract(src), "c")
    code = ast.unparse(rewriter.rewrite(v.tree, entry_points=frozenset(v.entry_points)))
    return code.split(f"def {fn}(", 1)[1].split("\ndef ", 1)[0]


# ---- the bounds

def test_bounds_of_counters_resets_and_range_targets():
    src = ("@public\ndef main(n: int) -> int:\n    i = 0\n    t = 0\n    c = 5\n"
           "    while i < n:\n        t += i & 7\n        i += 1\n        c = c - 2\n"
           "    for j in range(10, 20):\n        k = j * 3\n    for m in range(n):\n"
           "        pass\n    for q in range(2, n, 3):\n        pass\n    r = t % 10\n"
           "    w = 1\n    w = w * 2\n    u = n\n    return 0\n")
    b = bounds(src)
    assert b["i"] == N  # 0, then at most EXEC_MAX steps of 1
    assert b["t"] == 7 * N
    assert b["c"] == 5 + 2 * N  # c = c - 2 is a step too (x appears once among the terms)
    assert b["j"] == 20  # between start and stop
    assert b["k"] == 60
    assert b["m"] == N  # start 0, step 1: at most EXEC_MAX iterations
    assert b["q"] == 2 + 3 * N
    assert b["r"] == 9
    assert "w" not in b  # w = w * 2 doubles: no bound (widened away)
    assert "u" not in b  # n is a parameter: not even proven int


def test_every_step_statement_counts():
    # two step statements in one loop: each runs at most EXEC_MAX times
    src = ("@public\ndef main() -> int:\n    v = 0\n    while True:\n        v += 1\n"
           "        v -= 3\n        v = 2 + v\n")
    assert bounds(src)["v"] == 6 * N


def test_unbounded_increments_and_wide_steps_give_no_bound():
    src = ("@public\ndef main(n: int) -> int:\n    a = 0\n    b = 0\n    x = 0\n    d = 0\n"
           "    y = 0\n    z = 1\n    while True:\n        a += n\n        b += 2**33\n        x = x + x\n        z = z + z\n"
           "        d += 2**35\n        y = y + 1 + y\n")
    b = bounds(src)
    assert b["b"] == 2**33 * N < 2**64  # still below the cap
    assert b["x"] == 0  # x = 0, then x = x + x: always 0, a fixpoint
    assert "a" not in b and "z" not in b and "d" not in b and "y" not in b


def test_bounds_need_the_gas_cap():
    assert N == MAX_GAS_LIMIT // 2 + 1  # loop_iteration = 2 gas per iteration
    with pytest.raises(ValueError):
        Meter(MAX_GAS_LIMIT + 1)
    Meter(MAX_GAS_LIMIT)
    with pytest.raises(ValueError, match="max_gas_per_tx"):
        Chain(max_gas_per_tx=MAX_GAS_LIMIT + 1)


def test_every_loop_body_begins_with_a_tested_charge():
    """The premise of EXEC_MAX: a loop iteration cannot run without paying at least one gas and
    testing the counter at the top of its body (if charge placement changes, the bounds'
    argument must be revisited: this test is the tripwire)."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    sources = [root / "benchmarks/workloads/overhead.py", root / "benchmarks/workloads/fairness.py"]
    sources += [root / "examples" / f"{n}.py" for n in ("auction", "token", "voting")]
    loops = prepaid = 0
    for p in sources:
        tree = rewriter.rewrite(vetting.vet(p.read_text(), "c").tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.For, ast.While)):
                loops += 1
                it = getattr(node, "iter", None)
                if (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                        and it.func.id == "_pc_rng"):
                    # (schedule 6) a range loop paid up front: Runtime.range_loop charges
                    # len(range) * K and tests the counter before the first iteration, so
                    # each iteration that runs has paid K >= 2 from a tested counter
                    assert isinstance(it.args[1], ast.Constant) and it.args[1].value >= 2, p
                    prepaid += 1
                    continue
                body = node.body
                if (isinstance(node, ast.While) and isinstance(body[0], ast.If)
                        and isinstance(body[0].body[0], ast.Break)):
                    body = body[1:]  # ``while T`` written ``while True: if not T: break``
                first, second = body[0], body[1]
                assert isinstance(first, ast.AugAssign) and first.target.attr == "g", p
                assert first.value.value >= 1
                assert isinstance(second, ast.If) and rewriter._is_charge_test(second), p
    assert loops > 20 and prepaid > 5


def test_a_prepaid_range_loop_tests_the_counter_before_its_first_iteration():
    """The prepaid half of EXEC_MAX's premise: a range loop that cannot be paid for in full
    runs no iteration at all (out of gas at its for line)."""
    src = ("@public\ndef main(n: int) -> int:\n    c = 0\n    for i in range(n):\n"
           "        c += 1\n    return c\n")
    ok = run(contract(src), gas=1_000_000, n=100)
    assert (ok.status, ok.result) == ("success", 100)
    out = run(contract(src), gas=1_000_000, n=10**12)
    assert (out.status, out.gas_used) == ("out_of_gas", 1_000_000), out


def test_an_out_of_gas_swallowed_by_finally_is_raised_again_at_the_loop_top():
    """The other half of EXEC_MAX's premise: code that catches the out-of-gas (``finally:
    continue`` / ``return``) cannot keep a loop going, so a bounded counter cannot step again
    and again after the gas is gone."""
    spin = ("@public\ndef main() -> int:\n    i = 0\n    while True:\n        try:\n"
            "            i += 1\n            j = i + 1\n        finally:\n            continue\n")
    assert "i" in bounds(spin) and "j" in bounds(spin)
    for gas in (500, 5_000, 50_000):
        out = run(contract(spin), gas=gas)
        assert (out.status, out.gas_used) == ("out_of_gas", gas), out
    nested = ("def f(n: int) -> int:\n    k = 0\n    while True:\n        try:\n"
              "            k += 1\n        finally:\n            return k\n\n"
              "@public\ndef main() -> int:\n    t = 0\n    while True:\n        t += f(1)\n")
    out = run(contract(nested), gas=20_000)
    assert (out.status, out.gas_used) == ("out_of_gas", 20_000), out


# ---- the emitted code and its behaviour

def test_bounded_loop_needs_no_tests():
    src = ("@view\ndef main(n: int) -> int:\n    total = 0\n    i = 0\n    while i < n:\n"
           "        total += i & 7\n        i += 1\n    return total\n")
    code = rewritten(src)
    loop = code.split("while ", 1)[1]
    assert "_pc_T" not in loop and "_pc_add" not in loop and "_pc_cmp" not in loop
    assert "18446744073709551616" not in loop and "9223372036854775808" not in loop
    assert run(contract(src), n=1000).result == sum(i & 7 for i in range(1000))


def test_str_of_a_bounded_int_is_converted_inline_untested():
    # str(i) of a bounded int local needs neither a type nor a range test; the same loop with
    # an unproven counter (started from a parameter) keeps both, with the same results and gas
    body = ("    i = {z}\n    out = []\n    while i < n:\n"
            "        out.append(str(i).zfill(3))\n        i += 1\n    return ','.join(out)\n")
    proven = contract("@view\ndef main(n: int, z: int) -> str:\n" + body.format(z="0"))
    unproven = contract("@view\ndef main(n: int, z: int) -> str:\n" + body.format(z="z"))
    assert "_pc_M_zfill(_pc_S(i), 3)" in rewritten(proven.split("\n", 1)[1])
    assert "-9223372036854775808 < i < 9223372036854775808 else _pc_str(i)" in rewritten(
        unproven.split("\n", 1)[1])
    for n in (0, 1, 40):
        a, b = run(proven, n=n, z=0), run(unproven, n=n, z=0)
        assert a.result == b.result == ",".join(str(i).zfill(3) for i in range(n))
        assert a.gas_used == b.gas_used
    big = run(unproven, n=10**20 + 2, z=10**20)  # the helper's side: same text as CPython's
    assert big.result == f"{10**20},{10**20 + 1}"


def test_str_of_a_proven_int_name_holding_a_bool_costs_what_str_of_a_bool_costs():
    # a bool is an int to the int facts but not to str(): the inline conversion (which keeps
    # the prepaid str_call) is for exact ints only; True through an unproven name agrees
    body = "    b = {z}\n    n = b + 1\n    return [str(b), str(n), str(b)]\n"
    proven = contract("@public\ndef main(z: bool) -> list:\n" + body.format(z="True"))
    unproven = contract("@public\ndef main(z: bool) -> list:\n" + body.format(z="z"))
    a, b = run(proven, z=True), run(unproven, z=True)
    assert a.result == b.result == ["True", "2", "True"]
    assert a.gas_used == b.gas_used, (a.gas_used, b.gas_used)
    assert "_pc_S(n)" in rewritten(proven.split("\n", 1)[1])  # n = b + 1: an exact int


def test_bounded_and_unproven_paths_agree_in_results_errors_and_gas():
    # the same loop with proven, bounded locals and with the values laundered through a
    # parameter (unproven: type and range tested, helpers) must agree exactly
    body = ("    t = {z}\n    s = {z}\n    i = {z}\n    out = []\n    while i < n:\n"
            "        t += i * 7 + 3\n        s = s + (t % 1000) - (i >> 1)\n        i += 1\n"
            "        out.append(-s ^ (t & 255) | i // 3)\n"
            "    return [t, s, i, t < n, s >= i, 0 <= i < n, sum(out), -i, ~t]\n")
    proven = contract("@public\ndef main(n: int, z: int) -> list:\n" + body.format(z="0"))
    unproven = contract("@public\ndef main(n: int, z: int) -> list:\n" + body.format(z="z"))
    assert "t" in bounds(proven.split("\n", 1)[1]) and not bounds(unproven.split("\n", 1)[1])

    def plain(n):
        t = s = i = 0
        out = []
        while i < n:
            t += i * 7 + 3
            s = s + (t % 1000) - (i >> 1)
            i += 1
            out.append(-s ^ (t & 255) | i // 3)
        return [t, s, i, t < n, s >= i, 0 <= i < n, sum(out), -i, ~t]
    for n in (0, 1, 5, 300):
        a, b = run(proven, n=n, z=0), run(unproven, n=n, z=0)
        assert a.result == b.result == plain(n), (a, b)
        assert a.gas_used == b.gas_used  # same weights; every helper was free
    # out of gas in the middle: same stop, same gas, same line
    full = run(proven, n=300, z=0).gas_used
    for gas in (full // 3, full // 2 + 7):
        a, b = run(proven, gas=gas, n=300, z=0), run(unproven, gas=gas, n=300, z=0)
        assert (a.status, a.error, a.gas_used) == (b.status, b.error, b.gas_used), (a, b)
        assert a.status == "out_of_gas"


def test_errors_of_bounded_operands_match_cpython():
    cases = {
        "i // z": "ZeroDivisionError", "i % z": "ZeroDivisionError", "i >> m": "ValueError",
        "i < s": "TypeError", "i + s": "TypeError", "i & s": "TypeError",
    }
    for expr, exc in cases.items():
        src = contract("@public\ndef main(s: str) -> int:\n    i = 5\n    z = 0\n    m = -1\n"
                       f"    return {expr}\n")
        assert run(src, s="x").error == f"c:7: {exc}", expr
    eq = contract("@public\ndef main(s: str) -> list:\n    i = 5\n    l = [1] * 1000\n"
                  "    return [i == s, i != l, i == None, None != i]\n")
    assert run(eq, s="5").result == [False, True, False, True]


def test_compares_with_a_proven_int_are_plain_and_cost_what_the_helper_charged():
    src = ("@public\ndef main(n: int, s: str) -> list:\n    i = 0\n    c = 0\n    while i < n:\n"
           "        if i * i <= n:\n            c += 1\n        i += 1\n"
           "    return [c, 0 <= i < n, i < n <= 10, n > i]\n")
    code = rewritten(src)
    assert "_pc_cmp" not in code and "_pc_chain" not in code
    # through a parameter (unproven): the helpers; same results and gas
    slow = contract(src.replace("    i = 0\n", "    i = n - n\n"))
    fast = contract(src.replace("    i = 0\n", "    i = 0 * 1\n"))
    for n in (0, 3, 50):
        a, b = run(fast, n=n, s=""), run(slow, n=n, s="")
        assert a.result == b.result and a.gas_used == b.gas_used, (a, b)
    # a chain with a str pair (charged by size) keeps the helper
    chain = rewritten("@public\ndef main(s: str) -> bool:\n    i = 1\n    return i < s < 'zz'\n")
    assert "_pc_chain" in chain


def test_comprehension_and_lambda_names_hide_bounds():
    src = ("@public\ndef main() -> list:\n    i = 3\n"
           "    r = [i * (1 << 40) + i for i in range(2**70, 2**70 + 2)]\n"
           "    f = lambda i: i + i * 3\n    return r + [f(2**80), i + i, f('ab')]\n")
    i = 3
    r = [i * (1 << 40) + i for i in range(2**70, 2**70 + 2)]
    f = lambda i: i + i * 3  # noqa: E731
    out = run(contract(src))
    assert out.result == r + [f(2**80), i + i, f("ab")], out


def test_a_counter_that_would_pass_64_bits_keeps_its_tests():
    """A counter stepping by 2**35 could pass 2**64 within the gas cap: no bound, tests kept,
    and the helpers charge and account it once it is big. Stepping by 2**34 it cannot: the
    bound holds, and it is checked against the real values up to out of gas."""
    wide = ("@public\ndef main(n: int) -> int:\n    v = 0\n    i = 0\n    while i < n:\n"
            "        v += 34359738368\n        w = v & 5\n        x = v + 1\n        i += 1\n"
            "    return v + w + x\n")
    assert "v" not in bounds(wide)
    assert "_pc_add(v, 1)" in rewritten(wide)
    narrow = wide.replace("34359738368", "17179869184")
    assert bounds(narrow)["v"] == 2**34 * N
    assert "_pc_add(v, 1)" not in rewritten(narrow)
    for src, step in ((wide, 2**35), (narrow, 2**34)):
        out = run(contract(src), n=2000)
        assert out.result == 2000 * step * 2 + 1 + ((2000 * step) & 5), out
        stop = run(contract(src), gas=50_000, n=10**9)
        assert (stop.status, stop.gas_used) == ("out_of_gas", 50_000)
    a, b = run(contract(wide), n=2000), run(contract(narrow), n=2000)
    assert a.gas_used == b.gas_used  # below 2**63 the helpers charged nothing either


# ---- functions proven to return ints

def _funcs(src: str) -> frozenset:
    tree = vetting.vet(contract(src), "c").tree
    return rewriter.int_functions(tree, not rewriter.binds_range(tree))


def test_which_functions_are_proven_to_return_ints():
    src = ("def a(x: int) -> int:\n    if x:\n        return 1 + b(x - 1)\n    return 0\n\n"
           "def b(x: int) -> int:\n    return a(x) * 2\n\n"
           "def param(x: int) -> int:\n    return x\n\n"
           "def falls(x: int) -> int:\n    if x:\n        return 1\n\n"
           "def none(x: int) -> int:\n    if x:\n        return\n    return 1\n\n"
           "def calls_param(x: int) -> int:\n    return param(x) + 1\n\n"
           "def rebound(x: int) -> int:\n    return 1\n\n"
           "def shadowed(x: int) -> int:\n    return 2\n\n"
           "def str(x: int) -> int:\n    return 3\n\n"
           "def local(x: int) -> int:\n    t = 0\n    for i in range(x):\n        t += i\n"
           "    return t\n\n"
           "@view\ndef deco(x: int) -> int:\n    return 1\n\n"
           "@public\ndef main(shadowed: int) -> int:\n    rebound = 5\n    return rebound\n")
    # vetting strips decorators: an entry point called from the contract is the plain def
    assert _funcs(src) == {"a", "b", "local", "deco", "main"}


def test_int_function_results_skip_the_type_test_and_agree_with_the_helper():
    src = ("def depth(x: int, d: int) -> int:\n    if x == 1 or d == 0:\n        return 0\n"
           "    if x % 2 == 0:\n        return 1 + depth(x // 2, d - 1)\n"
           "    return 1 + depth(3 * x + 1, d - 1)\n\n"
           "@public\ndef main(n: int) -> list:\n    out = []\n    for i in range(1, n):\n"
           "        s = depth(i, 40)\n        out.append(s * 3 + s % 7 - depth(i, 5))\n"
           "    return out + [depth(2**70, 100) + 1]\n")
    assert _funcs(src) == {"depth"}
    code = rewritten(src, "depth")
    assert not re.search(r"_pc_T\(\(_pc_t\d+ := depth\(", code)  # no type test of results
    assert "_pc_add(1" not in code  # and no range test: depth returns at most 5,000

    def depth(x, d):
        if x == 1 or d == 0:
            return 0
        if x % 2 == 0:
            return 1 + depth(x // 2, d - 1)
        return 1 + depth(3 * x + 1, d - 1)
    want = [depth(i, 40) * 3 + depth(i, 40) % 7 - depth(i, 5) for i in range(1, 60)]
    want.append(depth(2**70, 100) + 1)
    # the same with depth made unprovable: a parameter elsewhere is named depth
    unproven = src + "\ndef other(depth: int) -> int:\n    return 0\n"
    assert _funcs(unproven) == {"other"}
    fast, slow = run(contract(src), n=60), run(contract(unproven), n=60)
    assert fast.result == slow.result == want, (fast, slow)
    # the same gas but for the extra def's weight (module code runs in every call here)
    f0, s0 = run(contract(src), n=1), run(contract(unproven), n=1)
    assert fast.gas_used - f0.gas_used == slow.gas_used - s0.gas_used
    assert s0.gas_used - f0.gas_used == 4


# ---- parameters proven to receive ints

def _params(src: str) -> dict:
    v = vetting.vet(contract(src), "c")
    tree = v.tree
    funcs, params = rewriter.module_int_facts(tree, not rewriter.binds_range(tree),
                                              frozenset(v.entry_points))
    names = {id(st): st.name for st in tree.body if isinstance(st, ast.FunctionDef)}
    return {names[k]: set(ps) for k, ps in params.items()}


def test_which_parameters_are_proven_int():
    src = ("def step(x: int, d: int) -> int:\n    if d == 0:\n        return x\n"
           "    return step(x // 2 + 1, d - 1)\n\n"
           "def mixed_args(a: int, b: int) -> int:\n    return a\n\n"
           "def escapes(x: int) -> int:\n    return x + 1\n\n"
           "def keywords(x: int) -> int:\n    return x\n\n"
           "def defaults(x: int, y: int = 2) -> int:\n    return x\n\n"
           "def in_lambda(x: int) -> int:\n    return x\n\n"
           "def rebinds(x: int) -> int:\n    x = 'a'\n    return 1\n\n"
           "@public\ndef main(n: int, s: str) -> list:\n    i = 0\n    for j in range(3):\n"
           "        i += step(j, 5)\n    f = lambda v: in_lambda(v)\n"
           "    return [mixed_args(i, s), mixed_args(2, 3), sorted([1], key=escapes),"
           " keywords(x=1), defaults(1), f(2), in_lambda(4), rebinds(3), main(1, 'a')]\n")
    p = _params(src)
    # rebinds' x receives ints, but is rebound to a str: the local is not proven
    assert p == {"step": {"x", "d"}, "mixed_args": {"a"}, "rebinds": {"x"}}, p
    v = vetting.vet(contract(src), "c")
    fn = next(n for n in v.tree.body if getattr(n, "name", "") == "rebinds")
    assert rewriter.int_facts(fn, True, frozenset(), frozenset({"x"}))[0] == frozenset()
    funcs = rewriter.module_int_facts(v.tree, True, frozenset(v.entry_points))[0]
    assert funcs >= {"step", "mixed_args"}  # they return x / a, int parameters
    # a call site inside a lambda or comprehension is judged without the function's facts
    only = ("def f(x: int) -> list:\n    return [x]\n\n@public\ndef main() -> list:\n"
            "    h = lambda: f('a')\n    return f(3) + h()\n")
    assert _params(only) == {} and run(contract(only)).result == [3, "a"]
    # without the entry points (unknown callers) no parameter is proven
    tree = vetting.vet(contract(src), "c").tree
    assert rewriter.module_int_facts(tree, True)[1] == {}


def test_int_parameters_agree_with_the_guarded_path():
    src = ("def collatz(x: int, depth: int) -> int:\n    if x == 1 or depth == 0:\n"
           "        return 0\n    if x % 2 == 0:\n        return 1 + collatz(x // 2, depth - 1)\n"
           "    return 1 + collatz(3 * x + 1, depth - 1)\n\n"
           "@public\ndef main(n: int, big: int) -> list:\n    out = []\n    acc = 0\n"
           "    for i in range(1, n):\n        s = collatz(i, 40)\n        acc = (acc * 31 + s) % 1000003\n"
           "        out.append(s)\n    return out + [acc, collatz(2**100 + 7, 150),"
           " collatz((2**100 + 7) ** 2, 60)]\n")
    assert _params(src) == {"collatz": {"x", "depth"}}
    code = rewritten(src, "collatz")
    assert "_pc_T(x)" not in code and "_pc_T(depth)" not in code
    # the same with collatz referenced once as a value (its parameters are then unknown)
    unproven = src.replace("    out = []\n", "    out = []\n    g = collatz\n", 1)
    assert _params(unproven) == {}

    def collatz(x, depth):
        if x == 1 or depth == 0:
            return 0
        if x % 2 == 0:
            return 1 + collatz(x // 2, depth - 1)
        return 1 + collatz(3 * x + 1, depth - 1)
    big = 2**100 + 7
    out = [collatz(i, 40) for i in range(1, 80)]
    acc = 0
    for s in out:
        acc = (acc * 31 + s) % 1000003
    want = out + [acc, collatz(big, 150), collatz(big * big, 60)]
    a, b = run(contract(src), n=80, big=big), run(contract(unproven), n=80, big=big)
    assert a.result == b.result == want, (a, b)
    a0, b0 = run(contract(src), n=1, big=3), run(contract(unproven), n=1, big=3)
    assert a.gas_used - a0.gas_used == b.gas_used - b0.gas_used


# ---- bounds of what int functions return

def test_return_bounds_rest_on_the_frame_limit():
    from pycontract.runtime import executor
    assert executor._RECURSION_LIMIT <= rewriter.FRAMES_MAX
    src = ("def walk(x: int, d: int) -> int:\n    if x == 1 or d == 0:\n        return 0\n"
           "    if x % 2 == 0:\n        return 1 + walk(x // 2, d - 1)\n"
           "    return 2 + hop(3 * x + 1, d - 1)\n\n"
           "def hop(x: int, d: int) -> int:\n    return walk(x, d) - 3\n\n"
           "def two(x: int) -> int:\n    return two(x) + two(x)\n\n"
           "def wide(x: int) -> int:\n    if x:\n        return 2**60 + wide(x - 1)\n    return 0\n\n"
           "@public\ndef main(n: int) -> list:\n    out = []\n    for i in range(1, n):\n"
           "        s = walk(i, 150)\n        out.append(s % 5 + s * s - hop(i, 3))\n    return out\n")
    v = vetting.vet(contract(src), "c")
    funcs, params = rewriter.module_int_facts(v.tree, True, frozenset(v.entry_points))
    assert {"walk", "hop", "two", "wide"} <= funcs
    rb = rewriter.return_bounds(v.tree, True, funcs, params)
    # walk and hop: bases 0, steps 1, 2, 3: 0 + 5,000 * 3; two: two calls; wide: 2**60 * 5,000
    assert rb == {"walk": 15_000, "hop": 15_000}, rb
    code = rewritten(src)
    tail = code.split("append(")[1]  # out.append: _pc_append(out, ...) or inline
    assert "_pc_add" not in tail and "_pc_mul" not in tail and "_pc_T" not in tail

    def walk(x, d):
        if x == 1 or d == 0:
            return 0
        if x % 2 == 0:
            return 1 + walk(x // 2, d - 1)
        return 2 + hop(3 * x + 1, d - 1)

    def hop(x, d):
        return walk(x, d) - 3
    want = [walk(i, 150) % 5 + walk(i, 150) ** 2 - hop(i, 3) for i in range(1, 70)]
    out = run(contract(src), n=70)
    assert out.result == want, out
    # the same arithmetic without the facts (hop referenced as a value): same gas
    unproven = src.replace("    out = []\n", "    out = []\n    g = hop\n", 1)
    slow = run(contract(unproven), n=70)
    assert slow.result == want
    a0, b0 = run(contract(src), n=1), run(contract(unproven), n=1)
    assert out.gas_used - a0.gas_used == slow.gas_used - b0.gas_used


def test_comprehension_range_targets_are_bounded_like_loop_targets():
    src = ("@public\ndef main(n: int) -> list:\n    a = [i * 7919 % 10007 for i in range(n)]\n"
           "    b = [i * j for i in range(3) for j in range(i * 2**40, i * 2**40 + 2)]\n"
           "    c = [i * 3 - 1 for i in range(2**70, 2**70 + 3)]\n"
           "    d = sum(i * i for i in range(n))\n    return [a, b, c, d]\n")
    code = rewritten(src)
    assert "[i * 7919 % 10007 for i in" in code  # i < EXEC_MAX: * and % inline, no test
    assert "_pc_mul(i, j)" in code and "_pc_mul(i, 3)" in code  # unbounded: helpers kept

    def plain(n):
        return [[i * 7919 % 10007 for i in range(n)],
                [i * j for i in range(3) for j in range(i * 2**40, i * 2**40 + 2)],
                [i * 3 - 1 for i in range(2**70, 2**70 + 3)], sum(i * i for i in range(n))]
    unproven = src.replace("range(n)", "list(range(n))")  # not drawn from range: helpers
    assert "_pc_mod(" in rewritten(unproven)
    for n in (0, 7, 400):
        a, b = run(contract(src), n=n), run(contract(unproven), n=n)
        assert a.result == b.result == plain(n), (a, b)
    # the bounded form costs only the static weights: per item the same as the helpers did
    d1 = run(contract(src), n=401).gas_used - run(contract(src), n=400).gas_used
    d2 = run(contract(unproven), n=401).gas_used - run(contract(unproven), n=400).gas_used
    assert d1 == d2 - 2  # only the two list(range(n)) calls cost more: 1 per element each
