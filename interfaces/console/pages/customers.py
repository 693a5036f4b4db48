"""Customers (客户) and contacts (联系人): the lists with their filters, counts and export,
registering them, a customer's page (facts, tags, linked contacts, their contracts and
statement), and the catalogue of customer types and tags.

A salesperson sees and registers only their own (避免恶意竞争: the read spec's scope and the
command's owner rule); a clerk registers for a salesperson of their companies and links
contacts; administrators keep the catalogue. Each act is offered only to whom may do it;
the command runner still decides, so a forced post is refused all the same.
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
from application.sales.commands import (CreateContact, CreateCustomer, DefineCustomerTag, DefineCustomerType,
                                        LinkContactToCustomer, TagCustomer, UntagCustomer)
from domain.access import Permission, Scope
from domain.base import NotFoundError
from interfaces.console import choosers, forms
from interfaces.console.lists import ListQuery, csv_download
from interfaces.console.pages.session import Form as Posted
from interfaces.console.web import Console, ConsoleDep, with_query
from projections import contracts, customers
from projections.base import visible_filter
from projections.contracts import ContractRow
from projections.customers import (ContactRow, CustomerCountRow, CustomerDetailRow, CustomerRow, CustomerTagRow,
                                   CustomerTypeRow)

FILTERS = ("company_id", "owner_id", "customer_type_id", "tag_id", "name")
CONTACT_FILTERS = ("company_id", "name")
CHOOSER_LIMIT = 500
CONTRACTS_SHOWN = 20
# The fields whose value must match a pattern, and the sentence that says which (the form's
# own message for a pattern is a general one).
# ---------------------------------------------------------------- what the pages offer to choose
@dataclass
class Catalogue:
    """The group's customer types and tags, by id (for choices) and by code (for showing)."""

    types: list[CustomerTypeRow]
    tags: list[CustomerTagRow]

    def type_name(self, code: str) -> str:
        return next((f"{t.name} ({t.code})" for t in self.types if t.code == code), code)

    def tag_name(self, code: str) -> str:
        return next((t.name for t in self.tags if t.code == code), code)

    def type_choices(self) -> forms.Choices:
        return [(str(t.customer_type_id), f"{t.code} {t.name}") for t in self.types]

    def tag_choices(self, codes: set[str] | None = None, having: bool = False) -> forms.Choices:
        """All tags; with ``codes``, those not among them (or, ``having``, only those)."""
        return [(str(t.tag_id), f"{t.code} {t.name}") for t in self.tags
                if codes is None or (t.code in codes) == having]


def catalogue(console: Console, request: Request, caller: Caller) -> Catalogue:
    read = console.reader(caller, queries.CUSTOMER_CATALOGUE, request)
    return Catalogue(rows(CustomerTypeRow, read(customers.list_customer_types)),
                     rows(CustomerTagRow, read(customers.list_customer_tags)))


def _record_owners(cur: Any, scope: Scope, own_only: UUID | None) -> list[dict[str, Any]]:
    """The owners of the customers and contacts the caller sees (there is no user directory
    for a clerk: the salespeople are those who own records of the caller's companies)."""
    where, params = visible_filter(scope, "k.company_id", "k.owner_id", own_only)
    cur.execute("SELECT DISTINCT k.owner_id, u.username AS salesperson FROM (SELECT company_id, owner_id FROM customers"
                " UNION SELECT company_id, owner_id FROM contacts) k"
                f" LEFT JOIN access_users u ON u.user_id = k.owner_id WHERE {where}", params)
    return cur.fetchall()


def salespeople(console: Console, request: Request, caller: Caller) -> forms.Choices:
    """Salespeople of the caller's companies: the owners in the customers and contracts read models."""
    found = console.reader(caller, queries.CUSTOMERS, request)(_record_owners)
    seen = {str(s["owner_id"]): s["salesperson"] or str(s["owner_id"]) for s in found}
    for value, label in choosers.salespeople(console.backoffice, caller):
        seen.setdefault(value, label)
    return sorted(seen.items(), key=lambda s: s[1])


