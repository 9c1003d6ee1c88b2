"""Canonical encoding: round trips, exact bytes, refusals, defensive decoding."""

import json
import pathlib
import subprocess
import sys

import pytest

from ledger_store import codec
from ledger_store.errors import EncodingError

VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    23,
    24,
    255,
    256,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    -(2**64),
    -(2**64) - 1,
    10**400,
    -(10**400),
    "",
    "hello",
    "ünïcödé ✓ 𝄞",
    b"",
    b"\x00\xff" * 10,
    [],
    [1, "a", b"b", None, True],
    {},
    {"a": 1, "bb": [1, 2, {"c": None}], "": b"x"},
    {"nested": [[[[{"deep": [10**30, -(10**30)]}]]]]},
]

KEYS = [
    "alice",
    "",
    0,
    -5,
    10**100,
    True,
    False,
    b"\x01\x02",
    ("balances", "alice"),
    ("allowance", ("alice", "bob")),
    ((1, (2, (3, (b"x", True)))),),
    (),
]


@pytest.mark.parametrize("v", VALUES, ids=repr)
def test_value_round_trip(v):
    b = codec.encode_value(v)
    back = codec.decode_value(b)
    assert back == v
    assert type(back) is type(v)
    assert codec.encode_value(back) == b  # stable


@pytest.mark.parametrize("k", KEYS, ids=repr)
def test_key_round_trip(k):
    b = codec.encode_key(k)
    back = codec.decode_key(b)
    assert back == k
    assert type(back) is type(k)
    assert codec.encode_key(back) == b


def test_bool_and_int_are_distinct():
    assert codec.encode_value(True) != codec.encode_value(1)
    assert codec.encode_value(False) != codec.encode_value(0)
    assert codec.decode_value(codec.encode_value(True)) is True
    assert codec.decode_value(codec.encode_value([True, 1]))[0] is True
    assert type(codec.decode_value(codec.encode_value([True, 1]))[1]) is int
    assert codec.encode_key(("k", True)) != codec.encode_key(("k", 1))
    assert codec.decode_key(codec.encode_key(("k", True)))[1] is True


def test_nested_bool_types_preserved():
    v = {"flags": [True, False, 0, 1], "m": {"t": True}}
    back = codec.decode_value(codec.encode_value(v))
    assert [type(x) for x in back["flags"]] == [bool, bool, int, int]
    assert back["m"]["t"] is True


def test_dict_order_does_not_matter():
    a = {"x": 1, "yy": 2, "z": [1, {"b": 1, "a": 2}]}
    b = {"z": [1, {"a": 2, "b": 1}], "yy": 2, "x": 1}
    assert codec.encode_value(a) == codec.encode_value(b)
    assert codec.digest(a) == codec.digest(b)


def test_key_arrays_decode_as_tuples_lists_rejected_as_keys():
    assert codec.decode_key(codec.encode_key(("a", ("b", 1)))) == ("a", ("b", 1))
    with pytest.raises(EncodingError, match="list is not a valid key"):
        codec.encode_key(["a"])
    with pytest.raises(EncodingError, match="key\\[1\\]: list is not a valid key"):
        codec.encode_key(("a", ["b"]))
    with pytest.raises(EncodingError, match="NoneType is not a valid key"):
        codec.encode_key(None)


# Golden bytes: if cbor2 or Python ever changes the encoding, these fail.
GOLDEN = {
    "None": (None, "f6"),
    "True": (True, "f5"),
    "False": (False, "f4"),
    "0": (0, "00"),
    "24": (24, "1818"),
    "-1": (-1, "20"),
    "2**64": (2**64, "c249010000000000000000"),
    "-2**64-1": (-(2**64) - 1, "c349010000000000000000"),
    "str": ("hé", "6368c3a9"),
    "bytes": (b"\x00\x01", "420001"),
    "list": ([1, [2]], "82018102"),
    "dict": ({"bb": 1, "a": 2, "c": 3}, "a3616102616303626262" + "01"),
}


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_bytes(name):
    v, hexs = GOLDEN[name]
    assert codec.encode_value(v).hex() == hexs


