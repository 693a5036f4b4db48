"""The event store of the back office and the one way commands are recorded.

One eventsourcing ``Application`` holds every aggregate of the dealer's
business. The business needs atomic saves across what would otherwise be
separate contexts (a machine swap changes a contract and two units; a receipt
that redeems a coupon changes the debt and the coupon), and a single
notification log gives every read model one total order to follow.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
import logging
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.caller import Caller
from application.handling import Answer, Command, CommandContext, HandlerSpec, Outcome, handlers_of
from domain import ids
from domain.base import Context, DealerAggregate, DomainError, NotFoundError, PermissionDeniedError
from domain.commands import CommandRecord
from domain.organisation import Company
from domain.parts import PartStock
from domain.receivables import Debt

A = TypeVar("A", bound=DealerAggregate)
logger = logging.getLogger(__name__)


class ReadOnlyCallerError(PermissionDeniedError):
    code = "read-only"


class ConcurrentChangeError(DomainError):
    code = "concurrent-change"


class IronLedger(Application):
    """The event store. ``name`` fixes the table names for ever (``ironledger_events``,
    ``ironledger_snapshots``).

    A debt gains an event every day it is overdue (the penalty accrual), and the stock of a
    part in a warehouse one with every movement: every ``SNAPSHOT_EVERY`` events a snapshot
    of either is kept, so loading it reads the snapshot and the few events after it, not
    years of history."""

    name = "ironledger"
    SNAPSHOT_EVERY = 50
    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {Debt: SNAPSHOT_EVERY, PartStock: SNAPSHOT_EVERY}

    def _take_snapshots(self, processing_event: Any) -> None:
        # A snapshot is a cache taken after the command was committed: failing to take
        # one must never turn a recorded command into an error for its caller.
        try:
            super()._take_snapshots(processing_event)
        except Exception:   # noqa: BLE001  (logged; the next interval takes one)
            logger.exception("snapshot not taken")


@dataclass
class CommandResult:
    status_code: int
    answer: Answer
    position: int | None
    replayed: bool = False

    @property
    def body(self) -> dict[str, Any]:
        """The answer as JSON values (what the HTTP answer carries, less the position)."""
        return msgspec.json.decode(_json.encode(self.answer))


_json = msgspec.json.Encoder(decimal_format="string")


class CommandRunner:
    """Runs a command handler against the event store.

    - Saves everything the handler changed in one transaction.
    - With an idempotency key, saves a ``CommandRecord`` in that same transaction;
      a retry returns the first answer and records nothing new, also when the
      retry arrives at another process at the same instant.
    - Answers with the position (notification id) of the last recorded event, so a
      query can wait until its read model has caught up.
    """

    RETRIES_ON_CONFLICT = 3

    def __init__(self, ledger: IronLedger, today: Callable[[], date],
                 position_of: Callable[[UUID], int | None],
                 on_recorded: Callable[[int], None] | None = None, secret_key: str = "") -> None:
        self.ledger = ledger
        self.secret_key = secret_key
        self.today = today
        self.position_of = position_of
        self.on_recorded = on_recorded
        # Reference data (companies, warehouses, models) never changes once created.
        self._reference: dict[UUID, DealerAggregate] = {}
        self._handlers: dict[type[Command], tuple[HandlerSpec, Callable[[CommandContext, Any], Outcome]]] = {}

    # ------------------------------------------------------------ reads for commands
    def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        cached = self._reference.get(aggregate_id)
        if cached is not None:
            return cached if isinstance(cached, cls) else None
        try:
            aggregate = self.ledger.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if aggregate.is_reference_data:
            self._reference[aggregate_id] = aggregate
        return aggregate if isinstance(aggregate, cls) else None

    def get(self, aggregate_id: UUID, cls: type[A], what: str) -> A:
        aggregate = self.find(aggregate_id, cls)
        if aggregate is None:
            raise NotFoundError(f"{what} does not exist.", code=f"{_kebab(cls.__name__)}-not-found")
        return aggregate

    def get_in_scope(self, caller: Caller, aggregate_id: UUID, cls: type[A], what: str) -> A:
        """The one place where commands apply the caller's data scope: an
        aggregate of a company outside the scope is answered as not found."""
        aggregate = self.get(aggregate_id, cls, what)
        # A member company is in scope when it is one of the caller's companies.
        company_id = aggregate.id if isinstance(aggregate, Company) else getattr(aggregate, "company_id", None)
        if not caller.sees(company_id, getattr(aggregate, "owner_id", None)):
            raise NotFoundError(f"{what} does not exist.", code=f"{_kebab(cls.__name__)}-not-found")
        return aggregate

    # ------------------------------------------------------------ the command
    def register(self, *services: object) -> None:
        """Takes the handlers the services declare with ``@handles``: one per command type."""
        for service in services:
            for spec, method in handlers_of(service):
                if spec.command in self._handlers:
                    raise TypeError(f"{spec.command.__name__} has two handlers")
                self._handlers[spec.command] = (spec, method)

    def spec_of(self, command: type[Command]) -> HandlerSpec:
        return self._handlers[command][0]

    @property
    def commands(self) -> list[type[Command]]:
        return list(self._handlers)

    def execute(self, caller: Caller, command: Command, idempotency_key: str | None = None) -> CommandResult:
        spec, handler = self._handlers[type(command)]
        operation = spec.command.operation()
        if caller.read_only and not spec.command.allowed_to_auditors:
            raise ReadOnlyCallerError(f"{caller.username} audits: they read everything and record nothing "
                                      f"({operation} refused).")
        if spec.permission is not None:
            caller.require(spec.permission)
        record_id = ids.command_record_id(caller.user_id, idempotency_key) if idempotency_key else None
        fingerprint = self._fingerprint(operation, command.fingerprint(self.secret_digest, caller.user_id))
        ctx = CommandContext(caller, Context(actor_id=caller.user_id, command_id=uuid4(),
                                             business_date=self.today(),
                                             reason=(command.why or "").strip() or None),
                             self, spec.status_code)
        # The first attempt needs no read of the command record: a retry is found
        # out when its record collides on save, or when the command is refused
        # because its first attempt already changed things (e.g. already transferred).
        # A save that loses a race with another command on the same record (its
        # version was taken) runs the handler again on what is now stored, so the
        # loser gets the business answer ("already reserved for contract X") or
        # succeeds on top of the winner's change.
        for attempt in range(1 + self.RETRIES_ON_CONFLICT):
            try:
                outcome: Outcome = handler(ctx, command)
            except DomainError:
                if record_id is not None:
                    replay = self._replay(record_id, spec, fingerprint)
                    if replay is not None:
                        return replay
                raise
            to_save: list[DealerAggregate] = list(outcome.aggregates)
            answer_json = _json.encode(outcome.answer).decode()
            if record_id is not None:
                assert idempotency_key is not None
                to_save.append(CommandRecord.record(ctx.meta, idempotency_key, operation, fingerprint,
                                                    outcome.status_code, answer_json))
            try:
                recordings = self.ledger.save(*to_save)
                break
            except IntegrityError:
                if record_id is not None:
                    replay = self._replay(record_id, spec, fingerprint)
                    if replay is not None:
                        return replay
                conflict = self._conflict(to_save)
                if not isinstance(conflict, ConcurrentChangeError) or attempt == self.RETRIES_ON_CONFLICT:
                    raise conflict from None
        position = max((r.notification.id for r in recordings), default=None)
        if position is not None and self.on_recorded:
            self.on_recorded(position)
        return CommandResult(outcome.status_code, outcome.answer, position)

    def _replay(self, record_id: UUID, spec: HandlerSpec, fingerprint: str) -> CommandResult | None:
        record = self.find(record_id, CommandRecord)
        if record is None:
            return None
        record.check_same_request(spec.command.operation(), fingerprint)
        answer = msgspec.json.decode(record.answer_json, type=spec.command.answer_type)
        return CommandResult(record.status_code, answer, self.position_of(record_id), replayed=True)

    @staticmethod
    def _conflict(aggregates: Sequence[DealerAggregate]) -> DomainError:
        creating = [a for a in aggregates if a.version == 1 and not isinstance(a, CommandRecord)]
        for aggregate in creating:
            refusal = aggregate.refuse_second_creation()
            if refusal is not None:
                return refusal
        return ConcurrentChangeError("Someone else changed the same record at the same moment; "
                                     "reload and try again.")

    def secret_digest(self, secret: str) -> str:
        """Stands for a password in an idempotency fingerprint: a keyed hash, so the
        same key with another password is told apart, and the stored fingerprint
        reveals nothing that could be tried offline without the server's key."""
        return hmac.new(self.secret_key.encode(), b"password\0" + secret.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _fingerprint(operation: str, request: Any) -> str:
        return hashlib.sha256(operation.encode() + b"\0" + _json.encode(request)).hexdigest()


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")
