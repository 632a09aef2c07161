"""Claim-jumps: a row this registrar means to pay that someone else paid first.

A stolen or rogue registrar key can pay one of an honest batch's students first, to its own
wallet: the escrow then skips the honest item as already paid, and the student is never
paid. So every row found paid (before sending, or skipped by the escrow when its batch was
mined) is compared with the ScholarshipReleased event that paid it: another payee, course
or registrar is a claim-jump, listed by row and transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address

from itgen_chain.attestations import Attestation
from itgen_chain.retrying import RANGE, classify

RELEASED_TOPIC = (
    "0x" + keccak(text="ScholarshipReleased(bytes32,address,address,uint256,uint8,uint256)").hex()
)
IDS_PER_QUERY = 100
# Past this many students, one scan of every release is cheaper than topic lists.
ALL_RELEASES_FROM = 2_000


@dataclass(frozen=True)
class Release:
    """A ScholarshipReleased event: who was paid, by whom, in which transaction."""

    student_id: bytes
    milestone: int
    payee: str
    registrar: str
    course_id: int
    amount: int
    transaction: str
    block: int


@dataclass(frozen=True)
class ClaimJump:
    """A row that the chain shows paid differently from what the row says."""

    row: int
    attestation: Attestation
    registrar: str
    release: Release

    @property
    def to_another_wallet(self) -> bool:
        return self.release.payee.lower() != self.attestation.payee.lower()

    def line(self) -> str:
        paid = self.release
        if self.to_another_wallet:
            what = f"PAID TO ANOTHER WALLET {paid.payee}"
        elif paid.course_id != self.attestation.course_id:
            what = f"PAID FOR ANOTHER COURSE {paid.course_id}"
        else:
            what = "PAID BY ANOTHER REGISTRAR"
        return (
            f"row {self.row}: {what}, by registrar {paid.registrar} in transaction "
            f"{paid.transaction} (block {paid.block})"
        )


@dataclass(frozen=True)
class ReservedJump:
    """A row found taken because another registrar reserved its student for a claim link
    (escrow v3): the student can then be paid only by that link's claim."""

    row: int
    registrar: str
    claim_key: str

    @property
    def to_another_wallet(self) -> bool:
        return True

    def line(self) -> str:
        return (
            f"row {self.row}: RESERVED FOR A CLAIM LINK (claim key {self.claim_key}) by "
            f"registrar {self.registrar}: only that link can be paid"
        )


def decode(log: dict[str, Any]) -> Release:
    topics = log["topics"]
    data = bytes.fromhex(log["data"][2:])
    return Release(
        student_id=bytes.fromhex(topics[1][2:]),
        milestone=int.from_bytes(data[32:64], "big"),
        payee=to_checksum_address("0x" + topics[2][-40:]),
        registrar=to_checksum_address("0x" + topics[3][-40:]),
        course_id=int.from_bytes(data[0:32], "big"),
        amount=int.from_bytes(data[64:96], "big"),
        transaction=log["transactionHash"],
        block=int(log["blockNumber"], 16),
    )


def logs(
    request: Callable[[str, list], Any], query: dict[str, Any], start: int, end: int
) -> list[dict[str, Any]]:
    """Every log of `query` in blocks start..end: the whole range first, then the ranges a
    provider accepts (the size its refusal names, or halves), in order."""
    from itgen_chain.indexer import RangePlanner

    planner = RangePlanner(end - start + 1)
    found: list[dict[str, Any]] = []
    cursor = start
    while cursor <= end:
        last = min(cursor + planner.size - 1, end)
        span = {"fromBlock": hex(cursor), "toBlock": hex(last)}
        try:
            found += request("eth_getLogs", [{**query, **span}])
        except Exception as error:
            if last == cursor or classify(error) != RANGE:
                raise
            planner.refused(last - cursor + 1, str(error))
            continue
        planner.accepted(last - cursor + 1)
        cursor = last + 1
    return found


def releases(
    request: Callable[[str, list], Any],
    escrow: str,
    student_ids: Iterable[bytes],
    start: int,
    end: int,
) -> dict[tuple[bytes, int], Release]:
    """The release of each (student, milestone) among `student_ids`, from the escrow's
    events in blocks start..end."""
    wanted = sorted(set(student_ids))
    if not wanted:
        return {}
    query: dict[str, Any] = {"address": escrow}
    if len(wanted) >= ALL_RELEASES_FROM:
        groups: list[list[Any]] = [[RELEASED_TOPIC]]
    else:
        groups = [
            [RELEASED_TOPIC, ["0x" + sid.hex() for sid in wanted[i : i + IDS_PER_QUERY]]]
            for i in range(0, len(wanted), IDS_PER_QUERY)
        ]
    found: dict[tuple[bytes, int], Release] = {}
    keep = set(wanted)
    for topics in groups:
        for log in logs(request, {**query, "topics": topics}, start, end):
            release = decode(log)
            if release.student_id in keep:
                found[(release.student_id, release.milestone)] = release
    return found


def compare(
    rows: Sequence[tuple[int, Attestation, str]], paid: dict[tuple[bytes, int], Release]
) -> list[ClaimJump]:
    """The rows (number, attestation, registrar meant to pay) whose release differs in
    payee, course or registrar; a row with no release found is not judged here."""
    jumps = []
    for number, attestation, registrar in rows:
        release = paid.get((attestation.student_id, int(attestation.milestone)))
        if release is None:
            continue
        if (
            release.payee.lower() != attestation.payee.lower()
            or release.course_id != attestation.course_id
            or release.registrar.lower() != registrar.lower()
        ):
            jumps.append(ClaimJump(number, attestation, registrar, release))
    return jumps
