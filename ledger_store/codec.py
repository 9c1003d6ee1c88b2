"""Canonical encoding of storage keys and values (deterministic CBOR, RFC 8949 subset).

One byte string per value, the same on every CPython version and machine:

* ``None`` -> CBOR null, ``True``/``False`` -> CBOR true/false (never the integers 1/0),
  ``int`` -> CBOR integer in its shortest form; beyond 64 bits a bignum (tag 2 / tag 3) with
  no leading zero bytes, ``str`` -> UTF-8 text string, ``bytes`` -> byte string,
  ``list`` (and tuple, for keys and digests) -> definite-length array,
  ``dict`` -> definite-length map with keys sorted by (length of encoded key, encoded bytes)
  (cbor2's ``canonical=True`` order, the "length-first" canonical order of RFC 7049 §3.9).

Only the exact built-in types above are accepted (no subclasses, floats, sets, tuples inside
values, non-str dict keys); anything else raises :class:`EncodingError` naming the type and the
path inside the value, e.g. ``value['a'][2]: float is not storable``.

Nesting is limited to :data:`MAX_DEPTH` containers and checked iteratively *before* cbor2 runs,
so deep or cyclic structures never reach cbor2's recursion. Decoding is defensive: tags other
than the bignum tags are refused, indefinite lengths and duplicate keys are refused, and the
bytes must re-encode to exactly themselves (so non-canonical or trailing bytes are refused).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import cbor2

from .errors import EncodingError

__all__ = [
    "MAX_DEPTH",
    "encode_value",
    "decode_value",
    "encode_key",
    "decode_key",
    "encode_any",
    "digest",
    "decode_any",
    "check_value_bytes",
    "check_key_bytes",
    "to_jsonable",
    "to_json",
    "to_text",
    "key_text",
    "array_head",
    "nests_within",
]

#: maximum number of nested containers (a flat list has depth 1)
MAX_DEPTH = 64

_VALUE, _KEY, _ANY = 0, 1, 2
_SCALARS_VALUE = (type(None), bool, int, str, bytes)
_SCALARS_KEY = (bool, int, str, bytes)


def _fmt_path(root: str, path: tuple) -> str:
    parts = [f"[{p!r}]" for p in path]
    if len(parts) > 8:  # keep messages for deep paths short
        parts = parts[:4] + [f"...({len(parts) - 6} more)..."] + parts[-2:]
    return root + "".join(parts)


def _check_str(s: str, root: str, path: tuple) -> None:
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            raise EncodingError(
                f"{_fmt_path(root, path)}: str contains a lone surrogate and is not valid UTF-8"
            ) from None


def _validate(obj: Any, mode: int, root: str) -> None:
    """Iteratively check that ``obj`` is encodable in ``mode``; raise EncodingError otherwise."""
    # stack of (object, path, depth, is_dict_key)
    stack: list[tuple[Any, tuple, int, bool]] = [(obj, (), 0, mode == _KEY)]
    while stack:
        o, path, depth, as_key = stack.pop()
        t = type(o)
        if as_key:
            if t is str:
                _check_str(o, root, path)
                continue
            if t is int or t is bool or t is bytes:
                continue
            if t is tuple:
                if depth >= MAX_DEPTH:
                    raise EncodingError(
                        f"{_fmt_path(root, path)}: nested more than {MAX_DEPTH} levels deep"
                    )
                for i, item in enumerate(o):
                    stack.append((item, path + (i,), depth + 1, True))
                continue
            if t is list and mode == _KEY:
                raise EncodingError(
                    f"{_fmt_path(root, path)}: list is not a valid key (use a tuple)"
                )
            raise EncodingError(
                f"{_fmt_path(root, path)}: {t.__name__} is not a valid key "
                "(keys are str, int, bool, bytes or tuples of these)"
            )
        # value position
        if o is None or t is bool or t is int or t is bytes:
            continue
        if t is str:
            _check_str(o, root, path)
            continue
        if t is list or (t is tuple and mode == _ANY):
            if depth >= MAX_DEPTH:
                raise EncodingError(
                    f"{_fmt_path(root, path)}: nested more than {MAX_DEPTH} levels deep"
                )
            for i, item in enumerate(o):
                stack.append((item, path + (i,), depth + 1, False))
            continue
        if t is dict:
            if depth >= MAX_DEPTH:
                raise EncodingError(
                    f"{_fmt_path(root, path)}: nested more than {MAX_DEPTH} levels deep"
                )
            for k, v in o.items():
                if type(k) is not str:
                    if mode == _ANY:
                        stack.append((k, path, depth + 1, True))
                    else:
                        raise EncodingError(
                            f"{_fmt_path(root, path)}: dict key {type(k).__name__} "
                            "is not storable (dict keys must be str)"
                        )
                else:
                    _check_str(k, root, path)
                stack.append((v, path + (k,), depth + 1, False))
            continue
        if t is tuple:
            raise EncodingError(
                f"{_fmt_path(root, path)}: tuple is not storable as a value (store a list instead)"
            )
        if t is float:
            raise EncodingError(
                f"{_fmt_path(root, path)}: float is not storable (use int, e.g. fixed-point)"
            )
        raise EncodingError(f"{_fmt_path(root, path)}: {t.__name__} is not storable")


def _str_ok(s: str) -> bool:
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _key_ok(o: Any, depth: int) -> bool:
    """Fast check of a key position (no paths kept): True iff :func:`_validate` would accept it."""
    t = type(o)
    if t is str:
        return o.isascii() or _str_ok(o)
    if t is int or t is bytes or t is bool:
        return True
    if t is tuple:
        if depth >= MAX_DEPTH:
            return False
        d = depth + 1
        for item in o:
            if not _key_ok(item, d):
                return False
        return True
    return False


def _value_ok(o: Any, depth: int, any_mode: bool) -> bool:
    """Fast check of a value position; recursion is bounded by MAX_DEPTH (a container at depth
    MAX_DEPTH fails the check), so deep or cyclic input returns False, never RecursionError."""
    t = type(o)
    if t is str:
        return o.isascii() or _str_ok(o)
    if t is int or t is bytes or t is bool or o is None:
        return True
    if t is list or (t is tuple and any_mode):
        if depth >= MAX_DEPTH:
            return False
        d = depth + 1
        for item in o:
            if not _value_ok(item, d, any_mode):
                return False
        return True
    if t is dict:
        if depth >= MAX_DEPTH:
            return False
        d = depth + 1
        for k, v in o.items():
            if type(k) is str:
                if not (k.isascii() or _str_ok(k)):
                    return False
            elif not (any_mode and _key_ok(k, d)):
                return False
            if not _value_ok(v, d, any_mode):
                return False
        return True
    return False


def _check(obj: Any, mode: int, root: str) -> None:
    """Validate ``obj``: the fast path-free check, and on any doubt the iterative
    :func:`_validate`, which is authoritative and produces the error message."""
    ok = _key_ok(obj, 0) if mode == _KEY else _value_ok(obj, 0, mode == _ANY)
    if not ok:
        _validate(obj, mode, root)


def _dumps(obj: Any) -> bytes:
    try:
        return cbor2.dumps(obj, canonical=True)
    except (cbor2.CBORError, ValueError, TypeError, RecursionError) as e:  # pragma: no cover
        raise EncodingError(f"cannot encode {type(obj).__name__}: {e}") from None


def encode_value(v: Any) -> bytes:
    """Canonical bytes of a storable value (None, bool, int, str, bytes, list, dict[str, ...])."""
    t = type(v)
    if t is int or t is str or t is bytes or v is None or t is bool:
        if t is str:
            _check_str(v, "value", ())
        return cbor2.dumps(v, canonical=True)
    if t is dict:
        # a flat map of str keys to scalars (call arguments, event fields): checked here in
        # one loop; anything else (nested, refused) goes through _check
        for k, x in v.items():
            if type(k) is not str or not (k.isascii() or _str_ok(k)):
                break
            tx = type(x)
            if tx is str:
                if not (x.isascii() or _str_ok(x)):
                    break
            elif not (tx is int or x is None or tx is bytes or tx is bool):
                break
        else:
            return _dumps(v)
    _check(v, _VALUE, "value")
    return _dumps(v)


#: encode_value of short str and of int, remembered: a block repeats the same senders,
#: contract and function names, kinds, statuses and gas limits in every transaction's hash,
#: row and receipt digest (the encoding is a pure function, so a remembered one is the same)
_SMALL_STR: dict = {}
_SMALL_INT: dict = {}  # apart from the str memo: 1 and "1" never meet; bools never enter
_SMALL_MAX = 8192


def encode_small(v: Any) -> bytes:
    """``encode_value(v)`` for a str of up to 64 characters or an int, from a bounded memo;
    any other value is encoded as encode_value does."""
    t = type(v)
    if t is str:
        if len(v) > 64:
            return encode_value(v)
        memo = _SMALL_STR
    elif t is int:
        memo = _SMALL_INT
    else:
        return encode_value(v)
    b = memo.get(v)
    if b is None:
        b = encode_value(v)
        if len(memo) >= _SMALL_MAX:
            memo.clear()
        memo[v] = b
    return b


def encode_key(k: Any) -> bytes:
    """Canonical bytes of a storage key (str, int, bool, bytes, tuples of these, nested)."""
    t = type(k)
    if t is str or t is int or t is bytes or t is bool:
        if t is str:
            _check_str(k, "key", ())
        return cbor2.dumps(k, canonical=True)
    if t is tuple:
        # a flat tuple of scalars (every slot key, ("balances", owner)): checked here in one
        # loop; anything else (nested, refused) goes through _check
        for x in k:
            tx = type(x)
            if tx is str:
                if not (x.isascii() or _str_ok(x)):
                    break
            elif not (tx is int or tx is bytes or tx is bool):
                break
        else:
            return _dumps(k)
    _check(k, _KEY, "key")
    return _dumps(k)


def encode_any(obj: Any) -> bytes:
    """Canonical bytes of any encodable object: values, plus tuples (as arrays) anywhere and
    dict keys that are valid storage keys. Used for hashes of transactions and blocks."""
    _check(obj, _ANY, "obj")
    return _dumps(obj)


def array_head(n: int) -> bytes:
    """The canonical (shortest) CBOR head of a definite-length array of ``n`` items: the
    canonical encoding of a list is this head followed by the canonical encodings of its
    items, so ``array_head(len(xs)) + b"".join(encode_any(x) for x in xs) == encode_any(xs)``
    (the items must also fit the depth bound inside the list: see :func:`nests_within`)."""
    if n < 24:
        return bytes((0x80 | n,))
    if n < 0x100:
        return bytes((0x98, n))
    if n < 0x10000:
        return b"\x99" + n.to_bytes(2, "big")
    if n < 0x100000000:
        return b"\x9a" + n.to_bytes(4, "big")
    return b"\x9b" + n.to_bytes(8, "big")


def nests_within(obj: Any, encoded: bytes, depth: int) -> bool:
    """Whether ``obj`` (already accepted by :func:`encode_any`, ``encoded`` being its bytes)
    is still accepted when it sits ``depth`` containers deep inside a larger object. Each
    nested container takes at least one byte, so short encodings need no walk."""
    if len(encoded) + depth <= MAX_DEPTH:
        return True
    return _value_ok(obj, depth, True)


def digest(obj: Any) -> str:
    """sha256 hex digest of ``encode_any(obj)``. Lists and tuples hash identically."""
    return hashlib.sha256(encode_any(obj)).hexdigest()


# ---------------------------------------------------------------- decoding


def tag_refusal(error: type, message: str, allowed: tuple = ()):
    """``(semantic_decoders, tag_hook)`` for ``cbor2.loads`` that refuse every CBOR tag except
    ``allowed``, raising ``error(message.format(tag_number))``. cbor2 decodes many tags into
    rich Python objects (datetimes, sets, regexes, shared references): every tag it could know
    about is overridden, and any other reaches the hook. Also used for the worker protocol."""

    def refuse(tag_number: int):
        def refuse_it(*_a):
            raise error(message.format(tag_number))

        return refuse_it

    semantic = {t: refuse(t) for t in range(0, 1100) if t not in allowed}
    semantic.update({t: refuse(t) for t in (55799, 55800, 55801)})

    def tag_hook(_decoder, tag):
        raise error(message.format(tag.tag))

    return semantic, tag_hook


# only the bignum tags 2 and 3 are decoded
_SEMANTIC, _tag_hook = tag_refusal(EncodingError, "CBOR tag {} is not allowed", allowed=(2, 3))


def _loads(b: bytes, what: str) -> Any:
    if type(b) is not bytes:
        if isinstance(b, (bytearray, memoryview)):
            b = bytes(b)
        else:
            raise EncodingError(f"{what} must be bytes, not {type(b).__name__}")
    try:
        obj = cbor2.loads(
            b,
            semantic_decoders=_SEMANTIC,
            tag_hook=_tag_hook,
            max_depth=MAX_DEPTH + 2,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
    except EncodingError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure inside cbor2 means "not valid bytes"
        raise EncodingError(f"{what} bytes are not valid canonical CBOR: {e}") from None
    return obj


def _to_key(obj: Any) -> Any:
    """Convert decoded arrays to tuples (iteratively), validating key types."""
    t = type(obj)
    if t is str or t is int or t is bytes or t is bool:
        return obj
    if t is not list:
        _validate(obj, _KEY, "key")  # raises with a clear message
    # iterative list -> tuple conversion, post-order
    root_holder: list = [None]
    # frames: (source list, output list, parent output list, index in parent)
    stack: list[tuple[list, list, list, int]] = [(obj, [], root_holder, 0)]
    out_stack: list = []
    while stack:
        src, out, parent, idx = stack[-1]
        if len(out) < len(src):
            item = src[len(out)]
            it = type(item)
            if it is list:
                if len(stack) >= MAX_DEPTH:
                    raise EncodingError(f"key: nested more than {MAX_DEPTH} levels deep")
                out.append(None)
                stack.append((item, [], out, len(out) - 1))
            elif it is str or it is int or it is bytes or it is bool:
                out.append(item)
            else:
                raise EncodingError(f"key: {it.__name__} is not a valid key element")
        else:
            stack.pop()
            parent[idx] = tuple(out)
    del out_stack
    return root_holder[0]


def _check_canonical(obj: Any, b: bytes, what: str) -> None:
    try:
        again = cbor2.dumps(obj, canonical=True)
    except Exception as e:  # noqa: BLE001
        raise EncodingError(f"{what} bytes do not re-encode: {e}") from None
    if again != b:
        raise EncodingError(f"{what} bytes are not in canonical form")


def _flat_canonical(obj: Any, b: bytes) -> bool:
    """Whether ``obj`` (just decoded from ``b``) is a flat list or a flat map with str keys
    whose items are all scalars (None, bool, int, str, bytes) and ``b`` is its canonical
    encoding; False means "not shown", never "not canonical" (the caller then runs the full
    check, which also words the error). The common shapes (slot keys, event fields, small
    records) cost one plain re-encoding instead of cbor2's canonical one, which sorts map keys
    by their encodings: cbor2 writes ints, lengths and heads in their shortest form in either
    mode, so for items without maps the two encodings are the same bytes, and a map is
    canonical iff its keys come in canonical order, for str keys the order of (UTF-8 length,
    UTF-8 bytes), which is checked here as it was decoded (dicts keep the input order)."""
    t = type(obj)
    if t is list:
        for x in obj:
            tx = type(x)
            if not (tx is str or tx is int or tx is bytes or tx is bool or x is None):
                return False
    elif t is dict:
        prev_n, prev = -1, b""
        for k, x in obj.items():
            if type(k) is not str:
                return False
            tx = type(x)
            if not (tx is str or tx is int or tx is bytes or tx is bool or x is None):
                return False
            kb = k.encode("utf-8")
            n = len(kb)
            if n < prev_n or (n == prev_n and kb <= prev):
                return False
            prev_n, prev = n, kb
    else:
        return False
    try:
        return cbor2.dumps(obj) == b
    except Exception:  # noqa: BLE001 - the full check decides and words the error
        return False


def decode_value(b: bytes) -> Any:
    """Inverse of encode_value. Refuses anything encode_value would not have produced."""
    obj = _loads(b, "value")
    t = type(obj)
    if not (obj is None or t is bool or t is int or t is str or t is bytes):
        if (t is dict or t is list) and type(b) is bytes and _flat_canonical(obj, b):
            return obj
        _check(obj, _VALUE, "value")
    _check_canonical(obj, bytes(b), "value")
    return obj


def decode_key(b: bytes) -> Any:
    """Inverse of encode_key: arrays come back as tuples."""
    obj = _loads(b, "key")
    if type(obj) is list and type(b) is bytes and None not in obj and _flat_canonical(obj, b):
        return tuple(obj)  # a flat array of scalars (slot keys): no nested arrays to convert
    key = _to_key(obj)
    _check_canonical(key, bytes(b), "key")
    return key


def check_value_bytes(b: bytes) -> None:
    """Raise EncodingError unless ``b`` is exactly what encode_value produces for some value."""
    decode_value(b)


def check_key_bytes(b: bytes) -> None:
    """Raise EncodingError unless ``b`` is exactly what encode_key produces for some key."""
    decode_key(b)


# ---------------------------------------------------------------- human-readable rendering

_BIG_INT_BITS = 4096  # decimal conversion of larger ints is slow and limited by CPython


def _json_scalar(o: Any) -> Any:
    t = type(o)
    if t is bytes:
        return "0x" + o.hex()
    if t is int and o.bit_length() > _BIG_INT_BITS:
        return hex(o)  # e.g. "0x1f..." or "-0x1f..."
    return o


def to_jsonable(obj: Any) -> Any:
    """A JSON-able rendering for people: bytes as "0x<hex>", tuples as lists, huge ints as hex
    strings. Lossy (not for round trips); nesting is bounded by the encoder's depth limit."""
    t = type(obj)
    if t is not list and t is not tuple and t is not dict:
        return _json_scalar(obj)
    root: list = [None]
    stack: list[tuple[Any, Any, Any]] = [(obj, root, 0)]
    while stack:
        src, parent, key = stack.pop()
        st = type(src)
        if st is list or st is tuple:
            out: Any = [None] * len(src)
            parent[key] = out
            for i, item in enumerate(src):
                stack.append((item, out, i))
        elif st is dict:
            out = {}
            parent[key] = out
            for k, v in src.items():
                kk = k if type(k) is str else json.dumps(to_jsonable(k))
                out[kk] = None
                stack.append((v, out, kk))
        else:
            parent[key] = _json_scalar(src)
    return root[0]


