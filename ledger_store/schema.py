"""Tables, schema version and migrations of the ledger file.

Tables are created with sqlite-utils so that their columns are readable with the
``sqlite-utils`` CLI (``sqlite-utils rows ledger.db transactions``): text columns first, exact
canonical-CBOR BLOB columns last (decoded for people by ``pycontract storage|tx|events``). The
two hot tables (``storage`` and ``state_leaves``) are created with plain DDL as ``WITHOUT ROWID``
tables (one B-tree per write instead of two), which sqlite-utils cannot express; they are still
ordinary tables to read.

Version history:

* 1 - first layout: no ``state_buckets`` table (bucket hashes recomputed from ``state_leaves``).
* 2 - adds ``state_buckets`` (cached bucket hashes, so a writer loads the tree without reading
  every leaf). Migration 1 -> 2 fills it from ``state_leaves``.
* 3 - adds ``transactions.nonce`` (the signed nonce of a network transaction, NULL otherwise, so
  replay can re-execute it) and an index on ``transactions.sender`` (an account name must never
  become a contract name). Migration 2 -> 3 adds both; existing rows get NULL.
* 4 - the commit path writes only what the ledger reads: the readable copies of the CBOR columns
  (``storage.key_text``/``value_text``, ``transactions.args_json``/``result_json``,
  ``events.fields_json``) are dropped (``pycontract storage|tx|events`` decode the BLOBs), and
  so are the indexes no query uses (``events.tx_hash``, ``transactions(contract, function)``);
  the full-text ``transactions.tx_hash`` index becomes an index on its first 12 hex digits
  (``TX_HASH_PREFIX``; lookups compare the whole hash too). Each of those indexes took a random
  insert per transaction: together about a third of a 500-transfer block's SQLite work and
  WAL pages. Migration 3 -> 4 drops the columns and indexes and builds the prefix index.
* 5 - adds ``compiled``: one opaque blob per contract, its code as compiled by the engine named
  in ``engine`` (kept so that a new worker process loads a contract instead of compiling it
  again for a call's gas). A cache of this node, derived from ``contracts``: no part of the
  state root or of any block hash, written with the block that deploys the contract (or with
  any later one), and any row may be deleted at any time. Migration 4 -> 5 creates it empty.
"""

from __future__ import annotations

import json
import sqlite3

import sqlite_utils

from .errors import SchemaVersionError

__all__ = ["SCHEMA_VERSION", "TX_HASH_PREFIX", "create_schema", "read_version", "migrate", "MIGRATIONS"]

SCHEMA_VERSION = 5

#: ``transactions`` rows are found by hash through an index on this expression (the first 12
#: hex digits: short keys, so few index pages per block); queries repeat it verbatim so SQLite
#: uses the index, and compare ``tx_hash`` itself too
TX_HASH_PREFIX = "substr(tx_hash, 1, 12)"

_TABLES_V1 = (
    "meta",
    "blocks",
    "transactions",
    "events",
    "contracts",
    "storage",
    "state_leaves",
)


