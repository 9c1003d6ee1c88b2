"""The author's kit through the installed pytest plugin: the `chain` fixture, handles, reverts,
mining, time travel, snapshots (SPEC section 5, "Testing")."""

import pytest

from pycontract.errors import VetError
from pycontract.testing import TransactionFailed, reverts


@pytest.fixture
def token(chain):
    return chain.deploy_file("coin.py", sender="alice", args={"supply": 100})


def test_handles_return_receipts_and_view_values(chain, token):
    r = token.transfer(to="bob", amount=5, sender="alice")
    assert r.status == "success" and r.result is True and r.gas_used > 0
    assert [(e.name, e.fields["amount"]) for e in r.events] == [("Transfer", 5)]
    assert token.balance_of(owner="bob") == 5
    assert token.balance_of("alice") == 95  # positional, in parameter order
    assert token.name == "coin" and chain.height == 2


def test_view_sent_as_a_transaction_returns_a_receipt(token):
    r = token.balance_of.call(owner="alice")
    assert r.status == "success" and r.result == 100 and r.height is not None


def test_reverts_with_the_exact_message(token):
    with reverts("insufficient balance") as caught:
        token.transfer(to="carol", amount=1000, sender="bob")
    assert caught.error.status == "reverted"
    assert caught.error.receipt.error == "coin:20: insufficient balance"
    assert token.balance_of(owner="carol") == 0


def test_reverts_fails_on_success_and_on_another_message(token):
    with pytest.raises(AssertionError, match="succeeded"):
        with reverts("insufficient balance"):
            token.transfer(to="bob", amount=1, sender="alice")
    with pytest.raises(AssertionError, match="expected a revert with 'nope', got 'insufficient"):
        with reverts("nope"):
            token.transfer(to="bob", amount=1000, sender="alice")


def test_reverts_does_not_swallow_other_errors_or_rejections(token):
    with pytest.raises(ZeroDivisionError):
        with reverts():
            1 // 0
    with pytest.raises(AssertionError, match="rejected before running"):
        with reverts():
            token.transfer(to="bob", amount="5", sender="alice")
    with reverts(status="rejected", match="must be int"):
        token.transfer(to="bob", amount="5", sender="alice")


def test_out_of_gas_and_view_reverts(token):
    with reverts(status="out_of_gas"):
        token.spin(n=10**9, gas_limit=5_000)
    with reverts("too early"):
        token.must_be_late(height=50)


def test_an_unexpected_revert_reads_like_a_failed_assertion_with_the_line(token):
    with pytest.raises(TransactionFailed) as info:
        token.transfer(to="bob", amount=1000, sender="alice")
    text = str(info.value)
    assert text.splitlines()[0] == (
        "coin.transfer(to='bob', amount=1000) from alice reverted: coin:20: insufficient balance")
    assert 'require(balances[ctx.sender] >= amount, "insufficient balance")' in text
    assert isinstance(info.value, AssertionError)


def test_check_false_returns_the_failed_receipt(token):
    r = token.transfer(to="bob", amount=1000, sender="alice", check=False)
    assert r.status == "reverted" and r.height is not None


def test_mine_advances_height_and_time_without_transactions(chain, token):
    h, t = chain.height, chain.time
    assert chain.mine(5) == h + 5
    assert chain.time == t + 5
    assert token.now() == [h + 5, t + 5]
    with reverts("too early"):
        token.must_be_late(height=h + 10)
    chain.mine(5)
    assert token.must_be_late(height=h + 10) is True


def test_warp_travels_in_time(chain, token):
    t = chain.warp(86_400)
    assert token.now() == [2, t] and t == 1 + 86_400  # deploy block at time 1, then +1 day


def test_snapshot_and_rollback(chain, token):
    snap = chain.snapshot()
    root = chain.state_root()
    token.transfer(to="bob", amount=7, sender="alice")
    late = chain.deploy_file("coin.py", name="coin2", sender="bob", args={"supply": 1})
    chain.mine(3)
    chain.rollback(snap)
    assert chain.height == snap.height and chain.state_root() == root
    assert token.balance_of(owner="bob") == 0  # the old handle still works
    with pytest.raises(AttributeError, match="no public or view function"):
        late.transfer
    with chain.isolated():
        token.transfer(to="bob", amount=1, sender="alice")
        assert token.balance_of(owner="bob") == 1
    assert token.balance_of(owner="bob") == 0


def test_deploy_file_reports_vetting_problems_against_the_file(chain, tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from pycontract import public\n\n@public\ndef f() -> int:\n    return 1.5\n")
    with pytest.raises(VetError) as info:
        chain.deploy_file(bad)
    assert str(info.value).startswith(f"{bad}:5:12: ")
    assert chain.height == 0


def test_unknown_function_names_what_exists(token):
    with pytest.raises(AttributeError, match="has: balance_of, must_be_late, now, spin, transfer"):
        token.tranfser


def test_failed_deploy_raises(chain, tmp_path):
    with pytest.raises(TransactionFailed, match="reverted"):
        chain.deploy("c", "from pycontract import constructor, require\n\n@constructor\n"
                     "def init() -> None:\n    require(False, 'no')\n")


def test_contract_storage_is_decoded(token):
    token.transfer(to="bob", amount=5, sender="alice")
    assert token.storage() == {"balances": {"alice": 95, "bob": 5}, "total": 100, "opened": 1}
