"""Proven dict locals (issue 12): a local whose every binding is a dict display or
comprehension (or another such local) keeps no dict type test on ``d[k]``, ``k in d`` and
``d[k] op= v``; anything else that binds the name drops the fact. Same results, errors and gas
as the tested path."""

from __future__ import annotations

import ast

import pytest
from language_harness import run

from pycontract import vetting
from pycontract.metering import rewriter

PROVEN = """from pycontract import public

@public
def main(n: int) -> list:
    d = {}
    for i in range(n):
        k = "a" + str(i % 3)
        if k in d:
            d[k] += i
        else:
            d[k] = i
        d[i % 2] = 7
        d[i % 2] -= 1
    e = d
    return [d["a0"], e[0], 5 in d, d.get("zz", -1)]
"""

REBOUND = PROVEN.replace('    e = d\n', '    e = d\n    d = [1, 2]\n    d = e\n')
MISSING = PROVEN.replace('d["a0"]', 'd["nope"]')


def _main(src):
    tree = rewriter.rewrite(vetting.vet(src, "c").tree)
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")


def _dict_tests(fn) -> int:
    return sum(1 for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id in ("_pc_D", "_pc_DL"))


def test_dict_locals_fact():
    tree = vetting.vet(PROVEN, "c").tree
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    assert rewriter.dict_locals(fn) == {"d", "e"}
    tree = vetting.vet(REBOUND, "c").tree
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    assert rewriter.dict_locals(fn) == set()


def test_proven_dict_drops_its_type_tests():
    assert _dict_tests(_main(PROVEN)) == 0
    assert _dict_tests(_main(REBOUND)) > 0


def _cpython(src, n):
    ns = {}
    exec(src.replace("from pycontract import public\n", "").replace("@public\n", ""), ns)
    try:
        return ns["main"](n)
    except Exception as e:  # noqa: BLE001 - the exception class is compared
        return type(e)


@pytest.mark.parametrize("n", [1, 4, 9])
def test_same_results_and_gas_as_the_tested_path(n):
    fast, slow = run(PROVEN, "main", n=n), run(REBOUND, "main", n=n)
    assert fast.status == slow.status == "success"
    assert fast.result == slow.result == _cpython(PROVEN, n)
    # REBOUND has two more statements (their weights) and nothing else different
    extra = run(REBOUND.replace("    d = [1, 2]\n    d = e\n", "    q = [1, 2]\n    q = e\n"),
                "main", n=n)
    assert extra.gas_used == slow.gas_used and fast.gas_used < slow.gas_used
    assert slow.gas_used - fast.gas_used == extra.gas_used - fast.gas_used


def test_missing_key_reverts_like_cpython():
    out = run(MISSING, "main", n=4)
    assert out.status == "reverted" and "KeyError" in out.error and "nope" in out.error
    assert _cpython(MISSING, 4) is KeyError
