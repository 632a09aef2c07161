"""What the commands share: options, parsing callbacks that raise click.BadParameter,
confirmation, cost, and the one place that turns the package's errors into `Error: ...`."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand, network_option

from itgen_chain.amounts import to_base_units
from itgen_chain.config import ItgenConfig
from itgen_chain.exceptions import AmountError

yes_option = click.option("--yes", is_flag=True, help="Do not ask before money moves.")


def _default_batch_size() -> int:
    from itgen_chain.config import settings

    return settings().batch_size


batch_size_option = click.option(
    "--batch-size",
    type=click.IntRange(1, 500),
    default=_default_batch_size,
    show_default=f"itgen: batch_size, {ItgenConfig.model_fields['batch_size'].default}",
    help="Attestations per transaction at most; cut further to fit BNB Chain's gas cap.",
)
program_option = click.option(
    "--program",
    "program_name",
    default="main",
    show_default=True,
    help="Which of the network's programs (each has its record and salt): see `ape itgen programs`.",
)
escrow_option = click.option(
    "--escrow",
    help="Any ScholarshipEscrow by address, with no deployment record (an outside auditor). "
    "Default: the recorded program of --network.",
)

# A registrar's way to a program without the admin's deployment record.
registrar_escrow_option = click.option(
    "--escrow",
    help="The escrow by address, with no deployment record here (token, decimals and state "
    "are read from the chain). Default: the recorded program of --network.",
)
verbose_option = click.option(
    "--verbose",
    is_flag=True,
    help="Show each transaction in full and confirm it, as ape does (a keystore account); "
    "by default one line per batch.",
)
salt_file_option = click.option(
    "--salt-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --escrow: the program salt file the admin handed you.",
)


def _default_retries() -> int:
    from itgen_chain.config import settings

    return settings().retries


retries_option = click.option(
    "--retries",
    type=click.IntRange(0),
    default=_default_retries,
    show_default=f"itgen: retries, {ItgenConfig.model_fields['retries'].default}",
    help="Tries again on rate limits (429, -32005 limit exceeded, -32029) and dropped "
    "connections, with exponential backoff.",
)


def retries_said() -> str:
    """``provider: 12 rate limit(s) and 3 dropped connection(s) (8.5 s of backoff)``: every
    refusal the provider sent, counted once; or ""."""
    from itgen_chain.retrying import DROPPED, RATE, current

    retrier = current()
    if retrier is None or not (retrier.counts[RATE] or retrier.counts[DROPPED]):
        return ""
    return (
        f"provider: {retrier.counts[RATE]} rate limit(s) and {retrier.counts[DROPPED]} dropped "
        f"connection(s) ({retrier.waited:.1f} s of backoff)"
    )


class DatabaseParam(click.ParamType):
    """An index database: a SQLite file path, or a postgresql:// URL."""

    name = "PATH|postgresql://..."

    def __init__(self, exists: bool = False) -> None:
        self.exists = exists

    def convert(self, value: Any, param: Any, ctx: Any) -> Path | str:
        from itgen_chain.store import is_url

        if isinstance(value, Path) or not is_url(str(value)):
            path = Path(value)
            if self.exists and not path.is_file():
                self.fail(f"{path} does not exist: run `ape itgen index` first", param, ctx)
            return path
        return str(value)


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


@contextmanager
def _progress_bar(total: int, label: str) -> Iterator[Callable[[int], None]]:
    bar: Any
    with click.progressbar(length=total, label=label) as bar:
        yield bar.update


def console() -> dict[str, Any]:
    """The echo, confirm and progress bar a library job takes, from click."""
    return {
        "echo": click.echo,
        "confirm": lambda question: click.confirm(question, default=False),
        "progress": _progress_bar,
    }


def describe_cost(gas: int, transactions: int = 1) -> str:
    """``2 transaction(s), about 150,000 gas at 1.00 gwei = 0.000150 BNB``."""
    from ape import chain

    price = chain.provider.web3.eth.gas_price
    symbol = chain.provider.network.ecosystem.fee_token_symbol
    return (
        f"{transactions} transaction(s), about {gas:,} gas at {price / 1e9:.2f} gwei = "
        f"{gas * price / 1e18:.6f} {symbol}"
    )


