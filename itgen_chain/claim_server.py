"""`ape itgen claims serve`: the relayer as an HTTP service (aiohttp), for the claim page.

    POST /claims   {"studentId", "milestone", "payee", "deadline", "signature"}
                   -> 202 {"status": "accepted", "message", "amount"}
                   -> 400 {"status": "refused", "message"}   (the reason in words)
                   -> 429 when a client sends too many requests
    GET  /reservations/{studentId}/{milestone} -> {"course", "amount", "open", "message"}
    GET  /addresses/{address} -> {"contract": bool}   (the page warns of a contract payee)
    GET  /health   -> {"pending": N}

Claims are checked against the chain before they are accepted and journalled (relayer.py);
a thread submits the pending ones in batches every few seconds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict, deque
from typing import Any

from aiohttp import web

from itgen_chain.console import Echo, quiet
from itgen_chain.relayer import ClaimDesk, payee_is_contract
from itgen_chain.reservations import Claim

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}


class Limiter:
    """At most `limit` requests per client address in any `window` seconds."""

    def __init__(self, limit: int = 20, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        times = self.seen[client]
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


def make_app(desk: ClaimDesk, limiter: Limiter) -> web.Application:
    async def claim(request: web.Request) -> web.Response:
        if not limiter.allow(request.remote or "?"):
            return _answer(429, "refused", "Too many requests: wait a minute and try again.")
        try:
            body = await request.json()
            item = Claim.from_json(body)
        except ValueError as error:
            return _answer(400, "refused", f"The claim could not be read: {error}.")
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(None, desk.accept, item)
        return web.json_response(
            answer.as_json(), status=202 if answer.accepted else 400, headers=CORS
        )

    async def options(_: web.Request) -> web.Response:
        return web.Response(headers=CORS)

    async def reservation(request: web.Request) -> web.Response:
        try:
            student = bytes.fromhex(request.match_info["student"].removeprefix("0x"))
            milestone = int(request.match_info["milestone"])
        except ValueError:
            return _answer(400, "refused", "Not a student id and milestone.")
        loop = asyncio.get_running_loop()
        facts = await loop.run_in_executor(None, desk.reservation, student, milestone)
        return web.json_response(facts, headers=CORS)

    async def address(request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        try:
            contract = await loop.run_in_executor(
                None, payee_is_contract, desk.web3, request.match_info["address"]
            )
        except ValueError:
            return _answer(400, "refused", "Not an address.")
        return web.json_response({"contract": contract}, headers=CORS)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"pending": len(desk.pending)}, headers=CORS)

    app = web.Application(client_max_size=16 * 1024)
    app.router.add_post("/claims", claim)
    app.router.add_route("OPTIONS", "/claims", options)
    app.router.add_get("/health", health)
    app.router.add_get("/reservations/{student}/{milestone}", reservation)
    app.router.add_get("/addresses/{address}", address)
    return app


def _answer(status: int, word: str, message: str) -> web.Response:
    return web.json_response({"status": word, "message": message}, status=status, headers=CORS)


def serve(
    desk: ClaimDesk,
    account: Any,
    host: str,
    port: int,
    interval: float = 5.0,
    limiter: Limiter | None = None,
    echo: Echo = quiet,
) -> None:
    """Serves until interrupted; pending claims are submitted every `interval` seconds."""
    stop = threading.Event()

    def submitter() -> None:
        while not stop.wait(interval):
            if desk.pending:
                try:
                    desk.submit(account, echo)
                except Exception as error:  # noqa: BLE001 - kept pending, tried again
                    echo(f"submitting failed, will retry: {str(error).splitlines()[0]}")

    thread = threading.Thread(target=submitter, daemon=True)
    thread.start()
    if desk.pending:
        echo(f"{len(desk.pending)} accepted claim(s) from the journal wait to be paid")

    async def main() -> None:
        runner = web.AppRunner(make_app(desk, limiter or Limiter()))
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        # Said once the port is bound: whoever waits for this line can connect.
        echo(f"relayer on http://{host}:{port}/claims (journal {desk.journal})")
        await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        echo("relayer stopped")
    finally:
        stop.set()
        thread.join(timeout=interval + 1)
