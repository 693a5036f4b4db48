"""Typed rows of the receivables read model's queries (receivables, receipts, reports, penalty
rates): field names and order are what each query answers. The collection queries' rows
(contact logs, collection applications) are typed by the collection area."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from domain.contracts import PaymentMethod, ScheduleMethod
from domain.receivables import DebtStatus, ReceiptMethod, ReceiptStatus
from projections.rows import Row


# ---------------------------------------------------------------- receivables (debts.py)
class CollectionStateRow(Row):
    """Where a receivable's collection (催收) stands."""

    collector_id: UUID | None
    collector_name: str | None
    assigned_on: dt.date | None
    last_contact_date: dt.date | None
    last_contact_result: str | None
    promised_date: dt.date | None
    promised_amount: Decimal | None
    locked: bool
    locked_machines: int
    tow_pending: bool
    tow_state: str | None
    open_applications: int
    settled: bool
    settled_on: dt.date | None
    documents_released_on: dt.date | None


class ReceivableRow(Row):
    """One contract's receivable with its figures ``as_of`` the day asked about."""

    debt_id: UUID
    contract_id: UUID
    contract_number: str
    company_id: UUID
    company_code: str | None
    customer_id: UUID
    customer_name: str | None
    owner_id: UUID | None
    salesperson: str | None
    status: DebtStatus
    payment: PaymentMethod
    schedule_method: ScheduleMethod | None
    schedule_pending: bool
    penalty_accrued_through: dt.date | None
    opened_on: dt.date
    last_change_on: dt.date | None
    as_of: dt.date
    financed: Decimal
    charged: Decimal
    received: Decimal
    principal_outstanding: Decimal
    outstanding: Decimal
    overdue_amount: Decimal
    penalty_accrued: Decimal
    penalty_received: Decimal
    penalty_waived: Decimal
    penalty_outstanding: Decimal
    next_due_date: dt.date | None
    oldest_overdue_date: dt.date | None
    days_past_due: int
    aging_bucket: str
    collection: CollectionStateRow
    next_due_amount: Decimal | None


class ReceivablePage(msgspec.Struct, kw_only=True):
    """A page of receivables, figured as of a day."""

    items: list[ReceivableRow]
    total: int
    page: int
    page_size: int
    as_of: dt.date


class ReceivableItemRow(Row):
    """One item of a receivable (DP, I1 … In, WD, FULL): what it charges, what is paid, what it owes."""

    item: str
    kind: str
    due_date: dt.date
    principal: Decimal
    interest: Decimal
    principal_paid: Decimal
    interest_paid: Decimal
    unpaid: Decimal
    penalty_accrued: Decimal
    penalty_paid: Decimal
    penalty_waived: Decimal
    penalty_outstanding: Decimal
    overdue: bool
    days_past_due: int


# ---------------------------------------------------------------- receipts (receipts.py)
class ReceiptCouponRow(Row):
    code: str
    amount: Decimal


class AllocationRow(Row):
    """What a confirmed receipt paid of one item."""

    item: str
    penalty: Decimal
    interest: Decimal
    principal: Decimal


class DebtReceiptRow(Row):
    """A receipt of one receivable, with what it paid of each item."""

    receipt_id: UUID
    value_date: dt.date
    method: ReceiptMethod
    reference: str | None
    allocate_to: list[str]
    status: ReceiptStatus
    recorded_on: dt.date
    recorded_by: UUID
    decided_on: dt.date | None
    decided_by: UUID | None
    reason: str | None
    penalty_last: bool
    amount: Decimal
    coupons: list[ReceiptCouponRow]
    paid_with_coupons: Decimal
    allocations: list[AllocationRow]


class ReceiptRow(Row):
    """A receipt in the list (finance's confirmation queue)."""

    receipt_id: UUID
    contract_id: UUID
    contract_number: str
    company_id: UUID
    customer_id: UUID
    value_date: dt.date
    method: ReceiptMethod
    reference: str | None
    allocate_to: list[str]
    status: ReceiptStatus
    recorded_on: dt.date
    recorded_by: UUID
    decided_on: dt.date | None
    decided_by: UUID | None
    reason: str | None
    penalty_last: bool
    amount: Decimal
    coupons: list[ReceiptCouponRow]
    paid_with_coupons: Decimal


class ReceivableDetailRow(ReceivableRow):
    """One receivable in full: its figures, items, receipts, and its collection's logs and applications."""

    items: list[ReceivableItemRow]
    receipts: list[DebtReceiptRow]
    # Rows of the collection queries (typed by the collection area).
    collection_logs: list[dict[str, Any]]
    applications: list[dict[str, Any]]


# ---------------------------------------------------------------- reports (reports.py)
class AgingRow(Row, kw_only=True):
    """Unpaid amounts of one company's or customer's open receivables by days past due."""

    group_by: str
    id: UUID | None
    name: str | None
    receivables: int
    outstanding: Decimal
    penalty_outstanding: Decimal
    current: Decimal
    days_1_30: Decimal = msgspec.field(name="1-30")
    days_31_60: Decimal = msgspec.field(name="31-60")
    days_61_90: Decimal = msgspec.field(name="61-90")
    days_91_180: Decimal = msgspec.field(name="91-180")
    days_over_180: Decimal = msgspec.field(name="over-180")
    overdue: Decimal


class AgingReport(msgspec.Struct, kw_only=True):
    as_of: dt.date
    group_by: str
    rows: list[AgingRow]


class StatementLineRow(Row):
    """One line of a statement of account, with the balance after it."""

    date: dt.date
    contract_number: str
    kind: str
    item: str | None
    receipt_id: UUID | None
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal


class CustomerStatementRow(Row):
    """对账单: a customer's charges, penalties, receipts and reversals in date order."""

    customer_id: UUID
    customer_name: str
    date_from: dt.date | None
    date_to: dt.date
    opening_balance: Decimal
    closing_balance: Decimal
    lines: list[StatementLineRow]


# ---------------------------------------------------------------- penalty rates (penalty.py)
class PenaltyRateRow(Row):
    company_id: UUID
    company_code: str | None
    effective_from: dt.date
    daily_rate: Decimal
    grace_days: int
    set_on: dt.date


class PenaltyRateList(msgspec.Struct, kw_only=True):
    items: list[PenaltyRateRow]
