"""Approval rules (审批规则) and the approval flow every approvable document follows.

One engine serves every document that needs a decision: sales contracts now,
interest waivers, lock / unlock, tow, settlement applications and expenses later.

- An administrator keeps an ``ApprovalRule`` per document type, for one member
  company or for the whole group (the company's own rule wins). A rule is a list
  of amount bands; each band is an ordered list of steps, each naming the role
  that decides and how far that decider's data scope must reach.
- When a document is submitted, the rule in force is resolved into a ``Route``
  (rule id, revision, steps) and recorded on the submission event. Changing the
  rule later never changes a document already in flight: it follows its own copy.
- ``ApprovalFlow`` is the part of a document that walks the route: who may decide
  the current step, approve (next step, or approved at the last), reject (back to
  whoever prepares the document). A person never decides a step of a document
  they submitted for approval.

The flow's events are base classes here; each document nests its own subclasses
(``Contract.Approved`` …), so its history reads in its own words, while the
approval queue read model follows every document type through these bases.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain import ids
from domain.access import Role, Scope
from domain.base import Context, DealerAggregate, DomainError, InvalidValueError, PermissionDeniedError, require_text
from domain.money import require_money


class DocumentType(StrEnum):
    SALES_CONTRACT = "sales_contract"        # 销售合同
    INTEREST_WAIVER = "interest_waiver"      # 利息减免
    MACHINE_LOCK = "machine_lock"            # 锁机
    MACHINE_UNLOCK = "machine_unlock"        # 开机
    TOW = "tow"                              # 拖机
    SETTLEMENT = "settlement"                # 结清
    EXPENSE = "expense"                      # 费用


class StepScope(StrEnum):
    """How far the decider's data scope must reach."""

    COMPANY = "company"   # their positions include the document's company
    GROUP = "group"       # their positions grant the whole group


@dataclass(frozen=True)
class ApprovalStep:
    name: str
    role: Role
    scope: StepScope = StepScope.COMPANY


@dataclass(frozen=True)
class AmountBand:
    """Applies to documents of at least ``from_amount`` up to the next band's ``from_amount``."""

    from_amount: Decimal
    steps: tuple[ApprovalStep, ...]


@dataclass(frozen=True)
class Route:
    """The steps one document follows, fixed when it was submitted."""

    rule_id: UUID
    revision: int
    steps: tuple[ApprovalStep, ...]


@dataclass(frozen=True)
class Decider:
    """Who is deciding: identity, roles and data scope at the moment of the decision."""

    user_id: UUID
    roles: frozenset[Role]
    scope: Scope


MAX_BANDS = 20
MAX_STEPS = 10


class NoApprovalRuleError(DomainError):
    code = "no-approval-rule"


class NotYourStepError(PermissionDeniedError):
    code = "not-your-approval-step"


class SelfApprovalError(PermissionDeniedError):
    code = "own-document"


class NotAwaitingApprovalError(DomainError):
    code = "not-awaiting-approval"


def _check_bands(bands: list[AmountBand]) -> tuple[AmountBand, ...]:
    if not bands:
        raise InvalidValueError("A rule has at least one amount band.", field="bands")
    if len(bands) > MAX_BANDS:
        raise InvalidValueError(f"A rule has at most {MAX_BANDS} amount bands.", field="bands")
    checked: list[AmountBand] = []
    for n, band in enumerate(bands, 1):
        start = require_money(band.from_amount, f"bands[{n}].from_amount")
        if n == 1 and start != 0:
            raise InvalidValueError("The first band starts at 0.00, so that every amount has a route.",
                                    field="bands")
        if checked and start <= checked[-1].from_amount:
            raise InvalidValueError(f"Band {n} must start above band {n - 1} ({checked[-1].from_amount}).",
                                    field="bands")
        if not band.steps:
            raise InvalidValueError(f"Band {n} has no step; every band names at least one decider.",
                                    field="bands")
        if len(band.steps) > MAX_STEPS:
            raise InvalidValueError(f"Band {n} has more than {MAX_STEPS} steps.", field="bands")
        steps = tuple(ApprovalStep(require_text(s.name, f"bands[{n}].steps.name", 100), Role(s.role),
                                   StepScope(s.scope)) for s in band.steps)
        checked.append(AmountBand(start, steps))
    return tuple(checked)


