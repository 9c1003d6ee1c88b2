"""Proven dict locals (issue 12): a local whose every binding is a dict display or
comprehension (or another such local) keeps no dict type test on ``d[k]``, ``k in d`` and
``d[k] op= v``; anything else that binds the name drops the fact. Same results, errors and gas
as the tested path."""

from __future__ import annotations

import ast

import pytest
from language_harness import run

from pycontract import vetting
from pycontract.metering import rewriter

PROVEN = """from pycontract import public

@public
def main(n: int) -> list:
    d = {}
    for i in range(n):
        k = "a" + str(i % 3)
        if k in d:
            d[k] += i
        else:
            d[k] = i
        d[i % 2] = 7
        d[i % 2] -= 1
    e = d
    return [d["a0"], e[0], 5 in d, d.get("zz", -1)]
"""

REBOUND = PROVEN.replace('    e = d\n', '    e = d\n    d = [1, 2]\n    d = e\n')
MISSING = PROVEN.replace('d["a0"]', 'd["nope"]')


def _main(src):
    tree = rewriter.rewrite(vetting.vet(src, "c").tree)
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")


def _dict_tests(fn) -> int:
    return sum(1 for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id in ("_pc_D", "_pc_DL"))


def test_dict_locals_fact():
    tree = vetting.vet(PROVEN, "c").tree
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    assert rewriter.dict_locals(fn) == {"d", "e"}
    tree = vetting.vet(REBOUND, "c").tree
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    assert rewriter.dict_locals(fn) == set()


def test_proven_dict_drops_its_type_tests():
    assert _dict_tests(_main(PROVEN)) == 0
    assert _dict_tests(_main(REBOUND)) > 0


def _cpython(src, n):
    ns = {}
    exec(src.replace("from pycontract import public\n", "").replace("@public\n", ""), ns)
    try:
        return ns["main"](n)
    except Exception as e:  # noqa: BLE001 - the exception class is compared
        return type(e)


@pytest.mark.parametrize("n", [1, 4, 9])
def test_same_results_and_gas_as_the_tested_path(n):
    fast, slow = run(PROVEN, "main", n=n), run(REBOUND, "main", n=n)
    assert fast.status == slow.status == "success"
    assert fast.result == slow.result == _cpython(PROVEN, n)
    # REBOUND has two more statements (their weights) and nothing else different
    extra = run(REBOUND.replace("    d = [1, 2]\n    d = e\n", "    q = [1, 2]\n    q = e\n"),
                "main", n=n)
    assert extra.gas_used == slow.gas_used and fast.gas_used < slow.gas_used
    assert slow.gas_used - fast.gas_used == extra.gas_used - fast.gas_used


def test_missing_key_reverts_like_cpython():
    out = run(MISSING, "main", n=4)
    assert out.status == "reverted" and "KeyError" in out.error and "nope" in out.error
    assert _cpython(MISSING, 4) is KeyError


# ------------------------------------------------ dicts of bounded ints (int_dict_locals)

INT_ITEMS = """from pycontract import public

@public
def main(n: int, kind: int) -> list:
    d = {"a0": 5, "a1": True}
    for i in range(n):
        k = "a" + str(i % 3)
        if k in d:
            d[k] -= i % 7
        else:
            d[k] = -(i % 4)
        d["a1"] += 1
    if kind == 1:
        d["zz"] += 1
    if kind == 2:
        del d["a0"]
        d["a0"] -= 1
    if kind == 3:
        d[n % 2] += 2
    return [d["a0"], d["a1"], len(d), "a2" in d]
"""


def _int_dicts(src):
    fn = next(n for n in vetting.vet(src, "c").tree.body
              if isinstance(n, ast.FunctionDef) and n.name == "main")
    ex = rewriter.ExprRewriter()
    good, _bad = rewriter._local_bindings(fn, True)
    ex.ints, ex.bounds = rewriter.int_facts(fn, True)
    return rewriter.int_dict_locals(fn, rewriter.dict_locals(fn), good,
                                    lambda x: ex._ub(x) if ex._isint(x) else None, True)


