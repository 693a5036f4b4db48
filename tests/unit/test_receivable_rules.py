"""Given / when / then for receivables (应收 / 债权) without a store: the items a contract's
approval opens, schedules, receipts and their confirmation, rejection and reversal, how a
receipt is split, un-approval, penalty rates (``PenaltyPolicy``) and penalty interest (罚息),
including the worked example of /work/shared/SCENARIO.md to the fen, backdated receipts and
reversals.

Expected figures are worked out by hand (the arithmetic is in the comments), never with the
code under test; money is ROUND_HALF_UP to the fen."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain import ids
from domain.access import Role, Scope
from domain.approvals import AmountBand, ApprovalRule, ApprovalStep, Decider, DocumentType
from domain.base import InvalidValueError, NotFoundError
from domain.contracts import (AgreedAccessory, CommercialTerms, Contract, ContractAlreadyStartedError,
                              InstallmentTerms, PaymentMethod, ScheduleMethod)
from domain.customers import Customer, CustomerType, PartyKind
from domain.organisation import Company, MachineModel, MachineType
from domain.receivables import (Allocation, Debt, DebtItem, DebtStateError, DebtStatus, ItemKind, OverpaymentError,
                                OwnReceiptError, Paid, PenaltyDateError, PenaltyLine, PenaltyPolicy, PenaltyRate,
                                PenaltyRateNotInFutureError, PenaltyRates, ReceiptMethod, ReceiptStateError,
                                ReceiptStatus, ScheduleLockedError)
from domain.schedules import ScheduleLine
from tests.unit.given import ACTOR, ctx, given, then_events, then_metadata, then_refused
from interfaces.http.errors import status_of

HEFEI = given(Company.create(ctx(), "HF", "Hefei"))
SY215C = given(MachineModel.register(ctx(), "SY215C", "SY215C excavator", MachineType.EXCAVATOR))
FORMAL = given(CustomerType.define(ctx(), "FORMAL", "Formal"))
CUSTOMER = given(Customer.register(ctx(), uuid4(), HEFEI, ACTOR, "Hefei Earthworks", PartyKind.ORGANISATION, FORMAL))
SALES_CLERK = uuid4()
MANAGER = Decider(uuid4(), frozenset({Role.APPROVER}), Scope(companies=frozenset({HEFEI.id})))
RULE = given(ApprovalRule.set_new(ctx(), DocumentType.SALES_CONTRACT, None,
                                  [AmountBand(Decimal("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),))]))
CASHIER = UUID("22222222-2222-5222-8222-222222222222")   # records receipts
FINANCE = UUID("33333333-3333-5333-8333-333333333333")   # confirms, rejects, reverses

PRICE = Decimal("380000.00")
CONTRACT_DATE = date(2025, 12, 15)      # drafted and approved this day: the debt opens on it
FIRST_DUE = date(2026, 1, 31)
D = Decimal

# SCENARIO.md: 300,000.00 over 12 months 等额本息 at 4.35 %: (due, principal, interest).
TABLE = [
    (date(2026, 1, 31), "24505.47", "1087.50"), (date(2026, 2, 28), "24594.30", "998.67"),
    (date(2026, 3, 31), "24683.46", "909.51"), (date(2026, 4, 30), "24772.93", "820.04"),
    (date(2026, 5, 31), "24862.74", "730.23"), (date(2026, 6, 30), "24952.86", "640.11"),
    (date(2026, 7, 31), "25043.32", "549.65"), (date(2026, 8, 31), "25134.10", "458.87"),
    (date(2026, 9, 30), "25225.21", "367.76"), (date(2026, 10, 31), "25316.65", "276.32"),
    (date(2026, 11, 30), "25408.43", "184.54"), (date(2026, 12, 31), "25500.53", "92.44"),
]
INSTALLMENTS = tuple(DebtItem(f"I{n}", ItemKind.INSTALLMENT, due, D(principal), D(interest))
                     for n, (due, principal, interest) in enumerate(TABLE, 1))

# SCENARIO.md: 0.05 % a day from 2026-01-01, 0.06 % a day from 2026-04-15, no grace days.
POLICY = PenaltyPolicy.start(ctx(day=CONTRACT_DATE), HEFEI.id,
                             PenaltyPolicy.check_rate(ctx(day=CONTRACT_DATE), date(2026, 1, 1), "0.0005", 0))
POLICY.set_rate(ctx(day=date(2026, 4, 1)), PenaltyPolicy.check_rate(ctx(day=date(2026, 4, 1)), date(2026, 4, 15),
                                                                    "0.0006", 0))
RATES = given(POLICY).rates


# ------------------------------------------------------------------ building blocks
def settle(*aggregates) -> None:
    """What happened so far is the given."""
    for aggregate in aggregates:
        aggregate.collect_events()


def installment_terms(down: str = "80000.00", deposit: str = "0.00", deposit_due: date | None = None,
                      method: ScheduleMethod = ScheduleMethod.EQUAL_INSTALLMENT, months: int = 12,
                      rate: str = "0.0435", first_due: date = FIRST_DUE) -> CommercialTerms:
    return CommercialTerms(PaymentMethod.INSTALLMENT, D(down), InstallmentTerms(months, D(rate), first_due, method),
                           D(deposit), deposit_due, (), ())


def approved_contract(terms: CommercialTerms, drafted: date = CONTRACT_DATE, approved: date = CONTRACT_DATE,
                      price: Decimal = PRICE) -> Contract:
    contract = Contract.draft(ctx(day=drafted), uuid4(), HEFEI, CUSTOMER, None, [(SY215C, 1, price)])
    contract.submit_to_clerk(ctx(day=drafted))
    contract.complete_terms(ctx(actor=SALES_CLERK, day=drafted), terms)
    contract.submit_for_approval(ctx(actor=SALES_CLERK, day=approved), RULE)
    assert contract.approve(ctx(day=approved), MANAGER) is True
    return given(contract)


def opened(terms: CommercialTerms | None = None, drafted: date = CONTRACT_DATE, approved: date = CONTRACT_DATE) -> Debt:
    """The receivable the approval of an installment sale (SCENARIO.md unless told) opens."""
    contract = approved_contract(terms or installment_terms(), drafted, approved)
    return given(Debt.open_for(ctx(day=approved), contract.approved_sale()))


def debt_of(*items: DebtItem, contract_date: date = CONTRACT_DATE, method: str = "typed") -> Debt:
    """A receivable with the given items, opened on its contract's date."""
    debt = Debt._start(Debt.Opened, uuid4(), ctx(day=contract_date), HEFEI.id, contract_id=uuid4(),
                       contract_number="HF-TEST", contract_date=contract_date, customer_id=CUSTOMER.id,
                       owner_id=ACTOR, payment="installment",
                       financed=sum((i.principal for i in items if i.kind == ItemKind.INSTALLMENT), D("0.00")),
                       schedule_method=method, items=items)
    return given(debt)


def record(debt: Debt, amount: str, value_date: date, day: date | None = None, allocate_to=()) -> UUID:
    receipt_id = uuid4()
    debt.record_receipt(ctx(actor=CASHIER, day=day or value_date), receipt_id, D(amount), value_date,
                        ReceiptMethod.BANK_TRANSFER, "BANK-REF", allocate_to)
    settle(debt)
    return receipt_id


def confirm(debt: Debt, receipt_id: UUID, day: date, rates: PenaltyRates = RATES) -> None:
    debt.confirm_receipt(ctx(actor=FINANCE, day=day), receipt_id, rates)


def received(debt: Debt, amount: str, value_date: date, day: date | None = None, allocate_to=(),
             rates: PenaltyRates = RATES) -> UUID:
    """Recorded by the cashier, confirmed by finance, on ``day`` (the value date unless told)."""
    receipt_id = record(debt, amount, value_date, day, allocate_to)
    confirm(debt, receipt_id, day or value_date, rates)
    settle(debt)
    return receipt_id


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def run_daily(debt: Debt, first: date, last: date, rates: PenaltyRates = RATES) -> list:
    """The daily job for each day from ``first`` to ``last``, each run the morning after (a day
    is accrued once it has ended); the events."""
    events = []
    for day in days(first, last):
        debt.accrue_penalties(ctx(day=day + timedelta(days=1)), day, rates)
        events.extend(debt.collect_events())
    return events


def unpaid(debt: Debt, key: str) -> tuple[Decimal, Decimal]:
    item, paid = debt.items[key], debt.paid[key]
    return item.principal - paid.principal, item.interest - paid.interest


