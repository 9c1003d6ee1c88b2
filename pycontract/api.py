"""The authoring API in plain-Python mode.

A contract file imports these names (``from pycontract import public, Map, ...``) and therefore
also runs as ordinary Python: editors, type checkers and plain unit tests work on it. Inside the
engine the same names are provided by :mod:`pycontract.runtime` (metered, storage-backed); here
they are small dict-backed stand-ins with the same observable behaviour:

* ``@public``, ``@view``, ``@constructor`` mark a function and return it unchanged
  (``entry_kind(fn)`` tells which).
* ``Map(default=None)``: ``m[k]``, ``m[k] = v``, ``del m[k]``, ``m.get(k, default)``,
  ``m.contains(k)``; keys are str, int, bool, bytes or tuples of these (``m[a, b]``); values are
  None, bool, int, str, bytes, lists and dicts (str keys) of these. Reads return a **copy**
  (as in the engine, where every read decodes stored bytes): a list read from a Map must be
  written back. Writing a value equal to the default removes the entry (so ``contains`` is
  False), exactly as the ledger does.
* ``Value(default=None)``: ``.get()`` (a copy) and ``.set(v)``.
* ``ctx``: ``sender``, ``origin``, ``this``, ``block_height``, ``block_time``. Tests set it with
  ``ctx.set(sender="bob", block_height=7)``, temporarily with
  ``with ctx.using(sender="bob"): ...``, and restore the defaults with ``ctx.reset()``.
* ``require(cond, message)`` / ``revert(message)`` raise :class:`pycontract.errors.Reverted`
  (a ``BaseException``: ``except Exception`` in a test does not catch it; use
  ``pytest.raises(Reverted)``).
* ``emit(name, **fields)`` appends an :class:`Event` to ``events`` (see ``emitted()``,
  ``clear_events()``).
* ``call(contract, function, **kwargs)`` calls a function of a contract registered with
  ``register_contract(name, module_or_mapping)``; the callee sees ``ctx.sender`` = the caller's
  ``ctx.this``. Without a registration it raises :class:`PlainCallError`.
* ``reset()`` restores ctx, clears events and registrations (handy in a pytest fixture).
"""

from __future__ import annotations

import os as _os
import sys as _sys

# A contract file named like a standard-library module (``token.py`` is the classic) sits in the
# folder Python puts first on sys.path, so ``import dataclasses`` -> inspect -> tokenize ->
# ``import token`` would load the contract, which imports pycontract, half-initialized. Import
# the standard modules this package needs with such folders left out of the path.
_STDLIB_NEEDED = ("token", "tokenize", "inspect", "dataclasses", "linecache", "contextlib",
                  "functools", "dis", "opcode", "ast", "enum", "keyword", "weakref")


def _stdlib_imports():
    stdlib = _os.path.dirname(_os.__file__)
    ahead = []  # the path entries searched before the standard library
    for p in _sys.path:
        if _os.path.abspath(p or ".") == stdlib:
            break
        ahead.append(p)
    shadowing = [p for p in ahead
                 if any(_os.path.isfile(_os.path.join(p or ".", f"{n}.py")) and n not in _sys.modules
                        for n in _STDLIB_NEEDED)]
    if not shadowing:
        import contextlib, dataclasses, functools, linecache  # noqa: E401,F401
        return
    saved = _sys.path[:]
    _sys.path[:] = [p for p in saved if p not in shadowing]
    try:
        import contextlib, dataclasses, functools, linecache  # noqa: E401,F401
    finally:
        _sys.path[:] = saved


_stdlib_imports()

import contextlib  # noqa: E402
import functools  # noqa: E402
import linecache  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from pycontract.errors import ContractAbort, Reverted, builtin_detail, contract_line  # noqa: E402

__all__ = [
    "public", "view", "constructor", "Map", "Value", "ctx", "require", "revert", "emit",
    "call", "Event", "PlainCallError", "entry_kind", "emitted", "clear_events",
    "register_contract", "unregister_contract", "reset", "events", "load_contract",
]

_KIND_ATTR = "__pycontract_entry__"


def _mark(kind):
    def decorator(fn):
        if _is_contract_file(fn):
            _vet_once(fn.__code__.co_filename)
            fn.__globals__.setdefault("str", _EngineStr)  # str(e) as the engine gives it
            fn = _entry(fn, kind)
        try:
            setattr(fn, _KIND_ATTR, kind)
        except (AttributeError, TypeError):  # pragma: no cover - builtins cannot be marked
            pass
        return fn

    decorator.__name__ = kind
    decorator.__doc__ = f"Mark a module-level function as a {kind} entry point."
    return decorator


