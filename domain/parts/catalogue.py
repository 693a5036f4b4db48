"""The catalogue (配件档案): ``Part``, by part number, group-wide.

Part of ``domain.parts``: the aggregates and the values their state and events hold keep
``__module__ = "domain.parts"``, the module of their stored topics (see the package's ``__init__``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain import ids
from domain.base import Context, DealerAggregate, DomainError, NotFoundError, require_key, require_text
from domain.money import require_money


class PartCategory(StrEnum):
    __module__ = "domain.parts"
    ENGINE = "engine"
    HYDRAULIC = "hydraulic"
    ELECTRICAL = "electrical"
    UNDERCARRIAGE = "undercarriage"
    FILTER = "filter"
    OIL = "oil"                  # oils and greases
    WEAR = "wear"                # bucket teeth, cutting edges
    ACCESSORY = "accessory"      # 附件 sold with machines (breakers, buckets)
    OTHER = "other"


# ---------------------------------------------------------------- the catalogue
class Part(DealerAggregate):
    """A part of the group's catalogue (配件档案), by part number. Group-wide."""

    __module__ = "domain.parts"

    class Registered(DealerAggregate.Created):
        part_no: str
        name: str
        unit: str
        category: PartCategory
        purchase_price: Decimal
        sale_price: Decimal

        def apply(self, part: Part) -> None:
            part.part_no = self.part_no
            part.name = self.name
            part.unit = self.unit
            part.category = self.category
            part.purchase_price = self.purchase_price
            part.sale_price = self.sale_price

    class PricesChanged(DealerAggregate.Event):
        """New list prices from the business date on; ``reason`` says why."""

        purchase_price: Decimal
        sale_price: Decimal

        def apply(self, part: Part) -> None:
            part.purchase_price = self.purchase_price
            part.sale_price = self.sale_price

    def refuse_second_creation(self) -> DomainError:
        return DomainError(f"Part number {self.part_no} is already in the catalogue.", code="part-exists")

    @classmethod
    def register(cls, ctx: Context, part_no: str, name: str, unit: str, category: PartCategory,
                 purchase_price: Decimal, sale_price: Decimal) -> Part:
        key = require_key(part_no, "part_no", 40)
        return cls._start(cls.Registered, ids.part_id(key), ctx, None, part_no=key,
                          name=require_text(name, "name", 200), unit=require_text(unit, "unit", 20),
                          category=PartCategory(category),
                          purchase_price=require_money(purchase_price, "purchase_price"),
                          sale_price=require_money(sale_price, "sale_price"))

    def change_prices(self, ctx: Context, purchase_price: Decimal, sale_price: Decimal) -> None:
        purchase = require_money(purchase_price, "purchase_price")
        sale = require_money(sale_price, "sale_price")
        require_text(ctx.reason or "", "reason", 500)
        if (purchase, sale) == (self.purchase_price, self.sale_price):
            raise DomainError(f"Part {self.part_no} already has these prices.", code="nothing-changed")
        self._record(self.PricesChanged, ctx, None, purchase_price=purchase, sale_price=sale)


def part_not_found(part_id: UUID) -> NotFoundError:
    return NotFoundError(f"Part {part_id} is not in the catalogue.", code="part-not-found")
