"""List the programs recorded for a network: one network holds many, each with its own
deployment record, program salt and journal.

    ape itgen programs --network bsc:mainnet:node
"""

from __future__ import annotations

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import ItgenCommand


@click.command(cls=ItgenCommand)
@network_option()
def cli(network) -> None:
    """Every program recorded for --network: name, escrow, block, program end, salt."""
    from ape import chain

    from itgen_chain import records
    from itgen_chain.amounts import format_time

    provider = chain.provider
    found = records.programs(provider.network.ecosystem.name, provider.network.name)
    if not found:
        click.echo("no program recorded for this network: `ape itgen deploy --program NAME`")
    for record in found:
        salt = records.salt_path(record.ecosystem, record.network, record.program)
        live = "" if provider.get_code(record.escrow) else "  (no code: a restarted chain?)"
        click.echo(
            f"{record.program:<16} {record.escrow}  block {record.block:>10}  ends "
            f"{format_time(record.program_end)}  salt {'here' if salt.exists() else 'missing'}"
            f"{live}"
        )
