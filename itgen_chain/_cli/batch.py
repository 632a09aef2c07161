"""Execute or propose a Transaction Builder file through the Safe: the route back for a
batch written with --tx-builder (or made in Safe{Wallet}) when its owners sign here.

ape itgen batch drill.json --safe charity --account owner1 --cosigner owner2
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain._cli.click_ext import (
    confirm_or_stop,
    load_account,
    program_option,
    report_outcome,
    reports_errors,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--safe", required=True, help="The Safe (an `ape safe add` alias or an address).")
@click.option("--cosigner", "cosigners", multiple=True, help="Another owner who signs now.")
@yes_option
@program_option
@reports_errors
def cli(network, program, account, file, safe, cosigners, yes) -> None:
    """Send FILE's calls as one Safe transaction, checked first."""
    from ape import chain

    from itgen_chain import safe as safes
    from itgen_chain import tx_builder
    from itgen_chain.exceptions import SafeError
    from itgen_chain.program import connect

    conn = connect(program=program)
    batch, calls = tx_builder.read(file, chain.chain_id)
    account_of_safe = safes.load(safe)
    made_for = batch["meta"].get("createdFromSafeAddress")
    if made_for and made_for.lower() != account_of_safe.address.lower():
        raise SafeError(f"{file} was made for the Safe {made_for}, not {account_of_safe.address}")
    described = [
        safes.Call(f"call {n} to {to} ({len(data)} bytes)", to, value, data)
        for n, (to, value, data) in enumerate(calls, start=1)
    ]
    click.echo(f"{file}: {batch['meta'].get('description') or len(calls)}")
    confirm_or_stop(f"Sign {len(calls)} call(s) for the Safe {account_of_safe.address}?", yes)
    signers = [load_account(alias) for alias in cosigners]
    report_outcome(safes.submit(conn, account_of_safe, described, account, signers))
