"""What the commands share: options, parsing callbacks that raise click.BadParameter,
confirmation, cost, and the one place that turns the package's errors into `Error: ...`."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from itgen_chain.amounts import to_base_units
from itgen_chain.exceptions import AmountError

yes_option = click.option("--yes", is_flag=True, help="Do not ask before money moves.")


def _default_batch_size() -> int:
    from itgen_chain.config import settings

    return settings().batch_size


batch_size_option = click.option(
    "--batch-size",
    type=click.IntRange(1, 500),
    default=_default_batch_size,
    show_default="itgen: batch_size, 100",
    help="Attestations per transaction at most; cut further to fit BNB Chain's gas cap.",
)
program_option = click.option(
    "--program",
    default="main",
    show_default=True,
    help="Which of the network's programs (each has its record and salt): see `ape itgen programs`.",
)
escrow_option = click.option(
    "--escrow",
    help="Any ScholarshipEscrow by address, with no deployment record (an outside auditor). "
    "Default: the recorded program of --network.",
)
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
