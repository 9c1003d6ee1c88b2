"""kill -9 a writer process at varied moments; the file must reopen consistent at its last
committed block with nothing committed lost and the conserved total intact.

No sleeps: the parent waits for a varying number of "committed HEIGHT" lines on the child's
stdout and then sends SIGKILL, so the kill lands at a different point of the child's commit
loop each time. The child prints a height only after commit_block has returned, so after the
kill the file's height must be the last printed height, or one more (killed between the commit
and the print)."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from ledger_store import Ledger, codec
from ledger_store.records import ZERO_HASH

ACCOUNTS = 40
START = 1000

CHILD = textwrap.dedent(
    """
    import os, random, sys
    from ledger_store import Ledger, TxRecord, EventRecord, codec
    K, V, D = codec.encode_key, codec.encode_value, codec.decode_value
    path, seed, accounts, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    in_flight = sys.argv[5] == "async"  # COMMIT on a helper thread, next block begun on top
    rnd = random.Random(seed)
    led = Ledger(path)
    if led.height == 0:
        ov = led.begin_block()
        for a in range(accounts):
            ov.put("bank", K(("bal", a)), V(start))
        led.commit_block(ov, time=0, txs=[])
    def say(*words):
        # one write(2) per line: print() under PYTHONUNBUFFERED=1 writes each word apart, so a
        # kill -9 between them left "committed" without its height in the pipe
        os.write(1, (" ".join(map(str, words)) + "\\n").encode())
    say("ready", led.height)
    nxt = None
    while True:
        ov = nxt if nxt is not None else led.begin_block()
        txs = []
        for i in range(rnd.randrange(1, 30)):
            src, dst = rnd.randrange(accounts), rnd.randrange(accounts)
            amount = rnd.randrange(1, 400)
            ov.begin_tx()
            s = D(ov.get("bank", K(("bal", src))))
            ov.put("bank", K(("bal", src)), V(s - amount))
            d = D(ov.get("bank", K(("bal", dst))))
            ov.put("bank", K(("bal", dst)), V(d + amount))
            ok = s >= amount
            if ok:
                ov.keep_tx()
            else:
                ov.revert_tx()
            txs.append(TxRecord(
                tx_hash=codec.digest([ov.height, i, src, dst, amount]), kind="call",
                sender=str(src), contract="bank", function="transfer",
                args={"to": dst, "amount": amount}, gas_limit=1000,
                status="success" if ok else "reverted", gas_used=10,
                result=ok, error=None if ok else "bank:1: insufficient",
                events=[EventRecord("bank", "Transfer", {"amount": amount})] if ok else []))
        if in_flight:
            st = led.stage_block(ov, time=ov.height, txs=txs)
            st.commit_async()
            nxt = led.begin_block()
            b = st.commit()  # waits for the helper thread
        else:
            b = led.commit_block(ov, time=ov.height, txs=txs)
        say("committed", b.height)
    """
)


def check_file(path, at_least, at_most):
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    with Ledger(path) as led:  # a writer: the dead child's lock is gone
        h = led.height
        assert at_least <= h <= at_most, (at_least, h, at_most)
        total = sum(codec.decode_value(v) for _, v in led.iter_items("bank"))
        assert total == ACCOUNTS * START
        assert all(codec.decode_value(v) >= 0 for _, v in led.iter_items("bank"))
        assert led.verify_state() == led.state_root()
        parent = ZERO_HASH
        for b in led.blocks():
            txs = led.transactions(b.height)
            assert len(txs) == b.tx_count
            assert b.parent_hash == parent
            assert b.hash == codec.digest(
                [b.height, parent, b.state_root, b.time, [t.receipt_digest() for t in txs]]
            )
            parent = b.hash
        return h


@pytest.mark.parametrize("commit", ["sync", "async"])
def test_kill_9_at_varied_moments(tmp_path, commit):
    path = str(tmp_path / "crash.db")
    last = 0  # highest height the child reported as committed
    for run in range(30):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, path, str(run), str(ACCOUNTS), str(START), commit],
            stdout=subprocess.PIPE, text=True,
            # unbuffered as some CI shells set it: the child's lines must still arrive whole
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            ready = child.stdout.readline().split()
            assert ready[0] == "ready", ready
            assert int(ready[1]) >= last
            last = int(ready[1])
            # wait for 0..10 commits, then kill wherever the child happens to be
            for _ in range((run * 7) % 11):
                line = child.stdout.readline().split()
                assert line and line[0] == "committed", line
                last = int(line[1])
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=60)
            # lines the child printed before dying are still in the pipe
            for line in child.stdout.read().splitlines():
                word, h = line.split()
                assert word == "committed"
                last = int(h)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        h = check_file(path, last, last + 1)
        last = h
    assert last > 30  # the loop really committed blocks between kills
