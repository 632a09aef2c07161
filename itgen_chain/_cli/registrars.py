"""Manage registrars: add, change allowance or expiry, remove, list.

ape run registrars add 0xABC... --allowance 200000 --expiry 2027-08-31 --account admin
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import (
    confirm_or_stop,
    parse_amount,
    parse_time,
    program_option,
    reports_errors,
    yes_option,
)


@click.group()
def cli() -> None:
    """Registrars of the escrow."""


@cli.command(name="set", cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("registrar")
@click.option(
    "--allowance", callback=parse_amount, required=True, help="Most it may release in total."
)
@click.option(
    "--expiry",
    callback=parse_time,
    help="Date (UTC) or unix time, not past the program end (the default).",
)
@yes_option
@program_option
@reports_errors
def set_registrar(network, program, account, registrar, allowance, expiry, yes) -> None:
    """Add REGISTRAR or change its allowance and expiry."""
    from itgen_chain.exceptions import RegistrarExpiryError
    from itgen_chain.program import connect

    conn = connect(program=program)
    program_end = conn.escrow.programEnd()
    if expiry is None:
        expiry = program_end
    elif expiry > program_end:
        raise RegistrarExpiryError(expiry, program_end)
    click.echo(f"registrar {registrar}: allowance {allowance} tokens, expiry {expiry}")
    confirm_or_stop("Set?", yes)
    arguments = (registrar, conn.amount(allowance), expiry)
    conn.send(
        f"setting registrar {registrar}", conn.escrow.setRegistrar, *arguments, sender=account
    )


cli.add_command(set_registrar, name="add")


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("registrar")
@yes_option
@program_option
@reports_errors
def remove(network, program, account, registrar, yes) -> None:
    """Remove REGISTRAR: it can release nothing afterwards."""
    from itgen_chain.program import connect

    conn = connect(program=program)
    confirm_or_stop(f"Remove registrar {registrar}?", yes)
    what = f"removing registrar {registrar}"
    conn.send(what, conn.escrow.removeRegistrar, registrar, sender=account)


@cli.command(name="list", cls=ConnectedProviderCommand)
@network_option()
@click.argument("registrars", nargs=-1)
@program_option
@reports_errors
def list_registrars(network, program, registrars) -> None:
    """Show allowance, released and expiry of REGISTRARS (default: all ever set)."""
    from itgen_chain.program import connect

    conn = connect(program=program)
    if not registrars:
        logs = conn.escrow.RegistrarSet.query("event_arguments", start_block=conn.deployment.block)
        registrars = sorted(set(args["registrar"] for args in logs["event_arguments"]))
    for address in registrars:
        allowance, released, expiry, epoch, active = conn.escrow.registrar(address)
        click.echo(
            f"{address}  allowance {conn.tokens(allowance):>16}  released "
            f"{conn.tokens(released):>16}  expiry {expiry}  epoch {epoch}  "
            f"{'active' if active else 'removed'}"
        )
