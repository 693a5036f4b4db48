"""Parts (配件) over HTTP, each act by the role that does it.

The people: the administrator adds parts to the catalogue and creates, for these tests,
two Hefei technicians (``Shop.tech`` and ``Shop.other``), each with a mobile warehouse
(移动库) that names them (``technician_id``). The demo (interfaces/demo.py) gives the rest:
clerk.chen (Hefei) orders, quotes, sells and handles technicians' requests; keeper.hf
receives and ships; finance.sun records receipts; keeper.cz sees Chuzhou only;
sales.wang sees the catalogue and the stock but no parts documents; tech.zhou is the
demo's own technician.

The demo server is shared by the whole session: every test works on parts of its own
(fresh part numbers), so stock figures, movements and documents are its own; lists that
hold other tests' rows are searched, never counted whole. Every read that follows a
command is asked with ``after`` = that command's position; refusals are checked against
the event log itself (``nothing_recorded``) and against the stock read before and after.

The race (two API processes on one PostgreSQL schema, ``twin_server``; skipped on
SQLite) submits two outbounds for the last units of a part at the same instant, then
ships the winner twice at once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from domain import ids
from interfaces.demo import DEMO_PASSWORD
from tests.e2e.conftest import (
    CZ,
    CZ_MAIN,
    FORMAL,
    HF,
    HF_MAIN,
    Server,
    assert_problem,
    every,
    nothing_recorded,
    ok,
    unique,
)
from tests.e2e.test_idempotency import _at_once

HEFEI = str(ids.position_id("Hefei"))
HF_PARTS = str(ids.warehouse_id(ids.company_id("HF"), "PARTS"))
NOWHERE = "5b7f7e1e-0000-4000-8000-000000000000"   # a well-formed id nothing has
STOCK_EXPORT_COLUMNS = ["company_code", "warehouse_code", "warehouse_name", "warehouse_kind", "technician_name",
                        "part_no", "part_name", "unit", "category", "on_hand", "reserved", "available",
                        "pending_in", "last_change_on"]
DOCUMENT_LISTS = {"purchase_order": "/purchase-orders", "parts_quote": "/parts-quotes", "parts_sale": "/parts-sales",
                  "parts_outbound": "/parts-outbounds", "parts_request": "/parts-requests",
                  "work_order": "/work-orders"}
RACE_ROUNDS = 12
RACE_UNITS = 3


# ------------------------------------------------------------------ fixtures: technicians and their vans
@dataclass(frozen=True)
class Shop:
    server: Server
    tech: str            # a Hefei technician: username
    tech_id: str
    van: str             # their mobile warehouse
    van_code: str
    other: str           # another Hefei technician, with a van of their own
    other_id: str
    other_van: str


@pytest.fixture(scope="module")
def shop(demo_server: Server) -> Shop:
    """Two Hefei technicians and their mobile warehouses, made over HTTP by the administrator."""
    made: list[tuple[str, str, str, str]] = []
    with demo_server.as_admin() as admin:
        for who in ("Tech", "Other"):
            username = unique("tech.").lower()
            user = ok(admin.post("/users", json={"username": username, "display_name": f"{who} (parts tests)",
                                                 "password": DEMO_PASSWORD, "roles": ["technician"],
                                                 "position_ids": [HEFEI]}), 201)
            code = unique("VAN")
            van = ok(admin.post("/warehouses", json={"company_id": HF, "code": code, "name": f"{who}'s van",
                                                     "kind": "mobile", "technician_name": who,
                                                     "technician_id": user["user_id"]}), 201)
            made.append((username, user["user_id"], van["warehouse_id"], van["code"]))
        # The warehouse list names the technician of each van.
        warehouses = {w["warehouse_id"]: w for w in ok(admin.get("/warehouses", params={
            "company_id": HF, "after": van["position"]}))["items"]}
    (tech, tech_id, van, van_code), (other, other_id, other_van, _) = made
    assert (warehouses[van]["kind"], warehouses[van]["technician_id"]) == ("mobile", tech_id)
    return Shop(demo_server, tech, tech_id, van, van_code, other, other_id, other_van)


# ------------------------------------------------------------------ helpers
def client(server: Server, username: str) -> httpx.Client:
    return server.as_admin() if username == "admin" else server.as_user(username)


def post(server: Server, username: str, path: str, body: dict[str, Any] | None = None,
         status: int = 200) -> dict[str, Any]:
    with client(server, username) as c:
        return ok(c.post(path, json=body), status)


def listed(server: Server, username: str, path: str, after: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, page after page."""
    with client(server, username) as c:
        return every(c, path, after, **params)


def get(server: Server, username: str, path: str, after: int = 0, **params: Any) -> dict[str, Any]:
    with client(server, username) as c:
        return ok(c.get(path, params={"after": after, **params}))


def refused(server: Server, username: str, path: str, body: dict[str, Any] | None, status: int, code: str,
            context: Any = "") -> dict[str, Any]:
    """A command refused: a problem with its stable code, and no event recorded."""
    with client(server, username) as c, nothing_recorded(server):
        return assert_problem(c.post(path, json=body), status, code, context or (username, path))


def not_found(server: Server, username: str, path: str, code: str, after: int = 0) -> dict[str, Any]:
    with client(server, username) as c:
        return assert_problem(c.get(path, params={"after": after}), 404, code, (username, path))


def new_part(server: Server, purchase: str = "50.00", sale: str = "80.00", category: str = "filter",
             name: str = "Oil filter") -> tuple[str, str]:
    """A part of the catalogue, added by the administrator: (id, part number)."""
    part_no = unique("PT-")
    made = post(server, "admin", "/parts", {"part_no": part_no, "name": f"{name} {part_no}", "unit": "pc",
                                            "category": category, "purchase_price": purchase, "sale_price": sale},
                201)
    assert (made["part_no"], made["purchase_price"], made["sale_price"]) == (part_no, purchase, sale)
    return made["part_id"], part_no


def stock(server: Server, part: str, warehouse: str, after: int, username: str = "clerk.chen") -> tuple[int, ...]:
    """(on hand, reserved, available, pending inbound) of a part in a warehouse, as ListPartsStock shows it."""
    rows = get(server, username, "/parts-stock", after, part_id=part, warehouse_id=warehouse)["items"]
    if not rows:
        return (0, 0, 0, 0)
    [row] = rows
    return row["on_hand"], row["reserved"], row["available"], row["pending_in"]


def order(server: Server, part: str, quantity: int, warehouse: str = HF_PARTS, company: str = HF,
          username: str = "clerk.chen", **line: Any) -> dict[str, Any]:
    return post(server, username, "/purchase-orders", {
        "company_id": company, "supplier": "Sany parts centre Hefei", "warehouse_id": warehouse,
        "lines": [{"part_id": part, "quantity": quantity, **line}]}, 201)


def receive(server: Server, order_id: str, lines: dict[int, int], username: str = "keeper.hf") -> dict[str, Any]:
    return post(server, username, f"/purchase-orders/{order_id}/receive",
                {"lines": [{"line_no": n, "quantity": q} for n, q in lines.items()]})


def stock_up(server: Server, part: str, quantity: int, warehouse: str = HF_PARTS) -> int:
    """Ordered by the clerk and received whole by the keeper: the receipt's position."""
    placed = order(server, part, quantity, warehouse)
    return receive(server, placed["order_id"], {1: quantity})["position"]


def agreed_quote(server: Server, today: date, lines: list[dict[str, Any]], customer_id: str | None = None) -> dict:
    who = {"customer_id": customer_id} if customer_id else {"customer_name": unique("Walk-in ")}
    quote = post(server, "clerk.chen", "/parts-quotes", {"company_id": HF, **who, "lines": lines,
                                                         "valid_until": (today + timedelta(days=30)).isoformat()},
                 201)
    agreed = post(server, "clerk.chen", f"/parts-quotes/{quote['quote_id']}/agree")
    assert agreed["status"] == "agreed", agreed
    return {**quote, "position": agreed["position"]}


def draft_sale(server: Server, today: date, part: str, quantity: int, channel: str = "walk_in",
               customer_id: str | None = None, warehouse: str = HF_PARTS) -> dict[str, Any]:
    quote = agreed_quote(server, today, [{"part_id": part, "quantity": quantity}], customer_id)
    sale = post(server, "clerk.chen", "/parts-sales", {"quote_id": quote["quote_id"], "channel": channel,
                                                       "warehouse_id": warehouse}, 201)
    assert sale["status"] == "draft", sale
    return {**sale, "quote_id": quote["quote_id"]}


def request_parts(shop: Shop, lines: dict[str, int], username: str | None = None, van: str | None = None,
                  **extra: Any) -> dict[str, Any]:
    made = post(shop.server, username or shop.tech, "/parts-requests", {
        "mobile_warehouse_id": van or shop.van,
        "lines": [{"part_id": p, "quantity": q} for p, q in lines.items()], **extra}, 201)
    assert made["status"] == "requested", made
    return made


def into_van(shop: Shop, part: str, quantity: int) -> int:
    """Path 1 at once: requested, filled from the Hefei parts warehouse, shipped, confirmed."""
    request = request_parts(shop, {part: quantity})
    handled = post(shop.server, "clerk.chen", f"/parts-requests/{request['request_id']}/handle",
                   {"path": "from_warehouse", "warehouse_id": HF_PARTS})
    post(shop.server, "keeper.hf", f"/parts-outbounds/{handled['outbound_id']}/ship")
    return post(shop.server, shop.tech, f"/parts-requests/{request['request_id']}/confirm-receipt")["position"]


