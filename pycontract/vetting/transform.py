"""Transform: a policy-clean tree in, the restricted tree the gas rewriter relies on out.

Strips imports/decorators/annotations, runs RestrictedPython's transformer, installs storage
factories and normalizes f-strings so the tree is identical on 3.11-3.13.
"""

from __future__ import annotations

import ast
from RestrictedPython.transformer import RestrictingNodeTransformer

from pycontract.diagnostics import Problem, SourceMap
from pycontract.vetting.policy import STORAGE_FACTORY_NAME, _Policy, _STORAGE_API

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
