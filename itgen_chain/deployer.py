"""Deploying the escrow: the record every other command reads, and the explorer's input."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from itgen_chain import compiled, records
from itgen_chain.exceptions import DeploymentError
from itgen_chain.roster import LATEST_RULE

# Two steps, this far apart, to hand the admin role to another address (a stolen admin key
# cannot take the role away at once; the admin can cancel the handover meanwhile).
DEFAULT_ADMIN_DELAY = 3 * 86_400


@dataclass(frozen=True)
class Terms:
    """What a program's escrow is deployed with, agreed between the charity and the donor."""

    token: str
    """The scholarship token (BSC-USD on BNB Chain)."""
    donor: str
    """Receives what is left after the program ends."""
    admin: str
    """The admin; a multisig on mainnet."""
    program_end: int
    """Unix time after which nothing is released."""
    pauser: str | None = None
    """The guardian, who can only pause; the admin when None."""
    admin_delay: int = DEFAULT_ADMIN_DELAY
    """Seconds between proposing a new admin and its taking over."""
    latest_program_end: int | None = None
    """The latest the program end may ever move to; the program end itself when None."""

    def arguments(self) -> tuple[str, str, str, str, int, int, int]:
        """ScholarshipEscrow's constructor arguments, in order, defaults filled in."""
        latest = self.program_end if self.latest_program_end is None else self.latest_program_end
        return (
            self.token,
            self.donor,
            self.admin,
            self.pauser or self.admin,
            self.admin_delay,
            self.program_end,
            latest,
        )


def deploy(
    account: Any, terms: Terms, force: bool, program: str = records.DEFAULT_PROGRAM
) -> records.Deployment:
    """Deploys the escrow on `terms` from `account`; writes the record, the explorer's input
    and the program salt. Refuses to replace a live deployment unless `force`."""
    from ape import chain
    from ape.contracts import ContractContainer

    provider = chain.provider
    network = provider.network
    path = records.path_for(network.ecosystem.name, network.name, program)
    if path.exists() and not force:
        existing = records.load(network.ecosystem.name, network.name, program)
        if existing.chain_id == provider.chain_id and provider.get_code(existing.escrow):
            raise DeploymentError(
                f"{path} records a live escrow at {existing.escrow}; pass --force to replace it"
            )
    arguments = terms.arguments()
    escrow = ContractContainer(compiled.escrow_type()).deploy(*arguments, sender=account)
    salt = os.urandom(32)
    # The rule's edition goes with the salt from the start: a registrar's ids must never be
    # made under another edition than the program's, even if this run stops right here.
    records.save_salt(
        network.ecosystem.name, network.name, salt, program, {"reference_rule": LATEST_RULE}
    )
    receipt = chain.get_receipt(escrow.txn_hash)
    verify = compiled.standard_json_input()
    record = records.Deployment(
        ecosystem=network.ecosystem.name,
        network=network.name,
        chain_id=provider.chain_id,
        escrow=escrow.address,
        token=terms.token,
        donor=terms.donor,
        admin=terms.admin,
        program_end=terms.program_end,
        pauser=arguments[3],
        admin_delay=arguments[4],
        latest_program_end=arguments[6],
        block=receipt.block_number,
        transaction=receipt.txn_hash,
        salt_id=records.salt_id(salt),
        program=program,
        reference_rule=LATEST_RULE,
        compiler={"version": verify["compilerVersion"], "settings": verify["settings"]},
    )
    written = records.save(record)
    # The salt file a registrar is handed carries what it needs without this record.
    records.save_salt(
        network.ecosystem.name,
        network.name,
        salt,
        program,
        {"escrow": escrow.address, "block": record.block, "reference_rule": LATEST_RULE},
    )
    written.with_suffix(".standard-input.json").write_text(json.dumps(verify, indent=1) + "\n")
    return record
