"""Receipts (收款): the list by status (``recorded`` is finance's confirmation queue), recording
a receipt for a contract's receivable (part of it possibly paid with coupons), and finance's
acts on a receipt, each offered only to whom may do it now:

| act     | command        | who, when                                                         |
|---------|----------------|-------------------------------------------------------------------|
| record  | RecordReceipt  | the clerk or finance, an open receivable                          |
| confirm | ConfirmReceipt | finance, a receipt waiting, recorded by someone else (never one's own) |
| reject  | RejectReceipt  | finance, a receipt waiting, with the reason                       |
| reverse | ReverseReceipt | finance, a confirmed receipt of an open receivable, with the reason |

The command runner decides all the same: a forced post of an act not offered is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath

from application import queries
from application.caller import Caller
from application.handling import Command
from application.reading import row, rows
from application.receivables.commands import ConfirmReceipt, RecordReceipt, RejectReceipt, ReverseReceipt
from domain.access import Permission
from domain.base import NotFoundError
from domain.receivables import DebtStatus, ReceiptStatus
from interfaces.console import choosers, forms
from interfaces.console.i18n import Language
from interfaces.console.lists import ListQuery
from interfaces.console.pages.session import Form as Posted
from interfaces.console.web import Console, ConsoleDep
from projections import coupons
from projections.receivables import debts, receipts
from projections.receivables.rows import ReceiptRow, ReceivableDetailRow

FILTERS = ("status", "company_id", "contract_id")
ACTS: dict[str, type[Command]] = {"confirm": ConfirmReceipt, "reject": RejectReceipt, "reverse": ReverseReceipt}
COUPON_ROWS = 2
CHOOSER_LIMIT = 500


@dataclass
class ReceiptAct:
    slug: str
    form: forms.Form
    style: str = "primary"


# ---------------------------------------------------------------- names and choices
def names_of(cur: Any, scope: Any, own_only: Any, users: list[UUID], customers: list[UUID] = (),
             companies: list[UUID] = ()) -> dict[str, dict[UUID, str]]:
    """Who recorded and decided receipts, and their customers' and companies' names (a
    receipt row carries ids only); asked only for the rows the caller already sees."""
    found: dict[str, dict[UUID, str]] = {"users": {}, "customers": {}, "companies": {}}
    for key, table, column, name, wanted in (("users", "access_users", "user_id", "username", users),
                                             ("customers", "customers", "customer_id", "name", customers),
                                             ("companies", "org_companies", "company_id", "code", companies)):
        ids = [i for i in dict.fromkeys(wanted) if i is not None]
        if ids:
            cur.execute(f"SELECT {column} AS id, {name} AS name FROM {table}"
                        f" WHERE {column} IN ({', '.join(['%s'] * len(ids))})", ids)
            found[key] = {UUID(str(r["id"])): r["name"] for r in cur.fetchall()}
    return found


def receivable_choices(console: Console, request: Request, caller: Caller, open_only: bool = False) -> forms.Choices:
    """The receivables the person sees, by contract number and customer."""
    read = console.reader(caller, queries.RECEIVABLES, request)
    flt = debts.ReceivableFilter(status=str(DebtStatus.OPEN) if open_only else None)
    found, _ = read(debts.list_receivables, flt, console.backoffice.today(), 1, CHOOSER_LIMIT)
    return [(str(r["contract_id"]), f"{r['contract_number']} {r['customer_name'] or ''}".strip()) for r in found]


def _usable_coupons(console: Console, caller: Caller, debt: ReceivableDetailRow) -> forms.Choices:
    """Coupons of the receivable's company with a balance (the rule checks whose they are)."""
    if not caller.may(Permission.VIEW_COUPONS):
        return []
    read = console.backoffice.read_side.reader(caller, queries.COUPONS)
    found, _ = read(coupons.list_coupons, coupons.CouponFilter(company_id=debt.company_id, usable_only=True), 1,
                    CHOOSER_LIMIT)
    return [(c["code"], f"{c['code']} {c['holder_name'] or ''} · {Language.money(c['balance'])}") for c in found]


# ---------------------------------------------------------------- acts on a receipt
def act_form(console: Console, request: Request, contract_id: UUID, receipt_id: UUID, slug: str,
             back: str = "") -> forms.Form:
    """``back``: the query of the receipts list the form is on (empty on the receivable's page)."""
    action = (f"/console/receipts/{contract_id}/{receipt_id}/{slug}?{back}" if back
              else f"/console/receivables/{contract_id}/receipts/{receipt_id}/{slug}")
    return console.form(request, ACTS[slug], action, omit=("contract_id", "receipt_id"))


