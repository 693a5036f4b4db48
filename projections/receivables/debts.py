"""Queries of receivables (one per contract) and their items: the list, its export, and one
receivable in full. What depends on the day asked about is computed ``as_of`` it (see the
package's docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from domain.access import Scope
from projections.base import page_bounds, visible_filter
from projections.receivables.amounts import BUCKETS, _as_date, _opt_date, _rank, bucket_of, yuan
from projections.receivables.collection import _applications, _logs_of
from projections.receivables.receipts import _receipts_of


@dataclass(frozen=True)
class ReceivableFilter:
    company_id: UUID | None = None
    customer_id: UUID | None = None
    owner_id: UUID | None = None
    status: str | None = None
    aging: str | None = None          # one of BUCKETS' names
    overdue_only: bool = False
    collector_id: UUID | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_UNPAID = "i.unpaid_fen > 0"


def _figures(as_of: date) -> tuple[str, list[Any]]:
    """Per receivable: its own columns plus what depends on the day asked about."""
    sql = (
        "SELECT r.debt_id, r.contract_id, r.contract_number, r.company_id, c.code AS company_code,"
        " r.customer_id, cu.name AS customer_name, r.owner_id, u.username AS salesperson, r.status, r.payment,"
        " r.schedule_method, r.schedule_pending, r.financed_fen, r.received_fen, r.penalty_accrued_fen,"
        " r.penalty_received_fen, r.penalty_waived_fen, r.penalty_accrued_through, r.opened_on, r.last_change_on,"
        " r.collector_id, r.collector_name, r.collector_assigned_on, r.last_contact_date, r.last_contact_result,"
        " r.promised_date, r.promised_amount_fen, r.locked_machines, r.settled_on, r.documents_released_on,"
        " (SELECT MAX(a.status) FROM collection_applications a WHERE a.debt_id = r.debt_id"
        "   AND a.document_type = 'tow' AND a.status IN ('in_approval', 'approved', 'towed')) AS tow_state,"
        " (SELECT COUNT(*) FROM collection_applications a WHERE a.debt_id = r.debt_id"
        "   AND a.status IN ('in_approval', 'approved', 'towed')) AS open_applications,"
        " (SELECT COALESCE(SUM(i.principal_fen + i.interest_fen), 0) FROM receivable_items i"
        "   WHERE i.debt_id = r.debt_id) AS charged_fen,"
        " (SELECT COALESCE(SUM(i.principal_fen - i.principal_paid_fen), 0) FROM receivable_items i"
        "   WHERE i.debt_id = r.debt_id) AS principal_outstanding_fen,"
        " (SELECT COALESCE(SUM(i.unpaid_fen), 0) FROM receivable_items i WHERE i.debt_id = r.debt_id)"
        "   AS outstanding_fen,"
        f" (SELECT COALESCE(SUM(i.unpaid_fen), 0) FROM receivable_items i WHERE i.debt_id = r.debt_id"
        f"   AND i.due_date < %s) AS overdue_fen,"
        f" (SELECT MIN(i.due_date) FROM receivable_items i WHERE i.debt_id = r.debt_id AND {_UNPAID}"
        f"   AND i.due_date < %s) AS oldest_overdue_date,"
        f" (SELECT MIN(i.due_date) FROM receivable_items i WHERE i.debt_id = r.debt_id AND {_UNPAID}"
        f"   AND i.due_date >= %s) AS next_due_date"
        " FROM receivables r LEFT JOIN org_companies c ON c.company_id = r.company_id"
        " LEFT JOIN customers cu ON cu.customer_id = r.customer_id"
        " LEFT JOIN access_users u ON u.user_id = r.owner_id")
    return sql, [as_of, as_of, as_of]


def _where(scope: Scope, own_only: UUID | None, flt: ReceivableFilter, as_of: date) -> tuple[str, list[Any]]:
    where, params = visible_filter(scope, "x.company_id", "x.owner_id", own_only)
    for column, value in (("x.company_id", flt.company_id), ("x.customer_id", flt.customer_id),
                          ("x.owner_id", flt.owner_id), ("x.status", flt.status),
                          ("x.collector_id", flt.collector_id)):
        if value is not None:
            where += f" AND {column} = %s"
            params.append(value)
    if flt.overdue_only:
        where += " AND x.oldest_overdue_date IS NOT NULL"
    if flt.aging is not None:
        low, high = next((lo, hi) for name, lo, hi in BUCKETS if name == flt.aging)
        if low is None:
            where += " AND x.oldest_overdue_date IS NULL"
        else:
            where += " AND x.oldest_overdue_date <= %s"
            params.append(as_of - timedelta(days=low))
            if high is not None:
                where += " AND x.oldest_overdue_date >= %s"
                params.append(as_of - timedelta(days=high))
    return where, params


def _shape(row: dict[str, Any], as_of: date) -> dict[str, Any]:
    oldest = row.pop("oldest_overdue_date")
    oldest = _as_date(oldest) if oldest is not None else None
    next_due = row.pop("next_due_date")
    days = (as_of - oldest).days if oldest is not None else 0
    penalty_outstanding = row["penalty_accrued_fen"] - row["penalty_received_fen"] - row["penalty_waived_fen"]
    shaped = {k: v for k, v in row.items() if not k.endswith("_fen")}
    shaped.update({
        "schedule_pending": bool(row["schedule_pending"]),
        "as_of": as_of,
        "financed": yuan(row["financed_fen"]),
        "charged": yuan(row["charged_fen"]),
        "received": yuan(row["received_fen"]),
        "principal_outstanding": yuan(row["principal_outstanding_fen"]),
        "outstanding": yuan(row["outstanding_fen"]),
        "overdue_amount": yuan(row["overdue_fen"]),
        "penalty_accrued": yuan(row["penalty_accrued_fen"]),
        "penalty_received": yuan(row["penalty_received_fen"]),
        "penalty_waived": yuan(row["penalty_waived_fen"]),
        "penalty_outstanding": yuan(penalty_outstanding),
        "next_due_date": _as_date(next_due) if next_due is not None else None,
        "oldest_overdue_date": oldest,
        "days_past_due": days,
        "aging_bucket": bucket_of(days),
        "collection": {
            "collector_id": row["collector_id"],
            "collector_name": row["collector_name"],
            "assigned_on": _opt_date(row["collector_assigned_on"]),
            "last_contact_date": _opt_date(row["last_contact_date"]),
            "last_contact_result": row["last_contact_result"],
            "promised_date": _opt_date(row["promised_date"]),
            "promised_amount": yuan(row["promised_amount_fen"]) if row["promised_amount_fen"] is not None else None,
            "locked": row["locked_machines"] > 0,
            "locked_machines": row["locked_machines"],
            "tow_pending": row["tow_state"] is not None,
            "tow_state": row["tow_state"],
            "open_applications": row["open_applications"],
            "settled": row["status"] == "settled",
            "settled_on": _opt_date(row["settled_on"]),
            "documents_released_on": _opt_date(row["documents_released_on"]),
        },
    })
    for key in ("collector_id", "collector_name", "collector_assigned_on", "last_contact_date", "last_contact_result",
                "promised_date", "locked_machines", "settled_on", "documents_released_on", "tow_state",
                "open_applications"):
        shaped.pop(key, None)
    return shaped


def _next_due_amounts(cur: Any, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row["next_due_amount"] = None
        if row["next_due_date"] is not None:
            cur.execute("SELECT COALESCE(SUM(unpaid_fen), 0) AS n FROM receivable_items WHERE debt_id = %s"
                        " AND due_date = %s AND unpaid_fen > 0", (row["debt_id"], row["next_due_date"]))
            row["next_due_amount"] = yuan(cur.fetchone()["n"])


# Longest overdue first; nothing overdue last (SQLite sorts NULL first, PostgreSQL last: say it).
_ORDERS = {"contract": "x.contract_number",
           "days_past_due": "(x.oldest_overdue_date IS NULL), x.oldest_overdue_date, x.contract_number",
           "outstanding": "x.outstanding_fen DESC, x.contract_number"}


def list_receivables(cur: Any, scope: Scope, own_only: UUID | None, flt: ReceivableFilter, as_of: date, page: int,
                     page_size: int, order: str = "contract") -> tuple[list[dict[str, Any]], int]:
    inner, inner_params = _figures(as_of)
    where, params = _where(scope, own_only, flt, as_of)
    cur.execute(f"SELECT COUNT(*) AS n FROM ({inner}) x WHERE {where}", [*inner_params, *params])
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT * FROM ({inner}) x WHERE {where} ORDER BY {_ORDERS[order]}, x.debt_id LIMIT %s OFFSET %s",
                [*inner_params, *params, limit, offset])
    rows = [_shape(r, as_of) for r in cur.fetchall()]
    _next_due_amounts(cur, rows)
    return rows, total


def export_receivables(cur: Any, scope: Scope, own_only: UUID | None, flt: ReceivableFilter, as_of: date,
                       batch: int = 1000) -> Iterator[dict[str, Any]]:
    page = 1
    while True:
        rows, _ = list_receivables(cur, scope, own_only, flt, as_of, page, batch)
        yield from (_flat(r) for r in rows)
        if len(rows) < batch:
            return
        page += 1


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """An export row: the collection state as columns of their own."""
    collection = row["collection"]
    return {**row, "collector": collection["collector_name"], "last_contact_date": collection["last_contact_date"],
            "promised_date": collection["promised_date"], "locked": collection["locked"],
            "tow_state": collection["tow_state"], "settled_on": collection["settled_on"]}


EXPORT_COLUMNS = ("contract_number", "company_code", "customer_name", "salesperson", "status", "payment",
                  "financed", "charged", "received", "principal_outstanding", "outstanding", "overdue_amount",
                  "penalty_accrued", "penalty_received", "penalty_waived", "penalty_outstanding", "next_due_date",
                  "next_due_amount", "oldest_overdue_date", "days_past_due", "aging_bucket", "collector",
                  "last_contact_date", "promised_date", "locked", "tow_state", "settled_on", "as_of", "contract_id")


def get_receivable(cur: Any, scope: Scope, own_only: UUID | None, contract_id: UUID,
                   as_of: date) -> dict[str, Any] | None:
    inner, inner_params = _figures(as_of)
    where, params = visible_filter(scope, "x.company_id", "x.owner_id", own_only)
    cur.execute(f"SELECT * FROM ({inner}) x WHERE x.contract_id = %s AND {where}",
                [*inner_params, contract_id, *params])
    row = cur.fetchone()
    if row is None:
        return None
    shaped = _shape(row, as_of)
    _next_due_amounts(cur, [shaped])
    cur.execute("SELECT item_key, kind, due_date, principal_fen, interest_fen, principal_paid_fen, interest_paid_fen,"
                " unpaid_fen, penalty_accrued_fen, penalty_paid_fen, penalty_waived_fen FROM receivable_items"
                " WHERE debt_id = %s"
                " ORDER BY due_date, kind, item_key", (shaped["debt_id"],))
    items = []
    for i in cur.fetchall():
        due = _as_date(i["due_date"])
        items.append({"item": i["item_key"], "kind": i["kind"], "due_date": due,
                      "principal": yuan(i["principal_fen"]), "interest": yuan(i["interest_fen"]),
                      "principal_paid": yuan(i["principal_paid_fen"]), "interest_paid": yuan(i["interest_paid_fen"]),
                      "unpaid": yuan(i["unpaid_fen"]), "penalty_accrued": yuan(i["penalty_accrued_fen"]),
                      "penalty_paid": yuan(i["penalty_paid_fen"]), "penalty_waived": yuan(i["penalty_waived_fen"]),
                      "penalty_outstanding": yuan(i["penalty_accrued_fen"] - i["penalty_paid_fen"]
                                                  - i["penalty_waived_fen"]),
                      "overdue": i["unpaid_fen"] > 0 and due < as_of,
                      "days_past_due": (as_of - due).days if i["unpaid_fen"] > 0 and due < as_of else 0})
    items.sort(key=lambda i: (i["due_date"], _rank(i["item"])))
    shaped["items"] = items
    shaped["receipts"] = _receipts_of(cur, shaped["debt_id"])
    shaped["collection_logs"] = _logs_of(cur, shaped["debt_id"])
    shaped["applications"] = _applications(cur, "a.debt_id = %s", [shaped["debt_id"]], 1, 1000)[0]
    return shaped
