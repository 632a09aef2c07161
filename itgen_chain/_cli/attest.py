"""Attest a roster CSV as a registrar: validate every row, then pay in batches.

    ape itgen attest roster.csv --network bsc:testnet:node --account registrar-1

Safe to run again: rows already paid are skipped, and a run that was killed is resumed
from its journal first, so nobody is paid twice.

A roster with no payee column (students without a wallet) is reserved instead, and each
student gets a claim link, written with a QR code to the claim sheet (--links-out).
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import account_option, network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    batch_size_option,
    console,
    delimiter_option,
    dry_run_option,
    program_option,
    reference_pattern_option,
    registrar_escrow_option,
    salt_file_option,
    verbose_option,
    yes_option,
)


@click.command(cls=ItgenCommand)
@network_option()
@account_option()
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@batch_size_option
@dry_run_option
@yes_option
@reference_pattern_option
@delimiter_option
@program_option
@registrar_escrow_option
@verbose_option
@salt_file_option
@click.option(
    "--claim-page",
    default=None,
    help="The charity's claim page URL, for a roster with no payee column (default: "
    "claim_page in the itgen: config).",
)
@click.option(
    "--links-out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the claim sheet goes (default: claims/<roster name>/).",
)
def cli(
    network,
    program_name,
    escrow: str | None,
    verbose: bool,
    salt_file: Path | None,
    account,
    roster: Path,
    batch_size: int,
    dry_run: bool,
    yes: bool,
    reference_pattern: str | None,
    delimiter: str | None,
    claim_page: str | None,
    links_out: Path | None,
) -> None:
    """Release the scholarships of ROSTER, signed by --account (a registrar)."""
    from itgen_chain import jobs

    jobs.attest(
        roster,
        account,
        batch_size=batch_size,
        dry_run=dry_run,
        yes=yes,
        pattern=reference_pattern,
        delimiter=delimiter,
        program_name=program_name,
        escrow=escrow,
        verbose=verbose,
        salt_file=salt_file,
        claim_page=claim_page,
        links_out=links_out,
        **console(),
    )