def recorded_is_the_replay(debt: Debt, rates: PenaltyRates = RATES) -> None:
    replay = debt._replay(debt.active_receipts, rates, debt.accrued_through)
    assert debt.recorded_penalty() == {k: amount for k, (_, _, amount) in replay.penalty.items()}
    assert {r.receipt_id: r.allocations for r in debt.active_receipts} == replay.allocations


def march_unpaid(rates: PenaltyRates = RATES, pay_march: bool = False) -> Debt:
    """SCENARIO.md: the down payment paid on approval, January and February paid on time (and
    March too if told); the daily job ran every day through 03-31 and charged nothing."""
    debt = opened()
    received(debt, "80000.00", CONTRACT_DATE, rates=rates)
    received(debt, "25592.97", date(2026, 1, 31), rates=rates)
    received(debt, "25592.97", date(2026, 2, 28), rates=rates)
    if pay_march:
        received(debt, "25592.97", date(2026, 3, 31), rates=rates)
    assert run_daily(debt, CONTRACT_DATE + timedelta(days=1), date(2026, 3, 31), rates) == []
    return debt


def penalty_by_day(debt: Debt, key: str) -> dict[date, Decimal]:
    return {day: amount for (k, day), amount in sorted(debt.recorded_penalty().items()) if k == key}


# ------------------------------------------------------------------ opening
def test_a_cash_sale_opens_one_full_payment_item_due_on_approval_and_the_deposit():
    # 380,000.00 + breaker hammer 2 × 6,000.00 = 392,000.00, of which 20,000.00 warranty deposit.
    contract = approved_contract(CommercialTerms(
        PaymentMethod.CASH, D("0.00"), None, D("20000.00"), date(2026, 12, 15),
        (AgreedAccessory("Breaker hammer", 2, D("6000.00")),), ()), drafted=date(2025, 12, 10))
    context = ctx(day=CONTRACT_DATE)
    debt = Debt.open_for(context, contract.approved_sale())
    [opened_event] = then_events(debt, Debt.Opened)
    then_metadata(opened_event, context, HEFEI.id)
    assert debt.id == ids.debt_id(contract.id)
    assert (opened_event.contract_id, opened_event.contract_number, opened_event.contract_date,
            opened_event.customer_id, opened_event.owner_id, opened_event.payment, opened_event.financed,
            opened_event.schedule_method) == (contract.id, contract.number, date(2025, 12, 10), CUSTOMER.id,
                                              contract.owner_id, "cash", D("0.00"), None)
    assert opened_event.items == (
        DebtItem("FULL", ItemKind.FULL_PAYMENT, CONTRACT_DATE, D("372000.00"), D("0.00")),
        DebtItem("WD", ItemKind.WARRANTY_DEPOSIT, date(2026, 12, 15), D("20000.00"), D("0.00")))
    assert (debt.status, debt.total_outstanding, debt.received, debt.schedule_pending) == (
        DebtStatus.OPEN, D("392000.00"), D("0.00"), False)


def test_an_installment_sale_opens_down_payment_the_schedules_installments_and_the_deposit():
    # 380,000.00 − down payment 60,000.00 − deposit 20,000.00 = 300,000.00 financed: the table.
    debt = opened(installment_terms(down="60000.00", deposit="20000.00", deposit_due=date(2026, 12, 31)))
    assert list(debt.items) == ["DP", *(f"I{n}" for n in range(1, 13)), "WD"]
    assert debt.items["DP"] == DebtItem("DP", ItemKind.DOWN_PAYMENT, CONTRACT_DATE, D("60000.00"), D("0.00"))
    assert tuple(debt.items[f"I{n}"] for n in range(1, 13)) == INSTALLMENTS
    assert debt.items["WD"] == DebtItem("WD", ItemKind.WARRANTY_DEPOSIT, date(2026, 12, 31), D("20000.00"),
                                        D("0.00"))
    assert (debt.payment, debt.financed, debt.schedule_method, debt.schedule_pending) == (
        PaymentMethod.INSTALLMENT, D("300000.00"), "equal_installment", False)
    # 60,000.00 + 12 × 25,592.97 + 20,000.00
    assert debt.total_outstanding == D("387115.64")


def test_an_installment_sale_without_down_payment_has_no_down_payment_item():
    debt = opened(installment_terms(down="0.00", months=1, first_due=date(2026, 1, 15), rate="0"))
    assert debt.items == {"I1": DebtItem("I1", ItemKind.INSTALLMENT, date(2026, 1, 15), PRICE, D("0.00"))}


def test_a_typed_schedule_leaves_the_schedule_pending_until_it_is_set():
    debt = opened(installment_terms(method=ScheduleMethod.TYPED))
    assert (list(debt.items), debt.schedule_pending, debt.schedule_method, debt.financed) == (
        ["DP"], True, "typed", D("300000.00"))
    context = ctx(day=date(2025, 12, 16))
    debt.set_schedule(context, [ScheduleLine(date(2026, 2, 10), D("100000.00"), D("500.00")),
                                ScheduleLine(date(2026, 6, 10), D("200000.00"), D("0.00"))], RATES)
    [schedule] = then_events(debt, Debt.ScheduleSet)
    then_metadata(schedule, context, HEFEI.id)
    assert (schedule.method, schedule.annual_rate, schedule.months) == ("typed", None, 2)
    assert schedule.installments == (
        DebtItem("I1", ItemKind.INSTALLMENT, date(2026, 2, 10), D("100000.00"), D("500.00")),
        DebtItem("I2", ItemKind.INSTALLMENT, date(2026, 6, 10), D("200000.00"), D("0.00")))
    assert (list(debt.items), debt.schedule_pending, debt.schedule_method) == (["DP", "I1", "I2"], False, "typed")


# ------------------------------------------------------------------ schedules
def generate(debt: Debt, months: int = 12, method: ScheduleMethod = ScheduleMethod.EQUAL_PRINCIPAL,
             first_due: date = FIRST_DUE, day: date = date(2025, 12, 16), rate: str = "0.0435"):
    return lambda: debt.generate_schedule(ctx(day=day), method, D(rate), months, first_due, RATES)


def test_generating_an_equal_principal_schedule_replaces_the_installments():
    debt = opened()
    generate(debt)()
    [schedule] = then_events(debt, Debt.ScheduleSet)
    assert (schedule.method, schedule.annual_rate, schedule.months) == ("equal_principal", D("0.0435"), 12)
    # SCENARIO.md: principal 25,000.00 a month; first interest 1,087.50, last 90.63.
    assert schedule.installments[0] == DebtItem("I1", ItemKind.INSTALLMENT, FIRST_DUE, D("25000.00"), D("1087.50"))
    assert schedule.installments[-1] == DebtItem("I12", ItemKind.INSTALLMENT, date(2026, 12, 31), D("25000.00"),
                                                 D("90.63"))
    assert debt.items["DP"].principal == D("80000.00") and debt.schedule_method == "equal_principal"


def test_a_shorter_schedule_drops_the_installments_beyond_it_and_the_daily_job_goes_on():
    debt = opened()
    received(debt, "80000.00", CONTRACT_DATE)
    generate(debt, months=6, method=ScheduleMethod.EQUAL_INSTALLMENT)()
    settle(debt)
    # 300,000.00 over 6 months at 4.35 %, r = 0.003625 (worked by hand):
    #   A = 300,000 × r × (1+r)⁶ / ((1+r)⁶ − 1) = 50,636.29; interest of month 1 = 1,087.50,
    #   month 2 = round(250,451.21 × r = 907.8856) = 907.89 …; the last 50,453.39 + 182.89.
    assert list(debt.items) == ["DP", "I1", "I2", "I3", "I4", "I5", "I6"]
    assert debt.items["I1"] == DebtItem("I1", ItemKind.INSTALLMENT, FIRST_DUE, D("49548.79"), D("1087.50"))
    assert debt.items["I2"] == DebtItem("I2", ItemKind.INSTALLMENT, date(2026, 2, 28), D("49728.40"), D("907.89"))
    assert debt.items["I6"] == DebtItem("I6", ItemKind.INSTALLMENT, date(2026, 6, 30), D("50453.39"), D("182.89"))
    assert set(debt.paid) == set(debt.items)
    # 5 × 50,636.29 + 50,636.28 = 303,817.73
    assert debt.total_outstanding == D("303817.73")
    [accrued] = run_daily(debt, date(2026, 2, 1), date(2026, 2, 1))
    # round(50,636.29 × 0.0005 = 25.318145) = 25.32
    assert accrued.lines == (PenaltyLine("I1", date(2026, 2, 1), date(2026, 2, 1), D("50636.29"), D("0.0005"),
                                         D("25.32")),)


