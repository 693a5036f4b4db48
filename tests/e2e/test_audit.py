"""Auditors over HTTP: they read the whole group, its history and its past, and record nothing.

- An auditor and nothing else is refused every command of the served OpenAPI document
  (403 ``read-only``, before the body is read, nothing recorded) but their own password
  change; sign-in is public. Their positions do not narrow what they read.
- Someone who holds the auditor role and another one is an ordinary user: they command
  what the other role allows and read what their positions cover.
- GetHistory, GetStateAsOf, GetCommandTrail and ListRollbacksAndSwaps on the demo
  (interfaces/demo.py): the approved scenario contract, its swap of SY215C-0007 for
  SY215C-0011 by clerk.chen ("Hydraulic fault on delivery"), its receivable, coupons,
  customers and users; scoped like every read.

The demo server is shared with other tests: they may add events to demo objects later
(pick SY215C-0007 again, record receipts), so the demo's facts are checked as the first
events of each object and its swap is told apart by its reason.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from interfaces.demo import DEMO_PASSWORD
from tests.e2e.conftest import PROBLEM, Server, assert_problem, every, nothing_recorded, ok, unique
from tests.e2e.test_authentication import (DEMO_SWAP, DOCUMENT, REQUIRED_QUERY, _request_for,
                                            demo_swap_command_id, sweep_values)

COMMANDS = sorted((op["operationId"], method.upper(), path)
                  for path, item in DOCUMENT["paths"].items() for method, op in item.items() if method != "get")
# What an auditor may still send: sign-in (public) and their own password change.
AUDITOR_MAY = {"Login", "ChangePassword"}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ------------------------------------------------------------------ helpers and fixtures
@pytest.fixture(scope="session")
def sweep_ids(demo_server: Server, demo: dict[str, Any]) -> dict[str, Any]:
    """Real demo ids for the paths of the sweep (as test_authentication.py sweeps them)."""
    return sweep_values(demo_server, demo)


@pytest.fixture(scope="session")
def swap(demo_server: Server) -> dict[str, Any]:
    """The demo's swap as ListRollbacksAndSwaps lists it, with the ids around it."""
    command_id = demo_swap_command_id(demo_server)
    with demo_server.as_user("auditor") as auditor:
        listed = every(auditor, "/audit/rollbacks", 0, **REQUIRED_QUERY)
        [item] = [i for i in listed if i["command_id"] == command_id]
        old = ok(auditor.get(f"/machines/{DEMO_SWAP['old_serial']}"))
        new = ok(auditor.get(f"/machines/{DEMO_SWAP['new_serial']}"))
    return {**item, "old_machine_id": old["machine_id"], "new_machine_id": new["machine_id"]}


@pytest.fixture(scope="session")
def positions(demo_server: Server) -> dict[str, str]:
    with demo_server.as_admin() as admin:
        return {p["name"]: p["position_id"] for p in ok(admin.get("/positions"))["items"]}


@pytest.fixture(scope="session")
def user_ids(demo_server: Server) -> dict[str, str]:
    """Demo users by name (ListUsers is the administrator's: an auditor may not list users)."""
    with demo_server.as_admin() as admin:
        return {u["username"]: u["user_id"] for u in every(admin, "/users", 0)}


def new_user(server: Server, roles: list[str], position_ids: list[str], prefix: str = "aud.") -> dict[str, Any]:
    """A user of this test only, made by the administrator; with its password and position."""
    username, password = unique(prefix).lower(), "audit-pass-" + uuid.uuid4().hex[:8]
    with server.as_admin() as admin:
        created = ok(admin.post("/users", json={"username": username, "display_name": f"Audit test {username}",
                                                "password": password, "roles": roles,
                                                "position_ids": position_ids}), 201)
    return {**created, "password": password}


def serials_of(demo: dict[str, Any], company_code: str) -> list[str]:
    return [m["serial_number"] for m in demo["machines"] if m["company_code"] == company_code]


def is_problem(answer: httpx.Response) -> bool:
    return answer.headers.get("content-type", "").split(";")[0].strip() == PROBLEM


def assert_described(event: dict[str, Any]) -> None:
    """What every described event tells an auditor: what, when, who, under which command, why."""
    assert isinstance(event["version"], int) and event["version"] >= 1, event
    assert event["event"] and "." in event["event"], event
    assert DATE_RE.match(event["business_date"]), event
    assert datetime.fromisoformat(event["recorded_at"]).tzinfo is not None, event
    assert UUID_RE.match(event["actor_id"]) and event["actor"], event
    assert UUID_RE.match(event["command_id"]), event
    assert "reason" in event and isinstance(event["data"], dict), event


