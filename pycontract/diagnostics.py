"""Problems found in contract source, and their ``FILE:LINE:COL: message`` rendering.

A :class:`Problem` has two kinds of text:

- ``message``: deterministic, engine-defined text. It is identical on CPython 3.11, 3.12 and
  3.13 (it can end up in a receipt), says what is wrong and what to write instead.
- ``detail``: optional extra text for people (e.g. CPython's own ``SyntaxError`` message, which
  differs between versions). It is shown by :meth:`Problem.render` and never goes into receipts.

``line`` is 1-based; ``col`` is 1-based and counts characters (not UTF-8 bytes as ``ast`` does;
:class:`SourceMap` converts, using asttokens' line-number tables).

``kind`` is ``"policy"`` (a rule of the contract language; position identical on every
version), ``"limit"`` (a size or nesting limit) or ``"syntax"`` (the source does not parse; the
message is fixed but the position comes from the interpreter's parser and may differ between
Python versions; use :meth:`Problem.receipt_text` for anything that must be deterministic).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from asttokens.line_numbers import LineNumbers

_NEWLINE_RE = re.compile(r"\r\n|\r|\n")


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` become ``\\n`` (what Python's tokenizer treats as line ends)."""
    if "\r" not in text:
        return text
    return _NEWLINE_RE.sub("\n", text)


@dataclass(frozen=True)
class Problem:
    filename: str
    line: int
    col: int
    message: str
    detail: str | None = None
    #: "policy", "limit" or "syntax" (see the module docstring)
    kind: str = "policy"
    #: the source line, when known, for the caret display (not part of equality)
    source_line: str | None = field(default=None, compare=False, repr=False)

    @property
    def location(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}"

    def headline(self) -> str:
        """``FILE:LINE:COL: message`` (one line, no detail)."""
        return f"{self.location}: {self.message}"

    def receipt_text(self) -> str:
        """Deterministic one-line text: the headline, except that a syntax error's position
        (chosen by the interpreter's parser) is reduced to its line."""
        if self.kind == "syntax":
            return f"{self.filename}:{self.line}: {self.message}"
        return self.headline()

    def sort_key(self):
        return (self.line, self.col, self.message)

    def render(self, source: str | None = None) -> str:
        """The headline, then the source line and a caret under the column, then the detail.

        ``source`` (the whole contract text) is optional; without it the line recorded in the
        problem is used, and when neither is available only the headline (and detail) is shown.
        """
        out = [self.headline()]
        text = None
        if source is not None:
            lines = normalize_newlines(source).split("\n")
            if 1 <= self.line <= len(lines):
                text = lines[self.line - 1]
        if text is None:
            text = self.source_line
        if text is not None and text.strip():
            text = text.rstrip("\n")
            if len(text) > 200:
                # keep very long lines readable: show a window around the column
                start = max(0, self.col - 100)
                shown = text[start : start + 200]
                prefix = "..." if start else ""
                caret_at = self.col - 1 - start + len(prefix)
                display = prefix + shown
            else:
                display = text
                caret_at = self.col - 1
            caret_at = max(0, min(caret_at, len(display)))
            # reproduce tabs so the caret lines up in a terminal
            pad = "".join("\t" if ch == "\t" else " " for ch in display[:caret_at])
            out.append("    " + display)
            out.append("    " + pad + "^")
        if self.detail:
            out.append(f"    ({self.detail})")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.headline()


class SourceMap:
    """Positions in one contract source: line texts and UTF-8-byte to character columns."""

    def __init__(self, text: str, filename: str):
        self.text = text
        self.filename = filename
        self.lines = text.split("\n")
        self._numbers = LineNumbers(text)
        self._line_starts = None

    def line_text(self, line: int) -> str | None:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return None

    def line_bytes(self, line: int) -> bytes:
        text = self.line_text(line)
        return text.encode("utf-8", "surrogatepass") if text is not None else b""

    def char_col(self, line: int, byte_col: int) -> int:
        """0-based character column of a 0-based UTF-8 byte column (clamped)."""
        if not 1 <= line <= len(self.lines):
            return max(0, byte_col)
        try:
            return self._numbers.from_utf8_col(line, byte_col)
        except Exception:  # pragma: no cover - defensive: positions must never crash vetting
            return max(0, byte_col)

    def offset_to_line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and 1-based character column of a 0-based character offset."""
        line, col0 = self._numbers.offset_to_line(offset)
        return line, col0 + 1

    def problem(self, line, col, message, *, detail=None, kind="policy") -> Problem:
        """A problem at a 1-based line and 1-based character column."""
        line = max(1, int(line or 1))
        col = max(1, int(col or 1))
        return Problem(
            self.filename, line, col, message, detail, kind, source_line=self.line_text(line)
        )

    def node_problem(self, node, message, *, byte_col=None, line=None, detail=None) -> Problem:
        """A problem at an AST node's start (or at ``line``/``byte_col`` when given)."""
        lineno = line if line is not None else getattr(node, "lineno", None) or 1
        bcol = byte_col if byte_col is not None else getattr(node, "col_offset", None) or 0
        return self.problem(lineno, self.char_col(lineno, bcol) + 1, message, detail=detail)
