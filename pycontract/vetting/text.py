"""Text prechecks: contract source text in, problems out (no parsing).

Size, line count, NUL/surrogates, and one linear regex scan (Python 3.11 string rules) bounding
bracket depth and operators per logical line; also collects the string tokens the f-string check
needs. These bounds keep CPython's parser far from its own recursion limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pycontract.language import MAX_SOURCE_BYTES
from pycontract.diagnostics import Problem, SourceMap

# --------------------------------------------------------------------------- limits

MAX_LINES = 10_000
MAX_BRACKET_DEPTH = 30
MAX_OPERATORS_PER_LINE = 500
# --------------------------------------------------------------------------- 1. prechecks

# One linear scan with Python 3.11 tokenization rules for strings. Possessive quantifiers keep
# it linear on every input.
_SCAN_RE = re.compile(
    r"""
    (?P<comment>\#[^\n]*+)
  | (?P<string>(?P<prefix>[rRbBuUfF]{1,2})?
        (?: '''(?:[^'\\]++|\\.|'(?!''))*+(?:'''|\Z)
          | \"\"\"(?:[^"\\]++|\\.|"(?!""))*+(?:\"\"\"|\Z)
          | '(?:[^'\\\n]++|\\.)*+(?:'|(?=\n)|\Z)
          | "(?:[^"\\\n]++|\\.)*+(?:"|(?=\n)|\Z)
        ))
  | (?P<nonascii>[A-Za-z0-9_]*+[^\x00-\x7f][^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*+)
  | (?P<number>[0-9][A-Za-z0-9_]*+)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<cont>\\\n)
  | (?P<newline>\n)
  | (?P<op>[-+*/%@&|^~<>=!.:])
    """,
    re.VERBOSE | re.DOTALL,
)
_NESTING_KEYWORDS = frozenset(
    {"not", "and", "or", "if", "else", "lambda", "await", "yield", "in", "is", "for", "async"}
)


@dataclass(frozen=True)
class _StrTok:
    start: int  # character offsets in the normalized text
    end: int
    prefix: str
    terminated: bool


def _precheck(text: str, smap: SourceMap):
    """Text-level checks. Returns (problems, fatal, string tokens)."""
    problems = _check_size(text, smap)
    if problems:
        return problems, True, []
    scan = _Scan(text, smap)
    scan.run()
    return scan.problems, scan.fatal, scan.strings


def _at(smap: SourceMap, offset: int, message: str, kind: str = "limit") -> Problem:
    line, col = smap.offset_to_line_col(offset)
    return smap.problem(line, col, message, kind=kind)


def _check_size(text: str, smap: SourceMap) -> list[Problem]:
    """Encodability, size, line count and NUL: each one fatal on its own."""
    try:
        nbytes = len(text.encode("utf-8"))
    except UnicodeEncodeError as e:
        bad = ord(text[e.start])
        return [_at(smap, e.start, f"the source contains an invalid character U+{bad:04X} "
                                   "(a lone surrogate); save the file as UTF-8")]
    if nbytes > MAX_SOURCE_BYTES:
        return [smap.problem(
            1, 1,
            f"the contract is {nbytes} bytes long; the limit is {MAX_SOURCE_BYTES} bytes: "
            "split it into several contracts",
            kind="limit",
        )]
    nlines = text.count("\n") + 1
    if nlines > MAX_LINES:
        return [smap.problem(
            MAX_LINES + 1, 1,
            f"the contract has {nlines} lines; the limit is {MAX_LINES}: "
            "split it into several contracts",
            kind="limit",
        )]
    nul = text.find("\0")
    if nul >= 0:
        return [_at(smap, nul, "the source contains a NUL character; remove it")]
    return []


class _Scan:
    """One pass of _SCAN_RE over the text: bracket depth, operators per logical line,
    non-ASCII outside strings, and the string tokens (f-strings checked lexically)."""

    def __init__(self, text: str, smap: SourceMap):
        self.text, self.smap = text, smap
        self.problems: list[Problem] = []
        self.strings: list[_StrTok] = []
        self.fatal = False
        self.depth = 0
        self.ops = 0
        self.line_start_offset = 0
        self.depth_reported = False
        self.ops_reported = False

    def run(self) -> None:
        for m in _SCAN_RE.finditer(self.text):
            kind = m.lastgroup
            if kind == "prefix":  # pragma: no cover - lastgroup names the outer group
                kind = "string"
            if kind == "comment" or kind == "cont":
                continue
            if kind == "string" or m.group("string") is not None:
                self.string(m)
            elif kind == "newline":
                if self.depth == 0:
                    self.ops = 0
                    self.ops_reported = False
                    self.line_start_offset = m.end()
            elif kind == "nonascii":
                self.nonascii(m)
            else:
                self.operator(kind, m)

    def string(self, m) -> None:
        s = m.group("string")
        prefix = m.group("prefix") or ""
        body = s[len(prefix):]
        q = body[:3] if body[:3] in ("'''", '"""') else body[:1]
        terminated = len(body) >= 2 * len(q) and body.endswith(q)
        tok = _StrTok(m.start(), m.end(), prefix, terminated)
        self.strings.append(tok)
        if "f" in prefix.lower():
            bad = _fstring_problem(self.text, tok)
            if bad is not None:
                self.fatal = True
                self.problems.append(_at(self.smap, bad[1], bad[0], kind="policy"))

    def nonascii(self, m) -> None:
        text = self.text
        off = m.start()
        while text[off].isascii():
            off += 1
        self.problems.append(_at(
            self.smap, off,
            f"non-ASCII character U+{ord(text[off]):04X} outside a string or comment; "
            "names must use only ASCII letters, digits and '_' (Python would silently "
            "normalize look-alike characters)",
            kind="policy",
        ))

    def operator(self, kind: str, m) -> None:
        """Names, brackets and operators: the nesting and per-line operator bounds."""
        if kind == "name":
            if m.group() in _NESTING_KEYWORDS:
                self.ops += 1
        elif kind == "open":
            self.ops += 1
            self.depth += 1
            if self.depth > MAX_BRACKET_DEPTH and not self.depth_reported:
                self.depth_reported = True
                self.fatal = True
                self.problems.append(_at(
                    self.smap, m.start(),
                    f"brackets are nested more than {MAX_BRACKET_DEPTH} levels deep; "
                    "split the expression into several statements",
                ))
        elif kind == "close":
            self.depth = max(0, self.depth - 1)
        elif kind == "op":
            self.ops += 1
        if self.ops > MAX_OPERATORS_PER_LINE and not self.ops_reported:
            self.ops_reported = True
            self.fatal = True
            self.problems.append(_at(
                self.smap, self.line_start_offset,
                f"this statement has more than {MAX_OPERATORS_PER_LINE} operators; "
                "split it into several statements",
            ))



