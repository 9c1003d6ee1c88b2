"""NodeClient: deploy, call and query pycontract contracts through a CometBFT node's RPC.

JSON-RPC 2.0 over HTTP POST with the standard library (urllib): no dependency for a handful of
methods (status, broadcast_tx_sync, tx, abci_query). A transaction is signed with the caller's
key (N1's ``envelope.sign``); the sender is that key's address. ``deploy``/``call`` wait for the
commit and return the committed ``pycontract.Receipt`` (from the app's ``/receipt`` query), so
network use reads like ``Chain`` use.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
import urllib.error
import urllib.request
from typing import Any

DEFAULT_TIMEOUT = 10.0  # seconds for one HTTP request
DEFAULT_COMMIT_TIMEOUT = 60.0  # seconds to wait for a transaction to be committed
DEFAULT_DEPLOY_GAS = 20_000_000  # the same defaults as the CLI's local commands
DEFAULT_CALL_GAS = 1_000_000


class NodeError(Exception):
    """The node answered, but with an error (a JSON-RPC error, a malformed reply, a timeout
    waiting for a commit). One line."""


class NodeUnavailable(NodeError):
    """No answer from the node at all (refused, unreachable, timed out); names the URL."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"node {url} is unavailable: {reason}")


def _canonical_cbor(obj) -> bytes:
    import cbor2

    return cbor2.dumps(obj, canonical=True)


def _decode_value(data: bytes):
    """Decode CBOR from the app with the ledger codec (which refuses surprise tags)."""
    from ledger_store.codec import decode_value

    try:
        return decode_value(data)
    except Exception as e:  # noqa: BLE001 - EncodingError or cbor2's many error types
        raise NodeError(f"the node's app returned undecodable CBOR ({e})") from None


