"""Delivery of contracts (交机出库): the outbounds by status (``open`` is finance's review
queue, ``reviewed`` the warehouse's dispatch queue), and a contract's delivery page with its
outbounds, their machines and accessory lines, its swaps, and the acts each role may do now:

| act      | command         | who, when                                                           |
|----------|-----------------|---------------------------------------------------------------------|
| pick     | PickMachine     | pick_machines (salesperson, clerk), an approved contract with a machine still to pick |
| release  | ReleaseMachine  | pick_machines, a machine picked on an open outbound, with the reason |
| swap     | SwapMachine     | swap_machines (clerk), a dispatched machine, with the reason         |
| review   | ReviewOutbound  | review_outbounds (finance), an open outbound with something on it     |
| return   | ReturnOutbound  | review_outbounds, a reviewed outbound, with the reason               |
| dispatch | DispatchMachine | dispatch_machines (keeper, clerk), a reviewed outbound               |

A serial is chosen from the in-stock units of the contract's company whose model fits a
line (its own model, or one of the same type where the line allows a substitute), or typed.
The command runner decides all the same: a forced post of an act not offered is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath

from application import queries
from application.caller import Caller
from application.delivery.commands import (DispatchMachine, PickMachine, ReleaseMachine, ReturnOutbound,
                                           ReviewOutbound, SwapMachine)
from application.handling import Command
from application.reading import Reads, row, rows
from domain.access import Permission
from domain.base import NotFoundError, PermissionDeniedError
from domain.contracts import ContractStatus, OutboundStatus
from domain.machines import MachineStatus
from interfaces.console import choosers, forms
from interfaces.console.lists import ListQuery
from interfaces.console.pages.session import Form as Posted
from interfaces.console.web import Console, ConsoleDep
from projections import contracts, deliveries, machine_stock, organisation
from projections.base import visible_filter
from projections.contracts import ContractDetailRow
from projections.deliveries import ContractDeliveriesRow, DeliveryOutboundRow, MachineOnContract

FILTERS = ("status", "company_id")
CHOOSER_LIMIT = 500
CONTRACT_ACTS: dict[str, type[Command]] = {"pick": PickMachine, "release": ReleaseMachine, "swap": SwapMachine}
OUTBOUND_ACTS: dict[str, type[Command]] = {"review": ReviewOutbound, "return": ReturnOutbound,
                                           "dispatch": DispatchMachine}
TYPED = {"pick": "serial_number", "swap": "new_serial"}   # the select a typed serial stands in for


@dataclass
class DeliveryAct:
    slug: str
    form: forms.Form
    style: str = "primary"
    outbound_no: int | None = None     # an act on one outbound (review, return, dispatch)
    typed: str | None = None           # the field a typed serial may fill instead of its select


# ---------------------------------------------------------------- the outbounds by status
@get("/outbounds", sync_to_thread=True)
def outbound_list(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    q = ListQuery(request, FILTERS)
    read = console.reader(caller, queries.DELIVERIES, request)
    status = q.text("status") if q.text("status") in set(OutboundStatus) else None
    company_id = q.uuid("company_id")
    found, total = read(deliveries.list_outbounds, deliveries.OutboundFilter(company_id, status), q.page,
                        q.page_size)
    counts = {str(s): read(deliveries.list_outbounds, deliveries.OutboundFilter(company_id, str(s)), 1, 1)[1]
              for s in OutboundStatus}
    return console.page(request, "outbounds.html", caller, q=q, items=rows(DeliveryOutboundRow, found), total=total,
                        counts=counts, statuses=[str(s) for s in OutboundStatus],
                        companies=choosers.companies(console.backoffice, caller))


# ---------------------------------------------------------------- a contract's delivery
def _ask(console: Console, request: Request, caller: Caller, spec: Reads, fn: Any, *args: Any) -> Any:
    """The answer, or None when the person may not read it (a keeper reads no contracts)."""
    try:
        return console.reader(caller, spec, request)(fn, *args)
    except PermissionDeniedError:
        return None


def load_delivery(console: Console, request: Request, caller: Caller, contract_id: UUID) -> ContractDeliveriesRow:
    found = console.reader(caller, queries.DELIVERIES, request)(deliveries.get_contract_deliveries, contract_id)
    if found is None:
        raise NotFoundError(f"Contract {contract_id} does not exist.", code="contract-not-found")
    return row(ContractDeliveriesRow, found)


def _contract(console: Console, request: Request, caller: Caller, contract_id: UUID) -> ContractDetailRow | None:
    """The contract's terms and lines, for whom may read contracts."""
    found = _ask(console, request, caller, queries.CONTRACTS, contracts.get_contract, contract_id)
    return row(ContractDetailRow, found) if found else None


