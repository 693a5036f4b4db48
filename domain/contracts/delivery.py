"""Delivery (交机出库) of an approved contract: picks, accessory outbound lines, finance
review, dispatch and swap (see the package's docstring for who does what).

``ContractDelivery`` is mixed into ``Contract`` and defines no event class: the events it
records are ``Contract``'s own (``self.MachinePicked``, …), so their stored topics stay
``domain.contracts:Contract.<Event>``. It relies on ``Contract``'s state and its
``_require``, ``_record``, ``_picked_on``, ``_stocked`` and ``parts_ref``.

The contract changes only itself: it reads the units as plain ``MachineFacts`` and answers
what the others must do (``OutboundLine``, ``OutboundDispatch``); the handlers in
``application/delivery/handlers.py`` then call the units' and parts stocks' own commands
and save them all in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from uuid import UUID

from domain.base import Context, InvalidValueError, NotFoundError, require_text
from domain.contracts.errors import (AccessoryOverDeliveredError, MachineAlreadyPickedError,
                                     MachineDoesNotFitContractError, MachineNotOnContractError, OutboundStateError)
from domain.contracts.outbounds import (MAX_OUTBOUND_LINES, Outbound, OutboundDispatch, OutboundLine, OutboundStatus,
                                       Pick)
from domain.contracts.terms import MAX_QUANTITY, ContractLine, ContractStatus
from domain.machines import MachineFacts, WarehouseCannotHoldMachinesError
from domain.money import require_money
from domain.organisation import MachineModel, Warehouse, WarehouseKind
from domain.parts import Part, WarehouseNotUsableError


class ContractDelivery:
    """The delivery commands of ``Contract`` (a mixin: no state, no events of its own)."""

    # ------------------------------------------------------------ delivery commands
    def pick_machine(self, ctx: Context, unit: MachineFacts, unit_model: MachineModel,
                     line_models: Mapping[UUID, MachineModel], line_no: int | None = None) -> None:
        """推选机号: puts ``unit`` on the open outbound, on the line it fits: the line of its
        model, else a line of the same machine type that allows a substitute. The handler
        then reserves the unit itself (``MachineUnit.reserve``), which refuses a unit
        another contract holds."""
        self._require(ContractStatus.APPROVED, act="given a machine")
        if unit.company_id != self.company_id:
            raise MachineDoesNotFitContractError(
                f"Machine {unit.serial_number} is in another member company's stock; transfer it to the "
                f"contract's company first.", serial_number=unit.serial_number)
        if unit.serial_number in self.picks:
            raise MachineAlreadyPickedError(f"Machine {unit.serial_number} is already picked for contract "
                                            f"{self.number}.", serial_number=unit.serial_number)
        line_no = self._line_for(unit, unit_model, line_models, line_no)
        self._record(self.MachinePicked, ctx, self.company_id, outbound_no=self._open_outbound_no(),
                     line_no=line_no, machine_id=unit.id, serial_number=unit.serial_number,
                     model_code=unit.model_code)

    def _line_for(self, unit: MachineFacts, unit_model: MachineModel, line_models: Mapping[UUID, MachineModel],
                  wanted: int | None) -> int:
        def fits(n: int, line: ContractLine) -> bool:
            if line.model_id == unit.model_id:
                return True
            model = line_models.get(line.model_id)
            return line.substitute_allowed and model is not None and model.machine_type == unit_model.machine_type

        candidates = [n for n, line in enumerate(self.lines, 1) if (wanted is None or n == wanted)]
        if wanted is not None and not candidates:
            raise InvalidValueError(f"Contract {self.number} has no line {wanted}.", field="line_no")
        fitting = [n for n in candidates if fits(n, self.lines[n - 1])]
        # The line of the unit's own model first, then substitutes.
        fitting.sort(key=lambda n: self.lines[n - 1].model_id != unit.model_id)
        for n in fitting:
            if self._picked_on(n) < self.lines[n - 1].quantity:
                return n
        if fitting:
            raise MachineDoesNotFitContractError(
                f"Contract {self.number} already has every {unit.model_code} it sells picked; release a pick "
                "to change it.", serial_number=unit.serial_number)
        raise MachineDoesNotFitContractError(
            f"Machine {unit.serial_number} is a {unit.model_code}; contract {self.number} sells "
            f"{', '.join(line.model_code for line in self.lines)}"
            f"{' (substitutes of the same type allowed)' if any(l.substitute_allowed for l in self.lines) else ''}.",
            serial_number=unit.serial_number)

    def _open_outbound_no(self) -> int:
        """The outbound new picks and lines go on: the open one, or the next."""
        last = max(self.outbounds, default=0)
        if last and self.outbounds[last].status == OutboundStatus.OPEN:
            return last
        return last + 1

    def release_machine(self, ctx: Context, serial_number: str) -> None:
        """Takes the pick of ``serial_number`` off its open outbound, with a reason; the
        handler then releases the unit's reservation (``MachineUnit.release``)."""
        self._require(ContractStatus.APPROVED, act="changed")
        pick = self._pick(serial_number)
        if pick.dispatched:
            raise OutboundStateError(f"Machine {serial_number} went out under contract {self.number}; "
                                     "swap it instead of releasing it.", state=str(OutboundStatus.DISPATCHED))
        self._require_open(pick.outbound_no, "changed")
        require_text(ctx.reason or "", "reason", 500)
        self._record(self.MachineReleased, ctx, self.company_id, outbound_no=pick.outbound_no,
                     machine_id=pick.machine_id, serial_number=serial_number)

    def add_accessory_outbound_line(self, ctx: Context, quantity: int, agreed_accessory_no: int | None = None,
                                    name: str | None = None, unit_price: Decimal | None = None,
                                    part: Part | None = None, warehouse: Warehouse | None = None) -> int:
        """Adds an accessory line to the open outbound: one agreed in the contract (its
        name and price come from the terms), or an extra line (name and price given).
        With a catalogue ``part``, it comes from ``warehouse``: the handler reserves the
        quantity from that stock (``PartStock.reserve``, same transaction), and it leaves
        with the dispatch. Answers the line's number."""
        self._require(ContractStatus.APPROVED, act="given outbound lines")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidValueError(f"The quantity is between 1 and {MAX_QUANTITY}.", field="quantity")
        number = self._open_outbound_no()
        outbound = self.outbounds.get(number) or Outbound(number)
        if len(outbound.lines) >= MAX_OUTBOUND_LINES:
            raise InvalidValueError(f"An outbound has at most {MAX_OUTBOUND_LINES} accessory lines.", field="lines")
        if agreed_accessory_no is not None:
            agreed = self.terms.accessories if self.terms else ()
            if not 1 <= agreed_accessory_no <= len(agreed):
                raise InvalidValueError(f"Contract {self.number} agrees {len(agreed)} accessories; there is no "
                                        f"accessory {agreed_accessory_no}.", field="agreed_accessory_no")
            accessory = agreed[agreed_accessory_no - 1]
            out = sum(line.quantity for o in self.outbounds.values() if o.status != OutboundStatus.CANCELLED
                      for line in o.lines.values() if line.agreed_accessory_no == agreed_accessory_no)
            if out + quantity > accessory.quantity:
                raise AccessoryOverDeliveredError(
                    f"The contract agrees {accessory.quantity} × {accessory.name}; {out} already on outbounds. "
                    "Add the rest as an extra line if the customer buys more.", field="quantity")
            if name is not None or unit_price is not None:
                raise InvalidValueError("An agreed accessory takes its name and price from the contract; "
                                        "leave them out.", field="name")
            line_name, price = accessory.name, accessory.unit_price
        else:
            line_name = require_text(name or (part.name if part else ""), "name", 100)
            if unit_price is None and part is not None:
                unit_price = part.sale_price
            if unit_price is None:
                raise InvalidValueError("An extra line not in the contract needs its unit price (0.00 if free).",
                                        field="unit_price")
            price = require_money(unit_price, "unit_price")
        line_no = self.last_line_no + 1   # never given again, also after a removal
        if part is not None:
            assert warehouse is not None, "a stocked accessory names the warehouse it comes from"
            if warehouse.company_id != self.company_id or warehouse.kind == WarehouseKind.MOBILE:
                raise WarehouseNotUsableError(f"Accessories of contract {self.number} come from a main or parts "
                                              "warehouse of its own company.", field="warehouse_id")
        self._record(self.AccessoryOutboundLineAdded, ctx, self.company_id, outbound_no=number,
                     line=OutboundLine(line_no, line_name, quantity, price, agreed_accessory_no,
                                       part.id if part else None, warehouse.id if warehouse else None))
        return line_no

    def remove_accessory_outbound_line(self, ctx: Context, line_no: int) -> OutboundLine:
        """Removes a line of the open outbound and answers it: for a stocked part (its
        ``part_id`` and ``warehouse_id``) the handler releases the line's quantity from
        that stock (``PartStock.release``)."""
        self._require(ContractStatus.APPROVED, act="changed")
        outbound = next((o for o in self.outbounds.values() if line_no in o.lines), None)
        if outbound is None:
            raise NotFoundError(f"Contract {self.number} has no outbound line {line_no}.",
                                code="outbound-line-not-found")
        self._require_open(outbound.number, "changed")
        line = outbound.lines[line_no]
        self._record(self.AccessoryOutboundLineRemoved, ctx, self.company_id, outbound_no=outbound.number,
                     line_no=line_no)
        return line

    def review_outbound(self, ctx: Context, outbound_no: int) -> None:
        self._require(ContractStatus.APPROVED, act="reviewed")
        outbound = self._require_open(outbound_no, "reviewed")
        if not outbound.serials and not outbound.lines:
            raise OutboundStateError(f"Outbound {outbound_no} of contract {self.number} is empty; pick a machine "
                                     "or add a line first.", state=str(outbound.status))
        self._record(self.OutboundReviewed, ctx, self.company_id, outbound_no=outbound_no,
                     serial_numbers=tuple(sorted(outbound.serials)), line_nos=tuple(sorted(outbound.lines)))

    def return_outbound(self, ctx: Context, outbound_no: int) -> None:
        outbound = self._get_outbound(outbound_no)
        if outbound.status != OutboundStatus.REVIEWED:
            raise OutboundStateError(f"Outbound {outbound_no} of contract {self.number} is {outbound.status}; only "
                                     "a reviewed outbound waiting for dispatch can be returned.",
                                     state=str(outbound.status))
        require_text(ctx.reason or "", "reason", 500)
        self._record(self.OutboundReturned, ctx, self.company_id, outbound_no=outbound_no)

    def dispatch(self, ctx: Context, outbound_no: int) -> OutboundDispatch:
        """出库发车: the reviewed outbound leaves with every machine on it. Answers what the
        handler sends out with it: each unit (``MachineUnit.dispatch``) and each stocked
        accessory line from its warehouse (``PartStock.issue``)."""
        self._require(ContractStatus.APPROVED, act="dispatched")
        outbound = self._get_outbound(outbound_no)
        if outbound.status != OutboundStatus.REVIEWED:
            hint = "finance reviews it first" if outbound.status == OutboundStatus.OPEN else "nothing is left to send"
            raise OutboundStateError(f"Outbound {outbound_no} of contract {self.number} is {outbound.status}; "
                                     f"{hint}.", state=str(outbound.status))
        serials = tuple(sorted(outbound.serials))
        self._record(self.OutboundDispatched, ctx, self.company_id, outbound_no=outbound_no, serial_numbers=serials)
        return OutboundDispatch(outbound_no, serials, tuple(self._stocked(outbound)))

    def swap_machine(self, ctx: Context, old: MachineFacts, new: MachineFacts, new_model: MachineModel,
                     line_models: Mapping[UUID, MachineModel], back_to: Warehouse) -> None:
        """销售换机: ``new`` takes the dispatched ``old``'s place on the contract's documents;
        ``old`` comes back to stock in ``back_to``. The handler then swaps the units
        themselves (``MachineUnit.swap_in``, then ``swap_out``), all in one transaction."""
        self._require(ContractStatus.APPROVED, act="given a swap")
        pick = self._pick(old.serial_number)
        if not pick.dispatched:
            raise OutboundStateError(f"Machine {old.serial_number} has not been dispatched; release it and pick "
                                     "another instead of swapping.", state=str(OutboundStatus.OPEN))
        require_text(ctx.reason or "", "reason", 500)
        if new.company_id != self.company_id:
            raise MachineDoesNotFitContractError(
                f"Machine {new.serial_number} is in another member company's stock; transfer it to the "
                "contract's company first.", serial_number=new.serial_number)
        line = self.lines[pick.line_no - 1]
        same_type = line_models.get(line.model_id)
        if new.model_id != line.model_id and not (
                line.substitute_allowed and same_type is not None
                and same_type.machine_type == new_model.machine_type):
            raise MachineDoesNotFitContractError(
                f"Machine {new.serial_number} is a {new.model_code}; line {pick.line_no} of contract {self.number} "
                f"sells {line.model_code}.", serial_number=new.serial_number)
        if back_to.company_id != old.company_id or not back_to.holds_machines:
            raise WarehouseCannotHoldMachinesError(
                f"Machine {old.serial_number} comes back to a main warehouse of its own company; "
                f"{back_to.code} is not one.", field="return_warehouse_id")
        self._record(self.MachineSwapped, ctx, self.company_id, swap_no=self.swaps + 1,
                     outbound_no=pick.outbound_no, line_no=pick.line_no, old_machine_id=old.id,
                     old_serial=old.serial_number, new_machine_id=new.id, new_serial=new.serial_number,
                     new_model_code=new.model_code)

    def _pick(self, serial: str) -> Pick:
        pick = self.picks.get(serial)
        if pick is None:
            raise MachineNotOnContractError(f"Machine {serial} is not on contract {self.number}.",
                                            serial_number=serial)
        return pick

    def _get_outbound(self, number: int) -> Outbound:
        outbound = self.outbounds.get(number)
        if outbound is None:
            raise NotFoundError(f"Contract {self.number} has no outbound {number}.", code="outbound-not-found")
        return outbound

    def _require_open(self, number: int, act: str) -> Outbound:
        outbound = self._get_outbound(number)
        if outbound.status != OutboundStatus.OPEN:
            hint = (" Ask finance to return it first." if outbound.status == OutboundStatus.REVIEWED else "")
            raise OutboundStateError(f"Outbound {number} of contract {self.number} is {outbound.status}; it cannot "
                                     f"be {act}.{hint}", state=str(outbound.status))
        return outbound