def _company_values(choices: forms.Choices) -> dict[str, Any]:
    """The company filled in when the person works for one only."""
    return {"company_id": choices[0][0]} if len(choices) == 1 else {}


def _submit(console: Console, request: Request, caller: Caller, form: forms.Form, data: dict[str, Any],
            given: dict[str, Any]) -> Any:
    return console.submit(request, caller, form, data, given)


# ---------------------------------------------------------------- the customer list
def customer_filter(q: ListQuery) -> customers.CustomerFilter:
    return customers.CustomerFilter(company_id=q.uuid("company_id"), owner_id=q.uuid("owner_id"),
                                    customer_type_id=q.uuid("customer_type_id"), tag_id=q.uuid("tag_id"),
                                    name=q.text("name"))


@get("/customers", sync_to_thread=True)
def customer_list(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    q = ListQuery(request, FILTERS)
    read = console.reader(caller, queries.CUSTOMERS, request)
    flt = customer_filter(q)
    found, total = read(customers.list_customers, flt, q.page, q.page_size)
    # CountCustomers: per company, by type and tag only (as the API counts them).
    counted = rows(CustomerCountRow, read(customers.count_customers, customers.CustomerFilter(
        customer_type_id=flt.customer_type_id, tag_id=flt.tag_id)))
    return console.page(request, "customers.html", caller, q=q, items=rows(CustomerRow, found), total=total,
                        counts=counted, counted=sum(c.customers for c in counted),
                        catalogue=catalogue(console, request, caller),
                        companies=choosers.companies(console.backoffice, caller),
                        salespeople=salespeople(console, request, caller))


@get("/customers/export.csv", sync_to_thread=True)
def customer_export(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    read = console.reader(caller, queries.CUSTOMERS, request)
    return csv_download(customers.CUSTOMER_EXPORT_COLUMNS,
                        read(customers.export_customers, customer_filter(ListQuery(request, FILTERS))),
                        "customers.csv")


# ---------------------------------------------------------------- registering a customer or contact
def _owner_choices(console: Console, request: Request, caller: Caller) -> dict[str, forms.Choices]:
    return {"owner_id": salespeople(console, request, caller)}


def _registration(console: Console, request: Request, caller: Caller, command: type[Command],
                  action: str) -> forms.Form:
    """A customer's or contact's form. A salesperson registers for themself (no owner to
    name); a clerk may name the salesperson it belongs to (empty: the clerk)."""
    companies = choosers.companies(console.backoffice, caller)
    choices: dict[str, forms.Choices] = {"company_id": companies}
    omit: tuple[str, ...] = ()
    if caller.own_sales_only:
        omit = ("owner_id",)
    else:
        choices |= _owner_choices(console, request, caller)
    if command is CreateCustomer:
        choices["customer_type_id"] = catalogue(console, request, caller).type_choices()
    return console.form(request, command, action, omit=omit, choices=choices, values=_company_values(companies))


@get("/customers/new", sync_to_thread=True)
def new_customer(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    caller.require(Permission.REGISTER_CUSTOMERS)
    form = _registration(console, request, caller, CreateCustomer, "/console/customers/new")
    return console.page(request, "customer_new.html", caller, form=form)


@post("/customers/new", sync_to_thread=True)
def create_customer(request: Request, console: ConsoleDep, data: Posted) -> Response[Any]:
    caller = console.caller(request)
    form = _registration(console, request, caller, CreateCustomer, "/console/customers/new")
    result = _submit(console, request, caller, form, data, {})
    if result is None:
        return console.page(request, "customer_new.html", caller, status=form.status, form=form)
    return console.done(form, result, f"/console/customers/{result.answer.customer_id}")  # type: ignore[attr-defined]


@get("/contacts", sync_to_thread=True)
def contact_list(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    q = ListQuery(request, CONTACT_FILTERS)
    read = console.reader(caller, queries.CUSTOMERS, request)
    found, total = read(customers.list_contacts, q.uuid("company_id"), q.text("name"), q.page, q.page_size)
    return console.page(request, "contacts.html", caller, q=q, items=rows(ContactRow, found), total=total,
                        companies=choosers.companies(console.backoffice, caller))


@get("/contacts/new", sync_to_thread=True)
def new_contact(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    caller.require(Permission.REGISTER_CUSTOMERS)
    form = _registration(console, request, caller, CreateContact, "/console/contacts/new")
    return console.page(request, "contact_new.html", caller, form=form)


@post("/contacts/new", sync_to_thread=True)
def create_contact(request: Request, console: ConsoleDep, data: Posted) -> Response[Any]:
    caller = console.caller(request)
    form = _registration(console, request, caller, CreateContact, "/console/contacts/new")
    result = _submit(console, request, caller, form, data, {})
    if result is None:
        return console.page(request, "contact_new.html", caller, status=form.status, form=form)
    name = forms.nested(form, data).get("name")
    return console.done(form, result, with_query("/console/contacts", name=name))


# ---------------------------------------------------------------- a customer's page and its acts
@dataclass
class Act:
    slug: str
    form: forms.Form
    style: str = "primary"


ACTS: dict[str, type[Command]] = {"tag": TagCustomer, "untag": UntagCustomer, "link-contact": LinkContactToCustomer}


def load_customer(console: Console, request: Request, caller: Caller, customer_id: UUID) -> CustomerDetailRow:
    found = console.reader(caller, queries.CUSTOMERS, request)(customers.get_customer, customer_id)
    if found is None:
        raise NotFoundError(f"Customer {customer_id} does not exist.", code="customer-not-found")
    return row(CustomerDetailRow, found)


def _linkable_contacts(console: Console, request: Request, caller: Caller,
                       customer: CustomerDetailRow) -> forms.Choices:
    """The contacts of the customer's company not yet linked to it."""
    read = console.reader(caller, queries.CUSTOMERS, request)
    found, _ = read(customers.list_contacts, customer.company_id, None, 1, CHOOSER_LIMIT)
    linked = {c.contact_id for c in customer.contacts}
    return [(str(c.contact_id), f"{c.name} {c.phone or ''} {c.owner or ''}".strip())
            for c in rows(ContactRow, found) if c.contact_id not in linked]


def act_form(console: Console, request: Request, caller: Caller, customer: CustomerDetailRow, slug: str,
             known: Catalogue) -> forms.Form:
    action = f"/console/customers/{customer.customer_id}/{slug}"
    on = set(customer.tags)
    choices = {"tag": {"tag_id": known.tag_choices(on)}, "untag": {"tag_id": known.tag_choices(on, having=True)},
               "link-contact": {"contact_id": _linkable_contacts(console, request, caller, customer)}}[slug]
    return console.form(request, ACTS[slug], action, omit=("customer_id",), choices=choices)


def acts_for(console: Console, request: Request, caller: Caller, customer: CustomerDetailRow, known: Catalogue,
             refused: forms.Form | None = None) -> list[Act]:
    """What this person may do to this customer now: tag (tags left to put on), untag (it
    has tags), link a contact (a clerk, contacts left to link)."""
    slugs: list[tuple[str, str]] = []
    if caller.may(Permission.TAG_CUSTOMERS) and not caller.read_only:
        if known.tag_choices(set(customer.tags)):
            slugs.append(("tag", "primary"))
        if customer.tags:
            slugs.append(("untag", "danger"))
    if caller.may(Permission.LINK_CONTACTS) and not caller.read_only:
        slugs.append(("link-contact", "primary"))
    acts = []
    for slug, style in slugs:
        if refused is not None and refused.command is ACTS[slug]:
            acts.append(Act(slug, refused, style))
            continue
        form = act_form(console, request, caller, customer, slug, known)
        if slug != "link-contact" or form.find("contact_id").options:  # type: ignore[union-attr]
            acts.append(Act(slug, form, style))
    return acts


def _their_contracts(console: Console, request: Request, caller: Caller, customer_id: UUID) -> tuple[list, int]:
    if not caller.may(Permission.VIEW_CONTRACTS):
        return [], 0
    found, total = console.reader(caller, queries.CONTRACTS, request)(
        contracts.list_contracts, contracts.ContractFilter(customer_id=customer_id), 1, CONTRACTS_SHOWN)
    return rows(ContractRow, found), total


def customer_page(console: Console, request: Request, caller: Caller, customer_id: UUID, *, status: int = 200,
                  refused: forms.Form | None = None) -> Response[str]:
    customer = load_customer(console, request, caller, customer_id)
    known = catalogue(console, request, caller)
    their_contracts, contract_total = _their_contracts(console, request, caller, customer_id)
    return console.page(request, "customer.html", caller, status=status, customer=customer, catalogue=known,
                        acts=acts_for(console, request, caller, customer, known, refused),
                        contracts=their_contracts, contract_total=contract_total,
                        statement=caller.may(Permission.VIEW_RECEIVABLES))


@get("/customers/{customer_id:uuid}", sync_to_thread=True)
def customer_detail(request: Request, console: ConsoleDep, customer_id: FromPath[UUID]) -> Response[str]:
    return customer_page(console, request, console.caller(request), customer_id)


@post("/customers/{customer_id:uuid}/{act:str}", sync_to_thread=True)
def customer_act(request: Request, console: ConsoleDep, customer_id: FromPath[UUID], act: FromPath[str],
                 data: Posted) -> Response[Any]:
    if act not in ACTS:
        raise NotFoundError(f"A customer has no act {act!r}.", code="not-found")
    caller = console.caller(request)
    customer = load_customer(console, request, caller, customer_id)
    form = act_form(console, request, caller, customer, act, catalogue(console, request, caller))
    result = console.submit(request, caller, form, data, {"customer_id": customer_id})
    if result is None:   # the customer's page again, the refused form in its place
        return customer_page(console, request, caller, customer_id, status=form.status, refused=form)
    return console.done(form, result, f"/console/customers/{customer_id}")


# ---------------------------------------------------------------- the catalogue of types and tags
CATALOGUE_ACTS: dict[str, type[Command]] = {"types": DefineCustomerType, "tags": DefineCustomerTag}


def _catalogue_page(console: Console, request: Request, caller: Caller, *, status: int = 200,
                    refused: forms.Form | None = None) -> Response[str]:
    """Everyone who sees customers reads the catalogue; who keeps it gets its forms."""
    keeps = caller.may(Permission.MANAGE_CUSTOMER_CATALOGUE) and not caller.read_only
    defining = {}
    if keeps:
        for slug, command in CATALOGUE_ACTS.items():
            defining[slug] = (refused if refused is not None and refused.command is command
                              else console.form(request, command, f"/console/customers/catalogue/{slug}"))
    return console.page(request, "customer_catalogue.html", caller, status=status,
                        catalogue=catalogue(console, request, caller), defining=defining)


@get("/customers/catalogue", sync_to_thread=True)
def customer_catalogue(request: Request, console: ConsoleDep) -> Response[str]:
    return _catalogue_page(console, request, console.caller(request))


@post("/customers/catalogue/{kind:str}", sync_to_thread=True)
def define_in_catalogue(request: Request, console: ConsoleDep, kind: FromPath[str], data: Posted) -> Response[Any]:
    if kind not in CATALOGUE_ACTS:
        raise NotFoundError(f"The customer catalogue has no {kind!r}.", code="not-found")
    caller = console.caller(request)
    form = console.form(request, CATALOGUE_ACTS[kind], f"/console/customers/catalogue/{kind}")
    result = console.submit(request, caller, form, data, {})
    if result is None:
        return _catalogue_page(console, request, caller, status=form.status, refused=form)
    return console.done(form, result, "/console/customers/catalogue")


ROUTES = [customer_list, customer_export, new_customer, create_customer, customer_catalogue, define_in_catalogue,
          customer_detail, customer_act, contact_list, new_contact, create_contact]
