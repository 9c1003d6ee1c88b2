"""Rewrite a vetted contract tree into metered code.

What the rewriter inserts (every name begins with ``_pc_``, which contract code cannot name):

* a charge at the entry of every basic block: the straight-line run of simple statements up to
  and including the header of the next compound statement, priced as the sum of the static
  weights (``schedule.NODE_WEIGHTS``) of the nodes in it::

      _pc_m.g -= K
      if _pc_m.g < 0: _pc_oog()

  (schedule 6: moved up to the earliest block that always leads to it, see ``_settle`` and
  ``visit_If``, so fewer charges run per path);
* a charge at the TOP of every loop body (loop iteration + the loop test / target + the body's
  first block), so ``continue`` and caught exceptions cannot skip it (schedule 6: for every
  iteration up front, ``_pc_rng``, for a ``for`` over ``range`` that cannot break or return);
* at every function entry a charge (call + first block), then the engine-owned call depth
  counter ``_pc_m.d`` (incremented, checked against ``call_depth_limit``, decremented in a
  ``finally``), or, in the copy of a closed self-recursive function (``recursive_copy``), a
  test of the depth parameter ``_pc_d``;
* comprehension / generator-expression iterables wrapped in ``_pc_citer(it, per_item_gas)``;
* size-dependent operations routed to runtime helpers that charge by size BEFORE the work:
  ``+ * ** << // % |`` (``_pc_add`` ...), comparisons of non-constant operands, ``in``,
  ``is``, augmented assignment, f-string fields (``_pc_fmt``), star-unpacking
  (``_pc_star``/``_pc_dstar``), non-constant dict display keys (``_pc_hk``, nesting check),
  exception construction (``_pc_exc``, which records a contract-given message) and ``assert``.

Weights are computed on the vetted tree with an explicit table of child fields per node type
(:data:`CHILD_FIELDS`), never by generic field walking, so the figures are identical on CPython
3.11, 3.12 and 3.13. Every node of a simple statement (and of a compound statement's header) is
given that statement's line, so tracebacks name the same line on every version.
"""

from __future__ import annotations

import ast
import builtins
import copy
from collections.abc import Mapping

from pycontract.metering import helpers
from pycontract.metering.helpers import RECURSIVE_PREFIX
from pycontract.metering.schedule import MAX_GAS_LIMIT, NODE_WEIGHTS, SCHEDULE
from pycontract.language import (
    ALLOWED_BUILTINS, ALLOWED_EXCEPTIONS, API_NAMES, FORBIDDEN_BUILTINS,
)
from pycontract.vetting.nodes import CHILD_FIELDS, is_singleton_const

SIMPLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Pass, ast.Break,
          ast.Continue, ast.Delete, ast.Raise, ast.Assert)

_SMALL_CONST_LEN = 256


def weight(node) -> int:
    """Static weight of evaluating ``node`` once (iterative; explicit child table)."""
    total = 0
    for n, name in _table_walk(node, _weight_fields):
        try:
            total += NODE_WEIGHTS[name]
        except KeyError:
            raise TypeError(f"gas_rewriter: no weight for node type {name}") from None
        if name == "Call" and isinstance(n.func, ast.Name) and n.func.id == "str":
            total += SCHEDULE.str_call  # v6: prepaid str() of a small int (see visit_Call)
    return total


def _weight_fields(n, name):
    if name in ("ListComp", "GeneratorExp", "DictComp"):
        return (n.generators[0].iter,)  # the rest is charged per item
    return _children(n, name, () if name == "JoinedStr" else CHILD_FIELDS[name])


#: the fields :data:`CHILD_FIELDS` leaves out (statement bodies, comprehension parts,
#: parameters: the weight walk charges them elsewhere) that a tree's size includes
_SIZE_FIELDS = {
    "Module": ("body",), "FunctionDef": ("body",), "If": ("body", "orelse"),
    "For": ("target", "body", "orelse"), "While": ("body", "orelse"),
    "Try": ("body", "handlers", "orelse", "finalbody"), "ExceptHandler": ("body",),
    "Lambda": ("body",), "arguments": ("posonlyargs", "args", "vararg", "kwonlyargs", "kwarg"),
    "ListComp": ("elt", "generators"), "SetComp": ("elt", "generators"),
    "GeneratorExp": ("elt", "generators"), "DictComp": ("key", "value", "generators"),
    "comprehension": ("target", "iter", "ifs"), "Set": ("elts",),
}


def node_count(node) -> int:
    """Nodes of ``node``'s tree, walked by the explicit child tables like :func:`weight` (so
    the same on every CPython version): the size a deploy pays for per version of the code
    the rewriter writes and compiles (``deploy_node``, schedule 7); a ``def`` counts
    ``deploy_function_nodes`` more for its fixed work (entry, facts, wrapper)."""
    total = 0
    for _n, name in _table_walk(node, _size_fields):
        total += 1 + (SCHEDULE.deploy_function_nodes if name == "FunctionDef" else 0)
    return total


def _size_fields(n, name):
    return _children(n, name, CHILD_FIELDS.get(name, ()) + _SIZE_FIELDS.get(name, ()))


def _table_walk(node, fields_of):
    """Every node of ``node``'s tree with its class name, children given by ``fields_of(n,
    name)`` (explicit tables, never CPython's generic field lists, which differ by version)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n is None:
            continue
        name = type(n).__name__
        yield n, name
        stack.extend(fields_of(n, name))


def _children(n, name, fields) -> list:
    """The children of ``n`` in ``fields`` (of an f-string: its formatted values only; how its
    literal parts are split differs between CPython versions)."""
    if name == "JoinedStr":
        return [v for v in n.values if isinstance(v, ast.FormattedValue)]
    out = []
    for f in fields:
        v = getattr(n, f, None)
        if isinstance(v, list):
            out.extend(v)
        elif v is not None:
            out.append(v)
    return out


def _flat_assign_unpack(stmt) -> bool:
    return (
        isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
        and _flat_names(stmt.targets[0]) and _unpack_call(stmt.value, "_unpack_sequence_")
    )


def header_weight(stmt) -> int:
    """Weight of a statement as part of the block that contains it (bodies excluded)."""
    w = weight(stmt)
    if _flat_assign_unpack(stmt):
        w += flat_unpack_units(stmt.targets[0])
    return w


def _name(id_, ctx=None):
    return ast.Name(id=id_, ctx=ctx or ast.Load())


def _call(fname, *args):
    return ast.Call(func=_name(fname), args=list(args), keywords=[])


def _const(v):
    return ast.Constant(value=v)


def charge_stmts(k: int, check: bool = True):
    """``_pc_m.g -= k`` ; ``if _pc_m.g < 0: _pc_oog()`` (the test only when ``check``)"""
    sub = ast.AugAssign(
        target=ast.Attribute(value=_name("_pc_m"), attr="g", ctx=ast.Store()),
        op=ast.Sub(), value=_const(k),
    )
    if not check:
        return [sub]
    chk = ast.If(
        test=ast.Compare(
            left=ast.Attribute(value=_name("_pc_m"), attr="g", ctx=ast.Load()),
            ops=[ast.Lt()], comparators=[_const(0)],
        ),
        body=[ast.Expr(value=_call("_pc_oog"))], orelse=[],
    )
    return [sub, chk]


def _is_charge_test(st) -> bool:
    """``if _pc_m.g < 0: _pc_oog()`` as ``charge_stmts`` writes it."""
    t = st.test
    return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Attribute)
            and t.left.attr == "g" and isinstance(t.left.value, ast.Name)
            and t.left.value.id == "_pc_m")


def _is_small_const(n) -> bool:
    if not isinstance(n, ast.Constant):
        return False
    v = n.value
    if v is None or isinstance(v, (bool, int)):
        return True
    if isinstance(v, (str, bytes)):
        return len(v) <= _SMALL_CONST_LEN
    return False


def _is_int_const(n) -> bool:
    return isinstance(n, ast.Constant) and type(n.value) is int


_BINOP_HELPER = {
    ast.Add: "_pc_add", ast.Sub: "_pc_sub", ast.Mult: "_pc_mul", ast.Pow: "_pc_pow", ast.LShift: "_pc_lshift",
    ast.FloorDiv: "_pc_floordiv", ast.Mod: "_pc_mod", ast.BitOr: "_pc_or", ast.BitAnd: "_pc_and",
    ast.BitXor: "_pc_xor", ast.RShift: "_pc_rshift",
}
_OPNAME = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Pow: "pow", ast.LShift: "lshift",
    ast.RShift: "rshift", ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.BitOr: "or",
    ast.BitAnd: "and", ast.BitXor: "xor",
}
_CMPNAME = {
    ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
    ast.In: "in", ast.NotIn: "notin", ast.Is: "is", ast.IsNot: "isnot",
}
_INLINE_CHEAP = (ast.BitAnd, ast.BitXor, ast.RShift)
_UNARY_HELPER = {ast.USub: "_pc_neg", ast.UAdd: "_pc_pos", ast.Invert: "_pc_inv"}
#: ints strictly inside +-_SMALL_INT (at most 64 bits, <= 36 bytes each) may be combined inline
_SMALL_INT = 1 << 64


def _small_int_or(node, operands, helper_call):
    """``node if -2**64 < x < 2**64 [and ...] else helper(...)`` when every operand in
    ``operands`` (those not already proven small) is a name or a small int literal (a non-int
    operand makes the range test raise TypeError, as the operation itself would); the helper
    call alone otherwise."""
    tests = []
    for o in operands:
        if _is_int_const(o):
            if not -_SMALL_INT < o.value < _SMALL_INT:
                return helper_call
        elif isinstance(o, ast.Name):
            tests.append(ast.Compare(left=_const(-_SMALL_INT), ops=[ast.Lt(), ast.Lt()],
                                     comparators=[_name(o.id), _const(_SMALL_INT)]))
        else:
            return helper_call
    if not tests:
        return node
    test = tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(), values=tests)
    return ast.IfExp(test=test, body=node, orelse=copy.deepcopy(helper_call))
#: augmented assignment to a name: in place for lists/dicts where Python is, else the binop
_IOP_HELPER = {
    ast.Add: "_pc_iadd", ast.Sub: "_pc_sub", ast.Mult: "_pc_imul", ast.BitOr: "_pc_ior", ast.Pow: "_pc_pow",
    ast.LShift: "_pc_lshift", ast.FloorDiv: "_pc_floordiv", ast.Mod: "_pc_mod",
}


def _write_target(t) -> bool:
    """``_write_(o)[k]`` as RestrictedPython produces for item stores and deletes."""
    return (
        isinstance(t, ast.Subscript) and isinstance(t.value, ast.Call)
        and isinstance(t.value.func, ast.Name) and t.value.func.id == "_write_"
        and len(t.value.args) == 1 and not t.value.keywords
    )


def _simple(n) -> bool:
    """An operand that can be evaluated twice without effect: a name or an int literal."""
    return isinstance(n, ast.Name) or _is_int_const(n)


def _type_is(n, tname):
    """``_pc_T(n) is _pc_<tname>`` (exact type test; ``_pc_T`` is the real ``type``)."""
    return ast.Compare(left=_call("_pc_T", n), ops=[ast.Is()], comparators=[_name(tname)])


#: str keys up to this length are looked up inline for free; longer ones pay by length in the
#: helpers (``long_key``, schedule 6)
_LONG_KEY = SCHEDULE.long_key


def _short_str_test(k):
    """``_pc_T(k) is _pc_S and _pc_len(k) <= long_key`` for a name ``k``."""
    return ast.BoolOp(op=ast.And(), values=[
        _type_is(_name(k), "_pc_S"),
        ast.Compare(left=_call("_pc_len", _name(k)), ops=[ast.LtE()],
                    comparators=[_const(_LONG_KEY)])])


def _plain_key_test(k):
    """An exact int, or an exact str of at most ``long_key`` characters: a key whose dict
    lookup is free (``_pc_T(k) is _pc_I or <short str>``)."""
    return ast.BoolOp(op=ast.Or(), values=[_type_is(_name(k), "_pc_I"), _short_str_test(k)])


def _int_guard(*operands, ints=frozenset()):
    """Exact-int test of every operand that is not an int literal or a name proven to hold an
    int (None if all are)."""
    tests = [_type_is(_name(o.id), "_pc_I") for o in operands
             if isinstance(o, ast.Name) and o.id not in ints]
    if not tests:
        return None
    return tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(), values=tests)


def _flat_names(target) -> bool:
    return isinstance(target, ast.Tuple) and target.elts and all(
        isinstance(e, ast.Name) for e in target.elts)


def _unpack_call(n, name):
    """``_iter_unpack_sequence_(it, {'childs': (), ...}, _getiter_)`` (flat, no star)."""
    return (
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
        and len(n.args) == 3 and isinstance(n.args[1], ast.Dict)
        and any(isinstance(k, ast.Constant) and k.value == "childs"
                and isinstance(v, ast.Tuple) and not v.elts
                for k, v in zip(n.args[1].keys, n.args[1].values))
    )


def flat_unpack_units(target) -> int:
    """What the unpack guard charged per unpack of a flat tuple target (1 + elements); the
    rewriter drops the guard for such targets (Python's own unpacking draws at most
    len(target) + 1 items) and charges this statically instead."""
    return 1 + len(target.elts) * SCHEDULE.element


# ---------------------------------------------------------------- int facts

#: ints strictly inside +-_FREE_INT have at most 63 bits: ``+``/``-`` of two of them is free in
#: the sizing helpers (``Ops.add``/``sub``/``iadd``: no gas, no memory), so the rewriter may
#: do it inline once it has PROVEN both operands are ints
_FREE_INT = 1 << 63
#: operator -> the open range +-R within which both int operands make the sizing helper charge
#: nothing (schedule 5: also ``*`` of ints below 2**31 and ``%``/``//`` of ints below 2**64),
#: so the rewriter may do the operation inline there
FREE_INT_RANGE = {ast.Add: _FREE_INT, ast.Sub: _FREE_INT, ast.Mult: 1 << 31,
                  ast.Mod: 1 << 64, ast.FloorDiv: 1 << 64}
#: binary operators whose result is an int whenever both operands are (else they raise)
_INT_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
               ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor)
_SCOPES = (ast.FunctionDef, ast.Lambda, ast.ListComp, ast.GeneratorExp, ast.DictComp,
           ast.SetComp)


def _range_iter(it) -> bool:
    """``_getiter_(range(...))`` as RestrictedPython writes ``for x in range(...)``."""
    return (
        isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "_getiter_"
        and len(it.args) == 1 and not it.keywords and isinstance(it.args[0], ast.Call)
        and isinstance(it.args[0].func, ast.Name) and it.args[0].func.id == "range"
    )


def binds_range(module) -> bool:
    """Whether the module binds the name ``range`` anywhere (then ``range(...)`` proves nothing)."""
    return binds_name(module, "range")


def binds_name(module, name: str) -> bool:
    """Whether the module binds ``name`` anywhere (then a call of it is not the builtin's)."""
    return bool(bound_names(module, (name,)))


def bound_names(module, names) -> set:
    """Which of ``names`` the module binds anywhere (assignment, def, parameter, import,
    except-as): such a name may not be the builtin."""
    out = set()
    for n in ast.walk(module):
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.add(n.name)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
        elif isinstance(n, ast.alias):
            out.add(n.asname or n.name)
    return out & set(names)


#: builtins a comprehension may call and still be known not to change the length of the list it
#: iterates: they run no contract code whatever their arguments (no callbacks, and they never
#: draw an iterator: a lazy ``map``/``filter`` could run contract functions)
_PURE_CALLS = ("str", "int", "len", "abs", "bool")
#: expression nodes that run no contract code by themselves (calls are checked separately)
_PURE_NODES = (ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.IfExp,
               ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.JoinedStr,
               ast.FormattedValue, ast.NamedExpr, ast.Compare, ast.Call,
               ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)


def _enumerate_iter(it) -> bool:
    """``_getiter_(enumerate(x))`` with one positional argument (no start, no star)."""
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
            and it.func.id == "_getiter_" and len(it.args) == 1 and not it.keywords):
        return False
    e = it.args[0]
    return (isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "enumerate"
            and len(e.args) == 1 and not e.keywords and not isinstance(e.args[0], ast.Starred))


def _runs_no_contract_code(exprs, pure_calls) -> bool:
    """Whether evaluating ``exprs`` (vetted, not yet rewritten) can run no contract code, so
    cannot mutate any list: only the node types above, calls of the names in ``pure_calls``
    (and the item guard) without keywords or star-arguments, no ``in`` (it draws a lazy
    iterator), no nested scope (lambda, comprehension), no star-unpacking."""
    for e in exprs:
        for n in ast.walk(e):
            if not isinstance(n, _PURE_NODES):
                return False
            if isinstance(n, ast.Call):
                if not (isinstance(n.func, ast.Name) and n.func.id in pure_calls
                        and not n.keywords
                        and not any(isinstance(a, ast.Starred) for a in n.args)):
                    return False
            elif isinstance(n, ast.Compare):
                if any(isinstance(o, (ast.In, ast.NotIn)) for o in n.ops):
                    return False
    return True
#: ints strictly inside +-_STR_SMALL (below 64 bits) convert for the static ``str_call`` gas
_STR_SMALL = 1 << 63
#: the bytes ``Ops.add_str`` accounts for the digits of ``str(x)`` (besides the result's)
_ADD_STR_MEM = 20


def _str_of(n):
    """``x`` when ``n`` is ``str(x)`` (one positional argument, no star), else None."""
    if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "str"
            and len(n.args) == 1 and not n.keywords
            and not isinstance(n.args[0], ast.Starred)):
        return n.args[0]
    return None


def _is_int_expr(n, ints, funcs=frozenset()) -> bool:
    """An expression that, if it evaluates at all, gives an int (or bool): int literals, names
    proven int, arithmetic of those (the sizing helpers return ints for ints or raise), and
    calls of module functions proven to return ints (``int_functions``)."""
    if isinstance(n, ast.Constant):
        return type(n.value) in (int, bool)
    if isinstance(n, ast.Name):
        return n.id in ints
    if isinstance(n, ast.BinOp):
        return (isinstance(n.op, _INT_BINOPS) and _is_int_expr(n.left, ints, funcs)
                and _is_int_expr(n.right, ints, funcs))
    if isinstance(n, ast.UnaryOp):
        return (isinstance(n.op, (ast.USub, ast.UAdd, ast.Invert))
                and _is_int_expr(n.operand, ints, funcs))
    if isinstance(n, ast.Call):
        return isinstance(n.func, ast.Name) and n.func.id in funcs
    return False


