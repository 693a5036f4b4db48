"""Queries of collection (催收): the contact logs of a receivable, and collection applications
(lock, unlock, tow, penalty waiver) with the facts they were made on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.access import Scope
from projections.base import page_bounds, visible_filter
from projections.receivables.amounts import _json_decode, yuan


def _logs_of(cur: Any, debt_id: UUID) -> list[dict[str, Any]]:
    cur.execute("SELECT l.log_id, l.contact_date, l.contact_person, l.channel, l.result, l.promised_date,"
                " l.promised_amount_fen, l.written_by, u.username AS written_by_name, l.written_on"
                " FROM collection_logs l LEFT JOIN access_users u ON u.user_id = l.written_by"
                " WHERE l.debt_id = %s ORDER BY l.contact_date DESC, l.written_on DESC, l.log_id", (debt_id,))
    logs = []
    for row in cur.fetchall():
        amount = row.pop("promised_amount_fen")
        logs.append({**row, "promised_amount": yuan(amount) if amount is not None else None})
    return logs


_APPLICATION = ("a.application_id, a.document_type, a.contract_id, a.contract_number, a.company_id,"
                " c.code AS company_code, a.customer_id, cu.name AS customer_name, a.serial_number, a.amount_fen,"
                " a.status, a.applied_by, u.username AS applied_by_name, a.applied_on, a.statement,"
                " a.overdue_amount_fen, a.days_past_due, a.principal_outstanding_fen, a.penalty_outstanding_fen,"
                " a.decided_on, a.decided_by, a.decision_reason, a.done_on, a.done_by, a.details")
_APPLICATION_FROM = ("collection_applications a LEFT JOIN org_companies c ON c.company_id = a.company_id"
                     " LEFT JOIN customers cu ON cu.customer_id = a.customer_id"
                     " LEFT JOIN access_users u ON u.user_id = a.applied_by")


def _application(row: dict[str, Any]) -> dict[str, Any]:
    shaped = {k: v for k, v in row.items() if not k.endswith("_fen") and k != "details"}
    shaped.update({
        "amount": yuan(row["amount_fen"]),
        "facts": {"overdue_amount": yuan(row["overdue_amount_fen"]), "days_past_due": row.get("days_past_due"),
                  "principal_outstanding": yuan(row["principal_outstanding_fen"]),
                  "penalty_outstanding": yuan(row["penalty_outstanding_fen"])},
        "details": _json_decode(row["details"]) if row["details"] else None,
    })
    shaped.pop("days_past_due", None)
    return shaped


def _applications(cur: Any, where: str, params: list[Any], page: int,
                  page_size: int) -> tuple[list[dict[str, Any]], int]:
    cur.execute(f"SELECT COUNT(*) AS n FROM collection_applications a WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT {_APPLICATION} FROM {_APPLICATION_FROM} WHERE {where}"
                " ORDER BY a.applied_on DESC, a.contract_number, a.application_id LIMIT %s OFFSET %s",
                [*params, limit, offset])
    return [_application(r) for r in cur.fetchall()], total


@dataclass(frozen=True)
class ApplicationFilter:
    company_id: UUID | None = None
    contract_id: UUID | None = None
    document_type: str | None = None
    status: str | None = None
    applied_by: UUID | None = None


def list_applications(cur: Any, scope: Scope, own_only: UUID | None, flt: ApplicationFilter, page: int,
                      page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Collection applications, newest first: what each asked for, on which facts, and where it stands."""
    where, params = visible_filter(scope, "a.company_id", "a.owner_id", own_only)
    for column, value in (("a.company_id", flt.company_id), ("a.contract_id", flt.contract_id),
                          ("a.document_type", flt.document_type), ("a.status", flt.status),
                          ("a.applied_by", flt.applied_by)):
        if value is not None:
            where += f" AND {column} = %s"
            params.append(value)
    return _applications(cur, where, params, page, page_size)


def get_application(cur: Any, scope: Scope, own_only: UUID | None, application_id: UUID) -> dict[str, Any] | None:
    where, params = visible_filter(scope, "a.company_id", "a.owner_id", own_only)
    rows, _ = _applications(cur, f"a.application_id = %s AND {where}", [application_id, *params], 1, 1)
    return rows[0] if rows else None