public = _mark("public")
view = _mark("view")
constructor = _mark("constructor")


def entry_kind(fn) -> str | None:
    """"public", "view", "constructor" or None for an undecorated (private) function."""
    return getattr(fn, _KIND_ATTR, None)


# ----------------------------------------------------------------------------- values

_MISSING = object()


def _check_key(key, _depth=0):
    if isinstance(key, (str, int, bytes)):  # bool is an int
        return
    if isinstance(key, tuple) and _depth < 16:
        for k in key:
            _check_key(k, _depth + 1)
        return
    raise TypeError(
        f"Map keys must be str, int, bool, bytes or tuples of these, not {type(key).__name__}"
    )


def _copy_value(v, _depth=0):
    """A deep copy of a storable value; TypeError for anything the ledger cannot store."""
    if v is None or isinstance(v, (bool, int, str, bytes)):
        return v
    if _depth > 64:
        raise TypeError("stored values may not be nested more than 64 levels deep")
    if isinstance(v, list):
        return [_copy_value(x, _depth + 1) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise TypeError(f"dict keys in stored values must be str, not {type(k).__name__}")
            out[k] = _copy_value(x, _depth + 1)
        return out
    raise TypeError(
        "stored values must be None, bool, int, str, bytes, or lists / dicts (str keys) of "
        f"these, not {type(v).__name__}"
    )


def _result_form(v, _depth=0):
    """A returned value as the engine hands it back: tuples (at any depth) become lists."""
    if _depth > 64:
        return v
    if isinstance(v, (tuple, list)):
        return [_result_form(x, _depth + 1) for x in v]
    if isinstance(v, dict):
        return {k: _result_form(x, _depth + 1) for k, x in v.items()}
    return v


def _canon(v):
    """A comparison key that, like the canonical encoding, tells bool from int."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, list):
        return ("list", tuple(_canon(x) for x in v))
    if isinstance(v, dict):
        return ("dict", tuple(sorted((k, _canon(x)) for k, x in v.items())))
    return (type(v).__name__, v)


class Map:
    """Plain-Python stand-in for a contract ``Map`` (dict-backed)."""

    def __init__(self, default=None):
        self._default = _copy_value(default)
        self._data = {}

    def __getitem__(self, key):
        _check_key(key)
        if key in self._data:
            return _copy_value(self._data[key])
        return _copy_value(self._default)

    def __setitem__(self, key, value):
        _storable_key(key)
        _journal(self, key)
        value = _storable(value)
        if _canon(value) == _canon(self._default):
            self._data.pop(key, None)
        else:
            self._data[key] = value

    def __delitem__(self, key):
        _storable_key(key)
        _journal(self, key)
        self._data.pop(key, None)

    def get(self, key, default=_MISSING):
        _check_key(key)
        if key in self._data:
            return _copy_value(self._data[key])
        if default is _MISSING:
            return _copy_value(self._default)
        return default

    def contains(self, key) -> bool:
        """True when an entry other than the default is stored at ``key``."""
        _check_key(key)
        return key in self._data

    def __contains__(self, key):
        raise TypeError("use m.contains(key) to test a Map key")

    def __iter__(self):
        raise TypeError("a Map cannot be iterated; keep a list of keys in a Value if needed")

    def __len__(self):
        raise TypeError("a Map has no length; count entries in a Value if needed")

    def __repr__(self):
        return f"Map(default={self._default!r}, entries={len(self._data)})"


class Value:
    """Plain-Python stand-in for a contract ``Value``."""

    def __init__(self, default=None):
        self._default = _copy_value(default)
        self._value = _copy_value(default)

    def get(self):
        return _copy_value(self._value)

    def set(self, value) -> None:
        _journal(self, _MISSING)
        self._value = _storable(value)

    def __repr__(self):
        return f"Value({self._value!r})"


# ----------------------------------------------------------------------------- context

_CTX_DEFAULTS = {
    "sender": "alice",
    "origin": "alice",
    "this": "contract",
    "block_height": 1,
    "block_time": 1_700_000_000,
}


class Context:
    """``ctx`` in plain mode: a settable record of the call context."""

    __slots__ = tuple(_CTX_DEFAULTS)

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Restore the defaults (sender/origin "alice", this "contract", height 1)."""
        for k, v in _CTX_DEFAULTS.items():
            object.__setattr__(self, k, v)

    def set(self, **fields) -> None:
        """Set any of sender, origin, this, block_height, block_time."""
        for k, v in fields.items():
            if k not in _CTX_DEFAULTS:
                raise TypeError(f"ctx has no field {k!r}; fields: {', '.join(_CTX_DEFAULTS)}")
            object.__setattr__(self, k, v)

    @contextlib.contextmanager
    def using(self, **fields):
        """Temporarily set fields: ``with ctx.using(sender="bob"): token.transfer(...)``."""
        saved = {k: getattr(self, k) for k in _CTX_DEFAULTS}
        self.set(**fields)
        try:
            yield self
        finally:
            self.set(**saved)

    def __setattr__(self, name, value):
        # contracts never assign ctx fields; tests use ctx.set(...)
        raise AttributeError("use ctx.set(name=value) to change the plain-mode context")

    def __repr__(self):
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in _CTX_DEFAULTS)
        return f"Context({inner})"


