"""Ledger and BlockOverlay on real files: overlays, atomic commits, reopen, readers, locking,
schema versions."""

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from ledger_store import (
    EMPTY_ROOT,
    SCHEMA_VERSION,
    ZERO_HASH,
    BlockOverlay,
    ContractRecord,
    EventRecord,
    Ledger,
    LedgerError,
    LedgerLockedError,
    SchemaVersionError,
    TxRecord,
    codec,
)
from ledger_store.errors import EncodingError

K, V = codec.encode_key, codec.encode_value


def bal(name):
    return K(("balances", name))


def tx(h, **kw):
    base = dict(
        tx_hash=h, kind="call", sender="alice", contract="tok", function="transfer",
        args={"to": "bob", "amount": 1}, gas_limit=1000, status="success", gas_used=10,
    )
    base.update(kw)
    return TxRecord(**base)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "ledger.db"


def test_fresh_ledger(path):
    with Ledger(path) as led:
        assert led.height == 0
        assert led.head is None
        assert led.state_root() == EMPTY_ROOT
        assert led.meta == {
            "schema_version": SCHEMA_VERSION,
            "chain_id": "pycontract-local",
            "gas_schedule_version": None,
        }
        assert list(led.blocks()) == []
        assert led.transactions(1) == []
        assert led.contracts() == []


def test_commit_and_read_back(path):
    with Ledger(path) as led:
        ov = led.begin_block()
        assert isinstance(ov, BlockOverlay) and ov.height == 1
        ov.begin_tx()
        rec = ContractRecord("tok", "ab" * 32, "x = 1\n", "alice",
                             entry_points={"transfer": {"kind": "public"}})
        ov.add_contract(rec)
        ov.put("tok", bal("alice"), V(100))
        ws = ov.keep_tx()
        assert ws == {("tok", bal("alice")): V(100)}
        t1 = tx("t1", kind="deploy", function="init", args={"supply": 100}, result=None,
                events=[EventRecord("tok", "Minted", {"to": "alice", "amount": 100})])
        b1 = led.commit_block(ov, time=1000, txs=[t1])
        assert ov.closed
        assert (t1.height, t1.index) == (1, 0)
        assert rec.height == 1
        assert b1.height == 1 and b1.parent_hash == ZERO_HASH and b1.tx_count == 1
        assert b1.hash == codec.digest([1, ZERO_HASH, b1.state_root, 1000, [t1.receipt_digest()]])
        assert led.height == 1 and led.head == b1 and led.block(1) == b1
        assert led.get("tok", bal("alice")) == V(100)
        assert led.contract("tok") == rec
        got = led.transaction("t1")
        assert got == t1
        assert got.events[0].fields == {"to": "alice", "amount": 100}
        assert led.transaction("nope") is None
        assert led.state_root() == b1.state_root != EMPTY_ROOT
        assert led.verify_state() == b1.state_root

        ov = led.begin_block()
        ov.begin_tx()
        ov.put("tok", bal("alice"), V(99))
        ov.put("tok", bal("bob"), V(1))
        ov.keep_tx()
        t2 = tx("t2", result=True, events=[EventRecord("tok", "Transfer", {"amount": 1})])
        t3 = tx("t3", status="reverted", error="tok:7: insufficient balance")
        b2 = led.commit_block(ov, time=1001, txs=[t2, t3])
        assert b2.parent_hash == b1.hash
        assert [t.tx_hash for t in led.transactions(2)] == ["t2", "t3"]
        assert led.transactions(2)[1].error == "tok:7: insufficient balance"
        assert [b.height for b in led.blocks()] == [1, 2]
        assert [e.name for _, _, e in led.events(contract="tok")] == ["Minted", "Transfer"]


