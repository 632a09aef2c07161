"""Index every escrow event, and any token transfer without one, into SQLite or PostgreSQL.

ape itgen index --network bsc:mainnet:node --confirmations 15
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import (
    DatabaseParam,
    ItgenCommand,
    program_option,
    retries_option,
    retries_said,
)
from itgen_chain.config import settings


@click.command(cls=ItgenCommand)
@network_option()
@click.option(
    "--db",
    type=DatabaseParam(exists=False),
    default=lambda: settings().work_folder / "index.sqlite",
    show_default="var/index.sqlite (itgen: work_folder)",
    help="The index: a SQLite file, or a PostgreSQL database (postgresql://user@host/name).",
)
@click.option(
    "--confirmations",
    type=click.IntRange(0),
    help="Index to this many blocks below the head. Default: the node's finalized block "
    "(BNB Chain's fast finality), or 15 below the head when the node does not answer for it; "
    "0 on a local chain.",
)
@click.option(
    "--max-range",
    type=click.IntRange(1),
    default=5_000,
    show_default=True,
    help="The eth_getLogs range asked first (BNB Chain providers cap at 5,000).",
)
@click.option(
    "--grow-to",
    type=click.IntRange(0),
    default=100_000,
    show_default=True,
    help="Ranges double while the provider accepts them, up to this; a refusal shrinks them "
    "to the size it names (0: stay at --max-range).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Ranges in flight at once (written in block order).",
)
@click.option(
    "--rps",
    type=click.FloatRange(0),
    default=0,
    show_default="no limit",
    help="Requests per second at most: a provider's rate limit (25 on a typical plan).",
)
@click.option(
    "--all-programs",
    is_flag=True,
    help="Every program recorded for the network, in one pass into one database.",
)
@retries_option
@click.option(
    "--backoff",
    type=float,
    default=0.5,
    show_default=True,
    help="First backoff on rate limits and dropped connections (s); doubled each time.",
)
@click.option(
    "--escrow",
    "escrows",
    multiple=True,
    help="Any ScholarshipEscrow by address, with no deployment record (an outside auditor); "
    "repeat it for several in one pass. Default: the recorded program of --network.",
)
@program_option
def cli(
    network,
    program_name,
    db: Path | str,
    confirmations: int | None,
    max_range: int,
    grow_to: int,
    workers: int,
    rps: float,
    retries: int,
    backoff: float,
    escrows: tuple[str, ...],
    all_programs: bool,
) -> None:
    """Index from the deployment block (or the last run) to the head minus --confirmations."""
    import time

    from ape import chain

    from itgen_chain import compiled
    from itgen_chain.compiled import escrow_abi
    from itgen_chain.indexer import IndexerSettings, for_deployment
    from itgen_chain.program import to_index
    from itgen_chain.retrying import install

    install(retries, backoff, rps)  # every HTTP call: retried, and within --rps
    deployments, told = to_index(escrows, all_programs, program_name)
    for line in told:
        click.echo(line)
    deployment = deployments if len(deployments) > 1 else deployments[0]
    local = chain.provider.network.is_local
    indexing = IndexerSettings(
        max_range=max_range,
        grow_to=grow_to,
        workers=workers,
        rps=0,  # kept below, at the HTTP layer, every attempt counted
        confirmations=confirmations
        if confirmations is not None
        else (0 if local else settings().confirmations),
        finalized=confirmations is None and not local,
        retries=0,  # every call over HTTP is retried below it (retrying.install)
        backoff=backoff,
    )
    indexer = for_deployment(
        deployment,
        chain.provider,
        escrow_abi(compiled.escrow_type()),
        db,
        indexing,
    )
    started = time.monotonic()
    bar: Any
    with click.progressbar(length=1, label="indexing") as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        added = indexer.run(progress)
    if indexer.rollbacks:
        click.echo(f"reorg: rolled back {indexer.rollbacks} time(s) and indexed again")
    click.echo(
        f"{added} new event(s) in {time.monotonic() - started:.1f} s; {indexer.count()} in "
        f"{indexer.db}, "
        f"to block {indexer.checkpoint} ({indexer.finality})"
    )
    if indexer.off:
        from eth_utils import to_checksum_address

        from itgen_chain.amounts import format_tokens

        def erc20(token: str) -> Any:  # the real token, through the ERC-20 interface
            return chain.contracts.instance_at(
                to_checksum_address(token), contract_type=compiled.erc20_type()
            )

        for escrow, off in indexer.off.items():
            click.echo(
                f"escrow {to_checksum_address(escrow)}: its balance differs from its events by "
                f"{format_tokens(off, erc20(indexer.token_of[escrow]).decimals())}; the "
                f"token's transfers were scanned, {indexer.strays_kept} kept (the audit lists "
                "those without an escrow event)"
            )
    else:
        click.echo("every balance matches its escrow's events: no token transfer scanned")
    if said := retries_said():
        click.echo(said)
