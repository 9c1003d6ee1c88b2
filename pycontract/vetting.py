"""Vetting: contract source in, a restricted and annotated AST out (or every problem found).

``vet(source, filename)`` runs, in order, stopping after the first stage that finds problems:

1. **Prechecks on the text** (no parsing): type ``str``; at most ``MAX_SOURCE_BYTES`` of UTF-8
   and ``MAX_LINES`` lines; no NUL or lone surrogate; one linear regex scan (Python 3.11 string
   rules) that bounds bracket depth (``MAX_BRACKET_DEPTH``) and the number of operators in one
   logical line (``MAX_OPERATORS_PER_LINE``), and flags non-ASCII characters outside strings
   and comments. These bounds keep CPython's parser and AST construction far from their own
   recursion limits on every supported version, so deep-nesting bombs are refused here with a
   positioned, deterministic message.
2. **Parsing**, guarded: ``SyntaxError``, ``RecursionError``, ``MemoryError``, ``ValueError``
   become problems. ``feature_version=(3, 11)`` plus a lexical check of every f-string keep the
   accepted grammar the same on 3.11, 3.12 and 3.13 (PEP 701 f-strings are refused).
3. **Shape**: an iterative walk bounds tree depth (``MAX_AST_DEPTH``) and size
   (``MAX_AST_NODES``) before any recursive visitor runs.
4. **Policy**: every node is checked against an explicit whitelist table of node types
   (``_ALLOWED_NODES`` / ``_REFUSED_NODES``); names, attributes, imports, decorators,
   exceptions, storage declarations and entry points are checked against
   :mod:`pycontract.language`. Entry-point and storage metadata are recorded.
5. **Transformation**: our rewrites plus RestrictedPython's ``RestrictingNodeTransformer``
   (its errors are collected as problems; normally our policy has refused everything first).

The output tree (``VettedModule.tree``): what the gas rewriter can rely on
-------------------------------------------------------------------------

* No ``from pycontract import ...`` statements (recorded in ``VettedModule.imports`` as
  ``{local_name: api_name}``). Contract code refers to API objects by their local names.
* Module body: function defs, storage declarations, constant assignments and at most a
  docstring. A storage declaration ``NAME = Map(...)`` / ``NAME = Value(...)`` (also when
  annotated) is ``Assign(targets=[Name(NAME, Store)], value=Call(Name('_pc_storage_'),
  [Constant('NAME')], []))``; its kind and default are in ``VettedModule.storage``.
* No decorators, no annotations anywhere: ``FunctionDef.decorator_list == []``,
  ``returns is None``, every ``arg.annotation is None``; ``x: T = v`` became ``x = v`` and a
  bare ``x: T`` was removed (a body left empty gets a ``Pass``).
* RestrictedPython's shapes:

  - ``o.name`` (load)              -> ``_getattr_(o, 'name')``
  - ``o[k]`` (load)                -> ``_getitem_(o, k)``; a slice ``o[a:b:c]`` becomes
    ``_getitem_(o, Slice(a, b, c))`` (an ``ast.Slice`` node as the second argument, absent
    parts are ``None``), ``o[a, b:c]`` becomes ``_getitem_(o, Tuple([a, Slice(b, c, None)]))``
  - ``o[k] = v``                   -> ``Assign([Subscript(_write_(o), k, Store)], v)``
  - ``del o[k]``                   -> ``Delete([Subscript(_write_(o), k, Del)])``
  - ``for x in it`` / comprehensions -> ``iter=_getiter_(it)``; with a tuple target
    ``for a, b in it`` -> ``iter=_iter_unpack_sequence_(it, SPEC, _getiter_)``
  - ``a, b = v``                   -> ``Assign([Tuple(a, b)], _unpack_sequence_(v, SPEC,
    _getiter_))``; ``x = y = v`` with a tuple target becomes one ``Assign`` per target,
    right-most first (each re-evaluating nothing: the value node is shared)
  - ``f(*a, **k)``                 -> ``_apply_(f, *a, **k)``
  - ``SPEC`` is a ``Dict`` literal ``{'childs': (...), 'min_len': n}``

* ``AugAssign`` is kept as ``AugAssign`` (never ``_inplacevar_``): with a ``Name`` target
  unchanged; with a ``Subscript`` target ``t[k] op= v`` the target's ``value`` and ``slice``
  are transformed as loads (``balances[ctx.sender] -= x`` has target
  ``Subscript(Name('balances'), _getattr_(ctx, 'sender'), Store)``) but the ``Subscript`` itself
  is left for the gas rewriter (no ``_write_``). Attribute targets are refused.
* f-strings are normalized so the tree is identical on 3.11, 3.12 and 3.13: ``JoinedStr.values``
  hold no empty ``Constant`` and no two adjacent ``Constant`` parts, and the ``JoinedStr``,
  ``FormattedValue`` and literal ``Constant`` parts of one f-string (including format specs)
  carry the outermost ``JoinedStr``'s position (as 3.11 reports them). Expression nodes inside
  replacement fields keep their own positions. ``!r`` and ``!a`` conversions are refused.
* Every node has ``lineno``, ``col_offset``, ``end_lineno`` and ``end_col_offset`` (the
  original node's for rewritten ones; UTF-8 byte columns as in ``ast``).
* Names: no user name or attribute begins with ``_``; names the engine introduces are
  ``_getattr_``, ``_getitem_``, ``_write_``, ``_getiter_``, ``_iter_unpack_sequence_``,
  ``_unpack_sequence_``, ``_apply_`` and ``_pc_storage_``, plus RestrictedPython temporaries
  ``_tmpN`` (not produced by the accepted subset today).

Deliberately refused (see docs/language.md for the author-facing list): everything the SPEC
lists, plus ``is`` except against None/True/False (identity of numbers and strings is an
interpreter detail), module-level code other than the allowed statements, non-literal defaults,
mutable module constants, ``del`` of plain names, and decorators other than the three.
"""

from __future__ import annotations

import ast
import contextlib
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from RestrictedPython.transformer import RestrictingNodeTransformer

