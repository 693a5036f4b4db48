"""Parts (配件): the catalogue, stock per warehouse, purchase and receiving, quotes and
sales, parts outbounds, technicians' requests and work orders.

Stock of one part in one warehouse is its own aggregate (``PartStock``), so every
document that moves parts saves the stock it touched in its own transaction:

    purchase order placed ─▶ pending inbound (待入库) ─▶ received (part or whole)
    parts sale submitted ─▶ parts outbound (reserves) ─▶ shipped by the warehouse keeper
    technician's request ─▶ handled one of three ways (紧急采购):
        1. from a warehouse:       outbound ─▶ shipped ─▶ technician confirms receipt
        2. purchase to technician: purchase order to the mobile warehouse ─▶ technician confirms
        3. purchase to warehouse:  purchase order ─▶ received (and reserved) ─▶ outbound
                                   ─▶ shipped ─▶ technician confirms receipt
    work order ─▶ parts consumed from the technician's mobile warehouse (移动库)

Two outbounds racing for the last units both write the same stock's next version;
the store lets one through and the other runs again on what is left and is refused.
Quantities are whole units (pieces, sets, barrels): the catalogue's unit says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain import ids
from domain.base import (
    Context,
    DealerAggregate,
    DomainError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
    require_key,
    require_text,
)
from domain.coupons import CouponUse
from domain.money import ZERO, require_money
from domain.organisation import Company, Warehouse, WarehouseKind

MAX_QUANTITY = 100_000
MAX_LINES = 50


class PartCategory(StrEnum):
    ENGINE = "engine"
    HYDRAULIC = "hydraulic"
    ELECTRICAL = "electrical"
    UNDERCARRIAGE = "undercarriage"
    FILTER = "filter"
    OIL = "oil"                  # oils and greases
    WEAR = "wear"                # bucket teeth, cutting edges
    ACCESSORY = "accessory"      # 附件 sold with machines (breakers, buckets)
    OTHER = "other"


class DocumentKind(StrEnum):
    PURCHASE_ORDER = "purchase_order"
    PARTS_OUTBOUND = "parts_outbound"
    PARTS_SALE = "parts_sale"
    PARTS_REQUEST = "parts_request"
    WORK_ORDER = "work_order"
    CONTRACT = "contract"


@dataclass(frozen=True)
class DocumentRef:
    """The document that moved parts: what a movement history names."""

    kind: DocumentKind
    document_id: UUID
    number: str


# ---------------------------------------------------------------- errors
class InsufficientPartStockError(DomainError):
    code = "insufficient-part-stock"


class OverReceiptError(DomainError):
    code = "over-receipt"


class PartsDocumentStateError(DomainError):
    """The act does not fit the document's status; the message names it."""

    code = "parts-document-state"


class WarehouseNotUsableError(InvalidValueError):
    """The warehouse is of another company than the document, or of the wrong kind."""

    code = "warehouse-not-usable"


class NotYourMobileWarehouseError(PermissionDeniedError):
    code = "not-your-mobile-warehouse"


def require_quantity(quantity: int, field: str) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidValueError(f"{field} is a whole number between 1 and {MAX_QUANTITY}.", field=field)
    return quantity


def _require_lines(lines: Sequence, field: str = "lines") -> None:
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidValueError(f"A document has between 1 and {MAX_LINES} lines.", field=field)


def _no_repeats(part_ids: Sequence[UUID], part_nos: Sequence[str], field: str = "lines") -> None:
    if len(set(part_ids)) != len(part_ids):
        seen: set[UUID] = set()
        for part_id, part_no in zip(part_ids, part_nos, strict=True):
            if part_id in seen:
                raise InvalidValueError(f"Part {part_no} is on two lines; put its whole quantity on one.",
                                        field=field)
            seen.add(part_id)


def document_number(prefix: str, company: Company, ctx: Context, document_id: UUID) -> str:
    """e.g. PO-HF-20260315-3FA2C1: kind, company, business date, and the id's first digits."""
    return f"{prefix}-{company.code}-{ctx.business_date:%Y%m%d}-{document_id.hex[:6].upper()}"


