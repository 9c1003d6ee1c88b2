"""The same programs cost the same gas and give the same receipts on CPython 3.11/3.12/3.13.

corpus_results.json was recorded by record_corpus.py; tox runs this on every interpreter, and
``python3.X tests/fuzz/record_corpus.py --check`` does the same by hand.
"""

from __future__ import annotations

import json

import pytest

import record_corpus


@pytest.mark.determinism
def test_corpus_gas_and_results_match_the_recorded_file():
    recorded = json.loads(record_corpus.RESULTS.read_text())
    now = record_corpus.run()
    d = record_corpus.diff(recorded, now)
    assert not d, (f"receipts differ from the file recorded on Python {recorded['python']}:\n"
                   + "\n".join(d[:20]))
    # the file is not trivially empty: both paths and rejections are in it
    statuses = [v[0] for v in now["programs"].values()] + [v[0] for v in now["deploys"].values()]
    assert {"success", "reverted", "rejected"} <= set(statuses)
