"""Queries of receipts: those of one receivable with what each pays, and the list
(finance's confirmation queue)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.access import Scope
from projections.base import page_bounds, visible_filter
from projections.receivables.amounts import _json_decode, _rank, yuan


def _receipts_of(cur: Any, debt_id: UUID) -> list[dict[str, Any]]:
    cur.execute("SELECT receipt_id, amount_fen, value_date, method, reference, allocate_to, status, recorded_on,"
                " recorded_by, decided_on, decided_by, reason, penalty_last, coupon_fen, coupons_json"
                " FROM receivable_receipts WHERE debt_id = %s"
                " ORDER BY value_date, recorded_on, receipt_id", (debt_id,))
    receipts = [_receipt(r) for r in cur.fetchall()]
    for receipt in receipts:
        cur.execute("SELECT item_key, penalty_fen, interest_fen, principal_fen FROM receivable_allocations"
                    " WHERE receipt_id = %s", (receipt["receipt_id"],))
        receipt["allocations"] = sorted(
            ({"item": a["item_key"], "penalty": yuan(a["penalty_fen"]), "interest": yuan(a["interest_fen"]),
              "principal": yuan(a["principal_fen"])} for a in cur.fetchall()), key=lambda a: _rank(a["item"]))
    return receipts


def _receipt(r: dict[str, Any]) -> dict[str, Any]:
    shaped = {k: v for k, v in r.items() if k != "amount_fen"}
    shaped["amount"] = yuan(r["amount_fen"])
    shaped["allocate_to"] = [k for k in (r["allocate_to"] or "").split(",") if k]
    if "penalty_last" in r:
        shaped["penalty_last"] = bool(r["penalty_last"])
    if "coupon_fen" in r:
        shaped.pop("coupon_fen", None)
        coupons = shaped.pop("coupons_json", None)
        shaped["coupons"] = [{"code": c["code"], "amount": Decimal(c["amount"])}
                             for c in (_json_decode(coupons) if coupons else [])]
        shaped["paid_with_coupons"] = yuan(r["coupon_fen"])
    return shaped


@dataclass(frozen=True)
class ReceiptFilter:
    company_id: UUID | None = None
    contract_id: UUID | None = None
    status: str | None = None


def list_receipts(cur: Any, scope: Scope, own_only: UUID | None, flt: ReceiptFilter, page: int,
                  page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Receipts, oldest first; ``status=recorded`` is finance's confirmation queue."""
    where, params = visible_filter(scope, "company_id", "owner_id", own_only)
    for column, value in (("company_id", flt.company_id), ("contract_id", flt.contract_id), ("status", flt.status)):
        if value is not None:
            where += f" AND {column} = %s"
            params.append(value)
    cur.execute(f"SELECT COUNT(*) AS n FROM receivable_receipts WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute("SELECT receipt_id, contract_id, contract_number, company_id, customer_id, amount_fen, value_date,"
                " method, reference, allocate_to, status, recorded_on, recorded_by, decided_on, decided_by, reason,"
                f" penalty_last, coupon_fen, coupons_json FROM receivable_receipts WHERE {where} ORDER BY recorded_on, contract_number, receipt_id"
                " LIMIT %s OFFSET %s", [*params, limit, offset])
    return [_receipt(r) for r in cur.fetchall()], total
