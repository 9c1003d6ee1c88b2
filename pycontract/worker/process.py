"""The sandbox worker: the only process in which contract code ever runs.

Started by ``pycontract.host.Chain`` as ``python -s -m pycontract.worker REQ_FD RESP_FD LEDGER
CHAIN_ID LIMITS_JSON`` with a scrubbed environment, stdin/stdout/stderr on /dev/null and only the
two protocol pipes inherited. Start-up order matters:

1. import everything contract execution needs (compiler, runtime, codec, sqlite3);
2. open the ledger READ-ONLY and read from it once (so SQLite has opened the database, WAL and
   shared-memory files: no file is opened after the sandbox closes the filesystem);
3. ``pycontract.worker.sandbox.apply()``: rlimits, no_new_privs, Landlock, seccomp;
4. send a ``hello`` frame (pid and the sandbox report), then serve requests until EOF.

Requests (maps, see docs/engine.md): ``block`` (run transactions on one overlay started from the
latest committed state; per transaction a tx-overlay kept on success and reverted otherwise),
``query`` (run a view, always reverted), ``probe`` (only with PYCONTRACT_WORKER_TEST_PROBES=1:
try what the sandbox must refuse), ``exit``. Every reply carries plain data only: write sets as
(contract, key bytes, value bytes | None), values as canonical codec bytes. Anything unexpected
(a bug, MemoryError...) is reported as a ``fault``: the host then commits nothing.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

from ledger_store import Ledger, codec
from ledger_store.errors import EncodingError
from ledger_store.records import ContractRecord
from pycontract.host import limits
from pycontract.worker import protocol, sandbox
from pycontract.errors import ContractAbort, OutOfGas, Reverted, VetError
from pycontract import profiler as _profiler
from pycontract.runtime.meter import RawRevert
from pycontract.vetting.entry_points import EntryPoint, Param

# imported before the sandbox closes the filesystem
from pycontract import runtime as _runtime  # noqa: E402
from pycontract.metering import compiler as _compiler  # noqa: E402
from pycontract.metering.schedule import (  # noqa: E402
    MAX_GAS_LIMIT, SCHEDULE, code_load_gas, code_memory_bytes, intrinsic_gas)

ANNOTATION_TYPES = {"int": int, "str": str, "bool": bool, "bytes": bytes, "list": list, "dict": dict}


# ------------------------------------------------------------------------------- helpers


class Rejected(Exception):
    """The transaction is invalid before any contract code runs."""


#: id(entry point) -> (entry point, {parameter name: Param}): made once per entry point
#: (EntryPoint is frozen; not hashed: a default value may be a list)
_PARAMS: dict = {}


def check_args(contract: str, ep, kwargs) -> None:
    """Raise Rejected unless ``kwargs`` match the entry point's parameters and annotations."""
    if type(kwargs) is not dict:
        raise Rejected("arguments must be a map of parameter names to values")
    memo = _PARAMS.get(id(ep))
    if memo is not None and memo[0] is ep:
        params = memo[1]
    else:
        params = {p.name: p for p in ep.params}
        if len(_PARAMS) >= 4096:
            _PARAMS.clear()
        _PARAMS[id(ep)] = (ep, params)  # the entry point is kept: its id stays its own
    _check_params(contract, ep, kwargs, params)


def _check_args_uncached(contract: str, ep, kwargs) -> None:
    """``check_args`` for a transient entry point (not memoised)."""
    if type(kwargs) is not dict:
        raise Rejected("arguments must be a map of parameter names to values")
    _check_params(contract, ep, kwargs, {p.name: p for p in ep.params})


def _check_params(contract: str, ep, kwargs, params) -> None:
    for name in kwargs:
        if name not in params:
            expected = ", ".join(params) or "no arguments"
            raise Rejected(f"{contract}.{ep.name}: unexpected argument {name!r} (expected {expected})")
    for p in ep.params:
        if p.name not in kwargs:
            if not p.has_default:
                raise Rejected(f"{contract}.{ep.name}: missing argument {p.name!r}")
            continue
        want = ANNOTATION_TYPES.get(p.annotation) if p.annotation else None
        v = kwargs[p.name]
        if _big_int_in(v):
            raise Rejected(f"{contract}.{ep.name}: argument {p.name!r} holds an int over "
                           f"{SCHEDULE.max_int_bits} bits (the contract int limit)")
        if want is not None and type(v) is not want:
            raise Rejected(
                f"{contract}.{ep.name}: argument {p.name!r} must be {p.annotation}, "
                f"not {type(v).__name__}"
            )


