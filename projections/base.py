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
                for cls in _with_subclasses(event_class):
                    # The library redefines an aggregate's nested event classes, so one
                    # topic can stand for two class objects: key by the topic's text.
                    self._handlers.setdefault(f"{cls.__module__}:{cls.__qualname__}", method)

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def handles(self, topic: str) -> bool:
        return topic in self._handlers

    def apply(self, cur: Any, event: Any, topic: str) -> None:
        self._handlers[topic](cur, event)


def _with_subclasses(cls: type) -> list[type]:
    """A handler of a base event (e.g. ``ApprovalRequested``) applies every document's
    own subclass of it (``Contract.SubmittedForApproval``) too."""
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(c for c in _with_subclasses(sub) if c not in found)
    return found


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


def visible_filter(scope: Scope, company_column: str, owner_column: str | None = None,
                   own_only: Any = None) -> tuple[str, list[Any]]:
    """Data scope plus, for a salesperson who sees only their own (``own_only`` is
    their user id), the owner condition."""
    where, params = scope_filter(scope, company_column)
    if owner_column and own_only is not None:
        where += f" AND {owner_column} = %s"
        params.append(own_only)
    return where, params


def like_contains(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, with its own wildcards taken literally (ESCAPE '!')."""
    return "%" + text.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def page_bounds(page: int, page_size: int) -> tuple[int, int]:
    return page_size, (page - 1) * page_size
