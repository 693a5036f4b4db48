"""Deliveries of contracts (交机出库): outbounds with their machines and accessory lines,
what waits for finance review or dispatch, and every sales swap (销售换机).

A machine row is kept for every pick, also after it is released or swapped out,
so a contract's deliveries show each unit it ever had and what became of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.access import Scope
from domain.contracts import Contract, OutboundStatus
from projections.base import Projection, handles, page_bounds, visible_filter
from projections.rows import Row


class MachineOnContract:
    """What became of a unit picked for a contract."""

    PICKED = "picked"            # reserved, waiting for dispatch
    DISPATCHED = "dispatched"    # out under the contract
    RELEASED = "released"        # pick undone, the unit back in stock
    SWAPPED_OUT = "swapped_out"  # replaced by another unit after dispatch


class DeliveriesProjection(Projection):
    name = "deliveries"
    version = 1
    tables = ("delivery_contracts", "delivery_outbounds", "delivery_machines", "delivery_lines", "machine_swaps")
    ddl = (
        "CREATE TABLE IF NOT EXISTS delivery_contracts (contract_id {uuid} PRIMARY KEY, number TEXT NOT NULL,"
        " company_id {uuid} NOT NULL, owner_id {uuid} NOT NULL, customer_id {uuid} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS delivery_outbounds (contract_id {uuid} NOT NULL, outbound_no INTEGER NOT NULL,"
        " company_id {uuid} NOT NULL, status TEXT NOT NULL, opened_on {date} NOT NULL, reviewed_on {date},"
        " reviewed_by {uuid}, dispatched_on {date}, dispatched_by {uuid}, last_reason TEXT,"
        " last_change_on {date} NOT NULL, PRIMARY KEY (contract_id, outbound_no))",
        "CREATE INDEX IF NOT EXISTS delivery_outbounds_status ON delivery_outbounds (company_id, status, opened_on)",
        "CREATE TABLE IF NOT EXISTS delivery_machines (contract_id {uuid} NOT NULL, picked_version INTEGER NOT NULL,"
        " serial_number TEXT NOT NULL, machine_id {uuid} NOT NULL, outbound_no INTEGER NOT NULL,"
        " line_no INTEGER NOT NULL, model_code TEXT NOT NULL, status TEXT NOT NULL, picked_on {date} NOT NULL,"
        " picked_by {uuid} NOT NULL, dispatched_on {date}, ended_on {date}, end_reason TEXT,"
        " PRIMARY KEY (contract_id, picked_version))",
        "CREATE INDEX IF NOT EXISTS delivery_machines_serial ON delivery_machines (serial_number)",
        "CREATE TABLE IF NOT EXISTS delivery_lines (contract_id {uuid} NOT NULL, line_no INTEGER NOT NULL,"
        " outbound_no INTEGER NOT NULL, name TEXT NOT NULL, quantity INTEGER NOT NULL, unit_price {money} NOT NULL,"
        " agreed_accessory_no INTEGER, PRIMARY KEY (contract_id, line_no))",
        "CREATE TABLE IF NOT EXISTS machine_swaps (contract_id {uuid} NOT NULL, swap_no INTEGER NOT NULL,"
        " company_id {uuid} NOT NULL, line_no INTEGER NOT NULL, old_serial TEXT NOT NULL, new_serial TEXT NOT NULL,"
        " swapped_on {date} NOT NULL, swapped_by {uuid} NOT NULL, reason TEXT NOT NULL, recorded_at {ts} NOT NULL,"
        " PRIMARY KEY (contract_id, swap_no))",
        "CREATE INDEX IF NOT EXISTS machine_swaps_date ON machine_swaps (company_id, swapped_on)",
    )

    @handles(Contract.Drafted)
    def drafted(self, cur: Any, e: Contract.Drafted) -> None:
        cur.execute("INSERT INTO delivery_contracts (contract_id, number, company_id, owner_id, customer_id)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (e.originator_id, e.number, e.company_id, e.owner_id, e.customer_id))

    @handles(Contract.DraftRevised)
    def revised(self, cur: Any, e: Contract.DraftRevised) -> None:
        cur.execute("UPDATE delivery_contracts SET customer_id = %s WHERE contract_id = %s",
                    (e.customer_id, e.originator_id))

    def _open(self, cur: Any, e: Any) -> None:
        """The first pick or line of an outbound opens it."""
        cur.execute("SELECT 1 FROM delivery_outbounds WHERE contract_id = %s AND outbound_no = %s",
                    (e.originator_id, e.outbound_no))
        if cur.fetchone() is None:
            cur.execute("INSERT INTO delivery_outbounds (contract_id, outbound_no, company_id, status, opened_on,"
                        " last_change_on) VALUES (%s, %s, %s, %s, %s, %s)",
                        (e.originator_id, e.outbound_no, e.company_id, str(OutboundStatus.OPEN), e.business_date,
                         e.business_date))

    @handles(Contract.MachinePicked)
    def picked(self, cur: Any, e: Contract.MachinePicked) -> None:
        self._open(cur, e)
        cur.execute("INSERT INTO delivery_machines (contract_id, picked_version, serial_number, machine_id,"
                    " outbound_no, line_no, model_code, status, picked_on, picked_by)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.originator_version, e.serial_number, e.machine_id, e.outbound_no,
                     e.line_no, e.model_code, MachineOnContract.PICKED, e.business_date, e.actor_id))

    @handles(Contract.MachineReleased)
    def released(self, cur: Any, e: Contract.MachineReleased) -> None:
        cur.execute("UPDATE delivery_machines SET status = %s, ended_on = %s, end_reason = %s"
                    " WHERE contract_id = %s AND serial_number = %s AND status = %s",
                    (MachineOnContract.RELEASED, e.business_date, e.reason, e.originator_id, e.serial_number,
                     MachineOnContract.PICKED))

    @handles(Contract.AccessoryOutboundLineAdded)
    def line_added(self, cur: Any, e: Contract.AccessoryOutboundLineAdded) -> None:
        self._open(cur, e)
        line = e.line
        cur.execute("INSERT INTO delivery_lines (contract_id, line_no, outbound_no, name, quantity, unit_price,"
                    " agreed_accessory_no) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, line.line_no, e.outbound_no, line.name, line.quantity, line.unit_price,
                     line.agreed_accessory_no))

    @handles(Contract.AccessoryOutboundLineRemoved)
    def line_removed(self, cur: Any, e: Contract.AccessoryOutboundLineRemoved) -> None:
        cur.execute("DELETE FROM delivery_lines WHERE contract_id = %s AND line_no = %s",
                    (e.originator_id, e.line_no))

    @handles(Contract.OutboundReviewed)
    def reviewed(self, cur: Any, e: Contract.OutboundReviewed) -> None:
        self._outbound(cur, e, OutboundStatus.REVIEWED, ", reviewed_on = %s, reviewed_by = %s",
                       [e.business_date, e.actor_id])

    @handles(Contract.OutboundReturned)
    def returned(self, cur: Any, e: Contract.OutboundReturned) -> None:
        self._outbound(cur, e, OutboundStatus.OPEN, ", reviewed_on = NULL, reviewed_by = NULL", [])

    @handles(Contract.OutboundCancelled)
    def cancelled(self, cur: Any, e: Contract.OutboundCancelled) -> None:
        self._outbound(cur, e, OutboundStatus.CANCELLED, "", [])

    @handles(Contract.OutboundDispatched)
    def dispatched(self, cur: Any, e: Contract.OutboundDispatched) -> None:
        self._outbound(cur, e, OutboundStatus.DISPATCHED, ", dispatched_on = %s, dispatched_by = %s",
                       [e.business_date, e.actor_id])
        cur.execute("UPDATE delivery_machines SET status = %s, dispatched_on = %s"
                    " WHERE contract_id = %s AND outbound_no = %s AND status = %s",
                    (MachineOnContract.DISPATCHED, e.business_date, e.originator_id, e.outbound_no,
                     MachineOnContract.PICKED))

    @handles(Contract.MachineSwapped)
    def swapped(self, cur: Any, e: Contract.MachineSwapped) -> None:
        cur.execute("UPDATE delivery_machines SET status = %s, ended_on = %s, end_reason = %s"
                    " WHERE contract_id = %s AND serial_number = %s AND status = %s",
                    (MachineOnContract.SWAPPED_OUT, e.business_date, e.reason, e.originator_id, e.old_serial,
                     MachineOnContract.DISPATCHED))
        cur.execute("INSERT INTO delivery_machines (contract_id, picked_version, serial_number, machine_id,"
                    " outbound_no, line_no, model_code, status, picked_on, picked_by, dispatched_on)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.originator_version, e.new_serial, e.new_machine_id, e.outbound_no,
                     e.line_no, e.new_model_code, MachineOnContract.DISPATCHED, e.business_date, e.actor_id,
                     e.business_date))
        cur.execute("INSERT INTO machine_swaps (contract_id, swap_no, company_id, line_no, old_serial, new_serial,"
                    " swapped_on, swapped_by, reason, recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.swap_no, e.company_id, e.line_no, e.old_serial, e.new_serial,
                     e.business_date, e.actor_id, e.reason, e.timestamp))

    @staticmethod
    def _outbound(cur: Any, e: Any, status: OutboundStatus, extra: str, params: list[Any]) -> None:
        reason = ", last_reason = %s" if e.reason is not None else ""
        cur.execute(f"UPDATE delivery_outbounds SET status = %s, last_change_on = %s{extra}{reason}"
                    " WHERE contract_id = %s AND outbound_no = %s",
                    [str(status), e.business_date, *params, *([e.reason] if reason else []), e.originator_id,
                     e.outbound_no])


# ---------------------------------------------------------------- queries
def get_contract_deliveries(cur: Any, scope: Scope, own_only: UUID | None,
                            contract_id: UUID) -> dict[str, Any] | None:
    """A contract's outbounds, each with its machines and accessory lines, and its swaps."""
    where, params = visible_filter(scope, "d.company_id", "d.owner_id", own_only)
    cur.execute(f"SELECT d.contract_id, d.number, d.company_id FROM delivery_contracts d"
                f" WHERE d.contract_id = %s AND {where}", [contract_id, *params])
    contract = cur.fetchone()
    if contract is None:
        return None
    cur.execute("SELECT o.outbound_no, o.status, o.opened_on, o.reviewed_on, r.username AS reviewed_by,"
                " o.dispatched_on, s.username AS dispatched_by, o.last_reason FROM delivery_outbounds o"
                " LEFT JOIN access_users r ON r.user_id = o.reviewed_by"
                " LEFT JOIN access_users s ON s.user_id = o.dispatched_by"
                " WHERE o.contract_id = %s ORDER BY o.outbound_no", (contract_id,))
    outbounds = cur.fetchall()
    cur.execute("SELECT m.outbound_no, m.serial_number, m.machine_id, m.line_no, m.model_code, m.status,"
                " m.picked_on, u.username AS picked_by, m.dispatched_on, m.ended_on, m.end_reason"
                " FROM delivery_machines m LEFT JOIN access_users u ON u.user_id = m.picked_by"
                " WHERE m.contract_id = %s ORDER BY m.picked_version", (contract_id,))
    machines = cur.fetchall()
    cur.execute("SELECT outbound_no, line_no, name, quantity, unit_price, agreed_accessory_no FROM delivery_lines"
                " WHERE contract_id = %s ORDER BY line_no", (contract_id,))
    lines = cur.fetchall()
    for outbound in outbounds:
        n = outbound["outbound_no"]
        outbound["machines"] = [{k: v for k, v in m.items() if k != "outbound_no"} for m in machines
                                if m["outbound_no"] == n]
        outbound["accessory_lines"] = [{k: v for k, v in line.items() if k != "outbound_no"} for line in lines
                                       if line["outbound_no"] == n]
    contract["outbounds"] = outbounds
    contract["swaps"] = _swaps(cur, "w.contract_id = %s", [contract_id])
    return contract


