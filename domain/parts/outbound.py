"""The parts outbound (配件出库单): ``PartsOutbound`` tells the warehouse keeper to ship parts
to a customer or a technician's mobile warehouse, and reserves them meanwhile.

Part of ``domain.parts``: the aggregates and the values their state and events hold keep
``__module__ = "domain.parts"``, the module of their stored topics (see the package's ``__init__``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from uuid import UUID

from domain.base import Context, DealerAggregate
from domain.organisation import Company, Warehouse
from domain.parts.documents import DocumentKind, DocumentRef, PartLine, _warehouse_of, document_number
from domain.parts.errors import PartsDocumentStateError
from domain.parts.stock import PartStock


# ---------------------------------------------------------------- the parts outbound
class OutboundState(StrEnum):
    __module__ = "domain.parts"
    WAITING = "waiting"       # waits for the warehouse keeper
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class PartsOutbound(DealerAggregate):
    """配件出库单: tells the warehouse keeper to ship parts, to a customer (a parts sale)
    or to a technician's mobile warehouse (a request). Its parts are reserved from the
    moment it exists, so nobody else takes them."""

    __module__ = "domain.parts"

    def refuse_second_creation(self) -> None:
        return None   # a new id (uuid4) never collides: a failed save raced on the stock it moved; run again

    class Prepared(DealerAggregate.Created):
        number: str
        warehouse_id: UUID
        source: DocumentRef                  # the parts sale or the technician's request
        to_warehouse_id: UUID | None         # the mobile warehouse, for a request
        lines: tuple[PartLine, ...]

        def apply(self, outbound: PartsOutbound) -> None:
            outbound.company_id = self.company_id
            outbound.number = self.number
            outbound.warehouse_id = self.warehouse_id
            outbound.source = self.source
            outbound.to_warehouse_id = self.to_warehouse_id
            outbound.lines = self.lines
            outbound.state = OutboundState.WAITING

    class Shipped(DealerAggregate.Event):
        def apply(self, outbound: PartsOutbound) -> None:
            outbound.state = OutboundState.SHIPPED

    class Cancelled(DealerAggregate.Event):
        def apply(self, outbound: PartsOutbound) -> None:
            outbound.state = OutboundState.CANCELLED

    @property
    def ref(self) -> DocumentRef:
        return DocumentRef(DocumentKind.PARTS_OUTBOUND, self.id, self.number)

    @classmethod
    def prepare(cls, ctx: Context, outbound_id: UUID, company: Company, warehouse: Warehouse, source: DocumentRef,
                lines: tuple[PartLine, ...], stocks: Mapping[UUID, PartStock],
                to_warehouse: Warehouse | None = None) -> PartsOutbound:
        """Reserves each line from ``stocks`` (by part id, of ``warehouse``); refused when a
        part is short."""
        _warehouse_of(company.id, warehouse, mobile=False, field="warehouse_id")
        for line in lines:   # every line first: a short part refuses the outbound before anything is reserved
            stocks[line.part_id].check_reserve(line.quantity, warehouse.code)
        outbound = cls._start(cls.Prepared, outbound_id, ctx, company.id,
                              number=document_number("OUT", company, ctx, outbound_id), warehouse_id=warehouse.id,
                              source=source, to_warehouse_id=to_warehouse.id if to_warehouse else None, lines=lines)
        for line in lines:
            stocks[line.part_id].reserve(ctx, line.quantity, outbound.ref, warehouse.code)
        return outbound

    def ship(self, ctx: Context, stocks: Mapping[UUID, PartStock],
             destination: Mapping[UUID, PartStock] | None = None) -> None:
        """出库: what was reserved leaves; for a technician it is pending inbound in their
        mobile warehouse until they confirm receipt."""
        self._require_waiting("shipped")
        for line in self.lines:
            stocks[line.part_id].issue(ctx, self.ref, to_warehouse_id=self.to_warehouse_id)
            if destination is not None:
                destination[line.part_id].expect(ctx, line.quantity, self.ref, self.warehouse_id)
        self._record(self.Shipped, ctx, self.company_id)

    def cancel(self, ctx: Context, stocks: Mapping[UUID, PartStock]) -> None:
        self._require_waiting("cancelled")
        for line in self.lines:
            stocks[line.part_id].release(ctx, self.ref)
        self._record(self.Cancelled, ctx, self.company_id)

    def _require_waiting(self, act: str) -> None:
        if self.state != OutboundState.WAITING:
            raise PartsDocumentStateError(f"Parts outbound {self.number} is {self.state}; it cannot be {act}.",
                                          state=str(self.state))