def open_work_order(shop: Shop, username: str | None = None, van: str | None = None) -> dict[str, Any]:
    return post(shop.server, username or shop.tech, "/work-orders", {
        "mobile_warehouse_id": van or shop.van, "customer_name": unique("Quarry "),
        "serial_number": unique("SY215C-"), "job_type": "maintenance"}, 201)


def steps(server: Server, request_id: str, after: int, username: str) -> list[str]:
    return [s["step"] for s in get(server, username, f"/parts-requests/{request_id}", after)["steps"]]


def new_customer(server: Server) -> str:
    made = post(server, "sales.wang", "/customers", {"company_id": HF, "name": unique("Parts buyer "),
                                                     "kind": "organisation", "customer_type_id": FORMAL}, 201)
    return made["customer_id"]


def exported(server: Server, username: str, after: int, **params: Any) -> tuple[list[str], list[dict[str, str]]]:
    with client(server, username) as c:
        answer = c.get("/parts-stock/export", params={"after": after, **params})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="parts-stock.csv"' in answer.headers.get("content-disposition", "")
    rows = list(csv.reader(io.StringIO(answer.text)))
    return rows[0], [dict(zip(rows[0], row)) for row in rows[1:]]


# ------------------------------------------------------------------ 0. the catalogue
def test_the_catalogue_adds_parts_once_changes_prices_with_a_reason_and_is_searched(demo_server):
    server = demo_server
    part, part_no = new_part(server, "260.00", "420.00", "hydraulic", "Boom Cylinder Seal Kit")
    # The part number is unique, whatever its case and spaces.
    typed = f" {part_no[:5].lower()} {part_no[5:].lower()} "
    refused(server, "clerk.chen", "/parts", {"part_no": typed, "name": "Again", "unit": "set",
                                             "category": "hydraulic", "purchase_price": "1.00",
                                             "sale_price": "2.00"}, 409, "part-exists")
    # The clerk keeps the catalogue; the keeper and the technician do not.
    for username in ("keeper.hf", "sales.wang", "finance.sun"):
        refused(server, username, f"/parts/{part}/prices", {"purchase_price": "1.00", "sale_price": "2.00",
                                                            "reason": "x"}, 403, "forbidden", username)
    refused(server, "clerk.chen", f"/parts/{part}/prices", {"purchase_price": "260.00", "sale_price": "420.00",
                                                            "reason": "Same again"}, 409, "nothing-changed")
    refused(server, "clerk.chen", f"/parts/{part}/prices", {"purchase_price": "-1.00", "sale_price": "420.00",
                                                            "reason": "Below zero"}, 422, "invalid-value")
    changed = post(server, "clerk.chen", f"/parts/{part}/prices", {"purchase_price": "275.00",
                                                                   "sale_price": "450.00",
                                                                   "reason": "Supplier price list 2026"})
    assert (changed["purchase_price"], changed["sale_price"]) == ("275.00", "450.00")
    shown = get(server, "sales.wang", f"/parts/{part}", changed["position"])
    assert (shown["part_no"], shown["name"], shown["unit"], shown["category"], shown["purchase_price"],
            shown["sale_price"]) == (part_no, f"Boom Cylinder Seal Kit {part_no}", "pc", "hydraulic", "275.00",
                                     "450.00")
    # Searched by part number or name, whatever the case, on either store; filtered by category.
    for text in (part_no, part_no.lower(), "cylinder seal kit " + part_no.lower(), "BOOM CYLINDER"):
        found = get(server, "keeper.hf", "/parts", changed["position"], text=text, page_size=500)
        assert part in {p["part_id"] for p in found["items"]}, text
    assert part in {p["part_id"] for p in get(server, "tech.zhou", "/parts", changed["position"],
                                              category="hydraulic", text=part_no)["items"]}
    assert get(server, "tech.zhou", "/parts", changed["position"], category="filter", text=part_no)["total"] == 0
    # A line typed without a price takes the new list price.
    placed = order(server, part, 1)
    assert placed["amount"] == "275.00"


# ------------------------------------------------------------------ 1. purchase and receiving
def test_a_purchase_is_pending_until_received_in_parts_and_over_receipt_records_nothing(demo_server):
    server = demo_server
    filter_, filter_no = new_part(server)
    tooth, _ = new_part(server, "120.00", "200.00", "wear", "Bucket tooth")
    placed = post(server, "clerk.chen", "/purchase-orders", {
        "company_id": HF, "supplier": "Shantui parts", "warehouse_id": HF_PARTS,
        "lines": [{"part_id": filter_, "quantity": 10}, {"part_id": tooth, "quantity": 4, "unit_price": "110.00"}]},
        201)
    order_id = placed["order_id"]
    assert (placed["status"], placed["amount"]) == ("open", "940.00")     # 10 × 50.00 + 4 × 110.00
    assert placed["number"].startswith("PO-HF-")
    assert stock(server, filter_, HF_PARTS, placed["position"]) == (0, 0, 0, 10)      # 待入库
    assert stock(server, tooth, HF_PARTS, placed["position"]) == (0, 0, 0, 4)

    partly = receive(server, order_id, {1: 6})
    assert (partly["status"], partly["received"]) == ("partly_received", [{"line_no": 1, "quantity": 6}])
    assert stock(server, filter_, HF_PARTS, partly["position"]) == (6, 0, 6, 4)

    # Over-receipt: 409, the problem says how much is left, and nothing changes.
    problem = refused(server, "keeper.hf", f"/purchase-orders/{order_id}/receive",
                      {"lines": [{"line_no": 1, "quantity": 5}]}, 409, "over-receipt")
    assert "at most 4 more" in problem["detail"] and filter_no in problem["detail"], problem
    assert (problem["line_no"], problem["outstanding"]) == ("1", "4")
    # Two lines of one order line add up: 3 + 2 is over-receipt too.
    refused(server, "keeper.hf", f"/purchase-orders/{order_id}/receive",
            {"lines": [{"line_no": 1, "quantity": 3}, {"line_no": 1, "quantity": 2}]}, 409, "over-receipt")
    # One good line and one over: the whole receipt is refused, the good line is not received either.
    refused(server, "keeper.hf", f"/purchase-orders/{order_id}/receive",
            {"lines": [{"line_no": 1, "quantity": 4}, {"line_no": 2, "quantity": 5}]}, 409, "over-receipt")
    refused(server, "keeper.hf", f"/purchase-orders/{order_id}/receive",
            {"lines": [{"line_no": 3, "quantity": 1}]}, 422, "invalid-value")       # no such line
    assert stock(server, filter_, HF_PARTS, partly["position"]) == (6, 0, 6, 4)
    assert stock(server, tooth, HF_PARTS, partly["position"]) == (0, 0, 0, 4)
    shown = get(server, "clerk.chen", f"/purchase-orders/{order_id}", partly["position"])
    assert (shown["status"], [(l["line_no"], l["quantity"], l["done"]) for l in shown["lines"]]) == \
           ("partly_received", [(1, 10, 6), (2, 4, 0)])

    done = receive(server, order_id, {1: 4, 2: 4})
    assert done["status"] == "received"
    assert stock(server, filter_, HF_PARTS, done["position"]) == (10, 0, 10, 0)
    assert stock(server, tooth, HF_PARTS, done["position"]) == (4, 0, 4, 0)
    refused(server, "keeper.hf", f"/purchase-orders/{order_id}/receive", {"lines": [{"line_no": 2, "quantity": 1}]},
            409, "over-receipt")
    shown = get(server, "keeper.hf", f"/purchase-orders/{order_id}", done["position"])
    assert (shown["status"], shown["number"], shown["counterparty"], shown["warehouse_code"], shown["amount"]) == \
           ("received", placed["number"], "Shantui parts", "PARTS", "940.00")
    assert [(l["part_id"], l["quantity"], l["unit_price"], l["done"]) for l in shown["lines"]] == \
           [(filter_, 10, "50.00", 10), (tooth, 4, "110.00", 4)]
    received = listed(server, "clerk.chen", "/purchase-orders", done["position"], status="received",
                     company_id=HF)
    assert order_id in {o["document_id"] for o in received}
    # Receiving is the warehouse's, ordering the office's.
    refused(server, "clerk.chen", f"/purchase-orders/{order_id}/receive", {"lines": [{"line_no": 1, "quantity": 1}]},
            403, "forbidden")
    refused(server, "keeper.hf", "/purchase-orders", {"company_id": HF, "supplier": "X", "warehouse_id": HF_PARTS,
                                                      "lines": [{"part_id": filter_, "quantity": 1}]}, 403,
            "forbidden")


