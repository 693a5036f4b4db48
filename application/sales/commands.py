"""Commands of customers, contacts and sales contracts, and their answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from msgspec import Meta

from application.fields import PLAIN, Code, Money, Name, Phone, Reason, Text100
from application.handling import Answer, Command
from domain.access import Role
from domain.contracts import (
    AgreedAccessory,
    CommercialTerms,
    ContractStatus,
    GrantedCoupon,
    InstallmentTerms,
    PaymentMethod,
    ScheduleMethod,
)
from domain.customers import PartyKind

Quantity = Annotated[int, Meta(ge=1, le=1000)]


# ---------------------------------------------------------------- answers
class CustomerTypeDefined(Answer):
    customer_type_id: UUID
    code: str


class CustomerTagDefined(Answer):
    tag_id: UUID
    code: str


class CustomerRegistered(Answer):
    customer_id: UUID
    owner_id: UUID


class ContactRegistered(Answer):
    contact_id: UUID
    owner_id: UUID


class CustomerChanged(Answer):
    customer_id: UUID


class WaitingFor(msgspec.Struct, kw_only=True):
    """The approval step a contract waits for, and the role that decides it."""

    step: str
    role: Role


class ContractSummary(Answer):
    contract_id: UUID
    number: str
    status: ContractStatus
    total_amount: Decimal
    waiting_for: WaitingFor | None


# ---------------------------------------------------------------- customer catalogue
class DefineCustomerType(Command):
    """Define a customer type (first-time, intended, potential, formal…), by its code."""

    answer_type: ClassVar = CustomerTypeDefined
    creates: ClassVar = True
    code: Code
    name: Text100


class DefineCustomerTag(Command):
    """Define a tag that customers can be given, by its code."""

    answer_type: ClassVar = CustomerTagDefined
    creates: ClassVar = True
    code: Code
    name: Text100


# ---------------------------------------------------------------- customers and contacts
class CreateCustomer(Command):
    """Register a customer (客户) of a member company. It belongs to the caller, or, when a
    clerk registers it for a salesperson, to that salesperson (``owner_id``)."""

    answer_type: ClassVar = CustomerRegistered
    creates: ClassVar = True
    company_id: UUID
    name: Name
    kind: PartyKind
    customer_type_id: UUID
    id_number: Annotated[str, Meta(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9 \-]+$",
                                   description="Unified social credit code or ID card number.")] | None = None
    phone: Phone | None = None
    address: Annotated[str, Meta(min_length=1, max_length=300, pattern=PLAIN)] | None = None
    owner_id: UUID | None = None  # the salesperson it belongs to; a clerk may name one (default: me)


class CreateContact(Command):
    """Register a contact (联系人) of a member company, belonging to the caller or to the
    salesperson a clerk names (``owner_id``)."""

    answer_type: ClassVar = ContactRegistered
    creates: ClassVar = True
    company_id: UUID
    name: Text100
    phone: Phone | None = None
    title: Text100 | None = None
    owner_id: UUID | None = None


class TagCustomer(Command):
    """Put a tag on a customer."""

    answer_type: ClassVar = CustomerChanged
    customer_id: UUID
    tag_id: UUID


class UntagCustomer(Command):
    """Take a tag off a customer."""

    answer_type: ClassVar = CustomerChanged
    customer_id: UUID
    tag_id: UUID


class LinkContactToCustomer(Command):
    """Link a contact to a customer (by a clerk)."""

    answer_type: ClassVar = CustomerChanged
    customer_id: UUID
    contact_id: UUID


# ---------------------------------------------------------------- contracts
class ContractLineRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A machine line of a contract: a model, how many and the unit price."""

    model_id: UUID
    quantity: Quantity
    unit_price: Money
    substitute_allowed: Annotated[bool, Meta(description=(
        "A unit of another model of the same machine type may be delivered (同类型替代)."))] = False


ContractLines = Annotated[list[ContractLineRequest], Meta(min_length=1, max_length=20)]


class DraftContract(Command):
    """Draft a sales application (销售申请) as its salesperson: customer, contact, machine models and prices."""

    answer_type: ClassVar = ContractSummary
    creates: ClassVar = True
    company_id: UUID
    customer_id: UUID
    lines: ContractLines
    contact_id: UUID | None = None

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        # Fingerprinted as the service's request was before the command was a type.
        return {"company_id": self.company_id, "customer_id": self.customer_id, "contact_id": self.contact_id,
                "lines": self.lines}


