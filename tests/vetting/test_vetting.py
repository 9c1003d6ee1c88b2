"""The vetting suite: adversarial contracts with exact outcomes, resource bombs, accepted
contracts with their metadata and output tree shape."""

from __future__ import annotations

import ast
import hashlib
import time

import pytest

from pycontract import language
from pycontract.diagnostics import Problem
from pycontract.errors import VetError
from pycontract.vetting import (
    EntryPoint,
    Param,
    StorageDecl,
    VettedModule,
    summary,
    vet,
    vet_file,
)

from vetting_cases import ACCEPTED_TOKEN, HEADER, NO_HEADER, REJECTED


def problems_of(source: str, filename: str = "c.py") -> list[Problem]:
    with pytest.raises(VetError) as info:
        vet(source, filename)
    return info.value.problems


def assert_exact(problems, expected):
    """``problems`` are exactly ``expected`` [(line, col, substring)], in source order."""
    pool = list(problems)
    missing = []
    for line, col, sub in expected:
        for p in pool:
            if p.line == line and p.col == col and sub in p.message:
                pool.remove(p)
                break
        else:
            missing.append((line, col, sub))
    got = [(p.line, p.col, p.message) for p in problems]
    assert not missing and not pool, f"missing {missing}, unexpected {pool}; got {got}"
    assert [p.sort_key() for p in problems] == sorted(p.sort_key() for p in problems)


# --------------------------------------------------------------------------- rejected corpus


def test_corpus_is_large_and_distinct():
    ids = [c[0] for c in REJECTED]
    assert len(ids) == len(set(ids))
    assert len({c[1] for c in REJECTED}) >= 60


@pytest.mark.parametrize("cid,body,expected", REJECTED, ids=[c[0] for c in REJECTED])
def test_rejected(cid, body, expected):
    source = body if cid in NO_HEADER else HEADER + body
    problems = problems_of(source, f"{cid}.py")
    assert_exact(problems, expected)
    for p in problems:
        assert p.filename == f"{cid}.py"
        assert p.render(source).startswith(f"{cid}.py:{p.line}:{p.col}: {p.message}")


def test_every_problem_is_reported_not_just_the_first():
    src = HEADER + (
        "import os\n"
        "RATE = 0.5\n"
        "class A:\n"
        "    pass\n"
        "@public\n"
        "def f(x: int) -> int:\n"
        "    return x / 2 + x.__class__ + eval('1')\n"
    )
    probs = problems_of(src)
    assert [(p.line, p.col) for p in probs] == [(2, 1), (3, 8), (4, 1), (8, 14), (8, 22),
                                                (8, 34)]


# --------------------------------------------------------------------------- bombs and limits

BOMBS = [
    ("unary_100k", "-" * 100000 + "1", (1, 1), "more than 500 operators"),
    ("parens_100k", "(" * 100000, (1, 31), "brackets are nested more than 30 levels"),
    ("chain_400", "x = " + "+".join(["1"] * 400), (1, 1), "nested more than 50 levels"),
    ("chain_400_in_function", HEADER + "def f():\n    return " + "+".join(["1"] * 400),
     (3, 5), "nested more than 50 levels"),
    ("deep_expression_100k", "x = " + "not " * 50000 + "y", (1, 1), "more than 500 operators"),
    ("attribute_chain", "x = a" + ".b" * 60000, (1, 1), "more than 500 operators"),
    ("lambda_tower", "x = " + "lambda: " * 30000 + "1", (1, 1), "more than 500 operators"),
    ("pow_tower", "x = " + "**".join(["2"] * 50000), (1, 1), "more than 500 operators"),
    ("subscript_chain", "def f(a):\n    return a" + "[0]" * 200, (2, 5),
     "nested more than 50 levels"),
    ("deep_blocks", "".join("    " * i + "if x:\n" for i in range(60)) + "    " * 60 + "pass\n",
     (51, 201), "nested more than 50 levels"),
    ("nested_lists", "X = " + "[" * 40 + "]" * 40, (1, 35), "brackets are nested more than 30"),
    ("too_big", "x = 1\n" * 50000, (1, 1), "the limit is 262144 bytes"),
    ("too_many_lines", "\n" * 20000, (10001, 1), "the limit is 10000"),
    ("nul_byte", "x = 1\0", (1, 6), "NUL character"),
    ("lone_surrogate", 'x = "\ud800"', (1, 6), "lone surrogate"),
    ("huge_int_literal", "X = " + "9" * 5000, (1, 1), "syntax error"),
]