def history(client: httpx.Client, kind: str, key: str) -> dict[str, Any]:
    body = ok(client.get(f"/audit/{kind}/{key}/history"))
    assert body["kind"] == kind and body["key"] == key, body
    events = body["events"]
    assert events, body
    assert [e["version"] for e in events] == list(range(1, len(events) + 1)), "events out of order"
    assert body["version"] == len(events)
    for event in events:
        assert_described(event)
    recorded = [datetime.fromisoformat(e["recorded_at"]) for e in events]
    assert recorded == sorted(recorded), "recorded times out of order"
    return body


def state(client: httpx.Client, kind: str, key: str, **params: Any) -> dict[str, Any]:
    body = ok(client.get(f"/audit/{kind}/{key}/state", params=params))
    assert body["kind"] == kind and body["key"] == key and 1 <= body["version"] <= body["latest_version"], body
    return body


def no_secret_in(text: str) -> None:
    assert "argon2" not in text and "password_hash" not in text, text[:2000]


# ------------------------------------------------------------------ an auditor commands nothing
def test_the_sweep_covers_every_command_of_the_served_document(demo_server):
    served = ok(httpx.get(demo_server.url + "/docs/openapi.json", timeout=30))
    served_commands = sorted((op["operationId"], method.upper(), path)
                             for path, item in served["paths"].items() for method, op in item.items()
                             if method != "get")
    assert served_commands == COMMANDS
    assert len(COMMANDS) >= 50 and AUDITOR_MAY <= {o[0] for o in COMMANDS}
    assert {"ReceiveMachine", "SwapMachine", "UnapproveContract", "RecordReceipt", "IssueCoupon", "CreateUser",
            "GrantRole", "DecideApplication", "AccruePenalties"} <= {o[0] for o in COMMANDS}


@pytest.mark.parametrize("operation_id,method,path", COMMANDS, ids=[o[0] for o in COMMANDS])
def test_an_auditor_can_issue_no_command(demo_server, sweep_ids, operation_id, method, path):
    """Every command is refused with 403 read-only, with an empty body as with one that a
    permitted caller would see accepted (real demo ids in the path), and nothing is recorded."""
    url, body = _request_for(operation_id, method, path, sweep_ids)
    if operation_id == "Login":
        body = {"username": "auditor", "password": DEMO_PASSWORD}
    with nothing_recorded(demo_server), demo_server.as_user("auditor") as auditor:
        for what, payload in (("empty body", {}), ("plausible body", body)):
            answer = auditor.request(method, url, json=payload)
            context = f"{operation_id} {method} {url} with an {what}"
            if operation_id == "Login":         # public: the token sent along changes nothing
                if what == "empty body":
                    assert_problem(answer, 400, "invalid-request", context)
                else:
                    assert answer.status_code == 200 and answer.json()["access_token"], context
            elif operation_id == "ChangePassword":
                # Not refused as read-only: the body is read and checked (the shared auditor's
                # password is not changed here; see the test of a private auditor below).
                if what == "empty body":
                    assert_problem(answer, 400, "invalid-request", context)
                else:
                    assert_problem(answer, 422, "invalid-credentials", context)
            else:
                problem = assert_problem(answer, 403, "read-only", context)
                assert "auditor" in problem["detail"], problem


def test_an_auditor_refused_a_command_learns_nothing_about_its_body(demo_server, demo):
    with nothing_recorded(demo_server), demo_server.as_user("auditor") as auditor:
        for content in (b"{not json", b"", b"[]", "\u5408\u80a5".encode("gb18030")):
            answer = auditor.post("/machines/receive", content=content, headers={"Content-Type": "application/json"})
            assert_problem(answer, 403, "read-only", content)
        # Also with an Idempotency-Key: no command record is kept for a refusal.
        key = unique("idem-")
        for _ in range(2):
            answer = auditor.post("/companies", json={"code": unique("C"), "name": "Not by an auditor"},
                                  headers={"Idempotency-Key": key})
            assert_problem(answer, 403, "read-only")


