"""For auditors over HTTP: any object's history and state as of a past moment, what one
command did, and the un-approvals and swaps of a period. Read-only, scoped like every read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Router, get
from litestar.params import FromPath, FromQuery, PathParameter, QueryParameter

from application.audit import KINDS, AuditHistory, StateAsOf
from application.reading import page_of, paged, rows
from domain.access import Permission
from domain.base import InvalidValueError
from interfaces.http.kit import CallerDep, OfficeDep, Page, PageSize, ReaderDep, query_day, reads
from projections import audit
from projections.audit import AuditEventRow, RollbackRow

Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
Key = Annotated[str, PathParameter(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.\- ]+$",
                                   description="The object's id; a machine's serial number; a coupon's code; "
                                               "a contract's id for its receivable.")]
AUDIT_EVENTS = reads("audit_events", Permission.VIEW_HISTORY)


class CommandTrail(msgspec.Struct, kw_only=True):
    """Every event one command recorded, on every object, in order."""

    command_id: UUID
    events: list[AuditEventRow]


def _moments(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``recorded_at`` as the text the API always wrote: SQLite gives back the text it stored,
    PostgreSQL a timestamptz, written as JSON writes a moment ("...Z")."""
    return [{**r, "recorded_at": msgspec.json.encode(r["recorded_at"]).decode().strip('"')}
            if isinstance(r["recorded_at"], datetime) else r for r in found]


@get("/{kind:str}/{key:str}/history", operation_id="GetHistory", sync_to_thread=True,
     summary="Every event of an object in order: what, when (business date and recorded time), who, "
             "for which company, under which command, why, and its data")
def get_history(kind: FromPath[Kind], key: Key, caller: CallerDep, backoffice: OfficeDep) -> AuditHistory:
    return AuditHistory.of(backoffice.audit.history_of(caller, kind, key))


@get("/{kind:str}/{key:str}/state", operation_id="GetStateAsOf", sync_to_thread=True,
     summary="An object as it was at a past time or version, rebuilt from its events")
def get_state_as_of(kind: FromPath[Kind], key: Key, caller: CallerDep, backoffice: OfficeDep,
                    at: FromQuery[datetime | None] = None,
                    version: Annotated[int | None, QueryParameter(name="version", ge=1, le=10_000_000)] = None
                    ) -> StateAsOf:
    return StateAsOf.of(backoffice.audit.state_as_of(caller, kind, key, at, version))


@get("/commands/{command_id:uuid}", operation_id="GetCommandTrail", sync_to_thread=True, opt=AUDIT_EVENTS,
     summary="Every event one command recorded, on every object (an un-approval and all it undid)")
def get_command_trail(command_id: FromPath[UUID], read: ReaderDep) -> CommandTrail:
    return CommandTrail(command_id=command_id,
                        events=rows(AuditEventRow, _moments(read(audit.command_trail, command_id))))


@get("/rollbacks", operation_id="ListRollbacksAndSwaps", sync_to_thread=True, opt=AUDIT_EVENTS,
     summary="Un-approvals (取消审核) and sales swaps (销售换机) of a period, with who, why and how many "
             "facts each caused")
def list_rollbacks_and_swaps(read: ReaderDep, date_from: FromQuery[date], date_to: FromQuery[date],
                             page: Page = 1, page_size: PageSize = 50) -> page_of(RollbackRow):  # type: ignore[valid-type]
    query_day(date_from, "date_from")
    query_day(date_to, "date_to")
    if date_from > date_to:
        raise InvalidValueError("date_from is after date_to.", field="date_from")
    items, total = read(audit.rollbacks_and_swaps, date_from, date_to, page, page_size)
    return paged(RollbackRow, (_moments(items), total), page, page_size)


AUDIT_CONTROLLERS: list[Any] = [
    Router("/audit", tags=["audit"], route_handlers=[get_history, get_state_as_of, get_command_trail,
                                                     list_rollbacks_and_swaps]),
]
