"""Check that the code deployed at an escrow is the package's ScholarshipEscrow.

    ape itgen verify --network bsc:mainnet:node [--escrow 0x...]

Compares the runtime code on chain with the package's compiled code (immutables aside,
metadata hash included) and says match or mismatch. For the block explorer, it writes the
standard-JSON input to upload (BscScan: "Solidity (Standard-Json-Input)", compiler named in
the file, the constructor arguments from the deployment transaction).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

from itgen_chain._cli.click_ext import escrow_option, program_option, reports_errors


@click.command(cls=ConnectedProviderCommand)
@network_option()
@escrow_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out") / "verify",
    show_default=True,
    help="Where the standard-JSON input for a manual upload is written.",
)
@program_option
@reports_errors
def cli(network, program, escrow: str | None, out: Path) -> None:
    """Compare the escrow's code on chain with the package's; match or mismatch."""
    from ape import chain
    from eth_utils import is_address, to_checksum_address

    from itgen_chain import compiled
    from itgen_chain.exceptions import ItgenError
    from itgen_chain.program import connect
    from itgen_chain.verification import compare

    if escrow is not None and not is_address(escrow):
        raise ItgenError(f"--escrow {escrow!r} is not an address")
    # Any address can be checked: what answers as an escrow is exactly what is in question.
    address = to_checksum_address(escrow) if escrow else connect(program=program).escrow.address
    verdict = compare(address, bytes(chain.provider.web3.eth.get_code(address)))
    click.echo(str(verdict))
    if not verdict.match:
        raise ItgenError(f"{address} is not the package's ScholarshipEscrow")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{chain.chain_id}-{address}.standard-input.json"
    path.write_text(json.dumps(compiled.standard_json_input(), indent=1) + "\n")
    version = compiled.escrow_artifact()["compiler"]["version"]
    click.echo(
        f"for the block explorer: upload {path} as Solidity (Standard-Json-Input), "
        f"compiler v{version}, contract contracts/ScholarshipEscrow.sol:ScholarshipEscrow"
    )
