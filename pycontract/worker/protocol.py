"""Framing of the messages between the host (``pycontract.host``) and the sandbox worker.

A frame is a 4-byte big-endian length followed by that many bytes of CBOR. Messages are plain
maps of str keys to None, bool, int, str, bytes, lists and maps: nothing else is ever decoded.
Nothing from the worker is ever unpickled; the host decodes worker frames with every CBOR tag
refused, indefinite lengths refused and a depth bound, and then validates the content itself
(``pycontract.host``), treating it as untrusted data.

Contract values (arguments, results, event fields, storage values) travel as the canonical
bytes of ``ledger_store.codec`` inside these frames, so the host decodes them with the same
strict decoder that guards the ledger.

A block reply carries one result per transaction as an array, not a map (no field names to
encode and decode 500 times a block; the host validates every item, ``pycontract.host.validate``):
``[status, gas_used, result, error, events, writes, deployed, touched]`` plus ``profile`` in
profile mode, where ``events`` is flat ``[contract, name, fields, contract, name, fields, ...]``
and ``writes`` flat ``[contract, key, value, ...]`` (sorted by contract and key). Query replies
stay maps.
"""

from __future__ import annotations

import os
import select
import struct
import time

import cbor2

from ledger_store import codec
from pycontract.errors import NodeFault

#: largest frame either side accepts (a block's write sets, results and events)
MAX_FRAME = 256 * 1024 * 1024
#: nesting bound of decoded frames (message structure plus encoded values stay in bytes)
MAX_DEPTH = 32

_HEADER = struct.Struct(">I")

#: the items of a transaction result in a block reply, in order (see the module docstring)
RESULT_FIELDS = ("status", "gas_used", "result", "error", "events", "writes", "deployed",
                 "touched")
(R_STATUS, R_GAS_USED, R_RESULT, R_ERROR, R_EVENTS, R_WRITES, R_DEPLOYED,
 R_TOUCHED) = range(len(RESULT_FIELDS))
#: index of the per-line gas rows, present only in profile mode
R_PROFILE = len(RESULT_FIELDS)


class ProtocolError(NodeFault):
    """The peer sent something that is not a valid frame, or the pipe broke."""


# no tags are ever sent: refuse every one (cbor2 would turn many into rich objects)
_SEMANTIC, _refuse_tag = codec.tag_refusal(ProtocolError, "worker frame contains CBOR tag {}")


def encode(msg: dict) -> bytes:
    """One frame (header + CBOR) of ``msg``."""
    body = cbor2.dumps(msg)
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds the limit of {MAX_FRAME}")
    return _HEADER.pack(len(body)) + body


def encode_with_array(head: dict, key: str, array: bytes) -> bytes:
    """One frame (header + CBOR) of ``{**head, key: value}`` whose value is given already
    encoded (``cbor2.dumps`` of it): a block request's transactions are encoded ahead, while
    the host waits for the worker (Chain.execute_blocks). ``head`` has fewer than 23 entries,
    none named ``key``."""
    if len(head) >= 23 or key in head:
        raise ValueError("encode_with_array: head must have < 23 entries and no " + repr(key))
    head_body = cbor2.dumps(head)
    body = b"".join((bytes([0xA0 | (len(head) + 1)]), head_body[1:], cbor2.dumps(key), array))
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds the limit of {MAX_FRAME}")
    return _HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict:
    """Strictly decode one frame body; the result is a dict with str keys."""
    try:
        msg = cbor2.loads(
            body,
            semantic_decoders=_SEMANTIC,
            tag_hook=_refuse_tag,
            max_depth=MAX_DEPTH,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
    except ProtocolError:
        raise
    except Exception as e:  # noqa: BLE001 - anything cbor2 raises means garbage
        raise ProtocolError(f"worker sent an undecodable frame: {type(e).__name__}: {e}") from None
    if type(msg) is not dict or not all(type(k) is str for k in msg):
        raise ProtocolError("worker sent a frame that is not a map with text keys")
    return msg


def write_frame(fd: int, msg: dict | bytes) -> None:
    """Write one frame: ``msg`` encoded, or a frame already encoded (bytes)."""
    data = memoryview(msg if type(msg) is bytes else encode(msg))
    while data:
        try:
            n = os.write(fd, data)
        except BrokenPipeError:
            raise ProtocolError("the pipe to the peer is closed") from None
        except OSError as e:
            raise ProtocolError(f"cannot write to the peer: {e}") from None
        data = data[n:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
        try:
            chunk = os.read(fd, min(n, 1 << 20))
        except OSError as e:
            raise ProtocolError(f"cannot read from the peer: {e}") from None
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, timeout: float | None = None) -> dict:
    """Read and decode one frame. Raises EOFError at a clean end of stream before a header,
    TimeoutError when ``timeout`` seconds pass, ProtocolError for anything malformed."""
    deadline = None if timeout is None else time.monotonic() + timeout
    header = _read_exact(fd, _HEADER.size, deadline)
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise ProtocolError(f"peer announced a frame of {length} bytes (limit {MAX_FRAME})")
    try:
        body = _read_exact(fd, length, deadline)
    except EOFError:
        raise ProtocolError("peer closed the pipe in the middle of a frame") from None
    return decode(body)


__all__ = ["MAX_FRAME", "ProtocolError", "encode", "decode", "write_frame", "read_frame"]
