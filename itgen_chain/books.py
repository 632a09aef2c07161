"""The books of a program, from its indexed events: short pure steps an auditor can read.

    load_events   the index's events of one escrow and its own token (I/O: the database)
    tally         events -> Tally: every amount in and out, per transaction, and each payout
    differences   Tally (+ balances read from the chain) -> what does not add up
    grouped       payouts -> count and amount per registrar, course, milestone or day
    build         all of it as the audit's content (audit.json)

The escrow's own events carry every amount that enters through `fund` and every amount that
leaves it (a release, a reclaim): the books are those events, plus the token's transfers
that came in (or went out) without one, which the indexer finds and keeps. The balance the
events give, funded + direct in - released - reclaimed - direct out, is compared with the
balance read from the chain. A transfer the index holds is matched with the escrow's
events of its own transaction. Every figure is given in base units (strings, exact) and in
tokens.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from itgen_chain.amounts import to_tokens
from itgen_chain.exceptions import ItgenError

EXPLORERS = {
    56: "https://bscscan.com/tx/",
    97: "https://testnet.bscscan.com/tx/",
    1: "https://etherscan.io/tx/",
}
MILESTONES = {"0": "registration", "1": "completion"}


@dataclass
class Event:
    block: int
    log_index: int
    tx_hash: str
    name: str
    args: dict[str, Any]
    timestamp: int | None


@dataclass(frozen=True)
class Payout:
    """One ScholarshipReleased event."""

    block: int
    time: int | None
    tx_hash: str
    student_id: str
    payee: str
    registrar: str
    course_id: int
    milestone: str
    amount: int

    @property
    def day(self) -> str:
        return datetime.fromtimestamp(self.time or 0, UTC).date().isoformat()


@dataclass
class Tally:
    """Every amount the events move, in total and per transaction."""

    funded: int = 0
    released: int = 0
    reclaimed: int = 0
    transfers_in: int = 0
    transfers_out: int = 0
    funded_by_tx: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    in_by_tx: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    out_by_tx: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    paid_out_by_tx: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    allowances: dict[str, int] = field(default_factory=dict)
    payouts: list[Payout] = field(default_factory=list)
    # Students paid by link: every reservation (ScholarshipReserved), and how each ended.
    reservations: list[Event] = field(default_factory=list)
    claimed: dict[tuple[str, str], Event] = field(default_factory=dict)
    cancelled: list[Event] = field(default_factory=list)
    returned_unclaimed: int = 0

    @property
    def direct_in(self) -> int:
        """Tokens sent to the escrow without `fund` (stray transfers): per transaction whose
        transfers in the index holds, what came in beyond what its Funded events say."""
        return sum(value - self.funded_by_tx.get(tx, 0) for tx, value in self.in_by_tx.items())

    @property
    def direct_out(self) -> int:
        """Tokens that left the escrow without a release or a reclaim (none, for a token that
        moves only when told to): per transaction whose transfers out the index holds."""
        return sum(value - self.paid_out_by_tx.get(tx, 0) for tx, value in self.out_by_tx.items())

    @property
    def balance(self) -> int:
        """The escrow's balance at the indexed block, from its events and the direct
        transfers."""
        return self.funded + self.direct_in - self.released - self.reclaimed - self.direct_out


# The events that move money: what the balance from the events needs.
MONEY_EVENTS = ("Funded", "ScholarshipReleased", "Reclaimed", "Transfer")


def load_events(
    database: Path | str, escrow: str | None = None, names: Sequence[str] = ()
) -> tuple[list[Event], dict[str, str]]:
    """The index's events of one escrow in order (only those named `names`, when given), and
    the index's meta with ``escrow`` and ``token`` of that escrow (SQLite file or PostgreSQL
    URL). An index of several programs needs `escrow`: its own events and its own token's
    transfers into and out of it; another token sent to it is no part of its books."""
    from itgen_chain.store import Store

    db = Store(database)
    meta = dict(db.all("SELECT key, value FROM meta"))
    token_of = dict(db.all("SELECT escrow, token FROM programs"))
    only = f"WHERE e.event IN ({', '.join('?' * len(names))}) " if names else ""
    rows = db.all(
        "SELECT e.block_number, e.log_index, e.tx_hash, e.event, e.args, b.timestamp, "
        f"e.contract FROM events e LEFT JOIN blocks b ON b.number = e.block_number {only}"
        "ORDER BY e.block_number, e.log_index",
        tuple(names),
    )
    db.close()
    escrows = meta["escrow"].split(",")
    if escrow is None:
        if len(escrows) > 1:
            raise ItgenError(
                f"{database} indexes {len(escrows)} escrows: name one (--escrow or --program)"
            )
        escrow = escrows[0]
    escrow = escrow.lower()
    if escrow not in escrows:
        raise ItgenError(f"{database} does not index escrow {escrow}: run `ape itgen index`")
    token = _token_of(escrow, token_of, meta)
    events = []
    for r in rows:
        args = json.loads(r[4])
        if r[6] == escrow or (
            r[3] == "Transfer"
            and r[6] == token
            and escrow in (args["from"].lower(), args["to"].lower())
        ):
            events.append(Event(r[0], r[1], r[2], r[3], args, r[5]))
    return events, {**meta, "escrow": escrow, "token": token}


def _token_of(escrow: str, token_of: dict[str, str], meta: dict[str, str]) -> str:
    """The escrow's own token: its row in ``programs``; an index made before that table
    holds ``token_of:<escrow>`` in its meta, or one escrow and one token."""
    if escrow in token_of:
        return token_of[escrow]
    if f"token_of:{escrow}" in meta:
        return meta[f"token_of:{escrow}"]
    tokens = meta["token"].split(",")
    if len(tokens) == 1:
        return tokens[0]
    raise ItgenError(
        f"the index does not say which token escrow {escrow} holds: index it again into a "
        "new database (`ape itgen index --db NEW`)"
    )


def tally(events: Iterable[Event], escrow: str, payouts: bool = True) -> Tally:
    """What the events move. Transfers between the escrow and itself move nothing. Without
    `payouts`, the amounts alone (the indexer's balance check: no Payout rows to build)."""
    t = Tally()
    escrow = escrow.lower()
    for event in events:
        a = event.args
        if event.name == "Funded":
            t.funded += int(a["amount"])
            t.funded_by_tx[event.tx_hash] += int(a["amount"])
        elif event.name == "ScholarshipReleased":
            amount = int(a["amount"])
            t.released += amount
            t.paid_out_by_tx[event.tx_hash] += amount
            if payouts:
                t.payouts.append(_payout(event))
        elif event.name == "Reclaimed":
            t.reclaimed += int(a["amount"])
            t.paid_out_by_tx[event.tx_hash] += int(a["amount"])
        elif event.name == "ScholarshipReserved":
            t.reservations.append(event)
        elif event.name == "ScholarshipClaimed":
            t.claimed[(a["studentId"], str(a["milestone"]))] = event
        elif event.name == "ReservationCancelled":
            t.cancelled.append(event)
        elif event.name == "UnclaimedReturned":
            t.returned_unclaimed += int(a["amount"])
        elif event.name == "RegistrarSet":
            t.allowances[to_checksum_address(a["registrar"])] = int(a["allowance"])
        elif event.name == "Transfer":
            source, target, value = a["from"].lower(), a["to"].lower(), int(a["value"])
            if target == escrow and source != escrow:
                t.transfers_in += value
                t.in_by_tx[event.tx_hash] += value
            elif source == escrow and target != escrow:
                t.transfers_out += value
                t.out_by_tx[event.tx_hash] += value
    return t


def _payout(event: Event) -> Payout:
    a = event.args
    return Payout(
        block=event.block,
        time=event.timestamp,
        tx_hash=event.tx_hash,
        student_id=a["studentId"],
        payee=to_checksum_address(a["payee"]),
        registrar=to_checksum_address(a["registrar"]),
        course_id=int(a["courseId"]),
        milestone=MILESTONES.get(str(a["milestone"]), str(a["milestone"])),
        amount=int(a["amount"]),
    )


def differences(
    t: Tally, balance: int | None = None, head_check: dict[str, int] | None = None
) -> list[dict[str, str]]:
    """What does not add up: a balance read from the chain that differs from the events
    (at the indexed block, or at the head with the transfers since), a transfer out without
    its release or reclaim, a Funded event without its transfer in."""
    found = []
    if balance is not None and balance != t.balance:
        found.append(
            _mismatch("balance read from the chain differs from the events", balance, t.balance)
        )
    if head_check is not None and head_check["balance"] != t.balance + head_check["net_since"]:
        expected = t.balance + head_check["net_since"]
        kind = f"balance at block {head_check['block']} differs from the events"
        found.append(_mismatch(kind, head_check["balance"], expected))
    for tx in sorted(t.out_by_tx):
        if t.out_by_tx[tx] != t.paid_out_by_tx.get(tx, 0):
            kind = "transfer out without matching release/reclaim"
            found.append(_by_tx(tx, kind, t.out_by_tx[tx], t.paid_out_by_tx.get(tx, 0)))
    for tx in sorted(set(t.funded_by_tx) & set(t.in_by_tx)):
        if t.in_by_tx[tx] < t.funded_by_tx[tx]:
            found.append(
                _by_tx(
                    tx, "Funded without matching transfer in", t.in_by_tx[tx], t.funded_by_tx[tx]
                )
            )
    return found


def _mismatch(kind: str, read: int, from_events: int) -> dict[str, str]:
    return {"kind": kind, "read": str(read), "from_events": str(from_events)}


def _by_tx(tx: str, kind: str, transfers: int, events: int) -> dict[str, str]:
    return {
        "tx_hash": tx,
        "kind": kind,
        "token_transfers": str(transfers),
        "escrow_events": str(events),
    }


def grouped(
    payouts: Iterable[Payout], key: Callable[[Payout], str], decimals: int
) -> dict[str, dict[str, Any]]:
    """Count and amount of the payouts per `key` (registrar, course, milestone, day)."""
    count: dict[str, int] = defaultdict(int)
    amount: dict[str, int] = defaultdict(int)
    for payout in payouts:
        count[key(payout)] += 1
        amount[key(payout)] += payout.amount
    return {k: {"count": count[k], "released": money(amount[k], decimals)} for k in count}


def money(base_units: int, decimals: int) -> dict[str, str]:
    return {"base_units": str(base_units), "tokens": _plain_decimal(base_units, decimals)}


def _plain_decimal(base_units: int, decimals: int) -> str:
    """Exact tokens without trailing zeros: ``123``, ``12.5``."""
    return format(to_tokens(base_units, decimals).normalize(), "f")


def build(
    database: Path | str,
    balance: int | None,
    decimals: int,
    chain_id: int,
    symbol: str = "USDT",
    roster: list[tuple] | None = None,
    head_check: dict[str, int] | None = None,
    escrow: str | None = None,
) -> dict[str, Any]:
    """The audit's content (audit.json) for one escrow of the index.

    `balance`, when given, is the escrow's balance at the indexed block as read from the
    chain, and must agree with the events. `head_check` compares with the chain where a
    normal (non-archive) node still has the state: the balance read at a recent block
    (``block``, ``balance``) against the events' balance plus the net of the transfers since
    the indexed block (``net_since``), and how many payouts came after (``payouts_since``)."""
    events, meta = load_events(database, escrow)
    t = tally(events, meta["escrow"])
    found = differences(t, balance, head_check)
    links = reservations(t, decimals)
    if not links["adds_up"]:
        found.append({"kind": "reservations", "detail": "reserved != claimed + cancelled + open"})
    report: dict[str, Any] = {
        "reconciled": not found,
        "escrow": to_checksum_address(meta["escrow"]),
        "token": to_checksum_address(meta["token"]),
        "chain_id": chain_id,
        "indexed_to_block": int(meta["checkpoint"]),
        "indexed_to": meta.get("finality", ""),
        "token_symbol": symbol,
        "decimals": decimals,
        "totals": {
            "funded": money(t.funded, decimals),
            "direct_transfers_in": money(t.direct_in, decimals),
            "released": money(t.released, decimals),
            "reclaimed": money(t.reclaimed, decimals),
            "balance": money(t.balance, decimals),
        },
        "differences": found,
        "payout_count": len(t.payouts),
        **_tables(t, decimals),
        "paid_twice": [{"studentId": s, "milestone": m} for s, m in _paid_twice(t.payouts)],
        "reservations": links,
        "payouts": [_row(p, decimals, EXPLORERS.get(chain_id)) for p in t.payouts],
    }
    if head_check is not None:
        expected = t.balance + head_check["net_since"]
        report["balance_check"] = {
            "block": head_check["block"],
            "read": money(head_check["balance"], decimals),
            "expected_from_events": money(expected, decimals),
            "match": head_check["balance"] == expected,
        }
        report["payouts_after_indexed_block"] = head_check.get("payouts_since", 0)
    if roster is not None:
        report["roster"] = cross_check(roster, t.payouts)
    return report


def _tables(t: Tally, decimals: int) -> dict[str, Any]:
    per_registrar = grouped(t.payouts, lambda p: p.registrar, decimals)
    for registrar, row in per_registrar.items():
        row["allowance"] = money(t.allowances.get(registrar, 0), decimals)
    per_course = grouped(t.payouts, lambda p: str(p.course_id), decimals)
    return {
        "per_registrar": dict(sorted(per_registrar.items())),
        "per_course": dict(sorted(per_course.items(), key=lambda item: int(item[0]))),
        "per_milestone": dict(sorted(grouped(t.payouts, lambda p: p.milestone, decimals).items())),
        "per_day": dict(sorted(grouped(t.payouts, lambda p: p.day, decimals).items())),
    }


def reservations(t: Tally, decimals: int) -> dict[str, Any]:
    """Students paid by link: what was reserved, and claimed, cancelled, returned to the
    donor unclaimed at the close, or still open; per registrar and course; the student ids
    (no personal data) still to claim, and how long the claims took."""
    open_: dict[tuple[str, str], Event] = {}
    sums = {"reserved": 0, "claimed": 0, "cancelled": 0}
    per_registrar: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(sums, 0))
    per_course: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(sums, 0))
    delays: list[float] = []
    for event in sorted(t.reservations + t.cancelled, key=lambda e: (e.block, e.log_index)):
        a = event.args
        key = (a["studentId"], str(a["milestone"]))
        if event.name == "ReservationCancelled":
            reserved = open_.pop(key, None)
            if reserved is not None:
                _count(sums, per_registrar, per_course, reserved, "cancelled")
            continue
        open_[key] = event
        _count(sums, per_registrar, per_course, event, "reserved")
    for key, claim in t.claimed.items():
        reserved = open_.pop(key, None)
        if reserved is not None:
            _count(sums, per_registrar, per_course, reserved, "claimed")
            if claim.timestamp is not None and reserved.timestamp is not None:
                delays.append((claim.timestamp - reserved.timestamp) / 86_400)
    outstanding = sum(int(e.args["amount"]) for e in open_.values())
    return {
        "reserved": money(sums["reserved"], decimals),
        "claimed": money(sums["claimed"], decimals),
        "cancelled": money(sums["cancelled"], decimals),
        "returned_unclaimed": money(t.returned_unclaimed, decimals),
        "open": money(max(outstanding - t.returned_unclaimed, 0), decimals),
        "adds_up": sums["reserved"] == sums["claimed"] + sums["cancelled"] + outstanding
        and t.returned_unclaimed <= outstanding,
        "per_registrar": {
            r: {k: money(v, decimals) for k, v in row.items()}
            for r, row in sorted(per_registrar.items())
        },
        "per_course": {
            c: {k: money(v, decimals) for k, v in row.items()}
            for c, row in sorted(per_course.items(), key=lambda i: int(i[0]))
        },
        "unclaimed_student_ids": sorted(e.args["studentId"] for e in open_.values()),
        "claim_delay_days": sorted(round(d, 3) for d in delays),
    }