def _local_bindings(fn, range_ok: bool, params=frozenset(), pbounds=None):
    """(``good``, ``bad``): every binding of a local name in ``fn``'s own scope that the int
    facts understand, as ``name -> [(kind, node)]`` with kind ``"="`` (``x = E``, ``x: T = E``),
    an ``ast`` operator class (``x op= E``), ``"for"`` (``for x in range(...)``: node is the
    ``range(...)`` call) or ``"param"`` (a parameter in ``params``: every call passes an int,
    ``module_int_facts``; its node is the parameter's bound from ``pbounds``, or None); and the
    names bound any other way (other parameters, unpacking,
    except-as, nested defs, other scopes' walrus/global/nonlocal), which no fact may be proven
    about."""
    good = {}  # name -> list of (kind, value)
    bad = set()
    seen_targets = set()
    stack = list(fn.body)
    for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs:
        if a.arg in params:
            good.setdefault(a.arg, []).append(("param", (pbounds or {}).get(a.arg)))
        else:
            bad.add(a.arg)
    for a in (fn.args.vararg, fn.args.kwarg):
        if a is not None:
            bad.add(a.arg)
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            good.setdefault(n.targets[0].id, []).append(("=", n.value))
            seen_targets.add(id(n.targets[0]))
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.value is not None:
            good.setdefault(n.target.id, []).append(("=", n.value))
            seen_targets.add(id(n.target))
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            good.setdefault(n.target.id, []).append((type(n.op), n.value))
            seen_targets.add(id(n.target))
        elif isinstance(n, ast.For) and isinstance(n.target, ast.Name):
            if range_ok and _range_iter(n.iter):
                good.setdefault(n.target.id, []).append(("for", n.iter.args[0]))
                seen_targets.add(id(n.target))
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            if id(n) not in seen_targets:
                bad.add(n.id)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bad.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            bad.update(n.names)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bad.add(n.name)
        if isinstance(n, _SCOPES):
            # another scope: only a walrus there could bind one of our names
            for m in ast.walk(n):
                if isinstance(m, ast.NamedExpr) and isinstance(m.target, ast.Name):
                    bad.add(m.target.id)
                elif isinstance(m, (ast.Global, ast.Nonlocal)):
                    bad.update(m.names)
            continue
        stack.extend(ast.iter_child_nodes(n))
    return good, bad


def int_locals(fn, range_ok: bool, funcs=frozenset()) -> frozenset:
    """Local names of ``fn`` that can only ever hold an int (or bool): every binding of the name
    in the function's own scope is ``x = E``, ``x: T = E`` or ``x op= E`` with ``E`` an int
    expression (given the other such names: a fixpoint), or ``for x in range(...)``.
    Parameters, unpacking targets, except-as names, nested defs and anything else disqualify
    the name. A proof, not a guess: the rewriter drops type tests for these names."""
    return _int_locals(*_local_bindings(fn, range_ok), funcs)


def _int_locals(good, bad, funcs) -> frozenset:
    def ok(k, ints):
        return all(op in ("for", "param") or (_is_int_expr(value, ints, funcs)
                                              and (op == "=" or op in _INT_BINOPS))
                   for op, value in good[k])
    return frozenset(_greatest_fixpoint((k for k in good if k not in bad), good, ok))


def _greatest_fixpoint(names, good, ok) -> set:
    """The largest subset S of ``names`` with ``ok(k, S)`` for every k in S, where ``ok(k, S)``
    reads S only for the names that ``k``'s bindings (``good[k]``) mention and never turns
    false as S grows. A worklist: a name is checked again only when a name its bindings
    mention was dropped. (Checking every name until a whole round changed nothing was
    quadratic: a chain of 8,000 ``a_i = a_(i-1)`` starting from ``True`` took 20 s to
    rewrite, 265 ns per gas of its deploy; round-4 attack review.)"""
    names = set(names)
    users = {}  # name -> the names whose bindings mention it
    for k in names:
        for _kind, v in good[k]:
            if isinstance(v, ast.AST):
                for m in ast.walk(v):
                    if isinstance(m, ast.Name):
                        users.setdefault(m.id, set()).add(k)
    work = [k for k in good if k in names]  # a fixed order (sets of str follow the hash seed)
    while work:
        k = work.pop()
        if k in names and not ok(k, names):
            names.discard(k)
            work.extend(u for u in users.get(k, ()) if u in names)
    return names


def _is_list_expr(n, lists, calls_ok) -> bool:
    """An expression that, if it evaluates at all, gives a list: a list display or
    comprehension, a name proven a list, ``list(...)``/``sorted(...)`` (the builtins, when not
    rebound), ``L * E``/``E * L`` (list repetition, else TypeError) and ``L + L``."""
    if isinstance(n, (ast.List, ast.ListComp)):
        return True
    if isinstance(n, ast.Name):
        return n.id in lists
    if isinstance(n, ast.Call):
        return (isinstance(n.func, ast.Name) and n.func.id in calls_ok
                and not n.keywords and not any(isinstance(a, ast.Starred) for a in n.args))
    if isinstance(n, ast.BinOp):
        if isinstance(n.op, ast.Mult):
            return _is_list_expr(n.left, lists, calls_ok) or _is_list_expr(n.right, lists, calls_ok)
        if isinstance(n.op, ast.Add):
            return _is_list_expr(n.left, lists, calls_ok) and _is_list_expr(n.right, lists, calls_ok)
    return False


def list_locals(fn, calls_ok) -> frozenset:
    """Local names of ``fn`` that can only ever hold a list: every binding in the function's
    own scope is ``x = E`` / ``x: T = E`` with ``E`` a list expression (``_is_list_expr``,
    given the other such names: a fixpoint), or ``x += E`` / ``x *= E`` (in place on a list:
    a list or an error). Parameters, loop and unpacking targets, except-as names, nested defs,
    global/nonlocal and assignment expressions in nested scopes disqualify the name. The
    rewriter drops the list type test of item stores and reads for these names."""
    return frozenset(_typed_locals(fn, lambda v, names: _is_list_expr(v, names, calls_ok),
                                   aug_ops=(ast.Add, ast.Mult)))


def dict_locals(fn) -> frozenset:
    """Local names of ``fn`` that can only ever hold a dict: every binding in the function's
    own scope is ``x = E`` / ``x: T = E`` with ``E`` a dict display or comprehension, or
    another such name (a fixpoint); any other binding (augmented assignment included) and the
    disqualifiers of ``list_locals`` drop the name. The rewriter drops the dict type test of
    item reads, ``k in d`` and ``d[k] op= v`` for these names."""
    return frozenset(_typed_locals(fn, lambda v, names: isinstance(v, (ast.Dict, ast.DictComp))
                                   or isinstance(v, ast.Name) and v.id in names))


#: operators whose result is an int and never a bool when both operands are ints or bools
#: (``True + True == 2``; but ``True & True is True``)
_EXACT_INT_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
                     ast.RShift)


def _is_exact_int(n, exact) -> bool:
    """For an int expression (``_is_int_expr``): it never gives a bool. Int literals, names in
    ``exact``, ``-x``/``+x``/``~x`` and arithmetic (``_EXACT_INT_BINOPS``) of ints or bools, and
    ``& | ^`` with an exact int operand (an int and a bool give an int). Calls may return bools."""
    if isinstance(n, ast.Constant):
        return type(n.value) is int
    if isinstance(n, ast.Name):
        return n.id in exact
    if isinstance(n, ast.UnaryOp):
        return isinstance(n.op, (ast.USub, ast.UAdd, ast.Invert))
    if isinstance(n, ast.BinOp):
        if isinstance(n.op, _EXACT_INT_BINOPS):
            return True
        if isinstance(n.op, (ast.BitAnd, ast.BitOr, ast.BitXor)):
            return _is_exact_int(n.left, exact) or _is_exact_int(n.right, exact)
    return False


def exact_int_locals(good, ints) -> frozenset:
    """The proven-int locals (``ints``, bindings ``good`` from ``_local_bindings``) that never
    hold a bool: every binding is ``for x in range(...)``, ``x op= E`` (an int op of an exact
    int gives an int) or ``x = E`` with ``E`` exact (``_is_exact_int``, given the others: the
    greatest fixpoint). Parameters are left out (a call may pass ``True``)."""
    return frozenset(_greatest_fixpoint(
        ints, good, lambda k, exact: all(kind == "for" or kind in _INT_BINOPS
                                         or kind == "=" and _is_exact_int(v, exact)
                                         for kind, v in good[k])))


def int_str_len(u: int) -> int:
    """The most characters ``str(x)`` (or an f-string field of ``x``) has for an int or bool
    ``x`` with ``|x| <= u``: the digits of ``u`` and a sign, and at least ``'False'``."""
    return max(5, len(str(u)) + 1)


#: rounds of the ``str_locals`` fixpoint before it gives up (a chain of names each built from
#: the previous one rises one step per round)
_STR_ROUNDS = 64


def _widen(U, bound_of, max_rounds=None) -> dict:
    """The least bounds from 0 up: ``U`` (name -> bound, in the order to visit; updated in
    place, so ``bound_of(name)`` reads the others' current bounds) rises to what
    ``bound_of`` gives until nothing changes; a name whose bound rises more than
    ``_WIDEN_AFTER`` times, or that ``bound_of`` cannot bound (None), is dropped for good.
    Past ``max_rounds`` rounds: no bound at all ({}). Returns the names left, bounded."""
    rises = dict.fromkeys(U, 0)
    changed, rounds = True, 0
    while changed:
        changed = False
        rounds += 1
        if max_rounds is not None and rounds > max_rounds:
            return {}
        for k in list(U):
            if U[k] is None:
                continue
            new = bound_of(k)
            if new is not None and new <= U[k]:
                continue
            if new is not None:
                rises[k] += 1
                if rises[k] > _WIDEN_AFTER:
                    new = None
            U[k] = new
            changed = True
    return {k: u for k, u in U.items() if u is not None}


def str_locals(good, bad, int_ub, str_ok) -> dict:
    """``name -> L``: locals of a function that can only ever hold a str of at most
    ``L <= long_key`` characters, from its bindings ``good`` / ``bad`` (``_local_bindings``):
    every binding is ``x = E`` (or ``x: T = E``) with ``E`` a short-str expression:

    * a str literal; another such name (its bound);
    * ``str(x)`` (``str`` the builtin, ``str_ok``) of an int or bool ``x`` bounded by
      ``int_ub(x)`` (``int_str_len`` characters) or of a short-str expression (itself);
    * ``A + B`` of two short-str expressions (a str, or TypeError); ``A if c else B``;
    * an f-string whose fields (no format spec; no conversion or ``!s``) are bounded ints or
      short-str expressions.

    The least bounds of these inequalities, iterated up from 0 like ``int_bounds`` (a name
    rising more than ``_WIDEN_AFTER`` times, past ``long_key`` or with any other binding is
    dropped, and so is every name depending on it): by induction over the execution every
    value such a name holds is a str within its bound. A dict lookup with such a key is free
    (``long_key``, schedule 6): the rewriter drops its key tests."""
    names = sorted(k for k in good if k not in bad and all(kind == "=" for kind, _ in good[k]))
    L = dict.fromkeys(names, 0)  # sorted: the same widening on every hash seed

    def slen(n):
        if isinstance(n, ast.Constant):
            return len(n.value) if type(n.value) is str else None
        if isinstance(n, ast.Name):
            return L.get(n.id)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            a, b = slen(n.left), slen(n.right)
            return None if a is None or b is None else a + b
        if isinstance(n, ast.IfExp):
            a, b = slen(n.body), slen(n.orelse)
            return None if a is None or b is None else max(a, b)
        if isinstance(n, ast.JoinedStr):
            total = 0
            for v in n.values:
                if isinstance(v, ast.FormattedValue):
                    if v.format_spec is not None or v.conversion not in (-1, 115):
                        return None
                    u = field(v.value)
                else:
                    u = slen(v)
                if u is None:
                    return None
                total += u
            return total
        x = _str_of(n) if str_ok else None
        return None if x is None else field(x)

    def field(x):
        """Characters of ``str(x)``: an int or bool bounded, or a short-str expression."""
        u = int_ub(x)
        return int_str_len(u) if u is not None else slen(x)

    def bound_of(k):
        new = 0
        for _kind, v in good[k]:
            u = slen(v)
            if u is None or u > _LONG_KEY:
                return None
            new = max(new, u)
        return new

    # a long chain of names: give up after _STR_ROUNDS (each round walks the function)
    return _widen(L, bound_of, _STR_ROUNDS)


def _is_call_of(n, fname, nargs) -> bool:
    return (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == fname
            and len(n.args) == nargs and not n.keywords
            and not any(isinstance(a, ast.Starred) for a in n.args))


def int_dict_locals(fn, dicts, good, int_ub, len_ok) -> dict:
    """``name -> U``: proven dict locals (``dicts``) whose every value is an int or bool with
    ``|value| <= U < 2**64`` at every moment, because the dict never leaves the function's own
    scope and every value put in it is bounded:

    * every binding (``good``) is a dict display whose values are bounded (``int_ub``);
    * every other use of the name, in the function's own scope only (none in a lambda,
      comprehension or nested def, which could change it later), is ``d[k]`` read
      (``_getitem_(d, k)``), ``k in d``, ``len(d)`` (the builtin, ``len_ok``), ``del d[k]``,
      ``d[k] = E`` (E bounded: a reset) or ``d[k] += E`` / ``d[k] -= E`` (E bounded: a step).
      Anything else (a method, an alias, an argument, a return) drops the name.

    Each step statement runs at most ``EXEC_MAX`` times in one frame and moves one value by at
    most its bound, so U = max(resets) + EXEC_MAX * sum of the steps, as in ``int_bounds``."""
    facts = {}
    for d in dicts:
        base = 0
        for kind, v in good.get(d, ()):
            if kind != "=" or not isinstance(v, ast.Dict) or any(k is None for k in v.keys):
                base = None
                break
            for x in v.values:
                u = int_ub(x)
                if u is None:
                    base = None
                    break
                base = max(base, u)
            if base is None:
                break
        if base is not None:
            facts[d] = [base, 0]
    if not facts:
        return {}
    parent = {}
    nested = set()
    stack = [(c, fn, False) for c in fn.body]
    while stack:
        n, p, inner = stack.pop()
        parent[id(n)] = p
        if inner:
            nested.add(id(n))
        inner = inner or isinstance(n, (_SCOPES, ast.AsyncFunctionDef, ast.ClassDef))
        stack.extend((c, n, inner) for c in ast.iter_child_nodes(n))

    for n in list(ast.walk(fn)):
        if not (isinstance(n, ast.Name) and n.id in facts) or n is fn:
            continue
        d = n.id
        if id(n) in nested:
            del facts[d]
            continue
        p = parent.get(id(n))
        if not isinstance(n.ctx, ast.Load):
            ok = isinstance(p, (ast.Assign, ast.AnnAssign))  # a binding (checked above)
        elif _is_call_of(p, "_getitem_", 2) and p.args[0] is n:
            ok = True
        elif isinstance(p, ast.Compare) and any(
                c is n and isinstance(op, (ast.In, ast.NotIn))
                for c, op in zip(p.comparators, p.ops)):
            ok = True
        elif len_ok and _is_call_of(p, "len", 1):
            ok = True
        else:
            # d[k] op= E (vetting leaves the target as it is), or _write_(d)[k] ...
            sub = p
            if _is_call_of(p, "_write_", 1):
                sub = parent.get(id(p))
            ok = False
            wrapped = sub is not p
            if isinstance(sub, ast.Subscript) and (sub.value is p if wrapped else sub.value is n):
                st = parent.get(id(sub))
                u = int_ub(st.value) if isinstance(st, (ast.Assign, ast.AugAssign)) else None
                if isinstance(st, ast.AugAssign) and st.target is sub:
                    if isinstance(st.op, (ast.Add, ast.Sub)) and u is not None:
                        facts[d][1] += u  # a step
                        ok = True
                elif isinstance(st, ast.Assign) and wrapped and len(st.targets) == 1 \
                        and st.targets[0] is sub:
                    if u is not None:
                        facts[d][0] = max(facts[d][0], u)  # a reset
                        ok = True
                elif isinstance(st, ast.Delete) and wrapped:
                    ok = True
        if not ok:
            del facts[d]
    out = {}
    for d, (base, steps) in facts.items():
        u = base + EXEC_MAX * steps
        if u < _BOUND_CAP:
            out[d] = u
    return out


def _typed_locals(fn, is_expr, aug_ops=()) -> set:
    """The names of ``fn``'s own scope whose every binding is ``x = E`` (or ``x: T = E``) with
    ``is_expr(E, names)`` true given the other names kept (greatest fixpoint), or ``x op= E``
    with ``op`` in ``aug_ops`` (in place: the same type or an error). The bindings and the
    disqualified names are those of the int facts (``_local_bindings``, no range targets)."""
    good, bad = _local_bindings(fn, False)
    return _greatest_fixpoint(
        (k for k in good if k not in bad), good,
        lambda k, names: all(is_expr(v, names) if kind == "=" else kind in aug_ops
                             for kind, v in good[k]))


# ---------------------------------------------------------------- int bounds (issue 12)