_FSTRING_312 = (
    "this f-string needs Python 3.12 syntax (the same quote character inside a replacement "
    "field, or a field spanning lines); use the other quote character inside, or compute the "
    "value on a separate line"
)
_FSTRING_CHAR = (
    "a backslash or '#' inside an f-string replacement field is not allowed (Python 3.11 "
    "refuses it); compute the value on a separate line"
)


def _fstring_problem(text: str, tok: _StrTok):
    """(message, offset) when an f-string token is outside the Python 3.11 f-string grammar.

    ``tok`` was cut by 3.11 rules (the string ends at the first unescaped delimiter). A field
    still open at the end means 3.12 would read a longer string (PEP 701 nested quotes or a
    multi-line field); a backslash or ``#`` inside a field expression is refused by 3.11.
    """
    body_start = tok.start + len(tok.prefix)
    q = 3 if text.startswith(("'''", '"""'), body_start) else 1
    if not tok.terminated:
        return _FSTRING_312, tok.start
    i = body_start + q
    end = tok.end - q
    # stack of open fields: [mode, bracket nesting]; mode "expr" or "spec"
    stack: list[list] = []
    while i < end:
        c = text[i]
        if not stack or stack[-1][0] == "spec":
            if c == "{":
                if not stack and text.startswith("{{", i):
                    i += 2
                    continue
                stack.append(["expr", 0])
            elif c == "}" and stack:
                stack.pop()
            i += 1
            continue
        frame = stack[-1]
        if c in "\\#":
            return _FSTRING_CHAR, i
        if c in "\'\"":
            close = text.find(c, i + 1, end)
            if close < 0:
                return _FSTRING_312, tok.start
            for j in range(i + 1, close):
                if text[j] in "\\#":  # 3.11 refuses these even inside nested strings
                    return _FSTRING_CHAR, j
            i = close + 1
            continue
        if c in "([{":
            frame[1] += 1
        elif c in ")]":
            frame[1] -= 1
        elif c == "}":
            if frame[1] > 0:
                frame[1] -= 1
            else:
                stack.pop()
        elif c == ":" and frame[1] == 0:
            frame[0] = "spec"
        i += 1
    if stack:
        return _FSTRING_312, tok.start
    return None