# ------------------------------------------------------------------ 2. quote → sale → outbound → shipment → receipt
def test_quote_agreed_sale_submitted_keeper_ships_and_a_receipt_is_paid_partly_with_a_coupon(demo_server, today):
    server = demo_server
    part, part_no = new_part(server)
    assert stock(server, part, HF_PARTS, stock_up(server, part, 10)) == (10, 0, 10, 0)
    customer = new_customer(server)
    quote = post(server, "clerk.chen", "/parts-quotes", {
        "company_id": HF, "customer_id": customer, "lines": [{"part_id": part, "quantity": 4}],
        "valid_until": (today + timedelta(days=30)).isoformat()}, 201)
    quote_id = quote["quote_id"]
    assert (quote["status"], quote["total"], quote["lines"][0]["unit_price"]) == ("offered", "320.00", "80.00")
    # Not agreed yet: no sale.
    refused(server, "clerk.chen", "/parts-sales", {"quote_id": quote_id, "channel": "overhaul_shop",
                                                   "warehouse_id": HF_PARTS}, 409, "parts-document-state")
    agreed = post(server, "clerk.chen", f"/parts-quotes/{quote_id}/agree")
    assert agreed["status"] == "agreed"
    assert quote_id in {q["document_id"] for q in listed(server, "clerk.chen", "/parts-quotes",
                                                        agreed["position"], status="agreed")}
    sale = post(server, "clerk.chen", "/parts-sales", {"quote_id": quote_id, "channel": "overhaul_shop",
                                                       "warehouse_id": HF_PARTS}, 201)
    sale_id = sale["sale_id"]
    assert (sale["status"], sale["channel"], sale["total"], sale["receivable"], sale["outstanding"]) == \
           ("draft", "overhaul_shop", "320.00", "320.00", "320.00")
    # A quote makes one sale.
    refused(server, "clerk.chen", "/parts-sales", {"quote_id": quote_id, "channel": "walk_in",
                                                   "warehouse_id": HF_PARTS}, 409, "parts-document-state")
    assert get(server, "clerk.chen", f"/parts-quotes/{quote_id}", sale["position"])["status"] == "sold"

    submitted = post(server, "clerk.chen", f"/parts-sales/{sale_id}/submit")
    outbound_id = submitted["outbound_id"]
    assert (submitted["status"], submitted["outbound_number"][:7]) == ("submitted", "OUT-HF-")
    assert stock(server, part, HF_PARTS, submitted["position"]) == (10, 4, 6, 0)    # reserved, not gone
    refused(server, "clerk.chen", f"/parts-sales/{sale_id}/submit", None, 409, "parts-document-state")

    # The keeper's list: the outbound waits for them.
    with server.as_user("keeper.hf") as keeper:
        waiting = {o["document_id"]: o for o in every(keeper, "/parts-outbounds", submitted["position"],
                                                      status="waiting", warehouse_id=HF_PARTS)}
    assert (waiting[outbound_id]["source_id"], waiting[outbound_id]["source_number"],
            waiting[outbound_id]["warehouse_code"], waiting[outbound_id]["path"]) == \
           (sale_id, sale["number"], "PARTS", "parts_sale")
    shown = get(server, "keeper.hf", f"/parts-outbounds/{outbound_id}", submitted["position"])
    assert [(l["part_no"], l["quantity"]) for l in shown["lines"]] == [(part_no, 4)]
    # Shipping is the keeper's.
    refused(server, "clerk.chen", f"/parts-outbounds/{outbound_id}/ship", None, 403, "forbidden")
    shipped = post(server, "keeper.hf", f"/parts-outbounds/{outbound_id}/ship")
    assert (shipped["state"], shipped["source"]["id"]) == ("shipped", sale_id)
    assert stock(server, part, HF_PARTS, shipped["position"]) == (6, 0, 6, 0)
    refused(server, "keeper.hf", f"/parts-outbounds/{outbound_id}/ship", None, 409, "parts-document-state")
    with server.as_user("keeper.hf") as keeper:
        assert outbound_id not in {o["document_id"] for o in every(keeper, "/parts-outbounds", shipped["position"],
                                                                   status="waiting")}
    assert get(server, "clerk.chen", f"/parts-sales/{sale_id}", shipped["position"])["status"] == "shipped"
    refused(server, "clerk.chen", f"/parts-sales/{sale_id}/cancel", {"reason": "Too late"}, 409,
            "parts-document-state")

    # 收款: 200.00 of which a 100.00 coupon of the customer's, then the rest in cash.
    code = unique("PC")
    issued = post(server, "clerk.chen", "/coupons", {"code": code, "company_id": HF, "origin": "promotion",
                                                     "holder_kind": "customer", "holder_id": customer,
                                                     "face_value": "100.00", "amount_paid": "50.00"}, 201)
    first = post(server, "finance.sun", f"/parts-sales/{sale_id}/receipts", {
        "amount": "200.00", "value_date": today.isoformat(), "method": "bank_transfer", "reference": "Parts 1",
        "coupons": [{"code": code.lower(), "amount": "100.00"}]}, 201)
    assert (first["received"], first["outstanding"]) == ("200.00", "120.00")
    # More than is outstanding, or than the coupon has left: refused, nothing recorded.
    refused(server, "finance.sun", f"/parts-sales/{sale_id}/receipts", {
        "amount": "120.01", "value_date": today.isoformat(), "method": "cash"}, 409, "overpayment")
    refused(server, "finance.sun", f"/parts-sales/{sale_id}/receipts", {
        "amount": "50.00", "value_date": today.isoformat(), "method": "cash",
        "coupons": [{"code": code, "amount": "0.01"}]}, 422, "coupon-balance")
    refused(server, "finance.sun", f"/parts-sales/{sale_id}/receipts", {
        "amount": "50.00", "value_date": (today + timedelta(days=1)).isoformat(), "method": "cash"},
        422, "invalid-value")
    rest = post(server, "clerk.chen", f"/parts-sales/{sale_id}/receipts", {
        "amount": "120.00", "value_date": today.isoformat(), "method": "cash"}, 201)
    assert (rest["received"], rest["outstanding"]) == ("320.00", "0.00")

    shown = get(server, "finance.sun", f"/parts-sales/{sale_id}", rest["position"])
    assert (shown["status"], shown["channel"], shown["amount"], shown["receivable"], shown["received"],
            shown["coupons"], shown["outstanding"], shown["customer_id"], shown["source_id"]) == \
           ("shipped", "overhaul_shop", "320.00", "320.00", "320.00", "100.00", "0.00", customer, quote_id)
    sales = {s["document_id"]: s for s in listed(server, "clerk.chen", "/parts-sales", rest["position"],
                                                 company_id=HF, status="shipped")}
    assert (sales[sale_id]["received"], sales[sale_id]["outstanding"]) == ("320.00", "0.00")
    spent = get(server, "finance.sun", f"/coupons/{code}", rest["position"])
    assert (spent["redeemed"], spent["balance"]) == ("100.00", "0.00")
    usage = get(server, "finance.sun", f"/coupons/{code}/usage", rest["position"])["usage"]
    assert [(u["kind"], u["amount"], u["balance_after"]) for u in usage] == \
           [("issued", "100.00", "100.00"), ("redeemed", "-100.00", "0.00")]
    assert usage[1]["receipt_id"] == first["receipt_id"]
    assert issued["position"] < first["position"]


def test_a_gift_leaves_nothing_to_collect_and_a_cancelled_sale_gives_its_reservation_back(demo_server, today):
    server = demo_server
    part, _ = new_part(server)
    stock_up(server, part, 3)
    gift = draft_sale(server, today, part, 1, channel="gift")
    assert (gift["total"], gift["receivable"], gift["outstanding"]) == ("80.00", "0.00", "0.00")
    submitted = post(server, "clerk.chen", f"/parts-sales/{gift['sale_id']}/submit")
    assert stock(server, part, HF_PARTS, submitted["position"]) == (3, 1, 2, 0)
    refused(server, "clerk.chen", f"/parts-sales/{gift['sale_id']}/cancel", {"reason": ""}, 400, "invalid-request")
    cancelled = post(server, "clerk.chen", f"/parts-sales/{gift['sale_id']}/cancel",
                     {"reason": "Customer changed their mind"})
    assert cancelled["status"] == "cancelled"
    assert stock(server, part, HF_PARTS, cancelled["position"]) == (3, 0, 3, 0)
    outbound = get(server, "keeper.hf", f"/parts-outbounds/{submitted['outbound_id']}", cancelled["position"])
    assert outbound["status"] == "cancelled"
    refused(server, "keeper.hf", f"/parts-outbounds/{submitted['outbound_id']}/ship", None, 409,
            "parts-document-state")
    refused(server, "finance.sun", f"/parts-sales/{gift['sale_id']}/receipts", {
        "amount": "1.00", "value_date": today.isoformat(), "method": "cash"}, 409, "parts-document-state")


# ------------------------------------------------------------------ 3. the three emergency paths (紧急采购)
def test_path_from_warehouse_outbound_shipped_then_the_technician_confirms(shop):
    server = shop.server
    part, part_no = new_part(server)
    stock_up(server, part, 5)
    request = request_parts(shop, {part: 2}, note="Service at Feixi")
    request_id = request["request_id"]
    assert request["number"].startswith("PR-HF-")
    # The office's to handle; the technician confirms only what was shipped.
    refused(server, shop.tech, f"/parts-requests/{request_id}/handle",
            {"path": "from_warehouse", "warehouse_id": HF_PARTS}, 403, "forbidden")
    refused(server, "clerk.chen", f"/parts-requests/{request_id}/handle",
            {"path": "from_warehouse", "warehouse_id": HF_PARTS, "supplier": "Nobody"}, 422, "invalid-value")
    refused(server, "clerk.chen", f"/parts-requests/{request_id}/handle", {"path": "from_warehouse"}, 422,
            "invalid-value")
    handled = post(server, "clerk.chen", f"/parts-requests/{request_id}/handle",
                   {"path": "from_warehouse", "warehouse_id": HF_PARTS})
    assert (handled["status"], handled["path"]) == ("prepared", "from_warehouse")
    assert stock(server, part, HF_PARTS, handled["position"]) == (5, 2, 3, 0)
    refused(server, "clerk.chen", f"/parts-requests/{request_id}/handle",
            {"path": "from_warehouse", "warehouse_id": HF_PARTS}, 409, "parts-document-state")
    refused(server, shop.tech, f"/parts-requests/{request_id}/confirm-receipt", None, 409, "parts-document-state")
    with server.as_user("keeper.hf") as keeper:
        waiting = {o["document_id"]: o for o in every(keeper, "/parts-outbounds", handled["position"],
                                                      status="waiting")}
    assert (waiting[handled["outbound_id"]]["to_warehouse_id"], waiting[handled["outbound_id"]]["path"]) == \
           (shop.van, "parts_request")
    shipped = post(server, "keeper.hf", f"/parts-outbounds/{handled['outbound_id']}/ship")
    assert shipped["to_warehouse_id"] == shop.van
    assert stock(server, part, HF_PARTS, shipped["position"]) == (3, 0, 3, 0)
    assert stock(server, part, shop.van, shipped["position"]) == (0, 0, 0, 2)          # on its way
    refused(server, shop.other, f"/parts-requests/{request_id}/confirm-receipt", None, 403,
            "not-your-mobile-warehouse")
    confirmed = post(server, shop.tech, f"/parts-requests/{request_id}/confirm-receipt")
    assert confirmed["status"] == "received"
    assert stock(server, part, shop.van, confirmed["position"]) == (2, 0, 2, 0)
    refused(server, shop.tech, f"/parts-requests/{request_id}/confirm-receipt", None, 409, "parts-document-state")

    shown = get(server, shop.tech, f"/parts-requests/{request_id}", confirmed["position"])
    assert [s["step"] for s in shown["steps"]] == ["requested", "handled:from_warehouse", "outbound_prepared",
                                                   "shipped", "receipt_confirmed"]
    assert [s["document_id"] for s in shown["steps"]][2:4] == [handled["outbound_id"]] * 2
    assert (shown["status"], shown["path"], shown["warehouse_id"], shown["to_warehouse_id"], shown["technician_id"],
            shown["counterparty"]) == ("received", "from_warehouse", HF_PARTS, shop.van, shop.tech_id,
                                       "Service at Feixi")
    assert [(l["part_no"], l["quantity"], l["done"]) for l in shown["lines"]] == [(part_no, 2, 2)]