#: the most times one statement can run in one function frame (a call of a function), the
#: most iterations one loop can make there and the most items one comprehension can draw, in
#: any transaction or query: every loop iteration is charged (``loop_iteration`` gas) and the
#: counter TESTED at the top of the loop body before the body runs, every comprehension item is
#: charged (``comprehension_item`` + weights) and tested before it is used (``_pc_citer``, per
#: item or up front), the counter never goes up, and it starts at most at
#: ``schedule.MAX_GAS_LIMIT`` (the meter refuses more; cross-contract calls share the meter),
#: so at most MAX_GAS_LIMIT / 2 loop-top tests can pass in a whole transaction. A statement
#: outside any loop runs once per frame; one inside a loop at most once per iteration of its
#: innermost loop that passed its test. Nothing else repeats code within a frame (no
#: generators, no ``goto``); an out-of-gas swallowed by ``finally: continue`` lands on a loop
#: top, which tests again. See :func:`int_bounds`.
_PER_ITEM = min(SCHEDULE.loop_iteration, SCHEDULE.comprehension_item)
EXEC_MAX = MAX_GAS_LIMIT // max(_PER_ITEM, 1) + 1
assert SCHEDULE.loop_iteration >= 1 and SCHEDULE.comprehension_item >= 1
#: bounds at or above this are not kept: no operation's free range is that wide
_BOUND_CAP = 1 << 64
#: a name whose bound rose this many times in the fixpoint is given up (a cycle such as
#: ``x = x * 2`` would otherwise climb to the cap one step at a time)
_WIDEN_AFTER = 6


def _pow2_above(*us):
    """2**k with every |x| <= u < 2**k: bitwise ops of such x lie within +-2**k."""
    return 1 << max(u.bit_length() for u in us)


def _ubound(n, ub):
    """U with |value| <= U for an expression already proven int (``_is_int_expr``), given the
    bounds ``ub(leaf)`` of its names and calls (``ast.Name`` / ``ast.Call`` nodes; None:
    unbounded); None when no bound is known below ``_BOUND_CAP``. Exact integer arithmetic on
    the bounds, so the figures hold on every CPython version."""
    u = _ubound1(n, ub)
    return u if u is not None and u < _BOUND_CAP else None


def _ubound1(n, ub):
    if isinstance(n, ast.Constant):
        return abs(int(n.value)) if type(n.value) in (int, bool) else None
    if isinstance(n, (ast.Name, ast.Call)):
        return ub(n)
    if isinstance(n, ast.UnaryOp):
        u = _ubound(n.operand, ub)
        if u is None:
            return None
        return u + 1 if isinstance(n.op, ast.Invert) else u  # ~x == -x - 1
    if not isinstance(n, ast.BinOp):
        return None
    op = type(n.op)
    left, right = n.left, n.right
    if op is ast.BitAnd:
        # x & c with c >= 0 lies in [0, c] whatever x is
        consts = [o.value for o in (left, right) if _is_int_const(o) and o.value >= 0]
        if consts:
            return min(consts)
    if op is ast.Mod and _is_int_const(right) and right.value != 0:
        return abs(right.value) - 1  # x % c lies strictly between 0 and c
    ul = _ubound(left, ub)
    if op in (ast.FloorDiv, ast.RShift):
        return ul  # |x // y| <= |x| for y != 0; x >> k == x // 2**k
    ur = _ubound(right, ub)
    if op is ast.Mod:
        return None if ur is None else max(ur - 1, 0)  # |x % y| < |y|
    if ul is None:
        return None
    if op is ast.LShift:
        if _is_int_const(right) and 0 <= right.value <= 64:
            return ul << right.value
        return None
    if op is ast.Pow:
        if _is_int_const(right) and 0 <= right.value and ul.bit_length() * right.value <= 130:
            return ul ** right.value
        return None
    if ur is None:
        return None
    if op in (ast.Add, ast.Sub):
        return ul + ur
    if op is ast.Mult:
        return ul * ur
    if op in (ast.BitAnd, ast.BitOr, ast.BitXor):
        return _pow2_above(ul, ur)
    return None


def _additive_terms(n, out):
    """The terms of a ``+``/``-`` chain (signs dropped: only magnitudes matter here)."""
    if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub)):
        _additive_terms(n.left, out)
        _additive_terms(n.right, out)
    else:
        out.append(n)
    return out


def _range_args(call):
    """(start, stop, step) expressions of ``range(...)`` (None where absent or unusable)."""
    a = call.args
    if call.keywords or any(isinstance(x, ast.Starred) for x in a) or not 1 <= len(a) <= 3:
        return None
    if len(a) == 1:
        return _const(0), a[0], _const(1)
    return a[0], a[1], a[2] if len(a) == 3 else _const(1)


def _range_bound(call, ub):
    """Bound of every value ``range(a, b, s)`` yields to a loop or comprehension: between a
    and b, and a + j*s with j < EXEC_MAX items drawn (a ``for`` iteration, like a
    comprehension item, is charged at least 1 gas and the counter tested before its body)."""
    args = _range_args(call)
    if args is None:
        return None
    a, b, s = (_ubound(x, ub) for x in args)
    cands = []
    if a is not None and b is not None:
        cands.append(max(a, b))
    if a is not None and s is not None:
        cands.append(a + EXEC_MAX * s)
    u = min(cands) if cands else None
    return u if u is not None and u < _BOUND_CAP else None


def _call_bound(n, rbounds):
    """The bound of a call ``f(...)`` of a function with a return bound, else None."""
    return rbounds.get(n.func.id) if isinstance(n.func, ast.Name) else None


def int_bounds(good, ints, funcs=frozenset(), rbounds=None) -> dict:
    """``name -> U``: each proven-int local (``ints``) that can be shown to satisfy
    ``|value| <= U < 2**64`` at every moment, from its bindings ``good`` (``_local_bindings``).

    * ``x = E`` (a reset): U >= bound(E), computed from the bounds of the names in E.
    * ``x = x + E``, ``x = E - x``, ``x += E``, ``x -= E`` (a step: x appears once among the
      terms of a ``+``/``-`` chain): each run moves |x| by at most bound(E). Since the last
      reset, each step statement ran at most :data:`EXEC_MAX` times in this frame (a local
      lives in one frame), so U >= max(resets) + EXEC_MAX * sum of the step bounds.
    * ``for x in range(a, b, s)``: x lies between a and b, and x == a + j*s with j < EXEC_MAX
      iterations, so U >= min(max(|a|, |b|), |a| + EXEC_MAX*|s|) (whichever is known).

    The bounds are the least solution of these inequalities, found by iterating up from 0
    (a name rising more than ``_WIDEN_AFTER`` times, or to ``_BOUND_CAP``, is dropped); by
    induction over the execution every value then stays within its bound. Other scopes cannot
    rebind a local (``_local_bindings`` rules them out), and a bound is read only for names
    that are still proven int where it is used (comprehension and lambda names hide them).
    ``rbounds``: bounds of what module functions return (``return_bounds``)."""
    # roughly in program order (``_local_bindings`` finds the bindings last first), never in
    # a set's order: that follows PYTHONHASHSEED, and the widening below depends on the
    # order, so the code written would too
    U = {k: 0 for k in reversed(list(good)) if k in ints}
    rbounds = rbounds or {}

    def ub(n):
        if isinstance(n, ast.Name):
            return U.get(n.id)
        return _call_bound(n, rbounds)

    def bound_of(k):
        base, step = 0, 0
        for kind, v in good[k]:
            if kind == "param":
                if v is None:
                    return None  # an int of any size
                base = max(base, v)  # bounded at every call (``GasRewriter.recursive_copy``)
                continue
            if kind == "for":
                u = _range_bound(v, ub)
                if u is None:
                    return None
                base = max(base, u)
                continue
            if kind in (ast.Add, ast.Sub):
                terms = [v]
            elif kind == "=":
                terms = _additive_terms(v, [])
                mine = [t for t in terms if isinstance(t, ast.Name) and t.id == k]
                if len(mine) == 1 and len(terms) > 1:
                    terms = [t for t in terms if t is not mine[0]]
                else:
                    terms = None
            else:
                terms = None
            if terms is not None:  # a step
                for t in terms:
                    u = _ubound(t, ub)
                    if u is None:
                        return None
                    step += u
                continue
            e = v if kind == "=" else ast.BinOp(left=_name(k), op=kind(), right=v)
            u = _ubound(e, ub)
            if u is None:
                return None
            base = max(base, u)
        total = base + EXEC_MAX * step
        return total if total < _BOUND_CAP else None

    return _widen(U, bound_of)


def int_facts(fn, range_ok: bool, funcs=frozenset(), params=frozenset(), rbounds=None,
              pbounds=None):
    """(proven-int locals, their bounds) of ``fn``: :func:`int_locals`, :func:`int_bounds`
    (``params``: its parameters proven to receive ints, ``module_int_facts``; ``rbounds``:
    :func:`return_bounds`; ``pbounds``: bounds of some of ``params`` on every call)."""
    good, bad = _local_bindings(fn, range_ok, params, pbounds)
    ints = _int_locals(good, bad, funcs)
    return ints, int_bounds(good, ints, funcs, rbounds)


#: more than this many contract function frames are never active at once: ``execute`` sets
#: the interpreter's recursion limit to 5,000 Python frames (``executor._RECURSION_LIMIT``,
#: checked by a test) and every contract function call is at least one of them
FRAMES_MAX = 5000


def return_bounds(module, range_ok: bool, funcs, params=None) -> dict:
    """``name -> R``: every value a call of the int-returning function ``name`` returns has
    |value| <= R. Found for a group of ``funcs`` whose every ``return E`` is either a *base*
    (E bounded, calling no function of the group) or a *step* (E a ``+``/``-`` chain with
    exactly one term a call of a group function, the other terms bounded): a call returns a
    base, or a step added to what a call one frame deeper returned, and at most ``FRAMES_MAX``
    frames are active at once, so R = max(bases) + FRAMES_MAX * max(steps) for the whole group
    (e.g. ``return 0`` / ``return 1 + f(...)``: R = 5,000). Functions that fit neither leave
    the group until it is stable, and so do those whose own figures reach ``_BOUND_CAP``."""
    params = params or {}
    group = {st.name: st for st in module.body
             if isinstance(st, ast.FunctionDef) and st.name in funcs}
    local = {}
    for name, st in group.items():
        good, bad = _local_bindings(st, range_ok, params.get(id(st), frozenset()))
        ints = _int_locals(good, bad, funcs)
        local[name] = int_bounds(good, ints, funcs)
        local[name] = (local[name], [n.value for n in _scope_nodes(st) if isinstance(n, ast.Return)])
    # a function leaves the group when it fails ``figures`` with the group as it is; failing
    # only gets likelier as the group shrinks (a call of a function that left is an unbounded
    # term), so the group left is the largest in which every function passes. A worklist
    # checks a function again only when a function its returns call has left (checking the
    # whole group after every removal was quadratic: a chain of 2,000 ``return f_(i+1)(x) +
    # 1`` took 4.3 s to rewrite, 54 ns per gas of its deploy)
    terms = {name: [_additive_terms(e, []) for e in local[name][1]] for name in group}
    callers = {}
    for name, ts in terms.items():
        for t in (t for tt in ts for t in tt):
            if isinstance(t, ast.Call) and isinstance(t.func, ast.Name) and t.func.id in group:
                callers.setdefault(t.func.id, set()).add(name)

    def figures(name):
        """(base, step) of ``name`` with the current group, None when it must leave it."""
        lb = local[name][0]
        fbase = fstep = 0

        def ub(n):
            return lb.get(n.id) if isinstance(n, ast.Name) else None
        for ts in terms[name]:
            calls = [t for t in ts if isinstance(t, ast.Call)
                     and isinstance(t.func, ast.Name) and t.func.id in group]
            if len(calls) > 1:
                return None
            u = 0
            for t in ts:
                if t in calls:
                    continue
                v = _ubound(t, ub)
                if v is None:
                    return None
                u += v
            if calls:
                fstep = max(fstep, u)
            else:
                fbase = max(fbase, u)
        if fbase + FRAMES_MAX * fstep >= _BOUND_CAP:
            return None  # too wide alone: it would spoil the others' bound
        return fbase, fstep
    work = list(reversed(list(group)))
    while work:
        name = work.pop()
        if name in group and figures(name) is None:
            del group[name]
            work.extend(c for c in callers.get(name, ()) if c in group)
    if not group:
        return {}
    base = step = 0
    for name in group:
        fbase, fstep = figures(name)
        base, step = max(base, fbase), max(step, fstep)
    r = base + FRAMES_MAX * step
    return dict.fromkeys(group, r) if r < _BOUND_CAP else {}


# ---------------------------------------------------------------- functions that return ints

def _module_binding_counts(module) -> dict:
    """How many times each name is bound anywhere in the module (any scope)."""
    counts = {}

    def add(name, k=1):
        counts[name] = counts.get(name, 0) + k
    for n in ast.walk(module):
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            add(n.name)
        elif isinstance(n, ast.arg):
            add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            add(n.name)
        elif isinstance(n, ast.alias):
            add((n.asname or n.name).split(".")[0])
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            for name in n.names:
                add(name, 2)
    return counts


def _scope_nodes(fn):
    """The nodes of ``fn``'s own scope (not inside nested functions or lambdas)."""
    stack = list(fn.body)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(n))


def _always_leaves(stmts) -> bool:
    """Whether running ``stmts`` can never fall off their end (a return or raise ends every
    path), judged conservatively."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return _always_leaves(last.body) and _always_leaves(last.orelse)
    return False


#: names the runtime provides to contracts (a module ``def`` of such a name does not shadow
#: them until it runs: ``def str`` called before, from a function, would reach the builtin)
_PROVIDED = (frozenset(dir(builtins)) | ALLOWED_BUILTINS | API_NAMES | ALLOWED_EXCEPTIONS
             | frozenset(FORBIDDEN_BUILTINS))


def int_functions(module, range_ok: bool) -> frozenset:
    """Names of module-level functions whose every call that returns gives an int (or bool)
    (``module_int_facts`` without parameter facts)."""
    return module_int_facts(module, range_ok)[0]


def _scoped_nodes(module):
    """``(node, owner)`` for every node of the module: ``owner`` is the top-level ``def`` whose
    own scope the node is in, or None (module code, default values, and anything inside a
    lambda, comprehension or nested def, where that function's facts do not apply)."""
    for st in module.body:
        if not isinstance(st, ast.FunctionDef):
            for n in ast.walk(st):
                yield n, None
            continue
        yield st, None
        for n in ast.walk(st.args):
            yield n, None  # defaults are evaluated in module scope
        stack = list(st.body)
        while stack:
            n = stack.pop()
            if isinstance(n, (_SCOPES, ast.AsyncFunctionDef, ast.ClassDef)):
                for m in ast.walk(n):
                    yield m, None
                continue
            yield n, st
            stack.extend(ast.iter_child_nodes(n))


def _entry_int_params(entry_points, name, names) -> set:
    """The parameters of entry point ``name`` (positional parameter names ``names``) that every
    call from outside fills with exactly an int: annotated ``int``, no default. Every outside
    call (transaction, deploy, query, cross-contract call) passes ``check_args``
    (``worker.process``), which refuses an argument annotated ``int`` unless ``type(v) is
    int``. Only a mapping ``name -> EntryPoint`` says so (vetting strips the annotations from
    the tree); given just the names, no entry-point parameter is a candidate."""
    ep = entry_points.get(name) if isinstance(entry_points, Mapping) else None
    params = getattr(ep, "params", None)
    if params is None or [p.name for p in params] != names:
        return set()
    return {p.name for p in params if p.annotation == "int" and not p.has_default}


def module_int_facts(module, range_ok: bool, entry_points=None):
    """(``funcs``, ``params``): the module functions proven to return ints, and for each
    top-level ``def`` node (by ``id``) the parameters proven to receive ints.

    A function qualifies for either only if its name is bound nowhere else in the module (no
    assignment, no parameter, no nested def, no import of that name anywhere, and not a name the
    runtime provides: a module ``def str`` called before it runs would reach the builtin), so
    every ``f(...)`` in the module calls this ``def`` or raises NameError.

    * returns int: no ``yield``, cannot fall off its end (no implicit ``return None``), and
      every ``return E`` has ``E`` an int expression given the facts (a call returns only after
      the calls it made returned, so by induction every returned value is an int);
    * parameters (only when ``entry_points`` is given): the name is used only as
      ``f(a, b, ...)`` with exactly one positional argument per parameter (no defaults,
      keywords or stars), so the function object never escapes and no other call exists; a
      parameter is proven when the argument at its position is an int expression at every call
      site (in the caller's facts; inside a lambda, comprehension or module code, with no
      facts). An entry point is also called from outside, by name: there only its parameters
      annotated ``int`` are candidates (``_entry_int_params``), since every outside call
      passes exactly an int for those (``worker.process.check_args`` refuses anything else,
      bool included) and, with no defaults, none can be omitted.

    The greatest fixpoint of both together: start from every candidate fact and drop those
    whose condition fails under the rest until none does; by induction over the execution
    every fact left holds."""
    counts = _module_binding_counts(module)
    fns = [st for st in module.body if isinstance(st, ast.FunctionDef)]
    unique = {st.name: st for st in fns if counts.get(st.name) == 1
              and st.name not in _PROVIDED and not st.name.startswith("_")}
    funcs, returns = set(), {}
    for name, st in unique.items():
        own = list(_scope_nodes(st))
        if any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await)) for n in own):
            continue
        if _always_leaves(st.body):
            funcs.add(name)
            returns[name] = [n.value for n in own if isinstance(n, ast.Return)]
    # parameter candidates: every reference to the name is a plain positional call
    params, sites = {}, {}
    if entry_points is not None:
        refs = {}
        for n, owner in _scoped_nodes(module):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in unique:
                refs.setdefault(n.id, []).append(n)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in unique:
                sites.setdefault(n.func.id, []).append((n, owner))
        for name, st in unique.items():
            a = st.args
            names = [x.arg for x in a.posonlyargs + a.args]
            if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or not names:
                continue
            cand = set(names)
            if name in entry_points:
                cand = _entry_int_params(entry_points, name, names)
                if not cand:
                    continue
            calls = sites.get(name, [])
            if len(calls) != len(refs.get(name, ())) or any(
                    c.keywords or len(c.args) != len(names)
                    or any(isinstance(x, ast.Starred) for x in c.args) for c, _ in calls):
                continue  # referenced other than by a plain call: it may escape
            params[name] = cand
    # bindings once, with every candidate parameter as an int; each round drops the others.
    # Each round removes at least one fact, and recomputes only what a removal can change:
    # the facts of functions that lost a parameter or call a function that lost its fact
    bindings = {id(st): _local_bindings(st, range_ok, frozenset(params.get(st.name, ())))
                for st in fns}
    called = {id(st): {n.func.id for n in _scope_nodes(st)
                       if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)} for st in fns}
    by_owner = {}  # owner id (None: no facts) -> [(callee name, call)]
    for name, calls in sites.items():
        for call, owner in calls:
            by_owner.setdefault(None if owner is None else id(owner), []).append((name, call))
    # each round re-checks only what a removal can change: the functions that lost a
    # parameter or call a function that lost its fact, found through ``callers`` (scanning
    # every function and call site each round was quadratic in a chain of functions that
    # lose their facts one per round: 2,500 functions, 33 ns per gas of their deploy)
    order = {id(st): i for i, st in enumerate(fns)}  # a fixed order (ids are addresses)
    name_of = {id(st): name for name, st in unique.items()}
    callers = {}  # name -> ids of the functions whose own scope calls it
    for st in fns:
        for n in called[id(st)]:
            callers.setdefault(n, set()).add(id(st))
    ints = {}
    dirty = set(order)
    removed, first = set(), True
    while True:
        for i in sorted(dirty, key=order.get):
            st = fns[order[i]]
            good, bad = bindings[i]
            dropped = {x.arg for x in st.args.posonlyargs + st.args.args} - params.get(
                st.name, set())
            if dropped & set(good):
                good = {k: v for k, v in good.items() if k not in dropped}
                bad = bad | dropped
            ints[i] = _int_locals(good, bad, funcs)
        affected = set(dirty)
        for r in removed:
            affected |= callers.get(r, set())
        affected = sorted(affected, key=order.get)
        gone, lost = set(), set()  # functions no longer int-returning; lost parameters
        for i in affected:
            name = name_of.get(i)
            if name in funcs and any(v is None or not _is_int_expr(v, ints[i], funcs)
                                     for v in returns[name]):
                gone.add(name)
        for owner in affected + ([None] if first or removed else []):
            ctx = ints[owner] if owner is not None else frozenset()
            for name, call in by_owner.get(owner, ()):
                ps = params.get(name)
                if not ps:
                    continue
                st = unique[name]
                for arg, x in zip(call.args, st.args.posonlyargs + st.args.args):
                    if x.arg in ps and not _is_int_expr(arg, ctx, funcs):
                        ps.discard(x.arg)
                        lost.add(name)
        if not gone and not lost:
            break
        funcs -= gone
        removed, first = gone, False
        dirty = {id(unique[n]) for n in lost}
        for g in gone:
            dirty |= callers.get(g, set())
    return frozenset(funcs), {id(unique[n]): frozenset(ps) for n, ps in params.items() if ps}


