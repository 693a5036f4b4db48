"""Receivables (应收 / 债权): the debt of one contract, its receipts and its penalty interest.

A ``Debt`` is opened when its contract is approved (same transaction) and closed
again by events if the contract is un-approved while nothing was received. Its
**items** are what the customer owes and when:

    DP    down payment (首付), due on the day of approval
    I1…In installments (分期款) of the schedule (``domain.schedules``)
    WD    warranty deposit (质保金), due on its own date
    FULL  the whole price of a cash sale (全款), due on the day of approval

**Receipts (收款)** are recorded against the debt and count only once finance
confirms them (收款确认), by someone other than whoever recorded them. A confirmed
receipt can be reversed with a reason; nothing is edited. A receipt pays the
oldest due item first, and within an item penalty interest, then interest, then
principal; a clerk may direct it to named items instead (it then pays those
only, in the order named), or mark it ``penalty_last`` (interest and principal of
every item first, penalty after: the customer pays the principal and applies for
the penalty to be waived). **Over-payment is refused**: a receipt larger than
what it can pay is not confirmed (the office returns or re-books the money);
the customer holds no credit balance here.

**Penalty interest (罚息)**. A member company's ``PenaltyPolicy`` gives the daily
rate and grace days in force on each day. For each day D an item is overdue
(D after its due date plus the grace days in force on D, and after the day the
debt opened), the penalty of that item for D is

    round_half_up(overdue amount of the item at the end of D × daily rate on D)

where the overdue amount is its unpaid principal + unpaid interest after every
receipt with value date ≤ D (penalty does not compound). The day's figures are
recorded by ``PenaltyAccrued`` events, one per run, as lines of consecutive days
at one daily amount. Accruing a day twice changes nothing.

**Collection (催收).** The office assigns the overdue debt to a collector, who
writes collection logs. Applications (``domain.collection``) record their opening
and end here, so two of a kind for one machine never run side by side. An approved
**interest waiver** (利息减免, only once all principal and interest is received)
takes penalty off with ``PenaltyWaived``; waivers enter the replay on their day, in
one order with the confirmations. An approved **settlement** (结清, nothing
outstanding) closes the debt; the release of invoice and certificate follows.

**Backdated receipts and reversals.** Confirming a receipt (or reversing one)
replays the debt's whole timeline with every confirmed receipt on its value date
(``_Timeline``) and records the differences: ``PenaltyAdjusted`` lines for days
already accrued whose penalty changes, ``ReceiptReallocated`` for receipts whose
split changes, then the receipt's own ``ReceiptConfirmed``. The debt's figures
are therefore always exactly those of the replay, to the fen. Because of this,
every confirmed receipt has a value date no later than the day after the last
accrued day, which lets the daily run accrue new days from the current balances.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid4

from domain import ids
from domain.base import Context, DealerAggregate, DomainError, InvalidValueError, NotFoundError, PermissionDeniedError, require_text
from domain.coupons import CouponUse
from domain.contracts import (FIRST_DUE_WITHIN_DAYS, Contract, ContractAlreadyStartedError, PaymentMethod,
                              ScheduleMethod)
from domain.money import ZERO, require_money, round_fen
from domain.schedules import ScheduleLine, equal_installment, equal_principal, typed_schedule

ONE_DAY = timedelta(days=1)
MAX_DAILY_RATE = Decimal("0.01")     # 1 % a day; anything above is a typing error
MAX_GRACE_DAYS = 90


# ================================================================ penalty rates
@dataclass(frozen=True)
class PenaltyRate:
    """罚息率: a daily rate (a fraction: 0.0005 is 0.05 % a day) and grace days, in force
    from ``effective_from`` until the next rate's date."""

    effective_from: date
    daily_rate: Decimal
    grace_days: int = 0


