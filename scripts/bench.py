"""Benchmarks: gas per operation (bench/gas.json) and indexing throughput (bench/index.json).

ape run bench --network ethereum:local:foundry
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import ItgenCommand

# The demo and the benchmarks live in the repository's devtools/, outside the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OUT = Path("bench")


@click.command(cls=ItgenCommand)
@network_option()
@click.option("--out", type=click.Path(path_type=Path), default=OUT, show_default=True)
@click.option(
    "--only",
    type=click.Choice(["gas", "index", "provider", "roster", "watch", "all"]),
    default="all",
)
@click.option("--rows", type=click.IntRange(100), default=100_000, show_default=True)
@click.option("--payouts", type=click.IntRange(100), default=20_000, show_default=True)
def cli(out: Path, only: str, payouts: int, rows: int) -> None:
    """Measure gas and indexing throughput on a local chain; write JSON under --out."""
    from ape import accounts, chain, project

    from devtools import gasbench

    out.mkdir(parents=True, exist_ok=True)
    if only in ("gas", "all"):
        result = gasbench.report(gasbench.measure(project, chain, list(accounts.test_accounts)))
        (out / "gas.json").write_text(json.dumps(result, indent=2) + "\n")
        for name, value in result["gas"].items():
            click.echo(f"{name:40} {value:>10,}")
        click.echo(f"wrote {out / 'gas.json'}")
    if only in ("index", "all"):
        from devtools import indexbench

        with click.progressbar(length=payouts, label=f"paying {payouts:,} students") as bar:
            escrow, token, start = indexbench.make_payouts(
                project, chain, list(accounts.test_accounts), payouts, 200, bar.update
            )
        result = indexbench.measure(chain.provider, escrow, token, start)
        result["payouts"] = payouts
        (out / "index.json").write_text(json.dumps(result, indent=2) + "\n")
        for name in ("indexer", "indexer_postgresql", "bare_eth_getLogs", "ape_event_query"):
            row = result[name]
            if not isinstance(row, dict):
                continue
            click.echo(
                f"{name:20} {row['events']:>8,} events {row['seconds']:>8.2f} s {row['events_per_second']:>9,}/s"
            )
        click.echo(f"wrote {out / 'index.json'}")
    if only in ("provider", "all"):
        from devtools import providerbench

        click.echo(
            "`ape itgen index` through a provider that spares it nothing: 51.84 million blocks, "
            "25 calls a second, the range limit unnamed (about 15 minutes)"
        )
        result = providerbench.measure(project.BscUsdLike.contract_type)
        (out / "provider.json").write_text(json.dumps(result, indent=2) + "\n")
        for line in providerbench.section(result)[5:]:
            click.echo(line)
        click.echo(f"wrote {out / 'provider.json'}")
    if only in ("roster", "all"):
        import tempfile

        from devtools import rosterbench

        click.echo(f"a registrar's {rows:,}-row roster: dry run, then sign")
        with tempfile.TemporaryDirectory() as work:
            result = rosterbench.measure(
                project, chain, list(accounts.test_accounts), Path(work), rows
            )
        (out / "roster.json").write_text(json.dumps(result, indent=2) + "\n")
        for line in rosterbench.section(result)[4:-2]:
            click.echo(line)
        click.echo(f"wrote {out / 'roster.json'}")
    if only in ("watch", "all"):
        from devtools import watchbench

        click.echo("the watch: a thief inside its allowance, alert latency, an honest cohort")
        result = watchbench.measure(project, chain, list(accounts.test_accounts))
        (out / "watch.json").write_text(json.dumps(result, indent=2) + "\n")
        for name, row in result.items():
            click.echo(f"{name:24} {json.dumps(row)}")
        click.echo(f"wrote {out / 'watch.json'}")
    from devtools import benchreport

    click.echo(f"wrote {benchreport.write(out)}")
