"""What the indexer tests share: students, an indexer over the test program, its events."""

from __future__ import annotations

import json

from shared import DAY, UNIT

from itgen_chain.attestations import Attestation, Milestone
from itgen_chain.compiled import escrow_abi
from itgen_chain.deployer import Terms, deploy
from itgen_chain.indexer import for_deployment


def student(n: int, milestone=Milestone.REGISTRATION, course=1) -> Attestation:
    from eth_utils import to_checksum_address

    return Attestation(
        (n + 1).to_bytes(32, "big"),
        to_checksum_address(f"0x{0xD00D0000 + n:040x}"),
        course,
        milestone,
    )


def make_indexer(program, chain, project, db, settings=None, request=None):
    record = program[0]
    indexer = for_deployment(
        record, chain.provider, escrow_abi(project.ScholarshipEscrow.contract_type), db, settings
    )
    if request is not None:
        indexer.request = request(indexer.request)
    return indexer


def events(db, name):
    from itgen_chain.store import Store

    rows = Store(db).all(
        "SELECT args FROM events WHERE event = ? ORDER BY block_number, log_index", (name,)
    )
    return [json.loads(r[0]) for r in rows]


def funded_program(project, chain, accounts, funds: int, minted: int):
    """A program deployed by accounts[0] and funded through `fund` by the donor
    (accounts[1], given `minted` tokens), with course 1 (450 and 50). Returns the deployment
    record, the escrow, the token and the program's end."""
    admin, donor = accounts[0], accounts[1]
    token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 30 * DAY
    record = deploy(admin, Terms(token.address, donor.address, admin.address, end), force=True)
    escrow = project.ScholarshipEscrow.at(record.escrow)
    token.mint(donor, minted * UNIT, sender=donor)
    token.approve(escrow, funds * UNIT, sender=donor)
    escrow.fund(funds * UNIT, sender=donor)
    escrow.setCourse(1, 450 * UNIT, 50 * UNIT, True, 0, sender=admin)
    return record, escrow, token, end
