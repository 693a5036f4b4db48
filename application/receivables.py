"""Receivables: schedules, receipts and their confirmation, penalty rates and the daily
penalty accrual. Each act by its role, within the caller's data scope.

A contract's receivable (``Debt``) is addressed by the contract's id. It is opened
and closed by the contract's approval and un-approval (``application.sales``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from application.caller import Caller
from application.coupons import coupons_to_redeem
from application.ledger import CommandResult, CommandRunner, Outcome
from domain import ids
from domain.access import Permission
from domain.base import Context, DealerAggregate, NotFoundError
from domain.coupons import Coupon, CouponUse
from domain.customers import Customer
from domain.contracts import ScheduleMethod
from domain.organisation import Company
from domain.receivables import Debt, PenaltyDateError, PenaltyPolicy, PenaltyRates, ReceiptMethod
from domain.schedules import ScheduleLine


class ReceivableService:
    def __init__(self, runner: CommandRunner,
                 load_many: Callable[[Sequence[UUID]], list[Debt]] | None = None) -> None:
        self.runner = runner
        # Many debts in one read (the daily run); one by one when the store offers nothing better.
        self.load_many = load_many or (lambda debt_ids: [d for i in debt_ids
                                                         if (d := runner.find(i, Debt)) is not None])

    # ------------------------------------------------------------ penalty rates
    def set_penalty_rate(self, caller: Caller, company_id: UUID, effective_from: date, daily_rate: Decimal,
                         grace_days: int = 0, idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_PENALTY_RATES)

        def handle(ctx: Context) -> Outcome:
            company = self.runner.get_in_scope(caller, company_id, Company, f"Company {company_id}")
            rate = PenaltyPolicy.check_rate(ctx, effective_from, daily_rate, grace_days)
            policy = self.runner.find(ids.penalty_policy_id(company.id), PenaltyPolicy)
            if policy is None:
                policy = PenaltyPolicy.start(ctx, company.id, rate)
            else:
                policy.set_rate(ctx, rate)
            return Outcome([policy], {"company_id": str(company.id), "rates": [
                {"effective_from": r.effective_from, "daily_rate": r.daily_rate, "grace_days": r.grace_days}
                for r in policy.rates.rates]})

        request = {"company_id": company_id, "effective_from": effective_from, "daily_rate": daily_rate,
                   "grace_days": grace_days}
        return self.runner.run(caller, "SetPenaltyRate", request, handle, idempotency_key)

    def rates_of(self, company_id: UUID) -> PenaltyRates:
        policy = self.runner.find(ids.penalty_policy_id(company_id), PenaltyPolicy)
        return policy.rates if policy is not None else PenaltyRates()

    # ------------------------------------------------------------ schedules
    def generate_schedule(self, caller: Caller, contract_id: UUID, method: ScheduleMethod, annual_rate: Decimal,
                          months: int, first_due_date: date, idempotency_key: str | None = None) -> CommandResult:
        request = {"method": method, "annual_rate": annual_rate, "months": months, "first_due_date": first_due_date}
        return self._act(caller, "GenerateSchedule", Permission.MANAGE_SCHEDULES, contract_id, request,
                         lambda ctx, debt: debt.generate_schedule(ctx, method, annual_rate, months, first_due_date,
                                                                  self.rates_of(debt.company_id)),
                         idempotency_key)

    def set_schedule(self, caller: Caller, contract_id: UUID, lines: Sequence[ScheduleLine],
                     idempotency_key: str | None = None) -> CommandResult:
        return self._act(caller, "SetSchedule", Permission.MANAGE_SCHEDULES, contract_id, {"lines": list(lines)},
                         lambda ctx, debt: debt.set_schedule(ctx, lines, self.rates_of(debt.company_id)),
                         idempotency_key)

    # ------------------------------------------------------------ receipts
    def record_receipt(self, caller: Caller, contract_id: UUID, amount: Decimal, value_date: date,
                       method: ReceiptMethod, reference: str | None = None, allocate_to: Sequence[str] = (),
                       idempotency_key: str | None = None, penalty_last: bool = False,
                       coupons: Sequence[tuple[str, Decimal]] = ()) -> CommandResult:
        """收款, part of it possibly paid with coupons (code, amount): the coupons are redeemed
        in the same transaction, so two receipts never spend one balance twice."""
        recorded: dict[str, str] = {}

        def record(ctx: Context, debt: Debt) -> list[DealerAggregate]:
            receipt_id = uuid4()
            used = coupons_to_redeem(self.runner, caller, coupons)
            debt.record_receipt(ctx, receipt_id, amount, value_date, method, reference, allocate_to, penalty_last,
                                [CouponUse(c.id, c.code, a) for c, a in used])
            if used:
                customer = self.runner.get(debt.customer_id, Customer, "Customer")
                for coupon, coupon_amount in used:
                    coupon.redeem(ctx, receipt_id, debt.id, debt.contract_id, debt.contract_number, coupon_amount,
                                  debt.company_id, debt.customer_id, customer.contact_ids, value_date)
            recorded["receipt_id"] = str(receipt_id)
            return [c for c, _ in used]

        request = {"amount": amount, "value_date": value_date, "method": method, "reference": reference,
                   "allocate_to": list(allocate_to), **({"penalty_last": True} if penalty_last else {}),
                   **({"coupons": [list(c) for c in coupons]} if coupons else {})}
        return self._act(caller, "RecordReceipt", Permission.RECORD_RECEIPTS, contract_id, request, record,
                         idempotency_key, extra=recorded, status_code=201)

    def _restore_coupons(self, ctx: Context, debt: Debt, receipt_id: UUID) -> list[DealerAggregate]:
        """A rejected or reversed receipt gives back what it took from coupons (same transaction)."""
        restored: list[DealerAggregate] = []
        for use in debt.receipts[receipt_id].coupons:
            coupon = self.runner.get(use.coupon_id, Coupon, f"Coupon {use.code}")
            coupon.restore(ctx, receipt_id)
            restored.append(coupon)
        return restored

    def confirm_receipt(self, caller: Caller, contract_id: UUID, receipt_id: UUID,
                        idempotency_key: str | None = None) -> CommandResult:
        return self._act(caller, "ConfirmReceipt", Permission.CONFIRM_RECEIPTS, contract_id,
                         {"receipt_id": receipt_id},
                         lambda ctx, debt: debt.confirm_receipt(ctx, receipt_id, self.rates_of(debt.company_id)),
                         idempotency_key)

    def reject_receipt(self, caller: Caller, contract_id: UUID, receipt_id: UUID, reason: str,
                       idempotency_key: str | None = None) -> CommandResult:
        def reject(ctx: Context, debt: Debt) -> list[DealerAggregate]:
            debt.reject_receipt(ctx, receipt_id)
            return self._restore_coupons(ctx, debt, receipt_id)

        return self._act(caller, "RejectReceipt", Permission.CONFIRM_RECEIPTS, contract_id,
                         {"receipt_id": receipt_id, "reason": reason}, reject, idempotency_key, reason)

    def reverse_receipt(self, caller: Caller, contract_id: UUID, receipt_id: UUID, reason: str,
                        idempotency_key: str | None = None) -> CommandResult:
        def reverse(ctx: Context, debt: Debt) -> list[DealerAggregate]:
            debt.reverse_receipt(ctx, receipt_id, self.rates_of(debt.company_id))
            return self._restore_coupons(ctx, debt, receipt_id)

        return self._act(caller, "ReverseReceipt", Permission.CONFIRM_RECEIPTS, contract_id,
                         {"receipt_id": receipt_id, "reason": reason}, reverse, idempotency_key, reason)

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
        transaction each; a debt already accrued through that day is left as it is, so
        running it twice changes nothing. A debt outside the caller's scope is skipped."""
        self.check_accrual(caller, through)
        rates: dict[UUID, PenaltyRates] = {}
        totals = {"debts_examined": 0, "debts_charged": 0, "batches": 0}
        pending = list(debt_ids)
        for start in range(0, len(pending), batch_size):
            chunk = pending[start:start + batch_size]

            def handle(ctx: Context, chunk: list[UUID] = chunk) -> Outcome:
                changed = []
                for debt in self.load_many(chunk):
                    if not caller.sees(debt.company_id):
                        continue
                    company_rates = rates.get(debt.company_id)
                    if company_rates is None:
                        company_rates = rates[debt.company_id] = self.rates_of(debt.company_id)
                    if debt.accrue_penalties(ctx, through, company_rates):
                        changed.append(debt)
                return Outcome(changed, {"debts_charged": len(changed)})

            result = self.runner.run(caller, "AccruePenalties", {"through": through, "debts": chunk}, handle)
            totals["debts_examined"] += len(chunk)
            totals["debts_charged"] += result.body["debts_charged"]
            totals["batches"] += 1
            totals["position"] = max(totals.get("position") or 0, result.position or 0)
        return totals

    # ------------------------------------------------------------ helpers
    def _act(self, caller: Caller, operation: str, permission: Permission, contract_id: UUID, request: dict,
             act, idempotency_key: str | None, reason: str | None = None, extra: dict | None = None,
             status_code: int = 200) -> CommandResult:
        caller.require(permission)

        def handle(ctx: Context) -> Outcome:
            debt = self.runner.find(ids.debt_id(contract_id), Debt)
            if debt is None or not caller.sees(debt.company_id, debt.owner_id):
                raise NotFoundError(f"Contract {contract_id} has no receivable (it is not approved, or not yours "
                                    "to see).", code="receivable-not-found")
            others = act(ctx, debt) or []
            return Outcome([debt, *others], {**receivable_summary(debt), **(extra or {})}, status_code)

        return self.runner.run(caller, operation, {"contract_id": contract_id, **request}, handle, idempotency_key,
                               reason=reason)


def receivable_summary(debt: Debt) -> dict:
    """What a command on a receivable answers: its figures right after the command."""
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
