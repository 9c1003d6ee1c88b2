"""``pycontract check`` warns where a contract visibly depends on a remaining deviation from
CPython (issue #13): the line where its plain-Python tests pass while the chain may differ."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pycontract.vetting.deviations import deviation_warnings

SRC = '''\
from pycontract import public


@public
def f(weights: dict, plain: dict) -> list:
    d = {'a': 1}
    ks = d.keys()
    for k in d.keys():
        pass
    n = len(d.items()) + sum(d.values())
    if 'a' in d.keys() and ks == d.keys():
        pass
    out = []
    for k in weights:
        out.append(k)
    out.append(plain['x'])
    try:
        d['x']
    except KeyError as e:
        out.append(str(e))
        out.append(f"{e}")
        out.append(str(d))
    return out + list(ks) + ['é'.upper(), 'e'.upper()]
'''


def test_each_visible_dependence_is_warned_at_its_line():
    got = [(w.line, w.col, w.message.split(":")[1].strip()[:24]) for w in
           deviation_warnings(SRC, "c.py")]
    assert got == [
        (7, 10, "dict.keys() is a list sn"),
        (11, 34, "dict.keys() is a list sn"),
        (14, 14, "dict argument 'weights' "),
        (20, 20, "str() of a caught except"),
        (21, 23, "str() of a caught except"),
        (23, 30, "'upper' accepts ASCII te"),
    ]
    assert all(w.kind == "warning" and w.message.startswith("warning: ") for w in
               deviation_warnings(SRC, "c.py"))


def test_a_contract_without_such_uses_has_no_warnings():
    ok = SRC.split("    ks = d.keys()")[0] + "    return sorted(d.items())\n"
    assert deviation_warnings(ok, "c.py") == []


def test_check_prints_warnings_and_still_succeeds(tmp_path):
    path = tmp_path / "c.py"
    path.write_text(SRC, encoding="utf-8")
    exe = Path(sys.executable).with_name("pycontract")
    cmd = [str(exe)] if exe.exists() else [shutil.which("pycontract") or "pycontract"]
    p = subprocess.run(cmd + ["check", str(path)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert f"{path}:7:10: warning: dict.keys() is a list snapshot" in p.stderr
    assert "Traceback" not in p.stderr and p.stdout.startswith(f"{path}: ok: ")
