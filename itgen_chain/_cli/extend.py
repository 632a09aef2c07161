"""Move the program end later, up to the latest end fixed at deployment (the admin).

ape itgen extend 2027-11-30 --account owner1 --safe charity
"""

from __future__ import annotations

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    admin_options,
    parse_time,
    program_option,
    send_changes,
)


@click.command(cls=ItgenCommand)
@network_option()
@click.argument("new_end", callback=parse_time)
@admin_options
@program_option
def cli(network, program, new_end, sending) -> None:
    """Extend the program to NEW_END (a date in UTC or a unix time)."""
    from itgen_chain.program import connect

    conn = connect(program=program)
    send_changes(conn, [conn.extend(new_end)], sending)
