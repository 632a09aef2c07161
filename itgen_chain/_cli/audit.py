"""Reconcile the books from the index and write audit.json, payouts.csv and audit.html.

ape run audit --network bsc:mainnet:node --out out/audit [--roster roster.csv]
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

from itgen_chain._cli.click_ext import (
    DatabaseParam,
    escrow_option,
    program_option,
    reports_errors,
    retries_option,
    retries_said,
)
from itgen_chain.config import settings


@click.command(cls=ConnectedProviderCommand)
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
@retries_option
@escrow_option
@program_option
@reports_errors
def cli(
    network, program, db: Path, out: Path, roster: Path | None, escrow: str | None, retries: int
) -> None:
    """Write the audit of the indexed escrow under --out."""
    from itgen_chain.reconcile import run_audit
    from itgen_chain.retrying import install

    install(retries)

    report, paths = run_audit(db, out, roster, echo=click.echo, escrow=escrow, program=program)
    click.echo(f"reconciled: {report['reconciled']}")
    click.echo(f"audit report: {paths['html'].resolve()}")
    if said := retries_said():
        click.echo(said)
