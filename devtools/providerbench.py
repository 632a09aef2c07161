"""The shipped `ape itgen index` through a provider that spares it nothing (bench/provider.json).

The program: a nine-month scholarship program's payouts (keccak ids, fresh random wallets,
batches of 10), one transaction a block on a fresh anvil, spread over a BNB Chain's nine
months of block numbers (51,840,000 at 0.45 s): block k of the node is block k * spread,
the blocks between are empty (anvil mines empty blocks far too slowly to build them). Its
events are spread through the whole length, a batch every ~130,000 blocks.

The provider stand-in in front of it (devtools/provider_proxy.py):

- refuses eth_getLogs over 5,000 blocks with "block range too large", never naming the limit;
- allows 25 calls in any second (a sliding window, not the indexer's token bucket; each
  call of a JSON-RPC batch counted), HTTP 429 beyond;
- closes one connection in 200 without an answer;
- answers after 50 ms, and an eth_getLogs after 10 µs more per block of its range;
- with or without ``blockTimestamp`` in logs (most BSC providers leave it out).

The floor is the fewest requests that can see every escrow event, one eth_getLogs per
5,000-block range of the program, divided by the rate: what no indexer can beat on this
provider. `ape itgen index --escrow ... --rps 25` runs as a subprocess, timed from its start
to its exit, set-up included; every call the provider received is counted. Its events are
compared with a direct index of the node.
"""

from __future__ import annotations

import math
import os
import socket
import sqlite3
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from devtools.provider_proxy import ProviderProxy

ROOT = Path(__file__).resolve().parents[1]
SPAN = 51_840_000  # nine months of BNB Chain blocks at 0.45 s
CAP = 5_000
RATE = 25
LATENCY = 0.05
PER_BLOCK = 0.000_01
DROP_EVERY = 200
PAYOUTS = 3_880  # 2,000 registrations and 1,877 completions, in batches of 10
BATCH = 10
UNIT = 10**18
DAY = 86_400


@contextmanager
def _anvil() -> Any:
    """A fresh anvil of our own: the program starts at its first blocks."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(ROOT / "node_modules" / ".bin" / "anvil"), "--port", str(port), "--accounts", "10",
         "--block-base-fee-per-gas", "0", "--gas-price", "0", "--silent"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        from web3 import HTTPProvider, Web3

        web3 = Web3(HTTPProvider(url))
        for _ in range(200):
            try:
                if web3.eth.block_number >= 0:
                    break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.05)
        yield url, web3
    finally:
        process.terminate()
        process.wait(10)


def _program(web3: Any, token_type: Any) -> tuple[str, str, int]:
    """Deploys a token and an escrow, funds it through `fund` (no stray transfer) and pays
    PAYOUTS fresh students in batches of BATCH, a transaction a block. Returns the escrow,
    the token and the escrow's deployment block."""
    from itgen_chain.compiled import escrow_artifact
    from itgen_chain.deployer import Terms

    admin, donor, registrar = web3.eth.accounts[:3]

    def send(tx: dict) -> Any:
        return web3.eth.wait_for_transaction_receipt(web3.eth.send_transaction(tx))

    token_address = send(
        {"from": admin, "data": token_type.deployment_bytecode.bytecode}
    ).contractAddress
    token = web3.eth.contract(token_address, abi=[a.model_dump() for a in token_type.abi])
    end = web3.eth.get_block("latest")["timestamp"] + 270 * DAY
    artifact = escrow_artifact()
    factory = web3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    arguments = Terms(token_address, donor, admin, end).arguments()
    receipt = send(factory.constructor(*arguments).build_transaction({"from": admin}))
    escrow = web3.eth.contract(receipt.contractAddress, abi=artifact["abi"])
    fund = PAYOUTS * 450 * UNIT
    for call, sender in (
        (token.functions.mint(donor, fund), donor),
        (token.functions.approve(escrow.address, fund), donor),
        (escrow.functions.fund(fund), donor),
        (escrow.functions.setCourse(1, 450 * UNIT, 50 * UNIT, True, 0), admin),
        (escrow.functions.setRegistrar(registrar, fund, end, 0), admin),
    ):
        send(call.build_transaction({"from": sender}))
    for _ in range(PAYOUTS // BATCH):
        items = [
            (keccak(os.urandom(32)), to_checksum_address(os.urandom(20)), 1, 0)
            for _ in range(BATCH)
        ]
        send(escrow.functions.attestBatch(items).build_transaction({"from": registrar}))
    return escrow.address, token_address, receipt.blockNumber


def _index(host: str, escrow: str, database: Path, rps: float | None) -> tuple[float, str]:
    """`ape itgen index --escrow` as a user runs it, against `host`; its seconds and output."""
    command = ["ape", "itgen", "index", "--escrow", escrow, "--db", str(database),
               "--network", "ethereum:local:foundry"]  # fmt: skip
    if rps:
        command += ["--rps", str(rps)]
    began = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "APE_FOUNDRY_HOST": host},
        capture_output=True, text=True, timeout=3_600,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"ape itgen index failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def _events(database: Path) -> list[tuple]:
    """What the index holds, block numbers aside (the spread chain renumbers blocks)."""
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT tx_hash, log_index, event, args FROM events ORDER BY tx_hash, log_index"
        ).fetchall()


