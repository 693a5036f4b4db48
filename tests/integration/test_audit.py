"""Auditors' questions on real SQLite and PostgreSQL: the history of every kind of business
object and its state as of a version or a time, within the caller's data scope; what one
un-approval or swap did downstream; the hash chain over the stored events catching an
edited, deleted, added or moved event (and, with a head written down elsewhere, a rewrite
of events and chain together); every read model rebuilt into a shadow and compared with
the live tables; the ``ironledger audit`` commands' exit codes; and the analysts' read-only
PostgreSQL login."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from application.audit import KINDS
from application.caller import SYSTEM, Caller
from application.sales import ContractLineRequest
from domain import ids
from domain.access import Role
from domain.approvals import AmountBand, ApprovalStep, DocumentType
from domain.base import InvalidValueError, NotFoundError, PermissionDeniedError
from domain.contracts import CommercialTerms, GrantedCoupon, InstallmentTerms, PaymentMethod, ScheduleMethod
from domain.coupons import CouponOrigin, HolderKind
from domain.customers import PartyKind
from domain.organisation import WarehouseKind
from domain.parts import JobType, PartCategory, RequestPath, SaleChannel
from interfaces import cli
from interfaces.composition import BackOffice
from interfaces.persistence.verify import chain_head, shadow_views, verify_chain, verify_views
from projections import audit
from projections.audit import link
from tests.conftest import ADMIN_PASSWORD, PASSWORD, STORES, Group, make_settings, receive, seed_group
from tests.integration.test_cli import environment  # noqa: F401  (fixture)
from tests.integration.test_receivables import (  # noqa: F401  (fixtures)
    Clock, People, approve_sale, clock, group, office, pay, people)
from application.organisation.commands import CreateWarehouse
from application.stock.commands import TransferMachine
from application.access.commands import ChangePassword, ChangePositionCompanies, CreatePosition, CreateUser, GrantRole
from application.coupons.commands import IssueCoupon, VoidCoupon
from application.delivery.commands import DispatchMachine, PickMachine, ReviewOutbound, SwapMachine
from application.parts.commands import (
    AgreePartsQuote,
    ChangePartPrices,
    ConfirmPartsReceipt,
    ConsumeParts,
    CreatePart,
    CreatePartsQuote,
    CreatePartsSale,
    CreatePurchaseOrder,
    HandlePartsRequest,
    OpenWorkOrder,
    PartLineRequest,
    PartQuantityRequest,
    ReceivedLineRequest,
    ReceivePurchase,
    RequestParts,
    ShipPartsOutbound,
    SubmitPartsSale,
)
from interfaces.http.errors import status_of
from application.sales.commands import CompleteContractTerms
from application.approvals.commands import SetApprovalRule
from application.sales.commands import ApproveContract, CreateContact, CreateCustomer, DraftContract, LinkContactToCustomer, SubmitContractForApproval, SubmitContractToClerk, UnapproveContract
from application.collection.commands import ApplySettlement, DecideApplication
from application.receivables.commands import CouponPart, SetPenaltyRate

D = Decimal
CHINA = timezone(timedelta(hours=8))
CASH = CommercialTerms(PaymentMethod.CASH, D("0.00"), None, D("0.00"), None, (), ())
ONE_APPROVER = [AmountBand(D("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),))]
INSTALMENTS = CommercialTerms(PaymentMethod.INSTALLMENT, D("80000.00"),
                              InstallmentTerms(12, D("0.0435"), date(2026, 3, 31), ScheduleMethod.EQUAL_INSTALLMENT),
                              D("0.00"), None, (), ())
WITH_COUPONS = dataclasses.replace(INSTALMENTS, coupons=(GrantedCoupon(D("1000.00"), 2, "Service coupon"),))


# ================================================================ one world of every kind, per store
@dataclass
class World:
    office: BackOffice
    clock: Clock
    group: Group
    people: People
    keys: dict[str, str] = field(default_factory=dict)       # kind → a Hefei (or group-wide) object's key
    chuzhou: dict[str, str] = field(default_factory=dict)    # kind → a Chuzhou object's key
    contract: UUID | None = None                              # approved 02-27, un-approved 03-01
    auditee_hash: str = ""                                    # the password hash of the user "auditee"
    whole_group: Caller | None = None                         # an auditor whose position covers the group


def build_world(office: BackOffice, clock: Clock, group: Group, people: People) -> World:
    world = World(office, clock, group, people)
    keys, hefei, chuzhou = world.keys, group.hefei, group.chuzhou
    clock.day = date(2026, 2, 20)

    # penalty-policy: created, then a second rate (Chuzhou has its own)
    office.execute(SYSTEM, SetPenaltyRate(
        company_id=hefei, effective_from=date(2026, 3, 1), daily_rate=D("0.0005")))
    clock.day = date(2026, 2, 21)
    office.execute(SYSTEM, SetPenaltyRate(
        company_id=hefei, effective_from=date(2026, 4, 1), daily_rate=D("0.0006")))
    office.execute(SYSTEM, SetPenaltyRate(
        company_id=chuzhou, effective_from=date(2026, 3, 1), daily_rate=D("0.0005")))
    keys["penalty-policy"], world.chuzhou["penalty-policy"] = str(hefei), str(chuzhou)

    # machine: received, then moved to the yard (a Chuzhou one too)
    receive(office, group, "SY215C-A1")
    clock.day = date(2026, 2, 22)
    office.execute(group.keeper_hefei, TransferMachine(
        serial_number="SY215C-A1", to_warehouse_id=group.hefei_yard, reason="The yard has room"))
    receive(office, group, "SY215C-C1", group.chuzhou_main)
    keys["machine"], world.chuzhou["machine"] = "sy215c-a1", "SY215C-C1"

    # customer (registered by the People fixture) with a contact linked; the contact; Chuzhou's
    contact = office.execute(people.wang, CreateContact(
        company_id=hefei, name="Liu Qiang", phone="13800000000")).body["contact_id"]
    clock.day = date(2026, 2, 23)
    office.execute(people.chen, LinkContactToCustomer(customer_id=people.customer, contact_id=UUID(contact)))
    keys["customer"], keys["contact"] = str(people.customer), contact
    cz_customer = office.execute(SYSTEM, CreateCustomer(
        company_id=chuzhou, name="Chuzhou Quarry", kind=PartyKind.ORGANISATION,
        customer_type_id=ids.customer_type_id("FORMAL"))).body["customer_id"]
    cz_contact = office.execute(SYSTEM, CreateContact(company_id=chuzhou, name="Zhang Wei")).body["contact_id"]
    world.chuzhou["customer"], world.chuzhou["contact"] = cz_customer, cz_contact

    # coupon: issued, then voided (a Chuzhou one too)
    office.execute(people.sun, IssueCoupon(
        code="PROMO-A1", company_id=hefei, origin=CouponOrigin.PROMOTION, holder_kind=HolderKind.CUSTOMER,
        holder_id=people.customer, face_value=D("2000.00"), amount_paid=D("1000.00"), valid_from=None,
        valid_until=None, promised_by=None, note="Spring promotion"))
    clock.day = date(2026, 2, 24)
    office.execute(people.sun, VoidCoupon(code="promo-a1", reason="Printed by mistake"))
    office.execute(SYSTEM, IssueCoupon(
        code="PROMO-C1", company_id=chuzhou, origin=CouponOrigin.PROMOTION, holder_kind=HolderKind.CUSTOMER,
        holder_id=UUID(cz_customer), face_value=D("500.00"), amount_paid=D("250.00"), valid_from=None,
        valid_until=None, promised_by=None, note="Chuzhou fair"))
    keys["coupon"], world.chuzhou["coupon"] = "PROMO-A1", "promo-c1"

    # contract and receivable: approved on 02-27, un-approved on 03-01
    clock.day = date(2026, 2, 27)
    world.contract = approve_sale(office, group, people, INSTALMENTS)
    clock.day = date(2026, 3, 1)
    office.execute(people.zhao, UnapproveContract(
        contract_id=world.contract, reason="Customer changed the down payment"))
    keys["contract"] = keys["receivable"] = str(world.contract)
    cz_contract = UUID(office.execute(SYSTEM, DraftContract(
        company_id=chuzhou, customer_id=UUID(cz_customer), contact_id=None,
        lines=[
        ContractLineRequest(group.excavator, 1, D("200000.00"))])).body["contract_id"])
    office.execute(SYSTEM, SubmitContractToClerk(contract_id=cz_contract))
    office.execute(SYSTEM, CompleteContractTerms.of(cz_contract, CASH))
    office.execute(SYSTEM, SubmitContractForApproval(contract_id=cz_contract))
    office.execute(people.risk, ApproveContract(contract_id=cz_contract))
    world.chuzhou["contract"] = world.chuzhou["receivable"] = str(cz_contract)

    # collection-application: a cash sale paid in full, its settlement applied for and approved
    office.execute(SYSTEM, SetApprovalRule(
        document_type=DocumentType.SETTLEMENT, company_id=None, bands=ONE_APPROVER))
    clock.day = date(2026, 3, 2)
    cash = approve_sale(office, group, people, CASH, price="100000.00")
    pay(office, people, cash, "100000.00", date(2026, 3, 2))
    application = office.execute(people.sun, ApplySettlement(contract_id=cash, reason="Everything received")).body["application_id"]
    office.execute(people.zhao, DecideApplication(
        application_id=UUID(application), decision="approve", reason=None))
    keys["collection-application"] = application

    # group-wide: company, warehouse (of Hefei), model, user, position, approval rule
    keys["company"], keys["warehouse"] = str(hefei), str(group.hefei_main)
    world.chuzhou["warehouse"] = str(group.chuzhou_main)
    keys["machine-model"] = str(group.excavator)
    clock.day = date(2026, 3, 3)
    access = office.access
    auditee = office.execute(SYSTEM, CreateUser(
        username="auditee", display_name="Auditor Gao", password=PASSWORD, roles=[Role.AUDITOR],
        position_ids=[ids.position_id("Whole group")])).body["user_id"]
    keys["user"] = auditee
    clock.day = date(2026, 3, 4)
    office.execute(SYSTEM, GrantRole(user_id=UUID(auditee), role=Role.APPROVER))
    me = access.authenticate(access.login("auditee", PASSWORD).access_token)
    office.execute(me, ChangePassword(current_password=PASSWORD, new_password="another-pass-2026"))
    world.auditee_hash = office.ledger.repository.get(UUID(auditee)).password_hash
    world.whole_group = access.authenticate(access.login("auditee", "another-pass-2026").access_token)
    desk = office.execute(SYSTEM, CreatePosition(name="Audit desk", company_ids=[hefei], all_companies=False)).body["position_id"]
    office.execute(SYSTEM, ChangePositionCompanies(
        position_id=UUID(desk), company_ids=[hefei, chuzhou], all_companies=False))
    keys["position"] = desk
    clock.day = date(2026, 3, 5)
    office.execute(SYSTEM, SetApprovalRule(
        document_type=DocumentType.SALES_CONTRACT, company_id=None,
        bands=[
        *ONE_APPROVER, AmountBand(D("500000.00"), (ApprovalStep("Sales manager", Role.APPROVER),
                                                   ApprovalStep("Finance", Role.FINANCE)))]))
    keys["approval-rule"] = str(ids.approval_rule_id(DocumentType.SALES_CONTRACT, None))

    # parts: a part whose price changed; a purchase received; a sale shipped; a request filled from
    # the warehouse; a work order that used a filter (Chuzhou's purchase order and sale too)
    clock.day = date(2026, 3, 6)
    part = UUID(office.execute(people.chen, CreatePart(
        part_no="OF-A1", name="Oil filter", unit="pc", category=PartCategory.FILTER,
        purchase_price=D("50.00"), sale_price=D("80.00"))).body["part_id"])
    office.execute(people.chen, ChangePartPrices(
        part_id=part, purchase_price=D("52.00"), sale_price=D("82.00"), reason="Supplier raised prices"))
    keys["part"] = "of-a1"
    order = UUID(office.execute(people.chen, CreatePurchaseOrder(
        company_id=hefei, supplier="Sany parts", warehouse_id=group.hefei_parts,
        lines=[PartLineRequest(part_id=part, quantity=10)])).body["order_id"])
    office.execute(group.keeper_hefei, ReceivePurchase(
        order_id=order, lines=[ReceivedLineRequest(line_no=1, quantity=10)]))
    keys["purchase-order"] = str(order)
    world.chuzhou["purchase-order"] = office.execute(SYSTEM, CreatePurchaseOrder(
        company_id=chuzhou, supplier="Sany parts", warehouse_id=group.chuzhou_main,
        lines=[PartLineRequest(part_id=part, quantity=2)])).body["order_id"]

    def sold(caller: Caller, company: UUID, warehouse: UUID) -> UUID:
        quote = UUID(office.execute(caller, CreatePartsQuote(
            company_id=company, customer_id=None, customer_name="Walk-in",
            lines=[PartLineRequest(part_id=part, quantity=1)], valid_until=date(2026, 3, 31))).body["quote_id"])
        office.execute(caller, AgreePartsQuote(quote_id=quote))
        return UUID(office.execute(caller, CreatePartsSale(
            quote_id=quote, channel=SaleChannel.WALK_IN, warehouse_id=warehouse)).body["sale_id"])

    sale = sold(people.chen, hefei, group.hefei_parts)
    outbound = UUID(office.execute(people.chen, SubmitPartsSale(sale_id=sale)).body["outbound_id"])
    office.execute(group.keeper_hefei, ShipPartsOutbound(outbound_id=outbound))
    keys["parts-sale"], world.chuzhou["parts-sale"] = str(sale), str(sold(SYSTEM, chuzhou, group.chuzhou_main))
    office.execute(SYSTEM, CreateUser(
        username="tech.a", display_name="Technician A", password=PASSWORD, roles=[Role.TECHNICIAN],
        position_ids=[ids.position_id("Hefei")]))
    tech = access.authenticate(access.login("tech.a", PASSWORD).access_token)
    van = UUID(office.execute(SYSTEM, CreateWarehouse(
        company_id=hefei, code="VAN-A", name="Technician A", kind=WarehouseKind.MOBILE, technician_name="A",
        technician_id=tech.user_id)).body["warehouse_id"])
    request = UUID(office.execute(tech, RequestParts(
        mobile_warehouse_id=van, lines=[PartQuantityRequest(part_id=part, quantity=2)])).body["request_id"])
    handled = office.execute(people.chen, HandlePartsRequest(
        request_id=request, path=RequestPath.FROM_WAREHOUSE, warehouse_id=group.hefei_parts))
    office.execute(group.keeper_hefei, ShipPartsOutbound(outbound_id=UUID(handled.body["outbound_id"])))
    office.execute(tech, ConfirmPartsReceipt(request_id=request))
    keys["parts-request"] = str(request)
    work = UUID(office.execute(tech, OpenWorkOrder(
        mobile_warehouse_id=van, customer_id=None, customer_name="Feixi Quarry", serial_number="SY215C-A1",
        job_type=JobType.MAINTENANCE))
                .body["work_order_id"])
    office.execute(tech, ConsumeParts(
        work_order_id=work, lines=[PartQuantityRequest(part_id=part, quantity=1)]))
    keys["work-order"] = str(work)
    assert set(keys) == set(KINDS)
    return world


@pytest.fixture(scope="module", params=STORES)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Built once per store: the history tests only read."""
    settings = make_settings(request.param, tmp_path_factory.mktemp("audit-world"), request)
    day = Clock(date(2026, 2, 20))
    backoffice = BackOffice(settings.model_copy(update={"penalty_run_hour": 0}), today=day)
    try:
        backoffice.access.ensure_administrator(ADMIN_PASSWORD)
        the_group = seed_group(backoffice)
        yield build_world(backoffice, day, the_group, People(backoffice, the_group))
    finally:
        backoffice.stop()