def _big_int_in(v) -> bool:
    """Whether a decoded argument holds an int above the contract int cap (iterative walk)."""
    stack = [v]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is int and x.bit_length() > SCHEDULE.max_int_bits:
            return True
        if t is list or t is tuple:
            stack.extend(x)
        elif t is dict:
            stack.extend(x.values())
    return False


def vet_text(e: VetError) -> str:
    """Deterministic text of vetting problems for a receipt (no interpreter-specific detail)."""
    lines = []
    for p in e.problems:
        f = getattr(p, "receipt_text", None) or getattr(p, "headline", None)
        lines.append(f() if f else str(p))
    return "\n".join(lines) or "the source failed vetting"


def to_plain(v, depth=0):
    """Tuples become lists (a contract may return a tuple); everything else is checked by the
    codec. Bounded depth: deeper values are refused by the codec anyway."""
    t = type(v)
    if depth > codec.MAX_DEPTH:
        return v
    if t is tuple or t is list:
        return [to_plain(x, depth + 1) for x in v]
    if t is dict:
        return {k: to_plain(x, depth + 1) for k, x in v.items()}
    return v


def encode_result(v) -> bytes:
    return codec.encode_value(to_plain(v))


def entry_points_json(cc) -> dict:
    out = {}
    for name, ep in cc.entry_points.items():
        out[name] = {
            "kind": ep.kind,
            "params": [[p.name, p.annotation, bool(p.has_default)] for p in ep.params],
            "returns": ep.returns if isinstance(ep.returns, str) else None,
            "line": ep.line if type(ep.line) is int else None,
        }
    return out


# ------------------------------------------------------------------------------- execution


class Refused(Exception):
    """A committed contract the running engine refuses to compile (an upgrade tightened
    vetting): calls are rejected, cross-contract calls revert, never a node fault (R5-4)."""


class Executor:
    """Holds the read-only ledger and the compile cache; runs blocks and queries.

    A contract missing from the in-memory cache (a new worker) is loaded from the ledger's
    ``compiled`` cache, where the host stores what a deploy compiled: compiling it again would
    cost the node up to seconds for the gas of a call. One that is not there either (a ledger
    older than schema 5, another engine: ``compiler.engine_tag``) is compiled once and
    reported in the reply (``"compiled"``) for the host to store."""

    def __init__(self, ledger):
        self.ledger = ledger
        #: (name, code hash) -> compiled contract, bounded (an evicted one is loaded again)
        self.cache = _compiler.CompiledCache()
        self.engine = _compiler.engine_tag()
        #: name -> compiled contract of a committed contract compiled here, not yet reported
        self.unsaved = {}
        #: name -> compiled contract of each deploy compiled in the current block
        self.fresh = {}
        #: (name, code hash) -> why this engine refuses a committed contract (``Refused``)
        self.refused = {}
        # (height, {contract: {key: value | None}}, {name: ContractRecord}) of the last block
        # run: its own writes, which a block sent with ``parent_pending`` runs on top of
        self.last_block = None

    def compiled(self, name: str, source: str, code_hash: str | None = None, pay=None,
                 admit=None, ov=None):
        """The compiled contract (``pay``/``admit``: a deploy's, see ``compile_contract``);
        ``code_hash`` and ``ov``: those of a contract record, to find it compiled already."""
        key = (name, code_hash)
        cc = self.cache.get(key) if code_hash else None
        if cc is not None:
            return cc
        if code_hash and ov is not None:
            refused = self.refused.get(key)
            if refused is not None:
                raise Refused(refused)
            row = ov.compiled(name)
            if row is not None and row[0] == self.engine and row[1] == code_hash:
                cc = _compiler.load(row[2], source, name, code_hash)
            if cc is None:
                try:
                    cc = _compiler.compile_contract(source, name)
                except VetError as e:
                    # a committed contract this engine refuses (an upgrade tightened vetting):
                    # remembered, so each entry does not vet it again for a call's gas (R5-4)
                    self.refused[key] = refused = \
                        f"this node's engine refuses {name}'s code: {vet_text(e)}"
                    raise Refused(refused) from None
                self.unsaved[name] = cc
        if cc is None:
            cc = _compiler.compile_contract(source, name, pay=pay, admit=admit)
            if code_hash is None:
                self.fresh[name] = cc
        self.cache.put((name, cc.code_hash), cc)
        return cc

    def compiled_record(self, rec, ov):
        return self.compiled(rec.name, rec.source, rec.code_hash, ov=ov)

    def to_store(self, deployed=None) -> list:
        """[[name, engine, code hash, compiled bytes], ...] for the host's ``compiled`` cache:
        the contracts ``deployed`` ({name: record}) and those compiled anew, up to
        ``limits.MAX_COMPILED_REPLY_BYTES`` a reply (the rest goes with the next replies)."""
        for n, rec in (deployed or {}).items():
            self.unsaved[n] = self.fresh[n]
        self.fresh = {}
        out, size = [], 0
        for n in list(self.unsaved):
            blob = _compiler.dump(self.unsaved[n])
            if blob is None:  # not storable: compiled again after a restart, same gas
                del self.unsaved[n]
                continue
            if out and size + len(blob) > limits.MAX_COMPILED_REPLY_BYTES:
                break
            out.append([n, self.engine, self.unsaved.pop(n).code_hash, blob])
            size += len(blob)
        return out


