"""Problem details (RFC 9457) for every error, and the one table of HTTP statuses.

The domain names the rule an error broke and its kind (not found, not allowed, not
acceptable, conflict); which HTTP status each kind answers is decided here only.
``type`` is a stable URI ending in the code, ``code`` repeats it for clients, ``detail``
is a sentence a clerk can act on.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from application.access import AuthenticationError
from application.ledger import ConcurrentChangeError, ReadOnlyCallerError
from application.reading import ReadModelBehindError
from domain.base import AlreadyExistsError, DomainError, InvalidValueError, NotFoundError, PermissionDeniedError
from interfaces.http.kit import problem

log = logging.getLogger("ironledger.http")

# The kinds of error, most specific first where one kind derives from another.
STATUS_OF_KIND: dict[type[Exception], int] = {
    AuthenticationError: 401,
    ReadOnlyCallerError: 403,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    AlreadyExistsError: 409,
    ConcurrentChangeError: 409,
    InvalidValueError: 422,
    ReadModelBehindError: 503,
    DomainError: 409,          # a business rule refused the command
}


def status_of(error: DomainError | type[DomainError]) -> int:
    """The HTTP status of an error (or of an error class): that of its nearest kind in the table."""
    for kind in (error if isinstance(error, type) else type(error)).__mro__:
        status = STATUS_OF_KIND.get(kind)
        if status is not None:
            return status
    return 409


_TITLES = {400: "Bad request", 401: "Sign-in required", 403: "Not allowed", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Request too large", 415: "Unsupported media type",
           422: "Not accepted", 429: "Too many requests", 500: "Internal error", 503: "Try again shortly"}


_PROBLEM_FIELDS = {"type", "code", "title", "status", "detail"}


def domain_error(_: Request, exc: DomainError) -> Response[dict[str, Any]]:
    # A detail never overwrites a field of the problem itself.
    extra = {(f"{k}_detail" if k in _PROBLEM_FIELDS or k == "headers" else k): str(v) for k, v in exc.details.items()}
    if isinstance(exc, ReadModelBehindError):
        extra["retry_after"] = "1"
    status = status_of(exc)
    return problem(status, exc.code, _TITLES.get(status, "Refused"), exc.message, **extra)


def validation_error(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors = [{"field": e.get("key"), "source": e.get("source"), "message": e.get("message")}
              for e in (exc.extra or []) if isinstance(e, dict)]
    detail = exc.detail or "The request is not valid."
    if errors:
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
    return problem(400, "invalid-request", "Bad request", detail, errors=errors)


def http_error(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    code = {400: "invalid-request", 401: "unauthenticated", 404: "no-such-route", 405: "method-not-allowed", 413: "request-too-large",
            415: "unsupported-media-type"}.get(status, f"http-{status}")
    detail = str(exc.detail)
    # The exception's headers belong to the answer: a 405 must say in Allow what the path takes (RFC 9110).
    headers = {name: str(value) for name, value in (exc.headers or {}).items()}
    allowed = next((value for name, value in headers.items() if name.lower() == "allow"), None)
    if status == 405 and allowed:
        detail = f"{request.method} is not allowed on this path; it takes {allowed}."
    return problem(status, code, _TITLES.get(status, "Error"), detail, headers=headers)


def unreadable_body(_: Request, exc: Exception) -> Response[dict[str, Any]]:
    # msgspec raises these for a body that is not UTF-8 or nests too deeply.
    return problem(400, "invalid-request", "Bad request",
                   "The body is not readable JSON: it must be UTF-8 text and nest at most a few levels.")


def unexpected_error(_: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unexpected error", exc_info=exc)
    return problem(500, "internal-error", "Internal error",
                   "Something went wrong on our side; nothing you sent was recorded unless a position "
                   "was returned. Try again, and tell the administrator if it persists.")


