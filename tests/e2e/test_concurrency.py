"""Many requests at once. On PostgreSQL they are spread over two server processes
on one schema; on SQLite (one process per store) over the threads of one server."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import assert_problem, unique
from tests.e2e.test_idempotency import _at_once, receive

PER_SERVER = 8


@pytest.fixture
def servers(store, request, demo_server):
    if store == "postgres":
        return [demo_server, request.getfixturevalue("twin_server")]
    return [demo_server]


@pytest.fixture
def clients(servers, demo_server):
    token = demo_server.login("keeper.hf")
    made = [server.client(token) for server in servers for _ in range(PER_SERVER)]
    for client in made:
        assert client.get("/auth/me").status_code == 200
    yield made
    for client in made:
        client.close()


def test_one_serial_received_many_times_at_once_is_received_once(demo_server, demo, clients):
    for _ in range(3):
        serial = unique()
        before = demo_server.store.event_count()
        answers = _at_once([(c, "POST", "/machines/receive", receive(demo, serial), {}) for c in clients])
        created = [a for a in answers if a.status_code == 201]
        refused = [a for a in answers if a.status_code != 201]
        assert len(created) == 1, [a.text for a in answers]
        for answer in refused:
            problem = assert_problem(answer, 409, "serial-number-exists")
            assert problem["serial_number"] == serial
        assert demo_server.store.event_count() - before == 1
        position = created[0].json()["position"]
        with demo_server.as_user("keeper.hf") as keeper:
            listed = keeper.get("/machines", params={"serial": serial, "after": position}).json()
            assert listed["total"] == 1
            counted = keeper.get("/machines/counts", params={"group_by": "status", "after": position}).json()
            assert counted["total"] == keeper.get("/machines").json()["total"]


def test_one_machine_transferred_many_times_at_once_moves_once(demo_server, demo, clients):
    serial = unique()
    with demo_server.as_admin() as admin:
        assert admin.post("/machines/receive", json=receive(demo, serial)).status_code == 201
    # keeper.hf may not reach Chuzhou, so the target is the administrator's business: use their token.
    token = demo_server.login("admin", ADMIN_PASSWORD)
    target = demo["warehouses"][("CZ", "MAIN")]
    answers = _at_once([(c, "POST", f"/machines/{serial}/transfer", {"to_warehouse_id": target, "reason": "race"},
                         {"Authorization": f"Bearer {token}"}) for c in clients])
    moved = [a for a in answers if a.status_code == 200]
    assert len(moved) == 1, [a.text for a in answers]
    for answer in answers:
        if answer.status_code != 200:
            body = assert_problem(answer, answer.status_code)
            assert (answer.status_code, body["code"]) in {(409, "concurrent-change"), (422, "same-warehouse")}, body
    with demo_server.as_admin() as admin:
        events = admin.get(f"/machines/{serial}/history").json()["events"]
        assert [e["event"] for e in events] == ["MachineUnit.Received", "MachineUnit.Transferred"]
        machine = admin.get(f"/machines/{serial}", params={"after": moved[0].json()["position"]}).json()
        assert machine["warehouse_id"] == target and machine["company_code"] == "CZ"


def test_different_serials_at_once_are_all_received_and_listed(demo_server, demo, clients):
    serials = [unique() for _ in clients]
    answers = _at_once([(c, "POST", "/machines/receive", receive(demo, s), {}) for c, s in zip(clients, serials)])
    assert [a.status_code for a in answers] == [201] * len(answers), [a.text for a in answers]
    positions = [a.json()["position"] for a in answers]
    assert len(set(positions)) == len(positions)
    with demo_server.as_user("keeper.hf") as keeper:
        listed = keeper.get("/machines/export", params={"after": max(positions)}).text
        assert all(s in listed for s in serials)