def test_revert_one_tx_keeps_the_others(path):
    with Ledger(path) as led:
        ov = led.begin_block()
        ov.begin_tx()
        ov.put("c", K("a"), V(1))
        ov.keep_tx()
        ov.begin_tx()
        ov.put("c", K("b"), V(2))
        ov.put("c", K("a"), V(999))  # overwrite an earlier tx's write, then revert
        ov.add_contract(ContractRecord("ghost", "00", "", "mallory"))
        assert ov.get("c", K("a")) == V(999)
        ov.revert_tx()
        assert ov.get("c", K("a")) == V(1)
        assert ov.get("c", K("b")) is None
        assert ov.contract("ghost") is None
        ov.begin_tx()
        ov.put("c", K("c"), V(3))
        ov.keep_tx()
        led.commit_block(ov, time=1, txs=[])
        assert dict(led.iter_items("c")) == {K("a"): V(1), K("c"): V(3)}
        assert led.contract("ghost") is None


def test_reads_in_block_see_earlier_writes_and_deletes(path):
    with Ledger(path) as led:
        ov = led.begin_block()
        for i in range(5):
            ov.put("c", K(i), V(i))
        led.commit_block(ov, time=1, txs=[])

        ov = led.begin_block()
        ov.begin_tx()
        ov.put("c", K(1), V("one"))
        ov.delete("c", K(2))
        ov.keep_tx()
        ov.begin_tx()
        assert ov.get("c", K(1)) == V("one")  # earlier tx, same block
        assert ov.get("c", K(2)) is None
        assert ov.get("c", K(3)) == V(3)  # committed
        ov.put("c", K(10), V(10))
        ov.put("c", K(0), None)
        assert ov.get("c", K(10)) == V(10)  # own write
        # merged iteration in key-byte order, deletions hidden
        items = list(ov.iter_items("c"))
        assert items == sorted(items)
        assert dict(items) == {K(1): V("one"), K(3): V(3), K(4): V(4), K(10): V(10)}
        ov.keep_tx()
        # the ledger itself still shows the committed state
        assert led.get("c", K(1)) == V(1)
        led.commit_block(ov, time=2, txs=[])
        assert dict(led.iter_items("c")) == {K(1): V("one"), K(3): V(3), K(4): V(4), K(10): V(10)}


def test_iter_items_orders_by_key_bytes_across_pages(path):
    with Ledger(path) as led:
        ov = led.begin_block()
        keys = [K(("m", i)) for i in range(1500)] + [K(b"\x00" * i) for i in range(5)]
        for k in keys:
            ov.put("c", k, V(1))
        ov.put("other", K("x"), V(2))
        led.commit_block(ov, time=1, txs=[])
        got = [k for k, _ in led.iter_items("c")]
        assert got == sorted(keys)
        ov = led.begin_block()
        ov.put("c", K(("m", 5000)), V(1))
        ov.put("c", keys[700], None)
        merged = [k for k, _ in ov.iter_items("c")]
        expect = sorted((set(keys) - {keys[700]}) | {K(("m", 5000))})
        assert merged == expect
        ov.close()


def test_overlay_misuse_is_refused(path):
    with Ledger(path) as led:
        ov = led.begin_block()
        with pytest.raises(LedgerError, match="revert_tx without begin_tx"):
            ov.revert_tx()
        ov.begin_tx()
        with pytest.raises(LedgerError, match="already open"):
            ov.begin_tx()
        with pytest.raises(LedgerError, match="still open"):
            led.commit_block(ov, time=1, txs=[])
        with pytest.raises(LedgerError, match="must be bytes"):
            ov.put("c", "key", V(1))
        with pytest.raises(LedgerError, match="must be bytes"):
            ov.put("c", K(1), 5)
        ov.keep_tx()
        with pytest.raises(LedgerError, match="time must be int"):
            led.commit_block(ov, time=1.5, txs=[])
        ov.add_contract(ContractRecord("a", "h", "", "x"))
        with pytest.raises(LedgerError, match="already exists"):
            ov.add_contract(ContractRecord("a", "h", "", "x"))
        led.commit_block(ov, time=1, txs=[])
        with pytest.raises(LedgerError, match="closed"):
            ov.get("c", K(1))
        ov2 = led.begin_block()
        with pytest.raises(LedgerError, match="already exists"):
            ov2.add_contract(ContractRecord("a", "h", "", "x"))


