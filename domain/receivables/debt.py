"""The ``Debt`` aggregate (债权 / 应收): its events, how they change its state, and its opening
and closing with its contract. What it does between is in its mixins: ``balances``
(reading), ``timeline`` (schedule, receipts, daily run) and ``collection``.

Its stored topics name the package: ``__module__ = "domain.receivables"`` (see the package's ``__init__``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID

from domain import ids
from domain.base import Context, DealerAggregate
from domain.contracts import ApprovedSale, ContractAlreadyStartedError, PaymentMethod, ScheduleMethod
from domain.coupons import CouponUse
from domain.money import ZERO
from domain.receivables.balances import DebtBalances
from domain.receivables.collection import DebtCollection
from domain.receivables.errors import DebtStateError
from domain.receivables.timeline import DebtTimeline, _generate, _installments
from domain.receivables.values import (ONE_DAY, Allocation, CollectionLog, DebtItem, DebtStatus, ItemKind, Paid,
                                       PenaltyLine, Receipt, ReceiptMethod, ReceiptStatus, Waiver, WaiverLine)


# ================================================================ the debt
# Its behaviour is split over mixins of sibling modules (reading, the timeline, collection);
# every event stays nested here, so its stored topic stays domain.receivables:Debt.X.
class Debt(DebtBalances, DebtTimeline, DebtCollection, DealerAggregate):
    """债权 / 应收: what the customer of one contract owes, has paid and is charged."""

    __module__ = "domain.receivables"

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

    # ------------------------------------------------------------ opening and closing
    @classmethod
    def open_for(cls, ctx: Context, sale: ApprovedSale) -> Debt:
        return cls._start(cls.Opened, ids.debt_id(sale.contract_id), ctx, sale.company_id,
                          contract_id=sale.contract_id, contract_number=sale.contract_number,
                          owner_id=sale.owner_id, **cls._terms_of(ctx, sale))

    def reopen_for(self, ctx: Context, sale: ApprovedSale) -> None:
        if self.status != DebtStatus.CLOSED:
            raise DebtStateError(f"The receivable of contract {self.contract_number} is already open.",
                                 state=str(self.status))
        self._record(self.Reopened, ctx, self.company_id, **self._terms_of(ctx, sale))

    @classmethod
    def _terms_of(cls, ctx: Context, sale: ApprovedSale) -> dict:
        return cls.opening_of(sale, ctx.business_date)

    @staticmethod
    def opening_of(sale: ApprovedSale, today: date) -> dict:
        """What the receivable of ``sale`` opens with on ``today``: its items (full payment,
        or down payment and installments), the financed amount and the schedule method.
        Also the clerk's schedule preview before the terms are saved."""
        terms = sale.terms
        items: list[DebtItem] = []
        if terms.payment == PaymentMethod.CASH:
            full = sale.total_amount - terms.warranty_deposit
            items.append(DebtItem("FULL", ItemKind.FULL_PAYMENT, today, full, ZERO))
            financed, method = ZERO, None
        else:
            assert terms.installment is not None
            financed = sale.total_amount - terms.down_payment - terms.warranty_deposit
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
        return {"contract_date": sale.drafted_on, "customer_id": sale.customer_id,
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
