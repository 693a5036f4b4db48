"""Customers and contacts, with their types, tags and links; seen by their owner and those above."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.access import Scope
from domain.customers import Contact, Customer, CustomerTag, CustomerType, PartyKind
from projections.base import Projection, handles, like_contains, page_bounds, visible_filter
from projections.rows import Row


class CustomersProjection(Projection):
    name = "customers"
    version = 1
    tables = ("customer_types", "customer_tags", "customers", "customer_tag_links", "contacts", "customer_contacts")
    ddl = (
        "CREATE TABLE IF NOT EXISTS customer_types (customer_type_id {uuid} PRIMARY KEY, code TEXT NOT NULL,"
        " name TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS customer_tags (tag_id {uuid} PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS customers (customer_id {uuid} PRIMARY KEY, company_id {uuid} NOT NULL,"
        " owner_id {uuid} NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, customer_type_id {uuid} NOT NULL,"
        " customer_type_code TEXT NOT NULL, id_number TEXT, phone TEXT, address TEXT,"
        " registered_on {date} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS customers_company_owner ON customers (company_id, owner_id)",
        "CREATE TABLE IF NOT EXISTS customer_tag_links (customer_id {uuid} NOT NULL, tag_id {uuid} NOT NULL,"
        " tag_code TEXT NOT NULL, PRIMARY KEY (customer_id, tag_id))",
        "CREATE TABLE IF NOT EXISTS contacts (contact_id {uuid} PRIMARY KEY, company_id {uuid} NOT NULL,"
        " owner_id {uuid} NOT NULL, name TEXT NOT NULL, phone TEXT, title TEXT, registered_on {date} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS contacts_company_owner ON contacts (company_id, owner_id)",
        "CREATE TABLE IF NOT EXISTS customer_contacts (customer_id {uuid} NOT NULL, contact_id {uuid} NOT NULL,"
        " linked_on {date} NOT NULL, by_contract_id {uuid}, PRIMARY KEY (customer_id, contact_id))",
    )

    @handles(CustomerType.Defined)
    def type_defined(self, cur: Any, e: CustomerType.Defined) -> None:
        cur.execute("INSERT INTO customer_types (customer_type_id, code, name) VALUES (%s, %s, %s)",
                    (e.originator_id, e.code, e.name))

    @handles(CustomerTag.Defined)
    def tag_defined(self, cur: Any, e: CustomerTag.Defined) -> None:
        cur.execute("INSERT INTO customer_tags (tag_id, code, name) VALUES (%s, %s, %s)",
                    (e.originator_id, e.code, e.name))

    @handles(Customer.Registered)
    def customer_registered(self, cur: Any, e: Customer.Registered) -> None:
        cur.execute("INSERT INTO customers (customer_id, company_id, owner_id, name, kind, customer_type_id,"
                    " customer_type_code, id_number, phone, address, registered_on)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.company_id, e.owner_id, e.name, str(e.kind), e.customer_type_id,
                     e.customer_type_code, e.id_number, e.phone, e.address, e.business_date))

    @handles(Customer.Tagged)
    def tagged(self, cur: Any, e: Customer.Tagged) -> None:
        cur.execute("INSERT INTO customer_tag_links (customer_id, tag_id, tag_code) VALUES (%s, %s, %s)",
                    (e.originator_id, e.tag_id, e.tag_code))

    @handles(Customer.Untagged)
    def untagged(self, cur: Any, e: Customer.Untagged) -> None:
        cur.execute("DELETE FROM customer_tag_links WHERE customer_id = %s AND tag_id = %s",
                    (e.originator_id, e.tag_id))

    @handles(Customer.ContactLinked)
    def contact_linked(self, cur: Any, e: Customer.ContactLinked) -> None:
        cur.execute("INSERT INTO customer_contacts (customer_id, contact_id, linked_on, by_contract_id)"
                    " VALUES (%s, %s, %s, %s)", (e.originator_id, e.contact_id, e.business_date, e.by_contract_id))

    @handles(Contact.Registered)
    def contact_registered(self, cur: Any, e: Contact.Registered) -> None:
        cur.execute("INSERT INTO contacts (contact_id, company_id, owner_id, name, phone, title, registered_on)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.company_id, e.owner_id, e.name, e.phone, e.title, e.business_date))


@dataclass(frozen=True)
class CustomerFilter:
    company_id: UUID | None = None
    owner_id: UUID | None = None
    customer_type_id: UUID | None = None
    tag_id: UUID | None = None
    name: str | None = None

    def where(self, scope: Scope, own_only: UUID | None) -> tuple[str, list[Any]]:
        where, params = visible_filter(scope, "k.company_id", "k.owner_id", own_only)
        for column, value in (("k.company_id", self.company_id), ("k.owner_id", self.owner_id),
                              ("k.customer_type_id", self.customer_type_id)):
            if value is not None:
                where += f" AND {column} = %s"
                params.append(value)
        if self.tag_id is not None:
            where += " AND EXISTS (SELECT 1 FROM customer_tag_links t WHERE t.customer_id = k.customer_id AND t.tag_id = %s)"
            params.append(self.tag_id)
        if self.name:
            where += " AND LOWER(k.name) LIKE %s ESCAPE '!'"
            params.append(like_contains(self.name.lower()))
        return where, params


_CUSTOMER = ("k.customer_id, k.name, k.kind, k.customer_type_code, k.id_number, k.phone, k.address, k.company_id,"
             " c.code AS company_code, k.owner_id, u.username AS owner, k.registered_on")
_CUSTOMER_FROM = ("customers k LEFT JOIN org_companies c ON c.company_id = k.company_id"
                  " LEFT JOIN access_users u ON u.user_id = k.owner_id")
CUSTOMER_EXPORT_COLUMNS = ("name", "kind", "customer_type_code", "id_number", "phone", "address", "company_code",
                           "owner", "registered_on", "customer_id")


def list_customers(cur: Any, scope: Scope, own_only: UUID | None, flt: CustomerFilter, page: int,
                   page_size: int) -> tuple[list[dict[str, Any]], int]:
    where, params = flt.where(scope, own_only)
    cur.execute(f"SELECT COUNT(*) AS n FROM customers k WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT {_CUSTOMER} FROM {_CUSTOMER_FROM} WHERE {where} ORDER BY k.name, k.customer_id"
                " LIMIT %s OFFSET %s", [*params, limit, offset])
    rows = cur.fetchall()
    _attach_tags(cur, rows)
    return rows, total


def export_customers(cur: Any, scope: Scope, own_only: UUID | None, flt: CustomerFilter,
                     batch: int = 1000) -> Iterator[dict[str, Any]]:
    where, params = flt.where(scope, own_only)
    offset = 0
    while True:
        cur.execute(f"SELECT {_CUSTOMER} FROM {_CUSTOMER_FROM} WHERE {where} ORDER BY k.name, k.customer_id"
                    " LIMIT %s OFFSET %s", [*params, batch, offset])
        rows = cur.fetchall()
        yield from rows
        if len(rows) < batch:
            return
        offset += batch


def count_customers(cur: Any, scope: Scope, own_only: UUID | None, flt: CustomerFilter) -> list[dict[str, Any]]:
    where, params = flt.where(scope, own_only)
    cur.execute(f"SELECT k.company_id, c.code AS company_code, COUNT(*) AS customers FROM {_CUSTOMER_FROM}"
                f" WHERE {where} GROUP BY k.company_id, c.code ORDER BY c.code", params)
    return cur.fetchall()


def get_customer(cur: Any, scope: Scope, own_only: UUID | None, customer_id: UUID) -> dict[str, Any] | None:
    where, params = visible_filter(scope, "k.company_id", "k.owner_id", own_only)
    cur.execute(f"SELECT {_CUSTOMER} FROM {_CUSTOMER_FROM} WHERE k.customer_id = %s AND {where}",
                [customer_id, *params])
    row = cur.fetchone()
    if row is None:
        return None
    _attach_tags(cur, [row])
    cur.execute("SELECT n.contact_id, n.name, n.phone, n.title, l.linked_on, l.by_contract_id"
                " FROM customer_contacts l JOIN contacts n ON n.contact_id = l.contact_id"
                " WHERE l.customer_id = %s ORDER BY n.name", (customer_id,))
    row["contacts"] = cur.fetchall()
    return row


def _attach_tags(cur: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = [r["customer_id"] for r in rows]
    cur.execute(f"SELECT customer_id, tag_code FROM customer_tag_links WHERE customer_id IN"
                f" ({', '.join(['%s'] * len(keys))}) ORDER BY tag_code", keys)
    tags: dict[str, list[str]] = {}
    for t in cur.fetchall():
        tags.setdefault(str(t["customer_id"]), []).append(t["tag_code"])
    for r in rows:
        r["tags"] = tags.get(str(r["customer_id"]), [])


def list_contacts(cur: Any, scope: Scope, own_only: UUID | None, company_id: UUID | None, name: str | None,
                  page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    where, params = visible_filter(scope, "n.company_id", "n.owner_id", own_only)
    if company_id is not None:
        where += " AND n.company_id = %s"
        params.append(company_id)
    if name:
        where += " AND LOWER(n.name) LIKE %s ESCAPE '!'"
        params.append(like_contains(name.lower()))
    cur.execute(f"SELECT COUNT(*) AS n FROM contacts n WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute("SELECT n.contact_id, n.name, n.phone, n.title, n.company_id, c.code AS company_code, n.owner_id,"
                " u.username AS owner, n.registered_on FROM contacts n"
                " LEFT JOIN org_companies c ON c.company_id = n.company_id"
                " LEFT JOIN access_users u ON u.user_id = n.owner_id"
                f" WHERE {where} ORDER BY n.name, n.contact_id LIMIT %s OFFSET %s", [*params, limit, offset])
    return cur.fetchall(), total


def list_customer_types(cur: Any) -> list[dict[str, Any]]:
    cur.execute("SELECT customer_type_id, code, name FROM customer_types ORDER BY code")
    return cur.fetchall()


def list_customer_tags(cur: Any) -> list[dict[str, Any]]:
    cur.execute("SELECT tag_id, code, name FROM customer_tags ORDER BY code")
    return cur.fetchall()


# ================================================================ typed rows
class CustomerRow(Row):
    customer_id: UUID
    name: str
    kind: PartyKind
    customer_type_code: str
    id_number: str | None
    phone: str | None
    address: str | None
    company_id: UUID
    company_code: str | None
    owner_id: UUID
    owner: str | None
    registered_on: date
    tags: list[str]


class LinkedContactRow(Row):
    """A contact linked to a customer: by a clerk, or by the approval of a contract naming them."""

    contact_id: UUID
    name: str
    phone: str | None
    title: str | None
    linked_on: date
    by_contract_id: UUID | None


class CustomerDetailRow(CustomerRow):
    contacts: list[LinkedContactRow]


class CustomerCountRow(Row):
    company_id: UUID
    company_code: str | None
    customers: int


class ContactRow(Row):
    contact_id: UUID
    name: str
    phone: str | None
    title: str | None
    company_id: UUID
    company_code: str | None
    owner_id: UUID
    owner: str | None
    registered_on: date


class CustomerTypeRow(Row):
    customer_type_id: UUID
    code: str
    name: str


class CustomerTagRow(Row):
    tag_id: UUID
    code: str
    name: str
