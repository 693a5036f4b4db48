"""Customers and contacts, and the catalogue of customer types and tags: each act by its role,
within the caller's data scope. Another salesperson's customer or contact is answered as not found."""

from __future__ import annotations

from uuid import UUID, uuid4

from application.caller import Caller
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
from application.sales.commands import (
    ContactRegistered,
    CreateContact,
    CreateCustomer,
    CustomerChanged,
    CustomerRegistered,
    CustomerTagDefined,
    CustomerTypeDefined,
    DefineCustomerTag,
    DefineCustomerType,
    LinkContactToCustomer,
    TagCustomer,
    UntagCustomer,
)
from domain.access import Permission, Position, Role, User
from domain.base import InvalidValueError, PermissionDeniedError
from domain.customers import Contact, Customer, CustomerTag, CustomerType
from domain.organisation import Company


class CustomerService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    # ------------------------------------------------------------ catalogue (administrators)
    @handles(DefineCustomerType, permission=Permission.MANAGE_CUSTOMER_CATALOGUE)
    def define_customer_type(self, ctx: CommandContext, cmd: DefineCustomerType) -> Outcome:
        item = CustomerType.define(ctx.meta, cmd.code, cmd.name)
        if ctx.find(CustomerType, item.id):
            raise item.refuse_second_creation()
        return ctx.save(item, answer=CustomerTypeDefined(customer_type_id=item.id, code=item.code))

    @handles(DefineCustomerTag, permission=Permission.MANAGE_CUSTOMER_CATALOGUE)
    def define_customer_tag(self, ctx: CommandContext, cmd: DefineCustomerTag) -> Outcome:
        item = CustomerTag.define(ctx.meta, cmd.code, cmd.name)
        if ctx.find(CustomerTag, item.id):
            raise item.refuse_second_creation()
        return ctx.save(item, answer=CustomerTagDefined(tag_id=item.id, code=item.code))

    # ------------------------------------------------------------ customers and contacts
    @handles(CreateCustomer, permission=Permission.REGISTER_CUSTOMERS)
    def register_customer(self, ctx: CommandContext, cmd: CreateCustomer) -> Outcome:
        company = ctx.load_in_scope(Company, cmd.company_id, f"Company {cmd.company_id}")
        customer_type = ctx.load(CustomerType, cmd.customer_type_id, f"Customer type {cmd.customer_type_id}")
        owner = self._owner(ctx, cmd.owner_id, cmd.company_id)
        customer = Customer.register(ctx.meta, uuid4(), company, owner, cmd.name, cmd.kind, customer_type,
                                     cmd.id_number, cmd.phone, cmd.address)
        return ctx.save(customer, answer=CustomerRegistered(customer_id=customer.id, owner_id=owner))

    @handles(CreateContact, permission=Permission.REGISTER_CUSTOMERS)
    def register_contact(self, ctx: CommandContext, cmd: CreateContact) -> Outcome:
        company = ctx.load_in_scope(Company, cmd.company_id, f"Company {cmd.company_id}")
        owner = self._owner(ctx, cmd.owner_id, cmd.company_id)
        contact = Contact.register(ctx.meta, uuid4(), company, owner, cmd.name, cmd.phone, cmd.title)
        return ctx.save(contact, answer=ContactRegistered(contact_id=contact.id, owner_id=owner))

    def _owner(self, ctx: CommandContext, owner_id: UUID | None, company_id: UUID) -> UUID:
        """The salesperson a new customer or contact belongs to: the caller, or, when a
        clerk registers it for someone, that salesperson (who must see the company)."""
        caller: Caller = ctx.caller
        if owner_id is None or owner_id == caller.user_id:
            return caller.user_id
        if caller.own_sales_only:
            raise PermissionDeniedError("A salesperson registers customers and contacts for themself only.")
        owner = ctx.load(User, owner_id, f"User {owner_id}")
        if Role.SALESPERSON not in owner.roles:
            raise InvalidValueError(f"{owner.username} is not a salesperson.", field="owner_id")
        positions = [ctx.find(Position, p) for p in owner.position_ids]
        if not any(p is not None and p.scope.includes(company_id) for p in positions):
            raise InvalidValueError(f"{owner.username} has no position in this company, so would not see "
                                    "the record; give them a position first.", field="owner_id")
        return owner.id

    @handles(TagCustomer, permission=Permission.TAG_CUSTOMERS)
    def tag_customer(self, ctx: CommandContext, cmd: TagCustomer) -> Outcome:
        customer = self._customer(ctx, cmd.customer_id)
        customer.tag(ctx.meta, ctx.load(CustomerTag, cmd.tag_id, f"Tag {cmd.tag_id}"))
        return ctx.save(customer, answer=CustomerChanged(customer_id=customer.id))

    @handles(UntagCustomer, permission=Permission.TAG_CUSTOMERS)
    def untag_customer(self, ctx: CommandContext, cmd: UntagCustomer) -> Outcome:
        customer = self._customer(ctx, cmd.customer_id)
        customer.untag(ctx.meta, ctx.load(CustomerTag, cmd.tag_id, f"Tag {cmd.tag_id}"))
        return ctx.save(customer, answer=CustomerChanged(customer_id=customer.id))

    @handles(LinkContactToCustomer, permission=Permission.LINK_CONTACTS)
    def link_contact(self, ctx: CommandContext, cmd: LinkContactToCustomer) -> Outcome:
        customer = self._customer(ctx, cmd.customer_id)
        customer.link_contact(ctx.meta, ctx.load_in_scope(Contact, cmd.contact_id, f"Contact {cmd.contact_id}"))
        return ctx.save(customer, answer=CustomerChanged(customer_id=customer.id))

    @staticmethod
    def _customer(ctx: CommandContext, customer_id: UUID) -> Customer:
        return ctx.load_in_scope(Customer, customer_id, f"Customer {customer_id}")
