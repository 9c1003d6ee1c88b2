"""docs/tutorial.md stays true: every block runs, in order, in an empty temporary folder.

```python file=NAME``` blocks are written to NAME; ```console``` blocks are commands (`$ ...`)
each followed by the output it must print: lines match exactly, `...` stands for any lines,
a line ending in `...` matches by prefix, and `exit N` is the expected exit status (default 0).
The ```text``` block showing a failed test's message is checked against the real message.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pycontract.testing import TestChain, TransactionFailed

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(\w*)(?: file=(\S+))?\n(.*?)^```$", re.S | re.M)


def blocks():
    return [(m.group(1), m.group(2), m.group(3)) for m in FENCE.finditer(TUTORIAL.read_text())]


def commands(text: str):
    """[(command, expected lines, exit status)] of a console block."""
    out = []
    for line in text.splitlines():
        if line.startswith("$ "):
            out.append([line[2:], [], 0])
        elif line.startswith("exit "):
            out[-1][2] = int(line.split()[1])
        else:
            out[-1][1].append(line.rstrip())
    return out


def matches(pattern: list[str], lines: list[str]) -> bool:
    """Does ``lines`` fit ``pattern`` (`...` = any lines, `prefix...` = a line's start)?"""
    def line_ok(p, line):
        return line.startswith(p[:-3]) if p.endswith("...") and p != "..." else p == line

    def fit(pi, li):
        if pi == len(pattern):
            return li == len(lines)
        if pattern[pi] == "...":
            return any(fit(pi + 1, k) for k in range(li, len(lines) + 1))
        return li < len(lines) and line_ok(pattern[pi], lines[li]) and fit(pi + 1, li + 1)

    return fit(0, 0)


def run(command: str, cwd: Path) -> tuple[Path, subprocess.CompletedProcess | None]:
    parts = [p.strip() for p in command.split("&&")]
    proc = None
    for part in parts:
        if part.startswith("cd "):
            cwd = cwd / part[3:]
            continue
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        env.pop("PYTEST_ADDOPTS", None)
        proc = subprocess.run(part, shell=True, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=600, stdin=subprocess.DEVNULL)
        assert "Traceback" not in proc.stderr, proc.stderr
    return cwd, proc


def test_every_block_of_the_tutorial_runs(tmp_path):
    cwd = tmp_path
    ran = written = 0
    for kind, name, text in blocks():
        if kind == "python" and name:
            (cwd / name).write_text(text, encoding="utf-8")
            written += 1
        elif kind == "console":
            for command, expected, status in commands(text):
                cwd, proc = run(command, cwd)
                ran += 1
                if proc is None:
                    continue
                got = proc.stdout.rstrip("\n").splitlines()
                assert proc.returncode == status, (command, proc.stdout, proc.stderr)
                assert matches(expected, [g.rstrip() for g in got]), (
                    f"$ {command}\nexpected:\n" + "\n".join(expected) + "\ngot:\n" + proc.stdout)
    assert written == 2 and ran >= 10


def test_the_failure_message_shown_is_the_real_one(tmp_path):
    (text,) = [t for k, _, t in blocks() if k == "text"]
    shown = [re.sub(r"^E\s+(pycontract\.testing\.TransactionFailed: )?", "", line)
             for line in text.splitlines()]
    coin = next(t for k, n, t in blocks() if n == "coin.py")
    (tmp_path / "coin.py").write_text(coin)
    with TestChain(tmp_path / "l.db", base_dir=tmp_path) as chain:
        token = chain.deploy_file("coin.py", sender="alice", args={"supply": 1000})
        try:
            token.transfer(to="carol", amount=1, sender="bob")
        except TransactionFailed as e:
            real = [line.strip() for line in str(e).splitlines()]
    assert [s.strip() for s in shown] == real


def test_the_matcher():
    assert matches(["a", "...", "c"], ["a", "b", "b", "c"])
    assert not matches(["a", "c"], ["a", "b", "c"])
    assert matches(["5 passed in ..."], ["5 passed in 1.2s"])
    assert matches(["..."], [])
