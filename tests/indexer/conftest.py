"""The indexer tests' program: a deployed, funded escrow with payouts."""

from __future__ import annotations

import pytest
from helpers import student

from itgen_chain.attestations import Milestone
from itgen_chain.deployer import Terms, deploy

DAY = 86_400
UNIT = 10**18


@pytest.fixture
def program(project, chain, accounts, tmp_path, monkeypatch):
    """A deployed, funded escrow with 12 payouts in three transactions and a direct transfer."""
    monkeypatch.chdir(tmp_path)
    admin, donor, registrar = accounts[0], accounts[1], accounts[2]
    token = project.BscUsdLike.deploy(sender=admin)
    end = chain.pending_timestamp + 30 * DAY
    record = deploy(admin, Terms(token.address, donor.address, admin.address, end), force=True)
    escrow = project.ScholarshipEscrow.at(record.escrow)
    token.mint(donor, 100_000 * UNIT, sender=donor)
    token.approve(escrow, 50_000 * UNIT, sender=donor)
    escrow.fund(50_000 * UNIT, sender=donor)
    escrow.setCourse(1, 450 * UNIT, 50 * UNIT, True, sender=admin)
    escrow.setCourse(2, 300 * UNIT, 0, True, sender=admin)
    escrow.setRegistrar(registrar, 20_000 * UNIT, end, sender=admin)
    escrow.attestBatch([student(n).as_tuple() for n in range(5)], sender=registrar)
    escrow.attestBatch([student(n, course=2).as_tuple() for n in range(5, 10)], sender=registrar)
    token.transfer(escrow, 123 * UNIT, sender=donor)
    escrow.attestBatch(
        [student(n, Milestone.COMPLETION).as_tuple() for n in range(2)], sender=registrar
    )
    return record, escrow, token, registrar, admin, donor


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of this test run: initdb in a temporary folder, a unix socket
    only, stopped at the end. As root, the server runs as the `postgres` user (initdb
    refuses root). Skips where PostgreSQL's server is not installed (Debian: `apt-get
    install postgresql`; .ci/run installs it)."""
    import glob
    import os
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    initdb = shutil.which("initdb") or next(
        (f"{b}/initdb" for b in binaries if Path(f"{b}/initdb").exists()), None
    )
    if initdb is None:
        pytest.skip("PostgreSQL's server (initdb, pg_ctl) is not installed")
    pg_ctl = str(Path(initdb).resolve().parent / "pg_ctl")
    folder = Path(tempfile.mkdtemp(prefix="itgen-pg-"))  # short: a socket path is limited
    data = folder / "data"
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(folder, "postgres")
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-U", "itgen", "--auth=trust", "-E", "UTF8"], **quiet
    )
    options = f"-k {folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    log = folder / "server.log"
    subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], **quiet
    )
    try:
        yield f"postgresql://itgen@/postgres?host={folder}"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], **quiet)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def index_db(request, tmp_path):
    """An empty index database: a SQLite file, or a fresh database on the test run's
    PostgreSQL server."""
    if request.param == "sqlite":
        return tmp_path / "i.sqlite"
    import uuid

    import psycopg

    server = request.getfixturevalue("postgres_server")
    name = f"index_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server.replace("/postgres?", f"/{name}?")
