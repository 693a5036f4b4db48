"""The approval inbox: what waits for my decision, oldest first, within my roles and
companies. A contract opens on its own page (its route, history, approve or reject); a
collection application is decided here."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath

from application import queries
from application.collection.commands import DecideApplication
from application.reading import rows
from domain.approvals import DocumentType
from interfaces.console.forms import Form
from interfaces.console.lists import ListQuery
from interfaces.console.pages.session import Form as Posted
from interfaces.console.web import Console, ConsoleDep
from projections import approval_queue
from projections.approval_queue import ApprovalQueueRow

PAGE_SIZE = 50


def _decide_form(console: Console, request: Request, application_id: UUID) -> Form:
    return console.form(request, DecideApplication, f"/console/approvals/applications/{application_id}/decide",
                        omit=("application_id",))


def _inbox(console: Console, request: Request, decided: Form | None = None,
           decided_id: UUID | None = None, status: int = 200) -> Response[str]:
    caller = console.caller(request)
    page = ListQuery(request, ()).page
    read = console.reader(caller, queries.MY_APPROVALS, request)
    found, total = read(approval_queue.list_my_approvals, caller.roles, caller.user_id, caller.own_only, None, None,
                        page, PAGE_SIZE)
    waiting = rows(ApprovalQueueRow, found)
    forms: dict[UUID, Form] = {}
    for item in waiting:
        if item.document_type != DocumentType.SALES_CONTRACT:
            forms[item.document_id] = (decided if decided is not None and item.document_id == decided_id
                                       else _decide_form(console, request, item.document_id))
    return console.page(request, "approvals.html", caller, status=status, waiting=waiting, total=total, page=page,
                        page_size=PAGE_SIZE, forms=forms)


@get("/approvals", sync_to_thread=True)
def inbox(request: Request, console: ConsoleDep) -> Response[str]:
    return _inbox(console, request)


@post("/approvals/applications/{application_id:uuid}/decide", sync_to_thread=True)
def decide_application(request: Request, console: ConsoleDep, application_id: FromPath[UUID],
                       data: Posted) -> Response[Any]:
    caller = console.caller(request)
    form = _decide_form(console, request, application_id)
    result = console.submit(request, caller, form, data, {"application_id": application_id})
    if result is None:   # back in the inbox, the refused form beside its document
        return _inbox(console, request, form, application_id, form.status)
    return console.done(form, result, "/console/approvals")


ROUTES = [inbox, decide_application]
