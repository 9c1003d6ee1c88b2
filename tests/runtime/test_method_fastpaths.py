"""Fast paths inside the runtime's method and conversion implementations (``str(int)`` below
64 bits, ``zfill``, ``join``, the key sizes of ``sort``/``sorted``/``min``/``max`` counted in C
for lists of small ints or short text): each charges exactly what the general code charges,
at the boundaries of the ranges it covers, and raises the same errors."""

from __future__ import annotations

import pytest

import language_harness as _h
from pycontract.runtime import Meter
from pycontract.runtime.executor import Runtime
from pycontract.runtime.meter import deep_units

contract, run = _h.contract, _h.run
BIG = 1 << 30  # MAX_GAS_LIMIT, the most a meter may hold


def _units_reference(items):
    """The per-item rule the fast path must reproduce: the deep units of every key."""
    m = Meter(BIG)
    us = [deep_units(x, BIG, m) for x in items]
    return sum(us), max(us)


SIZE_CASES = [
    [0], [0, 0, 0], [1, 0, -1], [5, 3, 9, 1], [2 ** 64 - 1, -(2 ** 64) + 1, 0],
    [2 ** 64, 1], [-(2 ** 64), 0], [2 ** 200, 3], [True, 1], [True, False],
    ["a", "b", ""], ["x" * 15, "y"], ["x" * 16, "y"], ["x" * 40], [b"ab", b""], [b"x" * 16],
    ["a", b"a"], [1, "a"], [[1], 2], [(1, 2), (3,)], [None, None],
]


@pytest.mark.parametrize("items", SIZE_CASES, ids=repr)
def test_key_sizes_match_the_per_item_rule(items):
    rt = Runtime()
    m = Meter(BIG)
    rt.b.m = m
    got = rt.b._sizes_units(list(items))
    assert got == _units_reference(items)
    assert BIG - m.g == got[0]  # charged exactly the total


def test_key_sizes_stop_when_the_gas_runs_out():
    rt = Runtime()
    m = Meter(5)
    rt.b.m = m
    with pytest.raises(BaseException) as e:
        rt.b._sizes_units([1, 2, 3, 4])
    assert type(e.value).__name__ == "RawOutOfGas"


@pytest.mark.parametrize("x", [0, 1, -1, 2 ** 63 - 1, -(2 ** 63) + 1, 2 ** 63, -(2 ** 63),
                               2 ** 64, 10 ** 30, -(10 ** 30)])
def test_str_of_int_charges_like_int_to_dec(x):
    rt = Runtime()
    a, b = Meter(BIG), Meter(BIG)
    rt.ops.m = a
    s1 = rt.ops.str_call(x)
    rt.ops.m = b
    s2 = rt.ops.int_to_dec(x)
    assert s1 == s2 == str(x)
    assert (a.g, a.mem) == (b.g, b.mem)


def test_sorting_gas_is_pinned_for_small_ints_and_short_text():
    src = contract("@public\ndef main(a: list) -> list:\n    a.sort()\n"
                   "    return [a, sorted([str(x) for x in a]), min(a), max(a)]\n")
    small = run(src, a=[5, 0, 3, 9, 2 ** 63])
    assert small.result == [[0, 3, 5, 9, 2 ** 63], ["0", "3", "5", "9", str(2 ** 63)], 0, 2 ** 63]
    # pinned: the figures of schedule 5 before the fast path (main at 218b79b)
    assert small.gas_used == 631
    text = contract("@public\ndef main(a: list) -> list:\n    return sorted(a)\n")
    assert run(text, a=["b", "a", "c"]).gas_used == 103
    assert run(text, a=["b", "a" * 16, "c"]).gas_used == 127
    assert run(text, a=[b"b", b"a" * 16, b"c"]).gas_used == 127
    assert run(text, a=[0, 0, 0]).gas_used == 103
    assert run(text, a=[0, 1, -(2 ** 64) + 1]).gas_used == 143
    assert run(text, a=[2 ** 64, 1]).gas_used == 132
    assert run(text, a=["b", 1]).error == "c:4: TypeError"


