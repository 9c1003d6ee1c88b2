"""Size-charged operators, comparisons, text conversions and formatting: :class:`Ops`, one object
per pooled runtime, composed into ``executor.Runtime`` (explicit references, no mixin).

Every helper here charges BEFORE doing work whose cost grows with its operands, and accounts
the bytes it allocates in ``meter.mem``. Exceptions raised here carry no CPython message text:
``execute`` reports them as ``CONTRACT:LINE: TypeName``.
"""

from __future__ import annotations

import operator
import re
import sys

from pycontract.runtime.meter import (
    WIDE_INT_KEY,
    LONG_KEY,
    ASCII_WS,
    INTS,
    BPG, MAX_INT_BITS, MAX_NEST, S, deep_units, int_words, key_units, pair_units,
)
from pycontract.errors import builtin_detail
from pycontract.runtime.storage import Map

SEQS = (str, bytes, list, tuple)
_DEC_CHUNK = 500  # digits per chunk: below the smallest int_max_str_digits (640) there is
_DEC_POW = 10 ** _DEC_CHUNK
_SMALL_DEC_BITS = 1600  # ints below 2**1600 (< 482 digits) convert directly
_MEM_LIMIT = S.memory_limit
_I63 = 1 << 63  # |x| < 2**63 <=> x.bit_length() < 64

_SPEC_RE = re.compile(
    r"(?:(?P<fill>[^{}])?(?P<align>[<>=^]))?(?P<sign>[-+ ]?)(?P<alt>#?)(?P<zero>0?)"
    r"(?P<width>[0-9]*)(?P<group>[,_]?)(?:\.(?P<prec>[0-9]+))?(?P<type>[bdoxXs]?)\Z",
    re.ASCII | re.DOTALL,
)
_PCT_RE = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[-+ #0]*)(?P<width>\*|[0-9]*)(?:\.(?P<prec>\*|[0-9]*))?"
    r"(?P<type>[sdiuxXor%a])",
    re.ASCII,
)


def _group(digits, sep):
    head = len(digits) % 3 or 3
    return sep.join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])


