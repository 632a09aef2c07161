"""After the program end: return what is left to the donor (the admin or the donor).

ape itgen close --account admin
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import (
    admin_options,
    carry_out,
    describe_cost,
    dry_run_option,
    program_option,
    reports_errors,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@admin_options
@dry_run_option
@yes_option
@program_option
@reports_errors
def cli(network, program, account, safe, cosigners, tx_builder, dry_run, yes) -> None:
    """Reclaim the escrow's balance to the donor once the program has ended."""
    from ape import chain

    from itgen_chain.program import connect

    conn = connect(program=program)
    change = conn.close(chain.pending_timestamp)
    if dry_run:
        conn.check(change.what, change.method, sender=account)
        gas = conn.escrow.reclaim.estimate_gas_cost(sender=account)
        click.echo(f"{change.what}\ndry run: {describe_cost(gas)}; nothing sent")
        return
    carry_out(
        conn, [change], account, safe=safe, cosigners=cosigners, tx_builder=tx_builder, yes=yes
    )