ctx = Context()


# ----------------------------------------------------------------------------- control

def require(cond, message="requirement failed") -> None:
    """Revert with ``message`` unless ``cond`` is true."""
    if not cond:
        raise Reverted(str(message))


def revert(message="reverted"):
    """Stop and revert the transaction with ``message``."""
    raise Reverted(str(message))


@dataclass(frozen=True)
class Event:
    contract: str
    name: str
    fields: dict = field(default_factory=dict)


#: events emitted in plain mode, oldest first
events: list[Event] = []


def emit(name, /, **fields) -> None:
    """Record an event (appended to ``pycontract.api.events``). ``name`` is positional-only,
    so a field may be called ``name`` too."""
    if not isinstance(name, str):
        raise TypeError("event names must be str")
    events.append(Event(ctx.this, name, _storable(fields, "event fields")))


def emitted(name: str | None = None) -> list[Event]:
    """The recorded events (optionally only those called ``name``)."""
    return [e for e in events if name is None or e.name == name]


def clear_events() -> None:
    events.clear()


class PlainCallError(RuntimeError):
    """``call()`` in plain mode reached a contract that no test registered."""


_registry: dict[str, object] = {}


def register_contract(name: str, target) -> None:
    """Make ``call(name, fn, ...)`` reach ``target`` (a module or a mapping of functions)."""
    _registry[name] = target


def unregister_contract(name: str) -> None:
    _registry.pop(name, None)


def call(contract, function, /, **kwargs):
    """Call ``function`` of the registered ``contract`` with ``ctx.sender`` = this contract
    (positional-only, so the callee's parameters may be called ``contract``/``function``)."""
    target = _registry.get(contract)
    where = f"call to {contract}.{function}"
    if _tx is not None and _loaded and (target is None or _entry_of(target, function) is None):
        # contracts loaded like a chain (load_contract): a missing one is the engine's revert
        raise Reverted(f"{where}: no such contract" if target is None
                       else f"{where}: no public or view function of that name")
    if target is None:
        raise PlainCallError(
            f"call({contract!r}, {function!r}): in plain Python mode no contract named "
            f"{contract!r} is registered; use pycontract.api.register_contract({contract!r}, "
            "module) in the test, or run the contract in a Chain"
        )
    fn = _entry_of(target, function)
    if fn is None:
        raise PlainCallError(f"contract {contract!r} has no public or view function {function!r}")
    if _tx is not None:
        kwargs = _storable(kwargs, "call arguments")  # they cross as a copy
        _tx.crossing = True
    with ctx.using(sender=ctx.this, this=contract):
        try:
            return fn(**kwargs)
        except PlainCallError:
            raise
        except BaseException as e:  # noqa: BLE001 - as in the engine: a failure in the callee
            # ends the whole transaction; a BaseException no contract code can catch
            raise _as_revert(e, contract, getattr(fn, "__wrapped__", fn)) from None
        finally:
            if _tx is not None:
                _tx.crossing = False  # a callee without a wrapper did not consume the mark


def _entry_of(target, function):
    fn = target.get(function) if isinstance(target, dict) else getattr(target, function, None)
    return fn if fn is not None and entry_kind(fn) in ("public", "view") else None


