"""Differential fuzzing: generated programs compute the same in the engine as in CPython.

Each hypothesis example is a batch of BATCH generated functions deployed as one contract and
called in one block (one worker round trip); the same module also runs as plain Python. A
mismatch fails the test with the shrunk (minimal) program. Known user-reported mismatches and
documented deviations are kept clear by the tables in fuzz_gen.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

import fuzz_gen
import fuzz_harness

BATCH = 8

STATS = fuzz_harness.Stats()


def test_engine_agrees_with_cpython(chain, fuzz_settings, fuzz_long):
    """The property of issue #13: value, type and exception class agree, or a limit was hit."""

    @fuzz_settings(quick=30, long=3000)
    @given(st.data())
    def run(data):
        g = fuzz_gen.Gen(fuzz_gen.DataSource(data))
        fs = [g.function(f"f{i}") for i in range(BATCH)]
        mism = fuzz_harness.check_batch(chain, fs, fuzz_gen.module, STATS)
        assert not mism, "engine and CPython disagree:\n" + "\n".join(m.render() for m in mism)

    try:
        run()
    finally:
        print(f"\n[fuzz] differential ({'long' if fuzz_long else 'quick'}): {STATS.line()}")


def test_seeded_corpus_agrees(chain):
    """A fixed seeded corpus (the one the cross-version file records) agrees with CPython."""
    stats = fuzz_harness.Stats()
    for seed in range(20):
        fuzz_harness.check_batch(chain, fuzz_gen.corpus(seed, BATCH), fuzz_gen.module, stats)
    print(f"\n[fuzz] seeded corpus: {stats.line()}")
    assert not stats.mismatches, "\n".join(m.render() for m in stats.mismatches)
    assert stats.kinds.get("value", 0) > 40 and stats.kinds.get("raise", 0) > 40  # both paths


def test_generator_covers_the_whitelist():
    """Every allowed builtin and method of pycontract/language.py is generated somewhere."""
    g = fuzz_gen.Gen(fuzz_gen.RandomSource(0))
    for i in range(600):
        g.function(f"f{i}")
    missing = fuzz_gen.coverage_targets() - g.used
    assert not missing, f"the grammar never produces: {sorted(missing)}"


@pytest.mark.parametrize("bug", sorted(fuzz_gen.KNOWN_BUGS))
def test_fuzzer_finds_known_bug(chain, bug, fuzz_long):
    """With a known bug's avoidance switched off the seeded generator meets it (so the
    fuzzer can find it); when the bug is fixed this fails: delete its KNOWN_BUGS entry."""
    if not fuzz_long:
        pytest.skip("long profile only (--fuzz-long or PYCONTRACT_FUZZ_LONG=1)")
    avoid = set(fuzz_gen.KNOWN_BUGS) - {bug}
    stats = fuzz_harness.Stats()
    for seed in range(400):
        fs = fuzz_gen.corpus(10_000 + seed, BATCH, avoid=avoid)
        fuzz_harness.check_batch(chain, fs, fuzz_gen.module, stats, tolerate=avoid)
        if stats.mismatches:
            break
    assert stats.mismatches, f"{bug}: no mismatch in {stats.programs} programs"
    print(f"\n[fuzz] {bug}: found after {stats.programs} programs:\n"
          + stats.mismatches[0].render())