def test_a_schedule_with_installments_already_past_due_charges_the_days_already_accrued():
    debt = opened(installment_terms(method=ScheduleMethod.TYPED))
    # The down payment is late: 80,000.00 × 0.0005 = 40.00 a day from 01-01 (the first rate) to 01-10.
    run_daily(debt, date(2025, 12, 16), date(2026, 1, 10))
    assert (debt.accrued_through, debt.penalty_charged["DP"]) == (date(2026, 1, 10), D("400.00"))
    context = ctx(day=date(2026, 1, 11))
    debt.set_schedule(context, [ScheduleLine(date(2026, 1, 5), D("150000.00"), D("0.00")),
                                ScheduleLine(date(2026, 2, 5), D("150000.00"), D("0.00"))], RATES)
    _, adjusted = then_events(debt, Debt.ScheduleSet, Debt.PenaltyAdjusted)
    # I1, due 01-05, was overdue 01-06 … 01-10: 150,000.00 × 0.0005 = 75.00 a day.
    assert adjusted.caused_by == context.command_id
    assert adjusted.lines == (PenaltyLine("I1", date(2026, 1, 6), date(2026, 1, 10), D("150000.00"), D("0.0005"),
                                          D("75.00")),)
    assert (debt.penalty_charged["I1"], debt.accrued_through) == (D("375.00"), date(2026, 1, 10))
    recorded_is_the_replay(debt)
    [accrued] = run_daily(debt, date(2026, 1, 11), date(2026, 1, 11))
    assert [(line.item_key, line.daily_amount) for line in accrued.lines] == [("DP", D("40.00")), ("I1", D("75.00"))]


def test_a_typed_schedule_is_not_generated():
    debt = opened()
    refusal = then_refused(debt, generate(debt, method=ScheduleMethod.TYPED), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "method"


@pytest.mark.parametrize("first_due", [CONTRACT_DATE, date(2025, 12, 1), date(2027, 12, 16)],
                         ids=["on-contract-date", "before", "more-than-730-days-after"])
def test_a_schedule_falling_due_before_the_contract_date_or_too_far_after_it_is_refused(first_due):
    debt = opened()
    refusal = then_refused(debt, generate(debt, first_due=first_due), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "first_due_date"


def test_a_schedule_falling_due_730_days_after_the_contract_date_is_taken():
    debt = opened()
    generate(debt, first_due=date(2027, 12, 15))()      # 2025-12-15 + 365 + 365 days
    [schedule] = then_events(debt, Debt.ScheduleSet)
    assert schedule.installments[0].due_date == date(2027, 12, 15)


def test_a_typed_schedule_not_adding_up_is_refused_and_stays_pending():
    debt = opened(installment_terms(method=ScheduleMethod.TYPED))
    refusal = then_refused(debt, lambda: debt.set_schedule(ctx(), [
        ScheduleLine(date(2026, 2, 10), D("100000.00"), D("0.00")),
        ScheduleLine(date(2026, 6, 10), D("199999.99"), D("0.00"))], RATES), InvalidValueError, "invalid-value", 422)
    assert "difference 0.01" in refusal.message and debt.schedule_pending


@pytest.mark.parametrize("when", ["generate", "set"])
def test_a_cash_sale_has_no_schedule(when):
    contract = approved_contract(CommercialTerms(PaymentMethod.CASH, D("0.00"), None, D("0.00"), None, (), ()))
    debt = given(Debt.open_for(ctx(day=CONTRACT_DATE), contract.approved_sale()))
    command = (generate(debt) if when == "generate" else
               (lambda: debt.set_schedule(ctx(), [ScheduleLine(FIRST_DUE, PRICE, D("0.00"))], RATES)))
    refusal = then_refused(debt, command, DebtStateError, "debt-state", 409)
    assert "cash sale" in refusal.message


def test_the_schedule_is_locked_once_an_installment_is_paid():
    debt = opened()
    received(debt, "100000.00", CONTRACT_DATE)     # the down payment and 20,000.00 of I1
    for command in (generate(debt),
                    lambda: debt.set_schedule(ctx(), [ScheduleLine(FIRST_DUE, D("300000.00"), D("0.00"))], RATES)):
        refusal = then_refused(debt, command, ScheduleLockedError, "schedule-locked", 409)
        assert "I1" in refusal.message


def test_the_schedule_is_locked_once_an_installment_was_charged_penalty():
    debt = opened()
    received(debt, "80000.00", CONTRACT_DATE)
    run_daily(debt, date(2026, 2, 1), date(2026, 2, 1))     # I1 (due 01-31) overdue: 12.80
    assert debt.penalty_charged["I1"] == D("12.80")
    refusal = then_refused(debt, generate(debt, day=date(2026, 2, 2)), ScheduleLockedError, "schedule-locked", 409)
    assert "I1" in refusal.message


def test_the_schedule_is_not_changed_while_a_receipt_waits_for_confirmation():
    debt = opened()
    waiting = record(debt, "1000.00", CONTRACT_DATE, allocate_to=("I12",))
    refusal = then_refused(debt, generate(debt, months=6), ScheduleLockedError, "schedule-locked", 409)
    assert "waiting for confirmation" in refusal.message
    debt.reject_receipt(ctx(actor=FINANCE, reason="typed against the wrong installment"), waiting)
    settle(debt)
    generate(debt, months=6)()
    then_events(debt, Debt.ScheduleSet)


def test_a_paid_down_payment_does_not_lock_the_schedule():
    debt = opened()
    received(debt, "80000.00", CONTRACT_DATE)
    generate(debt, day=date(2025, 12, 20))()
    then_events(debt, Debt.ScheduleSet)


# ------------------------------------------------------------------ recording receipts
def test_a_receipt_is_recorded_waiting_for_confirmation_and_counts_for_nothing_yet():
    debt = opened()
    receipt_id, context = uuid4(), ctx(actor=CASHIER, day=date(2025, 12, 20))
    debt.record_receipt(context, receipt_id, D("80000.00"), date(2025, 12, 18), ReceiptMethod.ACCEPTANCE_BILL,
                        " BILL-0001 ", ["dp"])
    [recorded] = then_events(debt, Debt.ReceiptRecorded)
    then_metadata(recorded, context, HEFEI.id)
    assert (recorded.receipt_id, recorded.amount, recorded.value_date, recorded.method, recorded.reference,
            recorded.allocate_to) == (receipt_id, D("80000.00"), date(2025, 12, 18), "acceptance_bill", "BILL-0001",
                                      ("DP",))
    receipt = debt.receipts[receipt_id]
    assert (receipt.status, receipt.recorded_by, receipt.recorded_on, receipt.allocations) == (
        ReceiptStatus.RECORDED, CASHIER, date(2025, 12, 20), ())
    assert (debt.received, debt.paid["DP"].principal, debt.total_outstanding) == (
        D("0.00"), D("0.00"), D("387115.64"))


def test_a_receipt_dated_after_today_is_refused():
    debt = opened()
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=date(2025, 12, 20)), uuid4(),
                                                             D("100.00"), date(2025, 12, 21), ReceiptMethod.CASH),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "value_date" and "future" in refusal.message


def test_a_receipt_dated_before_the_contract_date_is_refused_and_on_it_is_taken():
    debt = opened(drafted=date(2025, 12, 10), approved=CONTRACT_DATE)
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), uuid4(),
                                                             D("100.00"), date(2025, 12, 9), ReceiptMethod.CASH),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "value_date" and "2025-12-10" in refusal.message
    record(debt, "100.00", date(2025, 12, 10), day=CONTRACT_DATE)


def test_a_receipt_directed_at_an_unknown_item_is_refused_naming_the_items():
    debt = opened()
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), uuid4(),
                                                             D("100.00"), CONTRACT_DATE, ReceiptMethod.CASH,
                                                             allocate_to=["I1", "I13"]),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "allocate_to"
    assert "I13" in refusal.message and "DP, I1, I2" in refusal.message


def test_a_receipt_above_what_is_owed_is_refused_and_exactly_what_is_owed_is_taken():
    debt = opened()
    # 80,000.00 + 12 × 25,592.97 = 387,115.64
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), uuid4(),
                                                             D("387115.65"), CONTRACT_DATE, ReceiptMethod.CASH),
                           OverpaymentError, "overpayment", 422)
    assert refusal.details["owed"] == D("387115.64")
    record(debt, "387115.64", CONTRACT_DATE)


