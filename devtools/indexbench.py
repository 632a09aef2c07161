"""Indexing throughput on a local chain: the indexer against a bare eth_getLogs fetch and
ape's ``Contract.Event.query``, over the same logs, in the same run."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from itgen_chain.attestations import Attestation, Milestone
from itgen_chain.compiled import escrow_abi
from itgen_chain.deployer import Terms
from itgen_chain.indexer import Indexer, IndexerSettings, rpc

DAY = 86_400
# Blocks per eth_getLogs for every reader: each block holds one batch of 200 payouts, so
# 20 blocks is 4,000 escrow events and 4,000 transfers per query, well within node limits.
BENCH_RANGE = 20
UNIT = 10**18


def make_payouts(
    project: Any,
    chain: Any,
    accounts: list[Any],
    payouts: int,
    per_tx: int,
    progress: Any = lambda n: None,
) -> tuple[Any, Any, int]:
    """Deploys and pays `payouts` fresh students; returns escrow, token, start block."""
    admin, donor, registrar = accounts[:3]
    token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 270 * DAY
    arguments = Terms(token.address, donor.address, admin.address, end).arguments()
    escrow = project.ScholarshipEscrow.deploy(*arguments, sender=admin)
    start = chain.get_receipt(escrow.txn_hash).block_number
    # Funded through `fund`, as a donor does: no stray transfer, so the indexer's common case
    # (one eth_getLogs a range, the balance matching the events).
    token.mint(admin, payouts * 450 * UNIT, sender=admin)
    token.approve(escrow, payouts * 450 * UNIT, sender=admin)
    escrow.fund(payouts * 450 * UNIT, sender=admin)
    escrow.setCourse(1, 450 * UNIT, 50 * UNIT, True, 0, sender=admin)
    escrow.setRegistrar(registrar, payouts * 450 * UNIT, end, 0, sender=admin)
    web3 = chain.provider.web3
    abi = escrow_abi(escrow.contract_type)
    contract = web3.eth.contract(escrow.address, abi=abi)
    for first in range(0, payouts, per_tx):
        batch = [
            Attestation(
                keccak(b"bench-%d" % n),
                to_checksum_address(keccak(b"payee-%d" % n)[-20:]),
                1,
                Milestone.REGISTRATION,
            ).as_tuple()
            for n in range(first, min(first + per_tx, payouts))
        ]
        tx = contract.functions.attestBatch(batch).transact(
            {"from": registrar.address, "gas": 29_000_000}
        )
        web3.eth.wait_for_transaction_receipt(tx, poll_latency=0.05)
        progress(len(batch))
    return escrow, token, start


def _index(database: Any, request: Any, escrow: Any, token: Any, start: int) -> tuple[int, float]:
    """Events indexed into `database` and the seconds it took, as `ape itgen index` runs
    (4 ranges in flight)."""
    indexer = Indexer(
        database,
        request,
        escrow.address,
        token.address,
        escrow_abi(escrow.contract_type),
        start,
        IndexerSettings(max_range=BENCH_RANGE, workers=4),
    )
    began = time.perf_counter()
    indexed = indexer.run()
    return indexed, time.perf_counter() - began


def measure(provider: Any, escrow: Any, token: Any, start: int) -> dict[str, Any]:
    """Events per second for the indexer (into SQLite and into PostgreSQL), a bare fetch
    and ape's query, same block range."""

    request = rpc(provider)
    head = provider.web3.eth.block_number
    postgresql = None
    from devtools import postgres

    if postgres.server_binaries() is not None:
        with postgres.server() as server:
            indexed_pg, seconds_pg = _index(
                postgres.new_database(server), request, escrow, token, start
            )
        postgresql = {
            "events": indexed_pg,
            "seconds": round(seconds_pg, 3),
            "events_per_second": round(indexed_pg / seconds_pg),
        }
    with tempfile.TemporaryDirectory() as folder:
        indexed, indexer_seconds = _index(
            Path(folder) / "bench.sqlite", request, escrow, token, start
        )
        indexer = Indexer(
            Path(folder) / "bare.sqlite",
            request,
            escrow.address,
            token.address,
            escrow_abi(escrow.contract_type),
            start,
        )

        began = time.perf_counter()
        fetched = 0
        for first in range(start, head + 1, BENCH_RANGE):
            fetched += len(indexer._get_logs(first, min(first + BENCH_RANGE - 1, head)))
        bare_seconds = time.perf_counter() - began

    began = time.perf_counter()
    frame = escrow.ScholarshipReleased.query("*", start_block=start, stop_block=head)
    ape_count = len(frame)
    ape_seconds = time.perf_counter() - began

    result = {
        "blocks": head - start + 1,
        "indexer": {
            "events": indexed,
            "seconds": round(indexer_seconds, 3),
            "events_per_second": round(indexed / indexer_seconds),
        },
        "indexer_postgresql": postgresql or "PostgreSQL's server not installed here",
        "bare_eth_getLogs": {
            "events": fetched,
            "seconds": round(bare_seconds, 3),
            "events_per_second": round(fetched / bare_seconds),
        },
        "ape_event_query": {
            "events": ape_count,
            "seconds": round(ape_seconds, 3),
            "events_per_second": round(ape_count / ape_seconds),
        },
    }
    indexer_rate = result["indexer"]["events_per_second"]
    result["goals"] = {
        "indexer_vs_bare": {
            "ratio": round(indexer_rate / result["bare_eth_getLogs"]["events_per_second"], 3),
            "goal": ">= 0.5",
        },
        "indexer_vs_ape": {
            "ratio": round(indexer_rate / result["ape_event_query"]["events_per_second"], 2),
            "goal": ">= 5",
        },
    }
    result["goals"]["indexer_vs_bare"]["met"] = result["goals"]["indexer_vs_bare"]["ratio"] >= 0.5
    result["goals"]["indexer_vs_ape"]["met"] = result["goals"]["indexer_vs_ape"]["ratio"] >= 5
    return result