#: operands that are never ints (non-int literals, displays, f-strings)
_NOT_INT = (ast.List, ast.Tuple, ast.Dict, ast.JoinedStr, ast.ListComp, ast.DictComp,
            ast.GeneratorExp)


#: the most nodes an operand may have to be written twice by ``int_inline`` (once in each
#: branch): a larger one goes to a temporary, so nested operands cannot double at every level
#: (``((x % 7 + y) % 7 + y) ...``: 4**depth nodes to rewrite and compile for a paid node
#: count linear in the depth; round-4 attack review)
_DUP_NODES = 48


def _small_tree(n, limit=_DUP_NODES) -> bool:
    """Whether ``n`` has at most ``limit`` nodes (stops counting past it)."""
    for k, _ in enumerate(ast.walk(n)):
        if k >= limit:
            return False
    return True


def _free_int_test(*operands):
    """``-2**63 < x < 2**63 [and ...]`` for the names among ``operands`` (proven ints)."""
    tests = [ast.Compare(left=_const(-_FREE_INT), ops=[ast.Lt(), ast.Lt()],
                         comparators=[o, _const(_FREE_INT)]) for o in operands]
    return tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(), values=tests)


class ExprRewriter(ast.NodeTransformer):
    """Routes size-dependent expression operations to runtime helpers (recursion is bounded by
    the nesting limit vetting enforces)."""

    #: local names proven to hold ints in the function being rewritten (``int_locals``)
    ints = frozenset()
    #: name -> U (|value| <= U) for proven-int locals with a static bound (``int_bounds``);
    #: read only for names still in ``ints`` (nested scopes hide theirs)
    bounds = {}
    #: module functions proven to return ints (``int_functions``)
    funcs = frozenset()

    def _proven(self, n) -> bool:
        """A name proven to hold an int, or an int literal."""
        return _is_int_const(n) or (isinstance(n, ast.Name) and n.id in self.ints)

    def _isint(self, n) -> bool:
        """``n`` (not yet rewritten) gives an int whenever it evaluates."""
        return _is_int_expr(n, self.ints, self.funcs)

    #: module function name -> bound of what it returns (``return_bounds``)
    rbounds = {}

    def _ub(self, n):
        """U with |n| <= U for an int expression ``n`` (not yet rewritten), else None."""
        return _ubound(n, self._leaf_bound)

    def _leaf_bound(self, n):
        if isinstance(n, ast.Name):
            return self._name_bound(n.id)
        return _call_bound(n, self.rbounds) if self._isint(n) else None

    def _name_bound(self, name):
        return self.bounds.get(name) if name in self.ints else None

    def _within(self, o, m) -> bool:
        """The (rewritten) operand ``o`` is proven an int with -m < o < m: an int literal, a
        bounded name, or an expression marked ``int_bound`` <= m."""
        if _is_int_const(o):
            return -m < o.value < m
        if isinstance(o, ast.Name):
            u = self._name_bound(o.id)
            return u is not None and u < m
        b = getattr(o, "int_bound", None)
        return b is not None and b <= m

    #: inside a function body (temporaries may be assigned), inside a comprehension (not)
    in_fn = False
    comp_depth = 0
    range_ok = False
    #: builtins (``_PURE_CALLS``) the module does not rebind, and the item guard
    pure_calls = frozenset({"_getitem_"})
    #: ``enumerate`` is the builtin (never rebound in the module)
    enum_ok = False
    #: local names proven to hold lists in the function being rewritten (``list_locals``)
    lists = frozenset()
    #: ``list``/``sorted`` when the module does not rebind them
    list_calls = frozenset()
    str_ok = False  # ``str`` is the builtin (never rebound in the module)
    #: local names proven to hold dicts in the function being rewritten (``dict_locals``)
    dicts = frozenset()
    #: name -> L: locals proven to hold a str of at most L <= long_key characters
    #: (``str_locals``): a dict key whose lookup is free, no key test
    strs = {}
    #: proven-int locals that never hold a bool (``exact_int_locals``)
    exact = frozenset()
    #: name -> U: proven dict locals whose every item is an int within +-U
    #: (``int_dict_locals``)
    int_dicts = {}
    ntemp = 0

    def _shadowed(self, node, names, comp=False):
        """Visit a nested scope (comprehension, lambda) whose own ``names`` hide ours."""
        saved, saved_bounds = (self.ints, self.lists, self.dicts), self.bounds
        saved_strs = self.strs, self.exact
        self.ints = saved[0] - set(names)
        self.lists = saved[1] - set(names)
        self.dicts = saved[2] - set(names)
        self._hide_strs(names)
        self.bounds = {k: u for k, u in saved_bounds.items() if k not in names}
        self.comp_depth += comp
        try:
            return self.generic_visit(node)
        finally:
            (self.ints, self.lists, self.dicts), self.bounds = saved, saved_bounds
            self.strs, self.exact = saved_strs
            self.comp_depth -= comp

    def _hide_strs(self, names):
        """A nested scope's own ``names`` hide our short-str and exact-int facts."""
        self.strs = {k: u for k, u in self.strs.items() if k not in names}
        self.exact = self.exact - set(names)

    def _facts(self, node):
        """What is proven of ``node`` (not yet rewritten: its children are rewritten in place
        later): (int whenever it evaluates, U with |value| <= U or None)."""
        if not self._isint(node):
            return False, None
        return True, self._ub(node)

    @staticmethod
    def _mark(facts, out):
        """Record ``facts`` on the rewritten ``out``: ``int_expr`` and ``int_bound`` M with
        -M < value < M (read by ``int_inline``/``_within``: no test needed)."""
        isint, u = facts
        if isint:
            out.int_expr = True
            if u is not None:
                out.int_bound = u + 1
        return out

    def visit_BinOp(self, node):
        facts = self._facts(node)
        return self._mark(facts, self._binop(node))

    def _binop(self, node):
        if isinstance(node.op, ast.Add) and self.str_ok and _str_of(node.right) is not None:
            # a + str(x): one helper, the same charges in the same order (Ops.add_str)
            out = _call("_pc_add_str", self.visit(node.left), self.visit(_str_of(node.right)))
            out.pc_is_str = True
            return out
        self.generic_visit(node)
        op = type(node.op)
        left, right = node.left, node.right
        if op in _INLINE_CHEAP or (
                op in (ast.Add, ast.Sub) and (_is_int_const(left) or _is_int_const(right))
        ) or (op is ast.FloorDiv and _is_int_const(right) and right.value != 0):
            small = [self._within(o, _SMALL_INT) for o in (left, right)]
            if all(small):
                # both proven ints within +-2**64 (bounds): the helper would charge nothing
                return node
            if _simple(left) and _simple(right):
                # linear int ops whose result is no bigger than an operand: inline when every
                # operand is a name or int literal known (by an inline range test) to fit in
                # 64 bits; otherwise the helper, which charges and accounts the memory of big
                # results
                return _small_int_or(node, [o for o, ok in zip((left, right), small) if not ok],
                                     _call(_BINOP_HELPER[op], left, right))
        # x - (0 - x) doubles x just as x + x does: - is charged (and sized) like +
        fast = self.int_inline(node, _BINOP_HELPER[op], [left, right])
        if fast is not None:
            return fast
        return ast.Call(func=_name(_BINOP_HELPER[op]), args=[left, right], keywords=[])

    def int_inline(self, node, helper, operands):
        """``L op R if <both exact ints within the op's free range> else helper(L, R)``: the
        operation inline where the helper would charge nothing (``FREE_INT_RANGE``), else the
        helper. Names proven int (``int_locals``) and int literals need no type test; other
        operands are tested with ``type(x) is int`` (bools and everything else take the
        helper). An operand that is not a name or literal is evaluated once, in order, into a
        fresh temporary ``_pc_tN`` (only in function bodies outside comprehensions, where an
        assignment expression is allowed); the tests of such operands are joined with ``&`` so
        both operands are always evaluated before the helper would be called. None when the
        operation has no free range or an operand cannot be handled."""
        bound = FREE_INT_RANGE.get(type(node.op))
        if bound is None:
            return None
        tests, uses, temps = [], [], False
        if any(isinstance(o, _NOT_INT) or (isinstance(o, ast.Constant) and not _is_int_const(o))
               or (isinstance(o, ast.Call) and isinstance(o.func, ast.Name)
                                           and o.func.id in ("str", "bytes"))
               for o in operands):
            return None  # not an int: straight to the helper (a heuristic; both paths agree)
        for i, o in enumerate(operands):
            if isinstance(o, ast.Name) and self._within(o, bound):
                uses.append(o.id)  # a bounded int local: no test
                continue
            m = getattr(o, "int_bound", None)
            if m is not None and m <= bound and _small_tree(o) and (
                    i == len(operands) - 1 or all(
                        isinstance(x, ast.Name) or _is_int_const(x)
                        or self._within(x, bound) and _small_tree(x)
                        for x in operands[i + 1:])):
                # a proven int within the free range whatever its operands' sizes (x & 7,
                # x % 10), small enough to be written twice (``_small_tree``): no test and
                # no temporary; it is evaluated in the branch taken, (a later operand too big
                # to be written twice is tested in a temporary first: then this one is too)
                # after the other operand's test, which keeps the helper's order because the
                # other operands after it are names or literals
                uses.append(o)
                continue
            if isinstance(o, ast.Name) and uses and uses[0] == o.id:
                uses.append(o.id)  # x op x: tested once
                continue
            if _is_int_const(o):
                if not -bound < o.value < bound:
                    return None
                uses.append(o.value)
                continue
            if isinstance(o, ast.Name):
                ref, first, proven = o.id, _name(o.id), o.id in self.ints
            elif self.in_fn and not self.comp_depth:
                self.ntemp += 1
                ref = f"_pc_t{self.ntemp}"
                first = ast.NamedExpr(target=_name(ref, ast.Store()), value=o)
                # a proven int expression (e.g. a call of an int-returning function) needs
                # only the range test
                proven, temps = bool(getattr(o, "int_expr", False)), True
            else:
                return None
            in_range = ast.Compare(left=_const(-bound), ops=[ast.Lt(), ast.Lt()],
                                   comparators=[first if proven else _name(ref), _const(bound)])
            if proven:
                tests.append(in_range)
            else:
                is_int = ast.Compare(left=_call("_pc_T", first), ops=[ast.Is()],
                                     comparators=[_name("_pc_I")])
                tests.append(ast.BoolOp(op=ast.And(), values=[is_int, in_range]))
            uses.append(ref)

        def use(u, again=False):
            if isinstance(u, ast.AST):
                return copy.deepcopy(u) if again else u
            return _name(u) if isinstance(u, str) else _const(u)
        if not tests:
            if all(type(u) is int for u in uses):
                return None  # two literals: the helper (as before)
            return ast.BinOp(left=use(uses[0]), op=node.op, right=use(uses[1]))
        if len(tests) == 1:
            test = tests[0]
        elif temps:
            test = ast.BinOp(left=tests[0], op=ast.BitAnd(), right=tests[1])
        else:
            test = ast.BoolOp(op=ast.And(), values=tests)
        body = ast.BinOp(left=use(uses[0]), op=node.op, right=use(uses[1]))
        return ast.IfExp(test=test, body=body,
                         orelse=_call(helper, *[use(u, again=True) for u in uses]))

    def visit_UnaryOp(self, node):
        facts = self._facts(node)
        self.generic_visit(node)
        op = type(node.op)
        if op is ast.Not or isinstance(node.operand, ast.Constant):
            return node
        if self._within(node.operand, _SMALL_INT):
            return self._mark(facts, node)  # a bounded int: the helper would charge nothing
        return self._mark(facts, _small_int_or(node, [node.operand],
                                              _call(_UNARY_HELPER[op], node.operand)))

    #: comparisons the helpers price by the operands' sizes, and charge nothing for when
    #: either operand is an int or bool (``Ops._cmp_charge``)
    _ORDER = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)

    def visit_Compare(self, node):
        # which operands are proven ints (or int/bool/None literals), before rewriting
        free = [self._isint(o) or is_singleton_const(o)
                for o in [node.left] + node.comparators]
        self.generic_visit(node)
        if all(isinstance(o, self._ORDER) for o in node.ops) and all(
                a or b for a, b in zip(free, free[1:])):
            # every compare has an int (or None) side: the helper would charge nothing and
            # do just this (int vs anything is O(1): a value, or TypeError at once), so the
            # plain compare (a chain too: Python evaluates it lazily, each operand once)
            return node
        if len(node.ops) == 1:
            return self._compare1(node.left, node.ops[0], node.comparators[0], node)
        # chained: _pc_chain(left, ('lt', 'le'), lambda: b, lambda: c) evaluates lazily, once
        lambdas = [
            ast.Lambda(
                args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                   kw_defaults=[], kwarg=None, defaults=[]),
                body=c,
            )
            for c in node.comparators
        ]
        ops = ast.Tuple(elts=[_const(_CMPNAME[type(o)]) for o in node.ops], ctx=ast.Load())
        return ast.Call(func=_name("_pc_chain"), args=[node.left, ops, *lambdas], keywords=[])

    def _compare1(self, left, op, right, node):
        t = type(op)
        if t in (ast.Is, ast.IsNot):
            if is_singleton_const(left) or is_singleton_const(right):
                return node
        elif t in (ast.In, ast.NotIn):
            if _is_small_const(right) and isinstance(right.value, (str, bytes)):
                return node
            if (
                isinstance(right, (ast.Tuple, ast.List))
                and len(right.elts) <= 16
                and all(_is_small_const(e) for e in right.elts)
            ):
                return node
        elif _is_small_const(left) or _is_small_const(right):
            return node
        call = ast.Call(func=_name("_pc_cmp_" + _CMPNAME[t]), args=[left, right], keywords=[])
        if t in (ast.In, ast.NotIn):
            fast = self.dict_in_inline(left, right, node, call)
            if fast is not None:
                return fast
        if t not in (ast.In, ast.NotIn, ast.Is, ast.IsNot) and _simple(left) and _simple(right):
            # int vs int compares are free: test the exact types inline, no helper call
            guard = _int_guard(left, right, ints=self.ints)
            if guard is None:  # both proven ints: the compare is free
                return node
            return ast.IfExp(test=guard, body=copy.deepcopy(node), orelse=call)
        return call

    def dict_in_inline(self, left, right, node, call):
        """``k in d`` with ``d`` a name and ``k`` a name, int literal or str literal:
        ``(k in d) if <d exactly a dict and k an exact int or str> else _pc_cmp_in(k, d)``.
        Such a lookup is free (schedule 6), as ``d[k]`` is (a str key of at most ``long_key``
        characters: a longer one pays by length in the helper). None when not applicable."""
        if not (isinstance(right, ast.Name) and (
                _simple(left) or isinstance(left, ast.Constant) and type(left.value) is str
                and len(left.value) <= _LONG_KEY)):
            return None
        test = None if right.id in self.dicts else _type_is(_name(right.id), "_pc_D")
        if isinstance(left, ast.Name) and left.id not in self.ints and left.id not in self.strs:
            kt = _plain_key_test(left.id)
            test = kt if test is None else ast.BoolOp(op=ast.And(), values=[kt, test])
        if test is None:
            return copy.deepcopy(node)  # a proven dict and a proven int or literal key
        return ast.IfExp(test=test, body=copy.deepcopy(node), orelse=call)

    def visit_JoinedStr(self, node):
        values = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                values.append(self._formatted(v))
            else:
                values.append(v)
        node.values = values
        return node

    def _formatted(self, fv):
        value = self.visit(fv.value)
        if fv.format_spec is None:
            spec = _const("")
        else:
            spec = self.visit(fv.format_spec)  # a JoinedStr whose fields are formatted too
        call = ast.Call(
            func=_name("_pc_fmt"), args=[value, _const(fv.conversion), spec], keywords=[]
        )
        return ast.FormattedValue(value=call, conversion=-1, format_spec=None)

    def visit_FormattedValue(self, node):  # only reached outside JoinedStr (never, in practice)
        return self._formatted(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if (
            isinstance(f, ast.Name) and f.id == "_getitem_" and len(node.args) == 2
            and not node.keywords and isinstance(node.args[0], ast.Name)
            and (_simple(node.args[1]) or _is_small_const(node.args[1])
                 and type(node.args[1].value) is str)
        ):
            # o[k] with o a list/tuple/dict/str and k an int or str costs nothing extra in the
            # guard either: do the exact type tests inline and index directly
            o, k = node.args
            test = None if o.id in self.lists or o.id in self.dicts else ast.Compare(
                left=_call("_pc_T", _name(o.id)), ops=[ast.In()], comparators=[_name("_pc_IDX")])
            if isinstance(k, ast.Name) and k.id not in self.ints and k.id not in self.strs:
                # (schedule 6) a str key longer than long_key takes the helper: it pays by length
                # (a proven int or short str key, ``str_locals``, needs no test)
                kt = _plain_key_test(k.id)
                test = kt if test is None else ast.BoolOp(op=ast.And(), values=[kt, test])
            direct = ast.Subscript(value=_name(o.id), slice=copy.deepcopy(k), ctx=ast.Load())
            if test is None:
                # a proven list or dict indexed by a proven int, an int literal or a short str
                # key: what _getitem_ does
                return direct
            return ast.IfExp(test=test, body=direct, orelse=node)
        args = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                a = ast.Starred(value=_call("_pc_star", a.value), ctx=ast.Load())
            args.append(a)
        node.args = args
        for kw in node.keywords:
            if kw.arg is None:
                kw.value = _call("_pc_kwstar", kw.value)
        f = node.func
        if (
            isinstance(f, ast.Call) and isinstance(f.func, ast.Name) and f.func.id == "_getattr_"
            and len(f.args) == 2 and not f.keywords and isinstance(f.args[1], ast.Constant)
            and f.args[1].value == "append" and len(node.args) == 1 and not node.keywords
            and not isinstance(node.args[0], ast.Starred)
        ):
            return ast.Call(func=_name("_pc_append"), args=[f.args[0], node.args[0]],
                            keywords=[])
        direct = self._method_call(node)
        if direct is not None:
            return direct
        if self.str_ok and isinstance(node.func, ast.Name) and node.func.id == "str":
            if _str_of(node) is None:  # str(), str(b, enc), str(*a): the helper, refunded
                node.func = _name("_pc_str")
                return node
            out = self._str_call(_str_of(node))
            out.pc_is_str = True
            return out
        if isinstance(node.func, ast.Name) and node.func.id in ALLOWED_EXCEPTIONS:
            node = ast.Call(func=_name("_pc_exc"), args=[node.func, *node.args],
                            keywords=node.keywords)
        elif isinstance(node.func, ast.Name) and node.func.id in self.funcs:
            node.int_expr = True  # returns an int (int_functions): range test only
            r = self.rbounds.get(node.func.id)
            if r is not None:
                node.int_bound = r + 1  # and within +-r (return_bounds): no test
        return node

    def _method_call(self, node):
        """``_getattr_(X, 'name')(args)`` (``X.name(args)`` after vetting) ->
        ``(_pc_M_name if _pc_T(X) is T else _pc_meth(X, 'name'))(X, args)``, T the type
        ``helpers.METHOD_TYPES`` names: for a T receiver, the implementation the guard would
        bind, called directly (no guard call, no ``partial``); any other receiver gets the
        guard's answer from ``_pc_meth`` as a callable that takes X first. The callee is
        chosen (and a missing attribute raised) before the arguments are evaluated, as in
        Python, and the arguments appear once. X is used as it is when it is a name
        (evaluated twice, without effect) or a literal of type T (no test), else through a
        temporary (function bodies outside comprehensions only); other receivers keep the
        guard call. Same implementations, same charges: no gas changes."""
        f = node.func
        if not (
            isinstance(f, ast.Call) and isinstance(f.func, ast.Name) and f.func.id == "_getattr_"
            and len(f.args) == 2 and not f.keywords and isinstance(f.args[1], ast.Constant)
            and f.args[1].value in helpers.METHOD_TYPES
        ):
            return None
        name = f.args[1].value
        tname = helpers.METHOD_TYPES[name]
        recv = f.args[0]
        helper = _name(helpers.method_helper(name))
        if isinstance(recv, ast.Constant):
            if type(recv.value).__name__ != tname:
                return None
            return ast.Call(func=helper, args=[recv, *node.args], keywords=node.keywords)
        if tname == "str" and (self._is_str(recv)
                               or isinstance(recv, ast.Name) and recv.id in self.strs):
            # str(x), a + str(x), an f-string, a proven str local (``str_locals``): a str
            # whenever it evaluates at all
            return ast.Call(func=helper, args=[recv, *node.args], keywords=node.keywords)
        if isinstance(recv, ast.Name) and (tname == "dict" and recv.id in self.dicts
                                           or tname == "list" and recv.id in self.lists):
            # a proven dict / list local: always the type tested
            return ast.Call(func=helper, args=[recv, *node.args], keywords=node.keywords)
        if isinstance(recv, ast.Name):
            first, ref = _name(recv.id), recv.id
        elif self.in_fn and not self.comp_depth:
            self.ntemp += 1
            ref = f"_pc_t{self.ntemp}"
            first = ast.NamedExpr(target=_name(ref, ast.Store()), value=recv)
        else:
            return None
        test = ast.Compare(left=_call("_pc_T", first), ops=[ast.Is()],
                           comparators=[_name(helpers.TYPE_CONSTANTS[tname])])
        callee = ast.IfExp(test=test, body=helper,
                           orelse=_call("_pc_meth", _name(ref), _const(name)))
        return ast.Call(func=callee, args=[_name(ref), *node.args], keywords=node.keywords)

    def _str_call(self, x):
        """``str(x)`` (the builtin; its call weighs ``str_call`` more, v6): ``_pc_S(x)`` inline
        when ``x`` is an int below 64 bits, whose conversion costs exactly that static part
        (its <= 20 bytes are not accounted: >= 6 gas each); any other value goes to
        ``_pc_str`` (``Ops.str_prepaid``), which refunds the static part and charges what
        ``str()`` charges. ``x`` is tested by name, through a temporary (function bodies
        outside comprehensions), or not at all when it is an int within the range whatever
        its operands (``i % 100``, ``i & 7``)."""
        bound = _STR_SMALL
        if _is_int_const(x):
            if -bound < x.value < bound:
                return _call("_pc_S", x)
            return _call("_pc_str", x)
        # a bool (a proven-int name may hold one) is not an int to str(): it takes _pc_str
        exact = not isinstance(x, ast.Name) or x.id in self.exact
        if exact and self._within(x, bound):  # an int literal, a bounded name or expression
            return _call("_pc_S", x)
        if isinstance(x, ast.Name):
            first, ref = _name(x.id), x.id
        elif self.in_fn and not self.comp_depth:
            self.ntemp += 1
            ref = f"_pc_t{self.ntemp}"
            first = ast.NamedExpr(target=_name(ref, ast.Store()), value=x)
        else:
            return _call("_pc_str", x)
        in_range = ast.Compare(left=_const(-bound), ops=[ast.Lt(), ast.Lt()],
                               comparators=[_name(ref), _const(bound)])
        if isinstance(x, ast.Name) and x.id in self.exact:
            in_range.comparators[0] = first
            test = in_range
        else:
            test = ast.BoolOp(op=ast.And(), values=[
                ast.Compare(left=_call("_pc_T", first), ops=[ast.Is()],
                            comparators=[_name("_pc_I")]), in_range])
        return ast.IfExp(test=test, body=_call("_pc_S", _name(ref)),
                         orelse=_call("_pc_str", _name(ref)))

    def _is_str(self, n) -> bool:
        """An expression (already rewritten) that gives a str whenever it evaluates at all:
        ``str(x)`` with the builtin ``str`` (``Ops.str_call`` returns a str or raises), its
        fused ``a + str(x)`` (``Ops.add_str``: a str, or TypeError), f-strings."""
        if isinstance(n, ast.JoinedStr) or getattr(n, "pc_is_str", False):
            return True
        return self.str_ok and isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and (
            n.func.id == "str" and len(n.args) == 1 and not n.keywords
            and not isinstance(n.args[0], ast.Starred))

    def _display(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.elts = [
                ast.Starred(value=_call("_pc_star", e.value), ctx=ast.Load())
                if isinstance(e, ast.Starred) else e
                for e in node.elts
            ]
        return node

    visit_List = _display
    visit_Tuple = _display

    def visit_Lambda(self, node):
        """``lambda a: e`` -> ``_pc_lam(lambda a: e', K)``: each call is charged ``call`` + the
        weight of its body and counted in the call depth, like a ``def``; creating it is
        weighed like a ``def`` statement (Lambda's weight)."""
        k = SCHEDULE.call + weight(node.body)
        a = node.args
        names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
        names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
        self._shadowed(node, names)  # its parameters hide the function's proven-int names
        return _call("_pc_lam", node, _const(k))

    def visit_Dict(self, node):
        self.generic_visit(node)
        keys, values = [], []
        for k, v in zip(node.keys, node.values):
            if k is None:
                v = _call("_pc_dstar", v)
            elif not _is_small_const(k):
                k = self._store_key(k)
            keys.append(k)
            values.append(v)
        node.keys, node.values = keys, values
        return node

    def _comprehension(self, node, elt_weight, mem, gen=False, dict_key=False):
        gens = node.generators
        # a single clause with a plain name target whose element and conditions run no
        # contract code cannot change the length of a list it iterates: the runtime may
        # charge such a list up front too (schedule 6)
        if isinstance(node, ast.DictComp):
            parts = [node.key, node.value]
        else:
            parts = [node.elt]
        pure = (not gen and len(gens) == 1
                and _runs_no_contract_code(parts + gens[0].ifs, self.pure_calls))
        fixed = pure and isinstance(gens[0].target, ast.Name)
        # ... and over enumerate(x) also with a flat tuple target (its items are tuples:
        # unpacking them runs no contract code)
        enum = pure and self.enum_ok and (fixed or _flat_names(gens[0].target))
        per_item = []
        for i, g in enumerate(gens):
            w = SCHEDULE.comprehension_item + weight(g.target) + sum(weight(c) for c in g.ifs)
            if i + 1 < len(gens):
                w += weight(gens[i + 1].iter)
            else:
                w += elt_weight
            if _flat_names(g.target) and _unpack_call(g.iter, "_iter_unpack_sequence_"):
                w += flat_unpack_units(g.target)
                g.iter = _call("_getiter_", g.iter.args[0])
            per_item.append(w)
        # the comprehension's own names hide ours; a plain name drawn from range() is an int
        own = [n.id for g in gens for n in ast.walk(g.target) if isinstance(n, ast.Name)]
        ranged = {g.target.id for g in gens if isinstance(g.target, ast.Name)
                  and self.range_ok and _range_iter(g.iter) and own.count(g.target.id) == 1}
        # the index of ``for i, x in enumerate(...)`` is an int too
        ranged |= {g.target.elts[0].id for g in gens if self.enum_ok and _enumerate_iter(g.iter)
                   and _flat_names(g.target) and len(g.target.elts) == 2
                   and own.count(g.target.elts[0].id) == 1}
        saved, saved_bounds = (self.ints, self.lists, self.dicts), self.bounds
        saved_strs = self.strs, self.exact
        try:
            self._hide_strs(own)
            # the comprehension's own names hide our bounds too; a range-drawn name is bounded
            # like a ``for`` target (every item drawn is charged >= 1 gas, tested, before it
            # is used: ``_pc_citer`` per item or up front), its range's arguments read with
            # none of the comprehension's own names bounded
            self.bounds = {k: u for k, u in saved_bounds.items() if k not in own}
            self.ints = saved[0] - set(own)
            self.lists = saved[1] - set(own)
            self.dicts = saved[2] - set(own)
            drawn = {}
            for g in gens:
                if (isinstance(g.target, ast.Name) and g.target.id in ranged
                        and _range_iter(g.iter)):
                    u = _range_bound(g.iter.args[0], self._leaf_bound)
                    if u is not None:
                        drawn[g.target.id] = u
            self.ints = (saved[0] - set(own)) | ranged
            self.bounds.update(drawn)
            self._shadowed(node, (), comp=True)
            if dict_key and not _is_small_const(node.key):
                node.key = self._store_key(node.key)  # with the comprehension's proven names
        finally:
            (self.ints, self.lists, self.dicts), self.bounds = saved, saved_bounds
            self.strs, self.exact = saved_strs
        for i, g in enumerate(gens):
            last = i + 1 == len(gens)
            # a list/dict comprehension draws every item of a fixed-length iterable: the
            # runtime charges those up front (no per-item wrapper); generator expressions may
            # be consumed partly, so they are always charged per item drawn
            if i == 0 and gen:
                # a generator expression's first iterable is drawn by the genexp itself: its
                # nesting depth is recorded (``_pc_gxiter``) and the genexp wrapped (``_pc_gx``)
                g.iter = _call("_pc_gxiter", g.iter, _const(per_item[i]))
                continue
            if i == 0 and enum and _enumerate_iter(g.iter):
                # _pc_cenum(x, k, mem): enumerate(x) charged up front for a list, tuple, str,
                # bytes, dict or range x (else what enumerate + _pc_citer did)
                g.iter = _call("_pc_cenum", g.iter.args[0].args[0], _const(per_item[i]),
                               _const(bool(mem)))
                continue
            args = [g.iter, _const(per_item[i]), _const(bool(mem and last)), _const(bool(mem))]
            if fixed:
                args.append(_const(True))
            g.iter = _call("_pc_citer", *args)
        if gen:
            return _call("_pc_gx", node)
        return node

    def visit_ListComp(self, node):
        return self._comprehension(node, weight(node.elt), True)

    def visit_GeneratorExp(self, node):
        return self._comprehension(node, weight(node.elt), False, gen=True)

    def visit_DictComp(self, node):
        return self._comprehension(node, weight(node.key) + weight(node.value), True,
                                   dict_key=True)

    def _store_key(self, k):
        """A dict display / comprehension key: ``_pc_hk(k)`` (the store-key check), or for a
        name ``k if <an exact str of at most long_key characters, or an exact int within
        +-2**32> else _pc_hk(k)`` (the check
        passes such keys unchanged, charging nothing)."""
        call = _call("_pc_hk", k)
        if not isinstance(k, ast.Name):
            return call
        if k.id in self.strs:
            return k  # a proven short str (``str_locals``): the check passes it, free
        wide = 1 << 32  # runtime.meter.WIDE_INT_KEY
        rng = ast.Compare(left=_const(-wide), ops=[ast.Lt(), ast.Lt()],
                          comparators=[_name(k.id), _const(wide)])
        if k.id in self.ints:
            test = rng
        else:
            test = ast.BoolOp(op=ast.Or(), values=[
                _short_str_test(k.id),
                ast.BoolOp(op=ast.And(), values=[_type_is(_name(k.id), "_pc_I"), rng])])
        return ast.IfExp(test=test, body=_name(k.id), orelse=call)

    def visit_SetComp(self, node):  # vetting rejects sets
        raise TypeError("gas_rewriter: set comprehensions are not part of the language")


# ---------------------------------------------------------------- self-recursion

#: calls that never run contract code and never read or change the call depth ``_pc_m.d``
#: (sized operators and plain comparisons, exact-type tests, exceptions, storage and list
#: reads/writes, the charge hooks). ``in``, chains, in-place operators, iteration, lambdas,
#: methods and API calls are left out: they may draw lazy iterators (which count their depth in
#: ``_pc_m.d``) or run other contract code (which reads it)
_NO_REENTRY = frozenset({
    "_pc_add", "_pc_sub", "_pc_mul", "_pc_pow", "_pc_lshift", "_pc_floordiv", "_pc_mod",
    "_pc_or", "_pc_and", "_pc_xor", "_pc_rshift", "_pc_neg", "_pc_pos", "_pc_inv",
    "_pc_cmp_eq", "_pc_cmp_ne", "_pc_cmp_lt", "_pc_cmp_le", "_pc_cmp_gt", "_pc_cmp_ge",
    "_pc_cmp_is", "_pc_cmp_isnot", "_pc_T", "_pc_exc", "_pc_uncatch", "_pc_oog", "_pc_deep",
    "_getitem_", "_pc_setitem", "_pc_append", "_pc_hk",
})
#: builtins of the same kind, when the module never binds their names
_NO_REENTRY_BUILTINS = frozenset({"len", "abs"})


def rebound_names(module) -> set:
    """Names bound anywhere in the module other than by exactly one module-level ``def``: a
    call ``f(...)`` of any other name ``f`` always calls the module-level function ``f``."""
    counts = _module_binding_counts(module)
    return set(counts) - {st.name for st in module.body
                          if isinstance(st, ast.FunctionDef) and counts[st.name] == 1}


def _own_nodes(stmts):
    """Every node of ``stmts`` except the bodies of nested functions and lambdas (which run in
    frames of their own)."""
    stack = list(stmts)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stack.extend(n.decorator_list)
            stack.append(n.args)
            continue
        if isinstance(n, ast.Lambda):
            stack.append(n.args)
            continue
        stack.extend(ast.iter_child_nodes(n))


def _self_calls(stmts, name):
    return [n for n in _own_nodes(stmts) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name) and n.func.id == name]


def _closed(stmts, name, rebound) -> bool:
    """Whether the (rewritten) body calls nothing but itself and ``_NO_REENTRY`` helpers, so no
    other contract code and no lazy iterator can run while one of its frames is innermost."""
    for n in _own_nodes(stmts):
        if isinstance(n, ast.Call):
            f = n.func
            if not isinstance(f, ast.Name):
                return False
            if f.id == name or f.id in _NO_REENTRY:
                continue
            if f.id in _NO_REENTRY_BUILTINS and f.id not in rebound:
                continue
            return False
    return True


_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _uncond_calls(st, name):
    """The calls ``name(...)`` in statement ``st``'s own expressions that run exactly once
    whenever ``st`` runs to its end: in a simple statement or an ``if`` test, not in a branch
    of a conditional expression, an ``and``/``or`` operand after the first, a comparison chain
    link after the first, an ``assert`` message, a lambda or a comprehension. (The rewriter
    keeps evaluation order and counts: a call the source evaluates once runs once.)"""
    if isinstance(st, (ast.If, ast.Assert)):
        roots = [st.test]
    elif isinstance(st, ast.AnnAssign):
        roots = [st.target] + ([st.value] if st.value is not None else [])
    elif isinstance(st, SIMPLE):
        roots = [st]
    else:
        return []
    out, stack = [], list(roots)
    while stack:
        n = stack.pop()
        if isinstance(n, _COMPS + (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef,
                                   ast.ClassDef)):
            continue
        if isinstance(n, ast.IfExp):
            stack.append(n.test)
            continue
        if isinstance(n, ast.BoolOp):
            stack.append(n.values[0])
            continue
        if isinstance(n, ast.Compare):
            stack.extend((n.left, n.comparators[0]))
            continue
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name:
            out.append(n)
        stack.extend(ast.iter_child_nodes(n))
    return out


#: the parameters of a bounded copy are tested within this at its entry (``recursive_copy``)
_ENTRY_BOUND = 1 << 62
#: the largest widening per self-call a bounded parameter may have
_SHIFT_MAX = 1 << 32


def _shift(n, q, lb, rb):
    """``(x, c)``: ``|n| <= (X if x else 0) + c`` whenever every name in ``q`` holds an int
    within +-X (``n`` an int expression); None when no such form is known. ``lb``: bounds of
    other locals (valid in every frame), ``rb``: of what functions return (``return_bounds``).
    X appears at most once (``p + q`` of two such names could double X at every call)."""
    if _is_int_const(n):
        return False, abs(int(n.value))
    if isinstance(n, ast.Name):
        if n.id in q:
            return True, 0
        u = lb.get(n.id)
        return None if u is None else (False, u)
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd, ast.Invert)):
        r = _shift(n.operand, q, lb, rb)
        return None if r is None else (r[0], r[1] + isinstance(n.op, ast.Invert))
    if isinstance(n, ast.BinOp):
        op, right = type(n.op), n.right
        if ((op is ast.FloorDiv and _is_int_const(right) and right.value != 0)
                or (op is ast.RShift and _is_int_const(right) and right.value >= 0)):
            return _shift(n.left, q, lb, rb)  # |x // d| <= |x| for d != 0
        if op in (ast.Add, ast.Sub):
            a, b = _shift(n.left, q, lb, rb), _shift(right, q, lb, rb)
            if a is None or b is None or (a[0] and b[0]):
                return None
            return a[0] or b[0], a[1] + b[1]

    def ub(m):
        if isinstance(m, ast.Name):
            return None if m.id in q else lb.get(m.id)
        return _call_bound(m, rb)
    u = _ubound(n, ub)  # no X in it (x % c, x & c, literals, bounded locals)
    return None if u is None else (False, u)


