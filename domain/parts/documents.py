"""What every parts document shares: the reference a movement names, part lines and
quantities, document numbers, and the warehouses a document may use.

Part of ``domain.parts``: the aggregates and the values their state and events hold keep
``__module__ = "domain.parts"``, the module of their stored topics (see the package's ``__init__``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from domain.base import Context, InvalidValueError
from domain.money import require_money
from domain.organisation import Company, Warehouse, WarehouseKind
from domain.parts.catalogue import Part
from domain.parts.errors import WarehouseNotUsableError

MAX_QUANTITY = 100_000
MAX_LINES = 50


class DocumentKind(StrEnum):
    __module__ = "domain.parts"
    PURCHASE_ORDER = "purchase_order"
    PARTS_OUTBOUND = "parts_outbound"
    PARTS_SALE = "parts_sale"
    PARTS_REQUEST = "parts_request"
    WORK_ORDER = "work_order"
    CONTRACT = "contract"


class Numbered(Protocol):
    """A parts document as another one names it: its id and its number."""

    @property
    def id(self) -> UUID: ...

    @property
    def number(self) -> str: ...


@dataclass(frozen=True)
class DocumentRef:
    """The document that moved parts: what a movement history names."""

    __module__ = "domain.parts"
    kind: DocumentKind
    document_id: UUID
    number: str


def require_quantity(quantity: int, field: str) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidValueError(f"{field} is a whole number between 1 and {MAX_QUANTITY}.", field=field)
    return quantity


def _require_lines(lines: Sequence, field: str = "lines") -> None:
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidValueError(f"A document has between 1 and {MAX_LINES} lines.", field=field)


def _no_repeats(part_ids: Sequence[UUID], part_nos: Sequence[str], field: str = "lines") -> None:
    if len(set(part_ids)) != len(part_ids):
        seen: set[UUID] = set()
        for part_id, part_no in zip(part_ids, part_nos, strict=True):
            if part_id in seen:
                raise InvalidValueError(f"Part {part_no} is on two lines; put its whole quantity on one.",
                                        field=field)
            seen.add(part_id)


def document_number(prefix: str, company: Company, ctx: Context, document_id: UUID) -> str:
    """e.g. PO-HF-20260315-3FA2C1: kind, company, business date, and the id's first digits."""
    return f"{prefix}-{company.code}-{ctx.business_date:%Y%m%d}-{document_id.hex[:6].upper()}"


@dataclass(frozen=True)
class PartLine:
    """A part and a quantity (and a price where the document has one) on a document."""

    __module__ = "domain.parts"
    line_no: int
    part_id: UUID
    part_no: str
    name: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


def part_lines(lines: Sequence[tuple[Part, int, Decimal | None]], *, use_sale_price: bool) -> tuple[PartLine, ...]:
    """Lines as typed: (part, quantity, unit price or None for the catalogue's price)."""
    _require_lines(lines)
    _no_repeats([p.id for p, _, _ in lines], [p.part_no for p, _, _ in lines])
    out = []
    for n, (part, quantity, price) in enumerate(lines, 1):
        if price is None:
            price = part.sale_price if use_sale_price else part.purchase_price
        out.append(PartLine(n, part.id, part.part_no, part.name, require_quantity(quantity, f"lines[{n}].quantity"),
                            require_money(price, f"lines[{n}].unit_price")))
    return tuple(out)


def _warehouse_of(company_id: UUID, warehouse: Warehouse, *, mobile: bool | None, field: str) -> None:
    if warehouse.company_id != company_id:
        raise WarehouseNotUsableError(f"Warehouse {warehouse.code} belongs to another member company.", field=field)
    if mobile is True and warehouse.kind != WarehouseKind.MOBILE:
        raise WarehouseNotUsableError(f"Warehouse {warehouse.code} is not a technician's mobile warehouse.",
                                      field=field)
    if mobile is False and warehouse.kind == WarehouseKind.MOBILE:
        raise WarehouseNotUsableError(f"Warehouse {warehouse.code} is a technician's mobile warehouse; choose a "
                                      "main or parts warehouse.", field=field)
