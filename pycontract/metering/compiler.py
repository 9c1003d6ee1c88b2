"""``compile_contract``: vet -> gas rewrite -> ``compile()``, cached by code hash (LRU)."""

from __future__ import annotations

import gc
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from pycontract import vetting
from pycontract.diagnostics import SourceMap
from pycontract.errors import VetError
from pycontract.metering import rewriter as gas_rewriter
from pycontract.metering.schedule import GAS_SCHEDULE_VERSION

__all__ = ["CompiledContract", "compile_contract", "CACHE_SIZE", "clear_cache"]

CACHE_SIZE = 256


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
    #: storage name -> canonical bytes of its declared default, filled by the runtime on first
    #: use (a pure function of the source; saves re-encoding it in every transaction)
    storage_defaults: dict = field(default_factory=dict, compare=False, repr=False)


_cache: OrderedDict = OrderedDict()
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
    code_hash = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    key = (code_hash, filename)
    with _lock:
        cc = _cache.get(key)
        if cc is not None:
            _cache.move_to_end(key)
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
        return _compile(source, filename, code_hash, key, pay, admit)
    finally:
        if collecting:
            gc.enable()


def _compile(source, filename, code_hash, key, pay, admit) -> CompiledContract:
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
    )
    with _lock:
        _cache[key] = cc
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return cc
