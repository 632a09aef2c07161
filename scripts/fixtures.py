"""Record the JSON-RPC answers an index of a small program gets, and the audit it gives, as
the unit tests' fixtures (tests/unit/fixtures/): the indexer and the books run on them with
no node. Run again after changing what the indexer asks or what the books say:

    sh tools/with-anvil.sh ape run fixtures --network ethereum:local:foundry
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

OUT = Path("tests/unit/fixtures")
UNIT = 10**18


@click.command(cls=ConnectedProviderCommand)
@network_option()
def cli() -> None:
    """Deploy a small program, index it through a recorder, write the answers and the audit."""
    from ape import accounts, chain, project
    from eth_utils import keccak, to_checksum_address

    from itgen_chain import books
    from itgen_chain.attestations import Attestation, Milestone
    from itgen_chain.compiled import escrow_abi
    from itgen_chain.deployer import Terms
    from itgen_chain.indexer import Indexer, IndexerSettings, rpc

    admin, donor, registrar = list(accounts.test_accounts)[:3]
    token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 270 * 86_400
    escrow = project.ScholarshipEscrow.deploy(
        *Terms(token.address, donor.address, admin.address, end).arguments(), sender=admin
    )
    start = chain.get_receipt(escrow.txn_hash).block_number
    token.mint(donor, 20_000 * UNIT, sender=donor)
    token.approve(escrow, 10_000 * UNIT, sender=donor)
    escrow.fund(10_000 * UNIT, sender=donor)
    escrow.setCourse(1, 450 * UNIT, 50 * UNIT, True, 0, sender=admin)
    escrow.setRegistrar(registrar, 9_000 * UNIT, end, 0, sender=admin)

    def student(n: int, milestone: Milestone = Milestone.REGISTRATION) -> tuple:
        payee = to_checksum_address(keccak(b"fixture-payee-%d" % n)[-20:])
        return Attestation(keccak(b"fixture-%d" % n), payee, 1, milestone).as_tuple()

    escrow.attestBatch([student(n) for n in range(6)], sender=registrar)
    token.transfer(escrow, 7 * UNIT, sender=donor)  # a stray transfer in
    escrow.attestBatch([student(n, Milestone.COMPLETION) for n in range(3)], sender=registrar)

    answers: dict[str, object] = {}
    request = rpc(chain.provider)

    def recording(method: str, params: list) -> object:
        answer = request(method, params)
        answers[json.dumps([method, params])] = answer
        return answer

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "index.sqlite"
        indexer = Indexer(
            database, recording, escrow.address, token.address,
            escrow_abi(escrow.contract_type), start, IndexerSettings(max_range=3),
        )  # fmt: skip
        indexer.run()
        audit = books.build(database, None, 18, chain.chain_id)
    fixture = {
        "escrow": escrow.address,
        "token": token.address,
        "start_block": start,
        "chain_id": chain.chain_id,
        "answers": answers,
    }
    (OUT / "index_rpc.json").write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")
    (OUT / "audit.json").write_text(json.dumps(audit, indent=1, sort_keys=True) + "\n")
    click.echo(f"wrote {OUT / 'index_rpc.json'} ({len(answers)} answers) and {OUT / 'audit.json'}")
