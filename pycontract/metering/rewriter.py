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
import copy

from pycontract.metering import helpers
from pycontract.metering.helpers import RECURSIVE_PREFIX
from pycontract.metering.schedule import NODE_WEIGHTS, SCHEDULE
from pycontract.language import ALLOWED_EXCEPTIONS
from pycontract.vetting.nodes import CHILD_FIELDS, is_singleton_const

SIMPLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Pass, ast.Break,
          ast.Continue, ast.Delete, ast.Raise, ast.Assert)

_SMALL_CONST_LEN = 256


def weight(node) -> int:
    """Static weight of evaluating ``node`` once (iterative; explicit child table)."""
    total = 0
    stack = [node]
    while stack:
        n = stack.pop()
        if n is None:
            continue
        name = type(n).__name__
        try:
            total += NODE_WEIGHTS[name]
        except KeyError:
            raise TypeError(f"gas_rewriter: no weight for node type {name}") from None
        if name == "Call" and isinstance(n.func, ast.Name) and n.func.id == "str":
            total += SCHEDULE.str_call  # v6: prepaid str() of a small int (see visit_Call)
        if name == "JoinedStr":
            stack.extend(v for v in n.values if isinstance(v, ast.FormattedValue))
        elif name in ("ListComp", "GeneratorExp", "DictComp"):
            stack.append(n.generators[0].iter)  # the rest is charged per item
        else:
            for f in CHILD_FIELDS[name]:
                v = getattr(n, f, None)
                if isinstance(v, list):
                    stack.extend(v)
                elif v is not None:
                    stack.append(v)
    return total


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
    """``node if -2**64 < x < 2**64 [and ...] else helper(...)`` when every operand is a name or
    a small int literal (a non-int operand makes the range test raise TypeError, as the operation
    itself would); the helper call alone otherwise."""
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
    for n in ast.walk(module):
        if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load):
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name:
            return True
        if isinstance(n, ast.arg) and n.arg == name:
            return True
        if isinstance(n, ast.ExceptHandler) and n.name == name:
            return True
        if isinstance(n, ast.alias) and (n.asname or n.name) == name:
            return True
    return False


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


def _str_of(n):
    """``x`` when ``n`` is ``str(x)`` (one positional argument, no star), else None."""
    if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "str"
            and len(n.args) == 1 and not n.keywords
            and not isinstance(n.args[0], ast.Starred)):
        return n.args[0]
    return None


def _is_int_expr(n, ints) -> bool:
    """An expression that, if it evaluates at all, gives an int (or bool): int literals, names
    proven int, and arithmetic of those (the sizing helpers return ints for ints or raise)."""
    if isinstance(n, ast.Constant):
        return type(n.value) in (int, bool)
    if isinstance(n, ast.Name):
        return n.id in ints
    if isinstance(n, ast.BinOp):
        return (isinstance(n.op, _INT_BINOPS) and _is_int_expr(n.left, ints)
                and _is_int_expr(n.right, ints))
    if isinstance(n, ast.UnaryOp):
        return isinstance(n.op, (ast.USub, ast.UAdd, ast.Invert)) and _is_int_expr(n.operand, ints)
    return False


