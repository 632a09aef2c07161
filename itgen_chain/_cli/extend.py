"""Move the program end later, up to the latest end fixed at deployment (the admin).

ape itgen extend 2027-11-30 --account owner1 --safe charity
"""

from __future__ import annotations

import click

from itgen_chain._cli.click_ext import (
    admin_command,
    parse_time,
    send_changes,
)


@admin_command(click)
@click.argument("new_end", callback=parse_time)
def cli(network, program_name, new_end, sending) -> None:
    """Extend the program to NEW_END (a date in UTC or a unix time)."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    send_changes(program, [program.extend(new_end)], sending)
