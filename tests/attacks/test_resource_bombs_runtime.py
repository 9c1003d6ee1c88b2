"""Resource bombs: each must end with an exact, engine-defined outcome, bounded by gas or by a
documented engine limit (never MemoryError, RecursionError, a timer or a crash)."""

from __future__ import annotations

import pytest

import language_harness as _h
contract, run = _h.contract, _h.run


GAS = 2_000_000
OOG = ("out_of_gas", None)


def rev(msg):
    return ("reverted", msg)


INT_CAP = "int too large (limit 65536 bits)"
NEST = "containers nested more than 64 levels deep"
KEY_NEST = "key tuples nested more than 64 levels deep"
OK = ("success", None)
LAZY = "iterator nesting depth limit of 64 exceeded"
DEEP = "call depth limit of 200 exceeded"
MEM = "memory limit exceeded (134217728 bytes per transaction)"

# (id, body of main() (4-space indented lines joined by \n), expected (status, message))
# the message is the part after "c:LINE: "; for out_of_gas it is "out of gas"
BOMBS = [
    ("str_repeat", "return len('a' * 10**10)", OOG),
    ("bytes_repeat", "return len(b'a' * 10**10)", OOG),
    ("list_repeat", "return len([0] * 10**10)", OOG),
    ("tuple_repeat_rev", "return len(10**10 * (1, 2))", OOG),
    ("pow_tower", "return 10**10**8", rev(INT_CAP)),
    ("pow3_huge_modulus", "return pow(3, 2**8191, 2**1048575 + 1)", rev(INT_CAP)),
    ("pow3_cap_modulus", "return pow(3, 2**60000, 2**65000 + 1)", OOG),
    ("pow_builtin", "return pow(7, 10**9)", rev(INT_CAP)),
    ("lshift", "return 1 << 10**9", rev(INT_CAP)),
    ("fstring_width", "return f'{1:>{10**10}}'", rev("format width or precision above 1048576")),
    ("fstring_precision", "return f'{\"a\":.{10**9}}'", rev("format width or precision above 1048576")),
    ("fstring_wide_ok_but_costly", "s = ''\n    for i in range(10**6):\n        s = f'{s:>{1000000}}'\n    return 0", OOG),
    ("percent_width", "return '%*d' % (10**9, 1)", rev("format width or precision above 1048576")),
    ("sorted_range", "return len(sorted(range(10**9)))", OOG),
    ("sum_range", "return sum(range(10**12))", OOG),
    ("sum_genexp", "return sum(x for x in range(10**12))", OOG),
    # hash flooding: keys whose hashes a contract can choose to collide are refused on insert
    # (a range loop is paid up front since schedule 6: 10**4 iterations fit the gas limit)
    ("dict_int_collisions", "d = {}\n    for i in range(10**4):\n        d[i * (2**61 - 1)] = i\n    return 0",
     rev("dict keys that are ints must lie within +-(2**61 - 1)")),
    ("dict_display_int_collisions", "k = 2**61 - 1\n    return len({k: 1})",
     rev("dict keys that are ints must lie within +-(2**61 - 1)")),
    # tuple keys are accepted (issue #13); colliding ones pay for their probes (test below)
    ("dictcomp_tuple_keys", "return len({(i, 0): i for i in range(10**4)})", OK),
    # schedule 2: a dict/list comprehension over a range is charged up front: stops at once
    ("dictcomp_range_upfront", "return len({i: i for i in range(10**6)})", OOG),
    ("listcomp_growing_list", "l = [1]\n    return len([l.append(x) for x in l])", OOG),
    ("dict_tuple_key_store", "d = {}\n    d[1, 2] = 3\n    return 0", OK),
    ("setdefault_tuple_key", "d = {}\n    d.setdefault((1, 2), 3)\n    return 0", OK),
    ("dict_pairs_big_int", "return len(dict([(2**70, 1)]))",
     rev("dict keys that are ints must lie within +-(2**61 - 1)")),
    ("any_lazy", "return any(x > 10**13 for x in range(10**12))", OOG),
    ("list_range", "return len(list(range(10**12)))", OOG),
    ("max_map", "return max(map(abs, range(10**12)))", OOG),
    ("square_loop", "x = 3\n    while True:\n        x = x * x", rev(INT_CAP)),
    ("double_list_loop", "l = [1]\n    while True:\n        l = l + l", OOG),
    ("double_str_loop", "s = 'ab'\n    while True:\n        s += s", OOG),
    ("str_of_huge", "x = 7 ** 20000\n    return len(str(x))", ("success", None)),
    ("int_of_long_text", "return int('9' * 100000)", rev(INT_CAP)),
    ("fstring_huge_int", "return len(f'{7 ** 20000}')", ("success", None)),
    ("tuple_nesting_key", "t = ()\n    for i in range(1000):\n        t = (t,)\n    d = {}\n    d[t] = 1\n    return 1",
     rev(KEY_NEST)),
    ("tuple_nesting_in", "t = ()\n    for i in range(1000):\n        t = (t,)\n    return t in {}",
     rev("key tuples nested more than 64 levels deep")),
    ("tuple_nesting_display", "t = ()\n    for i in range(1000):\n        t = (t,)\n    return len({t: 1})",
     rev(KEY_NEST)),
    ("list_nesting_compare", "a = []\n    b = []\n    for i in range(1000):\n        a = [a]\n        b = [b]\n    return a == b", rev(NEST)),
    ("list_nesting_str", "a = []\n    for i in range(1000):\n        a = [a]\n    return str(a)", rev(NEST)),
    ("self_reference_str", "a = []\n    a.append(a)\n    return str(a)", rev(NEST)),
    ("deep_recursion", None, rev("call depth limit of 200 exceeded")),
    ("finally_loop_after_oog", "try:\n        while True:\n            pass\n    finally:\n        while True:\n            pass", OOG),
    ("except_around_oog", "n = 0\n    while True:\n        try:\n            while True:\n                n += 1\n        except Exception:\n            n = 0", OOG),
    ("finally_return_swallows_oog", "try:\n        while True:\n            pass\n    finally:\n        return 1", OOG),
    ("finally_return_swallows_revert", "try:\n        revert('no')\n    finally:\n        return 1", rev("no")),
    ("join_huge", "return len(' '.join(['ab'] * 10**7))", OOG),
    ("join_genexp", "return len(''.join('x' for i in range(10**12)))", OOG),
    ("ljust_huge", "return len('x'.ljust(10**10))", OOG),
    ("zfill_huge", "return len('1'.zfill(10**10))", OOG),
    ("replace_blowup", "s = 'a' * 10000\n    return len(s.replace('', s))", OOG),
    ("split_many", "s = ',' * 10**6\n    t = s\n    for i in range(100):\n        t = s.split(',')\n    return 0", OOG),
    ("in_huge_list", "l = [0] * 10**6\n    while True:\n        if -1 in l:\n            return 0", OOG),
    ("compare_big_strings", "a = 'x' * 10**6\n    b = 'x' * 10**6\n    while True:\n        if a == b:\n            a = a", OOG),
    ("compare_big_lists", "a = list(range(10**5))\n    b = list(range(10**5))\n    while True:\n        if a < b:\n            a = a", OOG),
    ("sorted_long_strings", "l = ['x' * 10**5 + str(i) for i in range(300)]\n    return len(sorted(l))", OOG),
    ("star_unpack", "return len([*range(10**12)])", OOG),
    ("star_call", "return max(*range(10**12))", OOG),
    ("dict_of_range", "return len(dict(enumerate(range(10**12))))", OOG),
    ("comprehension_bomb", "return len([i for i in range(10**12)])", OOG),
    ("nested_comprehension", "return len([(i, j) for i in range(10**6) for j in range(10**6)])", OOG),
    ("bytes_of_int", "return len(bytes(10**10))", OOG),
    ("to_bytes_huge", "return len((1).to_bytes(10**9, 'big'))", rev(INT_CAP)),
    ("from_bytes_huge", "return int.from_bytes(b'\\xff' * 10**5, 'big')", rev(INT_CAP)),
    ("list_extend_loop", "l = [1]\n    while True:\n        l.extend(l)", OOG),
    ("min_empty", "return min([])", rev("ValueError")),
    ("mul_huge_ints", "x = 7 ** 9000\n    y = 7 ** 9000\n    while True:\n        z = x * y", OOG),
    ("divmod_huge", "x = 7 ** 20000\n    while True:\n        z = divmod(x, 12345)", OOG),
    ("mod_huge", "x = 7 ** 20000\n    while True:\n        z = x % (x // 3 + 1)", OOG),
    # lazy iterators: C-level nesting refused when built (static depth), nesting hidden in
    # containers or inner clauses counted into the call depth while drawn
    ("map_chain", "m = [1]\n    for i in range(90000):\n        m = map(abs, m)\n    return len(list(m))", rev(LAZY)),
    ("filter_chain", "m = [1]\n    for i in range(90000):\n        m = filter(None, m)\n    return len(list(m))", rev(LAZY)),
    ("zip_chain", "m = [1]\n    for i in range(90000):\n        m = zip(m)\n    return len(list(m))", rev(LAZY)),
    ("enumerate_chain", "m = [1]\n    for i in range(90000):\n        m = enumerate(m)\n    return len(list(m))", rev(LAZY)),
    ("genexp_chain", "m = [1]\n    for i in range(15000):\n        m = (x for x in m)\n    return len(list(m))", rev(LAZY)),
    ("genexp_map_chain", "m = [1]\n    for i in range(15000):\n        m = map(abs, (x for x in m))\n    return len(list(m))", rev(LAZY)),
    ("map_chain_64_ok", "m = [1]\n    for i in range(64):\n        m = map(abs, m)\n    return len(list(m))", ("success", None)),
    ("genexp_chain_64_ok", "m = [1]\n    for i in range(64):\n        m = (x for x in m)\n    return len(list(m))", ("success", None)),
    ("map_list_hidden_chain", "m = [1]\n    for i in range(90000):\n        m = map(list, [m])\n    return len(list(m))", rev(DEEP)),
    ("genexp_inner_clause_chain", "m = [1]\n    for i in range(90000):\n        m = (y for a in [m] for y in a)\n    return len(list(m))", rev(DEEP)),
    ("genexp_unpack_chain", "m = [1, 2]\n    for i in range(90000):\n        m = (a for a, b in [m, m])\n    return len(list(m))", rev(DEEP)),
    ("big_int_memory[-big]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(-big)", rev(MEM)),
    ("big_int_memory[~big]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(~big)", rev(MEM)),
    ("big_int_memory[+big]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(+big)", rev(MEM)),
    ("big_int_memory[big & big]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big & big)", rev(MEM)),
    ("big_int_memory[big ^ 1]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big ^ 1)", rev(MEM)),
    ("big_int_memory[big | 1]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big | 1)", rev(MEM)),
    ("big_int_memory[big >> 1]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big >> 1)", rev(MEM)),
    ("big_int_memory[big + 1]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big + 1)", rev(MEM)),
    ("big_int_memory[big - 1]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big - 1)", rev(MEM)),
    ("big_int_memory[big // 3]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big // 3)", OOG),
    ("big_int_memory[abs(big)]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(abs(big))", rev(MEM)),
    ("big_int_memory[1 - big]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(1 - big)", rev(MEM)),
    ("big_int_memory[big * 1]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big * 1)", rev(MEM)),
    ("big_int_memory[big << 1]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big << 1)", rev(MEM)),
    ("big_int_memory[big % (big - 1)]", "big = 7 ** 23000\n    l = []\n    while True:\n        l.append(big % (big - 1))", OOG),
    ("big_int_memory[x -= 1]", "x = 7 ** 23000\n    l = []\n    while True:\n        x -= 1\n        l.append(x)", rev(MEM)),
    ("big_int_memory[x ^= 1]", "x = 7 ** 23000\n    l = []\n    while True:\n        x ^= 1\n        l.append(x)", rev(MEM)),
    ("big_int_memory[d[k] += 1]", "d = {'k': 7 ** 23000}\n    l = []\n    while True:\n        d['k'] += 1\n        l.append(d['k'])", rev(MEM)),
    ("big_int_memory[caught]", "big = 7 ** 23000\n    l = []\n    try:\n        while True:\n            l.append(-big)\n    except Exception:\n        return 0", rev(MEM)),
    ("for_loop_hidden_chain", "m = [1]\n    for i in range(90000):\n        m = (z for z in [m] for q in z)\n    for x in m:\n        pass\n    return 0", rev(DEEP)),
]


