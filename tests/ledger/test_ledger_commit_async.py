"""StagedBlock.commit_async: the COMMIT (and its fsync) on a helper thread while the caller
begins the next block on top of it (Chain.execute_blocks). Same file as commit(); the
connection is never used by two threads at once; a failed COMMIT rolls back and is raised."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from ledger_store import Ledger, TxRecord, codec
from ledger_store.errors import LedgerError

K, V, D = codec.encode_key, codec.encode_value, codec.decode_value


def tx(i: int) -> TxRecord:
    return TxRecord(tx_hash=f"{i:064x}", kind="call", sender="alice", contract="bank",
                    function="f", args={"i": i}, gas_limit=10, status="success", gas_used=1,
                    result=i, error=None, events=[])


def fill(ov, n: int, base: int) -> None:
    for a in range(n):
        ov.put("bank", K(("bal", a)), V(base + a))
    ov.add_tx(tx(base))


def dump(led: Ledger) -> dict:
    c = led.conn
    return {t: sorted(c.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in ("blocks", "transactions", "storage", "state_leaves", "state_buckets")}


def commit_threads() -> list:
    return [t for t in threading.enumerate() if t.name == "ledger-commit"]


def test_async_commits_give_the_file_of_plain_commits(tmp_path):
    with Ledger(tmp_path / "a.db") as plain, Ledger(tmp_path / "b.db") as fast:
        for h in range(1, 5):
            ov = plain.begin_block()
            fill(ov, 30, h * 100)
            plain.commit_block(ov, time=h, txs=None)
        ov = fast.begin_block()
        fill(ov, 30, 100)
        for h in range(1, 5):
            st = fast.stage_block(ov, time=h, txs=None)
            st.commit_async()
            if h < 4:
                ov = fast.begin_block()  # on top of block h while it commits
                assert ov.base_height == h
                assert D(ov.get("bank", K(("bal", 3)))) == h * 100 + 3  # waits for the commit
                assert not commit_threads()
                fill(ov, 30, (h + 1) * 100)
            assert st.commit() == fast.block(h)  # waits; the same block record
        assert fast.height == plain.height == 4
        assert fast.state_root() == plain.state_root() == fast.verify_state()
        assert dump(fast) == dump(plain)
        assert fast.transactions(2)[0].height == 2 and fast.transactions(2)[0].index == 0


def test_every_use_of_the_connection_waits_for_the_commit(tmp_path):
    with Ledger(tmp_path / "a.db") as led:
        ov = led.begin_block()
        fill(ov, 5, 1)
        st = led.stage_block(ov, time=1, txs=None)
        st.commit_async()
        # reads while staged see the last committed block (0, or 1 if the commit is done: a
        # separate read-only connection); the writer's own connection waits for the commit
        assert led.height in (0, 1)
        led.conn  # noqa: B018
        assert led._inflight is None and not commit_threads()
        assert led.height == 1 and st.commit() == led.block(1)
        with pytest.raises(LedgerError, match="already committed"):
            st.drop()
        ov = led.begin_block()
        fill(ov, 5, 2)
        led.stage_block(ov, time=2, txs=None).commit_async()
        led.set_meta("x", 1)  # waits, then writes
        assert led.height == 2 and led.meta["x"] == 1
        ov = led.begin_block()
        fill(ov, 5, 3)
        st = led.stage_block(ov, time=3, txs=None)
        st.commit_async()
        with pytest.raises(LedgerError, match="in flight"):
            st.commit_async()
        with pytest.raises(LedgerError, match="in flight"):
            st.drop()
    assert not commit_threads()  # close() waited for it
    with Ledger(tmp_path / "a.db") as led:
        assert led.height == 3


class FailingCommit:
    """The writer's connection, except that COMMIT fails (a full disk, say)."""

    def __init__(self, conn):
        self._c = conn

    def execute(self, sql, *a):
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self._c.execute(sql, *a)

    def __getattr__(self, name):
        return getattr(self._c, name)


def test_a_failed_async_commit_rolls_back_and_is_raised(tmp_path):
    with Ledger(tmp_path / "a.db") as led:
        ov = led.begin_block()
        fill(ov, 5, 1)
        led.commit_block(ov, time=1, txs=None)
        root = led.state_root()
        real = led._conn
        ov = led.begin_block()
        fill(ov, 5, 2)
        st = led.stage_block(ov, time=2, txs=None)
        led._conn = FailingCommit(real)
        st.commit_async()
        nxt = led.begin_block()  # on top of the failing block
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            st.commit()
        led._conn = real
        with pytest.raises(LedgerError, match="commit failed"):
            st.commit()
        assert led.height == 1 and led.state_root() == root == led.verify_state()
        assert D(led.begin_block().get("bank", K(("bal", 1)))) == 2  # block 1's value
        fill(nxt, 1, 9)
        with pytest.raises(LedgerError, match="stale overlay"):
            led.stage_block(nxt, time=3, txs=None)  # it stood on the rolled-back block
        ov = led.begin_block()
        fill(ov, 5, 3)
        led.commit_block(ov, time=2, txs=None)
        assert led.height == 2 and led.verify_state() == led.state_root()


def test_without_a_thread_commit_async_commits_at_once(tmp_path, monkeypatch):
    """If no thread can be started, commit_async commits in the caller's thread; commit()
    then just returns the block."""
    def no_thread(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    with Ledger(tmp_path / "a.db") as led:
        ov = led.begin_block()
        fill(ov, 5, 1)
        st = led.stage_block(ov, time=1, txs=None)
        st.commit_async()
        assert led._inflight is None and led.height == 1
        assert st.commit() == led.block(1)
