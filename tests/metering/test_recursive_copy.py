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
    return ast.unparse(gas_rewriter.rewrite(vetting.vet(src, "c").tree))


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
    assert "if _pc_d > 200:" in out
    assert "_pc_rec_down(_pc_m.d + 1, " in out  # the function itself calls the copy
    assert "_pc_rec_down(_pc_d + 1, " in out  # and the copy itself


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
