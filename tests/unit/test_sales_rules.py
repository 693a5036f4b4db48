"""Given / when / then for the sales contract and the approval engine, without a store."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.access import Role, Scope
from domain.approvals import (
    AmountBand,
    ApprovalRule,
    ApprovalStep,
    Decider,
    DocumentType,
    NoApprovalRuleError,
    NotYourStepError,
    SelfApprovalError,
    StepScope,
)
from domain.base import DomainError, InvalidValueError
from domain.contracts import (
    AgreedAccessory,
    CommercialTerms,
    Contract,
    ContractStateError,
    ContractTermsMissingError,
    InstallmentTerms,
    PaymentMethod,
    ScheduleMethod,
)
from domain.customers import Contact, Customer, CustomerType, PartyKind
from domain.organisation import Company, MachineModel, MachineType
from tests.unit.given import ACTOR, BUSINESS_DATE, ctx, given, then_events, then_metadata, then_refused

HEFEI = Company.create(ctx(), "HF", "Hefei")
CHUZHOU = Company.create(ctx(), "CZ", "Chuzhou")
SY215C = MachineModel.register(ctx(), "SY215C", "SY215C", MachineType.EXCAVATOR)
FORMAL = CustomerType.define(ctx(), "FORMAL", "Formal")
CLERK = uuid4()
MANAGER = Decider(uuid4(), frozenset({Role.APPROVER}), Scope(companies=frozenset({HEFEI.id})))
FINANCE = Decider(uuid4(), frozenset({Role.FINANCE}), Scope(all_companies=True))
STEPS = (ApprovalStep("Sales manager", Role.APPROVER), ApprovalStep("Group finance", Role.FINANCE, StepScope.GROUP))


def _rule(*bands: AmountBand) -> ApprovalRule:
    return given(ApprovalRule.set_new(ctx(), DocumentType.SALES_CONTRACT, None, list(bands) or [
        AmountBand(Decimal("0.00"), STEPS[:1]), AmountBand(Decimal("300000.00"), STEPS)]))


def _customer(company: Company = HEFEI) -> Customer:
    return given(Customer.register(ctx(), uuid4(), company, ACTOR, "Hefei Earthworks", PartyKind.ORGANISATION, FORMAL))


def _contact(company: Company = HEFEI) -> Contact:
    return given(Contact.register(ctx(), uuid4(), company, ACTOR, "Liu Qiang"))


def _cash(deposit: str = "0.00") -> CommercialTerms:
    due = BUSINESS_DATE + timedelta(days=365) if Decimal(deposit) else None
    return CommercialTerms(PaymentMethod.CASH, Decimal("0.00"), None, Decimal(deposit), due, (), ())


def _installment(down: str = "80000.00", months: int = 12, rate: str = "0.0435",
                 first_due: date = date(2026, 4, 30)) -> CommercialTerms:
    return CommercialTerms(PaymentMethod.INSTALLMENT, Decimal(down),
                           InstallmentTerms(months, Decimal(rate), first_due, ScheduleMethod.EQUAL_INSTALLMENT),
                           Decimal("0.00"), None, (), ())


def _contract(status: str = "draft", price: str = "380000.00", contact: bool = True) -> Contract:
    contract = Contract.draft(ctx(), uuid4(), HEFEI, _customer(), _contact() if contact else None,
                              [(SY215C, 1, Decimal(price))])
    if status != "draft":
        contract.submit_to_clerk(ctx())
    if status in ("with_clerk_terms", "in_approval", "approved"):
        contract.complete_terms(ctx(actor=CLERK), _installment() if Decimal(price) > 100000 else _cash())
    if status in ("in_approval", "approved"):
        contract.submit_for_approval(ctx(actor=CLERK), _rule())
    if status == "approved":
        while contract.approve(ctx(), MANAGER if contract.approval.current_step.role == Role.APPROVER
                               else FINANCE) is False:
            pass
    return given(contract)


# ------------------------------------------------------------------ drafting
def test_a_salesperson_drafts_a_contract_they_own():
    context = ctx()
    contract = Contract.draft(context, uuid4(), HEFEI, _customer(), _contact(), [(SY215C, 2, Decimal("190000.00"))])
    (drafted,) = then_events(contract, Contract.Drafted)
    then_metadata(drafted, context, HEFEI.id)
    assert (contract.status, contract.owner_id, contract.total_amount) == ("draft", ACTOR, Decimal("380000.00"))
    assert contract.number.startswith("HF-20260302-")


@pytest.mark.parametrize("lines,field", [
    ([], "lines"),
    ([(SY215C, 0, Decimal("1.00"))], "lines"),
    ([(SY215C, 1001, Decimal("1.00"))], "lines"),
    ([(SY215C, 1, Decimal("0.00"))], "lines[1].unit_price"),
    ([(SY215C, 1, Decimal("-5.00"))], "lines[1].unit_price"),
    ([(SY215C, 1, Decimal("1.005"))], "lines[1].unit_price"),
    ([(SY215C, 1, Decimal("NaN"))], "lines[1].unit_price"),
    ([(SY215C, 1, Decimal("1E+20"))], "lines[1].unit_price"),
])
def test_a_draft_needs_machines_at_a_price(lines, field):
    error = then_refused(None, lambda: Contract.draft(ctx(), uuid4(), HEFEI, _customer(), None, lines),
                         InvalidValueError, "invalid-value", 422)
    assert error.details["field"] == field


def test_customer_and_contact_come_from_the_contracts_company():
    then_refused(None, lambda: Contract.draft(ctx(), uuid4(), HEFEI, _customer(CHUZHOU), None,
                                              [(SY215C, 1, Decimal("1.00"))]), InvalidValueError, "invalid-value", 422)
    then_refused(None, lambda: Contract.draft(ctx(), uuid4(), HEFEI, _customer(), _contact(CHUZHOU),
                                              [(SY215C, 1, Decimal("1.00"))]), InvalidValueError, "invalid-value", 422)


def test_the_salesperson_revises_a_draft_then_submits_it_to_the_clerk():
    contract = _contract()
    contract.revise_draft(ctx(), _customer(), None, [(SY215C, 1, Decimal("370000.00"))])
    contract.submit_to_clerk(ctx())
    then_events(contract, Contract.DraftRevised, Contract.SubmittedToClerk)
    assert (contract.status, contract.contact_id, contract.total_amount) == (
        "with_clerk", None, Decimal("370000.00"))


def test_a_draft_revised_after_the_clerk_completed_its_terms_goes_back_without_them():
    """Terms are agreed on the lines; new lines need new terms, completed again by the clerk."""
    contract = _contract("with_clerk_terms")
    contract.return_to_salesperson(ctx(actor=CLERK, reason="Price changed"))
    contract.revise_draft(ctx(), _customer(), None, [(SY215C, 1, Decimal("90000.00"))])
    then_events(contract, Contract.ReturnedToSalesperson, Contract.DraftRevised, Contract.TermsCleared)
    assert (contract.terms, contract.total_amount) == (None, Decimal("90000.00"))
    contract.submit_to_clerk(ctx())
    then_events(contract, Contract.SubmittedToClerk)
    then_refused(contract, lambda: contract.submit_for_approval(ctx(actor=CLERK), _rule()),
                 ContractTermsMissingError, "contract-terms-missing", 409)


# ------------------------------------------------------------------ the clerk
def test_the_clerk_returns_an_application_with_a_reason():
    contract = _contract("with_clerk")
    then_refused(contract, lambda: contract.return_to_salesperson(ctx()), InvalidValueError, "invalid-value", 422)
    contract.return_to_salesperson(ctx(reason="Add the delivery site"))
    (returned,) = then_events(contract, Contract.ReturnedToSalesperson)
    assert returned.reason == "Add the delivery site" and contract.status == "draft"


def test_terms_with_accessories_raise_the_amount_judged_by_the_rule():
    contract = _contract("with_clerk", price="290000.00")
    terms = CommercialTerms(PaymentMethod.CASH, Decimal("0.00"), None, Decimal("0.00"), None,
                            (AgreedAccessory("Breaker hammer", 2, Decimal("6000.00")),), ())
    contract.complete_terms(ctx(actor=CLERK), terms)
    contract.submit_for_approval(ctx(actor=CLERK), _rule())
    _, submitted = then_events(contract, Contract.TermsCompleted, Contract.SubmittedForApproval)
    assert submitted.amount == Decimal("302000.00") and submitted.route.steps == STEPS


@pytest.mark.parametrize("terms,field", [
    (CommercialTerms(PaymentMethod.CASH, Decimal("1000.00"), None, Decimal("0"), None, (), ()), "payment"),
    (CommercialTerms(PaymentMethod.INSTALLMENT, Decimal("1000.00"), None, Decimal("0"), None, (), ()), "installment"),
    (_installment(down="380000.00"), "down_payment"),
    (_installment(months=0), "installment.months"),
    (_installment(months=121), "installment.months"),
    (_installment(rate="1"), "installment.annual_rate"),
    (_installment(rate="-0.01"), "installment.annual_rate"),
    (_installment(rate="0.0000001"), "installment.annual_rate"),
    (_installment(first_due=BUSINESS_DATE), "installment.first_due_date"),
    (CommercialTerms(PaymentMethod.CASH, Decimal("0"), None, Decimal("1000.00"), None, (), ()), "warranty_due_date"),
    (CommercialTerms(PaymentMethod.CASH, Decimal("0"), None, Decimal("0"), date(2027, 1, 1), (), ()),
     "warranty_due_date"),
    (CommercialTerms(PaymentMethod.CASH, Decimal("0"), None, Decimal("380000.00"), date(2027, 1, 1), (), ()),
     "warranty_deposit"),
])
def test_terms_that_do_not_add_up_are_refused(terms, field):
    contract = _contract("with_clerk")
    error = then_refused(contract, lambda: contract.complete_terms(ctx(actor=CLERK), terms), InvalidValueError,
                         "invalid-value", 422)
    assert error.details["field"] == field


def test_a_zero_rate_installment_is_accepted():
    contract = _contract("with_clerk")
    contract.complete_terms(ctx(actor=CLERK), _installment(rate="0"))
    (completed,) = then_events(contract, Contract.TermsCompleted)
    assert completed.terms.installment.annual_rate == 0


def test_submission_for_approval_needs_terms_and_a_rule():
    contract = _contract("with_clerk")
    then_refused(contract, lambda: contract.submit_for_approval(ctx(actor=CLERK), _rule()),
                 ContractTermsMissingError, "contract-terms-missing", 409)
    contract.complete_terms(ctx(actor=CLERK), _installment())
    contract.collect_events()  # what happened so far is the given
    then_refused(contract, lambda: contract.submit_for_approval(ctx(actor=CLERK), None),
                 NoApprovalRuleError, "no-approval-rule", 409)


@pytest.mark.parametrize("act", ["revise", "return", "terms", "submit_to_clerk", "submit_for_approval", "unapprove"])
def test_once_in_approval_nothing_is_edited_nor_returned(act):
    contract = _contract("in_approval")
    acts = {
        "revise": lambda: contract.revise_draft(ctx(), _customer(), None, [(SY215C, 1, Decimal("1.00"))]),
        "return": lambda: contract.return_to_salesperson(ctx(reason="late")),
        "terms": lambda: contract.complete_terms(ctx(actor=CLERK), _cash()),
        "submit_to_clerk": lambda: contract.submit_to_clerk(ctx()),
        "submit_for_approval": lambda: contract.submit_for_approval(ctx(actor=CLERK), _rule()),
        "unapprove": lambda: contract.unapprove(ctx(reason="review")),
    }
    error = then_refused(contract, acts[act], ContractStateError, "contract-state", 409)
    assert "in_approval" in error.message and error.details["state"] == "in_approval"


# ------------------------------------------------------------------ approval
def test_each_step_of_the_route_approves_in_turn():
    contract = _contract("in_approval")
    assert contract.approve(ctx(), MANAGER) is False
    assert contract.approval.current_step.name == "Group finance"
    assert contract.approve(ctx(), FINANCE) is True
    passed, approved = then_events(contract, Contract.ApprovalStepPassed, Contract.Approved)
    assert (passed.step_index, passed.step_name, approved.step_index) == (0, "Sales manager", 1)
    assert contract.status == "approved" and contract.approval is None


def test_a_small_contract_has_one_step():
    contract = _contract("in_approval", price="100000.00")
    assert contract.approval.route.steps == STEPS[:1]
    assert contract.approve(ctx(), MANAGER) is True


@pytest.mark.parametrize("decider", [
    Decider(uuid4(), frozenset({Role.FINANCE}), Scope(all_companies=True)),                          # wrong role
    Decider(uuid4(), frozenset({Role.APPROVER}), Scope(companies=frozenset({CHUZHOU.id}))),           # wrong company
    Decider(uuid4(), frozenset({Role.SALES_CLERK, Role.SALESPERSON}), Scope(all_companies=True)),
], ids=["wrong-role", "other-company", "no-approver-role"])
def test_only_the_steps_role_within_its_scope_decides(decider):
    contract = _contract("in_approval")
    then_refused(contract, lambda: contract.approve(ctx(), decider), NotYourStepError, "not-your-approval-step", 403)
    then_refused(contract, lambda: contract.reject(ctx(reason="no"), decider), NotYourStepError,
                 "not-your-approval-step", 403)


def test_a_group_step_needs_a_decider_who_sees_the_whole_group():
    contract = _contract("in_approval")
    contract.approve(ctx(), MANAGER)
    contract.collect_events()  # what happened so far is the given
    hefei_finance = Decider(uuid4(), frozenset({Role.FINANCE}), Scope(companies=frozenset({HEFEI.id})))
    then_refused(contract, lambda: contract.approve(ctx(), hefei_finance), NotYourStepError,
                 "not-your-approval-step", 403)


def test_nobody_decides_a_step_of_a_document_they_submitted():
    contract = _contract("with_clerk_terms")
    contract.submit_for_approval(ctx(actor=MANAGER.user_id), _rule())
    contract.collect_events()  # what happened so far is the given
    then_refused(contract, lambda: contract.approve(ctx(actor=MANAGER.user_id), MANAGER), SelfApprovalError,
                 "own-document", 403)


def test_a_rejection_needs_a_reason_and_goes_back_to_the_clerk():
    contract = _contract("in_approval")
    then_refused(contract, lambda: contract.reject(ctx(), MANAGER), InvalidValueError, "invalid-value", 422)
    contract.reject(ctx(reason="Down payment too low"), MANAGER)
    (rejected,) = then_events(contract, Contract.Rejected)
    assert (rejected.reason, rejected.step_name, contract.status) == ("Down payment too low", "Sales manager",
                                                                      "with_clerk")
    then_refused(contract, lambda: contract.approve(ctx(), MANAGER), ContractStateError, "contract-state", 409)


def test_a_document_keeps_the_route_it_was_submitted_with():
    rule = _rule(AmountBand(Decimal("0.00"), STEPS[:1]))
    contract = _contract("with_clerk_terms")
    contract.submit_for_approval(ctx(actor=CLERK), rule)
    rule.revise(ctx(), [AmountBand(Decimal("0.00"), STEPS)])
    assert rule.revision == 2 and rule.route_for(Decimal("1.00")).steps == STEPS
    contract.collect_events()  # what happened so far is the given
    assert contract.approval.route.revision == 1
    assert contract.approve(ctx(), MANAGER) is True


# ------------------------------------------------------------------ un-approval
def test_an_approved_contract_is_unapproved_back_to_the_clerk_with_a_reason():
    contract = _contract("approved")
    then_refused(contract, lambda: contract.unapprove(ctx()), InvalidValueError, "invalid-value", 422)
    context = ctx(reason="Price below the floor")
    contract.unapprove(context)
    (unapproved,) = then_events(contract, Contract.Unapproved)
    then_metadata(unapproved, context, HEFEI.id)
    assert contract.status == "with_clerk"


# Un-approval with money received is refused by the receivable: test_receivable_rules.py.


# ------------------------------------------------------------------ rules
@pytest.mark.parametrize("bands,needle", [
    ([], "at least one"),
    ([AmountBand(Decimal("100.00"), STEPS)], "starts at 0.00"),
    ([AmountBand(Decimal("0"), STEPS), AmountBand(Decimal("0"), STEPS)], "must start above"),
    ([AmountBand(Decimal("0"), STEPS), AmountBand(Decimal("5.001"), STEPS)], "two decimal"),
    ([AmountBand(Decimal("0"), ())], "no step"),
    ([AmountBand(Decimal("0"), STEPS * 6)], "more than 10"),
])
def test_a_rule_without_a_route_for_every_amount_is_refused(bands, needle):
    error = then_refused(None, lambda: ApprovalRule.set_new(ctx(), DocumentType.SALES_CONTRACT, None, bands),
                         InvalidValueError, "invalid-value", 422)
    assert needle in error.message


def test_the_band_of_an_amount_starts_at_its_from_amount():
    rule = _rule()
    assert rule.route_for(Decimal("299999.99")).steps == STEPS[:1]
    assert rule.route_for(Decimal("300000.00")).steps == STEPS
    assert rule.route_for(Decimal("0.00")).rule_id == rule.id


def test_setting_the_same_rule_again_changes_nothing():
    rule = _rule()
    with pytest.raises(DomainError) as refused:
        rule.revise(ctx(), list(rule.bands))
    assert refused.value.code == "nothing-changed" and list(rule.collect_events()) == []


# ------------------------------------------------------------------ customers
def test_approving_links_the_contact_once():
    customer, contact = _customer(), _contact()
    contract_id = uuid4()
    assert customer.link_contact_of_contract(ctx(), contact, contract_id) is True
    assert customer.link_contact_of_contract(ctx(), contact, uuid4()) is False
    (linked,) = then_events(customer, Customer.ContactLinked)
    assert (linked.contact_id, linked.by_contract_id) == (contact.id, contract_id)
    then_refused(customer, lambda: customer.link_contact(ctx(), contact), DomainError, "contact-already-linked", 409)


def test_a_contact_of_another_company_is_not_linked():
    customer = _customer()
    then_refused(customer, lambda: customer.link_contact(ctx(), _contact(CHUZHOU)), DomainError, "other-company", 422)


@pytest.mark.parametrize("phone", ["abc", "12", "+86 (551) 1234"])
def test_a_phone_number_is_digits(phone):
    then_refused(None, lambda: Contact.register(ctx(), uuid4(), HEFEI, ACTOR, "Liu", phone), InvalidValueError,
                 "invalid-value", 422)