def test_path_emergency_purchase_shipped_straight_to_the_technician(shop):
    server = shop.server
    part, _ = new_part(server, "120.00", "200.00", "wear", "Bucket tooth")
    request_id = request_parts(shop, {part: 3})["request_id"]
    # Straight to the technician: the van is the warehouse, no other may be named.
    refused(server, "clerk.chen", f"/parts-requests/{request_id}/handle",
            {"path": "purchase_to_technician", "warehouse_id": HF_PARTS, "supplier": "Hefei Parts Co"},
            422, "invalid-value")
    refused(server, "clerk.chen", f"/parts-requests/{request_id}/handle",
            {"path": "purchase_to_technician", "supplier": "Hefei Parts Co",
             "unit_prices": [{"line_no": 2, "unit_price": "130.00"}]}, 422, "invalid-value")
    handled = post(server, "clerk.chen", f"/parts-requests/{request_id}/handle", {
        "path": "purchase_to_technician", "supplier": "Hefei Parts Co",
        "unit_prices": [{"line_no": 1, "unit_price": "130.00"}]})
    order_id = handled["purchase_order_id"]
    assert (handled["status"], handled["path"]) == ("ordered", "purchase_to_technician")
    assert stock(server, part, shop.van, handled["position"]) == (0, 0, 0, 3)
    # The keeper does not receive it: the technician confirms on their request.
    problem = refused(server, "keeper.hf", f"/purchase-orders/{order_id}/receive",
                      {"lines": [{"line_no": 1, "quantity": 3}]}, 422, "invalid-value")
    assert "technician" in problem["detail"], problem
    refused(server, shop.other, f"/parts-requests/{request_id}/confirm-receipt", None, 403,
            "not-your-mobile-warehouse")
    confirmed = post(server, shop.tech, f"/parts-requests/{request_id}/confirm-receipt")
    assert confirmed["status"] == "received"
    assert stock(server, part, shop.van, confirmed["position"]) == (3, 0, 3, 0)
    assert steps(server, request_id, confirmed["position"], shop.tech) == [
        "requested", "handled:purchase_to_technician", "purchase_order_placed", "purchase_received",
        "receipt_confirmed"]
    placed = get(server, "clerk.chen", f"/purchase-orders/{order_id}", confirmed["position"])
    assert (placed["status"], placed["amount"], placed["warehouse_id"], placed["source_id"],
            placed["counterparty"]) == ("received", "390.00", shop.van, request_id, "Hefei Parts Co")


def test_path_emergency_purchase_to_a_warehouse_then_outbound_to_the_technician(shop):
    """Each receipt of the emergency purchase is reserved for the technician at once by an
    outbound of what arrived: the request is received when every unit is in the van."""
    server = shop.server
    part, _ = new_part(server, "120.00", "200.00", "wear", "Bucket tooth")
    stock_up(server, part, 1)                       # one free tooth that the request must not take
    request_id = request_parts(shop, {part: 2})["request_id"]
    handled = post(server, "clerk.chen", f"/parts-requests/{request_id}/handle",
                   {"path": "purchase_to_warehouse", "warehouse_id": HF_PARTS, "supplier": "Hefei Parts Co"})
    order_id = handled["purchase_order_id"]
    assert (handled["status"], handled["path"]) == ("ordered", "purchase_to_warehouse")
    assert stock(server, part, HF_PARTS, handled["position"]) == (1, 0, 1, 2)
    refused(server, shop.tech, f"/parts-requests/{request_id}/confirm-receipt", None, 409, "parts-document-state")

    # The first tooth arrives: reserved for the request at once, shipped and confirmed.
    partly = receive(server, order_id, {1: 1})
    first = partly["outbound_id"]
    assert stock(server, part, HF_PARTS, partly["position"]) == (2, 1, 1, 1)
    assert get(server, shop.tech, f"/parts-requests/{request_id}", partly["position"])["status"] == "prepared"
    shipped = post(server, "keeper.hf", f"/parts-outbounds/{first}/ship")
    assert (shipped["to_warehouse_id"], shipped["source"]["id"]) == (shop.van, request_id)
    assert get(server, shop.tech, f"/parts-requests/{request_id}", shipped["position"])["status"] == "shipped"
    one = post(server, shop.tech, f"/parts-requests/{request_id}/confirm-receipt")
    assert one["status"] == "ordered"                                   # one more to come
    assert stock(server, part, shop.van, one["position"]) == (1, 0, 1, 0)
    refused(server, shop.tech, f"/parts-requests/{request_id}/confirm-receipt", None, 409, "parts-document-state")
    # More than was ordered is refused here too, and nothing is reserved for it.
    refused(server, "keeper.hf", f"/purchase-orders/{order_id}/receive", {"lines": [{"line_no": 1, "quantity": 2}]},
            409, "over-receipt")

    # The second arrives: the same again.
    received = receive(server, order_id, {1: 1})
    second = received["outbound_id"]
    assert second != first and received["status"] == "received"
    assert stock(server, part, HF_PARTS, received["position"]) == (2, 1, 1, 0)   # reserved for the request at once
    post(server, "keeper.hf", f"/parts-outbounds/{second}/ship")
    confirmed = post(server, shop.tech, f"/parts-requests/{request_id}/confirm-receipt")
    assert confirmed["status"] == "received"
    assert stock(server, part, HF_PARTS, confirmed["position"]) == (1, 0, 1, 0)
    assert stock(server, part, shop.van, confirmed["position"]) == (2, 0, 2, 0)
    shown = get(server, "clerk.chen", f"/parts-requests/{request_id}", confirmed["position"])
    assert [s["step"] for s in shown["steps"]] == [
        "requested", "handled:purchase_to_warehouse", "purchase_order_placed",
        "purchase_received", "outbound_prepared", "shipped", "receipt_confirmed",
        "purchase_received", "outbound_prepared", "shipped", "receipt_confirmed"]
    assert {s["document_id"] for s in shown["steps"] if s["document_kind"] == "purchase_order"} == {order_id}
    assert [s["document_id"] for s in shown["steps"] if s["document_kind"] == "parts_outbound"] == \
           [first, first, second, second]
    assert (shown["status"], shown["path"], shown["warehouse_id"]) == ("received", "purchase_to_warehouse", HF_PARTS)
    assert [(line["quantity"], line["done"]) for line in shown["lines"]] == [(2, 2)]
    placed = get(server, "keeper.hf", f"/purchase-orders/{order_id}", confirmed["position"])
    assert (placed["status"], placed["source_id"], placed["warehouse_id"]) == ("received", request_id, HF_PARTS)


