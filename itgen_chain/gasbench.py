"""Gas per operation of the escrow, against baselines measured in the same run.

Everything runs on a local chain with test accounts: fresh payee addresses each time (a
payee's first token balance costs a fresh storage slot, as on a real program).
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from eth_utils import to_checksum_address

from itgen_chain.attestations import Attestation, Milestone, sign

BATCH = 100
DAY = 86_400
GOALS = {
    "attest_single": 90_000,
    "attest_batch_100_per_student": 53_000,
    "attest_by_sig_batch_100_per_student": 62_000,
}


class Fresh:
    """Fresh student ids and payee addresses, never used before on this chain."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._salt = os.urandom(8)

    def attestation(self, course_id: int = 1) -> Attestation:
        n = next(self._counter)
        student = self._salt + n.to_bytes(24, "big")
        payee = to_checksum_address(self._salt + b"\xfe" * 4 + n.to_bytes(8, "big"))
        return Attestation(student, payee, course_id, Milestone.REGISTRATION)


def measure(project: Any, chain: Any, accounts: list[Any]) -> dict[str, int]:
    """Deploys a token, an escrow and a baseline disperser, and measures each operation."""
    admin, donor, registrar, relayer = accounts[:4]
    fresh = Fresh()
    gas: dict[str, int] = {}
    token = project.BscUsdLike.deploy(sender=admin)
    unit = 10**18
    end = chain.pending_timestamp + 270 * DAY
    escrow = project.ScholarshipEscrow.deploy(token, donor, admin, end, sender=admin)
    gas["deploy"] = chain.get_receipt(escrow.txn_hash).gas_used
    token.mint(donor, 2_000_000 * unit, sender=donor)
    token.approve(escrow, 1_000_000 * unit, sender=donor)
    gas["fund"] = escrow.fund(1_000_000 * unit, sender=donor).gas_used
    escrow.setCourse(1, 450 * unit, 50 * unit, True, sender=admin)
    gas["set_registrar_new"] = escrow.setRegistrar(
        registrar, 1_000_000 * unit, end, sender=admin
    ).gas_used
    escrow.attest(fresh.attestation().as_tuple(), sender=registrar)  # first use of the registrar

    gas["attest_single"] = escrow.attest(fresh.attestation().as_tuple(), sender=registrar).gas_used
    deadline = chain.pending_timestamp + DAY
    key = registrar.private_key

    def signed() -> tuple:
        return sign(fresh.attestation(), deadline, chain.chain_id, escrow.address, key).as_tuple()

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

    # Pause writes each active registrar's slot: the cost with one, and with the most allowed.
    gas["pause_1_registrar"] = escrow.pause(sender=admin).gas_used
    escrow.unpause(sender=admin)
    for _ in range(escrow.MAX_REGISTRARS() - 1):
        escrow.setRegistrar(fresh.attestation().payee, unit, end, sender=admin)
    gas["pause_max_registrars"] = escrow.pause(sender=admin).gas_used

    chain.pending_timestamp = end + 1
    gas["reclaim"] = escrow.reclaim(sender=donor).gas_used

    gas["baseline_erc20_transfer_fresh"] = token.transfer(
        fresh.attestation().payee, 450 * unit, sender=donor
    ).gas_used
    disperse = project.Disperse.deploy(sender=admin)
    token.transfer(disperse, 1_000 * 450 * unit, sender=donor)
    payees = [fresh.attestation().payee for _ in range(BATCH)]
    tx = disperse.disperse(token, payees, [450 * unit] * BATCH, sender=admin)
    gas["baseline_disperse_100_per_student"] = tx.gas_used // BATCH
    return gas


def report(gas: dict[str, int]) -> dict[str, Any]:
    """The figures with their goals and how each compares."""
    return {
        "gas": gas,
        "goals": {
            name: {"limit": limit, "measured": gas[name], "met": gas[name] <= limit}
            for name, limit in GOALS.items()
        },
    }