@pytest.mark.parametrize("name,body,expected", BOMBS, ids=[b[0] for b in BOMBS])
def test_bomb(name, body, expected):
    if body is None:
        src = contract("def f(n):\n    return f(n + 1)\n\n@public\ndef main() -> int:\n    return f(0)\n")
    else:
        src = contract(f"@public\ndef main() -> int:\n    {body}\n")
    out = run(src, gas=GAS)
    status, msg = expected
    assert out.status == status, out
    if status == "out_of_gas":
        assert out.gas_used == GAS
        assert out.error.endswith(": out of gas"), out
    elif status == "reverted":
        assert out.error.split(": ", 1)[1] == msg, out
        assert out.gas_used < GAS
    else:
        assert out.gas_used < GAS


def test_memory_limit_is_deterministic_revert():
    # with a very large gas limit the per-transaction memory cap stops the doubling first
    src = contract("@public\ndef main() -> int:\n    s = 'ab'\n    while True:\n        s = s + s\n")
    out = run(src, gas=10**9)
    assert (out.status, out.error) == ("reverted", f"c:6: {MEM}")
    again = run(src, gas=10**9)
    assert again.gas_used == out.gas_used


def test_storage_bomb_huge_value():
    src = contract("big = Value(default='')\n\n@public\ndef main() -> int:\n    big.set('x' * 10**6)\n    return 1\n")
    out = run(src, gas=GAS)
    assert out.status == "out_of_gas" and out.gas_used == GAS