def test_an_auditor_changes_their_own_password_and_stays_read_only(demo_server, demo):
    """A private auditor (the demo's ``auditor`` keeps its password for the other tests)."""
    user = new_user(demo_server, ["auditor"], [])
    old_token = demo_server.login(user["username"], user["password"])
    with demo_server.client(old_token) as old:
        changed = ok(old.post("/auth/change-password", json={"current_password": user["password"],
                                                              "new_password": "audit-changed-2"}))
        assert isinstance(changed["position"], int)
        assert_problem(old.get("/auth/me"), 401, "unauthenticated")
    assert_problem(httpx.post(demo_server.url + "/auth/login", json={"username": user["username"],
                                                                      "password": user["password"]}),
                   401, "invalid-credentials")
    with demo_server.as_user(user["username"], "audit-changed-2") as auditor:
        me = ok(auditor.get("/auth/me"))
        assert me["all_companies"] is True and "view_history" in me["permissions"]
        with nothing_recorded(demo_server):
            assert_problem(auditor.post("/machines/receive", json={
                "serial_number": unique(), "model_id": demo["models"]["SY215C"],
                "warehouse_id": demo["warehouses"][("HF", "MAIN")], "nature": "trade_in"}), 403, "read-only")
        # The change is in their own history, by them, and no password hash is shown anywhere.
        mine = history(auditor, "user", user["user_id"])
        assert [e["event"] for e in mine["events"]] == ["User.Created", "User.RoleGranted", "User.PasswordChanged"]
        assert [e["actor"] for e in mine["events"]] == ["admin", "admin", user["username"]]
        assert mine["events"][1]["data"] == {"role": "auditor"}
        assert mine["events"][2]["data"] == {}
        no_secret_in(str(mine))
        no_secret_in(str(state(auditor, "user", user["user_id"], version=1)))
        trail = ok(auditor.get(f"/audit/commands/{mine['events'][2]['command_id']}",
                               params={"after": changed["position"]}))
        assert [e["event"] for e in trail["events"]] == ["User.PasswordChanged"]
        assert trail["events"][0]["actor"] == user["username"]
        no_secret_in(str(trail))


def test_an_auditor_whose_position_covers_only_chuzhou_reads_the_whole_group_and_commands_nothing(
        demo_server, demo, positions, swap):
    user = new_user(demo_server, ["auditor"], [positions["Chuzhou"]])
    after = user["position"]
    hf_serial = serials_of(demo, "HF")[0]
    with demo_server.as_admin() as admin:
        all_receivables = {r["contract_id"] for r in every(admin, "/receivables", after)}
        all_machines = {m["serial_number"] for m in every(admin, "/machines", after)}
        all_contracts = {c["contract_id"] for c in every(admin, "/contracts", after)}
    with demo_server.as_user(user["username"], user["password"]) as auditor:
        me = ok(auditor.get("/auth/me"))
        assert me["all_companies"] is True, me
        receivables = every(auditor, "/receivables", after)
        assert {r["company_code"] for r in receivables} >= {"HF"}
        assert {r["contract_id"] for r in receivables} >= all_receivables
        ok(auditor.get(f"/receivables/{swap['contract_id']}"))
        machines = every(auditor, "/machines", after)
        assert {m["serial_number"] for m in machines} >= all_machines
        assert {m["company_code"] for m in machines} >= {"HF", "CZ", "CHZ"}
        assert ok(auditor.get(f"/machines/{hf_serial}"))["company_code"] == "HF"
        contracts = every(auditor, "/contracts", after)
        assert {c["contract_id"] for c in contracts} >= all_contracts
        assert ok(auditor.get(f"/contracts/{swap['contract_id']}"))["company_code"] == "HF"
        history(auditor, "machine", DEMO_SWAP["old_serial"])
        assert swap["command_id"] in {i["command_id"] for i in every(auditor, "/audit/rollbacks", after,
                                                                     **REQUIRED_QUERY)}
        with nothing_recorded(demo_server):
            for method, url, body in (
                    ("POST", "/machines/receive", {"serial_number": unique(), "model_id": demo["models"]["XE60"],
                                                   "warehouse_id": demo["warehouses"][("CZ", "MAIN")],
                                                   "nature": "trade_in"}),
                    ("POST", f"/machines/{serials_of(demo, 'CZ')[0]}/transfer",
                     {"to_warehouse_id": demo["warehouses"][("CHZ", "MAIN")], "reason": "not by an auditor"}),
                    ("POST", f"/receivables/{swap['contract_id']}/receipts", {}),
                    ("POST", "/customers", {})):
                assert_problem(auditor.request(method, url, json=body), 403, "read-only", url)


