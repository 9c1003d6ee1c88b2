"""Cross-contract calls, storage isolation, persistence, determinism, worker death, sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from engine_support import COUNTER, example, src, worker_result

from pycontract.host import MAX_GAS_PER_TX
from pycontract import Chain, Tx
from pycontract.errors import NodeFault

VICTIM = src(
    """
    from pycontract import Map, Value, ctx, public, view

    owner = Value(default="")
    balances = Map(default=0)


    @public
    def set_balance(who: str, amount: int) -> None:
        if owner.get() == "":
            owner.set(ctx.sender)
        balances[who] = amount


    @view
    def balance(who: str) -> int:
        return balances[who]


    @view
    def owner_of() -> str:
        return owner.get()


    def grant(who: str, amount: int) -> None:
        balances[who] = amount
    """
)

ATTACKER = src(
    """
    from pycontract import Map, Value, call, ctx, public, view

    # the same storage names as the victim: these are the attacker's own slots
    owner = Value(default="")
    balances = Map(default=0)


    @public
    def shadow(who: str) -> int:
        balances[who] = 10**9
        owner.set("attacker")
        return balances[who]


    @public
    def call_private(who: str) -> None:
        call("victim", "grant", who=who, amount=10**9)


    @public
    def call_view_that_reads(who: str) -> int:
        return call("victim", "balance", who=who)


    @public
    def through_public(who: str) -> None:
        call("victim", "set_balance", who=who, amount=1)


    @public
    def write_then_fail(who: str) -> None:
        balances[who] = 5
        call("victim", "no_such_function")
    """
)


def test_cross_contract_call_success_and_revert(token_chain):
    chain = token_chain
    assert chain.deploy("auction", example("auction.py"), sender="alice",
                        args={"token_contract": "token", "duration": 100}).status == "success"
    chain.call("token", "transfer", {"to": "bob", "amount": 300}, sender="alice")
    # no allowance: the token's transfer_from reverts, so the whole bid reverts
    root = chain.state_root()
    r = chain.call("auction", "bid", {"amount": 100}, sender="bob")
    assert r.status == "reverted" and "allowance" in r.error
    assert r.events == []
    assert chain.state_root() == root
    assert chain.query("auction", "status")["highest_bid"] == 0
    # with an allowance the callee runs with ctx.sender = the auction contract
    assert chain.call("token", "approve", {"spender": "auction", "amount": 250}, sender="bob").status == "success"
    r = chain.call("auction", "bid", {"amount": 100}, sender="bob")
    assert r.status == "success", r.error
    assert [(e.contract, e.name) for e in r.events] == [("token", "Transfer"), ("auction", "Bid")]
    assert r.events[0].fields == {"sender": "bob", "to": "auction", "amount": 100}
    assert chain.query("token", "balance_of", {"owner": "auction"}) == 100
    assert chain.query("token", "allowance", {"owner": "bob", "spender": "auction"}) == 150
    # a failure in the caller after a successful callee undoes the callee's writes too
    r = chain.call("auction", "bid", {"amount": 50}, sender="bob")
    assert r.status == "reverted"
    assert chain.query("token", "balance_of", {"owner": "auction"}) == 100


def test_a_contract_cannot_write_another_contracts_storage(chain):
    assert chain.deploy("victim", VICTIM, sender="alice").status == "success"
    assert chain.call("victim", "set_balance", {"who": "alice", "amount": 7}, sender="alice").status == "success"
    assert chain.deploy("attacker", ATTACKER, sender="mallory").status == "success"
    victim_before = (chain.query("victim", "balance", {"who": "mallory"}),
                     chain.query("victim", "owner_of"))

    # same storage names: writes land in the attacker's own storage
    r = chain.call("attacker", "shadow", {"who": "mallory"}, sender="mallory")
    assert r.status == "success" and r.result == 10**9
    # a private function of the victim cannot be called
    r = chain.call("attacker", "call_private", {"who": "mallory"}, sender="mallory")
    assert r.status == "reverted"
    # a failing cross-call reverts the attacker's own writes too
    r = chain.call("attacker", "write_then_fail", {"who": "x"}, sender="mallory")
    assert r.status == "reverted"
    # reading through a view is fine and returns the victim's value
    assert chain.call("attacker", "call_view_that_reads", {"who": "alice"}, sender="m").result == 7
    # the only way in is the victim's own public code, under the victim's rules
    r = chain.call("attacker", "through_public", {"who": "mallory"}, sender="mallory")
    assert r.status == "success"
    assert chain.query("victim", "balance", {"who": "mallory"}) == 1
    assert chain.query("victim", "owner_of") == victim_before[1] == "alice"
    assert chain.query("victim", "balance", {"who": "alice"}) == 7
    # routes around the language are refused at deploy
    for body in (
        "import sqlite3\n",
        "from pycontract import Map\nm = Map(default=0)\nx = m.__dict__\n",
        "x = __import__('os')\n",
        "x = getattr(1, 'real')\n",
        "x = globals()\n",
        "x = open('/tmp/f', 'w')\n",
        "x = eval('1')\n",
    ):
        r = chain.deploy("evil", body, sender="mallory")
        assert r.status == "rejected", body
    # the attacker's own storage holds its shadow values, the victim's is untouched
    victim_rows = dict(chain._ledger.iter_items("victim"))
    assert all(v != b"" for v in victim_rows.values())
    assert chain.query("victim", "balance", {"who": "x"}) == 0


def test_worker_host_refuses_foreign_writes_in_process(tmp_path):
    """The worker's host interface checks the contract of every storage access against the
    running frame, whatever the runtime passes."""
    from ledger_store import Ledger, codec
    from pycontract.errors import Reverted
    from pycontract.runtime import CallFrame
    from pycontract.worker.process import Executor, TxHost

    with Chain(tmp_path / "l.db") as chain:
        chain.deploy("victim", VICTIM, sender="alice")
    led = Ledger(tmp_path / "l.db", readonly=True)
    try:
        with led.begin_block() as ov:
            host = TxHost(Executor(led), ov, 2, 2, "mallory")
            host.stack.append(CallFrame(contract="attacker", sender="m", origin="m",
                                        block_height=2, block_time=2, readonly=False, depth=0))
            key = codec.encode_key(("balances", "mallory"))
            ov.begin_tx()
            with pytest.raises(Reverted):
                host.storage_put("victim", key, codec.encode_value(5))
            with pytest.raises(Reverted):
                host.storage_get("victim", key)
            with pytest.raises(Reverted):
                host.emit("victim", "Fake", {})
            host.storage_put("attacker", key, codec.encode_value(5))
            assert set(c for c, _ in ov.keep_tx()) == {"attacker"}
    finally:
        led.close()


def test_host_refuses_forged_worker_results(chain):
    """What comes back from the worker is validated: writes outside the call tree, bad
    encodings, gas above the limit, statuses that lie are node faults."""
    from ledger_store import codec
    from pycontract.host.validate import _validate_result

    tx = Tx(sender="m", contract="attacker", function="f", gas_limit=1000)
    known = {"attacker", "victim"}.__contains__
    good_key, good_val = codec.encode_key(("x",)), codec.encode_value(1)

    result = worker_result

    assert _validate_result(result(writes=[["attacker", good_key, good_val]]), tx, known, None)
    # one-byte results are looked up, not decoded: the same values as the decoder's
    for v in [True, False, None, 0, 7, 23, 24, -1, "", b"", [], {}]:
        enc = codec.encode_value(v)
        c = _validate_result(result(result=enc), tx, known, None)
        assert (type(c.result), c.result, c.result_bytes) == (type(v), v, enc)
    forged = [
        result(writes=[["victim", good_key, good_val]]),  # victim not in the call tree
        result(writes=[["attacker", b"\xff", good_val]]),  # key not canonical
        result(writes=[["attacker", good_key, b"\x18\x01"]]),  # value not canonical
        result(gas_used=1001),
        result(gas_used=-1),
        result(status="out_of_gas", gas_used=5, error="x"),
        result(status="reverted", error="x", writes=[["attacker", good_key, good_val]]),
        result(status="bogus"),
        result(touched=["attacker", "ghost"]),
        result(events=[["victim", "E", codec.encode_value({})]]),
        result(deployed={"name": "attacker"}),
        result(result=b"\xff\xff"),
        result(result=b"\x18\x01"),  # a one-item int, but not its canonical byte
        result(writes=["attacker", good_key]),  # not a flat list of triples
        result(events=["attacker", "E"]),
        result(status="success", error=None)[:7],  # an item missing
        result() + [None, None],  # one too many (a profile is the only extra)
        {"status": "success"},  # the old map form
        "not a result",
    ]
    for r in forged:
        with pytest.raises(NodeFault):
            _validate_result(r, tx, known, None)


def test_persistence_across_reopen(tmp_path):
    path = tmp_path / "ledger.db"
    with Chain(path) as chain:
        chain.deploy("token", example("token.py"), sender="alice", args={"supply": 100})
        r = chain.call("token", "transfer", {"to": "bob", "amount": 40}, sender="alice")
        root, height = chain.state_root(), chain.height
    with Chain(path) as chain:
        assert chain.height == height == 2
        assert chain.state_root() == root
        assert chain.query("token", "balance_of", {"owner": "bob"}) == 40
        assert chain.receipt(r.tx_hash).to_dict() == r.to_dict()
        r2 = chain.call("token", "transfer", {"to": "bob", "amount": 1}, sender="alice")
        assert r2.status == "success" and chain.height == 3


def test_locked_ledger_and_foreign_gas_schedule(tmp_path):
    from ledger_store import Ledger
    from ledger_store.errors import LedgerLockedError
    from pycontract.host import LedgerVersionError

    path = tmp_path / "ledger.db"
    with Chain(path):
        with pytest.raises(LedgerLockedError):
            Chain(path)
    with Ledger(path) as led:
        led.set_meta("gas_schedule_version", 999_999)
    with pytest.raises(LedgerVersionError, match="gas schedule version 999999"):
        Chain(path)


HISTORY_SCRIPT = r"""
import json, sys
from pycontract import Chain, Tx
from importlib.resources import files
ex = lambda n: files("pycontract.examples").joinpath(n).read_text()
out = []
with Chain(sys.argv[1], worker_hash_seed=int(sys.argv[2])) as c:
    out.append(c.deploy("token", ex("token.py"), sender="alice", args={"supply": 10**6}).to_dict())
    out.append(c.deploy("ballot", ex("voting.py"), sender="alice",
                        args={"proposals": ["b", "a", "c", "zz", "y"]}).to_dict())
    rs = c.execute_block([Tx(sender=f"u{i}", contract="ballot", function="vote",
                             args={"proposal": "abcyz"[i % 5] if i % 5 != 3 else "zz"})
                          for i in range(20)])
    out += [r.to_dict() for r in rs]
    out.append(c.call("token", "transfer", {"to": "bob", "amount": 10}, sender="alice").to_dict())
    out.append(c.query("ballot", "tally"))
    out.append(list(c.query("ballot", "tally")))
    out.append(c.state_root())
