"""Plain-Python mode behaves like the engine (issue #11, point 3): vetting on load, storage
rolled back on revert, cross-contract failures uncatchable, the engine's error text."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.resources import files

import pytest

from pycontract import api
from pycontract.errors import Reverted, VetError


@pytest.fixture(autouse=True)
def fresh():
    api.reset()
    yield
    api.reset()


def write(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


VAULT = """\
from pycontract import Map, Value, ctx, emit, public, require, view, call

balances = Map(default=0)
count = Value(default=0)


@public
def put(amount: int) -> None:
    balances[ctx.sender] += amount
    count.set(count.get() + 1)
    emit("Put", amount=amount)
    require(amount < 100, "too much")


@public
def check(name: str) -> None:
    assert balances[name] > 0, "no such account"


@public
def divide(n: int) -> int:
    return 10 // n


@view
def sneaky() -> int:
    count.set(99)
    return 0


@view
def balance(name: str) -> int:
    return balances[name]


@public
def explain() -> list:
    out = []
    try:
        raise ValueError("custom message")
    except ValueError as e:
        out.append(str(e))
    try:
        out.append(1 // 0)
    except ZeroDivisionError as e:
        out.append(str(e))
    out.append(str(5))
    out.append(isinstance("x", str))
    return out
"""

CALLER = """\
from pycontract import Value, call, public

note = Value(default="")


@public
def try_put(target: str, amount: int) -> str:
    note.set("before")
    try:
        call(target, "put", amount=amount)
    except ValueError:
        note.set("caught")
        return "caught"
    return "done"
"""


def test_a_revert_undoes_every_write_and_event(tmp_path):
    vault = api.load_contract(write(tmp_path, "vault", VAULT))
    vault.put(5)
    with pytest.raises(Reverted) as info:
        vault.put(500)
    assert info.value.message == "vault:12: too much"
    assert vault.balance("alice") == 5 and vault.count.get() == 1
    assert [e.fields["amount"] for e in api.emitted("Put")] == [5]


def test_errors_read_as_the_engine_writes_them(tmp_path):
    vault = api.load_contract(write(tmp_path, "vault", VAULT))
    with pytest.raises(Reverted) as info:
        vault.check("nobody")
    assert info.value.message == "vault:17: AssertionError: no such account"
    with pytest.raises(Reverted) as info:
        vault.divide(0)
    assert info.value.message == "vault:22: ZeroDivisionError"  # no interpreter text
    with pytest.raises(Reverted) as info:
        vault.sneaky()
    assert info.value.message == "vault:27: a view cannot write storage"
    assert vault.count.get() == 0


def test_str_of_an_exception_inside_a_contract_is_the_engines(tmp_path):
    vault = api.load_contract(write(tmp_path, "vault", VAULT))
    # issue #13: str(e) of the contract's own exception is CPython's text (the message)
    assert vault.explain() == ["custom message", "ZeroDivisionError", "5", True]


def test_a_failure_in_another_contract_cannot_be_caught(tmp_path):
    api.load_contract(write(tmp_path, "vault", VAULT))
    caller = api.load_contract(write(tmp_path, "caller", CALLER))
    with pytest.raises(Reverted) as info:
        caller.try_put("vault", 500)
    assert info.value.message == "vault:12: too much"  # the callee's error, as in the engine
    assert caller.note.get() == ""  # the caller's write before the call is undone too
    assert caller.try_put("vault", 5) == "done"
    with pytest.raises(Reverted, match=r"^caller:10: call to nowhere.put: no such contract$"):
        caller.try_put("nowhere", 5)


def test_the_same_contract_in_the_engine_gives_the_same_texts(tmp_path):
    from pycontract.testing import TestChain

    with TestChain(tmp_path / "l.db") as chain:
        vault = chain.deploy_file(write(tmp_path, "vault", VAULT))
        caller = chain.deploy_file(write(tmp_path, "caller", CALLER))
        errors = [vault.check("nobody", check=False).error, vault.divide(0, check=False).error,
                  caller.try_put("vault", 500, check=False).error]
        assert vault.explain().result == ["custom message", "ZeroDivisionError", "5", True]
    assert errors == ["vault:17: AssertionError: no such account", "vault:22: ZeroDivisionError",
                      "vault:12: too much"]


def test_a_first_draft_deploy_would_refuse_fails_on_import(tmp_path):
    path = write(tmp_path, "draft", """\
        from dataclasses import dataclass
        from pycontract import public

        @public
        def f() -> int:
            seen = {1, 2}
            g = lambda x=[]: x
            return g(len(seen))
        """)
    with pytest.raises(VetError) as info:
        api.load_contract(path)
    text = str(info.value)
    assert text.startswith(f"{path}:1:1: ")
    assert f"{path}:6:" in text and f"{path}:7:" in text  # the set and the lambda's default
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(VetError):
            import draft  # noqa: F401 - a plain import vets too
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("draft", None)


def test_code_without_a_source_file_is_only_marked():
    ns: dict = {}
    exec("from pycontract import public\n@public\ndef f():\n    return 1 // 0\n", ns)  # noqa: S102
    assert api.entry_kind(ns["f"]) == "public"
    with pytest.raises(ZeroDivisionError):  # raw Python, as the differential fuzzer expects
        ns["f"]()


def test_a_token_py_in_the_folder_does_not_break_import_pycontract(tmp_path):
    (tmp_path / "token.py").write_text(files("pycontract.examples").joinpath("token.py").read_text())
    p = subprocess.run([sys.executable, "-c", "import pycontract, token; print(token.__file__)"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # the contract is loaded by path, whatever its name
    p = subprocess.run([sys.executable, "-c", "from pycontract import api; "
                        "t = api.load_contract('token.py'); t.init(10); print(t.balance_of('alice'))"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout.strip()) == (0, "10"), p.stderr


def test_reverts_works_in_plain_mode_too(tmp_path):
    from pycontract.testing import reverts

    vault = api.load_contract(write(tmp_path, "vault", VAULT))
    with reverts("too much") as caught:
        vault.put(500)
    assert caught.error.error == "vault:12: too much"
    with pytest.raises(AssertionError, match="expected a revert with 'other'"):
        with reverts("other"):
            vault.put(500)


def test_entry_points_called_directly_inside_a_contract_are_plain_calls(tmp_path):
    counter = api.load_contract(write(tmp_path, "counter", """\
        from pycontract import Value, public, view, require

        n = Value(default=0)


        @view
        def get() -> int:
            return n.get()


        @public
        def bump() -> int:
            n.set(get() + 1)  # a view called directly: no frame of its own, may not write
            return twice()


        @public
        def twice() -> int:
            n.set(n.get() * 2)
            require(n.get() < 10, "too big")
            return n.get()
        """))
    assert counter.bump() == 2 and counter.bump() == 6
    with pytest.raises(Reverted, match=r"^counter:20: too big$"):
        counter.bump()
    assert counter.get() == 6  # the whole outer call was undone
