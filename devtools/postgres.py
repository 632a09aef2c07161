"""A throwaway PostgreSQL server (Debian's `postgresql` package: initdb, pg_ctl) in a
temporary folder, reachable by a unix socket only, stopped and removed at the end. As root
it runs as the `postgres` user (initdb refuses root). For the tests and the benchmark."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_binaries() -> tuple[str, str] | None:
    """initdb and pg_ctl, or None where PostgreSQL's server is not installed."""
    initdb = shutil.which("initdb") or next(
        (
            f"{folder}/initdb"
            for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
            if Path(f"{folder}/initdb").exists()
        ),
        None,
    )
    if initdb is None:
        return None
    return initdb, str(Path(initdb).resolve().parent / "pg_ctl")


@contextmanager
def server() -> Iterator[str]:
    """Starts a server; yields the URL of its `postgres` database (user `itgen`, trust)."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL's server is not installed: apt-get install postgresql")
    initdb, pg_ctl = binaries
    folder = Path(tempfile.mkdtemp(prefix="itgen-pg-"))  # short: socket paths are limited
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
    start = [*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w"]
    subprocess.run([*start, "start"], **quiet)
    try:
        yield f"postgresql://itgen@/postgres?host={folder}"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], **quiet)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server_url: str) -> str:
    """A fresh, empty database on the server; returns its URL."""
    import psycopg

    name = f"index_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server_url.replace("/postgres?", f"/{name}?")