class TxHost:
    """The host interface the runtime calls while one transaction runs in this worker.

    Its refusals are ``RawRevert``s: the runtime prefixes them with the contract and the line
    being executed (``CONTRACT:LINE: reason``), as for the contract's own reverts."""

    def __init__(self, executor, ov, block_height, block_time, origin):
        self.executor = executor
        self.ov = ov
        self.block_height = block_height
        self.block_time = block_time
        self.origin = origin
        self.stack = []  # CallFrames, innermost last
        self.touched = []
        #: contracts whose code this transaction has paid ``code_load`` for
        self.loaded = set()
        self.events = []
        self.meter = None
        self.max_depth = SCHEDULE.call_depth_limit

    def _touch(self, contract):
        if contract not in self.touched:
            self.touched.append(contract)

    def _top(self):
        if not self.stack:
            raise Reverted("storage accessed outside a contract call")
        return self.stack[-1]

    def load(self, contract, cc):
        """The first entry of the transaction into ``contract`` pays for its code (schedule 8:
        ``code_load_gas``; a new worker loads it from the ledger's cache), whether or not this
        worker holds it already: gas never depends on a node's cache."""
        if contract not in self.loaded:
            self.loaded.add(contract)
            cost = code_load_gas(cc.deploy_units, cc.source_bytes)
            if self.meter.g < cost:
                self.meter.g = -1  # the whole limit is used, as for any out of gas
                raise OutOfGas(f"{contract}: out of gas paying for the contract's code ({cost} "
                               "gas: code_load; see docs/gas.md)")
            self.meter.g -= cost
            self.meter.alloc(code_memory_bytes(cc.deploy_units, cc.source_bytes))

    def run(self, cc, function, kwargs, frame):
        self.stack.append(frame)
        self._touch(frame.contract)
        try:
            return _runtime.execute(cc, function, kwargs, meter=self.meter, host=self, frame=frame)
        finally:
            self.stack.pop()

    # --- the interface of pycontract.runtime
    def storage_get(self, contract, key):
        top = self._top()
        if contract != top.contract:
            raise RawRevert(f"cannot read the storage of contract {contract!r}")
        if type(key) is not bytes:
            raise RawRevert("storage key must be bytes")
        return self.ov.get(contract, key)

    def storage_put(self, contract, key, value):
        top = self._top()
        if contract != top.contract:
            raise RawRevert(f"cannot write the storage of contract {contract!r}")
        if top.readonly:
            raise RawRevert("a view cannot write storage")
        if type(key) is not bytes or (value is not None and type(value) is not bytes):
            raise RawRevert("storage keys and values must be bytes")
        if len(key) > limits.MAX_KEY_BYTES:
            raise RawRevert(f"storage key of {len(key)} bytes is over the limit "
                           f"of {limits.MAX_KEY_BYTES}")
        if value is not None and len(value) > limits.MAX_VALUE_BYTES:
            raise RawRevert(f"storage value of {len(value)} bytes is over the "
                           f"limit of {limits.MAX_VALUE_BYTES}")
        if value is None:
            self.ov.delete(contract, key)
        else:
            self.ov.put(contract, key, value)

    def emit(self, contract, name, fields):
        top = self._top()
        if contract != top.contract:
            raise RawRevert(f"cannot emit events for contract {contract!r}")
        if type(name) is not str:
            raise RawRevert("event name must be a str")
        if not name or len(name) > limits.MAX_EVENT_NAME_CHARS:
            raise RawRevert(f"event names are 1 to {limits.MAX_EVENT_NAME_CHARS} "
                           "characters")
        if len(self.events) >= limits.MAX_EVENTS_PER_TX:
            raise RawRevert(f"more than {limits.MAX_EVENTS_PER_TX} events in one "
                           "transaction")
        if type(fields) is not bytes:
            raise RawRevert(f"event {name!r} fields must arrive encoded")
        # the runtime's canonical bytes, charged and size-checked there: sent on as they are
        self.events.append([contract, name, fields])

    def call_contract(self, frame, contract, function, kwargs):
        caller = self._top()
        if frame is not caller and getattr(frame, "contract", None) != caller.contract:
            raise RawRevert("call from a frame that is not running")
        where = f"call to {contract}.{function}"
        if type(contract) is not str or type(function) is not str:
            raise RawRevert("call() needs a contract name and a function name (str)")
        rec = self.ov.contract(contract)
        if rec is None:
            raise RawRevert(f"{where}: no such contract")
        try:
            cc = self.executor.compiled_record(rec, self.ov)
        except Refused as e:
            raise RawRevert(f"{where}: {e}") from None
        ep = cc.entry_points.get(function)
        if ep is None:
            raise RawRevert(f"{where}: no public or view function of that name")
        if ep.kind == "constructor":
            raise RawRevert(f"{where}: a constructor runs only at deploy")
        # arguments cross contracts as the caller's canonical bytes, decoded once here
        try:
            if type(kwargs) is not bytes:
                raise TypeError("arguments must arrive encoded")
            kwargs = codec.decode_value(kwargs)
            if type(kwargs) is not dict:
                raise TypeError("arguments must be a map")
        except (EncodingError, TypeError, ValueError) as e:
            raise RawRevert(f"{where}: arguments cannot be passed: {e}") from None
        try:
            check_args(contract, ep, kwargs)
        except Rejected as e:
            raise RawRevert(f"call rejected: {e}") from None
        depth = caller.depth + 1
        if depth > self.max_depth:
            raise RawRevert(f"{where}: call depth limit of {self.max_depth} reached")
        self.load(contract, cc)
        callee = _runtime.CallFrame(
            contract=contract,
            sender=caller.contract,
            origin=caller.origin,
            block_height=caller.block_height,
            block_time=caller.block_time,
            readonly=bool(caller.readonly or ep.kind == "view"),
            depth=depth,
        )
        result = self.run(cc, function, kwargs, callee)
        try:
            return encode_result(result)  # the caller's runtime decodes these bytes once
        except EncodingError as e:
            raise RawRevert(f"{where}: return value cannot be passed back: {e}") from None


