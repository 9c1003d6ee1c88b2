"""Round 2 red team, determinism: ~420 one-expression probes (int()/bytes/codec/to_bytes edge
cases, f-string and % format specs at their edges, str() of every allowed type, slicing with
huge bounds, list/dict/str/bytes method edge cases, mixed-type comparisons and sorting) must
give byte-identical receipts and state roots on CPython 3.11/3.12/3.13 and two worker hash
seeds. Each probe is one line of tests/attacks/determinism_probes/*.txt, run as
``try: return [EXPR] except Exception as e: return "E:" + str(e)``. All identical today
(regression tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from attack_support import HEADER, receipts_everywhere

pytestmark = pytest.mark.determinism

PROBES = Path(__file__).parent / "determinism_probes"
TEMPLATE = '''@public
def f():
    try:
        return [{e}]
    except Exception as e:
        return "E:" + str(e)
'''


@pytest.mark.parametrize("group", sorted(p.stem for p in PROBES.glob("*.txt")))
def test_determinism_probes_identical_everywhere(group):
    exprs = [line.rstrip("\n") for line in (PROBES / f"{group}.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    cases = [[HEADER + TEMPLATE.format(e=e), "f", {}, 2_000_000] for e in exprs]
    results = receipts_everywhere(cases, seeds=(0, 4242))
    labels = list(results)
    base = results[labels[0]]
    for label in labels[1:]:
        for i, (a, b) in enumerate(zip(base, results[label])):
            where = exprs[i] if i < len(exprs) else "state root"
            assert a == b, f"{where!r} differs: {labels[0]}: {a!r} vs {label}: {b!r}"
    # the probes really ran (most deploy and return a value or a caught error)
    assert sum(1 for row in base[:-1] if row[0] == "success" and len(row) > 3) > len(exprs) // 2