print(json.dumps(out, sort_keys=True))
"""


def _history(tmp_path, name, host_seed, worker_seed):
    env = dict(os.environ, PYTHONHASHSEED=str(host_seed))
    # cwd=tmp_path: from the repository root, ``python -c`` would import the source tree's
    # pycontract (which has no pycontract.examples) instead of the installed package
    p = subprocess.run([sys.executable, "-c", HISTORY_SCRIPT, str(tmp_path / name), str(worker_seed)],
                       env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.determinism
def test_same_history_same_receipts_and_root_under_any_hash_seed(tmp_path):
    a = _history(tmp_path, "a.db", 0, 0)
    b = _history(tmp_path, "b.db", 12345, 98765)
    c = _history(tmp_path, "c.db", 7, 1)
    assert a == b == c
    assert json.loads(a)[-1]  # a state root


def test_same_history_twice_in_process(tmp_path):
    def run(path):
        with Chain(path) as c:
            rs = [c.deploy("counter", COUNTER, sender="a")]
            rs += c.execute_block([Tx(sender="b", contract="counter", function="bump", args={"by": i})
                                   for i in range(5)])
            rs.append(c.call("counter", "bump_then_fail", {"by": 1}, sender="b"))
            return [r.to_dict() for r in rs], c.state_root()

    assert run(tmp_path / "1.db") == run(tmp_path / "2.db")


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_worker_killed_mid_transaction_is_a_node_fault(counter):
    chain = counter
    root, height = chain.state_root(), chain.height
    pid = chain.worker_pid
    idle = _cpu_ticks(pid)
    killer_state = {}

    def killer():
        # wait until the worker burns CPU inside the contract's loop (polling, not timing)
        deadline = time.monotonic() + 120
        while _cpu_ticks(pid) < idle + 30:
            if time.monotonic() > deadline:
                killer_state["timeout"] = True
                break
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)

    t = threading.Thread(target=killer)
    t.start()
    try:
        with pytest.raises(NodeFault) as ei:
            chain.call("counter", "bump_then_spin", {"by": 1, "n": 10**12}, sender="bob",
                       gas_limit=MAX_GAS_PER_TX)
    finally:
        t.join(120)
    assert not killer_state.get("timeout"), "the worker never started running the contract"
    msg = str(ei.value)
    assert "SIGKILL" in msg and "nothing was committed" in msg, msg
    assert chain.height == height and chain.state_root() == root
    # the next request gets a fresh worker and works
    r = chain.call("counter", "bump", {"by": 2}, sender="bob")
    assert r.status == "success" and r.result == 2
    assert chain.worker_pid != pid


def test_sandbox_walls_inside_the_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("PYCONTRACT_WORKER_TEST_PROBES", "1")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with Chain(tmp_path / "ledger.db") as chain:
        report = chain.sandbox_report
        assert report["no_new_privs"] is True
        assert report["rlimits"]["file_size"] == 0
        results = chain.probe_sandbox(str(scratch))
        # the worker is still usable afterwards
        chain.deploy("counter", COUNTER, sender="a")
        assert chain.call("counter", "bump", {"by": 1}, sender="a").result == 1
    # writes are stopped by Landlock, or by RLIMIT_FSIZE (then the file may exist but is empty)
    assert results["file_write"].startswith("refused"), results
    assert not any(p.stat().st_size for p in scratch.iterdir())
    if report["seccomp"].get("enabled"):
        for attempt in ("fork", "exec", "socket_inet", "socket_unix"):
            assert results[attempt].startswith("refused"), (attempt, results)
    else:
        pytest.skip(f"seccomp unavailable here: {report['seccomp']}")
    if report["landlock"].get("enabled"):
        assert results["read_etc_hostname"].startswith("refused"), results
        if report["landlock"]["abi"] >= 6:
            assert results["signal_parent"].startswith("refused"), results


def test_probe_is_refused_without_the_test_flag(tmp_path, monkeypatch):
    monkeypatch.delenv("PYCONTRACT_WORKER_TEST_PROBES", raising=False)
    with Chain(tmp_path / "ledger.db") as chain:
        with pytest.raises(NodeFault):
            chain.probe_sandbox(str(tmp_path))
        chain.deploy("counter", COUNTER, sender="a")  # a fresh worker takes over
        assert chain.height == 1


def test_worker_environment_is_scrubbed(tmp_path, monkeypatch):
    monkeypatch.setenv("PYCONTRACT_SECRET_FOR_TEST", "s3cret")
    with Chain(tmp_path / "ledger.db") as chain:
        pid = chain.worker_pid
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if item)
        fds = os.listdir(f"/proc/{pid}/fd")
    assert b"PYCONTRACT_SECRET_FOR_TEST" not in env
    assert env[b"PYTHONHASHSEED"].isdigit()
    assert len(fds) <= 12, fds  # stdio, two pipes, the SQLite files


def test_worker_hash_seed_is_secret_and_random_unless_fixed(tmp_path):
    def seed_of(chain):
        with open(f"/proc/{chain.worker_pid}/environ", "rb") as f:
            env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if item)
        return env[b"PYTHONHASHSEED"]

    with Chain(tmp_path / "a.db") as a, Chain(tmp_path / "b.db") as b:
        assert seed_of(a) != seed_of(b)  # 1 in 2**32 chance of a false failure
    with Chain(tmp_path / "c.db", worker_hash_seed=7) as c:
        assert seed_of(c) == b"7"


class _FakeWorker:
    """Stands in for the sandbox worker: its reply pipe is prefilled with forged frames."""

    def __init__(self, frames):
        from pycontract.worker import protocol

        self.resp, w = os.pipe()
        for f in frames:
            protocol.write_frame(w, f)
        os.close(w)
        self.req = os.open(os.devnull, os.O_WRONLY)
        self.killed = False
        self.pid = -1
        self.sandbox = {}

        class _Proc:
            def poll(self_inner):
                return None if not self.killed else -9

        self.proc = _Proc()

    def kill(self):
        self.killed = True
        for fd in (self.req, self.resp):
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self, graceful=True):
        self.kill()

    def describe_exit(self):
        return "was killed by SIGKILL"


def _forged_block(chain, monkeypatch, frames, n=3):
    fake = _FakeWorker(frames)
    monkeypatch.setattr(chain, "_ensure_worker", lambda: fake)
    chain._worker = fake
    txs = [Tx(sender="alice", contract="token", function="transfer",
              args={"to": "bob", "amount": 1}) for _ in range(n)]
    return fake, txs


def test_block_results_in_parts_are_counted_and_applied(token_chain, monkeypatch):
    """Block replies arrive as block_part frames then one block frame; the host applies them as
    they come and refuses a reply with too many, too few or empty parts (nothing committed)."""
    chain = token_chain
    rev = worker_result(status="reverted", gas_used=5, error="token:1: no", touched=["token"])
    h = chain.height
    bad_replies = [
        [{"op": "block_part", "results": [rev, rev]}, {"op": "block", "results": [rev, rev]}],
        [{"op": "block_part", "results": []}, {"op": "block", "results": [rev, rev, rev]}],
        [{"op": "block_part", "results": [rev]}, {"op": "block", "results": [rev]}],
        [{"op": "block_part", "results": [rev]}, {"op": "query", "results": [rev, rev]}],
        [{"op": "block_part", "results": [rev, rev, rev]}],  # then EOF: the worker died
    ]
    for frames in bad_replies:
        fake, txs = _forged_block(chain, monkeypatch, frames)
        with pytest.raises(NodeFault):
            chain.execute_block(txs)
        assert fake.killed and chain.height == h
    fake, txs = _forged_block(chain, monkeypatch, [
        {"op": "block_part", "results": [rev]}, {"op": "block_part", "results": [rev]},
        {"op": "block", "results": [rev]}])
    receipts = chain.execute_block(txs)
    assert [r.status for r in receipts] == ["reverted"] * 3 and chain.height == h + 1
    assert not fake.killed
    fake.kill()
