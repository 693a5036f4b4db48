"""MachineUnit: receive (入库) and transfer (调拨), every command and every refusal."""

from __future__ import annotations

import pytest

from domain import ids
from domain.base import InvalidValueError
from domain.machines import (
    MachineNature,
    MachineNotInStockError,
    MachineStatus,
    MachineUnit,
    SameWarehouseError,
    WarehouseCannotHoldMachinesError,
)
from domain.organisation import Company, MachineModel, MachineType, Warehouse, WarehouseKind
from tests.unit.given import ctx, given, then_events, then_metadata, then_refused
from interfaces.http.errors import status_of

HEFEI = given(Company.create(ctx(), "HF", "Hefei"))
CHUZHOU = given(Company.create(ctx(), "CZ", "Chuzhou"))
HEFEI_MAIN = given(Warehouse.create(ctx(), HEFEI, "MAIN", "Hefei main", WarehouseKind.MAIN))
HEFEI_YARD = given(Warehouse.create(ctx(), HEFEI, "YARD", "Hefei yard", WarehouseKind.MAIN))
HEFEI_PARTS = given(Warehouse.create(ctx(), HEFEI, "PARTS", "Hefei parts", WarehouseKind.PARTS))
HEFEI_VAN = given(Warehouse.create(ctx(), HEFEI, "VAN1", "Zhou's van", WarehouseKind.MOBILE, "Zhou"))
CHUZHOU_MAIN = given(Warehouse.create(ctx(), CHUZHOU, "MAIN", "Chuzhou main", WarehouseKind.MAIN))
SY215C = given(MachineModel.register(ctx(), "SY215C", "SY215C excavator", MachineType.EXCAVATOR))


def in_stock(serial: str = "SY215C-0001", warehouse: Warehouse = HEFEI_MAIN) -> MachineUnit:
    return given(MachineUnit.receive(ctx(), serial, SY215C, warehouse, MachineNature.PURCHASED_SAMPLE))


# ------------------------------------------------------------------ receive
@pytest.mark.parametrize("nature", list(MachineNature))
def test_receiving_records_the_unit_in_stock_with_its_nature(nature):
    context = ctx()
    unit = MachineUnit.receive(context, "SY215C-0001", SY215C, HEFEI_MAIN, nature)
    [received] = then_events(unit, MachineUnit.Received)
    assert (received.serial_number, received.model_id, received.model_code, received.warehouse_id,
            received.nature) == ("SY215C-0001", SY215C.id, "SY215C", HEFEI_MAIN.id, nature)
    then_metadata(received, context, HEFEI.id)
    assert unit.id == ids.machine_unit_id("SY215C-0001")
    assert (unit.status, unit.company_id, unit.warehouse_id, unit.nature) == (
        MachineStatus.IN_STOCK, HEFEI.id, HEFEI_MAIN.id, nature)


def test_a_serial_is_kept_without_case_or_spaces_so_one_machine_has_one_id():
    unit = MachineUnit.receive(ctx(), "  sy215c 0001 ", SY215C, HEFEI_MAIN, MachineNature.TRADE_IN)
    assert unit.serial_number == "SY215C0001"
    assert unit.id == ids.machine_unit_id("SY215C0001") == ids.machine_unit_id("sy215c0001")


@pytest.mark.parametrize("serial", ["", "   ", "S" * 41, "SY\x00215", "SY\x1b215"])
def test_a_blank_over_long_or_control_character_serial_is_refused(serial):
    then_refused(None, lambda: MachineUnit.receive(ctx(), serial, SY215C, HEFEI_MAIN,
                                                   MachineNature.PURCHASED_SAMPLE),
                 InvalidValueError, "invalid-value", 422)


@pytest.mark.parametrize("warehouse", [HEFEI_PARTS, HEFEI_VAN], ids=["parts", "mobile"])
def test_a_machine_is_not_received_into_a_parts_or_mobile_warehouse(warehouse):
    then_refused(None, lambda: MachineUnit.receive(ctx(), "SY-1", SY215C, warehouse,
                                                   MachineNature.PURCHASED_SAMPLE),
                 WarehouseCannotHoldMachinesError, "warehouse-cannot-hold-machines", 422)


def test_a_second_receipt_of_a_serial_is_refused_as_the_serial_taken():
    unit = in_stock("sy215c-0001")
    refusal = unit.refuse_second_creation()
    assert (refusal.code, status_of(refusal)) == ("serial-number-exists", 409)
    assert refusal.details == {"serial_number": "SY215C-0001"}