# The node of each BNB Chain network, from the environment, as README documents: the same
# outside the repository (an installed wheel, no ape-config.yaml) as inside it.
ENDPOINT_VARIABLES = {
    ("bsc", "testnet"): "BSC_TESTNET_RPC_URL",
    ("bsc", "mainnet"): "BSC_MAINNET_RPC_URL",
}


def use_documented_endpoint(provider: Any) -> None:
    """Points ape's `node` provider of bsc:testnet or bsc:mainnet at the URL in its
    variable when no URI is configured for it; with neither, refuses in one line instead of
    letting ape try public endpoints for minutes."""
    import os

    from itgen_chain.exceptions import ItgenError

    network = provider.network
    variable = ENDPOINT_VARIABLES.get((network.ecosystem.name, network.name))
    if variable is None or provider.name != "node":
        return
    try:
        configured = provider._configured_rpc
    except Exception:  # an unresolved ${VARIABLE} in ape-config.yaml: not a URI
        configured = None
    if configured:
        return
    url = os.environ.get(variable, "").strip()
    if not url:
        raise ItgenError(
            f"{network.ecosystem.name}:{network.name}:node needs your node's address: "
            f"export {variable}=https://... (your provider's URL) and run again"
        )
    provider.provider_settings["uri"] = url


class ItgenCommand(ConnectedProviderCommand):
    """ape's ConnectedProviderCommand, with what each itgen command needs as it runs:
    retries and offline explorer lookups installed, the documented endpoint of BNB Chain's
    networks, and the package's errors (ItgenError) shown as one line `Error: ...` with exit
    code 1, wherever they are raised, connecting included."""

    def invoke(self, ctx: click.Context) -> Any:
        from ape.api import ProviderAPI

        from itgen_chain.config import settings
        from itgen_chain.exceptions import ItgenError
        from itgen_chain.offline import keep_explorer_lookups_offline
        from itgen_chain.retrying import install

        try:
            # When a command runs, not when the package is imported: explorer lookups kept
            # offline, and every JSON-RPC call retried (connecting included; a command's
            # --retries installs its own number later).
            keep_explorer_lookups_offline()
            install(settings().retries)
            from ape.cli.options import NETWORK_META_KEY

            for provider in (
                (ctx.meta.get(NETWORK_META_KEY) or {}).get("provider"),
                (ctx.obj or {}).get("provider") if isinstance(ctx.obj, dict) else None,
                ctx.params.get("network"),
            ):
                if isinstance(provider, ProviderAPI):
                    use_documented_endpoint(provider)
                    break
            return super().invoke(ctx)
        except ItgenError as error:
            raise click.ClickException(str(error)) from error


