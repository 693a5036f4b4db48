"""Parts (配件): the catalogue, stock by company, warehouse (mobile ones too) and part, the
movement history of each part in each warehouse, and the parts documents (purchase
orders, quotes, sales, outbounds, technicians' requests with their steps, work orders).

For every part in every warehouse, always:

    on_hand = received − issued − consumed     (the sum of ``part_movements.on_hand_change``)

Amounts are integers in fen (columns ending ``_fen``); queries give yuan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.access import Scope
from domain.parts import (
    Part,
    PartsOutbound,
    PartsQuote,
    PartsRequest,
    PartsSale,
    PartStock,
    PurchaseOrder,
    WorkOrder,
)
from projections.base import Projection, handles, page_bounds, scope_filter
from projections.receivables import fen, yuan


class PartsProjection(Projection):
    name = "parts"
    version = 1
    tables = ("parts", "part_stock", "part_movements", "parts_documents", "parts_document_lines",
              "parts_request_steps")
    ddl = (
        "CREATE TABLE IF NOT EXISTS parts (part_id {uuid} PRIMARY KEY, part_no TEXT NOT NULL, name TEXT NOT NULL,"
        " unit TEXT NOT NULL, category TEXT NOT NULL, purchase_price_fen {bigint} NOT NULL,"
        " sale_price_fen {bigint} NOT NULL, registered_on {date} NOT NULL, last_change_on {date} NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS parts_no ON parts (part_no)",
        "CREATE TABLE IF NOT EXISTS part_stock (stock_id {uuid} PRIMARY KEY, part_id {uuid} NOT NULL,"
        " part_no TEXT NOT NULL, company_id {uuid} NOT NULL, warehouse_id {uuid} NOT NULL,"
        " on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, pending_in INTEGER NOT NULL,"
        " last_change_on {date} NOT NULL, version INTEGER NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS part_stock_place ON part_stock (company_id, warehouse_id, part_no)",
        "CREATE INDEX IF NOT EXISTS part_stock_part ON part_stock (part_id)",
        "CREATE TABLE IF NOT EXISTS part_movements (stock_id {uuid} NOT NULL, seq INTEGER NOT NULL,"
        " part_id {uuid} NOT NULL, company_id {uuid} NOT NULL, warehouse_id {uuid} NOT NULL, day {date} NOT NULL,"
        " kind TEXT NOT NULL, quantity INTEGER NOT NULL, on_hand_change INTEGER NOT NULL,"
        " reserved_change INTEGER NOT NULL, pending_change INTEGER NOT NULL, on_hand_after INTEGER NOT NULL,"
        " document_kind TEXT, document_id {uuid}, document_number TEXT, other_warehouse_id {uuid},"
        " actor_id {uuid} NOT NULL, command_id {uuid} NOT NULL, PRIMARY KEY (stock_id, seq))",
        "CREATE INDEX IF NOT EXISTS part_movements_part ON part_movements (part_id, warehouse_id, seq)",
        "CREATE INDEX IF NOT EXISTS part_movements_document ON part_movements (document_id)",
        # One row per parts document; ``kind`` says which and the columns it uses.
        "CREATE TABLE IF NOT EXISTS parts_documents (document_id {uuid} PRIMARY KEY, kind TEXT NOT NULL,"
        " number TEXT NOT NULL, company_id {uuid} NOT NULL, status TEXT NOT NULL, warehouse_id {uuid},"
        " to_warehouse_id {uuid}, counterparty TEXT, customer_id {uuid}, technician_id {uuid}, channel TEXT,"
        " path TEXT, source_id {uuid}, source_number TEXT, amount_fen {bigint} NOT NULL DEFAULT 0,"
        " receivable_fen {bigint} NOT NULL DEFAULT 0, received_fen {bigint} NOT NULL DEFAULT 0,"
        " coupons_fen {bigint} NOT NULL DEFAULT 0, valid_until {date}, serial_number TEXT, job_type TEXT,"
        " created_on {date} NOT NULL, created_by {uuid} NOT NULL, last_change_on {date} NOT NULL,"
        " version INTEGER NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS parts_documents_number ON parts_documents (number)",
        "CREATE INDEX IF NOT EXISTS parts_documents_kind ON parts_documents (kind, company_id, status)",
        "CREATE INDEX IF NOT EXISTS parts_documents_technician ON parts_documents (technician_id, kind)",
        "CREATE TABLE IF NOT EXISTS parts_document_lines (document_id {uuid} NOT NULL, line_no INTEGER NOT NULL,"
        " part_id {uuid} NOT NULL, part_no TEXT NOT NULL, name TEXT NOT NULL, quantity INTEGER NOT NULL,"
        " unit_price_fen {bigint} NOT NULL, done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (document_id, line_no))",
        "CREATE TABLE IF NOT EXISTS parts_request_steps (request_id {uuid} NOT NULL, seq INTEGER NOT NULL,"
        " day {date} NOT NULL, step TEXT NOT NULL, document_kind TEXT, document_id {uuid}, document_number TEXT,"
        " actor_id {uuid} NOT NULL, PRIMARY KEY (request_id, seq))",
    )

    # ------------------------------------------------------------ catalogue
    @handles(Part.Registered)
    def part_registered(self, cur: Any, e: Part.Registered) -> None:
        cur.execute("INSERT INTO parts (part_id, part_no, name, unit, category, purchase_price_fen, sale_price_fen,"
                    " registered_on, last_change_on) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.part_no, e.name, e.unit, str(e.category), fen(e.purchase_price),
                     fen(e.sale_price), e.business_date, e.business_date))

    @handles(Part.PricesChanged)
    def prices_changed(self, cur: Any, e: Part.PricesChanged) -> None:
        cur.execute("UPDATE parts SET purchase_price_fen = %s, sale_price_fen = %s, last_change_on = %s"
                    " WHERE part_id = %s", (fen(e.purchase_price), fen(e.sale_price), e.business_date,
                                            e.originator_id))

    # ------------------------------------------------------------ stock
    @handles(PartStock.Opened)
    def stock_opened(self, cur: Any, e: PartStock.Opened) -> None:
        cur.execute("INSERT INTO part_stock (stock_id, part_id, part_no, company_id, warehouse_id, on_hand, reserved,"
                    " pending_in, last_change_on, version) VALUES (%s, %s, %s, %s, %s, 0, 0, 0, %s, %s)",
                    (e.originator_id, e.part_id, e.part_no, e.company_id, e.warehouse_id, e.business_date,
                     e.originator_version))

    @handles(PartStock.InboundExpected)
    def expected(self, cur: Any, e: PartStock.InboundExpected) -> None:
        self._move(cur, e, "inbound_expected", 0, 0, e.quantity, e.from_warehouse_id)

    @handles(PartStock.Received)
    def received(self, cur: Any, e: PartStock.Received) -> None:
        # What the document had announced stops being pending (never below zero).
        cur.execute("SELECT COALESCE(SUM(pending_change), 0) AS n FROM part_movements WHERE stock_id = %s"
                    " AND document_id = %s", (e.originator_id, e.document.document_id))
        pending = min(int(cur.fetchone()["n"]), e.quantity)
        self._move(cur, e, "received", e.quantity, 0, -pending, None)

    @handles(PartStock.Reserved)
    def reserved(self, cur: Any, e: PartStock.Reserved) -> None:
        self._move(cur, e, "reserved", 0, e.quantity, 0, None)

    @handles(PartStock.ReservationReleased)
    def released(self, cur: Any, e: PartStock.ReservationReleased) -> None:
        self._move(cur, e, "reservation_released", 0, -e.quantity, 0, None)

    @handles(PartStock.Issued)
    def issued(self, cur: Any, e: PartStock.Issued) -> None:
        self._move(cur, e, "issued", -e.quantity, -e.quantity, 0, e.to_warehouse_id)

    @handles(PartStock.Consumed)
    def consumed(self, cur: Any, e: PartStock.Consumed) -> None:
        self._move(cur, e, "consumed", -e.quantity, 0, 0, None)

    @staticmethod
    def _move(cur: Any, e: Any, kind: str, on_hand: int, reserved: int, pending: int,
              other_warehouse: UUID | None) -> None:
        cur.execute("UPDATE part_stock SET on_hand = on_hand + %s, reserved = reserved + %s,"
                    " pending_in = pending_in + %s, last_change_on = %s, version = %s WHERE stock_id = %s",
                    (on_hand, reserved, pending, e.business_date, e.originator_version, e.originator_id))
        cur.execute("INSERT INTO part_movements (stock_id, seq, part_id, company_id, warehouse_id, day, kind, quantity,"
                    " on_hand_change, reserved_change, pending_change, on_hand_after, document_kind, document_id,"
                    " document_number, other_warehouse_id, actor_id, command_id) SELECT stock_id, %s, part_id,"
                    " company_id, warehouse_id, %s, %s, %s, %s, %s, %s, on_hand, %s, %s, %s, %s, %s, %s"
                    " FROM part_stock WHERE stock_id = %s",
                    (e.originator_version, e.business_date, kind, e.quantity, on_hand, reserved, pending,
                     str(e.document.kind), e.document.document_id, e.document.number, other_warehouse, e.actor_id,
                     e.command_id, e.originator_id))

    # ------------------------------------------------------------ documents
    def _document(self, cur: Any, e: Any, kind: str, status: str, lines: Any = (), **columns: Any) -> None:
        names = ["document_id", "kind", "number", "company_id", "status", "created_on", "created_by",
                 "last_change_on", "version", *columns]
        values = [e.originator_id, kind, e.number, e.company_id, status, e.business_date, e.actor_id,
                  e.business_date, e.originator_version, *columns.values()]
        cur.execute(f"INSERT INTO parts_documents ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
                    values)
        for line in lines:
            cur.execute("INSERT INTO parts_document_lines (document_id, line_no, part_id, part_no, name, quantity,"
                        " unit_price_fen) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        (e.originator_id, line.line_no, line.part_id, line.part_no, line.name, line.quantity,
                         fen(line.unit_price)))

    @staticmethod
    def _status(cur: Any, e: Any, status: str, **columns: Any) -> None:
        sets = "".join(f", {c} = %s" for c in columns)
        cur.execute(f"UPDATE parts_documents SET status = %s, last_change_on = %s, version = %s{sets}"
                    " WHERE document_id = %s",
                    [status, e.business_date, e.originator_version, *columns.values(), e.originator_id])

    @handles(PurchaseOrder.Placed)
    def order_placed(self, cur: Any, e: PurchaseOrder.Placed) -> None:
        self._document(cur, e, "purchase_order", "open", e.lines, warehouse_id=e.warehouse_id,
                       counterparty=e.supplier, source_id=e.request_id, source_number=e.request_number,
                       amount_fen=sum(fen(line.amount) for line in e.lines))
        if e.request_id:
            self._step(cur, e.request_id, e, "purchase_order_placed", "purchase_order", e.originator_id, e.number)

    @handles(PurchaseOrder.Received)
    def order_received(self, cur: Any, e: PurchaseOrder.Received) -> None:
        for line in e.lines:
            cur.execute("UPDATE parts_document_lines SET done = done + %s WHERE document_id = %s AND line_no = %s",
                        (line.quantity, e.originator_id, line.line_no))
        cur.execute("SELECT COUNT(*) AS n FROM parts_document_lines WHERE document_id = %s AND done < quantity",
                    (e.originator_id,))
        self._status(cur, e, "received" if cur.fetchone()["n"] == 0 else "partly_received")
        cur.execute("SELECT source_id, number FROM parts_documents WHERE document_id = %s", (e.originator_id,))
        row = cur.fetchone()
        if row and row["source_id"]:
            self._step(cur, row["source_id"], e, "purchase_received", "purchase_order", e.originator_id, row["number"])

    @handles(PartsQuote.Offered)
    def quote_offered(self, cur: Any, e: PartsQuote.Offered) -> None:
        self._document(cur, e, "parts_quote", "offered", e.lines, counterparty=e.customer_name,
                       customer_id=e.customer_id, valid_until=e.valid_until,
                       amount_fen=sum(fen(line.amount) for line in e.lines))

    @handles(PartsQuote.Agreed)
    def quote_agreed(self, cur: Any, e: PartsQuote.Agreed) -> None:
        self._status(cur, e, "agreed")

    @handles(PartsQuote.Sold)
    def quote_sold(self, cur: Any, e: PartsQuote.Sold) -> None:
        self._status(cur, e, "sold")

    @handles(PartsSale.Drafted)
    def sale_drafted(self, cur: Any, e: PartsSale.Drafted) -> None:
        self._document(cur, e, "parts_sale", "draft", e.lines, warehouse_id=e.warehouse_id,
                       counterparty=e.customer_name, customer_id=e.customer_id, channel=str(e.channel),
                       source_id=e.quote_id, source_number=e.quote_number, amount_fen=fen(e.total),
                       receivable_fen=fen(e.receivable))

    @handles(PartsSale.Submitted)
    def sale_submitted(self, cur: Any, e: PartsSale.Submitted) -> None:
        self._status(cur, e, "submitted")

    @handles(PartsSale.Shipped)
    def sale_shipped(self, cur: Any, e: PartsSale.Shipped) -> None:
        self._status(cur, e, "shipped")

    @handles(PartsSale.Cancelled)
    def sale_cancelled(self, cur: Any, e: PartsSale.Cancelled) -> None:
        self._status(cur, e, "cancelled")

    @handles(PartsSale.PaymentReceived)
    def sale_paid(self, cur: Any, e: PartsSale.PaymentReceived) -> None:
        cur.execute("UPDATE parts_documents SET received_fen = received_fen + %s, coupons_fen = coupons_fen + %s,"
                    " last_change_on = %s, version = %s WHERE document_id = %s",
                    (fen(e.payment.amount), sum(fen(c.amount) for c in e.payment.coupons), e.business_date,
                     e.originator_version, e.originator_id))

    @handles(PartsOutbound.Prepared)
    def outbound_prepared(self, cur: Any, e: PartsOutbound.Prepared) -> None:
        self._document(cur, e, "parts_outbound", "waiting", e.lines, warehouse_id=e.warehouse_id,
                       to_warehouse_id=e.to_warehouse_id, source_id=e.source.document_id,
                       source_number=e.source.number, path=str(e.source.kind))
        if e.source.kind == "parts_request":
            self._step(cur, e.source.document_id, e, "outbound_prepared", "parts_outbound", e.originator_id, e.number)

    @handles(PartsOutbound.Shipped, PartsOutbound.Cancelled)
    def outbound_done(self, cur: Any, e: Any) -> None:
        shipped = isinstance(e, PartsOutbound.Shipped)
        self._status(cur, e, "shipped" if shipped else "cancelled")
        cur.execute("SELECT path, source_id, number FROM parts_documents WHERE document_id = %s", (e.originator_id,))
        row = cur.fetchone()
        if shipped and row and row["path"] == "parts_request":
            self._step(cur, row["source_id"], e, "shipped", "parts_outbound", e.originator_id, row["number"])

    @handles(PartsRequest.Requested)
    def request_made(self, cur: Any, e: PartsRequest.Requested) -> None:
        self._document(cur, e, "parts_request", "requested", e.lines, to_warehouse_id=e.mobile_warehouse_id,
                       technician_id=e.technician_id, source_id=e.work_order_id, source_number=e.work_order_number,
                       counterparty=e.note)
        self._step(cur, e.originator_id, e, "requested", "work_order" if e.work_order_id else None,
                   e.work_order_id, e.work_order_number)

    @handles(PartsRequest.Handled)
    def request_handled(self, cur: Any, e: PartsRequest.Handled) -> None:
        self._status(cur, e, "prepared" if e.outbound_id else "ordered", path=str(e.path),
                     warehouse_id=e.warehouse_id)
        self._step(cur, e.originator_id, e, f"handled:{e.path}", None, None, None)

    @handles(PartsRequest.OutboundPrepared)
    def request_prepared(self, cur: Any, e: PartsRequest.OutboundPrepared) -> None:
        # Parts on their way to the van stay the request's news until confirmed.
        cur.execute("SELECT status FROM parts_documents WHERE document_id = %s", (e.originator_id,))
        self._status(cur, e, "shipped" if cur.fetchone()["status"] == "shipped" else "prepared")

    @handles(PartsRequest.Shipped)
    def request_shipped(self, cur: Any, e: PartsRequest.Shipped) -> None:
        self._status(cur, e, "shipped")

    @handles(PartsRequest.ReceiptConfirmed)
    def request_received(self, cur: Any, e: PartsRequest.ReceiptConfirmed) -> None:
        for line in e.lines:
            cur.execute("UPDATE parts_document_lines SET done = done + %s WHERE document_id = %s AND line_no = %s",
                        (line.quantity, e.originator_id, line.line_no))
        # Everything in the van: received; else what is still to come (every shipped outbound
        # is confirmed by now): an outbound waiting for the keeper, or the rest of the purchase.
        cur.execute("SELECT COUNT(*) AS n FROM parts_document_lines WHERE document_id = %s AND done < quantity",
                    (e.originator_id,))
        if cur.fetchone()["n"] == 0:
            status = "received"
        else:
            cur.execute("SELECT COUNT(*) AS n FROM parts_documents WHERE kind = 'parts_outbound' AND source_id = %s"
                        " AND status = 'waiting'", (e.originator_id,))
            status = "prepared" if cur.fetchone()["n"] else "ordered"
        self._status(cur, e, status)
        self._step(cur, e.originator_id, e, "receipt_confirmed", None, None, None)

    @handles(WorkOrder.Opened)
    def work_order_opened(self, cur: Any, e: WorkOrder.Opened) -> None:
        self._document(cur, e, "work_order", "open", (), to_warehouse_id=e.mobile_warehouse_id,
                       technician_id=e.technician_id, customer_id=e.customer_id, counterparty=e.customer_name,
                       serial_number=e.serial_number, job_type=str(e.job_type))

    @handles(WorkOrder.PartsConsumed)
    def work_order_consumed(self, cur: Any, e: WorkOrder.PartsConsumed) -> None:
        for line in e.lines:
            cur.execute("SELECT COALESCE(MAX(line_no), 0) AS n FROM parts_document_lines WHERE document_id = %s",
                        (e.originator_id,))
            line_no = int(cur.fetchone()["n"]) + 1
            cur.execute("INSERT INTO parts_document_lines (document_id, line_no, part_id, part_no, name, quantity,"
                        " unit_price_fen, done) SELECT %s, %s, part_id, part_no, name, %s, 0, %s FROM parts"
                        " WHERE part_id = %s", (e.originator_id, line_no, line.quantity, line.quantity, line.part_id))
        cur.execute("UPDATE parts_documents SET last_change_on = %s, version = %s WHERE document_id = %s",
                    (e.business_date, e.originator_version, e.originator_id))

    @handles(WorkOrder.Completed)
    def work_order_completed(self, cur: Any, e: WorkOrder.Completed) -> None:
        self._status(cur, e, "completed")

    @staticmethod
    def _step(cur: Any, request_id: UUID, e: Any, step: str, kind: str | None, document_id: UUID | None,
              number: str | None) -> None:
        cur.execute("SELECT COALESCE(MAX(seq), 0) AS n FROM parts_request_steps WHERE request_id = %s", (request_id,))
        seq = int(cur.fetchone()["n"]) + 1
        cur.execute("INSERT INTO parts_request_steps (request_id, seq, day, step, document_kind, document_id,"
                    " document_number, actor_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (request_id, seq, e.business_date, step, kind, document_id, number, e.actor_id))


# ================================================================ queries
@dataclass(frozen=True)
class StockFilter:
    company_id: UUID | None = None
    warehouse_id: UUID | None = None
    part_id: UUID | None = None
    warehouse_kind: str | None = None
    in_stock_only: bool = False       # on hand above zero

    def where(self, scope: Scope) -> tuple[str, list[Any]]:
        where, params = scope_filter(scope, "s.company_id")
        for column, value in (("s.company_id", self.company_id), ("s.warehouse_id", self.warehouse_id),
                              ("s.part_id", self.part_id), ("w.kind", self.warehouse_kind)):
            if value is not None:
                where += f" AND {column} = %s"
                params.append(value)
        if self.in_stock_only:
            where += " AND s.on_hand > 0"
        return where, params


_STOCK_COLUMNS = ("s.stock_id, s.part_id, s.part_no, p.name AS part_name, p.unit, p.category, s.company_id,"
                  " c.code AS company_code, s.warehouse_id, w.code AS warehouse_code, w.name AS warehouse_name,"
                  " w.kind AS warehouse_kind, w.technician_name, s.on_hand, s.reserved,"
                  " s.on_hand - s.reserved AS available, s.pending_in, s.last_change_on")
_STOCK_FROM = ("part_stock s LEFT JOIN parts p ON p.part_id = s.part_id"
               " LEFT JOIN org_companies c ON c.company_id = s.company_id"
               " LEFT JOIN org_warehouses w ON w.warehouse_id = s.warehouse_id")
STOCK_EXPORT_COLUMNS = ("company_code", "warehouse_code", "warehouse_name", "warehouse_kind", "technician_name",
                        "part_no", "part_name", "unit", "category", "on_hand", "reserved", "available", "pending_in",
                        "last_change_on")
_STOCK_ORDER = "c.code, w.code, s.part_no"


def list_stock(cur: Any, scope: Scope, flt: StockFilter, page: int, page_size: int) -> tuple[list[dict], int]:
    where, params = flt.where(scope)
    cur.execute(f"SELECT COUNT(*) AS n FROM {_STOCK_FROM} WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT {_STOCK_COLUMNS} FROM {_STOCK_FROM} WHERE {where} ORDER BY {_STOCK_ORDER}, s.stock_id"
                " LIMIT %s OFFSET %s", [*params, limit, offset])
    return cur.fetchall(), total


def export_stock(cur: Any, scope: Scope, flt: StockFilter, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every row in scope, page by page (keyset on stock id) so memory stays flat."""
    where, params = flt.where(scope)
    last: Any = None
    while True:
        keyset = " AND s.stock_id > %s" if last is not None else ""
        cur.execute(f"SELECT {_STOCK_COLUMNS} FROM {_STOCK_FROM} WHERE {where}{keyset} ORDER BY s.stock_id LIMIT %s",
                    [*params, *([last] if last is not None else []), batch])
        rows = cur.fetchall()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]["stock_id"]


