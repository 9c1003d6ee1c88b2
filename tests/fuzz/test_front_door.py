"""Fuzzing of the front door: arbitrary text/bytes and mutated real contracts into vetting, the
rewriter (a deploy) and ``pycontract check`` never give an internal traceback or a crash, and
every problem is a ``FILE:LINE:COL: reason`` line (ground rule 6)."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

import fuzz_mutate

from pycontract import Tx

PROBLEM = re.compile(r"^fz\.py:\d+:\d+: \S")


@pytest.fixture(autouse=True)
def _vet(vet):
    """The vetting entry function comes from conftest.vet_entry (one line to change)."""
    _VET[:] = [vet]


_VET = []


#: front-door bugs found by this fuzzer, tolerated by the properties below while listed (the
#: xfail(strict) regressions at the end of this file pin them): delete an entry when fixed
FRONT_DOOR_KNOWN: dict = {
    # (empty: compile-time-only syntax errors are refused by vetting since the fix of find 8)
}


def vet_cleanly(source) -> bool:
    """True if vetting accepts ``source``; False for a clean rejection; any other exception
    (or a malformed problem line) fails the test. Accepted source must also compile in CPython
    (the worker compiles it)."""
    from pycontract.errors import VetError

    try:
        _VET[0](source, "fz.py")
    except VetError as e:
        return _clean_rejection(e)
    try:
        # a leading byte-order mark is accepted (docs/language.md) and dropped before compiling
        compile(source.removeprefix("\ufeff"), "fz.py", "exec", dont_inherit=True)
    except SyntaxError as e:
        known = FRONT_DOOR_KNOWN.get("compile_time_syntax_errors")
        assert known is not None and known.search(str(e.msg)), \
            f"vetting accepted source CPython does not compile: {e}\n{source}"
        return False  # a known bug: never deployed by the tests below (it faults the worker)
    return True


def _clean_rejection(e) -> bool:
    """A VetError: every problem is a well-formed ``FILE:LINE:COL: message`` line."""
    assert e.problems, "a VetError without problems"
    for p in e.problems:
        head = f"{p.filename}:{p.line}:{p.col}: {p.message}"
        assert PROBLEM.match(head), head
        assert "Traceback" not in str(e) and p.message.strip(), head
    return False


def test_arbitrary_text_is_vetted_cleanly(fuzz_settings):
    @fuzz_settings(quick=300, long=20000)
    @given(st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1")),
                     st.lists(st.sampled_from(fuzz_mutate.TOKENS + ["x", "1", "def", "if", "=",
                                                                    "public", "return"]),
                              max_size=40).map("".join)))
    def run(text):
        vet_cleanly(text)

    run()


def test_non_text_sources_are_refused_cleanly():
    for junk in (b"x = 1", None, 5, ["x"], bytearray(b"\xff")):
        assert vet_cleanly(junk) is False


def test_mutated_contracts_vet_and_deploy_cleanly(chain, fuzz_long):
    """Mutants of the real contracts: vetting accepts or rejects with clean lines; accepted ones
    go through the rewriter and the worker (a deploy) and end in a receipt, never a fault."""
    n = 3000 if fuzz_long else 300
    seed = random.SystemRandom().randrange(1 << 30) if fuzz_long else 1
    print(f"\n[fuzz] front door mutant seed {seed}")
    muts = fuzz_mutate.corpus(seed, n)
    accepted = [(lab, src) for lab, src in muts if vet_cleanly(src)]
    txs = [Tx(sender="alice", contract=f"mut{i}", source=src, gas_limit=5_000_000)
           for i, (_lab, src) in enumerate(accepted)]
    rs = chain.execute_block(txs) if txs else []
    for (lab, _src), r in zip(accepted, rs):
        assert r.status in ("success", "reverted", "rejected"), (seed, lab, r)
        assert "Traceback" not in (r.error or ""), (lab, r.error)
    print(f"[fuzz] front door: {n} mutants, {len(accepted)} accepted by vetting, deploy "
          f"statuses {sorted({r.status for r in rs})}")
    assert 0 < len(accepted) < n  # the mutations both keep and break contracts


def test_check_cli_on_garbage_files_is_one_clean_line(tmp_path):
    """``pycontract check`` on arbitrary bytes: non-zero exit, no traceback (a few files: each
    is a process)."""
    r = random.Random(3)
    muts = fuzz_mutate.corpus(5, 2)
    blobs = [bytes(r.randrange(256) for _ in range(200)), b"\xef\xbb\xbf" + b"(" * 5000,
             b"x = 1\x00\n", muts[0][1].encode("utf-8", "surrogatepass"),
             muts[1][1].encode("utf-8", "surrogatepass")]
    exe = Path(sys.executable).with_name("pycontract")
    # the installed console script; without one (a bare interpreter with PYTHONPATH) its target
    cmd = [str(exe)] if exe.exists() else [
        sys.executable, "-c", "import sys; from pycontract.cli import main; sys.exit(main())"]
    for i, blob in enumerate(blobs):
        f = tmp_path / f"c{i}.py"
        f.write_bytes(blob)
        p = subprocess.run(cmd + ["check", str(f)], capture_output=True, text=True,
                           timeout=60)
        out = p.stdout + p.stderr
        assert "Traceback" not in out, out
        if p.returncode != 0:
            assert p.stderr.strip(), out
            assert p.stderr.splitlines()[0].startswith(("error:", str(f))), out


@pytest.mark.parametrize("body", [
    "break", "continue", "if True:\n        break",
    "try:\n        pass\n    finally:\n        break",
    "*a, *b = [1, 2]\n    return 0", "[*a, *b] = [1, 2]\n    return 0",
    "def g(a, a):\n        return a\n    return 0",
])
def test_compile_time_syntax_errors_are_rejected_at_deploy(chain, body):
    """Found by the long front-door profile (a mutant of a real contract): must be a clean
    rejection, as every other syntax error is."""
    from pycontract.errors import NodeFault

    src = "from pycontract import public\n\n@public\ndef f():\n    " + body + "\n"
    try:
        r = chain.deploy(f"cts{len(body)}x{sum(map(ord, body))}", src, sender="alice")
    except NodeFault as e:
        pytest.fail(f"NodeFault: {e}")
    assert r.status == "rejected" and re.match(r"cts\d+x\d+:\d+:\d+: ", r.error), r
