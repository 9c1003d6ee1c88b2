"""Safe builtins and per-type method wrappers, each charging by size: :class:`Builtins`, one
object per pooled runtime, composed into ``executor.Runtime`` (not a mixin: its references to
the meter, the operators and the guards are explicit attributes)."""

from __future__ import annotations

from functools import partial

from pycontract.language import ALLOWED_EXCEPTIONS
from pycontract.runtime.meter import (
    ASCII_WS,
    INTS,
    BPG, MAX_INT_BITS, MAX_NEST, S, check_store_key, deep_units, key_units, long_key,
)
from pycontract.runtime.storage import Context, Map, Value

#: the exception classes contract code may name, raise and catch (the real builtins)
EXCEPTIONS = {name: getattr(__import__("builtins"), name) for name in sorted(ALLOWED_EXCEPTIONS)}
EXCEPTION_TYPES = frozenset(EXCEPTIONS.values())
#: the storage proxies: never iterated, copied or measured as plain values
PROXY_TYPES = frozenset({Map, Value, Context})
_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "ascii": "ascii"}
_LAZY = (
    map, filter, zip, enumerate, reversed, type(iter([])), type(iter(())), type(iter("")),
    type(iter(b"")), type(iter(range(0))), type(iter({})), type(reversed([])),
    type(reversed(range(0))), type(reversed({})), type((lambda: (yield))()),
)


_DEPTH_LIMIT = S.call_depth_limit


class Lazy:
    """What ``map``/``filter``/``zip``/``enumerate`` and generator expressions hand to contract
    code: the real (C or generator) iterator ``it`` plus its static nesting depth ``s``
    (1 + the deepest lazy argument it was built from; refused above ``max_nesting`` when built,
    so C iterators never nest deeper than 64 levels).

    Runtime builders (``map`` over a Lazy, a generator expression's first iterable) use ``it``
    directly: that nesting is covered by ``s``. Every other draw (a ``for`` loop, unpacking,
    ``list()``, an inner comprehension clause ...) goes through ``__iter__``, which counts ``s``
    into the engine's depth counter ``meter.d`` (shared with contract call depth, limit
    ``call_depth_limit``) for the duration of each draw, so a lazy object drained from inside
    the draw of another (``map(list, [m])``, a genexp unpacking another in its element) can
    never pile up C or interpreter stack beyond what the engine's limits allow. ``pure`` objects
    (enumerate/zip over non-lazy sequences) run no contract code while drawn: no counting.
    """

    __slots__ = ("it", "s", "pure", "m")

    def __init__(self, it, s, pure, m):
        self.it = it
        self.s = s
        self.pure = pure
        self.m = m

    def __iter__(self):
        if self.pure:
            return self.it
        return _counted(self.it, self.s, self.m)


def _counted(it, s, m):
    while True:
        m.d += s
        try:
            if m.d > _DEPTH_LIMIT:
                m.revert(f"call depth limit of {_DEPTH_LIMIT} exceeded")
            x = next(it)
        except StopIteration:
            return
        finally:
            m.d -= s
        yield x


def _int_arg(v):
    if type(v) not in INTS:
        raise TypeError()
    return int(v)


_MEM_LIMIT = S.memory_limit
_INT_ONLY = {int}
_STR_ONLY = {str}
_BYTES_ONLY = {bytes}
_BIT_LENGTH = int.bit_length


def _log2ceil(n):
    return max((n - 1).bit_length(), 1)


