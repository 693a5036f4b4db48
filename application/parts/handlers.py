"""Parts (配件): catalogue, purchase and receiving, quotes, sales and their receipts,
parts outbounds, technicians' requests (and the three 紧急采购 paths), work orders.

Every command saves the documents and every ``PartStock`` it moved in one
transaction. Two processes shipping or consuming the last units of a part both
write the stock's next version; the store lets one through and the other's
command runs again on what is left and is refused (``insufficient-part-stock``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.caller import Caller
from application.coupons import coupons_to_redeem
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
from application.parts.commands import (
    AgreePartsQuote,
    CancelPartsSale,
    ChangePartPrices,
    CompleteWorkOrder,
    ConfirmPartsReceipt,
    ConsumedPart,
    ConsumeParts,
    CreatePart,
    CreatePartsQuote,
    CreatePartsSale,
    CreatePurchaseOrder,
    HandlePartsRequest,
    OpenWorkOrder,
    OutboundSource,
    PartsLine,
    PartsOutboundSummary,
    PartsQuoteSummary,
    PartsRequestHandled,
    PartsRequestSummary,
    PartsSaleReceiptRecorded,
    PartsSaleSubmitted,
    PartsSaleSummary,
    PartSummary,
    PurchaseOrderLine,
    PurchaseOrderSummary,
    PurchaseReceived,
    ReceivedQuantity,
    ReceivePurchase,
    RecordPartsSaleReceipt,
    RequestParts,
    ShipPartsOutbound,
    SubmitPartsSale,
    WorkOrderSummary,
)
from application.parts.stocks import Stocks
from domain.access import Permission
from domain.base import DealerAggregate, InvalidValueError, NotFoundError
from domain.coupons import CouponUse
from domain.customers import Customer
from domain.organisation import Company, Warehouse, WarehouseKind
from domain.parts import (
    Part,
    PartLine,
    PartsOutbound,
    PartsQuote,
    PartsRequest,
    PartsSale,
    PurchaseOrder,
    RequestPath,
    WarehouseNotUsableError,
    WorkOrder,
    check_technician,
    part_lines,
    part_not_found,
)

LineRequest = tuple[UUID, int, Decimal | None]   # part id, quantity, unit price (None: the catalogue's)


class PartsService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    # ------------------------------------------------------------ catalogue
    @handles(CreatePart, permission=Permission.MANAGE_PARTS_CATALOGUE)
    def register_part(self, ctx: CommandContext, cmd: CreatePart) -> Outcome:
        part = Part.register(ctx.meta, cmd.part_no, cmd.name, cmd.unit, cmd.category, cmd.purchase_price,
                             cmd.sale_price)
        if ctx.find(Part, part.id):
            raise part.refuse_second_creation()
        return ctx.save(part, answer=_part(part))

    @handles(ChangePartPrices, permission=Permission.MANAGE_PARTS_CATALOGUE)
    def change_part_prices(self, ctx: CommandContext, cmd: ChangePartPrices) -> Outcome:
        part = self._part(cmd.part_id)
        part.change_prices(ctx.meta, cmd.purchase_price, cmd.sale_price)
        return ctx.save(part, answer=_part(part))

    # ------------------------------------------------------------ purchase
    @handles(CreatePurchaseOrder, permission=Permission.PURCHASE_PARTS)
    def create_purchase_order(self, ctx: CommandContext, cmd: CreatePurchaseOrder) -> Outcome:
        company = ctx.load_in_scope(Company, cmd.company_id, f"Company {cmd.company_id}")
        warehouse = self._warehouse(ctx.caller, cmd.warehouse_id)
        parts, typed = self._lines([(line.part_id, line.quantity, line.unit_price) for line in cmd.lines],
                                   use_sale_price=False)
        stocks = Stocks(self.runner, ctx.meta)
        order = PurchaseOrder.place(ctx.meta, uuid4(), company, cmd.supplier, warehouse, typed,
                                    stocks.of(warehouse, parts))
        return ctx.save(order, *stocks, answer=PurchaseOrderSummary(**_order(order)))

    @handles(ReceivePurchase, permission=Permission.RECEIVE_PARTS)
    def receive_purchase(self, ctx: CommandContext, cmd: ReceivePurchase) -> Outcome:
        """入库 at the order's warehouse. An emergency purchase for a technician's request that
        arrives at a warehouse (path 3) is reserved there at once by an outbound to the
        technician's mobile warehouse, in the same transaction."""
        order = ctx.load_in_scope(PurchaseOrder, cmd.order_id, f"Purchase order {cmd.order_id}")
        warehouse = ctx.load(Warehouse, order.warehouse_id, "Warehouse")
        request = ctx.load(PartsRequest, order.request_id, "Parts request") if order.request_id else None
        if request is not None and request.path == RequestPath.PURCHASE_TO_TECHNICIAN:
            raise InvalidValueError(f"Purchase order {order.number} goes straight to the technician, who "
                                    "confirms its receipt on their request.", field="order_id")
        parts = [self._part(line.part_id) for line in order.lines.values()]
        stocks = Stocks(self.runner, ctx.meta)
        at_warehouse = stocks.of(warehouse, parts)
        received = order.receive(ctx.meta, cmd.quantities, at_warehouse)
        changed: list[DealerAggregate] = [order]
        body = _order(order)
        if request is not None:
            # What arrived is reserved for the technician at once, by an outbound to their van.
            company = ctx.load(Company, order.company_id, "Company")
            mobile = ctx.load(Warehouse, request.mobile_warehouse_id, "Mobile warehouse")
            arrived = tuple(replace(order.lines[r.line_no], quantity=r.quantity) for r in received)
            outbound = PartsOutbound.prepare(ctx.meta, uuid4(), company, warehouse, request.ref, arrived,
                                             at_warehouse, mobile)
            request.purchase_arrived(ctx.meta, outbound)
            changed += [outbound, request]
            body["outbound_id"] = outbound.id
            body["outbound_number"] = outbound.number
        body["received"] = [ReceivedQuantity(line_no=r.line_no, quantity=r.quantity) for r in received]
        return ctx.save(*changed, *stocks, answer=PurchaseReceived(**body))

    # ------------------------------------------------------------ quotes and sales
    @handles(CreatePartsQuote, permission=Permission.SELL_PARTS)
    def create_parts_quote(self, ctx: CommandContext, cmd: CreatePartsQuote) -> Outcome:
        company = ctx.load_in_scope(Company, cmd.company_id, f"Company {cmd.company_id}")
        name = cmd.customer_name
        if cmd.customer_id is not None:
            customer = ctx.load_in_scope(Customer, cmd.customer_id, f"Customer {cmd.customer_id}")
            if customer.company_id != company.id:
                raise InvalidValueError("The customer belongs to another member company.", field="customer_id")
            name = customer.name
        elif not cmd.customer_name:
            raise InvalidValueError("Name the customer: a registered customer, or a walk-in's name.",
                                    field="customer_name")
        _, typed = self._lines([(line.part_id, line.quantity, line.unit_price) for line in cmd.lines],
                               use_sale_price=True)
        quote = PartsQuote.offer(ctx.meta, uuid4(), company, cmd.customer_id, name or "", typed, cmd.valid_until)
        return ctx.save(quote, answer=_quote(quote))

    @handles(AgreePartsQuote, permission=Permission.SELL_PARTS)
    def agree_parts_quote(self, ctx: CommandContext, cmd: AgreePartsQuote) -> Outcome:
        quote = ctx.load_in_scope(PartsQuote, cmd.quote_id, f"Parts quote {cmd.quote_id}")
        quote.agree(ctx.meta)
        return ctx.save(quote, answer=_quote(quote))

    @handles(CreatePartsSale, permission=Permission.SELL_PARTS)
    def create_parts_sale(self, ctx: CommandContext, cmd: CreatePartsSale) -> Outcome:
        quote = ctx.load_in_scope(PartsQuote, cmd.quote_id, f"Parts quote {cmd.quote_id}")
        company = ctx.load(Company, quote.company_id, "Company")
        warehouse = self._warehouse(ctx.caller, cmd.warehouse_id)
        sale = PartsSale.draft(ctx.meta, uuid4(), company, quote, cmd.channel, warehouse)
        return ctx.save(sale, quote, answer=PartsSaleSummary(**_sale(sale)))

    @handles(SubmitPartsSale, permission=Permission.SELL_PARTS)
    def submit_parts_sale(self, ctx: CommandContext, cmd: SubmitPartsSale) -> Outcome:
        """Submits the sale: its parts outbound reserves the parts and waits for the keeper."""
        sale = ctx.load_in_scope(PartsSale, cmd.sale_id, f"Parts sale {cmd.sale_id}")
        company = ctx.load(Company, sale.company_id, "Company")
        warehouse = ctx.load(Warehouse, sale.warehouse_id, "Warehouse")
        stocks = Stocks(self.runner, ctx.meta)
        sale.check_submit()
        outbound = PartsOutbound.prepare(ctx.meta, uuid4(), company, warehouse, sale.ref, sale.lines,
                                         stocks.of(warehouse, self._parts_of(sale.lines)))
        sale.submit(ctx.meta, outbound)
        return ctx.save(sale, outbound, *stocks,
                        answer=PartsSaleSubmitted(**{**_sale(sale), "outbound_id": outbound.id},
                                                  outbound_number=outbound.number))

    @handles(CancelPartsSale, permission=Permission.SELL_PARTS)
    def cancel_parts_sale(self, ctx: CommandContext, cmd: CancelPartsSale) -> Outcome:
        sale = ctx.load_in_scope(PartsSale, cmd.sale_id, f"Parts sale {cmd.sale_id}")
        sale.cancel(ctx.meta)
        changed: list[DealerAggregate] = [sale]
        if sale.outbound_id is not None:
            outbound = ctx.load(PartsOutbound, sale.outbound_id, "Parts outbound")
            warehouse = ctx.load(Warehouse, outbound.warehouse_id, "Warehouse")
            stocks = Stocks(self.runner, ctx.meta)
            outbound.cancel(ctx.meta, stocks.of(warehouse, self._parts_of(outbound.lines)))
            changed += [outbound, *stocks]
        return ctx.save(*changed, answer=PartsSaleSummary(**_sale(sale)))

    @handles(RecordPartsSaleReceipt, permission=Permission.RECORD_RECEIPTS)
    def record_parts_sale_receipt(self, ctx: CommandContext, cmd: RecordPartsSaleReceipt) -> Outcome:
        """收款 for a parts sale; coupons pay part of it, redeemed in the same transaction."""
        sale = ctx.load_in_scope(PartsSale, cmd.sale_id, f"Parts sale {cmd.sale_id}")
        receipt_id = uuid4()
        used = coupons_to_redeem(self.runner, ctx.caller, [(c.code, c.amount) for c in cmd.coupons])
        if used and sale.customer_id is None:
            raise InvalidValueError(f"Parts sale {sale.number} is to a walk-in customer; coupons are used by "
                                    "the registered customer who holds them.", field="coupons")
        if len({c.id for c, _ in used}) != len(used):
            raise InvalidValueError("A coupon appears twice; put its whole amount on one line.", field="coupons")
        uses = tuple(CouponUse(c.id, c.code, Decimal(str(a))) for c, a in used)
        sale.receive_payment(ctx.meta, receipt_id, cmd.amount, cmd.method, cmd.value_date, cmd.reference, uses)
        if used:
            assert sale.customer_id is not None
            customer = ctx.load(Customer, sale.customer_id, "Customer")
            for coupon, coupon_amount in used:
                coupon.redeem_on_parts_sale(ctx.meta, receipt_id, sale.id, sale.number, coupon_amount,
                                            sale.company_id, sale.customer_id, customer.contact_ids, cmd.value_date)
        return ctx.save(sale, *(c for c, _ in used),
                        answer=PartsSaleReceiptRecorded(**_sale(sale), receipt_id=receipt_id))

    # ------------------------------------------------------------ the outbound
    @handles(ShipPartsOutbound, permission=Permission.SHIP_PARTS)
    def ship_parts_outbound(self, ctx: CommandContext, cmd: ShipPartsOutbound) -> Outcome:
        """出库 by the warehouse keeper: a sale's parts leave for the customer; a request's
        parts leave for the technician's mobile warehouse (pending there until confirmed)."""
        outbound = ctx.load_in_scope(PartsOutbound, cmd.outbound_id, f"Parts outbound {cmd.outbound_id}")
        warehouse = ctx.load(Warehouse, outbound.warehouse_id, "Warehouse")
        parts = self._parts_of(outbound.lines)
        stocks = Stocks(self.runner, ctx.meta)
        at_warehouse = stocks.of(warehouse, parts)
        destination = None
        if outbound.to_warehouse_id is not None:
            destination = stocks.of(ctx.load(Warehouse, outbound.to_warehouse_id, "Mobile warehouse"), parts)
        # Read again now that its stocks are read: a shipment another process committed in
        # between shows here as shipped, never as a waiting outbound whose stock already left.
        outbound = ctx.load(PartsOutbound, cmd.outbound_id, "Parts outbound")
        outbound.ship(ctx.meta, at_warehouse, destination)
        source = ctx.load(DealerAggregate, outbound.source.document_id, "Document")
        assert isinstance(source, PartsSale | PartsRequest), "an outbound ships a sale or a request"
        source.shipped(ctx.meta, outbound)
        return ctx.save(outbound, source, *stocks, answer=_outbound(outbound))

    # ------------------------------------------------------------ technicians
    @handles(RequestParts)
    def request_parts(self, ctx: CommandContext, cmd: RequestParts) -> Outcome:
        """"My parts": a technician asks for parts for a job, or from within a work order (or the
        office for them)."""
        _technician_or_office(ctx.caller)
        mobile = self._mobile(ctx.caller, cmd.mobile_warehouse_id)
        company = ctx.load(Company, mobile.company_id, "Company")
        work_order = (ctx.load_in_scope(WorkOrder, cmd.work_order_id, f"Work order {cmd.work_order_id}")
                      if cmd.work_order_id else None)
        _, typed = self._lines([(line.part_id, line.quantity, None) for line in cmd.lines], use_sale_price=False)
        request = PartsRequest.request(ctx.meta, uuid4(), company, mobile, typed, work_order, cmd.note)
        return ctx.save(request, answer=PartsRequestSummary(**_request(request)))

    @handles(HandlePartsRequest, permission=Permission.HANDLE_PARTS_REQUESTS)
    def handle_parts_request(self, ctx: CommandContext, cmd: HandlePartsRequest) -> Outcome:
        """紧急采购: fill a request from a warehouse, or by an emergency purchase shipped
        straight to the technician or to a warehouse."""
        path = RequestPath(cmd.path)
        request = ctx.load_in_scope(PartsRequest, cmd.request_id, f"Parts request {cmd.request_id}")
        company = ctx.load(Company, request.company_id, "Company")
        mobile = ctx.load(Warehouse, request.mobile_warehouse_id, "Mobile warehouse")
        parts = self._parts_of(request.lines)
        stocks = Stocks(self.runner, ctx.meta)
        if path == RequestPath.PURCHASE_TO_TECHNICIAN:
            if cmd.warehouse_id is not None and cmd.warehouse_id != mobile.id:
                raise InvalidValueError("An emergency purchase shipped to the technician goes to their mobile "
                                        "warehouse; leave warehouse_id out.", field="warehouse_id")
            warehouse = mobile
        else:
            if cmd.warehouse_id is None:
                raise InvalidValueError("Name the warehouse that ships the parts (or receives the purchase).",
                                        field="warehouse_id")
            warehouse = self._warehouse(ctx.caller, cmd.warehouse_id)
            if warehouse.kind == WarehouseKind.MOBILE:
                raise WarehouseNotUsableError(f"Warehouse {warehouse.code} is a technician's mobile warehouse; "
                                              "choose a main or parts warehouse.", field="warehouse_id")
        prices = cmd.prices
        if path == RequestPath.FROM_WAREHOUSE:
            if cmd.supplier or prices:
                raise InvalidValueError("Parts from a warehouse need no supplier or prices.", field="supplier")
            outbound = PartsOutbound.prepare(ctx.meta, uuid4(), company, warehouse, request.ref, request.lines,
                                             stocks.of(warehouse, parts), mobile)
            request.handle_from_warehouse(ctx.meta, outbound)
            return ctx.save(request, outbound, *stocks,
                            answer=PartsRequestHandled(**_request(request), outbound_id=outbound.id,
                                                       outbound_number=outbound.number))
        if unknown := set(prices) - {line.line_no for line in request.lines}:
            raise InvalidValueError(f"Parts request {request.number} has no line {min(unknown)}.",
                                    field="unit_prices")
        _, priced = self._lines([(line.part_id, line.quantity, prices.get(line.line_no, line.unit_price))
                                 for line in request.lines], use_sale_price=False)
        order = PurchaseOrder.place(ctx.meta, uuid4(), company, cmd.supplier or "", warehouse, priced,
                                    stocks.of(warehouse, parts), request)
        request.handle_by_purchase(ctx.meta, path, order)
        return ctx.save(request, order, *stocks,
                        answer=PartsRequestHandled(**_request(request), purchase_order_id=order.id,
                                                   purchase_order_number=order.number))

    @handles(ConfirmPartsReceipt)
    def confirm_parts_receipt(self, ctx: CommandContext, cmd: ConfirmPartsReceipt) -> Outcome:
        _technician_or_office(ctx.caller)
        request = ctx.load_in_scope(PartsRequest, cmd.request_id, f"Parts request {cmd.request_id}")
        mobile = self._mobile(ctx.caller, request.mobile_warehouse_id)
        stocks = Stocks(self.runner, ctx.meta)
        at_mobile = stocks.of(mobile, self._parts_of(request.lines))
        # Read again now that its stocks are read: a confirmation another process committed in
        # between shows here, never a shipment whose parts are already in the van.
        request = ctx.load(PartsRequest, cmd.request_id, f"Parts request {cmd.request_id}")
        changed: list[DealerAggregate] = [request]
        if request.path == RequestPath.PURCHASE_TO_TECHNICIAN and request.purchase_order_id:
            order = ctx.load(PurchaseOrder, request.purchase_order_id, "Purchase order")
            request.confirm_receipt(ctx.meta, at_mobile, order=order)
            changed.insert(0, order)   # the receipt, then the confirmation it completes
        else:
            outbounds = [ctx.load(PartsOutbound, o, "Parts outbound") for o in request.shipped_outbound_ids]
            request.confirm_receipt(ctx.meta, at_mobile, outbounds=outbounds)
        return ctx.save(*changed, *stocks, answer=PartsRequestSummary(**_request(request)))

    @handles(OpenWorkOrder)
    def open_work_order(self, ctx: CommandContext, cmd: OpenWorkOrder) -> Outcome:
        _technician_or_office(ctx.caller)
        mobile = self._mobile(ctx.caller, cmd.mobile_warehouse_id)
        company = ctx.load(Company, mobile.company_id, "Company")
        name = cmd.customer_name
        if cmd.customer_id is not None:
            customer = ctx.find(Customer, cmd.customer_id)
            if customer is None or customer.company_id != company.id:
                raise NotFoundError(f"Customer {cmd.customer_id} does not exist.", code="customer-not-found")
            name = customer.name
        elif not cmd.customer_name:
            raise InvalidValueError("Name the customer whose machine is worked on.", field="customer_name")
        order = WorkOrder.open(ctx.meta, uuid4(), company, mobile, cmd.customer_id, name or "", cmd.serial_number,
                               cmd.job_type)
        return ctx.save(order, answer=_work_order(order))

    @handles(ConsumeParts)
    def consume_parts(self, ctx: CommandContext, cmd: ConsumeParts) -> Outcome:
        """Parts used on the job, from the technician's mobile warehouse; refused for what
        they do not hold."""
        _technician_or_office(ctx.caller)
        order = ctx.load_in_scope(WorkOrder, cmd.work_order_id, f"Work order {cmd.work_order_id}")
        mobile = self._mobile(ctx.caller, order.mobile_warehouse_id)
        parts = [self._part(line.part_id) for line in cmd.lines]
        stocks = Stocks(self.runner, ctx.meta)
        order.consume(ctx.meta, list(zip(parts, (line.quantity for line in cmd.lines), strict=True)),
                      stocks.of(mobile, parts), mobile.technician_name or mobile.code)
        return ctx.save(order, *stocks, answer=_work_order(order))

    @handles(CompleteWorkOrder)
    def complete_work_order(self, ctx: CommandContext, cmd: CompleteWorkOrder) -> Outcome:
        _technician_or_office(ctx.caller)
        order = ctx.load_in_scope(WorkOrder, cmd.work_order_id, f"Work order {cmd.work_order_id}")
        self._mobile(ctx.caller, order.mobile_warehouse_id)
        order.complete(ctx.meta)
        return ctx.save(order, answer=_work_order(order))

    # ------------------------------------------------------------ helpers
    def _part(self, part_id: UUID) -> Part:
        part = self.runner.find(part_id, Part)
        if part is None:
            raise part_not_found(part_id)
        return part

    def _parts_of(self, lines: Iterable[PartLine]) -> list[Part]:
        return [self._part(line.part_id) for line in lines]

    def _lines(self, lines: Sequence[LineRequest], *, use_sale_price: bool) -> tuple[list[Part], tuple[PartLine, ...]]:
        parts = [self._part(part_id) for part_id, _, _ in lines]
        typed = part_lines([(p, q, price) for p, (_, q, price) in zip(parts, lines, strict=True)],
                           use_sale_price=use_sale_price)
        return parts, typed

    def _warehouse(self, caller: Caller, warehouse_id: UUID) -> Warehouse:
        return self.runner.get_in_scope(caller, warehouse_id, Warehouse, f"Warehouse {warehouse_id}")

    def _mobile(self, caller: Caller, warehouse_id: UUID) -> Warehouse:
        mobile = self._warehouse(caller, warehouse_id)
        check_technician(caller.user_id, caller.may(Permission.HANDLE_PARTS_REQUESTS), mobile)
        return mobile


