"""Idempotency-Key over HTTP: a retry gets the first answer back and records nothing twice,
also when the two attempts reach two server processes at the same instant (PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tests.e2e.conftest import assert_problem, nothing_recorded, unique


def receive(demo: dict[str, Any], serial: str, company: str = "HF") -> dict[str, Any]:
    return {"serial_number": serial, "model_id": demo["models"]["LG855"],
            "warehouse_id": demo["warehouses"][(company, "MAIN")], "nature": "lease_return"}


def test_the_same_key_twice_gives_the_same_answer_and_one_machine(demo_server, demo):
    serial, key = unique(), unique("key-")
    with demo_server.as_user("keeper.hf") as keeper:
        before = demo_server.store.event_count()
        first = keeper.post("/machines/receive", json=receive(demo, serial), headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        recorded = demo_server.store.event_count()
        assert recorded > before
        with nothing_recorded(demo_server):
            second = keeper.post("/machines/receive", json=receive(demo, serial), headers={"Idempotency-Key": key})
        assert second.status_code == 201
        assert second.headers.get("idempotent-replayed") == "true"
        assert second.json() == first.json()
        assert second.json()["position"] == first.json()["position"]
        # Without the key the same request is a second receipt, refused: the replay above was the key's doing.
        with nothing_recorded(demo_server):
            assert_problem(keeper.post("/machines/receive", json=receive(demo, serial)), 409, "serial-number-exists")
        listed = keeper.get("/machines", params={"serial": serial, "after": first.json()["position"]}).json()
        assert listed["total"] == 1 and listed["items"][0]["serial_number"] == serial
        history = keeper.get(f"/machines/{serial}/history").json()["events"]
        assert [e["event"] for e in history] == ["MachineUnit.Received"]


def test_the_same_key_with_another_request_is_refused_with_422(demo_server, demo):
    serial, other, key = unique(), unique(), unique("key-")
    with demo_server.as_admin() as admin:
        received = admin.post("/machines/receive", json=receive(demo, serial), headers={"Idempotency-Key": key})
        assert received.status_code == 201, received.text
        with nothing_recorded(demo_server):
            for what, url, body in (
                    ("other serial", "/machines/receive", receive(demo, other)),
                    ("other warehouse", "/machines/receive", receive(demo, serial, company="CZ")),
                    ("other operation", "/companies", {"code": unique("C")[:20], "name": "Same key"})):
                answer = admin.post(url, json=body, headers={"Idempotency-Key": key})
                problem = assert_problem(answer, 422, "idempotency-key-reused", what)
                assert key in problem["detail"]
        after = {"after": received.json()["position"]}
        assert_problem(admin.get(f"/machines/{other}", params=after), 404, "machine-unit-not-found")
        assert admin.get(f"/machines/{serial}", params=after).json()["company_code"] == "HF"


def test_keys_belong_to_the_user_who_sent_them(demo_server, demo):
    key = unique("shared-key-")
    first, second = unique(), unique()
    with demo_server.as_admin() as admin, demo_server.as_user("keeper.hf") as keeper:
        a = admin.post("/machines/receive", json=receive(demo, first), headers={"Idempotency-Key": key})
        b = keeper.post("/machines/receive", json=receive(demo, second), headers={"Idempotency-Key": key})
        assert (a.status_code, b.status_code) == (201, 201), (a.text, b.text)
        assert "idempotent-replayed" not in b.headers and b.json()["serial_number"] == second


def test_a_refused_command_does_not_use_up_its_key(demo_server, demo):
    serial, key = unique(), unique("key-")
    with demo_server.as_admin() as admin:
        with nothing_recorded(demo_server):
            wrong = dict(receive(demo, serial), warehouse_id="5b7f7e1e-0000-4000-8000-000000000000")
            assert_problem(admin.post("/machines/receive", json=wrong, headers={"Idempotency-Key": key}),
                           404, "warehouse-not-found")
        right = admin.post("/machines/receive", json=receive(demo, serial), headers={"Idempotency-Key": key})
        assert right.status_code == 201 and "idempotent-replayed" not in right.headers


def test_a_retried_transfer_is_answered_from_the_first_one(demo_server, demo):
    serial, key = unique(), unique("key-")
    body = {"to_warehouse_id": demo["warehouses"][("CZ", "MAIN")], "reason": "customer in Chuzhou"}
    with demo_server.as_admin() as admin:
        assert admin.post("/machines/receive", json=receive(demo, serial)).status_code == 201
        first = admin.post(f"/machines/{serial}/transfer", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 200, first.text
        with nothing_recorded(demo_server):
            again = admin.post(f"/machines/{serial}/transfer", json=body, headers={"Idempotency-Key": key})
        assert again.status_code == 200 and again.headers.get("idempotent-replayed") == "true"
        assert again.json() == first.json()
        events = admin.get(f"/machines/{serial}/history").json()["events"]
        assert [e["event"] for e in events] == ["MachineUnit.Received", "MachineUnit.Transferred"]
        assert events[1]["reason"] == "customer in Chuzhou"


def test_the_same_key_for_another_new_password_is_refused(demo_server):
    username = unique("idem.").lower()
    with demo_server.as_admin() as admin:
        assert admin.post("/users", json={"username": username, "display_name": "Idempotent",
                                          "password": "first-pass-1"}).status_code == 201
    key = unique("pw-key-")
    with demo_server.as_user(username, "first-pass-1") as user:
        changed = user.post("/auth/change-password", headers={"Idempotency-Key": key},
                            json={"current_password": "first-pass-1", "new_password": "second-pass-2"})
        assert changed.status_code == 200
    with demo_server.as_user(username, "second-pass-2") as user:
        answer = user.post("/auth/change-password", headers={"Idempotency-Key": key},
                           json={"current_password": "second-pass-2", "new_password": "third-pass-3"})
        if answer.status_code == 200:  # if it claims success, the new password must work
            login = httpx.post(demo_server.url + "/auth/login",
                               json={"username": username, "password": "third-pass-3"})
            assert login.status_code == 200, "200 for a password change that did not happen"
        else:
            assert_problem(answer, 422, "idempotency-key-reused")


def test_the_same_key_for_a_user_with_another_password_is_refused(demo_server):
    username, key = unique("idem.").lower(), unique("user-key-")
    with demo_server.as_admin() as admin:
        first = admin.post("/users", headers={"Idempotency-Key": key},
                           json={"username": username, "display_name": "Twice", "password": "first-pass-1"})
        assert first.status_code == 201
        with nothing_recorded(demo_server):
            again = admin.post("/users", headers={"Idempotency-Key": key},
                               json={"username": username, "display_name": "Twice", "password": "other-pass-2"})
        assert_problem(again, 422, "idempotency-key-reused")


# ------------------------------------------------------------------ two processes, one key (PostgreSQL)
def _at_once(calls: list[tuple[httpx.Client, str, str, dict, dict]]) -> list[httpx.Response]:
    """Sends every call from its own thread, released together."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def send(i: int) -> None:
        client, method, url, body, headers = calls[i]
        barrier.wait()
        try:
            answers[i] = client.request(method, url, json=body, headers=headers)
        except Exception as error:  # reported below, with the others
            answers[i] = error

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    failed = [a for a in answers if not isinstance(a, httpx.Response)]
    assert not failed, failed
    return answers