def int_locals(fn, range_ok: bool) -> frozenset:
    """Local names of ``fn`` that can only ever hold an int (or bool): every binding of the name
    in the function's own scope is ``x = E``, ``x: T = E`` or ``x op= E`` with ``E`` an int
    expression (given the other such names: a fixpoint), or ``for x in range(...)``.
    Parameters, unpacking targets, except-as names, nested defs and anything else disqualify
    the name. A proof, not a guess: the rewriter drops type tests for these names."""
    good = {}  # name -> list of (kind, value)
    bad = set()
    seen_targets = set()
    stack = list(fn.body)
    for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs:
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
                good.setdefault(n.target.id, [])
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
    ints = {k for k in good if k not in bad}
    changed = True
    while changed:
        changed = False
        for k in list(ints):
            for op, value in good[k]:
                ok = _is_int_expr(value, ints) and (op == "=" or op in _INT_BINOPS)
                if not ok:
                    ints.discard(k)
                    changed = True
                    break
    return frozenset(ints)


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
    good = {}
    bad = set()
    seen = set()
    for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs:
        bad.add(a.arg)
    for a in (fn.args.vararg, fn.args.kwarg):
        if a is not None:
            bad.add(a.arg)
    stack = list(fn.body)
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            good.setdefault(n.targets[0].id, []).append(("=", n.value))
            seen.add(id(n.targets[0]))
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.value is not None:
            good.setdefault(n.target.id, []).append(("=", n.value))
            seen.add(id(n.target))
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            good.setdefault(n.target.id, []).append((type(n.op), n.value))
            seen.add(id(n.target))
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            if id(n) not in seen:
                bad.add(n.id)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bad.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            bad.update(n.names)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bad.add(n.name)
        if isinstance(n, _SCOPES):
            for m in ast.walk(n):
                if isinstance(m, ast.NamedExpr) and isinstance(m.target, ast.Name):
                    bad.add(m.target.id)
                elif isinstance(m, (ast.Global, ast.Nonlocal)):
                    bad.update(m.names)
            continue
        stack.extend(ast.iter_child_nodes(n))
    lists = {k for k in good if k not in bad}
    changed = True
    while changed:
        changed = False
        for k in list(lists):
            for op, value in good[k]:
                if op == "=":
                    ok = _is_list_expr(value, lists, calls_ok)
                else:
                    ok = op in (ast.Add, ast.Mult)  # in place on the list (or an error)
                if not ok:
                    lists.discard(k)
                    changed = True
                    break
    return frozenset(lists)


