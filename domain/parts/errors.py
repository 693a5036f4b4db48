"""The refusals of parts documents (their ``code`` is what clients see). Never stored, but every
class keeps ``__module__ = "domain.parts"``, the module its callers (and ``tests/unit/test_values.py``)
know it by."""

from __future__ import annotations

from domain.base import DomainError, InvalidValueError, PermissionDeniedError


# ---------------------------------------------------------------- errors
class InsufficientPartStockError(DomainError):
    __module__ = "domain.parts"
    code = "insufficient-part-stock"


class OverReceiptError(DomainError):
    __module__ = "domain.parts"
    code = "over-receipt"


class PartsDocumentStateError(DomainError):
    """The act does not fit the document's status; the message names it."""

    __module__ = "domain.parts"
    code = "parts-document-state"


class WarehouseNotUsableError(InvalidValueError):
    """The warehouse is of another company than the document, or of the wrong kind."""

    __module__ = "domain.parts"
    code = "warehouse-not-usable"


class NotYourMobileWarehouseError(PermissionDeniedError):
    __module__ = "domain.parts"
    code = "not-your-mobile-warehouse"
