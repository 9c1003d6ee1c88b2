"""Resource bombs: single operations that try to do more work or allocate more memory than
their gas pays for, and payloads that try to make the worker's reply invalid (a node fault).

Passing tests are regressions (the bomb is stopped: out_of_gas, or a deterministic engine
limit). ``xfail(strict=True)`` tests are successful attacks: they assert the CORRECT outcome
and fail today; see docs/security.md."""

from __future__ import annotations

import pytest

from pycontract.metering.schedule import SCHEDULE
from attack_support import assert_host_works, attack, deploy

from pycontract import Tx
from pycontract.host.limits import MAX_GAS_PER_TX

# --- stopped by gas or an engine limit (regressions) -----------------------------------------

STOPPED = {
    # name: (body, gas, expected status, expected error substring)
    "bytes_10_to_10": ("return len(bytes(10**10))", 200_000, "out_of_gas", "out of gas"),
    "list_range_huge": ("return len(list(range(10**12)))", 200_000, "out_of_gas", "out of gas"),
    "sum_range_huge": ("return sum(range(10**12))", 200_000, "out_of_gas", "out of gas"),
    "str_repeat_huge": ('return len("ab" * 10**10)', 200_000, "out_of_gas", "out of gas"),
    "center_huge": ('return len("a".center(10**9))', 200_000, "out_of_gas", "out of gas"),
    "zfill_huge": ('return len("1".zfill(10**12))', 200_000, "out_of_gas", "out of gas"),
    "ljust_huge": ('return len("1".ljust(10**12))', 200_000, "out_of_gas", "out of gas"),
    "pow_mod_huge_exponent": ("return pow(7, 10**4000, 10**4000 + 1) % 10", 200_000,
                              "out_of_gas", "out of gas"),
    "pow_negative_exponent_big_modulus": ("return pow(3, -1, 7 ** 20000) % 10", 200_000,
                                          "out_of_gas", "out of gas"),
    "pow_int_cap": ("return 2 ** 100000", 200_000, "reverted", "int too large (limit 65536 bits)"),
    "lshift_int_cap": ("return 1 << 100000", 200_000, "reverted", "int too large"),
    "mul_int_cap": ("a = 7 ** 20000\n    return a * a", 200_000, "reverted", "int too large"),
    "to_bytes_huge_length": ('return len((1).to_bytes(10**9, "big"))', 200_000, "reverted",
                             "int too large"),
    "from_bytes_huge": ('return int.from_bytes(b"\\xff" * 100000, "big") % 7', 200_000,
                        "reverted", "int too large"),
    "int_text_over_cap": ('return int("9" * 20000) % 7', 500_000, "reverted", "int too large"),
    "format_width_over_limit": ("w = 10**7\n    return len(f\"{1:>{w}}\")", 200_000, "reverted",
                                "format width or precision above 1048576"),
    "percent_star_width": ('return len("%*d" % (10**9, 1))', 200_000, "reverted",
                           "format width or precision above 1048576"),
    "negative_shift": ("return 1 << -1", 200_000, "reverted", "ValueError"),
    "string_doubling_memory": ('s = "x"\n    for i in range(40):\n        s = s + s\n    return len(s)',
                               50_000_000, "reverted", "memory limit exceeded"),
    "list_self_extend": ("l = [0]\n    for i in range(40):\n        l.extend(l)\n    return len(l)",
                         50_000_000, "reverted", "memory limit exceeded"),
    "dict_growth": ("d = {}\n    for i in range(10**7):\n        d[i] = i", 300_000,
                    "out_of_gas", "out of gas"),
    "sort_huge_strings": ('l = ["a" * 100000] * 2000\n    l.sort()\n    return len(l)', 500_000,
                          "out_of_gas", "out of gas"),
    "max_of_big_lists": ("return max([[1] * 10000] * 1000)", 500_000, "out_of_gas", "out of gas"),
    "in_str_search": ('s = "a" * 10**6\n    return ("a" * 50000 + "b") in s', 100_000,
                      "out_of_gas", "out of gas"),
    "replace_empty_pattern": ('s = "a" * 100000\n    return len(s.replace("", "x" * 1000))', 1_000_000,
                              "out_of_gas", "out of gas"),
    "split_many_parts": ('return len((" " * 10**7).split(" "))', 500_000, "out_of_gas", "out of gas"),
    "deep_tuple_str": ("t = ()\n    for i in range(1000):\n        t = (t,)\n    return str(t)",
                       200_000, "reverted", "containers nested more than 64 levels deep"),
    "deep_tuple_compare": ("t = ()\n    for i in range(1000):\n        t = (t,)\n    return t == t",
                           200_000, "reverted", "containers nested more than 64 levels deep"),
    "deep_list_emit": ('t = []\n    for i in range(1000):\n        t = [t]\n    emit("E", x=t)',
                       200_000, "reverted", "containers nested more than 60 levels deep"),
    "deep_list_in": ("t = []\n    u = []\n    for i in range(1000):\n        t = [t]\n        u = [u]\n    return u in [t, t]",
                     200_000, "reverted", "containers nested more than 64 levels deep"),
    "cyclic_list_compare": ("a = []\n    a.append(a)\n    b = []\n    b.append(b)\n    return a == b",
                            200_000, "reverted", "containers nested more than 64 levels deep"),
    "cyclic_dict_compare": ('a = {}\n    a["x"] = a\n    b = {}\n    b["x"] = b\n    return a < b',
                            200_000, "reverted", "containers nested more than 64 levels deep"),
    "cyclic_list_str": ("a = []\n    a.append(a)\n    return str(a)", 200_000, "reverted",
                        "containers nested more than 64 levels deep"),
    "cyclic_list_sorted": ("a = []\n    a.append(a)\n    b = []\n    b.append(b)\n    return len(sorted([a, b]))",
                           200_000, "reverted", "containers nested more than 64 levels deep"),
    "cyclic_list_percent": ('a = []\n    a.append(a)\n    return "%s" % (a,)', 200_000, "reverted",
                            "containers nested more than 64 levels deep"),
    "cyclic_list_count": ("a = []\n    a.append(a)\n    b = []\n    b.append(b)\n    return [a].count(b)",
                          200_000, "reverted", "containers nested more than 64 levels deep"),
    "deep_tuple_dict_key": ("t = 1\n    for i in range(100):\n        t = (t,)\n    d = {t: 1}",
                            200_000, "reverted", "key tuples nested more than 64 levels deep"),
    "recursion_through_sorted_key": (None, 1_000_000, "reverted", "call depth limit of 200 exceeded"),
    "recursion_through_map": (None, 1_000_000, "reverted", "call depth limit of 200 exceeded"),
    "recursion_through_max_key": (None, 1_000_000, "reverted", "call depth limit of 200 exceeded"),
    "exceptions_with_big_messages_in_loop": (None, 200_000, "out_of_gas", "out of gas"),
}

