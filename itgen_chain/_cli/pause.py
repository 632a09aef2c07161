"""Pause or resume releases (pauser role to pause, admin to resume).

ape run pause on --account admin      ape run pause off --account admin
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import program_option, reports_errors


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("state", type=click.Choice(["on", "off"]))
@program_option
@reports_errors
def cli(network, program, account, state) -> None:
    """on: stop all releases now. off: resume them."""
    from itgen_chain.exceptions import ItgenError
    from itgen_chain.program import connect

    conn = connect(program=program)
    paused = conn.escrow.paused()
    if paused == (state == "on"):
        raise ItgenError(
            f"releases are already {'paused' if paused else 'running'}; nothing was sent"
        )
    if state == "on":
        conn.send("pausing", conn.escrow.pause, sender=account)
    else:
        conn.send("resuming", conn.escrow.unpause, sender=account)
    click.echo(f"releases {'paused' if conn.escrow.paused() else 'running'}")