# ------------------------------------------------------------------ 4. work orders
def test_a_work_order_consumes_from_the_van_refuses_what_is_not_held_and_requests_the_rest(shop):
    server = shop.server
    filter_, filter_no = new_part(server)
    tooth, _ = new_part(server, "120.00", "200.00", "wear", "Bucket tooth")
    stock_up(server, filter_, 5)
    into_van(shop, filter_, 2)
    work = open_work_order(shop)
    work_id = work["work_order_id"]
    assert (work["number"][:6], work["completed"], work["consumed"]) == ("WO-HF-", False, [])
    used = post(server, shop.tech, f"/work-orders/{work_id}/consume",
                {"lines": [{"part_id": filter_, "quantity": 2}]})
    assert used["consumed"] == [{"part_id": filter_, "quantity": 2}]
    assert stock(server, filter_, shop.van, used["position"]) == (0, 0, 0, 0)

    # What the technician does not hold: 409 with what to do, nothing recorded.
    problem = refused(server, shop.tech, f"/work-orders/{work_id}/consume",
                      {"lines": [{"part_id": filter_, "quantity": 1}]}, 409, "insufficient-part-stock")
    assert "Request the missing parts" in problem["detail"] and filter_no in problem["detail"], problem
    assert (problem["available"], problem["requested"]) == ("0", "1")
    refused(server, shop.tech, f"/work-orders/{work_id}/consume",
            {"lines": [{"part_id": tooth, "quantity": 1}]}, 409, "insufficient-part-stock")
    # Another technician uses nothing from this van.
    refused(server, shop.other, f"/work-orders/{work_id}/consume",
            {"lines": [{"part_id": filter_, "quantity": 1}]}, 403, "not-your-mobile-warehouse")
    assert stock(server, filter_, shop.van, used["position"]) == (0, 0, 0, 0)

    # Requested from within the work order.
    missing = request_parts(shop, {tooth: 1, filter_: 1}, work_order_id=work_id, note="Worn teeth on the job")
    shown = get(server, shop.tech, f"/parts-requests/{missing['request_id']}", missing["position"])
    assert (shown["source_id"], shown["source_number"], shown["status"]) == (work_id, work["number"], "requested")
    assert (shown["steps"][0]["step"], shown["steps"][0]["document_kind"], shown["steps"][0]["document_id"]) == \
           ("requested", "work_order", work_id)
    # The other technician's request cannot draw on this work order.
    refused(server, shop.other, "/parts-requests", {"mobile_warehouse_id": shop.other_van,
                                                    "lines": [{"part_id": tooth, "quantity": 1}],
                                                    "work_order_id": work_id}, 422, "invalid-value")
    # Bought straight to the van, the missing parts are used too.
    handled = post(server, "clerk.chen", f"/parts-requests/{missing['request_id']}/handle",
                   {"path": "purchase_to_technician", "supplier": "Hefei Parts Co"})
    post(server, shop.tech, f"/parts-requests/{missing['request_id']}/confirm-receipt")
    more = post(server, shop.tech, f"/work-orders/{work_id}/consume",
                {"lines": [{"part_id": tooth, "quantity": 1}, {"part_id": filter_, "quantity": 1}]})
    assert sorted((c["part_id"], c["quantity"]) for c in more["consumed"]) == sorted([(filter_, 3), (tooth, 1)])
    assert handled["purchase_order_id"]

    refused(server, shop.other, f"/work-orders/{work_id}/complete", None, 403, "not-your-mobile-warehouse")
    completed = post(server, shop.tech, f"/work-orders/{work_id}/complete")
    assert completed["completed"] is True
    refused(server, shop.tech, f"/work-orders/{work_id}/consume", {"lines": [{"part_id": filter_, "quantity": 1}]},
            409, "parts-document-state")
    refused(server, shop.tech, f"/work-orders/{work_id}/complete", None, 409, "parts-document-state")
    refused(server, shop.tech, "/parts-requests", {"mobile_warehouse_id": shop.van,
                                                   "lines": [{"part_id": tooth, "quantity": 1}],
                                                   "work_order_id": work_id}, 409, "parts-document-state")
    shown = get(server, shop.tech, f"/work-orders/{work_id}", completed["position"])
    assert (shown["status"], shown["technician_id"], shown["to_warehouse_id"], shown["job_type"]) == \
           ("completed", shop.tech_id, shop.van, "maintenance")
    assert [(l["part_id"], l["quantity"]) for l in shown["lines"]] == [(filter_, 2), (tooth, 1), (filter_, 1)]


# ------------------------------------------------------------------ 5. stock, export and movements after the flows
def test_stock_list_export_and_movements_tell_the_same_figures_after_the_flows(shop, today):
    server = shop.server
    part, part_no = new_part(server, name="Fuel filter")
    pending, pending_no = new_part(server, name="Air filter")
    stock_up(server, part, 10)                                            # 10 received
    sale = draft_sale(server, today, part, 3)
    submitted = post(server, "clerk.chen", f"/parts-sales/{sale['sale_id']}/submit")
    post(server, "keeper.hf", f"/parts-outbounds/{submitted['outbound_id']}/ship")    # 3 to a customer
    into_van(shop, part, 2)                                               # 2 to the van
    work = open_work_order(shop)
    used = post(server, shop.tech, f"/work-orders/{work['work_order_id']}/consume",
                {"lines": [{"part_id": part, "quantity": 1}]})                # 1 used on the job
    last = order(server, pending, 7)["position"]                          # 7 ordered, not received
    after = max(used["position"], last)

    # ListPartsStock: the parts warehouse and the van, each with its figures.
    rows = {r["warehouse_id"]: r for r in get(server, "clerk.chen", "/parts-stock", after, part_id=part)["items"]}
    assert set(rows) == {HF_PARTS, shop.van}
    figures = ("company_code", "warehouse_code", "warehouse_kind", "part_no", "on_hand", "reserved", "available",
               "pending_in")
    assert tuple(rows[HF_PARTS][f] for f in figures) == ("HF", "PARTS", "parts", part_no, 5, 0, 5, 0)
    assert tuple(rows[shop.van][f] for f in figures) == ("HF", shop.van_code, "mobile", part_no, 1, 0, 1, 0)
    assert (rows[shop.van]["technician_name"], rows[HF_PARTS]["category"], rows[HF_PARTS]["unit"]) == \
           ("Tech", "filter", "pc")
    vans = get(server, "clerk.chen", "/parts-stock", after, part_id=part, warehouse_kind="mobile")
    assert [r["warehouse_id"] for r in vans["items"]] == [shop.van] and vans["total"] == 1
    assert get(server, "clerk.chen", "/parts-stock", after, part_id=part, company_id=HF)["total"] == 2
    waiting = get(server, "clerk.chen", "/parts-stock", after, part_id=pending)
    assert [(r["on_hand"], r["pending_in"]) for r in waiting["items"]] == [(0, 7)]
    assert get(server, "clerk.chen", "/parts-stock", after, part_id=pending, in_stock_only="true")["total"] == 0
    # The technician sees the same figures for their van.
    assert stock(server, part, shop.van, after, username=shop.tech) == (1, 0, 1, 0)

    # ExportPartsStock: the same rows, as CSV.
    header, csv_rows = exported(server, "clerk.chen", after, part_id=part)
    assert header == STOCK_EXPORT_COLUMNS
    by_code = {r["warehouse_code"]: r for r in csv_rows}
    assert set(by_code) == {"PARTS", shop.van_code}
    for warehouse, row in rows.items():
        line = by_code[row["warehouse_code"]]
        assert {f: line[f] for f in ("on_hand", "reserved", "available", "pending_in")} == \
               {f: str(row[f]) for f in ("on_hand", "reserved", "available", "pending_in")}, warehouse
        assert (line["part_no"], line["company_code"], line["warehouse_kind"]) == (part_no, "HF", row["warehouse_kind"])
    _, pending_rows = exported(server, "clerk.chen", after, part_id=pending, in_stock_only="true")
    assert pending_rows == []
    _, whole = exported(server, "clerk.chen", after)
    assert {(r["part_no"], r["warehouse_code"]) for r in whole} >= {(part_no, "PARTS"), (part_no, shop.van_code),
                                                                   (pending_no, "PARTS")}

    # GetPartMovements: every movement, and on hand is their sum.
    moves = get(server, "clerk.chen", f"/parts/{part}/movements", after)
    assert moves["total"] == len(moves["items"]) == 9
    at = {w: [(m["kind"], m["quantity"], m["on_hand_change"], m["reserved_change"], m["pending_change"],
               m["on_hand_after"], m["document_kind"]) for m in moves["items"] if m["warehouse_id"] == w]
          for w in (HF_PARTS, shop.van)}
    assert at[HF_PARTS] == [
        ("inbound_expected", 10, 0, 0, 10, 0, "purchase_order"), ("received", 10, 10, 0, -10, 10, "purchase_order"),
        ("reserved", 3, 0, 3, 0, 10, "parts_outbound"), ("issued", 3, -3, -3, 0, 7, "parts_outbound"),
        ("reserved", 2, 0, 2, 0, 7, "parts_outbound"), ("issued", 2, -2, -2, 0, 5, "parts_outbound")]
    assert at[shop.van] == [
        ("inbound_expected", 2, 0, 0, 2, 0, "parts_outbound"), ("received", 2, 2, 0, -2, 2, "parts_outbound"),
        ("consumed", 1, -1, 0, 0, 1, "work_order")]
    for warehouse, row in rows.items():
        assert sum(m[2] for m in at[warehouse]) == row["on_hand"]
        assert sum(m[3] for m in at[warehouse]) == row["reserved"]
        assert sum(m[4] for m in at[warehouse]) == row["pending_in"]
    issued_to_van = [m for m in moves["items"] if m["warehouse_id"] == HF_PARTS and m["kind"] == "issued"][-1]
    assert issued_to_van["other_warehouse_id"] == shop.van
    consumed = next(m for m in moves["items"] if m["kind"] == "consumed")
    assert (consumed["document_id"], consumed["document_number"]) == (work["work_order_id"], work["number"])
    only_van = get(server, "clerk.chen", f"/parts/{part}/movements", after, warehouse_id=shop.van)
    assert [m["kind"] for m in only_van["items"]] == ["inbound_expected", "received", "consumed"]
    assert get(server, "clerk.chen", f"/parts/{part}", after)["part_no"] == part_no
    assert part in {p["part_id"] for p in get(server, "sales.wang", "/parts", after, text=part_no)["items"]}