@pytest.mark.parametrize("cid,src,pos,sub", BOMBS, ids=[b[0] for b in BOMBS])
def test_bombs_are_clean_fast_rejections(cid, src, pos, sub):
    t0 = time.perf_counter()
    probs = problems_of(src)
    assert time.perf_counter() - t0 < 2.0
    assert any((p.line, p.col) == pos and sub in p.message for p in probs), probs
    assert all(p.kind in ("limit", "syntax") for p in probs)


def test_non_str_source():
    probs = problems_of(b"x = 1")  # type: ignore[arg-type]
    assert probs[0].message.startswith("contract source must be text (str), not bytes")


def test_bombs_under_a_deep_caller_stack():
    """3.11 builds ASTs against the Python recursion limit; vetting keeps its own headroom."""

    def deep(n):
        if n == 0:
            with pytest.raises(VetError) as info:
                vet("x = " + "+".join(["1"] * 400))
            return info.value.problems
        return deep(n - 1)

    probs = deep(900)
    assert "nested more than 50 levels" in probs[0].message


def test_syntax_error_is_deterministic_text_with_interpreter_detail():
    src = "def f(:\n    pass\n"
    p = problems_of(src)[0]
    assert p.kind == "syntax"
    assert p.message.startswith("syntax error: this is not valid Python 3.11 source")
    assert p.line == 1 and p.detail
    assert p.receipt_text() == f"c.py:1: {p.message}"
    assert p.detail in p.render(src)


@pytest.mark.parametrize("src", [
    "type X = int\n",
    "def f[T](x):\n    return x\n",
    'def f(x):\n    return f"{x\n}"\n',
    "def f(x):\n    return f'{x!r:>{10}}'\n",
])
def test_newer_grammar_is_refused_on_every_version(src):
    problems_of(src)


# --------------------------------------------------------------------------- accepted contracts

ALLOWANCES = HEADER + """\
\"\"\"A token with allowances.\"\"\"
balances = Map(default=0)
allowance = Map(default=0)
owners: Value = Value(default=[])
NAME = "Token"
DECIMALS = 18
LIMITS = (1, -2, (b"x", None, True))

@constructor
def init(supply: int, name: str = "T") -> None:
    balances[ctx.sender] = supply
    owners.set([ctx.sender])

@public
def approve(spender: str, amount: int) -> bool:
    allowance[ctx.sender, spender] = amount
    return True

@public
def transfer_from(owner: str, to: str, amount: int) -> bool:
    require(allowance[owner, ctx.sender] >= amount, "allowance too small")
    allowance[owner, ctx.sender] -= amount
    balances[owner] -= amount
    balances[to] += amount
    count: int = 0
    count += 1
    data = {"a": [1, 2]}
    data["a"][0] *= 3
    a, (b, c) = 1, (2, 3)
    for k, v in data.items():
        pass
    total = sum(x for x in [1, 2, 3] if x > 1)
    evens = [i for i in range(10) if i % 2 == 0][1:3]
    del data["a"]
    try:
        revert("no")
    except (ValueError, KeyError) as err:
        raise
    finally:
        pass
    if owner is None or to is not None:
        pass
    return _helper_free(amount) > 0 and f"{amount:>10}" != ""

def _helper_free(x):
    return x
""".replace("_helper_free", "helper")

