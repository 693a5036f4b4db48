"""Commands of receivables (应收) and their answers: schedules, receipts and their
confirmation, penalty rates and the daily penalty accrual."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from msgspec import Meta

from application.fields import PLAIN, Money, Reason
from application.handling import Answer, Command
from application.parts.commands import CouponPart
from domain.contracts import ScheduleMethod
from domain.receivables import Debt, DebtStatus, ReceiptMethod

ItemKey = Annotated[str, Meta(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9]+$",
                              description="An item of the receivable: DP, I1 … In, WD or FULL.")]


# ---------------------------------------------------------------- answers
class ReceivableItem(msgspec.Struct, kw_only=True):
    item: str
    due_date: date
    amount: Decimal
    outstanding: Decimal
    penalty_outstanding: Decimal


class ReceivableSummary(Answer):
    """What a command on a receivable answers: its figures right after the command."""

    contract_id: UUID
    contract_number: str
    status: DebtStatus
    schedule_pending: bool
    received: Decimal
    outstanding: Decimal
    penalty_accrued_through: date | None
    items: list[ReceivableItem]

    @classmethod
    def of(cls, debt: Debt, **extra: Any) -> Any:
        return cls(contract_id=debt.contract_id, contract_number=debt.contract_number, status=debt.status,
                   schedule_pending=debt.schedule_pending, received=debt.received,
                   outstanding=debt.total_outstanding, penalty_accrued_through=debt.accrued_through,
                   items=[ReceivableItem(item=k, due_date=debt.items[k].due_date, amount=debt.items[k].amount,
                                         outstanding=debt.outstanding(k),
                                         penalty_outstanding=debt.penalty_outstanding(k))
                          for k in debt.item_order()], **extra)


class ReceiptRecorded(ReceivableSummary):
    receipt_id: UUID


class PenaltyRate(msgspec.Struct, kw_only=True):
    effective_from: date
    daily_rate: Decimal
    grace_days: int


class PenaltyRateSet(Answer):
    company_id: UUID
    rates: list[PenaltyRate]


class PenaltiesAccrued(Answer, omit_defaults=True):
    """What the accrual answers: debts examined and charged, in how many batches (transactions),
    and the position of the last batch's events (absent when there was nothing to examine)."""

    through: date
    debts_examined: int
    debts_charged: int
    batches: int
    position: int | None = None


class BatchAccrued(Answer):
    debts_charged: int


# ---------------------------------------------------------------- schedules
class ScheduleLineEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One installment as agreed."""

    due_date: date
    principal: Money
    interest: Money = Decimal("0.00")


class GenerateSchedule(Command, kw_only=True):
    """Generate a contract's installments (等额本息 or 等额本金) from the annual rate, the term in
    months and the first due date; the penalty rates in force apply from then on."""

    answer_type: ClassVar = ReceivableSummary
    contract_id: UUID
    method: ScheduleMethod = ScheduleMethod.EQUAL_INSTALLMENT
    annual_rate: Annotated[Decimal, Meta(description="A fraction: \"0.0435\" is 4.35 % a year; 0 allowed.")]
    months: Annotated[int, Meta(ge=1, le=120)]
    first_due_date: date


class SetSchedule(Command):
    """Type a contract's installments as agreed: due dates, principal (adding up to the financed
    amount) and interest."""

    answer_type: ClassVar = ReceivableSummary
    contract_id: UUID
    lines: Annotated[list[ScheduleLineEntry], Meta(min_length=1, max_length=120)]


# ---------------------------------------------------------------- receipts
class RecordReceipt(Command):
    """Record money received (收款) for a contract's receivable, part of it possibly paid with
    coupons (redeemed in the same transaction, so two receipts never spend one balance twice).
    It counts once finance confirms it."""

    answer_type: ClassVar = ReceiptRecorded
    creates: ClassVar = True
    contract_id: UUID
    amount: Money
    value_date: Annotated[date, Meta(description="The day the money arrived (起息日); not in the future.")]
    method: ReceiptMethod
    reference: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)] | None = None
    allocate_to: Annotated[list[ItemKey], Meta(max_length=130, description=(
        "Pay these items only, in this order (each: penalty, interest, principal). Empty: oldest due first."))] = []
    penalty_last: Annotated[bool, Meta(description=(
        "Pay interest and principal of every item before any penalty interest (the customer pays the principal "
        "and applies for the penalty to be waived)."))] = False
    coupons: Annotated[list[CouponPart], Meta(max_length=20, description=(
        "Part of the amount paid with coupons (卡券); the amount is the whole receipt, coupons included."))] = []

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        # As fingerprinted before the command was a type: penalty_last and coupons only when given.
        request: dict[str, Any] = {"contract_id": self.contract_id, "amount": self.amount,
                                   "value_date": self.value_date, "method": self.method,
                                   "reference": self.reference, "allocate_to": list(self.allocate_to)}
        if self.penalty_last:
            request["penalty_last"] = True
        if self.coupons:
            request["coupons"] = [[c.code, c.amount] for c in self.coupons]
        return request


class ConfirmReceipt(Command):
    """Finance confirms a receipt (收款确认), by someone other than who recorded it: it is allocated
    to the items and counts from its value date."""

    answer_type: ClassVar = ReceivableSummary
    contract_id: UUID
    receipt_id: UUID


class RejectReceipt(Command):
    """Finance refuses a receipt waiting for confirmation, with the reason; coupons it used get
    their balance back."""

    answer_type: ClassVar = ReceivableSummary
    contract_id: UUID
    receipt_id: UUID
    reason: Reason


class ReverseReceipt(Command):
    """Reverse a confirmed receipt, with the reason; penalties are corrected and coupons it used
    get their balance back."""

    answer_type: ClassVar = ReceivableSummary
    contract_id: UUID
    receipt_id: UUID
    reason: Reason


# ---------------------------------------------------------------- penalty interest
class SetPenaltyRate(Command):
    """Set a member company's daily penalty rate (罚息率) and grace days from a later date."""

    answer_type: ClassVar = PenaltyRateSet
    company_id: UUID
    effective_from: Annotated[date, Meta(description="First day the rate applies; after today.")]
    daily_rate: Annotated[Decimal, Meta(description="A fraction a day: \"0.0005\" is 0.05 % a day.")]
    grace_days: Annotated[int, Meta(ge=0, le=90)] = 0


class AccruePenalties(Command):
    """Accrue penalty interest (罚息计提) of the caller's companies' overdue receivables for the
    days up to ``through``. The receivables that may owe penalty are accrued in batches, one
    transaction each (``AccruePenaltyBatch``); running it twice for a day changes nothing."""

    answer_type: ClassVar = PenaltiesAccrued
    through: Annotated[date, Meta(description="Last day to accrue; a day that has ended.")]


class AccruePenaltyBatch(Command):
    """One batch of the accrual: the given debts, in one transaction. Recorded under the
    operation ``AccruePenalties`` (as it always was)."""

    answer_type: ClassVar = BatchAccrued
    through: date
    debts: list[UUID]

    @classmethod
    def operation(cls) -> str:
        return "AccruePenalties"
