"""Vetting (one stage): contract source in, a restricted and annotated AST out (or every problem found).

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

Modules, in pipeline order: :mod:`.text`, :mod:`.parse`, :mod:`.policy` (with the node table in
:mod:`.nodes`), :mod:`.transform`; the output types are in :mod:`.entry_points`.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from pycontract.diagnostics import Problem, SourceMap, normalize_newlines
from pycontract.errors import VetError
from pycontract.vetting.entry_points import (  # noqa: F401 (the stage's output types)
    EntryPoint,
    Param,
    StorageDecl,
    VettedModule,
    summary,
)
from pycontract.vetting.parse import _check_fstrings, _check_shape, _parse
from pycontract.vetting.parse import MAX_AST_DEPTH, MAX_AST_NODES  # noqa: F401
from pycontract.vetting.policy import STORAGE_FACTORY_NAME, _Policy  # noqa: F401
from pycontract.vetting.text import (  # noqa: F401
    MAX_BRACKET_DEPTH,
    MAX_LINES,
    MAX_OPERATORS_PER_LINE,
    MAX_SOURCE_BYTES,
    _precheck,
)
from pycontract.vetting.transform import _Restrictor, _Stripper, _finish

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

#: frames of Python stack guaranteed to vetting's recursive visitors (and to 3.11's AST builder)
_STACK_HEADROOM = 3000

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