def part_movements(cur: Any, scope: Scope, part_id: UUID, warehouse_id: UUID | None, page: int,
                   page_size: int) -> tuple[list[dict], int]:
    where, params = scope_filter(scope, "m.company_id")
    where += " AND m.part_id = %s"
    params.append(part_id)
    if warehouse_id is not None:
        where += " AND m.warehouse_id = %s"
        params.append(warehouse_id)
    cur.execute(f"SELECT COUNT(*) AS n FROM part_movements m WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute("SELECT m.warehouse_id, w.code AS warehouse_code, m.seq, m.day, m.kind, m.quantity, m.on_hand_change,"
                " m.reserved_change, m.pending_change, m.on_hand_after, m.document_kind, m.document_id,"
                " m.document_number, m.other_warehouse_id, m.actor_id, m.command_id FROM part_movements m"
                f" LEFT JOIN org_warehouses w ON w.warehouse_id = m.warehouse_id WHERE {where}"
                " ORDER BY w.code, m.seq LIMIT %s OFFSET %s", [*params, limit, offset])
    return cur.fetchall(), total


def list_parts(cur: Any, text: str | None, category: str | None, page: int, page_size: int) -> tuple[list[dict], int]:
    where, params = "1 = 1", []
    if category:
        where += " AND category = %s"
        params.append(category)
    if text:
        # Without case on either store (SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
        where += " AND (part_no LIKE %s ESCAPE '!' OR LOWER(name) LIKE %s ESCAPE '!')"
        pattern = "%" + text.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
        params += [pattern.upper(), pattern.lower()]
    cur.execute(f"SELECT COUNT(*) AS n FROM parts WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute("SELECT part_id, part_no, name, unit, category, purchase_price_fen, sale_price_fen, registered_on,"
                f" last_change_on FROM parts WHERE {where} ORDER BY part_no LIMIT %s OFFSET %s",
                [*params, limit, offset])
    return [_money(r) for r in cur.fetchall()], total


