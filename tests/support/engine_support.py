"""Contract sources and helpers shared by the engine tests."""

from __future__ import annotations

import textwrap
from importlib.resources import files

def example(name: str) -> str:
    return files("pycontract.examples").joinpath(name).read_text(encoding="utf-8")


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip()


COUNTER = src(
    """
    from pycontract import Map, Value, ctx, emit, public, require, revert, view

    count = Value(default=0)
    notes = Map(default="")


    @public
    def bump(by: int) -> int:
        count.set(count.get() + by)
        emit("Bumped", by=by, total=count.get())
        return count.get()


    @public
    def bump_then_fail(by: int) -> int:
        count.set(count.get() + by)
        notes["last"] = "written before the failure"
        emit("Bumped", by=by, total=count.get())
        require(by < 0, "by must be negative")
        return count.get()


    @public
    def bump_then_spin(by: int, n: int) -> int:
        count.set(count.get() + by)
        i = 0
        while i < n:
            i += 1
        return i


    @public
    def note(key: str, text: str) -> None:
        notes[key] = text


    @public
    def typed(a: int, b: str, c: bool, d: bytes, e: list, f: dict, g: int = 7) -> list:
        return [a, b, c, d, e, f, g]


    @view
    def get() -> int:
        return count.get()


    @view
    def read_note(key: str) -> str:
        return notes[key]


    @view
    def sneaky_write(by: int) -> int:
        count.set(by)
        return by


    @view
    def spin(n: int) -> int:
        i = 0
        while i < n:
            i += 1
        return i


    @view
    def who() -> dict:
        return {"sender": ctx.sender, "origin": ctx.origin, "this": ctx.this,
                "height": ctx.block_height, "time": ctx.block_time}


    def helper() -> int:
        return 42
    """
)




def worker_result(**fields) -> list:
    """A block reply's transaction result as the worker sends it (an array in the order of
    ``protocol.RESULT_FIELDS``) from named fields; ``events``/``writes`` given as triples are
    flattened as the worker does. Defaults: a successful call of "attacker" with no output."""
    from pycontract.worker import protocol

    r = {"status": "success", "gas_used": 10, "result": None, "error": None, "events": [],
         "writes": [], "deployed": None, "touched": ["attacker"]}
    r.update(fields)
    for name in ("events", "writes"):
        v = r[name]
        if type(v) is list and all(type(t) is list and len(t) == 3 for t in v):
            r[name] = [x for t in v for x in t]
    return [r[f] for f in protocol.RESULT_FIELDS]
