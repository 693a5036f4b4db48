"""Regenerates the golden fixture: ``python -m tests.golden.record`` (from the repository root).

**Do not run this to make a failing golden test pass.** Stored events are forever: the
fixture is the proof that the events the product has recorded are still read the same, and
that the same commands still record the same bytes. A golden test that fails after a change
means the change altered what the store holds or what users see; fix the change (or, for
an event whose class moved, register its old topic), not the fixture.

Regenerate only when the workload itself is extended on purpose (a new event type or command
added to the product, and a step for it added to ``workload.py``), on SQLite, from a clean
checkout of the code whose events are to become the reference, and say so in the commit.
The recording runs twice, in two fresh stores, and refuses to write anything unless both runs
stored byte-identical events.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

from interfaces.settings import Settings
from tests.golden import capture
from tests.golden.workload import golden_run


def record_once(folder: Path) -> dict[str, object]:
    with golden_run(Settings(data_dir=folder / "var")) as run:
        app = capture.event_store(run.office)
        events = capture.stored_events(app)
        run.office.catch_up()
        return {"events": events,
                "aggregates": capture.aggregates(app, capture.aggregate_ids(events)),
                "read_models": capture.read_models(run.office),
                "answers": run.answers}


def main() -> int:
    logging.disable(logging.INFO)
    import domain
    source = Path(domain.__file__).resolve().parents[1]
    if source != capture.HERE.parents[1]:
        print(f"the code imported is {source}, not the checkout this script is in ({capture.HERE.parents[1]}): "
              "run it from the checkout's root (PYTHONPATH=. python -m tests.golden.record)", file=sys.stderr)
        return 1
    print(f"recording from {source}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="golden-a-") as a, tempfile.TemporaryDirectory(prefix="golden-b-") as b:
        first, second = record_once(Path(a)), record_once(Path(b))
    for part in first:
        if first[part] != second[part]:
            print(f"two runs of the workload differ in {part}: something is still not deterministic",
                  file=sys.stderr)
            return 1
    capture.write_events(capture.EVENTS, first["events"])  # type: ignore[arg-type]
    capture.write_json(capture.AGGREGATES, first["aggregates"])
    capture.write_json(capture.READ_MODELS, first["read_models"])
    capture.write_json(capture.ANSWERS, first["answers"])
    rows = sum(len(r) for r in first["read_models"].values())  # type: ignore[union-attr]
    print(f"{len(first['events'])} events, {len(first['aggregates'])} aggregates, "  # type: ignore[arg-type]
          f"{len(first['read_models'])} read tables with {rows} rows, "  # type: ignore[arg-type]
          f"{len(first['answers'])} answers in {time.monotonic() - started:.1f} s")
    for path in (capture.EVENTS, capture.AGGREGATES, capture.READ_MODELS, capture.ANSWERS):
        print(f"  {path.name}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
