"""Given / when / then for parts (配件) without a store: the catalogue, stock of a part in a
warehouse (on hand, reserved and pending inbound, each kept per document), purchase orders
and their receipts, quotes, sales with their channels and payments, parts outbounds, a
technician's requests by the three emergency paths (紧急采购), work orders consuming from the
technician's mobile warehouse (移动库), and a contract's accessory lines drawing on parts stock.

A command that moves parts changes several aggregates (the document and each stock it
touches); a refused command records nothing on any of them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain import ids
from domain.base import DomainError, InvalidValueError
from domain.contracts import Contract, OutboundLine, OutboundStatus
from domain.coupons import (Coupon, CouponBalanceError, CouponHolder, CouponHolderError, CouponOrigin, CouponUse,
                            HolderKind)
from domain.organisation import Company, Warehouse, WarehouseKind
from domain.parts import (
    DocumentKind,
    DocumentRef,
    InsufficientPartStockError,
    JobType,
    NotYourMobileWarehouseError,
    OutboundState,
    OverReceiptError,
    Part,
    PartCategory,
    PartLine,
    PartsDocumentStateError,
    PartsOutbound,
    PartsQuote,
    PartsRequest,
    PartsSale,
    PartStock,
    PurchaseOrder,
    PurchaseStatus,
    QuoteStatus,
    ReceivedLine,
    RequestPath,
    RequestStatus,
    SaleChannel,
    SalePayment,
    SaleStatus,
    WarehouseNotUsableError,
    WorkOrder,
    check_technician,
    part_lines,
)
from domain.receivables import ReceiptMethod
from tests.unit.given import BUSINESS_DATE, ctx, given, then_events, then_metadata, then_refused
from tests.unit.test_delivery_rules import CHUZHOU, CHUZHOU_MAIN, HEFEI, HEFEI_MAIN, HEFEI_PARTS, contract_of
from interfaces.http.errors import status_of

D = Decimal
TODAY = BUSINESS_DATE                                   # 2026-03-02
ZHOU = UUID("77777777-7777-5777-8777-777777777777")     # technician, owns VAN1
LI = UUID("88888888-8888-5888-8888-888888888888")       # technician, owns VAN2
OFFICE = UUID("99999999-9999-5999-8999-999999999999")   # handles requests
HEFEI_VAN = given(Warehouse.create(ctx(), HEFEI, "VAN1", "Zhou's van", WarehouseKind.MOBILE, "Zhou Wei", ZHOU))
LI_VAN = given(Warehouse.create(ctx(), HEFEI, "VAN2", "Li's van", WarehouseKind.MOBILE, "Li Na", LI))
CHUZHOU_VAN = given(Warehouse.create(ctx(), CHUZHOU, "VAN1", "Chuzhou van", WarehouseKind.MOBILE, "Wu", uuid4()))
FILTER = given(Part.register(ctx(), "F-001", "Oil filter", "piece", PartCategory.FILTER, D("38.50"), D("65.00")))
PUMP = given(Part.register(ctx(), "HP-200", "Hydraulic pump", "piece", PartCategory.HYDRAULIC, D("4200.00"),
                           D("5600.00")))
SEED = DocumentRef(DocumentKind.PURCHASE_ORDER, uuid4(), "PO-SEED")


# ------------------------------------------------------------------ building blocks
def settle(*aggregates) -> None:
    """What happened so far is the given."""
    for aggregate in aggregates:
        aggregate.collect_events()


def stock(part: Part, warehouse: Warehouse, on_hand: int = 0) -> PartStock:
    """The stock of ``part`` in ``warehouse``, ``on_hand`` received by an earlier purchase."""
    opened = PartStock.open(ctx(), part, warehouse)
    if on_hand:
        opened.receive(ctx(), on_hand, SEED)
    return given(opened)


def stocks(warehouse: Warehouse, filters: int = 0, pumps: int = 0) -> dict[UUID, PartStock]:
    return {FILTER.id: stock(FILTER, warehouse, filters), PUMP.id: stock(PUMP, warehouse, pumps)}


def doc(kind: DocumentKind = DocumentKind.PARTS_OUTBOUND, number: str = "OUT-1") -> DocumentRef:
    return DocumentRef(kind, uuid4(), number)


def lines(*wanted: tuple, sale: bool = False) -> tuple[PartLine, ...]:
    """Typed lines of (part, quantity) or (part, quantity, unit price)."""
    return part_lines([(p, q, rest[0] if rest else None) for p, q, *rest in wanted], use_sale_price=sale)


def figures(s: PartStock) -> tuple[int, int, int, int]:
    return s.on_hand, s.reserved, s.available, s.pending_in


def refused(when, error: type[DomainError], code: str, status: int, *aggregates) -> DomainError:
    """The command is refused, and none of ``aggregates`` recorded anything or changed."""
    before = [a.version for a in aggregates]
    refusal = then_refused(None, when, error, code, status)
    for aggregate, version in zip(aggregates, before, strict=True):
        assert list(aggregate.collect_events()) == [], f"{type(aggregate).__name__} recorded on a refusal"
        assert aggregate.version == version
    return refusal


def placed(warehouse: Warehouse = HEFEI_PARTS, wanted=((FILTER, 10), (PUMP, 2)), at=None,
           request: PartsRequest | None = None) -> tuple[PurchaseOrder, dict[UUID, PartStock]]:
    at = at if at is not None else stocks(warehouse)
    order = PurchaseOrder.place(ctx(), uuid4(), HEFEI, "XCMG Parts", warehouse, lines(*wanted), at, request)
    settle(*at.values())
    return given(order), at


def _offer(wanted=((FILTER, 4), (PUMP, 1)), customer_id: UUID | None = None, company: Company = HEFEI,
           valid_until: date = date(2026, 3, 31)) -> PartsQuote:
    return PartsQuote.offer(ctx(), uuid4(), company, customer_id, "Hefei Earthworks", lines(*wanted, sale=True),
                            valid_until)


def offered(**kwargs) -> PartsQuote:
    return given(_offer(**kwargs))


def agreed(**kwargs) -> PartsQuote:
    quote = _offer(**kwargs)
    quote.agree(ctx())
    return given(quote)


def drafted(channel: SaleChannel = SaleChannel.WALK_IN, warehouse: Warehouse = HEFEI_PARTS,
            **kwargs) -> PartsSale:
    """A sale of 4 filters at 65.00 and 1 pump at 5,600.00: 260.00 + 5,600.00 = 5,860.00."""
    quote = agreed(**kwargs)
    sale = PartsSale.draft(ctx(), uuid4(), HEFEI, quote, channel, warehouse)
    settle(quote)
    return given(sale)


def submitted(channel: SaleChannel = SaleChannel.WALK_IN, filters: int = 10, pumps: int = 3
              ) -> tuple[PartsSale, PartsOutbound, dict[UUID, PartStock]]:
    sale = drafted(channel)
    at = stocks(HEFEI_PARTS, filters, pumps)
    outbound = PartsOutbound.prepare(ctx(), uuid4(), HEFEI, HEFEI_PARTS, sale.ref, sale.lines, at)
    sale.submit(ctx(), outbound)
    settle(sale, *at.values())
    return sale, given(outbound), at


def paid(sale: PartsSale, amount: str, coupons=()) -> UUID:
    receipt_id = uuid4()
    sale.receive_payment(ctx(), receipt_id, D(amount), ReceiptMethod.BANK_TRANSFER, TODAY, "BANK-REF", coupons)
    settle(sale)
    return receipt_id


def requested(mobile: Warehouse = HEFEI_VAN, wanted=((FILTER, 2), (PUMP, 1)),
              work_order: WorkOrder | None = None) -> PartsRequest:
    return given(PartsRequest.request(ctx(actor=ZHOU), uuid4(), HEFEI, mobile, lines(*wanted), work_order))


def work_order(mobile: Warehouse = HEFEI_VAN) -> WorkOrder:
    return given(WorkOrder.open(ctx(actor=ZHOU), uuid4(), HEFEI, mobile, None, "Hefei Earthworks", "SY215C-0001",
                                JobType.REPAIR))


# ------------------------------------------------------------------ the catalogue
def test_a_part_is_registered_group_wide_under_its_part_number():
    context = ctx()
    part = Part.register(context, " bt-90 1 ", "Bucket tooth", "piece", PartCategory.WEAR, D("85.00"), D("120.00"))
    [registered] = then_events(part, Part.Registered)
    then_metadata(registered, context, None)
    assert (registered.part_no, registered.name, registered.unit, registered.category) == (
        "BT-901", "Bucket tooth", "piece", PartCategory.WEAR)
    assert (registered.purchase_price, registered.sale_price) == (D("85.00"), D("120.00"))
    assert part.id == ids.part_id("BT-901") == ids.part_id("bt-9 01")


def test_a_part_number_registered_twice_is_refused_as_existing():
    refusal = given(Part.register(ctx(), "F-001", "Oil filter", "piece", PartCategory.FILTER, D("1.00"),
                                  D("2.00"))).refuse_second_creation()
    assert (refusal.code, status_of(refusal)) == ("part-exists", 409) and "F-001" in refusal.message


@pytest.mark.parametrize(("part_no", "name", "unit", "purchase", "sale", "field"), [
    ("", "Filter", "piece", "1.00", "2.00", "part_no"),
    ("F-9", " ", "piece", "1.00", "2.00", "name"),
    ("F-9", "Filter", "", "1.00", "2.00", "unit"),
    ("F-9", "Filter", "piece", "-1.00", "2.00", "purchase_price"),
    ("F-9", "Filter", "piece", "1.00", "2.005", "sale_price"),
], ids=["no-number", "no-name", "no-unit", "negative-price", "three-decimals"])
def test_a_part_without_number_name_unit_or_with_a_bad_price_is_refused(part_no, name, unit, purchase, sale, field):
    refusal = then_refused(None, lambda: Part.register(ctx(), part_no, name, unit, PartCategory.FILTER, D(purchase),
                                                       D(sale)), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == field


def test_new_list_prices_are_recorded_with_the_reason():
    part = given(Part.register(ctx(), "F-002", "Fuel filter", "piece", PartCategory.FILTER, D("20.00"), D("35.00")))
    context = ctx(reason="supplier price list 2026")
    part.change_prices(context, D("22.00"), D("36.50"))
    [changed] = then_events(part, Part.PricesChanged)
    then_metadata(changed, context, None)
    assert (changed.purchase_price, changed.sale_price, changed.reason) == (D("22.00"), D("36.50"),
                                                                            "supplier price list 2026")
    assert (part.purchase_price, part.sale_price) == (D("22.00"), D("36.50"))


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_new_prices_without_a_reason_are_refused(reason):
    part = given(Part.register(ctx(), "F-002", "Fuel filter", "piece", PartCategory.FILTER, D("20.00"), D("35.00")))
    refusal = then_refused(part, lambda: part.change_prices(ctx(reason=reason), D("22.00"), D("36.50")),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "reason" and part.purchase_price == D("20.00")


def test_the_same_prices_again_change_nothing():
    part = given(Part.register(ctx(), "F-002", "Fuel filter", "piece", PartCategory.FILTER, D("20.00"), D("35.00")))
    refusal = then_refused(part, lambda: part.change_prices(ctx(reason="again"), D("20"), D("35.0")), DomainError,
                           "nothing-changed", 409)
    assert "F-002" in refusal.message


# ------------------------------------------------------------------ stock of a part in a warehouse
def test_a_stock_is_opened_per_part_and_warehouse_in_the_warehouses_company():
    context = ctx()
    opened = PartStock.open(context, FILTER, HEFEI_PARTS)
    [event] = then_events(opened, PartStock.Opened)
    then_metadata(event, context, HEFEI.id)
    assert (event.part_id, event.part_no, event.warehouse_id) == (FILTER.id, "F-001", HEFEI_PARTS.id)
    assert opened.id == ids.part_stock_id(FILTER.id, HEFEI_PARTS.id) != ids.part_stock_id(FILTER.id, HEFEI_MAIN.id)
    assert figures(opened) == (0, 0, 0, 0) and opened.refuse_second_creation() is None


def test_a_reservation_is_held_for_its_document():
    s = stock(FILTER, HEFEI_PARTS, 10)
    outbound = doc()
    context = ctx()
    s.reserve(context, 7, outbound, HEFEI_PARTS.code)
    [reserved] = then_events(s, PartStock.Reserved)
    then_metadata(reserved, context, HEFEI.id)
    assert (reserved.quantity, reserved.document) == (7, outbound)
    assert figures(s) == (10, 7, 3, 0) and s.reserved_by(outbound) == 7 and s.reserved_by(doc()) == 0


def test_a_reservation_beyond_what_is_free_is_refused_saying_what_is_there():
    s = stock(FILTER, HEFEI_PARTS, 10)
    s.reserve(ctx(), 7, doc(), HEFEI_PARTS.code)
    settle(s)
    refusal = refused(lambda: s.reserve(ctx(), 4, doc(), HEFEI_PARTS.code), InsufficientPartStockError,
                      "insufficient-part-stock", 409, s)
    assert refusal.message == ("Warehouse PARTS has 3 of part F-001 free (10 on hand, 7 reserved); "
                               "4 cannot be taken.")
    assert refusal.details == {"part_no": "F-001", "available": 3, "requested": 4}
    assert figures(s) == (10, 7, 3, 0)


@pytest.mark.parametrize("quantity", [0, -1, True, 100_001, 1.5])
def test_a_quantity_is_a_whole_number_of_units(quantity):
    s = stock(FILTER, HEFEI_PARTS, 10)
    refused(lambda: s.reserve(ctx(), quantity, doc(), "PARTS"), InvalidValueError, "invalid-value", 422, s)


def test_a_release_gives_back_only_what_the_document_holds():
    s = stock(FILTER, HEFEI_PARTS, 10)
    mine, other = doc(number="OUT-MINE"), doc(number="OUT-OTHER")
    s.reserve(ctx(), 3, mine, "PARTS")
    s.reserve(ctx(), 4, other, "PARTS")
    settle(s)
    s.release(ctx(), mine, 5)                       # asks for 5, holds 3
    [released] = then_events(s, PartStock.ReservationReleased)
    assert (released.quantity, released.document) == (3, mine)
    assert (s.reserved_by(mine), s.reserved_by(other), s.available) == (0, 4, 6)
    s.release(ctx(), mine)                          # holds nothing any more: nothing to record
    then_events(s)
    s.release(ctx(), other, 1)
    [partly] = then_events(s, PartStock.ReservationReleased)
    assert partly.quantity == 1 and s.reserved_by(other) == 3


def test_an_issue_sends_out_only_what_the_document_reserved():
    s = stock(FILTER, HEFEI_PARTS, 10)
    mine, other = doc(number="OUT-MINE"), doc(number="OUT-OTHER")
    s.reserve(ctx(), 3, mine, "PARTS")
    s.reserve(ctx(), 4, other, "PARTS")
    settle(s)
    assert s.issue(ctx(), mine) == 3
    [issued] = then_events(s, PartStock.Issued)
    assert (issued.quantity, issued.document, issued.to_warehouse_id) == (3, mine, None)
    assert figures(s) == (7, 4, 3, 0) and s.reserved_by(other) == 4
    # A document never ships what it did not reserve (e.g. a second shipment of one outbound).
    for document, quantity in ((mine, 1), (other, 5)):
        with pytest.raises(PartsDocumentStateError) as refused_issue:
            s.issue(ctx(), document, quantity)
        assert refused_issue.value.code == "parts-document-state" and "Reload it" in refused_issue.value.message
    assert list(s.collect_events()) == [] and figures(s) == (7, 4, 3, 0)


def test_consumption_takes_from_what_is_free():
    s = stock(FILTER, HEFEI_VAN, 5)
    order = doc(DocumentKind.WORK_ORDER, "WO-1")
    s.consume(ctx(actor=ZHOU), 5, order, "Zhou Wei")
    [consumed] = then_events(s, PartStock.Consumed)
    assert (consumed.quantity, consumed.document) == (5, order) and figures(s) == (0, 0, 0, 0)


def test_consumption_beyond_what_is_free_is_refused_and_says_to_request_the_parts():
    s = stock(FILTER, HEFEI_VAN, 5)
    s.reserve(ctx(), 2, doc(), "VAN1")              # held for another document: not free
    settle(s)
    refusal = refused(lambda: s.consume(ctx(), 4, doc(DocumentKind.WORK_ORDER), "Zhou Wei"),
                      InsufficientPartStockError, "insufficient-part-stock", 409, s)
    assert "Zhou Wei holds 3 of part F-001" in refusal.message and "Request the missing parts" in refusal.message
    assert refusal.details == {"part_no": "F-001", "available": 3, "requested": 4}


def test_pending_inbound_is_kept_per_document_and_a_receipt_clears_what_it_announced():
    s = stock(FILTER, HEFEI_PARTS)
    first, second = doc(DocumentKind.PURCHASE_ORDER, "PO-1"), doc(DocumentKind.PURCHASE_ORDER, "PO-2")
    s.expect(ctx(), 10, first)
    s.expect(ctx(), 4, second)
    settle(s)
    s.receive(ctx(), 6, first)
    [received] = then_events(s, PartStock.Received)
    assert (received.quantity, received.document) == (6, first)
    assert figures(s) == (6, 0, 6, 8) and (s.expected_by(first), s.expected_by(second)) == (4, 4)
    s.receive(ctx(), 4, first)
    then_events(s, PartStock.Received)
    assert figures(s) == (10, 0, 10, 4) and s.expected_by(first) == 0


# ------------------------------------------------------------------ purchase orders
def test_a_purchase_order_records_its_pending_inbound_on_each_stock():
    at = stocks(HEFEI_PARTS)
    order_id, context = uuid4(), ctx()
    order = PurchaseOrder.place(context, order_id, HEFEI, "  XCMG Parts ", HEFEI_PARTS,
                                lines((FILTER, 10), (PUMP, 2, D("4100.00"))), at)
    [event] = then_events(order, PurchaseOrder.Placed)
    then_metadata(event, context, HEFEI.id)
    assert event.number == f"PO-HF-20260302-{order_id.hex[:6].upper()}"
    assert (event.supplier, event.warehouse_id, event.request_id, event.request_number) == (
        "XCMG Parts", HEFEI_PARTS.id, None, None)
    assert event.lines == (PartLine(1, FILTER.id, "F-001", "Oil filter", 10, D("38.50")),
                           PartLine(2, PUMP.id, "HP-200", "Hydraulic pump", 2, D("4100.00")))
    [filters] = then_events(at[FILTER.id], PartStock.InboundExpected)
    [pumps] = then_events(at[PUMP.id], PartStock.InboundExpected)
    assert (filters.quantity, filters.document, filters.from_warehouse_id) == (10, order.ref, None)
    assert (pumps.quantity, pumps.document) == (2, order.ref)
    assert order.ref == DocumentRef(DocumentKind.PURCHASE_ORDER, order_id, event.number)
    assert (figures(at[FILTER.id]), figures(at[PUMP.id])) == ((0, 0, 0, 10), (0, 0, 0, 2))
    assert (order.status, order.amount) == (PurchaseStatus.OPEN, D("8585.00"))    # 385.00 + 8,200.00


def test_a_purchase_into_another_companys_warehouse_is_refused():
    at = stocks(CHUZHOU_MAIN)
    refusal = refused(lambda: PurchaseOrder.place(ctx(), uuid4(), HEFEI, "XCMG", CHUZHOU_MAIN, lines((FILTER, 1)),
                                                  at), WarehouseNotUsableError, "warehouse-not-usable", 422,
                      *at.values())
    assert refusal.details == {"field": "warehouse_id"} and "another member company" in refusal.message


def test_a_purchase_straight_into_a_mobile_warehouse_needs_a_technicians_request():
    at = stocks(HEFEI_VAN)
    refusal = refused(lambda: PurchaseOrder.place(ctx(), uuid4(), HEFEI, "XCMG", HEFEI_VAN, lines((FILTER, 1)), at),
                      WarehouseNotUsableError, "warehouse-not-usable", 422, *at.values())
    assert "emergency purchase" in refusal.message
    request = requested()
    order = PurchaseOrder.place(ctx(), uuid4(), HEFEI, "XCMG", HEFEI_VAN, request.lines, at, request)
    [event] = then_events(order, PurchaseOrder.Placed)
    assert (event.request_id, event.request_number, event.warehouse_id) == (request.id, request.number, HEFEI_VAN.id)


def test_a_purchase_is_received_in_parts():
    order, at = placed()
    context = ctx()
    assert order.receive(context, {1: 4}, at) == (ReceivedLine(1, 4),)
    [first] = then_events(order, PurchaseOrder.Received)
    then_metadata(first, context, HEFEI.id)
    assert (first.receipt_no, first.lines) == (1, (ReceivedLine(1, 4),))
    [received] = then_events(at[FILTER.id], PartStock.Received)
    assert (received.quantity, received.document) == (4, order.ref)
    then_events(at[PUMP.id])
    assert (order.status, order.outstanding(1), figures(at[FILTER.id])) == (PurchaseStatus.PARTLY_RECEIVED, 6,
                                                                            (4, 0, 4, 6))
    order.receive(ctx(), {2: 2, 1: 6}, at)
    [second] = then_events(order, PurchaseOrder.Received)
    assert (second.receipt_no, second.lines) == (2, (ReceivedLine(1, 6), ReceivedLine(2, 2)))
    then_events(at[FILTER.id], PartStock.Received)
    then_events(at[PUMP.id], PartStock.Received)
    assert order.status == PurchaseStatus.RECEIVED and order.outstanding_quantities() == {}
    assert (figures(at[FILTER.id]), figures(at[PUMP.id])) == ((10, 0, 10, 0), (2, 0, 2, 0))


@pytest.mark.parametrize("quantities", [{1: 11}, {1: 2, 2: 3}], ids=["one-line", "second-line-over"])
def test_an_over_receipt_is_refused_and_nothing_is_received(quantities):
    order, at = placed()
    refusal = refused(lambda: order.receive(ctx(), quantities, at), OverReceiptError, "over-receipt", 409, order,
                      *at.values())
    line_no = max(n for n, q in quantities.items() if q > order.lines[n].quantity)
    assert refusal.details == {"line_no": line_no, "outstanding": order.lines[line_no].quantity}
    assert "at most" in refusal.message and order.status == PurchaseStatus.OPEN
    assert (figures(at[FILTER.id]), figures(at[PUMP.id])) == ((0, 0, 0, 10), (0, 0, 0, 2))


def test_what_was_received_already_counts_against_an_over_receipt():
    order, at = placed()
    order.receive(ctx(), {1: 8}, at)
    settle(order, *at.values())
    refusal = refused(lambda: order.receive(ctx(), {1: 3}, at), OverReceiptError, "over-receipt", 409, order,
                      *at.values())
    assert "8 already received, so at most 2 more" in refusal.message


@pytest.mark.parametrize(("quantities", "field"), [({3: 1}, "lines"), ({}, "lines"), ({1: 0}, "lines[1].quantity")],
                         ids=["unknown-line", "nothing", "zero"])
def test_a_receipt_of_an_unknown_line_or_of_nothing_is_refused(quantities, field):
    order, at = placed()
    refusal = refused(lambda: order.receive(ctx(), quantities, at), InvalidValueError, "invalid-value", 422, order,
                      *at.values())
    assert refusal.details == {"field": field}


# ------------------------------------------------------------------ quotes
def test_a_quote_is_offered_at_list_prices_unless_told_and_valid_until_a_day_not_past():
    quote_id, context = uuid4(), ctx()
    customer_id = uuid4()
    quote = PartsQuote.offer(context, quote_id, HEFEI, customer_id, " Hefei Earthworks ",
                             lines((FILTER, 4), (PUMP, 1, D("5500.00")), sale=True), TODAY)
    [offered_event] = then_events(quote, PartsQuote.Offered)
    then_metadata(offered_event, context, HEFEI.id)
    assert offered_event.number == f"PQ-HF-20260302-{quote_id.hex[:6].upper()}"
    assert (offered_event.customer_id, offered_event.customer_name, offered_event.valid_until) == (
        customer_id, "Hefei Earthworks", TODAY)
    assert [(line.part_no, line.quantity, line.unit_price) for line in offered_event.lines] == [
        ("F-001", 4, D("65.00")), ("HP-200", 1, D("5500.00"))]
    assert (quote.status, quote.total) == (QuoteStatus.OFFERED, D("5760.00"))      # 260.00 + 5,500.00


def test_a_quote_valid_until_a_past_day_is_refused():
    refusal = then_refused(None, lambda: PartsQuote.offer(ctx(), uuid4(), HEFEI, None, "Walk-in",
                                                          lines((FILTER, 1), sale=True), TODAY - timedelta(days=1)),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": "valid_until"}


def test_repeated_part_lines_are_refused():
    refusal = then_refused(None, lambda: lines((FILTER, 1), (PUMP, 1), (FILTER, 2)), InvalidValueError,
                           "invalid-value", 422)
    assert "Part F-001 is on two lines" in refusal.message


def test_the_customer_agrees_an_offered_quote_once():
    quote = offered()
    context = ctx()
    quote.agree(context)
    [agreed_event] = then_events(quote, PartsQuote.Agreed)
    then_metadata(agreed_event, context, HEFEI.id)
    assert quote.status == QuoteStatus.AGREED
    refusal = then_refused(quote, lambda: quote.agree(ctx()), PartsDocumentStateError, "parts-document-state", 409)
    assert refusal.details == {"state": "agreed"}


def test_an_expired_quote_is_not_agreed():
    on_its_last_day = offered(valid_until=date(2026, 3, 10))
    on_its_last_day.agree(ctx(day=date(2026, 3, 10)))
    then_events(on_its_last_day, PartsQuote.Agreed)
    quote = offered(valid_until=date(2026, 3, 10))
    refusal = then_refused(quote, lambda: quote.agree(ctx(day=date(2026, 3, 11))), PartsDocumentStateError,
                           "parts-document-state", 409)
    assert refusal.details == {"state": "expired"} and "make a new quote" in refusal.message


def test_an_agreed_quote_is_sold_once():
    quote = agreed(customer_id=(customer_id := uuid4()))
    sale_id, context = uuid4(), ctx()
    sale = PartsSale.draft(context, sale_id, HEFEI, quote, SaleChannel.CHANNEL_WHOLESALE, HEFEI_PARTS)
    [sold] = then_events(quote, PartsQuote.Sold)
    [draft] = then_events(sale, PartsSale.Drafted)
    for event in (sold, draft):
        then_metadata(event, context, HEFEI.id)
    assert (sold.sale_id, quote.status, quote.sale_id) == (sale_id, QuoteStatus.SOLD, sale_id)
    assert draft.number == f"PS-HF-20260302-{sale_id.hex[:6].upper()}"
    assert (draft.quote_id, draft.quote_number, draft.channel, draft.customer_id, draft.warehouse_id) == (
        quote.id, quote.number, SaleChannel.CHANNEL_WHOLESALE, customer_id, HEFEI_PARTS.id)
    assert (draft.lines, draft.total, draft.receivable) == (quote.lines, D("5860.00"), D("5860.00"))
    refusal = refused(lambda: PartsSale.draft(ctx(), uuid4(), HEFEI, quote, SaleChannel.WALK_IN, HEFEI_PARTS),
                      PartsDocumentStateError, "parts-document-state", 409, quote)
    assert "only once" in refusal.message and refusal.details == {"state": "sold"}


def test_a_quote_not_agreed_is_not_sold():
    quote = offered()
    refusal = refused(lambda: PartsSale.draft(ctx(), uuid4(), HEFEI, quote, SaleChannel.WALK_IN, HEFEI_PARTS),
                      PartsDocumentStateError, "parts-document-state", 409, quote)
    assert "agreed" in refusal.message and "only once" not in refusal.message


# ------------------------------------------------------------------ sales
def test_a_sale_is_not_drafted_from_another_companys_quote():
    quote = agreed(company=CHUZHOU)
    refusal = refused(lambda: PartsSale.draft(ctx(), uuid4(), HEFEI, quote, SaleChannel.WALK_IN, HEFEI_PARTS),
                      InvalidValueError, "invalid-value", 422, quote)
    assert refusal.details == {"field": "quote_id"} and quote.status == QuoteStatus.AGREED


@pytest.mark.parametrize("warehouse", [HEFEI_VAN, CHUZHOU_MAIN], ids=["mobile", "other-company"])
def test_a_sale_ships_from_a_main_or_parts_warehouse_of_its_company(warehouse):
    quote = agreed()
    refusal = refused(lambda: PartsSale.draft(ctx(), uuid4(), HEFEI, quote, SaleChannel.WALK_IN, warehouse),
                      WarehouseNotUsableError, "warehouse-not-usable", 422, quote)
    assert refusal.details == {"field": "warehouse_id"} and quote.status == QuoteStatus.AGREED


@pytest.mark.parametrize(("channel", "receivable"), [
    (SaleChannel.GIFT, "0.00"), (SaleChannel.INTERNAL_USE, "0.00"), (SaleChannel.WALK_IN, "5860.00"),
    (SaleChannel.CHANNEL_WHOLESALE, "5860.00"), (SaleChannel.OVERHAUL_SHOP, "5860.00"),
    (SaleChannel.PARTS_FAIR, "5860.00"), (SaleChannel.USED_MACHINE_REPAIR, "5860.00")])
def test_a_gift_or_internal_use_leaves_nothing_to_collect(channel, receivable):
    quote = agreed()
    sale = PartsSale.draft(ctx(), uuid4(), HEFEI, quote, channel, HEFEI_MAIN)
    [draft] = then_events(sale, PartsSale.Drafted)
    assert (draft.channel, draft.total, draft.receivable) == (channel, D("5860.00"), D(receivable))
    assert sale.outstanding == D(receivable)


def test_a_draft_is_submitted_once_with_its_outbound():
    sale, at = drafted(), stocks(HEFEI_PARTS, 10, 3)
    outbound = PartsOutbound.prepare(ctx(), uuid4(), HEFEI, HEFEI_PARTS, sale.ref, sale.lines, at)
    context = ctx()
    sale.submit(context, outbound)
    [event] = then_events(sale, PartsSale.Submitted)
    then_metadata(event, context, HEFEI.id)
    assert (event.outbound_id, event.outbound_number) == (outbound.id, outbound.number)
    assert (sale.status, sale.outbound_id) == (SaleStatus.SUBMITTED, outbound.id)
    refusal = then_refused(sale, lambda: sale.submit(ctx(), outbound), PartsDocumentStateError,
                           "parts-document-state", 409)
    assert refusal.details == {"state": "submitted"} and "only a draft" in refusal.message


def test_a_sale_not_yet_shipped_is_cancelled_with_a_reason():
    sale, outbound, at = submitted()
    context = ctx(reason="customer bought elsewhere")
    sale.cancel(context)
    [cancelled] = then_events(sale, PartsSale.Cancelled)
    then_metadata(cancelled, context, HEFEI.id)
    assert sale.status == SaleStatus.CANCELLED
    draft = drafted()
    draft.cancel(ctx(reason="typed twice"))
    then_events(draft, PartsSale.Cancelled)


@pytest.mark.parametrize("reason", [None, " "])
def test_cancelling_a_sale_needs_a_reason(reason):
    sale, _, _ = submitted()
    refusal = then_refused(sale, lambda: sale.cancel(ctx(reason=reason)), InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": "reason"}


def test_a_sale_shipped_paid_or_cancelled_is_not_cancelled():
    shipped_sale, outbound, at = submitted()
    outbound.ship(ctx(), at)
    shipped_sale.shipped(ctx(), outbound)
    settle(shipped_sale, outbound, *at.values())
    refusal = then_refused(shipped_sale, lambda: shipped_sale.cancel(ctx(reason="r")), PartsDocumentStateError,
                           "parts-document-state", 409)
    assert refusal.details == {"state": "shipped"} and "not yet shipped" in refusal.message
    paid_sale, _, _ = submitted()
    paid(paid_sale, "100.00")
    refusal = then_refused(paid_sale, lambda: paid_sale.cancel(ctx(reason="r")), PartsDocumentStateError,
                           "parts-document-state", 409)
    assert "100.00 was received" in refusal.message
    cancelled = drafted()
    cancelled.cancel(ctx(reason="r"))
    settle(cancelled)
    then_refused(cancelled, lambda: cancelled.cancel(ctx(reason="r")), PartsDocumentStateError,
                 "parts-document-state", 409)


def test_payments_with_coupons_are_received_up_to_what_is_outstanding():
    sale, _, _ = submitted()
    receipt_id, context = uuid4(), ctx()
    use = CouponUse(uuid4(), "PROMO-1", D("500.00"))
    sale.receive_payment(context, receipt_id, D("5000.00"), ReceiptMethod.CASH, TODAY - timedelta(days=1), " R-1 ",
                         (use,))
    [event] = then_events(sale, PartsSale.PaymentReceived)
    then_metadata(event, context, HEFEI.id)
    assert event.payment == SalePayment(receipt_id, D("5000.00"), "cash", TODAY - timedelta(days=1), "R-1", (use,))
    assert (sale.received, sale.outstanding) == (D("5000.00"), D("860.00"))
    paid(sale, "860.00")                                                # exactly what is left
    assert sale.outstanding == D("0.00")


def test_a_payment_above_what_is_outstanding_is_refused():
    sale, _, _ = submitted()
    paid(sale, "5000.00")
    refusal = then_refused(sale, lambda: sale.receive_payment(ctx(), uuid4(), D("860.01"), ReceiptMethod.CASH, TODAY,
                                                              None, ()), DomainError, "overpayment", 409)
    assert refusal.details == {"outstanding": D("860.00")}
    gift, _, _ = submitted(SaleChannel.GIFT)
    then_refused(gift, lambda: gift.receive_payment(ctx(), uuid4(), D("0.01"), ReceiptMethod.CASH, TODAY, None, ()),
                 DomainError, "overpayment", 409)


@pytest.mark.parametrize(("amount", "coupons", "value_date", "field"), [
    ("100.00", (D("60.00"), D("40.01")), TODAY, "coupons"),
    ("100.00", (), TODAY + timedelta(days=1), "value_date"),
    ("0.00", (), TODAY, "amount"),
    ("-5.00", (), TODAY, "amount"),
], ids=["coupons-above-amount", "value-date-in-future", "zero", "negative"])
def test_a_payment_with_coupons_above_its_amount_a_future_value_date_or_no_amount_is_refused(amount, coupons,
                                                                                               value_date, field):
    sale, _, _ = submitted()
    uses = tuple(CouponUse(uuid4(), f"C{n}", a) for n, a in enumerate(coupons))
    refusal = then_refused(sale, lambda: sale.receive_payment(ctx(), uuid4(), D(amount), ReceiptMethod.CASH,
                                                              value_date, None, uses),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details == {"field": field}


def test_a_coupon_pays_part_of_a_parts_sale_receipt():
    customer_id = uuid4()
    coupon = given(Coupon.issue(ctx(), "PARTS-0001", HEFEI.id, CouponOrigin.PROMOTION,
                                CouponHolder(HolderKind.CUSTOMER, customer_id), D("300.00"), D("150.00")))
    sale, receipt_id, context = drafted(customer_id=customer_id), uuid4(), ctx()
    coupon.redeem_on_parts_sale(context, receipt_id, sale.id, sale.number, D("120.00"), HEFEI.id, customer_id,
                                frozenset(), TODAY)
    [redeemed] = then_events(coupon, Coupon.RedeemedOnPartsSale)
    then_metadata(redeemed, context, HEFEI.id)
    assert (redeemed.receipt_id, redeemed.sale_id, redeemed.sale_number, redeemed.amount) == (
        receipt_id, sale.id, sale.number, D("120.00"))
    assert (coupon.balance, coupon.redeemed, coupon.uses) == (D("180.00"), D("120.00"), {receipt_id: D("120.00")})
    refused(lambda: coupon.redeem_on_parts_sale(ctx(), uuid4(), sale.id, sale.number, D("180.01"), HEFEI.id,
                                                customer_id, frozenset(), TODAY),
            CouponBalanceError, "coupon-balance", 422, coupon)
    refused(lambda: coupon.redeem_on_parts_sale(ctx(), uuid4(), sale.id, sale.number, D("10.00"), HEFEI.id, uuid4(),
                                                frozenset(), TODAY),
            CouponHolderError, "coupon-holder", 422, coupon)


def test_no_money_is_received_for_a_draft_or_a_cancelled_sale():
    draft = drafted()
    refusal = then_refused(draft, lambda: draft.receive_payment(ctx(), uuid4(), D("10.00"), ReceiptMethod.CASH,
                                                                TODAY, None, ()),
                           PartsDocumentStateError, "parts-document-state", 409)
    assert refusal.details == {"state": "draft"}
    draft.cancel(ctx(reason="r"))
    settle(draft)
    then_refused(draft, lambda: draft.receive_payment(ctx(), uuid4(), D("10.00"), ReceiptMethod.CASH, TODAY, None,
                                                      ()), PartsDocumentStateError, "parts-document-state", 409)


# ------------------------------------------------------------------ parts outbounds
def test_an_outbound_reserves_every_line_for_itself():
    sale, at = drafted(), stocks(HEFEI_PARTS, 10, 3)
    outbound_id, context = uuid4(), ctx()
    outbound = PartsOutbound.prepare(context, outbound_id, HEFEI, HEFEI_PARTS, sale.ref, sale.lines, at)
    [prepared] = then_events(outbound, PartsOutbound.Prepared)
    then_metadata(prepared, context, HEFEI.id)
    assert prepared.number == f"OUT-HF-20260302-{outbound_id.hex[:6].upper()}"
    assert (prepared.warehouse_id, prepared.source, prepared.to_warehouse_id, prepared.lines) == (
        HEFEI_PARTS.id, sale.ref, None, sale.lines)
    [filters] = then_events(at[FILTER.id], PartStock.Reserved)
    [pumps] = then_events(at[PUMP.id], PartStock.Reserved)
    assert (filters.quantity, filters.document, pumps.quantity, pumps.document) == (4, outbound.ref, 1, outbound.ref)
    assert (figures(at[FILTER.id]), figures(at[PUMP.id])) == ((10, 4, 6, 0), (3, 1, 2, 0))
    assert outbound.state == OutboundState.WAITING


@pytest.mark.parametrize(("filters", "pumps", "short"), [(3, 3, "F-001"), (10, 0, "HP-200")],
                         ids=["first-line-short", "last-line-short"])
def test_an_outbound_short_of_any_part_is_refused_and_reserves_nothing(filters, pumps, short):
    sale, at = drafted(), stocks(HEFEI_PARTS, filters, pumps)
    refusal = refused(lambda: PartsOutbound.prepare(ctx(), uuid4(), HEFEI, HEFEI_PARTS, sale.ref, sale.lines, at),
                      InsufficientPartStockError, "insufficient-part-stock", 409, sale, *at.values())
    assert refusal.details["part_no"] == short and "Warehouse PARTS has" in refusal.message
    assert (at[FILTER.id].reserved, at[PUMP.id].reserved) == (0, 0)


@pytest.mark.parametrize("warehouse", [HEFEI_VAN, CHUZHOU_MAIN], ids=["mobile", "other-company"])
def test_an_outbound_leaves_from_a_main_or_parts_warehouse_of_its_company(warehouse):
    sale, at = drafted(), stocks(warehouse, 10, 3)
    refused(lambda: PartsOutbound.prepare(ctx(), uuid4(), HEFEI, warehouse, sale.ref, sale.lines, at),
            WarehouseNotUsableError, "warehouse-not-usable", 422, *at.values())


def test_what_one_outbound_reserved_is_not_taken_by_the_next():
    first, at = drafted(), stocks(HEFEI_PARTS, 5, 1)
    PartsOutbound.prepare(ctx(), uuid4(), HEFEI, HEFEI_PARTS, first.ref, first.lines, at)
    settle(*at.values())
    second = drafted()
    refusal = refused(lambda: PartsOutbound.prepare(ctx(), uuid4(), HEFEI, HEFEI_PARTS, second.ref, second.lines,
                                                    at), InsufficientPartStockError, "insufficient-part-stock", 409,
                      *at.values())
    assert "has 1 of part F-001 free (5 on hand, 4 reserved)" in refusal.message


def test_a_shipment_to_a_customer_issues_what_the_outbound_reserved():
    sale, outbound, at = submitted()
    context = ctx()
    outbound.ship(context, at)
    [shipped] = then_events(outbound, PartsOutbound.Shipped)
    then_metadata(shipped, context, HEFEI.id)
    [filters] = then_events(at[FILTER.id], PartStock.Issued)
    [pumps] = then_events(at[PUMP.id], PartStock.Issued)
    assert (filters.quantity, filters.document, filters.to_warehouse_id) == (4, outbound.ref, None)
    assert (pumps.quantity, pumps.document) == (1, outbound.ref)
    assert (figures(at[FILTER.id]), figures(at[PUMP.id])) == ((6, 0, 6, 0), (2, 0, 2, 0))
    sale.shipped(context, outbound)
    [sale_shipped] = then_events(sale, PartsSale.Shipped)
    assert sale_shipped.outbound_id == outbound.id and sale.status == SaleStatus.SHIPPED


def test_a_shipment_to_a_technician_is_pending_in_the_mobile_warehouse():
    request = requested()
    at, van = stocks(HEFEI_PARTS, 10, 3), stocks(HEFEI_VAN)
    outbound = given(PartsOutbound.prepare(ctx(), uuid4(), HEFEI, HEFEI_PARTS, request.ref, request.lines, at,
                                           HEFEI_VAN))
    settle(*at.values())
    outbound.ship(ctx(), at, van)
    then_events(outbound, PartsOutbound.Shipped)
    [issued] = then_events(at[FILTER.id], PartStock.Issued)
    assert (issued.quantity, issued.to_warehouse_id) == (2, HEFEI_VAN.id)
    [expected] = then_events(van[FILTER.id], PartStock.InboundExpected)
    assert (expected.quantity, expected.document, expected.from_warehouse_id) == (2, outbound.ref, HEFEI_PARTS.id)
    then_events(van[PUMP.id], PartStock.InboundExpected)
    assert (figures(van[FILTER.id]), figures(van[PUMP.id])) == ((0, 0, 0, 2), (0, 0, 0, 1))


def test_an_outbound_ships_once_and_a_shipped_one_is_not_cancelled():
    _, outbound, at = submitted()
    outbound.ship(ctx(), at)
    settle(outbound, *at.values())
    refusal = refused(lambda: outbound.ship(ctx(), at), PartsDocumentStateError, "parts-document-state", 409,
                      outbound, *at.values())
    assert refusal.details == {"state": "shipped"} and "cannot be shipped" in refusal.message
    refused(lambda: outbound.cancel(ctx(), at), PartsDocumentStateError, "parts-document-state", 409, outbound,
            *at.values())


def test_a_cancelled_outbound_releases_its_reservations_and_ships_nothing():
    _, outbound, at = submitted()
    context = ctx(reason="customer cancelled")
    outbound.cancel(context, at)
    [cancelled] = then_events(outbound, PartsOutbound.Cancelled)
    then_metadata(cancelled, context, HEFEI.id)
    [released] = then_events(at[FILTER.id], PartStock.ReservationReleased)
    assert (released.quantity, released.document) == (4, outbound.ref)
    then_events(at[PUMP.id], PartStock.ReservationReleased)
    assert (figures(at[FILTER.id]), figures(at[PUMP.id])) == ((10, 0, 10, 0), (3, 0, 3, 0))
    refused(lambda: outbound.ship(ctx(), at), PartsDocumentStateError, "parts-document-state", 409, outbound,
            *at.values())


# ------------------------------------------------------------------ a technician's requests
def test_a_technician_requests_parts_into_their_mobile_warehouse():
    order = work_order()
    request_id, context = uuid4(), ctx(actor=ZHOU)
    request = PartsRequest.request(context, request_id, HEFEI, HEFEI_VAN, lines((FILTER, 2)), order, " for the job ")
    [event] = then_events(request, PartsRequest.Requested)
    then_metadata(event, context, HEFEI.id)
    assert event.number == f"PR-HF-20260302-{request_id.hex[:6].upper()}"
    assert (event.technician_id, event.mobile_warehouse_id, event.work_order_id, event.work_order_number,
            event.note) == (ZHOU, HEFEI_VAN.id, order.id, order.number, "for the job")
    assert (request.status, request.path) == (RequestStatus.REQUESTED, None)


@pytest.mark.parametrize("warehouse", [HEFEI_PARTS, HEFEI_MAIN, CHUZHOU_VAN], ids=["parts", "main", "other-company"])
def test_parts_are_requested_into_a_mobile_warehouse_of_the_company_only(warehouse):
    refusal = then_refused(None, lambda: PartsRequest.request(ctx(), uuid4(), HEFEI, warehouse, lines((FILTER, 1))),
                           WarehouseNotUsableError, "warehouse-not-usable", 422)
    assert refusal.details == {"field": "mobile_warehouse_id"}


def test_a_request_from_a_work_order_of_another_van_or_a_completed_one_is_refused():
    refusal = then_refused(None, lambda: requested(LI_VAN, work_order=work_order(HEFEI_VAN)), InvalidValueError,
                           "invalid-value", 422)
    assert refusal.details == {"field": "work_order_id"}
    done = work_order()
    done.complete(ctx())
    settle(done)
    then_refused(None, lambda: requested(work_order=done), PartsDocumentStateError, "parts-document-state",
                 409)


def test_a_technician_acts_on_their_own_mobile_warehouse_only():
    assert check_technician(ZHOU, False, HEFEI_VAN) is None
    assert check_technician(OFFICE, True, HEFEI_VAN) is None               # the office acts for any technician
    refusal = then_refused(None, lambda: check_technician(LI, False, HEFEI_VAN), NotYourMobileWarehouseError,
                           "not-your-mobile-warehouse", 403)
    assert "Zhou Wei's" in refusal.message
    refusal = then_refused(None, lambda: check_technician(ZHOU, True, HEFEI_PARTS), WarehouseNotUsableError,
                           "warehouse-not-usable", 422)
    assert refusal.details == {"field": "mobile_warehouse_id"}
    # A van created before vans named their technician's user belongs to no user yet.
    unnamed = given(Warehouse.create(ctx(), HEFEI, "VAN9", "Old van", WarehouseKind.MOBILE, "Zhou Wei"))
    then_refused(None, lambda: check_technician(ZHOU, False, unnamed), NotYourMobileWarehouseError,
                 "not-your-mobile-warehouse", 403)


def test_path_1_a_warehouse_ships_and_the_technician_confirms_what_came():
    request = requested()
    at, van = stocks(HEFEI_PARTS, 10, 3), stocks(HEFEI_VAN)
    outbound = given(PartsOutbound.prepare(ctx(actor=OFFICE), uuid4(), HEFEI, HEFEI_PARTS, request.ref,
                                           request.lines, at, HEFEI_VAN))
    settle(*at.values())
    context = ctx(actor=OFFICE)
    request.handle_from_warehouse(context, outbound)
    [handled] = then_events(request, PartsRequest.Handled)
    then_metadata(handled, context, HEFEI.id)
    assert (handled.path, handled.warehouse_id, handled.outbound_id, handled.outbound_number,
            handled.purchase_order_id) == (RequestPath.FROM_WAREHOUSE, HEFEI_PARTS.id, outbound.id, outbound.number,
                                           None)
    assert (request.status, request.outbound_ids) == (RequestStatus.PREPARED, (outbound.id,))
    # Nothing left the warehouse yet: nothing to confirm.
    refusal = refused(lambda: request.confirm_receipt(ctx(actor=ZHOU), van, outbounds=[outbound]),
                      PartsDocumentStateError, "parts-document-state", 409, request, *van.values())
    assert refusal.details == {"state": "prepared"}
    outbound.ship(ctx(), at, van)
    request.shipped(ctx(), outbound)
    [shipped] = then_events(request, PartsRequest.Shipped)
    assert shipped.outbound_id == outbound.id and request.status == RequestStatus.SHIPPED
    settle(outbound, *at.values(), *van.values())
    context = ctx(actor=ZHOU)
    request.confirm_receipt(context, van, outbounds=[outbound])
    [confirmed] = then_events(request, PartsRequest.ReceiptConfirmed)
    then_metadata(confirmed, context, HEFEI.id)
    assert confirmed.lines == (ReceivedLine(1, 2), ReceivedLine(2, 1)) and request.status == RequestStatus.RECEIVED
    [received] = then_events(van[FILTER.id], PartStock.Received)
    assert (received.quantity, received.document) == (2, outbound.ref)
    then_events(van[PUMP.id], PartStock.Received)
    assert (figures(van[FILTER.id]), figures(van[PUMP.id])) == ((2, 0, 2, 0), (1, 0, 1, 0))
    refused(lambda: request.confirm_receipt(ctx(actor=ZHOU), van, outbounds=[outbound]), PartsDocumentStateError,
            "parts-document-state", 409, request, *van.values())


def test_a_request_is_handled_once():
    request = requested()
    at = stocks(HEFEI_PARTS, 10, 3)
    outbound = PartsOutbound.prepare(ctx(), uuid4(), HEFEI, HEFEI_PARTS, request.ref, request.lines, at, HEFEI_VAN)
    request.handle_from_warehouse(ctx(), outbound)
    settle(request)
    order, _ = placed(HEFEI_PARTS, wanted=((FILTER, 2), (PUMP, 1)), request=request)
    for handle in (lambda: request.handle_from_warehouse(ctx(), outbound),
                   lambda: request.handle_by_purchase(ctx(), RequestPath.PURCHASE_TO_WAREHOUSE, order)):
        refusal = then_refused(request, handle, PartsDocumentStateError, "parts-document-state", 409)
        assert refusal.details == {"state": "prepared"} and "cannot be handled" in refusal.message


def test_path_2_the_technician_confirms_the_emergency_purchase_shipped_to_them():
    request = requested()
    order, van = placed(HEFEI_VAN, wanted=((FILTER, 2), (PUMP, 1)), request=request)
    assert (figures(van[FILTER.id]), figures(van[PUMP.id])) == ((0, 0, 0, 2), (0, 0, 0, 1))
    request.handle_by_purchase(ctx(actor=OFFICE), RequestPath.PURCHASE_TO_TECHNICIAN, order)
    [handled] = then_events(request, PartsRequest.Handled)
    assert (handled.path, handled.warehouse_id, handled.purchase_order_id, handled.purchase_order_number,
            handled.outbound_id) == (RequestPath.PURCHASE_TO_TECHNICIAN, HEFEI_VAN.id, order.id, order.number, None)
    assert request.status == RequestStatus.ORDERED
    context = ctx(actor=ZHOU)
    request.confirm_receipt(context, van, order=order)
    [received] = then_events(order, PurchaseOrder.Received)
    assert (received.receipt_no, received.lines) == (1, (ReceivedLine(1, 2), ReceivedLine(2, 1)))
    [at_van] = then_events(van[FILTER.id], PartStock.Received)
    assert (at_van.quantity, at_van.document) == (2, order.ref)
    then_events(van[PUMP.id], PartStock.Received)
    [confirmed] = then_events(request, PartsRequest.ReceiptConfirmed)
    then_metadata(confirmed, context, HEFEI.id)
    assert confirmed.lines == (ReceivedLine(1, 2), ReceivedLine(2, 1))
    assert (order.status, request.status) == (PurchaseStatus.RECEIVED, RequestStatus.RECEIVED)
    assert (figures(van[FILTER.id]), figures(van[PUMP.id])) == ((2, 0, 2, 0), (1, 0, 1, 0))
    refused(lambda: request.confirm_receipt(ctx(actor=ZHOU), van, order=order), PartsDocumentStateError,
            "parts-document-state", 409, request, order, *van.values())


def test_path_3_the_purchase_arrives_at_the_warehouse_which_ships_it_to_the_technician():
    request = requested()
    order, at = placed(HEFEI_PARTS, wanted=((FILTER, 2), (PUMP, 1)), request=request)
    request.handle_by_purchase(ctx(actor=OFFICE), RequestPath.PURCHASE_TO_WAREHOUSE, order)
    [handled] = then_events(request, PartsRequest.Handled)
    assert (handled.path, handled.warehouse_id, handled.purchase_order_id) == (
        RequestPath.PURCHASE_TO_WAREHOUSE, HEFEI_PARTS.id, order.id)
    assert request.status == RequestStatus.ORDERED
    van = stocks(HEFEI_VAN)
    refused(lambda: request.confirm_receipt(ctx(actor=ZHOU), van, outbounds=[]), PartsDocumentStateError,
            "parts-document-state", 409, request, *van.values())
    # The purchase arrives; an outbound to the technician reserves it in the same command.
    order.receive(ctx(), {1: 2, 2: 1}, at)
    outbound = PartsOutbound.prepare(ctx(), uuid4(), HEFEI, HEFEI_PARTS, request.ref, tuple(order.lines.values()),
                                     at, HEFEI_VAN)
    request.purchase_arrived(ctx(), outbound)
    [arrived] = then_events(request, PartsRequest.OutboundPrepared)
    assert (arrived.outbound_id, arrived.outbound_number) == (outbound.id, outbound.number)
    assert (request.status, request.outbound_ids) == (RequestStatus.PREPARED, (outbound.id,))
    assert [type(e) for e in at[FILTER.id].collect_events()] == [PartStock.Received, PartStock.Reserved]
    settle(order, outbound, *at.values())
    assert (figures(at[FILTER.id]), figures(at[PUMP.id])) == ((2, 2, 0, 0), (1, 1, 0, 0))
    refused(lambda: request.confirm_receipt(ctx(actor=ZHOU), van, outbounds=[outbound]), PartsDocumentStateError,
            "parts-document-state", 409, request, *van.values())
    outbound.ship(ctx(), at, van)
    request.shipped(ctx(), outbound)
    settle(outbound, request, *at.values(), *van.values())
    request.confirm_receipt(ctx(actor=ZHOU), van, outbounds=[outbound])
    [confirmed] = then_events(request, PartsRequest.ReceiptConfirmed)
    assert (confirmed.lines, confirmed.outbound_ids) == ((ReceivedLine(1, 2), ReceivedLine(2, 1)), (outbound.id,))
    assert request.status == RequestStatus.RECEIVED
    # Everything came: nothing more arrives for it.
    then_refused(request, lambda: request.purchase_arrived(ctx(), outbound), PartsDocumentStateError,
                 "parts-document-state", 409)
    [received] = then_events(van[FILTER.id], PartStock.Received)
    assert (received.quantity, received.document) == (2, outbound.ref)
    then_events(van[PUMP.id], PartStock.Received)
    assert (figures(at[FILTER.id]), figures(van[FILTER.id]), figures(van[PUMP.id])) == (
        (0, 0, 0, 0), (2, 0, 2, 0), (1, 0, 1, 0))


def test_a_purchase_arrives_only_for_a_request_that_waits_for_it():
    request = requested()
    at = stocks(HEFEI_PARTS, 10, 3)
    outbound = PartsOutbound.prepare(ctx(), uuid4(), HEFEI, HEFEI_PARTS, request.ref, request.lines, at, HEFEI_VAN)
    refusal = then_refused(request, lambda: request.purchase_arrived(ctx(), outbound), PartsDocumentStateError,
                           "parts-document-state", 409)
    assert refusal.details == {"state": "requested"}


# ------------------------------------------------------------------ work orders
def test_a_work_order_is_opened_on_a_technicians_mobile_warehouse():
    order_id, context = uuid4(), ctx(actor=ZHOU)
    order = WorkOrder.open(context, order_id, HEFEI, HEFEI_VAN, None, " Hefei Earthworks ", "sy215c 0001",
                           JobType.MAINTENANCE)
    [opened] = then_events(order, WorkOrder.Opened)
    then_metadata(opened, context, HEFEI.id)
    assert opened.number == f"WO-HF-20260302-{order_id.hex[:6].upper()}"
    assert (opened.customer_name, opened.serial_number, opened.job_type, opened.technician_id,
            opened.mobile_warehouse_id) == ("Hefei Earthworks", "SY215C0001", JobType.MAINTENANCE, ZHOU,
                                            HEFEI_VAN.id)
    then_refused(None, lambda: work_order(HEFEI_PARTS), WarehouseNotUsableError, "warehouse-not-usable", 422)


def test_a_work_order_consumes_parts_from_the_van():
    order, van = work_order(), stocks(HEFEI_VAN, 5, 1)
    context = ctx(actor=ZHOU)
    order.consume(context, [(FILTER, 2), (PUMP, 1)], van, "Zhou Wei")
    [consumed] = then_events(order, WorkOrder.PartsConsumed)
    then_metadata(consumed, context, HEFEI.id)
    assert [(line.part_id, line.part_no, line.quantity) for line in consumed.lines] == [
        (FILTER.id, "F-001", 2), (PUMP.id, "HP-200", 1)]
    [filters] = then_events(van[FILTER.id], PartStock.Consumed)
    assert (filters.quantity, filters.document) == (2, order.ref)
    then_events(van[PUMP.id], PartStock.Consumed)
    order.consume(ctx(actor=ZHOU), [(FILTER, 3)], van, "Zhou Wei")
    then_events(order, WorkOrder.PartsConsumed)
    assert order.consumed == {FILTER.id: 5, PUMP.id: 1}
    assert (figures(van[FILTER.id]), figures(van[PUMP.id])) == ((0, 0, 0, 0), (0, 0, 0, 0))


@pytest.mark.parametrize(("filters", "pumps", "short"), [(1, 1, "F-001"), (5, 0, "HP-200")],
                         ids=["first-line-short", "last-line-short"])
def test_a_work_order_does_not_consume_what_the_technician_does_not_hold(filters, pumps, short):
    order, van = work_order(), stocks(HEFEI_VAN, filters, pumps)
    refusal = refused(lambda: order.consume(ctx(actor=ZHOU), [(FILTER, 2), (PUMP, 1)], van, "Zhou Wei"),
                      InsufficientPartStockError, "insufficient-part-stock", 409, order, *van.values())
    assert refusal.details["part_no"] == short and "Request the missing parts from the work order" in refusal.message
    assert order.consumed == {} and (van[FILTER.id].on_hand, van[PUMP.id].on_hand) == (filters, pumps)


def test_a_completed_work_order_consumes_nothing_more():
    order, van = work_order(), stocks(HEFEI_VAN, 5, 1)
    context = ctx(actor=ZHOU)
    order.complete(context)
    [completed] = then_events(order, WorkOrder.Completed)
    then_metadata(completed, context, HEFEI.id)
    refusal = refused(lambda: order.consume(ctx(), [(FILTER, 1)], van, "Zhou Wei"), PartsDocumentStateError,
                      "parts-document-state", 409, order, *van.values())
    assert refusal.details == {"state": "completed"}
    then_refused(order, lambda: order.complete(ctx()), PartsDocumentStateError, "parts-document-state", 409)


@pytest.mark.parametrize(("consumed", "message"), [
    ([(FILTER, 1), (PUMP, 1), (FILTER, 1)], "Part F-001 is on two lines"),
    ([], "between 1 and 50 lines"),
    ([(FILTER, 1), (PUMP, 0)], "lines[2].quantity"),
], ids=["repeated-part", "no-lines", "zero-quantity"])
def test_a_consumption_with_repeated_parts_no_lines_or_no_quantity_is_refused(consumed, message):
    order, van = work_order(), stocks(HEFEI_VAN, 5, 1)
    refusal = refused(lambda: order.consume(ctx(), consumed, van, "Zhou Wei"), InvalidValueError, "invalid-value",
                      422, order, *van.values())
    assert message in refusal.message


# ------------------------------------------------------------------ contract accessories from parts stock
def stocked_line(contract: Contract, s: PartStock, quantity: int, agreed_accessory_no: int | None = None,
                 warehouse: Warehouse = HEFEI_PARTS, context=None) -> int:
    """What the handler does: the contract takes the line of PUMP, then its stock reserves it."""
    context = context or ctx()
    line_no = contract.add_accessory_outbound_line(context, quantity, agreed_accessory_no, part=PUMP,
                                                   warehouse=warehouse)
    s.reserve(context, quantity, contract.parts_ref, warehouse.code)
    return line_no


def test_a_contract_accessory_line_of_a_catalogue_part_reserves_its_stock():
    contract, s = contract_of(), stock(PUMP, HEFEI_PARTS, 3)
    context = ctx()
    line_no = stocked_line(contract, s, 2, context=context)
    [added] = then_events(contract, Contract.AccessoryOutboundLineAdded)
    assert added.line == OutboundLine(line_no, "Hydraulic pump", 2, D("5600.00"), None, PUMP.id, HEFEI_PARTS.id)
    [reserved] = then_events(s, PartStock.Reserved)
    then_metadata(reserved, context, HEFEI.id)
    assert (reserved.quantity, reserved.document) == (2, DocumentRef(DocumentKind.CONTRACT, contract.id,
                                                                     contract.number))
    assert figures(s) == (3, 2, 1, 0) and contract.part_stocks_needed() == {(PUMP.id, HEFEI_PARTS.id)}


def test_an_agreed_accessory_drawn_from_parts_stock_keeps_the_contracts_name_and_price():
    contract, s = contract_of(), stock(PUMP, HEFEI_PARTS, 3)
    line_no = stocked_line(contract, s, 1, agreed_accessory_no=1)
    [added] = then_events(contract, Contract.AccessoryOutboundLineAdded)
    assert added.line == OutboundLine(line_no, "Breaker hammer", 1, D("6000.00"), 1, PUMP.id, HEFEI_PARTS.id)
    then_events(s, PartStock.Reserved)


def test_a_contract_accessory_line_beyond_the_free_stock_is_refused_by_the_stock():
    """The stock's own rule, once the contract took the line (the handler saves neither)."""
    contract, s = contract_of(), stock(PUMP, HEFEI_PARTS, 1)
    refusal = refused(lambda: stocked_line(contract, s, 2), InsufficientPartStockError, "insufficient-part-stock",
                      409, s)
    assert "Warehouse PARTS has 1 of part HP-200 free" in refusal.message and figures(s) == (1, 0, 1, 0)


