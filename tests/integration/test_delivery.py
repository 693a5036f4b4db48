"""Delivery through the application, on real SQLite and PostgreSQL: a swap is one
transaction of three aggregates, a unit that refuses after the contract agreed leaves
everything unsaved, picks of one serial race to one reservation, an un-approval releases
what was picked, and the stock and delivery read models follow every step."""

from __future__ import annotations

import threading
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from application.caller import SYSTEM
from application.sales import ContractLineRequest
from domain import ids
from domain.base import Context, DomainError
from domain.contracts import AgreedAccessory, CommercialTerms, Contract, PaymentMethod
from domain.machines import MachineStatus, MachineUnit
from domain.organisation import MachineModel, Warehouse
from projections import deliveries, machine_stock
from tests.conftest import TODAY, receive
from tests.integration.test_sales import ONE_STEP, Sales, sales  # noqa: F401  (fixture)
from application.delivery.commands import (AddAccessoryOutboundLine, DispatchMachine, PickMachine, ReleaseMachine,
                                           ReturnOutbound, ReviewOutbound, SwapMachine)
from interfaces.http.errors import status_of
from application.sales.commands import CompleteContractTerms
from application.approvals.commands import SetApprovalRule
from application.sales.commands import ApproveContract, DraftContract, SubmitContractForApproval, SubmitContractToClerk, UnapproveContract


@pytest.fixture
def approved(backoffice, group, sales):
    """An approved contract of wang's for two SY215C with an agreed breaker hammer, and
    four Hefei units in stock (one rule step: the Hefei sales manager)."""
    office = backoffice
    from domain.approvals import DocumentType
    office.execute(SYSTEM, SetApprovalRule(
        document_type=DocumentType.SALES_CONTRACT, company_id=group.hefei, bands=ONE_STEP))
    for n in range(1, 5):
        receive(office, group, f"SY215C-D{n}")
    return lambda: _approved_contract(office, group, sales)


def _approved_contract(office, group, sales: Sales, quantity: int = 2) -> UUID:
    contract = UUID(office.execute(sales.wang, DraftContract(
        company_id=group.hefei, customer_id=sales.customer, contact_id=None,
        lines=[
        ContractLineRequest(group.excavator, quantity, Decimal("190000.00"))])).body["contract_id"])
    office.execute(sales.wang, SubmitContractToClerk(contract_id=contract))
    office.execute(sales.chen, CompleteContractTerms.of(contract, CommercialTerms(
        PaymentMethod.CASH, Decimal("0.00"), None, Decimal("0.00"), None,
        (AgreedAccessory("Breaker hammer", 1, Decimal("0.00")),), ())))
    office.execute(sales.chen, SubmitContractForApproval(contract_id=contract))
    office.execute(sales.zhao, ApproveContract(contract_id=contract))
    return contract


def _unit(office, serial: str) -> MachineUnit:
    return office.ledger.repository.get(ids.machine_unit_id(serial))


def _stock_row(office, serial: str) -> dict:
    office.catch_up()
    with office.read() as cur:
        return machine_stock.get_machine(cur, SYSTEM.scope, ids.machine_unit_id(serial))


def _deliveries(office, contract: UUID) -> dict:
    office.catch_up()
    with office.read() as cur:
        return deliveries.get_contract_deliveries(cur, SYSTEM.scope, None, contract)


def _dispatched(office, group, sales, keeper, serial: str) -> UUID:
    contract = _approved_contract(office, group, sales, quantity=1)
    office.execute(sales.wang, PickMachine(contract_id=contract, serial_number=serial))
    office.execute(sales.sun, ReviewOutbound(contract_id=contract, outbound_no=1))
    office.execute(keeper, DispatchMachine(contract_id=contract, outbound_no=1))
    return contract


