"""Machine units in stock: received by serial number, transferred between warehouses."""

from application.stock.handlers import StockService

__all__ = ["StockService"]
