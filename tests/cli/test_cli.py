"""The `pycontract` command end to end, as a subprocess: exit codes, output, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib.resources import files
from pathlib import Path

import pytest

from pycontract import Chain


def _command() -> list[str]:
    exe = Path(sys.executable).with_name("pycontract")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("pycontract")
    return [found] if found else [sys.executable, "-m", "pycontract.cli"]


def run(*args, cwd=None, timeout=300):
    p = subprocess.run(_command() + [str(a) for a in args], capture_output=True, text=True,
                       cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)
    assert "Traceback" not in p.stderr, p.stderr
    assert "Traceback" not in p.stdout, p.stdout
    return p


def one_error_line(p) -> str:
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "token.py"
    path.write_text(files("pycontract.examples").joinpath("token.py").read_text())
    return path


BLOB = textwrap.dedent(
    """
    from pycontract import Value, constructor, public, view

    data = Value(default=b"")


    @constructor
    def init(seed: bytes) -> None:
        data.set(seed)


    @public
    def put(blob: bytes, tag: str) -> int:
        data.set(blob)
        return len(blob)


    @view
    def get() -> bytes:
        return data.get()
    """
).lstrip()


def test_check_ok_and_problems(tmp_path, token_file):
    p = run("check", token_file)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("\n") == 1
    assert "transfer" in p.stdout and "balance_of" in p.stdout
    p = run("check", "--json", token_file)
    assert p.returncode == 0 and json.loads(p.stdout)["ok"] is True

    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\nx = 1.5\n")
    p = run("check", bad)
    assert p.returncode == 1
    problem_lines = [line for line in p.stderr.splitlines() if line.startswith(f"{bad}:")]
    assert any(line.startswith(f"{bad}:1:") for line in problem_lines), p.stderr
    assert any(line.startswith(f"{bad}:3:") for line in problem_lines), p.stderr
    p = run("check", "--json", bad)
    assert p.returncode == 1 and json.loads(p.stdout)["ok"] is False

    p = run("check", tmp_path / "missing.py")
    assert p.returncode == 2 and "no such file" in one_error_line(p)


def test_deploy_call_query_round_trip(tmp_path, token_file):
    db = tmp_path / "ledger.db"
    p = run("deploy", "--db", db, "token", token_file, "--sender", "alice", "--args", '{"supply": 1000}')
    assert p.returncode == 0, p.stderr
    assert "status:   success" in p.stdout
    p = run("call", "--db", db, "token", "transfer", '{"to": "bob", "amount": 5}', "--sender", "alice",
            "--json")
    assert p.returncode == 0, p.stderr
    receipt = json.loads(p.stdout)
    assert receipt["status"] == "success" and receipt["result"] is True
    assert receipt["events"][0]["name"] == "Transfer" and receipt["height"] == 2
    p = run("query", "--db", db, "token", "balance_of", '{"owner": "bob"}')
    assert p.returncode == 0 and p.stdout.strip() == "5"
    p = run("query", "--db", db, "token", "info", "--json")
    assert json.loads(p.stdout) == {"result": {"symbol": "TOK", "total_supply": 1000}}
    # a revert: receipt printed, one error line, exit 1
    p = run("call", "--db", db, "token", "transfer", '{"to": "bob", "amount": 5000}', "--sender", "alice")
    assert p.returncode == 1
    assert "status:   reverted" in p.stdout
    assert "insufficient balance" in one_error_line(p)
    # out of gas
    p = run("call", "--db", db, "token", "transfer", '{"to": "bob", "amount": 1}', "--sender", "alice",
            "--gas", "2060")
    assert p.returncode == 1 and "out_of_gas" in one_error_line(p)
    with Chain(db) as chain:
        assert chain.height == 4
        assert chain.query("token", "balance_of", {"owner": "bob"}) == 5


def test_bytes_arguments_as_hex(tmp_path):
    db, path = tmp_path / "l.db", tmp_path / "blob.py"
    path.write_text(BLOB)
    p = run("deploy", "--db", db, "blob", path, "--sender", "a", "--args", '{"seed": "0x00ff"}')
    assert p.returncode == 0, p.stderr
    p = run("query", "--db", db, "blob", "get")
    assert p.stdout.strip() == '"0x00ff"'
    p = run("call", "--db", db, "blob", "put", '{"blob": "0xdeadbeef", "tag": "0x12"}', "--sender", "a")
    assert p.returncode == 0, p.stderr
    p = run("query", "--db", db, "blob", "get", "--json")
    assert json.loads(p.stdout) == {"result": "0xdeadbeef"}
    p = run("call", "--db", db, "blob", "put", '{"blob": "0xzz", "tag": "t"}', "--sender", "a")
    assert p.returncode == 2 and "not valid hex" in one_error_line(p)
    p = run("call", "--db", db, "blob", "put", '{"blob": "dead", "tag": "t"}', "--sender", "a")
    assert p.returncode == 2 and "0x" in one_error_line(p)


def test_bad_input_is_one_clear_line(tmp_path, token_file):
    db = tmp_path / "ledger.db"
    assert run("deploy", "--db", db, "token", token_file, "--sender", "alice",
               "--args", '{"supply": 10}').returncode == 0
    cases = [
        (["call", "--db", db, "token", "transfer", "{not json", "--sender", "a"], 2, "not valid JSON"),
        (["call", "--db", db, "token", "transfer", "[1, 2]", "--sender", "a"], 2, "JSON object"),
        (["call", "--db", db, "token", "transfer", '{"to": "b", "amount": 1.5}', "--sender", "a"], 2, "float"),
        (["call", "--db", db, "nobody", "transfer", "{}", "--sender", "a"], 1, "unknown contract"),
        (["call", "--db", db, "token", "move", "{}", "--sender", "a"], 1, "private"),
        (["call", "--db", db, "token", "transfer", '{"to": "b"}', "--sender", "a"], 1, "missing argument 'amount'"),
        (["call", "--db", db, "token", "transfer", '{"to": "b", "amount": "1"}', "--sender", "a"], 1, "must be int"),
        (["query", "--db", db, "token", "transfer", '{"to": "b", "amount": 1}'], 1, "not a view"),
        (["query", "--db", tmp_path / "none.db", "token", "info"], 2, "no ledger"),
        (["deploy", "--db", db, "token", token_file, "--sender", "a", "--args", '{"supply": 1}'], 1, "already exists"),
        (["deploy", "--db", db, "Bad-Name", token_file, "--sender", "a", "--args", '{"supply": 1}'], 1, "invalid contract name"),
        (["deploy", "--db", db, "t2", tmp_path / "nope.py", "--sender", "a"], 2, "no such file"),
        (["call", "--db", db, "token", "transfer"], 2, "--sender"),
        (["frobnicate"], 2, "No such command"),
    ]
    for args, code, text in cases:
        p = run(*args)
        assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
        assert text in p.stderr, (args, p.stderr)
        if args[0] != "frobnicate" and "--sender" not in text:
            one_error_line(p)


def test_deploy_reports_vetting_problems_with_the_file_path(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from pycontract import public\n\n@public\ndef f() -> int:\n    return eval('1')\n")
    p = run("deploy", "--db", tmp_path / "l.db", "bad", bad, "--sender", "a")
    assert p.returncode == 1
    assert any(line.startswith(f"{bad}:5:") for line in p.stderr.splitlines()), p.stderr


def test_locked_database(tmp_path, token_file):
    db = tmp_path / "ledger.db"
    with Chain(db) as chain:
        chain.deploy("token", token_file.read_text(), sender="a", args={"supply": 1})
        # a writer is refused; a query (read-only) is not: tests/cli/test_cli_kit.py
        p = run("call", "--db", db, "token", "transfer", '{"to": "b", "amount": 1}',
                "--sender", "a")
    assert p.returncode == 3
    assert "already open" in one_error_line(p)


def test_demo_runs_end_to_end(tmp_path):
    p = run("demo", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    for text in ("success", "reverted", "out_of_gas", "rejected", "token.Transfer", "auction.Bid",
                 "ballot.Voted", "state root"):
        assert text in out, text
    assert os.listdir(tmp_path) == []  # a temporary database, removed afterwards
    p2 = run("demo", "--json")
    assert p2.returncode == 0
    data = json.loads(p2.stdout)
    assert data["state_root"] in out  # deterministic: the same root every run
    assert any(s.get("receipt", {}).get("status") == "out_of_gas" for s in data["steps"])


def test_demo_ledger_runs_as_a_plain_script(tmp_path):
    script = Path(str(files("pycontract.examples").joinpath("demo_ledger.py")))
    db = tmp_path / "demo.db"
    p = subprocess.run([sys.executable, str(script), str(db)], capture_output=True, text=True,
                       timeout=300, cwd=script.parent)
    assert p.returncode == 0, p.stderr
    assert "state root" in p.stdout
    with Chain(db) as chain:
        assert chain.height == 14
        assert chain.query("ballot", "winner") == "coffee"