_SPECIAL = {
    "recursion_through_sorted_key": """
        def k(x):
            return sorted([1, 2], key=k)
        @public
        def f():
            return sorted([1, 2], key=k)
    """,
    "recursion_through_map": """
        def k(x):
            return list(map(k, [1]))
        @public
        def f():
            return k(1)
    """,
    "recursion_through_max_key": """
        def k(x):
            return max([1, 2], key=k)
        @public
        def f():
            return k(1)
    """,
    "exceptions_with_big_messages_in_loop": """
        @public
        def f():
            m = "y" * 100_000
            for i in range(100_000):
                try:
                    raise ValueError(m + "z")
                except ValueError as e:
                    s = str(e)
    """,
}


@pytest.mark.parametrize("case", sorted(STOPPED))
def test_bomb_is_stopped(chain, case):
    body, gas, status, text = STOPPED[case]
    source = _SPECIAL.get(case) or "@public\ndef f():\n    " + body + "\n"
    r = attack(chain, source, gas=gas)
    assert r.status == status, (r.status, r.gas_used, r.error)
    assert text in r.error, r.error
    if status == "out_of_gas":
        assert r.gas_used == gas
    assert r.events == []


def test_non_int_in_a_huge_range_is_false_without_a_scan(chain):
    """CPython scans a range for a non-int (no element equals it); the engine answers False
    without the scan (issue #13), so a 10**18-element range costs nothing."""
    r = attack(chain, "@public\ndef f():\n    return ['a' in range(10**18), (1,) not in range(10**18)]\n",
               gas=200_000)
    assert (r.status, r.result) == ("success", [False, True]), r.error
    # the intrinsic cost and the contract's code_load (schedule 8), then a few nodes
    assert r.gas_used < SCHEDULE.tx_base + SCHEDULE.code_load_base + 1_000


@pytest.mark.parametrize("what", ["memory", "nesting", "int_cap", "depth", "callee_revert"])
def test_engine_limits_cannot_be_caught(chain, what):
    """`except Exception` must not turn an engine limit (or a callee's failure) into success."""
    risky = {
        "memory": 's = "x" * 200_000_000',
        "nesting": "s = str(nest(100))",
        "int_cap": "x = 2 ** 100000",
        "depth": "x = r(0)",
        "callee_revert": 'x = call(ctx.this, "g")',
    }[what]
    r = attack(chain, f"""
        n = Value(default=0)
        def r(i):
            return r(i + 1)
        def nest(k):
            t = ()
            for i in range(k):
                t = (t,)
            return t
        @public
        def g():
            revert("callee says no")
        @public
        def f():
            n.set(1)
            try:
                {risky}
            except Exception as e:
                n.set(2)
                return "caught " + str(e)
            return "no error"
    """, gas=20_000_000)
    assert r.status == "reverted", (r.status, r.result)


def test_require_with_huge_message_is_bounded(chain):
    r = attack(chain, """
        @public
        def f():
            require(False, "x" * 10_000_000)
    """, gas=5_000_000)
    assert r.status == "reverted"
    assert len(r.error) <= 64 * 1024


