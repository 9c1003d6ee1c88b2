"""Schedule 6 charge placement: a block's charge moves to the earliest point from which the
block is always reached (the cheaper branch's first charge to the branch point; the block after
an if/loop/def without return to the block before it; after ``if c: <jump>`` the cheaper side).
Every path that ends normally pays exactly what it paid before; only what is paid before an
exception (a revert, a caught exception) or where out of gas is detected changes."""

from __future__ import annotations

import ast

import pytest

from pycontract import vetting
from pycontract.metering import compiler
from pycontract.metering import rewriter as gas_rewriter

import language_harness as _h

contract, run = _h.contract, _h.run


def rewritten(src: str) -> str:
    return ast.unparse(gas_rewriter.rewrite(vetting.vet(src, "c").tree))


def both(monkeypatch, src, **kw):
    """(placed, not placed) outcomes: status, result, error, gas_used."""
    def outcome():
        o = run(src, **kw)
        return o.status, o.result, o.error, o.gas_used
    compiler.clear_cache()
    a = outcome()
    with monkeypatch.context() as mp:
        mp.setattr(gas_rewriter.GasRewriter, "HOIST", False)
        mp.setattr(gas_rewriter.GasRewriter, "PREPAY_RANGE_LOOPS", False)
        compiler.clear_cache()
        try:
            b = outcome()
        finally:
            compiler.clear_cache()
    return a, b


BRANCHY = contract(
    "def f(x):\n"
    "    if x < 2:\n"
    "        return x\n"
    "    y = x * 3\n"
    "    if y % 2 == 0:\n"
    "        y = y + 1\n"
    "        z = y - 4\n"
    "    elif y % 3 == 0:\n"
    "        z = y\n"
    "    else:\n"
    "        z = 0\n"
    "        for i in range(3):\n"
    "            if i == 1:\n"
    "                continue\n"
    "            z += i\n"
    "    w = z + 1\n"
    "    while w > 100:\n"
    "        w = w // 2\n"
    "        if w == 7:\n"
    "            break\n"
    "    else:\n"
    "        w += 1\n"
    "    return w\n\n"
    "@public\n"
    "def main(n: int) -> int:\n"
    "    s = 0\n"
    "    for i in range(n):\n"
    "        s += f(i)\n"
    "    return s\n"
)


def test_fewer_charges_on_the_common_paths():
    out = rewritten(BRANCHY)
    fdef = out[out.index("def f(x):"):out.index("def main(")].split("\n    finally:")[0]
    # before: entry, after the first return, 3 branches, the elif header, for top, after the
    # if/elif/else, while top, else, return: now the first return's side moved to the entry
    assert fdef.count("_pc_m.g -=") <= 9
    # `if x < 2: return x` pays nothing of its own: the cheaper side is charged at entry
    head = fdef[fdef.index("if x < 2:"):]
    assert head.split("\n")[1].strip() == "return x"


@pytest.mark.parametrize("n", [0, 1, 2, 5, 40])
def test_normal_paths_pay_what_they_paid(monkeypatch, n):
    a, b = both(monkeypatch, BRANCHY, n=n)
    assert a == b and a[0] == "success"


@pytest.mark.parametrize("name", sorted(__import__("test_gas").PROGRAMS))
def test_pinned_programs_unchanged(monkeypatch, name):
    import test_gas
    src, args = test_gas.PROGRAMS[name]
    a, b = both(monkeypatch, contract(src), **args)
    assert a == b


RAISES = contract(
    "@public\n"
    "def main(x: int) -> int:\n"
    "    if 10 // x > 1:\n"
    "        a = x + 1\n"
    "        b = a + 2\n"
    "        return b\n"
    "    else:\n"
    "        return 0\n"
)


def test_exception_between_branch_point_and_branch_pays_the_cheaper_side(monkeypatch):
    # the else branch's block (Return + Constant = 2) is paid at the branch point now, so a
    # ZeroDivisionError in the test costs 2 more; both branches' totals are unchanged
    got, before = both(monkeypatch, RAISES, x=0)
    assert got[:3] == before[:3] == ("reverted", None, "c:4: ZeroDivisionError")
    assert got[3] - before[3] == 2
    assert got[3] == 22  # pinned (schedule 6; the harness runs without the intrinsic cost)
    for x in (1, 20):
        a, b = both(monkeypatch, RAISES, x=x)
        assert a == b and a[0] == "success"


