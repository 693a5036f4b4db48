"""The Litestar application: thin handlers over the services and read models.

Errors are RFC 9457 problem+json: ``type`` is a stable URI ending in the code,
``code`` repeats it for clients, ``detail`` is a sentence a clerk can act on.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar, Request, Response, get
from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Receive, Scope, Send

from application.access import AuthenticationError
from application.caller import READ_ONLY_MAY, Caller
from application.ledger import ReadOnlyCallerError
from domain.base import CONTROL_CHARACTERS, DomainError
from interfaces.composition import BackOffice

log = logging.getLogger("ironledger.http")

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://ironledger.example/problems/"
VERSION = "0.1.0"


def problem(status: int, code: str, title: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> Response[dict[str, Any]]:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return Response({"type": PROBLEM_BASE + code, "code": code, "title": title, "status": status,
                     "detail": detail, **extra}, status_code=status, media_type=PROBLEM, headers=headers)


class ReadModelBehindError(DomainError):
    code = "read-model-behind"
    status = 503


_TITLES = {400: "Bad request", 401: "Sign-in required", 403: "Not allowed", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Request too large", 415: "Unsupported media type",
           422: "Not accepted", 429: "Too many requests", 500: "Internal error", 503: "Try again shortly"}


_PROBLEM_FIELDS = {"type", "code", "title", "status", "detail"}


def _domain_error(_: Request, exc: DomainError) -> Response[dict[str, Any]]:
    # A detail never overwrites a field of the problem itself.
    extra = {(f"{k}_detail" if k in _PROBLEM_FIELDS or k == "headers" else k): str(v) for k, v in exc.details.items()}
    if isinstance(exc, ReadModelBehindError):
        extra["retry_after"] = "1"
    return problem(exc.status, exc.code, _TITLES.get(exc.status, "Refused"), exc.message, **extra)


def _validation_error(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors = [{"field": e.get("key"), "source": e.get("source"), "message": e.get("message")}
              for e in (exc.extra or []) if isinstance(e, dict)]
    detail = exc.detail or "The request is not valid."
    if errors:
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
    return problem(400, "invalid-request", "Bad request", detail, errors=errors)


def _http_error(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
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


def _unreadable_body(_: Request, exc: Exception) -> Response[dict[str, Any]]:
    # msgspec raises these for a body that is not UTF-8 or nests too deeply.
    return problem(400, "invalid-request", "Bad request",
                   "The body is not readable JSON: it must be UTF-8 text and nest at most a few levels.")


def _unexpected_error(_: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unexpected error", exc_info=exc)
    return problem(500, "internal-error", "Internal error",
                   "Something went wrong on our side; nothing you sent was recorded unless a position "
                   "was returned. Try again, and tell the administrator if it persists.")


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Every operation needs a bearer token except those marked ``exclude_from_auth``
    (health, sign-in) and the API docs. Runs before the body is read, so a caller
    without a token learns nothing about what the body should be."""

    def __init__(self, app: ASGIApp, backoffice: BackOffice, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.backoffice = backoffice

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("Sign in first (POST /auth/login) and send the token as "
                                      "'Authorization: Bearer <token>'.")
        caller = await sync_to_thread(self.backoffice.access.authenticate, token.strip())
        return AuthenticationResult(user=caller, auth=None)


class RequireJSON:
    """A command's body must be sent as JSON (``Content-Type: application/json``):
    a form or plain text that happens to parse is refused rather than guessed at."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in {"POST", "PUT", "PATCH"}:
            content_type = MutableScopeHeaders(scope).get("content-type")
            media_type = (content_type or "").split(";")[0].strip().lower()
            if content_type is not None and media_type != "application/json" and not media_type.endswith("+json"):
                raise HTTPException(status_code=415, detail=f"Send the body as JSON with 'Content-Type: "
                                    f"application/json' (got {media_type or 'none'!r}).")
        await self.app(scope, receive, send)


QUERY_VALUE_MAX = 500


class PlainQuery:
    """A query value is an id, a date, a status, a code or a few words to look for: one
    holding a control character (NUL above all: PostgreSQL text cannot hold it) or longer
    than ``QUERY_VALUE_MAX`` (SQLite refuses a LIKE pattern of 50,000) matches nothing, and
    is refused (400) before a handler hands it to the read models' database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string") if scope["type"] == "http" else None
        if query:
            errors = []
            for name, value in parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True, errors="replace"):
                if CONTROL_CHARACTERS.search(name) or CONTROL_CHARACTERS.search(value):
                    errors.append({"key": CONTROL_CHARACTERS.sub("?", name)[:100], "source": "query",
                                   "message": "control characters (such as NUL) are not allowed"})
                elif len(value) > QUERY_VALUE_MAX:
                    errors.append({"key": name[:100], "source": "query",
                                   "message": f"at most {QUERY_VALUE_MAX} characters"})
            if errors:
                raise ValidationException("A query value is not plain text of a sensible length.", extra=errors)
        await self.app(scope, receive, send)


