"""Self-recursive functions count their depth in a parameter of a copy (``_pc_rec_NAME``)
instead of the shared ``_pc_m.d`` when nothing else can run while their frames are innermost.
The copies must change nothing observable: same status, result, error (with its line) and
gas_used as the metered code without them, at and around the call depth limit."""

from __future__ import annotations

import ast

import pytest

from pycontract import vetting
from pycontract.errors import VetError
from pycontract.metering import compiler
from pycontract.metering import rewriter as gas_rewriter

import language_harness as _h

contract, run = _h.contract, _h.run


def rewritten(src: str) -> str:
    """The metered code as the compiler makes it (with the entry points' int parameters)."""
    v = vetting.vet(src, "c")
    return ast.unparse(gas_rewriter.rewrite(v.tree, entry_points=dict(v.entry_points)))


def outcome(src, **kw):
    o = run(src, **kw)
    return o.status, o.result, o.error, o.gas_used


def both(monkeypatch, src, **kw):
    """(with copies, without copies) outcomes of one source."""
    compiler.clear_cache()
    a = outcome(src, **kw)
    with monkeypatch.context() as mp:
        mp.setattr(gas_rewriter.GasRewriter, "RECURSIVE_COPIES", False)
        compiler.clear_cache()
        try:
            b = outcome(src, **kw)
        finally:
            compiler.clear_cache()
    return a, b


DOWN = contract(
    "def down(n):\n"
    "    if n == 0:\n"
    "        return 0\n"
    "    return 1 + down(n - 1)\n\n"
    "@public\n"
    "def main(n: int) -> int:\n"
    "    return down(n)\n"
)


def test_closed_self_recursion_gets_a_counted_copy():
    out = rewritten(DOWN)
    assert "def _pc_rec_down(_pc_d, n):" in out
    # (schedule 7) the self-call is prepaid: the caller tests the callee's depth
    assert "if _pc_d >= 200:" in out and "if _pc_m.d >= 200:" in out
    # the function itself calls the copy (the bounded one when n is within 2**62)
    assert ("(_pc_rec__b_down if -4611686018427387904 < n < 4611686018427387904 else "
            "_pc_rec_down)(_pc_m.d + 1, ") in out
    assert "_pc_rec_down(_pc_d + 1, " in out  # and the copy itself
    assert "_pc_rec__b_down(_pc_d + 1, n - 1)" in out  # (no range test: n is bounded there)


@pytest.mark.parametrize("body", [
    # a method call, `in`, iteration, a lambda and a cross-contract call may run other contract
    # code or draw lazy iterators (which count in _pc_m.d): no copy
    "def down(n, xs):\n    xs.extend([n])\n    return 0 if n == 0 else down(n - 1, xs)\n",
    "def down(n, xs):\n    return 0 if n in xs else down(n - 1, xs)\n",
    "def down(n, xs):\n    for x in xs:\n        pass\n    return 0 if n == 0 else down(n - 1, xs)\n",
    "def down(n, xs):\n    f = lambda: 1\n    return 0 if n == 0 else down(n - 1, xs)\n",
    "def down(n, xs):\n    return 0 if n == 0 else down(n - 1, sorted(xs))\n",
    # the name is bound elsewhere, or a default could run code twice
    "def down(n, xs):\n    return 0 if n == 0 else down(n - 1, xs)\n\n"
    "def other():\n    global down\n    down = 5\n",
    "def down(n, xs=len('ab')):\n    return 0 if n == 0 else down(n - 1, xs)\n",
    "def other(down):\n    return down\n\ndef down(n, xs):\n    return 0 if n == 0 else down(n - 1, xs)\n",
])
def test_no_copy_when_other_code_could_run(body):
    try:
        out = rewritten(contract(body + "\n@public\ndef main() -> int:\n    return 1\n"))
    except VetError:
        pytest.skip("the language refuses this binding anyway")
    assert "_pc_rec_" not in out


def test_no_copy_for_nested_functions():
    src = contract(
        "@public\ndef main(n: int) -> int:\n"
        "    def down(k):\n        return 0 if k == 0 else down(k - 1)\n"
        "    return down(n)\n")
    assert "_pc_rec_" not in rewritten(src)


