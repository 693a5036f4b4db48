"""Two approvers deciding the same approval step at the same instant, each through
another API process on one PostgreSQL schema: one decision is recorded, the other
is told 409, and the approval queue shows the document once, then not at all."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, assert_problem, unique
from tests.e2e.test_idempotency import _at_once

ROUNDS = 5


@pytest.fixture(scope="module")
def second_approver(demo_server: Server) -> str:
    """Another Hefei sales manager beside the demo's manager.zhao."""
    username = unique("approver").lower()
    with demo_server.as_admin() as admin:
        hefei = next(p["position_id"] for p in admin.get("/positions").json()["items"] if p["name"] == "Hefei")
        created = admin.post("/users", json={"username": username, "display_name": "Qian, sales manager Hefei",
                                              "password": "race-pass-2026", "roles": ["approver"],
                                              "position_ids": [hefei]})
        assert created.status_code == 201, created.text
    return username


def _contract_waiting_for_approval(server: Server, demo: dict[str, Any]) -> tuple[str, int]:
    with server.as_user("sales.wang") as wang, server.as_user("clerk.chen") as chen:
        customer = wang.post("/customers", json={
            "company_id": demo["companies"]["HF"], "name": unique("Race customer"), "kind": "organisation",
            "customer_type_id": _formal_type(wang)}).json()["customer_id"]
        drafted = wang.post("/contracts", json={
            "company_id": demo["companies"]["HF"], "customer_id": customer,
            "lines": [{"model_id": demo["models"]["XE60"], "quantity": 1, "unit_price": "150000.00"}]})
        assert drafted.status_code == 201, drafted.text
        contract = drafted.json()["contract_id"]
        assert wang.post(f"/contracts/{contract}/submit-to-clerk").status_code == 200
        terms = chen.post(f"/contracts/{contract}/complete-terms", json={"payment": "cash"})
        assert terms.status_code == 200, terms.text
        submitted = chen.post(f"/contracts/{contract}/submit-for-approval")
        assert submitted.status_code == 200 and submitted.json()["status"] == "in_approval", submitted.text
        return contract, submitted.json()["position"]


def _formal_type(client) -> str:
    types = client.get("/customer-catalogue").json()["types"]
    return next(t["customer_type_id"] for t in types if t["code"] == "FORMAL")


def _queue_ids(client, position: int) -> list[str]:
    answer = client.get("/approvals/mine", params={"after": position, "page_size": 500})
    assert answer.status_code == 200, answer.text
    return [item["document_id"] for item in answer.json()["items"]]


def test_two_approvers_on_two_processes_leave_one_decision(demo_server, twin_server, demo, second_approver):
    zhao_token = demo_server.login("manager.zhao")
    qian_token = demo_server.login(second_approver, "race-pass-2026")
    with demo_server.client(zhao_token) as zhao, twin_server.client(qian_token) as qian:
        for _ in range(ROUNDS):
            contract, position = _contract_waiting_for_approval(demo_server, demo)
            for approver in (zhao, qian):
                assert _queue_ids(approver, position).count(contract) == 1
            before = demo_server.store.event_count()
            answers = _at_once([(zhao, "POST", f"/contracts/{contract}/approve", None, {}),
                                (qian, "POST", f"/contracts/{contract}/approve", None, {})])
            won = [a for a in answers if a.status_code == 200]
            lost = [a for a in answers if a.status_code != 200]
            assert len(won) == 1 and len(lost) == 1, [a.text for a in answers]
            assert won[0].json()["status"] == "approved"
            assert lost[0].status_code == 409, (demo_server.log_tail(), twin_server.log_tail())
            problem = assert_problem(lost[0], 409)
            assert problem["code"] in {"concurrent-change", "contract-state"}, problem
            # One decision: the approval and the receivable it opens, nothing of the loser.
            assert demo_server.store.event_count() - before == 2
            after = won[0].json()["position"]
            for approver in (zhao, qian):
                assert contract not in _queue_ids(approver, after)
            history = zhao.get(f"/contracts/{contract}/history").json()["events"]
            assert [e["event"] for e in history].count("Contract.Approved") == 1
