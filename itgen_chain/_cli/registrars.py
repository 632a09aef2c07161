"""Manage registrars: add, change allowance or expiry, remove, a whole table at once, list.

ape itgen registrars add 0xABC... --allowance 200000 --expiry 2027-08-31 --account admin
ape itgen registrars apply registrars.csv --account owner1 --safe charity
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    admin_command,
    parse_amount,
    parse_time,
    program_option,
    send_changes,
)


@click.group()
def cli() -> None:
    """Registrars of the escrow."""


@admin_command(cli, name="set")
@click.argument("registrar")
@click.option(
    "--allowance", callback=parse_amount, required=True, help="Most it may release in total."
)
@click.option(
    "--expiry",
    callback=parse_time,
    help="Date (UTC) or unix time, not past the program end (the default).",
)
@click.option(
    "--provider",
    "provider_number",
    type=click.IntRange(0, 2**16 - 1),
    default=None,
    help="The provider (0-65535) whose courses the registrar may attest; default: the current one, 0 when new.",
)
def set_registrar(
    network, program_name, registrar, allowance, expiry, provider_number, sending
) -> None:
    """Add REGISTRAR or change its allowance and expiry."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    change = program.set_registrar(registrar, program.amount(allowance), expiry, provider_number)
    send_changes(program, [change], sending)


cli.add_command(set_registrar, name="add")


@admin_command(cli)
@click.argument("registrar")
def remove(network, program_name, registrar, sending) -> None:
    """Remove REGISTRAR: it can release nothing afterwards."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    change = program.remove_registrar(registrar)
    send_changes(program, [change], sending)


@admin_command(cli)
@click.argument("table", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def apply(network, program_name, table, sending) -> None:
    """Apply TABLE, a CSV of registrar,allowance[,expiry][,action]: action `set` (the
    default) or `remove`. Through a Safe, every row goes out as one Safe transaction."""
    from itgen_chain.program import connect
    from itgen_chain.registrar_table import changes_from_table

    program = connect(program=program_name)
    changes = changes_from_table(program, table)
    send_changes(program, changes, sending)


@cli.command(name="list", cls=ItgenCommand)
@network_option()
@click.argument("registrars", nargs=-1)
@program_option
def list_registrars(network, program_name, registrars) -> None:
    """Who holds each role; allowance, released and expiry of REGISTRARS (default: all
    ever set)."""
    from itgen_chain._cli.click_ext import show_roles
    from itgen_chain.program import connect

    program = connect(program=program_name)
    show_roles(program)
    if not registrars:
        logs = program.escrow.RegistrarSet.query(
            "event_arguments", start_block=program.deployment.block
        )
        registrars = sorted(set(args["registrar"] for args in logs["event_arguments"]))
    for address in registrars:
        entry = program.escrow.registrar(address)
        click.echo(
            f"{address}  allowance {program.tokens(entry.allowance):>16}  released "
            f"{program.tokens(entry.released):>16}  expiry {entry.expiry}  epoch {entry.epoch}  "
            f"provider {entry.provider}  {'active' if entry.active else 'removed (retired)'}"
        )
