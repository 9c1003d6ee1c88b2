"""The host API: ``Chain``, ``Tx``, ``Receipt``, ``Event`` (SPEC.md section 2).

The host never parses, compiles or runs contract source. It checks what it can without the
source (names, argument encodability, sizes, gas limits), sends the block to the sandbox worker
(``pycontract.worker``), treats everything that comes back as untrusted data and validates it
(types, sizes, statuses, gas, encodings, which contracts a transaction may have written), replays
the write sets onto its own ``BlockOverlay`` and commits the block in one SQLite transaction.
See docs/engine.md.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import secrets
import select
import shutil
import tempfile
import threading
import time as _time
from typing import Any

import cbor2

from ledger_store import Ledger, codec
from ledger_store.errors import EncodingError
from ledger_store.records import ContractRecord, TxRecord
from pycontract.errors import InvalidTransaction, NodeFault, PycontractError, QueryError
from pycontract.host import accounts, hashing
from pycontract.host.limits import MAX_GAS_PER_TX
from pycontract.metering.schedule import MAX_GAS_LIMIT
from pycontract.host.records import (
    DEFAULT_CALL_GAS,
    DEFAULT_DEPLOY_GAS,
    DEFAULT_QUERY_GAS,
    Event,
    LedgerVersionError,
    Receipt,
    Tx,
    _NO_SOURCE,
)
from pycontract.host.validate import (
    STATUSES,
    _Checked,
    _check_compiled,
    _fault,
    _is_int,
    _precheck,
    _validate_result,
)
from pycontract.host.worker_client import (
    WORKER_MIN_GAS_PER_SECOND,
    WORKER_START_TIMEOUT,
    WORKER_TIMEOUT_BASE,
    _Worker,
)
from pycontract.metering.schedule import GAS_SCHEDULE_VERSION
from pycontract.profiler import check_profile
from pycontract.worker import protocol

#: the ledger meta key of the block gas limit (shared with pycontract.node.app's InitChain)
META_BLOCK_GAS_LIMIT = "block_max_gas"
#: seconds the worker may take to compile one contract ahead (``compile_contracts``; the
#: largest source allowed compiles in a few seconds)
COMPILE_TIMEOUT = 300.0


_gc_lock = threading.Lock()
_gc_holders = 0  # block pipelines running with the cyclic collector paused by us


@contextlib.contextmanager
def _collector_paused():
    """Pause CPython's cyclic garbage collector while a block runs: a 500-transaction block
    allocates tens of thousands of containers that live until it commits (results, records,
    receipts, overlay maps), so the collector kept walking them (generation 1 and 2 passes:
    ~5.8 ms of host CPU per block, ~15%) and never found a cycle: reference counting frees
    all of it. Any cycle made meanwhile (the measured pipeline made none) is collected once it
    is resumed. The collector is resumed when the last pipeline running ends, and only if it
    was on before."""
    global _gc_holders
    with _gc_lock:
        paused = _gc_holders > 0 or gc.isenabled()
        if paused:
            if _gc_holders == 0:
                gc.disable()
            _gc_holders += 1
    try:
        yield
    finally:
        if paused:
            with _gc_lock:
                _gc_holders -= 1
                if _gc_holders == 0:
                    gc.enable()


def _gas_setting(v) -> int:
    if not _is_int(v) or v < -1:
        raise ValueError("block_gas_limit must be an int >= 0, or -1 (or None) for no limit")
    return v

# ------------------------------------------------------------------------------- Chain


class Chain:
    """A ledger plus the sandbox worker that executes its contracts.

    ``Chain(path)`` opens (creating if missing) the SQLite ledger at ``path``; ``Chain()`` uses a
    private temporary file, deleted by ``close()``. ``worker_pid`` is the pid of the sandbox
    worker (started if it is not running): tests and operators may watch or kill it.
    ``block_gas_limit`` (kept in the ledger's meta as ``block_max_gas``, the key the CometBFT
    app sets from InitChain's consensus ``block.max_gas``; -1 or absent: no limit) caps the
    summed gas limits of a block's transactions: one that does not fit is left out (rejected,
    "block gas limit reached", not stored, its nonce unused) and later ones that fit still run.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, chain_id: str = "pycontract-local",
                 max_gas_per_tx: int = MAX_GAS_PER_TX, worker_limits: dict | None = None,
                 worker_hash_seed: int | None = None, block_gas_limit: int | None = None,
                 readonly: bool = False):
        self._tmpdir = None
        #: queries and reads only, on ``Ledger(path, readonly=True)``: no writer lock, so it
        #: works beside another process that writes the file (SQLite WAL readers never block)
        self.readonly = bool(readonly)
        if path is None and self.readonly:
            raise PycontractError("a read-only Chain needs the path of an existing ledger")
        if path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="pycontract-")
            path = os.path.join(self._tmpdir, "ledger.db")
        self.path = os.path.abspath(os.fspath(path))
        self.chain_id = chain_id
        self.max_gas_per_tx = int(max_gas_per_tx)
        if not 0 < self.max_gas_per_tx <= MAX_GAS_LIMIT:
            # the engine runs nothing with more (the rewriter's int bounds rest on it)
            raise ValueError(f"max_gas_per_tx must be in [1, {MAX_GAS_LIMIT}]")
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
        self._pending: PendingBlock | None = None
        #: name -> (name, engine, code hash, bytes): compiled code a query's worker offered
        #: while a block was staged, stored with the next block instead
        self._compiled_later: dict = {}
        try:
            if self.readonly:
                self._ledger = Ledger(self.path, readonly=True)
                self.chain_id = self._ledger.meta.get("chain_id") or chain_id
            else:
                self._ledger = Ledger(self.path, chain_id=chain_id)
            self._check_gas_schedule()
            if block_gas_limit is not None:
                self.set_meta(META_BLOCK_GAS_LIMIT, _gas_setting(block_gas_limit))
            self._block_gas_limit = int(self._ledger.meta.get(META_BLOCK_GAS_LIMIT, -1))
        except BaseException:
            self.close()
            raise

    def _check_gas_schedule(self) -> None:
        stored = self._ledger.meta.get("gas_schedule_version")
        if stored is None:
            if not self.readonly:
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
        self._pending = None  # closing the ledger rolls a pending block back
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

    def _writable(self):
        led = self._live()
        if self.readonly:
            raise PycontractError(f"{self.path}: this Chain is read-only (queries and reads "
                                  "only); open it without readonly=True to write")
        return led

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
        w.engine = hello.get("engine") if type(hello.get("engine")) is str else ""
        self._worker = w
        return w

    def compile_contracts(self) -> int:
        """Compile, in the worker and outside any block, every contract that has no compiled
        code of the worker's engine stored (a ledger older than schema 5, or the first start
        after an upgrade of the interpreter or of pycontract), and store it: otherwise the
        first transaction or query to use each such contract compiles it for the gas of a
        call. A node runs this before it answers CometBFT's handshake. Returns how many."""
        with self._lock:
            led = self._writable()
            if self._pending is not None:
                raise PycontractError("a pending block is open: commit or drop it first")
            if not led.has_contracts():
                return 0  # nothing to compile: no worker started for it
            names = led.uncompiled(self._ensure_worker().engine)
            for name in names:
                reply = self._request({"op": "compile", "contract": name,
                                       "cpu_seconds": int(COMPILE_TIMEOUT) + 1}, COMPILE_TIMEOUT)
                if reply.get("op") != "compile":
                    self._drop_worker()
                    raise NodeFault("the sandbox worker sent an invalid compile reply")
                self._keep_compiled(led, reply)
            return len(names)

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
        if self._profiling is not None and type(msg) is dict and msg.get("op") == "block":
            msg = {**msg, "profile": True}
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
            r.tx_hash = tx.tx_hash or self._tx_hash(height, 0, tx)

    def _tx_hash(self, height: int, index: int, tx: Tx) -> str:
        return hashing.tx_hash(self.chain_id, height, index, tx)

    def _tx_hasher(self, height: int):
        return hashing.tx_hasher(self.chain_id, height)

    def execute_block(self, txs, *, time: int | None = None,
                      profile: bool = False) -> list[Receipt]:
        """Run ``txs`` as one block; commit it iff at least one transaction executed.
        Returns one receipt per transaction, in order (rejected ones included, not committed).
        ``profile=True`` fills each receipt's ``profile`` (gas per source line); it changes no
        gas, result or state."""
        with self._lock, _collector_paused():
            receipts, pending = self._run_block(list(txs), time, always=False, profile=profile)
            return receipts if pending is None else pending.commit()

    def execute_blocks(self, blocks, *, times=None) -> list[list[Receipt]]:
        """Run several blocks in order, as that many ``execute_block`` calls would (same
        receipts, same state roots, same heights), but pipelined: while the host stages and
        commits block N (rows, state root, fsync), the worker already executes block N+1 on
        top of N's writes. Each block still commits whole and alone, and only after the one
        before it is durable; a kill -9 leaves the ledger at its last committed block. Returns
        one receipt list per block, all durable. ``times``: None or one block time (or None)
        per block. On an error, blocks before the failing one stay committed (see ``height``).
        """
        with self._lock, _collector_paused():
            led = self._writable()
            if self._pending is not None:
                raise PycontractError("a pending block is open: commit or drop it first")
            blocks = [list(b) for b in blocks]
            times = [None] * len(blocks) if times is None else list(times)
            if len(times) != len(blocks):
                raise ValueError("times must give one time (or None) per block")
            for b in blocks:
                for i, tx in enumerate(b):
                    if not isinstance(tx, Tx):
                        raise TypeError(f"txs[{i}] is a {type(tx).__name__}, not a pycontract.Tx")
            head = led.head
            parent_time = head.time if head is not None else 0
            height = led.height
            out: list[list[Receipt]] = []
            prev = None  # (overlay, time, receipts, records) executed but not yet staged
            ahead = None  # the prechecks of this block done while waiting for the one before
            try:
                for n, (txs, t) in enumerate(zip(blocks, times)):
                    if t is None:
                        t = parent_time + 1
                    elif not _is_int(t) or t < parent_time:
                        raise InvalidTransaction(
                            f"block time must be an int not before the previous block's time "
                            f"({parent_time})")
                    h = height + 1
                    view = led if prev is None else _PendingView(led, prev[0], prev[3])
                    receipts, send, blobs, consumed = self._admit(view, txs, ahead)
                    encoded = ahead.encoded if ahead is not None and ahead.txs is txs else None
                    ahead = (_Prechecks(blocks[n + 1], self.max_gas_per_tx)
                             if n + 1 < len(blocks) else None)
                    box: list = []
                    try:
                        stream = (self._send_block(led, send, h, t, box, prev is not None,
                                                   idle=ahead and ahead.step, encoded=encoded)
                                  if send else iter(()))
                    except BaseException:
                        if prev is not None:  # the block before executed fine: keep it
                            p, prev = prev, None
                            out.append(self._commit_executed(led, *p))
                        raise
                    committing = None
                    if prev is not None:  # the worker runs this block meanwhile
                        p, prev = prev, None
                        committing = self._commit_started(led, *p)
                    if not send and not consumed:
                        if committing is not None:
                            out.append(self._committed(*committing))
                        self._assign_hashes(h, txs, receipts)
                        out.append(receipts)
                        continue
                    # on top of the block being committed: the COMMIT and its fsync run on a
                    # helper thread while this thread takes the worker's results
                    ov = led.begin_block()
                    box.append(ov)
                    try:
                        records = self._consume(led, ov, txs, receipts, send, blobs, consumed,
                                                h, stream)
                    except BaseException:
                        ov.close()
                        raise
                    if committing is not None:
                        out.append(self._committed(*committing))
                    if not records:
                        self._carry_compiled(ov.compiled_added())
                        ov.close()
                        out.append(receipts)
                        continue
                    prev = (ov, t, receipts, records)
                    height, parent_time = h, t
                if prev is not None:
                    p, prev = prev, None
                    out.append(self._commit_executed(led, *p))
            finally:
                if prev is not None:
                    prev[0].close()
                if led._inflight is not None:  # failing: never leave a COMMIT running
                    try:
                        led.settle()
                    except Exception:  # noqa: BLE001 - the error on its way out says more
                        pass
            return out

    @staticmethod
    def _commit_started(led, ov, time: int, receipts: list, records: list):
        """Stage an executed block and start its COMMIT on a helper thread (the ledger's
        ``commit_async``); ``_committed(*returned)`` waits for it."""
        try:
            staged = led.stage_block(ov, time=time, txs=None)
        except BaseException:
            ov.close()
            raise
        staged.commit_async()
        return staged, receipts, records

    @staticmethod
    def _committed(staged, receipts: list, records: list) -> list:
        """Wait until a block of ``_commit_started`` is durable; its receipts, heights filled."""
        staged.commit()
        for i, rec in records:
            receipts[i].height = rec.height
            receipts[i].index = rec.index
        return receipts

    def _commit_executed(self, led, ov, time: int, receipts: list, records: list):
        """Stage and commit an executed block's overlay; its receipts with heights filled."""
        try:
            staged = led.stage_block(ov, time=time, txs=None)
        except BaseException:
            ov.close()
            raise
        self._pending = PendingBlock(self, staged, time, receipts, records)
        return self._pending.commit()

    def begin_block(self, txs, *, time: int | None = None,
                    profile: bool = False) -> "PendingBlock":
        """Phase one of a block: execute every transaction through the worker and compute the
        new state root without committing. Always yields a block (height + 1), even when
        ``txs`` is empty or every transaction is rejected. ``commit()`` persists it atomically;
        ``drop()`` discards it. Until then no other block can begin, and nobody (queries, other
        processes, read-only ledgers) sees it; a kill -9 leaves the ledger at its last block."""
        with self._lock, _collector_paused():
            return self._run_block(list(txs), time, always=True, profile=profile)[1]

    def _run_block(self, txs: list, time: int | None, *, always: bool, profile: bool = False):
        """The block pipeline shared by execute_block and begin_block: admit, execute in the
        worker, validate and apply the replies, stage. Returns (receipts, PendingBlock), the
        block None when no transaction executed and ``always`` is false."""
        led = self._writable()
        if self._pending is not None:
            raise PycontractError("a pending block is open: commit or drop it first")
        for i, tx in enumerate(txs):
            if not isinstance(tx, Tx):
                raise TypeError(f"txs[{i}] is a {type(tx).__name__}, not a pycontract.Tx")
        time = self._block_time(led, time)
        height = led.height + 1
        receipts, send, blobs, consumed = self._admit(led, txs)
        if profile:  # refused here: no code ran, no gas, no rows (the worker's fill the rest)
            for r in receipts:
                if r is not None:
                    r.profile = []
        if not send and not consumed and not always:
            self._assign_hashes(height, txs, receipts)
            return receipts, None  # nothing executed: no block
        ov = led.begin_block()
        done = False
        self._profiling = [] if profile else None
        try:
            records = self._execute(led, ov, txs, receipts, send, blobs, consumed, height,
                                    time)
            if profile:
                self._attach_profiles(led, txs, receipts, send, self._profiling)
            if not records and not always:
                return receipts, None  # only rejections: no block
            compiled = ov.compiled_added()
            staged = led.stage_block(ov, time=time, txs=None)  # the records added to ov
            done = True
        finally:
            self._profiling = None
            if not done:
                self._carry_compiled(ov.compiled_added())
                ov.close()
        self._pending = PendingBlock(self, staged, time, receipts, records, compiled)
        return receipts, self._pending

    def _block_time(self, led, time):
        head = led.head
        parent_time = head.time if head is not None else 0
        if time is None:
            return parent_time + 1
        if not _is_int(time) or time < parent_time:
            raise InvalidTransaction(
                f"block time must be an int not before the previous block's time ({parent_time})"
            )
        return time

    def _admit(self, led, txs: list, ahead: "_Prechecks | None" = None):
        """Host-side checks of every transaction: (receipts with the rejected ones filled in,
        {index: worker message} of the rest in order, {id(tx): encoded args}, the indices of
        network transactions that use their nonce even though they were rejected here).
        ``ahead``: the state-independent checks of the first transactions, done earlier."""
        led = _AdmitView(led)
        receipts: list[Receipt | None] = [None] * len(txs)
        send: dict[int, dict] = {}
        deploying = set()  # contracts an earlier transaction of this block may deploy
        senders = set()  # accounts that sent an earlier transaction of this block
        nonces: dict[str, int] = {}  # next nonce per account within this block
        consumed: set[int] = set()
        whys = msgs = ()
        if ahead is not None and ahead.txs is txs and ahead.max_gas == self.max_gas_per_tx:
            whys, msgs, blobs = ahead.whys, ahead.msgs, ahead.blobs
        else:
            blobs: dict[int, bytes] = {}
        done_ahead = len(whys)
        cap, block_gas = self._block_gas_limit, 0
        for i, tx in enumerate(txs):
            why = whys[i] if i < done_ahead else _precheck(tx, self.max_gas_per_tx, blobs)
            if why is None and cap >= 0:
                # every well-formed transaction counts, whatever its fate below (as the ABCI
                # app's ProcessProposal sums them): one that does not fit is left out before
                # its nonce is looked at, so it can be sent again in a later block
                if block_gas + tx.gas_limit > cap:
                    why = (f"block gas limit reached: this transaction's gas limit "
                           f"{tx.gas_limit} does not fit in the {cap - block_gas} left of the "
                           f"block's {cap}; send it in a later block")
                else:
                    block_gas += tx.gas_limit
            if why is None and tx.nonce is not None:
                expected = nonces.get(tx.sender)
                if expected is None:
                    expected = accounts.next_nonce(led.get, tx.sender)
                if tx.nonce != expected:
                    why = accounts.nonce_mismatch(tx.sender, tx.nonce, expected)
                else:
                    nonces[tx.sender] = expected + 1
            if why is None:
                why = self._state_refusal(led, tx, deploying, senders)
                if why is not None and tx.nonce is not None:
                    consumed.add(i)  # refused for the state it met: never replayable later
            if why is not None:
                receipts[i] = Receipt("rejected", 0, None, why, [], "")
                continue
            senders.add(tx.sender)
            if tx.source is not None:  # a deploy
                deploying.add(tx.contract)
            send[i] = msgs[i] if i < done_ahead else _worker_msg(tx, blobs[id(tx)])
        return receipts, send, blobs, consumed

    @staticmethod
    def _state_refusal(led, tx: Tx, deploying: set, senders: set) -> str | None:
        """Why the ledger's state (and this block so far) refuses ``tx``; None if it does not."""
        if tx.sender in deploying or led.contract(tx.sender) is not None:
            return (f"sender {tx.sender!r} is a contract: accounts and contracts never share "
                    "a name")
        if tx.kind == "call":
            if tx.contract not in deploying and led.contract(tx.contract) is None:
                return f"unknown contract {tx.contract!r}"
            return None
        if tx.contract in deploying or led.contract(tx.contract) is not None:
            return f"contract {tx.contract!r} already exists"
        if tx.contract == tx.sender or tx.contract in senders or led.has_sender(tx.contract):
            return (f"{tx.contract!r} is an account (it has sent transactions): accounts and "
                    "contracts never share a name")
        return None

    def _execute(self, led, ov, txs, receipts, send: dict, blobs, consumed: set, height: int,
                 time: int):
        """Send the admitted transactions to the worker; validate each result as it streams
        back and apply it to ``ov``. Returns [(index in txs, TxRecord)] of the included ones:
        every executed transaction, and the refused ones that use their nonce."""
        stream = self._send_block(led, send, height, time, [ov]) if send else iter(())
        return self._consume(led, ov, txs, receipts, send, blobs, consumed, height, stream)

    def _send_block(self, led, send: dict, height: int, time: int, ov_box: list,
                    parent_pending: bool = False, idle=None, encoded: tuple | None = None):
        """Send a block request to the worker; the iterator of its results. ``ov_box[0]`` (set
        later if need be) is the overlay whose ``prepare`` runs while waiting for each part.
        ``parent_pending``: block ``height - 1`` is not committed yet; the worker runs this one
        on top of the writes of the block it ran last (that very block, see execute_blocks).
        ``idle()``: a step of other work to do while no part is ready; false when done.
        ``encoded``: (ids of the entries, their CBOR array) encoded ahead (_Prechecks): used
        when the entries to send are exactly those."""
        gas = sum(m["gas_limit"] for m in send.values())
        timeout = WORKER_TIMEOUT_BASE + gas / WORKER_MIN_GAS_PER_SECOND
        w = self._ensure_worker()
        deadline = _time.monotonic() + timeout
        msg = {"op": "block", "height": height, "time": time, "txs": list(send.values()),
               "cpu_seconds": int(timeout) + 1}
        if parent_pending:
            msg["parent_pending"] = True
        if encoded is not None and self._profiling is None \
                and encoded[0] == [id(m) for m in msg["txs"]]:
            del msg["txs"]
            msg = protocol.encode_with_array(msg, "txs", encoded[1])
        self._send(w, msg, led.height)
        # results arrive in parts while the worker runs the rest of the block: each part is
        # validated and applied here in parallel with the worker's execution of the next;
        # before waiting for each next part, the overlay pre-computes the commit's storage
        # rows and state leaves of what was applied so far (also in parallel)
        return self._block_results(w, deadline, timeout, len(send), led.height,
                                   before_wait=lambda: ov_box and ov_box[0].prepare(),
                                   idle=idle,
                                   final=lambda reply: self._take_compiled(ov_box[0], reply))

    def _consume(self, led, ov, txs, receipts, send: dict, blobs, consumed: set, height: int,
                 stream):
        """Validate each worker result of ``stream`` and apply it to ``ov`` (see _execute)."""
        tx_hash_of = self._tx_hasher(height)
        tx_fields = hashing.tx_fields
        done = False
        known_names: set = set()  # contracts seen to exist: none disappears within a block

        def known(name: str) -> bool:
            if name in known_names:
                return True
            if ov.contract(name) is None:
                return False
            known_names.add(name)
            return True

        try:
            records = []
            position = 0  # index among the block's included transactions, part of the tx hash
            for i, tx in enumerate(txs):
                if i not in send:  # rejected before reaching the worker
                    r = receipts[i]
                    r.tx_hash = tx.tx_hash or self._tx_hash(height, position, tx)
                    if i in consumed:
                        position += 1
                        records.append((i, self._apply(ov, tx, _refused(r.error), r.tx_hash,
                                                        blobs[id(tx)])))
                    continue
                c = self._checked(led, ov, tx, next(stream), known)
                blob = blobs[id(tx)]
                fields = tx_fields(tx, blob)
                tx_hash = tx.tx_hash or tx_hash_of(position, tx, blob, fields)
                receipts[i] = Receipt(c.status, c.gas_used, c.result, c.error,
                                      [Event(e.contract, e.name, e.fields) for e in c.events],
                                      tx_hash)
                if c.status == "rejected":
                    continue
                position += 1
                records.append((i, self._apply(ov, tx, c, tx_hash, blob, fields)))
            for _extra in stream:  # reads the final frame; it must hold no further result
                self._drop_worker()
                raise NodeFault("the sandbox worker sent an invalid reply: too many results; "
                                f"nothing was committed (the ledger stays at block {led.height})")
            done = True
        finally:
            if not done and send:
                # the worker may still be sending this block's parts: never read them as the
                # reply to a later request
                self._drop_worker()
        return records

    def _checked(self, led, ov, tx: Tx, r, known):
        """One untrusted worker result, validated (a NodeFault drops the worker); ``known(name)``:
        whether contract ``name`` exists in ``ov``."""
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
        return c

    #: profile mode (``_run_block(profile=True)``): the raw worker results of the block, in
    #: order, kept by ``_block_results`` for ``_attach_profiles``; None otherwise
    _profiling: list | None = None

    def _attach_profiles(self, led, txs: list, receipts: list, send: dict, raw: list) -> None:
        """Give each receipt of a profiled block its validated profile: the rows of contracts
        in its call tree, summing exactly to its (already validated) gas_used; anything else
        is a node fault. Receipts the host refused already hold []."""
        try:
            if len(raw) != len(send):
                raise NodeFault("the sandbox worker sent an invalid profile: results missing")
            for i, r in zip(send, raw):
                rec = receipts[i]
                has = len(r) > protocol.R_PROFILE  # results were validated: lists of 8 or 9
                if rec.status == "rejected" and not has:
                    rec.profile = []
                    continue
                touched = r[protocol.R_TOUCHED]  # validated: a list of names in the call tree
                rec.profile = check_profile(r[protocol.R_PROFILE] if has else None,
                                            rec.gas_used, set(touched) | {txs[i].contract})
        except NodeFault as e:
            self._drop_worker()
            raise NodeFault(f"{e}; nothing was committed (the ledger stays at block "
                            f"{led.height})") from None

    @staticmethod
    def _apply(ov, tx: Tx, c, tx_hash: str, args_blob: bytes,
               fields: bytes | None = None) -> TxRecord:
        """Replay one included transaction's validated writes onto the overlay (straight into
        its block layer: nothing here is ever reverted alone); its record. ``fields``:
        ``hashing.tx_fields`` of the transaction, when already made."""
        if c.deployed is not None:
            ov.add_contract(c.deployed)
        if c.writes:
            ov.put_block_writes(c.writes)
        if tx.nonce is not None:
            ov.put(accounts.ACCOUNTS, accounts.nonce_key(tx.sender),
                   accounts.nonce_value(tx.nonce + 1))
        rec = TxRecord(
            tx_hash=tx_hash, kind=tx.kind, sender=tx.sender, contract=tx.contract,
            function="constructor" if tx.kind == "deploy" else tx.function,
            args=tx.args if tx.args is not None else {}, gas_limit=tx.gas_limit,
            status=c.status, gas_used=c.gas_used, result=c.result, error=c.error,
            events=c.events, nonce=tx.nonce, args_encoded=args_blob,
            result_encoded=c.result_bytes, fields_encoded=fields,
        )
        ov.add_tx(rec)  # its rows and receipt digest are encoded now, not at commit
        return rec

    def _block_results(self, w: _Worker, deadline: float, timeout: float, n: int, height: int,
                       before_wait=None, idle=None, final=None):
        """Yield the ``n`` results of a block request, frame by frame (``block_part`` frames,
        then one final ``block`` frame); anything else is a node fault. ``before_wait()`` runs
        before each frame after the first is read (work to overlap with the worker's);
        ``idle()`` runs, a step at a time, only while the next frame has not arrived (work the
        host would otherwise do while the worker waits for it); it returns false when done.
        ``final(reply)`` runs on the final frame once its results have been taken."""
        got = 0
        while True:
            if got and before_wait is not None:
                before_wait()
            while idle is not None and not _readable(w.resp):
                if not idle():
                    idle = None
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
            if self._profiling is not None:
                self._profiling.extend(results)
            yield from results
            if op == "block":
                if final is not None:
                    final(reply)
                return

    def _take_compiled(self, ov, reply: dict) -> None:
        """Store the compiled code a block's final frame offers (the contracts it deployed,
        and any it had to compile again) with the block, as ``ledger.compiled`` rows: a new
        worker then loads them instead of compiling for the gas of a call. A malformed row is
        a node fault; one for no contract of that code hash (a deploy in a block that was then
        dropped) is left out."""
        try:
            rows = _check_compiled(reply.get("compiled"))
        except NodeFault as e:
            self._drop_worker()
            raise NodeFault(f"{e}; nothing was committed (the ledger stays at block "
                            f"{self._ledger.height})") from None
        later, self._compiled_later = self._compiled_later, {}
        for r in _of_contracts(ov, (*later.values(), *rows)):
            ov.add_compiled(*r)

    def _carry_compiled(self, rows) -> None:
        """Keep the compiled code of a block that is not committed for the next one (the
        worker reports a contract once; those the block deployed are dropped then)."""
        self._compiled_later.update((r[0], r) for r in rows)

    def _keep_compiled(self, led, reply: dict) -> None:
        """Store the compiled code a query's worker offers (contracts it compiled again: a new
        worker, an older ledger): now, or with the next block while one is staged; not at all
        on a read-only Chain."""
        try:
            rows = _check_compiled(reply.get("compiled"))
        except NodeFault:
            self._drop_worker()
            raise
        if self.readonly or not (rows or self._compiled_later):
            return
        self._carry_compiled(rows)
        if led._staged is None:
            later, self._compiled_later = self._compiled_later, {}
            led.put_compiled(_of_contracts(led, later.values()))

    def _drop_worker(self):
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    def deploy(self, name: str, source: str, *, sender: str, args: dict | None = None,
               gas_limit: int = DEFAULT_DEPLOY_GAS, time: int | None = None,
               profile: bool = False) -> Receipt:
        """Deploy ``source`` as contract ``name`` in a block of its own (``profile``: see
        ``call``)."""
        # a missing source must still be a deploy (rejected for it), not a call of ``name``
        return self.execute_block(
            [Tx(sender=sender, contract=name, function="constructor", args=args,
                gas_limit=gas_limit, source=_NO_SOURCE if source is None else source)],
            time=time, profile=profile)[0]

    def call(self, contract: str, function: str, args: dict | None = None, *, sender: str,
             gas_limit: int = DEFAULT_CALL_GAS, time: int | None = None,
             profile: bool = False) -> Receipt:
        """Call a public (or view) function in a transaction of its own block. ``profile=True``
        also fills ``receipt.profile``: gas per source line of every contract it ran (line 0:
        the transaction's own costs), summing exactly to ``gas_used``; nothing else changes."""
        return self.execute_block(
            [Tx(sender=sender, contract=contract, function=function, args=args,
                gas_limit=gas_limit)], time=time, profile=profile)[0]

    def query(self, contract: str, function: str, args: dict | None = None, *,
              gas_limit: int = DEFAULT_QUERY_GAS, sender: str = "query",
              profile: bool = False) -> Any:
        """Run a view against the committed state; return its value. Invalid queries raise
        InvalidTransaction, a revert or out-of-gas raises QueryError.

        ``profile=True`` returns a Receipt instead (never stored: no tx_hash, no height) whose
        ``result`` is the value and whose ``profile`` is the gas per source line; a revert or
        out of gas is its status then, not a QueryError (the profile shows where gas went)."""
        with self._lock:
            led = self._live()
            tx = Tx(sender=sender, contract=contract, function=function, args=args,
                    gas_limit=gas_limit)
            why = _precheck(tx, self.max_gas_per_tx, query=True)
            if why is None and led.contract(contract) is None:
                why = f"unknown contract {contract!r}"
            if why is not None:
                raise InvalidTransaction(why)
            head = led.head
            timeout = WORKER_TIMEOUT_BASE + gas_limit / WORKER_MIN_GAS_PER_SECOND
            request = {"op": "query", "contract": contract, "function": function,
                       "args": codec.encode_value(args if args is not None else {}),
                       "gas_limit": gas_limit, "sender": sender, "height": led.height,
                       "time": head.time if head is not None else 0,
                       "cpu_seconds": int(timeout) + 1}
            if profile:
                request["profile"] = True
            reply = self._request(request, timeout)
            status, error, used, res = (reply.get("status"), reply.get("error"),
                                        reply.get("gas_used"), reply.get("result"))
            if reply.get("op") != "query" or status not in STATUSES or \
                    (error is not None and type(error) is not str) or not _is_int(used) or \
                    not 0 <= used <= gas_limit:
                self._drop_worker()
                raise NodeFault("the sandbox worker sent an invalid query reply")
            self._keep_compiled(led, reply)
            if status == "rejected":
                raise InvalidTransaction(error or "invalid query")
            if profile:
                return self._query_receipt(reply, status, used, error, res, contract)
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

    def _query_receipt(self, reply, status, used, error, res, contract) -> Receipt:
        """A profiled query's reply as a Receipt (validated like the rest of the reply)."""
        value = None
        try:
            if res is not None:
                if type(res) is not bytes or status != "success":
                    raise NodeFault("the sandbox worker sent an invalid query result")
                try:
                    value = codec.decode_value(res)
                except EncodingError as e:
                    raise NodeFault("the sandbox worker sent an undecodable query result: "
                                    f"{e}") from None
            # a view may call other contracts' views: any existing contract may have run
            raw = reply.get("profile")
            named = {r[0] for r in raw if type(r) is list and r and type(r[0]) is str} \
                if type(raw) is list else set()
            names = {c for c in named if self._ledger.contract(c) is not None} | {contract}
            rows = check_profile(raw, used, names)
        except NodeFault:
            self._drop_worker()
            raise
        return Receipt(status, used, value, error if status != "success" else None,
                       profile=rows)

    # ------------------------------------------------------------- reads
    def state_root(self) -> str:
        return self._live().state_root()

    def nonce(self, address: str) -> int:
        """The next nonce a network transaction from ``address`` must carry (committed state)."""
        return accounts.next_nonce(self._live().get, address)

    def precheck(self, tx: Tx) -> str | None:
        """Why the host would refuse ``tx`` whatever the ledger's state; None if it would not.
        (A mempool filter: state-dependent refusals are decided when the block executes.)"""
        return _precheck(tx, self.max_gas_per_tx)

    @property
    def block_gas_limit(self) -> int:
        """The cap on a block's summed transaction gas limits; -1: none (ledger meta
        ``block_max_gas``)."""
        return self._block_gas_limit

    @property
    def meta(self) -> dict:
        """The ledger's meta table (schema and gas schedule versions, chain id, settings)."""
        return self._live().meta

    def set_meta(self, key: str, value) -> None:
        """Store a JSON-able setting in the ledger's meta table (committed at once)."""
        with self._lock:
            if self._pending is not None:
                raise PycontractError("a pending block is open: commit or drop it first")
            if key == META_BLOCK_GAS_LIMIT:
                value = _gas_setting(value)
            self._writable().set_meta(key, value)
            if key == META_BLOCK_GAS_LIMIT:
                self._block_gas_limit = value

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