def test_int_dict_locals_fact():
    # 5, True, -(i % 4) put; steps of at most 6, 1, 1, 1 and 2 per run of their statements
    assert _int_dicts(INT_ITEMS) == {"d": 5 + rewriter.EXEC_MAX * (6 + 1 + 1 + 1 + 2)}


@pytest.mark.parametrize("use", [
    "    e = d\n",  # an alias
    "    d.get('a0')\n",  # a method (may be one that changes it)
    "    x = [d[k] for k in ['a0']]\n",  # used in a nested scope
    "    f = lambda: d\n",
    "    d['a0'] *= 2\n",  # not a + / - step
    "    d['a0'] = 'x'\n",  # not an int
    "    d['a0'] = n\n",  # unbounded
    "    d['a0'] += n\n",
    "    d['a0'] += d['a1']\n",  # not proven an int
    "    d = {'a0': n}\n",
    "    d = dict()\n",
    "    x = str(d)\n",  # an argument
    "    if n:\n        return d\n",  # a result
])
def test_int_dict_locals_dropped(use):
    src = INT_ITEMS.replace("    return [", use + "    return [")
    assert _int_dicts(src) == {}


def test_int_dict_items_need_no_test():
    out = ast.unparse(_main(INT_ITEMS))
    assert "d[k] -= i % 7" not in out  # i % 7 is no name: the general path
    src = INT_ITEMS.replace("d[k] -= i % 7", "j = i % 7\n            d[k] -= j")
    out = ast.unparse(_main(src))
    assert "        d[k] -= j\n" in out and "_pc_aug_item(d, k" not in out
    assert "d['a1'] += 1\n" in out and "_pc_r :=" not in out


def _both(src, monkeypatch, **kw):
    from pycontract.metering import compiler
    compiler.clear_cache()
    fast = run(src, "main", **kw)
    monkeypatch.setattr(rewriter, "int_dict_locals", lambda *a, **k: {})
    compiler.clear_cache()
    try:
        slow = run(src, "main", **kw)
    finally:
        monkeypatch.undo()
        compiler.clear_cache()
    assert (fast.status, fast.result, fast.error, fast.gas_used, fast.meter.mem) == (
        slow.status, slow.result, slow.error, slow.gas_used, slow.meter.mem)
    return fast


@pytest.mark.parametrize("kind", range(4))
@pytest.mark.parametrize("n", [0, 2, 9])
def test_int_dict_items_same_outcomes_as_the_tested_path(n, kind, monkeypatch):
    src = INT_ITEMS.replace("d[k] -= i % 7", "j = i % 7\n            d[k] -= j")
    out = _both(src, monkeypatch, n=n, kind=kind)
    ns = {}
    exec(src.replace("from pycontract import public\n", "").replace("@public\n", ""), ns)
    try:
        want = ns["main"](n, kind)
    except Exception as e:  # noqa: BLE001
        assert out.status == "reverted" and type(e).__name__ in out.error
    else:
        assert out.status == "success" and out.result == want


@pytest.mark.parametrize("sig", ["v: int", "v"])
@pytest.mark.parametrize("v", [3, 2 ** 62, 2 ** 63, -(2 ** 100), True, "x"])
def test_unbounded_items_keep_their_test(sig, v, monkeypatch):
    src = ("from pycontract import public\n\n@public\ndef main(%s) -> list:\n"
           "    d = {'a': 1}\n    d['a'] = v\n    d['a'] += 1\n    d['a'] -= 2\n"
           "    return [d['a']]\n" % sig)
    assert "_pc_r :=" in ast.unparse(_main(src))
    if sig == "v: int" and type(v) is not int:
        return  # refused by check_args (an int parameter is exactly an int)
    out = _both(src, monkeypatch, v=v)
    if isinstance(v, str):
        assert out.status == "reverted" and "TypeError" in out.error
    else:
        assert out.result == [v - 1]