def _create_v1(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["blocks"].create(
        {
            "height": int,
            "hash": str,
            "parent_hash": str,
            "state_root": str,
            "time": int,
            "tx_count": int,
        },
        pk="height",
        not_null=["hash", "parent_hash", "state_root", "time", "tx_count"],
    )
    db["blocks"].create_index(["hash"], unique=True)
    db["transactions"].create(
        {
            "height": int,
            "idx": int,
            "tx_hash": str,
            "kind": str,
            "sender": str,
            "contract": str,
            "function": str,
            "args_json": str,
            "gas_limit": int,
            "status": str,
            "gas_used": int,
            "result_json": str,
            "error": str,
            "event_count": int,
            "receipt_digest": str,
            "args": bytes,
            "result": bytes,
        },
        pk=("height", "idx"),
        not_null=["tx_hash", "kind", "sender", "status", "gas_limit", "gas_used"],
    )
    db["transactions"].create_index(["tx_hash"])
    db["transactions"].create_index(["contract", "function"])
    db["events"].create(
        {
            "height": int,
            "tx_index": int,
            "idx": int,
            "tx_hash": str,
            "contract": str,
            "name": str,
            "fields_json": str,
            "fields": bytes,
        },
        pk=("height", "tx_index", "idx"),
        not_null=["contract", "name"],
    )
    db["events"].create_index(["contract", "name"])
    db["events"].create_index(["tx_hash"])
    db["contracts"].create(
        {
            "name": str,
            "code_hash": str,
            "deployer": str,
            "height": int,
            "entry_points": str,
            "source": str,
        },
        pk="name",
        not_null=["code_hash", "source"],
    )
    db.execute(
        "CREATE TABLE storage ("
        " contract TEXT NOT NULL,"
        " key_text TEXT,"
        " value_text TEXT,"
        " key BLOB NOT NULL,"
        " value BLOB NOT NULL,"
        " PRIMARY KEY (contract, key)"
        ") WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE state_leaves ("
        " bucket INTEGER NOT NULL,"
        " kh BLOB NOT NULL,"
        " leaf BLOB NOT NULL,"
        " PRIMARY KEY (bucket, kh)"
        ") WITHOUT ROWID"
    )


def _migrate_1_to_2(db: sqlite_utils.Database) -> None:
    from .state_root import bucket_hash

    db["state_buckets"].create({"bucket": int, "hash": bytes}, pk="bucket")
    cur = db.execute("SELECT bucket, leaf FROM state_leaves ORDER BY bucket, kh")
    rows = []
    current, leaves = None, []
    for b, lf in cur:
        if b != current:
            if current is not None:
                rows.append((current, bucket_hash(leaves)))
            current, leaves = b, []
        leaves.append(lf)
    if current is not None:
        rows.append((current, bucket_hash(leaves)))
    db.conn.executemany("INSERT INTO state_buckets (bucket, hash) VALUES (?, ?)", rows)


def _migrate_2_to_3(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE transactions ADD COLUMN nonce INTEGER")
    db["transactions"].create_index(["sender"])


def _migrate_3_to_4(db: sqlite_utils.Database) -> None:
    for index in ("idx_events_tx_hash", "idx_transactions_contract_function",
                  "idx_transactions_tx_hash"):
        db.execute(f"DROP INDEX IF EXISTS {index}")
    for table, column in (("storage", "key_text"), ("storage", "value_text"),
                          ("transactions", "args_json"), ("transactions", "result_json"),
                          ("events", "fields_json")):
        db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.execute(f"CREATE INDEX idx_transactions_tx_hash_prefix ON transactions ({TX_HASH_PREFIX})")


def _migrate_4_to_5(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE compiled ("
        " contract TEXT PRIMARY KEY,"
        " engine TEXT NOT NULL,"
        " code_hash TEXT NOT NULL,"
        " code BLOB NOT NULL"
        ")"
    )


#: MIGRATIONS[n] upgrades a version-n file to version n+1 (run inside one transaction)
MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5}


def create_schema(conn: sqlite3.Connection, chain_id: str) -> None:
    """Create the current schema in an empty database (caller holds the write transaction)."""
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    _create_v1(db)
    for v in range(1, SCHEMA_VERSION):
        MIGRATIONS[v](db)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [
            ("schema_version", json.dumps(SCHEMA_VERSION)),
            ("chain_id", json.dumps(chain_id)),
            ("gas_schedule_version", json.dumps(None)),
        ],
    )


def read_version(conn: sqlite3.Connection, path: str) -> int | None:
    """Schema version of the file; None if the database has no tables at all (fresh file).

    Raises SchemaVersionError if the file has tables but is not a pycontract ledger."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not names:
        return None
    if "meta" not in names:
        raise SchemaVersionError(
            f"{path}: this SQLite file is not a pycontract ledger (it has no 'meta' table)"
        )
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None:
        raise SchemaVersionError(f"{path}: the ledger's meta table has no schema_version")
    try:
        v = json.loads(row[0])
    except (TypeError, ValueError):
        v = None
    if type(v) is not int or v < 1:
        raise SchemaVersionError(f"{path}: unreadable schema_version {row[0]!r}")
    return v


def check_version(version: int, path: str, *, readonly: bool) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path}: written with ledger schema version {version}, but this ledger_store only "
            f"knows versions up to {SCHEMA_VERSION}; upgrade pycontract to open it"
        )
    if version < SCHEMA_VERSION and readonly:
        raise SchemaVersionError(
            f"{path}: ledger schema version {version} is older than {SCHEMA_VERSION}; open it "
            "once for writing to migrate it"
        )


def migrate(conn: sqlite3.Connection, version: int) -> int:
    """Upgrade from ``version`` to SCHEMA_VERSION (caller holds the write transaction)."""
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](db)
        version += 1
        conn.execute(
            "UPDATE meta SET value=? WHERE key='schema_version'", (json.dumps(version),)
        )
    return version
