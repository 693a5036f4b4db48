"""For auditors: an index of every business fact, and a hash chain over the stored events.

``audit_events`` has one row per event of every aggregate (who, when, for which company,
under which command, why), so that an auditor finds everything one command did
(an un-approval's releases, closings and withdrawals share its ``command_id``) and
every un-approval or swap of a period, without reading each aggregate.

``event_chain`` makes tampering with the stored events evident. For each stored
event, in the order of the log, it keeps

    link(n) = sha256( link(n−1) | n | originator id | version | topic | sha256(stored bytes) )

(``link(0)`` is 64 zeros). ``ironledger audit verify-chain`` recomputes the links from
the raw store and names the first event whose bytes, place or presence no longer
match. The chain is never rebuilt from the store: rebuilding would bless whatever
the store holds now. Keep the head link (``audit chain-head``) somewhere else too:
someone able to rewrite both the events and the chain is caught only by that.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta

import domain.access  # noqa: F401  (every aggregate's events are indexed, so every module is loaded)
import domain.approvals  # noqa: F401
import domain.collection  # noqa: F401
import domain.contracts  # noqa: F401
import domain.coupons  # noqa: F401
import domain.customers  # noqa: F401
import domain.machines  # noqa: F401
import domain.organisation  # noqa: F401
import domain.receivables  # noqa: F401
from domain.access import Scope
from domain.base import DealerAggregate
from domain.commands import CommandRecord
from projections.base import Projection, handles, page_bounds, scope_filter
from projections.rows import Row

GENESIS = "0" * 64
_SECRET = ("password", "secret", "token")     # never copied out of the log
_BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor_id", "company_id",
                "command_id", "business_date", "reason"}


class AuditEventsProjection(Projection):
    name = "audit_events"
    version = 1
    tables = ("audit_events",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS audit_events (aggregate_id {uuid} NOT NULL, version INTEGER NOT NULL,"
        " event TEXT NOT NULL, recorded_at {ts} NOT NULL, business_date {date} NOT NULL, actor_id {uuid} NOT NULL,"
        " company_id {uuid}, command_id {uuid} NOT NULL, reason TEXT, summary TEXT NOT NULL,"
        " PRIMARY KEY (aggregate_id, version))",
        "CREATE INDEX IF NOT EXISTS audit_events_command ON audit_events (command_id)",
        "CREATE INDEX IF NOT EXISTS audit_events_event ON audit_events (event, business_date)",
    )

    @handles(DealerAggregate.Event)
    def recorded(self, cur: Any, e: DealerAggregate.Event) -> None:
        if isinstance(e, CommandRecord.Recorded):
            return      # the answer kept for an Idempotency-Key, not a business fact
        cur.execute("INSERT INTO audit_events (aggregate_id, version, event, recorded_at, business_date, actor_id,"
                    " company_id, command_id, reason, summary) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.originator_id, e.originator_version, event_name(e), e.timestamp, e.business_date,
                     e.actor_id, e.company_id, e.command_id, e.reason, summary(e)))


def event_name(event: Any) -> str:
    """``Contract.Unapproved``: the aggregate and the fact, as the history shows them."""
    return type(event).__qualname__


def summary(event: Any) -> str:
    """The event's own fields in one line, for a reader scanning a trail."""
    parts = []
    for f in fields(event):
        if f.name in _BASE_FIELDS or any(word in f.name for word in _SECRET):
            continue
        value = getattr(event, f.name)
        text = str(value)
        parts.append(f"{f.name}={text if len(text) <= 80 else text[:77] + '...'}")
    return "; ".join(parts)[:1000]


def command_trail(cur: Any, scope: Scope, command_id: UUID) -> list[dict[str, Any]]:
    """Every event one command recorded, in order (an un-approval and all it undid). Facts of the
    whole group (users, positions, models, rules) only for a caller who sees the whole group."""
    where, params = scope_filter(scope, "a.company_id")
    group = "1 = 1" if scope.all_companies else "1 = 0"
    cur.execute("SELECT a.aggregate_id, a.version, a.event, a.recorded_at, a.business_date, a.actor_id,"
                " u.username AS actor, a.company_id, a.command_id, a.reason, a.summary FROM audit_events a"
                " LEFT JOIN access_users u ON u.user_id = a.actor_id"
                f" WHERE a.command_id = %s AND ((a.company_id IS NULL AND {group}) OR {where})"
                " ORDER BY a.recorded_at, a.aggregate_id, a.version", [command_id, *params])
    return cur.fetchall()


