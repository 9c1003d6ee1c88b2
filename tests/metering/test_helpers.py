"""The names metered code calls and the runtime that provides them come from one table
(pycontract.metering.helpers): every name the rewriter or vetting's transform can emit is
listed there, and every listed name resolves in a runtime namespace."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from pycontract.metering import helpers, rewriter
from pycontract.metering.compiler import compile_contract
from pycontract.runtime.executor import Runtime

ROOT = Path(__file__).resolve().parents[2]
ENGINE_NAME = re.compile(r"_pc_\w+|_[a-z_]+_\Z")


def emitted_by_source(module) -> set[str]:
    """Every string constant in the module that looks like an engine name, plus the names the
    rewriter composes (``"_pc_cmp_" + op``)."""
    tree = ast.parse(inspect.getsource(module))
    names = {n.value for n in ast.walk(tree)
             if isinstance(n, ast.Constant) and type(n.value) is str and ENGINE_NAME.fullmatch(n.value)}
    names |= {"_pc_cmp_" + op for op in rewriter._CMPNAME.values()}
    names.discard("_pc_cmp_")
    return names


def contract_sources() -> list[Path]:
    return sorted((ROOT / "examples").glob("*.py")) + sorted((ROOT / "tests/vectors/contracts").glob("*.py"))


def test_every_name_in_the_rewriter_is_in_the_table():
    missing = emitted_by_source(rewriter) - helpers.ALL
    assert not missing, f"add to pycontract/metering/helpers.py: {sorted(missing)}"


def test_every_table_name_resolves_in_a_runtime_namespace():
    rt = Runtime()
    ns = rt._static_namespace()
    owners = {"runtime": rt, "ops": rt.ops, "builtins": rt.b}
    for name, path in helpers.RUNTIME_HELPERS.items():
        assert callable(ns[name]), name
        owner, attr = path.split(".")
        assert getattr(type(owners[owner]), attr, None) is not None, (name, path)
        assert ns[name].__self__ is owners[owner], (name, path)  # bound to that component
    for name, value in helpers.CONSTANTS.items():
        assert ns[name] is value


@pytest.mark.parametrize("path", contract_sources(), ids=lambda p: p.name)
def test_metered_code_names_only_table_entries(path):
    """Compile real contracts; every engine name in the metered code is in the table."""
    try:
        cc = compile_contract(path.read_text(), path.name)
    except Exception:  # noqa: BLE001 - some vector contracts are refused on purpose
        pytest.skip("refused by vetting")
    names = set()
    stack = [cc.code]
    while stack:
        code = stack.pop()
        names.update(code.co_names)
        names.update(code.co_varnames)
        stack.extend(c for c in code.co_consts if inspect.iscode(c))
    engine = {n for n in names if n.startswith("_") and not helpers.is_generated(n)}
    engine -= {"__name__", "__builtins__"}
    assert engine <= helpers.ALL, sorted(engine - helpers.ALL)
