"""Submit a file of signed attestations from any funded account.

ape itgen relay signed.json --network bsc:mainnet:node --account relayer
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import account_option, network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    batch_size_option,
    console,
    dry_run_option,
    program_option,
    registrar_escrow_option,
    verbose_option,
    yes_option,
)


@click.command(cls=ItgenCommand)
@network_option()
@account_option()
@click.argument("signed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@batch_size_option
@dry_run_option
@yes_option
@program_option
@registrar_escrow_option
@verbose_option
def cli(
    network,
    program_name,
    escrow: str | None,
    verbose: bool,
    account,
    signed: Path,
    batch_size: int,
    dry_run: bool,
    yes: bool,
) -> None:
    """Relay SIGNED: every signature is checked before anything is sent."""
    from itgen_chain import jobs

    jobs.relay(
        signed,
        account,
        batch_size=batch_size,
        dry_run=dry_run,
        yes=yes,
        program_name=program_name,
        escrow=escrow,
        verbose=verbose,
        **console(),
    )
