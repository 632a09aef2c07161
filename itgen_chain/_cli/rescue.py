"""Send back another token sent to the escrow by mistake (the admin); never the scholarship
token.

ape itgen rescue 0xTOKEN 0xSENDER 1000000000000000000 --account owner1 --safe charity
"""

from __future__ import annotations

import click

from itgen_chain._cli.click_ext import (
    admin_command,
    send_changes,
)


@admin_command(click)
@click.argument("token")
@click.argument("to")
@click.argument("amount", type=click.IntRange(1, 2**256 - 1))
def cli(network, program_name, token, to, amount, sending) -> None:
    """Send AMOUNT base units of TOKEN held by the escrow to TO."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    send_changes(program, [program.rescue(token, to, amount)], sending)
