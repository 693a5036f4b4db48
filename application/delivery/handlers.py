"""Delivery of approved contracts (交机出库): pick, accessory outbound, finance review,
dispatch, and the sales swap. Each act by its role, within the caller's data scope.

Each aggregate changes only itself; the handler coordinates: it loads the contract, the
units and the parts stocks, asks the contract first (its refusals come first), then each
unit and stock with what the contract answered, and saves them all in one transaction
(nothing is saved when any of them refuses). Two salespeople picking the same serial at
the same instant both write the unit's next version; the store lets one through, and the
other's command runs again on what is now stored and is refused as already reserved.
"""

from __future__ import annotations

from uuid import UUID

from application.caller import Caller
from application.delivery.commands import (
    AccessoryOutboundLineAdded,
    AddAccessoryOutboundLine,
    DeliveryMachineState,
    DeliveryOutboundState,
    DeliverySummary,
    DispatchMachine,
    PickMachine,
    ReleaseMachine,
    RemoveAccessoryOutboundLine,
    ReturnOutbound,
    ReviewOutbound,
    SwapMachine,
)
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
from application.parts import load_part_stocks
from domain import ids
from domain.access import Permission
from domain.base import InvalidValueError
from domain.contracts import Contract
from domain.machines import MachineUnit
from domain.organisation import MachineModel, Warehouse
from domain.parts import Part, part_not_found


