"""Proven short-str locals (issue 12): a local whose every binding is a str of at most
``long_key`` characters by construction keeps no key test on ``d[k]``, ``k in d``,
``d[k] op= v`` and dict display keys. Every outcome (status, result, error, gas used, memory
accounted) is the same as with the fast path turned off, and as CPython's."""

from __future__ import annotations

import ast

import pytest
from language_harness import contract, run

from pycontract import vetting
from pycontract.metering import compiler, rewriter
from pycontract.metering.schedule import SCHEDULE


def _fn(src, name="main"):
    tree = vetting.vet(src, "c").tree
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def _strs(src, name="main", str_ok=True):
    """``str_locals`` of function ``name`` with the int facts the rewriter gives it."""
    fn = _fn(src, name)
    ex = rewriter.ExprRewriter()
    good, bad = rewriter._local_bindings(fn, True)
    ex.ints, ex.bounds = rewriter.int_facts(fn, True)
    return rewriter.str_locals(good, bad, lambda x: ex._ub(x) if ex._isint(x) else None, str_ok)


def _emitted(src, name="main"):
    vetted = vetting.vet(src, "c")
    tree = rewriter.rewrite(vetted.tree, entry_points=dict(vetted.entry_points))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.unparse(fn)


def _off(monkeypatch):
    """Compile with the fast path turned off (no short-str facts)."""
    monkeypatch.setattr(rewriter, "str_locals", lambda *a, **k: {})
    compiler.clear_cache()


def _both(monkeypatch, src, **kw):
    """(fast, slow) outcomes of the same source: with the fast path, and without it."""
    compiler.clear_cache()
    fast = run(src, **kw)
    _off(monkeypatch)
    try:
        slow = run(src, **kw)
    finally:
        monkeypatch.undo()
        compiler.clear_cache()
    return fast, slow


def _same(fast, slow):
    assert (fast.status, fast.result, fast.error, fast.gas_used) == (
        slow.status, slow.result, slow.error, slow.gas_used)
    assert fast.meter.mem == slow.meter.mem


def _cpython(body, *args):
    ns = {}
    exec(body.replace("@public\n", ""), ns)
    try:
        return ns["main"](*args)
    except Exception as e:  # noqa: BLE001 - the exception class is compared
        return type(e)


# ------------------------------------------------------------------ the facts

FACTS = contract("""@public
def main(n: int, p: str, c: bool) -> list:
    out = []
    for i in range(n):
        a = "acct" + str(i % 100)
        b = str(i % 7) + "x"
        f = f"k{i % 10}-{a}"
        g = a if c else "yyy"
        h = a + b
        e = "q"
        e = h
        t = str(a)
        big = "z" + str(i)
        par = p + "x"
        grows = "s"
        grows = grows + "s"
        aug = "s"
        aug += "t"
        m = "w"
        m = 5
        spec = f"{i % 10:>3}"
        out.append([a, b, f, g, h, e, t, big, par, grows, aug, m, spec])
    return out
""")


def test_str_locals_facts():
    got = _strs(FACTS)
    # 'acct' + at most 5 characters of str(i % 100) (digits, a sign, or 'False'); i itself
    # is bounded by the iterations a loop can make (int_bounds)
    assert got == {"a": 9, "b": 6, "f": 16, "g": 9, "h": 15, "e": 15, "t": 9,
                   "big": 1 + rewriter.int_str_len(rewriter.EXEC_MAX)}
    # str rebound in the module: str(...) proves nothing (nor what depends on it)
    assert _strs(FACTS, str_ok=False) == {}


def test_str_locals_bounds_and_long_literals():
    long_lit = "x" * SCHEDULE.long_key
    src = contract(f"""@public
def main(n: int) -> list:
    a = "{long_lit}"
    b = "{long_lit}" + "y"
    c = a + str(n % 2)
    d = "p" + str(n)
    return [a, b, c, d]
""")
    # a is exactly long_key characters (free); b is one more; c may be longer; n is unbounded
    assert _strs(src) == {"a": SCHEDULE.long_key}


def test_a_name_bound_any_other_way_is_not_proven():
    src = contract("""@public
def main(n: int, k: str) -> list:
    x = "a"
    for y in ["b"]:
        pass
    z, w = "c", "d"
    try:
        v = "e"
    except ValueError as v:
        pass
    def inner():
        return 1
    u = "f"
    q = [u for u in ["g"]]
    return [x, y, z, w, k, q]
""")
    assert _strs(src) == {"x": 1, "u": 1}


# ------------------------------------------------------------------ what is emitted

