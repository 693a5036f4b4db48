"""Receivables (应收): the list with its filters and export, the aging report, a customer's
statement of account (对账单), and one contract's receivable with its items, receipts (and
what each paid), penalty and history. Figures that depend on the day are as of today's
business date (the aging report and the list may be asked as of another day)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from litestar import Request, Response, get
from litestar.params import FromPath

from application import queries
from application.caller import Caller
from application.reading import row, rows
from domain.access import Permission, Role
from domain.base import NotFoundError
from domain.receivables import DebtStatus
from interfaces.console import choosers, forms
from interfaces.console.lists import ListQuery, csv_download
from interfaces.console.pages.receipts import load_debt, names_of, receipt_acts
from interfaces.console.web import Console, ConsoleDep
from projections.receivables import BUCKETS, debts, reports
from projections.receivables.rows import AgingRow, CustomerStatementRow, ReceivableRow

FILTERS = ("company_id", "customer_id", "owner_id", "status", "aging", "overdue_only", "collector_id", "as_of")
AGING = tuple(name for name, _, _ in BUCKETS)
# The aging row's fields, in the buckets' order.
BUCKET_FIELDS = dict(zip(AGING, ("current", "days_1_30", "days_31_60", "days_61_90", "days_91_180",
                                 "days_over_180")))
CHOOSER_LIMIT = 500


def _as_of(console: Console, q: ListQuery) -> date:
    return q.day("as_of") or console.backoffice.today()


def receivable_filter(q: ListQuery) -> debts.ReceivableFilter:
    status, aging = q.text("status"), q.text("aging")
    return debts.ReceivableFilter(
        company_id=q.uuid("company_id"), customer_id=q.uuid("customer_id"), owner_id=q.uuid("owner_id"),
        status=status if status in set(DebtStatus) else None, aging=aging if aging in AGING else None,
        overdue_only=q.flag("overdue_only"), collector_id=q.uuid("collector_id"))


def _collectors(console: Console, request: Request, caller: Caller) -> forms.Choices:
    """The collectors of the receivables the person sees (and the person, when they collect)."""
    read = console.reader(caller, queries.RECEIVABLES, request)
    found, _ = read(debts.list_receivables, debts.ReceivableFilter(), console.backoffice.today(), 1, CHOOSER_LIMIT)
    seen: dict[str, str] = {}
    if Role.COLLECTOR in caller.roles:
        seen[str(caller.user_id)] = caller.username
    for r in found:
        c = r["collection"]
        if c["collector_id"] is not None:
            seen.setdefault(str(c["collector_id"]), c["collector_name"] or str(c["collector_id"]))
    return sorted(seen.items(), key=lambda c: c[1])


@get("/receivables", sync_to_thread=True)
def receivable_list(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    q = ListQuery(request, FILTERS)
    read = console.reader(caller, queries.RECEIVABLES, request)
    as_of = _as_of(console, q)
    found, total = read(debts.list_receivables, receivable_filter(q), as_of, q.page, q.page_size, "days_past_due")
    backoffice = console.backoffice
    return console.page(request, "receivables.html", caller, q=q, items=rows(ReceivableRow, found), total=total,
                        as_of=as_of, statuses=[str(s) for s in DebtStatus], buckets=AGING,
                        companies=choosers.companies(backoffice, caller),
                        customers=choosers.customers_of(backoffice, caller),
                        salespeople=choosers.salespeople(backoffice, caller),
                        collectors=_collectors(console, request, caller))


@get("/receivables/export.csv", sync_to_thread=True)
def receivable_export(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    q = ListQuery(request, FILTERS)
    read = console.reader(caller, queries.RECEIVABLES, request)
    return csv_download(debts.EXPORT_COLUMNS, read(debts.export_receivables, receivable_filter(q),
                                                   _as_of(console, q)), "receivables.csv")


# ---------------------------------------------------------------- the aging report
@get("/receivables/aging", sync_to_thread=True)
def aging(request: Request, console: ConsoleDep) -> Response[str]:
    """Unpaid amounts by days past due, per member company or per customer, with the total."""
    caller = console.caller(request)
    q = ListQuery(request, ("group_by", "company_id", "as_of"))
    group_by = "customer" if q.text("group_by") == "customer" else "company"
    as_of = _as_of(console, q)
    read = console.reader(caller, queries.RECEIVABLES, request)
    found = rows(AgingRow, read(reports.aging_report, as_of, group_by, q.uuid("company_id")))
    total = {field: sum((getattr(r, field) for r in found), Decimal("0.00"))
             for field in ("outstanding", "penalty_outstanding", "overdue", *BUCKET_FIELDS.values())}
    total["receivables"] = sum(r.receivables for r in found)
    return console.page(request, "aging.html", caller, q=q, group_by=group_by, as_of=as_of, items=found,
                        total=total, buckets=list(BUCKET_FIELDS.items()),
                        companies=choosers.companies(console.backoffice, caller))


# ---------------------------------------------------------------- a customer's statement
@get("/receivables/statement", sync_to_thread=True)
def statement(request: Request, console: ConsoleDep) -> Response[str]:
    """对账单: the customer's charges, penalties, receipts and reversals in date order, with the
    balance after each line, over a date range (to today when no end is given)."""
    caller = console.caller(request)
    q = ListQuery(request, ("customer_id", "date_from", "date_to"))
    lang = console.language(request)
    customer_id, date_from = q.uuid("customer_id"), q.day("date_from")
    date_to = q.day("date_to") or console.backoffice.today()
    read = console.reader(caller, queries.RECEIVABLES, request)
    found, problem, status = None, None, 200
    if date_from is not None and date_from > date_to:
        problem, status = lang.gettext("The start of the range is after its end."), 422
    elif customer_id is not None:
        answer = read(reports.customer_statement, customer_id, date_from, date_to)
        if answer is None:
            raise NotFoundError(f"Customer {customer_id} does not exist.", code="customer-not-found")
        found = row(CustomerStatementRow, answer)
    return console.page(request, "statement.html", caller, status=status, q=q, statement=found, problem=problem,
                        date_to=date_to, customers=choosers.customers_of(console.backoffice, caller))


# ---------------------------------------------------------------- one receivable
def receivable_page(console: Console, request: Request, caller: Caller, contract_id: UUID, *, status: int = 200,
                    refused: forms.Form | None = None, refused_id: UUID | None = None) -> Response[str]:
    """A receivable's page; ``refused``: an act on receipt ``refused_id`` that came back with its messages."""
    debt = load_debt(console, request, caller, contract_id)
    history = console.backoffice.history.receivable_history(caller, contract_id)
    read = console.reader(caller, queries.RECEIVABLES, request)
    names = read(names_of, [u for r in debt.receipts for u in (r.recorded_by, r.decided_by)])
    is_open = debt.status == DebtStatus.OPEN
    acts = {r.receipt_id: receipt_acts(console, request, caller, contract_id, r, is_open, refused, refused_id)
            for r in debt.receipts}
    may_record = is_open and caller.may(Permission.RECORD_RECEIPTS) and not caller.read_only
    return console.page(request, "receivable.html", caller, status=status, debt=debt, history=history, names=names,
                        acts=acts, may_record=may_record, refused=refused,
                        may_see_contract=caller.may(Permission.VIEW_CONTRACTS))


@get("/receivables/{contract_id:uuid}", sync_to_thread=True)
def receivable_detail(request: Request, console: ConsoleDep, contract_id: FromPath[UUID]) -> Response[str]:
    return receivable_page(console, request, console.caller(request), contract_id)


ROUTES = [receivable_list, receivable_export, aging, statement, receivable_detail]
