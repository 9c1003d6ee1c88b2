"""The author's test kit: a real engine chain with contract handles, ``reverts``, mining,
time travel and snapshots (SPEC.md section 5, "Testing").

Installed with the package; the pytest plugin (:mod:`pycontract.pytest_plugin`) gives every
test a fresh ``chain`` fixture built from :class:`TestChain`::

    from pycontract.testing import reverts

    def test_transfer(chain):
        token = chain.deploy_file("coin.py", sender="alice", args={"supply": 100})
        receipt = token.transfer(to="bob", amount=5, sender="alice")   # the Receipt
        assert token.balance_of(owner="bob") == 5                      # a view: its value
        with reverts("insufficient balance"):
            token.transfer(to="carol", amount=10_000, sender="bob")

Everything runs through the real engine (vetting, gas, the sandbox worker, a SQLite ledger in a
temporary directory), so a test that passes here passes on a node. A transaction that does not
succeed raises :class:`TransactionFailed` (an ``AssertionError``, so pytest shows it as a failed
assertion with the contract line) unless it is inside ``reverts(...)`` or called with
``check=False``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["TestChain", "ContractHandle", "TransactionFailed", "reverts", "Snapshot",
           "error_reason"]

_ERROR_RE = re.compile(r"^(?P<contract>[^\s:]+):(?P<line>\d+): (?P<reason>.*)$", re.S)


def error_reason(error: str | None) -> str:
    """The bare message of an engine error: ``"token:67: insufficient balance"`` ->
    ``"insufficient balance"`` (other texts unchanged)."""
    if not error:
        return ""
    m = _ERROR_RE.match(error)
    return m.group("reason") if m else error


def _error_line(error: str | None) -> tuple[str, int] | None:
    m = _ERROR_RE.match(error or "")
    return (m.group("contract"), int(m.group("line"))) if m else None


class TransactionFailed(AssertionError):
    """A transaction or query through a handle did not succeed.

    ``status`` ("reverted", "out_of_gas", "rejected"), ``error`` (the engine's text, e.g.
    ``"token:67: insufficient balance"``), ``reason`` (``"insufficient balance"``), ``receipt``
    (None for a query) and ``what`` (``"token.transfer(to='bob', amount=5) from alice"``).
    """

    def __init__(self, what: str, status: str, error: str | None, receipt=None,
                 source_line: str | None = None):
        self.what, self.status, self.error, self.receipt = what, status, error, receipt
        self.reason = error_reason(error)
        text = f"{what} {status}: {error or status}"
        if source_line is not None:
            where = _error_line(error)
            text += f"\n    {where[1]:>4} | {source_line.rstrip()}"
        super().__init__(text)


class _Reverts:
    """What ``with reverts(...) as r`` gives: after the block, ``r.error`` is the
    :class:`TransactionFailed` that was expected."""

    def __init__(self, message, match, status):
        self.message, self.match, self.status = message, match, status
        self.error: TransactionFailed | None = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        want = self._describe()
        if exc_type is None:
            raise AssertionError(f"expected a revert {want}, but the transaction succeeded")
        from pycontract.errors import ContractAbort

        if isinstance(exc, ContractAbort):  # plain mode: a contract file's entry point failed
            exc = TransactionFailed("plain-mode call", exc.status, exc.message)
        elif not isinstance(exc, TransactionFailed):
            return False  # someone else's error: let it through unchanged
        if self.status is not None and exc.status != self.status:
            raise AssertionError(f"expected {want}, got {exc}") from exc
        if self.status is None and exc.status == "rejected":
            raise AssertionError(
                f"expected a revert {want}, but the transaction was rejected before running "
                f"(pass status='rejected' to expect that): {exc}") from exc
        if self.message is not None and exc.reason != self.message:
            raise AssertionError(
                f"expected a revert with {self.message!r}, got {exc.reason!r}\n  {exc}") from exc
        if self.match is not None and not re.search(self.match, exc.error or ""):
            raise AssertionError(
                f"expected a revert matching {self.match!r}, got {exc.error!r}") from exc
        self.error = exc
        return True

    def _describe(self) -> str:
        parts = []
        if self.message is not None:
            parts.append(f"with {self.message!r}")
        if self.match is not None:
            parts.append(f"matching {self.match!r}")
        if self.status is not None:
            parts.append(f"(status {self.status})")
        return " ".join(parts) or "(any message)"


def reverts(message: str | None = None, *, match: str | None = None,
            status: str | None = None) -> _Reverts:
    """Context manager: the block must end in a failed transaction or query.

    ``reverts("insufficient balance")`` wants exactly that revert message (the text after
    ``contract:line:``); ``match=`` a regular expression searched in the whole error;
    ``status=`` "reverted" / "out_of_gas" / "rejected" (by default a revert or out-of-gas, not a
    rejection). :class:`TransactionFailed` is caught, and in plain mode the ``Reverted`` of a
    contract file's entry point; any other error passes through."""
    return _Reverts(message, match, status)


