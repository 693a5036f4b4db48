"""Coupons over HTTP (卡券): issue, adjust, change details, void; lists, usage, summary.
A coupon is addressed by its code. Redemption rides on ``RecordReceipt``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from domain import ids
from domain.access import Permission
from domain.base import NotFoundError
from domain.coupons import CouponOrigin, CouponStatus
from interfaces.http.controllers import (
    After,
    CallerDep,
    IdempotencyKey,
    OfficeDep,
    Page,
    PageSize,
    answer,
    csv_response,
    fresh,
)
from interfaces.http.schemas import (
    AdjustCouponRequest,
    ChangeCouponDetailsRequest,
    IssueCouponRequest,
    VoidCouponRequest,
)
from projections import coupons

CodePath = Annotated[str, PathParameter(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$")]
CodeFilter = Annotated[str | None, QueryParameter(name="code", required=False, max_length=40,
                                                  description="Code starts with")]


class CouponController(Controller):
    path = "/coupons"
    tags = ["coupons"]

    @post("/", operation_id="IssueCoupon", sync_to_thread=True,
          summary="Issue a promotion coupon (with the money received) or a gift (who promised it, and why)")
    def issue(self, data: JSONBody[IssueCouponRequest], caller: CallerDep, backoffice: OfficeDep,
              idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.coupons.issue_coupon(
            caller, data.code, data.company_id, CouponOrigin(data.origin), data.holder_kind, data.holder_id,
            data.face_value, data.amount_paid, data.valid_from, data.valid_until, data.promised_by, data.note,
            data.reason, idempotency_key))

    @post("/{code:str}/adjust", operation_id="AdjustCoupon", sync_to_thread=True,
          summary="Raise or lower a coupon's balance, with the reason and who approved it")
    def adjust(self, code: CodePath, data: JSONBody[AdjustCouponRequest], caller: CallerDep, backoffice: OfficeDep,
               idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.coupons.adjust_coupon(caller, code, data.amount, data.approved_by, data.reason,
                                                       idempotency_key))

    @post("/{code:str}/details", operation_id="ChangeCouponDetails", sync_to_thread=True,
          summary="Change a coupon's holder, validity or note, with the reason")
    def change(self, code: CodePath, data: JSONBody[ChangeCouponDetailsRequest], caller: CallerDep,
               backoffice: OfficeDep, idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.coupons.change_coupon_details(caller, code, data.holder_kind, data.holder_id,
                                                               data.valid_from, data.valid_until, data.note,
                                                               data.reason, idempotency_key))

    @post("/{code:str}/void", operation_id="VoidCoupon", sync_to_thread=True,
          summary="Void an unused coupon, with the reason")
    def void(self, code: CodePath, data: JSONBody[VoidCouponRequest], caller: CallerDep, backoffice: OfficeDep,
             idempotency_key: IdempotencyKey = None) -> Response[dict[str, Any]]:
        return answer(backoffice.coupons.void_coupon(caller, code, data.reason, idempotency_key))

    @get("/", operation_id="ListCoupons", sync_to_thread=True,
         summary="Coupons with face value, money paid, adjusted, redeemed, voided and balance")
    def list_all(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                 origin: FromQuery[CouponOrigin | None] = None, status: FromQuery[CouponStatus | None] = None,
                 holder_id: FromQuery[UUID | None] = None, code: CodeFilter = None,
                 usable_only: FromQuery[bool] = False, page: Page = 1, page_size: PageSize = 50,
                 after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_COUPONS)
        fresh(backoffice, "coupons", after)
        flt = _filter(company_id, origin, status, holder_id, code, usable_only)
        with backoffice.read() as cur:
            items, total = coupons.list_coupons(cur, caller.scope, flt, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    @get("/export", operation_id="ExportCoupons", sync_to_thread=True, media_type="text/csv",
         summary="The coupon list as CSV (same filters)")
    def export(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
               origin: FromQuery[CouponOrigin | None] = None, status: FromQuery[CouponStatus | None] = None,
               holder_id: FromQuery[UUID | None] = None, code: CodeFilter = None,
               usable_only: FromQuery[bool] = False, after: After = None) -> Response[str]:
        caller.require(Permission.VIEW_COUPONS)
        fresh(backoffice, "coupons", after)
        flt = _filter(company_id, origin, status, holder_id, code, usable_only)
        with backoffice.read() as cur:
            return csv_response(coupons.EXPORT_COLUMNS, coupons.export_coupons(cur, caller.scope, flt),
                                "coupons.csv")

    @get("/summary", operation_id="GetCouponSummary", sync_to_thread=True,
         summary="Issued, money received, adjusted, redeemed, voided and outstanding per company and origin")
    def summary(self, caller: CallerDep, backoffice: OfficeDep, company_id: FromQuery[UUID | None] = None,
                after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_COUPONS)
        fresh(backoffice, "coupons", after)
        with backoffice.read() as cur:
            return {"rows": coupons.coupon_summary(cur, caller.scope, company_id)}

    @get("/{code:str}", operation_id="GetCoupon", sync_to_thread=True, summary="One coupon by its code")
    def get_one(self, code: CodePath, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> dict[str, Any]:
        with _coupon(caller, backoffice, code, after) as (row, _):
            return row

    @get("/{code:str}/usage", operation_id="GetCouponUsage", sync_to_thread=True,
         summary="A coupon's history: issue, each redemption with its receipt and contract, restorations, "
                 "adjustments, changes, void")
    def usage(self, code: CodePath, caller: CallerDep, backoffice: OfficeDep, after: After = None) -> dict[str, Any]:
        with _coupon(caller, backoffice, code, after) as (row, cur):
            return {**row, "usage": coupons.coupon_usage(cur, row["coupon_id"])}


@contextmanager
def _coupon(caller: Any, backoffice: Any, code: str, after: int | None) -> Iterator[tuple[dict[str, Any], Any]]:
    """The coupon's row in the caller's scope (404 otherwise), with the cursor it was read on."""
    caller.require(Permission.VIEW_COUPONS)
    fresh(backoffice, "coupons", after)
    with backoffice.read() as cur:
        row = coupons.get_coupon(cur, caller.scope, ids.coupon_id(code))
        if row is None:
            raise NotFoundError(f"Coupon {ids.normalise_key(code)} does not exist.", code="coupon-not-found")
        yield row, cur


def _filter(company_id: UUID | None, origin: CouponOrigin | None, status: CouponStatus | None,
            holder_id: UUID | None, code: str | None, usable_only: bool) -> coupons.CouponFilter:
    return coupons.CouponFilter(company_id, origin and str(origin), status and str(status), holder_id,
                                ids.normalise_key(code) if code else None, usable_only)


COUPON_CONTROLLERS = [CouponController]
