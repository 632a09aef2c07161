"""The two-step admin handover (OpenZeppelin AccessControlDefaultAdminRules): the admin
begins it, the new admin accepts after the delay; the admin can cancel before.

ape itgen admin begin 0xNEW --account owner1 --safe charity
ape itgen admin accept --account new-admin          ape itgen admin show
"""

from __future__ import annotations

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    admin_command,
    program_option,
    send_changes,
)


@click.group()
def cli() -> None:
    """Hand the admin role over, in two steps with a delay."""


@admin_command(cli)
@click.argument("new_admin")
def begin(network, program_name, new_admin, sending) -> None:
    """Propose NEW_ADMIN (an address, or a Safe); it accepts after the delay."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    change = program.begin_admin_transfer(new_admin)
    send_changes(program, [change], sending)


@admin_command(cli)
def accept(network, program_name, sending) -> None:
    """Take the admin role, as the pending admin, once the delay has passed."""
    from ape import chain

    from itgen_chain.program import connect

    program = connect(program=program_name)
    change = program.accept_admin_transfer(chain.pending_timestamp)
    send_changes(program, [change], sending)


@admin_command(cli)
def cancel(network, program_name, sending) -> None:
    """Withdraw a handover not yet accepted."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    change = program.cancel_admin_transfer()
    send_changes(program, [change], sending)


@cli.command(cls=ItgenCommand)
@network_option()
@program_option
def show(network, program_name) -> None:
    """Who holds each role, and any handover pending."""
    from itgen_chain._cli.click_ext import show_roles
    from itgen_chain.program import connect

    show_roles(connect(program=program_name))
