"""After the program end: return what is left to the donor (admin or donor).

ape run close --account admin
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain.cli import (
    confirm_or_stop,
    describe_cost,
    dry_run_option,
    reports_errors,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@dry_run_option
@yes_option
@reports_errors
def cli(network, account, dry_run, yes) -> None:
    """Reclaim the escrow's balance to the donor once the program has ended."""
    from itgen_chain.cli import connect

    conn = connect()
    balance = conn.escrow.budget()
    click.echo(f"reclaim {balance / 10**conn.decimals:,.2f} tokens to donor {conn.escrow.donor()}")
    if dry_run:
        gas = conn.escrow.reclaim.estimate_gas_cost(sender=account)
        click.echo(f"dry run: {describe_cost(gas)}; nothing sent")
        return
    confirm_or_stop("Reclaim?", yes)
    conn.escrow.reclaim(sender=account)
