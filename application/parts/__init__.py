"""Parts (配件): catalogue, purchase and receiving, quotes, sales and their receipts, parts
outbounds, technicians' requests (紧急采购) and work orders."""

from application.parts.handlers import PartsService
from application.parts.stocks import load_part_stocks

__all__ = ["PartsService", "load_part_stocks"]
