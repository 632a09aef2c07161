"""The audit's outputs, and nothing else: audit.json, payouts.csv and audit.html under a
folder, and the terminal summary. The books themselves are made in books.py; the audit is
run against a node in audit.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from itgen_chain.amounts import format_tokens


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
    links = report.get("reservations", {})
    if int(links.get("reserved", {"base_units": "0"})["base_units"]):
        echo(f"{'paid by link (claim links)':<46}{report['token_symbol']:>18}")
        for label in ("reserved", "claimed", "cancelled", "returned_unclaimed", "open"):
            echo(f"  {label.replace('_', ' '):<44}{amount(links[label]):>18}")
        echo(f"  {'students still to claim':<44}{len(links['unclaimed_student_ids']):>18}")
    return lines