def get_part(cur: Any, part_id: UUID) -> dict | None:
    cur.execute("SELECT part_id, part_no, name, unit, category, purchase_price_fen, sale_price_fen, registered_on,"
                " last_change_on FROM parts WHERE part_id = %s", (part_id,))
    row = cur.fetchone()
    return _money(row) if row else None


@dataclass(frozen=True)
class DocumentFilter:
    kind: str
    company_id: UUID | None = None
    status: str | None = None
    warehouse_id: UUID | None = None
    technician_id: UUID | None = None     # a technician sees only their own requests and work orders

    def where(self, scope: Scope) -> tuple[str, list[Any]]:
        where, params = scope_filter(scope, "d.company_id")
        where += " AND d.kind = %s"
        params.append(self.kind)
        for column, value in (("d.company_id", self.company_id), ("d.status", self.status),
                              ("d.warehouse_id", self.warehouse_id), ("d.technician_id", self.technician_id)):
            if value is not None:
                where += f" AND {column} = %s"
                params.append(value)
        return where, params


_DOC_COLUMNS = ("d.document_id, d.kind, d.number, d.company_id, c.code AS company_code, d.status, d.warehouse_id,"
                " w.code AS warehouse_code, d.to_warehouse_id, t.code AS to_warehouse_code, d.counterparty,"
                " d.customer_id, d.technician_id, d.channel, d.path, d.source_id, d.source_number, d.amount_fen,"
                " d.receivable_fen, d.received_fen, d.coupons_fen, d.valid_until, d.serial_number, d.job_type,"
                " d.created_on, d.created_by, d.last_change_on, d.version")
