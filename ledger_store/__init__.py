"""ledger_store: SQLite-backed chain state for pycontract (never imports pycontract).

See docs/ledger.md for the file format, the canonical encoding and the state root.
"""

from . import codec, schema, state_root
from .errors import EncodingError, LedgerError, LedgerLockedError, SchemaVersionError
from .ledger import BlockOverlay, Ledger, StagedBlock
from .records import ZERO_HASH, BlockRecord, ContractRecord, EventRecord, TxRecord
from .schema import SCHEMA_VERSION
from .state_root import EMPTY_ROOT

__all__ = [
    "Ledger",
    "BlockOverlay",
    "StagedBlock",
    "codec",
    "schema",
    "state_root",
    "ContractRecord",
    "TxRecord",
    "EventRecord",
    "BlockRecord",
    "LedgerError",
    "SchemaVersionError",
    "LedgerLockedError",
    "EncodingError",
    "SCHEMA_VERSION",
    "EMPTY_ROOT",
    "ZERO_HASH",
]
