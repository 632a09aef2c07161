"""What the indexer tests share: students, an indexer over the test program, its events."""

from __future__ import annotations

import json

from itgen_chain.attestations import Attestation, Milestone
from itgen_chain.compiled import escrow_abi
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
