"""The pinned CometBFT, node homes, `pycontract node init/start`, the client's RPC and the
network CLI's error lines. Real CometBFT processes on loopback; every process is stopped in a
finally; waits are polls with deadlines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pycontract.node import cometbft
from pycontract.node.client import NodeClient, NodeError, NodeUnavailable
from node_support import height as node_height, poll

REPO = Path(__file__).resolve().parents[2]




def _children_of(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_bytes()
            except OSError:
                continue
            rest = stat[stat.rindex(b")") + 2:].split()
            if int(rest[1]) == pid and rest[0] not in (b"Z", b"X"):
                out.append(int(name))
    return out


def _alive(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X")


# ----------------------------------------------------------------------------- the binary


def test_ensure_installed_finds_the_pinned_build(cometbft_bin):
    assert os.path.isfile(cometbft_bin)
    assert cometbft.binary_version(cometbft_bin) == "0.38.26"
    assert cometbft.COMETBFT_VERSION == "v0.38.26"
    out = subprocess.run([sys.executable, "-m", "pycontract.node.cometbft"], capture_output=True,
                         text=True, timeout=120, cwd=str(REPO))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == cometbft_bin


def test_env_override_must_be_the_pinned_version(tmp_path, monkeypatch, cometbft_bin):
    fake = tmp_path / "cometbft"
    fake.write_text("#!/bin/sh\necho 0.38.0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PYCONTRACT_COMETBFT", str(fake))
    with pytest.raises(cometbft.CometBFTError, match=r"is CometBFT 0\.38\.0, pycontract needs 0\.38\.26"):
        cometbft.ensure_installed()
    monkeypatch.setenv("PYCONTRACT_COMETBFT", str(tmp_path / "missing"))
    with pytest.raises(cometbft.CometBFTError, match="no such file"):
        cometbft.ensure_installed()
    monkeypatch.setenv("PYCONTRACT_COMETBFT", cometbft_bin)
    assert cometbft.ensure_installed() == cometbft_bin


def test_cached_build_is_preferred(tmp_path, monkeypatch, cometbft_bin):
    monkeypatch.delenv("PYCONTRACT_COMETBFT", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached = tmp_path / "pycontract" / "cometbft-v0.38.26" / "cometbft"
    cached.parent.mkdir(parents=True)
    os.symlink(cometbft_bin, cached)
    assert cometbft.ensure_installed() == str(cached)


def test_no_go_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.delenv("PYCONTRACT_COMETBFT", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("GOPATH", raising=False)
    monkeypatch.setattr(cometbft, "_GO_FALLBACKS", [])
    with pytest.raises(cometbft.CometBFTError) as e:
        cometbft.ensure_installed()
    assert "`go` is not on PATH" in str(e.value) and "\n" not in str(e.value)


def test_failed_build_is_one_clear_line(tmp_path, monkeypatch):
    fake_go = tmp_path / "bin" / "go"
    fake_go.parent.mkdir()
    fake_go.write_text("#!/bin/sh\necho 'go: downloading something' >&2\necho 'go: module lookup disabled' >&2\nexit 1\n")
    fake_go.chmod(0o755)
    monkeypatch.delenv("PYCONTRACT_COMETBFT", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(fake_go.parent))
    monkeypatch.delenv("GOPATH", raising=False)
    with pytest.raises(cometbft.CometBFTError, match=r"^building CometBFT v0\.38\.26 failed: go: module lookup disabled$"):
        cometbft.ensure_installed()


# ----------------------------------------------------------------------------- homes


def test_init_home_layout_and_patches(tmp_path, cometbft_bin):
    home = cometbft.init_home(tmp_path / "n", binary=cometbft_bin, chain_id="pyc-test", rpc_port=31001,
                              p2p_port=31002, fast=True, max_gas=12345)
    assert (home / "config" / "config.toml").is_file() and (home / "data").is_dir() and (home / "app").is_dir()
    cfg = cometbft.read_config(home)
    assert cfg["proxy_app"] == f"unix://{home}/app.sock"
    assert cfg["rpc"]["laddr"] == "tcp://127.0.0.1:31001"
    assert cfg["p2p"]["laddr"] == "tcp://127.0.0.1:31002"
    assert cfg["p2p"]["allow_duplicate_ip"] is True and cfg["p2p"]["addr_book_strict"] is False
    assert cfg["tx_index"]["indexer"] == "kv"
    assert cfg["consensus"]["timeout_commit"] == "300ms" and cfg["consensus"]["timeout_propose"] == "500ms"
    g = cometbft.read_genesis(home)
    assert g["consensus_params"]["block"]["max_gas"] == "12345" and g["chain_id"] == "pyc-test"
    with pytest.raises(cometbft.CometBFTError, match="already a node home"):
        cometbft.init_home(home, binary=cometbft_bin)


def test_patch_config_refuses_unknown_keys(tmp_path, cometbft_bin):
    home = cometbft.init_home(tmp_path / "n", binary=cometbft_bin)
    before = (home / "config" / "config.toml").read_text()
    with pytest.raises(cometbft.CometBFTError, match=r"no setting \[consensus\] timeout_comit"):
        cometbft.patch_config(home / "config" / "config.toml", {"consensus": {"timeout_comit": "1s"}})
    assert (home / "config" / "config.toml").read_text() == before
    # a key of the same name in another section is not touched
    cometbft.patch_config(home / "config" / "config.toml", {"rpc": {"laddr": "tcp://127.0.0.1:1"}})
    cfg = cometbft.read_config(home)
    assert cfg["rpc"]["laddr"] == "tcp://127.0.0.1:1" and cfg["p2p"]["laddr"] != "tcp://127.0.0.1:1"


def test_node_id_matches_cometbft(tmp_path, cometbft_bin):
    home = cometbft.init_home(tmp_path / "n", binary=cometbft_bin)
    assert cometbft.node_id(home) == cometbft.run_cometbft(cometbft_bin, ["show-node-id", "--home", str(home)]).strip()


def test_socket_path_too_long_is_refused(tmp_path):
    deep = tmp_path / ("d" * 100)
    with pytest.raises(cometbft.CometBFTError, match="too long for a unix socket"):
        cometbft.socket_path(deep)


# ----------------------------------------------------------------------------- node init/start


def _start_node(home, app="kvstore"):
    return subprocess.Popen(
        [sys.executable, "-m", "pycontract.node.cli", "node", "start", "--home", str(home), "--app", app],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO), start_new_session=True,
    )


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


@pytest.mark.network
def test_node_init_then_start_and_sigterm_stops_both(tmp_path, node_cli, cometbft_bin):
    home = tmp_path / "n"
    rpc, p2p = cometbft.free_ports(2)
    r = node_cli("node", "init", "--home", home, "--rpc-port", rpc, "--p2p-port", p2p)
    assert r.returncode == 0, r.stderr
    for sub in ("config", "data", "app"):
        assert (home / sub).is_dir()
    r = node_cli("node", "init", "--home", home)
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "already a node home" in r.stderr
    # fast blocks for the test
    cometbft.patch_config(home / "config" / "config.toml", {"consensus": dict(cometbft.FAST_TIMEOUTS)})
    proc = _start_node(home)
    try:
        url = f"http://127.0.0.1:{rpc}"
        poll(lambda: (node_height(url) or 0) >= 2, 60, "blocks")
        assert cometbft.read_pid(home / "node.pid") == proc.pid
        kids = _children_of(proc.pid)
        assert len(kids) == 1
        assert (home / "cometbft.log").stat().st_size > 0
        # a second node on the same home is refused
        r = node_cli("node", "start", "--home", home, "--app", "kvstore")
        assert r.returncode == 3 and "already running" in r.stderr and r.stderr.count("\n") == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        poll(lambda: not any(_alive(k) for k in kids), 10, "cometbft to exit")
        assert not (home / "node.pid").exists()
    finally:
        _kill_group(proc)


@pytest.mark.network
def test_node_exits_nonzero_when_cometbft_dies(tmp_path, cometbft_bin):
    home = cometbft.init_home(tmp_path / "n", binary=cometbft_bin, fast=True,
                              rpc_port=cometbft.free_port(), p2p_port=cometbft.free_port())
    proc = _start_node(home)
    try:
        kids = poll(lambda: _children_of(proc.pid), 30, "cometbft child")
        os.kill(kids[0], signal.SIGKILL)
        assert proc.wait(timeout=30) == 3
        err = proc.stderr.read()
        assert err.startswith("error: cometbft exited with status -9") and err.count("\n") == 1, err
    finally:
        _kill_group(proc)


@pytest.mark.network
def test_cometbft_dies_with_a_killed_node(tmp_path, cometbft_bin):
    """kill -9 of the node process alone never leaves its CometBFT behind (PDEATHSIG)."""
    home = cometbft.init_home(tmp_path / "n", binary=cometbft_bin, fast=True,
                              rpc_port=cometbft.free_port(), p2p_port=cometbft.free_port())
    proc = _start_node(home)
    try:
        kids = poll(lambda: _children_of(proc.pid), 30, "cometbft child")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        poll(lambda: not _alive(kids[0]), 30, "the orphaned cometbft to exit")
    finally:
        _kill_group(proc)


def test_node_start_without_home_is_one_line(tmp_path, node_cli):
    r = node_cli("node", "start", "--home", tmp_path / "nothing", "--app", "kvstore")
    assert r.returncode == 3 and r.stderr.count("\n") == 1 and "not a node home" in r.stderr


def test_bad_app_spec_is_a_usage_error(tmp_path, node_cli):
    r = node_cli("node", "start", "--home", tmp_path, "--app", "nonsense")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--app must be" in r.stderr


# ----------------------------------------------------------------------------- client + status


@pytest.fixture
def kv_node(tmp_path, cometbft_bin):
    rpc, p2p = cometbft.free_ports(2)
    home = cometbft.init_home(tmp_path / "n", binary=cometbft_bin, fast=True, rpc_port=rpc, p2p_port=p2p)
    proc = _start_node(home)
    url = f"http://127.0.0.1:{rpc}"
    try:
        poll(lambda: (node_height(url) or 0) >= 1, 60, "the node")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        finally:
            _kill_group(proc)


@pytest.mark.network
def test_client_broadcast_wait_and_status(kv_node, node_cli):
    c = NodeClient(kv_node)
    h = c.broadcast(b"alpha=1")
    assert len(h) == 64 and h == h.lower()
    res = c.wait_for(h)
    assert res["code"] == 0 and res["height"] >= 1
    assert c.wait_for("0x" + h.upper())["height"] == res["height"]
    q = c.abci_query("/store", b"alpha")
    assert q["value"] == b"1"
    poll(lambda: c.status()["height"] > res["height"], 30, "the next block")
    st = c.status()
    assert st["app_hash"] == c.block(st["height"])["app_hash"] and st["app_hash"] != "0" * 16
    r = node_cli("status", "--node", kv_node, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["height"] >= st["height"] and len(doc["app_hash"]) == 16
    r = node_cli("status", "--node", kv_node)
    assert r.returncode == 0 and r.stdout.startswith("height ")


@pytest.mark.network
def test_wait_for_an_unknown_tx_is_bounded(kv_node):
    c = NodeClient(kv_node)
    t0 = time.monotonic()
    with pytest.raises(NodeError, match="not committed within 1 s"):
        c.wait_for("ab" * 32, timeout=1)
    assert time.monotonic() - t0 < 10
    with pytest.raises(NodeError, match="not a transaction hash"):
        c.wait_for("xyz")


def test_unreachable_node_is_one_clear_error(node_cli):
    port = cometbft.free_port()
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(NodeUnavailable, match=rf"node {url} is unavailable: .*refused"):
        NodeClient(url).status()
    r = node_cli("status", "--node", url)
    assert r.returncode == 3 and r.stderr.count("\n") == 1 and "unavailable" in r.stderr, r.stderr


# ----------------------------------------------------------------------------- keys CLI


def test_keys_new_show_and_bad_key_files(tmp_path, node_cli):
    out = tmp_path / "alice.json"
    r = node_cli("keys", "new", "--out", out)
    assert r.returncode == 0, r.stderr
    addr = r.stdout.strip()
    assert addr.startswith("0x") and len(addr) == 42
    r = node_cli("keys", "show", out)
    assert r.returncode == 0 and r.stdout.strip() == addr
    r = node_cli("keys", "new", "--out", out)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "refusing to overwrite" in r.stderr
    r = node_cli("keys", "show", tmp_path / "missing.json")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "missing.json" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = node_cli("keys", "show", bad)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


# ----------------------------------------------------------------------------- a Python app


# A tiny ABCI app served by N1's server through `node start --app MODULE:CALLABLE`: counts
# transactions (the app hash is the count); a transaction b"crash" makes FinalizeBlock raise.
COUNTER_APP = '''
import struct
from pycontract.node.abci.server import Application
from pycontract.node.abci.tendermint.abci import types_pb2 as pb


class Counter(Application):
    def __init__(self, home, ledger_path, chain_id):
        self.home, self.chain_id = home, chain_id
        ledger_path.write_text("opened by the test app\\n")
        self.height, self.count, self.pending = 0, 0, None

    def _hash(self, count):
        return struct.pack(">Q", count)

    def info(self, req):
        return pb.ResponseInfo(last_block_height=self.height,
                               last_block_app_hash=self._hash(self.count) if self.height else b"")

    def finalize_block(self, req):
        if b"crash" in req.txs:
            raise RuntimeError("the test app was told to crash")
        count = self.count + len(req.txs)
        self.pending = (req.height, count)
        return pb.ResponseFinalizeBlock(tx_results=[pb.ExecTxResult() for _ in req.txs],
                                        app_hash=self._hash(count))

    def commit(self, req):
        self.height, self.count = self.pending
        return pb.ResponseCommit()

    def query(self, req):
        return pb.ResponseQuery(code=0, value=struct.pack(">Q", self.count))


def create_app(*, home, ledger_path, chain_id):
    return Counter(home, ledger_path, chain_id)
'''


# A stand-in for pycontract's app that speaks exactly the agreed protocol (envelopes, /nonce,
# /receipt, /query, result codes) without the engine: it lets the client be tested end to end
# through CometBFT before app.py exists. Every tx "succeeds" with gas_used 7 * (nonce + 1),
# returns its args, and emits one event; a call to function "boom" reverts.
PROTOCOL_APP = '''
import hashlib
import cbor2
from pycontract.node import envelope
from pycontract.node.abci.server import Application
from pycontract.node.abci.tendermint.abci import types_pb2 as pb


def enc(v):
    return cbor2.dumps(v, canonical=True)


class Protocol(Application):
    def __init__(self, home, ledger_path, chain_id):
        self.chain_id = chain_id
        self.nonces, self.receipts, self.pending = {}, {}, None
        self.height = 0

    def _decode(self, raw):
        return envelope.decode(raw, chain_id=self.chain_id, max_bytes=1 << 20)

    def check_tx(self, req):
        try:
            tx = self._decode(req.tx)
        except envelope.EnvelopeError as e:
            return pb.ResponseCheckTx(code=1, log=e.reason)
        want = self.nonces.get(tx.sender, 0)
        if tx.nonce != want:
            return pb.ResponseCheckTx(code=1, log=f"bad nonce {tx.nonce} (expected {want})")
        return pb.ResponseCheckTx(code=0, gas_wanted=1)

    def finalize_block(self, req):
        nonces, receipts, results = dict(self.nonces), {}, []
        for i, raw in enumerate(req.txs):
            tx = self._decode(raw)
            nonces[tx.sender] = tx.nonce + 1
            failed = tx.function == "boom"
            r = {"status": "reverted" if failed else "success", "gas_used": 7 * (tx.nonce + 1),
                 "result": None if failed else {"args": tx.args, "sender": tx.sender},
                 "error": "boom said no" if failed else None,
                 "events": [] if failed else [{"contract": tx.contract, "name": "Seen", "fields": {"kind": tx.kind}}],
                 "tx_hash": tx.hash, "height": req.height, "index": i}
            receipts[bytes.fromhex(tx.hash)] = enc(r)
            results.append(pb.ExecTxResult(code=2 if failed else 0, data=hashlib.sha256(enc(r)).digest()))
        self.pending = (req.height, nonces, receipts)
        return pb.ResponseFinalizeBlock(tx_results=results, app_hash=hashlib.sha256(enc(sorted(nonces.items()))).digest())

    def commit(self, req):
        self.height, self.nonces, new = self.pending
        self.receipts.update(new)
        return pb.ResponseCommit()

    def info(self, req):
        return pb.ResponseInfo()

    def query(self, req):
        if req.path == "/nonce":
            return pb.ResponseQuery(code=0, value=enc(self.nonces.get(req.data.decode(), 0)))
        if req.path == "/receipt":
            r = self.receipts.get(bytes(req.data))
            if r is None:
                return pb.ResponseQuery(code=1, log="unknown transaction")
            return pb.ResponseQuery(code=0, value=r)
        if req.path == "/query":
            q = cbor2.loads(req.data)
            if q["function"] == "boom":
                return pb.ResponseQuery(code=2, log="reverted: boom said no")
            return pb.ResponseQuery(code=0, value=enc([q["contract"], q["args"], q.get("gas_limit")]))
        return pb.ResponseQuery(code=1, log="unknown path")


def create_protocol_app(*, home, ledger_path, chain_id):
    return Protocol(home, ledger_path, chain_id)
'''


def _run_py_node(tmp_path, cometbft_bin, factory):
    """A node serving a test app from Python; yields (url, home, proc)."""
    pytest.importorskip("pycontract.node.abci.server")
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "counter_test_app.py").write_text(COUNTER_APP + PROTOCOL_APP)
    rpc, p2p = cometbft.free_ports(2)
    home = cometbft.init_home(tmp_path / "n", binary=cometbft_bin, fast=True, rpc_port=rpc, p2p_port=p2p)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(mod_dir), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pycontract.node.cli", "node", "start", "--home", str(home),
         "--app", f"counter_test_app:{factory}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO), env=env,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{rpc}", home, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        _kill_group(proc)


@pytest.fixture
def py_node(tmp_path, cometbft_bin):
    yield from _run_py_node(tmp_path, cometbft_bin, "create_app")


@pytest.fixture
def protocol_node(tmp_path, cometbft_bin):
    gen = _run_py_node(tmp_path, cometbft_bin, "create_protocol_app")
    url, _home, _proc = next(gen)
    try:
        poll(lambda: (node_height(url) or 0) >= 1, 60, "the node")
        yield url
    finally:
        gen.close()


@pytest.mark.network
def test_node_serves_a_python_app_and_stops_cleanly(py_node):
    url, home, proc = py_node
    poll(lambda: (node_height(url) or 0) >= 2, 60, "blocks")
    assert (home / "app" / "ledger.db").read_text() == "opened by the test app\n"
    assert (home / "app.sock").exists()
    c = NodeClient(url)
    for i in range(3):
        c.wait_for(c.broadcast(b"tx%d" % i))
    poll(lambda: c.status()["app_hash"] == "0000000000000003", 30, "the app hash to count 3 txs")
    assert c.abci_query("/count", b"")["value"] == (3).to_bytes(8, "big")
    assert "ABCI server listening" in (home / "app.log").read_text()
    kids = _children_of(proc.pid)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0, proc.stderr.read()
    poll(lambda: not any(_alive(k) for k in kids), 10, "cometbft to exit")
    assert not (home / "app.sock").exists() and not (home / "node.pid").exists()


@pytest.mark.network
def test_node_stops_cometbft_when_the_app_fails(py_node):
    url, home, proc = py_node
    poll(lambda: (node_height(url) or 0) >= 1, 60, "blocks")
    kids = _children_of(proc.pid)
    NodeClient(url).broadcast(b"crash")
    assert proc.wait(timeout=60) == 3
    err = proc.stderr.read()
    assert err.startswith("error: the application stopped: ABCI finalize_block failed:") and err.count("\n") == 1, err
    assert "the test app was told to crash" in err
    poll(lambda: not any(_alive(k) for k in kids), 10, "cometbft to exit")


# ----------------------------------------------------------------------------- NodeClient end to end


@pytest.mark.network
def test_client_deploy_call_query_through_cometbft(protocol_node):
    from pycontract import QueryError, Receipt
    from pycontract.node.keys import Key

    key = Key.generate()
    c = NodeClient(protocol_node, key=key)
    assert c.nonce(key.address) == 0
    r = c.deploy("coin", "x = 1\n", args={"supply": 5})
    assert isinstance(r, Receipt) and r.status == "success" and r.error is None
    assert r.gas_used == 7 and r.result == {"args": {"supply": 5}, "sender": key.address}
    assert [(e.contract, e.name, e.fields) for e in r.events] == [("coin", "Seen", {"kind": "deploy"})]
    assert r.height >= 1 and r.index == 0 and len(r.tx_hash) == 64
    assert c.nonce(key.address) == 1
    r2 = c.call("coin", "transfer", {"to": "0x" + "ab" * 20, "amount": 2}, gas_limit=1000)
    assert r2.status == "success" and r2.gas_used == 14 and r2.height > r.height
    r3 = c.call("coin", "boom")
    assert r3.status == "reverted" and r3.error == "boom said no" and r3.result is None
    assert c.nonce(key.address) == 3
    assert c.query("coin", "balance_of", {"who": "x"}) == ["coin", {"who": "x"}, None]
    assert c.query("coin", "balance_of", gas_limit=99) == ["coin", {}, 99]
    with pytest.raises(QueryError) as e:
        c.query("coin", "boom")
    assert e.value.status == "reverted" and str(e.value) == "reverted: boom said no"
    assert c.receipt(r.tx_hash).gas_used == 7
    assert c.receipt("00" * 32) is None


@pytest.mark.network
def test_client_checktx_refusal_is_a_rejected_receipt(protocol_node):
    from pycontract.node import envelope
    from pycontract.node.client import TxRejected
    from pycontract.node.keys import Key

    key = Key.generate()
    c = NodeClient(protocol_node, key=key)
    wrong_chain = envelope.sign(key, chain_id="other-chain", nonce=0, gas_limit=10, kind="call",
                                contract="coin", function="f", args={})
    with pytest.raises(TxRejected, match="wrong chain id"):
        c.broadcast(wrong_chain)
    # a stale nonce cached by the client is refused by CheckTx: a rejected receipt, nothing sent
    c._next_nonce = 5
    r = c.call("coin", "f")
    assert r.status == "rejected" and "bad nonce 5 (expected 0)" in r.error and r.height is None
    assert c.nonce(key.address) == 0
    assert c.call("coin", "f").status == "success"  # the refusal dropped the stale guess
    with pytest.raises(NodeError, match="no key"):
        NodeClient(protocol_node).call("coin", "f")


def test_register_adds_the_network_commands_to_a_group(tmp_path):
    import click
    from click.testing import CliRunner

    from pycontract.node.cli import network_client, register

    @click.group()
    def main():
        pass

    register(main)
    assert {"keys", "localnet", "node", "status"} <= set(main.commands)
    r = CliRunner().invoke(main, ["keys", "show", str(tmp_path / "nope.json")])
    assert r.exit_code == 2 and "no such key file" in r.output
    with pytest.raises(click.UsageError, match="--node needs --key"):
        network_client("http://127.0.0.1:1", None, need_key=True)
    assert network_client("127.0.0.1:1", None, need_key=False).url == "http://127.0.0.1:1"


@pytest.mark.network
def test_ctrl_c_to_the_whole_group_is_a_clean_stop(tmp_path, cometbft_bin):
    """A terminal's Ctrl-C signals the node and its CometBFT together: exit 0, not a failure."""
    home = cometbft.init_home(tmp_path / "n", binary=cometbft_bin, fast=True,
                              rpc_port=cometbft.free_port(), p2p_port=cometbft.free_port())
    proc = _start_node(home)
    try:
        kids = poll(lambda: _children_of(proc.pid), 30, "cometbft child")
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        poll(lambda: not any(_alive(k) for k in kids), 10, "cometbft to exit")
    finally:
        _kill_group(proc)