def test_receipts_waiting_for_confirmation_count_against_an_over_payment():
    debt = opened()
    first = record(debt, "300000.00", CONTRACT_DATE)
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), uuid4(),
                                                             D("87115.65"), CONTRACT_DATE, ReceiptMethod.CASH),
                           OverpaymentError, "overpayment", 422)
    assert refusal.details["owed"] == D("87115.64") and "waiting for confirmation" in refusal.message
    debt.reject_receipt(ctx(actor=FINANCE, day=CONTRACT_DATE, reason="typed twice"), first)
    settle(debt)
    record(debt, "387115.64", CONTRACT_DATE)    # a rejected receipt no longer counts


def test_a_receipt_directed_at_items_is_held_to_what_those_items_owe():
    debt = opened()
    # I1 + I2: 2 × 25,592.97 = 51,185.94
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), uuid4(),
                                                             D("51185.95"), CONTRACT_DATE, ReceiptMethod.CASH,
                                                             allocate_to=["I1", "I2"]),
                           OverpaymentError, "overpayment", 422)
    assert refusal.details["owed"] == D("51185.94") and "I1, I2" in refusal.message
    record(debt, "51185.94", CONTRACT_DATE, allocate_to=("I1", "I2"))


def test_a_directed_receipt_counts_the_waiting_receipts_that_may_pay_the_same_items():
    debt = opened()
    record(debt, "80000.00", CONTRACT_DATE, allocate_to=("DP",))
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), uuid4(),
                                                             D("0.01"), CONTRACT_DATE, ReceiptMethod.CASH,
                                                             allocate_to=["DP"]), OverpaymentError, "overpayment", 422)
    assert refusal.details["owed"] == D("0.00")
    # A waiting receipt directed at other items only does not count against I2.
    record(debt, "25592.97", CONTRACT_DATE, allocate_to=("I2",))
    # An undirected one may pay any item: of I1's 25,592.97, 5,000.00 may be taken by it.
    record(debt, "5000.00", CONTRACT_DATE)
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), uuid4(),
                                                             D("20592.98"), CONTRACT_DATE, ReceiptMethod.CASH,
                                                             allocate_to=["I1"]), OverpaymentError, "overpayment", 422)
    assert refusal.details["owed"] == D("20592.97")
    record(debt, "20592.97", CONTRACT_DATE, allocate_to=("I1",))


@pytest.mark.parametrize("amount", ["0.00", "-100.00", "100.001"])
def test_a_receipt_of_no_money_or_not_to_the_fen_is_refused(amount):
    debt = opened()
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), uuid4(),
                                                             D(amount), CONTRACT_DATE, ReceiptMethod.CASH),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "amount"


# ------------------------------------------------------------------ confirming, rejecting, reversing
def test_finance_confirms_a_receipt_which_then_counts():
    debt = opened()
    receipt_id = record(debt, "80000.00", CONTRACT_DATE)
    context = ctx(actor=FINANCE, day=date(2025, 12, 16))
    debt.confirm_receipt(context, receipt_id, RATES)
    [confirmed] = then_events(debt, Debt.ReceiptConfirmed)
    then_metadata(confirmed, context, HEFEI.id)
    assert confirmed.allocations == (Allocation("DP", D("0.00"), D("0.00"), D("80000.00")),)
    assert (debt.receipts[receipt_id].status, debt.received, debt.paid["DP"].principal, debt.total_outstanding) == (
        ReceiptStatus.CONFIRMED, D("80000.00"), D("80000.00"), D("307115.64"))


def test_whoever_recorded_a_receipt_does_not_confirm_it():
    debt = opened()
    receipt_id = record(debt, "80000.00", CONTRACT_DATE)
    refusal = then_refused(debt, lambda: debt.confirm_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), receipt_id,
                                                              RATES), OwnReceiptError, "own-receipt", 403)
    assert "another person" in refusal.message
    assert debt.receipts[receipt_id].status == ReceiptStatus.RECORDED


def test_a_receipt_is_confirmed_once():
    debt = opened()
    receipt_id = received(debt, "80000.00", CONTRACT_DATE)
    refusal = then_refused(debt, lambda: confirm(debt, receipt_id, CONTRACT_DATE), ReceiptStateError,
                           "receipt-state", 409)
    assert "confirmed" in refusal.message


def test_an_unknown_receipt_is_not_found():
    debt = opened()
    then_refused(debt, lambda: confirm(debt, uuid4(), CONTRACT_DATE), NotFoundError, "receipt-not-found", 404)


def test_rejecting_a_receipt_needs_a_reason_and_then_it_can_no_longer_be_confirmed():
    debt = opened()
    receipt_id = record(debt, "80000.00", CONTRACT_DATE)
    refusal = then_refused(debt, lambda: debt.reject_receipt(ctx(actor=FINANCE, day=CONTRACT_DATE), receipt_id),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "reason"
    context = ctx(actor=FINANCE, day=CONTRACT_DATE, reason="not on the bank statement")
    debt.reject_receipt(context, receipt_id)
    [rejected] = then_events(debt, Debt.ReceiptRejected)
    then_metadata(rejected, context, HEFEI.id)
    assert debt.receipts[receipt_id].status == ReceiptStatus.REJECTED
    then_refused(debt, lambda: confirm(debt, receipt_id, CONTRACT_DATE), ReceiptStateError, "receipt-state", 409)
    then_refused(debt, lambda: debt.reject_receipt(context, receipt_id), ReceiptStateError, "receipt-state", 409)


def test_a_confirmed_receipt_is_not_rejected():
    debt = opened()
    receipt_id = received(debt, "80000.00", CONTRACT_DATE)
    then_refused(debt, lambda: debt.reject_receipt(ctx(actor=FINANCE, reason="no"), receipt_id), ReceiptStateError,
                 "receipt-state", 409)


def test_only_a_confirmed_receipt_is_reversed_and_with_a_reason():
    debt = opened()
    waiting = record(debt, "80000.00", CONTRACT_DATE)
    then_refused(debt, lambda: debt.reverse_receipt(ctx(actor=FINANCE, reason="bounced"), waiting, RATES),
                 ReceiptStateError, "receipt-state", 409)
    confirm(debt, waiting, CONTRACT_DATE)
    settle(debt)
    refusal = then_refused(debt, lambda: debt.reverse_receipt(ctx(actor=FINANCE, day=CONTRACT_DATE), waiting, RATES),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "reason"
    context = ctx(actor=FINANCE, day=CONTRACT_DATE, reason="cheque bounced")
    debt.reverse_receipt(context, waiting, RATES)
    [reversed_] = then_events(debt, Debt.ReceiptReversed)
    then_metadata(reversed_, context, HEFEI.id)
    assert (debt.receipts[waiting].status, debt.receipts[waiting].allocations, debt.received,
            debt.paid["DP"].principal) == (ReceiptStatus.REVERSED, (), D("0.00"), D("0.00"))
    then_refused(debt, lambda: debt.reverse_receipt(context, waiting, RATES), ReceiptStateError, "receipt-state", 409)


# ------------------------------------------------------------------ un-approval
def test_unapproval_closes_a_debt_under_which_nothing_was_received():
    debt = opened()
    rejected = record(debt, "100.00", CONTRACT_DATE)
    debt.reject_receipt(ctx(actor=FINANCE, reason="wrong contract"), rejected)
    reversed_ = received(debt, "200.00", CONTRACT_DATE)
    debt.reverse_receipt(ctx(actor=FINANCE, day=CONTRACT_DATE, reason="bounced"), reversed_, RATES)
    settle(debt)
    context = ctx(day=date(2025, 12, 20), reason="customer withdrew")
    debt.close_for_unapproval(context)
    [closed] = then_events(debt, Debt.Closed)
    then_metadata(closed, context, HEFEI.id)
    assert debt.status == DebtStatus.CLOSED
    debt.close_for_unapproval(context)      # already closed: nothing to record
    then_events(debt)


def test_unapproval_is_refused_once_a_receipt_was_confirmed():
    debt = opened()
    received(debt, "100.00", CONTRACT_DATE)
    refusal = then_refused(debt, lambda: debt.close_for_unapproval(ctx(reason="withdrawn")),
                           ContractAlreadyStartedError, "contract-already-started", 409)
    assert "100.00" in refusal.message and debt.status == DebtStatus.OPEN


def test_unapproval_is_refused_while_a_receipt_waits_for_confirmation():
    debt = opened()
    record(debt, "100.00", CONTRACT_DATE)
    refusal = then_refused(debt, lambda: debt.close_for_unapproval(ctx(reason="withdrawn")),
                           ContractAlreadyStartedError, "contract-already-started", 409)
    assert "waiting for confirmation" in refusal.message


def test_a_closed_debt_takes_no_receipt_and_accrues_nothing():
    debt = opened()
    debt.close_for_unapproval(ctx(day=CONTRACT_DATE, reason="withdrawn"))
    settle(debt)
    then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=CONTRACT_DATE), uuid4(), D("1.00"),
                                                   CONTRACT_DATE, ReceiptMethod.CASH),
                 DebtStateError, "debt-state", 409)
    assert debt.accrue_penalties(ctx(day=date(2026, 3, 2)), date(2026, 3, 1), RATES) is False
    then_events(debt)


