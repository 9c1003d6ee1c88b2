"""The pycontract ABCI 2.0 application: CometBFT orders transactions, this executes them.

In: ABCI requests (one thread, in order, from ``pycontract.node.abci.server``). Out: the
responses, and a ledger that CometBFT's handshake can always resume:

- CheckTx is a filter: the envelope (signature, chain id, size), the gas limit against the
  block's maximum, and the nonce against committed state plus what this mempool already holds.
- PrepareProposal / ProcessProposal keep a block within the consensus ``block.max_gas`` (summed
  gas limits) and ``max_tx_bytes``; they depend only on the request.
- FinalizeBlock executes the block through the engine as a *pending* block (two-phase): the
  state root becomes ``app_hash`` and nothing is persisted. Commit persists it in one SQLite
  transaction, so Info (height, app hash) never reports uncommitted state and a crash anywhere
  between the two is replayed by CometBFT's handshake to the same hashes.
- A worker fault is a node fault: the exception reaches the server, which answers
  ResponseException and stops; the node never invents a result.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections import OrderedDict

from ledger_store import codec
from pycontract.errors import NodeFault, QueryError
from pycontract.host import accounts
from pycontract.node import envelope
from pycontract.node.abci.server import Application
from pycontract.node.abci.tendermint.abci import types_pb2 as abci

APP_VERSION = 1
MAX_TX_BYTES = 1 << 20  # one envelope; CometBFT's mempool.max_tx_bytes is 1 MiB too
META_MAX_GAS = "block_max_gas"

# ExecTxResult / ResponseCheckTx codes (docs/network.md)
CODE_OK, CODE_REJECTED, CODE_REVERTED, CODE_OUT_OF_GAS = 0, 1, 2, 3
_STATUS_CODE = {"success": CODE_OK, "rejected": CODE_REJECTED, "reverted": CODE_REVERTED,
                "out_of_gas": CODE_OUT_OF_GAS}
CODESPACE = "pycontract"

#: verified envelopes remembered per node (CheckTx, rechecks, ProcessProposal and FinalizeBlock
#: of one transaction then decode and verify it once); keyed by sha256 of the raw bytes, which
#: covers every byte, so a remembered verification is exactly as good as a fresh one
VERIFIED_CACHE = 50_000

# A test-only fault switch: ``PYCONTRACT_TEST_FAULT=app_hash@H`` makes this node report a wrong
# app hash from height H on, so tests can prove a divergent node halts instead of forking.
_FAULT_ENV = "PYCONTRACT_TEST_FAULT"


def receipt_digest(receipt) -> bytes:
    """The 32 bytes put in ExecTxResult.data, so CometBFT's LastResultsHash commits every
    node to the same receipts (status, gas, result, error, events, tx hash)."""
    return bytes.fromhex(codec.digest([
        receipt.status, receipt.gas_used, receipt.result, receipt.error,
        [[e.contract, e.name, e.fields] for e in receipt.events], receipt.tx_hash,
    ]))


def _abci_events(receipt) -> list:
    out = []
    for e in receipt.events:
        attrs = [abci.EventAttribute(key="contract", value=e.contract, index=True)]
        attrs += [abci.EventAttribute(key=k, value=codec.to_text(v), index=True)
                  for k, v in sorted(e.fields.items())]
        out.append(abci.Event(type=e.name, attributes=attrs))
    return out


def _fault_height() -> int | None:
    spec = os.environ.get(_FAULT_ENV, "")
    if spec.startswith("app_hash@"):
        return int(spec.split("@", 1)[1])
    return None


class PycontractApp(Application):
    """The application object the ABCI server calls (always from one thread)."""

    def __init__(self, ledger_path: str, chain_id: str, *, log=None):
        from pycontract import Chain

        self.chain = Chain(ledger_path, chain_id=chain_id)
        self.chain_id = chain_id
        self.pending = None
        self._mempool_nonces: dict[str, int] = {}
        self._log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._fault_at = _fault_height()
        self._verified: OrderedDict[bytes, tuple] = OrderedDict()  # digest -> (stx, tx, refusal)
        self._max_gas = int(self.chain.meta.get(META_MAX_GAS, -1))
        self._compiled_ahead = False

    # -- helpers ---------------------------------------------------------------------------

    @property
    def max_gas(self) -> int:
        """The consensus ``block.max_gas`` (from InitChain, kept in the ledger's meta); -1 means
        no block limit, but every transaction still has the engine's per-transaction maximum."""
        return self._max_gas

    def _app_hash(self, root_hex: str, height: int) -> bytes:
        h = bytes.fromhex(root_hex)
        if self._fault_at is not None and height >= self._fault_at:
            h = bytes([h[0] ^ 1]) + h[1:]
        return h

    def _committed_app_hash(self) -> bytes:
        height = self.chain.height
        return self._app_hash(self.chain.state_root(), height) if height > 0 else b""

    def _verify(self, raw: bytes) -> tuple:
        """(SignedTx, engine Tx, content refusal or None) of an envelope, decoded, verified and
        prechecked once per node; raises EnvelopeError. Only facts that depend on the bytes
        alone are remembered (never nonces or anything else from the ledger's state)."""
        digest = hashlib.sha256(raw).digest()
        hit = self._verified.get(digest)
        if hit is not None:
            self._verified.move_to_end(digest)
            return hit
        stx = envelope.decode(raw, chain_id=self.chain_id, max_bytes=MAX_TX_BYTES)
        tx = engine_tx(stx)
        hit = (stx, tx, self.chain.precheck(tx))
        self._verified[digest] = hit
        if len(self._verified) > VERIFIED_CACHE:
            self._verified.popitem(last=False)
        return hit

    def _decode(self, raw: bytes):
        return self._verify(raw)[0]

    # -- connection: info / init -----------------------------------------------------------

    def info(self, req):
        if not self._compiled_ahead:
            # before CometBFT's handshake replays or runs any block: contracts without compiled
            # code of this engine (after an upgrade) are compiled now, not by a block's call
            n = self.chain.compile_contracts()
            if n:
                self._log(f"pycontract: compiled {n} contract(s) for this engine")
            self._compiled_ahead = True
        return abci.ResponseInfo(
            data="pycontract", version=_package_version(), app_version=APP_VERSION,
            last_block_height=self.chain.height, last_block_app_hash=self._committed_app_hash())

    def init_chain(self, req):
        if req.chain_id != self.chain_id:
            raise NodeFault(f"genesis chain id {req.chain_id!r} differs from this ledger's "
                            f"{self.chain_id!r}")
        if req.initial_height not in (0, 1):
            raise NodeFault(f"initial_height {req.initial_height} is not supported (ledger "
                            "heights start at 1)")
        if self.chain.height != 0:
            raise NodeFault(f"InitChain on a ledger already at height {self.chain.height}")
        max_gas = -1
        if req.HasField("consensus_params") and req.consensus_params.HasField("block"):
            max_gas = req.consensus_params.block.max_gas
        self.chain.set_meta(META_MAX_GAS, max_gas)
        self._max_gas = max_gas
        return abci.ResponseInitChain(app_hash=b"")

    # -- mempool ---------------------------------------------------------------------------

    def check_tx(self, req):
        try:
            stx, _tx, why = self._verify(req.tx)
        except envelope.EnvelopeError as e:
            return abci.ResponseCheckTx(code=CODE_REJECTED, log=e.reason, codespace=CODESPACE)
        max_gas = self._max_gas
        if why is None and max_gas >= 0 and stx.gas_limit > max_gas:
            why = f"gas limit {stx.gas_limit} exceeds the block's maximum {max_gas}"
        if why is not None:
            return abci.ResponseCheckTx(code=CODE_REJECTED, log=why, codespace=CODESPACE)
        expected = self._mempool_nonces.get(stx.sender)
        if expected is None:
            expected = self.chain.nonce(stx.sender)
        if stx.nonce != expected:
            return abci.ResponseCheckTx(
                code=CODE_REJECTED, codespace=CODESPACE,
                log=accounts.nonce_mismatch(stx.sender, stx.nonce, expected))
        self._mempool_nonces[stx.sender] = expected + 1
        return abci.ResponseCheckTx(code=CODE_OK, gas_wanted=stx.gas_limit)

    # -- proposals -------------------------------------------------------------------------

    def prepare_proposal(self, req):
        """Take the mempool's transactions in order while they fit the block's gas and bytes."""
        max_gas, room = self.max_gas, req.max_tx_bytes
        gas, size, out = 0, 0, []
        for raw in req.txs:
            try:
                stx = self._decode(raw)
            except envelope.EnvelopeError:
                continue
            if max_gas >= 0 and gas + stx.gas_limit > max_gas:
                continue
            if size + len(raw) > room:
                continue
            gas += stx.gas_limit
            size += len(raw)
            out.append(raw)
        return abci.ResponsePrepareProposal(txs=out)

    def process_proposal(self, req):
        """Accept a proposal whose transactions are all well-formed envelopes of this chain and
        whose summed gas limits fit the block; this depends only on the request."""
        max_gas, gas = self.max_gas, 0
        for raw in req.txs:
            try:
                gas += self._decode(raw).gas_limit
            except envelope.EnvelopeError:
                return abci.ResponseProcessProposal(
                    status=abci.ResponseProcessProposal.REJECT)
        if max_gas >= 0 and gas > max_gas:
            return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.REJECT)
        return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)

    # -- consensus -------------------------------------------------------------------------

    def finalize_block(self, req):
        if self.pending is not None:  # a round that was never committed: start again
            self.pending.drop()
            self.pending = None
        height = self.chain.height + 1
        if req.height != height:
            raise NodeFault(f"FinalizeBlock for height {req.height}, but the ledger is at "
                            f"{self.chain.height}")
        results: list = [None] * len(req.txs)
        txs, where = [], []
        for i, raw in enumerate(req.txs):
            try:
                tx = self._verify(raw)[1]
            except envelope.EnvelopeError as e:
                results[i] = abci.ExecTxResult(code=CODE_REJECTED, log=e.reason,
                                               codespace=CODESPACE)
                continue
            txs.append(tx)
            where.append(i)
        self.pending = self.chain.begin_block(txs, time=req.time.seconds)
        if self.pending.height != req.height:
            raise NodeFault(f"the engine built block {self.pending.height} for height "
                            f"{req.height}")
        for i, tx, r in zip(where, txs, self.pending.receipts):
            results[i] = abci.ExecTxResult(
                code=_STATUS_CODE[r.status], data=receipt_digest(r), log=r.error or "",
                gas_wanted=tx.gas_limit, gas_used=r.gas_used, events=_abci_events(r),
                codespace=CODESPACE if r.status != "success" else "")
        return abci.ResponseFinalizeBlock(
            tx_results=results, app_hash=self._app_hash(self.pending.state_root, req.height))

    def commit(self, req):
        if self.pending is None:
            raise NodeFault("Commit without a finalized block")
        pending, self.pending = self.pending, None
        pending.commit()
        self._mempool_nonces.clear()  # rechecks rebuild it from committed state
        return abci.ResponseCommit(retain_height=0)

    # -- queries ---------------------------------------------------------------------------

    def query(self, req):
        height = self.chain.height
        try:
            if req.path == "/query":
                q = codec.decode_value(req.data)
                if type(q) is not dict or type(q.get("contract")) is not str \
                        or type(q.get("function")) is not str:
                    raise QueryError("a /query needs a CBOR map with contract and function")
                args = q.get("args") or {}
                kw = {"gas_limit": q["gas_limit"]} if "gas_limit" in q else {}
                value = self.chain.query(q["contract"], q["function"], args, **kw)
                return abci.ResponseQuery(code=0, value=codec.encode_value(value), height=height)
            if req.path == "/nonce":
                address = req.data.decode("utf-8", "replace")
                return abci.ResponseQuery(code=0, height=height,
                                          value=codec.encode_value(self.chain.nonce(address)))
            if req.path == "/receipt":
                r = self.chain.receipt(req.data.hex())
                if r is None:
                    return abci.ResponseQuery(code=1, log="unknown transaction", height=height)
                return abci.ResponseQuery(code=0, height=height, value=codec.encode_value({
                    "status": r.status, "gas_used": r.gas_used, "result": r.result,
                    "error": r.error, "tx_hash": r.tx_hash, "height": r.height,
                    "index": r.index, "events": [
                        {"contract": e.contract, "name": e.name, "fields": e.fields}
                        for e in r.events]}))
            return abci.ResponseQuery(code=1, log=f"unknown query path {req.path!r}",
                                      height=height)
        except Exception as e:  # a bad query answers an error; it never halts the node
            return abci.ResponseQuery(code=1, log=str(e).splitlines()[0] if str(e) else
                                      type(e).__name__, height=height)

    def close(self) -> None:
        if self.pending is not None:
            self.pending.drop()
            self.pending = None
        self.chain.close()


def create_app(*, home, ledger_path, chain_id: str) -> PycontractApp:
    """The factory ``pycontract node start`` serves: the ledger lives at HOME/app/ledger.db."""
    import logging
    from pathlib import Path

    Path(ledger_path).parent.mkdir(parents=True, exist_ok=True)
    return PycontractApp(str(ledger_path), chain_id,
                         log=logging.getLogger("pycontract.node.app").info)


def engine_tx(stx):
    """The engine transaction of a verified envelope: sender = the signer's address, and the
    envelope's nonce and hash."""
    from pycontract import Tx

    return Tx(sender=stx.sender, contract=stx.contract, function=stx.function, args=stx.args,
              gas_limit=stx.gas_limit, source=stx.source, nonce=stx.nonce, tx_hash=stx.hash)


def _package_version() -> str:
    from pycontract import __version__

    return __version__