def test_storage_bomb_many_keys():
    src = contract("m = Map(default=0)\n\n@public\ndef main() -> int:\n    i = 0\n    while True:\n        m[i] = 1\n        i += 1\n")
    out = run(src, gas=GAS)
    assert out.status == "out_of_gas" and out.gas_used == GAS


def test_event_bomb():
    src = contract("@public\ndef main() -> int:\n    while True:\n        emit('E', data='x' * 10**4)\n")
    out = run(src, gas=GAS)
    assert out.status == "out_of_gas" and out.gas_used == GAS


def test_recursion_error_cannot_be_caught(monkeypatch):
    # the engine's limits keep contracts far below the interpreter's recursion limit; should a
    # RecursionError (or MemoryError) happen anyway, ``except Exception`` cannot observe it
    from pycontract.runtime import executor as runtime
    monkeypatch.setattr(runtime, "_RECURSION_LIMIT", 80)
    src = contract("def r(n):\n    return r(n + 1)\n\n@public\ndef main() -> int:\n    try:\n"
                   "        return r(0)\n    except Exception as e:\n        return len(str(e))\n"
                   "    finally:\n        return 1\n")
    out = run(src, gas=GAS)
    # schedule 5: the finally block's charge no longer tests the counter (only function entries
    # and loop heads do), so the sticky abort resurfaces when main returns: its line (6), not
    # the finally's (12); still reverted, still RecursionError
    assert (out.status, out.error) == ("reverted", "c:6: RecursionError"), out


