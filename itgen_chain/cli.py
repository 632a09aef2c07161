"""What the ape scripts share: parsing callbacks, confirmation, and the connected escrow."""

from __future__ import annotations

import functools
import re
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


def parse_pattern(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A regular expression, checked to compile."""
    if value is None:
        return None
    try:
        re.compile(value)
    except re.error as error:
        raise click.BadParameter(f"not a regular expression: {error}") from None
    return value


reference_pattern_option = click.option(
    "--reference-pattern",
    callback=parse_pattern,
    help="A regular expression every normalised student_ref must match whole "
    "(for programs that issue codes, e.g. 'ua-\\d{4}-\\d{5}').",
)
delimiter_option = click.option(
    "--delimiter",
    type=click.Choice([",", ";", "tab"]),
    callback=lambda ctx, param, value: "\t" if value == "tab" else value,
    help="The roster's column separator. Default: detected from the header.",
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

    def tokens(self, base_units: int) -> str:
        """Base units as exact tokens: ``12.345678``."""
        from itgen_chain.amounts import format_tokens

        return format_tokens(base_units, self.decimals)

    def send(self, what: str, method: Any, *args: Any, sender: Any) -> Any:
        """Simulates `method` with eth_call first; a revert becomes one line naming `what`
        and the reason in words, and nothing is sent. Then sends it."""
        self.check(what, method, *args, sender=sender)
        return method(*args, sender=sender)

    def check(self, what: str, method: Any, *args: Any, sender: Any) -> None:
        """Raises ItgenError with the reason in words if `method` would revert."""
        from itgen_chain.escrow import _is_connection_error
        from itgen_chain.exceptions import ItgenError
        from itgen_chain.indexer import escrow_abi
        from itgen_chain.reverts import explain

        try:
            method.call(*args, sender=sender)
        except Exception as error:  # ape's ContractLogicError and its custom errors
            if _is_connection_error(error):
                raise
            abi = escrow_abi(self.escrow.contract_type) + escrow_abi(self.token.contract_type)
            reason = explain(error, abi, self.decimals) or _first_line(error)
            raise ItgenError(f"{what} would revert: {reason}; nothing was sent") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


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
