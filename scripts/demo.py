"""The seed program end to end on a local chain, then the audit.

ape run demo --network ethereum:local:foundry
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

from itgen_chain._cli.click_ext import reports_errors


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out") / "demo",
    show_default=True,
)
@reports_errors
def cli(network, out: Path) -> None:
    """2,000 students, 1,877 completions, one stolen key, the audit."""
    from ape import chain

    from itgen_chain import demo

    if not chain.provider.network.is_local:
        raise click.UsageError("the demo runs on a local chain only (ethereum:local:foundry)")
    demo.run(out)
