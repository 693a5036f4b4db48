"""Given / when / then for delivery (交机出库) of an approved contract, without a store:
picks, accessory outbound lines, finance review, dispatch, the sales swap, un-approval,
and the MachineUnit events each of them records."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from domain.access import Role, Scope
from domain.approvals import AmountBand, ApprovalRule, ApprovalStep, Decider, DocumentType
from domain.base import InvalidValueError, NotFoundError
from domain.contracts import (AccessoryOverDeliveredError, AgreedAccessory, CommercialTerms, Contract,
                              ContractAlreadyStartedError, ContractStateError, MachineAlreadyPickedError,
                              MachineDoesNotFitContractError, MachineNotOnContractError, OutboundLine,
                              OutboundStateError, OutboundStatus, PaymentMethod)
from domain.customers import Customer, CustomerType, PartyKind
from domain.machines import (MachineAlreadyReservedError, MachineNature, MachineNotInStockError, MachineStatus,
                             MachineUnit, WarehouseCannotHoldMachinesError)
from domain.organisation import Company, MachineModel, MachineType, Warehouse, WarehouseKind
from tests.unit.given import ACTOR, ctx, given, then_events, then_metadata, then_refused

HEFEI = given(Company.create(ctx(), "HF", "Hefei"))
CHUZHOU = given(Company.create(ctx(), "CZ", "Chuzhou"))
HEFEI_MAIN = given(Warehouse.create(ctx(), HEFEI, "MAIN", "Hefei main", WarehouseKind.MAIN))
HEFEI_YARD = given(Warehouse.create(ctx(), HEFEI, "YARD", "Hefei yard", WarehouseKind.MAIN))
HEFEI_PARTS = given(Warehouse.create(ctx(), HEFEI, "PARTS", "Hefei parts", WarehouseKind.PARTS))
CHUZHOU_MAIN = given(Warehouse.create(ctx(), CHUZHOU, "MAIN", "Chuzhou main", WarehouseKind.MAIN))
SY215C = given(MachineModel.register(ctx(), "SY215C", "SY215C excavator", MachineType.EXCAVATOR))
SY235C = given(MachineModel.register(ctx(), "SY235C", "SY235C excavator", MachineType.EXCAVATOR))
LG855 = given(MachineModel.register(ctx(), "LG855", "LG855 loader", MachineType.LOADER))
MODELS = {m.id: m for m in (SY215C, SY235C, LG855)}
FORMAL = given(CustomerType.define(ctx(), "FORMAL", "Formal"))
CUSTOMER = given(Customer.register(ctx(), uuid4(), HEFEI, ACTOR, "Hefei Earthworks", PartyKind.ORGANISATION, FORMAL))
CLERK = uuid4()
MANAGER = Decider(uuid4(), frozenset({Role.APPROVER}), Scope(companies=frozenset({HEFEI.id})))
RULE = given(ApprovalRule.set_new(ctx(), DocumentType.SALES_CONTRACT, None,
                                  [AmountBand(Decimal("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),))]))
PRICE = Decimal("380000.00")
BREAKER = AgreedAccessory("Breaker hammer", 2, Decimal("6000.00"))
TOOL_KIT = AgreedAccessory("Tool kit", 1, Decimal("0.00"))


def _approve(contract: Contract) -> None:
    contract.submit_for_approval(ctx(actor=CLERK), RULE)
    assert contract.approve(ctx(), MANAGER) is True


def contract_of(*lines: tuple, approved: bool = True, rebuilt: bool = True) -> Contract:
    """A contract with the clerk's cash terms (breaker hammer ×2, tool kit ×1), approved
    unless told; two SY215C at PRICE unless lines are given."""
    contract = Contract.draft(ctx(), uuid4(), HEFEI, CUSTOMER, None, list(lines) or [(SY215C, 2, PRICE)])
    contract.submit_to_clerk(ctx())
    contract.complete_terms(ctx(actor=CLERK), CommercialTerms(PaymentMethod.CASH, Decimal("0.00"), None,
                                                              Decimal("0.00"), None, (BREAKER, TOOL_KIT), ()))
    if approved:
        _approve(contract)
    return given(contract) if rebuilt else contract


def unit(serial: str = "SY215C-0001", model: MachineModel = SY215C, warehouse: Warehouse = HEFEI_MAIN) -> MachineUnit:
    return given(MachineUnit.receive(ctx(), serial, model, warehouse, MachineNature.PURCHASED_SAMPLE))


def settle(*aggregates) -> None:
    """What happened so far is the given."""
    for aggregate in aggregates:
        aggregate.collect_events()


def pick(contract: Contract, *units: MachineUnit) -> None:
    for u in units:
        contract.pick_machine(ctx(), u, MODELS[u.model_id], MODELS)
    settle(contract, *units)


def dispatched(contract: Contract, *units: MachineUnit) -> int:
    """Picks the units onto the open outbound, which finance reviews and which goes out."""
    pick(contract, *units)
    number = contract.picks[units[0].serial_number].outbound_no
    contract.review_outbound(ctx(), number)
    contract.dispatch(ctx(), number, {u.serial_number: u for u in units})
    settle(contract, *units)
    return number


def refused_on_both(contract: Contract, units: list[MachineUnit], when, error, code: str, status: int):
    """then_refused on the contract, and nothing recorded on any unit either."""
    before = [(u.version, u.status, u.contract_id) for u in units]
    refusal = then_refused(contract, when, error, code, status)
    for u, (version, state, contract_id) in zip(units, before):
        assert list(u.collect_events()) == []
        assert (u.version, u.status, u.contract_id) == (version, state, contract_id)
    return refusal


def refused_pick(contract: Contract, u: MachineUnit, error, code: str, status: int = 409, line_no=None):
    return refused_on_both(contract, [u], lambda: contract.pick_machine(ctx(), u, MODELS[u.model_id], MODELS, line_no),
                           error, code, status)


def refused_swap(contract: Contract, old: MachineUnit, new: MachineUnit, error, code: str, status: int = 409,
                 reason: str | None = "fault", back_to: Warehouse = HEFEI_MAIN):
    return refused_on_both(contract, [old, new], lambda: contract.swap_machine(
        ctx(reason=reason), old, new, MODELS[new.model_id], MODELS, back_to), error, code, status)


# ------------------------------------------------------------------ pick
def test_a_pick_puts_the_machine_on_outbound_1_and_reserves_the_unit():
    contract, u = contract_of(), unit()
    context = ctx()
    contract.pick_machine(context, u, SY215C, MODELS)
    [picked] = then_events(contract, Contract.MachinePicked)
    assert (picked.outbound_no, picked.line_no, picked.machine_id, picked.serial_number, picked.model_code) == (
        1, 1, u.id, "SY215C-0001", "SY215C")
    [reserved] = then_events(u, MachineUnit.Reserved)
    assert (reserved.contract_id, reserved.contract_number) == (contract.id, contract.number)
    for event in (picked, reserved):
        then_metadata(event, context, HEFEI.id)
    assert (u.status, u.contract_id, u.contract_number) == (MachineStatus.RESERVED, contract.id, contract.number)
    assert (contract.outbounds[1].status, contract.outbounds[1].serials) == (OutboundStatus.OPEN, {"SY215C-0001"})
    assert contract.picks["SY215C-0001"].line_no == 1 and not contract.picks["SY215C-0001"].dispatched


def test_a_contract_not_yet_approved_is_given_no_machine():
    contract, u = contract_of(approved=False), unit()
    refusal = refused_pick(contract, u, ContractStateError, "contract-state")
    assert "with_clerk" in refusal.message


def test_a_unit_in_another_companys_stock_does_not_fit():
    contract, u = contract_of(), unit(warehouse=CHUZHOU_MAIN)
    refusal = refused_pick(contract, u, MachineDoesNotFitContractError, "machine-does-not-fit-contract")
    assert "transfer it" in refusal.message


@pytest.mark.parametrize("model", [SY235C, LG855], ids=["same-type", "other-type"])
def test_a_unit_of_another_model_does_not_fit_a_line_without_substitutes(model):
    contract, u = contract_of((SY215C, 1, PRICE)), unit(f"{model.code}-1", model)
    refusal = refused_pick(contract, u, MachineDoesNotFitContractError, "machine-does-not-fit-contract")
    assert f"is a {model.code}" in refusal.message and "sells SY215C" in refusal.message


def test_a_substitute_of_the_same_machine_type_goes_on_a_line_that_allows_it_once_its_own_line_is_full():
    contract = contract_of((SY215C, 1, PRICE, True), (SY235C, 1, PRICE))
    first, second = unit("SY235C-1", SY235C), unit("SY235C-2", SY235C)
    pick(contract, first)
    contract.pick_machine(ctx(), second, SY235C, MODELS)
    [picked] = then_events(contract, Contract.MachinePicked)
    assert (contract.picks["SY235C-1"].line_no, picked.line_no, picked.model_code) == (2, 1, "SY235C")
    then_events(second, MachineUnit.Reserved)


def test_a_substitute_of_another_machine_type_is_refused_even_where_substitutes_are_allowed():
    contract, u = contract_of((SY215C, 1, PRICE, True)), unit("LG855-1", LG855)
    refusal = refused_pick(contract, u, MachineDoesNotFitContractError, "machine-does-not-fit-contract")
    assert "substitutes of the same type allowed" in refusal.message


def test_a_line_with_every_machine_picked_takes_no_more():
    contract, first, second = contract_of((SY215C, 1, PRICE)), unit("SY215C-1"), unit("SY215C-2")
    pick(contract, first)
    refusal = refused_pick(contract, second, MachineDoesNotFitContractError, "machine-does-not-fit-contract")
    assert "already has every SY215C" in refusal.message


def test_a_unit_reserved_by_another_contract_is_refused_naming_that_contract():
    first, second, u = contract_of(), contract_of(), unit()
    pick(first, u)
    refusal = refused_pick(second, u, MachineAlreadyReservedError, "machine-already-reserved")
    assert first.number in refusal.message and refusal.details["contract_number"] == first.number
    assert u.contract_id == first.id


def test_a_unit_already_picked_for_the_contract_is_not_picked_twice():
    contract, u = contract_of(), unit()
    pick(contract, u)
    refused_pick(contract, u, MachineAlreadyPickedError, "machine-already-picked")


def test_a_unit_that_went_out_is_not_in_stock_to_pick():
    first, second, u = contract_of(), contract_of(), unit()
    dispatched(first, u)
    refusal = refused_pick(second, u, MachineNotInStockError, "machine-not-in-stock")
    assert "out" in refusal.message


def test_a_pick_on_a_named_line_needs_that_line():
    contract, u = contract_of((SY215C, 1, PRICE), (SY215C, 1, PRICE)), unit()
    refusal = refused_pick(contract, u, InvalidValueError, "invalid-value", 422, line_no=3)
    assert refusal.details["field"] == "line_no"
    contract.pick_machine(ctx(), u, SY215C, MODELS, 2)
    [picked] = then_events(contract, Contract.MachinePicked)
    assert picked.line_no == 2


# ------------------------------------------------------------------ release
def test_a_release_with_a_reason_frees_the_unit():
    contract, u = contract_of(), unit()
    pick(contract, u)
    context = ctx(reason="customer wants a newer unit")
    contract.release_machine(context, u)
    [released] = then_events(contract, Contract.MachineReleased)
    assert (released.outbound_no, released.machine_id, released.serial_number) == (1, u.id, "SY215C-0001")
    [freed] = then_events(u, MachineUnit.ReservationReleased)
    assert (freed.contract_id, freed.contract_number) == (contract.id, contract.number)
    for event in (released, freed):
        then_metadata(event, context, HEFEI.id)
    assert (u.status, u.contract_id, u.contract_number) == (MachineStatus.IN_STOCK, None, None)
    assert contract.picks == {} and contract.outbounds[1].serials == set()


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_release_needs_a_reason(reason):
    contract, u = contract_of(), unit()
    pick(contract, u)
    refusal = refused_on_both(contract, [u], lambda: contract.release_machine(ctx(reason=reason), u),
                              InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "reason"


def test_a_dispatched_machine_is_swapped_not_released():
    contract, u = contract_of(), unit()
    dispatched(contract, u)
    refusal = refused_on_both(contract, [u], lambda: contract.release_machine(ctx(reason="changed"), u),
                              OutboundStateError, "outbound-state", 409)
    assert "swap it" in refusal.message and refusal.details["state"] == "dispatched"


def test_a_machine_on_a_reviewed_outbound_is_released_once_finance_returns_it():
    contract, u = contract_of(), unit()
    pick(contract, u)
    contract.review_outbound(ctx(), 1)
    settle(contract)
    refusal = refused_on_both(contract, [u], lambda: contract.release_machine(ctx(reason="changed"), u),
                              OutboundStateError, "outbound-state", 409)
    assert "Ask finance to return it" in refusal.message and refusal.details["state"] == "reviewed"
    contract.return_outbound(ctx(reason="pick changes"), 1)
    contract.release_machine(ctx(reason="changed"), u)
    then_events(contract, Contract.OutboundReturned, Contract.MachineReleased)
    then_events(u, MachineUnit.ReservationReleased)


def test_a_machine_not_on_the_contract_is_not_released():
    contract, u = contract_of(), unit()
    refusal = refused_on_both(contract, [u], lambda: contract.release_machine(ctx(reason="changed"), u),
                              MachineNotOnContractError, "machine-not-on-contract", 409)
    assert "SY215C-0001" in refusal.message


def test_a_released_unit_can_be_picked_by_another_contract():
    first, second, u = contract_of(), contract_of(), unit()
    pick(first, u)
    first.release_machine(ctx(reason="customer changed their mind"), u)
    settle(first, u)
    second.pick_machine(ctx(), u, SY215C, MODELS)
    then_events(second, Contract.MachinePicked)
    [reserved] = then_events(u, MachineUnit.Reserved)
    assert (reserved.contract_id, u.contract_number) == (second.id, second.number)


# ------------------------------------------------------------------ accessory outbound lines
def test_an_agreed_accessory_line_takes_its_name_and_price_from_the_terms():
    contract = contract_of()
    context = ctx()
    assert contract.add_accessory_outbound_line(context, 2, agreed_accessory_no=1) == 1
    [added] = then_events(contract, Contract.AccessoryOutboundLineAdded)
    assert (added.outbound_no, added.line) == (1, OutboundLine(1, "Breaker hammer", 2, Decimal("6000.00"), 1))
    then_metadata(added, context, HEFEI.id)
    assert contract.outbounds[1].lines == {1: added.line}


def test_an_agreed_accessory_is_not_delivered_beyond_the_agreed_quantity_across_outbounds():
    contract = contract_of()
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=1)
    contract.review_outbound(ctx(), 1)
    contract.dispatch(ctx(), 1, {})
    settle(contract)
    refusal = then_refused(contract, lambda: contract.add_accessory_outbound_line(ctx(), 2, agreed_accessory_no=1),
                           AccessoryOverDeliveredError, "accessory-over-delivered", 409)
    assert "2 × Breaker hammer" in refusal.message and "1 already on outbounds" in refusal.message
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=1)
    [added] = then_events(contract, Contract.AccessoryOutboundLineAdded)
    assert added.outbound_no == 2
    then_refused(contract, lambda: contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=1),
                 AccessoryOverDeliveredError, "accessory-over-delivered", 409)


def test_a_cancelled_outbound_does_not_count_towards_the_agreed_quantity():
    contract = contract_of()
    contract.add_accessory_outbound_line(ctx(), 2, agreed_accessory_no=1)
    contract.unapprove(ctx(reason="price review"), {})
    _approve(contract)
    settle(contract)
    assert contract.outbounds[1].status == OutboundStatus.CANCELLED
    contract.add_accessory_outbound_line(ctx(), 2, agreed_accessory_no=1)
    [added] = then_events(contract, Contract.AccessoryOutboundLineAdded)
    assert (added.outbound_no, added.line.line_no, added.line.quantity) == (2, 2, 2)


@pytest.mark.parametrize("name,unit_price,field", [
    (None, Decimal("10.00"), "name"),
    ("   ", Decimal("10.00"), "name"),
    ("Grease", None, "unit_price"),
    ("Grease", Decimal("-1.00"), "unit_price"),
])
def test_an_extra_line_needs_its_name_and_unit_price(name, unit_price, field):
    contract = contract_of()
    refusal = then_refused(contract, lambda: contract.add_accessory_outbound_line(ctx(), 1, None, name, unit_price),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == field


@pytest.mark.parametrize("name,unit_price", [("Breaker", None), (None, Decimal("1.00"))])
def test_an_agreed_accessory_given_a_name_or_price_is_refused(name, unit_price):
    contract = contract_of()
    refusal = then_refused(contract, lambda: contract.add_accessory_outbound_line(ctx(), 1, 1, name, unit_price),
                           InvalidValueError, "invalid-value", 422)
    assert "takes its name and price from the contract" in refusal.message


@pytest.mark.parametrize("quantity,agreed_no,field", [(0, 1, "quantity"), (1001, None, "quantity"),
                                                      (1, 3, "agreed_accessory_no"), (1, 0, "agreed_accessory_no")])
def test_an_accessory_line_needs_a_quantity_and_an_agreed_accessory_that_exists(quantity, agreed_no, field):
    contract = contract_of()
    refusal = then_refused(contract, lambda: contract.add_accessory_outbound_line(ctx(), quantity, agreed_no),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == field


def test_a_line_is_removed_from_an_open_outbound():
    contract = contract_of()
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=2)
    settle(contract)
    context = ctx()
    contract.remove_accessory_outbound_line(context, 1)
    [removed] = then_events(contract, Contract.AccessoryOutboundLineRemoved)
    assert (removed.outbound_no, removed.line_no) == (1, 1)
    then_metadata(removed, context, HEFEI.id)
    assert contract.outbounds[1].lines == {}


def test_a_line_of_a_reviewed_outbound_is_not_removed_and_an_unknown_line_is_not_found():
    contract = contract_of()
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=2)
    contract.review_outbound(ctx(), 1)
    settle(contract)
    refusal = then_refused(contract, lambda: contract.remove_accessory_outbound_line(ctx(), 1),
                           OutboundStateError, "outbound-state", 409)
    assert "Ask finance to return it" in refusal.message
    then_refused(contract, lambda: contract.remove_accessory_outbound_line(ctx(), 7),
                 NotFoundError, "outbound-line-not-found", 404)


def test_outbound_line_numbers_keep_increasing_across_removals_and_outbounds():
    contract = contract_of()
    assert contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=1) == 1
    assert contract.add_accessory_outbound_line(ctx(), 1, name="Grease", unit_price=Decimal("50.00")) == 2
    contract.remove_accessory_outbound_line(ctx(), 1)
    assert contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=2) == 3
    contract.review_outbound(ctx(), 1)
    assert contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=1) == 4
    assert sorted(contract.outbounds[1].lines) == [2, 3] and sorted(contract.outbounds[2].lines) == [4]
    assert contract.outbounds[1].lines[2] == OutboundLine(2, "Grease", 1, Decimal("50.00"), None)


def test_the_number_of_a_removed_last_line_is_not_given_again():
    contract = contract_of()
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=1)
    assert contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=2) == 2
    contract.remove_accessory_outbound_line(ctx(), 2)
    assert contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=2) == 3


# ------------------------------------------------------------------ finance review
def test_an_empty_or_unknown_outbound_is_not_reviewed():
    contract, u = contract_of(), unit()
    pick(contract, u)
    contract.release_machine(ctx(reason="changed"), u)
    settle(contract, u)
    refusal = then_refused(contract, lambda: contract.review_outbound(ctx(), 1), OutboundStateError,
                           "outbound-state", 409)
    assert "empty" in refusal.message
    then_refused(contract, lambda: contract.review_outbound(ctx(), 2), NotFoundError, "outbound-not-found", 404)


def test_a_review_records_the_outbounds_serials_and_lines():
    contract, first, second = contract_of(), unit("SY215C-2"), unit("SY215C-1")
    pick(contract, first, second)
    contract.add_accessory_outbound_line(ctx(), 2, agreed_accessory_no=1)
    settle(contract)
    context = ctx()
    contract.review_outbound(context, 1)
    [reviewed] = then_events(contract, Contract.OutboundReviewed)
    assert (reviewed.outbound_no, reviewed.serial_numbers, reviewed.line_nos) == (1, ("SY215C-1", "SY215C-2"), (1,))
    then_metadata(reviewed, context, HEFEI.id)
    assert contract.outbounds[1].status == OutboundStatus.REVIEWED


def test_picks_and_lines_after_a_review_go_on_the_next_outbound():
    contract, first, second = contract_of(), unit("SY215C-1"), unit("SY215C-2")
    pick(contract, first)
    contract.review_outbound(ctx(), 1)
    settle(contract)
    contract.pick_machine(ctx(), second, SY215C, MODELS)
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=2)
    picked, added = then_events(contract, Contract.MachinePicked, Contract.AccessoryOutboundLineAdded)
    assert (picked.outbound_no, added.outbound_no) == (2, 2)
    assert (contract.outbounds[1].serials, contract.outbounds[2].serials) == ({"SY215C-1"}, {"SY215C-2"})


def test_finance_returns_a_reviewed_outbound_with_a_reason_and_reviews_it_again():
    contract, u = contract_of(), unit()
    pick(contract, u)
    refusal = then_refused(contract, lambda: contract.return_outbound(ctx(reason="wrong"), 1), OutboundStateError,
                           "outbound-state", 409)
    assert "open" in refusal.message
    contract.review_outbound(ctx(), 1)
    settle(contract)
    then_refused(contract, lambda: contract.return_outbound(ctx(), 1), InvalidValueError, "invalid-value", 422)
    context = ctx(reason="the breaker hammer is missing")
    contract.return_outbound(context, 1)
    [returned] = then_events(contract, Contract.OutboundReturned)
    assert returned.outbound_no == 1 and returned.reason == "the breaker hammer is missing"
    assert contract.outbounds[1].status == OutboundStatus.OPEN
    contract.add_accessory_outbound_line(ctx(), 2, agreed_accessory_no=1)
    contract.review_outbound(ctx(), 1)
    added, reviewed = then_events(contract, Contract.AccessoryOutboundLineAdded, Contract.OutboundReviewed)
    assert (added.outbound_no, reviewed.serial_numbers, reviewed.line_nos) == (1, ("SY215C-0001",), (1,))


# ------------------------------------------------------------------ dispatch
def test_an_unreviewed_outbound_is_not_dispatched():
    contract, u = contract_of(), unit()
    pick(contract, u)
    refusal = refused_on_both(contract, [u], lambda: contract.dispatch(ctx(), 1, {u.serial_number: u}),
                              OutboundStateError, "outbound-state", 409)
    assert "finance reviews it first" in refusal.message


def test_a_dispatch_sends_out_every_unit_of_the_reviewed_outbound():
    contract, first, second = contract_of(), unit("SY215C-1"), unit("SY215C-2")
    pick(contract, first, second)
    contract.review_outbound(ctx(), 1)
    settle(contract)
    context = ctx()
    contract.dispatch(context, 1, {"SY215C-1": first, "SY215C-2": second})
    [sent] = then_events(contract, Contract.OutboundDispatched)
    assert (sent.outbound_no, sent.serial_numbers) == (1, ("SY215C-1", "SY215C-2"))
    then_metadata(sent, context, HEFEI.id)
    for u in (first, second):
        [out] = then_events(u, MachineUnit.Dispatched)
        assert (out.contract_id, out.contract_number) == (contract.id, contract.number)
        then_metadata(out, context, HEFEI.id)
        assert (u.status, u.contract_id) == (MachineStatus.OUT, contract.id)
    assert contract.outbounds[1].status == OutboundStatus.DISPATCHED
    assert contract.dispatched_serials == {"SY215C-1", "SY215C-2"} and contract.delivery_complete is True


def test_delivery_is_complete_only_when_every_machine_of_every_line_went_out():
    contract = contract_of((SY215C, 2, PRICE), (LG855, 1, PRICE))
    first, second, loader = unit("SY215C-1"), unit("SY215C-2"), unit("LG855-1", LG855)
    dispatched(contract, first)
    assert contract.delivery_complete is False
    assert dispatched(contract, second, loader) == 2 and contract.delivery_complete is True
    assert contract.dispatched_serials == {"SY215C-1", "SY215C-2", "LG855-1"}


def test_an_outbound_is_dispatched_once():
    contract, u = contract_of(), unit()
    dispatched(contract, u)
    refusal = refused_on_both(contract, [u], lambda: contract.dispatch(ctx(), 1, {u.serial_number: u}),
                              OutboundStateError, "outbound-state", 409)
    assert "dispatched" in refusal.message and "nothing is left to send" in refusal.message


# ------------------------------------------------------------------ swap
def test_only_a_dispatched_machine_is_swapped():
    contract, old, new = contract_of(), unit("SY215C-1"), unit("SY215C-2")
    pick(contract, old)
    refusal = refused_swap(contract, old, new, OutboundStateError, "outbound-state")
    assert "release it" in refusal.message
    stranger = unit("SY215C-3")
    refused_swap(contract, stranger, new, MachineNotOnContractError, "machine-not-on-contract")


@pytest.mark.parametrize("reason", [None, "  "])
def test_a_swap_needs_a_reason(reason):
    contract, old, new = contract_of(), unit("SY215C-1"), unit("SY215C-2")
    dispatched(contract, old)
    refusal = refused_swap(contract, old, new, InvalidValueError, "invalid-value", 422, reason=reason)
    assert refusal.details["field"] == "reason"


def test_a_swap_puts_the_new_unit_out_and_brings_the_old_one_back_to_stock():
    contract, old, new = contract_of(), unit("SY215C-1"), unit("SY215C-2", warehouse=HEFEI_YARD)
    dispatched(contract, old)
    context = ctx(reason="hydraulic pump failed")
    contract.swap_machine(context, old, new, SY215C, MODELS, HEFEI_YARD)
    [swapped] = then_events(contract, Contract.MachineSwapped)
    assert (swapped.swap_no, swapped.outbound_no, swapped.line_no, swapped.old_machine_id, swapped.old_serial,
            swapped.new_machine_id, swapped.new_serial, swapped.new_model_code) == (
        1, 1, 1, old.id, "SY215C-1", new.id, "SY215C-2", "SY215C")
    [back] = then_events(old, MachineUnit.SwappedOut)
    assert (back.contract_id, back.contract_number, back.replaced_by_serial, back.warehouse_id) == (
        contract.id, contract.number, "SY215C-2", HEFEI_YARD.id)
    assert (old.status, old.warehouse_id, old.contract_id, old.contract_number) == (
        MachineStatus.IN_STOCK, HEFEI_YARD.id, None, None)
    [out] = then_events(new, MachineUnit.SwappedIn)
    assert (out.contract_id, out.contract_number, out.replaces_serial) == (contract.id, contract.number, "SY215C-1")
    for event in (swapped, back, out):
        then_metadata(event, context, HEFEI.id)
    assert (new.status, new.contract_id, new.contract_number) == (MachineStatus.OUT, contract.id, contract.number)
    assert contract.dispatched_serials == {"SY215C-2"} and contract.outbounds[1].serials == {"SY215C-2"}
    assert contract.swaps == 1


def test_a_second_swap_counts_on_and_the_swapped_out_unit_can_be_picked_by_another_contract():
    contract, other = contract_of((SY215C, 1, PRICE, True)), contract_of()
    old, new, third = unit("SY215C-1"), unit("SY215C-2"), unit("SY235C-3", SY235C)
    dispatched(contract, old)
    contract.swap_machine(ctx(reason="pump"), old, new, SY215C, MODELS, HEFEI_MAIN)
    settle(contract, old, new)
    contract.swap_machine(ctx(reason="customer takes the bigger model"), new, third, SY235C, MODELS, HEFEI_MAIN)
    [swapped] = then_events(contract, Contract.MachineSwapped)
    assert (swapped.swap_no, swapped.old_serial, swapped.new_serial, swapped.new_model_code) == (
        2, "SY215C-2", "SY235C-3", "SY235C")
    settle(new, third)
    other.pick_machine(ctx(), old, SY215C, MODELS)
    then_events(other, Contract.MachinePicked)
    [reserved] = then_events(old, MachineUnit.Reserved)
    assert reserved.contract_id == other.id and old.status == MachineStatus.RESERVED


@pytest.mark.parametrize("case,error,code", [
    ("other-company", MachineDoesNotFitContractError, "machine-does-not-fit-contract"),
    ("other-model", MachineDoesNotFitContractError, "machine-does-not-fit-contract"),
    ("same-type-without-substitutes", MachineDoesNotFitContractError, "machine-does-not-fit-contract"),
    ("reserved", MachineAlreadyReservedError, "machine-already-reserved"),
    ("out", MachineNotInStockError, "machine-not-in-stock"),
])
def test_the_new_unit_of_a_swap_is_in_stock_in_the_company_and_fits_the_line(case, error, code):
    contract, other, old = contract_of(), contract_of(), unit("SY215C-1")
    new = {"other-company": lambda: unit("SY215C-9", warehouse=CHUZHOU_MAIN),
           "other-model": lambda: unit("LG855-9", LG855),
           "same-type-without-substitutes": lambda: unit("SY235C-9", SY235C)}.get(case, lambda: unit("SY215C-9"))()
    dispatched(contract, old)
    if case == "reserved":
        pick(other, new)
    if case == "out":
        dispatched(other, new)
    refusal = refused_swap(contract, old, new, error, code)
    assert new.serial_number in refusal.message
    if case == "reserved":
        assert other.number in refusal.message


def test_a_swap_back_to_a_warehouse_that_cannot_hold_machines_records_nothing():
    contract, old, new = contract_of(), unit("SY215C-1"), unit("SY215C-2")
    dispatched(contract, old)
    refused_swap(contract, old, new, WarehouseCannotHoldMachinesError, "warehouse-cannot-hold-machines", 422,
                 back_to=HEFEI_PARTS)


# ------------------------------------------------------------------ un-approval
def test_unapproval_releases_an_undispatched_pick_and_cancels_its_outbound_under_one_command():
    contract, u = contract_of(), unit()
    pick(contract, u)
    context = ctx(reason="price below the floor")
    contract.unapprove(context, {u.serial_number: u})
    released, cancelled, unapproved = then_events(contract, Contract.MachineReleased, Contract.OutboundCancelled,
                                                  Contract.Unapproved)
    [freed] = then_events(u, MachineUnit.ReservationReleased)
    for event in (released, cancelled, unapproved, freed):
        then_metadata(event, context, HEFEI.id)
    assert (released.serial_number, released.outbound_no, cancelled.outbound_no) == ("SY215C-0001", 1, 1)
    assert freed.contract_id == contract.id
    assert (contract.status, contract.picks, contract.outbounds[1].status) == (
        "with_clerk", {}, OutboundStatus.CANCELLED)
    assert (u.status, u.contract_id) == (MachineStatus.IN_STOCK, None)


def test_unapproval_cancels_reviewed_and_open_outbounds_alike():
    contract, first, second = contract_of(), unit("SY215C-1"), unit("SY215C-2")
    pick(contract, first)
    contract.review_outbound(ctx(), 1)
    settle(contract)
    pick(contract, second)
    contract.unapprove(ctx(reason="review"), {"SY215C-1": first, "SY215C-2": second})
    events = then_events(contract, Contract.MachineReleased, Contract.MachineReleased, Contract.OutboundCancelled,
                         Contract.OutboundCancelled, Contract.Unapproved)
    assert [e.outbound_no for e in events[:4]] == [1, 2, 1, 2]
    then_events(first, MachineUnit.ReservationReleased)
    then_events(second, MachineUnit.ReservationReleased)


def test_unapproval_after_a_machine_went_out_is_refused_and_releases_nothing():
    contract, out, reserved = contract_of(), unit("SY215C-1"), unit("SY215C-2")
    dispatched(contract, out)
    pick(contract, reserved)
    refusal = refused_on_both(contract, [out, reserved],
                              lambda: contract.unapprove(ctx(reason="review"), {"SY215C-2": reserved}),
                              ContractAlreadyStartedError, "contract-already-started", 409)
    assert "SY215C-1" in refusal.message and contract.number in refusal.message
    assert contract.status == "approved" and reserved.status == MachineStatus.RESERVED


# ------------------------------------------------------------------ rebuilding
def test_a_contract_rebuilt_from_its_delivery_events_has_the_same_picks_and_outbounds():
    contract = contract_of((SY215C, 2, PRICE), (LG855, 1, PRICE), rebuilt=False)
    first, second, third, loader = unit("SY215C-1"), unit("SY215C-2"), unit("SY215C-3"), unit("LG855-1", LG855)
    for u in (first, loader):
        contract.pick_machine(ctx(), u, MODELS[u.model_id], MODELS)
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=1)
    contract.add_accessory_outbound_line(ctx(), 1, name="Grease", unit_price=Decimal("50.00"))
    contract.remove_accessory_outbound_line(ctx(), 2)
    contract.review_outbound(ctx(), 1)
    contract.return_outbound(ctx(reason="loader paperwork"), 1)
    contract.release_machine(ctx(reason="loader goes later"), loader)
    contract.review_outbound(ctx(), 1)
    contract.dispatch(ctx(), 1, {"SY215C-1": first})
    contract.pick_machine(ctx(), second, SY215C, MODELS)
    contract.swap_machine(ctx(reason="pump"), first, third, SY215C, MODELS, HEFEI_MAIN)
    rebuilt = given(contract)
    assert rebuilt.picks == contract.picks and rebuilt.outbounds == contract.outbounds
    assert (rebuilt.swaps, rebuilt.dispatched_serials, rebuilt.delivery_complete, rebuilt.status) == (
        1, frozenset({"SY215C-3"}), False, "approved")
    assert set(rebuilt.picks) == {"SY215C-2", "SY215C-3"} and rebuilt.picks["SY215C-2"].outbound_no == 2
    assert (rebuilt.outbounds[1].status, rebuilt.outbounds[2].status) == (OutboundStatus.DISPATCHED,
                                                                          OutboundStatus.OPEN)
    assert set(rebuilt.outbounds[1].lines) == {1} and rebuilt.outbounds[1].serials == {"SY215C-3"}
