"""What waits for whose decision, for every approvable document type; and the rules in force.

A row per document awaiting a decision, naming the step's role and how far the
decider's scope must reach. A user's queue is computed from their roles and
scope at the moment they ask, so a role or position granted today shows today.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.access import Role, Scope
from domain.approvals import (
    ApprovalGranted,
    ApprovalRefused,
    ApprovalRequested,
    ApprovalRule,
    ApprovalStepPassed,
    DocumentType,
    StepScope,
)
from projections.base import Projection, handles, page_bounds, scope_filter
from projections.rows import Row

_json = msgspec.json.Encoder(decimal_format="string")


class ApprovalQueueProjection(Projection):
    name = "approval_queue"
    version = 1
    tables = ("approval_queue", "approval_rules")
    ddl = (
        "CREATE TABLE IF NOT EXISTS approval_queue (document_id {uuid} PRIMARY KEY, document_type TEXT NOT NULL,"
        " document_label TEXT NOT NULL, company_id {uuid}, owner_id {uuid}, amount {money} NOT NULL,"
        " submitted_by {uuid} NOT NULL, submitted_on {date} NOT NULL, route_json TEXT NOT NULL,"
        " step_index INTEGER NOT NULL, steps_total INTEGER NOT NULL, step_name TEXT NOT NULL, role TEXT NOT NULL,"
        " step_scope TEXT NOT NULL, waiting_since {ts} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS approval_queue_role ON approval_queue (role, company_id, waiting_since)",
        "CREATE TABLE IF NOT EXISTS approval_rules (rule_id {uuid} PRIMARY KEY, document_type TEXT NOT NULL,"
        " company_id {uuid}, revision INTEGER NOT NULL, bands_json TEXT NOT NULL, set_on {date} NOT NULL)",
    )

    @handles(ApprovalRequested)
    def requested(self, cur: Any, e: ApprovalRequested) -> None:
        first = e.route.steps[0]
        cur.execute("INSERT INTO approval_queue (document_id, document_type, document_label, company_id, owner_id,"
                    " amount, submitted_by, submitted_on, route_json, step_index, steps_total, step_name, role,"
                    " step_scope, waiting_since) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s, %s, %s, %s)",
                    (e.originator_id, str(e.document_type), e.document_label, e.company_id, e.document_owner_id,
                     e.amount, e.actor_id, e.business_date, _json.encode(e.route.steps).decode(), len(e.route.steps),
                     first.name, str(first.role), str(first.scope), e.timestamp))

    @handles(ApprovalStepPassed)
    def passed(self, cur: Any, e: ApprovalStepPassed) -> None:
        cur.execute("SELECT route_json FROM approval_queue WHERE document_id = %s", (e.originator_id,))
        steps = msgspec.json.decode(cur.fetchone()["route_json"])
        step = steps[e.step_index + 1]
        cur.execute("UPDATE approval_queue SET step_index = %s, step_name = %s, role = %s, step_scope = %s,"
                    " waiting_since = %s WHERE document_id = %s",
                    (e.step_index + 1, step["name"], step["role"], step["scope"], e.timestamp, e.originator_id))

    @handles(ApprovalGranted, ApprovalRefused)
    def decided(self, cur: Any, e: Any) -> None:
        cur.execute("DELETE FROM approval_queue WHERE document_id = %s", (e.originator_id,))

    @handles(ApprovalRule.Set)
    def rule_set(self, cur: Any, e: ApprovalRule.Set) -> None:
        cur.execute("INSERT INTO approval_rules (rule_id, document_type, company_id, revision, bands_json, set_on)"
                    " VALUES (%s, %s, %s, 1, %s, %s)",
                    (e.originator_id, str(e.document_type), e.company_id, _json.encode(e.bands).decode(),
                     e.business_date))

    @handles(ApprovalRule.Revised)
    def rule_revised(self, cur: Any, e: ApprovalRule.Revised) -> None:
        cur.execute("UPDATE approval_rules SET revision = revision + 1, bands_json = %s, set_on = %s"
                    " WHERE rule_id = %s", (_json.encode(e.bands).decode(), e.business_date, e.originator_id))


def _mine(scope: Scope, roles: frozenset[Role], user_id: UUID, own_only: UUID | None) -> tuple[str, list[Any]]:
    """Rows whose current step this user decides: their role, their scope reaching
    the document's company (or the whole group), and not a document they submitted."""
    if not roles:
        return "1 = 0", []
    company, params = scope_filter(scope, "q.company_id")
    group = "1 = 1" if scope.all_companies else "1 = 0"
    where = (f"q.role IN ({', '.join(['%s'] * len(roles))}) AND q.submitted_by <> %s"
             f" AND ((q.step_scope = %s AND ({company} OR q.company_id IS NULL)) OR (q.step_scope = %s AND {group}))")
    all_params = [*sorted(str(r) for r in roles), user_id, str(StepScope.COMPANY), *params, str(StepScope.GROUP)]
    if own_only is not None:
        where += " AND (q.owner_id IS NULL OR q.owner_id = %s)"
        all_params.append(own_only)
    return where, all_params