@pytest.mark.parametrize("expr,value", [
    ("-x", -(7 ** 30)), ("~x", ~(7 ** 30)), ("+x", 7 ** 30), ("x & y", (7 ** 30) & (3 ** 50)),
    ("x ^ y", (7 ** 30) ^ (3 ** 50)), ("x >> 3", (7 ** 30) >> 3), ("x + 1", 7 ** 30 + 1),
    ("x - 1", 7 ** 30 - 1), ("1 - x", 1 - 7 ** 30), ("x // 7", 7 ** 29), ("y >> 200", 0),
    ("-(x * y)", -(7 ** 30 * 3 ** 50)), ("~(x * y) & -1", ~(7 ** 30 * 3 ** 50)),
])
def test_linear_int_ops_values_small_and_big(expr, value):
    # x = 7**30 (85 bits) and y = 3**50 (80 bits) are above 2**64: the sized helpers
    src = contract(f"@public\ndef main() -> int:\n    x = 7 ** 30\n    y = 3 ** 50\n    return {expr}\n")
    out = run(src, gas=GAS)
    assert (out.status, out.result) == ("success", value), out
    small = contract(f"@public\ndef main() -> int:\n    x = 7 ** 20\n    y = 3 ** 30\n    return {expr}\n")
    out = run(small, gas=GAS)
    assert out.status == "success" and out.result == eval(expr, {"x": 7 ** 20, "y": 3 ** 30}), out


@pytest.mark.parametrize("expr", ["-s", "~s", "s & 1", "s ^ 1", "s >> 1", "s + 1", "s - 1",
                                  "s // 2", "-(s * 1)"])
def test_linear_int_ops_on_other_types_are_type_errors(expr):
    src = contract(f"@public\ndef main() -> int:\n    s = 'a'\n    return {expr}\n")
    out = run(src, gas=GAS)
    assert (out.status, out.error) == ("reverted", "c:5: TypeError"), out


@pytest.mark.parametrize("spec", [",", "_", "_d", "+,", " ,d", "0=40,", "060,", "*^50_", "<,",
                                  "", "d", ">20", "+", "08", "=+30"])
