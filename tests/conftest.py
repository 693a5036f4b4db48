"""Fixtures shared by every tier.

The integration and end-to-end tiers run against both stores: each test that
takes ``settings`` or ``backoffice`` runs once on a fresh SQLite folder and once
in a fresh PostgreSQL schema of a database this test session creates and drops.

PostgreSQL: ``IRONLEDGER_TEST_POSTGRES_URL`` (default the local server, trust
auth). Unreachable: those tests are skipped, except under ``CI=true`` where
they fail. ``IRONLEDGER_TEST_STORES=sqlite`` (or ``postgres``) narrows the run.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit, urlunsplit
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from application.caller import SYSTEM, Caller
from domain import ids
from domain.access import Role
from domain.machines import MachineNature
from domain.organisation import MachineType, WarehouseKind
from interfaces.composition import BackOffice
from interfaces.settings import Settings
from application.stock.commands import ReceiveMachine
from application.access.commands import CreatePosition, CreateUser
from application.organisation.commands import CreateCompany, CreateWarehouse, RegisterMachineModel

PG_ADMIN_URL = os.environ.get("IRONLEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STORES = [s.strip() for s in os.environ.get("IRONLEDGER_TEST_STORES", "sqlite,postgres").split(",") if s.strip()]
IN_CI = os.environ.get("CI", "").lower() == "true"
TODAY = date(2026, 3, 2)
ADMIN_PASSWORD = "admin-pass-2026"
PASSWORD = "user-pass-2026"


def _with_dbname(url: str, dbname: str) -> str:
    """The same server URL, naming another database (kept a URL: settings want one)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def pytest_report_header(config: pytest.Config) -> str:
    return f"ironledger stores under test: {', '.join(STORES)}; PostgreSQL admin URL: {PG_ADMIN_URL}"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this test session's own, dropped at the end."""
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is unreachable at {PG_ADMIN_URL} and CI=true: {error}", pytrace=False)
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {error}")
    name = f"ironledger_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_dbname(PG_ADMIN_URL, name)
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def make_settings(store: str, tmp_path: Path, request: pytest.FixtureRequest, **overrides) -> Settings:
    base = dict(data_dir=tmp_path / "var", admin_password=ADMIN_PASSWORD, secret_key="test-secret-" + "x" * 32,
                projection_poll_seconds=0.2)
    if store == "sqlite":
        return Settings(**base, **overrides)
    url = request.getfixturevalue("postgres_database")
    schema = "t_" + uuid.uuid4().hex[:12]

    def drop_schema() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    request.addfinalizer(drop_schema)
    return Settings(**base, database_url=url, database_schema=schema, pool_size=5, **overrides)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return make_settings(store, tmp_path, request)


@pytest.fixture
def backoffice(settings: Settings) -> Iterator[BackOffice]:
    office = BackOffice(settings, today=lambda: TODAY)
    office.access.ensure_administrator(ADMIN_PASSWORD)
    try:
        yield office
    finally:
        office.stop()


@dataclass
class Group:
    """Two member companies (Hefei, Chuzhou), a main warehouse each and a parts
    warehouse in Hefei, one model, and users of different roles and scopes."""

    hefei: UUID
    chuzhou: UUID
    hefei_main: UUID
    hefei_parts: UUID
    hefei_yard: UUID
    chuzhou_main: UUID
    excavator: UUID
    keeper_hefei: Caller       # warehouse keeper, sees Hefei only
    keeper_group: Caller       # warehouse keeper, sees the whole group
    salesperson_hefei: Caller  # may not receive machines


def seed_group(office: BackOffice) -> Group:
    access = office.access
    hefei = UUID(office.execute(SYSTEM, CreateCompany(code="HF", name="Hefei")).body["company_id"])
    chuzhou = UUID(office.execute(SYSTEM, CreateCompany(code="CZ", name="Chuzhou")).body["company_id"])
    hefei_main = UUID(office.execute(SYSTEM, CreateWarehouse(
        company_id=hefei, code="MAIN", name="Hefei main", kind=WarehouseKind.MAIN))
                      .body["warehouse_id"])
    hefei_yard = UUID(office.execute(SYSTEM, CreateWarehouse(
        company_id=hefei, code="YARD", name="Hefei yard", kind=WarehouseKind.MAIN))
                      .body["warehouse_id"])
    hefei_parts = UUID(office.execute(SYSTEM, CreateWarehouse(
        company_id=hefei, code="PARTS", name="Hefei parts", kind=WarehouseKind.PARTS))
                       .body["warehouse_id"])
    chuzhou_main = UUID(office.execute(SYSTEM, CreateWarehouse(
        company_id=chuzhou, code="MAIN", name="Chuzhou main", kind=WarehouseKind.MAIN))
                        .body["warehouse_id"])
    excavator = UUID(office.execute(SYSTEM, RegisterMachineModel(
        code="SY215C", name="SY215C excavator", machine_type=MachineType.EXCAVATOR))
                     .body["model_id"])
    office.execute(SYSTEM, CreatePosition(name="Hefei", company_ids=[hefei], all_companies=False))
    office.execute(SYSTEM, CreateUser(
        username="keeper.hf", display_name="Keeper Hefei", password=PASSWORD, roles=[Role.WAREHOUSE_KEEPER],
        position_ids=[ids.position_id("Hefei")]))
    office.execute(SYSTEM, CreateUser(
        username="keeper.all", display_name="Keeper group", password=PASSWORD, roles=[Role.WAREHOUSE_KEEPER],
        position_ids=[ids.position_id("Whole group")]))
    office.execute(SYSTEM, CreateUser(
        username="sales.hf", display_name="Sales Hefei", password=PASSWORD, roles=[Role.SALESPERSON],
        position_ids=[ids.position_id("Hefei")]))

    def caller(username: str) -> Caller:
        return access.authenticate(access.login(username, PASSWORD).access_token)

    return Group(hefei, chuzhou, hefei_main, hefei_parts, hefei_yard, chuzhou_main, excavator,
                 caller("keeper.hf"), caller("keeper.all"), caller("sales.hf"))


@pytest.fixture
def group(backoffice: BackOffice) -> Group:
    return seed_group(backoffice)


def receive(office: BackOffice, group: Group, serial: str, warehouse: UUID | None = None,
            caller: Caller | None = None, key: str | None = None):
    return office.execute(caller or group.keeper_group, ReceiveMachine(
        serial_number=serial, model_id=group.excavator, warehouse_id=warehouse or group.hefei_main,
        nature=MachineNature.PURCHASED_SAMPLE), key)
