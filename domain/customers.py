"""Customers (客户) and contacts (联系人).

A customer signs contracts and pays: receivables hang off the customer. A
contact is the person a salesperson talks to (often the customer company's legal
representative). They are separate records; one person may be both. A clerk
links a contact to a customer by hand, and approving a contract that names both
links them by itself.

Every customer and contact belongs to one member company and has an owner: the
salesperson whose customer it is. Other salespeople do not see it (避免恶意竞争);
who sees what is decided by the caller's data scope in the application layer.
"""

from __future__ import annotations

import re
from enum import StrEnum
from uuid import UUID

from domain import ids
from domain.base import Context, DealerAggregate, DomainError, InvalidValueError, require_key, require_text
from domain.organisation import Company

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,29}$")


def optional_text(value: str | None, field: str, max_length: int) -> str | None:
    return require_text(value, field, max_length) if value is not None and value.strip() else None


def optional_phone(value: str | None) -> str | None:
    phone = optional_text(value, "phone", 30)
    if phone is not None and not _PHONE.match(phone):
        raise InvalidValueError("A phone number has digits, spaces or '-' only (e.g. 138 0000 0000).", field="phone")
    return phone


class CustomerType(DealerAggregate):
    """A configurable customer type (first-time, intended, potential, formal…), group-wide."""

    is_reference_data = True

    class Defined(DealerAggregate.Created):
        code: str
        name: str

        def apply(self, customer_type: CustomerType) -> None:
            customer_type.code = self.code
            customer_type.name = self.name

    @classmethod
    def define(cls, ctx: Context, code: str, name: str) -> CustomerType:
        code = require_key(code, "code", 20)
        return cls._start(cls.Defined, ids.customer_type_id(code), ctx, None, code=code,
                          name=require_text(name, "name", 100))


class CustomerTag(DealerAggregate):
    """A tag administrators keep (e.g. 'VIP', 'mining'), group-wide; salespeople put it on their customers."""

    is_reference_data = True

    class Defined(DealerAggregate.Created):
        code: str
        name: str

        def apply(self, tag: CustomerTag) -> None:
            tag.code = self.code
            tag.name = self.name

    @classmethod
    def define(cls, ctx: Context, code: str, name: str) -> CustomerTag:
        code = require_key(code, "code", 20)
        return cls._start(cls.Defined, ids.customer_tag_id(code), ctx, None, code=code,
                          name=require_text(name, "name", 100))


class PartyKind(StrEnum):
    ORGANISATION = "organisation"   # a company: identified by its unified social credit code
    PERSON = "person"               # a private buyer: identified by ID card number


class TagAlreadyOnCustomerError(DomainError):
    code = "tag-already-on-customer"


class TagNotOnCustomerError(DomainError):
    code = "tag-not-on-customer"


class ContactAlreadyLinkedError(DomainError):
    code = "contact-already-linked"


class OtherCompanyError(InvalidValueError):
    code = "other-company"


MAX_TAGS = 30


class Contact(DealerAggregate):
    """联系人: a person a salesperson talks to."""

    class Registered(DealerAggregate.Created):
        owner_id: UUID
        name: str
        phone: str | None
        title: str | None

        def apply(self, contact: Contact) -> None:
            contact.company_id = self.company_id
            contact.owner_id = self.owner_id
            contact.name = self.name
            contact.phone = self.phone
            contact.title = self.title

    @classmethod
    def register(cls, ctx: Context, aggregate_id: UUID, company: Company, owner_id: UUID, name: str,
                 phone: str | None = None, title: str | None = None) -> Contact:
        return cls._start(cls.Registered, aggregate_id, ctx, company.id, owner_id=owner_id,
                          name=require_text(name, "name", 100), phone=optional_phone(phone),
                          title=optional_text(title, "title", 100))


class Customer(DealerAggregate):
    """客户: signs contracts and pays."""

    class Registered(DealerAggregate.Created):
        owner_id: UUID
        name: str
        kind: PartyKind
        customer_type_id: UUID
        customer_type_code: str
        id_number: str | None
        phone: str | None
        address: str | None

        def apply(self, customer: Customer) -> None:
            customer.company_id = self.company_id
            customer.owner_id = self.owner_id
            customer.name = self.name
            customer.kind = self.kind
            customer.customer_type_id = self.customer_type_id
            customer.id_number = self.id_number
            customer.phone = self.phone
            customer.address = self.address
            customer.tag_ids = frozenset()
            customer.contact_ids = frozenset()

    class Tagged(DealerAggregate.Event):
        tag_id: UUID
        tag_code: str

        def apply(self, customer: Customer) -> None:
            customer.tag_ids = customer.tag_ids | {self.tag_id}

    class Untagged(DealerAggregate.Event):
        tag_id: UUID

        def apply(self, customer: Customer) -> None:
            customer.tag_ids = customer.tag_ids - {self.tag_id}

    class ContactLinked(DealerAggregate.Event):
        """``by_contract_id`` is set when the approval of that contract linked them."""

        contact_id: UUID
        contact_name: str
        by_contract_id: UUID | None

        def apply(self, customer: Customer) -> None:
            customer.contact_ids = customer.contact_ids | {self.contact_id}

    @classmethod
    def register(cls, ctx: Context, aggregate_id: UUID, company: Company, owner_id: UUID, name: str,
                 kind: PartyKind, customer_type: CustomerType, id_number: str | None = None,
                 phone: str | None = None, address: str | None = None) -> Customer:
        number = optional_text(id_number, "id_number", 30)
        return cls._start(cls.Registered, aggregate_id, ctx, company.id, owner_id=owner_id,
                          name=require_text(name, "name", 200), kind=PartyKind(kind),
                          customer_type_id=customer_type.id, customer_type_code=customer_type.code,
                          id_number=ids.normalise_key(number) if number else None, phone=optional_phone(phone),
                          address=optional_text(address, "address", 300))

    def tag(self, ctx: Context, tag: CustomerTag) -> None:
        if tag.id in self.tag_ids:
            raise TagAlreadyOnCustomerError(f"{self.name} already has the tag {tag.code}.")
        if len(self.tag_ids) >= MAX_TAGS:
            raise InvalidValueError(f"A customer has at most {MAX_TAGS} tags.", field="tag_id")
        self._record(self.Tagged, ctx, self.company_id, tag_id=tag.id, tag_code=tag.code)

    def untag(self, ctx: Context, tag: CustomerTag) -> None:
        if tag.id not in self.tag_ids:
            raise TagNotOnCustomerError(f"{self.name} does not have the tag {tag.code}.")
        self._record(self.Untagged, ctx, self.company_id, tag_id=tag.id)

    def link_contact(self, ctx: Context, contact: Contact) -> None:
        """A clerk links a contact by hand."""
        if contact.id in self.contact_ids:
            raise ContactAlreadyLinkedError(f"{contact.name} is already a contact of {self.name}.")
        self._check_same_company(contact)
        self._record(self.ContactLinked, ctx, self.company_id, contact_id=contact.id, contact_name=contact.name,
                     by_contract_id=None)

    def link_contact_of_contract(self, ctx: Context, contact: Contact, contract_id: UUID) -> bool:
        """Approving a contract naming both links them, once. True if a link was recorded."""
        if contact.id in self.contact_ids:
            return False
        self._check_same_company(contact)
        self._record(self.ContactLinked, ctx, self.company_id, contact_id=contact.id, contact_name=contact.name,
                     by_contract_id=contract_id)
        return True

    def _check_same_company(self, contact: Contact) -> None:
        if contact.company_id != self.company_id:
            raise OtherCompanyError(f"{contact.name} is a contact of another member company than {self.name}.")
