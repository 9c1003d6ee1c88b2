"""ABCI socket framing: each message is an unsigned varint length, then that many bytes.

This is CometBFT's libs/protoio framing (``binary.PutUvarint(len) + protobuf bytes``). A socket
read can end anywhere inside a frame, so ``FrameDecoder`` buffers and yields only whole
messages. Frame sizes are bounded: a peer that announces a huge frame gets a clear error instead
of making us buffer without end. This module knows nothing about protobuf.
"""

from __future__ import annotations

from typing import Iterator

# A block is at most 100 MiB (CometBFT types.MaxBlockSizeBytes); a request carrying one plus its
# commit info fits well under 128 MiB. (CometBFT's own reader allows up to 2 GiB.)
DEFAULT_MAX_FRAME = 128 * 1024 * 1024
_MAX_VARINT_BYTES = 10  # a uint64 needs at most 10 bytes of 7 bits


class FrameError(Exception):
    """The byte stream is not valid framing (malformed varint or a frame over the bound)."""


def encode_uvarint(n: int) -> bytes:
    """The minimal unsigned LEB128 varint of ``n`` (Go's binary.PutUvarint)."""
    if type(n) is not int or n < 0 or n >= 1 << 64:
        raise ValueError(f"varint out of range: {n!r}")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode_frame(payload: bytes) -> bytes:
    """One length-delimited frame."""
    return encode_uvarint(len(payload)) + bytes(payload)


def encode_frames(payloads) -> bytes:
    return b"".join(encode_frame(p) for p in payloads)


def decode_uvarint(buf, pos: int = 0) -> tuple[int, int] | None:
    """``(value, next_pos)`` of the varint at ``pos``, or None if ``buf`` ends inside it.

    Raises FrameError for a varint longer than 10 bytes or overflowing 64 bits (as Go's
    binary.Uvarint reports overflow).
    """
    value = 0
    shift = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(buf):
            return None
        b = buf[pos + i]
        if i == _MAX_VARINT_BYTES - 1 and b > 1:
            raise FrameError("malformed frame length: varint overflows 64 bits")
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos + i + 1
        shift += 7
    raise FrameError("malformed frame length: varint overflows 64 bits")


class FrameDecoder:
    """Incremental decoder: ``feed(chunk)`` returns the complete messages the chunk finished."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME):
        self.max_frame = max_frame
        self._buf = bytearray()
        self._pos = 0

    @property
    def pending(self) -> int:
        """Bytes buffered that do not yet form a whole frame."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        return list(self._frames())

    def _frames(self) -> Iterator[bytes]:
        buf = self._buf
        while True:
            head = decode_uvarint(buf, self._pos)
            if head is None:
                break
            size, start = head
            if size > self.max_frame:
                raise FrameError(f"frame of {size} bytes exceeds the {self.max_frame}-byte limit")
            end = start + size
            if end > len(buf):
                break
            yield bytes(buf[start:end])
            self._pos = end
        if self._pos:
            del buf[: self._pos]  # compact once per feed, not once per frame
            self._pos = 0