def _format_decimal(digits, neg, mt, width):
    """``format(int, spec)`` for types '' and 'd' from the decimal ``digits`` of abs(value)
    (same output as CPython's int formatting, checked against it in the tests)."""
    sign = "-" if neg else {"+": "+", " ": " "}.get(mt.group("sign"), "")
    fill = mt.group("fill")
    align = mt.group("align")
    if mt.group("zero"):
        fill = fill or "0"
        align = align or "="
    fill = fill or " "
    align = align or ">"
    sep = mt.group("group")
    if sep and align == "=" and fill == "0":
        # zero padding is part of the number: the separators continue into it
        need = width - len(sign)
        k = len(digits)
        while k + (k - 1) // 3 < need:
            k += 1
        return sign + _group(digits.rjust(k, "0"), sep)
    body = _group(digits, sep) if sep else digits
    pad = width - len(sign) - len(body)
    if pad <= 0:
        return sign + body
    if align == "=":
        return sign + fill * pad + body
    if align == "<":
        return sign + body + fill * pad
    if align == "^":
        return fill * (pad // 2) + sign + body + fill * (pad - pad // 2)
    return fill * pad + sign + body


class Ops:
    """The operators, comparisons, conversions and formatting of one pooled runtime. Holds
    explicit references to what they use: ``m`` (the bound execution's meter, set by
    ``Runtime.bind``), ``b`` (the :class:`~pycontract.runtime.builtins.Builtins`: materializing
    iterables, dict keys) and ``g`` (the ``Runtime``: item guards and storage)."""

    __slots__ = ("m", "b", "g")

    def __init__(self):
        self.m = None
        self.b = None
        self.g = None

    def _int_too_big(self):
        self.m.revert(f"int too large (limit {MAX_INT_BITS} bits)")

    def _check_int(self, v):
        if v.bit_length() > MAX_INT_BITS:
            self._int_too_big()
        return v

    # ------------------------------------------------------------ arithmetic
    def add(self, a, b):
        ta = type(a)
        tb = type(b)
        if ta is int and tb is int:
            la = a.bit_length()
            lb = b.bit_length()
            w = (la + lb) >> 10
            if w:
                self.m.charge(w)
            if la > 63 or lb > 63:
                self.m.int_mem(max(la, lb) + 1)
            return a + b
        if ta is str or ta is bytes:
            if tb is not ta:
                raise TypeError()
            n = len(a) + len(b)
            m = self.m
            m.g -= 1 + n // BPG
            if m.g < 0:
                m.fail()
            m.mem += n
            if m.mem > _MEM_LIMIT:
                m.alloc(0)
            return a + b
        if ta is list or ta is tuple:
            if tb is not ta:
                raise TypeError()
            self.m.elems(len(a) + len(b))
            return a + b
        if ta in INTS and tb in INTS:
            self.m.int_mem(max(a.bit_length(), b.bit_length()) + 1)
            return a + b
        raise TypeError()

    def add_str(self, a, x):
        """``a + str(x)`` as the rewriter emits it when ``str`` is the builtin: ``str(x)`` then
        ``+``, the same charges and checks in the same order, in one call for a str ``a`` and
        an int ``x`` below 64 bits (``'acct' + str(i)``)."""
        if type(x) is int and type(a) is str and -_I63 < x < _I63:
            s = str(x)  # its gas was prepaid by the block (str_call, v6)
            m = self.m
            m.mem += 20
            if m.mem > _MEM_LIMIT:
                m.alloc(0)
            n = len(a) + len(s)  # add
            m.g -= 1 + n // BPG
            if m.g < 0:
                m.fail()
            m.mem += n
            if m.mem > _MEM_LIMIT:
                m.alloc(0)
            return a + s
        return self.add(a, self.str_prepaid(x))

    def add_str_settle(self, s):
        """The rewriter's inline ``a + str(x)`` (``s`` its result) charged what ``add_str``
        charges at once, then found the gas counter or the memory past its limit: take those
        charges back and make them again in ``add_str``'s order, so the same error (out of gas,
        the memory limit, or a sticky abort) ends the execution with the same gas used."""
        m = self.m
        n = len(s)
        m.g += 1 + n // BPG
        m.mem -= 20 + n
        m.mem += 20
        if m.mem > _MEM_LIMIT:
            m.alloc(0)
        m.bytes(n)  # the add, as add_str makes it

    def str_prepaid(self, x="", *a, **kw):
        """A call written ``str(...)`` that the rewriter did not do inline: its block prepaid
        ``str_call`` gas (v6), refunded here before ``str()`` charges as it always did, so the
        total of a call that runs is the figure of schedule 5."""
        self.m.g += S.str_call
        return self.str_call(x, *a, **kw)

    def sub(self, a, b):
        """``a - b`` of ints: like ``+`` it can double an int (``x - (0 - x)``), so it is
        charged like ``+`` (free below 1,024 bits of operands together)."""
        if type(a) is int and type(b) is int:
            la = a.bit_length()
            lb = b.bit_length()
            w = (la + lb) >> 10
            if w:
                self.m.charge(w)
            if la > 63 or lb > 63:
                self.m.int_mem(max(la, lb) + 1)
            return a - b
        if type(a) not in INTS or type(b) not in INTS:
            raise TypeError()
        self.m.int_mem(max(a.bit_length(), b.bit_length()) + 1)
        return a - b

    # linear ops whose result is no larger than the larger operand (+1 bit): inline in the
    # rewritten code for operands within +-2**64, here (sized) otherwise
    def neg(self, a):
        if type(a) not in INTS:
            raise TypeError()
        self.m.big_int(a.bit_length())
        return -a

    def pos(self, a):
        if type(a) not in INTS:
            raise TypeError()
        self.m.big_int(a.bit_length())
        return +a

    def inv(self, a):
        if type(a) not in INTS:
            raise TypeError()
        self.m.big_int(a.bit_length() + 1)
        return ~a

    def and_(self, a, b):
        if type(a) not in INTS or type(b) not in INTS:
            raise TypeError()
        self.m.big_int(max(a.bit_length(), b.bit_length()))
        return a & b

    def xor(self, a, b):
        if type(a) not in INTS or type(b) not in INTS:
            raise TypeError()
        self.m.big_int(max(a.bit_length(), b.bit_length()) + 1)
        return a ^ b

    def rshift(self, a, b):
        if type(a) not in INTS or type(b) not in INTS:
            raise TypeError()
        if b < 0:
            raise ValueError()
        self.m.big_int(a.bit_length() - b if b < a.bit_length() else 0)
        return a >> b

    def mul(self, a, b):
        ta = type(a)
        tb = type(b)
        if ta in INTS and tb in INTS:
            la, lb = a.bit_length(), b.bit_length()
            if la <= 31 and lb <= 31:
                return a * b  # one-word product: free (schedule 5), as the rewriter's inline
            if la + lb > MAX_INT_BITS + 1:
                self._int_too_big()
            wa, wb = (la + 63) >> 6, (lb + 63) >> 6
            self.m.charge(1 + wa * wb // S.word_mul_per_gas)
            self.m.int_mem(la + lb)
            return self._check_int(a * b)
        if ta in INTS and tb in SEQS:
            a, b, ta, tb = b, a, tb, ta
        if ta in SEQS and tb in INTS:
            n = len(a) * b if b > 0 else 0
            if ta is str or ta is bytes:
                self.m.bytes(n)
            else:
                self.m.elems(n)
            return a * b
        raise TypeError()

    def pow(self, a, b, mod=None):
        if type(a) not in INTS or type(b) not in INTS:
            raise TypeError()
        if mod is not None:
            if type(mod) not in INTS:
                raise TypeError()
            if mod == 0:
                raise ValueError()
            wm = int_words(mod)
            steps = max(b.bit_length(), 1) if b >= 0 else wm * 64  # inverse: ~ Euclid steps
            self.m.charge(1 + 2 * steps * (1 + wm * wm // S.word_mul_per_gas)
                      + int_words(a) * wm // S.div_word_per_gas)
            return pow(a, b, mod)
        if b < 0:
            raise ValueError()  # would be a float
        if a in (0, 1) or b == 0:
            return pow(a, b)
        if a == -1:
            return 1 if b % 2 == 0 else -1
        la = abs(a).bit_length()
        if (la - 1) * b > MAX_INT_BITS:
            self._int_too_big()
        wr = (la * b + 63) >> 6
        self.m.charge(1 + 2 * wr * wr // S.word_mul_per_gas + b.bit_length())
        self.m.alloc(wr * 8)
        return self._check_int(a ** b)

    def lshift(self, a, b):
        if type(a) not in INTS or type(b) not in INTS:
            raise TypeError()
        if b < 0:
            raise ValueError()
        if a == 0:
            return 0
        if a.bit_length() + b > MAX_INT_BITS:
            self._int_too_big()
        self.m.charge(1 + ((a.bit_length() + b) >> 10))
        self.m.int_mem(a.bit_length() + b)
        return a << b

    def _div_cost(self, a, b):
        wa, wb = int_words(a), int_words(b)
        self.m.charge(1 + max(wa - wb + 1, 1) * wb // S.div_word_per_gas)
        self.m.int_mem(a.bit_length())

    def floordiv(self, a, b):
        if type(a) is int and type(b) is int and a.bit_length() <= 64 and b.bit_length() <= 64:
            return a // b  # one word each: free (schedule 5), as the rewriter's inline
        if type(a) not in INTS or type(b) not in INTS:
            raise TypeError()
        if a.bit_length() <= 64 and b.bit_length() <= 64:
            return a // b
        self._div_cost(a, b)
        return a // b

    def divmod_(self, a, b):
        if type(a) not in INTS or type(b) not in INTS:
            raise TypeError()
        self._div_cost(a, b)
        return divmod(a, b)

    def mod(self, a, b):
        ta = type(a)
        if ta is int and type(b) is int and a.bit_length() <= 64 and b.bit_length() <= 64:
            return a % b  # one word each: free (schedule 5), as the rewriter's inline
        if ta is str:
            return self.percent_format(a, b)
        if ta not in INTS or type(b) not in INTS:
            raise TypeError()
        if a.bit_length() <= 64 and b.bit_length() <= 64:
            return a % b
        self._div_cost(a, b)
        return a % b

    def or_(self, a, b):
        ta = type(a)
        if ta in INTS and type(b) in INTS:
            self.m.big_int(max(a.bit_length(), b.bit_length()))
            return a | b
        if ta is dict and type(b) is dict:
            self.m.elems(2 * (len(a) + len(b)), S.item_memory)
            self.b.bulk_keys(a)
            self.b.bulk_keys(b)
            return a | b
        raise TypeError()

    #: binary operations by name (augmented assignment) -> the sized helper
    _BINOPS = {"add": "add", "mul": "mul", "pow": "pow", "lshift": "lshift",
               "floordiv": "floordiv", "mod": "mod", "or": "or_", "sub": "sub", "and": "and_",
               "xor": "xor", "rshift": "rshift"}

    def binop(self, name, a, b):
        method = self._BINOPS.get(name)
        if method is None:
            raise TypeError()
        return getattr(self, method)(a, b)

    def iadd(self, a, b):
        if type(a) is int and type(b) is int and a.bit_length() < 64 and b.bit_length() < 64:
            return a + b
        if type(a) is list:
            return self.iop("add", a, b)
        return self.add(a, b)

    def imul(self, a, b):
        if type(a) is list:
            return self.iop("mul", a, b)
        return self.mul(a, b)

    def ior(self, a, b):
        if type(a) is dict:
            return self.iop("or", a, b)
        return self.or_(a, b)

    def iop(self, name, a, b):
        """Augmented assignment: in place for lists (+=, *=) and dicts (|=), as in Python."""
        ta = type(a)
        if ta is list:
            if name == "add":
                items = self.b.materialize(b)
                self.m.elems(len(items))
                a.extend(items)
                return a
            if name == "mul":
                if type(b) not in INTS:
                    raise TypeError()
                self.m.elems(len(a) * b if b > 1 else 0)
                a *= b
                return a
        if ta is dict and name == "or":
            if type(b) is dict:
                self.m.elems(2 * len(b), S.item_memory)
                self.b.bulk_keys(b)
                a |= b
                return a
            self.b.dict_update(a, b)
            return a
        return self.binop(name, a, b)

    def aug_item(self, obj, key, name, value):
        to = type(obj)
        tk = type(key)
        if (to is dict and (tk is str and len(key) <= LONG_KEY
                            or (tk is int and -WIDE_INT_KEY < key < WIDE_INT_KEY))) or (
                to is list and tk is int):
            # what getitem does for these keys (no charge); the key exists afterwards, so the
            # store allocates nothing and its key check (a str, or an int within +-2**32)
            # charges nothing either
            old = obj[key]
            if (name == "add" or name == "sub") and type(old) is int and type(value) is int:
                # the int path of add/sub: the same charges and memory
                obj[key] = self.add(old, value) if name == "add" else self.sub(old, value)
                return
            obj[key] = self.iop(name, old, value)
            return
        old = self.g.getitem(obj, key)
        new = self.iop(name, old, value)
        self.g.setitem(obj, key, new)

    def aug_put(self, obj, key, name, old, value):
        """The second half of ``o[k] op= v`` when ``v`` is evaluated after the read
        (``_pc_aug_get`` = getitem did the read): the same operation and charges as
        ``aug_item``."""
        # v may have removed the key; a long key pays for its lookup in setitem
        plain = (type(obj) is dict and type(key) is str and len(key) <= LONG_KEY
                 and key in obj)
        if plain and type(old) is int and type(value) is int and (name == "add" or name == "sub"):
            obj[key] = self.add(old, value) if name == "add" else self.sub(old, value)
            return
        new = self.iop(name, old, value)
        if plain:
            obj[key] = new  # what aug_item does for an existing str key
            return
        self.g.setitem(obj, key, new)

    # ------------------------------------------------------------ comparisons
    def _cmp_charge(self, a, b):
        ta = type(a)
        tb = type(b)
        if ta is str or ta is bytes:
            if tb is str or tb is bytes:
                n = min(len(a), len(b)) // BPG
                if n:
                    self.m.charge(n)
            return
        if ta is int or tb is int or ta is bool or tb is bool or a is None or b is None:
            return
        self.m.charge(pair_units(a, b, self.m))

    def cmp_eq(self, a, b):
        if type(a) is int and type(b) is int:
            return a == b
        self._cmp_charge(a, b)
        return a == b

    def cmp_ne(self, a, b):
        if type(a) is int and type(b) is int:
            return a != b
        self._cmp_charge(a, b)
        return a != b

    def cmp_lt(self, a, b):
        if type(a) is int and type(b) is int:
            return a < b
        self._cmp_charge(a, b)
        return a < b

    def cmp_le(self, a, b):
        if type(a) is int and type(b) is int:
            return a <= b
        self._cmp_charge(a, b)
        return a <= b

    def cmp_gt(self, a, b):
        if type(a) is int and type(b) is int:
            return a > b
        self._cmp_charge(a, b)
        return a > b

    def cmp_ge(self, a, b):
        if type(a) is int and type(b) is int:
            return a >= b
        self._cmp_charge(a, b)
        return a >= b

    def cmp_is(self, a, b):
        for x in (a, b):
            if x is None or x is True or x is False or type(x) is list or type(x) is dict:
                return a is b
        raise TypeError()  # identity of ints/str/bytes/tuples differs between versions

    def cmp_isnot(self, a, b):
        return not self.cmp_is(a, b)

    def _search_cost(self, n, m):
        return 1 + (n * min(max(m, 1), 8) + m) // BPG

    def cmp_in(self, x, c):
        t = type(c)
        if t is str or t is bytes:
            if t is bytes and type(x) in INTS:
                self.m.charge(1 + len(c) // BPG)
                return x in c
            if type(x) is not t:
                raise TypeError()
            self.m.charge(self._search_cost(len(c), len(x)))
            return x in c
        if t is list or t is tuple:
            n = len(c)
            if n:
                ux = deep_units(x, max(self.m.g, 0) // n + 1, self.m)
                self.m.charge(1 + n * ux)
            return x in c
        if t is dict:
            tx = type(x)
            if not (tx is int or tx is str and len(x) <= LONG_KEY):
                # int/str keys are free (schedule 6), as d[k] is; others pay their hashing
                self.m.charge(key_units(x, self.m))
            return x in c
        if t is range:
            if type(x) not in INTS:
                return False  # what CPython's scan finds: no range element equals a non-int
            return x in c
        if t is Map:
            return self.g.map_contains(c, x)
        if t in self.b.LAZY_TYPES:
            for e in c:
                self.m.charge(1 + S.element)
                if self.cmp_eq(x, e):
                    return True
            return False
        raise TypeError()

    def cmp_notin(self, x, c):
        return not self.cmp_in(x, c)

    def chain(self, left, ops, *thunks):
        r = True
        for op, th in zip(ops, thunks):
            try:
                right = th()
            except NameError as e:
                raise self._unbound(e, th) from None
            r = getattr(self, "cmp_" + op)(left, right)
            if not r:
                return r
            left = right
        return r

    @staticmethod
    def _unbound(e, th):
        """An operand of a chained comparison reads the enclosing function's variables through
        the rewriter's closure (``lambda: b``), where an unbound one is a NameError; in the
        source it is the function's own local, an UnboundLocalError (issue #13). A variable
        the function itself reads from an outer function stays a NameError, as in CPython."""
        tb = e.__traceback__  # chain's frame, then the operand's
        if type(e) is not NameError or tb is None or tb.tb_next is None \
                or tb.tb_next.tb_next is not None:
            return e  # raised deeper than the operand itself
        caller = sys._getframe(2).f_code  # the contract function holding the comparison
        for name, cell in zip(th.__code__.co_freevars, th.__closure__ or ()):
            try:
                cell.cell_contents
            except ValueError:
                if name in caller.co_cellvars:
                    return UnboundLocalError()
        return e

    # ------------------------------------------------------------ text conversions
    def int_to_dec(self, x):
        """Decimal text of an int, independent of sys.int_max_str_digits."""
        nb = x.bit_length()
        if nb < 64:
            m = self.m
            m.g -= 2
            if m.g < 0:
                m.fail()
            m.mem += 20
            if m.mem > _MEM_LIMIT:
                m.alloc(0)
            return str(x)
        w = (nb + 63) >> 6
        self.m.charge(1 + w * w // S.int_str_per_gas + nb // 40)
        self.m.alloc(nb // 3 + 1)
        if nb <= _SMALL_DEC_BITS:
            return str(x)
        neg = x < 0
        x = -x if neg else x
        parts = []
        while x:
            x, r = divmod(x, _DEC_POW)
            parts.append(r)
        out = str(parts[-1]) + "".join(str(p).zfill(_DEC_CHUNK) for p in reversed(parts[:-1]))
        return "-" + out if neg else out

    def dec_to_int(self, s):
        """Parse base-10 text of any length (ASCII only), independent of int_max_str_digits."""
        t = s.strip(ASCII_WS)
        neg = False
        if t[:1] in ("+", "-"):
            neg = t[0] == "-"
            t = t[1:]
        if not t or not t[0].isdigit() or not t[-1].isdigit():
            raise ValueError()
        if "_" in t:
            if "__" in t:
                raise ValueError()
            t = t.replace("_", "")
        if not t.isdigit():
            raise ValueError()
        t = t.lstrip("0") or "0"
        if len(t) > MAX_INT_BITS * 30103 // 100000 + 2:
            self._int_too_big()
        w = (len(t) * 3322 // 1000 + 63) >> 6
        self.m.charge(1 + w * w // S.int_str_per_gas)
        if len(t) <= 480:
            v = int(t)
        else:
            head = len(t) % _DEC_CHUNK or _DEC_CHUNK
            v = int(t[:head])
            for i in range(head, len(t), _DEC_CHUNK):
                v = v * _DEC_POW + int(t[i:i + _DEC_CHUNK])
        v = -v if neg else v
        return self._check_int(v)

    def to_int(self, x=0, base=None):
        t = type(x)
        if base is None:
            if t is int:
                return x
            if t is bool:
                return int(x)
            base = 10
            if t not in (str, bytes):
                raise TypeError()
        elif t not in (str, bytes) or type(base) not in INTS:
            raise TypeError()
        if t is bytes:
            if not x.isascii():
                raise ValueError()
            self.m.bytes(len(x))
            x = x.decode("ascii")
        if not x.isascii():
            raise ValueError()  # non-ASCII digits/whitespace: the Unicode database differs
        self.m.charge(1 + len(x) // BPG)
        if base == 10:
            return self.dec_to_int(x)
        if not (base == 0 or 2 <= base <= 36):
            raise ValueError()
        if base in (2, 4, 8, 16, 32):  # exempt from int_max_str_digits, linear
            bits = len(x) * (base.bit_length() - 1)
            if bits > MAX_INT_BITS + 64 and len(x.strip(ASCII_WS).lstrip("+-0_")) * (
                base.bit_length() - 1
            ) > MAX_INT_BITS + 8:
                self._int_too_big()
            return self._check_int(int(x, base))
        if len(x) > 480:
            raise ValueError()  # documented: long texts only in bases 2, 4, 8, 10, 16, 32
        return self._check_int(int(x, base))

    def str_(self, x=""):
        t = type(x)
        if t is str:
            return x
        if t is int:
            return self.int_to_dec(x)
        if x is None or t is bool:
            return str(x)
        if isinstance(x, BaseException):
            own = getattr(x, "_pc_str", None)
            if own is not None:
                return own  # raised by the contract: CPython's str(e) of its arguments
            # raised by the interpreter: its own text differs between versions; the engine
            # gives the key / attribute where it has one, else the type name
            return builtin_detail(x) or type(x).__name__
        return self.repr_(x)

    def str_call(self, x="", encoding=None, errors=None):
        if type(x) is int and encoding is None and errors is None:
            if -_I63 < x < _I63:  # int_to_dec's charge for ints below 64 bits, inline
                m = self.m
                m.g -= 2
                if m.g < 0:
                    m.fail()
                m.mem += 20
                if m.mem > _MEM_LIMIT:
                    m.alloc(0)
                return str(x)
            return self.int_to_dec(x)
        if encoding is None and errors is None:
            return self.str_(x)
        if type(x) is not bytes:
            raise TypeError()
        return self.b.m_bytes_decode(x, encoding or "utf-8", errors or "strict")

    def repr_(self, x, _depth=0):
        t = type(x)
        if t is str:
            self.m.bytes(4 + len(x) * (1 if x.isascii() else 10))
            return repr(x) if x.isascii() else ascii(x)
        if t is int:
            return self.int_to_dec(x)
        if x is None or t is bool:
            return repr(x)
        if t is bytes:
            self.m.bytes(4 + 4 * len(x))
            return repr(x)
        if _depth >= MAX_NEST:
            self.m.revert(f"containers nested more than {MAX_NEST} levels deep")
        if t is list or t is tuple:
            self.m.elems(len(x))
            parts = [self.repr_(e, _depth + 1) for e in x]
            self.m.bytes(sum(len(p) + 2 for p in parts))
            if t is list:
                return "[" + ", ".join(parts) + "]"
            if len(parts) == 1:
                return "(" + parts[0] + ",)"
            return "(" + ", ".join(parts) + ")"
        if t is dict:
            self.m.elems(2 * len(x))
            parts = [self.repr_(k, _depth + 1) + ": " + self.repr_(v, _depth + 1)
                     for k, v in x.items()]
            self.m.bytes(sum(len(p) + 2 for p in parts))
            return "{" + ", ".join(parts) + "}"
        if t is range:
            s = f"range({self.int_to_dec(x.start)}, {self.int_to_dec(x.stop)}"
            return s + (f", {self.int_to_dec(x.step)})" if x.step != 1 else ")")
        if isinstance(x, BaseException):
            return self.str_(x)
        raise TypeError()  # functions, iterators, storage objects have no deterministic text

    # ------------------------------------------------------------ formatting
    def fmt(self, value, conversion, spec):
        """One f-string field: ``{value!conversion:spec}`` in a documented safe subset."""
        if spec == "" and (conversion == -1 or conversion == 115):
            t = type(value)
            if t is str:
                return value
            if t is int and -_I63 < value < _I63:  # int_to_dec's charge below 64 bits, inline
                m = self.m
                m.g -= 2
                if m.g < 0:
                    m.fail()
                m.mem += 20
                if m.mem > _MEM_LIMIT:
                    m.alloc(0)
                return str(value)
            return self.str_(value)
        if conversion == 115:  # !s
            value = self.str_(value)
        elif conversion in (114, 97):  # !r, !a (our repr escapes non-ASCII: deterministic)
            value = self.repr_(value)
        if spec == "":
            return self.str_(value)
        if type(spec) is not str:
            raise TypeError()
        mt = _SPEC_RE.match(spec)
        if mt is None:
            raise ValueError()
        width = mt.group("width")
        prec = mt.group("prec")
        for n in (width, prec):
            if n and (len(n) > 8 or int(n) > S.max_format_width):
                self.m.revert(f"format width or precision above {S.max_format_width}")
        w = int(width) if width else 0
        typ = mt.group("type")
        t = type(value)
        if t is bool:
            value = int(value)
            t = int
        if t is int:
            if typ == "s" or prec:
                raise ValueError()
            nb = value.bit_length()
            if (typ in ("", "d")) and nb > _SMALL_DEC_BITS:
                # the runtime's own chunked decimal text, never CPython's int formatting (which
                # depends on int_max_str_digits above 4,300 digits)
                digits = self.int_to_dec(-value if value < 0 else value)
                self.m.bytes(max(w, len(digits) + (len(digits) // 3 if mt.group("group") else 0)))
                return _format_decimal(digits, value < 0, mt, w)
            est = nb + 8 if typ in ("b",) else nb // 2 + 8
            if mt.group("group"):
                est += est // 3
            self.m.charge(1 + (nb >> 6) * (nb >> 6) // S.int_str_per_gas)
            self.m.bytes(max(w, est))
            return format(value, spec)
        if t is str:
            # the 0 flag pads text with '0' (left-aligned unless an alignment is given), as
            # CPython 3.10+ does on every supported version; only '=' is refused for str
            if typ not in ("", "s") or mt.group("sign") or mt.group("alt") or mt.group("group") \
                    or mt.group("align") == "=":
                raise ValueError()
            n = len(value)
            if prec:
                n = min(n, int(prec))
            self.m.bytes(max(w, n))
            return format(value, spec)
        raise TypeError()  # only ints, bools and str take a format spec

    def percent_format(self, fmtstr, args):
        """``'...' % args`` in the same safe subset (positional or ``%(key)s``)."""
        self.m.charge(1 + len(fmtstr) // BPG)
        if type(args) is tuple:
            pos = list(args)
            mapping = None
        elif type(args) is dict:
            pos = [args]
            mapping = args
        else:
            pos = [args]
            mapping = None
        out = []
        i = 0
        last = 0
        for mt in _PCT_RE.finditer(fmtstr):
            if "%" in fmtstr[last:mt.start()]:
                raise ValueError()
            out.append(fmtstr[last:mt.start()])
            last = mt.end()
            typ = mt.group("type")
            if typ == "%":
                out.append("%")
                continue
            flags, width, prec = mt.group("flags"), mt.group("width"), mt.group("prec")
            if width == "*":
                if i >= len(pos) or type(pos[i]) is not int:
                    raise TypeError()
                width = str(pos[i])
                i += 1
            if prec == "*":
                if i >= len(pos) or type(pos[i]) is not int:
                    raise TypeError()
                prec = str(pos[i])
                i += 1
            if width.startswith("-"):
                flags += "-"
                width = width[1:]
            if mt.group("key") is not None:
                if mapping is None:
                    raise TypeError()
                self.m.charge(key_units(mt.group("key"), self.m))
                v = mapping[mt.group("key")]
            else:
                if i >= len(pos):
                    raise TypeError()
                v = pos[i]
                i += 1
            align = "<" if "-" in flags else ">"
            sign = "+" if "+" in flags else (" " if " " in flags else "")
            zero = "0" if ("0" in flags and "-" not in flags) else ""
            alt = "#" if "#" in flags else ""
            if typ in ("s", "r", "a"):
                sv = self.str_(v) if typ == "s" else self.repr_(v)
                spec = align + width + ("." + prec if prec else "")
                out.append(self.fmt(sv, -1, spec if (width or prec) else ""))
            else:
                if type(v) not in INTS:
                    raise TypeError()
                if prec:
                    raise ValueError()  # documented: no precision on integers
                code = {"d": "d", "i": "d", "u": "d", "x": "x", "X": "X", "o": "o"}[typ]
                if zero:
                    spec = sign + alt + "0" + width + code
                else:
                    spec = align + sign + alt + width + code
                out.append(self.fmt(int(v), -1, spec))
        if "%" in fmtstr[last:]:
            raise ValueError()
        out.append(fmtstr[last:])
        if mapping is None and i != len(pos):
            raise TypeError()
        total = sum(len(p) for p in out)
        self.m.bytes(total)
        return "".join(out)


_ = operator  # kept for helpers that may need it
