"""Given / when / then for delivery (交机出库) of an approved contract, without a store:
picks, accessory outbound lines, finance review, dispatch, and the MachineUnit events
each of them records (the sales swap and un-approval: ``test_swap_and_unapproval_rules.py``).

The contract changes only itself; the handler asks it first, then each unit. The helpers
``picked``, ``sent``, ``swapped`` and ``unapproved`` do what the handlers do, so a test
of the whole act, and of which refusal wins, reads as the command runs."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from domain.access import Role, Scope
from domain.approvals import AmountBand, ApprovalRule, ApprovalStep, Decider, DocumentType
from domain.base import Context, InvalidValueError, NotFoundError
from domain.contracts import (AccessoryOverDeliveredError, AgreedAccessory, CommercialTerms, Contract,
                              ContractStateError, MachineAlreadyPickedError,
                              MachineDoesNotFitContractError, MachineNotOnContractError, OutboundDispatch,
                              OutboundLine, OutboundStateError, OutboundStatus, PaymentMethod)
from domain.customers import Customer, CustomerType, PartyKind
from domain.machines import (MachineAlreadyReservedError, MachineNature, MachineNotInStockError,
                             MachineNotReservedError, MachineStatus, MachineUnit)
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


# ------------------------------------------------------------------ what the handlers do
def picked(contract: Contract, u: MachineUnit, context: Context | None = None, line_no: int | None = None) -> None:
    context = context or ctx()
    contract.pick_machine(context, u.facts, MODELS[u.model_id], MODELS, line_no)
    u.reserve(context, contract.id, contract.number)


def released(contract: Contract, u: MachineUnit, context: Context) -> None:
    contract.release_machine(context, u.serial_number)
    u.release(context, contract.id)


def sent(contract: Contract, number: int, *units: MachineUnit, context: Context | None = None) -> None:
    """The outbound is dispatched, then each unit it names."""
    context = context or ctx()
    by_serial = {u.serial_number: u for u in units}
    for serial in contract.dispatch(context, number).serial_numbers:
        by_serial[serial].dispatch(context, contract.id)


def swapped(contract: Contract, old: MachineUnit, new: MachineUnit, context: Context,
            back_to: Warehouse = HEFEI_MAIN) -> None:
    contract.swap_machine(context, old.facts, new.facts, MODELS[new.model_id], MODELS, back_to)
    new.swap_in(context, contract.id, contract.number, old.serial_number)
    old.swap_out(context, contract.id, new.serial_number, back_to)


def unapproved(contract: Contract, context: Context, *units: MachineUnit) -> None:
    by_serial = {u.serial_number: u for u in units}
    for released_pick in contract.unapprove(context).picks:
        by_serial[released_pick.serial_number].release(context, contract.id)


# ------------------------------------------------------------------ givens
def pick(contract: Contract, *units: MachineUnit) -> None:
    for u in units:
        picked(contract, u)
    settle(contract, *units)


def dispatched(contract: Contract, *units: MachineUnit) -> int:
    """Picks the units onto the open outbound, which finance reviews and which goes out."""
    pick(contract, *units)
    number = contract.picks[units[0].serial_number].outbound_no
    contract.review_outbound(ctx(), number)
    sent(contract, number, *units)
    settle(contract, *units)
    return number


def refused_on_both(contract: Contract, units: list[MachineUnit], when, error, code: str, status: int):
    """``when`` (a handler's steps) refused by the contract, which is asked first: nothing
    recorded on it, and no unit asked nor changed."""
    before = [(u.version, u.status, u.contract_id) for u in units]
    refusal = then_refused(contract, when, error, code, status)
    for u, (version, state, contract_id) in zip(units, before):
        assert list(u.collect_events()) == []
        assert (u.version, u.status, u.contract_id) == (version, state, contract_id)
    return refusal


def refused_pick(contract: Contract, u: MachineUnit, error, code: str, status: int = 409, line_no=None):
    return refused_on_both(contract, [u], lambda: picked(contract, u, line_no=line_no), error, code, status)


def refused_swap(contract: Contract, old: MachineUnit, new: MachineUnit, error, code: str, status: int = 409,
                 reason: str | None = "fault", back_to: Warehouse = HEFEI_MAIN):
    return refused_on_both(contract, [old, new], lambda: swapped(contract, old, new, ctx(reason=reason), back_to),
                           error, code, status)


# ------------------------------------------------------------------ pick
def test_a_pick_puts_the_machine_on_outbound_1_and_reserves_the_unit():
    contract, u = contract_of(), unit()
    context = ctx()
    picked(contract, u, context)
    [picked_] = then_events(contract, Contract.MachinePicked)
    assert (picked_.outbound_no, picked_.line_no, picked_.machine_id, picked_.serial_number,
            picked_.model_code) == (1, 1, u.id, "SY215C-0001", "SY215C")
    [reserved] = then_events(u, MachineUnit.Reserved)
    assert (reserved.contract_id, reserved.contract_number) == (contract.id, contract.number)
    for event in (picked_, reserved):
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
    picked(contract, second)
    [picked_] = then_events(contract, Contract.MachinePicked)
    assert (contract.picks["SY235C-1"].line_no, picked_.line_no, picked_.model_code) == (2, 1, "SY235C")
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


def test_a_unit_reserved_by_another_contract_refuses_the_reservation_naming_that_contract():
    """The unit's own rule: the contract cannot know who holds the unit; its version
    makes one contract win a race."""
    first, second, u = contract_of(), contract_of(), unit()
    pick(first, u)
    refusal = then_refused(u, lambda: u.reserve(ctx(), second.id, second.number), MachineAlreadyReservedError,
                           "machine-already-reserved", 409)
    assert first.number in refusal.message and refusal.details["contract_number"] == first.number
    assert u.contract_id == first.id


def test_a_unit_already_picked_for_the_contract_is_not_picked_twice():
    """The unit is reserved (for this contract) too: the contract, asked first, says why."""
    contract, u = contract_of(), unit()
    pick(contract, u)
    refused_pick(contract, u, MachineAlreadyPickedError, "machine-already-picked")


def test_a_contract_not_approved_refuses_before_the_unit_reserved_elsewhere_is_asked():
    first, draft, u = contract_of(), contract_of(approved=False), unit()
    pick(first, u)
    refused_pick(draft, u, ContractStateError, "contract-state")
    assert u.contract_id == first.id


def test_a_unit_that_went_out_is_not_in_stock_to_pick():
    first, second, u = contract_of(), contract_of(), unit()
    dispatched(first, u)
    refusal = then_refused(u, lambda: u.reserve(ctx(), second.id, second.number), MachineNotInStockError,
                           "machine-not-in-stock", 409)
    assert "out" in refusal.message


def test_a_pick_on_a_named_line_needs_that_line():
    contract, u = contract_of((SY215C, 1, PRICE), (SY215C, 1, PRICE)), unit()
    refusal = refused_pick(contract, u, InvalidValueError, "invalid-value", 422, line_no=3)
    assert refusal.details["field"] == "line_no"
    picked(contract, u, line_no=2)
    [picked_] = then_events(contract, Contract.MachinePicked)
    assert picked_.line_no == 2


# ------------------------------------------------------------------ release
def test_a_release_with_a_reason_frees_the_unit():
    contract, u = contract_of(), unit()
    pick(contract, u)
    context = ctx(reason="customer wants a newer unit")
    released(contract, u, context)
    [released_] = then_events(contract, Contract.MachineReleased)
    assert (released_.outbound_no, released_.machine_id, released_.serial_number) == (1, u.id, "SY215C-0001")
    [freed] = then_events(u, MachineUnit.ReservationReleased)
    assert (freed.contract_id, freed.contract_number) == (contract.id, contract.number)
    for event in (released_, freed):
        then_metadata(event, context, HEFEI.id)
    assert (u.status, u.contract_id, u.contract_number) == (MachineStatus.IN_STOCK, None, None)
    assert contract.picks == {} and contract.outbounds[1].serials == set()


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_release_needs_a_reason(reason):
    contract, u = contract_of(), unit()
    pick(contract, u)
    refusal = refused_on_both(contract, [u], lambda: released(contract, u, ctx(reason=reason)),
                              InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "reason"


def test_a_dispatched_machine_is_swapped_not_released():
    contract, u = contract_of(), unit()
    dispatched(contract, u)
    refusal = refused_on_both(contract, [u], lambda: released(contract, u, ctx(reason="changed")),
                              OutboundStateError, "outbound-state", 409)
    assert "swap it" in refusal.message and refusal.details["state"] == "dispatched"


def test_a_machine_on_a_reviewed_outbound_is_released_once_finance_returns_it():
    contract, u = contract_of(), unit()
    pick(contract, u)
    contract.review_outbound(ctx(), 1)
    settle(contract)
    refusal = refused_on_both(contract, [u], lambda: released(contract, u, ctx(reason="changed")),
                              OutboundStateError, "outbound-state", 409)
    assert "Ask finance to return it" in refusal.message and refusal.details["state"] == "reviewed"
    contract.return_outbound(ctx(reason="pick changes"), 1)
    released(contract, u, ctx(reason="changed"))
    then_events(contract, Contract.OutboundReturned, Contract.MachineReleased)
    then_events(u, MachineUnit.ReservationReleased)


def test_a_machine_not_on_the_contract_is_not_released():
    contract, u = contract_of(), unit()
    refusal = refused_on_both(contract, [u], lambda: released(contract, u, ctx(reason="changed")),
                              MachineNotOnContractError, "machine-not-on-contract", 409)
    assert "SY215C-0001" in refusal.message


def test_a_released_unit_can_be_picked_by_another_contract():
    first, second, u = contract_of(), contract_of(), unit()
    pick(first, u)
    released(first, u, ctx(reason="customer changed their mind"))
    settle(first, u)
    picked(second, u)
    then_events(second, Contract.MachinePicked)
    [reserved] = then_events(u, MachineUnit.Reserved)
    assert (reserved.contract_id, u.contract_number) == (second.id, second.number)


def test_a_unit_releases_and_goes_out_only_for_the_contract_it_is_reserved_for():
    first, second, u = contract_of(), contract_of(), unit()
    pick(first, u)
    for act in (u.release, u.dispatch):
        then_refused(u, lambda: act(ctx(reason="changed"), second.id), MachineNotReservedError,
                     "machine-not-reserved", 409)
    assert (u.status, u.contract_id) == (MachineStatus.RESERVED, first.id)


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
    contract.dispatch(ctx(), 1)
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
    contract.unapprove(ctx(reason="price review"))
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
    assert contract.remove_accessory_outbound_line(context, 1) == OutboundLine(1, "Tool kit", 1, Decimal("0.00"), 2)
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
    released(contract, u, ctx(reason="changed"))
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
    picked(contract, second)
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=2)
    picked_, added = then_events(contract, Contract.MachinePicked, Contract.AccessoryOutboundLineAdded)
    assert (picked_.outbound_no, added.outbound_no) == (2, 2)
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
    refusal = refused_on_both(contract, [u], lambda: sent(contract, 1, u),
                              OutboundStateError, "outbound-state", 409)
    assert "finance reviews it first" in refusal.message


def test_a_dispatch_sends_out_every_unit_of_the_reviewed_outbound():
    contract, first, second = contract_of(), unit("SY215C-1"), unit("SY215C-2")
    pick(contract, first, second)
    contract.review_outbound(ctx(), 1)
    settle(contract)
    context = ctx()
    assert contract.dispatch(context, 1) == OutboundDispatch(1, ("SY215C-1", "SY215C-2"), ())
    for u in (first, second):
        u.dispatch(context, contract.id)
    [gone] = then_events(contract, Contract.OutboundDispatched)
    assert (gone.outbound_no, gone.serial_numbers) == (1, ("SY215C-1", "SY215C-2"))
    then_metadata(gone, context, HEFEI.id)
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
    refusal = refused_on_both(contract, [u], lambda: sent(contract, 1, u),
                              OutboundStateError, "outbound-state", 409)
    assert "dispatched" in refusal.message and "nothing is left to send" in refusal.message


# ------------------------------------------------------------------ rebuilding
def test_a_contract_rebuilt_from_its_delivery_events_has_the_same_picks_and_outbounds():
    contract = contract_of((SY215C, 2, PRICE), (LG855, 1, PRICE), rebuilt=False)
    first, second, third, loader = unit("SY215C-1"), unit("SY215C-2"), unit("SY215C-3"), unit("LG855-1", LG855)
    for u in (first, loader):
        contract.pick_machine(ctx(), u.facts, MODELS[u.model_id], MODELS)
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=1)
    contract.add_accessory_outbound_line(ctx(), 1, name="Grease", unit_price=Decimal("50.00"))
    contract.remove_accessory_outbound_line(ctx(), 2)
    contract.review_outbound(ctx(), 1)
    contract.return_outbound(ctx(reason="loader paperwork"), 1)
    contract.release_machine(ctx(reason="loader goes later"), loader.serial_number)
    contract.review_outbound(ctx(), 1)
    contract.dispatch(ctx(), 1)
    contract.pick_machine(ctx(), second.facts, SY215C, MODELS)
    contract.swap_machine(ctx(reason="pump"), first.facts, third.facts, SY215C, MODELS, HEFEI_MAIN)
    rebuilt = given(contract)
    assert rebuilt.picks == contract.picks and rebuilt.outbounds == contract.outbounds
    assert (rebuilt.swaps, rebuilt.dispatched_serials, rebuilt.delivery_complete, rebuilt.status) == (
        1, frozenset({"SY215C-3"}), False, "approved")
    assert set(rebuilt.picks) == {"SY215C-2", "SY215C-3"} and rebuilt.picks["SY215C-2"].outbound_no == 2
    assert (rebuilt.outbounds[1].status, rebuilt.outbounds[2].status) == (OutboundStatus.DISPATCHED,
                                                                          OutboundStatus.OPEN)
    assert set(rebuilt.outbounds[1].lines) == {1} and rebuilt.outbounds[1].serials == {"SY215C-3"}
