"""The ledger's ``compiled`` cache, end to end with real workers: what a deploy compiled is
stored with its block, and a new worker (a restart) loads it instead of vetting, rewriting and
compiling the contract again for the gas of a call (issue 12, R4-6). Contracts missing from it
(a ledger older than schema 5, another interpreter or engine, a damaged row) are compiled once
more and stored again."""

from __future__ import annotations

import sqlite3

import pytest

from ledger_store import Ledger
from pycontract import Chain, Tx
from pycontract.errors import NodeFault
from pycontract.metering import compiler

ONE = """from pycontract import public, view

@public
def f() -> int:
    return 1

@view
def v() -> int:
    return 1
"""
TWO = ONE.replace("return 1", "return 2")
REVERTS = """from pycontract import constructor, revert

@constructor
def init() -> None:
    revert("no")
"""


def _row(path, name="c"):
    with Ledger(path, readonly=True) as led:
        return led.compiled(name)


def _sql(path, statement, *params):
    """One statement on the ledger file, as another program (or a disk) could change it."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(statement, params)
    conn.close()


def _set(path, name="c", **cols):
    for col, value in cols.items():
        _sql(path, f"UPDATE compiled SET {col}=? WHERE contract=?", value, name)


def _forge(path, name="c"):
    """Put TWO's compiled code in place of ONE's (same name and code hash columns): only a
    worker that runs what it loads returns 2."""
    cc = compiler.compile_contract(TWO, name)
    _set(path, name, code=compiler.dump(cc))


@pytest.fixture
def deployed(tmp_path):
    path = tmp_path / "ledger.db"
    with Chain(path) as c:
        r = c.deploy("c", ONE, sender="alice")
        assert r.status == "success", r.error
        assert c.call("c", "f", sender="bob").result == 1
    return str(path)


def test_a_deploy_stores_its_compiled_code_and_a_new_worker_runs_it(deployed):
    engine, code_hash, blob = _row(deployed)
    assert engine == compiler.engine_tag() and code_hash == Chain(deployed, readonly=True) \
        .contract("c").code_hash
    assert compiler.load(blob, ONE, "c", code_hash) is not None
    _forge(deployed)
    with Chain(deployed) as c:  # a new worker: it loads, it does not compile
        assert c.call("c", "f", sender="bob").result == 2
        assert c.query("c", "v") == 2


def test_a_reverted_deploy_stores_nothing(tmp_path):
    with Chain(tmp_path / "l.db") as c:
        assert c.deploy("bad", REVERTS, sender="alice").status == "reverted"
        assert c.deploy("c", ONE, sender="alice").status == "success"
    assert _row(tmp_path / "l.db", "bad") is None and _row(tmp_path / "l.db") is not None


@pytest.mark.parametrize("use", ["call", "query"])
@pytest.mark.parametrize("damage", ["missing", "other engine", "damaged"])
def test_code_missing_from_the_cache_is_compiled_once_and_stored_again(deployed, use, damage):
    if damage == "missing":  # a ledger written before schema 5
        _sql(deployed, "DELETE FROM compiled")
    elif damage == "other engine":  # another interpreter, or pycontract upgraded
        _forge(deployed)
        _set(deployed, engine="cpython-399-elsewhere")
    else:
        _set(deployed, code=_row(deployed)[2][:-5])
    with Chain(deployed) as c:
        if use == "call":
            assert c.call("c", "f", sender="bob").result == 1
        else:
            assert c.query("c", "v") == 1
    engine, _h, blob = _row(deployed)
    assert engine == compiler.engine_tag()
    assert compiler.load(blob, ONE, "c", _h).code == compiler.compile_contract(ONE, "c").code
    _forge(deployed)  # and the stored code is what the next worker runs
    with Chain(deployed) as c:
        assert c.query("c", "v") == 2


def test_a_query_while_a_block_is_staged_stores_with_the_next_block(deployed):
    _sql(deployed, "DELETE FROM compiled")
    with Chain(deployed) as c:
        pending = c.begin_block([Tx(sender="bob", contract="c", function="f", args={})])
        # the block's worker compiled the contract again: its row is staged with the block
        assert c.query("c", "v") == 1
        pending.drop()
        assert _row(deployed) is None
        c.execute_block([Tx(sender="bob", contract="c", function="f", args={})])
    assert _row(deployed)[0] == compiler.engine_tag()


def test_compiled_code_of_a_dropped_block_is_stored_by_the_next_query(deployed):
    _sql(deployed, "DELETE FROM compiled")
    with Chain(deployed) as c:
        c.begin_block([Tx(sender="bob", contract="c", function="f", args={})]).drop()
        c.begin_block([Tx(sender="bob", contract="n", function="f", args={}, gas_limit=10**6,
                          source=ONE)]).drop()  # a deploy dropped: nothing to keep of it
        assert _row(deployed) is None
        assert c.query("c", "v") == 1
        assert _row(deployed)[0] == compiler.engine_tag()
        assert _row(deployed, "n") is None and c.contract("n") is None


def test_the_cache_changes_no_receipt_or_root(tmp_path):
    """Receipts and roots of the same blocks with and without stored code: identical."""
    out = []
    for i, keep in enumerate((True, False)):
        path = tmp_path / f"{i}.db"
        with Chain(path) as c:
            c.deploy("c", ONE, sender="alice", time=1)
            if not keep:
                c._drop_worker()
                c._ledger.conn.execute("DELETE FROM compiled")
            r = c.call("c", "f", sender="bob", time=2)
            out.append((r.status, r.gas_used, r.result, r.tx_hash, c.state_root(),
                        c._ledger.head.hash))
    assert out[0] == out[1]


@pytest.mark.parametrize("row", [
    ["c", "", None, b"x"],  # no engine
    ["c", "e", None, "text"],  # not bytes
    ["c", "e", "zz", b"x"],  # not a code hash
    ["C!", "e", None, b"x"],  # not a contract name
    "not a row",
])
def test_malformed_compiled_code_from_a_worker_is_a_node_fault(deployed, row):
    with Chain(deployed) as c:
        code_hash = c.contract("c").code_hash
        if isinstance(row, list) and row[2] is None:
            row[2] = code_hash
        ov = c._ledger.begin_block()
        try:
            with pytest.raises(NodeFault, match="compiled code must be"):
                c._take_compiled(ov, {"compiled": [row]})
            with pytest.raises(NodeFault, match="compiled code must be"):
                c._keep_compiled(c._ledger, {"compiled": [row]})
        finally:
            ov.close()
        assert _row(deployed)[1] == code_hash


def test_compiled_code_for_no_contract_of_that_code_hash_is_left_out(deployed):
    """A worker reports each contract it compiled once; a deploy's may come after its block
    was dropped, and its name be deployed again with other code: never stored for it."""
    with Chain(deployed) as c:
        code_hash = c.contract("c").code_hash
        for row in (["c", "e", "0" * 64, b"x"], ["nobody", "e", code_hash, b"x"]):
            with c._ledger.begin_block() as ov:
                c._take_compiled(ov, {"compiled": [row]})
                assert ov.compiled_added() == []
            c._keep_compiled(c._ledger, {"compiled": [row]})
        assert _row(deployed)[1] == code_hash and _row(deployed)[0] != "e"
        assert _row(deployed, "nobody") is None


def test_compile_contracts_starts_no_worker_for_a_ledger_without_contracts(tmp_path):
    with Chain(tmp_path / "l.db") as c:
        assert c.compile_contracts() == 0 and c._worker is None


def test_compile_contracts_fills_the_cache_ahead_of_any_block(tmp_path):
    """After an upgrade (here: rows of another engine, one missing, one damaged), a node
    compiles every contract before it serves blocks; blocks then only load."""
    path = str(tmp_path / "l.db")
    with Chain(path) as c:
        for n in ("a", "b", "d", "e"):
            assert c.deploy(n, ONE, sender="alice").status == "success"
        assert c.compile_contracts() == 0  # every deploy stored its code
        c._drop_worker()
        c._ledger.conn.execute("UPDATE compiled SET engine='cpython-399-elsewhere' "
                               "WHERE contract IN ('a', 'b')")
        c._ledger.conn.execute("DELETE FROM compiled WHERE contract='d'")
        assert c._ledger.uncompiled(compiler.engine_tag()) == ["a", "b", "d"]
        assert c.compile_contracts() == 3
        assert c._ledger.uncompiled(compiler.engine_tag()) == []
        assert c.compile_contracts() == 0
    for n in ("a", "b", "d", "e"):
        _forge(path, n)
    with Chain(path) as c:
        assert [c.query(n, "v") for n in ("a", "b", "d", "e")] == [2, 2, 2, 2]
