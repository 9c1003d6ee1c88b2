"""Entry-point parameters annotated ``int`` proven int (issue 12, round 2): every call from
outside passes ``check_args``, which refuses anything but an exact int for them, so with no
defaults they join the parameter fixpoint of ``module_int_facts`` like any function's. Tests:
which parameters qualify, that the premise holds on every outside path (transaction, query,
cross-contract call), that an in-module call with a str or a default drops the fact, that the
recursive copy gets the same facts, and that results, errors and gas equal the unproven path."""

from __future__ import annotations

import ast
import re

import pytest

import language_harness as _h

from pycontract import Chain, vetting
from pycontract.errors import InvalidTransaction, QueryError
from pycontract.metering import rewriter
from pycontract.worker import process

contract, run = _h.contract, _h.run

FIB = ("def fib_rec(k: int) -> int:\n    if k < 2:\n        return k\n"
       "    return fib_rec(k - 1) + fib_rec(k - 2)\n\n"
       "@view\ndef fib(n: int) -> int:\n    return fib_rec(n)\n")


def _facts(src: str, names_only: bool = False):
    """(int-returning functions, proven parameters by function name) with the compiler's
    argument (the EntryPoint objects) or with just the entry-point names."""
    v = vetting.vet(contract(src), "c")
    eps = frozenset(v.entry_points) if names_only else dict(v.entry_points)
    funcs, params = rewriter.module_int_facts(v.tree, not rewriter.binds_range(v.tree), eps)
    names = {id(st): st.name for st in v.tree.body if isinstance(st, ast.FunctionDef)}
    return set(funcs), {names[k]: set(ps) for k, ps in params.items()}


def _rewritten(src: str) -> str:
    v = vetting.vet(contract(src), "c")
    return ast.unparse(rewriter.rewrite(v.tree, entry_points=dict(v.entry_points)))


def _fn_code(code: str, fn: str) -> str:
    return code.split(f"def {fn}(", 1)[1].split("\ndef ", 1)[0]


def test_int_annotated_entry_parameters_seed_the_fixpoint():
    funcs, params = _facts(FIB)
    assert params == {"fib": {"n"}, "fib_rec": {"k"}}
    assert funcs >= {"fib", "fib_rec"}
    # with only the names (what the compiler passed before) no entry parameter is a candidate
    assert _facts(FIB, names_only=True) == (set(), {})
    # fib_rec returns ints: the type tests of its results are gone, in the copy too
    code = _rewritten(FIB)
    for fn in ("fib_rec", "_pc_rec_fib_rec", "_pc_rec__b_fib_rec"):
        body = _fn_code(code, fn)
        assert "_pc_T(" not in body, (fn, body)
        # (schedule 7) fib_rec enters the bounded copy when k is within 2**62
        assert re.search(r"-9223372036854775808 < \(_pc_t\d+ := (_pc_rec_fib_rec|"
                         r"_pc_rec__b_fib_rec|\(_pc_rec__b_fib_rec if -4611686018427387904 < k "
                         r"< 4611686018427387904 else _pc_rec_fib_rec\))\(", body), body


def test_which_entry_parameters_qualify():
    src = ("def use(a: int) -> int:\n    return a\n\n"
           "@public\ndef typed(x: int, s: str, b: bool, u) -> int:\n    return use(x)\n\n"
           "@public\ndef defaulted(x: int, y: int = 3) -> int:\n    return use(x) + y\n\n"
           "@public\ndef kwonly(x: int, *, y: int) -> int:\n    return x + y\n\n"
           "@public\ndef valued(x: int) -> list:\n    g = valued\n    return [x]\n\n"
           "@public\ndef called(x: int) -> int:\n    return x\n\n"
           "@public\ndef caller(n: int) -> int:\n    return called(n + 1) + called(2)\n\n"
           "@public\ndef strcall(x: int) -> int:\n    return x\n\n"
           "@public\ndef bad(s: str) -> int:\n    return strcall(s)\n\n"
           "@public\ndef kwcall(x: int) -> int:\n    return x\n\n"
           "@public\ndef bykw() -> int:\n    return kwcall(x=1)\n")
    _, params = _facts(src)
    # typed: only the int one; defaulted/kwonly: any default or kw-only disqualifies the
    # function (use(x) from defaulted is then not an int argument: use loses a); valued
    # escapes as a value; strcall gets a str from bad; kwcall is called by keyword
    assert params == {"typed": {"x"}, "called": {"x"}, "caller": {"n"}}, params


