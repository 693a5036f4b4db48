"""The one composition root: builds the whole back office from settings."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
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
from application.caller import Caller
from application.handling import Command
from application.ledger import CommandResult, CommandRunner, IronLedger
from application.organisation import OrganisationService
from application.receivables import ReceivableService
from application.sales import ContractService, CustomerService
from application.stock import StockService
from interfaces.persistence.bulk import BulkLoader
from interfaces.persistence.read_side import ReadSide
from interfaces.persistence.runner import ProjectionRunner, Wakeup
from interfaces.persistence.views import PostgresViewDatabase, SQLiteViewDatabase, ViewDatabase
from interfaces.settings import Settings
from interfaces.workers import PenaltyRun, Workers
from projections.catalogue import ALL_PROJECTIONS


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
        secret = _token_secret(settings)
        self.commands = CommandRunner(self.ledger, today, self._position_of, on_recorded=self.wakeup.ring,
                                      secret_key=secret)
        self.access = AccessService(self.commands, secret, settings.token_ttl_seconds)
        self.organisation = OrganisationService()
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
        self.read_side = ReadSide(self.views, self.projections, self.ledger.recorder.max_notification_id,
                                  settings.read_wait_seconds)
        self.commands.register(self.access, self.organisation, self.stock, self.approval_rules, self.customers,
                               self.coupons, self.contracts, self.deliveries, self.parts, self.receivables,
                               self.collection)
        self.accrue_penalties = PenaltyRun(self.receivables, self.read_side, self.projections["receivables"])
        self.workers = Workers(settings, self.projections, self.wakeup,
                               getattr(self.ledger.recorder, "channel_name", "ironledger_events"),
                               self.accrue_penalties, today)

    # ------------------------------------------------------------ commands and read models
    def execute(self, caller: Caller, command: Command, idempotency_key: str | None = None) -> CommandResult:
        """Gives a command as ``caller`` (the one door of the CLI, the demo and the workers)."""
        return self.commands.execute(caller, command, idempotency_key)

    def read(self) -> AbstractContextManager[Any]:
        return self.read_side.read()

    def wait_for(self, projection: str, position: int | None) -> bool:
        return self.read_side.wait_for(projection, position)

    def catch_up(self) -> None:
        """Brings every read model up to date in this thread (tests, CLI)."""
        for runner in self.projections.values():
            runner.catch_up()

    def stop(self) -> None:
        self.workers.stop()
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
