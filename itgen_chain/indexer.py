"""Every escrow event, and the token's transfers into or out of the escrow that no escrow
event accounts for, in SQLite or PostgreSQL (store.py).

- One request a range: the escrow's own events carry every amount that enters through
  ``fund`` and every amount that leaves. After each run, the escrow's balance at the indexed
  block (one ``eth_call`` a program, a block a normal node still has) is compared with what
  the events say; only when they differ are the token's transfers scanned, from where the
  last scan ended and only until the transfers without an escrow event explain the
  difference. Those are kept like events, and the books list them.

- Incremental: fetched ranges are written in block order, in one transaction together with the
  checkpoint, so a run stopped at any point loses nothing and duplicates nothing.
- Confirmation depth: only blocks at least ``confirmations`` below the head are indexed.
- Real RPC limits: ``eth_getLogs`` ranges are capped (``max_range``); a "range too large"
  or "too many results" error halves the range; a rate limit (429, -32005 "limit
  exceeded", -32029) or a dropped connection backs off without splitting (retrying.py).
  An endpoint that refuses ``eth_getLogs`` is reported as such.
- Reorgs: the hash of every block that had a log and of every checkpoint is kept; when a
  kept hash no longer matches the chain, everything after the fork point is rolled back
  and indexed again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic

from itgen_chain.exceptions import IndexerError, IndexerRPCError, RetriesSpent
from itgen_chain.retrying import (
    DEFAULT_RETRIES,
    RANGE,
    RateLimiter,
    Retrier,
    classify,
    installed_limiter,
)
from itgen_chain.store import Store

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
# Upserts that SQLite (3.24+) and PostgreSQL both run.
UPSERT_EVENT = (
    "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (block_number, log_index) DO "
    "UPDATE SET tx_hash = excluded.tx_hash, contract = excluded.contract, "
    "event = excluded.event, args = excluded.args"
)
UPSERT_BLOCK = (
    "INSERT INTO blocks VALUES (?, ?, ?) ON CONFLICT (number) DO UPDATE SET "
    "hash = excluded.hash, timestamp = excluded.timestamp"
)
# Fetched ranges are written together, up to this many or this often (each write asks for
# its checkpoint's header: a call on the provider's rate, so not too often).
WRITE_RANGES = 256
WRITE_SECONDS = 10.0
REFUSED_ERRORS = (
    "-32601",
    "method not found",
    "not supported",
    "not available",
    "unsupported method",
)


# Block headers asked for in one JSON-RPC batch (logs without blockTimestamp).
HEADER_BATCH = 100


@dataclass
class IndexerSettings:
    """How the indexer talks to the node."""

    max_range: int = 5_000
    """The ``eth_getLogs`` block range asked for first (BNB Chain providers cap at 5,000)."""
    grow_to: int = 0
    """With a value above max_range, ranges double while the provider accepts them, up to
    this; a refusal shrinks them to the size the provider names, or halves them, and they
    never grow past a size refused before. 0: ranges stay at max_range."""
    min_range: int = 1
    """Below this, a "range too large" error is final."""
    workers: int = 1
    """Ranges in flight at once (each its own connection); results are written in order."""
    rps: float = 0.0
    """Requests per second at most (in any window, shared by the workers; a JSON-RPC batch
    counts each of its calls); 0: no limit."""
    confirmations: int = 0
    """Blocks below the head that are not yet indexed (15 is a safe choice on BNB Chain);
    with `finalized`, the depth used when the node does not answer for its finalized block."""
    finalized: bool = False
    """Index up to the node's ``finalized`` block (BNB Chain's fast finality) when it answers
    for it, instead of a fixed depth."""
    retries: int = DEFAULT_RETRIES
    """Tries per request on rate limits, with exponential backoff."""
    backoff: float = 0.5
    """The first backoff, in seconds; doubled on each retry."""


class EventDecoder:
    """Decodes raw logs of the escrow's ABI and the token's Transfer, without web3's overhead.

    Addresses are kept lowercase (the audit writes them checksummed); integers as decimal
    strings (SQLite integers stop at 2**63, token amounts do not).
    """

    def __init__(self, escrow_abi: list[dict[str, Any]]) -> None:
        self.by_topic: dict[str, tuple[str, str, list, list, bool]] = {}
        for entry in escrow_abi:
            if entry.get("type") != "event" or entry.get("anonymous"):
                continue
            topic = "0x" + event_abi_to_log_topic(entry).hex()  # type: ignore[arg-type]
            indexed = [
                (i["name"], _converter(i["type"])) for i in entry["inputs"] if i.get("indexed")
            ]
            plain = [(i["name"], i["type"]) for i in entry["inputs"] if not i.get("indexed")]
            static = all(_is_static(kind) for _, kind in plain)
            if static:
                plain = [(name, _converter(kind)) for name, kind in plain]
            # Static events are written straight into a JSON template: their values are hex
            # and decimal digits, which need no escaping.
            names = [name for name, _ in indexed] + [name for name, _ in plain]
            template = "{" + ",".join(f'"{name}":%s' for name in names) + "}"
            self.by_topic[topic] = (entry["name"], template, indexed, plain, static)

    def decode(self, log: dict[str, Any], escrows: Container[str]) -> tuple[str, str] | None:
        """The event's name and its arguments as JSON, or None for a log of no interest
        (`escrows`: the indexed escrows' lowercase addresses)."""
        topics = log["topics"]
        if log["address"].lower() not in escrows:
            if topics[0] != TRANSFER_TOPIC or len(topics) != 3:
                return None
            return "Transfer", TRANSFER_TEMPLATE % (
                topics[1][-40:],
                topics[2][-40:],
                int(log["data"], 16),
            )
        known = self.by_topic.get(topics[0])
        if known is None:
            return None
        name, template, indexed, plain, static = known
        values = [convert(topic) for (_, convert), topic in zip(indexed, topics[1:], strict=False)]
        data = log["data"]
        if static:
            values += [
                convert(data[2 + 64 * n : 66 + 64 * n]) for n, (_, convert) in enumerate(plain)
            ]
            return name, template % tuple(values)
        args = {
            field: json.loads(value) for (field, _), value in zip(indexed, values, strict=False)
        }
        decoded = abi_decode([kind for _, kind in plain], bytes.fromhex(data[2:]))
        for (field, kind), value in zip(plain, decoded, strict=True):
            args[field] = _plain(kind, value)
        return name, json.dumps(args)


TRANSFER_TEMPLATE = '{"from":"0x%s","to":"0x%s","value":"%d"}'


def _is_static(kind: str) -> bool:
    if kind in ("address", "bool"):
        return True
    return kind.startswith(("uint", "int", "bytes")) and kind != "bytes" and "[" not in kind


def _converter(kind: str) -> Callable[[str], str]:
    """One 32-byte ABI word (hex digits, with or without 0x) of a static type, as JSON."""
    if kind == "address":
        return lambda word: '"0x' + word[-40:].lower() + '"'
    if kind == "bool":
        return lambda word: "true" if int(word, 16) else "false"
    if kind.startswith("uint"):
        return lambda word: f'"{int(word, 16)}"'
    if kind.startswith("int"):
        return lambda word: f'"{_signed(int(word, 16))}"'
    return lambda word: '"0x' + word[-64:].lower() + '"'


def _signed(value: int) -> int:
    return value - (1 << 256) if value >= 1 << 255 else value


def _plain(kind: str, value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    return value


class Indexer:
    def __init__(
        self,
        database: Path | str,
        request: Callable[[str, list], Any],
        escrow: str | Sequence[str],
        token: str | Sequence[str],
        escrow_abi: list[dict[str, Any]],
        start_block: int,
        settings: IndexerSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.request = request
        # One escrow, or every program of a charity in one pass (one filter, one database).
        escrow_list = [escrow] if isinstance(escrow, str) else list(escrow)
        token_list = [token] if isinstance(token, str) else list(token)
        if len(token_list) == 1:
            token_list *= len(escrow_list)
        token_of = {e.lower(): t.lower() for e, t in zip(escrow_list, token_list, strict=True)}
        self.escrows = sorted(token_of)
        self.tokens = sorted(set(token_of.values()))
        self.escrow, self.token = ",".join(self.escrows), ",".join(self.tokens)
        self.decoder = EventDecoder(escrow_abi)
        self.settings = settings or IndexerSettings()
        self.sleep = sleep
        self.database = database
        self.token_of = token_of
        self.db = Store(database)
        self._meta_default("escrow", self.escrow)
        self._meta_default("token", self.token)
        with self.db.transaction():  # each program's escrow and its token, as rows
            for one, its_token in token_of.items():
                self.db.execute(
                    "INSERT INTO programs VALUES (?, ?) ON CONFLICT (escrow) DO NOTHING",
                    (one, its_token),
                )
        self.start_block = start_block
        self._meta_default("checkpoint", str(start_block - 1))
        if self.meta("escrow") != self.escrow:
            raise IndexerError(
                f"{self.db} indexes escrow(s) {self.meta('escrow')}, not {self.escrow}: one "
                "database holds the escrows it was made for"
            )
        self.rollbacks = 0
        self.finality = ""
        # After a run: per escrow whose balance differed from its events, by how much (the
        # stray transfers looked for), and how many transfers were kept.
        self.off: dict[str, int] = {}
        self.strays_kept = 0
        self.retrier = Retrier(
            self.settings.retries, self.settings.backoff, sleep=lambda seconds: self.sleep(seconds)
        )
        self.limiter = RateLimiter(self.settings.rps) if self.settings.rps else None
        self.planner: RangePlanner | None = None
        # JSON-RPC batches (a list of (method, params) -> a list of results), where the
        # provider takes them: block headers for logs without blockTimestamp.
        self.batch: Callable[[list[tuple[str, list]]], list[Any]] | None = None
        # Names the provider (its host) for the range limit remembered across runs.
        self.provider_key = ""

    # ------------------------------------------------------------------ state

    def _meta_default(self, key: str, value: str) -> None:
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value)
            )

    def meta(self, key: str) -> str:
        found = self.db.one("SELECT value FROM meta WHERE key = ?", (key,))
        if found is None:
            raise IndexerError(f"{self.db} has no {key!r} in its meta: not an index database")
        return found[0]

    @property
    def checkpoint(self) -> int:
        return int(self.meta("checkpoint"))

    def count(self) -> int:
        return self.db.all("SELECT count(*) FROM events")[0][0]

    # ------------------------------------------------------------------ RPC

    def call(self, method: str, params: list) -> Any:
        """One JSON-RPC call, retried on rate limits and dropped connections (retrying.py);
        a range refusal is left to get_logs."""
        if self.limiter is not None:
            self.limiter.take()
        return self.retrier.call(method, self.request, method, params)

    def _get_logs(self, start: int, end: int) -> list[dict[str, Any]]:
        """One request a range, however many programs: the escrows' own events."""
        addresses = self.escrows if len(self.escrows) > 1 else self.escrows[0]
        span = {"fromBlock": hex(start), "toBlock": hex(end)}
        return self.call("eth_getLogs", [{**span, "address": addresses}])

    def _transfer_logs(self, start: int, end: int, inward: bool, outward: bool) -> list[dict]:
        """The token's transfers into (and out of) the escrows in a range: asked only when
        the balance differs from the events (stray transfers)."""
        padded = ["0x" + e[2:].rjust(64, "0") for e in self.escrows]
        escrows = padded if len(padded) > 1 else padded[0]
        tokens = self.tokens if len(self.tokens) > 1 else self.tokens[0]
        span = {"fromBlock": hex(start), "toBlock": hex(end), "address": tokens}
        logs = []
        if inward:
            logs += self.call("eth_getLogs", [{**span, "topics": [TRANSFER_TOPIC, None, escrows]}])
        if outward:
            logs += self.call("eth_getLogs", [{**span, "topics": [TRANSFER_TOPIC, escrows]}])
        return logs

    def block(self, number: int) -> dict[str, Any]:
        return self.call("eth_getBlockByNumber", [hex(number), False])

    # ------------------------------------------------------------------ indexing

    def run(self, progress: Callable[[int, int], None] = lambda done, total: None) -> int:
        """Indexes up to the target block (finalized, or a depth below the head); returns
        the events added. Ranges are fetched `workers` at a time within `rps`, sized by a
        RangePlanner, and written in block order, each write one SQLite transaction with
        its checkpoint."""
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        self.check_reorg()
        head, self.finality = self.target()
        with self.db.transaction():  # what the books count up to, for the audit to say
            self.db.execute(
                "INSERT INTO meta VALUES ('finality', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (self.finality,),
            )
        first = self.checkpoint + 1
        total = max(head - first + 1, 0)
        planner = RangePlanner(
            self.settings.max_range, self.settings.grow_to, self.settings.min_range
        )
        remembered = self._remembered_limit()
        if remembered:  # this provider's unstated limit, found on an earlier run
            planner.ceiling = min(planner.ceiling, remembered)
            planner.size = max(min(planner.size, remembered), planner.floor)
        self.planner = planner
        pending: list[tuple[int, int]] = []  # refused ranges to ask again, smaller
        fetched: dict[int, tuple[int, list[dict[str, Any]]]] = {}
        next_start, cursor, added = first, first, 0
        running: dict[Any, tuple[int, int]] = {}
        ready: list[tuple[int, int, list[dict[str, Any]]]] = []
        written_at = time.monotonic()
        with ThreadPoolExecutor(max(self.settings.workers, 1)) as pool:
            while cursor <= head:
                while len(running) < max(self.settings.workers, 1) and (
                    pending or next_start <= head
                ):
                    if pending:
                        start, end = pending.pop(0)
                    else:
                        start = next_start
                        end = min(start + planner.size - 1, head)
                        next_start = end + 1
                    running[pool.submit(self._fetch, start, end)] = (start, end)
                if not running:
                    raise AssertionError(f"indexer stalled at block {cursor}")
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    start, end = running.pop(future)
                    try:
                        fetched[start] = (end, future.result())
                        planner.accepted(end - start + 1)
                    except Exception as error:
                        if end == start or classify(error) != RANGE:
                            self._raise_fetch_error(error)
                        size = planner.refused(end - start + 1, str(error))
                        pieces = [(s, min(s + size - 1, end)) for s in range(start, end + 1, size)]
                        pending = sorted(pending + pieces)
                while cursor in fetched:
                    end, logs = fetched.pop(cursor)
                    ready.append((cursor, end, logs))
                    cursor = end + 1
                # Written in block order, a few ranges a transaction (one block lookup for
                # the checkpoint's hash each), at least every WRITE_SECONDS.
                due = time.monotonic() - written_at >= WRITE_SECONDS
                if ready and (cursor > head or len(ready) >= WRITE_RANGES or due):
                    added += self._write(ready)
                    ready, written_at = [], time.monotonic()
                    progress(cursor - first, total)
        self._remember_limit(planner)
        return added + self.find_strays(head)

    # ------------------------------------------------------------------ stray transfers

    def find_strays(self, target: int) -> int:
        """Compares each escrow's balance at `target` with what the index says it holds; when
        they differ, scans the token's transfers from where the last scan ended, a range at
        a time, until the transfers without an escrow event in their transaction explain the
        difference, and keeps them. Returns the transfers kept."""
        from itgen_chain import books

        off, matched = {}, {}
        for escrow, token in self.token_of.items():
            events = books.load_events(self.database, escrow, books.MONEY_EVENTS)[0]
            t = books.tally(events, escrow, payouts=False)
            actual = self.balance_of(token, escrow, target)
            if actual != t.balance:
                off[escrow] = actual - t.balance
                matched[escrow] = (t.funded_by_tx, t.paid_out_by_tx)
        scanned = int(self._meta_or("transfers_scanned", str(self.start_block - 1)))
        self.off, self.strays_kept = off, 0
        if not off:
            return 0
        # From where the last scan ended; when that does not explain it (an event lost from
        # the index), the ranges scanned before too, skipping the transfers already kept.
        kept_before = {
            (row[0], row[1]) for row in self.db.all(
                "SELECT block_number, log_index FROM events WHERE event = 'Transfer'"
            )
        }  # fmt: skip
        explained = dict.fromkeys(off, 0)
        kept = 0
        for first, last in ((scanned + 1, target), (self.start_block, min(scanned, target))):
            kept += self._scan_transfers(first, last, off, explained, matched, kept_before)
        self.strays_kept = kept
        return kept

    def _scan_transfers(
        self,
        first: int,
        last: int,
        off: dict[str, int],
        explained: dict[str, int],
        matched: dict[str, tuple[dict[str, int], dict[str, int]]],
        kept_before: set[tuple[int, int]],
    ) -> int:
        """Scans blocks first..last for the token's transfers until those without their
        escrow event explain `off` (per escrow, the balance read minus the events'); keeps
        them, and moves the scan's checkpoint. Returns the transfers kept."""
        inward, outward = any(v > 0 for v in off.values()), any(v < 0 for v in off.values())
        planner = self.planner or RangePlanner(self.settings.max_range)
        cursor, kept = first, 0
        while cursor <= last and explained != off:
            end = min(cursor + planner.size - 1, last)
            try:
                found = self._transfer_logs(cursor, end, inward, outward)
            except Exception as error:
                if end == cursor or classify(error) != RANGE:
                    self._raise_fetch_error(error)
                planner.refused(end - cursor + 1, str(error))
                continue
            logs = [
                log for log in found
                if not log.get("removed")
                and (int(log["blockNumber"], 16), int(log["logIndex"], 16)) not in kept_before
            ]  # fmt: skip
            for log in logs:
                source, to = "0x" + log["topics"][1][-40:], "0x" + log["topics"][2][-40:]
                for escrow, sign in ((to, 1), (source, -1)):
                    if escrow in off and source != to:
                        funded, paid = matched[escrow]
                        explained[escrow] += sign * int(log["data"], 16)
                        # what its own transaction's events say moved, counted once
                        accounted = funded if sign > 0 else paid
                        explained[escrow] -= sign * accounted.pop(log["transactionHash"], 0)
            rows, hashes, timestamps = self._rows(self._timestamped(self._known_times(logs)))
            with self.db.transaction():
                self._store(rows, hashes, timestamps)
                scanned = int(self._meta_or("transfers_scanned", "0"))
                self._set_meta("transfers_scanned", str(max(scanned, end)))
            kept += len(rows)
            cursor = end + 1
        return kept

    def _known_times(self, logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The logs, with the timestamps of blocks the index already holds."""
        numbers = sorted({int(log["blockNumber"], 16) for log in logs})
        known: dict[int, int] = {}
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            known.update(
                self.db.all(
                    f"SELECT number, timestamp FROM blocks WHERE number IN ({marks})", chunk
                )
            )
        for log in logs:
            number = int(log["blockNumber"], 16)
            if "blockTimestamp" not in log and number in known:
                log["blockTimestamp"] = hex(known[number])
        return logs

    def balance_of(self, token: str, holder: str, block: int) -> int:
        """The token balance at `block` (a recent block: any node has its state)."""
        data = "0x70a08231" + holder[2:].lower().rjust(64, "0")
        return int(self.call("eth_call", [{"to": token, "data": data}, hex(block)]), 16)

    def _meta_or(self, key: str, default: str) -> str:
        found = self.db.one("SELECT value FROM meta WHERE key = ?", (key,))
        return found[0] if found else default

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _remembered_limit(self) -> int:
        key = f"range_limit:{self.provider_key}"
        found = self.db.one("SELECT value FROM meta WHERE key = ?", (key,))
        return int(found[0]) if found and self.provider_key else 0

    def _remember_limit(self, planner: RangePlanner) -> None:
        """After refusals, the largest range this provider accepted: the next run starts
        there instead of finding it again."""
        if not self.provider_key or not planner.refusals or not planner.largest_accepted:
            return
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO meta VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (f"range_limit:{self.provider_key}", str(planner.largest_accepted)),
            )

    def _fetch(self, start: int, end: int) -> list[dict[str, Any]]:
        """A range's logs, each with its block's timestamp."""
        return self._timestamped(self._get_logs(start, end))

    def _timestamped(self, logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Most BSC providers leave ``blockTimestamp`` out of logs: the headers of the
        blocks that hold them are then asked for here, in the worker, in JSON-RPC batches,
        never one by one on the write path."""
        missing = {
            int(log["blockNumber"], 16)
            for log in logs
            if "blockTimestamp" not in log and not log.get("removed")
        }
        if missing:
            headers = self.headers(missing)
            for log in logs:
                if "blockTimestamp" not in log and not log.get("removed"):
                    log["blockTimestamp"] = headers[int(log["blockNumber"], 16)]["timestamp"]
        return logs

    def headers(self, numbers: set[int]) -> dict[int, dict[str, Any]]:
        """Block headers by number: HEADER_BATCH a request (no more than the rate allows in a
        second) where the provider takes JSON-RPC batches, else one request each."""
        wanted = sorted(numbers)
        if self.batch is None:
            return {number: self.block(number) for number in wanted}
        found: dict[int, dict[str, Any]] = {}
        batch = self.batch
        limiter = self.limiter or installed_limiter()
        size = min(HEADER_BATCH, limiter.cap) if limiter else HEADER_BATCH
        for first in range(0, len(wanted), size):
            chunk = wanted[first : first + size]
            if self.limiter is not None:  # a batch's calls each count, sent together
                self.limiter.take(len(chunk))
            calls = [("eth_getBlockByNumber", [hex(number), False]) for number in chunk]
            try:
                answers = self.retrier.call("a batch of block headers", batch, calls)
            except RetriesSpent:
                raise
            except Exception:  # a provider that does not take batches: one request each
                self.batch = None
                return {**found, **self.headers(set(wanted[first:]))}
            found.update(zip(chunk, answers, strict=True))
        return found

    def _raise_fetch_error(self, error: Exception) -> None:
        text = str(error).lower()
        if any(marker in text for marker in REFUSED_ERRORS):
            raise IndexerError(
                f"this endpoint refuses eth_getLogs ({error}); index through a node or a "
                "provider that serves logs"
            ) from error
        raise error

    def target(self) -> tuple[int, str]:
        """The block to index up to, and how it was chosen, in words."""
        if self.settings.finalized:
            try:
                block = self.call("eth_getBlockByNumber", ["finalized", False])
            except IndexerRPCError:
                block = None  # a node without the tag: the fixed depth below
            if block is not None:
                return int(block["number"], 16), "the node's finalized block"
        depth = self.settings.confirmations
        head = int(self.call("eth_blockNumber", []), 16)
        return head - depth, f"{depth} confirmation(s) below the head"

    def _write(self, ranges: list[tuple[int, int, list[dict[str, Any]]]]) -> int:
        """Writes consecutive fetched ranges in one transaction with the checkpoint at the
        last one's end (its block hash kept, for reorgs)."""
        rows, hashes, timestamps = self._rows([log for _, _, logs in ranges for log in logs])
        end = ranges[-1][1]
        end_block = self.block(end)
        hashes[end] = end_block["hash"]
        timestamps[end] = int(end_block["timestamp"], 16)
        with self.db.transaction():  # the events, their blocks and the checkpoint
            self._store(rows, hashes, timestamps)
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'checkpoint'", (str(end),))
        return len(rows)

    def _rows(
        self, logs: list[dict[str, Any]]
    ) -> tuple[list[tuple], dict[int, str], dict[int, int]]:
        """The rows of the logs of interest, and their blocks' hashes and times."""
        rows, hashes, timestamps = [], {}, {}
        decode, escrow = self.decoder.decode, set(self.escrows)
        for log in logs:
            if log.get("removed"):
                continue
            decoded = decode(log, escrow)
            if decoded is None:
                continue
            number = int(log["blockNumber"], 16)
            hashes[number] = log["blockHash"]
            if "blockTimestamp" in log:
                timestamps[number] = int(log["blockTimestamp"], 16)
            rows.append(
                (
                    number,
                    int(log["logIndex"], 16),
                    log["transactionHash"],
                    log["address"].lower(),
                    decoded[0],
                    decoded[1],
                )
            )
        return rows, hashes, timestamps

    def _store(self, rows: list[tuple], hashes: dict[int, str], timestamps: dict[int, int]) -> None:
        self.db.executemany(UPSERT_EVENT, rows)
        self.db.executemany(UPSERT_BLOCK, [(n, h, timestamps[n]) for n, h in hashes.items()])

    def check_reorg(self) -> int | None:
        """When a kept block hash changed, rolls back to the last kept block whose hash still
        matches (blocks between kept ones are not stored, and any of them above that point
        may have changed too); returns the block kept to, or None when nothing changed."""
        kept = self.db.all("SELECT number, hash FROM blocks ORDER BY number DESC")
        changed, keep_to = False, self.start_block - 1
        for number, stored in kept:
            current = self.block(number)
            if current is not None and current["hash"] == stored:
                keep_to = number
                break
            changed = True
        if not changed:
            return None
        with self.db.transaction():
            self.db.execute("DELETE FROM events WHERE block_number > ?", (keep_to,))
            self.db.execute("DELETE FROM blocks WHERE number > ?", (keep_to,))
            self.db.execute(
                "UPDATE meta SET value = ? WHERE key = 'checkpoint'",
                (str(min(keep_to, self.checkpoint)),),
            )
            scanned = int(self._meta_or("transfers_scanned", str(keep_to)))
            self._set_meta("transfers_scanned", str(min(keep_to, scanned)))
        self.rollbacks += 1
        return keep_to


class RangePlanner:
    """The eth_getLogs range size: doubled after each accepted range while under `grow_to`;
    on a refusal, the size the provider names ("exceed maximum block range: 5000", "Try
    with this block range [0x.., 0x..]", "max 2000 blocks"); when it names none, a
    bisection between the largest size accepted and the smallest refused, which finds an
    unstated limit in a few probes (settling within 1/32 of it), never again above a size
    refused."""

    def __init__(self, initial: int, grow_to: int = 0, floor: int = 1) -> None:
        self.size = max(initial, floor)
        self.ceiling = max(grow_to, initial)
        self.floor = floor
        self.refusals = 0
        self.largest_accepted = 0
        self.smallest_refused = 0  # 0: none refused without the provider naming its limit

    def accepted(self, size: int) -> None:
        self.largest_accepted = max(self.largest_accepted, size)
        if size < self.size:
            return
        gap = self.ceiling - self.largest_accepted
        if self.smallest_refused and gap > max(1, self.largest_accepted // 32):
            self.size = self.largest_accepted + (gap + 1) // 2  # bisect towards the refusal
        else:
            self.size = max(min(self.size * 2, self.ceiling), self.size)

    def refused(self, size: int, message: str) -> int:
        """The size to ask next after `size` was refused with `message`."""
        self.refusals += 1
        hint = range_hint(message)
        if hint is not None and hint < size:
            self.ceiling = min(self.ceiling, hint)  # the provider's own cap: never past it
            self.size = max(min(hint, self.ceiling), self.floor)
            return self.size
        self.ceiling = min(self.ceiling, size - 1)
        self.smallest_refused = min(self.smallest_refused or size, size)
        if self.largest_accepted >= size:  # refused below a size once accepted: the
            self.largest_accepted = 0  # limit depends on what the range holds
        below = self.largest_accepted or size // 2
        self.size = max(
            min((below + size) // 2 if self.largest_accepted else below, self.ceiling), self.floor
        )
        return self.size


def range_hint(message: str) -> int | None:
    """The block range a provider's refusal names, if any."""
    import re

    suggested = re.search(r"\[\s*0x([0-9a-fA-F]+)\s*,\s*0x([0-9a-fA-F]+)\s*\]", message)
    if suggested:
        return int(suggested.group(2), 16) - int(suggested.group(1), 16) + 1
    named = re.search(
        r"(?:max(?:imum)?|limit(?:ed)?|up to|at most)[^0-9]{0,30}?(\d[\d,_]*)\s*(?:blocks?)?",
        message,
        re.IGNORECASE,
    )
    if named:
        value = int(re.sub(r"[,_]", "", named.group(1)))
        return value if value > 0 else None
    return None


def rpc(provider: Any) -> Callable[[str, list], Any]:
    """Raw JSON-RPC through the connected provider: results as the node sends them."""

    def request(method: str, params: list) -> Any:
        response = provider.web3.provider.make_request(method, params)
        if "error" in response:
            raise IndexerRPCError(response["error"])
        return response["result"]

    return request


def rpc_batch(provider: Any) -> Callable[[list[tuple[str, list]]], list[Any]]:
    """Raw JSON-RPC batches through the connected provider: one HTTP request, the results
    in the order asked; any error in it raises."""

    def batch(calls: list[tuple[str, list]]) -> list[Any]:
        responses = provider.web3.provider.make_batch_request(calls)
        if isinstance(responses, dict):  # the whole batch refused
            raise IndexerRPCError(responses.get("error", responses))
        for response in responses:
            if "error" in response:
                raise IndexerRPCError(response["error"])
        return [response["result"] for response in responses]

    return batch


def for_deployment(
    deployment: Any,
    provider: Any,
    escrow_abi: list[dict[str, Any]],
    database: Path | str,
    settings: IndexerSettings | None = None,
) -> Indexer:
    """An indexer over the deployment's escrow (or a list of deployments: every program in
    one pass), through the connected provider's JSON-RPC."""
    deployments = deployment if isinstance(deployment, list | tuple) else [deployment]
    request = rpc(provider)
    indexer = Indexer(
        database,
        request,
        [d.escrow for d in deployments],
        [d.token for d in deployments],
        escrow_abi,
        min(d.block for d in deployments),
        settings,
    )
    indexer.batch = rpc_batch(provider)
    indexer.provider_key = _provider_key(provider)
    return indexer


def _provider_key(provider: Any) -> str:
    """The provider's host and port (never its path or query, which may hold an API key)."""
    from urllib.parse import urlsplit

    uri = getattr(provider.web3.provider, "endpoint_uri", "") or ""
    return urlsplit(str(uri)).netloc
