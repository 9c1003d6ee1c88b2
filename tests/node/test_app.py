"""The pycontract ABCI application fed by a test harness: real engine, real SQLite ledgers, real
worker subprocesses; the requests are the protobuf messages CometBFT sends, in its order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from ledger_store import codec
from pycontract.node import envelope
from pycontract.node.abci.tendermint.abci import types_pb2 as abci
from pycontract.node.abci.tendermint.types import params_pb2
from pycontract.node.app import (
    CODE_OK,
    CODE_OUT_OF_GAS,
    CODE_REJECTED,
    CODE_REVERTED,
    PycontractApp,
    receipt_digest,
)
from pycontract.node.keys import Key

CHAIN = "test-chain"
COUNTER = textwrap.dedent('''
    from pycontract import Value, ctx, emit, public, require, view

    count = Value(default=0)


    @public
    def bump(by: int) -> int:
        count.set(count.get() + by)
        emit("Bumped", by=by, who=ctx.sender)
        return count.get()


    @public
    def fail() -> None:
        require(False, "always fails")


    @public
    def spin() -> None:
        while True:
            pass


    @view
    def get() -> int:
        return count.get()
''')

ALICE = Key.from_seed(b"\x01" * 32)
BOB = Key.from_seed(b"\x02" * 32)


def deploy(key, nonce, name="counter", gas=2_000_000, chain_id=CHAIN):
    return envelope.sign(key, chain_id=chain_id, nonce=nonce, gas_limit=gas, kind="deploy",
                         contract=name, function="constructor", args={}, source=COUNTER)


def call(key, nonce, function="bump", args=None, gas=200_000, chain_id=CHAIN,
         contract="counter"):
    return envelope.sign(key, chain_id=chain_id, nonce=nonce, gas_limit=gas, kind="call",
                         contract=contract, function=function,
                         args={"by": 1} if args is None and function == "bump" else args or {})


def init_req(max_gas=10_000_000):
    params = params_pb2.ConsensusParams(block=params_pb2.BlockParams(max_bytes=4 << 20,
                                                                     max_gas=max_gas))
    return abci.RequestInitChain(chain_id=CHAIN, consensus_params=params, initial_height=1,
                                 time=Timestamp(seconds=1_000))


def finalize(app, height, txs, t=None):
    return app.finalize_block(abci.RequestFinalizeBlock(
        txs=txs, height=height, time=Timestamp(seconds=t or 1_000 + height, nanos=123)))


def run_block(app, height, txs):
    resp = finalize(app, height, txs)
    app.commit(abci.RequestCommit())
    return resp


@pytest.fixture
def make_app(tmp_path):
    apps = []

    def make(name="a", init=True, **kw):
        app = PycontractApp(str(tmp_path / name / "ledger.db"), CHAIN, log=lambda m: None)
        apps.append(app)
        if init and app.info(abci.RequestInfo()).last_block_height == 0:
            app.init_chain(init_req(**kw))
        return app

    os.makedirs(tmp_path / "a", exist_ok=True)
    for n in "bcd":
        os.makedirs(tmp_path / n, exist_ok=True)
    yield make
    for app in apps:
        try:
            app.close()
        except Exception:
            pass


BLOCKS = [
    [deploy(ALICE, 0)],
    [],
    [call(ALICE, 1), call(BOB, 0), call(ALICE, 2, "fail"), call(BOB, 1, "spin", gas=50_000)],
    [call(ALICE, 3), b"\x00garbage", call(ALICE, 3), call(BOB, 2, contract="missing")],
]


def test_same_blocks_same_hashes_on_three_apps(make_app):
    apps = [make_app(n) for n in "abc"]
    seen = []
    for h, txs in enumerate(BLOCKS, start=1):
        resps = [run_block(app, h, txs) for app in apps]
        assert len({r.SerializeToString(deterministic=True) for r in resps}) == 1
        seen.append(resps[0])
    codes = [[r.code for r in resp.tx_results] for resp in seen]
    assert codes == [[CODE_OK], [], [CODE_OK, CODE_OK, CODE_REVERTED, CODE_OUT_OF_GAS],
                     [CODE_OK, CODE_REJECTED, CODE_REJECTED, CODE_REJECTED]]
    bad = seen[3].tx_results
    assert "nonce 3 is already used" in bad[2].log and "unknown contract" in bad[3].log
    # an empty block is committed too: ledger height == chain height
    for app in apps:
        info = app.info(abci.RequestInfo())
        assert info.last_block_height == 4
        assert info.last_block_app_hash == seen[3].app_hash == bytes.fromhex(
            app.chain.state_root())
    # events reach CometBFT as ABCI events; the receipt digest is the data
    ok = seen[2].tx_results[0]
    assert ok.events[0].type == "Bumped"
    attrs = {a.key: a.value for a in ok.events[0].attributes}
    assert attrs == {"contract": "counter", "by": "1", "who": ALICE.address}
    r = apps[0].chain.receipt(envelope.decode(BLOCKS[2][0], chain_id=CHAIN,
                                              max_bytes=1 << 20).hash)
    assert ok.data == receipt_digest(r) and len(ok.data) == 32


def test_crash_after_finalize_block_replays_to_the_same_hash(make_app):
    app = make_app("a")
    run_block(app, 1, BLOCKS[0])
    expected = finalize(app, 2, BLOCKS[2])  # FinalizeBlock, then the process dies
    app.chain._drop_worker()
    app.chain._live().close()  # no Commit, no clean shutdown of the pending block
    app2 = make_app("a")
    info = app2.info(abci.RequestInfo())
    assert info.last_block_height == 1  # Info never reports uncommitted state
    again = finalize(app2, 2, BLOCKS[2])  # CometBFT's handshake replays the block
    assert again.SerializeToString(deterministic=True) == \
        expected.SerializeToString(deterministic=True)
    app2.commit(abci.RequestCommit())
    assert app2.info(abci.RequestInfo()).last_block_app_hash == expected.app_hash


def test_crash_after_commit_keeps_the_block(make_app):
    app = make_app("a")
    resp = run_block(app, 1, BLOCKS[0])
    app.close()
    app2 = make_app("a")
    info = app2.info(abci.RequestInfo())
    assert (info.last_block_height, info.last_block_app_hash) == (1, resp.app_hash)
    with pytest.raises(Exception, match="FinalizeBlock for height 1"):
        finalize(app2, 1, [])  # a block the ledger already has is never applied twice


def test_kill_9_between_finalize_block_and_commit(tmp_path):
    """A real SIGKILL of the app's process while a block is pending (FinalizeBlock answered,
    Commit not yet): the ledger stays at its last block and the replayed block gets the same
    app hash."""
    db = tmp_path / "ledger.db"
    script = textwrap.dedent(f'''
        import os, signal
        import test_app as t
        from pycontract.node.app import PycontractApp
        app = PycontractApp({str(db)!r}, t.CHAIN, log=lambda m: None)
        app.init_chain(t.init_req())
        t.run_block(app, 1, t.BLOCKS[0])
        r = t.finalize(app, 2, t.BLOCKS[2])
        open({str(tmp_path / "hash")!r}, "w").write(r.app_hash.hex())
        os.kill(os.getpid(), signal.SIGKILL)
    ''')
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", script], env=env, timeout=120,
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    app = PycontractApp(str(db), CHAIN, log=lambda m: None)
    try:
        assert app.info(abci.RequestInfo()).last_block_height == 1
        assert app.chain._live().conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        resp = run_block(app, 2, BLOCKS[2])
        assert resp.app_hash.hex() == (tmp_path / "hash").read_text()
    finally:
        app.close()


def test_init_chain_again_after_a_crash_before_the_first_commit(make_app):
    app = make_app("a", max_gas=5_000_000)
    finalize(app, 1, BLOCKS[0])
    app.chain._drop_worker()
    app.chain._live().close()
    app2 = make_app("a", init=False)
    assert app2.info(abci.RequestInfo()).last_block_height == 0
    app2.init_chain(init_req(max_gas=5_000_000))  # CometBFT calls it again at height 0
    assert app2.max_gas == 5_000_000
    run_block(app2, 1, BLOCKS[0])
    with pytest.raises(Exception, match="already at height 1"):
        app2.init_chain(init_req())


def test_init_chain_refuses_another_chain_id(make_app):
    app = make_app("a", init=False)
    with pytest.raises(Exception, match="chain id"):
        app.init_chain(abci.RequestInitChain(chain_id="other", initial_height=1))


def check(app, raw, recheck=False):
    return app.check_tx(abci.RequestCheckTx(tx=raw, type=abci.RECHECK if recheck else abci.NEW))


def test_check_tx_refuses_bad_transactions(make_app):
    app = make_app("a", max_gas=1_000_000)
    good = call(ALICE, 0)
    tampered = bytearray(good)
    tampered[len(tampered) // 2] ^= 1
    cases = {
        "tampered": bytes(tampered),
        "other chain": call(ALICE, 0, chain_id="another-chain"),
        "too much gas": call(ALICE, 0, gas=1_000_001),
        "oversized": envelope.sign(ALICE, chain_id=CHAIN, nonce=0, gas_limit=10, kind="call",
                                   contract="counter", function="bump",
                                   args={"x": "y" * (1 << 20)}),
        "bad name": call(ALICE, 0, contract="Not-A-Name"),
        "below the intrinsic cost": call(ALICE, 0, gas=500),
    }
    for what, raw in cases.items():
        r = check(app, raw)
        assert r.code == CODE_REJECTED and r.log, what
    assert "below the intrinsic cost" in check(app, cases["below the intrinsic cost"]).log
    assert check(app, good).code == CODE_OK
    r = check(app, good)  # the same transaction again: its nonce is taken by the mempool
    assert r.code == CODE_REJECTED and "nonce 0 is already used" in r.log
    assert check(app, call(ALICE, 2)).code == CODE_REJECTED  # skips nonce 1
    assert check(app, call(ALICE, 1)).code == CODE_OK
    # after a commit the mempool's view restarts from committed state (rechecks rebuild it)
    run_block(app, 1, [good])
    assert check(app, good, recheck=True).code == CODE_REJECTED
    assert check(app, call(ALICE, 1), recheck=True).code == CODE_OK


def test_proposals_respect_the_block_gas_limit(make_app):
    app = make_app("a", max_gas=500_000)
    assert app.chain.block_gas_limit == 500_000  # InitChain's max_gas is the Chain's limit
    txs = [call(ALICE, 0, gas=200_000), call(ALICE, 1, gas=200_000),
           call(ALICE, 2, gas=200_000), b"junk", call(ALICE, 3, gas=100_000)]
    prep = app.prepare_proposal(abci.RequestPrepareProposal(txs=txs, max_tx_bytes=1 << 20,
                                                            height=1))
    assert list(prep.txs) == [txs[0], txs[1], txs[4]]
    ok = app.process_proposal(abci.RequestProcessProposal(txs=list(prep.txs), height=1))
    assert ok.status == abci.ResponseProcessProposal.ACCEPT
    over = app.process_proposal(abci.RequestProcessProposal(txs=txs[:3], height=1))
    assert over.status == abci.ResponseProcessProposal.REJECT
    junk = app.process_proposal(abci.RequestProcessProposal(txs=[txs[3]], height=1))
    assert junk.status == abci.ResponseProcessProposal.REJECT


def test_queries(make_app):
    app = make_app("a")
    run_block(app, 1, BLOCKS[0])
    run_block(app, 2, [call(ALICE, 1)])

    def q(path, data):
        return app.query(abci.RequestQuery(path=path, data=data))

    r = q("/query", codec.encode_value({"contract": "counter", "function": "get", "args": {}}))
    assert (r.code, codec.decode_value(r.value), r.height) == (0, 1, 2)
    r = q("/nonce", ALICE.address.encode())
    assert codec.decode_value(r.value) == 2
    h = envelope.decode(call(ALICE, 1), chain_id=CHAIN, max_bytes=1 << 20).hash
    r = q("/receipt", bytes.fromhex(h))
    got = codec.decode_value(r.value)
    assert (got["status"], got["result"], got["tx_hash"], got["height"]) == ("success", 1, h, 2)
    assert q("/receipt", b"\x00" * 32).code == 1
    bad = q("/query", codec.encode_value({"contract": "counter", "function": "nope"}))
    assert bad.code == 1 and bad.log
    assert q("/query", b"\xff").code == 1
    assert q("/what", b"").code == 1


def test_divergence_switch_changes_only_the_reported_hash(make_app, monkeypatch):
    honest = make_app("a")
    monkeypatch.setenv("PYCONTRACT_TEST_FAULT", "app_hash@2")
    faulty = make_app("b")
    r1 = [run_block(a, 1, BLOCKS[0]).app_hash for a in (honest, faulty)]
    r2 = [run_block(a, 2, []).app_hash for a in (honest, faulty)]
    assert r1[0] == r1[1] and r2[0] != r2[1]


def test_remembered_verification_vouches_only_for_the_same_bytes(make_app):
    """CheckTx, rechecks, proposals and FinalizeBlock share one verification per envelope,
    keyed by the hash of every byte: a tampered copy of a verified transaction is refused."""
    app = make_app("a")
    good = call(ALICE, 0)
    assert check(app, good).code == CODE_OK
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= 0x40
        assert check(app, bytes(bad)).code == CODE_REJECTED, i
    resp = finalize(app, 1, [good[:-1] + bytes([good[-1] ^ 1]), good])
    assert [r.code for r in resp.tx_results] == [CODE_REJECTED, CODE_REJECTED]  # no contract
    assert "bad signature" in resp.tx_results[0].log


def test_info_compiles_contracts_missing_from_the_cache_before_any_block(make_app):
    """After an upgrade (compiled code of another engine in the ledger) a restarted node
    compiles its contracts when CometBFT's handshake asks for Info, before it replays or runs
    a block: no block's call pays node time to compile (issue 12, R4-6)."""
    from pycontract.metering import compiler

    app = make_app("a")
    run_block(app, 1, BLOCKS[0])
    app.chain._ledger.conn.execute("UPDATE compiled SET engine='cpython-399-elsewhere'")
    app.close()
    logged = []
    app2 = PycontractApp(app.chain.path, CHAIN, log=logged.append)
    try:
        assert app2.chain._ledger.uncompiled(compiler.engine_tag()) == ["counter"]
        assert app2.info(abci.RequestInfo()).last_block_height == 1
        assert app2.chain._ledger.uncompiled(compiler.engine_tag()) == []
        assert logged == ["pycontract: compiled 1 contract(s) for this engine"]
        app2.info(abci.RequestInfo())  # once per start
        assert len(logged) == 1
    finally:
        app2.close()
