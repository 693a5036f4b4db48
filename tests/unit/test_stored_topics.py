"""Stored events are forever: the topic of every event class is pinned here.

A rename or move of a class changes its topic and fails the first test, until
the old topic is registered in ``domain/topics.py``. A new event class fails it
too, until its topic is added below on purpose."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

import domain
from domain.base import DealerAggregate

PINNED = {
    "domain.organisation:Company.Created",
    "domain.organisation:Warehouse.Created",
    "domain.organisation:MachineModel.Registered",
    "domain.machines:MachineUnit.Received",
    "domain.machines:MachineUnit.Transferred",
    "domain.access:Position.Created",
    "domain.access:Position.CompaniesChanged",
    "domain.access:User.Created",
    "domain.access:User.RoleGranted",
    "domain.access:User.RoleRevoked",
    "domain.access:User.PositionAssigned",
    "domain.access:User.PositionUnassigned",
    "domain.access:User.PasswordChanged",
    "domain.commands:CommandRecord.Recorded",
}


def _aggregates() -> set[type[DealerAggregate]]:
    found = set()
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DealerAggregate) and cls is not DealerAggregate and cls.__module__ == module.__name__:
                found.add(cls)
    return found


def _stored_event_classes() -> set[type]:
    events = set()
    for aggregate in _aggregates():
        mine = {value for value in vars(aggregate).values()
                if isinstance(value, type) and issubclass(value, Aggregate.Event)
                and value is not aggregate.Event and value.__module__ == aggregate.__module__}
        # The library gives every aggregate a default ``Created`` class; where the
        # aggregate names its own creation event (Received, Registered, …) that
        # default is never recorded, so it is no stored topic.
        creations = {e for e in mine if issubclass(e, Aggregate.Created)}
        if len(creations) > 1:
            mine -= {e for e in creations if e.__name__ == "Created" and not e.__dict__.get("__annotations__")}
        events |= mine
    return events


def test_every_stored_event_class_has_its_topic_pinned():
    assert {get_topic(cls) for cls in _stored_event_classes()} == PINNED


def test_the_aggregates_are_the_ones_expected():
    assert {get_topic(cls) for cls in _aggregates()} == {
        "domain.organisation:Company", "domain.organisation:Warehouse", "domain.organisation:MachineModel",
        "domain.machines:MachineUnit", "domain.access:Position", "domain.access:User",
        "domain.commands:CommandRecord"}


def test_every_pinned_topic_resolves_to_its_event_class():
    for topic in PINNED:
        cls = resolve_topic(topic)
        assert issubclass(cls, DealerAggregate.Event) and get_topic(cls) == topic


def test_every_stored_event_carries_the_business_metadata():
    metadata = {"actor_id", "company_id", "command_id", "business_date", "reason"}
    assert metadata <= set(inspect.get_annotations(DealerAggregate.Event))
    outside = [cls.__qualname__ for cls in _stored_event_classes() if not issubclass(cls, DealerAggregate.Event)]
    assert outside == [], f"events without actor, company, command, business date and reason: {outside}"
