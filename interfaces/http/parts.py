"""Parts over HTTP (配件): catalogue, stock and movements, purchase orders, quotes, sales,
outbounds, technicians' requests (my parts) and work orders."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Response, Router, get
from litestar.params import FromPath, FromQuery, QueryParameter

from application.caller import Caller
from application.parts.commands import (
    AgreePartsQuote,
    CancelPartsSale,
    ChangePartPrices,
    CompleteWorkOrder,
    ConfirmPartsReceipt,
    ConsumeParts,
    CreatePart,
    CreatePartsQuote,
    CreatePartsSale,
    CreatePurchaseOrder,
    HandlePartsRequest,
    OpenWorkOrder,
    ReceivePurchase,
    RecordPartsSaleReceipt,
    RequestParts,
    ShipPartsOutbound,
    SubmitPartsSale,
)
from application import queries
from application.reading import Reader, ScopeRule, page_of, paged, row
from domain.access import Permission
from domain.base import NotFoundError, PermissionDeniedError
from domain.organisation import WarehouseKind
from domain.parts import OutboundState, PartCategory, PurchaseStatus, QuoteStatus, RequestStatus, SaleStatus
from interfaces.http.kit import Page, PageSize, ReaderDep, command_endpoint, csv_export, reads
from projections import parts
from projections.parts_rows import (
    PartMovementRow,
    PartRow,
    PartsDocumentDetailRow,
    PartsDocumentRow,
    PartsRequestDetailRow,
    PartStockRow,
)

READ_MODEL = "parts"
CATALOGUE = reads(READ_MODEL, Permission.VIEW_PARTS, ScopeRule.GROUP)
PARTS = reads(READ_MODEL, Permission.VIEW_PARTS)
OFFICE = {"reads": queries.PARTS_OFFICE}   # the office's and the warehouse's documents
SearchText = Annotated[str | None, QueryParameter(max_length=100, description="Part number or name contains")]
WorkOrderStatus = Literal["open", "completed"]


def _own_technician(caller: Caller) -> UUID | None:
    """A technician sees their own requests and work orders; the office sees all it may."""
    caller.require(Permission.VIEW_PARTS)
    if caller.may(Permission.HANDLE_PARTS_REQUESTS) or caller.may(Permission.VIEW_ALL_SALES):
        return None
    if caller.may(Permission.REQUEST_PARTS):
        return caller.user_id
    raise PermissionDeniedError("Technicians' requests and work orders are theirs and the office's.",
                                permission=str(Permission.REQUEST_PARTS))


def _documents(read: Reader, kind: str, page: int, page_size: int, **filters: Any) -> Any:
    found = read(parts.list_documents, parts.DocumentFilter(kind, **filters), page, page_size)
    return paged(PartsDocumentRow, found, page, page_size)


def _document(read: Reader, kind: str, document_id: UUID, what: str,
              technician_id: UUID | None = None) -> dict[str, Any]:
    found = read(parts.get_document, kind, document_id, technician_id)
    if found is None:
        raise NotFoundError(f"{what} {document_id} does not exist.", code=f"{kind.replace('_', '-')}-not-found")
    return found


DocumentPage = page_of(PartsDocumentRow)


# ---------------------------------------------------------------- catalogue and stock
@get("/", operation_id="ListParts", sync_to_thread=True, opt=CATALOGUE, summary="The parts catalogue")
def list_parts(read: ReaderDep, text: SearchText = None, category: FromQuery[PartCategory | None] = None,
               page: Page = 1, page_size: PageSize = 50) -> page_of(PartRow):  # type: ignore[valid-type]
    found = read(parts.list_parts, (text or "").strip() or None, category and str(category), page, page_size)
    return paged(PartRow, found, page, page_size)


@get("/{part_id:uuid}", operation_id="GetPart", sync_to_thread=True, opt=CATALOGUE,
     summary="One part of the catalogue")
def get_part(part_id: FromPath[UUID], read: ReaderDep) -> PartRow:
    found = read(parts.get_part, part_id)
    if found is None:
        raise NotFoundError(f"Part {part_id} is not in the catalogue.", code="part-not-found")
    return row(PartRow, found)


@get("/{part_id:uuid}/movements", operation_id="GetPartMovements", sync_to_thread=True, opt=PARTS,
     summary="Every movement of a part in the warehouses I see (or one): received, reserved, issued, consumed")
def get_part_movements(part_id: FromPath[UUID], read: ReaderDep, warehouse_id: FromQuery[UUID | None] = None,
                       page: Page = 1,
                       page_size: PageSize = 100) -> page_of(PartMovementRow):  # type: ignore[valid-type]
    return paged(PartMovementRow, read(parts.part_movements, part_id, warehouse_id, page, page_size), page,
                 page_size)


def _stock_filter(company_id: UUID | None, warehouse_id: UUID | None, part_id: UUID | None,
                  warehouse_kind: WarehouseKind | None, in_stock_only: bool) -> parts.StockFilter:
    return parts.StockFilter(company_id, warehouse_id, part_id, warehouse_kind and str(warehouse_kind), in_stock_only)


@get("/", operation_id="ListPartsStock", sync_to_thread=True, opt=PARTS,
     summary="Parts stock by company, warehouse (mobile ones too) and part: on hand, reserved, available, "
             "pending inbound")
def list_parts_stock(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                     warehouse_id: FromQuery[UUID | None] = None, part_id: FromQuery[UUID | None] = None,
                     warehouse_kind: FromQuery[WarehouseKind | None] = None, in_stock_only: FromQuery[bool] = False,
                     page: Page = 1, page_size: PageSize = 50) -> page_of(PartStockRow):  # type: ignore[valid-type]
    flt = _stock_filter(company_id, warehouse_id, part_id, warehouse_kind, in_stock_only)
    return paged(PartStockRow, read(parts.list_stock, flt, page, page_size), page, page_size)


@get("/export", operation_id="ExportPartsStock", sync_to_thread=True, media_type="text/csv", opt=PARTS,
     summary="The parts stock as CSV (same filters)")
def export_parts_stock(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                       warehouse_id: FromQuery[UUID | None] = None, part_id: FromQuery[UUID | None] = None,
                       warehouse_kind: FromQuery[WarehouseKind | None] = None,
                       in_stock_only: FromQuery[bool] = False) -> Response[str]:
    flt = _stock_filter(company_id, warehouse_id, part_id, warehouse_kind, in_stock_only)
    return csv_export(read, parts.STOCK_EXPORT_COLUMNS, "parts-stock.csv", parts.export_stock, flt)


# ---------------------------------------------------------------- the office's documents
@get("/", operation_id="ListPurchaseOrders", sync_to_thread=True, opt=OFFICE, summary="Parts purchase orders")
def list_purchase_orders(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                         status: FromQuery[PurchaseStatus | None] = None, page: Page = 1,
                         page_size: PageSize = 50) -> DocumentPage:  # type: ignore[valid-type]
    return _documents(read, "purchase_order", page, page_size, company_id=company_id, status=status and str(status))


@get("/{order_id:uuid}", operation_id="GetPurchaseOrder", sync_to_thread=True, opt=OFFICE,
     summary="One purchase order with its lines and what was received")
def get_purchase_order(order_id: FromPath[UUID], read: ReaderDep) -> PartsDocumentDetailRow:
    return row(PartsDocumentDetailRow, _document(read, "purchase_order", order_id, "Purchase order"))


@get("/", operation_id="ListPartsQuotes", sync_to_thread=True, opt=OFFICE, summary="Parts quotes")
def list_parts_quotes(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                      status: FromQuery[QuoteStatus | None] = None, page: Page = 1,
                      page_size: PageSize = 50) -> DocumentPage:  # type: ignore[valid-type]
    return _documents(read, "parts_quote", page, page_size, company_id=company_id, status=status and str(status))


@get("/{quote_id:uuid}", operation_id="GetPartsQuote", sync_to_thread=True, opt=OFFICE, summary="One parts quote")
def get_parts_quote(quote_id: FromPath[UUID], read: ReaderDep) -> PartsDocumentDetailRow:
    return row(PartsDocumentDetailRow, _document(read, "parts_quote", quote_id, "Parts quote"))


@get("/", operation_id="ListPartsSales", sync_to_thread=True, opt=OFFICE,
     summary="Parts sales with channel, total, receivable, received and outstanding")
def list_parts_sales(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                     status: FromQuery[SaleStatus | None] = None, page: Page = 1,
                     page_size: PageSize = 50) -> DocumentPage:  # type: ignore[valid-type]
    return _documents(read, "parts_sale", page, page_size, company_id=company_id, status=status and str(status))


@get("/{sale_id:uuid}", operation_id="GetPartsSale", sync_to_thread=True, opt=OFFICE, summary="One parts sale")
def get_parts_sale(sale_id: FromPath[UUID], read: ReaderDep) -> PartsDocumentDetailRow:
    return row(PartsDocumentDetailRow, _document(read, "parts_sale", sale_id, "Parts sale"))


@get("/", operation_id="ListPartsOutbounds", sync_to_thread=True, opt=OFFICE,
     summary="Parts outbounds; status=waiting is the warehouse keeper's list")
def list_parts_outbounds(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                         warehouse_id: FromQuery[UUID | None] = None, status: FromQuery[OutboundState | None] = None,
                         page: Page = 1, page_size: PageSize = 50) -> DocumentPage:  # type: ignore[valid-type]
    return _documents(read, "parts_outbound", page, page_size, company_id=company_id, warehouse_id=warehouse_id,
                      status=status and str(status))


@get("/{outbound_id:uuid}", operation_id="GetPartsOutbound", sync_to_thread=True, opt=OFFICE,
     summary="One parts outbound")
def get_parts_outbound(outbound_id: FromPath[UUID], read: ReaderDep) -> PartsDocumentDetailRow:
    return row(PartsDocumentDetailRow, _document(read, "parts_outbound", outbound_id, "Parts outbound"))


# ---------------------------------------------------------------- technicians' documents
@get("/", operation_id="ListPartsRequests", sync_to_thread=True, opt=PARTS,
     summary="Technicians' parts requests (a technician sees their own: my parts)")
def list_parts_requests(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                        status: FromQuery[RequestStatus | None] = None, page: Page = 1,
                        page_size: PageSize = 50) -> DocumentPage:  # type: ignore[valid-type]
    own = _own_technician(read.caller)
    return _documents(read, "parts_request", page, page_size, company_id=company_id, status=status and str(status),
                      technician_id=own)


@get("/{request_id:uuid}", operation_id="GetPartsRequest", sync_to_thread=True, opt=PARTS,
     summary="One request with its lines and every step of its path (purchase, receipt, outbound, shipment)")
def get_parts_request(request_id: FromPath[UUID], read: ReaderDep) -> PartsRequestDetailRow:
    own = _own_technician(read.caller)
    return row(PartsRequestDetailRow, _document(read, "parts_request", request_id, "Parts request", own))


@get("/", operation_id="ListWorkOrders", sync_to_thread=True, opt=PARTS,
     summary="Work orders (a technician sees their own)")
def list_work_orders(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                     status: FromQuery[WorkOrderStatus | None] = None, page: Page = 1,
                     page_size: PageSize = 50) -> DocumentPage:  # type: ignore[valid-type]
    own = _own_technician(read.caller)
    return _documents(read, "work_order", page, page_size, company_id=company_id, status=status and str(status),
                      technician_id=own)


@get("/{work_order_id:uuid}", operation_id="GetWorkOrder", sync_to_thread=True, opt=PARTS,
     summary="One work order with the parts it used")
def get_work_order(work_order_id: FromPath[UUID], read: ReaderDep) -> PartsDocumentDetailRow:
    own = _own_technician(read.caller)
    return row(PartsDocumentDetailRow, _document(read, "work_order", work_order_id, "Work order", own))


PARTS_CONTROLLERS: list[Any] = [
    Router("/parts", tags=["parts"], route_handlers=[
        command_endpoint("/", CreatePart,
                         "Add a part to the catalogue: part number, name, unit, category, list prices"),
        command_endpoint("/{part_id:uuid}/prices", ChangePartPrices, "Change a part's list prices, with the reason"),
        list_parts, get_part, get_part_movements]),
    Router("/parts-stock", tags=["parts"], route_handlers=[list_parts_stock, export_parts_stock]),
    Router("/purchase-orders", tags=["parts"], route_handlers=[
        command_endpoint("/", CreatePurchaseOrder,
                         "Order parts from a supplier into a warehouse: pending inbound (待入库) until received"),
        command_endpoint("/{order_id:uuid}/receive", ReceivePurchase,
                         "入库: receive what arrived of a purchase order, in part or whole; over-receipt is refused"),
        list_purchase_orders, get_purchase_order]),
    Router("/parts-quotes", tags=["parts"], route_handlers=[
        command_endpoint("/", CreatePartsQuote,
                         "配件报价: parts and prices offered to a customer, valid until a date"),
        command_endpoint("/{quote_id:uuid}/agree", AgreePartsQuote,
                         "The customer agreed the quote; a parts sale can now be made from it"),
        list_parts_quotes, get_parts_quote]),
    Router("/parts-sales", tags=["parts"], route_handlers=[
        command_endpoint("/", CreatePartsSale,
                         "配件销售 from an agreed quote, with its channel and the warehouse that ships it"),
        command_endpoint("/{sale_id:uuid}/submit", SubmitPartsSale,
                         "Submit: a parts outbound reserves the parts and tells the warehouse keeper to ship"),
        command_endpoint("/{sale_id:uuid}/cancel", CancelPartsSale,
                         "Cancel a sale not yet shipped and without money received; its reservations are released"),
        command_endpoint("/{sale_id:uuid}/receipts", RecordPartsSaleReceipt,
                         "收款 for a parts sale; coupons can pay part of it"),
        list_parts_sales, get_parts_sale]),
    Router("/parts-outbounds", tags=["parts"], route_handlers=[
        command_endpoint("/{outbound_id:uuid}/ship", ShipPartsOutbound,
                         "出库: the warehouse keeper ships an outbound, to the customer or to a technician"),
        list_parts_outbounds, get_parts_outbound]),
    Router("/parts-requests", tags=["parts"], route_handlers=[
        command_endpoint("/", RequestParts, "My parts: a technician requests parts into their mobile warehouse "
                                            "(for a job or a work order)"),
        command_endpoint("/{request_id:uuid}/handle", HandlePartsRequest,
                         "紧急采购: fill a request from a warehouse, or by an emergency purchase to the technician or "
                         "to a warehouse"),
        command_endpoint("/{request_id:uuid}/confirm-receipt", ConfirmPartsReceipt,
                         "The technician confirms the parts arrived in their mobile warehouse"),
        list_parts_requests, get_parts_request]),
    Router("/work-orders", tags=["parts"], route_handlers=[
        command_endpoint("/", OpenWorkOrder,
                         "Open a work order: customer, machine serial, job type, technician's mobile warehouse"),
        command_endpoint("/{work_order_id:uuid}/consume", ConsumeParts,
                         "Parts used on the job, from the technician's mobile warehouse"),
        command_endpoint("/{work_order_id:uuid}/complete", CompleteWorkOrder,
                         "The job is done; the work order uses no more parts"),
        list_work_orders, get_work_order]),
]
