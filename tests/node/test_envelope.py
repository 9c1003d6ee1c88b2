"""The canonical signed transaction envelope (pycontract.node.envelope)."""

import hashlib

import cbor2
import pytest

from pycontract.node import envelope
from pycontract.node.envelope import EnvelopeError, decode, sign, signing_digest
from pycontract.node.keys import Key

CHAIN = "pycontract-test"
MAX = 64 * 1024
KEY = Key.from_seed(bytes(range(32)))


def call_tx(**over):
    kw = dict(chain_id=CHAIN, nonce=7, gas_limit=100_000, kind="call", contract="token",
              function="transfer", args={"to": "bob", "amount": 5, "memo": b"\x00\x01",
                                         "tags": ["a", None, True, -3], "meta": {"k": []}})
    kw.update(over)
    return sign(KEY, **kw)


def deploy_tx(**over):
    kw = dict(chain_id=CHAIN, nonce=0, gas_limit=2_000_000, kind="deploy", contract="token",
              function="constructor", args={"supply": 1000},
              source="from pycontract import public\n")
    kw.update(over)
    return sign(KEY, **kw)


def reason(raw, chain_id=CHAIN, max_bytes=MAX):
    with pytest.raises(EnvelopeError) as ei:
        decode(raw, chain_id=chain_id, max_bytes=max_bytes)
    r = ei.value.reason
    assert "\n" not in r and r
    return r


def resign(value_body, version=1, sig=None, key=KEY):
    """Encode an arbitrary body, signed properly, to test the field checks behind the signature."""
    if sig is None:
        sig = key.sign(signing_digest(value_body))
    return cbor2.dumps([version, value_body, sig], canonical=True)


def body_of(raw):
    return cbor2.loads(raw)[1]


def test_round_trip_call_and_deploy():
    raw = call_tx()
    tx = decode(raw, chain_id=CHAIN, max_bytes=MAX)
    assert (tx.chain_id, tx.nonce, tx.gas_limit, tx.kind, tx.contract, tx.function) == \
        (CHAIN, 7, 100_000, "call", "token", "transfer")
    assert tx.args == {"to": "bob", "amount": 5, "memo": b"\x00\x01",
                       "tags": ["a", None, True, -3], "meta": {"k": []}}
    assert tx.source is None
    assert tx.pubkey == KEY.public_key and tx.sender == KEY.address
    assert tx.raw == raw and tx.hash == hashlib.sha256(raw).hexdigest()
    d = decode(deploy_tx(), chain_id=CHAIN, max_bytes=MAX)
    assert d.kind == "deploy" and d.function == "constructor"
    assert d.source == "from pycontract import public\n"


def test_encoding_is_deterministic_and_canonical():
    assert call_tx() == call_tx()
    raw = call_tx()
    assert cbor2.dumps(cbor2.loads(raw), canonical=True) == raw
    version, body, sig = cbor2.loads(raw)
    assert version == 1 and len(sig) == 64
    expected_digest = hashlib.sha256(b"pycontract/tx/v1\x00" + cbor2.dumps(body, canonical=True))
    assert KEY.sign(expected_digest.digest()) == sig


@pytest.mark.parametrize("make", [call_tx, deploy_tx])
def test_every_tampered_byte_is_refused(make):
    raw = make()
    for i in range(len(raw)):
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(raw)
            bad[i] ^= mask
            with pytest.raises(EnvelopeError):
                decode(bytes(bad), chain_id=CHAIN, max_bytes=MAX)
    # and every truncation
    for n in range(len(raw)):
        with pytest.raises(EnvelopeError):
            decode(raw[:n], chain_id=CHAIN, max_bytes=MAX)


def test_wrong_chain_id():
    assert "wrong chain id" in reason(call_tx(chain_id="other-chain"))


def test_bad_signature_other_key_same_pubkey():
    body = body_of(call_tx())
    other = Key.from_seed(b"\x01" * 32)
    assert reason(resign(body, key=other)) == "bad signature"
    assert "signature must be 64 bytes" in reason(resign(body, sig=b"\x00" * 63))


def test_oversize_checked_before_decoding():
    raw = call_tx()
    assert "too large" in reason(raw, max_bytes=len(raw) - 1)
    decode(raw, chain_id=CHAIN, max_bytes=len(raw))


def test_trailing_bytes():
    assert "trailing bytes" in reason(call_tx() + b"\x00")
    assert "trailing bytes" in reason(call_tx() + call_tx())