def test_an_auditor_who_also_holds_another_role_is_not_read_only(demo_server, demo, positions, swap):
    """auditor + sales_clerk on the Hefei position: commands follow the clerk's role, reads the
    position (no group-wide reading); once the other role is revoked, read-only again."""
    user = new_user(demo_server, ["auditor", "sales_clerk"], [positions["Hefei"]], prefix="mix.")
    hf, cz = demo["companies"]["HF"], demo["companies"]["CZ"]
    cz_serial = serials_of(demo, "CZ")[0]
    with demo_server.as_user(user["username"], user["password"]) as mixed:
        me = ok(mixed.get("/auth/me"))
        assert me["all_companies"] is False and me["company_ids"] == [hf], me
        # Commands: what a sales clerk may, in Hefei.
        serial = unique("AUD")
        received = ok(mixed.post("/machines/receive", json={
            "serial_number": serial, "model_id": demo["models"]["XE60"],
            "warehouse_id": demo["warehouses"][("HF", "MAIN")], "nature": "trade_in"}), 201)
        after = received["position"]
        with nothing_recorded(demo_server):
            outside = mixed.post("/machines/receive", json={
                "serial_number": unique("AUD"), "model_id": demo["models"]["XE60"],
                "warehouse_id": demo["warehouses"][("CZ", "MAIN")], "nature": "trade_in"})
            assert outside.status_code == 404 and is_problem(outside), outside.text
            # Not the clerk's: refused for the role, not as read-only.
            assert_problem(mixed.post("/companies", json={"code": unique("C"), "name": "Not a clerk's"}),
                           403, "forbidden")
            assert_problem(mixed.post(f"/machines/{serial}/transfer", json={
                "to_warehouse_id": demo["warehouses"][("HF", "PARTS")], "reason": "not a clerk's"}),
                403, "forbidden")
        # Reads: Hefei only.
        machines = every(mixed, "/machines", after)
        assert {m["company_code"] for m in machines} == {"HF"} and serial in {m["serial_number"] for m in machines}
        assert_problem(mixed.get(f"/machines/{cz_serial}"), 404, "machine-unit-not-found")
        assert {c["company_id"] for c in every(mixed, "/contracts", after)} <= {hf}
        assert {r["company_id"] for r in every(mixed, "/receivables", after)} <= {hf}
        assert_problem(mixed.get(f"/audit/machine/{cz_serial}/history"), 404, "not-found")
        assert_problem(mixed.get(f"/audit/machine/{cz_serial}/state"), 404, "not-found")
        assert_problem(mixed.get(f"/audit/user/{user['user_id']}/history"), 404, "not-found")  # group-wide
        mine = history(mixed, "machine", serial)
        assert [(e["event"], e["actor"]) for e in mine["events"]] == [("MachineUnit.Received", user["username"])]
        assert mine["events"][0]["command_id"]
        ok(mixed.get(f"/audit/machine/{DEMO_SWAP['old_serial']}/history"))
        rollbacks = every(mixed, "/audit/rollbacks", after, **REQUIRED_QUERY)
        assert swap["command_id"] in {i["command_id"] for i in rollbacks}
        assert cz not in {i["company_id"] for i in rollbacks}
    with demo_server.as_admin() as admin:
        revoked = ok(admin.post(f"/users/{user['user_id']}/revoke-role", json={"role": "sales_clerk"}))
    with demo_server.as_user(user["username"], user["password"]) as auditor:
        assert ok(auditor.get("/auth/me"))["all_companies"] is True
        with nothing_recorded(demo_server):
            assert_problem(auditor.post("/machines/receive", json={
                "serial_number": unique("AUD"), "model_id": demo["models"]["XE60"],
                "warehouse_id": demo["warehouses"][("HF", "MAIN")], "nature": "trade_in"}), 403, "read-only")
        assert cz_serial in {m["serial_number"] for m in every(auditor, "/machines", revoked["position"])}


# ------------------------------------------------------------------ history
def test_the_history_of_a_contract_is_every_event_in_order_with_who_when_and_why(demo_server, swap):
    with demo_server.as_user("auditor") as auditor:
        body = history(auditor, "contract", swap["contract_id"])
    events = body["events"]
    assert body["aggregate_id"] == swap["contract_id"]
    demo_part = [(e["event"], e["actor"]) for e in events[:11]]
    assert demo_part == [
        ("Contract.Drafted", "sales.wang"), ("Contract.SubmittedToClerk", "sales.wang"),
        ("Contract.TermsCompleted", "clerk.chen"), ("Contract.SubmittedForApproval", "clerk.chen"),
        ("Contract.ApprovalStepPassed", "manager.zhao"), ("Contract.Approved", "finance.sun"),
        ("Contract.MachinePicked", "sales.wang"), ("Contract.AccessoryOutboundLineAdded", "clerk.chen"),
        ("Contract.OutboundReviewed", "finance.sun"), ("Contract.OutboundDispatched", "keeper.hf"),
        ("Contract.MachineSwapped", "clerk.chen")]
    swapped = events[10]
    assert swapped["reason"] == DEMO_SWAP["reason"] and swapped["command_id"] == swap["command_id"]
    assert swapped["business_date"] == swap["business_date"]
    assert swapped["data"]["old_serial"] == DEMO_SWAP["old_serial"]
    assert swapped["data"]["new_serial"] == DEMO_SWAP["new_serial"]
    assert all(e["reason"] is None for e in events[:10])
    assert all(e["company_id"] == swap["company_id"] for e in events)
    assert len({e["command_id"] for e in events[:11]}) == 11     # one command each


