"""Deploy the escrow and record it for every other command.

    ape itgen deploy --token 0x55d3...7955 --donor 0x... --admin 0xSafe... --pauser 0xGuardian... \
        --program-end 2027-08-31 --latest-program-end 2027-12-31 \
        --network bsc:mainnet:node --account deployer

On a local chain, --token may be left out: a BSC-USD-like test token is deployed.
"""

from __future__ import annotations

import click
from ape.cli import account_option, network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    confirm_or_stop,
    describe_cost,
    dry_run_option,
    parse_time,
    program_option,
    yes_option,
)
from itgen_chain.amounts import format_time


@click.command(cls=ItgenCommand)
@network_option()
@account_option()
@click.option("--token", help="The scholarship token's address (BSC-USD on BNB Chain).")
@click.option("--donor", required=True, help="Receives what is left after the program ends.")
@click.option("--admin", help="The admin; a multisig on mainnet. Default: --account.")
@click.option("--pauser", help="The guardian, who can only pause. Default: the admin.")
@click.option(
    "--admin-delay-days",
    type=click.IntRange(0, 365),
    default=3,
    show_default=True,
    help="Days between proposing a new admin and its taking over.",
)
@click.option("--program-end", callback=parse_time, required=True, help="Date (UTC) or unix time.")
@click.option(
    "--latest-program-end",
    callback=parse_time,
    help="The latest the program end may ever move to, agreed with the donor. Default: the end.",
)
@click.option("--force", is_flag=True, help="Replace a live deployment record.")
@dry_run_option
@yes_option
@program_option
def cli(
    network,
    program_name,
    account,
    token,
    donor,
    admin,
    pauser,
    admin_delay_days,
    program_end,
    latest_program_end,
    force,
    dry_run,
    yes,
) -> None:
    """Deploy ScholarshipEscrow and write deployments/<ecosystem>-<network>.json."""
    from ape import chain, project
    from ape.contracts import ContractContainer

    from itgen_chain import compiled
    from itgen_chain.deployer import Terms, deploy
    from itgen_chain.exceptions import DeploymentError

    if token is None:
        if not chain.provider.network.is_local:
            raise click.BadParameter(
                "--token is required outside a local chain", param_hint="--token"
            )
        test_token = getattr(project, "BscUsdLike", None)  # in the repository only
        if test_token is None:
            raise DeploymentError("--token is required: no test token outside the repository")
        token = test_token.deploy(sender=account).address
        click.echo(f"deployed a BSC-USD-like test token at {token}")
    admin = admin or account.address
    terms = Terms(
        token,
        donor,
        admin,
        program_end,
        pauser=pauser,
        admin_delay=admin_delay_days * 86_400,
        latest_program_end=latest_program_end,
    )
    arguments = terms.arguments()
    if arguments[6] < program_end:
        raise DeploymentError(
            f"--latest-program-end {format_time(arguments[6])} is before the program end "
            f"{format_time(program_end)}: it is the latest the end may ever move to"
        )
    click.echo(
        f"escrow: token {token}, donor {donor}, admin {admin}, pauser {arguments[3]}, "
        f"admin handover delay {admin_delay_days} day(s), program end {format_time(program_end)}, "
        f"latest program end {format_time(arguments[6])}"
    )
    if dry_run:
        container = ContractContainer(compiled.escrow_type())
        txn = container.constructor.serialize_transaction(*arguments, sender=account)
        click.echo(f"dry run: {describe_cost(chain.provider.estimate_gas_cost(txn))}; nothing sent")
        return
    confirm_or_stop("Deploy?", yes)
    record = deploy(account, terms, force, program_name)
    click.echo(
        f"ScholarshipEscrow at {record.escrow} (block {record.block}, chain {record.chain_id})"
    )
