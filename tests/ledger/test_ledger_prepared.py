"""Commit work done ahead (BlockOverlay.check_write / prepare / add_tx) gives exactly the
block, rows and hashes of a plain commit_block(txs=[...])."""

from __future__ import annotations

import random

import pytest

from ledger_store import BlockOverlay, EventRecord, Ledger, TxRecord, codec
from ledger_store import ledger as ledger_mod
from ledger_store.errors import EncodingError, LedgerError

K, V = codec.encode_key, codec.encode_value


def nested(depth: int, leaf=1):
    """``depth`` nested lists around ``leaf``."""
    x = leaf
    for _ in range(depth):
        x = [x]
    return x


def records(rnd: random.Random, n: int) -> list[TxRecord]:
    out = []
    values = [None, True, 0, -1, 2**64, -(2**70), "é\u2603", b"\x00\xff", [1, [2, b"x"]],
              {"b": 1, "a": [None]}, {"z": {"y": "x"}}, nested(62), nested(63)]
    for i in range(n):
        events = [EventRecord(rnd.choice(["tok", "é"]), f"Ev{j}",
                              {"to": f"u{i}", "amount": rnd.randrange(10**6),
                               "v": rnd.choice(values[:11] + [nested(59), nested(60)])})
                  for j in range(rnd.randrange(3))]
        out.append(TxRecord(
            tx_hash=f"{i:064x}", kind=rnd.choice(["call", "deploy"]), sender="alice",
            contract="tok", function=rnd.choice(["transfer", None]),
            args={"to": f"user{i}", "amount": i, "x": rnd.choice(values[:11] + [nested(61), nested(62)])},
            gas_limit=100_000, status=rnd.choice(["success", "reverted"]),
            gas_used=rnd.randrange(100_000), result=rnd.choice(values[:12]),
            error=rnd.choice([None, "boom \u2603"]), events=events,
        ))
    return out