ROLLBACKS = ("Contract.Unapproved", "Contract.MachineSwapped")


def rollbacks_and_swaps(cur: Any, scope: Scope, date_from: date, date_to: date, page: int,
                        page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Every un-approval (取消审核) and sales swap (销售换机) of a period, with who, why, and how
    many facts each caused downstream (its trail: ``command_trail``)."""
    where, params = scope_filter(scope, "a.company_id")
    cond = (f"a.event IN ({', '.join(['%s'] * len(ROLLBACKS))}) AND a.business_date >= %s AND a.business_date <= %s"
            f" AND {where}")
    all_params = [*ROLLBACKS, date_from, date_to, *params]
    cur.execute(f"SELECT COUNT(*) AS n FROM audit_events a WHERE {cond}", all_params)
    total = cur.fetchone()["n"]
    limit, offset = page_bounds(page, page_size)
    cur.execute("SELECT a.aggregate_id AS contract_id, a.event, a.business_date, a.recorded_at, a.actor_id,"
                " u.username AS actor, a.company_id, a.command_id, a.reason, a.summary,"
                " (SELECT COUNT(*) FROM audit_events d WHERE d.command_id = a.command_id) - 1 AS downstream_events"
                " FROM audit_events a LEFT JOIN access_users u ON u.user_id = a.actor_id"
                f" WHERE {cond} ORDER BY a.business_date, a.recorded_at LIMIT %s OFFSET %s",
                [*all_params, limit, offset])
    return cur.fetchall(), total


# ================================================================ the hash chain
def link(previous: str, notification_id: int, originator_id: Any, originator_version: int, topic: str,
         state: bytes) -> str:
    body = "|".join((previous, str(notification_id), str(originator_id), str(originator_version), topic,
                     hashlib.sha256(state).hexdigest()))
    return hashlib.sha256(body.encode()).hexdigest()


class EventChainProjection(Projection):
    """Not a read model of facts but a seal over the log: fed the raw stored events."""

    name = "event_chain"
    version = 1
    raw = True              # the runner gives it every stored event as stored (bytes), not decoded
    rebuildable = False     # rebuilding from the store would seal over a tampering
    tables = ("event_chain",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS event_chain (notification_id {bigint} PRIMARY KEY, originator_id {uuid} NOT NULL,"
        " originator_version INTEGER NOT NULL, link TEXT NOT NULL)",
    )

    def __init__(self) -> None:
        super().__init__()
        self._head: tuple[int, str] | None = None

    def begin_batch(self) -> None:
        """The head is read again at each batch: another process may have sealed the last one."""
        self._head = None

    def apply_raw(self, cur: Any, notification: Any) -> None:
        previous = self._previous(cur, notification.id)
        value = link(previous, notification.id, notification.originator_id, notification.originator_version,
                     notification.topic, bytes(notification.state))
        cur.execute("INSERT INTO event_chain (notification_id, originator_id, originator_version, link)"
                    " VALUES (%s, %s, %s, %s)",
                    (notification.id, notification.originator_id, notification.originator_version, value))
        self._head = (notification.id, value)

    def _previous(self, cur: Any, notification_id: int) -> str:
        if self._head is None or self._head[0] >= notification_id:
            cur.execute("SELECT link FROM event_chain WHERE notification_id < %s"
                        " ORDER BY notification_id DESC LIMIT 1", (notification_id,))
            row = cur.fetchone()
            return row["link"] if row else GENESIS
        return self._head[1]


# ================================================================ typed rows
class AuditEventRow(Row):
    """One fact of a command's trail (``command_trail``)."""

    aggregate_id: UUID
    version: int
    event: str
    recorded_at: Annotated[str, Meta(description="The UTC moment it was recorded (ISO 8601).")]
    business_date: date
    actor_id: UUID
    actor: str | None
    company_id: UUID | None
    command_id: UUID
    reason: str | None
    summary: str


class RollbackRow(Row):
    """An un-approval or a sales swap (``rollbacks_and_swaps``), with how many facts it caused downstream."""

    contract_id: UUID
    event: str
    business_date: date
    recorded_at: Annotated[str, Meta(description="The UTC moment it was recorded (ISO 8601).")]
    actor_id: UUID
    actor: str | None
    company_id: UUID | None
    command_id: UUID
    reason: str | None
    summary: str
    downstream_events: int
