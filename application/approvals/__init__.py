"""Approval rules: set by an administrator, resolved for each document when it is submitted."""

from application.approvals.commands import AmountBandRequest, ApprovalRuleSet, ApprovalStepRequest, SetApprovalRule
from application.approvals.handlers import ApprovalRuleService, decider

__all__ = ["AmountBandRequest", "ApprovalRuleService", "ApprovalRuleSet", "ApprovalStepRequest", "SetApprovalRule",
           "decider"]