# ---------------------------------------------------------------- charge placement


def _is_charge(st) -> bool:
    """``_pc_m.g -= K`` as ``charge_stmts`` writes it."""
    return (isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Attribute)
            and st.target.attr == "g" and isinstance(st.target.value, ast.Name)
            and st.target.value.id == "_pc_m")


def _first_charge(stmts) -> int:
    """The charge of a rewritten statement list's first block (0 if it has none)."""
    return stmts[0].value.value if stmts and _is_charge(stmts[0]) else 0


def _take_first(stmts, m):
    """Lower the first block's charge of a rewritten list by ``m`` (moved to the block before
    it); a charge that drops to 0 disappears with its test."""
    if not m:
        return
    c = stmts[0]
    c.value.value -= m
    if c.value.value == 0:
        del stmts[0]
        if stmts and isinstance(stmts[0], ast.If) and _is_charge_test(stmts[0]):
            del stmts[0]
        if not stmts:
            stmts.append(ast.Pass(lineno=c.lineno, col_offset=0, end_lineno=c.lineno,
                                  end_col_offset=0))


_JUMPS = (ast.Return, ast.Raise, ast.Break, ast.Continue)


def _leaves_early(body) -> bool:
    """Whether a loop body can end the loop before its last iteration other than by an
    exception: a ``return`` (outside nested functions) or a ``break`` of this loop."""
    stack = [(n, False) for n in body]
    while stack:
        n, nested = stack.pop()
        if isinstance(n, ast.Return) or (isinstance(n, ast.Break) and not nested):
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        inner = nested or isinstance(n, (ast.For, ast.While))
        stack.extend((c, inner) for c in ast.iter_child_nodes(n))
    return False


