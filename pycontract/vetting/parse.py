"""Guarded parse: checked text in, an ``ast.Module`` (or problems) out.

Parser errors become positioned problems; an iterative walk bounds tree depth and size before
any recursive visitor runs; f-strings are checked lexically so the accepted grammar is the same
on 3.11, 3.12 and 3.13.
"""

from __future__ import annotations

import ast
import warnings

from pycontract.diagnostics import Problem, SourceMap
from pycontract.vetting.text import _FSTRING_312, _StrTok

MAX_AST_DEPTH = 50
MAX_AST_NODES = 100_000
# --------------------------------------------------------------------------- 2. parsing

_SYNTAX_MESSAGE = (
    "syntax error: this is not valid Python 3.11 source; fix the syntax "
    "(the interpreter's explanation follows)"
)


def _parse(text: str, filename: str, smap: SourceMap):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=filename, mode="exec", feature_version=(3, 11))
        return tree, []
    except SyntaxError as e:
        line = e.lineno or 1
        nlines = len(smap.lines)
        if line > nlines:
            line = nlines
        col = e.offset if isinstance(e.offset, int) and e.offset > 0 else 1
        text_line = smap.line_text(line)
        if text_line is not None:
            col = min(col, len(text_line) + 1)
        detail = str(e.msg) if e.msg else type(e).__name__
        p = Problem(filename, max(1, line), col, _SYNTAX_MESSAGE, detail, "syntax",
                    source_line=text_line)
        return None, [p]
    except (RecursionError, MemoryError) as e:
        return None, [smap.problem(
            1, 1,
            "the contract is nested too deeply to parse; split deeply nested expressions "
            "into several statements",
            detail=type(e).__name__, kind="limit",
        )]
    except ValueError as e:
        return None, [smap.problem(1, 1, _SYNTAX_MESSAGE, detail=str(e), kind="syntax")]


# --------------------------------------------------------------------------- 3. shape


def _check_shape(tree: ast.AST, smap: SourceMap) -> list[Problem]:
    """Iterative depth and size bound; one report per module-level statement (at the innermost
    statement around the first too-deep node found)."""
    problems = []
    reported_tops = set()
    count = 0
    stack = [(tree, 0, None, None)]
    while stack:
        node, depth, stmt, top = stack.pop()
        count += 1
        if count > MAX_AST_NODES:
            return problems + [smap.problem(
                1, 1,
                f"the contract has more than {MAX_AST_NODES} syntax nodes; "
                "split it into several contracts",
                kind="limit",
            )]
        if isinstance(node, ast.stmt):
            stmt = node
            if top is None:
                top = node
        if depth > MAX_AST_DEPTH:
            if id(top) not in reported_tops:
                reported_tops.add(id(top))
                anchor = stmt if stmt is not None else node
                p = smap.node_problem(
                    anchor,
                    f"code is nested more than {MAX_AST_DEPTH} levels deep here; "
                    "split long expressions and deep blocks into several statements "
                    "or functions",
                )
                problems.append(Problem(p.filename, p.line, p.col, p.message, None, "limit",
                                        p.source_line))
            continue
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1, stmt, top))
    return problems


# --------------------------------------------------------------------------- f-strings


def _check_fstrings(tree: ast.Module, strings: list[_StrTok], smap: SourceMap) -> list[Problem]:
    """Keep f-strings inside the Python 3.11 grammar on every version.

    Every outermost ``JoinedStr`` must be covered by string tokens of the 3.11 lexer (so no
    nested same-kind quotes, PEP 701), and no replacement field may contain a backslash or ``#``.
    """
    problems = []
    if not any(t.prefix and "f" in t.prefix.lower() for t in strings) and not any(
        isinstance(n, ast.JoinedStr) for n in ast.walk(tree)
    ):
        return problems
    starts = {t.start: t for t in strings}
    numbers = smap._numbers
    nested = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            nested.add(id(node.format_spec))
        if not isinstance(node, ast.JoinedStr) or id(node) in nested:
            continue
        for child in ast.walk(node):
            if child is not node and isinstance(child, ast.JoinedStr):
                nested.add(id(child))
        try:
            start = numbers.line_to_offset(
                node.lineno, smap.char_col(node.lineno, node.col_offset))
            end = numbers.line_to_offset(
                node.end_lineno, smap.char_col(node.end_lineno, node.end_col_offset))
        except Exception:  # pragma: no cover - defensive
            continue
        ok = True
        pos = start
        toks = []
        while pos < end:
            tok = starts.get(pos)
            if tok is None:
                if smap.text[pos] in " \t\n\\\f":
                    pos += 1
                    continue
                if smap.text[pos] == "#":  # a comment between implicitly concatenated parts
                    nl = smap.text.find("\n", pos)
                    pos = end if nl < 0 else nl
                    continue
                ok = False
                break
            if not tok.terminated:
                ok = False
                break
            toks.append(tok)
            pos = tok.end
        if not ok or pos != end:
            line, col = smap.offset_to_line_col(start)
            problems.append(smap.problem(line, col, _FSTRING_312))
    return problems

