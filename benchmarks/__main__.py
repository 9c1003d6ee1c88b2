"""pycontract benchmarks: one command, tables with ratios measured side by side in one run.

    python -m benchmarks            # everything (a few minutes on 2 cores)
    python -m benchmarks --quick    # smaller sizes, for a smoke run
    python -m benchmarks overhead fairness   # only some sections

Each figure is the median of several repeats; results are also written as JSON to
benchmarks/results/latest.json. See docs/benchmarks.md for the recorded numbers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import statistics
import sys
import tempfile
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
    """Import a contract file as ordinary Python (the authoring API in plain mode)."""
    spec = importlib.util.spec_from_file_location(f"plain_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def new_chain(tmp: str, name: str = "bench.db"):
    from pycontract import Chain

    return Chain(os.path.join(tmp, name))


BIG_GAS = 100_000_000  # the per-transaction maximum (pycontract.limits)

# -- 1. metering overhead --------------------------------------------------------------------

OVERHEAD_CASES = {
    # function: (full size, quick size)
    "loop_sum": (300_000, 30_000),
    "fib": (22, 16),
    "sieve": (200_000, 20_000),
    "transfers": (100_000, 10_000),
    "sorting": (50_000, 5_000),
    "comprehensions": (100_000, 10_000),
    "strings": (50_000, 5_000),
}


def bench_overhead(quick: bool, repeats: int) -> dict:
    source = (WORKLOADS / "overhead.py").read_text()
    plain = load_plain(WORKLOADS / "overhead.py")
    rows, ratios, out = [], [], {}
    with tempfile.TemporaryDirectory() as tmp, new_chain(tmp) as chain:
        r = chain.deploy("overhead", source, sender="bench", gas_limit=5_000_000)
        assert r.status == "success", r.error
        for fn, sizes in OVERHEAD_CASES.items():
            n = sizes[1] if quick else sizes[0]
            expected = getattr(plain, fn)(n)
            got = chain.query("overhead", fn, {"n": n}, gas_limit=BIG_GAS)
            assert got == expected, (fn, got, expected)
            t_plain = median_time(lambda: getattr(plain, fn)(n), repeats)
            t_engine = median_time(
                lambda: chain.query("overhead", fn, {"n": n}, gas_limit=BIG_GAS), repeats
            )
            gas = _query_gas(chain, "overhead", fn, {"n": n})
            ratio = t_engine / t_plain
            ratios.append(ratio)
            rows.append([fn, n, t_plain * 1e3, t_engine * 1e3, ratio, gas])
            out[fn] = {"n": n, "plain_ms": t_plain * 1e3, "engine_ms": t_engine * 1e3,
                       "ratio": ratio, "gas": gas}
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    rows.append(["geomean", "", "", "", geo, ""])
    out["geomean"] = geo
    print(table("Metering overhead (engine query vs the same file as plain CPython)",
                ["workload", "n", "plain ms", "engine ms", "ratio", "gas"], rows))
    return out


def _query_gas(chain, contract, fn, args) -> int:
    """Gas of a view, measured by running it as a transaction."""
    r = chain.call(contract, fn, args, sender="bench", gas_limit=BIG_GAS)
    return r.gas_used


# -- 2. throughput ----------------------------------------------------------------------------


def bench_throughput(quick: bool, repeats: int) -> dict:
    from pycontract import Tx

    token = (HERE.parent / "examples" / "token.py").read_text()
    blocks = 4 if quick else 20
    per_block = 500
    with tempfile.TemporaryDirectory() as tmp, new_chain(tmp) as chain:
        chain.deploy("token", token, sender="alice", args={"supply": 10**12},
                     gas_limit=5_000_000)
        txs = [Tx(sender="alice", contract="token", function="transfer",
                  args={"to": f"user{i}", "amount": 1}, gas_limit=100_000)
               for i in range(per_block)]
        chain.execute_block(txs)  # warm the worker and the code cache
        t0 = time.perf_counter()
        for _ in range(blocks):
            receipts = chain.execute_block(txs)
            assert all(r.status == "success" for r in receipts)
        elapsed = time.perf_counter() - t0
        tps = blocks * per_block / elapsed
        call_latency = median_time(
            lambda: chain.call("token", "transfer", {"to": "bob", "amount": 1}, sender="alice",
                               gas_limit=100_000), repeats * 4)
        query_latency = median_time(
            lambda: chain.query("token", "balance_of", {"owner": "bob"}), repeats * 4)
    rows = [["transfers/s (execute_block, blocks of 500, committed)", tps, "10,000", "~180 / ~700"],
            ["single call latency (ms)", call_latency * 1e3, "", ""],
            ["single query latency (ms)", query_latency * 1e3, "", ""]]
    print(table("Throughput", ["figure", "value", "target", "peer (python / native VM)"], rows))
    return {"transfers_per_s": tps, "call_ms": call_latency * 1e3,
            "query_ms": query_latency * 1e3}


# -- 3. deploy latency and worker start-up ------------------------------------------------------


def synthetic_contract(lines: int) -> str:
    """A valid contract of about ``lines`` lines: many small entry points."""
    out = ["from pycontract import Map, public, view", "", "data = Map(default=0)", ""]
    i = 0
    while len(out) < lines:
        out += ["", "@public", f"def set_{i}(key: str, value: int) -> int:",
                f"    data[key] = value + {i}", "    total = 0", "    for j in range(3):",
                "        total += j * value", "    return total", "", "@view",
                f"def get_{i}(key: str) -> int:", "    return data[key]"]
        i += 1
    return "\n".join(out) + "\n"


def bench_deploy(quick: bool, repeats: int) -> dict:
    from pycontract import Chain

    source = synthetic_contract(300)
    with tempfile.TemporaryDirectory() as tmp:
        def start_stop():
            with Chain(os.path.join(tmp, f"s{time.perf_counter_ns()}.db")) as c:
                assert c.worker_pid > 0  # starts the worker and waits for its hello

        startup = median_time(start_stop, repeats)
        with new_chain(tmp) as chain:
            counter = iter(range(10**6))
            deploy = median_time(
                lambda: chain.deploy(f"c{next(counter)}", source, sender="bench",
                                     gas_limit=50_000_000), repeats)
    rows = [["chain + worker start-up and close (ms)", startup * 1e3],
            [f"deploy of a {source.count(chr(10))}-line contract (ms)", deploy * 1e3]]
    print(table("Deploy and start-up", ["figure", "value"], rows))
    return {"startup_ms": startup * 1e3, "deploy_300_lines_ms": deploy * 1e3}


# -- 4. gas fairness --------------------------------------------------------------------------


def worker_peak_rss_mib(chain) -> float | None:
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


def fairness_functions() -> list[str]:
    import ast

    tree = ast.parse((WORKLOADS / "fairness.py").read_text())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
            and any(getattr(d, "id", None) == "public" for d in n.decorator_list)]


def bench_fairness(quick: bool, repeats: int, gas_limit: int | None = None) -> dict:
    gas_limit = gas_limit or (1_000_000 if quick else 10_000_000)
    source = (WORKLOADS / "fairness.py").read_text()
    rows, out = [], {}
    for fn in fairness_functions():
        with tempfile.TemporaryDirectory() as tmp, new_chain(tmp) as chain:
            r = chain.deploy("fair", source, sender="bench", gas_limit=5_000_000)
            assert r.status == "success", r.error
            receipts = []

            def run():
                receipts.append(chain.call("fair", fn, {}, sender="bench", gas_limit=gas_limit))

            elapsed = median_time(run, repeats)
            last = receipts[-1]
            peak = worker_peak_rss_mib(chain)
            ns_per_gas = elapsed * 1e9 / max(last.gas_used, 1)
            rows.append([fn, last.status, last.gas_used, elapsed * 1e3, ns_per_gas,
                         "" if peak is None else peak, (last.error or "")[:50]])
            out[fn] = {"status": last.status, "gas_used": last.gas_used,
                       "ms": elapsed * 1e3, "ns_per_gas": ns_per_gas, "peak_rss_mib": peak,
                       "error": last.error}
    med = statistics.median(v["ns_per_gas"] for v in out.values())
    worst_fn = max(out, key=lambda k: out[k]["ns_per_gas"])
    for row in rows:
        row.insert(5, row[4] / med)
    rows.sort(key=lambda r: -r[4])
    print(table(f"Gas fairness at a {gas_limit:,} gas limit (each workload runs out of gas)",
                ["workload", "status", "gas used", "ms", "ns/gas", "x median", "peak MiB",
                 "error"], rows))
    worst = out[worst_fn]["ns_per_gas"] / med
    print(f"\nworst/median ns per gas: {worst:.2f} ({worst_fn}); target <= 10")
    return {"gas_limit": gas_limit, "workloads": out, "median_ns_per_gas": med,
            "worst_over_median": worst, "worst": worst_fn}


# -- 5. scaling ---------------------------------------------------------------------------------


def bench_scaling(quick: bool, repeats: int) -> dict:
    from pycontract import Tx

    token = (HERE.parent / "examples" / "token.py").read_text()
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    rows, out = [], {}
    with tempfile.TemporaryDirectory() as tmp, new_chain(tmp) as chain:
        chain.deploy("token", token, sender="alice", args={"supply": 10**15},
                     gas_limit=5_000_000)
        have = 1
        for target in sizes:
            while have < target:  # fill: one new key per transfer, 10,000 per block
                batch = min(10_000, target - have)
                chain.execute_block([Tx(sender="alice", contract="token", function="transfer",
                                        args={"to": f"k{have + i}", "amount": 1},
                                        gas_limit=100_000) for i in range(batch)])
                have += batch
            txs = [Tx(sender="alice", contract="token", function="transfer",
                      args={"to": f"k{i * 7 % target}", "amount": 1}, gas_limit=100_000)
                   for i in range(500)]
            stats = []

            def block():
                chain.execute_block(txs)
                stats.append(dict(chain._ledger.last_commit_stats))

            t = median_time(block, repeats)
            root_ms = statistics.median(s["state_root_s"] for s in stats) * 1e3
            commit_ms = statistics.median(s["total_s"] for s in stats) * 1e3
            rows.append([f"{target:,} keys", 500 / t, t * 1e3, commit_ms, root_ms])
            out[str(target)] = {"transfers_per_s": 500 / t, "block_ms": t * 1e3,
                                "commit_ms": commit_ms, "state_root_ms": root_ms}
    print(table("Scaling with stored keys (blocks of 500 transfers)",
                ["state size", "transfers/s", "block ms", "commit ms",
                 "state-root update ms"], rows))
    depth_rows = []
    chain_src = (
        "from pycontract import call, view\n\n@view\n"
        "def hop(n: int) -> int:\n    if n == 0:\n        return 0\n"
        "    return 1 + call(ctx_name(), 'hop', n=n - 1)\n\n"
        "def ctx_name() -> str:\n    return 'hopper'\n"
    )
    with tempfile.TemporaryDirectory() as tmp, new_chain(tmp) as chain:
        chain.deploy("hopper", chain_src, sender="bench", gas_limit=5_000_000)
        for depth in (0, 1, 4, 16, 64):
            t = median_time(lambda: chain.query("hopper", "hop", {"n": depth}), repeats * 2)
            depth_rows.append([f"call depth {depth}", t * 1e3])
        for lines in (50, 300, 1000):
            name = f"size{lines}"
            chain.deploy(name, synthetic_contract(lines), sender="bench", gas_limit=200_000_000)
            t = median_time(lambda: chain.query(name, "get_0", {"key": "a"}), repeats * 2)
            depth_rows.append([f"query on a {lines}-line contract", t * 1e3])
    print(table("Call cost by call depth and contract size", ["case", "ms"], depth_rows))
    out["calls"] = {r[0]: r[1] for r in depth_rows}
    return out


from benchmarks.fairness_bench import bench_fairness  # noqa: E402  (section 4, own module)

SECTIONS = {
    "overhead": bench_overhead,
    "throughput": bench_throughput,
    "deploy": bench_deploy,
    "fairness": bench_fairness,
    "scaling": bench_scaling,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"sections to run: {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per figure")
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
    repeats = args.repeats or (3 if args.quick else 5)
    print(f"pycontract benchmarks on Python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"median of {repeats}")
    results = {"python": sys.version.split()[0], "quick": args.quick, "repeats": repeats}
    for name in args.sections or list(SECTIONS):
        results[name] = SECTIONS[name](args.quick, repeats)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"\nwrote {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
