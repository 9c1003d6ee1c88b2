"""Every name that vetting's transform and the gas rewriter emit into contract code, in one place.

Metered code calls these names; the runtime binds each to the bound method of the component that
implements it (the ``Runtime`` itself, its ``Ops`` or its ``Builtins``) once per pooled runtime
(:meth:`pycontract.runtime.executor.Runtime._static_namespace` reads ``RUNTIME_HELPERS``). ``tests/metering/test_helpers.py`` checks that every name the rewriter can
emit is listed here and resolves in a runtime namespace, so the two sides cannot drift apart.
Contract code can never name them itself: vetting refuses names beginning with ``_``.
"""

from __future__ import annotations

from pycontract.language import ALLOWED_METHODS

#: emitted name -> "COMPONENT.method" that implements it: ``runtime`` (the ``Runtime``: guards,
#: storage, call depth), ``ops`` (its ``Ops``) or ``builtins`` (its ``Builtins``); bound once per
#: pooled runtime
RUNTIME_HELPERS: dict[str, str] = {
    # RestrictedPython's guards (emitted by vetting.transform) and the storage factory
    "_getattr_": "runtime.getattr_",
    "_getitem_": "runtime.getitem",
    "_write_": "runtime.write",
    "_getiter_": "builtins.getiter",
    "_iter_unpack_sequence_": "builtins.iter_unpack_sequence",
    "_unpack_sequence_": "builtins.unpack_sequence",
    "_apply_": "builtins.apply",
    "_pc_storage_": "runtime.storage_decl",
    # the rewriter: call depth; lambdas (charged and counted per call)
    "_pc_deep": "runtime.deep", "_pc_lam": "builtins.lam",
    # binary and unary operators, sized (BINOP_HELPERS / UNARY_HELPERS below)
    "_pc_add": "ops.add", "_pc_add_str": "ops.add_str",
    "_pc_add_str_settle": "ops.add_str_settle",
    "_pc_str": "ops.str_prepaid", "_pc_sub": "ops.sub", "_pc_mul": "ops.mul", "_pc_pow": "ops.pow",
    "_pc_lshift": "ops.lshift", "_pc_floordiv": "ops.floordiv", "_pc_mod": "ops.mod",
    "_pc_or": "ops.or_",
    "_pc_and": "ops.and_", "_pc_xor": "ops.xor", "_pc_rshift": "ops.rshift",
    "_pc_neg": "ops.neg", "_pc_pos": "ops.pos", "_pc_inv": "ops.inv",
    # comparisons and chains
    "_pc_cmp_eq": "ops.cmp_eq", "_pc_cmp_ne": "ops.cmp_ne", "_pc_cmp_lt": "ops.cmp_lt",
    "_pc_cmp_le": "ops.cmp_le", "_pc_cmp_gt": "ops.cmp_gt", "_pc_cmp_ge": "ops.cmp_ge",
    "_pc_cmp_in": "ops.cmp_in", "_pc_cmp_notin": "ops.cmp_notin", "_pc_cmp_is": "ops.cmp_is",
    "_pc_cmp_isnot": "ops.cmp_isnot", "_pc_chain": "ops.chain",
    # augmented assignment and item writes
    "_pc_iop": "ops.iop", "_pc_iadd": "ops.iadd", "_pc_imul": "ops.imul", "_pc_ior": "ops.ior",
    "_pc_setitem": "runtime.setitem_v", "_pc_delitem": "runtime.delitem",
    "_pc_aug_item": "ops.aug_item",
    "_pc_aug_get": "runtime.getitem", "_pc_aug_put": "ops.aug_put",
    # f-strings, star-arguments, displays, list.append fast path
    "_pc_fmt": "ops.fmt", "_pc_star": "builtins.star", "_pc_kwstar": "builtins.kwstar",
    "_pc_dstar": "builtins.dstar",
    "_pc_append": "builtins.append", "_pc_hk": "builtins.sk",
    # direct method calls: the receiver's method as a callable taking it first (METHOD_TYPES)
    "_pc_meth": "runtime.method_of",
    # loops, comprehensions, generator expressions
    "_pc_citer": "builtins.citer", "_pc_cenum": "builtins.cenum", "_pc_gxiter": "builtins.gxiter", "_pc_gx": "builtins.gx",
    "_pc_rng": "runtime.range_loop",
    # exceptions: raise/assert, handlers that must not catch the engine's aborts
    "_pc_exc": "builtins.exc", "_pc_uncatch": "runtime.uncatch",
}

