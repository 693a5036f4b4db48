"""Parts (配件): the catalogue, stock per warehouse, purchase and receiving, quotes and
sales, parts outbounds, technicians' requests and work orders.

Stock of one part in one warehouse is its own aggregate (``PartStock``), so every
document that moves parts saves the stock it touched in its own transaction:

    purchase order placed ─▶ pending inbound (待入库) ─▶ received (part or whole)
    parts sale submitted ─▶ parts outbound (reserves) ─▶ shipped by the warehouse keeper
    technician's request ─▶ handled one of three ways (紧急采购):
        1. from a warehouse:       outbound ─▶ shipped ─▶ technician confirms receipt
        2. purchase to technician: purchase order to the mobile warehouse ─▶ technician confirms
        3. purchase to warehouse:  purchase order ─▶ received (and reserved) ─▶ outbound
                                   ─▶ shipped ─▶ technician confirms receipt
    work order ─▶ parts consumed from the technician's mobile warehouse (移动库)

Two outbounds racing for the last units both write the same stock's next version;
the store lets one through and the other runs again on what is left and is refused.
Quantities are whole units (pieces, sets, barrels): the catalogue's unit says which.
"""

# Why a package whose aggregates, values and errors say ``__module__ = "domain.parts"``: the store
# keeps each event's topic (``domain.parts:PartStock.Received``), each creation event its
# aggregate's topic, and each snapshot the topics of the values and enums in the aggregate's
# state (``domain.snapshots``). Stored topics are forever, so they name this package, and the
# file inside it that defines a class is an implementation detail: the aggregates, values and
# errors keep ``__module__ = "domain.parts"`` (the library gives the nested event classes their
# aggregate's module) and are imported here, where ``resolve_topic`` finds them.
# tests/unit/test_event_topics.py pins every topic (tests/unit/test_values.py finds the errors by
# this module name). The helper functions keep their own modules.
#
# Since the values' module is this one, their (postponed) annotations are resolved here, e.g. by
# msgspec decoding an event's payload: the names they use (date, Decimal, UUID, CouponUse and the
# enums) must be importable from this module.

from __future__ import annotations

from datetime import date  # noqa: F401  (resolves the values' annotations, see above)
from decimal import Decimal  # noqa: F401
from uuid import UUID  # noqa: F401

from domain.coupons import CouponUse  # noqa: F401
from domain.parts.errors import (InsufficientPartStockError, NotYourMobileWarehouseError, OverReceiptError,
                                 PartsDocumentStateError, WarehouseNotUsableError)
from domain.parts.catalogue import Part, PartCategory, part_not_found
from domain.parts.documents import (MAX_LINES, MAX_QUANTITY, DocumentKind, DocumentRef, PartLine, document_number,
                                    part_lines, require_quantity)
from domain.parts.stock import PartStock, stock_key
from domain.parts.purchase import PurchaseOrder, PurchaseStatus, ReceivedLine
from domain.parts.outbound import OutboundState, PartsOutbound
from domain.parts.sales import PartsQuote, PartsSale, QuoteStatus, SaleChannel, SalePayment, SaleStatus
from domain.parts.work_order import ConsumedLine, JobType, WorkOrder
from domain.parts.request import PartsRequest, RequestPath, RequestStatus, check_technician

__all__ = [
    # documents
    "MAX_LINES", "MAX_QUANTITY", "DocumentKind", "DocumentRef", "PartLine", "document_number", "part_lines",
    "require_quantity",
    # refusals
    "InsufficientPartStockError", "NotYourMobileWarehouseError", "OverReceiptError", "PartsDocumentStateError",
    "WarehouseNotUsableError",
    # the catalogue
    "Part", "PartCategory", "part_not_found",
    # stock
    "PartStock", "stock_key",
    # purchase
    "PurchaseOrder", "PurchaseStatus", "ReceivedLine",
    # quotes and sales
    "PartsQuote", "PartsSale", "QuoteStatus", "SaleChannel", "SalePayment", "SaleStatus",
    # the parts outbound
    "OutboundState", "PartsOutbound",
    # technicians
    "PartsRequest", "RequestPath", "RequestStatus", "check_technician",
    "ConsumedLine", "JobType", "WorkOrder",
]
