"""Ed25519 account keys, key files and addresses for network transactions.

The network sender of a transaction is the address of the key that signed it, so nobody can act
in another's name. Address = ``"0x" + sha256(public_key)[:20].hex()``: 42 characters starting
with a digit, so it can never be mistaken for a contract name (``[a-z][a-z0-9_]{0,63}``).

A key file is JSON (``type``, ``seed``, ``public_key``, ``address``; hex), written with mode 0600
and never over an existing file: losing a key by overwriting it is not recoverable.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey, VerifyKey

from pycontract.errors import PycontractError

KEY_FILE_TYPE = "pycontract-ed25519"
PUBLIC_KEY_BYTES = 32
SEED_BYTES = 32
SIGNATURE_BYTES = 64
ADDRESS_CHARS = 42


class KeyFileError(PycontractError):
    """A key file cannot be written (exists) or read (missing, malformed, inconsistent)."""


def address_of(public_key: bytes) -> str:
    """The account address of an Ed25519 public key."""
    if type(public_key) is not bytes or len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"public key must be {PUBLIC_KEY_BYTES} bytes")
    return "0x" + hashlib.sha256(public_key).digest()[:20].hex()


def verify(public_key: bytes, msg: bytes, sig: bytes) -> bool:
    """True iff ``sig`` is a valid Ed25519 signature of ``msg`` by ``public_key``; never raises."""
    if (type(public_key) is not bytes or len(public_key) != PUBLIC_KEY_BYTES
            or type(sig) is not bytes or len(sig) != SIGNATURE_BYTES
            or not isinstance(msg, (bytes, bytearray, memoryview))):
        return False
    try:
        VerifyKey(public_key).verify(bytes(msg), sig)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        # a malformed public key is just another reason the signature is not valid
        return False
    return True


class Key:
    """An Ed25519 signing key (the 32-byte seed); ``repr`` never shows the seed."""

    __slots__ = ("_signing",)

    def __init__(self, signing_key: SigningKey):
        self._signing = signing_key

    @classmethod
    def generate(cls) -> "Key":
        return cls(SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> "Key":
        """A key from its 32-byte seed (deterministic test keys)."""
        if type(seed) is not bytes or len(seed) != SEED_BYTES:
            raise ValueError(f"seed must be {SEED_BYTES} bytes")
        return cls(SigningKey(seed))

    @property
    def public_key(self) -> bytes:
        return bytes(self._signing.verify_key)

    @property
    def address(self) -> str:
        return address_of(self.public_key)

    def sign(self, msg: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``msg`` (deterministic: same key, same msg, same sig)."""
        return bytes(self._signing.sign(bytes(msg)).signature)

    def __repr__(self) -> str:
        return f"Key(address={self.address!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Key) and bytes(self._signing) == bytes(other._signing)

    __hash__ = None  # keys are secrets, not dict keys

    def save(self, path) -> None:
        """Write the key file with mode 0600; refuse to overwrite an existing file."""
        path = Path(path)
        doc = {
            "type": KEY_FILE_TYPE,
            "seed": bytes(self._signing).hex(),
            "public_key": self.public_key.hex(),
            "address": self.address,
        }
        data = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyFileError(f"{path}: key file already exists; refusing to overwrite it") from None
        except OSError as e:
            raise KeyFileError(f"{path}: cannot create key file: {e.strerror}") from None
        try:
            os.fchmod(fd, 0o600)  # exactly 0600 whatever the umask
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError as e:
            os.close(fd)
            os.unlink(path)
            raise KeyFileError(f"{path}: cannot write key file: {e.strerror}") from None
        os.close(fd)

    @classmethod
    def load(cls, path) -> "Key":
        """Read a key file written by ``save``; every inconsistency is a clear KeyFileError."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyFileError(f"{path}: no such key file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise KeyFileError(f"{path}: cannot read key file: {e}") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise KeyFileError(f"{path}: not a key file (invalid JSON: {e.msg})") from None
        if not isinstance(doc, dict) or doc.get("type") != KEY_FILE_TYPE:
            raise KeyFileError(f"{path}: not a key file (type is not {KEY_FILE_TYPE!r})")
        seed_hex = doc.get("seed")
        try:
            if not isinstance(seed_hex, str):
                raise ValueError
            seed = bytes.fromhex(seed_hex)
        except ValueError:
            raise KeyFileError(f"{path}: key file 'seed' is not hex") from None
        if len(seed) != SEED_BYTES:
            raise KeyFileError(f"{path}: key file 'seed' must be {SEED_BYTES} bytes")
        key = cls.from_seed(seed)
        if doc.get("public_key") != key.public_key.hex() or doc.get("address") != key.address:
            raise KeyFileError(f"{path}: key file 'public_key'/'address' do not match its seed")
        return key
