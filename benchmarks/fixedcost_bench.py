"""Section "fixedcost" of the benchmarks: node time per gas of the cheapest transactions (issue 12).

A block of 1,000 transactions that each do almost nothing (``return 1``) or revert at once
(``revert("no")``), or carry a large argument and do nothing with it, is timed through
``execute_block`` (admission, worker, validation, commit: the node's whole cost) and divided by
the gas the block used. The figure it is held against is the compute-bound median: nanoseconds
per gas of the metering-overhead workloads run as queries in the same run. The intrinsic cost of
a transaction (docs/gas.md) is sized so that the worst row stays within 10x that median.
"""

from __future__ import annotations

import statistics
import tempfile
import time

from benchmarks.common import WORKLOADS, median_time, new_chain, table

CHEAP_SOURCE = '''from pycontract import public, revert, view


@public
def nop() -> int:
    return 1


@public
def fail() -> None:
    revert("no")


@public
def take(data: str) -> int:
    return 1


@view
def peek() -> int:
    return 1
'''

#: workloads of benchmarks/workloads/overhead.py and the sizes used for the compute median
COMPUTE_CASES = {"loop_sum": 100_000, "fib": 18, "sieve": 50_000, "transfers": 30_000,
                 "sorting": 20_000, "comprehensions": 30_000, "strings": 20_000}
BIG = 100_000_000


def compute_ns_per_gas(chain, repeats: int) -> dict:
    """ns per gas of each compute-bound workload (a view run as a query) and their median."""
    source = (WORKLOADS / "overhead.py").read_text()
    r = chain.deploy("overhead", source, sender="bench", gas_limit=5_000_000)
    assert r.status == "success", r.error
    out = {}
    for fn, n in COMPUTE_CASES.items():
        gas = chain.call("overhead", fn, {"n": n}, sender="bench", gas_limit=BIG).gas_used
        t = median_time(lambda: chain.query("overhead", fn, {"n": n}, gas_limit=BIG), repeats)
        out[fn] = t * 1e9 / gas
    out["median"] = statistics.median(out.values())
    return out


def deploy_cases(quick: bool):
    """(name, source, constructor args, deploys per block): an example contract, a dense one (short lines, many
    nodes per byte) and one of self-recursive functions (the rewriter writes several versions
    of each)."""
    token = (WORKLOADS.parent.parent / "examples" / "token.py").read_text()
    dense = "from pycontract import public\n\n@public\ndef main(x: int) -> int:\n" + "".join(
        f"    x = (x + {i} * x - (x if x > {i} else {i})) % 7\n" for i in range(60)) + \
        "    return x\n"
    rec = ["from pycontract import public", ""]
    for i in range(10):
        rec += [f"def r{i}(n: int, m: int) -> int:", "    if n < 2:", "        return m",
                f"    return r{i}(n - 1, m + 1) + r{i}(n - 2, m // 2) if n > 5 else "
                f"r{i}(n - 1, m)", ""]
    rec += ["@public", "def main() -> int:", "    return r0(5, 1)", ""]
    n = 2 if quick else 10
    return [("examples/token.py", token, {"supply": 1000}, n),
            ("a dense 60-line function", dense, {}, n),
            ("10 self-recursive functions", "\n".join(rec), {}, n)]


def cold_source(functions: int) -> str:
    """A contract of ``functions`` loop-and-storage functions (~48 deploy units each) and a
    cheap ``ping``: the first call of ``ping`` loads all of its code."""
    out = ["from pycontract import public, Map\n\nstore = Map(default=0)\n\n"
           "@public\ndef ping() -> int:\n    return 1\n\n"]
    for i in range(functions):
        out.append(f"@public\ndef f{i}(x: int) -> int:\n    total = 0\n    for j in range(x):\n"
                   f"        if j % 3 == {i % 3}:\n            total += j * {i}\n        else:\n"
                   f"            total -= store[j] + {i}\n    store[x] = total\n    return total\n\n")
    return "".join(out)


def _cold_ns_per_gas(chain, names: list, repeats: int):
    """(ns per gas, us per tx, gas per tx) of one block calling ``ping`` of each contract in
    ``names`` right after a worker restart: every contract is loaded from the ledger's
    ``compiled`` cache (paid by ``code_load``). A new worker for each repeat, started (and
    given a query) before the block is timed."""
    from pycontract import Tx

    samples, gas = [], 0
    for _ in range(repeats):
        chain._drop_worker()
        chain.query("cheap", "peek", {}, gas_limit=10_000)
        block = [Tx(sender="bench", contract=n, function="ping", gas_limit=1_000_000)
                 for n in names]
        t0 = time.perf_counter()
        receipts = chain.execute_block(block)
        samples.append(time.perf_counter() - t0)
        gas = sum(r.gas_used for r in receipts)
        assert all(r.status == "success" for r in receipts), receipts[0].error
    t = statistics.median(samples)
    return t * 1e9 / gas, t * 1e6 / len(names), gas / len(names)


