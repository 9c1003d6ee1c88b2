"""Accounts (pycontract.host.accounts): network nonces in ledger state, and accounts and
contracts never sharing a name. Real worker, real SQLite files."""

from __future__ import annotations

import hashlib

import pytest
from engine_support import COUNTER

from ledger_store import Ledger
from pycontract import Chain, Tx
from pycontract.host import accounts
from pycontract.replay import replay

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20


def h(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def signed(nonce: int, *, sender=ALICE, function="bump", contract="counter", args=None,
           hash_n=None) -> Tx:
    return Tx(sender=sender, contract=contract, function=function,
              args={"by": 1} if args is None else args, gas_limit=100_000, nonce=nonce,
              tx_hash=h(nonce if hash_n is None else hash_n) if sender == ALICE else
              h(1000 + nonce if hash_n is None else hash_n))


@pytest.fixture
def chain(tmp_path):
    with Chain(tmp_path / "ledger.db") as c:
        assert c.deploy("counter", COUNTER, sender="deployer").status == "success"
        yield c


def test_nonces_start_at_zero_and_follow_in_a_block(chain):
    assert chain.nonce(ALICE) == 0
    rs = chain.execute_block([signed(0), signed(1), signed(2, sender=BOB), signed(0, sender=BOB)])
    assert [r.status for r in rs] == ["success", "success", "rejected", "success"]
    assert "nonce 2 is too high: the next nonce of " + BOB + " is 0" == rs[2].error
    assert chain.nonce(ALICE) == 2 and chain.nonce(BOB) == 1
    # the envelope's hash is the receipt's hash, and the ledger finds it by that hash
    assert rs[0].tx_hash == h(0) and chain.receipt(h(0)).status == "success"
    assert chain.receipt(h(1002)) is None  # refused for its nonce: not stored


def test_replayed_or_skipped_nonce_is_refused_and_writes_nothing(chain):
    chain.execute_block([signed(0)])
    root, height = chain.state_root(), chain.height
    for tx in (signed(0, hash_n=50), signed(5)):
        (r,) = chain.execute_block([tx])
        assert r.status == "rejected" and "nonce" in r.error
    assert (chain.state_root(), chain.height, chain.nonce(ALICE)) == (root, height, 1)


def test_nonce_is_in_the_state_root_and_used_by_a_revert(chain):
    root = chain.state_root()
    (r,) = chain.execute_block([signed(0, function="bump_then_fail", args={"by": 3})])
    assert r.status == "reverted"
    assert chain.nonce(ALICE) == 1 and chain.state_root() != root
    led = chain._live()
    raw = led.get(accounts.ACCOUNTS, accounts.nonce_key(ALICE))
    assert raw == accounts.nonce_value(1)
    assert led.verify_state() == chain.state_root()  # the nonce leaf is part of the root


def test_state_refusal_uses_the_nonce_content_refusal_does_not(chain):
    # unknown contract: depends on state (it may be deployed later), so the nonce is used and
    # the refusal is stored, never to be replayed once the contract exists
    (r,) = chain.execute_block([signed(0, contract="later")])
    assert r.status == "rejected" and "unknown contract" in r.error
    assert chain.nonce(ALICE) == 1 and chain.receipt(h(0)).status == "rejected"
    # an unknown function of an existing (immutable) contract can never succeed: nonce kept
    (r,) = chain.execute_block([signed(1, function="no_such_function")])
    assert r.status == "rejected"
    assert chain.nonce(ALICE) == 1 and chain.receipt(h(1)) is None
    # host-side content refusal (bad contract name): nonce kept as well
    (r,) = chain.execute_block([signed(1, contract="Bad-Name")])
    assert r.status == "rejected" and chain.nonce(ALICE) == 1
    (r,) = chain.execute_block([signed(1)])
    assert r.status == "success" and chain.nonce(ALICE) == 2


def test_sender_cannot_be_a_contract(chain):
    # the reported attack: approve a contract, then send as that contract's name
    r = chain.call("counter", "bump", {"by": 1}, sender="counter")
    assert r.status == "rejected"
    assert r.error == "sender 'counter' is a contract: accounts and contracts never share a name"
    # nor a contract deployed earlier in the same block
    rs = chain.execute_block([Tx(sender="x", contract="twin", source=COUNTER),
                              Tx(sender="twin", contract="counter", function="bump",
                                 args={"by": 1})])
    assert [r.status for r in rs] == ["success", "rejected"]


def test_account_name_cannot_become_a_contract(chain):
    assert chain.call("counter", "bump", {"by": 1}, sender="carol").status == "success"
    r = chain.deploy("carol", COUNTER, sender="dave")
    assert r.status == "rejected" and "'carol' is an account" in r.error
    assert chain.contract("carol") is None
    # within one block: a sender earlier in the block, or the deployer itself
    rs = chain.execute_block([
        Tx(sender="erin", contract="counter", function="bump", args={"by": 1}),
        Tx(sender="frank", contract="erin", source=COUNTER),
        Tx(sender="gina", contract="gina", source=COUNTER),
    ])
    assert [r.status for r in rs] == ["success", "rejected", "rejected"]


def test_network_ledger_replays(tmp_path):
    path = tmp_path / "net.db"
    with Chain(path, chain_id="net-1") as chain:
        d = chain.begin_block([Tx(sender=ALICE, contract="counter", source=COUNTER,
                                  gas_limit=2_000_000, nonce=0, tx_hash=h(0))], time=5)
        d.commit()
        chain.begin_block([], time=6).commit()  # an empty block, as a network commits
        chain.begin_block([signed(1), signed(2, contract="later"), signed(0, sender=BOB),
                           signed(3, function="bump_then_fail")], time=7).commit()
        chain.begin_block([signed(9)], time=8).commit()  # only a refusal: still a block
        height, root = chain.height, chain.state_root()
    assert height == 4
    with Ledger(path, readonly=True) as led:
        assert [t.nonce for t in led.transactions(3)] == [1, 2, 0, 3]
        assert led.transactions(2) == [] and led.transactions(4) == []
    res = replay(path)
    assert res.divergence is None, res.divergence
    assert (res.blocks, res.transactions) == (4, 5)
