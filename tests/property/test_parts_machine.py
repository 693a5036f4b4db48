"""A hypothesis state machine over the real application on SQLite: parts (配件) of one member
company moving between a parts warehouse, a main warehouse and two technicians' mobile
warehouses. Purchase orders are placed and received in parts (sometimes beyond what was
ordered: refused), quotes agreed and sold, sales submitted (sometimes for more than is
free: refused), cancelled and shipped; technicians request parts, the office handles each
request by one of the three paths (from a warehouse, an emergency purchase straight to the
technician, an emergency purchase to a warehouse), the technicians confirm what arrived
and consume it on work orders (sometimes more than they hold: refused).

The test keeps its own model of every stock and document and predicts whether each
command is taken or refused. Whatever the sequence, for every part in every warehouse:

- received − issued − consumed = on hand, read from the stock's own events, and the same
  in the model (a mobile warehouse receives what a warehouse issued to it);
- on hand ≥ 0, 0 ≤ reserved ≤ on hand, pending inbound ≥ 0, and the aggregate's figures
  are the model's;
- across the company, on hand + in transit to the technicians = bought − sold − consumed;
- the read model (``part_stock``) equals the aggregates, its on hand, reserved and pending
  are the sums of the stock's ``part_movements``, and every document's status is the model's;
- a refused command records nothing, a command taken records something;
- at the end, the read model rebuilt from the log equals the live one.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from unittest import mock
from uuid import UUID

from argon2 import PasswordHasher
from hypothesis import event
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from application.caller import SYSTEM, Caller
from domain import ids
from domain.access import Role
from domain.base import DomainError
from domain.organisation import WarehouseKind
from domain.parts import (
    DocumentKind,
    JobType,
    PartCategory,
    PartsRequest,
    PartStock,
    RequestPath,
    SaleChannel,
)
from interfaces.composition import BackOffice
from interfaces.settings import Settings
from projections import parts as parts_view
from tests.conftest import PASSWORD, seed_group
from tests.integration.test_receivables import People
from application.organisation.commands import CreateWarehouse
from application.access.commands import CreateUser
from application.parts.commands import (
    AgreePartsQuote,
    CancelPartsSale,
    CompleteWorkOrder,
    ConfirmPartsReceipt,
    ConsumeParts,
    CreatePart,
    CreatePartsQuote,
    CreatePartsSale,
    CreatePurchaseOrder,
    HandlePartsRequest,
    OpenWorkOrder,
    PartLineRequest,
    PartQuantityRequest,
    ReceivedLineRequest,
    ReceivePurchase,
    RequestParts,
    ShipPartsOutbound,
    SubmitPartsSale,
)

D = Decimal
START = date(2025, 12, 15)
PARTS = ("OF-215", "BT-20", "HY-OIL")            # by index in the rules
FIXED = ("PARTS", "MAIN")                        # the company's parts and main warehouses
MOBILE = ("ZHOU", "WU")                          # the technicians' mobile warehouses
WAREHOUSES = (*FIXED, *MOBILE)
QUANTITY = st.integers(1, 8)
CHEAP_HASHER = partial(PasswordHasher, time_cost=1, memory_cost=64, parallelism=1)
LINES = st.lists(st.tuples(st.integers(0, len(PARTS) - 1), QUANTITY), min_size=1, max_size=3,
                 unique_by=lambda line: line[0])


@dataclass
class Figures:
    """What the test expects of one part in one warehouse."""

    on_hand: int = 0
    reserved: int = 0
    pending: int = 0
    received: int = 0
    issued: int = 0
    consumed: int = 0


@dataclass
class Order:
    order_id: UUID
    warehouse: str
    lines: dict[int, list[int]]           # line no → [part, ordered, received]
    request: int | None = None            # the technician's request it serves
    to_technician: bool = False           # path 2: received by the technician's confirmation

    def outstanding(self, line_no: int) -> int:
        return self.lines[line_no][1] - self.lines[line_no][2]

    @property
    def status(self) -> str:
        if all(received >= ordered for _, ordered, received in self.lines.values()):
            return "received"
        return "partly_received" if any(received for _, _, received in self.lines.values()) else "open"


@dataclass
class Outbound:
    outbound_id: UUID
    warehouse: str
    to: str | None                        # a mobile warehouse, for a request
    lines: list[tuple[int, int]]          # (part, quantity)
    source: tuple[str, int]               # ("sale" | "request", index)
    state: str = "waiting"


@dataclass
class Sale:
    sale_id: UUID
    quote_id: UUID
    warehouse: str
    lines: list[tuple[int, int]]
    status: str = "draft"
    outbound: int | None = None


@dataclass
class Request:
    request_id: UUID
    technician: str
    lines: list[tuple[int, int]]
    path: RequestPath | None = None
    order: int | None = None
    outbounds: list[int] = field(default_factory=list)     # to the van: one (path 1), one per delivery (path 3)
    confirmed: set[int] = field(default_factory=set)       # the outbounds whose receipt the technician confirmed
    received: dict[int, int] = field(default_factory=dict)  # part → quantity confirmed in the van




def request_status(request: Request, outbounds: list[Outbound]) -> str:
    """All in the van: received; else parts on their way to it, or waiting to leave a
    warehouse; else the purchase still to come, or nothing done yet."""
    if all(request.received.get(part, 0) >= quantity for part, quantity in request.lines):
        return "received"
    states = {outbounds[o].state for o in request.outbounds if o not in request.confirmed}
    if "shipped" in states:
        return "shipped"
    if "waiting" in states:
        return "prepared"
    return "ordered" if request.path else "requested"


@dataclass
class WorkOrder:
    work_order_id: UUID
    technician: str
    completed: bool = False
    consumed: dict[int, int] = field(default_factory=dict)


def _receivable(order: Order) -> bool:
    return order.status != "received" and not order.to_technician


def _confirmable(request: Request, outbounds: list[Outbound]) -> bool:
    status = request_status(request, outbounds)
    return status == "shipped" or (request.path == RequestPath.PURCHASE_TO_TECHNICIAN and status == "ordered")


class PartsOnTheStore(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.day = START
        self.started = False          # set-up done: the rules' outcomes are counted as hypothesis events
        # Passwords are hashed cheaply (the library's defaults, even for the one dummy hash the
        # service makes at start, would take a third of each example).
        with mock.patch("application.access.service.PasswordHasher", CHEAP_HASHER):
            self.office = office = BackOffice(Settings(data_dir=self.folder, admin_password="admin-pass-2026",
                                                       secret_key="k" * 40, run_penalty_accrual=False),
                                              today=lambda: self.day)
        try:
            self._set_up(office)
        except BaseException:
            office.stop()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def _set_up(self, office: BackOffice) -> None:
        office.access.ensure_administrator("admin-pass-2026")      # and the "Whole group" position
        group = seed_group(office)
        people = People(office, group)
        access = office.access
        self.hefei = group.hefei
        self.customer = people.customer
        self.clerk: Caller = people.chen             # quotes, sales, purchases, handles requests
        self.keeper: Caller = group.keeper_hefei     # receives and ships
        self.warehouse_ids: dict[str, UUID] = {"PARTS": group.hefei_parts, "MAIN": group.hefei_main,
                                               "CZ": group.chuzhou_main}
        self.technicians: dict[str, Caller] = {}
        for code in MOBILE:
            name = code.lower()
            office.execute(SYSTEM, CreateUser(
                username=name, display_name=name.title(), password=PASSWORD, roles=[Role.TECHNICIAN],
                position_ids=[ids.position_id("Hefei")]))
            technician = access.authenticate(access.login(name, PASSWORD).access_token)
            self.technicians[code] = technician
            self.warehouse_ids[code] = UUID(office.execute(SYSTEM, CreateWarehouse(
                company_id=group.hefei, code=code, name=f"Technician {name.title()}",
                kind=WarehouseKind.MOBILE, technician_name=name.title(), technician_id=technician.user_id)).body["warehouse_id"])
        self.part_ids = [UUID(office.execute(self.clerk, CreatePart(
            part_no=part_no, name=name, unit=unit, category=category, purchase_price=D(buy),
            sale_price=D(sell)))
                              .body["part_id"])
                         for part_no, name, unit, category, buy, sell in (
                             ("OF-215", "Oil filter", "pc", PartCategory.FILTER, "50.00", "80.00"),
                             ("BT-20", "Bucket tooth", "pc", PartCategory.WEAR, "120.00", "200.00"),
                             ("HY-OIL", "Hydraulic oil 18 L", "barrel", PartCategory.OIL, "400.00", "560.00"))]
        # The model, in the order things happened (ids are random: choices go by position).
        self.stock: dict[tuple[int, str], Figures] = {}
        self.orders: list[Order] = []
        self.outbounds: list[Outbound] = []
        self.sales: list[Sale] = []
        self.quotes: dict[UUID, str] = {}
        self.requests: list[Request] = []
        self.work_orders: list[WorkOrder] = []
        # Something for every rule to act on from the first step, made by the rules themselves:
        # the parts and main warehouses bought and received, Zhou's van filled from the parts
        # warehouse (path 1) with a work order open, a sale waiting to ship and a draft one,
        # a request on each path half-way and one not yet handled, an order half received.
        self.a_purchase_order_is_placed("PARTS", [(0, 10), (1, 10), (2, 10)], 0)
        self.a_purchase_order_is_placed("MAIN", [(0, 4), (2, 4)], 0)
        for n in (0, 1):
            self.a_purchase_is_received(n, "all", [0, 0, 0], 1)
        self.a_technician_requests_parts("ZHOU", [(0, 3), (1, 2)], False, None)
        self.the_office_handles_a_request(0, RequestPath.FROM_WAREHOUSE, "PARTS")
        self.an_outbound_is_shipped(0)
        self.a_technician_confirms_receipt(0, False)
        self.a_work_order_is_opened("ZHOU", False)
        self.a_quote_is_agreed_and_sold([(0, 2), (2, 1)], False, True, SaleChannel.WALK_IN, "PARTS")
        self.a_sale_is_submitted(0)
        self.a_quote_is_agreed_and_sold([(1, 3)], True, True, SaleChannel.OVERHAUL_SHOP, "MAIN")
        self.a_technician_requests_parts("WU", [(1, 2)], False, None)
        self.the_office_handles_a_request(1, RequestPath.FROM_WAREHOUSE, "PARTS")
        self.a_technician_requests_parts("ZHOU", [(2, 2)], False, None)
        self.the_office_handles_a_request(1, RequestPath.PURCHASE_TO_TECHNICIAN, "PARTS")
        self.a_technician_requests_parts("WU", [(0, 4), (2, 3)], False, None)
        self.the_office_handles_a_request(1, RequestPath.PURCHASE_TO_WAREHOUSE, "PARTS")
        self.a_purchase_is_received(1, "part", [2, 1, 0], 1)
        self.a_purchase_order_is_placed("PARTS", [(1, 6)], 0)
        self.a_purchase_is_received(1, "part", [4, 0, 0], 1)
        self.a_technician_requests_parts("WU", [(0, 2), (1, 1)], False, None)
        assert self.stock[(0, "ZHOU")].on_hand == 3 and [request_status(r, self.outbounds) for r in self.requests] == [
            "received", "prepared", "ordered", "prepared", "requested"], "the set-up did not go as planned"
        assert [o.status for o in self.orders] == ["received", "received", "open", "partly_received",
                                                   "partly_received"], "the set-up did not go as planned"
        self.started = True

    def teardown(self) -> None:
        try:
            live = self._dump()
            self.office.projections["parts"].reset()
            assert self._dump() == live, "the parts read model rebuilt from the log differs from the live one"
        finally:
            self.office.stop()
            shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------ helpers
    def _events(self) -> int:
        return self.office.ledger.recorder.max_notification_id() or 0

    def _attempt(self, command, expected: bool, what: str) -> dict | None:
        """Runs a command; a refusal must record nothing, and the outcome must be the one the
        model predicts. Returns the body of a command taken."""
        before = self._events()
        try:
            result = command()
        except DomainError as error:
            assert self._events() == before, f"{what}: the refused command recorded something"
            assert not expected, f"{what}: refused ({error.code}: {error}) though the model expected it taken"
            if self.started:
                event(f"{what.split()[0]}: refused ({error.code})")
            return None
        assert self._events() > before, f"{what}: taken but recorded nothing"
        assert expected, f"{what}: taken though the model expected a refusal"
        if self.started:
            event(f"{what.split()[0]}: taken")
        return result.body

    def _fig(self, part: int, warehouse: str) -> Figures:
        return self.stock.setdefault((part, warehouse), Figures())

    def _free(self, part: int, warehouse: str) -> int:
        fig = self.stock.get((part, warehouse), Figures())
        return fig.on_hand - fig.reserved

    def _stock_id(self, part: int, warehouse: str) -> UUID:
        return ids.part_stock_id(self.part_ids[part], self.warehouse_ids[warehouse])

    def _aggregate(self, part: int, warehouse: str) -> PartStock:
        stock = self.office.commands.find(self._stock_id(part, warehouse), PartStock)
        assert stock is not None, f"{PARTS[part]} in {warehouse}: the stock was never saved"
        return stock

    def _lines(self, lines: list[tuple[int, int]]) -> list[tuple[UUID, int, None]]:
        return [(self.part_ids[part], quantity, None) for part, quantity in lines]

    @staticmethod
    def _pick(items: list, pick: int, ready=None):
        """The pick-th item (wrapping), most of the time among those ``ready`` for the act: one
        in four picks among all of them, mostly to be refused."""
        if ready is not None and pick % 4:
            items = [item for item in items if ready(item)] or items
        return items[pick % len(items)] if items else None

    def _reserve(self, warehouse: str, lines: list[tuple[int, int]]) -> None:
        for part, quantity in lines:
            self._fig(part, warehouse).reserved += quantity

    def _dump(self) -> dict[str, list]:
        self.office.catch_up()
        with self.office.read() as cur:
            tables = {}
            for table in parts_view.PartsProjection.tables:
                cur.execute(f"SELECT * FROM {table}")
                tables[table] = sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in cur.fetchall())
        return tables

    # ------------------------------------------------------------ purchase
    @rule(warehouse=st.sampled_from(["PARTS", "PARTS", "MAIN", "ZHOU", "CZ"]), lines=LINES,
          extra=st.integers(0, 6))
    def a_purchase_order_is_placed(self, warehouse: str, lines: list[tuple[int, int]], extra: int) -> None:
        lines = [(part, quantity + extra) for part, quantity in lines]
        # A mobile warehouse takes a purchase only for a request (path 2); the clerk does
        # not see Chuzhou.
        expected = warehouse in FIXED
        body = self._attempt(lambda: self.office.execute(self.clerk, CreatePurchaseOrder(
            company_id=self.hefei, supplier="Shantui parts", warehouse_id=self.warehouse_ids[warehouse],
            lines=[PartLineRequest(part_id=_part_id, quantity=_quantity, unit_price=_unit_price)
                   for _part_id, _quantity, _unit_price in self._lines(lines)])),
            expected, f"purchase {lines} into {warehouse}")
        if body is not None:
            self.orders.append(Order(UUID(body["order_id"]), warehouse,
                                     {n: [part, quantity, 0] for n, (part, quantity) in enumerate(lines, 1)}))
            for part, quantity in lines:
                self._fig(part, warehouse).pending += quantity

    @precondition(lambda self: any(map(_receivable, self.orders)))
    @rule(pick=st.integers(0, 30), how=st.sampled_from(["part", "part", "all", "over"]),
          shares=st.lists(st.integers(0, 8), min_size=3, max_size=3), extra=st.integers(1, 3))
    def a_purchase_is_received(self, pick: int, how: str, shares: list[int], extra: int) -> None:
        order = self._pick(self.orders, pick, _receivable)
        if order is None:
            return
        quantities: dict[int, int] = {}
        for (line_no, _), share in zip(sorted(order.lines.items()), shares, strict=False):
            left = order.outstanding(line_no)
            quantity = left if how == "all" else min(share, left)
            if quantity > 0:
                quantities[line_no] = quantity
        if how == "over":
            line_no = 1 + shares[0] % len(order.lines)
            quantities[line_no] = order.outstanding(line_no) + extra
        if not quantities:          # nothing left to receive: one more is over-receipt
            quantities = {1: extra}
        over = any(q > order.outstanding(n) for n, q in quantities.items())
        request = self.requests[order.request] if order.request is not None else None
        # Path 2 is received by the technician's confirmation; nothing beyond what was ordered.
        expected = not order.to_technician and not over
        body = self._attempt(lambda: self.office.execute(self.keeper, ReceivePurchase(
            order_id=order.order_id,
            lines=[ReceivedLineRequest(line_no=_line_no, quantity=_quantity)
                   for _line_no, _quantity in (quantities or {}).items()])),
                             expected, f"receive {quantities} of order {self.orders.index(order)} ({order.lines})")
        if body is None:
            return
        for line_no, quantity in quantities.items():
            part = order.lines[line_no][0]
            order.lines[line_no][2] += quantity
            fig = self._fig(part, order.warehouse)
            fig.on_hand += quantity
            fig.received += quantity
            fig.pending -= quantity
        assert body["status"] == order.status
        if request is not None:
            # Path 3: what arrived is reserved at once for the technician, by an outbound to the van.
            assert request.path == RequestPath.PURCHASE_TO_WAREHOUSE
            lines = [(order.lines[n][0], q) for n, q in sorted(quantities.items())]
            self._reserve(order.warehouse, lines)
            self.outbounds.append(Outbound(UUID(body["outbound_id"]), order.warehouse, request.technician, lines,
                                           ("request", self.requests.index(request))))
            request.outbounds.append(len(self.outbounds) - 1)
        else:
            assert "outbound_id" not in body, f"an outbound for an order of no request: {body}"

    # ------------------------------------------------------------ quotes and sales
    @rule(lines=LINES, walk_in=st.booleans(), agreed=st.sampled_from([True, True, True, False]),
          channel=st.sampled_from([SaleChannel.WALK_IN, SaleChannel.OVERHAUL_SHOP, SaleChannel.GIFT]),
          warehouse=st.sampled_from(["PARTS", "PARTS", "MAIN", "ZHOU"]))
    def a_quote_is_agreed_and_sold(self, lines: list[tuple[int, int]], walk_in: bool, agreed: bool,
                                   channel: SaleChannel, warehouse: str) -> None:
        body = self._attempt(lambda: self.office.execute(self.clerk, CreatePartsQuote(
            company_id=self.hefei, customer_id=None if walk_in else self.customer,
            customer_name="Walk-in Ma" if walk_in else None,
            lines=[PartLineRequest(part_id=_part_id, quantity=_quantity, unit_price=_unit_price)
                   for _part_id, _quantity, _unit_price in self._lines(lines)],
            valid_until=self.day + timedelta(days=30))), True, f"quote {lines}")
        assert body is not None
        quote_id = UUID(body["quote_id"])
        if agreed:
            assert self._attempt(lambda: self.office.execute(self.clerk, AgreePartsQuote(quote_id=quote_id)), True, "agree quote")
        # A sale ships from a parts or main warehouse, never a mobile one, and needs an agreed quote.
        body = self._attempt(lambda: self.office.execute(self.clerk, CreatePartsSale(
            quote_id=quote_id, channel=channel, warehouse_id=self.warehouse_ids[warehouse])),
                             agreed and warehouse in FIXED, f"sale of {lines} from {warehouse} (agreed {agreed})")
        self.quotes[quote_id] = "agreed" if agreed else "offered"
        if body is not None:
            self.quotes[quote_id] = "sold"
            self.sales.append(Sale(UUID(body["sale_id"]), quote_id, warehouse, lines))
            # A quote makes one sale.
            assert self._attempt(lambda: self.office.execute(self.clerk, CreatePartsSale(
                quote_id=quote_id, channel=channel, warehouse_id=self.warehouse_ids[warehouse])),
                                 False, "sale again of the same quote") is None

    @precondition(lambda self: any(s.status == "draft" for s in self.sales))
    @rule(pick=st.integers(0, 30))
    def a_sale_is_submitted(self, pick: int) -> None:
        sale = self._pick(self.sales, pick, lambda s: s.status == "draft")
        if sale is None:
            return
        expected = sale.status == "draft" and all(q <= self._free(p, sale.warehouse) for p, q in sale.lines)
        body = self._attempt(lambda: self.office.execute(self.clerk, SubmitPartsSale(sale_id=sale.sale_id)), expected,
                             f"submit {sale.status} sale {sale.lines} from {sale.warehouse}")
        if body is not None:
            self._reserve(sale.warehouse, sale.lines)
            self.outbounds.append(Outbound(UUID(body["outbound_id"]), sale.warehouse, None, sale.lines,
                                           ("sale", self.sales.index(sale))))
            sale.outbound = len(self.outbounds) - 1
            sale.status = "submitted"

    @precondition(lambda self: any(s.status in ("draft", "submitted") for s in self.sales))
    @rule(pick=st.integers(0, 30))
    def a_sale_is_cancelled(self, pick: int) -> None:
        sale = self._pick(self.sales, pick, lambda s: s.status in ("draft", "submitted"))
        if sale is None:
            return
        expected = sale.status in ("draft", "submitted")
        if self._attempt(lambda: self.office.execute(self.clerk, CancelPartsSale(
            sale_id=sale.sale_id, reason="Changed their mind")),
                         expected, f"cancel {sale.status} sale") is not None:
            sale.status = "cancelled"
            if sale.outbound is not None:
                outbound = self.outbounds[sale.outbound]
                outbound.state = "cancelled"
                for part, quantity in outbound.lines:
                    self._fig(part, outbound.warehouse).reserved -= quantity

    @precondition(lambda self: any(o.state == "waiting" for o in self.outbounds))
    @rule(pick=st.integers(0, 30))
    def an_outbound_is_shipped(self, pick: int) -> None:
        outbound = self._pick(self.outbounds, pick, lambda o: o.state == "waiting")
        if outbound is None:
            return
        expected = outbound.state == "waiting"
        if self._attempt(lambda: self.office.execute(self.keeper, ShipPartsOutbound(
            outbound_id=outbound.outbound_id)), expected,
                         f"ship {outbound.state} outbound {outbound.lines} from {outbound.warehouse}") is None:
            return
        outbound.state = "shipped"
        for part, quantity in outbound.lines:
            fig = self._fig(part, outbound.warehouse)
            fig.on_hand -= quantity
            fig.reserved -= quantity
            fig.issued += quantity
            if outbound.to is not None:
                self._fig(part, outbound.to).pending += quantity
        kind, index = outbound.source
        if kind == "sale":
            self.sales[index].status = "shipped"

    # ------------------------------------------------------------ technicians
    @rule(technician=st.sampled_from(MOBILE), lines=LINES, by_other=st.sampled_from([False, False, False, True]),
          work_order=st.none() | st.integers(0, 30))
    def a_technician_requests_parts(self, technician: str, lines: list[tuple[int, int]], by_other: bool,
                                    work_order: int | None) -> None:
        caller = self.technicians[MOBILE[1 - MOBILE.index(technician)] if by_other else technician]
        own = [w for w in self.work_orders if w.technician == technician]
        linked = self._pick(own, work_order) if work_order is not None else None
        expected = not by_other and not (linked and linked.completed)
        body = self._attempt(lambda: self.office.execute(caller, RequestParts(
            mobile_warehouse_id=self.warehouse_ids[technician],
            lines=[PartQuantityRequest(part_id=_part_id, quantity=_quantity)
                   for _part_id, _quantity in [(self.part_ids[p], q) for p, q in lines]],
            work_order_id=linked.work_order_id if linked else None)),
            expected, f"request {lines} into {technician} (by other {by_other})")
        if body is not None:
            self.requests.append(Request(UUID(body["request_id"]), technician, lines))

    @precondition(lambda self: any(r.path is None for r in self.requests))
    @rule(pick=st.integers(0, 30),
          path=st.sampled_from([RequestPath.FROM_WAREHOUSE, RequestPath.FROM_WAREHOUSE,
                                RequestPath.PURCHASE_TO_TECHNICIAN, RequestPath.PURCHASE_TO_WAREHOUSE]),
          warehouse=st.sampled_from(["PARTS", "PARTS", "MAIN", "own"]))
    def the_office_handles_a_request(self, pick: int, path: RequestPath, warehouse: str) -> None:
        request = self._pick(self.requests, pick, lambda r: r.path is None)
        if request is None:
            return
        if warehouse == "own":
            warehouse = request.technician
        if path == RequestPath.PURCHASE_TO_TECHNICIAN:
            target, name = None, request.technician
        else:
            target, name = self.warehouse_ids[warehouse], warehouse
        status = request_status(request, self.outbounds)
        expected = status == "requested" and (
            path == RequestPath.PURCHASE_TO_TECHNICIAN
            or (warehouse in FIXED and (path == RequestPath.PURCHASE_TO_WAREHOUSE
                                        or all(q <= self._free(p, warehouse) for p, q in request.lines))))
        body = self._attempt(lambda: self.office.execute(self.clerk, HandlePartsRequest(
            request_id=request.request_id, path=path, warehouse_id=target,
            supplier=None if path == RequestPath.FROM_WAREHOUSE else "Hefei Co")),
            expected, f"handle {status} request {request.lines} by {path} via {name}")
        if body is None:
            return
        request.path = path
        if path == RequestPath.FROM_WAREHOUSE:
            self._reserve(name, request.lines)
            self.outbounds.append(Outbound(UUID(body["outbound_id"]), name, request.technician, request.lines,
                                           ("request", self.requests.index(request))))
            request.outbounds.append(len(self.outbounds) - 1)
        else:
            self.orders.append(Order(UUID(body["purchase_order_id"]), name,
                                     {n: [p, q, 0] for n, (p, q) in enumerate(request.lines, 1)},
                                     self.requests.index(request), path == RequestPath.PURCHASE_TO_TECHNICIAN))
            request.order = len(self.orders) - 1
            for part, quantity in request.lines:
                self._fig(part, name).pending += quantity

    @precondition(lambda self: any(_confirmable(r, self.outbounds) for r in self.requests))
    @rule(pick=st.integers(0, 30), by_other=st.sampled_from([False, False, False, True]))
    def a_technician_confirms_receipt(self, pick: int, by_other: bool) -> None:
        request = self._pick(self.requests, pick, lambda r: _confirmable(r, self.outbounds))
        if request is None:
            return
        caller = self.technicians[MOBILE[1 - MOBILE.index(request.technician)] if by_other else request.technician]
        straight = request.path == RequestPath.PURCHASE_TO_TECHNICIAN
        status = request_status(request, self.outbounds)
        # Every outbound on its way to the van is confirmed at once; path 2, the whole purchase.
        arrived = [o for o in request.outbounds if o not in request.confirmed and self.outbounds[o].state == "shipped"]
        expected = not by_other and (bool(arrived) or (straight and status == "ordered"))
        if self._attempt(lambda: self.office.execute(caller, ConfirmPartsReceipt(
            request_id=request.request_id)), expected,
                         f"confirm {status} request by {request.path} (by other {by_other})") is None:
            return
        if straight:
            order = self.orders[request.order]
            lines = [(part, ordered - received) for part, ordered, received in order.lines.values()]
            for line in order.lines.values():
                line[2] = line[1]
        else:
            lines = [line for o in arrived for line in self.outbounds[o].lines]
            request.confirmed.update(arrived)
            for part, _ in request.lines:     # the van's stock of every part requested is opened, if new
                self._fig(part, request.technician)
        for part, quantity in lines:
            request.received[part] = request.received.get(part, 0) + quantity
            fig = self._fig(part, request.technician)
            fig.on_hand += quantity
            fig.received += quantity
            fig.pending -= quantity

    @rule(technician=st.sampled_from(MOBILE), by_office=st.booleans())
    def a_work_order_is_opened(self, technician: str, by_office: bool) -> None:
        caller = self.clerk if by_office else self.technicians[technician]
        body = self._attempt(lambda: self.office.execute(caller, OpenWorkOrder(
            mobile_warehouse_id=self.warehouse_ids[technician], customer_id=self.customer, customer_name=None,
            serial_number="SY215C-0009", job_type=JobType.MAINTENANCE)),
            True, f"open a work order on {technician} (by office {by_office})")   # the office may, for them
        if body is not None:
            self.work_orders.append(WorkOrder(UUID(body["work_order_id"]), technician))

    @precondition(lambda self: any(not w.completed for w in self.work_orders))
    @rule(pick=st.integers(0, 30), lines=st.lists(st.tuples(st.integers(0, len(PARTS) - 1), st.integers(1, 6)),
                                                  min_size=1, max_size=2, unique_by=lambda line: line[0]),
          by_other=st.sampled_from([False, False, False, True]), fits=st.booleans())
    def a_technician_consumes_parts(self, pick: int, lines: list[tuple[int, int]], by_other: bool,
                                    fits: bool) -> None:
        order = self._pick(self.work_orders, pick, lambda w: not w.completed)
        if order is None:
            return
        van = order.technician
        if fits:             # of the parts the van holds, at most what it holds (all of it, now and then)
            held = [(p, min(q, self._free(p, van))) for p, q in lines if self._free(p, van)]
            lines = held or lines
        caller = self.technicians[MOBILE[1 - MOBILE.index(van)] if by_other else van]
        expected = not by_other and not order.completed and all(q <= self._free(p, van) for p, q in lines)
        if self._attempt(lambda: self.office.execute(caller, ConsumeParts(
            work_order_id=order.work_order_id,
            lines=[PartQuantityRequest(part_id=_part_id, quantity=_quantity)
                   for _part_id, _quantity in [(self.part_ids[p], q) for p, q in lines]])),
                expected, f"consume {lines} from {van} (holds "
                          f"{[self._free(p, van) for p in range(len(PARTS))]}, by other {by_other})") is None:
            return
        for part, quantity in lines:
            fig = self._fig(part, van)
            fig.on_hand -= quantity
            fig.consumed += quantity
            order.consumed[part] = order.consumed.get(part, 0) + quantity

    @precondition(lambda self: any(not w.completed for w in self.work_orders))
    @rule(pick=st.integers(0, 30))
    def a_work_order_is_completed(self, pick: int) -> None:
        order = self._pick(self.work_orders, pick)
        if order is None:
            return
        if self._attempt(lambda: self.office.execute(self.technicians[order.technician], CompleteWorkOrder(
            work_order_id=order.work_order_id)),
                         not order.completed, "complete a work order") is not None:
            order.completed = True

    # ------------------------------------------------------------ invariants
    @invariant()
    def every_stock_adds_up_and_is_what_the_model_expects(self) -> None:
        bought = sold = consumed = in_transit = held = 0
        for (part, warehouse), fig in self.stock.items():
            what = f"{PARTS[part]} in {warehouse}"
            assert fig.received - fig.issued - fig.consumed == fig.on_hand, f"{what}: the model does not add up"
            assert fig.on_hand >= 0 and 0 <= fig.reserved <= fig.on_hand and fig.pending >= 0, \
                f"{what}: impossible model figures {fig}"
            stock = self._aggregate(part, warehouse)
            received = issued = used = 0
            for fact in self.office.ledger.events.get(stock.id):
                if isinstance(fact, PartStock.Received):
                    received += fact.quantity
                    if fact.document.kind == DocumentKind.PURCHASE_ORDER:
                        bought += fact.quantity
                elif isinstance(fact, PartStock.Issued):
                    issued += fact.quantity
                    if fact.to_warehouse_id is None:
                        sold += fact.quantity
                    else:
                        in_transit += fact.quantity
                elif isinstance(fact, PartStock.Consumed):
                    used += fact.quantity
                if isinstance(fact, PartStock.Received) and fact.document.kind == DocumentKind.PARTS_OUTBOUND:
                    in_transit -= fact.quantity
            consumed += used
            held += stock.on_hand
            assert received - issued - used == stock.on_hand, \
                f"{what}: received {received} − issued {issued} − consumed {used} != on hand {stock.on_hand}"
            assert stock.on_hand >= 0 and 0 <= stock.reserved <= stock.on_hand and stock.pending_in >= 0, \
                f"{what}: impossible figures on hand {stock.on_hand}, reserved {stock.reserved}, " \
                f"pending {stock.pending_in}"
            assert all(v > 0 for v in stock.reserved_for.values()) and all(v > 0 for v in stock.expected_from.values())
            assert (stock.on_hand, stock.reserved, stock.pending_in, received, issued, used) == (
                fig.on_hand, fig.reserved, fig.pending, fig.received, fig.issued, fig.consumed), \
                f"{what}: the stock differs from the model {fig}"
        assert held + in_transit == bought - sold - consumed, \
            "on hand + in transit to the technicians != bought − sold − consumed"

    @invariant()
    def the_read_model_equals_the_aggregates(self) -> None:
        self.office.catch_up()
        with self.office.read() as cur:
            cur.execute("SELECT s.stock_id, s.on_hand, s.reserved, s.pending_in, s.version,"
                        " COALESCE(SUM(m.on_hand_change), 0) AS moved, COALESCE(SUM(m.reserved_change), 0) AS held,"
                        " COALESCE(SUM(m.pending_change), 0) AS coming, COUNT(m.seq) AS moves"
                        " FROM part_stock s LEFT JOIN part_movements m ON m.stock_id = s.stock_id"
                        " GROUP BY s.stock_id, s.on_hand, s.reserved, s.pending_in, s.version")
            rows = {str(r["stock_id"]): r for r in cur.fetchall()}
            assert set(rows) == {str(self._stock_id(p, w)) for p, w in self.stock}, \
                "part_stock rows are not the stocks the commands touched"
            for part, warehouse in self.stock:
                stock = self._aggregate(part, warehouse)
                row = rows[str(stock.id)]
                assert (row["on_hand"], row["reserved"], row["pending_in"], row["version"]) == (
                    stock.on_hand, stock.reserved, stock.pending_in, stock.version), \
                    f"{PARTS[part]} in {warehouse}: the part_stock row differs from the aggregate"
                assert (row["moved"], row["held"], row["coming"], row["moves"]) == (
                    stock.on_hand, stock.reserved, stock.pending_in, stock.version - 1), \
                    f"{PARTS[part]} in {warehouse}: the movements do not add up to the stock"
            cur.execute("SELECT document_id, kind, status FROM parts_documents")
            shown = {str(r["document_id"]): (r["kind"], r["status"]) for r in cur.fetchall()}
            cur.execute("SELECT document_id, line_no, done FROM parts_document_lines")
            done = {(str(r["document_id"]), r["line_no"]): r["done"] for r in cur.fetchall()}
        expected = {str(o.order_id): ("purchase_order", o.status) for o in self.orders}
        expected |= {str(o.outbound_id): ("parts_outbound", o.state) for o in self.outbounds}
        expected |= {str(s.sale_id): ("parts_sale", s.status) for s in self.sales}
        expected |= {str(q): ("parts_quote", status) for q, status in self.quotes.items()}
        expected |= {str(r.request_id): ("parts_request", request_status(r, self.outbounds)) for r in self.requests}
        expected |= {str(w.work_order_id): ("work_order", "completed" if w.completed else "open")
                     for w in self.work_orders}
        assert shown == expected, "the documents' statuses in the read model differ from the model"
        for order in self.orders:
            for line_no, (_, _, received) in order.lines.items():
                assert done[(str(order.order_id), line_no)] == received, "a purchase line's received differs"
        for request in self.requests:
            aggregate = self.office.commands.find(request.request_id, PartsRequest)
            assert str(aggregate.status) == request_status(request, self.outbounds), "a request's status differs"
            for line_no, (part, _) in enumerate(request.lines, 1):
                assert done[(str(request.request_id), line_no)] == aggregate.received.get(line_no, 0) \
                    == request.received.get(part, 0), "a request line's quantity in the van differs"


TestPartsOnTheStore = PartsOnTheStore.TestCase
TestPartsOnTheStore.settings = hsettings(max_examples=25, stateful_step_count=20, deadline=None)
