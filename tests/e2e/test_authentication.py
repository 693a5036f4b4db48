"""Sign-in over HTTP: every operation but the public ones wants a valid bearer token.

The list of operations is the app's own OpenAPI document, so an operation added
later is swept without touching this file. The document is read once at
collection (to name one test per operation) and compared with the one the
running server serves.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from domain import ids
from interfaces.http.app import create_app
from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import SECRET_KEY, assert_problem, nothing_recorded, unique

PUBLIC_OPERATIONS = {"GetHealth", "Login"}
DOCUMENT = create_app(None, run_projections=False).openapi_schema.to_schema()  # type: ignore[arg-type]
OPERATIONS = sorted((op["operationId"], method.upper(), path)
                    for path, item in DOCUMENT["paths"].items() for method, op in item.items())
PROTECTED = [o for o in OPERATIONS if o[0] not in PUBLIC_OPERATIONS]
# The demo's sales swap (interfaces/demo.py), found through ListRollbacksAndSwaps.
DEMO_SWAP = {"old_serial": "SY215C-0007", "new_serial": "SY215C-0011", "reason": "Hydraulic fault on delivery"}
# A period that holds every business date the books accept (interfaces/http/receivables.py).
REQUIRED_QUERY = {"date_from": "2000-01-01", "date_to": "2199-12-31"}


# ------------------------------------------------------------------ requests that would succeed
def _example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A value valid for a JSON schema (enough for the app's simple bodies)."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _example(options[0], components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        required = set(schema.get("required", []))
        return {k: _example(v, components) for k, v in schema.get("properties", {}).items() if k in required}
    if kind == "array":
        return []
    if kind == "string":
        return str(uuid.uuid4()) if schema.get("format") == "uuid" else "E2E1"
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    return None


def _request_for(operation_id: str, method: str, path: str, demo: dict[str, Any]) -> tuple[str, Any]:
    """The URL and a body that the operation would accept from a permitted caller:
    without a token it must still be refused, so a missing check would show as a
    recorded event, not only as a wrong status."""
    hf_main = demo["warehouses"][("HF", "MAIN")]
    hf_machine = next(m["serial_number"] for m in demo["machines"] if m["company_code"] == "HF")
    dummy_id = str(uuid.UUID(int=0))
    known = {
        "CreateCompany": {"code": unique("C"), "name": "Would be created"},
        "CreateWarehouse": {"company_id": demo["companies"]["HF"], "code": unique("W"), "name": "Would be created"},
        "RegisterMachineModel": {"code": unique("M"), "name": "Would be registered", "machine_type": "loader"},
        "ReceiveMachine": {"serial_number": unique(), "model_id": demo["models"]["SY215C"], "warehouse_id": hf_main,
                           "nature": "trade_in"},
        "TransferMachine": {"to_warehouse_id": demo["warehouses"][("CZ", "MAIN")], "reason": "would be moved"},
        "CreateUser": {"username": unique("u").lower(), "display_name": "Would exist", "password": "secret-pass-1"},
        "CreatePosition": {"name": unique("P"), "company_ids": [demo["companies"]["HF"]]},
        "ChangePassword": {"current_password": ADMIN_PASSWORD, "new_password": "would-be-changed-1"},
    }
    url = path
    # A receivable exists only for an approved contract; a collection application is the demo's lock.
    contract = (next(c for c in demo["contracts"] if c["status"] == "approved") if path.startswith("/receivables/")
                else demo["contracts"][0])
    for name in re.findall(r"{(\w+)}", path):
        value = {"serial_number": hf_machine, "contract_id": contract["contract_id"],
                 "customer_id": demo["customers"][0]["customer_id"], "line_no": "1",
                 "application_id": demo["collection_application_id"],
                 "code": demo.get("coupon_code") or dummy_id,
                 # The audit of an object: a machine by its serial number; the trail of the demo's swap.
                 "kind": "machine", "key": DEMO_SWAP["old_serial"],
                 "command_id": demo.get("swap_command_id") or dummy_id,
                 "table": "machine_stock",
                 # The demo's parts documents (parts_sweep_ids below).
                 **demo.get("parts", {})}.get(name, dummy_id)
        url = url.replace("{" + name + "}", value)
    # Query parameters an operation cannot do without (a period): a new one must be named here.
    required = [p["name"] for p in DOCUMENT["paths"][path][method.lower()].get("parameters", [])
                if p["in"] == "query" and p.get("required")]
    if required:
        unknown = set(required) - set(REQUIRED_QUERY)
        assert not unknown, f"{operation_id}: give the sweep a valid value for {sorted(unknown)}"
        url += "?" + "&".join(f"{name}={REQUIRED_QUERY[name]}" for name in required)
    body = None
    if method in {"POST", "PUT", "PATCH"}:
        op = DOCUMENT["paths"][path][method.lower()]
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        body = known.get(operation_id) or _example(schema, DOCUMENT.get("components", {}).get("schemas", {}))
    return url, body


def _bad_authorisations(admin_id: str) -> dict[str, dict[str, str]]:
    now = int(time.time())

    def signed(claims: dict[str, Any], key: str = SECRET_KEY, alg: str = "HS256") -> str:
        return jwt.encode(claims, key, algorithm=alg)

    none_alg = (base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode() + "." +
                base64.urlsafe_b64encode(
                    f'{{"sub":"{admin_id}","cv":1,"exp":{now + 3600}}}'.encode()).rstrip(b"=").decode() + ".")
    basic = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    return {
        "no header": {},
        "bearer without token": {"Authorization": "Bearer"},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "basic with the right password": {"Authorization": f"Basic {basic}"},
        "expired": {"Authorization": "Bearer " + signed({"sub": admin_id, "cv": 1, "exp": now - 60})},
        "other key": {"Authorization": "Bearer " + signed({"sub": admin_id, "cv": 1, "exp": now + 3600},
                                                           key="another-secret-" + "z" * 40)},
        "alg none": {"Authorization": "Bearer " + none_alg},
        "unknown user": {"Authorization": "Bearer " + signed({"sub": str(uuid.uuid4()), "cv": 1, "exp": now + 3600})},
        "no credentials version": {"Authorization": "Bearer " + signed({"sub": admin_id, "exp": now + 3600})},
        "old credentials version": {"Authorization": "Bearer " + signed({"sub": admin_id, "cv": 0,
                                                                          "exp": now + 3600})},
    }


@pytest.fixture(scope="session")
def sweep_ids(demo_server, demo) -> dict[str, Any]:
    return sweep_values(demo_server, demo)


def sweep_values(demo_server, demo) -> dict[str, Any]:
    """The demo's ids, a collection application of the demo (its waiting lock of SY215C-0021),
    a coupon of the demo and the command of the demo's swap, for the paths that name one."""
    with demo_server.as_admin() as admin:
        answer = admin.get("/collection-applications", params={"document_type": "machine_lock", "page_size": 500})
        assert answer.status_code == 200, answer.text
        [lock] = [a for a in answer.json()["items"] if a["serial_number"] == "SY215C-0021"]
        coupons = admin.get("/coupons").json()["items"] if "/coupons" in DOCUMENT["paths"] else []
    return {**demo, "collection_application_id": lock["application_id"],
            "coupon_code": coupons[0]["code"] if coupons else None,
            "swap_command_id": demo_swap_command_id(demo_server),
            "parts": parts_sweep_ids(demo_server, demo) if "/parts" in DOCUMENT["paths"] else {}}


