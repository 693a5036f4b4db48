"""What an auditor runs against the store (or a copy of it): the hash chain recomputed from
the raw stored events, and every read model rebuilt into a shadow and compared with the
live tables. Both stream: memory stays flat whatever the size of the log.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from interfaces.persistence.runner import ProjectionRunner
from interfaces.persistence.views import PostgresViewDatabase, SQLiteViewDatabase, ViewDatabase
from projections.audit import GENESIS, link

BATCH = 1000


# ================================================================ the hash chain
@dataclass
class ChainReport:
    checked: int = 0                          # events whose seal was recomputed
    unsealed: int = 0                         # stored events the chain has not reached yet
    head: tuple[int, str] | None = None       # last sealed event and its link
    problem: str | None = None                # the first break, in words
    problem_at: int | None = None             # its notification id

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(recorder: Any, views: ViewDatabase, expect_head: str | None = None,
                 progress: Callable[[int], None] | None = None, sealed_through: int | None = None) -> ChainReport:
    """Recomputes every link from the stored bytes and compares it with the chain; names the
    first stored event that was changed, removed, added or moved. With ``expect_head`` (a link
    written down earlier), also checks that the chain still passes through it. ``sealed_through``
    is how far the chain says it has sealed the log: an event up to there without a seal is a
    break (its seal was removed), not an event waiting to be sealed."""
    report = ChainReport()
    notifications = _notifications(recorder)
    pending = next(notifications, None)
    previous = GENESIS
    head_seen = expect_head is None
    for seal in _stream(views, "SELECT notification_id, originator_id, originator_version, link FROM event_chain"
                               " ORDER BY notification_id"):
        number = int(seal["notification_id"])
        if pending is not None and pending.id < number:
            return _broken(report, pending.id, f"event #{pending.id} ({pending.topic} v{pending.originator_version} "
                                               "of " f"{pending.originator_id}) is in the store but was never sealed: "
                                               "it was added afterwards")
        if pending is None or pending.id > number:
            return _broken(report, number, f"event #{number} ({seal['originator_id']} v{seal['originator_version']}) "
                                           "was sealed but is no longer in the store: it was deleted")
        recomputed = link(previous, pending.id, pending.originator_id, pending.originator_version, pending.topic,
                          bytes(pending.state))
        if recomputed != seal["link"]:
            what = ("its aggregate or version differ from the sealed ones (events moved or renumbered)"
                    if (str(pending.originator_id), int(pending.originator_version))
                    != (str(seal["originator_id"]), int(seal["originator_version"]))
                    else "its stored bytes or topic were changed (or the chain before it)")
            return _broken(report, number, f"event #{number} ({pending.topic} v{pending.originator_version} of "
                                           f"{pending.originator_id}) does not match its seal: {what}")
        previous = seal["link"]
        head_seen = head_seen or previous == expect_head
        report.checked += 1
        report.head = (number, previous)
        if progress and report.checked % BATCH == 0:
            progress(BATCH)
        pending = next(notifications, None)
    if progress and report.checked % BATCH:
        progress(report.checked % BATCH)
    while pending is not None:
        if sealed_through is not None and pending.id <= sealed_through:
            return _broken(report, pending.id, f"event #{pending.id} ({pending.topic} v{pending.originator_version} of "
                                               f"{pending.originator_id}) lies in the sealed part of the log (up to "
                                               f"#{sealed_through}) but has no seal: its seal was removed")
        report.unsealed += 1
        pending = next(notifications, None)
    if not head_seen:
        return _broken(report, None, f"the chain no longer passes through the head written down ({expect_head}): "
                                     "events and seals were rewritten together")
    return report


def _broken(report: ChainReport, at: int | None, problem: str) -> ChainReport:
    report.problem, report.problem_at = problem, at
    return report


def _notifications(recorder: Any) -> Iterator[Any]:
    start = 0
    while True:
        batch = recorder.select_notifications(start=start, limit=BATCH, inclusive_of_start=False)
        if not batch:
            return
        yield from batch
        start = batch[-1].id


def chain_head(views: ViewDatabase) -> tuple[int, str] | None:
    with views.read() as cur:
        cur.execute("SELECT notification_id, link FROM event_chain ORDER BY notification_id DESC LIMIT 1")
        row = cur.fetchone()
    return (int(row["notification_id"]), row["link"]) if row else None


# ================================================================ read models against a shadow
@dataclass
class TableDifference:
    table: str
    live_rows: int = 0
    rebuilt_rows: int = 0
    differences: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = field(default_factory=list)
    differing: int = 0


@dataclass
class ViewReport:
    name: str
    position: int
    tables: list[TableDifference] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return all(t.differing == 0 for t in self.tables)


def verify_views(live: ViewDatabase, runners: dict[str, ProjectionRunner], shadow: ViewDatabase,
                 progress: Callable[[str, int, int], None] | None = None,
                 shown_per_table: int = 20) -> list[ViewReport]:
    """Rebuilds each read model from the log into ``shadow`` up to the position the live one
    has reached, and compares the two table by table, row by row (sorted by every column)."""
    reports = []
    for name, runner in runners.items():
        if not getattr(runner.projection, "rebuildable", True):
            continue
        position = runner.position()
        twin = ProjectionRunner(type(runner.projection)(), runner.recorder, runner.mapper, shadow,
                                runner.batch_size)
        twin.reset()
        while twin.position() < position and twin.catch_up_once(stop=position):
            if progress:
                progress(name, twin.position(), position)
        report = ViewReport(name, position)
        for table in runner.projection.tables:
            report.tables.append(_compare(live, shadow, table, shown_per_table))
        if runner.position() != position:
            report.tables.append(TableDifference(f"(the live read model moved from {position} to "
                                                 f"{runner.position()} while it was compared: run it again)",
                                                 differing=1))
        reports.append(report)
    return reports


def _compare(live: ViewDatabase, shadow: ViewDatabase, table: str, shown: int) -> TableDifference:
    """Both sides sorted by the text of every column (byte order, which Python's string order
    matches), then merged: a row on one side only is one difference, whatever its place."""
    result = TableDifference(table)
    columns = live.columns(table)
    postgres = isinstance(live, PostgresViewDatabase)
    keys = [f"k{n}" for n in range(len(columns))]
    casts = ", ".join(f"CAST({c} AS TEXT) AS {k}" for c, k in zip(columns, keys))
    collate = ' COLLATE "C"' if postgres else ""
    order = ", ".join(f"(CAST({c} AS TEXT) IS NULL), CAST({c} AS TEXT){collate}" for c in columns)
    query = f"SELECT {casts}, {', '.join(columns)} FROM {table} ORDER BY {order}"

    def key(row: dict[str, Any]) -> tuple:
        return tuple((row[k] is None, row[k] or "") for k in keys)

    def plain(row: dict[str, Any]) -> dict[str, Any]:
        return {c: row[c] for c in columns}

    # A row changed in place shows as one row on each side with the same first column (the
    # table's id): paired into one difference. Only differences are held, never the tables.
    unpaired: dict[Any, list[dict[str, Any] | None]] = {}
    left, right = _stream(live, query), _stream(shadow, query)
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and key(a) < key(b)):
            side, row = 0, a
            result.live_rows += 1
            a = next(left, None)
        elif a is None or key(b) < key(a):
            side, row = 1, b
            result.rebuilt_rows += 1
            b = next(right, None)
        else:
            result.live_rows += 1
            result.rebuilt_rows += 1
            a, b = next(left, None), next(right, None)
            continue
        assert row is not None
        pair = unpaired.setdefault(row[keys[0]], [None, None])
        if pair[side] is not None:      # the same id twice on one side: a difference of its own
            pair = unpaired.setdefault((row[keys[0]], len(unpaired)), [None, None])
        pair[side] = plain(row)
    result.differing = len(unpaired)
    result.differences = [(p[0], p[1]) for p in list(unpaired.values())[:shown]]
    return result


def _stream(views: ViewDatabase, query: str) -> Iterator[dict[str, Any]]:
    """Rows one batch at a time: a named (server-side) cursor on PostgreSQL, fetchmany on SQLite."""
    if isinstance(views, PostgresViewDatabase):
        with views.pool.connection() as conn:
            with conn.cursor(name=f"verify_{uuid.uuid4().hex}", row_factory=dict_row) as cur:
                cur.itersize = BATCH
                cur.execute(query)
                for row in cur:
                    yield dict(row)
            conn.rollback()
        return
    assert isinstance(views, SQLiteViewDatabase)
    conn = sqlite3.connect(views.path, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        cur = conn.execute(query)
        while rows := cur.fetchmany(BATCH):
            for row in rows:
                yield dict(row)
    finally:
        conn.close()


@contextlib.contextmanager
def shadow_views(live: ViewDatabase, database_url: str | None) -> Iterator[ViewDatabase]:
    """An empty place beside the live read models, dropped afterwards: a temporary SQLite file,
    or a temporary schema in the same PostgreSQL database."""
    if isinstance(live, PostgresViewDatabase):
        assert database_url
        schema = f"ironledger_verify_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        shadow = PostgresViewDatabase(database_url, schema, max_size=2)
        try:
            yield shadow
        finally:
            shadow.close()
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        return
    with tempfile.TemporaryDirectory(prefix="ironledger-verify-") as folder:
        shadow_db = SQLiteViewDatabase(Path(folder) / "shadow.sqlite3")
        try:
            yield shadow_db
        finally:
            shadow_db.close()
