"""Determinism probes: the same contracts on CPython 3.11, 3.12 and 3.13 (whichever of
/work/venv312, /work/venv313 exist) and under two worker hash seeds must give identical
receipts (status, gas_used, result, error, events) and state roots."""

from __future__ import annotations

import pytest
from attack_support import HEADER, assert_same_everywhere, receipts_everywhere

pytestmark = pytest.mark.determinism

PROBES = {
    "error_texts": """
        @public
        def f():
            out = []
            for k in range(6):
                try:
                    if k == 0:
                        x = [1][3]
                    elif k == 1:
                        x = {}["k"]
                    elif k == 2:
                        x = int("12a")
                    elif k == 3:
                        x = 1 // 0
                    elif k == 4:
                        x = "a" + 1
                    else:
                        x = [].pop()
                except Exception as e:
                    out.append(f"{e}")
            return out
    """,
    "unicode_methods": """
        @public
        def f():
            out = []
            for s in ["\\u00df", "\\u0130", "\\u00b2", "\\u0663", "a\\u2028b", "\\u1c90", "\\u01c5"]:
                for op in range(6):
                    try:
                        if op == 0:
                            out.append(s.upper())
                        elif op == 1:
                            out.append(s.lower())
                        elif op == 2:
                            out.append(s.isdigit())
                        elif op == 3:
                            out.append(int(s))
                        elif op == 4:
                            out.append(s.split())
                        else:
                            out.append(s.strip())
                    except ValueError:
                        out.append("VE")
            return str(out)
    """,
    "str_of_everything": """
        @public
        def f():
            d = {"b": [1, "\\u00e9", b"\\x00\\xff", None, True, (1, "x")], "a": {"z": -5}}
            return [str(d), f"{d}", "%s|%r" % (d, "\\u00e9"), str(b"\\x80"), str((1,)), hex(-255),
                    f"{255:#010x}", f"{-5:+d}", f"{'ab':^9s}", f"{12345678:_}"]
    """,
    "sorting_stability_and_dict_order": """
        @public
        def f():
            words = ["ccc", "b", "aaa", "dd", "e", "ff"]
            by_first = sorted(words, key=len)
            d = {}
            for k in ["zeta", "alpha", "mid", "beta"]:
                d[k] = len(k)
            d.pop("mid")
            d["mid"] = 0
            return [by_first, d.keys(), sorted(d.items()), sorted(["b", "B", "a", "_", "1"])]
    """,
    "int_conversions": """
        @public
        def f():
            a = 3 ** 30000
            return [len(str(a)), str(a)[-40:], int("-" + "7" * 4400) % 97, int("0x" + "f" * 600, 16) % 13,
                    int(" 42 "), int("1_000"), bin(a)[-8:], (2**64).to_bytes(9, "big").hex(),
                    int.from_bytes(b"\\x01\\x00", "little")]
    """,
    "hash_seed_probe_dict_keys": """
        @public
        def f():
            d = {}
            for i in range(200):
                d["k" + str(i * 7919 % 1000)] = i
            return list(d.keys())[-5:] + [len(d)]
    """,
    "gas_of_deep_recursion_error": """
        def r(n):
            return r(n + 1)
        @public
        def f():
            return r(0)
    """,
}


def test_probes_identical_on_every_interpreter_and_seed():
    cases = [[HEADER + __import__("textwrap").dedent(body).lstrip(), "f", {}, 2_000_000]
             for body in PROBES.values()]
    base = assert_same_everywhere(cases, seeds=(0, 4242))
    for row in base[:-1]:
        assert row[0] == "success", row


def test_nested_genexp_chain_same_receipt_on_every_interpreter():
    body = HEADER + ("@public\ndef f():\n    m = [1]\n    for i in range(10000):\n"
                     "        m = (x for x in m)\n    return len(list(m))\n")
    results = receipts_everywhere([[body, "f", {}, 1_000_000]])
    if len(results) < 2:
        pytest.skip("only one interpreter available")
    rows = [r[0] for r in results.values()]
    assert all(row == rows[0] for row in rows), rows
