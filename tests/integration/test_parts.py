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
        access.create_user(SYSTEM, name, name.title(), PASSWORD, [Role.TECHNICIAN], [ids.position_id("Hefei")])
    zhou = access.authenticate(access.login("zhou", PASSWORD).access_token)
    wu = access.authenticate(access.login("wu", PASSWORD).access_token)
    zhou_van = UUID(office.organisation.create_warehouse(SYSTEM, group.hefei, "ZHOU", "Technician Zhou",
                                                         WarehouseKind.MOBILE, "Zhou",
                                                         technician_id=zhou.user_id).body["warehouse_id"])
    wu_van = UUID(office.organisation.create_warehouse(SYSTEM, group.hefei, "WU", "Technician Wu",
                                                       WarehouseKind.MOBILE, "Wu",
                                                       technician_id=wu.user_id).body["warehouse_id"])
    filter_ = UUID(office.parts.register_part(people.chen, "OF-215", "Oil filter", "pc", PartCategory.FILTER,
                                              D("50.00"), D("80.00")).body["part_id"])
    tooth = UUID(office.parts.register_part(people.chen, "BT-20", "Bucket tooth", "pc", PartCategory.WEAR,
                                            D("120.00"), D("200.00")).body["part_id"])
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
    order = office.parts.create_purchase_order(shop.chen, group.hefei, "Shantui parts", group.hefei_parts,
                                               [(part or shop.filter, quantity, None)])
    order_id = UUID(order.body["order_id"])
    office.parts.receive_purchase(shop.keeper, order_id, {1: quantity})
    return order_id


