"""Machine stock (整机库存): the list with its filters, counts by status and export, a
machine's page with its facts, the contracts it passed through and its history, and the
warehouse's acts on a unit:

| act      | command         | who, when                                              |
|----------|-----------------|--------------------------------------------------------|
| receive  | ReceiveMachine  | the keeper or the clerk (receive_machine), into a main warehouse they see |
| transfer | TransferMachine | the keeper (transfer_machine), a unit in stock, with the reason |

The delivery of contracts (交机出库) is in ``outbounds``; its routes are served with these.
The command runner decides all the same: a forced post of an act not offered is refused.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from application import queries
from application.caller import Caller
from application.history import contracts_of_machine
from application.reading import row, rows
from application.stock.commands import ReceiveMachine, TransferMachine
from domain import ids
from domain.access import Permission
from domain.base import NotFoundError
from domain.machines import MachineNature, MachineStatus
from interfaces.console import choosers, forms
from interfaces.console.lists import ListQuery, csv_download
from interfaces.console.pages import outbounds
from interfaces.console.pages.session import Form as Posted
from interfaces.console.web import Console, ConsoleDep
from projections import machine_stock
from projections.machine_stock import MachineRow, StockCountRow

FILTERS = ("company_id", "warehouse_id", "model_id", "status", "nature", "serial")
SERIAL = re.compile(r"^[A-Za-z0-9_.\- ]{1,40}$")     # as the commands' and the API's serial number


def stock_filter(q: ListQuery, for_counts: bool = False) -> machine_stock.StockFilter:
    """The list's filters, each checked: an unknown status or a bad id is no filter. The
    counts by status take the others as the API's count query does (no serial), and no status."""
    status, nature, serial = q.text("status"), q.text("nature"), q.text("serial")
    return machine_stock.StockFilter(
        company_id=q.uuid("company_id"), warehouse_id=q.uuid("warehouse_id"), model_id=q.uuid("model_id"),
        status=status if status in set(MachineStatus) and not for_counts else None,
        nature=nature if nature in set(MachineNature) else None,
        serial_prefix=serial[:40] if serial and not for_counts else None)


