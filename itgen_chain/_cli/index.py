"""Index every escrow event and the token's transfers in and out into SQLite.

ape run index --network bsc:mainnet:node --confirmations 15
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

from itgen_chain._cli.click_ext import escrow_option, program_option, reports_errors
from itgen_chain.config import settings


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: settings().work_folder / "index.sqlite",
    show_default="var/index.sqlite (itgen: work_folder)",
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
    help="Widest eth_getLogs range; split further when the node says so.",
)
@click.option("--retries", type=click.IntRange(0), default=6, show_default=True)
@click.option(
    "--backoff",
    type=float,
    default=0.5,
    show_default=True,
    help="First backoff on rate limits (s).",
)
@escrow_option
@program_option
@reports_errors
def cli(
    network,
    program,
    db: Path,
    confirmations: int | None,
    max_range: int,
    retries: int,
    backoff: float,
    escrow: str | None,
) -> None:
    """Index from the deployment block (or the last run) to the head minus --confirmations."""
    import time

    from ape import chain

    from itgen_chain import compiled
    from itgen_chain.indexer import IndexerSettings, escrow_abi, for_deployment
    from itgen_chain.program import connect

    deployment = connect(escrow, program).deployment
    if escrow:
        click.echo(
            f"escrow {deployment.escrow}: token {deployment.token}, deployed in block {deployment.block}"
        )
    local = chain.provider.network.is_local
    indexing = IndexerSettings(
        max_range=max_range,
        confirmations=confirmations
        if confirmations is not None
        else (0 if local else settings().confirmations),
        finalized=confirmations is None and not local,
        retries=retries,
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
    with click.progressbar(length=1, label="indexing") as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        added = indexer.run(progress)
    if indexer.rollbacks:
        click.echo(f"reorg: rolled back {indexer.rollbacks} time(s) and indexed again")
    click.echo(
        f"{added} new event(s) in {time.monotonic() - started:.1f} s; {indexer.count()} in {db}, "
        f"to block {indexer.checkpoint} ({indexer.finality})"
    )