class Builtins:
    """The builtins and per-type methods of one pooled runtime. Holds explicit references to
    what they use: ``m`` (the bound execution's meter), ``o`` (the
    :class:`~pycontract.runtime.ops.Ops`: sized arithmetic, ``str``/``repr``), ``g`` (the
    ``Runtime``: the attribute guard, call depth) and ``type_map`` (the contract-visible type
    builtins -> real types, built by the Runtime from its builtins dict). ``gx_s`` is the one
    piece of per-execution state kept here (depth of the generator expression being built),
    reset by ``Runtime.bind``/``unbind``."""

    __slots__ = ("m", "o", "g", "type_map", "gx_s")
    LAZY_TYPES = frozenset(_LAZY + (Lazy,))

    def __init__(self):
        self.m = None
        self.o = None
        self.g = None
        self.type_map = {}
        self.gx_s = 1

    # ------------------------------------------------------------ lazy objects
    def lazy_args(self, its):
        """(raw iterators, depth, pure) for the arguments of a lazy builtin."""
        s = 0
        pure = True
        raws = []
        for i in its:
            if type(i) is Lazy:
                if i.s > s:
                    s = i.s
                pure = pure and i.pure
                raws.append(i.it)
            else:
                raws.append(self.getiter(i))
        s += 1
        if s > MAX_NEST:
            self.m.revert(f"iterator nesting depth limit of {MAX_NEST} exceeded")
        return raws, s, pure

    def gxiter(self, it, k):
        """The first iterable of a generator expression (evaluated when the genexp is built):
        records the depth for ``gx``, which wraps the generator right after."""
        if type(it) is Lazy:
            s = it.s + 1
            if s > MAX_NEST:
                self.m.revert(f"iterator nesting depth limit of {MAX_NEST} exceeded")
            src = it.it
        else:
            if type(it) in PROXY_TYPES:
                raise TypeError()
            s = 1
            src = it
        self.gx_s = s
        return self._citer(src, k, False)

    def gx(self, g):
        return Lazy(g, self.gx_s, False, self.m)

    # ------------------------------------------------------------ iteration helpers
    def known_len(self, it):
        t = type(it)
        if t in (list, tuple, str, bytes, dict):
            return len(it)
        if t is range:
            return max(0, (it.stop - it.start + it.step - (1 if it.step > 0 else -1))
                       // it.step)
        return None

    def materialize(self, it):
        """A list of the items of ``it``, charged per element (up front when the length is
        known, so ``list(range(10**12))`` stops before any work)."""
        n = self.known_len(it)
        if n is not None:
            self.m.elems(n)
            return list(it)
        if type(it) in PROXY_TYPES:
            raise TypeError()
        out = []
        append = out.append
        m = self.m
        k = 1 + S.element
        for x in iter(it):
            m.g -= k
            if m.g < 0:
                m.fail()
            m.mem += 8
            if m.mem > S.memory_limit:
                m.alloc(0)
            append(x)
        return out

    def citer(self, it, k, mem, upfront=False, fixed=False):
        """The iterable of a comprehension / genexp, charged ``k`` per item (and accounted
        ``item_memory`` per item when ``mem``). With ``upfront`` (list/dict comprehensions, which
        draw every item) and an iterable whose length cannot change while it is iterated (range,
        tuple, str, bytes; a dict raises if resized; a list when ``fixed``: the rewriter proved
        the comprehension runs no contract code that could resize it) the whole charge is made
        before the first item; otherwise items are charged as drawn."""
        t = type(it)
        if upfront and (t is range or t is tuple or t is str or t is bytes or t is dict
                        or (fixed and t is list)):
            self._prepay(self.known_len(it), k, mem)
            return it
        if t in PROXY_TYPES:
            raise TypeError()
        return self._citer(it, k, mem)

    def cenum(self, x, k, mem):
        """``enumerate(x)`` as the only iterable of a list/dict comprehension that runs no
        contract code (the rewriter proved it): charged ``k`` per item up front when ``x`` has
        a known length (it cannot change while iterated), else exactly what
        ``_pc_citer(enumerate(x), k, mem, True)`` does."""
        n = self.known_len(x)
        if n is None:
            return self.citer(self.b_enumerate(x), k, mem, True)
        self._prepay(n, k, mem)
        return enumerate(x)

    def _prepay(self, n, k, mem):
        """Charge ``n`` comprehension items of ``k`` gas at once (and their item memory)."""
        m = self.m
        m.g -= n * k
        if m.g < 0:
            m.fail()
        if mem:
            m.mem += n * S.item_memory
            if m.mem > S.memory_limit:
                m.alloc(0)

    def _citer(self, it, k, mem):
        m = self.m
        lim = S.memory_limit
        per = S.item_memory
        if mem:
            for x in it:
                m.g -= k
                if m.g < 0:
                    m.fail()
                m.mem += per
                if m.mem > lim:
                    m.alloc(0)
                yield x
        else:
            for x in it:
                m.g -= k
                if m.g < 0:
                    m.fail()
                yield x

    def star(self, it):
        return self.materialize(it)

    def kwstar(self, d):
        if type(d) is not dict:
            raise TypeError()
        self.m.elems(len(d))
        return d

    def dstar(self, d):
        if type(d) is not dict:
            raise TypeError()
        self.m.elems(2 * len(d), S.item_memory)
        self.bulk_keys(d)
        return d

    def hk(self, k):
        """A key about to be looked up: check tuple nesting and charge its hashing (tuples, and
        str/bytes keys longer than ``long_key``)."""
        if type(k) is tuple or long_key(k):
            self.m.charge(key_units(k, self.m))
        return k

    def bulk_keys(self, d):
        """Before the keys of dict ``d`` are inserted into another dict in bulk (``update``,
        ``|``, ``copy``, ``{**d}``): once this transaction has stored a tuple key, each tuple
        key pays for the colliding keys it may probe past, as a single store would."""
        m = self.m
        if m.tk is not None:
            for k in d:
                if type(k) is tuple:
                    m.charge(key_units(k, m))

    def sk(self, k):
        """A key about to be inserted into a dict: refuse collision-prone keys."""
        return check_store_key(k, self.m)

    def getiter(self, it):
        if type(it) in PROXY_TYPES:
            raise TypeError()
        return it

    def unpack_sequence(self, it, spec, _getiter_=None):
        ret = self.materialize(it)
        if len(ret) < spec["min_len"]:
            return ret
        for idx, child in spec["childs"]:
            ret[idx] = self.unpack_sequence(ret[idx], child)
        return ret

    def iter_unpack_sequence(self, it, spec, _getiter_=None):
        for ob in self.getiter(it):
            yield self.unpack_sequence(ob, spec)

    def lam(self, f, k):
        """A contract lambda, metered like a ``def``: every call charges ``k`` (``call`` + the
        body's weight) and counts in the call depth (limit ``call_depth_limit``)."""
        m = self.m
        deep = self.g.deep

        def lam(*a, **kw):
            m.g -= k
            if m.g < 0:
                m.fail()
            m.d += 1
            try:
                if m.d > _DEPTH_LIMIT:
                    deep()
                return f(*a, **kw)
            finally:
                m.d -= 1

        return lam

    def apply(self, f, *a, **kw):
        return f(*a, **kw)

    def _sizes_units(self, items):
        """Sum and max of deep units of ``items`` (charged as it goes; depth-checked)."""
        m = self.m
        if items:
            # all ints of at most 64 bits, or all str/bytes shorter than BPG: the same units as
            # the loop below (1 + 1 word, 0 words for 0; 1 + 0 text units), counted in C
            types = set(map(type, items))
            if types == _INT_ONLY:
                # bit_length is O(1) per int (min/max could compare big ints digit by digit
                # before anything is charged)
                if max(map(_BIT_LENGTH, items)) <= 64:
                    n = len(items)
                    zeros = items.count(0)
                    total = 2 * n - zeros
                    m.g -= total
                    if m.g < 0:
                        m.fail()
                    return total, 1 if zeros == n else 2
            elif types == _STR_ONLY or types == _BYTES_ONLY:
                if max(map(len, items)) < BPG:
                    total = len(items)
                    m.g -= total
                    if m.g < 0:
                        m.fail()
                    return total, 1
        total = 0
        mx = 0
        for x in items:
            t = type(x)  # scalars inline: the same units deep_units gives, without a call each
            if t is int:
                u = 1 + ((x.bit_length() + 63) >> 6)
            elif t is str or t is bytes:
                u = 1 + len(x) // BPG
            else:
                u = deep_units(x, max(m.g, 0) + 1, m)
            total += u
            if u > mx:
                mx = u
            m.g -= u
            if m.g < 0:
                m.fail()
        return total, mx

    # ------------------------------------------------------------ builtins
    def b_len(self, x):
        t = type(x)
        if t in (list, tuple, str, bytes, dict, range):
            return len(x)
        raise TypeError()

    def b_abs(self, x):
        if type(x) not in INTS:
            raise TypeError()
        self.m.int_mem(x.bit_length())
        return abs(x)

    def b_bool(self, x=False):
        if type(x) in PROXY_TYPES:
            raise TypeError()
        return bool(x)

    def b_chr(self, i):
        return chr(_int_arg(i))

    def b_ord(self, c):
        if type(c) not in (str, bytes):
            raise TypeError()
        return ord(c)

    def b_bin(self, x):
        x = _int_arg(x)
        self.m.bytes(x.bit_length() + 3)
        return bin(x)

    def b_oct(self, x):
        x = _int_arg(x)
        self.m.bytes(x.bit_length() // 3 + 3)
        return oct(x)

    def b_hex(self, x):
        x = _int_arg(x)
        self.m.bytes(x.bit_length() // 4 + 3)
        return hex(x)

    def b_range(self, *args):
        if not 1 <= len(args) <= 3:
            raise TypeError()
        return range(*[_int_arg(a) for a in args])

    def b_divmod(self, a, b):
        return self.o.divmod_(a, b)

    def b_pow(self, base, exp, mod=None):
        return self.o.pow(base, exp, mod)

    def b_isinstance(self, obj, types):
        if type(types) is tuple:
            real = tuple(self._real_type(t) for t in types)
        else:
            real = self._real_type(types)
        return isinstance(obj, real)

    def _real_type(self, t):
        r = self.type_map.get(id(t))
        if r is not None and r[0] is t:
            return r[1]
        if isinstance(t, type) and t in EXCEPTION_TYPES:
            return t
        raise TypeError()

    def b_list(self, it=()):
        return self.materialize(it)

    def b_tuple(self, it=()):
        if type(it) is tuple:
            return it
        return tuple(self.materialize(it))

    def b_dict(self, x=None, **kw):
        d = {}
        if x is not None:
            self.dict_update(d, x)
        if kw:
            self.m.elems(len(kw), S.item_memory)
            d.update(kw)
        return d

    def dict_update(self, d, x=None, **kw):
        if x is not None:
            if type(x) is dict:
                self.m.elems(2 * len(x), S.item_memory)
                self.bulk_keys(x)
                d.update(x)
            else:
                for pair in self.materialize(x):
                    p = self.materialize(pair)
                    if len(p) != 2:
                        raise ValueError()
                    self.sk(p[0])
                    self.m.elems(2, S.item_memory)
                    d[p[0]] = p[1]
        if kw:
            self.m.elems(len(kw), S.item_memory)
            d.update(kw)

    def b_bytes(self, x=b"", encoding=None, errors=None):
        t = type(x)
        if encoding is not None or errors is not None:
            if t is not str:
                raise TypeError()
            return self.m_str_encode(x, encoding or "utf-8", errors or "strict")
        if t is bytes:
            return x
        if t in INTS:
            if x < 0:
                raise ValueError()
            self.m.bytes(x)
            return bytes(x)
        if t is str:
            raise TypeError()
        items = self.materialize(x)
        self.m.bytes(len(items))
        return bytes(items)

    def b_sum(self, it, start=0):
        ts = type(start)
        if ts is list or ts is tuple:
            # sum(lists, []) concatenates, as in CPython: each step is a charged ``+``
            acc = start
            for x in self.materialize(it):
                acc = self.o.add(acc, x)
            return acc
        if ts not in INTS:
            raise TypeError()  # CPython refuses str/bytes starts; no other type adds
        m = self.m
        acc = start
        n = self.known_len(it)
        if n is not None:
            self.m.elems(n, 0)
            src = it
        else:
            src = iter(it)
        for x in src:
            if type(x) not in INTS:
                raise TypeError()
            k = 1 + ((acc.bit_length() + x.bit_length()) >> 10)
            if n is None:
                k += S.element
            m.g -= k
            if m.g < 0:
                m.fail()
            acc = acc + x
        return acc

    def b_any(self, it):
        m = self.m
        for x in self.getiter(it):
            m.g -= 1
            if m.g < 0:
                m.fail()
            if x:
                return True
        return False

    def b_all(self, it):
        m = self.m
        for x in self.getiter(it):
            m.g -= 1
            if m.g < 0:
                m.fail()
            if not x:
                return False
        return True

    _NO = object()

    def _minmax(self, fn, args, key, default):
        if len(args) == 1:
            items = self.materialize(args[0])
        elif len(args) > 1:
            items = list(args)
        else:
            raise TypeError()
        if not items:
            if default is self._NO:
                raise ValueError()
            return default
        keys = items if key is None else [key(x) for x in items]
        _, mx = self._sizes_units(keys)
        self.m.charge(len(items) * (1 + mx))
        if key is None:
            return fn(items)
        best = 0
        for i in range(1, len(items)):
            if (keys[i] < keys[best]) if fn is min else (keys[i] > keys[best]):
                best = i
        return items[best]

    def b_min(self, *args, key=None, default=_NO):
        return self._minmax(min, args, key, default)

    def b_max(self, *args, key=None, default=_NO):
        return self._minmax(max, args, key, default)

    def _sort_list(self, items, key, reverse):
        n = len(items)
        if n < 2:
            if n and key is not None:
                key(items[0])  # CPython computes every key: its charges, effects and errors
            return items
        keys = items if key is None else [key(x) for x in items]
        _, mx = self._sizes_units(keys)
        self.m.charge(n * _log2ceil(n) * S.sort_factor * (1 + mx))
        if key is None:
            return sorted(items, reverse=bool(reverse))
        order = sorted(range(n), key=keys.__getitem__, reverse=bool(reverse))
        return [items[i] for i in order]

    def b_sorted(self, it, key=None, reverse=False):
        return self._sort_list(self.materialize(it), key, reverse)

    def b_enumerate(self, it, start=0):
        start = _int_arg(start)
        raws, s, pure = self.lazy_args((it,))
        return Lazy(enumerate(raws[0], start), s, pure, self.m)

    def b_zip(self, *its, strict=False):
        raws, s, pure = self.lazy_args(its)
        return Lazy(zip(*raws, strict=bool(strict)), s, pure, self.m)

    def b_map(self, f, *its):
        if not its:
            raise TypeError()
        raws, s, _ = self.lazy_args(its)
        return Lazy(map(f, *raws), s, False, self.m)

    def b_filter(self, f, it):
        raws, s, _ = self.lazy_args((it,))
        return Lazy(filter(f, raws[0]), s, False, self.m)

    def b_reversed(self, seq):
        if type(seq) not in (list, tuple, str, bytes, range, dict):
            raise TypeError()
        return reversed(seq)

    def exc(self, cls, *args):
        """Construct an exception; a contract-given message is kept for str(e) and receipts."""
        if not (isinstance(cls, type) and cls in EXCEPTION_TYPES):
            return cls(*args)
        if len(args) == 0:
            msg = None
        elif len(args) == 1:
            msg = self.o.str_(args[0])
        else:
            msg = self.o.str_(args)
        e = cls()
        e._pc_msg = msg
        # str(e) as CPython gives it for the contract's own arguments: the message ("" for
        # none), the repr of a KeyError's key
        if cls is KeyError and len(args) == 1:
            e._pc_str = self.o.repr_(args[0])
        else:
            e._pc_str = msg or ""
        return e

    # ------------------------------------------------------------ str methods
    def _ascii(self, s):
        if not s.isascii():
            raise ValueError()  # case mapping / classification only for ASCII text

    def _str_case(name):  # noqa: N805
        def f(self, s):
            self._ascii(s)
            self.m.bytes(len(s))
            return getattr(s, name)()
        return f

    m_str_capitalize = _str_case("capitalize")
    m_str_lower = _str_case("lower")
    m_str_upper = _str_case("upper")
    m_str_title = _str_case("title")
    m_str_swapcase = _str_case("swapcase")
    m_str_casefold = _str_case("casefold")  # = lower() on ASCII text

    #: str.splitlines' line boundaries (a fixed list in CPython, not the Unicode database)
    _LINE_BREAKS = ("\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
                    "\u2029")

    def m_str_splitlines(self, s, keepends=False):
        """Charged before the work: a scan per boundary character, then the exact number of
        lines (counted) and their text."""
        brk = self._LINE_BREAKS if not s.isascii() else self._LINE_BREAKS[:7]
        self.m.charge(1 + len(s) * len(brk) // BPG)
        n = sum(s.count(c) for c in brk) - s.count("\r\n") + 1
        self.m.charge(1 + len(s) // BPG + n * S.element)
        self.m.alloc(len(s) + n * S.object_memory)
        return s.splitlines(bool(keepends))

    def m_str_expandtabs(self, s, tabsize=8):
        tabsize = _int_arg(tabsize)
        tabs = s.count("\t")
        self.m.bytes(len(s) + tabs * max(tabsize - 1, 0))  # the longest result, before the work
        return s.expandtabs(tabsize)

    def _str_is(name):  # noqa: N805
        def f(self, s):
            self._ascii(s)
            self.m.charge(1 + len(s) // BPG)
            return getattr(s, name)()
        return f

    m_str_isalnum = _str_is("isalnum")
    m_str_isalpha = _str_is("isalpha")
    m_str_isdecimal = _str_is("isdecimal")
    m_str_isdigit = _str_is("isdigit")
    m_str_islower = _str_is("islower")
    m_str_isspace = _str_is("isspace")
    m_str_isupper = _str_is("isupper")

    def m_str_isascii(self, s):
        self.m.charge(1 + len(s) // BPG)
        return s.isascii()

    def _pad(name):  # noqa: N805
        def f(self, s, width, fillchar=" "):
            width = _int_arg(width)
            if type(fillchar) is not type(s) or len(fillchar) != 1:
                raise TypeError()
            self.m.bytes(max(len(s), width))
            return getattr(s, name)(width, fillchar)
        return f

    m_str_center = _pad("center")
    m_str_ljust = _pad("ljust")
    m_str_rjust = _pad("rjust")

    def m_str_zfill(self, s, width):
        if type(width) is not int:
            width = _int_arg(width)
        n = len(s)
        if width > n:
            n = width
        m = self.m  # m.bytes(max(len(s), width)), inline
        m.g -= 1 + n // BPG
        if m.g < 0:
            m.fail()
        m.mem += n
        if m.mem > _MEM_LIMIT:
            m.alloc(0)
        return s.zfill(width)

    def _search(name):  # noqa: N805
        def f(self, s, sub, *se):
            if type(sub) is not type(s) and not (type(s) is bytes and type(sub) in INTS):
                raise TypeError()
            for v in se:
                if v is not None:
                    _int_arg(v)
            m = len(sub) if type(sub) is not int else 1
            self.m.charge(self.o._search_cost(len(s), m))
            return getattr(s, name)(sub, *se)
        return f

    m_str_count = _search("count")
    m_str_find = _search("find")
    m_str_index = _search("index")
    m_str_rfind = _search("rfind")
    m_str_rindex = _search("rindex")

    def _affix(name):  # noqa: N805
        def f(self, s, affix, *se):
            if type(affix) is tuple:
                if not all(type(a) is type(s) for a in affix):
                    raise TypeError()
                n = sum(len(a) for a in affix) + len(affix)
            elif type(affix) is type(s):
                n = len(affix)
            else:
                raise TypeError()
            for v in se:
                if v is not None:
                    _int_arg(v)
            self.m.charge(1 + n // BPG)
            return getattr(s, name)(affix, *se)
        return f

    m_str_startswith = _affix("startswith")
    m_str_endswith = _affix("endswith")

    def m_str_encode(self, s, encoding="utf-8", errors="strict"):
        enc = _ENCODINGS.get(encoding)
        if enc is None or errors != "strict":
            raise ValueError()
        self.m.bytes(4 * len(s))
        return s.encode(enc)

    def _join(self, s, it):
        items = self.materialize(it)
        t = type(s)
        if items and not {t}.issuperset(map(type, items)):  # every item exactly s's type
            raise TypeError()
        total = sum(map(len, items)) + len(s) * max(len(items) - 1, 0)
        self.m.bytes(total)
        return s.join(items)

    m_str_join = _join

    def _strip(name):  # noqa: N805
        def f(self, s, chars=None):
            if chars is None:
                chars = ASCII_WS if type(s) is str else b" \t\n\r\x0b\x0c"
            elif type(chars) is not type(s):
                raise TypeError()
            self.m.charge(1 + (len(s) * (1 + len(chars) // 8) + len(chars)) // BPG)
            self.m.mem += len(s)
            return getattr(s, name)(chars)
        return f

    m_str_strip = _strip("strip")
    m_str_lstrip = _strip("lstrip")
    m_str_rstrip = _strip("rstrip")

    def _partition(name):  # noqa: N805
        def f(self, s, sep):
            if type(sep) is not type(s):
                raise TypeError()
            self.m.charge(self.o._search_cost(len(s), len(sep)))
            self.m.bytes(len(s))
            return getattr(s, name)(sep)
        return f

    m_str_partition = _partition("partition")
    m_str_rpartition = _partition("rpartition")

    def _affix_remove(name):  # noqa: N805
        def f(self, s, affix):
            if type(affix) is not type(s):
                raise TypeError()
            self.m.bytes(len(s))
            return getattr(s, name)(affix)
        return f

    m_str_removeprefix = _affix_remove("removeprefix")
    m_str_removesuffix = _affix_remove("removesuffix")

    def _replace(self, s, old, new, count=-1):
        if type(old) is not type(s) or type(new) is not type(s):
            raise TypeError()
        count = _int_arg(count)
        if old:
            self.m.charge(self.o._search_cost(len(s), len(old)))
            n = s.count(old)
        else:
            n = len(s) + 1
        if count >= 0:
            n = min(n, count)
        self.m.bytes(len(s) + n * max(len(new) - len(old), 0))
        return s.replace(old, new, count)

    m_str_replace = _replace

    def _split(name):  # noqa: N805
        def f(self, s, sep=None, maxsplit=-1):
            maxsplit = _int_arg(maxsplit)
            if sep is None:
                if type(s) is str and not s.isascii():
                    raise ValueError()  # whitespace splitting only for ASCII text
                n = len(s) // 2 + 1
            else:
                if type(sep) is not type(s):
                    raise TypeError()
                if not sep:
                    raise ValueError()
                self.m.charge(self.o._search_cost(len(s), len(sep)))
                n = s.count(sep) + 1
            if maxsplit >= 0:
                n = min(n, maxsplit + 1)
            self.m.charge(1 + len(s) // BPG + n * S.element)
            self.m.alloc(len(s) + n * S.object_memory)
            return getattr(s, name)(sep, maxsplit)
        return f

    m_str_split = _split("split")
    m_str_rsplit = _split("rsplit")

    # ------------------------------------------------------------ bytes methods
    m_bytes_count = m_str_count
    m_bytes_find = m_str_find
    m_bytes_index = m_str_index
    m_bytes_rfind = m_str_rfind
    m_bytes_rindex = m_str_rindex
    m_bytes_startswith = m_str_startswith
    m_bytes_endswith = m_str_endswith
    m_bytes_join = _join
    m_bytes_strip = m_str_strip
    m_bytes_lstrip = m_str_lstrip
    m_bytes_rstrip = m_str_rstrip
    m_bytes_removeprefix = m_str_removeprefix
    m_bytes_removesuffix = m_str_removesuffix
    m_bytes_replace = _replace
    m_bytes_split = m_str_split

    def m_bytes_decode(self, b, encoding="utf-8", errors="strict"):
        enc = _ENCODINGS.get(encoding)
        if enc is None or errors != "strict":
            raise ValueError()
        self.m.bytes(4 * len(b))
        return b.decode(enc)

    def m_bytes_hex(self, b):
        self.m.bytes(2 * len(b))
        return b.hex()

    # ------------------------------------------------------------ int methods
    def m_int_bit_length(self, x):
        return x.bit_length()

    def m_int_to_bytes(self, x, length=1, byteorder="big", *, signed=False):
        length = _int_arg(length)
        if length > MAX_INT_BITS // 8 + 8:
            self.m.revert(f"int too large (limit {MAX_INT_BITS} bits)")
        if byteorder not in ("big", "little"):
            raise ValueError()
        self.m.bytes(max(length, 0))
        return x.to_bytes(length, byteorder, signed=bool(signed))

    def t_int_from_bytes(self, b, byteorder="big", *, signed=False):
        if type(b) is not bytes:
            raise TypeError()
        if len(b) * 8 > MAX_INT_BITS:
            self.m.revert(f"int too large (limit {MAX_INT_BITS} bits)")
        if byteorder not in ("big", "little"):
            raise ValueError()
        self.m.bytes(len(b))
        return int.from_bytes(b, byteorder, signed=bool(signed))

    def t_dict_fromkeys(self, it, value=None):
        keys = self.materialize(it)
        self.m.elems(len(keys), S.item_memory)
        for k in keys:
            self.sk(k)  # the same key checks and charges as d[k] = value
        return dict.fromkeys(keys, value)

    def t_bytes_fromhex(self, s):
        if type(s) is not str:
            raise TypeError()
        if not s.isascii():
            raise ValueError()
        self.m.bytes(len(s))
        return bytes.fromhex(s)

    # ------------------------------------------------------------ list / tuple methods
    def append(self, obj, x):
        """``obj.append(x)`` as the rewriter emits it: lists directly, anything else through
        the attribute guard (same checks, same charges)."""
        if type(obj) is list:
            m = self.m
            m.mem += S.item_memory
            if m.mem > S.memory_limit:
                m.alloc(0)
            obj.append(x)
            return None
        return self.g.getattr_(obj, "append")(x)

    def m_list_append(self, lst, x):
        m = self.m
        m.mem += S.item_memory
        if m.mem > S.memory_limit:
            m.alloc(0)
        lst.append(x)

    def m_list_clear(self, lst):
        self.m.charge(1 + len(lst) // 8)
        lst.clear()

    def m_list_copy(self, lst):
        self.m.elems(len(lst))
        return lst.copy()

    def _seq_scan(name):  # noqa: N805
        def f(self, seq, x, *se):
            for v in se:
                _int_arg(v)
            n = len(seq)
            if n:
                ux = deep_units(x, max(self.m.g, 0) // n + 1, self.m)
                self.m.charge(1 + n * ux)
            return getattr(seq, name)(x, *se)
        return f

    m_list_count = _seq_scan("count")
    m_list_index = _seq_scan("index")
    m_tuple_count = _seq_scan("count")
    m_tuple_index = _seq_scan("index")

    def m_list_remove(self, lst, x):
        n = len(lst)
        if n:
            ux = deep_units(x, max(self.m.g, 0) // n + 1, self.m)
            self.m.charge(1 + n * ux)
        lst.remove(x)

    def m_list_extend(self, lst, it):
        items = self.materialize(it)
        self.m.elems(len(items), S.item_memory)
        lst.extend(items)

    def m_list_insert(self, lst, i, x):
        i = _int_arg(i)
        self.m.charge(1 + len(lst) // 32)
        self.m.alloc(S.item_memory)
        lst.insert(i, x)

    def m_list_pop(self, lst, i=-1):
        i = _int_arg(i)
        self.m.charge(1 + len(lst) // 32)
        return lst.pop(i)

    def m_list_reverse(self, lst):
        self.m.charge(1 + len(lst) // 8)
        lst.reverse()

    def m_list_sort(self, lst, *, key=None, reverse=False):
        """As CPython: the list is empty while it is sorted (a key sees it empty); whatever a
        key puts into it is dropped, and then ``ValueError`` (list modified during sort); a
        failing key leaves the list as it was."""
        items = list(lst)
        lst.clear()
        try:
            result = self._sort_list(items, key, reverse)
        except BaseException:
            lst[:] = items
            raise
        modified = len(lst) != 0
        lst[:] = result
        if modified:
            raise ValueError()

    # ------------------------------------------------------------ dict methods
    def m_dict_clear(self, d):
        self.m.charge(1 + len(d) // 8)
        d.clear()

    def m_dict_copy(self, d):
        self.m.elems(2 * len(d), S.item_memory)
        self.bulk_keys(d)
        return d.copy()

    def m_dict_get(self, d, k, default=None):
        self.hk(k)
        return d.get(k, default)

    def m_dict_items(self, d):
        self.m.elems(3 * len(d))
        return list(d.items())

    def m_dict_keys(self, d):
        self.m.elems(len(d))
        return list(d)

    def m_dict_values(self, d):
        self.m.elems(len(d))
        return list(d.values())

    def m_dict_pop(self, d, k, *default):
        self.hk(k)
        return d.pop(k, *default)

    def m_dict_popitem(self, d):
        if not d:
            raise KeyError()  # not the interpreter's own text
        return d.popitem()

    def m_dict_setdefault(self, d, k, default=None):
        self.sk(k)
        if k not in d:
            self.m.alloc(S.item_memory)
        return d.setdefault(k, default)

    def m_dict_update(self, d, x=None, **kw):
        self.dict_update(d, x, **kw)


_METHOD_TABLES = {}


def method_table(cls):
    """{type: {name: plain function}} for the attribute guard, built once per Builtins class from
    language.ALLOWED_METHODS; the guard binds the runtime's Builtins and the object with
    ``partial(impl, builtins, obj)``."""
    table = _METHOD_TABLES.get(cls)
    if table is None:
        from pycontract.language import ALLOWED_METHODS

        table = {}
        for tname, typ in (("str", str), ("bytes", bytes), ("int", int), ("list", list),
                           ("tuple", tuple), ("dict", dict)):
            table[typ] = {n: getattr(cls, f"m_{tname}_{n}") for n in ALLOWED_METHODS[tname]}
        _METHOD_TABLES[cls] = table
    return table


_ = partial
