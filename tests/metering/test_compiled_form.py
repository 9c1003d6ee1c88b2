"""``compiler.dump``/``load``: the compiled form a worker stores in the ledger's ``compiled``
cache and a new worker loads instead of compiling again."""

import dataclasses
import marshal
import os
import sys
import zlib

from pycontract.metering import compiler
from pycontract.metering.schedule import code_memory_bytes
from pycontract.vetting import StorageDecl
from pycontract.runtime import CallFrame, Meter
from support.language_harness import DictHost

TOKEN = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "token.py")


def _token():
    with open(TOKEN) as f:
        return compiler.compile_contract(f.read(), "token")


def _run(cc):
    """Gas and storage of the constructor and a transfer of ``cc``."""
    host = DictHost()
    host.contracts["token"] = cc
    host.meter = meter = Meter(10**6)
    frame = CallFrame("token", "alice", "alice", 7, 1_700_000_000, False, 0)
    host.run(cc, "init", {"supply": 1000}, frame)
    host.run(cc, "transfer", {"to": "bob", "amount": 7}, frame)
    return meter.used, sorted(host.storage.items())


def test_a_loaded_contract_is_the_compiled_one_and_runs_alike():
    cc = _token()
    blob = compiler.dump(cc)
    got = compiler.load(blob, cc.source, "token", cc.code_hash)
    assert got == cc  # code objects compare by content
    assert got.deploy_units == cc.deploy_units and got.storage == cc.storage
    assert got.source_bytes == cc.source_bytes
    assert _run(got) == _run(cc)


def test_anything_but_an_intact_form_of_that_contract_is_a_miss():
    cc = _token()
    blob = compiler.dump(cc)
    for bad in (b"", b"junk", blob[:-1], blob[:-1] + bytes([blob[-1] ^ 1]),
                b"X" + blob[1:], "text"):
        assert compiler.load(bad, cc.source, "token", cc.code_hash) is None
    # the code was compiled for another contract name (its line positions say so)
    assert compiler.load(blob, cc.source, "coin", cc.code_hash) is None


def test_a_well_formed_form_of_something_else_is_a_miss():
    """Bytes with an intact checksum but not a compiled contract's shape: a miss, never an
    error (marshal rebuilds plain values and code only; nothing is called while loading)."""
    for value in (("x",), (1, 2, 3, 4, 5), (compile("1", "token", "eval"), (), (), [], 0),
                  (compile("1", "token", "eval"), (("f", "f", "public", ((1,),), None, 1),), (),
                   {}, 0)):
        payload = marshal.dumps(value)
        blob = compiler._MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload
        assert compiler.load(blob, "", "token", "0" * 64) is None, value


def test_a_default_that_is_not_a_plain_value_is_not_stored():
    cc = _token()
    odd = dataclasses.replace(cc, storage={"s": StorageDecl("s", "value", object())})
    assert compiler.dump(odd) is None


def test_the_engine_tag_names_the_interpreter_and_this_engine():
    tag = compiler.engine_tag()
    assert tag == compiler.engine_tag()
    assert tag.startswith(sys.implementation.cache_tag + "-")
    assert "-s%d-" % compiler.GAS_SCHEDULE_VERSION in tag and len(tag) <= 256


def test_the_compiled_cache_is_bounded_by_count_and_by_bytes():
    """A worker keeps compiled contracts in a CompiledCache: its life may touch many big
    contracts, which must not all stay (``code_memory_bytes`` each; the worker has 2 GiB).
    It trims between transactions only, so nothing a transaction entered is loaded twice."""
    cc = _token()
    size = code_memory_bytes(cc.deploy_units, cc.source_bytes)
    assert cc.source_bytes == len(cc.source.encode()) > 0
    cache = compiler.CompiledCache(size=3, nbytes=2 * size)
    for k in "abc":
        cache.put(k, cc)
    assert len(cache) == 3  # nothing goes before trim()
    cache.trim()
    assert len(cache) == 2 and "a" not in cache  # two fit the bytes
    assert cache.get("b") is cc  # b is now the most recent: c goes first
    cache.put("d", cc)
    cache.trim()
    assert "c" not in cache and "b" in cache and "d" in cache
    big = compiler.CompiledCache(size=3, nbytes=size - 1)
    big.put("x", cc)  # the newest is kept, even alone over the budget
    big.trim()
    assert big.get("x") is cc
    many = compiler.CompiledCache(size=3, nbytes=10**12)
    for k in "abcde":
        many.put(k, cc)
    many.trim()
    assert len(many) == 3 and "c" in many and "b" not in many