def test_failed_commit_writes_nothing_and_overlay_survives(path):
    with Ledger(path) as led:
        ov = led.begin_block()
        ov.put("c", K("ok"), V(1))
        ov.put("c", K("bad"), b"\x01\x01")  # not canonical value bytes
        root = led.state_root()
        with pytest.raises(EncodingError, match="not canonical"):
            led.commit_block(ov, time=1, txs=[])
        assert led.height == 0 and led.get("c", K("ok")) is None
        ov.put("c", K("bad"), V(2))
        with pytest.raises(EncodingError, match="float is not storable"):
            led.commit_block(ov, time=1, txs=[tx("t", result=1.5)])
        assert led.height == 0
        with pytest.raises(LedgerError, match="64 bits"):
            led.commit_block(ov, time=1, txs=[tx("t", gas_used=2**70)])
        assert led.height == 0
        b = led.commit_block(ov, time=1, txs=[])
        assert b.height == 1 and led.state_root() != root
        assert led.verify_state() == b.state_root
        ov = led.begin_block()
        ov.put("c", b"\x18\x01", V(1))  # non-canonical key bytes
        with pytest.raises(EncodingError, match="storage key 0x1801"):
            led.commit_block(ov, time=2, txs=[])
        assert led.height == 1


def test_stale_overlay_refused(path):
    with Ledger(path) as led:
        a = led.begin_block()
        b = led.begin_block()
        a.put("c", K(1), V(1))
        b.put("c", K(1), V(2))
        led.commit_block(a, time=1, txs=[])
        with pytest.raises(LedgerError, match="stale overlay"):
            led.commit_block(b, time=1, txs=[])
        assert led.get("c", K(1)) == V(1)


def test_reopen_after_close(path):
    with Ledger(path, chain_id="testnet") as led:
        ov = led.begin_block()
        ov.add_contract(ContractRecord("tok", "h", "src", "alice", entry_points={"a": [1]}))
        ov.put("tok", bal("alice"), V(10**400))
        led.commit_block(ov, time=5, txs=[tx("t1", args={"big": -(10**400), "b": b"\x00"})])
        led.set_meta("gas_schedule_version", 3)
        root, head = led.state_root(), led.head
    with Ledger(path) as led:  # chain_id=None: use what is stored
        assert led.meta["chain_id"] == "testnet"
        assert led.meta["gas_schedule_version"] == 3
        assert led.head == head and led.state_root() == root
        assert codec.decode_value(led.get("tok", bal("alice"))) == 10**400
        assert led.transaction("t1").args == {"big": -(10**400), "b": b"\x00"}
        assert led.contract("tok").entry_points == {"a": [1]}
        ov = led.begin_block()
        ov.put("tok", bal("bob"), V(1))
        b2 = led.commit_block(ov, time=6, txs=[])
        assert b2.parent_hash == head.hash
        assert led.verify_state() == b2.state_root
    with pytest.raises(LedgerError, match="belongs to chain 'testnet'"):
        Ledger(path, chain_id="mainnet")


def test_readonly_does_not_create_or_write(tmp_path):
    missing = tmp_path / "nope.db"
    with pytest.raises(LedgerError, match="no ledger file"):
        Ledger(missing, readonly=True)
    assert not missing.exists()
    p = tmp_path / "l.db"
    with Ledger(p) as w:
        ov = w.begin_block()
        ov.put("c", K(0), V(0))
        w.commit_block(ov, time=1, txs=[])
    before = p.read_bytes()
    with Ledger(p, readonly=True) as ro:
        assert ro.height == 1
        assert list(ro.iter_items("c")) == [(K(0), V(0))]
        with pytest.raises(LedgerError, match="read-only"):
            ro.set_meta("x", 1)
        ov = ro.begin_block()
        ov.put("c", K(1), V(1))  # overlays work on a read-only ledger
        assert ov.get("c", K(1)) == V(1)
        with pytest.raises(LedgerError, match="read-only"):
            ro.commit_block(ov, time=1, txs=[])
        ov.close()
        with pytest.raises(sqlite3.OperationalError):
            ro.conn.execute("INSERT INTO meta VALUES ('x', '1')")
    assert p.read_bytes() == before  # the database file was not written


