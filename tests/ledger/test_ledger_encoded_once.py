"""Values cross into the ledger encoded once: an EventRecord made from bytes and a TxRecord
carrying its argument/result bytes are stored as those very bytes, with the same receipt
digest and block hash as records encoded by the ledger itself."""

from __future__ import annotations

import sqlite3

import pytest

from ledger_store import EventRecord, Ledger, TxRecord, codec
from ledger_store.errors import EncodingError


def record(encoded: bool) -> TxRecord:
    args, result, fields = {"to": "bob", "n": [1, 2]}, {"ok": True}, {"amount": 5, "memo": "x"}
    ev = (EventRecord.from_bytes("c", "Sent", codec.encode_value(fields)) if encoded
          else EventRecord("c", "Sent", fields))
    return TxRecord(
        tx_hash="ab" * 32, kind="call", sender="alice", contract="c", function="f", args=args,
        gas_limit=100, status="success", gas_used=10, result=result, error=None, events=[ev],
        args_encoded=codec.encode_value(args) if encoded else None,
        result_encoded=codec.encode_value(result) if encoded else None,
    )


def commit(path, tx):
    with Ledger(path) as led:
        ov = led.begin_block()
        block = led.commit_block(ov, time=1, txs=[tx])
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT args, result, receipt_digest FROM transactions").fetchall()
        events = conn.execute("SELECT fields FROM events").fetchall()
    finally:
        conn.close()
    return block, rows, events


def test_encoded_records_store_their_bytes_and_hash_the_same(tmp_path):
    a, b = record(encoded=True), record(encoded=False)
    assert a == b  # the bytes are a cache of the values, not part of the record's identity
    block_a, rows_a, events_a = commit(tmp_path / "a.db", a)
    block_b, rows_b, events_b = commit(tmp_path / "b.db", b)
    assert (block_a.hash, rows_a, events_a) == (block_b.hash, rows_b, events_b)
    assert rows_a[0][0] == a.args_encoded and rows_a[0][1] == a.result_encoded
    assert events_a[0][0] == a.events[0].encoded
    assert rows_a[0][2] == a.receipt_digest()


def test_event_from_bytes_refuses_non_canonical_bytes():
    good = codec.encode_value({"a": 1})
    assert EventRecord.from_bytes("c", "E", good).fields == {"a": 1}
    not_shortest = b"\xa1\x61a\x18\x01"  # {"a": 1} with a 1-byte-argument integer
    with pytest.raises(EncodingError):
        EventRecord.from_bytes("c", "E", not_shortest)
