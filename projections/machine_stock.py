"""Machine stock: which unit is where, in which state; counts by company, warehouse, model, status."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain import ids
from domain.access import Scope
from domain.machines import MachineNature, MachineStatus, MachineUnit
from projections.base import Projection, handles, page_bounds, scope_filter
from projections.rows import Row


class MachineStockProjection(Projection):
    name = "machine_stock"
    version = 3   # 2: the contract a unit is reserved for or out under; 3: locked remotely
    tables = ("machine_stock",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS machine_stock (machine_id {uuid} PRIMARY KEY, serial_number TEXT NOT NULL,"
        " model_id {uuid} NOT NULL, model_code TEXT NOT NULL, company_id {uuid} NOT NULL,"
        " warehouse_id {uuid} NOT NULL, nature TEXT NOT NULL, status TEXT NOT NULL,"
        " received_on {date} NOT NULL, last_change_on {date} NOT NULL, contract_id {uuid}, contract_number TEXT,"
        " locked {bool} NOT NULL DEFAULT FALSE, version INTEGER NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS machine_stock_serial ON machine_stock (serial_number)",
        "CREATE INDEX IF NOT EXISTS machine_stock_place ON machine_stock (company_id, warehouse_id, status)",
    )

    @handles(MachineUnit.Received)
    def received(self, cur: Any, e: MachineUnit.Received) -> None:
        cur.execute("INSERT INTO machine_stock (machine_id, serial_number, model_id, model_code, company_id,"
                    " warehouse_id, nature, status, received_on, last_change_on, version)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.serial_number, e.model_id, e.model_code, e.company_id, e.warehouse_id,
                     str(e.nature), str(MachineStatus.IN_STOCK), e.business_date, e.business_date,
                     e.originator_version))

    @handles(MachineUnit.Transferred)
    def transferred(self, cur: Any, e: MachineUnit.Transferred) -> None:
        cur.execute("UPDATE machine_stock SET company_id = %s, warehouse_id = %s, last_change_on = %s,"
                    " version = %s WHERE machine_id = %s",
                    (e.company_id, e.to_warehouse_id, e.business_date, e.originator_version, e.originator_id))

    @handles(MachineUnit.Reserved, MachineUnit.SwappedIn)
    def taken(self, cur: Any, e: Any) -> None:
        status = MachineStatus.RESERVED if isinstance(e, MachineUnit.Reserved) else MachineStatus.OUT
        self._status(cur, e, status, e.contract_id, e.contract_number)

    @handles(MachineUnit.Dispatched)
    def dispatched(self, cur: Any, e: MachineUnit.Dispatched) -> None:
        self._status(cur, e, MachineStatus.OUT, e.contract_id, e.contract_number)

    @handles(MachineUnit.ReservationReleased)
    def released(self, cur: Any, e: MachineUnit.ReservationReleased) -> None:
        self._status(cur, e, MachineStatus.IN_STOCK, None, None)

    @handles(MachineUnit.SwappedOut)
    def swapped_out(self, cur: Any, e: MachineUnit.SwappedOut) -> None:
        cur.execute("UPDATE machine_stock SET warehouse_id = %s WHERE machine_id = %s",
                    (e.warehouse_id, e.originator_id))
        self._status(cur, e, MachineStatus.IN_STOCK, None, None)

    @handles(MachineUnit.Locked, MachineUnit.Unlocked)
    def lock_changed(self, cur: Any, e: Any) -> None:
        cur.execute("UPDATE machine_stock SET locked = %s, last_change_on = %s, version = %s WHERE machine_id = %s",
                    (isinstance(e, MachineUnit.Locked), e.business_date, e.originator_version, e.originator_id))

    @handles(MachineUnit.Towed)
    def towed(self, cur: Any, e: MachineUnit.Towed) -> None:
        self._status(cur, e, MachineStatus.REPOSSESSED, e.contract_id, e.contract_number)

    @handles(MachineUnit.RepossessionReceived)
    def repossession_received(self, cur: Any, e: MachineUnit.RepossessionReceived) -> None:
        cur.execute("UPDATE machine_stock SET warehouse_id = %s, nature = %s, locked = %s WHERE machine_id = %s",
                    (e.warehouse_id, str(MachineNature.REPOSSESSED), False, e.originator_id))
        self._status(cur, e, MachineStatus.IN_STOCK, None, None)

    @staticmethod
    def _status(cur: Any, e: Any, status: MachineStatus, contract_id: UUID | None,
                contract_number: str | None) -> None:
        cur.execute("UPDATE machine_stock SET status = %s, contract_id = %s, contract_number = %s,"
                    " last_change_on = %s, version = %s WHERE machine_id = %s",
                    (str(status), contract_id, contract_number, e.business_date, e.originator_version,
                     e.originator_id))


@dataclass(frozen=True)
class StockFilter:
    company_id: UUID | None = None
    warehouse_id: UUID | None = None
    model_id: UUID | None = None
    status: str | None = None
    nature: str | None = None
    serial_prefix: str | None = None
    contract_id: UUID | None = None

    def where(self, scope: Scope) -> tuple[str, list[Any]]:
        where, params = scope_filter(scope, "s.company_id")
        for column, value in (("s.company_id", self.company_id), ("s.warehouse_id", self.warehouse_id),
                              ("s.model_id", self.model_id), ("s.status", self.status),
                              ("s.nature", self.nature), ("s.contract_id", self.contract_id)):
            if value is not None:
                where += f" AND {column} = %s"
                params.append(value)
        if self.serial_prefix:
            # Serials are stored normalised (upper case, no spaces); the prefix is
            # normalised the same way and its LIKE wildcards taken literally.
            prefix = ids.normalise_key(self.serial_prefix)
            where += " AND s.serial_number LIKE %s ESCAPE '!'"
            params.append(prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%")
        return where, params


_COLUMNS = ("s.machine_id, s.serial_number, s.model_id, s.model_code, s.company_id, c.code AS company_code,"
            " s.warehouse_id, w.code AS warehouse_code, w.name AS warehouse_name, s.nature, s.status,"
            " s.received_on, s.last_change_on, s.contract_id, s.contract_number, s.locked")
_FROM = ("machine_stock s LEFT JOIN org_companies c ON c.company_id = s.company_id"
         " LEFT JOIN org_warehouses w ON w.warehouse_id = s.warehouse_id")

EXPORT_COLUMNS = ("serial_number", "model_code", "company_code", "warehouse_code", "warehouse_name", "nature",
                  "status", "locked", "contract_number", "received_on", "last_change_on", "machine_id")


def _shaped(row: dict[str, Any]) -> dict[str, Any]:
    row["locked"] = bool(row["locked"])   # SQLite keeps booleans as 0 / 1
    return row


def list_stock(cur: Any, scope: Scope, flt: StockFilter, page: int, page_size: int) -> tuple[list[dict], int]:
    where, params = flt.where(scope)
    cur.execute(f"SELECT COUNT(*) AS n FROM machine_stock s WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY s.serial_number LIMIT %s OFFSET %s",
                [*params, limit, offset])
    return [_shaped(r) for r in cur.fetchall()], total


GROUPINGS = {"company": "s.company_id", "warehouse": "s.warehouse_id", "model": "s.model_code",
             "status": "s.status", "nature": "s.nature"}
# Grouped by company or warehouse, each row also names it, so a clerk can read the counts.
_LABELS = {"company": ("c.code", "company_code"), "warehouse": ("w.code", "warehouse_code")}


def count_stock(cur: Any, scope: Scope, flt: StockFilter, group_by: list[str]) -> list[dict[str, Any]]:
    where, params = flt.where(scope)
    keys = [GROUPINGS[g] for g in group_by]
    columns = [f"{GROUPINGS[g]} AS {g}" for g in group_by]
    for g in group_by:
        if g in _LABELS:
            column, alias = _LABELS[g]
            keys.append(column)
            columns.append(f"{column} AS {alias}")
    select = ", ".join([*columns, "COUNT(*) AS machines"])
    group = f" GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}" if group_by else ""
    cur.execute(f"SELECT {select} FROM {_FROM} WHERE {where}{group}", params)
    return cur.fetchall()


def export_stock(cur: Any, scope: Scope, flt: StockFilter, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every row in scope, in pages (keyset on serial number) so memory stays flat."""
    where, params = flt.where(scope)
    last = ""
    while True:
        cur.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} AND s.serial_number > %s"
                    " ORDER BY s.serial_number LIMIT %s", [*params, last, batch])
        rows = [_shaped(r) for r in cur.fetchall()]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]["serial_number"]


def get_machine(cur: Any, scope: Scope, machine_id: UUID) -> dict[str, Any] | None:
    where, params = scope_filter(scope, "s.company_id")
    cur.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE s.machine_id = %s AND {where}", [machine_id, *params])
    row = cur.fetchone()
    return _shaped(row) if row is not None else None


# ---------------------------------------------------------------- typed rows
class MachineRow(Row):
    machine_id: UUID
    serial_number: str
    model_id: UUID
    model_code: str
    company_id: UUID
    company_code: str | None
    warehouse_id: UUID
    warehouse_code: str | None
    warehouse_name: str | None
    nature: MachineNature
    status: MachineStatus
    received_on: date
    last_change_on: date
    contract_id: UUID | None
    contract_number: str | None
    locked: bool


class StockCountRow(Row, omit_defaults=True, kw_only=True):
    """One group of a count: the values it is grouped by (only those asked for) and how many."""

    company: UUID | None = None
    company_code: str | None = None
    warehouse: UUID | None = None
    warehouse_code: str | None = None
    model: str | None = None
    status: MachineStatus | None = None
    nature: MachineNature | None = None
    machines: int
