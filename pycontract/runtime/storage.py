"""The contract-facing storage and context objects: ``Map``, ``Value`` (bound to one contract's
storage, every access charged through the runtime) and ``ctx``. A leaf module: the runtime's
operators and guards test these types without importing the executor.
"""

from __future__ import annotations


class Map:
    """A storage map bound to one contract; reachable methods: get, contains (+ m[k] forms)."""

    __slots__ = ("_rt", "_name", "_default")

    def __init__(self, rt, name, default_bytes):
        self._rt = rt
        self._name = name
        self._default = default_bytes

    def __getitem__(self, k):
        return self._rt.map_read(self, k)

    def __setitem__(self, k, v):
        self._rt.map_write(self, k, v)

    def __delitem__(self, k):
        self._rt.map_write(self, k, None, delete=True)

    __iter__ = None
    __hash__ = None


class Value:
    """A storage cell bound to one contract; reachable methods: get, set."""

    __slots__ = ("_rt", "_name", "_default")

    def __init__(self, rt, name, default_bytes):
        self._rt = rt
        self._name = name
        self._default = default_bytes

    __iter__ = None
    __hash__ = None


class Context:
    """``ctx``: sender, origin, this, block_height, block_time (read through the guard)."""

    __slots__ = ("_frame",)

    def __init__(self, frame):
        self._frame = frame

    __iter__ = None
    __hash__ = None