# ------------------------------------------------------------------ swap atomicity
@pytest.mark.parametrize("stale", ["contract", "old unit", "new unit"])
def test_a_swap_saves_the_contract_and_both_units_or_none_of_them(backoffice, group, sales, approved, stale):
    """The three aggregates of a swap go in one save. Whichever of them was changed by
    someone else since it was loaded, the save fails as a whole: no event of the
    other two is stored, and the store still holds the state before the swap."""
    office = backoffice
    contract_id = _dispatched(office, group, sales, group.keeper_hefei, "SY215C-D1")
    contract = office.ledger.repository.get(contract_id)
    old, new = _unit(office, "SY215C-D1"), _unit(office, "SY215C-D2")
    before = {a.id: a.version for a in (contract, old, new)}
    model = office.ledger.repository.get(group.excavator)
    warehouse = office.ledger.repository.get(group.hefei_main)
    assert isinstance(model, MachineModel) and isinstance(warehouse, Warehouse)
    ctx = Context(sales.chen.user_id, uuid4(), TODAY, "Hydraulic fault on delivery")
    # What the handler does: the contract, then the new unit, then the old one.
    contract.swap_machine(ctx, old.facts, new.facts, model, {model.id: model}, warehouse)
    new.swap_in(ctx, contract.id, contract.number, old.serial_number)
    old.swap_out(ctx, contract.id, new.serial_number, warehouse)

    # Meanwhile another command changes one of the three.
    if stale == "contract":
        office.execute(sales.chen, AddAccessoryOutboundLine(
            contract_id=contract_id, quantity=1, name="Oil 5L", unit_price=Decimal("120.00")))
    elif stale == "old unit":
        other = Context(SYSTEM.user_id, uuid4(), TODAY, None)
        stored_old = _unit(office, "SY215C-D1")
        stored_old.trigger_event(MachineUnit.Dispatched, **other.metadata(stored_old.company_id),
                                 contract_id=contract_id, contract_number=contract.number)
        office.ledger.save(stored_old)
    else:
        office.execute(sales.wang, PickMachine(
            contract_id=_approved_contract(office, group, sales, 1), serial_number="SY215C-D2"))
    changed = {"contract": contract_id, "old unit": old.id, "new unit": new.id}[stale]
    before[changed] += 1

    with pytest.raises(IntegrityError):
        office.ledger.save(contract, old, new)

    for aggregate_id, version in before.items():
        assert office.ledger.repository.get(aggregate_id).version == version
    stored = office.ledger.repository.get(contract_id)
    assert stored.swaps == 0 and "SY215C-D1" in stored.dispatched_serials
    assert not any(isinstance(e, (MachineUnit.SwappedIn, MachineUnit.SwappedOut, Contract.MachineSwapped))
                   for a in (contract_id, old.id, new.id) for e in office.ledger.events.get(a))


def test_a_swap_through_the_application_changes_all_three_and_the_read_models(backoffice, group, sales,
                                                                               approved):
    office = backoffice
    contract = _dispatched(office, group, sales, group.keeper_hefei, "SY215C-D1")
    result = office.execute(sales.chen, SwapMachine(
        contract_id=contract, old_serial="SY215C-D1", new_serial="SY215C-D2",
        reason="Hydraulic fault on delivery"))
    assert result.body["machines"] == [{"serial_number": "SY215C-D2", "line_no": 1, "outbound_no": 1,
                                        "dispatched": True}]
    events = [type(e).__qualname__ for e in office.ledger.events.get(contract)]
    assert events[-1] == "Contract.MachineSwapped"
    swapped = list(office.ledger.events.get(contract))[-1]
    out = list(office.ledger.events.get(ids.machine_unit_id("SY215C-D1")))[-1]
    into = list(office.ledger.events.get(ids.machine_unit_id("SY215C-D2")))[-1]
    assert isinstance(out, MachineUnit.SwappedOut) and isinstance(into, MachineUnit.SwappedIn)
    assert swapped.command_id == out.command_id == into.command_id
    assert swapped.reason == "Hydraulic fault on delivery" and swapped.actor_id == sales.chen.user_id

    old_row, new_row = _stock_row(office, "SY215C-D1"), _stock_row(office, "SY215C-D2")
    assert (old_row["status"], old_row["contract_number"]) == ("in_stock", None)
    assert (new_row["status"], str(new_row["contract_id"])) == ("out", str(contract))
    seen = _deliveries(office, contract)
    assert [(m["serial_number"], m["status"]) for m in seen["outbounds"][0]["machines"]] == [
        ("SY215C-D1", "swapped_out"), ("SY215C-D2", "dispatched")]
    assert [(s["old_serial"], s["new_serial"], s["swapped_by"], s["reason"]) for s in seen["swaps"]] == [
        ("SY215C-D1", "SY215C-D2", "chen", "Hydraulic fault on delivery")]

    # The old unit is pickable again; a second swap is traced as swap 2.
    other = _approved_contract(office, group, sales, 1)
    office.execute(sales.wang, PickMachine(contract_id=other, serial_number="SY215C-D1"))
    office.execute(sales.chen, SwapMachine(
        contract_id=contract, old_serial="SY215C-D2", new_serial="SY215C-D3", reason="Paint damage"))
    assert [(s["swap_no"], s["new_serial"]) for s in _deliveries(office, contract)["swaps"]] == [
        (1, "SY215C-D2"), (2, "SY215C-D3")]
    assert _stock_row(office, "SY215C-D1")["status"] == "reserved"