def test_readonly_sees_commits_and_overlay_snapshot_is_stable(path):
    led = Ledger(path)
    ro = Ledger(path, readonly=True)  # while the writer is open
    try:
        assert ro.height == 0
        ov = led.begin_block()
        ov.put("c", K("a"), V(1))
        led.commit_block(ov, time=1, txs=[tx("t1")])
        assert ro.height == 1 and ro.get("c", K("a")) == V(1)
        assert ro.state_root() == led.state_root()
        assert ro.transaction("t1").tx_hash == "t1"

        snap = ro.begin_block()
        assert snap.base_height == 1
        other = ro.begin_block()  # a second concurrent snapshot gets its own connection
        ov = led.begin_block()
        ov.put("c", K("a"), V(2))
        ov.put("c", K("b"), V(3))
        led.commit_block(ov, time=2, txs=[])
        # the block's reads come from one snapshot...
        assert snap.get("c", K("a")) == V(1)
        assert snap.get("c", K("b")) is None
        assert dict(snap.iter_items("c")) == {K("a"): V(1)}
        assert other.get("c", K("a")) == V(1)
        # ...while the ledger's own reads are the latest
        assert ro.height == 2 and ro.get("c", K("a")) == V(2)
        snap.close()
        other.close()
        with ro.begin_block() as fresh:
            assert fresh.base_height == 2 and fresh.get("c", K("b")) == V(3)
        left_open = ro.begin_block()
    finally:
        ro.close()
        led.close()
    with pytest.raises(LedgerError, match="ledger of this block overlay is closed"):
        left_open.get("c", K("a"))


def _run(code, *args):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True, text=True, timeout=60,
    )


def test_second_writer_refused_readers_not_blocked(path):
    with Ledger(path) as led:
        ov = led.begin_block()
        ov.put("c", K("a"), V(7))
        led.commit_block(ov, time=1, txs=[])
        # another Ledger object in this process
        with pytest.raises(LedgerLockedError, match="already open for writing"):
            Ledger(path)
        # another process: writer refused, reader works while we hold the writer open
        r = _run(
            """
            import sys
            from ledger_store import Ledger, LedgerLockedError, codec
            try:
                Ledger(sys.argv[1])
            except LedgerLockedError as e:
                print("LOCKED", e)
            with Ledger(sys.argv[1], readonly=True) as ro:
                print("READ", ro.height, codec.decode_value(ro.get("c", codec.encode_key("a"))))
            """,
            path,
        )
        assert r.returncode == 0, r.stderr
        assert "LOCKED" in r.stdout and "open it with readonly=True" in r.stdout
        assert "READ 1 7" in r.stdout
        # the writer keeps committing while a reader process holds a snapshot open
        r = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent("""
                import sys
                from ledger_store import Ledger
                ro = Ledger(sys.argv[1], readonly=True)
                ov = ro.begin_block()
                print(ov.base_height, flush=True)
                sys.stdin.readline()
                print(ov.base_height, ro.height, flush=True)
            """), str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert r.stdout.readline().strip() == "1"
        for t in range(2, 5):
            ov = led.begin_block()
            ov.put("c", K("a"), V(t))
            led.commit_block(ov, time=t, txs=[])
        out, _ = r.communicate("go\n", timeout=60)
        assert out.split() == ["1", "4"]
    # after close, the lock is free again
    Ledger(path).close()


def _as_version_4(conn) -> None:
    """Turn a current file into the version-4 layout: no ``compiled`` table."""
    conn.execute("DROP TABLE compiled")
    conn.execute("UPDATE meta SET value='4' WHERE key='schema_version'")


def _as_version_3(conn) -> None:
    """Turn a current file into the version-3 layout: the readable text columns (filled, as
    version 3 wrote them) and the indexes version 4 dropped, without the hash-prefix index."""
    _as_version_4(conn)
    conn.execute("DROP INDEX idx_transactions_tx_hash_prefix")
    for table, column, source in (("storage", "key_text", "key"), ("storage", "value_text", "value"),
                                  ("transactions", "args_json", "args"),
                                  ("transactions", "result_json", "result"),
                                  ("events", "fields_json", "fields")):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
        conn.execute(f"UPDATE {table} SET {column} = hex({source})")
    conn.execute("CREATE INDEX idx_transactions_tx_hash ON transactions (tx_hash)")
    conn.execute("CREATE INDEX idx_transactions_contract_function ON transactions (contract, function)")
    conn.execute("CREATE INDEX idx_events_tx_hash ON events (tx_hash)")
    conn.execute("UPDATE meta SET value='3' WHERE key='schema_version'")


