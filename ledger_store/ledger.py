"""The ledger: one SQLite file holding blocks, transactions, receipts, events, contracts,
contract storage and the state commitment.

* One writer per file, enforced with an exclusive ``flock`` on the sidecar ``<path>.lock``;
  a second writer gets :class:`LedgerLockedError` at once. Readers open the file with
  ``readonly=True`` (SQLite ``mode=ro``), never take that lock and, thanks to WAL, never block
  the writer nor wait for it.
* WAL journal, ``synchronous=FULL`` by default: every ``commit_block`` is fsynced before it
  returns, so a committed block survives a process kill and a power loss.
* A block is executed in a :class:`BlockOverlay` (per-transaction layers that can be kept or
  reverted) and committed with :meth:`Ledger.commit_block` in one SQLite transaction; or in two
  phases, :meth:`Ledger.stage_block` (written, root known, visible to nobody) then
  :meth:`StagedBlock.commit` or :meth:`StagedBlock.drop`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pathlib
import sqlite3
import threading
import time as _time
from collections.abc import Iterator
from typing import Any

from . import codec, schema
from . import state_root as sr
from .errors import EncodingError, LedgerError, LedgerLockedError
from .records import ZERO_HASH, BlockRecord, ContractRecord, EventRecord, TxRecord

__all__ = ["Ledger", "BlockOverlay", "StagedBlock"]

_PAGE = 512  # rows per page when iterating storage
_IN_CHUNK = 500  # bound parameters per IN (...) query
_SYNC_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
_TX_KINDS = ("deploy", "call")

_BLOCK_COLS = "height, hash, parent_hash, state_root, time, tx_count"
_CONTRACT_COLS = "name, code_hash, source, deployer, height, entry_points"
_PUT_COMPILED = ("INSERT OR REPLACE INTO compiled (contract, engine, code_hash, code) "
                 "VALUES (?, ?, ?, ?)")
_TX_COLS = (
    "tx_hash, kind, sender, contract, function, args, gas_limit, status, gas_used, result, "
    "error, height, idx, nonce"
)


def _block(row) -> BlockRecord | None:
    return None if row is None else BlockRecord(*row)


def _contract(row) -> ContractRecord | None:
    if row is None:
        return None
    name, code_hash, source, deployer, height, eps = row
    return ContractRecord(
        name=name,
        code_hash=code_hash,
        source=source,
        deployer=deployer,
        height=height,
        entry_points=json.loads(eps) if eps else {},
    )


def _is_int(x) -> bool:
    return type(x) is int


# --------------------------------------------------------------------------- reads shared by
# the ledger (latest committed state) and overlays (their snapshot connection)


def _get(conn: sqlite3.Connection, contract: str, key: bytes) -> bytes | None:
    row = conn.execute(
        "SELECT value FROM storage WHERE contract=? AND key=?", (contract, key)
    ).fetchone()
    return None if row is None else row[0]


def _get_contract(conn: sqlite3.Connection, name: str) -> ContractRecord | None:
    return _contract(
        conn.execute(f"SELECT {_CONTRACT_COLS} FROM contracts WHERE name=?", (name,)).fetchone()
    )


def _get_compiled(conn: sqlite3.Connection, name: str) -> tuple[str, str, bytes] | None:
    row = conn.execute("SELECT engine, code_hash, code FROM compiled WHERE contract=?",
                       (name,)).fetchone()
    return None if row is None else (row[0], row[1], bytes(row[2]))


@contextlib.contextmanager
def _write_txn(conn: sqlite3.Connection):
    """One write transaction: COMMIT at the end, ROLLBACK on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _iter_storage(conn: sqlite3.Connection, contract: str) -> Iterator[tuple[bytes, bytes]]:
    """Pages of at most _PAGE rows, so no statement stays open while the caller works."""
    rows = conn.execute(
        "SELECT key, value FROM storage WHERE contract=? ORDER BY key LIMIT ?",
        (contract, _PAGE),
    ).fetchall()
    while rows:
        yield from rows
        if len(rows) < _PAGE:
            return
        rows = conn.execute(
            "SELECT key, value FROM storage WHERE contract=? AND key>? ORDER BY key LIMIT ?",
            (contract, rows[-1][0], _PAGE),
        ).fetchall()


