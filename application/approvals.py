"""Approval rules: set by an administrator, resolved for each document when it is submitted."""

from __future__ import annotations

from uuid import UUID

from application.caller import Caller
from application.ledger import CommandResult, CommandRunner, Outcome
from domain import ids
from domain.access import Permission
from domain.approvals import AmountBand, ApprovalRule, Decider, DocumentType
from domain.base import Context, PermissionDeniedError
from domain.organisation import Company


def decider(caller: Caller) -> Decider:
    return Decider(caller.user_id, caller.roles, caller.scope)


class ApprovalRuleService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    def rule_in_force(self, document_type: DocumentType, company_id: UUID | None) -> ApprovalRule | None:
        """The company's own rule for this document type, else the group-wide one."""
        if company_id is not None:
            rule = self.runner.find(ids.approval_rule_id(document_type, company_id), ApprovalRule)
            if rule is not None:
                return rule
        return self.runner.find(ids.approval_rule_id(document_type, None), ApprovalRule)

    def set_approval_rule(self, caller: Caller, document_type: DocumentType, company_id: UUID | None,
                          bands: list[AmountBand], idempotency_key: str | None = None) -> CommandResult:
        """Sets the rule for a document type in one company (or group-wide when
        ``company_id`` is None): the first time it is created, afterwards revised."""
        caller.require(Permission.MANAGE_APPROVAL_RULES)

        def handle(ctx: Context) -> Outcome:
            if company_id is None:
                if not caller.scope.all_companies:
                    raise PermissionDeniedError("A group-wide rule is set by an administrator whose positions "
                                                "cover the whole group; name a company instead.")
            else:
                self.runner.get_in_scope(caller, company_id, Company, f"Company {company_id}")
            rule = self.runner.find(ids.approval_rule_id(document_type, company_id), ApprovalRule)
            status = 200
            if rule is None:
                rule = ApprovalRule.set_new(ctx, document_type, company_id, bands)
                status = 201
            else:
                rule.revise(ctx, bands)
            return Outcome([rule], {"rule_id": str(rule.id), "document_type": str(document_type),
                                    "company_id": str(company_id) if company_id else None,
                                    "revision": rule.revision}, status)

        request = {"document_type": document_type, "company_id": company_id, "bands": bands}
        return self.runner.run(caller, "SetApprovalRule", request, handle, idempotency_key)
