"""The README's tour must keep working: its contract, Python snippet and commands run as written."""

import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_readme_opens_with_the_two_newcomer_commands():
    first = blocks("sh")[0]
    commands = [line for line in first.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert "pycontract demo" in commands[0]
    assert "tox" in commands[1]


def test_readme_tour_runs_as_written(tmp_path):
    contract, script = blocks("python")[:2]
    (tmp_path / "coin.py").write_text(contract)
    (tmp_path / "run.py").write_text(script)
    run = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("success ")
    (tmp_path / "ledger.db").unlink()
    bindir = Path(sys.executable).parent
    for line in blocks("sh")[1].splitlines():
        command = line.split("#")[0].strip()
        if not command:
            continue
        assert command.startswith("pycontract ")
        proc = subprocess.run(f"{bindir}/{command}", shell=True, cwd=tmp_path,
                              capture_output=True, text=True)
        assert proc.returncode == 0, (command, proc.stderr)
    assert proc.stdout.startswith("replayed 2 blocks")