def _ending(st):
    """How the block after compound statement ``st`` is reached from the block of its header:
    "merge" (always, unless an exception ends the way: an ``if``/loop/``def`` with no
    ``return`` inside and, for an ``if``, no ``break``/``continue`` that leaves it), "else"
    (``if`` without ``else`` whose body always jumps away: the block is the other branch), or
    None (a ``try``, or a ``return`` inside)."""
    if isinstance(st, ast.FunctionDef):
        return "merge"
    if not isinstance(st, (ast.If, ast.For, ast.While)):
        return None
    if isinstance(st, ast.If) and not st.orelse and st.body and isinstance(st.body[-1], _JUMPS):
        return "else"
    stack = [(n, False) for n in ([st] if not isinstance(st, ast.If) else st.body + st.orelse)]
    loop_own = isinstance(st, (ast.For, ast.While))
    if loop_own:
        stack = [(n, True) for n in st.body + st.orelse]
    while stack:
        n, in_loop = stack.pop()
        if isinstance(n, ast.Return):
            return None
        if isinstance(n, (ast.Break, ast.Continue)) and not in_loop:
            return None
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        inner = in_loop or isinstance(n, (ast.For, ast.While))
        stack.extend((c, inner) for c in ast.iter_child_nodes(n))
    return "merge"


