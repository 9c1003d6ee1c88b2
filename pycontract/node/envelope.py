"""The canonical signed transaction envelope of pycontract's network mode.

One transaction has exactly one byte encoding, so its hash (``sha256(raw)``, the hash CometBFT
shows) identifies it and nobody can re-encode a signed transaction into a second valid one:

    raw  = canonical_cbor([1, body, signature])
    body = {"chain_id": str, "pubkey": bytes(32), "nonce": int >= 0, "gas_limit": int > 0,
            "kind": "deploy" | "call", "contract": str, "function": str ("constructor" for
            deploy), "args": {str: value}, "source": str (deploy only)}
    signature = Ed25519(sha256(b"pycontract/tx/v1\\x00" + canonical_cbor(body)))

``decode`` accepts only what ``sign`` produces (re-encoding must give the same bytes), so map key
order, integer width, indefinite lengths, duplicate keys, tags and trailing bytes can never make
two encodings of one transaction. The chain id in the signed body stops cross-chain replay; the
nonce (checked by the application against committed state) stops same-chain replay.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import cbor2

from pycontract.errors import PycontractError
from pycontract.node import keys

VERSION = 1
DOMAIN = b"pycontract/tx/v1\x00"
KINDS = ("deploy", "call")
MAX_INT64 = 2**63 - 1  # nonce and gas limit travel through CometBFT's int64 fields
MAX_ARG_DEPTH = 64
_BASE_FIELDS = ("chain_id", "pubkey", "nonce", "gas_limit", "kind", "contract", "function", "args")


class EnvelopeError(PycontractError):
    """A transaction envelope is refused; ``reason`` is one clear line."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class SignedTx:
    """A decoded, verified transaction: the body's fields, its sender, hash and raw bytes."""

    chain_id: str
    pubkey: bytes
    nonce: int
    gas_limit: int
    kind: str
    contract: str
    function: str
    args: dict
    source: str | None
    signature: bytes = field(repr=False)
    sender: str
    hash: str
    raw: bytes = field(repr=False)


def canonical_cbor(value) -> bytes:
    """The one encoding pycontract signs and hashes (RFC 7049 canonical CBOR)."""
    return cbor2.dumps(value, canonical=True)


def signing_digest(body: dict) -> bytes:
    """What the Ed25519 signature covers: a domain-separated hash of the canonical body."""
    return hashlib.sha256(DOMAIN + canonical_cbor(body)).digest()


def sign(key: "keys.Key", *, chain_id: str, nonce: int, gas_limit: int, kind: str, contract: str,
         function: str, args: dict, source: str | None = None) -> bytes:
    """Build and sign a transaction; the result always passes ``decode`` on its chain."""
    body = {
        "chain_id": chain_id,
        "pubkey": key.public_key,
        "nonce": nonce,
        "gas_limit": gas_limit,
        "kind": kind,
        "contract": contract,
        "function": function,
        "args": args,
    }
    if source is not None:
        body["source"] = source
    _check_body(body)
    raw = canonical_cbor([VERSION, body, key.sign(signing_digest(body))])
    return raw


