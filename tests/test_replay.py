"""`pycontract replay`: re-execute a ledger's history and check it byte for byte."""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pycontract import Chain, Tx
from pycontract import replay as replaying

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TOKEN = (EXAMPLES / "token.py").read_text()
PYCONTRACT = [sys.executable, "-m", "pycontract.cli"]


def write_history(db: Path) -> None:
    """A history with every receipt kind, including rejected transactions between included ones."""
    with Chain(db) as chain:
        chain.deploy("token", TOKEN, sender="alice", args={"supply": 1000}, gas_limit=5_000_000)
        chain.execute_block([
            Tx(sender="alice", contract="token", function="transfer", args={"to": "bob", "amount": 5},
               gas_limit=100_000),
            Tx(sender="alice", contract="token", function="transfer", args={"to": "bob"},
               gas_limit=100_000),  # rejected: missing argument
            Tx(sender="bob", contract="token", function="transfer",
               args={"to": "carol", "amount": 50}, gas_limit=100_000),  # reverted
            Tx(sender="nobody", contract="nothere", function="f", gas_limit=100_000),  # rejected
            Tx(sender="alice", contract="token", function="transfer",
               args={"to": "dave", "amount": 1}, gas_limit=2_300),  # out of gas
            Tx(sender="bob", contract="token", function="transfer",
               args={"to": "carol", "amount": 2}, gas_limit=100_000),
        ])
        chain.call("token", "approve", {"spender": "bob", "amount": 10}, sender="alice",
                   gas_limit=100_000, time=50)


def test_replay_matches_a_history_with_every_outcome(tmp_path):
    db = tmp_path / "ledger.db"
    write_history(db)
    result = replaying.replay(db)
    assert result.ok, result.divergence.describe()
    assert (result.blocks, result.transactions) == (3, 6)


def test_replay_of_a_live_ledger_does_not_block_the_writer(tmp_path):
    db = tmp_path / "ledger.db"
    write_history(db)
    with Chain(db) as chain:
        assert replaying.replay(db).ok
        r = chain.call("token", "transfer", {"to": "erin", "amount": 1}, sender="alice",
                       gas_limit=100_000)
        assert r.status == "success"


def test_tampered_receipt_is_reported_with_block_tx_and_field(tmp_path):
    db = tmp_path / "ledger.db"
    write_history(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE transactions SET gas_used = gas_used + 1 WHERE height = 2 AND idx = 1")
    result = replaying.replay(db)
    d = result.divergence
    assert (d.height, d.tx_index, d.field) == (2, 1, "gas_used")
    assert d.expected == d.actual + 1
    proc = subprocess.run([*PYCONTRACT, "replay", "--db", str(db)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "block 2, transaction 1" in proc.stdout and "field:    gas_used" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_tampered_state_root_is_reported(tmp_path):
    db = tmp_path / "ledger.db"
    write_history(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE blocks SET state_root = 'ab' || substr(state_root, 3) WHERE height = 3")
    d = replaying.replay(db).divergence
    assert (d.height, d.tx_index, d.field) == (3, None, "state_root")


def test_cli_replay_success_and_errors(tmp_path):
    db = tmp_path / "ledger.db"
    write_history(db)
    ok = subprocess.run([*PYCONTRACT, "replay", "--db", str(db)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "replayed 3 blocks, 6 transactions" in ok.stdout
    missing = subprocess.run([*PYCONTRACT, "replay", "--db", str(tmp_path / "nope.db")],
                             capture_output=True, text=True)
    assert missing.returncode != 0
    assert missing.stderr.startswith("error:") and "Traceback" not in missing.stderr


def _other_interpreter():
    """The writer interpreter for the cross-version test: set by tox's crossversion env."""
    exe = os.environ.get("PYCONTRACT_WRITER_PYTHON")
    if not exe or not shutil.which(exe) and not os.path.exists(exe):
        return None
    return exe


@pytest.mark.determinism
def test_ledger_written_by_another_python_replays_identically(tmp_path):
    writer = _other_interpreter()
    if writer is None:
        pytest.skip("PYCONTRACT_WRITER_PYTHON not set (tox -e crossversion sets it)")
    version = subprocess.run([writer, "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version != str(tuple(sys.version_info[:2])), "writer must be another CPython version"
    db = tmp_path / "ledger.db"
    script = (
        "import sys; sys.path.insert(0, sys.argv[2]); from pathlib import Path;"
        "import test_replay; test_replay.write_history(Path(sys.argv[1]))"
    )
    subprocess.run([writer, "-c", script, str(db), str(Path(__file__).parent)], check=True)
    result = replaying.replay(db)
    assert result.ok, result.divergence.describe()
    assert result.transactions == 6
