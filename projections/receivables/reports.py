"""Reports across receivables: the aging report and the customer statement (对账单)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.access import Scope
from projections.base import visible_filter
from projections.receivables.amounts import BUCKETS, _as_date, yuan


def aging_report(cur: Any, scope: Scope, own_only: UUID | None, as_of: date, group_by: str = "company",
                 company_id: UUID | None = None) -> list[dict[str, Any]]:
    """Unpaid principal and interest by how long each item is past due, with penalty
    outstanding, per member company or per customer; and the total of all rows."""
    where, params = visible_filter(scope, "r.company_id", "r.owner_id", own_only)
    if company_id is not None:
        where += " AND r.company_id = %s"
        params.append(company_id)
    cases, case_params = [], []
    for name, low, high in BUCKETS:
        if low is None:
            cases.append(f"COALESCE(SUM(CASE WHEN i.due_date >= %s THEN i.unpaid_fen ELSE 0 END), 0) AS b{len(cases)}")
            case_params.append(as_of)
        else:
            cond = "i.due_date <= %s" + (" AND i.due_date >= %s" if high is not None else "")
            cases.append(f"COALESCE(SUM(CASE WHEN {cond} THEN i.unpaid_fen ELSE 0 END), 0) AS b{len(cases)}")
            case_params.append(as_of - timedelta(days=low))
            if high is not None:
                case_params.append(as_of - timedelta(days=high))
    if group_by == "customer":
        key, label, join = "r.customer_id", "cu.name", "LEFT JOIN customers cu ON cu.customer_id = r.customer_id"
    else:
        key, label, join = "r.company_id", "c.code", "LEFT JOIN org_companies c ON c.company_id = r.company_id"
    cur.execute(f"SELECT {key} AS group_id, {label} AS group_name, COUNT(DISTINCT r.debt_id) AS receivables,"
                f" {', '.join(cases)}, COALESCE(SUM(i.unpaid_fen), 0) AS outstanding_fen"
                f" FROM receivables r JOIN receivable_items i ON i.debt_id = r.debt_id {join}"
                f" WHERE r.status = 'open' AND {where} GROUP BY {key}, {label} ORDER BY {label}, {key}",
                [*case_params, *params])
    rows = cur.fetchall()
    cur.execute(f"SELECT {key} AS group_id, COALESCE(SUM(r.penalty_accrued_fen - r.penalty_received_fen"
                f" - r.penalty_waived_fen), 0) AS penalty_fen FROM receivables r WHERE r.status = 'open' AND {where}"
                f" GROUP BY {key}", params)
    penalty = {str(r["group_id"]): r["penalty_fen"] for r in cur.fetchall()}
    report = []
    for row in rows:
        entry = {"group_by": group_by, "id": row["group_id"], "name": row["group_name"],
                 "receivables": row["receivables"], "outstanding": yuan(row["outstanding_fen"]),
                 "penalty_outstanding": yuan(penalty.get(str(row["group_id"]), 0))}
        entry.update({name: yuan(row[f"b{n}"]) for n, (name, _, _) in enumerate(BUCKETS)})
        entry["overdue"] = sum((entry[name] for name, low, _ in BUCKETS if low is not None), Decimal("0.00"))
        report.append(entry)
    return report


def customer_statement(cur: Any, scope: Scope, own_only: UUID | None, customer_id: UUID, date_from: date | None,
                       date_to: date) -> dict[str, Any] | None:
    """对账单: every charge, penalty, receipt and reversal of the customer's receivables in
    date order, with the running balance (what the customer owes after each line)."""
    where, params = visible_filter(scope, "company_id", "owner_id", own_only)
    # The customer as the customers read model has it: one the caller may not see is not found;
    # one without receivables has an empty statement.
    cur.execute(f"SELECT name FROM customers WHERE customer_id = %s AND {where}", [customer_id, *params])
    customer = cur.fetchone()
    if customer is None:
        return None
    opening = 0
    if date_from is not None:
        cur.execute(f"SELECT COALESCE(SUM(debit_fen - credit_fen), 0) AS n FROM receivable_entries"
                    f" WHERE customer_id = %s AND entry_date < %s AND {where}", [customer_id, date_from, *params])
        opening = cur.fetchone()["n"]
    bounds, bound_params = "entry_date <= %s", [date_to]
    if date_from is not None:
        bounds += " AND entry_date >= %s"
        bound_params.append(date_from)
    cur.execute("SELECT entry_date, contract_number, kind, item_key, receipt_id, description, debit_fen, credit_fen"
                f" FROM receivable_entries WHERE customer_id = %s AND {bounds} AND {where}"
                " ORDER BY entry_date, contract_number, seq", [customer_id, *bound_params, *params])
    balance = opening
    lines = []
    for e in cur.fetchall():
        balance += e["debit_fen"] - e["credit_fen"]
        lines.append({"date": _as_date(e["entry_date"]), "contract_number": e["contract_number"], "kind": e["kind"],
                      "item": e["item_key"], "receipt_id": e["receipt_id"], "description": e["description"],
                      "debit": yuan(e["debit_fen"]), "credit": yuan(e["credit_fen"]), "balance": yuan(balance)})
    return {"customer_id": customer_id, "customer_name": customer["name"], "date_from": date_from, "date_to": date_to,
            "opening_balance": yuan(opening), "closing_balance": yuan(balance), "lines": lines}