def test_the_history_of_a_machine_is_found_by_its_serial_number(demo_server, swap, user_ids):
    with demo_server.as_user("auditor") as auditor:
        body = history(auditor, "machine", DEMO_SWAP["old_serial"])
        new = history(auditor, "machine", DEMO_SWAP["new_serial"])
    assert body["aggregate_id"] == swap["old_machine_id"]
    events = body["events"]
    assert [(e["event"], e["actor"]) for e in events[:4]] == [
        ("MachineUnit.Received", "system"), ("MachineUnit.Reserved", "sales.wang"),
        ("MachineUnit.Dispatched", "keeper.hf"), ("MachineUnit.SwappedOut", "clerk.chen")]
    assert events[1]["actor_id"] == user_ids["sales.wang"]
    assert events[1]["data"]["contract_id"] == swap["contract_id"]
    assert events[3]["reason"] == DEMO_SWAP["reason"] and events[3]["command_id"] == swap["command_id"]
    assert events[3]["data"]["replaced_by_serial"] == DEMO_SWAP["new_serial"]
    swapped_in = [e for e in new["events"] if e["event"] == "MachineUnit.SwappedIn"]
    assert swapped_in[0]["command_id"] == swap["command_id"]
    assert swapped_in[0]["data"]["replaces_serial"] == DEMO_SWAP["old_serial"]


def test_the_history_of_a_receivable_keeps_the_business_dates_of_its_facts(demo_server, swap):
    with demo_server.as_user("auditor") as auditor:
        scenario = history(auditor, "receivable", swap["contract_id"])
        assert scenario["aggregate_id"] != swap["contract_id"]      # the debt's own id, found by the contract's
        assert scenario["events"][0]["event"] == "Debt.Opened"
        assert scenario["events"][0]["actor"] == "finance.sun"      # opened by the last approval
        assert scenario["events"][0]["data"]["contract_id"] == swap["contract_id"]
        # The overdue sale of the demo, replayed on its own dates (loaded when today is after 2026-04-20).
        overdue = [r for r in every(auditor, "/receivables", 0) if r["opened_on"] == "2025-12-15"]
        if not overdue:
            return
        events = history(auditor, "receivable", overdue[0]["contract_id"])["events"]
    assert events[0]["event"] == "Debt.Opened" and events[0]["business_date"] == "2025-12-15"
    assert events[0]["recorded_at"][:10] != "2025-12-15"            # recorded later than the business date
    receipts = [e for e in events if e["event"] == "Debt.ReceiptRecorded"]
    assert [e["business_date"] for e in receipts[:4]] == ["2025-12-15", "2026-01-31", "2026-02-28", "2026-04-18"]
    assert {e["actor"] for e in receipts} >= {"clerk.chen"}
    assert [e["data"]["value_date"] for e in receipts[:4]] == ["2025-12-15", "2026-01-31", "2026-02-28",
                                                                "2026-04-10"]
    assert any(e["event"] == "Debt.PenaltyAccrued" and e["actor"] == "system" for e in events)
    lock = [e for e in events if e["event"] == "Debt.ApplicationOpened"]
    assert lock and lock[0]["actor"] == "collector.zhang" and "overdue" in lock[0]["reason"]


def test_the_history_of_a_coupon_is_found_by_its_code(demo_server):
    with demo_server.as_user("auditor") as auditor:
        gift = history(auditor, "coupon", "GIFT-2026-001")["events"]
        promo = history(auditor, "coupon", "PROMO-2026-001")["events"]
    assert (gift[0]["event"], gift[0]["actor"]) == ("Coupon.Issued", "clerk.chen")
    assert gift[0]["reason"] == "Referred Feixi Quarry to us" and gift[0]["data"]["code"] == "GIFT-2026-001"
    assert (promo[0]["event"], promo[0]["actor"]) == ("Coupon.Issued", "finance.sun")
    assert promo[0]["data"]["face_value"] == "2000.00"


def test_the_history_of_a_customer(demo_server, demo):
    earthworks = next(c for c in demo["customers"] if c["name"] == "Hefei Earthworks Construction Co.")
    with demo_server.as_user("auditor") as auditor:
        events = history(auditor, "customer", earthworks["customer_id"])["events"]
    assert (events[0]["event"], events[0]["actor"]) == ("Customer.Registered", "sales.wang")
    assert events[0]["data"]["name"] == earthworks["name"]
    assert any(e["event"] == "Customer.Tagged" for e in events), [e["event"] for e in events]