EXPECTED_EVENTS = {
    "contract": ["Contract.Drafted", "Contract.SubmittedToClerk", "Contract.TermsCompleted",
                 "Contract.SubmittedForApproval", "Contract.Approved", "Contract.Unapproved"],
    "receivable": ["Debt.Opened", "Debt.Closed"],
    "machine": ["MachineUnit.Received", "MachineUnit.Transferred"],
    "coupon": ["Coupon.Issued", "Coupon.Voided"],
    "customer": ["Customer.Registered", "Customer.ContactLinked"],
    "contact": ["Contact.Registered"],
    "collection-application": ["CollectionApplication.Applied", "CollectionApplication.SubmittedForApproval",
                               "CollectionApplication.Approved"],
    "penalty-policy": ["PenaltyPolicy.Created", "PenaltyPolicy.RateSet"],
    "company": ["Company.Created"],
    "warehouse": ["Warehouse.Created"],
    "machine-model": ["MachineModel.Registered"],
    "user": ["User.Created", "User.RoleGranted", "User.PositionAssigned", "User.RoleGranted", "User.PasswordChanged"],
    "position": ["Position.Created", "Position.CompaniesChanged"],
    "approval-rule": ["ApprovalRule.Set", "ApprovalRule.Revised"],
    "part": ["Part.Registered", "Part.PricesChanged"],
    "purchase-order": ["PurchaseOrder.Placed", "PurchaseOrder.Received"],
    "parts-sale": ["PartsSale.Drafted", "PartsSale.Submitted", "PartsSale.Shipped"],
    "parts-request": ["PartsRequest.Requested", "PartsRequest.Handled", "PartsRequest.Shipped",
                      "PartsRequest.ReceiptConfirmed"],
    "work-order": ["WorkOrder.Opened", "WorkOrder.PartsConsumed"],
}
# Who recorded each event, as the history names them.
EXPECTED_ACTORS = {
    "contract": ["wang", "wang", "chen", "chen", "zhao", "zhao"],
    "receivable": ["zhao", "zhao"],
    "machine": ["keeper.all", "keeper.hf"],
    "coupon": ["sun", "sun"],
    "customer": ["wang", "chen"],
    "contact": ["wang"],
    "collection-application": ["sun", "sun", "zhao"],
    "penalty-policy": ["system", "system"],
    "company": ["system"],
    "warehouse": ["system"],
    "machine-model": ["system"],
    "user": ["system", "system", "system", "system", "auditee"],
    "position": ["system", "system"],
    "approval-rule": ["system", "system"],
    "part": ["chen", "chen"],
    "purchase-order": ["chen", "keeper.hf"],
    "parts-sale": ["chen", "chen", "keeper.hf"],
    "parts-request": ["tech.a", "chen", "keeper.hf", "tech.a"],
    "work-order": ["tech.a", "tech.a"],
}
GROUP_WIDE = ("user", "company", "position", "machine-model", "approval-rule", "part")


