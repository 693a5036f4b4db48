"""Keeps each read model up to date with the notification log.

The subscription is ours, the same on both stores (the library has none for
SQLite, and its PostgreSQL one waits on LISTEN/NOTIFY with no timeout):

- read the log after the read model's position, in batches;
- apply a batch and advance the position in one transaction of the view database
  (every notification is read: the log is never filtered by topic text, since an
  event of a moved class is stored under its old topic — the projection decides by
  the class the topic resolves to, ``Projection.handler``);
- when caught up, sleep until woken: by a save in this process, by a PostgreSQL
  NOTIFY from another process, or at the latest after ``poll_seconds`` — so a
  lost notification delays a read model by one poll interval, never for ever.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper

from interfaces.persistence.views import TYPES, PositionConflictError, ViewDatabase
from projections.base import Projection

log = logging.getLogger("ironledger.projections")


class Wakeup:
    """A broadcast: every waiting runner wakes when something was recorded."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def ring(self, *_: Any) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def generation(self) -> int:
        with self._cond:
            return self._generation

    def wait(self, seen: int, timeout: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout=timeout)


class ProjectionRunner:
    def __init__(self, projection: Projection, recorder: ApplicationRecorder, mapper: Mapper,
                 views: ViewDatabase, batch_size: int = 1000) -> None:
        self.projection = projection
        self.recorder = recorder
        self.mapper = mapper
        self.views = views
        self.batch_size = batch_size
        self.advanced = Wakeup()
        self.last_error: str | None = None

    @property
    def name(self) -> str:
        return self.projection.name

    # ------------------------------------------------------------ tables
    def prepare(self) -> None:
        """Creates the tables; a read model of another version is dropped and rebuilt."""
        with self.views.transaction() as cur:
            self.views.lock_schema(cur)
            current = self.views.position(self.name, cur)
            if current is not None and current[0] != self.projection.version:
                if not getattr(self.projection, "rebuildable", True):
                    raise RuntimeError(f"{self.name} is version {current[0]} here and {self.projection.version} in "
                                       "the code, and it is never rebuilt from the store (it seals the log as it "
                                       "was recorded): keep its version, or migrate it by hand.")
                log.warning("read model %s is version %s, code is %s: rebuilding from the log",
                            self.name, current[0], self.projection.version)
                self._drop(cur)
                current = None
            self._create(cur)
            if current is None:
                cur.execute("INSERT INTO projection_positions (name, version, position) VALUES (%s, %s, 0)",
                            (self.name, self.projection.version))

    def reset(self) -> None:
        """Drops the read model and starts it again from the beginning of the log."""
        with self.views.transaction() as cur:
            self.views.lock_schema(cur)
            self._drop(cur)
            self._create(cur)
            cur.execute("INSERT INTO projection_positions (name, version, position) VALUES (%s, %s, 0)",
                        (self.name, self.projection.version))

    def _drop(self, cur: Any) -> None:
        for table in self.projection.tables:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute("DELETE FROM projection_positions WHERE name = %s", (self.name,))

    def _create(self, cur: Any) -> None:
        for statement in self.projection.ddl:
            cur.execute(statement.format(**TYPES[self.views.dialect]))

    # ------------------------------------------------------------ applying
    def position(self) -> int:
        current = self.views.position(self.name)
        return current[1] if current else 0

    def catch_up_once(self, crash_before_commit: Callable[[], None] | None = None, stop: int | None = None) -> int:
        """Applies the next batch of the log (up to notification ``stop`` at most); returns how
        many notifications it read."""
        with self.views.batch_transaction() as cur:
            start = self.views.lock_position(cur, self.name)
            notifications = self.recorder.select_notifications(start=start, limit=self.batch_size, stop=stop,
                                                               inclusive_of_start=False)
            if not notifications:
                return 0
            if getattr(self.projection, "raw", False):
                self.projection.begin_batch()  # type: ignore[attr-defined]
                for notification in notifications:
                    self.projection.apply_raw(cur, notification)  # type: ignore[attr-defined]
            else:
                # By the class each stored topic resolves to (an old topic of a moved class too),
                # never by its text; one dict lookup per event once a topic has been met.
                handler = self.projection.handler
                to_domain_event = self.mapper.to_domain_event
                for notification in notifications:
                    apply = handler(notification.topic)
                    if apply is not None:
                        apply(cur, to_domain_event(notification))
            if crash_before_commit is not None:
                crash_before_commit()
            self.views.advance(cur, self.name, start, notifications[-1].id)
        self.advanced.ring()
        return len(notifications)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        applied = 0
        while True:
            n = self.catch_up_once()
            if n == 0:
                return applied
            applied += n
            if progress:
                progress(n)

    def run(self, stop: threading.Event, wakeup: Wakeup, poll_seconds: float) -> None:
        backoff = 0.1
        while not stop.is_set():
            seen = wakeup.generation()
            try:
                n = self.catch_up_once()
                self.last_error = None
                backoff = 0.1
            except PositionConflictError:
                continue  # another runner applied this batch; read on from its position
            except Exception as error:  # the database may be restarting; keep trying
                self.last_error = repr(error)
                log.exception("read model %s failed; retrying in %.1fs", self.name, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if n == 0:
                wakeup.wait(seen, poll_seconds)

    # ------------------------------------------------------------ read-your-writes
    def wait_for(self, position: int, timeout: float) -> bool:
        """True once this read model has applied the log up to ``position``.
        Works across processes: it reads the stored position, and is woken early
        when a runner of this process advances."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.advanced.generation()
            if self.position() >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.advanced.wait(seen, min(remaining, 0.02))