def _decode_args(blob):
    if blob is None:
        return {}
    if type(blob) is not bytes:
        raise Rejected("arguments must be encoded bytes")
    try:
        args = codec.decode_value(blob)
    except EncodingError as e:
        raise Rejected(f"arguments are not valid: {e}") from None
    if type(args) is not dict:
        raise Rejected("arguments must be a map of parameter names to values")
    return args


def _result(status, gas_used=0, result=None, error=None, events=(), writes=(), deployed=None,
            touched=()):
    """One transaction's result in the reply format of ``protocol.RESULT_FIELDS``: events and
    writes flattened to [contract, name, fields, ...] and [contract, key, value, ...]."""
    return [status, gas_used, result, error, [x for e in events for x in e], writes, deployed,
            list(touched)]


def _profiled(prof, res):
    """Add the per-line gas rows (profile mode only): appended to a transaction's result,
    under "profile" in a query reply (a map)."""
    if prof is not None:
        if type(res) is dict:
            res["profile"] = prof.rows(res["gas_used"])
        else:
            res.append(prof.rows(res[protocol.R_GAS_USED]))
    return res


def _check_output(name, result, events, ov, budget):
    """Enforce the output limits as deterministic reverts (the host would refuse the reply and
    fault the node otherwise); charge the transaction's output to the block's budget."""
    if result is not None and len(result) > limits.MAX_VALUE_BYTES:
        raise Reverted(f"{name}: the result ({len(result)} bytes) is over the limit of "
                       f"{limits.MAX_VALUE_BYTES} bytes")
    out = (len(result) if result is not None else 0) + ov.tx_write_bytes() \
        + sum(len(e[1]) + len(e[2]) for e in events)
    if out > limits.MAX_TX_OUTPUT_BYTES:
        raise Reverted(f"{name}: the transaction's output ({out} bytes of result, events and "
                       f"writes) is over the limit of {limits.MAX_TX_OUTPUT_BYTES} bytes")
    if budget["used"] + out > limits.MAX_BLOCK_OUTPUT_BYTES:
        raise Reverted(f"{name}: the block's output limit of {limits.MAX_BLOCK_OUTPUT_BYTES} "
                       "bytes is reached; send this transaction in another block")
    return out


