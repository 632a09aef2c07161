"""``ape itgen``: the scholarship escrow's commands, as an ape plugin CLI (like ``ape safe``).

Registered through the ``ape_cli_subcommands`` entry point; each command lives in a module
of this package, and ``scripts/`` holds one-line shims so that ``ape run NAME`` works in
the repository too.
"""

from __future__ import annotations

import click

from itgen_chain._cli import (
    attest,
    audit,
    close,
    courses,
    deploy,
    fund,
    index,
    pause,
    programs,
    registrars,
    relay,
    sign,
    verify,
)


@click.group(short_help="Scholarship escrow on BNB Chain: deploy, attest, index, audit.")
def cli() -> None:
    """The scholarship escrow on BNB Chain: deploy and run a program, attest, relay, index,
    audit and verify. Each command takes ape's --network (and --account where it signs)."""


# One line each in `ape itgen --help`.
COMMANDS = {
    "deploy": (deploy, "Deploy an escrow and record the program."),
    "fund": (fund, "Move tokens into the escrow (the donor)."),
    "courses": (courses, "Set, deactivate or list courses (the admin)."),
    "registrars": (registrars, "Add, remove or list registrars (the admin)."),
    "attest": (attest, "Pay a roster's scholarships (a registrar)."),
    "sign": (sign, "Sign a roster off-line for a relayer (a registrar)."),
    "relay": (relay, "Submit a signed file from any funded account."),
    "pause": (pause, "Stop (guardian) or resume (admin) all releases."),
    "close": (close, "Return what is left to the donor after the end."),
    "index": (index, "Index an escrow's events and transfers into SQLite."),
    "audit": (audit, "Reconcile the books and write the audit report."),
    "verify": (verify, "Check the deployed code is the package's escrow."),
    "programs": (programs, "List the programs recorded for a network."),
}
for name, (module, short_help) in COMMANDS.items():
    module.cli.short_help = short_help
    cli.add_command(module.cli, name=name)
