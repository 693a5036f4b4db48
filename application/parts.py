"""Parts (配件): catalogue, purchase and receiving, quotes, sales and their receipts,
parts outbounds, technicians' requests (and the three 紧急采购 paths), work orders.

Every command saves the documents and every ``PartStock`` it moved in one
transaction. Two processes shipping or consuming the last units of a part both
write the stock's next version; the store lets one through and the other's
command runs again on what is left and is refused (``insufficient-part-stock``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from application.caller import Caller
from application.coupons import coupons_to_redeem
from application.ledger import CommandResult, CommandRunner, Outcome
from domain import ids
from domain.access import Permission
from domain.base import Context, DealerAggregate, InvalidValueError, NotFoundError
from domain.coupons import CouponUse
from domain.customers import Customer
from domain.organisation import Company, Warehouse, WarehouseKind
from domain.parts import (
    JobType,
    Part,
    PartCategory,
    PartLine,
    PartsOutbound,
    PartsQuote,
    PartsRequest,
    PartsSale,
    PartStock,
    PurchaseOrder,
    RequestPath,
    SaleChannel,
    WarehouseNotUsableError,
    WorkOrder,
    check_technician,
    part_lines,
    part_not_found,
)
from domain.receivables import ReceiptMethod

LineRequest = tuple[UUID, int, Decimal | None]   # part id, quantity, unit price (None: the catalogue's)


class _Stocks:
    """The stocks a command touches, opened on first use, all saved with the command."""

    def __init__(self, runner: CommandRunner, ctx: Context) -> None:
        self.runner = runner
        self.ctx = ctx
        self.touched: dict[UUID, PartStock] = {}

    def of(self, warehouse: Warehouse, parts: Iterable[Part]) -> dict[UUID, PartStock]:
        return {part.id: self.one(part.id, warehouse.id, part, warehouse) for part in parts}

    def one(self, part_id: UUID, warehouse_id: UUID, part: Part | None = None,
            warehouse: Warehouse | None = None) -> PartStock:
        """The stock of a part in a warehouse, opened if it has none yet (the part and the
        warehouse are read only then, when not given)."""
        stock_id = ids.part_stock_id(part_id, warehouse_id)
        stock = self.touched.get(stock_id) or self.runner.find(stock_id, PartStock)
        if stock is None:
            part = part or self.runner.find(part_id, Part)
            if part is None:
                raise part_not_found(part_id)
            stock = PartStock.open(self.ctx, part, warehouse or self.runner.get(warehouse_id, Warehouse, "Warehouse"))
        self.touched[stock_id] = stock
        return stock

    def __iter__(self):
        # A stock opened for this command but left unmoved (e.g. a part of a request not yet
        # shipped to the van) is not saved: stock rows exist where parts moved.
        return iter([s for s in self.touched.values() if not (s.version == 1 and len(s.pending_events) == 1)])


def load_part_stocks(runner: CommandRunner, ctx: Context,
                     keys: Iterable[tuple[UUID, UUID]]) -> dict[tuple[UUID, UUID], PartStock]:
    """The parts stocks (by part and warehouse) a contract's accessory lines move, opened
    on first use."""
    stocks = _Stocks(runner, ctx)
    return {(part_id, warehouse_id): stocks.one(part_id, warehouse_id) for part_id, warehouse_id in keys}


class PartsService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    # ------------------------------------------------------------ catalogue
    def register_part(self, caller: Caller, part_no: str, name: str, unit: str, category: PartCategory,
                      purchase_price: Decimal, sale_price: Decimal, idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_PARTS_CATALOGUE)

        def handle(ctx: Context) -> Outcome:
            part = Part.register(ctx, part_no, name, unit, category, purchase_price, sale_price)
            if self.runner.find(part.id, Part):
                raise part.refuse_second_creation()
            return Outcome([part], _part(part), 201)

        request = {"part_no": part_no, "name": name, "unit": unit, "category": category,
                   "purchase_price": purchase_price, "sale_price": sale_price}
        return self.runner.run(caller, "CreatePart", request, handle, idempotency_key)

    def change_part_prices(self, caller: Caller, part_id: UUID, purchase_price: Decimal, sale_price: Decimal,
                           reason: str, idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_PARTS_CATALOGUE)

        def handle(ctx: Context) -> Outcome:
            part = self._part(part_id)
            part.change_prices(ctx, purchase_price, sale_price)
            return Outcome([part], _part(part))

        request = {"part_id": part_id, "purchase_price": purchase_price, "sale_price": sale_price, "reason": reason}
        return self.runner.run(caller, "ChangePartPrices", request, handle, idempotency_key, reason=reason)

    # ------------------------------------------------------------ purchase
    def create_purchase_order(self, caller: Caller, company_id: UUID, supplier: str, warehouse_id: UUID,
                              lines: Sequence[LineRequest], idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.PURCHASE_PARTS)

        def handle(ctx: Context) -> Outcome:
            company = self.runner.get_in_scope(caller, company_id, Company, f"Company {company_id}")
            warehouse = self._warehouse(caller, warehouse_id)
            parts, typed = self._lines(lines, use_sale_price=False)
            stocks = _Stocks(self.runner, ctx)
            order = PurchaseOrder.place(ctx, uuid4(), company, supplier, warehouse, typed,
                                        stocks.of(warehouse, parts))
            return Outcome([order, *stocks], _order(order), 201)

        request = {"company_id": company_id, "supplier": supplier, "warehouse_id": warehouse_id,
                   "lines": [list(line) for line in lines]}
        return self.runner.run(caller, "CreatePurchaseOrder", request, handle, idempotency_key)

    def receive_purchase(self, caller: Caller, order_id: UUID, quantities: Mapping[int, int],
                         idempotency_key: str | None = None) -> CommandResult:
        """入库 at the order's warehouse. An emergency purchase for a technician's request that
        arrives at a warehouse (path 3) is reserved there at once by an outbound to the
        technician's mobile warehouse, in the same transaction."""
        caller.require(Permission.RECEIVE_PARTS)

        def handle(ctx: Context) -> Outcome:
            order = self.runner.get_in_scope(caller, order_id, PurchaseOrder, f"Purchase order {order_id}")
            warehouse = self.runner.get(order.warehouse_id, Warehouse, "Warehouse")
            request = self.runner.get(order.request_id, PartsRequest, "Parts request") if order.request_id else None
            if request is not None and request.path == RequestPath.PURCHASE_TO_TECHNICIAN:
                raise InvalidValueError(f"Purchase order {order.number} goes straight to the technician, who "
                                        "confirms its receipt on their request.", field="order_id")
            parts = [self._part(line.part_id) for line in order.lines.values()]
            stocks = _Stocks(self.runner, ctx)
            at_warehouse = stocks.of(warehouse, parts)
            received = order.receive(ctx, quantities, at_warehouse)
            changed: list[DealerAggregate] = [order]
            body = _order(order)
            if request is not None:
                # What arrived is reserved for the technician at once, by an outbound to their van.
                company = self.runner.get(order.company_id, Company, "Company")
                mobile = self.runner.get(request.mobile_warehouse_id, Warehouse, "Mobile warehouse")
                arrived = tuple(replace(order.lines[r.line_no], quantity=r.quantity) for r in received)
                outbound = PartsOutbound.prepare(ctx, uuid4(), company, warehouse, request.ref, arrived,
                                                 at_warehouse, mobile)
                request.purchase_arrived(ctx, outbound)
                changed += [outbound, request]
                body["outbound_id"] = str(outbound.id)
                body["outbound_number"] = outbound.number
            body["received"] = [{"line_no": r.line_no, "quantity": r.quantity} for r in received]
            return Outcome([*changed, *stocks], body)

        request = {"order_id": order_id, "lines": {str(k): v for k, v in sorted(quantities.items())}}
        return self.runner.run(caller, "ReceivePurchase", request, handle, idempotency_key)

    # ------------------------------------------------------------ quotes and sales
    def create_parts_quote(self, caller: Caller, company_id: UUID, customer_id: UUID | None,
                           customer_name: str | None, lines: Sequence[LineRequest], valid_until: date,
                           idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.SELL_PARTS)

        def handle(ctx: Context) -> Outcome:
            company = self.runner.get_in_scope(caller, company_id, Company, f"Company {company_id}")
            name = customer_name
            if customer_id is not None:
                customer = self.runner.get_in_scope(caller, customer_id, Customer, f"Customer {customer_id}")
                if customer.company_id != company.id:
                    raise InvalidValueError("The customer belongs to another member company.", field="customer_id")
                name = customer.name
            elif not customer_name:
                raise InvalidValueError("Name the customer: a registered customer, or a walk-in's name.",
                                        field="customer_name")
            _, typed = self._lines(lines, use_sale_price=True)
            quote = PartsQuote.offer(ctx, uuid4(), company, customer_id, name or "", typed, valid_until)
            return Outcome([quote], _quote(quote), 201)

        request = {"company_id": company_id, "customer_id": customer_id, "customer_name": customer_name,
                   "lines": [list(line) for line in lines], "valid_until": valid_until}
        return self.runner.run(caller, "CreatePartsQuote", request, handle, idempotency_key)

    def agree_parts_quote(self, caller: Caller, quote_id: UUID, idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.SELL_PARTS)

        def handle(ctx: Context) -> Outcome:
            quote = self.runner.get_in_scope(caller, quote_id, PartsQuote, f"Parts quote {quote_id}")
            quote.agree(ctx)
            return Outcome([quote], _quote(quote))

        return self.runner.run(caller, "AgreePartsQuote", {"quote_id": quote_id}, handle, idempotency_key)

    def create_parts_sale(self, caller: Caller, quote_id: UUID, channel: SaleChannel, warehouse_id: UUID,
                          idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.SELL_PARTS)

        def handle(ctx: Context) -> Outcome:
            quote = self.runner.get_in_scope(caller, quote_id, PartsQuote, f"Parts quote {quote_id}")
            company = self.runner.get(quote.company_id, Company, "Company")
            warehouse = self._warehouse(caller, warehouse_id)
            sale = PartsSale.draft(ctx, uuid4(), company, quote, channel, warehouse)
            return Outcome([sale, quote], _sale(sale), 201)

        request = {"quote_id": quote_id, "channel": channel, "warehouse_id": warehouse_id}
        return self.runner.run(caller, "CreatePartsSale", request, handle, idempotency_key)

    def submit_parts_sale(self, caller: Caller, sale_id: UUID, idempotency_key: str | None = None) -> CommandResult:
        """Submits the sale: its parts outbound reserves the parts and waits for the keeper."""
        caller.require(Permission.SELL_PARTS)

        def handle(ctx: Context) -> Outcome:
            sale = self.runner.get_in_scope(caller, sale_id, PartsSale, f"Parts sale {sale_id}")
            company = self.runner.get(sale.company_id, Company, "Company")
            warehouse = self.runner.get(sale.warehouse_id, Warehouse, "Warehouse")
            stocks = _Stocks(self.runner, ctx)
            sale.check_submit()
            outbound = PartsOutbound.prepare(ctx, uuid4(), company, warehouse, sale.ref, sale.lines,
                                             stocks.of(warehouse, self._parts_of(sale.lines)))
            sale.submit(ctx, outbound)
            return Outcome([sale, outbound, *stocks], {**_sale(sale), "outbound_id": str(outbound.id),
                                                       "outbound_number": outbound.number})

        return self.runner.run(caller, "SubmitPartsSale", {"sale_id": sale_id}, handle, idempotency_key)

    def cancel_parts_sale(self, caller: Caller, sale_id: UUID, reason: str,
                          idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.SELL_PARTS)

        def handle(ctx: Context) -> Outcome:
            sale = self.runner.get_in_scope(caller, sale_id, PartsSale, f"Parts sale {sale_id}")
            sale.cancel(ctx)
            changed: list[DealerAggregate] = [sale]
            if sale.outbound_id is not None:
                outbound = self.runner.get(sale.outbound_id, PartsOutbound, "Parts outbound")
                warehouse = self.runner.get(outbound.warehouse_id, Warehouse, "Warehouse")
                stocks = _Stocks(self.runner, ctx)
                outbound.cancel(ctx, stocks.of(warehouse, self._parts_of(outbound.lines)))
                changed += [outbound, *stocks]
            return Outcome(changed, _sale(sale))

        return self.runner.run(caller, "CancelPartsSale", {"sale_id": sale_id, "reason": reason}, handle,
                               idempotency_key, reason=reason)

    def record_parts_sale_receipt(self, caller: Caller, sale_id: UUID, amount: Decimal, value_date: date,
                                  method: ReceiptMethod, reference: str | None = None,
                                  coupons: Sequence[tuple[str, Decimal]] = (),
                                  idempotency_key: str | None = None) -> CommandResult:
        """收款 for a parts sale; coupons pay part of it, redeemed in the same transaction."""
        caller.require(Permission.RECORD_RECEIPTS)

        def handle(ctx: Context) -> Outcome:
            sale = self.runner.get_in_scope(caller, sale_id, PartsSale, f"Parts sale {sale_id}")
            receipt_id = uuid4()
            used = coupons_to_redeem(self.runner, caller, coupons)
            if used and sale.customer_id is None:
                raise InvalidValueError(f"Parts sale {sale.number} is to a walk-in customer; coupons are used by "
                                        "the registered customer who holds them.", field="coupons")
            if len({c.id for c, _ in used}) != len(used):
                raise InvalidValueError("A coupon appears twice; put its whole amount on one line.", field="coupons")
            uses = tuple(CouponUse(c.id, c.code, Decimal(str(a))) for c, a in used)
            sale.receive_payment(ctx, receipt_id, amount, method, value_date, reference, uses)
            if used:
                assert sale.customer_id is not None
                customer = self.runner.get(sale.customer_id, Customer, "Customer")
                for coupon, coupon_amount in used:
                    coupon.redeem_on_parts_sale(ctx, receipt_id, sale.id, sale.number, coupon_amount, sale.company_id,
                                                sale.customer_id, customer.contact_ids, value_date)
            return Outcome([sale, *(c for c, _ in used)], {**_sale(sale), "receipt_id": str(receipt_id)}, 201)

        request = {"sale_id": sale_id, "amount": amount, "value_date": value_date, "method": method,
                   "reference": reference, "coupons": [list(c) for c in coupons]}
        return self.runner.run(caller, "RecordPartsSaleReceipt", request, handle, idempotency_key)

    # ------------------------------------------------------------ the outbound
    def ship_parts_outbound(self, caller: Caller, outbound_id: UUID,
                            idempotency_key: str | None = None) -> CommandResult:
        """出库 by the warehouse keeper: a sale's parts leave for the customer; a request's
        parts leave for the technician's mobile warehouse (pending there until confirmed)."""
        caller.require(Permission.SHIP_PARTS)

        def handle(ctx: Context) -> Outcome:
            outbound = self.runner.get_in_scope(caller, outbound_id, PartsOutbound, f"Parts outbound {outbound_id}")
            warehouse = self.runner.get(outbound.warehouse_id, Warehouse, "Warehouse")
            parts = self._parts_of(outbound.lines)
            stocks = _Stocks(self.runner, ctx)
            at_warehouse = stocks.of(warehouse, parts)
            destination = None
            if outbound.to_warehouse_id is not None:
                destination = stocks.of(self.runner.get(outbound.to_warehouse_id, Warehouse, "Mobile warehouse"),
                                        parts)
            # Read again now that its stocks are read: a shipment another process committed in
            # between shows here as shipped, never as a waiting outbound whose stock already left.
            outbound = self.runner.get(outbound_id, PartsOutbound, "Parts outbound")
            outbound.ship(ctx, at_warehouse, destination)
            source = self.runner.get(outbound.source.document_id, DealerAggregate, "Document")
            assert isinstance(source, PartsSale | PartsRequest), "an outbound ships a sale or a request"
            source.shipped(ctx, outbound)
            return Outcome([outbound, source, *stocks], _outbound(outbound))

        return self.runner.run(caller, "ShipPartsOutbound", {"outbound_id": outbound_id}, handle, idempotency_key)

    # ------------------------------------------------------------ technicians
    def request_parts(self, caller: Caller, mobile_warehouse_id: UUID, lines: Sequence[tuple[UUID, int]],
                      work_order_id: UUID | None = None, note: str | None = None,
                      idempotency_key: str | None = None) -> CommandResult:
        """"My parts": a technician asks for parts for a job, or from within a work order (or the
        office for them)."""
        _technician_or_office(caller)

        def handle(ctx: Context) -> Outcome:
            mobile = self._mobile(caller, mobile_warehouse_id)
            company = self.runner.get(mobile.company_id, Company, "Company")
            work_order = (self.runner.get_in_scope(caller, work_order_id, WorkOrder, f"Work order {work_order_id}")
                          if work_order_id else None)
            _, typed = self._lines([(p, q, None) for p, q in lines], use_sale_price=False)
            request = PartsRequest.request(ctx, uuid4(), company, mobile, typed, work_order, note)
            return Outcome([request], _request(request), 201)

        request = {"mobile_warehouse_id": mobile_warehouse_id, "lines": [list(line) for line in lines],
                   "work_order_id": work_order_id, "note": note}
        return self.runner.run(caller, "RequestParts", request, handle, idempotency_key)

    def handle_parts_request(self, caller: Caller, request_id: UUID, path: RequestPath, warehouse_id: UUID | None,
                             supplier: str | None = None, unit_prices: Mapping[int, Decimal] | None = None,
                             idempotency_key: str | None = None) -> CommandResult:
        """紧急采购: fill a request from a warehouse, or by an emergency purchase shipped
        straight to the technician or to a warehouse."""
        caller.require(Permission.HANDLE_PARTS_REQUESTS)
        path = RequestPath(path)

        def handle(ctx: Context) -> Outcome:
            request = self.runner.get_in_scope(caller, request_id, PartsRequest, f"Parts request {request_id}")
            company = self.runner.get(request.company_id, Company, "Company")
            mobile = self.runner.get(request.mobile_warehouse_id, Warehouse, "Mobile warehouse")
            parts = self._parts_of(request.lines)
            stocks = _Stocks(self.runner, ctx)
            if path == RequestPath.PURCHASE_TO_TECHNICIAN:
                if warehouse_id is not None and warehouse_id != mobile.id:
                    raise InvalidValueError("An emergency purchase shipped to the technician goes to their mobile "
                                            "warehouse; leave warehouse_id out.", field="warehouse_id")
                warehouse = mobile
            else:
                if warehouse_id is None:
                    raise InvalidValueError("Name the warehouse that ships the parts (or receives the purchase).",
                                            field="warehouse_id")
                warehouse = self._warehouse(caller, warehouse_id)
                if warehouse.kind == WarehouseKind.MOBILE:
                    raise WarehouseNotUsableError(f"Warehouse {warehouse.code} is a technician's mobile warehouse; "
                                                  "choose a main or parts warehouse.", field="warehouse_id")
            if path == RequestPath.FROM_WAREHOUSE:
                if supplier or unit_prices:
                    raise InvalidValueError("Parts from a warehouse need no supplier or prices.", field="supplier")
                outbound = PartsOutbound.prepare(ctx, uuid4(), company, warehouse, request.ref, request.lines,
                                                 stocks.of(warehouse, parts), mobile)
                request.handle_from_warehouse(ctx, outbound)
                return Outcome([request, outbound, *stocks], {**_request(request), "outbound_id": str(outbound.id),
                                                              "outbound_number": outbound.number})
            prices = dict(unit_prices or {})
            if unknown := set(prices) - {line.line_no for line in request.lines}:
                raise InvalidValueError(f"Parts request {request.number} has no line {min(unknown)}.",
                                        field="unit_prices")
            _, priced = self._lines([(line.part_id, line.quantity, prices.get(line.line_no, line.unit_price))
                                     for line in request.lines], use_sale_price=False)
            order = PurchaseOrder.place(ctx, uuid4(), company, supplier or "", warehouse, priced,
                                        stocks.of(warehouse, parts), request)
            request.handle_by_purchase(ctx, path, order)
            return Outcome([request, order, *stocks], {**_request(request), "purchase_order_id": str(order.id),
                                                       "purchase_order_number": order.number})

        request = {"request_id": request_id, "path": path, "warehouse_id": warehouse_id, "supplier": supplier,
                   "unit_prices": {str(k): v for k, v in sorted((unit_prices or {}).items())}}
        return self.runner.run(caller, "HandlePartsRequest", request, handle, idempotency_key)

    def confirm_parts_receipt(self, caller: Caller, request_id: UUID,
                              idempotency_key: str | None = None) -> CommandResult:
        _technician_or_office(caller)

        def handle(ctx: Context) -> Outcome:
            request = self.runner.get_in_scope(caller, request_id, PartsRequest, f"Parts request {request_id}")
            mobile = self._mobile(caller, request.mobile_warehouse_id)
            stocks = _Stocks(self.runner, ctx)
            at_mobile = stocks.of(mobile, self._parts_of(request.lines))
            # Read again now that its stocks are read: a confirmation another process committed in
            # between shows here, never a shipment whose parts are already in the van.
            request = self.runner.get(request_id, PartsRequest, f"Parts request {request_id}")
            changed: list[DealerAggregate] = [request]
            if request.path == RequestPath.PURCHASE_TO_TECHNICIAN and request.purchase_order_id:
                order = self.runner.get(request.purchase_order_id, PurchaseOrder, "Purchase order")
                request.confirm_receipt(ctx, at_mobile, order=order)
                changed.insert(0, order)   # the receipt, then the confirmation it completes
            else:
                outbounds = [self.runner.get(o, PartsOutbound, "Parts outbound") for o in request.shipped_outbound_ids]
                request.confirm_receipt(ctx, at_mobile, outbounds=outbounds)
            return Outcome([*changed, *stocks], _request(request))

        return self.runner.run(caller, "ConfirmPartsReceipt", {"request_id": request_id}, handle, idempotency_key)

    def open_work_order(self, caller: Caller, mobile_warehouse_id: UUID, customer_id: UUID | None,
                        customer_name: str | None, serial_number: str, job_type: JobType,
                        idempotency_key: str | None = None) -> CommandResult:
        _technician_or_office(caller)

        def handle(ctx: Context) -> Outcome:
            mobile = self._mobile(caller, mobile_warehouse_id)
            company = self.runner.get(mobile.company_id, Company, "Company")
            name = customer_name
            if customer_id is not None:
                customer = self.runner.find(customer_id, Customer)
                if customer is None or customer.company_id != company.id:
                    raise NotFoundError(f"Customer {customer_id} does not exist.", code="customer-not-found")
                name = customer.name
            elif not customer_name:
                raise InvalidValueError("Name the customer whose machine is worked on.", field="customer_name")
            order = WorkOrder.open(ctx, uuid4(), company, mobile, customer_id, name or "", serial_number, job_type)
            return Outcome([order], _work_order(order), 201)

        request = {"mobile_warehouse_id": mobile_warehouse_id, "customer_id": customer_id,
                   "customer_name": customer_name, "serial_number": serial_number, "job_type": job_type}
        return self.runner.run(caller, "OpenWorkOrder", request, handle, idempotency_key)

    def consume_parts(self, caller: Caller, work_order_id: UUID, lines: Sequence[tuple[UUID, int]],
                      idempotency_key: str | None = None) -> CommandResult:
        """Parts used on the job, from the technician's mobile warehouse; refused for what
        they do not hold."""
        _technician_or_office(caller)

        def handle(ctx: Context) -> Outcome:
            order = self.runner.get_in_scope(caller, work_order_id, WorkOrder, f"Work order {work_order_id}")
            mobile = self._mobile(caller, order.mobile_warehouse_id)
            parts = [self._part(part_id) for part_id, _ in lines]
            stocks = _Stocks(self.runner, ctx)
            order.consume(ctx, list(zip(parts, (q for _, q in lines), strict=True)), stocks.of(mobile, parts),
                          mobile.technician_name or mobile.code)
            return Outcome([order, *stocks], _work_order(order))

        request = {"work_order_id": work_order_id, "lines": [list(line) for line in lines]}
        return self.runner.run(caller, "ConsumeParts", request, handle, idempotency_key)

    def complete_work_order(self, caller: Caller, work_order_id: UUID,
                            idempotency_key: str | None = None) -> CommandResult:
        _technician_or_office(caller)

        def handle(ctx: Context) -> Outcome:
            order = self.runner.get_in_scope(caller, work_order_id, WorkOrder, f"Work order {work_order_id}")
            self._mobile(caller, order.mobile_warehouse_id)
            order.complete(ctx)
            return Outcome([order], _work_order(order))

        return self.runner.run(caller, "CompleteWorkOrder", {"work_order_id": work_order_id}, handle,
                               idempotency_key)

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
def _lines_out(lines: Iterable[PartLine]) -> list[dict]:
    return [{"line_no": line.line_no, "part_id": str(line.part_id), "part_no": line.part_no, "name": line.name,
             "quantity": line.quantity, "unit_price": line.unit_price, "amount": line.amount} for line in lines]


