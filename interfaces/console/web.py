"""What every console page uses: the person, their language, the templates, forms that
submit once, and the answer after a command.

A page is a Litestar handler that takes ``console: Console`` (a dependency) and the
request. Reading goes through the same read side as the API (``console.reader``: the
permission, the caller's scope, and waiting for the position of the caller's last
command); acting goes through the same command runner (``console.submit``).
"""

from __future__ import annotations

import uuid
from functools import cached_property
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.response import Redirect

from application.caller import Caller
from application.handling import Command
from application.ledger import CommandResult
from application.reading import Reader, Reads
from domain import ids
from domain.base import DomainError
from domain.commands import CommandRecord
from interfaces.composition import BackOffice
from interfaces.console import forms
from interfaces.console.i18n import LANGUAGE_NAMES, Language, negotiate
from interfaces.console.session import (CSRF_FIELD, FORM_KEY_FIELD, LANG_COOKIE, SECURITY_HEADERS, VERSION_FIELD,
                                        CsrfProof, caller_of)
from interfaces.console.menu import menu_for

TEMPLATES = Path(__file__).parent / "templates"


class Console:
    def __init__(self, backoffice: BackOffice) -> None:
        self.backoffice = backoffice
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                      undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    @cached_property
    def csrf(self) -> CsrfProof:
        return CsrfProof(self.backoffice.access.token_secret)

    # ------------------------------------------------------------ who and in which language
    def caller(self, request: Request) -> Caller:
        return caller_of(request, self.backoffice)

    @staticmethod
    def language(request: Request) -> Language:
        return Language(negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")))

    def reader(self, caller: Caller, spec: Reads, request: Request) -> Reader:
        """The read side's door, waiting for the position a redirect after a command names."""
        after = request.query_params.get("after")
        position = int(after) if after and after.isdigit() else None
        return self.backoffice.read_side.reader(caller, spec, position)

    # ------------------------------------------------------------ pages
    def page(self, request: Request, template: str, caller: Caller | None = None, *, status: int = 200,
             **context: Any) -> Response[str]:
        lang = self.language(request)
        csrf_value, new_csrf = self.csrf.cookie_value(request)
        names = dict(lang.templates())
        html = self.env.get_template(template).render(
            **names, request=request, caller=caller, csrf=self.csrf.proof(csrf_value),
            path=request.url.path.rstrip("/") + "/",
            languages=LANGUAGE_NAMES, menu=menu_for(caller, lang) if caller else [],
            done=self._done(request, lang), **context)
        response = Response(html, status_code=status, media_type="text/html; charset=utf-8",
                            headers=SECURITY_HEADERS)
        if new_csrf:
            response.set_cookie(self.csrf.cookie(request, csrf_value))
        return response

    @staticmethod
    def _done(request: Request, lang: Language) -> str | None:
        """The confirmation a page shows after a command redirected to it (``?done=Operation``)."""
        done = request.query_params.get("done")
        if not done or not done.isalnum():
            return None
        text = lang.pgettext("done", done)
        return text if text != done else lang.gettext("Done.")

    # ------------------------------------------------------------ forms
    def form(self, request: Request, command: type[Command], action: str, **options: Any) -> forms.Form:
        """A form of ``command`` ready to render: its fields, a CSRF proof and a fresh key,
        so that the form, once rendered, records its command at most once."""
        form = forms.build(self.language(request), command, action, **options)
        form.form_key = uuid.uuid4().hex
        return form

    def submit(self, request: Request, caller: Caller, form: forms.Form, posted: Mapping[str, Any],
               given: Mapping[str, Any], current_version: int | None = None) -> CommandResult | None:
        """Runs the posted form's command as ``caller`` (``given``: the values the page's
        address carries). None when it was refused: the form then holds the person's values,
        the messages beside their fields and the answer's status; nothing was recorded.

        With ``current_version`` (the document's version now), a form rendered from another
        version is refused as a conflict: someone changed the document since the person
        opened it, and the page shows it as it is now. A form sent again after it went
        through is answered as the first time (its key), not as a conflict."""
        self.csrf.check(request, dict(posted))
        lang = self.language(request)
        forms.fill(form, posted)
        key = posted.get(FORM_KEY_FIELD)
        form.form_key = key if isinstance(key, str) and 8 <= len(key) <= 64 else uuid.uuid4().hex
        seen = posted.get(VERSION_FIELD)
        if (current_version is not None and isinstance(seen, str) and seen != str(current_version)
                and not self._already_sent(caller, form.form_key)):
            form.version = current_version
            forms.refused(lang, form, forms.FormRefused(None, lang.gettext(
                "Someone else changed this since you opened it; the page now shows it as it is. "
                "Check it and send the form again.")))
            form.status = 409
            return None
        try:
            command = forms.command_of(lang, form, posted, given)
            return self.backoffice.commands.execute(caller, command, f"console:{form.form_key}")
        except forms.FormRefused as error:
            forms.refused(lang, form, error)
            form.status = 422
        except DomainError as error:
            if error.code in ("not-found", "forbidden") or error.code.endswith("-not-found"):
                raise
            forms.refused(lang, form, error)
            form.status = 422 if error.code == "invalid-value" else 409
        return None

    def _already_sent(self, caller: Caller, form_key: str) -> bool:
        record = ids.command_record_id(caller.user_id, f"console:{form_key}")
        return self.backoffice.commands.find(record, CommandRecord) is not None

    @staticmethod
    def done(form: forms.Form, result: CommandResult, url: str) -> Redirect:
        """After a form's command: to ``url``, which waits for the command's position (so it
        already shows the effect) and confirms what was done."""
        return Redirect(with_query(url, after=result.position, done=form.command.operation()), status_code=303)


def with_query(url: str, **values: Any) -> str:
    extra = urlencode({k: v for k, v in values.items() if v is not None})
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + extra


def hidden_fields(csrf: str, form_key: str) -> Mapping[str, str]:
    return {CSRF_FIELD: csrf, FORM_KEY_FIELD: form_key}


ConsoleDep = NamedDependency[Console]
