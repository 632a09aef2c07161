"""Sign a roster's attestations off-line (EIP-712) for a relayer to submit. No gas needed.

ape itgen sign roster.csv --out signed.json --network bsc:mainnet:node --account registrar-1
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import account_option, network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    console,
    delimiter_option,
    program_option,
    reference_pattern_option,
    registrar_escrow_option,
    salt_file_option,
    yes_option,
)


@click.command(cls=ItgenCommand)
@network_option()
@account_option()
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--valid-days",
    type=click.IntRange(1, 30),
    default=30,
    show_default=True,
    help="How long the signatures are valid; the escrow refuses a deadline more than 30 days "
    "after submission.",
)
@reference_pattern_option
@delimiter_option
@yes_option
@program_option
@registrar_escrow_option
@salt_file_option
def cli(
    network,
    program_name,
    escrow: str | None,
    salt_file: Path | None,
    account,
    roster: Path,
    out: Path,
    valid_days: int,
    reference_pattern: str | None,
    delimiter: str | None,
    yes: bool,
) -> None:
    """Write signed attestations for ROSTER to --out."""
    from itgen_chain import jobs

    jobs.sign(
        roster,
        account,
        out,
        valid_days=valid_days,
        pattern=reference_pattern,
        delimiter=delimiter,
        program_name=program_name,
        escrow=escrow,
        salt_file=salt_file,
        yes=yes,
        **console(),
    )