# ------------------------------------------------------------------ 6. refusals
def test_stock_never_goes_negative(shop, today):
    server = shop.server
    part, part_no = new_part(server)
    position = stock_up(server, part, 3)
    big = draft_sale(server, today, part, 5)
    problem = refused(server, "clerk.chen", f"/parts-sales/{big['sale_id']}/submit", None, 409,
                      "insufficient-part-stock")
    assert f"Warehouse PARTS has 3 of part {part_no} free (3 on hand, 0 reserved); 5 cannot be taken" in \
           problem["detail"], problem
    assert (problem["part_no"], problem["available"], problem["requested"]) == (part_no, "3", "5")
    assert stock(server, part, HF_PARTS, position) == (3, 0, 3, 0)
    assert get(server, "clerk.chen", f"/parts-sales/{big['sale_id']}", position)["status"] == "draft"

    two = draft_sale(server, today, part, 2)
    held = post(server, "clerk.chen", f"/parts-sales/{two['sale_id']}/submit")
    again = draft_sale(server, today, part, 2)
    problem = refused(server, "clerk.chen", f"/parts-sales/{again['sale_id']}/submit", None, 409,
                      "insufficient-part-stock")
    assert "has 1 of part" in problem["detail"] and "2 reserved" in problem["detail"], problem
    request = request_parts(shop, {part: 2})
    refused(server, "clerk.chen", f"/parts-requests/{request['request_id']}/handle",
            {"path": "from_warehouse", "warehouse_id": HF_PARTS}, 409, "insufficient-part-stock")
    assert get(server, shop.tech, f"/parts-requests/{request['request_id']}", held["position"])["status"] == \
           "requested"
    assert stock(server, part, HF_PARTS, held["position"]) == (3, 2, 1, 0)
    # Cancelling gives the reservation back: the other sale now goes through.
    post(server, "clerk.chen", f"/parts-sales/{two['sale_id']}/cancel", {"reason": "Customer changed their mind"})
    later = post(server, "clerk.chen", f"/parts-sales/{again['sale_id']}/submit")
    assert stock(server, part, HF_PARTS, later["position"]) == (3, 2, 1, 0)
    # Nothing on hand in the van: consumption refused; nothing in the main warehouse: sale refused.
    work = open_work_order(shop)
    refused(server, shop.tech, f"/work-orders/{work['work_order_id']}/consume",
            {"lines": [{"part_id": part, "quantity": 1}]}, 409, "insufficient-part-stock")
    from_main = draft_sale(server, today, part, 1, warehouse=HF_MAIN)
    problem = refused(server, "clerk.chen", f"/parts-sales/{from_main['sale_id']}/submit", None, 409,
                      "insufficient-part-stock")
    assert "Warehouse MAIN has 0" in problem["detail"], problem
    moves = get(server, "clerk.chen", f"/parts/{part}/movements", later["position"])["items"]
    assert all(m["on_hand_after"] >= 0 for m in moves)


def test_another_companys_warehouse_is_not_found_or_not_usable(shop, today):
    server = shop.server
    part, _ = new_part(server)
    line = [{"part_id": part, "quantity": 1}]
    po = {"company_id": HF, "supplier": "Shantui parts", "lines": line}
    # A Hefei clerk does not see Chuzhou's warehouse (nor Chuzhou): 404.
    refused(server, "clerk.chen", "/purchase-orders", {**po, "warehouse_id": CZ_MAIN}, 404, "warehouse-not-found")
    refused(server, "clerk.chen", "/purchase-orders", {**po, "company_id": CZ, "warehouse_id": CZ_MAIN}, 404,
            "company-not-found")
    # Someone who sees both: a Hefei document does not use a Chuzhou warehouse (422).
    problem = refused(server, "admin", "/purchase-orders", {**po, "warehouse_id": CZ_MAIN}, 422,
                      "warehouse-not-usable")
    assert problem["field"] == "warehouse_id", problem
    # Nor a van for a purchase that serves no request, nor a van as a sale's warehouse.
    refused(server, "clerk.chen", "/purchase-orders", {**po, "warehouse_id": shop.van}, 422, "warehouse-not-usable")
    stock_up(server, part, 2)
    quote = agreed_quote(server, today, line)
    for username, warehouse, status, code in (("clerk.chen", CZ_MAIN, 404, "warehouse-not-found"),
                                              ("admin", CZ_MAIN, 422, "warehouse-not-usable"),
                                              ("clerk.chen", shop.van, 422, "warehouse-not-usable")):
        refused(server, username, "/parts-sales", {"quote_id": quote["quote_id"], "channel": "walk_in",
                                                   "warehouse_id": warehouse}, status, code, (username, warehouse))
    assert get(server, "clerk.chen", f"/parts-quotes/{quote['quote_id']}", quote["position"])["status"] == "agreed"
    request = request_parts(shop, {part: 1})
    for username, warehouse, status, code in (("clerk.chen", CZ_MAIN, 404, "warehouse-not-found"),
                                              ("admin", CZ_MAIN, 422, "warehouse-not-usable")):
        refused(server, username, f"/parts-requests/{request['request_id']}/handle",
                {"path": "from_warehouse", "warehouse_id": warehouse}, status, code, (username, warehouse))
        refused(server, username, f"/parts-requests/{request['request_id']}/handle",
                {"path": "purchase_to_warehouse", "warehouse_id": warehouse, "supplier": "X"}, status, code)
    # A van neither ships a request nor receives its emergency purchase (the technician's own included).
    for van in (shop.van, shop.other_van):
        refused(server, "clerk.chen", f"/parts-requests/{request['request_id']}/handle",
                {"path": "from_warehouse", "warehouse_id": van}, 422, "warehouse-not-usable")
        refused(server, "clerk.chen", f"/parts-requests/{request['request_id']}/handle",
                {"path": "purchase_to_warehouse", "warehouse_id": van, "supplier": "X"}, 422, "warehouse-not-usable")
    assert get(server, shop.tech, f"/parts-requests/{request['request_id']}", request["position"])["status"] == \
           "requested"
    # A technician's request goes into a mobile warehouse only.
    refused(server, shop.tech, "/parts-requests", {"mobile_warehouse_id": HF_PARTS, "lines": line}, 422,
            "warehouse-not-usable")
    refused(server, shop.tech, "/parts-requests", {"mobile_warehouse_id": CZ_MAIN, "lines": line}, 404,
            "warehouse-not-found")
    assert stock(server, part, CZ_MAIN, request["position"], username="admin") == (0, 0, 0, 0)


def test_another_technicians_van_is_refused(shop):
    server = shop.server
    part, _ = new_part(server)
    line = [{"part_id": part, "quantity": 1}]
    problem = refused(server, shop.other, "/parts-requests", {"mobile_warehouse_id": shop.van, "lines": line}, 403,
                      "not-your-mobile-warehouse")
    assert shop.van_code in problem["detail"], problem
    refused(server, shop.other, "/work-orders", {"mobile_warehouse_id": shop.van, "customer_name": "Quarry",
                                                 "serial_number": "SY215C-1", "job_type": "repair"}, 403,
            "not-your-mobile-warehouse")
    # The demo's technician, Zhou, neither.
    refused(server, "tech.zhou", "/parts-requests", {"mobile_warehouse_id": shop.van, "lines": line}, 403,
            "not-your-mobile-warehouse")
    # Other roles do not request parts at all.
    refused(server, "keeper.hf", "/parts-requests", {"mobile_warehouse_id": shop.van, "lines": line}, 403,
            "forbidden")
    refused(server, "sales.wang", "/work-orders", {"mobile_warehouse_id": shop.van, "customer_name": "Quarry",
                                                   "serial_number": "SY215C-1", "job_type": "repair"}, 403,
            "forbidden")


BAD_BODIES = [
    ("/parts", {"part_no": "", "name": "x", "unit": "pc", "category": "filter", "purchase_price": "1.00",
                "sale_price": "2.00"}),
    ("/parts", {"part_no": "BAD-1", "name": "x", "unit": "pc", "category": "teapot", "purchase_price": "1.00",
                "sale_price": "2.00"}),
    ("/parts", {"part_no": "BAD-1", "name": "x", "unit": "pc", "category": "filter", "purchase_price": "1.00"}),
    ("/parts", {"part_no": "BAD-1", "name": "x", "unit": "pc", "category": "filter", "purchase_price": "1.00",
                "sale_price": "2.00", "colour": "red"}),
    ("/purchase-orders", {"company_id": HF, "supplier": "X", "warehouse_id": HF_PARTS, "lines": []}),
    ("/purchase-orders", {"company_id": HF, "supplier": "X", "warehouse_id": HF_PARTS,
                          "lines": [{"part_id": NOWHERE, "quantity": 0}]}),
    ("/purchase-orders", {"company_id": HF, "supplier": "X", "warehouse_id": HF_PARTS,
                          "lines": [{"part_id": NOWHERE, "quantity": -3}]}),
    ("/purchase-orders", {"company_id": HF, "supplier": "X", "warehouse_id": HF_PARTS,
                          "lines": [{"part_id": NOWHERE, "quantity": 1.5}]}),
    ("/purchase-orders", {"company_id": HF, "supplier": "X", "warehouse_id": HF_PARTS,
                          "lines": [{"part_id": "not-an-id", "quantity": 1}]}),
    ("/purchase-orders", {"company_id": HF, "supplier": "X", "warehouse_id": HF_PARTS,
                          "lines": [{"part_id": NOWHERE, "quantity": 100_001}]}),
    (f"/purchase-orders/{NOWHERE}/receive", {"lines": []}),
    (f"/purchase-orders/{NOWHERE}/receive", {"lines": [{"line_no": 0, "quantity": 1}]}),
    (f"/purchase-orders/{NOWHERE}/receive", {"lines": [{"line_no": 1, "quantity": "two"}]}),
    ("/parts-quotes", {"company_id": HF, "customer_name": "x", "lines": [{"part_id": NOWHERE, "quantity": 1}]}),
    ("/parts-quotes", {"company_id": HF, "customer_name": "x", "lines": [{"part_id": NOWHERE, "quantity": 1}],
                       "valid_until": "next week"}),
    ("/parts-sales", {"quote_id": NOWHERE, "channel": "barter", "warehouse_id": HF_PARTS}),
    (f"/parts-sales/{NOWHERE}/receipts", {"amount": "1.00", "value_date": "2026-01-01", "method": "shells"}),
    (f"/parts-sales/{NOWHERE}/cancel", {}),
    ("/parts-requests", {"mobile_warehouse_id": NOWHERE, "lines": [{"part_id": NOWHERE, "quantity": 0}]}),
    (f"/parts-requests/{NOWHERE}/handle", {"path": "teleport"}),
    (f"/parts-requests/{NOWHERE}/handle", {"path": "from_warehouse", "unit_prices": [{"line_no": 1}]}),
    ("/work-orders", {"mobile_warehouse_id": NOWHERE, "customer_name": "x", "serial_number": "S-1",
                      "job_type": "magic"}),
    ("/work-orders", {"mobile_warehouse_id": NOWHERE, "customer_name": "x", "job_type": "repair"}),
    (f"/work-orders/{NOWHERE}/consume", {"lines": [{"part_id": NOWHERE, "quantity": 0}]}),
    (f"/work-orders/{NOWHERE}/consume", {"lines": []}),
]


