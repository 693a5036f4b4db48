"""Every read table as CSV (ExportReadTable): each caller gets exactly the rows their scope
grants, group-wide tables only for whole-group callers, salespeople nothing."""

from __future__ import annotations

import csv
import io

import pytest

from interfaces.http.exports import TABLES
from tests.e2e.conftest import assert_problem


def rows(answer) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_the_auditor_exports_every_read_table(demo_server):
    with demo_server.as_user("auditor") as auditor:
        for table in sorted(TABLES):
            answer = auditor.get(f"/exports/{table}")
            assert answer.status_code == 200, (table, answer.text)
        stock = rows(auditor.get("/exports/machine_stock"))
        listed = auditor.get("/machines", params={"page_size": 500}).json()
    assert {r["serial_number"] for r in stock} == {m["serial_number"] for m in listed["items"]}


def test_a_one_company_user_gets_only_that_companys_rows(demo_server, demo):
    chuzhou = demo["companies"]["CZ"]
    with demo_server.as_user("keeper.cz") as keeper, demo_server.as_user("auditor") as auditor:
        mine = rows(keeper.get("/exports/machine_stock"))
        everything = rows(auditor.get("/exports/machine_stock"))
        assert mine and {r["company_id"] for r in mine} == {chuzhou}
        assert len(mine) == sum(1 for r in everything if r["company_id"] == chuzhou) < len(everything)
        events = rows(keeper.get("/exports/audit_events"))
        assert events and {r["company_id"] for r in events} == {chuzhou}
        # Group-wide tables (no company column) are not theirs to export.
        for table in ("event_chain", "access_users", "org_machine_models"):
            assert_problem(keeper.get(f"/exports/{table}"), 403, "forbidden", table)


@pytest.mark.parametrize("table", ["machine_stock", "contracts", "receivables", "coupons"])
def test_a_salesperson_exports_nothing(demo_server, table):
    with demo_server.as_user("sales.wang") as wang:
        assert_problem(wang.get(f"/exports/{table}"), 403, "forbidden")


def test_an_unknown_table_is_a_clear_400(demo_server):
    with demo_server.as_user("auditor") as auditor:
        problem = assert_problem(auditor.get("/exports/stored_events"), 400)
        assert "table" in problem["detail"]