def _head_height(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(height) FROM blocks").fetchone()
    return row[0] or 0


def _check_key(contract, key) -> bytes:
    if type(contract) is not str:
        raise LedgerError(f"contract name must be str, not {type(contract).__name__}")
    if type(key) is not bytes:
        if isinstance(key, (bytearray, memoryview)):
            return bytes(key)
        raise LedgerError(
            f"storage key must be bytes (use codec.encode_key), not {type(key).__name__}"
        )
    return key


#: values up to this size are remembered by the overlay once proved canonical
_MEMO_VALUE_BYTES = 4096


class _PreparedTx:
    """One transaction's rows, encoded once: by add_tx (ahead of the commit) or by
    commit_block itself."""

    __slots__ = ("record", "tx_row", "event_rows", "receipt_digest")

    def __init__(self, record, tx_row, event_rows, receipt_digest):
        self.record = record
        self.tx_row = tx_row
        self.event_rows = event_rows
        self.receipt_digest = receipt_digest


def _enc_scalar(x) -> bytes:
    t = type(x)
    if t is str:
        if len(x) == 64 and x.isascii():  # a tx hash: a text head of length 64, then itself
            return b"\x78\x40" + x.encode("ascii")
        return codec.encode_small(x)
    if t is int:
        return codec.encode_small(x)
    if x is None:
        return b"\xf6"
    if t is bool or t is bytes:
        return codec.encode_value(x)
    return codec.encode_any(x)


def _check_tx_record(i: int, tx) -> None:
    """The checks of a TxRecord's fields, each with its own message."""
    if tx.kind not in _TX_KINDS:
        raise LedgerError(f"txs[{i}].kind must be 'deploy' or 'call', not {tx.kind!r}")
    for fld in ("tx_hash", "sender", "contract", "status"):
        if type(getattr(tx, fld)) is not str:
            raise LedgerError(f"txs[{i}].{fld} must be str")
    if not (_is_int(tx.gas_limit) and _is_int(tx.gas_used)):
        raise LedgerError(f"txs[{i}]: gas_limit and gas_used must be int")
    if tx.function is not None and type(tx.function) is not str:
        raise LedgerError(f"txs[{i}].function must be str or None")
    if tx.error is not None and type(tx.error) is not str:
        raise LedgerError(f"txs[{i}].error must be str or None")
    if tx.nonce is not None and not (_is_int(tx.nonce) and 0 <= tx.nonce < 2**63):
        raise LedgerError(f"txs[{i}].nonce must be None or an int in [0, 2**63)")


def _prepare_tx(height: int, i: int, tx) -> _PreparedTx:
    """Validate one TxRecord and build its transaction row, event rows and receipt digest.

    The receipt digest is ``TxRecord.receipt_digest()`` assembled from the encodings made for
    the rows (a CBOR array is its head followed by its items' canonical encodings); whenever a
    piece might not fit the depth bound inside the receipt array, or an event field is not a
    plain str, it falls back to ``receipt_digest()`` itself (same result or same error).
    ``fields_encoded``, like ``args_encoded``, is the caller's encoding, used as given."""
    if not isinstance(tx, TxRecord):
        raise LedgerError(f"txs[{i}] is a {type(tx).__name__}, not a TxRecord")
    tx_hash, function, error, nonce = tx.tx_hash, tx.function, tx.error, tx.nonce
    if not (type(tx_hash) is str and type(tx.sender) is str and type(tx.contract) is str
            and type(tx.status) is str and type(tx.gas_limit) is int
            and type(tx.gas_used) is int and (function is None or type(function) is str)
            and (error is None or type(error) is str) and nonce is None
            and (tx.kind == "call" or tx.kind == "deploy")):
        _check_tx_record(i, tx)  # one test above for the common record; here, the reason
    if tx.kind not in _TX_KINDS:
        raise LedgerError(f"txs[{i}].kind must be 'deploy' or 'call', not {tx.kind!r}")
    args_b = tx.args_encoded if type(tx.args_encoded) is bytes else codec.encode_any(tx.args)
    result_b = (tx.result_encoded if type(tx.result_encoded) is bytes
                else codec.encode_any(tx.result))
    events = tx.events
    tx_fields_b = tx.fields_encoded
    fast = (type(tx_fields_b) is bytes or codec.nests_within(tx.args, args_b, 1)) \
        and codec.nests_within(tx.result, result_b, 1)
    ev_parts = [codec.array_head(len(events))]
    event_rows = []
    for j, ev in enumerate(events):
        if not isinstance(ev, EventRecord):
            raise LedgerError(f"txs[{i}].events[{j}] is not an EventRecord")
        fields_b = ev.encoded if type(ev.encoded) is bytes else codec.encode_any(ev.fields)
        event_rows.append((height, i, j, tx.tx_hash, ev.contract, ev.name, fields_b))
        if fast:
            if type(ev.contract) is str and type(ev.name) is str \
                    and codec.nests_within(ev.fields, fields_b, 3):
                ev_parts += (b"\x83", _enc_scalar(ev.contract), _enc_scalar(ev.name), fields_b)
            else:
                fast = False
    if fast:
        if type(tx_fields_b) is not bytes:
            tx_fields_b = b"".join((_enc_scalar(tx.kind), _enc_scalar(tx.sender),
                                    _enc_scalar(tx.contract), _enc_scalar(tx.function), args_b,
                                    _enc_scalar(tx.gas_limit)))
        digest = hashlib.sha256(b"".join((
            b"\x8c", _enc_scalar(tx.tx_hash), tx_fields_b, _enc_scalar(tx.status),
            _enc_scalar(tx.gas_used), result_b, _enc_scalar(tx.error), *ev_parts,
        ))).hexdigest()
    else:
        digest = tx.receipt_digest()
    tx_row = (height, i, tx.tx_hash, tx.kind, tx.sender, tx.contract, tx.function, tx.gas_limit,
              tx.status, tx.gas_used, tx.error, len(events), digest, args_b, result_b, tx.nonce)
    return _PreparedTx(tx, tx_row, event_rows, digest)


class BlockOverlay:
    """Uncommitted state of one block: committed state + kept transactions + the current one.

    Reads (``get``, ``contract``, ``iter_items``) see, in order of precedence, the open
    transaction's writes, the writes of transactions kept earlier in the block, then the
    committed state as of ``begin_block`` (on a read-only ledger a pinned SQLite snapshot; on
    the writer the file only changes through this Ledger's own commits).

    Writes made outside ``begin_tx``/``keep_tx`` go straight into the block layer.
    """

    def __init__(self, ledger: "Ledger", conn: sqlite3.Connection, base_height: int, owned: bool):
        self._ledger = ledger
        self._conn = conn
        self._owned_conn = owned  # a dedicated snapshot connection to close on close()
        self.base_height = base_height
        self._block: dict[str, dict[bytes, bytes | None]] = {}
        self._tx: dict[str, dict[bytes, bytes | None]] | None = None
        self._block_contracts: dict[str, ContractRecord] = {}
        self._tx_contracts: dict[str, ContractRecord] | None = None
        self._closed = False
        self._committed = False
        # commit work done ahead of commit_block (see prepare(), check_write(), add_tx()):
        # key/value bytes this overlay already proved canonical, per-key leaf positions,
        # prepared storage rows, keys written since the last prepare(), and the transactions
        # added with add_tx() as ready-made rows
        self._keys_ok: set[bytes] = set()
        self._values_ok: set[bytes] = set()
        self._leaf_pos: dict[tuple[str, bytes], tuple[int, bytes]] = {}
        self._prepared: dict[tuple[str, bytes], tuple] = {}
        self._dirty: set[tuple[str, bytes]] = set()
        self._txs: list[_PreparedTx] = []
        #: contract name -> (engine, code hash, code) to store in the ``compiled`` cache
        self._compiled: dict[str, tuple[str, str, bytes]] = {}

    # ------------------------------------------------------------------ state
    @property
    def height(self) -> int:
        """Height the block will have when committed."""
        return self.base_height + 1

    @property
    def in_tx(self) -> bool:
        return self._tx is not None

    @property
    def closed(self) -> bool:
        return self._closed

    def _live(self) -> None:
        if self._closed:
            raise LedgerError(
                "this block overlay is closed (committed, or closed with close())"
            )
        if self._ledger._conn is None:
            raise LedgerError("the ledger of this block overlay is closed")

    # ------------------------------------------------------------------ storage
    def get(self, contract: str, key: bytes) -> bytes | None:
        self._live()
        key = _check_key(contract, key)
        tx = self._tx
        if tx is not None:
            d = tx.get(contract)
            if d is not None and key in d:
                return d[key]
        d = self._block.get(contract)
        if d is not None and key in d:
            return d[key]
        if self._ledger._inflight is not None:
            self._ledger._settle_below(self)
        return _get(self._conn, contract, key)

    def put(self, contract: str, key: bytes, value: bytes | None) -> None:
        """Write canonical value bytes (``None`` deletes). Bytes are validated at commit."""
        self._live()
        key = _check_key(contract, key)
        if value is not None and type(value) is not bytes:
            if isinstance(value, (bytearray, memoryview)):
                value = bytes(value)
            else:
                raise LedgerError(
                    f"storage value must be bytes (use codec.encode_value) or None, "
                    f"not {type(value).__name__}"
                )
        if self._tx is not None:
            layer = self._tx
        else:
            layer = self._block
            self._dirty.add((contract, key))
        d = layer.get(contract)
        if d is None:
            d = layer[contract] = {}
        d[key] = value

    def delete(self, contract: str, key: bytes) -> None:
        self.put(contract, key, None)

    def put_block_writes(self, writes) -> None:
        """``put`` each (contract, key, value) in order straight into the block layer (no
        transaction may be open): a host replaying a transaction's validated write set needs
        no layer it could revert. Checked as ``put`` checks them."""
        self._live()
        if self._tx is not None:
            raise LedgerError("put_block_writes inside a transaction (keep or revert it first)")
        block, dirty = self._block, self._dirty
        for contract, key, value in writes:
            if type(contract) is not str or type(key) is not bytes or \
                    (value is not None and type(value) is not bytes):
                self.put(contract, key, value)  # converts what it can, or raises
                continue
            d = block.get(contract)
            if d is None:
                d = block[contract] = {}
            d[key] = value
            dirty.add((contract, key))

    def iter_items(self, contract: str) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) pairs of the merged view, ordered by key bytes."""
        self._live()
        pending: dict[bytes, bytes | None] = dict(self._block.get(contract, {}))
        if self._tx is not None:
            pending.update(self._tx.get(contract, {}))
        ours = sorted(pending.items())
        i, n = 0, len(ours)
        if self._ledger._inflight is not None:
            self._ledger._settle_below(self)
        for k, v in _iter_storage(self._conn, contract):
            while i < n and ours[i][0] < k:
                if ours[i][1] is not None:
                    yield ours[i]
                i += 1
            if i < n and ours[i][0] == k:
                if ours[i][1] is not None:
                    yield ours[i]
                i += 1
                continue
            yield (k, v)
        while i < n:
            if ours[i][1] is not None:
                yield ours[i]
            i += 1

    # ------------------------------------------------------------------ contracts
    def contract(self, name: str) -> ContractRecord | None:
        self._live()
        if self._tx_contracts is not None and name in self._tx_contracts:
            return self._tx_contracts[name]
        if name in self._block_contracts:
            return self._block_contracts[name]
        return self._ledger._cached_contract(self._conn, name, self.base_height, self)

    def add_contract(self, rec: ContractRecord) -> None:
        self._live()
        if not isinstance(rec, ContractRecord):
            raise LedgerError(f"add_contract needs a ContractRecord, not {type(rec).__name__}")
        for fld in ("name", "code_hash", "source", "deployer"):
            if type(getattr(rec, fld)) is not str:
                raise LedgerError(f"ContractRecord.{fld} must be str")
        if self.contract(rec.name) is not None:
            raise LedgerError(f"contract {rec.name!r} already exists")
        try:
            json.dumps(rec.entry_points, sort_keys=True)
        except (TypeError, ValueError) as e:
            raise LedgerError(f"ContractRecord.entry_points must be JSON-able: {e}") from None
        layer = self._tx_contracts if self._tx_contracts is not None else self._block_contracts
        layer[rec.name] = rec

    # ------------------------------------------------------------------ compiled code
    def compiled(self, name: str) -> tuple[str, str, bytes] | None:
        """(engine, code hash, code) cached for contract ``name`` (schema version 5,
        ``compiled``): what this block adds, else the committed row as of the snapshot."""
        self._live()
        got = self._compiled.get(name)
        if got is not None:
            return got
        if self._ledger._inflight is not None:
            self._ledger._settle_below(self)
        return _get_compiled(self._conn, name)

    def add_compiled(self, name: str, engine: str, code_hash: str, code: bytes) -> None:
        """Store ``code`` (opaque bytes) as contract ``name``'s compiled code with the block:
        a node-local cache, in no state root. The contract must exist in this overlay (or be
        committed) with that very code hash; a later row for the same contract replaces it."""
        self._live()
        if type(name) is not str or type(engine) is not str or type(code_hash) is not str \
                or type(code) is not bytes:
            raise LedgerError("add_compiled needs (str, str, str, bytes)")
        rec = self.contract(name)
        if rec is None:
            raise LedgerError(f"compiled code for {name!r}, which is not a contract")
        if rec.code_hash != code_hash:
            raise LedgerError(f"compiled code for {name!r} is of another code hash")
        self._compiled[name] = (engine, code_hash, code)

    def compiled_added(self) -> list[tuple[str, str, str, bytes]]:
        """(name, engine, code hash, code) of every ``add_compiled`` of this block."""
        return [(n, *row) for n, row in self._compiled.items()]

    # ------------------------------------------------------------------ transactions
    def begin_tx(self) -> None:
        self._live()
        if self._tx is not None:
            raise LedgerError("a transaction is already open in this block (keep or revert it)")
        self._tx = {}
        self._tx_contracts = {}

    def revert_tx(self) -> None:
        """Drop every write and contract of the open transaction."""
        self._live()
        if self._tx is None:
            raise LedgerError("revert_tx without begin_tx")
        self._tx = None
        self._tx_contracts = None

    def keep_tx(self) -> dict[tuple[str, bytes], bytes | None]:
        """Merge the open transaction into the block; return its write set."""
        self._live()
        if self._tx is None:
            raise LedgerError("keep_tx without begin_tx")
        tx, self._tx = self._tx, None
        txc, self._tx_contracts = self._tx_contracts, None
        out: dict[tuple[str, bytes], bytes | None] = {}
        for contract, writes in tx.items():
            d = self._block.get(contract)
            if d is None:
                d = self._block[contract] = {}
            d.update(writes)
            for k, v in writes.items():
                out[(contract, k)] = v
        self._dirty.update(out)
        self._block_contracts.update(txc or {})
        return out

    def tx_write_bytes(self) -> int:
        """Bytes the open transaction writes so far (keys plus values), for output limits."""
        self._live()
        if self._tx is None:
            raise LedgerError("tx_write_bytes without begin_tx")
        return sum(len(k) + (len(v) if v is not None else 0)
                   for writes in self._tx.values() for k, v in writes.items())

    # ------------------------------------------------------------------ commit work ahead
    # Everything below does part of commit_block's work early (e.g. while a block is still
    # executing elsewhere) with exactly the checks commit_block would make; commit_block uses
    # the results only for the very same bytes (key and value objects, by identity) and redoes
    # whatever changed since.

    def _check_key(self, contract: str, key: bytes) -> None:
        if key not in self._keys_ok:
            try:
                codec.decode_key(key)
            except EncodingError as e:
                raise EncodingError(
                    f"storage key 0x{key.hex()} of {contract!r} is not canonical: {e}"
                ) from None
            self._keys_ok.add(key)

    def _check_value(self, contract: str, key: bytes, value: bytes) -> None:
        if value not in self._values_ok:
            try:
                codec.decode_value(value)
            except EncodingError as e:
                raise EncodingError(f"value of {contract!r} {codec.key_text(key)} is not "
                                    f"canonical: {e}") from None
            if len(value) <= _MEMO_VALUE_BYTES:
                self._values_ok.add(value)

    def check_write(self, contract: str, key: bytes, value: bytes | None) -> None:
        """Raise EncodingError unless ``key`` (and ``value``, unless None) are canonical codec
        bytes, exactly as commit_block checks them; remember the result so commit_block does
        not decode the same bytes again. Writes nothing."""
        self._live()
        key = _check_key(contract, key)
        self._check_key(contract, key)
        if value is not None:
            if type(value) is not bytes:
                raise LedgerError(f"storage value must be bytes, not {type(value).__name__}")
            self._check_value(contract, key, value)

    def _prepare_write(self, contract: str, key: bytes, value: bytes | None) -> tuple:
        """(value, storage row or None, (bucket, kh), leaf or None) of one final write."""
        pos = self._leaf_pos.get((contract, key))
        if pos is None:
            self._check_key(contract, key)  # checks the key before anything else
            kh = sr.key_hash(sr.storage_leaf_key(contract, key))
            pos = self._leaf_pos[(contract, key)] = (sr.bucket_of(kh), kh)
        if value is None:
            return (None, None, pos, None)
        self._check_key(contract, key)
        self._check_value(contract, key, value)
        return (value, (contract, key, value), pos, sr.leaf_hash(pos[1], value))

    def prepare(self) -> None:
        """Validate and pre-compute the storage rows and state leaves of the writes kept since
        the last call (raising EncodingError as commit_block would), so that commit_block only
        redoes keys written again afterwards. Optional: commit_block does whatever is left."""
        self._live()
        dirty, self._dirty = self._dirty, set()
        block, prepared = self._block, self._prepared
        for ck in dirty:
            contract, key = ck
            value = block[contract][key]
            p = prepared.get(ck)
            if p is None or p[0] is not value:
                prepared[ck] = self._prepare_write(contract, key, value)

    def add_tx(self, tx: TxRecord) -> None:
        """Validate ``tx`` and encode its rows now (as commit_block(txs=...) would), for a
        commit_block(ov, time=..., txs=None) that stores the transactions added this way, in
        order. The record is stored as it is now: do not change it afterwards (commit_block
        still fills its ``height`` and ``index``)."""
        self._live()
        self._txs.append(_prepare_tx(self.height, len(self._txs), tx))

    @property
    def added_txs(self) -> list[TxRecord]:
        """The records added with add_tx, in order."""
        return [p.record for p in self._txs]

    # ------------------------------------------------------------------ inspection
    def writes(self) -> dict[tuple[str, bytes], bytes | None]:
        """The block's kept writes so far (not the open transaction's)."""
        return {(c, k): v for c, d in self._block.items() for k, v in d.items()}

    def contracts_added(self) -> list[ContractRecord]:
        return list(self._block_contracts.values())

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Discard the overlay and release its snapshot. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._block = {}
        self._tx = None
        self._compiled = {}
        self._ledger._release_snapshot(self._conn, self._owned_conn)

    def __enter__(self) -> "BlockOverlay":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # release a forgotten snapshot so the WAL can be checkpointed
        try:
            if not self._closed:
                self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown etc.
            pass


class Ledger:
    """One ledger file. ``Ledger(path)`` opens (creating if missing) for writing;
    ``Ledger(path, readonly=True)`` opens an existing file for reading only."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        readonly: bool = False,
        chain_id: str | None = None,
        synchronous: str = "FULL",
    ):
        self.path = os.fspath(path)
        self.readonly = bool(readonly)
        self._memory = self.path == ":memory:"
        self._lock_fd: int | None = None
        self._conn: sqlite3.Connection | None = None
        self._snap_conn: sqlite3.Connection | None = None  # reusable snapshot connection
        self._snap_busy = False
        self._tree: sr.StateTree | None = None
        #: (tree, node changes) of the last committed block, applied when the tree is next
        #: needed (the next stage_block) rather than at commit: the 7,000-odd node updates of
        #: a 500-transfer block then run while the worker executes, not while it waits
        self._tree_todo: tuple | None = None
        self._staged: StagedBlock | None = None  # see stage_block
        #: (staged block, thread, outcome) of a COMMIT running on a helper thread (see
        #: StagedBlock.commit_async); the connection is used by one thread at a time
        self._inflight: tuple | None = None
        self._stage_reader: sqlite3.Connection | None = None
        self._contracts_cache: dict[str, ContractRecord] = {}
        #: seconds spent in the phases of the last commit_block (for benchmarks and profiling)
        self.last_commit_stats: dict[str, float] = {}
        sync = str(synchronous).upper()
        if sync not in _SYNC_MODES:
            raise LedgerError(f"synchronous must be one of {', '.join(_SYNC_MODES)}")
        self.synchronous = sync
        try:
            if self.readonly:
                self._open_readonly()
            else:
                self._open_writer(chain_id)
        except BaseException:
            self.close()
            raise
        if chain_id is not None and self.meta.get("chain_id") != chain_id:
            stored = self.meta.get("chain_id")
            self.close()
            raise LedgerError(
                f"{self.path}: ledger belongs to chain {stored!r}, not {chain_id!r}"
            )

    # ------------------------------------------------------------------ opening
    def _connect_ro(self) -> sqlite3.Connection:
        uri = pathlib.Path(self.path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
        conn.execute("PRAGMA query_only=ON")
        return conn

    def _open_readonly(self) -> None:
        if self._memory:
            raise LedgerError("an in-memory ledger cannot be opened read-only")
        if not os.path.isfile(self.path):
            raise LedgerError(f"no ledger file at {self.path}")
        try:
            self._conn = self._connect_ro()
            version = schema.read_version(self._conn, self.path)
        except sqlite3.DatabaseError as e:
            raise LedgerError(f"{self.path}: cannot open as a ledger: {e}") from None
        if version is None:
            raise LedgerError(
                f"{self.path}: the file has no ledger tables yet; open it for writing first"
            )
        schema.check_version(version, self.path, readonly=True)

    def _open_writer(self, chain_id: str | None) -> None:
        if not self._memory:
            lock_path = self.path + ".lock"
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise LedgerLockedError(
                    f"{self.path} is already open for writing by another process or Ledger "
                    f"(lock file {lock_path} is held); open it with readonly=True to read it"
                ) from None
            self._lock_fd = fd
        try:
            # check_same_thread=False: a block's COMMIT may run on a helper thread
            # (StagedBlock.commit_async); every other use of the connection waits for it first
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0,
                                   check_same_thread=False)
            self._conn = conn
            if not self._memory:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise LedgerError(f"{self.path}: cannot switch the file to WAL mode ({mode})")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA cache_size=-32000")
            with _write_txn(conn):
                version = schema.read_version(conn, self.path)
                if version is None:
                    schema.create_schema(conn, chain_id or "pycontract-local")
                else:
                    schema.check_version(version, self.path, readonly=False)
                    if version < schema.SCHEMA_VERSION:
                        schema.migrate(conn, version)
        except sqlite3.DatabaseError as e:
            raise LedgerError(f"{self.path}: cannot open as a ledger: {e}") from None

    # ------------------------------------------------------------------ basics
    @property
    def conn(self) -> sqlite3.Connection:
        """The underlying connection (for inspection; do not write through it)."""
        if self._inflight is not None:
            self.settle()
        if self._conn is None:
            raise LedgerError("the ledger is closed")
        return self._conn

    def close(self) -> None:
        """Close the connections and release the writer lock. Idempotent. A staged block is
        dropped (closing the connection rolls its transaction back); a commit in flight is
        waited for first (its outcome is then that of the file)."""
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            inflight[1].join()
        self._staged = None
        for attr in ("_stage_reader", "_snap_conn", "_conn"):
            c = getattr(self, attr, None)
            if c is not None:
                try:
                    c.close()
                except Exception:  # noqa: BLE001
                    pass
                setattr(self, attr, None)
        fd = getattr(self, "_lock_fd", None)
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
            self._lock_fd = None
        self._tree = None
        self._contracts_cache = {}

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "readonly" if self.readonly else "writer"
        return f"<Ledger {self.path!r} {mode}{' closed' if self.closed else ''}>"

    @property
    def _reader(self) -> sqlite3.Connection:
        """The connection reads go through: the writer's own, except while a block is staged
        (its uncommitted rows are on that connection), then a read-only one that sees the last
        committed block, as every other reader does."""
        if self._staged is None or self._memory:
            return self.conn
        if self._stage_reader is None:
            self._stage_reader = self._connect_ro()
        return self._stage_reader

    def _read(self):
        """Context manager: run several SELECTs in one read transaction (one snapshot)."""
        return _ReadTxn(self._reader)

    # ------------------------------------------------------------------ meta
    @property
    def meta(self) -> dict[str, Any]:
        rows = self._reader.execute("SELECT key, value FROM meta ORDER BY key").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def set_meta(self, key: str, value: Any) -> None:
        """Set a meta entry (JSON-able value), e.g. ``set_meta("gas_schedule_version", 3)``."""
        self._writable()
        if type(key) is not str:
            raise LedgerError("meta keys are str")
        if key == "schema_version":
            raise LedgerError("schema_version is managed by the ledger itself")
        try:
            text = json.dumps(value, sort_keys=True)
        except (TypeError, ValueError) as e:
            raise LedgerError(f"meta value must be JSON-able: {e}") from None
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, text))

    def _writable(self) -> None:
        if self.readonly:
            raise LedgerError(f"{self.path} is open read-only")
        self.conn  # noqa: B018 - raises if closed
        if self._staged is not None:
            raise LedgerError("a staged block is open: commit or drop it first")

    # ------------------------------------------------------------------ chain
    @property
    def height(self) -> int:
        """Number of committed blocks (the first block has height 1)."""
        return _head_height(self._reader)

    @property
    def head(self) -> BlockRecord | None:
        return _block(
            self._reader.execute(
                f"SELECT {_BLOCK_COLS} FROM blocks ORDER BY height DESC LIMIT 1"
            ).fetchone()
        )

    def state_root(self) -> str:
        """Hex state root after the last committed block (EMPTY_ROOT before any)."""
        head = self.head
        return sr.EMPTY_ROOT if head is None else head.state_root

    def block(self, height: int) -> BlockRecord | None:
        return _block(
            self._reader.execute(
                f"SELECT {_BLOCK_COLS} FROM blocks WHERE height=?", (height,)
            ).fetchone()
        )

    def blocks(self, start: int = 1, end: int | None = None) -> Iterator[BlockRecord]:
        """Blocks in ascending height, from ``start`` to ``end`` inclusive (default: head)."""
        h = start
        while True:
            rows = self._reader.execute(
                f"SELECT {_BLOCK_COLS} FROM blocks WHERE height>=? AND height<=? "
                "ORDER BY height LIMIT ?",
                (h, end if end is not None else (1 << 62), _PAGE),
            ).fetchall()
            for r in rows:
                yield BlockRecord(*r)
            if len(rows) < _PAGE:
                return
            h = rows[-1][0] + 1

    def _txs_where(self, conn, where: str, params: tuple) -> list[TxRecord]:
        rows = conn.execute(
            f"SELECT {_TX_COLS} FROM transactions WHERE {where} ORDER BY height, idx", params
        ).fetchall()
        out = []
        for r in rows:
            (tx_hash, kind, sender, contract, function, args, gas_limit, status, gas_used,
             result, error, height, idx, nonce) = r
            events = [
                EventRecord(c, n, codec.decode_any(f))
                for c, n, f in conn.execute(
                    "SELECT contract, name, fields FROM events WHERE height=? AND tx_index=? "
                    "ORDER BY idx",
                    (height, idx),
                )
            ]
            out.append(
                TxRecord(
                    tx_hash=tx_hash,
                    kind=kind,
                    sender=sender,
                    contract=contract,
                    function=function,
                    args=codec.decode_any(args),
                    gas_limit=gas_limit,
                    status=status,
                    gas_used=gas_used,
                    result=codec.decode_any(result),
                    error=error,
                    events=events,
                    height=height,
                    index=idx,
                    nonce=nonce,
                )
            )
        return out

    def transactions(self, height: int) -> list[TxRecord]:
        """The block's transactions in order, with their receipts and events."""
        with self._read() as conn:
            return self._txs_where(conn, "height=?", (height,))

    def transaction(self, tx_hash: str) -> TxRecord | None:
        """The first (lowest height, index) transaction stored with this hash."""
        with self._read() as conn:
            row = conn.execute(
                # "+tx_hash": without it SQLite substitutes the bound hash into the prefix
                # expression (constant propagation) and no longer uses the prefix index
                f"SELECT height, idx FROM transactions WHERE {schema.TX_HASH_PREFIX}=? "
                "AND +tx_hash=? ORDER BY height, idx LIMIT 1",
                (tx_hash[:12] if type(tx_hash) is str else tx_hash, tx_hash),
            ).fetchone()
            if row is None:
                return None
            return self._txs_where(conn, "height=? AND idx=?", row)[0]

    def has_sender(self, sender: str) -> bool:
        """Whether any committed transaction was sent by ``sender`` (indexed)."""
        with self._read() as conn:
            return conn.execute(
                "SELECT 1 FROM transactions WHERE sender=? LIMIT 1", (sender,)
            ).fetchone() is not None

    def events(
        self, contract: str | None = None, name: str | None = None
    ) -> Iterator[tuple[int, int, EventRecord]]:
        """(height, tx_index, event) in chain order, optionally filtered."""
        where, params = [], []
        if contract is not None:
            where.append("contract=?")
            params.append(contract)
        if name is not None:
            where.append("name=?")
            params.append(name)
        sql = "SELECT height, tx_index, contract, name, fields FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY height, tx_index, idx"
        for h, ti, c, n, f in self._reader.execute(sql, params).fetchall():
            yield h, ti, EventRecord(c, n, codec.decode_any(f))

    # ------------------------------------------------------------------ state
    def get(self, contract: str, key: bytes) -> bytes | None:
        return _get(self._reader, contract, _check_key(contract, key))

    def iter_items(self, contract: str) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) of a contract's committed storage, ordered by key bytes."""
        return _iter_storage(self._reader, contract)

    def contract(self, name: str) -> ContractRecord | None:
        return self._cached_contract(self._reader, name, None)

    def _cached_contract(
        self, conn: sqlite3.Connection, name: str, max_height: int | None, ov=None
    ) -> ContractRecord | None:
        """A committed contract, from a cache of rows already read. Contract rows are written
        once (at deploy) and never change or disappear, so a cached row stays true; it is used
        only if it was committed at or below ``max_height`` (an overlay's snapshot must not see
        later deploys). Callers get a copy of the record (the entry-point map is shared: treat
        it as read-only)."""
        rec = self._contracts_cache.get(name)
        if rec is None or (max_height is not None and rec.height > max_height):
            if ov is not None and self._inflight is not None:
                self._settle_below(ov)
            rec = _get_contract(conn, name)
            if rec is None:
                return None
            if type(rec.height) is int:
                self._contracts_cache[name] = rec
        return ContractRecord(rec.name, rec.code_hash, rec.source, rec.deployer, rec.height,
                              rec.entry_points)

    def compiled(self, name: str) -> tuple[str, str, bytes] | None:
        """(engine, code hash, code) cached for contract ``name``, or None (see
        ``BlockOverlay.add_compiled``)."""
        return _get_compiled(self._reader, name)

    def has_contracts(self) -> bool:
        return self._reader.execute("SELECT 1 FROM contracts LIMIT 1").fetchone() is not None

    def uncompiled(self, engine: str) -> list[str]:
        """Names of the contracts without compiled code of ``engine`` for their code hash."""
        return [r[0] for r in self._reader.execute(
            "SELECT c.name FROM contracts c LEFT JOIN compiled k ON k.contract = c.name "
            "WHERE k.contract IS NULL OR k.engine != ? OR k.code_hash != c.code_hash "
            "ORDER BY c.name", (engine,))]

    def put_compiled(self, rows) -> None:
        """Store compiled code outside a block: ``rows`` of (name, engine, code hash, code),
        each for a committed contract of that code hash (one SQLite transaction; a node-local
        cache, in no state root). Not while a block is staged."""
        self._writable()
        rows = list(rows)
        for r in rows:
            if type(r) is not tuple or len(r) != 4 or not all(type(x) is str for x in r[:3]) \
                    or type(r[3]) is not bytes:
                raise LedgerError("put_compiled needs rows of (str, str, str, bytes)")
            rec = self.contract(r[0])
            if rec is None or rec.code_hash != r[2]:
                raise LedgerError(f"compiled code for {r[0]!r}, which is not a committed "
                                  "contract of that code hash")
        if not rows:
            return
        with _write_txn(self.conn) as conn:
            conn.executemany(_PUT_COMPILED, rows)

    def contracts(self) -> list[ContractRecord]:
        rows = self._reader.execute(f"SELECT {_CONTRACT_COLS} FROM contracts ORDER BY name")
        return [_contract(r) for r in rows.fetchall()]

    # ------------------------------------------------------------------ blocks
    def begin_block(self) -> BlockOverlay:
        """A new overlay over the latest committed state. On a read-only ledger its reads come
        from one SQLite snapshot, held until the overlay is closed (close it when done)."""
        inflight = self._inflight
        if inflight is not None and inflight[0] is self._staged and self._conn is not None:
            # the block below is being committed (commit_async): this overlay starts on top of
            # it; its reads of the file, and the next stage_block, wait for that commit
            return BlockOverlay(self, self._conn, inflight[0].block.height, owned=False)
        conn = self.conn
        if not self.readonly:
            if self._staged is not None:
                raise LedgerError("a staged block is open: commit or drop it first")
            return BlockOverlay(self, conn, _head_height(conn), owned=False)
        if not self._snap_busy:
            if self._snap_conn is None:
                self._snap_conn = self._connect_ro()
            snap, owned = self._snap_conn, False
            self._snap_busy = True
        else:
            snap, owned = self._connect_ro(), True
        try:
            snap.execute("BEGIN")
            base = _head_height(snap)  # the first read pins the snapshot
        except BaseException:
            self._release_snapshot(snap, owned)
            raise
        return BlockOverlay(self, snap, base, owned=owned)

    def _release_snapshot(self, conn: sqlite3.Connection, owned: bool) -> None:
        if not self.readonly:
            return
        try:
            if conn.in_transaction:
                conn.execute("COMMIT")
        except sqlite3.ProgrammingError:  # connection already closed
            pass
        if owned:
            conn.close()
        elif conn is self._snap_conn:
            self._snap_busy = False

    def _load_tree(self) -> sr.StateTree:
        todo, self._tree_todo = self._tree_todo, None
        if self._tree is not None:
            if todo is not None and todo[0] is self._tree:
                self._tree.apply(todo[1])  # the last commit's node changes (see _committed)
            return self._tree
        conn = self.conn
        buckets = dict(conn.execute("SELECT bucket, hash FROM state_buckets").fetchall())
        tree = sr.StateTree(buckets)
        if tree.root() != self.state_root():
            # the bucket cache disagrees with the last block: rebuild it from the leaves
            tree = sr.StateTree(self._buckets_from_leaves(conn))
            if tree.root() != self.state_root():
                raise LedgerError(
                    f"{self.path}: state leaves do not match the head block's state root"
                )
        self._tree = tree
        return tree

    @staticmethod
    def _buckets_from_leaves(conn) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        cur, leaves = None, []
        for b, lf in conn.execute("SELECT bucket, leaf FROM state_leaves ORDER BY bucket, kh"):
            if b != cur:
                if cur is not None:
                    out[cur] = sr.bucket_hash(leaves)
                cur, leaves = b, []
            leaves.append(lf)
        if cur is not None:
            out[cur] = sr.bucket_hash(leaves)
        return out

    def verify_state(self) -> str:
        """Recompute the state root from scratch from the storage and contracts tables (not
        from the cached leaves) and check it against the head block. Returns the root."""
        with self._read() as conn:
            leaves = [
                sr.leaf_of(sr.storage_leaf_key(c, k), v)
                for c, k, v in conn.execute("SELECT contract, key, value FROM storage")
            ]
            leaves += [
                sr.leaf_of(sr.code_leaf_key(n), sr.code_leaf_value(h))
                for n, h in conn.execute("SELECT name, code_hash FROM contracts")
            ]
            root = sr.root_from_leaves(leaves)
            head = _block(
                conn.execute(
                    f"SELECT {_BLOCK_COLS} FROM blocks ORDER BY height DESC LIMIT 1"
                ).fetchone()
            )
        expected = sr.EMPTY_ROOT if head is None else head.state_root
        if root != expected:
            raise LedgerError(
                f"{self.path}: recomputed state root {root} != head state root {expected}"
            )
        return root

    def commit_block(
        self, ov: BlockOverlay, *, time: int, txs: list[TxRecord] | None
    ) -> BlockRecord:
        """Write the overlay's storage and contracts, the transactions with their receipts and
        events, the state root and the block row in one SQLite transaction.

        ``txs=None`` stores the transactions added with ``ov.add_tx`` (in order); passing a
        list to an overlay that has added transactions is an error. Work already done by
        ``ov.prepare()``/``ov.check_write()``/``ov.add_tx()`` is reused, never trusted beyond
        what those methods checked themselves.

        Fills ``height`` and ``index`` on each TxRecord and ``height`` on each new contract.
        Block hash: ``digest([height, parent_hash, state_root, time, [receipt_digest, ...]])``.
        On error nothing is written and the overlay stays open. Same as
        ``stage_block(...).commit()``."""
        return self.stage_block(ov, time=time, txs=txs).commit()

    def stage_block(
        self, ov: BlockOverlay, *, time: int, txs: list[TxRecord] | None
    ) -> "StagedBlock":
        """Phase one of :meth:`commit_block`: write the block inside an open SQLite transaction
        and compute its state root and hash, without committing.

        Nobody else sees a staged block: other connections (readers, the worker's snapshot)
        read the last committed block, and so do this ledger's own read methods while it is
        staged. ``StagedBlock.commit()`` makes it durable (COMMIT); ``drop()`` (or a kill -9,
        or ``close()``) rolls it back. Only one block can be staged at a time, and nothing
        else may be written meanwhile. Arguments and errors as for :meth:`commit_block`."""
        self._writable()
        if self._staged is not None:
            raise LedgerError("a staged block is open: commit or drop it first")
        if not isinstance(ov, BlockOverlay) or ov._ledger is not self:
            raise LedgerError("commit_block needs an overlay made by this ledger's begin_block")
        ov._live()
        if ov.in_tx:
            raise LedgerError("a transaction is still open in the overlay: keep_tx or revert_tx")
        if not _is_int(time):
            raise LedgerError(f"block time must be int, not {type(time).__name__}")
        t0 = _time.perf_counter()
        tree = self._load_tree()
        t_load = _time.perf_counter()
        rows = self._block_rows(ov, txs)
        t_prep = _time.perf_counter()
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            block, pending, t_storage, t_leaves = self._write_block(conn, ov, tree, rows, time)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._tree = None  # reload from the file next time, to be safe
            raise
        t_rows = _time.perf_counter()
        staged = StagedBlock(self, ov, block, rows, tree, pending)
        staged._stats = {
            "tree_load_s": t_load - t0,
            "prepare_s": t_prep - t_load,  # validation, encodings, leaf hashes
            "storage_s": t_storage - t_prep,  # storage and contract rows
            "state_root_s": t_leaves - t_storage,  # leaf rows, bucket rehash, tree update
            "records_s": t_rows - t_leaves,  # transactions, events, block row
        }
        self._staged = staged
        return staged

    def _block_rows(self, ov: BlockOverlay, txs) -> "_BlockRows":
        """Validate and prepare every row before touching the file (what prepare() and
        add_tx() did ahead is reused for the very same key and value objects)."""
        height = ov.base_height + 1
        if txs is None:
            prepared_txs = ov._txs
        elif ov._txs:
            raise LedgerError("transactions were added to this overlay with add_tx: commit "
                              "it with txs=None")
        else:
            prepared_txs = [_prepare_tx(height, i, tx) for i, tx in enumerate(list(txs))]
        rows = _BlockRows(height, [p.record for p in prepared_txs])
        prepared = ov._prepared
        for contract in sorted(ov._block):
            writes = ov._block[contract]
            for key in sorted(writes):
                value = writes[key]
                p = prepared.get((contract, key))
                if p is None or p[0] is not value:
                    p = ov._prepare_write(contract, key, value)
                _, row, (b, kh), leaf = p
                if row is None:
                    rows.storage_del.append((contract, key))
                    rows.leaf_del.append((b, kh))
                else:
                    rows.storage_up.append(row)
                    rows.leaf_up.append((b, kh, leaf))
        rows.contracts = [ov._block_contracts[n] for n in sorted(ov._block_contracts)]
        for rec in rows.contracts:
            rows.contract_rows.append(
                (rec.name, rec.code_hash, rec.source, rec.deployer, height,
                 json.dumps(rec.entry_points, sort_keys=True))
            )
            rows.leaf_up.append(
                sr.leaf_of(sr.code_leaf_key(rec.name), sr.code_leaf_value(rec.code_hash))
            )
        rows.compiled_rows = [(n, *ov._compiled[n]) for n in sorted(ov._compiled)]
        rows.tx_rows = [p.tx_row for p in prepared_txs]
        rows.event_rows = [row for p in prepared_txs for row in p.event_rows]
        rows.receipt_digests = [p.receipt_digest for p in prepared_txs]
        return rows

    def _write_block(self, conn, ov: BlockOverlay, tree, rows: "_BlockRows", time: int):
        """Inside the open transaction: storage, contracts, state leaves and buckets, records
        and the block row. Returns (block, pending tree update, two phase timestamps)."""
        head = _block(
            conn.execute(f"SELECT {_BLOCK_COLS} FROM blocks ORDER BY height DESC LIMIT 1").fetchone()
        )
        head_height = 0 if head is None else head.height
        if head_height != ov.base_height:
            raise LedgerError(
                f"stale overlay: begun at height {ov.base_height}, ledger is at {head_height}"
            )
        parent_hash = ZERO_HASH if head is None else head.hash
        try:
            # ---- storage and contracts
            if rows.storage_del:
                conn.executemany("DELETE FROM storage WHERE contract=? AND key=?", rows.storage_del)
            if rows.storage_up:
                conn.executemany(
                    "INSERT OR REPLACE INTO storage (contract, key, value) VALUES (?, ?, ?)",
                    rows.storage_up,
                )
            if rows.contract_rows:
                try:
                    conn.executemany(
                        f"INSERT INTO contracts ({_CONTRACT_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                        rows.contract_rows,
                    )
                except sqlite3.IntegrityError:
                    raise LedgerError("a contract in this block already exists") from None
            if rows.compiled_rows:
                conn.executemany(_PUT_COMPILED, rows.compiled_rows)
            t_storage = _time.perf_counter()
            # ---- state root: leaves, touched buckets, tree preview
            root, pending = self._update_state(conn, tree, rows.leaf_up, rows.leaf_del)
            t_leaves = _time.perf_counter()
            # ---- records and the block row
            if rows.tx_rows:
                conn.executemany(
                    "INSERT INTO transactions (height, idx, tx_hash, kind, sender, contract, "
                    "function, gas_limit, status, gas_used, error, event_count, receipt_digest, "
                    "args, result, nonce) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows.tx_rows,
                )
            if rows.event_rows:
                conn.executemany(
                    "INSERT INTO events (height, tx_index, idx, tx_hash, contract, name, fields) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows.event_rows,
                )
        except OverflowError as e:
            raise LedgerError(f"an integer in the block does not fit SQLite's 64 bits: {e}") from None
        height = rows.height
        block_hash = codec.digest([height, parent_hash, root, time, rows.receipt_digests])
        block = BlockRecord(height, block_hash, parent_hash, root, time, len(rows.txs))
        conn.execute(
            f"INSERT INTO blocks ({_BLOCK_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
            (height, block_hash, parent_hash, root, time, len(rows.txs)),
        )
        return block, pending, t_storage, t_leaves

    @staticmethod
    def _update_state(conn, tree, leaf_up, leaf_del):
        """Write the changed leaves, rehash the touched buckets; (new root, pending tree
        update to apply once the block is committed)."""
        if leaf_del:
            conn.executemany("DELETE FROM state_leaves WHERE bucket=? AND kh=?", leaf_del)
        if leaf_up:
            conn.executemany(
                "INSERT OR REPLACE INTO state_leaves (bucket, kh, leaf) VALUES (?, ?, ?)", leaf_up
            )
        touched = sorted({b for b, _ in leaf_del} | {b for b, _, _ in leaf_up})
        changed: dict[int, bytes] = {}
        for s in range(0, len(touched), _IN_CHUNK):
            chunk = touched[s : s + _IN_CHUNK]
            per: dict[int, list[bytes]] = {b: [] for b in chunk}
            q = ",".join("?" * len(chunk))
            for b, lf in conn.execute(
                f"SELECT bucket, leaf FROM state_leaves WHERE bucket IN ({q}) ORDER BY bucket, kh",
                chunk,
            ):
                per[b].append(lf)
            for b, leaves in per.items():
                changed[b] = sr.bucket_hash(leaves)
        empty = [(b,) for b, h in changed.items() if h == sr.EMPTY_BUCKET]
        if empty:
            conn.executemany("DELETE FROM state_buckets WHERE bucket=?", empty)
        full = [(b, h) for b, h in changed.items() if h != sr.EMPTY_BUCKET]
        if full:
            conn.executemany("INSERT OR REPLACE INTO state_buckets (bucket, hash) VALUES (?, ?)", full)
        return tree.preview(changed)

    def _end_staged(self, staged: "StagedBlock", commit: bool) -> None:
        conn = self.conn
        if commit:
            t0 = _time.perf_counter()
            try:
                conn.execute("COMMIT")
            except BaseException:
                self._commit_failed(staged)
                raise
            self._committed(staged, _time.perf_counter() - t0)
        elif conn.in_transaction:
            conn.execute("ROLLBACK")
        self._close_staged(staged)

    def _commit_failed(self, staged: "StagedBlock") -> None:
        conn = self._conn
        if conn is not None and conn.in_transaction:
            conn.execute("ROLLBACK")
        self._tree = None
        self._staged = None
        staged._done = True

    def _commit_async(self, staged: "StagedBlock") -> None:
        """Run the staged block's COMMIT (and its fsync) on a helper thread; see settle()."""
        conn, outcome = self._conn, {}

        def run():
            t0 = _time.perf_counter()
            try:
                conn.execute("COMMIT")
            except BaseException as e:  # noqa: BLE001 - raised by settle() in the caller
                outcome["error"] = e
            outcome["s"] = _time.perf_counter() - t0

        th = threading.Thread(target=run, name="ledger-commit")
        self._inflight = (staged, th, outcome)
        staged._async = outcome
        try:
            th.start()
        except BaseException:  # no thread to be had: commit here and now
            self._inflight = None
            try:
                self._end_staged(staged, commit=True)
            except BaseException as e:
                outcome["error"] = e
                raise

    def settle(self) -> None:
        """Wait for the commit started by ``StagedBlock.commit_async``, if any: afterwards the
        block is durable, or rolled back and its error raised here. Every use of the writer's
        connection does this first."""
        inflight = self._inflight
        if inflight is None:
            return
        staged, th, outcome = inflight
        th.join()
        self._inflight = None
        if "error" in outcome:
            self._commit_failed(staged)
            raise outcome["error"]
        self._committed(staged, outcome["s"])
        self._close_staged(staged)

    def _settle_below(self, ov: BlockOverlay) -> None:
        """Before ``ov`` reads the file: wait for the commit in flight (the block below it)."""
        if ov._conn is self._conn:
            self.settle()

    def _committed(self, staged: "StagedBlock", commit_s: float) -> None:
        """Bookkeeping once a staged block's COMMIT succeeded."""
        self._tree_todo = (staged._tree, staged._pending)
        stats = dict(staged._stats)
        stats["fsync_commit_s"] = commit_s  # COMMIT (fsync with synchronous=FULL)
        stats["total_s"] = sum(stats.values())
        self.last_commit_stats = stats
        height = staged.block.height
        for i, tx in enumerate(staged._rows.txs):
            tx.height, tx.index = height, i
        for rec in staged._rows.contracts:
            rec.height = height
        staged._ov._committed = True

    def _close_staged(self, staged: "StagedBlock") -> None:
        self._staged = None
        staged._done = True
        staged._ov.close()
        if self._stage_reader is not None:
            self._stage_reader.close()
            self._stage_reader = None