def test_a_closed_debt_reopens_from_the_contracts_terms_and_an_open_one_does_not():
    contract = approved_contract(installment_terms())
    debt = given(Debt.open_for(ctx(day=CONTRACT_DATE), contract.approved_sale()))
    then_refused(debt, lambda: debt.reopen_for(ctx(), contract.approved_sale()), DebtStateError, "debt-state", 409)
    debt.close_for_unapproval(ctx(day=CONTRACT_DATE, reason="withdrawn"))
    settle(debt)
    debt.reopen_for(ctx(day=date(2025, 12, 20)), contract.approved_sale())
    [reopened] = then_events(debt, Debt.Reopened)
    assert (reopened.financed, reopened.items[0]) == (
        D("300000.00"), DebtItem("DP", ItemKind.DOWN_PAYMENT, date(2025, 12, 20), D("80000.00"), D("0.00")))
    assert (debt.status, debt.opened_on, debt.accrued_through) == (DebtStatus.OPEN, date(2025, 12, 20),
                                                                   date(2025, 12, 20))


# ------------------------------------------------------------------ how a receipt is split
def test_a_receipt_pays_the_oldest_due_item_first():
    debt = opened()
    receipt_id = received(debt, "100000.00", CONTRACT_DATE)
    # DP 80,000.00, then I1: its interest 1,087.50, then 18,912.50 of its principal.
    assert debt.receipts[receipt_id].allocations == (
        Allocation("DP", D("0.00"), D("0.00"), D("80000.00")),
        Allocation("I1", D("0.00"), D("1087.50"), D("18912.50")))
    assert unpaid(debt, "I1") == (D("5592.97"), D("0.00"))


def test_items_due_the_same_day_are_paid_down_payment_then_installments_by_number_then_deposit():
    due = date(2026, 6, 30)
    debt = debt_of(DebtItem("WD", ItemKind.WARRANTY_DEPOSIT, due, D("1000.00"), D("0.00")),
                   DebtItem("I2", ItemKind.INSTALLMENT, due, D("1000.00"), D("0.00")),
                   DebtItem("I1", ItemKind.INSTALLMENT, due, D("900.00"), D("100.00")),
                   DebtItem("DP", ItemKind.DOWN_PAYMENT, due, D("1000.00"), D("0.00")))
    receipt_id = received(debt, "3500.00", CONTRACT_DATE)
    assert debt.receipts[receipt_id].allocations == (
        Allocation("DP", D("0.00"), D("0.00"), D("1000.00")),
        Allocation("I1", D("0.00"), D("100.00"), D("900.00")),
        Allocation("I2", D("0.00"), D("0.00"), D("1000.00")),
        Allocation("WD", D("0.00"), D("0.00"), D("500.00")))


def test_within_an_item_a_receipt_pays_penalty_then_interest_then_principal():
    debt = march_unpaid()
    run_daily(debt, date(2026, 4, 1), date(2026, 4, 9))         # 115.20 penalty on I3
    receipt_id = received(debt, "500.00", date(2026, 4, 10))
    # 115.20 penalty, then 500.00 − 115.20 = 384.80 of the 909.51 interest, no principal.
    assert debt.receipts[receipt_id].allocations == (Allocation("I3", D("115.20"), D("384.80"), D("0.00")),)
    assert unpaid(debt, "I3") == (D("24683.46"), D("524.71"))


def test_a_directed_receipt_pays_only_the_named_items_in_the_order_named():
    debt = opened()
    # I3 in full (909.51 + 24,683.46), then 1,000.00 of I2 (998.67 interest, 1.33 principal); DP untouched.
    receipt_id = received(debt, "26592.97", CONTRACT_DATE, allocate_to=("i3", " I2 "))
    assert debt.receipts[receipt_id].allocate_to == ("I3", "I2")
    assert debt.receipts[receipt_id].allocations == (
        Allocation("I3", D("0.00"), D("909.51"), D("24683.46")),
        Allocation("I2", D("0.00"), D("998.67"), D("1.33")))
    assert (unpaid(debt, "DP"), unpaid(debt, "I1")) == ((D("80000.00"), D("0.00")), (D("24505.47"), D("1087.50")))


def test_receipts_of_one_value_date_apply_in_the_order_they_were_confirmed():
    debt = opened()
    first, second = record(debt, "50000.00", CONTRACT_DATE), record(debt, "40000.00", CONTRACT_DATE)
    confirm(debt, second, CONTRACT_DATE)
    confirm(debt, first, CONTRACT_DATE)
    settle(debt)
    # second (confirmed first): 40,000.00 of DP; first: the other 40,000.00 of DP, then I1.
    assert debt.receipts[second].allocations == (Allocation("DP", D("0.00"), D("0.00"), D("40000.00")),)
    assert debt.receipts[first].allocations == (Allocation("DP", D("0.00"), D("0.00"), D("40000.00")),
                                                Allocation("I1", D("0.00"), D("1087.50"), D("8912.50")))
    assert (debt.receipts[second].sequence, debt.receipts[first].sequence) == (1, 2)


# ------------------------------------------------------------------ penalty policy
def test_a_penalty_policy_starts_with_a_rate_taking_effect_after_today():
    company = uuid4()
    context = ctx(day=date(2026, 3, 1))
    rate = PenaltyPolicy.check_rate(context, date(2026, 3, 2), "0.0005", 3)
    assert rate == PenaltyRate(date(2026, 3, 2), D("0.0005"), 3)
    policy = PenaltyPolicy.start(context, company, rate)
    [created] = then_events(policy, PenaltyPolicy.Created)
    then_metadata(created, context, company)
    assert (policy.id, created.rate, policy.rates.rates) == (ids.penalty_policy_id(company), rate, (rate,))


@pytest.mark.parametrize("effective", [date(2026, 3, 1), date(2026, 2, 1)], ids=["today", "past"])
def test_a_penalty_rate_takes_effect_only_after_the_business_date(effective):
    with pytest.raises(PenaltyRateNotInFutureError) as refused:
        PenaltyPolicy.check_rate(ctx(day=date(2026, 3, 1)), effective, "0.0005", 0)
    assert (refused.value.code, status_of(refused.value), refused.value.details["field"]) == (
        "penalty-rate-not-in-future", 422, "effective_from")
    assert "2026-03-01" in refused.value.message


@pytest.mark.parametrize("rate", ["-0.0001", "0.01000001", "0.011", "0.000000001", "NaN", "Infinity"])
def test_a_daily_rate_outside_0_to_1_percent_or_with_more_than_eight_places_is_refused(rate):
    with pytest.raises(InvalidValueError) as refused:
        PenaltyPolicy.check_rate(ctx(day=date(2026, 3, 1)), date(2026, 3, 2), D(rate), 0)
    assert (refused.value.code, status_of(refused.value), refused.value.details["field"]) == (
        "invalid-value", 422, "daily_rate")


@pytest.mark.parametrize(("rate", "stored"), [("0.01", "0.01"), ("0", "0"), ("0.00000001", "1E-8"),
                                              ("0.00050000", "0.0005")])
def test_a_daily_rate_within_bounds_is_taken_without_trailing_zeros(rate, stored):
    checked = PenaltyPolicy.check_rate(ctx(day=date(2026, 3, 1)), date(2026, 3, 2), rate, 0)
    assert checked.daily_rate == D(stored) and str(checked.daily_rate) == stored


@pytest.mark.parametrize(("grace", "taken"), [(-1, False), (0, True), (90, True), (91, False)])
def test_grace_days_are_between_0_and_90(grace, taken):
    check = lambda: PenaltyPolicy.check_rate(ctx(day=date(2026, 3, 1)), date(2026, 3, 2), "0.0005", grace)  # noqa: E731
    if taken:
        assert check().grace_days == grace
    else:
        with pytest.raises(InvalidValueError) as refused:
            check()
        assert refused.value.details["field"] == "grace_days"


