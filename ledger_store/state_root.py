"""Bucketed Merkle commitment over all contract storage and contract code.

Construction (see docs/ledger.md, "State root", for the normative text):

* Leaf key ``LK``: ``encode_key(("s", contract, key_bytes))`` for a storage row,
  ``encode_key(("c", name))`` for a deployed contract. Leaf value ``V``: the stored value bytes
  for a storage row, ``encode_value(code_hash)`` for a contract.
* ``KH = sha256(LK)`` (32 bytes); bucket = first two bytes of KH, big-endian (0..65535).
* ``leaf = sha256(0x00 || KH || sha256(V))``.
* bucket hash = ``sha256(0x01 || leaf_1 || ... || leaf_n)`` with the bucket's leaves ordered by
  KH ascending; an empty bucket is ``sha256(0x01)``.
* The 65,536 bucket hashes are the bottom level of a complete binary tree of depth 16; an inner
  node is ``sha256(0x02 || left || right)``; the state root is the lowercase hex of the top node.
"""

from __future__ import annotations

import hashlib

import cbor2
from collections.abc import Iterable, Mapping

from . import codec

__all__ = [
    "BUCKET_BITS",
    "N_BUCKETS",
    "EMPTY_BUCKET",
    "EMPTY_ROOT",
    "storage_leaf_key",
    "code_leaf_key",
    "code_leaf_value",
    "leaf_of",
    "key_hash",
    "bucket_of",
    "leaf_hash",
    "bucket_hash",
    "StateTree",
    "root_from_leaves",
]

BUCKET_BITS = 16
N_BUCKETS = 1 << BUCKET_BITS

_sha = hashlib.sha256
EMPTY_BUCKET = _sha(b"\x01").digest()


def storage_leaf_key(contract: str, key: bytes) -> bytes:
    """``encode_key(("s", contract, key))``, with a fast path for the common exact types."""
    if type(contract) is str and type(key) is bytes and contract.isascii():
        return cbor2.dumps(("s", contract, key), canonical=True)
    return codec.encode_key(("s", contract, bytes(key)))


def code_leaf_key(name: str) -> bytes:
    return codec.encode_key(("c", name))


def code_leaf_value(code_hash: str) -> bytes:
    return codec.encode_value(code_hash)


def leaf_of(leaf_key: bytes, value: bytes) -> tuple[int, bytes, bytes]:
    """(bucket, KH, leaf hash) of one leaf."""
    kh = _sha(leaf_key).digest()
    return (kh[0] << 8) | kh[1], kh, _sha(b"\x00" + kh + _sha(value).digest()).digest()


def key_hash(leaf_key: bytes) -> bytes:
    """KH of a leaf key (the middle item of :func:`leaf_of`)."""
    return _sha(leaf_key).digest()


def bucket_of(kh: bytes) -> int:
    """The bucket of a KH (the first item of :func:`leaf_of`)."""
    return (kh[0] << 8) | kh[1]


def leaf_hash(kh: bytes, value: bytes) -> bytes:
    """The leaf hash of KH and a value (the last item of :func:`leaf_of`)."""
    return _sha(b"\x00" + kh + _sha(value).digest()).digest()


def bucket_hash(sorted_leaves: Iterable[bytes]) -> bytes:
    """Hash of a bucket given its leaf hashes already ordered by KH."""
    h = _sha(b"\x01")
    for lf in sorted_leaves:
        h.update(lf)
    return h.digest()


def _node(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x02" + left + right).digest()


class StateTree:
    """The in-memory binary tree over the bucket hashes.

    ``levels[0]`` holds the 65,536 bucket hashes, ``levels[16]`` the root. Updating k buckets
    costs at most 16*k node hashes (fewer, as paths share ancestors).
    """

    __slots__ = ("levels",)

    def __init__(self, buckets: Mapping[int, bytes] | None = None):
        level = [EMPTY_BUCKET] * N_BUCKETS
        if buckets:
            for b, h in buckets.items():
                level[b] = h
        levels = [level]
        sha = _sha
        while len(level) > 1:
            level = [
                sha(b"\x02" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)
            ]
            levels.append(level)
        self.levels = levels

    def root(self) -> str:
        return self.levels[-1][0].hex()

    def preview(self, changed: Mapping[int, bytes]) -> tuple[str, list[dict[int, bytes]]]:
        """Root after replacing the given bucket hashes, plus the per-level node changes to
        hand to :meth:`apply` once the change is durable. Does not modify the tree."""
        levels = self.levels
        sha = _sha
        pending: list[dict[int, bytes]] = [dict(changed)]
        cur = pending[0]
        for lvl in range(BUCKET_BITS):
            below = levels[lvl]
            get = cur.get
            nxt: dict[int, bytes] = {}
            for parent in {i >> 1 for i in cur}:
                li = parent << 1
                nxt[parent] = sha(
                    b"\x02" + (get(li) or below[li]) + (get(li | 1) or below[li | 1])
                ).digest()
            pending.append(nxt)
            cur = nxt
        if cur:
            root = cur[0].hex()
        else:
            root = self.root()
        return root, pending

    def apply(self, pending: list[dict[int, bytes]]) -> None:
        for lvl, changes in enumerate(pending):
            level = self.levels[lvl]
            for i, h in changes.items():
                level[i] = h


EMPTY_ROOT = StateTree().root()


def root_from_leaves(leaves: Iterable[tuple[int, bytes, bytes]]) -> str:
    """Recompute the root from scratch from (bucket, KH, leaf) triples in any order."""
    per_bucket: dict[int, list[tuple[bytes, bytes]]] = {}
    for b, kh, lf in leaves:
        per_bucket.setdefault(b, []).append((kh, lf))
    buckets = {b: bucket_hash(lf for _, lf in sorted(items)) for b, items in per_bucket.items()}
    return StateTree(buckets).root()
