"""Home by role: my to-dos with their counts, each a link to the list that holds them."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request, Response, get
from litestar.response import Redirect

from application import queries
from application.caller import Caller
from domain.access import Permission
from domain.contracts import ContractStatus, OutboundStatus
from interfaces.console.i18n import Language
from interfaces.console.web import Console, ConsoleDep
from projections import approval_queue, contracts, deliveries
from projections.receivables import debts, receipts


@dataclass(frozen=True)
class ToDo:
    label: str
    count: int
    link: str


def _count(found: tuple[list, int]) -> int:
    return found[1]


def to_dos(console: Console, caller: Caller, request: Request, lang: Language) -> list[ToDo]:
    """What waits for this person, by what their roles let them do."""
    items: list[ToDo] = []
    if caller.may(Permission.VIEW_APPROVALS) or caller.roles:
        read = console.reader(caller, queries.MY_APPROVALS, request)
        waiting = sum(r["waiting"] for r in read(approval_queue.count_my_approvals, caller.roles, caller.user_id,
                                                  caller.own_only))
        if waiting or caller.may(Permission.VIEW_APPROVALS):
            items.append(ToDo(lang.gettext("Approvals waiting for me"), waiting, "/console/approvals"))
    if caller.may(Permission.DRAFT_CONTRACTS) and caller.may(Permission.VIEW_CONTRACTS):
        read = console.reader(caller, queries.CONTRACTS, request)
        mine = contracts.ContractFilter(status=str(ContractStatus.DRAFT), owner_id=caller.user_id)
        items.append(ToDo(lang.gettext("My drafts and contracts returned to me"),
                          _count(read(contracts.list_contracts, mine, 1, 1)),
                          f"/console/contracts?status=draft&owner_id={caller.user_id}"))
    if caller.may(Permission.PREPARE_CONTRACTS) and caller.may(Permission.VIEW_CONTRACTS):
        read = console.reader(caller, queries.CONTRACTS, request)
        with_clerk = contracts.ContractFilter(status=str(ContractStatus.WITH_CLERK))
        items.append(ToDo(lang.gettext("Contracts waiting for terms"),
                          _count(read(contracts.list_contracts, with_clerk, 1, 1)),
                          "/console/contracts?status=with_clerk"))
    if caller.may(Permission.CONFIRM_RECEIPTS) and caller.may(Permission.VIEW_RECEIVABLES):
        read = console.reader(caller, queries.RECEIVABLES, request)
        items.append(ToDo(lang.gettext("Receipts to confirm"),
                          _count(read(receipts.list_receipts, receipts.ReceiptFilter(status="recorded"), 1, 1)),
                          "/console/receipts?status=recorded"))
    if caller.may(Permission.VIEW_DELIVERIES):
        read = console.reader(caller, queries.DELIVERIES, request)
        if caller.may(Permission.REVIEW_OUTBOUNDS):
            found = read(deliveries.list_outbounds, deliveries.OutboundFilter(status=str(OutboundStatus.OPEN)), 1, 1)
            items.append(ToDo(lang.gettext("Outbounds to review"), _count(found), "/console/outbounds?status=open"))
        if caller.may(Permission.DISPATCH_MACHINES):
            found = read(deliveries.list_outbounds, deliveries.OutboundFilter(status=str(OutboundStatus.REVIEWED)),
                         1, 1)
            items.append(ToDo(lang.gettext("Outbounds to dispatch"), _count(found),
                              "/console/outbounds?status=reviewed"))
    if caller.may(Permission.WRITE_COLLECTION_LOGS) and caller.may(Permission.VIEW_RECEIVABLES):
        read = console.reader(caller, queries.RECEIVABLES, request)
        mine = debts.ReceivableFilter(overdue_only=True, collector_id=caller.user_id)
        found = read(debts.list_receivables, mine, console.backoffice.today(), 1, 1)
        items.append(ToDo(lang.gettext("Overdue debts assigned to me"), _count(found),
                          f"/console/receivables?overdue_only=on&collector_id={caller.user_id}"))
    return items


@get("/", sync_to_thread=True)
def home(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    lang = console.language(request)
    return console.page(request, "home.html", caller, to_dos=to_dos(console, caller, request, lang))


@get("/", sync_to_thread=False, include_in_schema=False)
def root() -> Redirect:
    """The server's address opens the console."""
    return Redirect("/console/", status_code=302)


ROUTES = [home]
