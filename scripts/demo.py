"""The seed program end to end on a local chain, then the audit.

ape run demo --network ethereum:local:foundry
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import ItgenCommand

# The demo and the benchmarks live in the repository's devtools/, outside the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@click.command(cls=ItgenCommand)
@network_option()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out") / "demo",
    show_default=True,
)
def cli(network, out: Path) -> None:
    """2,000 students, 1,877 completions, one stolen key, the audit."""
    from ape import chain

    from devtools import demo

    if not chain.provider.network.is_local:
        raise click.UsageError("the demo runs on a local chain only (ethereum:local:foundry)")
    from ape.logging import LogLevel, logger

    # The demo tells its own story; ape's line for each confirmed transaction would bury it.
    with logger.at_level(LogLevel.WARNING):
        demo.run(out)
