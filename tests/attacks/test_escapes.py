"""Sandbox-escape attempts: every route from contract code towards host objects, frames,
builtins, modules or the interpreter. Each must be refused at deploy (a positioned vetting
message) or end as a clean, deterministic revert; the worker must survive."""

from __future__ import annotations

import pytest
from attack_support import assert_host_works, attack, rejected

# --- refused at deploy -----------------------------------------------------------------------

REJECTED = {
    "dunder_class": """
        @public
        def f():
            return (1).__class__
    """,
    "dunder_subclasses_via_tuple": """
        @public
        def f():
            return ().__class__.__bases__[0].__subclasses__()
    """,
    "format_field_traversal": """
        @public
        def f():
            return "{0.__class__.__mro__}".format(1)
    """,
    "format_map": """
        @public
        def f():
            return "{x}".format_map({"x": 1})
    """,
    "fstring_repr_conversion": """
        @public
        def f():
            return f"{ctx!r}"
    """,
    "fstring_ascii_conversion": """
        @public
        def f():
            return f"{ctx!a}"
    """,
    "fstring_debug_equals": """
        @public
        def f():
            x = 1
            return f"{x=}"
    """,
    "builtins_name": """
        @public
        def f():
            return __builtins__
    """,
    "builtins_via_dict_key": """
        @public
        def f():
            return ctx.__dict__
    """,
    "name_mangling_private": """
        @public
        def f():
            _secret = 1
            return _secret
    """,
    "unicode_identifier_nfkc_eval": """
        @public
        def f():
            return ｅｖａｌ("1")
    """,
    "getattr_builtin": """
        @public
        def f():
            return getattr(ctx, "sender")
    """,
    "type_builtin": """
        @public
        def f():
            return type(ctx)
    """,
    "vars_globals": """
        @public
        def f():
            return globals()
    """,
    "arbitrary_decorator": """
        def deco(fn):
            return fn

        @deco
        @public
        def f():
            return 1
    """,
    "decorator_on_nested_def": """
        @public
        def f():
            @public
            def g():
                return 1
            return g()
    """,
    "default_argument_host_object": """
        @public
        def f(x=ctx):
            return 1
    """,
    "default_argument_builtin": """
        @public
        def f(k=sorted):
            return 1
    """,
    "generator_frame": """
        @public
        def f():
            g = (x for x in [1])
            return g.gi_frame
    """,
    "generator_function_yield": """
        def gen():
            yield 1

        @public
        def f():
            return list(gen())
    """,
    "exception_traceback": """
        @public
        def f():
            try:
                x = 1 // 0
            except ZeroDivisionError as e:
                return e.__traceback__
    """,
    "exception_args_attribute": """
        @public
        def f():
            try:
                x = 1 // 0
            except ZeroDivisionError as e:
                return e.args
    """,
    "exception_with_traceback": """
        @public
        def f():
            try:
                x = 1 // 0
            except ZeroDivisionError as e:
                return e.with_traceback(None)
    """,
    "catch_base_exception": """
        @public
        def f():
            try:
                x = 1
            except BaseException:
                pass
    """,
    "bare_except": """
        @public
        def f():
            try:
                x = 1
            except:
                pass
    """,
    "raise_from": """
        @public
        def f():
            raise ValueError("a") from None
    """,
    "class_definition": """
        class K:
            pass
    """,
    "import_os": """
        import os
    """,
    "from_import_other": """
        from pycontract.runtime import Meter
    """,
    "import_inside_function": """
        @public
        def f():
            from pycontract import ctx as c2
            return 1
    """,
    "shadow_api_name": """
        @public
        def f():
            ctx = 1
            return ctx
    """,
    "api_alias_to_builtin": """
        from pycontract import emit as print
    """,
    "attribute_assignment_on_ctx": """
        @public
        def f():
            ctx.sender = "root"
    """,
    "str_maketrans_unlisted_method": """
        @public
        def f():
            return str.maketrans("a", "b")
    """,
    "walrus": """
        @public
        def f():
            return (y := 1)
    """,
    "global_statement": """
        counter = 0
        @public
        def f():
            global counter
            counter = 1
    """,
    "is_identity_on_ints": """
        @public
        def f(a: int, b: int):
            return a is b
    """,
    "set_display": """
        @public
        def f():
            return len({1, 2})
    """,
    "storage_declared_in_function": """
        @public
        def f():
            m = Map()
            return 1
    """,
    "module_level_expression": """
        x = 10 ** 18
    """,
    "async_def": """
        async def f():
            return 1
    """,
    "match_statement": """
        @public
        def f(x: int):
            match x:
                case 1:
                    return 1
    """,
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_escape_refused_at_deploy(chain, case):
    error = rejected(chain, REJECTED[case], header=(case not in ("import_os", "from_import_other")))
    # a positioned FILE:LINE:COL: message, never an internal traceback
    first = error.splitlines()[0]
    parts = first.split(":")
    assert len(parts) >= 4 and parts[1].isdigit() and parts[2].isdigit(), error


# --- accepted by vetting, stopped by the runtime ---------------------------------------------

RUNTIME_TYPEERROR = {
    "str_of_ctx_proxy": """
        @public
        def f():
            return str(ctx)
    """,
    "fstring_of_map_proxy": """
        m = Map()
        @public
        def f():
            return f"{m}"
    """,
    "str_of_api_function": """
        @public
        def f():
            return str(emit)
    """,
    "str_of_contract_function": """
        def g():
            return 1
        @public
        def f():
            return str(g)
    """,
    "str_of_builtin": """
        @public
        def f():
            return str(sorted)
    """,
    "map_proxy_as_dict_key": """
        m = Map()
        @public
        def f():
            d = {}
            d[m] = 1
            return 1
    """,
    "iterate_map_proxy": """
        m = Map()
        @public
        def f():
            return [x for x in m]
    """,
    "list_of_value_proxy": """
        v = Value(default=0)
        @public
        def f():
            return list(v)
    """,
    "len_of_map_proxy": """
        m = Map()
        @public
        def f():
            return len(m)
    """,
    "iterate_ctx_in_for": """
        @public
        def f():
            for x in ctx:
                return 1
    """,
    "star_unpack_proxy": """
        m = Map()
        @public
        def f():
            return [*m]
    """,
    "sorted_proxies": """
        m = Map()
        v = Value()
        @public
        def f():
            return sorted([m, v])
    """,
    "exception_carrying_proxy_message": """
        m = Map()
        @public
        def f():
            try:
                raise ValueError(m)
            except ValueError as e:
                return f"{e}"
    """,
    "sorted_key_str_on_proxies": """
        m = Map()
        @public
        def f():
            return sorted([m, ctx], key=str)
    """,
    "map_str_over_functions": """
        def g():
            return 1
        @public
        def f():
            return list(map(str, [g, emit, call]))
    """,
    "compare_function_order": """
        def g():
            return 1
        def h():
            return 2
        @public
        def f():
            return g < h
    """,
}


@pytest.mark.parametrize("case", sorted(RUNTIME_TYPEERROR))
def test_host_object_leak_is_type_error(chain, case):
    r = attack(chain, RUNTIME_TYPEERROR[case])
    assert r.status == "reverted", (r.status, r.result, r.error)
    assert r.error.endswith(": TypeError") or "TypeError" in r.error, r.error
    assert "0x" not in r.error and "object at" not in r.error and "<" not in r.error, r.error


def test_returning_a_function_is_refused(chain):
    r = attack(chain, """
        def g():
            return 1
        @public
        def f():
            return g
    """)
    assert r.status == "reverted" and "non-storable" in r.error, r.error


def test_returning_a_generator_is_refused(chain):
    r = attack(chain, """
        @public
        def f():
            return (x for x in [1, 2])
    """)
    assert r.status == "reverted", (r.status, r.result)
    assert "object at" not in r.error


def test_emit_a_function_or_proxy_is_refused(chain):
    r = attack(chain, """
        m = Map()
        @public
        def f():
            emit("E", x=m)
    """)
    assert r.status == "reverted" and r.events == [], (r.status, r.error)


def test_store_a_proxy_in_storage_is_refused(chain):
    r = attack(chain, """
        m = Map()
        v = Value()
        @public
        def f():
            v.set(m)
    """)
    assert r.status == "reverted", (r.status, r.error)


def test_closure_returning_inner_state_is_plain_data(chain):
    r = attack(chain, """
        def outer(x):
            def inner():
                return x + 1
            return inner
        @public
        def f() -> int:
            return outer(41)()
    """)
    assert (r.status, r.result) == ("success", 42), r.error


def test_exception_message_of_caught_runtime_error_is_engine_text(chain):
    """A caught CPython exception shows only its type name, never CPython's message."""
    r = attack(chain, """
        @public
        def f():
            out = []
            try:
                x = [1][5]
            except IndexError as e:
                out.append(f"{e}")
            try:
                x = {"a": 1}["b"]
            except KeyError as e:
                out.append(str(e))
            try:
                x = int("zz")
            except ValueError as e:
                out.append(str(e))
            return out
    """)
    assert r.status == "success", r.error
    # the missing key is engine-written (CPython's own str(KeyError) is its repr, the same)
    assert r.result == ["IndexError", "'b'", "ValueError"]


def test_a_lambda_cannot_carry_ctx_out(chain):
    """Lambdas are accepted (issue #11); one returning the ctx proxy is refused as a result."""
    r = attack(chain, """
        @public
        def f():
            g = lambda: ctx
            return g()
    """)
    assert r.status == "reverted" and "non-storable" in r.error, r.error


def test_builtins_as_callbacks(chain):
    """Builtins handed to map/filter/sorted work as plain functions on plain data."""
    r = attack(chain, """
        @public
        def f():
            a = list(map(str, [1, 2]))
            b = list(filter(bool, [0, 1, 2]))
            c = sorted(["b", "a"], key=len)
            d = list(map(abs, [-1]))
            e = sorted([[2], [1]], key=sorted)
            return [a, b, c, d, e]
    """)
    assert r.status == "success", r.error
    assert r.result == [["1", "2"], [1, 2], ["b", "a"], [1], [[1], [2]]]


def test_map_with_revert_callback(chain):
    r = attack(chain, """
        @public
        def f():
            return list(map(revert, ["via map"]))
    """)
    assert r.status == "reverted" and r.error.endswith("via map"), r.error


def test_require_with_proxy_message(chain):
    r = attack(chain, """
        m = Map()
        @public
        def f():
            require(False, m)
    """)
    assert r.status == "reverted", r.status
    assert "object at" not in r.error and "0x" not in r.error, r.error


def test_isinstance_with_proxy_class_argument(chain):
    r = attack(chain, """
        @public
        def f():
            return isinstance(1, ctx)
    """)
    assert r.status == "reverted" and "TypeError" in r.error, r.error


def test_function_as_dict_key_is_harmless(chain):
    """Functions hash by identity, but insertion order (not hash order) is all a contract sees."""
    r = attack(chain, """
        def g():
            return 1
        def h():
            return 2
        @public
        def f():
            d = {h: "h", g: "g"}
            return d.values()
    """)
    assert (r.status, r.result) == ("success", ["h", "g"]), r.error


def test_host_still_works_after_escape_attempts(chain):
    for case in ("str_of_ctx_proxy", "iterate_map_proxy", "exception_carrying_proxy_message"):
        attack(chain, RUNTIME_TYPEERROR[case])
    assert_host_works(chain)
