"""Read-your-writes: a command answers with its ``position``; a query sent with
``?after=<position>`` waits (bounded) until its read model includes that command,
and says 503 + Retry-After when it cannot."""

from __future__ import annotations

import csv
import io
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import assert_problem, nothing_recorded, unique
from tests.e2e.test_idempotency import receive


def test_every_list_includes_the_command_whose_position_it_was_given(demo_server, demo):
    hefei = demo["companies"]["HF"]
    with demo_server.as_admin() as admin:
        for _ in range(5):  # back to back: no time for the read model to catch up by luck
            serial = unique()
            p = admin.post("/machines/receive", json=receive(demo, serial)).json()["position"]
            assert isinstance(p, int) and p > 0
            listed = admin.get("/machines", params={"serial": serial, "after": p}).json()
            assert [m["serial_number"] for m in listed["items"]] == [serial]
            assert admin.get(f"/machines/{serial}", params={"after": p}).status_code == 200
            export = admin.get("/machines/export", params={"serial": serial, "after": p})
            assert [r["serial_number"] for r in csv.DictReader(io.StringIO(export.text))] == [serial]

        before = admin.get("/machines/counts", params={"group_by": "", "company_id": hefei}).json()["total"]
        p = admin.post("/machines/receive", json=receive(demo, unique())).json()["position"]
        after = admin.get("/machines/counts", params={"group_by": "", "company_id": hefei, "after": p}).json()
        assert after["total"] == before + 1

        serial = unique()
        admin.post("/machines/receive", json=receive(demo, serial))
        moved = admin.post(f"/machines/{serial}/transfer", json={"to_warehouse_id": demo["warehouses"][("CHZ", "MAIN")],
                                                                 "reason": "sold in Chizhou"})
        assert moved.status_code == 200, moved.text
        machine = admin.get(f"/machines/{serial}", params={"after": moved.json()["position"]}).json()
        assert machine["company_code"] == "CHZ"

        code = unique("C")[:20]
        p = admin.post("/companies", json={"code": code, "name": "Read your writes"}).json()["position"]
        assert code in [c["code"] for c in admin.get("/companies", params={"after": p}).json()["items"]]
        company_id = next(c["company_id"] for c in admin.get("/companies").json()["items"] if c["code"] == code)

        w = admin.post("/warehouses", json={"company_id": company_id, "code": "MAIN", "name": "New main"}).json()
        listed = admin.get("/warehouses", params={"company_id": company_id, "after": w["position"]}).json()
        assert [x["warehouse_id"] for x in listed["items"]] == [w["warehouse_id"]]

        m = admin.post("/machine-models", json={"code": unique("M"), "name": "New model", "machine_type": "roller"})
        assert m.json()["model_id"] in [x["model_id"] for x in admin.get(
            "/machine-models", params={"after": m.json()["position"]}).json()["items"]]

        username = unique("ryw.").lower()
        u = admin.post("/users", json={"username": username, "display_name": "New", "password": "new-user-pass"})
        assert username in [x["username"] for x in admin.get(
            "/users", params={"after": u.json()["position"]}).json()["items"]]
        name = unique("Position ")
        pos = admin.post("/positions", json={"name": name, "company_ids": [company_id]})
        assert name in [x["name"] for x in admin.get("/positions", params={"after": pos.json()["position"]})
                        .json()["items"]]


def test_a_write_on_one_process_is_read_on_the_other(demo_server, twin_server, demo):
    """PostgreSQL: the twin keeps no read model; it waits for the position the first process's runners store."""
    with twin_server.as_user("keeper.hf") as on_twin, demo_server.as_user("keeper.hf") as on_first:
        for writer, reader in ((on_twin, on_first), (on_first, on_twin), (on_twin, on_twin)):
            serial = unique()
            p = writer.post("/machines/receive", json=receive(demo, serial)).json()["position"]
            listed = reader.get("/machines", params={"serial": serial, "after": p}).json()
            assert listed["total"] == 1


@pytest.fixture
def frozen_server(store, launcher):
    """A server of its own whose read models nobody keeps (``--no-projections``)."""
    return launcher.serve(launcher.new_store(store), no_projections=True, read_wait_seconds="0.5")


def test_a_read_model_that_does_not_catch_up_answers_503_with_retry_after(frozen_server):
    with frozen_server.client(frozen_server.login("admin", ADMIN_PASSWORD)) as admin:
        created = admin.post("/companies", json={"code": "HF", "name": "Hefei"})
        assert created.status_code == 201
        position = created.json()["position"]
        with nothing_recorded(frozen_server):
            started = time.monotonic()
            answer = admin.get("/companies", params={"after": position})
            waited = time.monotonic() - started
            problem = assert_problem(answer, 503, "read-model-behind")
            assert str(position) in problem["detail"]
            assert int(answer.headers["retry-after"]) >= 1
            assert 0.4 <= waited < 5, waited
            # Without ?after the list answers at once, from what the read model has (nothing yet).
            assert admin.get("/companies").json() == {"items": [], "total": 0}
            urls = ("/machines", "/machines/counts", "/machines/export", "/machines/SY215C-1", "/warehouses",
                    "/machine-models", "/users", "/positions", "/companies")
            with ThreadPoolExecutor(len(urls)) as pool:  # each waits read_wait_seconds: wait together
                answers = list(pool.map(lambda url: admin.get(url, params={"after": position}), urls))
            for url, answer in zip(urls, answers):
                assert_problem(answer, 503, "read-model-behind", url)
                assert answer.headers.get("retry-after"), url
            # A position no command has answered yet is refused at once: waiting could only end in 503.
            started = time.monotonic()
            problem = assert_problem(admin.get("/companies", params={"after": 10**12}), 422, "invalid-value")
            assert problem["field"] == "after" and time.monotonic() - started < 0.4
        positions = httpx.get(frozen_server.url + "/health").json()["read_models"]
        assert {p["position"] for p in positions.values()} == {0}
