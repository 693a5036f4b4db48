"""Given / when / then for debt collection (催收) without a store: the collector and the
collection logs on the debt, applications held as pending on it, the interest waiver
(利息减免) and how it stays exact through backdated receipts and reversals, receipts paying
``penalty_last``, settlement (结清) and the release of the documents; the
``CollectionApplication`` (apply, approval route, decisions, lock / unlock / tow
registration and the machine received back); the ``MachineUnit`` locked, unlocked, towed and
received back as a repossessed unit.

Expected figures are worked out by hand (the arithmetic is in the comments), never with the
code under test; money is ROUND_HALF_UP to the fen."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.access import Role, Scope
from domain.approvals import (AmountBand, ApprovalRule, ApprovalStep, Decider, DocumentType, NoApprovalRuleError,
                              NotYourStepError, Route, SelfApprovalError, StepScope)
from domain.base import InvalidValueError
from domain.collection import ApplicationStateError, ApplicationStatus, CollectionApplication
from domain.machines import (MachineLockStateError, MachineNature, MachineNotOutError, MachineStatus, MachineUnit,
                             WarehouseCannotHoldMachinesError)
from domain.organisation import Company, Warehouse, WarehouseKind
from domain.receivables import (Allocation, ApplicationPendingError, CollectionLog, ContactChannel, Debt, DebtItem,
                                DebtNotOverdueError, DebtOutstandingError, DebtStateError, DebtStatus,
                                DocumentsAlreadyReleasedError, ItemKind, NothingChangedError, OverdueFacts,
                                PenaltyLine, PenaltyRate, PenaltyRates, PrincipalOutstandingError, ReceiptMethod,
                                ReceiptStatus, WaiverConflictError, WaiverExceedsPenaltyError, WaiverLine)
from tests.unit.given import BUSINESS_DATE, ctx, given, then_events, then_metadata, then_refused
from tests.unit.test_receivable_rules import (CASHIER, CONTRACT_DATE, FINANCE, HEFEI, SY215C, debt_of,
                                              recorded_is_the_replay, settle, unpaid)

D = Decimal
ZERO = D("0.00")
BEIJING = timezone(timedelta(hours=8))
# 0.05 % a day from 2026-01-01, no grace days.
RATES = PenaltyRates((PenaltyRate(date(2026, 1, 1), D("0.0005")),))
COLLECTOR = UUID("44444444-4444-5444-8444-444444444444")
OFFICE = UUID("55555555-5555-5555-8555-555555555555")

# Two installments of a contract of 2025-12-15 (the debt opens that day):
#   I1 due 01-31: 9,000.00 principal + 1,000.00 interest = 10,000.00
#   I2 due 02-28: 9,000.00 principal +   800.00 interest =  9,800.00
I1 = DebtItem("I1", ItemKind.INSTALLMENT, date(2026, 1, 31), D("9000.00"), D("1000.00"))
I2 = DebtItem("I2", ItemKind.INSTALLMENT, date(2026, 2, 28), D("9000.00"), D("800.00"))
MARCH_5 = date(2026, 3, 5)
CONTRACT, CUSTOMER_ID, DEBT_ID = uuid4(), uuid4(), uuid4()
SERIAL = "SY215C-0001"


# ------------------------------------------------------------------ building blocks
def record(debt: Debt, amount: str, value_date: date, day: date | None = None, penalty_last: bool = False,
           allocate_to=()) -> UUID:
    receipt_id = uuid4()
    debt.record_receipt(ctx(actor=CASHIER, day=day or value_date), receipt_id, D(amount), value_date,
                        ReceiptMethod.BANK_TRANSFER, "BANK-REF", allocate_to, penalty_last=penalty_last)
    settle(debt)
    return receipt_id


def confirm(debt: Debt, receipt_id: UUID, day: date) -> None:
    debt.confirm_receipt(ctx(actor=FINANCE, day=day), receipt_id, RATES)


def received(debt: Debt, amount: str, value_date: date, day: date | None = None, penalty_last: bool = False,
             allocate_to=()) -> UUID:
    receipt_id = record(debt, amount, value_date, day, penalty_last, allocate_to)
    confirm(debt, receipt_id, day or value_date)
    settle(debt)
    return receipt_id


def accrue(debt: Debt, through: date) -> bool:
    """The daily job, run the morning after ``through``."""
    charged = debt.accrue_penalties(ctx(day=through + timedelta(days=1)), through, RATES)
    settle(debt)
    return charged


def overdue_to_march_5() -> Debt:
    """I1 and I2 unpaid, penalty accrued through 03-05:
       I1 overdue from 02-01: 10,000.00 × 0.0005 = 5.00 a day × 33 days (28 in February + 5) = 165.00
       I2 overdue from 03-01:  9,800.00 × 0.0005 = 4.90 a day × 5 days                      =  24.50"""
    debt = debt_of(I1, I2)
    assert accrue(debt, MARCH_5) is True
    assert (debt.penalty_outstanding("I1"), debt.penalty_outstanding("I2")) == (D("165.00"), D("24.50"))
    return debt


def penalty_only_left() -> tuple[Debt, UUID]:
    """A receipt of 19,900.00 paying penalty last on 03-06: I1 10,000.00 and I2 9,800.00 of
    interest and principal (19,800.00), then 100.00 of I1's penalty. Left: penalty only,
    I1 165.00 − 100.00 = 65.00 and I2 24.50: 89.50."""
    debt = overdue_to_march_5()
    receipt_id = received(debt, "19900.00", date(2026, 3, 6), penalty_last=True)
    assert debt.total_outstanding == D("89.50")
    return debt, receipt_id


def applied(debt: Debt, kind: str, serial: str | None = None, day: date = date(2026, 3, 7)) -> UUID:
    """The debt holds an application of ``kind`` as pending."""
    application_id = uuid4()
    debt.open_application(ctx(day=day), application_id, kind, serial)
    settle(debt)
    return application_id


def waived(debt: Debt, amount: str, day: date = date(2026, 3, 7)) -> UUID:
    application_id = applied(debt, "interest_waiver", day=day)
    debt.waive_penalty(ctx(actor=OFFICE, day=day), application_id, D(amount))
    settle(debt)
    return application_id


def settled(debt: Debt, day: date = date(2026, 3, 8)) -> UUID:
    application_id = applied(debt, "settlement", day=day)
    debt.settle(ctx(actor=OFFICE, day=day), application_id)
    settle(debt)
    return application_id


# ------------------------------------------------------------------ overdue facts
def test_the_overdue_facts_count_items_due_before_the_day_and_the_penalty_outstanding():
    debt = overdue_to_march_5()
    # On 03-06: I1 (due 01-31) and I2 (due 02-28) overdue, 19,800.00; 34 days since 01-31.
    assert debt.overdue_facts(date(2026, 3, 6)) == OverdueFacts(
        as_of=date(2026, 3, 6), overdue_amount=D("19800.00"), days_past_due=34, oldest_overdue_item="I1",
        principal_outstanding=D("19800.00"), penalty_outstanding=D("189.50"))
    # An item is not overdue on its own due date: on 01-31 nothing is.
    assert debt.overdue_facts(date(2026, 1, 31)) == OverdueFacts(
        as_of=date(2026, 1, 31), overdue_amount=ZERO, days_past_due=0, oldest_overdue_item=None,
        principal_outstanding=D("19800.00"), penalty_outstanding=D("189.50"))


# ------------------------------------------------------------------ assigning a collector
def test_an_overdue_debt_is_given_to_a_collector_and_then_to_another():
    debt = debt_of(I1, I2)
    context = ctx(actor=OFFICE, day=date(2026, 2, 1))       # I1 fell due 01-31
    debt.assign_collector(context, COLLECTOR, "Zhou Wei")
    [assigned] = then_events(debt, Debt.CollectorAssigned)
    then_metadata(assigned, context, HEFEI.id)
    assert (assigned.collector_id, assigned.collector_name, debt.collector_id) == (COLLECTOR, "Zhou Wei", COLLECTOR)
    other = uuid4()
    debt.assign_collector(ctx(actor=OFFICE, day=date(2026, 2, 2)), other, "Li Na")
    then_events(debt, Debt.CollectorAssigned)
    assert debt.collector_id == other


def test_a_debt_with_nothing_overdue_is_not_given_to_a_collector():
    debt = debt_of(I1, I2)
    refusal = then_refused(debt, lambda: debt.assign_collector(ctx(day=date(2026, 1, 31)), COLLECTOR, "Zhou Wei"),
                           DebtNotOverdueError, "debt-not-overdue", 409)
    assert "2026-01-31" in refusal.message and debt.collector_id is None


def test_a_debt_paid_up_to_date_is_not_overdue_even_with_penalty_left():
    debt, _ = penalty_only_left()
    then_refused(debt, lambda: debt.assign_collector(ctx(day=date(2026, 3, 7)), COLLECTOR, "Zhou Wei"),
                 DebtNotOverdueError, "debt-not-overdue", 409)


def test_the_same_collector_is_not_assigned_twice():
    debt = debt_of(I1, I2)
    debt.assign_collector(ctx(day=date(2026, 2, 1)), COLLECTOR, "Zhou Wei")
    settle(debt)
    refusal = then_refused(debt, lambda: debt.assign_collector(ctx(day=date(2026, 2, 5)), COLLECTOR, "Zhou Wei"),
                           NothingChangedError, "nothing-changed", 409)
    assert "Zhou Wei" in refusal.message


def test_a_closed_debt_is_not_given_to_a_collector():
    debt = debt_of(I1, I2)
    debt.close_for_unapproval(ctx(day=CONTRACT_DATE, reason="withdrawn"))
    settle(debt)
    refusal = then_refused(debt, lambda: debt.assign_collector(ctx(day=date(2026, 2, 1)), COLLECTOR, "Zhou Wei"),
                           DebtStateError, "debt-state", 409)
    assert refusal.details["state"] == "closed"


# ------------------------------------------------------------------ collection logs
def test_a_collector_writes_a_log_with_a_promise():
    debt = debt_of(I1, I2)
    log_id = uuid4()
    context = ctx(actor=COLLECTOR, day=date(2026, 2, 3))
    answer = debt.write_log(context, date(2026, 2, 2), "  Liu Qiang (owner) ", ContactChannel.VISIT,
                            "On site; says the project owner pays him on the 15th.\nPromises I1 then.",
                            date(2026, 2, 16), D("10000.00"), log_id=log_id)
    [logged] = then_events(debt, Debt.CollectionLogged)
    then_metadata(logged, context, HEFEI.id)
    assert answer == log_id
    assert logged.log == CollectionLog(log_id, date(2026, 2, 2), "Liu Qiang (owner)", ContactChannel.VISIT,
                                       "On site; says the project owner pays him on the 15th.\nPromises I1 then.",
                                       date(2026, 2, 16), D("10000.00"))


def test_a_log_without_a_promise_gets_an_id_of_its_own_and_takes_the_channel_as_text():
    debt = debt_of(I1, I2)
    log_id = debt.write_log(ctx(actor=COLLECTOR, day=date(2026, 2, 3)), date(2026, 2, 3), "Liu Qiang", "phone",
                            "No answer.")
    [logged] = then_events(debt, Debt.CollectionLogged)
    assert logged.log.log_id == log_id and isinstance(log_id, UUID)
    assert (logged.log.channel, logged.log.promised_date, logged.log.promised_amount) == (
        ContactChannel.PHONE, None, None)


def test_a_log_may_be_written_on_the_day_the_debt_opened_and_promise_the_contact_day():
    debt = debt_of(I1, I2)
    debt.write_log(ctx(day=CONTRACT_DATE), CONTRACT_DATE, "Liu Qiang", ContactChannel.SMS, "Reminder sent.",
                   CONTRACT_DATE, D("0.01"))
    then_events(debt, Debt.CollectionLogged)


WRONG_LOGS = {
    # name: (contact_date, contact_person, result, promised_date, promised_amount, field)
    "contact-in-the-future": (date(2026, 2, 4), "Liu", "Met him.", None, None, "contact_date"),
    "contact-before-opening": (date(2025, 12, 14), "Liu", "Met him.", None, None, "contact_date"),
    "promise-before-contact": (date(2026, 2, 2), "Liu", "Met him.", date(2026, 2, 1), None, "promised_date"),
    "amount-without-date": (date(2026, 2, 2), "Liu", "Met him.", None, D("100.00"), "promised_date"),
    "no-amount": (date(2026, 2, 2), "Liu", "Met him.", date(2026, 2, 10), D("0.00"), "promised_amount"),
    "amount-not-to-the-fen": (date(2026, 2, 2), "Liu", "Met him.", date(2026, 2, 10), D("0.001"),
                              "promised_amount"),
    "blank-person": (date(2026, 2, 2), "  ", "Met him.", None, None, "contact_person"),
    "control-character-in-person": (date(2026, 2, 2), "Liu\x07", "Met him.", None, None, "contact_person"),
    "control-character-in-result": (date(2026, 2, 2), "Liu", "Met\x1b[31m him", None, None, "result"),
    "blank-result": (date(2026, 2, 2), "Liu", "", None, None, "result"),
    "person-too-long": (date(2026, 2, 2), "L" * 101, "Met him.", None, None, "contact_person"),
    "result-too-long": (date(2026, 2, 2), "Liu", "x" * 2001, None, None, "result"),
}


@pytest.mark.parametrize("case", list(WRONG_LOGS))
def test_a_wrong_log_is_refused_naming_the_field(case):
    contact, person, result, promised, amount, field = WRONG_LOGS[case]
    debt = debt_of(I1, I2)
    refusal = then_refused(debt, lambda: debt.write_log(ctx(actor=COLLECTOR, day=date(2026, 2, 3)), contact, person,
                                                        ContactChannel.PHONE, result, promised, amount),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == field


def test_a_closed_debt_takes_no_log():
    debt = debt_of(I1, I2)
    debt.close_for_unapproval(ctx(day=CONTRACT_DATE, reason="withdrawn"))
    settle(debt)
    then_refused(debt, lambda: debt.write_log(ctx(day=date(2026, 2, 3)), date(2026, 2, 3), "Liu",
                                              ContactChannel.PHONE, "Called."), DebtStateError, "debt-state", 409)


# ------------------------------------------------------------------ applications held on the debt
def test_an_application_is_held_as_pending_and_a_second_of_its_kind_for_the_machine_waits():
    debt = debt_of(I1, I2)
    first, context = uuid4(), ctx(actor=COLLECTOR, day=date(2026, 2, 3))
    debt.open_application(context, first, "machine_lock", "SY215C-0001")
    [opened_event] = then_events(debt, Debt.ApplicationOpened)
    then_metadata(opened_event, context, HEFEI.id)
    assert (opened_event.application_id, opened_event.document_type, opened_event.serial_number) == (
        first, "machine_lock", "SY215C-0001")
    assert debt.pending_applications == {("machine_lock", "SY215C-0001"): first}
    refusal = then_refused(debt, lambda: debt.open_application(ctx(day=date(2026, 2, 4)), uuid4(), "machine_lock",
                                                               "SY215C-0001"),
                           ApplicationPendingError, "application-pending", 409)
    assert refusal.details["application_id"] == str(first) and "SY215C-0001" in refusal.message


def test_another_machine_or_another_kind_is_not_held_up_by_a_pending_application():
    debt = debt_of(I1, I2)
    lock = applied(debt, "machine_lock", "SY215C-0001")
    other_machine = applied(debt, "machine_lock", "SY215C-0002")
    tow = applied(debt, "tow", "SY215C-0001")
    waiver = applied(debt, "interest_waiver")
    assert debt.pending_applications == {("machine_lock", "SY215C-0001"): lock,
                                         ("machine_lock", "SY215C-0002"): other_machine,
                                         ("tow", "SY215C-0001"): tow, ("interest_waiver", None): waiver}
    then_refused(debt, lambda: debt.open_application(ctx(), uuid4(), "interest_waiver", None),
                 ApplicationPendingError, "application-pending", 409)


def test_once_an_application_is_closed_another_of_its_kind_may_be_made():
    debt = debt_of(I1, I2)
    first = applied(debt, "machine_lock", "SY215C-0001")
    context = ctx(day=date(2026, 3, 8), reason="no reason to lock")
    debt.close_application(context, first, "rejected")
    [closed] = then_events(debt, Debt.ApplicationClosed)
    then_metadata(closed, context, HEFEI.id)
    assert (closed.application_id, closed.outcome, debt.pending_applications) == (first, "rejected", {})
    second = applied(debt, "machine_lock", "SY215C-0001")
    assert debt.pending_applications == {("machine_lock", "SY215C-0001"): second}


def test_closing_an_application_the_debt_does_not_hold_records_nothing():
    debt = debt_of(I1, I2)
    first = applied(debt, "tow", "SY215C-0001")
    debt.close_application(ctx(), first, "received back")
    settle(debt)
    debt.close_application(ctx(), first, "received back")   # closed already
    debt.close_application(ctx(), uuid4(), "locked")        # never opened here
    then_events(debt)


def test_a_closed_debt_takes_no_application():
    debt = debt_of(I1, I2)
    debt.close_for_unapproval(ctx(day=CONTRACT_DATE, reason="withdrawn"))
    settle(debt)
    then_refused(debt, lambda: debt.open_application(ctx(), uuid4(), "tow", "SY215C-0001"), DebtStateError,
                 "debt-state", 409)


# ------------------------------------------------------------------ receipts paying penalty last
def test_a_receipt_paying_penalty_last_pays_interest_and_principal_of_every_item_first():
    debt = overdue_to_march_5()
    receipt_id, context = uuid4(), ctx(actor=CASHIER, day=date(2026, 3, 6))
    debt.record_receipt(context, receipt_id, D("19900.00"), date(2026, 3, 6), ReceiptMethod.BANK_TRANSFER,
                        penalty_last=True)
    [recorded] = then_events(debt, Debt.ReceiptRecorded)
    assert recorded.penalty_last is True and debt.receipts[receipt_id].penalty_last is True
    confirm(debt, receipt_id, date(2026, 3, 6))
    [confirmed] = then_events(debt, Debt.ReceiptConfirmed)
    # Interest and principal first: I1 1,000.00 + 9,000.00, I2 800.00 + 9,000.00 = 19,800.00;
    # the 100.00 left pays I1's penalty (of 165.00). I2's 24.50 of penalty is untouched.
    assert confirmed.allocations == (Allocation("I1", D("100.00"), D("1000.00"), D("9000.00")),
                                     Allocation("I2", ZERO, D("800.00"), D("9000.00")))
    assert (unpaid(debt, "I1"), unpaid(debt, "I2")) == ((ZERO, ZERO), (ZERO, ZERO))
    # 165.00 − 100.00 = 65.00 and 24.50: 89.50, all of it penalty.
    assert (debt.penalty_outstanding("I1"), debt.penalty_outstanding("I2"), debt.total_outstanding) == (
        D("65.00"), D("24.50"), D("89.50"))
    # Nothing is overdue any more: the daily job charges nothing.
    assert accrue(debt, date(2026, 3, 10)) is False
    recorded_is_the_replay(debt, RATES)


def test_the_same_receipt_without_penalty_last_pays_each_items_penalty_first():
    debt = overdue_to_march_5()
    receipt_id = received(debt, "19900.00", date(2026, 3, 6))
    # I1: 165.00 + 1,000.00 + 9,000.00 = 10,165.00; the 9,735.00 left: I2 24.50 penalty, 800.00
    # interest and 8,910.50 principal (9,000.00 − 8,910.50 = 89.50 principal still unpaid).
    assert debt.receipts[receipt_id].allocations == (Allocation("I1", D("165.00"), D("1000.00"), D("9000.00")),
                                                     Allocation("I2", D("24.50"), D("800.00"), D("8910.50")))
    assert (unpaid(debt, "I2"), debt.total_outstanding) == ((D("89.50"), ZERO), D("89.50"))


def test_a_partial_receipt_paying_penalty_last_leaves_less_overdue_and_so_less_penalty():
    debt = overdue_to_march_5()
    receipt_id = received(debt, "15000.00", date(2026, 3, 6), penalty_last=True)
    # I1 1,000.00 + 9,000.00; I2 800.00 + 4,200.00 of its principal; no penalty paid.
    assert debt.receipts[receipt_id].allocations == (Allocation("I1", ZERO, D("1000.00"), D("9000.00")),
                                                     Allocation("I2", ZERO, D("800.00"), D("4200.00")))
    assert unpaid(debt, "I2") == (D("4800.00"), ZERO)
    debt.accrue_penalties(ctx(day=date(2026, 3, 9)), date(2026, 3, 8), RATES)
    [accrued] = then_events(debt, Debt.PenaltyAccrued)
    # Only I2 is overdue: 4,800.00 × 0.0005 = 2.40 a day, 03-06 … 03-08.
    # (Paying penalty first would have left 9,000.00 − 4,010.50 = 4,989.50: round(2.49475) = 2.49 a day.)
    assert accrued.lines == (PenaltyLine("I2", date(2026, 3, 6), date(2026, 3, 8), D("4800.00"), D("0.0005"),
                                         D("2.40")),)
    # Penalty outstanding: I1 165.00, I2 24.50 + 3 × 2.40 = 31.70.
    assert (debt.penalty_outstanding("I1"), debt.penalty_outstanding("I2")) == (D("165.00"), D("31.70"))
    recorded_is_the_replay(debt, RATES)


def test_a_directed_receipt_paying_penalty_last_pays_the_named_items_interest_principal_then_their_penalty():
    debt = overdue_to_march_5()
    receipt_id = received(debt, "9810.00", date(2026, 3, 6), penalty_last=True, allocate_to=("I2",))
    # I2: 800.00 interest, 9,000.00 principal, then 10.00 of its 24.50 penalty; I1 untouched.
    assert debt.receipts[receipt_id].allocations == (Allocation("I2", D("10.00"), D("800.00"), D("9000.00")),)
    assert (unpaid(debt, "I1"), debt.penalty_outstanding("I1"), debt.penalty_outstanding("I2")) == (
        (D("9000.00"), D("1000.00")), D("165.00"), D("14.50"))


def test_a_backdated_receipt_paying_penalty_last_corrects_the_days_already_accrued():
    debt = overdue_to_march_5()
    receipt_id = record(debt, "19900.00", date(2026, 3, 1), day=date(2026, 3, 6), penalty_last=True)
    confirm(debt, receipt_id, date(2026, 3, 6))
    adjusted, confirmed = then_events(debt, Debt.PenaltyAdjusted, Debt.ReceiptConfirmed)
    # On 03-01 (before that day's penalty) I1 owes 28 × 5.00 = 140.00 of penalty and I2 none yet.
    # The receipt pays 19,800.00 of interest and principal, then 100.00 of I1's penalty: nothing is
    # overdue from 03-01, so the penalty charged 03-01 … 03-05 (5.00 and 4.90 a day) is taken back.
    assert adjusted.caused_by == receipt_id
    assert adjusted.lines == (PenaltyLine("I1", date(2026, 3, 1), MARCH_5, ZERO, ZERO, D("-5.00")),
                              PenaltyLine("I2", date(2026, 3, 1), MARCH_5, ZERO, ZERO, D("-4.90")))
    assert confirmed.allocations == (Allocation("I1", D("100.00"), D("1000.00"), D("9000.00")),
                                     Allocation("I2", ZERO, D("800.00"), D("9000.00")))
    # Charged: I1 165.00 − 25.00 = 140.00, I2 0.00; outstanding I1 140.00 − 100.00 = 40.00.
    assert (debt.penalty_charged["I1"], debt.penalty_charged["I2"], debt.total_outstanding) == (
        D("140.00"), ZERO, D("40.00"))
    recorded_is_the_replay(debt, RATES)


# ------------------------------------------------------------------ interest waiver (利息减免)
def test_no_waiver_while_principal_or_interest_is_unpaid():
    debt = overdue_to_march_5()
    refusal = then_refused(debt, lambda: debt.waive_penalty(ctx(day=date(2026, 3, 6)), uuid4(), D("10.00")),
                           PrincipalOutstandingError, "principal-outstanding", 409)
    assert refusal.details["principal_outstanding"] == D("19800.00")
    with pytest.raises(PrincipalOutstandingError):
        debt.check_waiver(D("10.00"))


def test_no_waiver_while_any_principal_is_unpaid_even_of_an_item_not_yet_due():
    debt = debt_of(I1, I2)
    accrue(debt, date(2026, 2, 5))                   # I1 overdue 02-01 … 02-05: 5 × 5.00 = 25.00
    received(debt, "19799.99", date(2026, 2, 6), penalty_last=True)
    # Interest and principal first: I1 10,000.00, then I2 800.00 + 8,999.99 of its 9,000.00.
    # 0.01 of I2's principal (due 02-28, not yet due) is unpaid: no waiver yet.
    refusal = then_refused(debt, lambda: debt.waive_penalty(ctx(day=date(2026, 2, 7)), uuid4(), D("25.00")),
                           PrincipalOutstandingError, "principal-outstanding", 409)
    assert refusal.details["principal_outstanding"] == D("0.01")
    # With that 0.01 received too (directed at I2, which has no penalty: it pays the principal),
    # nothing but I1's 25.00 of penalty is owed, and all of it may be waived.
    received(debt, "0.01", date(2026, 2, 7), allocate_to=("I2",))
    assert debt.check_waiver(D("25.00")) == D("25.00")
    assert (debt.total_outstanding, debt.penalty_outstanding("I1")) == (D("25.00"), D("25.00"))


def test_a_waiver_above_the_penalty_outstanding_is_refused():
    debt, _ = penalty_only_left()
    refusal = then_refused(debt, lambda: debt.waive_penalty(ctx(day=date(2026, 3, 7)), uuid4(), D("89.51")),
                           WaiverExceedsPenaltyError, "waiver-exceeds-penalty", 422)
    assert (refusal.details["penalty_outstanding"], refusal.details["field"]) == (D("89.50"), "amount")


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "10.001"])
def test_a_waiver_of_no_money_or_not_to_the_fen_is_refused(amount):
    debt, _ = penalty_only_left()
    refusal = then_refused(debt, lambda: debt.waive_penalty(ctx(day=date(2026, 3, 7)), uuid4(), D(amount)),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "amount"


def test_a_waiver_of_all_the_penalty_outstanding_leaves_nothing_owed_and_closes_its_application():
    debt, _ = penalty_only_left()
    application_id = applied(debt, "interest_waiver")
    context = ctx(actor=OFFICE, day=date(2026, 3, 7), reason="approved by the general manager")
    debt.waive_penalty(context, application_id, D("89.50"))
    waived_event, closed = then_events(debt, Debt.PenaltyWaived, Debt.ApplicationClosed)
    then_metadata(waived_event, context, HEFEI.id)
    # Oldest item first: I1 65.00, then I2 24.50.
    assert (waived_event.application_id, waived_event.lines) == (
        application_id, (WaiverLine("I1", D("65.00")), WaiverLine("I2", D("24.50"))))
    assert (closed.application_id, closed.outcome, debt.pending_applications) == (application_id, "waived", {})
    assert (debt.penalty_waived, debt.total_outstanding) == ({"I1": D("65.00"), "I2": D("24.50")}, ZERO)
    assert debt.overdue_facts(date(2026, 3, 7)).penalty_outstanding == ZERO
    # What was charged and paid is not edited.
    assert (debt.penalty_charged["I1"], debt.paid["I1"].penalty) == (D("165.00"), D("100.00"))
    recorded_is_the_replay(debt, RATES)


def test_a_partial_waiver_takes_the_oldest_items_penalty_first():
    debt, _ = penalty_only_left()
    waived(debt, "70.00")
    # I1's 65.00, then 5.00 of I2's 24.50: 19.50 left, on I2.
    assert debt.waivers[0].lines == (WaiverLine("I1", D("65.00")), WaiverLine("I2", D("5.00")))
    assert (debt.penalty_outstanding("I1"), debt.penalty_outstanding("I2"), debt.total_outstanding) == (
        ZERO, D("19.50"), D("19.50"))
    # A second waiver sees only what is left.
    then_refused(debt, lambda: debt.waive_penalty(ctx(day=date(2026, 3, 8)), uuid4(), D("19.51")),
                 WaiverExceedsPenaltyError, "waiver-exceeds-penalty", 422)
    waived(debt, "19.50", day=date(2026, 3, 8))
    assert debt.total_outstanding == ZERO
    assert [w.sequence for w in debt.waivers] == [2, 3]      # after the one confirmation
    recorded_is_the_replay(debt, RATES)


def test_a_waiver_stops_at_the_item_where_its_amount_runs_out():
    debt = overdue_to_march_5()
    received(debt, "19810.00", date(2026, 3, 6), penalty_last=True)
    # 19,800.00 of interest and principal, then 10.00 of I1's penalty: I1 155.00, I2 24.50 left.
    waived(debt, "155.00")
    assert debt.waivers[0].lines == (WaiverLine("I1", D("155.00")),)
    assert debt.total_outstanding == D("24.50")


def test_a_reversal_after_a_waiver_charges_the_penalty_again_and_keeps_the_waiver():
    debt = overdue_to_march_5()
    receipt_id = received(debt, "19900.00", date(2026, 3, 1), day=date(2026, 3, 6), penalty_last=True)
    assert debt.total_outstanding == D("40.00")           # I1's penalty (worked out above)
    waiver = waived(debt, "40.00")
    assert debt.total_outstanding == ZERO
    context = ctx(actor=FINANCE, day=date(2026, 3, 8), reason="the transfer was returned")
    debt.reverse_receipt(context, receipt_id, RATES)
    reversed_, adjusted = then_events(debt, Debt.ReceiptReversed, Debt.PenaltyAdjusted)
    # Without the receipt I1 and I2 stay overdue 03-01 … 03-05 again: +5.00 and +4.90 a day.
    # The waiver (03-07) still finds 165.00 of I1's penalty, more than its 40.00: it stands.
    assert adjusted.lines == (PenaltyLine("I1", date(2026, 3, 1), MARCH_5, D("10000.00"), D("0.0005"), D("5.00")),
                              PenaltyLine("I2", date(2026, 3, 1), MARCH_5, D("9800.00"), D("0.0005"), D("4.90")))
    assert (debt.waivers[0].application_id, debt.penalty_waived["I1"]) == (waiver, D("40.00"))
    # Charged I1 165.00, I2 24.50; I1 165.00 − 40.00 waived = 125.00. Owed 19,800.00 + 149.50.
    assert (debt.penalty_outstanding("I1"), debt.penalty_outstanding("I2"), debt.total_outstanding) == (
        D("125.00"), D("24.50"), D("19949.50"))
    recorded_is_the_replay(debt, RATES)
    # The daily job goes on from the balances: 03-06 … 03-10, 5.00 and 4.90 a day.
    debt.accrue_penalties(ctx(day=date(2026, 3, 11)), date(2026, 3, 10), RATES)
    [accrued] = then_events(debt, Debt.PenaltyAccrued)
    assert accrued.lines == (
        PenaltyLine("I1", date(2026, 3, 6), date(2026, 3, 10), D("10000.00"), D("0.0005"), D("5.00")),
        PenaltyLine("I2", date(2026, 3, 6), date(2026, 3, 10), D("9800.00"), D("0.0005"), D("4.90")))
    # 125.00 + 25.00 = 150.00; 24.50 + 24.50 = 49.00.
    assert (debt.penalty_outstanding("I1"), debt.penalty_outstanding("I2")) == (D("150.00"), D("49.00"))
    recorded_is_the_replay(debt, RATES)


def test_a_backdated_receipt_confirmed_after_a_waiver_that_would_leave_less_penalty_than_waived_is_refused():
    debt, _ = penalty_only_left()
    waiver = waived(debt, "65.00")                      # all of I1's 65.00; I2's 24.50 is left
    backdated = record(debt, "20.00", date(2026, 2, 10), day=date(2026, 3, 7))
    # With the 02-10 receipt: it pays 20.00 of the 45.00 charged on I1 by 02-09; I1's overdue
    # amount is unchanged, and so is its 5.00 a day. The 03-06 receipt (penalty last) pays
    # 19,800.00 of interest and principal and 100.00 of I1's penalty: 165.00 − 20.00 − 100.00 =
    # 45.00 left on I1 on 03-07, but 65.00 of it was waived: 20.00 short.
    refusal = then_refused(debt, lambda: confirm(debt, backdated, date(2026, 3, 7)), WaiverConflictError,
                           "waiver-conflict", 409)
    assert refusal.details["application_id"] == str(waiver)
    assert "I1" in refusal.message and "20.00" in refusal.message
    assert debt.receipts[backdated].status == ReceiptStatus.RECORDED
    assert (debt.total_outstanding, debt.accrued_through) == (D("24.50"), MARCH_5)
    # Finance rejects it instead.
    debt.reject_receipt(ctx(actor=FINANCE, day=date(2026, 3, 7), reason="conflicts with the waiver"), backdated)
    then_events(debt, Debt.ReceiptRejected)


def test_a_backdated_receipt_confirmed_after_a_smaller_waiver_resplits_and_the_waiver_stands():
    debt, later = penalty_only_left()
    waived(debt, "10.00")                                   # I1 10.00
    backdated = record(debt, "50.00", date(2026, 2, 10), day=date(2026, 3, 7))
    confirm(debt, backdated, date(2026, 3, 7))
    reallocated, confirmed = then_events(debt, Debt.ReceiptReallocated, Debt.ReceiptConfirmed)
    # As above: the 02-10 receipt pays 45.00 of penalty and 5.00 of interest; the daily penalty
    # stays 5.00 (round(9,995.00 × 0.0005 = 4.9975)), so no day is corrected; the 03-06 receipt
    # pays 995.00 + 9,000.00, 800.00 + 9,000.00 and 105.00 of I1's penalty.
    assert confirmed.allocations == (Allocation("I1", D("45.00"), D("5.00"), ZERO),)
    assert (reallocated.receipt_id, reallocated.caused_by, reallocated.allocations) == (
        later, backdated, (Allocation("I1", D("105.00"), D("995.00"), D("9000.00")),
                           Allocation("I2", ZERO, D("800.00"), D("9000.00"))))
    # I1: 165.00 charged − 150.00 paid − 10.00 waived = 5.00; I2 24.50.
    assert (debt.penalty_outstanding("I1"), debt.penalty_outstanding("I2"), debt.total_outstanding) == (
        D("5.00"), D("24.50"), D("29.50"))
    recorded_is_the_replay(debt, RATES)


def test_a_receipt_of_the_waivers_day_confirmed_after_it_applies_after_it():
    debt, _ = penalty_only_left()
    waived(debt, "60.00")                    # I1: 60.00 of its 65.00
    same_day = record(debt, "20.00", date(2026, 3, 7), day=date(2026, 3, 7))
    confirm(debt, same_day, date(2026, 3, 7))
    accrued, confirmed = then_events(debt, Debt.PenaltyAccrued, Debt.ReceiptConfirmed)
    # The day before the value date is brought in first: nothing is overdue, nothing charged.
    assert (accrued.through, accrued.lines) == (date(2026, 3, 6), ())
    # After the waiver: I1 5.00, then 15.00 of I2's 24.50.
    assert confirmed.allocations == (Allocation("I1", D("5.00"), ZERO, ZERO), Allocation("I2", D("15.00"), ZERO, ZERO))
    assert debt.total_outstanding == D("9.50")
    recorded_is_the_replay(debt, RATES)


def test_a_closed_debt_is_given_no_waiver():
    debt = debt_of(I1, I2)
    debt.close_for_unapproval(ctx(day=CONTRACT_DATE, reason="withdrawn"))
    settle(debt)
    then_refused(debt, lambda: debt.waive_penalty(ctx(), uuid4(), D("1.00")), DebtStateError, "debt-state", 409)


# ------------------------------------------------------------------ settlement (结清)
def test_no_settlement_while_anything_is_owed():
    debt, _ = penalty_only_left()
    refusal = then_refused(debt, debt.check_settlement, DebtOutstandingError, "debt-outstanding", 409)
    assert refusal.details["outstanding"] == D("89.50") and "I1 65.00" in refusal.message
    then_refused(debt, lambda: debt.settle(ctx(day=date(2026, 3, 7)), uuid4()), DebtOutstandingError,
                 "debt-outstanding", 409)
    fresh = debt_of(I1, I2)
    refusal = then_refused(fresh, fresh.check_settlement, DebtOutstandingError, "debt-outstanding", 409)
    assert refusal.details["outstanding"] == D("19800.00")


def test_no_waiver_and_no_settlement_while_a_receipt_waits_for_confirmation():
    debt, _ = penalty_only_left()
    waived(debt, "80.00")                                   # 9.50 of I2's penalty left
    waiting = record(debt, "9.50", date(2026, 3, 7))
    refusal = then_refused(debt, lambda: debt.waive_penalty(ctx(day=date(2026, 3, 8)), uuid4(), D("1.00")),
                           DebtOutstandingError, "debt-outstanding", 409)
    assert "waiting for confirmation" in refusal.message
    refusal = then_refused(debt, lambda: debt.settle(ctx(day=date(2026, 3, 8)), uuid4()), DebtOutstandingError,
                           "debt-outstanding", 409)
    assert "waiting for confirmation" in refusal.message
    confirm(debt, waiting, date(2026, 3, 8))
    settle(debt)
    assert debt.total_outstanding == ZERO
    debt.check_settlement()


def test_a_debt_with_nothing_owed_is_settled_and_closes_its_application():
    debt, _ = penalty_only_left()
    waived(debt, "89.50")
    application_id = applied(debt, "settlement", day=date(2026, 3, 8))
    context = ctx(actor=OFFICE, day=date(2026, 3, 8))
    debt.settle(context, application_id)
    settled_event, closed = then_events(debt, Debt.Settled, Debt.ApplicationClosed)
    then_metadata(settled_event, context, HEFEI.id)
    assert (settled_event.application_id, closed.application_id, closed.outcome) == (
        application_id, application_id, "settled")
    assert (debt.status, debt.settled_by, debt.documents_released) == (DebtStatus.SETTLED, application_id, False)


def test_a_debt_paid_in_full_without_penalty_is_settled():
    debt = debt_of(I1, I2)
    received(debt, "19800.00", date(2026, 1, 20))
    settled(debt, day=date(2026, 1, 21))
    assert debt.status == DebtStatus.SETTLED


def settled_debt() -> Debt:
    debt, _ = penalty_only_left()
    waived(debt, "89.50")
    settled(debt)
    return debt


def test_a_settled_debt_takes_no_receipt_no_waiver_no_application_and_accrues_nothing():
    debt = settled_debt()
    day = date(2026, 3, 9)
    for command in (lambda: debt.record_receipt(ctx(actor=CASHIER, day=day), uuid4(), D("1.00"), day,
                                                ReceiptMethod.CASH),
                    lambda: debt.waive_penalty(ctx(day=day), uuid4(), D("1.00")),
                    lambda: debt.open_application(ctx(day=day), uuid4(), "interest_waiver", None),
                    lambda: debt.write_log(ctx(day=day), day, "Liu", ContactChannel.PHONE, "Thanked him."),
                    lambda: debt.assign_collector(ctx(day=day), COLLECTOR, "Zhou Wei"),
                    lambda: debt.settle(ctx(day=day), uuid4())):
        refusal = then_refused(debt, command, DebtStateError, "debt-state", 409)
        assert refusal.details["state"] == "settled"
    assert debt.accrue_penalties(ctx(day=date(2026, 4, 1)), date(2026, 3, 31), RATES) is False
    then_events(debt)


def test_the_refusal_on_a_settled_debt_says_it_was_settled_not_unapproved():
    debt = settled_debt()
    refusal = then_refused(debt, lambda: debt.record_receipt(ctx(actor=CASHIER, day=date(2026, 3, 9)), uuid4(),
                                                             D("1.00"), date(2026, 3, 9), ReceiptMethod.CASH),
                           DebtStateError, "debt-state", 409)
    assert "settled" in refusal.message and "un-approved" not in refusal.message


def test_a_machine_still_locked_when_the_debt_is_settled_can_be_applied_for_an_unlock():
    """Settlement waits for open applications; a machine locked before it is unlocked after it."""
    debt, _ = penalty_only_left()
    lock = applied(debt, "machine_lock", SERIAL, day=date(2026, 3, 6))
    then_refused(debt, debt.check_settlement, DebtOutstandingError, "debt-outstanding", 409)
    debt.close_application(ctx(day=date(2026, 3, 6)), lock, "locked")    # the machine is locked
    settle(debt)
    waived(debt, "89.50")
    settled(debt)
    debt.open_application(ctx(actor=COLLECTOR, day=date(2026, 3, 9)), uuid4(), "machine_unlock", SERIAL)
    then_events(debt, Debt.ApplicationOpened)


def test_the_documents_are_released_once_after_settlement():
    debt = settled_debt()
    context = ctx(actor=FINANCE, day=date(2026, 3, 10))
    debt.release_documents(context, " FP-2026-0001 ", "HGZ-0001", "Liu Qiang")
    [released] = then_events(debt, Debt.DocumentsReleased)
    then_metadata(released, context, HEFEI.id)
    assert (released.invoice_number, released.certificate_number, released.released_to) == (
        "FP-2026-0001", "HGZ-0001", "Liu Qiang")
    assert debt.documents_released is True
    then_refused(debt, lambda: debt.release_documents(context, "FP-2026-0001", "HGZ-0001", "Liu Qiang"),
                 DocumentsAlreadyReleasedError, "documents-already-released", 409)


@pytest.mark.parametrize(("invoice", "certificate", "to", "field"), [
    ("", "HGZ-1", "Liu", "invoice_number"), ("FP-1", "  ", "Liu", "certificate_number"),
    ("FP-1", "HGZ-1", "Liu\x00", "released_to"), ("F" * 101, "HGZ-1", "Liu", "invoice_number")])
def test_a_release_names_the_invoice_the_certificate_and_who_took_them(invoice, certificate, to, field):
    debt = settled_debt()
    refusal = then_refused(debt, lambda: debt.release_documents(ctx(), invoice, certificate, to), InvalidValueError,
                           "invalid-value", 422)
    assert refusal.details["field"] == field


@pytest.mark.parametrize("state", ["open", "closed"])
def test_no_documents_are_released_before_settlement(state):
    debt = debt_of(I1, I2)
    if state == "closed":
        debt.close_for_unapproval(ctx(day=CONTRACT_DATE, reason="withdrawn"))
        settle(debt)
    refusal = then_refused(debt, lambda: debt.release_documents(ctx(), "FP-1", "HGZ-1", "Liu"), DebtStateError,
                           "debt-state", 409)
    assert refusal.details["state"] == state and "after settlement" in refusal.message


# ================================================================== CollectionApplication
FACTS = OverdueFacts(as_of=BUSINESS_DATE, overdue_amount=D("25592.97"), days_past_due=30,
                     oldest_overdue_item="I3", principal_outstanding=D("230336.73"), penalty_outstanding=D("384.00"))
MANAGER = Decider(uuid4(), frozenset({Role.APPROVER}), Scope(companies=frozenset({HEFEI.id})))
DIRECTOR = Decider(uuid4(), frozenset({Role.FINANCE}), Scope(all_companies=True))
HEFEI_FINANCE = Decider(uuid4(), frozenset({Role.FINANCE}), Scope(companies=frozenset({HEFEI.id})))
OTHER_MANAGER = Decider(uuid4(), frozenset({Role.APPROVER}), Scope(companies=frozenset({uuid4()})))
STEP_MANAGER = ApprovalStep("Collection manager", Role.APPROVER)
STEP_DIRECTOR = ApprovalStep("Finance director", Role.FINANCE, StepScope.GROUP)
# Under 50,000.00 the manager decides; from 50,000.00 the finance director decides after them.
BANDS = [AmountBand(D("0.00"), (STEP_MANAGER,)), AmountBand(D("50000.00"), (STEP_MANAGER, STEP_DIRECTOR))]
RULES = {kind: given(ApprovalRule.set_new(ctx(), kind, HEFEI.id, BANDS))
         for kind in (DocumentType.INTEREST_WAIVER, DocumentType.MACHINE_LOCK, DocumentType.MACHINE_UNLOCK,
                      DocumentType.TOW, DocumentType.SETTLEMENT)}
MACHINE_KINDS = (DocumentType.MACHINE_LOCK, DocumentType.MACHINE_UNLOCK, DocumentType.TOW)
SERIAL_OF = {DocumentType.INTEREST_WAIVER: None, DocumentType.SETTLEMENT: None, DocumentType.MACHINE_LOCK: SERIAL,
             DocumentType.MACHINE_UNLOCK: SERIAL, DocumentType.TOW: SERIAL}


def apply_for(kind: DocumentType = DocumentType.MACHINE_LOCK, serial: str | None = SERIAL, amount: str = "25592.97",
              reason: str | None = "Thirty days overdue; the customer does not answer.", actor: UUID = COLLECTOR,
              rule: ApprovalRule | None | str = "default", day: date = BUSINESS_DATE,
              application_id: UUID | None = None) -> CollectionApplication:
    return CollectionApplication.apply_for(
        ctx(reason, actor=actor, day=day), application_id or uuid4(), kind, DEBT_ID, HEFEI.id, CONTRACT, "HF-TEST",
        CUSTOMER_ID, serial, D(amount), FACTS, RULES[kind] if rule == "default" else rule)


def in_approval(kind: DocumentType = DocumentType.MACHINE_LOCK, amount: str = "25592.97") -> CollectionApplication:
    return given(apply_for(kind, SERIAL_OF[kind], amount))


def approved(kind: DocumentType = DocumentType.MACHINE_LOCK) -> CollectionApplication:
    application = in_approval(kind)
    assert application.approve(ctx(), MANAGER) is True
    settle(application)
    return application


def test_an_application_records_its_facts_and_enters_the_route_of_its_amount():
    application_id = uuid4()
    context = ctx("Thirty days overdue; the customer does not answer.", actor=COLLECTOR)
    application = CollectionApplication.apply_for(context, application_id, DocumentType.MACHINE_LOCK, DEBT_ID,
                                                  HEFEI.id, CONTRACT, "HF-TEST", CUSTOMER_ID, SERIAL,
                                                  D("25592.97"), FACTS, RULES[DocumentType.MACHINE_LOCK])
    applied_event, submitted = then_events(application, CollectionApplication.Applied,
                                           CollectionApplication.SubmittedForApproval)
    for event in (applied_event, submitted):
        then_metadata(event, context, HEFEI.id)
    assert (applied_event.document_type, applied_event.debt_id, applied_event.contract_id,
            applied_event.contract_number, applied_event.customer_id, applied_event.serial_number,
            applied_event.amount, applied_event.facts) == (DocumentType.MACHINE_LOCK, DEBT_ID, CONTRACT, "HF-TEST",
                                                           CUSTOMER_ID, SERIAL, D("25592.97"), FACTS)
    rule = RULES[DocumentType.MACHINE_LOCK]
    assert (submitted.document_type, submitted.document_label, submitted.document_owner_id, submitted.amount,
            submitted.route) == (DocumentType.MACHINE_LOCK, "lock application of machine SY215C-0001, contract HF-TEST",
                                 None, D("25592.97"), Route(rule.id, 1, (STEP_MANAGER,)))
    assert (application.id, application.status, application.applied_by, application.company_id) == (
        application_id, ApplicationStatus.IN_APPROVAL, COLLECTOR, HEFEI.id)
    assert application.approval.current_step == STEP_MANAGER


@pytest.mark.parametrize("kind", list(RULES))
def test_every_kind_of_collection_application_can_be_made(kind):
    application = apply_for(kind, SERIAL_OF[kind])
    then_events(application, CollectionApplication.Applied, CollectionApplication.SubmittedForApproval)
    assert application.document_type == kind


def test_the_label_names_the_kind_the_machine_and_the_contract():
    assert in_approval(DocumentType.INTEREST_WAIVER).document_label == "interest waiver application, contract HF-TEST"
    assert in_approval(DocumentType.TOW).document_label == "tow application of machine SY215C-0001, contract HF-TEST"
    assert in_approval(DocumentType.SETTLEMENT).status_text() == "in_approval"


@pytest.mark.parametrize("kind", MACHINE_KINDS)
def test_a_lock_unlock_or_tow_application_names_a_machine(kind):
    refusal = then_refused(None, lambda: apply_for(kind, None), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "serial_number"


@pytest.mark.parametrize("kind", [DocumentType.INTEREST_WAIVER, DocumentType.SETTLEMENT])
def test_a_waiver_or_settlement_application_names_no_machine(kind):
    refusal = then_refused(None, lambda: apply_for(kind, SERIAL), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "serial_number"


@pytest.mark.parametrize("kind", [DocumentType.SALES_CONTRACT, DocumentType.EXPENSE])
def test_other_documents_are_not_collection_applications(kind):
    refusal = then_refused(None, lambda: apply_for(kind, None, rule=RULES[DocumentType.SETTLEMENT]),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "document_type"


@pytest.mark.parametrize("reason", [None, "", "   ", "Overdue\x07", "x" * 2001], ids=repr)
def test_an_application_states_its_reason(reason):
    refusal = then_refused(None, lambda: apply_for(reason=reason), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "reason"


def test_an_application_needs_an_approval_rule():
    refusal = then_refused(None, lambda: apply_for(rule=None), NoApprovalRuleError, "no-approval-rule", 409)
    assert "machine_lock" in refusal.message


def test_one_approval_step_approves_an_application_below_the_second_band():
    application = in_approval(amount="49999.99")
    context = ctx(actor=MANAGER.user_id)
    assert application.approve(context, MANAGER) is True
    [approved_event] = then_events(application, CollectionApplication.Approved)
    then_metadata(approved_event, context, HEFEI.id)
    assert (approved_event.step_index, approved_event.step_name) == (0, "Collection manager")
    assert (application.status, application.approval) == (ApplicationStatus.APPROVED, None)


def test_from_the_second_band_the_manager_then_the_finance_director_approve():
    application = in_approval(amount="50000.00")
    assert application.approval.route.steps == (STEP_MANAGER, STEP_DIRECTOR)
    assert application.approve(ctx(), MANAGER) is False
    [passed] = then_events(application, CollectionApplication.ApprovalStepPassed)
    assert (passed.step_index, passed.step_name, application.status) == (0, "Collection manager",
                                                                         ApplicationStatus.IN_APPROVAL)
    # The manager does not decide the director's step, nor a finance person of one company only.
    refusal = then_refused(application, lambda: application.approve(ctx(), MANAGER), NotYourStepError,
                           "not-your-approval-step", 403)
    assert refusal.details["role"] == "finance" and "whole group" in refusal.message
    then_refused(application, lambda: application.approve(ctx(), HEFEI_FINANCE), NotYourStepError,
                 "not-your-approval-step", 403)
    assert application.approve(ctx(), DIRECTOR) is True
    [approved_event] = then_events(application, CollectionApplication.Approved)
    assert (approved_event.step_index, approved_event.step_name, application.status) == (
        1, "Finance director", ApplicationStatus.APPROVED)


def test_whoever_applied_does_not_approve_their_own_application():
    application = in_approval()
    own = Decider(COLLECTOR, frozenset({Role.APPROVER}), Scope(all_companies=True))
    refusal = then_refused(application, lambda: application.approve(ctx(actor=COLLECTOR), own), SelfApprovalError,
                           "own-document", 403)
    assert "Collection manager" in refusal.message
    then_refused(application, lambda: application.reject(ctx("no", actor=COLLECTOR), own), SelfApprovalError,
                 "own-document", 403)


@pytest.mark.parametrize("decider", [DIRECTOR, OTHER_MANAGER], ids=["wrong-role", "other-company"])
def test_only_the_steps_role_within_the_company_decides(decider):
    application = in_approval()
    then_refused(application, lambda: application.approve(ctx(), decider), NotYourStepError,
                 "not-your-approval-step", 403)
    then_refused(application, lambda: application.reject(ctx("no"), decider), NotYourStepError,
                 "not-your-approval-step", 403)


def test_a_rejection_needs_a_reason_and_finishes_the_application():
    application = in_approval()
    refusal = then_refused(application, lambda: application.reject(ctx(), MANAGER), InvalidValueError,
                           "invalid-value", 422)
    assert refusal.details["field"] == "reason"
    context = ctx("The customer paid part yesterday.", actor=MANAGER.user_id)
    application.reject(context, MANAGER)
    [rejected] = then_events(application, CollectionApplication.Rejected)
    then_metadata(rejected, context, HEFEI.id)
    assert (rejected.step_index, rejected.step_name) == (0, "Collection manager")
    assert (application.status, application.approval) == (ApplicationStatus.REJECTED, None)
    for command in (lambda: application.approve(ctx(), MANAGER), lambda: application.reject(ctx("again"), MANAGER),
                    lambda: application.register_locked(ctx(), datetime(2026, 3, 2, 9, tzinfo=BEIJING))):
        refusal = then_refused(application, command, ApplicationStateError, "application-state", 409)
        assert refusal.details["state"] == "rejected"


def test_an_application_rejected_at_the_second_step():
    application = in_approval(amount="80000.00")
    application.approve(ctx(), MANAGER)
    settle(application)
    application.reject(ctx("Tow instead."), DIRECTOR)
    [rejected] = then_events(application, CollectionApplication.Rejected)
    assert (rejected.step_index, rejected.step_name, application.status) == (1, "Finance director",
                                                                             ApplicationStatus.REJECTED)


def test_an_approved_application_is_not_decided_again():
    application = approved()
    then_refused(application, lambda: application.approve(ctx(), MANAGER), ApplicationStateError,
                 "application-state", 409)
    then_refused(application, lambda: application.reject(ctx("no"), MANAGER), ApplicationStateError,
                 "application-state", 409)


# ------------------------------------------------------------------ registering the acts
def test_an_approved_lock_is_registered_with_its_time_and_is_done():
    application = approved(DocumentType.MACHINE_LOCK)
    context, locked_at = ctx(actor=OFFICE), datetime(2026, 3, 2, 9, 30, tzinfo=BEIJING)
    application.register_locked(context, locked_at)
    [registered] = then_events(application, CollectionApplication.LockRegistered)
    then_metadata(registered, context, HEFEI.id)
    assert (registered.locked_at, application.status) == (locked_at, ApplicationStatus.DONE)
    refusal = then_refused(application, lambda: application.register_locked(context, locked_at),
                           ApplicationStateError, "application-state", 409)
    assert refusal.details["state"] == "done"


def test_an_approved_unlock_is_registered_with_its_time_and_is_done():
    application = approved(DocumentType.MACHINE_UNLOCK)
    unlocked_at = datetime(2026, 3, 1, 23, 59, 59, tzinfo=timezone.utc)
    application.register_unlocked(ctx(), unlocked_at)
    [registered] = then_events(application, CollectionApplication.UnlockRegistered)
    assert (registered.unlocked_at, application.status) == (unlocked_at, ApplicationStatus.DONE)
    then_refused(application, lambda: application.register_unlocked(ctx(), unlocked_at), ApplicationStateError,
                 "application-state", 409)


@pytest.mark.parametrize("act", ["lock", "unlock"])
def test_a_lock_or_unlock_is_registered_only_once_approved(act):
    application = in_approval(DocumentType.MACHINE_LOCK if act == "lock" else DocumentType.MACHINE_UNLOCK)
    moment = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    command = (lambda: application.register_locked(ctx(), moment)) if act == "lock" else (
        lambda: application.register_unlocked(ctx(), moment))
    refusal = then_refused(application, command, ApplicationStateError, "application-state", 409)
    assert refusal.details["state"] == "in_approval"


@pytest.mark.parametrize(("kind", "act"), [
    (DocumentType.MACHINE_UNLOCK, "register_locked"), (DocumentType.TOW, "register_locked"),
    (DocumentType.INTEREST_WAIVER, "register_locked"), (DocumentType.MACHINE_LOCK, "register_unlocked"),
    (DocumentType.SETTLEMENT, "register_unlocked"), (DocumentType.MACHINE_LOCK, "register_tow"),
    (DocumentType.MACHINE_UNLOCK, "register_tow"), (DocumentType.MACHINE_LOCK, "machine_received_back"),
    (DocumentType.INTEREST_WAIVER, "machine_received_back")])
def test_an_act_is_registered_only_on_an_application_of_its_kind(kind, act):
    application = approved(kind)
    moment = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    commands = {"register_locked": lambda: application.register_locked(ctx(), moment),
                "register_unlocked": lambda: application.register_unlocked(ctx(), moment),
                "register_tow": lambda: application.register_tow(ctx(), BUSINESS_DATE, "Site", ["Zhang"]),
                "machine_received_back": lambda: application.machine_received_back(ctx(), uuid4())}
    refusal = then_refused(application, commands[act], ApplicationStateError, "application-state", 409)
    assert "is not a" in refusal.message


@pytest.mark.parametrize("act", ["lock", "unlock"])
@pytest.mark.parametrize(("moment", "why"), [
    (datetime(2026, 3, 2, 9, 30), "time zone"),
    (datetime(2026, 3, 3, 0, 0, tzinfo=BEIJING), "future")], ids=["naive", "tomorrow"])
def test_a_lock_or_unlock_time_has_a_time_zone_and_is_not_in_the_future(act, moment, why):
    kind = DocumentType.MACHINE_LOCK if act == "lock" else DocumentType.MACHINE_UNLOCK
    application = approved(kind)
    command = (lambda: application.register_locked(ctx(), moment)) if act == "lock" else (
        lambda: application.register_unlocked(ctx(), moment))
    refusal = then_refused(application, command, InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == f"{act}ed_at" and why in refusal.message
    assert application.status == ApplicationStatus.APPROVED


def test_a_lock_late_on_the_business_date_is_not_in_the_future():
    application = approved()
    application.register_locked(ctx(), datetime(2026, 3, 2, 23, 59, 59, tzinfo=BEIJING))
    then_events(application, CollectionApplication.LockRegistered)


def test_an_approved_tow_is_registered_with_its_date_place_and_people():
    application = approved(DocumentType.TOW)
    context = ctx(actor=OFFICE)
    application.register_tow(context, date(2026, 3, 1), "  Feixi county, site 3 ", [" Zhang San", "Li Si "])
    [registered] = then_events(application, CollectionApplication.TowRegistered)
    then_metadata(registered, context, HEFEI.id)
    assert (registered.towed_on, registered.place, registered.people) == (
        date(2026, 3, 1), "Feixi county, site 3", ("Zhang San", "Li Si"))
    assert application.status == ApplicationStatus.TOWED
    then_refused(application, lambda: application.register_tow(context, date(2026, 3, 1), "Site", ["Zhang"]),
                 ApplicationStateError, "application-state", 409)


def test_a_tow_is_registered_only_once_approved():
    application = in_approval(DocumentType.TOW)
    then_refused(application, lambda: application.register_tow(ctx(), BUSINESS_DATE, "Site", ["Zhang"]),
                 ApplicationStateError, "application-state", 409)


@pytest.mark.parametrize(("towed_on", "place", "people", "field"), [
    (BUSINESS_DATE + timedelta(days=1), "Site", ["Zhang"], "towed_on"),
    (BUSINESS_DATE, "Site", [], "people"),
    (BUSINESS_DATE, "Site", [f"Person {n}" for n in range(21)], "people"),
    (BUSINESS_DATE, "Site", ["Zhang", "  "], "people"),
    (BUSINESS_DATE, "Site", ["Zhang\x1b"], "people"),
    (BUSINESS_DATE, "Site", ["Z" * 51], "people"),
    (BUSINESS_DATE, " ", ["Zhang"], "place"),
    (BUSINESS_DATE, "S" * 201, ["Zhang"], "place"),
], ids=["tomorrow", "nobody", "21-people", "blank-name", "control-character", "name-too-long", "no-place",
        "place-too-long"])
def test_a_wrong_tow_is_refused_naming_the_field(towed_on, place, people, field):
    application = approved(DocumentType.TOW)
    refusal = then_refused(application, lambda: application.register_tow(ctx(), towed_on, place, people),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == field


def test_twenty_people_and_a_tow_today_are_taken():
    application = approved(DocumentType.TOW)
    application.register_tow(ctx(), BUSINESS_DATE, "Site", [f"Person {n}" for n in range(20)])
    [registered] = then_events(application, CollectionApplication.TowRegistered)
    assert len(registered.people) == 20


def test_the_towed_machine_received_back_finishes_the_tow_once():
    application = approved(DocumentType.TOW)
    warehouse = uuid4()
    then_refused(application, lambda: application.machine_received_back(ctx(), warehouse), ApplicationStateError,
                 "application-state", 409)
    application.register_tow(ctx(), BUSINESS_DATE, "Site", ["Zhang"])
    settle(application)
    context = ctx(actor=OFFICE)
    application.machine_received_back(context, warehouse)
    [back] = then_events(application, CollectionApplication.MachineReceivedBack)
    then_metadata(back, context, HEFEI.id)
    assert (back.warehouse_id, application.status) == (warehouse, ApplicationStatus.DONE)
    then_refused(application, lambda: application.machine_received_back(ctx(), warehouse), ApplicationStateError,
                 "application-state", 409)


# ================================================================== MachineUnit: lock, unlock, tow, repossession
CHUZHOU = given(Company.create(ctx(), "CZ", "Chuzhou"))
HEFEI_MAIN = given(Warehouse.create(ctx(), HEFEI, "MAIN", "Hefei main", WarehouseKind.MAIN))
HEFEI_YARD = given(Warehouse.create(ctx(), HEFEI, "YARD", "Hefei yard", WarehouseKind.MAIN))
HEFEI_PARTS = given(Warehouse.create(ctx(), HEFEI, "PARTS", "Hefei parts", WarehouseKind.PARTS))
HEFEI_VAN = given(Warehouse.create(ctx(), HEFEI, "VAN1", "Zhou's van", WarehouseKind.MOBILE, "Zhou"))
CHUZHOU_MAIN = given(Warehouse.create(ctx(), CHUZHOU, "MAIN", "Chuzhou main", WarehouseKind.MAIN))
LOCKED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=BEIJING)


def unit_out(serial: str = SERIAL, contract_id: UUID = CONTRACT, number: str = "HF-TEST") -> MachineUnit:
    """A unit received, picked for the contract and gone out to the customer."""
    unit = MachineUnit.receive(ctx(), serial, SY215C, HEFEI_MAIN, MachineNature.PURCHASED_SAMPLE)
    unit.reserve(ctx(), contract_id, number)
    unit.dispatch(ctx(), contract_id)
    return given(unit)


def locked_unit() -> MachineUnit:
    unit = unit_out()
    unit.lock(ctx(), CONTRACT, uuid4(), LOCKED_AT)
    settle(unit)
    return unit


def towed_unit(locked: bool = False) -> tuple[MachineUnit, UUID]:
    unit = locked_unit() if locked else unit_out()
    application_id = uuid4()
    unit.tow(ctx(), CONTRACT, application_id, BUSINESS_DATE, "Feixi county", ("Zhang San",))
    settle(unit)
    return unit, application_id


def test_a_unit_out_under_the_contract_is_locked():
    unit, application_id, context = unit_out(), uuid4(), ctx(actor=OFFICE)
    unit.check_can_lock(CONTRACT)
    unit.lock(context, CONTRACT, application_id, LOCKED_AT)
    [locked] = then_events(unit, MachineUnit.Locked)
    then_metadata(locked, context, HEFEI.id)
    assert (locked.contract_id, locked.contract_number, locked.application_id, locked.locked_at) == (
        CONTRACT, "HF-TEST", application_id, LOCKED_AT)
    assert (unit.locked, unit.status, unit.contract_id) == (True, MachineStatus.OUT, CONTRACT)


def test_a_locked_unit_is_not_locked_twice():
    unit = locked_unit()
    refusal = then_refused(unit, lambda: unit.lock(ctx(), CONTRACT, uuid4(), LOCKED_AT), MachineLockStateError,
                           "machine-lock-state", 409)
    assert refusal.details == {"serial_number": SERIAL, "locked": True}
    with pytest.raises(MachineLockStateError):
        unit.check_can_lock(CONTRACT)


def test_a_locked_unit_is_unlocked_and_may_be_locked_again():
    unit, application_id = locked_unit(), uuid4()
    unlocked_at = LOCKED_AT + timedelta(hours=6)
    unit.check_can_unlock(CONTRACT)
    unit.unlock(ctx(), CONTRACT, application_id, unlocked_at)
    [unlocked] = then_events(unit, MachineUnit.Unlocked)
    assert (unlocked.contract_id, unlocked.contract_number, unlocked.application_id, unlocked.unlocked_at) == (
        CONTRACT, "HF-TEST", application_id, unlocked_at)
    assert unit.locked is False
    unit.lock(ctx(), CONTRACT, uuid4(), LOCKED_AT)
    then_events(unit, MachineUnit.Locked)


def test_a_unit_not_locked_is_not_unlocked():
    unit = unit_out()
    refusal = then_refused(unit, lambda: unit.unlock(ctx(), CONTRACT, uuid4(), LOCKED_AT), MachineLockStateError,
                           "machine-lock-state", 409)
    assert refusal.details == {"serial_number": SERIAL, "locked": False}


def test_a_unit_locked_under_one_contract_is_not_unlocked_under_another():
    unit = locked_unit()
    then_refused(unit, lambda: unit.unlock(ctx(), uuid4(), uuid4(), LOCKED_AT), MachineLockStateError,
                 "machine-lock-state", 409)


def in_stock_unit() -> MachineUnit:
    return given(MachineUnit.receive(ctx(), SERIAL, SY215C, HEFEI_MAIN, MachineNature.PURCHASED_SAMPLE))


def reserved_unit() -> MachineUnit:
    unit = MachineUnit.receive(ctx(), SERIAL, SY215C, HEFEI_MAIN, MachineNature.PURCHASED_SAMPLE)
    unit.reserve(ctx(), CONTRACT, "HF-TEST")
    return given(unit)


@pytest.mark.parametrize(("make", "contract_id"), [
    (in_stock_unit, CONTRACT), (reserved_unit, CONTRACT), (unit_out, uuid4())],
    ids=["in-stock", "reserved-not-out", "out-under-another-contract"])
@pytest.mark.parametrize("act", ["lock", "tow"])
def test_only_a_unit_out_under_this_contract_is_locked_or_towed(make, contract_id, act):
    unit = make()
    command = (lambda: unit.lock(ctx(), contract_id, uuid4(), LOCKED_AT)) if act == "lock" else (
        lambda: unit.tow(ctx(), contract_id, uuid4(), BUSINESS_DATE, "Site", ("Zhang",)))
    refusal = then_refused(unit, command, MachineNotOutError, "machine-not-out", 409)
    assert refusal.details["serial_number"] == SERIAL


def test_a_unit_out_under_the_contract_is_towed_and_stays_the_contracts():
    unit, application_id, context = unit_out(), uuid4(), ctx(actor=OFFICE)
    unit.tow(context, CONTRACT, application_id, date(2026, 3, 1), "Feixi county", ("Zhang San", "Li Si"))
    [towed] = then_events(unit, MachineUnit.Towed)
    then_metadata(towed, context, HEFEI.id)
    assert (towed.contract_id, towed.contract_number, towed.application_id, towed.towed_on, towed.place,
            towed.people) == (CONTRACT, "HF-TEST", application_id, date(2026, 3, 1), "Feixi county",
                              ("Zhang San", "Li Si"))
    assert (unit.status, unit.contract_id, unit.contract_number) == (MachineStatus.REPOSSESSED, CONTRACT, "HF-TEST")


def test_a_towed_unit_is_neither_towed_nor_locked_again():
    unit, _ = towed_unit()
    then_refused(unit, lambda: unit.tow(ctx(), CONTRACT, uuid4(), BUSINESS_DATE, "Site", ("Zhang",)),
                 MachineNotOutError, "machine-not-out", 409)
    then_refused(unit, lambda: unit.lock(ctx(), CONTRACT, uuid4(), LOCKED_AT), MachineNotOutError,
                 "machine-not-out", 409)


@pytest.mark.parametrize("locked", [False, True], ids=["unlocked", "locked"])
def test_the_towed_unit_is_received_back_in_stock_as_a_repossessed_machine(locked):
    unit, application_id = towed_unit(locked)
    context = ctx(actor=OFFICE, day=date(2026, 3, 3))
    unit.receive_repossessed(context, CONTRACT, application_id, HEFEI_YARD)
    [back] = then_events(unit, MachineUnit.RepossessionReceived)
    then_metadata(back, context, HEFEI.id)
    assert (back.contract_id, back.contract_number, back.application_id, back.warehouse_id, back.lock_lifted) == (
        CONTRACT, "HF-TEST", application_id, HEFEI_YARD.id, locked)
    assert (unit.status, unit.nature, unit.warehouse_id, unit.contract_id, unit.contract_number, unit.locked) == (
        MachineStatus.IN_STOCK, MachineNature.REPOSSESSED, HEFEI_YARD.id, None, None, False)
    # Pickable for another sale.
    other = uuid4()
    unit.reserve(ctx(), other, "HF-OTHER")
    then_events(unit, MachineUnit.Reserved)
    assert (unit.status, unit.contract_id) == (MachineStatus.RESERVED, other)


@pytest.mark.parametrize("make", [unit_out, locked_unit, in_stock_unit], ids=["out", "locked", "in-stock"])
def test_a_unit_not_towed_is_not_received_back(make):
    unit = make()
    refusal = then_refused(unit, lambda: unit.receive_repossessed(ctx(), CONTRACT, uuid4(), HEFEI_MAIN),
                           MachineNotOutError, "machine-not-out", 409)
    assert "register the tow first" in refusal.message


def test_a_unit_towed_under_another_contract_is_not_received_back_under_this_one():
    unit, _ = towed_unit()
    then_refused(unit, lambda: unit.receive_repossessed(ctx(), uuid4(), uuid4(), HEFEI_MAIN), MachineNotOutError,
                 "machine-not-out", 409)


@pytest.mark.parametrize("warehouse", [HEFEI_PARTS, HEFEI_VAN, CHUZHOU_MAIN],
                         ids=["parts", "mobile", "other-company"])
def test_a_repossessed_unit_comes_back_to_a_main_warehouse_of_its_own_company(warehouse):
    unit, application_id = towed_unit()
    refusal = then_refused(unit, lambda: unit.receive_repossessed(ctx(), CONTRACT, application_id, warehouse),
                           WarehouseCannotHoldMachinesError, "warehouse-cannot-hold-machines", 422)
    assert refusal.details["field"] == "warehouse_id" and unit.status == MachineStatus.REPOSSESSED


def test_a_locked_unit_is_not_swapped_out_until_it_is_unlocked():
    unit = locked_unit()
    refusal = then_refused(unit, lambda: unit.swap_out(ctx(reason="fault"), CONTRACT, "SY215C-0002", HEFEI_MAIN),
                           MachineLockStateError, "machine-lock-state", 409)
    assert "unlocked" in refusal.message and refusal.details["serial_number"] == SERIAL
    unit.unlock(ctx(), CONTRACT, uuid4(), LOCKED_AT)
    settle(unit)
    unit.swap_out(ctx(reason="fault"), CONTRACT, "SY215C-0002", HEFEI_MAIN)
    then_events(unit, MachineUnit.SwappedOut)


def test_a_towed_unit_is_not_swapped_out():
    unit, _ = towed_unit()
    then_refused(unit, lambda: unit.swap_out(ctx(reason="fault"), CONTRACT, "SY215C-0002", HEFEI_MAIN),
                 MachineNotOutError, "machine-not-out", 409)
