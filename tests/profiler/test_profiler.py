"""The gas profiler (pycontract.profiler): rows per (contract, line) that add up exactly to
gas_used, through real workers, and profiling changes no receipt and no state root."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pycontract.metering.schedule import intrinsic_gas
from engine_support import example, src

from pycontract import Chain, Tx, conformance
from pycontract.errors import NodeFault
from pycontract.profiler import LineProfiler, ProfileLine, check_profile, format_table
from pycontract.runtime import Meter

LOOPS = src(
    """
    from pycontract import Map, Value, public, require, view

    total = Value(default=0)
    seen = Map(default=0)


    @public
    def spin(n: int) -> int:
        acc = 0
        for i in range(n):
            acc += double(i)
        total.set(acc)
        return acc


    def double(x: int) -> int:
        return x * 2


    @public
    def fib(n: int) -> int:
        return fib_of(n)


    def fib_of(n: int) -> int:
        if n < 2:
            return n
        return fib_of(n - 1) + fib_of(n - 2)


    @public
    def write_many(n: int) -> int:
        for i in range(n):
            seen[str(i)] = i
        require(n < 50, "too many")
        return n


    @public
    def fail_late(n: int) -> int:
        for i in range(n):
            seen[str(i)] = i
        x = {}
        return x["missing"]


    @public
    def dive(n: int) -> int:
        return down(n)


    def down(n: int) -> int:
        if n == 0:
            return 0
        return down(n - 1) + 1


    @view
    def peek(n: int) -> int:
        acc = 0
        for i in range(n):
            acc += seen[str(i)]
        return acc
    """
)

LINE_OF = {text: i for i, text in enumerate(LOOPS.splitlines(), start=1)}


def line(text: str) -> int:
    return LINE_OF[text]


def rows(r) -> dict:
    return {(p.contract, p.line): p for p in r.profile}


def assert_sums(r):
    assert r.profile is not None
    assert sum(p.gas for p in r.profile) == r.gas_used
    assert all(p.gas >= 0 and p.hits >= 0 for p in r.profile)
    gases = [p.gas for p in r.profile]
    assert gases == sorted(gases, reverse=True)  # heaviest first


def history():
    """Transactions covering success, revert, out of gas, rejection, nested cross-contract
    calls, loops and recursion: [(kind, args...)], each run in a block of its own."""
    return [
        Tx(sender="alice", contract="token", args={"supply": 1000}, source=example("token.py")),
        Tx(sender="alice", contract="auction", args={"token_contract": "token", "duration": 50},
           source=example("auction.py")),
        Tx(sender="alice", contract="loops", source=LOOPS),
        Tx(sender="alice", contract="token", function="approve",
           args={"spender": "auction", "amount": 100}),
        Tx(sender="alice", contract="auction", function="bid", args={"amount": 10}),
        Tx(sender="alice", contract="auction", function="bid", args={"amount": 500}),  # reverts in token
        Tx(sender="alice", contract="auction", function="bid", args={"amount": 20},
           gas_limit=2_500),  # out of gas inside the token (nested)
        Tx(sender="alice", contract="loops", function="spin", args={"n": 30}),
        Tx(sender="alice", contract="loops", function="fib", args={"n": 12}),
        Tx(sender="alice", contract="loops", function="write_many", args={"n": 60}),  # reverts
        Tx(sender="alice", contract="loops", function="write_many", args={"n": 40},
           gas_limit=3_000),  # out of gas in a loop
        Tx(sender="alice", contract="loops", function="fail_late", args={"n": 3}),
        Tx(sender="alice", contract="loops", function="nope"),  # rejected
        Tx(sender="alice", contract="loops", function="write_many", args={"n": 5}),
        Tx(sender="alice", contract="loops", function="dive", args={"n": 150}),
        Tx(sender="alice", contract="loops", function="dive", args={"n": 400}),  # depth limit
        Tx(sender="alice", contract="nothere", function="f"),  # rejected by the host
    ]


def run_history(path, profile):
    receipts = []
    with Chain(path) as c:
        for tx in history():
            receipts.extend(c.execute_block([tx], time=c.height + 1, profile=profile))
        root = c.state_root()
        stored = [c.receipt(r.tx_hash) for r in receipts if r.height is not None]
    return receipts, root, stored


def test_profiling_changes_no_receipt_and_no_state_root(tmp_path):
    plain, root_plain, _ = run_history(tmp_path / "plain.db", profile=False)
    prof, root_prof, stored = run_history(tmp_path / "prof.db", profile=True)
    assert [r.status for r in plain] == [
        "success", "success", "success", "success", "success", "reverted", "out_of_gas",
        "success", "success", "reverted", "out_of_gas", "reverted", "rejected", "success",
        "success", "reverted", "rejected"]
    for a, b in zip(plain, prof):
        assert a.profile is None
        assert a.to_dict() == {k: v for k, v in b.to_dict().items() if k != "profile"}
        assert a == b  # the profile is not compared
        assert_sums(b)
    assert root_plain == root_prof
    # not consensus data: never stored in the ledger
    assert all(r.profile is None for r in stored)
    assert prof[12].profile == [] and prof[-1].profile == []  # rejected: no gas, no rows


def test_nested_calls_show_the_callee_lines(tmp_path):
    token = example("token.py").splitlines()
    auction = example("auction.py").splitlines()
    with Chain(tmp_path / "l.db") as c:
        c.deploy("token", example("token.py"), sender="alice", args={"supply": 1000})
        c.deploy("auction", example("auction.py"), sender="alice",
                 args={"token_contract": "token", "duration": 5})
        c.call("token", "approve", {"spender": "auction", "amount": 100}, sender="alice")
        r = c.call("auction", "bid", {"amount": 10}, sender="alice", profile=True)
    assert r.status == "success"
    assert_sums(r)
    by = rows(r)
    call_line = next(i for i, t in enumerate(auction, 1) if 'call(token.get(), "transfer_from"' in t)
    move_line = next(i for i, t in enumerate(token, 1) if "balances[to] += amount" in t)
    assert by[("auction", call_line)].gas > 0
    assert by[("token", move_line)].gas > 0 and by[("token", move_line)].hits == 1
    assert {p.contract for p in r.profile} == {"auction", "token"}
    text = format_table(r.profile, {"token": "\n".join(token), "auction": "\n".join(auction)},
                        r.gas_used)
    assert "balances[to] += amount" in text and f"token:{move_line}" in text


def test_loops_count_hits_and_a_private_call_returns_to_its_caller_line(tmp_path):
    with Chain(tmp_path / "l.db") as c:
        c.deploy("loops", LOOPS, sender="alice")
        small = c.call("loops", "spin", {"n": 5}, sender="alice", profile=True)
        big = c.call("loops", "spin", {"n": 50}, sender="alice", profile=True)
        rec = c.call("loops", "fib", {"n": 10}, sender="alice", profile=True)
    for r in (small, big, rec):
        assert r.status == "success"
        assert_sums(r)
    body = ("loops", line("        acc += double(i)"))
    helper = ("loops", line("    return x * 2"))
    assert rows(small)[body].hits == 5 and rows(big)[body].hits == 50
    assert rows(small)[helper].hits == 5 and rows(big)[helper].hits == 50
    # (schedule 6) the range loop's iterations are paid up front, on its `for` line
    head = ("loops", body[1] - 1)
    assert rows(big)[head].gas > rows(small)[head].gas
    # fib_of(10) runs 177 times: its first line has one hit per call
    assert rows(rec)[("loops", line("    if n < 2:"))].hits == 177


def test_out_of_gas_gives_the_rest_to_the_line_that_ran_out(tmp_path):
    """At every gas limit around a transaction's cost, profiled and unprofiled dry runs give
    the same receipt, and the profile's heaviest-so-far line that ran out is the error's."""
    with Chain(tmp_path / "l.db") as c:
        c.deploy("loops", LOOPS, sender="alice")
        full = c.call("loops", "write_many", {"n": 8}, sender="alice", profile=True)
        assert full.status == "success"
        for limit in sorted({1, 2, 50, 200, 500, 1000, full.gas_used - 1, full.gas_used}
                            | set(range(1, full.gas_used, max(full.gas_used // 40, 1)))):
            tx = Tx(sender="alice", contract="loops", function="write_many", args={"n": 8},
                    gas_limit=limit)
            results = []
            for profile in (False, True):
                p = c.begin_block([tx], time=c.height + 1, profile=profile)
                results.append((p.receipts[0], p.state_root))
                p.drop()
            (a, ra), (b, rb) = results
            assert a == b and ra == rb and a.to_dict().items() <= b.to_dict().items()
            assert_sums(b)
            if b.status == "out_of_gas":
                assert b.gas_used == limit
                if "paying for the contract's code" in b.error:
                    # code_load (schedule 8), before any line ran: the transaction's own row
                    assert set(rows(b)) == {("loops", 0)}, rows(b)
                    continue
                m = re.match(r"loops:(\d+): out of gas", b.error)
                assert m, b.error
                ran_out = int(m.group(1))
                assert ("loops", ran_out) in rows(b)


def test_query_profile(tmp_path):
    with Chain(tmp_path / "l.db") as c:
        c.deploy("loops", LOOPS, sender="alice")
        c.call("loops", "write_many", {"n": 10}, sender="alice")
        value = c.query("loops", "peek", {"n": 10})
        r = c.query("loops", "peek", {"n": 10}, profile=True)
        assert r.status == "success" and r.result == value == 45
        assert_sums(r)
        assert rows(r)[("loops", line("        acc += seen[str(i)]"))].hits == 10
        low_gas = intrinsic_gas(4, query=True) + 300  # a query's intrinsic cost (4-byte payload), + 300
        low = c.query("loops", "peek", {"n": 10}, gas_limit=low_gas, profile=True)
        assert low.status == "out_of_gas" and low.gas_used == low_gas and low.result is None
        assert_sums(low)
        assert c.height == 2  # queries never write


def test_deploy_profile_puts_the_deploy_bytes_on_line_0(tmp_path):
    with Chain(tmp_path / "l.db") as c:
        r = c.deploy("loops", LOOPS, sender="alice", profile=True)
    assert r.status == "success"
    assert_sums(r)
    tx_row = rows(r)[("loops", 0)]
    assert tx_row.gas >= len(LOOPS.encode())  # the source bytes are charged before any line


# ------------------------------------------------------------------------------- unit checks


def test_host_refuses_profiles_that_do_not_add_up():
    good = [["a", 0, 5, 1], ["b", 3, 7, 2]]
    assert check_profile(good, 12, {"a", "b"}) == [ProfileLine("b", 3, 7, 2),
                                                   ProfileLine("a", 0, 5, 1)]
    bad = [
        ([["a", 0, 5, 1]], 12, "sum to 5"),
        ([["a", 0, 5, 1], ["c", 1, 7, 1]], 12, "call tree"),
        ([["a", 1, 6, 1], ["a", 1, 6, 1]], 12, "twice"),
        ([["a", 1, 13, 1], ["a", 2, -1, 1]], 12, "non-negative"),
        ([["a", 1, 12, True]], 12, "non-negative ints"),
        ([("a", 1, 12, 1)], 12, "not [contract"),
        ({"a": 12}, 12, "not a list"),
        (None, 12, "not a list"),
    ]
    for rows_, used, why in bad:
        with pytest.raises(NodeFault, match=re.escape(why)):
            check_profile(rows_, used, {"a", "b"})


def test_worker_side_rows_must_add_up():
    m = Meter(100)
    prof = LineProfiler(m, "c")
    m.charge(30)
    assert prof.rows(30) == [["c", 0, 30, 1]]
    m2 = Meter(100)
    prof2 = LineProfiler(m2, "c")
    m2.charge(30)
    with pytest.raises(RuntimeError, match="do not add up"):
        prof2.rows(20)  # observed more than the receipt says: a bug, never a silent profile


# ------------------------------------------------------------------------------- vectors

VECTORS = conformance.vector_paths(Path(__file__).parents[1] / "vectors")


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_every_conformance_vector_replays_identically_when_profiled(path, tmp_path):
    """The recorded vectors (the language, gas, limits, storage, cross-contract surface) run
    profiled give exactly their recorded receipts and state roots, and every profile adds up."""
    vector = json.loads(path.read_text())
    blocks_out = []
    with Chain(tmp_path / "vector.db") as chain:
        for block in vector["blocks"]:
            receipts = chain.execute_block([conformance._make_tx(t) for t in block["txs"]],
                                           time=block["time"], profile=True)
            for r in receipts:
                assert_sums(r)
            blocks_out.append({"receipts": [conformance.receipt_json(r) for r in receipts],
                               "height": chain.height, "state_root": chain.state_root()})
    divergence = conformance.compare(vector, {"name": vector["name"], "blocks": blocks_out})
    assert divergence is None, str(divergence)


def test_a_profile_the_host_refuses_is_a_node_fault_and_commits_nothing(tmp_path, monkeypatch):
    """The host's wiring around check_profile: a refused profile drops the worker, commits
    nothing, and the next request runs on a new worker."""
    import pycontract.host.chain as chain_mod

    real = chain_mod.check_profile
    with Chain(tmp_path / "l.db") as c:
        c.deploy("loops", LOOPS, sender="alice")
        root, height, pid = c.state_root(), c.height, c.worker_pid
        # as if the worker's rows summed to one gas less than its gas_used
        monkeypatch.setattr(chain_mod, "check_profile",
                            lambda rows, used, names: real(rows, used + 1, names))
        with pytest.raises(NodeFault, match="sum to .* nothing was committed"):
            c.call("loops", "spin", {"n": 3}, sender="alice", profile=True)
        assert (c.state_root(), c.height) == (root, height)
        monkeypatch.setattr(chain_mod, "check_profile", real)
        r = c.call("loops", "spin", {"n": 3}, sender="alice", profile=True)
        assert r.status == "success" and c.worker_pid != pid
        assert_sums(r)


def test_the_test_kit_profiles_a_call(tmp_path):
    from pycontract.testing import TestChain

    with TestChain(tmp_path / "l.db", base_dir=tmp_path) as chain:
        chain.deploy("loops", LOOPS, sender="alice")
        r = chain.call("loops", "spin", {"n": 4}, sender="alice", profile=True)
        assert rows(r)[("loops", line("        acc += double(i)"))].hits == 4
        assert_sums(r)
        assert chain.call("loops", "spin", {"n": 4}, sender="alice").profile is None


def test_a_query_reply_with_a_malformed_profile_is_a_node_fault(tmp_path, monkeypatch):
    """Chain.query(profile=True) validates the reply's rows like a block's: a real worker's
    reply altered on its way in (rows that are not a list: this was a TypeError, a traceback
    on the CLI, before the names were read only from a list)."""
    real = Chain._request

    def altered(self, msg, timeout):
        reply = real(self, msg, timeout)
        if msg.get("op") == "query" and msg.get("profile"):
            reply["profile"] = 5
        return reply

    with Chain(tmp_path / "l.db") as c:
        c.deploy("loops", LOOPS, sender="alice")
        monkeypatch.setattr(Chain, "_request", altered)
        with pytest.raises(NodeFault, match="invalid profile: not a list"):
            c.query("loops", "peek", {"n": 0}, profile=True)
        assert c.query("loops", "peek", {"n": 0}) == 0  # unprofiled replies untouched
        monkeypatch.setattr(Chain, "_request", real)
        assert c.query("loops", "peek", {"n": 0}, profile=True).result == 0
