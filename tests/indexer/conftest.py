"""The indexer tests' program: a deployed, funded escrow with payouts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import funded_program, student
from shared import UNIT

from itgen_chain.attestations import Milestone

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # devtools/, outside the package


@pytest.fixture(scope="module")
def program(project, chain, accounts, tmp_path_factory):
    """A deployed, funded escrow with 12 payouts in three transactions and a direct transfer:
    made once a module (ape's isolation takes each test back to it), its records in a
    folder of the module's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("program"))
        yield _make_program(project, chain, accounts)


def _make_program(project, chain, accounts):
    record, escrow, token, end = funded_program(project, chain, accounts, 50_000, 100_000)
    admin, donor, registrar = accounts[0], accounts[1], accounts[2]
    escrow.setCourse(2, 300 * UNIT, 0, True, 0, sender=admin)
    escrow.setRegistrar(registrar, 20_000 * UNIT, end, 0, sender=admin)
    escrow.attestBatch([student(n).as_tuple() for n in range(5)], sender=registrar)
    escrow.attestBatch([student(n, course=2).as_tuple() for n in range(5, 10)], sender=registrar)
    token.transfer(escrow, 123 * UNIT, sender=donor)
    escrow.attestBatch(
        [student(n, Milestone.COMPLETION).as_tuple() for n in range(2)], sender=registrar
    )
    return record, escrow, token, registrar, admin, donor


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of this test run (devtools/postgres.py), stopped at the end.
    Skips where PostgreSQL's server is not installed (Debian: `apt-get install
    postgresql`; .ci/run installs it)."""
    from devtools import postgres

    if postgres.server_binaries() is None:
        pytest.skip("PostgreSQL's server (initdb, pg_ctl) is not installed")
    with postgres.server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def index_db(request, tmp_path):
    """An empty index database: a SQLite file, or a fresh database on the test run's
    PostgreSQL server."""
    if request.param == "sqlite":
        return tmp_path / "i.sqlite"
    from devtools import postgres

    return postgres.new_database(request.getfixturevalue("postgres_server"))
