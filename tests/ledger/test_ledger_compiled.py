"""The ``compiled`` table (schema 5): a node-local cache of each contract's compiled code,
written with a block or on its own, checked against the contract records, in no state root."""

import pytest

from ledger_store import SCHEMA_VERSION, ContractRecord, Ledger, LedgerError, codec

K, V = codec.encode_key, codec.encode_value
H1, H2 = "1" * 64, "2" * 64


def _deploy(led, name="c", code_hash=H1, compiled=None, time=1):
    ov = led.begin_block()
    ov.add_contract(ContractRecord(name, code_hash, "src", "alice"))
    ov.put(name, K("k"), V(time))
    if compiled is not None:
        ov.add_compiled(name, *compiled)
    return led.commit_block(ov, time=time, txs=[])


def test_compiled_code_is_stored_with_the_block_and_in_no_root_or_hash(tmp_path):
    with Ledger(tmp_path / "a.db") as a, Ledger(tmp_path / "b.db") as b:
        ba = _deploy(a, compiled=("engine-1", H1, b"code"))
        bb = _deploy(b)
        assert (ba.state_root, ba.hash) == (bb.state_root, bb.hash)
        assert a.compiled("c") == ("engine-1", H1, b"code")
        assert b.compiled("c") is None
        assert a.verify_state() == b.verify_state()
    with Ledger(tmp_path / "a.db", readonly=True) as r, r.begin_block() as ov:
        assert ov.compiled("c") == ("engine-1", H1, b"code")
        assert ov.compiled("nope") is None


def test_a_later_block_replaces_a_contracts_compiled_code(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        _deploy(led, compiled=("engine-1", H1, b"old"))
        ov = led.begin_block()
        ov.add_compiled("c", "engine-2", H1, b"new")
        assert ov.compiled("c") == ("engine-2", H1, b"new")  # the block's own row first
        led.commit_block(ov, time=2, txs=[])
        assert led.compiled("c") == ("engine-2", H1, b"new")
        assert led.conn.execute("SELECT count(*) FROM compiled").fetchone() == (1,)


def test_compiled_code_only_for_a_contract_of_that_code_hash(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        _deploy(led)
        with led.begin_block() as ov:
            with pytest.raises(LedgerError, match="not a contract"):
                ov.add_compiled("other", "e", H1, b"x")
            with pytest.raises(LedgerError, match="another code hash"):
                ov.add_compiled("c", "e", H2, b"x")
            with pytest.raises(LedgerError, match=r"\(str, str, str, bytes\)"):
                ov.add_compiled("c", "e", H1, "not bytes")
        with pytest.raises(LedgerError, match="not a committed contract"):
            led.put_compiled([("c", "e", H2, b"x")])
        with pytest.raises(LedgerError, match="not a committed contract"):
            led.put_compiled([("other", "e", H1, b"x")])
        with pytest.raises(LedgerError, match=r"\(str, str, str, bytes\)"):
            led.put_compiled([["c", "e", H1, b"x"]])
        assert led.compiled("c") is None


def test_put_compiled_outside_a_block_but_not_while_one_is_staged(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        _deploy(led)
        led.put_compiled([("c", "e", H1, b"x")])
        assert led.compiled("c") == ("e", H1, b"x")
        staged = led.stage_block(led.begin_block(), time=2, txs=[])
        with pytest.raises(LedgerError, match="staged"):
            led.put_compiled([("c", "e", H1, b"y")])
        staged.drop()
    with Ledger(tmp_path / "l.db", readonly=True) as r:
        assert r.compiled("c") == ("e", H1, b"x")
        with pytest.raises(LedgerError, match="read-only"):
            r.put_compiled([("c", "e", H1, b"y")])


def test_a_dropped_block_stores_no_compiled_code(tmp_path):
    """The rows go in the block's own SQLite transaction: dropped with it."""
    with Ledger(tmp_path / "l.db") as led:
        ov = led.begin_block()
        ov.add_contract(ContractRecord("c", H1, "src", "alice"))
        ov.add_compiled("c", "e", H1, b"x")
        led.stage_block(ov, time=1, txs=[]).drop()
        assert led.compiled("c") is None and led.contract("c") is None


def test_schema_4_migrates_to_5_with_an_empty_compiled_table(tmp_path):
    path = tmp_path / "v4.db"
    with Ledger(path) as led:
        _deploy(led, compiled=("e", H1, b"x"))
        root = led.state_root()
        led.conn.execute("DROP TABLE compiled")
        led.conn.execute("UPDATE meta SET value='4' WHERE key='schema_version'")
    with Ledger(path) as led:
        assert led.meta["schema_version"] == SCHEMA_VERSION == 5
        assert led.compiled("c") is None
        assert led.verify_state() == root
        led.put_compiled([("c", "e", H1, b"x")])
        assert led.compiled("c") == ("e", H1, b"x")
