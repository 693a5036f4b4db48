"""Choices for the fields where a person names a thing: companies, warehouses, customers,
contacts, machine models, salespeople. People pick codes and names, never type ids; each
list holds only what the person may see (the same read side and scope as every page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application import queries
from application.caller import Caller
from application.reading import Reads
from domain.base import PermissionDeniedError
from interfaces.composition import BackOffice
from interfaces.console.forms import Choices
from projections import contracts, customers, organisation

CHOOSER_LIMIT = 500


def _ask(backoffice: BackOffice, caller: Caller, spec: Reads, fn: Callable[..., Any], *args: Any) -> Any:
    """The rows, or none when the person may not read that list."""
    try:
        return backoffice.read_side.reader(caller, spec)(fn, *args)
    except PermissionDeniedError:
        return []


def companies(backoffice: BackOffice, caller: Caller) -> Choices:
    return [(str(c["company_id"]), f"{c['code']} {c['name']}")
            for c in _ask(backoffice, caller, queries.ORGANISATION, organisation.list_companies)]


def warehouses(backoffice: BackOffice, caller: Caller, machines_only: bool = False) -> Choices:
    found = _ask(backoffice, caller, queries.ORGANISATION, organisation.list_warehouses)
    return [(str(w["warehouse_id"]), f"{w['company_code']} {w['code']} {w['name']}") for w in found
            if not machines_only or w["kind"] == "main"]


def machine_models(backoffice: BackOffice, caller: Caller) -> Choices:
    return [(str(m["model_id"]), f"{m['code']} {m['name']}")
            for m in _ask(backoffice, caller, queries.ORGANISATION_GROUP, organisation.list_machine_models)]


def customers_of(backoffice: BackOffice, caller: Caller) -> Choices:
    found = _ask(backoffice, caller, queries.CUSTOMERS, customers.list_customers, customers.CustomerFilter(), 1,
                 CHOOSER_LIMIT)
    rows = found[0] if found else []
    return [(str(c["customer_id"]), f"{c['name']} ({c['company_code']})") for c in rows]


def contacts_of(backoffice: BackOffice, caller: Caller) -> Choices:
    found = _ask(backoffice, caller, queries.CUSTOMERS, customers.list_contacts, None, None, 1, CHOOSER_LIMIT)
    rows = found[0] if found else []
    return [(str(c["contact_id"]), f"{c['name']} {c['phone'] or ''}".strip()) for c in rows]


def salespeople(backoffice: BackOffice, caller: Caller) -> Choices:
    return [(str(s["owner_id"]), s["salesperson"] or str(s["owner_id"]))
            for s in _ask(backoffice, caller, queries.CONTRACTS, contracts.list_salespeople)]
