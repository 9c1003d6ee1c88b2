"""The one table of gas costs (see docs/gas.md for the rule and reasoning behind each figure).

Every figure here is part of consensus: ``gas_used`` of a transaction is a pure function of the
contract code, its arguments, the ledger state and this table. Changing ANY figure (or the set
of node types, or what a rate applies to) must bump :data:`GAS_SCHEDULE_VERSION`.

Node weights are the ``weight`` column of the node-kind table (``pycontract.vetting.nodes``),
keyed by AST node class name. The rewriter walks only the child fields listed in that table's
``children`` column (also explicit), never generic field lists, which differ between CPython
3.11, 3.12 and 3.13.
"""

from __future__ import annotations

from dataclasses import dataclass

from pycontract.vetting.nodes import NODE_WEIGHTS as _NODE_WEIGHTS

GAS_SCHEDULE_VERSION = 8

#: the largest gas limit the engine runs anything with: ``Meter`` refuses more, and so do the
#: host (``Chain(max_gas_per_tx=...)``, whose default is 100,000,000) and the worker. The
#: rewriter's int bounds rest on it (``rewriter.EXEC_MAX``: a loop passes at most this many
#: iterations in one transaction), so raising it can change which operations are proven small
MAX_GAS_LIMIT = 1 << 30

#: static weight of each AST node type, charged when the basic block containing it is entered;
#: the figures live in the one node-kind table (``pycontract.vetting.nodes.NODE_KINDS``) and are
#: part of this schedule
NODE_WEIGHTS = _NODE_WEIGHTS


