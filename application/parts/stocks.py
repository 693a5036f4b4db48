"""The parts stocks a command moves: found, or opened on first use, and all saved with it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from uuid import UUID

from application.ledger import CommandRunner
from domain import ids
from domain.base import Context
from domain.organisation import Warehouse
from domain.parts import Part, PartStock, part_not_found


class Stocks:
    """The stocks a command touches, opened on first use, all saved with the command."""

    def __init__(self, runner: CommandRunner, ctx: Context) -> None:
        self.runner = runner
        self.ctx = ctx
        self.touched: dict[UUID, PartStock] = {}

    def of(self, warehouse: Warehouse, parts: Iterable[Part]) -> dict[UUID, PartStock]:
        return {part.id: self.one(part.id, warehouse.id, part, warehouse) for part in parts}

    def one(self, part_id: UUID, warehouse_id: UUID, part: Part | None = None,
            warehouse: Warehouse | None = None) -> PartStock:
        """The stock of a part in a warehouse, opened if it has none yet (the part and the
        warehouse are read only then, when not given)."""
        stock_id = ids.part_stock_id(part_id, warehouse_id)
        stock = self.touched.get(stock_id) or self.runner.find(stock_id, PartStock)
        if stock is None:
            part = part or self.runner.find(part_id, Part)
            if part is None:
                raise part_not_found(part_id)
            stock = PartStock.open(self.ctx, part, warehouse or self.runner.get(warehouse_id, Warehouse, "Warehouse"))
        self.touched[stock_id] = stock
        return stock

    def __iter__(self) -> Iterator[PartStock]:
        # A stock opened for this command but left unmoved (e.g. a part of a request not yet
        # shipped to the van) is not saved: stock rows exist where parts moved.
        return iter([s for s in self.touched.values() if not (s.version == 1 and len(s.pending_events) == 1)])


def load_part_stocks(runner: CommandRunner, ctx: Context,
                     keys: Iterable[tuple[UUID, UUID]]) -> dict[tuple[UUID, UUID], PartStock]:
    """The parts stocks (by part and warehouse) a contract's accessory lines move, opened
    on first use."""
    stocks = Stocks(runner, ctx)
    return {(part_id, warehouse_id): stocks.one(part_id, warehouse_id) for part_id, warehouse_id in keys}