def parts_sweep_ids(server, demo: dict[str, Any]) -> dict[str, str]:
    """A part and one parts document of each kind of the demo's (interfaces/demo.py,
    load_parts), for the paths that name one."""
    found = {"part_id": str(ids.part_id("OF-215C"))}
    with server.as_admin() as admin:
        for path, name in (("/purchase-orders", "order_id"), ("/parts-quotes", "quote_id"),
                           ("/parts-sales", "sale_id"), ("/parts-outbounds", "outbound_id"),
                           ("/parts-requests", "request_id"), ("/work-orders", "work_order_id")):
            answer = admin.get(path, params={"company_id": demo["companies"]["HF"], "page_size": 1})
            assert answer.status_code == 200 and answer.json()["items"], (path, answer.text[:300])
            found[name] = answer.json()["items"][0]["document_id"]
    return found


def demo_swap_command_id(server) -> str:
    """The command id of the demo's swap of SY215C-0007 for SY215C-0011 (its reason tells it
    apart from the swaps other tests make)."""
    with server.as_admin() as admin:
        answer = admin.get("/audit/rollbacks", params={**REQUIRED_QUERY, "page_size": 500})
    assert answer.status_code == 200, answer.text
    [swap] = [item for item in answer.json()["items"]
              if item["event"] == "Contract.MachineSwapped" and item["reason"] == DEMO_SWAP["reason"]
              and f"old_serial={DEMO_SWAP['old_serial']};" in item["summary"]
              and f"new_serial={DEMO_SWAP['new_serial']};" in item["summary"]]
    return swap["command_id"]