CAUGHT = contract(
    "@public\n"
    "def main(x: int) -> int:\n"
    "    k = 0\n"
    "    try:\n"
    "        for i in range(3):\n"
    "            k += 10 // (x - i)\n"
    "        k += 1\n"
    "        k += 2\n"
    "    except ZeroDivisionError:\n"
    "        k = -1\n"
    "    return k\n"
)


def test_block_after_a_loop_is_paid_before_it(monkeypatch):
    # `k += 1; k += 2` after the loop is paid with the loop's header block: a caught exception
    # in the loop skips it but has paid it (deterministically)
    got, before = both(monkeypatch, CAUGHT, x=1)
    assert got[:3] == before[:3] == ("success", -1, None)
    assert got[3] > before[3]
    a, b = both(monkeypatch, CAUGHT, x=10)
    assert a == b


def test_loop_top_keeps_its_test():
    out = rewritten(contract("@public\ndef main() -> int:\n    while True:\n        continue\n"))
    top = [line.strip() for line in out.split("while True:")[1].split("\n")[1:3]]
    assert top == ["_pc_m.g -= 4", "if _pc_m.g < 0:"]


LOOP = contract(
    "@public\n"
    "def main(n: int, bad: int) -> int:\n"
    "    s = 0\n"
    "    for i in range(n):\n"
    "        if i % 3 == 0:\n"
    "            continue\n"
    "        s += 10 // (i - bad)\n"
    "        for j in range(i):\n"
    "            if j == 2:\n"
    "                break\n"
    "            s += j\n"
    "    return s\n"
)


def test_range_loop_without_break_or_return_is_paid_up_front():
    out = rewritten(LOOP)
    assert "for i in _pc_rng(range(n), " in out
    assert "for j in _getiter_(range(i)):" in out  # it can break: paid per iteration


@pytest.mark.parametrize("n", [0, 1, 7, 50])
def test_range_loop_paid_up_front_costs_the_same(monkeypatch, n):
    a, b = both(monkeypatch, LOOP, n=n, bad=-1)
    assert a == b and a[0] == "success"


def test_range_loop_interrupted_by_an_exception_has_paid_every_iteration(monkeypatch):
    got, before = both(monkeypatch, LOOP, n=50, bad=4)
    assert got[:3] == before[:3] == ("reverted", None, "c:8: ZeroDivisionError")
    assert got[3] > before[3]


def test_revert_inside_a_range_too_long_to_pay_keeps_its_message(monkeypatch):
    """A range loop that costs more than the gas left is charged per iteration (as under 5),
    so a revert inside it ends the transaction with its own message, not out of gas at once
    (the lead's review of the up-front rule: a gas limit covering the work up to the revert
    must still see the revert)."""
    src = contract("@public\ndef main(n: int) -> int:\n    s = 0\n    for i in range(n):\n"
                   "        s += 1\n        require(i < 5, 'stop at five')\n    return s\n")
    got, before = both(monkeypatch, src, gas=20_000, n=10**6)
    assert got[:3] == before[:3] == ("reverted", None, "c:7: stop at five")
    got, before = both(monkeypatch, src, gas=20_000, n=100)  # affordable: paid up front
    assert got[:3] == before[:3] and got[3] > before[3]


def test_range_too_long_to_pay_ends_at_the_loop(monkeypatch):
    src = contract("@public\ndef main(n: int) -> int:\n    s = 0\n    for i in range(n):\n"
                   "        s += 1\n    return s\n")
    for n in (10**6, 10**30):
        got, before = both(monkeypatch, src, gas=20_000, n=n)
        assert got == ("out_of_gas", None, "c:5: out of gas", 20_000)  # the for line
        assert before[0] == "out_of_gas" and before[3] == 20_000
    assert both(monkeypatch, src, n=100)[0][:2] == ("success", 100)
