"""Chain.execute_blocks: pipelined blocks (the worker runs block N+1 while the host commits N)
give exactly what one execute_block call per block gives, and a kill -9 mid-pipeline leaves the
ledger at a whole committed block. Real worker, real SQLite files, a real killed process."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from engine_support import COUNTER, example

from ledger_store import Ledger
from pycontract import Chain, Tx

ALICE = "0x" + "a1" * 20


def signed(nonce: int, by: int = 1) -> Tx:
    return Tx(sender=ALICE, contract="counter", function="bump", args={"by": by},
              gas_limit=100_000, nonce=nonce,
              tx_hash=hashlib.sha256(b"n%d" % nonce).hexdigest())


def history() -> list[list[Tx]]:
    token = example("token.py")
    return [
        # the contracts deployed here are called in the next block, before this one commits
        [Tx(sender="d", contract="counter", function="constructor", source=COUNTER,
            gas_limit=5_000_000),
         Tx(sender="alice", contract="token", function="constructor", source=token,
            args={"supply": 1000}, gas_limit=5_000_000)],
        [Tx(sender="alice", contract="token", function="transfer",
            args={"to": f"u{i}", "amount": 10}, gas_limit=100_000) for i in range(60)]
        + [signed(0), signed(1, by=5)],
        # u1 spends what the block before gave it; nonces continue from the block before
        [Tx(sender="u1", contract="token", function="transfer", args={"to": "u2", "amount": 7},
            gas_limit=100_000), signed(2), signed(2),
         Tx(sender="u3", contract="token", function="transfer", args={"to": "u2", "amount": 11},
            gas_limit=100_000)],  # reverted: u3 has 10
        [Tx(sender="x", contract="nothere", function="f", gas_limit=100_000)],  # no block
        # "token" already exists (deployed two blocks ago); "alice" is a sender
        [Tx(sender="e", contract="token", function="constructor", source=COUNTER,
            gas_limit=5_000_000),
         Tx(sender="e", contract="alice", function="constructor", source=COUNTER,
            gas_limit=5_000_000),
         Tx(sender="u2", contract="token", function="transfer", args={"to": "u9", "amount": 1},
            gas_limit=100_000)],
        [],  # nothing at all: no block
        [signed(3, by=100)],
    ]


def summary(receipts):
    return [(r.status, r.gas_used, r.result, r.error, r.tx_hash, r.height, r.index,
             [(e.contract, e.name, e.fields) for e in r.events]) for r in receipts]


def test_pipelined_blocks_match_one_call_per_block(tmp_path):
    with Chain(tmp_path / "seq.db") as seq, Chain(tmp_path / "pipe.db") as pipe:
        want = [seq.execute_block(b) for b in history()]
        got = pipe.execute_blocks(history())
        assert [summary(r) for r in got] == [summary(r) for r in want]
        assert (pipe.height, pipe.state_root()) == (seq.height, seq.state_root()) == \
            (pipe.height, seq.state_root())
        assert pipe.height == 5
        for h in range(1, pipe.height + 1):
            assert pipe._ledger.block(h) == seq._ledger.block(h)
        assert pipe.query("counter", "get") == 1 + 5 + 1 + 100
        assert pipe.nonce(ALICE) == 4
        assert [r.status for r in got[2]] == ["success", "success", "rejected", "reverted"]
        assert "token" in got[4][0].error and "already exists" in got[4][0].error
        assert "account" in got[4][1].error
        pipe._ledger.verify_state()


def test_pipelined_blocks_follow_explicit_times_and_a_later_block_call(tmp_path):
    with Chain(tmp_path / "l.db") as chain:
        chain.deploy("counter", COUNTER, sender="d", time=10)
        bump = [Tx(sender="b", contract="counter", function="bump", args={"by": 1})]
        chain.execute_blocks([bump, bump, bump], times=[10, None, 20])
        assert [chain._ledger.block(h).time for h in (2, 3, 4)] == [10, 11, 20]
        assert chain.execute_block(bump)[0].status == "success"  # the worker left in step
        assert chain.query("counter", "get") == 4


WRITER = textwrap.dedent("""
    import sys
    from pycontract import Chain, Tx
    token = open(sys.argv[2]).read()
    with Chain(sys.argv[1]) as chain:
        chain.deploy("token", token, sender="alice", args={"supply": 10**9}, gas_limit=5_000_000)
        blocks = [[Tx(sender="alice", contract="token", function="transfer",
                      args={"to": f"u{b}_{i}", "amount": 1}, gas_limit=100_000)
                   for i in range(200)] for b in range(400)]
        print("ready", flush=True)
        chain.execute_blocks(blocks)
