"""A hypothesis state machine over one or two receivables (``Debt``), pure domain, no store:
the business date moves on, the daily penalty run is started for any day that has ended
(again, and out of order), receipts are recorded for random amounts within what is owed and with
random value dates between the contract date and today (so many are backdated), confirmed by
someone else, rejected, reversed, and the company's penalty rate changes for future days.

Whatever the sequence, after every step and for every debt:

- money is neither made nor lost: what was charged (principal + interest of the items and
  the penalty net of adjustments) equals what receipts paid (their active allocations) plus
  what is still owed (principal, interest and penalty outstanding) plus what was waived
  (nothing yet), to the fen;
- each counting receipt's amount equals the sum of its allocations, and a receipt that does
  not count pays nothing;
- no balance is negative;
- the penalty recorded for each item and day, and each receipt's split, are exactly those
  of replaying the debt's whole timeline (``Debt._replay``) through the last accrued day;
- the debt rebuilt from every event it recorded equals the live one;
- a refused command records nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from hypothesis import event
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.base import Context, DomainError, InvalidValueError
from domain.money import ZERO
from domain.receivables import (Debt, DebtItem, ItemKind, OverpaymentError, OwnReceiptError, PenaltyDateError,
                                PenaltyPolicy, PenaltyRateNotInFutureError, ReceiptMethod, ReceiptStatus)

ONE_DAY = timedelta(days=1)
START = date(2026, 1, 10)                  # both receivables open (their contracts are approved) on this day
HORIZON = START + timedelta(days=150)      # the business date moves no further: keeps replays short
COMPANY = UUID("c0000000-0000-5000-8000-000000000001")
SYSTEM = UUID("50000000-0000-5000-8000-000000000001")
CLERK = UUID("50000000-0000-5000-8000-000000000002")      # records receipts
FINANCE = UUID("50000000-0000-5000-8000-000000000003")    # confirms, rejects, reverses
RATES = ["0", "0.0003", "0.0005", "0.0008", "0.001"]


def _ctx(day: date, actor: UUID = SYSTEM, reason: str | None = None) -> Context:
    return Context(actor_id=actor, command_id=uuid4(), business_date=day, reason=reason)


def _item(key: str, kind: ItemKind, due: date, principal: str, interest: str = "0.00") -> DebtItem:
    return DebtItem(key, kind, due, Decimal(principal), Decimal(interest))


# An installment sale drafted five days before approval (receipts may be dated before the
# debt opened): down payment, four installments, a warranty deposit.
INSTALLMENT = dict(
    contract_date=START - timedelta(days=5), payment="installment", financed=Decimal("8000.00"),
    schedule_method="equal_installment", items=(
        _item("DP", ItemKind.DOWN_PAYMENT, START, "2000.00"),
        _item("I1", ItemKind.INSTALLMENT, date(2026, 1, 30), "2000.00", "40.00"),
        _item("I2", ItemKind.INSTALLMENT, date(2026, 2, 28), "2000.00", "30.00"),
        _item("I3", ItemKind.INSTALLMENT, date(2026, 3, 30), "2000.00", "20.00"),
        _item("I4", ItemKind.INSTALLMENT, date(2026, 4, 30), "2000.00", "10.00"),
        _item("WD", ItemKind.WARRANTY_DEPOSIT, date(2026, 3, 10), "500.00"),
    ))
# A cash sale drafted on the day of approval: the whole price and a warranty deposit.
CASH = dict(
    contract_date=START, payment="cash", financed=ZERO, schedule_method=None, items=(
        _item("FULL", ItemKind.FULL_PAYMENT, START, "5000.00"),
        _item("WD", ItemKind.WARRANTY_DEPOSIT, date(2026, 2, 20), "1000.00"),
    ))


def _open(shape: dict[str, Any], debt_id: UUID) -> Debt:
    return Debt._start(Debt.Opened, debt_id, _ctx(START), COMPANY, contract_id=uuid4(), contract_number="HF-TEST",
                       customer_id=uuid4(), owner_id=uuid4(), **shape)


def _figures(debt: Debt) -> tuple:
    """Everything a reader of the debt sees."""
    return (debt.version, debt.status, debt.accrued_through, debt.opened_on, debt.items, debt.confirmations,
            {k: (p.principal, p.interest, p.penalty) for k, p in debt.paid.items()},
            {k: v for k, v in debt.penalty_charged.items() if v}, debt.recorded_penalty(),
            {rid: (r.status, r.amount, r.value_date, r.allocate_to, r.sequence, r.allocations)
             for rid, r in debt.receipts.items()},
            debt.total_outstanding, debt.received)


class Receivables(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.today = START
        self.policy = PenaltyPolicy.start(_ctx(START - timedelta(days=20)), COMPANY, PenaltyPolicy.check_rate(
            _ctx(START - timedelta(days=20)), START - timedelta(days=10), "0.0005", 0))
        self.policy.collect_events()
        self.debts: list[Debt] = []
        self.events: list[list[Any]] = []
        self.statuses: list[dict[UUID, ReceiptStatus]] = []   # the model: what each receipt should be
        self.ids = 0

    @initialize(two=st.booleans(), cash_first=st.booleans())
    def open_debts(self, two: bool, cash_first: bool) -> None:
        shapes = [CASH, INSTALLMENT] if cash_first else [INSTALLMENT, CASH]
        for shape in shapes[:2 if two else 1]:
            debt = _open(shape, self._new_id())
            self.debts.append(debt)
            self.events.append(list(debt.collect_events()))
            self.statuses.append({})

    # ------------------------------------------------------------ helpers
    def _debt(self, n: int) -> tuple[int, Debt]:
        n %= len(self.debts)
        return n, self.debts[n]

    def _attempt(self, n: int, command, *allowed_refusals: type[DomainError]) -> bool:
        """Runs the command; True if it went through (its events are kept), False if refused
        with one of ``allowed_refusals`` (and then it recorded nothing)."""
        debt = self.debts[n]
        version = debt.version
        try:
            command()
        except allowed_refusals as refused:
            assert list(debt.collect_events()) == [] and debt.version == version, "a refusal recorded something"
            event(f"refused: {refused.code}")
            return False
        recorded = list(debt.collect_events())
        for e in recorded:
            event(f"recorded {type(e).__name__}")
        self.events[n].extend(recorded)
        return True

    def _receipts(self, debt: Debt, status: ReceiptStatus) -> list[UUID]:
        """In the order they were recorded (ids are not random: a run must replay exactly)."""
        return [rid for rid, r in debt.receipts.items() if r.status == status]

    def _new_id(self) -> UUID:
        self.ids += 1
        return UUID(int=self.ids)

    # ------------------------------------------------------------ rules
    @rule(days=st.integers(1, 12), nightly=st.booleans())
    def advance_the_business_date(self, days: int, nightly: bool) -> None:
        """The days go by; the nightly job may have accrued every debt through yesterday."""
        self.today = min(HORIZON, self.today + timedelta(days=days))
        if nightly:
            for n in range(len(self.debts)):
                self._accrue(n, self.today - ONE_DAY)

    @rule(n=st.integers(0, 1), offset=st.one_of(st.just(-1), st.integers(-40, 1)))
    def run_the_daily_penalty_job(self, n: int, offset: int) -> None:
        """For yesterday or any earlier day: a day already accrued (a repeat, or out of order)
        changes nothing; a day not yet ended (today or later) is refused."""
        n, debt = self._debt(n)
        day = self.today + timedelta(days=offset)
        if offset >= 0:
            assert not self._attempt(n, lambda: debt.accrue_penalties(_ctx(self.today), day, self.policy.rates),
                                     PenaltyDateError)
            return
        self._accrue(n, day)

    def _accrue(self, n: int, day: date) -> None:
        debt = self.debts[n]
        already = day <= debt.accrued_through
        version = debt.version
        charged = debt.accrue_penalties(_ctx(self.today), day, self.policy.rates)
        events = list(debt.collect_events())
        assert charged == bool(events) and len(events) <= 1 and debt.version == version + len(events)
        if already:
            assert not events, "a day already accrued was charged again"
        if events:
            assert debt.accrued_through == day
            event("penalty accrued")
        self.events[n].extend(events)

    @rule(n=st.integers(0, 1), how=st.sampled_from(["part", "part", "an item", "all"]), share=st.integers(1, 500),
          back=st.one_of(st.just(0), st.integers(1, 45)), directed=st.booleans(), item=st.integers(0, 10),
          kind=st.integers(0, 9), confirm_now=st.booleans())
    def record_a_receipt(self, n: int, how: str, share: int, back: int, directed: bool, item: int, kind: int,
                         confirm_now: bool) -> None:
        """Mostly a receipt within what is owed (kind ≥ 2): part of it, exactly what the first
        item still owing owes, or all of it; it is taken, and often confirmed at once. Else one
        cent more than is owed (kind 0) or a value date before the contract or after today
        (kind 1), which are refused."""
        n, debt = self._debt(n)
        value_date = max(debt.contract_date, self.today - timedelta(days=back))
        if kind == 1:
            for bad in (debt.contract_date - timedelta(days=back + 1), self.today + timedelta(days=back + 1)):
                assert not self._attempt(n, lambda: debt.record_receipt(_ctx(self.today, CLERK), self._new_id(),
                                                                        Decimal("0.01"), bad, ReceiptMethod.CASH),
                                         InvalidValueError)
            return
        pending = sum((r.amount for r in debt.receipts.values() if r.status == ReceiptStatus.RECORDED), ZERO)
        owed = debt.total_outstanding - pending
        targets: tuple[str, ...] = ()
        if directed:
            # What the item owes, less the receipts waiting that may pay it (undirected, or
            # directed at it too).
            key = sorted(debt.items)[item % len(debt.items)]
            targets = (key,)
            claimed = sum((r.amount for r in debt.receipts.values() if r.status == ReceiptStatus.RECORDED
                           and (not r.allocate_to or key in r.allocate_to)), ZERO)
            owed = min(owed, debt.outstanding(key) + debt.penalty_outstanding(key) - claimed)
        first_owing = next((debt.outstanding(k) + debt.penalty_outstanding(k) for k in debt.item_order()
                            if debt.outstanding(k) + debt.penalty_outstanding(k) > 0), owed)
        if owed <= 0 or kind == 0:
            amount = max(owed, ZERO) + Decimal("0.01")
        elif how == "part":
            amount = max(Decimal("0.01"), (owed * share / 1000).quantize(Decimal("0.01")))
        else:
            amount = min(owed, first_owing) if how == "an item" else owed
        assert amount.as_tuple().exponent == -2
        receipt_id = self._new_id()
        allowed = amount <= owed
        accepted = self._attempt(n, lambda: debt.record_receipt(_ctx(self.today, CLERK), receipt_id, amount,
                                                                value_date, ReceiptMethod.BANK_TRANSFER,
                                                                allocate_to=targets), OverpaymentError)
        assert accepted == allowed, f"record of {amount} against {owed} owed: accepted={accepted}"
        if accepted:
            self.statuses[n][receipt_id] = ReceiptStatus.RECORDED
            event("backdated receipt" if value_date < self.today else "receipt dated today")
            if confirm_now:
                self._confirm(n, receipt_id)

    def _confirm(self, n: int, receipt_id: UUID) -> None:
        """By finance (not the recorder). Refused only as an over-payment: an earlier-dated
        receipt may have left it, or a later one, more than there is to pay."""
        debt = self.debts[n]
        if self._attempt(n, lambda: debt.confirm_receipt(_ctx(self.today, FINANCE), receipt_id, self.policy.rates),
                         OverpaymentError):
            self.statuses[n][receipt_id] = ReceiptStatus.CONFIRMED
            event("receipt confirmed")

    def _with(self, status: ReceiptStatus) -> list[tuple[int, UUID]]:
        """(debt, receipt) of every receipt in ``status``."""
        return [(n, rid) for n, debt in enumerate(self.debts) for rid in self._receipts(debt, status)]

    @rule(pick=st.integers(0, 20), decision=st.sampled_from(["confirm", "confirm", "by the recorder", "reject"]))
    def decide_on_a_waiting_receipt(self, pick: int, decision: str) -> None:
        """Finance confirms (after the recorder was refused, sometimes) or rejects it."""
        waiting = self._with(ReceiptStatus.RECORDED)
        if not waiting:
            return
        n, receipt_id = waiting[pick % len(waiting)]
        debt = self.debts[n]
        if decision == "reject":
            assert self._attempt(n, lambda: debt.reject_receipt(_ctx(self.today, FINANCE, "not on the statement"),
                                                                receipt_id))
            self.statuses[n][receipt_id] = ReceiptStatus.REJECTED
            return
        if decision == "by the recorder":
            refused = self._attempt(n, lambda: debt.confirm_receipt(_ctx(self.today, CLERK), receipt_id,
                                                                    self.policy.rates), OwnReceiptError)
            assert not refused, "the recorder confirmed their own receipt"
        self._confirm(n, receipt_id)

    @rule(pick=st.integers(0, 20))
    def reverse_a_receipt(self, pick: int) -> None:
        confirmed = self._with(ReceiptStatus.CONFIRMED)
        if not confirmed:
            return
        n, receipt_id = confirmed[pick % len(confirmed)]
        debt = self.debts[n]
        assert self._attempt(n, lambda: debt.reverse_receipt(_ctx(self.today, FINANCE, "cheque bounced"), receipt_id,
                                                             self.policy.rates))
        self.statuses[n][receipt_id] = ReceiptStatus.REVERSED
        event("receipt reversed")

    @rule(ahead=st.integers(-3, 30), rate=st.sampled_from(RATES), grace=st.integers(0, 3))
    def set_a_penalty_rate(self, ahead: int, rate: str, grace: int) -> None:
        effective = self.today + timedelta(days=ahead)
        try:
            checked = PenaltyPolicy.check_rate(_ctx(self.today), effective, rate, grace)
        except PenaltyRateNotInFutureError:
            assert ahead <= 0
            return
        assert ahead > 0
        self.policy.set_rate(_ctx(self.today), checked)
        self.policy.collect_events()
        assert self.policy.rates.on(effective) == checked

    # ------------------------------------------------------------ invariants
    @invariant()
    def money_is_neither_made_nor_lost(self) -> None:
        for debt in self.debts:
            charged = (sum((i.principal + i.interest for i in debt.items.values()), ZERO)
                       + sum(debt.penalty_charged.values(), ZERO))
            allocated = sum((a.amount for r in debt.active_receipts for a in r.allocations), ZERO)
            outstanding = sum((debt.outstanding(k) + debt.penalty_outstanding(k) for k in debt.items), ZERO)
            waived = ZERO
            assert charged == allocated + outstanding + waived
            assert outstanding == debt.total_outstanding
            assert debt.received == allocated
            for receipt in debt.receipts.values():
                paid = sum((a.amount for a in receipt.allocations), ZERO)
                if receipt.status == ReceiptStatus.CONFIRMED:
                    assert paid == receipt.amount, f"receipt {receipt.receipt_id} lost {receipt.amount - paid}"
                else:
                    assert receipt.allocations == ()
            for key, p in debt.paid.items():
                paid = [a for r in debt.active_receipts for a in r.allocations if a.item_key == key]
                assert (p.principal, p.interest, p.penalty) == (sum((a.principal for a in paid), ZERO),
                                                                sum((a.interest for a in paid), ZERO),
                                                                sum((a.penalty for a in paid), ZERO))

    @invariant()
    def no_balance_is_negative(self) -> None:
        for debt in self.debts:
            for key, item in debt.items.items():
                paid = debt.paid[key]
                assert ZERO <= paid.principal <= item.principal and ZERO <= paid.interest <= item.interest
                assert paid.penalty >= 0 and debt.penalty_outstanding(key) >= 0
                assert debt.penalty_charged.get(key, ZERO) >= 0
            for receipt in debt.receipts.values():
                for a in receipt.allocations:
                    assert min(a.penalty, a.interest, a.principal) >= 0 and a.amount > 0

    @invariant()
    def recorded_penalty_and_splits_are_those_of_the_replay(self) -> None:
        for debt in self.debts:
            assert debt.accrued_through <= max(self.today - ONE_DAY, debt.opened_on)
            replay = debt._replay(debt.active_receipts, self.policy.rates, debt.accrued_through)
            assert replay.left_over == {}
            assert debt.recorded_penalty() == {k: amount for k, (_, _, amount) in replay.penalty.items()}
            assert all(debt.opened_on < day <= debt.accrued_through for _, day in debt.recorded_penalty())
            assert {r.receipt_id: r.allocations for r in debt.active_receipts} == replay.allocations

    @invariant()
    def receipts_are_in_the_state_the_model_says(self) -> None:
        for debt, statuses in zip(self.debts, self.statuses):
            assert {rid: r.status for rid, r in debt.receipts.items()} == statuses

    @invariant()
    def the_debt_rebuilt_from_its_events_is_the_live_one(self) -> None:
        for debt, events in zip(self.debts, self.events):
            rebuilt: Any = None
            for e in events:
                rebuilt = e.mutate(rebuilt)
            assert isinstance(rebuilt, Debt) and rebuilt.version == len(events)
            assert _figures(rebuilt) == _figures(debt)


TestReceivables = Receivables.TestCase
TestReceivables.settings = hsettings(max_examples=50, stateful_step_count=30, deadline=None)
