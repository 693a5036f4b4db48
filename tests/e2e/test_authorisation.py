"""Roles (what a user may do) and positions (which companies' data they see), over HTTP.

Demo users (interfaces/demo.py): keeper.hf sees Hefei, keeper.cz Chuzhou,
risk.manager Chuzhou + Chizhou, auditor the whole group; sales.wang may only
read, tech.zhou may not even read stock.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import assert_problem, nothing_recorded, unique

ALL = ("HF", "CZ", "CHZ")


def _serial_of(demo: dict[str, Any], company_code: str, n: int = 0) -> str:
    return [m["serial_number"] for m in demo["machines"] if m["company_code"] == company_code][n]


# ------------------------------------------------------------------ 403: the role does not allow it
def _forbidden_cases(demo: dict[str, Any]) -> list[tuple[str, str, str, dict | None]]:
    hf_main, cz_main = demo["warehouses"][("HF", "MAIN")], demo["warehouses"][("CZ", "MAIN")]
    receive = {"serial_number": unique(), "model_id": demo["models"]["SY215C"], "warehouse_id": hf_main,
               "nature": "purchased_sample"}
    hf_serial = _serial_of(demo, "HF")
    transfer = {"to_warehouse_id": cz_main, "reason": "not allowed to"}
    return [
        ("sales.wang", "POST", "/companies", {"code": unique("C"), "name": "Not allowed"}),
        ("sales.wang", "POST", "/warehouses", {"company_id": demo["companies"]["HF"], "code": unique("W"),
                                               "name": "Not allowed"}),
        ("sales.wang", "POST", "/machine-models", {"code": unique("M"), "name": "Not allowed",
                                                   "machine_type": "crane"}),
        ("sales.wang", "POST", "/machines/receive", receive),
        ("sales.wang", "POST", f"/machines/{hf_serial}/transfer", transfer),
        ("sales.wang", "GET", f"/machines/{hf_serial}/history", None),
        ("sales.wang", "POST", "/users", {"username": unique("x").lower(), "display_name": "No",
                                          "password": "not-allowed-1", "roles": ["administrator"]}),
        ("sales.wang", "GET", "/users", None),
        ("sales.wang", "GET", "/positions", None),
        ("sales.wang", "POST", "/positions", {"name": unique("P"), "all_companies": True}),
        ("risk.manager", "POST", "/machines/receive", receive),
        ("risk.manager", "POST", f"/machines/{hf_serial}/transfer", transfer),
        ("keeper.hf", "POST", "/companies", {"code": unique("C"), "name": "Not allowed"}),
        ("keeper.hf", "POST", "/users", {"username": unique("x").lower(), "display_name": "No",
                                         "password": "not-allowed-1"}),
        ("tech.zhou", "GET", "/machines", None),
        ("tech.zhou", "GET", "/machines/counts", None),
        ("tech.zhou", "GET", "/machines/export", None),
        ("tech.zhou", "GET", f"/machines/{hf_serial}", None),
    ]


def test_a_role_that_may_not_is_refused_with_403_and_nothing_is_recorded(demo_server, demo):
    with demo_server.as_admin() as admin:
        stock_before = admin.get("/machines/counts", params={"group_by": ""}).json()["total"]
        companies_before = admin.get("/companies").json()["total"]
    cases = _forbidden_cases(demo)
    for username, method, url, body in cases:
        with nothing_recorded(demo_server), demo_server.as_user(username) as user:
            answer = user.request(method, url, json=body)
            problem = assert_problem(answer, 403, "forbidden", f"{username} {method} {url}")
            assert problem.get("permission"), problem
    with demo_server.as_admin() as admin:
        assert admin.get("/machines/counts", params={"group_by": ""}).json()["total"] == stock_before
        assert admin.get("/companies").json()["total"] == companies_before
        serial = next(c[3]["serial_number"] for c in cases if c[2] == "/machines/receive")
        assert_problem(admin.get(f"/machines/{serial}"), 404, "machine-unit-not-found")


def test_a_revoked_role_or_position_takes_effect_on_the_next_request(demo_server, demo):
    username = unique("keeper.").lower()
    with demo_server.as_admin() as admin:
        hefei = next(p["position_id"] for p in admin.get("/positions").json()["items"] if p["name"] == "Hefei")
        created = admin.post("/users", json={"username": username, "display_name": "Temporary keeper",
                                             "password": "keeper-pass-1", "roles": ["warehouse_keeper"],
                                             "position_ids": [hefei]})
        assert created.status_code == 201, created.text
        user_id = created.json()["user_id"]
    hf_main = demo["warehouses"][("HF", "MAIN")]
    with demo_server.as_user(username, "keeper-pass-1") as keeper, demo_server.as_admin() as admin:
        serial = unique()
        received = keeper.post("/machines/receive", json={"serial_number": serial, "model_id": demo["models"]["XE60"],
                                                          "warehouse_id": hf_main, "nature": "trade_in"})
        assert received.status_code == 201, received.text
        assert admin.post(f"/users/{user_id}/revoke-role", json={"role": "warehouse_keeper"}).status_code == 200
        with nothing_recorded(demo_server):
            assert_problem(keeper.post("/machines/receive", json={
                "serial_number": unique(), "model_id": demo["models"]["XE60"], "warehouse_id": hf_main,
                "nature": "trade_in"}), 403, "forbidden")
            assert_problem(keeper.get("/machines"), 403, "forbidden")
        assert admin.post(f"/users/{user_id}/grant-role", json={"role": "salesperson"}).status_code == 200
        position = admin.post(f"/users/{user_id}/unassign-position", json={"position_id": hefei})
        assert position.status_code == 200
        after = position.json()["position"]
        listing = keeper.get("/machines", params={"after": after}).json()
        assert listing["total"] == 0 and listing["items"] == []
        assert_problem(keeper.get(f"/machines/{serial}"), 404, "machine-unit-not-found")
        assert keeper.get("/companies").json()["items"] == []


# ------------------------------------------------------------------ data scope
@pytest.mark.parametrize("username,sees", [("keeper.hf", {"HF"}), ("keeper.cz", {"CZ"}),
                                           ("risk.manager", {"CZ", "CHZ"}), ("auditor", set(ALL))])
def test_lists_counts_and_export_show_only_the_callers_companies(demo_server, demo, username, sees):
    companies = demo["companies"]
    code_of = {v: k for k, v in companies.items()}
    outside = [c for c in ALL if c not in sees]
    with demo_server.as_admin() as admin:
        everything = admin.get("/machines", params={"page_size": 500}).json()
        all_warehouses = admin.get("/warehouses").json()["items"]
        all_models = admin.get("/machine-models").json()["items"]
    assert everything["total"] == len(everything["items"])
    mine = {m["serial_number"] for m in everything["items"] if m["company_code"] in sees}
    assert mine and (outside == [] or len(mine) < everything["total"])

    with demo_server.as_user(username) as user:
        # ListMachineStock, paged: the union of pages is exactly the machines of my companies.
        seen: list[dict] = []
        page = 1
        while True:
            answer = user.get("/machines", params={"page": page, "page_size": 7})
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["total"] == len(mine)
            seen += body["items"]
            if not body["items"]:
                break
            page += 1
        assert {m["serial_number"] for m in seen} == mine and len(seen) == len(mine)
        assert {m["company_code"] for m in seen} <= sees

        # CountMachineStock, any grouping: my companies only, totals match.
        by_company = user.get("/machines/counts", params={"group_by": "company"}).json()
        assert {code_of[str(r["company"])] for r in by_company["rows"]} == sees
        assert by_company["total"] == len(mine)
        expected = Counter(m["company_code"] for m in everything["items"] if m["company_code"] in sees)
        assert {code_of[str(r["company"])]: r["machines"] for r in by_company["rows"]} == dict(expected)
        for group_by in ("", "warehouse,status", "model,nature"):
            counted = user.get("/machines/counts", params={"group_by": group_by}).json()
            assert counted["total"] == len(mine), group_by

        # ExportMachineStock (CSV): the same machines, nobody else's.
        export = user.get("/machines/export")
        assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert {r["serial_number"] for r in rows} == mine and len(rows) == len(mine)
        assert {r["company_code"] for r in rows} <= sees

        # Filtering on a company outside the scope gives nothing (not an error, not their data).
        for code in outside:
            params = {"company_id": companies[code]}
            assert user.get("/machines", params=params).json() == {"items": [], "total": 0, "page": 1,
                                                                  "page_size": 50}
            assert user.get("/machines/counts", params=params).json()["total"] == 0
            assert list(csv.DictReader(io.StringIO(user.get("/machines/export", params=params).text))) == []
            assert user.get("/warehouses", params=params).json()["items"] == []
            serial = _serial_of(demo, code)
            assert user.get("/machines", params={"serial": serial}).json()["total"] == 0

        # Organisation lists: my companies and their warehouses; models are group-wide.
        listed = user.get("/companies").json()
        assert {c["code"] for c in listed["items"]} == sees and listed["total"] == len(sees)
        warehouses = user.get("/warehouses").json()["items"]
        assert sorted(w["warehouse_id"] for w in warehouses) == sorted(
            w["warehouse_id"] for w in all_warehouses if w["company_code"] in sees)
        assert user.get("/machine-models").json()["items"] == all_models


def test_another_companys_machine_is_not_found_for_get_history_and_transfer(demo_server, demo):
    """keeper.hf sees Hefei only: a Chuzhou machine answers exactly like a serial that does not exist."""
    cz_serial, hf_serial = _serial_of(demo, "CZ"), _serial_of(demo, "HF")
    hf_main, cz_main = demo["warehouses"][("HF", "MAIN")], demo["warehouses"][("CZ", "MAIN")]
    with demo_server.as_user("keeper.hf") as keeper, demo_server.as_admin() as admin:
        # Controls: the same calls work on a Hefei machine, and for the administrator on the Chuzhou one.
        assert keeper.get(f"/machines/{hf_serial}").status_code == 200
        assert keeper.get(f"/machines/{hf_serial}/history").status_code == 200
        assert admin.get(f"/machines/{cz_serial}").json()["company_code"] == "CZ"

        with nothing_recorded(demo_server):
            for url in (f"/machines/{cz_serial}", f"/machines/{cz_serial}/history"):
                hidden = assert_problem(keeper.get(url), 404, "machine-unit-not-found", url)
                missing = assert_problem(keeper.get(url.replace(cz_serial, "NOSUCH1")), 404,
                                         "machine-unit-not-found", url)
                assert hidden["detail"].replace(cz_serial, "X") == missing["detail"].replace("NOSUCH1", "X")
                assert set(hidden) == set(missing)
            assert_problem(keeper.post(f"/machines/{cz_serial}/transfer",
                                       json={"to_warehouse_id": hf_main, "reason": "grab it"}),
                           404, "machine-unit-not-found")
            # Nor may they send a Hefei machine into a Chuzhou warehouse, or receive there.
            assert_problem(keeper.post(f"/machines/{hf_serial}/transfer",
                                       json={"to_warehouse_id": cz_main, "reason": "push it"}),
                           404, "warehouse-not-found")
            assert_problem(keeper.post("/machines/receive", json={
                "serial_number": unique(), "model_id": demo["models"]["LG855"], "warehouse_id": cz_main,
                "nature": "trade_in"}), 404, "warehouse-not-found")
        assert admin.get(f"/machines/{cz_serial}").json()["warehouse_id"] == cz_main
        assert admin.get(f"/machines/{hf_serial}").json()["warehouse_id"] == hf_main


def test_a_machine_moved_to_another_company_changes_who_sees_it(demo_server, demo):
    serial = unique()
    with demo_server.as_user("keeper.hf") as hf, demo_server.as_user("keeper.cz") as cz, \
            demo_server.as_admin() as admin:
        received = hf.post("/machines/receive", json={"serial_number": serial, "model_id": demo["models"]["SY215C"],
                                                      "warehouse_id": demo["warehouses"][("HF", "MAIN")],
                                                      "nature": "purchased_sample"})
        assert received.status_code == 201
        p = received.json()["position"]
        assert hf.get(f"/machines/{serial}", params={"after": p}).status_code == 200
        assert_problem(cz.get(f"/machines/{serial}", params={"after": p}), 404, "machine-unit-not-found")
        moved = admin.post(f"/machines/{serial}/transfer", json={"to_warehouse_id": demo["warehouses"][("CZ", "MAIN")],
                                                                 "reason": "sold to a Chuzhou customer"})
        assert moved.status_code == 200, moved.text
        p = moved.json()["position"]
        assert cz.get(f"/machines/{serial}", params={"after": p}).json()["company_code"] == "CZ"
        assert cz.get("/machines", params={"serial": serial, "after": p}).json()["total"] == 1
        assert_problem(hf.get(f"/machines/{serial}", params={"after": p}), 404, "machine-unit-not-found")
        assert hf.get("/machines", params={"serial": serial, "after": p}).json()["total"] == 0
        assert serial not in hf.get("/machines/export", params={"after": p}).text
        assert_problem(hf.get(f"/machines/{serial}/history"), 404, "machine-unit-not-found")
        # The new owner sees the whole story, the Hefei receipt included.
        events = cz.get(f"/machines/{serial}/history").json()["events"]
        assert [(e["event"], e["actor"]) for e in events] == [("MachineUnit.Received", "keeper.hf"),
                                                              ("MachineUnit.Transferred", "admin")]


def test_user_and_position_lists_are_for_user_managers_only(demo_server):
    with demo_server.as_admin() as admin:
        users = admin.get("/users").json()
        positions = admin.get("/positions").json()
    assert {"admin", "keeper.hf", "risk.manager"} <= {u["username"] for u in users["items"]}
    assert users["total"] == len(users["items"])
    assert {"Hefei", "Whole group", "Risk Chuzhou+Chizhou"} <= {p["name"] for p in positions["items"]}
    for username in ("keeper.hf", "auditor", "risk.manager"):
        with demo_server.as_user(username) as user:
            assert_problem(user.get("/users"), 403, "forbidden")
            assert_problem(user.get("/positions"), 403, "forbidden")
