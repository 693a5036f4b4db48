"""Machine units in stock: receive by serial number, transfer between warehouses."""

from __future__ import annotations

from application.caller import Caller
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
from application.stock.commands import MachineReceived, MachineTransferred, ReceiveMachine, TransferMachine
from domain import ids
from domain.access import Permission
from domain.machines import MachineUnit
from domain.organisation import MachineModel, Warehouse


class StockService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    @handles(ReceiveMachine, permission=Permission.RECEIVE_MACHINE)
    def receive_machine(self, ctx: CommandContext, cmd: ReceiveMachine) -> Outcome:
        warehouse = ctx.load_in_scope(Warehouse, cmd.warehouse_id, f"Warehouse {cmd.warehouse_id}")
        model = ctx.load(MachineModel, cmd.model_id, f"Machine model {cmd.model_id}")
        # A serial already in the group collides on the store's primary key when
        # saved (answered 409 serial-number-exists): no read needed beforehand.
        unit = MachineUnit.receive(ctx.meta, cmd.serial_number, model, warehouse, cmd.nature)
        return ctx.save(unit, answer=MachineReceived(machine_id=unit.id, serial_number=unit.serial_number,
                                                     status=unit.status))

    @handles(TransferMachine, permission=Permission.TRANSFER_MACHINE)
    def transfer_machine(self, ctx: CommandContext, cmd: TransferMachine) -> Outcome:
        unit = self.machine_in_scope(ctx.caller, cmd.serial_number)
        target = ctx.load_in_scope(Warehouse, cmd.to_warehouse_id, f"Warehouse {cmd.to_warehouse_id}")
        unit.transfer(ctx.meta, target)
        return ctx.save(unit, answer=MachineTransferred(machine_id=unit.id, serial_number=unit.serial_number,
                                                        warehouse_id=target.id, company_id=target.company_id))

    def machine_in_scope(self, caller: Caller, serial_number: str) -> MachineUnit:
        """The unit of a serial number, as a command reads it: out of scope is not found."""
        return self.runner.get_in_scope(caller, ids.machine_unit_id(serial_number), MachineUnit,
                                        f"Machine {ids.normalise_key(serial_number)}")
