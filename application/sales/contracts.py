"""Sales contracts: each act by its role, within the caller's data scope. Approve and reject
need no permission of their own: the step being decided names the role, which the domain checks."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

from application.approvals import ApprovalRuleService, decider
from application.coupons import CouponService
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
from application.parts import load_part_stocks
from application.sales.commands import (
    ApproveContract,
    CompleteContractTerms,
    ContractLineRequest,
    ContractSummary,
    DraftContract,
    RejectContract,
    ReturnContractToSalesperson,
    ReviseContractDraft,
    SubmitContractForApproval,
    SubmitContractToClerk,
    UnapproveContract,
    WaitingFor,
)
from domain import ids
from domain.access import Permission
from domain.base import DealerAggregate
from domain.contracts import Contract
from domain.customers import Contact, Customer
from domain.machines import MachineUnit
from domain.organisation import Company, MachineModel
from domain.receivables import Debt, DebtStatus


def summary(contract: Contract) -> ContractSummary:
    step = contract.approval.current_step if contract.approval else None
    return ContractSummary(contract_id=contract.id, number=contract.number, status=contract.status,
                           total_amount=contract.total_amount,
                           waiting_for=WaitingFor(step=step.name, role=step.role) if step else None)


class ContractService:
    def __init__(self, runner: CommandRunner, rules: ApprovalRuleService, coupons: CouponService) -> None:
        self.runner = runner
        self.rules = rules
        self.coupons = coupons

    @staticmethod
    def _contract(ctx: CommandContext, contract_id: UUID) -> Contract:
        return ctx.load_in_scope(Contract, contract_id, f"Contract {contract_id}")

    @staticmethod
    def _parties(ctx: CommandContext, customer_id: UUID, contact_id: UUID | None) -> tuple[Customer, Contact | None]:
        customer = ctx.load_in_scope(Customer, customer_id, f"Customer {customer_id}")
        contact = ctx.load_in_scope(Contact, contact_id, f"Contact {contact_id}") if contact_id else None
        return customer, contact

    @staticmethod
    def _lines(ctx: CommandContext,
               lines: list[ContractLineRequest]) -> list[tuple[MachineModel, int, Decimal, bool]]:
        return [(ctx.load(MachineModel, line.model_id, f"Machine model {line.model_id}"), line.quantity,
                 line.unit_price, line.substitute_allowed) for line in lines]

    @handles(DraftContract, permission=Permission.DRAFT_CONTRACTS)
    def draft_contract(self, ctx: CommandContext, cmd: DraftContract) -> Outcome:
        company = ctx.load_in_scope(Company, cmd.company_id, f"Company {cmd.company_id}")
        customer, contact = self._parties(ctx, cmd.customer_id, cmd.contact_id)
        contract = Contract.draft(ctx.meta, uuid4(), company, customer, contact, self._lines(ctx, cmd.lines))
        return ctx.save(contract, answer=summary(contract))

    @handles(ReviseContractDraft, permission=Permission.DRAFT_CONTRACTS)
    def revise_contract_draft(self, ctx: CommandContext, cmd: ReviseContractDraft) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        customer, contact = self._parties(ctx, cmd.customer_id, cmd.contact_id)
        contract.revise_draft(ctx.meta, customer, contact, self._lines(ctx, cmd.lines))
        return ctx.save(contract, answer=summary(contract))

    @handles(SubmitContractToClerk, permission=Permission.DRAFT_CONTRACTS)
    def submit_to_clerk(self, ctx: CommandContext, cmd: SubmitContractToClerk) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        contract.submit_to_clerk(ctx.meta)
        return ctx.save(contract, answer=summary(contract))

    @handles(ReturnContractToSalesperson, permission=Permission.PREPARE_CONTRACTS)
    def return_to_salesperson(self, ctx: CommandContext, cmd: ReturnContractToSalesperson) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        contract.return_to_salesperson(ctx.meta)
        return ctx.save(contract, answer=summary(contract))

    @handles(CompleteContractTerms, permission=Permission.PREPARE_CONTRACTS)
    def complete_terms(self, ctx: CommandContext, cmd: CompleteContractTerms) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        contract.complete_terms(ctx.meta, cmd.terms)
        return ctx.save(contract, answer=summary(contract))

    @handles(SubmitContractForApproval, permission=Permission.PREPARE_CONTRACTS)
    def submit_for_approval(self, ctx: CommandContext, cmd: SubmitContractForApproval) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        contract.submit_for_approval(ctx.meta, self.rules.rule_in_force(contract.document_type, contract.company_id))
        return ctx.save(contract, answer=summary(contract))

    @handles(ApproveContract)
    def approve(self, ctx: CommandContext, cmd: ApproveContract) -> Outcome:
        """Approves the current step. At the last step the contract is approved, its
        receivable opened (or reopened after an un-approval) and, if it names a contact
        the customer does not have yet, they are linked, all in the same transaction."""
        contract = self._contract(ctx, cmd.contract_id)
        changed: list[DealerAggregate] = [contract]
        if contract.approve(ctx.meta, decider(ctx.caller)):
            debt = ctx.find(Debt, ids.debt_id(contract.id))
            if debt is None:
                changed.append(Debt.open_for(ctx.meta, contract.approved_sale()))
            elif debt.status == DebtStatus.CLOSED:
                debt.reopen_for(ctx.meta, contract.approved_sale())
                changed.append(debt)
            # Else another approval opened it after this command read the contract: the contract's
            # save conflicts, and the command runs again on what is stored (already approved).
            changed.extend(self.coupons.grant_for(ctx.meta, contract))
            if contract.contact_id is not None:
                customer = ctx.load(Customer, contract.customer_id, "Customer")
                contact = ctx.load(Contact, contract.contact_id, "Contact")
                if customer.link_contact_of_contract(ctx.meta, contact, contract.id):
                    changed.append(customer)
        return ctx.save(*changed, answer=summary(contract))

    @handles(RejectContract)
    def reject(self, ctx: CommandContext, cmd: RejectContract) -> Outcome:
        contract = self._contract(ctx, cmd.contract_id)
        contract.reject(ctx.meta, decider(ctx.caller))
        return ctx.save(contract, answer=summary(contract))

    @handles(UnapproveContract, permission=Permission.UNAPPROVE_CONTRACTS)
    def unapprove(self, ctx: CommandContext, cmd: UnapproveContract) -> Outcome:
        """取消审核: machines picked but not dispatched are released and the receivable
        closed in the same transaction (refused once money was received). The contract
        is asked first, then its picked units, then its parts stocks."""
        contract = self._contract(ctx, cmd.contract_id)
        reserved = {serial: ctx.load(MachineUnit, pick.machine_id, f"Machine {serial}")
                    for serial, pick in contract.picks.items() if not pick.dispatched}
        stocks = load_part_stocks(self.runner, ctx.meta, contract.part_stocks_needed())
        released = contract.unapprove(ctx.meta)
        for pick in released.picks:
            reserved[pick.serial_number].release(ctx.meta, contract.id)
        for line in released.stocked_lines:
            stocks[(line.part_id, line.warehouse_id)].release(ctx.meta, contract.parts_ref, line.quantity)
        debt = ctx.find(Debt, ids.debt_id(contract.id))
        if debt is not None:
            debt.close_for_unapproval(ctx.meta)
        coupons = self.coupons.withdraw_for(ctx.meta, contract)
        return ctx.save(contract, *reserved.values(), *stocks.values(), debt, *coupons, answer=summary(contract))
