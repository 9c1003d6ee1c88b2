"""Meter, engine-internal aborts and size measures shared by the runtime helpers."""

from __future__ import annotations

import zlib

from pycontract.errors import ContractAbort, OutOfGas, Reverted
from pycontract.metering.schedule import MAX_GAS_LIMIT, SCHEDULE

S = SCHEDULE
_MEM_LIMIT = S.memory_limit
_ELEMENT = S.element
#: the int types a contract can hold (bool is an int)
INTS = (int, bool)
#: the whitespace str.strip()/int() strip, as ASCII (the language has no Unicode whitespace rules)
ASCII_WS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
BPG = S.bytes_per_gas
MAX_NEST = S.max_nesting
MAX_INT_BITS = S.max_int_bits


class RawRevert(Reverted):
    """A revert raised inside the runtime; ``execute`` prefixes ``CONTRACT:LINE:``."""

    raw = True


class RawOutOfGas(OutOfGas):
    raw = True


class Meter:
    """Gas and per-transaction resource accounting, shared across cross-contract calls.

    ``g`` is the remaining gas (rewritten code decrements it inline and calls ``_pc_oog`` when
    it goes negative); ``d`` the contract call depth; ``mem`` the bytes accounted to
    size-charged allocations. Once out of gas, or once any abort has been raised, every later
    charge raises again, so no further contract code does work.
    """

    __slots__ = ("limit", "g", "d", "mem", "abort", "saved", "tk")

    def __init__(self, gas_limit: int):
        if type(gas_limit) is not int or not 0 <= gas_limit <= MAX_GAS_LIMIT:
            # the rewriter's int bounds assume at most MAX_GAS_LIMIT gas per meter
            raise ValueError(f"gas_limit must be an int in [0, {MAX_GAS_LIMIT}]")
        self.limit = gas_limit
        self.g = gas_limit
        self.d = 0
        self.mem = 0
        self.abort = None  # (class, message) of a sticky abort
        self.saved = None  # remaining gas when the abort was raised
        self.tk = None  # {shadow hash: [distinct tuple dict keys]} (see tuple_key_probe)

    @property
    def used(self) -> int:
        rem = self.saved if self.abort is not None and self.saved is not None else self.g
        if rem < 0:
            return self.limit
        return self.limit - rem

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    @property
    def exhausted(self) -> bool:
        return self.g < 0 and self.abort is None

    def charge(self, n: int) -> None:
        self.g -= n
        if self.g < 0:
            self.fail()

    def fail(self):
        """Raise what ends execution now: the sticky abort if any, else out of gas."""
        if self.abort is not None:
            cls, msg = self.abort
            raise cls(msg)
        raise RawOutOfGas("out of gas")

    def set_abort(self, cls, msg):
        """Make an abort sticky: every later charge re-raises it (gas used stays as it was)."""
        if self.abort is None:
            self.saved = self.g
            self.abort = (cls, msg)
            self.g = -(1 << 62)

    # ---- charging primitives (the runtime's operators, builtins and guards call these)
    def bytes(self, n: int) -> None:
        """Work over ``n`` bytes of str/bytes that are copied or allocated: gas and memory."""
        self.g -= 1 + n // BPG
        if self.g < 0:
            self.fail()
        self.mem += n
        if self.mem > _MEM_LIMIT:
            self.alloc(0)

    def elems(self, n: int, per_mem: int = 8) -> None:
        """``n`` container elements walked, copied or created (``per_mem`` bytes each)."""
        self.g -= 1 + n * _ELEMENT
        if self.g < 0:
            self.fail()
        self.mem += n * per_mem
        if self.mem > _MEM_LIMIT:
            self.alloc(0)

    def big_int(self, nbits: int) -> None:
        """An int result of up to ``nbits`` bits is about to be made by a linear operation:
        charge 1 gas per 1,024 bits and account its bytes (results above 64 bits only; smaller
        ones are paid for by the block weight of the expression)."""
        if nbits > 64:
            self.g -= 1 + (nbits >> 10)
            if self.g < 0:
                self.fail()
            self.mem += ((nbits + 63) >> 6) * 8
            if self.mem > _MEM_LIMIT:
                self.alloc(0)

    def int_mem(self, nbits: int) -> None:
        """Account (no gas) the bytes of an int result of up to ``nbits`` bits above 64 bits."""
        if nbits > 64:
            self.mem += ((nbits + 63) >> 6) * 8
            if self.mem > _MEM_LIMIT:
                self.alloc(0)

    def alloc(self, nbytes: int) -> None:
        self.mem += nbytes
        if self.mem > S.memory_limit:
            self.revert(f"memory limit exceeded ({S.memory_limit} bytes per transaction)")

    def revert(self, msg):
        self.set_abort(RawRevert, msg)
        raise RawRevert(msg)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def int_words(x: int) -> int:
    return (x.bit_length() + 63) >> 6