class _BlockRows:
    """Everything one block writes, encoded and validated before the SQLite transaction."""

    def __init__(self, height: int, txs: list[TxRecord]):
        self.height = height
        self.txs = txs
        self.storage_up: list[tuple] = []
        self.storage_del: list[tuple[str, bytes]] = []
        self.leaf_up: list[tuple[int, bytes, bytes]] = []
        self.leaf_del: list[tuple[int, bytes]] = []
        self.contracts: list[ContractRecord] = []
        self.contract_rows: list[tuple] = []
        self.compiled_rows: list[tuple] = []
        self.tx_rows: list[tuple] = []
        self.event_rows: list[tuple] = []
        self.receipt_digests: list[bytes] = []


class StagedBlock:
    """A block written but not committed (see :meth:`Ledger.stage_block`): ``block`` is the
    BlockRecord it will have (height, hash, state_root); ``commit()`` or ``drop()`` once."""

    def __init__(self, ledger: "Ledger", ov: BlockOverlay, block: BlockRecord, rows, tree,
                 pending):
        self._ledger, self._ov, self.block, self._rows = ledger, ov, block, rows
        self._tree, self._pending = tree, pending
        self._stats: dict[str, float] = {}
        self._done = False
        self._async: dict | None = None  # the outcome of commit_async, once started

    @property
    def done(self) -> bool:
        return self._done

    def _check(self) -> None:
        if self._done:
            raise LedgerError("this staged block was already committed or dropped")
        if self._ledger._staged is not self:
            raise LedgerError("this staged block is no longer open")

    def commit(self) -> BlockRecord:
        """Make the block durable (one COMMIT, fsynced with synchronous=FULL)."""
        led = self._ledger
        if self._async is not None:  # commit_async: wait (a no-op once settled)
            if led._inflight is not None and led._inflight[0] is self:
                led.settle()
            elif "error" in self._async:
                raise LedgerError(f"this block's commit failed: {self._async['error']}")
            return self.block
        self._check()
        led._end_staged(self, commit=True)
        return self.block

    def commit_async(self) -> None:
        """Start the COMMIT on a helper thread and return at once, so the caller's thread
        works on (e.g. on the next block's overlay, ``Ledger.begin_block``) while SQLite writes
        and fsyncs. The block is durable only once ``commit()`` or ``Ledger.settle()`` has
        returned (both wait; a failed COMMIT rolls the block back and raises there); every
        other use of the ledger's connection waits for it first. A kill -9 meanwhile leaves
        the file at this block or the one before, as for ``commit()``."""
        self._check()
        if self._ledger._inflight is not None:
            raise LedgerError("a commit is already in flight")
        self._ledger._commit_async(self)

    def drop(self) -> None:
        """Roll the block back: the file is exactly as before ``stage_block``."""
        self._check()
        if self._ledger._inflight is not None and self._ledger._inflight[0] is self:
            raise LedgerError("this block's commit is in flight: settle it instead")
        self._ledger._end_staged(self, commit=False)


class _ReadTxn:
    __slots__ = ("conn", "began")

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.began = False

    def __enter__(self) -> sqlite3.Connection:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")
            self.began = True
        return self.conn

    def __exit__(self, *exc) -> None:
        if self.began and self.conn.in_transaction:
            self.conn.execute("COMMIT")
