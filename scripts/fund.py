"""Fund the escrow from --account (the donor): approve, then ScholarshipEscrow.fund.

ape run fund 1000000 --network bsc:mainnet:node --account donor
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain.cli import (
    confirm_or_stop,
    describe_cost,
    dry_run_option,
    parse_amount,
    reports_errors,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.argument("amount", callback=parse_amount)
@dry_run_option
@yes_option
@reports_errors
def cli(network, account, amount: str, dry_run: bool, yes: bool) -> None:
    """Move AMOUNT tokens (as people say it: 1000000, 12.5) into the escrow."""
    from itgen_chain.cli import connect

    conn = connect()
    value = conn.amount(amount)
    click.echo(
        f"fund {amount} tokens ({value} base units) from {account.address} into {conn.escrow.address}"
    )
    needs_approval = conn.token.allowance(account, conn.escrow) < value
    if dry_run:
        gas = (
            conn.token.approve.estimate_gas_cost(conn.escrow, value, sender=account)
            if needs_approval
            else 0
        )
        # fund's own gas cannot be estimated before the approval exists; 90,000 covers it
        click.echo(f"dry run: {describe_cost(gas + 90_000, 1 + needs_approval)}; nothing sent")
        return
    confirm_or_stop("Fund?", yes)
    if needs_approval:
        conn.token.approve(conn.escrow, value, sender=account)
    conn.escrow.fund(value, sender=account)
    click.echo(f"escrow budget now {conn.escrow.budget() / 10**conn.decimals:,.2f} tokens")