@pytest.mark.parametrize("warehouse", [HEFEI_VAN, CHUZHOU_MAIN], ids=["mobile", "other-company"])
def test_contract_accessories_come_from_a_main_or_parts_warehouse_of_the_contracts_company(warehouse):
    """The contract, asked first, refuses before the stock (which has none free) is asked."""
    contract, s = contract_of(), stock(PUMP, warehouse, 0)
    refusal = refused(lambda: stocked_line(contract, s, 1, warehouse=warehouse), WarehouseNotUsableError,
                      "warehouse-not-usable", 422, contract, s)
    assert refusal.details == {"field": "warehouse_id"}


def _with_part_line(quantity: int = 2, on_hand: int = 3) -> tuple[Contract, PartStock, int]:
    contract, s = contract_of(), stock(PUMP, HEFEI_PARTS, on_hand)
    line_no = stocked_line(contract, s, quantity)
    settle(contract, s)
    return contract, s, line_no


def test_removing_a_stocked_accessory_line_releases_its_reservation():
    contract, s, line_no = _with_part_line()
    stocked_line(contract, s, 1)                                          # a second line
    settle(contract, s)
    context = ctx()
    line = contract.remove_accessory_outbound_line(context, line_no)
    assert (line.line_no, line.part_id, line.warehouse_id, line.quantity) == (line_no, PUMP.id, HEFEI_PARTS.id, 2)
    s.release(context, contract.parts_ref, line.quantity)
    [removed] = then_events(contract, Contract.AccessoryOutboundLineRemoved)
    assert removed.line_no == line_no
    [released] = then_events(s, PartStock.ReservationReleased)
    then_metadata(released, context, HEFEI.id)
    assert (released.quantity, released.document) == (2, contract.parts_ref)
    assert figures(s) == (3, 1, 2, 0)                           # the second line keeps its unit


