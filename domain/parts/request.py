"""Technicians' requests for parts (my parts, 紧急采购): ``PartsRequest`` and the path the
office chose to fill it.

Part of ``domain.parts``: the aggregates and the values their state and events hold keep
``__module__ = "domain.parts"``, the module of their stored topics (see the package's ``__init__``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from uuid import UUID

from domain.base import Context, DealerAggregate, InvalidValueError, require_text
from domain.organisation import Company, Warehouse, WarehouseKind
from domain.parts.documents import DocumentKind, DocumentRef, PartLine, _warehouse_of, document_number
from domain.parts.errors import NotYourMobileWarehouseError, PartsDocumentStateError, WarehouseNotUsableError
from domain.parts.outbound import PartsOutbound
from domain.parts.purchase import PurchaseOrder, ReceivedLine
from domain.parts.stock import PartStock
from domain.parts.work_order import WorkOrder


# ---------------------------------------------------------------- technicians
class RequestPath(StrEnum):
    """紧急采购: how the office handles a technician's request."""

    __module__ = "domain.parts"
    FROM_WAREHOUSE = "from_warehouse"                   # 1. match a warehouse → outbound → technician receives
    PURCHASE_TO_TECHNICIAN = "purchase_to_technician"   # 2. emergency purchase shipped straight to the technician
    PURCHASE_TO_WAREHOUSE = "purchase_to_warehouse"     # 3. emergency purchase → warehouse inbound → outbound


class RequestStatus(StrEnum):
    __module__ = "domain.parts"
    REQUESTED = "requested"      # waits for the office
    ORDERED = "ordered"          # an emergency purchase is on its way
    PREPARED = "prepared"        # an outbound waits for the warehouse keeper
    SHIPPED = "shipped"          # on its way to the technician
    RECEIVED = "received"        # the technician confirmed receipt


def check_technician(caller_id: UUID, may_act_for_others: bool, warehouse: Warehouse) -> None:
    """A technician acts on their own mobile warehouse only; the office on any it sees."""
    if warehouse.kind != WarehouseKind.MOBILE:
        raise WarehouseNotUsableError(f"Warehouse {warehouse.code} is not a technician's mobile warehouse.",
                                      field="mobile_warehouse_id")
    if not may_act_for_others and warehouse.technician_id != caller_id:
        raise NotYourMobileWarehouseError(f"Mobile warehouse {warehouse.code} is {warehouse.technician_name}'s; "
                                          "you act on your own mobile warehouse only.")


