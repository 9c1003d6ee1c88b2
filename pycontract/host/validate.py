"""Checks at the host's two walls: transactions before they reach the worker (``_precheck``)
and the worker's untrusted replies (``_validate_result``): types, sizes, statuses, gas,
encodings, and which contracts a transaction may have written.
"""

from __future__ import annotations

import re

from ledger_store import codec
from ledger_store.errors import EncodingError
from ledger_store.records import ContractRecord, EventRecord
from pycontract.errors import NodeFault
from pycontract.host.limits import (
    MAX_ARGS_BYTES,
    MAX_ERROR_CHARS,
    MAX_EVENTS_PER_TX,
    MAX_EVENT_NAME_CHARS,
    MAX_FUNCTION_CHARS,
    MAX_KEY_BYTES,
    MAX_SENDER_CHARS,
    MAX_SOURCE_BYTES,
    MAX_VALUE_BYTES,
)
from pycontract.host.records import Tx, _NO_SOURCE
from pycontract.metering.schedule import SCHEDULE, intrinsic_gas

#: contract names
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
_HASH_RE = re.compile(r"[0-9a-f]{64}\Z")
STATUSES = ("success", "reverted", "out_of_gas", "rejected")

# ------------------------------------------------------------------------------- checks


def _is_int(x) -> bool:
    return type(x) is int


