"""Exceptions raised by ledger_store. All derive from LedgerError."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class for every error the ledger store raises."""


class EncodingError(LedgerError, ValueError):
    """A key or value cannot be stored in the canonical encoding (or bytes are not canonical)."""


class SchemaVersionError(LedgerError):
    """The file was written by a newer (unknown) schema version, or is not a ledger at all."""


class LedgerLockedError(LedgerError):
    """Another process (or another Ledger object) already has this file open for writing."""


__all__ = ["LedgerError", "EncodingError", "SchemaVersionError", "LedgerLockedError"]
