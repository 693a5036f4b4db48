"""For auditors over HTTP: any object's history and state as of a past moment, what one
command did, and the un-approvals and swaps of a period. Read-only, scoped like every read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, PathParameter, QueryParameter

from application.audit import KINDS
from domain.access import Permission
from domain.base import InvalidValueError
from interfaces.http.controllers import After, CallerDep, OfficeDep, Page, PageSize, fresh, query_day
from projections import audit

Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
Key = Annotated[str, PathParameter(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.\- ]+$",
                                   description="The object's id; a machine's serial number; a coupon's code; "
                                               "a contract's id for its receivable.")]


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get("/{kind:str}/{key:str}/history", operation_id="GetHistory", sync_to_thread=True,
         summary="Every event of an object in order: what, when (business date and recorded time), who, "
                 "for which company, under which command, why, and its data")
    def history(self, kind: FromPath[Kind], key: Key, caller: CallerDep, backoffice: OfficeDep) -> dict[str, Any]:
        return backoffice.audit.history_of(caller, kind, key)

    @get("/{kind:str}/{key:str}/state", operation_id="GetStateAsOf", sync_to_thread=True,
         summary="An object as it was at a past time or version, rebuilt from its events")
    def state(self, kind: FromPath[Kind], key: Key, caller: CallerDep, backoffice: OfficeDep,
              at: FromQuery[datetime | None] = None,
              version: Annotated[int | None, QueryParameter(name="version", ge=1, le=10_000_000)] = None
              ) -> dict[str, Any]:
        return backoffice.audit.state_as_of(caller, kind, key, at, version)

    @get("/commands/{command_id:uuid}", operation_id="GetCommandTrail", sync_to_thread=True,
         summary="Every event one command recorded, on every object (an un-approval and all it undid)")
    def trail(self, command_id: FromPath[UUID], caller: CallerDep, backoffice: OfficeDep,
              after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_HISTORY)
        fresh(backoffice, "audit_events", after)
        with backoffice.read() as cur:
            return {"command_id": command_id, "events": audit.command_trail(cur, caller.scope, command_id)}

    @get("/rollbacks", operation_id="ListRollbacksAndSwaps", sync_to_thread=True,
         summary="Un-approvals (取消审核) and sales swaps (销售换机) of a period, with who, why and how many "
                 "facts each caused")
    def rollbacks(self, caller: CallerDep, backoffice: OfficeDep, date_from: FromQuery[date],
                  date_to: FromQuery[date], page: Page = 1, page_size: PageSize = 50,
                  after: After = None) -> dict[str, Any]:
        caller.require(Permission.VIEW_HISTORY)
        query_day(date_from, "date_from")
        query_day(date_to, "date_to")
        if date_from > date_to:
            raise InvalidValueError("date_from is after date_to.", field="date_from")
        fresh(backoffice, "audit_events", after)
        with backoffice.read() as cur:
            items, total = audit.rollbacks_and_swaps(cur, caller.scope, date_from, date_to, page, page_size)
        return {"items": items, "total": total, "page": page, "page_size": page_size}


AUDIT_CONTROLLERS = [AuditController]
