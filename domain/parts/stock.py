"""Stock of one part in one warehouse (``PartStock``): on hand, reserved per outbound and
pending inbound per document.

Part of ``domain.parts``: the aggregates and the values their state and events hold keep
``__module__ = "domain.parts"``, the module of their stored topics (see the package's ``__init__``).
"""

from __future__ import annotations

from uuid import UUID

from domain import ids
from domain.base import Context, DealerAggregate
from domain.organisation import Warehouse
from domain.parts.catalogue import Part
from domain.parts.documents import DocumentRef, require_quantity
from domain.parts.errors import InsufficientPartStockError, PartsDocumentStateError


# ---------------------------------------------------------------- stock of a part in a warehouse
class PartStock(DealerAggregate):
    """One part in one warehouse: on hand, reserved for outbounds not yet shipped, and
    pending inbound (ordered, or shipped to this mobile warehouse and not yet confirmed).
    Reservations and pending inbound are kept per document, so only the document that
    made them can use them up."""

    __module__ = "domain.parts"

    class Opened(DealerAggregate.Created):
        part_id: UUID
        part_no: str
        warehouse_id: UUID

        def apply(self, stock: PartStock) -> None:
            stock.part_id = self.part_id
            stock.part_no = self.part_no
            stock.warehouse_id = self.warehouse_id
            stock.company_id = self.company_id
            stock.on_hand = 0
            stock.reserved_for = {}
            stock.expected_from = {}

    class InboundExpected(DealerAggregate.Event):
        """待入库: ordered on a purchase order, or shipped here from another warehouse."""

        quantity: int
        document: DocumentRef
        from_warehouse_id: UUID | None

        def apply(self, stock: PartStock) -> None:
            key = stock_key(self.document)
            stock.expected_from[key] = stock.expected_from.get(key, 0) + self.quantity

    class Received(DealerAggregate.Event):
        """入库: on hand grows; what the document had announced is no longer pending."""

        quantity: int
        document: DocumentRef

        def apply(self, stock: PartStock) -> None:
            stock.on_hand += self.quantity
            key = stock_key(self.document)
            left = stock.expected_from.get(key, 0) - self.quantity
            if left > 0:
                stock.expected_from[key] = left
            else:
                stock.expected_from.pop(key, None)

    class Reserved(DealerAggregate.Event):
        """Held for an outbound that has not left yet."""

        quantity: int
        document: DocumentRef

        def apply(self, stock: PartStock) -> None:
            key = stock_key(self.document)
            stock.reserved_for[key] = stock.reserved_for.get(key, 0) + self.quantity

    class ReservationReleased(DealerAggregate.Event):
        quantity: int
        document: DocumentRef

        def apply(self, stock: PartStock) -> None:
            stock._unreserve(self.document, self.quantity)

    class Issued(DealerAggregate.Event):
        """出库: left the warehouse under the document (a customer's shipment, a van's
        delivery, a contract's accessories), from what the document had reserved."""

        quantity: int
        document: DocumentRef
        to_warehouse_id: UUID | None

        def apply(self, stock: PartStock) -> None:
            stock.on_hand -= self.quantity
            stock._unreserve(self.document, self.quantity)

    class Consumed(DealerAggregate.Event):
        """Used on a work order (from a technician's mobile warehouse)."""

        quantity: int
        document: DocumentRef

        def apply(self, stock: PartStock) -> None:
            stock.on_hand -= self.quantity

    def _unreserve(self, document: DocumentRef, quantity: int) -> None:
        key = stock_key(document)
        left = self.reserved_for.get(key, 0) - quantity
        if left > 0:
            self.reserved_for[key] = left
        else:
            self.reserved_for.pop(key, None)

    @classmethod
    def open(cls, ctx: Context, part: Part, warehouse: Warehouse) -> PartStock:
        return cls._start(cls.Opened, ids.part_stock_id(part.id, warehouse.id), ctx, warehouse.company_id,
                          part_id=part.id, part_no=part.part_no, warehouse_id=warehouse.id)

    def refuse_second_creation(self) -> None:
        return None   # two documents opened the same stock at once: the command runs again

    # ------------------------------------------------------------ figures
    @property
    def reserved(self) -> int:
        return sum(self.reserved_for.values())

    @property
    def pending_in(self) -> int:
        return sum(self.expected_from.values())

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def reserved_by(self, document: DocumentRef) -> int:
        return self.reserved_for.get(stock_key(document), 0)

    def expected_by(self, document: DocumentRef) -> int:
        return self.expected_from.get(stock_key(document), 0)

    # ------------------------------------------------------------ movements
    def expect(self, ctx: Context, quantity: int, document: DocumentRef, from_warehouse_id: UUID | None = None) -> None:
        self._record(self.InboundExpected, ctx, self.company_id, quantity=require_quantity(quantity, "quantity"),
                     document=document, from_warehouse_id=from_warehouse_id)

    def receive(self, ctx: Context, quantity: int, document: DocumentRef) -> None:
        self._record(self.Received, ctx, self.company_id, quantity=require_quantity(quantity, "quantity"),
                     document=document)

    def check_reserve(self, quantity: int, warehouse_code: str) -> int:
        quantity = require_quantity(quantity, "quantity")
        if quantity > self.available:
            raise InsufficientPartStockError(
                f"Warehouse {warehouse_code} has {self.available} of part {self.part_no} free "
                f"({self.on_hand} on hand, {self.reserved} reserved); {quantity} cannot be taken.",
                part_no=self.part_no, available=self.available, requested=quantity)
        return quantity

    def reserve(self, ctx: Context, quantity: int, document: DocumentRef, warehouse_code: str) -> None:
        quantity = self.check_reserve(quantity, warehouse_code)
        self._record(self.Reserved, ctx, self.company_id, quantity=quantity, document=document)

    def release(self, ctx: Context, document: DocumentRef, quantity: int | None = None) -> None:
        """Gives back ``quantity`` (all, when None) of what the document holds here."""
        held = self.reserved_by(document)
        quantity = held if quantity is None else min(quantity, held)
        if quantity:
            self._record(self.ReservationReleased, ctx, self.company_id, quantity=quantity, document=document)

    def issue(self, ctx: Context, document: DocumentRef, quantity: int | None = None,
              to_warehouse_id: UUID | None = None) -> int:
        """Sends out ``quantity`` (all, when None) of what the document reserved here."""
        held = self.reserved_by(document)
        quantity = held if quantity is None else quantity
        if not 0 < quantity <= held <= self.on_hand:
            # Only when another command already shipped it (the caller read it before that).
            raise PartsDocumentStateError(f"{document.number} holds {held} of part {self.part_no} here; "
                                          f"{quantity} cannot leave under it. Reload it: it may have been shipped.",
                                          state="shipped")
        self._record(self.Issued, ctx, self.company_id, quantity=quantity, document=document,
                     to_warehouse_id=to_warehouse_id)
        return quantity

    def check_consume(self, quantity: int, technician: str, field: str = "quantity") -> int:
        quantity = require_quantity(quantity, field)
        if quantity > self.available:
            raise InsufficientPartStockError(
                f"{technician} holds {self.available} of part {self.part_no} free in the mobile warehouse; "
                f"{quantity} cannot be used. Request the missing parts from the work order.",
                part_no=self.part_no, available=self.available, requested=quantity)
        return quantity

    def consume(self, ctx: Context, quantity: int, document: DocumentRef, technician: str) -> None:
        quantity = self.check_consume(quantity, technician)
        self._record(self.Consumed, ctx, self.company_id, quantity=quantity, document=document)


def stock_key(document: DocumentRef) -> str:
    return f"{document.kind}:{document.document_id}"
