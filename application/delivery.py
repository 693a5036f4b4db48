"""Delivery of approved contracts (交机出库): pick, accessory outbound, finance review,
dispatch, and the sales swap. Each act by its role, within the caller's data scope.

Every act that touches a machine saves the contract and the unit(s) in one
transaction. Two salespeople picking the same serial at the same instant both
write the unit's next version; the store lets one through, and the other's
command runs again on what is now stored and is refused as already reserved.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from application.caller import Caller
from application.ledger import CommandResult, CommandRunner, Outcome
from application.parts import load_part_stocks
from domain import ids
from domain.access import Permission
from domain.base import Context, DealerAggregate, InvalidValueError
from domain.contracts import Contract
from domain.machines import MachineUnit
from domain.organisation import MachineModel, Warehouse
from domain.parts import Part, part_not_found


class DeliveryService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    # ------------------------------------------------------------ machines
    def pick_machine(self, caller: Caller, contract_id: UUID, serial_number: str, line_no: int | None = None,
                     idempotency_key: str | None = None) -> CommandResult:
        def pick(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            unit = self._unit(caller, serial_number)
            contract.pick_machine(ctx, unit, self._model(unit.model_id), self._line_models(contract), line_no)
            return [contract, unit]

        return self._act(caller, "PickMachine", Permission.PICK_MACHINES, contract_id,
                         {"serial_number": serial_number, "line_no": line_no}, pick, idempotency_key)

    def release_machine(self, caller: Caller, contract_id: UUID, serial_number: str, reason: str,
                        idempotency_key: str | None = None) -> CommandResult:
        def release(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            unit = self._unit(caller, serial_number)
            contract.release_machine(ctx, unit)
            return [contract, unit]

        return self._act(caller, "ReleaseMachine", Permission.PICK_MACHINES, contract_id,
                         {"serial_number": serial_number, "reason": reason}, release, idempotency_key, reason)

    def swap_machine(self, caller: Caller, contract_id: UUID, old_serial: str, new_serial: str, reason: str,
                     return_warehouse_id: UUID | None = None, idempotency_key: str | None = None) -> CommandResult:
        """销售换机: contract, old unit and new unit are saved together or not at all."""
        def swap(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            old = self._unit(caller, old_serial)
            new = self._unit(caller, new_serial)
            back_to = self.runner.get_in_scope(caller, return_warehouse_id or old.warehouse_id, Warehouse,
                                               f"Warehouse {return_warehouse_id or old.warehouse_id}")
            contract.swap_machine(ctx, old, new, self._model(new.model_id), self._line_models(contract), back_to)
            return [contract, old, new]

        request = {"old_serial": old_serial, "new_serial": new_serial, "reason": reason,
                   "return_warehouse_id": return_warehouse_id}
        return self._act(caller, "SwapMachine", Permission.SWAP_MACHINES, contract_id, request, swap,
                         idempotency_key, reason)

    # ------------------------------------------------------------ the outbound
    def add_accessory_outbound_line(self, caller: Caller, contract_id: UUID, quantity: int,
                                    agreed_accessory_no: int | None = None, name: str | None = None,
                                    unit_price: Decimal | None = None, part_id: UUID | None = None,
                                    warehouse_id: UUID | None = None,
                                    idempotency_key: str | None = None) -> CommandResult:
        """An accessory line; with a catalogue part and the warehouse it comes from, its
        parts stock is reserved now and drawn down at dispatch."""
        added: dict[str, int] = {}

        def add(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            if (part_id is None) != (warehouse_id is None):
                raise InvalidValueError("A stocked accessory names both the part and the warehouse it comes from.",
                                        field="part_id" if part_id is None else "warehouse_id")
            part = stock = warehouse = None
            if part_id is not None and warehouse_id is not None:
                part = self.runner.find(part_id, Part)
                if part is None:
                    raise part_not_found(part_id)
                warehouse = self.runner.get_in_scope(caller, warehouse_id, Warehouse, f"Warehouse {warehouse_id}")
                stock = load_part_stocks(self.runner, ctx, {(part_id, warehouse_id)})[(part_id, warehouse_id)]
            added["line_no"] = contract.add_accessory_outbound_line(ctx, quantity, agreed_accessory_no, name,
                                                                    unit_price, part, stock, warehouse)
            return [contract, *([stock] if stock else [])]

        request = {"quantity": quantity, "agreed_accessory_no": agreed_accessory_no, "name": name,
                   "unit_price": unit_price, **({"part_id": part_id, "warehouse_id": warehouse_id}
                                                if part_id or warehouse_id else {})}
        return self._act(caller, "AddAccessoryOutboundLine", Permission.PREPARE_OUTBOUNDS, contract_id, request,
                         add, idempotency_key, extra=added)

    def remove_accessory_outbound_line(self, caller: Caller, contract_id: UUID, line_no: int,
                                       idempotency_key: str | None = None) -> CommandResult:
        def remove(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            line = contract.outbound_line(line_no)
            stock = None
            if line is not None and line.part_id is not None and line.warehouse_id is not None:
                stock = load_part_stocks(self.runner, ctx, {(line.part_id, line.warehouse_id)})[(line.part_id, line.warehouse_id)]
            contract.remove_accessory_outbound_line(ctx, line_no, stock)
            return [contract, *([stock] if stock else [])]

        return self._act(caller, "RemoveAccessoryOutboundLine", Permission.PREPARE_OUTBOUNDS, contract_id,
                         {"line_no": line_no}, remove, idempotency_key)

    def review_outbound(self, caller: Caller, contract_id: UUID, outbound_no: int,
                        idempotency_key: str | None = None) -> CommandResult:
        return self._act(caller, "ReviewOutbound", Permission.REVIEW_OUTBOUNDS, contract_id,
                         {"outbound_no": outbound_no}, lambda ctx, c: c.review_outbound(ctx, outbound_no),
                         idempotency_key)

    def return_outbound(self, caller: Caller, contract_id: UUID, outbound_no: int, reason: str,
                        idempotency_key: str | None = None) -> CommandResult:
        return self._act(caller, "ReturnOutbound", Permission.REVIEW_OUTBOUNDS, contract_id,
                         {"outbound_no": outbound_no, "reason": reason},
                         lambda ctx, c: c.return_outbound(ctx, outbound_no), idempotency_key, reason)

    def dispatch(self, caller: Caller, contract_id: UUID, outbound_no: int,
                 idempotency_key: str | None = None) -> CommandResult:
        """出库发车 of a reviewed outbound: its units go out in the contract's transaction."""
        def dispatch(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            outbound = contract.outbounds.get(outbound_no)
            units = {serial: self.runner.get(contract.picks[serial].machine_id, MachineUnit, f"Machine {serial}")
                     for serial in (outbound.serials if outbound else ())}
            stocks = load_part_stocks(self.runner, ctx, contract.part_stocks_needed(outbound_no))
            contract.dispatch(ctx, outbound_no, units, stocks)
            return [contract, *units.values(), *stocks.values()]

        return self._act(caller, "DispatchMachine", Permission.DISPATCH_MACHINES, contract_id,
                         {"outbound_no": outbound_no}, dispatch, idempotency_key)

    # ------------------------------------------------------------ helpers
    def _unit(self, caller: Caller, serial_number: str) -> MachineUnit:
        return self.runner.get_in_scope(caller, ids.machine_unit_id(serial_number), MachineUnit,
                                        f"Machine {ids.normalise_key(serial_number)}")

    def _model(self, model_id: UUID) -> MachineModel:
        return self.runner.get(model_id, MachineModel, f"Machine model {model_id}")

    def _line_models(self, contract: Contract) -> dict[UUID, MachineModel]:
        return {line.model_id: self._model(line.model_id) for line in contract.lines}

    def _act(self, caller: Caller, operation: str, permission: Permission, contract_id: UUID, request: dict,
             act, idempotency_key: str | None, reason: str | None = None,
             extra: dict | None = None) -> CommandResult:
        caller.require(permission)

        def handle(ctx: Context) -> Outcome:
            contract = self.runner.get_in_scope(caller, contract_id, Contract, f"Contract {contract_id}")
            changed = act(ctx, contract) or [contract]
            return Outcome(changed, {**delivery_summary(contract), **(extra or {})})

        return self.runner.run(caller, operation, {"contract_id": contract_id, **request}, handle, idempotency_key,
                               reason=reason)


def delivery_summary(contract: Contract) -> dict:
    """What a command on the delivery answers: where each outbound and machine stands."""
    return {
        "contract_id": str(contract.id),
        "number": contract.number,
        "outbounds": [{"outbound_no": o.number, "status": str(o.status), "serial_numbers": sorted(o.serials),
                       "line_nos": sorted(o.lines)} for o in sorted(contract.outbounds.values(),
                                                                     key=lambda o: o.number)],
        "machines": [{"serial_number": p.serial_number, "line_no": p.line_no, "outbound_no": p.outbound_no,
                      "dispatched": p.dispatched} for p in sorted(contract.picks.values(),
                                                                  key=lambda p: p.serial_number)],
        "delivery_complete": contract.delivery_complete,
    }