from pycontract import language
from pycontract.diagnostics import Problem, SourceMap, normalize_newlines
from pycontract.errors import VetError

__all__ = [
    "EntryPoint",
    "Param",
    "StorageDecl",
    "VettedModule",
    "vet",
    "vet_file",
    "summary",
    "MAX_SOURCE_BYTES",
    "MAX_LINES",
    "MAX_BRACKET_DEPTH",
    "MAX_OPERATORS_PER_LINE",
    "MAX_AST_DEPTH",
    "MAX_AST_NODES",
    "STORAGE_FACTORY_NAME",
]

# --------------------------------------------------------------------------- limits

MAX_SOURCE_BYTES = 256 * 1024
MAX_LINES = 10_000
MAX_BRACKET_DEPTH = 30
MAX_OPERATORS_PER_LINE = 500
MAX_AST_DEPTH = 50
MAX_AST_NODES = 100_000
#: frames of Python stack guaranteed to vetting's recursive visitors (and to 3.11's AST builder)
_STACK_HEADROOM = 3000

STORAGE_FACTORY_NAME = "_pc_storage_"
#: annotations an entry-point parameter may carry (enforced at call time by the engine)
PARAM_ANNOTATIONS = ("int", "str", "bool", "bytes", "list", "dict")
#: names RestrictedPython reserves (it rewrites ``print``/``printed`` itself)
_RESERVED_NAMES = frozenset({"print", "printed", "builtins", "breakpoint"})
_STORAGE_API = {"Map": "map", "Value": "value"}

_API_LIST = ", ".join(sorted(language.API_NAMES))
_EXC_LIST = ", ".join(sorted(language.ALLOWED_EXCEPTIONS))


# --------------------------------------------------------------------------- output types


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str | None
    has_default: bool
    default: Any = None


@dataclass(frozen=True)
class EntryPoint:
    name: str
    kind: str  # "public" | "view" | "constructor"
    params: tuple[Param, ...]
    returns: str | None
    line: int


@dataclass(frozen=True)
class StorageDecl:
    name: str
    kind: str  # "map" | "value"
    default: Any = None


@dataclass(frozen=True)
class VettedModule:
    tree: ast.Module
    source: str
    filename: str
    imports: dict  # local name -> API name
    entry_points: dict  # name -> EntryPoint, in source order
    storage: dict  # name -> StorageDecl, in source order
    functions: frozenset  # every module-level function name (entry points included)


# --------------------------------------------------------------------------- public API


def vet(source: str, filename: str = "<contract>") -> VettedModule:
    """Vet contract source; return a :class:`VettedModule` or raise ``VetError(problems)``.

    Never raises anything else for any input (a ``str`` or not).
    """
    if not isinstance(filename, str):
        filename = str(filename)
    if not isinstance(source, str):
        kind = type(source).__name__
        raise VetError(
            [
                Problem(
                    filename, 1, 1,
                    f"contract source must be text (str), not {kind}; "
                    "decode it as UTF-8 first",
                    kind="limit",
                )
            ]
        )
    try:
        with _stack_headroom():
            return _vet(source, filename)
    except VetError:
        raise
    except (RecursionError, MemoryError):
        raise VetError(
            [
                Problem(
                    filename, 1, 1,
                    "the contract is too complex to vet; split long or deeply nested "
                    "expressions into several statements",
                    kind="limit",
                )
            ]
        ) from None


def vet_file(path) -> VettedModule:
    """Read ``path`` as UTF-8 and vet it, reporting problems against the path's name."""
    p = Path(path)
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise VetError(
            [
                Problem(
                    str(path), line, 1,
                    "the file is not valid UTF-8 text; save it as UTF-8",
                    kind="limit",
                )
            ]
        ) from None
    return vet(text, str(path))


def summary(vetted: VettedModule) -> str:
    """One line for ``pycontract check``: the contract's entry points in source order."""
    name = Path(vetted.filename).stem if vetted.filename else "contract"
    eps = sorted(vetted.entry_points.values(), key=lambda e: (e.line, e.name))
    n = len(eps)
    parts = []
    for ep in eps:
        params = []
        for p in ep.params:
            s = p.name if p.annotation is None else f"{p.name}: {p.annotation}"
            if p.has_default:
                s += f" = {p.default!r}"
            params.append(s)
        s = f"{ep.kind} {ep.name}({', '.join(params)})"
        if ep.returns is not None and ep.returns != "None":
            s += f" -> {ep.returns}"
        parts.append(s)
    head = f"{name}: {n} entry point{'' if n == 1 else 's'}"
    return head + (": " + "; ".join(parts) if parts else "")


# --------------------------------------------------------------------------- pipeline


@contextlib.contextmanager
def _stack_headroom():
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    old = sys.getrecursionlimit()
    need = depth + _STACK_HEADROOM
    if old < need:
        sys.setrecursionlimit(need)
        try:
            yield
        finally:
            sys.setrecursionlimit(old)
    else:
        yield


def _fail(problems):
    uniq = {}
    for p in problems:
        uniq.setdefault((p.line, p.col, p.message), p)
    raise VetError(sorted(uniq.values(), key=Problem.sort_key))


