"""What moves a debt's timeline: its schedule, its receipts and the daily penalty run. Each
records whatever makes the debt equal the replay (``_settle_timeline``). A part of ``Debt``
(``domain.receivables.debt``), mixed in; the events it records are ``Debt``'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from domain.base import Context, InvalidValueError, NotFoundError, require_text
from domain.contracts import FIRST_DUE_WITHIN_DAYS, PaymentMethod, ScheduleMethod
from domain.coupons import CouponUse
from domain.money import ZERO, require_money
from domain.receivables.book import _Book, _days, _lines, _Replay
from domain.receivables.errors import (DebtStateError, OverpaymentError, OwnReceiptError, PenaltyDateError,
                                       ReceiptStateError, ScheduleLockedError, WaiverConflictError)
from domain.receivables.rates import PenaltyRates
from domain.receivables.values import ONE_DAY, DebtItem, DebtStatus, ItemKind, Receipt, ReceiptMethod, ReceiptStatus
from domain.schedules import ScheduleLine, equal_installment, equal_principal, typed_schedule


class DebtTimeline:
    """The schedule, receipts and daily run of a debt (a mixin of ``Debt``)."""

    # ------------------------------------------------------------ the schedule
    def generate_schedule(self, ctx: Context, method: ScheduleMethod, annual_rate: Decimal, months: int,
                          first_due_date: date, rates: PenaltyRates) -> None:
        """Installments generated from the loan's terms. Installments due before days already
        accrued are charged those days' penalty at once, as the daily run would have."""
        if method == ScheduleMethod.TYPED:
            raise InvalidValueError("A typed schedule is set with its lines (SetSchedule).", field="method")
        self._check_schedule_change(first_due_date)
        lines = _generate(method, self.financed, annual_rate, months, first_due_date)
        self._record(self.ScheduleSet, ctx, self.company_id, method=str(method),
                     annual_rate=Decimal(str(annual_rate)), months=months, installments=_installments(lines))
        self._settle_timeline(ctx, self.active_receipts, rates, self.accrued_through, cause=ctx.command_id)

    def set_schedule(self, ctx: Context, lines: Sequence[ScheduleLine], rates: PenaltyRates) -> None:
        """Installments typed as agreed; penalty of days already accrued as in ``generate_schedule``."""
        self._check_schedule_change(min((line.due_date for line in lines), default=None))
        checked = typed_schedule(self.financed, lines, self.contract_date)
        self._record(self.ScheduleSet, ctx, self.company_id, method=str(ScheduleMethod.TYPED), annual_rate=None,
                     months=len(checked), installments=_installments(checked))
        self._settle_timeline(ctx, self.active_receipts, rates, self.accrued_through, cause=ctx.command_id)

    def _check_schedule_change(self, first_due: date | None) -> None:
        self._require_open("given a schedule")
        if self.payment != PaymentMethod.INSTALLMENT:
            raise DebtStateError(f"Contract {self.contract_number} is a cash sale; it has no installments.",
                                 state=str(self.payment))
        touched = [k for k in self.item_order() if self.items[k].kind == ItemKind.INSTALLMENT
                   and (self.paid[k].principal or self.paid[k].interest or self.penalty_charged.get(k))]
        if waiting := [r for r in self.receipts.values() if r.status == ReceiptStatus.RECORDED]:
            raise ScheduleLockedError(f"Contract {self.contract_number} has {len(waiting)} receipt(s) waiting for "
                                      "confirmation; finance confirms or rejects them before the schedule changes.")
        if touched:
            raise ScheduleLockedError(f"Installment {', '.join(touched)} of contract {self.contract_number} "
                                      "has been paid or charged penalty; the schedule can no longer be replaced.")
        if first_due is not None and first_due <= self.contract_date:
            raise InvalidValueError(f"The first installment falls due after the contract date {self.contract_date}.",
                                    field="first_due_date")
        if first_due is not None and first_due > self.contract_date + timedelta(days=FIRST_DUE_WITHIN_DAYS):
            raise InvalidValueError(f"The first installment falls due within {FIRST_DUE_WITHIN_DAYS} days of the "
                                    f"contract date {self.contract_date}.", field="first_due_date")

    # ------------------------------------------------------------ receipts
    def record_receipt(self, ctx: Context, receipt_id: UUID, amount: Decimal, value_date: date,
                       method: ReceiptMethod, reference: str | None = None,
                       allocate_to: Sequence[str] = (), penalty_last: bool = False,
                       coupons: Sequence[CouponUse] = ()) -> None:
        """收款: recorded now, counts once finance confirms it. ``amount`` is the whole receipt;
        ``coupons`` the part of it paid with coupons (the rest is money by ``method``)."""
        self._require_open("paid")
        amount = require_money(amount, "amount", positive=True)
        if len({c.coupon_id for c in coupons}) != len(coupons):
            raise InvalidValueError("Name each coupon once in a receipt.", field="coupons")
        coupons = [replace(c, amount=require_money(c.amount, f"coupons[{c.code}].amount", positive=True))
                   for c in coupons]
        if sum((c.amount for c in coupons), ZERO) > amount:
            raise InvalidValueError(f"The coupons ({sum((c.amount for c in coupons), ZERO)}) pay more than the "
                                    f"receipt's amount ({amount}); the amount is the whole receipt, coupons included.",
                                    field="coupons")
        if value_date > ctx.business_date:
            raise InvalidValueError(f"The value date {value_date} is in the future; record the receipt when the "
                                    "money has arrived.", field="value_date")
        if value_date < self.contract_date:
            raise InvalidValueError(f"The value date {value_date} is before the contract date {self.contract_date}.",
                                    field="value_date")
        targets = tuple(dict.fromkeys(k.strip().upper() for k in allocate_to))
        if unknown := [k for k in targets if k not in self.items]:
            raise InvalidValueError(f"Contract {self.contract_number} has no item {', '.join(unknown)}; its items are "
                                    f"{', '.join(self.item_order())}.", field="allocate_to")
        waiting = [r for r in self.receipts.values() if r.status == ReceiptStatus.RECORDED]
        owed = self.total_outstanding - sum((r.amount for r in waiting), ZERO)
        if targets:
            # A waiting receipt may pay these items unless it is directed at other items only.
            claimed = sum((r.amount for r in waiting if not r.allocate_to or set(r.allocate_to) & set(targets)), ZERO)
            owed = min(owed, sum((self.outstanding(k) + self.penalty_outstanding(k) for k in targets), ZERO)
                       - claimed)
        if amount > owed:
            raise OverpaymentError(f"{amount} is more than contract {self.contract_number} owes"
                                   f"{' on ' + ', '.join(targets) if targets else ''} ({max(owed, ZERO)}, after the "
                                   "receipts waiting for confirmation); over-payments are not taken.",
                                   owed=max(owed, ZERO))
        self._record(self.ReceiptRecorded, ctx, self.company_id, receipt_id=receipt_id, amount=amount,
                     value_date=value_date, method=str(method),
                     reference=require_text(reference, "reference", 100) if reference else None,
                     allocate_to=targets, penalty_last=penalty_last, coupons=tuple(coupons))

    def _receipt(self, receipt_id: UUID) -> Receipt:
        receipt = self.receipts.get(receipt_id)
        if receipt is None:
            raise NotFoundError(f"Contract {self.contract_number} has no receipt {receipt_id}.",
                                code="receipt-not-found")
        return receipt

    def item_order(self) -> list[str]:
        """Item keys in the order a receipt pays them: by due date, then DP, I1 … In, WD."""
        return _Book(self.items.values()).order

    def reject_receipt(self, ctx: Context, receipt_id: UUID) -> None:
        receipt = self._receipt(receipt_id)
        if receipt.status != ReceiptStatus.RECORDED:
            raise ReceiptStateError(f"Receipt {receipt_id} is {receipt.status}; only a receipt waiting for "
                                    "confirmation can be rejected.", state=str(receipt.status))
        require_text(ctx.reason or "", "reason", 500)
        self._record(self.ReceiptRejected, ctx, self.company_id, receipt_id=receipt_id)

    def confirm_receipt(self, ctx: Context, receipt_id: UUID, rates: PenaltyRates) -> None:
        """收款确认 by someone other than who recorded it. Penalties up to the day before its
        value date are brought in first (it pays them); days already accrued after its value
        date are corrected, and later receipts re-split, as if it had been recorded on time."""
        self._require_open("paid")
        receipt = self._receipt(receipt_id)
        if receipt.status != ReceiptStatus.RECORDED:
            raise ReceiptStateError(f"Receipt {receipt_id} is {receipt.status}; only a receipt waiting for "
                                    "confirmation can be confirmed.", state=str(receipt.status))
        if receipt.recorded_by == ctx.actor_id:
            raise OwnReceiptError("You recorded this receipt; another person in finance confirms it.")
        if gone := [k for k in receipt.allocate_to if k not in self.items]:
            raise ReceiptStateError(f"Receipt {receipt_id} is directed at {', '.join(gone)}, which the schedule no "
                                    "longer has; reject it and record it again.", state=str(receipt.status))
        candidate = replace(receipt, sequence=self.confirmations + 1)
        receipts = sorted([*self.active_receipts, candidate], key=lambda r: (r.value_date, r.sequence))
        replay = self._settle_timeline(ctx, receipts, rates,
                                       through=max(self.accrued_through, receipt.value_date - ONE_DAY), cause=receipt_id)
        self._record(self.ReceiptConfirmed, ctx, self.company_id, receipt_id=receipt_id,
                     allocations=replay.allocations[receipt_id])

    def reverse_receipt(self, ctx: Context, receipt_id: UUID, rates: PenaltyRates) -> None:
        self._require_open("changed")
        receipt = self._receipt(receipt_id)
        if receipt.status != ReceiptStatus.CONFIRMED:
            raise ReceiptStateError(f"Receipt {receipt_id} is {receipt.status}; only a confirmed receipt can be "
                                    "reversed.", state=str(receipt.status))
        require_text(ctx.reason or "", "reason", 500)
        receipts = [r for r in self.active_receipts if r.receipt_id != receipt_id]
        self._record(self.ReceiptReversed, ctx, self.company_id, receipt_id=receipt_id)
        self._settle_timeline(ctx, receipts, rates, through=self.accrued_through, cause=receipt_id)

    def _settle_timeline(self, ctx: Context, receipts: list[Receipt], rates: PenaltyRates, through: date,
                         cause: UUID) -> _Replay:
        """Records whatever makes the debt equal the replay of ``receipts`` through ``through``:
        new days' penalty, corrections of days accrued, new splits of other receipts."""
        replay = self._replay(receipts, rates, through)
        if replay.left_over:
            rid, left = next(iter(replay.left_over.items()))
            whose = "This receipt" if rid == cause else f"Receipt {rid} (value date {self.receipts[rid].value_date})"
            raise OverpaymentError(f"{whose} would pay {left} more than contract {self.contract_number} owes"
                                   f"{' on the items it is directed to' if self.receipts[rid].allocate_to else ''}; "
                                   "over-payments are not taken. Reject it and record the right amount.",
                                   left_over=left)
        if replay.waiver_conflicts:
            application_id, key, short = replay.waiver_conflicts[0]
            raise WaiverConflictError(
                f"Penalty of {key} was waived by application {application_id}; with this change the penalty left "
                f"on that day would be {short} less than was waived. Reject the receipt (or keep the one to be "
                "reversed) and ask finance to correct it another way.", application_id=str(application_id))
        recorded = self.recorded_penalty()
        corrections: dict[tuple[str, date], tuple[Decimal, Decimal, Decimal]] = {}
        new_days: dict[tuple[str, date], tuple[Decimal, Decimal, Decimal]] = {}
        for (key, day), (overdue, rate, amount) in replay.penalty.items():
            if day > self.accrued_through:
                new_days[(key, day)] = (overdue, rate, amount)
            elif recorded.get((key, day), ZERO) != amount:
                corrections[(key, day)] = (overdue, rate, amount - recorded.get((key, day), ZERO))
        for (key, day), amount in recorded.items():
            if (key, day) not in replay.penalty:
                corrections[(key, day)] = (ZERO, ZERO, -amount)
        if through > self.accrued_through:
            # Recorded even when nothing is charged: every confirmed receipt must fall no later
            # than the day after the last accrued day, which the daily run relies on.
            self._record(self.PenaltyAccrued, ctx, self.company_id, through=through, lines=_lines(new_days))
        if corrections:
            self._record(self.PenaltyAdjusted, ctx, self.company_id, caused_by=cause, lines=_lines(corrections))
        for receipt in self.active_receipts:
            split = replay.allocations.get(receipt.receipt_id)
            if receipt.receipt_id != cause and split is not None and split != receipt.allocations:
                self._record(self.ReceiptReallocated, ctx, self.company_id, receipt_id=receipt.receipt_id,
                             caused_by=cause, allocations=split)
        return replay

    # ------------------------------------------------------------ the daily run
    def accrue_penalties(self, ctx: Context, through: date, rates: PenaltyRates) -> bool:
        """The penalty of every day after the last accrued one up to ``through``; True if
        anything was charged. A day already accrued is never charged again."""
        if through >= ctx.business_date:
            raise PenaltyDateError(f"Penalties are accrued for days that have ended; {through} has not "
                                   f"(today is {ctx.business_date}).", field="through")
        if self.status != DebtStatus.OPEN or through <= self.accrued_through:
            return False
        book = self._current_book()
        per_day: dict[tuple[str, date], tuple[Decimal, Decimal, Decimal]] = {}
        for day in _days(self.accrued_through + ONE_DAY, through):
            rate = rates.on(day)
            for key, overdue, amount in book.accrue(day, rate):
                assert rate is not None
                per_day[(key, day)] = (overdue, rate.daily_rate, amount)
        if not per_day:
            return False
        self._record(self.PenaltyAccrued, ctx, self.company_id, through=through, lines=_lines(per_day))
        return True


def _generate(method: ScheduleMethod | str, financed: Decimal, annual_rate: Decimal, months: int,
              first_due: date) -> tuple[ScheduleLine, ...]:
    if ScheduleMethod(method) == ScheduleMethod.EQUAL_INSTALLMENT:
        return equal_installment(financed, annual_rate, months, first_due)
    return equal_principal(financed, annual_rate, months, first_due)


def _installments(lines: Sequence[ScheduleLine]) -> tuple[DebtItem, ...]:
    return tuple(DebtItem(f"I{n}", ItemKind.INSTALLMENT, line.due_date, line.principal, line.interest)
                 for n, line in enumerate(lines, 1))
