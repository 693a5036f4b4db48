"""Commands of debt collection (催收) and their answers.

A debt is addressed by its contract's id (``contract_id``), a collection application by
its own (``application_id``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from application.fields import PLAIN, Money, Name, Reason, Serial, Statement, Text100
from application.handling import Answer, Command
from application.receivables import ReceivableSummary
from domain.access import Role
from domain.approvals import DocumentType
from domain.collection import ApplicationStatus
from domain.receivables import ContactChannel


# ---------------------------------------------------------------- answers
class DebtCollectionSummary(ReceivableSummary):
    """A receivable's figures right after the command, and where its collection stands."""

    collector_id: UUID | None
    settled: bool
    documents_released: bool


class CollectionLogWritten(DebtCollectionSummary):
    log_id: UUID


class ApplicationWaitingFor(msgspec.Struct, kw_only=True):
    """The approval step a collection application waits for (1 = the first)."""

    step: int
    step_name: str
    role: Role


class CollectionApplicationSummary(Answer):
    application_id: UUID
    document_type: DocumentType
    contract_id: UUID
    contract_number: str
    serial_number: str | None
    amount: Decimal
    status: ApplicationStatus
    waiting_for: ApplicationWaitingFor | None


# ---------------------------------------------------------------- dispatch and logs
class AssignCollector(Command):
    """Give an overdue debt to a collector (催收派工), or to another one: the collector must
    hold the collector role and their positions must cover the contract's company."""

    answer_type: ClassVar = DebtCollectionSummary
    contract_id: UUID
    collector_id: Annotated[UUID, Meta(description="A user with the collector role whose positions cover the "
                                                   "contract's company.")]


class WriteCollectionLog(Command):
    """Write a collection log (催收记录) of a debt: the day of the contact, whom, how, what was
    said, and any promise to pay. Only the debt's collector or the office may."""

    answer_type: ClassVar = CollectionLogWritten
    creates: ClassVar = True
    contract_id: UUID
    contact_date: Annotated[date, Meta(description="The day of the contact; not in the future.")]
    contact_person: Text100
    channel: ContactChannel
    result: Annotated[str, Meta(min_length=1, max_length=2000, pattern=PLAIN,
                                description="What was said or agreed.")]
    promised_date: Annotated[date, Meta(description="The day the customer promised to pay.")] | None = None
    promised_amount: Money | None = None


# ---------------------------------------------------------------- applications
class ApplyInterestWaiver(Command):
    """Apply to waive penalty interest (利息减免) once all principal is received; the
    application follows the approval rule of interest waivers, and its approval takes the
    amount off the penalty outstanding."""

    answer_type: ClassVar = CollectionApplicationSummary
    creates: ClassVar = True
    contract_id: UUID
    amount: Annotated[Money, Meta(description="Penalty interest to waive: at most the penalty outstanding.")]
    reason: Statement

    def fingerprint(self, digest: Any, caller_id: UUID) -> Any:
        # The request as it was fingerprinted before it became a type (stored records hold its hash).
        return {"contract_id": self.contract_id, "serial_number": None, "amount": self.amount,
                "reason": self.reason}


class ApplyLock(Command):
    """Apply to lock a machine of an overdue contract remotely (锁机), with the overdue facts
    of the day; once approved a clerk registers the machine locked."""

    answer_type: ClassVar = CollectionApplicationSummary
    creates: ClassVar = True
    contract_id: UUID
    serial_number: Serial
    reason: Statement


class ApplyUnlock(Command):
    """Apply to unlock a locked machine of the contract (开机); once approved a clerk
    registers the machine unlocked."""

    answer_type: ClassVar = CollectionApplicationSummary
    creates: ClassVar = True
    contract_id: UUID
    serial_number: Serial
    reason: Statement


class ApplyTow(Command):
    """Apply to tow a machine of an overdue contract back (拖机), with the overdue facts of
    the day; once approved a clerk registers the tow and the warehouse receives it back."""

    answer_type: ClassVar = CollectionApplicationSummary
    creates: ClassVar = True
    contract_id: UUID
    serial_number: Serial
    reason: Statement


class ApplySettlement(Command):
    """Apply to settle (结清) a debt with nothing outstanding; its approval closes the debt."""

    answer_type: ClassVar = CollectionApplicationSummary
    creates: ClassVar = True
    contract_id: UUID
    reason: Statement

    def fingerprint(self, digest: Any, caller_id: UUID) -> Any:
        # The request as it was fingerprinted before it became a type (stored records hold its hash).
        return {"contract_id": self.contract_id, "serial_number": None, "reason": self.reason}


class DecideApplication(Command):
    """Approve the current step of a collection application (at the last step it is
    approved, and a waiver or settlement takes effect on the debt at once), or reject it
    with a reason. Only an approver of the step may decide it."""

    answer_type: ClassVar = CollectionApplicationSummary
    application_id: UUID
    decision: Literal["approve", "reject"]
    reason: Reason | None = None


# ---------------------------------------------------------------- carrying out approved applications
DoneAt = Annotated[datetime, Meta(tz=True, description="When it was done, with time zone "
                                                       "(2026-11-23T09:30:00+08:00).")]


class RegisterLocked(Command):
    """Register an approved lock as done (锁机登记), with the time: the machine is locked."""

    answer_type: ClassVar = CollectionApplicationSummary
    application_id: UUID
    at: DoneAt

    def fingerprint(self, digest: Any, caller_id: UUID) -> Any:
        # The request as it was fingerprinted before it became a type (stored records hold its hash).
        return {"application_id": self.application_id, "locked_at": self.at}


class RegisterUnlocked(Command):
    """Register an approved unlock as done (开机登记), with the time: the machine is unlocked."""

    answer_type: ClassVar = CollectionApplicationSummary
    application_id: UUID
    at: DoneAt

    def fingerprint(self, digest: Any, caller_id: UUID) -> Any:
        # The request as it was fingerprinted before it became a type (stored records hold its hash).
        return {"application_id": self.application_id, "unlocked_at": self.at}


class RegisterTow(Command):
    """Register an approved tow (拖机登记): the day, the place and the people who towed the
    machine; it is then on its way back to a warehouse."""

    answer_type: ClassVar = CollectionApplicationSummary
    application_id: UUID
    towed_on: date
    place: Name
    people: Annotated[list[Annotated[str, Meta(min_length=1, max_length=50, pattern=PLAIN)]],
                      Meta(min_length=1, max_length=20, description="Who towed the machine.")]


class ReceiveRepossessedMachine(Command):
    """Receive the towed machine into stock (债权机入库) as a repossessed unit: the same unit,
    by its serial number, in a main warehouse of the contract's company."""

    answer_type: ClassVar = CollectionApplicationSummary
    application_id: UUID
    warehouse_id: Annotated[UUID, Meta(description="A main warehouse of the contract's company.")]


class ReleaseSettlementDocuments(Command):
    """Record that the invoice and the certificate of conformity (合格证) were given to the
    customer after the debt was settled."""

    answer_type: ClassVar = DebtCollectionSummary
    contract_id: UUID
    invoice_number: Text100
    certificate_number: Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN,
                                            description="Certificate of conformity (合格证) number.")]
    released_to: Text100