def _vet(source: str, filename: str) -> VettedModule:
    text = source[1:] if source.startswith("\ufeff") else source
    text = normalize_newlines(text)
    smap = SourceMap(text, filename)

    problems, fatal, fstring_tokens = _precheck(text, smap)
    if fatal:
        _fail(problems)

    tree, parse_problems = _parse(text, filename, smap)
    if tree is None:
        _fail(problems + parse_problems)

    problems += _check_shape(tree, smap)
    if any(p.kind == "limit" for p in problems):
        _fail(problems)

    problems += _check_fstrings(tree, fstring_tokens, smap)

    policy = _Policy(smap)
    policy.run(tree)
    problems += policy.problems
    if problems:
        _fail(problems)

    _Stripper().visit(tree)
    restrictor = _Restrictor(smap)
    tree = restrictor.visit(tree)
    if restrictor.problems:
        _fail(restrictor.problems)
    _finish(tree, policy)

    return VettedModule(
        tree=tree,
        source=source,
        filename=filename,
        imports=dict(policy.imports),
        entry_points=dict(policy.entry_points),
        storage=dict(policy.storage),
        functions=frozenset(policy.functions),
    )


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
    problems: list[Problem] = []

    def at(offset, message, kind="limit"):
        line, col = smap.offset_to_line_col(offset)
        return smap.problem(line, col, message, kind=kind)

    try:
        nbytes = len(text.encode("utf-8"))
    except UnicodeEncodeError as e:
        bad = ord(text[e.start])
        return [at(e.start, f"the source contains an invalid character U+{bad:04X} "
                            "(a lone surrogate); save the file as UTF-8")], True, []
    if nbytes > MAX_SOURCE_BYTES:
        problems.append(smap.problem(
            1, 1,
            f"the contract is {nbytes} bytes long; the limit is {MAX_SOURCE_BYTES} bytes: "
            "split it into several contracts",
            kind="limit",
        ))
        return problems, True, []
    nlines = text.count("\n") + 1
    if nlines > MAX_LINES:
        problems.append(smap.problem(
            MAX_LINES + 1, 1,
            f"the contract has {nlines} lines; the limit is {MAX_LINES}: "
            "split it into several contracts",
            kind="limit",
        ))
        return problems, True, []
    nul = text.find("\0")
    if nul >= 0:
        problems.append(at(nul, "the source contains a NUL character; remove it"))
        return problems, True, []

    fatal = False
    depth = 0
    ops = 0
    line_start_offset = 0
    depth_reported = False
    ops_reported = False
    strings: list[_StrTok] = []
    for m in _SCAN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "prefix":  # pragma: no cover - lastgroup names the outer group
            kind = "string"
        if kind == "comment":
            continue
        if kind == "string" or m.group("string") is not None:
            s = m.group("string")
            prefix = m.group("prefix") or ""
            body = s[len(prefix):]
            q = body[:3] if body[:3] in ("'''", '"""') else body[:1]
            terminated = len(body) >= 2 * len(q) and body.endswith(q)
            tok = _StrTok(m.start(), m.end(), prefix, terminated)
            strings.append(tok)
            if "f" in prefix.lower():
                bad = _fstring_problem(text, tok)
                if bad is not None:
                    fatal = True
                    problems.append(at(bad[1], bad[0], kind="policy"))
            continue
        if kind == "newline":
            if depth == 0:
                ops = 0
                ops_reported = False
                line_start_offset = m.end()
            continue
        if kind == "cont":
            continue
        if kind == "nonascii":
            off = m.start()
            while text[off].isascii():
                off += 1
            problems.append(at(
                off,
                f"non-ASCII character U+{ord(text[off]):04X} outside a string or comment; "
                "names must use only ASCII letters, digits and '_' (Python would silently "
                "normalize look-alike characters)",
                kind="policy",
            ))
            continue
        if kind == "name":
            if m.group() in _NESTING_KEYWORDS:
                ops += 1
        elif kind == "open":
            ops += 1
            depth += 1
            if depth > MAX_BRACKET_DEPTH and not depth_reported:
                depth_reported = True
                fatal = True
                problems.append(at(
                    m.start(),
                    f"brackets are nested more than {MAX_BRACKET_DEPTH} levels deep; "
                    "split the expression into several statements",
                ))
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "op":
            ops += 1
        if ops > MAX_OPERATORS_PER_LINE and not ops_reported:
            ops_reported = True
            fatal = True
            problems.append(at(
                line_start_offset,
                f"this statement has more than {MAX_OPERATORS_PER_LINE} operators; "
                "split it into several statements",
            ))
    return problems, fatal, strings


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


# --------------------------------------------------------------------------- 4. policy

_OK = None  # allowed, no node-specific rule

#: node types a contract may contain; a value other than None names the rule method
_ALLOWED_NODES: dict[type, str | None] = {
    ast.Module: _OK,
    # statements
    ast.FunctionDef: "fn",
    ast.Return: _OK,
    ast.Assign: "assign",
    ast.AugAssign: "augassign",
    ast.AnnAssign: "annassign",
    ast.For: "for_",
    ast.While: _OK,
    ast.If: _OK,
    ast.Raise: "raise_",
    ast.Try: _OK,
    ast.ExceptHandler: "handler",
    ast.Assert: _OK,
    ast.ImportFrom: "importfrom",
    ast.Expr: _OK,
    ast.Pass: _OK,
    ast.Break: _OK,
    ast.Continue: _OK,
    ast.Delete: "delete",
    # expressions
    ast.BoolOp: _OK,
    ast.BinOp: "binop",
    ast.UnaryOp: _OK,
    ast.IfExp: _OK,
    ast.Dict: _OK,
    ast.ListComp: _OK,
    ast.DictComp: _OK,
    ast.GeneratorExp: _OK,
    ast.comprehension: "comprehension",
    ast.Compare: "compare",
    ast.Call: "call",
    ast.FormattedValue: "formatted",
    ast.JoinedStr: _OK,
    ast.Constant: "constant",
    ast.Attribute: "attribute",
    ast.Subscript: _OK,
    ast.Starred: _OK,
    ast.Name: "name",
    ast.List: _OK,
    ast.Tuple: _OK,
    ast.Slice: _OK,
    ast.arguments: _OK,
    ast.arg: "arg",
    ast.keyword: "keyword",
    ast.alias: _OK,  # checked by importfrom
    # contexts
    ast.Load: _OK,
    ast.Store: _OK,
    ast.Del: _OK,
    # operators
    ast.And: _OK, ast.Or: _OK,
    ast.Add: _OK, ast.Sub: _OK, ast.Mult: _OK, ast.FloorDiv: _OK, ast.Mod: _OK, ast.Pow: _OK,
    ast.LShift: _OK, ast.RShift: _OK, ast.BitOr: _OK, ast.BitXor: _OK, ast.BitAnd: _OK,
    ast.Invert: _OK, ast.Not: _OK, ast.UAdd: _OK, ast.USub: _OK,
    ast.Eq: _OK, ast.NotEq: _OK, ast.Lt: _OK, ast.LtE: _OK, ast.Gt: _OK, ast.GtE: _OK,
    ast.Is: _OK, ast.IsNot: _OK, ast.In: _OK, ast.NotIn: _OK,
}

