"""Every read table as CSV, for people who work in spreadsheets: the rows the caller may see
(their companies' rows, a salesperson's own; tables without a company column only for a
caller whose positions cover the whole group)."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, Response, get
from litestar.params import FromPath

from domain.access import Permission
from domain.base import PermissionDeniedError
from interfaces.http.controllers import After, CallerDep, OfficeDep, csv_response, fresh
from projections.base import visible_filter
from projections.catalogue import ALL_PROJECTIONS

TABLES: dict[str, str] = {table: p.name for p in ALL_PROJECTIONS for table in p.tables}
Table = Literal[tuple(sorted(TABLES))]  # type: ignore[valid-type]


class ExportController(Controller):
    path = "/exports"
    tags = ["audit"]

    @get("/{table:str}", operation_id="ExportReadTable", sync_to_thread=True, media_type="text/csv",
         summary="One read table as CSV, as docs/read-models.md describes it, limited to what you may see")
    def export(self, table: FromPath[Table], caller: CallerDep, backoffice: OfficeDep,
               after: After = None) -> Response[str]:
        caller.require(Permission.VIEW_HISTORY)
        fresh(backoffice, TABLES[table], after)
        columns = backoffice.views.columns(table)
        with backoffice.read() as cur:
            if "company_id" in columns:
                where, params = visible_filter(caller.scope, "company_id",
                                               "owner_id" if "owner_id" in columns else None, caller.own_only)
                # Group-wide rows (no company) only for a caller who sees the whole group.
                if caller.scope.all_companies:
                    where = f"({where} OR company_id IS NULL)"
            elif caller.scope.all_companies:
                where, params = "1 = 1", []
            else:
                raise PermissionDeniedError(f"The {table} table belongs to the whole group; it is exported for "
                                            "someone whose positions cover the whole group.")
            order = ", ".join(str(n) for n in range(1, len(columns) + 1))
            cur.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", params)
            rows: list[dict[str, Any]] = cur.fetchall()
        return csv_response(columns, rows, f"{table}.csv")


EXPORT_CONTROLLERS = [ExportController]