def _entry_point(executor, ov, name, function, rec=False):
    """(compiled contract, entry point) of ``name.function`` in the overlay's state; Rejected
    when either is missing (shared by transactions, queries; cross-contract calls revert).
    ``rec``: the contract's record (or None) when the caller read it already."""
    if rec is False:
        rec = ov.contract(name) if type(name) is str else None
    if rec is None:
        raise Rejected(f"unknown contract {name!r}")
    try:
        cc = executor.compiled_record(rec, ov)
    except Refused as e:
        raise Rejected(str(e)) from None
    if type(function) is not str:
        raise Rejected("function name must be a str")
    ep = cc.entry_points.get(function)
    if ep is None:
        raise _no_function(name, function)
    return cc, ep


def _no_function(name, function) -> Rejected:
    return Rejected(f"{name} has no public or view function {function!r} "
                    "(undecorated functions are private)")


def _constructor_called(name, function) -> Rejected:
    return Rejected(f"{name}.{function} is the constructor; it runs only at deploy")


def _admit(executor, ov, kind, name, function, tx, kwargs):
    """Checks before any contract code runs: (compiled contract, entry point or None for a
    deploy without constructor, readonly). Raises Rejected."""
    if kind == "deploy":
        # compiled later, paid for as it goes (``_compile_deploy``)
        source = tx.get("source")
        if type(source) is not str:
            raise Rejected("deploy needs source text")
        if ov.contract(name) is not None:
            raise Rejected(f"contract {name!r} already exists")
        return None, None, False
    rec = ov.contract(name) if type(name) is str else None
    _admit_from_record(executor, rec, name, function, kwargs)
    cc, ep = _entry_point(executor, ov, name, function, rec)
    if ep.kind == "constructor":
        raise _constructor_called(name, function)
    check_args(name, ep, kwargs)
    return cc, ep, ep.kind == "view"


def _admit_from_record(executor, rec, name, function, kwargs):
    """The admission checks of ``_entry_point``/``check_args``, same order and texts, on the
    contract record's ``entry_points`` when this worker does not hold the code: a rejected
    call costs no gas, so a new worker must not load (or compile) the code to refuse it
    (R5-5). Records without a usable description are left to the checks after the load."""
    if rec is None or type(function) is not str or (name, rec.code_hash) in executor.cache:
        return  # the checks after the load say so (or the code is at hand)
    eps = rec.entry_points
    if type(eps) is not dict or not eps:
        return
    d = eps.get(function)
    if d is None:
        raise _no_function(name, function)
    try:
        kind, params = d["kind"], tuple(Param(p[0], p[1], bool(p[2])) for p in d["params"])
    except (KeyError, TypeError, IndexError):
        return
    if kind == "constructor":
        raise _constructor_called(name, function)
    _check_args_uncached(name, EntryPoint(function, kind, params, None, 0), kwargs)


def _compile_deploy(executor, name, source, source_bytes, kwargs, meter):
    """(compiled contract, constructor or None) of a deploy, paid for before the work: the
    source bytes (``deploy_byte``: vetting; the host admits no gas limit below them with the
    intrinsic cost), then ``deploy_node`` per node of the code the rewriter writes (as it
    goes). A source that fails vetting, or constructor arguments that do not fit, are
    Rejected before any node is paid."""
    meter.charge(source_bytes * SCHEDULE.deploy_byte)
    found = []

    def admit(entry_points):
        ctors = [ep for ep in entry_points.values() if ep.kind == "constructor"]
        ep = ctors[0] if ctors else None
        if ep is not None:
            check_args(name, ep, kwargs)
        elif kwargs:
            raise Rejected(f"{name} has no constructor, so deploy takes no arguments")
        found.append(ep)

    def pay(units):
        if meter.g < units * SCHEDULE.deploy_node:
            meter.g = -1  # the whole limit is used, as for any out of gas
            raise OutOfGas(f"{name}: out of gas compiling the contract ({SCHEDULE.deploy_node} "
                           "gas per node of the code written for it; see docs/gas.md)")
        meter.g -= units * SCHEDULE.deploy_node

    try:
        cc = executor.compiled(name, source, pay=pay, admit=admit)
    except VetError as e:
        raise Rejected(vet_text(e)) from None
    return cc, found[0]