def _utf8(text: str) -> bool:
    """Whether ``text`` can be stored: lone surrogates have no UTF-8 form."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _precheck(tx: Tx, max_gas: int, blobs: dict | None = None, query: bool = False) -> str | None:
    """What the host can reject without the contract's source; None if it passes. The
    encoded arguments are left in ``blobs[id(tx)]`` when given (so they are encoded once).
    ``query``: ``tx`` is a query (its intrinsic base is ``query_base``)."""
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
    if tx.nonce is not None and not (_is_int(tx.nonce) and 0 <= tx.nonce < 2**63):
        return "nonce must be None or an int in [0, 2**63)"
    if tx.tx_hash is not None and not (type(tx.tx_hash) is str and _HASH_RE.match(tx.tx_hash)):
        return "tx_hash must be None or 64 lowercase hex digits"
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
    source_bytes = len(tx.source.encode("utf-8")) if tx.kind == "deploy" else 0
    payload = len(blob) + source_bytes
    # a deploy's source bytes are paid before it is vetted (``deploy_byte``): admitted only
    # with a gas limit that covers them
    need = intrinsic_gas(payload, query) + SCHEDULE.deploy_byte * source_bytes
    if tx.gas_limit < need:  # depends only on the transaction: never uses a nonce
        base = (f"{SCHEDULE.query_base} per query" if query
                else f"{SCHEDULE.tx_base} per transaction")
        src = (f" + {SCHEDULE.deploy_byte} per byte of its {source_bytes}-byte source"
               if source_bytes else "")
        return (f"gas limit {tx.gas_limit} is below the intrinsic cost of {need} gas "
                f"({base} + {SCHEDULE.tx_payload_byte} per byte of its {payload}-byte "
                f"payload{src})")
    if blobs is not None:
        blobs[id(tx)] = blob
    return None


def _fault(msg: str):
    raise NodeFault(f"the sandbox worker sent an invalid reply: {msg}")


#: longest engine name a worker may give its compiled code (``compiler.engine_tag``)
MAX_ENGINE_CHARS = 256


def _check_compiled(rows) -> list:
    """The compiled code a worker reply offers for the ledger's ``compiled`` cache:
    [(name, engine, code hash, bytes), ...], checked for shape only (the bytes are opaque to
    the host: only a worker ever loads them; the ledger checks each name and code hash against
    its contract records)."""
    if rows is None:
        return []
    if type(rows) is not list:
        _fault("compiled code must be a list")
    out = []
    for r in rows:
        if type(r) is not list or len(r) != 4 or type(r[0]) is not str \
                or not NAME_RE.match(r[0]) or type(r[1]) is not str or not r[1] \
                or len(r[1]) > MAX_ENGINE_CHARS or type(r[2]) is not str \
                or not _HASH_RE.match(r[2]) or type(r[3]) is not bytes:
            _fault("compiled code must be [contract, engine, code hash, bytes]")
        out.append(tuple(r))
    return out


class _Checked:
    """A validated per-transaction result from the worker."""

    __slots__ = ("status", "gas_used", "result", "result_bytes", "error", "events", "writes",
                 "deployed")


#: one-byte results (true, false, null, ints 0..23) and what they decode to: most calls return
#: one of these, and the bytes are their own canonical proof
_TINY_RESULTS = {bytes([b]): codec.decode_value(bytes([b])) for b in (*range(24), 0xF4, 0xF5, 0xF6)}


def _validate_result(r, tx: Tx, known, source_hash: str | None, check_write=None) -> _Checked:
    """Validate one untrusted result (``pycontract.worker.protocol.RESULT_FIELDS``: an array
    ``[status, gas_used, result, error, events, writes, deployed, touched(, profile)]``) in one
    pass; ``known(name)`` says whether a contract exists in the host's overlay before this
    transaction. ``check_write(contract, key, value)`` raises EncodingError unless the key and
    value (or None) are canonical codec bytes (default: decode them; the engine passes its
    overlay's ``check_write``, which remembers the bytes it proved canonical so the commit does
    not decode them again)."""
    if type(r) is not list or not 8 <= len(r) <= 9:
        _fault("a transaction result is not an array of 8 items (9 with a profile)")
    status, gas_used, res, err, events, writes, deployed, touched = r[:8]
    c = _Checked()
    # ---- status, gas, error text and result
    if type(status) is not str or status not in STATUSES:
        _fault(f"unknown status {status!r}")
    if type(gas_used) is not int or not 0 <= gas_used <= tx.gas_limit:
        _fault(f"gas_used {gas_used!r} is outside 0..{tx.gas_limit}")
    success = status == "success"
    if status == "out_of_gas" and gas_used != tx.gas_limit:
        _fault("out_of_gas with gas_used below the gas limit")
    if status == "rejected" and gas_used != 0:
        _fault("a rejected transaction used gas")
    if err is not None and type(err) is not str:
        _fault("error is not text")
    if not success and not err:
        _fault(f"a {status} result without an error message")
    c.status, c.gas_used = status, gas_used
    c.error = err[:MAX_ERROR_CHARS] if err is not None else None
    c.result = c.result_bytes = None
    if res is not None:
        if type(res) is not bytes or len(res) > MAX_VALUE_BYTES or not success:
            _fault("result is not an encoded value of a successful transaction")
        if len(res) == 1 and res in _TINY_RESULTS:
            c.result = _TINY_RESULTS[res]
        else:
            try:
                c.result = codec.decode_value(res)  # proves the bytes canonical
            except EncodingError as e:
                _fault(f"result does not decode: {e}")
        c.result_bytes = res
    # ---- what it wrote, emitted and deployed, and the contracts it ran
    if type(events) is not list or type(writes) is not list or type(touched) is not list:
        _fault("events, writes and touched must be lists")
    if not success and (events or writes or deployed is not None):
        _fault(f"a {status} transaction reported writes, events or a deployment")
    if len(events) % 3 or len(writes) % 3:
        _fault("events and writes must be flat lists of [contract, name or key, bytes] triples")
    if len(events) > 3 * MAX_EVENTS_PER_TX:
        _fault("too many events")
    c.deployed = _check_deployed(deployed, status, tx, source_hash)
    tree = _call_tree(touched, c, tx, known)
    c.writes = _check_writes(writes, tree, check_write) if writes else ()
    c.events = _check_events(events, tree) if events else []
    return c


def _check_deployed(deployed, status: str, tx: Tx, source_hash) -> ContractRecord | None:
    """The contract record a deploy reports must match the transaction exactly."""
    if deployed is None:
        if tx.kind == "deploy" and status == "success":
            _fault("a successful deploy without a contract record")
        return None
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
    return ContractRecord(
        name=tx.contract, code_hash=source_hash, source=tx.source, deployer=tx.sender,
        entry_points=eps,
    )


def _call_tree(touched, c: _Checked, tx: Tx, known) -> set:
    """The contracts the transaction may have written: ones that existed, or its own deploy."""
    tree = set()
    for name in touched:
        if type(name) is not str:
            _fault("touched contract names must be text")
        own_deploy = tx.kind == "deploy" and name == tx.contract and (
            c.deployed is not None or c.status != "success")
        if not own_deploy and not known(name):
            _fault(f"the call tree names unknown contract {name!r}")
        tree.add(name)
    if c.status == "success" and tx.contract not in tree:
        _fault("the call tree does not include the called contract")
    return tree


def _check_writes(writes: list, tree: set, check_write) -> list:
    """[(contract, key, value)] of a flat [contract, key, value, ...] write list."""
    out = []
    for j in range(0, len(writes), 3):
        contract, key, value = writes[j], writes[j + 1], writes[j + 2]
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
        out.append((contract, key, value))
    return out


def _check_events(events: list, tree: set) -> list:
    """[EventRecord] of a flat [contract, name, fields, ...] event list."""
    out = []
    for j in range(0, len(events), 3):
        contract, name, fields = events[j], events[j + 1], events[j + 2]
        if type(contract) is not str or contract not in tree:
            _fault(f"an event from contract {contract!r}, which is not in the call tree")
        if type(name) is not str or not name or len(name) > MAX_EVENT_NAME_CHARS:
            _fault("an event name is not text of a bounded size")
        if type(fields) is not bytes:
            _fault("event fields are not encoded bytes")
        try:
            ev = EventRecord.from_bytes(contract, name, fields)  # decoded once, bytes kept
        except EncodingError as e:
            _fault(f"event fields do not decode: {e}")
        if type(ev.fields) is not dict:
            _fault("event fields are not a map")
        out.append(ev)
    return out
