"""Commands of coupons (卡券) and their answer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from msgspec import Meta

from application.fields import PLAIN, Money, Reason
from application.handling import Answer, Command
from domain.coupons import CouponOrigin, CouponStatus, HolderKind

CouponCode = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$",
                                 description="Coupon code; case and spaces are ignored.")]
CouponNote = Annotated[str, Meta(min_length=1, max_length=200, pattern=PLAIN)]


class CouponSummary(Answer):
    """A coupon's figures after the command."""

    coupon_id: UUID
    code: str
    company_id: UUID
    origin: CouponOrigin
    status: CouponStatus
    face_value: Decimal
    balance: Decimal
    redeemed: Decimal
    valid_from: date | None
    valid_until: date | None


class IssueCoupon(Command):
    """Issue a promotion coupon (with the money received for it) or a gift (with the salesperson who
    promised it and why). Coupons granted by a contract are issued by the contract's approval."""

    answer_type: ClassVar = CouponSummary
    creates: ClassVar = True
    code: CouponCode
    company_id: UUID
    origin: Literal["promotion", "gift"]
    holder_kind: HolderKind
    holder_id: Annotated[UUID, Meta(description="The customer, or the contact rewarded for a referral.")]
    face_value: Money
    amount_paid: Annotated[Money, Meta(description="Promotion: the money received for it (pay 1000, get 2000).")] = \
        Decimal("0.00")
    valid_from: date | None = None
    valid_until: date | None = None
    promised_by: Annotated[UUID, Meta(description="Gift: the salesperson who promised it.")] | None = None
    note: CouponNote | None = None
    reason: Annotated[Reason, Meta(description="Gift: why it is given.")] | None = None


class AdjustCoupon(Command):
    """Raise or lower a coupon's balance, with the reason and who approved it (an approver, finance or
    an administrator)."""

    answer_type: ClassVar = CouponSummary
    code: CouponCode
    amount: Annotated[Decimal, Meta(description="Change of the balance: positive raises it, negative lowers it.")]
    approved_by: Annotated[UUID, Meta(description="Who approved the adjustment (approver, finance, administrator).")]
    reason: Reason


class ChangeCouponDetails(Command, kw_only=True):
    """Change a coupon's holder (a customer or contact of its company), validity or note, with the reason."""

    answer_type: ClassVar = CouponSummary
    code: CouponCode
    holder_kind: HolderKind
    holder_id: UUID
    valid_from: date | None = None
    valid_until: date | None = None
    note: CouponNote | None = None
    reason: Reason


class VoidCoupon(Command):
    """Void an unused coupon, with the reason."""

    answer_type: ClassVar = CouponSummary
    code: CouponCode
    reason: Reason
