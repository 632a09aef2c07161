"""The audit run: balance at the indexed block from the chain, report, files, summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from itgen_chain import audit
from itgen_chain.amounts import format_tokens


def run_audit(
    db: Path,
    out: Path,
    roster_path: Path | None = None,
    echo: Any = click.echo,
    escrow: str | None = None,
):
    from ape import chain

    from itgen_chain.program import connect
    from itgen_chain.roster import read_roster
    from itgen_chain.verification import compare

    conn = connect(escrow)
    events_meta = audit.load_events(db)[1]
    block = int(events_meta["checkpoint"])
    balance = conn.token.balanceOf(conn.escrow, block_id=block)
    roster = None
    if roster_path is not None:
        rows = read_roster(roster_path, conn.deployment.salt)
        roster = [(r.row, r.attestation.student_id, int(r.attestation.milestone)) for r in rows]
    report = audit.build(db, balance, conn.decimals, chain.chain_id, conn.token.symbol(), roster)
    code = bytes(chain.provider.web3.eth.get_code(conn.escrow.address))
    verdict = compare(conn.escrow.address, code)
    report["code_verification"] = {"match": verdict.match, "detail": verdict.detail}
    paths = audit.write(report, out)
    summary(report, echo)
    echo(f"code: {verdict}")
    return report, paths


def summary(report: dict[str, Any], echo: Any = click.echo) -> None:
    """The terminal table: books, per registrar, per course."""
    d = report["decimals"]
    t = report["totals"]

    def amount(value: dict[str, str]) -> str:
        return format_tokens(int(value["base_units"]), d)

    echo("")
    echo(f"{'books':<46}{report['token_symbol']:>18}")
    for label, key in (
        ("funded", "funded"),
        ("direct transfers in", "direct_transfers_in"),
        ("released to students", "released"),
        ("reclaimed by the donor", "reclaimed"),
        ("balance", "balance"),
    ):
        echo(f"  {label:<44}{amount(t[key]):>18}")
    echo(f"  {'reconciled':<44}{str(report['reconciled']):>18}")
    echo(f"{'per registrar':<46}{'payouts':>8}{'released':>18}{'allowance':>18}")
    for registrar, row in report["per_registrar"].items():
        echo(
            f"  {registrar:<44}{row['count']:>8}{amount(row['released']):>18}{amount(row['allowance']):>18}"
        )
    echo(f"{'per course':<46}{'payouts':>8}{'released':>18}")
    for course, row in report["per_course"].items():
        echo(f"  {'course ' + course:<44}{row['count']:>8}{amount(row['released']):>18}")
