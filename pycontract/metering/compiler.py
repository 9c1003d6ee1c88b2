"""``compile_contract``: vet -> gas rewrite -> ``compile()``, cached by code hash (LRU).

``dump``/``load`` turn a compiled contract into bytes and back, for the ledger's ``compiled``
cache: a new worker process loads a contract (tens of microseconds per 1,000 units) instead of
vetting, rewriting and compiling it again (1.4 s for 52 KB of source) for the gas of a call. Only the
very engine that wrote the bytes (``engine_tag``) loads them back.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import marshal
import os
import sys
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

from pycontract import vetting
from pycontract.diagnostics import SourceMap
from pycontract.errors import VetError
from pycontract.metering import rewriter as gas_rewriter
from pycontract.metering.schedule import GAS_SCHEDULE_VERSION, code_memory_bytes
from pycontract.vetting.entry_points import EntryPoint, Param, StorageDecl

__all__ = ["CompiledContract", "compile_contract", "CACHE_SIZE", "CACHE_BYTES", "CompiledCache",
           "clear_cache", "dump", "load", "engine_tag"]

CACHE_SIZE = 4096
#: ... and at most this many bytes of them (``schedule.code_memory_bytes``: 40-135 bytes of
#: code objects per unit, and the source and its literals): a worker is limited to 2 GiB
CACHE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class CompiledContract:
    code: object  # the metered module's code object
    code_hash: str  # sha256 hex of the UTF-8 source
    entry_points: dict
    storage: dict
    imports: dict
    source: str
    filename: str
    gas_schedule_version: int = GAS_SCHEDULE_VERSION
    #: the node counts a deploy of this source pays ``deploy_node`` for (schedule 7: the module
    #: and every further version the rewriter wrote of a function; ``rewriter.node_count``)
    deploy_units: int = 0
    #: the UTF-8 length of ``source`` (``code_load`` pays for it, schedule 8)
    source_bytes: int = 0
    #: storage name -> canonical bytes of its declared default, filled by the runtime on first
    #: use (a pure function of the source; saves re-encoding it in every transaction)
    storage_defaults: dict = field(default_factory=dict, compare=False, repr=False)


class CompiledCache:
    """Compiled contracts by key, least recently used out first: ``trim`` leaves at most
    ``size`` of them and ``nbytes`` bytes in all (``schedule.code_memory_bytes``; the newest is
    kept whatever its size). A worker trims between transactions only: within one, a contract
    it entered is never evicted and loaded again (a transaction pays ``code_load`` once per
    contract)."""

    def __init__(self, size: int = CACHE_SIZE, nbytes: int = CACHE_BYTES):
        self.size, self.nbytes = size, nbytes
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0

    @staticmethod
    def _weight(cc) -> int:
        return code_memory_bytes(cc.deploy_units, cc.source_bytes)

    def get(self, key):
        cc = self._items.get(key)
        if cc is not None:
            self._items.move_to_end(key)
        return cc

    def put(self, key, cc: "CompiledContract") -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= self._weight(old)
        self._items[key] = cc
        self._bytes += self._weight(cc)

    def trim(self) -> None:
        while len(self._items) > 1 and (len(self._items) > self.size
                                        or self._bytes > self.nbytes):
            self._bytes -= self._weight(self._items.popitem(last=False)[1])

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key) -> bool:
        return key in self._items


_cache = CompiledCache()
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def compile_contract(source: str, filename: str = "<contract>", pay=None,
                     admit=None) -> CompiledContract:
    """Vet, meter and compile contract source. Raises ``VetError`` listing every problem.

    Cached by (code hash, filename): a second call with the same source never re-parses.
    A deploy passes ``admit(entry_points)`` (its checks that need the vetted entry points,
    made before anything is paid) and ``pay(units)`` (its meter's charge of ``deploy_node``
    gas per unit): called while the rewriter works, before each part of the work
    (``rewriter.GasRewriter.pay``), or with all the units at once when the compiled contract
    is cached, so the gas is the same either way and an exception it raises (out of gas)
    stops the work.
    """
    if type(source) is not str:
        # let vetting produce its positioned problem for non-str input
        vetting.vet(source, filename)
    encoded = source.encode("utf-8", "surrogatepass")
    code_hash = hashlib.sha256(encoded).hexdigest()
    key = (code_hash, filename)
    with _lock:
        cc = _cache.get(key)
    if cc is not None:
        if admit is not None:
            admit(cc.entry_points)
        if pay is not None:
            pay(cc.deploy_units)
        return cc
    # the cyclic collector off while the trees are built: it would rescan the growing trees
    # (hundreds of thousands of nodes) at every generation-2 pass, making compile time grow
    # faster than the code (1.7x per node at 960 lines); the trees are freed by reference count
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _compile(source, filename, code_hash, key, pay, admit, len(encoded))
    finally:
        if collecting:
            gc.enable()


def _compile(source, filename, code_hash, key, pay, admit, source_bytes) -> CompiledContract:
    vetted = vetting.vet(source, filename)
    if admit is not None:
        admit(dict(vetted.entry_points))
    # the EntryPoint objects: their `int` parameters are ints on every call from outside
    tree = gas_rewriter.rewrite(vetted.tree, entry_points=dict(vetted.entry_points), pay=pay)
    try:
        code = compile(tree, filename, "exec", dont_inherit=True, optimize=0)
    except SyntaxError as e:
        # vetting names every compiler-only rule it knows; anything else CPython's compiler
        # refuses is still a refusal of the contract, never a worker fault. Our own words (the
        # compiler's differ between versions), at the statement line the rewriter kept.
        raise VetError([SourceMap(source, filename).problem(
            e.lineno or 1, 1, "CPython's compiler refuses this code (a limit such as too many "
            "nested blocks in one function); simplify it")]) from None
    cc = CompiledContract(
        code=code,
        code_hash=code_hash,
        entry_points=dict(vetted.entry_points),
        storage=dict(vetted.storage),
        imports=dict(vetted.imports),
        source=source,
        filename=filename,
        deploy_units=tree.pc_units,
        source_bytes=source_bytes,
    )
    with _lock:
        _cache.put(key, cc)
        _cache.trim()
    return cc


# ------------------------------------------------------------------ the compiled form as bytes

_MAGIC = b"pycontract-compiled-2\n"


@functools.lru_cache(maxsize=1)
def engine_tag() -> str:
    """Names the engine that compiles: the interpreter's bytecode and marshal format, the gas
    schedule, and a digest of the source files of pycontract and of the libraries whose output
    is in the code (RestrictedPython, asttokens). Compiled code is loaded back only under the
    very same tag, so an upgrade of any of them compiles each contract once more. Reads files:
    a worker calls it before its sandbox closes the filesystem."""
    import asttokens
    import RestrictedPython

    h = hashlib.sha256()
    for mod in (sys.modules["pycontract"], RestrictedPython, asttokens):
        root = os.path.dirname(os.path.abspath(mod.__file__))
        h.update(mod.__name__.encode() + b"\0")
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith(".py"):
                    path = os.path.join(dirpath, f)
                    h.update(os.path.relpath(path, root).encode() + b"\0")
                    with open(path, "rb") as fh:
                        h.update(hashlib.sha256(fh.read()).digest())
    return (f"{sys.implementation.cache_tag}-m{marshal.version}-s{GAS_SCHEDULE_VERSION}-"
            f"{h.hexdigest()[:32]}")


def dump(cc: CompiledContract) -> bytes | None:
    """``cc`` as bytes for ``load``: the code and the vetted facts (entry points, storage,
    imports, units) as plain values, marshaled together behind a CRC-32 of them. None if a
    declared default is not a plain value (never for vetted source: they are literals)."""
    eps = tuple((k, ep.name, ep.kind, tuple((p.name, p.annotation, p.has_default, p.default)
                                          for p in ep.params), ep.returns, ep.line)
                for k, ep in cc.entry_points.items())
    storage = tuple((k, d.name, d.kind, d.default) for k, d in cc.storage.items())
    try:
        payload = marshal.dumps((cc.code, eps, storage, cc.imports, cc.deploy_units))
    except ValueError:
        return None
    return _MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload


class _LazyEntryPoints(dict):
    """name -> EntryPoint of a loaded contract, each built from its plain values at its first
    use: building the ``Param`` objects of every entry point cost ~0.3 us per parameter, one
    unit of ``code_load`` each, and a transaction uses one or a few entry points of a contract
    that may declare thousands of parameters (docs/security.md, R5-3). Reads go through
    ``get``/``[]``/``values``/``items``/iteration/``==``; the keys are the contract's, in
    source order."""

    __slots__ = ()

    def _ep(self, name):
        v = dict.__getitem__(self, name)
        if type(v) is tuple:
            n, kind, params, returns, line = v
            v = EntryPoint(n, kind, tuple(Param(*p) for p in params), returns, line)
            dict.__setitem__(self, name, v)
        return v

    def __getitem__(self, name):
        return self._ep(name)

    def __iter__(self):  # defined here so that dict(self) and {**self} go through [] too
        return dict.__iter__(self)

    def get(self, name, default=None):
        return self._ep(name) if dict.__contains__(self, name) else default

    def values(self):
        return [self._ep(n) for n in dict.keys(self)]

    def items(self):
        return [(n, self._ep(n)) for n in dict.keys(self)]

    def copy(self):
        return dict(self.items())

    def __eq__(self, other):
        return dict(self.items()) == other

    __hash__ = None

    def __ne__(self, other):
        return not self == other

    def __reduce__(self):
        return dict, (self.items(),)


def load(blob: bytes, source: str, filename: str, code_hash: str) -> CompiledContract | None:
    """The compiled contract ``dump`` wrote, or None if ``blob`` is not one intact (the caller
    then compiles ``source``). ``source``, ``filename`` and ``code_hash``: those of the contract
    record the blob was stored for (the ledger stores it only for that code hash). ~15 us for
    1,000 units (marshal builds the code; the checksum guards marshal from damaged bytes)."""
    if type(blob) is not bytes or not blob.startswith(_MAGIC):
        return None
    head = len(_MAGIC) + 4
    payload = memoryview(blob)[head:]
    if zlib.crc32(payload) != int.from_bytes(blob[len(_MAGIC):head], "big"):
        return None
    try:
        code, eps, storage, imports, units = marshal.loads(payload)
        entry_points = _LazyEntryPoints({k: (name, kind, params, returns, line)
                                         for k, name, kind, params, returns, line in eps})
        for v in dict.values(entry_points):  # the shape here; the objects at first use
            params = v[2]
            if type(params) is not tuple or (params and (set(map(type, params)) != {tuple}
                                                         or set(map(len, params)) != {4})):
                return None
        storage = {k: StorageDecl(name, kind, default) for k, name, kind, default in storage}
    except Exception:  # noqa: BLE001 - anything unreadable is a cache miss
        return None
    if type(code).__name__ != "code" or code.co_filename != filename \
            or type(imports) is not dict or type(units) is not int:
        return None
    return CompiledContract(code=code, code_hash=code_hash, entry_points=entry_points,
                            storage=storage, imports=imports, source=source, filename=filename,
                            deploy_units=units,
                            source_bytes=len(source.encode("utf-8", "surrogatepass")))