#: direct method dispatch: ``X.name(args)`` is emitted as ``(_pc_M_name if type(X) is T else
#: _pc_meth(X, 'name'))(X, args)`` with T = METHOD_TYPES[name], the first type in this order
#: that has the method (``count``/``index``/``find`` test str, ``pop``/``copy``/``clear`` list):
#: ``_pc_M_name`` is the implementation ``_getattr_`` would have bound, called directly (no
#: guard call, no ``functools.partial`` per call); for any other receiver ``_pc_meth``
#: (``Runtime.method_of``) gives what the guard would, as a callable taking X first.
#: ``append`` keeps its own helper (``_pc_append``).
METHOD_DISPATCH_ORDER = ("str", "list", "dict", "bytes", "tuple", "int")
METHOD_TYPES: dict[str, str] = {}
for _t in METHOD_DISPATCH_ORDER:
    for _n in sorted(ALLOWED_METHODS[_t]):
        if _n != "append":
            METHOD_TYPES.setdefault(_n, _t)
del _t, _n
#: the constant holding each dispatch type (the real type, tested with ``is``)
TYPE_CONSTANTS = {"str": "_pc_S", "list": "_pc_L", "dict": "_pc_D", "bytes": "_pc_B",
                  "tuple": "_pc_TU", "int": "_pc_I"}
METHOD_PREFIX = "_pc_M_"


def method_helper(name: str) -> str:
    """The helper that calls ``METHOD_TYPES[name]``'s implementation of method ``name``."""
    return METHOD_PREFIX + name


RUNTIME_HELPERS.update({method_helper(n): f"builtins.m_{t}_{n}" for n, t in METHOD_TYPES.items()})

#: exact-type tests of the rewriter's inline fast paths (plain values, the same every execution):
#: o[k] with type(o) in INDEXABLE and type(k) in PLAIN_KEYS is indexed directly, no size to
#: charge and no hashing a contract could make collide
INDEXABLE = frozenset({list, tuple, dict, str})
PLAIN_KEYS = frozenset({int, str})
CONSTANTS: dict[str, object] = {
    "_pc_T": type, "_pc_I": int, "_pc_L": list, "_pc_IDX": INDEXABLE, "_pc_KEYS": PLAIN_KEYS,
    "_pc_D": dict, "_pc_S": str, "_pc_DL": frozenset({dict, list}), "_pc_len": len,
    "_pc_B": bytes, "_pc_TU": tuple,
}

#: bound per execution: the meter (``_pc_m.g`` is the gas counter the inline charges decrement,
#: ``_pc_m.d`` the call depth) and its out-of-gas hook
PER_EXECUTION = frozenset({"_pc_m", "_pc_oog"})

#: temporaries the rewriter assigns (locals of the metered function, never namespace entries)
LOCALS = frozenset({"_pc_v", "_pc_t", "_pc_o", "_pc_k", "_pc_r", "_pc_d"})

#: operand temporaries of the inline int fast paths: ``_pc_t1``, ``_pc_t2``, ... (locals)
TEMP_PREFIX = "_pc_t"


def is_temporary(name: str) -> bool:
    """Whether ``name`` is one of the rewriter's numbered operand temporaries."""
    return name.startswith(TEMP_PREFIX) and name[len(TEMP_PREFIX):].isdigit()


#: the module-level copy of a self-recursive function that counts its own depth in a parameter
#: (``_pc_rec_fib`` for ``def fib``; see ``rewriter.GasRewriter.recursive_copy``)
RECURSIVE_PREFIX = "_pc_rec_"


def is_generated(name: str) -> bool:
    """Whether ``name`` is a name the rewriter composes per contract (an operand temporary or
    a recursive function's counted copy), not a fixed entry of this table."""
    return is_temporary(name) or name.startswith(RECURSIVE_PREFIX)


#: every name metered code may contain that is not the contract's own
ALL = frozenset(RUNTIME_HELPERS) | frozenset(CONSTANTS) | PER_EXECUTION | LOCALS
