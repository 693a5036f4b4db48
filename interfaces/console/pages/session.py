"""Signing in and out, the language switch, and my account (change my password)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from application.access import AuthenticationError
from application.access.commands import ChangePassword
from interfaces.console.i18n import LANGUAGES
from interfaces.console.session import (LANG_COOKIE, SignInRequired, end_session, safe_next, session_cookie)
from interfaces.console.web import Console, ConsoleDep

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _one(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


@get("/sign-in", sync_to_thread=True)
def sign_in_page(request: Request, console: ConsoleDep, next: str | None = None) -> Response[str]:
    return console.page(request, "sign_in.html", next=safe_next(next), username="", error=None,
                        expired=bool(request.cookies.get("ironledger_session")))


@post("/sign-in", sync_to_thread=True)
def sign_in(request: Request, console: ConsoleDep, data: Form) -> Response[Any]:
    console.csrf.check(request, data)
    lang = console.language(request)
    username, password, next_path = _one(data, "username").strip(), _one(data, "password"), _one(data, "next")
    try:
        token = console.backoffice.access.login(username[:100], password[:200])
    except AuthenticationError:
        return console.page(request, "sign_in.html", status=401, next=safe_next(next_path), username=username[:100],
                            expired=False, error=lang.gettext("Wrong user name or password."))
    response: Response[Any] = Redirect(safe_next(next_path), status_code=303)
    response.set_cookie(session_cookie(request, token.access_token, console.backoffice.settings.token_ttl_seconds))
    return response


@post("/sign-out", sync_to_thread=True)
def sign_out(request: Request, console: ConsoleDep, data: Form) -> Response[Any]:
    console.csrf.check(request, data)
    response: Response[Any] = Redirect("/console/sign-in", status_code=303)
    end_session(response)
    return response


@post("/language", sync_to_thread=True)
def choose_language(request: Request, console: ConsoleDep, data: Form) -> Response[Any]:
    """The language switch: remembered in a cookie for a year."""
    console.csrf.check(request, data)
    chosen = _one(data, "lang")
    response: Response[Any] = Redirect(safe_next(_one(data, "next")), status_code=303)
    if chosen in LANGUAGES:
        response.set_cookie(LANG_COOKIE, chosen, path="/", max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


def _password_form(console: Console, request: Request):
    return console.form(request, ChangePassword, "/console/account/password")


@get("/account", sync_to_thread=True)
def account(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    return console.page(request, "account.html", caller, form=_password_form(console, request))


@post("/account/password", sync_to_thread=True)
def change_password(request: Request, console: ConsoleDep, data: Form) -> Response[Any]:
    """After the change the old session no longer holds (as every token issued before it):
    the person is signed in again with the new password."""
    caller = console.caller(request)
    form = _password_form(console, request)
    result = console.submit(request, caller, form, data, {})
    if result is None:
        return console.page(request, "account.html", caller, status=form.status, form=form)
    try:
        token = console.backoffice.access.login(caller.username, _one(data, "new_password"))
    except AuthenticationError:
        raise SignInRequired() from None
    response = console.done(form, result, "/console/account")
    response.set_cookie(session_cookie(request, token.access_token, console.backoffice.settings.token_ttl_seconds))
    return response


ROUTES = [sign_in_page, sign_in, sign_out, choose_language, account, change_password]
