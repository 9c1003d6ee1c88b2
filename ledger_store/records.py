"""Plain records the ledger stores and returns. No behaviour beyond hashing helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import codec

__all__ = ["ContractRecord", "EventRecord", "TxRecord", "BlockRecord", "ZERO_HASH"]

#: parent hash of the first block (64 hex zeros)
ZERO_HASH = "00" * 32


@dataclass
class ContractRecord:
    name: str
    code_hash: str
    source: str
    deployer: str
    height: int | None = None  # filled with the block height by commit_block
    entry_points: dict = field(default_factory=dict)  # JSON-able description, for people/tools


@dataclass
class EventRecord:
    contract: str
    name: str
    fields: dict = field(default_factory=dict)
    #: the canonical bytes of ``fields`` when the record was made from them (``from_bytes``):
    #: commit_block stores these instead of encoding ``fields`` again
    encoded: bytes | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_bytes(cls, contract: str, name: str, data: bytes) -> "EventRecord":
        """An event whose fields arrive encoded: decoded (which proves ``data`` canonical,
        EncodingError otherwise) and kept, so they are never encoded again."""
        return cls(contract, name, codec.decode_value(data), data)

    def as_list(self) -> list:
        return [self.contract, self.name, self.fields]


@dataclass
class TxRecord:
    tx_hash: str
    kind: str  # "deploy" | "call"
    sender: str
    contract: str
    function: str | None
    args: dict
    gas_limit: int
    status: str  # "success" | "reverted" | "out_of_gas" | "rejected"
    gas_used: int
    result: Any = None
    error: str | None = None
    events: list[EventRecord] = field(default_factory=list)
    height: int | None = None  # filled by commit_block
    index: int | None = None  # position in the block, filled by commit_block
    #: the signed per-account nonce of a network transaction (None for an embedded one); not
    #: part of the receipt digest: the state root commits to the account's nonce
    nonce: int | None = None
    #: ``codec.encode_any(args)`` / ``codec.encode_any(result)`` when the caller already holds
    #: them (the host encoded the arguments once, and decoded the worker's result bytes, which
    #: proves them canonical): commit_block stores these bytes instead of encoding again
    args_encoded: bytes | None = field(default=None, compare=False, repr=False)
    result_encoded: bytes | None = field(default=None, compare=False, repr=False)
    #: the canonical encodings of [kind, sender, contract, function, args, gas_limit] one after
    #: the other (``fields_encoding``) when the caller already built them: the host does for
    #: the transaction hash, whose preimage has the same run of items as the receipt digest's
    fields_encoded: bytes | None = field(default=None, compare=False, repr=False)

    def receipt_digest(self) -> str:
        """sha256 hex over the canonical encoding of the array
        [tx_hash, kind, sender, contract, function, args, gas_limit, status, gas_used, result,
         error, [[event.contract, event.name, event.fields], ...]].
        Height and index are not included: they are implied by the block and position."""
        return codec.digest(
            [
                self.tx_hash,
                self.kind,
                self.sender,
                self.contract,
                self.function,
                self.args,
                self.gas_limit,
                self.status,
                self.gas_used,
                self.result,
                self.error,
                [e.as_list() for e in self.events],
            ]
        )


def fields_encoding(kind, sender, contract, function, args_encoded: bytes, gas_limit) -> bytes:
    """The canonical encodings of kind, sender, contract, function, the (already encoded)
    arguments and the gas limit, concatenated: the items a transaction hash and its receipt
    digest share (a CBOR array is its head followed by its items' encodings). The arguments
    must fit the depth bound one level down (``codec.nests_within(args, args_encoded, 1)``)."""
    enc = codec.encode_small
    return b"".join((enc(kind), enc(sender), enc(contract), enc(function), args_encoded,
                     enc(gas_limit)))


@dataclass(frozen=True)
class BlockRecord:
    height: int
    hash: str
    parent_hash: str
    state_root: str
    time: int
    tx_count: int
