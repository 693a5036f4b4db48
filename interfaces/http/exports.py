"""Every read table as CSV, for people who work in spreadsheets: the rows the caller may see
(their companies' rows, a salesperson's own; tables without a company column only for a
caller whose positions cover the whole group)."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Response, Router, get
from litestar.params import FromPath

from application.reading import Reads, ScopeRule
from domain.access import Permission
from domain.base import PermissionDeniedError
from interfaces.http.kit import After, CallerDep, OfficeDep, csv_response
from projections.base import visible_filter
from projections.catalogue import ALL_PROJECTIONS

TABLES: dict[str, str] = {table: p.name for p in ALL_PROJECTIONS for table in p.tables}
Table = Literal[tuple(sorted(TABLES))]  # type: ignore[valid-type]


def _rows_of(cur: Any, caller: Any, table: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The table's rows the caller may see, in the order of its columns."""
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
    return cur.fetchall()


@get("/{table:str}", operation_id="ExportReadTable", sync_to_thread=True, media_type="text/csv",
     summary="One read table as CSV, as docs/read-models.md describes it, limited to what you may see")
def export_read_table(table: FromPath[Table], caller: CallerDep, backoffice: OfficeDep,
                      after: After = None) -> Response[str]:
    # The read model answering depends on the table asked for: its Reads is made here, not declared.
    read = backoffice.read_side.reader(caller, Reads(TABLES[table], Permission.VIEW_HISTORY, ScopeRule.COMPANIES),
                                       after)
    columns = backoffice.views.columns(table)
    with read.cursor() as cur:
        rows = _rows_of(cur, caller, table, columns)
    return csv_response(columns, rows, f"{table}.csv")


EXPORT_CONTROLLERS: list[Any] = [Router("/exports", tags=["audit"], route_handlers=[export_read_table])]
