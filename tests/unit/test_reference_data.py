"""Reference data is cached in memory by every process once read
(application/ledger.py). That is only right while such an aggregate has no
event besides its creation: adding one must fail here first."""

from __future__ import annotations

import inspect

from domain import organisation
from domain.base import DealerAggregate


def _reference_classes() -> list[type[DealerAggregate]]:
    return [c for _, c in inspect.getmembers(organisation, inspect.isclass)
            if issubclass(c, DealerAggregate) and c.is_reference_data]


def test_reference_data_aggregates_have_no_event_but_their_creation():
    classes = _reference_classes()
    assert {c.__name__ for c in classes} == {"Company", "Warehouse", "MachineModel"}
    for cls in classes:
        events = [v for v in vars(cls).values() if isinstance(v, type) and issubclass(v, DealerAggregate.Event)
                  and v is not cls.Event]  # the per-aggregate base class, never stored itself
        assert events, cls
        changing = [e.__qualname__ for e in events if not issubclass(e, DealerAggregate.Created)]
        assert changing == [], f"{cls.__name__} is cached as reference data but can change: {changing}"