class NodeClient:
    """A client of one node. ``key`` (a ``pycontract.node.keys.Key``) is needed to send
    transactions, not to query.

    >>> c = NodeClient("http://127.0.0.1:26657", key=Key.load("alice.json"))
    >>> r = c.deploy("coin", open("coin.py").read(), args={"supply": 100})
    >>> c.query("coin", "balance_of", {"who": c.address})
    """

    def __init__(self, url: str, key=None, *, timeout: float = DEFAULT_TIMEOUT,
                 commit_timeout: float = DEFAULT_COMMIT_TIMEOUT, chain_id: str | None = None):
        url = url.strip()
        if "://" not in url:
            url = "http://" + url
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.commit_timeout = commit_timeout
        self._chain_id = chain_id
        self._ids = itertools.count(1)
        self._next_nonce: int | None = None

    # ------------------------------------------------------------------ JSON-RPC

    def rpc(self, method: str, **params) -> Any:
        """One JSON-RPC call; returns ``result`` or raises NodeError / NodeUnavailable."""
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        req = urllib.request.Request(
            self.url, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:  # CometBFT answers RPC errors with HTTP 500 + a body
            raw = e.read()
            if not raw:
                raise NodeError(f"node {self.url}: HTTP {e.code} {e.reason}") from None
        except urllib.error.URLError as e:
            reason = e.reason
            raise NodeUnavailable(self.url, getattr(reason, "strerror", None) or str(reason)) from None
        except (TimeoutError, ConnectionError, OSError) as e:
            raise NodeUnavailable(self.url, getattr(e, "strerror", None) or str(e) or type(e).__name__) from None
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise NodeError(f"node {self.url}: not a JSON-RPC reply to {method}") from None
        if not isinstance(doc, dict):
            raise NodeError(f"node {self.url}: not a JSON-RPC reply to {method}")
        if doc.get("error"):
            err = doc["error"]
            detail = err.get("data") or err.get("message") or str(err)
            raise NodeError(f"node {self.url}: {method}: {detail}")
        if "result" not in doc:
            raise NodeError(f"node {self.url}: not a JSON-RPC reply to {method}")
        return doc["result"]

    # ------------------------------------------------------------------ chain info

    def status(self) -> dict:
        """{"height": int, "app_hash": hex (lower case), "chain_id", "catching_up"}."""
        r = self.rpc("status")
        try:
            si = r["sync_info"]
            return {
                "height": int(si["latest_block_height"]),
                "app_hash": si["latest_app_hash"].lower(),
                "chain_id": r["node_info"]["network"],
                "catching_up": bool(si["catching_up"]),
            }
        except (KeyError, TypeError, ValueError):
            raise NodeError(f"node {self.url}: malformed status reply") from None

    @property
    def chain_id(self) -> str:
        if self._chain_id is None:
            self._chain_id = self.status()["chain_id"]
        return self._chain_id

    @property
    def address(self) -> str:
        if self.key is None:
            raise NodeError("no key: sending a transaction needs a key file")
        return self.key.address

    def block(self, height: int) -> dict:
        """{"height", "hash" (block id), "app_hash", "time"} of a committed block."""
        r = self.rpc("block", height=str(int(height)))
        h = r["block"]["header"]
        return {"height": int(h["height"]), "hash": r["block_id"]["hash"].lower(),
                "app_hash": h["app_hash"].lower(), "time": h["time"]}

    # ------------------------------------------------------------------ ABCI queries

    def abci_query(self, path: str, data: bytes) -> dict:
        """The raw ABCI query response: {"code": int, "log": str, "value": bytes}."""
        r = self.rpc("abci_query", path=path, data=data.hex(), height="0", prove=False)
        resp = r.get("response", {})
        value = resp.get("value")
        return {
            "code": int(resp.get("code", 0) or 0),
            "log": resp.get("log", "") or "",
            "value": base64.b64decode(value) if value else b"",
        }

    def nonce(self, address: str) -> int:
        """The next nonce the app expects from ``address`` (committed state)."""
        r = self.abci_query("/nonce", address.encode("utf-8"))
        if r["code"] != 0:
            raise NodeError(f"node {self.url}: /nonce: {r['log'] or 'code ' + str(r['code'])}")
        value = _decode_value(r["value"])
        if type(value) is not int or value < 0:
            raise NodeError(f"node {self.url}: /nonce returned {value!r}, not a nonce")
        return value

    def query(self, contract: str, function: str, args: dict | None = None, *, gas_limit: int | None = None):
        """Run a view against committed state; its value, or ``pycontract.QueryError``."""
        req = {"contract": contract, "function": function, "args": dict(args or {})}
        if gas_limit is not None:
            req["gas_limit"] = int(gas_limit)
        r = self.abci_query("/query", _canonical_cbor(req))
        if r["code"] != 0:
            raise _query_error(r["log"] or f"query failed with code {r['code']}")
        return _decode_value(r["value"]) if r["value"] else None

    def receipt(self, tx_hash: str):
        """The committed Receipt of a transaction, or None when the app does not know it yet."""
        r = self.abci_query("/receipt", bytes.fromhex(_strip_hash(tx_hash)))
        if r["code"] != 0:
            if "unknown transaction" in r["log"]:
                return None
            raise NodeError(f"node {self.url}: /receipt: {r['log'] or 'code ' + str(r['code'])}")
        return _receipt_from(_decode_value(r["value"]))

    # ------------------------------------------------------------------ transactions

    def broadcast(self, raw: bytes) -> str:
        """``broadcast_tx_sync``: the tx hash (lower-case hex). A CheckTx refusal raises
        TxRejected (with the app's reason)."""
        r = self.rpc("broadcast_tx_sync", tx=base64.b64encode(raw).decode())
        tx_hash = (r.get("hash") or hashlib.sha256(raw).hexdigest()).lower()
        code = int(r.get("code", 0) or 0)
        if code != 0:
            raise TxRejected(tx_hash, r.get("log") or f"refused by CheckTx (code {code})", code)
        return tx_hash

    def wait_for(self, tx_hash: str, *, timeout: float | None = None) -> dict:
        """Poll ``tx?hash=`` until the transaction is in a committed block (bounded).
        Returns {"height", "index", "code", "log", "data" (bytes)}."""
        timeout = self.commit_timeout if timeout is None else timeout
        h = _strip_hash(tx_hash)
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            try:
                r = self.rpc("tx", hash=base64.b64encode(bytes.fromhex(h)).decode(), prove=False)
            except NodeUnavailable:
                raise
            except NodeError as e:
                if "not found" not in str(e):
                    raise
            else:
                res = r.get("tx_result", {})
                return {
                    "height": int(r["height"]),
                    "index": int(r.get("index", 0) or 0),
                    "code": int(res.get("code", 0) or 0),
                    "log": res.get("log", "") or "",
                    "data": base64.b64decode(res["data"]) if res.get("data") else b"",
                }
            if time.monotonic() >= deadline:
                raise NodeError(f"node {self.url}: transaction 0x{h} not committed within {timeout:g} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _send(self, *, kind: str, contract: str, function: str, args: dict | None,
              gas_limit: int, source: str | None = None):
        from pycontract.node import envelope

        key = self.key
        if key is None:
            raise NodeError("no key: sending a transaction needs a key file")
        chain_nonce = self.nonce(key.address)
        nonce = chain_nonce if self._next_nonce is None else max(chain_nonce, self._next_nonce)
        raw = envelope.sign(
            key, chain_id=self.chain_id, nonce=nonce, gas_limit=int(gas_limit), kind=kind,
            contract=contract, function=function, args=dict(args or {}), source=source,
        )
        try:
            tx_hash = self.broadcast(raw)
        except TxRejected as e:
            self._next_nonce = None  # our guess may be what was wrong: ask the chain next time
            return _rejected(e.tx_hash, e.reason)
        self._next_nonce = nonce + 1
        self.wait_for(tx_hash)
        deadline = time.monotonic() + self.commit_timeout
        while True:  # the block is committed; the app answers once its Commit has run
            rec = self.receipt(tx_hash)
            if rec is not None:
                return rec
            if time.monotonic() >= deadline:
                raise NodeError(f"node {self.url}: no receipt for committed transaction 0x{tx_hash}")
            time.sleep(0.05)

    def deploy(self, name: str, source: str, *, args: dict | None = None,
               gas_limit: int = DEFAULT_DEPLOY_GAS):
        """Deploy ``source`` as contract ``name``; the committed Receipt."""
        return self._send(kind="deploy", contract=name, function="constructor", args=args,
                          gas_limit=gas_limit, source=source)

    def call(self, contract: str, function: str, args: dict | None = None, *,
             gas_limit: int = DEFAULT_CALL_GAS):
        """Call a public function; the committed Receipt."""
        return self._send(kind="call", contract=contract, function=function, args=args,
                          gas_limit=gas_limit)


class TxRejected(NodeError):
    """CheckTx refused a transaction (it never reached a block)."""

    def __init__(self, tx_hash: str, reason: str, code: int = 1):
        self.tx_hash = tx_hash
        self.reason = reason
        self.code = code
        super().__init__(f"transaction 0x{tx_hash} rejected: {reason}")


def _strip_hash(h: str) -> str:
    h = h.strip().lower()
    if h.startswith("0x"):
        h = h[2:]
    if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise NodeError(f"{h!r} is not a transaction hash (64 hex digits)")
    return h


def _query_error(log: str):
    """pycontract.QueryError from the app's one-line log ("STATUS: message" when it says so)."""
    from pycontract import QueryError

    status, sep, message = log.partition(": ")
    if sep and status in ("reverted", "out_of_gas", "rejected"):
        return QueryError(status, message)
    return QueryError("rejected", log)


def _rejected(tx_hash: str, reason: str):
    from pycontract import Receipt

    return Receipt(status="rejected", gas_used=0, result=None, error=reason, events=[],
                   tx_hash=tx_hash, height=None, index=None)


def _receipt_from(doc) -> Any:
    """pycontract.Receipt from the app's /receipt CBOR map."""
    from pycontract import Receipt
    from pycontract.host import Event

    if not isinstance(doc, dict):
        raise NodeError(f"/receipt returned {type(doc).__name__}, not a receipt")
    try:
        events = [Event(e["contract"], e["name"], e["fields"]) for e in doc.get("events") or []]
        return Receipt(
            status=doc["status"], gas_used=doc["gas_used"], result=doc.get("result"),
            error=doc.get("error"), events=events, tx_hash=doc.get("tx_hash", ""),
            height=doc.get("height"), index=doc.get("index"),
        )
    except (KeyError, TypeError) as e:
        raise NodeError(f"/receipt returned a malformed receipt ({e})") from None
