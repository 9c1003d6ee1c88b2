"""Transactions through the public API: success, revert, out of gas, views, rejections."""

from __future__ import annotations

import re

import pytest
from engine_support import COUNTER, example, src

from pycontract import Chain, QueryError, Tx
from ledger_store import codec
from pycontract.host import MAX_GAS_PER_TX
from pycontract.metering.schedule import SCHEDULE, intrinsic_gas
from pycontract.errors import InvalidTransaction


def test_deploy_call_query_and_receipt_fields(token_chain):
    chain = token_chain
    assert chain.height == 1
    r = chain.call("token", "transfer", {"to": "bob", "amount": 5}, sender="alice", gas_limit=100_000)
    assert r.status == "success", r.error
    assert r.result is True
    assert r.error is None
    assert 0 < r.gas_used <= 100_000
    assert re.fullmatch(r"[0-9a-f]{64}", r.tx_hash)
    assert [(e.contract, e.name, e.fields) for e in r.events] == [
        ("token", "Transfer", {"sender": "alice", "to": "bob", "amount": 5})
    ]
    assert chain.height == 2
    assert chain.query("token", "balance_of", {"owner": "bob"}) == 5
    assert chain.query("token", "balance_of", {"owner": "alice"}) == 995
    # the stored receipt is the one returned
    stored = chain.receipt(r.tx_hash)
    assert stored.to_dict() == r.to_dict()
    assert [x.tx_hash for x in chain.receipts(2)] == [r.tx_hash]
    d = r.to_dict()
    assert d["status"] == "success" and d["events"][0]["fields"]["to"] == "bob"


def test_revert_undoes_writes_and_drops_events(counter):
    chain = counter
    assert chain.call("counter", "bump", {"by": 3}, sender="bob").status == "success"
    root = chain.state_root()
    r = chain.call("counter", "bump_then_fail", {"by": 5}, sender="bob")
    assert r.status == "reverted"
    assert "by must be negative" in r.error and "counter" in r.error
    assert r.events == []
    assert r.result is None
    assert chain.height == 3  # reverted transactions are included in their block
    assert chain.query("counter", "get") == 3
    assert chain.query("counter", "read_note", {"key": "last"}) == ""
    assert chain.state_root() == root  # no write survived
    assert chain.receipt(r.tx_hash).status == "reverted"


def test_out_of_gas_uses_the_whole_limit_and_undoes_writes(counter):
    chain = counter
    root = chain.state_root()
    r = chain.call("counter", "bump_then_spin", {"by": 1, "n": 10**12}, sender="bob", gas_limit=20_000)
    assert r.status == "out_of_gas"
    assert r.gas_used == 20_000
    assert r.error
    assert r.events == []
    assert chain.query("counter", "get") == 0
    assert chain.state_root() == root
    assert chain.height == 2


def test_view_cannot_write(counter):
    chain = counter
    r = chain.call("counter", "sneaky_write", {"by": 9}, sender="bob")
    assert r.status == "reverted"
    assert chain.query("counter", "get") == 0
    with pytest.raises(QueryError) as ei:
        chain.query("counter", "sneaky_write", {"by": 9})
    assert ei.value.status == "reverted"
    assert chain.query("counter", "get") == 0


def test_query_errors(counter):
    chain = counter
    with pytest.raises(QueryError) as ei:
        chain.query("counter", "spin", {"n": 10**12}, gas_limit=10_000)
    assert ei.value.status == "out_of_gas"
    with pytest.raises(InvalidTransaction, match="unknown contract"):
        chain.query("nobody", "get")
    with pytest.raises(InvalidTransaction, match="not a view"):
        chain.query("counter", "bump", {"by": 1})
    with pytest.raises(InvalidTransaction, match="private"):
        chain.query("counter", "helper")
    with pytest.raises(InvalidTransaction, match="'owner'"):
        chain.query("counter", "get", {"owner": "x"})
    assert chain.query("counter", "spin", {"n": 10}) == 10


def test_context_values(counter):
    chain = counter
    head_time = chain._ledger.head.time
    who = chain.query("counter", "who", sender="carol")
    assert who == {"sender": "carol", "origin": "carol", "this": "counter", "height": 1,
                   "time": head_time}