def _count(sums: dict, per_registrar: dict, per_course: dict, event: Event, what: str) -> None:
    amount = int(event.args["amount"])
    sums[what] += amount
    per_registrar[to_checksum_address(event.args["registrar"])][what] += amount
    course = str(event.args.get("courseId", "?"))
    per_course[course][what] += amount


def _paid_twice(payouts: Iterable[Payout]) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for p in payouts:
        seen[(p.student_id, p.milestone)] += 1
    return [key for key, n in seen.items() if n > 1]


def _row(p: Payout, decimals: int, explorer: str | None) -> dict[str, Any]:
    return {
        "block": p.block,
        "time": p.time,
        "day": p.day,
        "tx_hash": p.tx_hash,
        "url": explorer + p.tx_hash if explorer else None,
        "studentId": p.student_id,
        "payee": p.payee,
        "registrar": p.registrar,
        "courseId": p.course_id,
        "milestone": p.milestone,
        "amount_base_units": str(p.amount),
        "amount_tokens": _plain_decimal(p.amount, decimals),
    }


def cross_check(roster: list[tuple], payouts: Sequence[Payout]) -> dict[str, Any]:
    """Roster rows (row, studentId, milestone[, payee]) against payouts: rows not paid,
    payouts of no row, payouts twice, and rows paid to another wallet than the row names
    (a claim-jump: claims.py)."""
    on_roster = {("0x" + r[1].hex(), MILESTONES[str(r[2])]): r for r in roster}
    paid_to = {(p.student_id, p.milestone): p for p in payouts}
    another = [
        {
            "row": row[0],
            "roster_payee": row[3],
            "paid_to": paid.payee,
            "registrar": paid.registrar,
            "tx_hash": paid.tx_hash,
        }
        for key, row in sorted(on_roster.items(), key=lambda item: item[1][0])
        if (paid := paid_to.get(key)) and len(row) > 3 and paid.payee.lower() != row[3].lower()
    ]
    return {
        "attested_not_paid": sorted(r[0] for key, r in on_roster.items() if key not in paid_to),
        "paid_not_on_roster": [
            {"studentId": s, "milestone": m} for (s, m) in paid_to if (s, m) not in on_roster
        ],
        "paid_twice": [{"studentId": s, "milestone": m} for s, m in _paid_twice(payouts)],
        "paid_to_another_payee": another,
    }
