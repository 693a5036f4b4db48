"""The sales contract aggregate (销售申请 → 合同): its events, from the salesperson's draft
to the approved contract and its delivery, and its sales commands (see the package's
docstring for the flow). The delivery commands are in ``domain/contracts/delivery.py``.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from domain import approvals
from domain.approvals import ApprovalFlow, ApprovalRule, Decider, DocumentType
from domain.base import Context, DealerAggregate, InvalidValueError, require_text
from domain.contracts.delivery import ContractDelivery
from domain.contracts.errors import ContractAlreadyStartedError, ContractStateError, ContractTermsMissingError
from domain.contracts.outbounds import Outbound, OutboundLine, OutboundStatus, Pick, UnapprovalReleases
from domain.contracts.terms import (ApprovedSale, CommercialTerms, ContractLine, ContractStatus, check_lines,
                                    check_terms)
from domain.customers import Contact, Customer
from domain.money import ZERO
from domain.organisation import Company
from domain.parts import DocumentKind, DocumentRef


class Contract(ContractDelivery, DealerAggregate, ApprovalFlow):
    __module__ = "domain.contracts"   # its stored topic and its events': see domain/contracts/__init__.py
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

    def approved_sale(self) -> ApprovedSale:
        """The sale as its receivable is opened from (once approved, the terms are complete)."""
        assert self.terms is not None, "an approved contract has its terms"
        return ApprovedSale(contract_id=self.id, contract_number=self.number, company_id=self.company_id,
                            owner_id=self.owner_id, customer_id=self.customer_id, drafted_on=self.drafted_on,
                            total_amount=self.total_amount, terms=self.terms)

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

    def unapprove(self, ctx: Context) -> UnapprovalReleases:
        """Back to the clerk. The picks (none dispatched) are released and the outbounds not
        yet dispatched cancelled, all under this one command. Answers what the handler
        releases with it: each picked unit (``MachineUnit.release``) and each stocked
        accessory line of a cancelled outbound (``PartStock.release``). The receivable is
        closed by the same command (``Debt.close_for_unapproval``), which refuses once
        money was received."""
        self._require(ContractStatus.APPROVED, act="un-approved")
        require_text(ctx.reason or "", "reason", 500)
        if self.dispatched_serials:
            raise ContractAlreadyStartedError(
                f"Machine {', '.join(sorted(self.dispatched_serials))} went out under contract {self.number}; "
                "reverse the dispatch before un-approving it.")
        picks = tuple(pick for _, pick in sorted(self.picks.items()))
        for pick in picks:
            self._record(self.MachineReleased, ctx, self.company_id, outbound_no=pick.outbound_no,
                         machine_id=pick.machine_id, serial_number=pick.serial_number)
        stocked: list[OutboundLine] = []
        for number, outbound in sorted(self.outbounds.items()):
            if outbound.status in (OutboundStatus.OPEN, OutboundStatus.REVIEWED):
                stocked.extend(self._stocked(outbound))
                self._record(self.OutboundCancelled, ctx, self.company_id, outbound_no=number)
        self._record(self.Unapproved, ctx, self.company_id)
        return UnapprovalReleases(picks, tuple(stocked))

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

    @staticmethod
    def _check_parties(company_id: UUID, customer: Customer, contact: Contact | None) -> None:
        if customer.company_id != company_id:
            raise InvalidValueError("The customer belongs to another member company.", field="customer_id")
        if contact is not None and contact.company_id != company_id:
            raise InvalidValueError("The contact belongs to another member company.", field="contact_id")
