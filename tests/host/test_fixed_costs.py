"""Fixed costs (issue 12): the intrinsic cost every transaction and query pays, and the block gas
limit. Real worker, real SQLite files."""

from __future__ import annotations

import hashlib

import pytest
from engine_support import COUNTER

from ledger_store import codec
from pycontract import Chain, QueryError, Tx
from pycontract import vetting
from pycontract.errors import InvalidTransaction
from pycontract.metering import rewriter
from pycontract.metering.compiler import compile_contract
from pycontract.metering.schedule import (SCHEDULE, code_load_gas, code_memory_bytes,
                                          intrinsic_gas)

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


def test_deploy_pays_for_its_source_bytes_and_the_code_written(chain):
    need = intrinsic_gas(len(COUNTER.encode()) + payload({}))
    source = SCHEDULE.deploy_byte * len(COUNTER)
    r = chain.deploy("c2", COUNTER, sender="deployer", gas_limit=need + source - 1)
    assert r.status == "rejected" and "intrinsic cost" in r.error  # refused before vetting
    r = chain.deploy("c2", COUNTER, sender="deployer")
    # no constructor: exactly the intrinsic cost, the price of the source bytes and of the
    # nodes of the code the rewriter wrote (schedule 7), whether compiled now or cached
    units = compile_contract(COUNTER, "c2").deploy_units
    assert units == rewriter.node_count(vetting.vet(COUNTER, "c2").tree) > 50
    assert r.status == "success"
    assert r.gas_used == need + source + SCHEDULE.deploy_node * units
    r3 = chain.deploy("c3", COUNTER, sender="deployer")  # compiled afresh under another name
    assert r3.status == "success" and r3.gas_used == r.gas_used
    # short of the nodes' price by one: out of gas at its limit, nothing deployed
    r4 = chain.deploy("c4", COUNTER, sender="deployer", gas_limit=r.gas_used - 1)
    assert r4.status == "out_of_gas" and r4.gas_used == r.gas_used - 1
    assert chain.contract("c4") is None


def test_a_recursive_function_pays_for_every_version_of_it_written():
    rec = ("from pycontract import public\n\ndef f(n: int) -> int:\n    if n < 2:\n"
           "        return n\n    return f(n - 1) + f(n - 2)\n\n@public\ndef main() -> int:\n"
           "    return f(10)\n")
    plain = rec.replace("f(n - 1) + f(n - 2)", "n - 1 + n - 2")
    tree = vetting.vet(rec, "r").tree
    fn = next(n for n in tree.body if getattr(n, "name", None) == "f")
    size = rewriter.node_count(fn)
    units = compile_contract(rec, "r").deploy_units
    # the module once, then f again for each further version (recursive copies)
    assert units > rewriter.node_count(tree) + size
    assert (units - rewriter.node_count(tree)) % size == 0
    assert compile_contract(plain, "p").deploy_units == rewriter.node_count(
        vetting.vet(plain, "p").tree)


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
    load = _load(COUNTER)
    receipt = chain.query("counter", "get", gas_limit=need + load + 1_000, profile=True)
    assert receipt.status == "success" and need + load < receipt.gas_used <= need + load + 1_000
    with pytest.raises(QueryError):  # admitted, but nothing left for the view's code
        chain.query("counter", "get", gas_limit=need + load)
    assert chain.query("counter", "get", gas_limit=need + load + 1_000) == 3


CALLER = """from pycontract import public, call

@public
def twice(by: int) -> int:
    call("counter", "bump", by=by)
    return call("counter", "bump", by=by)

@public
def nothing() -> int:
    return 0
"""


def _load(source: str) -> int:
    """code_load of a contract of this source (schedule 8)."""
    cc = compile_contract(source, "x")
    return code_load_gas(cc.deploy_units, cc.source_bytes)


def _memory(source: str) -> int:
    cc = compile_contract(source, "x")
    return code_memory_bytes(cc.deploy_units, cc.source_bytes)


