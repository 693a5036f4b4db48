"""Loading many aggregates in one read of the event store.

The library reads one aggregate per query. A job that touches tens of thousands
of aggregates (the daily penalty accrual) would spend its time in round trips,
so it reads the events of a whole batch at once, ordered by aggregate and
version, and rebuilds each aggregate exactly as the repository does: the stored
events decoded by the application's mapper (upcasting included), applied in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from psycopg.sql import SQL, Identifier


class BulkLoader:
    def __init__(self, recorder: Any, mapper: Mapper, postgres: bool) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.postgres = postgres

    def load(self, aggregate_ids: Sequence[UUID]) -> list[Any]:
        """The aggregates of ``aggregate_ids`` that exist, in the order asked."""
        if not aggregate_ids:
            return []
        stored: dict[UUID, list[StoredEvent]] = {}
        for row in self._rows(aggregate_ids):
            originator = row[0] if isinstance(row[0], UUID) else UUID(row[0])
            stored.setdefault(originator, []).append(StoredEvent(originator, row[1], row[2], bytes(row[3])))
        aggregates = []
        for aggregate_id in aggregate_ids:
            aggregate: Any = None
            for event in stored.get(aggregate_id, ()):
                aggregate = self.mapper.to_domain_event(event).mutate(aggregate)
            if aggregate is not None:
                aggregates.append(aggregate)
        return aggregates

    def _rows(self, aggregate_ids: Sequence[UUID]) -> list[tuple]:
        table = self.recorder.events_table_name
        if self.postgres:
            statement = SQL("SELECT originator_id, originator_version, topic, state FROM {}.{}"
                            " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version").format(
                Identifier(self.recorder.datastore.schema), Identifier(table))
            with self.recorder.datastore.get_connection() as conn, conn.cursor() as cur:
                cur.execute(statement, (list(aggregate_ids),))
                return [(r["originator_id"], r["originator_version"], r["topic"], r["state"])
                        for r in cur.fetchall()]
        rows: list[tuple] = []
        for start in range(0, len(aggregate_ids), 500):   # SQLite's limit on bound parameters
            chunk = aggregate_ids[start:start + 500]
            with self.recorder.datastore.transaction(commit=False) as cur:
                cur.execute(f"SELECT originator_id, originator_version, topic, state FROM {table}"
                            f" WHERE originator_id IN ({', '.join('?' * len(chunk))})"
                            " ORDER BY originator_id, originator_version", [i.hex for i in chunk])
                rows.extend(tuple(r) for r in cur.fetchall())
        return rows
