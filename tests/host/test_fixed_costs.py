"""Fixed costs (issue 12): the intrinsic cost every transaction and query pays, and the block gas
limit. Real worker, real SQLite files."""

from __future__ import annotations

import hashlib

import pytest
from engine_support import COUNTER

from ledger_store import codec
from pycontract import Chain, QueryError, Tx
from pycontract.errors import InvalidTransaction
from pycontract.metering.schedule import SCHEDULE, intrinsic_gas

ALICE = "0x" + "a1" * 20


def payload(args) -> int:
    return len(codec.encode_value(args))


def bump(by=1, *, gas=100_000, sender="bob", nonce=None):
    return Tx(sender=sender, contract="counter", function="bump", args={"by": by},
              gas_limit=gas, nonce=nonce,
              tx_hash=None if nonce is None else hashlib.sha256(b"%d" % nonce).hexdigest())


@pytest.fixture
def chain(tmp_path):
    with Chain(tmp_path / "ledger.db") as c:
        assert c.deploy("counter", COUNTER, sender="deployer").status == "success"
        yield c


def test_intrinsic_cost_is_part_of_gas_used(chain):
    need = intrinsic_gas(payload({"by": 1}))
    assert need == SCHEDULE.tx_base + SCHEDULE.tx_payload_byte * payload({"by": 1})
    ok = chain.call("counter", "bump", {"by": 1}, sender="bob")
    assert ok.status == "success" and ok.gas_used > need
    # a revert at once still pays the intrinsic cost
    r = chain.call("counter", "bump_then_fail", {"by": 1}, sender="bob")
    assert r.status == "reverted" and r.gas_used > SCHEDULE.tx_base
    # a larger payload costs exactly its bytes more (same code path, same storage writes)
    a = chain.call("counter", "note", {"key": "k", "text": "x"}, sender="bob")
    b = chain.call("counter", "note", {"key": "k", "text": "x" * 101}, sender="bob")
    assert a.status == b.status == "success"
    extra = payload({"key": "k", "text": "x" * 101}) - payload({"key": "k", "text": "x"})
    assert b.gas_used - a.gas_used >= SCHEDULE.tx_payload_byte * extra


def test_gas_limit_below_intrinsic_is_refused_without_a_block(chain):
    need = intrinsic_gas(payload({"by": 1}))
    height, root = chain.height, chain.state_root()
    (r,) = chain.execute_block([bump(gas=need - 1)])
    assert r.status == "rejected" and r.gas_used == 0
    assert r.error.startswith(f"gas limit {need - 1} is below the intrinsic cost of {need} gas")
    assert (chain.height, chain.state_root()) == (height, root)
    assert chain.precheck(bump(gas=need - 1)) == r.error  # a mempool filter sees it too
    # exactly the intrinsic cost: admitted, and out of gas at the first block of code
    (r,) = chain.execute_block([bump(gas=need)])
    assert r.status == "out_of_gas" and r.gas_used == need


def test_intrinsic_refusal_does_not_use_the_nonce(chain):
    need = intrinsic_gas(payload({"by": 1}))
    rs = chain.execute_block([bump(gas=need - 1, sender=ALICE, nonce=0),
                              bump(sender=ALICE, nonce=0)])
    assert [r.status for r in rs] == ["rejected", "success"], rs[0].error
    assert "intrinsic" in rs[0].error
    assert chain.nonce(ALICE) == 1
    assert chain.receipt(rs[0].tx_hash) is None or rs[0].tx_hash == rs[1].tx_hash


def test_deploy_pays_for_its_source_bytes(chain):
    need = intrinsic_gas(len(COUNTER.encode()) + payload({}))
    r = chain.deploy("c2", COUNTER, sender="deployer", gas_limit=need - 1)
    assert r.status == "rejected" and "intrinsic cost" in r.error
    r = chain.deploy("c2", COUNTER, sender="deployer")
    # no constructor: exactly the intrinsic cost plus the engine's price of the source
    assert r.status == "success" and r.gas_used == need + SCHEDULE.deploy_byte * len(COUNTER)


def test_queries_pay_the_intrinsic_cost(chain):
    chain.call("counter", "bump", {"by": 3}, sender="bob")
    need = intrinsic_gas(payload({}), query=True)
    # a query's base is its own (schedule 7): a limit a transaction could start with is refused
    assert need == SCHEDULE.query_base + SCHEDULE.tx_payload_byte * payload({})
    assert SCHEDULE.query_base > SCHEDULE.tx_base
    with pytest.raises(InvalidTransaction, match=(
            f"below the intrinsic cost of {need} gas \\({SCHEDULE.query_base} per query ")):
        chain.query("counter", "get", gas_limit=need - 1)
    with pytest.raises(InvalidTransaction, match="below the intrinsic cost"):
        chain.query("counter", "get", gas_limit=intrinsic_gas(payload({})) + 1_000)
    receipt = chain.query("counter", "get", gas_limit=need + 1_000, profile=True)
    assert receipt.status == "success" and need < receipt.gas_used <= need + 1_000
    with pytest.raises(QueryError):  # admitted, but nothing left for the view's code
        chain.query("counter", "get", gas_limit=need)
    assert chain.query("counter", "get", gas_limit=need + 1_000) == 3


def test_block_gas_limit_takes_what_fits(tmp_path):
    path = tmp_path / "capped.db"
    with Chain(path, block_gas_limit=250_000) as chain:
        assert chain.block_gas_limit == 250_000 and chain.meta["block_max_gas"] == 250_000
        assert chain.deploy("counter", COUNTER, sender="d", gas_limit=200_000).status == "success"
        rs = chain.execute_block([bump(gas=100_000), bump(gas=100_000), bump(gas=100_000),
                                  bump(gas=50_000)])
        assert [r.status for r in rs] == ["success", "success", "rejected", "success"]
        assert rs[2].error.startswith("block gas limit reached: this transaction's gas limit "
                                      "100000 does not fit in the 50000 left of the block's "
                                      "250000")
        assert rs[2].gas_used == 0
        height = chain.height
        assert [r.index for r in chain.receipts(height)] == [0, 1, 2]  # the left-out one: not stored
        assert chain.query("counter", "get") == 3
        # over the cap alone: always left out; no block when nothing fits
        (r,) = chain.execute_block([bump(gas=300_000)])
        assert r.status == "rejected" and "block gas limit reached" in r.error
        assert chain.height == height
    with Chain(path) as chain:  # the setting is kept in the ledger
        assert chain.block_gas_limit == 250_000
        chain.set_meta("block_max_gas", -1)  # what the ABCI app's InitChain writes
        assert chain.block_gas_limit == -1
        assert chain.execute_block([bump(gas=300_000)])[0].status == "success"
        with pytest.raises(ValueError):
            chain.set_meta("block_max_gas", "lots")


def test_block_gas_limit_leaves_the_nonce_unused(tmp_path):
    with Chain(tmp_path / "l.db", block_gas_limit=150_000) as chain:
        assert chain.deploy("counter", COUNTER, sender="d", gas_limit=150_000).status == "success"
        rs = chain.execute_block([bump(sender=ALICE, nonce=0), bump(sender=ALICE, nonce=1)])
        assert [r.status for r in rs] == ["success", "rejected"]
        assert "block gas limit reached" in rs[1].error
        assert chain.nonce(ALICE) == 1
        assert chain.receipt(rs[1].tx_hash) is None
        (r,) = chain.execute_block([bump(sender=ALICE, nonce=1)])  # sent again later: runs
        assert r.status == "success" and chain.nonce(ALICE) == 2
