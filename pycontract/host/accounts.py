"""Accounts: network nonces kept in ledger state, and one namespace for accounts and contracts.

A network transaction carries the signer's per-account nonce. The next nonce of every account
that ever sent one lives in contract storage under the reserved namespace ``ACCOUNTS`` (no
contract can have that name, and no worker write set may touch it), so the state root commits to
it and a replayed or reordered transaction is refused on every node alike. A transaction with the
right nonce uses it when it is included, whatever its outcome (success, revert, out of gas, or a
refusal that depends on ledger state, such as an unknown contract), so it can never be replayed
once the state changes. A refusal that depends only on the transaction itself (its size, names,
source or arguments) does not use the nonce: such a transaction can never succeed later.

Accounts and contracts never share a name: a transaction whose sender is a contract is refused,
and so is a deploy under a name that has already sent a transaction (network addresses,
``0x`` + 40 hex digits, can never be contract names).
"""

from __future__ import annotations

from ledger_store import codec

#: the storage namespace of account nonces (not a valid contract name)
ACCOUNTS = "@accounts"


def nonce_key(address: str) -> bytes:
    return codec.encode_key(address)


def nonce_value(next_nonce: int) -> bytes:
    return codec.encode_value(next_nonce)


def next_nonce(get, address: str) -> int:
    """The next nonce expected from ``address``; ``get(contract, key)`` reads storage."""
    raw = get(ACCOUNTS, nonce_key(address))
    return 0 if raw is None else codec.decode_value(raw)


def nonce_mismatch(address: str, nonce: int, expected: int) -> str:
    used = "already used" if nonce < expected else "too high"
    return f"nonce {nonce} is {used}: the next nonce of {address} is {expected}"
