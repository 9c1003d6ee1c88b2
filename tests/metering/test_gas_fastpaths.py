"""The rewriter's inline fast paths (exact-int compares, direct indexing, direct list stores,
flat tuple unpacking) must give the same results, errors and gas as the guarded helpers, and
must fall back to the helpers for every other type. Also: ``-`` is charged like ``+``."""

from __future__ import annotations

import pytest  # noqa: F401

import language_harness as _h
contract, run = _h.contract, _h.run
MEM = "memory limit exceeded (134217728 bytes per transaction)"


def test_sub_doubling_is_charged_and_capped_by_gas():
    # x - (0 - x) doubles x: before schedule 2 it was inline and free, so a loop of it did
    # quadratic uncharged work; now it is charged like + and stops at the gas limit quickly
    src = contract("@public\ndef main() -> int:\n    x = 1\n    while True:\n        y = 0 - x\n"
                   "        x = x - y\n")
    # every big-int result is also accounted as memory (cumulative), so since the big-int
    # memory rule the 128 MiB per-transaction limit stops it before the gas does
    out = run(src, gas=2_000_000)
    assert (out.status, out.error) == ("reverted", f"c:6: {MEM}"), out
    src2 = contract("@public\ndef main() -> int:\n    x = 1\n    while True:\n        x -= -x\n")
    out2 = run(src2, gas=2_000_000)
    assert (out2.status, out2.error) == ("reverted", f"c:6: {MEM}"), out2


def test_sub_of_big_ints_costs_like_add():
    add = contract("@public\ndef main() -> int:\n    a = 7 ** 20000\n    b = 3 ** 20000\n"
                   "    c = a + b\n    return 1\n")
    sub = contract("@public\ndef main() -> int:\n    a = 7 ** 20000\n    b = 3 ** 20000\n"
                   "    c = a - b\n    return 1\n")
    small = contract("@public\ndef main() -> int:\n    a = 7\n    b = 3\n    c = a - b\n"
                     "    return c\n")
    assert run(add).gas_used == run(sub).gas_used
    assert run(small).result == 4
    bad = contract("@public\ndef main() -> int:\n    a = 'x'\n    b = 1\n    return a - b\n")
    assert run(bad).error == "c:6: TypeError"


def test_inline_compare_falls_back_for_non_ints():
    src = contract("@public\ndef main(a: str, b: str) -> bool:\n    return a < b\n")
    short = run(src, a="a", b="b")
    long = run(src, a="a" * 16000, b="a" * 16000)
    assert short.result is True and long.result is False
    assert long.gas_used - short.gas_used == 1000  # min(len)/16 charged by the helper
    bools = contract("@public\ndef main(a: bool, b: int) -> bool:\n    return a < b\n")
    assert run(bools, a=True, b=2).result is True
    mixed = contract("@public\ndef main(a: int, b: str) -> bool:\n    return a < b\n")
    assert run(mixed, a=1, b="x").error == "c:4: TypeError"


def test_inline_index_and_store_fall_back_for_other_types():
    src = contract(
        "m = Map(default=0)\n\n@public\ndef main(k: str, i: int) -> list:\n"
        "    l = [0, 1, 2]\n    d = {'a': 5}\n    t = (7, 8)\n    s = 'xyz'\n"
        "    m[k] = 3\n    l[i] = 9\n    d[k] = 4\n    b = b'ab'\n"
        "    return [l[i], d[k], t[i], s[i], m[k], b[i], l[True], d['a']]\n")
    out = run(src, k="a", i=1)
    assert out.status == "success", out
    assert out.result == [9, 4, 8, "y", 3, 98, 9, 4]
    bad = contract("@public\ndef main() -> int:\n    l = [1]\n    k = 'x'\n    return l[k]\n")
    assert run(bad).error == "c:6: TypeError"
    oob = contract("@public\ndef main() -> int:\n    l = [1]\n    i = 5\n    l[i] = 2\n    return 0\n")
    assert run(oob).error == "c:6: IndexError"


def test_inline_store_evaluates_value_first_once():
    src = contract(
        "def f(l: list) -> int:\n    l.append(1)\n    return len(l)\n\n"
        "@public\ndef main() -> list:\n    l = [0, 0, 0]\n    i = 0\n    l[i] = f(l)\n"
        "    return l\n")
    assert run(src).result == [4, 0, 0, 1]


def test_flat_unpack_charges_statically_and_refuses_bad_shapes():
    src = contract("@public\ndef main(x: list) -> int:\n    a, b = x\n    t = 0\n"
                   "    for p, q in [(1, 2), (3, 4)]:\n        t += p * q\n"
                   "    return a + b + t + sum([u + v for u, v in [(5, 6)]])\n")
    out = run(src, x=[1, 2])
    assert out.status == "success" and out.result == 3 + 14 + 11
    bad = run(src, x=[1, 2, 3])
    assert bad.error == "c:4: ValueError"
    proxy = contract("m = Map(default=0)\n\n@public\ndef main() -> int:\n    a, b = m\n"
                     "    return 0\n")
    assert run(proxy).error == "c:6: TypeError"
    huge = contract("@public\ndef main() -> int:\n    a, b = range(10 ** 12)\n    return 0\n")
    out = run(huge, gas=100_000)
    assert out.error == "c:4: ValueError" and out.gas_used < 100
