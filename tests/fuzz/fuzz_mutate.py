"""Mutations of real contracts (tests/vectors/contracts/*.py) for front-door fuzzing.

Every mutation is drawn from a seeded ``random.Random`` so the same seed gives the same text on
every interpreter (the cross-version file records what vetting and deploy say about them).
"""

from __future__ import annotations

import random
from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "vectors" / "contracts"

#: fragments that hit vetting's rules, the tokenizer and the 3.11-grammar checks
TOKENS = [
    "(", ")", "[", "]", "{", "}", ":", "'", '"', '"""', "\\", "\x00", "\t", "\r", "\n", " ",
    "é", "ｅｖａｌ", "\ud800", "\ufeff", "lambda x: x", ":=", "yield", "await", "async ",
    "class C:", "import os", "from os import path", "global g", "nonlocal n", "__class__",
    "_x", "1.5", "1j", "...", "/", "@", "{1, 2}", "f'{x!r}'", "f'{x=}'", "f'{'a'}'",
    "match x:", "with x:", "except*", "del x", "x is 1", "print(1)", "eval('1')", "type X = int",
    "def f[T](): pass", "raise ValueError from None", "except BaseException:", "try:",
    "*", "**", "-" * 40 + "1", "(" * 40, "[" * 40, "1+" * 300 + "1", "not " * 60 + "x",
    "@public\n", "@view\n", "return", "pass", "else:", "elif x:", "for x in y:", "while 1:",
    "m = Map()", "Value(default=[1.5])", "ctx.sender", "emit('e', x=1)", "call('a', 'b')",
]


def contracts() -> dict[str, str]:
    """The real contracts to mutate, by file name (sorted)."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(CONTRACTS_DIR.glob("*.py"))}


def mutate(text: str, r: random.Random, rounds: int | None = None) -> str:
    """Apply 1-3 random edits: delete / duplicate / swap lines, insert a token, cut a span,
    change a character, re-indent a line."""
    for _ in range(rounds or r.randint(1, 3)):
        lines = text.split("\n")
        k = r.randint(0, 6)
        i = r.randrange(len(lines))
        if k == 0 and len(lines) > 1:
            del lines[i]
        elif k == 1:
            lines.insert(i, lines[r.randrange(len(lines))])
        elif k == 2:
            j = r.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif k == 3:
            ln = lines[i]
            p = r.randint(0, len(ln))
            lines[i] = ln[:p] + r.choice(TOKENS) + ln[p:]
        elif k == 4:
            ln = lines[i]
            p = r.randint(0, len(ln))
            lines[i] = ln[:p] + ln[p + r.randint(1, 8):]
        elif k == 5:
            ln = lines[i]
            if ln:
                p = r.randrange(len(ln))
                lines[i] = ln[:p] + chr(r.choice([r.randint(32, 126), r.randint(0x80, 0x2FF)])) + ln[p + 1:]
        else:
            lines[i] = r.choice(["", "    ", "\t", "        "]) + lines[i].lstrip()
        text = "\n".join(lines)
    return text


def corpus(seed: int, n: int) -> list[tuple[str, str]]:
    """``n`` (label, mutated source) pairs, the same for the same seed everywhere."""
    r = random.Random(seed)
    base = contracts()
    names = sorted(base)
    out = []
    for i in range(n):
        name = names[r.randrange(len(names))]
        out.append((f"{name}#{seed}.{i}", mutate(base[name], r)))
    return out