def _of_contracts(reader, rows) -> list:
    """The compiled-code rows (name, engine, code hash, bytes) whose contract exists in
    ``reader`` (a ledger or an overlay) with that code hash: the others stay out."""
    return [r for r in rows if getattr(reader.contract(r[0]), "code_hash", None) == r[2]]


def _readable(fd: int) -> bool:
    """Whether ``fd`` has data (or EOF) to read now."""
    return bool(select.select((fd,), (), (), 0)[0])


def _worker_msg(tx: Tx, args_blob: bytes) -> dict:
    """The worker's request entry for an admitted transaction."""
    msg = {"kind": tx.kind, "sender": tx.sender, "contract": tx.contract,
           "function": tx.function if tx.kind == "call" else "constructor",
           "args": args_blob, "gas_limit": tx.gas_limit}
    if tx.kind == "deploy":
        msg["source"] = tx.source
    return msg


class _Prechecks:
    """The state-independent checks (``_precheck``, which also encodes the arguments) of a
    block's transactions, done a few at a time ahead of its admission: execute_blocks runs
    them for block N+1 while the host waits for the worker's results of block N, so that
    admission, during which the worker has nothing to run, is mostly done."""

    STEP = 20  # transactions per step (~60 us): a ready frame waits at most one step

    def __init__(self, txs: list, max_gas: int):
        self.txs, self.max_gas = txs, max_gas
        self.whys: list = []
        self.msgs: list = []  # the worker's request entry of each that passed (else None)
        #: once all are checked: (ids of the entries that passed, their CBOR array), the
        #: request's transactions if admission passes them all (as in a block of transfers)
        self.encoded: tuple | None = None
        self.blobs: dict[int, bytes] = {}

    def step(self) -> bool:
        """Check the next few transactions; whether any are left. An unexpected error stops
        the work here: admission then checks the rest itself (and meets the error there)."""
        whys, msgs, txs, blobs = self.whys, self.msgs, self.txs, self.blobs
        start = len(whys)
        try:
            for tx in txs[start:start + self.STEP]:
                why = _precheck(tx, self.max_gas, blobs)
                msgs.append(None if why is not None else _worker_msg(tx, blobs[id(tx)]))
                whys.append(why)
            if len(whys) == len(txs):
                entries = [m for m in msgs if m is not None]
                self.encoded = ([id(m) for m in entries], cbor2.dumps(entries))
        except Exception:  # noqa: BLE001 - reported where admission meets it
            self.txs = None  # not this block's any more: admission does it all
            return False
        return len(whys) < len(txs)