VIEW_ONLY = HEADER + """\
@view
def get(*, key: str, fallback: bytes = b"") -> None:
    return None
"""


def vetted_token() -> VettedModule:
    return vet(ACCEPTED_TOKEN, "token.py")


def test_spec_token_metadata():
    v = vetted_token()
    assert v.filename == "token.py" and v.source == ACCEPTED_TOKEN
    assert v.imports == {n: n for n in
                         ["public", "view", "constructor", "Map", "Value", "ctx", "require",
                          "emit"]}
    assert v.storage == {"balances": StorageDecl("balances", "map", 0),
                         "total_supply": StorageDecl("total_supply", "value", 0)}
    assert v.entry_points == {
        "init": EntryPoint("init", "constructor", (Param("supply", "int", False, None),),
                           "None", 7),
        "transfer": EntryPoint("transfer", "public", (Param("to", "str", False, None),
                                                      Param("amount", "int", False, None)),
                               "bool", 12),
        "balance_of": EntryPoint("balance_of", "view", (Param("owner", "str", False, None),),
                                 "int", 21),
    }
    assert list(v.entry_points) == ["init", "transfer", "balance_of"]
    assert v.functions == frozenset({"init", "transfer", "balance_of"})
    assert summary(v) == (  # the `pycontract check` text: kinds in a fixed order, then names
        "constructor init(supply: int); public transfer(to: str, amount: int); "
        "view balance_of(owner: str)"
    )


def test_spec_token_tree_shape():
    v = vetted_token()
    assert ast.unparse(v.tree) == (
        "balances = _pc_storage_('balances')\n"
        "total_supply = _pc_storage_('total_supply')\n\n"
        "def init(supply):\n"
        "    _write_(balances)[_getattr_(ctx, 'sender')] = supply\n"
        "    _getattr_(total_supply, 'set')(supply)\n\n"
        "def transfer(to, amount):\n"
        "    require(amount > 0, 'amount must be positive')\n"
        "    require(_getitem_(balances, _getattr_(ctx, 'sender')) >= amount, "
        "'insufficient balance')\n"
        "    balances[_getattr_(ctx, 'sender')] -= amount\n"
        "    balances[to] += amount\n"
        "    emit('Transfer', sender=_getattr_(ctx, 'sender'), to=to, amount=amount)\n"
        "    return True\n\n"
        "def balance_of(owner):\n"
        "    return _getitem_(balances, owner)"
    )
    transfer = v.tree.body[3]
    aug = transfer.body[2]
    assert isinstance(aug, ast.AugAssign) and isinstance(aug.op, ast.Sub)
    assert isinstance(aug.target, ast.Subscript) and isinstance(aug.target.ctx, ast.Store)
    assert isinstance(aug.target.value, ast.Name) and aug.target.value.id == "balances"
    assert isinstance(aug.target.slice, ast.Call) and aug.target.slice.func.id == "_getattr_"
    assert (aug.lineno, aug.col_offset) == (15, 4)


def assert_tree_invariants(tree):
    for node in ast.walk(tree):
        if "lineno" in node._attributes:
            for a in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                assert isinstance(getattr(node, a, None), int), (type(node).__name__, a)
        if isinstance(node, ast.FunctionDef):
            assert node.decorator_list == [] and node.returns is None
        if isinstance(node, ast.arg):
            assert node.annotation is None
        assert not isinstance(node, (ast.AnnAssign, ast.ImportFrom, ast.Import))
        if isinstance(node, ast.Name):
            assert not node.id.startswith("_") or node.id in {
                "_getattr_", "_getitem_", "_write_", "_getiter_", "_iter_unpack_sequence_",
                "_unpack_sequence_", "_apply_", "_pc_storage_"}
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                assert not (isinstance(part, ast.Constant) and part.value == "")