def test_the_history_of_users_shows_grants_and_never_a_password_hash(demo_server, user_ids):
    with demo_server.as_user("auditor") as auditor:
        chen = history(auditor, "user", user_ids["clerk.chen"])["events"]
        assert [(e["event"], e["actor"]) for e in chen[:3]] == [
            ("User.Created", "system"), ("User.RoleGranted", "system"), ("User.PositionAssigned", "system")]
        assert chen[0]["data"] == {"username": "clerk.chen", "display_name": "Chen, sales clerk Hefei"}
        assert chen[1]["data"] == {"role": "sales_clerk"} and chen[2]["data"]["position_name"] == "Hefei"
        assert all(e["company_id"] is None for e in chen)
        for username, user_id in sorted(user_ids.items()):
            answer = auditor.get(f"/audit/user/{user_id}/history")
            assert answer.status_code == 200, (username, answer.text[:300])
            no_secret_in(answer.text)
            for event in answer.json()["events"]:
                assert not any("password" in k or "hash" in k for k in event["data"]), (username, event)
            no_secret_in(auditor.get(f"/audit/user/{user_id}/state").text)


def test_history_of_an_unknown_kind_is_400_and_of_an_unknown_key_404(demo_server, swap):
    with nothing_recorded(demo_server), demo_server.as_user("auditor") as auditor:
        for kind in ("bogus", "machines", "Contract"):
            for what in ("history", "state"):
                body = assert_problem(auditor.get(f"/audit/{kind}/{DEMO_SWAP['old_serial']}/{what}"), 400,
                                      "invalid-request", kind)
                assert "kind" in body["detail"]
        for kind, key in (("machine", "NO-SUCH-SERIAL-1"), ("contract", str(uuid.uuid4())),
                          ("contract", "not-a-uuid"), ("receivable", str(uuid.uuid4())),
                          ("coupon", "NO-SUCH-COUPON"), ("customer", str(uuid.uuid4())),
                          ("user", str(uuid.uuid4())), ("user", "admin"),
                          # a contract id is not a machine's serial, nor a machine a contract
                          ("machine", swap["contract_id"]), ("contract", swap["old_machine_id"])):
            for what in ("history", "state"):
                assert_problem(auditor.get(f"/audit/{kind}/{key}/{what}"), 404, "not-found", f"{kind} {key}")
        # A key no object can have.
        assert_problem(auditor.get("/audit/machine/bad!key/history"), 400, "invalid-request")
        # A contract not yet approved has no receivable.
        draft = next(c for c in every(auditor, "/contracts", 0) if c["status"] == "draft")
        ok(auditor.get(f"/audit/contract/{draft['contract_id']}/history"))
        assert_problem(auditor.get(f"/audit/receivable/{draft['contract_id']}/history"), 404, "not-found")


# ------------------------------------------------------------------ state as of
def test_the_scenario_contract_as_it_was_drafted_and_as_it_is(demo_server, swap):
    with demo_server.as_user("auditor") as auditor:
        events = history(auditor, "contract", swap["contract_id"])["events"]
        drafted = state(auditor, "contract", swap["contract_id"], version=1)
        by_time = state(auditor, "contract", swap["contract_id"], at=events[0]["recorded_at"])
        approved = state(auditor, "contract", swap["contract_id"], version=6)
        swapped = state(auditor, "contract", swap["contract_id"], version=11)
        now = state(auditor, "contract", swap["contract_id"])
    assert drafted["version"] == 1 and drafted["as_of_event"] == "Contract.Drafted"
    assert drafted["latest_version"] == now["version"] == now["latest_version"] >= 11
    assert drafted["business_date"] == events[0]["business_date"]
    assert by_time["version"] == 1 and by_time["state"] == drafted["state"]
    s = drafted["state"]
    assert s["status"] == "draft" and s["terms"] is None and s["swaps"] == 0 and s["picks"] == {}
    assert s["lines"][0]["model_code"] == "SY215C" and s["lines"][0]["unit_price"] == "380000.00"
    assert approved["as_of_event"] == "Contract.Approved" and approved["state"]["status"] == "approved"
    assert approved["state"]["terms"]["down_payment"] == "80000.00" and approved["state"]["picks"] == {}
    t = swapped["state"]
    assert swapped["as_of_event"] == "Contract.MachineSwapped" and t["swaps"] == 1
    assert set(t["picks"]) == {DEMO_SWAP["new_serial"]}
    assert t["outbounds"]["1"]["serials"] == [DEMO_SWAP["new_serial"]]
    assert now["state"]["status"] == "approved" and now["state"]["number"] == drafted["state"]["number"]


