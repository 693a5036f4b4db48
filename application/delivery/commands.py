"""Commands of the delivery of contracts (交机出库) and their answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from msgspec import Meta

from application.fields import PLAIN, LineNo, Money, Reason, Serial
from application.handling import Answer, Command
from domain.contracts import OutboundStatus


# ---------------------------------------------------------------- answers
class DeliveryOutboundState(msgspec.Struct, kw_only=True):
    """Where an outbound of the contract stands."""

    outbound_no: int
    status: OutboundStatus
    serial_numbers: list[str]
    line_nos: list[int]


class DeliveryMachineState(msgspec.Struct, kw_only=True):
    """A machine picked for the contract and whether it went out."""

    serial_number: str
    line_no: int
    outbound_no: int
    dispatched: bool


class DeliverySummary(Answer):
    """What a command on the delivery answers: where each outbound and machine stands."""

    contract_id: UUID
    number: str
    outbounds: list[DeliveryOutboundState]
    machines: list[DeliveryMachineState]
    delivery_complete: bool


class AccessoryOutboundLineAdded(DeliverySummary):
    """The delivery after an accessory line was added, and the number of that line."""

    line_no: int


# ---------------------------------------------------------------- machines
class PickMachine(Command):
    """Pick a machine by its serial number (推选机号) for a line of the contract: the unit is
    reserved for this contract on its open outbound, and nobody else can pick it."""

    answer_type: ClassVar = DeliverySummary
    contract_id: UUID
    serial_number: Serial
    line_no: LineNo | None = None


class ReleaseMachine(Command):
    """Undo a pick not yet dispatched, with the reason: the unit is back in stock and can be picked again."""

    answer_type: ClassVar = DeliverySummary
    contract_id: UUID
    serial_number: Serial
    reason: Reason


class SwapMachine(Command):
    """Sales swap (销售换机): a unit in stock replaces a dispatched one, which comes back to stock
    (to its warehouse, or to ``return_warehouse_id``). The contract and both units change
    together or not at all."""

    answer_type: ClassVar = DeliverySummary
    contract_id: UUID
    old_serial: Serial
    new_serial: Serial
    reason: Reason
    return_warehouse_id: UUID | None = None


# ---------------------------------------------------------------- the outbound
class AddAccessoryOutboundLine(Command):
    """Add an accessory line to the contract's open outbound: an agreed accessory of the
    contract, or an extra line. With a catalogue part and the warehouse it comes from, its
    parts stock is reserved now and drawn down at dispatch."""

    answer_type: ClassVar = AccessoryOutboundLineAdded
    contract_id: UUID
    quantity: Annotated[int, Meta(ge=1, le=1000)]
    agreed_accessory_no: Annotated[int, Meta(ge=1, le=1000, description=(
        "The contract's agreed accessory (1 = the first); its name and price come from the contract."))] | None = None
    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN, description=(
        "An extra line not in the contract: what goes out."))] | None = None
    unit_price: Money | None = None
    part_id: Annotated[UUID, Meta(description=(
        "A catalogue part: its stock in warehouse_id is reserved now and drawn down at dispatch. An extra line "
        "takes the part's name and sale price unless given."))] | None = None
    warehouse_id: Annotated[UUID, Meta(description="The main or parts warehouse the part comes from.")] | None = None

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        # A line without a stocked part was fingerprinted without part_id and warehouse_id.
        request: dict[str, Any] = {"contract_id": self.contract_id, "quantity": self.quantity,
                                   "agreed_accessory_no": self.agreed_accessory_no, "name": self.name,
                                   "unit_price": self.unit_price}
        if self.part_id or self.warehouse_id:
            request["part_id"] = self.part_id
            request["warehouse_id"] = self.warehouse_id
        return request


class RemoveAccessoryOutboundLine(Command):
    """Remove an accessory line from an outbound not yet reviewed; a stocked part's reservation is released."""

    answer_type: ClassVar = DeliverySummary
    contract_id: UUID
    line_no: int


class ReviewOutbound(Command):
    """Finance reviews the outbound (出库单财务审核); it may then be dispatched."""

    answer_type: ClassVar = DeliverySummary
    contract_id: UUID
    outbound_no: LineNo


class ReturnOutbound(Command):
    """Finance returns a reviewed outbound to be changed, with the reason: it is open again."""

    answer_type: ClassVar = DeliverySummary
    contract_id: UUID
    outbound_no: LineNo
    reason: Reason


class DispatchMachine(Command):
    """Dispatch a reviewed outbound (出库发车): its machines leave and are out (sold), its
    stocked accessories are drawn down, all in the contract's transaction."""

    answer_type: ClassVar = DeliverySummary
    contract_id: UUID
    outbound_no: LineNo
