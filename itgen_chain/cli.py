"""What the ape scripts share: parsing callbacks, confirmation, and the connected escrow."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

from itgen_chain.amounts import to_base_units
from itgen_chain.exceptions import AmountError

yes_option = click.option("--yes", is_flag=True, help="Do not ask before money moves.")
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Print the plan and its cost; send nothing."
)


def parse_amount(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Checks an amount as typed (``450``, ``12.5``); it is converted once the token is known."""
    if value is None:
        return None
    try:
        to_base_units(value, 36)
    except AmountError as error:
        raise click.BadParameter(str(error)) from None
    return value


def parse_time(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """A date (``2027-08-31``), a date-time in UTC, or a unix time, to a unix time."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a date (2027-08-31) nor a unix time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@dataclass
class Connected:
    """The escrow of the network ape is connected to, with its token."""

    deployment: Any
    escrow: Any
    token: Any
    decimals: int
    legacy_gas: bool

    def amount(self, text: str) -> int:
        return to_base_units(text, self.decimals)


def connect() -> Connected:
    from ape import chain, project

    from itgen_chain import deployments

    provider = chain.provider
    deployment = deployments.current(provider)
    escrow = project.ScholarshipEscrow.at(deployment.escrow)
    token = chain.contracts.instance_at(
        deployment.token, contract_type=project.BscUsdLike.contract_type
    )
    return Connected(
        deployment,
        escrow,
        token,
        token.decimals(),
        legacy_gas=provider.network.ecosystem.name == "bsc",
    )


def confirm_or_stop(message: str, yes: bool) -> None:
    if not yes and not click.confirm(message, default=False):
        raise click.Abort()


def describe_cost(gas: int, transactions: int = 1) -> str:
    """``2 transaction(s), about 150,000 gas at 1.00 gwei = 0.000150 BNB``."""
    from ape import chain

    price = chain.provider.web3.eth.gas_price
    symbol = chain.provider.network.ecosystem.fee_token_symbol
    return (
        f"{transactions} transaction(s), about {gas:,} gas at {price / 1e9:.2f} gwei = "
        f"{gas * price / 1e18:.6f} {symbol}"
    )


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Shows the package's own errors as a plain `Error: ...` and exit code 1, no traceback."""
    from itgen_chain.exceptions import ItgenError

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ItgenError as error:
            raise click.ClickException(str(error)) from error

    return run
