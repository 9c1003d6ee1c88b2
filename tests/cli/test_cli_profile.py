"""`pycontract call|query|deploy ... --profile` end to end, as a subprocess."""

from __future__ import annotations

import json
from importlib.resources import files

from test_cli import one_error_line, run


def _example(tmp_path, name):
    p = tmp_path / name
    p.write_text(files("pycontract.examples").joinpath(name).read_text(encoding="utf-8"))
    return p


def _deployed(tmp_path):
    db = tmp_path / "l.db"
    for name, args in (("token", {"supply": 1000}),
                       ("auction", {"token_contract": "token", "duration": 20})):
        p = run("deploy", "--db", db, name, _example(tmp_path, f"{name}.py"), "--sender", "alice",
                "--args", json.dumps(args))
        assert p.returncode == 0, p.stderr
    p = run("call", "--db", db, "token", "approve", '{"spender": "auction", "amount": 100}',
            "--sender", "alice")
    assert p.returncode == 0, p.stderr
    return db


def test_call_profile_table_and_json(tmp_path):
    db = _deployed(tmp_path)
    p = run("call", "--db", db, "auction", "bid", '{"amount": 10}', "--sender", "alice",
            "--profile")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "gas per line (heaviest first; adds up to gas used" in out
    assert "balances[to] += amount" in out  # a line of the called token contract
    assert 'call(token.get(), "transfer_from"' in out
    table = out[out.index("gas per line"):].splitlines()[3:]
    gas = [int(row.split()[0].replace(",", "")) for row in table]
    used = int(out.split("gas used: ")[1].split()[0].replace(",", ""))
    assert sum(gas) == used and gas == sorted(gas, reverse=True)

    p = run("call", "--db", db, "auction", "bid", '{"amount": 20}', "--sender", "alice",
            "--profile", "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["status"] == "success"
    assert sum(row["gas"] for row in r["profile"]) == r["gas_used"]
    assert set(r["profile"][0]) == {"contract", "line", "gas", "hits"}
    assert {row["contract"] for row in r["profile"]} == {"auction", "token"}


def test_profile_changes_no_receipt(tmp_path):
    db = _deployed(tmp_path)
    outs = []
    for extra in ([], ["--profile"]):
        p = run("call", "--db", db, "auction", "bid", '{"amount": 30}', "--sender", "alice",
                "--dry-run", "--json", *extra)
        assert p.returncode == 0, p.stderr
        r = json.loads(p.stdout)
        r.pop("profile", None)
        outs.append(r)
    assert outs[0] == outs[1]


def test_failed_call_still_profiles_and_exits_1(tmp_path):
    db = _deployed(tmp_path)
    p = run("call", "--db", db, "token", "transfer", '{"to": "bob", "amount": 5}',
            "--sender", "alice", "--gas", "6392", "--profile")  # above the intrinsic cost
    # and the token's code_load (4,092: 2,000 + 305 units x 6 + 2,096 bytes / 8, schedule 8)
    assert p.returncode == 1
    assert "status:   out_of_gas" in p.stdout and "gas per line" in p.stdout
    assert one_error_line(p).startswith("error: transaction out_of_gas: token:")


def test_query_profile(tmp_path):
    db = _deployed(tmp_path)
    p = run("query", "--db", db, "token", "balance_of", '{"owner": "alice"}', "--profile")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "1000" and lines[1].startswith("gas used: ")
    assert "return balances[owner]" in p.stdout
    p = run("query", "--db", db, "token", "balance_of", '{"owner": "alice"}', "--profile",
            "--json", "--gas", "10142")  # just above a query's intrinsic cost (6,000 + payload)
    # and the token's code_load (4,092)
    assert p.returncode == 1
    r = json.loads(p.stdout)
    assert r["status"] == "out_of_gas" and r["gas_used"] == 10142
    assert sum(row["gas"] for row in r["profile"]) == 10142
    assert one_error_line(p).startswith("error: query out_of_gas: token:")


def test_deploy_dry_run_profile_creates_no_ledger(tmp_path):
    db = tmp_path / "none.db"
    p = run("deploy", "--db", db, "token", _example(tmp_path, "token.py"), "--sender", "alice",
            "--args", '{"supply": 1000}', "--dry-run", "--profile")
    assert p.returncode == 0, p.stderr
    assert "(transaction)" in p.stdout and "balances[ctx.sender] = supply" in p.stdout
    assert not db.exists()


def test_profile_is_refused_over_a_node():
    p = run("query", "--node", "http://127.0.0.1:9", "token", "balance_of", "--profile")
    assert p.returncode == 2
    assert one_error_line(p) == "error: --profile runs on a local ledger (--db), not over --node"
