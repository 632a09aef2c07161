"""Watch a program's escrow: alerts to the team's channels, and the guardian pauses by itself.

    ape itgen watch --network bsc:mainnet:node --guardian guardian [--dry-run]

Runs until stopped (a systemd service: see docs/watch.md); `--once` reads what is new,
alerts, and exits (cron). The checkpoint and the outbox of undelivered alerts live in
var/watch/, so a restart misses no block and repeats no alert.
"""

from __future__ import annotations

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import (
    ItgenCommand,
    console,
    dry_run_option,
    program_option,
    registrar_escrow_option,
)


@click.command(cls=ItgenCommand)
@network_option()
@program_option
@registrar_escrow_option
@click.option(
    "--guardian",
    default=None,
    help="The pauser's account alias in ape's keystore (its passphrase from "
    "APE_ACCOUNTS_<alias>_PASSPHRASE): a critical rule pauses the escrow with it, once. "
    "Without it the watch only alerts.",
)
@dry_run_option
@click.option("--once", is_flag=True, help="Read what is new, alert, and exit.")
@click.option(
    "--interval", type=click.FloatRange(0.2, 3600), default=2.0, show_default=True,
    help="Seconds between reads of the chain.",
)  # fmt: skip
@click.option(
    "--all-programs", is_flag=True,
    help="Watch every program recorded for --network (ape itgen programs), each with its own "
    "checkpoint, instead of --program.",
)  # fmt: skip
@click.option(
    "--from-block", type=click.IntRange(0), default=None,
    help="Where a new checkpoint starts (default: the next block).",
)  # fmt: skip
def cli(
    network, program_name, escrow, guardian, dry_run, once, interval, all_programs, from_block
) -> None:
    """Follow the escrow, alert on a thief's or a rogue registrar's moves, pause if critical."""
    import time
    from contextlib import nullcontext

    from ape import accounts, chain

    from itgen_chain import records
    from itgen_chain.config import settings
    from itgen_chain.program import connect
    from itgen_chain.signers import signing
    from itgen_chain.watch import Watch, WatchSettings, chain_key, sinks_from

    if all_programs:
        net = chain.provider.network
        names = [r.program for r in records.programs(net.ecosystem.name, net.name)]
        if not names:
            raise click.UsageError("no program is recorded for this network")
        programs = [connect(program=name) for name in names]
    else:
        programs = [connect(escrow, program_name)]
    options = WatchSettings(**settings().watch)
    signer = None
    if guardian:
        signer = (
            accounts.test_accounts[int(guardian.split("::")[1])]
            if guardian.startswith("TEST::")
            else accounts.load(guardian)
        )
    echo = console()["echo"]
    watches = []
    for program in programs:
        path = settings().work_folder / "watch" / f"{chain_key()}-{program.escrow.address}.json"
        watch = Watch(
            program, path, sinks_from(options), signer, dry_run, options, echo, from_block
        )
        echo(f"watching {program.escrow.address} from block {watch.state.next_block} ({path})")
        watches.append(watch)
    with signing(signer, False) if signer else nullcontext():
        while True:
            for watch in watches:
                watch.poll()
            if once:
                return
            time.sleep(interval)