class PartsRequest(DealerAggregate):
    """A technician's request for parts ("my parts"), for a job or from a work order, and
    the path the office chose to fill it: each step is an event of the request."""

    __module__ = "domain.parts"

    def refuse_second_creation(self) -> None:
        return None   # a new id (uuid4) never collides: a failed save raced on the stock it moved; run again

    class Requested(DealerAggregate.Created):
        number: str
        technician_id: UUID | None
        mobile_warehouse_id: UUID
        lines: tuple[PartLine, ...]
        work_order_id: UUID | None
        work_order_number: str | None
        note: str | None

        def apply(self, request: PartsRequest) -> None:
            request.company_id = self.company_id
            request.number = self.number
            request.technician_id = self.technician_id
            request.mobile_warehouse_id = self.mobile_warehouse_id
            request.lines = self.lines
            request.path = None
            request.purchase_order_id = None
            request.outbounds = {}     # outbound id → prepared / shipped / confirmed
            request.received = {}      # request line → quantity confirmed in the van
            request._refresh()

    class Handled(DealerAggregate.Event):
        """The office chose the path: a warehouse's outbound, or an emergency purchase."""

        path: RequestPath
        warehouse_id: UUID | None
        purchase_order_id: UUID | None
        purchase_order_number: str | None
        outbound_id: UUID | None
        outbound_number: str | None

        def apply(self, request: PartsRequest) -> None:
            request.path = self.path
            request.purchase_order_id = self.purchase_order_id
            if self.outbound_id:
                request.outbounds[self.outbound_id] = "prepared"
            request._refresh()

    class OutboundPrepared(DealerAggregate.Event):
        """Part or all of the emergency purchase arrived at the warehouse; an outbound to
        the technician reserves what arrived (same command as the receipt)."""

        outbound_id: UUID
        outbound_number: str

        def apply(self, request: PartsRequest) -> None:
            request.outbounds[self.outbound_id] = "prepared"
            request._refresh()

    class Shipped(DealerAggregate.Event):
        outbound_id: UUID

        def apply(self, request: PartsRequest) -> None:
            request.outbounds[self.outbound_id] = "shipped"
            request._refresh()

    class ReceiptConfirmed(DealerAggregate.Event):
        """The technician confirmed what arrived in their mobile warehouse: the shipped
        outbounds named, or the emergency purchase shipped straight to them."""

        lines: tuple[ReceivedLine, ...]
        outbound_ids: tuple[UUID, ...]

        def apply(self, request: PartsRequest) -> None:
            for outbound_id in self.outbound_ids:
                request.outbounds[outbound_id] = "confirmed"
            for line in self.lines:
                request.received[line.line_no] = request.received.get(line.line_no, 0) + line.quantity
            request._refresh()

    def _refresh(self) -> None:
        states = set(self.outbounds.values())
        if self.received and all(self.received.get(line.line_no, 0) >= line.quantity for line in self.lines):
            self.status = RequestStatus.RECEIVED
        elif "shipped" in states:
            self.status = RequestStatus.SHIPPED
        elif "prepared" in states:
            self.status = RequestStatus.PREPARED
        else:
            self.status = RequestStatus.ORDERED if self.path else RequestStatus.REQUESTED

    @property
    def outbound_ids(self) -> tuple[UUID, ...]:
        return tuple(self.outbounds)

    @property
    def shipped_outbound_ids(self) -> tuple[UUID, ...]:
        """Outbounds on their way to the van, not yet confirmed."""
        return tuple(o for o, state in self.outbounds.items() if state == "shipped")

    @property
    def ref(self) -> DocumentRef:
        return DocumentRef(DocumentKind.PARTS_REQUEST, self.id, self.number)

    @classmethod
    def request(cls, ctx: Context, request_id: UUID, company: Company, mobile: Warehouse,
                lines: tuple[PartLine, ...], work_order: WorkOrder | None = None, note: str | None = None) -> PartsRequest:
        _warehouse_of(company.id, mobile, mobile=True, field="mobile_warehouse_id")
        if work_order is not None and work_order.mobile_warehouse_id != mobile.id:
            raise InvalidValueError(f"Work order {work_order.number} draws on another mobile warehouse.",
                                    field="work_order_id")
        if work_order is not None and work_order.completed:
            raise PartsDocumentStateError(f"Work order {work_order.number} is completed.", state="completed")
        return cls._start(cls.Requested, request_id, ctx, company.id,
                          number=document_number("PR", company, ctx, request_id),
                          technician_id=mobile.technician_id, mobile_warehouse_id=mobile.id, lines=lines,
                          work_order_id=work_order.id if work_order else None,
                          work_order_number=work_order.number if work_order else None,
                          note=require_text(note, "note", 500) if note else None)

    def _require(self, status: RequestStatus, act: str) -> None:
        if self.status != status:
            raise PartsDocumentStateError(f"Parts request {self.number} is {self.status}; it cannot be {act} now.",
                                          state=str(self.status))

    def handle_from_warehouse(self, ctx: Context, outbound: PartsOutbound) -> None:
        self._require(RequestStatus.REQUESTED, "handled")
        self._record(self.Handled, ctx, self.company_id, path=RequestPath.FROM_WAREHOUSE,
                     warehouse_id=outbound.warehouse_id, purchase_order_id=None, purchase_order_number=None,
                     outbound_id=outbound.id, outbound_number=outbound.number)

    def handle_by_purchase(self, ctx: Context, path: RequestPath, order: PurchaseOrder) -> None:
        self._require(RequestStatus.REQUESTED, "handled")
        self._record(self.Handled, ctx, self.company_id, path=path, warehouse_id=order.warehouse_id,
                     purchase_order_id=order.id, purchase_order_number=order.number, outbound_id=None,
                     outbound_number=None)

    def purchase_arrived(self, ctx: Context, outbound: PartsOutbound) -> None:
        if self.path != RequestPath.PURCHASE_TO_WAREHOUSE or self.status == RequestStatus.RECEIVED:
            raise PartsDocumentStateError(f"Parts request {self.number} waits for no purchase at a warehouse.",
                                          state=str(self.status))
        self._record(self.OutboundPrepared, ctx, self.company_id, outbound_id=outbound.id,
                     outbound_number=outbound.number)

    def shipped(self, ctx: Context, outbound: PartsOutbound) -> None:
        self._record(self.Shipped, ctx, self.company_id, outbound_id=outbound.id)

    def confirm_receipt(self, ctx: Context, mobile_stocks: Mapping[UUID, PartStock],
                        outbounds: Sequence[PartsOutbound] = (), order: PurchaseOrder | None = None) -> None:
        """The technician confirms what came: every shipped outbound not yet confirmed
        (``outbounds``, as loaded for this command), or (emergency purchase shipped straight
        to them) the purchase order's outstanding lines."""
        by_part: dict[UUID, int] = {}
        confirmed: tuple[UUID, ...] = ()
        if self.path == RequestPath.PURCHASE_TO_TECHNICIAN:
            self._require(RequestStatus.ORDERED, "confirmed as received")
            assert order is not None and order.id == self.purchase_order_id
            quantities = order.outstanding_quantities()
            order.receive(ctx, quantities, mobile_stocks)
            for n, q in quantities.items():
                by_part[order.lines[n].part_id] = q
        else:
            on_the_way = [o for o in outbounds if self.outbounds.get(o.id) == "shipped"]
            if not on_the_way:
                raise PartsDocumentStateError(f"Nothing of parts request {self.number} has been shipped to the "
                                              f"van yet ({self.status}); confirm once it arrives.",
                                              state=str(self.status))
            for outbound in on_the_way:
                for line in outbound.lines:
                    stock = mobile_stocks[line.part_id]
                    stock.receive(ctx, stock.expected_by(outbound.ref), outbound.ref)
                    by_part[line.part_id] = by_part.get(line.part_id, 0) + line.quantity
            confirmed = tuple(o.id for o in on_the_way)
        received = tuple(ReceivedLine(line.line_no, by_part[line.part_id]) for line in self.lines
                         if by_part.get(line.part_id))
        self._record(self.ReceiptConfirmed, ctx, self.company_id, lines=received, outbound_ids=confirmed)
