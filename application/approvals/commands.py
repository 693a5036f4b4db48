"""The command of approval rules and its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from msgspec import Meta

from application.fields import Money, Text100
from application.handling import Answer, Command
from domain.access import Role
from domain.approvals import AmountBand, ApprovalStep, DocumentType, StepScope


class ApprovalStepRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One step of a band: its name, the role that decides it, and how far the decider's scope must reach."""

    name: Text100
    role: Role
    scope: StepScope = StepScope.COMPANY


class AmountBandRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The steps of documents of at least ``from_amount`` (up to the next band's)."""

    from_amount: Money
    steps: Annotated[list[ApprovalStepRequest], Meta(min_length=1, max_length=10)]


class ApprovalRuleSet(Answer):
    rule_id: UUID
    document_type: DocumentType
    company_id: UUID | None
    revision: int


class SetApprovalRule(Command):
    """Set the approval rule of a document type in one member company, or group-wide when
    ``company_id`` is left out: the first time it is created (201), afterwards revised."""

    answer_type: ClassVar = ApprovalRuleSet
    creates: ClassVar = True
    document_type: DocumentType
    bands: Annotated[list[AmountBandRequest], Meta(min_length=1, max_length=20)]
    company_id: UUID | None = None  # the member company; left out, the group-wide rule

    def amount_bands(self) -> list[AmountBand]:
        return [AmountBand(b.from_amount, tuple(ApprovalStep(s.name, s.role, s.scope) for s in b.steps))
                for b in self.bands]

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        # Fingerprinted as the service's request was before the command was a type.
        return {"document_type": self.document_type, "company_id": self.company_id, "bands": self.amount_bands()}
