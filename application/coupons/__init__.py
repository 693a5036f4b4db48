"""Coupons (卡券): issue, adjust, change details, void; those granted by contracts; redemption's loads."""

from application.coupons.commands import (
    AdjustCoupon,
    ChangeCouponDetails,
    CouponCode,
    CouponSummary,
    IssueCoupon,
    VoidCoupon,
)
from application.coupons.handlers import ADJUSTMENT_APPROVERS, CouponService, coupons_to_redeem

__all__ = ["ADJUSTMENT_APPROVERS", "AdjustCoupon", "ChangeCouponDetails", "CouponCode", "CouponService",
           "CouponSummary", "IssueCoupon", "VoidCoupon", "coupons_to_redeem"]