def _swaps(cur: Any, where: str, params: list[Any], limit: int | None = None,
           offset: int = 0) -> list[dict[str, Any]]:
    page = " LIMIT %s OFFSET %s" if limit is not None else ""
    cur.execute("SELECT w.contract_id, d.number AS contract_number, w.swap_no, w.line_no, w.old_serial,"
                " w.new_serial, w.swapped_on, u.username AS swapped_by, w.reason, w.recorded_at"
                " FROM machine_swaps w JOIN delivery_contracts d ON d.contract_id = w.contract_id"
                " LEFT JOIN access_users u ON u.user_id = w.swapped_by"
                f" WHERE {where} ORDER BY w.swapped_on, d.number, w.swap_no{page}",
                [*params, *([limit, offset] if page else [])])
    swaps = cur.fetchall()
    for swap in swaps:
        swap["recorded_at"] = _moment_text(swap["recorded_at"])
    return swaps


def _moment_text(value: Any) -> Any:
    """A recorded moment as the answer has always given it: SQLite keeps the text it stored
    ("...+00:00"), PostgreSQL a timestamptz, written as JSON writes it ("...Z")."""
    if isinstance(value, datetime):
        return msgspec.json.encode(value).decode().strip('"')
    return value


@dataclass(frozen=True)
class OutboundFilter:
    company_id: UUID | None = None
    status: str | None = None

    def where(self, scope: Scope, own_only: UUID | None) -> tuple[str, list[Any]]:
        where, params = visible_filter(scope, "o.company_id", "d.owner_id", own_only)
        for column, value in (("o.company_id", self.company_id), ("o.status", self.status)):
            if value is not None:
                where += f" AND {column} = %s"
                params.append(value)
        return where, params


