"""The host assembles tx hashes from the arguments it already encoded: always the same hash
as Chain._tx_hash (the definition in docs/engine.md), including its fallbacks."""

from __future__ import annotations

import pytest

from ledger_store import codec
from pycontract import Chain, Tx
from pycontract.host import hashing


def nested(depth: int, leaf=1):
    x = leaf
    for _ in range(depth):
        x = [x]
    return x


ARGS = [None, {}, {"to": "bob", "amount": 5}, {"é": "\u2603", "b": b"\x00", "n": -(2**80)},
        {"x": nested(61)}, {"x": nested(62)}, {"x": nested(63)}, {"a": {"b": [1, {"c": None}]}}]


@pytest.mark.parametrize("chain_id", ["pycontract-local", "é\u2603-chain"])
def test_assembled_tx_hash_equals_the_defined_one(tmp_path, chain_id):
    with Chain(tmp_path / "l.db", chain_id=chain_id) as chain:
        for height in (1, 23, 70_000):
            hasher = chain._tx_hasher(height)
            for index in (0, 24, 300):
                for args in ARGS:
                    for tx in (Tx("alice", "tok", "transfer", args, 100_000),
                               Tx("bob", "tok", None, args, 5, source="x = 1\n")):
                        blob = codec.encode_value({} if args is None else args)
                        assert hasher(index, tx, blob) == chain._tx_hash(height, index, tx)
                        fields = hashing.tx_fields(tx, blob)
                        assert hasher(index, tx, blob, fields) == chain._tx_hash(height, index, tx)


@pytest.mark.parametrize("args", ARGS)
def test_shared_fields_give_the_defined_receipt_digest(args):
    """The run of encoded items the tx hash shares with the receipt digest (tx_fields, kept on
    the TxRecord as fields_encoded) gives the ledger the same digest as receipt_digest()."""
    from ledger_store.ledger import _prepare_tx
    from ledger_store.records import EventRecord, TxRecord

    for tx in (Tx("alice", "tok", "transfer", args, 100_000),
               Tx("bob", "tok", None, args, 5, source="x = 1\n")):
        blob = codec.encode_value({} if args is None else args)
        fields = hashing.tx_fields(tx, blob)
        if fields is None:  # nested to the bound: no shared run, both use their definitions
            assert args == {"x": nested(63)}
        function = "constructor" if tx.kind == "deploy" else tx.function
        for result, events in ((None, []), ([1, "x"], [EventRecord("tok", "E", {"a": 1})])):
            rec = TxRecord("ab" * 32, tx.kind, tx.sender, tx.contract, function,
                           {} if args is None else args, tx.gas_limit, "success", 7,
                           result=result, events=events, args_encoded=blob,
                           fields_encoded=fields)
            assert outcome(lambda: _prepare_tx(1, 0, rec).receipt_digest) == \
                outcome(rec.receipt_digest)


def outcome(fn):
    """fn()'s value, or its error (type and text)."""
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - compared, not hidden
        return ("error", type(e).__name__, str(e))


def test_args_nested_to_the_bound_use_the_repr_fallback_as_before(tmp_path):
    # encodable alone (so sent to the worker), not inside the hashed array: _tx_hash falls
    # back to reprs, and so must the assembled hash
    with Chain(tmp_path / "l.db") as chain:
        tx = Tx("alice", "tok", "f", {"x": nested(63)}, 10)
        blob = codec.encode_value(tx.args)
        assert chain._tx_hasher(2)(0, tx, blob) == chain._tx_hash(2, 0, tx)
