"""The Litestar application: middleware, dependencies, error handlers and the routes.

Errors are RFC 9457 problem+json (``interfaces.http.errors``)."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Litestar, Request, Router, get
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
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Receive, Scope, Send

from application.access import AuthenticationError
from application.caller import Caller
from application.ledger import ReadOnlyCallerError
from domain.base import CONTROL_CHARACTERS, DomainError
from interfaces.composition import BackOffice
from interfaces.console import CONSOLE_PATH, console_route_handlers
from interfaces.http.errors import domain_error, http_error, unexpected_error, unreadable_body, validation_error
from interfaces.http.kit import provide_reader
from interfaces.http.routes import all_route_handlers

VERSION = "0.1.0"


class ReadModelHealth(msgspec.Struct, kw_only=True):
    position: int
    error: str | None


class Health(msgspec.Struct, kw_only=True):
    status: str
    version: str
    store: str
    read_models: dict[str, ReadModelHealth]


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
        if (scope["type"] == "http" and scope.get("method") in {"POST", "PUT", "PATCH"}
                and not scope.get("path", "").startswith(CONSOLE_PATH)):
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


DOCS_ASSETS = "/docs/assets"


def swagger_assets() -> Router:
    """Swagger UI's scripts and styles, served from the ``swagger-ui-py`` package: the API's
    page renders offline (no CDN), as a dealer's branch office may be."""
    spec = importlib.util.find_spec("swagger_ui")
    assert spec is not None and spec.submodule_search_locations, "swagger-ui-py is a dependency"
    static = Path(next(iter(spec.submodule_search_locations))) / "static"
    return create_static_files_router(DOCS_ASSETS, directories=[static], include_in_schema=False,
                                      opt={"exclude_from_auth": True})


def refuse_commands_of_auditors(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """An auditor (and nothing else) reads everything and records nothing: every command but
    their own password change is refused before its body is even read."""
    caller = connection.scope.get("user")
    if (isinstance(caller, Caller) and caller.read_only and connection.scope.get("method") != "GET"
            and not getattr(handler.opt.get("command"), "allowed_to_auditors", False)):
        raise ReadOnlyCallerError(f"{caller.username} audits: they read everything and record nothing.")


def create_app(backoffice: BackOffice, run_projections: bool = True) -> Litestar:
    def resolve_caller(request: Request) -> Caller:
        return request.user  # set by BearerAuthentication

    @get("/health", operation_id="GetHealth", tags=["health"], sync_to_thread=True, exclude_from_auth=True,
         security=[{}], summary="Whether the service and its read models are alive (no token needed)")
    def health() -> Health:
        # Without a token: whether each read model is failing, not why (the log says why).
        return Health(status="ok", version=VERSION,
                      store="postgresql" if backoffice.settings.uses_postgres else "sqlite",
                      read_models={name: ReadModelHealth(position=r.position(),
                                                         error="failing; see the server log" if r.last_error else None)
                                   for name, r in backoffice.projections.items()})

    def startup() -> None:
        if run_projections:
            from application.caller import SYSTEM
            backoffice.workers.start_projections()
            backoffice.workers.start_penalty_schedule(SYSTEM)

    def shutdown() -> None:
        backoffice.stop()

    return Litestar(
        route_handlers=[health, *all_route_handlers(), *console_route_handlers(backoffice), swagger_assets()],
        # The console signs its people in with a session cookie of its own (interfaces.console.session).
        middleware=[DefineMiddleware(BearerAuthentication, backoffice=backoffice,
                                     exclude=["^/docs", f"^{CONSOLE_PATH}", "^/$"]),
                    RequireJSON, PlainQuery],
        guards=[refuse_commands_of_auditors],
        dependencies={"caller": Provide(resolve_caller, sync_to_thread=False),
                      "backoffice": Provide(lambda: backoffice, sync_to_thread=False, use_cache=True),
                      "read": Provide(provide_reader, sync_to_thread=True)},
        exception_handlers={
            DomainError: domain_error,
            ValidationException: validation_error,
            NotAuthorizedException: http_error,
            HTTPException: http_error,
            UnicodeDecodeError: unreadable_body,
            RecursionError: unreadable_body,
            Exception: unexpected_error,
        },
        type_encoders={Decimal: str},
        on_startup=[startup],
        on_shutdown=[shutdown],
        request_max_body_size=1_000_000,
        openapi_config=OpenAPIConfig(
            title="ironledger", version=VERSION,
            description="Back office for construction-machinery dealers. Sign in with POST /auth/login, "
                        "then press Authorize and paste the access_token.",
            path="/docs", render_plugins=[SwaggerRenderPlugin(
                js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' href='{DOCS_ASSETS}/favicon-32x32.png'>")],
            components=Components(security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}),
            security=[{"BearerToken": []}],
        ),
    )
