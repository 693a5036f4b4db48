"""Given / when / then for what changes a delivery after the fact, without a store: the
sales swap (销售换机) of a dispatched machine and the un-approval (取消审核) that gives
back every pick. The givens and the handlers' steps are those of ``test_delivery_rules.py``."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import uuid4

import pytest

from domain.base import InvalidValueError
from domain.contracts import (Contract, ContractAlreadyStartedError, MachineDoesNotFitContractError,
                              MachineNotOnContractError, OutboundStateError, OutboundStatus)
from domain.machines import (MachineAlreadyReservedError, MachineLockStateError, MachineNotInStockError,
                             MachineStatus, MachineUnit, WarehouseCannotHoldMachinesError)
from tests.unit.given import ctx, then_events, then_metadata, then_refused
from tests.unit.test_delivery_rules import (CHUZHOU_MAIN, HEFEI, HEFEI_MAIN, HEFEI_PARTS, HEFEI_YARD, LG855, PRICE,
                                            SY215C, SY235C, contract_of, dispatched, pick, picked, refused_on_both,
                                            refused_swap, settle, swapped, unapproved, unit)


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
    swapped(contract, old, new, context, HEFEI_YARD)
    [swap] = then_events(contract, Contract.MachineSwapped)
    assert (swap.swap_no, swap.outbound_no, swap.line_no, swap.old_machine_id, swap.old_serial,
            swap.new_machine_id, swap.new_serial, swap.new_model_code) == (
        1, 1, 1, old.id, "SY215C-1", new.id, "SY215C-2", "SY215C")
    [back] = then_events(old, MachineUnit.SwappedOut)
    assert (back.contract_id, back.contract_number, back.replaced_by_serial, back.warehouse_id) == (
        contract.id, contract.number, "SY215C-2", HEFEI_YARD.id)
    assert (old.status, old.warehouse_id, old.contract_id, old.contract_number) == (
        MachineStatus.IN_STOCK, HEFEI_YARD.id, None, None)
    [out] = then_events(new, MachineUnit.SwappedIn)
    assert (out.contract_id, out.contract_number, out.replaces_serial) == (contract.id, contract.number, "SY215C-1")
    for event in (swap, back, out):
        then_metadata(event, context, HEFEI.id)
    assert (new.status, new.contract_id, new.contract_number) == (MachineStatus.OUT, contract.id, contract.number)
    assert contract.dispatched_serials == {"SY215C-2"} and contract.outbounds[1].serials == {"SY215C-2"}
    assert contract.swaps == 1


def test_a_second_swap_counts_on_and_the_swapped_out_unit_can_be_picked_by_another_contract():
    contract, other = contract_of((SY215C, 1, PRICE, True)), contract_of()
    old, new, third = unit("SY215C-1"), unit("SY215C-2"), unit("SY235C-3", SY235C)
    dispatched(contract, old)
    swapped(contract, old, new, ctx(reason="pump"))
    settle(contract, old, new)
    swapped(contract, new, third, ctx(reason="customer takes the bigger model"))
    [swap] = then_events(contract, Contract.MachineSwapped)
    assert (swap.swap_no, swap.old_serial, swap.new_serial, swap.new_model_code) == (
        2, "SY215C-2", "SY235C-3", "SY235C")
    settle(new, third)
    picked(other, old)
    then_events(other, Contract.MachinePicked)
    [reserved] = then_events(old, MachineUnit.Reserved)
    assert reserved.contract_id == other.id and old.status == MachineStatus.RESERVED


@pytest.mark.parametrize("case", ["other-company", "other-model", "same-type-without-substitutes"])
def test_the_new_unit_of_a_swap_is_in_the_contracts_company_and_fits_the_line(case):
    contract, old = contract_of(), unit("SY215C-1")
    new = {"other-company": lambda: unit("SY215C-9", warehouse=CHUZHOU_MAIN),
           "other-model": lambda: unit("LG855-9", LG855),
           "same-type-without-substitutes": lambda: unit("SY235C-9", SY235C)}[case]()
    dispatched(contract, old)
    refusal = refused_swap(contract, old, new, MachineDoesNotFitContractError, "machine-does-not-fit-contract")
    assert new.serial_number in refusal.message


@pytest.mark.parametrize("case,error,code", [
    ("reserved", MachineAlreadyReservedError, "machine-already-reserved"),
    ("out", MachineNotInStockError, "machine-not-in-stock"),
])
def test_the_new_unit_of_a_swap_is_in_stock(case, error, code):
    """The unit's own rule: the contract takes the swap, the new unit refuses to go out."""
    contract, other, old, new = contract_of(), contract_of(), unit("SY215C-1"), unit("SY215C-9")
    dispatched(contract, old)
    (pick if case == "reserved" else dispatched)(other, new)
    refusal = then_refused(new, lambda: new.swap_in(ctx(reason="fault"), contract.id, contract.number, "SY215C-1"),
                           error, code, 409)
    assert new.serial_number in refusal.message
    if case == "reserved":
        assert other.number in refusal.message