def _text(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def test_the_world_has_an_object_of_every_kind():
    assert set(EXPECTED_EVENTS) == set(EXPECTED_ACTORS) == set(KINDS)


@pytest.mark.parametrize("kind", list(KINDS))
def test_history_and_state_as_of_a_version_or_a_time_for_every_kind(world, kind):
    office, auditor, key = world.office, world.whole_group, world.keys[kind]
    found = office.audit.history_of(auditor, kind, key)
    events = found["events"]
    assert [e["event"] for e in events] == EXPECTED_EVENTS[kind]
    assert [e["actor"] for e in events] == EXPECTED_ACTORS[kind]
    assert [e["version"] for e in events] == list(range(1, len(events) + 1)) and found["version"] == len(events)
    stored = list(office.ledger.events.get(found["aggregate_id"]))
    for described, event in zip(events, stored, strict=True):
        assert (described["business_date"], described["recorded_at"], described["actor_id"], described["company_id"],
                described["command_id"], described["reason"]) == (
            event.business_date, event.timestamp, event.actor_id, event.company_id, event.command_id, event.reason)
        assert isinstance(described["business_date"], date) and described["recorded_at"].tzinfo is not None
        assert isinstance(described["command_id"], UUID) and isinstance(described["data"], dict)
    assert [e["recorded_at"] for e in events] == sorted(e["recorded_at"] for e in events)
    company = None if kind in GROUP_WIDE and kind != "company" else world.group.hefei   # a company's is its own
    assert {e["company_id"] for e in events} == {company}
    assert "password" not in _text(found) and world.auditee_hash not in _text(found)

    # As of each version: the event it stands after, when it was recorded, for which business day.
    states = {}
    for e in events:
        as_of = office.audit.state_as_of(auditor, kind, key, version=e["version"])
        assert (as_of["version"], as_of["latest_version"], as_of["as_of_event"], as_of["recorded_at"],
                as_of["business_date"], as_of["aggregate_id"]) == (
            e["version"], len(events), e["event"], e["recorded_at"], e["business_date"], found["aggregate_id"])
        assert "password" not in _text(as_of) and world.auditee_hash not in _text(as_of)
        states[e["version"]] = as_of["state"]
        at_its_time = office.audit.state_as_of(auditor, kind, key, at=e["recorded_at"])
        assert at_its_time["version"] == e["version"] and at_its_time["state"] == as_of["state"]
    current = office.audit.state_as_of(auditor, kind, key)
    assert current["version"] == len(events) and current["state"] == states[len(events)]
    assert office.audit.state_as_of(auditor, kind, key, at=datetime.now(UTC))["version"] == len(events)

    if len(events) >= 2:     # between the last two events: the earlier state, whatever the zone asked in
        earlier, later = events[-2]["recorded_at"], events[-1]["recorded_at"]
        between = earlier + (later - earlier) / 2
        for at in (between, between.astimezone(CHINA)):
            as_of = office.audit.state_as_of(auditor, kind, key, at=at)
            assert (as_of["version"], as_of["state"]) == (len(events) - 1, states[len(events) - 1])
        assert states[len(events) - 1] != states[len(events)]

    with pytest.raises(NotFoundError) as too_early:
        office.audit.state_as_of(auditor, kind, key, at=events[0]["recorded_at"] - timedelta(microseconds=1))
    assert (too_early.value.code, status_of(too_early.value)) == ("not-yet-recorded", 404)
    with pytest.raises(InvalidValueError) as both:
        office.audit.state_as_of(auditor, kind, key, at=events[-1]["recorded_at"], version=1)
    assert (both.value.code, status_of(both.value)) == ("invalid-value", 422)
    with pytest.raises(InvalidValueError) as naive:
        office.audit.state_as_of(auditor, kind, key, at=events[-1]["recorded_at"].replace(tzinfo=None))
    assert naive.value.code == "invalid-value" and "zone" in naive.value.message
    for version in (0, len(events) + 1):
        with pytest.raises(InvalidValueError):
            office.audit.state_as_of(auditor, kind, key, version=version)


def test_the_contract_as_it_was_before_its_unapproval(world):
    office, auditor, key = world.office, world.whole_group, str(world.contract)
    events = office.audit.history_of(auditor, "contract", key)["events"]
    unapproved = events[-1]
    assert (unapproved["event"], unapproved["actor"], unapproved["business_date"], unapproved["reason"]) == (
        "Contract.Unapproved", "zhao", date(2026, 3, 1), "Customer changed the down payment")
    before = office.audit.state_as_of(auditor, "contract", key, version=unapproved["version"] - 1)
    after = office.audit.state_as_of(auditor, "contract", key, version=unapproved["version"])
    assert (before["state"]["status"], before["business_date"], before["as_of_event"]) == (
        "approved", date(2026, 2, 27), "Contract.Approved")
    assert after["state"]["status"] == "with_clerk"
    assert before["state"]["terms"]["down_payment"] == "80000.00"
    just_before = unapproved["recorded_at"] - timedelta(microseconds=1)
    assert office.audit.state_as_of(auditor, "contract", key, at=just_before)["state"]["status"] == "approved"
    # Its receivable: open until the un-approval closed it, under the same command.
    debt = office.audit.history_of(auditor, "receivable", key)["events"]
    assert debt[-1]["command_id"] == unapproved["command_id"] and debt[-1]["reason"] == unapproved["reason"]
    assert office.audit.state_as_of(auditor, "receivable", key, at=just_before)["state"]["status"] == "open"
    assert office.audit.state_as_of(auditor, "receivable", key)["state"]["status"] == "closed"


def test_a_users_history_and_state_never_show_a_password_hash(world):
    office, auditor, key = world.office, world.whole_group, world.keys["user"]
    events = office.audit.history_of(auditor, "user", key)["events"]
    assert events[0]["data"] == {"username": "auditee", "display_name": "Auditor Gao"}
    assert events[-1]["event"] == "User.PasswordChanged" and events[-1]["data"] == {}
    assert [e["data"].get("role") for e in events if e["event"] == "User.RoleGranted"] == ["auditor", "approver"]
    for version in (1, len(events)):
        state = office.audit.state_as_of(auditor, "user", key, version=version)["state"]
        assert "password_hash" not in state and state["username"] == "auditee"
        assert state["credentials_version"] == (1 if version == 1 else 2)
    assert world.auditee_hash.startswith("$") and world.auditee_hash not in _text(
        [office.audit.history_of(auditor, "user", key),
         [office.audit.state_as_of(auditor, "user", key, version=v) for v in range(1, len(events) + 1)]])


def test_a_caller_finds_only_what_their_data_scope_covers(world):
    office, people, group = world.office, world.people, world.group
    hefei_only, chuzhou_only, everyone = people.chen, people.risk, world.whole_group

    def hidden(caller: Caller, kind: str, key: str) -> None:
        with pytest.raises(NotFoundError) as refused:
            office.audit.history_of(caller, kind, key)
        assert (refused.value.code, status_of(refused.value)) == ("not-found", 404)
        with pytest.raises(NotFoundError) as refused:
            office.audit.state_as_of(caller, kind, key, version=1)
        assert refused.value.code == "not-found"

    for kind, key in world.chuzhou.items():      # Chuzhou's objects: not there for Hefei
        hidden(hefei_only, kind, key)
        assert office.audit.history_of(chuzhou_only, kind, key)["events"]
        assert office.audit.history_of(everyone, kind, key)["events"]
    for kind, key in world.keys.items():
        if kind in GROUP_WIDE:                   # the group's: for whole-group scopes only
            hidden(hefei_only, kind, key)
            hidden(chuzhou_only, kind, key)
            assert office.audit.history_of(group.keeper_group, kind, key)["events"]
        else:                                    # Hefei's: not there for Chuzhou
            assert office.audit.history_of(hefei_only, kind, key)["events"]
            hidden(chuzhou_only, kind, key)
    assert office.audit.history_of(group.keeper_hefei, "machine", "SY215C-A1")["events"]
    hidden(group.keeper_hefei, "machine", "SY215C-C1")
    # A salesperson may not read histories at all; unknown kinds, keys and ids of another kind.
    with pytest.raises(PermissionDeniedError):
        office.audit.history_of(people.wang, "contract", str(world.contract))
    with pytest.raises(InvalidValueError):
        office.audit.history_of(everyone, "invoice", str(world.contract))
    hidden(everyone, "machine", "NO-SUCH-SERIAL")
    hidden(everyone, "contract", "not-a-uuid")
    hidden(everyone, "contract", world.keys["customer"])       # a customer's id is not a contract's
    hidden(everyone, "coupon", "NO-SUCH-CODE")


# ================================================================ what one command did downstream
def test_an_unapprovals_trail_and_a_swaps_trail(office, clock, group, people):
    clock.day = date(2026, 3, 2)
    for n in range(1, 4):
        receive(office, group, f"SY215C-T{n}")
    contract = approve_sale(office, group, people, WITH_COUPONS)
    office.execute(people.wang, PickMachine(contract_id=contract, serial_number="SY215C-T1"))     # picked, not sent out
    clock.day = date(2026, 3, 3)
    office.execute(people.zhao, UnapproveContract(contract_id=contract, reason="Wrong customer"))
    unapproved = office.audit.history_of(SYSTEM, "contract", str(contract))["events"][-1]
    assert unapproved["event"] == "Contract.Unapproved"
    command = unapproved["command_id"]
    office.catch_up()
    with office.read() as cur:
        trail = audit.command_trail(cur, SYSTEM.scope, command)
        hefei_trail = audit.command_trail(cur, people.chen.scope, command)
        chuzhou_trail = audit.command_trail(cur, people.risk.scope, command)
    names = [t["event"] for t in trail]
    assert {"Contract.Unapproved", "MachineUnit.ReservationReleased", "Debt.Closed", "Coupon.Voided"} <= set(names)
    assert names.count("Coupon.Voided") == 2 and names.count("MachineUnit.ReservationReleased") == 1
    assert set(names) <= {"Contract.Unapproved", "Contract.MachineReleased", "Contract.OutboundCancelled",
                          "MachineUnit.ReservationReleased", "Debt.Closed", "Coupon.Voided"}
    assert {str(t["command_id"]) for t in trail} == {str(command)}
    assert {(t["actor"], t["reason"], str(t["business_date"])) for t in trail} == {("zhao", "Wrong customer",
                                                                                   "2026-03-03")}
    released = next(t for t in trail if t["event"] == "MachineUnit.ReservationReleased")
    assert str(released["aggregate_id"]) == str(ids.machine_unit_id("SY215C-T1"))
    assert hefei_trail == trail and chuzhou_trail == []

    # A cash sale sent out, then its machine swapped.
    clock.day = date(2026, 3, 4)
    sale = approve_sale(office, group, people, CASH, price="200000.00")
    office.execute(people.wang, PickMachine(contract_id=sale, serial_number="SY215C-T2"))
    office.execute(people.sun, ReviewOutbound(contract_id=sale, outbound_no=1))
    office.execute(group.keeper_hefei, DispatchMachine(contract_id=sale, outbound_no=1))
    clock.day = date(2026, 3, 5)
    office.execute(people.chen, SwapMachine(
        contract_id=sale, old_serial="SY215C-T2", new_serial="SY215C-T3", reason="Hydraulic fault on delivery"))
    swapped = office.audit.history_of(SYSTEM, "contract", str(sale))["events"][-1]
    assert swapped["event"] == "Contract.MachineSwapped"
    office.catch_up()
    with office.read() as cur:
        swap_trail = audit.command_trail(cur, SYSTEM.scope, swapped["command_id"])
        rows, total = audit.rollbacks_and_swaps(cur, SYSTEM.scope, date(2026, 3, 1), date(2026, 3, 31), 1, 50)
        only_the_swap, _ = audit.rollbacks_and_swaps(cur, SYSTEM.scope, date(2026, 3, 5), date(2026, 3, 5), 1, 50)
        for_chuzhou, chuzhou_total = audit.rollbacks_and_swaps(cur, people.risk.scope, date(2026, 3, 1),
                                                               date(2026, 3, 31), 1, 50)
        first_page, paged_total = audit.rollbacks_and_swaps(cur, SYSTEM.scope, date(2026, 3, 1), date(2026, 3, 31),
                                                            1, 1)
    assert sorted(t["event"] for t in swap_trail) == ["Contract.MachineSwapped", "MachineUnit.SwappedIn",
                                                      "MachineUnit.SwappedOut"]
    assert {t["reason"] for t in swap_trail} == {"Hydraulic fault on delivery"}
    assert {t["actor"] for t in swap_trail} == {"chen"}
    assert total == 2 and [r["event"] for r in rows] == ["Contract.Unapproved", "Contract.MachineSwapped"]
    unapproval, swap = rows
    assert (str(unapproval["contract_id"]), str(unapproval["command_id"]), unapproval["actor"], unapproval["reason"],
            unapproval["business_date"] in (date(2026, 3, 3), "2026-03-03"), unapproval["downstream_events"]) == (
        str(contract), str(command), "zhao", "Wrong customer", True, len(trail) - 1)
    assert (str(swap["contract_id"]), swap["actor"], swap["reason"], swap["downstream_events"]) == (
        str(sale), "chen", "Hydraulic fault on delivery", 2)
    assert [r["event"] for r in only_the_swap] == ["Contract.MachineSwapped"]
    assert (for_chuzhou, chuzhou_total) == ([], 0)
    assert (len(first_page), paged_total) == (1, 2)


# ================================================================ the hash chain
def some_business(office: BackOffice, clock: Clock, group: Group, people: People, serials: tuple[str, ...]) -> None:
    """A sale paid and delivered, machines received and moved: a few dozen stored events."""
    for serial in serials:
        receive(office, group, serial)
    contract = approve_sale(office, group, people, INSTALMENTS)
    pay(office, people, contract, "80000.00", clock.day)
    office.execute(people.wang, PickMachine(contract_id=contract, serial_number=serials[0]))
    office.execute(group.keeper_hefei, TransferMachine(
        serial_number=serials[-1], to_warehouse_id=group.hefei_yard, reason="Make room"))


class RawStore:
    """The stored events and their seals as someone with write access to the database sees them:
    SQLite ``stored_events`` (notification id = rowid) in data_dir/events.sqlite3; PostgreSQL the
    recorder's table (``ironledger_events``, column notification_id) in the test's own schema."""

    def __init__(self, office: BackOffice) -> None:
        self.office = office
        self.settings = office.settings
        self.postgres = office.settings.uses_postgres
        self.table = office.ledger.recorder.events_table_name
        self.number = "notification_id" if self.postgres else "rowid"

    def events(self, statement: str, params: tuple = ()) -> list[tuple]:
        statement = statement.format(table=self.table, n=self.number)
        if self.postgres:
            with psycopg.connect(self.settings.database_url, autocommit=True,
                                 options=f"-c search_path={self.settings.database_schema}") as conn:
                cur = conn.execute(statement, params)
                return cur.fetchall() if cur.description else []
        conn = sqlite3.connect(self.settings.data_dir / "events.sqlite3", timeout=30, isolation_level=None)
        try:
            return conn.execute(statement.replace("%s", "?"), params).fetchall()
        finally:
            conn.close()

    def seals(self, statement: str, params: tuple = ()) -> list[dict]:
        with self.office.views.transaction() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if statement.startswith("SELECT") else []

    def row(self, n: int) -> tuple:
        (row,) = self.events("SELECT originator_id, originator_version, topic, state FROM {table} WHERE {n} = %s",
                             (n,))
        return tuple(row)

    def put(self, n: int, row: tuple) -> None:
        self.events("UPDATE {table} SET originator_id = %s, originator_version = %s, topic = %s, state = %s"
                    " WHERE {n} = %s", (*row, n))

    def delete(self, n: int) -> None:
        self.events("DELETE FROM {table} WHERE {n} = %s", (n,))

    def unseal(self, n: int) -> None:
        self.seals("DELETE FROM event_chain WHERE notification_id = %s", (n,))

    @staticmethod
    def flipped(row: tuple) -> tuple:
        state = bytearray(row[3])
        state[len(state) // 2] ^= 0x01
        return (*row[:3], bytes(state))

    @contextmanager
    def edited(self, n: int) -> Iterator[None]:
        row = self.row(n)
        self.put(n, self.flipped(row))
        try:
            yield
        finally:
            self.put(n, row)

    @contextmanager
    def deleted(self, n: int) -> Iterator[None]:
        row = self.row(n)
        self.delete(n)
        try:
            yield
        finally:
            self.events("INSERT INTO {table} ({n}, originator_id, originator_version, topic, state)"
                        " VALUES (%s, %s, %s, %s, %s)", (n, *row))

    @contextmanager
    def swapped(self, n: int, m: int) -> Iterator[None]:
        a, b = self.row(n), self.row(m)
        self._swap(n, m, a, b)
        try:
            yield
        finally:
            self._swap(n, m, b, a)

    def _swap(self, n: int, m: int, a: tuple, b: tuple) -> None:
        """Row n holds a, row m holds b; afterwards the other way round (the primary key
        (originator, version) is unique at every step)."""
        self.put(n, (a[0], -n, a[2], a[3]))
        self.put(m, a)
        self.put(n, b)

    @contextmanager
    def unsealed(self, n: int) -> Iterator[None]:
        (seal,) = self.seals("SELECT notification_id, originator_id, originator_version, link FROM event_chain"
                             " WHERE notification_id = %s", (n,))
        self.unseal(n)
        try:
            yield
        finally:
            self.seals("INSERT INTO event_chain (notification_id, originator_id, originator_version, link)"
                       " VALUES (%s, %s, %s, %s)", (seal["notification_id"], seal["originator_id"],
                                                    seal["originator_version"], seal["link"]))

    def reseal_from(self, first: int) -> None:
        """What someone able to write both would do: seal the store as it is now from ``first`` on."""
        (previous,) = self.seals("SELECT link FROM event_chain WHERE notification_id = %s", (first - 1,))
        value = previous["link"]
        for n, originator, version, topic, state in self.events(
                "SELECT {n}, originator_id, originator_version, topic, state FROM {table} WHERE {n} >= %s"
                " ORDER BY {n}", (first,)):
            value = link(value, n, UUID(str(originator)), version, topic, bytes(state))
            self.seals("UPDATE event_chain SET link = %s WHERE notification_id = %s", (value, n))


@contextmanager
def copy_of_the_store(office: BackOffice, tmp_path) -> Iterator[BackOffice]:
    """SQLite: both files copied to another folder, and a back office on the copy. PostgreSQL:
    the test's own schema (dropped with the test)."""
    if office.settings.uses_postgres:
        yield office
        return
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in ("events.sqlite3", "views.sqlite3"):
        source, target = sqlite3.connect(office.settings.data_dir / name), sqlite3.connect(folder / name)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    copy = BackOffice(office.settings.model_copy(update={"data_dir": folder}), today=office.today)
    try:
        yield copy
    finally:
        copy.stop()


def test_the_chain_names_the_first_event_edited_deleted_added_or_moved(office, clock, group, people, tmp_path):
    clock.day = date(2026, 3, 2)
    some_business(office, clock, group, people, ("SY215C-H1", "SY215C-H2"))
    office.catch_up()
    earlier = chain_head(office.views)            # written down somewhere else
    some_business(office, clock, group, people, ("SY215C-H3", "SY215C-H4"))
    unsealed = verify_chain(office.ledger.recorder, office.views)
    assert unsealed.intact and unsealed.unsealed > 0 and unsealed.head == earlier
    office.catch_up()
    with copy_of_the_store(office, tmp_path) as copy:
        recorder, views, raw = copy.ledger.recorder, copy.views, RawStore(copy)

        def check(expect_head: str | None = None):
            return verify_chain(recorder, views, expect_head)

        last = recorder.max_notification_id()
        head = chain_head(views)
        assert head[0] == last and earlier[0] < last
        report = check()
        assert (report.intact, report.checked, report.unsealed, report.head, report.problem_at) == (
            True, last, 0, head, None)
        assert check(earlier[1]).intact and check(head[1]).intact
        assert not check("f" * 64).intact

        n = last // 2
        m = next(k for k in range(n + 1, last + 1) if raw.row(k)[0] != raw.row(n)[0])
        with raw.edited(n):
            broken = check()
            assert (broken.intact, broken.problem_at, broken.checked) == (False, n, n - 1)
            assert f"event #{n}" in broken.problem and "bytes or topic were changed" in broken.problem
        assert check().intact
        with raw.deleted(n):
            broken = check()
            assert (broken.intact, broken.problem_at, broken.checked) == (False, n, n - 1)
            assert "deleted" in broken.problem
        assert check().intact
        with raw.swapped(n, m):
            broken = check()
            assert (broken.intact, broken.problem_at, broken.checked) == (False, n, n - 1)
            assert "moved" in broken.problem
        assert check().intact
        with raw.unsealed(n):                     # an event the chain never saw
            broken = check()
            assert (broken.intact, broken.problem_at) == (False, n)
            assert "added afterwards" in broken.problem
        assert check(head[1]).intact

        # Events and chain rewritten together: the chain alone no longer tells; the head written down does.
        raw.delete(last)
        raw.unseal(last)
        quiet = check()
        assert quiet.intact and quiet.checked == last - 1
        assert check(earlier[1]).intact            # the log up to that head is as it was
        caught = check(head[1])
        assert (caught.intact, caught.problem_at) == (False, None) and "rewritten" in caught.problem
        k = earlier[0] - 1
        raw.put(k, raw.flipped(raw.row(k)))
        assert not check().intact
        raw.reseal_from(k)
        assert check().intact
        assert not check(earlier[1]).intact and not check(head[1]).intact


# ================================================================ read models against a shadow
def mixed_workload(office: BackOffice, clock: Clock, group: Group, people: People) -> None:
    """Sales, delivery and a swap, receipts with a coupon, penalty accrual, an un-approval and a
    settlement approved."""
    clock.day = date(2026, 3, 2)
    office.execute(SYSTEM, SetPenaltyRate(
        company_id=group.hefei, effective_from=date(2026, 3, 3), daily_rate=D("0.0005")))
    office.execute(SYSTEM, SetApprovalRule(
        document_type=DocumentType.SETTLEMENT, company_id=None, bands=ONE_APPROVER))
    for n in range(1, 5):
        receive(office, group, f"SY215C-V{n}")
    office.execute(people.sun, IssueCoupon(
        code="PROMO-V1", company_id=group.hefei, origin=CouponOrigin.PROMOTION,
        holder_kind=HolderKind.CUSTOMER, holder_id=people.customer, face_value=D("2000.00"),
        amount_paid=D("1000.00"), valid_from=None, valid_until=None, promised_by=None, note="Spring promotion"))
    sale = approve_sale(office, group, people, WITH_COUPONS)
    pay(office, people, sale, "80000.00", clock.day, coupons=[CouponPart(code="PROMO-V1", amount=D("500.00"))])
    office.execute(people.wang, PickMachine(contract_id=sale, serial_number="SY215C-V1"))
    office.execute(people.sun, ReviewOutbound(contract_id=sale, outbound_no=1))
    office.execute(group.keeper_hefei, DispatchMachine(contract_id=sale, outbound_no=1))
    office.execute(people.chen, SwapMachine(
        contract_id=sale, old_serial="SY215C-V1", new_serial="SY215C-V2", reason="Hydraulic fault"))
    undone = approve_sale(office, group, people, CASH, price="150000.00")
    office.execute(people.wang, PickMachine(contract_id=undone, serial_number="SY215C-V3"))
    office.execute(people.zhao, UnapproveContract(contract_id=undone, reason="Customer withdrew"))
    settled = approve_sale(office, group, people, CASH, price="100000.00")
    clock.day = date(2026, 3, 10)
    office.accrue_penalties(SYSTEM, date(2026, 3, 9))
    pay(office, people, settled, "100350.00", date(2026, 3, 10))
    application = office.execute(people.sun, ApplySettlement(
        contract_id=settled, reason="Paid with its penalty"))
    office.execute(people.zhao, DecideApplication(
        application_id=UUID(application.body["application_id"]), decision="approve", reason=None))
    office.catch_up()


def compare(office: BackOffice) -> dict[str, Any]:
    with shadow_views(office.views, office.settings.database_url) as shadow:
        return {r.name: r for r in verify_views(office.views, office.projections, shadow)}


def test_every_read_model_rebuilt_in_a_shadow_equals_the_live_one_until_a_row_is_touched(office, clock, group,
                                                                                          people):
    mixed_workload(office, clock, group, people)
    reports = compare(office)
    assert set(reports) == set(office.projections) - {"event_chain"}
    for report in reports.values():
        assert report.identical, report
        assert report.position == office.ledger.recorder.max_notification_id()
        for table in report.tables:
            assert (table.differing, table.differences, table.live_rows) == (0, [], table.rebuilt_rows), table
    rows = {t.table: t.live_rows for r in reports.values() for t in r.tables}
    # The auditors' index holds every stored event but the idempotency records.
    stored, start = [], 0
    while batch := office.ledger.recorder.select_notifications(start=start, limit=500, inclusive_of_start=False):
        stored.extend(n for n in batch if not n.topic.startswith("domain.commands:"))
        start = batch[-1].id
    with office.read() as cur:
        cur.execute("SELECT aggregate_id, version FROM audit_events")
        indexed = {(str(r["aggregate_id"]), int(r["version"])) for r in cur.fetchall()}
    assert indexed == {(str(n.originator_id), n.originator_version) for n in stored}
    for table in ("machine_stock", "contracts", "delivery_machines", "machine_swaps", "receivables",
                  "receivable_receipts", "coupons", "coupon_usage", "collection_applications", "audit_events"):
        assert rows[table] > 0, table

    with office.views.transaction() as cur:
        cur.execute("UPDATE machine_stock SET model_code = %s WHERE serial_number = %s", ("SY999", "SY215C-V4"))
    reports = compare(office)
    assert [name for name, r in reports.items() if not r.identical] == ["machine_stock"]
    (table,) = reports["machine_stock"].tables
    assert (table.differing, table.live_rows, table.rebuilt_rows) == (1, rows["machine_stock"], rows["machine_stock"])
    ((live, rebuilt),) = table.differences
    assert (live["serial_number"], live["model_code"], rebuilt["model_code"]) == ("SY215C-V4", "SY999", "SY215C")
    assert {k: v for k, v in live.items() if k != "model_code"} == {k: v for k, v in rebuilt.items()
                                                                     if k != "model_code"}

    with office.views.transaction() as cur:
        cur.execute("UPDATE machine_stock SET model_code = %s WHERE serial_number = %s", ("SY215C", "SY215C-V4"))
        cur.execute("SELECT * FROM coupons WHERE code = %s", ("PROMO-V1",))
        gone = cur.fetchone()
        cur.execute("DELETE FROM coupons WHERE code = %s", ("PROMO-V1",))
    reports = compare(office)
    assert [name for name, r in reports.items() if not r.identical] == ["coupons"]
    coupons_table = next(t for t in reports["coupons"].tables if t.table == "coupons")
    assert (coupons_table.live_rows, coupons_table.rebuilt_rows) == (rows["coupons"] - 1, rows["coupons"])
    assert coupons_table.differing >= 1
    assert gone in [rebuilt for _, rebuilt in coupons_table.differences]


def test_one_deleted_read_row_is_reported_as_one_difference(office, clock, group, people):
    clock.day = date(2026, 3, 2)
    for n in range(1, 6):
        receive(office, group, f"SY215C-X{n}")
    office.catch_up()
    with office.views.transaction() as cur:
        cur.execute("SELECT * FROM machine_stock ORDER BY machine_id LIMIT 1")
        first = cur.fetchone()
        cur.execute("DELETE FROM machine_stock WHERE machine_id = %s", (first["machine_id"],))
    (table,) = compare(office)["machine_stock"].tables
    assert (table.live_rows, table.rebuilt_rows) == (4, 5)
    assert (table.differing, table.differences) == (1, [(None, first)])


# ================================================================ the ironledger audit command
def run(argv: list[str]) -> Any:
    with pytest.raises(SystemExit) as ended:
        cli.main(argv)
    return ended.value.code


def test_the_audit_commands_answer_with_exit_codes_a_script_can_trust(office, clock, group, people, environment,
                                                                      capsys):
    clock.day = date(2026, 3, 2)
    receive(office, group, "SY215C-K1")
    office.execute(group.keeper_hefei, TransferMachine(
        serial_number="SY215C-K1", to_warehouse_id=group.hefei_yard, reason="Make room"))
    contract = approve_sale(office, group, people, INSTALMENTS)
    office.execute(people.zhao, UnapproveContract(contract_id=contract, reason="Wrong customer"))
    office.catch_up()
    capsys.readouterr()

    assert run(["audit", "verify-chain"]) == 0
    assert "chain intact" in capsys.readouterr().out
    assert run(["audit", "chain-head", "--json"]) == 0
    head = json.loads(capsys.readouterr().out)
    assert head["notification_id"] == office.ledger.recorder.max_notification_id()
    assert run(["audit", "verify-chain", "--expect-head", head["link"]]) == 0
    capsys.readouterr()

    assert run(["audit", "history", "machine", "sy215c-k1"]) == 0
    out = capsys.readouterr().out
    assert "MachineUnit.Received" in out and "MachineUnit.Transferred" in out and "Make room" in out
    assert run(["audit", "history", "machine", "SY215C-K1", "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [e["event"] for e in history["events"]] == ["MachineUnit.Received", "MachineUnit.Transferred"]
    assert run(["audit", "history", "machine", "NO-SUCH-SERIAL"]) == 2
    assert "not-found" in capsys.readouterr().err
    assert run(["audit", "as-of", "contract", str(contract), "--version", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"]["status"] == "approved"
    assert run(["audit", "as-of", "contract", str(contract), "--at", "2020-01-01T00:00:00+08:00"]) == 2
    assert "not-yet-recorded" in capsys.readouterr().err
    assert run(["audit", "as-of", "contract", str(contract), "--at", "2026-03-02T12:00:00"]) == 2
    assert "zone" in capsys.readouterr().err
    assert run(["audit", "rollbacks", "--from", "2026-03-01", "--to", "2026-03-31", "--json"]) == 0
    (rollback,) = json.loads(capsys.readouterr().out)
    assert run(["audit", "trail", rollback["command_id"], "--json"]) == 0
    assert "Debt.Closed" in {e["event"] for e in json.loads(capsys.readouterr().out)}
    assert run(["audit", "trail", str(uuid.uuid4())]) == 2
    assert run(["audit", "trail", "not-a-uuid"]) == 2

    assert run(["audit", "verify-views"]) == 0
    assert "DIFFERENT" not in capsys.readouterr().out
    with office.views.transaction() as cur:
        cur.execute("UPDATE machine_stock SET status = %s WHERE serial_number = %s", ("scrapped", "SY215C-K1"))
    assert run(["audit", "verify-views", "--json"]) == 1
    reports = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert [n for n, r in reports.items() if not r["identical"]] == ["machine_stock"]
    assert reports["machine_stock"]["tables"][0]["differing"] == 1
    assert run(["audit", "verify-views", "contracts"]) == 0
    assert run(["audit", "verify-views", "no_such_view"]) == 2

    # The chain is never rebuilt, not even by --all; rebuilding the read models leaves it as it was.
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        cli.main(["rebuild", "event_chain"])
    assert "never rebuilt" in str(refused.value.code)
    cli.main(["rebuild", "--all"])
    assert chain_head(office.views) == (head["notification_id"], head["link"])
    assert run(["audit", "verify-views"]) == 0       # the rebuild repaired the touched row

    raw = RawStore(office)
    raw.put(3, raw.flipped(raw.row(3)))
    capsys.readouterr()
    assert run(["audit", "verify-chain"]) == 1
    out = capsys.readouterr().out
    assert "CHAIN BROKEN after 2 good event(s)" in out and "event #3 " in out
    assert run(["audit", "verify-chain", "--json"]) == 1
    broken = json.loads(capsys.readouterr().out)
    assert (broken["intact"], broken["problem_at"], broken["checked"]) == (False, 3, 2)


def test_an_edited_last_event_whose_seal_was_deleted_breaks_the_chain(office, group, environment, capsys):
    receive(office, group, "SY215C-L1")
    office.execute(group.keeper_hefei, TransferMachine(
        serial_number="SY215C-L1", to_warehouse_id=group.hefei_yard, reason="Make room"))
    office.catch_up()
    raw, last = RawStore(office), office.ledger.recorder.max_notification_id()
    raw.put(last, raw.flipped(raw.row(last)))
    raw.unseal(last)
    assert office.projections["event_chain"].position() == last      # the chain had sealed it
    capsys.readouterr()
    assert run(["audit", "verify-chain"]) == 1


# ================================================================ analysts on PostgreSQL
def test_an_analyst_login_reads_the_read_tables_and_nothing_else(store, office, group, environment, capsys):
    if store != "postgres":
        pytest.skip("analysts' logins are PostgreSQL's")
    receive(office, group, "SY215C-R1")
    office.catch_up()
    settings, name, password = environment, f"analyst_{uuid.uuid4().hex[:12]}", "analyst-pass-2026"
    events_table = office.ledger.recorder.events_table_name
    try:
        cli.main(["analyst-role", name, "--password", password])
        assert "read-only" in capsys.readouterr().out
        cli.main(["analyst-role", name, "--password", password])      # again: the login is reset, not doubled
        conninfo = make_conninfo(settings.database_url, user=name, password=password,
                                 options=f"-c search_path={settings.database_schema}")
        with psycopg.connect(conninfo, autocommit=True) as conn:
            assert conn.execute("SELECT serial_number FROM machine_stock").fetchall() == [("SY215C-R1",)]
            assert conn.execute("SELECT COUNT(*) FROM event_chain").fetchone()[0] > 0
            assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
            readable = conn.execute("SELECT table_name, column_name FROM information_schema.columns"
                                    " WHERE table_schema = %s", (settings.database_schema,)).fetchall()
            assert {"machine_stock", "access_users", "audit_events"} <= {t for t, _ in readable}
            assert events_table not in {t for t, _ in readable}
            assert not [c for _, c in readable if "password" in c]
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(events_table)))
            with pytest.raises(errors.ReadOnlySqlTransaction):
                conn.execute("UPDATE machine_stock SET status = 'scrapped'")
            # Read-only is the session's default, which a login may change: the grants still refuse.
            conn.execute("SET default_transaction_read_only = off")
            for statement in ("UPDATE machine_stock SET status = 'scrapped'", "DELETE FROM event_chain",
                              "INSERT INTO machine_swaps SELECT * FROM machine_swaps",
                              sql.SQL("DELETE FROM {}").format(sql.Identifier(events_table))):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(statement)
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute("CREATE TABLE analyst_own (n integer)")
            with pytest.raises(errors.InsufficientPrivilege):   # the store's insert function runs as its caller
                conn.execute(sql.SQL("SELECT {}(gen_random_uuid(), 1, 'x', '\\x00'::bytea)").format(
                    sql.Identifier(f"{events_table}_insert_locked")))
    finally:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is None


def test_an_analyst_login_is_refused_on_sqlite(store, environment):
    if store != "sqlite":
        pytest.skip("SQLite only")
    with pytest.raises(SystemExit) as refused:
        cli.main(["analyst-role", "analyst", "--password", "analyst-pass-2026"])
    assert "SQLite" in str(refused.value.code)