@pytest.mark.parametrize("n", [0, 1, 150, 198, 199, 250])
def test_depth_limit_and_gas_are_unchanged(monkeypatch, n):
    # main is frame 1 and down(n) .. down(0) are n + 1 more: 200 frames at n = 198
    a, b = both(monkeypatch, DOWN, n=n)
    assert a == b
    if n <= 198:
        assert a[:3] == ("success", n, None)
    else:
        assert a[0] == "reverted" and a[2] == "c:2: call depth limit of 200 exceeded"


MIXED = contract(
    "def down(n):\n"
    "    if n == 0:\n"
    "        raise ValueError('bottom')\n"
    "    return 1 + down(n - 1)\n\n"
    "def walk(n, xs):\n"
    "    xs.extend([n])\n"
    "    return 0 if n == 0 else 1 + walk(n - 1, xs)\n\n"
    "def via_value(n):\n"
    "    f = down\n"
    "    return f(n)\n\n"
    "@public\n"
    "def main(a: int, b: int, c: int) -> int:\n"
    "    k = 0\n"
    "    try:\n"
    "        down(a)\n"
    "    except ValueError:\n"
    "        k += 1\n"
    "    k += walk(b, [])\n"
    "    try:\n"
    "        via_value(c)\n"
    "    except ValueError:\n"
    "        k += 1\n"
    "    return k\n"
)


@pytest.mark.parametrize("a,b,c", [
    (150, 198, 10),  # an exception out of 150 copy frames leaves the shared counter as it was
    (198, 10, 10), (199, 10, 10),  # the copy's own limit
    (10, 199, 10),  # the counted function's limit after the copy returned
    (10, 10, 197), (10, 10, 198),  # through a function value: main, via_value, down + copies
])
def test_copies_mix_with_counted_functions(monkeypatch, a, b, c):
    got, want = both(monkeypatch, MIXED, a=a, b=b, c=c)
    assert got == want
    assert got[0] in ("success", "reverted")
    if got[0] == "reverted":
        assert "call depth limit of 200 exceeded" in got[2]


def test_out_of_gas_inside_copies_is_unchanged(monkeypatch):
    for gas in (3_000, 3_001, 3_017, 5_000):
        a, b = both(monkeypatch, DOWN, gas=gas, n=150)
        assert a == b


# ---- schedule 7: self-calls prepaid at the call site, bounded copies (issue 12)

def variants(monkeypatch, src, **kw):
    """Outcomes of one source under each recursion variant (``RECURSION_VARIANTS``)."""
    return _h.recursion_variants(monkeypatch, src, **kw)


FIB = contract(
    "def fib_rec(k: int) -> int:\n"
    "    if k < 2:\n"
    "        return k\n"
    "    return fib_rec(k - 1) + fib_rec(k - 2)\n\n"
    "@view\n"
    "def fib(n: int) -> int:\n"
    "    return fib_rec(n)\n"
)

#: fib(0) .. fib(15): the figures of schedule 6 (main before this change), unchanged
PINNED_FIB_GAS = [56, 72, 116, 160, 248, 380, 600, 952, 1524, 2448, 3944, 6364, 10280, 16616,
                  26868, 43456]


def _fib(k):
    return k if k < 2 else _fib(k - 1) + _fib(k - 2)


def test_fib_is_prepaid_and_bounded():
    out = rewritten(FIB)
    fast = out.split("def _pc_rec__b_fib_rec(_pc_d, k):\n", 1)[1].split("\ndef ", 1)[0]
    # no entry charge, test or depth test; the block pays 12 + 2 * 16 and tests, then the
    # callee's depth; k - 1 needs no range test (k is within 2**62 + 201 at most)
    assert fast.startswith("    if k < 2:\n        return k\n    _pc_m.g -= 44\n"
                           "    if _pc_m.g < 0:\n        _pc_oog()\n    if _pc_d >= 200:\n"), fast
    assert "_pc_rec__b_fib_rec(_pc_d + 1, k - 1)" in fast and "_pc_sub" not in fast
    slow = out.split("def _pc_rec_fib_rec(_pc_d, k):\n", 1)[1].split("\ndef ", 1)[0]
    assert "_pc_sub(k, 1)" in slow and "_pc_rec__b" not in slow
    gen = out.split("def fib_rec(k):\n", 1)[1].split("\ndef ", 1)[0]
    assert ("(_pc_rec__b_fib_rec if -4611686018427387904 < k < 4611686018427387904 "
            "else _pc_rec_fib_rec)(_pc_m.d + 1, ") in gen
    assert "_pc_rec__s_" not in out  # every self-call is prepaid: no self-charging copy


