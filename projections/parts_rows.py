"""Typed rows of the parts read model's queries (``projections/parts.py``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from domain.organisation import WarehouseKind
from domain.parts import PartCategory
from projections.rows import Row

class PartRow(Row):
    part_id: UUID
    part_no: str
    name: str
    unit: str
    category: PartCategory
    registered_on: date
    last_change_on: date
    purchase_price: Decimal
    sale_price: Decimal


class PartStockRow(Row):
    stock_id: UUID
    part_id: UUID
    part_no: str
    part_name: str | None
    unit: str | None
    category: PartCategory | None
    company_id: UUID
    company_code: str | None
    warehouse_id: UUID
    warehouse_code: str | None
    warehouse_name: str | None
    warehouse_kind: WarehouseKind | None
    technician_name: str | None
    on_hand: int
    reserved: int
    available: int
    pending_in: int
    last_change_on: date


class PartMovementRow(Row):
    warehouse_id: UUID
    warehouse_code: str | None
    seq: int
    day: date
    kind: str
    quantity: int
    on_hand_change: int
    reserved_change: int
    pending_change: int
    on_hand_after: int
    document_kind: str | None
    document_id: UUID | None
    document_number: str | None
    other_warehouse_id: UUID | None
    actor_id: UUID
    command_id: UUID


class PartsDocumentRow(Row):
    """A parts document of any kind; ``kind`` says which and the columns it uses."""

    document_id: UUID
    kind: str
    number: str
    company_id: UUID
    company_code: str | None
    status: str
    warehouse_id: UUID | None
    warehouse_code: str | None
    to_warehouse_id: UUID | None
    to_warehouse_code: str | None
    counterparty: str | None
    customer_id: UUID | None
    technician_id: UUID | None
    channel: str | None
    path: str | None
    source_id: UUID | None
    source_number: str | None
    valid_until: date | None
    serial_number: str | None
    job_type: str | None
    created_on: date
    created_by: UUID
    last_change_on: date
    version: int
    amount: Decimal
    receivable: Decimal
    received: Decimal
    coupons: Decimal
    outstanding: Decimal | None


class PartsDocumentLineRow(Row):
    line_no: int
    part_id: UUID
    part_no: str
    name: str
    quantity: int
    done: int
    unit_price: Decimal


class PartsRequestStepRow(Row):
    seq: int
    day: date
    step: str
    document_kind: str | None
    document_id: UUID | None
    document_number: str | None
    actor_id: UUID


class PartsDocumentDetailRow(PartsDocumentRow, kw_only=True, forbid_unknown_fields=True):
    """One document with its lines."""

    lines: list[PartsDocumentLineRow]


class PartsRequestDetailRow(PartsDocumentDetailRow, kw_only=True, forbid_unknown_fields=True):
    """A technician's request with its lines and every step of its path."""

    steps: list[PartsRequestStepRow]
