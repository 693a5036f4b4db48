"""Customers, contacts and sales contracts: each act by its role, within the caller's data scope.

Who may act is checked here (permissions); what the act may do is the domain's
(states, amounts). A record out of the caller's scope, or another salesperson's
customer, contact or contract, is answered as not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID, uuid4

from application.approvals import ApprovalRuleService, decider
from application.coupons import CouponService
from application.caller import Caller
from application.ledger import CommandResult, CommandRunner, Outcome
from application.parts import load_part_stocks
from domain import ids
from domain.access import Permission, Position, Role, User
from domain.base import Context, DealerAggregate, InvalidValueError, PermissionDeniedError
from domain.contracts import CommercialTerms, Contract
from domain.customers import Contact, Customer, CustomerTag, CustomerType, PartyKind
from domain.machines import MachineUnit
from domain.organisation import Company, MachineModel
from domain.receivables import Debt, DebtStatus


@dataclass(frozen=True)
class LineRequest:
    model_id: UUID
    quantity: int
    unit_price: Decimal
    substitute_allowed: bool = False


class CustomerService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    # ------------------------------------------------------------ catalogue (administrators)
    def define_customer_type(self, caller: Caller, code: str, name: str,
                             idempotency_key: str | None = None) -> CommandResult:
        return self._define(caller, "DefineCustomerType", CustomerType, code, name, "customer_type_id",
                            idempotency_key)

    def define_customer_tag(self, caller: Caller, code: str, name: str,
                            idempotency_key: str | None = None) -> CommandResult:
        return self._define(caller, "DefineCustomerTag", CustomerTag, code, name, "tag_id", idempotency_key)

    def _define(self, caller: Caller, operation: str, cls: type[CustomerType] | type[CustomerTag], code: str,
                name: str, id_field: str, idempotency_key: str | None) -> CommandResult:
        caller.require(Permission.MANAGE_CUSTOMER_CATALOGUE)

        def handle(ctx: Context) -> Outcome:
            item = cls.define(ctx, code, name)
            if self.runner.find(item.id, cls):
                raise item.refuse_second_creation()
            return Outcome([item], {id_field: str(item.id), "code": item.code}, 201)

        return self.runner.run(caller, operation, {"code": code, "name": name}, handle, idempotency_key)

    # ------------------------------------------------------------ customers and contacts
    def register_customer(self, caller: Caller, company_id: UUID, name: str, kind: PartyKind,
                          customer_type_id: UUID, id_number: str | None = None, phone: str | None = None,
                          address: str | None = None, owner_id: UUID | None = None,
                          idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.REGISTER_CUSTOMERS)

        def handle(ctx: Context) -> Outcome:
            company = self.runner.get_in_scope(caller, company_id, Company, f"Company {company_id}")
            customer_type = self.runner.get(customer_type_id, CustomerType, f"Customer type {customer_type_id}")
            owner = self._owner(caller, owner_id, company_id)
            customer = Customer.register(ctx, uuid4(), company, owner, name, kind, customer_type, id_number,
                                         phone, address)
            return Outcome([customer], {"customer_id": str(customer.id), "owner_id": str(owner)}, 201)

        request = {"company_id": company_id, "name": name, "kind": kind, "customer_type_id": customer_type_id,
                   "id_number": id_number, "phone": phone, "address": address, "owner_id": owner_id}
        return self.runner.run(caller, "CreateCustomer", request, handle, idempotency_key)

    def register_contact(self, caller: Caller, company_id: UUID, name: str, phone: str | None = None,
                         title: str | None = None, owner_id: UUID | None = None,
                         idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.REGISTER_CUSTOMERS)

        def handle(ctx: Context) -> Outcome:
            company = self.runner.get_in_scope(caller, company_id, Company, f"Company {company_id}")
            owner = self._owner(caller, owner_id, company_id)
            contact = Contact.register(ctx, uuid4(), company, owner, name, phone, title)
            return Outcome([contact], {"contact_id": str(contact.id), "owner_id": str(owner)}, 201)

        request = {"company_id": company_id, "name": name, "phone": phone, "title": title, "owner_id": owner_id}
        return self.runner.run(caller, "CreateContact", request, handle, idempotency_key)

    def _owner(self, caller: Caller, owner_id: UUID | None, company_id: UUID) -> UUID:
        """The salesperson a new customer or contact belongs to: the caller, or, when a
        clerk registers it for someone, that salesperson (who must see the company)."""
        if owner_id is None or owner_id == caller.user_id:
            return caller.user_id
        if caller.own_sales_only:
            raise PermissionDeniedError("A salesperson registers customers and contacts for themself only.")
        owner = self.runner.get(owner_id, User, f"User {owner_id}")
        if Role.SALESPERSON not in owner.roles:
            raise InvalidValueError(f"{owner.username} is not a salesperson.", field="owner_id")
        positions = [self.runner.find(p, Position) for p in owner.position_ids]
        if not any(p is not None and p.scope.includes(company_id) for p in positions):
            raise InvalidValueError(f"{owner.username} has no position in this company, so would not see "
                                    "the record; give them a position first.", field="owner_id")
        return owner.id

    def tag_customer(self, caller: Caller, customer_id: UUID, tag_id: UUID,
                     idempotency_key: str | None = None) -> CommandResult:
        return self._change_customer(caller, "TagCustomer", Permission.TAG_CUSTOMERS, customer_id,
                                     {"tag_id": tag_id},
                                     lambda ctx, c: c.tag(ctx, self.runner.get(tag_id, CustomerTag, f"Tag {tag_id}")),
                                     idempotency_key)

    def untag_customer(self, caller: Caller, customer_id: UUID, tag_id: UUID,
                       idempotency_key: str | None = None) -> CommandResult:
        return self._change_customer(caller, "UntagCustomer", Permission.TAG_CUSTOMERS, customer_id,
                                     {"tag_id": tag_id},
                                     lambda ctx, c: c.untag(ctx, self.runner.get(tag_id, CustomerTag, f"Tag {tag_id}")),
                                     idempotency_key)

    def link_contact(self, caller: Caller, customer_id: UUID, contact_id: UUID,
                     idempotency_key: str | None = None) -> CommandResult:
        def link(ctx: Context, customer: Customer) -> None:
            customer.link_contact(ctx, self.runner.get_in_scope(caller, contact_id, Contact, f"Contact {contact_id}"))

        return self._change_customer(caller, "LinkContactToCustomer", Permission.LINK_CONTACTS, customer_id,
                                     {"contact_id": contact_id}, link, idempotency_key)

    def _change_customer(self, caller: Caller, operation: str, permission: Permission, customer_id: UUID,
                         request: dict, change, idempotency_key: str | None) -> CommandResult:
        caller.require(permission)

        def handle(ctx: Context) -> Outcome:
            customer = self.runner.get_in_scope(caller, customer_id, Customer, f"Customer {customer_id}")
            change(ctx, customer)
            return Outcome([customer], {"customer_id": str(customer.id)})

        return self.runner.run(caller, operation, {"customer_id": customer_id, **request}, handle, idempotency_key)


class ContractService:
    def __init__(self, runner: CommandRunner, rules: ApprovalRuleService, coupons: CouponService) -> None:
        self.runner = runner
        self.rules = rules
        self.coupons = coupons

    def _parties(self, caller: Caller, customer_id: UUID, contact_id: UUID | None) -> tuple[Customer, Contact | None]:
        customer = self.runner.get_in_scope(caller, customer_id, Customer, f"Customer {customer_id}")
        contact = (self.runner.get_in_scope(caller, contact_id, Contact, f"Contact {contact_id}")
                   if contact_id else None)
        return customer, contact

    def _lines(self, lines: list[LineRequest]) -> list[tuple[MachineModel, int, Decimal]]:
        return [(self.runner.get(line.model_id, MachineModel, f"Machine model {line.model_id}"), line.quantity,
                 line.unit_price, line.substitute_allowed) for line in lines]

    def draft_contract(self, caller: Caller, company_id: UUID, customer_id: UUID, contact_id: UUID | None,
                       lines: list[LineRequest], idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.DRAFT_CONTRACTS)

        def handle(ctx: Context) -> Outcome:
            company = self.runner.get_in_scope(caller, company_id, Company, f"Company {company_id}")
            customer, contact = self._parties(caller, customer_id, contact_id)
            contract = Contract.draft(ctx, uuid4(), company, customer, contact, self._lines(lines))
            return Outcome([contract], _summary(contract), 201)

        request = {"company_id": company_id, "customer_id": customer_id, "contact_id": contact_id, "lines": lines}
        return self.runner.run(caller, "DraftContract", request, handle, idempotency_key)

    def revise_contract_draft(self, caller: Caller, contract_id: UUID, customer_id: UUID, contact_id: UUID | None,
                              lines: list[LineRequest], idempotency_key: str | None = None) -> CommandResult:
        def revise(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            customer, contact = self._parties(caller, customer_id, contact_id)
            contract.revise_draft(ctx, customer, contact, self._lines(lines))
            return [contract]

        return self._act(caller, "ReviseContractDraft", Permission.DRAFT_CONTRACTS, contract_id,
                         {"customer_id": customer_id, "contact_id": contact_id, "lines": lines}, revise,
                         idempotency_key)

    def submit_to_clerk(self, caller: Caller, contract_id: UUID, idempotency_key: str | None = None) -> CommandResult:
        return self._act(caller, "SubmitContractToClerk", Permission.DRAFT_CONTRACTS, contract_id, {},
                         lambda ctx, c: c.submit_to_clerk(ctx), idempotency_key)

    def return_to_salesperson(self, caller: Caller, contract_id: UUID, reason: str,
                              idempotency_key: str | None = None) -> CommandResult:
        return self._act(caller, "ReturnContractToSalesperson", Permission.PREPARE_CONTRACTS, contract_id,
                         {"reason": reason}, lambda ctx, c: c.return_to_salesperson(ctx),
                         idempotency_key, reason)

    def complete_terms(self, caller: Caller, contract_id: UUID, terms: CommercialTerms,
                       idempotency_key: str | None = None) -> CommandResult:
        return self._act(caller, "CompleteContractTerms", Permission.PREPARE_CONTRACTS, contract_id,
                         {"terms": terms}, lambda ctx, c: c.complete_terms(ctx, terms), idempotency_key)

    def submit_for_approval(self, caller: Caller, contract_id: UUID,
                            idempotency_key: str | None = None) -> CommandResult:
        def submit(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            contract.submit_for_approval(ctx, self.rules.rule_in_force(contract.document_type, contract.company_id))
            return [contract]

        return self._act(caller, "SubmitContractForApproval", Permission.PREPARE_CONTRACTS, contract_id, {},
                         submit, idempotency_key)

    def approve(self, caller: Caller, contract_id: UUID, idempotency_key: str | None = None) -> CommandResult:
        """Approves the current step. At the last step the contract is approved, its
        receivable opened (or reopened after an un-approval) and, if it names a contact
        the customer does not have yet, they are linked, all in the same transaction."""
        def approve(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            changed: list[DealerAggregate] = [contract]
            if not contract.approve(ctx, decider(caller)):
                return changed
            debt = self.runner.find(ids.debt_id(contract.id), Debt)
            if debt is None:
                changed.append(Debt.open_for(ctx, contract))
            elif debt.status == DebtStatus.CLOSED:
                debt.reopen_for(ctx, contract)
                changed.append(debt)
            # Else another approval opened it after this command read the contract: the contract's
            # save conflicts, and the command runs again on what is stored (already approved).
            changed.extend(self.coupons.grant_for(ctx, contract))
            if contract.contact_id is not None:
                customer = self.runner.get(contract.customer_id, Customer, "Customer")
                contact = self.runner.get(contract.contact_id, Contact, "Contact")
                if customer.link_contact_of_contract(ctx, contact, contract.id):
                    changed.append(customer)
            return changed

        return self._act(caller, "ApproveContract", None, contract_id, {}, approve, idempotency_key)

    def reject(self, caller: Caller, contract_id: UUID, reason: str,
               idempotency_key: str | None = None) -> CommandResult:
        return self._act(caller, "RejectContract", None, contract_id, {"reason": reason},
                         lambda ctx, c: c.reject(ctx, decider(caller)), idempotency_key, reason)

    def unapprove(self, caller: Caller, contract_id: UUID, reason: str,
                  idempotency_key: str | None = None) -> CommandResult:
        """取消审核: machines picked but not dispatched are released and the receivable
        closed in the same transaction (refused once money was received)."""
        def unapprove(ctx: Context, contract: Contract) -> list[DealerAggregate]:
            reserved = {serial: self.runner.get(pick.machine_id, MachineUnit, f"Machine {serial}")
                        for serial, pick in contract.picks.items() if not pick.dispatched}
            stocks = load_part_stocks(self.runner, ctx, contract.part_stocks_needed())
            contract.unapprove(ctx, reserved, stocks)
            debt = self.runner.find(ids.debt_id(contract.id), Debt)
            if debt is not None:
                debt.close_for_unapproval(ctx)
            coupons = self.coupons.withdraw_for(ctx, contract)
            return [contract, *reserved.values(), *stocks.values(), *([debt] if debt is not None else []), *coupons]

        return self._act(caller, "UnapproveContract", Permission.UNAPPROVE_CONTRACTS, contract_id,
                         {"reason": reason}, unapprove, idempotency_key, reason)

    def _act(self, caller: Caller, operation: str, permission: Permission | None, contract_id: UUID, request: dict,
             act, idempotency_key: str | None, reason: str | None = None) -> CommandResult:
        """One act on one contract. Approve and reject need no permission of their
        own: the step being decided names the role, which the domain checks."""
        if permission is not None:
            caller.require(permission)

        def handle(ctx: Context) -> Outcome:
            contract = self.runner.get_in_scope(caller, contract_id, Contract, f"Contract {contract_id}")
            changed = act(ctx, contract) or [contract]
            return Outcome(changed, _summary(contract))

        return self.runner.run(caller, operation, {"contract_id": contract_id, **request}, handle, idempotency_key,
                               reason=reason)


def _summary(contract: Contract) -> dict:
    step = contract.approval.current_step if contract.approval else None
    return {"contract_id": str(contract.id), "number": contract.number, "status": str(contract.status),
            "total_amount": contract.total_amount,
            "waiting_for": {"step": step.name, "role": str(step.role)} if step else None}