class ApprovalRule(DealerAggregate):
    """审批规则: for one document type, in one member company or group-wide
    (``company_id`` None). Its id is derived from those two, so there is one rule
    per pair; setting it again makes a new revision."""

    class Set(DealerAggregate.Created):
        document_type: DocumentType
        bands: tuple[AmountBand, ...]

        def apply(self, rule: ApprovalRule) -> None:
            rule.company_id = self.company_id
            rule.document_type = self.document_type
            rule.bands = self.bands
            rule.revision = 1

    class Revised(DealerAggregate.Event):
        bands: tuple[AmountBand, ...]

        def apply(self, rule: ApprovalRule) -> None:
            rule.bands = self.bands
            rule.revision += 1

    @classmethod
    def set_new(cls, ctx: Context, document_type: DocumentType, company_id: UUID | None,
                bands: list[AmountBand]) -> ApprovalRule:
        return cls._start(cls.Set, ids.approval_rule_id(document_type, company_id), ctx, company_id,
                          document_type=DocumentType(document_type), bands=_check_bands(bands))

    def revise(self, ctx: Context, bands: list[AmountBand]) -> None:
        checked = _check_bands(bands)
        if checked == self.bands:
            raise DomainError("The rule already has exactly these bands and steps.", code="nothing-changed")
        self._record(self.Revised, ctx, self.company_id, bands=checked)

    def route_for(self, amount: Decimal) -> Route:
        band = self.bands[0]
        for candidate in self.bands:
            if amount >= candidate.from_amount:
                band = candidate
        return Route(self.id, self.revision, band.steps)


# ---------------------------------------------------------------- the flow
@dataclass
class ApprovalState:
    route: Route
    submitted_by: UUID
    step_index: int = 0

    @property
    def current_step(self) -> ApprovalStep:
        return self.route.steps[self.step_index]

    @property
    def is_last_step(self) -> bool:
        return self.step_index == len(self.route.steps) - 1


class ApprovalRequested(DealerAggregate.Event):
    """The document enters its route at the first step. What the approval queue shows
    (type, label, amount) is recorded here, so the queue needs no other read model."""

    document_type: DocumentType
    document_label: str
    document_owner_id: UUID | None   # a salesperson's document is seen by them and by those above
    amount: Decimal
    route: Route

    def apply(self, document: Any) -> None:
        document.approval = ApprovalState(self.route, self.actor_id)


class ApprovalStepPassed(DealerAggregate.Event):
    """A step approved and the document moves to the next one."""

    step_index: int
    step_name: str

    def apply(self, document: Any) -> None:
        document.approval.step_index = self.step_index + 1


class ApprovalGranted(DealerAggregate.Event):
    """The last step approved: the document is approved."""

    step_index: int
    step_name: str

    def apply(self, document: Any) -> None:
        document.approval = None


class ApprovalRefused(DealerAggregate.Event):
    """A step rejected, with the reason in ``reason``: back to whoever prepares the document."""

    step_index: int
    step_name: str

    def apply(self, document: Any) -> None:
        document.approval = None


class ApprovalFlow:
    """Mixed into an approvable document aggregate. The document says what it is
    (type, label, amount, company) and nests subclasses of the flow's events."""

    approval: ApprovalState | None = None
    document_type: DocumentType

    def approval_waiting(self) -> ApprovalState:
        if self.approval is None:
            raise NotAwaitingApprovalError(f"{self.document_label} is {self.status_text()}, not awaiting approval.",
                                           state=self.status_text())
        return self.approval

    def check_decider(self, decider: Decider) -> ApprovalState:
        state = self.approval_waiting()
        step = state.current_step
        if decider.user_id == state.submitted_by:
            raise SelfApprovalError(f"You submitted {self.document_label} for approval; "
                                    f"another {step.role} must decide step '{step.name}'.")
        company_id = getattr(self, "company_id", None)
        reaches = (decider.scope.all_companies if step.scope == StepScope.GROUP
                   else decider.scope.includes(company_id))
        if step.role not in decider.roles or not reaches:
            where = "the whole group" if step.scope == StepScope.GROUP else "this company"
            raise NotYourStepError(f"Step '{step.name}' of {self.document_label} is decided by a {step.role} "
                                   f"whose positions cover {where}.", role=str(step.role))
        return state

    def _request_approval(self, ctx: Context, event_class: type[ApprovalRequested], rule: ApprovalRule | None,
                          amount: Decimal) -> None:
        if rule is None:
            raise NoApprovalRuleError(f"No approval rule is set for {self.document_type} documents of this "
                                      "company; an administrator sets one first (SetApprovalRule).")
        self._record(event_class, ctx, getattr(self, "company_id", None), document_type=self.document_type,
                     document_label=self.document_label,
                     document_owner_id=getattr(self, "owner_id", None), amount=amount, route=rule.route_for(amount))

    def _approve(self, ctx: Context, decider: Decider, passed: type[ApprovalStepPassed],
                 granted: type[ApprovalGranted]) -> bool:
        """Approves the current step; True when that was the last one."""
        state = self.check_decider(decider)
        last = state.is_last_step
        self._record(granted if last else passed, ctx, getattr(self, "company_id", None),
                     step_index=state.step_index, step_name=state.current_step.name)
        return last

    def _reject(self, ctx: Context, decider: Decider, refused: type[ApprovalRefused]) -> None:
        state = self.check_decider(decider)
        require_text(ctx.reason or "", "reason", 500)
        self._record(refused, ctx, getattr(self, "company_id", None), step_index=state.step_index,
                     step_name=state.current_step.name)

    # Provided by the document (which also inherits ``_record`` from DealerAggregate):
    document_label: str

    def status_text(self) -> str:
        raise NotImplementedError