_QUEUE = ("q.document_id, q.document_type, q.document_label, q.company_id, c.code AS company_code, q.amount,"
          " q.submitted_by, u.username AS submitted_by_name, q.submitted_on, q.step_index + 1 AS step,"
          " q.steps_total, q.step_name, q.role, q.step_scope, q.waiting_since")
_QUEUE_FROM = ("approval_queue q LEFT JOIN org_companies c ON c.company_id = q.company_id"
               " LEFT JOIN access_users u ON u.user_id = q.submitted_by")


def list_my_approvals(cur: Any, scope: Scope, roles: frozenset[Role], user_id: UUID, own_only: UUID | None,
                      document_type: str | None, company_id: UUID | None, page: int,
                      page_size: int) -> tuple[list[dict[str, Any]], int]:
    where, params = _mine(scope, roles, user_id, own_only)
    for column, value in (("q.document_type", document_type), ("q.company_id", company_id)):
        if value is not None:
            where += f" AND {column} = %s"
            params.append(value)
    cur.execute(f"SELECT COUNT(*) AS n FROM approval_queue q WHERE {where}", params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute(f"SELECT {_QUEUE} FROM {_QUEUE_FROM} WHERE {where} ORDER BY q.waiting_since, q.document_id"
                " LIMIT %s OFFSET %s", [*params, limit, offset])
    found = cur.fetchall()
    for row in found:
        row["waiting_since"] = _moment_text(row["waiting_since"])
    return found, total


def waiting_for_me(cur: Any, scope: Scope, roles: frozenset[Role], user_id: UUID, own_only: UUID | None,
                   document_id: UUID) -> dict[str, Any] | None:
    """The document's current step, when this user decides it (its page offers the decision)."""
    where, params = _mine(scope, roles, user_id, own_only)
    cur.execute(f"SELECT {_QUEUE} FROM {_QUEUE_FROM} WHERE {where} AND q.document_id = %s", [*params, document_id])
    found = cur.fetchone()
    if found:
        found["waiting_since"] = _moment_text(found["waiting_since"])
    return found


def count_my_approvals(cur: Any, scope: Scope, roles: frozenset[Role], user_id: UUID,
                       own_only: UUID | None) -> list[dict[str, Any]]:
    where, params = _mine(scope, roles, user_id, own_only)
    cur.execute(f"SELECT q.company_id, c.code AS company_code, q.document_type, COUNT(*) AS waiting,"
                f" MIN(q.waiting_since) AS oldest FROM {_QUEUE_FROM} WHERE {where}"
                " GROUP BY q.company_id, c.code, q.document_type ORDER BY c.code, q.document_type", params)
    found = cur.fetchall()
    for row in found:
        row["oldest"] = _moment_text(row["oldest"])
    return found


def _moment_text(value: Any) -> Any:
    """A recorded moment as the answer has always given it: SQLite keeps the text it stored
    ("...+00:00"), PostgreSQL a timestamptz, written as JSON writes it ("...Z")."""
    if isinstance(value, datetime):
        return msgspec.json.encode(value).decode().strip('"')
    return value


def list_rules(cur: Any, scope: Scope) -> list[dict[str, Any]]:
    company, params = scope_filter(scope, "r.company_id")
    cur.execute("SELECT r.rule_id, r.document_type, r.company_id, c.code AS company_code, r.revision, r.bands_json,"
                " r.set_on FROM approval_rules r LEFT JOIN org_companies c ON c.company_id = r.company_id"
                f" WHERE r.company_id IS NULL OR {company} ORDER BY r.document_type, c.code", params)
    rows = cur.fetchall()
    for row in rows:
        row["bands"] = msgspec.json.decode(row.pop("bands_json"))
    return rows


# ================================================================ typed rows
Moment = Annotated[str, Meta(description="The UTC moment (ISO 8601).")]


class ApprovalQueueRow(Row):
    """A document waiting for the caller's decision, at its current step."""

    document_id: UUID
    document_type: DocumentType
    document_label: str
    company_id: UUID | None
    company_code: str | None
    amount: Decimal
    submitted_by: UUID
    submitted_by_name: str | None
    submitted_on: date
    step: int
    steps_total: int
    step_name: str
    role: Role
    step_scope: StepScope
    waiting_since: Moment


class ApprovalCountRow(Row):
    company_id: UUID | None
    company_code: str | None
    document_type: DocumentType
    waiting: int
    oldest: Moment


class ApprovalStepRow(Row):
    name: str
    role: Role
    scope: StepScope


class AmountBandRow(Row):
    from_amount: Decimal
    steps: list[ApprovalStepRow]


class ApprovalRuleRow(Row):
    rule_id: UUID
    document_type: DocumentType
    company_id: UUID | None
    company_code: str | None
    revision: int
    set_on: date
    bands: list[AmountBandRow]
