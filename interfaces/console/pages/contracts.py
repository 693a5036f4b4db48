"""Contracts: the list with its filters and export, and a contract's page with its terms,
schedule, what hangs on it (picks, outbounds, receivable) and its history. The acts of the
flow are in ``contract_acts``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.params import FromPath

from application import queries
from application.caller import Caller
from application.reading import row, rows
from domain.base import NotFoundError
from domain.contracts import ContractStatus
from interfaces.console import choosers
from interfaces.console.lists import ListQuery, csv_download
from interfaces.console.pages.contract_acts import acts_for
from interfaces.console.web import Console, ConsoleDep
from projections import contracts, coupons as coupon_rows, deliveries
from projections.coupons import CouponRow
from projections.contracts import ContractDetailRow, ContractRow
from projections.deliveries import ContractDeliveriesRow
from projections.receivables import debts
from projections.receivables.rows import ReceivableDetailRow

FILTERS = ("status", "company_id", "owner_id", "customer_id", "drafted_from", "drafted_to", "sort")


def contract_filter(q: ListQuery) -> contracts.ContractFilter:
    status = q.text("status")
    return contracts.ContractFilter(
        company_id=q.uuid("company_id"), status=status if status in set(ContractStatus) else None,
        owner_id=q.uuid("owner_id"), customer_id=q.uuid("customer_id"), drafted_from=q.day("drafted_from"),
        drafted_to=q.day("drafted_to"))


@get("/contracts", sync_to_thread=True)
def contract_list(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    q = ListQuery(request, FILTERS)
    read = console.reader(caller, queries.CONTRACTS, request)
    sort = q.text("sort") if (q.text("sort") or "").lstrip("-") in contracts.SORTS else None
    found, total = read(contracts.list_contracts, contract_filter(q), q.page, q.page_size, sort)
    backoffice = console.backoffice
    return console.page(request, "contracts.html", caller, q=q, items=rows(ContractRow, found), total=total,
                        statuses=[str(s) for s in ContractStatus],
                        companies=choosers.companies(backoffice, caller),
                        salespeople=choosers.salespeople(backoffice, caller),
                        customers=choosers.customers_of(backoffice, caller))


@get("/contracts/export.csv", sync_to_thread=True)
def contract_export(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    read = console.reader(caller, queries.CONTRACTS, request)
    q = ListQuery(request, FILTERS)
    return csv_download(contracts.EXPORT_COLUMNS, read(contracts.export_contracts, contract_filter(q)),
                        "contracts.csv")


def load_contract(console: Console, request: Request, caller: Caller, contract_id: UUID) -> ContractDetailRow:
    found = console.reader(caller, queries.CONTRACTS, request)(contracts.get_contract, contract_id)
    if found is None:
        raise NotFoundError(f"Contract {contract_id} does not exist.", code="contract-not-found")
    return row(ContractDetailRow, found)


def contract_page(console: Console, request: Request, caller: Caller, contract_id: UUID, *, status: int = 200,
                  refused: Any = None, preview: list[Any] | None = None) -> Response[str]:
    """A contract's page; ``refused`` is a form that came back with its messages (or with
    the schedule ``preview`` of the terms it holds)."""
    contract = load_contract(console, request, caller, contract_id)
    hangs = _what_hangs_on(console, request, caller, contract)
    history = console.backoffice.history.contract_history(caller, contract_id)
    acts = acts_for(console, request, caller, contract, history[-1]["version"], refused)
    return console.page(request, "contract.html", caller, status=status, contract=contract, history=history,
                        acts=acts, preview=preview, **hangs)


def _what_hangs_on(console: Console, request: Request, caller: Caller, contract: ContractDetailRow) -> dict[str, Any]:
    delivered = receivable = None
    if contract.status == ContractStatus.APPROVED or contract.approved_on is not None:
        if caller.may(queries.DELIVERIES.permission):  # type: ignore[arg-type]
            read = console.reader(caller, queries.DELIVERIES, request)
            found = read(deliveries.get_contract_deliveries, contract.contract_id)
            delivered = row(ContractDeliveriesRow, found) if found else None
        if caller.may(queries.RECEIVABLES.permission):  # type: ignore[arg-type]
            found = console.reader(caller, queries.RECEIVABLES, request)(debts.get_receivable, contract.contract_id,
                                                             console.backoffice.today())
            receivable = row(ReceivableDetailRow, found) if found else None
    coupons: list[CouponRow] = []
    if contract.approved_on is not None and caller.may(queries.COUPONS.permission):  # type: ignore[arg-type]
        found, _ = console.reader(caller, queries.COUPONS, request)(
            coupon_rows.list_coupons, coupon_rows.CouponFilter(contract_id=contract.contract_id), 1, 50)
        coupons = rows(CouponRow, found)
    return {"delivered": delivered, "receivable": receivable, "coupons": coupons}


@get("/contracts/{contract_id:uuid}", sync_to_thread=True)
def contract_detail(request: Request, console: ConsoleDep, contract_id: FromPath[UUID]) -> Response[str]:
    return contract_page(console, request, console.caller(request), contract_id)


ROUTES = [contract_list, contract_export, contract_detail]