def scalar_units(o) -> int:
    t = type(o)
    if t is str or t is bytes:
        return 1 + len(o) // BPG
    if t is int:
        return 1 + ((o.bit_length() + 63) >> 6)
    return 1


def deep_units(obj, budget: int, meter: Meter, max_nest: int = MAX_NEST) -> int:
    """Units of work to compare/walk ``obj``: 1 per node + 1 per BPG bytes of text + 1 per int
    word. Stops once above ``budget`` (returns a value > budget). Refuses nesting deeper than
    ``max_nest`` (deterministically: the walk order is fixed)."""
    t = type(obj)
    if t is str or t is bytes or t is int or t is bool or obj is None:
        return scalar_units(obj)
    total = 0
    stack = [(obj, 1)]
    pop = stack.pop
    push = stack.append
    while stack:
        o, d = pop()
        t = type(o)
        if t is list or t is tuple:
            if d > max_nest:
                meter.revert(f"containers nested more than {max_nest} levels deep")
            total += 1 + len(o)
            if total > budget:
                return total
            for x in o:
                tx = type(x)
                if tx is list or tx is tuple or tx is dict:
                    push((x, d + 1))
                elif tx is str or tx is bytes:
                    total += len(x) // BPG
                elif tx is int:
                    total += (x.bit_length() + 63) >> 6
        elif t is dict:
            if d > max_nest:
                meter.revert(f"containers nested more than {max_nest} levels deep")
            total += 1 + 2 * len(o)
            if total > budget:
                return total
            for k, x in o.items():
                push((k, d + 1))
                push((x, d + 1))
        else:
            total += scalar_units(o)
        if total > budget:
            return total
    return total


def pair_units(a, b, meter: Meter) -> int:
    """min(deep_units(a), deep_units(b)) computed with doubling budgets, so the walk costs
    O(min) even when one side is huge."""
    b_ = 64
    while True:
        ua = deep_units(a, b_, meter)
        ub = deep_units(b, b_, meter)
        if ua <= b_ or ub <= b_:
            return min(ua, ub)
        if b_ > meter.g:
            return b_
        b_ *= 4


#: int dict keys must lie strictly inside +-HASH_SAFE_INT: there hash(k) == k (but for -1), so no
#: two keys share a hash and a contract cannot build the long probe chains that make every dict
#: insert O(n) (ints hash modulo 2**61 - 1, so k * (2**61 - 1) would all collide)
HASH_SAFE_INT = 2**61 - 1
#: int keys outside +-WIDE_INT_KEY can share 32 low bits and so collide for several probes:
#: storing one costs ``wide_int_key`` gas more (priced by the fairness benchmark)
WIDE_INT_KEY = 2**32
#: str/bytes dict keys longer than this pay 1 + len/BPG per lookup, membership test or store
LONG_KEY = S.long_key


def long_key(k) -> bool:
    """A str/bytes key whose lookup is charged by its length (``key_units``)."""
    t = type(k)
    return (t is str or t is bytes) and len(k) > LONG_KEY


