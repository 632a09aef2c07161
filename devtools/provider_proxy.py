"""A loopback JSON-RPC proxy in front of a node that behaves like a public provider.

- ``max_range``: ``eth_getLogs`` over more blocks is refused with -32005 "exceed maximum
  block range: N" (BNB Chain providers' cap is 5,000), or with ``name_limit=False`` with
  "block range too large", which does not say the limit (most providers);
- ``rps``: requests per second allowed, each call of a JSON-RPC batch counted; by a token
  bucket, or with ``rate_rule="window"`` by a sliding window (at most ``rps`` calls within
  any second, the rule of many providers, stricter than a bucket); beyond, HTTP 429 or, with
  ``rate_error="json"``, a JSON-RPC -32005 "limit exceeded" (how several providers say it);
- ``per_block``: seconds an ``eth_getLogs`` costs per block of its range (a node reads each
  block's bloom filter), on top of ``latency``;
- ``timestamps=False``: logs without ``blockTimestamp`` (most BSC providers);
- ``drop_every``: every Nth request has its connection closed without an answer;
- ``latency``: seconds added to each request (a provider's round trip);
- ``history``: state (code, balance, calls, storage, nonces) kept only for the newest
  ``history`` blocks, as a node that is not an archive node: older state is refused with
  -32000 "missing trie node";
- ``spread``: block numbers multiplied by this factor, so that a short anvil chain looks
  like a long one (block k of the node is block k * spread; the blocks in between are empty,
  with deterministic hashes); anvil mines empty blocks too slowly to build 5 million.

Used by the tests (faults) and by `make bench` (a BNB Chain endpoint's limits).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from eth_utils import keccak

TAGS = ("latest", "pending", "safe", "finalized", "earliest")
BLOCK_ARGUMENT = {  # method: index of its block parameter
    "eth_getCode": 1,
    "eth_getBalance": 1,
    "eth_call": 1,
    "eth_getStorageAt": 2,
    "eth_getTransactionCount": 1,
}


class ProviderProxy:
    def __init__(
        self,
        upstream: str,
        *,
        max_range: int | None = None,
        rps: float | None = None,
        rate_error: str = "http",
        drop_every: int = 0,
        latency: float = 0.0,
        spread: int = 1,
        history: int | None = None,
        name_limit: bool = True,
        rate_rule: str = "bucket",
        per_block: float = 0.0,
        timestamps: bool = True,
    ) -> None:
        self.upstream = upstream
        self.max_range, self.rps, self.rate_error = max_range, rps, rate_error
        self.drop_every, self.latency, self.spread = drop_every, latency, spread
        self.history = history
        self.name_limit, self.rate_rule = name_limit, rate_rule
        self.per_block, self.timestamps = per_block, timestamps
        self._arrivals: list[float] = []
        self.stats = {"requests": 0, "rate_limited": 0, "range_refused": 0, "dropped": 0}
        self.stats["get_logs"] = 0
        self.stats["history_refused"] = 0
        self.stats["calls"] = 0  # JSON-RPC calls, each of a batch counted
        self._lock = threading.Lock()
        self._tokens = rps or 0.0
        self._refilled = time.monotonic()
        self._session = threading.local()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ProviderProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ limits

    def _admit(self, count: int) -> bool:
        """Takes `count` tokens from the bucket (capacity one second of requests), or with
        the window rule admits `count` calls only if the last second holds room for them."""
        if not self.rps:
            return True
        if self.rate_rule == "window":
            with self._lock:
                now = time.monotonic()
                self._arrivals = [t for t in self._arrivals if now - t < 1.0]
                if len(self._arrivals) + count > self.rps:
                    return False
                self._arrivals += [now] * count
                return True
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.rps, self._tokens + (now - self._refilled) * self.rps)
            self._refilled = now
            if self._tokens >= count:
                self._tokens -= count
                return True
            return False

    def _count(self) -> int:
        with self._lock:
            self.stats["requests"] += 1
            return self.stats["requests"]

    # ------------------------------------------------------------------ forwarding

    def _post(self, payload: Any) -> Any:
        session = getattr(self._session, "value", None)
        if session is None:
            session = self._session.value = requests.Session()
        return session.post(self.upstream, json=payload, timeout=60).json()

    def _virtual(self, number_hex: str) -> str:
        return hex(int(number_hex, 16) * self.spread)

    def _real_block(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("0x"):
            return hex(int(value, 16) // self.spread)
        return value

    def _answer_one(self, request: dict) -> dict:
        method, params, rid = (
            request.get("method"),
            list(request.get("params") or []),
            request.get("id"),
        )
        if self.history is not None and self._too_old(method, params):
            with self._lock:
                self.stats["history_refused"] += 1
            message = "missing trie node 5f3b1e8c... (path ) state is not available"
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": message}}
        if method == "eth_getLogs":
            self.stats["get_logs"] += 1
            query = dict(params[0])
            start, end = (query.get("fromBlock"), query.get("toBlock"))
            numbers = isinstance(start, str) and isinstance(end, str)
            if self.max_range and numbers and start.startswith("0x") and end.startswith("0x"):
                span = int(end, 16) - int(start, 16) + 1
                if span > self.max_range:
                    self.stats["range_refused"] += 1
                    message = (
                        f"exceed maximum block range: {self.max_range}"
                        if self.name_limit
                        else "block range too large"
                    )
                    error = {"code": -32005, "message": message}
                    return {"jsonrpc": "2.0", "id": rid, "error": error}
                if self.per_block:
                    time.sleep(span * self.per_block)
            if self.spread > 1:
                if isinstance(start, str) and start.startswith("0x"):
                    query["fromBlock"] = hex(-(-int(start, 16) // self.spread))
                if isinstance(end, str) and end.startswith("0x"):
                    query["toBlock"] = hex(int(end, 16) // self.spread)
                if int(query.get("fromBlock", "0x0"), 16) > int(query.get("toBlock", "0x0"), 16):
                    return {"jsonrpc": "2.0", "id": rid, "result": []}
            answer = self._post({**request, "params": [query]})
            for log in answer.get("result") or []:
                log["blockNumber"] = self._virtual(log["blockNumber"])
                if not self.timestamps:
                    log.pop("blockTimestamp", None)
            return answer
        if self.spread > 1:
            if method == "eth_blockNumber":
                answer = self._post(request)
                answer["result"] = self._virtual(answer["result"])
                return answer
            if method == "eth_getBlockByNumber":
                return self._block(request, params)
            if method in BLOCK_ARGUMENT and len(params) > BLOCK_ARGUMENT[method]:
                index = BLOCK_ARGUMENT[method]
                params[index] = self._real_block(params[index])
                return self._post({**request, "params": params})
            if method == "eth_getTransactionReceipt":
                answer = self._post(request)
                if answer.get("result"):
                    answer["result"]["blockNumber"] = self._virtual(answer["result"]["blockNumber"])
                return answer
        return self._post(request)

    def _too_old(self, method: Any, params: list) -> bool:
        """A state query at a block older than the newest `history` ones."""
        index = BLOCK_ARGUMENT.get(method)
        if index is None or len(params) <= index:
            return False
        block = params[index]
        if isinstance(block, dict):  # EIP-1898: {"blockNumber": ...} or {"blockHash": ...}
            block = block.get("blockNumber", "latest")
        if not (isinstance(block, str) and block.startswith("0x")):
            return False
        head = int(
            self._post({"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber"})["result"], 16
        )
        return int(block, 16) // self.spread < head - self.history

    def _block(self, request: dict, params: list) -> dict:
        tag = params[0]
        if isinstance(tag, str) and tag in TAGS:
            answer = self._post(request)
            if answer.get("result"):
                answer["result"]["number"] = self._virtual(answer["result"]["number"])
            return answer
        number = int(tag, 16)
        real, offset = divmod(number, self.spread)
        answer = self._post({**request, "params": [hex(real), *params[1:]]})
        block = answer.get("result")
        if block is None:
            return answer
        if offset:  # an empty block between two of the node's: deterministic hash
            block = {
                **block,
                "hash": "0x" + keccak(b"virtual block" + number.to_bytes(8, "big")).hex(),
                "transactions": [],
                "timestamp": hex(int(block["timestamp"], 16) + offset),
            }
        block["number"] = hex(number)
        return {**answer, "result": block}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                number = proxy._count()
                if proxy.latency:
                    time.sleep(proxy.latency)
                if proxy.drop_every and number % proxy.drop_every == 0:
                    with proxy._lock:
                        proxy.stats["dropped"] += 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                payload = json.loads(body)
                calls = len(payload) if isinstance(payload, list) else 1
                with proxy._lock:
                    proxy.stats["calls"] += calls
                if not proxy._admit(calls):
                    with proxy._lock:
                        proxy.stats["rate_limited"] += 1
                    if proxy.rate_error == "json":
                        error = {"code": -32005, "message": "limit exceeded"}
                        answer: Any = {"jsonrpc": "2.0", "id": None, "error": error}
                        if isinstance(payload, dict):
                            answer["id"] = payload.get("id")
                        self._send(200, json.dumps(answer).encode())
                    else:
                        self._send(429, b'{"error": "Too Many Requests"}')
                    return
                if isinstance(payload, list):
                    answer = [proxy._answer_one(item) for item in payload]
                else:
                    answer = proxy._answer_one(payload)
                self._send(200, json.dumps(answer).encode())

        return Handler