def test_allowances_contract_metadata_and_shape():
    v = vet(ALLOWANCES, "allow.py")
    assert v.storage == {"balances": StorageDecl("balances", "map", 0),
                         "allowance": StorageDecl("allowance", "map", 0),
                         "owners": StorageDecl("owners", "value", [])}
    assert v.entry_points["init"].params == (Param("supply", "int", False, None),
                                             Param("name", "str", True, "T"))
    assert v.functions == frozenset({"init", "approve", "transfer_from", "helper"})
    assert "helper" not in v.entry_points
    assert_tree_invariants(v.tree)
    code = ast.unparse(v.tree)
    assert "owners = _pc_storage_('owners')" in code
    assert "_write_(allowance)[ctx_sender_placeholder]".replace(
        "ctx_sender_placeholder", "_getattr_(ctx, 'sender')") not in code
    assert "_write_(allowance)[spender_key] = amount".replace(
        "spender_key", "_getattr_(ctx, 'sender'), spender") in code
    assert "allowance[owner, _getattr_(ctx, 'sender')] -= amount" in code
    assert "_getitem_(data, 'a')[0] *= 3" in code
    assert "count = 0" in code and "count += 1" in code
    assert "a, (b, c) = _unpack_sequence_((1, (2, 3)), " in code
    assert "for k, v in _iter_unpack_sequence_(_getattr_(data, 'items')(), " in code
    assert "sum((x for x in _getiter_([1, 2, 3]) if x > 1))" in code
    assert "_getitem_([i for i in _getiter_(range(10)) if i % 2 == 0], slice(1, 3))" \
        .replace("slice(1, 3)", "1:3") in code
    assert "del _write_(data)['a']" in code
    assert "NAME = 'Token'" in code and "LIMITS = (1, -2, (b'x', None, True))" in code
    compile(v.tree, "allow.py", "exec")
    assert summary(v) == ("constructor init(supply: int, name: str); public approve(spender: "
                          "str, amount: int); public transfer_from(owner: str, to: str, "
                          "amount: int)")


def test_slices_are_slice_nodes_inside_getitem():
    v = vet(HEADER + "def f(x):\n    return x[1:2, ::3]\n")
    ret = v.tree.body[0].body[0].value
    assert ret.func.id == "_getitem_"
    key = ret.args[1]
    assert isinstance(key, ast.Tuple) and all(isinstance(e, ast.Slice) for e in key.elts)
    assert (key.elts[1].lower, key.elts[1].upper) == (None, None)
    assert key.elts[1].step.value == 3


def test_keyword_only_entry_point_params():
    v = vet(VIEW_ONLY, "v.py")
    assert v.entry_points["get"].params == (Param("key", "str", False, None),
                                            Param("fallback", "bytes", True, b""))
    assert v.entry_points["get"].returns == "None"
    assert summary(v) == "view get(key: str, fallback: bytes)"


def test_star_calls_use_apply():
    v = vet(HEADER + "def f(a, k):\n    return max(*a, **k)\n")
    assert ast.unparse(v.tree.body[0].body[0]) == "return _apply_(max, *a, **k)"


def test_bare_annotation_is_removed_and_empty_blocks_get_pass():
    v = vet(HEADER + "def f():\n    x: int\n")
    body = v.tree.body[0].body
    assert len(body) == 1 and isinstance(body[0], ast.Pass)


def test_aliased_api_names_resolve():
    src = ("from pycontract import public as entry, Map as Table\n"
           "t = Table(default={'a': [1, None, b'x']})\n"
           "@entry\n"
           "def f() -> dict:\n"
           "    return t['k']\n")
    v = vet(src, "alias.py")
    assert v.imports == {"entry": "public", "Table": "Map"}
    assert v.storage["t"] == StorageDecl("t", "map", {"a": [1, None, b"x"]})
    assert v.entry_points["f"].kind == "public"