# ------------------------------------------------------------------------- handles


def _fmt_call(contract: str, function: str, args: dict, sender: str | None) -> str:
    inner = ", ".join(f"{k}={v!r}" for k, v in args.items())
    who = f" from {sender}" if sender is not None else ""
    return f"{contract}.{function}({inner}){who}"


class ContractHandle:
    """A deployed contract: ``handle.fn(arg=..., sender=...)``.

    A public function sends a transaction and returns its Receipt; a view runs as a query and
    returns its value (``handle.fn.call(...)`` sends a view as a transaction instead). Keyword
    options besides the contract's arguments: ``sender`` (default: the chain's
    ``default_sender``), ``gas_limit``, ``check`` (False: return a failed receipt instead of
    raising). Positional arguments follow the function's parameter order.
    """

    def __init__(self, chain: "TestChain", name: str):
        object.__setattr__(self, "_chain", chain)
        object.__setattr__(self, "name", name)

    @property
    def entry_points(self) -> dict:
        rec = self._chain.chain.contract(self.name)
        return dict(rec.entry_points or {}) if rec is not None else {}

    @property
    def source(self) -> str:
        return self._chain.chain.contract(self.name).source

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        ep = self.entry_points.get(function)
        if ep is None or ep.get("kind") not in ("public", "view"):
            public = sorted(k for k, v in self.entry_points.items()
                            if v.get("kind") in ("public", "view"))
            raise AttributeError(
                f"contract {self.name!r} has no public or view function {function!r}; it has: "
                f"{', '.join(public) or 'none'}")
        return _BoundFunction(self, function, ep)

    def __setattr__(self, name, value):
        raise AttributeError("contract handles are read-only")

    def call(self, function: str, args: dict | None = None, **options):
        """Send ``function`` as a transaction (public or view); return the Receipt."""
        return self._chain.call(self.name, function, args, **options)

    def query(self, function: str, args: dict | None = None, **options):
        """Run view ``function`` against the committed state; return its value."""
        return self._chain.query(self.name, function, args, **options)

    def storage(self) -> dict:
        """This contract's committed storage, decoded (see :mod:`pycontract.inspect`)."""
        from pycontract import inspect as _inspect

        return _inspect.storage(self._chain.chain._live(), self.name)  # noqa: SLF001

    def __repr__(self):
        return f"<contract {self.name!r} on {self._chain!r}>"


