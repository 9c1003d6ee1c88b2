"""Runs generated programs as plain CPython and through the engine, and compares the outcomes.

An outcome is a small tuple that means the same in both worlds:

* ``("value", tagged)``: the function returned; ``tagged`` tells bool from int, list from str...
* ``("raise", "ValueError")``: an exception escaped (in the engine: a revert naming the class);
* ``("reverted", message)``: require/revert failed;
* ``("limit", message)``: the engine stopped at a documented limit (gas, int size, memory,
  depth). Never a mismatch: plain CPython has no such limits.

Only the public surface is used: ``pycontract.Chain``/``Tx`` and the plain-mode authoring API.
"""

from __future__ import annotations

import re
import signal
import time
from dataclasses import dataclass, field

from pycontract import Chain, Tx  # noqa: F401  (Chain: the type the caller passes in)
from pycontract import api
from pycontract.errors import Reverted

from fuzz_gen import DOCUMENTED_DEVIATIONS

#: engine revert messages that mean "a documented limit was reached" (docs/gas.md, limits)
LIMIT_PATTERNS = (
    r"int too large \(limit \d+ bits\)",
    r"call depth limit of \d+ exceeded",
    r"iterator nesting depth limit of \d+ exceeded",
    r"containers nested more than \d+ levels deep",
    r"format width or precision above \d+",
    r"memory limit exceeded \(\d+ bytes per transaction\)",
    r"key tuples nested more than \d+ levels deep",
)

#: how a plain-Python result maps to what the engine returns (storable values only): the
#: canonical encoding has no tuple, so a tuple comes back as a list
STORABLE_FORM = {tuple: list}

CALL_GAS = 3_000_000
_ERR = re.compile(r"^[^\n:]*:\d+: (?P<rest>.*)\Z", re.S)
_EXC = re.compile(r"^(?P<cls>(?:[A-Z][A-Za-z]*)?(?:Error|Exception))(?::\s(?P<msg>.*))?\Z",
                  re.S)


def tag(v, depth=0):
    """A comparison key that tells bool from int and list from tuple (after STORABLE_FORM)."""
    if depth > 80:
        return ("deep",)
    for src, dst in STORABLE_FORM.items():
        if type(v) is src:
            v = dst(v)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, list):
        return ("list", tuple(tag(x, depth + 1) for x in v))
    if isinstance(v, dict):
        items = [(tag(k, depth + 1), tag(x, depth + 1)) for k, x in v.items()]
        if "dict_result_key_order" in DOCUMENTED_DEVIATIONS:
            items.sort(key=repr)
        return ("dict", tuple(items))
    return (type(v).__name__, v)


def classify_engine(status: str, error: str | None, result) -> tuple:
    if status == "success":
        return ("value", tag(result))
    if status == "out_of_gas":
        return ("limit", "out_of_gas")
    if status != "reverted":
        return ("engine-" + status, error)
    text = error or ""
    m = _ERR.match(text)
    rest = m.group("rest") if m else text
    for pat in LIMIT_PATTERNS:
        if re.fullmatch(pat, rest):
            return ("limit", rest)
    e = _EXC.match(rest)
    if e:
        return ("raise", e.group("cls"))
    return ("reverted", rest)


class PlainTimeout(Exception):
    """A plain-Python call ran longer than PLAIN_SECONDS (the engine would run out of gas)."""


PLAIN_SECONDS = 5.0


def _alarm(_sig, _frame):
    raise PlainTimeout()


def classify_plain(fn) -> tuple:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, PLAIN_SECONDS)
    try:
        return _classify_plain(fn)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _classify_plain(fn) -> tuple:
    try:
        return ("value", tag(fn()))
    except PlainTimeout:
        return ("limit", "plain timeout")
    except Reverted as e:
        return ("reverted", getattr(e, "message", str(e)))
    except RecursionError:
        return ("limit", "RecursionError")
    except MemoryError:
        return ("limit", "MemoryError")
    except ValueError as e:
        if "Exceeds the limit" in str(e) and "digits" in str(e):  # CPython's int->str limit
            return ("limit", str(e))
        return ("raise", type(e).__name__)
    except Exception as e:  # noqa: BLE001 - every ordinary exception is an outcome
        return ("raise", type(e).__name__)


def run_plain(source: str, names: list[str]) -> list[tuple]:
    """Exec ``source`` as an ordinary module and call each function in order."""
    api.reset()
    ns: dict = {"__name__": "fuzz_contract"}
    exec(compile(source, "<fuzz_contract>", "exec"), ns)  # noqa: S102 - our own generated code
    out = []
    for n in names:
        api.clear_events()
        o = classify_plain(ns[n])
        events = [(e.name, tag(e.fields)) for e in api.events] if o[0] == "value" else []
        out.append((o, events))
    return out


