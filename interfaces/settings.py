"""Settings, from environment variables prefixed ``IRONLEDGER_``."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IRONLEDGER_", extra="ignore")

    # Unset: an SQLite file under data_dir. A postgresql:// URL switches to PostgreSQL.
    database_url: str | None = None
    # PostgreSQL schema for events and read models (tests use one schema each).
    database_schema: str = "public"
    data_dir: Path = Path("var")
    # First administrator's password; when unset one is generated and printed once.
    admin_password: str | None = None
    # Signing key for bearer tokens. Unset: generated once into data_dir/token.key
    # (several API processes on one machine share it; across machines, set it).
    secret_key: str | None = None
    token_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    # How long a query given ?after=<position> waits for its read model.
    read_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    # Fallback polling when no wake-up arrives (lost NOTIFY, another process on SQLite).
    projection_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    projection_batch_size: int = Field(default=1000, ge=1, le=100_000)
    # Most connections each pool (event store, read models) opens on PostgreSQL.
    pool_size: int = Field(default=10, ge=1, le=200)
    # The business date of a command is today's date at this offset from UTC (China: +8, no DST).
    utc_offset_hours: int = Field(default=8, ge=-12, le=14)
    # The worker (and `serve` with read models) accrues penalty interest (罚息) through
    # yesterday at this hour, dealer's time; off in a process that should leave it to another.
    run_penalty_accrual: bool = True
    penalty_run_hour: int = Field(default=1, ge=0, le=23)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        # Anything else would silently fall back to SQLite: refuse it instead.
        if value and not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("IRONLEDGER_DATABASE_URL must be a PostgreSQL URL such as "
                             "postgresql://user@127.0.0.1:5432/dbname (leave it unset for SQLite)")
        return value or None

    def now(self) -> datetime:
        return datetime.now(timezone(timedelta(hours=self.utc_offset_hours)))

    def today(self) -> date:
        return self.now().date()

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url) and self.database_url.startswith(("postgres://", "postgresql://"))