def test_not_cbor():
    assert "invalid CBOR" in reason(b"\xff")
    assert "empty" in reason(b"")
    assert "invalid CBOR" in reason(b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff")  # huge bytes length


def test_non_canonical_encodings_refused():
    raw = call_tx()
    version, body, sig = cbor2.loads(raw)

    # map keys out of canonical order: same content, different bytes -> refused
    unordered = cbor2.dumps([version, dict(sorted(body.items())), sig])
    assert unordered != raw and cbor2.loads(unordered) == [version, body, sig]
    assert "not canonical" in reason(unordered)

    # non-minimal integer: the version 1 as a 1-byte-argument int (0x18 0x01)
    assert raw[:2] == b"\x83\x01"
    assert "not canonical" in reason(b"\x83\x18\x01" + raw[2:])

    # indefinite-length outer array
    assert "not canonical" in reason(b"\x9f" + raw[1:] + b"\xff")

    # indefinite-length string inside the body (chain id as chunks)
    cid = cbor2.dumps(CHAIN)
    assert raw.count(cid) == 1
    chunked = b"\x7f" + cbor2.dumps(CHAIN[:3]) + cbor2.dumps(CHAIN[3:]) + b"\xff"
    assert "not canonical" in reason(raw.replace(cid, chunked))

    # duplicate key: decodes to a dict equal to the body, but the bytes differ
    items = sorted(body.items(), key=lambda kv: (len(kv[0]), kv[0]))
    dup = b"\xa9" + b"".join(cbor2.dumps(k) + cbor2.dumps(v, canonical=True) for k, v in items) \
        + cbor2.dumps("nonce") + cbor2.dumps(body["nonce"])
    assert "not canonical" in reason(b"\x83\x01" + dup + cbor2.dumps(sig))


def test_tags_and_non_plain_values_refused():
    body = body_of(call_tx())
    for value, what in [(1.5, "float"), (cbor2.CBORTag(99, 1), "CBORTag"),
                        (cbor2.undefined, "UndefinedType"), ({1, 2}, "set")]:
        b = dict(body, args={"x": value})
        r = reason(resign(b))
        assert "unsupported value" in r, r
    # tag 1 (epoch time) is decoded by cbor2 into a datetime: refused as well
    b = dict(body)
    raw = resign(b)
    nonce_enc = cbor2.dumps("nonce") + cbor2.dumps(7)
    assert nonce_enc in raw
    assert "unsupported value" in reason(raw.replace(nonce_enc, cbor2.dumps("nonce") + b"\xc1\x07"))
    assert "map keys must be strings" in reason(resign(dict(body, args={1: 2})))
    assert "map keys must be strings" in reason(resign(dict(body, args={"a": {b"k": 1}})))


@pytest.mark.parametrize("name", ["chain_id", "pubkey", "nonce", "gas_limit", "kind", "contract",
                                  "function", "args"])
def test_missing_field(name):
    body = body_of(call_tx())
    del body[name]
    assert reason(resign(body)) == f"missing field {name!r}"


def test_missing_source_on_deploy_and_extra_fields():
    body = body_of(deploy_tx())
    del body["source"]
    assert reason(resign(body)) == "missing field 'source'"
    call = body_of(call_tx())
    assert reason(resign(dict(call, source="x"))) == "unexpected field 'source'"
    assert reason(resign(dict(call, fee=1))) == "unexpected field 'fee'"


@pytest.mark.parametrize("name, value, expect", [
    ("nonce", True, "field 'nonce' must be an int, not bool"),
    ("nonce", "7", "field 'nonce' must be an int, not str"),
    ("nonce", -1, "field 'nonce' out of range"),
    ("nonce", 2**63, "field 'nonce' out of range"),
    ("gas_limit", False, "field 'gas_limit' must be an int, not bool"),
    ("gas_limit", 0, "field 'gas_limit' out of range"),
    ("gas_limit", 2**64, "field 'gas_limit' out of range"),
    ("chain_id", b"pycontract-test", "field 'chain_id' must be a string, not bytes"),
    ("pubkey", "00" * 32, "field 'pubkey' must be bytes, not str"),
    ("pubkey", b"\x00" * 33, "field 'pubkey' must be 32 bytes"),
    ("kind", "upgrade", "field 'kind' must be 'deploy' or 'call'"),
    ("kind", 1, "field 'kind' must be a string, not int"),
    ("contract", None, "field 'contract' must be a string, not null"),
    ("function", ["f"], "field 'function' must be a string, not array"),
    ("args", [], "field 'args' must be a map, not array"),
])
def test_mistyped_fields(name, value, expect):
    body = dict(body_of(call_tx()), **{name: value})
    assert reason(resign(body)).startswith(expect)


def test_deploy_function_must_be_constructor():
    body = dict(body_of(deploy_tx()), function="init")
    assert "'constructor'" in reason(resign(body))
    assert "must be a string" in reason(resign(dict(body_of(deploy_tx()), source=b"x")))


def test_wrong_version_and_shape():
    body = body_of(call_tx())
    assert "unsupported envelope version 2" in reason(resign(body, version=2))
    assert "unsupported envelope version True" in reason(resign(body, version=True))
    sig = KEY.sign(signing_digest(body))
    assert "3-item array" in reason(cbor2.dumps([1, body], canonical=True))
    assert "3-item array" in reason(cbor2.dumps([1, body, sig, 0], canonical=True))
    assert "3-item array" in reason(cbor2.dumps({"v": 1}, canonical=True))
    assert "body must be a map" in reason(cbor2.dumps([1, [body], sig], canonical=True))


def test_deep_nesting_refused_without_crash():
    deep = b"\x81" * 100_000 + b"\x00"
    assert reason(deep)
    nested = []
    cur = nested
    for _ in range(envelope.MAX_ARG_DEPTH + 5):
        cur.append([])
        cur = cur[0]
    body = dict(body_of(call_tx()), args={"x": nested})
    assert "nested deeper" in reason(resign(body))


def test_sign_refuses_invalid_fields():
    with pytest.raises(EnvelopeError, match="'nonce'"):
        call_tx(nonce=-1)
    with pytest.raises(EnvelopeError, match="'source'"):
        call_tx(kind="call", source="x")
    with pytest.raises(EnvelopeError, match="unsupported value"):
        call_tx(args={"x": 1.0})
    with pytest.raises(EnvelopeError, match="unsupported value"):
        call_tx(args={"x": (1, 2)})