def _part(part: Part) -> dict:
    return {"part_id": str(part.id), "part_no": part.part_no, "name": part.name, "unit": part.unit,
            "category": str(part.category), "purchase_price": part.purchase_price, "sale_price": part.sale_price}


def _order(order: PurchaseOrder) -> dict:
    return {"order_id": str(order.id), "number": order.number, "status": str(order.status),
            "warehouse_id": str(order.warehouse_id), "amount": order.amount,
            "lines": [{**line, "received": order.received[line["line_no"]]}
                      for line in _lines_out(order.lines.values())]}


def _quote(quote: PartsQuote) -> dict:
    return {"quote_id": str(quote.id), "number": quote.number, "status": str(quote.status),
            "customer_name": quote.customer_name, "valid_until": quote.valid_until, "total": quote.total,
            "lines": _lines_out(quote.lines)}


def _sale(sale: PartsSale) -> dict:
    return {"sale_id": str(sale.id), "number": sale.number, "status": str(sale.status),
            "channel": str(sale.channel), "total": sale.total, "receivable": sale.receivable,
            "received": sale.received, "outstanding": sale.outstanding,
            "outbound_id": str(sale.outbound_id) if sale.outbound_id else None}


def _outbound(outbound: PartsOutbound) -> dict:
    return {"outbound_id": str(outbound.id), "number": outbound.number, "state": str(outbound.state),
            "warehouse_id": str(outbound.warehouse_id),
            "to_warehouse_id": str(outbound.to_warehouse_id) if outbound.to_warehouse_id else None,
            "source": {"kind": str(outbound.source.kind), "id": str(outbound.source.document_id),
                       "number": outbound.source.number},
            "lines": _lines_out(outbound.lines)}


def _request(request: PartsRequest) -> dict:
    return {"request_id": str(request.id), "number": request.number, "status": str(request.status),
            "path": str(request.path) if request.path else None,
            "mobile_warehouse_id": str(request.mobile_warehouse_id), "lines": _lines_out(request.lines)}


def _work_order(order: WorkOrder) -> dict:
    return {"work_order_id": str(order.id), "number": order.number, "completed": order.completed,
            "consumed": [{"part_id": str(k), "quantity": v} for k, v in order.consumed.items()]}
