"""Who is at the console, and proof that a form came from it.

- **Session**: signing in puts the access token the API would hand out into an HttpOnly,
  SameSite=Lax cookie (Secure over HTTPS). Every request authenticates it exactly as a
  bearer token is authenticated, so expiry, a changed password, a deactivated user or a
  revoked role end the session at the next request, as they do for API tokens.
- **CSRF** (signed double submit, OWASP): a random value in a cookie of its own; every form
  carries its keyed hash, and a POST whose form does not carry the hash of the cookie it
  came with is refused before anything is read.
- **Security headers** on every console answer: a Content-Security-Policy without inline
  script, no framing, no sniffing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie

from application.access import AuthenticationError
from application.caller import Caller
from interfaces.composition import BackOffice

SESSION_COOKIE = "ironledger_session"
CSRF_COOKIE = "ironledger_csrf"
LANG_COOKIE = "lang"
CSRF_FIELD = "_csrf"
FORM_KEY_FIELD = "_form_key"
VERSION_FIELD = "_version"     # the version of the document a form was rendered from

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """No session, or one that no longer holds: the person signs in (again)."""

    def __init__(self, next_path: str = "/console/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


class ForgedForm(Exception):
    """A POST without the CSRF proof of the browser that sent it."""


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def caller_of(request: Request, backoffice: BackOffice) -> Caller:
    """The signed-in person, checked now (expiry, password change, deactivation, roles)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired(_here(request))
    try:
        return backoffice.access.authenticate(token)
    except AuthenticationError:
        raise SignInRequired(_here(request)) from None


def _here(request: Request) -> str:
    path = request.url.path
    if request.method != "GET" or path.rstrip("/") == "/console":
        return "/console/"
    return path + (f"?{request.url.query}" if request.url.query else "")


def sign_in_url(next_path: str) -> str:
    return "/console/sign-in" + (f"?next={quote(next_path, safe='')}" if next_path != "/console/" else "")


def safe_next(next_path: str | None) -> str:
    """Where to go after signing in: only a console page of this server (no open redirect)."""
    if next_path and next_path.startswith("/console/") and "//" not in next_path and "\\" not in next_path:
        return next_path
    return "/console/"


def session_cookie(request: Request, token: str, max_age: int) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=token, path="/", httponly=True, samesite="lax",
                  secure=_secure(request), max_age=max_age)


def end_session(response: Response[Any]) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


# ---------------------------------------------------------------- CSRF
class CsrfProof:
    """The browser's CSRF value (a cookie) and the proof its forms carry (a keyed hash)."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"console-csrf:" + secret.encode()).digest()

    def cookie_value(self, request: Request) -> tuple[str, bool]:
        """The browser's value, and whether it is new (to be set on the answer)."""
        value = request.cookies.get(CSRF_COOKIE)
        if value and 20 <= len(value) <= 100:
            return value, False
        return secrets.token_urlsafe(32), True

    def proof(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def check(self, request: Request, form: dict[str, Any]) -> None:
        value = request.cookies.get(CSRF_COOKIE)
        sent = form.get(CSRF_FIELD)
        if isinstance(sent, list):
            sent = sent[0] if sent else None
        if not value or not isinstance(sent, str) or not hmac.compare_digest(self.proof(value), sent):
            raise ForgedForm()

    def cookie(self, request: Request, value: str) -> Cookie:
        return Cookie(key=CSRF_COOKIE, value=value, path="/console", httponly=True, samesite="strict",
                      secure=_secure(request))
