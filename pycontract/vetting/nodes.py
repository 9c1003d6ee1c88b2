"""The AST node kinds a contract may contain (and the refused ones, with their message).

The policy reads the rule name of each allowed kind; a kind missing here is refused.
"""

from __future__ import annotations

import ast

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