_OUTBOUND_FROM = ("delivery_outbounds o JOIN delivery_contracts d ON d.contract_id = o.contract_id"
                  " LEFT JOIN org_companies c ON c.company_id = o.company_id"
                  " LEFT JOIN customers cu ON cu.customer_id = d.customer_id")


def list_outbounds(cur: Any, scope: Scope, own_only: UUID | None, flt: OutboundFilter, page: int,
                   page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Outbounds by status: finance's queue (open), the warehouse's (reviewed), oldest first."""
    where, params = flt.where(scope, own_only)
    cur.execute(f"SELECT COUNT(*) AS n FROM {_OUTBOUND_FROM} WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute("SELECT o.contract_id, d.number AS contract_number, o.outbound_no, o.status, o.company_id,"
                " c.code AS company_code, cu.name AS customer_name, o.opened_on, o.reviewed_on, o.dispatched_on,"
                " (SELECT COUNT(*) FROM delivery_machines m WHERE m.contract_id = o.contract_id"
                "  AND m.outbound_no = o.outbound_no AND m.status IN ('picked', 'dispatched')) AS machines,"
                " (SELECT COUNT(*) FROM delivery_lines l WHERE l.contract_id = o.contract_id"
                "  AND l.outbound_no = o.outbound_no) AS accessory_lines"
                f" FROM {_OUTBOUND_FROM} WHERE {where} ORDER BY o.last_change_on, d.number, o.outbound_no"
                " LIMIT %s OFFSET %s", [*params, limit, offset])
    return cur.fetchall(), total


def list_swaps(cur: Any, scope: Scope, own_only: UUID | None, swapped_from: date | None, swapped_to: date | None,
               page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Every sales swap in a period: which contract, which units, who, when, why."""
    where, params = visible_filter(scope, "w.company_id", "d.owner_id", own_only)
    if swapped_from is not None:
        where += " AND w.swapped_on >= %s"
        params.append(swapped_from)
    if swapped_to is not None:
        where += " AND w.swapped_on <= %s"
        params.append(swapped_to)
    cur.execute("SELECT COUNT(*) AS n FROM machine_swaps w JOIN delivery_contracts d"
                f" ON d.contract_id = w.contract_id WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    return _swaps(cur, where, params, limit, offset), total


# ---------------------------------------------------------------- typed rows
class OutboundMachineRow(Row):
    """A unit picked for an outbound of the contract and what became of it."""

    serial_number: str
    machine_id: UUID
    line_no: int
    model_code: str
    status: Annotated[str, Meta(description="picked, dispatched, released or swapped_out")]
    picked_on: date
    picked_by: str | None
    dispatched_on: date | None
    ended_on: date | None
    end_reason: str | None


class OutboundAccessoryLineRow(Row):
    line_no: int
    name: str
    quantity: int
    unit_price: Decimal
    agreed_accessory_no: int | None


class ContractOutboundRow(Row):
    """An outbound of a contract, with its machines and accessory lines."""

    outbound_no: int
    status: OutboundStatus
    opened_on: date
    reviewed_on: date | None
    reviewed_by: str | None
    dispatched_on: date | None
    dispatched_by: str | None
    last_reason: str | None
    machines: list[OutboundMachineRow]
    accessory_lines: list[OutboundAccessoryLineRow]


class MachineSwapRow(Row):
    contract_id: UUID
    contract_number: str
    swap_no: int
    line_no: int
    old_serial: str
    new_serial: str
    swapped_on: date
    swapped_by: str | None
    reason: str
    recorded_at: Annotated[str, Meta(description="When the swap was recorded (an ISO 8601 moment).")]


class ContractDeliveriesRow(Row):
    """A contract's outbounds with their machines and accessory lines, and its swaps."""

    contract_id: UUID
    number: str
    company_id: UUID
    outbounds: list[ContractOutboundRow]
    swaps: list[MachineSwapRow]


class DeliveryOutboundRow(Row):
    """An outbound in the queues of finance (open) and the warehouse (reviewed)."""

    contract_id: UUID
    contract_number: str
    outbound_no: int
    status: OutboundStatus
    company_id: UUID
    company_code: str | None
    customer_name: str | None
    opened_on: date
    reviewed_on: date | None
    dispatched_on: date | None
    machines: int
    accessory_lines: int
