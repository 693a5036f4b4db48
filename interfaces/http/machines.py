"""Machine stock over HTTP: receive and transfer by serial number; lists, counts, export, history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response, Router, get
from litestar.params import FromQuery, QueryParameter

from application.history import MachineHistory, contracts_of_machine
from application.reading import page_of, paged, row, rows
from application.stock.commands import ReceiveMachine, TransferMachine
from domain import ids
from domain.access import Permission
from domain.base import InvalidValueError, NotFoundError
from domain.machines import MachineNature, MachineStatus
from interfaces.http.kit import (
    CallerDep,
    OfficeDep,
    Page,
    PageSize,
    ReaderDep,
    SerialPath,
    command_endpoint,
    csv_export,
    reads,
)
from projections import machine_stock
from projections.machine_stock import MachineRow, StockCountRow

SerialFilter = Annotated[str | None, QueryParameter(name="serial", required=False, max_length=40,
                                                    description="Serial number starts with")]
GroupBy = Annotated[str, QueryParameter(name="group_by", max_length=100, pattern=r"^[a-z,]*$",
                                        description="Comma-separated: company, warehouse, model, status, nature")]
STOCK = reads("machine_stock", Permission.VIEW_STOCK)


def _stock_filter(company_id: UUID | None, warehouse_id: UUID | None, model_id: UUID | None,
                  status: MachineStatus | None, nature: MachineNature | None,
                  serial: str | None) -> machine_stock.StockFilter:
    return machine_stock.StockFilter(company_id, warehouse_id, model_id, status and str(status),
                                     nature and str(nature), serial)


class StockCounts(msgspec.Struct, kw_only=True):
    group_by: list[str]
    rows: list[StockCountRow]
    total: int


@get("/", operation_id="ListMachineStock", sync_to_thread=True, opt=STOCK,
     summary="Machine stock I may see, filtered and paged")
def list_machine_stock(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                       warehouse_id: FromQuery[UUID | None] = None, model_id: FromQuery[UUID | None] = None,
                       status: FromQuery[MachineStatus | None] = None,
                       nature: FromQuery[MachineNature | None] = None, serial: SerialFilter = None,
                       page: Page = 1, page_size: PageSize = 50) -> page_of(MachineRow):  # type: ignore[valid-type]
    flt = _stock_filter(company_id, warehouse_id, model_id, status, nature, serial)
    return paged(MachineRow, read(machine_stock.list_stock, flt, page, page_size), page, page_size)


@get("/counts", operation_id="CountMachineStock", sync_to_thread=True, opt=STOCK,
     summary="How many machines, grouped by company, warehouse, model, status or nature")
def count_machine_stock(read: ReaderDep, group_by: GroupBy = "company,status",
                        company_id: FromQuery[UUID | None] = None, warehouse_id: FromQuery[UUID | None] = None,
                        model_id: FromQuery[UUID | None] = None, status: FromQuery[MachineStatus | None] = None,
                        nature: FromQuery[MachineNature | None] = None) -> StockCounts:
    groups = [g for g in group_by.split(",") if g]
    unknown = [g for g in groups if g not in machine_stock.GROUPINGS]
    if unknown or len(set(groups)) != len(groups):
        raise InvalidValueError(f"group_by takes {', '.join(machine_stock.GROUPINGS)}, each once; "
                                f"got {group_by!r}.", field="group_by")
    flt = _stock_filter(company_id, warehouse_id, model_id, status, nature, None)
    counted = rows(StockCountRow, read(machine_stock.count_stock, flt, groups))
    return StockCounts(group_by=groups, rows=counted, total=sum(r.machines for r in counted))


@get("/export", operation_id="ExportMachineStock", sync_to_thread=True, media_type="text/csv", opt=STOCK,
     summary="Machine stock I may see, as CSV")
def export_machine_stock(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                         warehouse_id: FromQuery[UUID | None] = None, model_id: FromQuery[UUID | None] = None,
                         status: FromQuery[MachineStatus | None] = None,
                         nature: FromQuery[MachineNature | None] = None,
                         serial: SerialFilter = None) -> Response[str]:
    flt = _stock_filter(company_id, warehouse_id, model_id, status, nature, serial)
    return csv_export(read, machine_stock.EXPORT_COLUMNS, "machine-stock.csv", machine_stock.export_stock, flt)


@get("/{serial_number:str}", operation_id="GetMachine", sync_to_thread=True, opt=STOCK,
     summary="One machine by serial number")
def get_machine(serial_number: SerialPath, read: ReaderDep) -> MachineRow:
    found = read(machine_stock.get_machine, ids.machine_unit_id(serial_number))
    if found is None:
        raise NotFoundError(f"Machine {ids.normalise_key(serial_number)} does not exist.",
                            code="machine-unit-not-found")
    return row(MachineRow, found)


@get("/{serial_number:str}/history", operation_id="GetMachineHistory", sync_to_thread=True,
     summary="Every event of a machine, in order, with who, when and why")
def get_machine_history(serial_number: SerialPath, caller: CallerDep, backoffice: OfficeDep) -> MachineHistory:
    events = backoffice.history.machine_history(caller, serial_number)
    return msgspec.convert({"serial_number": ids.normalise_key(serial_number),
                            "contracts": contracts_of_machine(events), "events": events},
                           MachineHistory, from_attributes=True)


MACHINE_ROUTERS: list[Any] = [
    Router("/machines", tags=["machines"], route_handlers=[
        command_endpoint("/receive", ReceiveMachine, "Receive a machine into a warehouse (入库) by serial number"),
        command_endpoint("/{serial_number:str}/transfer", TransferMachine,
                         "Transfer a machine in stock to another warehouse (调拨)",
                         path_types={"serial_number": SerialPath}),
        list_machine_stock, count_machine_stock, export_machine_stock, get_machine, get_machine_history]),
]