try:
    from _json import encode_basestring as _json_str  # what json.dumps uses (ensure_ascii=False)
except ImportError:  # pragma: no cover - pure-Python fallback of the same function
    from json.encoder import py_encode_basestring as _json_str


def _json_scalar_text(o: Any) -> str | None:
    """JSON text of a scalar exactly as to_json renders it, or None for anything else."""
    t = type(o)
    if t is str:
        return _json_str(o)
    if t is int:
        return str(o) if o.bit_length() <= _BIG_INT_BITS else _json_str(hex(o))
    if t is bytes:
        return '"0x' + o.hex() + '"'
    if o is None:
        return "null"
    if t is bool:
        return "true" if o else "false"
    return None


def to_json(obj: Any) -> str:
    """Compact JSON text of to_jsonable(obj), keys sorted."""
    # fast paths (scalars, flat arrays of scalars: most keys and values), same text as below
    text = _json_scalar_text(obj)
    if text is not None:
        return text
    t = type(obj)
    if t is tuple or t is list:
        parts = []
        for item in obj:
            text = _json_scalar_text(item)
            if text is None:
                break
            parts.append(text)
        else:
            return "[" + ",".join(parts) + "]"
    elif t is dict:
        # flat maps of str keys to scalars (event fields, call arguments): json.dumps sorts
        # str keys by code point, exactly as sorted() does
        if all(type(k) is str for k in obj):
            parts = []
            for k in sorted(obj):
                text = _json_scalar_text(obj[k])
                if text is None:
                    break
                parts.append(_json_str(k) + ":" + text)
            else:
                return "{" + ",".join(parts) + "}"
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_text(obj: Any) -> str:
    """A str as itself, anything else as its :func:`to_json` text: one label for a map key or
    an event attribute (e.g. 'alice', '["alice","bob"]', '5')."""
    return obj if type(obj) is str else to_json(obj)


def key_text(key_bytes: bytes) -> str:
    """Readable text of an encoded key, e.g. '["balances","alice"]'; hex if not decodable."""
    try:
        return to_json(decode_key(key_bytes))
    except EncodingError:
        return "0x" + bytes(key_bytes).hex()


def decode_any(b: bytes) -> Any:
    """Inverse of encode_any (arrays come back as lists; map keys that were arrays as tuples).
    Refuses tags other than bignums, floats and other non-encodable items, and non-canonical
    bytes."""
    obj = _loads(b, "data")
    _check(obj, _ANY, "data")
    _check_canonical(obj, bytes(b), "data")
    return obj
