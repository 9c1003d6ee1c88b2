"""Worst-case memory per gas for allocations that are paid by gas alone (not size-accounted).

Small containers built in a loop (``l.append([])``, ``d[i] = [i]``, ``t = (t, t, t, t)``) are
charged only their statement's gas; this measures the worker's peak memory (VmHWM) when each
runs out of gas, which is what sizes ``pycontract.host.limits.MAX_GAS_PER_TX`` against the worker's
address-space limit.

    python -m benchmarks.memprobe [GAS]        # default 10,000,000
"""

from __future__ import annotations

import sys
from pathlib import Path

from pycontract import Chain

SOURCE = '''
from pycontract import public

@public
def lists() -> int:
    l = []
    while True:
        l.append([])

@public
def tuples() -> int:
    l = []
    i = 0
    while True:
        l.append((i, i, i))
        i += 1

@public
def dicts() -> int:
    d = {}
    i = 0
    while True:
        d[i] = [i]
        i += 1

@public
def strs() -> int:
    l = []
    i = 10 ** 18
    while True:
        l.append(str(i))
        i += 1

@public
def nested() -> int:
    t = ()
    while True:
        t = (t, t, t, t)
'''


def peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    gas = int(argv[0]) if argv else 10_000_000
    print("| workload | status | gas used | worker peak MiB | bytes per gas |\n|---|---|---|---|---|")
    for fn in ("lists", "tuples", "dicts", "strs", "nested"):
        with Chain() as chain:
            chain.deploy("m", SOURCE, sender="bench")
            base = peak_mib(chain.worker_pid)
            r = chain.call("m", fn, {}, sender="bench", gas_limit=gas)
            peak = peak_mib(chain.worker_pid)
            per_gas = (peak - base) * 2**20 / max(r.gas_used, 1)
            print(f"| {fn} | {r.status} | {r.gas_used:,} | {peak:.0f} | {per_gas:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