def _technician_or_office(caller: Caller) -> None:
    """A technician for their own van; the office (who handles requests) for any van it sees,
    e.g. for a technician without a phone, or a van not yet given to a technician."""
    if not caller.may(Permission.HANDLE_PARTS_REQUESTS):
        caller.require(Permission.REQUEST_PARTS)


# ---------------------------------------------------------------- answers
def _lines_out(lines: Iterable[PartLine]) -> list[PartsLine]:
    return [PartsLine(line_no=line.line_no, part_id=line.part_id, part_no=line.part_no, name=line.name,
                      quantity=line.quantity, unit_price=line.unit_price, amount=line.amount) for line in lines]


def _part(part: Part) -> PartSummary:
    return PartSummary(part_id=part.id, part_no=part.part_no, name=part.name, unit=part.unit,
                       category=part.category, purchase_price=part.purchase_price, sale_price=part.sale_price)


def _order(order: PurchaseOrder) -> dict[str, Any]:
    return {"order_id": order.id, "number": order.number, "status": order.status,
            "warehouse_id": order.warehouse_id, "amount": order.amount,
            "lines": [PurchaseOrderLine(line_no=line.line_no, part_id=line.part_id, part_no=line.part_no,
                                        name=line.name, quantity=line.quantity, unit_price=line.unit_price,
                                        amount=line.amount, received=order.received[line.line_no])
                      for line in order.lines.values()]}


