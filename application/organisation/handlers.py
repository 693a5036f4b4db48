"""Member companies, warehouses and machine models."""

from __future__ import annotations

from application.handling import CommandContext, Outcome, handles
from application.organisation.commands import (
    CompanyCreated,
    CreateCompany,
    CreateWarehouse,
    MachineModelRegistered,
    RegisterMachineModel,
    WarehouseCreated,
)
from domain.access import Permission, Role, User
from domain.base import InvalidValueError
from domain.organisation import Company, MachineModel, Warehouse


class OrganisationService:
    @handles(CreateCompany, permission=Permission.MANAGE_ORGANISATION)
    def create_company(self, ctx: CommandContext, cmd: CreateCompany) -> Outcome:
        company = Company.create(ctx.meta, cmd.code, cmd.name)
        if ctx.find(Company, company.id):
            raise company.refuse_second_creation()
        return ctx.save(company, answer=CompanyCreated(company_id=company.id, code=company.code))

    @handles(CreateWarehouse, permission=Permission.MANAGE_ORGANISATION)
    def create_warehouse(self, ctx: CommandContext, cmd: CreateWarehouse) -> Outcome:
        company = ctx.load_in_scope(Company, cmd.company_id, f"Company {cmd.company_id}")
        if cmd.technician_id is not None:
            technician = ctx.find(User, cmd.technician_id)
            if technician is None or Role.TECHNICIAN not in technician.roles:
                raise InvalidValueError("technician_id names a user with the technician role.",
                                        field="technician_id")
        warehouse = Warehouse.create(ctx.meta, company, cmd.code, cmd.name, cmd.kind, cmd.technician_name,
                                     cmd.technician_id)
        if ctx.find(Warehouse, warehouse.id):
            raise warehouse.refuse_second_creation()
        return ctx.save(warehouse, answer=WarehouseCreated(warehouse_id=warehouse.id, code=warehouse.code))

    @handles(RegisterMachineModel, permission=Permission.MANAGE_ORGANISATION)
    def register_machine_model(self, ctx: CommandContext, cmd: RegisterMachineModel) -> Outcome:
        model = MachineModel.register(ctx.meta, cmd.code, cmd.name, cmd.machine_type)
        if ctx.find(MachineModel, model.id):
            raise model.refuse_second_creation()
        return ctx.save(model, answer=MachineModelRegistered(model_id=model.id, code=model.code))
