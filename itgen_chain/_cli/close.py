"""After the program end: return what is left to the donor (admin or donor).

ape run close --account admin
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import (
    confirm_or_stop,
    describe_cost,
    dry_run_option,
    program_option,
    reports_errors,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@dry_run_option
@yes_option
@program_option
@reports_errors
def cli(network, program, account, dry_run, yes) -> None:
    """Reclaim the escrow's balance to the donor once the program has ended."""
    from ape import chain

    from itgen_chain.amounts import format_time
    from itgen_chain.exceptions import ItgenError
    from itgen_chain.program import connect

    conn = connect(program=program)
    balance = conn.escrow.budget()
    end = conn.escrow.programEnd()
    if chain.pending_timestamp <= end:
        raise ItgenError(
            f"the program runs until {format_time(end)}: close it after that; nothing was sent"
        )
    if balance == 0:
        raise ItgenError("the escrow holds nothing: already closed? Nothing was sent")
    click.echo(f"reclaim {conn.tokens(balance)} tokens to donor {conn.escrow.donor()}")
    conn.check("closing", conn.escrow.reclaim, sender=account)
    if dry_run:
        gas = conn.escrow.reclaim.estimate_gas_cost(sender=account)
        click.echo(f"dry run: {describe_cost(gas)}; nothing sent")
        return
    confirm_or_stop("Reclaim?", yes)
    conn.escrow.reclaim(sender=account)
    click.echo(f"returned {conn.tokens(balance)} tokens to the donor")