#: node types refused, with the message (what is wrong and what to write instead)
_REFUSED_NODES: dict[type, str] = {
    ast.Import: "only 'from pycontract import ...' is allowed; contracts cannot import modules",
    ast.ClassDef: "classes are not supported; use functions and dicts",
    ast.Lambda: "lambda is not supported; use def",
    ast.Global: "'global' is not supported; keep state in Map or Value storage",
    ast.Nonlocal: "'nonlocal' is not supported; return values from functions instead",
    ast.Yield: "generators (yield) are not supported; build and return a list",
    ast.YieldFrom: "generators (yield from) are not supported; build and return a list",
    ast.AsyncFunctionDef: "async functions are not supported; use def",
    ast.Await: "await is not supported; contracts run synchronously",
    ast.AsyncFor: "async for is not supported; use for",
    ast.AsyncWith: "async with is not supported",
    ast.With: "'with' statements are not supported; write the steps out, "
              "or use try/finally",
    ast.NamedExpr: "assignment expressions (:=) are not supported; "
                   "assign on a separate line",
    ast.Set: "set displays are not supported (sets iterate in hash order); "
             "use a dict with True values or a sorted list",
    ast.SetComp: "set comprehensions are not supported (sets iterate in hash order); "
                 "use a dict comprehension or a sorted list",
    ast.Div: "true division '/' produces floats; use '//' for integer division",
    ast.MatMult: "the '@' operator is not supported; call a function instead",
    ast.Match: "'match' statements are not supported; use if/elif",
    ast.TryStar: "'except*' is not supported; use except",
}
for _name, _msg in (
    ("TypeAlias", "'type' statements are not supported; assign the type to nothing, "
                  "annotations are ignored"),
    ("TemplateStr", "template strings are not supported; use an f-string"),
):
    if hasattr(ast, _name):
        _REFUSED_NODES[getattr(ast, _name)] = _msg


def _underscore_msg(what: str, name: str) -> str:
    return (
        f"{what} '{name}' begins with '_': names starting with an underscore are reserved "
        "for the engine; use a name without the leading underscore"
    )


def _is_singleton_const(node) -> bool:
    return isinstance(node, ast.Constant) and (
        node.value is None or node.value is True or node.value is False
    )


_IMMUTABLE_SCALARS = (int, str, bytes)  # bool is an int


class _BadConstant(ValueError):
    """A literal containing a float, complex or Ellipsis (reported by the constant rule)."""


def _literal_value(node, *, mutable: bool, allow_tuple: bool):
    """Value of a literal expression, or raise ValueError.

    Scalars: None, bool, int, str, bytes (negative ints via unary minus). ``mutable`` allows
    lists and dicts with str keys (storable values); ``allow_tuple`` allows tuples.
    """
    if isinstance(node, ast.Constant):
        v = node.value
        if v is None or isinstance(v, _IMMUTABLE_SCALARS):
            return v
        raise _BadConstant
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) is int
    ):
        return -node.operand.value
    if isinstance(node, ast.Tuple) and allow_tuple:
        return tuple(_literal_value(e, mutable=mutable, allow_tuple=allow_tuple)
                     for e in node.elts)
    if mutable and isinstance(node, ast.List):
        return [_literal_value(e, mutable=True, allow_tuple=allow_tuple) for e in node.elts]
    if mutable and isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None or not (isinstance(k, ast.Constant) and type(k.value) is str):
                raise ValueError
            out[k.value] = _literal_value(v, mutable=True, allow_tuple=allow_tuple)
        return out
    raise ValueError


