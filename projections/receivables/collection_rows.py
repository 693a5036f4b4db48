"""Typed rows of the collection queries (``projections.receivables.collection``): a contact log
of a receivable, and a collection application as the lists and the single read answer it,
with its facts and its details."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.approvals import DocumentType
from domain.collection import ApplicationStatus
from domain.receivables import ContactChannel
from projections.rows import Row


class CollectionLogRow(Row):
    """A collection log (催收记录) of a receivable, with who wrote it."""

    log_id: UUID
    contact_date: date
    contact_person: str
    channel: ContactChannel
    result: str
    promised_date: date | None
    written_by: UUID
    written_by_name: str | None
    written_on: date
    promised_amount: Decimal | None


class ApplicationFactsRow(Row):
    """The debt's overdue figures on the day the application was made."""

    overdue_amount: Decimal
    days_past_due: int | None
    principal_outstanding: Decimal
    penalty_outstanding: Decimal


class CollectionApplicationRow(Row):
    """One collection application: what it asked for, on which facts, and where it stands.
    ``details`` are what was registered when it was carried out (lock or unlock time, tow)."""

    application_id: UUID
    document_type: DocumentType
    contract_id: UUID
    contract_number: str
    company_id: UUID
    company_code: str | None
    customer_id: UUID
    customer_name: str | None
    serial_number: str | None
    status: ApplicationStatus
    applied_by: UUID
    applied_by_name: str | None
    applied_on: date
    statement: str | None
    decided_on: date | None
    decided_by: UUID | None
    decision_reason: str | None
    done_on: date | None
    done_by: UUID | None
    amount: Decimal
    facts: ApplicationFactsRow
    details: dict[str, Any] | None
