"""Customers, contracts and approvals through the application, on real SQLite and PostgreSQL:
read models follow every step, a rule change leaves documents in flight on their
own route, two approvers deciding at once leave one decision, and a salesperson
never sees another's records."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from application.access.commands import CreatePosition, CreateUser
from application.approvals import SetApprovalRule
from application.caller import SYSTEM, Caller
from application.ledger import ConcurrentChangeError
from application.sales import ContractLineRequest
from application.sales.commands import (
    ApproveContract,
    CompleteContractTerms,
    CreateContact,
    CreateCustomer,
    DefineCustomerTag,
    DefineCustomerType,
    DraftContract,
    RejectContract,
    ReturnContractToSalesperson,
    SubmitContractForApproval,
    SubmitContractToClerk,
    TagCustomer,
    UnapproveContract,
)
from domain import ids
from domain.access import Role
from domain.approvals import AmountBand, ApprovalStep, DocumentType, StepScope
from domain.base import DomainError
from domain.contracts import CommercialTerms, ContractStateError, InstallmentTerms, PaymentMethod, ScheduleMethod
from domain.customers import PartyKind
from interfaces.http.errors import status_of
from projections import approval_queue, contracts, customers
from tests.conftest import PASSWORD, TODAY


@dataclass
class Sales:
    wang: Caller      # salesperson, Hefei
    li: Caller        # salesperson, Hefei
    chen: Caller      # sales clerk, Hefei
    zhao: Caller      # approver, Hefei
    qian: Caller      # a second approver, Hefei
    sun: Caller       # finance, whole group
    risk: Caller      # approver and finance, Chuzhou only
    customer: UUID    # wang's
    contact: UUID     # wang's


ONE_STEP = [AmountBand(Decimal("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),))]
TWO_STEPS = [AmountBand(Decimal("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),)),
             AmountBand(Decimal("300000.00"), (ApprovalStep("Sales manager", Role.APPROVER),
                                               ApprovalStep("Group finance", Role.FINANCE, StepScope.GROUP)))]


@pytest.fixture
def sales(backoffice, group) -> Sales:
    access = backoffice.access
    backoffice.execute(SYSTEM, CreatePosition(
        name="Chuzhou", company_ids=[group.chuzhou], all_companies=False))
    people = {"wang": [Role.SALESPERSON], "li": [Role.SALESPERSON], "chen": [Role.SALES_CLERK],
              "zhao": [Role.APPROVER], "qian": [Role.APPROVER]}
    for name, roles in people.items():
        backoffice.execute(SYSTEM, CreateUser(
            username=name, display_name=name.title(), password=PASSWORD, roles=roles,
            position_ids=[ids.position_id("Hefei")]))
    backoffice.execute(SYSTEM, CreateUser(
        username="sun", display_name="Sun", password=PASSWORD, roles=[Role.FINANCE],
        position_ids=[ids.position_id("Whole group")]))
    backoffice.execute(SYSTEM, CreateUser(
        username="risk", display_name="Risk", password=PASSWORD, roles=[Role.APPROVER, Role.FINANCE],
        position_ids=[ids.position_id("Chuzhou")]))

    def caller(name: str) -> Caller:
        return access.authenticate(access.login(name, PASSWORD).access_token)

    backoffice.execute(SYSTEM, DefineCustomerType(code="FORMAL", name="Formal"))
    backoffice.execute(SYSTEM, SetApprovalRule(
        document_type=DocumentType.SALES_CONTRACT, company_id=None, bands=TWO_STEPS))
    wang = caller("wang")
    customer = UUID(backoffice.execute(wang, CreateCustomer(
        company_id=group.hefei, name="Hefei Earthworks", kind=PartyKind.ORGANISATION,
        customer_type_id=ids.customer_type_id("FORMAL"))).body["customer_id"])
    contact = UUID(backoffice.execute(wang, CreateContact(company_id=group.hefei, name="Liu Qiang")).body["contact_id"])
    return Sales(wang, caller("li"), caller("chen"), caller("zhao"), caller("qian"), caller("sun"), caller("risk"),
                 customer, contact)


def _terms(down: str = "80000.00") -> CommercialTerms:
    return CommercialTerms(PaymentMethod.INSTALLMENT, Decimal(down),
                           InstallmentTerms(12, Decimal("0.0435"), TODAY + timedelta(days=40),
                                            ScheduleMethod.EQUAL_INSTALLMENT),
                           Decimal("0.00"), None, (), ())


def _to_approval(office, group, sales: Sales, price: str = "380000.00") -> UUID:
    drafted = office.execute(sales.wang, DraftContract(
        company_id=group.hefei, customer_id=sales.customer, contact_id=sales.contact,
        lines=[ContractLineRequest(group.excavator, 1, Decimal(price))]))
    contract = UUID(drafted.body["contract_id"])
    office.execute(sales.wang, SubmitContractToClerk(contract_id=contract))
    office.execute(sales.chen, CompleteContractTerms.of(contract, _terms("20000.00")))
    office.execute(sales.chen, SubmitContractForApproval(contract_id=contract))
    return contract


def _queue(office, who: Caller) -> list[str]:
    office.catch_up()
    with office.read() as cur:
        items, total = approval_queue.list_my_approvals(cur, who.scope, who.roles, who.user_id,
                                                        who.user_id if who.own_sales_only else None, None, None,
                                                        1, 500)
    assert total == len(items)
    return [str(i["document_id"]) for i in items]


def test_the_contract_read_model_follows_every_step(backoffice, group, sales):
    office = backoffice
    contract = UUID(office.execute(sales.wang, DraftContract(
        company_id=group.hefei, customer_id=sales.customer, contact_id=sales.contact,
        lines=[
        ContractLineRequest(group.excavator, 2, Decimal("190000.00"))])).body["contract_id"])

    def row() -> dict:
        office.catch_up()
        with office.read() as cur:
            found = contracts.get_contract(cur, sales.chen.scope, None, contract)
        assert found is not None
        return found

    assert (row()["status"], Decimal(str(row()["total_amount"])), row()["salesperson"]) == (
        "draft", Decimal("380000.00"), "wang")
    office.execute(sales.wang, SubmitContractToClerk(contract_id=contract))
    office.execute(sales.chen, ReturnContractToSalesperson(
        contract_id=contract, reason="Add the delivery site"))
    assert (row()["status"], row()["last_reason"]) == ("draft", "Add the delivery site")
    office.execute(sales.wang, SubmitContractToClerk(contract_id=contract))
    office.execute(sales.chen, CompleteContractTerms.of(contract, _terms()))
    detail = row()
    assert detail["status"] == "with_clerk" and detail["payment_method"] == "installment"
    assert Decimal(str(detail["down_payment"])) == Decimal("80000.00")
    assert detail["terms"]["installment"]["annual_rate"] == "0.0435"
    assert [(line["model_code"], line["quantity"]) for line in detail["lines"]] == [("SY215C", 2)]
    office.execute(sales.chen, SubmitContractForApproval(contract_id=contract))
    assert row()["status"] == "in_approval" and row()["submitted_on"] is not None
    office.execute(sales.zhao, ApproveContract(contract_id=contract))
    assert row()["status"] == "in_approval"
    office.execute(sales.sun, ApproveContract(contract_id=contract))
    assert row()["status"] == "approved" and row()["approved_on"] is not None
    office.execute(sales.zhao, UnapproveContract(contract_id=contract, reason="Price below the floor"))
    assert (row()["status"], row()["approved_on"], row()["last_reason"]) == (
        "with_clerk", None, "Price below the floor")
    history = office.history.contract_history(sales.chen, contract)
    assert [e["event"] for e in history] == [
        "Contract.Drafted", "Contract.SubmittedToClerk", "Contract.ReturnedToSalesperson", "Contract.SubmittedToClerk",
        "Contract.TermsCompleted", "Contract.SubmittedForApproval", "Contract.ApprovalStepPassed",
        "Contract.Approved", "Contract.Unapproved"]
    assert [e["actor"] for e in history][-3:] == ["zhao", "sun", "zhao"]
    with office.read() as cur:
        linked = customers.get_customer(cur, sales.chen.scope, None, sales.customer)
    assert [(str(c["contact_id"]), str(c["by_contract_id"])) for c in linked["contacts"]] == [
        (str(sales.contact), str(contract))]


def test_the_queue_shows_each_document_to_exactly_those_who_decide_its_step(backoffice, group, sales):
    office = backoffice
    big = str(_to_approval(office, group, sales, "380000.00"))
    small = str(_to_approval(office, group, sales, "150000.00"))
    assert _queue(office, sales.zhao) == [big, small]            # oldest first
    assert _queue(office, sales.qian) == [big, small]
    for nobody in (sales.chen, sales.wang, sales.li, sales.sun, sales.risk):
        assert _queue(office, nobody) == []
    office.execute(sales.zhao, ApproveContract(contract_id=UUID(big)))
    assert _queue(office, sales.zhao) == [small] and _queue(office, sales.qian) == [small]
    assert _queue(office, sales.sun) == [big]                    # group finance
    assert _queue(office, sales.risk) == []                      # finance, but not the whole group
    with office.read() as cur:
        counts = approval_queue.count_my_approvals(cur, sales.sun.scope, sales.sun.roles, sales.sun.user_id, None)
    assert [(r["company_code"], r["document_type"], r["waiting"]) for r in counts] == [("HF", "sales_contract", 1)]
    office.execute(sales.sun, RejectContract(contract_id=UUID(big), reason="Down payment too low"))
    office.execute(sales.qian, ApproveContract(contract_id=UUID(small)))
    for anyone in (sales.zhao, sales.qian, sales.sun):
        assert _queue(office, anyone) == []


def test_a_rule_changed_while_documents_are_in_flight_leaves_them_on_their_old_route(backoffice, group, sales):
    office = backoffice
    before = _to_approval(office, group, sales, "150000.00")   # one step under the group rule
    office.execute(SYSTEM, SetApprovalRule(
        document_type=DocumentType.SALES_CONTRACT, company_id=group.hefei,
        bands=[
        AmountBand(Decimal("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),
                                     ApprovalStep("Group finance", Role.FINANCE, StepScope.GROUP)))]))
    after = _to_approval(office, group, sales, "150000.00")    # the Hefei rule now: two steps
    assert office.execute(sales.zhao, ApproveContract(contract_id=before)).body["status"] == "approved"
    answer = office.execute(sales.zhao, ApproveContract(contract_id=after)).body
    assert answer["status"] == "in_approval" and answer["waiting_for"] == {"step": "Group finance", "role": "finance"}
    events = office.history.contract_history(sales.chen, before)
    route = next(e for e in events if e["event"] == "Contract.SubmittedForApproval")["data"]["route"]
    assert route.revision == 1 and len(route.steps) == 1
    office.catch_up()
    with office.read() as cur:
        rules = approval_queue.list_rules(cur, sales.chen.scope)
    assert sorted((r["company_code"] or "group", len(r["bands"])) for r in rules) == [("HF", 1), ("group", 2)]


def test_two_approvers_deciding_the_same_step_at_once_leave_one_decision(backoffice, group, sales):
    office = backoffice
    for _ in range(3):
        contract = _to_approval(office, group, sales, "150000.00")
        start = threading.Barrier(2)
        outcomes: list[object] = []

        def decide(who: Caller) -> None:
            start.wait()
            try:
                outcomes.append(office.execute(who, ApproveContract(contract_id=contract)).body["status"])
            except DomainError as error:
                outcomes.append(error)

        threads = [threading.Thread(target=decide, args=(who,)) for who in (sales.zhao, sales.qian)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        approved = [o for o in outcomes if o == "approved"]
        refused = [o for o in outcomes if isinstance(o, DomainError)]
        assert len(approved) == 1 and len(refused) == 1, outcomes
        # Whoever came second either collided on the save or read the contract already approved.
        assert isinstance(refused[0], (ConcurrentChangeError, ContractStateError)) and status_of(refused[0]) == 409
        events = [e["event"] for e in office.history.contract_history(sales.chen, contract)]
        assert events.count("Contract.Approved") == 1
        assert str(contract) not in _queue(office, sales.zhao) + _queue(office, sales.qian)


def test_a_salesperson_never_sees_another_salespersons_records(backoffice, group, sales):
    office = backoffice
    mine = UUID(office.execute(sales.li, CreateCustomer(
        company_id=group.hefei, name="Li's farmer", kind=PartyKind.PERSON,
        customer_type_id=ids.customer_type_id("FORMAL"))).body["customer_id"])
    office.execute(sales.li, DraftContract(
        company_id=group.hefei, customer_id=mine, contact_id=None,
        lines=[ContractLineRequest(group.excavator, 1, Decimal("100000.00"))]))
    office.execute(sales.wang, DraftContract(
        company_id=group.hefei, customer_id=sales.customer, contact_id=sales.contact,
        lines=[ContractLineRequest(group.excavator, 1, Decimal("100000.00"))]))
    office.catch_up()
    li = sales.li
    with office.read() as cur:
        seen, total = customers.list_customers(cur, li.scope, li.user_id, customers.CustomerFilter(), 1, 100)
        counted = customers.count_customers(cur, li.scope, li.user_id, customers.CustomerFilter())
        exported = list(customers.export_customers(cur, li.scope, li.user_id, customers.CustomerFilter()))
        hidden = customers.get_customer(cur, li.scope, li.user_id, sales.customer)
        contacts_seen, _ = customers.list_contacts(cur, li.scope, li.user_id, None, None, 1, 100)
        own_contracts, contract_total = contracts.list_contracts(cur, li.scope, li.user_id, contracts.ContractFilter(),
                                                                 1, 100)
        contract_counts = contracts.count_contracts(cur, li.scope, li.user_id, contracts.ContractFilter())
        contract_export = list(contracts.export_contracts(cur, li.scope, li.user_id, contracts.ContractFilter()))
        clerk_sees, clerk_total = customers.list_customers(cur, sales.chen.scope, None, customers.CustomerFilter(),
                                                           1, 100)
    assert total == 1 and [str(r["customer_id"]) for r in seen] == [str(mine)]
    assert sum(r["customers"] for r in counted) == 1 and [str(r["customer_id"]) for r in exported] == [str(mine)]
    assert hidden is None and contacts_seen == []
    assert contract_total == 1 and {r["salesperson"] for r in own_contracts} == {"li"}
    assert sum(r["contracts"] for r in contract_counts) == 1 and len(contract_export) == 1
    assert clerk_total == 2 and {r["owner"] for r in clerk_sees} == {"li", "wang"}
    # Commands answer another salesperson's record as not found, too.
    with pytest.raises(DomainError) as refused:
        office.execute(li, DraftContract(
            company_id=group.hefei, customer_id=sales.customer, contact_id=None,
            lines=[ContractLineRequest(group.excavator, 1, Decimal("1.00"))]))
    assert (status_of(refused.value), refused.value.code) == (404, "customer-not-found")


def test_rebuilt_sales_read_models_equal_the_live_ones(backoffice, group, sales):
    office = backoffice
    contract = _to_approval(office, group, sales)
    office.execute(sales.zhao, ApproveContract(contract_id=contract))
    office.execute(SYSTEM, DefineCustomerTag(code="VIP", name="Key account"))
    office.execute(sales.wang, TagCustomer(customer_id=sales.customer, tag_id=ids.customer_tag_id("VIP")))
    office.catch_up()

    def rows() -> dict[str, list]:
        out = {}
        with office.read() as cur:
            for name in ("customers", "contracts", "approval_queue"):
                for table in office.projections[name].projection.tables:
                    cur.execute(f"SELECT * FROM {table}")
                    out[table] = sorted(str(sorted((k, str(v)) for k, v in r.items())) for r in cur.fetchall())
        return out

    live = rows()
    assert live["approval_queue"] and live["contracts"] and live["customer_tag_links"]
    for name in ("customers", "contracts", "approval_queue"):
        office.projections[name].reset()
    office.catch_up()
    assert rows() == live
