"""What CPython's compiler (not its parser) refuses is refused by vetting, in our own words and
at the same position on every interpreter; anything vetting misses is still a refusal, never a
worker fault (found by the front-door fuzzer: such a deploy used to kill the worker and stop the
block from committing)."""

from __future__ import annotations

import pytest

from pycontract.errors import VetError
from pycontract.metering import compile_contract
from pycontract.vetting.policy import MAX_BLOCK_NESTING

HEAD = "from pycontract import public\n\n@public\ndef f() -> int:\n"


def problems(body: str) -> list[str]:
    try:
        compile_contract(HEAD + body, "c.py")
    except VetError as e:
        return [f"{p.line}:{p.col}: {p.message}" for p in e.problems]
    return []


@pytest.mark.parametrize("body, expect", [
    ("    break\n", "5:5: 'break' outside a loop"),
    ("    continue\n", "5:5: 'continue' outside a loop"),
    ("    for i in range(2):\n        pass\n    else:\n        break\n",
     "8:9: 'break' outside a loop"),
    ("    while True:\n        def g() -> int:\n            break\n",
     "7:13: 'break' outside a loop"),
    ("    *a, *b = [1, 2]\n", "5:9: only one starred target per unpacking"),
    ("    for *a, *b in [[1, 2]]:\n        pass\n", "5:13: only one starred target"),
    ("    *a = [1]\n", "5:5: a starred assignment target must be inside a list or tuple"),
    ("    def g(a, b, a):\n        return a\n", "5:17: parameter 'a' is listed twice"),
    ("    x = [1]\n    return *x\n", "6:12: a starred expression can only appear"),
])
def test_compile_time_errors_are_vetting_problems(body, expect):
    got = problems(body)
    assert any(p.startswith(expect) for p in got), got


@pytest.mark.parametrize("body", [
    "    for i in range(2):\n        try:\n            break\n        finally:\n            pass\n",
    "    for i in range(2):\n        if i:\n            continue\n    return 0\n",
    "    a, *b = [1, 2, 3]\n    return len([*b, *b])\n",
    "    x = [1, 2]\n    return max(*x)\n",
])
def test_valid_uses_are_accepted(body):
    assert problems(body) == []


def nested(n: int) -> str:
    lines, ind = [], "    "
    for i in range(n):
        lines.append(f"{ind}for i{i} in range(1):")
        ind += "    "
    return "\n".join(lines + [f"{ind}pass", "    return 0"]) + "\n"


def test_block_nesting_limit_sits_below_every_compiler_limit():
    """CPython's own limit (20 blocks) is counted differently by 3.11 and 3.13: 20 nested
    loops compiled on 3.13 only. Ours is the same everywhere."""
    assert problems(nested(MAX_BLOCK_NESTING)) == []
    (p,) = problems(nested(MAX_BLOCK_NESTING + 1))
    assert f"more than {MAX_BLOCK_NESTING} nested loops and try blocks" in p
    assert problems(nested(25)) and len(problems(nested(25))) == 1  # one report per path


def test_a_compiler_refusal_vetting_misses_is_still_a_problem(monkeypatch):
    from pycontract.metering import compiler

    monkeypatch.setattr(compiler.vetting, "vet", _vet_without_policy(compiler.vetting.vet))
    compiler.clear_cache()
    try:
        got = problems("    break\n")
    finally:
        compiler.clear_cache()
    assert got == ["5:1: CPython's compiler refuses this code (a limit such as too many nested "
                   "blocks in one function); simplify it"]


def _vet_without_policy(vet):
    """vet() with the compiler rules switched off, to reach the safety net behind them."""
    from pycontract.vetting import policy

    def run(source, filename):
        saved = policy._Policy._compiler_rules
        policy._Policy._compiler_rules = lambda self, tree: None
        try:
            return vet(source, filename)
        finally:
            policy._Policy._compiler_rules = saved

    return run
