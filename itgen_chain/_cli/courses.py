"""Manage courses: add or update amounts, deactivate, list. Amounts as people say them.

ape itgen courses set 1 --registration 450 --completion 50 --account admin
"""

from __future__ import annotations

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    admin_command,
    parse_amount,
    program_option,
    send_changes,
)


@click.group()
def cli() -> None:
    """Courses of the escrow."""


@admin_command(cli, name="set")
@click.argument("course", type=click.IntRange(0, 2**256 - 1))
@click.option("--registration", callback=parse_amount, required=True)
@click.option("--completion", callback=parse_amount, default="0", show_default=True)
@click.option(
    "--provider",
    "provider_number",
    type=click.IntRange(0, 2**16 - 1),
    default=None,
    help="The provider (0-65535) that teaches the course: only its registrars may attest it; default: the current one, 0 when new.",
)
def set_course(
    network, program_name, course, registration, completion, provider_number, sending
) -> None:
    """Add COURSE or update its amounts (it becomes active)."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    change = program.set_course(
        course, program.amount(registration), program.amount(completion), provider_number
    )
    send_changes(program, [change], sending)


cli.add_command(set_course, name="add")
cli.add_command(set_course, name="update")


@admin_command(cli)
@click.argument("course", type=click.IntRange(0, 2**256 - 1))
def deactivate(network, program_name, course, sending) -> None:
    """Stop COURSE from paying."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    change = program.deactivate_course(course)
    send_changes(program, [change], sending)


@cli.command(name="list", cls=ItgenCommand)
@network_option()
@program_option
def list_courses(network, program_name) -> None:
    """Every course ever set, with its amounts and status, and who holds each role."""
    from itgen_chain._cli.click_ext import show_roles
    from itgen_chain.program import connect

    program = connect(program=program_name)
    show_roles(program)
    logs = program.escrow.CourseSet.query("event_arguments", start_block=program.deployment.block)
    for course in sorted(set(args["courseId"] for args in logs["event_arguments"])):
        registration, completion, active, provider = program.escrow.course(course)
        click.echo(
            f"course {course:>5}  registration {program.tokens(registration):>14}  "
            f"completion {program.tokens(completion):>14}  provider {provider:>3}  "
            f"{'active' if active else 'inactive'}"
        )