# ------------------------------------------------------------------ a unit refuses after the contract agreed
def _versions(office, *aggregate_ids: UUID) -> list[int]:
    return [office.ledger.repository.get(a).version for a in aggregate_ids]


def test_a_pick_the_unit_refuses_saves_nothing_of_the_contract(backoffice, group, sales, approved):
    """The contract takes the pick, then the unit (reserved for another contract) refuses:
    the handler raises before it saves, so the contract's pick is not stored either."""
    office = backoffice
    first, second = approved(), approved()
    office.execute(sales.wang, PickMachine(contract_id=first, serial_number="SY215C-D1"))
    unit_id = ids.machine_unit_id("SY215C-D1")
    before, events = _versions(office, second, unit_id), office.ledger.recorder.max_notification_id()
    with pytest.raises(DomainError) as refused:
        office.execute(sales.wang, PickMachine(contract_id=second, serial_number="SY215C-D1"))
    assert refused.value.code == "machine-already-reserved"
    assert (_versions(office, second, unit_id), office.ledger.recorder.max_notification_id()) == (before, events)
    assert office.ledger.repository.get(second).picks == {}


def test_a_swap_the_new_unit_refuses_saves_nothing_of_the_contract_nor_the_old_unit(backoffice, group, sales,
                                                                                     approved):
    office = backoffice
    contract = _dispatched(office, group, sales, group.keeper_hefei, "SY215C-D1")
    office.execute(sales.wang, PickMachine(contract_id=approved(), serial_number="SY215C-D2"))
    aggregates = (contract, ids.machine_unit_id("SY215C-D1"), ids.machine_unit_id("SY215C-D2"))
    before, events = _versions(office, *aggregates), office.ledger.recorder.max_notification_id()
    with pytest.raises(DomainError) as refused:
        office.execute(sales.chen, SwapMachine(
            contract_id=contract, old_serial="SY215C-D1", new_serial="SY215C-D2", reason="Hydraulic fault"))
    assert refused.value.code == "machine-already-reserved"
    assert (_versions(office, *aggregates), office.ledger.recorder.max_notification_id()) == (before, events)
    assert office.ledger.repository.get(contract).dispatched_serials == {"SY215C-D1"}


