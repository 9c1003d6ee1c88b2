"""The host API: ``Chain``, ``Tx``, ``Receipt``, ``Event`` (SPEC.md section 2).

The host never parses, compiles or runs contract source. It checks what it can without the
source (names, argument encodability, sizes, gas limits), sends the block to the sandbox worker
(``pycontract.worker``), treats everything that comes back as untrusted data and validates it
(types, sizes, statuses, gas, encodings, which contracts a transaction may have written), replays
the write sets onto its own ``BlockOverlay`` and commits the block in one SQLite transaction.
See docs/engine.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time as _time
from dataclasses import dataclass, field
from typing import Any

from ledger_store import Ledger, codec
from ledger_store.errors import EncodingError
from ledger_store.records import ContractRecord, EventRecord, TxRecord
from pycontract import protocol
from pycontract.limits import (  # noqa: F401 (the engine's public limits)
    MAX_ARGS_BYTES, MAX_ERROR_CHARS, MAX_EVENT_NAME_CHARS, MAX_EVENTS_PER_TX, MAX_FUNCTION_CHARS,
    MAX_GAS_PER_TX, MAX_KEY_BYTES, MAX_SENDER_CHARS, MAX_SOURCE_BYTES, MAX_VALUE_BYTES,
)
from pycontract.errors import InvalidTransaction, NodeFault, PycontractError, QueryError
from pycontract.gas_schedule import GAS_SCHEDULE_VERSION

__all__ = [
    "Chain", "Tx", "Receipt", "Event", "LedgerVersionError", "NAME_RE",
    "MAX_GAS_PER_TX", "DEFAULT_DEPLOY_GAS", "DEFAULT_CALL_GAS", "DEFAULT_QUERY_GAS",
]

#: contract names
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
DEFAULT_DEPLOY_GAS = 5_000_000
DEFAULT_CALL_GAS = 1_000_000
DEFAULT_QUERY_GAS = 10_000_000
#: wall-clock allowance for one worker request: base + gas / floor rate (generous: the gas
#: limit already bounds the work; this only catches a wedged worker)
WORKER_TIMEOUT_BASE = 60.0
WORKER_MIN_GAS_PER_SECOND = 1_000_000
WORKER_START_TIMEOUT = 60.0
STATUSES = ("success", "reverted", "out_of_gas", "rejected")


class LedgerVersionError(PycontractError):
    """The ledger was written under another gas schedule version."""


# ------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Event:
    contract: str
    name: str
    fields: dict

    def to_dict(self) -> dict:
        return {"contract": self.contract, "name": self.name, "fields": codec.to_jsonable(self.fields)}


@dataclass
class Receipt:
    status: str
    gas_used: int
    result: Any
    error: str | None
    events: list = field(default_factory=list)
    tx_hash: str = ""
    height: int | None = None  # the block it is in (None when rejected)
    index: int | None = None  # its position in that block

    def to_dict(self) -> dict:
        """JSON-able form (bytes as "0x..." strings)."""
        return {
            "status": self.status,
            "gas_used": self.gas_used,
            "result": codec.to_jsonable(self.result),
            "error": self.error,
            "events": [e.to_dict() for e in self.events],
            "tx_hash": self.tx_hash,
            "height": self.height,
            "index": self.index,
        }

    @classmethod
    def from_record(cls, rec: TxRecord) -> "Receipt":
        return cls(
            status=rec.status,
            gas_used=rec.gas_used,
            result=rec.result,
            error=rec.error,
            events=[Event(e.contract, e.name, e.fields) for e in rec.events],
            tx_hash=rec.tx_hash,
            height=rec.height,
            index=rec.index,
        )


@dataclass(frozen=True)
class Tx:
    """One transaction. With ``source`` it deploys ``contract`` (``function`` is ignored and
    recorded as "constructor"; ``args`` go to the constructor)."""

    sender: str
    contract: str
    function: str | None = None
    args: dict | None = None
    gas_limit: int = DEFAULT_CALL_GAS
    source: str | None = None

    @property
    def kind(self) -> str:
        return "deploy" if self.source is not None else "call"


#: what Chain.deploy sends when it is given no source: not None, so the Tx stays a deploy
_NO_SOURCE = object()


# ------------------------------------------------------------------------------- worker


def _signal_name(n: int) -> str:
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


class _Worker:
    """One sandbox worker process and its two pipes."""

    def __init__(self, ledger_path: str, chain_id: str, limits: dict, hash_seed: int = 0):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": str(int(hash_seed)),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONINTMAXSTRDIGITS": "4300",
            "PYTHONPATH": os.pathsep.join(_package_roots()),
        }
        if os.environ.get("PYCONTRACT_WORKER_TEST_PROBES") == "1":
            env["PYCONTRACT_WORKER_TEST_PROBES"] = "1"
        debug = os.environ.get("PYCONTRACT_WORKER_STDERR") == "1"
        argv = [sys.executable, "-s", "-m", "pycontract.worker", str(req_r), str(resp_w),
                ledger_path, chain_id, json.dumps(limits)]
        try:
            self.proc = subprocess.Popen(
                argv, env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=None if debug else subprocess.DEVNULL, close_fds=True,
                pass_fds=(req_r, resp_w),
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.req = req_w
        self.resp = resp_r
        self.pid = self.proc.pid
        self.sandbox: dict = {}

    def close(self, graceful: bool = True) -> None:
        if graceful and self.proc.poll() is None:
            try:
                protocol.write_frame(self.req, {"op": "exit"})
            except protocol.ProtocolError:
                pass
        for fd in (self.req, self.resp):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5 if graceful else 0.001)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.close(graceful=False)

    def describe_exit(self) -> str:
        try:
            rc = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        if rc < 0:
            name = _signal_name(-rc)
            why = {"SIGKILL": " (killed, e.g. by an operator or the OOM killer)",
                   "SIGXCPU": " (CPU-time limit)", "SIGSEGV": " (crashed)",
                   "SIGXFSZ": " (file-size limit)"}.get(name, "")
            return f"was killed by {name}{why}"
        return f"exited with status {rc}"


def _package_roots() -> list[str]:
    import ledger_store
    import pycontract

    roots = []
    for mod in (pycontract, ledger_store):
        root = os.path.dirname(os.path.dirname(os.path.abspath(mod.__file__)))
        if root not in roots:
            roots.append(root)
    return roots


# ------------------------------------------------------------------------------- checks


def _is_int(x) -> bool:
    return type(x) is int


def _utf8(text: str) -> bool:
    """Whether ``text`` can be stored: lone surrogates have no UTF-8 form."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _precheck(tx: Tx, max_gas: int, blobs: dict | None = None) -> str | None:
    """What the host can reject without the contract's source; None if it passes. The
    encoded arguments are left in ``blobs[id(tx)]`` when given (so they are encoded once)."""
    if type(tx.sender) is not str or not tx.sender or len(tx.sender) > MAX_SENDER_CHARS:
        return f"sender must be a non-empty str of at most {MAX_SENDER_CHARS} characters"
    if not _utf8(tx.sender):
        return "sender is not valid text (it contains a lone surrogate)"
    if type(tx.contract) is not str or not NAME_RE.match(tx.contract):
        return (
            f"invalid contract name {tx.contract!r}: names are 1-64 characters, lowercase "
            "letters, digits and _, starting with a letter"
        )
    if tx.kind == "call":
        if type(tx.function) is not str or not tx.function:
            return "function must be a non-empty str"
        if len(tx.function) > MAX_FUNCTION_CHARS:
            return f"function name is longer than {MAX_FUNCTION_CHARS} characters"
        if not _utf8(tx.function):
            return "function name is not valid text (it contains a lone surrogate)"
    elif type(tx.source) is not str:
        given = "None" if tx.source is _NO_SOURCE else type(tx.source).__name__
        return f"source must be a str (the contract's source text), not {given}"
    elif len(tx.source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        return f"source is larger than {MAX_SOURCE_BYTES} bytes"
    elif not _utf8(tx.source):
        return "source is not valid text: it contains a lone surrogate"
    if not _is_int(tx.gas_limit) or tx.gas_limit <= 0:
        return "gas_limit must be a positive int"
    if tx.gas_limit > max_gas:
        return f"gas_limit {tx.gas_limit} is over the per-transaction maximum of {max_gas}"
    args = {} if tx.args is None else tx.args
    if type(args) is not dict:
        return "args must be a dict of parameter names to values"
    for k in args:
        if type(k) is not str:
            return f"argument names must be str, not {type(k).__name__}"
    try:
        blob = codec.encode_value(args)
    except EncodingError as e:
        return "arguments cannot be encoded: " + str(e).replace("value[", "args[", 1)
    if len(blob) > MAX_ARGS_BYTES:
        return f"arguments are larger than {MAX_ARGS_BYTES} bytes"
    if not codec.nests_within(args, blob, 4):  # the receipt nests them further
        return f"arguments are nested more than {codec.MAX_DEPTH - 4} levels deep"
    if blobs is not None:
        blobs[id(tx)] = blob
    return None


def _fault(msg: str):
    raise NodeFault(f"the sandbox worker sent an invalid reply: {msg}")


class _Checked:
    """A validated per-transaction result from the worker."""

    __slots__ = ("status", "gas_used", "result", "error", "events", "writes", "deployed")


def _validate_result(r, tx: Tx, known, source_hash: str | None, check_write=None) -> _Checked:
    """Validate one untrusted result map; ``known(name)`` says whether a contract exists in
    the host's overlay before this transaction. ``check_write(contract, key, value)`` raises
    EncodingError unless the key and value (or None) are canonical codec bytes (default: decode
    them; the engine passes its overlay's ``check_write``, which remembers the bytes it proved
    canonical so the commit does not decode them again)."""
    if type(r) is not dict:
        _fault("a transaction result is not a map")
    c = _Checked()
    c.status = r.get("status")
    if c.status not in STATUSES:
        _fault(f"unknown status {c.status!r}")
    c.gas_used = r.get("gas_used")
    if not _is_int(c.gas_used) or not 0 <= c.gas_used <= tx.gas_limit:
        _fault(f"gas_used {c.gas_used!r} is outside 0..{tx.gas_limit}")
    if c.status == "out_of_gas" and c.gas_used != tx.gas_limit:
        _fault("out_of_gas with gas_used below the gas limit")
    if c.status == "rejected" and c.gas_used != 0:
        _fault("a rejected transaction used gas")
    err = r.get("error")
    if err is not None and type(err) is not str:
        _fault("error is not text")
    if c.status != "success" and not err:
        _fault(f"a {c.status} result without an error message")
    c.error = err[:MAX_ERROR_CHARS] if err is not None else None
    res = r.get("result")
    c.result = None
    if res is not None:
        if type(res) is not bytes or len(res) > MAX_VALUE_BYTES or c.status != "success":
            _fault("result is not an encoded value of a successful transaction")
        try:
            c.result = codec.decode_value(res)
        except EncodingError as e:
            _fault(f"result does not decode: {e}")
    events, writes, deployed, touched = (r.get("events"), r.get("writes"), r.get("deployed"),
                                         r.get("touched"))
    if type(events) is not list or type(writes) is not list or type(touched) is not list:
        _fault("events, writes and touched must be lists")
    if c.status != "success" and (events or writes or deployed is not None):
        _fault(f"a {c.status} transaction reported writes, events or a deployment")
    if len(events) > MAX_EVENTS_PER_TX:
        _fault("too many events")
    # the call tree: contracts that existed, or this deploy's own contract
    deployed_name = None
    if deployed is not None:
        if tx.kind != "deploy" or type(deployed) is not dict:
            _fault("a deployment from a transaction that is not a deploy")
        if deployed.get("name") != tx.contract or deployed.get("code_hash") != source_hash \
                or deployed.get("deployer") != tx.sender:
            _fault("the deployed contract record does not match the transaction")
        eps = deployed.get("entry_points")
        try:
            eps = codec.decode_value(eps) if type(eps) is bytes else None
        except EncodingError:
            eps = None
        if type(eps) is not dict:
            _fault("the deployed contract's entry points do not decode to a map")
        deployed_name = tx.contract
        c.deployed = ContractRecord(
            name=tx.contract, code_hash=source_hash, source=tx.source, deployer=tx.sender,
            entry_points=eps,
        )
    else:
        if tx.kind == "deploy" and c.status == "success":
            _fault("a successful deploy without a contract record")
        c.deployed = None
    tree = set()
    for name in touched:
        if type(name) is not str:
            _fault("touched contract names must be text")
        own_deploy = tx.kind == "deploy" and name == tx.contract and (
            deployed_name is not None or c.status != "success")
        if not own_deploy and not known(name):
            _fault(f"the call tree names unknown contract {name!r}")
        tree.add(name)
    if c.status == "success" and tx.contract not in tree:
        _fault("the call tree does not include the called contract")
    c.writes = []
    for w in writes:
        if type(w) is not list or len(w) != 3:
            _fault("a write is not [contract, key, value]")
        contract, key, value = w
        if type(contract) is not str or contract not in tree:
            _fault(f"a write to contract {contract!r}, which is not in the transaction's call tree")
        if type(key) is not bytes or len(key) > MAX_KEY_BYTES:
            _fault("a storage key is not bytes of a bounded size")
        if value is not None and (type(value) is not bytes or len(value) > MAX_VALUE_BYTES):
            _fault("a storage value is not bytes of a bounded size")
        try:
            if check_write is None:
                codec.decode_key(key)
                if value is not None:
                    codec.decode_value(value)
            else:
                check_write(contract, key, value)
        except EncodingError as e:
            _fault(f"a storage key or value is not canonical: {e}")
        c.writes.append((contract, key, value))
    c.events = []
    for ev in events:
        if type(ev) is not list or len(ev) != 3:
            _fault("an event is not [contract, name, fields]")
        contract, name, fields = ev
        if type(contract) is not str or contract not in tree:
            _fault(f"an event from contract {contract!r}, which is not in the call tree")
        if type(name) is not str or not name or len(name) > MAX_EVENT_NAME_CHARS:
            _fault("an event name is not text of a bounded size")
        if type(fields) is not bytes:
            _fault("event fields are not encoded bytes")
        try:
            fv = codec.decode_value(fields)
        except EncodingError as e:
            _fault(f"event fields do not decode: {e}")
        if type(fv) is not dict:
            _fault("event fields are not a map")
        c.events.append(EventRecord(contract, name, fv))
    return c


# ------------------------------------------------------------------------------- Chain


class Chain:
    """A ledger plus the sandbox worker that executes its contracts.

    ``Chain(path)`` opens (creating if missing) the SQLite ledger at ``path``; ``Chain()`` uses a
    private temporary file, deleted by ``close()``. ``worker_pid`` is the pid of the sandbox
    worker (started if it is not running): tests and operators may watch or kill it.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, chain_id: str = "pycontract-local",
                 max_gas_per_tx: int = MAX_GAS_PER_TX, worker_limits: dict | None = None,
                 worker_hash_seed: int | None = None):
        self._tmpdir = None
        if path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="pycontract-")
            path = os.path.join(self._tmpdir, "ledger.db")
        self.path = os.path.abspath(os.fspath(path))
        self.chain_id = chain_id
        self.max_gas_per_tx = int(max_gas_per_tx)
        self._limits = dict(worker_limits or {})
        # A secret random seed by default: results never depend on it (dict order is insertion
        # order, sets and hash() are not in the language), and a seed nobody knows means no
        # contract can precompute str keys that collide in the worker's dicts.
        self._hash_seed = (secrets.randbelow(2**32) if worker_hash_seed is None
                           else int(worker_hash_seed))
        self._worker: _Worker | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._ledger = None
        try:
            self._ledger = Ledger(self.path, chain_id=chain_id)
            self._check_gas_schedule()
        except BaseException:
            self.close()
            raise

    def _check_gas_schedule(self) -> None:
        stored = self._ledger.meta.get("gas_schedule_version")
        if stored is None:
            self._ledger.set_meta("gas_schedule_version", GAS_SCHEDULE_VERSION)
        elif stored != GAS_SCHEDULE_VERSION:
            raise LedgerVersionError(
                f"{self.path}: this ledger was written under gas schedule version {stored}, "
                f"but this pycontract uses version {GAS_SCHEDULE_VERSION}; gas and receipts "
                "would differ, so it cannot be extended: use a pycontract release with that "
                "schedule, or start a new ledger"
            )

    # ------------------------------------------------------------- lifetime
    def close(self) -> None:
        """Stop the worker, release the ledger file; delete it if it was temporary."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        if self._ledger is not None:
            self._ledger.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> "Chain":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _live(self):
        if self._closed:
            raise PycontractError("this Chain is closed")
        return self._ledger

    # ------------------------------------------------------------- worker
    def _ensure_worker(self) -> _Worker:
        if self._worker is not None and self._worker.proc.poll() is None:
            return self._worker
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        w = _Worker(self.path, self.chain_id, self._limits, self._hash_seed)
        try:
            hello = protocol.read_frame(w.resp, timeout=WORKER_START_TIMEOUT)
        except (EOFError, TimeoutError, protocol.ProtocolError) as e:
            what = w.describe_exit() if not isinstance(e, TimeoutError) else "did not start in time"
            w.kill()
            raise NodeFault(f"the sandbox worker could not start: it {what}") from None
        if hello.get("op") != "hello" or not _is_int(hello.get("pid")):
            w.kill()
            raise NodeFault(f"the sandbox worker could not start: {hello.get('message', hello.get('op'))}")
        w.sandbox = hello.get("sandbox") if type(hello.get("sandbox")) is dict else {}
        self._worker = w
        return w

    @property
    def worker_pid(self) -> int:
        """Pid of the sandbox worker process (starting it if needed)."""
        with self._lock:
            self._live()
            return self._ensure_worker().pid

    @property
    def sandbox_report(self) -> dict:
        """What the worker reported about its sandbox layers (rlimits, Landlock, seccomp)."""
        with self._lock:
            self._live()
            return self._ensure_worker().sandbox

    def _request(self, msg: dict, timeout: float) -> dict:
        w = self._ensure_worker()
        height = self._ledger.height
        deadline = _time.monotonic() + timeout
        self._send(w, msg, height)
        return self._reply(w, deadline, timeout, height)

    def _send(self, w: _Worker, msg: dict, height: int) -> None:
        try:
            protocol.write_frame(w.req, msg)
        except (protocol.ProtocolError, OSError) as e:
            self._worker_broke(w, e, height)

    def _worker_broke(self, w: _Worker, e: BaseException, height: int):
        what = w.describe_exit() if isinstance(e, EOFError) or w.proc.poll() is not None \
            else f"broke the protocol ({e})"
        w.kill()
        self._worker = None
        raise NodeFault(
            f"the sandbox worker {what}; nothing was committed (the ledger stays at block "
            f"{height}); a new worker starts on the next request"
        ) from None

    def _reply(self, w: _Worker, deadline: float, timeout: float, height: int) -> dict:
        """Read one reply frame before ``deadline`` (time.monotonic); faults become NodeFault."""
        try:
            reply = protocol.read_frame(w.resp, timeout=max(deadline - _time.monotonic(), 0.0))
        except TimeoutError:
            w.kill()
            self._worker = None
            raise NodeFault(
                f"the sandbox worker did not answer within {timeout:.0f} s and was stopped; "
                f"nothing was committed (the ledger stays at block {height}); a new worker "
                "starts on the next request"
            ) from None
        except (EOFError, protocol.ProtocolError, OSError) as e:
            self._worker_broke(w, e, height)
        if reply.get("op") == "fault":
            w.kill()
            self._worker = None
            m = reply.get("message")
            raise NodeFault(
                f"the sandbox worker failed: {m if type(m) is str else 'no message'}; nothing was "
                f"committed (the ledger stays at block {height})"
            )
        return reply

    def probe_sandbox(self, scratch_dir: str) -> dict:
        """Test hook: inside the worker, try fork, exec, sockets, a file write in
        ``scratch_dir``, a read outside the allowed paths and a signal to this process; return
        {attempt: "refused: ERRNO" | "ALLOWED"}. Works only when the environment variable
        PYCONTRACT_WORKER_TEST_PROBES=1 was set when the worker started."""
        with self._lock:
            self._live()
            reply = self._request({"op": "probe", "scratch": str(scratch_dir)}, WORKER_TIMEOUT_BASE)
            if reply.get("op") != "probe" or type(reply.get("results")) is not dict:
                raise NodeFault("the sandbox worker did not answer the probe")
            return reply["results"]

    # ------------------------------------------------------------- transactions
    def _assign_hashes(self, height: int, txs: list, receipts: list) -> None:
        """Hashes for a block where nothing was included: every tx takes position 0."""
        for tx, r in zip(txs, receipts):
            r.tx_hash = self._tx_hash(height, 0, tx)

    def _tx_hash(self, height: int, index: int, tx: Tx) -> str:
        """Digest of the transaction and its place: ``index`` counts only the transactions the
        block includes (rejected ones are never stored), so a replay of the stored history
        reproduces every hash; a rejected transaction takes the position the next included one
        gets."""
        args = tx.args if tx.args is not None else {}
        function = "constructor" if tx.kind == "deploy" else tx.function
        try:
            return codec.digest([self.chain_id, height, index, tx.kind, tx.sender, tx.contract,
                                 function, args, tx.gas_limit])
        except (EncodingError, TypeError):
            # fields that cannot be encoded (the tx is rejected): hash their ASCII reprs, which
            # exist for anything, lone surrogates included
            return codec.digest([self.chain_id, height, index, tx.kind, ascii(tx.sender),
                                 ascii(tx.contract), ascii(function), None, ascii(tx.gas_limit)])

    def _tx_hasher(self, height: int):
        """``hash(index, tx, args_blob)``: ``_tx_hash`` for a transaction whose arguments were
        encoded by _precheck (``args_blob``), assembled from encoded pieces (a CBOR array is
        its head followed by its items' canonical encodings), so the arguments are not encoded
        again; falls back to ``_tx_hash`` whenever that might differ (a chain id that does not
        encode, arguments nested close to the depth bound)."""
        try:
            head = b"\x89" + codec.encode_value(self.chain_id) + codec.encode_value(height)
        except EncodingError:
            head = None
        enc = codec.encode_value

        def tx_hash(index: int, tx: Tx, blob: bytes) -> str:
            args = tx.args if tx.args is not None else {}
            if head is None or not codec.nests_within(args, blob, 1):
                return self._tx_hash(height, index, tx)
            function = "constructor" if tx.kind == "deploy" else tx.function
            return hashlib.sha256(b"".join((
                head, enc(index), enc(tx.kind), enc(tx.sender), enc(tx.contract), enc(function),
                blob, enc(tx.gas_limit),
            ))).hexdigest()

        return tx_hash

    def execute_block(self, txs, *, time: int | None = None) -> list[Receipt]:
        """Run ``txs`` as one block; commit it iff at least one transaction executed.
        Returns one receipt per transaction, in order (rejected ones included, not committed)."""
        with self._lock:
            return self._execute_block(list(txs), time)

    def _execute_block(self, txs: list, time: int | None) -> list[Receipt]:
        led = self._live()
        for i, tx in enumerate(txs):
            if not isinstance(tx, Tx):
                raise TypeError(f"txs[{i}] is a {type(tx).__name__}, not a pycontract.Tx")
        head = led.head
        parent_time = head.time if head is not None else 0
        if time is None:
            time = parent_time + 1
        elif not _is_int(time) or time < parent_time:
            raise InvalidTransaction(
                f"block time must be an int not before the previous block's time ({parent_time})"
            )
        height = led.height + 1
        receipts: list[Receipt | None] = [None] * len(txs)
        send, send_idx = [], []
        deploying = set()  # contracts an earlier transaction of this block may deploy
        blobs: dict[int, bytes] = {}
        for i, tx in enumerate(txs):
            why = _precheck(tx, self.max_gas_per_tx, blobs)
            if why is None and tx.kind == "call" and tx.contract not in deploying \
                    and led.contract(tx.contract) is None:
                why = f"unknown contract {tx.contract!r}"
            if why is None and tx.kind == "deploy" and led.contract(tx.contract) is not None:
                why = f"contract {tx.contract!r} already exists"
            if why is not None:
                receipts[i] = Receipt("rejected", 0, None, why, [], "")
                continue
            msg = {"kind": tx.kind, "sender": tx.sender, "contract": tx.contract,
                   "function": tx.function if tx.kind == "call" else "constructor",
                   "args": blobs[id(tx)], "gas_limit": tx.gas_limit}
            if tx.kind == "deploy":
                msg["source"] = tx.source
                deploying.add(tx.contract)
            send.append(msg)
            send_idx.append(i)
        if not send:
            self._assign_hashes(height, txs, receipts)
            return receipts  # nothing executed: no block
        gas = sum(m["gas_limit"] for m in send)
        timeout = WORKER_TIMEOUT_BASE + gas / WORKER_MIN_GAS_PER_SECOND
        w = self._ensure_worker()
        deadline = _time.monotonic() + timeout
        self._send(w, {"op": "block", "height": height, "time": time, "txs": send,
                       "cpu_seconds": int(timeout) + 1}, led.height)
        # results arrive in parts while the worker runs the rest of the block: each part is
        # validated and applied here in parallel with the worker's execution of the next
        sent = set(send_idx)
        ov = led.begin_block()
        # before waiting for each next part, the overlay pre-computes the commit's storage rows
        # and state leaves of what was applied so far (also in parallel with the worker)
        stream = self._block_results(w, deadline, timeout, len(send), led.height,
                                     before_wait=ov.prepare)
        tx_hash_of = self._tx_hasher(height)
        known = lambda n: ov.contract(n) is not None  # noqa: E731
        done = False
        try:
            records = []
            position = 0  # index among the block's included transactions, part of the tx hash
            for i, tx in enumerate(txs):
                if i not in sent:  # rejected before reaching the worker
                    receipts[i].tx_hash = self._tx_hash(height, position, tx)
                    continue
                r = next(stream)
                src_hash = (hashlib.sha256(tx.source.encode("utf-8")).hexdigest()
                            if tx.kind == "deploy" else None)
                try:
                    c = _validate_result(r, tx, known, src_hash, ov.check_write)
                    if c.deployed is not None and ov.contract(tx.contract) is not None:
                        _fault(f"contract {tx.contract!r} deployed twice")
                except NodeFault as e:
                    self._drop_worker()
                    raise NodeFault(f"{e}; nothing was committed (the ledger stays at block "
                                    f"{led.height})") from None
                tx_hash = tx_hash_of(position, tx, blobs[id(tx)])
                receipts[i] = Receipt(c.status, c.gas_used, c.result, c.error,
                                      [Event(e.contract, e.name, e.fields) for e in c.events],
                                      tx_hash)
                if c.status == "rejected":
                    continue
                position += 1
                ov.begin_tx()
                if c.deployed is not None:
                    ov.add_contract(c.deployed)
                for contract, key, value in c.writes:
                    if value is None:
                        ov.delete(contract, key)
                    else:
                        ov.put(contract, key, value)
                ov.keep_tx()
                rec = TxRecord(
                    tx_hash=tx_hash, kind=tx.kind, sender=tx.sender, contract=tx.contract,
                    function="constructor" if tx.kind == "deploy" else tx.function,
                    args=tx.args if tx.args is not None else {}, gas_limit=tx.gas_limit,
                    status=c.status, gas_used=c.gas_used, result=c.result, error=c.error,
                    events=c.events,
                )
                ov.add_tx(rec)  # its rows and receipt digest are encoded now, not at commit
                records.append((i, rec))
            for _extra in stream:  # reads the final frame; it must hold no further result
                self._drop_worker()
                raise NodeFault("the sandbox worker sent an invalid reply: too many results; "
                                f"nothing was committed (the ledger stays at block {led.height})")
            done = True
            if records:
                led.commit_block(ov, time=time, txs=None)  # the records added above
                for i, rec in records:
                    receipts[i].height = rec.height
                    receipts[i].index = rec.index
        finally:
            ov.close()
            if not done:
                # the worker may still be sending this block's parts: never read them as the
                # reply to a later request
                self._drop_worker()
        return receipts

    def _block_results(self, w: _Worker, deadline: float, timeout: float, n: int, height: int,
                       before_wait=None):
        """Yield the ``n`` results of a block request, frame by frame (``block_part`` frames,
        then one final ``block`` frame); anything else is a node fault. ``before_wait()`` runs
        before each frame after the first is read (work to overlap with the worker's)."""
        got = 0
        while True:
            if got and before_wait is not None:
                before_wait()
            reply = self._reply(w, deadline, timeout, height)
            op, results = reply.get("op"), reply.get("results")
            if op not in ("block_part", "block") or type(results) is not list \
                    or got + len(results) > n or (op == "block_part" and not results) \
                    or (op == "block" and got + len(results) != n):
                self._drop_worker()
                raise NodeFault("the sandbox worker sent an invalid reply: wrong number of "
                                f"results; nothing was committed (the ledger stays at block "
                                f"{height})")
            got += len(results)
            yield from results
            if op == "block":
                return

    def _drop_worker(self):
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    def deploy(self, name: str, source: str, *, sender: str, args: dict | None = None,
               gas_limit: int = DEFAULT_DEPLOY_GAS, time: int | None = None) -> Receipt:
        """Deploy ``source`` as contract ``name`` in a block of its own."""
        # a missing source must still be a deploy (rejected for it), not a call of ``name``
        return self.execute_block(
            [Tx(sender=sender, contract=name, function="constructor", args=args,
                gas_limit=gas_limit, source=_NO_SOURCE if source is None else source)],
            time=time)[0]

    def call(self, contract: str, function: str, args: dict | None = None, *, sender: str,
             gas_limit: int = DEFAULT_CALL_GAS, time: int | None = None) -> Receipt:
        """Call a public (or view) function in a transaction of its own block."""
        return self.execute_block(
            [Tx(sender=sender, contract=contract, function=function, args=args,
                gas_limit=gas_limit)], time=time)[0]

    def query(self, contract: str, function: str, args: dict | None = None, *,
              gas_limit: int = DEFAULT_QUERY_GAS, sender: str = "query") -> Any:
        """Run a view against the committed state; return its value. Invalid queries raise
        InvalidTransaction, a revert or out-of-gas raises QueryError."""
        with self._lock:
            led = self._live()
            tx = Tx(sender=sender, contract=contract, function=function, args=args,
                    gas_limit=gas_limit)
            why = _precheck(tx, self.max_gas_per_tx)
            if why is None and led.contract(contract) is None:
                why = f"unknown contract {contract!r}"
            if why is not None:
                raise InvalidTransaction(why)
            head = led.head
            timeout = WORKER_TIMEOUT_BASE + gas_limit / WORKER_MIN_GAS_PER_SECOND
            reply = self._request(
                {"op": "query", "contract": contract, "function": function,
                 "args": codec.encode_value(args if args is not None else {}),
                 "gas_limit": gas_limit, "sender": sender, "height": led.height,
                 "time": head.time if head is not None else 0, "cpu_seconds": int(timeout) + 1},
                timeout,
            )
            status, error, used, res = (reply.get("status"), reply.get("error"),
                                        reply.get("gas_used"), reply.get("result"))
            if reply.get("op") != "query" or status not in STATUSES or \
                    (error is not None and type(error) is not str) or not _is_int(used) or \
                    not 0 <= used <= gas_limit:
                self._drop_worker()
                raise NodeFault("the sandbox worker sent an invalid query reply")
            if status == "rejected":
                raise InvalidTransaction(error or "invalid query")
            if status != "success":
                raise QueryError(status, error or status)
            if res is None:
                return None
            if type(res) is not bytes:
                self._drop_worker()
                raise NodeFault("the sandbox worker sent an invalid query result")
            try:
                return codec.decode_value(res)
            except EncodingError as e:
                self._drop_worker()
                raise NodeFault(f"the sandbox worker sent an undecodable query result: {e}") from None

    # ------------------------------------------------------------- reads
    def state_root(self) -> str:
        return self._live().state_root()

    @property
    def height(self) -> int:
        return self._live().height

    def receipts(self, height: int) -> list[Receipt]:
        """Receipts of the transactions committed in block ``height``."""
        return [Receipt.from_record(r) for r in self._live().transactions(height)]

    def receipt(self, tx_hash: str) -> Receipt | None:
        rec = self._live().transaction(tx_hash)
        return None if rec is None else Receipt.from_record(rec)

    def contract(self, name: str) -> ContractRecord | None:
        return self._live().contract(name)

    def contracts(self) -> list[ContractRecord]:
        return self._live().contracts()

    def __repr__(self) -> str:
        return f"Chain({self.path!r}, height={self.height if not self._closed else 'closed'})"