def test_the_swapped_out_machine_before_and_after_the_swap(demo_server, swap):
    old = DEMO_SWAP["old_serial"]
    with demo_server.as_user("auditor") as auditor:
        events = history(auditor, "machine", old)["events"]
        swapped_out = next(e for e in events if e["command_id"] == swap["command_id"])
        v = swapped_out["version"]
        reserved = state(auditor, "machine", old, version=v - 2)
        before = state(auditor, "machine", old, version=v - 1)
        after = state(auditor, "machine", old, version=v)
        # The same by time: at the instant the dispatch was recorded, and at that of the swap,
        # written at another offset (+08:00) than the one the history gives (UTC).
        dispatched_at = datetime.fromisoformat(events[v - 2]["recorded_at"])
        before_at = state(auditor, "machine", old,
                          at=dispatched_at.astimezone(timezone(timedelta(hours=8))).isoformat())
        between = state(auditor, "machine", old,
                        at=(dispatched_at + (datetime.fromisoformat(swapped_out["recorded_at"])
                            - dispatched_at) / 2).isoformat())
        after_at = state(auditor, "machine", old, at=swapped_out["recorded_at"])
        new_then = state(auditor, "machine", DEMO_SWAP["new_serial"], version=1)
    assert reserved["as_of_event"] == "MachineUnit.Reserved" and reserved["state"]["status"] == "reserved"
    assert reserved["state"]["contract_id"] == swap["contract_id"]
    assert before["as_of_event"] == "MachineUnit.Dispatched"
    assert before["state"]["status"] == "out" and before["state"]["contract_id"] == swap["contract_id"]
    assert after["as_of_event"] == "MachineUnit.SwappedOut"
    assert after["state"]["status"] == "in_stock" and after["state"]["contract_id"] is None
    assert after["business_date"] == swap["business_date"]
    assert before_at["version"] == v - 1 and before_at["state"] == before["state"]
    assert between["version"] == v - 1
    assert after_at["version"] == v and after_at["state"] == after["state"]
    assert new_then["state"]["status"] == "in_stock" and new_then["state"]["contract_id"] is None


def test_state_as_of_refuses_what_cannot_be_answered(demo_server):
    serial = DEMO_SWAP["old_serial"]
    with nothing_recorded(demo_server), demo_server.as_user("auditor") as auditor:
        for at in ("2000-01-01T00:00:00+08:00", "2020-06-01T12:00:00Z"):
            body = assert_problem(auditor.get(f"/audit/machine/{serial}/state", params={"at": at}),
                                  404, "not-yet-recorded", at)
            assert serial in body["detail"]
        naive = auditor.get(f"/audit/machine/{serial}/state", params={"at": "2026-03-01T18:00:00"})
        assert naive.status_code in (400, 422), naive.text
        body = assert_problem(naive, naive.status_code)
        assert "zone" in body["detail"].lower(), body
        both = auditor.get(f"/audit/machine/{serial}/state", params={"at": "2026-03-01T18:00:00+08:00",
                                                                     "version": 1})
        assert_problem(both, 422)
        latest = state(auditor, "machine", serial)["latest_version"]
        body = assert_problem(auditor.get(f"/audit/machine/{serial}/state", params={"version": latest + 1}), 422)
        assert f"1 to {latest}" in body["detail"]
        for version in ("0", "-1", "x"):
            assert_problem(auditor.get(f"/audit/machine/{serial}/state", params={"version": version}),
                           400, "invalid-request", version)
        assert_problem(auditor.get(f"/audit/machine/{serial}/state", params={"at": "yesterday"}),
                       400, "invalid-request")