@get("/machines", sync_to_thread=True)
def machine_list(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    q = ListQuery(request, FILTERS)
    read = console.reader(caller, queries.STOCK, request)
    found, total = read(machine_stock.list_stock, stock_filter(q), q.page, q.page_size)
    counted = rows(StockCountRow, read(machine_stock.count_stock, stock_filter(q, for_counts=True), ["status"]))
    counts = {str(c.status): c.machines for c in counted}
    backoffice = console.backoffice
    return console.page(request, "machines.html", caller, q=q, items=rows(MachineRow, found), total=total,
                        counts=counts, statuses=[str(s) for s in MachineStatus],
                        natures=[str(n) for n in MachineNature],
                        companies=choosers.companies(backoffice, caller),
                        warehouses=choosers.warehouses(backoffice, caller, machines_only=True),
                        models=choosers.machine_models(backoffice, caller))


@get("/machines/export.csv", sync_to_thread=True)
def machine_export(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    read = console.reader(caller, queries.STOCK, request)
    q = ListQuery(request, FILTERS)
    return csv_download(machine_stock.EXPORT_COLUMNS, read(machine_stock.export_stock, stock_filter(q)),
                        "machine-stock.csv")


# ---------------------------------------------------------------- receiving
def _receive_form(console: Console, request: Request, caller: Caller) -> forms.Form:
    backoffice = console.backoffice
    return console.form(request, ReceiveMachine, "/console/machines/receive",
                        choices={"model_id": choosers.machine_models(backoffice, caller),
                                 "warehouse_id": choosers.warehouses(backoffice, caller, machines_only=True)},
                        values={"nature": MachineNature.PURCHASED_SAMPLE})


@get("/machines/receive", sync_to_thread=True)
def receive_page(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    caller.require(Permission.RECEIVE_MACHINE)
    return console.page(request, "machine_receive.html", caller, form=_receive_form(console, request, caller))


@post("/machines/receive", sync_to_thread=True)
def receive_machine(request: Request, console: ConsoleDep, data: Posted) -> Response[Any]:
    caller = console.caller(request)
    form = _receive_form(console, request, caller)
    result = console.submit(request, caller, form, data, {})
    if result is None:
        return console.page(request, "machine_receive.html", caller, status=form.status, form=form)
    return console.done(form, result, f"/console/machines/{result.answer.serial_number}")  # type: ignore[attr-defined]


# ---------------------------------------------------------------- a machine's page
def _serial(serial_number: str) -> str:
    if not SERIAL.match(serial_number):
        raise NotFoundError(f"Machine {serial_number[:40]!r} does not exist.", code="machine-unit-not-found")
    return ids.normalise_key(serial_number)


def load_machine(console: Console, request: Request, caller: Caller, serial_number: str) -> MachineRow:
    serial = _serial(serial_number)
    found = console.reader(caller, queries.STOCK, request)(machine_stock.get_machine, ids.machine_unit_id(serial))
    if found is None:
        raise NotFoundError(f"Machine {serial} does not exist.", code="machine-unit-not-found")
    return row(MachineRow, found)


def _transfer_form(console: Console, request: Request, caller: Caller, machine: MachineRow) -> forms.Form:
    places = [(v, label) for v, label in choosers.warehouses(console.backoffice, caller, machines_only=True)
              if v != str(machine.warehouse_id)]
    return console.form(request, TransferMachine, f"/console/machines/{machine.serial_number}/transfer",
                        omit=("serial_number",), choices={"to_warehouse_id": places})


def machine_page(console: Console, request: Request, caller: Caller, serial_number: str, *, status: int = 200,
                 refused: forms.Form | None = None) -> Response[str]:
    """A machine's page; ``refused``: the transfer form that came back with its messages."""
    machine = load_machine(console, request, caller, serial_number)
    history: list[dict[str, Any]] = []
    if caller.may(Permission.VIEW_HISTORY):     # as the API's GetMachineHistory
        history = console.backoffice.history.machine_history(caller, machine.serial_number)
    transfer = None
    if machine.status == MachineStatus.IN_STOCK and caller.may(Permission.TRANSFER_MACHINE):
        transfer = refused or _transfer_form(console, request, caller, machine)
        if not transfer.find("to_warehouse_id").options:   # type: ignore[union-attr]
            transfer = None                                 # no other main warehouse in their companies
    return console.page(request, "machine.html", caller, status=status, machine=machine, history=history,
                        passages=contracts_of_machine(history), transfer=transfer,
                        sees_contracts=caller.may(Permission.VIEW_CONTRACTS),
                        sees_deliveries=caller.may(Permission.VIEW_DELIVERIES))


@get("/machines/{serial_number:str}", sync_to_thread=True)
def machine_detail(request: Request, console: ConsoleDep, serial_number: FromPath[str]) -> Response[str]:
    return machine_page(console, request, console.caller(request), serial_number)


@post("/machines/{serial_number:str}/transfer", sync_to_thread=True)
def transfer_machine(request: Request, console: ConsoleDep, serial_number: FromPath[str],
                     data: Posted) -> Response[Any]:
    caller = console.caller(request)
    machine = load_machine(console, request, caller, serial_number)
    form = _transfer_form(console, request, caller, machine)
    result = console.submit(request, caller, form, data, {"serial_number": machine.serial_number})
    if result is None:
        return machine_page(console, request, caller, machine.serial_number, status=form.status, refused=form)
    return console.done(form, result, f"/console/machines/{machine.serial_number}")


# The delivery pages are served with the stock's (one registered module holds both).
ROUTES = [machine_list, machine_export, receive_page, receive_machine, machine_detail, transfer_machine,
          *outbounds.ROUTES]