def _block_ns_per_gas(chain, txs, repeats: int):
    """(ns per gas, us per tx, gas per tx) of ``txs`` (or of a fresh list from calling it) as
    one committed block (median)."""
    samples, gas = [], 0
    for _ in range(repeats):
        block = txs() if callable(txs) else txs
        t0 = time.perf_counter()
        receipts = chain.execute_block(block)
        samples.append(time.perf_counter() - t0)
        gas = sum(r.gas_used for r in receipts)
        assert all(r.status in ("success", "reverted") for r in receipts), receipts[0].error
    t = statistics.median(samples)
    return t * 1e9 / gas, t * 1e6 / len(block), gas / len(block)


def bench_fixedcost(quick: bool, repeats: int) -> dict:
    from pycontract import Tx

    n = 200 if quick else 1_000
    arg = "x" * (4_000 if quick else 16_000)
    out, rows = {}, []
    with tempfile.TemporaryDirectory() as tmp, new_chain(tmp) as chain:
        compute = compute_ns_per_gas(chain, repeats)
        med = compute["median"]
        r = chain.deploy("cheap", CHEAP_SOURCE, sender="bench", gas_limit=5_000_000)
        assert r.status == "success", r.error
        cases = {
            "return 1": [Tx(sender=f"s{i}", contract="cheap", function="nop", gas_limit=10_000)
                         for i in range(n)],
            'revert("no")': [Tx(sender=f"s{i}", contract="cheap", function="fail",
                                gas_limit=10_000) for i in range(n)],
            f"return 1 with a {len(arg):,}-char argument": [
                Tx(sender=f"s{i}", contract="cheap", function="take", args={"data": arg},
                   gas_limit=10_000_000) for i in range(n // 4)],
        }
        chain.execute_block(cases["return 1"][:10])  # warm the code cache
        for name, txs in cases.items():
            ns, us, gas = _block_ns_per_gas(chain, txs, repeats)
            rows.append([f"block of {len(txs):,} x {name}", gas, us, ns, ns / med])
            out[name] = {"gas_per_tx": gas, "us_per_tx": us, "ns_per_gas": ns,
                         "x_compute_median": ns / med}
        # deploys: vetting, rewriting and compiling (each source distinct: no compile cache)
        for name, source, args, count in deploy_cases(quick):
            txs = lambda: [Tx(sender="bench", contract=f"d{time.perf_counter_ns()}x{i}",  # noqa
                              source=f"{source}\n# {time.perf_counter_ns()} {i}\n", args=args,
                              gas_limit=100_000_000) for i in range(count)]
            ns, us, gas = _block_ns_per_gas(chain, txs, repeats)
            rows.append([f"block of {count} x deploy of {name}", gas, us, ns, ns / med])
            out[f"deploy {name}"] = {"gas_per_tx": gas, "us_per_tx": us, "ns_per_gas": ns,
                                     "x_compute_median": ns / med}
        # first calls after a restart (schedule 8): each contract is loaded, not compiled
        for functions, count in ((20, 20 if quick else 100), (180, 2 if quick else 10)):
            source = cold_source(functions)
            names = [f"cold{functions}x{i}" for i in range(count)]
            for r in chain.execute_block([Tx(sender="bench", contract=n, source=source,
                                             gas_limit=100_000_000) for n in names]):
                assert r.status == "success", r.error
            name = f"first call after a restart, {len(source) // 1000} KB contracts"
            ns, us, gas = _cold_ns_per_gas(chain, names, repeats)
            rows.append([f"block of {count} x {name}", gas, us, ns, ns / med])
            out[name] = {"gas_per_tx": gas, "us_per_tx": us, "ns_per_gas": ns,
                         "x_compute_median": ns / med}
        # the cheapest query: the view ``peek`` (a query's node time has no commit); its gas
        # is the query's own (``query_base``, not a transaction's)
        gas_q = chain.query("cheap", "peek", {}, gas_limit=10_000, profile=True).gas_used
        tq = median_time(lambda: chain.query("cheap", "peek", {}, gas_limit=10_000),
                         repeats * 20)
        rows.append(["query of return 1", gas_q, tq * 1e6, tq * 1e9 / gas_q,
                     tq * 1e9 / gas_q / med])
        out["query"] = {"gas": gas_q, "us": tq * 1e6, "ns_per_gas": tq * 1e9 / gas_q,
                        "x_compute_median": tq * 1e9 / gas_q / med}
    rows.append(["compute-bound median (overhead workloads as queries)", "", "", med, 1.0])
    out["compute"] = compute
    print(table("Cheapest transactions: node time per gas (target: <= 10x the compute median)",
                ["block / case", "gas per tx", "us per tx", "ns per gas", "x compute median"],
                rows))
    return out