class ReviseContractDraft(Command):
    """Change a draft: its customer, contact and machine lines (salesperson; only while it is a draft)."""

    answer_type: ClassVar = ContractSummary
    contract_id: UUID
    customer_id: UUID
    lines: ContractLines
    contact_id: UUID | None = None

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"contract_id": self.contract_id, "customer_id": self.customer_id, "contact_id": self.contact_id,
                "lines": self.lines}


class SubmitContractToClerk(Command):
    """Submit the draft to the sales clerk."""

    answer_type: ClassVar = ContractSummary
    contract_id: UUID


class ReturnContractToSalesperson(Command):
    """Return the application to its salesperson, saying what to add (clerk)."""

    answer_type: ClassVar = ContractSummary
    contract_id: UUID
    reason: Reason


class InstallmentTermsRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    months: Annotated[int, Meta(ge=1, le=120)]
    annual_rate: Annotated[Decimal, Meta(description="A fraction: \"0.0435\" is 4.35 % a year.")]
    first_due_date: date
    method: ScheduleMethod = ScheduleMethod.EQUAL_INSTALLMENT


class AccessoryRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Text100
    quantity: Quantity = 1
    unit_price: Money = Decimal("0.00")


class CouponGrantRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    face_value: Money
    quantity: Annotated[int, Meta(ge=1, le=100)] = 1
    note: Annotated[str, Meta(min_length=1, max_length=200, pattern=PLAIN)] | None = None


class CompleteContractTerms(Command):
    """Set the commercial terms (clerk): cash or instalments, down payment, warranty deposit, the
    accessories agreed and the coupons granted once approved."""

    answer_type: ClassVar = ContractSummary
    contract_id: UUID
    payment: PaymentMethod
    down_payment: Money = Decimal("0.00")
    installment: InstallmentTermsRequest | None = None
    warranty_deposit: Money = Decimal("0.00")
    warranty_due_date: date | None = None
    accessories: Annotated[list[AccessoryRequest], Meta(max_length=50)] = []
    coupons: Annotated[list[CouponGrantRequest], Meta(max_length=20)] = []

    @classmethod
    def of(cls, contract_id: UUID, terms: CommercialTerms) -> CompleteContractTerms:
        """The command that gives a contract these terms."""
        i = terms.installment
        return cls(contract_id=contract_id, payment=terms.payment, down_payment=terms.down_payment,
                   installment=InstallmentTermsRequest(months=i.months, annual_rate=i.annual_rate,
                                                       first_due_date=i.first_due_date, method=i.method)
                   if i else None,
                   warranty_deposit=terms.warranty_deposit, warranty_due_date=terms.warranty_due_date,
                   accessories=[AccessoryRequest(name=a.name, quantity=a.quantity, unit_price=a.unit_price)
                                for a in terms.accessories],
                   coupons=[CouponGrantRequest(face_value=c.face_value, quantity=c.quantity, note=c.note)
                            for c in terms.coupons])

    @property
    def terms(self) -> CommercialTerms:
        i = self.installment
        return CommercialTerms(
            self.payment, self.down_payment,
            InstallmentTerms(i.months, i.annual_rate, i.first_due_date, i.method) if i else None,
            self.warranty_deposit, self.warranty_due_date,
            tuple(AgreedAccessory(a.name, a.quantity, a.unit_price) for a in self.accessories),
            tuple(GrantedCoupon(c.face_value, c.quantity, c.note) for c in self.coupons))

    def fingerprint(self, digest: Callable[[str], str], caller_id: UUID) -> Any:
        return {"contract_id": self.contract_id, "terms": self.terms}


class SubmitContractForApproval(Command):
    """Submit for approval (clerk): the approval rule in force routes it; from now on no edit and
    no return to the salesperson."""

    answer_type: ClassVar = ContractSummary
    contract_id: UUID


class ApproveContract(Command):
    """Approve the step waiting for me. At the last step the contract is approved, its receivable
    opened, the coupons it grants issued and its contact linked to the customer."""

    answer_type: ClassVar = ContractSummary
    contract_id: UUID


class RejectContract(Command):
    """Reject the step waiting for me: back to the clerk, with the reason."""

    answer_type: ClassVar = ContractSummary
    contract_id: UUID
    reason: Reason


class UnapproveContract(Command):
    """Un-approve (取消审核) through contract review: back to the clerk, with the reason. Machines
    picked but not dispatched are released and the receivable closed (refused once money came in)."""

    answer_type: ClassVar = ContractSummary
    contract_id: UUID
    reason: Reason