def test_big_int_conversions_are_metered_and_work(chain):
    r = attack(chain, """
        @public
        def f():
            a = 7 ** 23000
            return [len(str(a)), len(hex(a)), len(bin(a)), len(oct(a)), divmod(a, 3)[1],
                    int(str(a)[:19000]) % 7, len(f"{a:_x}"), len("%d" % a), a >> 10**18]
    """, gas=2_000_000)
    assert r.status == "success", r.error
    assert r.result[0] == 19438 and r.result[4] == 1 and r.result[-1] == 0


def test_huge_argument_payload_from_host_is_rejected(chain):
    name = deploy(chain, """
        @public
        def f(s: str) -> int:
            return len(s)
    """)
    r = chain.call(name, "f", {"s": "x" * (65 * 1024)}, sender="alice")
    assert (r.status, r.gas_used) == ("rejected", 0), r.error
    assert "larger than 65536 bytes" in r.error
    r = chain.call(name, "f", {"s": "x" * 60_000}, sender="alice")
    assert (r.status, r.result) == ("success", 60_000), r.error


# --- successful attacks (xfail strict) ---------------------------------------------------

def test_grouped_decimal_format_of_big_int(chain):
    r = attack(chain, """
        @public
        def f():
            a = 7 ** 23000
            return len(f"{a:,}")
    """, gas=2_000_000)
    assert r.status == "success", r.error
    assert r.result == 19438 + 19437 // 3


def test_nested_map_chain_does_not_crash_the_worker(chain):
    r = attack(chain, """
        @public
        def f():
            m = [1]
            for i in range(90000):
                m = map(abs, m)
            return list(m)
    """, gas=1_000_000)
    assert r.status == "reverted", (r.status, r.error)
    assert_host_works(chain)


@pytest.mark.parametrize("wrap", ["filter(None, m)", "zip(m)", "enumerate(m)"])
def test_nested_lazy_builtin_chain_does_not_crash_the_worker(chain, wrap):
    r = attack(chain, f"""
        @public
        def f():
            m = [1]
            for i in range(90000):
                m = {wrap}
            return len(list(m))
    """, gas=1_000_000)
    assert r.status == "reverted", (r.status, r.error)


def test_nested_genexp_chain_is_bounded_by_the_engine(chain):
    r = attack(chain, """
        @public
        def f():
            m = [1]
            for i in range(15000):
                m = (x for x in m)
            return len(list(m))
    """, gas=1_000_000)
    assert r.status == "reverted" and "depth" in r.error, (r.status, r.error)


def test_unaccounted_big_int_allocations_hit_the_memory_limit(chain):
    r = attack(chain, """
        @public
        def f():
            big = 7 ** 23000
            l = []
            i = 0
            try:
                # a while loop: a range loop this long is paid up front (schedule 6) and would
                # end out of gas before allocating anything
                while i < 400000:
                    l.append(-big)
                    i += 1
            except Exception as e:
                return str(e)
            return len(l)
    """, gas=4_000_000)
    assert r.status == "reverted", (r.status, r.result, r.error)
    assert "memory limit exceeded" in r.error, r.error


def test_more_than_10000_events_is_a_revert_not_a_node_fault(chain):
    r = attack(chain, """
        @public
        def f():
            for i in range(10001):
                emit("E")
    """, gas=5_000_000)
    assert r.status == "reverted", (r.status, r.error)


def test_storage_value_over_16_mib_is_a_receipt_not_a_node_fault(chain):
    # Writes cost 10 gas a byte, so a 17 MB value needs more gas than a transaction may have:
    # gas stops it first; the worker's 16 MiB value limit (a revert) and the host's check stay
    # as further walls.
    pid = chain.worker_pid
    r = attack(chain, """
        v = Value(default="")
        @public
        def f():
            v.set("z" * 17_000_000)
    """, gas=MAX_GAS_PER_TX)
    assert (r.status, r.gas_used) == ("out_of_gas", MAX_GAS_PER_TX), (r.status, r.error)
    assert chain.worker_pid == pid


def test_result_over_16_mib_is_a_revert(chain):
    r = attack(chain, """
        @public
        def f():
            return "z" * 20_000_000
    """, gas=MAX_GAS_PER_TX)
    assert r.status == "reverted" and "over the limit" in r.error, (r.status, r.error)


def test_block_of_big_results_does_not_kill_the_worker(chain):
    name = deploy(chain, """
        @public
        def ret(n: int):
            return "q" * n
    """)
    pid = chain.worker_pid
    rs = chain.execute_block([Tx(sender="a", contract=name, function="ret",
                                 args={"n": 15_000_000}, gas_limit=MAX_GAS_PER_TX)
                              for _ in range(19)])
    assert chain.worker_pid == pid
    assert len(rs) == 19
    # 8 results of 15 MB fit the block's 128 MiB of output; the rest revert, deterministically
    assert [r.status for r in rs] == ["success"] * 8 + ["reverted"] * 11
    assert "block's output limit" in rs[8].error