def test_a_rate_set_for_a_date_that_already_has_one_replaces_it_and_rates_stay_in_date_order():
    day = date(2026, 4, 1)
    policy = given(PenaltyPolicy.start(ctx(day=CONTRACT_DATE), HEFEI.id,
                                       PenaltyRate(date(2026, 1, 1), D("0.0005"), 0)))
    policy.set_rate(ctx(day=day), PenaltyPolicy.check_rate(ctx(day=day), date(2026, 5, 1), "0.0006", 0))
    policy.set_rate(ctx(day=day), PenaltyPolicy.check_rate(ctx(day=day), date(2026, 4, 15), "0.0007", 0))
    context = ctx(day=day)
    policy.set_rate(context, PenaltyPolicy.check_rate(context, date(2026, 5, 1), "0.0008", 2))
    *_, last = then_events(policy, PenaltyPolicy.RateSet, PenaltyPolicy.RateSet, PenaltyPolicy.RateSet)
    then_metadata(last, context, HEFEI.id)
    assert policy.rates.rates == (PenaltyRate(date(2026, 1, 1), D("0.0005"), 0),
                                  PenaltyRate(date(2026, 4, 15), D("0.0007"), 0),
                                  PenaltyRate(date(2026, 5, 1), D("0.0008"), 2))


def test_penalty_rates_on_a_day_are_the_last_in_force_that_day():
    first, second = PenaltyRate(date(2026, 1, 1), D("0.0005")), PenaltyRate(date(2026, 4, 15), D("0.0006"))
    rates = PenaltyRates((first, second))
    assert rates.on(date(2025, 12, 31)) is None
    assert rates.on(date(2026, 1, 1)) == first
    assert rates.on(date(2026, 4, 14)) == first
    assert rates.on(date(2026, 4, 15)) == second
    assert rates.on(date(2030, 1, 1)) == second
    assert PenaltyRates().on(date(2026, 1, 1)) is None
    assert RATES.on(date(2026, 4, 14)).daily_rate == D("0.0005") and RATES.on(date(2026, 4, 15)).daily_rate == D(
        "0.0006")


# ------------------------------------------------------------------ penalty: the worked example
def test_the_unpaid_march_installment_accrues_12_80_a_day_from_april_1():
    debt = march_unpaid()
    context = ctx(day=date(2026, 4, 2))
    assert debt.accrue_penalties(context, date(2026, 4, 1), RATES) is True
    [accrued] = then_events(debt, Debt.PenaltyAccrued)
    then_metadata(accrued, context, HEFEI.id)
    # 25,592.97 × 0.0005 = 12.796485 → 12.80
    assert (accrued.through, accrued.lines) == (date(2026, 4, 1), (
        PenaltyLine("I3", date(2026, 4, 1), date(2026, 4, 1), D("25592.97"), D("0.0005"), D("12.80")),))
    events = run_daily(debt, date(2026, 4, 2), date(2026, 4, 9))
    assert len(events) == 8 and all(e.lines[0].daily_amount == D("12.80") for e in events)
    assert (debt.penalty_charged["I3"], debt.penalty_outstanding("I3"), debt.accrued_through) == (
        D("115.20"), D("115.20"), date(2026, 4, 9))
    assert all(amount == 0 for key, amount in debt.penalty_charged.items() if key != "I3")
    recorded_is_the_replay(debt)


def test_the_daily_job_catches_up_missed_days_in_one_event():
    debt = march_unpaid()
    debt.accrue_penalties(ctx(day=date(2026, 4, 10)), date(2026, 4, 9), RATES)
    [accrued] = then_events(debt, Debt.PenaltyAccrued)
    assert accrued.lines == (PenaltyLine("I3", date(2026, 4, 1), date(2026, 4, 9), D("25592.97"), D("0.0005"),
                                         D("12.80")),)
    assert accrued.lines[0].amount == D("115.20")


def test_the_april_10_receipt_pays_the_penalty_then_the_interest_then_principal():
    debt = march_unpaid()
    run_daily(debt, date(2026, 4, 1), date(2026, 4, 9))
    receipt_id = record(debt, "10000.00", date(2026, 4, 10))
    confirm(debt, receipt_id, date(2026, 4, 10))
    [confirmed] = then_events(debt, Debt.ReceiptConfirmed)
    # 115.20 penalty, 909.51 interest, 10,000.00 − 115.20 − 909.51 = 8,975.29 principal
    assert confirmed.allocations == (Allocation("I3", D("115.20"), D("909.51"), D("8975.29")),)
    assert unpaid(debt, "I3") == (D("15708.17"), D("0.00"))     # 24,683.46 − 8,975.29
    assert debt.penalty_outstanding("I3") == D("0.00")


def on_time_example() -> tuple[Debt, UUID]:
    """SCENARIO.md: the job ran every day; the 10,000.00 receipt recorded and confirmed on
    its value date 04-10; the job ran on through 04-20."""
    debt = march_unpaid()
    run_daily(debt, date(2026, 4, 1), date(2026, 4, 9))
    receipt_id = received(debt, "10000.00", date(2026, 4, 10))
    run_daily(debt, date(2026, 4, 10), date(2026, 4, 20))
    return debt, receipt_id


def the_worked_example_figures_through_april_20(debt: Debt) -> None:
    assert debt.penalty_charged["I3"] == D("210.97")           # 115.20 + 39.25 + 56.52
    assert debt.paid["I3"] == Paid(principal=D("8975.29"), interest=D("909.51"), penalty=D("115.20"))
    assert debt.penalty_outstanding("I3") == D("95.77")
    assert unpaid(debt, "I3") == (D("15708.17"), D("0.00"))
    assert debt.accrued_through == date(2026, 4, 20)
    # April's installment is due 04-30: nothing else is overdue.
    assert {key for key, _ in debt.recorded_penalty()} == {"I3"}
    recorded_is_the_replay(debt)


def test_through_april_20_the_penalty_is_210_97_of_which_95_77_is_outstanding():
    debt, _ = on_time_example()
    the_worked_example_figures_through_april_20(debt)
    by_day = penalty_by_day(debt, "I3")
    # 04-01 … 04-09: 12.80; 04-10 … 04-14: round(15,708.17 × 0.0005 = 7.854085) = 7.85;
    # 04-15 … 04-20: round(15,708.17 × 0.0006 = 9.424902) = 9.42.
    assert by_day == {**{day: D("12.80") for day in days(date(2026, 4, 1), date(2026, 4, 9))},
                      **{day: D("7.85") for day in days(date(2026, 4, 10), date(2026, 4, 14))},
                      **{day: D("9.42") for day in days(date(2026, 4, 15), date(2026, 4, 20))}}
    assert sum(by_day.values()) == D("210.97")
    lines = [line for line in debt.penalty_lines if line.first_day == date(2026, 4, 15)]
    # The debt keeps one line per change: 04-15 … 04-20 at the same overdue, rate and amount are one.
    assert lines == [PenaltyLine("I3", date(2026, 4, 15), date(2026, 4, 20), D("15708.17"), D("0.0006"), D("9.42"))]


def test_backdated_receipt_corrects_penalties_already_accrued():
    debt = march_unpaid()
    run_daily(debt, date(2026, 4, 1), date(2026, 4, 17))
    # On the full 25,592.97: 14 × 12.80 to 04-14, then round(25,592.97 × 0.0006 = 15.355782) = 15.36 × 3.
    assert debt.penalty_charged["I3"] == D("225.28")
    receipt_id = record(debt, "10000.00", date(2026, 4, 10), day=date(2026, 4, 18))
    confirm(debt, receipt_id, date(2026, 4, 18))
    adjusted, confirmed = then_events(debt, Debt.PenaltyAdjusted, Debt.ReceiptConfirmed)
    # 04-10 … 04-14: 7.85 − 12.80 = −4.95 a day; 04-15 … 04-17: 9.42 − 15.36 = −5.94 a day.
    assert adjusted.caused_by == receipt_id
    assert adjusted.lines == (
        PenaltyLine("I3", date(2026, 4, 10), date(2026, 4, 14), D("15708.17"), D("0.0005"), D("-4.95")),
        PenaltyLine("I3", date(2026, 4, 15), date(2026, 4, 17), D("15708.17"), D("0.0006"), D("-5.94")))
    assert confirmed.allocations == (Allocation("I3", D("115.20"), D("909.51"), D("8975.29")),)
    # 225.28 − 5 × 4.95 − 3 × 5.94 = 182.71 = 115.20 + 5 × 7.85 + 3 × 9.42
    assert debt.penalty_charged["I3"] == D("182.71")
    recorded_is_the_replay(debt)
    run_daily(debt, date(2026, 4, 18), date(2026, 4, 20))
    the_worked_example_figures_through_april_20(debt)
    on_time, _ = on_time_example()
    assert debt.recorded_penalty() == on_time.recorded_penalty()
    # The job again, for any day that has ended (some already accrued twice over): nothing.
    for day in days(date(2026, 3, 30), date(2026, 4, 20)):
        assert debt.accrue_penalties(ctx(day=date(2026, 4, 21)), day, RATES) is False
    then_events(debt)
    the_worked_example_figures_through_april_20(debt)