def test_vet_file(tmp_path):
    path = tmp_path / "token.py"
    path.write_text(ACCEPTED_TOKEN, encoding="utf-8")
    v = vet_file(path)
    assert v.filename == str(path) and set(v.entry_points) == {"init", "transfer", "balance_of"}
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"x = '\xff'\n")
    with pytest.raises(VetError) as info:
        vet_file(bad)
    assert "not valid UTF-8" in info.value.problems[0].message


def test_crlf_and_bom_sources_get_the_same_positions():
    src = HEADER + "def f():\n    return 1.5\n"
    a = problems_of(src)
    b = problems_of("\ufeff" + src.replace("\n", "\r\n"))
    assert [(p.line, p.col, p.message) for p in a] == [(p.line, p.col, p.message) for p in b]


def test_columns_count_characters_not_bytes():
    src = HEADER + 'def f():\n    return "ééé" + 1.5\n'
    p = problems_of(src)[0]
    assert (p.line, p.col) == (3, 20)
    assert p.render(src).splitlines()[1:3] == ['        return "ééé" + 1.5',
                                               "    " + " " * 19 + "^"]


def test_render_without_source_line():
    p = Problem("x.py", 3, 5, "something is wrong; write it differently")
    assert p.render() == "x.py:3:5: something is wrong; write it differently"
    assert str(p) == p.render()
    p2 = Problem("x.py", 99, 5, "m", detail="d")
    assert p2.render("one line\n") == "x.py:99:5: m\n    (d)"


def test_vet_error_renders_every_problem():
    src = HEADER + "X = 1.5\nY = 2.5\n"
    with pytest.raises(VetError) as info:
        vet(src, "two.py")
    text = str(info.value)
    assert text.count("two.py:") == 2 and "two.py:2:5:" in text and "two.py:3:5:" in text
    assert "^" in text


# --------------------------------------------------------------------------- determinism


def canonical_dump(node) -> str:
    """A dump that does not depend on the Python version's ast field layout or dump format."""
    if isinstance(node, ast.AST):
        parts = [type(node).__name__]
        for name in sorted(node._fields):
            value = getattr(node, name, None)
            if value is None or value == [] or name in ("type_comment", "type_params", "kind"):
                continue
            parts.append(f"{name}={canonical_dump(value)}")
        for name in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if name in node._attributes:
                parts.append(f"{name}={getattr(node, name)}")
        return "(" + " ".join(parts) + ")"
    if isinstance(node, list):
        return "[" + ",".join(canonical_dump(x) for x in node) + "]"
    return repr(node)


FSTRINGS = HEADER + """\
@view
def f(a: int, b: str) -> str:
    return f"x{a}y" f"{b:>{a}}" "z" f'''
{a:{b}x} {a = !s}''' + f"{a:d}{a}{{}}"
"""

#: sha256 of canonical_dump(vet(source).tree), the same on CPython 3.11, 3.12 and 3.13
#: (after an intended change of the output tree, recompute on one version and check the others)
TREE_DIGESTS = {
    "token": "b02b435948cc3a85d0d36b034e2d543a15fe0737a16fed62a29a1006b8e0b518",
    "allowances": "e3ca2904ef52337cb154ffff2981a4e74777f018dbcfef11fe97bfb98e1d3196",
    "fstrings": "80747a1ef77a7a6fb6b278e4db67f5f74a5ef39f111437de7cf262048ccadb69",
}


@pytest.mark.parametrize("name,src", [("token", ACCEPTED_TOKEN), ("allowances", ALLOWANCES),
                                      ("fstrings", FSTRINGS)])
def test_output_tree_is_identical_on_every_python_version(name, src):
    v = vet(src, f"{name}.py")
    assert_tree_invariants(v.tree)
    digest = hashlib.sha256(canonical_dump(v.tree).encode()).hexdigest()
    assert digest == TREE_DIGESTS[name], canonical_dump(v.tree)


