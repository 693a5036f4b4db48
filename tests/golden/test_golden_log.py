"""The golden event log: stored events are forever, and the same commands record the same bytes.

The fixture (``events.jsonl.gz`` and its companions, see ``capture.py``) was recorded on SQLite
by ``python -m tests.golden.record`` from the code as it was before a large refactoring: the
demo plus a mixed workload over HTTP (``workload.py``) that touches every kind of aggregate.
It must never be regenerated to make these tests pass (see ``record.py``).

(a) **Replay**, on both stores: the fixture's stored events are written raw into a fresh
    store (a restore: no domain code runs), every aggregate is loaded through the event
    store's repository and compared with ``aggregates.json.gz``, and every read model is
    rebuilt (``catch_up``) and compared with ``read_models.json.gz``. This is what a product
    upgraded over an existing store must do: read every event it ever recorded, the same.
(b) **Re-recording**, on both stores: the same workload is run again on the current code, with
    the same deterministic ids, clock and salts, and every stored event (topic, originator,
    version, state bytes) must equal the fixture's, in order; every HTTP answer must equal the
    recorded one. PostgreSQL uses up a notification id when an insert is refused (a retried
    command), so there notification ids and the ``position`` of answers are not compared; see
    ``_across_stores`` for the other differences between the stores' answers that predate the
    fixture (a UTC moment's suffix, the order of tied rows).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from interfaces.composition import BackOffice
from tests.conftest import STORES, make_settings
from tests.golden import capture
from tests.golden.workload import D2, golden_run, golden_settings

SHOWN = 5


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return {"events": capture.read_events(capture.EVENTS),
            "aggregates": capture.read_json(capture.AGGREGATES),
            "read_models": capture.read_json(capture.READ_MODELS),
            "answers": capture.read_json(capture.ANSWERS)}


# ====================================================================== how differences are shown
def _state(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _changed_fields(before: Any, after: Any) -> list[str]:
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return ["(whole value)"] if before != after else []
    return sorted(k for k in before.keys() | after.keys() if before.get(k, "<absent>") != after.get(k, "<absent>"))


def _event_line(e: dict[str, Any] | None, with_id: bool) -> str:
    if e is None:
        return "(no event)"
    number = f"#{e['id']} " if with_id and "id" in e else ""
    return f"{number}{e['topic']} of {e['originator_id']} v{e['originator_version']}"


def event_log_difference(now: list[dict[str, Any]], recorded: list[dict[str, Any]], compare_ids: bool) -> str | None:
    """None if both logs are the same, else a description of the first differing event."""
    keys = ("topic", "originator_id", "originator_version", "state") + (("id",) if compare_ids else ())
    for index in range(max(len(now), len(recorded))):
        a = recorded[index] if index < len(recorded) else None
        b = now[index] if index < len(now) else None
        if a is not None and b is not None and all(a[k] == b[k] for k in keys):
            continue
        lines = [f"the event log differs from the golden log first at event index {index} "
                 f"(golden log: {len(recorded)} events, now: {len(now)}):",
                 f"  golden: {_event_line(a, compare_ids)}", f"  now:    {_event_line(b, compare_ids)}"]
        if a is not None and b is not None:
            differing = [k for k in keys if a[k] != b[k]]
            lines.append(f"  differing: {', '.join(differing)}")
            if a["state"] != b["state"]:
                sa, sb = _state(a["state"]), _state(b["state"])
                fields = _changed_fields(sa, sb)
                lines.append(f"  state fields that differ: {', '.join(fields)}" if fields else
                             "  the same fields and values, stored in another order or spelling:\n"
                             f"  golden bytes: {a['state'][:1500]}\n  bytes now:    {b['state'][:1500]}")
                lines += ["  golden state:", _pretty(sa), "  state now:", _pretty(sb)]
                lines.append("  (only ids or timestamps differing means that a command now draws its ids, or saves, "
                             "in another order or number than before: see tests/golden/determinism.py)")
        elif a is not None:
            lines += ["  golden state:", _pretty(_state(a["state"]))]
        elif b is not None:
            lines += ["  state now:", _pretty(_state(b["state"]))]
        return "\n".join(lines)
    return None


def aggregate_difference(now: dict[str, Any], recorded: dict[str, Any]) -> str | None:
    missing = [k for k in recorded if k not in now]
    extra = [k for k in now if k not in recorded]
    differing = [k for k in recorded if k in now and now[k] != recorded[k]]
    if not (missing or extra or differing):
        return None
    lines = [f"{len(differing)} of {len(recorded)} aggregates differ after replay; "
             f"{len(missing)} missing, {len(extra)} unexpected"]
    for aggregate_id in differing[:SHOWN]:
        a, b = recorded[aggregate_id], now[aggregate_id]
        fields = _changed_fields(a["state"], b["state"]) if a["class"] == b["class"] else ["(class)"]
        lines.append(f"- {a['class']} {aggregate_id}: class now {b['class']}; fields that differ: {', '.join(fields)}")
        for name in fields[:SHOWN]:
            lines.append(f"    {name}: golden {json.dumps(a['state'].get(name), sort_keys=True)[:600]}")
            lines.append(f"    {name}: now    {json.dumps(b['state'].get(name), sort_keys=True)[:600]}")
    lines += [f"- missing: {k} ({recorded[k]['class']})" for k in missing[:SHOWN]]
    return "\n".join(lines)


Tables = dict[str, list[dict[str, Any]]]


def read_model_difference(now: Tables, recorded: Tables) -> str | None:
    lines = []
    for table in sorted(recorded.keys() | now.keys()):
        if table not in now:
            lines.append(f"- table {table}: missing now ({len(recorded[table])} rows in the golden read models)")
            continue
        if table not in recorded:
            lines.append(f"- table {table}: not in the golden read models ({len(now[table])} rows now)")
            continue
        golden_rows = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in recorded[table]]
        rows_now = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in now[table]]
        if golden_rows == rows_now:
            continue
        only_golden = [r for r in golden_rows if r not in set(rows_now)]
        only_now = [r for r in rows_now if r not in set(golden_rows)]
        lines.append(f"- table {table}: {len(golden_rows)} golden rows, {len(rows_now)} now; "
                     f"{len(only_golden)} only in the golden read model, {len(only_now)} only now")
        lines += [f"    golden: {r[:700]}" for r in only_golden[:SHOWN]]
        lines += [f"    now:    {r[:700]}" for r in only_now[:SHOWN]]
    return ("the read models differ from the golden ones:\n" + "\n".join(lines)) if lines else None


_UTC_MOMENT = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)(?:Z|\+00:00)$")


def _across_stores(value: Any) -> Any:
    """An answer as it may differ between the stores without a user-visible difference in
    meaning: ``position`` (PostgreSQL uses up a notification id on each refused insert) and a
    UTC moment read from a read model, which SQLite gives back as the text it stored
    ("...+00:00") and PostgreSQL as a timestamptz that the API writes "...Z"; and the order of
    rows whose sort key ties or is NULL. These differences between the stores predate the
    fixture; on SQLite, the store it was recorded on, answers are compared exactly."""
    if isinstance(value, dict):
        return {k: _across_stores(v) for k, v in value.items() if k != "position"}
    if isinstance(value, list):
        # Rows the stores order differently where the sort key ties or is NULL (PostgreSQL
        # sorts NULL last, SQLite first): compared as a multiset across stores (in order on SQLite).
        return sorted((_across_stores(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, str):
        moment = _UTC_MOMENT.match(value)
        return f"{moment.group(1)}Z" if moment else value
    return value


def answer_difference(now: list[dict[str, Any]], recorded: list[dict[str, Any]], same_store: bool) -> str | None:
    def plain(answer: dict[str, Any]) -> dict[str, Any]:
        return answer if same_store else _across_stores(answer)

    for index in range(max(len(now), len(recorded))):
        a = plain(recorded[index]) if index < len(recorded) else None
        b = plain(now[index]) if index < len(now) else None
        if a == b:
            continue
        where = a or b or {}
        at, was, became = _first_leaf_difference(a, b)
        return "\n".join([
            f"the HTTP answers differ from the golden ones first at request {index} "
            f"({where.get('method')} {where.get('path')} as {where.get('user')}; golden: {len(recorded)} requests, "
            f"now: {len(now)}):",
            f"  first difference at {at or '(the whole answer)'}: golden {json.dumps(was)[:600]}, "
            f"now {json.dumps(became)[:600]}",
            "  golden answer:", _pretty(a)[:4000], "  answer now:", _pretty(b)[:4000]])
    return None


def _first_leaf_difference(a: Any, b: Any, at: str = "") -> tuple[str, Any, Any]:
    """Where two JSON values first differ (a path such as ``body.items[3].status``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if a.get(key, "<absent>") != b.get(key, "<absent>"):
                return _first_leaf_difference(a.get(key, "<absent>"), b.get(key, "<absent>"),
                                              f"{at}.{key}" if at else str(key))
    if isinstance(a, list) and isinstance(b, list):
        for n in range(max(len(a), len(b))):
            x = a[n] if n < len(a) else "<absent>"
            y = b[n] if n < len(b) else "<absent>"
            if x != y:
                return _first_leaf_difference(x, y, f"{at}[{n}]")
    return at, a, b


# ====================================================================== (a) replaying the golden log
def test_the_golden_log_is_whole(golden):
    """The fixture itself: numbered 1..N without gaps, each aggregate's versions 1, 2, 3, ...,
    every aggregate dumped; its bytes are what the store holds (UTF-8 JSON)."""
    events = golden["events"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    versions: dict[str, int] = {}
    for e in events:
        assert e["originator_version"] == versions.get(e["originator_id"], 0) + 1, e
        versions[e["originator_id"]] = e["originator_version"]
        json.loads(e["state"])
    assert set(golden["aggregates"]) == set(versions)
    assert len({e["topic"] for e in events}) >= 100, "the workload no longer touches most kinds of event"


def test_replaying_the_golden_log_gives_the_same_aggregates_and_read_models(settings, golden):
    office = BackOffice(golden_settings(settings), today=lambda: D2)
    try:
        app = capture.event_store(office)
        assert capture.stored_events(app) == [], "a fresh store already holds events"
        events = golden["events"]
        assigned = capture.insert_raw(app, events)
        assert assigned == [e["id"] for e in events], "the restored events were numbered differently"
        # What the store gives back is what was written, byte for byte.
        problem = event_log_difference(capture.stored_events(app), events, compare_ids=True)
        assert problem is None, problem

        loaded = capture.aggregates(app, golden["aggregates"])
        problem = aggregate_difference(loaded, golden["aggregates"])
        assert problem is None, problem

        office.catch_up()
        positions = capture.read_model_positions(office)
        assert positions and set(positions.values()) == {len(events)}, positions
        problem = read_model_difference(capture.read_models(office), golden["read_models"])
        assert problem is None, problem
    finally:
        office.stop()


# ====================================================================== (b) the same commands again
@pytest.fixture(scope="module", params=STORES)
def rerun(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The golden workload run once per store on the current code, on a fresh store."""
    store = request.param
    settings = make_settings(store, tmp_path_factory.mktemp(f"golden-{store}"), request)
    with golden_run(settings) as run:
        return {"store": store, "events": capture.stored_events(capture.event_store(run.office)),
                "answers": run.answers}


def test_the_same_commands_record_byte_identical_events(rerun, golden):
    problem = event_log_difference(rerun["events"], golden["events"], compare_ids=rerun["store"] == "sqlite")
    assert problem is None, problem


def test_the_same_requests_get_the_same_answers(rerun, golden):
    problem = answer_difference(rerun["answers"], golden["answers"], same_store=rerun["store"] == "sqlite")
    assert problem is None, problem
