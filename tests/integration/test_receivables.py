"""Receivables through the application, on real SQLite and PostgreSQL, with the business
date moved by hand: the SCENARIO.md sale from approval through its penalty interest, on
time and with the receipt recorded late (backdated), giving the same figures to the fen
in the read model; the daily run idempotent; rebuild equal to live; un-approval closing
the receivable; two confirmations at once; data scope in every query."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.caller import SYSTEM, Caller
from application.sales import ContractLineRequest
from domain import ids
from domain.access import Permission, Role, Scope
from domain.approvals import AmountBand, ApprovalStep, DocumentType
from domain.base import DomainError
from domain.contracts import (CommercialTerms, ContractAlreadyStartedError, ContractStateError, InstallmentTerms,
                              PaymentMethod, ScheduleMethod)
from domain.customers import PartyKind
from domain.receivables import Debt, ReceiptMethod, ReceiptStateError
from interfaces.composition import BackOffice
from projections import receivables
from tests.conftest import ADMIN_PASSWORD, PASSWORD, Group, seed_group
from application.access.commands import CreatePosition, CreateUser
from interfaces.http.errors import status_of
from application.sales.commands import CompleteContractTerms
from application.approvals.commands import SetApprovalRule
from application.sales.commands import ApproveContract, CreateCustomer, DefineCustomerType, DraftContract, SubmitContractForApproval, SubmitContractToClerk, UnapproveContract
from application.receivables.commands import ConfirmReceipt, RecordReceipt, ReverseReceipt, SetPenaltyRate

D = Decimal


class Clock:
    """The business date, moved by the test."""

    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


class People:
    def __init__(self, office: BackOffice, group: Group) -> None:
        access = office.access
        office.execute(SYSTEM, CreatePosition(
            name="Chuzhou", company_ids=[group.chuzhou], all_companies=False))
        for name, roles in {"wang": [Role.SALESPERSON], "li": [Role.SALESPERSON], "chen": [Role.SALES_CLERK],
                            "zhao": [Role.APPROVER], "sun": [Role.FINANCE], "qian": [Role.FINANCE]}.items():
            office.execute(SYSTEM, CreateUser(
                username=name, display_name=name.title(), password=PASSWORD, roles=roles,
                position_ids=[ids.position_id("Hefei")]))
        office.execute(SYSTEM, CreateUser(
            username="risk", display_name="Risk", password=PASSWORD, roles=[Role.FINANCE, Role.APPROVER],
            position_ids=[ids.position_id("Chuzhou")]))

        def caller(name: str) -> Caller:
            return access.authenticate(access.login(name, PASSWORD).access_token)

        self.wang, self.li, self.chen, self.zhao = caller("wang"), caller("li"), caller("chen"), caller("zhao")
        self.sun, self.qian, self.risk = caller("sun"), caller("qian"), caller("risk")
        office.execute(SYSTEM, DefineCustomerType(code="FORMAL", name="Formal"))
        office.execute(SYSTEM, SetApprovalRule(
            document_type=DocumentType.SALES_CONTRACT, company_id=None,
            bands=[AmountBand(D("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),))]))
        self.customer = UUID(office.execute(self.wang, CreateCustomer(
            company_id=group.hefei, name="Hefei Earthworks", kind=PartyKind.ORGANISATION,
            customer_type_id=ids.customer_type_id("FORMAL"))).body["customer_id"])


@pytest.fixture
def clock() -> Clock:
    return Clock(date(2025, 12, 15))


@pytest.fixture
def office(settings, clock) -> Any:
    backoffice = BackOffice(settings.model_copy(update={"penalty_run_hour": 0}), today=clock)
    backoffice.access.ensure_administrator(ADMIN_PASSWORD)
    try:
        yield backoffice
    finally:
        backoffice.stop()


@pytest.fixture
def group(office) -> Group:
    return seed_group(office)


@pytest.fixture
def people(office, group) -> People:
    return People(office, group)


SCENARIO_TERMS = CommercialTerms(PaymentMethod.INSTALLMENT, D("80000.00"),
                                 InstallmentTerms(12, D("0.0435"), date(2026, 1, 31), ScheduleMethod.EQUAL_INSTALLMENT),
                                 D("0.00"), None, (), ())


def approve_sale(office, group: Group, people: People, terms: CommercialTerms = SCENARIO_TERMS,
                 price: str = "380000.00", salesperson: Caller | None = None) -> UUID:
    seller = salesperson or people.wang
    customer = people.customer if seller is people.wang else UUID(office.execute(seller, CreateCustomer(
        company_id=group.hefei, name="Feixi Quarry", kind=PartyKind.ORGANISATION,
        customer_type_id=ids.customer_type_id("FORMAL"))).body["customer_id"])
    contract = UUID(office.execute(seller, DraftContract(
        company_id=group.hefei, customer_id=customer, contact_id=None,
        lines=[ContractLineRequest(group.excavator, 1, D(price))])).body["contract_id"])
    office.execute(seller, SubmitContractToClerk(contract_id=contract))
    office.execute(people.chen, CompleteContractTerms.of(contract, terms))
    office.execute(people.chen, SubmitContractForApproval(contract_id=contract))
    office.execute(people.zhao, ApproveContract(contract_id=contract))
    return contract


def pay(office, people: People, contract: UUID, amount: str, value_date: date, **kw) -> UUID:
    receipt = UUID(office.execute(people.chen, RecordReceipt(
        contract_id=contract, amount=D(amount), value_date=value_date, method=ReceiptMethod.BANK_TRANSFER,
        **kw)).body["receipt_id"])
    office.execute(people.sun, ConfirmReceipt(contract_id=contract, receipt_id=receipt))
    return receipt


def accrue(office, clock: Clock, through: date) -> dict:
    clock.day = through + timedelta(days=1)
    return office.accrue_penalties(SYSTEM, through)


def receivable(office, who: Caller, contract: UUID, as_of: date) -> dict:
    office.catch_up()
    with office.read() as cur:
        row = receivables.get_receivable(cur, who.scope, who.user_id if who.own_sales_only else None, contract, as_of)
    assert row is not None
    return row


def scenario_until_april(office, clock: Clock, group: Group, people: People, sales: int = 1) -> list[UUID]:
    """SCENARIO.md: approved 2025-12-15; rates 0.05 % a day from 2026-01-01 and 0.06 % from
    2026-04-15; down payment, January and February paid on time; March left unpaid."""
    office.execute(SYSTEM, SetPenaltyRate(
        company_id=group.hefei, effective_from=date(2026, 1, 1), daily_rate=D("0.0005")))
    office.execute(SYSTEM, SetPenaltyRate(
        company_id=group.hefei, effective_from=date(2026, 4, 15), daily_rate=D("0.0006")))
    contracts = [approve_sale(office, group, people) for _ in range(sales)]
    for contract in contracts:
        pay(office, people, contract, "80000.00", date(2025, 12, 15))
    for day in (date(2026, 1, 31), date(2026, 2, 28)):
        clock.day = day
        for contract in contracts:
            pay(office, people, contract, "25592.97", day)
    return contracts


def figures(row: dict) -> dict:
    """What the finance office reads of a receivable, items included."""
    keep = ("received", "outstanding", "principal_outstanding", "overdue_amount", "penalty_accrued",
            "penalty_received", "penalty_outstanding", "days_past_due", "aging_bucket", "next_due_date",
            "next_due_amount")
    items = [{k: i[k] for k in ("item", "unpaid", "principal_paid", "interest_paid", "penalty_accrued",
                                "penalty_paid")} for i in row["items"]]
    return {**{k: row[k] for k in keep}, "items": items}


def test_the_scenario_sale_opens_its_receivable_with_the_schedule_of_scenario_md(office, clock, group, people):
    contract = approve_sale(office, group, people)
    row = receivable(office, people.chen, contract, date(2025, 12, 15))
    assert [i["item"] for i in row["items"]] == ["DP", *[f"I{n}" for n in range(1, 13)]]
    # Charged: the price plus the schedule's interest, 12 × 25,592.97 − 300,000.00 = 7,115.64.
    assert (row["financed"], row["charged"], row["outstanding"]) == (D("300000.00"), D("387115.64"), D("387115.64"))
    first, march, last = row["items"][1], row["items"][3], row["items"][12]
    assert (first["due_date"], first["principal"], first["interest"]) == (date(2026, 1, 31), D("24505.47"),
                                                                         D("1087.50"))
    assert (march["due_date"], march["principal"], march["interest"]) == (date(2026, 3, 31), D("24683.46"),
                                                                         D("909.51"))
    assert (last["due_date"], last["principal"], last["interest"]) == (date(2026, 12, 31), D("25500.53"), D("92.44"))
    assert (row["next_due_date"], row["next_due_amount"], row["aging_bucket"]) == (date(2025, 12, 15),
                                                                                   D("80000.00"), "current")


def test_the_scenario_penalty_on_the_march_installment_to_the_fen(office, clock, group, people):
    (contract,) = scenario_until_april(office, clock, group, people)
    for day in range(1, 10):
        accrue(office, clock, date(2026, 4, day))
    assert receivable(office, people.chen, contract, date(2026, 4, 10))["penalty_accrued"] == D("115.20")
    clock.day = date(2026, 4, 10)
    receipt = pay(office, people, contract, "10000.00", date(2026, 4, 10))
    for day in range(10, 21):
        accrue(office, clock, date(2026, 4, day))
    row = receivable(office, people.chen, contract, date(2026, 4, 21))
    march = next(i for i in row["items"] if i["item"] == "I3")
    assert (row["penalty_accrued"], row["penalty_received"], row["penalty_outstanding"]) == (
        D("210.97"), D("115.20"), D("95.77"))
    assert (march["unpaid"], march["interest_paid"], march["principal_paid"]) == (D("15708.17"), D("909.51"),
                                                                                   D("8975.29"))
    assert (row["overdue_amount"], row["days_past_due"], row["aging_bucket"]) == (D("15708.17"), 21, "1-30")
    split = next(r for r in row["receipts"] if str(r["receipt_id"]) == str(receipt))["allocations"]
    assert split == [{"item": "I3", "penalty": D("115.20"), "interest": D("909.51"), "principal": D("8975.29")}]
    # The statement: charges due by 04-20 + penalty − receipts = what is owed, line by line.
    with office.read() as cur:
        statement = receivables.customer_statement(cur, people.chen.scope, None, people.customer, None,
                                                   date(2026, 4, 20))
    assert statement["closing_balance"] == D("15803.94") == D("15708.17") + D("95.77")
    dates = [line["date"] for line in statement["lines"]]
    assert dates == sorted(dates)
    assert [line["kind"] for line in statement["lines"]].count("receipt") == 4


def test_a_backdated_receipt_gives_the_same_figures_as_one_recorded_on_time(office, clock, group, people):
    on_time, late = scenario_until_april(office, clock, group, people, sales=2)
    for day in range(1, 18):   # the daily job runs 04-01 … 04-17
        if day == 10:
            clock.day = date(2026, 4, 10)
            pay(office, people, on_time, "10000.00", date(2026, 4, 10))
        accrue(office, clock, date(2026, 4, day))
    # Until 04-18 the late sale was charged on the full amount since 04-10.
    assert receivable(office, people.chen, late, date(2026, 4, 18))["penalty_accrued"] == (
        9 * D("12.80") + 5 * D("12.80") + 3 * D("15.36"))
    clock.day = date(2026, 4, 18)
    pay(office, people, late, "10000.00", date(2026, 4, 10))
    for day in (18, 19, 20, 20, 12):    # a day already accrued again: nothing changes
        accrue(office, clock, date(2026, 4, day))
    late_row = receivable(office, people.chen, late, date(2026, 4, 21))
    assert figures(late_row) == figures(receivable(office, people.chen, on_time, date(2026, 4, 21)))
    assert (late_row["penalty_accrued"], late_row["penalty_received"], late_row["penalty_outstanding"]) == (
        D("210.97"), D("115.20"), D("95.77"))
    march = next(i for i in late_row["items"] if i["item"] == "I3")
    assert (march["unpaid"], march["penalty_accrued"], march["penalty_paid"]) == (D("15708.17"), D("210.97"),
                                                                                   D("115.20"))
    with office.read() as cur:
        cur.execute("SELECT kind, debit_fen, credit_fen FROM receivable_entries WHERE debt_id = %s AND kind LIKE"
                    " 'penalty%%'", (ids.debt_id(late),))
        entries = cur.fetchall()
    assert sum(e["debit_fen"] - e["credit_fen"] for e in entries) == 21097
    assert any(e["kind"] == "penalty_correction" for e in entries)


def test_the_daily_run_twice_for_a_day_records_nothing_new(office, clock, group, people):
    (contract,) = scenario_until_april(office, clock, group, people)
    first = accrue(office, clock, date(2026, 4, 5))
    head = office.ledger.recorder.max_notification_id()
    second = accrue(office, clock, date(2026, 4, 5))
    assert (first["debts_charged"], second["debts_charged"]) == (1, 0)
    assert office.ledger.recorder.max_notification_id() == head
    assert receivable(office, people.chen, contract, date(2026, 4, 6))["penalty_accrued"] == 5 * D("12.80")


def test_rebuilding_the_receivables_read_model_gives_the_live_rows(office, clock, group, people):
    (contract,) = scenario_until_april(office, clock, group, people)
    for day in range(1, 12):
        accrue(office, clock, date(2026, 4, day))
    receipt = pay(office, people, contract, "10000.00", date(2026, 4, 10))
    office.execute(people.sun, ReverseReceipt(contract_id=contract, receipt_id=receipt, reason="Bounced"))
    pay(office, people, contract, "5000.00", date(2026, 4, 8))

    def dump() -> dict[str, list]:
        office.catch_up()
        with office.read() as cur:
            tables = {}
            for table in receivables.ReceivablesProjection.tables:
                cur.execute(f"SELECT * FROM {table}")
                tables[table] = sorted((tuple(sorted((k, str(v)) for k, v in r.items())) for r in cur.fetchall()))
            return tables

    live = dump()
    office.projections["receivables"].reset()
    assert dump() == live


def test_unapproval_closes_an_untouched_receivable_and_is_refused_once_money_came_in(office, clock, group, people):
    contract = approve_sale(office, group, people)
    office.execute(people.zhao, UnapproveContract(
        contract_id=contract, reason="Customer changed the down payment"))
    assert receivable(office, people.chen, contract, clock.day)["status"] == "closed"
    office.execute(people.chen, SubmitContractForApproval(contract_id=contract))
    office.execute(people.zhao, ApproveContract(contract_id=contract))
    row = receivable(office, people.chen, contract, clock.day)
    assert (row["status"], row["outstanding"]) == ("open", D("387115.64"))
    pay(office, people, contract, "80000.00", clock.day)
    with pytest.raises(ContractAlreadyStartedError) as refused:
        office.execute(people.zhao, UnapproveContract(contract_id=contract, reason="Too late"))
    assert "80000.00" in refused.value.message
    assert receivable(office, people.chen, contract, clock.day)["status"] == "open"


def test_two_confirmations_of_one_receipt_at_once_count_it_once(office, clock, group, people):
    contract = approve_sale(office, group, people)
    receipt = UUID(office.execute(people.chen, RecordReceipt(
        contract_id=contract, amount=D("80000.00"), value_date=clock.day, method=ReceiptMethod.CASH)).body["receipt_id"])
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def confirm(who: Caller) -> None:
        barrier.wait()
        try:
            outcomes.append(office.execute(who, ConfirmReceipt(contract_id=contract, receipt_id=receipt)).status_code)
        except DomainError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=confirm, args=(who,)) for who in (people.sun, people.qian)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, outcomes)).count("200") == 1
    refusal = next(o for o in outcomes if isinstance(o, DomainError))
    assert isinstance(refusal, ReceiptStateError) and status_of(refusal) == 409
    assert receivable(office, people.chen, contract, clock.day)["received"] == D("80000.00")


def test_out_of_scope_receivables_never_appear_in_lists_totals_or_statements(office, clock, group, people):
    contract = approve_sale(office, group, people)
    pay(office, people, contract, "80000.00", clock.day)
    li_contract = approve_sale(office, group, people, salesperson=people.li)
    office.catch_up()
    as_of = clock.day
    with office.read() as cur:
        for who, own in ((people.risk, None), (people.li, people.li.user_id)):
            rows, total = receivables.list_receivables(cur, who.scope, own, receivables.ReceivableFilter(), as_of, 1, 50)
            assert str(contract) not in {str(r["contract_id"]) for r in rows}
            assert receivables.get_receivable(cur, who.scope, own, contract, as_of) is None
            assert receivables.customer_statement(cur, who.scope, own, people.customer, None, as_of) is None
            receipts, n = receivables.list_receipts(cur, who.scope, own, receivables.ReceiptFilter(), 1, 50)
            assert n == len(receipts) and all(str(r["contract_id"]) != str(contract) for r in receipts)
            exported = list(receivables.export_receivables(cur, who.scope, own, receivables.ReceivableFilter(), as_of))
            assert str(contract) not in {str(r["contract_id"]) for r in exported}
        # risk sees Chuzhou only: nothing at all, and no totals.
        assert receivables.aging_report(cur, people.risk.scope, None, as_of) == []
        assert receivables.debts_to_accrue(cur, as_of + timedelta(days=400), people.risk.scope) == []
        # li sees her own contract only, and the totals are hers.
        rows, total = receivables.list_receivables(cur, people.li.scope, people.li.user_id,
                                                   receivables.ReceivableFilter(), as_of, 1, 50)
        assert ([str(r["contract_id"]) for r in rows], total) == ([str(li_contract)], 1)
        (li_total,) = receivables.aging_report(cur, people.li.scope, people.li.user_id, as_of)
        assert (li_total["receivables"], li_total["outstanding"]) == (1, D("387115.64"))
        (all_hefei,) = receivables.aging_report(cur, people.chen.scope, None, as_of)
        assert (all_hefei["receivables"], all_hefei["outstanding"]) == (2, 2 * D("387115.64") - D("80000.00"))


def test_the_worker_accrues_through_yesterday_by_itself_each_new_day(office, clock, group, people):
    (contract,) = scenario_until_april(office, clock, group, people)
    clock.day = date(2026, 4, 6)
    office.workers.start_penalty_schedule(SYSTEM, check_every=0.05)

    def accrued() -> Decimal:
        return receivable(office, people.chen, contract, clock.day)["penalty_accrued"]

    def eventually(expected: Decimal) -> None:
        for _ in range(200):
            if accrued() == expected:
                return
            threading.Event().wait(0.05)
        assert accrued() == expected

    eventually(5 * D("12.80"))                 # 04-01 … 04-05, at start
    clock.day = date(2026, 4, 8)               # two days later (the hour setting is 0 in this test)
    eventually(7 * D("12.80"))


def test_the_receivable_history_tells_the_backdated_correction_in_order(office, clock, group, people):
    (contract,) = scenario_until_april(office, clock, group, people)
    accrue(office, clock, date(2026, 4, 12))
    clock.day = date(2026, 4, 13)
    pay(office, people, contract, "10000.00", date(2026, 4, 10))
    history = office.history.receivable_history(people.chen, contract)
    events = [e["event"] for e in history]
    assert events[0] == "Debt.Opened" and events[-3:] == [
        "Debt.ReceiptRecorded", "Debt.PenaltyAdjusted", "Debt.ReceiptConfirmed"]
    adjusted = history[-2]
    assert (adjusted["actor"], adjusted["business_date"]) == ("sun", date(2026, 4, 13))
    (line,) = adjusted["data"]["lines"]
    # 04-10 … 04-12 were charged 12.80 a day on 25,592.97; on 15,708.17 they are 7.85: −4.95 a day.
    assert (line.first_day, line.last_day, line.daily_amount, line.overdue) == (
        date(2026, 4, 10), date(2026, 4, 12), D("-4.95"), D("15708.17"))
    with pytest.raises(DomainError) as hidden:
        office.history.receivable_history(people.risk, contract)
    assert status_of(hidden.value) == 404


def test_an_approval_overtaken_between_its_reads_is_refused_as_already_approved(office, group, people, monkeypatch):
    """The loser of two approvals at once may read the contract before the winner's save and
    the receivable after it: it must end as "already approved", not as a receivable refusal."""
    contract = UUID(office.execute(people.wang, DraftContract(
        company_id=group.hefei, customer_id=people.customer, contact_id=None,
        lines=[ContractLineRequest(group.excavator, 1, D("380000.00"))])).body["contract_id"])
    office.execute(people.wang, SubmitContractToClerk(contract_id=contract))
    office.execute(people.chen, CompleteContractTerms.of(contract, SCENARIO_TERMS))
    office.execute(people.chen, SubmitContractForApproval(contract_id=contract))
    other = Caller(uuid4(), "qian", frozenset(Permission), Scope(all_companies=True), frozenset({Role.APPROVER}))
    find, overtaken = office.commands.find, []

    def find_after_the_winner(aggregate_id, cls):
        if cls is Debt and not overtaken:
            overtaken.append(other)
            office.execute(other, ApproveContract(contract_id=contract))
        return find(aggregate_id, cls)

    monkeypatch.setattr(office.commands, "find", find_after_the_winner)
    with pytest.raises(ContractStateError):
        office.execute(people.zhao, ApproveContract(contract_id=contract))
    monkeypatch.undo()
    events = [e["event"] for e in office.history.contract_history(people.chen, contract)]
    assert events.count("Contract.Approved") == 1
    assert [e["event"] for e in office.history.receivable_history(people.chen, contract)] == ["Debt.Opened"]
