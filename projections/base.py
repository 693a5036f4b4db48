"""What a read model is: tables, and how each event changes them.

A ``Projection`` never opens a transaction nor decides a position: the runner
gives it a cursor inside the transaction that also advances the read model's
position. It only turns events into SQL on that cursor.

Tables are written with type placeholders (``{uuid}``, ``{money}``, …) so the
same DDL serves SQLite and PostgreSQL. A new table layout is a new ``version``:
the runner drops the tables and rebuilds them from the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from eventsourcing.utils import get_topic

from domain.access import Scope


class Projection:
    name: ClassVar[str]
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[str, ...]]
    ddl: ClassVar[tuple[str, ...]]   # CREATE TABLE / INDEX statements with type placeholders

    def __init__(self) -> None:
        self._handlers: dict[str, Callable[[Any, Any], None]] = {}
        for attr in dir(type(self)):
            method = getattr(self, attr)
            for event_class in getattr(method, "_handles", ()):
                self._handlers[get_topic(event_class)] = method

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def handles(self, topic: str) -> bool:
        return topic in self._handlers

    def apply(self, cur: Any, event: Any, topic: str) -> None:
        self._handlers[topic](cur, event)


def handles(*event_classes: type) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Marks a projection method as the one applying these event classes."""
    def mark(method: Callable[..., None]) -> Callable[..., None]:
        method._handles = event_classes  # type: ignore[attr-defined]
        return method
    return mark


def scope_filter(scope: Scope, column: str) -> tuple[str, list[Any]]:
    """The one place where reads apply a caller's data scope: an SQL condition
    keeping only rows of the companies the caller sees."""
    if scope.all_companies:
        return "1 = 1", []
    if not scope.companies:
        return "1 = 0", []
    companies = sorted(scope.companies)
    return f"{column} IN ({', '.join(['%s'] * len(companies))})", list(companies)


def page_bounds(page: int, page_size: int) -> tuple[int, int]:
    return page_size, (page - 1) * page_size