class DeliveryService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    # ------------------------------------------------------------ machines
    @handles(PickMachine, permission=Permission.PICK_MACHINES)
    def pick_machine(self, ctx: CommandContext, cmd: PickMachine) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        unit = self._unit(ctx.caller, cmd.serial_number)
        contract.pick_machine(ctx.meta, unit.facts, self._model(unit.model_id), self._line_models(contract),
                              cmd.line_no)
        unit.reserve(ctx.meta, contract.id, contract.number)
        return ctx.save(contract, unit, answer=delivery_summary(contract))

    @handles(ReleaseMachine, permission=Permission.PICK_MACHINES)
    def release_machine(self, ctx: CommandContext, cmd: ReleaseMachine) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        unit = self._unit(ctx.caller, cmd.serial_number)
        contract.release_machine(ctx.meta, unit.serial_number)
        unit.release(ctx.meta, contract.id)
        return ctx.save(contract, unit, answer=delivery_summary(contract))

    @handles(SwapMachine, permission=Permission.SWAP_MACHINES)
    def swap_machine(self, ctx: CommandContext, cmd: SwapMachine) -> Outcome:
        """销售换机: contract, old unit and new unit are saved together or not at all."""
        contract = self._contract(ctx, cmd.contract_id)
        old = self._unit(ctx.caller, cmd.old_serial)
        new = self._unit(ctx.caller, cmd.new_serial)
        back_to_id = cmd.return_warehouse_id or old.warehouse_id
        back_to = ctx.load_in_scope(Warehouse, back_to_id, f"Warehouse {back_to_id}")
        contract.swap_machine(ctx.meta, old.facts, new.facts, self._model(new.model_id), self._line_models(contract),
                              back_to)
        new.swap_in(ctx.meta, contract.id, contract.number, old.serial_number)
        old.swap_out(ctx.meta, contract.id, new.serial_number, back_to)
        return ctx.save(contract, old, new, answer=delivery_summary(contract))

    # ------------------------------------------------------------ the outbound
    @handles(AddAccessoryOutboundLine, permission=Permission.PREPARE_OUTBOUNDS)
    def add_accessory_outbound_line(self, ctx: CommandContext, cmd: AddAccessoryOutboundLine) -> Outcome:
        """An accessory line; with a catalogue part and the warehouse it comes from, its
        parts stock is reserved now and drawn down at dispatch."""
        contract = self._contract(ctx, cmd.contract_id)
        part_id, warehouse_id = cmd.part_id, cmd.warehouse_id
        if (part_id is None) != (warehouse_id is None):
            raise InvalidValueError("A stocked accessory names both the part and the warehouse it comes from.",
                                    field="part_id" if part_id is None else "warehouse_id")
        part = stock = warehouse = None
        if part_id is not None and warehouse_id is not None:
            part = ctx.find(Part, part_id)
            if part is None:
                raise part_not_found(part_id)
            warehouse = ctx.load_in_scope(Warehouse, warehouse_id, f"Warehouse {warehouse_id}")
            stock = load_part_stocks(self.runner, ctx.meta, {(part_id, warehouse_id)})[(part_id, warehouse_id)]
        line_no = contract.add_accessory_outbound_line(ctx.meta, cmd.quantity, cmd.agreed_accessory_no, cmd.name,
                                                       cmd.unit_price, part, warehouse)
        if stock is not None and warehouse is not None:
            stock.reserve(ctx.meta, cmd.quantity, contract.parts_ref, warehouse.code)
        summary = delivery_summary(contract)
        answer = AccessoryOutboundLineAdded(**{f: getattr(summary, f) for f in summary.__struct_fields__},
                                            line_no=line_no)
        return ctx.save(contract, stock, answer=answer)

    @handles(RemoveAccessoryOutboundLine, permission=Permission.PREPARE_OUTBOUNDS)
    def remove_accessory_outbound_line(self, ctx: CommandContext, cmd: RemoveAccessoryOutboundLine) -> Outcome:
        """A stocked part's line gives its quantity back to the stock it was reserved from."""
        contract = self._contract(ctx, cmd.contract_id)
        line = contract.remove_accessory_outbound_line(ctx.meta, cmd.line_no)
        stock = None
        if line.part_id is not None and line.warehouse_id is not None:
            key = (line.part_id, line.warehouse_id)
            stock = load_part_stocks(self.runner, ctx.meta, {key})[key]
            stock.release(ctx.meta, contract.parts_ref, line.quantity)
        return ctx.save(contract, stock, answer=delivery_summary(contract))

    @handles(ReviewOutbound, permission=Permission.REVIEW_OUTBOUNDS)
    def review_outbound(self, ctx: CommandContext, cmd: ReviewOutbound) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        contract.review_outbound(ctx.meta, cmd.outbound_no)
        return ctx.save(contract, answer=delivery_summary(contract))

    @handles(ReturnOutbound, permission=Permission.REVIEW_OUTBOUNDS)
    def return_outbound(self, ctx: CommandContext, cmd: ReturnOutbound) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        contract.return_outbound(ctx.meta, cmd.outbound_no)
        return ctx.save(contract, answer=delivery_summary(contract))

    @handles(DispatchMachine, permission=Permission.DISPATCH_MACHINES)
    def dispatch(self, ctx: CommandContext, cmd: DispatchMachine) -> Outcome:
        """出库发车 of a reviewed outbound: its units and stocked accessories go out in the
        contract's transaction."""
        contract = self._contract(ctx, cmd.contract_id)
        outbound = contract.outbounds.get(cmd.outbound_no)
        # By serial: the units' events are stored in the same order in every process (a set's
        # order of strings changes with each process's hash seed).
        units = {serial: ctx.load(MachineUnit, contract.picks[serial].machine_id, f"Machine {serial}")
                 for serial in sorted(outbound.serials if outbound else ())}
        stocks = load_part_stocks(self.runner, ctx.meta, sorted(contract.part_stocks_needed(cmd.outbound_no)))
        sent = contract.dispatch(ctx.meta, cmd.outbound_no)
        for serial in sent.serial_numbers:
            units[serial].dispatch(ctx.meta, contract.id)
        for line in sent.stocked_lines:
            stocks[(line.part_id, line.warehouse_id)].issue(ctx.meta, contract.parts_ref, line.quantity)
        return ctx.save(contract, *units.values(), *stocks.values(), answer=delivery_summary(contract))

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _contract(ctx: CommandContext, contract_id: UUID) -> Contract:
        return ctx.load_in_scope(Contract, contract_id, f"Contract {contract_id}")

    def _unit(self, caller: Caller, serial_number: str) -> MachineUnit:
        return self.runner.get_in_scope(caller, ids.machine_unit_id(serial_number), MachineUnit,
                                        f"Machine {ids.normalise_key(serial_number)}")

    def _model(self, model_id: UUID) -> MachineModel:
        return self.runner.get(model_id, MachineModel, f"Machine model {model_id}")

    def _line_models(self, contract: Contract) -> dict[UUID, MachineModel]:
        return {line.model_id: self._model(line.model_id) for line in contract.lines}


def delivery_summary(contract: Contract) -> DeliverySummary:
    """What a command on the delivery answers: where each outbound and machine stands."""
    return DeliverySummary(
        contract_id=contract.id,
        number=contract.number,
        outbounds=[DeliveryOutboundState(outbound_no=o.number, status=o.status, serial_numbers=sorted(o.serials),
                                         line_nos=sorted(o.lines))
                   for o in sorted(contract.outbounds.values(), key=lambda o: o.number)],
        machines=[DeliveryMachineState(serial_number=p.serial_number, line_no=p.line_no, outbound_no=p.outbound_no,
                                       dispatched=p.dispatched)
                  for p in sorted(contract.picks.values(), key=lambda p: p.serial_number)],
        delivery_complete=contract.delivery_complete,
    )
