"""pycontract: a deterministic, gas-metered smart-contract engine for a restricted Python subset.

Contract authors import the authoring API from here (``public``, ``view``, ``Map`` ...); hosts
import ``Chain`` and ``Tx``. The host side is loaded lazily so that importing a contract file as
plain Python stays cheap.
"""

from pycontract.api import (  # noqa: F401
    Map,
    Value,
    call,
    constructor,
    ctx,
    emit,
    public,
    require,
    revert,
    view,
)
from pycontract.errors import QueryError  # noqa: F401

__version__ = "0.1.0"

_LAZY = {"Chain": "pycontract.host", "Tx": "pycontract.host", "Receipt": "pycontract.host",
         "NodeClient": "pycontract.node.client"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pycontract' has no attribute {name!r}")
