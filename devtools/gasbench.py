"""Gas per operation of the escrow, against baselines measured in the same run.

Everything runs on a local chain with test accounts and realistic data: every studentId is
``keccak256(salt ‖ reference)`` as the roster makes it (32 random-looking bytes, which cost
more calldata than ids that are mostly zero bytes) and every payee a fresh random address (a
payee's first token balance costs a fresh storage slot, as on a real program).

The floor is a contract compiled with the same settings that does the least a
registrar-gated release must: a registrar table, one paid flag, one SafeERC20 transfer, one
event, the amount named by the caller (``contracts/test/FloorRelease.sol``). The ratios to it
say what the escrow's rules (courses, allowances, expiry, pause, program end) cost.
"""

from __future__ import annotations

import os
from typing import Any

from eth_account import Account
from eth_utils import keccak, to_checksum_address

from itgen_chain.attestations import Attestation, Milestone, sign
from itgen_chain.deployer import Terms
from itgen_chain.reservations import Reservation, sign_claim

BATCH = 100
DAY = 86_400
GOALS = {
    "attest_single": 90_000,
    "attest_batch_100_per_student": 53_500,
    "attest_by_sig_batch_100_per_student": 62_000,
}
RATIO_GOALS = {"ratio_single_to_floor": 1.10, "ratio_batch_to_floor": 1.05}


class Fresh:
    """Students as a roster makes them, and payee addresses never used before on this chain."""

    def __init__(self) -> None:
        self._salt = os.urandom(32)
        self._count = 0

    def student_id(self) -> bytes:
        self._count += 1
        return keccak(self._salt + f"UA-2025-{self._count:05d}".encode())

    def payee(self) -> str:
        return to_checksum_address(os.urandom(20))

    def attestation(self, course_id: int = 1) -> Attestation:
        return Attestation(self.student_id(), self.payee(), course_id, Milestone.REGISTRATION)


def measure(project: Any, chain: Any, accounts: list[Any]) -> dict[str, int]:
    """Deploys a token, an escrow, the floor and a disperser, and measures each operation."""
    admin, donor, registrar, relayer = accounts[:4]
    fresh = Fresh()
    gas: dict[str, int] = {}
    token = project.BscUsdLike.deploy(sender=admin)
    unit = 10**18
    end = chain.pending_timestamp + 270 * DAY
    arguments = Terms(token.address, donor.address, admin.address, end).arguments()
    escrow = project.ScholarshipEscrow.deploy(*arguments, sender=admin)
    gas["deploy"] = chain.get_receipt(escrow.txn_hash).gas_used
    token.mint(donor, 2_000_000 * unit, sender=donor)
    token.approve(escrow, 1_000_000 * unit, sender=donor)
    gas["fund"] = escrow.fund(1_000_000 * unit, sender=donor).gas_used
    escrow.setCourse(1, 450 * unit, 50 * unit, True, 0, sender=admin)
    gas["set_registrar_new"] = escrow.setRegistrar(
        registrar, 1_000_000 * unit, end, 0, sender=admin
    ).gas_used
    escrow.attest(fresh.attestation().as_tuple(), sender=registrar)  # first use of the registrar

    gas["attest_single"] = escrow.attest(fresh.attestation().as_tuple(), sender=registrar).gas_used
    deadline = chain.pending_timestamp + DAY
    key = registrar.private_key
    epoch = escrow.registrar(registrar).epoch

    def signed(item: Attestation | None = None) -> tuple:
        item = item or fresh.attestation()
        return sign(item, epoch, deadline, chain.chain_id, escrow.address, key).as_tuple()

    gas["attest_by_sig_single"] = escrow.attestBySig(signed(), sender=relayer).gas_used
    registered = [fresh.attestation() for _ in range(BATCH)]
    batch = [item.as_tuple() for item in registered]
    gas["attest_batch_100_per_student"] = (
        escrow.attestBatch(batch, sender=registrar).gas_used // BATCH
    )
    completions = [(a.student_id, a.payee, 1, int(Milestone.COMPLETION)) for a in registered]
    gas["attest_completion_batch_100_per_student"] = (
        escrow.attestBatch(completions, sender=registrar).gas_used // BATCH
    )
    batch = [signed() for _ in range(BATCH)]
    tx = escrow.attestBatchBySig(batch, sender=relayer)
    gas["attest_by_sig_batch_100_per_student"] = tx.gas_used // BATCH

    # A signed batch of 100 whose first item someone else paid first (the mempool copy):
    # what the skipped item adds, against a signed batch of the 99 others alone.
    without = escrow.attestBatchBySig([signed() for _ in range(BATCH - 1)], sender=relayer)
    items = [fresh.attestation() for _ in range(BATCH)]
    escrow.attestBySig(signed(items[0]), sender=accounts[4])
    tx = escrow.attestBatchBySig([signed(item) for item in items], sender=relayer)
    gas["skipped_item_in_batch"] = tx.gas_used - without.gas_used
    gas.update(measure_reservations(escrow, chain, registrar, relayer, fresh))

    # Pause writes each active registrar's slot: the cost with one, and with the most allowed.
    gas["pause_1_registrar"] = escrow.pause(sender=admin).gas_used
    escrow.unpause(sender=admin)
    for _ in range(escrow.MAX_REGISTRARS() - 1):
        escrow.setRegistrar(fresh.payee(), unit, end, 0, sender=admin)
    gas["pause_max_registrars"] = escrow.pause(sender=admin).gas_used

    chain.pending_timestamp = end + 1
    gas["reclaim"] = escrow.reclaim(sender=donor).gas_used

    gas.update(measure_floor(project, token, admin, donor, registrar, fresh, unit))
    gas.update(
        measure_floor_reservations(project, chain, token, admin, donor, registrar, fresh, unit)
    )
    gas["baseline_erc20_transfer_fresh"] = token.transfer(
        fresh.payee(), 450 * unit, sender=donor
    ).gas_used
    disperse = project.Disperse.deploy(sender=admin)
    token.transfer(disperse, 1_000 * 450 * unit, sender=donor)
    payees = [fresh.payee() for _ in range(BATCH)]
    tx = disperse.disperse(token, payees, [450 * unit] * BATCH, sender=admin)
    gas["baseline_disperse_100_per_student"] = tx.gas_used // BATCH
    return gas


