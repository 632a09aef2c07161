"""``ape itgen``: the scholarship escrow's commands, as an ape plugin CLI (like ``ape safe``).

Registered through the ``ape_cli_subcommands`` entry point; each command lives in a module
of this package, and ``scripts/`` holds one-line shims so that ``ape run NAME`` works in
the repository too.
"""

from __future__ import annotations

import click

from itgen_chain._cli import (
    admin,
    attest,
    audit,
    batch,
    claims,
    close,
    courses,
    deploy,
    extend,
    fund,
    guardian,
    index,
    pause,
    programs,
    registrars,
    relay,
    rescue,
    safe,
    sign,
    verify,
    watch,
)

# Nothing is patched when this package is imported: each command's class (ItgenCommand in
# click_ext.py) installs retries and offline explorer lookups when the command runs.


@click.group(short_help="Scholarship escrow on BNB Chain: deploy, attest, index, audit.")
def cli() -> None:
    """The scholarship escrow on BNB Chain: deploy and run a program, attest, relay, index,
    audit and verify. Each command takes ape's --network (and --account where it signs); admin
    commands take --safe to go through a Safe."""


# One line each in `ape itgen --help`.
COMMANDS = {
    "deploy": (deploy, "Deploy an escrow and record the program."),
    "fund": (fund, "Move tokens into the escrow (the donor)."),
    "courses": (courses, "Set, deactivate or list courses (the admin)."),
    "registrars": (registrars, "Add, remove or list registrars (the admin)."),
    "attest": (attest, "Pay a roster's scholarships (a registrar)."),
    "sign": (sign, "Sign a roster off-line for a relayer (a registrar)."),
    "relay": (relay, "Submit a signed file from any funded account."),
    "claims": (claims, "Relay students' claims of link payments, or serve the relayer."),
    "pause": (pause, "Stop (guardian) or resume (admin) all releases."),
    "extend": (extend, "Move the program end later (the admin)."),
    "close": (close, "Return what is left to the donor after the end."),
    "rescue": (rescue, "Send back another token sent by mistake (the admin)."),
    "admin": (admin, "Hand the admin role over in two steps; show roles."),
    "guardian": (guardian, "Grant or revoke the pauser role (the admin)."),
    "batch": (batch, "Check, then run a Transaction Builder file through the Safe."),
    "safe": (safe, "Show, sign, approve and execute a Safe transaction file."),
    "index": (index, "Index an escrow's events and transfers into SQLite."),
    "audit": (audit, "Reconcile the books and write the audit report."),
    "verify": (verify, "Check the deployed code is the package's escrow."),
    "programs": (programs, "List the programs recorded for a network."),
    "watch": (watch, "Alert on a thief's moves; the guardian pauses by itself."),
}
for name, (module, short_help) in COMMANDS.items():
    module.cli.short_help = short_help
    cli.add_command(module.cli, name=name)