def test_the_dispatch_issues_the_stocked_accessories():
    contract, s, line_no = _with_part_line()
    contract.review_outbound(ctx(), 1)
    settle(contract)
    context = ctx()
    sent = contract.dispatch(context, 1)
    assert (sent.serial_numbers, [line.line_no for line in sent.stocked_lines]) == ((), [line_no])
    for line in sent.stocked_lines:
        s.issue(context, contract.parts_ref, line.quantity)
    [dispatched] = then_events(contract, Contract.OutboundDispatched)
    assert (dispatched.outbound_no, dispatched.serial_numbers) == (1, ())
    [issued] = then_events(s, PartStock.Issued)
    then_metadata(issued, context, HEFEI.id)
    assert (issued.quantity, issued.document, issued.to_warehouse_id) == (2, contract.parts_ref, None)
    assert figures(s) == (1, 0, 1, 0) and contract.outbounds[1].status == OutboundStatus.DISPATCHED


def test_the_unapproval_releases_the_stocked_accessories_of_outbounds_not_dispatched():
    contract, s, line_no = _with_part_line()
    contract.review_outbound(ctx(), 1)
    settle(contract)
    context = ctx(reason="terms renegotiated")
    releases = contract.unapprove(context)
    assert (releases.picks, [line.line_no for line in releases.stocked_lines]) == ((), [line_no])
    for line in releases.stocked_lines:
        s.release(context, contract.parts_ref, line.quantity)
    then_events(contract, Contract.OutboundCancelled, Contract.Unapproved)
    [released] = then_events(s, PartStock.ReservationReleased)
    then_metadata(released, context, HEFEI.id)
    assert (released.quantity, released.document) == (2, contract.parts_ref) and figures(s) == (3, 0, 3, 0)
