"""Work orders (工单), minimal: ``WorkOrder``, a job on a customer's machine and the parts it
used from the technician's mobile warehouse.

Part of ``domain.parts``: the aggregates and the values their state and events hold keep
``__module__ = "domain.parts"``, the module of their stored topics (see the package's ``__init__``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.base import Context, DealerAggregate, require_key, require_text
from domain.organisation import Company, Warehouse
from domain.parts.catalogue import Part
from domain.parts.documents import (DocumentKind, DocumentRef, _no_repeats, _require_lines, _warehouse_of,
                                    document_number)
from domain.parts.errors import PartsDocumentStateError
from domain.parts.stock import PartStock


class JobType(StrEnum):
    __module__ = "domain.parts"
    MAINTENANCE = "maintenance"
    REPAIR = "repair"
    INSPECTION = "inspection"
    WARRANTY = "warranty"


@dataclass(frozen=True)
class ConsumedLine:
    __module__ = "domain.parts"
    part_id: UUID
    part_no: str
    quantity: int


class WorkOrder(DealerAggregate):
    """工单, minimal: a job on a customer's machine by a technician, and the parts it used
    from the technician's mobile warehouse."""

    __module__ = "domain.parts"

    def refuse_second_creation(self) -> None:
        return None   # a new id (uuid4) never collides: a failed save raced on the stock it moved; run again

    class Opened(DealerAggregate.Created):
        number: str
        customer_id: UUID | None
        customer_name: str
        serial_number: str
        job_type: JobType
        technician_id: UUID | None
        mobile_warehouse_id: UUID

        def apply(self, order: WorkOrder) -> None:
            order.company_id = self.company_id
            order.number = self.number
            order.technician_id = self.technician_id
            order.mobile_warehouse_id = self.mobile_warehouse_id
            order.consumed = {}
            order.completed = False

    class PartsConsumed(DealerAggregate.Event):
        lines: tuple[ConsumedLine, ...]

        def apply(self, order: WorkOrder) -> None:
            for line in self.lines:
                order.consumed[line.part_id] = order.consumed.get(line.part_id, 0) + line.quantity

    class Completed(DealerAggregate.Event):
        def apply(self, order: WorkOrder) -> None:
            order.completed = True

    @property
    def ref(self) -> DocumentRef:
        return DocumentRef(DocumentKind.WORK_ORDER, self.id, self.number)

    @classmethod
    def open(cls, ctx: Context, order_id: UUID, company: Company, mobile: Warehouse, customer_id: UUID | None,
             customer_name: str, serial_number: str, job_type: JobType) -> WorkOrder:
        _warehouse_of(company.id, mobile, mobile=True, field="mobile_warehouse_id")
        return cls._start(cls.Opened, order_id, ctx, company.id, number=document_number("WO", company, ctx, order_id),
                          customer_id=customer_id, customer_name=require_text(customer_name, "customer_name", 200),
                          serial_number=require_key(serial_number, "serial_number", 40), job_type=JobType(job_type),
                          technician_id=mobile.technician_id, mobile_warehouse_id=mobile.id)

    def consume(self, ctx: Context, lines: Sequence[tuple[Part, int]], stocks: Mapping[UUID, PartStock],
                technician: str) -> None:
        if self.completed:
            raise PartsDocumentStateError(f"Work order {self.number} is completed; it uses no more parts.",
                                          state="completed")
        _require_lines(lines)
        _no_repeats([p.id for p, _ in lines], [p.part_no for p, _ in lines])
        # Every line first: a part short refuses the consumption before any stock moves.
        consumed = [ConsumedLine(part.id, part.part_no, stocks[part.id].check_consume(quantity, technician,
                                                                                     f"lines[{n}].quantity"))
                    for n, (part, quantity) in enumerate(lines, 1)]
        for line in consumed:
            stocks[line.part_id].consume(ctx, line.quantity, self.ref, technician)
        self._record(self.PartsConsumed, ctx, self.company_id, lines=tuple(consumed))

    def complete(self, ctx: Context) -> None:
        if self.completed:
            raise PartsDocumentStateError(f"Work order {self.number} is already completed.", state="completed")
        self._record(self.Completed, ctx, self.company_id)