def _deploy(ov, cc, name, source, sender):
    """Add the contract; the ``deployed`` map for the reply."""
    rec = ContractRecord(
        name=name, code_hash=cc.code_hash, source=source, deployer=sender,
        entry_points=entry_points_json(cc),
    )
    ov.add_contract(rec)
    return {
        "name": name, "code_hash": cc.code_hash, "deployer": sender,
        "entry_points": codec.encode_value(rec.entry_points),
    }


def _intrinsic(args_blob, source_bytes=0, query=False) -> int:
    """The intrinsic cost (schedule.intrinsic_gas) of the payload as the host sent it: the
    encoded arguments and, for a deploy, its source's UTF-8 length."""
    payload = len(args_blob) if type(args_blob) is bytes else 0
    return intrinsic_gas(payload + source_bytes, query)


def run_tx(executor, ov, tx, height, time, budget=None):
    """Run one transaction on ``ov``; return its result (plain data, see _result). ``budget`` carries
    the block's output bytes so far (``{"used": n}``)."""
    budget = {"used": 0} if budget is None else budget
    kind = tx.get("kind")
    sender = tx.get("sender")
    name = tx.get("contract")
    function = tx.get("function")
    gas_limit = tx.get("gas_limit")
    if kind not in ("deploy", "call") or type(sender) is not str or type(name) is not str \
            or type(gas_limit) is not int or not 0 <= gas_limit <= MAX_GAS_LIMIT:
        return _result("rejected", error="malformed transaction")
    try:
        kwargs = _decode_args(tx.get("args"))
        cc, ep, readonly = _admit(executor, ov, kind, name, function, tx, kwargs)
    except Rejected as e:
        return _result("rejected", error=str(e))

    meter = _runtime.Meter(gas_limit)
    host = TxHost(executor, ov, height, time, sender)
    host.meter = meter
    # a profiled block (``executor.profile``, set by run_block) adds ``profile`` rows: gas per
    # contract line (pycontract.profiler); it only reads the meter, so nothing else changes
    prof = (_profiler.LineProfiler(meter, name, host.touched).start()
            if getattr(executor, "profile", False) else None)
    deployed = None
    ov.begin_tx()
    try:
        # a deploy's source is a str (``_admit``); its UTF-8 length prices it twice
        source_bytes = (len(tx["source"].encode("utf-8", "surrogatepass")) if kind == "deploy"
                        else 0)
        meter.charge(_intrinsic(tx.get("args"), source_bytes))
        if kind == "deploy":
            try:
                cc, ep = _compile_deploy(executor, name, tx["source"], source_bytes, kwargs,
                                         meter)
            except Rejected as e:
                ov.revert_tx()  # nothing written, no gas: as when refused before the meter
                return _result("rejected", error=str(e))
            deployed = _deploy(ov, cc, name, tx["source"], sender)
            host.loaded.add(name)  # its code was just paid for, per unit (``deploy_node``)
        else:
            host.load(name, cc)
        host._touch(name)
        result = None
        if ep is not None:
            frame = _runtime.CallFrame(
                contract=name, sender=sender, origin=sender, block_height=height,
                block_time=time, readonly=readonly, depth=0,
            )
            value = host.run(cc, ep.name, kwargs, frame)
            try:
                result = encode_result(value) if kind == "call" else None
            except EncodingError as e:
                raise Reverted(f"{name}: return value of {function} cannot be stored: {e}") from None
        output = _check_output(name, result, host.events, ov, budget)
    except ContractAbort as e:
        ov.revert_tx()
        status = e.status if e.status in ("reverted", "out_of_gas") else "reverted"
        used = gas_limit if isinstance(e, OutOfGas) or status == "out_of_gas" else min(meter.used, gas_limit)
        return _profiled(prof, _result(status, used, error=str(getattr(e, "message", e)),
                                       touched=host.touched))
    finally:
        if prof is not None:
            prof.stop()
    budget["used"] += output
    writes = ov.keep_tx()
    write_list = []
    for (c, k), v in sorted(writes.items(), key=lambda kv: kv[0]):
        write_list += (c, k, v)
    return _profiled(prof, _result(
        "success", min(meter.used, gas_limit), result=result, events=host.events,
        writes=write_list, deployed=deployed, touched=host.touched,
    ))


