"""The one composition root: builds the whole back office from settings."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from application.access import AccessService
from application.audit import AuditService
from application.collection import CollectionService
from application.coupons import CouponService
from application.parts import PartsService
from application.approvals import ApprovalRuleService
from application.delivery import DeliveryService
from application.history import HistoryService
from application.ledger import CommandRunner, IronLedger
from application.organisation import OrganisationService
from application.receivables import ReceivableService
from application.sales import ContractService, CustomerService
from application.stock import StockService
from interfaces.persistence.bulk import BulkLoader
from interfaces.persistence.runner import ProjectionRunner, Wakeup
from interfaces.persistence.views import PostgresViewDatabase, SQLiteViewDatabase, ViewDatabase
from interfaces.settings import Settings
from projections import receivables as receivables_view
from projections.catalogue import ALL_PROJECTIONS

log = logging.getLogger("ironledger")

MAPPER_TOPIC = "interfaces.persistence.encoding:MsgspecMapper"
RECORDER_TOPIC = "interfaces.persistence.postgres:OneTripPostgresApplicationRecorder"


def event_store_environment(settings: Settings) -> dict[str, str]:
    if settings.uses_postgres:
        assert settings.database_url
        params = conninfo_to_dict(settings.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
            "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
            "POSTGRES_PORT": str(params.get("port", "5432")),
            "POSTGRES_USER": str(params.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(params.get("password", "")),
            "POSTGRES_SCHEMA": settings.database_schema,
            # Two connections kept open, up to pool_size under load: several API
            # processes and workers share one server's max_connections.
            "POSTGRES_POOL_SIZE": str(min(2, settings.pool_size)),
            "POSTGRES_MAX_OVERFLOW": str(max(0, settings.pool_size - 2)),
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "MAPPER_TOPIC": MAPPER_TOPIC,
            "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
        }
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.data_dir / "events.sqlite3"),
        "SQLITE_LOCK_TIMEOUT": "30",
        "MAPPER_TOPIC": MAPPER_TOPIC,
    }


def _token_secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "token.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    return path.read_text().strip()


class BackOffice:
    """Everything wired together: event store, services, read models and their runners."""

    def __init__(self, settings: Settings | None = None, today: Callable[[], date] | None = None) -> None:
        self.settings = settings = settings or Settings()
        today = today or settings.today
        if settings.uses_postgres:
            assert settings.database_url
            _ensure_schema(settings.database_url, settings.database_schema)
        self.ledger = IronLedger(env=event_store_environment(settings))
        self.wakeup = Wakeup()
        self.views: ViewDatabase = (
            PostgresViewDatabase(settings.database_url or "", settings.database_schema, settings.pool_size)
            if settings.uses_postgres else SQLiteViewDatabase(Path(settings.data_dir) / "views.sqlite3"))
        self.commands = CommandRunner(self.ledger, today, self._position_of, on_recorded=self.wakeup.ring)
        self.access = AccessService(self.commands, _token_secret(settings), settings.token_ttl_seconds)
        self.organisation = OrganisationService(self.commands)
        self.stock = StockService(self.commands)
        self.approval_rules = ApprovalRuleService(self.commands)
        self.customers = CustomerService(self.commands)
        self.coupons = CouponService(self.commands)
        self.contracts = ContractService(self.commands, self.approval_rules, self.coupons)
        self.deliveries = DeliveryService(self.commands)
        self.parts = PartsService(self.commands)
        self.history = HistoryService(self.commands)
        self.audit = AuditService(self.commands, self.history)
        self.receivables = ReceivableService(
            self.commands, BulkLoader(self.ledger.recorder, self.ledger.mapper, settings.uses_postgres).load)
        self.collection = CollectionService(self.commands, self.approval_rules, self.access)
        self.today = today
        self.projections: dict[str, ProjectionRunner] = {
            p.name: ProjectionRunner(p(), self.ledger.recorder, self.ledger.mapper, self.views,
                                     settings.projection_batch_size)
            for p in ALL_PROJECTIONS
        }
        for runner in self.projections.values():
            runner.prepare()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ read models
    def read(self) -> AbstractContextManager[Any]:
        return self.views.read()

    def wait_for(self, projection: str, position: int | None) -> bool:
        if not position:
            return True
        return self.projections[projection].wait_for(position, self.settings.read_wait_seconds)

    def catch_up(self) -> None:
        """Brings every read model up to date in this thread (tests, CLI)."""
        for runner in self.projections.values():
            runner.catch_up()

    def start_projections(self) -> None:
        for runner in self.projections.values():
            thread = threading.Thread(target=runner.run, name=f"projection-{runner.name}", daemon=True,
                                      args=(self._stop, self.wakeup, self.settings.projection_poll_seconds))
            thread.start()
            self._threads.append(thread)
        if self.settings.uses_postgres:
            listener = threading.Thread(target=self._listen, name="projection-listener", daemon=True)
            listener.start()
            self._threads.append(listener)

    def _listen(self) -> None:
        """Wakes the runners on PostgreSQL NOTIFY from any process. If the connection
        drops or a notification is lost, the runners' polling still catches up."""
        channel = getattr(self.ledger.recorder, "channel_name", "ironledger_events")
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.settings.database_url or "", autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wakeup.ring()
            except psycopg.Error:
                log.warning("lost the PostgreSQL notification connection; reconnecting")
                self._stop.wait(1.0)

    # ------------------------------------------------------------ the daily penalty run
    def accrue_penalties(self, caller: Any, through: date) -> dict[str, int]:
        """罚息计提 up to ``through`` for every receivable in the caller's scope that may owe
        penalty. The receivables read model is brought up to the log first, so the list
        of candidates misses nothing recorded before the run; each debt itself decides
        (idempotently) what to charge."""
        self.receivables.check_accrual(caller, through)
        # Safe beside the read model's own runner: runners lock its position and take turns.
        self.projections["receivables"].catch_up()
        with self.read() as cur:
            candidates = receivables_view.debts_to_accrue(cur, through, caller.scope)
        return self.receivables.accrue_penalties(caller, through, candidates)

    def run_penalty_schedule(self, caller: Any, check_every: float = 60.0) -> None:
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

    def start_penalty_schedule(self, caller: Any, check_every: float = 60.0) -> None:
        if not self.settings.run_penalty_accrual:
            return
        thread = threading.Thread(target=self.run_penalty_schedule, args=(caller, check_every),
                                  name="penalty-accrual", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self.wakeup.ring()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self.views.close()
        self.ledger.close()

    # ------------------------------------------------------------ positions
    def _position_of(self, aggregate_id: UUID) -> int | None:
        """The notification id of an aggregate's first event (used to answer a
        replayed command with the position of the original)."""
        recorder: Any = self.ledger.recorder
        table = recorder.events_table_name
        if self.settings.uses_postgres:
            with recorder.datastore.get_connection() as conn, conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT notification_id FROM {}.{} WHERE originator_id = %s"
                                    " AND originator_version = 1").format(
                    sql.Identifier(recorder.datastore.schema), sql.Identifier(table)), (aggregate_id,))
                row = cur.fetchone()
                return row["notification_id"] if row else None
        with recorder.datastore.transaction(commit=False) as cur:
            cur.execute(f"SELECT rowid FROM {table} WHERE originator_id = ? AND originator_version = 1",
                        (aggregate_id.hex,))
            row = cur.fetchone()
            return row[0] if row else None


def _ensure_schema(url: str, schema: str) -> None:
    if schema == "public":
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
