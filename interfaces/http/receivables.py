"""Receivables over HTTP (应收): schedules, receipts and their confirmation, penalty rates
and accrual, lists, aging, statements. A receivable is addressed by its contract's id."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from domain.access import Permission
from domain.base import InvalidValueError, NotFoundError
from domain.receivables import DebtStatus, ReceiptStatus
from domain.schedules import ScheduleLine
from interfaces.http.controllers import (
    After,
    CallerDep,
    IdempotencyKey,
    OfficeDep,
    Page,
    PageSize,
    answer,
    csv_response,
    fresh,
    query_day,
)
from interfaces.http.schemas import (
    AccruePenaltiesRequest,
    GenerateScheduleRequest,
    ReceiptDecisionRequest,
    RecordReceiptRequest,
    SetPenaltyRateRequest,
    SetScheduleRequest,
)
from projections import receivables

ContractId = FromPath[UUID]
AgingBucket = Literal["current", "1-30", "31-60", "61-90", "91-180", "over-180"]
Order = Literal["contract", "days_past_due", "outstanding"]


class ReceivableController(Controller):
    path = "/receivables"
    tags = ["receivables"]

    # ------------------------------------------------------------ schedules
    @post("/{contract_id:uuid}/schedule/generate", operation_id="GenerateSchedule", sync_to_thread=True,
          summary="Generate the installments (等额本息 or 等额本金) from rate, term and first due date")
    def generate_schedule(self, contract_id: ContractId, data: JSONBody[GenerateScheduleRequest], caller: CallerDep,
                          backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.receivables.generate_schedule(caller, contract_id, data.method, data.annual_rate,
                                                               data.months, data.first_due_date, idempotency_key))

    @post("/{contract_id:uuid}/schedule", operation_id="SetSchedule", sync_to_thread=True,
          summary="Type the installments as agreed: due dates, principal (adding up to the financed amount), interest")
    def set_schedule(self, contract_id: ContractId, data: JSONBody[SetScheduleRequest], caller: CallerDep,
                     backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        lines = [ScheduleLine(line.due_date, line.principal, line.interest) for line in data.lines]
        return answer(backoffice.receivables.set_schedule(caller, contract_id, lines, idempotency_key))

    # ------------------------------------------------------------ receipts
    @post("/{contract_id:uuid}/receipts", operation_id="RecordReceipt", sync_to_thread=True,
          summary="Record money received (收款); it counts once finance confirms it")
    def record_receipt(self, contract_id: ContractId, data: JSONBody[RecordReceiptRequest], caller: CallerDep,
                       backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.receivables.record_receipt(caller, contract_id, data.amount, data.value_date,
                                                            data.method, data.reference, data.allocate_to,
                                                            idempotency_key, data.penalty_last,
                                                            [(c.code, c.amount) for c in data.coupons]))

    @post("/{contract_id:uuid}/receipts/{receipt_id:uuid}/confirm", operation_id="ConfirmReceipt",
          sync_to_thread=True, summary="Finance confirms a receipt (收款确认), by someone other than who recorded it")
    def confirm_receipt(self, contract_id: ContractId, receipt_id: FromPath[UUID], caller: CallerDep,
                        backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.receivables.confirm_receipt(caller, contract_id, receipt_id, idempotency_key))

    @post("/{contract_id:uuid}/receipts/{receipt_id:uuid}/reject", operation_id="RejectReceipt",
          sync_to_thread=True, summary="Finance refuses a receipt waiting for confirmation, with the reason")
    def reject_receipt(self, contract_id: ContractId, receipt_id: FromPath[UUID],
                       data: JSONBody[ReceiptDecisionRequest], caller: CallerDep, backoffice: OfficeDep,
                       idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.receivables.reject_receipt(caller, contract_id, receipt_id, data.reason,
                                                            idempotency_key))

    @post("/{contract_id:uuid}/receipts/{receipt_id:uuid}/reverse", operation_id="ReverseReceipt",
          sync_to_thread=True, summary="Reverse a confirmed receipt, with the reason; penalties are corrected")
    def reverse_receipt(self, contract_id: ContractId, receipt_id: FromPath[UUID],
                        data: JSONBody[ReceiptDecisionRequest], caller: CallerDep, backoffice: OfficeDep,
                        idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.receivables.reverse_receipt(caller, contract_id, receipt_id, data.reason,
                                                             idempotency_key))

    # ------------------------------------------------------------ queries
    @get("/", operation_id="ListReceivables", sync_to_thread=True,
         summary="Receivables per contract: received, outstanding, overdue, penalty, next due, aging")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 customer_id: FromQuery[UUID | None] = None, owner_id: FromQuery[UUID | None] = None,
                 status: FromQuery[DebtStatus | None] = None, aging: FromQuery[AgingBucket | None] = None,
                 overdue_only: FromQuery[bool] = False, as_of: FromQuery[date | None] = None,
                 collector_id: FromQuery[UUID | None] = None,
                 order: FromQuery[Order] = "contract", page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_RECEIVABLES)
        fresh(backoffice, "receivables", after)
        flt = receivables.ReceivableFilter(company_id, customer_id, owner_id, status and str(status), aging,
                                           overdue_only, collector_id)
        day = query_day(as_of, "as_of") or backoffice.today()
        with backoffice.read() as cur:
            items, total = receivables.list_receivables(cur, caller.scope, caller.own_only, flt, day, page, page_size,
                                                        order)
        return {"items": items, "total": total, "page": page, "page_size": page_size, "as_of": day}

    @get("/export", operation_id="ExportReceivables", sync_to_thread=True, media_type="text/csv",
         summary="The receivables list as CSV (same filters)")
    def export(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
               customer_id: FromQuery[UUID | None] = None, status: FromQuery[DebtStatus | None] = None,
               aging: FromQuery[AgingBucket | None] = None, overdue_only: FromQuery[bool] = False,
               as_of: FromQuery[date | None] = None, after: After = None) -> Response[str]:
        caller.require(Permission.VIEW_RECEIVABLES)
        fresh(backoffice, "receivables", after)
        flt = receivables.ReceivableFilter(company_id, customer_id, None, status and str(status), aging, overdue_only)
        with backoffice.read() as cur:
            return csv_response(receivables.EXPORT_COLUMNS,
                                receivables.export_receivables(cur, caller.scope, caller.own_only, flt,
                                                               query_day(as_of, "as_of") or backoffice.today()),
                                "receivables.csv")

    @get("/aging", operation_id="GetAgingReport", sync_to_thread=True,
         summary="Unpaid amounts by days past due (current, 1–30 … over 180) per company or customer")
    def aging(self, caller: CallerDep, backoffice: OfficeDep, as_of: FromQuery[date | None] = None,
              group_by: FromQuery[Literal["company", "customer"]] = "company",
              company_id: FromQuery[UUID | None] = None, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_RECEIVABLES)
        fresh(backoffice, "receivables", after)
        day = query_day(as_of, "as_of") or backoffice.today()
        with backoffice.read() as cur:
            rows = receivables.aging_report(cur, caller.scope, caller.own_only, day, group_by, company_id)
        return {"as_of": day, "group_by": group_by, "rows": rows}

    @get("/customers/{customer_id:uuid}/statement", operation_id="GetCustomerStatement", sync_to_thread=True,
         summary="Statement of account (对账单): every charge and receipt in date order with the running balance")
    def statement(self, customer_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                  date_from: FromQuery[date | None] = None, date_to: FromQuery[date | None] = None,
                  after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_RECEIVABLES)
        to = query_day(date_to, "date_to") or backoffice.today()
        if query_day(date_from, "date_from") and date_from > to:
            raise InvalidValueError("date_from is after date_to.", field="date_from")
        fresh(backoffice, "receivables", after)
        with backoffice.read() as cur:
            statement = receivables.customer_statement(cur, caller.scope, caller.own_only, customer_id, date_from, to)
        if statement is None:
            raise NotFoundError(f"Customer {customer_id} does not exist.", code="customer-not-found")
        return statement

    @get("/{contract_id:uuid}/history", operation_id="GetReceivableHistory", sync_to_thread=True,
         summary="Every event of a contract's receivable in order: who, when, why, and the figures of each")
    def history(self, contract_id: ContractId, caller: CallerDep, backoffice: OfficeDep) -> list[dict[str, Any]]:
        return backoffice.history.receivable_history(caller, contract_id)

    @get("/{contract_id:uuid}", operation_id="GetReceivable", sync_to_thread=True,
         summary="One contract's receivable: figures, items with what each paid and owes, receipts with their split")
    def get_one(self, contract_id: ContractId, caller: CallerDep, backoffice: OfficeDep,
                as_of: FromQuery[date | None] = None, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_RECEIVABLES)
        fresh(backoffice, "receivables", after)
        with backoffice.read() as cur:
            row = receivables.get_receivable(cur, caller.scope, caller.own_only, contract_id,
                                             query_day(as_of, "as_of") or backoffice.today())
        if row is None:
            raise NotFoundError(f"Contract {contract_id} has no receivable (it is not approved, or not yours to see).",
                                code="receivable-not-found")
        return row


class ReceiptController(Controller):
    path = "/receipts"
    tags = ["receivables"]

    @get("/", operation_id="ListReceipts", sync_to_thread=True,
         summary="Receipts I may see; status=recorded is finance's confirmation queue")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, status: FromQuery[ReceiptStatus | None] = None,
                 company_id: FromQuery[UUID | None] = None, contract_id: FromQuery[UUID | None] = None,
                 page: Page = 1, page_size: PageSize = 50, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_RECEIVABLES)
        fresh(backoffice, "receivables", after)
        flt = receivables.ReceiptFilter(company_id, contract_id, status and str(status))
        with backoffice.read() as cur:
            items, total = receivables.list_receipts(cur, caller.scope, caller.own_only, flt, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}


class PenaltyController(Controller):
    tags = ["receivables"]

    @post("/penalty-rates", operation_id="SetPenaltyRate", sync_to_thread=True,
          summary="Set a member company's daily penalty rate (罚息率) and grace days from a later date")
    def set_rate(self, data: JSONBody[SetPenaltyRateRequest], caller: CallerDep, backoffice: OfficeDep,
                 idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.receivables.set_penalty_rate(caller, data.company_id, data.effective_from,
                                                              data.daily_rate, data.grace_days, idempotency_key))

    @get("/penalty-rates", operation_id="ListPenaltyRates", sync_to_thread=True,
         summary="Penalty rates by company and effective date")
    def list_rates(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                   after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_RECEIVABLES)
        fresh(backoffice, "receivables", after)
        with backoffice.read() as cur:
            return {"items": receivables.list_penalty_rates(cur, caller.scope, company_id)}

    @post("/penalty-accruals", operation_id="AccruePenalties", sync_to_thread=True,
          summary="Accrue penalty interest of my companies' overdue receivables up to a day (the worker does it "
                  "daily; running it twice for a day changes nothing)")
    def accrue(self, data: JSONBody[AccruePenaltiesRequest], caller: CallerDep,
               backoffice: OfficeDep) -> Response[dict[str, Any]]:
        result = backoffice.accrue_penalties(caller, data.through)
        return Response({"through": data.through, **result}, status_code=200)


RECEIVABLE_CONTROLLERS = [ReceivableController, ReceiptController, PenaltyController]
