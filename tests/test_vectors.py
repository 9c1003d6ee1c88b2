"""Replay every conformance vector on this interpreter: receipts and roots must match exactly.

tox runs this on CPython 3.11, 3.12 and 3.13, and again under a second PYTHONHASHSEED
(`tox -e py311-seed,...`). A failure names the vector, block, transaction, field, and the
expected and actual values.
"""

import json
from pathlib import Path

import pytest

from pycontract import conformance
from pycontract.metering.schedule import GAS_SCHEDULE_VERSION

VECTORS = Path(__file__).parent / "vectors"
PATHS = conformance.vector_paths(VECTORS)


def test_every_input_has_a_recorded_vector():
    inputs = {p.name for p in (VECTORS / "inputs").glob("*.json")}
    recorded = {p.name for p in PATHS}
    assert inputs, "no vector inputs found"
    assert inputs == recorded, "run: python -m pycontract.conformance regenerate tests/vectors"


@pytest.mark.determinism
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_vector_replays_identically(path):
    vector = json.loads(path.read_text())
    assert vector["gas_schedule_version"] == GAS_SCHEDULE_VERSION, (
        f"{path.name} was recorded under gas schedule {vector['gas_schedule_version']}, this is "
        f"{GAS_SCHEDULE_VERSION}: regenerate the vectors"
    )
    divergence = conformance.replay_vector(vector)
    assert divergence is None, str(divergence)


def test_a_changed_expectation_is_reported_with_its_place():
    vector = json.loads(PATHS[0].read_text())
    block = next(b for b in vector["blocks"] if b["receipts"])
    block["receipts"][0]["gas_used"] += 1
    divergence = conformance.replay_vector(vector)
    assert divergence is not None
    assert divergence.field == "gas_used"
    assert divergence.expected == divergence.actual + 1