def parties(cur: Any, scope: Any, own_only: Any, contract_id: UUID) -> dict[str, Any] | None:
    """The contract's company and customer as the deliveries' read model joins them for its
    lists (a keeper, who reads no contracts, sees whom the outbound goes to)."""
    where, params = visible_filter(scope, "d.company_id", "d.owner_id", own_only)
    cur.execute("SELECT c.code AS company_code, cu.name AS customer_name FROM delivery_contracts d"
                " LEFT JOIN org_companies c ON c.company_id = d.company_id"
                " LEFT JOIN customers cu ON cu.customer_id = d.customer_id"
                f" WHERE d.contract_id = %s AND {where}", [contract_id, *params])
    return cur.fetchone()


def fitting_units(console: Console, request: Request, caller: Caller, contract: ContractDetailRow) -> forms.Choices:
    """The in-stock units of the contract's company that fit one of its lines."""
    models = {str(m["model_id"]): m for m in
              _ask(console, request, caller, queries.ORGANISATION_GROUP, organisation.list_machine_models) or []}
    wanted: set[str] = set()
    for line in contract.lines:
        own = models.get(str(line.model_id))
        wanted.add(str(line.model_id))
        if line.substitute_allowed and own is not None:
            wanted |= {k for k, m in models.items() if m["machine_type"] == own["machine_type"]}
    found: list[dict[str, Any]] = []
    for model_id in sorted(wanted, key=lambda k: models[k]["code"] if k in models else k):
        flt = machine_stock.StockFilter(company_id=contract.company_id, model_id=UUID(model_id),
                                        status=str(MachineStatus.IN_STOCK))
        answer = _ask(console, request, caller, queries.STOCK, machine_stock.list_stock, flt, 1, CHOOSER_LIMIT)
        found += answer[0] if answer else []
    return [(r["serial_number"], f"{r['serial_number']} · {r['model_code']} · {r['warehouse_code'] or ''}".strip(" ·"))
            for r in found if not r["locked"]]


def _return_warehouses(console: Console, request: Request, caller: Caller, company_id: UUID) -> forms.Choices:
    found = _ask(console, request, caller, queries.ORGANISATION, organisation.list_warehouses, company_id) or []
    return [(str(w["warehouse_id"]), f"{w['company_code']} {w['code']} {w['name']}") for w in found
            if w["kind"] == "main"]


def _machines(delivery: ContractDeliveriesRow, status: str, open_only: bool = False) -> forms.Choices:
    return [(m.serial_number, f"{m.serial_number} · {m.model_code}") for o in delivery.outbounds
            if not open_only or o.status == OutboundStatus.OPEN for m in o.machines if m.status == status]


def still_to_pick(contract: ContractDetailRow, delivery: ContractDeliveriesRow) -> dict[int, int]:
    """How many machines each line still waits for (picked and dispatched ones count)."""
    held = [m.line_no for o in delivery.outbounds for m in o.machines
            if m.status in (MachineOnContract.PICKED, MachineOnContract.DISPATCHED)]
    return {line.line_no: line.quantity - held.count(line.line_no) for line in contract.lines
            if line.quantity > held.count(line.line_no)}


def act_form(console: Console, request: Request, caller: Caller, delivery: ContractDeliveriesRow,
             contract: ContractDetailRow | None, slug: str, outbound_no: int | None = None) -> forms.Form:
    base = f"/console/contracts/{delivery.contract_id}/delivery"
    if slug in OUTBOUND_ACTS:
        return console.form(request, OUTBOUND_ACTS[slug], f"{base}/{outbound_no}/{slug}",
                            omit=("contract_id", "outbound_no"))
    action, omit = f"{base}/{slug}", ("contract_id",)
    units = fitting_units(console, request, caller, contract) if contract and slug in TYPED else []
    if slug == "pick":
        lines = [(str(line.line_no), f"{line.line_no} · {line.model_code} × {line.quantity}")
                 for line in (contract.lines if contract else [])]
        # With one line the unit goes on it: the line is asked only of a contract with several.
        return console.form(request, PickMachine, action, omit=omit if len(lines) > 1 else (*omit, "line_no"),
                            choices={"serial_number": units, "line_no": lines})
    if slug == "release":
        return console.form(request, ReleaseMachine, action, omit=omit, choices={
            "serial_number": _machines(delivery, MachineOnContract.PICKED, open_only=True)})
    return console.form(request, SwapMachine, action, omit=omit, choices={
        "old_serial": _machines(delivery, MachineOnContract.DISPATCHED), "new_serial": units,
        "return_warehouse_id": _return_warehouses(console, request, caller, delivery.company_id)})