def test_zfill_and_join_errors_and_charges():
    src = contract("@public\ndef main(s: str, w, parts: list, sep: str) -> list:\n"
                   "    return [s.zfill(w), sep.join(parts)]\n")
    ok = run(src, s="7", w=True, parts=["a", "bb"], sep="--")
    assert ok.result == ["7", "a--bb"]
    wide = run(src, s="7", w=100, parts=["a", "bb"], sep="--")
    assert wide.result[0] == "0" * 99 + "7"
    assert (ok.gas_used, wide.gas_used) == (86, 194)  # as before the fast path (218b79b)
    assert run(src, s="7", w="3", parts=[], sep="").error == "c:4: TypeError"
    assert run(src, s="7", w=3, parts=["a", b"b"], sep="").error == "c:4: TypeError"
    assert run(src, s="7", w=3, parts=["a", 1], sep="").error == "c:4: TypeError"
    assert run(src, s="7", w=3, parts=[], sep="-").result == ["007", ""]


# ------------------------------------------------ a + str(x) in one helper, f-string fields

CONCAT_CASES = [
    ("acct", 5), ("acct", 0), ("acct", -(2 ** 63) + 1), ("acct", 2 ** 63 - 1), ("acct", 2 ** 63),
    ("acct", -(2 ** 63)), ("acct", 10 ** 40), ("x" * 40, 12), ("acct", "s"), ("acct", None),
    ("acct", True), ("acct", [1, "a"]), (b"acct", 5), (5, 5), ("", 7), (["l"], 1),
]


def _unfused_run(monkeypatch, src, **kw):
    """The contract compiled with ``a + str(x)`` left as ``_pc_add(a, str(x))`` and ``str``
    called as the builtin (as if the module rebound ``str``: no prepaid conversion, so 2 gas
    more per ``str(...)`` call, schedule 6), outside the compile cache."""
    from pycontract.metering import compiler, rewriter
    monkeypatch.setattr(rewriter, "binds_name", lambda module, name: name == "str")
    compiler.clear_cache()
    try:
        return run(src, **kw)
    finally:
        monkeypatch.undo()
        compiler.clear_cache()


@pytest.mark.parametrize("a,x", CONCAT_CASES, ids=repr)
def test_add_str_is_add_of_str(a, x, monkeypatch):
    src = contract("@public\ndef main(a, x) -> list:\n    return [a + str(x), f'{x}', f'{x!s}']\n")
    assert "_pc_add_str(a, x)" in _emitted(src)
    fused = run(src, a=a, x=x)
    plain = _unfused_run(monkeypatch, src, a=a, x=x)
    assert (fused.status, fused.result, fused.error, fused.gas_used) == (
        plain.status, plain.result, plain.error, plain.gas_used - 2)
    try:
        want = [a + str(x), f"{x}", f"{x!s}"]
    except TypeError:
        assert fused.error == "c:4: TypeError"
    else:
        if isinstance(x, list):
            want = [a + "[1, 'a']", "[1, 'a']", "[1, 'a']"]
        assert fused.result == want


def _emitted(src):
    import ast

    from pycontract import vetting
    from pycontract.metering import rewriter
    return ast.unparse(rewriter.rewrite(vetting.vet(src, "c").tree))


def test_add_str_keeps_the_order_and_the_rebound_name():
    src = contract("def f(t: list, v: str) -> str:\n    t.append(v)\n    return v\n\n"
                   "@public\ndef main() -> list:\n    t = []\n    r = f(t, 'a') + str(len(f(t, 'b')))\n"
                   "    return [r, t]\n")
    assert run(src).result == ["a1", ["a", "b"]]
    rebound = contract("def str(x: int) -> int:\n    return x + 1\n\n"
                       "@public\ndef main() -> int:\n    return 1 + str(1)\n")
    assert "_pc_add_str" not in _emitted(rebound)
    assert run(rebound).result == 3


