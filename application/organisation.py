"""Member companies, warehouses and machine models."""

from __future__ import annotations

from uuid import UUID

from application.caller import Caller
from application.ledger import CommandResult, CommandRunner, Outcome
from domain import ids
from domain.access import Permission, Role, User
from domain.base import Context, InvalidValueError
from domain.organisation import Company, MachineModel, MachineType, Warehouse, WarehouseKind


class OrganisationService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    def create_company(self, caller: Caller, code: str, name: str,
                       idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_ORGANISATION)

        def handle(ctx: Context) -> Outcome:
            company = Company.create(ctx, code, name)
            if self.runner.find(company.id, Company):
                raise company.refuse_second_creation()
            return Outcome([company], {"company_id": str(company.id), "code": company.code}, 201)

        return self.runner.run(caller, "CreateCompany", {"code": code, "name": name}, handle, idempotency_key)

    def create_warehouse(self, caller: Caller, company_id: UUID, code: str, name: str, kind: WarehouseKind,
                         technician_name: str | None = None, idempotency_key: str | None = None,
                         technician_id: UUID | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_ORGANISATION)

        def handle(ctx: Context) -> Outcome:
            company = self.runner.get_in_scope(caller, company_id, Company, f"Company {company_id}")
            if technician_id is not None:
                technician = self.runner.find(technician_id, User)
                if technician is None or Role.TECHNICIAN not in technician.roles:
                    raise InvalidValueError("technician_id names a user with the technician role.",
                                            field="technician_id")
            warehouse = Warehouse.create(ctx, company, code, name, kind, technician_name, technician_id)
            if self.runner.find(warehouse.id, Warehouse):
                raise warehouse.refuse_second_creation()
            return Outcome([warehouse], {"warehouse_id": str(warehouse.id), "code": warehouse.code}, 201)

        request = {"company_id": company_id, "code": code, "name": name, "kind": kind,
                   "technician_name": technician_name,
                   **({"technician_id": technician_id} if technician_id else {})}
        return self.runner.run(caller, "CreateWarehouse", request, handle, idempotency_key)

    def register_machine_model(self, caller: Caller, code: str, name: str, machine_type: MachineType,
                               idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_ORGANISATION)

        def handle(ctx: Context) -> Outcome:
            model = MachineModel.register(ctx, code, name, machine_type)
            if self.runner.find(model.id, MachineModel):
                raise model.refuse_second_creation()
            return Outcome([model], {"model_id": str(model.id), "code": model.code}, 201)

        request = {"code": code, "name": name, "machine_type": machine_type}
        return self.runner.run(caller, "RegisterMachineModel", request, handle, idempotency_key)

    @staticmethod
    def company_id_for(code: str) -> UUID:
        return ids.company_id(code)
