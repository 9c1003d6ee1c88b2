"""Conformance vectors: recorded histories with the receipts and state roots every node must get.

A vector is one JSON file, self-contained so that another implementation can consume it: the
contract sources, every block's transactions and time, and after each block the expected
receipts (status, gas_used, result, error, events, tx_hash) and state root. Inputs live beside
the vectors (``inputs/*.json`` naming contract files in ``contracts/``); ``regenerate`` runs
them on this interpreter and writes the vectors, refusing to change any recorded gas figure or
root unless the gas schedule version was bumped.

    python -m pycontract.conformance regenerate tests/vectors
    python -m pycontract.conformance check tests/vectors
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from pycontract.replay import FIELDS, Divergence

#: receipt fields compared by replay and by the vector check, in report order


# -- JSON form of contract values: bytes and tuples have no JSON type of their own ------------


def to_json(value):
    """Map a contract value to JSON-able data: bytes -> {"$bytes": hex}, tuples -> lists."""
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def from_json(value):
    """Inverse of :func:`to_json` (lists stay lists)."""
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def receipt_json(receipt) -> dict:
    """The compared fields of a receipt, as JSON-able data."""
    return {
        "status": receipt.status,
        "gas_used": receipt.gas_used,
        "result": to_json(receipt.result),
        "error": receipt.error,
        "events": [
            {"contract": e.contract, "name": e.name, "fields": to_json(e.fields)}
            for e in receipt.events
        ],
        "tx_hash": receipt.tx_hash,
    }


# -- running a history ------------------------------------------------------------------------


def load_input(path: Path) -> dict:
    """Read an input history and inline the contract sources it names."""
    spec = json.loads(path.read_text())
    contracts_dir = path.parent.parent / "contracts"
    for block in spec["blocks"]:
        for tx in block["txs"]:
            if "source_file" in tx:
                tx["source"] = (contracts_dir / tx.pop("source_file")).read_text()
    spec.setdefault("name", path.stem)
    return spec


def _make_tx(tx: dict):
    from pycontract.host import Tx

    return Tx(
        sender=tx["sender"],
        contract=tx["contract"],
        function=tx.get("function", "constructor" if "source" in tx else ""),
        args=from_json(tx.get("args") or {}),
        gas_limit=tx["gas_limit"],
        source=tx.get("source"),
    )


def run_history(spec: dict) -> dict:
    """Execute a history on a fresh chain; return the full vector (inputs plus expectations)."""
    from pycontract.host import Chain
    from pycontract.metering.schedule import GAS_SCHEDULE_VERSION

    blocks_out = []
    with tempfile.TemporaryDirectory() as tmp, Chain(str(Path(tmp) / "vector.db")) as chain:
        for block in spec["blocks"]:
            receipts = chain.execute_block([_make_tx(t) for t in block["txs"]], time=block["time"])
            blocks_out.append(
                {
                    "time": block["time"],
                    "txs": block["txs"],
                    "receipts": [receipt_json(r) for r in receipts],
                    "height": chain.height,
                    "state_root": chain.state_root(),
                }
            )
    return {
        "name": spec["name"],
        "description": spec.get("description", ""),
        "gas_schedule_version": GAS_SCHEDULE_VERSION,
        "blocks": blocks_out,
    }


def compare(expected: dict, actual: dict) -> Divergence | None:
    """Compare two vectors block by block, receipt field by field; None when they match."""
    name = expected["name"]
    if len(expected["blocks"]) != len(actual["blocks"]):
        return Divergence(0, None, None, "block count", len(expected["blocks"]),
                          len(actual["blocks"]), source=name)
    for bi, (eb, ab) in enumerate(zip(expected["blocks"], actual["blocks"]), start=1):
        if len(eb["receipts"]) != len(ab["receipts"]):
            return Divergence(bi, None, None, "receipt count", len(eb["receipts"]),
                              len(ab["receipts"]), source=name)
        for ti, (er, ar) in enumerate(zip(eb["receipts"], ab["receipts"])):
            for field in FIELDS:
                if er[field] != ar[field]:
                    return Divergence(bi, ti, None, field, er[field], ar[field], source=name)
        for field in ("height", "state_root"):
            if eb[field] != ab[field]:
                return Divergence(bi, None, None, field, eb[field], ab[field], source=name)
    return None


def replay_vector(vector: dict) -> Divergence | None:
    """Re-run a recorded vector on this interpreter and compare with its expectations."""
    spec = {"name": vector["name"], "description": vector.get("description", ""),
            "blocks": [{"time": b["time"], "txs": b["txs"]} for b in vector["blocks"]]}
    return compare(vector, run_history(spec))


# -- the command ------------------------------------------------------------------------------


def vector_paths(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if p.is_file())


def regenerate(directory: Path, out=sys.stdout) -> int:
    """Rewrite every vector from its input; refuse silent changes of gas figures or roots."""
    from pycontract.metering.schedule import GAS_SCHEDULE_VERSION

    status = 0
    for inp in sorted((directory / "inputs").glob("*.json")):
        vector = run_history(load_input(inp))
        target = directory / inp.name
        if target.exists():
            old = json.loads(target.read_text())
            diff = compare(old, vector)
            if diff is not None and old.get("gas_schedule_version") == GAS_SCHEDULE_VERSION:
                print(
                    f"{target}: results changed under the same gas schedule version "
                    f"{GAS_SCHEDULE_VERSION} ({diff}); bump GAS_SCHEDULE_VERSION in "
                    "pycontract/metering/schedule.py and say why in docs/gas.md",
                    file=out,
                )
                status = 1
                continue
        target.write_text(json.dumps(vector, indent=1, sort_keys=True) + "\n")
        print(f"wrote {target}", file=out)
    return status


def check(directory: Path, out=sys.stdout) -> int:
    """Replay every vector in a directory; print the first divergence of each failing one."""
    failures = 0
    for path in vector_paths(directory):
        diff = replay_vector(json.loads(path.read_text()))
        if diff is not None:
            failures += 1
            print(f"FAIL {diff}", file=out)
        else:
            print(f"ok   {path.name}", file=out)
    return 1 if failures else 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ("regenerate", "check"):
        print("usage: python -m pycontract.conformance {regenerate|check} DIRECTORY",
              file=sys.stderr)
        return 2
    directory = Path(argv[1])
    if not directory.is_dir():
        print(f"{directory}: not a directory", file=sys.stderr)
        return 2
    return (regenerate if argv[0] == "regenerate" else check)(directory)


if __name__ == "__main__":
    sys.exit(main())
