"""Send back another token sent to the escrow by mistake (the admin); never the scholarship
token.

ape itgen rescue 0xTOKEN 0xSENDER 1000000000000000000 --account owner1 --safe charity
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import (
    admin_options,
    carry_out,
    program_option,
    reports_errors,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("token")
@click.argument("to")
@click.argument("amount", type=click.IntRange(1, 2**256 - 1))
@admin_options
@yes_option
@program_option
@reports_errors
def cli(network, program, account, token, to, amount, safe, cosigners, tx_builder, yes) -> None:
    """Send AMOUNT base units of TOKEN held by the escrow to TO."""
    from itgen_chain.program import connect

    conn = connect(program=program)
    carry_out(
        conn,
        [conn.rescue(token, to, amount)],
        account,
        safe=safe,
        cosigners=cosigners,
        tx_builder=tx_builder,
        yes=yes,
    )