def test_format_of_huge_int_never_uses_int_max_str_digits(spec):
    # 7**23000 has 19,438 digits (above CPython's 4,300-digit default): the runtime formats its
    # own chunked decimal text, matching format(x, spec) computed without the limit
    import sys
    src = contract(f"@public\ndef main():\n    a = 7 ** 23000\n    b = -a\n"
                   f"    return [f'{{a:{spec}}}', f'{{b:{spec}}}']\n")
    out = run(src, gas=GAS)
    assert out.status == "success", out
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        assert out.result == [format(7 ** 23000, spec), format(-7 ** 23000, spec)]
    finally:
        sys.set_int_max_str_digits(old)


def test_format_decimal_matches_cpython_on_small_ints():
    from pycontract.runtime.ops import _SPEC_RE, _format_decimal
    n = 0
    for fill, align in [("", ""), ("", "<"), ("", ">"), ("", "^"), ("", "="), ("*", "^"),
                        ("0", "="), ("0", "<"), (" ", ">")]:
        for sign in ("", "+", "-", " "):
            for zero in ("", "0"):
                for width in ("", "1", "8", "9", "10", "13"):
                    for group in ("", ",", "_"):
                        spec = fill + align + sign + zero + width + group + "d"
                        mt = _SPEC_RE.match(spec)
                        for v in (0, 5, -5, 1234, -1234, 1234567, -98765432, 10 ** 20):
                            got = _format_decimal(str(abs(v)), v < 0, mt, int(width or 0))
                            assert got == format(v, spec), (spec, v)
                            n += 1
    assert n > 5000


# ------------------------------------------------------------------ tuple dict keys (issue #13)

_M64 = 2**64
_P1, _P2, _P5 = 11400714785074694791, 14029467366897019727, 2870177450012600261


def _colliding_pairs(n):
    """``n`` distinct (a, b) int tuples sharing one hash: CPython's tuple hash (xxHash lanes,
    the same on 3.11-3.13) is invertible in its last lane, so b is solved for each a."""
    p61 = 2**61 - 1
    inv2 = pow(_P2, -1, _M64)
    out, a = [], 0
    while len(out) < n:
        x = (_P5 + (hash(a) % _M64) * _P2) % _M64
        acc = ((x << 31) | (x >> 33)) % _M64 * _P1 % _M64
        lb = (12345 - acc) * inv2 % _M64
        b = lb if lb < p61 else (lb - _M64 if lb > _M64 - p61 else None)
        if b is not None and hash(b) % _M64 == lb:
            out.append([a, b])
        a += 1
    return out


_TUPLE_KEYS_SRC = contract(
    "@public\ndef main(pairs: list) -> int:\n    d = {}\n    for p in pairs:\n"
    "        d[p[0], p[1]] = 1\n    n = 0\n    for p in pairs:\n        n += d[p[0], p[1]]\n"
    "    return n\n")


def test_tuple_keys_that_collide_pay_for_their_probes():
    """Tuple dict keys are accepted (issue #13), but n keys solved to share a hash make each
    insert and lookup probe O(n) keys: they pay O(n^2) gas, while as many ordinary keys pay
    O(n). Same outcome on every run (the grouping is deterministic)."""
    pairs = _colliding_pairs(400)
    assert len({hash(tuple(p)) for p in pairs}) == 1
    plain = [[i, i] for i in range(400)]
    ok = run(_TUPLE_KEYS_SRC, gas=10**8, pairs=plain)
    bad = run(_TUPLE_KEYS_SRC, gas=10**8, pairs=pairs)
    assert ok.status == bad.status == "success" and ok.result == bad.result == 400
    n = len(pairs)
    assert bad.gas_used - ok.gas_used >= n * (n - 1) * 4 // 2  # a probe per colliding key
    assert ok.gas_used < 100 * n
    assert run(_TUPLE_KEYS_SRC, gas=10**8, pairs=pairs).gas_used == bad.gas_used
    # a flood stops at the gas limit, long before the quadratic work piles up
    flood = run(_TUPLE_KEYS_SRC, gas=GAS, pairs=_colliding_pairs(3000))
    assert flood.status == "out_of_gas"


def test_tuple_keys_copied_in_bulk_pay_for_collisions_too():
    pairs = _colliding_pairs(300)
    src = contract(
        "@public\ndef main(pairs: list, k: int) -> int:\n    d = {}\n    for p in pairs:\n"
        "        d[p[0], p[1]] = 1\n    for i in range(k):\n        e = {}\n        e.update(d)\n"
        "    return len(e)\n")
    one = run(src, gas=10**8, pairs=pairs, k=1)
    two = run(src, gas=10**8, pairs=pairs, k=2)
    assert one.result == two.result == 300
    assert two.gas_used - one.gas_used >= 300 * 299 * 4 // 2