def test_golden_key_and_digest():
    assert codec.encode_key(("balances", "alice")).hex() == "826862616c616e63657365616c696365"
    assert codec.digest([1, 2]) == codec.digest((1, 2))
    import hashlib

    assert codec.digest([]) == hashlib.sha256(b"\x80").hexdigest()
    # digest is sha256 of the canonical bytes

    assert codec.digest({"a": [1, b"x"]}) == hashlib.sha256(
        codec.encode_any({"a": [1, b"x"]})
    ).hexdigest()


@pytest.mark.parametrize(
    "value, message",
    [
        (1.5, r"^value: float is not storable"),
        ({"a": [1, 2, 1.5]}, r"^value\['a'\]\[2\]: float is not storable"),
        ({1, 2}, r"^value: set is not storable"),
        ((1, 2), r"^value: tuple is not storable as a value \(store a list instead\)"),
        ({"a": (1,)}, r"^value\['a'\]: tuple is not storable"),
        ({1: "x"}, r"^value: dict key int is not storable"),
        ([object()], r"^value\[0\]: object is not storable"),
        (bytearray(b"x"), r"^value: bytearray is not storable"),
        ("\ud800", r"lone surrogate"),
        ({"k": ["ok", "\udfff"]}, r"^value\['k'\]\[1\]: str contains a lone surrogate"),
    ],
)
def test_encoding_errors_name_type_and_path(value, message):
    with pytest.raises(EncodingError, match=message):
        codec.encode_value(value)


def test_subclasses_rejected():
    class MyInt(int):
        pass

    class MyStr(str):
        pass

    with pytest.raises(EncodingError, match="MyInt is not storable"):
        codec.encode_value([MyInt(3)])
    with pytest.raises(EncodingError, match="MyStr is not a valid key"):
        codec.encode_key(("a", MyStr("b")))


def test_depth_limit_is_checked_before_cbor2_and_never_recurses():
    v = []
    for _ in range(codec.MAX_DEPTH - 1):
        v = [v]
    assert codec.decode_value(codec.encode_value(v)) == v  # exactly MAX_DEPTH levels: fine
    with pytest.raises(EncodingError, match="nested more than 64"):
        codec.encode_value([v])
    deep = []
    for _ in range(200_000):  # would blow any recursive walker
        deep = [deep]
    with pytest.raises(EncodingError, match="nested more than 64"):
        codec.encode_value(deep)
    with pytest.raises(EncodingError, match="nested more than 64"):
        codec.encode_any(deep)
    k = ()
    for _ in range(200_000):
        k = (k,)
    with pytest.raises(EncodingError, match="nested more than 64"):
        codec.encode_key(k)
    cyc = []
    cyc.append(cyc)
    with pytest.raises(EncodingError, match="nested more than 64"):
        codec.encode_value(cyc)


@pytest.mark.parametrize(
    "hexs",
    [
        "0101",  # trailing byte
        "1801",  # non-minimal integer
        "f93c00",  # float 1.0
        "9f01ff",  # indefinite-length array
        "a2616101616102",  # duplicate keys
        "a2616201616101",  # map keys out of canonical order
        "c11a514b67b0",  # tag 1 (datetime)
        "d9010283010203",  # tag 258 (set)
        "d81c81d81d00",  # shared references (a cycle)
        "da0001000001",  # unknown tag 65536
        "c24101",  # bignum that fits 64 bits (not canonical)
        "f7",  # undefined
        "",  # nothing
        "81" * 1000 + "01",  # deeper than the limit
        "5a ffffffff".replace(" ", ""),  # claims a 4 GB byte string
    ],
)
def test_decode_refuses_non_canonical_or_foreign_bytes(hexs):
    with pytest.raises(EncodingError):
        codec.decode_value(bytes.fromhex(hexs))
    with pytest.raises(EncodingError):
        codec.decode_key(bytes.fromhex(hexs))