def measure_floor(
    project: Any, token: Any, admin: Any, donor: Any, registrar: Any, fresh: Fresh, unit: int
) -> dict[str, int]:
    """The floor contract's single and per-student batch gas, on the same kind of data."""
    floor = project.FloorRelease.deploy(token, [registrar], sender=admin)
    token.transfer(floor, 1_000 * 450 * unit, sender=donor)
    floor.release(fresh.student_id(), fresh.payee(), 450 * unit, sender=registrar)  # warm-up
    single = floor.release(fresh.student_id(), fresh.payee(), 450 * unit, sender=registrar)
    releases = [(fresh.student_id(), fresh.payee(), 450 * unit) for _ in range(BATCH)]
    batch = floor.releaseBatch(releases, sender=registrar)
    return {
        "floor_single": single.gas_used,
        "floor_batch_100_per_student": batch.gas_used // BATCH,
    }


def _claim_keys(count: int) -> list[bytes]:
    return [os.urandom(32) for _ in range(count)]


def measure_reservations(
    escrow: Any, chain: Any, registrar: Any, relayer: Any, fresh: Fresh
) -> dict[str, int]:
    """Reserve (one, and a batch of 100) and claim (one, and a batch of 100) on the escrow:
    fresh keccak ids, a fresh claim key per student, a fresh payee per claim."""
    deadline = chain.pending_timestamp + DAY

    def reserve(count: int) -> tuple[list[tuple[bytes, bytes]], int]:
        keys = _claim_keys(count)
        ids = [fresh.student_id() for _ in keys]
        batch = [
            Reservation(i, Account.from_key(k).address, 1, Milestone.REGISTRATION).as_tuple()
            for i, k in zip(ids, keys, strict=True)
        ]
        return list(zip(ids, keys, strict=True)), escrow.reserveBatch(
            batch, sender=registrar
        ).gas_used

    def claims(reserved: list[tuple[bytes, bytes]]) -> list[tuple]:
        return [
            sign_claim(
                i,
                Milestone.REGISTRATION,
                fresh.payee(),
                deadline,
                chain.chain_id,
                escrow.address,
                k,
            ).as_tuple()
            for i, k in reserved
        ]

    # The batch first: the first reservation of a program also starts its reserved total
    # (a fresh slot, 20,000 gas once), which a steady-state single should not carry.
    many, batch = reserve(BATCH)
    one, single = reserve(1)
    return {
        "reserve_single": single,
        "reserve_batch_100_per_student": batch // BATCH,
        "claim_single": escrow.claim(claims(one)[0], sender=relayer).gas_used,
        "claim_batch_100_per_student": escrow.claimBatch(claims(many), sender=relayer).gas_used
        // BATCH,
    }


def measure_floor_reservations(
    project: Any,
    chain: Any,
    token: Any,
    admin: Any,
    donor: Any,
    registrar: Any,
    fresh: Fresh,
    unit: int,
) -> dict[str, int]:
    """The floor's reserve and claim, one and a batch of 100, on the same kind of data."""
    floor = project.FloorRelease.deploy(token, [registrar], sender=admin)
    token.transfer(floor, 1_000 * 450 * unit, sender=donor)
    deadline = chain.pending_timestamp + DAY
    figures: dict[str, int] = {}
    for count, label in ((1, "single"), (BATCH, "batch_100_per_student")):
        keys = _claim_keys(count)
        ids = [fresh.student_id() for _ in keys]
        reservations = [
            (i, Account.from_key(k).address, 450 * unit, 1) for i, k in zip(ids, keys, strict=True)
        ]
        gas = floor.reserveBatch(reservations, sender=registrar).gas_used
        figures[f"floor_reserve_{label}"] = gas // count
        claims = []
        for i, k in zip(ids, keys, strict=True):
            payee = fresh.payee()
            digest = floor.claimDigest(i, payee, deadline)
            signature = Account._sign_hash(digest, k).signature
            claims.append((i, payee, deadline, bytes(signature)))
        figures[f"floor_claim_{label}"] = (
            floor.claimBatch(claims, sender=registrar).gas_used // count
        )
    return figures


def report(gas: dict[str, int]) -> dict[str, Any]:
    """The figures, the ratios to the floor, their goals and how each compares."""
    ratios = {
        "ratio_single_to_floor": round(gas["attest_single"] / gas["floor_single"], 4),
        "ratio_batch_to_floor": round(
            gas["attest_batch_100_per_student"] / gas["floor_batch_100_per_student"], 4
        ),
    }
    for what in ("reserve", "claim"):
        for label in ("single", "batch_100_per_student"):
            ratios[f"ratio_{what}_{label}_to_floor"] = round(
                gas[f"{what}_{label}"] / gas[f"floor_{what}_{label}"], 4
            )
    goals = {
        name: {"limit": limit, "measured": gas[name], "met": gas[name] <= limit}
        for name, limit in GOALS.items()
    }
    goals.update(
        {
            name: {"limit": limit, "measured": ratios[name], "met": ratios[name] <= limit}
            for name, limit in RATIO_GOALS.items()
        }
    )
    return {"gas": gas, "ratios": ratios, "goals": goals}
