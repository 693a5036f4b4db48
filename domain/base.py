"""What every business fact carries, and the errors the domain raises.

Events are stored forever. Each concrete event class is a frozen dataclass
nested on its aggregate; its topic (module:qualname) is what the store keeps,
so classes are never renamed or moved without registering the old topic in
``domain.topics``. A change of meaning is a new ``class_version`` with an
``upcast_vN_vN+1`` static method, never an edit of an old field.
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import normalise_key
from domain.snapshots import AggregateSnapshot


@dataclass(frozen=True)
class Context:
    """Who asks, under which command, for which business date, and why.

    Time enters the domain only from here: the business date is given by the
    caller (or the interface's clock), never read inside domain code.
    """

    actor_id: UUID
    command_id: UUID
    business_date: date
    reason: str | None = None

    def metadata(self, company_id: UUID | None) -> dict[str, Any]:
        return {
            "actor_id": self.actor_id,
            "company_id": company_id,
            "command_id": self.command_id,
            "business_date": self.business_date,
            "reason": self.reason,
        }


class DealerAggregate(Aggregate):
    """Base of every aggregate of the back office."""

    # Reference data is created once and never changed by a later event, so a
    # process may keep it in memory once read (a test holds every such class
    # to having no event but its creation).
    is_reference_data = False

    # Snapshots keep the state's types (see domain.snapshots); which aggregates are
    # snapshotted, and how often, is the event store's choice (application.ledger).
    Snapshot = AggregateSnapshot

    class Event(Aggregate.Event):
        """Every event says who did it, for which member company (None for
        group-wide facts such as users or machine models), under which
        command, on which business date, and why (when a reason applies)."""

        actor_id: UUID
        company_id: UUID | None
        command_id: UUID
        business_date: date
        reason: str | None

    class Created(Event, Aggregate.Created):
        pass

    def _record(self, event_class: type[DealerAggregate.Event], ctx: Context,
                company_id: UUID | None, **fields: Any) -> None:
        self.trigger_event(event_class, **ctx.metadata(company_id), **fields)

    def refuse_second_creation(self) -> DomainError | None:
        """The refusal when another command created the same natural key first; None when
        the collision only means two commands raced on their other aggregates too (the
        command then runs again on what is stored)."""
        return AlreadyExistsError(f"This {type(self).__name__} already exists.")

    @classmethod
    def _start(cls, event_class: type[DealerAggregate.Created], aggregate_id: UUID,
               ctx: Context, company_id: UUID | None, **fields: Any) -> Any:
        return cls._create(event_class, id=aggregate_id, **ctx.metadata(company_id), **fields)


# ---------------------------------------------------------------- errors
class DomainError(Exception):
    """A business rule refused the command. ``code`` is stable for clients."""

    code = "rule-violated"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code


class InvalidValueError(DomainError):
    """A value the business cannot accept (negative, empty, out of range)."""

    code = "invalid-value"


class NotFoundError(DomainError):
    """Unknown id, or an id outside the caller's data scope (never told apart)."""

    code = "not-found"


class AlreadyExistsError(DomainError):
    """A natural key (serial number, code, user name) is taken."""

    code = "already-exists"


class PermissionDeniedError(DomainError):
    """The caller's roles do not allow this act."""

    code = "forbidden"


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def require_text(value: str, field: str, max_length: int = 200) -> str:
    """Trimmed, non-empty text of at most ``max_length`` characters, without control
    characters (tabs and line breaks allowed): what a clerk can type and a report print."""
    text = (value or "").strip()
    if not text:
        raise InvalidValueError(f"{field} must not be empty.", field=field)
    if CONTROL_CHARACTERS.search(text):
        raise InvalidValueError(f"{field} contains a control character; type it again as plain text.",
                                field=field)
    if len(text) > max_length:
        raise InvalidValueError(f"{field} is longer than {max_length} characters.", field=field)
    return text


def require_key(value: str, field: str, max_length: int) -> str:
    """A code or serial number as stored: checked as text, normalised (no spaces,
    upper case), and only then held to its length, since upper-casing can lengthen
    it ('ß' becomes 'SS')."""
    key = normalise_key(require_text(value, field, max_length))
    if len(key) > max_length:
        raise InvalidValueError(f"{field} is longer than {max_length} characters.", field=field)
    return key