class _AdmitView:
    """The state one block's admission reads, with contract lookups remembered for the block
    (a block names the same few contracts and senders again and again; whether a name is a
    committed contract cannot change while the block is admitted)."""

    def __init__(self, led):
        self._led = led
        self._contracts: dict = {}
        self.get = led.get
        self.has_sender = led.has_sender

    def contract(self, name: str):
        c = self._contracts
        if name in c:
            return c[name]
        rec = c[name] = self._led.contract(name)
        return rec


class _PendingView:
    """The state admission checks see while the block before is executed but not committed:
    that block's overlay (its writes and contracts over the committed state) and its senders."""

    def __init__(self, led, ov, records):
        self._led, self._ov = led, ov
        self._senders = {rec.sender for _i, rec in records}

    def get(self, contract: str, key: bytes):
        return self._ov.get(contract, key)

    def contract(self, name: str):
        return self._ov.contract(name)

    def has_sender(self, sender: str) -> bool:
        return sender in self._senders or self._led.has_sender(sender)


def _refused(error: str) -> _Checked:
    """The result of a transaction the host refused but includes (it used its nonce)."""
    c = _Checked()
    c.status, c.gas_used, c.result, c.result_bytes, c.error = "rejected", 0, None, None, error
    c.events, c.writes, c.deployed = [], (), None
    return c