class _BoundFunction:
    def __init__(self, handle: ContractHandle, function: str, ep: dict):
        self.handle, self.function, self.ep = handle, function, ep
        self.params = [p[0] for p in ep.get("params") or []]

    def _args(self, pos, kw) -> dict:
        if len(pos) > len(self.params):
            raise TypeError(f"{self.handle.name}.{self.function}() takes {len(self.params)} "
                            f"arguments, {len(pos)} given")
        args = dict(zip(self.params, pos))
        for k in kw:
            if k in args:
                raise TypeError(f"{self.handle.name}.{self.function}() got {k!r} twice")
        args.update(kw)
        return args

    def __call__(self, *pos, sender=None, gas_limit=None, check=True, **kw):
        args = self._args(pos, kw)
        chain = self.handle._chain
        if self.ep.get("kind") == "view":
            if sender is not None:
                return chain.query(self.handle.name, self.function, args, gas_limit=gas_limit,
                                   sender=sender)
            return chain.query(self.handle.name, self.function, args, gas_limit=gas_limit)
        return chain.call(self.handle.name, self.function, args, sender=sender,
                          gas_limit=gas_limit, check=check)

    def call(self, *pos, sender=None, gas_limit=None, check=True, **kw):
        """Send this function (public or view) as a transaction; return the Receipt."""
        return self.handle._chain.call(self.handle.name, self.function, self._args(pos, kw),
                                       sender=sender, gas_limit=gas_limit, check=check)

    def __repr__(self):
        return f"<{self.ep.get('kind')} {self.handle.name}.{self.function}({', '.join(self.params)})>"


# ------------------------------------------------------------------------- the chain


class Snapshot:
    """A copy of the ledger at one height (``TestChain.snapshot()``)."""

    def __init__(self, path: str, height: int):
        self.path, self.height = path, height

    def __repr__(self):
        return f"Snapshot(height={self.height})"