def test_add_str_stops_at_the_gas_and_memory_limits():
    src = contract("@public\ndef main() -> int:\n    t = []\n    for i in range(10 ** 9):\n"
                   "        t.append('acct' + str(i))\n    return 0\n")
    out = run(src, gas=50_000)
    assert (out.status, out.gas_used) == ("out_of_gas", 50_000)
    big = contract("@public\ndef main() -> int:\n    s = 'x' * 100_000_000\n"
                   "    t = s + str(5)\n    u = s + str(6)\n    return 0\n")
    assert run(big, gas=90_000_000).error.endswith("memory limit exceeded (134217728 bytes per "
                                                   "transaction)")


# ------------------------------------------------ str(x) inline (schedule 6: prepaid str_call)

STR_CASES = [0, 7, -7, 2 ** 63 - 1, -(2 ** 63) + 1, 2 ** 63, -(2 ** 63), 10 ** 30, True, None,
             "txt", [1, "a"], {"k": [2]}, b"x"]


@pytest.mark.parametrize("x", STR_CASES, ids=repr)
def test_str_call_totals_match_the_builtin(x, monkeypatch):
    """Inline (small ints) or refunded (everything else): a str(...) call that runs costs what
    the builtin charges (the unfused compile below calls it as a contract function would: no
    prepaid part used, so exactly the static 2 more per call)."""
    src = contract("def f(v) -> str:\n    return str(v)\n\n"
                   "@public\ndef main(x) -> list:\n    i = 0\n    i += 5\n"
                   "    return [str(x), f(x), [str(y) for y in [x]], str(i), str(x + 0 if "
                   "isinstance(x, int) else 1)]\n")
    out = run(src, x=x)
    ref = _unfused_run(monkeypatch, src, x=x)
    assert (out.status, out.result, out.error) == (ref.status, ref.result, ref.error)
    assert out.gas_used == ref.gas_used - 5 * 2
    if out.status == "success":
        want = str(x) if not isinstance(x, bytes) else "b'x'"
        assert out.result[:2] == [want, want]


def test_str_call_forms_that_take_the_helper():
    src = contract("@public\ndef main(b: bytes) -> list:\n    a = [5]\n"
                   "    return [str(), str(b, 'ascii'), str(*a), str(b, encoding='ascii')]\n")
    assert run(src, b=b"hi").result == ["", "hi", "5", "hi"]
    emitted = _emitted(src)
    assert "_pc_str()" in emitted and "_pc_str(b, 'ascii')" in emitted


def test_str_call_weight_is_paid_when_the_call_does_not_run():
    # schedule 6: the 2 gas of str(...) are part of the block's static charge
    ran = contract("@public\ndef main(c: bool) -> str:\n    return 'n' if c else str(5)\n")
    assert run(ran, c=False).gas_used == run(ran, c=True).gas_used  # same block, prepaid
    assert run(ran, c=True).gas_used == 41  # 39 under schedule 5 (the call was paid if run)


def test_inline_str_of_small_ints_is_not_accounted_as_memory():
    inline = contract("@public\ndef main() -> int:\n    t = [str(i) for i in range(1000)]\n"
                      "    return 0\n")
    helper = contract("@public\ndef main() -> int:\n    t = [str(i) for i in list(range(1000))]\n"
                      "    return 0\n")
    a, b = run(inline), run(helper)
    assert "_pc_S(i)" in _emitted(inline)
    # schedule 5: 9,045 gas and 36,064 bytes (20 per str); now the same gas, no str bytes
    assert (a.gas_used, a.meter.mem) == (9_045, 16_064)
    # a comprehension over a list tests the type inline too (its list() accounts 8 per slot)
    assert b.meter.mem - a.meter.mem == 8 * 1000
    big = contract("@public\ndef main() -> int:\n    t = [str(i + 2 ** 70) for i in range(1000)]\n"
                   "    return 0\n")
    assert run(big).meter.mem > a.meter.mem + 1000 * 20
