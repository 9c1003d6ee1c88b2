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
