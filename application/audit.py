"""For auditors: the history of any business object and its state as of any past moment.

An object is named by its kind and its key as clerks know it: a contract or receivable
by the contract's id, a machine by its serial number, a coupon by its code, the others
by their id. It is found within the caller's data scope like everything else (outside
it answers "not found"); users, positions, models and rules belong to the whole group
and need the right to see the history of the whole group.

The state as of a time or a version is the object rebuilt from its own events up to
then, shown field by field: "what did contract X look like on 2026-03-01, before its
un-approval".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec

from application.caller import Caller
from application.history import HistoryEvent, HistoryService
from application.ledger import CommandRunner
from domain import ids
from domain.access import Permission, Position, User
from domain.approvals import ApprovalRule
from domain.base import DealerAggregate, InvalidValueError, NotFoundError
from domain.collection import CollectionApplication
from domain.contracts import Contract
from domain.coupons import Coupon
from domain.customers import Contact, Customer
from domain.machines import MachineUnit
from domain.organisation import Company, MachineModel, Warehouse
from domain.parts import Part, PartsRequest, PartsSale, PurchaseOrder, WorkOrder
from domain.receivables import Debt, PenaltyPolicy

# kind → (class, how the key becomes the aggregate id)
KINDS: dict[str, tuple[type[DealerAggregate], Callable[[str], UUID]]] = {
    "contract": (Contract, UUID),
    "receivable": (Debt, lambda key: ids.debt_id(UUID(key))),
    "machine": (MachineUnit, ids.machine_unit_id),
    "coupon": (Coupon, ids.coupon_id),
    "customer": (Customer, UUID),
    "contact": (Contact, UUID),
    "collection-application": (CollectionApplication, UUID),
    "penalty-policy": (PenaltyPolicy, lambda key: ids.penalty_policy_id(UUID(key))),
    "company": (Company, UUID),
    "warehouse": (Warehouse, UUID),
    "machine-model": (MachineModel, UUID),
    "user": (User, UUID),
    "position": (Position, UUID),
    "approval-rule": (ApprovalRule, UUID),
    "part": (Part, ids.part_id),
    "purchase-order": (PurchaseOrder, UUID),
    "parts-sale": (PartsSale, UUID),
    "parts-request": (PartsRequest, UUID),
    "work-order": (WorkOrder, UUID),
}
_SECRET = ("password", "secret", "token")


class AuditHistory(msgspec.Struct, kw_only=True):
    """Every event of an object, in order (``AuditService.history_of`` as a type)."""

    kind: str
    key: str
    aggregate_id: UUID
    version: int
    events: list[HistoryEvent]

    @classmethod
    def of(cls, found: dict[str, Any]) -> AuditHistory:
        return cls(**{**found, "events": [HistoryEvent(**e) for e in found["events"]]})


class StateAsOf(msgspec.Struct, kw_only=True):
    """An object as it was at a version (``AuditService.state_as_of`` as a type): its fields as plain values."""

    kind: str
    key: str
    aggregate_id: UUID
    version: int
    latest_version: int
    as_of_event: str
    recorded_at: datetime
    business_date: date | None
    state: dict[str, Any]

    @classmethod
    def of(cls, found: dict[str, Any]) -> StateAsOf:
        return cls(**found)


class AuditService:
    def __init__(self, runner: CommandRunner, history: HistoryService) -> None:
        self.runner = runner
        self.history = history

    def history_of(self, caller: Caller, kind: str, key: str) -> dict[str, Any]:
        aggregate = self._find(caller, kind, key)
        return {"kind": kind, "key": key, "aggregate_id": aggregate.id, "version": aggregate.version,
                "events": self.history.events_of(aggregate.id)}

    def state_as_of(self, caller: Caller, kind: str, key: str, at: datetime | None = None,
                    version: int | None = None) -> dict[str, Any]:
        """The object rebuilt from its events up to ``version``, or up to the last event
        recorded at or before ``at`` (neither: its current state)."""
        if at is not None and version is not None:
            raise InvalidValueError("Ask for a time or a version, not both.", field="at")
        if at is not None and at.tzinfo is None:
            raise InvalidValueError("The time needs a time zone, e.g. 2026-03-01T18:00:00+08:00.", field="at")
        current = self._find(caller, kind, key)
        events = list(self.runner.ledger.events.get(current.id))
        if at is not None:
            earlier = [e for e in events if e.timestamp <= at]
            if not earlier:
                raise NotFoundError(f"The {kind} {key} did not exist yet at {at.isoformat()}.",
                                    code="not-yet-recorded")
            version = earlier[-1].originator_version
        if version is not None and not 1 <= version <= current.version:
            raise InvalidValueError(f"The {kind} {key} has versions 1 to {current.version}.", field="version")
        aggregate: Any = current
        if version is not None:     # rebuilt from the events already read, up to that version
            aggregate = None
            for event in events[:version]:
                aggregate = event.mutate(aggregate)
        last = events[aggregate.version - 1]
        return {"kind": kind, "key": key, "aggregate_id": aggregate.id, "version": aggregate.version,
                "latest_version": current.version, "as_of_event": type(last).__qualname__,
                "recorded_at": last.timestamp, "business_date": last.business_date,
                "state": plain_state(aggregate)}

    def _find(self, caller: Caller, kind: str, key: str) -> DealerAggregate:
        caller.require(Permission.VIEW_HISTORY)
        if kind not in KINDS:
            raise InvalidValueError(f"Unknown kind {kind!r}; one of {', '.join(KINDS)}.", field="kind")
        cls, to_id = KINDS[kind]
        try:
            aggregate_id = to_id(key.strip())
        except ValueError:
            aggregate_id = None
        aggregate = self.runner.find(aggregate_id, cls) if aggregate_id is not None else None
        company_id = getattr(aggregate, "company_id", None)
        owner_id = getattr(aggregate, "owner_id", None)
        visible = aggregate is not None and (caller.sees(company_id, owner_id) if company_id is not None
                                             else caller.scope.all_companies)
        if not visible:
            raise NotFoundError(f"No {kind} {key} (or not yours to see).", code="not-found")
        return aggregate


def plain_state(aggregate: DealerAggregate) -> dict[str, Any]:
    """An aggregate's fields as plain JSON values, secrets left out."""
    return {name: _plain(value) for name, value in sorted(vars(aggregate).items())
            if not name.startswith("_") and not any(word in name for word in _SECRET)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
