"""The host's records: ``Tx`` in, ``Receipt`` and ``Event`` out (SPEC.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger_store import codec
from ledger_store.records import TxRecord
from pycontract.errors import PycontractError

DEFAULT_DEPLOY_GAS = 20_000_000
DEFAULT_CALL_GAS = 1_000_000
DEFAULT_QUERY_GAS = 10_000_000

class LedgerVersionError(PycontractError):
    """The ledger was written under another gas schedule version."""


# ------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Event:
    contract: str
    name: str
    fields: dict

    def to_dict(self) -> dict:
        return {"contract": self.contract, "name": self.name, "fields": codec.to_jsonable(self.fields)}


@dataclass
class Receipt:
    status: str
    gas_used: int
    result: Any
    error: str | None
    events: list = field(default_factory=list)
    tx_hash: str = ""
    height: int | None = None  # the block it is in (None when rejected)
    index: int | None = None  # its position in that block
    #: gas per source line ([pycontract.profiler.ProfileLine], heaviest first) when run with
    #: ``profile=True``; None otherwise. Not consensus data: never stored, not compared.
    profile: list | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        """JSON-able form (bytes as "0x..." strings); ``profile`` only when there is one."""
        d = {
            "status": self.status,
            "gas_used": self.gas_used,
            "result": codec.to_jsonable(self.result),
            "error": self.error,
            "events": [e.to_dict() for e in self.events],
            "tx_hash": self.tx_hash,
            "height": self.height,
            "index": self.index,
        }
        if self.profile is not None:
            d["profile"] = [p.to_dict() for p in self.profile]
        return d

    @classmethod
    def from_record(cls, rec: TxRecord) -> "Receipt":
        return cls(
            status=rec.status,
            gas_used=rec.gas_used,
            result=rec.result,
            error=rec.error,
            events=[Event(e.contract, e.name, e.fields) for e in rec.events],
            tx_hash=rec.tx_hash,
            height=rec.height,
            index=rec.index,
        )


class _DefaultGas:
    def __repr__(self):
        return "<default gas limit>"


_DEFAULT_GAS = _DefaultGas()


@dataclass(frozen=True)
class Tx:
    """One transaction. With ``source`` it deploys ``contract`` (``function`` is ignored and
    recorded as "constructor"; ``args`` go to the constructor)."""

    sender: str
    contract: str
    function: str | None = None
    args: dict | None = None
    #: not given: ``DEFAULT_DEPLOY_GAS`` for a deploy, ``DEFAULT_CALL_GAS`` for a call (an
    #: explicit None is kept, and refused as any other bad limit)
    gas_limit: int = _DEFAULT_GAS  # type: ignore[assignment]
    source: str | None = None
    #: network transactions only (``pycontract.host.accounts``): the signer's per-account nonce,
    #: checked against ledger state, and the signed envelope's hash, used as the receipt's
    #: ``tx_hash`` (the hash CometBFT shows)
    nonce: int | None = None
    tx_hash: str | None = None

    def __post_init__(self):
        if self.gas_limit is _DEFAULT_GAS:
            object.__setattr__(self, "gas_limit", DEFAULT_DEPLOY_GAS if self.source is not None
                               else DEFAULT_CALL_GAS)

    @property
    def kind(self) -> str:
        return "deploy" if self.source is not None else "call"


#: what Chain.deploy sends when it is given no source: not None, so the Tx stays a deploy
_NO_SOURCE = object()

