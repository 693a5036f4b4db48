"""The acts of a contract's flow, each offered only to whom may do it now:

| act                 | command                       | who, when                                   |
|---------------------|-------------------------------|---------------------------------------------|
| revise              | ReviseContractDraft           | its salesperson, a draft                    |
| submit-to-clerk     | SubmitContractToClerk         | its salesperson, a draft                    |
| terms               | CompleteContractTerms         | the clerk, with the clerk (schedule preview) |
| return              | ReturnContractToSalesperson   | the clerk, with the clerk                   |
| submit-for-approval | SubmitContractForApproval     | the clerk, with the clerk and its terms set |
| approve / reject    | ApproveContract / RejectContract | the approver of its current step         |
| unapprove           | UnapproveContract             | contract review, approved                   |

What the page offers is a convenience; the command runner decides (permission, scope,
separation of duties), so a forced post of an act not offered is refused all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath

from application import queries
from application.caller import Caller
from application.handling import Command
from application.sales.commands import (ApproveContract, CompleteContractTerms, DraftContract, RejectContract,
                                        ReturnContractToSalesperson, ReviseContractDraft, SubmitContractForApproval,
                                        SubmitContractToClerk, UnapproveContract)
from domain.access import Permission
from domain.base import DomainError, NotFoundError
from domain.contracts import ApprovedSale, ContractStatus, PaymentMethod
from domain.receivables import Debt
from interfaces.console import choosers, forms
from interfaces.console.pages.session import Form as Posted
from interfaces.console.web import Console, ConsoleDep
from projections import approval_queue
from projections.contracts import ContractDetailRow


@dataclass
class Act:
    slug: str
    form: forms.Form
    style: str = "primary"      # primary, secondary or danger
    wide: bool = False          # a whole form (revise, terms) rather than a button and a reason


ACTS: dict[str, type[Command]] = {
    "revise": ReviseContractDraft, "submit-to-clerk": SubmitContractToClerk, "terms": CompleteContractTerms,
    "return": ReturnContractToSalesperson, "submit-for-approval": SubmitContractForApproval,
    "approve": ApproveContract, "reject": RejectContract, "unapprove": UnapproveContract,
}
LINE_ROWS, ACCESSORY_ROWS, COUPON_ROWS = 3, 3, 2


def _lines_values(contract: ContractDetailRow) -> dict[str, Any]:
    values: dict[str, Any] = {"customer_id": contract.customer_id, "contact_id": contract.contact_id}
    for i, line in enumerate(contract.lines):
        values |= {f"lines.{i}.model_id": line.model_id, f"lines.{i}.quantity": line.quantity,
                   f"lines.{i}.unit_price": line.unit_price, f"lines.{i}.substitute_allowed": line.substitute_allowed}
    return values


def _terms_values(contract: ContractDetailRow) -> dict[str, Any]:
    t = contract.terms
    if t is None:
        return {"payment": PaymentMethod.CASH}
    values: dict[str, Any] = {"payment": t.payment, "down_payment": t.down_payment,
                              "warranty_deposit": t.warranty_deposit, "warranty_due_date": t.warranty_due_date}
    if t.installment:
        values |= {f"installment.{k}": getattr(t.installment, k)
                   for k in ("months", "annual_rate", "first_due_date", "method")}
    for i, a in enumerate(t.accessories):
        values |= {f"accessories.{i}.name": a.name, f"accessories.{i}.quantity": a.quantity,
                   f"accessories.{i}.unit_price": a.unit_price}
    for i, c in enumerate(t.coupons):
        values |= {f"coupons.{i}.face_value": c.face_value, f"coupons.{i}.quantity": c.quantity,
                   f"coupons.{i}.note": c.note}
    return values


def act_form(console: Console, request: Request, caller: Caller, contract: ContractDetailRow, slug: str) -> forms.Form:
    command = ACTS[slug]
    action = f"/console/contracts/{contract.contract_id}/{slug}"
    omit = ("contract_id",)
    backoffice = console.backoffice
    if slug == "revise":
        return console.form(request, command, action, omit=omit, rows={"lines": max(LINE_ROWS, len(contract.lines))},
                            choices={"customer_id": choosers.customers_of(backoffice, caller),
                                     "contact_id": choosers.contacts_of(backoffice, caller),
                                     "model_id": choosers.machine_models(backoffice, caller)},
                            values=_lines_values(contract))
    if slug == "terms":
        t = contract.terms
        return console.form(request, command, action, omit=omit, values=_terms_values(contract), rows={
            "accessories": max(ACCESSORY_ROWS, len(t.accessories) if t else 0),
            "coupons": max(COUPON_ROWS, len(t.coupons) if t else 0)})
    return console.form(request, command, action, omit=omit)


def acts_for(console: Console, request: Request, caller: Caller, contract: ContractDetailRow, version: int,
             refused: forms.Form | None = None) -> list[Act]:
    """The acts this person may take on this contract now (a refused form in place of its fresh one)."""
    status, mine = contract.status, contract.owner_id == caller.user_id
    slugs: list[tuple[str, str, bool]] = []
    if status == ContractStatus.DRAFT and mine and caller.may(Permission.DRAFT_CONTRACTS):
        slugs += [("submit-to-clerk", "primary", False), ("revise", "secondary", True)]
    if status == ContractStatus.WITH_CLERK and caller.may(Permission.PREPARE_CONTRACTS):
        if contract.terms is not None:
            slugs.append(("submit-for-approval", "primary", False))
        slugs += [("terms", "secondary", True), ("return", "danger", False)]
    if status == ContractStatus.IN_APPROVAL:
        read = console.reader(caller, queries.MY_APPROVALS, request)
        if read(approval_queue.waiting_for_me, caller.roles, caller.user_id, caller.own_only, contract.contract_id):
            slugs += [("approve", "primary", False), ("reject", "danger", False)]
    if status == ContractStatus.APPROVED and caller.may(Permission.UNAPPROVE_CONTRACTS):
        slugs.append(("unapprove", "danger", False))
    acts = []
    for slug, style, wide in slugs:
        form = refused if refused is not None and refused.command is ACTS[slug] else act_form(
            console, request, caller, contract, slug)
        form.version = version
        acts.append(Act(slug, form, style, wide))
    return acts


def schedule_preview(console: Console, request: Request, contract: ContractDetailRow, form: forms.Form,
                     posted: dict[str, Any]) -> list[Any]:
    """The receivable these terms would open (items and amounts), computed by the rule that
    opens it, recording nothing; a refusal goes beside its field."""
    lang = console.language(request)
    forms.fill(form, posted)
    try:
        command = forms.command_of(lang, form, posted, {"contract_id": contract.contract_id})
        assert isinstance(command, CompleteContractTerms)
        sale = ApprovedSale(contract.contract_id, contract.number, contract.company_id, contract.owner_id,
                            contract.customer_id, contract.drafted_on, contract.total_amount, command.terms)
        return list(Debt.opening_of(sale, console.backoffice.today())["items"])
    except (forms.FormRefused, DomainError) as error:
        forms.refused(lang, form, error)  # type: ignore[arg-type]
        return []


def contract_version(console: Console, caller: Caller, contract_id: UUID) -> int:
    """The contract's version now (its last event's): what a form rendered from it carries."""
    return console.backoffice.history.contract_history(caller, contract_id)[-1]["version"]


# ---------------------------------------------------------------- pages of the acts
def _draft_form(console: Console, request: Request, caller: Caller) -> forms.Form:
    backoffice = console.backoffice
    return console.form(request, DraftContract, "/console/contracts/new", rows={"lines": LINE_ROWS},
                        choices={"company_id": choosers.companies(backoffice, caller),
                                 "customer_id": choosers.customers_of(backoffice, caller),
                                 "contact_id": choosers.contacts_of(backoffice, caller),
                                 "model_id": choosers.machine_models(backoffice, caller)})


@get("/contracts/new", sync_to_thread=True)
def new_contract(request: Request, console: ConsoleDep) -> Response[str]:
    caller = console.caller(request)
    caller.require(Permission.DRAFT_CONTRACTS)
    return console.page(request, "contract_new.html", caller, form=_draft_form(console, request, caller))


@post("/contracts/new", sync_to_thread=True)
def draft_contract(request: Request, console: ConsoleDep, data: Posted) -> Response[Any]:
    caller = console.caller(request)
    form = _draft_form(console, request, caller)
    result = console.submit(request, caller, form, data, {})
    if result is None:
        return console.page(request, "contract_new.html", caller, status=form.status, form=form)
    return console.done(form, result, f"/console/contracts/{result.answer.contract_id}")  # type: ignore[attr-defined]


@post("/contracts/{contract_id:uuid}/{act:str}", sync_to_thread=True)
def contract_act(request: Request, console: ConsoleDep, contract_id: FromPath[UUID], act: FromPath[str],
                 data: Posted) -> Response[Any]:
    from interfaces.console.pages.contracts import contract_page, load_contract

    if act not in ACTS:
        raise NotFoundError(f"A contract has no act {act!r}.", code="not-found")
    caller = console.caller(request)
    contract = load_contract(console, request, caller, contract_id)
    form = act_form(console, request, caller, contract, act)
    if act == "terms" and "_preview" in data:
        console.csrf.check(request, data)
        preview = schedule_preview(console, request, contract, form, data)
        key = data.get("_form_key")
        form.form_key = key if isinstance(key, str) and 8 <= len(key) <= 64 else form.form_key
        return contract_page(console, request, caller, contract_id, refused=form, preview=preview)
    result = console.submit(request, caller, form, data, {"contract_id": contract_id},
                            current_version=contract_version(console, caller, contract_id))
    if result is None:   # the contract's page again, the refused form in its place
        return contract_page(console, request, caller, contract_id, status=form.status, refused=form)
    return console.done(form, result, f"/console/contracts/{contract_id}")


ROUTES = [new_contract, draft_contract, contract_act]
