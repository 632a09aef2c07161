"""Deploy the escrow and record it for every other command.

    ape run deploy --token 0x55d3...7955 --donor 0x... --program-end 2027-08-31 \
        --network bsc:mainnet:node --account admin

On a local chain, --token may be left out: a BSC-USD-like test token is deployed.
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from itgen_chain.cli import (
    confirm_or_stop,
    describe_cost,
    dry_run_option,
    parse_time,
    reports_errors,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.option("--token", help="The scholarship token's address (BSC-USD on BNB Chain).")
@click.option("--donor", required=True, help="Receives what is left after the program ends.")
@click.option("--admin", help="Admin and pauser; a multisig on mainnet. Default: --account.")
@click.option("--program-end", callback=parse_time, required=True, help="Date (UTC) or unix time.")
@click.option("--force", is_flag=True, help="Replace a live deployment record.")
@dry_run_option
@yes_option
@reports_errors
def cli(network, account, token, donor, admin, program_end, force, dry_run, yes) -> None:
    """Deploy ScholarshipEscrow and write deployments/<ecosystem>-<network>.json."""
    from ape import chain, project

    from itgen_chain.deploying import deploy

    if token is None:
        if not chain.provider.network.is_local:
            raise click.BadParameter(
                "--token is required outside a local chain", param_hint="--token"
            )
        token = project.BscUsdLike.deploy(sender=account).address
        click.echo(f"deployed a BSC-USD-like test token at {token}")
    admin = admin or account.address
    click.echo(f"escrow: token {token}, donor {donor}, admin {admin}, program end {program_end}")
    if dry_run:
        txn = project.ScholarshipEscrow.constructor.serialize_transaction(
            token, donor, admin, program_end, sender=account
        )
        click.echo(f"dry run: {describe_cost(chain.provider.estimate_gas_cost(txn))}; nothing sent")
        return
    confirm_or_stop("Deploy?", yes)
    record = deploy(account, token, donor, admin, program_end, force)
    click.echo(
        f"ScholarshipEscrow at {record.escrow} (block {record.block}, chain {record.chain_id})"
    )
