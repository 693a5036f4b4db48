"""Debt collection (催收) applications: interest waiver, lock, unlock, tow and settlement.

Each is a document of its own (``CollectionApplication``) that follows the approval
rules of its type (``domain.approvals``): made by a collector (or the office) for
one contract's debt, it records the overdue facts of the day it was made, walks
its route of approvers, and once approved is carried out:

    interest_waiver  利息减免  approval takes the amount off the penalty outstanding (on the Debt)
    settlement       结清      approval closes the debt (on the Debt)
    machine_lock     锁机      approved → a clerk registers the machine locked, with the time
    machine_unlock   开机      approved → a clerk registers the machine unlocked, with the time
    tow              拖机      approved → a clerk registers the tow (date, place, people) →
                               the warehouse receives the machine back as a repossessed unit

While an application is open its debt holds it as pending (``Debt.ApplicationOpened``),
so two applications of one kind for one machine never run side by side. A rejected
application is finished; the collector applies again with new facts.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain import approvals
from domain.approvals import ApprovalFlow, ApprovalRule, Decider, DocumentType
from domain.base import Context, DealerAggregate, DomainError, InvalidValueError, require_text
from domain.receivables import OverdueFacts

COLLECTION_DOCUMENTS = (DocumentType.INTEREST_WAIVER, DocumentType.MACHINE_LOCK, DocumentType.MACHINE_UNLOCK,
                        DocumentType.TOW, DocumentType.SETTLEMENT)
MACHINE_DOCUMENTS = (DocumentType.MACHINE_LOCK, DocumentType.MACHINE_UNLOCK, DocumentType.TOW)

_NAMES = {DocumentType.INTEREST_WAIVER: "interest waiver", DocumentType.MACHINE_LOCK: "lock",
          DocumentType.MACHINE_UNLOCK: "unlock", DocumentType.TOW: "tow", DocumentType.SETTLEMENT: "settlement"}


class ApplicationStatus(StrEnum):
    IN_APPROVAL = "in_approval"
    REJECTED = "rejected"
    APPROVED = "approved"      # waiver and settlement: done; lock / unlock / tow: waiting to be registered
    TOWED = "towed"            # tow registered; the machine is on its way back
    DONE = "done"              # lock / unlock registered, towed machine received back


class ApplicationStateError(DomainError):
    code = "application-state"


class CollectionApplication(DealerAggregate, ApprovalFlow):
    """催收申请: one application of a collection act for one contract's debt."""

    class Applied(DealerAggregate.Created):
        """Made by ``actor_id`` with their statement in ``reason``; ``facts`` are the debt's
        overdue figures that day; ``amount`` is what the approval bands are judged by: the
        waiver's amount, the amount received for a settlement, else the overdue amount."""

        document_type: DocumentType
        debt_id: UUID
        contract_id: UUID
        contract_number: str
        customer_id: UUID
        serial_number: str | None
        amount: Decimal
        facts: OverdueFacts

        def apply(self, application: CollectionApplication) -> None:
            application.company_id = self.company_id
            application.document_type = self.document_type
            application.debt_id = self.debt_id
            application.contract_id = self.contract_id
            application.contract_number = self.contract_number
            application.customer_id = self.customer_id
            application.serial_number = self.serial_number
            application.amount = self.amount
            application.applied_by = self.actor_id
            application.status = ApplicationStatus.IN_APPROVAL

    class SubmittedForApproval(approvals.ApprovalRequested):
        pass

    class ApprovalStepPassed(approvals.ApprovalStepPassed):
        pass

    class Approved(approvals.ApprovalGranted):
        def apply(self, application: CollectionApplication) -> None:
            super().apply(application)
            application.status = ApplicationStatus.APPROVED

    class Rejected(approvals.ApprovalRefused):
        def apply(self, application: CollectionApplication) -> None:
            super().apply(application)
            application.status = ApplicationStatus.REJECTED

    class LockRegistered(DealerAggregate.Event):
        """锁机登记: the machine was locked at ``locked_at``."""

        locked_at: datetime

        def apply(self, application: CollectionApplication) -> None:
            application.status = ApplicationStatus.DONE

    class UnlockRegistered(DealerAggregate.Event):
        """开机登记: the machine was unlocked at ``unlocked_at``."""

        unlocked_at: datetime

        def apply(self, application: CollectionApplication) -> None:
            application.status = ApplicationStatus.DONE

    class TowRegistered(DealerAggregate.Event):
        """拖机登记: towed on ``towed_on`` from ``place`` by ``people``."""

        towed_on: date
        place: str
        people: tuple[str, ...]

        def apply(self, application: CollectionApplication) -> None:
            application.status = ApplicationStatus.TOWED

    class MachineReceivedBack(DealerAggregate.Event):
        """The towed machine arrived in ``warehouse_id``: the tow is done."""

        warehouse_id: UUID

        def apply(self, application: CollectionApplication) -> None:
            application.status = ApplicationStatus.DONE

    # ------------------------------------------------------------ reading
    @property
    def document_label(self) -> str:
        machine = f" of machine {self.serial_number}" if self.serial_number else ""
        return f"{_NAMES[self.document_type]} application{machine}, contract {self.contract_number}"

    def status_text(self) -> str:
        return str(self.status)

    # ------------------------------------------------------------ commands
    @classmethod
    def apply_for(cls, ctx: Context, application_id: UUID, document_type: DocumentType, debt_id: UUID,
                  company_id: UUID, contract_id: UUID, contract_number: str, customer_id: UUID,
                  serial_number: str | None, amount: Decimal, facts: OverdueFacts,
                  rule: ApprovalRule | None) -> CollectionApplication:
        document_type = DocumentType(document_type)
        if document_type not in COLLECTION_DOCUMENTS:
            raise InvalidValueError(f"{document_type} is not a collection application.", field="document_type")
        if (serial_number is None) == (document_type in MACHINE_DOCUMENTS):
            raise InvalidValueError("A lock, unlock or tow application names one machine; the others name none.",
                                    field="serial_number")
        require_text(ctx.reason or "", "reason", 2000)
        application = cls._start(cls.Applied, application_id, ctx, company_id, document_type=document_type,
                                 debt_id=debt_id, contract_id=contract_id, contract_number=contract_number,
                                 customer_id=customer_id, serial_number=serial_number, amount=amount, facts=facts)
        application._request_approval(ctx, cls.SubmittedForApproval, rule, amount)
        return application

    def approve(self, ctx: Context, decider: Decider) -> bool:
        """Approves the current step; True when the application is now approved."""
        self._require(ApplicationStatus.IN_APPROVAL, act="approved")
        return self._approve(ctx, decider, self.ApprovalStepPassed, self.Approved)

    def reject(self, ctx: Context, decider: Decider) -> None:
        self._require(ApplicationStatus.IN_APPROVAL, act="rejected")
        self._reject(ctx, decider, self.Rejected)

    def register_locked(self, ctx: Context, locked_at: datetime) -> None:
        self._require_kind(DocumentType.MACHINE_LOCK, "registered as locked")
        self._require(ApplicationStatus.APPROVED, act="registered as locked")
        self._record(self.LockRegistered, ctx, self.company_id, locked_at=_checked_time(ctx, locked_at, "locked_at"))

    def register_unlocked(self, ctx: Context, unlocked_at: datetime) -> None:
        self._require_kind(DocumentType.MACHINE_UNLOCK, "registered as unlocked")
        self._require(ApplicationStatus.APPROVED, act="registered as unlocked")
        self._record(self.UnlockRegistered, ctx, self.company_id,
                     unlocked_at=_checked_time(ctx, unlocked_at, "unlocked_at"))

    def register_tow(self, ctx: Context, towed_on: date, place: str, people: list[str]) -> None:
        self._require_kind(DocumentType.TOW, "registered as towed")
        self._require(ApplicationStatus.APPROVED, act="registered as towed")
        if towed_on > ctx.business_date:
            raise InvalidValueError(f"The tow date {towed_on} is in the future; register the tow once it is done.",
                                    field="towed_on")
        names = tuple(require_text(p, "people", 50) for p in people)
        if not names or len(names) > 20:
            raise InvalidValueError("Name the people who towed the machine (1 to 20).", field="people")
        self._record(self.TowRegistered, ctx, self.company_id, towed_on=towed_on,
                     place=require_text(place, "place", 200), people=names)

    def machine_received_back(self, ctx: Context, warehouse_id: UUID) -> None:
        self._require_kind(DocumentType.TOW, "received back")
        self._require(ApplicationStatus.TOWED, act="received back into stock")
        self._record(self.MachineReceivedBack, ctx, self.company_id, warehouse_id=warehouse_id)

    def _require(self, *allowed: ApplicationStatus, act: str) -> None:
        if self.status not in allowed:
            raise ApplicationStateError(f"The {self.document_label} is {self.status}; it cannot be {act} "
                                        f"(only when {' or '.join(allowed)}).", state=str(self.status))

    def _require_kind(self, kind: DocumentType, act: str) -> None:
        if self.document_type != kind:
            raise ApplicationStateError(f"The {self.document_label} is not a {_NAMES[kind]} application; it cannot "
                                        f"be {act}.", state=str(self.status))


def _checked_time(ctx: Context, moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidValueError(f"{field} needs a time zone (e.g. 2026-11-23T09:30:00+08:00).", field=field)
    if moment.date() > ctx.business_date:
        raise InvalidValueError(f"{field} {moment} is in the future; register it once it is done.", field=field)
    return moment
