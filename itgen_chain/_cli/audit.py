"""Reconcile the books from the index and write audit.json, payouts.csv and audit.html.

ape itgen audit --network bsc:mainnet:node --out out/audit [--roster roster.csv]
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import (
    DatabaseParam,
    ItgenCommand,
    escrow_option,
    program_option,
    retries_option,
    retries_said,
)
from itgen_chain.config import settings


@click.command(cls=ItgenCommand)
@network_option()
@click.option(
    "--db",
    type=DatabaseParam(exists=True),
    default=lambda: settings().work_folder / "index.sqlite",
    show_default="var/index.sqlite (itgen: work_folder)",
    help="The index: a SQLite file, or a PostgreSQL database (postgresql://user@host/name).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out") / "audit",
    show_default=True,
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Cross-check the payouts against this roster.",
)
@click.option(
    "--all-programs",
    is_flag=True,
    help="Audit every program recorded for the network (indexed together by `index "
    "--all-programs`): a report per program under --out/<program>, and the charity's books.",
)
@retries_option
@escrow_option
@program_option
def cli(
    network,
    program_name,
    db: Path | str,
    out: Path,
    roster: Path | None,
    escrow: str | None,
    all_programs: bool,
    retries: int,
) -> None:
    """Write the audit of the indexed escrow under --out."""
    import json

    from ape import chain

    from itgen_chain import records
    from itgen_chain.amounts import format_tokens
    from itgen_chain.audit import charity_summary, run_audit
    from itgen_chain.retrying import install

    install(retries)
    if not all_programs:
        report, paths = run_audit(
            db, out, roster, echo=click.echo, escrow=escrow, program_name=program_name
        )
        click.echo(f"reconciled: {report['reconciled']}")
        click.echo(f"audit report: {paths['html'].resolve()}")
    else:
        network = chain.provider.network
        reports = {}
        for record in records.programs(network.ecosystem.name, network.name):
            if not chain.provider.web3.eth.get_code(record.escrow):
                continue  # a local chain restarted since: nothing to audit
            click.echo(f"\n== program {record.program} ({record.escrow})")
            reports[record.program], paths = run_audit(
                db, out / record.program, echo=click.echo, program_name=record.program
            )
            click.echo(f"audit report: {paths['html'].resolve()}")
        summary = charity_summary(reports)
        out.mkdir(parents=True, exist_ok=True)
        (out / "charity.json").write_text(json.dumps(summary, indent=1) + "\n")
        click.echo(f"\n== the charity: {len(reports)} program(s)")
        for token, books in summary["totals_by_token"].items():
            click.echo(f"  {books['symbol']} ({token})")
            for key, value in books["totals"].items():
                amount = format_tokens(int(value["base_units"]), books["decimals"])
                click.echo(f"    {key:<22}{amount:>20}")
        click.echo(f"reconciled: {summary['reconciled']} ({out / 'charity.json'})")
    if said := retries_said():
        click.echo(said)
