"""Ledger inspection: blocks, transactions with receipts and events, decoded storage, events.

Every function takes a ``ledger_store.Ledger`` (open it with ``readonly=True``: a read-only
ledger never takes the writer's lock and, SQLite being in WAL mode, reads the last committed
block while another process keeps writing) and returns plain JSON-able data (bytes as "0x..."
strings), the same that ``pycontract blocks|tx|storage|events --json`` prints.

    from ledger_store import Ledger
    from pycontract import inspect as pci
    with Ledger("ledger.db", readonly=True) as led:
        pci.storage(led, "token")        # {"balances": {"alice": 95, "bob": 5}, "total_supply": 100}
"""

from __future__ import annotations

from typing import Any

from ledger_store import codec
from ledger_store.schema import TX_HASH_PREFIX

__all__ = ["blocks", "transaction", "storage", "events", "open_readonly", "storage_items"]


def open_readonly(path):
    """``Ledger(path, readonly=True)`` with a clear error for a missing file."""
    import os

    from ledger_store import Ledger
    from ledger_store.errors import LedgerError

    if not os.path.isfile(path):
        raise LedgerError(f"{path}: no ledger file here")
    return Ledger(path, readonly=True)


def blocks(led, start: int | None = None, end: int | None = None,
           last: int | None = None) -> list[dict]:
    """Block headers from ``start`` to ``end`` (inclusive), or the ``last`` N."""
    height = led.height
    if last is not None:
        start, end = max(1, height - last + 1), height
    start = 1 if start is None else max(1, start)
    end = height if end is None else min(end, height)
    out = []
    for b in led.blocks(start, end) if start <= end else ():
        out.append({"height": b.height, "time": b.time, "txs": b.tx_count, "hash": b.hash,
                    "parent_hash": b.parent_hash, "state_root": b.state_root})
    return out


def _tx_dict(rec) -> dict:
    return {
        "tx_hash": rec.tx_hash, "height": rec.height, "index": rec.index, "kind": rec.kind,
        "sender": rec.sender, "contract": rec.contract, "function": rec.function,
        "args": codec.to_jsonable(rec.args), "gas_limit": rec.gas_limit, "nonce": rec.nonce,
        "status": rec.status, "gas_used": rec.gas_used, "result": codec.to_jsonable(rec.result),
        "error": rec.error,
        "events": [{"contract": e.contract, "name": e.name, "fields": codec.to_jsonable(e.fields)}
                   for e in rec.events],
    }


def transaction(led, tx_hash: str) -> dict | None:
    """A committed transaction and its receipt and events, by hash (a unique prefix of at
    least 8 hex digits also works); None when there is none."""
    h = tx_hash.lower().removeprefix("0x")
    rec = led.transaction(h)
    if rec is None and 8 <= len(h) < 64:
        p = h[:12]  # the indexed prefix (ledger_store.schema.TX_HASH_PREFIX)
        rows = led.conn.execute(
            f"SELECT tx_hash FROM transactions WHERE {TX_HASH_PREFIX} >= ? AND "
            f"{TX_HASH_PREFIX} < ? AND tx_hash >= ? AND tx_hash < ? LIMIT 2",
            (p, p + "g", h, h + "g")).fetchall()
        if len(rows) == 1:
            rec = led.transaction(rows[0][0])
        elif len(rows) > 1:
            raise LookupError(f"{tx_hash}: more than one transaction starts with this; give more digits")
    return None if rec is None else _tx_dict(rec)


def storage_items(led, contract: str) -> list[tuple[str, Any, Any]]:
    """(declaration, key or None for a Value, value) of a contract's committed storage,
    decoded, in key order."""
    out = []
    for kb, vb in led.iter_items(contract):
        key = codec.decode_key(kb)
        value = codec.decode_value(vb)
        if isinstance(key, (list, tuple)) and len(key) == 2 and isinstance(key[0], str):
            out.append((key[0], key[1], value))
        elif isinstance(key, (list, tuple)) and len(key) == 1 and isinstance(key[0], str):
            out.append((key[0], None, value))
        else:  # not a slot key (reserved namespaces): show it whole
            out.append((codec.to_json(key), None, value))
    return out


def storage(led, contract: str) -> dict:
    """``{"balances": {"alice": 95, ...}, "total_supply": 100}``: Maps as objects keyed by
    the key (non-str keys as their JSON text, e.g. '["alice","bob"]'), Values as their value.
    Entries equal to a Map's default are not stored, so they do not appear."""
    if led.contract(contract) is None:
        raise LookupError(f"no contract named {contract!r} in this ledger")
    out: dict = {}
    for slot, key, value in storage_items(led, contract):
        if key is None:
            out[slot] = codec.to_jsonable(value)
        else:
            out.setdefault(slot, {})[codec.to_text(key)] = codec.to_jsonable(value)
    return out


def events(led, contract: str | None = None, name: str | None = None,
           limit: int | None = None) -> list[dict]:
    """Events in chain order, optionally only ``contract``'s and/or those called ``name``
    (the last ``limit`` of them)."""
    out = []
    for height, index, e in led.events(contract, name):
        out.append({"height": height, "tx_index": index, "contract": e.contract, "name": e.name,
                    "fields": codec.to_jsonable(e.fields)})
    return out[-limit:] if limit else out
