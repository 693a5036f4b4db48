"""What the golden fixture holds, read from a back office, and the fixture's files.

- ``events.jsonl.gz``: every stored event in notification order, one JSON object a line:
  ``id`` (notification id), ``topic``, ``originator_id``, ``originator_version`` and ``state``:
  the stored state bytes exactly as the store holds them, as text (they are msgspec JSON,
  UTF-8; ``state.encode()`` gives the stored bytes back).
- ``aggregates.json.gz``: for every aggregate id of the log, the aggregate loaded through the
  event store's repository, canonically dumped (see ``canonical``).
- ``read_models.json.gz``: every read-model table's rows after ``catch_up()``, values as text
  or integers the same way on SQLite and PostgreSQL, rows sorted.
- ``answers.json.gz``: every HTTP request of the workload and its answer (status, whether it
  was replayed, body); sign-in answers keep only the user id (tokens carry the wall clock).

Everything is found without naming the product's modules: the event store is the
``eventsourcing`` ``Application`` the back office holds; read tables are listed from the
database catalogue (minus the event store's own tables and the runners' positions).
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

HERE = Path(__file__).resolve().parent
EVENTS = HERE / "events.jsonl.gz"
AGGREGATES = HERE / "aggregates.json.gz"
READ_MODELS = HERE / "read_models.json.gz"
ANSWERS = HERE / "answers.json.gz"
BATCH = 500

# Not read models: the runners' own bookkeeping (its positions are checked on their own).
NOT_READ_TABLES = {"projection_positions"}


# ====================================================================== the event store
def event_store(office: Any) -> Application:
    """The ``eventsourcing`` application the back office records into (whatever it is called)."""
    found = [value for value in vars(office).values() if isinstance(value, Application)]
    assert len(found) == 1, f"expected one eventsourcing Application on the back office, found {found}"
    return found[0]


def notifications(app: Application) -> Iterator[Any]:
    start = 0
    while True:
        recorder: Any = app.recorder
        batch = recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False)
        if not batch:
            return
        yield from batch
        start = batch[-1].id


def stored_events(app: Application) -> list[dict[str, Any]]:
    return [{"id": n.id, "topic": n.topic, "originator_id": str(n.originator_id),
             "originator_version": n.originator_version, "state": bytes(n.state).decode("utf-8")}
            for n in notifications(app)]


def insert_raw(app: Application, events: list[dict[str, Any]]) -> list[int]:
    """The stored events written as they are (a restore): no domain code runs."""
    ids: list[int] = []
    for start in range(0, len(events), BATCH):
        chunk = [StoredEvent(originator_id=UUID(e["originator_id"]), originator_version=e["originator_version"],
                             topic=e["topic"], state=e["state"].encode("utf-8"))
                 for e in events[start:start + BATCH]]
        ids += list(app.recorder.insert_events(chunk) or [])  # type: ignore[attr-defined]
    return ids


# ====================================================================== aggregates
def canonical(value: Any) -> Any:
    """Plain JSON values for any state: money and ids as strings, dates ISO 8601 (UTC for
    moments), enums by value, structs/dataclasses/objects as their fields; mapping keys and
    sets sorted (a set's order is the process's hash seed, not state)."""
    if isinstance(value, Enum):
        return canonical(value.value)
    if value is None or type(value) in (bool, int, str):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        items = [(_key(k), canonical(v)) for k, v in value.items()]
        return dict(sorted(items))
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    fields = getattr(type(value), "__struct_fields__", None)          # msgspec.Struct
    if fields is not None:
        return canonical({f: getattr(value, f) for f in fields})
    if dataclasses.is_dataclass(value):
        return canonical({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if hasattr(value, "__dict__"):
        return canonical(vars(value))
    slots = [s for cls in type(value).__mro__ for s in getattr(cls, "__slots__", ())]
    if slots:
        return canonical({s: getattr(value, s) for s in slots if hasattr(value, s)})
    raise TypeError(f"no canonical form for {type(value).__qualname__}: {value!r}")


def _key(key: Any) -> str:
    plain = canonical(key)
    return plain if isinstance(plain, str) else json.dumps(plain, sort_keys=True)


def aggregate_state(aggregate: Any) -> dict[str, Any]:
    state = {name: value for name, value in vars(aggregate).items() if name != "_pending_events"}
    return {"class": type(aggregate).__qualname__, "state": canonical(state)}


def aggregate_ids(events: Iterable[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(e["originator_id"] for e in events))


def aggregates(app: Application, ids: Iterable[str]) -> dict[str, Any]:
    return {aggregate_id: aggregate_state(app.repository.get(UUID(aggregate_id))) for aggregate_id in ids}


# ====================================================================== read models
def _cell(value: Any) -> Any:
    """One column value as both stores give it back the same: SQLite keeps text and integers;
    PostgreSQL's numeric, uuid, date, timestamptz and boolean are turned into that text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).isoformat()
    return canonical(value)


def read_tables(office: Any) -> list[str]:
    app = event_store(office)
    store_tables = {app.recorder.events_table_name}  # type: ignore[attr-defined]
    if app.snapshots is not None:
        store_tables.add(app.snapshots.recorder.events_table_name)  # type: ignore[attr-defined]
    with office.read() as cur:
        if office.settings.uses_postgres:
            cur.execute("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = %s"
                        " AND table_type = 'BASE TABLE'", (office.settings.database_schema,))
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        names = [row["name"] for row in cur.fetchall() if not row["name"].startswith("sqlite_")]
    return sorted(n for n in names if n not in store_tables and n not in NOT_READ_TABLES
                  and not n.startswith(f"{app.name.lower()}_"))


def read_models(office: Any) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in read_tables(office):
        with office.read() as cur:
            cur.execute(f"SELECT * FROM {table}")
            rows = [{k: _cell(v) for k, v in dict(row).items()} for row in cur.fetchall()]
        tables[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
    return tables


def read_model_positions(office: Any) -> dict[str, int]:
    with office.read() as cur:
        cur.execute("SELECT name, position FROM projection_positions")
        return {row["name"]: int(row["position"]) for row in cur.fetchall()}


# ====================================================================== the files
def _write_gzip(path: Path, text: str) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
        f.write(text.encode("utf-8"))
    path.write_bytes(buffer.getvalue())


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def write_events(path: Path, events: list[dict[str, Any]]) -> None:
    _write_gzip(path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))


def read_events(path: Path = EVENTS) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_json(path: Path, value: Any) -> None:
    _write_gzip(path, dumps(value))


def read_json(path: Path) -> Any:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)
