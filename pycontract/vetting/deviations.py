"""Warnings (not problems) for the places where a vetted contract depends, visibly in its source,
on one of the engine's remaining deviations from CPython (docs/language.md, "Where the engine
differs from CPython"): its plain-Python tests pass there while the chain may do otherwise.

``pycontract check`` prints them after a successful vet; they never refuse a deploy.
"""

from __future__ import annotations

import ast

from pycontract.diagnostics import Problem

_VIEWS = ("keys", "values", "items")
_CASE = frozenset({"upper", "lower", "title", "capitalize", "swapcase", "casefold", "isalpha",
                   "isalnum", "isdigit", "isdecimal", "islower", "isupper", "isspace"})
#: calls that consume an iterable at once: a dict view passed to them behaves like a list
_CONSUMERS = frozenset({"list", "sorted", "len", "tuple", "enumerate", "zip", "sum", "min", "max",
                        "any", "all", "map", "filter", "reversed", "dict"})

MSG_VIEW = ("warning: dict.{0}() is a list snapshot in contracts, not a live view: kept, "
            "compared or combined, it can differ from CPython (docs/language.md)")
MSG_EXC_STR = ("warning: str() of a caught exception is the engine's text when the interpreter "
               "raised it (KeyError/AttributeError detail, else the type name), not CPython's "
               "version-dependent message (docs/language.md)")
MSG_DICT_ARG = ("warning: dict argument '{0}' arrives in canonical key order (sorted), not in "
                "the caller's insertion order (docs/language.md)")
MSG_CASE = ("warning: '{0}' accepts ASCII text only in contracts (ValueError here); Unicode "
            "case tables differ between Python versions (docs/language.md)")


def deviation_warnings(source: str, filename: str) -> list[Problem]:
    """The warnings for ``source`` (already vetted), sorted by position."""
    text = source[1:] if source.startswith("\ufeff") else source
    try:
        tree = ast.parse(text)
    except SyntaxError:  # pragma: no cover - vetted source parses
        return []
    lines = text.splitlines()
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    out = []

    def warn(node, message):
        line = getattr(node, "lineno", 1)
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        col = len(src.encode("utf-8")[:node.col_offset].decode("utf-8", "replace")) + 1
        out.append(Problem(filename, line, col, message, kind="warning", source_line=src))

    dict_params = set()
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.decorator_list:
            for a in fn.args.args + fn.args.kwonlyargs:
                if isinstance(a.annotation, ast.Name) and a.annotation.id == "dict":
                    dict_params.add((fn, a.arg))
    handler_names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.name:
            for n in ast.walk(node):
                handler_names[n] = node.name

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr in _VIEWS and not node.args and not node.keywords \
                    and not _consumed(node, parents):
                warn(node, MSG_VIEW.format(attr))
            elif attr in _CASE and isinstance(node.func.value, ast.Constant) \
                    and isinstance(node.func.value.value, str) \
                    and not node.func.value.value.isascii():
                warn(node, MSG_CASE.format(attr))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "str" and len(node.args) == 1 \
                and isinstance(node.args[0], ast.Name) \
                and handler_names.get(node) == node.args[0].id:
            warn(node, MSG_EXC_STR)
        if isinstance(node, ast.FormattedValue) and isinstance(node.value, ast.Name) \
                and handler_names.get(node) == node.value.id:
            warn(node.value, MSG_EXC_STR)
    for fn, name in sorted(dict_params, key=lambda p: (p[0].lineno, p[1])):
        for node in ast.walk(fn):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load) \
                    and _iterated(node, parents):
                warn(node, MSG_DICT_ARG.format(name))
                break
    seen = set()
    uniq = []
    for p in sorted(out, key=Problem.sort_key):
        if (p.line, p.col, p.message) not in seen:
            seen.add((p.line, p.col, p.message))
            uniq.append(p)
    return uniq


def _consumed(call, parents) -> bool:
    """A view used at once as an iterable (a loop, a comprehension, ``x in``, a consuming
    builtin): a list behaves the same there."""
    p = parents.get(call)
    if isinstance(p, (ast.For, ast.comprehension)) and p.iter is call:
        return True
    if isinstance(p, ast.Call) and isinstance(p.func, ast.Name) and p.func.id in _CONSUMERS \
            and call in p.args:
        return True
    if isinstance(p, ast.Compare) and call in p.comparators \
            and all(isinstance(o, (ast.In, ast.NotIn)) for o in p.ops):
        return True
    if isinstance(p, ast.Starred):
        return True
    return False


def _iterated(name, parents) -> bool:
    """The dict parameter's order is observed: iterated, viewed, listed or shown."""
    p = parents.get(name)
    if isinstance(p, (ast.For, ast.comprehension)) and p.iter is name:
        return True
    if isinstance(p, ast.Attribute) and p.attr in _VIEWS + ("popitem",):
        return True
    if isinstance(p, ast.Call) and isinstance(p.func, ast.Name) \
            and p.func.id in ("list", "tuple", "str", "enumerate", "zip", "map", "filter",
                              "reversed") and name in p.args:
        return True
    if isinstance(p, ast.FormattedValue) or isinstance(p, ast.Starred):
        return True
    return False
