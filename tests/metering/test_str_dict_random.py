"""Random programs over str keys and int-item dicts (issue 12, session 4): the proven short-str
locals, the inline ``x = A + str(i)`` and the dicts of bounded ints must change nothing but
speed. Each seeded program runs with those fast paths and without them (same status, result,
error, gas used and memory, at a generous and at a tight gas limit), and its result is
CPython's."""

from __future__ import annotations

import random

import pytest
from language_harness import contract, run

from pycontract.metering import compiler, rewriter

LITS = ['""', '"a"', '"acct"', '"0123456789abcd"', '"0123456789abcdef"', '"' + "y" * 20 + '"']
INTS = ["i % 10", "(i * 3 + 1) % 100", "i", "-i", "i - 50", "i % 7 - 3", "n % 4"]
VALS = ["i % 13", "1", "2", "True", "n", "n * 4611686018427387904"]


def _program(rnd: random.Random) -> str:
    keys = [f"k{j}" for j in range(3)]
    body = []
    for _ in range(rnd.randint(3, 8)):
        k = rnd.choice(keys)
        other = rnd.choice(keys)
        form = rnd.randrange(14)
        if form <= 2:
            body.append(f"{k} = {rnd.choice(LITS)} + str({rnd.choice(INTS)})")
        elif form == 3:
            body.append(f"{k} = {other} + {rnd.choice(LITS)}")
        elif form == 4:
            body.append(f"{k} = f\"{rnd.choice(['', 'q', 'acct'])}{{{rnd.choice(INTS)}}}"
                        f"{{{other}}}\"")
        elif form == 5:
            body.append(rnd.choice([f"{k} = p", f'{k} = "z" * 1100', f"{k} = i % 3",
                                    f'{k} = "b" if i % 2 else "cc"', f"{k} = str({other})"]))
        elif form in (6, 7):
            v = rnd.choice(VALS)
            body.append(f"if {k} in d:\n            d[{k}] += {v}\n"
                        f"        else:\n            d[{k}] = {v}")
        elif form == 8:
            body.append(f"if {k} in d:\n            d[{k}] -= {rnd.choice(VALS)}")
        elif form == 9:
            body.append(f"d[{k}] -= {rnd.choice(VALS)}")  # may be a KeyError
        elif form == 10:
            body.append(f"t = t + d[{k}] if {k} in d else t - 1")
        elif form == 11:
            body.append(f"if {k} in d and len(d) > 3:\n            del d[{k}]")
        elif form == 12:
            body.append(rnd.choice([f"out.append(e.get({k}, 0))", f"out.append({k})",
                                    f"out.append(len({k}))"]))
        else:
            body.append(f"e[{k}] = e.get({k}, 0) + 1")
    init = ", ".join(f"{rnd.choice(LITS)}: {rnd.choice(['0', '5', 'True', 'n'])}"
                     for _ in range(rnd.randint(0, 2)))
    lines = "\n".join("        " + s for s in body)
    return contract(f"""@public
def main(n: int, p: str) -> list:
    d = {{{init}}}
    e = {{}}
    out = []
    t = 0
    k0 = "acct"
    k1 = "a1"
    k2 = p
    for i in range(n):
{lines}
    for k in ["", "a", "acct", "acct1", "y" * 20 + "3"]:
        if k in d:
            t = t + d[k]
    return [len(d), len(e), out, t]
""")


def _outcome(src, **kw):
    compiler.clear_cache()
    return run(src, **kw)


def _off(monkeypatch):
    monkeypatch.setattr(rewriter, "str_locals", lambda *a, **k: {})
    monkeypatch.setattr(rewriter, "int_dict_locals", lambda *a, **k: {})
    monkeypatch.setattr(rewriter.GasRewriter, "_add_str_inline", lambda self, st: None)


def _cpython(src, n, p):
    ns = {}
    exec(src.split("\n", 1)[1].replace("@public\n", ""), ns)
    try:
        return ns["main"](n, p)
    except Exception as e:  # noqa: BLE001 - the exception class is compared
        return type(e)


@pytest.mark.parametrize("seed", range(40))
def test_random_programs_same_with_and_without_the_fast_paths(seed, monkeypatch):
    rnd = random.Random(seed)
    src = _program(rnd)
    for n, p in ((0, "acct"), (4, "a1"), (15, "w" * 1500)):
        fast = _outcome(src, n=n, p=p)
        gas_limits = [1_000_000] + ([max(1, fast.gas_used - rnd.randint(1, 60))]
                                    if fast.gas_used > 1 else [])
        for gas in gas_limits:
            fast = _outcome(src, n=n, p=p, gas=gas)
            with monkeypatch.context() as m:
                _off(m)
                slow = _outcome(src, n=n, p=p, gas=gas)
            compiler.clear_cache()
            assert (fast.status, fast.result, fast.error, fast.gas_used) == (
                slow.status, slow.result, slow.error, slow.gas_used), src
            assert fast.meter.mem == slow.meter.mem, src
            if gas == 1_000_000:
                want = _cpython(src, n, p)
                if isinstance(want, type):
                    assert fast.status == "reverted" and want.__name__ in fast.error, src
                else:
                    assert fast.status == "success" and fast.result == want, src


def test_the_generator_reaches_the_fast_paths():
    """The programs above do exercise all three fast paths (and the tested forms)."""
    seen = {"settle": 0, "plain_aug": 0, "str_key": 0}
    import ast

    from pycontract import vetting
    for seed in range(40):
        src = _program(random.Random(seed))
        vetted = vetting.vet(src, "c")
        out = ast.unparse(rewriter.rewrite(vetted.tree, entry_points=dict(vetted.entry_points)))
        seen["settle"] += "_pc_add_str_settle" in out
        seen["plain_aug"] += any(f"    d[k{j}] += " in out or f"    d[k{j}] -= " in out
                                 for j in range(3))
        seen["str_key"] += any(f"if k{j} in d:" in out for j in range(3))
    assert all(v >= 5 for v in seen.values()), seen