def test_fib_gas_is_unchanged_on_success(monkeypatch):
    got = []
    for k in range(16):
        v = variants(monkeypatch, FIB, function="fib", n=k)
        assert len(set(v.values())) == 1, (k, v)
        assert v["full"][:3] == ("success", _fib(k), None)
        got.append(v["full"][3])
    assert got == PINNED_FIB_GAS


@pytest.mark.parametrize("k", [2, 7, 12])
def test_out_of_gas_at_the_same_limits(monkeypatch, k):
    """Success iff the limit covers the gas used, as before; below it out of gas with the
    whole limit used (the line named may differ: the test is now in the caller)."""
    need = PINNED_FIB_GAS[k]
    for gas in sorted({1, 16, 17, 44, 60, need // 2, need - 17, need - 16, need - 1, need,
                       need + 1}):
        v = variants(monkeypatch, FIB, function="fib", gas=gas, n=k)
        st = {key: o[0] for key, o in v.items()}
        assert set(st.values()) == {"success" if gas >= need else "out_of_gas"}, (gas, v)
        assert len({o[3] for o in v.values()}) == 1, (gas, v)


def test_huge_ints_take_the_tested_path_with_the_same_results_and_gas(monkeypatch):
    src = contract(
        "def walk(n, big):\n"
        "    if n == 0:\n"
        "        return big\n"
        "    return walk(n - 1, big + 1) - 1\n\n"
        "@public\n"
        "def main(n: int, big: int) -> int:\n"
        "    return walk(n, big)\n")
    out = rewritten(src)
    assert "(_pc_rec__b_walk if -4611686018427387904 < big < 4611686018427387904 and " \
           "-4611686018427387904 < n < 4611686018427387904 else _pc_rec_walk)" in out
    for n, big in ((0, 5), (150, 2**62 - 1), (150, 2**62), (150, 2**200), (150, -2**200),
                   (190, -2**62 + 1), (199, 2**200), (199, 3)):
        v = variants(monkeypatch, src, n=n, big=big)
        assert len(set(v.values())) == 1, (n, big, v)
        if n < 199:
            assert v["full"][:3] == ("success", big, None)
        else:
            assert v["full"][2] == "c:2: call depth limit of 200 exceeded"
    # fib entered with a huge int: the unbounded copy, like before
    for n in (2**200, -2**200, 2**62, 2**62 - 1):
        v = variants(monkeypatch, FIB, function="fib", gas=100_000, n=n)
        assert v["full"] == v["unbounded"]
        if n < 2:
            assert v["full"] == v["s6"] == v["none"] == ("success", n, None, 121)
        else:
            # deep recursion reverts at the depth limit: the prepaid variant has also paid
            # the k - 2 call of each of the 199 frames it never reached (16 gas each)
            assert v["full"][:3] == v["s6"][:3] == v["none"][:3]
            assert v["full"][2] == "c:2: call depth limit of 200 exceeded"
            assert v["full"][3] - v["s6"][3] == 199 * 16


def test_a_parameter_that_is_not_shift_bounded_keeps_its_tests(monkeypatch):
    src = contract(
        "def collatz(x, depth):\n"
        "    if x == 1 or depth == 0:\n"
        "        return 0\n"
        "    if x % 2 == 0:\n"
        "        return 1 + collatz(x // 2, depth - 1)\n"
        "    return 1 + collatz(3 * x + 1, depth - 1)\n\n"
        "@public\n"
        "def main(x: int, d: int) -> int:\n"
        "    return collatz(x, d)\n")
    out = rewritten(src)
    fast = out.split("def _pc_rec__b_collatz(_pc_d, x, depth):\n", 1)[1].split("\ndef ", 1)[0]
    assert "depth - 1)" in fast and "_pc_sub(depth" not in fast  # depth: bounded
    assert "_pc_mod(x, 2)" in fast and "_pc_mul(3, x)" in fast  # x: 3 * x + 1, tested
    assert "-4611686018427387904 < depth < 4611686018427387904 else" in out
    assert "< x <" not in out.split("(_pc_rec__b_collatz if", 1)[1].split("else", 1)[0]
    for x, d in ((27, 40), (27, 198), (27, 250), (2**200 + 1, 30), (7, 2**70), (97, 0)):
        v = variants(monkeypatch, src, x=x, d=d)
        assert len(set(v.values())) == 1, (x, d, v)


