"""A second randomized comparison of the schedule 7 recursion variants (round-4 attack review),
with statement shapes the first one (``test_recursive_copy.py``) does not generate: ``elif``
chains, ``try/finally``, ``while`` loops, ``assert`` messages, ``raise`` arguments and
bounded operands (``x % 3``, ``f(...) * 3``) next to big ones. It found ``int_inline``
evaluating a later operand before a bounded one in the unbounded copy only (754 against 620
gas on a revert with ``BOUNDED_COPIES`` on and off).

Acceptance, as docs/gas.md "Schedule 7" states it: bounded copies change nothing; the
schedule 6 copy is the uncopied code; a success gives the same result with at least schedule
6's gas (an exception caught inside the recursion may have prepaid calls that never ran); a
failure has the same error, except that the counter is tested elsewhere (out of gas may
become a revert at the whole limit and back), and the depth limit may spare argument charges."""

from __future__ import annotations

import random

import pytest


import language_harness as _h

def _variants(monkeypatch, src, **kw):
    return _h.recursion_variants(monkeypatch, src, **kw)


def _program(rng) -> str:
    def call():
        return rng.choice(["f(n - 1, m)", "f(n - 2, m + 1)", "f(n // 2, m - n)",
                           "f(n - 1, 3 * m + 1)", "f(n - 1, m % 4)", "f(0, m)"])

    def ex(d=0):
        r = rng.random()
        if d > 2 or r < 0.3:
            return rng.choice(["n", "m", "k", "1", "(m % 3)", "-m", "~n"])
        if r < 0.5:
            return call()
        if r < 0.6:
            return f"({ex(d + 1)} if {ex(d + 1)} > 1 else {ex(d + 1)})"
        if r < 0.7:
            return f"(10 // ({ex(d + 1)} - {rng.randint(0, 2)}))"
        left, op = ex(d + 1), rng.choice(['+', '-', '*', '&', '^', '>>'])
        right = ex(d + 1) if rng.random() < .5 else rng.randint(0, 3)
        return f"({left} {op} {right})"

    def stmt():
        t = rng.random()
        if t < 0.25:
            return [f"k = k + {ex()}"]
        if t < 0.4:
            return [f"if {ex()} > {rng.randint(0, 4)}:", f"    k = {ex()}",
                    f"elif {ex()} < 0:", f"    return {ex()}"]
        if t < 0.5:
            return ["try:", f"    k = {ex()}", "finally:", f"    k = k + {ex()}"]
        if t < 0.6:
            return ["try:", f"    k = {ex()}", "except ZeroDivisionError:", f"    k = {ex()}"]
        if t < 0.7:
            return ["j = 0", f"while j < 2 and {ex()} > -5:", "    j += 1", f"    k = k ^ {ex()}"]
        if t < 0.8:
            return [f"assert {ex()} != 777, {ex()}"]
        if t < 0.9:
            return [f"if {ex()} == 12345:", f"    raise ValueError({ex()})"]
        return [f"k -= {ex()}"]
    lines = ["if n <= 0:", "    return m % 5", "k = 0"]
    for _ in range(rng.randint(1, 4)):
        lines += stmt()
    lines.append(f"return (k + {ex()}) % 1000003")
    return _h.contract("def f(n, m):\n" + "".join(f"    {x}\n" for x in lines)
                       + "\n@public\ndef main(n: int, m: int) -> int:\n    return f(n, m)\n")


@pytest.mark.parametrize("seed", [4, 7])
def test_random_recursions_agree_across_the_variants(monkeypatch, seed):
    rng = random.Random(seed)
    for _ in range(16):
        src = _program(rng)
        for n, m, gas in ((rng.randint(0, 10), rng.randint(-5, 5), rng.choice([300, 3000, 10**6])),
                          (rng.randint(0, 8), 2**70 + 1, 10**6),
                          (rng.randint(150, 260), 1, 10**6)):
            v = _variants(monkeypatch, src, n=n, m=m, gas=gas)
            full, s6 = v["full"], v["none"]
            assert full == v["unbounded"], (src, n, m, gas, v)
            assert v["s6"] == s6, (src, n, m, gas, v)
            if "success" in (full[0], s6[0]):
                assert full[:3] == s6[:3] and full[3] >= s6[3], (src, n, m, gas, v)
            elif full[0] != s6[0]:
                assert full[0] == "out_of_gas" or full[3] == gas, (src, n, m, gas, v)
            elif "call depth" not in (full[2] or "") and n < 150:
                if full[0] == "reverted":
                    assert full[2] == s6[2], (src, n, m, gas, v)
                assert full[3] >= s6[3], (src, n, m, gas, v)