""")


def test_kill_9_mid_pipeline_leaves_the_last_committed_block(tmp_path):
    db = tmp_path / "killed.db"
    token_path = tmp_path / "token.py"
    token_path.write_text(example("token.py"))
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(token_path)],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # a few pipelined blocks committed, more running
            with Ledger(db, readonly=True) as led:
                if led.height >= 4:
                    break
            time.sleep(0.01)  # polling, bounded by the deadline
        else:
            raise AssertionError("the writer committed no pipelined block in time")
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # the worker died with its parent's pipes; nothing else holds the ledger
    with Chain(db) as chain:
        h = chain.height
        assert 4 <= h < 401  # killed mid-pipeline
        chain._ledger.verify_state()
        rs = chain.receipts(h)
        assert len(rs) == 200 and all(r.status == "success" for r in rs)  # whole blocks only
        assert chain.query("token", "balance_of", {"owner": "alice"}) == 10**9 - 200 * (h - 1)


def test_worker_killed_mid_pipeline_keeps_every_block_before(tmp_path):
    import threading

    import pytest

    from pycontract.errors import NodeFault

    db = tmp_path / "w.db"
    with Chain(db) as chain:
        chain.deploy("token", example("token.py"), sender="alice", args={"supply": 10**9},
                     gas_limit=5_000_000)
        pid = chain.worker_pid
        blocks = [[Tx(sender="alice", contract="token", function="transfer",
                      args={"to": f"u{b}_{i}", "amount": 1}, gas_limit=100_000)
                   for i in range(100)] for b in range(300)]

        def killer():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with Ledger(db, readonly=True) as led:
                    if led.height >= 4:
                        break
                time.sleep(0.01)  # polling, bounded by the deadline
            os.kill(pid, signal.SIGKILL)

        t = threading.Thread(target=killer)
        t.start()
        try:
            with pytest.raises(NodeFault, match="sandbox worker"):
                chain.execute_blocks(blocks)
        finally:
            t.join()
        # the block whose COMMIT ran on the helper thread when the fault came was waited for
        assert chain._ledger._inflight is None
        assert not [x for x in threading.enumerate() if x.name == "ledger-commit"]
        h = chain.height
        assert 4 <= h < 301
        chain._ledger.verify_state()
        assert len(chain.receipts(h)) == 100
        assert chain.query("token", "balance_of", {"owner": "alice"}) == 10**9 - 100 * (h - 1)
        # a new worker takes over; the next blocks run from the committed state
        assert chain.execute_blocks(blocks[:2])[1][0].status == "success"
        assert chain.height == h + 2


def test_a_read_only_chain_refuses_pipelined_blocks(tmp_path):
    import pytest

    from pycontract.errors import PycontractError

    with Chain(tmp_path / "l.db") as writer:
        writer.deploy("counter", COUNTER, sender="d")
        with Chain(tmp_path / "l.db", readonly=True) as reader:
            with pytest.raises(PycontractError, match="read-only"):
                reader.execute_blocks([[Tx(sender="b", contract="counter", function="bump",
                                           args={"by": 1})]])
            with pytest.raises(PycontractError, match="read-only"):
                reader.set_meta("block_max_gas", 5)
        assert writer.height == 1


def test_cyclic_collector_paused_during_blocks_and_restored(tmp_path, monkeypatch):
    """Blocks run with the cyclic GC paused (it found no cycle and cost ~15% of host CPU);
    afterwards it is on again iff it was on before, also when the block fails, and a
    pipeline inside another (another thread's) keeps it paused until the last one ends."""
    import gc

    from pycontract.host import chain as chain_mod

    seen = []
    real_admit = Chain._admit

    def admit(self, led, txs, *ahead):
        seen.append(gc.isenabled())
        return real_admit(self, led, txs, *ahead)

    monkeypatch.setattr(Chain, "_admit", admit)
    was = gc.isenabled()
    try:
        with Chain(tmp_path / "l.db") as chain:
            chain.deploy("counter", COUNTER, sender="a")
            bump = [Tx(sender="b", contract="counter", function="bump", args={"by": 1})]
            for enabled in (True, False):
                (gc.enable if enabled else gc.disable)()
                seen.clear()
                chain.execute_block(bump)
                chain.execute_blocks([bump, bump])
                chain.begin_block(bump).commit()
                assert seen == [False] * 4 and gc.isenabled() is enabled
                with pytest.raises(TypeError):
                    chain.execute_block(["not a tx"])
                assert gc.isenabled() is enabled
            gc.enable()
            with chain_mod._collector_paused():
                with chain_mod._collector_paused():
                    assert not gc.isenabled()
                assert not gc.isenabled()  # the outer one still runs
            assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


def refused_by_precheck() -> list[Tx]:
    """Transactions the host refuses whatever the state (``_precheck``)."""
    return [Tx(sender="b", contract="Bad-Name", function="f", gas_limit=100_000),
            Tx(sender="b", contract="counter", function="bump", args={"by": {1, 2}},
               gas_limit=100_000),
            Tx(sender="b", contract="counter", function="bump", args={"by": 1}, gas_limit=1)]


@pytest.mark.parametrize("idle", ["always", "never"])
def test_prechecks_done_ahead_give_the_same_blocks(tmp_path, monkeypatch, idle):
    """execute_blocks runs the next block's state-independent checks while it waits for the
    worker (``_Prechecks``); admission then reuses them. Forced on for every transaction
    (the worker's frame never "ready") or off, the blocks are those of execute_block."""
    from pycontract.host import chain as chain_mod

    monkeypatch.setattr(chain_mod, "_readable", lambda fd: idle == "never")
    monkeypatch.setattr(chain_mod._Prechecks, "STEP", 3)
    ahead_counts = []
    real_admit = Chain._admit

    def admit(self, led, txs, ahead=None):
        ahead_counts.append(None if ahead is None else len(ahead.whys))
        return real_admit(self, led, txs, ahead)

    monkeypatch.setattr(Chain, "_admit", admit)
    blocks = history()
    for b in blocks[1:]:
        b[1:1] = refused_by_precheck()
    with Chain(tmp_path / "seq.db") as seq, Chain(tmp_path / "pipe.db") as pipe:
        want = [seq.execute_block(b) for b in blocks]
        ahead_counts.clear()
        got = pipe.execute_blocks(blocks)
        assert [summary(r) for r in got] == [summary(r) for r in want]
        assert (pipe.height, pipe.state_root()) == (seq.height, seq.state_root())
        for h in range(1, pipe.height + 1):
            assert pipe._ledger.block(h) == seq._ledger.block(h)
    assert [r.status for r in got[1][1:4]] == ["rejected"] * 3
    assert ahead_counts[0] is None  # the first block: nothing ran before it
    if idle == "always":  # each block after one the worker ran was checked in full ahead
        assert ahead_counts[1:4] == [len(b) for b in blocks[1:4]]
        assert ahead_counts[4] == 0  # block 3 sent the worker nothing: no wait to use
    else:
        assert set(ahead_counts[1:]) <= {0}


def test_prechecks_ahead_stop_at_an_unexpected_error(monkeypatch):
    """A step that meets an unexpected error gives the block back to admission, whole."""
    from pycontract.host import chain as chain_mod

    txs = [Tx(sender="b", contract="counter", function="bump", args={"by": i},
              gas_limit=100_000) for i in range(5)]
    calls = []

    def precheck(tx, max_gas, blobs=None):
        calls.append(tx)
        if len(calls) == 4:
            raise RuntimeError("boom")
        blobs[id(tx)] = b"x"

    monkeypatch.setattr(chain_mod, "_precheck", precheck)
    monkeypatch.setattr(chain_mod._Prechecks, "STEP", 3)
    pre = chain_mod._Prechecks(txs, 10**6)
    assert pre.step() is True and len(pre.whys) == 3
    assert pre.step() is False and pre.txs is None  # not used by _admit (ahead.txs is not txs)


@pytest.mark.parametrize("n, parts", [(500, [50] * 9 + [10] * 5), (120, [50, 50, 10, 10]),
                                      (25, [10, 10, 5]), (10, [10]), (1, [1])])
def test_the_last_results_of_a_block_come_in_small_parts(tmp_path, monkeypatch, n, parts):
    """The worker sends results in parts of 50, the block's last ones in parts of 10: what the
    host checks after the worker's last result (while the worker waits for the next block)
    is one small part. The final frame carries the last results (never empty)."""
    sizes = []
    real_reply = Chain._reply

    def reply(self, *a):
        r = real_reply(self, *a)
        if r.get("op") in ("block", "block_part"):
            sizes.append(len(r["results"]))
        return r

    with Chain(tmp_path / "l.db") as chain:
        chain.deploy("token", example("token.py"), sender="alice", args={"supply": 10**9},
                     gas_limit=5_000_000)
        monkeypatch.setattr(Chain, "_reply", reply)
        txs = [Tx(sender="alice", contract="token", function="transfer",
                  args={"to": f"u{i}", "amount": 1}, gas_limit=100_000) for i in range(n)]
        assert all(r.status == "success" for r in chain.execute_block(txs))
    assert sizes == parts


@pytest.mark.parametrize("n", [0, 1, 23, 24, 255, 256, 70_000])
def test_a_request_with_entries_encoded_ahead_decodes_as_the_plain_one(n):
    """protocol.encode_with_array (the block request of execute_blocks, whose transactions
    were encoded while waiting for the worker) gives the frame the worker decodes as the map."""
    import cbor2

    from pycontract.worker import protocol

    head = {"op": "block", "height": 7, "time": 9, "cpu_seconds": 61, "parent_pending": True}
    items = [{"kind": "call", "sender": "a", "contract": "t", "function": "f",
              "args": bytes([0xA0]), "gas_limit": i} for i in range(n)]
    frame = protocol.encode_with_array(head, "txs", cbor2.dumps(items))
    assert protocol.decode(frame[4:]) == {**head, "txs": items}
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    with pytest.raises(ValueError):
        protocol.encode_with_array({"txs": 1}, "txs", b"\x80")


def test_a_request_encoded_ahead_is_sent_when_admission_passes_all(tmp_path, monkeypatch):
    """Blocks whose transactions all pass admission go out as the array encoded ahead; the
    blocks are those of execute_block."""
    from pycontract.host import chain as chain_mod
    from pycontract.worker import protocol

    monkeypatch.setattr(chain_mod, "_readable", lambda fd: False)  # always time to spare
    used = []
    real = protocol.encode_with_array

    def encode_with_array(head, key, array):
        used.append(head["height"])
        return real(head, key, array)

    monkeypatch.setattr(protocol, "encode_with_array", encode_with_array)
    blocks = [[Tx(sender="alice", contract="token", function="transfer",
                  args={"to": f"u{b}_{i}", "amount": b + i}, gas_limit=100_000)
               for i in range(30)] for b in range(4)]
    with Chain(tmp_path / "seq.db") as seq, Chain(tmp_path / "pipe.db") as pipe:
        for c in (seq, pipe):
            c.deploy("token", example("token.py"), sender="alice", args={"supply": 10**9},
                     gas_limit=5_000_000)
        want = [seq.execute_block(b) for b in blocks]
        got = pipe.execute_blocks(blocks)
        assert [summary(r) for r in got] == [summary(r) for r in want]
        assert pipe.state_root() == seq.state_root() == pipe._ledger.verify_state()
    assert used == [3, 4, 5]  # every block after the first
