"""pycontract's network mode: the engine as the ABCI 2.0 application behind CometBFT v0.38.

Modules: ``keys`` (Ed25519 keys, key files, addresses), ``envelope`` (the canonical signed
transaction), ``abci`` (generated protobuf classes, varint framing, the socket server), and the
CometBFT glue (``app``, ``cometbft``, ``localnet``, ``client``, ``cli``). Nothing here is
imported by the engine: local mode never needs PyNaCl, protobuf or CometBFT to be loaded.
"""
