"""Proven short-str locals and the inline ``a + str(i)`` (issue 12): a local whose every binding
is a str of at most ``long_key`` characters by construction keeps no key test on ``d[k]``,
``k in d``, ``d[k] op= v`` and dict display keys; ``x = 'acct' + str(i)`` with ``i`` a bounded
exact int is done inline with ``Ops.add_str``'s charges. Every outcome (status, result, error,
gas used, memory accounted) is the same as with both fast paths turned off, and as CPython's."""

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


def _exact(src, name="main"):
    fn = _fn(src, name)
    good, _bad = rewriter._local_bindings(fn, True)
    return rewriter.exact_int_locals(good, rewriter.int_facts(fn, True)[0])


def _emitted(src, name="main"):
    vetted = vetting.vet(src, "c")
    tree = rewriter.rewrite(vetted.tree, entry_points=dict(vetted.entry_points))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.unparse(fn)


def _off(monkeypatch):
    """Compile with both fast paths turned off (no short-str facts, ``_pc_add_str`` kept)."""
    monkeypatch.setattr(rewriter, "str_locals", lambda *a, **k: {})
    monkeypatch.setattr(rewriter.GasRewriter, "_add_str_inline", lambda self, st: None)
    compiler.clear_cache()


def _both(monkeypatch, src, **kw):
    """(fast, slow) outcomes of the same source: with the fast paths, and without them."""
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


def test_exact_int_locals():
    src = contract("""@public
def main(n: int, c: bool) -> list:
    i = 0
    b = True
    j = b + 1
    k = b & True
    m = i & b
    s = -b
    t = b
    for r in range(3):
        i += r
    return [i, b, j, k, m, s, t]
""")
    assert _exact(src) == {"i", "j", "m", "s", "r"}


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


def test_proven_keys_and_inline_add_str_are_emitted():
    out = _emitted(TRANSFERS)
    assert "_pc_len(src) <=" not in out and "_pc_len(dst) <=" not in out
    assert "_pc_T(src)" not in out and "_pc_T(dst)" not in out
    assert "_pc_add_str('acct', i % 20)" not in out
    assert "_pc_v = 'acct' + _pc_S(i % 20)" in out
    assert "_pc_add_str_settle(_pc_v)" in out
    assert "src = _pc_v" in out
    # the first loop's key is no local: the helper
    assert "_pc_add_str('acct', i)" in out


def test_tested_forms_keep_the_helper():
    src = contract("""@public
def main(n: int, p: str) -> list:
    b = True
    a = "acct" + str(n)
    c = "acct" + str(b)
    d = "yyyyyyyyyyyyyyyyyyyy" + str(n % 10)
    e = p + str(n % 10)
    f = "0123456789abcd" + str(n % 10)
    g = "0123456789abc" + str(n % 10)
    return [a, c, d, e, f, g]
""")
    out = _emitted(src)
    # n unbounded, b may be a bool, p not proven a str: the helper
    for helper in ("_pc_add_str('acct', n)", "_pc_add_str('acct', b)", "_pc_add_str(p, "):
        assert helper in out
    # 20 + 1..2 characters: 1 + n // 16 == 2 whatever the digits: inline
    assert "_pc_v = 'yyyyyyyyyyyyyyyyyyyy' + _pc_S(n % 10 if" in out
    assert "_pc_m.g = _pc_m.g - 2" in out
    # 14 + 1..2 characters: 1 or 2 gas: the helper; 13 + 1..2: inline
    assert "_pc_add_str('0123456789abcd', n % 10 if" in out
    assert "_pc_v = '0123456789abc' + _pc_S(n % 10 if" in out
    assert run(src, n=7, p="q").result == ["acct7", "acctTrue", "y" * 20 + "7", "q7",
                                           "0123456789abcd7", "0123456789abc7"]


def test_charges_with_a_length_dependent_gas_match(monkeypatch):
    src = contract("""@public
def main(n: int) -> list:
    d = "yyyyyyyyyyyyyyyyyyyy" + str(n % 10)
    g = "0123456789abc" + str(n % 100 - 50)
    return [d, g]
""")
    for n in (0, 7, 61, -3):
        fast, slow = _both(monkeypatch, src, n=n)
        _same(fast, slow)


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


