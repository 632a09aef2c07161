"""Retries for a node behind a provider's limits, in one place that every command uses.

A provider says "slow down" in many shapes: HTTP 429, JSON-RPC -32005 "limit exceeded" or
-32029, "rate limit" in the message; it drops or resets connections, and web3 reports a
dropped connection on some routes as CannotHandleRequest. Those are retried with
exponential backoff, within `retries`. A "range too large" or "more than N results" error
is not a rate limit: it is never retried here (the indexer narrows its range instead).
Anything else is not retried at all.

`install(retries)` wraps ape's own JSON-RPC entry point (``Web3Provider.make_request``), so
the calls ape makes while it connects are covered too; the indexer's raw calls go through
`Retrier.call`.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from itgen_chain.exceptions import RateLimited, RetriesSpent

# Tries again of a refused or dropped JSON-RPC call: the one definition of the default.
DEFAULT_RETRIES = 6

T = TypeVar("T")

RATE = "rate"
RANGE = "range"
DROPPED = "dropped"

# Words of a range or result-size refusal: -32005 from Infura-style providers, BNB Chain
# providers' "exceed maximum block range: 5000", Alchemy's "Log response size exceeded".
_RANGE_WORDS = re.compile(
    r"block range|range (is )?too (large|wide|big)|exceed(s|ed)? (the )?max(imum)? block range"
    r"|more than \d+ (results|logs|blocks)|too many (results|logs|blocks)|query returned more"
    r"|response size|payload too large|max(imum)? (block )?range",
    re.IGNORECASE,
)
_RATE_WORDS = re.compile(
    r"\b429\b|too many requests|rate.?limit|-32029|-32005|limit exceeded|capacity|throttl"
    r"|request limit|credits",
    re.IGNORECASE,
)
_DROPPED_WORDS = re.compile(
    r"connection (aborted|reset|refused|closed)|remote end closed|remotedisconnected"
    r"|broken pipe|timed? ?out|cannot connect|could not connect|cannothandlerequest"
    r"|max retries exceeded|eof occurred|incomplete ?read|chunked",
    re.IGNORECASE,
)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify_text(text: str) -> str | None:
    """RANGE or RATE for a provider's refusal message (its words, never a type's name)."""
    if _RANGE_WORDS.search(text):
        return RANGE
    if _RATE_WORDS.search(text):
        return RATE
    return None


def classify(error: BaseException) -> str | None:
    """RATE, RANGE, DROPPED, or None for an error that is not the provider's limits (a
    revert, a refused transaction, anything else)."""
    import requests
    from ape.exceptions import VirtualMachineError

    if isinstance(error, VirtualMachineError):  # the node answered: a revert or a refusal
        return None
    errors = _chain(error)
    messages = " | ".join(str(e) for e in errors)
    if kind := classify_text(messages):
        return kind
    if any(
        isinstance(e, requests.ConnectionError | requests.Timeout | ConnectionError) for e in errors
    ):
        return DROPPED
    names = " ".join(type(e).__name__ for e in errors)
    if _DROPPED_WORDS.search(f"{messages} {names}"):
        return DROPPED
    return None


@dataclass
class Retrier:
    """Backoff within `retries` on rate limits and dropped connections."""

    retries: int = DEFAULT_RETRIES
    backoff: float = 0.5
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    waited: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: {RATE: 0, DROPPED: 0})

    def call(
        self,
        what: str,
        function: Callable[..., T],
        *args: Any,
        resend: bool = True,
        final: Callable[[BaseException], bool] | None = None,
    ) -> T:
        """`function(*args)`, retried on rate limits, and on dropped connections when
        `resend` (not for a transaction broadcast: it may have arrived; the journal and the
        escrow's paid checks settle that); never an error that `final` says is the answer."""
        delay = self.backoff
        started = time.monotonic()
        for attempt in range(self.retries + 1):
            try:
                return function(*args)
            except Exception as error:  # providers raise many shapes of error
                kind = classify(error)
                if kind != RATE and not (kind == DROPPED and resend):
                    raise
                if final is not None and final(error):
                    raise
                self.counts[kind] += 1  # every refusal the provider sent, the last one too
                if attempt == self.retries:
                    raise RetriesSpent(
                        what, attempt + 1, time.monotonic() - started, error
                    ) from None
                pause = min(delay, self.max_backoff) * (0.5 + random.random() / 2)
                self.waited += pause
                self.sleep(pause)
                delay *= 2
        raise AssertionError("unreachable")


class RateLimiter:
    """At most `rate` calls a second, in any window: a call waits until the last window holds
    room for it. Providers count by token buckets or by sliding windows; a sliding window is
    the stricter, and a client that keeps to it keeps to both. The window is 5% longer than
    the rate says, so that a call that travels a little faster than the one before it is
    never the provider's one too many."""

    def __init__(self, rate: float) -> None:
        import threading
        from collections import deque

        self.rate = rate
        self.cap = max(1, int(rate))  # calls in a window, and the largest batch
        self.window = self.cap / rate * 1.05
        self.sent: deque[float] = deque()
        self.lock = threading.Lock()

    def take(self, count: int = 1) -> None:
        """Waits until `count` calls (at most `cap`) may go now, and counts them sent."""
        count = min(count, self.cap)
        while True:
            with self.lock:
                now = time.monotonic()
                while self.sent and now - self.sent[0] >= self.window:
                    self.sent.popleft()
                if len(self.sent) + count <= self.cap:
                    self.sent.extend([now] * count)
                    return
                wait = self.window - (now - self.sent[len(self.sent) + count - self.cap - 1])
            time.sleep(max(wait, 0.001))


_installed: dict[str, Any] = {}


def install(retries: int = DEFAULT_RETRIES, backoff: float = 0.5, rps: float = 0) -> None:
    """Retries every JSON-RPC call made over HTTP in this process (web3's HTTPProvider, which
    ape's providers use, connecting included) on rate limits and dropped connections, and
    with `rps` sends at most that many calls a second, every attempt counted (a batch's
    calls each); a later call sets other numbers."""
    from web3.providers.rpc import HTTPProvider

    _installed["retrier"] = Retrier(retries=retries, backoff=backoff)
    _installed["limiter"] = RateLimiter(rps) if rps else None
    if "single" in _installed:
        return
    single, batch = HTTPProvider.make_request, HTTPProvider.make_batch_request
    _installed["single"], _installed["batch"] = single, batch

    def make_request(self: Any, method: str, params: Any) -> Any:
        # Retries in one place: web3's own retry (5 tries of each HTTP error, under ours)
        # would multiply every refusal and hide it from the counts.
        self.exception_retry_configuration = None

        def once() -> Any:
            if limiter := _installed.get("limiter"):
                limiter.take()
            response = single(self, method, params)
            error = response.get("error") if isinstance(response, dict) else None
            if isinstance(error, dict):
                text = f"{error.get('code')}: {error.get('message')}"
                if classify_text(text) == RATE:  # a revert or a range refusal is returned
                    raise RateLimited(text)
            return response

        resend = method not in ("eth_sendRawTransaction", "eth_sendTransaction")
        # web3_clientVersion is the "is a node there?" probe, which ape repeats itself while
        # an anvil it started boots: nothing listening is its answer, not a dropped call.
        final = nothing_listens if method == "web3_clientVersion" else None
        return _installed["retrier"].call(method, once, resend=resend, final=final)

    def make_batch_request(self: Any, requests: Any) -> Any:
        self.exception_retry_configuration = None

        def once() -> Any:
            if limiter := _installed.get("limiter"):
                limiter.take(len(requests))
            return batch(self, requests)

        return _installed["retrier"].call("a batch of calls", once)

    HTTPProvider.make_request = make_request  # type: ignore[method-assign]
    HTTPProvider.make_batch_request = make_batch_request  # type: ignore[method-assign,assignment]


def nothing_listens(error: BaseException) -> bool:
    """Whether `error` is a refused connection: no node at that address (yet)."""
    return any(
        isinstance(seen, ConnectionRefusedError) or "Connection refused" in str(seen)
        for seen in _chain(error)
    )


def is_connection_error(error: BaseException) -> bool:
    """Whether `error`, or any error it came from, is a lost connection to the node (not an
    answer of the node's)."""
    import requests
    from ape.exceptions import ProviderNotConnectedError

    lost = requests.ConnectionError | ProviderNotConnectedError | ConnectionError
    return any(isinstance(seen, lost) for seen in _chain(error))


def current() -> Retrier | None:
    """The retrier installed for HTTP calls, if any (its counts say what was retried)."""
    return _installed.get("retrier")


def installed_limiter() -> RateLimiter | None:
    """The rate limit installed for HTTP calls, if any."""
    return _installed.get("limiter")
