"""The watch, measured on anvil (bench/watch.json):

- a thief with a stolen registrar key who stays inside its allowance, batches of 10 a block:
  paying its own wallet (the payee_reuse rule) and paying a fresh wallet per student (only
  the rate rule can see it); tokens lost and blocks from the first payout to the pause, the
  watch reading every block; the floor is one block;
- an alert's latency from its block to a webhook receiver (median, 95th percentile), the
  watch polling every 0.25 s;
- the alerts raised on the honest seed program of `make demo` (2,000 registrations, 1,877
  completions, allowances spent to within 1%), without its incident.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from itgen_chain.attestations import Attestation, Milestone
from itgen_chain.deployer import Terms, deploy

DAY = 86_400
UNIT = 10**18


def _program(project: Any, chain: Any, accounts: list[Any], allowance: int) -> Any:
    from itgen_chain.program import connect

    admin, donor, registrar = accounts[:3]
    token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 270 * DAY
    deploy(admin, Terms(token.address, donor.address, admin.address, end), force=True)
    program = connect()
    token.mint(program.escrow, max(1_000_000, allowance) * UNIT, sender=admin)
    program.escrow.setCourse(1, 450 * UNIT, 50 * UNIT, True, 0, sender=admin)
    program.escrow.setRegistrar(registrar, allowance * UNIT, end, 0, sender=admin)
    return program


def _batch(w3_escrow: Any, sender: str, payees: list[str]) -> int:
    salt = os.urandom(16)
    items = [
        Attestation(keccak(salt + bytes([n])), p, 1, Milestone.REGISTRATION).as_tuple()
        for n, p in enumerate(payees)
    ]
    tx = w3_escrow.functions.attestBatch(items).transact({"from": sender})
    return w3_escrow.w3.eth.wait_for_transaction_receipt(tx)["blockNumber"]


def thief(
    project: Any, chain: Any, accounts: list[Any], own_wallet: bool, **settings: Any
) -> dict[str, Any]:
    from web3.exceptions import ContractLogicError

    from itgen_chain.watch import Watch, WatchSettings

    program = _program(project, chain, accounts, 200_000)
    w3_escrow = chain.provider.web3.eth.contract(program.escrow.address, abi=program.payouts.abi)
    with tempfile.TemporaryDirectory() as folder:
        watch = Watch(
            program, Path(folder) / "w.json", [], accounts[0], settings=WatchSettings(**settings)
        )
        thief_wallet = to_checksum_address(os.urandom(20))
        paid, first, blocks = 0, None, 0
        warned: tuple[int, str] | None = None
        while blocks < 400:
            payees = [
                thief_wallet if own_wallet else to_checksum_address(os.urandom(20))
                for _ in range(10)
            ]
            try:
                block = _batch(w3_escrow, accounts[2].address, payees)
            except ContractLogicError:
                break
            paid += 10
            first = first if first is not None else block
            alerts = [a for a in watch.poll() if a.severity != "info"]
            if alerts and warned is None:
                warned = (paid, alerts[0].rule)
            blocks += 1
            if program.escrow.paused():
                break
        paused = chain.provider.web3.eth.block_number
    stopped = bool(program.escrow.paused())
    return {
        "settings": settings,
        "stopped_by": "the watch's pause" if stopped else "the key's allowance, not the watch",
        "students_paid_to_the_thief": paid,
        "tokens_lost": paid * 450,
        "blocks_from_first_payout_to_stop": paused - first,
        "seconds_on_bnb_chain": round((paused - first) * 0.45, 2),
        "first_alert": {"students_paid": warned[0], "rule": warned[1]} if warned else None,
    }


def latency(project: Any, chain: Any, accounts: list[Any], alerts: int = 40) -> dict[str, Any]:
    from itgen_chain.watch import Watch, WebhookSink

    program = _program(project, chain, accounts, 900_000)
    w3_escrow = chain.provider.web3.eth.contract(program.escrow.address, abi=program.payouts.abi)
    arrived: dict[str, float] = {}

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            arrived.setdefault(body["tx"], time.monotonic())
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as folder:
        # dry run: every alert is delivered, none pauses, so the batches keep coming
        watch = Watch(program, Path(folder) / "w.json", [WebhookSink(url, "k")], None, True)

        def loop() -> None:
            while not stop.is_set():
                watch.poll()
                time.sleep(0.25)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        mined: dict[str, float] = {}
        for _ in range(alerts):
            wallet = to_checksum_address(os.urandom(20))
            block = _batch(w3_escrow, accounts[2].address, [wallet, wallet])
            receipt_tx = chain.provider.web3.eth.get_block(block)["transactions"][0]
            mined["0x" + bytes(receipt_tx).hex().removeprefix("0x")] = time.monotonic()
            time.sleep(0.3)
        deadline = time.monotonic() + 20
        while len(arrived) < len(mined) and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        thread.join(timeout=5)
    server.shutdown()
    waits = sorted(arrived[tx] - at for tx, at in mined.items() if tx in arrived)
    return {
        "alerts": len(mined),
        "delivered": len(waits),
        "poll_interval_seconds": 0.25,
        "median_seconds": round(statistics.median(waits), 3) if waits else None,
        "p95_seconds": round(waits[int(0.95 * (len(waits) - 1))], 3) if waits else None,
    }


def honest_seed() -> dict[str, Any]:
    """The demo's seed program without its incident: 2,000 registrations (200 of them
    reserved behind claim links, 192 claimed), 1,877 completions, five registrars whose
    allowances together are the fund and are spent to within 1%; the watch beside it."""
    from devtools import demo

    with tempfile.TemporaryDirectory() as folder:
        result = demo.run(Path(folder), echo=lambda *_: None, incident=False)
    raised = result["alerts"]
    return {
        "registrations": demo.STUDENTS,
        "completions": demo.COMPLETIONS,
        "alerts": len(raised),
        "rules": sorted({a.rule for a in raised}),
    }


def measure(project: Any, chain: Any, accounts: list[Any]) -> dict[str, Any]:
    return {
        "thief_to_own_wallet": thief(project, chain, accounts, True),
        "thief_to_fresh_wallets": thief(project, chain, accounts, False),
        "thief_to_fresh_wallets_tight_rate": thief(
            project, chain, accounts, False, max_payouts=100, max_amount="45000"
        ),
        "alert_latency": latency(project, chain, accounts),
        "honest_seed_program": honest_seed(),
    }
