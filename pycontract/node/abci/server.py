"""Our own ABCI socket server: CometBFT's four connections served from ONE thread.

CometBFT (v0.38, ABCI 2.0) connects to the application four times (query, snapshot, mempool,
consensus) and sends varint-framed ``Request`` messages on each, expecting ``Response`` messages
in the same order per connection. We multiplex all connections with ``selectors`` in the thread
that calls ``serve()``, so the application object is only ever called from that one thread (the
engine's SQLite connections are bound to their thread) and calls never interleave.

Dispatch: Flush and Echo are answered here; every other request is passed to the application
method named after the Request oneof field (``info``, ``init_chain``, ``check_tx``, ``query``,
``commit``, ``prepare_proposal``, ``process_proposal``, ``finalize_block``, ``extend_vote``,
``verify_vote_extension``, ``list_snapshots``, ``offer_snapshot``, ``load_snapshot_chunk``,
``apply_snapshot_chunk``), which takes the request message and returns the response message.

If the application raises (or returns something CometBFT would misread, e.g. a ProcessProposal
status of UNKNOWN), the server answers ``ResponseException``, logs the error and stops: ``serve()``
raises ``ApplicationError``. A node must halt rather than invent a result.
"""

from __future__ import annotations

import errno
import logging
import os
import selectors
import socket
import stat
import threading
from dataclasses import dataclass, field

from pycontract.errors import PycontractError
from pycontract.node.abci.tendermint.abci import types_pb2 as pb
from pycontract.node.abci.wire import DEFAULT_MAX_FRAME, FrameDecoder, FrameError, encode_frame

log = logging.getLogger("pycontract.node.abci")

UNIX_PATH_MAX = 107  # sun_path is 108 bytes including the terminating NUL
_READ_CHUNK = 256 * 1024
_HIGH_WATER = 16 * 1024 * 1024  # stop reading from a peer that does not read its answers

# Request oneof field -> Response oneof field (the same names in v0.38), from the schema itself
REQUEST_METHODS = tuple(f.name for f in pb.Request.DESCRIPTOR.oneofs_by_name["value"].fields
                        if f.name not in ("echo", "flush"))


class ApplicationError(PycontractError):
    """The application failed on a request; the server stopped. ``__cause__`` is the error."""

    def __init__(self, method: str, message: str):
        self.method = method
        super().__init__(f"ABCI {method} failed: {message}")


class ServerAddressError(PycontractError):
    """The listen address is malformed, too long, or in use."""


class Application:
    """Safe defaults for every ABCI method; pycontract's app overrides what it needs.

    Every default is an answer CometBFT accepts: ProcessProposal ACCEPT (UNKNOWN panics CometBFT),
    VerifyVoteExtension ACCEPT, snapshots refused, one empty OK result per transaction.
    """

    def info(self, req: pb.RequestInfo) -> pb.ResponseInfo:
        return pb.ResponseInfo()

    def init_chain(self, req: pb.RequestInitChain) -> pb.ResponseInitChain:
        return pb.ResponseInitChain()

    def check_tx(self, req: pb.RequestCheckTx) -> pb.ResponseCheckTx:
        return pb.ResponseCheckTx(code=0)

    def query(self, req: pb.RequestQuery) -> pb.ResponseQuery:
        return pb.ResponseQuery(code=1, log=f"unknown query path {req.path!r}")

    def commit(self, req: pb.RequestCommit) -> pb.ResponseCommit:
        return pb.ResponseCommit()

    def prepare_proposal(self, req: pb.RequestPrepareProposal) -> pb.ResponsePrepareProposal:
        # as CometBFT's BaseApplication: the mempool's txs in order, within max_tx_bytes
        txs, total = [], 0
        for tx in req.txs:
            total += len(tx)
            if total > req.max_tx_bytes:
                break
            txs.append(tx)
        return pb.ResponsePrepareProposal(txs=txs)

    def process_proposal(self, req: pb.RequestProcessProposal) -> pb.ResponseProcessProposal:
        return pb.ResponseProcessProposal(status=pb.ResponseProcessProposal.ACCEPT)

    def finalize_block(self, req: pb.RequestFinalizeBlock) -> pb.ResponseFinalizeBlock:
        return pb.ResponseFinalizeBlock(tx_results=[pb.ExecTxResult() for _ in req.txs])

    def extend_vote(self, req: pb.RequestExtendVote) -> pb.ResponseExtendVote:
        return pb.ResponseExtendVote()

    def verify_vote_extension(self, req: pb.RequestVerifyVoteExtension
                              ) -> pb.ResponseVerifyVoteExtension:
        return pb.ResponseVerifyVoteExtension(status=pb.ResponseVerifyVoteExtension.ACCEPT)

    def list_snapshots(self, req: pb.RequestListSnapshots) -> pb.ResponseListSnapshots:
        return pb.ResponseListSnapshots()

    def offer_snapshot(self, req: pb.RequestOfferSnapshot) -> pb.ResponseOfferSnapshot:
        return pb.ResponseOfferSnapshot(result=pb.ResponseOfferSnapshot.REJECT)

    def load_snapshot_chunk(self, req: pb.RequestLoadSnapshotChunk
                            ) -> pb.ResponseLoadSnapshotChunk:
        return pb.ResponseLoadSnapshotChunk()

    def apply_snapshot_chunk(self, req: pb.RequestApplySnapshotChunk
                             ) -> pb.ResponseApplySnapshotChunk:
        return pb.ResponseApplySnapshotChunk(result=pb.ResponseApplySnapshotChunk.ABORT)