TRANSFERS = contract("""@public
def main(n: int) -> list:
    balances = {}
    for i in range(20):
        balances["acct" + str(i)] = 1000
    for i in range(n):
        src = "acct" + str(i % 20)
        dst = "acct" + str((i * 7 + 3) % 20)
        amount = i % 13
        if balances[src] >= amount:
            balances[src] -= amount
            balances[dst] += amount
    return [balances["acct0"], balances["acct3"], src in balances, {src: 1, dst: 2}]
""")


def test_proven_keys_are_emitted_without_tests():
    out = _emitted(TRANSFERS)
    assert "_pc_len(src) <=" not in out and "_pc_len(dst) <=" not in out
    assert "_pc_T(src)" not in out and "_pc_T(dst)" not in out


def test_sometimes_long_or_int_keeps_the_key_test():
    src = contract("""@public
def main(n: int, c: bool) -> list:
    d = {"k1": 1}
    k = "k" + str(n % 10)
    if c:
        k = "k" * 2000
    j = "k1"
    if c:
        j = 1
    return [d.get(k, 0), k in d, j in d]
""")
    out = _emitted(src)
    assert "_pc_len(k) <= 1024" in out and "_pc_T(j) is _pc_I" in out


# ------------------------------------------------------------------ same outcomes


@pytest.mark.parametrize("n", [0, 1, 7, 40])
def test_transfers_same_outcomes_and_gas(n, monkeypatch):
    fast, slow = _both(monkeypatch, TRANSFERS, n=n)
    _same(fast, slow)
    want = _cpython(TRANSFERS.split("\n", 1)[1], n)
    if n == 0:  # src read unbound: the same error on both paths, as in CPython
        assert want is UnboundLocalError and fast.status == "reverted"
        assert "UnboundLocalError" in fast.error
    else:
        assert fast.status == "success" and fast.result == want


ERRORS = contract("""@public
def main(n: int, kind: int) -> list:
    d = {"a0": 1}
    lst = [1, 2]
    k = "a" + str(n % 3)
    if kind == 0:
        return [d[k]]
    if kind == 1:
        d[k] += 1
        return [d]
    if kind == 2:
        return [lst[k]]
    if kind == 3:
        lst[k] += 1
        return [lst]
    if kind == 4:
        return [k in lst, k in d, k in "xa0y"]
    if kind == 5:
        return [{k: 1, "b": 2}, {k: i for i in range(2)}]
    if kind == 6:
        return [k.upper(), k.startswith("a"), k * 2]
    s = k + str(kind) + f"{n % 5}"
    d[s] = 4
    return [s, d[s], s in d]
""")


@pytest.mark.parametrize("kind", range(8))
@pytest.mark.parametrize("n", [0, 1, 5])
def test_fast_and_tested_paths_agree_with_cpython(n, kind, monkeypatch):
    fast, slow = _both(monkeypatch, ERRORS, n=n, kind=kind)
    _same(fast, slow)
    want = _cpython(ERRORS.split("\n", 1)[1], n, kind)
    if isinstance(want, type):
        assert fast.status == "reverted" and want.__name__ in fast.error
    else:
        assert fast.status == "success" and fast.result == want


CLOSURE = contract("""@public
def main(n: int) -> list:
    d = {"a1": 5}
    k = "a" + str(n % 3)
    f = lambda: d[k]
    g = [d[k] for k in ["a1"]]
    def h():
        return k in d
    return [f() if k in d else -1, g, h()]
""")


@pytest.mark.parametrize("n", [0, 1])
def test_closures_and_comprehensions(n, monkeypatch):
    fast, slow = _both(monkeypatch, CLOSURE, n=n)
    _same(fast, slow)
    assert fast.result == _cpython(CLOSURE.split("\n", 1)[1], n)


SOMETIMES_LONG = contract("""@public
def main(p: str, n: int) -> list:
    k = "k" + str(n % 10)
    if n > 5:
        k = p
    d = {k: 1}
    d[k] += 1
    d[k] -= 3
    return [d[k], k in d, {k: i for i in range(2)}, len(k)]
""")


@pytest.mark.parametrize("n", [3, 7])
def test_a_local_sometimes_long_keeps_its_tests_and_pays(n, monkeypatch):
    long_p = "x" * (3 * SCHEDULE.long_key)
    fast, slow = _both(monkeypatch, SOMETIMES_LONG, p=long_p, n=n)
    _same(fast, slow)
    assert fast.result == _cpython(SOMETIMES_LONG.split("\n", 1)[1], long_p, n)
    short = run(SOMETIMES_LONG, p="k7", n=n)
    # the long key pays by its length at every lookup and store; the short one does not
    assert (fast.gas_used > short.gas_used) == (n > 5)
