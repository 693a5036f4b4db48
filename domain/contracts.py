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
  to the clerk. It is refused once a machine went out or money came in under it;
  machines picked but not yet dispatched are released by the same command.

Delivery (交机出库) of an approved contract, each act by its role:

    pick machines (推选机号) + accessory outbound lines ──▶ outbound N open
      ──finance review (出库单财务审核)──▶ reviewed ──dispatch (出库发车)──▶ dispatched
                   ◀──finance returns it, with a reason──┘

- A pick reserves the unit for this contract (``MachineUnit.Reserved``), saved
  with the contract in one transaction: the unit's own version guarantees that
  only one contract gets it.
- Picks and accessory lines made after an outbound was reviewed go on the next
  outbound, so a contract of several machines can be delivered in batches.
- After dispatch a unit can be swapped (销售换机): the new unit takes the old
  one's place on the contract's documents; contract, old and new unit are saved
  in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain import approvals
from domain.approvals import ApprovalFlow, ApprovalRule, Decider, DocumentType
from domain.base import Context, DealerAggregate, DomainError, InvalidValueError, NotFoundError, require_text
from domain.customers import Contact, Customer
from domain.money import ZERO, require_money
from domain.machines import MachineUnit, WarehouseCannotHoldMachinesError
from domain.organisation import Company, MachineModel, Warehouse, WarehouseKind
from domain.parts import DocumentKind, DocumentRef, Part, PartStock, WarehouseNotUsableError


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
    # 同类型替代: a unit of another model of the same machine type may be delivered.
    # Added after the first contracts were stored; they read as False.
    substitute_allowed: bool = False

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


class OutboundStatus(StrEnum):
    OPEN = "open"                # being put together: picked machines, accessory lines
    REVIEWED = "reviewed"        # finance reviewed it (出库单财务审核); waiting for dispatch
    DISPATCHED = "dispatched"    # 出库发车: its machines and accessories left
    CANCELLED = "cancelled"      # the contract was un-approved before dispatch


@dataclass(frozen=True)
class OutboundLine:
    """One accessory line of an outbound: an agreed accessory (``agreed_accessory_no``,
    1-based in the contract's terms) or an extra line not in the contract (None)."""

    line_no: int
    name: str
    quantity: int
    unit_price: Decimal
    agreed_accessory_no: int | None
    # The catalogue part and the warehouse it comes from, when the accessory is a stocked
    # part: its stock is reserved while the outbound is open and issued at dispatch.
    part_id: UUID | None = None
    warehouse_id: UUID | None = None


@dataclass
class Outbound:
    """出库单 of a contract, as the contract keeps it (state, not a stored event)."""

    number: int
    status: OutboundStatus = OutboundStatus.OPEN
    lines: dict[int, OutboundLine] = field(default_factory=dict)
    serials: set[str] = field(default_factory=set)


@dataclass
class Pick:
    machine_id: UUID
    serial_number: str
    line_no: int
    outbound_no: int
    dispatched: bool = False


MAX_LINES = 20
MAX_QUANTITY = 1000
MAX_OUTBOUND_LINES = 50
FIRST_DUE_WITHIN_DAYS = 730


class ContractStateError(DomainError):
    """The act does not fit the contract's status; the message names the status."""

    code = "contract-state"


class ContractTermsMissingError(DomainError):
    code = "contract-terms-missing"


class ContractAlreadyStartedError(DomainError):
    """Un-approval refused: a machine went out or money came in under the contract."""

    code = "contract-already-started"


class MachineDoesNotFitContractError(DomainError):
    """The unit is not of a model (or allowed substitute) the contract still needs,
    or belongs to another member company."""

    code = "machine-does-not-fit-contract"


class MachineAlreadyPickedError(DomainError):
    code = "machine-already-picked"


class MachineNotOnContractError(DomainError):
    code = "machine-not-on-contract"


class OutboundStateError(DomainError):
    """The act does not fit the outbound's status (open, reviewed, dispatched)."""

    code = "outbound-state"