def dump(led: Ledger) -> dict:
    c = led.conn
    return {t: sorted(c.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in ("blocks", "transactions", "events", "storage", "state_leaves",
                      "state_buckets")}


def test_receipt_digest_assembled_from_rows_matches_receipt_digest():
    rnd = random.Random(7)
    for i, tx in enumerate(records(rnd, 300)):
        try:
            expected = tx.receipt_digest()
        except EncodingError as e:
            with pytest.raises(EncodingError, match=str(e)[:20]):
                ledger_mod._prepare_tx(1, i, tx)
            continue
        assert ledger_mod._prepare_tx(1, i, tx).receipt_digest == expected


def test_receipt_digest_depth_bound_is_the_same_error_as_before():
    # fields that fit alone but not three arrays deep inside the receipt
    tx = TxRecord("h", "call", "a", "tok", "f", {}, 1, "success", 1,
                  events=[EventRecord("tok", "E", {"x": nested(62)})])
    codec.encode_any(tx.events[0].fields)  # fine on its own
    with pytest.raises(EncodingError) as plain:
        tx.receipt_digest()
    with pytest.raises(EncodingError) as prepared:
        ledger_mod._prepare_tx(1, 0, tx)
    assert str(prepared.value) == str(plain.value)


@pytest.mark.parametrize("ahead", ["prepare", "no-prepare"])
def test_commit_with_work_ahead_is_identical_to_plain_commit(tmp_path, ahead):
    rnd = random.Random(3)
    plain = Ledger(tmp_path / "plain.db")
    early = Ledger(tmp_path / "early.db")
    try:
        for _block in range(4):
            txs_a = records(random.Random(rnd.random()), 40)
            seed = rnd.random()
            ova, ovb = plain.begin_block(), early.begin_block()
            r = random.Random(seed)
            for t, tx in enumerate(txs_a):
                writes = [("tok", K(("bal", f"u{r.randrange(30)}")), V(r.randrange(10**6)))
                          for _ in range(r.randrange(4))]
                writes += [("tok", K(("bal", "alice")), V(t)), ("tok", K(("gone", t % 5)), None)]
                for ov in (ova, ovb):
                    ov.begin_tx()
                    for c, k, v in writes:
                        if ov is ovb:
                            ov.check_write(c, k, v)
                        ov.put(c, k, v)
                    ov.keep_tx()
                    if ov is ovb and ahead == "prepare" and t % 7 == 0:
                        ov.prepare()
            # the same records (copies) on both sides
            txs_b = [TxRecord(**{f: getattr(tx, f) for f in (
                "tx_hash", "kind", "sender", "contract", "function", "args", "gas_limit",
                "status", "gas_used", "result", "error", "events")}) for tx in txs_a]
            ok = []
            for tx in txs_b:
                try:
                    tx.receipt_digest()
                    ok.append(True)
                except EncodingError:
                    ok.append(False)
            txs_a = [tx for tx, good in zip(txs_a, ok) if good]
            txs_b = [tx for tx, good in zip(txs_b, ok) if good]
            for tx in txs_b:
                ovb.add_tx(tx)
            assert ovb.added_txs == txs_b
            ba = plain.commit_block(ova, time=5, txs=txs_a)
            bb = early.commit_block(ovb, time=5, txs=None)
            assert ba == bb
            assert [(t.height, t.index) for t in txs_a] == [(t.height, t.index) for t in txs_b]
        assert dump(plain) == dump(early)
        assert early.verify_state() == plain.verify_state()
    finally:
        plain.close()
        early.close()


def test_a_value_written_again_after_prepare_is_the_one_committed(tmp_path):
    with Ledger(tmp_path / "a.db") as a, Ledger(tmp_path / "b.db") as b:
        ova, ovb = a.begin_block(), b.begin_block()
        ovb.put("c", K("k"), V(1))
        ovb.put("c", K("d"), V(1))
        ovb.prepare()
        ovb.put("c", K("k"), V(2))
        ovb.delete("c", K("d"))
        ova.put("c", K("k"), V(2))
        ova.delete("c", K("d"))
        assert a.commit_block(ova, time=1, txs=[]) == b.commit_block(ovb, time=1, txs=None)
        assert b.get("c", K("k")) == V(2) and b.get("c", K("d")) is None
        assert dump(a) == dump(b)


def test_check_write_refuses_what_commit_refuses(tmp_path):
    with Ledger(tmp_path / "a.db") as led:
        ov = led.begin_block()
        with pytest.raises(EncodingError, match="not canonical"):
            ov.check_write("c", b"\xff", None)
        with pytest.raises(EncodingError, match="not canonical"):
            ov.check_write("c", K("k"), b"\x18\x01")  # non-minimal int
        with pytest.raises(EncodingError, match="not canonical"):
            ov.check_write("c", K("k"), b"\xa2\x61b\x01\x61a\x02")  # unsorted map
        big = b"\x5a" + (70_000).to_bytes(4, "big") + b"\x00" * 69_999  # truncated bytes
        with pytest.raises(EncodingError, match="not canonical"):
            ov.check_write("c", K("k"), big)
        ov.check_write("c", K("k"), V(b"\x00" * 70_000))
        ov.check_write("c", K("k"), None)
        # a non-canonical value put without check_write is still refused by the commit
        ov.put("c", K("k"), b"\x18\x01")
        with pytest.raises(EncodingError, match="not canonical"):
            ov.prepare()
        with pytest.raises(EncodingError, match="not canonical"):
            led.commit_block(ov, time=1, txs=[])
        assert led.height == 0


def test_add_tx_then_a_txs_list_is_refused(tmp_path):
    with Ledger(tmp_path / "a.db") as led:
        ov = led.begin_block()
        tx = TxRecord("h", "call", "a", "tok", "f", {}, 1, "success", 1)
        ov.add_tx(tx)
        with pytest.raises(LedgerError, match="add_tx"):
            led.commit_block(ov, time=1, txs=[tx])
        with pytest.raises(LedgerError, match="kind"):
            ov.add_tx(TxRecord("h", "nope", "a", "tok", "f", {}, 1, "success", 1))
        block = led.commit_block(ov, time=1, txs=None)
        assert block.tx_count == 1 and (tx.height, tx.index) == (1, 0)
        assert isinstance(ov, BlockOverlay) and ov.closed


def test_put_block_writes_is_put_into_the_block_layer(tmp_path):
    """put_block_writes(writes) leaves the overlay (reads, kept writes, commit, root) exactly as
    the same put() calls do, converts bytearrays as put does, refuses what put refuses, and
    refuses to run inside an open transaction."""
    from ledger_store import Ledger, codec
    from ledger_store.errors import LedgerError

    writes = [("c", codec.encode_key(("k", i)), codec.encode_value(i) if i % 3 else None)
              for i in range(20)] + [("d", codec.encode_key("x"), bytearray(b"\x01"))]
    roots = []
    for way in ("put", "many"):
        with Ledger(tmp_path / f"{way}.db") as led:
            ov = led.begin_block()
            ov.put("c", codec.encode_key(("k", 1)), codec.encode_value(99))  # overwritten
            if way == "put":
                for c, k, v in writes:
                    ov.put(c, k, v)
            else:
                ov.put_block_writes(writes)
            assert ov.get("d", codec.encode_key("x")) == b"\x01"
            snapshot = ov.writes()
            roots.append((snapshot, led.commit_block(ov, time=1, txs=[]).state_root))
    assert roots[0] == roots[1]
    with Ledger(tmp_path / "bad.db") as led:
        ov = led.begin_block()
        with pytest.raises(LedgerError, match="storage value must be bytes"):
            ov.put_block_writes([("c", b"\x01", 5)])
        with pytest.raises(LedgerError, match="storage key must be bytes"):
            ov.put_block_writes([("c", "k", b"\x01")])
        ov.begin_tx()
        with pytest.raises(LedgerError, match="inside a transaction"):
            ov.put_block_writes([])
        ov.close()
