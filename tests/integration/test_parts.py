"""Parts through the application, on real SQLite and PostgreSQL: purchase and receiving
(over-receipt refused), quote → sale → outbound → shipment with its receipt and a coupon,
the three emergency procurement paths end to end, work orders consuming from a mobile
warehouse, a contract's accessory line drawing down parts stock, and the read model
equal to the aggregates after every flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from application.caller import SYSTEM, Caller
from domain import ids
from domain.access import Role
from domain.base import DomainError
from domain.coupons import CouponOrigin, HolderKind
from domain.organisation import WarehouseKind
from domain.parts import JobType, PartCategory, PartStock, RequestPath, SaleChannel
from domain.receivables import ReceiptMethod
from projections import parts as parts_view
from tests.conftest import PASSWORD, receive
from tests.integration.test_receivables import (  # noqa: F401  (fixtures)
    Clock, People, approve_sale, clock, group, office, people)
from application.organisation.commands import CreateWarehouse
from application.access.commands import CreateUser
from application.coupons.commands import IssueCoupon
from application.delivery.commands import AddAccessoryOutboundLine, DispatchMachine, PickMachine, ReviewOutbound
from application.parts.commands import (
    AgreePartsQuote,
    CancelPartsSale,
    CompleteWorkOrder,
    ConfirmPartsReceipt,
    ConsumeParts,
    CouponPart,
    CreatePart,
    CreatePartsQuote,
    CreatePartsSale,
    CreatePurchaseOrder,
    HandlePartsRequest,
    LinePriceRequest,
    OpenWorkOrder,
    PartLineRequest,
    PartQuantityRequest,
    ReceivedLineRequest,
    ReceivePurchase,
    RecordPartsSaleReceipt,
    RequestParts,
    ShipPartsOutbound,
    SubmitPartsSale,
)

D = Decimal


@dataclass
class Shop:
    filter: UUID          # oil filter, 50.00 / 80.00
    bucket_tooth: UUID    # 120.00 / 200.00
    zhou: Caller          # technician Zhou, Hefei, owns mobile warehouse ZHOU
    wu: Caller            # technician Wu, Hefei, owns mobile warehouse WU
    zhou_van: UUID
    wu_van: UUID
    keeper: Caller        # Hefei warehouse keeper
    chen: Caller          # Hefei clerk
    sun: Caller           # Hefei finance


@pytest.fixture
def shop(office, group, people) -> Shop:
    access = office.access
    for name in ("zhou", "wu"):
        office.execute(SYSTEM, CreateUser(
            username=name, display_name=name.title(), password=PASSWORD, roles=[Role.TECHNICIAN],
            position_ids=[ids.position_id("Hefei")]))
    zhou = access.authenticate(access.login("zhou", PASSWORD).access_token)
    wu = access.authenticate(access.login("wu", PASSWORD).access_token)
    zhou_van = UUID(office.execute(SYSTEM, CreateWarehouse(
        company_id=group.hefei, code="ZHOU", name="Technician Zhou", kind=WarehouseKind.MOBILE,
        technician_name="Zhou", technician_id=zhou.user_id)).body["warehouse_id"])
    wu_van = UUID(office.execute(SYSTEM, CreateWarehouse(
        company_id=group.hefei, code="WU", name="Technician Wu", kind=WarehouseKind.MOBILE,
        technician_name="Wu", technician_id=wu.user_id)).body["warehouse_id"])
    filter_ = UUID(office.execute(people.chen, CreatePart(
        part_no="OF-215", name="Oil filter", unit="pc", category=PartCategory.FILTER,
        purchase_price=D("50.00"), sale_price=D("80.00"))).body["part_id"])
    tooth = UUID(office.execute(people.chen, CreatePart(
        part_no="BT-20", name="Bucket tooth", unit="pc", category=PartCategory.WEAR,
        purchase_price=D("120.00"), sale_price=D("200.00"))).body["part_id"])
    return Shop(filter_, tooth, zhou, wu, zhou_van, wu_van, group.keeper_hefei, people.chen, people.sun)


def stock(office, part: UUID, warehouse: UUID) -> PartStock | None:
    return office.commands.find(ids.part_stock_id(part, warehouse), PartStock)


def figures(office, part: UUID, warehouse: UUID) -> tuple[int, int, int]:
    s = stock(office, part, warehouse)
    return (s.on_hand, s.reserved, s.pending_in) if s else (0, 0, 0)


def assert_view_equals_aggregates(office) -> None:
    """Every stock row equals its aggregate, and on hand is the sum of its movements."""
    office.catch_up()
    with office.read() as cur:
        cur.execute("SELECT stock_id, on_hand, reserved, pending_in FROM part_stock")
        rows = cur.fetchall()
        for row in rows:
            s = office.commands.find(UUID(str(row["stock_id"])), PartStock)
            assert (row["on_hand"], row["reserved"], row["pending_in"]) == (s.on_hand, s.reserved, s.pending_in)
            cur.execute("SELECT COALESCE(SUM(on_hand_change), 0) AS n FROM part_movements WHERE stock_id = %s",
                        (row["stock_id"],))
            assert cur.fetchone()["n"] == s.on_hand


def stock_parts(office, shop: Shop, group, quantity: int = 10, part: UUID | None = None) -> UUID:
    order = office.execute(shop.chen, CreatePurchaseOrder(
        company_id=group.hefei, supplier="Shantui parts", warehouse_id=group.hefei_parts,
        lines=[PartLineRequest(part_id=part or shop.filter, quantity=quantity)]))
    order_id = UUID(order.body["order_id"])
    office.execute(shop.keeper, ReceivePurchase(
        order_id=order_id, lines=[ReceivedLineRequest(line_no=1, quantity=quantity)]))
    return order_id


def refused(code: str, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


# ---------------------------------------------------------------- purchase
def test_a_purchase_is_pending_until_received_in_parts_and_over_receipt_is_refused(office, group, shop):
    order = office.execute(shop.chen, CreatePurchaseOrder(
        company_id=group.hefei, supplier="Shantui parts", warehouse_id=group.hefei_parts,
        lines=[PartLineRequest(part_id=shop.filter, quantity=10),
               PartLineRequest(part_id=shop.bucket_tooth, quantity=4, unit_price=D("110.00"))]))
    order_id = UUID(order.body["order_id"])
    assert order.body["amount"] == "940.00"    # 10 × 50.00 + 4 × 110.00
    assert figures(office, shop.filter, group.hefei_parts) == (0, 0, 10)
    office.execute(shop.keeper, ReceivePurchase(
        order_id=order_id, lines=[ReceivedLineRequest(line_no=1, quantity=6)]))
    assert figures(office, shop.filter, group.hefei_parts) == (6, 0, 4)
    refused("over-receipt", lambda: office.execute(shop.keeper, ReceivePurchase(
        order_id=order_id, lines=[ReceivedLineRequest(line_no=1, quantity=5)])))
    assert figures(office, shop.filter, group.hefei_parts) == (6, 0, 4)   # nothing changed
    done = office.execute(shop.keeper, ReceivePurchase(
        order_id=order_id,
        lines=[ReceivedLineRequest(line_no=1, quantity=4), ReceivedLineRequest(line_no=2, quantity=4)]))
    assert done.body["status"] == "received"
    assert figures(office, shop.filter, group.hefei_parts) == (10, 0, 0)
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (4, 0, 0)
    refused("over-receipt", lambda: office.execute(shop.keeper, ReceivePurchase(
        order_id=order_id, lines=[ReceivedLineRequest(line_no=2, quantity=1)])))
    assert_view_equals_aggregates(office)


def test_purchase_into_another_companys_warehouse_is_refused(office, group, shop):
    refused("warehouse-not-usable", lambda: office.execute(SYSTEM, CreatePurchaseOrder(
        company_id=group.hefei, supplier="X", warehouse_id=group.chuzhou_main,
        lines=[PartLineRequest(part_id=shop.filter, quantity=1)])))
    # A Hefei clerk does not see Chuzhou at all.
    refused("company-not-found", lambda: office.execute(shop.chen, CreatePurchaseOrder(
        company_id=group.chuzhou, supplier="X", warehouse_id=group.chuzhou_main,
        lines=[PartLineRequest(part_id=shop.filter, quantity=1)])))


# ---------------------------------------------------------------- sales
def test_quote_sale_outbound_shipment_and_its_receipt_with_a_coupon(office, group, people, shop):
    stock_parts(office, shop, group, 10)
    quote = office.execute(shop.chen, CreatePartsQuote(
        company_id=group.hefei, customer_id=people.customer, customer_name=None,
        lines=[PartLineRequest(part_id=shop.filter, quantity=4)], valid_until=date(2026, 1, 15)))
    quote_id = UUID(quote.body["quote_id"])
    assert quote.body["total"] == "320.00"
    refused("parts-document-state", lambda: office.execute(shop.chen, CreatePartsSale(
        quote_id=quote_id, channel=SaleChannel.WALK_IN, warehouse_id=group.hefei_parts)))        # not agreed yet
    office.execute(shop.chen, AgreePartsQuote(quote_id=quote_id))
    sale = office.execute(shop.chen, CreatePartsSale(
        quote_id=quote_id, channel=SaleChannel.OVERHAUL_SHOP, warehouse_id=group.hefei_parts))
    sale_id = UUID(sale.body["sale_id"])
    refused("parts-document-state", lambda: office.execute(shop.chen, CreatePartsSale(
        quote_id=quote_id, channel=SaleChannel.WALK_IN, warehouse_id=group.hefei_parts)))        # a quote makes one sale
    submitted = office.execute(shop.chen, SubmitPartsSale(sale_id=sale_id))
    outbound_id = UUID(submitted.body["outbound_id"])
    assert figures(office, shop.filter, group.hefei_parts) == (10, 4, 0)
    office.execute(shop.keeper, ShipPartsOutbound(outbound_id=outbound_id))
    assert figures(office, shop.filter, group.hefei_parts) == (6, 0, 0)
    refused("parts-document-state", lambda: office.execute(shop.keeper, ShipPartsOutbound(
        outbound_id=outbound_id)))

    office.execute(shop.sun, IssueCoupon(
        code="PARTS-100", company_id=group.hefei, origin=CouponOrigin.PROMOTION,
        holder_kind=HolderKind.CUSTOMER, holder_id=people.customer, face_value=D("100.00"),
        amount_paid=D("50.00"), valid_from=None, valid_until=None, promised_by=None, note="Parts fair"))
    paid = office.execute(shop.chen, RecordPartsSaleReceipt(
        sale_id=sale_id, amount=D("320.00"), value_date=date(2025, 12, 15), method=ReceiptMethod.CASH,
        reference=None, coupons=[CouponPart(code="parts-100", amount=D("100.00"))]))
    assert (paid.body["received"], paid.body["outstanding"]) == ("320.00", "0.00")
    refused("overpayment", lambda: office.execute(shop.chen, RecordPartsSaleReceipt(
        sale_id=sale_id, amount=D("0.01"), value_date=date(2025, 12, 15), method=ReceiptMethod.CASH)))
    office.catch_up()
    with office.read() as cur:
        row = parts_view.get_document(cur, SYSTEM.scope, "parts_sale", sale_id)
        coupon = office.coupons.runner.find(ids.coupon_id("PARTS-100"), object)
    assert (row["status"], row["received"], row["coupons"], row["outstanding"]) == (
        "shipped", D("320.00"), D("100.00"), D("0.00"))
    assert coupon.balance == D("0.00")
    assert_view_equals_aggregates(office)


def test_a_sale_cannot_ship_more_than_is_free_and_cancelling_releases_the_reservation(office, group, people, shop):
    stock_parts(office, shop, group, 3)
    quotes = []
    for _ in range(2):
        q = UUID(office.execute(shop.chen, CreatePartsQuote(
            company_id=group.hefei, customer_id=None, customer_name="Walk-in Ma",
            lines=[PartLineRequest(part_id=shop.filter, quantity=2, unit_price=D("75.00"))],
            valid_until=date(2025, 12, 20)))
                 .body["quote_id"])
        office.execute(shop.chen, AgreePartsQuote(quote_id=q))
        quotes.append(UUID(office.execute(shop.chen, CreatePartsSale(
            quote_id=q, channel=SaleChannel.WALK_IN, warehouse_id=group.hefei_parts))
                           .body["sale_id"]))
    office.execute(shop.chen, SubmitPartsSale(sale_id=quotes[0]))
    error = refused("insufficient-part-stock", lambda: office.execute(shop.chen, SubmitPartsSale(
        sale_id=quotes[1])))
    assert "1 of part OF-215 free" in error.message
    office.execute(shop.chen, CancelPartsSale(sale_id=quotes[0], reason="Customer changed their mind"))
    assert figures(office, shop.filter, group.hefei_parts) == (3, 0, 0)
    office.execute(shop.chen, SubmitPartsSale(sale_id=quotes[1]))
    assert figures(office, shop.filter, group.hefei_parts) == (3, 2, 0)
    assert_view_equals_aggregates(office)


def test_a_gift_leaves_nothing_to_collect(office, group, people, shop):
    stock_parts(office, shop, group, 2)
    q = UUID(office.execute(shop.chen, CreatePartsQuote(
        company_id=group.hefei, customer_id=people.customer, customer_name=None,
        lines=[PartLineRequest(part_id=shop.filter, quantity=1)], valid_until=date(2025, 12, 31))).body["quote_id"])
    office.execute(shop.chen, AgreePartsQuote(quote_id=q))
    sale = office.execute(shop.chen, CreatePartsSale(
        quote_id=q, channel=SaleChannel.GIFT, warehouse_id=group.hefei_parts))
    assert (sale.body["total"], sale.body["receivable"]) == ("80.00", "0.00")


# ---------------------------------------------------------------- technicians
def test_path_1_from_a_warehouse_outbound_then_the_technician_confirms(office, group, shop):
    stock_parts(office, shop, group, 5)
    request = office.execute(shop.zhou, RequestParts(
        mobile_warehouse_id=shop.zhou_van, lines=[PartQuantityRequest(part_id=shop.filter, quantity=2)],
        note="Service at Feixi"))
    request_id = UUID(request.body["request_id"])
    handled = office.execute(shop.chen, HandlePartsRequest(
        request_id=request_id, path=RequestPath.FROM_WAREHOUSE, warehouse_id=group.hefei_parts))
    assert handled.body["status"] == "prepared"
    assert figures(office, shop.filter, group.hefei_parts) == (5, 2, 0)
    refused("parts-document-state", lambda: office.execute(shop.zhou, ConfirmPartsReceipt(
        request_id=request_id)))   # not shipped yet
    office.execute(shop.keeper, ShipPartsOutbound(outbound_id=UUID(handled.body["outbound_id"])))
    assert figures(office, shop.filter, group.hefei_parts) == (3, 0, 0)
    assert figures(office, shop.filter, shop.zhou_van) == (0, 0, 2)          # on its way
    refused("not-your-mobile-warehouse", lambda: office.execute(shop.wu, ConfirmPartsReceipt(
        request_id=request_id)))
    office.execute(shop.zhou, ConfirmPartsReceipt(request_id=request_id))
    assert figures(office, shop.filter, shop.zhou_van) == (2, 0, 0)
    office.catch_up()
    with office.read() as cur:
        row = parts_view.get_document(cur, SYSTEM.scope, "parts_request", request_id)
    assert [s["step"] for s in row["steps"]] == ["requested", "handled:from_warehouse", "outbound_prepared",
                                                 "shipped", "receipt_confirmed"]
    assert_view_equals_aggregates(office)


def test_path_2_emergency_purchase_shipped_straight_to_the_technician(office, group, shop):
    request_id = UUID(office.execute(shop.zhou, RequestParts(
        mobile_warehouse_id=shop.zhou_van, lines=[PartQuantityRequest(part_id=shop.bucket_tooth, quantity=3)]))
                      .body["request_id"])
    handled = office.execute(shop.chen, HandlePartsRequest(
        request_id=request_id, path=RequestPath.PURCHASE_TO_TECHNICIAN, warehouse_id=None,
        supplier="Hefei Parts Co", unit_prices=[LinePriceRequest(line_no=1, unit_price=D("130.00"))]))
    order_id = UUID(handled.body["purchase_order_id"])
    assert figures(office, shop.bucket_tooth, shop.zhou_van) == (0, 0, 3)
    refused("invalid-value", lambda: office.execute(shop.keeper, ReceivePurchase(
        order_id=order_id, lines=[ReceivedLineRequest(line_no=1, quantity=3)])))   # the technician confirms
    office.execute(shop.zhou, ConfirmPartsReceipt(request_id=request_id))
    assert figures(office, shop.bucket_tooth, shop.zhou_van) == (3, 0, 0)
    office.catch_up()
    with office.read() as cur:
        row = parts_view.get_document(cur, SYSTEM.scope, "parts_request", request_id)
        order = parts_view.get_document(cur, SYSTEM.scope, "purchase_order", order_id)
    assert [s["step"] for s in row["steps"]] == ["requested", "handled:purchase_to_technician",
                                                 "purchase_order_placed", "purchase_received",
                                                 "receipt_confirmed"]
    assert (order["status"], order["amount"]) == ("received", D("390.00"))
    assert_view_equals_aggregates(office)


def test_path_3_emergency_purchase_to_a_warehouse_then_outbound_to_the_technician(office, group, shop):
    stock_parts(office, shop, group, 1, part=shop.bucket_tooth)     # one free tooth that the request must not take
    request_id = UUID(office.execute(shop.zhou, RequestParts(
        mobile_warehouse_id=shop.zhou_van, lines=[PartQuantityRequest(part_id=shop.bucket_tooth, quantity=2)]))
                      .body["request_id"])
    handled = office.execute(shop.chen, HandlePartsRequest(
        request_id=request_id, path=RequestPath.PURCHASE_TO_WAREHOUSE, warehouse_id=group.hefei_parts,
        supplier="Hefei Parts Co"))
    order_id = UUID(handled.body["purchase_order_id"])
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (1, 0, 2)
    # The first tooth arrives: reserved for the request at once, shipped and confirmed.
    partly = office.execute(shop.keeper, ReceivePurchase(
        order_id=order_id, lines=[ReceivedLineRequest(line_no=1, quantity=1)]))
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (2, 1, 1)
    office.execute(shop.keeper, ShipPartsOutbound(outbound_id=UUID(partly.body["outbound_id"])))
    assert office.execute(shop.zhou, ConfirmPartsReceipt(request_id=request_id)).body["status"] == "ordered"   # one to come
    received = office.execute(shop.keeper, ReceivePurchase(
        order_id=order_id, lines=[ReceivedLineRequest(line_no=1, quantity=1)]))
    outbound_id = UUID(received.body["outbound_id"])
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (2, 1, 0)   # reserved for the request at once
    office.execute(shop.keeper, ShipPartsOutbound(outbound_id=outbound_id))
    assert office.execute(shop.zhou, ConfirmPartsReceipt(request_id=request_id)).body["status"] == "received"
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (1, 0, 0)
    assert figures(office, shop.bucket_tooth, shop.zhou_van) == (2, 0, 0)
    office.catch_up()
    with office.read() as cur:
        row = parts_view.get_document(cur, SYSTEM.scope, "parts_request", request_id)
    assert [s["step"] for s in row["steps"]] == ["requested", "handled:purchase_to_warehouse",
                                                 "purchase_order_placed", "purchase_received", "outbound_prepared",
                                                 "shipped", "receipt_confirmed", "purchase_received",
                                                 "outbound_prepared", "shipped", "receipt_confirmed"]
    assert row["status"] == "received"
    assert_view_equals_aggregates(office)


def test_a_work_order_consumes_from_the_van_and_requests_what_is_missing(office, group, people, shop):
    stock_parts(office, shop, group, 5)
    r = UUID(office.execute(shop.zhou, RequestParts(
        mobile_warehouse_id=shop.zhou_van, lines=[PartQuantityRequest(part_id=shop.filter, quantity=2)])).body["request_id"])
    out = office.execute(shop.chen, HandlePartsRequest(
        request_id=r, path=RequestPath.FROM_WAREHOUSE, warehouse_id=group.hefei_parts))
    office.execute(shop.keeper, ShipPartsOutbound(outbound_id=UUID(out.body["outbound_id"])))
    office.execute(shop.zhou, ConfirmPartsReceipt(request_id=r))
    order = office.execute(shop.zhou, OpenWorkOrder(
        mobile_warehouse_id=shop.zhou_van, customer_id=people.customer, customer_name=None,
        serial_number="SY215C-0009", job_type=JobType.MAINTENANCE))
    order_id = UUID(order.body["work_order_id"])
    office.execute(shop.zhou, ConsumeParts(
        work_order_id=order_id, lines=[PartQuantityRequest(part_id=shop.filter, quantity=2)]))
    assert figures(office, shop.filter, shop.zhou_van) == (0, 0, 0)
    error = refused("insufficient-part-stock", lambda: office.execute(shop.zhou, ConsumeParts(
        work_order_id=order_id, lines=[PartQuantityRequest(part_id=shop.filter, quantity=1)])))
    assert "Request the missing parts" in error.message
    refused("insufficient-part-stock", lambda: office.execute(shop.zhou, ConsumeParts(
        work_order_id=order_id, lines=[PartQuantityRequest(part_id=shop.bucket_tooth, quantity=1)])))
    refused("not-your-mobile-warehouse", lambda: office.execute(shop.wu, ConsumeParts(
        work_order_id=order_id, lines=[PartQuantityRequest(part_id=shop.filter, quantity=1)])))
    missing = office.execute(shop.zhou, RequestParts(
        mobile_warehouse_id=shop.zhou_van, lines=[PartQuantityRequest(part_id=shop.filter, quantity=1)],
        work_order_id=order_id))
    assert missing.body["status"] == "requested"
    office.execute(shop.zhou, CompleteWorkOrder(work_order_id=order_id))
    refused("parts-document-state", lambda: office.execute(shop.zhou, ConsumeParts(
        work_order_id=order_id, lines=[PartQuantityRequest(part_id=shop.filter, quantity=1)])))
    assert_view_equals_aggregates(office)


def test_a_technician_requests_only_into_their_own_van(office, group, shop):
    refused("not-your-mobile-warehouse", lambda: office.execute(shop.wu, RequestParts(
        mobile_warehouse_id=shop.zhou_van, lines=[PartQuantityRequest(part_id=shop.filter, quantity=1)])))
    refused("warehouse-not-usable", lambda: office.execute(shop.zhou, RequestParts(
        mobile_warehouse_id=group.hefei_parts, lines=[PartQuantityRequest(part_id=shop.filter, quantity=1)])))
    refused("forbidden", lambda: office.execute(shop.keeper, RequestParts(
        mobile_warehouse_id=shop.zhou_van, lines=[PartQuantityRequest(part_id=shop.filter, quantity=1)])))


# ---------------------------------------------------------------- contract accessories
def dispatchable(office, group, people) -> tuple[UUID, int]:
    """An approved contract with its machine picked on outbound 1."""
    contract = approve_sale(office, group, people)
    receive(office, group, "SY215C-7001")
    office.execute(people.wang, PickMachine(contract_id=contract, serial_number="SY215C-7001"))
    return contract, 1


def test_a_contract_accessory_line_draws_down_parts_stock_at_dispatch(office, group, people, shop):
    stock_parts(office, shop, group, 3, part=shop.bucket_tooth)
    contract, outbound_no = dispatchable(office, group, people)
    line = office.execute(people.chen, AddAccessoryOutboundLine(
        contract_id=contract, quantity=2, agreed_accessory_no=None, name=None, unit_price=None,
        part_id=shop.bucket_tooth, warehouse_id=group.hefei_parts))
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (3, 2, 0)
    refused("insufficient-part-stock", office.execute, people.chen, AddAccessoryOutboundLine(
        contract_id=contract, quantity=2, part_id=shop.bucket_tooth, warehouse_id=group.hefei_parts))
    office.execute(people.sun, ReviewOutbound(contract_id=contract, outbound_no=outbound_no))
    office.execute(group.keeper_hefei, DispatchMachine(contract_id=contract, outbound_no=outbound_no))
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (1, 0, 0)
    assert line.body["line_no"] >= 1
    assert_view_equals_aggregates(office)