# ------------------------------------------------------------------ what one command did
def test_the_trail_of_the_demo_swap_lists_the_contract_and_both_machines(demo_server, swap):
    assert swap["event"] == "Contract.MachineSwapped" and swap["actor"] == "clerk.chen"
    assert swap["contract_id"] and swap["reason"] == DEMO_SWAP["reason"] and swap["downstream_events"] == 2
    with demo_server.as_user("auditor") as auditor:
        trail = ok(auditor.get(f"/audit/commands/{swap['command_id']}"))
        # Rollbacks of a period: the swap's business date holds it, the day before does not.
        day = swap["business_date"]
        that_day = every(auditor, "/audit/rollbacks", 0, date_from=day, date_to=day)
        assert swap["command_id"] in {i["command_id"] for i in that_day}
        assert all(i["business_date"] == day for i in that_day)
        before = every(auditor, "/audit/rollbacks", 0, date_from="2000-01-01", date_to="2000-12-31")
        assert swap["command_id"] not in {i["command_id"] for i in before}
        assert_problem(auditor.get("/audit/rollbacks", params={"date_from": day, "date_to": "2000-01-01"}), 422)
        assert_problem(auditor.get("/audit/rollbacks", params={"date_from": "1999-12-31", "date_to": day}), 400)
        assert_problem(auditor.get("/audit/rollbacks", params={"date_from": day}), 400, "invalid-request")
    assert trail["command_id"] == swap["command_id"]
    events = trail["events"]
    assert sorted((e["event"], e["aggregate_id"]) for e in events) == sorted([
        ("Contract.MachineSwapped", swap["contract_id"]),
        ("MachineUnit.SwappedOut", swap["old_machine_id"]),
        ("MachineUnit.SwappedIn", swap["new_machine_id"])])
    for event in events:
        assert event["command_id"] == swap["command_id"] and event["actor"] == "clerk.chen"
        assert event["reason"] == DEMO_SWAP["reason"] and event["business_date"] == swap["business_date"]
        assert event["company_id"] == swap["company_id"]
    out = next(e for e in events if e["event"] == "MachineUnit.SwappedOut")
    assert f"replaced_by_serial={DEMO_SWAP['new_serial']}" in out["summary"]


# ------------------------------------------------------------------ scope
def test_a_keeper_of_chuzhou_does_not_see_hefei_in_the_audit(demo_server, swap):
    hf_machine = DEMO_SWAP["old_serial"]
    with nothing_recorded(demo_server), demo_server.as_user("keeper.cz") as keeper:
        for what in ("history", "state"):
            assert_problem(keeper.get(f"/audit/machine/{hf_machine}/{what}"), 404, "not-found", what)
            assert_problem(keeper.get(f"/audit/contract/{swap['contract_id']}/{what}"), 404, "not-found", what)
        assert_problem(keeper.get(f"/audit/machine/{hf_machine}/state", params={"version": 1}), 404, "not-found")
        listed = every(keeper, "/audit/rollbacks", 0, **REQUIRED_QUERY)
        assert swap["command_id"] not in {i["command_id"] for i in listed}
        assert swap["company_id"] not in {i["company_id"] for i in listed}
        assert ok(keeper.get(f"/audit/commands/{swap['command_id']}"))["events"] == []
    with demo_server.as_user("keeper.hf") as keeper:       # control: the same reads in Hefei
        history(keeper, "machine", hf_machine)
        assert state(keeper, "machine", hf_machine, version=1)["state"]["status"] == "in_stock"
        assert swap["command_id"] in {i["command_id"] for i in every(keeper, "/audit/rollbacks", 0,
                                                                     **REQUIRED_QUERY)}
        assert len(ok(keeper.get(f"/audit/commands/{swap['command_id']}"))["events"]) == 3


def test_a_salesperson_may_not_read_the_audit(demo_server, swap):
    with nothing_recorded(demo_server), demo_server.as_user("sales.wang") as wang:
        for url, params in ((f"/audit/machine/{DEMO_SWAP['old_serial']}/history", {}),
                            (f"/audit/machine/{DEMO_SWAP['old_serial']}/state", {}),
                            (f"/audit/contract/{swap['contract_id']}/history", {}),   # their own contract
                            (f"/audit/contract/{swap['contract_id']}/state", {"version": 1}),
                            (f"/audit/commands/{swap['command_id']}", {}),
                            ("/audit/rollbacks", REQUIRED_QUERY)):
            body = assert_problem(wang.get(url, params=params), 403, "forbidden", url)
            assert body["permission"] == "view_history"


def test_a_keeper_of_chuzhou_does_not_read_group_wide_facts_in_a_command_trail(demo_server, positions):
    user = new_user(demo_server, ["warehouse_keeper"], [positions["Hefei"]])
    with demo_server.as_user("auditor") as auditor:
        command_id = history(auditor, "user", user["user_id"])["events"][0]["command_id"]
        assert len(ok(auditor.get(f"/audit/commands/{command_id}",
                                  params={"after": user["position"]}))["events"]) == 3
    with demo_server.as_user("keeper.cz") as keeper:
        assert_problem(keeper.get(f"/audit/user/{user['user_id']}/history"), 404, "not-found")
        trail = ok(keeper.get(f"/audit/commands/{command_id}", params={"after": user["position"]}))
        assert trail["events"] == [], [(e["event"], e["summary"]) for e in trail["events"]]