class _Policy:
    """The whitelist checks and the metadata of entry points and storage."""

    def __init__(self, smap: SourceMap):
        self.smap = smap
        self.problems: list[Problem] = []
        self.imports: dict[str, str] = {}
        self.entry_points: dict[str, EntryPoint] = {}
        self.storage: dict[str, StorageDecl] = {}
        self.functions: set[str] = set()
        self.bound: set[str] = set()
        self.storage_calls: set[int] = set()  # ids of Map()/Value() calls in declarations
        self.storage_stmts: set[int] = set()  # ids of module-level declaration statements
        self.handled: set[int] = set()  # Name nodes whose check a parent rule already did
        self.constructor_line: int | None = None
        self.module_names: dict[str, int] = {}

    # ---- reporting
    def report(self, node, message, *, byte_col=None, line=None):
        self.problems.append(self.smap.node_problem(node, message, byte_col=byte_col, line=line))

    def _ident_col(self, line: int, start_byte: int, ident: str):
        """Byte column of ``ident`` on ``line`` at or after ``start_byte`` (or None)."""
        b = self.smap.line_bytes(line)
        i = b.find(ident.encode("ascii", "replace"), start_byte)
        return i if i >= 0 else None

    # ---- driver
    def run(self, tree: ast.Module):
        self._collect(tree)
        self._module_level(tree)
        self.visit(tree, fn_depth=0, in_fstring=False)

    def _collect(self, tree):
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.bound.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.bound.add(node.name)
            elif isinstance(node, ast.arg):
                self.bound.add(node.arg)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self.bound.add(node.name)
            elif isinstance(node, ast.ImportFrom) and node.module == "pycontract" \
                    and node.level == 0:
                for a in node.names:
                    if a.name in language.API_NAMES:
                        self.imports[a.asname or a.name] = a.name

    def api(self, name: str) -> str | None:
        """The API name a local name refers to (if it was imported)."""
        return self.imports.get(name)

    # ---- module level
    def _module_level(self, tree: ast.Module):
        imported: dict[str, str] = {}
        for i, stmt in enumerate(tree.body):
            if isinstance(stmt, ast.FunctionDef):
                self._module_name(stmt.name, stmt)
                self.functions.add(stmt.name)
                continue
            if isinstance(stmt, ast.ImportFrom):
                for a in stmt.names:
                    local = a.asname or a.name
                    if a.name == "*":
                        continue
                    if stmt.module == "pycontract" and imported.get(local) == a.name:
                        continue  # the same import again: harmless
                    imported[local] = a.name
                    self._module_name(local, a)
                continue
            if type(stmt) in _REFUSED_NODES:
                continue  # reported by the node table
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                    and isinstance(stmt.value.value, str):
                continue  # the docstring (or any other bare string: documentation)
            target = value = None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            if isinstance(target, ast.Name) and value is not None:
                if self._storage_decl(target, value, stmt):
                    continue
                try:
                    _literal_value(value, mutable=False, allow_tuple=True)
                except _BadConstant:
                    self._module_name(target.id, target)
                    continue
                except ValueError:
                    if isinstance(value, (ast.List, ast.Dict)):
                        self.report(
                            value,
                            "module-level constants must be immutable literals (int, str, "
                            "bytes, bool, None or tuples of them); keep mutable data in Map "
                            "or Value storage",
                        )
                    else:
                        self.report(
                            value,
                            "a module-level constant must be a literal value (int, str, bytes, "
                            "bool, None or a tuple of them), not an expression; write the "
                            "value out (e.g. 1_000_000) or compute it inside a function",
                        )
                    continue
                self._module_name(target.id, target)
                continue
            self.report(
                stmt,
                "only function definitions, 'from pycontract import ...', storage declarations "
                "(NAME = Map(...) or Value(...)), constants and a docstring may appear at "
                "module level; move this code into a function",
            )

    def _module_name(self, name: str, node):
        prev = self.module_names.get(name)
        if prev is not None:
            self.report(
                node,
                f"'{name}' is already defined at line {prev}; each module-level name must be "
                "defined once",
            )
        else:
            self.module_names[name] = getattr(node, "lineno", 1)

    def _storage_decl(self, target: ast.Name, value, stmt) -> bool:
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
            return False
        api = self.api(value.func.id)
        if api not in _STORAGE_API:
            return False
        kind = _STORAGE_API[api]
        self.storage_calls.add(id(value))
        self.storage_stmts.add(id(stmt))
        default_node = None
        ok = True
        if value.args and value.keywords or len(value.args) > 1 or any(
            isinstance(a, ast.Starred) for a in value.args
        ):
            ok = False
        elif value.args:
            default_node = value.args[0]
        elif value.keywords:
            if len(value.keywords) != 1 or value.keywords[0].arg != "default":
                ok = False
            else:
                default_node = value.keywords[0].value
        if not ok:
            self.report(
                value,
                f"declare storage as NAME = {api}() or NAME = {api}(default=LITERAL)",
            )
        default = None
        if ok and default_node is not None:
            try:
                default = _literal_value(default_node, mutable=True, allow_tuple=False)
            except _BadConstant:
                pass
            except ValueError:
                self.report(
                    default_node,
                    f"a {api} default must be a literal of a storable type: None, bool, int, "
                    "str, bytes, or lists / dicts (str keys) of these",
                )
        self._module_name(target.id, target)
        if target.id not in self.storage:
            self.storage[target.id] = StorageDecl(target.id, kind, default)
        return True

    # ---- the walk
    def visit(self, node, *, fn_depth: int, in_fstring: bool):
        t = type(node)
        if t in _ALLOWED_NODES:
            rule = _ALLOWED_NODES[t]
            if rule is not None:
                getattr(self, "rule_" + rule)(node, fn_depth=fn_depth, in_fstring=in_fstring)
        elif t in _REFUSED_NODES:
            self._refused(node, _REFUSED_NODES[t])
        elif isinstance(node, (ast.pattern, ast.match_case)):
            pass  # inside a refused 'match'
        else:
            self._refused(
                node,
                f"'{t.__name__}' syntax is not supported in contracts; see docs/language.md "
                "for the supported subset",
            )
        if isinstance(node, ast.FunctionDef):
            child_depth = fn_depth + 1
        else:
            child_depth = fn_depth
        child_fs = in_fstring or isinstance(node, ast.JoinedStr)
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.FunctionDef) and child in node.decorator_list:
                # decorators run at module level
                self.visit(child, fn_depth=fn_depth, in_fstring=child_fs)
            else:
                self.visit(child, fn_depth=child_depth, in_fstring=child_fs)

    def _refused(self, node, message):
        if isinstance(node, (ast.Div, ast.MatMult)):
            return  # reported by rule_binop / rule_augassign at the operator
        if not hasattr(node, "lineno"):
            return  # other operator / context nodes carry no position
        if isinstance(node, (ast.ClassDef, ast.AsyncFunctionDef)):
            self._check_ident(node.name, node, "name")
        self.report(node, message)

    def _mark_handled(self, expr):
        """An annotation the entry-point rule already refused: no second report on its names."""
        for n in ast.walk(expr):
            if isinstance(n, ast.Name):
                self.handled.add(id(n))

    # ---- rules: names
    def _check_ident(self, name, node, what="name", *, byte_col=None) -> bool:
        if name.startswith("_") and name != "_":
            self.report(node, _underscore_msg(what, name), byte_col=byte_col)
            return False
        return True

    def _check_binding(self, name, node, *, byte_col=None):
        """A name being bound (assignment target, def, parameter, except-as)."""
        if not self._check_ident(name, node, byte_col=byte_col):
            return
        if name in self.imports:
            self.report(
                node,
                f"'{name}' is the pycontract API name '{self.imports[name]}' imported above; "
                "it cannot be reassigned or shadowed: choose another name",
                byte_col=byte_col,
            )
        elif name in language.ALLOWED_EXCEPTIONS:
            self.report(
                node,
                f"'{name}' is a built-in exception; it cannot be reassigned or shadowed: "
                "choose another name",
                byte_col=byte_col,
            )
        elif name in _RESERVED_NAMES:
            self.report(node, f"'{name}' is a reserved name; choose another name",
                        byte_col=byte_col)

    def rule_name(self, node: ast.Name, *, in_fstring, **_):
        if id(node) in self.handled:
            return
        if in_fstring:
            self._fstring_ident_ascii(node)
        if isinstance(node.ctx, ast.Store):
            self._check_binding(node.id, node)
            return
        if not self._check_ident(node.id, node):
            return
        if isinstance(node.ctx, ast.Del):
            self.report(
                node,
                f"'del {node.id}' is not supported: del removes Map entries, dict keys and list "
                "items (del m[k]); to drop a value, assign None",
            )
            return
        self._check_load(node.id, node)

    def _check_load(self, name, node):
        if name in self.imports:
            return
        if name in language.FORBIDDEN_BUILTINS and name not in self.bound:
            self.report(node, f"'{name}' is not available in contracts: "
                              f"{language.FORBIDDEN_BUILTINS[name]}")
            return
        if name in self.bound or name in language.ALLOWED_BUILTINS \
                or name in language.ALLOWED_EXCEPTIONS:
            return
        if name in language.API_NAMES:
            self.report(node, f"name '{name}' is not defined; import it: "
                              f"from pycontract import {name}")
            return
        self.report(node, f"name '{name}' is not defined; define it in the contract or use "
                          "a built-in function available to contracts (see docs/language.md)")

    def _fstring_ident_ascii(self, node):
        """Identifiers inside f-string fields: the lexical scan cannot see them."""
        line = node.lineno
        if line != node.end_lineno:
            return
        seg = self.smap.line_bytes(line)[node.col_offset:node.end_col_offset]
        if not seg.isascii():
            self.report(
                node,
                "non-ASCII characters in a name; names must use only ASCII letters, digits and "
                "'_' (Python would silently normalize look-alike characters)",
            )

    def rule_arg(self, node: ast.arg, **_):
        self._check_binding(node.arg, node)

    def rule_keyword(self, node: ast.keyword, *, in_fstring, **_):
        if node.arg is not None:
            self._check_ident(node.arg, node, "keyword argument")

    def rule_attribute(self, node: ast.Attribute, *, in_fstring, **_):
        attr = node.attr
        col = None
        if node.end_lineno is not None and node.end_col_offset is not None:
            b = self.smap.line_bytes(node.end_lineno)
            start = node.end_col_offset - len(attr)
            if start >= 0 and b[start:node.end_col_offset] == attr.encode("ascii", "replace"):
                col = start
        line = node.end_lineno if col is not None else None
        if in_fstring and col is None:
            self.report(
                node,
                "non-ASCII characters in an attribute name; names must use only ASCII letters, "
                "digits and '_' (Python would silently normalize look-alike characters)",
            )
            return
        if not isinstance(node.ctx, ast.Load):
            self.report(
                node,
                "attributes cannot be assigned or deleted; keep data in Map or Value storage "
                "or in a dict (d[key] = value)",
            )
            return
        if attr.startswith("_"):
            self.report(node, _underscore_msg("attribute", attr), byte_col=col, line=line)
        elif attr in ("format", "format_map"):
            self.report(
                node,
                f"str.{attr} is not available: format strings can reach attributes; "
                "use an f-string",
                byte_col=col, line=line,
            )
        elif attr not in language.ALLOWED_ATTRIBUTE_NAMES:
            self.report(
                node,
                f"attribute '{attr}' is not available: contracts may use only the listed "
                "methods of str, bytes, int, list, tuple and dict and of the pycontract API "
                "(see docs/language.md)",
                byte_col=col, line=line,
            )

    # ---- rules: expressions
    def rule_constant(self, node: ast.Constant, **_):
        v = node.value
        if isinstance(v, float):
            self.report(node, "floating-point numbers are not allowed (not deterministic "
                              "across machines); use int, e.g. fixed point in the smallest unit")
        elif isinstance(v, complex):
            self.report(node, "complex numbers are not allowed; use int")
        elif v is Ellipsis:
            self.report(node, "'...' (Ellipsis) is not allowed; use pass or None")

    def rule_binop(self, node: ast.BinOp, **_):
        if isinstance(node.op, (ast.Div, ast.MatMult)):
            sym = "/" if isinstance(node.op, ast.Div) else "@"
            col = line = None
            l, r = node.left, node.right
            if l.end_lineno == r.lineno:
                seg = self.smap.line_bytes(r.lineno)[l.end_col_offset:r.col_offset]
                i = seg.find(sym.encode())
                if i >= 0:
                    col, line = l.end_col_offset + i, r.lineno
            self.report(node, _REFUSED_NODES[type(node.op)], byte_col=col, line=line)

    def rule_compare(self, node: ast.Compare, **_):
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.Is, ast.IsNot)) and not (
                _is_singleton_const(left) or _is_singleton_const(right)
            ):
                self.report(
                    node,
                    "'is' compares object identity, which is an interpreter detail for numbers "
                    "and strings; use == (is / is not only with None, True or False)",
                )
            left = right

    def rule_formatted(self, node: ast.FormattedValue, **_):
        if node.conversion in (ord("r"), ord("a")):
            self.report(
                node.value,
                "'!r', '!a' and '=' in f-strings use repr(), which can differ between nodes; "
                "write {x} (str) instead",
            )

    def rule_comprehension(self, node: ast.comprehension, **_):
        if node.is_async:
            self.report(node.target, "async comprehensions are not supported; use for")

    def rule_call(self, node: ast.Call, *, fn_depth, **_):
        if isinstance(node.func, ast.Name) and self.api(node.func.id) in _STORAGE_API \
                and id(node) not in self.storage_calls:
            api = self.api(node.func.id)
            self.report(node, f"storage must be declared at module level: NAME = {api}(...)")

    # ---- rules: statements
    def _check_target(self, target, stmt_kind):
        if isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                self._check_target(e, stmt_kind)
        elif isinstance(target, ast.Starred):
            self._check_target(target.value, stmt_kind)
        # Name (rule_name), Subscript (allowed) and Attribute (rule_attribute) report themselves

    def rule_assign(self, node: ast.Assign, **_):
        for t in node.targets:
            self._check_target(t, "assign")

    def rule_augassign(self, node: ast.AugAssign, **_):
        if isinstance(node.op, (ast.Div, ast.MatMult)):
            sym = b"/=" if isinstance(node.op, ast.Div) else b"@="
            t, v = node.target, node.value
            col = line = None
            if t.end_lineno == v.lineno:
                seg = self.smap.line_bytes(v.lineno)[t.end_col_offset:v.col_offset]
                i = seg.find(sym)
                if i >= 0:
                    col, line = t.end_col_offset + i, v.lineno
            msg = ("true division '/=' produces floats; use '//=' for integer division"
                   if sym == b"/=" else _REFUSED_NODES[ast.MatMult])
            self.report(node, msg, byte_col=col, line=line)

    def rule_annassign(self, node: ast.AnnAssign, **_):
        if not isinstance(node.target, (ast.Name, ast.Subscript)):
            return  # attribute targets report themselves

    def rule_for_(self, node: ast.For, **_):
        self._check_target(node.target, "for")

    def rule_delete(self, node: ast.Delete, **_):
        pass  # Name (rule_name, Del ctx) and Attribute (rule_attribute) report themselves

    def rule_importfrom(self, node: ast.ImportFrom, *, fn_depth, **_):
        if node.module != "pycontract" or node.level != 0:
            mod = "." * node.level + (node.module or "")
            self.report(node, f"cannot import from '{mod}': only 'from pycontract import ...' "
                              f"is allowed (available: {_API_LIST})")
            return
        if fn_depth > 0:
            self.report(node, "imports must be at module level")
        for a in node.names:
            if a.name == "*":
                self.report(a, "'from pycontract import *' is not allowed; name what you use: "
                               "from pycontract import public, Map, ...")
                continue
            if a.name.startswith("_"):
                self.report(a, f"'{a.name}' begins with '_' and is not part of the pycontract "
                               f"API; available: {_API_LIST}")
                continue
            if a.name not in language.API_NAMES:
                self.report(a, f"'{a.name}' is not part of the pycontract API; available: "
                               f"{_API_LIST}")
                continue
            if a.asname is not None:
                col = self._ident_col(a.end_lineno, a.col_offset + len(a.name), a.asname)
                if not self._check_ident(a.asname, a, byte_col=col):
                    continue
                if a.asname != a.name and (
                    a.asname in language.API_NAMES
                    or a.asname in language.ALLOWED_BUILTINS
                    or a.asname in language.ALLOWED_EXCEPTIONS
                    or a.asname in language.FORBIDDEN_BUILTINS
                ):
                    self.report(a, f"cannot import '{a.name}' as '{a.asname}': "
                                   "that name already means something else; choose another "
                                   "alias", byte_col=col)

    def rule_raise_(self, node: ast.Raise, **_):
        if node.cause is not None:
            self.report(node.cause, "'raise ... from ...' is not supported; raise the error "
                                    "alone")
        exc = node.exc
        if exc is None:
            return
        target = exc.func if isinstance(exc, ast.Call) else exc
        if isinstance(target, ast.Name) and target.id in language.ALLOWED_EXCEPTIONS \
                and target.id not in self.bound:
            self.handled.add(id(target))
            return
        if isinstance(target, ast.Name):
            self.handled.add(id(target))
            if target.id in language.FORBIDDEN_BUILTINS:
                self.report(target, f"'{target.id}' cannot be raised: "
                                    f"{language.FORBIDDEN_BUILTINS[target.id]}")
                return
            if not self._check_ident(target.id, target):
                return
        self.report(
            exc,
            "raise must name an allowed exception, e.g. raise ValueError(\"...\"), or use "
            f"revert(message); to re-raise inside except, write a bare 'raise' "
            f"(allowed: {_EXC_LIST})",
        )

    def rule_handler(self, node: ast.ExceptHandler, **_):
        if node.type is None:
            self.report(node, "a bare 'except:' is not allowed (it would catch the engine's "
                              "limits); write 'except Exception:' or a specific error")
        else:
            elts = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            for e in elts:
                if isinstance(e, ast.Name):
                    self.handled.add(id(e))
                    if e.id in language.ALLOWED_EXCEPTIONS and e.id not in self.bound:
                        continue
                    if e.id in language.FORBIDDEN_BUILTINS:
                        self.report(e, f"'except {e.id}' is not allowed: "
                                       f"{language.FORBIDDEN_BUILTINS[e.id]}")
                        continue
                    if not self._check_ident(e.id, e):
                        continue
                self.report(e, f"except must name allowed exceptions ({_EXC_LIST}); "
                               "engine limits cannot be caught")
        if node.name is not None:
            col = self._ident_col(node.lineno, node.col_offset, " as ")
            col = col + 4 if col is not None else None
            self._check_binding(node.name, node, byte_col=col)

    def rule_fn(self, node: ast.FunctionDef, *, fn_depth, **_):
        name_col = self._ident_col(node.lineno, node.col_offset + 4, node.name)
        self._check_binding(node.name, node, byte_col=name_col)
        if getattr(node, "type_params", None):
            self.report(node, "type parameters are not supported")
        kinds = []
        for d in node.decorator_list:
            if isinstance(d, ast.Name) and self.api(d.id) in language.ENTRY_DECORATORS:
                self.handled.add(id(d))
                kinds.append((language.ENTRY_DECORATORS[self.api(d.id)], d))
            else:
                self.report(d, "only the @public, @view and @constructor decorators "
                               "(imported from pycontract) are allowed")
        args = node.args
        for d in list(args.defaults) + [x for x in args.kw_defaults if x is not None]:
            try:
                _literal_value(d, mutable=False, allow_tuple=True)
            except _BadConstant:
                pass
            except ValueError:
                self.report(d, "default values must be literals (int, str, bytes, bool, None or "
                               "a tuple of them); use None and set the value in the body")
        if not kinds:
            return
        if len(kinds) > 1:
            self.report(kinds[1][1], "a function can have only one of @public, @view and "
                                     "@constructor")
        kind = kinds[0][0]
        if fn_depth > 0:
            self.report(kinds[0][1], f"@{kind} may only decorate module-level functions")
            return
        if kind == "constructor":
            if self.constructor_line is not None:
                self.report(kinds[0][1], "a contract can have only one @constructor (the first "
                                         f"is at line {self.constructor_line})")
            else:
                self.constructor_line = node.lineno
        if args.vararg is not None or args.kwarg is not None:
            bad = args.vararg or args.kwarg
            self.report(bad, "entry points cannot take *args or **kwargs; list each parameter "
                             "by name")
        if args.posonlyargs:
            self.report(args.posonlyargs[0], "entry-point parameters are passed by name; "
                                             "remove the '/'")
        params = []
        plain = list(args.posonlyargs) + list(args.args)
        n_no_default = len(plain) - len(args.defaults)
        defaults = [None] * n_no_default + list(args.defaults)
        pairs = list(zip(plain, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
        for a, d in pairs:
            ann = None
            if a.annotation is not None:
                if isinstance(a.annotation, ast.Name) and a.annotation.id in PARAM_ANNOTATIONS:
                    ann = a.annotation.id
                else:
                    self._mark_handled(a.annotation)
                    self.report(a.annotation,
                                f"entry-point parameter '{a.arg}' must be annotated with one of "
                                f"{', '.join(PARAM_ANNOTATIONS)} (or not at all)")
            default = None
            if d is not None:
                try:
                    default = _literal_value(d, mutable=False, allow_tuple=True)
                except ValueError:
                    pass  # reported above
            params.append(Param(a.arg, ann, d is not None, default))
        returns = None
        r = node.returns
        if r is not None:
            if isinstance(r, ast.Name) and r.id in PARAM_ANNOTATIONS + ("tuple",):
                returns = r.id
            elif isinstance(r, ast.Constant) and r.value is None:
                returns = "None"
            else:
                self._mark_handled(r)
                self.report(r, "an entry point's return annotation must be one of "
                               f"{', '.join(PARAM_ANNOTATIONS)}, tuple or None (or absent)")
        if node.name not in self.entry_points:
            self.entry_points[node.name] = EntryPoint(node.name, kind, tuple(params), returns,
                                                      node.lineno)


# --------------------------------------------------------------------------- 5. transforms


class _Stripper(ast.NodeTransformer):
    """Removes imports, decorators and annotations (metadata was recorded by the policy)."""

    def visit_Module(self, node):
        node.body = [s for s in node.body if not isinstance(s, ast.ImportFrom)]
        self.generic_visit(node)
        return node

    def _fix_body(self, node, field, original):
        body = getattr(node, field)
        if original and not body:
            p = ast.Pass()
            ast.copy_location(p, original[0])
            setattr(node, field, [p])

    def generic_visit(self, node):
        originals = {}
        for field in ("body", "orelse", "finalbody"):
            val = getattr(node, field, None)
            if isinstance(val, list) and val and not isinstance(node, ast.Module):
                originals[field] = list(val)
        super().generic_visit(node)
        for field, orig in originals.items():
            self._fix_body(node, field, orig)  # a block emptied by stripping gets a Pass
        return node

    def visit_FunctionDef(self, node):
        node.decorator_list = []
        node.returns = None
        a = node.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            if arg is not None:
                arg.annotation = None
        return self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is None:
            return None
        new = ast.Assign(targets=[node.target], value=node.value)
        ast.copy_location(new, node)
        return self.generic_visit(new)


class _Restrictor(RestrictingNodeTransformer):
    """RestrictedPython's transformer, collecting positioned problems; AugAssign kept."""

    def __init__(self, smap: SourceMap):
        super().__init__()
        self.smap = smap
        self.problems: list[Problem] = []

    def error(self, node, info):
        self.problems.append(self.smap.node_problem(
            node, f"refused by the sandbox rules: {info}"))

    def warn(self, node, info):
        pass  # only print-related notes; print is refused by the policy

    def visit_AugAssign(self, node):
        t = node.target
        if isinstance(t, ast.Name):
            self.check_name(t, t.id)
        elif isinstance(t, ast.Subscript):
            t.value = self.visit(t.value)
            t.slice = self.visit(t.slice)
        else:
            self.error(node, "Augmented assignment of attributes is not allowed.")
            return node
        node.value = self.visit(node.value)
        return node


def _finish(tree: ast.Module, policy: _Policy):
    """Storage factories, f-string normalization, locations everywhere."""
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id in policy.storage
            and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name)
            and policy.api(stmt.value.func.id) in _STORAGE_API
        ):
            name = stmt.targets[0].id
            call = ast.Call(
                func=ast.Name(STORAGE_FACTORY_NAME, ast.Load()),
                args=[ast.Constant(name)],
                keywords=[],
            )
            for n in (call, call.func, call.args[0]):
                ast.copy_location(n, stmt.value)
                n.end_lineno = stmt.value.end_lineno
                n.end_col_offset = stmt.value.end_col_offset
            stmt.value = call
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.JoinedStr):
            _normalize_fstring(node, node)
        stack.extend(ast.iter_child_nodes(node))
    ast.fix_missing_locations(tree)


def _set_loc(node, src):
    node.lineno = src.lineno
    node.col_offset = src.col_offset
    node.end_lineno = src.end_lineno
    node.end_col_offset = src.end_col_offset


def _normalize_fstring(js: ast.JoinedStr, outer: ast.JoinedStr):
    values = []
    for v in js.values:
        if isinstance(v, ast.Constant):
            if v.value == "":
                continue
            if values and isinstance(values[-1], ast.Constant):
                values[-1] = ast.Constant(values[-1].value + v.value)
                _set_loc(values[-1], outer)
                continue
            _set_loc(v, outer)
        elif isinstance(v, ast.FormattedValue):
            _set_loc(v, outer)
            if v.format_spec is not None:
                if isinstance(v.format_spec, ast.JoinedStr):
                    _normalize_fstring(v.format_spec, outer)
                    _set_loc(v.format_spec, outer)
        values.append(v)
    js.values = values
