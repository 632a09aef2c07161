"""Is the code at an address the package's ScholarshipEscrow? And where was it deployed?

The runtime code on chain is compared byte for byte with the packaged runtime code, with
the immutables (token, donor, latest end, EIP-712 caches) blanked in both at the positions
the compiler reported. The metadata hash at the end is compared too: it changes with any
change of the source, so a match means the same source, compiler and settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itgen_chain.compiled import escrow_artifact
from itgen_chain.exceptions import (
    ExplorerError,
)


@dataclass(frozen=True)
class Verdict:
    """The result of comparing deployed code with the package's."""

    address: str
    match: bool
    detail: str

    def __str__(self) -> str:
        word = "match" if self.match else "MISMATCH"
        return f"{self.address}: {word}: {self.detail}"


def blank_immutables(code: bytes, references: dict[str, list[dict[str, int]]]) -> bytes:
    """The code with every immutable's bytes set to zero."""
    blanked = bytearray(code)
    for places in references.values():
        for place in places:
            start, length = place["start"], place["length"]
            blanked[start : start + length] = bytes(length)
    return bytes(blanked)


def compare(address: str, onchain: bytes, artifact: dict[str, Any] | None = None) -> Verdict:
    """Compares `onchain` runtime code with the packaged ScholarshipEscrow's."""
    artifact = artifact or escrow_artifact()
    expected = bytes.fromhex(artifact["runtimeBytecode"][2:])
    version = artifact["compiler"]["version"]
    if not onchain:
        return Verdict(address, False, "no contract at this address")
    if len(onchain) != len(expected):
        return Verdict(
            address,
            False,
            f"{len(onchain):,} bytes of code, the package's ScholarshipEscrow has "
            f"{len(expected):,} (another contract, or built from other source)",
        )
    references = artifact["immutableReferences"]
    ours, theirs = blank_immutables(expected, references), blank_immutables(onchain, references)
    if ours != theirs:
        first = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b)
        return Verdict(
            address, False, f"code differs from byte {first:,} (built from other source?)"
        )
    return Verdict(
        address,
        True,
        f"runtime code equals the package's ScholarshipEscrow (solc {version}, metadata hash "
        "included, immutables aside)",
    )


def deployment_block(web3: Any, address: str, head: int | None = None) -> int:
    """The block in which `address` got its code: a binary search on eth_getCode, about
    log2(head) calls (27 for 100 million blocks). Needs a node that answers for old
    blocks; raises ValueError when there is no code at the head."""
    head = web3.eth.block_number if head is None else head
    if not web3.eth.get_code(address, head):
        raise ValueError(f"no contract at {address} at block {head}")
    low, high = 0, head  # no code at low - 1 (or low is 0), code at high
    while low < high:
        middle = (low + high) // 2
        if web3.eth.get_code(address, middle):
            high = middle
        else:
            low = middle + 1
    return low


def constructor_arguments(web3: Any, address: str, block: int) -> str:
    """The ABI-encoded constructor arguments (hex, no 0x) of the escrow created at `address`
    in `block`: the creation transaction's input after the package's creation code."""
    from eth_utils import to_checksum_address

    creation = bytes.fromhex(escrow_artifact()["bytecode"].removeprefix("0x"))
    for tx in web3.eth.get_block(block, full_transactions=True)["transactions"]:
        if tx.get("to") is not None:
            continue
        receipt = web3.eth.get_transaction_receipt(tx["hash"])
        if (
            receipt.get("contractAddress")
            and to_checksum_address(receipt["contractAddress"]) == address
        ):
            data = bytes(tx["input"])
            if not data.startswith(creation):
                raise ExplorerError(f"{address} was not created from the package's creation code")
            return data[len(creation) :].hex()
    raise ExplorerError(
        f"no transaction in block {block} creates {address} directly (a factory?): upload "
        "the standard-JSON input by hand"
    )


def submit_to_explorer(
    address: str, arguments: str, api_uri: str, wait: float = 120.0, poll: float = 5.0
) -> str:
    """Submits the package's standard-JSON input for `address` to an Etherscan-style API
    (Etherscan's V2 API serves BscScan, chains 56 and 97, with one key in ETHERSCAN_API_KEY)
    through ape-etherscan, and waits for the verdict; returns it ("Pass - Verified")."""
    import time

    try:
        from ape_etherscan.client import ContractClient
        from ape_etherscan.exceptions import EtherscanResponseError
        from ape_etherscan.types import EtherscanInstance
    except ImportError as error:
        raise ExplorerError("ape-etherscan is not installed: pip install ape-etherscan") from error
    artifact = escrow_artifact()
    settings = artifact["compiler"]["settings"]
    instance = EtherscanInstance(ecosystem_name="", network_name="", uri="", api_uri=api_uri)
    client = ContractClient(instance, address)
    try:
        guid = client.verify_source_code(
            artifact["standardJsonInput"],
            artifact["compiler"]["version"],
            contract_name=f"{artifact['sourceId']}:{artifact['contractName']}",
            optimization_used=settings["optimizer"]["enabled"],
            optimization_runs=settings["optimizer"]["runs"],
            constructor_arguments=arguments,
            evm_version=settings["evmVersion"],
            license_type=3,  # MIT
            via_ir=settings.get("viaIR", False),
        )
    except EtherscanResponseError as error:
        if "already verified" in str(error).lower():
            return "already verified"
        raise ExplorerError(f"the explorer refused the submission: {error}") from None
    deadline = time.monotonic() + wait
    while True:
        status = client.check_verify_status(guid)
        if "pending" not in status.lower() or time.monotonic() > deadline:
            return status
        time.sleep(poll)


@dataclass(frozen=True)
class Verification:
    """What `verify` found and did: the verdict, the standard-JSON input written for a
    manual upload, the constructor arguments, and the explorer's answer if submitted."""

    verdict: Verdict
    standard_input: Path | None = None
    constructor_arguments: str = ""
    explorer_status: str = ""

    def upload_hint(self) -> str:
        version = escrow_artifact()["compiler"]["version"]
        return (
            f"for the block explorer (no ETHERSCAN_API_KEY): upload {self.standard_input} as "
            f"Solidity (Standard-Json-Input), compiler v{version}, contract "
            "contracts/ScholarshipEscrow.sol:ScholarshipEscrow, constructor arguments "
            f"{self.constructor_arguments}"
        )


def verify(
    web3: Any,
    chain_id: int,
    address: str,
    out: Path,
    block: int | None = None,
    explorer_api: str | None = None,
) -> Verification:
    """Compares `address`'s code with the package's escrow; on a match writes the
    standard-JSON input under `out`, finds the constructor arguments (the deployment block
    by binary search unless given) and submits to `explorer_api` (Etherscan's V2 API for the
    chain when ETHERSCAN_API_KEY is set). A mismatch raises ItgenError."""
    import json
    import os

    from itgen_chain.compiled import standard_json_input

    verdict = compare(address, bytes(web3.eth.get_code(address)))
    if not verdict.match:
        return Verification(verdict)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{chain_id}-{address}.standard-input.json"
    path.write_text(json.dumps(standard_json_input(), indent=1) + "\n")
    block = deployment_block(web3, address) if block is None else block
    arguments = constructor_arguments(web3, address, block)
    if explorer_api is None and os.environ.get("ETHERSCAN_API_KEY"):
        explorer_api = f"https://api.etherscan.io/v2/api?chainid={chain_id}"
    status = submit_to_explorer(address, arguments, explorer_api) if explorer_api else ""
    return Verification(verdict, path, arguments, status)
