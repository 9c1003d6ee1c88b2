"""Gas per source line (``--profile``, ``Chain.call(..., profile=True)``, ``Receipt.profile``).

Three parts, one per side of the worker wall:

* ``LineProfiler`` runs in the worker, in profile mode only. It does not depend on how charges
  are emitted: it watches the meter's gas used at every line event of a contract frame
  (``sys.settrace``; a contract's code objects carry the contract name as their filename) and
  gives the gas used since the previous event to the previous (contract, line). Gas used before
  the first contract line (fixed per-transaction costs, argument and deploy charges) goes to
  line 0, "(transaction)"; when a contract frame returns, what follows goes to the calling
  contract line (a cross-contract call's return, a private function's caller); whatever is left
  at the end (out of gas: everything up to the limit) goes to the line that ran last. It only
  reads the meter, so gas, status, result and events are those of an unprofiled run.
* ``check_profile`` runs in the host: the rows are untrusted data like the rest of a reply, and
  rows that do not sum exactly to ``gas_used`` are a node fault.
* ``format_table`` / ``to_json`` present the validated rows.

The profile is not consensus data: it is never stored in the ledger, and which line a charge
lands on may differ between CPython versions (their line events differ); the sum never does.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

#: a code object of a contract has the contract's name as its filename (the worker compiles
#: each contract under its name); nothing else the worker runs has such a filename
_CONTRACT_FILE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
#: most rows a reply may carry (a bound for the host's check; lines per contract are bounded by
#: the source size limit, contracts per transaction by the call tree)
MAX_ROWS = 200_000


@dataclass(frozen=True)
class ProfileLine:
    """Gas paid on one source line of one contract during one transaction. ``line`` 0 is the
    transaction's own costs before any contract line ran; ``hits`` counts the line's line
    events (how many times it started running)."""

    contract: str
    line: int
    gas: int
    hits: int

    def to_dict(self) -> dict:
        return {"contract": self.contract, "line": self.line, "gas": self.gas, "hits": self.hits}


# ------------------------------------------------------------------------------- worker side


class LineProfiler:
    """Per-line gas of one transaction, observed from the meter (worker side).

    Use ``with prof:`` around the execution, then ``rows(gas_used)``."""

    def __init__(self, meter, contract: str, names=None):
        self.meter = meter
        #: the contracts that may run (the worker passes its TxHost's ``touched`` list, which
        #: names each contract before its code runs); None: any contract-like filename
        self.names = names
        self.key = (contract, 0)
        self.acc = {self.key: [0, 1]}  # (contract, line) -> [gas, hits]
        self.last = 0  # gas used at the previous event
        self._is_contract = {}  # filename -> bool (memo)
        self._active = False

    def _used(self) -> int:
        m = self.meter
        rem = m.saved if m.abort is not None and m.saved is not None else m.g
        return m.limit if rem < 0 else m.limit - rem

    def _flush(self) -> None:
        used = self._used()
        d = used - self.last
        if d:
            self.acc[self.key][0] += d
            self.last = used

    def _contract(self, code) -> bool:
        fn = code.co_filename
        if self.names is not None:
            return fn in self.names
        ok = self._is_contract.get(fn)
        if ok is None:
            ok = self._is_contract[fn] = _CONTRACT_FILE.match(fn) is not None
        return ok

    def _global(self, frame, event, arg):
        if self._contract(frame.f_code):
            return self._local
        return None

    def _local(self, frame, event, arg):
        if event == "line":
            self._flush()
            key = (frame.f_code.co_filename, frame.f_lineno)
            row = self.acc.get(key)
            if row is None:
                row = self.acc[key] = [0, 0]
            row[1] += 1
            self.key = key
        elif event == "return":
            # what runs next (until the next line event) is paid for by the calling contract
            # line: a cross-contract call's result, the charges after a private call returns
            self._flush()
            f = frame.f_back
            while f is not None:
                if self._contract(f.f_code):
                    key = (f.f_code.co_filename, f.f_lineno)
                    if key not in self.acc:
                        self.acc[key] = [0, 0]
                    self.key = key
                    break
                f = f.f_back
        return self._local

    def start(self) -> "LineProfiler":
        """Trace contract frames from now on (this thread); ``stop()`` ends it."""
        self._active = True
        sys.settrace(self._global)
        return self

    def stop(self) -> None:
        """Stop tracing (idempotent: also called on the paths that end in a worker fault, so a
        fault never leaves the next request traced)."""
        if self._active:
            sys.settrace(None)
            self._active = False
            self._flush()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def rows(self, gas_used: int) -> list:
        """The rows as plain data, ``[[contract, line, gas, hits], ...]`` heaviest first; what
        ``gas_used`` holds beyond what was observed goes to the last line (out of gas: the line
        that ran out). Raises RuntimeError (a worker fault) unless they sum to ``gas_used``."""
        self.stop()
        self._flush()
        rest = gas_used - sum(r[0] for r in self.acc.values())
        if rest < 0:  # observed more than the receipt says: a bug, never a quiet profile
            raise RuntimeError(f"profile rows do not add up to gas_used {gas_used} "
                               f"({-rest} gas more observed)")
        self.acc[self.key][0] += rest
        out = [[c, ln, g, h] for (c, ln), (g, h) in self.acc.items()
               if g != 0 or (ln != 0 and h != 0)]
        out.sort(key=lambda r: (-r[2], r[0], r[1]))
        if sum(r[2] for r in out) != gas_used or any(r[2] < 0 for r in out):
            raise RuntimeError(f"profile rows do not add up to gas_used {gas_used}")
        return out


# ------------------------------------------------------------------------------- host side


def check_profile(rows, gas_used: int, contracts) -> list:
    """Validate an untrusted profile from a worker reply: [ProfileLine], or raise NodeFault.
    ``contracts``: the names the transaction may have run (its call tree)."""
    from pycontract.errors import NodeFault

    def fault(msg):
        raise NodeFault(f"the sandbox worker sent an invalid profile: {msg}")

    if type(rows) is not list or len(rows) > MAX_ROWS:
        fault("not a list of bounded length")
    out = []
    seen = set()
    total = 0
    for r in rows:
        if type(r) is not list or len(r) != 4:
            fault("a row is not [contract, line, gas, hits]")
        c, ln, g, h = r
        if type(c) is not str or c not in contracts:
            fault(f"a row names contract {c!r}, which is not in the transaction's call tree")
        if type(ln) is not int or type(g) is not int or type(h) is not int \
                or ln < 0 or g < 0 or h < 0:
            fault("line, gas and hits must be non-negative ints")
        if (c, ln) in seen:
            fault(f"line {c}:{ln} appears twice")
        seen.add((c, ln))
        total += g
        out.append(ProfileLine(c, ln, g, h))
    if total != gas_used:
        fault(f"the rows sum to {total}, not to gas_used {gas_used}")
    out.sort(key=lambda p: (-p.gas, p.contract, p.line))
    return out


# ------------------------------------------------------------------------------- output


def to_json(profile) -> list:
    """JSON-able rows (``contract``, ``line``, ``gas``, ``hits``), heaviest first."""
    return [p.to_dict() for p in profile]


def source_line(source: str | None, line: int) -> str:
    if line == 0:
        return "(transaction)"
    if not source:
        return ""
    lines = source.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def format_table(profile, sources: dict, gas_used: int) -> str:
    """A table for people, heaviest first: gas, share, hits, CONTRACT:LINE and the line's
    source text (lines that cost nothing are left out). ``sources`` maps contract names to
    their source (missing: no text)."""
    from tabulate import tabulate

    body = []
    for p in profile:
        if p.gas == 0:
            continue  # lines that ran at no gas are in the JSON rows (hits), not here
        share = f"{100 * p.gas / gas_used:.1f}%" if gas_used else "-"
        where = f"{p.contract}:{p.line}" if p.line else p.contract
        body.append([f"{p.gas:,}", share, str(p.hits) if p.line else "",
                     where, source_line(sources.get(p.contract), p.line)])
    if not body:
        return "(no gas used)"
    return tabulate(body, headers=["gas", "share", "hits", "line", "source"],
                    tablefmt="simple", disable_numparse=True, colalign=(
                        "right", "right", "right", "left", "left"))


__all__ = ["ProfileLine", "LineProfiler", "check_profile", "to_json", "format_table", "MAX_ROWS"]
