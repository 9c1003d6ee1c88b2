"""Size limits on what crosses between host and worker, shared so both sides enforce the same.

The host checks payloads before anything reaches the worker; the worker enforces the output
limits as deterministic reverts (so a contract that hits one gets a receipt, never a node
fault); the host checks them again on the untrusted reply, as a second wall.
"""

from pycontract import language as _language

#: the largest gas limit one transaction (or query) may ask for. Gas also bounds the memory that
#: is not size-accounted (small containers built in loops): measured at up to ~12 bytes per gas
#: (dicts of small lists; benchmarks/memprobe in docs/benchmarks.md), so 100M gas stays well under
#: the worker's 2 GiB address-space limit and a transaction can never meet a node-dependent
#: MemoryError
MAX_GAS_PER_TX = 100_000_000

#: payload limits checked by the host before anything reaches the worker
MAX_ARGS_BYTES = 64 * 1024
MAX_SOURCE_BYTES = _language.MAX_SOURCE_BYTES  # the language limit, checked before the worker
MAX_SENDER_CHARS = 256
MAX_FUNCTION_CHARS = 128

#: output limits of one transaction, enforced in the worker as reverts
MAX_ERROR_CHARS = 64 * 1024
MAX_EVENTS_PER_TX = 10_000
MAX_EVENT_NAME_CHARS = 256
MAX_KEY_BYTES = 64 * 1024
MAX_VALUE_BYTES = 16 * 1024 * 1024
#: everything one transaction sends back: result, event fields and storage writes
MAX_TX_OUTPUT_BYTES = 32 * 1024 * 1024
#: everything one block sends back; a transaction that would pass it reverts
MAX_BLOCK_OUTPUT_BYTES = 128 * 1024 * 1024
#: the worker sends a block_part frame once its pending results reach this many bytes
PART_FLUSH_BYTES = 16 * 1024 * 1024
#: compiled code (for the ledger's ``compiled`` cache) in one reply; more waits for the next
MAX_COMPILED_REPLY_BYTES = 32 * 1024 * 1024