def test_each_contract_entered_pays_for_its_code_once_a_transaction(chain):
    """Schedule 8 (``code_load``): the first entry of a transaction into each contract pays per
    unit of its code (a new worker loads it from the ledger's cache); more entries into the same
    contract in the transaction pay nothing more; a deploy's constructor pays nothing more (the
    deploy paid ``deploy_node`` per unit)."""
    assert chain.deploy("caller", CALLER, sender="deployer").status == "success"
    counter, caller = _load(COUNTER), _load(CALLER)
    units = compile_contract(COUNTER, "counter").deploy_units
    assert counter == SCHEDULE.code_load_base + SCHEDULE.code_load * units \
        + len(COUNTER.encode()) // SCHEDULE.code_bytes_per_gas
    assert units > 50 and caller > SCHEDULE.code_load_base
    low = chain.call("caller", "nothing", sender="bob")
    assert low.status == "success"
    # the first block of `nothing` runs only once its code is paid: a limit one short of it
    # stops with nothing run
    need = intrinsic_gas(payload({})) + caller
    r = chain.call("caller", "nothing", sender="bob", gas_limit=need)
    assert r.status == "out_of_gas" and r.gas_used == need
    one = chain.call("counter", "bump", {"by": 1}, sender="bob")
    two = chain.call("caller", "twice", {"by": 1}, sender="bob")
    assert one.status == two.status == "success"
    # twice = its own code + counter's code once + two bumps' work; bump alone = counter's
    # code + one bump's work: the second bump pays no code_load again
    bump_work = one.gas_used - intrinsic_gas(payload({"by": 1})) - counter
    call_overhead = two.gas_used - low.gas_used - counter \
        - 2 * bump_work
    # what is left: the two calls' charges and twice's own few blocks (1,258 gas); a second
    # code_load of counter (3,000-odd) would take it below the calls' charges alone
    assert 2 * SCHEDULE.cross_call_base <= call_overhead < 2 * SCHEDULE.cross_call_base + 400, \
        call_overhead
    assert counter > 400
    # a call that cannot pay the callee's code: out of gas there, the whole limit used
    start = intrinsic_gas(payload({"by": 1})) + caller
    seen = set()
    for limit in range(start, two.gas_used, 25):
        r = chain.call("caller", "twice", {"by": 1}, sender="bob", gas_limit=limit)
        assert r.status == "out_of_gas" and r.gas_used == limit
        seen.add(r.error.split(" (")[0])
    assert "counter: out of gas paying for the contract's code" in seen, seen


def test_block_gas_limit_takes_what_fits(tmp_path):
    path = tmp_path / "capped.db"
    with Chain(path) as chain:  # a deploy costs more than this test's cap
        assert chain.deploy("counter", COUNTER, sender="d").status == "success"
    with Chain(path, block_gas_limit=250_000) as chain:
        assert chain.block_gas_limit == 250_000 and chain.meta["block_max_gas"] == 250_000
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
    with Chain(tmp_path / "l.db") as chain:
        assert chain.deploy("counter", COUNTER, sender="d").status == "success"
    with Chain(tmp_path / "l.db", block_gas_limit=150_000) as chain:
        rs = chain.execute_block([bump(sender=ALICE, nonce=0), bump(sender=ALICE, nonce=1)])
        assert [r.status for r in rs] == ["success", "rejected"]
        assert "block gas limit reached" in rs[1].error
        assert chain.nonce(ALICE) == 1
        assert chain.receipt(rs[1].tx_hash) is None
        (r,) = chain.execute_block([bump(sender=ALICE, nonce=1)])  # sent again later: runs
        assert r.status == "success" and chain.nonce(ALICE) == 2


def test_a_deploy_without_a_limit_takes_the_deploy_default():
    from pycontract.host.records import DEFAULT_CALL_GAS, DEFAULT_DEPLOY_GAS

    assert Tx(sender="a", contract="c", source=COUNTER).gas_limit == DEFAULT_DEPLOY_GAS
    assert Tx(sender="a", contract="c", function="f").gas_limit == DEFAULT_CALL_GAS
    assert Tx(sender="a", contract="c", function="f", gas_limit=None).gas_limit is None
    assert DEFAULT_DEPLOY_GAS > 20 * compile_contract(COUNTER, "c").deploy_units


def test_compiling_leaves_the_collector_as_it_found_it():
    import gc

    from pycontract.metering import compiler

    source = COUNTER + "\n# gc\n"
    for enabled in (True, False):
        compiler.clear_cache()
        (gc.enable if enabled else gc.disable)()
        try:
            compile_contract(source, "g")
            assert gc.isenabled() is enabled
            with pytest.raises(Exception):
                compile_contract(source + "def (:\n", "g")
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


HOG = """from pycontract import public, call

@public
def hog(n: int) -> int:
    s = "x" * n
    call("counter", "bump", by=1)
    return len(s)
"""


def test_code_entered_counts_against_the_transactions_memory(chain):
    """``code_memory`` (schedule 8): each contract a transaction enters is accounted as 128
    bytes of its memory per unit and 2 per byte of source (its code stays loaded until the
    transaction ends), so the memory limit bounds how much code one transaction can make a
    worker hold."""
    assert chain.deploy("hog", HOG, sender="deployer").status == "success"
    counter, hog = _memory(COUNTER), _memory(HOG)
    room = SCHEDULE.memory_limit - hog  # what the string may take (hog's own code is entered)
    ok = chain.call("hog", "hog", {"n": room - counter - 1_000_000}, sender="bob",
                    gas_limit=20_000_000)
    assert ok.status == "success", ok.error
    r = chain.call("hog", "hog", {"n": room - counter // 2}, sender="bob", gas_limit=20_000_000)
    assert r.status == "reverted" and r.error.startswith("hog:6: memory limit exceeded"), r.error
    assert chain.query("counter", "get") == 1  # the reverted bump wrote nothing
