"""Shared helpers for the red-team attack tests: real worker, real SQLite ledger in tmp_path.

Every attack deploys a fresh contract, calls it, and checks that the worker that served the
call is still the same process (a dead worker is a node fault: a DoS of block production).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HEADER = "from pycontract import public, view, constructor, Map, Value, ctx, emit, call, require, revert\n"
_names = itertools.count()

INTERPRETERS = [sys.executable] + [
    next(p for p in group if os.path.exists(p))
    for group in (("/work/venv312/bin/python", "/tmp/venv3.12/bin/python"),
                  ("/work/venv313/bin/python", "/tmp/venv3.13/bin/python"))
    if any(os.path.exists(p) for p in group)
]
#: the checkout the interpreters above import pycontract from (a venv that has no pycontract
#: installed, such as /tmp/venv3.12, finds it through PYTHONPATH)
_ROOT = str(Path(__file__).resolve().parents[2])


def src(body: str, header: bool = True) -> str:
    text = textwrap.dedent(body).lstrip()
    return (HEADER + text) if header else text


def fresh_name(prefix: str = "a") -> str:
    return f"{prefix}{next(_names)}"


def deploy(chain, body: str, *, name: str | None = None, header: bool = True, gas: int = 2_000_000,
           args=None):
    name = name or fresh_name()
    r = chain.deploy(name, src(body, header), sender="alice", gas_limit=gas, args=args)
    assert r.status == "success", (r.status, r.error)
    return name


def attack(chain, body: str, fn: str = "f", args=None, *, gas: int = 200_000, header: bool = True):
    """Deploy ``body`` and call ``fn``; assert the worker survived; return the receipt."""
    name = deploy(chain, body, header=header)
    pid = chain.worker_pid
    r = chain.call(name, fn, args or {}, sender="alice", gas_limit=gas)
    assert chain.worker_pid == pid, "the worker died or was replaced"
    return r


def rejected(chain, body: str, header: bool = True):
    """Deploy ``body`` and expect vetting to reject it; return the error text."""
    r = chain.deploy(fresh_name("r"), src(body, header), sender="alice", gas_limit=2_000_000)
    assert r.status == "rejected", (r.status, r.error)
    assert r.gas_used == 0
    assert "Traceback" not in (r.error or "")
    return r.error


def assert_host_works(chain):
    """After an attack the chain still executes and commits ordinary transactions."""
    name = deploy(chain, """
        n = Value(default=0)
        @public
        def bump() -> int:
            n.set(n.get() + 1)
            return n.get()
    """)
    r = chain.call(name, "bump", {}, sender="alice", gas_limit=100_000)
    assert (r.status, r.result) == ("success", 1), (r.status, r.error)


_RUNNER = r"""
import json, sys, tempfile, os
from pycontract import Chain
from pycontract.errors import PycontractError
cases = json.loads(sys.stdin.read())
out = []
with tempfile.TemporaryDirectory() as d:
    with Chain(os.path.join(d, "l.db"), worker_hash_seed=int(sys.argv[1])) as ch:
        for i, (source, fn, args, gas) in enumerate(cases):
            name = "x%d" % i
            try:
                r = ch.deploy(name, source, sender="alice", gas_limit=2_000_000)
                row = [r.status, r.gas_used, r.error]
                if r.status == "success":
                    r = ch.call(name, fn, args, sender="alice", gas_limit=gas)
                    row += [r.status, r.gas_used, repr(r.result), r.error,
                            [[e.name, repr(e.fields)] for e in r.events]]
            except PycontractError as e:
                row = ["node-fault", type(e).__name__, str(e)]
            out.append(row)
        out.append(ch.state_root())
print(json.dumps(out))
"""


def receipts_everywhere(cases, seeds=(0,)):
    """Run ``cases`` [(source, fn, args, gas)] on every available interpreter (and hash seed)
    in fresh processes; return {label: receipts}."""
    results = {}
    for py in INTERPRETERS:
        for seed in seeds:
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(
                [_ROOT] + [x for x in [os.environ.get("PYTHONPATH")] if x]))
            p = subprocess.run([py, "-c", _RUNNER, str(seed)], input=json.dumps(cases),
                               capture_output=True, text=True, timeout=300,
                               cwd=str(Path(__file__).parent), env=env)
            assert p.returncode == 0, p.stderr[-2000:]
            results[f"{py} seed={seed}"] = json.loads(p.stdout)
    return results


def assert_same_everywhere(cases, seeds=(0,)):
    results = receipts_everywhere(cases, seeds)
    labels = list(results)
    base = results[labels[0]]
    for label in labels[1:]:
        for i, (a, b) in enumerate(zip(base, results[label])):
            assert a == b, f"case {i} differs: {labels[0]}: {a!r} vs {label}: {b!r}"
    return base