def test_out_of_gas_at_every_point_of_an_inline_add_str(monkeypatch):
    src = contract("""@public
def main(n: int) -> int:
    d = {}
    t = 0
    for i in range(n):
        k = "acct" + str(i % 100)
        j = k + str(i % 10)
        d[j] = i
        t += len(d)
    return t
""")
    assert "_pc_add_str_settle" in _emitted(src)
    total = run(src, n=6).gas_used
    for gas in range(total - 60, total + 2):
        fast, slow = _both(monkeypatch, src, n=6, gas=gas)
        _same(fast, slow)


@pytest.mark.parametrize("pad", range(-26, -14))
def test_memory_limit_at_every_check_of_an_inline_add_str(pad, monkeypatch):
    """``'acct' + str(i)`` accounts 20 bytes, charges 1 gas, then accounts its 5 bytes: the
    memory limit is crossed at the first or the last of these, with the gas of that moment."""
    body = """@public
def main(n: int) -> int:
    s = "x" * SIZE
    k = "acct" + str(n % 10)
    return 0
"""
    # what the call accounts besides the string and the add: its result, at the end
    end = run(contract("@public\ndef main(n: int) -> int:\n    return 0\n"), n=3).meter.mem
    base = run(contract(body.replace("SIZE", "1")), n=3).meter.mem - 1 - 25 - end
    assert end > 0 and base == 0
    src = contract(body.replace("SIZE", str(SCHEDULE.memory_limit - base + pad)))
    assert "_pc_add_str_settle" in _emitted(src)
    fast, slow = _both(monkeypatch, src, n=3, gas=20_000_000)
    _same(fast, slow)
    if pad > -25:
        assert "c:5: memory limit exceeded" in fast.error  # at the add
    else:
        assert "c:3: memory limit exceeded" in fast.error  # past the add: at the result


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


def test_long_chains_of_names_are_widened_or_given_up():
    # each name built from the next in sorted order rises once per round: widened after 6
    chain = "".join(f"    n{i:03} = n{i + 1:03} + 'x'\n" for i in range(198, -1, -1))
    src = contract("@public\ndef main() -> str:\n    n199 = 'x'\n" + chain + "    return n000\n")
    assert _strs(src) == {f"n{199 - j}": 1 + j for j in range(6)}
    short = contract("@public\ndef main() -> str:\n    a0 = 'x'\n"
                     + "".join(f"    a{i} = a{i - 1} + 'x'\n" for i in range(1, 4))
                     + "    return a3\n")
    assert _strs(short) == {"a0": 1, "a1": 2, "a2": 3, "a3": 4}


def test_a_drop_travelling_up_a_long_chain_stops_after_the_round_cap():
    # the last name is not a str: its drop reaches one more name per round; the analysis gives
    # up after _STR_ROUNDS rounds instead of walking the function once per name
    chain = "".join(f"    n{i:03} = str(n{i + 1:03})\n" for i in range(298, -1, -1))
    src = contract("@public\ndef main(p: str) -> str:\n    n299 = p\n" + chain
                   + "    return n000\n")
    fn = _fn(src)
    good, bad = rewriter._local_bindings(fn, True)
    calls = []
    assert rewriter.str_locals(good, bad, lambda x: calls.append(x), True) == {}
    # 64 rounds of at most 300 names (without the cap: about 300 * 300 / 2)
    assert rewriter._STR_ROUNDS == 64 and len(calls) <= 65 * 300


def test_the_inline_gas_decrement_is_no_block_charge():
    """Charge placement (hoisting, merging, schedule 7's counter tests in prepaid copies) works
    on the statements ``_is_charge`` recognises; the inline add's decrement must not be one of
    them, or it could be moved away from its test or tested alone (out of gas before the
    memory check that add_str makes first)."""
    vetted = vetting.vet(TRANSFERS, "c")
    tree = rewriter.rewrite(vetted.tree, entry_points=dict(vetted.entry_points))
    decs = [n for n in ast.walk(tree) if isinstance(n, ast.Assign)
            and isinstance(n.targets[0], ast.Attribute) and n.targets[0].attr == "g"]
    assert len(decs) == 2 and not any(rewriter._is_charge(n) for n in decs)