def test_problem_lists_are_identical_on_every_python_version():
    blob = []
    for cid, body, _ in REJECTED:
        source = body if cid in NO_HEADER else HEADER + body
        try:
            vet(source, cid)
        except VetError as e:
            blob += [(p.line, p.col, p.message, p.kind) for p in e.problems
                     if p.kind != "syntax"]
    digest = hashlib.sha256(repr(blob).encode()).hexdigest()
    assert digest == PROBLEMS_DIGEST


#: sha256 of every (line, col, message, kind) of the rejected corpus; the same on 3.11-3.13
#: (after an intended message change, recompute on one version and check the others)
PROBLEMS_DIGEST = "1ebd55e98e809a7b6651bb6cff97a698b172da8d837849a720c1c1839676be35"


# --------------------------------------------------------------------------- whitelist sanity


def test_whitelists_are_consistent():
    assert not (language.ALLOWED_BUILTINS & set(language.FORBIDDEN_BUILTINS))
    assert not (language.ALLOWED_EXCEPTIONS & set(language.FORBIDDEN_BUILTINS))
    assert all(not a.startswith("_") for a in language.ALLOWED_ATTRIBUTE_NAMES)
    assert "format" not in language.ALLOWED_ATTRIBUTE_NAMES
    assert "format_map" not in language.ALLOWED_ATTRIBUTE_NAMES


ACCEPTED_CONSTRUCTS = '''from pycontract import public, view, Map, Value, ctx, require, revert, emit, call
"""Doc."""
votes = Map()
owner = Value(default="alice")
MAX = 10

def helper(xs, n=3, *rest, flag=False, **kw):
    def inner(y):
        return y * 2
    out = [inner(x) for x in xs[::-1] if not x]
    d = {k: v for k, v in zip(xs, xs)}
    i = 0
    while i < n:
        i += 1
        if i == 2:
            continue
    else:
        pass
    assert i >= 0, "bad"
    b = int.from_bytes(b"\\x01", "big")
    s = "a,b".split(",")
    t = (1, 2)
    first, *others = xs
    return -i if d else abs(b) + len(s) + len(t) + ~n

@view
def get(key: str) -> list:
    if votes.contains(key):
        return [votes.get(key, 0), ctx.block_height, ctx.sender.upper()]
    return call("other", "f", x=1)

@public
def vote(key: str, weight: int = 1):
    require(ctx.origin == owner.get(), "only owner")
    if weight > MAX:
        raise ValueError("too heavy")
    try:
        votes[key] += weight
    except (KeyError, ValueError):
        revert("failed")
    emit("Voted", key=key, weight=weight)
'''


def test_accepted_constructs():
    v = vet(ACCEPTED_CONSTRUCTS, "votes.py")
    assert v.storage == {"votes": StorageDecl("votes", "map", None),
                         "owner": StorageDecl("owner", "value", "alice")}
    assert v.entry_points["vote"] == EntryPoint(
        "vote", "public", (Param("key", "str", False, None), Param("weight", "int", True, 1)),
        None, 33)
    assert v.functions == frozenset({"helper", "get", "vote"})
    assert_tree_invariants(v.tree)
    code = ast.unparse(v.tree)
    assert "votes[key] += weight" in code
    assert "_getattr_(int, 'from_bytes')" in code
    assert "first, *others = _unpack_sequence_(xs, " in code
    compile(v.tree, "votes.py", "exec")


def test_summary_is_the_check_text_and_orders_kinds_then_names():
    """One summary serves `pycontract check`: view/public/constructor declared in reverse order
    still print constructor, public, view; none at all prints 'no entry points'."""
    src = HEADER + (
        "@view\ndef b_get() -> int:\n    return 1\n\n"
        "@view\ndef a_get() -> int:\n    return 2\n\n"
        "@public\ndef z_set(x: int, y):\n    pass\n\n"
        "@constructor\ndef init() -> None:\n    pass\n"
    )
    assert summary(vet(src, "o.py")) == (
        "constructor init(); public z_set(x: int, y); view a_get(); view b_get()")
    assert summary(vet(HEADER + "X = 1\n", "e.py")) == "no entry points"
