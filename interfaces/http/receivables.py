"""Receivables over HTTP (应收): schedules, receipts and their confirmation, penalty rates
and accrual, lists, aging, statements. A receivable is addressed by its contract's id."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from application.history import HistoryEvent
from application.reading import ScopeRule, page_of, paged, row, rows
from application.receivables.commands import (
    AccruePenalties,
    ConfirmReceipt,
    GenerateSchedule,
    PenaltiesAccrued,
    RecordReceipt,
    RejectReceipt,
    ReverseReceipt,
    SetPenaltyRate,
    SetSchedule,
)
from domain.access import Permission
from domain.base import InvalidValueError, NotFoundError
from domain.receivables import DebtStatus, ReceiptStatus
from interfaces.http.kit import (
    CallerDep,
    OfficeDep,
    Page,
    PageSize,
    ReaderDep,
    command_endpoint,
    csv_export,
    query_day,
    reads,
)
from projections import receivables
from projections.receivables.rows import (
    AgingReport,
    AgingRow,
    CustomerStatementRow,
    PenaltyRateList,
    PenaltyRateRow,
    ReceiptRow,
    ReceivableDetailRow,
    ReceivablePage,
    ReceivableRow,
)

ContractId = FromPath[UUID]
AgingBucket = Literal["current", "1-30", "31-60", "61-90", "91-180", "over-180"]
Order = Literal["contract", "days_past_due", "outstanding"]
RECEIVABLES = reads("receivables", Permission.VIEW_RECEIVABLES, ScopeRule.OWN_SALES)
PENALTY_RATES = reads("receivables", Permission.VIEW_RECEIVABLES, ScopeRule.COMPANIES)


# ---------------------------------------------------------------- receivables
@get("/", operation_id="ListReceivables", sync_to_thread=True, opt=RECEIVABLES,
     summary="Receivables per contract: received, outstanding, overdue, penalty, next due, aging")
def list_receivables(read: ReaderDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                     customer_id: FromQuery[UUID | None] = None, owner_id: FromQuery[UUID | None] = None,
                     status: FromQuery[DebtStatus | None] = None, aging: FromQuery[AgingBucket | None] = None,
                     overdue_only: FromQuery[bool] = False, as_of: FromQuery[date | None] = None,
                     collector_id: FromQuery[UUID | None] = None, order: FromQuery[Order] = "contract",
                     page: Page = 1, page_size: PageSize = 50) -> ReceivablePage:
    flt = receivables.ReceivableFilter(company_id, customer_id, owner_id, status and str(status), aging,
                                       overdue_only, collector_id)
    day = query_day(as_of, "as_of") or backoffice.today()
    items, total = read(receivables.list_receivables, flt, day, page, page_size, order)
    return ReceivablePage(items=rows(ReceivableRow, items), total=total, page=page, page_size=page_size, as_of=day)


@get("/export", operation_id="ExportReceivables", sync_to_thread=True, media_type="text/csv", opt=RECEIVABLES,
     summary="The receivables list as CSV (same filters)")
def export_receivables(read: ReaderDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                       customer_id: FromQuery[UUID | None] = None, status: FromQuery[DebtStatus | None] = None,
                       aging: FromQuery[AgingBucket | None] = None, overdue_only: FromQuery[bool] = False,
                       as_of: FromQuery[date | None] = None) -> Response[str]:
    flt = receivables.ReceivableFilter(company_id, customer_id, None, status and str(status), aging, overdue_only)
    return csv_export(read, receivables.EXPORT_COLUMNS, "receivables.csv", receivables.export_receivables, flt,
                      query_day(as_of, "as_of") or backoffice.today())


@get("/aging", operation_id="GetAgingReport", sync_to_thread=True, opt=RECEIVABLES,
     summary="Unpaid amounts by days past due (current, 1–30 … over 180) per company or customer")
def get_aging_report(read: ReaderDep, backoffice: OfficeDep, as_of: FromQuery[date | None] = None,
                     group_by: FromQuery[Literal["company", "customer"]] = "company",
                     company_id: FromQuery[UUID | None] = None) -> AgingReport:
    day = query_day(as_of, "as_of") or backoffice.today()
    found = read(receivables.aging_report, day, group_by, company_id)
    return AgingReport(as_of=day, group_by=group_by, rows=rows(AgingRow, found))


@get("/customers/{customer_id:uuid}/statement", operation_id="GetCustomerStatement", sync_to_thread=True,
     opt=RECEIVABLES,
     summary="Statement of account (对账单): every charge and receipt in date order with the running balance")
def get_customer_statement(customer_id: FromPath[UUID], read: ReaderDep, backoffice: OfficeDep,
                           date_from: FromQuery[date | None] = None,
                           date_to: FromQuery[date | None] = None) -> CustomerStatementRow:
    to = query_day(date_to, "date_to") or backoffice.today()
    if query_day(date_from, "date_from") and date_from > to:
        raise InvalidValueError("date_from is after date_to.", field="date_from")
    statement = read(receivables.customer_statement, customer_id, date_from, to)
    if statement is None:
        raise NotFoundError(f"Customer {customer_id} does not exist.", code="customer-not-found")
    return row(CustomerStatementRow, statement)


@get("/{contract_id:uuid}/history", operation_id="GetReceivableHistory", sync_to_thread=True,
     summary="Every event of a contract's receivable in order: who, when, why, and the figures of each")
def get_receivable_history(contract_id: ContractId, caller: CallerDep,
                           backoffice: OfficeDep) -> list[HistoryEvent]:
    events = backoffice.history.receivable_history(caller, contract_id)
    return msgspec.convert(events, list[HistoryEvent], from_attributes=True)


@get("/{contract_id:uuid}", operation_id="GetReceivable", sync_to_thread=True, opt=RECEIVABLES,
     summary="One contract's receivable: figures, items with what each paid and owes, receipts with their split")
def get_receivable(contract_id: ContractId, read: ReaderDep, backoffice: OfficeDep,
                   as_of: FromQuery[date | None] = None) -> ReceivableDetailRow:
    found = read(receivables.get_receivable, contract_id, query_day(as_of, "as_of") or backoffice.today())
    if found is None:
        raise NotFoundError(f"Contract {contract_id} has no receivable (it is not approved, or not yours to see).",
                            code="receivable-not-found")
    return row(ReceivableDetailRow, found)


# ---------------------------------------------------------------- receipts
@get("/", operation_id="ListReceipts", sync_to_thread=True, opt=RECEIVABLES,
     summary="Receipts I may see; status=recorded is finance's confirmation queue")
def list_receipts(read: ReaderDep, status: FromQuery[ReceiptStatus | None] = None,
                  company_id: FromQuery[UUID | None] = None, contract_id: FromQuery[UUID | None] = None,
                  page: Page = 1, page_size: PageSize = 50) -> page_of(ReceiptRow):  # type: ignore[valid-type]
    flt = receivables.ReceiptFilter(company_id, contract_id, status and str(status))
    return paged(ReceiptRow, read(receivables.list_receipts, flt, page, page_size), page, page_size)


# ---------------------------------------------------------------- penalty interest
@get("/", operation_id="ListPenaltyRates", sync_to_thread=True, opt=PENALTY_RATES,
     summary="Penalty rates by company and effective date")
def list_penalty_rates(read: ReaderDep, company_id: FromQuery[UUID | None] = None) -> PenaltyRateList:
    return PenaltyRateList(items=rows(PenaltyRateRow, read(receivables.list_penalty_rates, company_id)))


@post("/", operation_id="AccruePenalties", sync_to_thread=True, status_code=200, opt={"command": AccruePenalties},
      summary="Accrue penalty interest of my companies' overdue receivables up to a day (the worker does it "
              "daily; running it twice for a day changes nothing)",
      description=(AccruePenalties.__doc__ or "").strip() or None)
def accrue_penalties(data: JSONBody[AccruePenalties], caller: CallerDep,
                     backoffice: OfficeDep) -> Response[PenaltiesAccrued]:
    # A batch job (one transaction per batch of debts), not one command: the composition
    # root finds the candidates on the read model, then ReceivableService.accrue_penalties.
    result: dict[str, Any] = backoffice.accrue_penalties(caller, data.through)
    return Response(PenaltiesAccrued(through=data.through, **result), status_code=200)


RECEIVABLE_CONTROLLERS = [
    Router("/receivables", tags=["receivables"], route_handlers=[
        command_endpoint("/{contract_id:uuid}/schedule/generate", GenerateSchedule,
                         "Generate the installments (等额本息 or 等额本金) from rate, term and first due date"),
        command_endpoint("/{contract_id:uuid}/schedule", SetSchedule,
                         "Type the installments as agreed: due dates, principal (adding up to the financed amount), "
                         "interest"),
        command_endpoint("/{contract_id:uuid}/receipts", RecordReceipt,
                         "Record money received (收款); it counts once finance confirms it"),
        command_endpoint("/{contract_id:uuid}/receipts/{receipt_id:uuid}/confirm", ConfirmReceipt,
                         "Finance confirms a receipt (收款确认), by someone other than who recorded it"),
        command_endpoint("/{contract_id:uuid}/receipts/{receipt_id:uuid}/reject", RejectReceipt,
                         "Finance refuses a receipt waiting for confirmation, with the reason"),
        command_endpoint("/{contract_id:uuid}/receipts/{receipt_id:uuid}/reverse", ReverseReceipt,
                         "Reverse a confirmed receipt, with the reason; penalties are corrected"),
        list_receivables, export_receivables, get_aging_report, get_customer_statement, get_receivable_history,
        get_receivable]),
    Router("/receipts", tags=["receivables"], route_handlers=[list_receipts]),
    Router("/penalty-rates", tags=["receivables"], route_handlers=[
        command_endpoint("/", SetPenaltyRate,
                         "Set a member company's daily penalty rate (罚息率) and grace days from a later date"),
        list_penalty_rates]),
    Router("/penalty-accruals", tags=["receivables"], route_handlers=[accrue_penalties]),
]
