"""Replay: re-execute a ledger's whole history on this interpreter and check it byte for byte.

Every node must compute the same thing; replay proves it for one ledger file. It reads the
stored blocks (read-only, so it can run beside a live writer), re-executes their transactions
in order on a fresh private chain with the same block times, and compares every receipt field,
the state root and the block hash with what is stored. The first divergence is reported in
detail (block, transaction, field, expected, actual).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ledger_store import Ledger, codec

from pycontract.host import Chain, Receipt, Tx
from pycontract.errors import PycontractError
from pycontract.metering.schedule import GAS_SCHEDULE_VERSION

#: receipt fields compared, in the order a divergence is looked for (replay and conformance)
FIELDS = ("tx_hash", "status", "gas_used", "result", "error", "events")


@dataclass
class Divergence:
    """Where a re-execution first differs from the record: a stored ledger (replay) or a
    conformance vector (``source`` names it)."""

    height: int
    tx_index: int | None
    tx_hash: str | None
    field: str
    expected: object
    actual: object
    source: str | None = None

    def describe(self) -> str:
        where = f"block {self.height}"
        if self.tx_index is not None:
            where += f", transaction {self.tx_index}"
            if self.tx_hash is not None:
                where += f" ({self.tx_hash})"
        head = f"{self.source}: " if self.source else ""
        return (f"{head}divergence at {where}\n  field:    {self.field}\n"
                f"  expected: {self.expected!r}\n  actual:   {self.actual!r}")

    __str__ = describe


@dataclass
class ReplayResult:
    blocks: int
    transactions: int
    divergence: Divergence | None

    @property
    def ok(self) -> bool:
        return self.divergence is None


def _event_list(events) -> list:
    return [(e.contract, e.name, e.fields) for e in events]


def _compare_receipt(height: int, index: int, stored, actual: Receipt) -> Divergence | None:
    expected = Receipt.from_record(stored)
    for field in FIELDS:
        want, got = getattr(expected, field), getattr(actual, field)
        if field == "events":
            want, got = _event_list(want), _event_list(got)
        # canonical bytes, not ==, so that True and 1 (equal in Python) are told apart
        if codec.digest([want]) != codec.digest([got]):
            return Divergence(height, index, stored.tx_hash, field, want, got)
    return None


def _tx_from_record(rec, source_of: Callable[[str], str | None]) -> Tx:
    # a network transaction keeps its nonce and its envelope's hash (its receipt's tx_hash)
    net = {} if rec.nonce is None else {"nonce": rec.nonce, "tx_hash": rec.tx_hash}
    if rec.kind == "deploy":
        source = source_of(rec.contract)
        if source is None:
            if rec.status != "rejected":
                raise PycontractError(f"the ledger has a deploy of {rec.contract!r} but no "
                                      "source")
            # a stored refused deploy is a network one refused for the ledger's state before
            # its source mattered (it used its nonce): any source meets the same refusal
            source = ""
        return Tx(sender=rec.sender, contract=rec.contract, function="constructor",
                  args=rec.args, gas_limit=rec.gas_limit, source=source, **net)
    return Tx(sender=rec.sender, contract=rec.contract, function=rec.function, args=rec.args,
              gas_limit=rec.gas_limit, **net)


def replay(db_path: str | Path, *, on_block: Callable[[int], None] | None = None) -> ReplayResult:
    """Re-execute every block of ``db_path``; stop at the first divergence."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise PycontractError(f"{db_path}: no such ledger file")
    with Ledger(db_path, readonly=True) as stored:
        version = stored.meta.get("gas_schedule_version")
        if version is not None and version != GAS_SCHEDULE_VERSION:
            raise PycontractError(
                f"{db_path}: recorded under gas schedule version {version}, this pycontract "
                f"implements version {GAS_SCHEDULE_VERSION}; replay with a matching release"
            )
        chain_id = stored.meta.get("chain_id") or "pycontract-local"
        sources = {c.name: c.source for c in stored.contracts()}
        blocks = transactions = 0
        with tempfile.TemporaryDirectory(prefix="pycontract-replay-") as tmp, \
                Chain(Path(tmp) / "replay.db", chain_id=chain_id) as fresh:
            for block in stored.blocks():
                records = stored.transactions(block.height)
                # every stored block is re-made, empty ones too (a network commits those)
                receipts = fresh.begin_block(
                    [_tx_from_record(r, sources.get) for r in records], time=block.time).commit()
                blocks += 1
                transactions += len(records)
                for i, (rec, actual) in enumerate(zip(records, receipts)):
                    diff = _compare_receipt(block.height, i, rec, actual)
                    if diff is not None:
                        return ReplayResult(blocks, transactions, diff)
                head = fresh._live().head  # noqa: SLF001 - replay compares the block row itself
                checks = (("height", block.height, fresh.height),
                          ("state_root", block.state_root, fresh.state_root()),
                          ("block hash", block.hash, head.hash if head else None))
                for field, want, got in checks:
                    if want != got:
                        return ReplayResult(blocks, transactions,
                                            Divergence(block.height, None, None, field, want, got))
                if on_block is not None:
                    on_block(block.height)
    return ReplayResult(blocks, transactions, None)


def count_blocks(db_path: str | Path) -> int:
    """How many blocks a replay of ``db_path`` will re-execute (for progress display)."""
    with Ledger(Path(db_path), readonly=True) as stored:
        return stored.height