def test_outside_calls_refuse_anything_but_an_exact_int(tmp_path):
    """The premise: every outside path passes check_args, which refuses bool, str and others
    for an ``int`` parameter (a bool would otherwise reach a function proven to get ints)."""
    assert process.ANNOTATION_TYPES["int"] is int
    src = contract(FIB + "\n@public\ndef run_fib(n: int) -> int:\n    return fib_rec(n)\n")
    proxy = contract("@public\ndef via(v) -> int:\n    return call('f', 'fib', n=v)\n")
    with Chain(tmp_path / "c.db") as chain:
        assert chain.deploy("f", src, sender="alice", gas_limit=2_000_000).status == "success"
        assert chain.deploy("p", proxy, sender="alice", gas_limit=2_000_000).status == "success"
        assert chain.query("f", "fib", {"n": 10}) == 55
        for bad in (True, False, "3", b"3", [3], None):
            r = chain.call("f", "run_fib", {"n": bad}, sender="alice", gas_limit=100_000)
            assert r.status == "rejected" and r.gas_used == 0, (bad, r)
            assert f"argument 'n' must be int, not {type(bad).__name__}" in r.error, r.error
            with pytest.raises(InvalidTransaction, match="argument 'n' must be int"):
                chain.query("f", "fib", {"n": bad})
            r = chain.call("p", "via", {"v": bad}, sender="alice", gas_limit=100_000)
            assert r.status == "reverted", (bad, r)
            assert "call rejected" in r.error and "argument 'n' must be int" in r.error, r.error
        r = chain.call("p", "via", {"v": 12}, sender="alice", gas_limit=100_000)
        assert (r.status, r.result) == ("success", 144), r
        # a missing int argument is refused too (no default: it cannot be omitted)
        r = chain.call("f", "run_fib", {}, sender="alice", gas_limit=100_000)
        assert r.status == "rejected" and "missing argument 'n'" in r.error, r


# ---- the fast path agrees with the unproven one

def _fib(k):
    return k if k < 2 else _fib(k - 1) + _fib(k - 2)


def test_an_in_module_str_call_drops_the_fact_with_the_same_results_and_gas():
    # an unused function calling fib with a str: fib's n (and so fib_rec's k) stay unproven
    unproven = FIB + ("\n@public\ndef never() -> str:\n    try:\n        return fib('a')\n"
                      "    except TypeError as e:\n        return str(e)\n")
    assert _facts(unproven)[1] == {}
    assert "_pc_T(" in _fn_code(_rewritten(unproven), "_pc_rec_fib_rec")
    fast = [run(contract(FIB), "fib", n=n) for n in (0, 1, 2, 15)]
    slow = [run(contract(unproven), "fib", n=n) for n in (0, 1, 2, 15)]
    assert [o.result for o in fast] == [o.result for o in slow] == [0, 1, 1, 610]
    # the extra def costs its weight at module level (every call runs the module code)
    assert {s.gas_used - f.gas_used for f, s in zip(fast, slow)} == {4}
    # pinned: changing these means the gas schedule changed (it must not, here)
    assert [o.gas_used for o in fast] == PINNED_FIB_GAS
    # and when the str call runs, the error is CPython's (nothing was assumed about it)
    r = run(contract(unproven), "never")
    with pytest.raises(TypeError) as e:
        _fib("a")
    # (the engine shows a builtin exception by its class: messages vary between versions)
    assert r.result == type(e.value).__name__ == "TypeError", r


def test_a_default_drops_the_fact_with_the_same_results_and_gas():
    defaulted = FIB.replace("def fib(n: int)", "def fib(n: int = 7)")
    assert _facts(defaulted)[1] == {}
    fast = [run(contract(FIB), "fib", n=n) for n in (0, 1, 2, 15)]
    slow = [run(contract(defaulted), "fib", n=n) for n in (0, 1, 2, 15)]
    assert [o.result for o in fast] == [o.result for o in slow] == [0, 1, 1, 610]
    # the default's constant adds 1 to the def's weight at module level, nothing else differs
    assert {s.gas_used - f.gas_used for f, s in zip(fast, slow)} == {1}
    assert run(contract(defaulted), "fib").result == 13  # omitted: the default


def test_proven_entry_parameters_keep_errors_and_overflow_like_cpython():
    """Ints from outside have any size up to the contract limit: the proven path keeps the
    range tests, so results past 64 bits and errors (division by zero) match CPython."""
    src = ("def scale(x: int, d: int) -> int:\n    if d == 0:\n        return x // (x - x)\n"
           "    return scale(x * 3 + 1, d - 1)\n\n"
           "@public\ndef main(x: int, d: int) -> int:\n    return scale(x, d) if d >= 0 else x * x\n")
    assert _facts(src)[1] == {"main": {"x", "d"}, "scale": {"x", "d"}}
    unproven = src + "\ndef never() -> int:\n    return main('a', 'b')\n"
    assert _facts(unproven)[1] == {}
    for x, d in ((5, -1), (2**62, -1), (-(2**100), -1)):
        a, b = run(contract(src), x=x, d=d), run(contract(unproven), x=x, d=d)
        assert a.result == b.result == x * x and b.gas_used - a.gas_used == 4, (a, b)
    a, b = run(contract(src), x=7, d=3), run(contract(unproven), x=7, d=3)
    assert a.status == b.status == "reverted" and b.gas_used - a.gas_used == 4, (a, b)
    assert a.error == b.error and a.error.endswith("ZeroDivisionError"), a.error


#: fib(0), fib(1), fib(2), fib(15): the same on main before entry parameters were proven
PINNED_FIB_GAS = [56, 72, 116, 43456]


def test_the_runtime_harness_checks_arguments_like_the_worker():
    """``language_harness.run`` calls the worker's host directly: it must refuse what
    ``check_args`` refuses, or runtime tests would run proven code with facts that fail."""
    for bad in (True, "3", [3]):
        r = run(contract(FIB), "fib", n=bad)
        assert (r.status, r.gas_used) == ("rejected", 0), r
        assert "argument 'n' must be int" in r.error
    assert run(contract(FIB), "fib", n=20).result == _fib(20)
