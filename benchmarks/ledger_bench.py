"""Ledger store benchmark (not a test): python -m benchmarks.ledger_bench [--quick]

Prints one table and writes benchmarks/results/ledger.json. Every ledger figure has a baseline
measured in the same run on the same machine: plain sqlite3 on a bare (contract, key, value)
WITHOUT ROWID table with the same pragmas (WAL, synchronous=FULL), and for the state root a
from-scratch recomputation over all leaves.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ledger_store import Ledger, codec
from ledger_store import state_root as sr

RESULTS = Path(__file__).resolve().parent / "results"
K, V = codec.encode_key, codec.encode_value


def key(i: int) -> bytes:
    return K(("balances", f"account-{i}"))


def fill(led: Ledger, n: int, start: int = 0, block: int = 100_000) -> None:
    """Commit n keys in blocks of `block` writes."""
    i = start
    while i < start + n:
        ov = led.begin_block()
        for j in range(i, min(i + block, start + n)):
            ov.put("tok", key(j), V(j))
        led.commit_block(ov, time=led.height + 1, txs=[])
        i += block


def plain_db(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA cache_size=-32000")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS storage (contract TEXT, key BLOB, value BLOB,"
        " PRIMARY KEY (contract, key)) WITHOUT ROWID"
    )
    return conn


def plain_fill(conn: sqlite3.Connection, n: int) -> None:
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT OR REPLACE INTO storage VALUES ('tok', ?, ?)", ((key(j), V(j)) for j in range(n))
    )
    conn.execute("COMMIT")


def med(xs):
    return statistics.median(xs)


def bench_reads(led: Ledger, conn: sqlite3.Connection, n_keys: int, n: int) -> dict:
    rnd = random.Random(1)
    keys = [key(rnd.randrange(n_keys)) for _ in range(n)]
    t = time.perf_counter()
    for k in keys:
        led.get("tok", k)
    ledger_s = time.perf_counter() - t
    ov = led.begin_block()
    t = time.perf_counter()
    for k in keys:
        ov.get("tok", k)
    overlay_s = time.perf_counter() - t
    ov.close()
    t = time.perf_counter()
    for k in keys:
        conn.execute("SELECT value FROM storage WHERE contract=? AND key=?", ("tok", k)).fetchone()
    plain_s = time.perf_counter() - t
    return {"ledger_per_s": n / ledger_s, "overlay_per_s": n / overlay_s, "plain_per_s": n / plain_s}


def bench_block(led: Ledger, conn: sqlite3.Connection, n_keys: int, n_writes: int, reps: int):
    """A block updating n_writes existing keys; returns medians (seconds)."""
    rnd = random.Random(n_writes)
    totals, puts, commits, roots, plains = [], [], [], [], []
    for r in range(reps):
        ks = rnd.sample(range(n_keys), n_writes)
        rows = [(key(j), V(r * 7 + j)) for j in ks]
        t0 = time.perf_counter()
        ov = led.begin_block()
        for k, v in rows:
            ov.put("tok", k, v)
        t1 = time.perf_counter()
        led.commit_block(ov, time=led.height + 1, txs=[])
        t2 = time.perf_counter()
        st = led.last_commit_stats
        # the state root's share: leaf hashing (done while preparing) + leaf rows, bucket
        # rehash and tree update (measured inside commit_block)
        th = time.perf_counter()
        for k, v in rows:
            sr.leaf_of(sr.storage_leaf_key("tok", k), v)
        leaf_hash_s = time.perf_counter() - th
        roots.append(st["state_root_s"] + leaf_hash_s)
        totals.append(t2 - t0)
        puts.append(t1 - t0)
        commits.append(t2 - t1)
        t3 = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT OR REPLACE INTO storage VALUES ('tok', ?, ?)", rows)
        conn.execute("COMMIT")
        plains.append(time.perf_counter() - t3)
    return {
        "writes": n_writes,
        "keys": n_keys,
        "put_s": med(puts),
        "commit_s": med(commits),
        "total_s": med(totals),
        "state_root_s": med(roots),
        "plain_executemany_s": med(plains),
        "writes_per_s": n_writes / med(totals),
        "plain_writes_per_s": n_writes / med(plains),
    }


def full_recompute_s(led: Ledger) -> float:
    t = time.perf_counter()
    sr.root_from_leaves(
        sr.leaf_of(sr.storage_leaf_key(c, k), v)
        for c, k, v in led.conn.execute("SELECT contract, key, value FROM storage")
    )
    return time.perf_counter() - t


def bench_sync(n_keys: int, blocks: int, writes: int = 1_000) -> dict:
    """synchronous=FULL against NORMAL (both WAL): two ledgers with the same keys, commits of
    ``writes`` updates alternated between them so both see the same machine noise."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as d:
        leds = {m: Ledger(os.path.join(d, f"{m}.db"), synchronous=m) for m in ("FULL", "NORMAL")}
        for led in leds.values():
            fill(led, n_keys)
        times: dict = {m: [] for m in leds}
        commits: dict = {m: [] for m in leds}
        rng = random.Random(1)
        for b in range(blocks):
            ks = rng.sample(range(n_keys), writes)
            for m, led in leds.items():
                t = time.perf_counter()
                ov = led.begin_block()
                for k in ks:
                    ov.put("tok", key(k), V(b + k + 1))
                led.commit_block(ov, time=led.height + 1, txs=[])
                times[m].append(time.perf_counter() - t)
                commits[m].append(led.last_commit_stats["fsync_commit_s"])
        for m, led in leds.items():
            out[m] = {"block_s": statistics.median(times[m]),
                      "commit_s": statistics.median(commits[m])}
            led.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--sync", action="store_true",
                    help="only compare synchronous=FULL and NORMAL (WAL, 1,000-write blocks)")
    args = ap.parse_args(argv)
    if args.sync:
        n = 20_000 if args.quick else 100_000
        r = bench_sync(n, 10 if args.quick else 30)
        print(f"| synchronous | block of 1,000 writes at {n:,} keys (put + commit_block) "
              "| of which COMMIT |\n|---|---|---|")
        for m, v in r.items():
            print(f"| {m} | {v['block_s'] * 1e3:.1f} ms | {v['commit_s'] * 1e3:.1f} ms |")
        return 0
    small, big = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    reps = 3 if args.quick else 5
    out: dict = {
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "quick": args.quick,
    }
    with tempfile.TemporaryDirectory() as d:
        led = Ledger(os.path.join(d, "ledger.db"))
        conn = plain_db(os.path.join(d, "plain.db"))
        t = time.perf_counter()
        fill(led, small)
        out["fill_small_s"] = time.perf_counter() - t
        plain_fill(conn, small)
        out["reads"] = bench_reads(led, conn, small, 20_000)
        out["block_1k_small"] = bench_block(led, conn, small, 1_000, reps)
        out["block_10k_small"] = bench_block(led, conn, small, 10_000, max(2, reps // 2))
        out["full_recompute_small_s"] = full_recompute_s(led)
        t = time.perf_counter()
        fill(led, big - small, start=small)
        out["fill_big_s"] = time.perf_counter() - t
        plain_fill(conn, big)
        out["block_1k_big"] = bench_block(led, conn, big, 1_000, reps)
        out["full_recompute_big_s"] = full_recompute_s(led)
        out["file_mb_big"] = os.path.getsize(os.path.join(d, "ledger.db")) / 1e6
        led.close()
        conn.close()

    r, b1, b10, bb = out["reads"], out["block_1k_small"], out["block_10k_small"], out["block_1k_big"]
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    rows = [
        ("storage reads/s (Ledger.get)", f"{r['ledger_per_s']:,.0f}", f"{r['plain_per_s']:,.0f}",
         r["plain_per_s"] / r["ledger_per_s"]),
        ("storage reads/s (BlockOverlay.get)", f"{r['overlay_per_s']:,.0f}",
         f"{r['plain_per_s']:,.0f}", r["plain_per_s"] / r["overlay_per_s"]),
        ("storage writes/s (10k-write block, put+commit)", f"{b10['writes_per_s']:,.0f}",
         f"{b10['plain_writes_per_s']:,.0f}", b10["plain_writes_per_s"] / b10["writes_per_s"]),
        (f"block commit, 1,000 writes ({small:,} keys)", ms(b1["total_s"]),
         ms(b1["plain_executemany_s"]), b1["total_s"] / b1["plain_executemany_s"]),
        (f"block commit, 10,000 writes ({small:,} keys)", ms(b10["total_s"]),
         ms(b10["plain_executemany_s"]), b10["total_s"] / b10["plain_executemany_s"]),
        (f"block commit, 1,000 writes ({big:,} keys)", ms(bb["total_s"]),
         ms(bb["plain_executemany_s"]), bb["total_s"] / bb["plain_executemany_s"]),
        (f"state root update, 1,000 writes ({small:,} keys)", ms(b1["state_root_s"]),
         ms(out["full_recompute_small_s"]) + " (full)",
         b1["state_root_s"] / out["full_recompute_small_s"]),
        (f"state root update, 1,000 writes ({big:,} keys)", ms(bb["state_root_s"]),
         ms(out["full_recompute_big_s"]) + " (full)",
         bb["state_root_s"] / out["full_recompute_big_s"]),
    ]
    lines = [
        "| measure | ledger_store | baseline | time ratio (ledger ÷ baseline) |",
        "|---|---|---|---|",
    ]
    for name, a, b, ratio in rows:
        lines.append(f"| {name} | {a} | {b} | {ratio:.2f}x |")
    table = "\n".join(lines)
    print(table)
    print(
        f"\nPython {out['python']}, SQLite {out['sqlite']}, {out['cpus']} CPUs; "
        f"filling {big:,} keys took {out['fill_small_s'] + out['fill_big_s']:.1f} s; "
        f"file {out['file_mb_big']:.0f} MB. Baselines: plain sqlite3 executemany / SELECT on a "
        "bare WITHOUT ROWID table (same pragmas); full = state root recomputed from all rows."
    )
    out["table"] = table
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "ledger-quick.json" if args.quick else "ledger.json"
    (RESULTS / name).write_text(json.dumps(out, indent=2))
    print(f"wrote {RESULTS / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