def test_errors_are_cpythons_on_both_sides(monkeypatch):
    src = contract(
        "def f(k, m):\n"
        "    if k == 0:\n"
        "        return 100 // m\n"
        "    return f(k - 1, m - 1) + 1\n\n"
        "@public\n"
        "def main(k: int, m: int) -> int:\n"
        "    return f(k, m)\n")
    for k, m in ((5, 5), (5, 8), (5, 2**100 + 5), (3, -2**70)):
        v = variants(monkeypatch, src, k=k, m=m)
        assert len(set(v.values())) == 1, (k, m, v)
        if m - k == 0:
            assert v["full"][0] == "reverted" and "ZeroDivisionError" in v["full"][2]
            assert v["full"][2] == "c:4: ZeroDivisionError"
        else:
            assert v["full"][1] == 100 // (m - k) + k


def test_a_revert_in_an_argument_after_the_prepay_pays_the_call_that_never_ran(monkeypatch):
    src = contract(
        "def f(n):\n"
        "    if n == 0:\n"
        "        return 0\n"
        "    return f(n - 1) + f(0 * (10 // (n - 3)))\n\n"
        "@public\n"
        "def main(n: int) -> int:\n"
        "    return f(n)\n")
    v = variants(monkeypatch, src, n=5)
    # f(3)'s statement pays both calls' entries, then (f(2) returned) 10 // 0 raises before
    # the second call, and f(4) and f(5) never reach theirs either: three entries (10 + 6
    # each: the call and f's first block) more than schedule 6
    assert v["full"][:3] == v["s6"][:3] == v["none"][:3]
    assert v["full"][0] == "reverted" and "ZeroDivisionError" in v["full"][2]
    assert v["s6"][3] == v["none"][3]
    assert v["full"][3] == v["unbounded"][3] == v["s6"][3] + 3 * 16
    # but a successful run pays what it did
    v = variants(monkeypatch, src, n=2)
    assert len(set(v.values())) == 1, v


def test_conditional_self_calls_keep_a_copy_that_charges_itself(monkeypatch):
    src = contract(
        "def down(n):\n"
        "    return 0 if n == 0 else 1 + down(n - 1)\n\n"
        "def both(n):\n"
        "    if n < 2:\n"
        "        return 1\n"
        "    return both(n - 1) + (both(n - 2) if n % 3 else 0) + (n > 4 and both(n - 3))\n\n"
        "@public\n"
        "def main(a: int, b: int) -> int:\n"
        "    return down(a) + both(b)\n")
    out = rewritten(src)
    for name in ("_pc_rec__s_down", "_pc_rec__bs_down", "_pc_rec__s_both", "_pc_rec__bs_both"):
        assert f"def {name}(_pc_d, n):" in out, name
    selfc = out.split("def _pc_rec__bs_both(_pc_d, n):\n", 1)[1].split("\ndef ", 1)[0]
    assert selfc.startswith("    _pc_m.g -= ") and "if _pc_d > 200:" in selfc
    for a, b in ((0, 0), (10, 12), (198, 3), (199, 3), (3, 30), (2**200, 1)):
        v = variants(monkeypatch, src, gas=3_000_000, a=a, b=b)
        if a == 2**200:
            assert len({o[:3] for o in v.values()}) == 1, v
            continue
        assert len(set(v.values())) == 1, (a, b, v)


def test_every_prepaid_call_follows_a_counter_test_in_its_frame():
    """The copy frames have no test at entry: each prepaid call must come after a test of
    the counter in its own frame, or a recursion could run on with the counter negative."""
    src = contract(
        "def f(n, acc):\n"
        "    if n % 7 == 0:\n"
        "        acc = acc + 1\n"
        "    while acc > 100:\n"
        "        acc = acc - 1\n"
        "    if n < 2:\n"
        "        return f(0, 0) if n == 1 else acc\n"
        "    try:\n"
        "        x = f(n - 1, acc)\n"
        "    except ValueError:\n"
        "        x = f(n - 2, acc)\n"
        "    return x + f(n - 2, acc)\n\n"
        "@public\n"
        "def main(n: int) -> int:\n"
        "    return f(n, 0)\n")
    tree = gas_rewriter.rewrite(vetting.vet(src, "c").tree)
    for fn in tree.body:
        if not (isinstance(fn, ast.FunctionDef) and fn.name.startswith("_pc_rec_")):
            continue
        tested_at_entry = any(isinstance(s, ast.If) and gas_rewriter._is_charge_test(s)
                              for s in fn.body[:2])
        _check_tested(fn.body, tested_at_entry)


