"""Manage courses: add or update amounts, deactivate, list. Amounts as people say them.

ape run courses set 1 --registration 450 --completion 50 --account admin
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import (
    confirm_or_stop,
    parse_amount,
    program_option,
    reports_errors,
    yes_option,
)


@click.group()
def cli() -> None:
    """Courses of the escrow."""


@cli.command(name="set", cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("course", type=click.IntRange(0, 2**256 - 1))
@click.option("--registration", callback=parse_amount, required=True)
@click.option("--completion", callback=parse_amount, default="0", show_default=True)
@yes_option
@program_option
@reports_errors
def set_course(network, program, account, course, registration, completion, yes) -> None:
    """Add COURSE or update its amounts (it becomes active)."""
    from itgen_chain.program import connect

    conn = connect(program=program)
    click.echo(f"course {course}: {registration} on registration, {completion} on completion")
    confirm_or_stop("Set?", yes)
    arguments = (course, conn.amount(registration), conn.amount(completion), True)
    conn.send(f"setting course {course}", conn.escrow.setCourse, *arguments, sender=account)


cli.add_command(set_course, name="add")
cli.add_command(set_course, name="update")


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("course", type=click.IntRange(0, 2**256 - 1))
@yes_option
@program_option
@reports_errors
def deactivate(network, program, account, course, yes) -> None:
    """Stop COURSE from paying."""
    from itgen_chain.program import connect

    conn = connect(program=program)
    registration, completion, _ = conn.escrow.course(course)
    confirm_or_stop(f"Deactivate course {course}?", yes)
    arguments = (course, registration, completion, False)
    conn.send(f"deactivating course {course}", conn.escrow.setCourse, *arguments, sender=account)


@cli.command(name="list", cls=ConnectedProviderCommand)
@network_option()
@program_option
@reports_errors
def list_courses(network, program) -> None:
    """Every course ever set, with its amounts and status."""
    from itgen_chain.program import connect

    conn = connect(program=program)
    logs = conn.escrow.CourseSet.query("event_arguments", start_block=conn.deployment.block)
    for course in sorted(set(args["courseId"] for args in logs["event_arguments"])):
        registration, completion, active = conn.escrow.course(course)
        click.echo(
            f"course {course:>5}  registration {conn.tokens(registration):>14}  "
            f"completion {conn.tokens(completion):>14}  {'active' if active else 'inactive'}"
        )