class PendingBlock:
    """A block executed and written but not committed (``Chain.begin_block``).

    ``height``, ``time``, ``receipts`` (one per transaction, in order; ``height``/``index`` of
    included ones are filled by ``commit``) and ``state_root`` (hex; equal to the root after
    ``commit``). Call ``commit()`` or ``drop()`` exactly once."""

    def __init__(self, chain: Chain, staged, time: int, receipts: list, records: list,
                 compiled: list = ()):
        self._chain, self._staged, self._records = chain, staged, records
        self.height: int = staged.block.height
        self.time: int = time
        self.state_root: str = staged.block.state_root
        self.receipts: list[Receipt] = receipts
        #: the block's ``compiled`` rows: kept for the next block if this one is dropped
        self._compiled = list(compiled)

    def _end(self) -> None:
        if self._chain._pending is not self:
            raise PycontractError("this pending block was already committed or dropped")
        self._chain._pending = None

    def commit(self) -> list[Receipt]:
        """Persist the block atomically (one SQLite transaction); return the receipts."""
        with self._chain._lock:
            self._chain._live()
            self._end()
            self._staged.commit()
            for i, rec in self._records:
                self.receipts[i].height = rec.height
                self.receipts[i].index = rec.index
            return self.receipts

    def drop(self) -> None:
        """Discard the block: the ledger is exactly as before ``begin_block``."""
        with self._chain._lock:
            self._end()
            if not self._chain._closed:
                self._staged.drop()
                self._chain._carry_compiled(self._compiled)

    def __repr__(self) -> str:
        return (f"PendingBlock(height={self.height}, txs={len(self.receipts)}, "
                f"state_root={self.state_root[:16]}...)")