def parse_address(address: str):
    """``unix://PATH`` -> ("unix", PATH); ``tcp://HOST:PORT`` -> ("tcp", (HOST, PORT))."""
    if address.startswith("unix://"):
        path = address[len("unix://"):]
        if not path:
            raise ServerAddressError(f"{address}: empty unix socket path")
        if len(os.fsencode(path)) > UNIX_PATH_MAX:
            raise ServerAddressError(
                f"{address}: unix socket path longer than {UNIX_PATH_MAX} bytes")
        return "unix", path
    if address.startswith("tcp://"):
        hostport = address[len("tcp://"):]
        host, sep, port = hostport.rpartition(":")
        if not sep or not port.isdigit() or int(port) > 65535:
            raise ServerAddressError(f"{address}: expected tcp://HOST:PORT")
        return "tcp", (host.strip("[]") or "0.0.0.0", int(port))
    raise ServerAddressError(f"{address}: expected unix://PATH or tcp://HOST:PORT")


def check_response(method: str, req, resp) -> str | None:
    """Why a response would make CometBFT misbehave (None if it is fine)."""
    if method == "process_proposal" and resp.status not in (
            pb.ResponseProcessProposal.ACCEPT, pb.ResponseProcessProposal.REJECT):
        return "ProcessProposal status must be ACCEPT or REJECT"
    if method == "verify_vote_extension" and resp.status not in (
            pb.ResponseVerifyVoteExtension.ACCEPT, pb.ResponseVerifyVoteExtension.REJECT):
        return "VerifyVoteExtension status must be ACCEPT or REJECT"
    if method == "finalize_block" and len(resp.tx_results) != len(req.txs):
        return (f"FinalizeBlock returned {len(resp.tx_results)} tx results "
                f"for {len(req.txs)} transactions")
    return None


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    name: str
    decoder: FrameDecoder
    out: bytearray = field(default_factory=bytearray)
    events: int = 0