def test_the_daily_job_run_twice_for_a_day_records_nothing_the_second_time():
    debt = march_unpaid()
    assert debt.accrue_penalties(ctx(day=date(2026, 4, 3)), date(2026, 4, 2), RATES) is True
    then_events(debt, Debt.PenaltyAccrued)
    assert debt.accrue_penalties(ctx(day=date(2026, 4, 3)), date(2026, 4, 2), RATES) is False
    assert debt.accrue_penalties(ctx(day=date(2026, 4, 4)), date(2026, 4, 2), RATES) is False
    assert debt.accrue_penalties(ctx(day=date(2026, 4, 4)), date(2026, 4, 1), RATES) is False
    then_events(debt)
    assert debt.penalty_charged["I3"] == D("25.60")


@pytest.mark.parametrize("through", [date(2026, 4, 5), date(2026, 4, 6)], ids=["today", "tomorrow"])
def test_the_daily_job_refuses_a_day_that_has_not_ended(through):
    debt = march_unpaid()
    refusal = then_refused(debt, lambda: debt.accrue_penalties(ctx(day=date(2026, 4, 5)), through, RATES),
                           PenaltyDateError, "penalty-date", 422)
    assert refusal.details["field"] == "through"


def test_a_receipt_dated_after_days_not_yet_accrued_brings_their_penalty_in_first():
    debt = march_unpaid()
    run_daily(debt, date(2026, 4, 1), date(2026, 4, 5))
    receipt_id = record(debt, "10000.00", date(2026, 4, 10))
    confirm(debt, receipt_id, date(2026, 4, 10))
    accrued, confirmed = then_events(debt, Debt.PenaltyAccrued, Debt.ReceiptConfirmed)
    assert (accrued.through, accrued.lines) == (date(2026, 4, 9), (
        PenaltyLine("I3", date(2026, 4, 6), date(2026, 4, 9), D("25592.97"), D("0.0005"), D("12.80")),))
    assert confirmed.allocations == (Allocation("I3", D("115.20"), D("909.51"), D("8975.29")),)
    run_daily(debt, date(2026, 4, 10), date(2026, 4, 20))
    the_worked_example_figures_through_april_20(debt)


# ------------------------------------------------------------------ penalty: more cases
def test_two_rate_changes_in_a_month_and_a_partial_payment():
    policy = PenaltyPolicy.start(ctx(day=CONTRACT_DATE), HEFEI.id,
                                 PenaltyPolicy.check_rate(ctx(day=CONTRACT_DATE), date(2026, 1, 1), "0.0005", 0))
    may_1 = ctx(day=date(2026, 5, 1))
    policy.set_rate(may_1, PenaltyPolicy.check_rate(may_1, date(2026, 5, 10), "0.0004", 0))
    policy.set_rate(may_1, PenaltyPolicy.check_rate(may_1, date(2026, 5, 20), "0.0008", 0))
    rates = given(policy).rates
    debt = march_unpaid(rates, pay_march=True)
    assert run_daily(debt, date(2026, 4, 1), date(2026, 4, 30), rates) == []
    # I4, due 04-30, unpaid: 24,772.93 principal + 820.04 interest = 25,592.97 overdue.
    run_daily(debt, date(2026, 5, 1), date(2026, 5, 14), rates)
    # 05-01 … 05-09: round(25,592.97 × 0.0005 = 12.796485) = 12.80 × 9 = 115.20
    # 05-10 … 05-14: round(25,592.97 × 0.0004 = 10.237188) = 10.24 × 5 =  51.20
    assert debt.penalty_charged["I4"] == D("166.40")
    receipt_id = received(debt, "5000.00", date(2026, 5, 15), rates=rates)
    # 5,000.00: penalty 166.40, interest 820.04, principal 5,000.00 − 166.40 − 820.04 = 4,013.56
    assert debt.receipts[receipt_id].allocations == (Allocation("I4", D("166.40"), D("820.04"), D("4013.56")),)
    assert unpaid(debt, "I4") == (D("20759.37"), D("0.00"))     # 24,772.93 − 4,013.56
    run_daily(debt, date(2026, 5, 15), date(2026, 5, 31), rates)
    # 05-15 … 05-19: round(20,759.37 × 0.0004 = 8.303748) = 8.30 × 5 = 41.50
    # 05-20 … 05-31: round(20,759.37 × 0.0008 = 16.607496) = 16.61 × 12 = 199.32
    # I5 falls due 05-31: not yet overdue.
    assert penalty_by_day(debt, "I4") == {
        **{day: D("12.80") for day in days(date(2026, 5, 1), date(2026, 5, 9))},
        **{day: D("10.24") for day in days(date(2026, 5, 10), date(2026, 5, 14))},
        **{day: D("8.30") for day in days(date(2026, 5, 15), date(2026, 5, 19))},
        **{day: D("16.61") for day in days(date(2026, 5, 20), date(2026, 5, 31))}}
    # 115.20 + 51.20 + 41.50 + 199.32 = 407.22 charged; 166.40 paid; 240.82 outstanding.
    assert (debt.penalty_charged["I4"], debt.paid["I4"].penalty, debt.penalty_outstanding("I4")) == (
        D("407.22"), D("166.40"), D("240.82"))
    assert {key for key, _ in debt.recorded_penalty()} == {"I4"}
    recorded_is_the_replay(debt, rates)


def test_an_installment_due_on_a_leap_years_february_28_is_overdue_on_the_29th_and_march_1():
    debt = debt_of(DebtItem("I1", ItemKind.INSTALLMENT, date(2028, 2, 28), D("10000.00"), D("0.00")),
                   contract_date=date(2028, 1, 10))
    rates = PenaltyRates((PenaltyRate(date(2028, 1, 1), D("0.0005")),))
    events = run_daily(debt, date(2028, 1, 11), date(2028, 3, 1), rates)
    # 10,000.00 × 0.0005 = 5.00 a day, from the day after the due date.
    assert [(e.through, e.lines) for e in events] == [
        (date(2028, 2, 29), (PenaltyLine("I1", date(2028, 2, 29), date(2028, 2, 29), D("10000.00"), D("0.0005"),
                                         D("5.00")),)),
        (date(2028, 3, 1), (PenaltyLine("I1", date(2028, 3, 1), date(2028, 3, 1), D("10000.00"), D("0.0005"),
                                        D("5.00")),))]
    assert debt.penalty_charged["I1"] == D("10.00")
    recorded_is_the_replay(debt, rates)


def test_an_installment_due_on_january_31_is_overdue_from_february_1():
    debt = opened()
    received(debt, "80000.00", CONTRACT_DATE)
    assert run_daily(debt, date(2025, 12, 16), date(2026, 1, 31)) == []
    [accrued] = run_daily(debt, date(2026, 2, 1), date(2026, 2, 1))
    assert accrued.lines == (PenaltyLine("I1", date(2026, 2, 1), date(2026, 2, 1), D("25592.97"), D("0.0005"),
                                         D("12.80")),)


def test_penalty_starts_only_after_the_due_date_plus_the_grace_days():
    rates = PenaltyRates((PenaltyRate(date(2026, 1, 1), D("0.0005"), 3),))
    debt = march_unpaid(rates)
    assert run_daily(debt, date(2026, 4, 1), date(2026, 4, 3), rates) == []
    [accrued] = run_daily(debt, date(2026, 4, 4), date(2026, 4, 4), rates)
    assert accrued.lines == (PenaltyLine("I3", date(2026, 4, 4), date(2026, 4, 4), D("25592.97"), D("0.0005"),
                                         D("12.80")),)
    run_daily(debt, date(2026, 4, 5), date(2026, 4, 5), rates)
    assert debt.penalty_charged["I3"] == D("25.60")             # the grace days are never charged
    recorded_is_the_replay(debt, rates)


def test_the_grace_days_are_those_in_force_on_each_day():
    # Grace 0 until 04-02, then 5 days from 04-03: 04-03 … 04-05 are inside 03-31 + 5 again.
    rates = PenaltyRates((PenaltyRate(date(2026, 1, 1), D("0.0005"), 0), PenaltyRate(date(2026, 4, 3), D("0.0005"), 5)))
    debt = march_unpaid(rates)
    run_daily(debt, date(2026, 4, 1), date(2026, 4, 7), rates)
    assert sorted(penalty_by_day(debt, "I3")) == [date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 6),
                                                  date(2026, 4, 7)]
    assert debt.penalty_charged["I3"] == D("51.20")             # 4 × 12.80