def test_bad_bodies_are_400_and_record_nothing(demo_server):
    with demo_server.as_admin() as admin, nothing_recorded(demo_server):
        for path, body in BAD_BODIES:
            problem = assert_problem(admin.post(path, json=body), 400, "invalid-request", (path, body))
            assert problem["detail"], problem
        for path in ("/parts", "/purchase-orders", f"/work-orders/{NOWHERE}/consume"):
            answer = admin.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
            assert_problem(answer, 400, "invalid-request", path)
        # Queries too: a kind of warehouse that does not exist, a page size too large.
        assert_problem(admin.get("/parts-stock", params={"warehouse_kind": "boat"}), 400, "invalid-request")
        assert_problem(admin.get("/parts", params={"page_size": 501}), 400, "invalid-request")
        assert_problem(admin.get("/parts/not-an-id"), 404, "no-such-route")


def test_unknown_ids_are_404_and_record_nothing(shop, today):
    server = shop.server
    part, _ = new_part(server)
    for path, code in (("/parts", "part-not-found"), ("/purchase-orders", "purchase-order-not-found"),
                       ("/parts-quotes", "parts-quote-not-found"), ("/parts-sales", "parts-sale-not-found"),
                       ("/parts-outbounds", "parts-outbound-not-found"),
                       ("/parts-requests", "parts-request-not-found"), ("/work-orders", "work-order-not-found")):
        not_found(server, "admin", f"{path}/{NOWHERE}", code)
    line = [{"part_id": part, "quantity": 1}]
    for username, path, body, code in (
            ("admin", f"/parts/{NOWHERE}/prices", {"purchase_price": "1.00", "sale_price": "2.00", "reason": "x"},
             "part-not-found"),
            ("clerk.chen", "/purchase-orders", {"company_id": HF, "supplier": "X", "warehouse_id": HF_PARTS,
                                                "lines": [{"part_id": NOWHERE, "quantity": 1}]}, "part-not-found"),
            ("clerk.chen", "/purchase-orders", {"company_id": HF, "supplier": "X", "warehouse_id": NOWHERE,
                                                "lines": line}, "warehouse-not-found"),
            ("clerk.chen", "/purchase-orders", {"company_id": NOWHERE, "supplier": "X", "warehouse_id": HF_PARTS,
                                                "lines": line}, "company-not-found"),
            ("keeper.hf", f"/purchase-orders/{NOWHERE}/receive", {"lines": [{"line_no": 1, "quantity": 1}]},
             "purchase-order-not-found"),
            ("clerk.chen", "/parts-quotes", {"company_id": HF, "customer_id": NOWHERE, "lines": line,
                                             "valid_until": today.isoformat()}, "customer-not-found"),
            ("clerk.chen", f"/parts-quotes/{NOWHERE}/agree", None, "parts-quote-not-found"),
            ("clerk.chen", "/parts-sales", {"quote_id": NOWHERE, "channel": "walk_in", "warehouse_id": HF_PARTS},
             "parts-quote-not-found"),
            ("clerk.chen", f"/parts-sales/{NOWHERE}/submit", None, "parts-sale-not-found"),
            ("clerk.chen", f"/parts-sales/{NOWHERE}/cancel", {"reason": "x"}, "parts-sale-not-found"),
            ("finance.sun", f"/parts-sales/{NOWHERE}/receipts", {"amount": "1.00", "value_date": today.isoformat(),
                                                                 "method": "cash"}, "parts-sale-not-found"),
            ("keeper.hf", f"/parts-outbounds/{NOWHERE}/ship", None, "parts-outbound-not-found"),
            (shop.tech, "/parts-requests", {"mobile_warehouse_id": NOWHERE, "lines": line}, "warehouse-not-found"),
            (shop.tech, "/parts-requests", {"mobile_warehouse_id": shop.van,
                                            "lines": [{"part_id": NOWHERE, "quantity": 1}]}, "part-not-found"),
            (shop.tech, "/parts-requests", {"mobile_warehouse_id": shop.van, "lines": line, "work_order_id": NOWHERE},
             "work-order-not-found"),
            ("clerk.chen", f"/parts-requests/{NOWHERE}/handle", {"path": "from_warehouse", "warehouse_id": HF_PARTS},
             "parts-request-not-found"),
            (shop.tech, f"/parts-requests/{NOWHERE}/confirm-receipt", None, "parts-request-not-found"),
            (shop.tech, "/work-orders", {"mobile_warehouse_id": NOWHERE, "customer_name": "x",
                                         "serial_number": "S-1", "job_type": "repair"}, "warehouse-not-found"),
            (shop.tech, f"/work-orders/{NOWHERE}/consume", {"lines": line}, "work-order-not-found"),
            (shop.tech, f"/work-orders/{NOWHERE}/complete", None, "work-order-not-found")):
        refused(server, username, path, body, 404, code, (username, path))
    # Movements of a part nobody moved: an empty list, not an error.
    assert get(server, "admin", f"/parts/{part}/movements")["total"] == 0


# ------------------------------------------------------------------ 7. data scope
def test_a_chuzhou_only_user_sees_none_of_hefeis_parts(shop, today):
    server = shop.server
    part, part_no = new_part(server)
    # Hefei: a purchase received, a quote, a sale submitted (its outbound waits), a request, a work order.
    placed = order(server, part, 5)
    receive(server, placed["order_id"], {1: 5})
    sale = draft_sale(server, today, part, 1)
    submitted = post(server, "clerk.chen", f"/parts-sales/{sale['sale_id']}/submit")
    request = request_parts(shop, {part: 1})
    work = open_work_order(shop)
    hefei = {"purchase_order": placed["order_id"], "parts_quote": sale["quote_id"], "parts_sale": sale["sale_id"],
             "parts_outbound": submitted["outbound_id"], "parts_request": request["request_id"],
             "work_order": work["work_order_id"]}
    # Chuzhou: its own purchase of the same part, received by its keeper.
    cz_order = order(server, part, 2, warehouse=CZ_MAIN, company=CZ, username="admin")
    after = receive(server, cz_order["order_id"], {1: 2}, username="keeper.cz")["position"]
    after = max(after, work["position"])

    with server.as_user("keeper.cz") as cz:
        # Stock: only Chuzhou's rows, for this part only its own warehouse; nothing of Hefei when asked for it.
        rows = every(cz, "/parts-stock", after)
        assert rows and {r["company_code"] for r in rows} == {"CZ"}
        mine = ok(cz.get("/parts-stock", params={"after": after, "part_id": part}))
        assert [(r["warehouse_id"], r["on_hand"]) for r in mine["items"]] == [(CZ_MAIN, 2)] and mine["total"] == 1
        for params in ({"company_id": HF}, {"warehouse_id": HF_PARTS}, {"warehouse_id": shop.van},
                       {"part_id": part, "company_id": HF}):
            assert ok(cz.get("/parts-stock", params={"after": after, **params}))["total"] == 0, params
        header, csv_rows = exported(server, "keeper.cz", after)
        assert header == STOCK_EXPORT_COLUMNS and {r["company_code"] for r in csv_rows} == {"CZ"}
        assert [r["warehouse_code"] for r in csv_rows if r["part_no"] == part_no] == ["MAIN"]
        assert exported(server, "keeper.cz", after, company_id=HF)[1] == []
        # Movements: Chuzhou's two, none of Hefei's, none when Hefei's warehouse is asked for.
        moves = ok(cz.get(f"/parts/{part}/movements", params={"after": after}))
        assert moves["total"] == 2 and {m["warehouse_id"] for m in moves["items"]} == {CZ_MAIN}
        assert ok(cz.get(f"/parts/{part}/movements", params={"after": after, "warehouse_id": HF_PARTS}))["total"] == 0
        # Documents: lists (and their totals) hold none of Hefei's; each is not found.
        for kind, path in DOCUMENT_LISTS.items():
            docs = every(cz, path, after)
            assert {d["company_id"] for d in docs} <= {CZ}, path
            assert hefei[kind] not in {d["document_id"] for d in docs}, path
            assert ok(cz.get(path, params={"after": after, "company_id": HF}))["total"] == 0, path
            assert_problem(cz.get(f"{path}/{hefei[kind]}", params={"after": after}), 404,
                           f"{kind.replace('_', '-')}-not-found", path)
        cz_orders = every(cz, "/purchase-orders", after)
        assert cz_order["order_id"] in {d["document_id"] for d in cz_orders}
        # The catalogue is the group's: the part itself is seen.
        assert ok(cz.get(f"/parts/{part}"))["part_no"] == part_no
    # Chuzhou's keeper acts on none of Hefei's documents either.
    refused(server, "keeper.cz", f"/parts-outbounds/{submitted['outbound_id']}/ship", None, 404,
            "parts-outbound-not-found")
    refused(server, "keeper.cz", f"/purchase-orders/{placed['order_id']}/receive",
            {"lines": [{"line_no": 1, "quantity": 1}]}, 404, "purchase-order-not-found")
    # And the other way round: Hefei's clerk does not see Chuzhou's purchase.
    not_found(server, "clerk.chen", f"/purchase-orders/{cz_order['order_id']}", "purchase-order-not-found", after)
    with server.as_user("clerk.chen") as chen:
        assert cz_order["order_id"] not in {d["document_id"] for d in every(chen, "/purchase-orders", after)}
        assert {r["company_code"] for r in every(chen, "/parts-stock", after, part_id=part)} == {"HF"}
        assert {m["warehouse_id"] for m in ok(chen.get(f"/parts/{part}/movements",
                                                       params={"after": after}))["items"]} == {HF_PARTS}
    # The group's finance sees both.
    both = get(server, "finance.sun", "/parts-stock", after, part_id=part)
    assert {r["company_code"] for r in both["items"]} == {"HF", "CZ"}


