"""Every exception type pycontract defines, in one place so host, worker and CLI agree.

Two families:
- ``PycontractError`` (an ``Exception``): what the host API and CLI raise for bad input, node
  faults and failed queries.
- ``ContractAbort`` (a ``BaseException``): what ends a contract's execution. Contract code cannot
  name or catch these (``except Exception`` does not match them, bare ``except`` and
  ``except BaseException`` are rejected at deploy), so a contract can never swallow its own
  out-of-gas or revert.
"""

from __future__ import annotations


class PycontractError(Exception):
    """Base class of the host-side errors."""


class VetError(PycontractError):
    """Contract source failed vetting; ``problems`` lists every problem found, in source order."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class InvalidTransaction(PycontractError):
    """A transaction or query that is invalid before any contract code runs (``rejected``)."""


class QueryError(PycontractError):
    """A query reverted or ran out of gas; ``status`` and ``message`` say which and why."""

    def __init__(self, status: str, message: str):
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")


class NodeFault(PycontractError):
    """The sandbox worker died or misbehaved; no block was committed."""


class ContractAbort(BaseException):
    """Ends a contract execution; ``status`` is the receipt status, ``message`` the error text."""

    status = "reverted"

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class Reverted(ContractAbort):
    """require/revert/assert failed, an exception escaped, or an engine limit was hit."""

    status = "reverted"


class OutOfGas(ContractAbort):
    """The gas limit was reached; no further contract code may run."""

    status = "out_of_gas"


#: the basic types whose names an engine-written error message shows (others read "object")
_SHOWN_TYPES = frozenset({"str", "bytes", "int", "bool", "list", "tuple", "dict", "NoneType"})


def contract_line(tb, ns) -> int:
    """The innermost line of a traceback that ran in the contract module whose globals are
    ``ns`` (0 if none did): where an error is reported, in the engine and in plain mode."""
    line = 0
    while tb is not None:
        if tb.tb_frame.f_globals is ns:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def key_text(k, _depth=0) -> str:
    """Deterministic, bounded text of a missing dict key for ``KeyError: ...`` (the same in the
    engine and in plain mode, on every Python version): ASCII repr of text, ints up to 64 bits
    (longer ones by size), tuples of these; at most 80 characters."""
    t = type(k)
    if t is str:
        out = ascii(k)
    elif t is bytes or t is bool or k is None:
        out = repr(k)
    elif t is int:
        out = str(k) if k.bit_length() <= 64 else f"<int of {k.bit_length()} bits>"
    elif t is tuple and _depth < 4:
        parts = [key_text(x, _depth + 1) for x in k[:8]] + (["..."] if len(k) > 8 else [])
        out = "(" + ", ".join(parts) + ("," if len(k) == 1 else "") + ")"
    else:
        out = f"<{t.__name__ if t.__name__ in _SHOWN_TYPES else 'object'}>"
    return out if len(out) <= 80 else out[:77] + "..."


def attribute_text(obj, name: str) -> str:
    """``'str' object has no attribute 'append'``: engine-written (the interpreter's own text
    and its suggestions differ between versions)."""
    t = type(obj).__name__
    return f"'{t if t in _SHOWN_TYPES else 'object'}' object has no attribute '{name}'"


#: the one KeyError the interpreter raises with its own text instead of a key (plain mode
#: sees it; the engine's popitem raises a bare KeyError): shown as neither
_POPITEM_EMPTY = "popitem(): dictionary is empty"


def builtin_detail(e: BaseException) -> str | None:
    """The engine's detail for an error the interpreter raised without a contract message:
    the missing key of a KeyError, the attribute of an AttributeError; else None."""
    if type(e) is KeyError and len(e.args) == 1 and e.args[0] != _POPITEM_EMPTY:
        return key_text(e.args[0])
    if type(e) is AttributeError:
        name = getattr(e, "name", None)
        if type(name) is str:
            return attribute_text(getattr(e, "obj", None), name)
    return None