def acts_for(console: Console, request: Request, caller: Caller, delivery: ContractDeliveriesRow,
             contract: ContractDetailRow | None, refused: forms.Form | None = None,
             refused_outbound: int | None = None) -> list[DeliveryAct]:
    """The acts this person may take on this contract's delivery now."""
    wanted: list[tuple[str, str, int | None]] = []
    approved = contract is not None and contract.status == ContractStatus.APPROVED
    if approved and caller.may(Permission.PICK_MACHINES):
        assert contract is not None
        if still_to_pick(contract, delivery):
            wanted.append(("pick", "primary", None))
        if _machines(delivery, MachineOnContract.PICKED, open_only=True):
            wanted.append(("release", "danger", None))
    if approved and caller.may(Permission.SWAP_MACHINES) and _machines(delivery, MachineOnContract.DISPATCHED):
        wanted.append(("swap", "secondary", None))
    for o in delivery.outbounds:
        on_it = any(m.status == MachineOnContract.PICKED for m in o.machines) or bool(o.accessory_lines)
        if o.status == OutboundStatus.OPEN and on_it and caller.may(Permission.REVIEW_OUTBOUNDS):
            wanted.append(("review", "primary", o.outbound_no))
        if o.status == OutboundStatus.REVIEWED:
            if caller.may(Permission.DISPATCH_MACHINES):
                wanted.append(("dispatch", "primary", o.outbound_no))
            if caller.may(Permission.REVIEW_OUTBOUNDS):
                wanted.append(("return", "danger", o.outbound_no))
    acts = []
    for slug, style, number in wanted:
        command = CONTRACT_ACTS.get(slug) or OUTBOUND_ACTS[slug]
        mine = refused is not None and refused.command is command and refused_outbound == number
        form = refused if mine and refused is not None else act_form(console, request, caller, delivery, contract,
                                                                     slug, number)
        acts.append(DeliveryAct(slug, form, style, number, TYPED.get(slug)))
    return acts


def delivery_page(console: Console, request: Request, caller: Caller, contract_id: UUID, *, status: int = 200,
                  refused: forms.Form | None = None, refused_outbound: int | None = None) -> Response[str]:
    delivery = load_delivery(console, request, caller, contract_id)
    contract = _contract(console, request, caller, contract_id)
    acts = acts_for(console, request, caller, delivery, contract, refused, refused_outbound)
    names = None if contract else console.reader(caller, queries.DELIVERIES, request)(parties, contract_id)
    return console.page(request, "outbound.html", caller, status=status, delivery=delivery, contract=contract,
                        parties=names or {},
                        acts=acts, to_pick=still_to_pick(contract, delivery) if contract else {},
                        sees_stock=caller.may(Permission.VIEW_STOCK))


@get("/contracts/{contract_id:uuid}/delivery", sync_to_thread=True)
def contract_delivery(request: Request, console: ConsoleDep, contract_id: FromPath[UUID]) -> Response[str]:
    return delivery_page(console, request, console.caller(request), contract_id)


def _run(console: Console, request: Request, contract_id: UUID, slug: str, outbound_no: int | None,
         data: dict[str, Any]) -> Response[Any]:
    caller = console.caller(request)
    delivery = load_delivery(console, request, caller, contract_id)
    contract = _contract(console, request, caller, contract_id)
    form = act_form(console, request, caller, delivery, contract, slug, outbound_no)
    posted = dict(data)
    typed = TYPED.get(slug)
    if typed and not posted.get(typed) and isinstance(posted.get(f"{typed}_typed"), str):
        posted[typed] = posted[f"{typed}_typed"]        # a serial typed instead of chosen
    given: dict[str, Any] = {"contract_id": contract_id}
    if outbound_no is not None:
        given["outbound_no"] = outbound_no
    try:
        result = console.submit(request, caller, form, posted, given)
    except NotFoundError as error:
        # A typed serial that is not a unit of theirs: said beside the serial, as any refusal.
        if not typed or error.code != "machine-unit-not-found":
            raise
        lang = console.language(request)
        forms.refused(lang, form, forms.FormRefused(typed, forms.error_message(lang, error)))
        form.status, result = 422, None
    if result is None:   # the delivery page again, the refused form in its place
        return delivery_page(console, request, caller, contract_id, status=form.status, refused=form,
                             refused_outbound=outbound_no)
    return console.done(form, result, f"/console/contracts/{contract_id}/delivery")


@post("/contracts/{contract_id:uuid}/delivery/{act:str}", sync_to_thread=True)
def contract_delivery_act(request: Request, console: ConsoleDep, contract_id: FromPath[UUID], act: FromPath[str],
                          data: Posted) -> Response[Any]:
    if act not in CONTRACT_ACTS:
        raise NotFoundError(f"A delivery has no act {act!r}.", code="not-found")
    return _run(console, request, contract_id, act, None, data)


@post("/contracts/{contract_id:uuid}/delivery/{outbound_no:int}/{act:str}", sync_to_thread=True)
def outbound_act(request: Request, console: ConsoleDep, contract_id: FromPath[UUID], outbound_no: FromPath[int],
                 act: FromPath[str], data: Posted) -> Response[Any]:
    if act not in OUTBOUND_ACTS or not 1 <= outbound_no <= 10_000:
        raise NotFoundError(f"An outbound has no act {act!r}.", code="not-found")
    return _run(console, request, contract_id, act, outbound_no, data)


ROUTES = [outbound_list, contract_delivery, contract_delivery_act, outbound_act]
