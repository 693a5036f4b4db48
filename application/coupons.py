"""Coupons (卡券): issue (promotion or gift), adjust, change details, void.

Coupons granted by a contract are issued by its approval and voided by its
un-approval (``application.sales``); redemption rides on ``RecordReceipt``
(``application.receivables``). Each act by its role, within the caller's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.caller import Caller
from application.ledger import CommandResult, CommandRunner, Outcome
from domain import ids
from domain.access import Permission, Role, User
from domain.base import Context, InvalidValueError, NotFoundError
from domain.contracts import Contract
from domain.coupons import Coupon, CouponHolder, CouponOrigin, HolderKind, contract_coupon_code
from domain.customers import Contact, Customer
from domain.organisation import Company

# Who may approve a coupon adjustment besides the person making it.
ADJUSTMENT_APPROVERS = frozenset({Role.APPROVER, Role.FINANCE, Role.ADMINISTRATOR})


class CouponService:
    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner

    def issue_coupon(self, caller: Caller, code: str, company_id: UUID, origin: CouponOrigin,
                     holder_kind: HolderKind, holder_id: UUID, face_value: Decimal, amount_paid: Decimal,
                     valid_from: date | None, valid_until: date | None, promised_by: UUID | None, note: str | None,
                     reason: str | None = None, idempotency_key: str | None = None) -> CommandResult:
        """A promotion coupon (with the money received) or a gift (with who promised it and why).
        Coupons granted by contracts are issued by the contract's approval."""
        caller.require(Permission.ISSUE_COUPONS)

        def handle(ctx: Context) -> Outcome:
            if CouponOrigin(origin) == CouponOrigin.CONTRACT:
                raise InvalidValueError("Coupons granted by a contract are issued when the contract is approved.",
                                        field="origin")
            company = self.runner.get_in_scope(caller, company_id, Company, f"Company {company_id}")
            holder = self._holder(caller, company.id, holder_kind, holder_id)
            if promised_by is not None:
                promiser = self.runner.find(promised_by, User)
                if promiser is None or Role.SALESPERSON not in promiser.roles:
                    raise InvalidValueError("The person who promised a gift coupon is a salesperson.",
                                            field="promised_by")
            if self.runner.find(ids.coupon_id(code), Coupon) is not None:
                raise Coupon.code_taken(code)
            coupon = Coupon.issue(ctx, code, company.id, origin, holder, face_value, amount_paid, valid_from,
                                  valid_until, promised_by, note=note)
            return Outcome([coupon], coupon_summary(coupon), 201)

        request = {"code": code, "company_id": company_id, "origin": origin, "holder_kind": holder_kind,
                   "holder_id": holder_id, "face_value": face_value, "amount_paid": amount_paid,
                   "valid_from": valid_from, "valid_until": valid_until, "promised_by": promised_by, "note": note,
                   "reason": reason}
        return self.runner.run(caller, "IssueCoupon", request, handle, idempotency_key, reason=reason)

    def adjust_coupon(self, caller: Caller, code: str, amount: Decimal, approved_by: UUID, reason: str,
                      idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_COUPONS)

        def act(ctx: Context, coupon: Coupon) -> None:
            approver = self.runner.find(approved_by, User)
            if approver is None or not (approver.roles & ADJUSTMENT_APPROVERS):
                raise InvalidValueError("The adjustment is approved by an approver, finance or an administrator.",
                                        field="approved_by")
            coupon.adjust(ctx, amount, approver.id)

        return self._act(caller, "AdjustCoupon", code, {"amount": amount, "approved_by": approved_by,
                                                         "reason": reason}, act, idempotency_key, reason)

    def change_coupon_details(self, caller: Caller, code: str, holder_kind: HolderKind, holder_id: UUID,
                              valid_from: date | None, valid_until: date | None, note: str | None, reason: str,
                              idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_COUPONS)

        def act(ctx: Context, coupon: Coupon) -> None:
            holder = self._holder(caller, coupon.company_id, holder_kind, holder_id)
            coupon.change_details(ctx, holder, valid_from, valid_until, note)

        request = {"holder_kind": holder_kind, "holder_id": holder_id, "valid_from": valid_from,
                   "valid_until": valid_until, "note": note, "reason": reason}
        return self._act(caller, "ChangeCouponDetails", code, request, act, idempotency_key, reason)

    def void_coupon(self, caller: Caller, code: str, reason: str,
                    idempotency_key: str | None = None) -> CommandResult:
        caller.require(Permission.MANAGE_COUPONS)
        return self._act(caller, "VoidCoupon", code, {"reason": reason}, lambda ctx, coupon: coupon.void(ctx),
                         idempotency_key, reason)

    # ------------------------------------------------------------ granted by contracts
    def grant_for(self, ctx: Context, contract: Contract) -> list[Coupon]:
        """The coupons a contract's terms grant, issued at its approval (same transaction);
        on a re-approval those voided by the un-approval are granted again."""
        granted: list[Coupon] = []
        if contract.terms is None:
            return granted
        holder = CouponHolder(HolderKind.CUSTOMER, contract.customer_id)
        for line, grant in enumerate(contract.terms.coupons, 1):
            for n in range(1, grant.quantity + 1):
                code = contract_coupon_code(contract.number, line, n)
                coupon = self.runner.find(ids.coupon_id(code), Coupon)
                if coupon is not None and not coupon.granted_by(contract.id):
                    raise Coupon.code_taken(code)   # issued by hand under a contract's code (refused since)
                if coupon is None:
                    coupon = Coupon.issue(ctx, code, contract.company_id, CouponOrigin.CONTRACT, holder,
                                          grant.face_value, contract_id=contract.id,
                                          contract_number=contract.number, note=grant.note)
                else:
                    coupon.regrant(ctx, grant.face_value, grant.note, holder)
                granted.append(coupon)
        return granted

    def withdraw_for(self, ctx: Context, contract: Contract) -> list[Coupon]:
        """Un-approval voids the coupons the contract granted; refused if one was used."""
        withdrawn: list[Coupon] = []
        if contract.terms is None:
            return withdrawn
        for line, grant in enumerate(contract.terms.coupons, 1):
            for n in range(1, grant.quantity + 1):
                coupon = self.runner.find(ids.coupon_id(contract_coupon_code(contract.number, line, n)), Coupon)
                if coupon is not None and coupon.granted_by(contract.id):
                    coupon.void_for_unapproval(ctx)
                    withdrawn.append(coupon)
        return withdrawn

    # ------------------------------------------------------------ helpers
    def _holder(self, caller: Caller, company_id: UUID, kind: HolderKind, holder_id: UUID) -> CouponHolder:
        kind = HolderKind(kind)
        cls: type[Customer] | type[Contact] = Customer if kind == HolderKind.CUSTOMER else Contact
        holder = self.runner.find(holder_id, cls)
        if holder is None or not caller.sees(holder.company_id) or holder.company_id != company_id:
            raise NotFoundError(f"The {kind} {holder_id} does not exist in this coupon's company.",
                                code=f"{kind}-not-found")
        return CouponHolder(kind, holder.id)

    def _act(self, caller: Caller, operation: str, code: str, request: dict[str, Any], act,
             idempotency_key: str | None, reason: str | None) -> CommandResult:
        def handle(ctx: Context) -> Outcome:
            coupon = self.runner.find(ids.coupon_id(code), Coupon)
            if coupon is None or not caller.sees(coupon.company_id):
                raise NotFoundError(f"Coupon {ids.normalise_key(code)} does not exist.", code="coupon-not-found")
            act(ctx, coupon)
            return Outcome([coupon], coupon_summary(coupon))

        return self.runner.run(caller, operation, {"code": code, **request}, handle, idempotency_key, reason=reason)


def coupon_summary(coupon: Coupon) -> dict[str, Any]:
    return {"coupon_id": str(coupon.id), "code": coupon.code, "company_id": str(coupon.company_id),
            "origin": str(coupon.origin), "status": str(coupon.status), "face_value": coupon.face_value,
            "balance": coupon.balance, "redeemed": coupon.redeemed,
            "valid_from": coupon.valid_from, "valid_until": coupon.valid_until}


def coupons_to_redeem(runner: CommandRunner, caller: Caller,
                      coupons: Sequence[tuple[str, Decimal]]) -> list[tuple[Coupon, Decimal]]:
    """The coupons a receipt names (code, amount), as loaded for it; a code unknown or of a
    company outside the caller's scope is not found. The coupon's own rules (holder, company,
    validity, balance) are checked when it is redeemed."""
    used = []
    for code, amount in coupons:
        coupon = runner.find(ids.coupon_id(code), Coupon)
        if coupon is None or not caller.sees(coupon.company_id):
            raise NotFoundError(f"Coupon {ids.normalise_key(code)} does not exist.", code="coupon-not-found")
        used.append((coupon, amount))
    return used

