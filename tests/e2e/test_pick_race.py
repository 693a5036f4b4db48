"""Many salespeople pick the same serial at the same instant, through two API
processes on one PostgreSQL schema: exactly one contract gets the unit, every
other caller is told 409 with the contract that has it, and the stock read model
shows one reservation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, assert_problem, unique
from tests.e2e.test_approval_race import _formal_type
from tests.e2e.test_idempotency import _at_once

PICKERS = 50
SALESPEOPLE = 5


@pytest.fixture(scope="module")
def salespeople(demo_server: Server) -> list[str]:
    """Hefei salespeople beside the demo's, each with their own contracts."""
    names = [unique("picker").lower() for _ in range(SALESPEOPLE)]
    with demo_server.as_admin() as admin:
        hefei = next(p["position_id"] for p in admin.get("/positions").json()["items"] if p["name"] == "Hefei")
        for name in names:
            created = admin.post("/users", json={"username": name, "display_name": f"Picker {name}",
                                                  "password": "pick-pass-2026", "roles": ["salesperson"],
                                                  "position_ids": [hefei]})
            assert created.status_code == 201, created.text
    return names


def _approved_contract(salesperson, chen, zhao, demo: dict[str, Any], customer: str) -> str:
    drafted = salesperson.post("/contracts", json={
        "company_id": demo["companies"]["HF"], "customer_id": customer,
        "lines": [{"model_id": demo["models"]["XE60"], "quantity": 1, "unit_price": "150000.00"}]})
    assert drafted.status_code == 201, drafted.text
    contract = drafted.json()["contract_id"]
    assert salesperson.post(f"/contracts/{contract}/submit-to-clerk").status_code == 200
    assert chen.post(f"/contracts/{contract}/complete-terms", json={"payment": "cash"}).status_code == 200
    assert chen.post(f"/contracts/{contract}/submit-for-approval").status_code == 200
    approved = zhao.post(f"/contracts/{contract}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    return contract


def test_fifty_picks_of_one_serial_on_two_processes_leave_one_reservation(demo_server, twin_server, demo,
                                                                          salespeople):
    serial = unique("XE60-RACE")
    with demo_server.as_admin() as admin:
        received = admin.post("/machines/receive", json={
            "serial_number": serial, "model_id": demo["models"]["XE60"],
            "warehouse_id": demo["warehouses"][("HF", "MAIN")], "nature": "purchased_sample"})
        assert received.status_code == 201, received.text

    calls = []
    contracts: list[str] = []
    clients = []
    with demo_server.as_user("clerk.chen") as chen, demo_server.as_user("manager.zhao") as zhao:
        for name in salespeople:
            token = demo_server.login(name, "pick-pass-2026")
            with demo_server.client(token) as own:
                customer = own.post("/customers", json={
                    "company_id": demo["companies"]["HF"], "name": unique("Race buyer"), "kind": "organisation",
                    "customer_type_id": _formal_type(own)}).json()["customer_id"]
                mine = [_approved_contract(own, chen, zhao, demo, customer)
                        for _ in range(PICKERS // SALESPEOPLE)]
            # Each salesperson sends half of their picks to each process.
            for n, contract in enumerate(mine):
                server = (demo_server, twin_server)[n % 2]
                client = server.client(token)
                clients.append(client)
                calls.append((client, "POST", f"/contracts/{contract}/delivery/pick", {"serial_number": serial}, {}))
            contracts.extend(mine)
    try:
        for client, *_ in calls:  # connections open first: the barrier releases requests, not handshakes
            assert client.get("/auth/me").status_code == 200
        before = demo_server.store.event_count()
        answers = _at_once(calls)
    finally:
        for client in clients:
            client.close()

    won = [(n, a) for n, a in enumerate(answers) if a.status_code == 200]
    lost = [a for a in answers if a.status_code != 200]
    assert len(won) == 1, [a.text[:200] for a in answers if a.status_code != 409]
    assert len(lost) == PICKERS - 1
    winner_number = won[0][1].json()["number"]
    for answer in lost:
        problem = assert_problem(answer, 409, "machine-already-reserved")
        assert serial in problem["detail"] and winner_number in problem["detail"], problem
    # One pick on the contract and one reservation on the unit: two events, nothing else.
    assert demo_server.store.event_count() - before == 2

    position = won[0][1].json()["position"]
    with demo_server.as_admin() as admin:
        machine = admin.get(f"/machines/{serial}", params={"after": position}).json()
        assert (machine["status"], machine["contract_number"]) == ("reserved", winner_number)
        history = admin.get(f"/machines/{serial}/history").json()
        assert [c["contract_number"] for c in history["contracts"]] == [winner_number]
        picked = [admin.get(f"/contracts/{c}/delivery", params={"after": position}).json() for c in contracts]
    with_machine = [d for d in picked if any(o["machines"] for o in d["outbounds"])]
    assert [d["number"] for d in with_machine] == [winner_number]
