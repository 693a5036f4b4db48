"""Issue 10's crash test, short form: two API processes and a projection worker on one
PostgreSQL schema, killed with SIGKILL at random moments under a load of commands that are
retried with their idempotency key. Nothing acknowledged may be lost, nothing applied twice,
and every read model must equal a fresh rebuild afterwards.

The long form is ``python -m bench.crash`` (20 kills); this runs the same code with 5 kills
over about 12 s of load, sends 500 of the keys again (every retried one among them) rather than
all, and works in a schema of the test session's database (``postgres_database``).
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from bench.crash import run

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def crash_schema(store, request):
    """A fresh schema in the session's PostgreSQL database (``IRONLEDGER_TEST_POSTGRES_URL``)."""
    if store != "postgres":
        pytest.skip("several server processes on one store: PostgreSQL only")
    url = request.getfixturevalue("postgres_database")
    schema = "crash_" + uuid.uuid4().hex[:10]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield url, schema
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_kill_9_under_load_loses_nothing_and_applies_nothing_twice(crash_schema):
    url, schema = crash_schema
    result = run(url, schema, kills=5, seconds=12, threads=3, replay_sample=500)
    print(result.summary)
    assert result.ok, f"{result.summary}; failed: {result.failed}"
    assert result.kills["api"] + result.kills["worker"] >= 5
    assert result.acknowledged > 0
