"""Check that the code deployed at an escrow is the package's ScholarshipEscrow.

    ape itgen verify --network bsc:mainnet:node [--escrow 0x...]

Compares the runtime code on chain with the package's compiled code (immutables aside,
metadata hash included) and says match or mismatch. With an explorer API key
(ETHERSCAN_API_KEY: Etherscan's V2 API serves BscScan, chains 56 and 97) it submits the
standard-JSON input through ape-etherscan and reports the explorer's verdict; without one it
writes the input for a manual upload (BscScan: "Solidity (Standard-Json-Input)", the
compiler named in the file, the constructor arguments from the deployment transaction).
Chains 56 and 97 may need a paid Etherscan plan: the manual upload always remains.
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import network_option

from itgen_chain._cli.click_ext import ItgenCommand, escrow_option, program_option


@click.command(cls=ItgenCommand)
@network_option()
@escrow_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out") / "verify",
    show_default=True,
    help="Where the standard-JSON input for a manual upload is written.",
)
@click.option(
    "--explorer-api",
    help="An Etherscan-style API to submit to. Default: Etherscan's V2 API for the chain "
    "(https://api.etherscan.io/v2/api?chainid=N), used when ETHERSCAN_API_KEY is set.",
)
@program_option
def cli(network, program_name, escrow: str | None, out: Path, explorer_api: str | None) -> None:
    """Compare the escrow's code on chain with the package's; match or mismatch."""
    from ape import chain
    from eth_utils import is_address, to_checksum_address

    from itgen_chain.exceptions import ItgenError
    from itgen_chain.program import connect
    from itgen_chain.verification import verify

    if escrow is not None and not is_address(escrow):
        raise ItgenError(f"--escrow {escrow!r} is not an address")
    # Any address can be checked: what answers as an escrow is exactly what is in question.
    if escrow:
        address, block = to_checksum_address(escrow), None
    else:
        recorded = connect(program=program_name)
        address, block = recorded.escrow.address, recorded.deployment.block
    found = verify(chain.provider.web3, chain.chain_id, address, out, block, explorer_api)
    click.echo(str(found.verdict))
    if not found.verdict.match:
        raise ItgenError(f"{address} is not the package's ScholarshipEscrow")
    click.echo(
        f"explorer: {found.explorer_status}" if found.explorer_status else found.upload_hint()
    )