def _check_tested(stmts, tested):
    for st in stmts:
        if isinstance(st, ast.If) and gas_rewriter._is_charge_test(st):
            tested = True
        elif getattr(st, "pc_depth", False):
            assert tested, ast.unparse(st)
        else:
            for b in gas_rewriter._sub_bodies(st):
                _check_tested(b, tested)


def test_out_of_gas_in_a_caught_recursion(monkeypatch):
    src = contract(
        "def f(n):\n"
        "    if n == 0:\n"
        "        raise ValueError('bottom')\n"
        "    return f(n - 1) + f(n - 1)\n\n"
        "@public\n"
        "def main(n: int) -> int:\n"
        "    try:\n"
        "        return f(n)\n"
        "    except ValueError:\n"
        "        return -1\n")
    v = variants(monkeypatch, src, n=6)
    # a caught exception: the transaction succeeds, and the prepaid variant has paid the
    # second call of each of the 6 frames the exception left (20 gas each: call + f's first
    # block)
    assert {o[:3] for o in v.values()} == {("success", -1, None)}
    assert v["full"][3] - v["s6"][3] == 6 * 20 and v["s6"] == v["none"]
    for gas in (50, 100, 150, 200):
        v = variants(monkeypatch, src, gas=gas, n=30)
        assert v["full"] == v["unbounded"]
        assert v["full"][0] in ("out_of_gas", "success")


BRANCHES = contract(
    "def f(n: int) -> int:\n"
    "    if n > 1:\n"
    "        return f(n - 1) + 1\n"
    "    else:\n"
    "        return f(n + 1) - 1 if n < 0 else 0\n\n"
    "@public\n"
    "def main(n: int) -> int:\n"
    "    return f(n)\n")


def test_a_prepay_that_moves_the_branch_point_charge(monkeypatch):
    # the prepaid branch became the dearer one: the cheaper (else) branch's charge moves to
    # the branch point instead, so the prepaid copy keeps 5 gas of its entry (untested)
    out = rewritten(BRANCHES)
    fast = out.split("def _pc_rec__b_f(_pc_d, n):\n", 1)[1].split("\ndef ", 1)[0]
    assert fast.startswith("    _pc_m.g -= 5\n    if n > 1:\n        _pc_m.g -= 18\n"
                           "        if _pc_m.g < 0:\n"), fast
    _check_source(BRANCHES)
    for n in (-5, 0, 1, 2, 150, 198, 199, 250, -198, -199, 2**70, -2**70):
        v = variants(monkeypatch, BRANCHES, n=n)
        assert len({o[:3] for o in v.values()}) == 1 and v["full"] == v["unbounded"], (n, v)
        assert v["s6"] == v["none"], (n, v)
        if -198 <= n <= 199:  # main is frame 1: 199 frames of f at most
            assert v["full"][:3] == ("success", n - 1 if n > 1 else min(n, 0), None)
            assert v["full"][3] == v["s6"][3]
        else:
            assert v["full"][2] == "c:2: call depth limit of 200 exceeded", v
            # the self-charging callee that hits the limit pays its entry with the else
            # branch's 5 gas now placed at its branch point (the if branch, with the prepay,
            # became the dearer one): more than 6 on the failing path, never less; the
            # prepaid path pays at the limit what the callee's entry paid
            assert v["full"][3] - v["s6"][3] == (5 if n < 0 else 0)


def _check_source(src):
    tree = gas_rewriter.rewrite(*(lambda v: (v.tree, dict(v.entry_points)))(vetting.vet(src, "c")))
    seen = 0
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("_pc_rec_"):
            tested = any(isinstance(s, ast.If) and gas_rewriter._is_charge_test(s)
                         for s in fn.body[:2])
            _check_tested(fn.body, tested)
            seen += 1
    assert seen == 4


# ---- a randomized comparison: random self-recursive functions, every variant

