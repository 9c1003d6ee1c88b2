"""ABCI 2.0 (CometBFT v0.38) for pycontract: wire framing, the socket server, message classes.

``types_pb2`` (re-exported here) holds every ABCI Request/Response class, generated from
CometBFT's own schema by scripts/gen_abci_proto.py into ``tendermint/`` below; ``wire`` frames
messages; ``server`` serves an ``Application`` on CometBFT's four connections from one thread.
"""

from pycontract.node.abci.tendermint.abci import types_pb2  # noqa: F401

__all__ = ["types_pb2"]
