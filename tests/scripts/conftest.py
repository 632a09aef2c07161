"""What the in-process script tests share: a recorded program on the session's anvil."""

from __future__ import annotations

import pytest
from shared import DAY, UNIT

from itgen_chain.deployer import Terms, deploy


@pytest.fixture
def new_program(project, chain, accounts, tmp_path, monkeypatch):
    """Deploys and records a program from tmp_path (the working folder): a BSC-USD-like
    token, `funds` tokens minted into the escrow, `courses` as (id, registration,
    completion, active, provider) in tokens, and accounts[2] a registrar with `allowance`.
    Returns the escrow, the token, the registrar and the deployment record."""
    monkeypatch.chdir(tmp_path)
    admin, donor, registrar = accounts[0], accounts[1], accounts[2]

    def make(funds: int, allowance: int, courses: list[tuple]):
        token = project.BscUsdLike.deploy(sender=admin)
        end = chain.pending_timestamp + 270 * DAY
        terms = Terms(token.address, donor.address, admin.address, end)
        record = deploy(admin, terms, force=True)
        escrow = project.ScholarshipEscrow.at(record.escrow)
        token.mint(escrow, funds * UNIT, sender=admin)
        for course, registration, completion, active, provider in courses:
            escrow.setCourse(
                course, registration * UNIT, completion * UNIT, active, provider, sender=admin
            )
        escrow.setRegistrar(registrar, allowance * UNIT, end, 0, sender=admin)
        return escrow, token, registrar, record

    return make
