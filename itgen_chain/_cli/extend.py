"""Move the program end later, up to the latest end fixed at deployment (the admin).

ape itgen extend 2027-11-30 --account owner1 --safe charity
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import (
    admin_options,
    carry_out,
    parse_time,
    program_option,
    reports_errors,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("new_end", callback=parse_time)
@admin_options
@yes_option
@program_option
@reports_errors
def cli(network, program, account, new_end, safe, cosigners, tx_builder, yes) -> None:
    """Extend the program to NEW_END (a date in UTC or a unix time)."""
    from itgen_chain.program import connect

    conn = connect(program=program)
    carry_out(
        conn,
        [conn.extend(new_end)],
        account,
        safe=safe,
        cosigners=cosigners,
        tx_builder=tx_builder,
        yes=yes,
    )