@dataclass
class EngineRun:
    deploy_status: str
    deploy_error: str | None
    outcomes: list = field(default_factory=list)  # (outcome, events)
    gas: list = field(default_factory=list)
    receipts: list = field(default_factory=list)


_counter = [0]


def run_engine(chain, source: str, names: list[str], gas_limit: int = CALL_GAS) -> EngineRun:
    """Deploy ``source`` and call every function, all in one block (one worker round trip)."""
    _counter[0] += 1
    cname = f"fz{_counter[0]}"
    txs = [Tx(sender="alice", contract=cname, source=source, gas_limit=20_000_000)]
    txs += [Tx(sender="alice", contract=cname, function=n, gas_limit=gas_limit) for n in names]
    rs = chain.execute_block(txs)
    run = EngineRun(rs[0].status, rs[0].error)
    if rs[0].status != "success":
        return run
    for r in rs[1:]:
        o = classify_engine(r.status, r.error, r.result)
        events = [(e.name, tag(e.fields)) for e in r.events] if o[0] == "value" else []
        run.outcomes.append((o, events))
        run.gas.append(r.gas_used)
        run.receipts.append((r.status, r.error, r.result))
    return run


@dataclass
class Mismatch:
    function: str
    program: str
    plain: tuple
    engine: tuple

    def render(self) -> str:
        return (f"--- {self.function}: plain {self.plain!r}\n    engine {self.engine!r}\n"
                f"{self.program}")


#: known mismatches (fuzz_gen.KNOWN_BUGS keys) the generator cannot fully avoid, recognised by
#: their outcomes instead: (plain outcome, engine outcome) -> True when it is that bug
KNOWN_BUG_SIGNATURES = {
    "unbound_local_class": lambda p, e: p == ("raise", "UnboundLocalError")
    and e == ("raise", "NameError"),
}


def compare(functions: list[str], names: list[str], plain: list, eng: EngineRun,
            tolerate=None) -> list[Mismatch]:
    """Mismatches of one batch; ``tolerate``: KNOWN_BUGS keys whose signature is not reported
    (default: every known bug that is still listed)."""
    from fuzz_gen import KNOWN_BUGS

    sigs = [KNOWN_BUG_SIGNATURES[k] for k in (KNOWN_BUGS if tolerate is None else tolerate)
            if k in KNOWN_BUG_SIGNATURES and k in KNOWN_BUGS]
    if eng.deploy_status != "success":
        return [Mismatch("<deploy>", "\n\n".join(functions), ("deploy", "success"),
                         ("deploy", eng.deploy_status, eng.deploy_error))]
    out = []
    for f, n, p, e in zip(functions, names, plain, eng.outcomes):
        if e[0][0] == "limit":
            continue
        if p != e and not any(sig(p[0], e[0]) for sig in sigs):
            out.append(Mismatch(n, f, p, e))
    return out


@dataclass
class Stats:
    programs: int = 0
    agreed: int = 0
    limits: int = 0
    mismatches: list = field(default_factory=list)
    seconds: float = 0.0
    kinds: dict = field(default_factory=dict)

    def line(self) -> str:
        return (f"{self.programs} programs, {self.agreed} agree, {self.limits} at engine limits, "
                f"{len(self.mismatches)} mismatches, {self.seconds:.1f}s; outcomes {self.kinds}")


def _names(functions):
    return [f.split("def ", 1)[1].split("(", 1)[0] for f in functions]


def check_batch(chain, functions: list[str], module, stats: Stats | None = None,
                tolerate=None) -> list[Mismatch]:
    """Run one batch both ways; return its mismatches (and count into ``stats``)."""
    t0 = time.perf_counter()
    names = _names(functions)
    source = module(functions)
    plain = [o for o in run_plain(source, names)]
    eng = run_engine(chain, source, names)
    mism = compare(functions, names, plain, eng, tolerate)
    if stats is not None:
        stats.programs += len(functions)
        stats.seconds += time.perf_counter() - t0
        for (o, _ev) in eng.outcomes:
            stats.kinds[o[0]] = stats.kinds.get(o[0], 0) + 1
            if o[0] == "limit":
                stats.limits += 1
        stats.agreed += len(functions) - len(mism) - sum(
            1 for (o, _e) in eng.outcomes if o[0] == "limit")
        stats.mismatches.extend(mism)
    return mism
