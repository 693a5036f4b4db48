"""What a list page reads from its URL: filters, page and page size, each checked, so that
a hand-edited address shows an empty or default list rather than an error."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response

from domain.base import CONTROL_CHARACTERS
from interfaces.http.kit import EARLIEST, LATEST, csv_response

PAGE_SIZES = (20, 50, 100)


class ListQuery:
    def __init__(self, request: Request, filters: Iterable[str], page_size: int = 50) -> None:
        self.names = tuple(filters)
        params = request.query_params
        self.values: dict[str, str] = {}
        for name in self.names:
            value = (params.get(name) or "").strip()
            if value and len(value) <= 100 and not CONTROL_CHARACTERS.search(value):
                self.values[name] = value
        self.page = _int(params.get("page"), 1, 1, 1_000_000)
        size = _int(params.get("page_size"), page_size, 1, 500)
        self.page_size = size if size in PAGE_SIZES else page_size

    def text(self, name: str) -> str | None:
        return self.values.get(name)

    def uuid(self, name: str) -> UUID | None:
        try:
            return UUID(self.values[name]) if name in self.values else None
        except ValueError:
            return None

    def day(self, name: str) -> date | None:
        try:
            value = date.fromisoformat(self.values[name]) if name in self.values else None
        except ValueError:
            return None
        return value if value is None or EARLIEST <= value <= LATEST else None

    def flag(self, name: str) -> bool:
        return self.values.get(name) in ("on", "true", "1")

    def __call__(self, **changes: Any) -> str:
        """This list's query string with some values changed (paging links)."""
        values: dict[str, Any] = dict(self.values) | {"page": self.page}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})

    def filters_only(self) -> str:
        return urlencode(self.values)


def _int(value: str | None, default: int, low: int, high: int) -> int:
    if value is None or not value.isdigit():
        return default
    return min(max(int(value), low), high)


def csv_download(columns: tuple[str, ...], found: Iterable[dict[str, Any]], filename: str) -> Response[str]:
    return csv_response(columns, found, filename)
