"""What a contract sees at run time, and ``execute()``.

``execute`` builds a FRESH namespace per call from the cached code object: ``__builtins__``
holds only the safe builtins (language.ALLOWED_BUILTINS / ALLOWED_EXCEPTIONS, each wrapped to
charge by size), the guards RestrictedPython's transform calls (``_getattr_`` ...), the
helpers the gas rewriter calls (``_pc_*``), and the authoring API bound per ``imports``.
Nothing persists between transactions. ``Runtime`` is composed, not mixed in: it holds the
execution's state and the guards, storage and API, and owns one :class:`.ops.Ops` (operators,
conversions, formatting) and one :class:`.builtins.Builtins` (builtins and methods), each with
explicit references to the meter and to each other; :mod:`.meter` has the meter and size
measures.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial

from ledger_store import codec as _codec
from ledger_store.errors import EncodingError
from pycontract.errors import (
    ContractAbort, OutOfGas, PycontractError, Reverted, builtin_detail, contract_line,
)
from pycontract.metering import helpers
from pycontract.metering.schedule import SCHEDULE
from pycontract.language import (
    ALLOWED_BUILTINS,
    ALLOWED_METHODS,
    ALLOWED_TYPE_ATTRIBUTES,
)
from pycontract.runtime.builtins import EXCEPTIONS, Builtins, method_table
from pycontract.runtime.meter import (
    LONG_KEY, WIDE_INT_KEY, Meter, RawRevert, deep_units, key_units, long_key,
)
from pycontract.runtime.ops import Ops
from pycontract.runtime.storage import Context, Map, Value

S = SCHEDULE

__all__ = ["Meter", "CallFrame", "execute", "Runtime"]

_EXCEPTIONS = EXCEPTIONS
#: builtins implemented by ``Ops`` rather than ``Builtins.b_NAME`` (they are also the
#: conversions ``str(x)``/``int(x)`` the rest of the runtime uses)
BUILTIN_IMPLS = {"int": "to_int", "str": "str_call"}
_BUILTIN_CONSTANTS = {"True": True, "False": False, "None": None}
#: the interpreter recursion limit while a contract runs (set exactly, every call). The engine's
#: own limits (200 contract frames + counted lazy nesting, each a bounded number of interpreter
#: frames; cross-contract calls ~5 frames per level) keep a contract below ~2,000 frames, so
#: this never fires first; and it is far below what overflows the C stack of an 8 MiB main
#: thread on 3.11 through the C-level recursion a contract can reach (map/genexp chains survive
#: 12,000 levels there).
_RECURSION_LIMIT = 5000


@dataclass(frozen=True)
class CallFrame:
    contract: str
    sender: str
    origin: str
    block_height: int
    block_time: int
    readonly: bool = False
    depth: int = 0


# ---------------------------------------------------------------- guards


class _Writer:
    """What ``_write_(obj)`` returns for contract lists and dicts: checked item stores."""

    __slots__ = ("rt", "obj")

    def __init__(self, rt, obj):
        self.rt = rt
        self.obj = obj

    def __setitem__(self, k, v):
        self.rt.setitem(self.obj, k, v)

    def __delitem__(self, k):
        self.rt.delitem(self.obj, k)


def _identity_decorator(f):
    return f


# ---------------------------------------------------------------- the runtime


class Runtime:
    """One contract execution's state (compiled contract, meter, host, frame, ``ctx``) with the
    guards, storage and API it calls, composed with an ``Ops`` (``self.ops``) and a
    ``Builtins`` (``self.b``) that hold explicit references to the meter and to each other.

    Building the bound-method tables is the expensive part (~85 bound methods), so ``execute``
    does not build a Runtime per call: it takes an idle one from ``_POOL``, ``bind``s the
    execution's state to it, and ``unbind``s and returns it when the call ends. A Runtime serves
    one execution at a time (a re-entrant cross-contract call takes another one from the pool);
    everything a contract can see or change is created per execution: the namespace, a copy of
    the builtins dict, ``ctx``, storage objects, iterators (see ``namespace``)."""

    def __init__(self, compiled=None, meter: Meter | None = None, host=None,
                 frame: CallFrame | None = None):
        ops = self.ops = Ops()
        b = self.b = Builtins()
        ops.b, ops.g = b, self
        b.o, b.g = ops, self
        self.methods = method_table(Builtins)
        #: {type: {name: implementation bound to this runtime's Builtins}}: what
        #: ``method_of`` returns (the receiver is passed as the first argument)
        self.bound_methods = {t: {n: getattr(b, f"m_{t.__name__}_{n}") for n in tbl}
                              for t, tbl in self.methods.items()}
        self.builtins = self._builtins()
        self.type_map = {}
        for name, real in (("int", int), ("str", str), ("bytes", bytes), ("bool", bool),
                           ("list", list), ("tuple", tuple), ("dict", dict),
                           ("range", range)):
            fn = self.builtins[name]
            self.type_map[id(fn)] = (fn, real)
        b.type_map = self.type_map
        # ``int.from_bytes`` ...: generated from language.ALLOWED_TYPE_ATTRIBUTES (``t_TYPE_NAME``)
        self.type_attrs = {}
        for tname, names in ALLOWED_TYPE_ATTRIBUTES.items():
            fn = self.builtins[tname]
            self.type_attrs[id(fn)] = (fn, {n: getattr(b, f"t_{tname}_{n}") for n in names})
        self.ns_static = self._static_namespace()
        self.api = {
            "public": _identity_decorator, "view": _identity_decorator,
            "constructor": _identity_decorator, "Map": self.api_storage_type,
            "Value": self.api_storage_type, "require": self.api_require,
            "revert": self.api_revert, "emit": self.api_emit, "call": self.api_call,
        }
        self.unbind()
        if meter is not None:
            self.bind(compiled, meter, host, frame)

    def bind(self, compiled, meter: Meter, host, frame: CallFrame):
        """Attach one execution's state (the runtime must be idle)."""
        self.cc = compiled
        self.m = self.ops.m = self.b.m = meter
        self.host = host
        self.frame = frame
        self.ctx = Context(frame)
        self.b.gx_s = 1  # depth of the generator expression being built (see gxiter)

    def unbind(self):
        """Drop every reference to the finished execution's state."""
        self.cc = None
        self.m = self.ops.m = self.b.m = None
        self.host = None
        self.frame = None
        self.ctx = None
        self.b.gx_s = 1

    # ------------------------------------------------------------ namespace
    def _builtins(self):
        """The contract's ``__builtins__``, generated from language.ALLOWED_BUILTINS: each name
        bound to its size-charging implementation (``Builtins.b_NAME``, or the ``Ops`` method
        BUILTIN_IMPLS names)."""
        b = {}
        for name in sorted(ALLOWED_BUILTINS):
            if name in _BUILTIN_CONSTANTS:
                b[name] = _BUILTIN_CONSTANTS[name]
            elif name in BUILTIN_IMPLS:
                b[name] = getattr(self.ops, BUILTIN_IMPLS[name])
            else:
                b[name] = getattr(self.b, "b_" + name)
        b.update(_EXCEPTIONS)
        return b

    def _static_namespace(self):
        """The namespace entries that do not depend on the execution (copied per execution):
        every helper the metered code calls, from the one table in metering.helpers, bound to
        the method of the component (``runtime``, ``ops``, ``builtins``) the table names."""
        owners = {"runtime": self, "ops": self.ops, "builtins": self.b}
        ns = {}
        for name, path in helpers.RUNTIME_HELPERS.items():
            owner, attr = path.split(".")
            ns[name] = getattr(owners[owner], attr)
        ns.update(helpers.CONSTANTS)
        ns["__name__"] = "contract"
        return ns

    def namespace(self):
        """A fresh module namespace for the bound execution: a new dict, a new copy of the
        builtins dict, this execution's meter and ``ctx``, the API names the contract imports."""
        ns = self.ns_static.copy()
        ns["__builtins__"] = self.builtins.copy()
        m = self.m
        ns["_pc_m"] = m
        ns["_pc_oog"] = m.fail
        imports = self.cc.imports
        if imports:
            api = self.api
            for local, api_name in imports.items():
                ns[local] = self.ctx if api_name == "ctx" else api[api_name]
        return ns

    def uncatch(self):
        """First statement of every ``except`` handler: a MemoryError or RecursionError (which
        the engine's limits are meant to prevent; if one happens it depends on the node) ends
        the transaction as an uncatchable revert instead of being handled by the contract."""
        e = sys.exc_info()[1]
        if isinstance(e, (MemoryError, RecursionError)):
            self.m.revert(type(e).__name__)

    def deep(self):
        self.m.revert(f"call depth limit of {S.call_depth_limit} exceeded")

    def range_loop(self, r, k):
        """``for x in range(...)`` whose body cannot leave early (schedule 6): charge ``k`` gas
        (the body's first block with the iteration) for every iteration before the first,
        then iterate the range. A range that costs more than the gas left (one too long for
        ``len`` included) is charged ``k`` per iteration as it is drawn, counter tested."""
        if type(r) is not range:
            return self.b.getiter(r)  # never: the rewriter emits this for builtin range() only
        try:
            n = len(r)
        except OverflowError:
            n = 1 << 64
        m = self.m
        if n * k > m.g:
            # more than the gas left (or a test pending): charged per iteration as it runs,
            # as every loop was until 5, so a revert inside it still ends the transaction with
            # its own message rather than out of gas at the for line
            return self.b._citer(r, k, False)
        m.g -= n * k
        return r

    # ------------------------------------------------------------ guards
    def getattr_(self, obj, name, *default):
        t = type(obj)
        tbl = self.methods.get(t)
        if tbl is not None:
            impl = tbl.get(name)
            if impl is not None:
                return partial(impl, self.b, obj)
            raise AttributeError(name=name, obj=obj)
        if t is Map:
            if name == "get":
                return partial(self.map_get, obj)
            if name == "contains":
                return partial(self.map_contains, obj)
        elif t is Value:
            if name == "get":
                return partial(self.value_get, obj)
            if name == "set":
                return partial(self.value_set, obj)
        elif t is Context:
            if name in ALLOWED_METHODS["Context"]:
                f = self.frame
                return f.contract if name == "this" else getattr(f, name)
        else:
            ta = self.type_attrs.get(id(obj))
            if ta is not None and ta[0] is obj and name in ta[1]:
                return ta[1][name]
        raise AttributeError(name=name, obj=obj)

    def method_of(self, obj, name):
        """``X.name`` as a callable that takes ``X`` as its first argument (the rewriter's
        direct method calls, for a receiver of another type than the one it tests inline):
        the same implementation, checks and errors as ``getattr_``, without binding ``X``."""
        t = type(obj)
        tbl = self.bound_methods.get(t)
        if tbl is not None:
            impl = tbl.get(name)
            if impl is not None:
                return impl
            raise AttributeError(name=name, obj=obj)
        if t is Map:
            if name == "get":
                return self.map_get
            if name == "contains":
                return self.map_contains
        elif t is Value:
            if name == "get":
                return self.value_get
            if name == "set":
                return self.value_set
        bound = self.getattr_(obj, name)  # anything else: the guard's answer (or its error)
        return lambda _obj, *a, **kw: bound(*a, **kw)

    def getitem(self, obj, key):
        t = type(obj)
        tk = type(key)
        if (tk is int or tk is str and len(key) <= LONG_KEY) and (
                t is list or t is dict or t is tuple or t is str):
            return obj[key]
        if t is dict:
            if tk is tuple or long_key(key):
                self.m.charge(key_units(key, self.m))
            return obj[key]
        if t is list or t is tuple or t is str or t is bytes:
            if type(key) is slice:
                n = len(range(*key.indices(len(obj))))
                if t is str or t is bytes:
                    self.m.bytes(n)
                else:
                    self.m.elems(n)
            return obj[key]
        if t is range:
            return obj[key]
        if t is Map:
            return self.map_read(obj, key)
        raise TypeError()

    def write(self, obj):
        t = type(obj)
        if t is list or t is dict:
            return _Writer(self, obj)
        if t is Map:
            return obj
        raise TypeError()

    def setitem_v(self, value, obj, key):
        t = type(obj)
        tk = type(key)
        if t is dict and (tk is str and len(key) <= LONG_KEY
                          or (tk is int and -WIDE_INT_KEY < key < WIDE_INT_KEY)):
            if key not in obj:
                m = self.m
                m.mem += S.item_memory
                if m.mem > S.memory_limit:
                    m.alloc(0)
            obj[key] = value
        elif t is list and tk is int:
            obj[key] = value
        else:
            self.setitem(obj, key, value)

    def setitem(self, obj, key, value):
        t = type(obj)
        if t is dict:
            self.b.sk(key)
            if key not in obj:
                self.m.alloc(S.item_memory)
            obj[key] = value
        elif t is list:
            if type(key) is slice:
                items = self.b.materialize(value)
                self.m.elems(len(items) + len(obj) // 8, S.item_memory)
                obj[key] = items
            else:
                obj[key] = value
        elif t is Map:
            self.map_write(obj, key, value)
        else:
            raise TypeError()

    def delitem(self, obj, key):
        t = type(obj)
        if t is dict:
            self.b.hk(key)
            del obj[key]
        elif t is list:
            self.m.charge(1 + len(obj) // 32)
            del obj[key]
        elif t is Map:
            self.map_write(obj, key, None, delete=True)
        else:
            raise TypeError()

    # ------------------------------------------------------------ storage
    def storage_decl(self, name):
        cc = self.cc
        decl = cc.storage[name]
        # the encoded default depends only on the contract: encoded once per compiled contract
        # (no gas is charged for it; a default that cannot be encoded reverts every time)
        cache = cc.storage_defaults
        default = cache.get(name)
        if default is None:
            default = self._encode_value(decl.default, "default")
            cache[name] = default
        if decl.kind == "map":
            return Map(self, name, default)
        return Value(self, name, default)

    def api_storage_type(self, *a, **k):
        raise TypeError()  # storage is declared at module level only

    def _encode_value(self, v, what="value"):
        try:
            return _codec.encode_value(v)
        except EncodingError as e:
            self.m.revert(f"{what} not storable: {e}")

    def _key(self, slot, k):
        self.m.charge(deep_units(k, max(self.m.g, 0) + 1, self.m) if type(k) is tuple
                  else 1 + (len(k) // 16 if type(k) in (str, bytes) else 0))
        try:
            return _codec.encode_key((slot._name, k) if type(slot) is Map else (slot._name,))
        except EncodingError as e:
            self.m.revert(f"key not storable: {e}")

    def _read(self, kb):
        raw = self.host.storage_get(self.frame.contract, kb)
        self.m.charge(S.storage_read_base
                  + (len(kb) + (len(raw) if raw is not None else 0)) * S.storage_read_byte)
        return raw

    def _write(self, kb, vb, default):
        if self.frame.readonly:
            self.m.revert("a view cannot write storage")
        if vb is not None and vb == default:
            vb = None
        self.m.charge(S.storage_write_base
                  + (len(kb) + (len(vb) if vb is not None else 0)) * S.storage_write_byte)
        self.host.storage_put(self.frame.contract, kb, vb)

    def _decode(self, raw):
        self.m.charge(1 + len(raw) // 16)
        return _codec.decode_value(raw)

    def map_read(self, mp, k):
        raw = self._read(self._key(mp, k))
        return self._decode(raw if raw is not None else mp._default)

    def map_get(self, mp, k, default=None):
        raw = self._read(self._key(mp, k))
        if raw is None:
            return default
        return self._decode(raw)

    def map_contains(self, mp, k):
        return self._read(self._key(mp, k)) is not None

    def map_write(self, mp, k, v, delete=False):
        kb = self._key(mp, k)
        if self.frame.readonly:
            self.m.revert("a view cannot write storage")
        if delete:
            self._write(kb, None, mp._default)
            return
        self.m.charge(deep_units(v, max(self.m.g, 0) + 1, self.m))
        self._write(kb, self._encode_value(v), mp._default)

    def value_get(self, val):
        raw = self._read(self._key(val, None))
        return self._decode(raw if raw is not None else val._default)

    def value_set(self, val, v):
        kb = self._key(val, None)
        if self.frame.readonly:
            self.m.revert("a view cannot write storage")
        self.m.charge(deep_units(v, max(self.m.g, 0) + 1, self.m))
        self._write(kb, self._encode_value(v), val._default)

    # ------------------------------------------------------------ API functions
    def _message(self, msg):
        if type(msg) is str:
            self.m.charge(1 + len(msg) // 16)
            return msg
        return self.ops.str_(msg)

    def api_require(self, cond, message="requirement failed"):
        if not cond:
            self.m.revert(self._message(message))

    def api_revert(self, message="reverted"):
        self.m.revert(self._message(message))

    def cross(self, v):
        """Charge a value about to leave this contract (result, event fields, call arguments)
        by the nodes of its tree, before any encoding: ``a = [a, a]`` repeated is a tree of
        2**n nodes to every encoder and copier on the way to the host. The walk stops once the
        count passes what the remaining gas can pay."""
        m = self.m
        units = deep_units(v, max(m.g, 0) // S.boundary_node + 1, m, BOUNDARY_NEST)
        self.m.charge(units * S.boundary_node)
        m.alloc(units * S.boundary_node_bytes)

    def api_emit(self, name, /, **fields):
        if type(name) is not str:
            raise TypeError()
        self.cross(fields)
        data = self._encode_value(fields, "event fields")
        self.m.charge(S.event_base + (len(name) + len(data)) * S.event_byte)
        self.m.alloc(len(data) + len(name))
        try:
            self.host.emit(self.frame.contract, name, data)  # the encoded fields, once
        except (MemoryError, RecursionError) as e:  # never a catchable, node-dependent error
            self.m.revert(f"{type(e).__name__} while recording event {name!r}")

    def api_call(self, contract, function, /, **kwargs):
        if type(contract) is not str or type(function) is not str:
            raise TypeError()
        self.cross(kwargs)
        data = self._encode_value(kwargs, "call arguments")
        self.m.charge(S.cross_call_base + len(data) * S.cross_call_byte)
        try:
            # arguments and result cross as canonical bytes, each encoded once: type-checked
            # and never aliased between the two contracts
            rb = self.host.call_contract(self.frame, contract, function, data)
        except ContractAbort as e:
            # a failure in the callee ends the whole transaction; make it sticky so a
            # ``finally`` in the caller cannot swallow it
            self.m.set_abort(type(e), e.message)
            raise
        except PycontractError as e:
            self.m.revert(f"call to {contract}.{function} failed: {e}")
        except Exception as e:  # host bug: do not leak interpreter text
            self.m.revert(f"call to {contract}.{function} failed: {type(e).__name__}")
        if type(rb) is not bytes:  # host bug: never hand the caller a shared object
            self.m.revert(f"call to {contract}.{function} returned a non-storable value")
        self.m.charge(1 + len(rb) * S.cross_call_byte)
        return _codec.decode_value(rb)


# ---------------------------------------------------------------- execute

#: values that leave a contract (results, event fields, call arguments) end up nested a few
#: containers deep inside receipts, whose canonical encoding allows MAX_DEPTH levels in all
BOUNDARY_NEST = _codec.MAX_DEPTH - 4

#: idle Runtimes (bound-method tables built once, see ``Runtime``). ``execute`` pops one, binds
#: it to the call, and unbinds and pushes it back when the call ends, so a Runtime is never used
#: by two executions at once (a re-entrant call pops another; one deeper than the pool builds a
#: new one) and holds no meter, host, frame or contract while idle.
_POOL: list = []
#: as many as one transaction can nest (every cross-contract call is a contract frame, at most
#: ``call_depth_limit`` of them): with 16, each call deeper than 16 built a Runtime and its
#: namespace (~0.25 ms with the direct-method helpers), so a 64-deep chain of calls took 3x
#: longer than before them (benchmarks calls: 6.1 ms, was 3.2 ms)
_POOL_SIZE = S.call_depth_limit + 1


def _tuples_to_lists(v, depth=0):
    """A result with its tuples (at any depth) turned into lists, as the docs promise: the
    canonical encoding has no tuple. ``cross`` has already paid for every node and refused
    nesting deeper than BOUNDARY_NEST, so the recursion is bounded."""
    t = type(v)
    if t is tuple or (t is list and depth <= BOUNDARY_NEST):
        return [_tuples_to_lists(x, depth + 1) for x in v]
    if t is dict and depth <= BOUNDARY_NEST:
        return {k: _tuples_to_lists(x, depth + 1) for k, x in v.items()}
    return v


def _describe(e):
    name = type(e).__name__
    msg = getattr(e, "_pc_msg", None)
    if msg is None:
        msg = builtin_detail(e)  # the missing key / attribute, in engine-written text
    return f"{name}: {msg}" if msg else name


def execute(compiled, function, kwargs, *, meter: Meter, host, frame: CallFrame):
    """Run ``function`` of a compiled contract; return its (storable) result or raise
    OutOfGas / Reverted with ``message`` = ``CONTRACT:LINE: reason``. ``kwargs`` must have
    passed ``worker.process.check_args`` (every worker path does): the rewriter proves an entry
    point's ``int`` parameters ints on that premise."""
    if sys.getrecursionlimit() != _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)
    try:
        rt = _POOL.pop()
    except IndexError:
        rt = Runtime()
    rt.bind(compiled, meter, host, frame)
    ns = rt.namespace()
    name = frame.contract
    entry_line = getattr(compiled.entry_points.get(function), "line", 0) or 0
    # out of gas in the module code (its charge is part of the call's price) reports the
    # entry point's line, not line 1 (issue #11)
    loading = True
    try:
        if meter.abort is not None or meter.g < 0:
            meter.fail()
        try:
            args = {k: _codec.decode_value(_codec.encode_value(v)) for k, v in kwargs.items()}
        except EncodingError as e:
            raise RawRevert(f"argument not storable: {e}") from None
        exec(compiled.code, ns)
        loading = False
        fn = ns.get(function)
        if function not in compiled.entry_points or fn is None:
            raise RawRevert(f"no entry point {function!r}")
        result = fn(**args)
        if meter.abort is not None or meter.g < 0:
            meter.fail()  # an abort swallowed by ``finally: return`` still ends the call
        if result is not None:
            rt.cross(result)  # charged and nesting-checked: the copy below is bounded
            result = _tuples_to_lists(result)
        try:
            rb = _codec.encode_value(result)
        except EncodingError:
            raise RawRevert(
                f"{function} returned a non-storable {type(result).__name__}") from None
        rt.m.charge(1 + len(rb) // 16)
        return result
    except ContractAbort as e:
        if getattr(e, "raw", False):
            oog_loading = loading and isinstance(e, OutOfGas)
            line = (not oog_loading and contract_line(e.__traceback__, ns)) or entry_line
            msg = f"{name}:{line}: {e.message}"
            cls = OutOfGas if isinstance(e, OutOfGas) else Reverted
            if cls is Reverted:
                meter.set_abort(Reverted, msg)
                meter.abort = (Reverted, msg)
            err = cls(msg)
        else:
            err = e
        e.__traceback__ = None
        raise err from None
    except RecursionError:
        msg = f"{name}:{entry_line}: RecursionError"
        meter.set_abort(Reverted, msg)
        meter.abort = (Reverted, msg)
        raise Reverted(msg) from None
    except Exception as e:
        line = contract_line(e.__traceback__, ns) or entry_line
        msg = f"{name}:{line}: {_describe(e)}"
        meter.set_abort(Reverted, msg)
        meter.abort = (Reverted, msg)
        raise Reverted(msg) from None
    finally:
        ns.clear()
        rt.unbind()
        if len(_POOL) < _POOL_SIZE:
            _POOL.append(rt)