def test_a_technician_lists_only_their_own_requests_and_work_orders(shop):
    server = shop.server
    part, _ = new_part(server)
    mine = request_parts(shop, {part: 1})
    theirs = request_parts(shop, {part: 1}, username=shop.other, van=shop.other_van)
    my_work = open_work_order(shop)
    their_work = open_work_order(shop, username=shop.other, van=shop.other_van)
    after = max(theirs["position"], their_work["position"])
    for username, own, own_id, other, other_id in (
            (shop.tech, (mine, my_work), shop.tech_id, (theirs, their_work), shop.other_id),
            (shop.other, (theirs, their_work), shop.other_id, (mine, my_work), shop.tech_id)):
        with server.as_user(username) as tech:
            requests = every(tech, "/parts-requests", after)
            works = every(tech, "/work-orders", after)
            assert {r["technician_id"] for r in requests} == {own_id}
            assert {w["technician_id"] for w in works} == {own_id}
            assert own[0]["request_id"] in {r["document_id"] for r in requests}
            assert own[1]["work_order_id"] in {w["document_id"] for w in works}
            assert other[0]["request_id"] not in {r["document_id"] for r in requests}
            assert other[1]["work_order_id"] not in {w["document_id"] for w in works}
            assert ok(tech.get(f"/parts-requests/{own[0]['request_id']}"))["technician_id"] == own_id
            assert ok(tech.get(f"/work-orders/{own[1]['work_order_id']}"))["technician_id"] == own_id
            assert_problem(tech.get(f"/parts-requests/{other[0]['request_id']}", params={"after": after}), 404,
                           "parts-request-not-found")
            assert_problem(tech.get(f"/work-orders/{other[1]['work_order_id']}", params={"after": after}), 404,
                           "work-order-not-found")
            # The office's documents are not a technician's.
            for path in ("/purchase-orders", "/parts-quotes", "/parts-sales", "/parts-outbounds"):
                assert_problem(tech.get(path), 403, "forbidden", path)
            # The catalogue and the stock they do see.
            assert ok(tech.get("/parts-stock", params={"after": after}))["total"] >= 0
            assert other_id != own_id
    # The demo's technician sees none of these.
    with server.as_user("tech.zhou") as zhou:
        ids_seen = {r["document_id"] for r in every(zhou, "/parts-requests", after)}
        assert not ids_seen & {mine["request_id"], theirs["request_id"]}
        assert {r["technician_id"] for r in every(zhou, "/parts-requests", after)} <= \
               {str(ids.user_id("tech.zhou"))}
    # The office sees both technicians'.
    with server.as_user("clerk.chen") as chen:
        requests = {r["document_id"] for r in every(chen, "/parts-requests", after)}
        works = {w["document_id"] for w in every(chen, "/work-orders", after)}
    assert {mine["request_id"], theirs["request_id"]} <= requests
    assert {my_work["work_order_id"], their_work["work_order_id"]} <= works


def test_a_salesperson_sees_the_catalogue_and_stock_but_no_parts_documents(demo_server):
    with demo_server.as_user("sales.wang") as wang:
        for path in ("/purchase-orders", "/parts-sales", "/parts-quotes", "/parts-outbounds", "/parts-requests",
                     "/work-orders"):
            problem = assert_problem(wang.get(path), 403, "forbidden", path)
            assert problem["detail"], problem
        assert_problem(wang.get(f"/purchase-orders/{NOWHERE}"), 403, "forbidden")
        assert_problem(wang.get(f"/parts-sales/{NOWHERE}"), 403, "forbidden")
        for path in ("/parts", "/parts-stock", "/parts-stock/export"):
            assert wang.get(path).status_code == 200, path
        part_id = str(ids.part_id("OF-215C"))        # the demo's oil filter
        assert ok(wang.get(f"/parts/{part_id}"))["part_no"] == "OF-215C"
    # The keeper and the clerk see the lists; the collector and approver read them too.
    for username in ("keeper.hf", "clerk.chen", "finance.sun", "manager.zhao", "collector.zhang", "auditor"):
        with demo_server.as_user(username) as reader:
            for path in ("/purchase-orders", "/parts-sales"):
                assert reader.get(path).status_code == 200, (username, path)


# ------------------------------------------------------------------ 8. the race (PostgreSQL, two processes)
def test_two_processes_racing_for_the_last_units_never_take_stock_below_zero(shop, twin_server, today):
    """Rounds of: 3 units in the Hefei parts warehouse; two outbounds for all 3 (two sales, or a
    sale and a technician's request) submitted at the same instant to two API processes on one
    schema. Exactly one reserves; the other is told 409 insufficient-part-stock, with how many
    are free, and records nothing. The winner's outbound is then shipped by both processes at
    once: it leaves once."""
    server = shop.server
    part, part_no = new_part(server)
    chen_token, keeper_token = server.login("clerk.chen"), server.login("keeper.hf")
    clerks = (server.client(chen_token), twin_server.client(chen_token))
    keepers = (server.client(keeper_token), twin_server.client(keeper_token))
    position = 0
    try:
        for c in (*clerks, *keepers):   # connections open first: the barrier releases requests, not handshakes
            assert c.get("/auth/me").status_code == 200
        for n in range(RACE_ROUNDS):
            stock_up(server, part, RACE_UNITS)
            calls = []
            first = draft_sale(server, today, part, RACE_UNITS)
            calls.append(("sale", f"/parts-sales/{first['sale_id']}/submit", None))
            if n % 2 == 0:
                second = draft_sale(server, today, part, RACE_UNITS)
                calls.append(("sale", f"/parts-sales/{second['sale_id']}/submit", None))
            else:
                request = request_parts(shop, {part: RACE_UNITS})
                calls.append(("request", f"/parts-requests/{request['request_id']}/handle",
                              {"path": "from_warehouse", "warehouse_id": HF_PARTS}))
            if n % 4 >= 2:
                calls.reverse()                       # each kind on each process, first and second
            count = server.store.event_count()
            answers = _at_once([(c, "POST", path, body, {}) for c, (_, path, body) in zip(clerks, calls)])
            assert all(a.status_code != 500 for a in answers), (server.log_tail(), twin_server.log_tail())
            won = [(call, a) for call, a in zip(calls, answers) if a.status_code == 200]
            lost = [a for a in answers if a.status_code != 200]
            assert len(won) == 1 and len(lost) == 1, (n, [a.text[:300] for a in answers])
            problem = assert_problem(lost[0], 409, "insufficient-part-stock", n)
            assert f"Warehouse PARTS has 0 of part {part_no} free ({RACE_UNITS} on hand, {RACE_UNITS} reserved); " \
                   f"{RACE_UNITS} cannot be taken" in problem["detail"], problem
            assert (problem["available"], problem["requested"]) == ("0", str(RACE_UNITS))
            # The winner's three events (its document, the outbound, the reservation); none of the loser's.
            assert server.store.event_count() - count == 3, n
            winner = won[0][1].json()
            assert stock(server, part, HF_PARTS, winner["position"]) == (RACE_UNITS, RACE_UNITS, 0, 0)

            # Both processes ship the winner's outbound at once: it leaves once.
            shipped = _at_once([(k, "POST", f"/parts-outbounds/{winner['outbound_id']}/ship", None, {})
                                for k in keepers])
            assert sorted(a.status_code for a in shipped) == [200, 409], [a.text[:300] for a in shipped]
            assert_problem(next(a for a in shipped if a.status_code == 409), 409, "parts-document-state", n)
            position = next(a for a in shipped if a.status_code == 200).json()["position"]
            assert stock(server, part, HF_PARTS, position) == (0, 0, 0, 0)
            if won[0][0][0] == "request":
                assert stock(server, part, shop.van, position)[3] >= RACE_UNITS     # on its way to the van
    finally:
        for c in (*clerks, *keepers):
            c.close()
    moves = get(server, "clerk.chen", f"/parts/{part}/movements", position, warehouse_id=HF_PARTS, page_size=500)
    assert all(m["on_hand_after"] >= 0 for m in moves["items"])
    assert sum(m["on_hand_change"] for m in moves["items"]) == 0
    assert [m["kind"] for m in moves["items"]].count("issued") == RACE_ROUNDS
    assert [m["kind"] for m in moves["items"]].count("reserved") == RACE_ROUNDS
