"""Record (or check) the cross-version file: gas and results of a fixed seeded corpus.

    python tests/fuzz/record_corpus.py            # rewrite corpus_results.json
    python tests/fuzz/record_corpus.py --check    # compare with it (exit 1 on a difference)

The corpus is generated from seeds with ``random.Random`` (not hypothesis), so it is the same
text on CPython 3.11, 3.12 and 3.13; test_crossversion.py runs the check in the suite, which tox
runs on every interpreter. Regenerate the file only when the gas schedule or the generator
changes on purpose (and say so in the commit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fuzz_gen  # noqa: E402
import fuzz_mutate  # noqa: E402

RESULTS = HERE / "corpus_results.json"
PROGRAM_SEEDS = range(12)
BATCH = 8
MUTANT_SEED, MUTANTS = 7, 120


def run() -> dict:
    """Run the corpus through the engine: every receipt's status, gas, error and result."""
    from pycontract import Chain, Tx

    out = {"programs": {}, "deploys": {}}
    with Chain() as chain:
        for seed in PROGRAM_SEEDS:
            fs = fuzz_gen.corpus(seed, BATCH)
            names = [f"f{i}" for i in range(BATCH)]
            cname = f"p{seed}"
            txs = [Tx(sender="alice", contract=cname, source=fuzz_gen.module(fs),
                      gas_limit=20_000_000)]
            txs += [Tx(sender="alice", contract=cname, function=n, gas_limit=3_000_000)
                    for n in names]
            rs = chain.execute_block(txs)
            for n, r in zip(["deploy"] + names, rs):
                out["programs"][f"{seed}.{n}"] = [r.status, r.gas_used, r.error, repr(r.result)]
        muts = fuzz_mutate.corpus(MUTANT_SEED, MUTANTS)
        txs = [Tx(sender="alice", contract=f"m{i}", source=src, gas_limit=20_000_000)
               for i, (_label, src) in enumerate(muts)]
        for (label, _src), r in zip(muts, chain.execute_block(txs)):
            out["deploys"][label] = [r.status, r.gas_used, r.error]
    return out


def diff(recorded: dict, now: dict) -> list[str]:
    lines = []
    for part in ("programs", "deploys"):
        a, b = recorded.get(part, {}), now.get(part, {})
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                lines.append(f"{part} {k}: recorded {a.get(k)!r}\n    now {b.get(k)!r}")
    return lines


def main(argv) -> int:
    now = run()
    if "--check" in argv:
        d = diff(json.loads(RESULTS.read_text()), now)
        print("\n".join(d) or f"ok: {len(now['programs'])} program receipts, "
              f"{len(now['deploys'])} deploys match ({sys.version.split()[0]})")
        return 1 if d else 0
    RESULTS.write_text(json.dumps({"python": sys.version.split()[0], **now}, indent=1,
                                  sort_keys=True) + "\n")
    print(f"wrote {RESULTS} ({len(now['programs'])} program receipts, {len(now['deploys'])} deploys)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
