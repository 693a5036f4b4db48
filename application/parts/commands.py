"""Commands of parts (配件) and their answers: catalogue, purchase and receiving, quotes,
sales and their receipts, outbounds, technicians' requests and work orders.

Several requests were fingerprinted before they became types with their lines as arrays
(``[part_id, quantity, unit_price]``) and their per-line maps as objects keyed by line
number (``{"1": 5}``); those commands keep that form (stored command records hold its hash).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from msgspec import Meta

from application.fields import PLAIN, LineNo, Money, Name, Reason, Serial
from application.handling import Answer, Command
from domain.parts import (
    DocumentKind,
    JobType,
    OutboundState,
    PartCategory,
    PurchaseStatus,
    QuoteStatus,
    RequestPath,
    RequestStatus,
    SaleChannel,
    SaleStatus,
)
from domain.receivables import ReceiptMethod

PartNo = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-/ ]+$",
                             description="Part number (配件编号); case and spaces are ignored.")]
Quantity = Annotated[int, Meta(ge=1, le=100_000, description="Whole units, in the part's unit.")]
CouponCode = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$",
                                 description="Coupon code; case and spaces are ignored.")]


# ---------------------------------------------------------------- values commands carry
class PartLineRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A part, a quantity and (where left out, the catalogue's) unit price."""

    part_id: UUID
    quantity: Quantity
    unit_price: Annotated[Money, Meta(description="Leave out for the catalogue's price.")] | None = None


class PartQuantityRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    part_id: UUID
    quantity: Quantity


class ReceivedLineRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    line_no: LineNo
    quantity: Quantity


class LinePriceRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    line_no: LineNo
    unit_price: Money


class CouponPart(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: CouponCode
    amount: Money


def _line_arrays(lines: list[Any], *names: str) -> list[list[Any]]:
    return [[getattr(line, name) for name in names] for line in lines]


# ---------------------------------------------------------------- answers
class PartsLine(msgspec.Struct, kw_only=True):
    line_no: int
    part_id: UUID
    part_no: str
    name: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


class PurchaseOrderLine(PartsLine, kw_only=True):
    received: int


class ReceivedQuantity(msgspec.Struct, kw_only=True):
    line_no: int
    quantity: int


class OutboundSource(msgspec.Struct, kw_only=True):
    kind: DocumentKind
    id: UUID
    number: str


class ConsumedPart(msgspec.Struct, kw_only=True):
    part_id: UUID
    quantity: int


class PartSummary(Answer):
    """A part of the catalogue after the command."""

    part_id: UUID
    part_no: str
    name: str
    unit: str
    category: PartCategory
    purchase_price: Decimal
    sale_price: Decimal


class PurchaseOrderSummary(Answer):
    order_id: UUID
    number: str
    status: PurchaseStatus
    warehouse_id: UUID
    amount: Decimal
    lines: list[PurchaseOrderLine]


class PurchaseReceived(PurchaseOrderSummary, omit_defaults=True, kw_only=True):
    """The order after 入库, what was received, and (an emergency purchase for a technician's
    request) the outbound that reserves it for their mobile warehouse."""

    outbound_id: UUID | None = None
    outbound_number: str | None = None
    received: list[ReceivedQuantity]


class PartsQuoteSummary(Answer):
    quote_id: UUID
    number: str
    status: QuoteStatus
    customer_name: str
    valid_until: date
    total: Decimal
    lines: list[PartsLine]


class PartsSaleSummary(Answer):
    sale_id: UUID
    number: str
    status: SaleStatus
    channel: SaleChannel
    total: Decimal
    receivable: Decimal
    received: Decimal
    outstanding: Decimal
    outbound_id: UUID | None


class PartsSaleSubmitted(PartsSaleSummary, kw_only=True):
    outbound_number: str


class PartsSaleReceiptRecorded(PartsSaleSummary, kw_only=True):
    receipt_id: UUID


class PartsOutboundSummary(Answer):
    outbound_id: UUID
    number: str
    state: OutboundState
    warehouse_id: UUID
    to_warehouse_id: UUID | None
    source: OutboundSource
    lines: list[PartsLine]


class PartsRequestSummary(Answer):
    request_id: UUID
    number: str
    status: RequestStatus
    path: RequestPath | None
    mobile_warehouse_id: UUID
    lines: list[PartsLine]


class PartsRequestHandled(PartsRequestSummary, omit_defaults=True, kw_only=True):
    """The request after it was handled: the outbound that fills it from a warehouse, or the
    emergency purchase order."""

    outbound_id: UUID | None = None
    outbound_number: str | None = None
    purchase_order_id: UUID | None = None
    purchase_order_number: str | None = None


class WorkOrderSummary(Answer):
    work_order_id: UUID
    number: str
    completed: bool
    consumed: list[ConsumedPart]


# ---------------------------------------------------------------- catalogue
class CreatePart(Command):
    """Add a part to the catalogue: part number, name, unit, category and list prices."""

    answer_type: ClassVar = PartSummary
    creates: ClassVar = True
    part_no: PartNo
    name: Name
    unit: Annotated[str, Meta(min_length=1, max_length=20, pattern=PLAIN, description="pc, set, barrel, litre …")]
    category: PartCategory
    purchase_price: Money
    sale_price: Money


class ChangePartPrices(Command):
    """Change a part's list prices, with the reason."""

    answer_type: ClassVar = PartSummary
    part_id: UUID
    purchase_price: Money
    sale_price: Money
    reason: Reason


# ---------------------------------------------------------------- purchase
class CreatePurchaseOrder(Command):
    """Order parts from a supplier into a warehouse: pending inbound (待入库) until received."""

    answer_type: ClassVar = PurchaseOrderSummary
    creates: ClassVar = True
    company_id: UUID
    supplier: Name
    warehouse_id: UUID
    lines: Annotated[list[PartLineRequest], Meta(min_length=1, max_length=50)]

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"company_id": self.company_id, "supplier": self.supplier, "warehouse_id": self.warehouse_id,
                "lines": _line_arrays(self.lines, "part_id", "quantity", "unit_price")}


