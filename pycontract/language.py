"""The contract language's whitelists: the single source of truth shared by vetting and runtime.

Vetting (``pycontract.vetting``) rejects at deploy any builtin name, exception name, API name or
attribute name that is not listed here; the runtime (``pycontract.runtime``) provides exactly
these, each with its gas charge. A name missing here is unavailable to contracts; adding one
means adding its runtime implementation and its charge in ``pycontract.metering.schedule``.
"""

from __future__ import annotations

#: the largest contract source, in UTF-8 bytes (vetting refuses more; the host refuses a deploy
#: carrying more before it reaches the worker)
MAX_SOURCE_BYTES = 256 * 1024

#: what ``from pycontract import ...`` may bring into a contract
API_NAMES = frozenset(
    {"public", "view", "constructor", "Map", "Value", "ctx", "require", "revert", "emit", "call"}
)

#: decorators that mark entry points (module-level functions only)
ENTRY_DECORATORS = {"public": "public", "view": "view", "constructor": "constructor"}

#: builtins a contract may use; every one is wrapped by the runtime to charge by size
ALLOWED_BUILTINS = frozenset(
    {
        "abs", "all", "any", "bin", "bool", "bytes", "chr", "dict", "divmod", "enumerate",
        "filter", "hex", "int", "isinstance", "len", "list", "map", "max", "min", "oct", "ord",
        "pow", "range", "reversed", "sorted", "str", "sum", "tuple", "zip",
        "True", "False", "None",
    }
)

#: exceptions a contract may raise and catch (all ordinary ``Exception`` subclasses)
ALLOWED_EXCEPTIONS = frozenset(
    {
        "Exception", "ArithmeticError", "AssertionError", "IndexError", "KeyError",
        "LookupError", "NotImplementedError", "OverflowError", "RuntimeError", "TypeError",
        "ValueError", "ZeroDivisionError",
    }
)

#: builtins that are refused at deploy, with what to write instead
FORBIDDEN_BUILTINS = {
    "eval": "code cannot be evaluated from strings",
    "exec": "code cannot be executed from strings",
    "compile": "code cannot be compiled from strings",
    "open": "contracts cannot touch files; keep data in Map or Value storage",
    "input": "contracts cannot read input; take it as an entry-point argument",
    "print": "contracts cannot print; use emit(name, **fields) to record an event",
    "getattr": "attribute names must be written literally (obj.name)",
    "setattr": "attributes cannot be set; keep data in Map or Value storage",
    "delattr": "attributes cannot be deleted",
    "hasattr": "attribute names must be written literally",
    "type": "use isinstance(x, int) to test a type",
    "id": "object identities differ between nodes",
    "hash": "hash values differ between nodes and Python versions",
    "vars": "namespaces are not reachable from contracts",
    "globals": "namespaces are not reachable from contracts",
    "locals": "namespaces are not reachable from contracts",
    "dir": "namespaces are not reachable from contracts",
    "help": "not available in contracts",
    "breakpoint": "not available in contracts",
    "memoryview": "use bytes",
    "bytearray": "use bytes",
    "object": "classes and objects are not supported; use dicts",
    "super": "classes are not supported",
    "classmethod": "classes are not supported",
    "staticmethod": "classes are not supported",
    "property": "classes are not supported",
    "issubclass": "use isinstance(x, int) to test a type",
    "callable": "not available in contracts",
    "iter": "use a for loop",
    "next": "use a for loop",
    "aiter": "async code is not supported",
    "anext": "async code is not supported",
    "set": "sets iterate in hash order; use a dict with True values or a sorted list",
    "frozenset": "sets iterate in hash order; use a tuple or a sorted list",
    "float": "floats are not deterministic across machines; use int (fixed point)",
    "complex": "floats are not deterministic across machines; use int (fixed point)",
    "round": "floats are not supported; use // on ints",
    "format": "use an f-string",
    "repr": "use str(x) or an f-string",
    "ascii": "use str(x)",
    "slice": "write the slice literally: x[a:b]",
    "exit": "use revert(message) to stop with an error",
    "quit": "use revert(message) to stop with an error",
    "BaseException": "engine limits cannot be caught; catch Exception or a specific error",
    "SystemExit": "use revert(message) to stop with an error",
    "KeyboardInterrupt": "engine limits cannot be caught",
    "GeneratorExit": "generators are not supported",
}

#: per-type methods a contract may call; anything else is refused by the attribute guard
ALLOWED_METHODS = {
    "str": frozenset(
        {
            "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs",
            "find", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower",
            "isspace", "isupper", "join", "ljust", "lower", "lstrip", "partition",
            "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition",
            "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
            "title", "upper", "zfill",
        }
    ),
    "bytes": frozenset(
        {
            "count", "decode", "endswith", "find", "hex", "index", "join", "lstrip",
            "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rstrip", "split",
            "startswith", "strip",
        }
    ),
    "int": frozenset({"bit_length", "to_bytes"}),
    "list": frozenset(
        {"append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove",
         "reverse", "sort"}
    ),
    "tuple": frozenset({"count", "index"}),
    "dict": frozenset(
        {"clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update",
         "values"}
    ),
    # the contract-facing API objects
    "Value": frozenset({"get", "set"}),
    "Map": frozenset({"get", "contains"}),
    "Context": frozenset({"sender", "origin", "this", "block_height", "block_time"}),
}

#: class-level attributes reachable on the type objects above (e.g. ``int.from_bytes``)
ALLOWED_TYPE_ATTRIBUTES = {"int": frozenset({"from_bytes"}), "bytes": frozenset({"fromhex"}),
                           "dict": frozenset({"fromkeys"})}

#: every attribute name that can ever be reached; vetting rejects any other at deploy
ALLOWED_ATTRIBUTE_NAMES = frozenset().union(
    *ALLOWED_METHODS.values(), *ALLOWED_TYPE_ATTRIBUTES.values()
)