class TestChain:
    """A fresh engine ledger for one test, with the conveniences tests need.

    ``TestChain(path=None, base_dir=None, default_sender="alice")``: ``path`` is the ledger file
    (a temporary directory by default, removed by ``close()``); relative contract paths are
    looked up in ``base_dir`` (the pytest fixture passes the test file's folder) and then in the
    current directory. ``chain.chain`` is the underlying :class:`pycontract.Chain`.
    """

    __test__ = False  # not a pytest test class despite its name

    def __init__(self, path: str | os.PathLike | None = None, *, base_dir=None,
                 default_sender: str = "alice", chain_id: str = "pycontract-local"):
        from pycontract.host import Chain

        self._tmpdir = tempfile.mkdtemp(prefix="pycontract-test-")
        self.path = os.path.abspath(os.fspath(path)) if path is not None else \
            os.path.join(self._tmpdir, "ledger.db")
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.default_sender = default_sender
        self.chain_id = chain_id
        self._snapshots = 0
        self.chain = Chain(self.path, chain_id=chain_id)

    # ---------------------------------------------------------------- lifetime
    def close(self) -> None:
        """Stop the worker, release the ledger and delete the temporary files."""
        if self.chain is not None:
            self.chain.close()
        shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"TestChain(height={self.chain.height})"

    # ---------------------------------------------------------------- state
    @property
    def height(self) -> int:
        return self.chain.height

    @property
    def time(self) -> int:
        """The last block's time (0 before the first block)."""
        head = self.chain._live().head  # noqa: SLF001
        return head.time if head is not None else 0

    def state_root(self) -> str:
        return self.chain.state_root()

    # ---------------------------------------------------------------- contracts
    def _resolve(self, path) -> Path:
        p = Path(path)
        if p.is_absolute():
            return p
        candidates = ([self.base_dir / p] if self.base_dir is not None else []) + [Path.cwd() / p]
        for c in candidates:
            if c.exists():
                return c
        raise FileNotFoundError(
            f"{path}: no such contract file (looked in "
            f"{', '.join(str(c.parent) for c in candidates)})")

    def deploy_file(self, path, *, name: str | None = None, sender: str | None = None,
                    args: dict | None = None, gas_limit: int | None = None,
                    time: int | None = None) -> ContractHandle:
        """Vet and deploy a contract file (named after the file's stem unless ``name``);
        return its handle. Vetting problems raise ``VetError`` naming ``FILE:LINE:COL``."""
        from pycontract.vetting import vet_file

        p = self._resolve(path)
        vet_file(p)  # problems reported against the author's own path
        return self.deploy(name or p.stem, p.read_text(encoding="utf-8"), sender=sender,
                           args=args, gas_limit=gas_limit, time=time)

    def deploy(self, name: str, source: str, *, sender: str | None = None,
               args: dict | None = None, gas_limit: int | None = None,
               time: int | None = None) -> ContractHandle:
        """Deploy ``source`` as ``name``; return its handle (a failed deploy raises)."""
        sender = sender if sender is not None else self.default_sender
        kw = {} if gas_limit is None else {"gas_limit": gas_limit}
        r = self.chain.deploy(name, source, sender=sender, args=args, time=time, **kw)
        self._check(r, f"deploy {name}" + _fmt_call("", "", args or {}, sender)[1:], True, name)
        return ContractHandle(self, name)

    def at(self, name: str) -> ContractHandle:
        """The handle of an already deployed contract."""
        if self.chain.contract(name) is None:
            raise LookupError(f"no contract named {name!r} on this chain")
        return ContractHandle(self, name)

    def call(self, contract: str, function: str, args: dict | None = None, *,
             sender: str | None = None, gas_limit: int | None = None, check: bool = True,
             time: int | None = None, profile: bool = False):
        """Send one transaction in a block of its own; return its Receipt (raising
        :class:`TransactionFailed` when it did not succeed, unless ``check=False``).
        ``profile=True`` fills ``receipt.profile`` (gas per source line, pycontract.profiler)."""
        sender = sender if sender is not None else self.default_sender
        kw = {} if gas_limit is None else {"gas_limit": gas_limit}
        if profile:
            kw["profile"] = True
        r = self.chain.call(contract, function, args, sender=sender, time=time, **kw)
        self._check(r, _fmt_call(contract, function, args or {}, sender), check, contract)
        return r

    def query(self, contract: str, function: str, args: dict | None = None, *,
              gas_limit: int | None = None, sender: str | None = None) -> Any:
        """Run a view; return its value. A revert raises :class:`TransactionFailed`."""
        from pycontract.errors import InvalidTransaction, QueryError

        kw = {} if gas_limit is None else {"gas_limit": gas_limit}
        if sender is not None:
            kw["sender"] = sender
        what = _fmt_call(contract, function, args or {}, None)
        try:
            return self.chain.query(contract, function, args, **kw)
        except QueryError as e:
            raise TransactionFailed(what, e.status, e.message,
                                    source_line=self._line_of(e.message)) from None
        except InvalidTransaction as e:
            raise TransactionFailed(what, "rejected", str(e)) from None

    def _line_of(self, error: str | None) -> str | None:
        where = _error_line(error)
        if where is None:
            return None
        rec = self.chain.contract(where[0])
        lines = rec.source.splitlines() if rec is not None else []
        return lines[where[1] - 1] if 0 < where[1] <= len(lines) else None

    def _check(self, r, what: str, check: bool, contract: str) -> None:
        if r.status != "success" and check:
            raise TransactionFailed(what, r.status, r.error, r, self._line_of(r.error))

    def execute_block(self, txs, *, time: int | None = None):
        """Several transactions in one block (``pycontract.Tx`` objects); the receipts."""
        return self.chain.execute_block(txs, time=time)

    # ---------------------------------------------------------------- blocks and time
    def mine(self, n: int = 1, *, seconds: int = 1) -> int:
        """Commit ``n`` empty blocks, each ``seconds`` after the previous; the new height."""
        if n < 0 or seconds < 0:
            raise ValueError("mine(n, seconds=) takes non-negative numbers")
        for _ in range(n):
            self.chain.begin_block([], time=self.time + seconds).commit()
        return self.height

    def warp(self, seconds: int) -> int:
        """Time travel: commit one empty block ``seconds`` after the last one; its time."""
        self.mine(1, seconds=seconds)
        return self.time

    # ---------------------------------------------------------------- snapshots
    def snapshot(self) -> Snapshot:
        """Copy the committed ledger (SQLite's online backup); ``rollback`` returns to it."""
        self._snapshots += 1
        dest = os.path.join(self._tmpdir, f"snapshot-{self._snapshots}.db")
        src = sqlite3.connect(Path(self.path).resolve().as_uri() + "?mode=ro", uri=True)
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return Snapshot(dest, self.height)

    def rollback(self, snap: Snapshot) -> None:
        """Return the ledger to ``snap`` (later blocks, deploys and storage are gone).
        Handles stay valid; a contract deployed after the snapshot no longer exists."""
        from pycontract.host import Chain

        self.chain.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path + suffix)
        shutil.copyfile(snap.path, self.path)
        self.chain = Chain(self.path, chain_id=self.chain_id)

    @contextlib.contextmanager
    def isolated(self):
        """``with chain.isolated(): ...`` runs the block, then rolls back to where it began."""
        snap = self.snapshot()
        try:
            yield self
        finally:
            self.rollback(snap)


