"""The author's kit on the command line: --dry-run, read-only query/replay while another process
writes, and the inspection commands (blocks, tx, storage, events) as tables and --json."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files

import pytest

from pycontract import Chain

from test_cli import one_error_line, run


@pytest.fixture
def ledger(tmp_path):
    db = tmp_path / "ledger.db"
    src = files("pycontract.examples").joinpath("token.py").read_text()
    with Chain(db) as c:
        assert c.deploy("token", src, sender="alice", args={"supply": 100}).status == "success"
        r = c.call("token", "transfer", {"to": "bob", "amount": 5}, sender="alice")
        assert r.status == "success"
    return db, r.tx_hash


def test_dry_run_call_prints_the_gas_and_commits_nothing(ledger):
    db, _ = ledger
    before = Chain(db)
    height, root = before.height, before.state_root()
    before.close()
    p = run("call", "--db", db, "token", "transfer", '{"to": "carol", "amount": 2}',
            "--sender", "alice", "--dry-run", "--json")
    assert p.returncode == 0, p.stderr
    estimate = json.loads(p.stdout)
    assert estimate["dry_run"] is True and estimate["status"] == "success"
    with Chain(db) as c:
        assert (c.height, c.state_root()) == (height, root)
        real = c.call("token", "transfer", {"to": "carol", "amount": 2}, sender="alice")
    assert real.gas_used == estimate["gas_used"]
    assert [e.to_dict() for e in real.events] == estimate["events"]


def test_dry_run_people_output_and_a_revert(ledger):
    db, _ = ledger
    p = run("call", "--db", db, "token", "transfer", '{"to": "carol", "amount": 2}',
            "--sender", "alice", "--dry-run")
    assert p.returncode == 0 and "dry run: executed, nothing committed" in p.stdout
    assert "gas estimate: " in p.stdout
    p = run("call", "--db", db, "token", "transfer", '{"to": "carol", "amount": 999}',
            "--sender", "alice", "--dry-run")
    assert p.returncode == 1
    assert one_error_line(p) == "error: transaction reverted (dry run): token:67: insufficient balance"


def test_dry_run_deploy_does_not_create_a_missing_ledger(tmp_path):
    src = tmp_path / "coin.py"
    src.write_text(files("pycontract.examples").joinpath("token.py").read_text())
    db = tmp_path / "new.db"
    p = run("deploy", "--db", db, "coin", src, "--sender", "alice", "--args", '{"supply": 1}',
            "--dry-run", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["gas_used"] > 0
    assert not db.exists()


def test_dry_run_over_a_node_is_refused_in_one_line(tmp_path):
    p = run("call", "--node", "http://127.0.0.1:9", "--key", tmp_path / "k.json", "c", "f",
            "--dry-run")
    assert p.returncode != 0
    one_error_line(p)


@pytest.fixture
def writer(ledger):
    """Another process holding the ledger open for writing (the lock), until the test ends."""
    db, _ = ledger
    code = ("import sys; from pycontract import Chain; c = Chain(sys.argv[1]); "
            "print('open', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "open"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)


def test_query_replay_and_inspection_work_while_another_process_writes(ledger, writer):
    db, tx_hash = ledger
    p = run("call", "--db", db, "token", "transfer", '{"to": "x", "amount": 1}', "--sender", "alice")
    assert p.returncode == 3  # the writer's lock is really held
    p = run("query", "--db", db, "token", "balance_of", '{"owner": "bob"}')
    assert (p.returncode, p.stdout.strip()) == (0, "5"), p.stderr
    p = run("replay", "--db", db)
    assert p.returncode == 0 and "replayed 2 blocks" in p.stdout, p.stderr
    for args in (["blocks"], ["tx", tx_hash], ["storage", "token"], ["events"]):
        p = run(*args, "--db", db)
        assert p.returncode == 0, (args, p.stderr)


def test_blocks_table_and_json(ledger):
    db, _ = ledger
    p = run("blocks", "--db", db)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["height", "time", "txs", "hash", "state", "root"]
    assert [line.split()[0] for line in lines[2:]] == ["1", "2"]
    data = json.loads(run("blocks", "--db", db, "--json").stdout)["blocks"]
    with Chain(db) as c:
        assert data[-1]["state_root"] == c.state_root()
    assert [b["height"] for b in json.loads(run("blocks", "--db", db, "--last", "1", "--json").stdout)["blocks"]] == [2]


def test_tx_by_hash_and_prefix_with_receipt_and_events(ledger):
    db, tx_hash = ledger
    full = json.loads(run("tx", "--db", db, tx_hash, "--json").stdout)
    assert full["status"] == "success" and full["function"] == "transfer"
    assert full["events"] == [{"contract": "token", "name": "Transfer",
                               "fields": {"sender": "alice", "to": "bob", "amount": 5}}]
    short = json.loads(run("tx", "--db", db, tx_hash[:10], "--json").stdout)
    assert short == full
    p = run("tx", "--db", db, tx_hash)
    assert "call token.transfer" in p.stdout and 'token.Transfer ' in p.stdout
    p = run("tx", "--db", db, "ab" * 32)
    assert p.returncode == 1 and "no committed transaction" in one_error_line(p)


def test_storage_decoded(ledger):
    db, _ = ledger
    data = json.loads(run("storage", "--db", db, "token", "--json").stdout)
    assert data["storage"]["balances"] == {"alice": 95, "bob": 5}
    assert data["storage"]["total_supply"] == 100
    rows = run("storage", "--db", db, "token").stdout.splitlines()
    assert any(r.split() == ["balances", "bob", "5"] for r in rows)
    p = run("storage", "--db", db, "nope")
    assert p.returncode == 1 and "no contract named 'nope'" in one_error_line(p)


def test_events_filtered(ledger):
    db, _ = ledger
    every = json.loads(run("events", "--db", db, "--json").stdout)["events"]
    assert [(e["height"], e["name"]) for e in every] == [(1, "Transfer"), (2, "Transfer")]
    only = json.loads(run("events", "--db", db, "--contract", "token", "--name", "Transfer",
                          "--last", "1", "--json").stdout)["events"]
    assert only == every[-1:]
    assert json.loads(run("events", "--db", db, "--name", "Approval", "--json").stdout)["events"] == []
    assert run("events", "--db", db, "--name", "Approval").stdout.strip() == "(none)"


def test_inspection_of_a_missing_ledger_is_one_line(tmp_path):
    p = run("blocks", "--db", tmp_path / "none.db")
    assert p.returncode == 2 and "no ledger here" in one_error_line(p)
    assert not (tmp_path / "none.db").exists()
