"""The back office's background work: the read models' runners, the PostgreSQL listener
that wakes them, and the daily penalty run. Started by ``ironledger serve``/``worker``;
the composition root only builds what they use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg import sql

from application.caller import Caller
from interfaces.persistence.read_side import ReadSide
from interfaces.persistence.runner import ProjectionRunner, Wakeup
from interfaces.settings import Settings
from projections import receivables as receivables_view

log = logging.getLogger("ironledger")


class PenaltyRun:
    """罚息计提: the accrual of penalty up to a day, for every receivable in the caller's scope
    that may owe it."""

    def __init__(self, receivables: Any, read_side: ReadSide, runner: ProjectionRunner) -> None:
        self.receivables = receivables
        self.read_side = read_side
        self.runner = runner

    def __call__(self, caller: Caller, through: date) -> dict[str, int]:
        """The receivables read model is brought up to the log first, so the list of candidates
        misses nothing recorded before the run; each debt itself decides (idempotently) what to
        charge."""
        self.receivables.check_accrual(caller, through)
        # Safe beside the read model's own runner: runners lock its position and take turns.
        self.runner.catch_up()
        with self.read_side.read() as cur:
            candidates = receivables_view.debts_to_accrue(cur, through, caller.scope)
        return self.receivables.accrue_penalties(caller, through, candidates)


class Workers:
    def __init__(self, settings: Settings, runners: Mapping[str, ProjectionRunner], wakeup: Wakeup,
                 channel: str, accrue_penalties: PenaltyRun, today: Callable[[], date]) -> None:
        self.settings = settings
        self.runners = runners
        self.wakeup = wakeup
        self.channel = channel
        self.accrue_penalties = accrue_penalties
        self.today = today
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start_projections(self) -> None:
        for runner in self.runners.values():
            self._start(runner.run, f"projection-{runner.name}",
                        (self._stop, self.wakeup, self.settings.projection_poll_seconds))
        if self.settings.uses_postgres:
            self._start(self._listen, "projection-listener")

    def _listen(self) -> None:
        """Wakes the runners on PostgreSQL NOTIFY from any process. If the connection
        drops or a notification is lost, the runners' polling still catches up."""
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.settings.database_url or "", autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wakeup.ring()
            except psycopg.Error:
                log.warning("lost the PostgreSQL notification connection; reconnecting")
                self._stop.wait(1.0)

    def run_penalty_schedule(self, caller: Caller, check_every: float = 60.0) -> None:
        """The worker's daily job: at start, then each new business day once the dealer's
        clock passes ``penalty_run_hour``, accrue penalties through yesterday. Missed days
        are caught up by the next run; a second process running it changes nothing."""
        last: date | None = None
        while not self._stop.is_set():
            today = self.today()
            if last != today and (last is None or self.settings.now().hour >= self.settings.penalty_run_hour):
                yesterday = today - timedelta(days=1)
                try:
                    result = self.accrue_penalties(caller, yesterday)
                    log.info("penalty accrual through %s: %s", yesterday, result)
                    last = today
                except Exception:
                    log.exception("penalty accrual failed; trying again in %.0f s", check_every)
            self._stop.wait(check_every)

    def start_penalty_schedule(self, caller: Caller, check_every: float = 60.0) -> None:
        if self.settings.run_penalty_accrual:
            self._start(self.run_penalty_schedule, "penalty-accrual", (caller, check_every))

    def _start(self, target: Callable[..., None], name: str, args: tuple[Any, ...] = ()) -> None:
        thread = threading.Thread(target=target, name=name, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self.wakeup.ring()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
