"""Parts over HTTP (配件): catalogue, stock and movements, purchase orders, quotes, sales,
outbounds, technicians' requests (my parts) and work orders."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from application.caller import Caller
from domain.access import Permission
from domain.base import NotFoundError, PermissionDeniedError
from domain.organisation import WarehouseKind
from domain.parts import OutboundState, PartCategory, PurchaseStatus, QuoteStatus, RequestStatus, SaleStatus
from interfaces.http.controllers import (
    After,
    CallerDep,
    IdempotencyKey,
    OfficeDep,
    Page,
    PageSize,
    answer,
    csv_response,
    fresh,
)
from interfaces.http.schemas import (
    ChangePartPricesRequest,
    ConsumePartsRequest,
    CreatePartRequest,
    CreatePartsQuoteRequest,
    CreatePartsSaleRequest,
    CreatePurchaseOrderRequest,
    HandlePartsRequestRequest,
    OpenWorkOrderRequest,
    PartsSaleReceiptRequest,
    ReasonRequest,
    ReceivePurchaseRequest,
    RequestPartsRequest,
)
from projections import parts

READ_MODEL = "parts"
SearchText = Annotated[str | None, QueryParameter(max_length=100, description="Part number or name contains")]
WorkOrderStatus = Literal["open", "completed"]


def _office(caller: Caller) -> None:
    """Purchase orders, quotes, sales and outbounds: the office and the warehouse, not a
    technician or a salesperson."""
    caller.require(Permission.VIEW_PARTS)
    if not any(caller.may(p) for p in (Permission.VIEW_ALL_SALES, Permission.PURCHASE_PARTS, Permission.SELL_PARTS,
                                       Permission.SHIP_PARTS, Permission.RECEIVE_PARTS)):
        raise PermissionDeniedError("Parts documents are the office's and the warehouse's; your roles do not "
                                    "show them.", permission=str(Permission.SELL_PARTS))


def _own_technician(caller: Caller) -> UUID | None:
    """A technician sees their own requests and work orders; the office sees all it may."""
    caller.require(Permission.VIEW_PARTS)
    if caller.may(Permission.HANDLE_PARTS_REQUESTS) or caller.may(Permission.VIEW_ALL_SALES):
        return None
    if caller.may(Permission.REQUEST_PARTS):
        return caller.user_id
    raise PermissionDeniedError("Technicians' requests and work orders are theirs and the office's.",
                                permission=str(Permission.REQUEST_PARTS))


def _list(backoffice: Any, caller: Caller, kind: str, after: int | None, page: int, page_size: int,
          **filters: Any) -> dict[str, Any]:
    fresh(backoffice, READ_MODEL, after)
    with backoffice.read() as cur:
        items, total = parts.list_documents(cur, caller.scope, parts.DocumentFilter(kind, **filters), page,
                                            page_size)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def _one(backoffice: Any, caller: Caller, kind: str, document_id: UUID, after: int | None, what: str,
         technician_id: UUID | None = None) -> dict[str, Any]:
    fresh(backoffice, READ_MODEL, after)
    with backoffice.read() as cur:
        row = parts.get_document(cur, caller.scope, kind, document_id, technician_id)
    if row is None:
        raise NotFoundError(f"{what} {document_id} does not exist.", code=f"{kind.replace('_', '-')}-not-found")
    return row


class PartController(Controller):
    path = "/parts"
    tags = ["parts"]

    @post("/", operation_id="CreatePart", sync_to_thread=True,
          summary="Add a part to the catalogue: part number, name, unit, category, list prices")
    def create(self, data: JSONBody[CreatePartRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.register_part(caller, data.part_no, data.name, data.unit, data.category,
                                                     data.purchase_price, data.sale_price, idempotency_key))

    @post("/{part_id:uuid}/prices", operation_id="ChangePartPrices", sync_to_thread=True,
          summary="Change a part's list prices, with the reason")
    def change_prices(self, part_id: FromPath[UUID], data: JSONBody[ChangePartPricesRequest], caller: CallerDep,
                      backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.change_part_prices(caller, part_id, data.purchase_price, data.sale_price,
                                                          data.reason, idempotency_key))

    @get("/", operation_id="ListParts", sync_to_thread=True, summary="The parts catalogue")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, text: SearchText = None,
                 category: FromQuery[PartCategory | None] = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_PARTS)
        fresh(backoffice, READ_MODEL, after)
        with backoffice.read() as cur:
            items, total = parts.list_parts(cur, (text or "").strip() or None, category and str(category), page,
                                            page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    @get("/{part_id:uuid}", operation_id="GetPart", sync_to_thread=True, summary="One part of the catalogue")
    def get_one(self, part_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_PARTS)
        fresh(backoffice, READ_MODEL, after)
        with backoffice.read() as cur:
            row = parts.get_part(cur, part_id)
        if row is None:
            raise NotFoundError(f"Part {part_id} is not in the catalogue.", code="part-not-found")
        return row

    @get("/{part_id:uuid}/movements", operation_id="GetPartMovements", sync_to_thread=True,
         summary="Every movement of a part in the warehouses I see (or one): received, reserved, issued, consumed")
    def movements(self, part_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                  warehouse_id: FromQuery[UUID | None] = None, page: Page = 1, page_size: PageSize = 100,
                  after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_PARTS)
        fresh(backoffice, READ_MODEL, after)
        with backoffice.read() as cur:
            items, total = parts.part_movements(cur, caller.scope, part_id, warehouse_id, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}


class PartsStockController(Controller):
    path = "/parts-stock"
    tags = ["parts"]

    @get("/", operation_id="ListPartsStock", sync_to_thread=True,
         summary="Parts stock by company, warehouse (mobile ones too) and part: on hand, reserved, available, "
                 "pending inbound")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 warehouse_id: FromQuery[UUID | None] = None, part_id: FromQuery[UUID | None] = None,
                 warehouse_kind: FromQuery[WarehouseKind | None] = None, in_stock_only: FromQuery[bool] = False,
                 page: Page = 1, page_size: PageSize = 50, after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_PARTS)
        fresh(backoffice, READ_MODEL, after)
        flt = parts.StockFilter(company_id, warehouse_id, part_id, warehouse_kind and str(warehouse_kind),
                                in_stock_only)
        with backoffice.read() as cur:
            items, total = parts.list_stock(cur, caller.scope, flt, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    @get("/export", operation_id="ExportPartsStock", sync_to_thread=True, media_type="text/csv",
         summary="The parts stock as CSV (same filters)")
    def export(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
               warehouse_id: FromQuery[UUID | None] = None, part_id: FromQuery[UUID | None] = None,
               warehouse_kind: FromQuery[WarehouseKind | None] = None, in_stock_only: FromQuery[bool] = False,
               after: After = None) -> Response[str]:
        caller.require(Permission.VIEW_PARTS)
        fresh(backoffice, READ_MODEL, after)
        flt = parts.StockFilter(company_id, warehouse_id, part_id, warehouse_kind and str(warehouse_kind),
                                in_stock_only)
        with backoffice.read() as cur:
            return csv_response(parts.STOCK_EXPORT_COLUMNS, parts.export_stock(cur, caller.scope, flt),
                                "parts-stock.csv")


class PurchaseOrderController(Controller):
    path = "/purchase-orders"
    tags = ["parts"]

    @post("/", operation_id="CreatePurchaseOrder", sync_to_thread=True,
          summary="Order parts from a supplier into a warehouse: pending inbound (待入库) until received")
    def create(self, data: JSONBody[CreatePurchaseOrderRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.create_purchase_order(
            caller, data.company_id, data.supplier, data.warehouse_id,
            [(line.part_id, line.quantity, line.unit_price) for line in data.lines], idempotency_key))

    @post("/{order_id:uuid}/receive", operation_id="ReceivePurchase", sync_to_thread=True,
          summary="入库: receive what arrived of a purchase order, in part or whole; over-receipt is refused")
    def receive(self, order_id: FromPath[UUID], data: JSONBody[ReceivePurchaseRequest], caller: CallerDep,
                backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        quantities: dict[int, int] = {}
        for line in data.lines:
            quantities[line.line_no] = quantities.get(line.line_no, 0) + line.quantity
        return answer(backoffice.parts.receive_purchase(caller, order_id, quantities, idempotency_key))

    @get("/", operation_id="ListPurchaseOrders", sync_to_thread=True, summary="Parts purchase orders")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 status: FromQuery[PurchaseStatus | None] = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        _office(caller)
        return _list(backoffice, caller, "purchase_order", after, page, page_size, company_id=company_id,
                     status=status and str(status))

    @get("/{order_id:uuid}", operation_id="GetPurchaseOrder", sync_to_thread=True,
         summary="One purchase order with its lines and what was received")
    def get_one(self, order_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        _office(caller)
        return _one(backoffice, caller, "purchase_order", order_id, after, "Purchase order")


class PartsQuoteController(Controller):
    path = "/parts-quotes"
    tags = ["parts"]

    @post("/", operation_id="CreatePartsQuote", sync_to_thread=True,
          summary="配件报价: parts and prices offered to a customer, valid until a date")
    def create(self, data: JSONBody[CreatePartsQuoteRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.create_parts_quote(
            caller, data.company_id, data.customer_id, data.customer_name,
            [(line.part_id, line.quantity, line.unit_price) for line in data.lines], data.valid_until,
            idempotency_key))

    @post("/{quote_id:uuid}/agree", operation_id="AgreePartsQuote", sync_to_thread=True,
          summary="The customer agreed the quote; a parts sale can now be made from it")
    def agree(self, quote_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
              idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.agree_parts_quote(caller, quote_id, idempotency_key))

    @get("/", operation_id="ListPartsQuotes", sync_to_thread=True, summary="Parts quotes")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 status: FromQuery[QuoteStatus | None] = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        _office(caller)
        return _list(backoffice, caller, "parts_quote", after, page, page_size, company_id=company_id,
                     status=status and str(status))

    @get("/{quote_id:uuid}", operation_id="GetPartsQuote", sync_to_thread=True, summary="One parts quote")
    def get_one(self, quote_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        _office(caller)
        return _one(backoffice, caller, "parts_quote", quote_id, after, "Parts quote")


class PartsSaleController(Controller):
    path = "/parts-sales"
    tags = ["parts"]

    @post("/", operation_id="CreatePartsSale", sync_to_thread=True,
          summary="配件销售 from an agreed quote, with its channel and the warehouse that ships it")
    def create(self, data: JSONBody[CreatePartsSaleRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.create_parts_sale(caller, data.quote_id, data.channel, data.warehouse_id,
                                                         idempotency_key))

    @post("/{sale_id:uuid}/submit", operation_id="SubmitPartsSale", sync_to_thread=True,
          summary="Submit: a parts outbound reserves the parts and tells the warehouse keeper to ship")
    def submit(self, sale_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.submit_parts_sale(caller, sale_id, idempotency_key))

    @post("/{sale_id:uuid}/cancel", operation_id="CancelPartsSale", sync_to_thread=True,
          summary="Cancel a sale not yet shipped and without money received; its reservations are released")
    def cancel(self, sale_id: FromPath[UUID], data: JSONBody[ReasonRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.cancel_parts_sale(caller, sale_id, data.reason, idempotency_key))

    @post("/{sale_id:uuid}/receipts", operation_id="RecordPartsSaleReceipt", sync_to_thread=True,
          summary="收款 for a parts sale; coupons can pay part of it")
    def receipt(self, sale_id: FromPath[UUID], data: JSONBody[PartsSaleReceiptRequest], caller: CallerDep,
                backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.record_parts_sale_receipt(
            caller, sale_id, data.amount, data.value_date, data.method, data.reference,
            [(c.code, c.amount) for c in data.coupons], idempotency_key))

    @get("/", operation_id="ListPartsSales", sync_to_thread=True,
         summary="Parts sales with channel, total, receivable, received and outstanding")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 status: FromQuery[SaleStatus | None] = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        _office(caller)
        return _list(backoffice, caller, "parts_sale", after, page, page_size, company_id=company_id,
                     status=status and str(status))

    @get("/{sale_id:uuid}", operation_id="GetPartsSale", sync_to_thread=True, summary="One parts sale")
    def get_one(self, sale_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        _office(caller)
        return _one(backoffice, caller, "parts_sale", sale_id, after, "Parts sale")


class PartsOutboundController(Controller):
    path = "/parts-outbounds"
    tags = ["parts"]

    @post("/{outbound_id:uuid}/ship", operation_id="ShipPartsOutbound", sync_to_thread=True,
          summary="出库: the warehouse keeper ships an outbound, to the customer or to a technician")
    def ship(self, outbound_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
             idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.ship_parts_outbound(caller, outbound_id, idempotency_key))

    @get("/", operation_id="ListPartsOutbounds", sync_to_thread=True,
         summary="Parts outbounds; status=waiting is the warehouse keeper's list")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 warehouse_id: FromQuery[UUID | None] = None, status: FromQuery[OutboundState | None] = None,
                 page: Page = 1, page_size: PageSize = 50, after: After = None) -> dict[str, Any]:
        _office(caller)
        return _list(backoffice, caller, "parts_outbound", after, page, page_size, company_id=company_id,
                     warehouse_id=warehouse_id, status=status and str(status))

    @get("/{outbound_id:uuid}", operation_id="GetPartsOutbound", sync_to_thread=True, summary="One parts outbound")
    def get_one(self, outbound_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        _office(caller)
        return _one(backoffice, caller, "parts_outbound", outbound_id, after, "Parts outbound")


class PartsRequestController(Controller):
    path = "/parts-requests"
    tags = ["parts"]

    @post("/", operation_id="RequestParts", sync_to_thread=True,
          summary="My parts: a technician requests parts into their mobile warehouse (for a job or a work order)")
    def create(self, data: JSONBody[RequestPartsRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.request_parts(caller, data.mobile_warehouse_id,
                                                     [(line.part_id, line.quantity) for line in data.lines],
                                                     data.work_order_id, data.note, idempotency_key))

    @post("/{request_id:uuid}/handle", operation_id="HandlePartsRequest", sync_to_thread=True,
          summary="紧急采购: fill a request from a warehouse, or by an emergency purchase to the technician or to "
                  "a warehouse")
    def handle(self, request_id: FromPath[UUID], data: JSONBody[HandlePartsRequestRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.handle_parts_request(
            caller, request_id, data.path, data.warehouse_id, data.supplier,
            {p.line_no: p.unit_price for p in data.unit_prices}, idempotency_key))

    @post("/{request_id:uuid}/confirm-receipt", operation_id="ConfirmPartsReceipt", sync_to_thread=True,
          summary="The technician confirms the parts arrived in their mobile warehouse")
    def confirm(self, request_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.confirm_parts_receipt(caller, request_id, idempotency_key))

    @get("/", operation_id="ListPartsRequests", sync_to_thread=True,
         summary="Technicians' parts requests (a technician sees their own: my parts)")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 status: FromQuery[RequestStatus | None] = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        own = _own_technician(caller)
        return _list(backoffice, caller, "parts_request", after, page, page_size, company_id=company_id,
                     status=status and str(status), technician_id=own)

    @get("/{request_id:uuid}", operation_id="GetPartsRequest", sync_to_thread=True,
         summary="One request with its lines and every step of its path (purchase, receipt, outbound, shipment)")
    def get_one(self, request_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        own = _own_technician(caller)
        return _one(backoffice, caller, "parts_request", request_id, after, "Parts request", own)


class WorkOrderController(Controller):
    path = "/work-orders"
    tags = ["parts"]

    @post("/", operation_id="OpenWorkOrder", sync_to_thread=True,
          summary="Open a work order: customer, machine serial, job type, technician's mobile warehouse")
    def create(self, data: JSONBody[OpenWorkOrderRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.open_work_order(caller, data.mobile_warehouse_id, data.customer_id,
                                                       data.customer_name, data.serial_number, data.job_type,
                                                       idempotency_key))

    @post("/{work_order_id:uuid}/consume", operation_id="ConsumeParts", sync_to_thread=True,
          summary="Parts used on the job, from the technician's mobile warehouse")
    def consume(self, work_order_id: FromPath[UUID], data: JSONBody[ConsumePartsRequest], caller: CallerDep,
                backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.consume_parts(caller, work_order_id,
                                                     [(line.part_id, line.quantity) for line in data.lines],
                                                     idempotency_key))

    @post("/{work_order_id:uuid}/complete", operation_id="CompleteWorkOrder", sync_to_thread=True,
          summary="The job is done; the work order uses no more parts")
    def complete(self, work_order_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                 idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.parts.complete_work_order(caller, work_order_id, idempotency_key))

    @get("/", operation_id="ListWorkOrders", sync_to_thread=True,
         summary="Work orders (a technician sees their own)")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 status: FromQuery[WorkOrderStatus | None] = None, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        own = _own_technician(caller)
        return _list(backoffice, caller, "work_order", after, page, page_size, company_id=company_id,
                     status=status and str(status), technician_id=own)

    @get("/{work_order_id:uuid}", operation_id="GetWorkOrder", sync_to_thread=True,
         summary="One work order with the parts it used")
    def get_one(self, work_order_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
                after: After = None) -> dict[str, Any]:
        own = _own_technician(caller)
        return _one(backoffice, caller, "work_order", work_order_id, after, "Work order", own)


PARTS_CONTROLLERS = [PartController, PartsStockController, PurchaseOrderController, PartsQuoteController,
                     PartsSaleController, PartsOutboundController, PartsRequestController, WorkOrderController]