def decode(raw: bytes, *, chain_id: str, max_bytes: int) -> SignedTx:
    """Decode and verify one envelope; any defect raises ``EnvelopeError(reason)``."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise EnvelopeError("transaction is not bytes")
    raw = bytes(raw)
    if len(raw) > max_bytes:
        raise EnvelopeError(f"transaction too large: {len(raw)} bytes > {max_bytes}")
    if not raw:
        raise EnvelopeError("empty transaction")
    stream = io.BytesIO(raw)
    try:
        value = cbor2.CBORDecoder(stream).decode()
    except RecursionError:
        raise EnvelopeError("not a transaction: CBOR nested too deeply") from None
    except Exception as e:  # noqa: BLE001 - cbor2 raises many types on malformed input
        raise EnvelopeError(f"not a transaction: invalid CBOR ({_one_line(e)})") from None
    if stream.tell() != len(raw):
        raise EnvelopeError(f"trailing bytes after the envelope ({len(raw) - stream.tell()})")
    _check_plain(value, "envelope", 0)
    try:
        canonical = canonical_cbor(value)
    except Exception as e:  # noqa: BLE001
        raise EnvelopeError(f"not canonical CBOR ({_one_line(e)})") from None
    if canonical != raw:
        raise EnvelopeError("not canonical CBOR (re-encoding differs: key order, integer or "
                            "length encoding, or duplicate keys)")
    if type(value) is not list or len(value) != 3:
        raise EnvelopeError("envelope must be a 3-item array [version, body, signature]")
    version, body, signature = value
    if type(version) is not int or version != VERSION:
        raise EnvelopeError(f"unsupported envelope version {version!r} (expected {VERSION})")
    _check_body(body)
    if type(signature) is not bytes or len(signature) != keys.SIGNATURE_BYTES:
        raise EnvelopeError(f"signature must be {keys.SIGNATURE_BYTES} bytes")
    if body["chain_id"] != chain_id:
        raise EnvelopeError(f"wrong chain id {body['chain_id']!r} (this chain is {chain_id!r})")
    if not keys.verify(body["pubkey"], signing_digest(body), signature):
        raise EnvelopeError("bad signature")
    return SignedTx(
        chain_id=body["chain_id"], pubkey=body["pubkey"], nonce=body["nonce"],
        gas_limit=body["gas_limit"], kind=body["kind"], contract=body["contract"],
        function=body["function"], args=body["args"], source=body.get("source"),
        signature=signature, sender=keys.address_of(body["pubkey"]),
        hash=hashlib.sha256(raw).hexdigest(), raw=raw,
    )


def _one_line(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text[:200]


def _check_plain(value, where: str, depth: int) -> None:
    """Only plain data may appear: no floats, tags, simple values, sets or dates."""
    if depth > MAX_ARG_DEPTH:
        raise EnvelopeError(f"{where}: nested deeper than {MAX_ARG_DEPTH}")
    t = type(value)
    if value is None or t in (bool, int, str, bytes):
        return
    if t is list:
        for item in value:
            _check_plain(item, where, depth + 1)
        return
    if t is dict:
        for k, v in value.items():
            if type(k) is not str:
                raise EnvelopeError(f"{where}: map keys must be strings, not {_tname(k)}")
            _check_plain(v, where, depth + 1)
        return
    raise EnvelopeError(f"{where}: unsupported value of type {_tname(value)}")


def _tname(value) -> str:
    t = type(value)
    return {bool: "bool", int: "int", str: "str", bytes: "bytes", list: "array", dict: "map",
            type(None): "null", float: "float"}.get(t, t.__name__)


def _check_body(body) -> None:
    """The body has exactly the agreed fields, each of exactly the agreed type."""
    if type(body) is not dict:
        raise EnvelopeError(f"body must be a map, not {_tname(body)}")
    expected = set(_BASE_FIELDS)
    if body.get("kind") == "deploy":
        expected.add("source")
    for name in _BASE_FIELDS + ("source",):
        if name in expected and name not in body:
            raise EnvelopeError(f"missing field {name!r}")
    if any(type(k) is not str for k in body):
        raise EnvelopeError("body field names must be strings")
    extra = sorted(set(body) - expected)
    if extra:
        raise EnvelopeError(f"unexpected field {extra[0]!r}")

    def want(name, typ, what):
        if type(body[name]) is not typ:
            raise EnvelopeError(f"field {name!r} must be {what}, not {_tname(body[name])}")

    want("chain_id", str, "a string")
    want("pubkey", bytes, "bytes")
    if len(body["pubkey"]) != keys.PUBLIC_KEY_BYTES:
        raise EnvelopeError(f"field 'pubkey' must be {keys.PUBLIC_KEY_BYTES} bytes")
    want("nonce", int, "an int")
    if not 0 <= body["nonce"] <= MAX_INT64:
        raise EnvelopeError(f"field 'nonce' out of range (0..{MAX_INT64})")
    want("gas_limit", int, "an int")
    if not 0 < body["gas_limit"] <= MAX_INT64:
        raise EnvelopeError(f"field 'gas_limit' out of range (1..{MAX_INT64})")
    want("kind", str, "a string")
    if body["kind"] not in KINDS:
        raise EnvelopeError(f"field 'kind' must be 'deploy' or 'call', not {body['kind']!r}")
    want("contract", str, "a string")
    want("function", str, "a string")
    if body["kind"] == "deploy" and body["function"] != "constructor":
        raise EnvelopeError("field 'function' must be 'constructor' for a deploy")
    want("args", dict, "a map")
    _check_plain(body["args"], "field 'args'", 0)
    if "source" in body:
        want("source", str, "a string")
