"""Transaction hashes: a transaction and its place in a block in, a hex digest out.

``tx_hash`` is the definition; ``tx_hasher`` gives the same digest from the argument bytes the
host already encoded while checking the transaction (a CBOR array is its head followed by its
items' canonical encodings), so the arguments are not encoded twice.
"""

from __future__ import annotations

import hashlib

from ledger_store import codec
from ledger_store.errors import EncodingError
from ledger_store.records import fields_encoding


def tx_hash(chain_id: str, height: int, index: int, tx) -> str:
    """Digest of the transaction and its place: ``index`` counts only the transactions the
    block includes (rejected ones are never stored), so a replay of the stored history
    reproduces every hash; a rejected transaction takes the position the next included one
    gets."""
    args = tx.args if tx.args is not None else {}
    function = "constructor" if tx.kind == "deploy" else tx.function
    try:
        return codec.digest([chain_id, height, index, tx.kind, tx.sender, tx.contract,
                             function, args, tx.gas_limit])
    except (EncodingError, TypeError):
        # fields that cannot be encoded (the tx is rejected): hash their ASCII reprs, which
        # exist for anything, lone surrogates included
        return codec.digest([chain_id, height, index, tx.kind, ascii(tx.sender),
                             ascii(tx.contract), ascii(function), None, ascii(tx.gas_limit)])


def tx_hasher(chain_id: str, height: int):
    """``hash(index, tx, args_blob)``: :func:`tx_hash` for a transaction whose arguments were
    already encoded (``args_blob``), assembled from encoded pieces; falls back to ``tx_hash``
    whenever that might differ (a chain id that does not encode, arguments nested close to the
    depth bound)."""
    try:
        head = b"\x89" + codec.encode_value(chain_id) + codec.encode_value(height)
    except EncodingError:
        head = None
    enc = codec.encode_small  # sender, names, kind, gas limit repeat across a block

    def hasher(index: int, tx, blob: bytes, fields: bytes | None = None) -> str:
        """``fields``: ``tx_fields(tx, blob)`` when the caller already made it."""
        if fields is None:
            fields = tx_fields(tx, blob)
        if head is None or fields is None:
            return tx_hash(chain_id, height, index, tx)
        return hashlib.sha256(head + enc(index) + fields).hexdigest()

    return hasher


def tx_fields(tx, blob: bytes) -> bytes | None:
    """The encodings of [kind, sender, contract, function, args, gas_limit] of an admitted
    transaction whose arguments encode to ``blob`` (``ledger_store.records.fields_encoding``):
    the run of items its hash shares with its receipt digest (``TxRecord.fields_encoded``).
    None when the arguments are nested close to the depth bound (then both are computed from
    their definitions)."""
    args = tx.args if tx.args is not None else {}
    if not codec.nests_within(args, blob, 1):
        return None
    return fields_encoding(tx.kind, tx.sender, tx.contract,
                           "constructor" if tx.kind == "deploy" else tx.function, blob,
                           tx.gas_limit)