# ---------------------------------------------------------------- the catalogue
class Part(DealerAggregate):
    """A part of the group's catalogue (配件档案), by part number. Group-wide."""

    class Registered(DealerAggregate.Created):
        part_no: str
        name: str
        unit: str
        category: PartCategory
        purchase_price: Decimal
        sale_price: Decimal

        def apply(self, part: Part) -> None:
            part.part_no = self.part_no
            part.name = self.name
            part.unit = self.unit
            part.category = self.category
            part.purchase_price = self.purchase_price
            part.sale_price = self.sale_price

    class PricesChanged(DealerAggregate.Event):
        """New list prices from the business date on; ``reason`` says why."""

        purchase_price: Decimal
        sale_price: Decimal

        def apply(self, part: Part) -> None:
            part.purchase_price = self.purchase_price
            part.sale_price = self.sale_price

    def refuse_second_creation(self) -> DomainError:
        return DomainError(f"Part number {self.part_no} is already in the catalogue.", code="part-exists")

    @classmethod
    def register(cls, ctx: Context, part_no: str, name: str, unit: str, category: PartCategory,
                 purchase_price: Decimal, sale_price: Decimal) -> Part:
        key = require_key(part_no, "part_no", 40)
        return cls._start(cls.Registered, ids.part_id(key), ctx, None, part_no=key,
                          name=require_text(name, "name", 200), unit=require_text(unit, "unit", 20),
                          category=PartCategory(category),
                          purchase_price=require_money(purchase_price, "purchase_price"),
                          sale_price=require_money(sale_price, "sale_price"))

    def change_prices(self, ctx: Context, purchase_price: Decimal, sale_price: Decimal) -> None:
        purchase = require_money(purchase_price, "purchase_price")
        sale = require_money(sale_price, "sale_price")
        require_text(ctx.reason or "", "reason", 500)
        if (purchase, sale) == (self.purchase_price, self.sale_price):
            raise DomainError(f"Part {self.part_no} already has these prices.", code="nothing-changed")
        self._record(self.PricesChanged, ctx, None, purchase_price=purchase, sale_price=sale)


# ---------------------------------------------------------------- stock of a part in a warehouse
class PartStock(DealerAggregate):
    """One part in one warehouse: on hand, reserved for outbounds not yet shipped, and
    pending inbound (ordered, or shipped to this mobile warehouse and not yet confirmed).
    Reservations and pending inbound are kept per document, so only the document that
    made them can use them up."""

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


@dataclass(frozen=True)
class PartLine:
    """A part and a quantity (and a price where the document has one) on a document."""

    line_no: int
    part_id: UUID
    part_no: str
    name: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


def part_lines(lines: Sequence[tuple[Part, int, Decimal | None]], *, use_sale_price: bool) -> tuple[PartLine, ...]:
    """Lines as typed: (part, quantity, unit price or None for the catalogue's price)."""
    _require_lines(lines)
    _no_repeats([p.id for p, _, _ in lines], [p.part_no for p, _, _ in lines])
    out = []
    for n, (part, quantity, price) in enumerate(lines, 1):
        if price is None:
            price = part.sale_price if use_sale_price else part.purchase_price
        out.append(PartLine(n, part.id, part.part_no, part.name, require_quantity(quantity, f"lines[{n}].quantity"),
                            require_money(price, f"lines[{n}].unit_price")))
    return tuple(out)


def _warehouse_of(company_id: UUID, warehouse: Warehouse, *, mobile: bool | None, field: str) -> None:
    if warehouse.company_id != company_id:
        raise WarehouseNotUsableError(f"Warehouse {warehouse.code} belongs to another member company.", field=field)
    if mobile is True and warehouse.kind != WarehouseKind.MOBILE:
        raise WarehouseNotUsableError(f"Warehouse {warehouse.code} is not a technician's mobile warehouse.",
                                      field=field)
    if mobile is False and warehouse.kind == WarehouseKind.MOBILE:
        raise WarehouseNotUsableError(f"Warehouse {warehouse.code} is a technician's mobile warehouse; choose a "
                                      "main or parts warehouse.", field=field)


