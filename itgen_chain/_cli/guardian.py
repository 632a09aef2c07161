"""The guardian: a key (or a low-threshold Safe) that may pause and nothing else. The admin
names it and takes the role back, for example from a stolen guardian key that pauses again
after every unpause.

ape itgen guardian revoke 0xSTOLEN --safe charity --account owner1 --safe-tx revoke.json
"""

from __future__ import annotations

import click

from itgen_chain._cli.click_ext import (
    admin_command,
    send_changes,
)


@click.group()
def cli() -> None:
    """Grant or revoke the pauser role (the admin)."""


@admin_command(cli, name="set")
@click.argument("guardian")
def set_guardian(network, program_name, guardian, sending) -> None:
    """Make GUARDIAN a pauser: it may pause all releases, nothing else."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    send_changes(program, [program.set_guardian(guardian)], sending)


@admin_command(cli)
@click.argument("guardian")
def revoke(network, program_name, guardian, sending) -> None:
    """Take the pauser role from GUARDIAN."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    send_changes(program, [program.revoke_guardian(guardian)], sending)
