"""Quotes and sales of parts (配件报价, 配件销售): ``PartsQuote`` offered to a customer and
agreed, and the ``PartsSale`` made from it, paid by receipts (coupons paying part of them).

Part of ``domain.parts``: the aggregates and the values their state and events hold keep
``__module__ = "domain.parts"``, the module of their stored topics (see the package's ``__init__``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.base import Context, DealerAggregate, DomainError, InvalidValueError, require_text
from domain.coupons import CouponUse
from domain.money import ZERO, require_money
from domain.organisation import Company, Warehouse
from domain.parts.documents import DocumentKind, DocumentRef, PartLine, _warehouse_of, document_number
from domain.parts.errors import PartsDocumentStateError
from domain.parts.outbound import PartsOutbound


# ---------------------------------------------------------------- quotes and sales
class QuoteStatus(StrEnum):
    __module__ = "domain.parts"
    OFFERED = "offered"
    AGREED = "agreed"
    SOLD = "sold"


class PartsQuote(DealerAggregate):
    """配件报价: prices offered to a customer, valid until a date; agreed by the customer."""

    __module__ = "domain.parts"

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
    __module__ = "domain.parts"
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
    __module__ = "domain.parts"
    DRAFT = "draft"
    SUBMITTED = "submitted"     # its outbound waits for the warehouse keeper
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SalePayment:
    __module__ = "domain.parts"
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

    __module__ = "domain.parts"

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
