"""The ABCI socket server: real sockets, a real CometBFT process at the end.

The unit part drives the server with a raw socket client speaking the framing; the integration
part runs `cometbft start --proxy_app unix://.../app.sock` against a small counter application
defined here and checks, through CometBFT's RPC, that blocks are produced and carry the app hash
the application returned.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from pycontract.node.abci import types_pb2 as pb
from pycontract.node.abci.server import (
    ABCIServer,
    Application,
    ApplicationError,
    ServerAddressError,
    make_server,
    parse_address,
)
from pycontract.node.abci.wire import FrameDecoder, encode_frame


# -- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def sock_dir():
    # short paths: unix socket paths must stay under 108 bytes
    d = tempfile.mkdtemp(prefix="abci")
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


class Running:
    """A server serving in a background thread (which becomes the application's thread)."""

    def __init__(self, app, address):
        self.server = make_server(app, address)
        self.error: BaseException | None = None
        self.clients: list[Client] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.server.serve()
        except BaseException as e:  # noqa: BLE001 - inspected by the test
            self.error = e

    def connect(self):
        kind, target = parse_address(self.server.address)
        s = socket.socket(socket.AF_UNIX if kind == "unix" else socket.AF_INET)
        s.settimeout(10)
        s.connect(target)
        self.clients.append(Client(s))
        return self.clients[-1]

    def finish(self, timeout=10):
        for c in self.clients:
            c.sock.close()
        assert self.server.shutdown(timeout)
        self.thread.join(timeout)
        assert not self.thread.is_alive()


class Client:
    def __init__(self, sock):
        self.sock = sock
        self.dec = FrameDecoder()
        self.got: list[bytes] = []

    def send(self, *reqs, chunk=None):
        data = b"".join(encode_frame(r.SerializeToString()) for r in reqs)
        if chunk is None:
            self.sock.sendall(data)
        else:
            for i in range(0, len(data), chunk):
                self.sock.sendall(data[i:i + chunk])

    def recv(self, n) -> list:
        deadline = time.monotonic() + 10
        while len(self.got) < n:
            assert time.monotonic() < deadline, "no answer in time"
            data = self.sock.recv(65536)
            if not data:
                break
            self.got += self.dec.feed(data)
        out, self.got = self.got[:n], self.got[n:]
        return [pb.Response.FromString(b) for b in out]

    def at_eof(self) -> bool:
        self.sock.settimeout(10)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


class Recording(Application):
    """Default behaviour, but remembers the calls and the thread each ran on."""

    def __init__(self):
        self.calls = []
        self.threads = set()

    def __getattribute__(self, name):
        attr = object.__getattribute__(self, name)
        if name in ("info", "check_tx", "query", "commit", "finalize_block", "process_proposal"):
            def wrapped(req, _attr=attr, _name=name):
                self.calls.append((_name, req))
                self.threads.add(threading.get_ident())
                return _attr(req)
            return wrapped
        return attr


def req(**kw):
    return pb.Request(**kw)


# -- unit: the server over real sockets ------------------------------------------------------

def test_echo_flush_info_answered_in_order(sock_dir):
    app = Recording()
    run = Running(app, f"unix://{sock_dir}/app.sock")
    try:
        c = run.connect()
        c.send(req(echo=pb.RequestEcho(message="hello")), req(info=pb.RequestInfo(version="x")),
               req(check_tx=pb.RequestCheckTx(tx=b"t1")), req(flush=pb.RequestFlush()))
        r = c.recv(4)
        assert [x.WhichOneof("value") for x in r] == ["echo", "info", "check_tx", "flush"]
        assert r[0].echo.message == "hello"
        assert [name for name, _ in app.calls] == ["info", "check_tx"]
        assert app.calls[0][1].version == "x" and app.calls[1][1].tx == b"t1"
        assert app.threads == {run.thread.ident}
    finally:
        run.finish()
    assert run.error is None
    assert not (sock_dir / "app.sock").exists(), "socket file left behind"


def test_requests_split_across_writes_and_four_connections(sock_dir):
    app = Recording()
    run = Running(app, f"unix://{sock_dir}/app.sock")
    try:
        clients = [run.connect() for _ in range(4)]  # query, snapshot, mempool, consensus
        for round_ in range(3):
            for i, c in enumerate(clients):
                reqs = [req(check_tx=pb.RequestCheckTx(tx=f"{i}-{round_}-{k}".encode()))
                        for k in range(5)] + [req(flush=pb.RequestFlush())]
                c.send(*reqs, chunk=3)  # frames arrive split at arbitrary points
        for i, c in enumerate(clients):
            got = c.recv(18)
            assert [x.WhichOneof("value") for x in got] == (["check_tx"] * 5 + ["flush"]) * 3
        seen = [r.tx.decode() for name, r in app.calls]
        for i in range(4):
            mine = [t for t in seen if t.startswith(f"{i}-")]
            assert mine == [f"{i}-{r}-{k}" for r in range(3) for k in range(5)], "out of order"
        assert app.threads == {run.thread.ident}
    finally:
        run.finish()


def test_default_application_answers_are_safe(sock_dir):
    run = Running(Application(), f"unix://{sock_dir}/app.sock")
    try:
        c = run.connect()
        c.send(req(process_proposal=pb.RequestProcessProposal(txs=[b"a"])),
               req(verify_vote_extension=pb.RequestVerifyVoteExtension()),
               req(finalize_block=pb.RequestFinalizeBlock(txs=[b"a", b"b"])),
               req(prepare_proposal=pb.RequestPrepareProposal(txs=[b"aa", b"bb", b"c"],
                                                             max_tx_bytes=4)),
               req(offer_snapshot=pb.RequestOfferSnapshot()),
               req(query=pb.RequestQuery(path="/nope")))
        pp, vve, fb, prep, offer, q = c.recv(6)
        assert pp.process_proposal.status == pb.ResponseProcessProposal.ACCEPT
        assert vve.verify_vote_extension.status == pb.ResponseVerifyVoteExtension.ACCEPT
        assert len(fb.finalize_block.tx_results) == 2
        assert list(prep.prepare_proposal.txs) == [b"aa", b"bb"]
        assert offer.offer_snapshot.result == pb.ResponseOfferSnapshot.REJECT
        assert q.query.code != 0 and "/nope" in q.query.log
    finally:
        run.finish()


class Boom(Application):
    def __init__(self):
        self.after = []

    def check_tx(self, req):
        if req.tx == b"boom":
            raise RuntimeError("disk on fire")
        return super().check_tx(req)

    def commit(self, req):  # must never run after the failure
        self.after.append(req)
        return super().commit(req)


def test_application_error_answers_exception_and_stops(sock_dir):
    app = Boom()
    run = Running(app, f"unix://{sock_dir}/app.sock")
    c = run.connect()
    c.send(req(check_tx=pb.RequestCheckTx(tx=b"ok")), req(check_tx=pb.RequestCheckTx(tx=b"boom")),
           req(commit=pb.RequestCommit()))
    ok, exc = c.recv(2)
    assert ok.check_tx.code == 0
    assert exc.WhichOneof("value") == "exception"
    assert "check_tx" in exc.exception.error and "disk on fire" in exc.exception.error
    run.thread.join(10)
    assert not run.thread.is_alive(), "serve() must return after an application failure"
    assert isinstance(run.error, ApplicationError)
    assert "check_tx" in str(run.error) and isinstance(run.error.__cause__, RuntimeError)
    assert app.after == [], "a request after the failure was dispatched"
    assert c.at_eof()
    c.sock.close()
    assert not (sock_dir / "app.sock").exists()


@pytest.mark.parametrize("method, request_, response", [
    ("process_proposal", req(process_proposal=pb.RequestProcessProposal()),
     pb.ResponseProcessProposal()),  # status UNKNOWN would panic CometBFT
    ("verify_vote_extension", req(verify_vote_extension=pb.RequestVerifyVoteExtension()),
     pb.ResponseVerifyVoteExtension()),
    ("finalize_block", req(finalize_block=pb.RequestFinalizeBlock(txs=[b"a"])),
     pb.ResponseFinalizeBlock()),  # no result for the tx
    ("info", req(info=pb.RequestInfo()), pb.ResponseQuery()),  # wrong message type
    ("info", req(info=pb.RequestInfo()), None),
])
def test_invalid_application_answers_halt(sock_dir, method, request_, response):
    app = Application()
    setattr(app, method, lambda r: response)
    run = Running(app, f"unix://{sock_dir}/app.sock")
    c = run.connect()
    c.send(request_)
    (r,) = c.recv(1)
    assert r.WhichOneof("value") == "exception" and method in r.exception.error
    run.thread.join(10)
    c.sock.close()
    assert isinstance(run.error, ApplicationError) and run.error.method == method


def test_protocol_errors_close_only_that_connection(sock_dir):
    run = Running(Recording(), f"unix://{sock_dir}/app.sock")
    try:
        good = run.connect()
        bad = run.connect()
        bad.sock.sendall(b"\xff" * 11)  # malformed varint
        (r,) = bad.recv(1)
        assert r.WhichOneof("value") == "exception" and "malformed" in r.exception.error
        assert bad.at_eof()
        worse = run.connect()
        worse.sock.sendall(encode_frame(b"\x0a\x05ab"))  # truncated protobuf
        (r,) = worse.recv(1)
        assert "undecodable" in r.exception.error
        empty = run.connect()
        empty.sock.sendall(encode_frame(b""))  # a Request with no oneof set
        (r,) = empty.recv(1)
        assert "unsupported request" in r.exception.error
        good.send(req(echo=pb.RequestEcho(message="still here")))
        assert good.recv(1)[0].echo.message == "still here"
        assert run.error is None and run.thread.is_alive()
    finally:
        run.finish()


def test_tcp_port_zero_and_stop_from_another_thread():
    run = Running(Recording(), "tcp://127.0.0.1:0")
    try:
        assert run.server.address.startswith("tcp://127.0.0.1:")
        assert not run.server.address.endswith(":0")
        c = run.connect()
        c.send(req(echo=pb.RequestEcho(message="tcp")))
        assert c.recv(1)[0].echo.message == "tcp"
    finally:
        run.finish()
    assert run.error is None


def test_unix_socket_file_rules(sock_dir):
    path = sock_dir / "app.sock"
    # a stale socket file (nobody listening) is replaced
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    assert path.exists()
    run = Running(Recording(), f"unix://{path}")
    try:
        # a live one is refused
        with pytest.raises(ServerAddressError, match="another server is listening"):
            ABCIServer(Recording(), f"unix://{path}").listen()
        assert path.exists()
    finally:
        run.finish()
    assert not path.exists()
    # a regular file is never removed
    path.write_text("precious")
    with pytest.raises(ServerAddressError, match="not a socket"):
        ABCIServer(Recording(), f"unix://{path}").listen()
    assert path.read_text() == "precious"


def test_address_errors_are_clear():
    for bad, msg in [("unix://" + "a" * 120, "longer than 107"), ("http://x:1", "expected"),
                     ("tcp://host", "tcp://HOST:PORT"), ("unix://", "empty")]:
        with pytest.raises(ServerAddressError, match=msg):
            ABCIServer(Application(), bad)
    with pytest.raises(TypeError, match=r"no method info\(\)"):
        ABCIServer(object(), "tcp://127.0.0.1:0")


def test_shutdown_before_serve_and_context_manager(sock_dir):
    srv = make_server(Application(), f"unix://{sock_dir}/a.sock")
    assert (sock_dir / "a.sock").exists()
    assert srv.shutdown()
    assert not (sock_dir / "a.sock").exists()
    srv.serve()  # returns at once: it was shut down before serving
    with ABCIServer(Application(), f"unix://{sock_dir}/b.sock") as s:
        assert s.address == f"unix://{sock_dir}/b.sock" and (sock_dir / "b.sock").exists()
    assert not (sock_dir / "b.sock").exists()


# -- integration: a real CometBFT ------------------------------------------------------------

def find_cometbft() -> str | None:
    env = os.environ.get("PYCONTRACT_COMETBFT")
    if env:
        return env if os.access(env, os.X_OK) else None
    found = shutil.which("cometbft")
    if found:
        return found
    home = Path.home() / "go" / "bin" / "cometbft"
    return str(home) if os.access(home, os.X_OK) else None


class CounterApp(Application):
    """Counts transactions; app hash = sha256 of the count (committed at Commit)."""

    def __init__(self):
        self.committed = 0
        self.pending = None
        self.height = 0
        self.app_hash = b""
        self.hash_at: dict[int, bytes] = {}
        self.threads = set()

    @staticmethod
    def hash_of(count: int) -> bytes:
        return hashlib.sha256(b"counter:%d" % count).digest()

    def info(self, req):
        self.threads.add(threading.get_ident())
        return pb.ResponseInfo(last_block_height=self.height, last_block_app_hash=self.app_hash)

    def check_tx(self, req):
        self.threads.add(threading.get_ident())
        return pb.ResponseCheckTx(code=0 if req.tx.startswith(b"inc") else 1, log="")

    def finalize_block(self, req):
        self.threads.add(threading.get_ident())
        count = self.committed + sum(1 for tx in req.txs if tx.startswith(b"inc"))
        self.pending = (req.height, count, self.hash_of(count))
        results = [pb.ExecTxResult(code=0 if tx.startswith(b"inc") else 1) for tx in req.txs]
        return pb.ResponseFinalizeBlock(tx_results=results, app_hash=self.pending[2])

    def commit(self, req):
        self.threads.add(threading.get_ident())
        self.height, self.committed, self.app_hash = self.pending
        self.hash_at[self.height] = self.app_hash
        return pb.ResponseCommit()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def patch_toml(path: Path, values: dict[str, str]) -> None:
    """Set `key = value` lines (first occurrence of each key; keys are unique enough here)."""
    lines = path.read_text().splitlines()
    todo = dict(values)
    for i, line in enumerate(lines):
        key = line.split("=", 1)[0].strip()
        if "=" in line and key in todo:
            lines[i] = f"{key} = {todo.pop(key)}"
    assert not todo, f"keys not found in config.toml: {sorted(todo)}"
    path.write_text("\n".join(lines) + "\n")


def rpc(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=5) as r:
        return json.loads(r.read())["result"]


@pytest.mark.network
def test_real_cometbft_produces_blocks_with_our_app_hash(sock_dir):
    binary = find_cometbft()
    if binary is None:
        pytest.skip("no cometbft binary ($PYCONTRACT_COMETBFT, PATH or ~/go/bin/cometbft); "
                    "install: go install github.com/cometbft/cometbft/cmd/cometbft@v0.38.26")
    home = sock_dir / "home"
    subprocess.run([binary, "init", "--home", str(home)], check=True, capture_output=True,
                   timeout=60)
    rpc_port, p2p_port = free_port(), free_port()
    patch_toml(home / "config" / "config.toml", {
        "timeout_propose": '"500ms"', "timeout_prevote": '"100ms"',
        "timeout_precommit": '"100ms"', "timeout_commit": '"200ms"',
        "laddr": f'"tcp://127.0.0.1:{rpc_port}"',  # the first laddr is [rpc]'s
    })
    cfg = (home / "config" / "config.toml").read_text()
    cfg = cfg.replace('laddr = "tcp://0.0.0.0:26656"', f'laddr = "tcp://127.0.0.1:{p2p_port}"')
    (home / "config" / "config.toml").write_text(cfg)

    app = CounterApp()
    sock = sock_dir / "app.sock"
    run = Running(app, f"unix://{sock}")
    log = open(sock_dir / "cometbft.log", "wb")
    proc = subprocess.Popen(
        [binary, "start", "--home", str(home), "--proxy_app", f"unix://{sock}",
         "--log_level", "info"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def status():
            try:
                return rpc(rpc_port, "status")["sync_info"]
            except OSError:
                return None

        def wait_for(cond, what, seconds=90):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                assert proc.poll() is None, f"cometbft exited ({proc.returncode}): " + \
                    (sock_dir / "cometbft.log").read_text()[-3000:]
                assert run.error is None, f"ABCI server failed: {run.error}"
                got = cond()
                if got:
                    return got
                time.sleep(0.1)  # polling interval, bounded by the deadline
            pytest.fail(f"timed out waiting for {what}; last status {status()}; log tail:\n"
                        + (sock_dir / "cometbft.log").read_text()[-3000:])

        s = wait_for(lambda: (st := status()) and int(st["latest_block_height"]) >= 3 and st,
                     "3 blocks")
        h = int(s["latest_block_height"])
        # the header of block h carries the app hash our app returned for block h-1
        assert s["latest_app_hash"] == app.hash_at[h - 1].hex().upper() == \
            CounterApp.hash_of(0).hex().upper()

        # a transaction changes the app hash, and CometBFT carries the new one
        res = rpc(rpc_port, 'broadcast_tx_sync?tx="inc1"')
        assert res["code"] == 0, res
        rejected = rpc(rpc_port, 'broadcast_tx_sync?tx="nope"')
        assert rejected["code"] == 1
        want = CounterApp.hash_of(1).hex().upper()
        s = wait_for(lambda: (st := status()) and st["latest_app_hash"] == want and st,
                     "the app hash after one transaction")
        assert app.committed == 1
        assert app.hash_at[int(s["latest_block_height"]) - 1].hex().upper() == want
        assert app.threads == {run.thread.ident}, "the app was called from several threads"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()
        run.finish()
    assert run.error is None
    assert not sock.exists()
