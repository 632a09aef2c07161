"""Submit a file of signed attestations from any funded account.

ape run relay signed.json --network bsc:mainnet:node --account relayer
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import dry_run_option, program_option, reports_errors, yes_option
from itgen_chain.config import settings


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("signed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--batch-size",
    type=click.IntRange(1, 500),
    default=lambda: settings().batch_size,
    show_default="itgen: batch_size, 100",
    help="Attestations per transaction at most; cut further to fit BNB Chain's gas cap.",
)
@dry_run_option
@yes_option
@program_option
@reports_errors
def cli(network, program, account, signed: Path, batch_size: int, dry_run: bool, yes: bool) -> None:
    """Relay SIGNED: every signature is checked before anything is sent."""
    from itgen_chain import operations

    operations.relay(
        signed, account, batch_size=batch_size, dry_run=dry_run, yes=yes, program=program
    )
