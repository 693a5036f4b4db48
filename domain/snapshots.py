"""Snapshots of aggregates with a long history (a debt accrues penalty every day).

A snapshot is a cache of an aggregate's state at a version: loading reads it and only the
events after it. It is never the record of anything (the events are), so it can be deleted
at any time and taken again.

The library's own snapshot keeps ``vars(aggregate)`` as they are, which JSON cannot carry
faithfully (dataclasses, Decimal, dates, tuples, sets, dicts keyed by ids or tuples). This
one stores the state with its types tagged, and rebuilds exactly the same objects. When an
aggregate's attributes change meaning, raise its ``class_version`` and give it an
``upcast_vN_vN+1(state)`` (the library's rule), or delete its snapshots.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic, resolve_topic


def tag(value: Any) -> Any:
    """A JSON value standing for ``value`` and its type."""
    if value is None or isinstance(value, bool | int | str | float) and not isinstance(value, Enum):
        return value
    if isinstance(value, Enum):
        return {"$e": get_topic(type(value)), "v": value.value}
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, UUID):
        return {"$u": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$t": [tag(v) for v in value]}
    if isinstance(value, list):
        return {"$l": [tag(v) for v in value]}
    if isinstance(value, frozenset):
        return {"$fs": [tag(v) for v in value]}
    if isinstance(value, set):
        return {"$s": [tag(v) for v in value]}
    if isinstance(value, dict):
        return {"$m": [[tag(k), tag(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) or hasattr(value, "__dict__"):
        return {"$o": get_topic(type(value)), "f": {k: tag(v) for k, v in vars(value).items()}}
    raise TypeError(f"A snapshot cannot hold a {type(value).__qualname__}.")


def untag(value: Any) -> Any:
    """The object ``tag`` stood for."""
    if not isinstance(value, dict):
        return value
    (key, payload), *_ = value.items()
    match key:
        case "$e":
            return resolve_topic(payload)(value["v"])
        case "$d":
            return Decimal(payload)
        case "$u":
            return UUID(payload)
        case "$dt":
            return datetime.fromisoformat(payload)
        case "$date":
            return date.fromisoformat(payload)
        case "$t":
            return tuple(untag(v) for v in payload)
        case "$l":
            return [untag(v) for v in payload]
        case "$fs":
            return frozenset(untag(v) for v in payload)
        case "$s":
            return {untag(v) for v in payload}
        case "$m":
            return {untag(k): untag(v) for k, v in payload}
        case "$o":
            obj = object.__new__(resolve_topic(payload))
            for name, field in value["f"].items():
                object.__setattr__(obj, name, untag(field))
            return obj
    raise ValueError(f"Unknown snapshot tag {key!r}.")


class AggregateSnapshot(Snapshot):
    """The state of an aggregate at a version, with its types kept (see the module)."""

    @classmethod
    def take(cls, aggregate: Any) -> AggregateSnapshot:
        plain = Snapshot.take.__func__(Snapshot, aggregate)   # the library's state, untyped
        return cls(originator_id=plain.originator_id, originator_version=plain.originator_version,
                   timestamp=plain.timestamp, topic=plain.topic,
                   state={k: tag(v) for k, v in plain.state.items()})

    def mutate(self, aggregate: None) -> Any:
        typed = Snapshot(originator_id=self.originator_id, originator_version=self.originator_version,
                         timestamp=self.timestamp, topic=self.topic,
                         state={k: v if k == "class_version" else untag(v) for k, v in self.state.items()})
        return typed.mutate(aggregate)