def run_one(
    url: str, escrow: str, start: int, spread: int, timestamps: bool, direct: list[tuple]
) -> dict[str, Any]:
    with (
        ProviderProxy(
            url, max_range=CAP, name_limit=False, rps=RATE, rate_rule="window",
            drop_every=DROP_EVERY, latency=LATENCY, per_block=PER_BLOCK, spread=spread,
            timestamps=timestamps,
        ) as proxy,
        tempfile.TemporaryDirectory() as folder,
    ):  # fmt: skip
        database = Path(folder) / "index.sqlite"
        seconds, said = _index(proxy.url, escrow, database, RATE)
        held = _events(database)
        with sqlite3.connect(database) as db:
            head = int(db.execute("SELECT value FROM meta WHERE key = 'checkpoint'").fetchone()[0])
    ranges = math.ceil((head - start + 1) / CAP)
    floor_seconds = ranges / RATE
    stats = proxy.stats
    return {
        "logs_carry_blockTimestamp": timestamps,
        "blocks_indexed": head - start + 1,
        "seconds": round(seconds, 1),
        "calls": stats["calls"],
        "http_requests": stats["requests"],
        "get_logs": stats["get_logs"],
        "rate_limited_429": stats["rate_limited"],
        "range_refused": stats["range_refused"],
        "dropped": stats["dropped"],
        "floor_requests": ranges,
        "floor_seconds": round(floor_seconds, 1),
        "ratio_to_floor": round(floor_seconds / seconds, 3),
        "events": len(held),
        "same_as_direct": held == direct,
        "said": [line for line in said.splitlines() if line.strip()][-3:],
    }


def measure(token_type: Any, span: int = SPAN) -> dict[str, Any]:
    with _anvil() as (url, web3):
        escrow, _token, start = _program(web3, token_type)
        head = web3.eth.block_number
        spread = span // (head - start + 1)
        with tempfile.TemporaryDirectory() as folder:
            direct_db = Path(folder) / "direct.sqlite"
            _index(url, escrow, direct_db, None)
            direct = _events(direct_db)
        runs = {
            "with_block_timestamps": run_one(url, escrow, start, spread, True, direct),
            "without_block_timestamps": run_one(url, escrow, start, spread, False, direct),
        }
    worst = min(r["ratio_to_floor"] for r in runs.values())
    most = max(r["calls"] for r in runs.values())
    return {
        "provider": {
            "range_cap": CAP,
            "refusal": "block range too large (the limit not named)",
            "rate": f"{RATE} calls in any second (sliding window), HTTP 429 beyond",
            "dropped": f"one connection in {DROP_EVERY}",
            "latency_seconds": LATENCY,
            "get_logs_seconds_per_block": PER_BLOCK,
        },
        "program": {
            "payouts": PAYOUTS,
            "transactions": PAYOUTS // BATCH,
            "node_blocks": head - start + 1,
            "spread": spread,
            "blocks_between_batches": spread,
        },
        **runs,
        "goals": {
            "ratio_to_floor": {"value": worst, "goal": ">= 0.8", "met": worst >= 0.8},
            "nine_month_requests": {"value": most, "goal": "<= 11,000", "met": most <= 11_000},
            "same_events": {"met": all(r["same_as_direct"] for r in runs.values())},
        },
    }


def section(report: dict[str, Any] | None) -> list[str]:
    """bench/README.md's lines for bench/provider.json."""
    if not report:
        return []
    p, g = report["program"], report["goals"]
    lines = [
        "",
        "## `ape itgen index` through a provider that spares it nothing (bench/provider.json)",
        "",
        f"A nine-month program ({p['payouts']:,} payouts in {p['transactions']} transactions, "
        f"a batch every {p['blocks_between_batches']:,} blocks over 51.84 million) behind a "
        "stand-in provider: eth_getLogs over 5,000 blocks refused without the limit named, 25 "
        "calls in any second (a sliding window; a batch's calls each count), one connection in "
        "200 dropped, 50 ms a request and 10 µs more per block of an eth_getLogs range. The "
        "shipped command runs as a subprocess with `--rps 25`, timed from start to exit. The "
        "floor is one eth_getLogs per 5,000-block range divided by the rate.",
        "",
        "| logs carry blockTimestamp | seconds | floor (s) | floor / seconds | calls | HTTP requests | eth_getLogs | 429s | refused ranges | dropped | events as direct |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in ("with_block_timestamps", "without_block_timestamps"):
        r = report[name]
        lines.append(
            f"| {'yes' if r['logs_carry_blockTimestamp'] else 'no'} | {r['seconds']} | "
            f"{r['floor_seconds']} | {r['ratio_to_floor']} | {r['calls']:,} | "
            f"{r['http_requests']:,} | {r['get_logs']:,} | {r['rate_limited_429']} | "
            f"{r['range_refused']} | {r['dropped']} | {'yes' if r['same_as_direct'] else 'NO'} |"
        )
    lines += [
        "",
        f"Worst ratio to the floor: {g['ratio_to_floor']['value']} (goal ≥ 0.8: "
        f"{'met' if g['ratio_to_floor']['met'] else 'missed'}). Calls for the nine-month "
        f"program: {g['nine_month_requests']['value']:,} (goal ≤ 11,000: "
        f"{'met' if g['nine_month_requests']['met'] else 'missed'}).",
    ]
    return lines