def _columns(conn, table: str) -> list:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _indexes(conn) -> set:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' "
                                       "AND sql IS NOT NULL")}


def test_schema_3_migrates_to_4_without_text_columns(tmp_path):
    """Version 4 drops the readable text columns and the unused indexes, and finds
    transactions by an index on their hash prefix: same records, same lookups, same roots."""
    path = tmp_path / "v3.db"
    ev = EventRecord("c", "E", {"x": b"\x01"})
    txs = [TxRecord(f"{i:02x}" * 32, "call", "alice", "c", "f", {"x": i}, 10, "success", 5,
                    result=[i], events=[ev]) for i in range(3)]
    with Ledger(path) as led:
        ov = led.begin_block()
        ov.put("c", K(1), V(1))
        led.commit_block(ov, time=1, txs=txs)
        root = led.state_root()
        _as_version_3(led.conn)
        assert "key_text" in _columns(led.conn, "storage")
    with Ledger(path) as led:
        assert led.meta["schema_version"] == SCHEMA_VERSION == 5
        assert _columns(led.conn, "storage") == ["contract", "key", "value"]
        assert "args_json" not in _columns(led.conn, "transactions")
        assert "fields_json" not in _columns(led.conn, "events")
        assert {"idx_transactions_tx_hash", "idx_events_tx_hash",
                "idx_transactions_contract_function"}.isdisjoint(_indexes(led.conn))
        assert "idx_transactions_tx_hash_prefix" in _indexes(led.conn)
        # the query transaction() runs uses the prefix index (no scan of every transaction)
        seen = []
        led.conn.set_trace_callback(seen.append)
        led.transaction("01" * 32)
        led.conn.set_trace_callback(None)
        lookup = [q for q in seen if "SELECT height, idx FROM transactions" in q][0]
        plan = " ".join(str(r) for r in led.conn.execute("EXPLAIN QUERY PLAN " + lookup))
        assert "USING INDEX idx_transactions_tx_hash_prefix" in plan, plan
        assert led.verify_state() == root
        assert [t.receipt_digest() for t in led.transactions(1)] == \
            [t.receipt_digest() for t in txs]
        assert led.transaction("01" * 32).args == {"x": 1}
        assert led.transaction("01" * 31 + "02") is None
        ov = led.begin_block()
        ov.put("c", K(2), V(2))
        led.commit_block(ov, time=2, txs=[TxRecord("ff" * 32, "call", "bob", "c", "f", {}, 10,
                                                   "success", 5)])
        assert led.transaction("ff" * 32).sender == "bob"
        assert led.get("c", K(2)) == V(2)


def test_schema_newer_refused_older_migrated(tmp_path):
    newer = tmp_path / "newer.db"
    with Ledger(newer) as led:
        led.conn.execute(
            "UPDATE meta SET value=? WHERE key='schema_version'", (json.dumps(SCHEMA_VERSION + 1),)
        )
    for ro in (False, True):
        with pytest.raises(SchemaVersionError, match=f"schema version {SCHEMA_VERSION + 1}"):
            Ledger(newer, readonly=ro)
    # the refusal released the writer lock
    with pytest.raises(SchemaVersionError):
        Ledger(newer)

    # build a version-1 file: same data, without the state_buckets table
    old = tmp_path / "old.db"
    with Ledger(old) as led:
        ov = led.begin_block()
        for i in range(50):
            ov.put("c", K(i), V(i))
        ov.add_contract(ContractRecord("c", "h", "", "a"))
        led.commit_block(ov, time=1, txs=[])
        root = led.state_root()
        _as_version_3(led.conn)
        led.conn.execute("DROP TABLE state_buckets")
        led.conn.execute("DROP INDEX idx_transactions_sender")  # added by version 3
        led.conn.execute("ALTER TABLE transactions DROP COLUMN nonce")
        led.conn.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    with pytest.raises(SchemaVersionError, match="older"):
        Ledger(old, readonly=True)
    with Ledger(old) as led:
        assert led.meta["schema_version"] == SCHEMA_VERSION
        assert led.verify_state() == root
        ov = led.begin_block()
        ov.put("c", K(0), None)
        ov.put("c", K(0), V(0))  # same content: the root must not move
        b = led.commit_block(ov, time=2, txs=[])
        assert b.state_root == root


