"""Where an index lives: an embedded SQLite file (the default) or a PostgreSQL database
(``--db postgresql://user@host/dbname``) for a charity that shares one index between several
people. The same schema and the same SQL run on both.

The driver for PostgreSQL is psycopg 3 (its binary wheel: no compiler, no libpq to install):
it is the maintained PostgreSQL driver for Python, speaks the DB-API like sqlite3, and the
indexer's few statements (upserts with ON CONFLICT, which SQLite has since 3.24) need no
query builder, so SQLAlchemy would add a layer without removing any code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from itgen_chain.exceptions import (
    StoreError,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number BIGINT PRIMARY KEY, hash TEXT NOT NULL, timestamp BIGINT);
CREATE TABLE IF NOT EXISTS events (
    block_number BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    tx_hash TEXT NOT NULL,
    contract TEXT NOT NULL,
    event TEXT NOT NULL,
    args TEXT NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE TABLE IF NOT EXISTS programs (escrow TEXT PRIMARY KEY, token TEXT NOT NULL);
"""


def is_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Store:
    """A DB-API connection to SQLite or PostgreSQL with ``?`` placeholders on both."""

    def __init__(self, target: str | Path) -> None:
        self.target = str(target)
        if is_url(target):
            try:
                import psycopg
            except ImportError as error:
                raise StoreError(
                    "--db postgresql://... needs psycopg: pip install psycopg[binary]"
                ) from error
            try:
                self.connection: Any = psycopg.connect(str(target), autocommit=True)
            except psycopg.Error as error:
                first = (
                    str(error).strip().splitlines()[0]
                    if str(error).strip()
                    else type(error).__name__
                )
                raise StoreError(f"cannot open {_safe(str(target))}: {first}") from None
            self.dialect = "postgresql"
            with self.transaction():
                for statement in filter(str.strip, SCHEMA.split(";")):
                    self.connection.execute(statement)
        else:
            import sqlite3

            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(path, check_same_thread=False)
            self.dialect = "sqlite"
            self.connection.executescript(
                "PRAGMA journal_mode = WAL;\nPRAGMA synchronous = NORMAL;\n" + SCHEMA
            )

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.connection.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.dialect == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.executemany(self._sql(sql), [tuple(row) for row in rows])
        else:
            self.connection.executemany(sql, rows)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return [tuple(row) for row in self.execute(sql, params).fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        row = self.execute(sql, params).fetchone()
        return tuple(row) if row is not None else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction: all of it lands, or none."""
        if self.dialect == "postgresql":
            with self.connection.transaction():
                yield
        else:
            with self.connection:
                yield

    def close(self) -> None:
        self.connection.close()

    def __str__(self) -> str:
        return _safe(self.target)


def _safe(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