def reset() -> None:
    """Restore ``ctx`` defaults, clear events and contract registrations."""
    global _tx
    ctx.reset()
    events.clear()
    _registry.clear()
    _loaded.clear()
    _tx = None


# ----------------------------------------------------------------------------- engine semantics
#
# A contract loaded from a file (``import coin``, ``load_contract("coin.py")``) behaves like the
# engine for everything both can run:
#
# * it is vetted when its first entry point is defined: what deploy refuses (dataclasses, sets,
#   lambdas, floats ...) fails the import with the same FILE:LINE:COL problems;
# * calling an entry point from outside is a transaction: if it fails, every storage write and
#   event it made (in any contract) is undone, and the error is a ``Reverted`` whose text is the
#   receipt's (``"coin:20: insufficient balance"``, ``"coin:9: AssertionError: no such token"``,
#   ``"coin:12: ZeroDivisionError"``);
# * a view cannot write storage;
# * a failure inside ``call(...)`` ends the whole transaction: it arrives in the caller as a
#   ``Reverted`` (a BaseException), so ``except ValueError`` there cannot catch it.
#
# Functions whose code has no source file (exec'd strings) are only marked, as before.

_vetted: dict[str, int] = {}
_loaded: set[str] = set()  # names registered by load_contract


def _storable(v, what="value"):
    """A copy of a value for storage; inside a transaction an unstorable one reverts with the
    engine's text (``value not storable: value: tuple is not storable ...``)."""
    try:
        return _copy_value(v)
    except TypeError:
        if _tx is None:
            raise
        from ledger_store import codec
        from ledger_store.errors import EncodingError

        try:
            codec.encode_value(v)
        except EncodingError as e:
            raise Reverted(f"{what} not storable: {e}") from None
        raise


def _storable_key(k):
    try:
        _check_key(k)
    except TypeError:
        if _tx is None:
            raise
        from ledger_store import codec
        from ledger_store.errors import EncodingError

        try:
            codec.encode_key(("", k))
        except EncodingError as e:
            raise Reverted(f"key not storable: {e}") from None
        raise


def _is_contract_file(fn) -> bool:
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    f = code.co_filename
    return f.endswith(".py") and _os.path.isfile(f)


def _vet_once(path: str) -> None:
    """Vet a contract file once per modification (raises VetError, FILE:LINE:COL problems)."""
    stamp = _os.stat(path).st_mtime_ns
    if _vetted.get(path) == stamp:
        return
    from pycontract.vetting import vet_file

    vet_file(path)
    _vetted[path] = stamp


class _PlainTx:
    """The plain-mode transaction in progress: the undo journal and the call frames."""

    __slots__ = ("journal", "n_events", "readonly", "crossing")

    def __init__(self, readonly: bool):
        self.journal: list = []
        self.n_events = len(events)
        self.readonly = [readonly]
        self.crossing = False


_tx: _PlainTx | None = None


def _journal(obj, key) -> None:
    t = _tx
    if t is None:
        return
    if t.readonly[-1]:
        raise Reverted("a view cannot write storage")
    if key is _MISSING:
        t.journal.append((obj, _MISSING, obj._value))
    else:
        t.journal.append((obj, key, obj._data.get(key, _MISSING)))


def _undo(t: _PlainTx) -> None:
    for obj, key, old in reversed(t.journal):
        if key is _MISSING:
            obj._value = old
        elif old is _MISSING:
            obj._data.pop(key, None)
        else:
            obj._data[key] = old
    del events[t.n_events:]


