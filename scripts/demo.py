"""The program end to end on a local chain.

ape run demo --network ethereum:local:foundry
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, network_option


@click.command(cls=ConnectedProviderCommand)
@network_option()
def cli() -> None:
    """Deploy a BSC-USD-like token and the escrow on the local chain and fund it."""
    from ape import accounts, chain, project

    admin, donor = accounts.test_accounts[0], accounts.test_accounts[1]
    unit = 10**18
    token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 270 * 86_400
    escrow = project.ScholarshipEscrow.deploy(token, donor, admin, end, sender=admin)
    token.mint(donor, 1_000_000 * unit, sender=donor)
    token.approve(escrow, 1_000_000 * unit, sender=donor)
    escrow.fund(1_000_000 * unit, sender=donor)
    click.echo(f"token  (BSC-USD-like, 18 decimals) {token.address}")
    click.echo(f"escrow (ScholarshipEscrow {escrow.version()})  {escrow.address}")
    click.echo(f"funded {escrow.budget() / unit:,.0f} USDT by donor {donor.address}")
