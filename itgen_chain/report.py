"""Reconciliation and the audit report, from the index and one balance read from the chain.

The books: funded + direct transfers in = released + reclaimed + balance, where the
balance is the escrow's token balance at the indexed block. Every figure is given in base
units (strings, exact) and in tokens.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from itgen_chain.amounts import format_tokens, to_tokens
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


def load_events(
    database: Path | str, escrow: str | None = None
) -> tuple[list[Event], dict[str, str]]:
    """The index's events of one escrow in order, and the index's meta with ``escrow`` and
    ``token`` of that escrow (SQLite file or PostgreSQL URL). An index of several programs
    needs `escrow`: its own events and its own token's transfers into and out of it; another
    token sent to it is no part of its books."""
    from itgen_chain.store import Store

    db = Store(database)
    meta = dict(db.all("SELECT key, value FROM meta"))
    token_of = dict(db.all("SELECT escrow, token FROM programs"))
    rows = db.all(
        "SELECT e.block_number, e.log_index, e.tx_hash, e.event, e.args, b.timestamp, "
        "e.contract FROM events e LEFT JOIN blocks b ON b.number = e.block_number "
        "ORDER BY e.block_number, e.log_index"
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
    """The audit as a dict (the content of audit.json).

    The books are reconciled from the events alone: the escrow's balance at the indexed
    block is what the token's transfers brought in minus what they took out. `balance`, when
    given, is that balance as read from the chain and must agree. `head_check` compares with
    the chain where a normal (non-archive) node still has the state: the balance read at a
    recent block (``block``, ``balance``) against the events' balance plus the transfers in
    and out since the indexed block (``net_since``)."""
    events, meta = load_events(database, escrow)
    escrow = meta["escrow"]
    explorer = EXPLORERS.get(chain_id)
    funded = released = reclaimed = transfers_in = transfers_out = 0
    funded_by_tx: dict[str, int] = defaultdict(int)
    out_by_tx: dict[str, int] = defaultdict(int)
    paid_out_by_tx: dict[str, int] = defaultdict(int)
    in_by_tx: dict[str, int] = defaultdict(int)
    payouts: list[dict[str, Any]] = []
    allowances: dict[str, int] = {}
    per_registrar: dict[str, dict[str, int]] = defaultdict(lambda: {"released": 0, "count": 0})
    per_course: dict[str, dict[str, int]] = defaultdict(lambda: {"released": 0, "count": 0})
    per_milestone: dict[str, dict[str, int]] = defaultdict(lambda: {"released": 0, "count": 0})
    per_day: dict[str, dict[str, int]] = defaultdict(lambda: {"released": 0, "count": 0})
    paid_keys: dict[tuple[str, str], int] = defaultdict(int)
    for event in events:
        a = event.args
        if event.name == "Funded":
            funded += int(a["amount"])
            funded_by_tx[event.tx_hash] += int(a["amount"])
        elif event.name == "ScholarshipReleased":
            amount = int(a["amount"])
            released += amount
            paid_out_by_tx[event.tx_hash] += amount
            day = datetime.fromtimestamp(event.timestamp or 0, UTC).date().isoformat()
            milestone = MILESTONES.get(str(a["milestone"]), str(a["milestone"]))
            for table, key in (
                (per_registrar, to_checksum_address(a["registrar"])),
                (per_course, str(a["courseId"])),
                (per_milestone, milestone),
                (per_day, day),
            ):
                table[key]["released"] += amount
                table[key]["count"] += 1
            paid_keys[(a["studentId"], milestone)] += 1
            payouts.append(
                {
                    "block": event.block,
                    "time": event.timestamp,
                    "day": day,
                    "tx_hash": event.tx_hash,
                    "url": explorer + event.tx_hash if explorer else None,
                    "studentId": a["studentId"],
                    "payee": to_checksum_address(a["payee"]),
                    "registrar": to_checksum_address(a["registrar"]),
                    "courseId": int(a["courseId"]),
                    "milestone": milestone,
                    **_amount_fields(amount, decimals),
                }
            )
        elif event.name == "Reclaimed":
            reclaimed += int(a["amount"])
            paid_out_by_tx[event.tx_hash] += int(a["amount"])
        elif event.name == "RegistrarSet":
            allowances[to_checksum_address(a["registrar"])] = int(a["allowance"])
        elif event.name == "Transfer":
            value = int(a["value"])
            if a["to"].lower() == escrow and a["from"].lower() != escrow:
                transfers_in += value
                in_by_tx[event.tx_hash] += value
            elif a["from"].lower() == escrow and a["to"].lower() != escrow:
                transfers_out += value
                out_by_tx[event.tx_hash] += value
    direct = transfers_in - funded
    from_events = transfers_in - transfers_out
    differences = []
    if balance is not None and balance != from_events:
        differences.append(
            {
                "kind": "balance read from the chain differs from the events",
                "read": str(balance),
                "from_events": str(from_events),
            }
        )
    balance = from_events
    checked = None
    if head_check is not None:
        expected = from_events + head_check["net_since"]
        checked = {
            "block": head_check["block"],
            "read": money(head_check["balance"], decimals),
            "expected_from_events": money(expected, decimals),
            "match": head_check["balance"] == expected,
        }
        if not checked["match"]:
            differences.append(
                {
                    "kind": f"balance at block {head_check['block']} differs from the events",
                    "read": str(head_check["balance"]),
                    "from_events": str(expected),
                }
            )
    for tx in sorted(set(out_by_tx) | set(paid_out_by_tx)):
        if out_by_tx[tx] != paid_out_by_tx[tx]:
            differences.append(
                {
                    "tx_hash": tx,
                    "kind": "transfer out without matching release/reclaim",
                    "token_transfers": str(out_by_tx[tx]),
                    "escrow_events": str(paid_out_by_tx[tx]),
                }
            )
    for tx in sorted(funded_by_tx):
        if in_by_tx[tx] != funded_by_tx[tx]:
            differences.append(
                {
                    "tx_hash": tx,
                    "kind": "Funded without matching transfer in",
                    "token_transfers": str(in_by_tx[tx]),
                    "escrow_events": str(funded_by_tx[tx]),
                }
            )
    reconciled = funded + direct == released + reclaimed + balance and not differences
    if funded + direct != released + reclaimed + balance:
        differences.append(
            {
                "kind": "books do not balance",
                "in": str(funded + direct),
                "out_plus_balance": str(released + reclaimed + balance),
            }
        )
    report = {
        "reconciled": reconciled,
        "escrow": to_checksum_address(escrow),
        "token": to_checksum_address(meta["token"]),
        "chain_id": chain_id,
        "indexed_to_block": int(meta["checkpoint"]),
        "indexed_to": meta.get("finality", ""),
        "token_symbol": symbol,
        "decimals": decimals,
        "totals": {
            "funded": money(funded, decimals),
            "direct_transfers_in": money(direct, decimals),
            "released": money(released, decimals),
            "reclaimed": money(reclaimed, decimals),
            "balance": money(balance, decimals),
        },
        "differences": differences,
        "payout_count": len(payouts),
        "per_registrar": {
            r: {**_counts(v, decimals), "allowance": money(allowances.get(r, 0), decimals)}
            for r, v in sorted(per_registrar.items())
        },
        "per_course": {
            c: _counts(v, decimals) for c, v in sorted(per_course.items(), key=lambda i: int(i[0]))
        },
        "per_milestone": {m: _counts(v, decimals) for m, v in sorted(per_milestone.items())},
        "per_day": {d: _counts(v, decimals) for d, v in sorted(per_day.items())},
        "paid_twice": [
            {"studentId": s, "milestone": m} for (s, m), n in paid_keys.items() if n > 1
        ],
        "payouts": payouts,
    }
    if checked is not None:
        report["balance_check"] = checked
    if head_check is not None:
        report["payouts_after_indexed_block"] = head_check.get("payouts_since", 0)
    if roster is not None:
        report["roster"] = cross_check(roster, paid_keys, payouts)
    return report


def _counts(values: dict[str, int], decimals: int) -> dict[str, Any]:
    return {"count": values["count"], "released": money(values["released"], decimals)}


def _amount_fields(amount: int, decimals: int) -> dict[str, str]:
    return {"amount_base_units": str(amount), "amount_tokens": _plain_decimal(amount, decimals)}


def cross_check(
    roster: list[tuple],
    paid: dict[tuple[str, str], int],
    payouts: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Roster rows (row, studentId, milestone[, payee]) against payouts: rows not paid,
    payouts of no row, payouts twice, and rows paid to another wallet than the row names
    (a claim-jump: claims.py)."""
    on_roster = {("0x" + r[1].hex(), MILESTONES[str(r[2])]): r for r in roster}
    paid_to = {(p["studentId"], p["milestone"]): p for p in payouts}
    another = []
    for key, (row, *rest) in sorted(on_roster.items(), key=lambda item: item[1][0]):
        payout = paid_to.get(key)
        if payout and len(rest) > 2 and payout["payee"].lower() != rest[2].lower():
            another.append(
                {
                    "row": row,
                    "roster_payee": rest[2],
                    "paid_to": payout["payee"],
                    "registrar": payout["registrar"],
                    "tx_hash": payout["tx_hash"],
                }
            )
    return {
        "attested_not_paid": sorted(r[0] for key, r in on_roster.items() if key not in paid),
        "paid_not_on_roster": [
            {"studentId": s, "milestone": m} for (s, m) in paid if (s, m) not in on_roster
        ],
        "paid_twice": [{"studentId": s, "milestone": m} for (s, m), n in paid.items() if n > 1],
        "paid_to_another_payee": another,
    }


