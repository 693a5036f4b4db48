"""Where read models live: the same SQL on SQLite and PostgreSQL.

A read model writes its rows and its position in the notification log in one
transaction (``transaction()``), so an event is never applied twice nor
skipped, whatever crashes when. The position row is advanced with an
optimistic check (``UPDATE … WHERE position = expected``): two runners of the
same projection cannot both apply the same events.

SQL is written once with ``%s`` placeholders; the SQLite side rewrites them.
Column types are written as ``{uuid}``, ``{money}``, ``{date}``, ``{ts}``,
``{bigint}`` and mapped per database, so PostgreSQL analysts get real types.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from psycopg.rows import dict_row

from interfaces.persistence.postgres import SCHEMA_LOCK_KEY
from psycopg_pool import ConnectionPool

sqlite3.register_adapter(UUID, str)
sqlite3.register_adapter(Decimal, str)
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, datetime.isoformat)

TYPES = {
    "sqlite": {"uuid": "TEXT", "money": "TEXT", "date": "TEXT", "ts": "TEXT", "bigint": "INTEGER",
               "text": "TEXT", "int": "INTEGER", "bool": "INTEGER"},
    "postgres": {"uuid": "uuid", "money": "numeric(16,2)", "date": "date", "ts": "timestamptz",
                 "bigint": "bigint", "text": "text", "int": "integer", "bool": "boolean"},
}


class PositionConflictError(Exception):
    """Another runner advanced the same read model first; this batch was rolled back."""


class Cursor(Protocol):
    rowcount: int
    description: Any

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> dict[str, Any] | None: ...
    def fetchall(self) -> list[dict[str, Any]]: ...


class ViewDatabase:
    dialect: str

    def transaction(self) -> Any:  # context manager yielding a Cursor
        raise NotImplementedError

    def batch_transaction(self) -> Any:
        """A transaction for applying a batch of events: the same guarantees, with as few
        client waits as the database allows (PostgreSQL: pipeline mode)."""
        return self.transaction()

    def read(self) -> Any:  # context manager yielding a Cursor
        raise NotImplementedError

    def close(self) -> None:
        pass

    def lock_schema(self, cur: Cursor) -> None:
        """Serialises table creation between processes starting at once
        (PostgreSQL's CREATE TABLE IF NOT EXISTS can collide otherwise)."""
        if self.dialect == "postgres":
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY + 1,))

    # -------------------------------------------------------------- positions
    def ensure_positions_table(self) -> None:
        with self.transaction() as cur:
            self.lock_schema(cur)
            cur.execute("CREATE TABLE IF NOT EXISTS projection_positions ("
                        " name TEXT PRIMARY KEY, version INTEGER NOT NULL, position {bigint} NOT NULL)"
                        .format(**TYPES[self.dialect]))

    def columns(self, table: str) -> tuple[str, ...]:
        """A read table's column names, in their order."""
        with self.read() as cur:
            cur.execute(f"SELECT * FROM {table} LIMIT 0")
            return tuple(d[0] for d in cur.description)

    def position(self, name: str, cur: Cursor | None = None) -> tuple[int, int] | None:
        """(version, position) of a read model, or None if it was never built."""
        def query(c: Cursor) -> tuple[int, int] | None:
            c.execute("SELECT version, position FROM projection_positions WHERE name = %s", (name,))
            row = c.fetchone()
            return (row["version"], row["position"]) if row else None
        if cur is not None:
            return query(cur)
        with self.read() as c:
            return query(c)

    def lock_position(self, cur: Cursor, name: str) -> int:
        """The read model's position, locked until the transaction ends, so that
        two runners of one read model take turns instead of racing."""
        lock = " FOR UPDATE" if self.dialect == "postgres" else ""  # SQLite: BEGIN IMMEDIATE locks already
        cur.execute(f"SELECT position FROM projection_positions WHERE name = %s{lock}", (name,))
        row = cur.fetchone()
        if row is None:
            raise PositionConflictError(f"read model {name} is being rebuilt")
        return row["position"]

    @staticmethod
    def advance(cur: Cursor, name: str, expected: int, new: int) -> None:
        # RETURNING rather than rowcount: in pipeline mode a result is known once fetched.
        cur.execute("UPDATE projection_positions SET position = %s WHERE name = %s AND position = %s"
                    " RETURNING position", (new, name, expected))
        if cur.fetchone() is None:
            raise PositionConflictError(f"read model {name} moved past {expected} meanwhile")


class _SQLiteCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(_qmark(sql), tuple(params))

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(_qmark(sql), params)

    def fetchone(self) -> dict[str, Any] | None:
        row = self._cursor.fetchone()
        return dict(row) if row is not None else None

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._cursor.fetchall()]


_qmark_cache: dict[str, str] = {}


def _qmark(sql: str) -> str:
    converted = _qmark_cache.get(sql)
    if converted is None:
        converted = _qmark_cache[sql] = sql.replace("%s", "?")
    return converted


class SQLiteViewDatabase(ViewDatabase):
    """Read models in their own SQLite file beside the event store, so that
    projection writes never wait on command writes. One connection per thread."""

    dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.ensure_positions_table()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteCursor]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteCursor(conn.cursor())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[_SQLiteCursor]:
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield _SQLiteCursor(conn.cursor())
        finally:
            conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:
                    pass
            self._all.clear()
        self._local = threading.local()


class _PostgresCursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(sql, tuple(params))

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(sql, params)

    def fetchone(self) -> dict[str, Any] | None:
        return self._cursor.fetchone()

    def fetchall(self) -> list[dict[str, Any]]:
        return self._cursor.fetchall()


class PostgresViewDatabase(ViewDatabase):
    """Read models in the same PostgreSQL database (and schema) as the events."""

    dialect = "postgres"

    def __init__(self, conninfo: str, schema: str = "public", max_size: int = 10) -> None:
        self.schema = schema
        self.pool = ConnectionPool(conninfo, min_size=1, max_size=max_size, open=True,
                                   kwargs={"options": f"-c search_path={schema}", "row_factory": dict_row,
                                           "autocommit": False})
        self.ensure_positions_table()

    @contextmanager
    def transaction(self) -> Iterator[_PostgresCursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield _PostgresCursor(cur)

    @contextmanager
    def batch_transaction(self) -> Iterator[_PostgresCursor]:
        """Pipeline mode: statements are sent without waiting for each answer; the client
        waits only where it reads a result (a read inside a handler, the position check).
        An error still aborts the whole transaction, raised at the latest on commit."""
        with self.pool.connection() as conn, conn.pipeline(), conn.transaction(), conn.cursor() as cur:
            yield _PostgresCursor(cur)

    @contextmanager
    def read(self) -> Iterator[_PostgresCursor]:
        with self.pool.connection() as conn:
            with conn.cursor() as cur:
                yield _PostgresCursor(cur)
            conn.rollback()

    def close(self) -> None:
        self.pool.close()