class ReceivePurchase(Command):
    """入库 at the order's warehouse, in part or whole; over-receipt is refused. An emergency
    purchase for a technician's request that arrives at a warehouse is reserved there at once
    by an outbound to the technician's mobile warehouse, in the same transaction."""

    answer_type: ClassVar = PurchaseReceived
    order_id: UUID
    lines: Annotated[list[ReceivedLineRequest], Meta(min_length=1, max_length=50, description=(
        "What arrived, by line of the order; part or whole. More than is still outstanding is refused."))]

    @property
    def quantities(self) -> dict[int, int]:
        """What arrived by line number (a line named twice: the sum)."""
        quantities: dict[int, int] = {}
        for line in self.lines:
            quantities[line.line_no] = quantities.get(line.line_no, 0) + line.quantity
        return quantities

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"order_id": self.order_id, "lines": {str(k): v for k, v in sorted(self.quantities.items())}}


# ---------------------------------------------------------------- quotes and sales
class CreatePartsQuote(Command, kw_only=True):
    """配件报价: parts and prices offered to a customer (registered, or a walk-in by name),
    valid until a date."""

    answer_type: ClassVar = PartsQuoteSummary
    creates: ClassVar = True
    company_id: UUID
    customer_id: Annotated[UUID, Meta(
        description="A registered customer; or leave out and name a walk-in.")] | None = None
    customer_name: Name | None = None
    lines: Annotated[list[PartLineRequest], Meta(min_length=1, max_length=50)]
    valid_until: date

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"company_id": self.company_id, "customer_id": self.customer_id, "customer_name": self.customer_name,
                "lines": _line_arrays(self.lines, "part_id", "quantity", "unit_price"),
                "valid_until": self.valid_until}


class AgreePartsQuote(Command):
    """The customer agreed the quote; a parts sale can now be made from it."""

    answer_type: ClassVar = PartsQuoteSummary
    quote_id: UUID


class CreatePartsSale(Command):
    """配件销售 from an agreed quote, with its channel and the warehouse that ships it."""

    answer_type: ClassVar = PartsSaleSummary
    creates: ClassVar = True
    quote_id: UUID
    channel: SaleChannel
    warehouse_id: Annotated[UUID, Meta(description="The main or parts warehouse that ships it.")]


class SubmitPartsSale(Command):
    """Submit the sale: its parts outbound reserves the parts and waits for the warehouse keeper."""

    answer_type: ClassVar = PartsSaleSubmitted
    sale_id: UUID


