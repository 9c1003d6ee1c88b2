"""Two-phase blocks: Chain.begin_block -> PendingBlock.commit()/drop() (the CometBFT ABCI app
executes a block in FinalizeBlock and persists it in Commit). Real worker, real SQLite files."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time as _time

import pytest
from engine_support import COUNTER

from ledger_store import Ledger
from pycontract import Chain, Tx
from pycontract.errors import PycontractError


def bump(by: int, sender: str = "bob") -> Tx:
    return Tx(sender=sender, contract="counter", function="bump", args={"by": by})


def rejected() -> Tx:
    return Tx(sender="bob", contract="nobody", function="f", args={})


def snapshot(chain: Chain) -> tuple:
    """Everything a reader can observe: height, root, head hash, and every table's rows."""
    conn = sqlite3.connect(f"file:{chain.path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        rows = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}
    finally:
        conn.close()
    head = chain._ledger.head
    return chain.height, chain.state_root(), head.hash if head else None, rows


def file_digest(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.mark.parametrize("txs", [[bump(2), bump(3)], [rejected()], []],
                         ids=["executed", "only-rejected", "empty"])
def test_begin_drop_leaves_the_ledger_unchanged(counter, txs):
    before, db_before = snapshot(counter), file_digest(counter.path)
    pending = counter.begin_block(txs)
    assert pending.height == before[0] + 1
    # nobody sees the pending block meanwhile: the chain, queries and read-only ledgers
    assert snapshot(counter) == before
    assert counter.query("counter", "get") == 0
    with Ledger(counter.path, readonly=True) as ro:
        assert (ro.height, ro.state_root()) == before[:2]
    pending.drop()
    assert snapshot(counter) == before
    assert file_digest(counter.path) == db_before
    # and the chain goes on as if the block had never begun
    r = counter.call("counter", "bump", {"by": 5}, sender="bob")
    assert r.status == "success" and r.height == before[0] + 1


@pytest.mark.parametrize("txs", [[bump(2), rejected(), bump(3)], [rejected()], []],
                         ids=["executed", "only-rejected", "empty"])
def test_pending_root_is_the_committed_root(counter, txs):
    h = counter.height
    pending = counter.begin_block(txs)
    assert (pending.height, pending.time) == (h + 1, counter._ledger.head.time + 1)
    root = pending.state_root
    receipts = pending.commit()
    assert counter.height == h + 1  # a block even when empty or only rejected
    assert counter.state_root() == root == counter._ledger.verify_state()
    assert receipts is pending.receipts and len(receipts) == len(txs)
    included = [r for r in receipts if r.status != "rejected"]
    assert [r.index for r in included] == list(range(len(included)))
    assert all(r.height == h + 1 for r in included)


def test_begin_commit_equals_execute_block_on_a_twin(tmp_path):
    blocks = [[bump(1), bump(2, "carol")], [rejected(), bump(7)], [bump(-1), rejected()]]
    with Chain(tmp_path / "a.db") as a, Chain(tmp_path / "b.db") as b:
        for c in (a, b):
            assert c.deploy("counter", COUNTER, sender="alice", time=10).status == "success"
        for t, txs in enumerate(blocks, start=11):
            pending = a.begin_block(txs, time=t)
            root = pending.state_root
            got = pending.commit()
            want = b.execute_block(txs, time=t)
            assert [r.to_dict() for r in got] == [r.to_dict() for r in want]
            assert a.state_root() == b.state_root() == root
            assert a._ledger.head == b._ledger.head
        assert a.query("counter", "get") == b.query("counter", "get") == 9


def test_one_pending_block_at_a_time(counter):
    pending = counter.begin_block([bump(1)])
    with pytest.raises(PycontractError, match="pending block"):
        counter.begin_block([])
    with pytest.raises(PycontractError, match="pending block"):
        counter.execute_block([bump(1)])
    with pytest.raises(PycontractError, match="pending block"):
        counter.call("counter", "bump", {"by": 1}, sender="bob")
    pending.commit()
    with pytest.raises(PycontractError, match="already committed or dropped"):
        pending.commit()
    with pytest.raises(PycontractError, match="already committed or dropped"):
        pending.drop()
    assert counter.query("counter", "get") == 1
    counter.begin_block([]).drop()
    assert counter.execute_block([bump(1)])[0].status == "success"


def test_execute_block_still_commits_only_when_something_executed(counter):
    h = counter.height
    assert counter.execute_block([rejected()])[0].status == "rejected"
    assert counter.execute_block([]) == []
    assert counter.height == h


def test_closing_the_chain_drops_the_pending_block(tmp_path):
    path = tmp_path / "l.db"
    with Chain(path) as c:
        c.deploy("counter", COUNTER, sender="alice")
        c.begin_block([bump(4)])
    with Chain(path) as c:
        assert c.height == 1 and c.query("counter", "get") == 0


CHILD = textwrap.dedent(
    """
    import sys
    from pycontract import Chain, Tx
    chain = Chain(sys.argv[1])
    chain.deploy("counter", open(sys.argv[2]).read(), sender="alice")
    txs = [Tx(sender="bob", contract="counter", function="bump", args={"by": i})
           for i in range(1, 200)]
    pending = chain.begin_block(txs)
    print("pending", pending.height, pending.state_root, chain.worker_pid, flush=True)
    sys.stdin.readline()  # held open until the parent kills this process
    """
)


def test_kill_9_with_a_pending_block_leaves_the_last_committed_block(tmp_path):
    path = str(tmp_path / "l.db")
    (tmp_path / "counter.py").write_text(COUNTER)
    child = subprocess.Popen([sys.executable, "-c", CHILD, path, str(tmp_path / "counter.py")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    worker_pid = None
    try:
        line = child.stdout.readline().split()  # bounded: the child exits on any error
        assert line[:2] == ["pending", "2"], line
        worker_pid = int(line[3])
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # the orphaned worker sees EOF on its request pipe and exits; wait for it (bounded)
    deadline = _time.monotonic() + 30
    while worker_pid is not None and _time.monotonic() < deadline:
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            break
        _time.sleep(0.05)
    else:
        if worker_pid is not None:
            os.kill(worker_pid, signal.SIGKILL)
            pytest.fail("the worker outlived its host")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    with Ledger(path) as led:
        assert led.height == 1
        assert led.verify_state() == led.state_root() != line[2]
    with Chain(path) as c:
        assert c.query("counter", "get") == 0
        assert c.call("counter", "bump", {"by": 1}, sender="bob").height == 2


def test_readonly_chain_queries_beside_a_writer(tmp_path):
    """Chain(path, readonly=True) takes no writer lock: it queries the committed state while
    another Chain holds the file, sees new commits, and refuses every write."""
    path = tmp_path / "l.db"
    with Chain(path, chain_id="ro-test") as writer:
        assert writer.deploy("counter", COUNTER, sender="alice").status == "success"
        with Chain(path, readonly=True) as reader:
            assert reader.chain_id == "ro-test"
            assert reader.query("counter", "get") == 0
            writer.call("counter", "bump", {"by": 3}, sender="bob")
            assert reader.query("counter", "get") == 3 and reader.height == writer.height
            for write in (lambda: reader.execute_block([bump(1)]),
                          lambda: reader.begin_block([]),
                          lambda: reader.set_meta("x", 1)):
                with pytest.raises(PycontractError, match="read-only"):
                    write()
    with pytest.raises(PycontractError, match="existing ledger"):
        Chain(readonly=True)