_DOC_FROM = ("parts_documents d LEFT JOIN org_companies c ON c.company_id = d.company_id"
             " LEFT JOIN org_warehouses w ON w.warehouse_id = d.warehouse_id"
             " LEFT JOIN org_warehouses t ON t.warehouse_id = d.to_warehouse_id")


def list_documents(cur: Any, scope: Scope, flt: DocumentFilter, page: int, page_size: int) -> tuple[list[dict], int]:
    where, params = flt.where(scope)
    cur.execute(f"SELECT COUNT(*) AS n FROM parts_documents d WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT {_DOC_COLUMNS} FROM {_DOC_FROM} WHERE {where} ORDER BY d.created_on DESC, d.number DESC"
                " LIMIT %s OFFSET %s", [*params, limit, offset])
    return [_document_row(r) for r in cur.fetchall()], total


def get_document(cur: Any, scope: Scope, kind: str, document_id: UUID,
                 technician_id: UUID | None = None) -> dict | None:
    where, params = DocumentFilter(kind, technician_id=technician_id).where(scope)
    cur.execute(f"SELECT {_DOC_COLUMNS} FROM {_DOC_FROM} WHERE d.document_id = %s AND {where}",
                [document_id, *params])
    row = cur.fetchone()
    if row is None:
        return None
    row = _document_row(row)
    cur.execute("SELECT line_no, part_id, part_no, name, quantity, unit_price_fen, done FROM parts_document_lines"
                " WHERE document_id = %s ORDER BY line_no", (document_id,))
    row["lines"] = [{**{k: v for k, v in line.items() if k != "unit_price_fen"},
                     "unit_price": yuan(line["unit_price_fen"])} for line in cur.fetchall()]
    if kind == "parts_request":
        cur.execute("SELECT seq, day, step, document_kind, document_id, document_number, actor_id"
                    " FROM parts_request_steps WHERE request_id = %s ORDER BY seq", (document_id,))
        row["steps"] = cur.fetchall()
    return row


def _document_row(row: dict[str, Any]) -> dict[str, Any]:
    for column in ("amount", "receivable", "received", "coupons"):
        row[column] = yuan(row.pop(f"{column}_fen"))
    row["outstanding"] = row["receivable"] - row["received"] if row["kind"] == "parts_sale" else None
    return row


def _money(row: dict[str, Any]) -> dict[str, Any]:
    row["purchase_price"] = yuan(row.pop("purchase_price_fen"))
    row["sale_price"] = yuan(row.pop("sale_price_fen"))
    return row
