"""Coupons (卡券): each coupon with its figures, and its usage history.

Amounts are integers in fen (columns ending ``_fen``). For every coupon, always:

    face_fen + adjusted_fen = redeemed_fen + voided_fen + balance_fen

(``redeemed_fen`` net of restorations; a re-granted contract coupon counts its face
again and its void back). Queries give yuan with two places.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.access import Scope
from domain.coupons import Coupon, CouponOrigin, CouponStatus, HolderKind
from projections.base import Projection, handles, page_bounds, scope_filter
from projections.receivables import fen, yuan
from projections.rows import Row


class CouponsProjection(Projection):
    name = "coupons"
    version = 2   # 2: redemptions on parts sales
    tables = ("coupons", "coupon_usage")
    ddl = (
        "CREATE TABLE IF NOT EXISTS coupons (coupon_id {uuid} PRIMARY KEY, code TEXT NOT NULL,"
        " company_id {uuid} NOT NULL, origin TEXT NOT NULL, holder_kind TEXT NOT NULL, holder_id {uuid} NOT NULL,"
        " face_fen {bigint} NOT NULL, paid_fen {bigint} NOT NULL, adjusted_fen {bigint} NOT NULL,"
        " redeemed_fen {bigint} NOT NULL, voided_fen {bigint} NOT NULL, balance_fen {bigint} NOT NULL,"
        " valid_from {date}, valid_until {date}, status TEXT NOT NULL, promised_by {uuid}, contract_id {uuid},"
        " contract_number TEXT, note TEXT, issued_on {date} NOT NULL, issued_by {uuid} NOT NULL,"
        " issue_reason TEXT, last_change_on {date} NOT NULL, version INTEGER NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS coupons_code ON coupons (code)",
        "CREATE INDEX IF NOT EXISTS coupons_company ON coupons (company_id, origin, status)",
        "CREATE INDEX IF NOT EXISTS coupons_holder ON coupons (holder_id)",
        "CREATE TABLE IF NOT EXISTS coupon_usage (coupon_id {uuid} NOT NULL, seq INTEGER NOT NULL,"
        " company_id {uuid} NOT NULL, day {date} NOT NULL, kind TEXT NOT NULL, amount_fen {bigint} NOT NULL,"
        " balance_after_fen {bigint} NOT NULL, receipt_id {uuid}, contract_id {uuid}, contract_number TEXT,"
        " actor_id {uuid} NOT NULL, reason TEXT, parts_sale_id {uuid}, parts_sale_number TEXT,"
        " PRIMARY KEY (coupon_id, seq))",
        "CREATE INDEX IF NOT EXISTS coupon_usage_receipt ON coupon_usage (receipt_id)",
    )

    @handles(Coupon.Issued)
    def issued(self, cur: Any, e: Coupon.Issued) -> None:
        face = fen(e.face_value)
        cur.execute("INSERT INTO coupons (coupon_id, code, company_id, origin, holder_kind, holder_id, face_fen,"
                    " paid_fen, adjusted_fen, redeemed_fen, voided_fen, balance_fen, valid_from, valid_until, status,"
                    " promised_by, contract_id, contract_number, note, issued_on, issued_by, issue_reason,"
                    " last_change_on, version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 0, 0, 0, %s, %s, %s,"
                    " 'active', %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.code, e.company_id, str(e.origin), str(e.holder.kind), e.holder.holder_id,
                     face, fen(e.amount_paid), face, e.valid_from, e.valid_until, e.promised_by, e.contract_id,
                     e.contract_number, e.note, e.business_date, e.actor_id, e.reason, e.business_date,
                     e.originator_version))
        self._usage(cur, e, "issued", face, None, None, None)

    @handles(Coupon.Adjusted)
    def adjusted(self, cur: Any, e: Coupon.Adjusted) -> None:
        amount = fen(e.amount)
        self._change(cur, e, "adjusted_fen = adjusted_fen + %s, balance_fen = balance_fen + %s", [amount, amount])
        self._usage(cur, e, "adjusted", amount, None, None, None)

    @handles(Coupon.DetailsChanged)
    def details_changed(self, cur: Any, e: Coupon.DetailsChanged) -> None:
        self._change(cur, e, "holder_kind = %s, holder_id = %s, valid_from = %s, valid_until = %s, note = %s",
                     [str(e.holder.kind), e.holder.holder_id, e.valid_from, e.valid_until, e.note])
        self._usage(cur, e, "details_changed", 0, None, None, None)

    @handles(Coupon.Voided)
    def voided(self, cur: Any, e: Coupon.Voided) -> None:
        amount = fen(e.amount)
        self._change(cur, e, "voided_fen = voided_fen + %s, balance_fen = balance_fen - %s, status = 'voided'",
                     [amount, amount])
        self._usage(cur, e, "voided", -amount, None, None, None)

    @handles(Coupon.Regranted)
    def regranted(self, cur: Any, e: Coupon.Regranted) -> None:
        # Granted again: its face counts again and the void is taken back (unused, so no redemption).
        face = fen(e.face_value)
        self._change(cur, e, "face_fen = %s, adjusted_fen = 0, voided_fen = 0, redeemed_fen = 0, balance_fen = %s,"
                     " status = 'active', note = %s, holder_kind = %s, holder_id = %s",
                     [face, face, e.note, str(e.holder.kind), e.holder.holder_id])
        self._usage(cur, e, "regranted", face, None, None, None)

    @handles(Coupon.Redeemed)
    def redeemed(self, cur: Any, e: Coupon.Redeemed) -> None:
        amount = fen(e.amount)
        self._change(cur, e, "redeemed_fen = redeemed_fen + %s, balance_fen = balance_fen - %s", [amount, amount])
        self._usage(cur, e, "redeemed", -amount, e.receipt_id, e.contract_id, e.contract_number)

    @handles(Coupon.RedeemedOnPartsSale)
    def redeemed_on_parts_sale(self, cur: Any, e: Coupon.RedeemedOnPartsSale) -> None:
        amount = fen(e.amount)
        self._change(cur, e, "redeemed_fen = redeemed_fen + %s, balance_fen = balance_fen - %s", [amount, amount])
        self._usage(cur, e, "redeemed", -amount, e.receipt_id, None, None)
        cur.execute("UPDATE coupon_usage SET parts_sale_id = %s, parts_sale_number = %s"
                    " WHERE coupon_id = %s AND seq = %s", (e.sale_id, e.sale_number, e.originator_id,
                                                           e.originator_version))

    @handles(Coupon.RedemptionRestored)
    def restored(self, cur: Any, e: Coupon.RedemptionRestored) -> None:
        amount = fen(e.amount)
        self._change(cur, e, "redeemed_fen = redeemed_fen - %s, balance_fen = balance_fen + %s", [amount, amount])
        cur.execute("INSERT INTO coupon_usage (coupon_id, seq, company_id, day, kind, amount_fen, balance_after_fen,"
                    " receipt_id, contract_id, contract_number, actor_id, reason)"
                    " SELECT c.coupon_id, %s, c.company_id, %s, 'restored', %s, c.balance_fen, %s, u.contract_id,"
                    " u.contract_number, %s, %s FROM coupons c JOIN coupon_usage u ON u.coupon_id = c.coupon_id"
                    " AND u.receipt_id = %s AND u.kind = 'redeemed' WHERE c.coupon_id = %s",
                    (e.originator_version, e.business_date, amount, e.receipt_id, e.actor_id, e.reason,
                     e.receipt_id, e.originator_id))

    @staticmethod
    def _change(cur: Any, e: Any, assignments: str, params: list[Any]) -> None:
        cur.execute(f"UPDATE coupons SET {assignments}, last_change_on = %s, version = %s WHERE coupon_id = %s",
                    [*params, e.business_date, e.originator_version, e.originator_id])

    @staticmethod
    def _usage(cur: Any, e: Any, kind: str, amount: int, receipt_id: UUID | None, contract_id: UUID | None,
               contract_number: str | None) -> None:
        cur.execute("INSERT INTO coupon_usage (coupon_id, seq, company_id, day, kind, amount_fen, balance_after_fen,"
                    " receipt_id, contract_id, contract_number, actor_id, reason) SELECT coupon_id, %s, company_id,"
                    " %s, %s, %s, balance_fen, %s, %s, %s, %s, %s FROM coupons WHERE coupon_id = %s",
                    (e.originator_version, e.business_date, kind, amount, receipt_id, contract_id, contract_number,
                     e.actor_id, e.reason, e.originator_id))


# ================================================================ queries
@dataclass(frozen=True)
class CouponFilter:
    company_id: UUID | None = None
    origin: str | None = None
    status: str | None = None
    holder_id: UUID | None = None
    code_prefix: str | None = None
    usable_only: bool = False      # active with a balance above zero
    contract_id: UUID | None = None   # the coupons a contract granted

    def where(self, scope: Scope) -> tuple[str, list[Any]]:
        where, params = scope_filter(scope, "k.company_id")
        for column, value in (("k.company_id", self.company_id), ("k.origin", self.origin),
                              ("k.status", self.status), ("k.holder_id", self.holder_id),
                              ("k.contract_id", self.contract_id)):
            if value is not None:
                where += f" AND {column} = %s"
                params.append(value)
        if self.code_prefix:
            where += " AND k.code LIKE %s ESCAPE '!'"
            params.append(self.code_prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%")
        if self.usable_only:
            where += " AND k.status = 'active' AND k.balance_fen > 0"
        return where, params


_COLUMNS = ("k.coupon_id, k.code, k.company_id, c.code AS company_code, k.origin, k.holder_kind, k.holder_id,"
            " COALESCE(cu.name, ct.name) AS holder_name, k.face_fen, k.paid_fen, k.adjusted_fen, k.redeemed_fen,"
            " k.voided_fen, k.balance_fen, k.valid_from, k.valid_until, k.status, k.promised_by,"
            " u.username AS promised_by_name, k.contract_id, k.contract_number, k.note, k.issued_on, k.issue_reason,"
            " k.last_change_on")
_FROM = ("coupons k LEFT JOIN org_companies c ON c.company_id = k.company_id"
         " LEFT JOIN customers cu ON cu.customer_id = k.holder_id"
         " LEFT JOIN contacts ct ON ct.contact_id = k.holder_id"
         " LEFT JOIN access_users u ON u.user_id = k.promised_by")
EXPORT_COLUMNS = ("code", "company_code", "origin", "status", "holder_kind", "holder_name", "face_value",
                  "amount_paid", "adjusted", "redeemed", "voided", "balance", "valid_from", "valid_until",
                  "contract_number", "issued_on", "coupon_id")


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    shaped = {k: v for k, v in row.items() if not k.endswith("_fen")}
    shaped.update({"face_value": yuan(row["face_fen"]), "amount_paid": yuan(row["paid_fen"]),
                   "adjusted": yuan(row["adjusted_fen"]), "redeemed": yuan(row["redeemed_fen"]),
                   "voided": yuan(row["voided_fen"]), "balance": yuan(row["balance_fen"])})
    return shaped


def list_coupons(cur: Any, scope: Scope, flt: CouponFilter, page: int, page_size: int) -> tuple[list[dict], int]:
    where, params = flt.where(scope)
    cur.execute(f"SELECT COUNT(*) AS n FROM coupons k WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY k.code LIMIT %s OFFSET %s",
                [*params, limit, offset])
    return [_shape(r) for r in cur.fetchall()], total


def export_coupons(cur: Any, scope: Scope, flt: CouponFilter, batch: int = 1000) -> Iterator[dict[str, Any]]:
    where, params = flt.where(scope)
    last = ""
    while True:
        cur.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} AND k.code > %s ORDER BY k.code LIMIT %s",
                    [*params, last, batch])
        rows = [_shape(r) for r in cur.fetchall()]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]["code"]


def get_coupon(cur: Any, scope: Scope, coupon_id: UUID) -> dict[str, Any] | None:
    where, params = scope_filter(scope, "k.company_id")
    cur.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE k.coupon_id = %s AND {where}", [coupon_id, *params])
    row = cur.fetchone()
    return _shape(row) if row is not None else None


def coupon_usage(cur: Any, coupon_id: UUID) -> list[dict[str, Any]]:
    """Every change of one coupon in order: issue, redemptions with their receipt and contract,
    restorations, adjustments, detail changes, void."""
    cur.execute("SELECT g.seq, g.day, g.kind, g.amount_fen, g.balance_after_fen, g.receipt_id, g.contract_id,"
                " g.contract_number, g.parts_sale_id, g.parts_sale_number, g.actor_id, u.username AS actor_name, g.reason"
                " FROM coupon_usage g"
                " LEFT JOIN access_users u ON u.user_id = g.actor_id WHERE g.coupon_id = %s ORDER BY g.seq",
                (coupon_id,))
    return [{**{k: v for k, v in r.items() if not k.endswith("_fen")}, "amount": yuan(r["amount_fen"]),
             "balance_after": yuan(r["balance_after_fen"])} for r in cur.fetchall()]


def coupon_summary(cur: Any, scope: Scope, company_id: UUID | None = None) -> list[dict[str, Any]]:
    """Per member company and origin: issued (face), money received for promotions,
    adjusted, redeemed, voided, outstanding (balance of active coupons)."""
    where, params = scope_filter(scope, "k.company_id")
    if company_id is not None:
        where += " AND k.company_id = %s"
        params.append(company_id)
    cur.execute("SELECT k.company_id, c.code AS company_code, k.origin, COUNT(*) AS coupons,"
                " SUM(k.face_fen) AS face_fen, SUM(k.paid_fen) AS paid_fen, SUM(k.adjusted_fen) AS adjusted_fen,"
                " SUM(k.redeemed_fen) AS redeemed_fen, SUM(k.voided_fen) AS voided_fen,"
                " SUM(k.balance_fen) AS balance_fen FROM coupons k"
                " LEFT JOIN org_companies c ON c.company_id = k.company_id"
                f" WHERE {where} GROUP BY k.company_id, c.code, k.origin ORDER BY c.code, k.origin", params)
    return [{"company_id": r["company_id"], "company_code": r["company_code"], "origin": r["origin"],
             "coupons": r["coupons"], "issued": yuan(r["face_fen"]), "amount_paid": yuan(r["paid_fen"]),
             "adjusted": yuan(r["adjusted_fen"]), "redeemed": yuan(r["redeemed_fen"]),
             "voided": yuan(r["voided_fen"]), "outstanding": yuan(r["balance_fen"])} for r in cur.fetchall()]


# ================================================================ typed rows
class CouponRow(Row):
    """A coupon with its figures (yuan), as ``list_coupons``, ``get_coupon`` and the export answer it."""

    coupon_id: UUID
    code: str
    company_id: UUID
    company_code: str | None
    origin: CouponOrigin
    holder_kind: HolderKind
    holder_id: UUID
    holder_name: str | None
    valid_from: date | None
    valid_until: date | None
    status: CouponStatus
    promised_by: UUID | None
    promised_by_name: str | None
    contract_id: UUID | None
    contract_number: str | None
    note: str | None
    issued_on: date
    issue_reason: str | None
    last_change_on: date
    face_value: Decimal
    amount_paid: Decimal
    adjusted: Decimal
    redeemed: Decimal
    voided: Decimal
    balance: Decimal


class CouponUsageRow(Row):
    """One change of a coupon (``coupon_usage``): issued, redeemed, restored, adjusted, details_changed,
    voided, regranted."""

    seq: int
    day: date
    kind: str
    receipt_id: UUID | None
    contract_id: UUID | None
    contract_number: str | None
    parts_sale_id: UUID | None
    parts_sale_number: str | None
    actor_id: UUID
    actor_name: str | None
    reason: str | None
    amount: Decimal
    balance_after: Decimal


class CouponSummaryRow(Row):
    """Per member company and origin (``coupon_summary``)."""

    company_id: UUID
    company_code: str | None
    origin: CouponOrigin
    coupons: int
    issued: Decimal
    amount_paid: Decimal
    adjusted: Decimal
    redeemed: Decimal
    voided: Decimal
    outstanding: Decimal
