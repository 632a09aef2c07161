"""Fund the escrow from --account (the donor): approve, then ScholarshipEscrow.fund.

ape itgen fund 1000000 --network bsc:mainnet:node --account donor
"""

from __future__ import annotations

import click
from ape.cli import account_option, network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    confirm_or_stop,
    describe_cost,
    dry_run_option,
    parse_amount,
    program_option,
    yes_option,
)


@click.command(cls=ItgenCommand)
@network_option()
@account_option()
@click.argument("amount", callback=parse_amount)
@dry_run_option
@yes_option
@program_option
def cli(network, program_name, account, amount: str, dry_run: bool, yes: bool) -> None:
    """Move AMOUNT tokens (as people say it: 1000000, 12.5) into the escrow."""
    from itgen_chain.program import connect

    program = connect(program=program_name)
    funding = program.funding(amount, account)
    click.echo(
        f"fund {program.tokens(funding.value)} tokens ({funding.value} base units) from "
        f"{account.address} into {program.escrow.address}"
    )
    if dry_run:
        gas = program.funding_gas(funding, account)
        transactions = len(funding.approvals) + 1
        click.echo(f"dry run: {describe_cost(gas, transactions)}; nothing sent")
        return
    confirm_or_stop("Fund?", yes)
    program.fund(funding, account)
    click.echo(f"escrow budget now {program.tokens(program.escrow.budget())} tokens")
