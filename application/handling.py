"""What a command is, what it answers, and how its handler is declared.

A command is one msgspec ``Struct``: its class name is the ``operationId``, and the same
type is the HTTP body (less the fields the path carries), the handler's input, the
idempotency fingerprint and what a console form is made from. Its answer is one typed
``Struct`` too, so every success response is described.

A handler is a method of a service, declared once::

    @handles(ApproveContract)
    def approve(self, ctx: CommandContext, cmd: ApproveContract) -> Outcome:
        contract = ctx.load_in_scope(Contract, cmd.contract_id, f"Contract {cmd.contract_id}")
        ...
        return ctx.save(contract, *units, answer=ContractSummary.of(contract))

The runner (``application.ledger.CommandRunner``) does the rest for every command alike:
read-only callers, the permission, idempotency, retry after a lost race, one transaction,
the position of the recorded events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID

import msgspec

from application.caller import Caller
from domain.access import Permission
from domain.base import Context, DealerAggregate

A = TypeVar("A", bound=DealerAggregate)


class Answer(msgspec.Struct, kw_only=True):
    """What a command answers (the HTTP layer adds the ``position`` of its events)."""


class Command(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request to change the business. Subclasses name their answer type.

    ``fingerprint(digest)`` is what a retried request must repeat to get the first answer:
    by default every field, in order. A command whose request was fingerprinted otherwise
    before it became a type keeps that form (stored command records hold the hash); a
    secret (a password) enters it only through ``digest``, a keyed hash."""

    answer_type: ClassVar[type[Answer]]
    # A command that creates something answers 201.
    creates: ClassVar[bool] = False
    # Commands a read-only caller (an auditor) may still give: their own sign-in, not the business.
    allowed_to_auditors: ClassVar[bool] = False

    @classmethod
    def operation(cls) -> str:
        return cls.__name__

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return self

    @property
    def why(self) -> str | None:
        """The reason kept with every event of the command, when it carries one."""
        return getattr(self, "reason", None)


C = TypeVar("C", bound=Command)


@dataclass
class Outcome:
    """What a handler decided: the aggregates to save in one transaction, and the answer."""

    aggregates: Sequence[DealerAggregate]
    answer: Answer
    status_code: int = 200


@dataclass(frozen=True)
class HandlerSpec:
    command: type[Command]
    method_name: str
    permission: Permission | None
    status_code: int


_HANDLER_ATTRIBUTE = "_handles_command"


def handles(command: type[C], *, permission: Permission | None = None,
            ) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    """Declares a service method the handler of ``command``. ``permission`` is checked
    before the handler runs (None: the handler or the domain decides, e.g. approval steps
    name their own role)."""
    if not hasattr(command, "answer_type"):
        raise TypeError(f"{command.__name__} names no answer_type")

    def mark(method: Callable[..., Outcome]) -> Callable[..., Outcome]:
        setattr(method, _HANDLER_ATTRIBUTE, HandlerSpec(command, method.__name__, permission,
                                                        201 if command.creates else 200))
        return method

    return mark


def handlers_of(service: object) -> Iterable[tuple[HandlerSpec, Callable[..., Outcome]]]:
    for name in dir(type(service)):
        spec = getattr(getattr(type(service), name), _HANDLER_ATTRIBUTE, None)
        if isinstance(spec, HandlerSpec):
            yield spec, getattr(service, name)


class Loads(Protocol):
    """How a handler reads the store (``application.ledger.CommandRunner``)."""

    def find(self, aggregate_id: UUID, cls: type[A]) -> A | None: ...

    def get(self, aggregate_id: UUID, cls: type[A], what: str) -> A: ...

    def get_in_scope(self, caller: Caller, aggregate_id: UUID, cls: type[A], what: str) -> A: ...


@dataclass
class CommandContext:
    """What a handler works with: who calls, the event metadata, and the loads of the store."""

    caller: Caller
    meta: Context
    runner: Loads
    status_code: int = 200
    _saved: list[DealerAggregate] = field(default_factory=list)

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        return self.runner.find(aggregate_id, cls)

    def load(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        return self.runner.get(aggregate_id, cls, what)

    def load_in_scope(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        """An aggregate of a company outside the caller's scope is answered as not found."""
        return self.runner.get_in_scope(self.caller, aggregate_id, cls, what)

    def save(self, *aggregates: DealerAggregate | None, answer: Answer) -> Outcome:
        """Everything the command changed, saved in one transaction in this order (None is skipped)."""
        return Outcome([a for a in aggregates if a is not None], answer, self.status_code)