def _rcall(rng):
    a = rng.choice(["n - 1", "n - 2", "n // 2", "n - 1 - (m % 2)"])
    b = rng.choice(["m", "m + 1", "m - n", "m * 2", "3 * m + 1", "m % 5", "k", "7"])
    return f"f({a}, {b})"


def _rexpr(rng, d=0):
    r = rng.random()
    if d > 2 or r < 0.25:
        return rng.choice(["n", "m", "k", "1", "2", "(m % 3)"])
    if r < 0.45:
        return _rcall(rng)
    sub = lambda: _rexpr(rng, d + 1)  # noqa: E731
    if r < 0.55:
        return f"({sub()} if {sub()} > {rng.randint(0, 3)} else {sub()})"
    if r < 0.62:
        return f"({sub()} and {sub()})"
    if r < 0.68:
        return f"({sub()} or {sub()})"
    if r < 0.74:
        return f"int({sub()} < {sub()} < {sub()})"
    if r < 0.80:
        return f"(10 // ({sub()} - {rng.randint(0, 3)}))"
    op = rng.choice(["+", "-", "%", "*"])
    if op == "%":
        return f"({sub()} % {rng.randint(1, 9)})"
    if op == "*":
        return f"(({sub()} % 100) * {rng.randint(1, 9)})"
    return f"({sub()} {op} {sub()})"


def _rfunction(rng):
    lines = ["    if n <= 0:", "        return m % 7", "    k = 0"]
    for _ in range(rng.randint(1, 4)):
        t = rng.random()
        if t < 0.3:
            lines.append(f"    k = k + {_rexpr(rng)}")
        elif t < 0.5:
            lines += [f"    if {_rexpr(rng)} > {rng.randint(0, 5)}:",
                      f"        k = k - {_rexpr(rng)}"]
            if rng.random() < 0.5:
                lines += ["    else:", f"        return {_rexpr(rng)}"]
        elif t < 0.65:
            lines += ["    try:", f"        k = {_rexpr(rng)}", "    except ZeroDivisionError:",
                      f"        k = {_rexpr(rng)}"]
        elif t < 0.75:
            lines += ["    j = 0", "    while j < 2:", f"        k = k + {_rexpr(rng)}",
                      "        j += 1"]
        elif t < 0.85:
            lines.append(f"    assert {_rexpr(rng)} != 12345, 'x'")
        else:
            lines.append(f"    k += {_rexpr(rng)}")
    lines.append(f"    return (k + {_rexpr(rng)}) % 1000003")
    return contract("def f(n, m):\n" + "\n".join(lines) + "\n\n@public\n"
                    "def main(n: int, m: int) -> int:\n    return f(n, m)\n")


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_random_recursions_agree_with_the_uncopied_code(monkeypatch, seed):
    """Successes: the same result and gas in every variant. Failures: the same status and
    error (but an out of gas's line), and the prepaid variants pay at least what 6 paid,
    except what docs/gas.md "Schedule 7" lists: the depth limit now comes before the refused
    call's arguments are evaluated (first, and without their charges), and the counter is
    tested elsewhere, so an exception reached after it went negative can end a transaction
    that ran out of gas under 6 (both at the whole limit), or an out of gas one that reverted."""
    import random
    rng = random.Random(seed)
    seen = set()
    for _ in range(20):
        src = _rfunction(rng)
        for n, m, gas in ((rng.randint(0, 12), rng.randint(-5, 5), rng.choice([300, 3000, 10**6])),
                          (rng.randint(0, 9), 2**70 + rng.randint(0, 3), 10**6),
                          (rng.randint(150, 260), 1, 10**6)):
            v = variants(monkeypatch, src, n=n, m=m, gas=gas)
            full, s6 = v["full"], v["none"]
            assert v["full"] == v["unbounded"] and v["s6"] == v["none"], (src, v)
            seen.add(full[0])
            if "success" in (full[0], s6[0]):
                assert full == s6, (src, n, m, gas, v)
                continue
            depth = "call depth limit" in (full[2] or "")
            if full[0] != s6[0]:
                assert full[0] == "out_of_gas" or full[3] == gas, (src, n, m, gas, v)
                continue
            if full[0] == "reverted" and not depth:
                assert full[2] == s6[2], (src, v)
            if not depth:
                assert full[3] >= s6[3], (src, v)
    assert seen == {"success", "reverted", "out_of_gas"}