class CancelPartsSale(Command):
    """Cancel a sale not yet shipped and without money received; its reservations are released."""

    answer_type: ClassVar = PartsSaleSummary
    sale_id: UUID
    reason: Reason


class RecordPartsSaleReceipt(Command):
    """收款 for a parts sale; coupons pay part of it, redeemed in the same transaction."""

    answer_type: ClassVar = PartsSaleReceiptRecorded
    creates: ClassVar = True
    sale_id: UUID
    amount: Money
    value_date: Annotated[date, Meta(description="The day the money arrived; not in the future.")]
    method: ReceiptMethod
    reference: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)] | None = None
    coupons: Annotated[list[CouponPart], Meta(max_length=20, description=(
        "Part of the amount paid with the customer's coupons (卡券)."))] = []

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"sale_id": self.sale_id, "amount": self.amount, "value_date": self.value_date,
                "method": self.method, "reference": self.reference,
                "coupons": _line_arrays(self.coupons, "code", "amount")}


# ---------------------------------------------------------------- the outbound
class ShipPartsOutbound(Command):
    """出库 by the warehouse keeper: a sale's parts leave for the customer; a request's parts
    leave for the technician's mobile warehouse (pending there until confirmed)."""

    answer_type: ClassVar = PartsOutboundSummary
    outbound_id: UUID


# ---------------------------------------------------------------- technicians
class RequestParts(Command):
    """"My parts": a technician asks for parts into their mobile warehouse for a job, or from
    within a work order (or the office for them)."""

    answer_type: ClassVar = PartsRequestSummary
    creates: ClassVar = True
    mobile_warehouse_id: UUID
    lines: Annotated[list[PartQuantityRequest], Meta(min_length=1, max_length=50)]
    work_order_id: Annotated[UUID, Meta(description="Asked for from within this work order.")] | None = None
    note: Annotated[str, Meta(min_length=1, max_length=500, pattern=PLAIN)] | None = None

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"mobile_warehouse_id": self.mobile_warehouse_id,
                "lines": _line_arrays(self.lines, "part_id", "quantity"),
                "work_order_id": self.work_order_id, "note": self.note}


class HandlePartsRequest(Command):
    """紧急采购: fill a request from a warehouse, or by an emergency purchase shipped straight
    to the technician or to a warehouse."""

    answer_type: ClassVar = PartsRequestHandled
    request_id: UUID
    path: RequestPath
    warehouse_id: Annotated[UUID, Meta(description=(
        "from_warehouse: the warehouse that ships; purchase_to_warehouse: the warehouse that receives the "
        "purchase; purchase_to_technician: leave out."))] | None = None
    supplier: Name | None = None
    unit_prices: Annotated[list[LinePriceRequest], Meta(max_length=50, description=(
        "Purchase prices by request line; the catalogue's purchase price where left out."))] = []

    @property
    def prices(self) -> dict[int, Decimal]:
        """Purchase prices by line number (a line named twice: the last)."""
        return {p.line_no: p.unit_price for p in self.unit_prices}

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"request_id": self.request_id, "path": self.path, "warehouse_id": self.warehouse_id,
                "supplier": self.supplier, "unit_prices": {str(k): v for k, v in sorted(self.prices.items())}}


class ConfirmPartsReceipt(Command):
    """The technician confirms the parts arrived in their mobile warehouse."""

    answer_type: ClassVar = PartsRequestSummary
    request_id: UUID


class OpenWorkOrder(Command, kw_only=True):
    """Open a work order: customer, machine serial, job type, the technician's mobile warehouse."""

    answer_type: ClassVar = WorkOrderSummary
    creates: ClassVar = True
    mobile_warehouse_id: UUID
    customer_id: UUID | None = None
    customer_name: Name | None = None
    serial_number: Serial
    job_type: JobType


class ConsumeParts(Command):
    """Parts used on the job, from the technician's mobile warehouse; refused for what they do
    not hold."""

    answer_type: ClassVar = WorkOrderSummary
    work_order_id: UUID
    lines: Annotated[list[PartQuantityRequest], Meta(min_length=1, max_length=50)]

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"work_order_id": self.work_order_id, "lines": _line_arrays(self.lines, "part_id", "quantity")}


class CompleteWorkOrder(Command):
    """The job is done; the work order uses no more parts."""

    answer_type: ClassVar = WorkOrderSummary
    work_order_id: UUID