def check_store_key(k, meter: Meter):
    """Refuse, deterministically, a dict key whose hash a contract could have chosen to collide.

    Strings and bytes hash with the worker's secret random seed, so their collisions cannot be
    precomputed; ints are refused outside the collision-free range. A tuple's hash combines its
    element hashes invertibly, so colliding tuples of ints can be solved for: tuple keys are
    accepted, but every store and lookup pays for the colliding keys it may probe past (see
    ``tuple_key_probe``), plus ``wide_int_key`` per store for partial (low-bit) collisions.
    """
    t = type(k)
    if t is int:
        if not -WIDE_INT_KEY < k < WIDE_INT_KEY:
            if not -HASH_SAFE_INT < k < HASH_SAFE_INT:
                meter.revert("dict keys that are ints must lie within +-(2**61 - 1)")
            meter.charge(S.wide_int_key)
    elif t is tuple:
        if meter.tk is None:
            meter.tk = {}
        meter.charge(key_units(k, meter, True) + S.wide_int_key)
    elif (t is str or t is bytes) and len(k) > LONG_KEY:
        meter.charge(1 + len(k) // BPG)
    return k


#: hash(None) on CPython 3.12+ (a constant; on 3.11 it is the object's address, which a
#: contract cannot know, so collisions through None cannot be planned there)
_NONE_HASH = 4238894112
_P61 = 2**61 - 1
_PLAIN_TYPES = frozenset({int, bool})


def _shadow(k):
    """A deterministic stand-in for ``hash(k)`` of a tuple key, and the units of text walked:
    exactly CPython's hash input when the tuple holds ints, bools, None (3.12+) and tuples of
    these, whose hashes a contract can plan; str and bytes (seeded hashes, which no contract
    can plan) are replaced by a CRC of their bytes (str and bytes alike: hash('a') ==
    hash(b'a'))."""
    if set(map(type, k)) <= _PLAIN_TYPES:  # ints and bools (C-speed test): k is its own stand-in
        return k, len(k)
    out = []
    units = 4 * len(k)  # this loop runs in Python: ~4 units of work per element
    for x in k:
        t = type(x)
        if t is int or t is bool:
            out.append(x)
        elif t is tuple:
            h, u = _shadow(x)  # nesting already checked (key_units): at most 64 levels
            out.append(h)
            units += u
        elif t is str:
            b = x.encode("utf-8", "surrogatepass")
            units += len(b) // BPG
            out.append((zlib.crc32(b), len(b)))
        elif t is bytes:
            units += len(x) // BPG
            out.append((zlib.crc32(x), len(x)))
        elif x is None:
            out.append(_NONE_HASH)
        else:
            out.append(-3)  # functions, ranges...: grouped together (over-charged), never random
    return tuple(out), units


def tuple_key_probe(k, meter: Meter, store: bool) -> int:
    """Units of probing work for tuple key ``k`` in any dict of this transaction.

    A dict probes past every key with the same full hash (comparing each), so ``n`` tuple keys
    solved to collide make every insert and lookup O(n). The meter keeps, per transaction, the
    distinct tuple keys stored into dicts, grouped by a deterministic stand-in of their hash
    (``_shadow``): a key whose group already holds ``c`` others pays ``c`` x (2 + its length),
    so a flood of ``n`` colliding keys costs O(n^2) gas, like the work it causes, while keys
    that do not collide (the normal case) pay only for their text. The groups only grow within
    a transaction (deterministic, and an upper bound of any one dict's chain)."""
    tk = meter.tk
    sh, units = _shadow(k)
    h = hash(sh) % _P61  # ints below 2**61 - 1 hash to themselves: this table cannot collide
    group = tk.get(h)
    if group is None:
        if store:
            tk[h] = [k]
            meter.alloc(S.item_memory)
        return units
    units += len(group) * (2 + len(k))
    meter.charge(units)
    if store and k not in group:
        group.append(k)
        meter.alloc(S.item_memory)
    return 0


def key_units(k, meter: Meter, store: bool = False) -> int:
    """Check a dict key before it is hashed: tuple nesting (tuplehash recurses in C without a
    guard) and size. Returns the units of hashing work (and, once this transaction has stored
    a tuple key into a dict, of probing past colliding keys: ``tuple_key_probe``)."""
    t = type(k)
    if t is not tuple:
        if (t is str or t is bytes) and len(k) > LONG_KEY:
            return 1 + len(k) // BPG  # hashing it, comparing it with an equal stored key
        return 1
    total = 0
    stack = [(k, 1)]
    while stack:
        o, d = stack.pop()
        if d > MAX_NEST:
            meter.revert(f"key tuples nested more than {MAX_NEST} levels deep")
        total += 1 + len(o)
        for x in o:
            tx = type(x)
            if tx is tuple:
                stack.append((x, d + 1))
            elif tx is int:
                total += (x.bit_length() + 63) >> 6
        if total > meter.g + 1:
            return total
    if meter.tk is not None:
        total += tuple_key_probe(k, meter, store)
    return total


__all__ = [
    "Meter", "RawRevert", "RawOutOfGas", "ContractAbort", "deep_units", "pair_units",
    "key_units", "int_words", "ceil_div", "scalar_units", "check_store_key", "HASH_SAFE_INT", "WIDE_INT_KEY", "LONG_KEY", "long_key",
    "tuple_key_probe",
]