#: results per ``block_part`` frame: the host validates and applies each part while the worker
#: runs the next transactions (the two processes work in parallel on a block)
BLOCK_PART_TXS = 50
#: ... except for the block's last BLOCK_PART_TXS transactions, sent in parts of this many:
#: what the host still has to check after the worker's last result (and before it can send
#: the next block: pipelined blocks, Chain.execute_blocks) is one small part, not 50 results
BLOCK_TAIL_PART_TXS = 10


def run_block(executor, msg, send_part=None):
    """Run a block's transactions on one overlay. With ``send_part``, results are sent in
    ``{"op": "block_part", "results": [...]}`` frames of BLOCK_PART_TXS (the last ones of
    BLOCK_TAIL_PART_TXS) as they are ready; the returned ``{"op": "block", "results": [...]}``
    carries the rest (possibly none)."""
    ov = executor.ledger.begin_block()
    executor.profile = msg.get("profile") is True  # read by run_tx (pycontract.profiler)
    height, time = msg["height"], msg["time"]
    results = []
    budget = {"used": 0}
    flushed = 0  # output bytes already sent in parts
    last, executor.last_block = executor.last_block, None
    own: dict = {}  # this block's own writes (not the parent's carried ones)
    try:
        inherited = _carry_parent(ov, height, last) if msg.get("parent_pending") else ()
        txs = msg["txs"]
        tail_from = len(txs) - BLOCK_PART_TXS  # parts of BLOCK_TAIL_PART_TXS from here on
        part = BLOCK_PART_TXS if tail_from > 0 else BLOCK_TAIL_PART_TXS
        for done, tx in enumerate(txs, 1):
            r = run_tx(executor, ov, tx, height, time, budget)
            executor.cache.trim()  # between transactions only (CompiledCache)
            w = r[protocol.R_WRITES]
            for j in range(0, len(w), 3):
                c = w[j]
                d = own.get(c)
                if d is None:
                    d = own[c] = {}
                d[w[j + 1]] = w[j + 2]
            results.append(r)
            if send_part is not None and (
                    (len(results) >= part and done < len(txs))  # the last: in the final frame
                    or budget["used"] - flushed >= limits.PART_FLUSH_BYTES):
                send_part({"op": "block_part", "results": results})
                results = []
                flushed = budget["used"]
                if done >= tail_from:
                    part = BLOCK_TAIL_PART_TXS
        contracts = {n: rec for n, rec in ov._block_contracts.items() if n not in inherited}
        executor.last_block = (height, own, contracts)
    finally:
        ov.close()
    reply = {"op": "block", "results": results}
    compiled = executor.to_store(contracts)
    if compiled:
        reply["compiled"] = compiled
    return reply


def _carry_parent(ov, height, last):
    """Make the writes of block ``height - 1`` visible in ``ov`` when the snapshot does not
    hold them yet (the host is still committing it: pipelined blocks, Chain.execute_blocks).
    Returns the names of the contracts carried. Any other state is a fault: the host then
    commits nothing."""
    if ov.base_height == height - 1:
        return ()  # the parent is committed: the snapshot already holds it
    if ov.base_height != height - 2 or last is None or last[0] != height - 1:
        raise RuntimeError(f"block {height}: its parent is neither committed nor the block "
                           "this worker ran last")
    _h, writes, contracts = last
    for c, d in writes.items():
        ov._block[c] = dict(d)
    ov._block_contracts.update(contracts)
    return set(contracts)


def run_compile(executor, msg):
    """Compile (or load) committed contract ``msg["contract"]`` outside any transaction: the
    host asks for every contract without compiled code of this engine before it serves
    blocks (``Chain.compile_contracts``), so no block pays node time for it."""
    name = msg.get("contract")
    with executor.ledger.begin_block() as ov:
        rec = ov.contract(name) if type(name) is str else None
        if rec is not None:
            try:
                executor.compiled_record(rec, ov)
            except Refused:
                pass  # deployed under another engine, refused by this one: a call says so
    executor.cache.trim()
    return {"op": "compile", "compiled": executor.to_store()}


def run_query(executor, msg):
    ov = executor.ledger.begin_block()
    try:
        reply = _run_query(executor, ov, msg)
    finally:
        ov.close()
        executor.cache.trim()
    compiled = executor.to_store()
    if compiled:
        reply["compiled"] = compiled
    return reply


