"""A Transaction Builder file (written with --tx-builder, or made in Safe{Wallet}) through
the Safe: its calls decoded from their calldata and shown with the Safe transaction hash,
refused where an admin batch never goes, simulated whole; then executed here, or written as
a Safe transaction file for owners on other machines.

ape itgen batch drill.json --check --safe charity
ape itgen batch drill.json --safe charity --account owner1 --cosigner owner2
ape itgen batch drill.json --safe charity --account owner1 --safe-tx drill.safe.json
"""

from __future__ import annotations

from pathlib import Path

import click

from itgen_chain._cli.click_ext import admin_command


@admin_command(click)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Decode, check and simulate only: sign nothing.")
@click.option(
    "--allow-target",
    "allow_targets",
    multiple=True,
    help="Also allow calls to this address (besides the program's escrow); repeat for more.",
)
def cli(network, program_name, file, check, allow_targets, sending) -> None:
    """Send FILE's calls as one Safe transaction, shown decoded and checked first."""
    from ape import chain
    from eth_utils import is_address, to_checksum_address

    from itgen_chain import tx_builder
    from itgen_chain.exceptions import SafeError
    from itgen_chain.program import connect
    from itgen_chain.signers import carry_out_calls

    if sending.safe is None:
        raise click.BadParameter("the Safe that runs the batch", param_hint="--safe")
    if sending.tx_builder is not None:
        raise click.BadParameter(
            "batch reads a Transaction Builder file", param_hint="--tx-builder"
        )
    for target in allow_targets:
        if not is_address(target):
            raise click.BadParameter(f"{target!r} is not an address", param_hint="--allow-target")
    sending.allow_targets = frozenset(to_checksum_address(t) for t in allow_targets)
    program = connect(program=program_name)
    batch, calls = tx_builder.read(file, chain.chain_id)
    from itgen_chain.safe import resolve

    made_for = str(batch["meta"].get("createdFromSafeAddress") or "")
    safe_address = resolve(sending.safe)
    if made_for and made_for.lower() != safe_address.lower():
        raise SafeError(f"{file} was made for the Safe {made_for}, not {safe_address}")
    sending.dry_run = sending.dry_run or check
    said = batch["meta"].get("description") or batch["meta"].get("name") or None
    carry_out_calls(
        program,
        calls,
        sending,
        click.echo,
        lambda question: click.confirm(question, default=False),
        said=said,
        file_says=True,
    )
