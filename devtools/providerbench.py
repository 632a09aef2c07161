"""Indexing through a provider's limits: the bench chain behind a loopback proxy that behaves
like a BNB Chain endpoint (100 ms a request, eth_getLogs ranges over 5,000 blocks refused
with -32005, 25 requests a second with HTTP 429 beyond), its blocks spread over at least
5,000,000 block numbers (anvil mines empty blocks too slowly to build them: block k of the
node is block k * spread, the blocks between are empty).

The floor is what the limits allow: the eth_getLogs requests needed at the 5,000-block cap
(three a range: the escrow's logs, the token's transfers in and out) divided by the rate.
A second run against a provider that accepts 50,000-block ranges shows whether the indexer
found that out (ranges grow while accepted, shrink to the size a refusal names).
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

from devtools.provider_proxy import ProviderProxy
from itgen_chain.compiled import escrow_abi
from itgen_chain.indexer import Indexer, IndexerSettings, rpc

SPAN = 5_000_000
CAP = 5_000
RATE = 25
LATENCY = 0.1
CALLS_PER_RANGE = 3


def _web3_request(url: str) -> Any:
    from web3 import HTTPProvider, Web3

    web3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 60}))

    class Provider:  # what rpc() needs: .web3.provider.make_request
        pass

    provider = Provider()
    provider.web3 = web3  # type: ignore[attr-defined]
    return rpc(provider), web3


def run_one(
    upstream: str,
    escrow: Any,
    token: Any,
    start: int,
    blocks: int,
    cap: int,
    database: str | None = None,
) -> dict:
    """One index of the spread chain through the proxy, into SQLite or `database`."""
    spread = math.ceil(SPAN / blocks)
    with (
        ProviderProxy(upstream, max_range=cap, rps=RATE, latency=LATENCY, spread=spread) as proxy,
        tempfile.TemporaryDirectory() as folder,
    ):
        request, web3 = _web3_request(proxy.url)
        settings = IndexerSettings(
            max_range=CAP, grow_to=1_000_000, workers=8, rps=RATE, retries=8, backoff=0.25
        )
        indexer = Indexer(
            database or Path(folder) / "provider.sqlite",
            request,
            escrow.address,
            token.address,
            escrow_abi(escrow.contract_type),
            start * spread,
            settings,
        )
        began = time.perf_counter()
        events = indexer.run()
        seconds = time.perf_counter() - began
        span = web3.eth.block_number - start * spread + 1
    floor_requests = CALLS_PER_RANGE * math.ceil(span / CAP)
    floor_seconds = floor_requests / RATE
    return {
        "provider_range_cap": cap,
        "blocks_spanned": span,
        "spread": spread,
        "events": events,
        "seconds": round(seconds, 1),
        "requests": proxy.stats["requests"],
        "get_logs_requests": proxy.stats["get_logs"],
        "rate_limited_429": proxy.stats["rate_limited"],
        "range_refused": proxy.stats["range_refused"],
        "final_range": indexer.planner.size if indexer.planner else None,
        "floor_requests_at_5000_cap": floor_requests,
        "floor_seconds": round(floor_seconds, 1),
        "ratio_to_floor": round(floor_seconds / seconds, 3),
    }


def measure(upstream: str, escrow: Any, token: Any, start: int, head: int) -> dict[str, Any]:
    """The 5,000-block provider and the 50,000-block one, over the same chain."""
    blocks = head - start + 1
    capped = run_one(upstream, escrow, token, start, blocks, CAP)
    wide = run_one(upstream, escrow, token, start, blocks, 50_000)
    from devtools import postgres

    capped_pg = None
    if postgres.server_binaries() is not None:
        with postgres.server() as server:
            database = postgres.new_database(server)
            capped_pg = run_one(upstream, escrow, token, start, blocks, CAP, database)
    result = {
        "provider": {
            "latency_seconds": LATENCY,
            "requests_per_second": RATE,
            "range_cap": CAP,
            "span": "anvil's blocks spread over block numbers (see spread)",
        },
        "capped_5000": capped,
        "capped_5000_postgresql": capped_pg or "PostgreSQL's server not installed here",
        "accepts_50000": wide,
    }
    result["goals"] = {
        "ratio_to_floor": {
            "value": capped["ratio_to_floor"],
            "goal": ">= 0.8",
            "met": capped["ratio_to_floor"] >= 0.8,
        },
        "requests_50000_vs_5000": {
            "value": round(wide["requests"] / capped["requests"], 3),
            "goal": "<= 0.2",
            "met": wide["requests"] <= capped["requests"] / 5,
        },
        "same_events": {
            "value": [capped["events"], wide["events"]]
            + ([capped_pg["events"]] if capped_pg else []),
            "met": capped["events"] == wide["events"]
            and (capped_pg is None or capped_pg["events"] == capped["events"]),
        },
        "postgresql_ratio_to_floor": {
            "value": capped_pg["ratio_to_floor"] if capped_pg else None,
            "goal": ">= 0.8",
            "met": capped_pg is None or capped_pg["ratio_to_floor"] >= 0.8,
        },
    }
    return result
