"""Transaction hashes: a transaction and its place in a block in, a hex digest out.

``tx_hash`` is the definition; ``tx_hasher`` gives the same digest from the argument bytes the
host already encoded while checking the transaction, so the arguments are not encoded twice.
Both hash the array ``_tx_items`` lists (one field order): the definition with the arguments
themselves through ``codec.digest``, the hasher with their bytes as ``codec.Encoded`` through
``codec.encode_array``.
"""

from __future__ import annotations

import hashlib

from ledger_store import codec
from ledger_store.errors import EncodingError


def _tx_items(chain_id: str, height: int, index: int, tx, args) -> list:
    """The hashed array; ``args`` is the arguments or their encoding (codec.Encoded)."""
    function = "constructor" if tx.kind == "deploy" else tx.function
    return [chain_id, height, index, tx.kind, tx.sender, tx.contract, function, args,
            tx.gas_limit]


def tx_hash(chain_id: str, height: int, index: int, tx) -> str:
    """Digest of the transaction and its place: ``index`` counts only the transactions the
    block includes (rejected ones are never stored), so a replay of the stored history
    reproduces every hash; a rejected transaction takes the position the next included one
    gets."""
    args = tx.args if tx.args is not None else {}
    try:
        return codec.digest(_tx_items(chain_id, height, index, tx, args))
    except (EncodingError, TypeError):
        # fields that cannot be encoded (the tx is rejected): hash their ASCII reprs, which
        # exist for anything, lone surrogates included
        function = "constructor" if tx.kind == "deploy" else tx.function
        return codec.digest([chain_id, height, index, tx.kind, ascii(tx.sender),
                             ascii(tx.contract), ascii(function), None, ascii(tx.gas_limit)])


def _plain(x) -> bool:
    """A field encode_array encodes exactly as it does inside the array (no nesting)."""
    return x is None or type(x) in (str, int, bool)


def tx_hasher(chain_id: str, height: int):
    """``hash(index, tx, args_blob)``: :func:`tx_hash` for a transaction whose arguments were
    already encoded (``args_blob``), built by ``codec.encode_array`` from the same items; falls
    back to ``tx_hash`` whenever that might differ (a field that is not a plain scalar or does
    not encode, arguments nested close to the depth bound)."""
    place_ok = _plain(chain_id) and _plain(height)

    def hasher(index: int, tx, blob: bytes) -> str:
        args = tx.args if tx.args is not None else {}
        if not (place_ok and _plain(index) and _plain(tx.kind) and _plain(tx.sender)
                and _plain(tx.contract) and _plain(tx.function) and _plain(tx.gas_limit)
                and codec.nests_within(args, blob, 1)):
            return tx_hash(chain_id, height, index, tx)
        try:
            data = codec.encode_array(_tx_items(chain_id, height, index, tx, codec.Encoded(blob)))
        except EncodingError:  # e.g. a lone surrogate in a name: the definition decides
            return tx_hash(chain_id, height, index, tx)
        return hashlib.sha256(data).hexdigest()

    return hasher