def _run_query(executor, ov, msg):
    name, function = msg.get("contract"), msg.get("function")
    try:
        kwargs = _decode_args(msg.get("args"))
        cc, ep = _entry_point(executor, ov, name, function)
        if ep.kind != "view":
            raise Rejected(f"{name}.{function} is {ep.kind}, not a view: send it as a transaction")
        check_args(name, ep, kwargs)
        gas_limit = msg.get("gas_limit")
        if type(gas_limit) is not int or not 0 <= gas_limit <= MAX_GAS_LIMIT:
            raise Rejected(f"gas_limit must be an int in [0, {MAX_GAS_LIMIT}]")
    except Rejected as e:
        return {"op": "query", "status": "rejected", "gas_used": 0, "result": None, "error": str(e)}
    meter = _runtime.Meter(gas_limit)
    sender = msg.get("sender") if type(msg.get("sender")) is str else ""
    host = TxHost(executor, ov, msg["height"], msg["time"], sender)
    host.meter = meter
    frame = _runtime.CallFrame(
        contract=name, sender=sender, origin=sender, block_height=msg["height"],
        block_time=msg["time"], readonly=True, depth=0,
    )
    prof = (_profiler.LineProfiler(meter, name, host.touched).start()
            if msg.get("profile") is True else None)
    ov.begin_tx()
    try:
        meter.charge(_intrinsic(msg.get("args"), query=True))
        host.load(name, cc)
        value = host.run(cc, function, kwargs, frame)
        result = encode_result(value)
        status, error = "success", None
    except ContractAbort as e:
        status, error, result = e.status, str(getattr(e, "message", e)), None
    except EncodingError as e:
        status, error, result = "reverted", f"{name}: return value of {function} cannot be returned: {e}", None
    finally:
        if prof is not None:
            prof.stop()
        ov.revert_tx()
    used = msg["gas_limit"] if status == "out_of_gas" else min(meter.used, msg["gas_limit"])
    return _profiled(prof, {"op": "query", "status": status, "gas_used": used, "result": result,
                            "error": error})


# ------------------------------------------------------------------------------- main loop


def serve(req_fd, resp_fd, executor, cpu_seconds):
    probes = os.environ.get("PYCONTRACT_WORKER_TEST_PROBES") == "1"
    while True:
        try:
            msg = protocol.read_frame(req_fd)
        except EOFError:
            return 0
        op = msg.get("op")
        try:
            budget = msg.get("cpu_seconds")
            sandbox.set_cpu_budget(budget if type(budget) is int and budget > 0 else cpu_seconds)
            if op == "block":
                reply = run_block(executor, msg,
                                  lambda part: protocol.write_frame(resp_fd, part))
            elif op == "query":
                reply = run_query(executor, msg)
            elif op == "compile":
                reply = run_compile(executor, msg)
            elif op == "probe" and probes:
                reply = {"op": "probe", "results": sandbox.probe(str(msg.get("scratch", "/")))}
            elif op == "exit":
                return 0
            else:
                reply = {"op": "fault", "message": f"unknown request {op!r}"}
        except BaseException as e:  # noqa: BLE001 - anything unexpected is a node fault
            tb = traceback.format_exception(type(e), e, e.__traceback__)
            reply = {"op": "fault", "message": f"{type(e).__name__}: {e}", "traceback": "".join(tb)[-4000:]}
        protocol.write_frame(resp_fd, reply)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # ``python -m`` put the working directory ("/") first on sys.path: imports come only from
    # the interpreter, the installed packages and PYTHONPATH
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path.pop(0)
    req_fd, resp_fd = int(argv[0]), int(argv[1])
    ledger_path, chain_id = argv[2], argv[3]
    limits = json.loads(argv[4]) if len(argv) > 4 else {}
    try:
        ledger = Ledger(ledger_path, readonly=True, chain_id=chain_id)
        ledger.height  # noqa: B018 - opens the database, WAL and shm files before the sandbox
        with ledger.begin_block() as ov:  # opens the snapshot connection, reused later
            ov.get("", b"")
        executor = Executor(ledger)  # names its engine: reads pycontract's files
        read_paths = sandbox.default_read_paths([os.path.dirname(os.path.abspath(ledger_path))])
        report = sandbox.apply(limits, read_paths=read_paths)
    except BaseException as e:  # noqa: BLE001
        protocol.write_frame(resp_fd, {"op": "fault", "message": f"worker start-up failed: {type(e).__name__}: {e}"})
        return 2
    protocol.write_frame(
        resp_fd,
        {"op": "hello", "pid": os.getpid(), "sandbox": report, "engine": executor.engine,
         "python": list(sys.version_info[:3]), "hash_seed": os.environ.get("PYTHONHASHSEED")},
    )
    return serve(req_fd, resp_fd, executor, int(limits.get("cpu_seconds", 120)))

