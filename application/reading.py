"""The one way a question is answered: declared once, asked through a ``Reader``.

A query declares which read model answers it, the permission it needs and the scope rule
of its rows::

    LIST_CUSTOMERS = Reads("customers", Permission.VIEW_CUSTOMERS, ScopeRule.OWN_SALES)

The read side (``interfaces.persistence.read_side``) checks the permission, waits until the
read model has the caller's last command (``?after=``), and hands a ``Reader`` that calls
the read model's query function with the caller's scope as the rule says. Queries read
views only; commands read aggregates only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, TypeVar

import msgspec

from application.caller import Caller
from domain.access import Permission
from domain.base import DomainError, PermissionDeniedError

R = TypeVar("R")


class ScopeRule(Enum):
    """Which rows of a read model a caller sees."""

    GROUP = "group"            # group-wide reference data (models, users): everyone with the permission
    COMPANIES = "companies"    # rows of the member companies of the caller's positions
    OWN_SALES = "own-sales"    # …and a salesperson only their own customers, contacts and contracts


@dataclass(frozen=True)
class Reads:
    """A query's declaration: the read model that answers it, its permission, its scope rule,
    and (``any_of``) roles' acts of which the caller must hold one, with the sentence that
    refuses the others (the parts office's documents: not a technician's, not a salesperson's)."""

    read_model: str
    permission: Permission | None
    scope: ScopeRule = ScopeRule.COMPANIES
    any_of: frozenset[Permission] = frozenset()
    refusal: str = ""

    def require(self, caller: Caller) -> None:
        if self.permission is not None:
            caller.require(self.permission)
        if self.any_of and not any(caller.may(p) for p in self.any_of):
            raise PermissionDeniedError(self.refusal or "Your roles do not show this.",
                                        permission=str(sorted(self.any_of)[0]))


class ReadModelBehindError(DomainError):
    """The read model has not yet applied the position the caller asked to wait for."""

    code = "read-model-behind"


class Reader:
    """Asks a read model's query functions, within the caller's scope.

    ``reader(fn, *args)`` calls ``fn(cur, *args)`` for group-wide data, ``fn(cur, scope,
    *args)`` by companies, and ``fn(cur, scope, own_only, *args)`` for own sales, inside
    one read transaction."""

    def __init__(self, caller: Caller, spec: Reads, cursor: Callable[[], AbstractContextManager[Any]]) -> None:
        self.caller = caller
        self.spec = spec
        self._cursor = cursor

    def scoped(self) -> tuple[Any, ...]:
        if self.spec.scope is ScopeRule.GROUP:
            return ()
        if self.spec.scope is ScopeRule.COMPANIES:
            return (self.caller.scope,)
        return (self.caller.scope, self.caller.own_only)

    def __call__(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        with self._cursor() as cur:
            result = fn(cur, *self.scoped(), *args, **kwargs)
            if isinstance(result, Iterator):   # an export streams rows: read them inside the transaction
                result = list(result)  # type: ignore[assignment]
            return result

    def cursor(self) -> AbstractContextManager[Any]:
        """For a question asked of several query functions in one transaction."""
        return self._cursor()


# ---------------------------------------------------------------- typed answers
T = TypeVar("T", bound=msgspec.Struct)


def rows(kind: type[T], values: Iterable[Mapping[str, Any]]) -> list[T]:
    """Read-model rows (dicts) as typed rows."""
    return msgspec.convert(list(values), list[kind], strict=False)


def row(kind: type[T], value: Mapping[str, Any]) -> T:
    return msgspec.convert(value, kind, strict=False)


@cache
def page_of(kind: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """The page of a list: ``items`` of ``kind``, the ``total`` matching, ``page`` and ``page_size``."""
    return msgspec.defstruct(f"{kind.__name__}Page", [("items", list[kind]), ("total", int), ("page", int),
                                                      ("page_size", int)],
                             kw_only=True, module=kind.__module__)


def paged(kind: type[T], found: tuple[Iterable[Mapping[str, Any]], int], page: int, page_size: int) -> Any:
    items, total = found
    return page_of(kind)(items=rows(kind, items), total=total, page=page, page_size=page_size)


@cache
def list_of(kind: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """An unpaged list: ``items`` of ``kind`` and their ``total``."""
    return msgspec.defstruct(f"{kind.__name__}List", [("items", list[kind]), ("total", int)],
                             kw_only=True, module=kind.__module__)


def listed(kind: type[T], items: Iterable[Mapping[str, Any]]) -> Any:
    typed = rows(kind, items)
    return list_of(kind)(items=typed, total=len(typed))
