"""The history of an aggregate as an auditor reads it: every event, in order, in plain words."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from application.caller import SYSTEM_ACTOR, Caller
from application.ledger import CommandRunner
from domain import ids
from domain.access import Permission, User
from domain.base import DealerAggregate, NotFoundError
from domain.contracts import Contract
from domain.machines import MachineUnit
from domain.receivables import Debt

class HistoryEvent(msgspec.Struct, kw_only=True):
    """One event of an aggregate's history, as an auditor reads it."""

    version: int
    event: str
    business_date: date | None
    recorded_at: datetime
    actor_id: UUID
    actor: str
    company_id: UUID | None
    command_id: UUID | None
    reason: str | None
    data: dict[str, Any]


class MachinePassage(msgspec.Struct, kw_only=True):
    """One contract a machine passed through: when it was reserved or swapped in, and what became of it."""

    contract_id: UUID
    contract_number: str
    reserved_on: date | None
    swapped_in_on: date | None
    dispatched_on: date | None
    released_on: date | None
    swapped_out_on: date | None
    reason: str | None


class MachineHistory(msgspec.Struct, kw_only=True):
    serial_number: str
    contracts: list[MachinePassage]
    events: list[HistoryEvent]


class AggregateHistory(msgspec.Struct, kw_only=True):
    """Every event of a contract or of its receivable, in order."""

    contract_id: UUID
    events: list[HistoryEvent]


_BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor_id",
                "company_id", "command_id", "business_date", "reason"}


class HistoryService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    def machine_history(self, caller: Caller, serial_number: str) -> list[dict[str, Any]]:
        caller.require(Permission.VIEW_HISTORY)
        unit = self.runner.get_in_scope(caller, ids.machine_unit_id(serial_number), MachineUnit,
                                        f"Machine {ids.normalise_key(serial_number)}")
        return self.events_of(unit.id)

    def contract_history(self, caller: Caller, contract_id: UUID) -> list[dict[str, Any]]:
        """A salesperson reads the history of their own contracts; the rest need sight of all sales."""
        caller.require(Permission.VIEW_CONTRACTS)
        self.runner.get_in_scope(caller, contract_id, Contract, f"Contract {contract_id}")
        return self.events_of(contract_id)

    def receivable_history(self, caller: Caller, contract_id: UUID) -> list[dict[str, Any]]:
        """Every event of a contract's receivable: opening, schedule, receipts and their
        confirmation, penalty accruals and corrections, reversals."""
        caller.require(Permission.VIEW_RECEIVABLES)
        debt = self.runner.find(ids.debt_id(contract_id), Debt)
        if debt is None or not caller.sees(debt.company_id, debt.owner_id):
            raise NotFoundError(f"Contract {contract_id} has no receivable (it is not approved, or not yours to "
                                "see).", code="receivable-not-found")
        return self.events_of(debt.id)

    def events_of(self, aggregate_id: UUID) -> list[dict[str, Any]]:
        names: dict[UUID, str] = {}
        return [self._describe(event, names) for event in self.runner.ledger.events.get(aggregate_id)]

    def _actor_name(self, actor_id: UUID, names: dict[UUID, str]) -> str:
        if actor_id not in names:
            if actor_id == SYSTEM_ACTOR:
                names[actor_id] = "system"
            else:
                user = self.runner.find(actor_id, User)
                names[actor_id] = user.username if user else str(actor_id)
        return names[actor_id]

    def _describe(self, event: DealerAggregate.Event, names: dict[UUID, str]) -> dict[str, Any]:
        kind = type(event).__qualname__
        return {
            "version": event.originator_version,
            "event": kind,
            "business_date": event.business_date,
            "recorded_at": event.timestamp,
            "actor_id": event.actor_id,
            "actor": self._actor_name(event.actor_id, names),
            "company_id": event.company_id,
            "command_id": event.command_id,
            "reason": event.reason,
            "data": {f.name: getattr(event, f.name) for f in fields(event) if f.name not in _BASE_FIELDS
                     and "password" not in f.name},
        }


_MACHINE_ON_CONTRACT = {"MachineUnit.Reserved": "reserved_on", "MachineUnit.ReservationReleased": "released_on",
                        "MachineUnit.Dispatched": "dispatched_on", "MachineUnit.SwappedIn": "swapped_in_on",
                        "MachineUnit.SwappedOut": "swapped_out_on"}


def contracts_of_machine(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every contract a machine passed through, from its described history: each time
    it was reserved for one (or swapped in), and what became of it, in order."""
    passages: list[dict[str, Any]] = []
    for event in events:
        step = _MACHINE_ON_CONTRACT.get(event["event"])
        if step is None:
            continue
        data = event["data"]
        if step in ("reserved_on", "swapped_in_on"):
            passages.append({"contract_id": data["contract_id"], "contract_number": data["contract_number"],
                             "reserved_on": None, "swapped_in_on": None, "dispatched_on": None,
                             "released_on": None, "swapped_out_on": None, "reason": None})
        passage = passages[-1]
        passage[step] = event["business_date"]
        if step in ("released_on", "swapped_out_on"):
            passage["reason"] = event["reason"]
    return passages