def test_one_key_sent_to_two_processes_at_once_has_one_effect(demo_server, twin_server, demo):
    token = demo_server.login("keeper.hf")
    clients = [server.client(token) for server in (demo_server, twin_server) for _ in range(4)]
    try:
        for client in clients:  # open the connections first, so the barrier releases requests, not handshakes
            assert client.get("/auth/me").status_code == 200
        for _ in range(3):
            serial, key = unique(), unique("race-key-")
            before = demo_server.store.event_count()
            answers = _at_once([(c, "POST", "/machines/receive", receive(demo, serial), {"Idempotency-Key": key})
                                for c in clients])
            assert [a.status_code for a in answers] == [201] * len(answers), [a.text for a in answers]
            assert len({a.content for a in answers}) == 1, "every attempt gets the same answer"
            originals = [a for a in answers if a.headers.get("idempotent-replayed") != "true"]
            assert len(originals) == 1, "exactly one attempt did the work"
            assert demo_server.store.event_count() - before == 2  # the machine's event and the key's record
            with demo_server.as_user("keeper.hf") as keeper:
                history = keeper.get(f"/machines/{serial}/history").json()["events"]
                assert [e["event"] for e in history] == ["MachineUnit.Received"]
                after = answers[0].json()["position"]
                assert keeper.get("/machines", params={"serial": serial, "after": after}).json()["total"] == 1
    finally:
        for client in clients:
            client.close()