def _quote(quote: PartsQuote) -> PartsQuoteSummary:
    return PartsQuoteSummary(quote_id=quote.id, number=quote.number, status=quote.status,
                             customer_name=quote.customer_name, valid_until=quote.valid_until, total=quote.total,
                             lines=_lines_out(quote.lines))


def _sale(sale: PartsSale) -> dict[str, Any]:
    return {"sale_id": sale.id, "number": sale.number, "status": sale.status, "channel": sale.channel,
            "total": sale.total, "receivable": sale.receivable, "received": sale.received,
            "outstanding": sale.outstanding, "outbound_id": sale.outbound_id}


def _outbound(outbound: PartsOutbound) -> PartsOutboundSummary:
    return PartsOutboundSummary(
        outbound_id=outbound.id, number=outbound.number, state=outbound.state, warehouse_id=outbound.warehouse_id,
        to_warehouse_id=outbound.to_warehouse_id,
        source=OutboundSource(kind=outbound.source.kind, id=outbound.source.document_id,
                              number=outbound.source.number),
        lines=_lines_out(outbound.lines))


def _request(request: PartsRequest) -> dict[str, Any]:
    return {"request_id": request.id, "number": request.number, "status": request.status,
            "path": request.path or None, "mobile_warehouse_id": request.mobile_warehouse_id,
            "lines": _lines_out(request.lines)}


def _work_order(order: WorkOrder) -> WorkOrderSummary:
    return WorkOrderSummary(work_order_id=order.id, number=order.number, completed=order.completed,
                            consumed=[ConsumedPart(part_id=k, quantity=v) for k, v in order.consumed.items()])
