"""Which companies, warehouses and machine models exist (for lists and for names in other views)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.access import Scope
from domain.organisation import Company, MachineModel, MachineType, Warehouse, WarehouseKind
from projections.base import Projection, handles, scope_filter
from projections.rows import Row


class OrganisationProjection(Projection):
    name = "organisation"
    version = 2   # 2: the technician (user) of a mobile warehouse
    tables = ("org_companies", "org_warehouses", "org_machine_models")
    ddl = (
        "CREATE TABLE IF NOT EXISTS org_companies (company_id {uuid} PRIMARY KEY, code TEXT NOT NULL,"
        " name TEXT NOT NULL, created_on {date} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS org_warehouses (warehouse_id {uuid} PRIMARY KEY, company_id {uuid} NOT NULL,"
        " code TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, technician_name TEXT,"
        " technician_id {uuid}, created_on {date} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS org_machine_models (model_id {uuid} PRIMARY KEY, code TEXT NOT NULL,"
        " name TEXT NOT NULL, machine_type TEXT NOT NULL, registered_on {date} NOT NULL)",
    )

    @handles(Company.Created)
    def company_created(self, cur: Any, e: Company.Created) -> None:
        cur.execute("INSERT INTO org_companies (company_id, code, name, created_on) VALUES (%s, %s, %s, %s)",
                    (e.originator_id, e.code, e.name, e.business_date))

    @handles(Warehouse.Created)
    def warehouse_created(self, cur: Any, e: Warehouse.Created) -> None:
        cur.execute("INSERT INTO org_warehouses (warehouse_id, company_id, code, name, kind, technician_name,"
                    " technician_id, created_on) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.company_id, e.code, e.name, str(e.kind), e.technician_name,
                     e.technician_id, e.business_date))

    @handles(MachineModel.Registered)
    def model_registered(self, cur: Any, e: MachineModel.Registered) -> None:
        cur.execute("INSERT INTO org_machine_models (model_id, code, name, machine_type, registered_on)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (e.originator_id, e.code, e.name, str(e.machine_type), e.business_date))


class CompanyRow(Row):
    company_id: UUID
    code: str
    name: str


class WarehouseRow(Row):
    warehouse_id: UUID
    company_id: UUID
    company_code: str | None
    code: str
    name: str
    kind: WarehouseKind
    technician_name: str | None
    technician_id: UUID | None


class MachineModelRow(Row):
    model_id: UUID
    code: str
    name: str
    machine_type: MachineType


def list_companies(cur: Any, scope: Scope) -> list[dict[str, Any]]:
    where, params = scope_filter(scope, "company_id")
    cur.execute(f"SELECT company_id, code, name FROM org_companies WHERE {where} ORDER BY code", params)
    return cur.fetchall()


def list_warehouses(cur: Any, scope: Scope, company_id: Any = None) -> list[dict[str, Any]]:
    where, params = scope_filter(scope, "w.company_id")
    if company_id is not None:
        where += " AND w.company_id = %s"
        params.append(company_id)
    cur.execute("SELECT w.warehouse_id, w.company_id, c.code AS company_code, w.code, w.name, w.kind,"
                " w.technician_name, w.technician_id FROM org_warehouses w LEFT JOIN org_companies c ON c.company_id = w.company_id"
                f" WHERE {where} ORDER BY c.code, w.code", params)
    return cur.fetchall()


def list_machine_models(cur: Any) -> list[dict[str, Any]]:
    cur.execute("SELECT model_id, code, name, machine_type FROM org_machine_models ORDER BY code")
    return cur.fetchall()