def test_a_swap_asks_the_contract_then_the_new_unit_then_the_old_one():
    """The new unit is reserved elsewhere and the old one locked: without a reason the
    contract refuses; with one, the new unit; the old one's lock shows only on its own.
    The swap the contract had recorded is not saved: the handler saves nothing."""
    contract, other, old, new = contract_of(), contract_of(), unit("SY215C-1"), unit("SY215C-9")
    dispatched(contract, old)
    pick(other, new)
    old.lock(ctx(), contract.id, uuid4(), datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc))
    settle(old)
    refused_swap(contract, old, new, InvalidValueError, "invalid-value", 422, reason=None)
    then_refused(new, lambda: swapped(contract, old, new, ctx(reason="fault")), MachineAlreadyReservedError,
                 "machine-already-reserved", 409)
    assert list(old.collect_events()) == []          # not asked
    then_refused(old, lambda: old.swap_out(ctx(reason="fault"), contract.id, "SY215C-9", HEFEI_MAIN),
                 MachineLockStateError, "machine-lock-state", 409)


def test_a_swap_back_to_a_warehouse_that_cannot_hold_machines_records_nothing():
    contract, old, new = contract_of(), unit("SY215C-1"), unit("SY215C-2")
    dispatched(contract, old)
    refused_swap(contract, old, new, WarehouseCannotHoldMachinesError, "warehouse-cannot-hold-machines", 422,
                 back_to=HEFEI_PARTS)
    then_refused(old, lambda: old.swap_out(ctx(reason="fault"), contract.id, "SY215C-2", HEFEI_PARTS),
                 WarehouseCannotHoldMachinesError, "warehouse-cannot-hold-machines", 422)


# ------------------------------------------------------------------ un-approval
def test_unapproval_releases_an_undispatched_pick_and_cancels_its_outbound_under_one_command():
    contract, u = contract_of(), unit()
    pick(contract, u)
    context = ctx(reason="price below the floor")
    releases = contract.unapprove(context)
    assert ([p.serial_number for p in releases.picks], releases.stocked_lines) == (["SY215C-0001"], ())
    u.release(context, contract.id)
    released_, cancelled, unapproved_ = then_events(contract, Contract.MachineReleased, Contract.OutboundCancelled,
                                                    Contract.Unapproved)
    [freed] = then_events(u, MachineUnit.ReservationReleased)
    for event in (released_, cancelled, unapproved_, freed):
        then_metadata(event, context, HEFEI.id)
    assert (released_.serial_number, released_.outbound_no, cancelled.outbound_no) == ("SY215C-0001", 1, 1)
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
    unapproved(contract, ctx(reason="review"), first, second)
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
                              lambda: unapproved(contract, ctx(reason="review"), reserved),
                              ContractAlreadyStartedError, "contract-already-started", 409)
    assert "SY215C-1" in refusal.message and contract.number in refusal.message
    assert contract.status == "approved" and reserved.status == MachineStatus.RESERVED