@dataclass(frozen=True)
class GasSchedule:
    """Every dynamic rate and limit. Sizes: bytes for str/bytes (len; str counts characters),
    machine words of 64 bits for ints, elements for containers."""

    version: int = GAS_SCHEDULE_VERSION

    # ---- intrinsic cost: every transaction and query pays it before any contract code runs
    # (the host refuses a gas limit below it). It prices the node's fixed work per transaction
    # (IPC, admission, validation, hashing, its ledger rows) that no contract code meters:
    # measured in docs/gas.md ("Intrinsic cost") so that a block of the cheapest transactions
    # costs no more node time per gas than 10x the compute-bound median
    tx_base: int = 2_000  # per transaction or query (schedule 6: was 1,000; see docs/gas.md)
    tx_payload_byte: int = 2  # per byte of payload: encoded arguments, plus source of a deploy
    # a query pays this instead of ``tx_base`` (v7): it is one worker round trip of its own (two
    # process wake-ups, ~110 us) where a block's transactions share theirs
    query_base: int = 6_000

    # ---- control flow
    call: int = 10  # every entry into a contract function (on top of its first block)
    loop_iteration: int = 2  # every for/while iteration, charged at the top of the body
    comprehension_item: int = 2  # every item drawn by a comprehension / generator expression
    builtin_call: int = 2  # every call of a runtime builtin or method wrapper
    # a call written ``str(...)``: static, on top of the Call's weight (v6). It is what
    # ``str()`` of an int below 64 bits costs, so such a call runs inline with no charge of its
    # own; the helper refunds it and charges the conversion as before (same totals when the
    # call runs)
    str_call: int = 2

    # ---- size rates (gas per unit, or units per gas as *_per_gas)
    bytes_per_gas: int = 16  # copying / scanning / allocating bytes of str or bytes
    element: int = 1  # per element walked, copied, compared or created in a container
    word_mul_per_gas: int = 32  # big-int multiply: words(a)*words(b) products per gas
    word_linear: int = 1  # per 64-bit word of an int operand for linear int work
    div_word_per_gas: int = 2  # big-int division: words(q)*words(b) per gas (v1: 16; measured)
    int_str_per_gas: int = 8  # int<->decimal text: words(x)**2 per gas (quadratic algorithms)
    sort_factor: int = 1  # multiplier on n*ceil(log2 n) comparisons
    wide_int_key: int = 20  # dict insert of an int key outside +-2**32: keys sharing their low
    # 32 bits collide on ~7 probes (measured: dict_collisions in the fairness benchmark)
    long_key: int = 1024  # a str/bytes dict key longer than this pays 1 + len/bytes_per_gas per
    # lookup, membership test or store (v6): hashing it, and comparing it byte by byte with an
    # equal stored key of another object, are linear in its length

    # ---- ledger
    storage_read_base: int = 200
    storage_read_byte: int = 1
    storage_write_base: int = 500
    storage_write_byte: int = 10
    event_base: int = 200
    event_byte: int = 4
    cross_call_base: int = 500
    cross_call_byte: int = 2
    # a deploy, before its code is vetted: per byte of source (v7: 200, was 5). Vetting costs
    # the node 1.7-4.5 us per byte (measured in docs/gas.md, "Schedule 7"); the host admits no
    # deploy whose gas limit is below this plus the intrinsic cost
    deploy_byte: int = 200
    # a deploy, while the rewriter works: per node of the code it writes and compiles (v7):
    # the module's nodes, then a function's again for each further version it writes of it
    # (``rewriter.node_count``; a function counts ``deploy_function_nodes`` more); 28-46 us each,
    # up to ~70 us for the densest shape found (``dd[s] += c`` repeated: 19 nodes written per node)
    deploy_node: int = 3_000
    deploy_function_nodes: int = 7
    # the first entry of a transaction (or query) into each contract, before its code runs
    # (v8; ``code_load_gas``): a worker that does not hold the contract's code loads it from
    # the ledger's ``compiled`` cache (a new worker after a restart, or one that evicted it);
    # whether it holds it is node-dependent, so every first entry pays, as the EVM's cold
    # account access does. Measured through a worker (docs/gas.md, "Schedule 8"): 35-80 us fixed
    # (record and row read, checks), 105-160 ns per unit of code, ~1.2 ns per byte of literals
    code_load_base: int = 2_000
    code_load: int = 6  # per unit its deploy paid ``deploy_node`` for
    code_bytes_per_gas: int = 8  # per byte of its source (UTF-8): literals load byte for byte
    # ... and accounted as memory of the transaction (``code_memory_bytes``): loaded code holds
    # 40-135 bytes per unit and about two copies of the source's bytes (the source and the
    # literals), and a worker keeps every contract a transaction entered until it ends, so the
    # memory limit bounds how much code one transaction may enter
    code_memory: int = 128  # per unit
    code_source_memory: int = 2  # per byte of source
    # a value crossing to another contract or to the host (result, event fields, call
    # arguments) is walked, copied and encoded several times in Python by the worker and the
    # host: charged per node of its tree (shared structure counts every time it is reached)
    # BEFORE any encoding, and accounted as memory for the copies
    boundary_node: int = 16
    boundary_node_bytes: int = 64

    # ---- limits (exceeding one ends the transaction as Reverted)
    call_depth_limit: int = 200  # contract function frames, across cross-contract calls
    memory_limit: int = 128 * 1024 * 1024  # bytes allocated by size-charged operations, per tx
    max_int_bits: int = 1 << 16  # results of *, **, <<, int(str), int.from_bytes above: refused
    max_nesting: int = 64  # containers nested deeper are refused where compared/hashed/shown
    max_format_width: int = 1 << 20  # widths / precisions in f-strings and % formatting
    item_memory: int = 16  # accounted bytes per element added to a list/dict/comprehension
    object_memory: int = 64  # accounted bytes per new str object created by split etc.


SCHEDULE = GasSchedule()


def intrinsic_gas(payload_bytes: int, query: bool = False) -> int:
    """Gas every transaction (or query) pays before its code runs: the base (``query_base`` for
    a query) plus the price of ``payload_bytes`` (the canonical encoding of its arguments, plus
    a deploy's source in UTF-8). Computed alike by the host (which refuses a smaller gas limit)
    and the worker."""
    base = SCHEDULE.query_base if query else SCHEDULE.tx_base
    return base + SCHEDULE.tx_payload_byte * payload_bytes


def code_load_gas(units: int, source_bytes: int) -> int:
    """Gas of a transaction's first entry into a contract of ``units`` deploy units and
    ``source_bytes`` bytes of UTF-8 source (schedule 8)."""
    return (SCHEDULE.code_load_base + SCHEDULE.code_load * units
            + source_bytes // SCHEDULE.code_bytes_per_gas)


def code_memory_bytes(units: int, source_bytes: int) -> int:
    """Bytes of memory a contract's loaded code is accounted as (per entering transaction,
    and in a worker's ``CompiledCache``)."""
    return SCHEDULE.code_memory * units + SCHEDULE.code_source_memory * source_bytes


def node_weight(name: str) -> int:
    """Weight of one AST node class name; unknown node types are a programming error."""
    return NODE_WEIGHTS[name]