# ------------------------------------------------------------------------- plain mode vs engine


def run_plain(blocks: list[dict], workdir) -> list[list[dict | None]]:
    """Run a conformance-style history (``[{"time", "height"?, "txs": [{sender, contract,
    function | source, args}]}]``, values in :func:`pycontract.conformance.to_json` form) in
    plain-Python mode; one list per block of ``{"status", "result", "error", "events"}``
    (JSON form) per transaction. Contract sources are written to ``workdir`` and loaded with
    :func:`pycontract.api.load_contract`. A deploy that fails vetting, or a call of a missing
    function, gives ``{"status": "rejected"}``; ``blocks[i]["skip"]`` (a set of tx indexes)
    leaves transactions out (None): what plain Python cannot run (gas, engine limits)."""
    from pycontract import api
    from pycontract.conformance import from_json, to_json
    from pycontract.errors import ContractAbort, PycontractError

    api.reset()
    modules: dict[str, Any] = {}
    out = []
    height = 0
    try:
        for block in blocks:
            height = block.get("height", height + 1)
            api.ctx.set(block_height=height, block_time=block["time"])
            skip = block.get("skip", ())
            receipts: list[dict | None] = []
            for i, tx in enumerate(block["txs"]):
                if i in skip:
                    receipts.append(None)
                    continue
                name, sender = tx["contract"], tx["sender"]
                args = from_json(tx.get("args") or {})
                api.clear_events()
                fn = None
                if "source" in tx:
                    path = Path(workdir) / f"{name}.py"
                    path.write_text(tx["source"], encoding="utf-8")
                    try:
                        module = api.load_contract(path, name)
                    except PycontractError as e:
                        receipts.append({"status": "rejected", "error": str(e)})
                        continue
                    modules[name] = module
                    fn = next((f for f in vars(module).values()
                               if callable(f) and api.entry_kind(f) == "constructor"), None)
                    if fn is None:
                        receipts.append({"status": "success", "result": None, "error": None,
                                         "events": []})
                        continue
                else:
                    module = modules.get(name)
                    f = getattr(module, tx.get("function", ""), None) if module else None
                    if f is None or api.entry_kind(f) not in ("public", "view"):
                        receipts.append({"status": "rejected"})
                        continue
                    fn = f
                try:
                    with api.ctx.using(sender=sender, origin=sender, this=name):
                        result = fn(**args)
                    r = {"status": "success", "result": to_json(result), "error": None,
                         "events": [{"contract": e.contract, "name": e.name,
                                     "fields": to_json(e.fields)} for e in api.events]}
                except ContractAbort as e:
                    r = {"status": e.status, "result": None, "error": e.message, "events": []}
                receipts.append(r)
            out.append(receipts)
    finally:
        api.reset()
    return out
