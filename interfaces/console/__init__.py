"""The office console: Chinese-first web pages served by the same Litestar app at
``/console/`` (``/`` opens it). Server-rendered (Jinja2), plain HTML forms that work without
JavaScript, nothing loaded from outside the server.

- ``web``: the Console every page uses (person, language, templates, forms, read side);
- ``session``: sign-in cookie, CSRF proof, security headers;
- ``forms``: forms made from command types, and refusals put beside their fields;
- ``i18n``: message catalogues (``locale/``), money and dates;
- ``pages/``: one module per area (home, approvals, contracts, …).

The console calls the application layer (the command runner and the read side), never the
HTTP API, so it has exactly the API's permissions, data scope and separation of duties.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from application.reading import ReadModelBehindError
from domain.base import DomainError, NotFoundError, PermissionDeniedError
from interfaces.composition import BackOffice
from interfaces.console.pages import (approvals, contract_acts, contracts, customers, home, machines, receipts,
                                      receivables, session as session_pages)
from interfaces.console.session import ForgedForm, SignInRequired, sign_in_url
from interfaces.console.web import Console

log = logging.getLogger("ironledger.console")
STATIC = Path(__file__).parent / "static"
CONSOLE_PATH = "/console"
PAGE_MODULES = (session_pages, home, approvals, contract_acts, contracts, machines, receipts, receivables, customers)


def _nosniff(response: Response[Any]) -> Response[Any]:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def console_route_handlers(backoffice: BackOffice) -> list[Any]:
    """The console's routes: its pages under ``/console``, its static files, and ``/``."""
    console = Console(backoffice)

    def problem(request: Request, status: int, title: str, message: str, detail: str | None = None) -> Response[str]:
        caller = None
        try:
            caller = console.caller(request)
        except SignInRequired:
            pass
        return console.page(request, "problem.html", caller, status=status, title=title, message=message,
                            detail=detail)

    def on_sign_in_required(request: Request, exc: SignInRequired) -> Response[Any]:
        return Redirect(sign_in_url(exc.next_path), status_code=303)

    def on_forged(request: Request, _: Exception) -> Response[str]:
        lang = console.language(request)
        return problem(request, 403, lang.gettext("The form has expired"),
                       lang.gettext("This form was not sent from this console, or too long ago. Open the page "
                                    "again and send it once more."))

    def on_domain_error(request: Request, exc: DomainError) -> Response[str]:
        lang = console.language(request)
        if isinstance(exc, NotFoundError):
            return problem(request, 404, lang.gettext("Not found"),
                           lang.gettext("It does not exist, or it is not yours to see."))
        if isinstance(exc, PermissionDeniedError):
            return problem(request, 403, lang.gettext("Not allowed"),
                           lang.gettext("Your roles do not allow this. Ask an administrator for the role that "
                                        "does."), exc.message)
        if isinstance(exc, ReadModelBehindError):
            return problem(request, 503, lang.gettext("One moment"),
                           lang.gettext("The lists are still catching up with what you just did; reload the page "
                                        "in a moment."))
        return problem(request, 409, lang.gettext("Not done"), exc.message)

    def on_bad_request(request: Request, exc: Exception) -> Response[str]:
        lang = console.language(request)
        status = exc.status_code if isinstance(exc, HTTPException) else 400
        if status == 404:
            return problem(request, 404, lang.gettext("Not found"), lang.gettext("There is no such page."))
        if status == 405:
            return problem(request, 405, lang.gettext("Not found"), lang.gettext("There is no such page."))
        return problem(request, status if status < 500 else 400, lang.gettext("Not understood"),
                       lang.gettext("The page could not read what was sent. Open it again and retry."))

    def on_unexpected(request: Request, exc: Exception) -> Response[str]:
        log.exception("console page %s failed", request.url.path, exc_info=exc)
        lang = console.language(request)
        return problem(request, 500, lang.gettext("Something went wrong"),
                       lang.gettext("Nothing was recorded. Try again; if it happens again, tell your administrator."))

    pages = Router(
        "/console", route_handlers=[r for module in PAGE_MODULES for r in module.ROUTES],
        dependencies={"console": Provide(lambda: console, sync_to_thread=False, use_cache=True)},
        exception_handlers={SignInRequired: on_sign_in_required, ForgedForm: on_forged, DomainError: on_domain_error,
                            ValidationException: on_bad_request, HTTPException: on_bad_request,
                            Exception: on_unexpected},
        include_in_schema=False, opt={"exclude_from_auth": True})
    static = create_static_files_router("/console/static", directories=[STATIC], include_in_schema=False,
                                        opt={"exclude_from_auth": True}, after_request=_nosniff)
    return [pages, static, home.root]