def test_decode_value_refuses_array_keyed_maps_and_key_refuses_maps():
    b = codec.encode_any({("a", 1): 2})
    with pytest.raises(EncodingError):
        codec.decode_value(b)
    with pytest.raises(EncodingError):
        codec.decode_key(codec.encode_value({"a": 1}))
    assert codec.decode_any(b) == {("a", 1): 2}


def test_to_json_is_readable():
    assert codec.to_json({"b": b"\x01", "a": (1, True, None)}) == '{"a":[1,true,null],"b":"0x01"}'
    assert codec.key_text(codec.encode_key(("balances", "alice"))) == '["balances","alice"]'
    assert codec.to_json(2**5000).startswith('"0x1')
    assert codec.key_text(b"\xff") == "0xff"


_PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from ledger_store import codec
values = [None, True, False, 0, -1, 2**64, -(10**400), 10**400, "hé", b"\x00", [1, [True]],
          {"bb": 1, "a": [b"x", {"z": None}]}, "x" * 300, list(range(30))]
keys = [("balances", "alice"), ("allowance", ("a", "b")), 10**40, True, b"k"]
print(json.dumps({
    "values": [codec.encode_value(v).hex() for v in values],
    "keys": [codec.encode_key(k).hex() for k in keys],
    "digest": codec.digest([(1, 2), {"a": [3]}]),
}))
"""


def test_same_bytes_on_python_311_312_313():
    root = str(pathlib.Path(__file__).resolve().parents[2])
    pythons = [sys.executable] + [
        p for p in ("/work/venv312/bin/python", "/work/venv313/bin/python")
        if pathlib.Path(p).exists()
    ]
    if len(pythons) < 2:
        pytest.skip("other CPython versions not available")
    outs = {}
    for py in pythons:
        r = subprocess.run([py, "-c", _PROBE, root], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        outs[py] = json.loads(r.stdout)
    first = outs[pythons[0]]
    for py, out in outs.items():
        assert out == first, py


def test_fast_validation_agrees_with_the_authoritative_walk():
    """encode_* use a path-free fast check and fall back to the iterative walk for messages:
    the two must accept exactly the same objects (random structures, bad leaves, deep nests)."""
    import random

    from ledger_store.codec import _ANY, _KEY, _VALUE, MAX_DEPTH, _key_ok, _validate, _value_ok

    rng = random.Random(7)
    leaves = [None, True, 0, -1, 2**70, "a", "\u00e9", "\ud800", b"x", 1.5, object(), set()]

    def build(d):
        r = rng.random()
        if d > 4 or r < 0.35:
            return rng.choice(leaves)
        if r < 0.6:
            return [build(d + 1) for _ in range(rng.randrange(3))]
        if r < 0.8:
            return tuple(build(d + 1) for _ in range(rng.randrange(3)))
        return {rng.choice(["k", "\ud800", 1, (1, "a"), b"b"]): build(d + 1)
                for _ in range(rng.randrange(3))}

    def slow_ok(o, mode):
        try:
            _validate(o, mode, "x")
            return True
        except EncodingError:
            return False

    deep = []
    cur = deep
    for _ in range(MAX_DEPTH + 3):
        cur.append([])
        cur = cur[0]
    cyc = []
    cyc.append(cyc)
    samples = [build(0) for _ in range(3000)] + [deep, cyc, (deep,), {"a": deep}]
    for i in range(MAX_DEPTH - 2, MAX_DEPTH + 2):  # exactly around the depth limit
        o, t = 0, 0
        for _ in range(i):
            o, t = [o], (t,)
        samples += [o, t]
    for o in samples:
        assert _value_ok(o, 0, False) == slow_ok(o, _VALUE), o
        assert _value_ok(o, 0, True) == slow_ok(o, _ANY), o
        assert _key_ok(o, 0) == slow_ok(o, _KEY), o


def test_to_json_fast_paths_render_like_json_dumps():
    """to_json renders scalars and flat arrays itself: the text must equal json.dumps's."""
    import json as _json

    samples = [None, True, False, 0, -5, 2**64, 2**5000, -(2**5000), "", 'a"b\\\u00e9\n\u2028\x00',
               "\ud83d\ude00", b"", b"\x00\xff", ("balances", "alice"), ["a", 1, None, b"x"],
               ("allow", ("a", "b")), [], (), {"b": 1, "a": [1, 2]}, [True, 2**5000]]
    for o in samples:
        slow = _json.dumps(codec.to_jsonable(o), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
        assert codec.to_json(o) == slow, o


def test_to_text_labels_keys_and_event_attributes():
    """The one label the node (ABCI event attributes) and inspect (map keys) use: a str stays
    itself, not quoted; anything else is its compact sorted to_json text."""
    assert codec.to_text("alice") == "alice"
    assert codec.to_text('"q"') == '"q"'
    assert codec.to_text(("alice", "bob")) == '["alice","bob"]'
    assert codec.to_text(5) == "5" and codec.to_text(True) == "true"
    assert codec.to_text(b"\x01") == '"0x01"'
    assert codec.to_text({"b": 1, "a": None}) == '{"a":null,"b":1}'


def _decode_slow(b: bytes, key: bool):
    """The definition decode_value/decode_key's flat fast path must agree with: decode, check
    every type, re-encode canonically and compare (the result or the EncodingError text)."""
    try:
        obj = codec._loads(b, "key" if key else "value")
        if key:
            obj = codec._to_key(obj)
        elif not (obj is None or type(obj) in (bool, int, str, bytes)):
            codec._check(obj, codec._VALUE, "value")
        codec._check_canonical(obj, b, "key" if key else "value")
        return ("ok", obj)
    except EncodingError as e:
        return ("error", str(e))


def _decode_fast(b: bytes, key: bool):
    try:
        obj = codec.decode_key(b) if key else codec.decode_value(b)
        return ("ok", obj)
    except EncodingError as e:
        return ("error", str(e))


def _raw_map(items) -> bytes:
    """A CBOR map of the given (key, value) pairs in exactly this order (maybe not canonical)."""
    import cbor2
    assert len(items) < 24
    return bytes([0xA0 | len(items)]) + b"".join(cbor2.dumps(k) + cbor2.dumps(v) for k, v in items)


def test_flat_fast_path_agrees_with_the_canonical_re_encoding():
    """decode_value/decode_key prove flat lists and flat str-keyed maps canonical with a plain
    re-encoding and a key-order check: same value, same refusals (with the same message) as
    the full canonical re-encoding, for canonical and non-canonical bytes alike."""
    import itertools
    import random

    import cbor2
    rnd = random.Random(7)
    keys = ["a", "b", "ab", "ba", "to", "amount", "sender", "é", "\u00e9t", "zz", "é" * 12,
            "x" * 23, "y" * 24, "", "\U0001f600", "A"]
    scalars = [0, 1, 23, 24, 255, 256, 2**32, 2**64, -(2**64) - 1, 2**70, -1, True, False,
               None, "", "alice", "é", b"", b"\x00\xff", "x" * 30]
    samples = []
    for _ in range(400):  # maps in every key order: canonical ones and permutations
        ks = rnd.sample(keys, rnd.randint(0, 5))
        items = [(k, rnd.choice(scalars)) for k in ks]
        samples.append(_raw_map(items))
        samples.append(codec.encode_value(dict(items)))
    for _ in range(200):  # flat lists, and keys of scalars
        xs = [rnd.choice(scalars) for _ in range(rnd.randint(0, 6))]
        samples.append(cbor2.dumps(xs))
        samples.append(codec.encode_key(tuple(x for x in xs if x is not None)))
    # non-minimal heads and ints, duplicate keys, trailing bytes, nested items, floats, tags
    samples += [bytes.fromhex(h) for h in (
        "a1616101", "a161611801", "a2616101616102", "a2616101616101", "a1616101ff",
        "82011801", "8201f93c00", "82c1016161", "a1616181 01".replace(" ", ""),
        "9801 01", "a1786161 01".replace(" ", ""), "826161826162 01".replace(" ", ""),
        "a2616102616101", "a2626162016161 02".replace(" ", ""), "8200", "82",
        "a2626161016162 02".replace(" ", ""), "a1c2410101", "82c249010000000000000000 01".replace(" ", ""))]
    samples += [bytes([0x82]) + a + b for a, b in itertools.product(
        (b"\x18\x05", b"\x05", b"\x61\x61"), (b"\x00", b"\x19\x00\x01"))]
    assert len(samples) > 1000
    for b in samples:
        for key in (False, True):
            assert _decode_fast(b, key) == _decode_slow(b, key), (b.hex(), key)


def test_remembered_and_hand_made_scalar_encodings_equal_encode_value():
    """encode_small's memos (str and int apart: 1 and "1", True and 1 never share an entry)
    and the ledger's _enc_scalar (tx hashes and None written by hand) give encode_value's
    bytes, on first use and from the memo."""
    from ledger_store.ledger import _enc_scalar

    values = [0, 1, -1, 23, 24, 2**64, -(2**64) - 1, "1", "", "é", "a" * 64, "a" * 65, "ab" * 32,
              "é" * 32, True, False, None, b"\x01", 1, True]
    for _ in range(2):
        for v in values:
            assert codec.encode_small(v) == codec.encode_value(v), v
            assert _enc_scalar(v) == codec.encode_value(v), v
    assert _enc_scalar(("a", 1)) == codec.encode_any(("a", 1))


def test_flat_tuple_keys_encode_as_the_full_check_does():
    """encode_key's loop for flat tuples of scalars gives the bytes, or the EncodingError
    text, of the full check (_check then the canonical dump)."""
    def slow(k):
        try:
            codec._check(k, codec._KEY, "key")
            return ("ok", codec._dumps(k))
        except EncodingError as e:
            return ("error", str(e))

    def fast(k):
        try:
            return ("ok", codec.encode_key(k))
        except EncodingError as e:
            return ("error", str(e))

    keys = [(), ("balances", "alice"), ("a", 1, True, b"\x00"), ("é", "\u2603"), ("x", -(2**80)),
            ("bad", "\ud800"), ("a", None), ("a", 1.5), ("a", ["l"]), ("a", ("b", "c")),
            ("a", {"d": 1}), (("n",),), tuple(range(70)), ("s",) * 3]
    for k in keys:
        assert fast(k) == slow(k), k
    assert fast(("bad", "\ud800"))[0] == "error" and fast(("a", ("b", "c")))[0] == "ok"


def test_flat_maps_encode_as_the_full_check_does():
    """encode_value's loop for flat str-keyed maps of scalars gives the bytes, or the
    EncodingError text, of the full check (_check then the canonical dump)."""
    def slow(v):
        try:
            codec._check(v, codec._VALUE, "value")
            return ("ok", codec._dumps(v))
        except EncodingError as e:
            return ("error", str(e))

    def fast(v):
        try:
            return ("ok", codec.encode_value(v))
        except EncodingError as e:
            return ("error", str(e))

    values = [{}, {"to": "bob", "amount": 5}, {"b": b"\x00", "n": None, "t": True, "i": -(2**80)},
              {"é": "\u2603"}, {"\ud800": 1}, {"a": "\udfff"}, {1: 2}, {"a": 1.5}, {"a": (1,)},
              {"a": [1]}, {"a": {"b": 1}}, {("a",): 1}, {"z": 1, "a": 2, "mm": 3}]
    for v in values:
        assert fast(v) == slow(v), v
    assert fast({"a": 1.5})[0] == "error" and fast({"a": [1]})[0] == "ok"
