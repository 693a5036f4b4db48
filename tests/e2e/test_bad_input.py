"""Bad input over HTTP: each request gets a 4xx problem+json with a stable code,
never a 500, and records nothing.

Shape, type and size are refused by the request schemas (400 invalid-request);
unknown ids by the services (404 <thing>-not-found); business rules by the
domain (409/422). Every case runs as the administrator, so no refusal here is
a permission refusal in disguise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from domain import ids
from tests.e2e.conftest import assert_problem, nothing_recorded, unique

Demo = dict[str, Any]
NOWHERE = "5b7f7e1e-0000-4000-8000-000000000000"   # a well-formed id nothing has


def receive_body(demo: Demo, **changes: Any) -> dict[str, Any]:
    body = {"serial_number": unique(), "model_id": demo["models"]["SY215C"],
            "warehouse_id": demo["warehouses"][("HF", "MAIN")], "nature": "trade_in"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def hf_serial(demo: Demo) -> str:
    return next(m["serial_number"] for m in demo["machines"] if m["company_code"] == "HF")


def admin_id(_: Demo) -> str:
    return str(ids.user_id("admin"))


@dataclass
class Case:
    id: str
    method: str
    url: str | Callable[[Demo], str]
    status: int
    code: str
    request: Callable[[Demo], dict[str, Any]] = field(default=lambda demo: {})
    marks: tuple = ()

    def param(self) -> Any:
        return pytest.param(self, id=self.id, marks=self.marks)


def body(fn: Callable[[Demo], Any]) -> Callable[[Demo], dict[str, Any]]:
    return lambda demo: {"json": fn(demo)}


def raw(content: bytes, content_type: str = "application/json") -> Callable[[Demo], dict[str, Any]]:
    return lambda demo: {"content": content, "headers": {"Content-Type": content_type}}


def query(**params: Any) -> Callable[[Demo], dict[str, Any]]:
    return lambda demo: {"params": params}


def transfer_url(demo: Demo) -> str:
    return f"/machines/{hf_serial(demo)}/transfer"


INVALID = "invalid-request"
R = "/machines/receive"
CASES = [
    # ---------------------------------------------------------- body shape
    Case("malformed-json", "POST", R, 400, INVALID, raw(b'{"serial_number": "A1",')),
    Case("empty-body", "POST", R, 400, INVALID, raw(b"")),
    Case("json-array", "POST", R, 400, INVALID, lambda d: {"json": [receive_body(d)]}),
    Case("json-string", "POST", R, 400, INVALID, body(lambda d: "SY215C-1")),
    Case("json-null", "POST", R, 400, INVALID, raw(b"null")),
    Case("invalid-utf8", "POST", "/companies", 400, INVALID, raw(b'{"code": "U8", "name": "Hefei \xff\xfe"}')),
    Case("missing-field", "POST", R, 400, INVALID, body(lambda d: receive_body(d, model_id=...))),
    Case("wrong-type-serial", "POST", R, 400, INVALID, body(lambda d: receive_body(d, serial_number=12345))),
    Case("wrong-type-uuid", "POST", R, 400, INVALID, body(lambda d: receive_body(d, model_id="not-a-uuid"))),
    Case("wrong-type-list", "POST", "/positions", 400, INVALID,
         body(lambda d: {"name": unique("P"), "company_ids": d["companies"]["HF"]})),
    Case("unknown-field", "POST", R, 400, INVALID, body(lambda d: {**receive_body(d), "price": "1.00"})),
    Case("invalid-enum-nature", "POST", R, 400, INVALID, body(lambda d: receive_body(d, nature="stolen"))),
    Case("enum-in-wrong-case", "POST", R, 400, INVALID, body(lambda d: receive_body(d, nature="TRADE_IN"))),
    Case("invalid-enum-kind", "POST", "/warehouses", 400, INVALID,
         body(lambda d: {"company_id": d["companies"]["HF"], "code": unique("W"), "name": "x", "kind": "garage"})),
    Case("invalid-enum-machine-type", "POST", "/machine-models", 400, INVALID,
         body(lambda d: {"code": unique("M"), "name": "x", "machine_type": "spaceship"})),
    Case("invalid-enum-role", "POST", lambda d: f"/users/{admin_id(d)}/grant-role", 400, INVALID,
         body(lambda d: {"role": "king"})),
    # ---------------------------------------------------------- sizes
    Case("serial-too-long", "POST", R, 400, INVALID, body(lambda d: receive_body(d, serial_number="A" * 41))),
    Case("serial-bad-characters", "POST", R, 400, INVALID, body(lambda d: receive_body(d, serial_number="SY/215"))),
    Case("serial-blank", "POST", R, 422, "invalid-value", body(lambda d: receive_body(d, serial_number="   "))),
    Case("company-name-too-long", "POST", "/companies", 400, INVALID,
         body(lambda d: {"code": unique("C")[:20], "name": "n" * 201})),
    Case("company-code-too-long", "POST", "/companies", 400, INVALID,
         body(lambda d: {"code": "C" * 21, "name": "too long a code"})),
    Case("company-name-blank", "POST", "/companies", 422, "invalid-value",
         body(lambda d: {"code": unique("C")[:20], "name": " \t "})),
    Case("transfer-reason-too-long", "POST", transfer_url, 400, INVALID,
         body(lambda d: {"to_warehouse_id": d["warehouses"][("CZ", "MAIN")], "reason": "r" * 501})),
    Case("transfer-reason-blank", "POST", transfer_url, 422, "invalid-value",
         body(lambda d: {"to_warehouse_id": d["warehouses"][("CZ", "MAIN")], "reason": "   "})),
    Case("username-bad-characters", "POST", "/users", 400, INVALID,
         body(lambda d: {"username": "Bad Name!", "display_name": "x", "password": "long-enough-1"})),
    Case("password-too-short", "POST", "/users", 400, INVALID,
         body(lambda d: {"username": unique("u").lower(), "display_name": "x", "password": "short"})),
    Case("too-many-roles", "POST", "/users", 400, INVALID,
         body(lambda d: {"username": unique("u").lower(), "display_name": "x", "password": "long-enough-1",
                         "roles": ["auditor"] * 21})),
    Case("idempotency-key-too-long", "POST", R, 400, INVALID,
         lambda d: {"json": receive_body(d), "headers": {"Idempotency-Key": "k" * 201}}),
    # ---------------------------------------------------------- ids that do not exist
    Case("unknown-warehouse", "POST", R, 404, "warehouse-not-found", body(lambda d: receive_body(d, warehouse_id=NOWHERE))),
    Case("unknown-model", "POST", R, 404, "machine-model-not-found", body(lambda d: receive_body(d, model_id=NOWHERE))),
    Case("unknown-company", "POST", "/warehouses", 404, "company-not-found",
         body(lambda d: {"company_id": NOWHERE, "code": unique("W"), "name": "x"})),
    Case("unknown-company-in-position", "POST", "/positions", 404, "company-not-found",
         body(lambda d: {"name": unique("P"), "company_ids": [NOWHERE]})),
    Case("unknown-machine", "POST", "/machines/NOSUCHSERIAL1/transfer", 404, "machine-unit-not-found",
         body(lambda d: {"to_warehouse_id": d["warehouses"][("CZ", "MAIN")], "reason": "move"})),
    Case("unknown-target-warehouse", "POST", transfer_url, 404, "warehouse-not-found",
         body(lambda d: {"to_warehouse_id": NOWHERE, "reason": "move"})),
    Case("unknown-user", "POST", f"/users/{NOWHERE}/grant-role", 404, "user-not-found",
         body(lambda d: {"role": "auditor"})),
    Case("unknown-position", "POST", lambda d: f"/users/{admin_id(d)}/assign-position", 404, "position-not-found",
         body(lambda d: {"position_id": NOWHERE})),
    Case("unknown-position-change", "POST", f"/positions/{NOWHERE}/change-companies", 404, "position-not-found",
         body(lambda d: {"all_companies": True})),
    # ---------------------------------------------------------- business rules
    Case("serial-exists", "POST", R, 409, "serial-number-exists",
         body(lambda d: receive_body(d, serial_number=" " + hf_serial(d).lower() + " "))),
    Case("parts-warehouse-holds-no-machines", "POST", R, 422, "warehouse-cannot-hold-machines",
         body(lambda d: receive_body(d, warehouse_id=d["warehouses"][("HF", "PARTS")]))),
    Case("transfer-to-same-warehouse", "POST", transfer_url, 422, "same-warehouse",
         body(lambda d: {"to_warehouse_id": d["warehouses"][("HF", "MAIN")], "reason": "stay"})),
    Case("transfer-to-parts-warehouse", "POST", transfer_url, 422, "warehouse-cannot-hold-machines",
         body(lambda d: {"to_warehouse_id": d["warehouses"][("HF", "PARTS")], "reason": "no room"})),
    Case("technician-on-main-warehouse", "POST", "/warehouses", 422, "invalid-value",
         body(lambda d: {"company_id": d["companies"]["HF"], "code": unique("W"), "name": "x",
                         "technician_name": "Zhou"})),
    Case("position-without-companies", "POST", "/positions", 422, "invalid-value",
         body(lambda d: {"name": unique("P")})),
    Case("username-taken", "POST", "/users", 409, "already-exists",
         body(lambda d: {"username": "keeper.hf", "display_name": "x", "password": "long-enough-1"})),
    Case("role-already-granted", "POST", lambda d: f"/users/{admin_id(d)}/grant-role", 409, "role-already-granted",
         body(lambda d: {"role": "administrator"})),
    Case("revoke-own-administrator-role", "POST", lambda d: f"/users/{admin_id(d)}/revoke-role", 409,
         "last-administrator", body(lambda d: {"role": "administrator"})),
    # ---------------------------------------------------------- query strings
    Case("page-zero", "GET", "/machines", 400, INVALID, query(page=0)),
    Case("page-negative", "GET", "/machines", 400, INVALID, query(page=-1)),
    Case("page-not-a-number", "GET", "/machines", 400, INVALID, query(page="two")),
    Case("page-absurd", "GET", "/machines", 400, INVALID, query(page=10**12)),
    Case("page-size-zero", "GET", "/machines", 400, INVALID, query(page_size=0)),
    Case("page-size-absurd", "GET", "/machines", 400, INVALID, query(page_size=100000)),
    Case("after-negative", "GET", "/machines", 400, INVALID, query(after=-1)),
    Case("after-not-a-number", "GET", "/companies", 400, INVALID, query(after="latest")),
    Case("status-invalid", "GET", "/machines", 400, INVALID, query(status="lost")),
    Case("nature-invalid", "GET", "/machines/export", 400, INVALID, query(nature="stolen")),
    Case("company-id-not-a-uuid", "GET", "/machines/counts", 400, INVALID, query(company_id="HF")),
    Case("warehouse-filter-not-a-uuid", "GET", "/warehouses", 400, INVALID, query(company_id="HF")),
    Case("serial-filter-too-long", "GET", "/machines", 400, INVALID, query(serial="A" * 41)),
    Case("group-by-unknown", "GET", "/machines/counts", 422, "invalid-value", query(group_by="colour")),
    Case("group-by-twice", "GET", "/machines/counts", 422, "invalid-value", query(group_by="model,model")),
    Case("group-by-bad-characters", "GET", "/machines/counts", 400, INVALID, query(group_by="Company;drop")),
    # A NUL in a free-text filter was a 500 on PostgreSQL (its text cannot hold one), a value of
    # 50,000 characters one on SQLite (LIKE pattern too complex): found by tests/e2e/test_fuzz.py.
    Case("nul-in-serial-filter", "GET", "/machines", 400, INVALID, query(serial="SY\x00215")),
    Case("nul-in-name-filter", "GET", "/customers/export", 400, INVALID, query(name="Hefei\x00")),
    Case("nul-in-coupon-code-filter", "GET", "/coupons", 400, INVALID, query(code="CP\x00")),
    Case("nul-in-parts-status-filter", "GET", "/parts-outbounds", 400, INVALID, query(status="open\x00")),
    Case("control-character-in-text-filter", "GET", "/parts", 400, INVALID, query(text="pump\x1b[0m")),
    Case("query-value-too-long", "GET", "/parts", 400, INVALID, query(text="A" * 60_000)),
    Case("coupon-code-filter-too-long", "GET", "/coupons", 400, INVALID, query(code="C" * 41)),
    # ---------------------------------------------------------- paths
    Case("bad-uuid-in-path", "POST", "/users/not-a-uuid/grant-role", 404, "no-such-route",
         body(lambda d: {"role": "auditor"})),
    Case("bad-serial-in-path", "GET", "/machines/SY%24215", 400, INVALID),
    Case("bad-serial-in-history-path", "GET", "/machines/SY%2A215/history", 400, INVALID),
    Case("serial-too-long-in-path", "GET", "/machines/" + "A" * 41, 400, INVALID),
    Case("non-ascii-serial-in-path", "GET", "/machines/%E6%9C%BA%E5%8F%B7", 400, INVALID),
    Case("bad-serial-in-transfer-path", "POST", "/machines/SY%40215/transfer", 400, INVALID,
         body(lambda d: {"to_warehouse_id": d["warehouses"][("CZ", "MAIN")], "reason": "move"})),
    Case("unknown-route", "GET", "/machines/SY1/photos", 404, "no-such-route"),
    Case("wrong-method", "DELETE", "/companies", 405, "method-not-allowed"),
    # ---------------------------------------------------------- transport
    Case("two-megabyte-body", "POST", R, 413, "request-too-large",
         body(lambda d: receive_body(d, serial_number="A" * 2_000_000))),
    Case("wrong-content-type-text", "POST", R, 415, "unsupported-media-type",
         lambda d: {"content": httpx.Request("POST", "/", json=receive_body(d)).content,
                    "headers": {"Content-Type": "text/plain"}}),
    Case("wrong-content-type-form", "POST", "/companies", 415, "unsupported-media-type",
         lambda d: {"content": b'{"code": "%s", "name": "form"}' % unique("F").encode(),
                    "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    Case("deeply-nested-json", "POST", R, 400, INVALID, raw(b"[" * 900_000)),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input_is_a_stable_4xx_problem_and_records_nothing(demo_server, demo, case: Case):
    url = case.url(demo) if callable(case.url) else case.url
    with demo_server.as_admin() as admin, nothing_recorded(demo_server):
        answer = admin.request(case.method, url, **case.request(demo))
        problem = assert_problem(answer, case.status, case.code, case.id)
    if case.code == INVALID and case.status == 400 and problem.get("errors"):
        assert all(e["field"] and e["source"] for e in problem["errors"]), problem


def test_a_refused_body_says_which_field_is_wrong(demo_server, demo):
    with demo_server.as_admin() as admin:
        missing = assert_problem(admin.post("/machines/receive", json=receive_body(demo, model_id=...)),
                                 400, INVALID)
        assert "model_id" in missing["detail"]
        wrong = assert_problem(admin.post("/machines/receive", json=receive_body(demo, serial_number=7)),
                               400, INVALID)
        assert [e["field"] for e in wrong["errors"]] == ["serial_number"]
        assert wrong["errors"][0]["source"] == "body"
        page = assert_problem(admin.get("/machines", params={"page": 0}), 400, INVALID)
        assert [(e["field"], e["source"]) for e in page["errors"]] == [("page", "query")]


def test_names_in_any_script_are_kept_as_sent(demo_server):
    """Control for the size limits: 200 characters of Chinese are a valid name, and come back intact."""
    name = "合肥工程机械有限公司" * 20
    code = unique("ZH")[:20]
    with demo_server.as_admin() as admin:
        created = admin.post("/companies", json={"code": code, "name": name})
        assert created.status_code == 201, created.text
        listed = admin.get("/companies", params={"after": created.json()["position"]}).json()["items"]
    assert {c["code"]: c["name"] for c in listed}[code] == name


def test_a_name_with_a_nul_character_is_refused(store, launcher):
    """On a server of its own: were it accepted, on PostgreSQL (text cannot hold NUL) it would stop
    a read model for ever, which would spoil the shared server."""
    server = launcher.serve(launcher.new_store(store))
    with server.as_admin() as admin, nothing_recorded(server):
        refused = admin.post("/companies", json={"code": "NUL1", "name": "Hefei\x00Machinery"})
        assert refused.status_code in (400, 422), refused.text
        assert_problem(refused, refused.status_code)


def test_a_name_with_a_nul_character_does_not_stop_the_read_models(store, launcher, request):
    server = launcher.serve(launcher.new_store(store), read_wait_seconds="2")
    with server.as_admin() as admin:
        admin.post("/companies", json={"code": "NUL1", "name": "Hefei\x00Machinery"})  # refused or not
        created = admin.post("/companies", json={"code": "OK1", "name": "Fine name"})
        assert created.status_code == 201
        listed = admin.get("/companies", params={"after": created.json()["position"]})
        assert listed.status_code == 200, listed.text
        assert "OK1" in [c["code"] for c in listed.json()["items"]]
    assert all(rm["error"] is None for rm in server.health()["read_models"].values())
