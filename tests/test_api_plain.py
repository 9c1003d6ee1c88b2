"""Plain-Python mode: a contract file imports and runs as ordinary Python with pycontract.api."""

from __future__ import annotations

import importlib.util

import pytest

from pycontract import api
from pycontract.api import Map, Value, ctx, emit, require, revert
from pycontract.errors import Reverted

from vetting_cases import ACCEPTED_TOKEN

OTHER = '''\
from pycontract import public, view, ctx, call

@view
def whoami() -> str:
    return ctx.sender

@public
def ask(target: str) -> str:
    return call(target, "whoami")
'''


def load(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"plain_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def fresh():
    api.reset()
    yield
    api.reset()


def test_spec_token_runs_as_plain_python(tmp_path):
    token = load(tmp_path, "token", ACCEPTED_TOKEN)
    assert api.entry_kind(token.init) == "constructor"
    assert api.entry_kind(token.transfer) == "public"
    assert api.entry_kind(token.balance_of) == "view"
    token.init(1000)
    assert token.balance_of("alice") == 1000
    assert token.total_supply.get() == 1000
    assert token.transfer("bob", 5) is True
    assert token.balance_of("bob") == 5 and token.balance_of("alice") == 995
    assert api.emitted() == [api.Event("contract", "Transfer",
                                       {"sender": "alice", "to": "bob", "amount": 5})]
    with pytest.raises(Reverted, match="insufficient balance"):
        token.transfer("carol", 10_000)
    with pytest.raises(Reverted, match="amount must be positive"):
        token.transfer("carol", 0)
    ctx.set(sender="bob")
    token.transfer("carol", 2)
    assert token.balance_of("carol") == 2 and token.balance_of("bob") == 3
    with ctx.using(sender="carol"):
        token.transfer("alice", 1)
    assert ctx.sender == "bob"
    assert token.balance_of("alice") == 996
    assert len(api.emitted("Transfer")) == 3


def test_map_semantics():
    m = Map(default=[])
    assert m["k"] == [] and m["k"] is not m["k"]  # reads of missing keys are copies
    lst = m["k"]
    lst.append(1)
    assert m["k"] == []  # a list read from a Map must be written back
    m["k"] = lst
    assert m["k"] == [1] and m.contains("k")
    m["k"].append(2)
    assert m["k"] == [1]
    m["k"] = []  # writing the default removes the entry, as on the ledger
    assert not m.contains("k")
    allowance = Map(default=0)
    allowance["alice", "bob"] = 7
    assert allowance["alice", "bob"] == 7 and allowance[("alice", "bob")] == 7
    assert allowance.get(("bob", "alice")) == 0
    assert allowance.get(("bob", "alice"), None) is None
    del allowance["alice", "bob"]
    del allowance["nobody"]
    assert allowance["alice", "bob"] == 0
    flags = Map(default=0)
    flags["x"] = False  # False is not the int default 0: stored
    assert flags.contains("x") and flags["x"] is False
    with pytest.raises(TypeError, match="Map keys"):
        m[[1]] = 1
    with pytest.raises(TypeError, match="stored values"):
        m["f"] = 1.5
    with pytest.raises(TypeError, match="stored values"):
        m["t"] = (1, 2)
    with pytest.raises(TypeError, match="contains"):
        "k" in m  # noqa: B015
    with pytest.raises(TypeError):
        iter(m)


def test_value_semantics():
    v = Value(default={"a": [1]})
    got = v.get()
    got["a"].append(2)
    assert v.get() == {"a": [1]}
    v.set(got)
    assert v.get() == {"a": [1, 2]}
    assert Value().get() is None


def test_ctx_defaults_and_setting():
    assert (ctx.sender, ctx.origin, ctx.this, ctx.block_height) == ("alice", "alice",
                                                                   "contract", 1)
    ctx.set(block_height=9, block_time=123, this="token")
    assert (ctx.block_height, ctx.block_time, ctx.this) == (9, 123, "token")
    with pytest.raises(TypeError, match="no field"):
        ctx.set(clock=1)
    with pytest.raises(AttributeError, match="ctx.set"):
        ctx.sender = "mallory"
    ctx.reset()
    assert ctx.block_height == 1


def test_require_revert_emit():
    require(True, "fine")
    with pytest.raises(Reverted) as info:
        require(1 > 2, "nope")
    assert info.value.message == "nope"
    with pytest.raises(Reverted, match="stop"):
        revert("stop")
    assert not isinstance(Reverted("x"), Exception)  # contracts cannot catch it
    emit("E", n=1, data=[1, 2])
    assert api.events == [api.Event("contract", "E", {"n": 1, "data": [1, 2]})]
    api.clear_events()
    assert api.emitted() == []


def test_call_needs_a_registered_target(tmp_path):
    other = load(tmp_path, "other", OTHER)
    with pytest.raises(api.PlainCallError, match="no contract named 'peer' is registered"):
        other.ask("peer")
    peer = load(tmp_path, "peer", OTHER)
    api.register_contract("peer", peer)
    ctx.set(this="other")
    assert other.ask("peer") == "other"  # the callee sees the calling contract as sender
    assert ctx.this == "other" and ctx.sender == "alice"
    api.register_contract("fns", {"whoami": peer.whoami, "private": lambda: 1})
    with pytest.raises(api.PlainCallError, match="no public or view function 'private'"):
        api.call("fns", "private")
