"""A hypothesis state machine over the real application on SQLite: whatever sequence
of acts salespeople, clerks and approvers send (allowed or not, in any order, with
the approval rule changing in between), every contract is in the state a simple
model of the business says, a refused act records nothing, and each user's
approval queue is exactly the set of documents waiting for their decision."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from hypothesis import event
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from application.access.commands import CreatePosition, CreateUser
from application.approvals import SetApprovalRule
from application.caller import SYSTEM, Caller
from application.sales import ContractLineRequest
from application.sales.commands import (
    ApproveContract,
    CompleteContractTerms,
    CreateCustomer,
    DefineCustomerType,
    DraftContract,
    RejectContract,
    ReturnContractToSalesperson,
    SubmitContractForApproval,
    SubmitContractToClerk,
    UnapproveContract,
)
from domain import ids
from domain.access import Role, User
from domain.approvals import AmountBand, ApprovalStep, DocumentType, StepScope
from domain.base import DomainError
from domain.contracts import CommercialTerms, Contract, PaymentMethod
from domain.customers import PartyKind
from interfaces.composition import BackOffice
from interfaces.http.errors import status_of
from interfaces.settings import Settings
from projections import approval_queue, contracts
from tests.conftest import PASSWORD, TODAY, seed_group

MANAGER = ApprovalStep("Sales manager", Role.APPROVER)
FINANCE = ApprovalStep("Group finance", Role.FINANCE, StepScope.GROUP)
RULES = {1: (MANAGER,), 2: (MANAGER, FINANCE)}

# name: (roles, sees Hefei, sees the whole group)
PEOPLE = {
    "wang": ({Role.SALESPERSON}, True, False),      # drafts every contract: the owner
    "li": ({Role.SALESPERSON}, True, False),        # another salesperson: sees none of them
    "chen": ({Role.SALES_CLERK}, True, False),
    "boss": ({Role.SALES_CLERK, Role.APPROVER}, True, False),   # may prepare, and approve others' submissions
    "zhao": ({Role.APPROVER}, True, False),
    "sun": ({Role.FINANCE}, True, True),
    "risk": ({Role.APPROVER, Role.FINANCE}, False, False),     # Chuzhou only
}
# Who tries each act: those whose role does it, and some who may not (or may not see it),
# so that both the flow and the refusals are reached in a few dozen steps.
TRIES = {
    "submit_to_clerk": ["wang", "wang", "li", "chen"],
    "return": ["chen", "boss", "wang"],
    "complete_terms": ["chen", "boss", "zhao"],
    "submit_for_approval": ["chen", "boss", "boss", "wang"],
    "approve": ["zhao", "boss", "sun", "risk", "chen"],
    "reject": ["zhao", "boss", "sun", "wang"],
    "unapprove": ["zhao", "boss", "risk", "chen"],
}


@dataclass
class Expected:
    status: str = "draft"
    has_terms: bool = False
    route: tuple[ApprovalStep, ...] = ()
    step: int = 0
    submitted_by: str | None = None
    events: int = 1


class ContractApprovals(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.office = BackOffice(Settings(data_dir=self.folder, admin_password="admin-pass-2026",
                                          secret_key="k" * 40), today=lambda: TODAY)
        self.office.access.ensure_administrator("admin-pass-2026")
        group = seed_group(self.office)
        self.hefei, self.model = group.hefei, group.excavator
        access = self.office.access
        self.office.execute(SYSTEM, CreatePosition(
            name="Chuzhou", company_ids=[group.chuzhou], all_companies=False))
        self.callers: dict[str, Caller] = {}
        for name, (roles, hefei, whole) in PEOPLE.items():
            position = "Whole group" if whole else ("Hefei" if hefei else "Chuzhou")
            self.office.execute(SYSTEM, CreateUser(
                username=name, display_name=name, password=PASSWORD, roles=sorted(roles),
                position_ids=[ids.position_id(position)]))
            self.callers[name] = access.caller_of(self.office.commands.get(ids.user_id(name), User, name))
        self.office.execute(SYSTEM, DefineCustomerType(code="FORMAL", name="Formal"))
        self.customer = UUID(self.office.execute(self.callers["wang"], CreateCustomer(
            company_id=self.hefei, name="Customer", kind=PartyKind.ORGANISATION,
            customer_type_id=ids.customer_type_id("FORMAL"))).body["customer_id"])
        self.rule_steps = 1
        self.office.execute(SYSTEM, SetApprovalRule(
            document_type=DocumentType.SALES_CONTRACT, company_id=self.hefei,
            bands=[AmountBand(Decimal("0.00"), RULES[1])]))
        self.expected: dict[UUID, Expected] = {}

    def teardown(self) -> None:
        self.office.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------ the model
    def _sees(self, who: str) -> bool:
        roles, hefei, _ = PEOPLE[who]
        return hefei and (who == "wang" or Role.SALESPERSON not in roles)

    def _decides(self, who: str, c: Expected) -> bool:
        if c.status != "in_approval" or who == c.submitted_by or not self._sees(who):
            return False
        step = c.route[c.step]
        roles, hefei, whole = PEOPLE[who]
        return step.role in roles and (whole if step.scope == StepScope.GROUP else hefei)

    def _allowed(self, act: str, who: str, c: Expected) -> bool:
        roles = PEOPLE[who][0]
        if not self._sees(who):
            return False
        if act == "submit_to_clerk":
            return Role.SALESPERSON in roles and c.status == "draft"
        if act in ("return", "complete_terms"):
            return Role.SALES_CLERK in roles and c.status == "with_clerk"
        if act == "submit_for_approval":
            return Role.SALES_CLERK in roles and c.status == "with_clerk" and c.has_terms
        if act in ("approve", "reject"):
            return self._decides(who, c)
        if act == "unapprove":
            return Role.APPROVER in roles and c.status == "approved"
        raise AssertionError(act)

    def _apply(self, act: str, who: str, c: Expected) -> None:
        c.events += 1
        if act == "submit_to_clerk":
            c.status = "with_clerk"
        elif act == "return":
            c.status = "draft"
        elif act == "complete_terms":
            c.has_terms = True
        elif act == "submit_for_approval":
            c.status, c.route, c.step, c.submitted_by = "in_approval", RULES[self.rule_steps], 0, who
        elif act == "approve":
            if c.step == len(c.route) - 1:
                c.status = "approved"
            else:
                c.step += 1
        elif act in ("reject", "unapprove"):
            c.status = "with_clerk"

    # ------------------------------------------------------------ the acts
    @rule(price=st.sampled_from(["150000.00", "380000.00"]))
    @precondition(lambda self: len(self.expected) < 3)
    def draft(self, price: str) -> None:
        result = self.office.execute(self.callers["wang"], DraftContract(
            company_id=self.hefei, customer_id=self.customer, contact_id=None,
            lines=[ContractLineRequest(self.model, 1, Decimal(price))]))
        self.expected[UUID(result.body["contract_id"])] = Expected()

    @rule(steps=st.sampled_from([1, 2]))
    def change_rule(self, steps: int) -> None:
        try:
            self.office.execute(SYSTEM, SetApprovalRule(
                document_type=DocumentType.SALES_CONTRACT, company_id=self.hefei,
                bands=[AmountBand(Decimal("0.00"), RULES[steps])]))
        except DomainError as error:
            assert error.code == "nothing-changed" and steps == self.rule_steps
        self.rule_steps = steps

    @rule(data=st.data(), act=st.sampled_from(sorted(TRIES)))
    @precondition(lambda self: self.expected)
    def act(self, data: st.DataObject, act: str) -> None:
        """Any act on any contract, by someone who might or might not be allowed."""
        contract_id = data.draw(st.sampled_from(list(self.expected)))  # drafting order: replayable
        self._try(act, data.draw(st.sampled_from(TRIES[act])), contract_id)

    @rule(data=st.data())
    @precondition(lambda self: self.expected)
    def advance(self, data: st.DataObject) -> None:
        """The act that would move a contract on, by one of those who might try it:
        reaches approval steps, self-approval and un-approval within a few steps."""
        contract_id = data.draw(st.sampled_from(list(self.expected)))  # drafting order: replayable
        c = self.expected[contract_id]
        act = {"draft": "submit_to_clerk", "in_approval": data.draw(st.sampled_from(["approve", "approve", "reject"])),
               "approved": "unapprove"}.get(c.status) or ("submit_for_approval" if c.has_terms else "complete_terms")
        self._try(act, data.draw(st.sampled_from(TRIES[act])), contract_id)

    def _try(self, act: str, who: str, contract_id: UUID) -> None:
        c = self.expected[contract_id]
        caller, service = self.callers[who], self.office.contracts
        calls = {
            "submit_to_clerk": lambda: self.office.execute(caller, SubmitContractToClerk(
                contract_id=contract_id)),
            "return": lambda: self.office.execute(caller, ReturnContractToSalesperson(
                contract_id=contract_id, reason="add the site")),
            "complete_terms": lambda: self.office.execute(caller, CompleteContractTerms.of(contract_id, CommercialTerms(
                PaymentMethod.CASH, Decimal("0.00"), None, Decimal("1000.00"), TODAY + timedelta(days=365), (), ()))),
            "submit_for_approval": lambda: self.office.execute(caller, SubmitContractForApproval(
                contract_id=contract_id)),
            "approve": lambda: self.office.execute(caller, ApproveContract(contract_id=contract_id)),
            "reject": lambda: self.office.execute(caller, RejectContract(
                contract_id=contract_id, reason="not this time")),
            "unapprove": lambda: self.office.execute(caller, UnapproveContract(
                contract_id=contract_id, reason="contract review")),
        }
        allowed = self._allowed(act, who, c)
        event(f"{act} {'allowed' if allowed else 'refused'}")
        try:
            calls[act]()
        except DomainError as error:
            assert not allowed, f"{who} {act} on {c} refused: {error.code} {error.message}"
            assert status_of(error) in (403, 404, 409, 422), error.code
        else:
            assert allowed, f"{who} {act} on {c} went through"
            self._apply(act, who, c)

    # ------------------------------------------------------------ what must always hold
    @invariant()
    def every_contract_is_where_the_model_says(self) -> None:
        for contract_id, c in self.expected.items():
            contract = self.office.commands.get(contract_id, Contract, "Contract")
            assert (str(contract.status), contract.version) == (c.status, c.events)
            if c.status == "in_approval":
                assert contract.approval.route.steps == c.route and contract.approval.step_index == c.step
            else:
                assert contract.approval is None

    @invariant()
    def each_queue_is_what_waits_for_that_user(self) -> None:
        self.office.catch_up()
        with self.office.read() as cur:
            for who, caller in self.callers.items():
                items, total = approval_queue.list_my_approvals(
                    cur, caller.scope, caller.roles, caller.user_id,
                    caller.user_id if caller.own_sales_only else None, None, None, 1, 100)
                expected = {cid for cid, c in self.expected.items() if self._decides(who, c)}
                assert {UUID(str(i["document_id"])) for i in items} == expected, who
                assert total == len(expected)
            rows, _ = contracts.list_contracts(cur, self.callers["chen"].scope, None, contracts.ContractFilter(),
                                               1, 100)
            assert {UUID(str(r["contract_id"])): r["status"] for r in rows} == {
                cid: c.status for cid, c in self.expected.items()}


TestContractApprovals = ContractApprovals.TestCase
TestContractApprovals.settings = hsettings(max_examples=15, stateful_step_count=40, deadline=None)
