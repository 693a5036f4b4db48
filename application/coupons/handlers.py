"""Coupons (卡券): issue (promotion or gift), adjust, change details, void.

Coupons granted by a contract are issued by its approval and voided by its
un-approval (``application.sales``); redemption rides on ``RecordReceipt``
(``application.receivables``). Each act by its role, within the caller's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from application.caller import Caller
from application.coupons.commands import AdjustCoupon, ChangeCouponDetails, CouponSummary, IssueCoupon, VoidCoupon
from application.handling import CommandContext, Outcome, handles
from application.ledger import CommandRunner
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

    @handles(IssueCoupon, permission=Permission.ISSUE_COUPONS)
    def issue_coupon(self, ctx: CommandContext, cmd: IssueCoupon) -> Outcome:
        """A promotion coupon (with the money received) or a gift (with who promised it and why).
        Coupons granted by contracts are issued by the contract's approval."""
        if CouponOrigin(cmd.origin) == CouponOrigin.CONTRACT:
            raise InvalidValueError("Coupons granted by a contract are issued when the contract is approved.",
                                    field="origin")
        company = ctx.load_in_scope(Company, cmd.company_id, f"Company {cmd.company_id}")
        holder = _holder(ctx, company.id, cmd.holder_kind, cmd.holder_id)
        if cmd.promised_by is not None:
            promiser = ctx.find(User, cmd.promised_by)
            if promiser is None or Role.SALESPERSON not in promiser.roles:
                raise InvalidValueError("The person who promised a gift coupon is a salesperson.",
                                        field="promised_by")
        if ctx.find(Coupon, ids.coupon_id(cmd.code)) is not None:
            raise Coupon.code_taken(cmd.code)
        coupon = Coupon.issue(ctx.meta, cmd.code, company.id, CouponOrigin(cmd.origin), holder, cmd.face_value,
                              cmd.amount_paid, cmd.valid_from, cmd.valid_until, cmd.promised_by, note=cmd.note)
        return ctx.save(coupon, answer=coupon_summary(coupon))

    @handles(AdjustCoupon, permission=Permission.MANAGE_COUPONS)
    def adjust_coupon(self, ctx: CommandContext, cmd: AdjustCoupon) -> Outcome:
        coupon = _coupon(ctx, cmd.code)
        approver = ctx.find(User, cmd.approved_by)
        if approver is None or not (approver.roles & ADJUSTMENT_APPROVERS):
            raise InvalidValueError("The adjustment is approved by an approver, finance or an administrator.",
                                    field="approved_by")
        coupon.adjust(ctx.meta, cmd.amount, approver.id)
        return ctx.save(coupon, answer=coupon_summary(coupon))

    @handles(ChangeCouponDetails, permission=Permission.MANAGE_COUPONS)
    def change_coupon_details(self, ctx: CommandContext, cmd: ChangeCouponDetails) -> Outcome:
        coupon = _coupon(ctx, cmd.code)
        holder = _holder(ctx, coupon.company_id, cmd.holder_kind, cmd.holder_id)
        coupon.change_details(ctx.meta, holder, cmd.valid_from, cmd.valid_until, cmd.note)
        return ctx.save(coupon, answer=coupon_summary(coupon))

    @handles(VoidCoupon, permission=Permission.MANAGE_COUPONS)
    def void_coupon(self, ctx: CommandContext, cmd: VoidCoupon) -> Outcome:
        coupon = _coupon(ctx, cmd.code)
        coupon.void(ctx.meta)
        return ctx.save(coupon, answer=coupon_summary(coupon))

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
def _coupon(ctx: CommandContext, code: str) -> Coupon:
    """The coupon of a code, in the caller's scope (not found otherwise)."""
    return ctx.load_in_scope(Coupon, ids.coupon_id(code), f"Coupon {ids.normalise_key(code)}")


def _holder(ctx: CommandContext, company_id: UUID, kind: HolderKind, holder_id: UUID) -> CouponHolder:
    kind = HolderKind(kind)
    cls: type[Customer] | type[Contact] = Customer if kind == HolderKind.CUSTOMER else Contact
    holder = ctx.find(cls, holder_id)
    if holder is None or not ctx.caller.sees(holder.company_id) or holder.company_id != company_id:
        raise NotFoundError(f"The {kind} {holder_id} does not exist in this coupon's company.",
                            code=f"{kind}-not-found")
    return CouponHolder(kind, holder.id)


def coupon_summary(coupon: Coupon) -> CouponSummary:
    return CouponSummary(coupon_id=coupon.id, code=coupon.code, company_id=coupon.company_id,
                         origin=coupon.origin, status=coupon.status, face_value=coupon.face_value,
                         balance=coupon.balance, redeemed=coupon.redeemed, valid_from=coupon.valid_from,
                         valid_until=coupon.valid_until)


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