def refused(code: str, call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


# ---------------------------------------------------------------- purchase
def test_a_purchase_is_pending_until_received_in_parts_and_over_receipt_is_refused(office, group, shop):
    order = office.parts.create_purchase_order(shop.chen, group.hefei, "Shantui parts", group.hefei_parts,
                                               [(shop.filter, 10, None), (shop.bucket_tooth, 4, D("110.00"))])
    order_id = UUID(order.body["order_id"])
    assert order.body["amount"] == "940.00"    # 10 × 50.00 + 4 × 110.00
    assert figures(office, shop.filter, group.hefei_parts) == (0, 0, 10)
    office.parts.receive_purchase(shop.keeper, order_id, {1: 6})
    assert figures(office, shop.filter, group.hefei_parts) == (6, 0, 4)
    refused("over-receipt", office.parts.receive_purchase, shop.keeper, order_id, {1: 5})
    assert figures(office, shop.filter, group.hefei_parts) == (6, 0, 4)   # nothing changed
    done = office.parts.receive_purchase(shop.keeper, order_id, {1: 4, 2: 4})
    assert done.body["status"] == "received"
    assert figures(office, shop.filter, group.hefei_parts) == (10, 0, 0)
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (4, 0, 0)
    refused("over-receipt", office.parts.receive_purchase, shop.keeper, order_id, {2: 1})
    assert_view_equals_aggregates(office)


def test_purchase_into_another_companys_warehouse_is_refused(office, group, shop):
    refused("warehouse-not-usable", office.parts.create_purchase_order, SYSTEM, group.hefei, "X",
            group.chuzhou_main, [(shop.filter, 1, None)])
    # A Hefei clerk does not see Chuzhou at all.
    refused("company-not-found", office.parts.create_purchase_order, shop.chen, group.chuzhou, "X",
            group.chuzhou_main, [(shop.filter, 1, None)])


# ---------------------------------------------------------------- sales
def test_quote_sale_outbound_shipment_and_its_receipt_with_a_coupon(office, group, people, shop):
    stock_parts(office, shop, group, 10)
    quote = office.parts.create_parts_quote(shop.chen, group.hefei, people.customer, None,
                                            [(shop.filter, 4, None)], date(2026, 1, 15))
    quote_id = UUID(quote.body["quote_id"])
    assert quote.body["total"] == "320.00"
    refused("parts-document-state", office.parts.create_parts_sale, shop.chen, quote_id,
            SaleChannel.WALK_IN, group.hefei_parts)        # not agreed yet
    office.parts.agree_parts_quote(shop.chen, quote_id)
    sale = office.parts.create_parts_sale(shop.chen, quote_id, SaleChannel.OVERHAUL_SHOP, group.hefei_parts)
    sale_id = UUID(sale.body["sale_id"])
    refused("parts-document-state", office.parts.create_parts_sale, shop.chen, quote_id,
            SaleChannel.WALK_IN, group.hefei_parts)        # a quote makes one sale
    submitted = office.parts.submit_parts_sale(shop.chen, sale_id)
    outbound_id = UUID(submitted.body["outbound_id"])
    assert figures(office, shop.filter, group.hefei_parts) == (10, 4, 0)
    office.parts.ship_parts_outbound(shop.keeper, outbound_id)
    assert figures(office, shop.filter, group.hefei_parts) == (6, 0, 0)
    refused("parts-document-state", office.parts.ship_parts_outbound, shop.keeper, outbound_id)

    office.coupons.issue_coupon(shop.sun, "PARTS-100", group.hefei, CouponOrigin.PROMOTION, HolderKind.CUSTOMER,
                                people.customer, D("100.00"), D("50.00"), None, None, None, "Parts fair")
    paid = office.parts.record_parts_sale_receipt(shop.chen, sale_id, D("320.00"), date(2025, 12, 15),
                                                  ReceiptMethod.CASH, None, [("parts-100", D("100.00"))])
    assert (paid.body["received"], paid.body["outstanding"]) == ("320.00", "0.00")
    refused("overpayment", office.parts.record_parts_sale_receipt, shop.chen, sale_id, D("0.01"),
            date(2025, 12, 15), ReceiptMethod.CASH)
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
        q = UUID(office.parts.create_parts_quote(shop.chen, group.hefei, None, "Walk-in Ma",
                                                 [(shop.filter, 2, D("75.00"))], date(2025, 12, 20))
                 .body["quote_id"])
        office.parts.agree_parts_quote(shop.chen, q)
        quotes.append(UUID(office.parts.create_parts_sale(shop.chen, q, SaleChannel.WALK_IN, group.hefei_parts)
                           .body["sale_id"]))
    office.parts.submit_parts_sale(shop.chen, quotes[0])
    error = refused("insufficient-part-stock", office.parts.submit_parts_sale, shop.chen, quotes[1])
    assert "1 of part OF-215 free" in error.message
    office.parts.cancel_parts_sale(shop.chen, quotes[0], "Customer changed their mind")
    assert figures(office, shop.filter, group.hefei_parts) == (3, 0, 0)
    office.parts.submit_parts_sale(shop.chen, quotes[1])
    assert figures(office, shop.filter, group.hefei_parts) == (3, 2, 0)
    assert_view_equals_aggregates(office)


def test_a_gift_leaves_nothing_to_collect(office, group, people, shop):
    stock_parts(office, shop, group, 2)
    q = UUID(office.parts.create_parts_quote(shop.chen, group.hefei, people.customer, None,
                                             [(shop.filter, 1, None)], date(2025, 12, 31)).body["quote_id"])
    office.parts.agree_parts_quote(shop.chen, q)
    sale = office.parts.create_parts_sale(shop.chen, q, SaleChannel.GIFT, group.hefei_parts)
    assert (sale.body["total"], sale.body["receivable"]) == ("80.00", "0.00")


# ---------------------------------------------------------------- technicians
def test_path_1_from_a_warehouse_outbound_then_the_technician_confirms(office, group, shop):
    stock_parts(office, shop, group, 5)
    request = office.parts.request_parts(shop.zhou, shop.zhou_van, [(shop.filter, 2)], note="Service at Feixi")
    request_id = UUID(request.body["request_id"])
    handled = office.parts.handle_parts_request(shop.chen, request_id, RequestPath.FROM_WAREHOUSE, group.hefei_parts)
    assert handled.body["status"] == "prepared"
    assert figures(office, shop.filter, group.hefei_parts) == (5, 2, 0)
    refused("parts-document-state", office.parts.confirm_parts_receipt, shop.zhou, request_id)   # not shipped yet
    office.parts.ship_parts_outbound(shop.keeper, UUID(handled.body["outbound_id"]))
    assert figures(office, shop.filter, group.hefei_parts) == (3, 0, 0)
    assert figures(office, shop.filter, shop.zhou_van) == (0, 0, 2)          # on its way
    refused("not-your-mobile-warehouse", office.parts.confirm_parts_receipt, shop.wu, request_id)
    office.parts.confirm_parts_receipt(shop.zhou, request_id)
    assert figures(office, shop.filter, shop.zhou_van) == (2, 0, 0)
    office.catch_up()
    with office.read() as cur:
        row = parts_view.get_document(cur, SYSTEM.scope, "parts_request", request_id)
    assert [s["step"] for s in row["steps"]] == ["requested", "handled:from_warehouse", "outbound_prepared",
                                                 "shipped", "receipt_confirmed"]
    assert_view_equals_aggregates(office)


def test_path_2_emergency_purchase_shipped_straight_to_the_technician(office, group, shop):
    request_id = UUID(office.parts.request_parts(shop.zhou, shop.zhou_van, [(shop.bucket_tooth, 3)])
                      .body["request_id"])
    handled = office.parts.handle_parts_request(shop.chen, request_id, RequestPath.PURCHASE_TO_TECHNICIAN, None,
                                                "Hefei Parts Co", {1: D("130.00")})
    order_id = UUID(handled.body["purchase_order_id"])
    assert figures(office, shop.bucket_tooth, shop.zhou_van) == (0, 0, 3)
    refused("invalid-value", office.parts.receive_purchase, shop.keeper, order_id, {1: 3})   # the technician confirms
    office.parts.confirm_parts_receipt(shop.zhou, request_id)
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
    request_id = UUID(office.parts.request_parts(shop.zhou, shop.zhou_van, [(shop.bucket_tooth, 2)])
                      .body["request_id"])
    handled = office.parts.handle_parts_request(shop.chen, request_id, RequestPath.PURCHASE_TO_WAREHOUSE,
                                                group.hefei_parts, "Hefei Parts Co")
    order_id = UUID(handled.body["purchase_order_id"])
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (1, 0, 2)
    # The first tooth arrives: reserved for the request at once, shipped and confirmed.
    partly = office.parts.receive_purchase(shop.keeper, order_id, {1: 1})
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (2, 1, 1)
    office.parts.ship_parts_outbound(shop.keeper, UUID(partly.body["outbound_id"]))
    assert office.parts.confirm_parts_receipt(shop.zhou, request_id).body["status"] == "ordered"   # one to come
    received = office.parts.receive_purchase(shop.keeper, order_id, {1: 1})
    outbound_id = UUID(received.body["outbound_id"])
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (2, 1, 0)   # reserved for the request at once
    office.parts.ship_parts_outbound(shop.keeper, outbound_id)
    assert office.parts.confirm_parts_receipt(shop.zhou, request_id).body["status"] == "received"
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
    r = UUID(office.parts.request_parts(shop.zhou, shop.zhou_van, [(shop.filter, 2)]).body["request_id"])
    out = office.parts.handle_parts_request(shop.chen, r, RequestPath.FROM_WAREHOUSE, group.hefei_parts)
    office.parts.ship_parts_outbound(shop.keeper, UUID(out.body["outbound_id"]))
    office.parts.confirm_parts_receipt(shop.zhou, r)
    order = office.parts.open_work_order(shop.zhou, shop.zhou_van, people.customer, None, "SY215C-0009",
                                         JobType.MAINTENANCE)
    order_id = UUID(order.body["work_order_id"])
    office.parts.consume_parts(shop.zhou, order_id, [(shop.filter, 2)])
    assert figures(office, shop.filter, shop.zhou_van) == (0, 0, 0)
    error = refused("insufficient-part-stock", office.parts.consume_parts, shop.zhou, order_id, [(shop.filter, 1)])
    assert "Request the missing parts" in error.message
    refused("insufficient-part-stock", office.parts.consume_parts, shop.zhou, order_id, [(shop.bucket_tooth, 1)])
    refused("not-your-mobile-warehouse", office.parts.consume_parts, shop.wu, order_id, [(shop.filter, 1)])
    missing = office.parts.request_parts(shop.zhou, shop.zhou_van, [(shop.filter, 1)], work_order_id=order_id)
    assert missing.body["status"] == "requested"
    office.parts.complete_work_order(shop.zhou, order_id)
    refused("parts-document-state", office.parts.consume_parts, shop.zhou, order_id, [(shop.filter, 1)])
    assert_view_equals_aggregates(office)


def test_a_technician_requests_only_into_their_own_van(office, group, shop):
    refused("not-your-mobile-warehouse", office.parts.request_parts, shop.wu, shop.zhou_van, [(shop.filter, 1)])
    refused("warehouse-not-usable", office.parts.request_parts, shop.zhou, group.hefei_parts, [(shop.filter, 1)])
    refused("forbidden", office.parts.request_parts, shop.keeper, shop.zhou_van, [(shop.filter, 1)])


# ---------------------------------------------------------------- contract accessories
def dispatchable(office, group, people) -> tuple[UUID, int]:
    """An approved contract with its machine picked on outbound 1."""
    contract = approve_sale(office, group, people)
    receive(office, group, "SY215C-7001")
    office.deliveries.pick_machine(people.wang, contract, "SY215C-7001")
    return contract, 1


def test_a_contract_accessory_line_draws_down_parts_stock_at_dispatch(office, group, people, shop):
    stock_parts(office, shop, group, 3, part=shop.bucket_tooth)
    contract, outbound_no = dispatchable(office, group, people)
    line = office.deliveries.add_accessory_outbound_line(people.chen, contract, 2, None, None, None,
                                                         shop.bucket_tooth, group.hefei_parts)
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (3, 2, 0)
    refused("insufficient-part-stock", office.deliveries.add_accessory_outbound_line, people.chen, contract, 2,
            None, None, None, shop.bucket_tooth, group.hefei_parts)
    office.deliveries.review_outbound(people.sun, contract, outbound_no)
    office.deliveries.dispatch(group.keeper_hefei, contract, outbound_no)
    assert figures(office, shop.bucket_tooth, group.hefei_parts) == (1, 0, 0)
    assert line.body["line_no"] >= 1
    assert_view_equals_aggregates(office)