# ------------------------------------------------------------------ transfer
def test_a_transfer_within_the_company_moves_the_unit_and_keeps_the_reason():
    unit = in_stock()
    context = ctx(reason="make room for a delivery")
    unit.transfer(context, HEFEI_YARD)
    [moved] = then_events(unit, MachineUnit.Transferred)
    assert (moved.from_company_id, moved.from_warehouse_id, moved.to_warehouse_id) == (
        HEFEI.id, HEFEI_MAIN.id, HEFEI_YARD.id)
    then_metadata(moved, context, HEFEI.id)
    assert (unit.warehouse_id, unit.company_id, unit.status, unit.version) == (
        HEFEI_YARD.id, HEFEI.id, MachineStatus.IN_STOCK, 2)


def test_a_transfer_to_another_company_records_the_receiving_company():
    unit = in_stock()
    unit.transfer(ctx(reason="sold through Chuzhou"), CHUZHOU_MAIN)
    [moved] = then_events(unit, MachineUnit.Transferred)
    assert (moved.company_id, moved.from_company_id) == (CHUZHOU.id, HEFEI.id)
    assert (unit.company_id, unit.warehouse_id) == (CHUZHOU.id, CHUZHOU_MAIN.id)


def test_transfers_follow_one_another():
    unit = in_stock()
    unit.transfer(ctx(reason="one"), HEFEI_YARD)
    unit.transfer(ctx(reason="two"), HEFEI_MAIN)
    first, second = then_events(unit, MachineUnit.Transferred, MachineUnit.Transferred)
    assert second.from_warehouse_id == first.to_warehouse_id == HEFEI_YARD.id
    assert unit.warehouse_id == HEFEI_MAIN.id and unit.version == 3


def test_a_transfer_to_the_warehouse_it_is_in_is_refused():
    unit = in_stock()
    then_refused(unit, lambda: unit.transfer(ctx(reason="why not"), HEFEI_MAIN),
                 SameWarehouseError, "same-warehouse", 422)


@pytest.mark.parametrize("warehouse", [HEFEI_PARTS, HEFEI_VAN], ids=["parts", "mobile"])
def test_a_transfer_to_a_parts_or_mobile_warehouse_is_refused(warehouse):
    unit = in_stock()
    then_refused(unit, lambda: unit.transfer(ctx(reason="no"), warehouse),
                 WarehouseCannotHoldMachinesError, "warehouse-cannot-hold-machines", 422)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_transfer_without_a_reason_is_refused(reason):
    unit = in_stock()
    refusal = then_refused(unit, lambda: unit.transfer(ctx(reason=reason), HEFEI_YARD),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": "reason"}


@pytest.mark.parametrize("status", [s for s in MachineStatus if s is not MachineStatus.IN_STOCK])
def test_only_a_machine_in_stock_can_be_transferred(status):
    unit = in_stock()
    unit.status = status  # the later issues' events (reserve, dispatch, …) will set this
    then_refused(unit, lambda: unit.transfer(ctx(reason="move"), HEFEI_YARD),
                 MachineNotInStockError, "machine-not-in-stock", 409)


def test_a_refused_transfer_leaves_the_unit_where_it_was():
    unit = in_stock()
    with pytest.raises(SameWarehouseError):
        unit.transfer(ctx(reason="again"), HEFEI_MAIN)
    assert (unit.company_id, unit.warehouse_id, unit.status, unit.version) == (
        HEFEI.id, HEFEI_MAIN.id, MachineStatus.IN_STOCK, 1)


def test_a_received_unit_rebuilt_from_its_events_is_the_unit_received():
    unit = in_stock("SY215C-0002")
    assert (unit.id, unit.serial_number, unit.model_id, unit.model_code, unit.company_id, unit.warehouse_id,
            unit.nature, unit.status, unit.version) == (
        ids.machine_unit_id("SY215C-0002"), "SY215C-0002", SY215C.id, "SY215C", HEFEI.id, HEFEI_MAIN.id,
        MachineNature.PURCHASED_SAMPLE, MachineStatus.IN_STOCK, 1)


@pytest.mark.parametrize("reason", ["make room\x00", "r" * 100_000], ids=["control-character", "100k-characters"])
def test_a_transfer_reason_is_checked_like_any_typed_text(reason):
    unit = in_stock()
    refusal = then_refused(unit, lambda: unit.transfer(ctx(reason=reason), HEFEI_YARD),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": "reason"}