def _load_optional_account(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    return None if value is None else load_account(value, "--account")


# --account where it may be left out (a Transaction Builder file needs no signer).
optional_account_option = click.option(
    "--account",
    callback=_load_optional_account,
    help="The ape account (alias, or TEST::N on a local chain) that signs or sends.",
)


def admin_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """How an admin change is signed and sent, gathered into one `sending` argument:
    --account, --safe, --cosigner, --safe-tx, --tx-builder, --append, --service,
    --dry-run and --yes."""
    from itgen_chain.signers import Sending

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        names = (
            "account",
            "safe",
            "cosigners",
            "safe_tx_file",
            "tx_builder",
            "append",
            "service",
            "dry_run",
            "yes",
        )
        given = {name: kwargs.pop(name) for name in names}
        if given["append"] and given["tx_builder"] is None:
            raise click.BadParameter("--append adds to a --tx-builder file", param_hint="--append")
        routes = [n for n in ("safe_tx_file", "tx_builder", "service") if given[n]]
        if len(routes) > 1:
            raise click.UsageError("choose one of --safe-tx, --tx-builder and --service")
        if routes and given["safe"] is None:
            raise click.BadParameter(
                "this route goes through a Safe: add --safe", param_hint="--safe"
            )
        given["cosigners"] = [load_account(alias, "--cosigner") for alias in given["cosigners"]]
        kwargs["sending"] = Sending(**given)
        return command(*args, **kwargs)

    options = [
        optional_account_option,
        click.option(
            "--safe",
            help="The admin is this Safe (an address or an `ape safe add` alias): the calls are "
            "shown decoded with the Safe transaction hash, checked and simulated, then signed.",
        ),
        click.option(
            "--cosigner",
            "cosigners",
            multiple=True,
            help="Another Safe owner (an ape account alias) who signs now; repeat for more.",
        ),
        click.option(
            "--safe-tx",
            "safe_tx_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write a Safe transaction file for owners to sign on their own machines "
            "(`ape itgen safe sign`), signed by --account when it is an owner; no service.",
        ),
        click.option(
            "--tx-builder",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the change(s) as a Safe{Wallet} Transaction Builder file; needs no "
            "--account; never replaces a file (see --append).",
        ),
        click.option(
            "--append", is_flag=True, help="Add to the --tx-builder file (one drill, one file)."
        ),
        click.option(
            "--service",
            is_flag=True,
            help="Propose through Safe's hosted transaction service (ape-safe; on BNB Chain "
            "mainnet it needs APE_SAFE_GATEWAY_API_KEY).",
        ),
        dry_run_option,
        yes_option,
    ]
    for option in reversed(options):
        run = option(run)
    return run


def admin_command(parent: Any, **settings: Any) -> Callable[[Callable[..., Any]], Any]:
    """An admin change's command under `parent` (a click group, or click itself): an
    ItgenCommand with ape's --network, how the change is sent (admin_options) and
    --program; the command's own arguments and options go below it."""

    def wrap(function: Callable[..., Any]) -> Any:
        decorated = network_option()(admin_options(program_option(function)))
        return parent.command(cls=ItgenCommand, **settings)(decorated)

    return wrap


def send_changes(program: Any, changes: list[Any], sending: Any, *, ask_first: bool = True) -> None:
    """The changes, sent the way the options say, talking through click."""
    from itgen_chain.signers import carry_out

    carry_out(program, changes, sending, ask_first=ask_first, **_talk())


def _talk() -> dict[str, Any]:
    return {"echo": click.echo, "confirm": lambda question: click.confirm(question, default=False)}


def load_account(alias: str, option: str = "--account") -> Any:
    """An ape account by alias, or ``TEST::N`` for a test account (as --account takes)."""
    from ape import accounts

    if alias.startswith("TEST::") and alias[6:].isdigit():
        return accounts.test_accounts[int(alias[6:])]
    try:
        return accounts.load(alias)
    except KeyError:
        raise click.BadParameter(
            f"no account {alias!r}: see `ape accounts list`", param_hint=option
        ) from None


def show_roles(program: Any) -> None:
    """One line a role: the admin (and whether it is a Safe), a pending admin, the pauser."""
    from ape import chain

    for role, holder in program.roles().items():
        click.echo(f"{role:<14} {holder}{_safe_note(chain, holder)}")


def _safe_note(chain: Any, holder: str) -> str:
    """`` (a Safe, 2 of 3)`` when the holder is a Safe."""
    from eth_utils import is_address

    if not is_address(holder) or not chain.provider.web3.eth.get_code(holder):
        return ""
    web3 = chain.provider.web3
    abi = [
        {"name": n, "type": "function", "stateMutability": "view", "inputs": [], "outputs": [o]}
        for n, o in (("getThreshold", {"type": "uint256"}), ("getOwners", {"type": "address[]"}))
    ]
    contract = web3.eth.contract(holder, abi=abi)
    try:
        threshold = contract.functions.getThreshold().call()
        owners = contract.functions.getOwners().call()
    except Exception:  # not a Safe: web3's ContractLogicError or a decoding error
        return " (a contract)"
    return f" (a Safe, {threshold} of {len(owners)}: {', '.join(owners)})"
