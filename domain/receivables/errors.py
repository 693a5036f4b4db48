"""The refusals of receivables (their ``code`` is what clients see). Never stored, but every class
keeps ``__module__ = "domain.receivables"``, the module its callers (and ``tests/unit/test_values.py``)
know it by."""

from __future__ import annotations

from domain.base import DomainError, InvalidValueError, PermissionDeniedError


# ================================================================ refusals
class DebtStateError(DomainError):
    __module__ = "domain.receivables"
    code = "debt-state"


class ReceiptStateError(DomainError):
    __module__ = "domain.receivables"
    code = "receipt-state"


class OverpaymentError(InvalidValueError):
    __module__ = "domain.receivables"
    code = "overpayment"


class ScheduleLockedError(DomainError):
    __module__ = "domain.receivables"
    code = "schedule-locked"


class OwnReceiptError(PermissionDeniedError):
    __module__ = "domain.receivables"
    code = "own-receipt"


class PenaltyDateError(InvalidValueError):
    __module__ = "domain.receivables"
    code = "penalty-date"


class DebtNotOverdueError(DomainError):
    __module__ = "domain.receivables"
    code = "debt-not-overdue"


class PrincipalOutstandingError(DomainError):
    """利息减免 refused: principal (and interest) of the debt is not yet all received."""

    __module__ = "domain.receivables"
    code = "principal-outstanding"


class WaiverExceedsPenaltyError(InvalidValueError):
    __module__ = "domain.receivables"
    code = "waiver-exceeds-penalty"


class WaiverConflictError(DomainError):
    """A receipt or reversal would make a waiver larger than the penalty it waived."""

    __module__ = "domain.receivables"
    code = "waiver-conflict"


class DebtOutstandingError(DomainError):
    """结清 refused: something is still owed or waiting for confirmation."""

    __module__ = "domain.receivables"
    code = "debt-outstanding"


class ApplicationPendingError(DomainError):
    __module__ = "domain.receivables"
    code = "application-pending"


class DocumentsAlreadyReleasedError(DomainError):
    __module__ = "domain.receivables"
    code = "documents-already-released"


class NothingChangedError(DomainError):
    __module__ = "domain.receivables"
    code = "nothing-changed"
