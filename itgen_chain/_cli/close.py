"""After the program end: return what is left to the donor (the admin or the donor).

ape itgen close --account admin
"""

from __future__ import annotations

import click

from itgen_chain._cli.click_ext import (
    admin_command,
    send_changes,
)


@admin_command(click)
def cli(network, program_name, sending) -> None:
    """Reclaim the escrow's balance to the donor once the program has ended."""
    from ape import chain

    from itgen_chain.program import connect

    program = connect(program=program_name)
    change = program.close(chain.pending_timestamp)
    send_changes(program, [change], sending)
