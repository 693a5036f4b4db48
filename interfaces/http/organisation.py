"""Member companies, warehouses and machine models over HTTP."""

from __future__ import annotations

from uuid import UUID

from litestar import Router, get
from litestar.params import FromQuery

from application.organisation.commands import CreateCompany, CreateWarehouse, RegisterMachineModel
from application.reading import ScopeRule, list_of, listed
from domain.access import Permission
from interfaces.http.kit import ReaderDep, command_endpoint, reads
from projections import organisation
from projections.organisation import CompanyRow, MachineModelRow, WarehouseRow


@get("/", operation_id="ListCompanies", sync_to_thread=True, summary="Member companies I may see",
     opt=reads("organisation", Permission.VIEW_ORGANISATION))
def list_companies(read: ReaderDep) -> list_of(CompanyRow):  # type: ignore[valid-type]
    return listed(CompanyRow, read(organisation.list_companies))


@get("/", operation_id="ListWarehouses", sync_to_thread=True, summary="Warehouses of the companies I see",
     opt=reads("organisation", Permission.VIEW_ORGANISATION))
def list_warehouses(read: ReaderDep, company_id: FromQuery[UUID | None] = None) -> list_of(WarehouseRow):  # type: ignore[valid-type]
    return listed(WarehouseRow, read(organisation.list_warehouses, company_id))


@get("/", operation_id="ListMachineModels", sync_to_thread=True, summary="Machine models of the group",
     opt=reads("organisation", Permission.VIEW_ORGANISATION, ScopeRule.GROUP))
def list_machine_models(read: ReaderDep) -> list_of(MachineModelRow):  # type: ignore[valid-type]
    return listed(MachineModelRow, read(organisation.list_machine_models))


ORGANISATION_ROUTERS = [
    Router("/companies", tags=["organisation"], route_handlers=[
        command_endpoint("/", CreateCompany, "Add a member company to the group"),
        list_companies]),
    Router("/warehouses", tags=["organisation"], route_handlers=[
        command_endpoint("/", CreateWarehouse, "Add a warehouse to a company"),
        list_warehouses]),
    Router("/machine-models", tags=["organisation"], route_handlers=[
        command_endpoint("/", RegisterMachineModel, "Register a machine model"),
        list_machine_models]),
]
