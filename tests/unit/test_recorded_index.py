"""The indexer and the books on recorded JSON-RPC answers (tests/unit/fixtures/, written by
`ape run fixtures`): no node, no anvil. A change to what the indexer asks, or to what the
books say, shows here first; re-record the fixtures when it is meant."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from itgen_chain import books
from itgen_chain.compiled import escrow_abi, escrow_type
from itgen_chain.indexer import Indexer, IndexerSettings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def recorded():
    return json.loads((FIXTURES / "index_rpc.json").read_text())


def replay(answers: dict):
    """A request function that answers only what was recorded, and keeps what was asked."""
    asked = []

    def request(method: str, params: list):
        key = json.dumps([method, params])
        if key not in answers:
            raise AssertionError(f"not recorded: {key}")
        scan = method == "eth_getLogs" and "topics" in params[0]
        asked.append("transfer scan" if scan else method)
        return copy.deepcopy(answers[key])

    return request, asked


def index(recorded, tmp_path, answers=None):
    request, asked = replay(answers or recorded["answers"])
    database = tmp_path / "index.sqlite"
    indexer = Indexer(
        database, request, recorded["escrow"], recorded["token"], escrow_abi(escrow_type()),
        recorded["start_block"], IndexerSettings(max_range=3),
    )  # fmt: skip
    indexer.run()
    return database, asked, indexer


def test_the_recorded_program_indexes_to_the_recorded_audit(recorded, tmp_path):
    database, asked, _ = index(recorded, tmp_path)
    audit = books.build(database, None, 18, recorded["chain_id"])
    assert audit == json.loads((FIXTURES / "audit.json").read_text())
    assert audit["reconciled"] is True
    assert audit["totals"]["direct_transfers_in"]["tokens"] == "7"  # the stray, found
    assert audit["payout_count"] == 9


def test_the_recorded_program_costs_one_get_logs_a_range_and_one_for_its_stray(recorded, tmp_path):
    _, asked, indexer = index(recorded, tmp_path)
    head = indexer.checkpoint
    ranges = -(-(head - recorded["start_block"] + 1) // 3)
    assert asked.count("eth_getLogs") == ranges  # the escrow's events, one query a range
    assert asked.count("eth_call") == 1  # the balance, compared with the events
    assert indexer.off == {recorded["escrow"].lower(): 7 * 10**18}
    # The token's transfers in, from the deployment up to the stray's range and no further.
    assert 1 <= asked.count("transfer scan") <= ranges
    assert asked.index("transfer scan") > asked.index("eth_call")


def test_a_balance_that_the_events_explain_scans_no_transfer(recorded, tmp_path):
    """The same answers, but a balance read that equals the events' (no stray): nothing
    beyond the escrow's own events is asked."""
    answers = dict(recorded["answers"])
    [key] = [k for k in answers if json.loads(k)[0] == "eth_call"]
    answers[key] = hex(int(answers[key], 16) - 7 * 10**18)
    _, asked, indexer = index(recorded, tmp_path, answers)
    assert asked.count("eth_call") == 1 and indexer.off == {}
    ranges = -(-(indexer.checkpoint - recorded["start_block"] + 1) // 3)
    assert asked.count("eth_getLogs") == ranges and "transfer scan" not in asked