class AccessoryOverDeliveredError(DomainError):
    code = "accessory-over-delivered"


def check_lines(lines: list[tuple]) -> tuple[ContractLine, ...]:
    if not lines:
        raise InvalidValueError("A contract sells at least one machine model.", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidValueError(f"A contract has at most {MAX_LINES} lines.", field="lines")
    checked = []
    for n, (model, quantity, unit_price, *substitute) in enumerate(lines, 1):
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidValueError(f"Line {n}: the quantity is between 1 and {MAX_QUANTITY}.", field="lines")
        checked.append(ContractLine(model.id, model.code, quantity,
                                    require_money(unit_price, f"lines[{n}].unit_price", positive=True),
                                    bool(substitute and substitute[0])))
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
        if installment.first_due_date > drafted_on + timedelta(days=FIRST_DUE_WITHIN_DAYS):
            raise InvalidValueError(f"The first installment falls due within {FIRST_DUE_WITHIN_DAYS} days of the "
                                    "contract date.", field="installment.first_due_date")
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
            contract.outbounds = {}
            contract.picks = {}
            contract.swaps = 0
            contract.last_line_no = 0

    class DraftRevised(DealerAggregate.Event):
        customer_id: UUID
        contact_id: UUID | None
        lines: tuple[ContractLine, ...]

        def apply(self, contract: Contract) -> None:
            contract.customer_id = self.customer_id
            contract.contact_id = self.contact_id
            contract.lines = self.lines

    class TermsCleared(DealerAggregate.Event):
        """The salesperson revised the draft: the commercial terms were agreed on the old lines,
        so the clerk completes them again before the contract goes to approval."""

        def apply(self, contract: Contract) -> None:
            contract.terms = None

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

    # ------------------------------------------------------------ delivery events
    class MachinePicked(DealerAggregate.Event):
        """推选机号: the unit is reserved for this contract, on its open outbound."""

        outbound_no: int
        line_no: int
        machine_id: UUID
        serial_number: str
        model_code: str

        def apply(self, contract: Contract) -> None:
            contract._outbound(self.outbound_no).serials.add(self.serial_number)
            contract.picks[self.serial_number] = Pick(self.machine_id, self.serial_number, self.line_no,
                                                      self.outbound_no)

    class MachineReleased(DealerAggregate.Event):
        """The pick is undone (pick changed, or the contract un-approved): the unit is free."""

        outbound_no: int
        machine_id: UUID
        serial_number: str

        def apply(self, contract: Contract) -> None:
            contract.outbounds[self.outbound_no].serials.discard(self.serial_number)
            del contract.picks[self.serial_number]

    class AccessoryOutboundLineAdded(DealerAggregate.Event):
        outbound_no: int
        line: OutboundLine

        def apply(self, contract: Contract) -> None:
            contract._outbound(self.outbound_no).lines[self.line.line_no] = self.line
            contract.last_line_no = max(contract.last_line_no, self.line.line_no)

    class AccessoryOutboundLineRemoved(DealerAggregate.Event):
        outbound_no: int
        line_no: int

        def apply(self, contract: Contract) -> None:
            del contract.outbounds[self.outbound_no].lines[self.line_no]

    class OutboundReviewed(DealerAggregate.Event):
        """出库单财务审核: finance checked the outbound; it may now be dispatched."""

        outbound_no: int
        serial_numbers: tuple[str, ...]
        line_nos: tuple[int, ...]

        def apply(self, contract: Contract) -> None:
            contract.outbounds[self.outbound_no].status = OutboundStatus.REVIEWED

    class OutboundReturned(DealerAggregate.Event):
        """Finance sends a reviewed outbound back to be changed; ``reason`` says why."""

        outbound_no: int

        def apply(self, contract: Contract) -> None:
            contract.outbounds[self.outbound_no].status = OutboundStatus.OPEN

    class OutboundDispatched(DealerAggregate.Event):
        """出库发车: the outbound's machines and accessories left; the units are out (sold)."""

        outbound_no: int
        serial_numbers: tuple[str, ...]

        def apply(self, contract: Contract) -> None:
            contract.outbounds[self.outbound_no].status = OutboundStatus.DISPATCHED
            for serial in self.serial_numbers:
                contract.picks[serial].dispatched = True

    class OutboundCancelled(DealerAggregate.Event):
        """Cancelled by the contract's un-approval (same ``command_id``) before dispatch."""

        outbound_no: int

        def apply(self, contract: Contract) -> None:
            contract.outbounds[self.outbound_no].status = OutboundStatus.CANCELLED

    class MachineSwapped(DealerAggregate.Event):
        """销售换机: ``new_serial`` replaces ``old_serial`` on the contract's documents
        (same line, same outbound); ``reason`` says why. ``swap_no`` counts from 1."""

        swap_no: int
        outbound_no: int
        line_no: int
        old_machine_id: UUID
        old_serial: str
        new_machine_id: UUID
        new_serial: str
        new_model_code: str

        def apply(self, contract: Contract) -> None:
            outbound = contract.outbounds[self.outbound_no]
            outbound.serials.discard(self.old_serial)
            outbound.serials.add(self.new_serial)
            del contract.picks[self.old_serial]
            contract.picks[self.new_serial] = Pick(self.new_machine_id, self.new_serial, self.line_no,
                                                   self.outbound_no, dispatched=True)
            contract.swaps = self.swap_no

    def _outbound(self, number: int) -> Outbound:
        if number not in self.outbounds:
            self.outbounds[number] = Outbound(number)
        return self.outbounds[number]

    # ------------------------------------------------------------ reading
    @property
    def dispatched_serials(self) -> frozenset[str]:
        return frozenset(serial for serial, pick in self.picks.items() if pick.dispatched)

    @property
    def delivery_complete(self) -> bool:
        """Every machine of every line went out: the contract's sales flow is complete."""
        return all(self._picked_on(n) == line.quantity and all(
            p.dispatched for p in self.picks.values() if p.line_no == n) for n, line in enumerate(self.lines, 1))

    def _picked_on(self, line_no: int) -> int:
        return sum(1 for p in self.picks.values() if p.line_no == line_no)

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
              lines: list[tuple]) -> Contract:
        cls._check_parties(company.id, customer, contact)
        number = f"{company.code}-{ctx.business_date:%Y%m%d}-{contract_id.hex[:6].upper()}"
        return cls._start(cls.Drafted, contract_id, ctx, company.id, number=number, owner_id=ctx.actor_id,
                          customer_id=customer.id, contact_id=contact.id if contact else None,
                          lines=check_lines(lines))

    def revise_draft(self, ctx: Context, customer: Customer, contact: Contact | None,
                     lines: list[tuple]) -> None:
        self._require(ContractStatus.DRAFT, act="edited by the salesperson")
        self._check_parties(self.company_id, customer, contact)
        self._record(self.DraftRevised, ctx, self.company_id, customer_id=customer.id,
                     contact_id=contact.id if contact else None, lines=check_lines(lines))
        if self.terms is not None:
            self._record(self.TermsCleared, ctx, self.company_id)

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

    def unapprove(self, ctx: Context, reserved: Mapping[str, MachineUnit] | None = None,
                  part_stocks: Mapping[tuple[UUID, UUID], PartStock] | None = None) -> None:
        """Back to the clerk. Units picked but not dispatched (``reserved``, by serial, as
        loaded for this command) are released and open outbounds cancelled, all under
        this one command. The receivable is closed by the same command
        (``Debt.close_for_unapproval``), which refuses once money was received."""
        self._require(ContractStatus.APPROVED, act="un-approved")
        require_text(ctx.reason or "", "reason", 500)
        if self.dispatched_serials:
            raise ContractAlreadyStartedError(
                f"Machine {', '.join(sorted(self.dispatched_serials))} went out under contract {self.number}; "
                "reverse the dispatch before un-approving it.")
        reserved = reserved or {}
        if missing := sorted(set(self.picks) - set(reserved)):
            raise ValueError(f"un-approval needs the picked units loaded: {missing}")
        for serial, pick in sorted(self.picks.items()):
            reserved[serial].release(ctx, self.id)
            self._record(self.MachineReleased, ctx, self.company_id, outbound_no=pick.outbound_no,
                         machine_id=pick.machine_id, serial_number=serial)
        for number, outbound in sorted(self.outbounds.items()):
            if outbound.status in (OutboundStatus.OPEN, OutboundStatus.REVIEWED):
                for line in self._stocked(outbound):
                    (part_stocks or {})[(line.part_id, line.warehouse_id)].release(ctx, self.parts_ref, line.quantity)
                self._record(self.OutboundCancelled, ctx, self.company_id, outbound_no=number)
        self._record(self.Unapproved, ctx, self.company_id)

    @property
    def parts_ref(self) -> DocumentRef:
        """How the parts stock names this contract in its movements."""
        return DocumentRef(DocumentKind.CONTRACT, self.id, self.number)

    @staticmethod
    def _stocked(outbound: Outbound) -> list[OutboundLine]:
        return [line for _, line in sorted(outbound.lines.items()) if line.part_id is not None]

    def part_stocks_needed(self, outbound_no: int | None = None) -> set[tuple[UUID, UUID]]:
        """(part, warehouse) of the stocked accessory lines of one outbound, or of every
        outbound not yet dispatched: what a command must load to move them."""
        if outbound_no is not None:
            outbounds = [self.outbounds[outbound_no]] if outbound_no in self.outbounds else []
        else:
            outbounds = [o for o in self.outbounds.values()
                         if o.status in (OutboundStatus.OPEN, OutboundStatus.REVIEWED)]
        return {(line.part_id, line.warehouse_id) for o in outbounds for line in self._stocked(o)}  # type: ignore[misc]

    # ------------------------------------------------------------ delivery commands
    def pick_machine(self, ctx: Context, unit: MachineUnit, unit_model: MachineModel,
                     line_models: Mapping[UUID, MachineModel], line_no: int | None = None) -> None:
        """推选机号: reserves ``unit`` for this contract on the line it fits: the line of its
        model, else a line of the same machine type that allows a substitute."""
        self._require(ContractStatus.APPROVED, act="given a machine")
        if unit.company_id != self.company_id:
            raise MachineDoesNotFitContractError(
                f"Machine {unit.serial_number} is in another member company's stock; transfer it to the "
                f"contract's company first.", serial_number=unit.serial_number)
        if unit.serial_number in self.picks:
            raise MachineAlreadyPickedError(f"Machine {unit.serial_number} is already picked for contract "
                                            f"{self.number}.", serial_number=unit.serial_number)
        line_no = self._line_for(unit, unit_model, line_models, line_no)
        unit.reserve(ctx, self.id, self.number)
        self._record(self.MachinePicked, ctx, self.company_id, outbound_no=self._open_outbound_no(),
                     line_no=line_no, machine_id=unit.id, serial_number=unit.serial_number,
                     model_code=unit.model_code)

    def _line_for(self, unit: MachineUnit, unit_model: MachineModel, line_models: Mapping[UUID, MachineModel],
                  wanted: int | None) -> int:
        def fits(n: int, line: ContractLine) -> bool:
            if line.model_id == unit.model_id:
                return True
            model = line_models.get(line.model_id)
            return line.substitute_allowed and model is not None and model.machine_type == unit_model.machine_type

        candidates = [n for n, line in enumerate(self.lines, 1) if (wanted is None or n == wanted)]
        if wanted is not None and not candidates:
            raise InvalidValueError(f"Contract {self.number} has no line {wanted}.", field="line_no")
        fitting = [n for n in candidates if fits(n, self.lines[n - 1])]
        # The line of the unit's own model first, then substitutes.
        fitting.sort(key=lambda n: self.lines[n - 1].model_id != unit.model_id)
        for n in fitting:
            if self._picked_on(n) < self.lines[n - 1].quantity:
                return n
        if fitting:
            raise MachineDoesNotFitContractError(
                f"Contract {self.number} already has every {unit.model_code} it sells picked; release a pick "
                "to change it.", serial_number=unit.serial_number)
        raise MachineDoesNotFitContractError(
            f"Machine {unit.serial_number} is a {unit.model_code}; contract {self.number} sells "
            f"{', '.join(line.model_code for line in self.lines)}"
            f"{' (substitutes of the same type allowed)' if any(l.substitute_allowed for l in self.lines) else ''}.",
            serial_number=unit.serial_number)

    def _open_outbound_no(self) -> int:
        """The outbound new picks and lines go on: the open one, or the next."""
        last = max(self.outbounds, default=0)
        if last and self.outbounds[last].status == OutboundStatus.OPEN:
            return last
        return last + 1

    def release_machine(self, ctx: Context, unit: MachineUnit) -> None:
        self._require(ContractStatus.APPROVED, act="changed")
        pick = self._pick(unit.serial_number)
        if pick.dispatched:
            raise OutboundStateError(f"Machine {unit.serial_number} went out under contract {self.number}; "
                                     "swap it instead of releasing it.", state=str(OutboundStatus.DISPATCHED))
        self._require_open(pick.outbound_no, "changed")
        require_text(ctx.reason or "", "reason", 500)
        unit.release(ctx, self.id)
        self._record(self.MachineReleased, ctx, self.company_id, outbound_no=pick.outbound_no,
                     machine_id=unit.id, serial_number=unit.serial_number)

    def add_accessory_outbound_line(self, ctx: Context, quantity: int, agreed_accessory_no: int | None = None,
                                    name: str | None = None, unit_price: Decimal | None = None,
                                    part: Part | None = None, stock: PartStock | None = None,
                                    warehouse: Warehouse | None = None) -> int:
        """Adds an accessory line to the open outbound: one agreed in the contract (its
        name and price come from the terms), or an extra line (name and price given).
        With a catalogue ``part``, the quantity is reserved from its ``stock`` in
        ``warehouse`` (same transaction) and leaves with the dispatch.
        Answers the line's number."""
        self._require(ContractStatus.APPROVED, act="given outbound lines")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidValueError(f"The quantity is between 1 and {MAX_QUANTITY}.", field="quantity")
        number = self._open_outbound_no()
        outbound = self.outbounds.get(number) or Outbound(number)
        if len(outbound.lines) >= MAX_OUTBOUND_LINES:
            raise InvalidValueError(f"An outbound has at most {MAX_OUTBOUND_LINES} accessory lines.", field="lines")
        if agreed_accessory_no is not None:
            agreed = self.terms.accessories if self.terms else ()
            if not 1 <= agreed_accessory_no <= len(agreed):
                raise InvalidValueError(f"Contract {self.number} agrees {len(agreed)} accessories; there is no "
                                        f"accessory {agreed_accessory_no}.", field="agreed_accessory_no")
            accessory = agreed[agreed_accessory_no - 1]
            out = sum(line.quantity for o in self.outbounds.values() if o.status != OutboundStatus.CANCELLED
                      for line in o.lines.values() if line.agreed_accessory_no == agreed_accessory_no)
            if out + quantity > accessory.quantity:
                raise AccessoryOverDeliveredError(
                    f"The contract agrees {accessory.quantity} × {accessory.name}; {out} already on outbounds. "
                    "Add the rest as an extra line if the customer buys more.", field="quantity")
            if name is not None or unit_price is not None:
                raise InvalidValueError("An agreed accessory takes its name and price from the contract; "
                                        "leave them out.", field="name")
            line_name, price = accessory.name, accessory.unit_price
        else:
            line_name = require_text(name or (part.name if part else ""), "name", 100)
            if unit_price is None and part is not None:
                unit_price = part.sale_price
            if unit_price is None:
                raise InvalidValueError("An extra line not in the contract needs its unit price (0.00 if free).",
                                        field="unit_price")
            price = require_money(unit_price, "unit_price")
        line_no = self.last_line_no + 1   # never given again, also after a removal
        if part is not None:
            assert stock is not None and warehouse is not None
            if warehouse.company_id != self.company_id or warehouse.kind == WarehouseKind.MOBILE:
                raise WarehouseNotUsableError(f"Accessories of contract {self.number} come from a main or parts "
                                              "warehouse of its own company.", field="warehouse_id")
            stock.reserve(ctx, quantity, self.parts_ref, warehouse.code)
        self._record(self.AccessoryOutboundLineAdded, ctx, self.company_id, outbound_no=number,
                     line=OutboundLine(line_no, line_name, quantity, price, agreed_accessory_no,
                                       part.id if part else None, warehouse.id if warehouse else None))
        return line_no

    def outbound_line(self, line_no: int) -> OutboundLine | None:
        return next((o.lines[line_no] for o in self.outbounds.values() if line_no in o.lines), None)

    def remove_accessory_outbound_line(self, ctx: Context, line_no: int, stock: PartStock | None = None) -> None:
        """Removes a line of the open outbound; a stocked part's reservation (``stock``) is released."""
        self._require(ContractStatus.APPROVED, act="changed")
        outbound = next((o for o in self.outbounds.values() if line_no in o.lines), None)
        if outbound is None:
            raise NotFoundError(f"Contract {self.number} has no outbound line {line_no}.",
                                code="outbound-line-not-found")
        self._require_open(outbound.number, "changed")
        line = outbound.lines[line_no]
        if line.part_id is not None:
            assert stock is not None
            stock.release(ctx, self.parts_ref, line.quantity)
        self._record(self.AccessoryOutboundLineRemoved, ctx, self.company_id, outbound_no=outbound.number,
                     line_no=line_no)

    def review_outbound(self, ctx: Context, outbound_no: int) -> None:
        self._require(ContractStatus.APPROVED, act="reviewed")
        outbound = self._require_open(outbound_no, "reviewed")
        if not outbound.serials and not outbound.lines:
            raise OutboundStateError(f"Outbound {outbound_no} of contract {self.number} is empty; pick a machine "
                                     "or add a line first.", state=str(outbound.status))
        self._record(self.OutboundReviewed, ctx, self.company_id, outbound_no=outbound_no,
                     serial_numbers=tuple(sorted(outbound.serials)), line_nos=tuple(sorted(outbound.lines)))

    def return_outbound(self, ctx: Context, outbound_no: int) -> None:
        outbound = self._get_outbound(outbound_no)
        if outbound.status != OutboundStatus.REVIEWED:
            raise OutboundStateError(f"Outbound {outbound_no} of contract {self.number} is {outbound.status}; only "
                                     "a reviewed outbound waiting for dispatch can be returned.",
                                     state=str(outbound.status))
        require_text(ctx.reason or "", "reason", 500)
        self._record(self.OutboundReturned, ctx, self.company_id, outbound_no=outbound_no)

    def dispatch(self, ctx: Context, outbound_no: int, units: Mapping[str, MachineUnit],
                 part_stocks: Mapping[tuple[UUID, UUID], PartStock] | None = None) -> None:
        """出库发车: every machine of the reviewed outbound leaves (``units``, by serial, as
        loaded for this command), and its stocked accessories leave their warehouses."""
        self._require(ContractStatus.APPROVED, act="dispatched")
        outbound = self._get_outbound(outbound_no)
        if outbound.status != OutboundStatus.REVIEWED:
            hint = "finance reviews it first" if outbound.status == OutboundStatus.OPEN else "nothing is left to send"
            raise OutboundStateError(f"Outbound {outbound_no} of contract {self.number} is {outbound.status}; "
                                     f"{hint}.", state=str(outbound.status))
        serials = tuple(sorted(outbound.serials))
        for serial in serials:
            units[serial].dispatch(ctx, self.id)
        for line in self._stocked(outbound):
            (part_stocks or {})[(line.part_id, line.warehouse_id)].issue(ctx, self.parts_ref, line.quantity)
        self._record(self.OutboundDispatched, ctx, self.company_id, outbound_no=outbound_no, serial_numbers=serials)

    def swap_machine(self, ctx: Context, old: MachineUnit, new: MachineUnit, new_model: MachineModel,
                     line_models: Mapping[UUID, MachineModel], back_to: Warehouse) -> None:
        """销售换机: ``new`` goes out in place of the dispatched ``old``, which comes back
        to stock in ``back_to``. The three aggregates change together."""
        self._require(ContractStatus.APPROVED, act="given a swap")
        pick = self._pick(old.serial_number)
        if not pick.dispatched:
            raise OutboundStateError(f"Machine {old.serial_number} has not been dispatched; release it and pick "
                                     "another instead of swapping.", state=str(OutboundStatus.OPEN))
        require_text(ctx.reason or "", "reason", 500)
        if new.company_id != self.company_id:
            raise MachineDoesNotFitContractError(
                f"Machine {new.serial_number} is in another member company's stock; transfer it to the "
                "contract's company first.", serial_number=new.serial_number)
        line = self.lines[pick.line_no - 1]
        same_type = line_models.get(line.model_id)
        if new.model_id != line.model_id and not (
                line.substitute_allowed and same_type is not None
                and same_type.machine_type == new_model.machine_type):
            raise MachineDoesNotFitContractError(
                f"Machine {new.serial_number} is a {new.model_code}; line {pick.line_no} of contract {self.number} "
                f"sells {line.model_code}.", serial_number=new.serial_number)
        if back_to.company_id != old.company_id or not back_to.holds_machines:
            raise WarehouseCannotHoldMachinesError(
                f"Machine {old.serial_number} comes back to a main warehouse of its own company; "
                f"{back_to.code} is not one.", field="return_warehouse_id")
        new.swap_in(ctx, self.id, self.number, old)
        old.swap_out(ctx, self.id, new, back_to)
        self._record(self.MachineSwapped, ctx, self.company_id, swap_no=self.swaps + 1,
                     outbound_no=pick.outbound_no, line_no=pick.line_no, old_machine_id=old.id,
                     old_serial=old.serial_number, new_machine_id=new.id, new_serial=new.serial_number,
                     new_model_code=new.model_code)

    def _pick(self, serial: str) -> Pick:
        pick = self.picks.get(serial)
        if pick is None:
            raise MachineNotOnContractError(f"Machine {serial} is not on contract {self.number}.",
                                            serial_number=serial)
        return pick

    def _get_outbound(self, number: int) -> Outbound:
        outbound = self.outbounds.get(number)
        if outbound is None:
            raise NotFoundError(f"Contract {self.number} has no outbound {number}.", code="outbound-not-found")
        return outbound

    def _require_open(self, number: int, act: str) -> Outbound:
        outbound = self._get_outbound(number)
        if outbound.status != OutboundStatus.OPEN:
            hint = (" Ask finance to return it first." if outbound.status == OutboundStatus.REVIEWED else "")
            raise OutboundStateError(f"Outbound {number} of contract {self.number} is {outbound.status}; it cannot "
                                     f"be {act}.{hint}", state=str(outbound.status))
        return outbound

    @staticmethod
    def _check_parties(company_id: UUID, customer: Customer, contact: Contact | None) -> None:
        if customer.company_id != company_id:
            raise InvalidValueError("The customer belongs to another member company.", field="customer_id")
        if contact is not None and contact.company_id != company_id:
            raise InvalidValueError("The contact belongs to another member company.", field="contact_id")
