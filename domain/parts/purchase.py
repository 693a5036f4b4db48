"""Purchase and receiving (配件采购单): ``PurchaseOrder``, placed into a warehouse and received
part or whole.

Part of ``domain.parts``: the aggregates and the values their state and events hold keep
``__module__ = "domain.parts"``, the module of their stored topics (see the package's ``__init__``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.base import Context, DealerAggregate, InvalidValueError, require_text
from domain.money import ZERO
from domain.organisation import Company, Warehouse, WarehouseKind
from domain.parts.documents import (DocumentKind, DocumentRef, Numbered, PartLine, _warehouse_of, document_number,
                                    require_quantity)
from domain.parts.errors import OverReceiptError, WarehouseNotUsableError
from domain.parts.stock import PartStock



# ---------------------------------------------------------------- purchase
class PurchaseStatus(StrEnum):
    __module__ = "domain.parts"
    OPEN = "open"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"


@dataclass(frozen=True)
class ReceivedLine:
    __module__ = "domain.parts"
    line_no: int
    quantity: int


class PurchaseOrder(DealerAggregate):
    """配件采购单: ordered from a supplier into one warehouse (a technician's mobile
    warehouse for an emergency purchase shipped straight to them)."""

    __module__ = "domain.parts"

    def refuse_second_creation(self) -> None:
        return None   # a new id (uuid4) never collides: a failed save raced on the stock it moved; run again

    class Placed(DealerAggregate.Created):
        number: str
        supplier: str
        warehouse_id: UUID
        lines: tuple[PartLine, ...]
        request_id: UUID | None          # the technician's request this emergency purchase serves
        request_number: str | None

        def apply(self, order: PurchaseOrder) -> None:
            order.company_id = self.company_id
            order.number = self.number
            order.supplier = self.supplier
            order.warehouse_id = self.warehouse_id
            order.lines = {line.line_no: line for line in self.lines}
            order.received = {line.line_no: 0 for line in self.lines}
            order.request_id = self.request_id
            order.receipts = 0

    class Received(DealerAggregate.Event):
        receipt_no: int
        lines: tuple[ReceivedLine, ...]

        def apply(self, order: PurchaseOrder) -> None:
            order.receipts = self.receipt_no
            for line in self.lines:
                order.received[line.line_no] += line.quantity

    @property
    def ref(self) -> DocumentRef:
        return DocumentRef(DocumentKind.PURCHASE_ORDER, self.id, self.number)

    @property
    def status(self) -> PurchaseStatus:
        if all(self.received[n] >= line.quantity for n, line in self.lines.items()):
            return PurchaseStatus.RECEIVED
        return PurchaseStatus.PARTLY_RECEIVED if any(self.received.values()) else PurchaseStatus.OPEN

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines.values()), ZERO)

    def outstanding(self, line_no: int) -> int:
        return self.lines[line_no].quantity - self.received[line_no]

    @classmethod
    def place(cls, ctx: Context, order_id: UUID, company: Company, supplier: str, warehouse: Warehouse,
              lines: tuple[PartLine, ...], stocks: Mapping[UUID, PartStock],
              request: Numbered | None = None) -> PurchaseOrder:
        """Places the order and records its pending inbound on each line's stock (``stocks``
        by part id, of ``warehouse``); ``request``, the technician's parts request it serves."""
        _warehouse_of(company.id, warehouse, mobile=None, field="warehouse_id")
        if warehouse.kind == WarehouseKind.MOBILE and request is None:
            raise WarehouseNotUsableError("Only an emergency purchase for a technician's request goes straight to "
                                          "a mobile warehouse.", field="warehouse_id")
        order = cls._start(cls.Placed, order_id, ctx, company.id,
                           number=document_number("PO", company, ctx, order_id),
                           supplier=require_text(supplier, "supplier", 200), warehouse_id=warehouse.id, lines=lines,
                           request_id=request.id if request else None,
                           request_number=request.number if request else None)
        for line in lines:
            stocks[line.part_id].expect(ctx, line.quantity, order.ref)
        return order

    def check_receipt(self, quantities: Mapping[int, int]) -> tuple[ReceivedLine, ...]:
        if not quantities:
            raise InvalidValueError("Say what arrived: at least one line and its quantity.", field="lines")
        received = []
        for line_no, quantity in sorted(quantities.items()):
            if line_no not in self.lines:
                raise InvalidValueError(f"Purchase order {self.number} has no line {line_no}.", field="lines")
            quantity = require_quantity(quantity, f"lines[{line_no}].quantity")
            line = self.lines[line_no]
            if quantity > self.outstanding(line_no):
                raise OverReceiptError(
                    f"Line {line_no} of purchase order {self.number} ordered {line.quantity} × {line.part_no}; "
                    f"{self.received[line_no]} already received, so at most {self.outstanding(line_no)} more can "
                    f"be received, not {quantity}.", line_no=line_no, outstanding=self.outstanding(line_no))
            received.append(ReceivedLine(line_no, quantity))
        return tuple(received)

    def receive(self, ctx: Context, quantities: Mapping[int, int], stocks: Mapping[UUID, PartStock]) -> tuple[
            ReceivedLine, ...]:
        """入库 of what arrived (line number → quantity), part or whole; over-receipt is refused."""
        received = self.check_receipt(quantities)
        for line in received:
            stocks[self.lines[line.line_no].part_id].receive(ctx, line.quantity, self.ref)
        self._record(self.Received, ctx, self.company_id, receipt_no=self.receipts + 1, lines=received)
        return received

    def outstanding_quantities(self) -> dict[int, int]:
        return {n: self.outstanding(n) for n in self.lines if self.outstanding(n) > 0}