# ---------------------------------------------------------------- purchase
class PurchaseStatus(StrEnum):
    OPEN = "open"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"


@dataclass(frozen=True)
class ReceivedLine:
    line_no: int
    quantity: int


class PurchaseOrder(DealerAggregate):
    """配件采购单: ordered from a supplier into one warehouse (a technician's mobile
    warehouse for an emergency purchase shipped straight to them)."""

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
              request: PartsRequest | None = None) -> PurchaseOrder:
        """Places the order and records its pending inbound on each line's stock (``stocks``
        by part id, of ``warehouse``)."""
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


# ---------------------------------------------------------------- quotes and sales
class QuoteStatus(StrEnum):
    OFFERED = "offered"
    AGREED = "agreed"
    SOLD = "sold"


class PartsQuote(DealerAggregate):
    """配件报价: prices offered to a customer, valid until a date; agreed by the customer."""

    def refuse_second_creation(self) -> None:
        return None   # a new id (uuid4) never collides: a failed save raced on the stock it moved; run again

    class Offered(DealerAggregate.Created):
        number: str
        customer_id: UUID | None
        customer_name: str
        lines: tuple[PartLine, ...]
        valid_until: date

        def apply(self, quote: PartsQuote) -> None:
            quote.company_id = self.company_id
            quote.number = self.number
            quote.customer_id = self.customer_id
            quote.customer_name = self.customer_name
            quote.lines = self.lines
            quote.valid_until = self.valid_until
            quote.status = QuoteStatus.OFFERED
            quote.sale_id = None

    class Agreed(DealerAggregate.Event):
        def apply(self, quote: PartsQuote) -> None:
            quote.status = QuoteStatus.AGREED

    class Sold(DealerAggregate.Event):
        sale_id: UUID

        def apply(self, quote: PartsQuote) -> None:
            quote.status = QuoteStatus.SOLD
            quote.sale_id = self.sale_id

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @classmethod
    def offer(cls, ctx: Context, quote_id: UUID, company: Company, customer_id: UUID | None, customer_name: str,
              lines: tuple[PartLine, ...], valid_until: date) -> PartsQuote:
        if valid_until < ctx.business_date:
            raise InvalidValueError(f"A quote is valid until today ({ctx.business_date}) or later.",
                                    field="valid_until")
        return cls._start(cls.Offered, quote_id, ctx, company.id, number=document_number("PQ", company, ctx, quote_id),
                          customer_id=customer_id, customer_name=require_text(customer_name, "customer_name", 200),
                          lines=lines, valid_until=valid_until)

    def agree(self, ctx: Context) -> None:
        if self.status != QuoteStatus.OFFERED:
            raise PartsDocumentStateError(f"Quote {self.number} is {self.status}; only an offered quote is agreed.",
                                          state=str(self.status))
        if ctx.business_date > self.valid_until:
            raise PartsDocumentStateError(f"Quote {self.number} was valid until {self.valid_until}; make a new quote.",
                                          state="expired")
        self._record(self.Agreed, ctx, self.company_id)

    def sell(self, ctx: Context, sale_id: UUID) -> None:
        if self.status != QuoteStatus.AGREED:
            raise PartsDocumentStateError(
                f"Quote {self.number} is {self.status}; a parts sale is made from a quote the customer agreed"
                + (" (and only once)." if self.status == QuoteStatus.SOLD else "."), state=str(self.status))
        self._record(self.Sold, ctx, self.company_id, sale_id=sale_id)


class SaleChannel(StrEnum):
    CHANNEL_WHOLESALE = "channel_wholesale"       # 渠道批发
    INTERNAL_USE = "internal_use"                 # 内部领用
    WALK_IN = "walk_in"                           # 门店零售
    OVERHAUL_SHOP = "overhaul_shop"               # 大修厂
    PARTS_FAIR = "parts_fair"                     # 配件会
    USED_MACHINE_REPAIR = "used_machine_repair"   # 二手机维修
    GIFT = "gift"                                 # 赠送

    @property
    def owes(self) -> bool:
        """A gift or internal use leaves no receivable."""
        return self not in (SaleChannel.GIFT, SaleChannel.INTERNAL_USE)


class SaleStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"     # its outbound waits for the warehouse keeper
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SalePayment:
    receipt_id: UUID
    amount: Decimal
    method: str
    value_date: date
    reference: str | None
    coupons: tuple[CouponUse, ...]


class PartsSale(DealerAggregate):
    """配件销售 made from an agreed quote, with its channel and the warehouse it ships from.
    Its receivable (the total, except for gifts and internal use) is paid by receipts,
    coupons paying part of them."""

    def refuse_second_creation(self) -> None:
        return None   # a new id (uuid4) never collides: a failed save raced on the stock it moved; run again

    class Drafted(DealerAggregate.Created):
        number: str
        quote_id: UUID
        quote_number: str
        channel: SaleChannel
        customer_id: UUID | None
        customer_name: str
        warehouse_id: UUID
        lines: tuple[PartLine, ...]
        total: Decimal
        receivable: Decimal

        def apply(self, sale: PartsSale) -> None:
            sale.company_id = self.company_id
            sale.number = self.number
            sale.customer_id = self.customer_id
            sale.customer_name = self.customer_name
            sale.channel = self.channel
            sale.warehouse_id = self.warehouse_id
            sale.lines = self.lines
            sale.total = self.total
            sale.receivable = self.receivable
            sale.status = SaleStatus.DRAFT
            sale.outbound_id = None
            sale.payments = {}

    class Submitted(DealerAggregate.Event):
        """Submitted: its parts outbound (same command) tells the warehouse keeper to ship."""

        outbound_id: UUID
        outbound_number: str

        def apply(self, sale: PartsSale) -> None:
            sale.status = SaleStatus.SUBMITTED
            sale.outbound_id = self.outbound_id

    class Shipped(DealerAggregate.Event):
        outbound_id: UUID

        def apply(self, sale: PartsSale) -> None:
            sale.status = SaleStatus.SHIPPED

    class Cancelled(DealerAggregate.Event):
        """Cancelled before shipping, with the reason; its outbound's reservations are released."""

        def apply(self, sale: PartsSale) -> None:
            sale.status = SaleStatus.CANCELLED

    class PaymentReceived(DealerAggregate.Event):
        """收款 against the sale; ``coupons`` paid part of ``amount`` (same transaction)."""

        payment: SalePayment

        def apply(self, sale: PartsSale) -> None:
            sale.payments[self.payment.receipt_id] = self.payment

    @property
    def ref(self) -> DocumentRef:
        return DocumentRef(DocumentKind.PARTS_SALE, self.id, self.number)

    @property
    def received(self) -> Decimal:
        return sum((p.amount for p in self.payments.values()), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return self.receivable - self.received

    @classmethod
    def draft(cls, ctx: Context, sale_id: UUID, company: Company, quote: PartsQuote, channel: SaleChannel,
              warehouse: Warehouse) -> PartsSale:
        if quote.company_id != company.id:
            raise InvalidValueError(f"Quote {quote.number} belongs to another member company.", field="quote_id")
        _warehouse_of(company.id, warehouse, mobile=False, field="warehouse_id")
        channel = SaleChannel(channel)
        quote.sell(ctx, sale_id)
        return cls._start(cls.Drafted, sale_id, ctx, company.id, number=document_number("PS", company, ctx, sale_id),
                          quote_id=quote.id, quote_number=quote.number, channel=channel,
                          customer_id=quote.customer_id, customer_name=quote.customer_name,
                          warehouse_id=warehouse.id, lines=quote.lines, total=quote.total,
                          receivable=quote.total if channel.owes else ZERO)

    def check_submit(self) -> None:
        if self.status != SaleStatus.DRAFT:
            raise PartsDocumentStateError(f"Parts sale {self.number} is {self.status}; only a draft is submitted.",
                                          state=str(self.status))

    def submit(self, ctx: Context, outbound: PartsOutbound) -> None:
        """Submitted with its outbound (prepared for it in the same command)."""
        self.check_submit()
        self._record(self.Submitted, ctx, self.company_id, outbound_id=outbound.id, outbound_number=outbound.number)

    def shipped(self, ctx: Context, outbound: PartsOutbound) -> None:
        self._record(self.Shipped, ctx, self.company_id, outbound_id=outbound.id)

    def cancel(self, ctx: Context) -> None:
        if self.status not in (SaleStatus.DRAFT, SaleStatus.SUBMITTED):
            raise PartsDocumentStateError(f"Parts sale {self.number} is {self.status}; only a sale not yet shipped "
                                          "is cancelled.", state=str(self.status))
        if self.payments:
            raise PartsDocumentStateError(f"{self.received} was received for parts sale {self.number}; it cannot be "
                                          "cancelled.", state=str(self.status))
        require_text(ctx.reason or "", "reason", 500)
        self._record(self.Cancelled, ctx, self.company_id)

    def check_payment(self, amount: Decimal, coupons_total: Decimal) -> Decimal:
        amount = require_money(amount, "amount", positive=True)
        if self.status in (SaleStatus.DRAFT, SaleStatus.CANCELLED):
            raise PartsDocumentStateError(f"Parts sale {self.number} is {self.status}; money is received for a "
                                          "submitted or shipped sale.", state=str(self.status))
        if amount > self.outstanding:
            raise DomainError(f"Parts sale {self.number} has {self.outstanding} outstanding; {amount} is more.",
                              code="overpayment", outstanding=self.outstanding)
        if coupons_total > amount:
            raise InvalidValueError("The coupons pay part of the receipt's amount; they cannot pay more than it.",
                                    field="coupons")
        return amount

    def receive_payment(self, ctx: Context, receipt_id: UUID, amount: Decimal, method: str, value_date: date,
                        reference: str | None, coupons: tuple[CouponUse, ...]) -> None:
        amount = self.check_payment(amount, sum((c.amount for c in coupons), ZERO))
        if value_date > ctx.business_date:
            raise InvalidValueError(f"The value date {value_date} is after today ({ctx.business_date}).",
                                    field="value_date")
        self._record(self.PaymentReceived, ctx, self.company_id,
                     payment=SalePayment(receipt_id, amount, str(method), value_date,
                                         require_text(reference, "reference", 100) if reference else None, coupons))


# ---------------------------------------------------------------- the parts outbound
class OutboundState(StrEnum):
    WAITING = "waiting"       # waits for the warehouse keeper
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class PartsOutbound(DealerAggregate):
    """配件出库单: tells the warehouse keeper to ship parts, to a customer (a parts sale)
    or to a technician's mobile warehouse (a request). Its parts are reserved from the
    moment it exists, so nobody else takes them."""

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


# ---------------------------------------------------------------- technicians
class RequestPath(StrEnum):
    """紧急采购: how the office handles a technician's request."""

    FROM_WAREHOUSE = "from_warehouse"                   # 1. match a warehouse → outbound → technician receives
    PURCHASE_TO_TECHNICIAN = "purchase_to_technician"   # 2. emergency purchase shipped straight to the technician
    PURCHASE_TO_WAREHOUSE = "purchase_to_warehouse"     # 3. emergency purchase → warehouse inbound → outbound


class RequestStatus(StrEnum):
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


class JobType(StrEnum):
    MAINTENANCE = "maintenance"
    REPAIR = "repair"
    INSPECTION = "inspection"
    WARRANTY = "warranty"


@dataclass(frozen=True)
class ConsumedLine:
    part_id: UUID
    part_no: str
    quantity: int


class WorkOrder(DealerAggregate):
    """工单, minimal: a job on a customer's machine by a technician, and the parts it used
    from the technician's mobile warehouse."""

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


def part_not_found(part_id: UUID) -> NotFoundError:
    return NotFoundError(f"Part {part_id} is not in the catalogue.", code="part-not-found")
