"""Debt collection through the application, on real SQLite and PostgreSQL: dispatch and
logs, lock and unlock, tow and the repossessed unit back in stock with one continuous
history, interest waiver and settlement; the receivables read model showing the
collection state; rebuild equal to live."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from application.caller import SYSTEM, Caller
from domain import ids
from domain.access import Role
from domain.approvals import AmountBand, ApprovalStep
from domain.base import DomainError
from domain.collection import COLLECTION_DOCUMENTS
from domain.contracts import CommercialTerms, PaymentMethod
from domain.machines import MachineNature
from domain.receivables import ContactChannel
from projections import machine_stock, receivables
from tests.conftest import PASSWORD
from tests.integration.test_receivables import (  # noqa: F401  (fixtures)
    Clock, People, accrue, approve_sale, clock, group, office, pay, people, receivable)
from application.stock.commands import ReceiveMachine
from application.access.commands import CreateUser
from application.delivery.commands import DispatchMachine, PickMachine, ReviewOutbound
from application.approvals.commands import SetApprovalRule
from application.collection.commands import (
    ApplyInterestWaiver, ApplyLock, ApplySettlement, ApplyTow, ApplyUnlock, AssignCollector, DecideApplication,
    ReceiveRepossessedMachine, RegisterLocked, RegisterTow, RegisterUnlocked, ReleaseSettlementDocuments,
    WriteCollectionLog)
from application.receivables.commands import RecordReceipt, SetPenaltyRate

D = Decimal
CHINA = timezone(timedelta(hours=8))
CASH = CommercialTerms(PaymentMethod.CASH, D("0.00"), None, D("0.00"), None, (), ())


class Collectors:
    def __init__(self, office, group) -> None:
        access = office.access
        office.execute(SYSTEM, CreateUser(
            username="zhou", display_name="Zhou", password=PASSWORD, roles=[Role.COLLECTOR],
            position_ids=[ids.position_id("Hefei")]))
        office.execute(SYSTEM, CreateUser(
            username="wu", display_name="Wu", password=PASSWORD, roles=[Role.COLLECTOR],
            position_ids=[ids.position_id("Hefei")]))
        office.execute(SYSTEM, CreateUser(
            username="zheng", display_name="Zheng", password=PASSWORD, roles=[Role.COLLECTOR],
            position_ids=[ids.position_id("Chuzhou")]))
        office.execute(SYSTEM, CreateUser(
            username="boss", display_name="Boss", password=PASSWORD, roles=[Role.APPROVER],
            position_ids=[ids.position_id("Hefei")]))

        def caller(name: str) -> Caller:
            return access.authenticate(access.login(name, PASSWORD).access_token)

        self.zhou, self.wu, self.zheng, self.boss = caller("zhou"), caller("wu"), caller("zheng"), caller("boss")
        for document in COLLECTION_DOCUMENTS:
            office.execute(SYSTEM, SetApprovalRule(
                document_type=document, company_id=None,
                bands=[AmountBand(D("0.00"), (ApprovalStep("Risk manager", Role.APPROVER),))]))


@pytest.fixture
def collectors(office, group, people) -> Collectors:
    return Collectors(office, group)


def cash_sale_overdue(office, clock: Clock, group, people, serial: str | None = None) -> UUID:
    """A cash sale of 100,000.00 approved 2026-03-02, penalty 0.05 % a day from 03-01, unpaid:
    50.00 a day from 03-03. With ``serial``, the machine went out to the customer."""
    clock.day = date(2026, 2, 20)
    office.execute(SYSTEM, SetPenaltyRate(
        company_id=group.hefei, effective_from=date(2026, 3, 1), daily_rate=D("0.0005")))
    clock.day = date(2026, 3, 2)
    contract = approve_sale(office, group, people, CASH, price="100000.00")
    if serial:
        office.execute(group.keeper_group, ReceiveMachine(
            serial_number=serial, model_id=group.excavator, warehouse_id=group.hefei_main,
            nature=MachineNature.PURCHASED_SAMPLE))
        office.execute(people.wang, PickMachine(contract_id=contract, serial_number=serial))
        office.execute(people.sun, ReviewOutbound(contract_id=contract, outbound_no=1))
        office.execute(group.keeper_hefei, DispatchMachine(contract_id=contract, outbound_no=1))
    return contract


def decide(office, who: Caller, application: str, approve: bool = True, reason: str | None = None):
    return office.execute(who, DecideApplication(
        application_id=UUID(application), decision="approve" if approve else "reject", reason=reason))


def test_lock_unlock_and_tow_give_the_machine_one_continuous_history(office, clock, group, people, collectors):
    contract = cash_sale_overdue(office, clock, group, people, serial="SY215C-T1")
    accrue(office, clock, date(2026, 3, 20))          # today 03-21: 18 days of 50.00
    office.execute(people.sun, AssignCollector(contract_id=contract, collector_id=collectors.zhou.user_id))
    office.execute(collectors.zhou, WriteCollectionLog(
        contract_id=contract, contact_date=date(2026, 3, 21), contact_person="Mr Zhang",
        channel=ContactChannel.PHONE, result="Promised to pay next week", promised_date=date(2026, 3, 28),
        promised_amount=D("30000.00")))

    lock = office.execute(collectors.zhou, ApplyLock(
        contract_id=contract, serial_number="sy215c-t1", reason="21 days overdue, no answer"))
    assert lock.status_code == 201 and lock.body["status"] == "in_approval"
    with pytest.raises(DomainError) as second:
        office.execute(collectors.zhou, ApplyLock(
            contract_id=contract, serial_number="SY215C-T1", reason="again"))
    assert second.value.code == "application-pending"
    decide(office, collectors.boss, lock.body["application_id"])
    office.execute(people.chen, RegisterLocked(
        application_id=UUID(lock.body["application_id"]), at=datetime(2026, 3, 21, 15, 30, tzinfo=CHINA)))
    with pytest.raises(DomainError) as twice:
        office.execute(collectors.zhou, ApplyLock(
            contract_id=contract, serial_number="SY215C-T1", reason="lock it again"))
    assert twice.value.code == "machine-lock-state"

    row = receivable(office, people.sun, contract, date(2026, 3, 21))
    assert row["collection"]["locked"] is True and row["collection"]["collector_name"] == "zhou"
    assert row["collection"]["last_contact_date"] == date(2026, 3, 21)
    assert row["collection"]["promised_amount"] == D("30000.00")
    assert row["penalty_outstanding"] == D("900.00")

    tow = office.execute(collectors.zhou, ApplyTow(
        contract_id=contract, serial_number="SY215C-T1", reason="Customer gone, machine idle on site"))
    with pytest.raises(DomainError) as early:
        office.execute(people.chen, RegisterTow(
            application_id=UUID(tow.body["application_id"]), towed_on=date(2026, 3, 21), place="Feixi site",
            people=["Lao Li"]))
    assert early.value.code == "application-state"
    decide(office, collectors.boss, tow.body["application_id"])
    clock.day = date(2026, 3, 23)
    office.execute(people.chen, RegisterTow(
        application_id=UUID(tow.body["application_id"]), towed_on=date(2026, 3, 22), place="Feixi site",
        people=["Lao Li", "Xiao Wang"]))
    office.catch_up()
    assert receivable(office, people.sun, contract, date(2026, 3, 23))["collection"]["tow_state"] == "towed"
    office.execute(group.keeper_hefei, ReceiveRepossessedMachine(
        application_id=UUID(tow.body["application_id"]), warehouse_id=group.hefei_yard))
    office.catch_up()
    with office.read() as cur:
        unit = machine_stock.get_machine(cur, SYSTEM.scope, ids.machine_unit_id("SY215C-T1"))
    assert (unit["status"], unit["nature"], unit["locked"], unit["contract_id"]) == (
        "in_stock", "repossessed", False, None)
    assert unit["warehouse_id"] == group.hefei_yard or str(unit["warehouse_id"]) == str(group.hefei_yard)
    history = [e["event"] for e in office.history.machine_history(SYSTEM, "SY215C-T1")]
    assert history == ["MachineUnit.Received", "MachineUnit.Reserved", "MachineUnit.Dispatched",
                       "MachineUnit.Locked", "MachineUnit.Towed", "MachineUnit.RepossessionReceived"]
    row = receivable(office, people.sun, contract, date(2026, 3, 23))
    assert row["collection"]["locked"] is False and row["collection"]["tow_pending"] is False
    # The debt is still owed: the repossessed machine does not pay it.
    assert row["status"] == "open" and row["outstanding"] == D("100000.00")


def test_unlock_after_lock_and_refusals(office, clock, group, people, collectors):
    contract = cash_sale_overdue(office, clock, group, people, serial="SY215C-U1")
    clock.day = date(2026, 3, 10)
    office.execute(people.sun, AssignCollector(contract_id=contract, collector_id=collectors.zhou.user_id))
    with pytest.raises(DomainError) as not_locked:
        office.execute(collectors.zhou, ApplyUnlock(
            contract_id=contract, serial_number="SY215C-U1", reason="paid"))
    assert not_locked.value.code == "machine-lock-state"
    with pytest.raises(DomainError) as not_theirs:
        office.execute(collectors.wu, ApplyLock(
            contract_id=contract, serial_number="SY215C-U1", reason="not mine"))
    assert not_theirs.value.code == "not-your-collection"
    lock = office.execute(collectors.zhou, ApplyLock(
        contract_id=contract, serial_number="SY215C-U1", reason="overdue"))
    with pytest.raises(DomainError) as own:
        decide(office, collectors.zhou, lock.body["application_id"])
    assert own.value.code == "own-document"
    decide(office, collectors.boss, lock.body["application_id"])
    office.execute(people.chen, RegisterLocked(
        application_id=UUID(lock.body["application_id"]), at=datetime(2026, 3, 10, 9, 0, tzinfo=CHINA)))
    unlock = office.execute(collectors.zhou, ApplyUnlock(
        contract_id=contract, serial_number="SY215C-U1", reason="Customer paid a part"))
    rejected = decide(office, collectors.boss, unlock.body["application_id"], approve=False, reason="Pay all first")
    assert rejected.body["status"] == "rejected"
    unlock = office.execute(collectors.zhou, ApplyUnlock(
        contract_id=contract, serial_number="SY215C-U1", reason="Customer paid"))
    decide(office, collectors.boss, unlock.body["application_id"])
    office.execute(people.chen, RegisterUnlocked(
        application_id=UUID(unlock.body["application_id"]), at=datetime(2026, 3, 10, 17, 0, tzinfo=CHINA)))
    with pytest.raises(DomainError) as again:
        office.execute(people.chen, RegisterUnlocked(
            application_id=UUID(unlock.body["application_id"]), at=datetime(2026, 3, 10, 17, 0, tzinfo=CHINA)))
    assert again.value.code == "application-state"
    office.catch_up()
    assert receivable(office, people.sun, contract, date(2026, 3, 10))["collection"]["locked"] is False
    with office.read() as cur:
        listed, total = receivables.list_applications(cur, SYSTEM.scope, None,
                                                      receivables.ApplicationFilter(contract_id=contract), 1, 50)
    assert total == 3 and sorted(a["status"] for a in listed) == ["done", "done", "rejected"]


def test_waiver_then_settlement_closes_the_debt(office, clock, group, people, collectors):
    contract = cash_sale_overdue(office, clock, group, people)
    accrue(office, clock, date(2026, 3, 12))        # 10 days × 50.00 = 500.00; today 03-13
    office.execute(people.sun, AssignCollector(contract_id=contract, collector_id=collectors.zhou.user_id))
    with pytest.raises(DomainError) as early:
        office.execute(collectors.zhou, ApplyInterestWaiver(
            contract_id=contract, amount=D("100.00"), reason="asks for mercy"))
    assert early.value.code == "principal-outstanding"
    with pytest.raises(DomainError) as outstanding:
        office.execute(people.sun, ApplySettlement(contract_id=contract, reason="close it"))
    assert outstanding.value.code == "debt-outstanding"
    # Principal first, but 1,000.00 of it still unpaid: no waiver yet.
    pay(office, people, contract, "99000.00", date(2026, 3, 13), penalty_last=True)
    with pytest.raises(DomainError) as still:
        office.execute(collectors.zhou, ApplyInterestWaiver(
            contract_id=contract, amount=D("100.00"), reason="asks for mercy"))
    assert still.value.code == "principal-outstanding"
    # The rest of the principal and 300.00 of the 500.00 penalty.
    pay(office, people, contract, "1300.00", date(2026, 3, 13), penalty_last=True)
    with pytest.raises(DomainError) as too_much:
        office.execute(collectors.zhou, ApplyInterestWaiver(
            contract_id=contract, amount=D("200.01"), reason="all of it"))
    assert too_much.value.code == "waiver-exceeds-penalty"
    waiver = office.execute(collectors.zhou, ApplyInterestWaiver(
        contract_id=contract, amount=D("200.00"), reason="Paid all principal"))
    decide(office, collectors.boss, waiver.body["application_id"])
    row = receivable(office, people.sun, contract, date(2026, 3, 13))
    assert (row["penalty_accrued"], row["penalty_received"], row["penalty_waived"], row["penalty_outstanding"]) == (
        D("500.00"), D("300.00"), D("200.00"), D("0.00"))
    # Nothing more accrues: nothing is overdue.
    accrue(office, clock, date(2026, 3, 20))
    settlement = office.execute(people.sun, ApplySettlement(
        contract_id=contract, reason="Everything received or waived"))
    decide(office, collectors.boss, settlement.body["application_id"])
    with pytest.raises(DomainError) as closed:
        office.execute(people.chen, RecordReceipt(
            contract_id=contract, amount=D("1.00"), value_date=date(2026, 3, 21), method=receivables_method()))
    assert closed.value.code == "debt-state"
    office.execute(people.sun, ReleaseSettlementDocuments(
        contract_id=contract, invoice_number="INV-001", certificate_number="HGZ-001", released_to="Mr Zhang"))
    with pytest.raises(DomainError) as twice:
        office.execute(people.sun, ReleaseSettlementDocuments(
            contract_id=contract, invoice_number="INV-001", certificate_number="HGZ-001",
            released_to="Mr Zhang"))
    assert twice.value.code == "documents-already-released"
    row = receivable(office, people.sun, contract, date(2026, 3, 21))
    assert row["status"] == "settled" and row["collection"]["settled"] is True
    assert row["collection"]["documents_released_on"] == date(2026, 3, 21)
    # Rebuilt from the log, the read model says the same.
    live = receivable(office, people.sun, contract, date(2026, 3, 21))
    office.projections["receivables"].reset()
    office.catch_up()
    assert receivable(office, people.sun, contract, date(2026, 3, 21)) == live


def receivables_method():
    from domain.receivables import ReceiptMethod
    return ReceiptMethod.CASH


def test_a_collector_sees_only_what_is_assigned_or_in_scope(office, clock, group, people, collectors):
    contract = cash_sale_overdue(office, clock, group, people)
    clock.day = date(2026, 3, 10)
    with pytest.raises(DomainError) as outside:
        office.execute(people.sun, AssignCollector(
            contract_id=contract, collector_id=collectors.zheng.user_id))
    assert outside.value.code == "invalid-value"
    with pytest.raises(DomainError) as hidden:
        office.execute(collectors.zheng, WriteCollectionLog(
            contract_id=contract, contact_date=date(2026, 3, 10), contact_person="X",
            channel=ContactChannel.VISIT, result="tried"))
    assert hidden.value.code == "receivable-not-found"
    office.execute(people.sun, AssignCollector(contract_id=contract, collector_id=collectors.zhou.user_id))
    office.catch_up()
    with office.read() as cur:
        mine, _ = receivables.list_receivables(cur, collectors.zhou.scope, None,
                                               receivables.ReceivableFilter(collector_id=collectors.zhou.user_id),
                                               date(2026, 3, 10), 1, 50)
        theirs, total = receivables.list_receivables(cur, collectors.zheng.scope, None,
                                                     receivables.ReceivableFilter(), date(2026, 3, 10), 1, 50)
    assert [r["contract_id"] for r in mine] in ([contract], [str(contract)])
    assert theirs == [] and total == 0
