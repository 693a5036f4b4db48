"""Queries of penalty interest (罚息): the rates set per company, and the receivables that may
owe penalty up to a day."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain.access import Scope
from projections.base import visible_filter


def list_penalty_rates(cur: Any, scope: Scope, company_id: UUID | None = None) -> list[dict[str, Any]]:
    where, params = visible_filter(scope, "p.company_id")
    if company_id is not None:
        where += " AND p.company_id = %s"
        params.append(company_id)
    cur.execute("SELECT p.company_id, c.code AS company_code, p.effective_from, p.daily_rate, p.grace_days, p.set_on"
                " FROM penalty_rates p LEFT JOIN org_companies c ON c.company_id = p.company_id"
                f" WHERE {where} ORDER BY c.code, p.effective_from", params)
    return cur.fetchall()


def debts_to_accrue(cur: Any, through: date, scope: Scope) -> list[UUID]:
    """Open receivables that may owe penalty for days up to ``through``: an unpaid item due
    before it, and penalty not yet accrued through it."""
    where, params = visible_filter(scope, "r.company_id")
    cur.execute("SELECT r.debt_id FROM receivables r WHERE r.status = 'open' AND"
                " (r.penalty_accrued_through IS NULL OR r.penalty_accrued_through < %s) AND EXISTS ("
                " SELECT 1 FROM receivable_items i WHERE i.debt_id = r.debt_id AND i.unpaid_fen > 0"
                f" AND i.due_date < %s) AND {where} ORDER BY r.debt_id", [through, through, *params])
    return [r["debt_id"] if isinstance(r["debt_id"], UUID) else UUID(r["debt_id"]) for r in cur.fetchall()]