def write(report: dict[str, Any], out: Path) -> dict[str, Path]:
    """audit.json, payouts.csv and a self-contained audit.html under `out`."""
    from itgen_chain.report_html import render

    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "audit.json", "csv": out / "payouts.csv", "html": out / "audit.html"}
    paths["json"].write_text(json.dumps(report, indent=1) + "\n")
    with paths["csv"].open("w", newline="") as handle:
        fields = [
            "block",
            "day",
            "tx_hash",
            "studentId",
            "payee",
            "registrar",
            "courseId",
            "milestone",
            "amount_base_units",
            "amount_tokens",
            "url",
        ]
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(report["payouts"])
    paths["html"].write_text(render(report))
    return paths


def summary(report: dict[str, Any]) -> list[str]:
    """The terminal table: books, per registrar, per course, as lines."""
    lines: list[str] = []
    echo = lines.append
    d = report["decimals"]
    t = report["totals"]

    def amount(value: dict[str, str]) -> str:
        return format_tokens(int(value["base_units"]), d)

    echo("")
    counted = f"these books count events up to block {report['indexed_to_block']}"
    if report.get("indexed_to"):
        counted += f" ({report['indexed_to']})"
    echo(counted)
    if newer := report.get("payouts_after_indexed_block"):
        echo(
            f"  {newer} payout(s) were mined after it: not in these books yet (the balance "
            "check below includes them); index again to count them"
        )
    echo(f"{'books':<46}{report['token_symbol']:>18}")
    for label, key in (
        ("funded", "funded"),
        ("direct transfers in", "direct_transfers_in"),
        ("released to students", "released"),
        ("reclaimed by the donor", "reclaimed"),
        ("balance", "balance"),
    ):
        echo(f"  {label:<44}{amount(t[key]):>18}")
    if check := report.get("balance_check"):
        echo(
            f"  balance read at block {check['block']}: {amount(check['read'])}, from the "
            f"events {amount(check['expected_from_events'])}: "
            f"{'match' if check['match'] else 'MISMATCH'}"
        )
    echo(f"  {'reconciled':<44}{str(report['reconciled']):>18}")
    echo(f"{'per registrar':<46}{'payouts':>8}{'released':>18}{'allowance':>18}")
    for registrar, row in report["per_registrar"].items():
        echo(
            f"  {registrar:<44}{row['count']:>8}{amount(row['released']):>18}{amount(row['allowance']):>18}"
        )
    if (roster := report.get("roster")) is not None:
        echo(
            f"roster: {len(roster['attested_not_paid'])} row(s) not paid, "
            f"{len(roster['paid_not_on_roster'])} payout(s) of no row"
        )
        for jump in roster["paid_to_another_payee"]:
            echo(
                f"  row {jump['row']}: PAID TO ANOTHER WALLET {jump['paid_to']}, by registrar "
                f"{jump['registrar']} in transaction {jump['tx_hash']}"
            )
    echo(f"{'per course':<46}{'payouts':>8}{'released':>18}")
    for course, row in report["per_course"].items():
        echo(f"  {'course ' + course:<44}{row['count']:>8}{amount(row['released']):>18}")
    return lines
