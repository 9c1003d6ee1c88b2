"""Helpers shared by the benchmark sections: timing, tables, chains, worker memory."""

from __future__ import annotations

import types
import os
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "workloads"
RESULTS = HERE / "results"


def median_time(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs, in seconds."""
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def table(title: str, headers: list[str], rows: list[list]) -> str:
    """A plain-text table: no dependency, readable in a terminal and in markdown docs."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [f"\n## {title}", "| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in cells[1:]:
        lines.append("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths)) + " |")
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if value < 1 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def load_plain(path: Path):
    """The contract file run as plain CPython: the baseline every engine figure is compared
    with. Its source is executed from a string, so plain mode's per-transaction wrappers (vet on
    load, rollback on revert: pycontract.api) stay out of the baseline's timings."""
    module = types.ModuleType(f"plain_{path.stem}")
    exec(compile(path.read_text(), f"<plain {path.name}>", "exec"), module.__dict__)
    return module


def new_chain(tmp: str, name: str = "bench.db"):
    from pycontract import Chain

    return Chain(os.path.join(tmp, name))


def worker_peak_rss_mib(chain) -> float | None:
    """Peak resident memory of the chain's worker process (VmHWM), in MiB."""
    pid = getattr(chain, "worker_pid", None)
    if not pid:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