class GasRewriter:
    """Statement-level rewriting: block charges, loop charges, function entry and depth."""

    def __init__(self, schedule=SCHEDULE, entry_points=None, pay=None):
        self.s = schedule
        #: ``pay(units)`` (schedule 7): called with the node count of the module before any
        #: analysis, and of a function before each further version of it is written (the
        #: recursive copies), so a deploy pays for the rewriting and compiling before it is
        #: done (``OutOfGas`` raised by it ends the rewrite); None: nothing is paid
        self.pay = pay
        #: node counts paid so far (``deploy_units`` of the compiled contract)
        self.units = 0
        self.expr = ExprRewriter()
        #: the contract's entry points (called from outside): ``name -> EntryPoint`` (their
        #: ``int`` parameters may be proven, ``_entry_int_params``) or just their names (no
        #: entry-point parameter is); None: unknown, so no parameter is proven int
        self.entry_points = entry_points
        self.params = {}
        #: ``id(def node) -> {parameter: U}``: parameters of a bounded recursive copy, within
        #: +-U on every call (``recursive_copy``)
        self.pbounds = {}
        #: every def node copied or discarded while rewriting: kept alive so that no later
        #: node reuses its ``id`` (``params``/``pbounds`` are keyed by it)
        self._alive = []

    # -- entry point
    range_ok = False  # ``range`` is the builtin (never rebound in the module)

    #: names bound other than by one module-level def (``rebound_names``); functions nesting
    rebound = frozenset()
    fn_depth = 0
    #: give closed self-recursive functions a depth-counting copy (``recursive_copy``); the
    #: tests compare against the metered code without them
    RECURSIVE_COPIES = True
    #: schedule 7: a self-call that its statement always evaluates pays the callee's entry
    #: charge and depth test in the caller (``recursive_copy``)
    PREPAY_SELF_CALLS = True
    #: a copy whose shift-bounded parameters are within +-2**62 at entry (no gas change)
    BOUNDED_COPIES = True
    #: (name, entry charge, depth expression factory, def line) while a function of a
    #: self-recursive group is rewritten with its self-calls prepaid
    prepay = None

    def _pay_for(self, node) -> None:
        n = node_count(node)
        self.units += n
        if self.pay is not None:
            self.pay(n)

    def rewrite(self, module: ast.Module) -> ast.Module:
        self._pay_for(module)
        self.range_ok = self.expr.range_ok = not binds_range(module)
        bound = bound_names(module, _PURE_CALLS + ("enumerate", "list", "sorted"))
        self.expr.list_calls = frozenset({"list", "sorted"} - bound)
        self.expr.pure_calls = frozenset(set(_PURE_CALLS) - bound) | {"_getitem_"}
        self.expr.enum_ok = "enumerate" not in bound
        self.expr.str_ok = not binds_name(module, "str")
        self.rebound = rebound_names(module)
        self.expr.funcs, self.params = module_int_facts(module, self.range_ok, self.entry_points)
        self.expr.rbounds = return_bounds(module, self.range_ok, self.expr.funcs, self.params)
        module.body = self.body(module.body, 0, module.body[0].lineno if module.body else 1)
        _fix_lines(module.body)
        ast.fix_missing_locations(module)
        return module

    # -- statement lists
    #: schedule 5: the gas counter is TESTED only where unbounded work can begin: at function
    #: entry, at the top of every loop body and at module level; other blocks only decrement
    #: it (straight-line code between two tests is bounded by the code's length, and every
    #: size-charged helper tests the counter itself)
    LAZY = True

    #: schedule 6: charges move to the earliest point from which their block is always reached
    #: (``_settle``, ``visit_If``): fewer charges per path, the same total on every path that
    #: ends normally
    HOIST = True
    #: schedule 6: a ``for`` over ``range`` that cannot break or return pays every iteration
    #: before the first (``visit_For``)
    PREPAY_RANGE_LOOPS = True
    hoisted = 0  # what the statement just rewritten moved into the block containing its header

    def body(self, stmts, extra: int, line: int, head: bool = False):
        """Rewrite a statement list; ``extra`` is added to the charge of its first block, which
        tests the counter when ``head`` (a loop body's top)."""
        out = []
        run = []
        run_weight = extra
        first = True
        target = None  # the charge node that pays for the next block when it is merged
        prev = None  # how the previous block ended: (kind, rewritten If or None)
        for st in stmts:
            w = header_weight(st)
            # module code runs once per transaction: its blocks keep their own charges (and
            # an out of gas there the line it had)
            kind = _ending(st) if self.HOIST and self.expr.in_fn else None
            self.hoisted = 0
            pre = self._prepaid_calls(st)
            w += pre
            new = self.stmt(st)
            if pre:
                new = [self._depth_test()] + new
            run_weight += w + self.hoisted
            self.hoisted = 0
            run.extend(new)
            if not isinstance(st, SIMPLE):
                run_weight, own = self._settle(prev, target, run_weight)
                chunk = self._flush(run, run_weight, first, line, head and first)
                target = chunk[0] if own and chunk and _is_charge(chunk[0]) else target
                out.extend(chunk)
                prev = (kind, st)
                run, run_weight, first = [], 0, False
        if run or first:
            run_weight, _own = self._settle(prev, target, run_weight)
            out.extend(self._flush(run, run_weight, first, line, head and first))
        return out

    def _prepaid_calls(self, st):
        """(schedule 7) The entry charges this statement prepays: one per self-call that it
        always evaluates (``_uncond_calls``), marked ``pc_pre`` for ``recursive_copy``."""
        if self.prepay is None or self.fn_depth != 1:
            return 0
        calls = _uncond_calls(st, self.prepay[0])
        for c in calls:
            c.pc_pre = True
        return len(calls) * self.prepay[1]

    def _depth_test(self):
        """``if DEPTH >= call_depth_limit: _pc_deep()`` before a statement's prepaid
        self-calls (their frames are one deeper), at the ``def`` line as the callee's was."""
        _name_, _k, depth, line = self.prepay
        chk = ast.If(test=ast.Compare(left=depth(), ops=[ast.GtE()],
                                      comparators=[_const(self.s.call_depth_limit)]),
                     body=[ast.Expr(value=_call("_pc_deep"))], orelse=[])
        _set_line(chk, line)
        chk.pc_depth = True
        return chk

    def _settle(self, prev, target, k):
        """Move the charge ``k`` of the block that follows ``prev`` into ``target`` (the charge
        of the block ``prev`` ended, or the one that block was merged into) when the block is
        always reached from there: after an ``if``/loop/``def`` that contains no ``return`` (and,
        for an ``if``, no ``break``/``continue`` of an enclosing loop). After ``if c: <body that
        ends in return/raise/break/continue>`` (no ``else``) the block is the other branch: the
        cheaper of the two first charges moves up. Returns (charge left, whether the block
        keeps its own charge node and is the next target)."""
        if prev is None or target is None or not k:
            return k, True
        kind, st = prev
        if kind == "merge":
            target.value.value += k
            return 0, False
        if kind == "else":
            m = min(_first_charge(st.body), k)
            if m:
                target.value.value += m
                _take_first(st.body, m)
            return k - m, True
        return k, True

    def _flush(self, run, k, first, line, head=False):
        if k == 0:
            return list(run)
        ln = run[0].lineno if run else line
        ch = charge_stmts(k, head or not self.LAZY or not self.expr.in_fn)
        for c in ch:
            _set_line(c, ln)
        return ch + run

    def stmt(self, st):
        """Return the list of statements replacing ``st`` (bodies rewritten recursively):
        ``visit_<NodeName>`` for statements with their own rewriting, else a simple statement
        whose expressions are rewritten in place."""
        visit = getattr(self, "visit_" + type(st).__name__, None)
        if visit is not None:
            return visit(st)
        if isinstance(st, SIMPLE):
            return [self.expr.visit(st)]
        raise TypeError(f"gas_rewriter: unsupported statement {type(st).__name__}")

    def visit_Expr(self, st):
        """``x.append(v)`` as a statement, ``x`` a proven list (``list_locals``): what
        ``_pc_append`` does, inline (``v`` evaluated first, then the item's memory accounted,
        then appended); every other expression statement as before."""
        new = self.expr.visit(st)
        call = new.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id == "_pc_append" and isinstance(call.args[0], ast.Name)
                and call.args[0].id in self.expr.lists):
            return [new]
        lst, value = call.args
        out = []
        if not isinstance(value, (ast.Name, ast.Constant)):
            out.append(ast.Assign(targets=[_name("_pc_v", ast.Store())], value=value))
            value = _name("_pc_v")
        mem = lambda ctx: ast.Attribute(value=_name("_pc_m"), attr="mem", ctx=ctx)  # noqa: E731
        out.append(ast.AugAssign(target=mem(ast.Store()), op=ast.Add(),
                                 value=_const(self.s.item_memory)))
        out.append(ast.If(
            test=ast.Compare(left=mem(ast.Load()), ops=[ast.Gt()],
                             comparators=[_const(self.s.memory_limit)]),
            body=[ast.Expr(value=ast.Call(
                func=ast.Attribute(value=_name("_pc_m"), attr="alloc", ctx=ast.Load()),
                args=[_const(0)], keywords=[]))], orelse=[]))
        out.append(ast.Expr(value=ast.Call(
            func=ast.Attribute(value=_name(lst.id), attr="append", ctx=ast.Load()),
            args=[value], keywords=[])))
        for n in out:
            _set_line(n, st.lineno)
        return out

    def _orelse(self, st):
        if st.orelse:
            st.orelse = self.body(st.orelse, 0, st.lineno)

    def visit_If(self, st):
        st.test = self.expr.visit(st.test)
        st.body = self.body(st.body, 0, st.lineno)
        self._orelse(st)
        if self.HOIST and self.expr.in_fn and st.orelse:
            # the cheaper branch's first charge is paid at the branch point (in the block of
            # the ``if`` header); each branch pays only what it costs more
            m = min(_first_charge(st.body), _first_charge(st.orelse))
            if m:
                _take_first(st.body, m)
                _take_first(st.orelse, m)
                self.hoisted = m
        return [st]

    def visit_While(self, st):
        per = self.s.loop_iteration + weight(st.test)
        st.test = self.expr.visit(st.test)
        st.body = self.body(st.body, per, st.lineno, head=True)
        self._orelse(st)
        if not st.orelse and not isinstance(st.test, ast.Constant):
            # ``while T: B`` as ``while True: if not T: break; B`` (no ``else``: there ``break``
            # would skip it): the same evaluations, charges and order, but the loop closes with
            # an unconditional backward jump, which CPython 3.11 counts towards quickening the
            # code object (its conditional backward jump does not), so a long while loop in a
            # function called fewer than 8 times runs specialised instead of generic bytecode
            guard = ast.If(test=ast.UnaryOp(op=ast.Not(), operand=st.test),
                           body=[ast.Break()], orelse=[])
            _set_line(guard, st.lineno)
            st.test = _const(True)
            st.body = [guard] + st.body
        return [st]

    def visit_For(self, st):
        per = self.s.loop_iteration + weight(st.target)
        prepay = (self.PREPAY_RANGE_LOOPS and self.expr.in_fn and self.range_ok
                  and isinstance(st.target, ast.Name)
                  and _range_iter(st.iter) and not _leaves_early(st.body))
        if _flat_names(st.target) and _unpack_call(st.iter, "_iter_unpack_sequence_"):
            per += flat_unpack_units(st.target)
            st.iter = _call("_getiter_", st.iter.args[0])
        st.iter = self.expr.visit(st.iter)
        st.target = self.expr.visit(st.target)
        st.body = self.body(st.body, per, st.lineno, head=True)
        if prepay and _range_iter(st.iter):
            # (schedule 6) every iteration pays the body's first charge, and none can be
            # skipped but by an exception: all of them are paid before the first, from the
            # range's length (``_pc_rng`` tests the counter), and the body has no charge at top
            k = _first_charge(st.body)
            _take_first(st.body, k)
            st.iter = _call("_pc_rng", st.iter.args[0], _const(k))
        self._orelse(st)
        return [st]

    def visit_Try(self, st):
        st.body = self.body(st.body, 0, st.lineno)
        for h in st.handlers:
            hw = weight(h)
            if h.type is not None:
                h.type = self.expr.visit(h.type)
            # MemoryError / RecursionError are never observable: the first thing every
            # handler does is turn them into the engine's (uncatchable) revert
            unc = ast.Expr(value=_call("_pc_uncatch"))
            _set_line(unc, h.lineno)
            h.body = [unc] + self.body(h.body, hw, h.lineno)
        self._orelse(st)
        if st.finalbody:
            st.finalbody = self.body(st.finalbody, 0, st.lineno)
        return [st]

    def visit_FunctionDef(self, st):
        if (self.RECURSIVE_COPIES and self.fn_depth == 0 and st.name not in self.rebound
                and _self_calls(st.body, st.name)
                and all(isinstance(d, ast.Constant) for d in st.args.defaults)
                and all(d is None or isinstance(d, ast.Constant) for d in st.args.kw_defaults)):
            return self.recursive_copy(st)
        return [self.function(st)]

    def recursive_copy(self, st):
        """A module-level function that calls itself and nothing that can run other contract
        code (``_closed``) gets a copy, ``_pc_rec_NAME(_pc_d, ...)``, that counts its call
        depth in its first parameter instead of in the shared ``_pc_m.d``: every direct
        self-call (in both) calls the copy with the caller's depth + 1, and the copy tests
        ``_pc_d > call_depth_limit`` where the function tests ``_pc_m.d``. Charges, tests and
        their order are the same, so gas and every outcome are too; the copy just skips the
        shared counter's increment and its ``finally`` decrement (~30 ns per call). While a
        copy's frame is innermost nothing else reads ``_pc_m.d``, and nothing needs undoing
        when one raises."""
        orig = _copy_tree(st)
        self._alive += [st, orig]
        if id(st) in self.params:
            # the copy runs only from the self-calls the facts were proven over (the same
            # argument expressions, under the same facts): the same parameters are ints
            self.params[id(orig)] = self.params[id(st)]
        outer = self.function(st)
        if not _closed(outer.body, st.name, self.rebound):
            return [outer]
        if self.PREPAY_SELF_CALLS:
            try:
                return self.prepaid_copies(orig, outer.body[0].value.value)
            except _NoPrepay:
                pass
        self._pay_for(orig)
        inner = self.function(orig, counted=False)
        cname = RECURSIVE_PREFIX + st.name
        inner.name = cname
        d = ast.arg(arg="_pc_d")
        a = inner.args
        (a.posonlyargs if a.posonlyargs else a.args).insert(0, d)
        m_d = ast.Attribute(value=_name("_pc_m"), attr="d", ctx=ast.Load())
        for fn, depth in ((outer, m_d), (inner, _name("_pc_d"))):
            for c in _self_calls(fn.body, st.name):
                c.func = _name(cname)
                c.args.insert(0, ast.BinOp(left=copy.deepcopy(depth), op=ast.Add(),
                                           right=_const(1)))
        _set_line(d, st.lineno)
        return [inner, outer]

    def prepaid_copies(self, st, entry):
        """(schedule 7) The closed self-recursive function ``st`` (pristine), whose entry
        charge is ``entry``, as up to five functions. Every self-call that its statement
        always evaluates (``_uncond_calls``) is *prepaid*: ``entry`` is added to the charge
        of the caller's block (placed and hoisted like any block weight) and the depth test
        ``if DEPTH >= call_depth_limit: _pc_deep()`` precedes the statement; it calls a copy
        that starts with no charge, no counter test and no depth test (``_pc_rec_NAME``, or
        ``_pc_rec__b_NAME`` below). Every other self-call calls a copy that charges itself
        (``_pc_rec__s_NAME`` / ``_pc_rec__bs_NAME``: the same body after the whole entry
        charge, a test and the depth test). The callee's depth is its caller's + 1, in
        ``_pc_d`` (``_pc_m.d`` in ``NAME`` itself). Each call of a copy is paid exactly once,
        so every path that ends normally pays what it paid under schedule 6; a statement
        that an exception ends has paid for the self-calls it did not reach.

        A copy frame makes calls only after a counter test in that frame
        (``_ensure_tests``), so the work done after the counter goes negative stays bounded
        by the code's length. Bounded copies (``_pc_rec__b_NAME``, no gas change): when the
        int parameters ``Q`` are passed, at every self-call, expressions within +-(X + c)
        for X bounding all of ``Q`` in the caller (``_shift``), ``NAME`` calls them only with
        every ``Q`` parameter within +-2**62, and their frames are at most
        ``call_depth_limit`` deep: every ``Q`` parameter stays within 2**62 +
        (call_depth_limit + 1) * c, an int bound (``pbounds``) that drops range tests."""
        name, s = st.name, self.s
        params = self.params.get(id(st))
        q, c = self._bounded_params(st, params) if self.BOUNDED_COPIES else (set(), 0)

        def fresh(pb=None):
            self._pay_for(st)  # one more version of the function to write and compile
            fn = _copy_tree(st)
            self._alive.append(fn)
            if params is not None:
                self.params[id(fn)] = params
            if pb:
                self.pbounds[id(fn)] = pb
            return fn
        m_d = lambda: ast.Attribute(value=_name("_pc_m"), attr="d", ctx=ast.Load())  # noqa
        p_d = lambda: _name("_pc_d")  # noqa: E731
        saved = self.prepay
        try:
            self.prepay = (name, entry, m_d, st.lineno)
            gen = self.function(fresh())
            self.prepay = (name, entry, p_d, st.lineno)
            slow = self.function(fresh(), counted=False, prepaid=entry)
            fast = None
            if q:
                u = _ENTRY_BOUND + (s.call_depth_limit + 1) * c
                fast = self.function(fresh(dict.fromkeys(q, u)), counted=False, prepaid=entry)
        finally:
            self.prepay = saved
        P = RECURSIVE_PREFIX + name
        S, B, BS = (f"{RECURSIVE_PREFIX}_{t}_{name}" for t in ("s", "b", "bs"))
        calls = {id(fn): _self_calls(fn.body, name) for fn in (gen, slow, fast) if fn}
        cond = any(not getattr(x, "pc_pre", False) for cs in calls.values() for x in cs)
        entry_test = None
        if fast is not None:
            tests = [ast.Compare(left=_const(-_ENTRY_BOUND), ops=[ast.Lt(), ast.Lt()],
                                 comparators=[_name(p), _const(_ENTRY_BOUND)])
                     for p in sorted(q)]
            entry_test = tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(),
                                                                     values=tests)
        for fn, depth in ((gen, m_d), (slow, p_d), (fast, p_d)):
            if fn is None:
                continue
            for x in calls[id(fn)]:
                pre = getattr(x, "pc_pre", False)
                f_t, s_t = (B, P) if pre else (BS, S)
                if fn is gen and fast is not None:
                    x.func = ast.IfExp(test=_copy_tree(entry_test), body=_name(f_t),
                                       orelse=_name(s_t))
                else:
                    x.func = _name(f_t if fn is fast else s_t)
                x.args.insert(0, ast.BinOp(left=depth(), op=ast.Add(), right=_const(1)))
                _set_line(x.func, x.lineno if hasattr(x, "lineno") else st.lineno)
        out = []
        for fn, cname, sname in ((slow, P, S), (fast, B, BS)):
            if fn is None:
                continue
            fn.name = cname
            d = ast.arg(arg="_pc_d")
            _set_line(d, st.lineno)
            a = fn.args
            (a.posonlyargs if a.posonlyargs else a.args).insert(0, d)
            if cond:
                self._pay_for(st)
                out.append(self._self_charging(fn, sname, entry))
            _ensure_tests(fn.body, False)
            out.append(fn)
        return out + [gen]

    def _self_charging(self, fn, name, entry):
        """A copy of the prepaid copy ``fn`` that pays its entry itself: the whole entry
        charge, the counter test and ``if _pc_d > call_depth_limit: _pc_deep()`` first."""
        new = _copy_tree(fn)
        new.name = name
        body = new.body
        k = entry
        if body and _is_charge(body[0]):
            k += body[0].value.value
            body = body[1:]
        check = ast.If(test=ast.Compare(left=_name("_pc_d"), ops=[ast.Gt()],
                                        comparators=[_const(self.s.call_depth_limit)]),
                       body=[ast.Expr(value=_call("_pc_deep"))], orelse=[])
        head = charge_stmts(k) + [check]
        for n in head:
            _set_line(n, fn.lineno)
        new.body = head + body
        return new

    def _bounded_params(self, fn, params):
        """(Q, c) for ``prepaid_copies``: the proven-int positional parameters, never
        rebound, that every self-call (none in a comprehension) passes an expression within
        +-(X + c) when all of Q are within +-X (``_shift``), the largest such c."""
        if not params:
            return set(), 0
        a = fn.args
        names = [x.arg for x in a.posonlyargs + a.args]
        good, bad = _local_bindings(fn, self.range_ok, params)
        q = {p for p in params if p in names and p not in bad
             and good.get(p) == [("param", None)]}
        calls = _self_calls(fn.body, fn.name)
        in_comp = {id(m) for n in _own_nodes(fn.body) if isinstance(n, _COMPS)
                   for m in ast.walk(n)}
        if not q or any(id(x) in in_comp for x in calls):
            return set(), 0
        lb = int_bounds(good, _int_locals(good, bad, self.expr.funcs), self.expr.funcs,
                        self.expr.rbounds)
        while True:
            c, out = 0, set()
            for x in calls:
                for arg, p in zip(x.args, names):
                    if p not in q:
                        continue
                    r = _shift(arg, q, lb, self.expr.rbounds)
                    if r is None or r[1] > _SHIFT_MAX:
                        out.add(p)
                    else:
                        c = max(c, r[1])
            if not out:
                return q, c
            q -= out

    def visit_Assert(self, st):
        test = self.expr.visit(st.test)
        args = [_name("AssertionError")]
        if st.msg is not None:
            args.append(self.expr.visit(st.msg))
        raise_ = ast.Raise(exc=ast.Call(func=_name("_pc_exc"), args=args, keywords=[]),
                           cause=None)
        new = ast.If(test=ast.UnaryOp(op=ast.Not(), operand=test), body=[raise_], orelse=[])
        _set_line(new, st.lineno)
        return [new]

    def visit_AugAssign(self, st):
        new = self.augassign(st)
        return new if isinstance(new, list) else [new]

    def visit_Assign(self, st):
        fast = self._add_str_inline(st)
        if fast is not None:
            return fast
        if _flat_assign_unpack(st):
            # Python's own unpacking draws at most len(targets) + 1 items: no guard needed
            st.value = self.expr.visit(st.value.args[0])
            return [st]
        if not (len(st.targets) == 1 and _write_target(st.targets[0])):
            return [self.expr.visit(st)]
        tgt = st.targets[0]
        # Python evaluates the value first, then the object, then the key: keep that order
        value = self.expr.visit(st.value)
        obj = self.expr.visit(tgt.value.args[0])
        key = self.expr.visit(tgt.slice)
        if isinstance(obj, ast.Name) and _simple(key):
            # lst[i] = v on a list with an int index needs no check: test inline
            out = []
            if not (isinstance(value, ast.Name) or isinstance(value, ast.Constant)):
                out.append(ast.Assign(targets=[_name("_pc_v", ast.Store())], value=value))
                value = _name("_pc_v")
            tests = [] if obj.id in self.expr.lists else [_type_is(_name(obj.id), "_pc_L")]
            if isinstance(key, ast.Name) and key.id not in self.expr.ints:
                tests.append(_type_is(_name(key.id), "_pc_I"))
            direct = ast.Assign(
                targets=[ast.Subscript(value=_name(obj.id), slice=copy.deepcopy(key),
                                       ctx=ast.Store())],
                value=copy.deepcopy(value))
            if not tests:
                # a proven list (``list_locals``) and an int index: what setitem_v does
                out.append(direct)
                for n in out:
                    _set_line(n, st.lineno)
                return out
            slow = ast.Expr(value=_call("_pc_setitem", value, obj, key))
            out.append(ast.If(
                test=tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(), values=tests),
                body=[direct], orelse=[slow]))
            for n in out:
                _set_line(n, st.lineno)
            return out
        new = ast.Expr(value=_call("_pc_setitem", value, obj, key))
        return [ast.copy_location(new, st)]

    def _add_str_inline(self, st):
        """``x = A + str(i)`` (``str`` the builtin) with ``A`` a str literal or a proven
        short-str local (``str_locals``) and ``i`` an int, never a bool, within +-2**63
        (``exact_int_locals``, ``int_bounds``), whose length keeps ``Ops.add_str``'s charge
        ``1 + n // bytes_per_gas`` static (n = len(A) + len(str(i)): 'acct' + str(i % 100)):
        what ``add_str`` does, inline::

            _pc_v = A + _pc_S(i)
            _pc_m.g = _pc_m.g - 1
            _pc_m.mem += 20 + _pc_len(_pc_v)
            if _pc_m.g < 0 or _pc_m.mem > memory_limit:
                _pc_add_str_settle(_pc_v)
            x = _pc_v

        ``A`` then ``i`` are evaluated, and ``str(i)`` (prepaid by the block, ``str_call``)
        cannot fail, as in the helper; its gas and bytes (20 for the digits, n for the
        result) are charged at once and tested once: past a limit, ``Ops.add_str_settle``
        takes them back and charges them again in the helper's order (so the same error, out
        of gas or the memory limit, ends the execution with the same gas used). ``x`` is bound
        only after the test. None when not applicable."""
        e = self.expr
        if not (e.str_ok and e.in_fn and len(st.targets) == 1
                and isinstance(st.targets[0], ast.Name)):
            return None
        v = st.value
        x = _str_of(v.right) if isinstance(v, ast.BinOp) and isinstance(v.op, ast.Add) else None
        if x is None:
            return None
        a = v.left
        if isinstance(a, ast.Constant) and type(a.value) is str:
            amin = amax = len(a.value)
        elif isinstance(a, ast.Name) and a.id in e.strs:
            amin, amax = 0, e.strs[a.id]
        else:
            return None
        if not (e._isint(x) and _is_exact_int(x, e.exact)):
            return None
        u = e._ub(x)
        if u is None or u >= _STR_SMALL:
            return None
        bpg = self.s.bytes_per_gas
        gas = 1 + (amin + 1) // bpg
        if gas != 1 + (amax + len(str(u)) + 1) // bpg:
            return None  # the charge depends on the length
        val = _name("_pc_v")

        def m_attr(attr, ctx):
            return ast.Attribute(value=_name("_pc_m"), attr=attr, ctx=ctx)
        out = [
            ast.Assign(targets=[_name("_pc_v", ast.Store())], value=ast.BinOp(
                left=e.visit(a), op=ast.Add(), right=_call("_pc_S", e.visit(x)))),
            # _pc_m.g = _pc_m.g - gas, not -=: no charge scanner (``_is_charge``) may take it
            # for a block's charge and move it or test after it
            ast.Assign(targets=[m_attr("g", ast.Store())], value=ast.BinOp(
                left=m_attr("g", ast.Load()), op=ast.Sub(), right=_const(gas))),
            ast.AugAssign(target=m_attr("mem", ast.Store()), op=ast.Add(), value=ast.BinOp(
                left=_const(_ADD_STR_MEM), op=ast.Add(), right=_call("_pc_len", val))),
            ast.If(test=ast.BoolOp(op=ast.Or(), values=[
                ast.Compare(left=m_attr("g", ast.Load()), ops=[ast.Lt()],
                            comparators=[_const(0)]),
                ast.Compare(left=m_attr("mem", ast.Load()), ops=[ast.Gt()],
                            comparators=[_const(self.s.memory_limit)])]),
                body=[ast.Expr(value=_call("_pc_add_str_settle", copy.deepcopy(val)))],
                orelse=[]),
            ast.Assign(targets=[_name(st.targets[0].id, ast.Store())], value=copy.deepcopy(val)),
        ]
        for n in out:
            _set_line(n, st.lineno)
        return out

    def visit_Delete(self, st):
        if not (len(st.targets) == 1 and _write_target(st.targets[0])):
            return [self.expr.visit(st)]
        tgt = st.targets[0]
        new = ast.Expr(value=_call("_pc_delitem", self.expr.visit(tgt.value.args[0]),
                                   self.expr.visit(tgt.slice)))
        return [ast.copy_location(new, st)]

    def augassign(self, st):
        op = type(st.op)
        ints = self.expr.ints
        tgt = st.target
        int_value = (isinstance(tgt, ast.Name) and tgt.id in ints
                     and _is_int_expr(st.value, ints, self.expr.funcs))
        value = self.expr.visit(st.value)
        if (int_value and op in (ast.Add, ast.Sub) and not _is_int_const(value)
                and getattr(value, "int_bound", None) is None):
            # x += e with x and e proven ints: free in the helper while both have at most 63
            # bits, so done inline then. x is loaded (and tested) before e is evaluated, as in
            # the helper call, and ``&`` evaluates both tests (no short circuit)
            x_small = self.expr._within(_name(tgt.id), _FREE_INT)
            if isinstance(value, ast.Name):
                v = value
                names = [n for n in (tgt.id, value.id)
                         if not self.expr._within(_name(n), _FREE_INT)]
                test = _free_int_test(*[_name(n) for n in names]) if names else None
            elif x_small:
                # x is bounded: only the value's range is tested
                v = _name("_pc_t")
                test = _free_int_test(ast.NamedExpr(target=_name("_pc_t", ast.Store()),
                                                    value=value))
            else:
                v = _name("_pc_t")
                test = ast.BinOp(
                    left=_free_int_test(_name(tgt.id)), op=ast.BitAnd(),
                    right=_free_int_test(ast.NamedExpr(target=_name("_pc_t", ast.Store()),
                                                       value=value)))
            body = ast.BinOp(left=_name(tgt.id), op=st.op, right=_name(v.id))
            expr = body if test is None else ast.IfExp(
                test=test, body=body, orelse=_call(_BINOP_HELPER[op], _name(tgt.id), _name(v.id)))
            new = ast.Assign(targets=[ast.Name(id=tgt.id, ctx=ast.Store())], value=expr)
            return ast.copy_location(new, st)
        if isinstance(tgt, ast.Name):
            if op in _INLINE_CHEAP or (op in (ast.Add, ast.Sub) and _is_int_const(value)):
                # x op= v as x = x op v: inline for small ints, else the sizing helper
                load = ast.Name(id=tgt.id, ctx=ast.Load())
                # operands proven within +-2**64 (bounds) need no test
                expr = _small_int_or(ast.BinOp(left=load, op=st.op, right=value),
                                     [o for o in (load, value)
                                      if not self.expr._within(o, _SMALL_INT)],
                                     _call(_BINOP_HELPER[op], copy.deepcopy(load),
                                           copy.deepcopy(value)))
                new = ast.Assign(targets=[ast.Name(id=tgt.id, ctx=ast.Store())], value=expr)
                return ast.copy_location(new, st)
            helper = _IOP_HELPER.get(op)
            fast = None if helper is None else self.expr.int_inline(
                ast.BinOp(left=_name(tgt.id), op=st.op, right=value), helper,
                [_name(tgt.id), value])
            if fast is not None:
                new = ast.Assign(targets=[ast.Name(id=tgt.id, ctx=ast.Store())], value=fast)
                return ast.copy_location(new, st)
            if helper is not None:
                call = _call(helper, ast.Name(id=tgt.id, ctx=ast.Load()), value)
            else:
                call = _call("_pc_iop", _const(_OPNAME[op]), ast.Name(id=tgt.id, ctx=ast.Load()),
                             value)
            new = ast.Assign(targets=[ast.Name(id=tgt.id, ctx=ast.Store())], value=call)
            return ast.copy_location(new, st)
        if isinstance(tgt, ast.Subscript):
            obj = tgt.value
            if (
                isinstance(obj, ast.Call) and isinstance(obj.func, ast.Name)
                and obj.func.id == "_write_" and len(obj.args) == 1
            ):
                obj = obj.args[0]
            obj = self.expr.visit(obj)
            key = self.expr.visit(tgt.slice)
            if not isinstance(value, (ast.Constant, ast.Name)):
                # Python's order: the object, the key, the item read, THEN the value (which
                # may fail, or change the object); a constant or a name cannot tell the
                # difference, so those keep the one-call form below
                temps = [ast.Assign(targets=[_name("_pc_o", ast.Store())], value=obj),
                         ast.Assign(targets=[_name("_pc_k", ast.Store())], value=key),
                         ast.Assign(targets=[_name("_pc_r", ast.Store())],
                                    value=_call("_pc_aug_get", _name("_pc_o"), _name("_pc_k"))),
                         ast.Expr(value=_call("_pc_aug_put", _name("_pc_o"), _name("_pc_k"),
                                              _const(_OPNAME[op]), _name("_pc_r"), value))]
                for n in temps:
                    _set_line(n, st.lineno)
                return temps
            fast = self._aug_item_inline(st, op, obj, key, value)
            if fast is not None:
                return fast
            new = ast.Expr(value=ast.Call(
                func=_name("_pc_aug_item"), args=[obj, key, _const(_OPNAME[op]), value],
                keywords=[],
            ))
            return ast.copy_location(new, st)
        raise TypeError("gas_rewriter: augmented assignment target must be a name or item")

    def _aug_item_inline(self, st, op, obj, key, value):
        """``o[k] op= v`` (``v`` a name or literal) done inline where ``Ops.aug_item`` charges
        nothing: ``o`` exactly a dict with a str key (at most ``long_key`` characters) or an int
        key within +-2**32 (or a list with such an int index), the item and ``v`` exact ints within the operator's free
        range (``FREE_INT_RANGE``)::

            if <o/k test> and _pc_T(_pc_r := o[k]) is _pc_I and -B < _pc_r < B [and <v test>]:
                o[k] = _pc_r OP v
            else:
                _pc_aug_item(o, k, 'op', v)

        The item is read once in the test, as Python reads it (a missing key raises the same
        KeyError / IndexError as the helper); the store replaces an existing item, so it
        allocates nothing and its key check charges nothing. Any test failing takes the
        helper, which reads the item again (reading a dict/list item with an int/str key runs
        no contract code). A non-name object or a key that is neither a name nor a literal is
        evaluated once, first, into ``_pc_o`` / ``_pc_k``. None when not applicable."""
        bound = FREE_INT_RANGE.get(op)
        if bound is None:
            return None
        ints = self.expr.ints
        if _is_int_const(value):
            if not -bound < value.value < bound:
                return None
            v_test = None
        elif isinstance(value, ast.Name) and self.expr._within(value, bound):
            v_test = None  # a bounded int (int facts by proof): no test
        elif isinstance(value, ast.Name):
            rng = ast.Compare(left=_const(-bound), ops=[ast.Lt(), ast.Lt()],
                              comparators=[_name(value.id), _const(bound)])
            v_test = rng if value.id in ints else ast.BoolOp(
                op=ast.And(), values=[_type_is(_name(value.id), "_pc_I"), rng])
        else:
            return None
        pre = []
        if not isinstance(obj, ast.Name):
            pre.append(ast.Assign(targets=[_name("_pc_o", ast.Store())], value=obj))
            obj = _name("_pc_o")
        str_key = isinstance(key, ast.Constant) and type(key.value) is str
        if str_key and len(key.value) > _LONG_KEY:
            return None
        if not (str_key or _simple(key)):
            pre.append(ast.Assign(targets=[_name("_pc_k", ast.Store())], value=key))
            key = _name("_pc_k")
        o = obj.id
        wide = 1 << 32  # runtime.meter.WIDE_INT_KEY: wider int keys pay at every store

        def key_rng():
            if self.expr._within(key, wide):
                return None  # a bounded int (int facts by proof)
            return ast.Compare(left=_const(-wide), ops=[ast.Lt(), ast.Lt()],
                               comparators=[_name(key.id), _const(wide)])
        is_dict = o in self.expr.dicts  # a proven dict: no type test of the object

        def o_is(tname, multi=False):
            if is_dict:
                return None
            if multi:
                return ast.Compare(left=_call("_pc_T", _name(o)), ops=[ast.In()],
                                   comparators=[_name("_pc_DL")])
            return _type_is(_name(o), tname)

        def both(*xs):
            xs = [x for x in xs if x is not None]
            return None if not xs else xs[0] if len(xs) == 1 else ast.BoolOp(
                op=ast.And(), values=xs)
        if str_key or isinstance(key, ast.Name) and key.id in self.expr.strs:
            ok = o_is("_pc_D")  # a str literal or a proven short str local (``str_locals``)
        elif _is_int_const(key):
            if not -wide < key.value < wide:
                return None
            ok = o_is("_pc_D", multi=True)
        elif key.id in ints:
            ok = both(o_is("_pc_D", multi=True), key_rng())
        else:
            ok = ast.BoolOp(op=ast.Or(), values=[
                both(_short_str_test(key.id), o_is("_pc_D")),
                both(_type_is(_name(key.id), "_pc_I"), key_rng(), o_is("_pc_D", multi=True))])
        slow = ast.Expr(value=_call("_pc_aug_item", _name(o), copy.deepcopy(key),
                                    _const(_OPNAME[op]), copy.deepcopy(value)))
        if op in (ast.Add, ast.Sub) and self.expr.int_dicts.get(o, bound) < bound:
            # every item is an int within the free range (``int_dict_locals``): no item test,
            # Python's own o[k] op= v (the same read, KeyError, operation and store)
            direct = ast.AugAssign(
                target=ast.Subscript(value=_name(o), slice=copy.deepcopy(key), ctx=ast.Store()),
                op=st.op, value=copy.deepcopy(value))
            tests = [x for x in (ok, v_test) if x is not None]
            out = pre + ([direct] if not tests else [ast.If(
                test=tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(), values=tests),
                body=[direct], orelse=[slow])])
            for n in out:
                _set_line(n, st.lineno)
            return out
        read = ast.NamedExpr(target=_name("_pc_r", ast.Store()),
                             value=ast.Subscript(value=_name(o), slice=copy.deepcopy(key),
                                                 ctx=ast.Load()))
        tests = [x for x in (ok,) if x is not None] + [_type_is(read, "_pc_I"),
                 ast.Compare(left=_const(-bound), ops=[ast.Lt(), ast.Lt()],
                             comparators=[_name("_pc_r"), _const(bound)])]
        if v_test is not None:
            tests.append(v_test)
        direct = ast.Assign(
            targets=[ast.Subscript(value=_name(o), slice=copy.deepcopy(key), ctx=ast.Store())],
            value=ast.BinOp(left=_name("_pc_r"), op=st.op, right=copy.deepcopy(value)))
        slow = ast.Expr(value=_call("_pc_aug_item", _name(o), copy.deepcopy(key),
                                    _const(_OPNAME[op]), copy.deepcopy(value)))
        out = pre + [ast.If(test=ast.BoolOp(op=ast.And(), values=tests), body=[direct],
                            orelse=[slow])]
        for n in out:
            _set_line(n, st.lineno)
        return out

    def function(self, fn, counted: bool = True, prepaid: int = 0):
        """The metered function: entry charge and test, then the call depth (``_pc_m.d``
        counted in a ``try/finally``; when not ``counted``, only the test of the ``_pc_d``
        parameter ``recursive_copy`` adds). ``prepaid``: (schedule 7) every caller has paid
        this much of the entry charge and tested the depth: the rest of the charge only, no
        test (``_ensure_tests`` adds those the prepaid calls need), no depth test."""
        s = self.s
        fn.args = self.expr.visit(fn.args)
        fn.decorator_list = [self.expr.visit(d) for d in fn.decorator_list]
        outer = self.expr.ints, self.expr.lists, self.expr.dicts, self.expr.in_fn
        outer_bounds, outer_strs = self.expr.bounds, (self.expr.strs, self.expr.exact,
                                                      self.expr.int_dicts)
        params = self.params.get(id(fn), frozenset())
        # int_facts, keeping the bindings for the str and dict facts (one walk of the function)
        good, bad = _local_bindings(fn, self.range_ok, params, self.pbounds.get(id(fn)))
        self.expr.ints = _int_locals(good, bad, self.expr.funcs)
        self.expr.bounds = int_bounds(good, self.expr.ints, self.expr.funcs, self.expr.rbounds)
        self.expr.exact = exact_int_locals(good, self.expr.ints)
        self.expr.strs = str_locals(
            good, bad, lambda x: self.expr._ub(x) if self.expr._isint(x) else None,
            self.expr.str_ok)
        self.expr.in_fn = True
        self.expr.lists = list_locals(fn, self.expr.list_calls)
        self.expr.dicts = dict_locals(fn)
        self.expr.int_dicts = int_dict_locals(
            fn, self.expr.dicts, good,
            lambda x: self.expr._ub(x) if self.expr._isint(x) else None,
            "len" in self.expr.pure_calls)
        self.fn_depth += 1
        try:
            inner = self.body(fn.body, 0, fn.lineno)
        finally:
            self.expr.ints, self.expr.lists, self.expr.dicts, self.expr.in_fn = outer
            self.fn_depth -= 1
            self.expr.bounds = outer_bounds
            self.expr.strs, self.expr.exact, self.expr.int_dicts = outer_strs
        # the first block's charge is merged into the entry charge
        first_k = 0
        if (
            inner and isinstance(inner[0], ast.AugAssign)
            and isinstance(inner[0].target, ast.Attribute) and inner[0].target.attr == "g"
        ):
            first_k = inner[0].value.value
            checked = len(inner) >= 2 and isinstance(inner[1], ast.If) and _is_charge_test(inner[1])
            inner = inner[2:] if checked else inner[1:]
        if prepaid:
            k = s.call + first_k - prepaid
            if k < 0:
                raise _NoPrepay(fn.name)
            entry = charge_stmts(k, False) if k else []
            for n in entry:
                _set_line(n, fn.lineno)
            fn.body = entry + (inner or [ast.Pass(lineno=fn.lineno, col_offset=0)])
            fn.returns = None
            return fn
        entry = charge_stmts(s.call + first_k)
        if not counted:
            check = ast.If(
                test=ast.Compare(left=_name("_pc_d"), ops=[ast.Gt()],
                                 comparators=[_const(s.call_depth_limit)]),
                body=[ast.Expr(value=_call("_pc_deep"))], orelse=[],
            )
            for n in entry + [check]:
                _set_line(n, fn.lineno)
            fn.body = entry + [check] + inner
            fn.returns = None
            return fn
        m_d = lambda ctx: ast.Attribute(value=_name("_pc_m"), attr="d", ctx=ctx)  # noqa: E731
        inc = ast.AugAssign(target=m_d(ast.Store()), op=ast.Add(), value=_const(1))
        check = ast.If(
            test=ast.Compare(left=m_d(ast.Load()), ops=[ast.Gt()],
                             comparators=[_const(s.call_depth_limit)]),
            body=[ast.Expr(value=_call("_pc_deep"))], orelse=[],
        )
        dec = ast.AugAssign(target=m_d(ast.Store()), op=ast.Sub(), value=_const(1))
        tr = ast.Try(body=[check] + (inner or [ast.Pass()]), handlers=[], orelse=[],
                     finalbody=[dec])
        for n in entry + [inc, check, dec]:
            _set_line(n, fn.lineno)
        tr.lineno = fn.lineno
        fn.body = entry + [inc, tr]
        fn.returns = None
        return fn