class ABCIServer:
    """Serve ``app`` at ``address`` (``unix://PATH`` or ``tcp://HOST:PORT``) from one thread.

    ``listen()`` binds (so CometBFT can be started right after), ``serve()`` runs the loop in the
    calling thread until ``stop()`` (returns None) or an application failure (raises
    ApplicationError). ``close()`` (also on leaving a ``with`` block) closes every socket and
    removes the unix socket file. ``stop()`` may be called from any thread or a signal handler.
    """

    def __init__(self, app, address: str, *, max_frame: int = DEFAULT_MAX_FRAME):
        self.app = app
        self.requested_address = address
        self.kind, self._target = parse_address(address)
        # resolve the app's methods once, so a missing method is found at start, not mid-block
        self._methods = {}
        for name in REQUEST_METHODS:
            fn = getattr(app, name, None)
            if not callable(fn):
                raise TypeError(f"ABCI application {type(app).__name__} has no method {name}()")
            self._methods[name] = fn
        self.max_frame = max_frame
        self._listener: socket.socket | None = None
        self._sel: selectors.BaseSelector | None = None
        self._conns: dict[socket.socket, _Conn] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = threading.Event()
        self._failure: ApplicationError | None = None
        self._unix_path: str | None = None
        self._served = 0
        self._serving_thread: int | None = None
        self._finished = threading.Event()
        self._closed = False
        self.requests_served = 0

    # -- life cycle -------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """The address actually listened on (a tcp port 0 resolved to the real port)."""
        if self._listener is None:
            return self.requested_address
        if self.kind == "unix":
            return f"unix://{self._unix_path}"
        host, port = self._listener.getsockname()[:2]
        return f"tcp://{host}:{port}"

    def listen(self) -> "ABCIServer":
        if self._listener is not None:
            return self
        if self._closed:
            raise RuntimeError("this ABCI server is closed; make a new one")
        try:
            return self._listen()
        except BaseException:
            self.close()  # a server that cannot listen holds nothing open
            raise

    def _listen(self) -> "ABCIServer":
        if self.kind == "unix":
            path = self._target
            self._remove_stale_socket(path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(path)
            except OSError as e:
                sock.close()
                raise ServerAddressError(f"unix://{path}: cannot listen: {e.strerror}") from None
            self._unix_path = path
        else:
            host, port = self._target
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as e:
                sock.close()
                raise ServerAddressError(
                    f"tcp://{host}:{port}: cannot listen: {e.strerror}") from None
        sock.listen(16)
        sock.setblocking(False)
        self._listener = sock
        self._sel = selectors.DefaultSelector()
        self._sel.register(sock, selectors.EVENT_READ, "listen")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        log.info("ABCI server listening on %s", self.address)
        return self

    @staticmethod
    def _remove_stale_socket(path: str) -> None:
        """Remove a socket file left by a dead server; refuse a live one or a non-socket."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ServerAddressError(f"unix://{path}: exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError as e:
            if e.errno not in (errno.ECONNREFUSED, errno.ENOENT):
                raise ServerAddressError(f"unix://{path}: cannot probe: {e.strerror}") from None
            os.unlink(path)
            return
        finally:
            probe.close()
        raise ServerAddressError(f"unix://{path}: another server is listening there")

    def stop(self) -> None:
        """Ask ``serve()`` to return; safe from any thread and from signal handlers."""
        self._stopping.set()
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass  # already closed, or the wake-up buffer is full: the flag is enough

    def shutdown(self, timeout: float | None = 10.0) -> bool:
        """Stop and wait until ``serve()`` (running in another thread) has closed everything.

        Returns True once the server is closed. From the serving thread itself (e.g. a signal
        handler) it only asks to stop: ``serve()`` closes on its way out.
        """
        self.stop()
        if self._serving_thread is None:
            self.close()
            return True
        if self._serving_thread == threading.get_ident():
            return False
        return self._finished.wait(timeout)

    def close(self) -> None:
        """Close every socket and remove the unix socket file (idempotent).

        Call it from the serving thread or after ``serve()`` returned; ``shutdown()`` is the
        call for other threads.
        """
        self._closed = True
        for conn in list(self._conns.values()):
            self._drop(conn, None)
        if self._sel is not None:
            self._sel.close()
            self._sel = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for s in (self._wake_r, self._wake_w):
            s.close()
        if self._unix_path is not None:
            try:
                os.unlink(self._unix_path)
            except FileNotFoundError:
                pass
            self._unix_path = None

    def __enter__(self) -> "ABCIServer":
        return self.listen()

    def __exit__(self, *exc) -> None:
        self.shutdown()

    # -- the loop ---------------------------------------------------------------------------

    def serve(self) -> None:
        """Run until ``stop()`` (returns) or an application failure (raises ApplicationError).

        Either way the server is closed when this returns (sockets closed, unix socket file
        removed): a server serves once.
        """
        if self._finished.is_set():
            raise RuntimeError("this ABCI server has already served; make a new one")
        if self._closed:
            return  # shut down before it started serving
        self._serving_thread = threading.get_ident()
        try:
            self.listen()
            self._loop()
        finally:
            self.close()
            self._finished.set()

    def _loop(self) -> None:
        assert self._sel is not None
        while not self._stopping.is_set():
            for key, events in self._sel.select(timeout=None):
                if key.data == "listen":
                    self._accept()
                elif key.data == "wake":
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    conn: _Conn = key.data
                    if conn.sock not in self._conns:
                        continue  # dropped earlier in this round
                    if events & selectors.EVENT_WRITE:
                        self._write(conn)
                    if events & selectors.EVENT_READ and conn.sock in self._conns:
                        self._read(conn)
                if self._failure is not None:
                    break
            if self._failure is not None:
                failure = self._failure
                self._drain_all()
                self._stopping.set()
                raise failure
        self._drain_all()

    def _accept(self) -> None:
        while True:
            try:
                sock, peer = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log.warning("ABCI accept failed: %s", e)
                return
            sock.setblocking(False)
            self._served += 1
            name = f"conn{self._served}"
            conn = _Conn(sock, name, FrameDecoder(self.max_frame))
            self._conns[sock] = conn
            self._set_events(conn, selectors.EVENT_READ)
            log.debug("ABCI %s connected (%s)", name, peer or "unix")

    def _set_events(self, conn: _Conn, events: int) -> None:
        if events == conn.events:
            return
        if conn.events == 0:
            self._sel.register(conn.sock, events, conn)
        elif events == 0:
            self._sel.unregister(conn.sock)
        else:
            self._sel.modify(conn.sock, events, conn)
        conn.events = events

    def _update_events(self, conn: _Conn) -> None:
        events = 0
        if len(conn.out) < _HIGH_WATER:
            events |= selectors.EVENT_READ
        if conn.out:
            events |= selectors.EVENT_WRITE
        self._set_events(conn, events)

    def _drop(self, conn: _Conn, why: str | None) -> None:
        if why:
            log.info("ABCI %s closed: %s", conn.name, why)
        if self._sel is not None:
            self._set_events(conn, 0)
        self._conns.pop(conn.sock, None)
        conn.sock.close()

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(_READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._drop(conn, f"read error: {e}")
            return
        if not data:
            partial = conn.decoder.pending
            self._drop(conn, "peer closed" + (f" mid-frame ({partial} bytes)" if partial else ""))
            return
        try:
            frames = conn.decoder.feed(data)
        except FrameError as e:
            self._protocol_error(conn, str(e))
            return
        for frame in frames:
            if not self._handle(conn, frame):
                break
        if conn.sock in self._conns:
            self._write(conn)

    def _protocol_error(self, conn: _Conn, why: str) -> None:
        """The peer sent something that is not an ABCI request: answer, then hang up on it."""
        log.error("ABCI %s protocol error: %s", conn.name, why)
        conn.out += encode_frame(pb.Response(
            exception=pb.ResponseException(error=f"protocol error: {why}")).SerializeToString())
        self._flush_blocking(conn)
        self._drop(conn, None)

    def _handle(self, conn: _Conn, frame: bytes) -> bool:
        """Answer one request; False if the connection or the server must stop reading."""
        req = pb.Request()
        try:
            req.ParseFromString(frame)
        except Exception as e:  # noqa: BLE001 - protobuf's DecodeError and friends
            self._protocol_error(conn, f"undecodable request ({e})")
            return False
        which = req.WhichOneof("value")
        resp = pb.Response()
        if which == "flush":
            resp.flush.SetInParent()
        elif which == "echo":
            resp.echo.message = req.echo.message
        elif which in self._methods:
            self.requests_served += 1
            sub = getattr(req, which)
            try:
                result = self._methods[which](sub)
                getattr(resp, which).CopyFrom(result)
                problem = check_response(which, sub, getattr(resp, which))
                if problem:
                    raise ValueError(problem)
            except Exception as e:  # noqa: BLE001 - any failure halts the node
                message = f"{type(e).__name__}: {e}"
                log.error("ABCI %s failed; stopping the server: %s", which, message,
                          exc_info=True)
                conn.out += encode_frame(pb.Response(
                    exception=pb.ResponseException(error=f"{which}: {message}"))
                    .SerializeToString())
                failure = ApplicationError(which, message)
                failure.__cause__ = e
                self._failure = failure
                return False
        else:
            self._protocol_error(conn, f"unsupported request {which or '(empty)'}")
            return False
        conn.out += encode_frame(resp.SerializeToString())
        return True

    def _write(self, conn: _Conn) -> None:
        if conn.out:
            try:
                sent = conn.sock.send(conn.out)
                del conn.out[:sent]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                self._drop(conn, f"write error: {e}")
                return
        self._update_events(conn)

    def _flush_blocking(self, conn: _Conn, timeout: float = 2.0) -> None:
        """Best effort: get what we owe a peer onto the wire before closing."""
        if not conn.out:
            return
        try:
            conn.sock.settimeout(timeout)
            conn.sock.sendall(conn.out)
            conn.out.clear()
        except OSError:
            pass
        finally:
            try:
                conn.sock.setblocking(False)
            except OSError:
                pass

    def _drain_all(self) -> None:
        for conn in list(self._conns.values()):
            self._flush_blocking(conn)


def make_server(app, address: str, **kw) -> ABCIServer:
    """A listening server for ``app`` at ``address``; call ``serve()`` in the app's thread."""
    return ABCIServer(app, address, **kw).listen()


Server = ABCIServer  # the short name other modules may use
