"""Coupons over HTTP (卡券): issue, adjust, change details, void; lists, usage, summary.
A coupon is addressed by its code. Redemption rides on ``RecordReceipt``."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response, Router, get
from litestar.params import FromQuery, PathParameter, QueryParameter

from application.coupons.commands import AdjustCoupon, ChangeCouponDetails, IssueCoupon, VoidCoupon
from application.reading import Reader, page_of, paged, row, rows
from domain import ids
from domain.access import Permission
from domain.base import NotFoundError
from domain.coupons import CouponOrigin, CouponStatus
from interfaces.http.kit import Page, PageSize, ReaderDep, command_endpoint, csv_export, reads
from projections import coupons
from projections.coupons import CouponRow, CouponSummaryRow, CouponUsageRow

CodePath = Annotated[str, PathParameter(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$")]
CodeFilter = Annotated[str | None, QueryParameter(name="code", required=False, max_length=40,
                                                  description="Code starts with")]
COUPONS = reads("coupons", Permission.VIEW_COUPONS)


class CouponTotals(msgspec.Struct, kw_only=True):
    """Per member company and origin: issued, money received, adjusted, redeemed, voided, outstanding."""

    rows: list[CouponSummaryRow]


class CouponUsage(CouponRow):
    """A coupon with every change of it, in order."""

    usage: list[CouponUsageRow]


def _filter(company_id: UUID | None, origin: CouponOrigin | None, status: CouponStatus | None,
            holder_id: UUID | None, code: str | None, usable_only: bool) -> coupons.CouponFilter:
    return coupons.CouponFilter(company_id, origin and str(origin), status and str(status), holder_id,
                                ids.normalise_key(code) if code else None, usable_only)


@get("/", operation_id="ListCoupons", sync_to_thread=True, opt=COUPONS,
     summary="Coupons with face value, money paid, adjusted, redeemed, voided and balance")
def list_coupons(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                 origin: FromQuery[CouponOrigin | None] = None, status: FromQuery[CouponStatus | None] = None,
                 holder_id: FromQuery[UUID | None] = None, code: CodeFilter = None,
                 usable_only: FromQuery[bool] = False, page: Page = 1,
                 page_size: PageSize = 50) -> page_of(CouponRow):  # type: ignore[valid-type]
    flt = _filter(company_id, origin, status, holder_id, code, usable_only)
    return paged(CouponRow, read(coupons.list_coupons, flt, page, page_size), page, page_size)


@get("/export", operation_id="ExportCoupons", sync_to_thread=True, media_type="text/csv", opt=COUPONS,
     summary="The coupon list as CSV (same filters)")
def export_coupons(read: ReaderDep, company_id: FromQuery[UUID | None] = None,
                   origin: FromQuery[CouponOrigin | None] = None, status: FromQuery[CouponStatus | None] = None,
                   holder_id: FromQuery[UUID | None] = None, code: CodeFilter = None,
                   usable_only: FromQuery[bool] = False) -> Response[str]:
    flt = _filter(company_id, origin, status, holder_id, code, usable_only)
    return csv_export(read, coupons.EXPORT_COLUMNS, "coupons.csv", coupons.export_coupons, flt)


@get("/summary", operation_id="GetCouponSummary", sync_to_thread=True, opt=COUPONS,
     summary="Issued, money received, adjusted, redeemed, voided and outstanding per company and origin")
def get_coupon_summary(read: ReaderDep, company_id: FromQuery[UUID | None] = None) -> CouponTotals:
    return CouponTotals(rows=rows(CouponSummaryRow, read(coupons.coupon_summary, company_id)))


def _coupon_row(read: Reader, cur: Any, code: str) -> dict[str, Any]:
    """The coupon's row in the caller's scope (404 otherwise)."""
    found = coupons.get_coupon(cur, *read.scoped(), ids.coupon_id(code))
    if found is None:
        raise NotFoundError(f"Coupon {ids.normalise_key(code)} does not exist.", code="coupon-not-found")
    return found


@get("/{code:str}", operation_id="GetCoupon", sync_to_thread=True, opt=COUPONS, summary="One coupon by its code")
def get_coupon(code: CodePath, read: ReaderDep) -> CouponRow:
    with read.cursor() as cur:
        return row(CouponRow, _coupon_row(read, cur, code))


@get("/{code:str}/usage", operation_id="GetCouponUsage", sync_to_thread=True, opt=COUPONS,
     summary="A coupon's history: issue, each redemption with its receipt and contract, restorations, "
             "adjustments, changes, void")
def get_coupon_usage(code: CodePath, read: ReaderDep) -> CouponUsage:
    with read.cursor() as cur:
        found = _coupon_row(read, cur, code)
        return row(CouponUsage, {**found, "usage": coupons.coupon_usage(cur, found["coupon_id"])})


COUPON_CONTROLLERS: list[Any] = [
    Router("/coupons", tags=["coupons"], route_handlers=[
        command_endpoint("/", IssueCoupon,
                         "Issue a promotion coupon (with the money received) or a gift (who promised it, and why)"),
        command_endpoint("/{code:str}/adjust", AdjustCoupon,
                         "Raise or lower a coupon's balance, with the reason and who approved it",
                         path_types={"code": CodePath}),
        command_endpoint("/{code:str}/details", ChangeCouponDetails,
                         "Change a coupon's holder, validity or note, with the reason",
                         path_types={"code": CodePath}),
        command_endpoint("/{code:str}/void", VoidCoupon, "Void an unused coupon, with the reason",
                         path_types={"code": CodePath}),
        list_coupons, export_coupons, get_coupon_summary, get_coupon, get_coupon_usage]),
]