def receipt_acts(console: Console, request: Request, caller: Caller, contract_id: UUID, receipt: Any,
                 debt_open: bool = True, refused: forms.Form | None = None, refused_id: UUID | None = None,
                 back: str = "") -> list[ReceiptAct]:
    """What this person may do with this receipt now (a refused form in place of its fresh one)."""
    if not caller.may(Permission.CONFIRM_RECEIPTS):
        return []
    slugs: list[tuple[str, str]] = []
    if receipt.status == ReceiptStatus.RECORDED:
        if receipt.recorded_by != caller.user_id and debt_open:   # never one's own
            slugs.append(("confirm", "primary"))
        slugs.append(("reject", "danger"))
    elif receipt.status == ReceiptStatus.CONFIRMED and debt_open:
        slugs.append(("reverse", "danger"))
    ours = refused if refused is not None and refused_id == receipt.receipt_id else None
    acts = []
    for slug, style in slugs:
        mine = ours is not None and ours.command is ACTS[slug]
        form = ours if mine else act_form(console, request, contract_id, receipt.receipt_id, slug, back)
        acts.append(ReceiptAct(slug, form, style))  # type: ignore[arg-type]
    if ours is not None and not any(a.form is ours for a in acts):
        # A forced act this person is not offered (confirming their own receipt): its refusal only.
        acts.insert(0, ReceiptAct("refused", ours, ""))
    return acts


# ---------------------------------------------------------------- the list
def _status(q: ListQuery) -> str | None:
    status = q.text("status")
    return status if status in set(ReceiptStatus) else None


def receipt_list_page(console: Console, request: Request, caller: Caller, *, status: int = 200,
                      refused: forms.Form | None = None, refused_id: UUID | None = None) -> Response[str]:
    q = ListQuery(request, FILTERS)
    read = console.reader(caller, queries.RECEIVABLES, request)
    company_id, contract_id = q.uuid("company_id"), q.uuid("contract_id")
    found, total = read(receipts.list_receipts, receipts.ReceiptFilter(company_id, contract_id, _status(q)),
                        q.page, q.page_size)
    items = rows(ReceiptRow, found)
    counts = {str(s): read(receipts.list_receipts, receipts.ReceiptFilter(company_id, contract_id, str(s)), 1, 1)[1]
              for s in ReceiptStatus}
    names = read(names_of, [u for r in items for u in (r.recorded_by, r.decided_by)], [r.customer_id for r in items],
                 [r.company_id for r in items])
    back = q()
    acts = {r.receipt_id: receipt_acts(console, request, caller, r.contract_id, r, True, refused, refused_id, back)
            for r in items}
    return console.page(request, "receipts.html", caller, status=status, q=q, items=items, total=total,
                        counts=counts, names=names, acts=acts, statuses=[str(s) for s in ReceiptStatus],
                        companies=choosers.companies(console.backoffice, caller),
                        contracts=receivable_choices(console, request, caller),
                        refused=refused)


@get("/receipts", sync_to_thread=True)
def receipt_list(request: Request, console: ConsoleDep) -> Response[str]:
    return receipt_list_page(console, request, console.caller(request))


@post("/receipts/{contract_id:uuid}/{receipt_id:uuid}/{act:str}", sync_to_thread=True)
def receipt_act_in_list(request: Request, console: ConsoleDep, contract_id: FromPath[UUID],
                        receipt_id: FromPath[UUID], act: FromPath[str], data: Posted) -> Response[Any]:
    return _receipt_act(console, request, contract_id, receipt_id, act, data, from_list=True)


@post("/receivables/{contract_id:uuid}/receipts/{receipt_id:uuid}/{act:str}", sync_to_thread=True)
def receipt_act(request: Request, console: ConsoleDep, contract_id: FromPath[UUID], receipt_id: FromPath[UUID],
                act: FromPath[str], data: Posted) -> Response[Any]:
    return _receipt_act(console, request, contract_id, receipt_id, act, data, from_list=False)