# ------------------------------------------------------------------ the pick race
def test_many_picks_of_one_serial_at_once_leave_one_reservation(backoffice, group, sales, approved):
    office = backoffice
    contracts = [_approved_contract(office, group, sales, 1) for _ in range(8)]
    start = threading.Barrier(len(contracts))
    outcomes: list[object] = [None] * len(contracts)

    def pick(n: int) -> None:
        start.wait()
        try:
            outcomes[n] = office.execute(sales.wang, PickMachine(
                contract_id=contracts[n], serial_number="SY215C-D1"))
        except DomainError as refused:
            outcomes[n] = refused

    threads = [threading.Thread(target=pick, args=(n,)) for n in range(len(contracts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [n for n, o in enumerate(outcomes) if not isinstance(o, DomainError)]
    assert len(won) == 1, outcomes
    refusals = [o for o in outcomes if isinstance(o, DomainError)]
    assert {(r.code, status_of(r)) for r in refusals} == {("machine-already-reserved", 409)}
    winner = office.ledger.repository.get(contracts[won[0]])
    assert all(winner.number in r.message for r in refusals)
    unit = _unit(office, "SY215C-D1")
    assert (unit.status, unit.contract_id, unit.version) == (MachineStatus.RESERVED, contracts[won[0]], 2)
    for n, contract in enumerate(contracts):
        assert bool(office.ledger.repository.get(contract).picks) == (n == won[0])


# ------------------------------------------------------------------ un-approval
def test_unapproving_releases_picked_units_and_cancels_the_outbound_in_one_command(backoffice, group, sales,
                                                                                   approved):
    office = backoffice
    contract = approved()
    office.execute(sales.wang, PickMachine(contract_id=contract, serial_number="SY215C-D1"))
    office.execute(sales.wang, PickMachine(contract_id=contract, serial_number="SY215C-D2"))
    office.execute(sales.chen, AddAccessoryOutboundLine(
        contract_id=contract, quantity=1, agreed_accessory_no=1))
    office.execute(sales.sun, ReviewOutbound(contract_id=contract, outbound_no=1))
    assert _stock_row(office, "SY215C-D1")["status"] == "reserved"

    office.execute(sales.zhao, UnapproveContract(contract_id=contract, reason="Customer changes the model"))

    tail = list(office.ledger.events.get(contract))[-4:]
    assert [type(e).__qualname__ for e in tail] == ["Contract.MachineReleased", "Contract.MachineReleased",
                                                    "Contract.OutboundCancelled", "Contract.Unapproved"]
    released = [list(office.ledger.events.get(ids.machine_unit_id(s)))[-1] for s in ("SY215C-D1", "SY215C-D2")]
    assert all(isinstance(e, MachineUnit.ReservationReleased) for e in released)
    assert len({e.command_id for e in [*tail, *released]}) == 1
    assert all(e.reason == "Customer changes the model" for e in [*tail, *released])
    for serial in ("SY215C-D1", "SY215C-D2"):
        assert (_stock_row(office, serial)["status"], _unit(office, serial).status) == ("in_stock", "in_stock")
    seen = _deliveries(office, contract)
    assert seen["outbounds"][0]["status"] == "cancelled"
    assert {m["status"] for m in seen["outbounds"][0]["machines"]} == {"released"}
    # Both units can be picked by another contract at once.
    office.execute(sales.wang, PickMachine(
        contract_id=_approved_contract(office, group, sales, 2), serial_number="SY215C-D1"))


def test_unapproving_a_dispatched_contract_is_refused_and_changes_nothing(backoffice, group, sales, approved):
    office = backoffice
    contract = _dispatched(office, group, sales, group.keeper_hefei, "SY215C-D1")
    versions = (office.ledger.repository.get(contract).version, _unit(office, "SY215C-D1").version)
    with pytest.raises(DomainError) as refused:
        office.execute(sales.zhao, UnapproveContract(contract_id=contract, reason="Too late"))
    assert (refused.value.code, status_of(refused.value)) == ("contract-already-started", 409)
    assert "SY215C-D1" in refused.value.message
    assert (office.ledger.repository.get(contract).version, _unit(office, "SY215C-D1").version) == versions


# ------------------------------------------------------------------ read models follow every step
def test_stock_and_delivery_read_models_follow_every_step_and_equal_the_units(backoffice, group, sales, approved):
    office = backoffice
    contract = approved()
    steps = [
        lambda: office.execute(sales.wang, PickMachine(contract_id=contract, serial_number="SY215C-D1")),
        lambda: office.execute(sales.wang, PickMachine(contract_id=contract, serial_number="SY215C-D2")),
        lambda: office.execute(sales.wang, ReleaseMachine(
            contract_id=contract, serial_number="SY215C-D2", reason="Customer wants D3")),
        lambda: office.execute(sales.wang, PickMachine(contract_id=contract, serial_number="SY215C-D3")),
        lambda: office.execute(sales.sun, ReviewOutbound(contract_id=contract, outbound_no=1)),
        lambda: office.execute(sales.sun, ReturnOutbound(
            contract_id=contract, outbound_no=1, reason="Hammer missing")),
        lambda: office.execute(sales.chen, AddAccessoryOutboundLine(
            contract_id=contract, quantity=1, agreed_accessory_no=1)),
        lambda: office.execute(sales.sun, ReviewOutbound(contract_id=contract, outbound_no=1)),
        lambda: office.execute(group.keeper_hefei, DispatchMachine(contract_id=contract, outbound_no=1)),
        lambda: office.execute(sales.chen, SwapMachine(
            contract_id=contract, old_serial="SY215C-D3", new_serial="SY215C-D4", reason="Dented bucket")),
    ]
    for step in steps:
        step()
        office.catch_up()
        for n in range(1, 5):
            unit, row = _unit(office, f"SY215C-D{n}"), _stock_row(office, f"SY215C-D{n}")
            assert (row["status"], row["contract_id"] and UUID(str(row["contract_id"]))) == (
                unit.status, unit.contract_id), (n, step)
            assert row["warehouse_id"] is not None and UUID(str(row["warehouse_id"])) == unit.warehouse_id
    seen = _deliveries(office, contract)
    outbound = seen["outbounds"][0]
    assert (outbound["status"], outbound["reviewed_by"], outbound["dispatched_by"]) == (
        "dispatched", "sun", "keeper.hf")
    assert [(m["serial_number"], m["status"]) for m in outbound["machines"]] == [
        ("SY215C-D1", "dispatched"), ("SY215C-D2", "released"), ("SY215C-D3", "swapped_out"),
        ("SY215C-D4", "dispatched")]
    assert [(line["name"], line["quantity"]) for line in outbound["accessory_lines"]] == [("Breaker hammer", 1)]
    assert office.ledger.repository.get(contract).delivery_complete