@pytest.fixture(scope="session")
def admin_id(demo_server) -> str:
    answer = httpx.post(demo_server.url + "/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()["user_id"]


# ------------------------------------------------------------------ tests
def test_the_served_document_lists_the_operations_swept_here(demo_server):
    served = httpx.get(demo_server.url + "/docs/openapi.json", timeout=10).json()
    served_ops = sorted((op["operationId"], method.upper(), path)
                        for path, item in served["paths"].items() for method, op in item.items())
    assert served_ops == OPERATIONS
    assert len(PROTECTED) >= 20
    assert {"CreateCompany", "ReceiveMachine", "TransferMachine", "ListMachineStock", "ExportMachineStock",
            "CountMachineStock", "GetMachine", "GetMachineHistory", "GetMe", "ChangePassword",
            "ListUsers"} <= {o[0] for o in PROTECTED}
    # Debt collection (催收): every operation, commands and reads, is swept.
    assert {"AssignCollector", "WriteCollectionLog", "ApplyInterestWaiver", "ApplyLock", "ApplyUnlock", "ApplyTow",
            "ApplySettlement", "ReleaseSettlementDocuments", "DecideApplication", "RegisterLocked",
            "RegisterUnlocked", "RegisterTow", "ReceiveRepossessedMachine", "ListCollectionApplications",
            "GetCollectionApplication", "ListMyCollections"} <= {o[0] for o in PROTECTED}
    # Auditing: every read of an object's past and of a command's trail wants a token too.
    assert {"GetHistory", "GetStateAsOf", "GetCommandTrail", "ListRollbacksAndSwaps"} <= {o[0] for o in PROTECTED}


def test_a_valid_token_is_accepted_so_the_sweep_below_means_something(demo_server, sweep_ids, admin_id):
    """Control: the admin token and the sweep's requests pass sign-in on read operations."""
    with demo_server.as_admin() as admin:
        for operation_id, method, path in PROTECTED:
            if method != "GET":
                continue
            url, _ = _request_for(operation_id, method, path, sweep_ids)
            answer = admin.get(url)
            assert answer.status_code == 200, (operation_id, answer.text[:300])


@pytest.mark.parametrize("operation_id,method,path", PROTECTED, ids=[o[0] for o in PROTECTED])
def test_every_operation_but_the_public_ones_wants_a_valid_token(demo_server, sweep_ids, admin_id, operation_id,
                                                                method, path):
    url, body = _request_for(operation_id, method, path, sweep_ids)
    with nothing_recorded(demo_server), httpx.Client(base_url=demo_server.url, timeout=30) as anonymous:
        for what, headers in _bad_authorisations(admin_id).items():
            answer = anonymous.request(method, url, json=body, headers=headers)
            assert_problem(answer, 401, "unauthenticated", what)
            assert answer.headers.get("www-authenticate", "").lower().startswith("bearer"), what


def test_public_operations_and_the_docs_need_no_token(demo_server):
    with httpx.Client(base_url=demo_server.url, timeout=30) as anonymous:
        health = anonymous.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        login = anonymous.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert login.status_code == 200 and login.json()["token_type"] == "Bearer"
        page = anonymous.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "openapi.json" in page.text or "swagger" in page.text.lower()
        document = anonymous.get("/docs/openapi.json")
        assert document.status_code == 200 and "json" in document.headers["content-type"]
        assert document.json()["paths"] and "BearerToken" in document.json()["components"]["securitySchemes"]


def test_a_wrong_password_or_unknown_user_is_one_and_the_same_401(demo_server):
    with nothing_recorded(demo_server), httpx.Client(base_url=demo_server.url, timeout=30) as anonymous:
        wrong = assert_problem(anonymous.post("/auth/login", json={"username": "admin", "password": "wrong-one"}),
                               401, "invalid-credentials")
        unknown = assert_problem(anonymous.post("/auth/login", json={"username": "nobody.here",
                                                                    "password": "wrong-one"}),
                                 401, "invalid-credentials")
        odd_name = assert_problem(anonymous.post("/auth/login", json={"username": "no such user!",
                                                                     "password": "x"}),
                                  401, "invalid-credentials")
        assert wrong["detail"] == unknown["detail"] == odd_name["detail"]  # nothing tells users apart
        missing = anonymous.post("/auth/login", json={"username": "admin"})
        assert_problem(missing, 400, "invalid-request")


def test_changing_the_password_ends_the_tokens_issued_before(demo_server, demo):
    username = unique("pw.").lower()
    with demo_server.as_admin() as admin:
        created = admin.post("/users", json={"username": username, "display_name": "Password tester",
                                             "password": "first-pass-1", "roles": ["salesperson"],
                                             "position_ids": []})
        assert created.status_code == 201, created.text
    old_token = demo_server.login(username, "first-pass-1")
    with demo_server.client(old_token) as old:
        assert old.get("/auth/me").json()["username"] == username
        # A wrong current password is refused (422, not 401: the token itself is fine) and changes nothing.
        with nothing_recorded(demo_server):
            assert_problem(old.post("/auth/change-password", json={"current_password": "not-it-1",
                                                                    "new_password": "second-pass-2"}),
                           422, "invalid-credentials")
            assert_problem(old.post("/auth/change-password", json={"current_password": "first-pass-1",
                                                                    "new_password": "short"}),
                           400, "invalid-request")
        assert old.get("/auth/me").status_code == 200
        changed = old.post("/auth/change-password", json={"current_password": "first-pass-1",
                                                          "new_password": "second-pass-2"})
        assert changed.status_code == 200, changed.text
        assert isinstance(changed.json()["position"], int)
        for url in ("/auth/me", "/machines", "/companies"):
            assert_problem(old.get(url), 401, "unauthenticated")
        assert_problem(old.post("/auth/change-password", json={"current_password": "second-pass-2",
                                                                "new_password": "third-pass-3"}),
                       401, "unauthenticated")
    with httpx.Client(base_url=demo_server.url, timeout=30) as anonymous:
        assert_problem(anonymous.post("/auth/login", json={"username": username, "password": "first-pass-1"}),
                       401, "invalid-credentials")
        new = anonymous.post("/auth/login", json={"username": username, "password": "second-pass-2"})
        assert new.status_code == 200
    with demo_server.client(new.json()["access_token"]) as fresh:
        assert fresh.get("/auth/me").json()["username"] == username


def test_an_unsigned_caller_learns_nothing_about_the_body(demo_server):
    with httpx.Client(base_url=demo_server.url, timeout=30) as anonymous:
        answer = anonymous.post("/machines/receive", content=b"{not json",
                                headers={"Content-Type": "application/json"})
        assert_problem(answer, 401, "unauthenticated")