def test_schema_2_migrates_to_3_with_null_nonces(tmp_path):
    """Version 3 adds transactions.nonce (NULL for every older row) and a sender index."""
    path = tmp_path / "v2.db"
    tx = TxRecord("ab" * 32, "call", "alice", "c", "f", {"x": 1}, 10, "success", 5)
    with Ledger(path) as led:
        led.commit_block(led.begin_block(), time=1, txs=[tx])
        _as_version_3(led.conn)
        led.conn.execute("DROP INDEX idx_transactions_sender")
        led.conn.execute("ALTER TABLE transactions DROP COLUMN nonce")
        led.conn.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    with Ledger(path) as led:
        assert led.meta["schema_version"] == SCHEMA_VERSION == 5
        (got,) = led.transactions(1)
        assert got.nonce is None and got.receipt_digest() == tx.receipt_digest()
        assert led.has_sender("alice") and not led.has_sender("bob")
        signed = TxRecord("cd" * 32, "call", "0x" + "1" * 40, "c", "f", {}, 10, "success", 5,
                          nonce=7)
        led.commit_block(led.begin_block(), time=2, txs=[signed])
        assert led.transaction("cd" * 32).nonce == 7
    bad = TxRecord("ef" * 32, "call", "a", "c", "f", {}, 10, "success", 5, nonce=-1)
    with Ledger(path) as led, pytest.raises(LedgerError, match="nonce"):
        led.commit_block(led.begin_block(), time=3, txs=[bad])


def test_not_a_ledger(tmp_path):
    p = tmp_path / "other.db"
    c = sqlite3.connect(p)
    c.execute("CREATE TABLE x (a)")
    c.commit()
    c.close()
    with pytest.raises(SchemaVersionError, match="not a pycontract ledger"):
        Ledger(p)
    with pytest.raises(SchemaVersionError, match="not a pycontract ledger"):
        Ledger(p, readonly=True)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LedgerError):
        Ledger(junk)
    with pytest.raises(LedgerError):
        Ledger(junk, readonly=True)


def test_wal_and_synchronous_settings(path):
    with Ledger(path) as led:
        assert led.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert led.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with Ledger(path, synchronous="NORMAL") as led:
        assert led.conn.execute("PRAGMA synchronous").fetchone()[0] == 1


def test_in_memory_ledger():
    with Ledger(":memory:") as led:
        ov = led.begin_block()
        ov.put("c", K(1), V(1))
        b = led.commit_block(ov, time=1, txs=[])
        assert led.height == 1 and led.verify_state() == b.state_root


def test_contract_cache_respects_overlay_snapshots_and_copies(path):
    """Contract rows are cached after the first read; an overlay pinned before a deploy must
    still not see the contract, and callers mutating a returned record do not change it."""
    w = Ledger(path)
    ro = Ledger(path, readonly=True)
    ov = w.begin_block()
    ov.add_contract(ContractRecord("a", "h" * 64, "src", "alice", entry_points={"f": 1}))
    w.commit_block(ov, time=1, txs=[tx("t1", contract="a")])
    old = ro.begin_block()  # pinned at height 1
    ov = w.begin_block()
    ov.add_contract(ContractRecord("b", "g" * 64, "src", "bob"))
    w.commit_block(ov, time=2, txs=[tx("t2", contract="b")])
    assert ro.contract("b").height == 2  # warms the reader's cache
    assert old.contract("b") is None  # the snapshot predates the deploy
    assert old.contract("a").height == 1
    old.close()
    with ro.begin_block() as new:
        assert new.contract("b").code_hash == "g" * 64
    rec = w.contract("a")
    rec.code_hash = "mutated"
    assert w.contract("a").code_hash == "h" * 64
    assert w.contract("zzz") is None
    ro.close()
    w.close()