def test_a_zero_rate_charges_nothing():
    rates = PenaltyRates((PenaltyRate(date(2026, 1, 1), D("0.0005")), PenaltyRate(date(2026, 4, 3), D("0"))))
    debt = march_unpaid(rates)
    run_daily(debt, date(2026, 4, 1), date(2026, 4, 10), rates)
    assert sorted(penalty_by_day(debt, "I3")) == [date(2026, 4, 1), date(2026, 4, 2)]
    assert debt.penalty_charged["I3"] == D("25.60")


def test_a_reversal_restores_the_penalty_after_its_value_date_and_resplits_a_later_receipt():
    # The worked example, with a second receipt of 1,000.00 on 04-18.
    debt = march_unpaid()
    run_daily(debt, date(2026, 4, 1), date(2026, 4, 9))
    first = received(debt, "10000.00", date(2026, 4, 10))
    run_daily(debt, date(2026, 4, 10), date(2026, 4, 17))
    second = received(debt, "1000.00", date(2026, 4, 18))
    # Penalty outstanding by 04-17: 5 × 7.85 + 3 × 9.42 = 67.51; the rest, 932.49, is principal.
    assert debt.receipts[second].allocations == (Allocation("I3", D("67.51"), D("0.00"), D("932.49")),)
    run_daily(debt, date(2026, 4, 18), date(2026, 4, 20))
    # Principal 15,708.17 − 932.49 = 14,775.68; round(14,775.68 × 0.0006 = 8.865408) = 8.87 a day.
    assert penalty_by_day(debt, "I3")[date(2026, 4, 20)] == D("8.87")

    context = ctx(actor=FINANCE, day=date(2026, 4, 21), reason="cheque bounced")
    debt.reverse_receipt(context, first, RATES)
    reversed_, adjusted, reallocated = then_events(debt, Debt.ReceiptReversed, Debt.PenaltyAdjusted,
                                                   Debt.ReceiptReallocated)
    assert reversed_.receipt_id == first and adjusted.caused_by == first
    # Without the first receipt: 25,592.97 stays overdue until 04-18, 12.80 and 15.36 a day.
    # By 04-17: 115.20 + 5 × 12.80 + 3 × 15.36 = 225.28 of penalty, so the second receipt pays
    # 225.28 penalty and 774.72 interest: unpaid 909.51 − 774.72 = 134.79 interest and the whole
    # 24,683.46 principal, 24,818.25 overdue → round(24,818.25 × 0.0006 = 14.89095) = 14.89.
    # Corrections: +4.95 (12.80 − 7.85), +5.94 (15.36 − 9.42), +6.02 (14.89 − 8.87) a day.
    assert adjusted.lines == (
        PenaltyLine("I3", date(2026, 4, 10), date(2026, 4, 14), D("25592.97"), D("0.0005"), D("4.95")),
        PenaltyLine("I3", date(2026, 4, 15), date(2026, 4, 17), D("25592.97"), D("0.0006"), D("5.94")),
        PenaltyLine("I3", date(2026, 4, 18), date(2026, 4, 20), D("24818.25"), D("0.0006"), D("6.02")))
    assert (reallocated.receipt_id, reallocated.caused_by, reallocated.allocations) == (
        second, first, (Allocation("I3", D("225.28"), D("774.72"), D("0.00")),))
    # 115.20 + 64.00 + 46.08 + 3 × 14.89 = 269.95 charged; 225.28 paid; 44.67 outstanding.
    assert (debt.penalty_charged["I3"], debt.paid["I3"].penalty, debt.penalty_outstanding("I3")) == (
        D("269.95"), D("225.28"), D("44.67"))
    assert unpaid(debt, "I3") == (D("24683.46"), D("134.79"))
    assert debt.received == D("132185.94")      # 80,000.00 + 2 × 25,592.97 + 1,000.00: the first is out
    recorded_is_the_replay(debt)
    assert run_daily(debt, date(2026, 4, 10), date(2026, 4, 20)) == []


def test_a_backdated_receipt_resplits_a_later_dated_receipt():
    debt = march_unpaid()
    run_daily(debt, date(2026, 4, 1), date(2026, 4, 15))
    later = received(debt, "1000.00", date(2026, 4, 16))
    # By 04-15: 14 × 12.80 + 15.36 = 194.56 penalty; then 805.44 of the interest.
    assert debt.receipts[later].allocations == (Allocation("I3", D("194.56"), D("805.44"), D("0.00")),)
    run_daily(debt, date(2026, 4, 16), date(2026, 4, 17))
    # Overdue 24,683.46 + (909.51 − 805.44 = 104.07) = 24,787.53 → round(× 0.0006 = 14.872518) = 14.87
    assert penalty_by_day(debt, "I3")[date(2026, 4, 17)] == D("14.87")

    backdated = record(debt, "10000.00", date(2026, 4, 10), day=date(2026, 4, 18))
    confirm(debt, backdated, date(2026, 4, 18))
    adjusted, reallocated, confirmed = then_events(debt, Debt.PenaltyAdjusted, Debt.ReceiptReallocated,
                                                   Debt.ReceiptConfirmed)
    # With the backdated receipt: 15,708.17 principal from 04-10: 7.85 (04-10 … 04-14), 9.42 (04-15);
    # the later receipt pays 5 × 7.85 + 9.42 = 48.67 penalty and 951.33 principal → 14,756.84,
    # round(14,756.84 × 0.0006 = 8.854104) = 8.85 on 04-16 and 04-17.
    assert adjusted.lines == (
        PenaltyLine("I3", date(2026, 4, 10), date(2026, 4, 14), D("15708.17"), D("0.0005"), D("-4.95")),
        PenaltyLine("I3", date(2026, 4, 15), date(2026, 4, 15), D("15708.17"), D("0.0006"), D("-5.94")),
        PenaltyLine("I3", date(2026, 4, 16), date(2026, 4, 17), D("14756.84"), D("0.0006"), D("-6.02")))
    assert (reallocated.receipt_id, reallocated.caused_by, reallocated.allocations) == (
        later, backdated, (Allocation("I3", D("48.67"), D("0.00"), D("951.33")),))
    assert confirmed.allocations == (Allocation("I3", D("115.20"), D("909.51"), D("8975.29")),)
    # 115.20 + 39.25 + 9.42 + 2 × 8.85 = 181.57 charged; 115.20 + 48.67 = 163.87 paid; 17.70 outstanding.
    assert (debt.penalty_charged["I3"], debt.paid["I3"].penalty, debt.penalty_outstanding("I3")) == (
        D("181.57"), D("163.87"), D("17.70"))
    assert unpaid(debt, "I3") == (D("14756.84"), D("0.00"))
    recorded_is_the_replay(debt)


def test_a_reversal_charges_the_days_before_a_later_receipt_even_when_nothing_was_charged_before():
    rates = PenaltyRates((PenaltyRate(date(2025, 12, 1), D("0.0005")),))
    debt = opened()
    down = received(debt, "80000.00", CONTRACT_DATE, rates=rates)
    assert run_daily(debt, date(2025, 12, 16), date(2026, 1, 19), rates) == []     # nothing overdue
    # A prepayment of I1 while nothing was ever charged (the daily job found nothing to charge).
    later = received(debt, "10000.00", date(2026, 1, 20), rates=rates)
    assert debt.receipts[later].allocations == (Allocation("I1", D("0.00"), D("1087.50"), D("8912.50")),)
    debt.reverse_receipt(ctx(actor=FINANCE, day=date(2026, 1, 25), reason="bounced"), down, rates)
    settle(debt)
    run_daily(debt, date(2026, 1, 20), date(2026, 1, 25), rates)
    # Without the down payment: 80,000.00 × 0.0005 = 40.00 a day 12-16 … 01-19 (35 days, 1,400.00);
    # the 01-20 receipt pays that 1,400.00 and 8,600.00 of the down payment's principal, leaving
    # 71,400.00 overdue: 35.70 a day 01-20 … 01-25 (6 days, 214.20): 1,614.20 in all.
    assert debt.receipts[later].allocations == (Allocation("DP", D("1400.00"), D("0.00"), D("8600.00")),)
    assert penalty_by_day(debt, "DP") == {**{day: D("40.00") for day in days(date(2025, 12, 16), date(2026, 1, 19))},
                                          **{day: D("35.70") for day in days(date(2026, 1, 20), date(2026, 1, 25))}}
    assert (debt.penalty_charged["DP"], debt.penalty_outstanding("DP")) == (D("1614.20"), D("214.20"))
    recorded_is_the_replay(debt, rates)
