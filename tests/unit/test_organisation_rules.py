"""Company, Warehouse, MachineModel: creation and every refusal."""

from __future__ import annotations

import pytest

from domain import ids
from domain.base import AlreadyExistsError, InvalidValueError
from domain.organisation import Company, MachineModel, MachineType, Warehouse, WarehouseKind
from tests.unit.given import ctx, given, then_events, then_metadata, then_refused
from interfaces.http.errors import status_of

HEFEI = given(Company.create(ctx(), "HF", "Hefei"))


def test_a_company_is_created_under_its_code_and_is_its_own_company():
    context = ctx()
    company = Company.create(context, " hf ", "  Hefei Machinery  ")
    [created] = then_events(company, Company.Created)
    assert (created.code, created.name) == ("HF", "Hefei Machinery")
    then_metadata(created, context, ids.company_id("HF"))
    assert company.id == ids.company_id("hf") == ids.company_id("HF")


@pytest.mark.parametrize(("code", "name"), [("", "Hefei"), ("HF", " "), ("C" * 21, "Hefei"),
                                             ("HF", "n" * 201), ("HF", "Hefei\x00Machinery")])
def test_a_company_with_a_blank_over_long_or_unprintable_code_or_name_is_refused(code, name):
    then_refused(None, lambda: Company.create(ctx(), code, name), InvalidValueError, "invalid-value", 422)


@pytest.mark.parametrize("create", [
    lambda: Company.create(ctx(), "HF", "Hefei"),
    lambda: Warehouse.create(ctx(), HEFEI, "MAIN", "Hefei main", WarehouseKind.MAIN),
    lambda: MachineModel.register(ctx(), "SY215C", "SY215C excavator", MachineType.EXCAVATOR),
], ids=["company", "warehouse", "machine-model"])
def test_a_second_creation_of_the_same_key_is_refused_as_existing(create):
    refusal = given(create()).refuse_second_creation()
    assert isinstance(refusal, AlreadyExistsError) and (refusal.code, status_of(refusal)) == ("already-exists", 409)
    assert "already exists" in refusal.message


def test_a_company_code_of_20_characters_is_accepted_and_spaces_inside_it_are_dropped():
    assert given(Company.create(ctx(), "C" * 20, "Twenty")).code == "C" * 20
    assert given(Company.create(ctx(), "h f 2", "Hefei two")).code == "HF2"


@pytest.mark.parametrize("kind", [WarehouseKind.MAIN, WarehouseKind.PARTS])
def test_a_main_or_parts_warehouse_belongs_to_its_company(kind):
    context = ctx()
    warehouse = Warehouse.create(context, HEFEI, "w1", "Hefei one", kind)
    [created] = then_events(warehouse, Warehouse.Created)
    assert (created.code, created.name, created.kind, created.technician_name) == ("W1", "Hefei one", kind, None)
    then_metadata(created, context, HEFEI.id)
    assert warehouse.id == ids.warehouse_id(HEFEI.id, "W1")
    assert warehouse.holds_machines is (kind is WarehouseKind.MAIN)


def test_the_same_warehouse_code_in_two_companies_is_two_warehouses():
    chuzhou = given(Company.create(ctx(), "CZ", "Chuzhou"))
    assert ids.warehouse_id(HEFEI.id, "MAIN") != ids.warehouse_id(chuzhou.id, "MAIN")


def test_a_mobile_warehouse_is_named_after_its_technician():
    context = ctx()
    warehouse = Warehouse.create(context, HEFEI, "VAN1", "Zhou's van", WarehouseKind.MOBILE, " Zhou Wei ")
    [created] = then_events(warehouse, Warehouse.Created)
    assert (created.code, created.kind, created.technician_name) == ("VAN1", WarehouseKind.MOBILE, "Zhou Wei")
    then_metadata(created, context, HEFEI.id)
    assert (warehouse.company_id, warehouse.technician_name, warehouse.holds_machines) == (
        HEFEI.id, "Zhou Wei", False)


def test_a_technician_name_of_more_than_100_characters_is_refused():
    assert given(Warehouse.create(ctx(), HEFEI, "VAN2", "Van", WarehouseKind.MOBILE, "t" * 100)).technician_name
    refusal = then_refused(None, lambda: Warehouse.create(ctx(), HEFEI, "VAN2", "Van", WarehouseKind.MOBILE,
                                                          "t" * 101),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": "technician_name"}


@pytest.mark.parametrize("technician", [None, "", "  "])
def test_a_mobile_warehouse_without_a_technician_is_refused(technician):
    refusal = then_refused(None, lambda: Warehouse.create(ctx(), HEFEI, "VAN1", "Van", WarehouseKind.MOBILE,
                                                          technician),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": "technician_name"}


@pytest.mark.parametrize("kind", [WarehouseKind.MAIN, WarehouseKind.PARTS])
def test_only_a_mobile_warehouse_names_a_technician(kind):
    refusal = then_refused(None, lambda: Warehouse.create(ctx(), HEFEI, "W2", "Two", kind, "Zhou"),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": "technician_name"}


@pytest.mark.parametrize("kind", [WarehouseKind.MAIN, WarehouseKind.PARTS])
def test_a_blank_technician_name_on_a_main_or_parts_warehouse_is_stored_as_none(kind):
    warehouse = Warehouse.create(ctx(), HEFEI, "W4", "Four", kind, "")
    [created] = then_events(warehouse, Warehouse.Created)
    assert created.technician_name is None


@pytest.mark.parametrize(("code", "name"), [("", "x"), ("W" * 21, "x"), ("W3", ""), ("W3", "x" * 201)])
def test_a_warehouse_with_a_blank_or_over_long_code_or_name_is_refused(code, name):
    then_refused(None, lambda: Warehouse.create(ctx(), HEFEI, code, name, WarehouseKind.MAIN),
                 InvalidValueError, "invalid-value", 422)


@pytest.mark.parametrize("machine_type", list(MachineType))
def test_a_machine_model_is_group_wide(machine_type):
    context = ctx()
    model = MachineModel.register(context, "sy 215c", "SY215C excavator", machine_type)
    [registered] = then_events(model, MachineModel.Registered)
    assert (registered.code, registered.name, registered.machine_type) == ("SY215C", "SY215C excavator",
                                                                           machine_type)
    then_metadata(registered, context, None)
    assert model.id == ids.machine_model_id("SY215C")


@pytest.mark.parametrize(("code", "name"), [("", "x"), ("M" * 41, "x"), ("SY75", " ")])
def test_a_machine_model_with_a_blank_or_over_long_code_or_name_is_refused(code, name):
    then_refused(None, lambda: MachineModel.register(ctx(), code, name, MachineType.EXCAVATOR),
                 InvalidValueError, "invalid-value", 422)
