"""Pause or resume releases (the pauser, a guardian, pauses; the admin resumes).

ape itgen pause on --account guardian      ape itgen pause off --account owner1 --safe charity
"""

from __future__ import annotations

import click

from itgen_chain._cli.click_ext import (
    admin_command,
    send_changes,
)


@admin_command(click)
@click.argument("state", type=click.Choice(["on", "off"]))
def cli(network, program_name, state, sending) -> None:
    """on: stop all releases now. off: resume them."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    change = program.pause() if state == "on" else program.unpause()
    # Pausing is the guardian's emergency brake: a guardian's key pauses without a question.
    # Resuming undoes it, after an investigation: it asks (unless --yes), like every change.
    send_changes(program, [change], sending, ask_first=state == "off")
    if not sending.dry_run and not sending.tx_builder and not sending.safe_tx_file:
        click.echo(f"releases {'paused' if program.escrow.paused() else 'running'}")
