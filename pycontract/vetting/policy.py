"""Node policy: a parsed tree in, problems plus entry-point/storage metadata out.

Every node is checked against the node table (:mod:`pycontract.vetting.nodes`); names,
attributes, imports, decorators, exceptions, storage declarations and entry points against
:mod:`pycontract.language`.
"""

from __future__ import annotations

import ast

from pycontract import language
from pycontract.diagnostics import Problem, SourceMap
from pycontract.vetting.entry_points import EntryPoint, Param, StorageDecl
from pycontract.vetting.nodes import _ALLOWED_NODES, _REFUSED_NODES, is_singleton_const

STORAGE_FACTORY_NAME = "_pc_storage_"
#: annotations an entry-point parameter may carry (enforced at call time by the engine)
PARAM_ANNOTATIONS = ("int", "str", "bool", "bytes", "list", "dict")
#: names RestrictedPython reserves (it rewrites ``print``/``printed`` itself)
_RESERVED_NAMES = frozenset({"print", "printed", "builtins", "breakpoint"})
_STORAGE_API = {"Map": "map", "Value": "value"}

_API_LIST = ", ".join(sorted(language.API_NAMES))
_EXC_LIST = ", ".join(sorted(language.ALLOWED_EXCEPTIONS))

def _underscore_msg(what: str, name: str) -> str:
    return (
        f"{what} '{name}' begins with '_': names starting with an underscore are reserved "
        "for the engine; use a name without the leading underscore"
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


#: nested blocks one function may hold (see _Policy._block_nesting)
MAX_BLOCK_NESTING = 12


def _block_children(node):
    """(child, blocks it adds): a loop body 1; a try body 1, its handlers and finally 2."""
    if isinstance(node, (ast.For, ast.While)):
        body = set(map(id, node.body))
        return [(c, 1 if id(c) in body else 0) for c in ast.iter_child_nodes(node)]
    if isinstance(node, ast.Try):
        body, orelse = set(map(id, node.body)), set(map(id, node.orelse))
        return [(c, 1 if id(c) in body or id(c) in orelse else 2)
                for c in ast.iter_child_nodes(node)]
    return [(c, 0) for c in ast.iter_child_nodes(node)]


def _children_in_loop(node, in_loop: bool):
    """(child, whether the child is inside a loop body of the current function): a loop's
    ``else`` is outside it, a function (or lambda) body starts outside any loop."""
    if isinstance(node, (ast.For, ast.While)):
        body = set(map(id, node.body))
        return [(c, True if id(c) in body else in_loop) for c in ast.iter_child_nodes(node)]
    if isinstance(node, (ast.FunctionDef, ast.Lambda)):
        return [(c, False) for c in ast.iter_child_nodes(node)]
    return [(c, in_loop) for c in ast.iter_child_nodes(node)]


class _Policy:
    """The whitelist checks and the metadata of entry points and storage."""

    def __init__(self, smap: SourceMap):
        self._starred_ok: set[int] = set()  # starred expressions where a value may be unpacked
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
        self.class_attrs: set[str] = set()  # attributes of refused classes (no follow-ups)

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
        self._compiler_rules(tree)

    # ---- what CPython's compiler (not its parser) refuses: said here, positioned, in our own
    # words (identical on every interpreter), so such code is refused at deploy and never
    # reaches compile() in the worker
    def _compiler_rules(self, tree: ast.Module):
        self._block_nesting(tree)
        stack = [(tree, False)]  # (node, inside a loop body of the current function)
        while stack:
            node, in_loop = stack.pop()
            if isinstance(node, (ast.Break, ast.Continue)) and not in_loop:
                word = "break" if isinstance(node, ast.Break) else "continue"
                self.report(node, f"'{word}' outside a loop: it must be inside the body of a "
                                  "'for' or 'while' of the same function")
            elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
                self._duplicate_params(node)
            elif isinstance(node, (ast.Assign, ast.For, ast.comprehension)):
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    self._starred_target(t, top=True)
            elif isinstance(node, ast.Starred) and isinstance(node.ctx, ast.Load):
                if id(node) not in self._starred_ok:
                    self.report(node, "a starred expression can only appear in a call's "
                                      "arguments or inside a list, tuple or set")
            for child, loop in _children_in_loop(node, in_loop):
                if isinstance(child, (ast.List, ast.Tuple, ast.Set)):
                    self._starred_ok.update(id(e) for e in child.elts
                                            if isinstance(e, ast.Starred))
                elif isinstance(child, ast.Call):
                    self._starred_ok.update(id(e) for e in child.args
                                            if isinstance(e, ast.Starred))
                stack.append((child, loop))

    def _block_nesting(self, tree: ast.Module):
        """At most MAX_BLOCK_NESTING nested loops / try parts in one function: CPython's
        compiler has a limit of its own (20 blocks, counted differently by 3.11 and 3.13, and
        the metered code adds a block per function), so ours sits well below it."""
        stack = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.Lambda)):
                depth = 0
            for child, extra in _block_children(node):
                d = depth + extra
                if extra and d > MAX_BLOCK_NESTING:
                    self.report(child, f"more than {MAX_BLOCK_NESTING} nested loops and try "
                                       "blocks in one function (a handler or finally counts "
                                       "twice); move the inner part into a function of its own")
                    continue  # one report per path
                stack.append((child, d))

    def _duplicate_params(self, fn):
        a = fn.args
        seen = set()
        for arg in [*a.posonlyargs, *a.args, a.vararg, *a.kwonlyargs, a.kwarg]:
            if arg is None:
                continue
            if arg.arg in seen:
                self.report(arg, f"parameter '{arg.arg}' is listed twice; give each parameter "
                                 "its own name")
            seen.add(arg.arg)

    def _starred_target(self, target, *, top: bool):
        if isinstance(target, ast.Starred):
            if top:
                self.report(target, "a starred assignment target must be inside a list or "
                                    "tuple: write '*a, = ...'")
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            starred = [e for e in target.elts if isinstance(e, ast.Starred)]
            if len(starred) > 1:
                self.report(starred[1], "only one starred target per unpacking: CPython "
                                        "cannot split the rest between two")
            for e in target.elts:
                self._starred_target(e.value if isinstance(e, ast.Starred) else e, top=False)

    def _collect(self, tree):
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.bound.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.bound.add(node.name)
                if isinstance(node, ast.ClassDef):
                    self._class_attributes(node)
            elif isinstance(node, ast.arg):
                self.bound.add(node.arg)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self.bound.add(node.name)
            elif isinstance(node, ast.ImportFrom) and node.module == "pycontract" \
                    and node.level == 0:
                for a in node.names:
                    if a.name in language.API_NAMES:
                        self.imports[a.asname or a.name] = a.name

    def _class_attributes(self, cls: ast.ClassDef):
        """The attribute names a (refused) class defines: its methods and the ``obj.NAME``
        it assigns. Uses of them elsewhere (``p.x``) are follow-ups of the one class
        refusal, not problems of their own."""
        for n in ast.walk(cls):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n is not cls:
                self.class_attrs.add(n.name)
            elif isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load):
                self.class_attrs.add(n.attr)
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                self.class_attrs.add(n.id)

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
            if t is ast.ClassDef:
                return  # one problem for the class, none for what is inside it
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
        elif attr not in language.ALLOWED_ATTRIBUTE_NAMES and attr not in self.class_attrs:
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
                is_singleton_const(left) or is_singleton_const(right)
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

    def rule_lambda_(self, node: ast.Lambda, **_):
        self._literal_defaults(node.args)

    def _literal_defaults(self, args: ast.arguments):
        for d in list(args.defaults) + [x for x in args.kw_defaults if x is not None]:
            try:
                _literal_value(d, mutable=False, allow_tuple=True)
            except _BadConstant:
                pass
            except ValueError:
                self.report(d, "default values must be literals (int, str, bytes, bool, None or "
                               "a tuple of them); use None and set the value in the body")

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
        self._literal_defaults(args)
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
        params = self._entry_params(args)
        returns = self._entry_returns(node.returns)
        if node.name not in self.entry_points:
            self.entry_points[node.name] = EntryPoint(node.name, kind, tuple(params), returns,
                                                      node.lineno)

    def _entry_params(self, args: ast.arguments) -> list[Param]:
        """An entry point's parameters: by name, annotated with a plain type or not at all."""
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
        return params

    def _entry_returns(self, r) -> str | None:
        """An entry point's return annotation: a plain type, tuple, None, or absent."""
        returns = None
        if r is not None:
            if isinstance(r, ast.Name) and r.id in PARAM_ANNOTATIONS + ("tuple",):
                returns = r.id
            elif isinstance(r, ast.Constant) and r.value is None:
                returns = "None"
            else:
                self._mark_handled(r)
                self.report(r, "an entry point's return annotation must be one of "
                               f"{', '.join(PARAM_ANNOTATIONS)}, tuple or None (or absent)")
        return returns


