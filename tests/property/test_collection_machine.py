"""A hypothesis state machine over one receivable (``Debt``) and its collection, pure domain, no
store: the business date moves on and the nightly run accrues penalties; receipts (normal, or
``penalty_last``: interest and principal of every item before any penalty) are recorded for
random amounts within what is owed, with value dates between the contract date and today, and
confirmed by someone else at once or later (or rejected); confirmed receipts are reversed;
interest waivers (利息减免) and settlements (结清) are applied for, and decided at once or some
steps later, through the debt's collection applications (``open_application`` /
``close_application``).

Whatever the sequence, after every step:

- money is neither made nor lost, item by item: penalty charged = penalty paid + penalty
  waived + penalty outstanding, principal + interest = paid + outstanding, none negative; the
  debt as a whole: charged = received + waived + outstanding;
- the total waived never exceeds the total penalty charged, and is what the approved waivers
  asked for;
- the penalty recorded for each item and day, and each receipt's split, are those of replaying
  the whole timeline (receipts and waivers in one order), and the replay finds no waiver larger
  than the penalty left on its day (the check of ``test_receivables_machine``, reused, plus
  that one);
- the debt rebuilt from every event it recorded equals the live one, waivers, applications and
  settlement included;
- a refused command (any ``DomainError``) recorded nothing and left every figure as it was;
- once settled: the debt is ``settled``, owes nothing, accrues nothing and takes no receipt
  (refused with ``debt-state``).

The model predicts every refusal of a waiver (``debt-outstanding`` while a receipt waits,
``principal-outstanding``, ``waiver-exceeds-penalty``, ``application-pending``, ``debt-state``)
and of a settlement (``debt-outstanding`` while anything is owed, a receipt waits or another
application is open; ``debt-state``) from the debt's figures.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import event
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.base import DomainError, InvalidValueError
from domain.money import ZERO
from domain.receivables import (ApplicationPendingError, Debt, DebtOutstandingError, DebtStateError, DebtStatus,
                                OverpaymentError, PenaltyPolicy, PrincipalOutstandingError, ReceiptMethod,
                                ReceiptStatus, WaiverConflictError, WaiverExceedsPenaltyError)
from tests.property.test_receivables_machine import (CASH, CLERK, COMPANY, FINANCE, INSTALLMENT, ONE_DAY, RATES,
                                                     START, Receivables, _ctx, _figures, _open)

MANAGER = UUID("50000000-0000-5000-8000-000000000004")    # decides collection applications
HORIZON = START + timedelta(days=120)
WAIVER, SETTLEMENT = "interest_waiver", "settlement"
FEN = Decimal("0.01")
# The refusals a collection command may meet; which one (if any) the model predicts.
REFUSALS = (PrincipalOutstandingError, WaiverExceedsPenaltyError, DebtOutstandingError, DebtStateError,
            ApplicationPendingError)


def _collection_figures(debt: Debt) -> tuple:
    """Everything a reader of the debt sees, collection included (a deep copy: events mutate
    dicts and lists of the live object in place)."""
    return copy.deepcopy((
        _figures(debt), debt.penalty_waived,
        [(w.application_id, w.day, w.sequence, w.lines) for w in debt.waivers],
        debt.pending_applications, debt.settled_by, debt.penalty_lines))


def _unpaid(debt: Debt) -> Decimal:
    return sum((debt.outstanding(k) for k in debt.items), ZERO)


def _penalty(debt: Debt) -> Decimal:
    return sum((debt.penalty_outstanding(k) for k in debt.items), ZERO)


class Collection(RuleBasedStateMachine):
    """One debt. Holds ``debts`` / ``events`` / ``today`` / ``policy`` as ``Receivables`` does,
    so that machine's accrual step and replay and balance checks run here unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.today = START
        self.debts: list[Debt] = []
        self.events: list[list[Any]] = []
        self.statuses: dict[UUID, ReceiptStatus] = {}     # the model: what each receipt should be
        self.waived = ZERO                                # the model: what approved waivers took off
        self.pending: dict[str, tuple[UUID, Decimal]] = {}   # open applications: kind → (id, amount)
        self.ids = 0

    @initialize(cash=st.booleans(), rate=st.sampled_from(RATES[2:]), grace=st.integers(0, 3),
                late=st.sampled_from([0, 20, 45]))
    def open_the_debt(self, cash: bool, rate: str, grace: int, late: int) -> None:
        """Often some weeks have gone by unpaid: there is penalty to pay, or to waive."""
        before = _ctx(START - timedelta(days=20))
        self.policy = PenaltyPolicy.start(before, COMPANY, PenaltyPolicy.check_rate(
            before, START - timedelta(days=10), rate, grace))
        self.policy.collect_events()
        debt = _open(CASH if cash else INSTALLMENT, self._new_id())
        self.debts.append(debt)
        self.events.append(list(debt.collect_events()))
        if late:
            self.advance_the_business_date(late, nightly=True)

    # ------------------------------------------------------------ helpers
    @property
    def debt(self) -> Debt:
        return self.debts[0]

    @property
    def settled(self) -> bool:
        return self.debt.status == DebtStatus.SETTLED

    def _new_id(self) -> UUID:
        self.ids += 1
        return UUID(int=self.ids)

    def _attempt(self, command: Callable[[], object], *allowed: type[DomainError]) -> DomainError | None:
        """Runs the command: None if it went through (its events are kept), else the refusal,
        one of ``allowed``, after which nothing was recorded and no figure moved."""
        debt = self.debt
        version, before = debt.version, _collection_figures(debt)
        try:
            command()
        except allowed as refused:
            assert list(debt.collect_events()) == [] and debt.version == version, \
                f"the refusal {refused.code} recorded something"
            assert _collection_figures(debt) == before, f"the refusal {refused.code} changed the debt's figures"
            event(f"refused: {refused.code}")
            return refused
        recorded = list(debt.collect_events())
        for e in recorded:
            event(f"recorded {type(e).__name__}")
        self.events[0].extend(recorded)
        return None

    def _receipts(self, status: ReceiptStatus) -> list[UUID]:
        """In the order they were recorded (ids are not random: a run must replay exactly)."""
        return [rid for rid, r in self.debt.receipts.items() if r.status == status]

    # ------------------------------------------------------------ the days go by
    @rule(days=st.integers(1, 12), nightly=st.booleans())
    def advance_the_business_date(self, days: int, nightly: bool) -> None:
        """The nightly job (usually) accrues through yesterday; a settled debt accrues nothing."""
        self.today = min(HORIZON, self.today + timedelta(days=days))
        if nightly or self.settled:
            accrued = self.debt.accrued_through
            Receivables._accrue(self, 0, self.today - ONE_DAY)   # type: ignore[arg-type]
            if self.settled:
                assert self.debt.accrued_through == accrued, "a settled debt accrued penalty"

    # ------------------------------------------------------------ receipts
    @rule(how=st.sampled_from(["part", "part", "principal", "principal", "all"]), share=st.integers(1, 1000),
          back=st.one_of(st.just(0), st.integers(1, 40)), penalty_last=st.booleans(),
          confirm_now=st.sampled_from([True, True, True, False]),
          then=st.sampled_from([None, None, "waive all", "waive part", "waive all and settle", "settle"]))
    def record_a_receipt(self, how: str, share: int, back: int, penalty_last: bool, confirm_now: bool,
                         then: str | None) -> None:
        """Part of what is owed (and not yet waiting), all the principal and interest left, or
        everything; usually confirmed at once. Nothing left to pay: a cent, refused. Then
        (often, as a customer who pays penalty last does) the penalty is applied to be waived,
        or the debt to be settled."""
        debt = self.debt
        value_date = max(debt.contract_date, self.today - timedelta(days=back))
        waiting = sum((debt.receipts[r].amount for r in self._receipts(ReceiptStatus.RECORDED)), ZERO)
        owed = debt.total_outstanding - waiting
        if how == "principal":
            amount = min(owed, _unpaid(debt))
        elif how == "part":
            amount = max(FEN, (owed * share / 1000).quantize(FEN))
        else:
            amount = owed
        if amount <= 0:
            amount = FEN
        receipt_id = self._new_id()
        refused = self._attempt(lambda: debt.record_receipt(_ctx(self.today, CLERK), receipt_id, amount, value_date,
                                                            ReceiptMethod.BANK_TRANSFER, penalty_last=penalty_last),
                                OverpaymentError, DebtStateError)
        if self.settled:
            assert refused is not None and refused.code == "debt-state", "a settled debt took a receipt"
            return
        assert (refused is None) == (amount <= owed), f"record of {amount} against {owed} owed: {refused}"
        if refused is None:
            self.statuses[receipt_id] = ReceiptStatus.RECORDED
            event("penalty-last receipt" if penalty_last else "receipt")
            if debt.waivers and value_date < max(w.day for w in debt.waivers):
                event("receipt dated before a waiver")
            if confirm_now:
                self._confirm(receipt_id)
            if then == "settle":
                self.apply_for_settlement(decide_now=True)
            elif then:
                self.apply_for_a_waiver(then.split()[1], share, decide_now=True, then_settle=then.endswith("settle"))

    @rule(back=st.one_of(st.just(0), st.integers(1, 40)),
          then=st.sampled_from(["waive all and settle", "waive all", "waive part"]), share=st.integers(1, 1000))
    def pay_the_principal_and_ask_for_a_waiver(self, back: int, then: str, share: int) -> None:
        """The customer pays every item's principal and interest left, penalty last, and asks
        for the penalty to be waived (approved at once, and perhaps the debt settled)."""
        self.record_a_receipt("principal", share, back, penalty_last=True, confirm_now=True, then=then)

    def _confirm(self, receipt_id: UUID) -> None:
        """By finance. Refused as an over-payment (a backdated receipt may find less to pay) or
        as a waiver conflict (it would pay, before a waiver's day, penalty that waiver took off)."""
        debt = self.debt
        receipt = debt.receipts[receipt_id]
        refused = self._attempt(lambda: debt.confirm_receipt(_ctx(self.today, FINANCE), receipt_id,
                                                             self.policy.rates),
                                OverpaymentError, WaiverConflictError)
        if refused is None:
            self.statuses[receipt_id] = ReceiptStatus.CONFIRMED
            event("receipt confirmed")
        elif isinstance(refused, WaiverConflictError):
            event("backdated receipt meets an earlier waiver")
            assert debt.waivers and receipt.value_date <= max(w.day for w in debt.waivers), \
                "a waiver conflict without an earlier waiver"

    @rule(pick=st.integers(0, 20), reject=st.booleans())
    def decide_on_a_waiting_receipt(self, pick: int, reject: bool) -> None:
        waiting = self._receipts(ReceiptStatus.RECORDED)
        if not waiting:
            return
        receipt_id = waiting[pick % len(waiting)]
        if reject:
            assert self._attempt(lambda: self.debt.reject_receipt(_ctx(self.today, FINANCE, "not on the statement"),
                                                                  receipt_id)) is None
            self.statuses[receipt_id] = ReceiptStatus.REJECTED
        else:
            self._confirm(receipt_id)

    @rule(pick=st.integers(0, 20))
    def reverse_a_receipt(self, pick: int) -> None:
        """Refused only once the debt is settled (then with debt-state); a reversal only adds
        to what is owed, so it never makes a waiver larger than the penalty left."""
        confirmed = self._receipts(ReceiptStatus.CONFIRMED)
        if not confirmed:
            return
        receipt_id = confirmed[pick % len(confirmed)]
        refused = self._attempt(lambda: self.debt.reverse_receipt(_ctx(self.today, FINANCE, "cheque bounced"),
                                                                  receipt_id, self.policy.rates),
                                DebtStateError, WaiverConflictError)
        if self.settled:
            assert refused is not None and refused.code == "debt-state"
            return
        assert refused is None, f"reversal refused: {refused}"
        self.statuses[receipt_id] = ReceiptStatus.REVERSED
        event("receipt reversed" + (" after a waiver" if self.debt.waivers else ""))

    # ------------------------------------------------------------ interest waiver (利息减免)
    def _waiver_refusal(self, amount: Decimal) -> str | None:
        """What the model says a waiver of ``amount`` meets now."""
        if self.settled:
            return "debt-state"
        if self._receipts(ReceiptStatus.RECORDED):
            return "debt-outstanding"
        if _unpaid(self.debt) > 0:
            return "principal-outstanding"
        if amount > _penalty(self.debt):
            return "waiver-exceeds-penalty"
        return None

    @rule(how=st.sampled_from(["part", "all", "all", "too much"]), share=st.integers(1, 1000),
          decide_now=st.sampled_from([True, True, False]), then_settle=st.booleans())
    def apply_for_a_waiver(self, how: str, share: int, decide_now: bool, then_settle: bool) -> None:
        """Part or all of the penalty outstanding (a cent when there is none), or more than
        it: the check is made as the application is; it is opened (unless one is open
        already), then approved at once or some steps later (and the debt perhaps applied to
        be settled)."""
        debt = self.debt
        penalty = _penalty(debt)
        if how == "too much":
            amount = penalty + FEN * share
        elif how == "part":
            amount = max(FEN, (penalty * share / 1000).quantize(FEN))
        else:
            amount = max(FEN, penalty)
        expected = self._waiver_refusal(amount)
        refused = self._attempt(lambda: debt.check_waiver(amount), *REFUSALS)
        assert (refused.code if refused else None) == expected, f"waiver of {amount}: {refused} / {expected}"
        if refused is not None:
            return
        application_id = self._new_id()
        refused = self._attempt(lambda: debt.open_application(_ctx(self.today, MANAGER), application_id, WAIVER,
                                                              None), *REFUSALS)
        if WAIVER in self.pending:
            assert refused is not None and refused.code == "application-pending"
            return
        assert refused is None
        self.pending[WAIVER] = (application_id, amount)
        if decide_now:
            self.decide_the_waiver(approve=True)
            if then_settle:
                self.apply_for_settlement(decide_now=True)

    @rule(approve=st.sampled_from([True, True, False]))
    def decide_the_waiver(self, approve: bool) -> None:
        """Approved: the waiver is taken off, or refused as the model says (things may have
        changed since the application) and the application ends rejected. Rejected: it ends."""
        if WAIVER not in self.pending:
            return
        debt = self.debt
        application_id, amount = self.pending.pop(WAIVER)
        ctx = _ctx(self.today, MANAGER)
        if approve:
            expected = self._waiver_refusal(amount)
            penalty = _penalty(debt)
            refused = self._attempt(lambda: debt.waive_penalty(ctx, application_id, amount), *REFUSALS)
            assert (refused.code if refused else None) == expected, f"waiver of {amount}: {refused} / {expected}"
            if refused is None:
                self.waived += amount
                assert _penalty(debt) == penalty - amount
                assert debt.waivers[-1].application_id == application_id
                assert sum((line.amount for line in debt.waivers[-1].lines), ZERO) == amount
                assert not any(v == application_id for v in debt.pending_applications.values())
                event("penalty waived" + (" in full" if _penalty(debt) == 0 else " in part"))
                return
        assert self._attempt(lambda: debt.close_application(ctx, application_id, "rejected")) is None

    # ------------------------------------------------------------ settlement (结清)
    def _settlement_refusal(self, application_id: UUID | None = None) -> str | None:
        """What the model says settlement (under ``application_id``, if it is open) meets now:
        any other application still open, a receipt waiting, or anything owed."""
        if self.settled:
            return "debt-state"
        if any(aid != application_id for aid, _ in self.pending.values()):
            return "debt-outstanding"
        if self._receipts(ReceiptStatus.RECORDED) or self.debt.total_outstanding > 0:
            return "debt-outstanding"
        return None

    @rule(decide_now=st.sampled_from([True, True, False]))
    def apply_for_settlement(self, decide_now: bool) -> None:
        debt = self.debt
        expected = self._settlement_refusal()
        refused = self._attempt(debt.check_settlement, *REFUSALS)
        assert (refused.code if refused else None) == expected, f"settlement: {refused} / {expected}"
        if refused is not None:
            return
        application_id = self._new_id()
        # No application is open (the check refuses otherwise), so this one opens.
        assert self._attempt(lambda: debt.open_application(_ctx(self.today, MANAGER), application_id, SETTLEMENT,
                                                           None), *REFUSALS) is None
        self.pending[SETTLEMENT] = (application_id, ZERO)
        if decide_now:
            self.decide_the_settlement(approve=True)

    @rule(approve=st.sampled_from([True, True, False]))
    def decide_the_settlement(self, approve: bool) -> None:
        if SETTLEMENT not in self.pending:
            return
        debt = self.debt
        application_id, _ = self.pending.pop(SETTLEMENT)
        ctx = _ctx(self.today, MANAGER)
        if approve:
            expected = self._settlement_refusal(application_id)
            refused = self._attempt(lambda: debt.settle(ctx, application_id), *REFUSALS)
            assert (refused.code if refused else None) == expected, f"settlement: {refused} / {expected}"
            if refused is None:
                assert self.settled and debt.settled_by == application_id
                event("settled" + (" after a waiver" if debt.waivers else ""))
                return
        assert self._attempt(lambda: debt.close_application(ctx, application_id, "rejected")) is None

    # ------------------------------------------------------------ invariants
    @invariant()
    def money_is_neither_made_nor_lost(self) -> None:
        debt = self.debt
        for key, item in debt.items.items():
            paid = debt.paid[key]
            charged, waived = debt.penalty_charged.get(key, ZERO), debt.penalty_waived.get(key, ZERO)
            outstanding = debt.penalty_outstanding(key)
            assert charged == paid.penalty + waived + outstanding, f"{key}: penalty lost"
            assert min(charged, paid.penalty, waived, outstanding) >= 0, \
                f"{key}: penalty charged {charged} paid {paid.penalty} waived {waived} outstanding {outstanding}"
            assert item.principal + item.interest == paid.principal + paid.interest + debt.outstanding(key)
            assert min(paid.principal, paid.interest, debt.outstanding(key)) >= 0
        charged = (sum((i.principal + i.interest for i in debt.items.values()), ZERO)
                   + sum(debt.penalty_charged.values(), ZERO))
        waived = sum(debt.penalty_waived.values(), ZERO)
        assert charged == debt.received + waived + debt.total_outstanding
        for receipt in debt.receipts.values():
            paid = sum((a.amount for a in receipt.allocations), ZERO)
            assert paid == (receipt.amount if receipt.status == ReceiptStatus.CONFIRMED else ZERO)

    @invariant()
    def waivers_are_what_was_approved_and_within_the_penalty(self) -> None:
        debt = self.debt
        waived = sum(debt.penalty_waived.values(), ZERO)
        assert waived == self.waived == sum((line.amount for w in debt.waivers for line in w.lines), ZERO)
        assert ZERO <= waived <= sum(debt.penalty_charged.values(), ZERO)
        assert _penalty(debt) >= 0

    @invariant()
    def no_balance_is_negative(self) -> None:
        Receivables.no_balance_is_negative(self)   # type: ignore[arg-type]

    @invariant()
    def recorded_penalty_and_splits_are_those_of_the_replay(self) -> None:
        Receivables.recorded_penalty_and_splits_are_those_of_the_replay(self)   # type: ignore[arg-type]
        debt = self.debt
        replay = debt._replay(debt.active_receipts, self.policy.rates, debt.accrued_through)
        assert replay.waiver_conflicts == [], f"a waiver larger than the penalty left: {replay.waiver_conflicts}"

    @invariant()
    def receipts_and_applications_are_as_the_model_says(self) -> None:
        assert {rid: r.status for rid, r in self.debt.receipts.items()} == self.statuses
        assert self.debt.pending_applications == {(kind, None): aid for kind, (aid, _) in self.pending.items()}

    @invariant()
    def the_debt_rebuilt_from_its_events_is_the_live_one(self) -> None:
        rebuilt: Any = None
        for e in self.events[0]:
            rebuilt = e.mutate(rebuilt)
        assert isinstance(rebuilt, Debt) and rebuilt.version == len(self.events[0])
        assert _collection_figures(rebuilt) == _collection_figures(self.debt)

    @invariant()
    def once_settled_nothing_more_is_owed_or_taken(self) -> None:
        debt = self.debt
        if not self.settled:
            return
        assert debt.status == DebtStatus.SETTLED and debt.total_outstanding == 0
        assert not self._receipts(ReceiptStatus.RECORDED)
        refused = self._attempt(lambda: debt.record_receipt(_ctx(self.today, CLERK), UUID(int=0), FEN, self.today,
                                                            ReceiptMethod.CASH), DebtStateError, InvalidValueError)
        assert refused is not None and refused.code == "debt-state"


TestCollection = Collection.TestCase
TestCollection.settings = hsettings(max_examples=300, stateful_step_count=30, deadline=None)