def test_block_time_is_deterministic_and_explicit(chain):
    chain.deploy("counter", COUNTER, sender="alice")
    assert chain._ledger.head.time == 1  # parent time (0) + 1, never a clock
    chain.call("counter", "bump", {"by": 1}, sender="a", time=1_700_000_000)
    assert chain._ledger.head.time == 1_700_000_000
    chain.call("counter", "bump", {"by": 1}, sender="a")
    assert chain._ledger.head.time == 1_700_000_001
    with pytest.raises(InvalidTransaction):
        chain.call("counter", "bump", {"by": 1}, sender="a", time=5)


REJECTED_CALLS = [
    ("counter", "helper", {}, "private"),
    ("counter", "nothing", {}, "no public or view function"),
    ("nobody", "bump", {"by": 1}, "unknown contract"),
    ("counter", "bump", {}, "missing argument 'by'"),
    ("counter", "bump", {"by": 1, "extra": 2}, "unexpected argument 'extra'"),
    ("counter", "bump", {"by": True}, "argument 'by' must be int, not bool"),
    ("counter", "bump", {"by": "1"}, "argument 'by' must be int, not str"),
    ("counter", "bump", {"by": 1.5}, "float"),
    ("counter", "bump", {"by": {1, 2}}, "set"),
    ("counter", "bump", {"by": (1, 2)}, "tuple"),
    ("counter", "typed", {"a": 1, "b": "x", "c": 1, "d": b"", "e": [], "f": {}}, "'c' must be bool"),
    ("counter", "typed", {"a": 1, "b": "x", "c": True, "d": "00", "e": [], "f": {}}, "'d' must be bytes"),
    ("counter", "typed", {"a": 1, "b": "x", "c": True, "d": b"", "e": {}, "f": {}}, "'e' must be list"),
    ("Counter", "bump", {"by": 1}, "invalid contract name"),
]


@pytest.mark.parametrize("contract,function,args,why", REJECTED_CALLS)
def test_rejected_calls_run_nothing_and_commit_nothing(counter, contract, function, args, why):
    chain = counter
    height, root = chain.height, chain.state_root()
    r = chain.call(contract, function, args, sender="bob")
    assert r.status == "rejected"
    assert why in r.error
    assert r.gas_used == 0 and r.events == [] and r.result is None
    assert chain.height == height and chain.state_root() == root
    assert chain.receipt(r.tx_hash) is None


def test_typed_arguments_pass_and_defaults_apply(counter):
    r = counter.call("counter", "typed", {"a": 1, "b": "x", "c": True, "d": b"\x00\xff",
                                          "e": [1, "two"], "f": {"k": [None]}}, sender="bob")
    assert r.status == "success", r.error
    assert r.result == [1, "x", True, b"\x00\xff", [1, "two"], {"k": [None]}, 7]


def test_gas_limit_and_payload_limits(counter):
    chain = counter
    r = chain.call("counter", "bump", {"by": 1}, sender="bob", gas_limit=MAX_GAS_PER_TX + 1)
    assert r.status == "rejected" and "maximum" in r.error
    r = chain.call("counter", "bump", {"by": 1}, sender="bob", gas_limit=0)
    assert r.status == "rejected"
    r = chain.call("counter", "note", {"key": "k", "text": "x" * 100_000}, sender="bob")
    assert r.status == "rejected" and "larger than" in r.error
    r = chain.call("counter", "bump", {"by": 1}, sender="")
    assert r.status == "rejected"
    assert chain.height == 1


