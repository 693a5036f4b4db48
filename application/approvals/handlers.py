"""Approval rules: set by an administrator, resolved for each document when it is submitted."""

from __future__ import annotations

from uuid import UUID

from application.approvals.commands import ApprovalRuleSet, SetApprovalRule
from application.caller import Caller
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
from domain import ids
from domain.access import Permission
from domain.approvals import ApprovalRule, Decider, DocumentType
from domain.base import PermissionDeniedError
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

    @handles(SetApprovalRule, permission=Permission.MANAGE_APPROVAL_RULES)
    def set_approval_rule(self, ctx: CommandContext, cmd: SetApprovalRule) -> Outcome:
        """Sets the rule for a document type in one company (or group-wide when
        ``company_id`` is None): the first time it is created, afterwards revised."""
        if cmd.company_id is None:
            if not ctx.caller.scope.all_companies:
                raise PermissionDeniedError("A group-wide rule is set by an administrator whose positions "
                                            "cover the whole group; name a company instead.")
        else:
            ctx.load_in_scope(Company, cmd.company_id, f"Company {cmd.company_id}")
        bands = cmd.amount_bands()
        rule = ctx.find(ApprovalRule, ids.approval_rule_id(cmd.document_type, cmd.company_id))
        if rule is None:
            rule = ApprovalRule.set_new(ctx.meta, cmd.document_type, cmd.company_id, bands)
            ctx.status_code = 201
        else:
            rule.revise(ctx.meta, bands)
            ctx.status_code = 200
        return ctx.save(rule, answer=ApprovalRuleSet(rule_id=rule.id, document_type=cmd.document_type,
                                                     company_id=cmd.company_id, revision=rule.revision))