def refuse_commands_of_auditors(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """An auditor (and nothing else) reads everything and records nothing: every command but
    their own password change is refused before its body is even read."""
    caller = connection.scope.get("user")
    if (isinstance(caller, Caller) and caller.read_only and connection.scope.get("method") != "GET"
            and handler.operation_id not in READ_ONLY_MAY):
        raise ReadOnlyCallerError(f"{caller.username} audits: they read everything and record nothing.")


def create_app(backoffice: BackOffice, run_projections: bool = True) -> Litestar:
    from interfaces.http.controllers import all_controllers

    def resolve_caller(request: Request) -> Caller:
        return request.user  # set by BearerAuthentication

    @get("/health", operation_id="GetHealth", tags=["health"], sync_to_thread=True, exclude_from_auth=True,
         security=[{}], summary="Whether the service and its read models are alive (no token needed)")
    def health() -> dict[str, Any]:
        # Without a token: whether each read model is failing, not why (the log says why).
        return {"status": "ok", "version": VERSION,
                "store": "postgresql" if backoffice.settings.uses_postgres else "sqlite",
                "read_models": {name: {"position": r.position(),
                                       "error": "failing; see the server log" if r.last_error else None}
                                for name, r in backoffice.projections.items()}}

    def startup() -> None:
        if run_projections:
            from application.caller import SYSTEM
            backoffice.start_projections()
            backoffice.start_penalty_schedule(SYSTEM)

    def shutdown() -> None:
        backoffice.stop()

    return Litestar(
        route_handlers=[health, *all_controllers()],
        middleware=[DefineMiddleware(BearerAuthentication, backoffice=backoffice, exclude=["^/docs"]),
                    RequireJSON, PlainQuery],
        guards=[refuse_commands_of_auditors],
        dependencies={"caller": Provide(resolve_caller, sync_to_thread=False),
                      "backoffice": Provide(lambda: backoffice, sync_to_thread=False, use_cache=True)},
        exception_handlers={
            DomainError: _domain_error,
            ValidationException: _validation_error,
            NotAuthorizedException: _http_error,
            HTTPException: _http_error,
            UnicodeDecodeError: _unreadable_body,
            RecursionError: _unreadable_body,
            Exception: _unexpected_error,
        },
        type_encoders={Decimal: str},
        on_startup=[startup],
        on_shutdown=[shutdown],
        request_max_body_size=1_000_000,
        openapi_config=OpenAPIConfig(
            title="ironledger", version=VERSION,
            description="Back office for construction-machinery dealers. Sign in with POST /auth/login, "
                        "then press Authorize and paste the access_token.",
            path="/docs", render_plugins=[SwaggerRenderPlugin()],
            components=Components(security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}),
            security=[{"BearerToken": []}],
        ),
    )
