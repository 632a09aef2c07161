"""Students' claims of reserved scholarships (claim links): relay them, or serve the relayer.

    ape itgen claims serve --network bsc:mainnet:node --account relayer --port 8545
    ape itgen claims relay claims.json --network bsc:mainnet:node --account relayer
    ape itgen claims cancel links.csv --rows 3,7 --account registrar-1   # then attest again

Every claim is checked against the chain before it is accepted; nobody is paid twice.
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import account_option, network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    console,
    program_option,
    registrar_escrow_option,
    salt_file_option,
    yes_option,
)


@click.group()
def cli() -> None:
    """Claims of students paid by link."""


@cli.command(cls=ItgenCommand)
@network_option()
@account_option()
@click.argument("claims", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@yes_option
@program_option
@registrar_escrow_option
def relay(network, program_name, escrow, account, claims: Path, yes: bool) -> None:
    """Submit CLAIMS (a JSON list, or one claim per line) carried by hand."""
    from itgen_chain.console import ask
    from itgen_chain.exceptions import ItgenError
    from itgen_chain.program import connect
    from itgen_chain.relayer import ClaimDesk, read_claims

    echo = console()["echo"]
    try:
        items = read_claims(claims)
    except ValueError as error:
        raise ItgenError(str(error)) from None
    program = connect(escrow, program_name)
    desk = ClaimDesk.for_escrow(program)
    refused = 0
    for number, item in enumerate(items, start=1):
        answer = desk.accept(item)
        if not answer.accepted:
            refused += 1
        echo(f"claim {number} ({'0x' + item.student_id.hex()[:12]}…): {answer.message}")
    if desk.pending:
        ask(f"Submit {len(desk.pending)} claim(s)?", yes, console().get("confirm"))
        paid = desk.submit(account, echo)
        echo(f"paid {paid} claim(s)")
    if refused:
        raise ItgenError(f"{refused} claim(s) refused, named above")


@cli.command(cls=ItgenCommand)
@network_option()
@account_option()
@program_option
@registrar_escrow_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8645, show_default=True)
@click.option(
    "--interval",
    type=click.FloatRange(0.5, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between batches of accepted claims.",
)
@click.option(
    "--per-minute",
    type=click.IntRange(1, 10_000),
    default=20,
    show_default=True,
    help="Requests a client address may make per minute.",
)
def serve(network, program_name, escrow, account, host, port, interval, per_minute) -> None:
    """Serve the claim page's relayer: check, journal and pay students' claims."""
    from itgen_chain.claim_server import Limiter, serve
    from itgen_chain.program import connect
    from itgen_chain.relayer import ClaimDesk

    program = connect(escrow, program_name)
    desk = ClaimDesk.for_escrow(program)
    echo = console()["echo"]
    serve(desk, account, host, port, interval, Limiter(per_minute), echo)


@cli.command(cls=ItgenCommand)
@network_option()
@account_option()
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rows", required=True, help="The roster rows whose links to cancel: 3,7,12.")
@yes_option
@program_option
@registrar_escrow_option
@salt_file_option
def cancel(network, program_name, escrow, salt_file, account, roster: Path, rows: str, yes) -> None:
    """Cancel the open reservations of ROSTER's --rows (a lost link): the allowance comes
    back; run `attest` on the roster again to give those students new links."""
    from itgen_chain import jobs

    try:
        wanted = {int(x) for x in rows.replace(" ", "").split(",") if x}
    except ValueError:
        raise click.BadParameter(
            f"{rows!r} is not a list of row numbers", param_hint="--rows"
        ) from None
    jobs.cancel_links(roster, account, wanted, yes=yes, program_name=program_name, escrow=escrow,
                      salt_file=salt_file, **console())  # fmt: skip
