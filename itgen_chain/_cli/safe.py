"""A Safe transaction file, passed from owner to owner with no hosted service: each owner
sees the calls decoded and the Safe transaction hash, then signs on their own machine (or
approves the hash on chain); anyone executes it once the threshold is met.

ape itgen courses set 7 --registration 450 --safe 0xSAFE --account owner1 --safe-tx course7.json
ape itgen safe sign course7.json --account owner2        (on owner 2's machine)
ape itgen safe execute course7.json --account anyone
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    optional_account_option,
    yes_option,
)

files_argument = click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)


@click.group()
def cli() -> None:
    """Safe transaction files: show, sign, approve on chain, execute."""


def _open(files: tuple[Path, ...]) -> tuple[Any, Any, Any, Any]:
    """The files (copies of one Safe transaction, their signatures merged), the program of
    their escrow, the Safe as it is now, and the checked transaction (shown, refused when
    the policy refuses, simulated)."""
    from ape import chain

    from itgen_chain import safe as safes
    from itgen_chain import safe_file
    from itgen_chain.exceptions import SafeError
    from itgen_chain.program import connect
    from itgen_chain.signers import check

    document = safe_file.read(files[0])
    for other in files[1:]:
        document.add(safe_file.read(other))
    if document.safe_tx.chain_id != chain.chain_id:
        raise SafeError(
            f"{files[0]} was made for chain {document.safe_tx.chain_id}, not {chain.chain_id}"
        )
    program = connect(escrow=document.escrow, find_block=False)
    safe = safes.read(chain.provider.web3, document.safe_tx.safe)
    if document.safe_tx.nonce < safe.nonce:
        raise SafeError(
            f"the Safe's nonce is {safe.nonce} and this transaction's {document.safe_tx.nonce}: "
            "it was executed already, or another Safe transaction took its nonce"
        )
    prepared = check(
        program, safe, document.safe_tx, frozenset(), click.echo, said=document.description or None
    )
    return document, program, safe, prepared


def _status(document: Any, safe: Any) -> tuple[list[str], list[str]]:
    """Owners who signed in the file, and owners who approved the hash on chain."""
    from ape import chain

    from itgen_chain import safe as safes

    signed = [owner for owner in document.signatures if safe.is_owner(owner)]
    approved = safes.approvals(chain.provider.web3, safe, document.safe_tx)
    return signed, approved


def _say_status(document: Any, safe: Any) -> None:
    signed, approved = _status(document, safe)
    have = set(signed) | set(approved)
    for owner in safe.owners:
        how = (
            "signed" if owner in signed else "approved on chain" if owner in approved else "not yet"
        )
        click.echo(f"  owner {owner}: {how}")
    if len(have) >= safe.threshold:
        click.echo(f"{len(have)} of {safe.threshold}: ready to execute")
    else:
        click.echo(f"{len(have)} of {safe.threshold}: {safe.threshold - len(have)} more needed")


@cli.command(cls=ItgenCommand)
@network_option()
@files_argument
def show(network, files) -> None:
    """The calls decoded, the Safe transaction hash, and who signed FILES so far."""
    document, _, safe, _ = _open(files)
    _say_status(document, safe)


@cli.command(cls=ItgenCommand)
@network_option()
@optional_account_option
@files_argument
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the signed copy here (default: FILES' first, in place).",
)
@yes_option
def sign(network, account, files, out, yes) -> None:
    """Sign FILES' Safe transaction as the owner --account, after seeing it decoded."""
    from itgen_chain import safe as safes
    from itgen_chain import safe_file
    from itgen_chain.console import ask
    from itgen_chain.exceptions import SafeError
    from itgen_chain.signers import signing

    if account is None:
        raise click.BadParameter("the owner who signs", param_hint="--account")
    document, _, safe, prepared = _open(files)
    if not safe.is_owner(account.address):
        raise SafeError(f"{account.address} is not an owner of {safe.describe()}")
    if account.address in document.signatures:
        raise SafeError(f"{account.address} has signed this Safe transaction already")
    ask(
        f"Sign the Safe transaction {prepared.safe_tx.hash_hex} as {account.address}?",
        yes,
        _confirm,
    )
    with signing(account):
        document.signatures[account.address] = safes.sign(account, prepared.safe_tx)
    path = safe_file.write(out or files[0], document, new=False)
    click.echo(f"signed as {account.address}; wrote {path}")
    _say_status(document, safe)


@cli.command(cls=ItgenCommand)
@network_option()
@optional_account_option
@files_argument
@yes_option
def approve(network, account, files, yes) -> None:
    """Approve FILES' Safe transaction hash on chain (approveHash) as the owner --account:
    the Safe counts it as that owner's signature."""
    from ape import chain

    from itgen_chain import safe as safes
    from itgen_chain.console import ask
    from itgen_chain.exceptions import SafeError
    from itgen_chain.signers import signing

    if account is None:
        raise click.BadParameter("the owner who approves", param_hint="--account")
    document, _, safe, prepared = _open(files)
    if not safe.is_owner(account.address):
        raise SafeError(f"{account.address} is not an owner of {safe.describe()}")
    if account.address in safes.approvals(chain.provider.web3, safe, prepared.safe_tx):
        raise SafeError(f"{account.address} has approved this hash on chain already")
    ask(
        f"Approve the hash {prepared.safe_tx.hash_hex} on chain as {account.address}?",
        yes,
        _confirm,
    )
    contract = safes.ape_contract(safe.address)
    with signing(account):
        receipt = contract.approveHash(prepared.safe_tx.hash, sender=account)
    click.echo(f"approved on chain in {receipt.txn_hash}")
    _say_status(document, safe)


@cli.command(cls=ItgenCommand)
@network_option()
@optional_account_option
@files_argument
@yes_option
def execute(network, account, files, yes) -> None:
    """Execute FILES' Safe transaction (their signatures merged, with on-chain approvals),
    sent from --account (any funded account)."""
    from itgen_chain.console import ask
    from itgen_chain.signers import execute as run

    if account is None:
        raise click.BadParameter("the account that sends the transaction", param_hint="--account")
    document, program, safe, prepared = _open(files)
    signed, approved = _status(document, safe)
    _say_status(document, safe)
    ask(f"Execute the Safe transaction {prepared.safe_tx.hash_hex}?", yes, _confirm)
    signatures = {owner: document.signatures[owner] for owner in signed}
    run(program, safe, prepared.safe_tx, signatures, approved, account, click.echo)


def _confirm(question: str) -> bool:
    return click.confirm(question, default=False)
