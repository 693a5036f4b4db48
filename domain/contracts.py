"""The sales contract (销售申请 → 合同): from a salesperson's draft to an approved contract.

    draft (salesperson) ──submit to clerk──▶ with clerk ──submit for approval──▶ in approval
      ▲                                  │  ▲                                   │      │
      └──── returned, with a reason ─────┘  └───── rejected, with a reason ─────┘      │ last step approves
                                            ▲                                          ▼
                                            └────────── un-approved, with a reason ── approved

- The salesperson edits the draft (customer, contact, machine lines, prices).
- The clerk completes the commercial terms (cash or installment, warranty deposit,
  agreed accessories, coupons granted) or returns the draft to the salesperson.
- Once submitted for approval nothing is edited and nothing goes back to the
  salesperson; each step of the route (``domain.approvals``) approves or rejects.
- An approved contract can be un-approved (取消审核) through contract review: back
  to the clerk. It is refused once a machine went out or money came in under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain import approvals
from domain.approvals import ApprovalFlow, ApprovalRule, Decider, DocumentType
from domain.base import Context, DealerAggregate, DomainError, InvalidValueError, require_text
from domain.customers import Contact, Customer
from domain.money import ZERO, require_money
from domain.organisation import Company, MachineModel


class ContractStatus(StrEnum):
    DRAFT = "draft"                # with the salesperson: new, or returned to them
    WITH_CLERK = "with_clerk"      # with the sales clerk: submitted, rejected or un-approved
    IN_APPROVAL = "in_approval"
    APPROVED = "approved"


class PaymentMethod(StrEnum):
    CASH = "cash"                  # 全款
    INSTALLMENT = "installment"    # 分期: down payment + schedule


class ScheduleMethod(StrEnum):
    EQUAL_INSTALLMENT = "equal_installment"   # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"       # 等额本金
    TYPED = "typed"                           # dates and amounts typed by the clerk on the receivable


@dataclass(frozen=True)
class ContractLine:
    """A machine model sold: quantity × unit price."""

    model_id: UUID
    model_code: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class InstallmentTerms:
    months: int
    annual_rate: Decimal          # a fraction: 0.0435 is 4.35 % a year; 0 allowed
    first_due_date: date
    method: ScheduleMethod


@dataclass(frozen=True)
class AgreedAccessory:
    """附件 agreed in the contract; unit price 0.00 when it comes with the machine."""

    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class GrantedCoupon:
    """A coupon the contract grants the customer once approved."""

    face_value: Decimal
    quantity: int
    note: str | None


@dataclass(frozen=True)
class CommercialTerms:
    payment: PaymentMethod
    down_payment: Decimal          # 首付; 0.00 for a cash sale
    installment: InstallmentTerms | None
    warranty_deposit: Decimal      # 质保金, paid after a year without quality problems; 0.00 if none
    warranty_due_date: date | None
    accessories: tuple[AgreedAccessory, ...]
    coupons: tuple[GrantedCoupon, ...]

    @property
    def accessories_amount(self) -> Decimal:
        return sum((a.unit_price * a.quantity for a in self.accessories), ZERO)


MAX_LINES = 20
MAX_QUANTITY = 1000


class ContractStateError(DomainError):
    """The act does not fit the contract's status; the message names the status."""

    code = "contract-state"


class ContractTermsMissingError(DomainError):
    code = "contract-terms-missing"


class ContractAlreadyStartedError(DomainError):
    """Un-approval refused: a machine went out or money came in under the contract."""

    code = "contract-already-started"


