"""Given / when / then for aggregates, without a store.

- **given**: an aggregate rebuilt from the events of the commands that made it
  (exactly as the event store would rebuild it), with nothing pending;
- **when**: one command;
- **then**: the events it recorded (``then_events``), or the refusal and no
  event at all (``then_refused``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from domain.base import Context, DealerAggregate, DomainError
from interfaces.http.errors import status_of

A = TypeVar("A", bound=DealerAggregate)

ACTOR = UUID("11111111-1111-5111-8111-111111111111")
BUSINESS_DATE = date(2026, 3, 2)


def ctx(reason: str | None = None, actor: UUID = ACTOR, day: date = BUSINESS_DATE) -> Context:
    return Context(actor_id=actor, command_id=uuid4(), business_date=day, reason=reason)


def given(aggregate: A) -> A:
    """The aggregate as the store would give it back: rebuilt from its events."""
    events = aggregate.collect_events()
    assert events, "given needs an aggregate with recorded events"
    rebuilt: Any = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    assert type(rebuilt) is type(aggregate) and rebuilt.version == aggregate.version
    return rebuilt


def then_events(aggregate: DealerAggregate, *expected: type) -> list[Any]:
    events = list(aggregate.collect_events())
    assert [type(e) for e in events] == list(expected)
    return events


def then_metadata(event: Any, context: Context, company_id: UUID | None) -> None:
    assert (event.actor_id, event.command_id, event.business_date, event.reason, event.company_id) == (
        context.actor_id, context.command_id, context.business_date, context.reason, company_id)


def then_refused(aggregate: DealerAggregate | None, when: Callable[[], Any], error: type[DomainError],
                 code: str, status: int) -> DomainError:
    before = aggregate.version if aggregate is not None else None
    with pytest.raises(error) as refused:
        when()
    assert (refused.value.code, status_of(refused.value)) == (code, status)  # status: the HTTP table's
    assert refused.value.message, "a refusal says why, in words a clerk can act on"
    if aggregate is not None:
        assert list(aggregate.collect_events()) == [] and aggregate.version == before
    return refused.value
