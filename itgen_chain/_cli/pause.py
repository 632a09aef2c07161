"""Pause or resume releases (the pauser, a guardian, pauses; the admin resumes).

ape itgen pause on --account guardian      ape itgen pause off --account owner1 --safe charity
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import (
    admin_options,
    carry_out,
    program_option,
    reports_errors,
)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("state", type=click.Choice(["on", "off"]))
@admin_options
@program_option
@reports_errors
def cli(network, program, account, state, safe, cosigners, tx_builder) -> None:
    """on: stop all releases now. off: resume them."""
    from itgen_chain.program import connect

    conn = connect(program=program)
    change = conn.pause() if state == "on" else conn.unpause()
    # Pausing is the guardian's emergency brake and resuming undoes it: neither asks.
    carry_out(
        conn,
        [change],
        account,
        safe=safe,
        cosigners=cosigners,
        tx_builder=tx_builder,
        yes=True,
    )
    click.echo(f"releases {'paused' if conn.escrow.paused() else 'running'}")
