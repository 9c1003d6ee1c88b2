"""Type facts the rewriter proves (issue 12): local names that can only hold ints lose their
type tests, and ``+``/``-`` of two of them is done inline while both have at most 63 bits. The
proof must be sound (a name that can hold anything else keeps the guarded path) and the gas the
same as through the sizing helpers."""

from __future__ import annotations

import ast

import language_harness as _h

from pycontract import vetting
from pycontract.metering import rewriter

contract, run = _h.contract, _h.run


def facts(src: str, fn: str) -> frozenset:
    tree = vetting.vet(contract(src), "c").tree
    f = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fn)
    return rewriter.int_locals(f, not rewriter.binds_range(tree))


def test_what_is_proven_int():
    src = ("@public\ndef main(n: int) -> int:\n    a = 0\n    b = a * 3 + 1\n    for i in range(n):\n"
           "        a += i & 7\n        b -= a\n    c = n\n    s = ''\n    s += 'x'\n"
           "    x, y = 1, 2\n    for j in [1, 2]:\n        pass\n    w = 0\n    w = len(s)\n"
           "    return a + b + c\n")
    assert facts(src, "main") == {"a", "b", "i"}


def test_rebinding_range_or_the_name_disproves():
    src = ("def range(n: int) -> list:\n    return ['a']\n\n@public\ndef main() -> int:\n"
           "    t = 0\n    for i in range(3):\n        t = t + i\n    return t\n")
    assert "i" not in facts(src, "main")
    assert run(contract(src)).error == "c:9: TypeError"  # 0 + 'a' through the helper
    src2 = ("@public\ndef main() -> int:\n    t = 0\n    for t in [1]:\n        pass\n"
            "    try:\n        k = 1\n    except ValueError as k:\n        pass\n    return t\n")
    assert facts(src2, "main") == frozenset()


def test_comprehension_variables_shadow_proven_names():
    src = ("@public\ndef main() -> list:\n    i = 0\n    i += 1\n"
           "    return [i + i for i in ['a', 'b']] + [i + i]\n")
    assert "i" in facts(src, "main")
    assert run(contract(src)).result == ["aa", "bb", 2]


def test_inline_int_add_matches_the_helper_in_gas_and_result():
    # the same arithmetic with proven ints (inline) and through a parameter (helper)
    proven = ("@public\ndef main(n: int) -> int:\n    t = 0\n    k = 0\n    for i in range(n):\n"
              "        k = i\n        t += k\n        t = t - i + k\n    return t\n")
    helper = ("@public\ndef main(n: int) -> int:\n    t = 0\n    k = 0\n    for i in range(n):\n"
              "        k = i\n        t += k\n        t = t - i + k\n    return t\n")
    helper = helper.replace("    t = 0\n", "    t = n - n\n", 1)  # n - n: t may not be proven
    assert "t" in facts(proven, "main") and "t" not in facts(helper, "main")
    a, b = run(contract(proven), n=300), run(contract(helper), n=300)
    assert a.result == b.result == sum(range(300))
    # only the first statement differs (static weight): the per-iteration gas is the same
    a0, b0 = run(contract(proven), n=0), run(contract(helper), n=0)
    assert a.gas_used - a0.gas_used == b.gas_used - b0.gas_used


def test_big_proven_ints_still_go_through_the_helper():
    # 2**63 is outside the inline range: the helper charges and accounts memory as before
    src = ("@public\ndef main() -> int:\n    a = 1 << 62\n    a += a\n    b = a\n"
           "    for i in range(20):\n        b += b\n        b = b + b\n    return b.bit_length()\n")
    out = run(contract(src))
    assert out.status == "success" and out.result == 104
    big = ("@public\ndef main() -> int:\n    a = 1 << 20000\n    while True:\n        a += a\n")
    out = run(contract(big), gas=2_000_000)
    assert out.status in ("reverted", "out_of_gas"), out
