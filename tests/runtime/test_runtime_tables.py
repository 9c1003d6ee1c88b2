"""The runtime provides exactly what the language whitelist (pycontract.language) allows: its
builtins, methods and type attributes are generated from it, and no implementation exists for
a name the whitelist does not allow (it would be dead code, or a hole waiting to be opened)."""

from __future__ import annotations

import re

from pycontract import language
from pycontract.runtime.builtins import Builtins, method_table
from pycontract.runtime.executor import Runtime

TYPES = {"str": str, "bytes": bytes, "int": int, "list": list, "tuple": tuple, "dict": dict}


def test_builtins_are_exactly_the_whitelist():
    rt = Runtime()
    assert set(rt.builtins) == language.ALLOWED_BUILTINS | language.ALLOWED_EXCEPTIONS
    for name in language.ALLOWED_BUILTINS - {"True", "False", "None"}:
        assert callable(rt.builtins[name]), name


def test_methods_are_exactly_the_whitelist():
    table = method_table(Builtins)
    assert set(table) == set(TYPES.values())
    for tname, typ in TYPES.items():
        assert set(table[typ]) == language.ALLOWED_METHODS[tname], tname
    implemented = {(m.group(1), m.group(2)) for name in dir(Builtins)
                   if (m := re.fullmatch(r"m_([a-z]+)_(\w+)", name))}
    allowed = {(t, n) for t in TYPES for n in language.ALLOWED_METHODS[t]}
    assert implemented == allowed, (sorted(implemented - allowed), sorted(allowed - implemented))


def test_type_attributes_are_exactly_the_whitelist():
    rt = Runtime()
    got = {}
    for fn, attrs in rt.type_attrs.values():
        tname = next(t for t in TYPES if rt.builtins[t] is fn)
        got[tname] = set(attrs)
    assert got == {t: set(n) for t, n in language.ALLOWED_TYPE_ATTRIBUTES.items()}
    implemented = {name for name in dir(Builtins) if re.fullmatch(r"t_[a-z]+_\w+", name)}
    assert implemented == {f"t_{t}_{n}" for t, ns in language.ALLOWED_TYPE_ATTRIBUTES.items()
                           for n in ns}


def test_api_objects_expose_exactly_the_whitelisted_names():
    rt = Runtime()
    assert set(rt.api) == language.API_NAMES - {"ctx"}
