"""The one table of AST node kinds: for each kind a contract may contain, its policy rule, its
gas weight and the child fields the rewriter weighs with it (and the refused kinds, with their
message). Vetting's policy, the gas schedule and the rewriter all read their views from here.
"""

from __future__ import annotations

import ast
from types import MappingProxyType
from typing import NamedTuple


class Kind(NamedTuple):
    """One allowed AST node kind: everything the pipeline needs to know about it."""

    #: the policy's ``rule_<rule>`` method (pycontract.vetting.policy), None: no node rule
    rule: str | None
    #: gas weight, charged when the basic block containing the node is entered (part of the
    #: gas schedule: changing one bumps GAS_SCHEDULE_VERSION); None: never in metered code
    weight: int | None
    #: child fields evaluated with the node, walked by the rewriter's weight() (explicit: the
    #: generic field lists differ between 3.11, 3.12 and 3.13); None: special-cased there
    #: (f-strings, comprehensions) or not weighed
    children: tuple[str, ...] | None


#: contexts and operators: allowed, no rule, weighed as part of their parent
_PART = Kind(None, None, None)

#: every node kind a contract may contain; a kind missing here is refused. Adding a node is one
#: row here, its policy rule (if any), the rewriter's handling and its tests.
NODE_KINDS: dict[type, Kind] = {
    ast.Module: Kind(None, None, None),
    ast.FunctionDef: Kind("fn", 4, ("decorator_list", "args")),
    # creating a lambda is weighed like a def; its body is charged at every call (_pc_lam)
    ast.Lambda: Kind("lambda_", 4, ("args",)),
    ast.Return: Kind(None, 1, ("value",)),
    ast.Assign: Kind("assign", 1, ("targets", "value")),
    ast.AugAssign: Kind("augassign", 2, ("target", "value")),
    ast.AnnAssign: Kind("annassign", 1, ("target", "value")),
    ast.For: Kind("for_", 1, ("iter",)),
    ast.While: Kind(None, 1, ("test",)),
    ast.If: Kind(None, 1, ("test",)),
    ast.Raise: Kind("raise_", 2, ("exc", "cause")),
    ast.Try: Kind(None, 1, ()),
    ast.ExceptHandler: Kind("handler", 1, ("type",)),
    ast.Assert: Kind(None, 2, ("test", "msg")),
    ast.ImportFrom: Kind("importfrom", None, None),
    ast.Expr: Kind(None, 1, ("value",)),
    ast.Pass: Kind(None, 1, ()),
    ast.Break: Kind(None, 1, ()),
    ast.Continue: Kind(None, 1, ()),
    ast.Delete: Kind("delete", 1, ("targets",)),
    ast.BoolOp: Kind(None, 1, ("values",)),
    ast.BinOp: Kind("binop", 1, ("left", "right")),
    ast.UnaryOp: Kind(None, 1, ("operand",)),
    ast.IfExp: Kind(None, 1, ("test", "body", "orelse")),
    ast.Dict: Kind(None, 1, ("keys", "values")),
    ast.ListComp: Kind(None, 3, None),
    ast.DictComp: Kind(None, 3, None),
    ast.GeneratorExp: Kind(None, 3, None),
    ast.comprehension: Kind("comprehension", 0, None),
    ast.Compare: Kind("compare", 1, ("left", "comparators")),
    ast.Call: Kind("call", 2, ("func", "args", "keywords")),
    ast.FormattedValue: Kind("formatted", 2, ("value", "format_spec")),
    ast.JoinedStr: Kind(None, 1, None),
    ast.Constant: Kind("constant", 1, ()),
    ast.Attribute: Kind("attribute", 1, ("value",)),
    ast.Subscript: Kind(None, 1, ("value", "slice")),
    ast.Starred: Kind(None, 1, ("value",)),
    ast.Name: Kind("name", 1, ()),
    ast.List: Kind(None, 1, ("elts",)),
    ast.Tuple: Kind(None, 1, ("elts",)),
    ast.Slice: Kind(None, 1, ("lower", "upper", "step")),
    ast.arguments: Kind(None, 0, ("defaults", "kw_defaults")),
    ast.arg: Kind("arg", 0, ()),
    ast.keyword: Kind("keyword", 1, ("value",)),
    ast.alias: Kind(None, None, None),
}
for _t in (
    ast.Load, ast.Store, ast.Del,
    ast.And, ast.Or,
    ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift,
    ast.BitOr, ast.BitXor, ast.BitAnd, ast.Invert, ast.Not, ast.UAdd, ast.USub,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
):
    NODE_KINDS[_t] = _PART

def is_singleton_const(node) -> bool:
    """``None``/``True``/``False`` literal: the only operands ``is`` may compare against."""
    return isinstance(node, ast.Constant) and (
        node.value is None or node.value is True or node.value is False
    )


#: views of the table for each stage
_ALLOWED_NODES: dict[type, str | None] = {t: k.rule for t, k in NODE_KINDS.items()}
NODE_WEIGHTS = MappingProxyType(
    {t.__name__: k.weight for t, k in NODE_KINDS.items() if k.weight is not None}
)
CHILD_FIELDS = MappingProxyType(
    {t.__name__: k.children for t, k in NODE_KINDS.items() if k.children is not None}
)

#: node types refused, with the message (what is wrong and what to write instead)
_REFUSED_NODES: dict[type, str] = {
    ast.Import: "only 'from pycontract import ...' is allowed; contracts cannot import modules",
    ast.ClassDef: "classes are not supported; use functions and dicts",
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


