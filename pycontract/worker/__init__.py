"""The worker stage: the only process in which contract code ever runs.

``python -m pycontract.worker`` runs :func:`pycontract.worker.process.main`: it opens the ledger
read-only, applies :mod:`.sandbox`, then serves host requests framed by :mod:`.protocol` (block,
query, probe, exit), executing each transaction through vetting, metering and the runtime.
Requests come in as maps of plain data; replies go out as plain data with every value already
in canonical codec bytes. This package's ``__init__`` imports nothing, so the host can use
:mod:`.protocol` without loading the contract machinery.
"""
