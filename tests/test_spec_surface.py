"""SPEC.md, walked literally: the product surface users and the acceptance checks rely on.

Each test follows one section of the spec with its own example (the token of section 1), through
the public API and the installed ``pycontract`` command; deeper checks live in tests/host,
tests/cli, tests/vetting, tests/metering and tests/runtime.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pycontract import Chain, QueryError, Tx

SPEC_TOKEN = '''from pycontract import public, view, constructor, Map, Value, ctx, require, emit

balances = Map(default=0)
total_supply = Value(default=0)

@constructor
def init(supply: int) -> None:
    balances[ctx.sender] = supply
    total_supply.set(supply)

@public
def transfer(to: str, amount: int) -> bool:
    require(amount > 0, "amount must be positive")
    require(balances[ctx.sender] >= amount, "insufficient balance")
    balances[ctx.sender] -= amount
    balances[to] += amount
    emit("Transfer", sender=ctx.sender, to=to, amount=amount)
    return True

@view
def balance_of(owner: str) -> int:
    return balances[owner]
'''

PYCONTRACT = str(Path(sys.executable).parent / "pycontract")


def test_section_1_the_contract_imports_and_runs_as_plain_python(tmp_path, monkeypatch):
    (tmp_path / "spec_token.py").write_text(SPEC_TOKEN)
    monkeypatch.syspath_prepend(str(tmp_path))
    import spec_token
    from pycontract import api

    api.ctx.set(sender="alice")
    try:
        spec_token.init(100)
        assert spec_token.transfer("bob", 5) is True
        assert spec_token.balance_of("bob") == 5
        assert spec_token.balance_of("alice") == 95
        (event,) = api.emitted("Transfer")
        assert event.fields == {"sender": "alice", "to": "bob", "amount": 5}
    finally:
        api.reset()


def test_section_2_host_api(tmp_path):
    db = tmp_path / "ledger.db"
    chain = Chain(str(db))
    r = chain.deploy("token", SPEC_TOKEN, sender="alice", args={"supply": 1000}, gas_limit=2_000_000)
    assert (r.status, r.error) == ("success", None) and r.gas_used > 0 and r.tx_hash
    r = chain.call("token", "transfer", {"to": "bob", "amount": 5}, sender="alice", gas_limit=100_000)
    assert (r.status, r.result, r.error) == ("success", True, None)
    assert [(e.contract, e.name, e.fields) for e in r.events] == [
        ("token", "Transfer", {"sender": "alice", "to": "bob", "amount": 5})]
    assert chain.query("token", "balance_of", {"owner": "bob"}) == 5
    assert chain.query("token", "balance_of", {"owner": "bob"}, gas_limit=10_000) == 5
    receipts = chain.execute_block([
        Tx(sender="alice", contract="token", function="transfer",
           args={"to": "carol", "amount": 1}, gas_limit=100_000),
        Tx(sender="carol", contract="token", function="transfer",
           args={"to": "dave", "amount": 2}, gas_limit=100_000),  # reverted: carol has 1
        Tx(sender="alice", contract="token", function="transfer",
           args={"to": "dave", "amount": 1}, gas_limit=2_200),  # out of gas (after the intrinsic cost)
        Tx(sender="alice", contract="token", function="transfer",
           args={"to": "dave", "amount": "1"}, gas_limit=100_000),  # rejected
    ])
    assert [r.status for r in receipts] == ["success", "reverted", "out_of_gas", "rejected"]
    reverted, oog, rejected = receipts[1:]
    assert "token:" in reverted.error and "insufficient balance" in reverted.error
    assert reverted.events == [] and oog.events == []
    assert oog.gas_used == 2_200
    assert rejected.gas_used == 0 and "amount" in rejected.error
    assert chain.query("token", "balance_of", {"owner": "dave"}) == 0  # writes undone
    root, height = chain.state_root(), chain.height
    assert isinstance(root, str) and len(root) == 64 and height == 3
    chain.close()
    with Chain(str(db)) as again:  # persistent; the same root after reopening
        assert (again.state_root(), again.height) == (root, height)
    with Chain() as memory:  # in memory
        assert memory.deploy("token", SPEC_TOKEN, sender="a", args={"supply": 1}).status == "success"
        with pytest.raises(QueryError):
            memory.query("token", "balance_of", {"owner": "a"}, gas_limit=6_050)


@pytest.mark.parametrize("bad", [
    {"function": "nope", "args": {}},                                  # unknown function
    {"function": "balance_of", "args": {"who": "x"}},                  # wrong argument name
    {"function": "balance_of", "args": {"owner": 5}},                  # wrong type
])
def test_section_2_rejected_before_any_code_runs(tmp_path, bad):
    with Chain(str(tmp_path / "l.db")) as chain:
        chain.deploy("token", SPEC_TOKEN, sender="alice", args={"supply": 10})
        r = chain.call("token", bad["function"], bad["args"], sender="alice")
        assert (r.status, r.gas_used) == ("rejected", 0) and r.error
        assert chain.height == 1


def run_cli(*args, cwd):
    return subprocess.run([PYCONTRACT, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_section_3_command_line(tmp_path):
    (tmp_path / "tok.py").write_text(SPEC_TOKEN)
    p = run_cli("check", "tok.py", cwd=tmp_path)
    assert p.returncode == 0 and "transfer" in p.stdout
    p = run_cli("deploy", "--db", "ledger.db", "token", "tok.py", "--sender", "alice",
                "--args", '{"supply": 1000}', "--gas", "2000000", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["status"] == "success"
    p = run_cli("call", "--db", "ledger.db", "token", "transfer", '{"to": "bob", "amount": 5}',
                "--sender", "alice", "--gas", "100000", "--json", cwd=tmp_path)
    assert p.returncode == 0 and json.loads(p.stdout)["result"] is True
    p = run_cli("query", "--db", "ledger.db", "token", "balance_of", '{"owner": "bob"}',
                cwd=tmp_path)
    assert (p.returncode, p.stdout.strip()) == (0, "5")
    p = run_cli("query", "--db", "ledger.db", "token", "balance_of", '{"owner": "bob"}',
                "--json", cwd=tmp_path)
    assert json.loads(p.stdout) == {"result": 5}
    (tmp_path / "bad.py").write_text("import os\nx = 1 / 2\n")
    p = run_cli("check", "bad.py", cwd=tmp_path)
    assert p.returncode == 1 and "bad.py:1:1:" in p.stderr + p.stdout
    assert "Traceback" not in p.stderr
    for args in (["call", "--db", "ledger.db", "nothere", "f", "--sender", "a"],
                 ["query", "--db", "ledger.db", "token", "balance_of", "{not json"],
                 ["deploy", "--db", "ledger.db", "x", "missing.py", "--sender", "a"]):
        p = run_cli(*args, cwd=tmp_path)
        assert p.returncode != 0 and p.stderr.startswith("error:"), (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) <= 2 and "Traceback" not in p.stderr
    p = run_cli("demo", cwd=tmp_path)
    assert p.returncode == 0 and "state root" in p.stdout
