"""Receivables: schedules, receipts and their confirmation, penalty rates and the daily
penalty accrual. Each act by its role, within the caller's data scope.

A contract's receivable (``Debt``) is addressed by the contract's id. It is opened
and closed by the contract's approval and un-approval (``application.sales``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from uuid import UUID, uuid4

from application.caller import Caller
from application.coupons import coupons_to_redeem
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
from application.receivables.commands import (
    AccruePenaltyBatch,
    BatchAccrued,
    ConfirmReceipt,
    GenerateSchedule,
    PenaltyRate,
    PenaltyRateSet,
    ReceiptRecorded,
    ReceivableSummary,
    RecordReceipt,
    RejectReceipt,
    ReverseReceipt,
    SetPenaltyRate,
    SetSchedule,
)
from domain import ids
from domain.access import Permission
from domain.base import DealerAggregate, NotFoundError
from domain.coupons import Coupon, CouponUse
from domain.customers import Customer
from domain.organisation import Company
from domain.receivables import Debt, PenaltyDateError, PenaltyPolicy, PenaltyRates
from domain.schedules import ScheduleLine


class ReceivableService:
    def __init__(self, runner: CommandRunner,
                 load_many: Callable[[Sequence[UUID]], list[Debt]] | None = None) -> None:
        self.runner = runner
        # Many debts in one read (the daily run); one by one when the store offers nothing better.
        self.load_many = load_many or (lambda debt_ids: [d for i in debt_ids
                                                         if (d := runner.find(i, Debt)) is not None])

    # ------------------------------------------------------------ penalty rates
    @handles(SetPenaltyRate, permission=Permission.MANAGE_PENALTY_RATES)
    def set_penalty_rate(self, ctx: CommandContext, cmd: SetPenaltyRate) -> Outcome:
        company = ctx.load_in_scope(Company, cmd.company_id, f"Company {cmd.company_id}")
        rate = PenaltyPolicy.check_rate(ctx.meta, cmd.effective_from, cmd.daily_rate, cmd.grace_days)
        policy = ctx.find(PenaltyPolicy, ids.penalty_policy_id(company.id))
        if policy is None:
            policy = PenaltyPolicy.start(ctx.meta, company.id, rate)
        else:
            policy.set_rate(ctx.meta, rate)
        return ctx.save(policy, answer=PenaltyRateSet(company_id=company.id, rates=[
            PenaltyRate(effective_from=r.effective_from, daily_rate=r.daily_rate, grace_days=r.grace_days)
            for r in policy.rates.rates]))

    def rates_of(self, company_id: UUID) -> PenaltyRates:
        policy = self.runner.find(ids.penalty_policy_id(company_id), PenaltyPolicy)
        return policy.rates if policy is not None else PenaltyRates()

    # ------------------------------------------------------------ schedules
    @handles(GenerateSchedule, permission=Permission.MANAGE_SCHEDULES)
    def generate_schedule(self, ctx: CommandContext, cmd: GenerateSchedule) -> Outcome:
        debt = self._debt(ctx, cmd.contract_id)
        debt.generate_schedule(ctx.meta, cmd.method, cmd.annual_rate, cmd.months, cmd.first_due_date,
                               self.rates_of(debt.company_id))
        return ctx.save(debt, answer=ReceivableSummary.of(debt))

    @handles(SetSchedule, permission=Permission.MANAGE_SCHEDULES)
    def set_schedule(self, ctx: CommandContext, cmd: SetSchedule) -> Outcome:
        debt = self._debt(ctx, cmd.contract_id)
        lines = [ScheduleLine(line.due_date, line.principal, line.interest) for line in cmd.lines]
        debt.set_schedule(ctx.meta, lines, self.rates_of(debt.company_id))
        return ctx.save(debt, answer=ReceivableSummary.of(debt))

    # ------------------------------------------------------------ receipts
    @handles(RecordReceipt, permission=Permission.RECORD_RECEIPTS)
    def record_receipt(self, ctx: CommandContext, cmd: RecordReceipt) -> Outcome:
        """收款, part of it possibly paid with coupons (code, amount): the coupons are redeemed
        in the same transaction, so two receipts never spend one balance twice."""
        debt = self._debt(ctx, cmd.contract_id)
        receipt_id = uuid4()
        used = coupons_to_redeem(ctx.runner, ctx.caller, [(c.code, c.amount) for c in cmd.coupons])
        debt.record_receipt(ctx.meta, receipt_id, cmd.amount, cmd.value_date, cmd.method, cmd.reference,
                            cmd.allocate_to, cmd.penalty_last, [CouponUse(c.id, c.code, a) for c, a in used])
        if used:
            customer = ctx.load(Customer, debt.customer_id, "Customer")
            for coupon, coupon_amount in used:
                coupon.redeem(ctx.meta, receipt_id, debt.id, debt.contract_id, debt.contract_number, coupon_amount,
                              debt.company_id, debt.customer_id, customer.contact_ids, cmd.value_date)
        return ctx.save(debt, *(c for c, _ in used), answer=ReceiptRecorded.of(debt, receipt_id=receipt_id))

    @handles(ConfirmReceipt, permission=Permission.CONFIRM_RECEIPTS)
    def confirm_receipt(self, ctx: CommandContext, cmd: ConfirmReceipt) -> Outcome:
        debt = self._debt(ctx, cmd.contract_id)
        debt.confirm_receipt(ctx.meta, cmd.receipt_id, self.rates_of(debt.company_id))
        return ctx.save(debt, answer=ReceivableSummary.of(debt))

    @handles(RejectReceipt, permission=Permission.CONFIRM_RECEIPTS)
    def reject_receipt(self, ctx: CommandContext, cmd: RejectReceipt) -> Outcome:
        debt = self._debt(ctx, cmd.contract_id)
        debt.reject_receipt(ctx.meta, cmd.receipt_id)
        restored = self._restore_coupons(ctx, debt, cmd.receipt_id)
        return ctx.save(debt, *restored, answer=ReceivableSummary.of(debt))

    @handles(ReverseReceipt, permission=Permission.CONFIRM_RECEIPTS)
    def reverse_receipt(self, ctx: CommandContext, cmd: ReverseReceipt) -> Outcome:
        debt = self._debt(ctx, cmd.contract_id)
        debt.reverse_receipt(ctx.meta, cmd.receipt_id, self.rates_of(debt.company_id))
        restored = self._restore_coupons(ctx, debt, cmd.receipt_id)
        return ctx.save(debt, *restored, answer=ReceivableSummary.of(debt))

    @staticmethod
    def _restore_coupons(ctx: CommandContext, debt: Debt, receipt_id: UUID) -> list[DealerAggregate]:
        """A rejected or reversed receipt gives back what it took from coupons (same transaction)."""
        restored: list[DealerAggregate] = []
        for use in debt.receipts[receipt_id].coupons:
            coupon = ctx.load(Coupon, use.coupon_id, f"Coupon {use.code}")
            coupon.restore(ctx.meta, receipt_id)
            restored.append(coupon)
        return restored

    # ------------------------------------------------------------ the daily accrual
    def check_accrual(self, caller: Caller, through: date) -> None:
        """Who may run the accrual, and for which days: only days that have ended."""
        caller.require(Permission.ACCRUE_PENALTIES)
        if through >= self.runner.today():
            raise PenaltyDateError(f"Penalties are accrued for days that have ended; {through} has not "
                                   f"(today is {self.runner.today()}).", field="through")

    def accrue_penalties(self, caller: Caller, through: date, debt_ids: Iterable[UUID],
                         batch_size: int = 500) -> dict[str, int]:
        """罚息计提 for the days up to ``through`` of the given debts (those that may owe
        penalty; the composition root finds them). Batches of debts are saved in one
        transaction each (the command ``AccruePenaltyBatch``); a debt already accrued through
        that day is left as it is, so running it twice changes nothing. A debt outside the
        caller's scope is skipped."""
        self.check_accrual(caller, through)
        totals = {"debts_examined": 0, "debts_charged": 0, "batches": 0}
        pending = list(debt_ids)
        for start in range(0, len(pending), batch_size):
            chunk = pending[start:start + batch_size]
            result = self.runner.execute(caller, AccruePenaltyBatch(through=through, debts=chunk))
            totals["debts_examined"] += len(chunk)
            totals["debts_charged"] += result.answer.debts_charged
            totals["batches"] += 1
            totals["position"] = max(totals.get("position") or 0, result.position or 0)
        return totals

    @handles(AccruePenaltyBatch, permission=Permission.ACCRUE_PENALTIES)
    def accrue_batch(self, ctx: CommandContext, cmd: AccruePenaltyBatch) -> Outcome:
        rates: dict[UUID, PenaltyRates] = {}
        changed = []
        for debt in self.load_many(cmd.debts):
            if not ctx.caller.sees(debt.company_id):
                continue
            company_rates = rates.get(debt.company_id)
            if company_rates is None:
                company_rates = rates[debt.company_id] = self.rates_of(debt.company_id)
            if debt.accrue_penalties(ctx.meta, cmd.through, company_rates):
                changed.append(debt)
        return ctx.save(*changed, answer=BatchAccrued(debts_charged=len(changed)))

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _debt(ctx: CommandContext, contract_id: UUID) -> Debt:
        debt = ctx.find(Debt, ids.debt_id(contract_id))
        if debt is None or not ctx.caller.sees(debt.company_id, debt.owner_id):
            raise NotFoundError(f"Contract {contract_id} has no receivable (it is not approved, or not yours "
                                "to see).", code="receivable-not-found")
        return debt


def receivable_summary(debt: Debt) -> dict:
    """What a command on a receivable answers: its figures right after the command (as JSON
    values; ``ReceivableSummary.of`` is the typed answer)."""
    return {
        "contract_id": str(debt.contract_id),
        "contract_number": debt.contract_number,
        "status": str(debt.status),
        "schedule_pending": debt.schedule_pending,
        "received": debt.received,
        "outstanding": debt.total_outstanding,
        "penalty_accrued_through": debt.accrued_through,
        "items": [{"item": k, "due_date": debt.items[k].due_date, "amount": debt.items[k].amount,
                   "outstanding": debt.outstanding(k), "penalty_outstanding": debt.penalty_outstanding(k)}
                  for k in debt.item_order()],
    }
