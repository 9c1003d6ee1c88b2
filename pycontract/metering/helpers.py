"""Every name that vetting's transform and the gas rewriter emit into contract code, in one place.

Metered code calls these names; the runtime binds each to its implementation when it builds a
contract's namespace (:meth:`pycontract.runtime.executor.Runtime._static_namespace` reads
``RUNTIME_HELPERS``). ``tests/metering/test_helpers.py`` checks that every name the rewriter can
emit is listed here and resolves in a runtime namespace, so the two sides cannot drift apart.
Contract code can never name them itself: vetting refuses names beginning with ``_``.
"""

from __future__ import annotations

#: emitted name -> the Runtime method that implements it (bound once per pooled runtime)
RUNTIME_HELPERS: dict[str, str] = {
    # RestrictedPython's guards (emitted by vetting.transform) and the storage factory
    "_getattr_": "getattr_",
    "_getitem_": "getitem",
    "_write_": "write",
    "_getiter_": "getiter",
    "_iter_unpack_sequence_": "iter_unpack_sequence",
    "_unpack_sequence_": "unpack_sequence",
    "_apply_": "apply",
    "_pc_storage_": "storage_decl",
    # the rewriter: call depth; lambdas (charged and counted per call)
    "_pc_deep": "deep", "_pc_lam": "lam",
    # binary and unary operators, sized (BINOP_HELPERS / UNARY_HELPERS below)
    "_pc_add": "add", "_pc_sub": "sub", "_pc_mul": "mul", "_pc_pow": "pow",
    "_pc_lshift": "lshift", "_pc_floordiv": "floordiv", "_pc_mod": "mod", "_pc_or": "or_",
    "_pc_and": "and_", "_pc_xor": "xor", "_pc_rshift": "rshift",
    "_pc_neg": "neg", "_pc_pos": "pos", "_pc_inv": "inv",
    # comparisons and chains
    "_pc_cmp_eq": "cmp_eq", "_pc_cmp_ne": "cmp_ne", "_pc_cmp_lt": "cmp_lt",
    "_pc_cmp_le": "cmp_le", "_pc_cmp_gt": "cmp_gt", "_pc_cmp_ge": "cmp_ge",
    "_pc_cmp_in": "cmp_in", "_pc_cmp_notin": "cmp_notin", "_pc_cmp_is": "cmp_is",
    "_pc_cmp_isnot": "cmp_isnot", "_pc_chain": "chain",
    # augmented assignment and item writes
    "_pc_iop": "iop", "_pc_iadd": "iadd", "_pc_imul": "imul", "_pc_ior": "ior",
    "_pc_setitem": "setitem_v", "_pc_delitem": "delitem", "_pc_aug_item": "aug_item",
    "_pc_aug_get": "getitem", "_pc_aug_put": "aug_put",
    # f-strings, star-arguments, displays, list.append fast path
    "_pc_fmt": "fmt", "_pc_star": "star", "_pc_kwstar": "kwstar", "_pc_dstar": "dstar",
    "_pc_append": "append", "_pc_hk": "sk",
    # loops, comprehensions, generator expressions
    "_pc_citer": "citer", "_pc_gxiter": "gxiter", "_pc_gx": "gx",
    # exceptions: raise/assert, handlers that must not catch the engine's aborts
    "_pc_exc": "exc", "_pc_uncatch": "uncatch",
}

#: exact-type tests of the rewriter's inline fast paths (plain values, the same every execution):
#: o[k] with type(o) in INDEXABLE and type(k) in PLAIN_KEYS is indexed directly, no size to
#: charge and no hashing a contract could make collide
INDEXABLE = frozenset({list, tuple, dict, str})
PLAIN_KEYS = frozenset({int, str})
CONSTANTS: dict[str, object] = {
    "_pc_T": type, "_pc_I": int, "_pc_L": list, "_pc_IDX": INDEXABLE, "_pc_KEYS": PLAIN_KEYS,
}

#: bound per execution: the meter (``_pc_m.g`` is the gas counter the inline charges decrement,
#: ``_pc_m.d`` the call depth) and its out-of-gas hook
PER_EXECUTION = frozenset({"_pc_m", "_pc_oog"})

#: temporaries the rewriter assigns (locals of the metered function, never namespace entries)
LOCALS = frozenset({"_pc_v", "_pc_t", "_pc_o", "_pc_k", "_pc_r"})

#: operand temporaries of the inline int fast paths: ``_pc_t1``, ``_pc_t2``, ... (locals)
TEMP_PREFIX = "_pc_t"


def is_temporary(name: str) -> bool:
    """Whether ``name`` is one of the rewriter's numbered operand temporaries."""
    return name.startswith(TEMP_PREFIX) and name[len(TEMP_PREFIX):].isdigit()


#: every name metered code may contain that is not the contract's own
ALL = frozenset(RUNTIME_HELPERS) | frozenset(CONSTANTS) | PER_EXECUTION | LOCALS