def _def_line(fn) -> int:
    """The line of ``def`` (what the engine reports), not of the first decorator."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return 0
    line = code.co_firstlineno
    for i in range(line, line + 50):
        text = linecache.getline(code.co_filename, i).lstrip()
        if text.startswith("def "):
            return i
    return line


def _own(e: BaseException, ns) -> bool:
    """Whether contract code raised ``e`` itself (``raise``/``assert`` in a contract file)."""
    tb, last = e.__traceback__, None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    in_contract = last is not None and (
        last.tb_frame.f_globals is ns if ns is not None
        else last.tb_frame.f_code.co_filename in _vetted)
    return in_contract and linecache.getline(
        last.tb_frame.f_code.co_filename, last.tb_lineno).lstrip().startswith(("raise", "assert"))


def _describe(e: BaseException, ns=None) -> str:
    """``Name: message`` when contract code raised it with a message, else ``Name`` (the
    engine never shows an interpreter's own message: it differs between versions). ``ns``:
    the contract's globals (None: any vetted contract file)."""
    name = type(e).__name__
    own = _own(e, ns)
    if not own:
        detail = builtin_detail(e)  # the missing key / attribute, as the engine writes it
        return f"{name}: {detail}" if detail else name
    if not e.args:
        return name
    msg = e.args[0] if len(e.args) == 1 else e.args
    return f"{name}: {msg}"


class _StrType(type):
    """``str`` in a contract file: ``isinstance(x, str)`` and the str methods as usual."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _builtin_str)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _builtin_str)

    def __call__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and isinstance(args[0], BaseException):
            return _exc_str(args[0])
        return _builtin_str(*args, **kwargs)


def _exc_str(e: BaseException) -> str:
    """``str(e)`` as the engine gives it: CPython's text for an exception the contract raised
    (its message), the key / attribute or else the type name for the interpreter's own."""
    if _own(e, None):
        return _builtin_str(e)
    return builtin_detail(e) or type(e).__name__


_builtin_str = str


class _EngineStr(str, metaclass=_StrType):
    """``str(e)`` of an exception reads as in the engine: ``"custom message"`` (CPython's
    text) for one the contract raised, the key / attribute or else the type name
    (``"ZeroDivisionError"``) for the interpreter's own (whose text differs between Python
    versions)."""


def _as_revert(e: BaseException, name: str, fn) -> BaseException:
    """The engine's error for ``e`` escaping contract ``name``: ``NAME:LINE: reason``."""
    if isinstance(e, ContractAbort) and getattr(e, "_pc_formatted", False):
        return e
    if isinstance(e, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        return e
    ns = getattr(fn, "__globals__", None)
    line = contract_line(e.__traceback__, ns) or _def_line(fn)
    if isinstance(e, ContractAbort):
        reason = e.message
    elif isinstance(e, RecursionError):
        line, reason = _def_line(fn), "RecursionError"
    else:
        reason = _describe(e, ns)
    r = type(e)(f"{name}:{line}: {reason}") if isinstance(e, ContractAbort) else \
        Reverted(f"{name}:{line}: {reason}")
    r._pc_formatted = True
    return r


def _entry(fn, kind):
    """Wrap an entry point of a contract file with the engine's transaction semantics."""

    @functools.wraps(fn)
    def entry(*args, **kwargs):
        global _tx
        t = _tx
        if t is not None and not t.crossing:
            return fn(*args, **kwargs)  # an ordinary call inside the running contract
        if t is not None:  # entered through call(): a frame of its own
            t.crossing = False
            t.readonly.append(t.readonly[-1] or kind == "view")
            try:
                return _copy_value(_result_form(fn(*args, **kwargs)))
            finally:
                t.readonly.pop()
        name = fn.__globals__.get("__pycontract_name__")
        t = _tx = _PlainTx(kind == "view")
        try:
            if name is not None:
                with ctx.using(this=name):
                    result = fn(*args, **kwargs)
            else:
                name = ctx.this
                result = fn(*args, **kwargs)
            try:
                return _copy_value(_result_form(result))
            except TypeError:
                raise Reverted(f"{fn.__name__} returned a non-storable "
                               f"{type(result).__name__}") from None
        except PlainCallError:
            _undo(t)
            raise
        except BaseException as e:  # noqa: BLE001 - every failure reverts, as in the engine
            _undo(t)
            raise _as_revert(e, name, fn) from None
        finally:
            _tx = None

    entry.__wrapped__ = fn
    return entry


def load_contract(path, name: str | None = None, *, register: bool = True):
    """Load a contract file as a fresh plain-Python module named ``name`` (default: the
    file's stem): vetted, ``ctx.this`` = ``name`` inside its entry points, and (``register``)
    reachable by ``call(name, ...)``. The file never becomes an importable module, so a file
    called ``token.py`` shadows nothing."""
    import importlib.util

    p = _os.path.abspath(_os.fspath(path))
    name = name or _os.path.splitext(_os.path.basename(p))[0]
    _vet_once(p)
    spec = importlib.util.spec_from_file_location(f"_pycontract_plain_{name}", p)
    module = importlib.util.module_from_spec(spec)
    module.__pycontract_name__ = name
    spec.loader.exec_module(module)
    if register:
        register_contract(name, module)
        _loaded.add(name)
    return module
