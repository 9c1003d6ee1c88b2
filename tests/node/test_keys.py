"""Ed25519 keys, key files and addresses (pycontract.node.keys)."""

import hashlib
import json
import os
import stat

import pytest

from pycontract.node.keys import Key, KeyFileError, address_of, verify

SEED = bytes(range(32))


def test_address_format_and_derivation():
    key = Key.from_seed(SEED)
    pk = key.public_key
    assert type(pk) is bytes and len(pk) == 32
    assert key.address == address_of(pk) == "0x" + hashlib.sha256(pk).digest()[:20].hex()
    assert len(key.address) == 42 and key.address[0].isdigit()
    # a pinned vector (libsodium seed -> public key), so a change of derivation is caught
    assert pk.hex() == "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"


def test_address_of_refuses_wrong_lengths():
    with pytest.raises(ValueError):
        address_of(b"\x00" * 31)
    with pytest.raises(ValueError):
        address_of(bytearray(32))


def test_sign_verify():
    key = Key.generate()
    sig = key.sign(b"hello")
    assert type(sig) is bytes and len(sig) == 64
    assert key.sign(b"hello") == sig  # Ed25519 is deterministic
    assert verify(key.public_key, b"hello", sig)
    assert not verify(key.public_key, b"hellp", sig)
    assert not verify(Key.generate().public_key, b"hello", sig)
    bad = bytearray(sig)
    bad[10] ^= 1
    assert not verify(key.public_key, b"hello", bytes(bad))


@pytest.mark.parametrize("pk, sig", [
    (b"\x00" * 31, b"\x00" * 64),
    (b"\x00" * 32, b"\x00" * 63),
    ("00" * 32, b"\x00" * 64),
    (b"\xff" * 32, b"\x00" * 64),  # not a valid curve point
    (None, None),
])
def test_verify_never_raises(pk, sig):
    assert verify(pk, b"m", sig) is False


def test_generate_gives_distinct_keys_and_repr_hides_seed():
    a, b = Key.generate(), Key.generate()
    assert a.public_key != b.public_key
    assert SEED.hex() not in repr(Key.from_seed(SEED))


def test_key_file_round_trip_mode_0600(tmp_path):
    old = os.umask(0)  # a permissive umask must not widen the mode
    try:
        key = Key.generate()
        path = tmp_path / "alice.key"
        key.save(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = Key.load(path)
    assert loaded == key
    assert loaded.address == key.address
    assert loaded.sign(b"x") == key.sign(b"x")
    doc = json.loads(path.read_text())
    assert doc["address"] == key.address and doc["public_key"] == key.public_key.hex()


def test_key_file_never_overwritten(tmp_path):
    path = tmp_path / "k.json"
    first = Key.generate()
    first.save(path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        Key.generate().save(path)
    assert path.read_bytes() == before
    assert Key.load(path) == first


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(KeyFileError, match="no such key file"):
        Key.load(tmp_path / "missing")
    bad = tmp_path / "bad"
    bad.write_text("{not json")
    with pytest.raises(KeyFileError, match="invalid JSON"):
        Key.load(bad)
    path = tmp_path / "k"
    Key.from_seed(SEED).save(path)
    doc = json.loads(path.read_text())
    for mutate, msg in [
        (lambda d: d.update(type="other"), "not a key file"),
        (lambda d: d.update(seed="zz"), "not hex"),
        (lambda d: d.update(seed="00" * 31), "32 bytes"),
        (lambda d: d.update(address="0x" + "0" * 40), "do not match"),
        (lambda d: d.update(public_key="00" * 32), "do not match"),
    ]:
        d = dict(doc)
        mutate(d)
        p = tmp_path / f"m{len(list(tmp_path.iterdir()))}"
        p.write_text(json.dumps(d))
        with pytest.raises(KeyFileError, match=msg):
            Key.load(p)