def _receipt_act(console: Console, request: Request, contract_id: UUID, receipt_id: UUID, act: str,
                 data: Any, from_list: bool) -> Response[Any]:
    """Confirm, reject or reverse; back to the list it was sent from (its filters in the
    action's query), or to the receivable's page."""
    from interfaces.console.pages.receivables import receivable_page

    if act not in ACTS:
        raise NotFoundError(f"A receipt has no act {act!r}.", code="not-found")
    caller = console.caller(request)
    q = ListQuery(request, FILTERS)
    form = act_form(console, request, contract_id, receipt_id, act, q() if from_list else "")
    result = console.submit(request, caller, form, data, {"contract_id": contract_id, "receipt_id": receipt_id})
    if result is None:
        if from_list:
            return receipt_list_page(console, request, caller, status=form.status, refused=form, refused_id=receipt_id)
        return receivable_page(console, request, caller, contract_id, status=form.status, refused=form,
                               refused_id=receipt_id)
    back = f"/console/receipts?{q()}" if from_list else f"/console/receivables/{contract_id}"
    return console.done(form, result, back)


# ---------------------------------------------------------------- recording a receipt
def record_form(console: Console, request: Request, caller: Caller, debt: ReceivableDetailRow) -> forms.Form:
    lang = console.language(request)
    usable = _usable_coupons(console, caller, debt)
    form = console.form(request, RecordReceipt, f"/console/receivables/{debt.contract_id}/receipts",
                        omit=("contract_id", "allocate_to"), choices={"code": usable} if usable else {},
                        rows={"coupons": COUPON_ROWS}, values={"value_date": console.backoffice.today()})
    labels = {"method": lang.gettext("Receipt method"),
              "penalty_last": lang.gettext("Interest and principal first, penalty last")}
    for item in form.items:
        if isinstance(item, forms.Field) and item.name in labels:
            item.label = labels[item.name]
        elif isinstance(item, forms.Group) and item.name == "coupons":
            item.label = lang.gettext("Part paid with coupons")
            for r in item.rows:
                for f in r:
                    f.label = lang.gettext("Coupon") if f.name.endswith(".code") else lang.gettext(
                        "Amount from the coupon")
    return form


def load_debt(console: Console, request: Request, caller: Caller, contract_id: UUID) -> ReceivableDetailRow:
    read = console.reader(caller, queries.RECEIVABLES, request)
    found = read(debts.get_receivable, contract_id, console.backoffice.today())
    if found is None:
        raise NotFoundError(f"Contract {contract_id} has no receivable (it is not approved, or not yours to see).",
                            code="receivable-not-found")
    return row(ReceivableDetailRow, found)


def _allocate_to(posted: Any) -> list[str]:
    value = posted.get("allocate_to") if posted else None
    values = value if isinstance(value, list) else [value] if value else []
    return [v for v in values if isinstance(v, str) and v][:130]


def _new_page(console: Console, request: Request, caller: Caller, debt: ReceivableDetailRow,
              form: forms.Form, chosen: list[str], status: int = 200) -> Response[str]:
    return console.page(request, "receipt_new.html", caller, status=status, debt=debt, form=form, chosen=chosen,
                        contracts=[])


@get("/receipts/new", sync_to_thread=True)
def new_receipt(request: Request, console: ConsoleDep) -> Response[Any]:
    """Choose the receivable, then the receipt's form with its items to direct it to."""
    caller = console.caller(request)
    caller.require(Permission.RECORD_RECEIPTS)
    contract_id = ListQuery(request, ("contract_id",)).uuid("contract_id")
    if contract_id is None:
        return console.page(request, "receipt_new.html", caller, debt=None, form=None, chosen=[],
                            contracts=receivable_choices(console, request, caller, open_only=True))
    debt = load_debt(console, request, caller, contract_id)
    return _new_page(console, request, caller, debt, record_form(console, request, caller, debt), [])


@post("/receivables/{contract_id:uuid}/receipts", sync_to_thread=True)
def record_receipt(request: Request, console: ConsoleDep, contract_id: FromPath[UUID], data: Posted) -> Response[Any]:
    caller = console.caller(request)
    debt = load_debt(console, request, caller, contract_id)
    form = record_form(console, request, caller, debt)
    chosen = _allocate_to(data)
    result = console.submit(request, caller, form, data, {"contract_id": contract_id, "allocate_to": chosen})
    if result is None:
        return _new_page(console, request, caller, debt, form, chosen, form.status)
    return console.done(form, result, f"/console/receivables/{contract_id}")


ROUTES = [receipt_list, receipt_act_in_list, receipt_act, new_receipt, record_receipt]
