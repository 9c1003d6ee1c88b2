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

import contextlib
from dataclasses import dataclass, field

from pycontract.errors import Reverted

__all__ = [
    "public", "view", "constructor", "Map", "Value", "ctx", "require", "revert", "emit",
    "call", "Event", "PlainCallError", "entry_kind", "emitted", "clear_events",
    "register_contract", "unregister_contract", "reset", "events",
]

_KIND_ATTR = "__pycontract_entry__"


def _mark(kind):
    def decorator(fn):
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
        _check_key(key)
        value = _copy_value(value)
        if _canon(value) == _canon(self._default):
            self._data.pop(key, None)
        else:
            self._data[key] = value

    def __delitem__(self, key):
        _check_key(key)
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
        self._value = _copy_value(value)

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


def emit(name, **fields) -> None:
    """Record an event (appended to ``pycontract.api.events``)."""
    if not isinstance(name, str):
        raise TypeError("event names must be str")
    events.append(Event(ctx.this, name, {k: _copy_value(v) for k, v in fields.items()}))


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


def call(contract, function, **kwargs):
    """Call ``function`` of the registered ``contract`` with ``ctx.sender`` = this contract."""
    target = _registry.get(contract)
    if target is None:
        raise PlainCallError(
            f"call({contract!r}, {function!r}): in plain Python mode no contract named "
            f"{contract!r} is registered; use pycontract.api.register_contract({contract!r}, "
            "module) in the test, or run the contract in a Chain"
        )
    fn = target.get(function) if isinstance(target, dict) else getattr(target, function, None)
    if fn is None or entry_kind(fn) not in ("public", "view"):
        raise PlainCallError(f"contract {contract!r} has no public or view function {function!r}")
    with ctx.using(sender=ctx.this, this=contract):
        return fn(**kwargs)


def reset() -> None:
    """Restore ``ctx`` defaults, clear events and contract registrations."""
    ctx.reset()
    events.clear()
    _registry.clear()