def test_constructor_and_deploy_rules(chain):
    token = example("token.py")
    assert chain.deploy("token", token, sender="alice", args={"supply": 10}).status == "success"
    # a constructor cannot be called again
    r = chain.call("token", "init", {"supply": 10**9}, sender="mallory")
    assert r.status == "rejected" and "constructor" in r.error
    # duplicate name
    r = chain.deploy("token", token, sender="mallory", args={"supply": 10**9})
    assert r.status == "rejected" and "already exists" in r.error
    # bad names
    for bad in ("Token", "1token", "to-ken", "", "t" * 65, "_t"):
        r = chain.deploy(bad, token, sender="alice", args={"supply": 1})
        assert r.status == "rejected" and "invalid contract name" in r.error, bad
    # constructor argument checks
    r = chain.deploy("token2", token, sender="alice", args={"supply": "lots"})
    assert r.status == "rejected" and "'supply' must be int" in r.error
    r = chain.deploy("token2", token, sender="alice")
    assert r.status == "rejected" and "missing argument 'supply'" in r.error
    # vetting problems are reported as FILE:LINE:COL lines and nothing is deployed
    r = chain.deploy("bad", "import os\n\nx = open('f')\n", sender="alice")
    assert r.status == "rejected"
    assert re.search(r":1:\d+: ", r.error), r.error
    assert chain.contract("bad") is None
    assert chain.height == 1
    # a constructor that reverts deploys nothing, but the transaction is in a block
    r = chain.deploy("token3", token, sender="alice", args={"supply": -1})
    assert r.status == "reverted"
    assert chain.contract("token3") is None and chain.height == 2
    # a limit below the source bytes' price is refused before vetting (schedule 7)
    paid = (intrinsic_gas(len(codec.encode_value({"supply": 1})) + len(token.encode()))
            + SCHEDULE.deploy_byte * len(token.encode()))
    r = chain.deploy("token4", token, sender="alice", args={"supply": 1}, gas_limit=paid - 1)
    assert r.status == "rejected" and "per byte of its" in r.error and r.gas_used == 0
    # out of gas while paying for the code the rewriter writes (after the source bytes)
    r = chain.deploy("token4", token, sender="alice", args={"supply": 1}, gas_limit=paid + 100)
    assert r.status == "out_of_gas" and r.gas_used == paid + 100
    assert "out of gas compiling the contract" in r.error
    assert chain.contract("token4") is None


def test_execute_block_mixes_outcomes_and_commits_once(counter):
    chain = counter
    txs = [
        Tx(sender="a", contract="counter", function="bump", args={"by": 2}),
        Tx(sender="a", contract="counter", function="helper"),  # rejected, not included
        Tx(sender="a", contract="counter", function="bump_then_fail", args={"by": 1}),
        Tx(sender="a", contract="counter", function="bump", args={"by": 3}, gas_limit=100_000),
    ]
    rs = chain.execute_block(txs)
    assert [r.status for r in rs] == ["success", "rejected", "reverted", "success"]
    assert rs[3].result == 5  # later transactions see earlier ones of the same block
    assert chain.height == 2
    assert [r.tx_hash for r in chain.receipts(2)] == [rs[0].tx_hash, rs[2].tx_hash, rs[3].tx_hash]
    assert [r.index for r in chain.receipts(2)] == [0, 1, 2]
    assert len({r.tx_hash for r in rs}) == 4
    # a block where nothing executes is not committed
    rs = chain.execute_block([Tx(sender="a", contract="counter", function="helper")])
    assert rs[0].status == "rejected" and chain.height == 2
    assert chain.execute_block([]) == [] and chain.height == 2


def test_deploy_and_use_in_the_same_block(chain):
    rs = chain.execute_block([
        Tx(sender="alice", contract="counter", source=COUNTER, gas_limit=5_000_000),
        Tx(sender="bob", contract="counter", function="bump", args={"by": 4}),
        Tx(sender="bob", contract="counter", source=COUNTER, gas_limit=5_000_000),
    ])
    assert [r.status for r in rs] == ["success", "success", "rejected"]
    assert chain.query("counter", "get") == 4


def test_in_memory_chain_uses_a_private_file_removed_on_close():
    import os

    with Chain() as chain:
        path = chain.path
        assert os.path.exists(path)
        chain.deploy("counter", COUNTER, sender="alice")
        assert chain.call("counter", "bump", {"by": 1}, sender="a").result == 1
    assert not os.path.exists(path)


def test_values_round_trip_through_storage(counter):
    weird = "ünïcode \u2603 \U0001f600"
    assert counter.call("counter", "note", {"key": weird, "text": weird}, sender="a").status == "success"
    assert counter.query("counter", "read_note", {"key": weird}) == weird


def test_recursion_is_stopped_deterministically(chain):
    source = src(
        """
        from pycontract import public

        def down(n: int) -> int:
            return down(n + 1)

        @public
        def go() -> int:
            return down(0)
        """
    )
    assert chain.deploy("deep", source, sender="a").status == "success"
    r1 = chain.call("deep", "go", sender="a", gas_limit=10_000_000)
    r2 = chain.call("deep", "go", sender="a", gas_limit=10_000_000)
    assert r1.status in ("reverted", "out_of_gas")
    assert (r1.status, r1.gas_used, r1.error) == (r2.status, r2.gas_used, r2.error)