def _copy_tree(n):
    """A deep copy of an AST, every attribute kept (line numbers, the rewriter's marks): what
    ``copy.deepcopy`` gives for the rewriter's trees (no node is shared within one), in a
    quarter of the time (a recursive function is copied several times: ``prepaid_copies``)."""
    if isinstance(n, list):
        return [_copy_tree(x) for x in n]
    if not isinstance(n, ast.AST):
        return n
    new = type(n).__new__(type(n))
    d = new.__dict__
    for k, v in n.__dict__.items():
        d[k] = _copy_tree(v) if isinstance(v, (ast.AST, list)) else v
    return new


class _NoPrepay(Exception):
    """A prepaid copy would start below zero (never expected): keep the schedule 6 copy."""


def _ensure_tests(stmts, tested):
    """(schedule 7) In a prepaid copy (no test at entry), make every prepaid self-call
    (after its ``pc_depth`` test) follow a counter test in the same frame: the latest charge
    that always precedes it tests the counter (or, with none, a bare test before it)."""
    marks, bare = set(), set()
    _find_tests(stmts, tested, None, marks, bare)
    _insert_tests(stmts, marks, bare)


def _sub_bodies(st):
    if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    if isinstance(st, (ast.If, ast.For, ast.While)):
        return [st.body, st.orelse]
    if isinstance(st, ast.Try):
        return [st.body] + [h.body for h in st.handlers] + [st.orelse, st.finalbody]
    return []


def _find_tests(stmts, tested, dom, marks, bare):
    """Walk ``stmts`` in order: ``tested``, whether a counter test always ran before in this
    frame; ``dom``, the latest charge that always ran before (an inner body's charges do not
    outlive it: the body may not run). A prepaid call's depth test (``pc_depth``) reached
    untested marks ``dom`` to test (``marks``), or itself to get a bare test (``bare``)."""
    for st in stmts:
        if _is_charge(st):
            dom = st
            continue
        if isinstance(st, ast.If) and _is_charge_test(st):
            tested = True
            continue
        if getattr(st, "pc_depth", False):
            if not tested:
                if dom is not None:
                    marks.add(id(dom))
                else:
                    bare.add(id(st))
                tested = True
            continue
        for b in _sub_bodies(st):
            _find_tests(b, tested or (dom is not None and id(dom) in marks), dom, marks, bare)
        tested = tested or (dom is not None and id(dom) in marks)


def _insert_tests(stmts, marks, bare):
    i = 0
    while i < len(stmts):
        st = stmts[i]
        if id(st) in bare:
            t = charge_stmts(1)[1]
            _set_line(t, st.lineno)
            stmts.insert(i, t)
            i += 1
        if id(st) in marks and not (i + 1 < len(stmts) and isinstance(stmts[i + 1], ast.If)
                                    and _is_charge_test(stmts[i + 1])):
            t = charge_stmts(1)[1]
            _set_line(t, st.lineno)
            stmts.insert(i + 1, t)
        for b in _sub_bodies(st):
            _insert_tests(b, marks, bare)
        i += 1


# ---------------------------------------------------------------- line numbers

_HEADER_FIELDS = {
    ast.If: ("test",), ast.While: ("test",), ast.For: ("target", "iter"),
    ast.FunctionDef: ("args", "decorator_list", "returns"), ast.Try: (),
}
_BODY_FIELDS = ("body", "orelse", "finalbody")


def _set_line(node, line):
    for n in ast.walk(node):
        if hasattr(n, "lineno") or isinstance(n, (ast.expr, ast.stmt, ast.arg, ast.keyword,
                                                   ast.excepthandler)):
            n.lineno = line
            n.end_lineno = line
            n.col_offset = 0
            n.end_col_offset = 0


def _fix_lines(stmts):
    """Give every node of a simple statement (and of a compound header) the statement's line,
    so that the line a traceback reports is the same on every CPython version."""
    stack = [stmts]
    while stack:
        lst = stack.pop()
        for st in lst:
            line = getattr(st, "lineno", None) or 1
            t = type(st)
            if t in _HEADER_FIELDS:
                st.lineno = st.end_lineno = line
                st.col_offset = st.end_col_offset = 0
                for f in _HEADER_FIELDS[t]:
                    v = getattr(st, f, None)
                    if isinstance(v, list):
                        for x in v:
                            _set_line(x, line)
                    elif v is not None:
                        _set_line(v, line)
                for f in _BODY_FIELDS:
                    v = getattr(st, f, None)
                    if v:
                        stack.append(v)
                if t is ast.Try:
                    for h in st.handlers:
                        h.lineno = h.end_lineno = h.lineno or line
                        h.col_offset = h.end_col_offset = 0
                        if h.type is not None:
                            _set_line(h.type, h.lineno)
                        stack.append(h.body)
            else:
                _set_line(st, line)


def rewrite(tree: ast.Module, entry_points=None, pay=None) -> ast.Module:
    """Rewrite a vetted module tree in place and return it. ``entry_points``: the contract's
    entry points (``VettedModule.entry_points``, ``name -> EntryPoint``, or just their names);
    given, function parameters may be proven int (``module_int_facts``): the other functions'
    and, with the ``EntryPoint`` objects, the entry points' ``int``-annotated ones. ``pay``:
    see ``GasRewriter.pay``; the units paid are left in ``tree.pc_units``."""
    rw = GasRewriter(entry_points=entry_points, pay=pay)
    out = rw.rewrite(tree)
    out.pc_units = rw.units
    return out
