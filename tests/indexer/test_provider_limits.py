"""A provider's limits, as the indexer meets them: which refusals are rate limits (retried,
never splitting a range) and which are range refusals (the range shrinks to the size named),
ranges that grow while accepted, several ranges in flight, and a request rate kept."""

from __future__ import annotations

import time

import pytest
import requests
from helpers import events, make_indexer  # tests/indexer/conftest.py

from itgen_chain.indexer import IndexerSettings, RangePlanner, range_hint
from itgen_chain.retrying import DROPPED, RANGE, RATE, RateLimiter, Retrier, RetriesSpent, classify


@pytest.mark.parametrize(
    "message, kind",
    [
        ("429 Client Error: Too Many Requests for url: https://bsc.example", RATE),
        ("-32005: limit exceeded", RATE),
        ("-32029: rate limit reached", RATE),
        (
            "-32005: query returned more than 10000 results. Try with this block range [0x1, 0x9]",
            RANGE,
        ),
        ("-32005: exceed maximum block range: 5000", RANGE),
        ("-32602: block range is too wide (max 2000)", RANGE),
        ("Log response size exceeded.", RANGE),
        ("CannotHandleRequest: Could not discover provider while making request", DROPPED),
        ("-32000: execution reverted", None),
        ("-32000: header not found", None),
    ],
)
def test_refusals_are_told_apart(message, kind):
    assert classify(RuntimeError(message)) == kind


def test_a_dropped_connection_is_retried_but_a_broadcast_is_not_sent_twice():
    tries = []

    def flaky():
        tries.append(1)
        if len(tries) < 3:
            raise requests.ConnectionError("Connection aborted: RemoteDisconnected")
        return "ok"

    retrier = Retrier(retries=5, backoff=0.001, sleep=lambda s: None)
    assert retrier.call("eth_call", flaky) == "ok" and len(tries) == 3
    tries.clear()
    with pytest.raises(requests.ConnectionError):
        retrier.call("eth_sendRawTransaction", flaky, resend=False)
    assert len(tries) == 1


def test_spent_retries_end_in_one_line_naming_the_refusal():
    def refusing():
        raise RuntimeError("429 Too Many Requests")

    with pytest.raises(RetriesSpent, match=r"eth_getLogs: the node kept refusing after 3 tries"):
        Retrier(retries=2, backoff=0.001, sleep=lambda s: None).call("eth_getLogs", refusing)


@pytest.mark.parametrize(
    "message, hint",
    [
        ("exceed maximum block range: 5000", 5000),
        ("query returned more than 10000 results. Try with this block range [0x10, 0x1f]", 16),
        ("block range is too wide (max 2,000 blocks)", 2000),
        ("Log response size exceeded.", None),
    ],
)
def test_range_hints_are_read_from_the_message(message, hint):
    assert range_hint(message) == hint


def test_ranges_grow_while_accepted_and_never_past_a_refused_size():
    planner = RangePlanner(5_000, grow_to=100_000)
    for expected in (10_000, 20_000, 40_000, 80_000, 100_000, 100_000):
        planner.accepted(planner.size)
        assert planner.size == expected
    assert planner.refused(100_000, "exceed maximum block range: 50000") == 50_000
    for _ in range(3):
        planner.accepted(planner.size)
    assert planner.size == 50_000
    assert planner.refused(50_000, "Log response size exceeded.") == 25_000
    planner.accepted(25_000)
    assert 25_000 < planner.size < 50_000  # grows back by halves, under the size refused


def test_the_rate_limiter_keeps_to_a_sliding_window_of_a_second():
    """No second ever holds more calls than the rate, batches counted call by call: what a
    provider that counts by a sliding window (the strictest rule) admits."""
    limiter = RateLimiter(50)
    sent = []
    began = time.monotonic()
    for n in range(120):
        limiter.take(10 if n % 20 == 0 else 1)
        sent += [time.monotonic()] * (10 if n % 20 == 0 else 1)
    assert all(sum(1 for t in sent if 0 <= t - first < 1.0) <= 50 for first in sent)
    assert time.monotonic() - began >= (len(sent) - 50) / 50  # the rate, not more
    assert time.monotonic() - began < (len(sent) / 50) * 1.1 + 0.2  # and not much less


def test_rate_limits_are_retried_without_splitting_the_range(program, chain, project, tmp_path):
    asked, refusals = [], {"left": 4}

    def limited(request):
        def call(method, params):
            if method == "eth_getLogs":
                asked.append(int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16))
                if refusals["left"]:
                    refusals["left"] -= 1
                    raise RuntimeError("-32005: limit exceeded")
            return request(method, params)

        return call

    settings = IndexerSettings(backoff=0.001)
    make_indexer(program, chain, project, tmp_path / "i.sqlite", settings, limited).run()
    assert len(set(asked)) == 1  # every request over the same, whole range
    assert len(events(tmp_path / "i.sqlite", "ScholarshipReleased")) == 12


