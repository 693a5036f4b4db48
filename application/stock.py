"""Machine units in stock: receive by serial number, transfer between warehouses."""

from __future__ import annotations

from uuid import UUID

from application.caller import Caller
from application.ledger import CommandResult, CommandRunner, Outcome
from domain import ids
from domain.access import Permission
from domain.base import Context
from domain.machines import MachineNature, MachineUnit
from domain.organisation import MachineModel, Warehouse


class StockService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    def receive_machine(self, caller: Caller, serial_number: str, model_id: UUID, warehouse_id: UUID,
                        nature: MachineNature, idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.RECEIVE_MACHINE)

        def handle(ctx: Context) -> Outcome:
            warehouse = self.runner.get_in_scope(caller, warehouse_id, Warehouse, f"Warehouse {warehouse_id}")
            model = self.runner.get(model_id, MachineModel, f"Machine model {model_id}")
            # A serial already in the group collides on the store's primary key when
            # saved (answered 409 serial-number-exists): no read needed beforehand.
            unit = MachineUnit.receive(ctx, serial_number, model, warehouse, nature)
            return Outcome([unit], {"machine_id": str(unit.id), "serial_number": unit.serial_number,
                                    "status": unit.status}, 201)

        request = {"serial_number": serial_number, "model_id": model_id, "warehouse_id": warehouse_id,
                   "nature": nature}
        return self.runner.run(caller, "ReceiveMachine", request, handle, idempotency_key)

    def transfer_machine(self, caller: Caller, serial_number: str, to_warehouse_id: UUID, reason: str,
                         idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.TRANSFER_MACHINE)

        def handle(ctx: Context) -> Outcome:
            unit = self.machine_in_scope(caller, serial_number)
            target = self.runner.get_in_scope(caller, to_warehouse_id, Warehouse, f"Warehouse {to_warehouse_id}")
            unit.transfer(ctx, target)
            return Outcome([unit], {"machine_id": str(unit.id), "serial_number": unit.serial_number,
                                    "warehouse_id": str(target.id), "company_id": str(target.company_id)})

        request = {"serial_number": serial_number, "to_warehouse_id": to_warehouse_id, "reason": reason}
        return self.runner.run(caller, "TransferMachine", request, handle, idempotency_key, reason=reason)

    def machine_in_scope(self, caller: Caller, serial_number: str) -> MachineUnit:
        return self.runner.get_in_scope(caller, ids.machine_unit_id(serial_number), MachineUnit,
                                        f"Machine {ids.normalise_key(serial_number)}")