@dataclass(frozen=True)
class PenaltyRates:
    """A company's rates in date order; ``on(day)`` is the one in force that day."""

    rates: tuple[PenaltyRate, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", [r.effective_from for r in self.rates])

    def on(self, day: date) -> PenaltyRate | None:
        i = bisect.bisect_right(self._starts, day)  # type: ignore[attr-defined]
        return self.rates[i - 1] if i else None


class PenaltyRateNotInFutureError(DomainError):
    code = "penalty-rate-not-in-future"
    status = 422


class PenaltyPolicy(DealerAggregate):
    """A member company's penalty rates. A rate takes effect from a later day than the
    one it is set on: days already accrued are never re-rated behind the office's back.
    Setting a rate for a date that already has one (still in the future) replaces it."""

    class Created(DealerAggregate.Created):
        rate: PenaltyRate

        def apply(self, policy: PenaltyPolicy) -> None:
            policy.company_id = self.company_id
            policy.rates = PenaltyRates((self.rate,))

    class RateSet(DealerAggregate.Event):
        rate: PenaltyRate

        def apply(self, policy: PenaltyPolicy) -> None:
            kept = [r for r in policy.rates.rates if r.effective_from != self.rate.effective_from]
            policy.rates = PenaltyRates(tuple(sorted([*kept, self.rate], key=lambda r: r.effective_from)))

    def refuse_second_creation(self) -> None:
        """Two first rates of one company set at once: the loser runs again and adds its rate."""
        return None

    @staticmethod
    def check_rate(ctx: Context, effective_from: date, daily_rate: Decimal | str, grace_days: int) -> PenaltyRate:
        rate = Decimal(str(daily_rate))
        if not rate.is_finite() or not 0 <= rate <= MAX_DAILY_RATE or rate != rate.quantize(Decimal("0.00000001")):
            raise InvalidValueError(f"The daily penalty rate is a fraction from 0 to {MAX_DAILY_RATE} with at most "
                                    "eight places (0.0005 for 0.05 % a day).", field="daily_rate")
        if not 0 <= grace_days <= MAX_GRACE_DAYS:
            raise InvalidValueError(f"Grace days are between 0 and {MAX_GRACE_DAYS}.", field="grace_days")
        if effective_from <= ctx.business_date:
            raise PenaltyRateNotInFutureError(
                f"A penalty rate takes effect after the day it is set ({ctx.business_date}); days already past "
                "keep the rate they had. Choose a later effective date.", field="effective_from")
        return PenaltyRate(effective_from, rate.normalize() if rate else Decimal("0"), grace_days)

    @classmethod
    def start(cls, ctx: Context, company_id: UUID, rate: PenaltyRate) -> PenaltyPolicy:
        return cls._start(cls.Created, ids.penalty_policy_id(company_id), ctx, company_id, rate=rate)

    def set_rate(self, ctx: Context, rate: PenaltyRate) -> None:
        self._record(self.RateSet, ctx, self.company_id, rate=rate)


# ================================================================ the debt's parts
class ItemKind(StrEnum):
    DOWN_PAYMENT = "down_payment"            # 首付
    INSTALLMENT = "installment"              # 分期款
    WARRANTY_DEPOSIT = "warranty_deposit"    # 质保金
    FULL_PAYMENT = "full_payment"            # 全款 of a cash sale


@dataclass(frozen=True)
class DebtItem:
    key: str                 # DP, I1 … In, WD, FULL
    kind: ItemKind
    due_date: date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest

    @property
    def rank(self) -> int:
        """Order among items due the same day: down payment, installments by number, deposit."""
        if self.kind == ItemKind.INSTALLMENT:
            return int(self.key[1:])
        return 10_000 if self.kind == ItemKind.WARRANTY_DEPOSIT else 0


class ReceiptMethod(StrEnum):
    CASH = "cash"                          # 现金
    BANK_TRANSFER = "bank_transfer"        # 银行转账
    ACCEPTANCE_BILL = "acceptance_bill"    # 承兑汇票
    CARD = "card"                          # POS 刷卡
    CHEQUE = "cheque"                      # 支票
    OTHER = "other"


class ReceiptStatus(StrEnum):
    RECORDED = "recorded"      # waiting for finance to confirm it
    CONFIRMED = "confirmed"    # counts
    REJECTED = "rejected"      # finance refused it before it counted
    REVERSED = "reversed"      # counted, then reversed with a reason


@dataclass(frozen=True)
class Allocation:
    """What one receipt paid on one item."""

    item_key: str
    penalty: Decimal
    interest: Decimal
    principal: Decimal

    @property
    def amount(self) -> Decimal:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class PenaltyLine:
    """Penalty of one item over consecutive days at one daily amount. In an adjustment
    ``daily_amount`` is the change per day (negative when a backdated receipt lowers
    it) and ``overdue`` / ``daily_rate`` are the corrected figures of those days."""

    item_key: str
    first_day: date
    last_day: date
    overdue: Decimal
    daily_rate: Decimal
    daily_amount: Decimal

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def amount(self) -> Decimal:
        return self.daily_amount * self.days

    def each_day(self) -> Iterator[date]:
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += ONE_DAY


@dataclass
class Receipt:
    receipt_id: UUID
    amount: Decimal
    value_date: date
    method: ReceiptMethod
    reference: str | None
    allocate_to: tuple[str, ...]
    recorded_by: UUID
    recorded_on: date
    status: ReceiptStatus = ReceiptStatus.RECORDED
    penalty_last: bool = False
    coupons: tuple[CouponUse, ...] = ()     # part of ``amount`` paid with coupons
    sequence: int = 0                      # order of confirmation, for receipts of one value date
    allocations: tuple[Allocation, ...] = ()


@dataclass
class Paid:
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    penalty: Decimal = ZERO


class DebtStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"          # the contract was un-approved while nothing was received
    SETTLED = "settled"        # 结清: everything received or waived, closed by an approved settlement


class ContactChannel(StrEnum):
    """How a collector reached the customer (催收方式)."""

    PHONE = "phone"            # 电话
    VISIT = "visit"            # 上门
    SMS = "sms"                # 短信
    WECHAT = "wechat"          # 微信
    LETTER = "letter"          # 函件 / 律师函
    OTHER = "other"


@dataclass(frozen=True)
class CollectionLog:
    """催收记录: one contact with the customer, as the collector wrote it."""

    log_id: UUID
    contact_date: date
    contact_person: str
    channel: ContactChannel
    result: str
    promised_date: date | None = None
    promised_amount: Decimal | None = None


@dataclass(frozen=True)
class WaiverLine:
    """Penalty of one item taken off by a waiver."""

    item_key: str
    amount: Decimal


@dataclass
class Waiver:
    application_id: UUID
    day: date                  # the approval's business date: from then on the penalty is lower
    sequence: int              # in the one order of confirmations and waivers
    lines: tuple[WaiverLine, ...]


@dataclass(frozen=True)
class OverdueFacts:
    """What is overdue on ``as_of``: recorded on a collection application so its approvers
    judge the facts of the day it was made."""

    as_of: date
    overdue_amount: Decimal          # unpaid principal and interest of items due before as_of
    days_past_due: int               # since the oldest such item fell due
    oldest_overdue_item: str | None
    principal_outstanding: Decimal   # unpaid principal and interest of every item
    penalty_outstanding: Decimal


# ================================================================ refusals
class DebtStateError(DomainError):
    code = "debt-state"


class ReceiptStateError(DomainError):
    code = "receipt-state"


class OverpaymentError(DomainError):
    code = "overpayment"
    status = 422


class ScheduleLockedError(DomainError):
    code = "schedule-locked"


class OwnReceiptError(PermissionDeniedError):
    code = "own-receipt"


class PenaltyDateError(DomainError):
    code = "penalty-date"
    status = 422


class DebtNotOverdueError(DomainError):
    code = "debt-not-overdue"


class PrincipalOutstandingError(DomainError):
    """利息减免 refused: principal (and interest) of the debt is not yet all received."""

    code = "principal-outstanding"


class WaiverExceedsPenaltyError(DomainError):
    code = "waiver-exceeds-penalty"
    status = 422


class WaiverConflictError(DomainError):
    """A receipt or reversal would make a waiver larger than the penalty it waived."""

    code = "waiver-conflict"


class DebtOutstandingError(DomainError):
    """结清 refused: something is still owed or waiting for confirmation."""

    code = "debt-outstanding"


class ApplicationPendingError(DomainError):
    code = "application-pending"


class DocumentsAlreadyReleasedError(DomainError):
    code = "documents-already-released"


class NothingChangedError(DomainError):
    code = "nothing-changed"


# ================================================================ the timeline
class _Book:
    """The items' balances while time runs: what each still owes and its penalty."""

    def __init__(self, items: Iterable[DebtItem]) -> None:
        self.items = {i.key: i for i in items}
        self.order = [i.key for i in sorted(self.items.values(), key=lambda i: (i.due_date, i.rank))]
        self.principal = {k: i.principal for k, i in self.items.items()}
        self.interest = {k: i.interest for k, i in self.items.items()}
        self.penalty = {k: ZERO for k in self.items}     # charged, not yet paid (nor waived)

    def pay(self, amount: Decimal, allocate_to: tuple[str, ...],
            penalty_last: bool = False) -> tuple[tuple[Allocation, ...], Decimal]:
        """Pays ``amount`` down: items in order, each penalty, interest, principal; with
        ``penalty_last`` every item's interest and principal first, then penalties.
        Answers the split and what is left over (above zero means over-payment)."""
        left = amount
        taken: dict[str, list[Decimal]] = {}
        passes = ((1, 2), (0,)) if penalty_last else ((0, 1, 2),)
        pots = (self.penalty, self.interest, self.principal)
        for wanted in passes:
            for key in (allocate_to or self.order):
                if left == 0:
                    break
                for n in wanted:
                    take = min(left, pots[n][key])
                    pots[n][key] -= take
                    left -= take
                    taken.setdefault(key, [ZERO, ZERO, ZERO])[n] += take
        allocations = tuple(Allocation(key, *parts) for key, parts in taken.items() if any(parts))
        return allocations, left

    def undo(self, allocations: Iterable[Allocation]) -> None:
        for a in allocations:
            self.penalty[a.item_key] += a.penalty
            self.interest[a.item_key] += a.interest
            self.principal[a.item_key] += a.principal

    def accrue(self, day: date, rate: PenaltyRate | None) -> list[tuple[str, Decimal, Decimal]]:
        """Day ``day``'s penalty per item: (item, overdue amount, amount), charged."""
        if rate is None or rate.daily_rate == 0:
            return []
        charged = []
        last_due = day - timedelta(days=rate.grace_days + 1)
        for key in self.order:
            if self.items[key].due_date > last_due:
                break
            overdue = self.principal[key] + self.interest[key]
            if overdue > 0:
                amount = round_fen(overdue * rate.daily_rate)
                if amount > 0:
                    self.penalty[key] += amount
                    charged.append((key, overdue, amount))
        return charged


@dataclass
class _Replay:
    allocations: dict[UUID, tuple[Allocation, ...]] = field(default_factory=dict)
    left_over: dict[UUID, Decimal] = field(default_factory=dict)
    # waivers larger than the penalty left on their day: (application, item, short by)
    waiver_conflicts: list[tuple[UUID, str, Decimal]] = field(default_factory=list)
    # (item, day) → (overdue, daily rate, amount)
    penalty: dict[tuple[str, date], tuple[Decimal, Decimal, Decimal]] = field(default_factory=dict)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def _lines(per_day: dict[tuple[str, date], tuple[Decimal, Decimal, Decimal]]) -> tuple[PenaltyLine, ...]:
    """Per-day figures merged into lines of consecutive days with the same figures."""
    lines: list[PenaltyLine] = []
    for (key, day), (overdue, rate, amount) in sorted(per_day.items()):
        last = lines[-1] if lines else None
        if (last is not None and last.item_key == key and last.last_day + ONE_DAY == day
                and (last.overdue, last.daily_rate, last.daily_amount) == (overdue, rate, amount)):
            lines[-1] = replace(last, last_day=day)
        else:
            lines.append(PenaltyLine(key, day, day, overdue, rate, amount))
    return tuple(lines)


# ================================================================ the debt
class Debt(DealerAggregate):
    """债权 / 应收: what the customer of one contract owes, has paid and is charged."""

    class Opened(DealerAggregate.Created):
        """The contract's approval opened its receivable (same command)."""

        contract_id: UUID
        contract_number: str
        contract_date: date
        customer_id: UUID
        owner_id: UUID
        payment: str
        financed: Decimal
        schedule_method: str | None      # None for a cash sale
        items: tuple[DebtItem, ...]

        def apply(self, debt: Debt) -> None:
            debt.contract_id = self.contract_id
            debt.contract_number = self.contract_number
            debt.company_id = self.company_id
            debt.owner_id = self.owner_id
            debt.receipts = {}
            debt.confirmations = 0
            debt._open(self)

    class Reopened(DealerAggregate.Event):
        """The contract was approved again after an un-approval: the receivable starts over
        from its (possibly changed) terms."""

        contract_date: date
        customer_id: UUID
        payment: str
        financed: Decimal
        schedule_method: str | None
        items: tuple[DebtItem, ...]

        def apply(self, debt: Debt) -> None:
            debt._open(self)

    class Closed(DealerAggregate.Event):
        """The contract was un-approved (same ``command_id``) while nothing was received."""

        def apply(self, debt: Debt) -> None:
            debt.status = DebtStatus.CLOSED

    class ScheduleSet(DealerAggregate.Event):
        """The installments, generated (``method`` equal_installment / equal_principal, with
        rate and term) or typed; they replace any earlier installments."""

        method: str
        annual_rate: Decimal | None
        months: int
        installments: tuple[DebtItem, ...]

        def apply(self, debt: Debt) -> None:
            kept = {k: i for k, i in debt.items.items() if i.kind != ItemKind.INSTALLMENT}
            debt.items = {**kept, **{i.key: i for i in self.installments}}
            # Installments are replaced only while untouched: nothing paid or charged is dropped.
            debt.paid = {k: debt.paid.get(k, Paid()) for k in debt.items}
            debt.penalty_charged = {k: debt.penalty_charged.get(k, ZERO) for k in debt.items}
            debt.penalty_waived = {k: debt.penalty_waived.get(k, ZERO) for k in debt.items}
            debt.schedule_method = self.method
            debt.schedule_pending = False

    class ReceiptRecorded(DealerAggregate.Event):
        receipt_id: UUID
        amount: Decimal
        value_date: date
        method: str
        reference: str | None
        allocate_to: tuple[str, ...]
        # Pays interest and principal of every item before any penalty (the customer pays
        # the principal and asks for the penalty to be waived). Added with a default, so a
        # receipt recorded before it existed reads as it always did.
        penalty_last: bool = False
        # Part of ``amount`` paid with coupons (the coupons' Redeemed events are saved with it).
        coupons: tuple[CouponUse, ...] = ()

        def apply(self, debt: Debt) -> None:
            debt.receipts[self.receipt_id] = Receipt(self.receipt_id, self.amount, self.value_date,
                                                     ReceiptMethod(self.method), self.reference, self.allocate_to,
                                                     self.actor_id, self.business_date,
                                                     penalty_last=self.penalty_last, coupons=self.coupons)

    class ReceiptRejected(DealerAggregate.Event):
        """Finance refused a recorded receipt before it counted; ``reason`` says why."""

        receipt_id: UUID

        def apply(self, debt: Debt) -> None:
            debt.receipts[self.receipt_id].status = ReceiptStatus.REJECTED

    class ReceiptConfirmed(DealerAggregate.Event):
        """收款确认: the receipt counts, split over the items as ``allocations``."""

        receipt_id: UUID
        allocations: tuple[Allocation, ...]

        def apply(self, debt: Debt) -> None:
            receipt = debt.receipts[self.receipt_id]
            debt.confirmations += 1
            receipt.status = ReceiptStatus.CONFIRMED
            receipt.sequence = debt.confirmations
            debt._book_allocations(receipt, self.allocations)

    class ReceiptReallocated(DealerAggregate.Event):
        """An earlier-dated receipt, a reversal (``caused_by`` is that receipt) or a schedule set
        later (``caused_by`` is that command) changed what this confirmed receipt pays:
        ``allocations`` is its whole new split."""

        receipt_id: UUID
        caused_by: UUID
        allocations: tuple[Allocation, ...]

        def apply(self, debt: Debt) -> None:
            debt._book_allocations(debt.receipts[self.receipt_id], self.allocations)

    class ReceiptReversed(DealerAggregate.Event):
        """A confirmed receipt no longer counts; ``reason`` says why."""

        receipt_id: UUID

        def apply(self, debt: Debt) -> None:
            receipt = debt.receipts[self.receipt_id]
            debt._book_allocations(receipt, ())
            receipt.status = ReceiptStatus.REVERSED

    class PenaltyAccrued(DealerAggregate.Event):
        """罚息: the penalty of the days up to ``through`` not accrued before."""

        through: date
        lines: tuple[PenaltyLine, ...]

        def apply(self, debt: Debt) -> None:
            debt._charge(self.lines)
            debt.accrued_through = self.through

    class PenaltyAdjusted(DealerAggregate.Event):
        """Penalty of days already accrued, corrected because a receipt dated on or before
        them was confirmed or reversed (``caused_by`` is that receipt), or because a schedule
        set later has installments due before them (``caused_by`` is that command)."""

        caused_by: UUID
        lines: tuple[PenaltyLine, ...]

        def apply(self, debt: Debt) -> None:
            debt._charge(self.lines)

    # ------------------------------------------------------------ collection (催收)
    class CollectorAssigned(DealerAggregate.Event):
        """催收派工: the office gives the overdue debt to a collector (replacing any earlier one)."""

        collector_id: UUID
        collector_name: str

        def apply(self, debt: Debt) -> None:
            debt.collector_id = self.collector_id

    class CollectionLogged(DealerAggregate.Event):
        """催收记录: a contact with the customer, written by the collector (``actor_id``)."""

        log: CollectionLog

    class ApplicationOpened(DealerAggregate.Event):
        """A collection application (waiver, lock, unlock, tow, settlement) was made for this debt;
        another of the same kind for the same machine waits until it ends."""

        application_id: UUID
        document_type: str
        serial_number: str | None

        def apply(self, debt: Debt) -> None:
            debt.pending_applications[(self.document_type, self.serial_number)] = self.application_id

    class ApplicationClosed(DealerAggregate.Event):
        """The application ended: ``outcome`` is rejected, or what was done."""

        application_id: UUID
        outcome: str

        def apply(self, debt: Debt) -> None:
            debt.pending_applications = {k: v for k, v in debt.pending_applications.items()
                                         if v != self.application_id}

    class PenaltyWaived(DealerAggregate.Event):
        """利息减免: an approved waiver takes ``lines`` off the penalty outstanding, from this
        day on. Nothing recorded before is edited."""

        application_id: UUID
        lines: tuple[WaiverLine, ...]

        def apply(self, debt: Debt) -> None:
            debt.confirmations += 1
            debt.waivers.append(Waiver(self.application_id, self.business_date, debt.confirmations, self.lines))
            for line in self.lines:
                debt.penalty_waived[line.item_key] = debt.penalty_waived.get(line.item_key, ZERO) + line.amount

    class Settled(DealerAggregate.Event):
        """结清: everything received or waived; closed by an approved settlement application."""

        application_id: UUID

        def apply(self, debt: Debt) -> None:
            debt.status = DebtStatus.SETTLED
            debt.settled_by = self.application_id

    class DocumentsReleased(DealerAggregate.Event):
        """After settlement the customer received the invoice (发票) and the certificate of
        conformity (合格证)."""

        invoice_number: str
        certificate_number: str
        released_to: str

        def apply(self, debt: Debt) -> None:
            debt.documents_released = True

    def refuse_second_creation(self) -> None:
        """Only a contract's approval opens its receivable: two openings at once mean two
        approvals raced, and the loser runs again and meets the contract's own state."""
        return None

    # ------------------------------------------------------------ state helpers
    def _open(self, e: Debt.Opened | Debt.Reopened) -> None:
        self.status = DebtStatus.OPEN
        self.contract_date = e.contract_date
        self.customer_id = e.customer_id
        self.payment = PaymentMethod(e.payment)
        self.financed = e.financed
        self.schedule_method = e.schedule_method
        self.schedule_pending = e.schedule_method == ScheduleMethod.TYPED
        self.items = {i.key: i for i in e.items}
        self.paid = {k: Paid() for k in self.items}
        self.penalty_charged = {k: ZERO for k in self.items}
        self.penalty_lines: list[PenaltyLine] = []
        self.opened_on = e.business_date
        self.accrued_through = e.business_date
        self.waivers: list[Waiver] = []
        self.penalty_waived = {k: ZERO for k in self.items}
        self.pending_applications: dict[tuple[str, str | None], UUID] = {}
        self.collector_id: UUID | None = None
        self.settled_by: UUID | None = None
        self.documents_released = False

    def _book_allocations(self, receipt: Receipt, allocations: tuple[Allocation, ...]) -> None:
        for sign, allocs in ((-1, receipt.allocations), (1, allocations)):
            for a in allocs:
                paid = self.paid[a.item_key]
                paid.penalty += sign * a.penalty
                paid.interest += sign * a.interest
                paid.principal += sign * a.principal
        receipt.allocations = allocations

    def _charge(self, lines: tuple[PenaltyLine, ...]) -> None:
        for line in lines:
            self.penalty_charged[line.item_key] = self.penalty_charged.get(line.item_key, ZERO) + line.amount
            self._keep_line(line)

    def _keep_line(self, line: PenaltyLine) -> None:
        """Keeps the penalty line, joined to the item's previous line when it simply carries
        it on (the next day, same overdue, rate and amount): a debt overdue for years keeps
        one line per change, not one per day, so it loads (and snapshots) small."""
        for n in range(len(self.penalty_lines) - 1, -1, -1):
            last = self.penalty_lines[n]
            if last.item_key != line.item_key:
                continue
            if (last.last_day + ONE_DAY == line.first_day and last.overdue == line.overdue
                    and last.daily_rate == line.daily_rate and last.daily_amount == line.daily_amount):
                self.penalty_lines[n] = replace(last, last_day=line.last_day)
                return
            break
        self.penalty_lines.append(line)

    # ------------------------------------------------------------ reading
    @property
    def active_receipts(self) -> list[Receipt]:
        """Confirmed receipts, in the order they apply: value date, then confirmation."""
        return sorted((r for r in self.receipts.values() if r.status == ReceiptStatus.CONFIRMED),
                      key=lambda r: (r.value_date, r.sequence))

    def outstanding(self, key: str) -> Decimal:
        """Unpaid principal and interest of an item."""
        item, paid = self.items[key], self.paid[key]
        return item.principal - paid.principal + item.interest - paid.interest

    def penalty_outstanding(self, key: str) -> Decimal:
        return self.penalty_charged.get(key, ZERO) - self.paid[key].penalty - self.penalty_waived.get(key, ZERO)

    @property
    def total_outstanding(self) -> Decimal:
        return sum((self.outstanding(k) + self.penalty_outstanding(k) for k in self.items), ZERO)

    @property
    def received(self) -> Decimal:
        return sum((r.amount for r in self.active_receipts), ZERO)

    def _current_book(self) -> _Book:
        book = _Book(self.items.values())
        for key, paid in self.paid.items():
            book.principal[key] -= paid.principal
            book.interest[key] -= paid.interest
            book.penalty[key] = self.penalty_outstanding(key)
        return book

    def _replay(self, receipts: Sequence[Receipt], rates: PenaltyRates, through: date) -> _Replay:
        """The debt's timeline from its opening, with ``receipts`` on their value dates and the
        penalty of each day up to ``through``: the figures everything recorded must equal."""
        book = _Book(self.items.values())
        replay = _Replay()
        by_day: dict[date, list[Receipt | Waiver]] = {}
        for receipt in receipts:
            by_day.setdefault(receipt.value_date, []).append(receipt)
        for waiver in self.waivers:
            by_day.setdefault(waiver.day, []).append(waiver)
        first_penalty_day = self.opened_on + ONE_DAY
        first = min([first_penalty_day, *by_day])
        last = max([through, *by_day])
        for day in _days(first, last):
            # Receipts and waivers of one day in the order they were confirmed / approved.
            for fact in sorted(by_day.get(day, ()), key=lambda f: f.sequence):
                if isinstance(fact, Waiver):
                    for line in fact.lines:
                        if book.penalty[line.item_key] < line.amount:
                            replay.waiver_conflicts.append(
                                (fact.application_id, line.item_key, line.amount - book.penalty[line.item_key]))
                        book.penalty[line.item_key] = max(ZERO, book.penalty[line.item_key] - line.amount)
                    continue
                replay.allocations[fact.receipt_id], left = book.pay(fact.amount, fact.allocate_to, fact.penalty_last)
                if left:
                    replay.left_over[fact.receipt_id] = left
            if first_penalty_day <= day <= through:
                rate = rates.on(day)
                for key, overdue, amount in book.accrue(day, rate):
                    assert rate is not None
                    replay.penalty[(key, day)] = (overdue, rate.daily_rate, amount)
        return replay

    def recorded_penalty(self) -> dict[tuple[str, date], Decimal]:
        """The penalty recorded per item and day, net of adjustments."""
        per_day: dict[tuple[str, date], Decimal] = {}
        for line in self.penalty_lines:
            for day in line.each_day():
                per_day[(line.item_key, day)] = per_day.get((line.item_key, day), ZERO) + line.daily_amount
        return {k: v for k, v in per_day.items() if v != 0}

    # ------------------------------------------------------------ opening and closing
    @classmethod
    def open_for(cls, ctx: Context, contract: Contract) -> Debt:
        return cls._start(cls.Opened, ids.debt_id(contract.id), ctx, contract.company_id,
                          contract_id=contract.id, contract_number=contract.number, owner_id=contract.owner_id,
                          **cls._terms_of(ctx, contract))

    def reopen_for(self, ctx: Context, contract: Contract) -> None:
        if self.status != DebtStatus.CLOSED:
            raise DebtStateError(f"The receivable of contract {self.contract_number} is already open.",
                                 state=str(self.status))
        self._record(self.Reopened, ctx, self.company_id, **self._terms_of(ctx, contract))

    @staticmethod
    def _terms_of(ctx: Context, contract: Contract) -> dict:
        terms = contract.terms
        assert terms is not None, "an approved contract has its terms"
        today = ctx.business_date
        items: list[DebtItem] = []
        if terms.payment == PaymentMethod.CASH:
            full = contract.total_amount - terms.warranty_deposit
            items.append(DebtItem("FULL", ItemKind.FULL_PAYMENT, today, full, ZERO))
            financed, method = ZERO, None
        else:
            assert terms.installment is not None
            financed = contract.total_amount - terms.down_payment - terms.warranty_deposit
            if terms.down_payment > 0:
                items.append(DebtItem("DP", ItemKind.DOWN_PAYMENT, today, terms.down_payment, ZERO))
            loan = terms.installment
            method = str(loan.method)
            if loan.method != ScheduleMethod.TYPED:
                items.extend(_installments(_generate(loan.method, financed, loan.annual_rate, loan.months,
                                                     loan.first_due_date)))
        if terms.warranty_deposit > 0:
            assert terms.warranty_due_date is not None
            items.append(DebtItem("WD", ItemKind.WARRANTY_DEPOSIT, terms.warranty_due_date,
                                  terms.warranty_deposit, ZERO))
        return {"contract_date": contract.drafted_on, "customer_id": contract.customer_id,
                "payment": str(terms.payment), "financed": financed, "schedule_method": method,
                "items": tuple(items)}

    def close_for_unapproval(self, ctx: Context) -> None:
        """Un-approval closes the receivable, refused once money was received (or is waiting
        for confirmation) under it."""
        if self.status == DebtStatus.CLOSED:
            return
        if self.active_receipts:
            raise ContractAlreadyStartedError(
                f"{self.received} was received under contract {self.contract_number}; reverse the receipts "
                "before un-approving it.")
        if pending := [r for r in self.receipts.values() if r.status == ReceiptStatus.RECORDED]:
            raise ContractAlreadyStartedError(
                f"Contract {self.contract_number} has {len(pending)} receipt(s) waiting for confirmation; "
                "finance confirms (then reverses) or rejects them first.")
        self._record(self.Closed, ctx, self.company_id)

    def _require_open(self, act: str) -> None:
        if self.status != DebtStatus.OPEN:
            why = ("the contract was un-approved" if self.status == DebtStatus.CLOSED
                   else "everything was received or waived and its settlement approved")
            raise DebtStateError(f"The receivable of contract {self.contract_number} is {self.status} ({why}); "
                                 f"it cannot be {act}.", state=str(self.status))

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


    # ------------------------------------------------------------ collection (催收)
    def overdue_facts(self, as_of: date) -> OverdueFacts:
        overdue = [k for k in self.item_order() if self.items[k].due_date < as_of and self.outstanding(k) > 0]
        oldest = overdue[0] if overdue else None
        return OverdueFacts(
            as_of=as_of,
            overdue_amount=sum((self.outstanding(k) for k in overdue), ZERO),
            days_past_due=(as_of - self.items[oldest].due_date).days if oldest else 0,
            oldest_overdue_item=oldest,
            principal_outstanding=sum((self.outstanding(k) for k in self.items), ZERO),
            penalty_outstanding=sum((self.penalty_outstanding(k) for k in self.items), ZERO))

    def require_overdue(self, ctx: Context, act: str) -> OverdueFacts:
        self._require_open(act)
        facts = self.overdue_facts(ctx.business_date)
        if facts.overdue_amount <= 0:
            raise DebtNotOverdueError(f"Nothing of contract {self.contract_number} is overdue on {ctx.business_date}; "
                                      f"it cannot be {act}.")
        return facts

    def assign_collector(self, ctx: Context, collector_id: UUID, collector_name: str) -> None:
        self.require_overdue(ctx, "given to a collector")
        if collector_id == self.collector_id:
            raise NothingChangedError(f"{collector_name} already collects contract {self.contract_number}.")
        self._record(self.CollectorAssigned, ctx, self.company_id, collector_id=collector_id,
                     collector_name=collector_name)

    def write_log(self, ctx: Context, contact_date: date, contact_person: str, channel: ContactChannel,
                  result: str, promised_date: date | None = None, promised_amount: Decimal | None = None,
                  log_id: UUID | None = None) -> UUID:
        self._require_open("given a collection log")
        if contact_date > ctx.business_date:
            raise InvalidValueError(f"The contact date {contact_date} is in the future; write the log after the "
                                    "contact.", field="contact_date")
        if contact_date < self.opened_on:
            raise InvalidValueError(f"The contact date {contact_date} is before the receivable opened "
                                    f"({self.opened_on}).", field="contact_date")
        if promised_date is not None and promised_date < contact_date:
            raise InvalidValueError("The promised payment date is on or after the contact date.",
                                    field="promised_date")
        if promised_amount is not None:
            promised_amount = require_money(promised_amount, "promised_amount", positive=True)
            if promised_date is None:
                raise InvalidValueError("A promised amount comes with the promised payment date.",
                                        field="promised_date")
        log = CollectionLog(log_id or uuid4(), contact_date, require_text(contact_person, "contact_person", 100),
                            ContactChannel(channel), require_text(result, "result", 2000), promised_date,
                            promised_amount)
        self._record(self.CollectionLogged, ctx, self.company_id, log=log)
        return log.log_id

    def open_application(self, ctx: Context, application_id: UUID, document_type: str,
                         serial_number: str | None) -> None:
        # A machine still locked when the debt is settled can be unlocked after it.
        if not (self.status == DebtStatus.SETTLED and document_type == "machine_unlock"):
            self._require_open("given a collection application")
        pending = self.pending_applications.get((document_type, serial_number))
        if pending is not None:
            what = f"{document_type.replace('_', ' ')}" + (f" of machine {serial_number}" if serial_number else "")
            raise ApplicationPendingError(f"A {what} application ({pending}) of contract {self.contract_number} is "
                                          "still open; it is decided or finished first.",
                                          application_id=str(pending))
        self._record(self.ApplicationOpened, ctx, self.company_id, application_id=application_id,
                     document_type=document_type, serial_number=serial_number)

    def close_application(self, ctx: Context, application_id: UUID, outcome: str) -> None:
        if application_id in self.pending_applications.values():
            self._record(self.ApplicationClosed, ctx, self.company_id, application_id=application_id, outcome=outcome)

    def check_waiver(self, amount: Decimal) -> Decimal:
        """利息减免 only once every item's principal and interest is received, and for no more
        than the penalty outstanding."""
        self._require_open("given a waiver")
        amount = require_money(amount, "amount", positive=True)
        if waiting := [r for r in self.receipts.values() if r.status == ReceiptStatus.RECORDED]:
            raise DebtOutstandingError(f"Contract {self.contract_number} has {len(waiting)} receipt(s) waiting for "
                                       "confirmation; finance confirms or rejects them before a waiver.")
        unpaid = sum((self.outstanding(k) for k in self.items), ZERO)
        if unpaid > 0:
            raise PrincipalOutstandingError(
                f"{unpaid} of principal and interest of contract {self.contract_number} is still unpaid; penalty "
                "interest is waived only once all of it is received.", principal_outstanding=unpaid)
        penalty = sum((self.penalty_outstanding(k) for k in self.items), ZERO)
        if amount > penalty:
            raise WaiverExceedsPenaltyError(f"{amount} is more than the penalty outstanding on contract "
                                            f"{self.contract_number} ({penalty}).", penalty_outstanding=penalty,
                                            field="amount")
        return amount

    def waive_penalty(self, ctx: Context, application_id: UUID, amount: Decimal) -> None:
        """Takes ``amount`` off the penalty outstanding, oldest item first."""
        left = self.check_waiver(amount)
        lines = []
        for key in self.item_order():
            take = min(left, self.penalty_outstanding(key))
            if take > 0:
                lines.append(WaiverLine(key, take))
                left -= take
        self._record(self.PenaltyWaived, ctx, self.company_id, application_id=application_id, lines=tuple(lines))
        self.close_application(ctx, application_id, "waived")

    def check_settlement(self, application_id: UUID | None = None) -> None:
        self._require_open("settled")
        if others := [a for a in self.pending_applications.values() if a != application_id]:
            raise DebtOutstandingError(f"Contract {self.contract_number} has {len(others)} collection application(s) "
                                       f"still open ({', '.join(map(str, others))}); they are decided or finished "
                                       "before settlement.", application_id=str(others[0]))
        if waiting := [r for r in self.receipts.values() if r.status == ReceiptStatus.RECORDED]:
            raise DebtOutstandingError(f"Contract {self.contract_number} has {len(waiting)} receipt(s) waiting for "
                                       "confirmation; finance confirms or rejects them before settlement.")
        owed = {k: self.outstanding(k) + self.penalty_outstanding(k) for k in self.item_order()}
        if owed := {k: v for k, v in owed.items() if v > 0}:
            raise DebtOutstandingError(
                f"Contract {self.contract_number} still owes {sum(owed.values(), ZERO)} "
                f"({', '.join(f'{k} {v}' for k, v in owed.items())}); it is settled once everything is received "
                "or waived.", outstanding=sum(owed.values(), ZERO))

    def settle(self, ctx: Context, application_id: UUID) -> None:
        self.check_settlement(application_id)
        self._record(self.Settled, ctx, self.company_id, application_id=application_id)
        self.close_application(ctx, application_id, "settled")

    def release_documents(self, ctx: Context, invoice_number: str, certificate_number: str, released_to: str) -> None:
        if self.status != DebtStatus.SETTLED:
            raise DebtStateError(f"The receivable of contract {self.contract_number} is {self.status}; the invoice "
                                 "and certificate are released after settlement.", state=str(self.status))
        if self.documents_released:
            raise DocumentsAlreadyReleasedError(f"The documents of contract {self.contract_number} were already "
                                                "released.")
        self._record(self.DocumentsReleased, ctx, self.company_id,
                     invoice_number=require_text(invoice_number, "invoice_number", 100),
                     certificate_number=require_text(certificate_number, "certificate_number", 100),
                     released_to=require_text(released_to, "released_to", 100))


def _generate(method: ScheduleMethod | str, financed: Decimal, annual_rate: Decimal, months: int,
              first_due: date) -> tuple[ScheduleLine, ...]:
    if ScheduleMethod(method) == ScheduleMethod.EQUAL_INSTALLMENT:
        return equal_installment(financed, annual_rate, months, first_due)
    return equal_principal(financed, annual_rate, months, first_due)


def _installments(lines: Sequence[ScheduleLine]) -> tuple[DebtItem, ...]:
    return tuple(DebtItem(f"I{n}", ItemKind.INSTALLMENT, line.due_date, line.principal, line.interest)
                 for n, line in enumerate(lines, 1))
