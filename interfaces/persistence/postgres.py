"""The PostgreSQL event recorder, with the library's guarantees in one round trip.

The library's recorder sends BEGIN, SET LOCAL lock_timeout, LOCK TABLE … IN
EXCLUSIVE MODE, NOTIFY, INSERT and COMMIT as separate messages of a pipeline
(about fourteen client waits per save, measured). The same statements inside
one PL/pgSQL function, called in autocommit mode, run as one transaction on
the server in one round trip. Nothing is dropped: the EXCLUSIVE lock still
makes commit order equal notification order (readers never skip an event),
the NOTIFY still wakes subscribers, and a primary-key conflict still raises
IntegrityError and rolls the whole save back.

A save whose answer is lost (the connection breaks after the server committed) is
sent again, like the library does; when that second try collides with rows that are
byte for byte the events it was saving, the first try committed them: their positions
are returned instead of a conflict. Otherwise the command runner would take its own
committed save for a concurrent change and run the command again (a receipt recorded
twice, a machine just received refused as "serial number already exists").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier

# One key for every process creating tables in this database (an arbitrary constant).
SCHEMA_LOCK_KEY = 7_309_118_240_517


class OneTripPostgresApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.locked_insert_function = f"{events_table_name}_insert_locked"
        self.check_identifier_length(self.locked_insert_function)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}("
            "ids {id_type}[], versions bigint[], topics text[], states bytea[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
            "BEGIN "
            "  SET LOCAL lock_timeout = '{lock_timeout}s'; "
            "  LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "  NOTIFY {channel}; "
            "  RETURN QUERY INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "    SELECT * FROM unnest(ids, versions, topics, states) "
            "    RETURNING notification_id; "
            "END; $BODY$"
        ).format(schema=schema, function=Identifier(self.locked_insert_function),
                 id_type=Identifier(self.datastore.originator_id_type), lock_timeout=self.datastore.lock_timeout,
                 table=Identifier(self.events_table_name), channel=Identifier(self.channel_name)))
        # The same for the most common save, one event: scalar parameters cost less to send.
        self.sql_create_statements.append(SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}("
            "id {id_type}, version bigint, topic text, state bytea) "
            "RETURNS bigint LANGUAGE plpgsql AS $BODY$ "
            "DECLARE position bigint; "
            "BEGIN "
            "  SET LOCAL lock_timeout = '{lock_timeout}s'; "
            "  LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "  NOTIFY {channel}; "
            "  INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "    VALUES (id, version, topic, state) RETURNING notification_id INTO position; "
            "  RETURN position; "
            "END; $BODY$"
        ).format(schema=schema, function=Identifier(self.locked_insert_function),
                 id_type=Identifier(self.datastore.originator_id_type), lock_timeout=self.datastore.lock_timeout,
                 table=Identifier(self.events_table_name), channel=Identifier(self.channel_name)))
        self.sql_call_locked_insert_one = SQL("SELECT {schema}.{function}(%s, %s, %s, %s) AS position").format(
            schema=schema, function=Identifier(self.locked_insert_function))
        self.sql_call_locked_insert = SQL("SELECT * FROM {schema}.{function}(%s, %s, %s, %s)").format(
            schema=schema, function=Identifier(self.locked_insert_function))

    def create_table(self) -> None:
        """Several processes may start at once: they create tables one at a time."""
        with self.datastore.get_connection() as lock_connection:
            lock_connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
            try:
                super().create_table()
            finally:
                lock_connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))

    INSERT_ATTEMPTS = 10        # as the library's @retry on insert_events
    INSERT_RETRY_WAIT = 0.2

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return []
        uncertain = False  # an earlier try may have committed before its answer was lost
        for attempt in range(1, self.INSERT_ATTEMPTS + 1):
            try:
                return self._insert_locked(stored_events)
            except IntegrityError:
                stored = self._stored_by_earlier_try(stored_events) if uncertain else None
                if stored is None:
                    raise
                return stored
            except (InterfaceError, OperationalError):
                if attempt == self.INSERT_ATTEMPTS:
                    raise
                uncertain = True
                time.sleep(self.INSERT_RETRY_WAIT)
        raise AssertionError("unreachable")

    def _insert_locked(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        if len(stored_events) == 1:
            e = stored_events[0]
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(self.sql_call_locked_insert_one,
                             (e.originator_id, e.originator_version, e.topic, e.state), prepare=True)
                row = curs.fetchone()
                assert row is not None
                return [row["position"]]
        params = ([e.originator_id for e in stored_events], [e.originator_version for e in stored_events],
                  [e.topic for e in stored_events], [e.state for e in stored_events])
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql_call_locked_insert, params, prepare=True)
            return [row[self.locked_insert_function] for row in curs.fetchall()]

    def _stored_by_earlier_try(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The notification ids of these very events if they are all stored (same aggregate,
        version, topic and bytes: an earlier try of this save committed); None otherwise."""
        statement = SQL("SELECT originator_id, originator_version, topic, state, notification_id FROM {}.{} "
                        "WHERE originator_id = ANY(%s) AND originator_version = ANY(%s)").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list({e.originator_id for e in stored_events}),
                                     list({e.originator_version for e in stored_events})))
            rows = {(str(r["originator_id"]), int(r["originator_version"])): r for r in curs.fetchall()}
        positions = []
        for e in stored_events:
            row = rows.get((str(e.originator_id), int(e.originator_version)))
            if row is None or row["topic"] != e.topic or bytes(row["state"]) != bytes(e.state):
                return None
            positions.append(int(row["notification_id"]))
        return positions
