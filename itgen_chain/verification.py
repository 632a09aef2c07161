"""Is the code at an address the package's ScholarshipEscrow? And where was it deployed?

The runtime code on chain is compared byte for byte with the packaged runtime code, with
the immutables (token, donor, latest end, EIP-712 caches) blanked in both at the positions
the compiler reported. The metadata hash at the end is compared too: it changes with any
change of the source, so a match means the same source, compiler and settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itgen_chain.compiled import escrow_artifact


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
