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
def cli(network, program, account, amount: str, dry_run: bool, yes: bool) -> None:
    """Move AMOUNT tokens (as people say it: 1000000, 12.5) into the escrow."""
    from itgen_chain.exceptions import InsufficientBalance, NothingSent
    from itgen_chain.program import connect

    conn = connect(program=program)
    value = conn.amount(amount)
    if value == 0:
        raise NothingSent("the amount is zero")
    click.echo(
        f"fund {conn.tokens(value)} tokens ({value} base units) from {account.address} "
        f"into {conn.escrow.address}"
    )
    held = conn.token.balanceOf(account)
    if held < value:
        raise InsufficientBalance(account.address, conn.tokens(held), conn.tokens(value))
    # Tether-style tokens refuse to change a non-zero allowance to another non-zero one
    # ("reset to 0 first"): a leftover allowance is set to zero before the new one.
    allowance = conn.token.allowance(account, conn.escrow)
    approvals = [] if allowance >= value else ([0, value] if allowance else [value])
    if dry_run:
        gas = sum(
            conn.token.approve.estimate_gas_cost(conn.escrow, 0, sender=account) for _ in approvals
        )
        # fund's own gas cannot be estimated before the approval exists; 90,000 covers it
        transactions = len(approvals) + 1
        click.echo(f"dry run: {describe_cost(gas + 90_000, transactions)}; nothing sent")
        return
    confirm_or_stop("Fund?", yes)
    for approval in approvals:
        what = f"approving {conn.tokens(approval)} tokens"
        conn.send(what, conn.token.approve, conn.escrow, approval, sender=account)
    conn.send("funding", conn.escrow.fund, value, sender=account)
    click.echo(f"escrow budget now {conn.tokens(conn.escrow.budget())} tokens")