#: operands that are never ints (non-int literals, displays, f-strings)
_NOT_INT = (ast.List, ast.Tuple, ast.Dict, ast.JoinedStr, ast.ListComp, ast.DictComp,
            ast.GeneratorExp)


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

    def _proven(self, n) -> bool:
        """A name proven to hold an int, or an int literal."""
        return _is_int_const(n) or (isinstance(n, ast.Name) and n.id in self.ints)

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
    ntemp = 0

    def _shadowed(self, node, names, comp=False):
        """Visit a nested scope (comprehension, lambda) whose own ``names`` hide ours."""
        saved = self.ints, self.lists
        self.ints = saved[0] - set(names)
        self.lists = saved[1] - set(names)
        self.comp_depth += comp
        try:
            return self.generic_visit(node)
        finally:
            self.ints, self.lists = saved
            self.comp_depth -= comp

    def _bounded(self, node):
        """M such that -M < result < M when ``node`` is ``x & c`` (c >= 0) or ``x % c`` (c > 0)
        of a proven int expression ``x`` and an int literal ``c`` (whatever x's size), else
        None."""
        r = node.right
        if not (_is_int_const(r) and _is_int_expr(node.left, self.ints)):
            return None
        if isinstance(node.op, ast.BitAnd) and r.value >= 0:
            return r.value + 1
        if isinstance(node.op, ast.Mod) and r.value > 0:
            return r.value
        return None

    def visit_BinOp(self, node):
        bounded = self._bounded(node)
        out = self._binop(node)
        if bounded is not None:
            out.int_bound = bounded  # read by int_inline: needs no range test
        return out

    def _binop(self, node):
        if isinstance(node.op, ast.Add) and self.str_ok and _str_of(node.right) is not None:
            # a + str(x): one helper, the same charges in the same order (Ops.add_str)
            out = _call("_pc_add_str", self.visit(node.left), self.visit(_str_of(node.right)))
            out.pc_is_str = True
            return out
        self.generic_visit(node)
        op = type(node.op)
        left, right = node.left, node.right
        if _simple(left) and _simple(right) and (op in _INLINE_CHEAP or (
                op in (ast.Add, ast.Sub) and (_is_int_const(left) or _is_int_const(right))
        ) or (op is ast.FloorDiv and _is_int_const(right) and right.value != 0)):
            # linear int ops whose result is no bigger than an operand: inline when every
            # operand is a name or int literal known (by an inline range test) to fit in 64
            # bits; otherwise the helper, which charges and accounts the memory of big results
            return _small_int_or(node, [left, right], _call(_BINOP_HELPER[op], left, right))
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
            m = getattr(o, "int_bound", None)
            if m is not None and m <= bound and (i == len(operands) - 1 or all(
                    isinstance(x, ast.Name) or _is_int_const(x) for x in operands[i + 1:])):
                # a proven int within the free range whatever its operands' sizes (x & 7,
                # x % 10): no test and no temporary; it is evaluated in the branch taken,
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
                proven, temps = False, True
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
        exprs = [u for u in uses if isinstance(u, ast.AST)]

        def use(u, again=False):
            if isinstance(u, ast.AST):
                return copy.deepcopy(u) if again else u
            return _name(u) if isinstance(u, str) else _const(u)
        if not tests:
            if not exprs:
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
        self.generic_visit(node)
        op = type(node.op)
        if op is ast.Not or isinstance(node.operand, ast.Constant):
            return node
        return _small_int_or(node, [node.operand], _call(_UNARY_HELPER[op], node.operand))

    def visit_Compare(self, node):
        self.generic_visit(node)
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
        test = _type_is(_name(right.id), "_pc_D")
        if isinstance(left, ast.Name) and left.id not in self.ints:
            test = ast.BoolOp(op=ast.And(), values=[_plain_key_test(left.id), test])
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
            test = None if o.id in self.lists else ast.Compare(
                left=_call("_pc_T", _name(o.id)), ops=[ast.In()], comparators=[_name("_pc_IDX")])
            if isinstance(k, ast.Name) and k.id not in self.ints:
                # (schedule 6) a str key longer than long_key takes the helper: it pays by length
                kt = _plain_key_test(k.id)
                test = kt if test is None else ast.BoolOp(op=ast.And(), values=[kt, test])
            direct = ast.Subscript(value=_name(o.id), slice=copy.deepcopy(k), ctx=ast.Load())
            if test is None:
                # a proven list indexed by a proven int or int literal: what _getitem_ does
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
        if tname == "str" and self._is_str(recv):
            # str(x), a + str(x), an f-string: a str whenever it evaluates at all
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
        m = getattr(x, "int_bound", None)
        if m is not None and m <= bound:
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
        if isinstance(x, ast.Name) and x.id in self.ints:
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
        saved = self.ints, self.lists
        try:
            self.ints = (saved[0] - set(own)) | ranged
            self.lists = saved[1] - set(own)
            self._shadowed(node, (), comp=True)
            if dict_key and not _is_small_const(node.key):
                node.key = self._store_key(node.key)  # with the comprehension's proven names
        finally:
            self.ints, self.lists = saved
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
    top = [st for st in module.body if isinstance(st, ast.FunctionDef)]
    seen, bad = set(), set()
    for st in top:
        (bad if st.name in seen else seen).add(st.name)
    top_ids = {id(st) for st in top}
    for n in ast.walk(module):
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            bad.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if id(n) not in top_ids:
                bad.add(n.name)
        elif isinstance(n, ast.arg):
            bad.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bad.add(n.name)
        elif isinstance(n, ast.alias):
            bad.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            bad.update(n.names)
    return bad


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

    def __init__(self, schedule=SCHEDULE):
        self.s = schedule
        self.expr = ExprRewriter()

    # -- entry point
    range_ok = False  # ``range`` is the builtin (never rebound in the module)

    #: names bound other than by one module-level def (``rebound_names``); functions nesting
    rebound = frozenset()
    fn_depth = 0
    #: give closed self-recursive functions a depth-counting copy (``recursive_copy``); the
    #: tests compare against the metered code without them
    RECURSIVE_COPIES = True

    def rewrite(self, module: ast.Module) -> ast.Module:
        self.range_ok = self.expr.range_ok = not binds_range(module)
        bound = bound_names(module, _PURE_CALLS + ("enumerate", "list", "sorted"))
        self.expr.list_calls = frozenset({"list", "sorted"} - bound)
        self.expr.pure_calls = frozenset(set(_PURE_CALLS) - bound) | {"_getitem_"}
        self.expr.enum_ok = "enumerate" not in bound
        self.expr.str_ok = not binds_name(module, "str")
        self.rebound = rebound_names(module)
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
            new = self.stmt(st)
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
        orig = copy.deepcopy(st)
        outer = self.function(st)
        if not _closed(outer.body, st.name, self.rebound):
            return [outer]
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
        int_value = isinstance(tgt, ast.Name) and tgt.id in ints and _is_int_expr(st.value, ints)
        value = self.expr.visit(st.value)
        if (int_value and op in (ast.Add, ast.Sub) and not _is_int_const(value)
                and getattr(value, "int_bound", None) is None):
            # x += e with x and e proven ints: free in the helper while both have at most 63
            # bits, so done inline then. x is loaded (and tested) before e is evaluated, as in
            # the helper call, and ``&`` evaluates both tests (no short circuit)
            if isinstance(value, ast.Name):
                v, test = value, _free_int_test(_name(tgt.id), _name(value.id))
            else:
                v = _name("_pc_t")
                test = ast.BinOp(
                    left=_free_int_test(_name(tgt.id)), op=ast.BitAnd(),
                    right=_free_int_test(ast.NamedExpr(target=_name("_pc_t", ast.Store()),
                                                       value=value)))
            expr = ast.IfExp(test=test,
                             body=ast.BinOp(left=_name(tgt.id), op=st.op, right=_name(v.id)),
                             orelse=_call(_BINOP_HELPER[op], _name(tgt.id), _name(v.id)))
            new = ast.Assign(targets=[ast.Name(id=tgt.id, ctx=ast.Store())], value=expr)
            return ast.copy_location(new, st)
        if isinstance(tgt, ast.Name):
            if op in _INLINE_CHEAP or (op in (ast.Add, ast.Sub) and _is_int_const(value)):
                # x op= v as x = x op v: inline for small ints, else the sizing helper
                load = ast.Name(id=tgt.id, ctx=ast.Load())
                expr = _small_int_or(ast.BinOp(left=load, op=st.op, right=value), [load, value],
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
            return ast.Compare(left=_const(-wide), ops=[ast.Lt(), ast.Lt()],
                               comparators=[_name(key.id), _const(wide)])
        if str_key:
            ok = _type_is(_name(o), "_pc_D")
        elif _is_int_const(key):
            if not -wide < key.value < wide:
                return None
            ok = ast.Compare(left=_call("_pc_T", _name(o)), ops=[ast.In()],
                             comparators=[_name("_pc_DL")])
        elif key.id in ints:
            ok = ast.BoolOp(op=ast.And(), values=[
                ast.Compare(left=_call("_pc_T", _name(o)), ops=[ast.In()],
                            comparators=[_name("_pc_DL")]), key_rng()])
        else:
            ok = ast.BoolOp(op=ast.Or(), values=[
                ast.BoolOp(op=ast.And(), values=[_short_str_test(key.id),
                                                 _type_is(_name(o), "_pc_D")]),
                ast.BoolOp(op=ast.And(), values=[
                    _type_is(_name(key.id), "_pc_I"), key_rng(),
                    ast.Compare(left=_call("_pc_T", _name(o)), ops=[ast.In()],
                                comparators=[_name("_pc_DL")])])])
        read = ast.NamedExpr(target=_name("_pc_r", ast.Store()),
                             value=ast.Subscript(value=_name(o), slice=copy.deepcopy(key),
                                                 ctx=ast.Load()))
        tests = [ok, _type_is(read, "_pc_I"),
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

    def function(self, fn, counted: bool = True):
        """The metered function: entry charge and test, then the call depth (``_pc_m.d``
        counted in a ``try/finally``; when not ``counted``, only the test of the ``_pc_d``
        parameter ``recursive_copy`` adds)."""
        s = self.s
        fn.args = self.expr.visit(fn.args)
        fn.decorator_list = [self.expr.visit(d) for d in fn.decorator_list]
        outer = self.expr.ints, self.expr.lists, self.expr.in_fn
        self.expr.ints, self.expr.in_fn = int_locals(fn, self.range_ok), True
        self.expr.lists = list_locals(fn, self.expr.list_calls)
        self.fn_depth += 1
        try:
            inner = self.body(fn.body, 0, fn.lineno)
        finally:
            self.expr.ints, self.expr.lists, self.expr.in_fn = outer
            self.fn_depth -= 1
        # the first block's charge is merged into the entry charge
        first_k = 0
        if (
            inner and isinstance(inner[0], ast.AugAssign)
            and isinstance(inner[0].target, ast.Attribute) and inner[0].target.attr == "g"
        ):
            first_k = inner[0].value.value
            checked = len(inner) >= 2 and isinstance(inner[1], ast.If) and _is_charge_test(inner[1])
            inner = inner[2:] if checked else inner[1:]
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


def rewrite(tree: ast.Module) -> ast.Module:
    """Rewrite a vetted module tree in place and return it."""
    return GasRewriter().rewrite(tree)