def test_several_ranges_in_flight_shrink_to_the_named_cap_and_miss_nothing(
    program,
    chain,
    project,
    tmp_path,  # noqa: F811
):
    spans = []

    def capped(request):
        def call(method, params):
            if method == "eth_getLogs":
                span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
                spans.append(span)
                if span > 3:
                    raise RuntimeError("-32005: exceed maximum block range: 3")
            return request(method, params)

        return call

    settings = IndexerSettings(max_range=4, grow_to=1_000, workers=4, rps=200)
    indexer = make_indexer(program, chain, project, tmp_path / "i.sqlite", settings, capped)
    indexer.run()
    # Tries past the cap are refused once each, then every range is 3 blocks at most.
    assert indexer.planner.size == 3 and indexer.planner.refusals >= 1 and max(spans) == 4
    direct = tmp_path / "direct.sqlite"
    make_indexer(program, chain, project, direct).run()
    for name in ("ScholarshipReleased", "Funded", "Transfer"):
        assert events(tmp_path / "i.sqlite", name) == events(direct, name)


def test_the_http_layer_retries_rate_limits_but_never_a_revert(monkeypatch):
    """Every HTTP call of a command goes through retrying.install: a -32005 "limit
    exceeded" answer is asked again, a revert (code 3, custom error data) is returned at
    once, so that it is explained, not retried."""
    import json

    from web3.providers.rpc import HTTPProvider

    from itgen_chain.retrying import install

    install(retries=3, backoff=0.001)
    revert = {"code": 3, "message": "execution reverted: custom error 0xe57716f6: 0042"}
    limit = {"code": -32005, "message": "limit exceeded"}
    answers: list[dict] = []

    def answer(self, method, data):
        reply = answers.pop(0)
        return json.dumps({"jsonrpc": "2.0", "id": 0, **reply}).encode()

    monkeypatch.setattr(HTTPProvider, "_make_request", answer)
    provider = HTTPProvider("http://127.0.0.1:9")
    answers[:] = [{"error": revert}, {"result": "0x1"}]
    assert provider.make_request("eth_call", [])["error"]["code"] == 3
    assert len(answers) == 1  # asked once
    answers[:] = [{"error": limit}, {"error": limit}, {"result": "0x2"}]
    assert provider.make_request("eth_blockNumber", [])["result"] == "0x2"
    assert answers == []


def test_no_node_listening_answers_the_connection_probe_at_once_but_a_call_is_retried():
    """ape asks web3_clientVersion again and again while an anvil it started boots: each
    refused connection is its answer at once (retried with backoff, a command that started
    its own anvil took 29 s instead of 3). Any other call to a refused port is retried."""
    import socket

    from web3 import HTTPProvider

    from itgen_chain.exceptions import RetriesSpent
    from itgen_chain.retrying import DROPPED, current, install

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    install(retries=2, backoff=0.001)
    provider = HTTPProvider(f"http://127.0.0.1:{port}")
    assert provider.is_connected() is False
    assert current().counts[DROPPED] == 0 and current().waited == 0  # not retried
    with pytest.raises(RetriesSpent):
        provider.make_request("eth_blockNumber", [])
    assert current().counts[DROPPED] == 3  # the first try and 2 retries


def test_one_refused_request_is_sent_as_often_as_our_retries_say_and_counted_once_each():
    """An endpoint that answers every request with HTTP 429: with 3 retries, one eth_getLogs
    is 4 HTTP requests (web3's own retry under ours once made it 35), and the count of rate
    limits equals what the endpoint sent."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from web3 import HTTPProvider

    from itgen_chain.exceptions import RetriesSpent
    from itgen_chain.retrying import RATE, current, install

    received = []

    class TooMany(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(self.path)
            self.send_response(429)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), TooMany)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        install(retries=3, backoff=0.001)
        provider = HTTPProvider(f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(RetriesSpent):
            provider.make_request("eth_getLogs", [{}])
        assert len(received) == 4
        assert current().counts[RATE] == 4
    finally:
        server.shutdown()


@pytest.mark.parametrize("limit", [3_333, 2_000, 777])
def test_an_unstated_limit_is_found_in_a_few_probes(limit):
    """A provider that refuses ranges over `limit` blocks without saying how many: over a
    nine-month BSC program (52 M blocks) the planner finds the limit in at most 10 refusals
    and asks within 0.1 % of the fewest requests (the planner before bisection refused 1,667
    times at 3,333 and asked 15 % more)."""
    planner, span, cursor, asked = RangePlanner(5_000), 52_000_000, 0, 0
    while cursor < span:
        size = min(planner.size, span - cursor)
        asked += 1
        if size > limit:
            planner.refused(size, "query returned more than 10000 results")
            continue
        planner.accepted(size)
        cursor += size
    assert planner.refusals <= 10 and planner.size == limit
    assert asked <= -(-span // limit) * 1.001


def test_the_limit_found_is_remembered_for_the_next_run(program, chain, project, tmp_path):
    refused = []

    def capped(request):
        def call(method, params):
            if method == "eth_getLogs":
                span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
                if span > 3:
                    refused.append(span)
                    raise RuntimeError("query exceeds the block range allowed")
            return request(method, params)

        return call

    db = tmp_path / "i.sqlite"
    make_indexer(program, chain, project, db, IndexerSettings(max_range=64), capped).run()
    assert refused and len(events(db, "ScholarshipReleased")) == 12
    refused.clear()
    chain.mine(20)
    make_indexer(program, chain, project, db, IndexerSettings(max_range=64), capped).run()
    assert refused == []  # the second run starts at the limit the first one found