def check_lines(lines: list[tuple[MachineModel, int, Decimal]]) -> tuple[ContractLine, ...]:
    if not lines:
        raise InvalidValueError("A contract sells at least one machine model.", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidValueError(f"A contract has at most {MAX_LINES} lines.", field="lines")
    checked = []
    for n, (model, quantity, unit_price) in enumerate(lines, 1):
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidValueError(f"Line {n}: the quantity is between 1 and {MAX_QUANTITY}.", field="lines")
        checked.append(ContractLine(model.id, model.code, quantity,
                                    require_money(unit_price, f"lines[{n}].unit_price", positive=True)))
    return tuple(checked)


def check_terms(terms: CommercialTerms, machines_amount: Decimal, drafted_on: date) -> CommercialTerms:
    accessories = []
    for n, a in enumerate(terms.accessories, 1):
        if not 1 <= a.quantity <= MAX_QUANTITY:
            raise InvalidValueError(f"Accessory {n}: the quantity is between 1 and {MAX_QUANTITY}.",
                                    field="accessories")
        accessories.append(AgreedAccessory(require_text(a.name, f"accessories[{n}].name", 100), a.quantity,
                                           require_money(a.unit_price, f"accessories[{n}].unit_price")))
    coupons = []
    for n, c in enumerate(terms.coupons, 1):
        if not 1 <= c.quantity <= 100:
            raise InvalidValueError(f"Coupon {n}: the quantity is between 1 and 100.", field="coupons")
        coupons.append(GrantedCoupon(require_money(c.face_value, f"coupons[{n}].face_value", positive=True),
                                     c.quantity, require_text(c.note, "note", 200) if c.note else None))
    down = require_money(terms.down_payment, "down_payment")
    deposit = require_money(terms.warranty_deposit, "warranty_deposit")
    total = machines_amount + sum((a.unit_price * a.quantity for a in accessories), ZERO)
    if deposit >= total:
        raise InvalidValueError(f"The warranty deposit ({deposit}) must be less than the contract amount ({total}).",
                                field="warranty_deposit")
    if deposit > 0 and terms.warranty_due_date is None:
        raise InvalidValueError("A warranty deposit needs its due date.", field="warranty_due_date")
    if deposit == 0 and terms.warranty_due_date is not None:
        raise InvalidValueError("A warranty due date needs a warranty deposit.", field="warranty_due_date")
    if terms.warranty_due_date is not None and terms.warranty_due_date <= drafted_on:
        raise InvalidValueError("The warranty deposit falls due after the contract date.", field="warranty_due_date")
    installment = terms.installment
    if terms.payment == PaymentMethod.CASH:
        if down != 0 or installment is not None:
            raise InvalidValueError("A cash sale has no down payment and no installment terms.", field="payment")
    else:
        if installment is None:
            raise InvalidValueError("An installment sale needs its installment terms.", field="installment")
        if down + deposit >= total:
            raise InvalidValueError(f"Down payment and warranty deposit ({down + deposit}) leave nothing to finance "
                                    f"of {total}; make it a cash sale.", field="down_payment")
        if not 1 <= installment.months <= 120:
            raise InvalidValueError("The term is between 1 and 120 months.", field="installment.months")
        rate = Decimal(str(installment.annual_rate))
        if not rate.is_finite() or not 0 <= rate < 1 or rate != rate.quantize(Decimal("0.000001")):
            raise InvalidValueError("The annual rate is a fraction from 0 to below 1 with at most six places "
                                    "(0.0435 for 4.35 %).", field="installment.annual_rate")
        if installment.first_due_date <= drafted_on:
            raise InvalidValueError("The first installment falls due after the contract date.",
                                    field="installment.first_due_date")
        installment = InstallmentTerms(installment.months, rate, installment.first_due_date,
                                       ScheduleMethod(installment.method))
    return CommercialTerms(PaymentMethod(terms.payment), down, installment, deposit, terms.warranty_due_date,
                           tuple(accessories), tuple(coupons))


class Contract(DealerAggregate, ApprovalFlow):
    document_type = DocumentType.SALES_CONTRACT

    class Drafted(DealerAggregate.Created):
        """A salesperson drafts a sales application. ``owner_id`` is that salesperson."""

        number: str
        owner_id: UUID
        customer_id: UUID
        contact_id: UUID | None
        lines: tuple[ContractLine, ...]

        def apply(self, contract: Contract) -> None:
            contract.number = self.number
            contract.company_id = self.company_id
            contract.owner_id = self.owner_id
            contract.customer_id = self.customer_id
            contract.contact_id = self.contact_id
            contract.lines = self.lines
            contract.drafted_on = self.business_date
            contract.status = ContractStatus.DRAFT
            contract.terms = None
            contract.approval = None
            contract.submitted_for_approval_by = None
            # Set by delivery (dispatch) and receivables (confirmed receipts) as those land.
            contract.dispatched_serials = frozenset()
            contract.received_amount = ZERO

    class DraftRevised(DealerAggregate.Event):
        customer_id: UUID
        contact_id: UUID | None
        lines: tuple[ContractLine, ...]

        def apply(self, contract: Contract) -> None:
            contract.customer_id = self.customer_id
            contract.contact_id = self.contact_id
            contract.lines = self.lines

    class SubmittedToClerk(DealerAggregate.Event):
        def apply(self, contract: Contract) -> None:
            contract.status = ContractStatus.WITH_CLERK

    class ReturnedToSalesperson(DealerAggregate.Event):
        """The clerk sends the draft back; ``reason`` says what to add."""

        def apply(self, contract: Contract) -> None:
            contract.status = ContractStatus.DRAFT

    class TermsCompleted(DealerAggregate.Event):
        terms: CommercialTerms

        def apply(self, contract: Contract) -> None:
            contract.terms = self.terms

    class SubmittedForApproval(approvals.ApprovalRequested):
        def apply(self, contract: Contract) -> None:
            super().apply(contract)
            contract.status = ContractStatus.IN_APPROVAL
            contract.submitted_for_approval_by = self.actor_id

    class ApprovalStepPassed(approvals.ApprovalStepPassed):
        pass

    class Approved(approvals.ApprovalGranted):
        def apply(self, contract: Contract) -> None:
            super().apply(contract)
            contract.status = ContractStatus.APPROVED

    class Rejected(approvals.ApprovalRefused):
        def apply(self, contract: Contract) -> None:
            super().apply(contract)
            contract.status = ContractStatus.WITH_CLERK

    class Unapproved(DealerAggregate.Event):
        """取消审核: back to the clerk. Whatever the approval started downstream is undone
        by events whose ``command_id`` is this one's, so an auditor can follow the rollback."""

        def apply(self, contract: Contract) -> None:
            contract.status = ContractStatus.WITH_CLERK

    # ------------------------------------------------------------ reading
    @property
    def document_label(self) -> str:
        return f"contract {self.number}"

    def status_text(self) -> str:
        return str(self.status)

    @property
    def machines_amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def total_amount(self) -> Decimal:
        """Machines plus agreed accessories: the amount approval bands are judged by."""
        return self.machines_amount + (self.terms.accessories_amount if self.terms else ZERO)

    def _require(self, *allowed: ContractStatus, act: str) -> None:
        if self.status not in allowed:
            raise ContractStateError(f"Contract {self.number} is {self.status}; it cannot be {act} "
                                     f"(only when {' or '.join(allowed)}).", state=str(self.status))

    # ------------------------------------------------------------ commands
    @classmethod
    def draft(cls, ctx: Context, contract_id: UUID, company: Company, customer: Customer, contact: Contact | None,
              lines: list[tuple[MachineModel, int, Decimal]]) -> Contract:
        cls._check_parties(company.id, customer, contact)
        number = f"{company.code}-{ctx.business_date:%Y%m%d}-{contract_id.hex[:6].upper()}"
        return cls._start(cls.Drafted, contract_id, ctx, company.id, number=number, owner_id=ctx.actor_id,
                          customer_id=customer.id, contact_id=contact.id if contact else None,
                          lines=check_lines(lines))

    def revise_draft(self, ctx: Context, customer: Customer, contact: Contact | None,
                     lines: list[tuple[MachineModel, int, Decimal]]) -> None:
        self._require(ContractStatus.DRAFT, act="edited by the salesperson")
        self._check_parties(self.company_id, customer, contact)
        self._record(self.DraftRevised, ctx, self.company_id, customer_id=customer.id,
                     contact_id=contact.id if contact else None, lines=check_lines(lines))

    def submit_to_clerk(self, ctx: Context) -> None:
        self._require(ContractStatus.DRAFT, act="submitted to the clerk")
        self._record(self.SubmittedToClerk, ctx, self.company_id)

    def return_to_salesperson(self, ctx: Context) -> None:
        self._require(ContractStatus.WITH_CLERK, act="returned to the salesperson")
        require_text(ctx.reason or "", "reason", 500)
        self._record(self.ReturnedToSalesperson, ctx, self.company_id)

    def complete_terms(self, ctx: Context, terms: CommercialTerms) -> None:
        self._require(ContractStatus.WITH_CLERK, act="given its commercial terms")
        self._record(self.TermsCompleted, ctx, self.company_id,
                     terms=check_terms(terms, self.machines_amount, self.drafted_on))

    def submit_for_approval(self, ctx: Context, rule: ApprovalRule | None) -> None:
        self._require(ContractStatus.WITH_CLERK, act="submitted for approval")
        if self.terms is None:
            raise ContractTermsMissingError(f"Complete the commercial terms of contract {self.number} "
                                            "before submitting it for approval.")
        self._request_approval(ctx, self.SubmittedForApproval, rule, self.total_amount)

    def approve(self, ctx: Context, decider: Decider) -> bool:
        """Approves the current step; True when the contract is now approved."""
        self._require(ContractStatus.IN_APPROVAL, act="approved")
        return self._approve(ctx, decider, self.ApprovalStepPassed, self.Approved)

    def reject(self, ctx: Context, decider: Decider) -> None:
        self._require(ContractStatus.IN_APPROVAL, act="rejected")
        self._reject(ctx, decider, self.Rejected)

    def unapprove(self, ctx: Context) -> None:
        self._require(ContractStatus.APPROVED, act="un-approved")
        require_text(ctx.reason or "", "reason", 500)
        if self.dispatched_serials:
            raise ContractAlreadyStartedError(
                f"Machine {', '.join(sorted(self.dispatched_serials))} went out under contract {self.number}; "
                "reverse the dispatch before un-approving it.")
        if self.received_amount > 0:
            raise ContractAlreadyStartedError(
                f"{self.received_amount} was received under contract {self.number}; reverse the receipts "
                "before un-approving it.")
        self._record(self.Unapproved, ctx, self.company_id)

    @staticmethod
    def _check_parties(company_id: UUID, customer: Customer, contact: Contact | None) -> None:
        if customer.company_id != company_id:
            raise InvalidValueError("The customer belongs to another member company.", field="customer_id")
        if contact is not None and contact.company_id != company_id:
            raise InvalidValueError("The contact belongs to another member company.", field="contact_id")
