"""The contract runtime: a compiled contract, a function and its arguments in, the result (or
an abort) out, with every step charged to a ``Meter``.

``execute(compiled, function, kwargs, *, meter, host, frame)`` is the stage's one entry. The
pieces: :mod:`.meter` (gas and memory charging, size measures), :mod:`.ops` (``Ops``:
operators, conversions, formatting), :mod:`.builtins` (``Builtins``: builtins and methods of
str/bytes/int/list/dict), :mod:`.storage` (``Map``, ``Value``, ``ctx``), :mod:`.executor` (the
guards and the per-execution ``Runtime``, pooled, which owns one ``Ops`` and one ``Builtins``
holding explicit references to the meter and each other). Gas and memory charging primitives
live on the ``Meter``.
"""

from pycontract.runtime.executor import CallFrame, Runtime, execute
from pycontract.runtime.meter import Meter

__all__ = ["Meter", "CallFrame", "execute", "Runtime"]
