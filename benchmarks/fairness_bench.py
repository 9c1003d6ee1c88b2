"""Section 4 of the benchmarks: gas fairness (issue 6 item 4).

Every public function of workloads/fairness.py (but ``noop``) loops until it is out of gas at
the same limit, each in a fresh chain (so the worker's peak RSS is that workload's). Reported per
workload: nanoseconds per gas with the time of an empty transaction (``noop``, measured in the
same chain just before) subtracted, so the fixed per-transaction cost (IPC, namespace, commit)
does not inflate small transactions; and the worker's peak RSS. Workloads that end after using
less than half the limit (refused early by a limit: int cap, memory, nesting) do not measure
gas against time and are listed separately, outside the worst/median figure.
"""

from __future__ import annotations

import ast
import statistics
import tempfile

from benchmarks.common import WORKLOADS, median_time, new_chain, table, worker_peak_rss_mib



def fairness_functions() -> list[str]:
    tree = ast.parse((WORKLOADS / "fairness.py").read_text())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name != "noop"
            and any(getattr(d, "id", None) == "public" for d in n.decorator_list)]


def bench_fairness(quick: bool, repeats: int, gas_limit: int | None = None) -> dict:
    from pycontract.metering.schedule import GAS_SCHEDULE_VERSION

    gas_limit = gas_limit or (1_000_000 if quick else 10_000_000)
    source = (WORKLOADS / "fairness.py").read_text()
    rows, out, refused = [], {}, {}
    for fn in fairness_functions():
        with tempfile.TemporaryDirectory() as tmp, new_chain(tmp) as chain:
            r = chain.deploy("fair", source, sender="bench", gas_limit=100_000_000)
            assert r.status == "success", r.error
            base = median_time(
                lambda: chain.call("fair", "noop", {}, sender="bench", gas_limit=gas_limit),
                max(3, repeats))
            receipts = []

            def run():
                receipts.append(chain.call("fair", fn, {}, sender="bench", gas_limit=gas_limit))

            elapsed = median_time(run, repeats)
            last = receipts[-1]
            peak = worker_peak_rss_mib(chain)
            work = max(elapsed - base, 0.0)
            rec = {"status": last.status, "gas_used": last.gas_used, "ms": elapsed * 1e3,
                   "baseline_ms": base * 1e3,
                   "ns_per_gas": work * 1e9 / max(last.gas_used, 1), "peak_rss_mib": peak,
                   "error": last.error}
            (out if last.gas_used * 2 >= gas_limit else refused)[fn] = rec
    med = statistics.median(v["ns_per_gas"] for v in out.values())
    worst_fn = max(out, key=lambda k: out[k]["ns_per_gas"])
    for fn, v in sorted(out.items(), key=lambda kv: -kv[1]["ns_per_gas"]):
        rows.append([fn, v["status"], v["gas_used"], v["ms"], v["ns_per_gas"],
                     v["ns_per_gas"] / med, "" if v["peak_rss_mib"] is None else v["peak_rss_mib"],
                     (v["error"] or "")[:50]])
    print(table(f"Gas fairness at a {gas_limit:,} gas limit, schedule v{GAS_SCHEDULE_VERSION} "
                f"(ns/gas after subtracting an empty transaction)",
                ["workload", "status", "gas used", "ms", "ns/gas", "x median", "peak MiB",
                 "error"], rows))
    if refused:
        print(table("Refused before using half the limit (not in the ratio)",
                    ["workload", "status", "gas used", "ms", "error"],
                    [[fn, v["status"], v["gas_used"], v["ms"], (v["error"] or "")[:60]]
                     for fn, v in refused.items()]))
    worst = out[worst_fn]["ns_per_gas"] / med
    peak_all = max((v["peak_rss_mib"] or 0) for v in {**out, **refused}.values())
    print(f"\nworst/median ns per gas: {worst:.2f} ({worst_fn}); target <= 10; "
          f"highest worker peak RSS {peak_all:.1f} MiB (target <= 256)")
    return {"gas_limit": gas_limit, "schedule": GAS_SCHEDULE_VERSION, "workloads": out,
            "refused": refused, "median_ns_per_gas": med, "worst_over_median": worst,
            "worst": worst_fn, "peak_rss_mib": peak_all}
