"""Customers, contracts and approvals over HTTP, each act by the role that does it.

The demo (interfaces/demo.py) gives the people: sales.wang and sales.li sell in
Hefei and never see each other's customers, contacts or contracts; clerk.chen
completes the terms and submits for approval; manager.zhao approves Hefei
documents; finance.sun is finance for the whole group; risk.manager is approver
and finance for Chuzhou + Chizhou only. The group-wide rule for sales contracts:
below 300000.00 one step 'Sales manager' (approver, company scope); from
300000.00 a second step 'Group finance' (finance, whole group).

Everything here runs on the shared demo server with records of its own, except
the rule change, which would change the route of every Hefei contract: that one
gets a demo server of its own.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from domain import ids
from tests.e2e.conftest import CZ, FORMAL, HF, XE60, Server, assert_problem, nothing_recorded, ok, unique

NOWHERE = "5b7f7e1e-0000-4000-8000-000000000000"   # a well-formed id nothing has
DEPOSIT_DUE = (date.today() + timedelta(days=400)).isoformat()
FIRST_INSTALLMENT = (date.today() + timedelta(days=45)).isoformat()
CASH_TERMS = {"payment": "cash", "warranty_deposit": "7500.00", "warranty_due_date": DEPOSIT_DUE}


# ------------------------------------------------------------------ helpers
def new_customer(client: httpx.Client, company_id: str = HF, name: str | None = None) -> dict[str, Any]:
    return ok(client.post("/customers", json={"company_id": company_id, "name": name or unique("Customer "),
                                              "kind": "organisation", "customer_type_id": FORMAL}), 201)


def new_contact(client: httpx.Client, company_id: str = HF, name: str | None = None) -> dict[str, Any]:
    return ok(client.post("/contacts", json={"company_id": company_id, "name": name or unique("Contact "),
                                             "phone": "138 0551 0099", "title": "Site manager"}), 201)


def line(price: str = "150000.00", model: str = XE60, quantity: int = 1) -> dict[str, Any]:
    return {"model_id": model, "quantity": quantity, "unit_price": price}


def draft(client: httpx.Client, customer_id: str, contact_id: str | None = None, price: str = "150000.00",
          company_id: str = HF) -> dict[str, Any]:
    body: dict[str, Any] = {"company_id": company_id, "customer_id": customer_id, "lines": [line(price)]}
    if contact_id:
        body["contact_id"] = contact_id
    return ok(client.post("/contracts", json=body), 201)


def act(client: httpx.Client, contract_id: str, verb: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return ok(client.post(f"/contracts/{contract_id}/{verb}", json=body))


class Sale:
    """A contract of sales.wang's, taken as far as asked by the roles that do each step."""

    def __init__(self, server: Server, price: str = "150000.00") -> None:
        self.server = server
        with server.as_user("sales.wang") as wang:
            self.customer = new_customer(wang)
            self.contact = new_contact(wang)
            drafted = draft(wang, self.customer["customer_id"], self.contact["contact_id"], price)
        self.id: str = drafted["contract_id"]
        self.number: str = drafted["number"]
        self.status: str = drafted["status"]
        self.position: int = drafted["position"]

    def _do(self, username: str, verb: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        with (self.server.as_admin() if username == "admin" else self.server.as_user(username)) as user:
            done = act(user, self.id, verb, body)
        self.status, self.position = done["status"], done["position"]
        return done

    def to_clerk(self) -> Sale:
        self._do("sales.wang", "submit-to-clerk")
        return self

    def with_terms(self, terms: dict[str, Any] | None = None, clerk: str = "clerk.chen") -> Sale:
        self.to_clerk()
        self._do(clerk, "complete-terms", terms or CASH_TERMS)
        return self

    def in_approval(self, clerk: str = "clerk.chen") -> Sale:
        self.with_terms(clerk=clerk)
        self._do(clerk, "submit-for-approval")
        assert self.status == "in_approval"
        return self

    def approved(self) -> Sale:
        self.in_approval()
        done = self._do("manager.zhao", "approve")
        if done["waiting_for"] is not None:
            self._do("finance.sun", "approve")
        assert self.status == "approved"
        return self


def queue(server: Server, username: str, after: int, password: str | None = None) -> dict[str, dict[str, Any]]:
    """What waits for this user's decision, by document id, once the queue has caught up with ``after``."""
    with (server.as_user(username, password) if password else server.as_user(username)) as user:
        listed = ok(user.get("/approvals/mine", params={"after": after, "page_size": 500}))
    assert listed["total"] == len(listed["items"]), "more than one page waits: raise page_size"
    return {item["document_id"]: item for item in listed["items"]}


def waiting_count(server: Server, username: str, after: int | None = None) -> int:
    with server.as_user(username) as user:
        return ok(user.get("/approvals/mine/counts", params={"after": after} if after else {}))["total"]


def contract(client: httpx.Client, contract_id: str, after: int) -> dict[str, Any]:
    return ok(client.get(f"/contracts/{contract_id}", params={"after": after}))


def history(client: httpx.Client, contract_id: str) -> list[dict[str, Any]]:
    return ok(client.get(f"/contracts/{contract_id}/history"))["events"]


def csv_rows(answer: httpx.Response) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


# ------------------------------------------------------------------ the whole flow
def test_a_sale_goes_from_the_salespersons_draft_to_an_approved_contract(demo_server):
    server = demo_server
    with server.as_user("sales.wang") as wang:
        customer = new_customer(wang, name=unique("Chaohu Roadworks "))
        zhao_waiting_before = waiting_count(server, "manager.zhao", customer["position"])
        contact = new_contact(wang, name=unique("Ma Jun "))
        drafted = draft(wang, customer["customer_id"], contact["contact_id"], "150000.00")
        assert drafted["status"] == "draft" and drafted["total_amount"] == "150000.00"
        assert drafted["number"].startswith("HF-") and drafted["waiting_for"] is None
        contract_id = drafted["contract_id"]
        # The contact is not the customer's yet: the approved contract will link them.
        shown = ok(wang.get(f"/customers/{customer['customer_id']}", params={"after": drafted["position"]}))
        assert shown["contacts"] == [] and shown["owner"] == "sales.wang"
        assert act(wang, contract_id, "submit-to-clerk")["status"] == "with_clerk"

    with server.as_user("clerk.chen") as chen:
        terms = act(chen, contract_id, "complete-terms", CASH_TERMS)
        assert terms["status"] == "with_clerk"
        submitted = act(chen, contract_id, "submit-for-approval")
    assert submitted["status"] == "in_approval"
    assert submitted["waiting_for"] == {"step": "Sales manager", "role": "approver"}
    p = submitted["position"]

    waiting = queue(server, "manager.zhao", p)[contract_id]
    assert waiting["document_label"] == f"contract {drafted['number']}"
    assert waiting["document_type"] == "sales_contract"
    assert waiting["amount"] == "150000.00"
    assert waiting["submitted_by_name"] == "clerk.chen"
    assert waiting["company_code"] == "HF"
    assert (waiting["step"], waiting["steps_total"], waiting["step_name"], waiting["role"]) == \
           (1, 1, "Sales manager", "approver")
    assert waiting_count(server, "manager.zhao", p) == zhao_waiting_before + 1
    for other in ("clerk.chen", "sales.wang", "sales.li", "risk.manager", "finance.sun"):
        assert contract_id not in queue(server, other, p), other

    with server.as_user("manager.zhao") as zhao:
        approved = act(zhao, contract_id, "approve")
    assert approved["status"] == "approved" and approved["waiting_for"] is None
    p = approved["position"]
    assert contract_id not in queue(server, "manager.zhao", p)
    assert waiting_count(server, "manager.zhao", p) == zhao_waiting_before

    with server.as_user("sales.wang") as wang:
        shown = contract(wang, contract_id, p)
        assert shown["status"] == "approved" and shown["approved_on"] is not None
        assert (shown["salesperson"], shown["customer_id"], shown["contact_id"]) == \
               ("sales.wang", customer["customer_id"], contact["contact_id"])
        assert (shown["payment_method"], shown["warranty_deposit"], shown["total_amount"]) == \
               ("cash", "7500.00", "150000.00")
        assert shown["terms"]["warranty_due_date"] == DEPOSIT_DUE
        assert [(x["model_code"], x["quantity"], x["unit_price"]) for x in shown["lines"]] == \
               [("XE60", 1, "150000.00")]

        events = history(wang, contract_id)
        assert [(e["event"], e["actor"]) for e in events] == [
            ("Contract.Drafted", "sales.wang"),
            ("Contract.SubmittedToClerk", "sales.wang"),
            ("Contract.TermsCompleted", "clerk.chen"),
            ("Contract.SubmittedForApproval", "clerk.chen"),
            ("Contract.Approved", "manager.zhao"),
        ]
        assert [e["version"] for e in events] == list(range(1, len(events) + 1))
        assert events[-1]["data"]["step_name"] == "Sales manager"

        # The approval linked the contract's contact to the customer.
        shown = ok(wang.get(f"/customers/{customer['customer_id']}", params={"after": p}))
        assert [(c["contact_id"], c["by_contract_id"]) for c in shown["contacts"]] == \
               [(contact["contact_id"], contract_id)]


def test_a_contract_from_300000_needs_the_sales_manager_then_group_finance(demo_server):
    server = demo_server
    sale = Sale(server, price="350000.00").in_approval()
    first = queue(server, "manager.zhao", sale.position)[sale.id]
    assert (first["step"], first["steps_total"], first["step_name"], first["amount"]) == \
           (1, 2, "Sales manager", "350000.00")
    assert sale.id not in queue(server, "finance.sun", sale.position)   # not finance's turn yet

    with server.as_user("manager.zhao") as zhao:
        passed = act(zhao, sale.id, "approve")
    assert passed["status"] == "in_approval"
    assert passed["waiting_for"] == {"step": "Group finance", "role": "finance"}
    p = passed["position"]

    second = queue(server, "finance.sun", p)[sale.id]
    assert (second["step"], second["steps_total"], second["step_name"], second["role"], second["step_scope"]) == \
           (2, 2, "Group finance", "finance", "group")
    assert sale.id not in queue(server, "manager.zhao", p)
    assert sale.id not in queue(server, "risk.manager", p)   # finance, but not for the whole group
    with server.as_user("manager.zhao") as zhao, nothing_recorded(server):
        assert_problem(zhao.post(f"/contracts/{sale.id}/approve"), 403, "not-your-approval-step")
    with server.as_user("sales.wang") as wang:
        assert contract(wang, sale.id, p)["status"] == "in_approval"

    with server.as_user("finance.sun") as sun:
        approved = act(sun, sale.id, "approve")
    assert approved["status"] == "approved"
    assert sale.id not in queue(server, "finance.sun", approved["position"])
    with server.as_user("clerk.chen") as chen:
        assert contract(chen, sale.id, approved["position"])["status"] == "approved"
        assert [(e["event"], e["actor"]) for e in history(chen, sale.id)][-2:] == [
            ("Contract.ApprovalStepPassed", "manager.zhao"), ("Contract.Approved", "finance.sun")]


def test_a_group_finance_step_is_not_for_finance_that_sees_only_some_companies(demo_server):
    """risk.manager is approver and finance for Chuzhou: they decide the Chuzhou sales-manager
    step, but the 'Group finance' step needs a finance user whose positions cover the whole group."""
    server = demo_server
    with server.as_admin() as admin:
        customer = new_customer(admin, CZ)
        drafted = draft(admin, customer["customer_id"], price="420000.00", company_id=CZ)
        contract_id = drafted["contract_id"]
        act(admin, contract_id, "submit-to-clerk")
        act(admin, contract_id, "complete-terms", CASH_TERMS)
        p = act(admin, contract_id, "submit-for-approval")["position"]
    assert contract_id in queue(server, "risk.manager", p)
    assert contract_id not in queue(server, "manager.zhao", p)   # a Hefei approver
    with server.as_user("risk.manager") as risk:
        passed = act(risk, contract_id, "approve")
        assert passed["waiting_for"] == {"step": "Group finance", "role": "finance"}
        assert contract_id not in queue(server, "risk.manager", passed["position"])
        assert contract_id in queue(server, "finance.sun", passed["position"])
        with nothing_recorded(server):
            assert_problem(risk.post(f"/contracts/{contract_id}/approve"), 403, "not-your-approval-step")
    with server.as_user("finance.sun") as sun:
        assert act(sun, contract_id, "approve")["status"] == "approved"


# ------------------------------------------------------------------ 403: the role does not allow it
def test_a_role_that_may_not_act_is_refused_with_403_and_nothing_is_recorded(demo_server):
    server = demo_server
    drafted = Sale(server)
    with_clerk = Sale(server).to_clerk()
    waiting = Sale(server).in_approval(clerk="admin")   # not submitted by clerk.chen, who may not decide it
    done = Sale(server).approved()
    customer_id = drafted.customer["customer_id"]
    cases = [
        ("sales.wang", f"/contracts/{with_clerk.id}/complete-terms", CASH_TERMS, "forbidden"),
        ("sales.wang", f"/contracts/{with_clerk.id}/submit-for-approval", None, "forbidden"),
        ("sales.wang", f"/contracts/{with_clerk.id}/return-to-salesperson", {"reason": "mine"}, "forbidden"),
        ("sales.wang", f"/contracts/{done.id}/unapprove", {"reason": "I changed my mind"}, "forbidden"),
        ("sales.wang", "/approvals/rules", {"document_type": "sales_contract", "company_id": HF,
                                            "bands": [{"from_amount": "0.00", "steps": [
                                                {"name": "Nobody", "role": "salesperson"}]}]}, "forbidden"),
        ("keeper.hf", "/contracts", {"company_id": HF, "customer_id": customer_id, "lines": [line()]},
         "forbidden"),
        ("keeper.hf", "/customers", {"company_id": HF, "name": unique("Keeper's "), "kind": "organisation",
                                     "customer_type_id": FORMAL}, "forbidden"),
        ("clerk.chen", f"/contracts/{drafted.id}/submit-to-clerk", None, "forbidden"),
        ("clerk.chen", f"/contracts/{waiting.id}/approve", None, "not-your-approval-step"),
        ("clerk.chen", f"/contracts/{waiting.id}/reject", {"reason": "not mine to say"}, "not-your-approval-step"),
        ("finance.sun", f"/contracts/{waiting.id}/approve", None, "not-your-approval-step"),
        ("finance.sun", f"/contracts/{done.id}/unapprove", {"reason": "review"}, "forbidden"),
        ("auditor", f"/contracts/{waiting.id}/approve", None, "read-only"),      # an auditor records nothing
        ("manager.zhao", f"/contracts/{with_clerk.id}/complete-terms", CASH_TERMS, "forbidden"),
    ]
    for username, url, body, code in cases:
        with server.as_user(username) as user, nothing_recorded(server):
            assert_problem(user.post(url, json=body), 403, code, f"{username} POST {url}")
    with server.as_user("clerk.chen") as chen:
        assert [contract(chen, s.id, done.position)["status"] for s in (drafted, with_clerk, waiting, done)] == \
               ["draft", "with_clerk", "in_approval", "approved"]
    assert waiting.id in queue(server, "manager.zhao", done.position)


# ------------------------------------------------------------------ 404: out of the caller's sight
def test_another_salespersons_records_are_not_found(demo_server):
    server = demo_server
    sale = Sale(server).to_clerk()
    draft_only = Sale(server)
    customer_id, contact_id = draft_only.customer["customer_id"], draft_only.contact["contact_id"]
    with server.as_user("sales.li") as li:
        own_customer = new_customer(li)["customer_id"]
        # Control: the records exist (li's own customer passes below, up to wang's contact).
        with server.as_user("clerk.chen") as chen:
            assert contract(chen, sale.id, draft_only.position)["salesperson"] == "sales.wang"
        with nothing_recorded(server):
            for url in (f"/contracts/{sale.id}", f"/contracts/{sale.id}/history"):
                hidden = assert_problem(li.get(url), 404, "contract-not-found", url)
                missing = assert_problem(li.get(url.replace(sale.id, NOWHERE)), 404, "contract-not-found", url)
                assert hidden["detail"].replace(sale.id, "X") == missing["detail"].replace(NOWHERE, "X")
            hidden = assert_problem(li.get(f"/customers/{customer_id}"), 404, "customer-not-found")
            missing = assert_problem(li.get(f"/customers/{NOWHERE}"), 404, "customer-not-found")
            assert hidden["detail"].replace(customer_id, "X") == missing["detail"].replace(NOWHERE, "X")
            for url, body, code in [
                (f"/contracts/{draft_only.id}/submit-to-clerk", None, "contract-not-found"),
                (f"/contracts/{draft_only.id}/revise-draft", {"customer_id": own_customer, "lines": [line()]},
                 "contract-not-found"),
                (f"/customers/{customer_id}/tag", {"tag_id": str(ids.customer_tag_id("VIP"))},
                 "customer-not-found"),
                ("/contracts", {"company_id": HF, "customer_id": customer_id, "lines": [line()]},
                 "customer-not-found"),
                ("/contracts", {"company_id": HF, "customer_id": own_customer, "contact_id": contact_id,
                                "lines": [line()]}, "contact-not-found"),
            ]:
                assert_problem(li.post(url, json=body), 404, code, url)
    with server.as_user("sales.wang") as wang:
        assert contract(wang, draft_only.id, sale.position)["status"] == "draft"
        assert ok(wang.get(f"/customers/{customer_id}"))["tags"] == []


def test_a_hefei_contract_is_not_found_for_chuzhou_and_chizhou(demo_server):
    server = demo_server
    sale = Sale(server).in_approval()
    customer_id = sale.customer["customer_id"]
    with server.as_user("manager.zhao") as zhao:   # control: a Hefei approver sees it
        assert contract(zhao, sale.id, sale.position)["status"] == "in_approval"
    with server.as_user("risk.manager") as risk, nothing_recorded(server):
        assert_problem(risk.get(f"/contracts/{sale.id}", params={"after": sale.position}), 404,
                       "contract-not-found")
        assert_problem(risk.get(f"/contracts/{sale.id}/history"), 404, "contract-not-found")
        assert_problem(risk.get(f"/customers/{customer_id}"), 404, "customer-not-found")
        assert_problem(risk.post(f"/contracts/{sale.id}/approve"), 404, "contract-not-found")
        assert_problem(risk.post(f"/contracts/{sale.id}/reject", json={"reason": "no"}), 404, "contract-not-found")
        assert sale.id not in {c["contract_id"] for c in
                               ok(risk.get("/contracts", params={"page_size": 500}))["items"]}
    assert sale.id not in queue(server, "risk.manager", sale.position)


# ------------------------------------------------------------------ 409: not in this state
def expect_state_refusal(answer: httpx.Response, state: str, number: str) -> None:
    problem = assert_problem(answer, 409, "contract-state")
    assert state in problem["detail"] and number in problem["detail"], problem
    assert problem["state"] == state, problem


def _submit_to_clerk_twice(server: Server) -> tuple[Sale, str, str, dict | None]:
    return Sale(server).to_clerk(), "sales.wang", "submit-to-clerk", None


def _return_after_submission(server: Server) -> tuple[Sale, str, str, dict | None]:
    return Sale(server).in_approval(), "clerk.chen", "return-to-salesperson", {"reason": "add the ID card"}


def _terms_after_submission(server: Server) -> tuple[Sale, str, str, dict | None]:
    return Sale(server).in_approval(), "clerk.chen", "complete-terms", {"payment": "cash"}


def _revise_after_submission(server: Server) -> tuple[Sale, str, str, dict | None]:
    sale = Sale(server).to_clerk()
    return sale, "sales.wang", "revise-draft", {"customer_id": sale.customer["customer_id"],
                                                "lines": [line("140000.00")]}


def _approve_twice(server: Server) -> tuple[Sale, str, str, dict | None]:
    return Sale(server).approved(), "manager.zhao", "approve", None


def _unapprove_in_approval(server: Server) -> tuple[Sale, str, str, dict | None]:
    return Sale(server).in_approval(), "manager.zhao", "unapprove", {"reason": "review"}


def _submit_draft_for_approval(server: Server) -> tuple[Sale, str, str, dict | None]:
    return Sale(server), "clerk.chen", "submit-for-approval", None


@pytest.mark.parametrize("case,state", [
    (_submit_to_clerk_twice, "with_clerk"),
    (_return_after_submission, "in_approval"),
    (_terms_after_submission, "in_approval"),
    (_revise_after_submission, "with_clerk"),
    (_approve_twice, "approved"),
    (_unapprove_in_approval, "in_approval"),
    (_submit_draft_for_approval, "draft"),
], ids=lambda v: getattr(v, "__name__", v).strip("_"))
def test_an_act_that_does_not_fit_the_state_is_refused_with_409(demo_server, case, state):
    server = demo_server
    sale, username, verb, body = case(server)
    assert sale.status == state
    with server.as_user(username) as user, nothing_recorded(server):
        answer = user.post(f"/contracts/{sale.id}/{verb}", json=body)
    with server.as_user("clerk.chen") as chen:
        assert contract(chen, sale.id, sale.position)["status"] == state
    expect_state_refusal(answer, state, sale.number)


def test_submitting_for_approval_without_terms_is_refused(demo_server):
    server = demo_server
    sale = Sale(server).to_clerk()
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        problem = assert_problem(chen.post(f"/contracts/{sale.id}/submit-for-approval"), 409,
                                 "contract-terms-missing")
    assert sale.number in problem["detail"]
    assert sale.id not in queue(server, "manager.zhao", sale.position)


# ------------------------------------------------------------------ nobody approves their own submission
def test_whoever_submitted_for_approval_may_not_decide_it(demo_server):
    server = demo_server
    username, password = unique("clerk.boss.").lower(), "clerk-boss-pass-1"
    with server.as_admin() as admin:
        hefei = next(p["position_id"] for p in ok(admin.get("/positions"))["items"] if p["name"] == "Hefei")
        ok(admin.post("/users", json={"username": username, "display_name": "Clerk who also approves",
                                      "password": password, "roles": ["sales_clerk", "approver"],
                                      "position_ids": [hefei]}), 201)
    sale = Sale(server).to_clerk()
    with server.as_user(username, password) as boss:
        act(boss, sale.id, "complete-terms", CASH_TERMS)
        submitted = act(boss, sale.id, "submit-for-approval")
        assert submitted["status"] == "in_approval"
        p = submitted["position"]
        with nothing_recorded(server):
            problem = assert_problem(boss.post(f"/contracts/{sale.id}/approve"), 403, "own-document")
            assert sale.number in problem["detail"]
            assert_problem(boss.post(f"/contracts/{sale.id}/reject", json={"reason": "my own"}), 403,
                           "own-document")
        assert contract(boss, sale.id, p)["status"] == "in_approval"
    assert sale.id not in queue(server, username, p, password)
    waiting = queue(server, "manager.zhao", p)[sale.id]
    assert waiting["submitted_by_name"] == username
    with server.as_user("manager.zhao") as zhao:   # another approver may
        assert act(zhao, sale.id, "approve")["status"] == "approved"


# ------------------------------------------------------------------ reject and un-approve
def test_a_rejection_needs_a_reason_and_sends_the_contract_back_to_the_clerk(demo_server):
    server = demo_server
    sale = Sale(server).in_approval()
    assert sale.id in queue(server, "manager.zhao", sale.position)
    url = f"/contracts/{sale.id}/reject"
    with server.as_user("manager.zhao") as zhao:
        with nothing_recorded(server):
            assert_problem(zhao.post(url), 400, "invalid-request")
            assert_problem(zhao.post(url, json={}), 400, "invalid-request")
            assert_problem(zhao.post(url, json={"reason": ""}), 400, "invalid-request")
            assert_problem(zhao.post(url, json={"reason": "x" * 501}), 400, "invalid-request")
            assert_problem(zhao.post(url, json={"reason": "   "}), 422, "invalid-value")
        assert contract(zhao, sale.id, sale.position)["status"] == "in_approval"
        reason = "The down payment is missing from the terms."
        rejected = act(zhao, sale.id, "reject", {"reason": reason})
    assert rejected["status"] == "with_clerk" and rejected["waiting_for"] is None
    p = rejected["position"]
    assert sale.id not in queue(server, "manager.zhao", p)
    with server.as_user("clerk.chen") as chen:
        shown = contract(chen, sale.id, p)
        assert (shown["status"], shown["last_reason"]) == ("with_clerk", reason)
        last = history(chen, sale.id)[-1]
        assert (last["event"], last["actor"], last["reason"]) == ("Contract.Rejected", "manager.zhao", reason)
        # The clerk fixes the terms and it goes to the approver again.
        act(chen, sale.id, "complete-terms", {"payment": "cash"})
        again = act(chen, sale.id, "submit-for-approval")
    assert sale.id in queue(server, "manager.zhao", again["position"])


def test_an_approved_contract_is_unapproved_with_a_reason_back_to_the_clerk(demo_server):
    server = demo_server
    sale = Sale(server).approved()
    url = f"/contracts/{sale.id}/unapprove"
    with server.as_user("manager.zhao") as zhao:
        with nothing_recorded(server):
            assert_problem(zhao.post(url), 400, "invalid-request")
            assert_problem(zhao.post(url, json={"reason": ""}), 400, "invalid-request")
        reason = "Customer asked for a different bucket size."
        undone = act(zhao, sale.id, "unapprove", {"reason": reason})
    assert undone["status"] == "with_clerk"
    p = undone["position"]
    with server.as_user("clerk.chen") as chen:
        shown = contract(chen, sale.id, p)
        assert (shown["status"], shown["approved_on"], shown["last_reason"]) == ("with_clerk", None, reason)
        events = history(chen, sale.id)
    assert [e["event"] for e in events][-2:] == ["Contract.Approved", "Contract.Unapproved"]
    assert (events[-1]["actor"], events[-1]["reason"]) == ("manager.zhao", reason)
    assert sale.id not in queue(server, "manager.zhao", p)


# ------------------------------------------------------------------ salesperson privacy
def test_a_salesperson_never_sees_another_salespersons_customers_contacts_or_contracts(demo_server):
    server = demo_server
    users = ("sales.li", "sales.wang", "clerk.chen", "manager.zhao")

    def counts(after: int) -> dict[str, tuple[int, int]]:
        result = {}
        for username in users:
            with server.as_user(username) as user:
                result[username] = (ok(user.get("/customers/counts", params={"after": after}))["total"],
                                    ok(user.get("/contracts/counts", params={"after": after}))["total"])
        return result

    wang_name, li_name = unique("Wang's Quarry "), unique("Li's Farm ")
    with server.as_user("sales.wang") as wang:
        contact = new_contact(wang, name=unique("Wang Contact "))   # counts neither customers nor contracts
        wang_contact = contact["contact_id"]
        before = counts(contact["position"])
        wang_customer = new_customer(wang, name=wang_name)["customer_id"]
        wang_contract = draft(wang, wang_customer, wang_contact)["contract_id"]
    with server.as_user("sales.li") as li:
        li_customer = new_customer(li, name=li_name)["customer_id"]
        li_contact = new_contact(li, name=unique("Li Contact "))["contact_id"]
        li_drafted = draft(li, li_customer, li_contact, "160000.00")
    li_contract, p = li_drafted["contract_id"], li_drafted["position"]
    records = {"sales.wang": (wang_customer, wang_contact, wang_contract),
               "sales.li": (li_customer, li_contact, li_contract)}

    for username in users:
        with server.as_user(username) as user:
            params = {"after": p, "page_size": 500}
            customers = {c["customer_id"]: c for c in ok(user.get("/customers", params=params))["items"]}
            contacts = {c["contact_id"]: c for c in ok(user.get("/contacts", params=params))["items"]}
            contracts = {c["contract_id"]: c for c in ok(user.get("/contracts", params=params))["items"]}
            exported_customers = {r["customer_id"]: r
                                  for r in csv_rows(user.get("/customers/export", params={"after": p}))}
            exported_contracts = {r["contract_id"]: r
                                  for r in csv_rows(user.get("/contracts/export", params={"after": p}))}
        for owner, (customer_id, contact_id, contract_id) in records.items():
            visible = not username.startswith("sales.") or username == owner
            where = (username, owner)
            assert (customer_id in customers) is visible, (*where, "customers")
            assert (customer_id in exported_customers) is visible, (*where, "customer export")
            assert (contact_id in contacts) is visible, (*where, "contacts")
            assert (contract_id in contracts) is visible, (*where, "contracts")
            assert (contract_id in exported_contracts) is visible, (*where, "contract export")
            if visible:
                assert customers[customer_id]["owner"] == exported_customers[customer_id]["owner"] == owner
                assert contracts[contract_id]["salesperson"] == exported_contracts[contract_id]["salesperson"] \
                    == owner
        if username.startswith("sales."):
            # A salesperson's lists hold their own records only, whoever else sells in Hefei.
            assert {c["owner"] for c in customers.values()} == {username}
            assert {r["owner"] for r in exported_customers.values()} == {username}
            assert {c["owner"] for c in contacts.values()} == {username}
            assert {c["salesperson"] for c in contracts.values()} == {username}
            assert {r["salesperson"] for r in exported_contracts.values()} == {username}

    after = counts(p)
    grew = {u: (after[u][0] - before[u][0], after[u][1] - before[u][1]) for u in users}
    assert grew == {"sales.li": (1, 1), "sales.wang": (1, 1), "clerk.chen": (2, 2), "manager.zhao": (2, 2)}

    with server.as_user("sales.li") as li:
        # Naming wang or his customer in a filter shows nothing of his either.
        wang_id = str(ids.user_id("sales.wang"))
        assert ok(li.get("/customers", params={"owner_id": wang_id}))["total"] == 0
        assert ok(li.get("/customers", params={"name": wang_name}))["total"] == 0
        assert ok(li.get("/contacts", params={"name": "Wang Contact"}))["total"] == 0
        assert ok(li.get("/contracts", params={"owner_id": wang_id}))["total"] == 0
        assert ok(li.get("/contracts", params={"customer_id": wang_customer}))["total"] == 0
        assert ok(li.get("/contracts/counts", params={"owner_id": wang_id}))["total"] == 0
        assert csv_rows(li.get("/contracts/export", params={"customer_id": wang_customer})) == []
        assert csv_rows(li.get("/customers/export", params={"name": wang_name})) == []
        assert_problem(li.get(f"/contracts/{wang_contract}"), 404, "contract-not-found")
        assert ok(li.get(f"/contracts/{li_contract}"))["customer_name"] == li_name
    with server.as_user("clerk.chen") as chen:
        assert ok(chen.get("/customers", params={"name": wang_name}))["total"] == 1
        assert ok(chen.get("/contracts", params={"customer_id": li_customer}))["total"] == 1


# ------------------------------------------------------------------ bad input
def _draft_body(**line_changes: Any) -> Any:
    def build(ctx: dict[str, Any]) -> dict[str, Any]:
        entry = {**line(), **line_changes}
        return {"company_id": HF, "customer_id": ctx["customer_id"], "lines": [entry]}
    return build


def _terms_body(**changes: Any) -> Any:
    def build(_: dict[str, Any]) -> dict[str, Any]:
        body = {"payment": "installment", "down_payment": "30000.00",
                "installment": {"months": 12, "annual_rate": "0.0435", "first_due_date": FIRST_INSTALLMENT}}
        for key, value in changes.items():
            if key == "annual_rate":
                body["installment"]["annual_rate"] = value
            elif value is ...:
                body.pop(key)
            else:
                body[key] = value
        return body
    return build


BAD_INPUT = [
    # (id, who, where, body, status, code)
    ("unit-price-three-places", "sales.wang", "draft", _draft_body(unit_price="12.345"), 422, "invalid-value"),
    ("unit-price-negative", "sales.wang", "draft", _draft_body(unit_price="-1"), 422, "invalid-value"),
    ("unit-price-zero", "sales.wang", "draft", _draft_body(unit_price="0.00"), 422, "invalid-value"),
    ("unit-price-nan", "sales.wang", "draft", _draft_body(unit_price="NaN"), 422, "invalid-value"),
    ("unit-price-infinity", "sales.wang", "draft", _draft_body(unit_price="Infinity"), 422, "invalid-value"),
    ("unit-price-too-large", "sales.wang", "draft", _draft_body(unit_price="10000000000.00"), 422,
     "invalid-value"),
    ("unit-price-not-money", "sales.wang", "draft", _draft_body(unit_price="abc"), 400, "invalid-request"),
    ("quantity-zero", "sales.wang", "draft", _draft_body(quantity=0), 400, "invalid-request"),
    ("quantity-too-large", "sales.wang", "draft", _draft_body(quantity=1001), 400, "invalid-request"),
    ("unknown-line-field", "sales.wang", "draft", _draft_body(discount="10.00"), 400, "invalid-request"),
    ("unknown-field", "sales.wang", "draft",
     lambda ctx: {**_draft_body()(ctx), "owner_id": str(ids.user_id("sales.li"))}, 400, "invalid-request"),
    ("no-lines", "sales.wang", "draft", lambda ctx: {"company_id": HF, "customer_id": ctx["customer_id"],
                                                     "lines": []}, 400, "invalid-request"),
    ("unknown-model", "sales.wang", "draft", _draft_body(model_id=NOWHERE), 404, "machine-model-not-found"),
    ("annual-rate-above-one", "clerk.chen", "terms", _terms_body(annual_rate="1.5"), 422, "invalid-value"),
    ("annual-rate-seven-places", "clerk.chen", "terms", _terms_body(annual_rate="0.0435001"), 422,
     "invalid-value"),
    ("annual-rate-not-a-number", "clerk.chen", "terms", _terms_body(annual_rate="4.35%"), 400,
     "invalid-request"),
    ("down-payment-not-money", "clerk.chen", "terms", _terms_body(down_payment="abc"), 400, "invalid-request"),
    ("deposit-not-money", "clerk.chen", "terms", _terms_body(warranty_deposit="abc"), 400, "invalid-request"),
    ("installment-without-terms", "clerk.chen", "terms", _terms_body(installment=...), 422, "invalid-value"),
    ("cash-with-installment-terms", "clerk.chen", "terms", _terms_body(payment="cash", down_payment="0.00"), 422,
     "invalid-value"),
    ("deposit-without-due-date", "clerk.chen", "terms", _terms_body(warranty_deposit="5000.00"), 422,
     "invalid-value"),
    ("down-payment-covers-all", "clerk.chen", "terms", _terms_body(down_payment="150000.00"), 422,
     "invalid-value"),
    ("unknown-payment-method", "clerk.chen", "terms", _terms_body(payment="barter"), 400, "invalid-request"),
    ("unknown-terms-field", "clerk.chen", "terms", _terms_body(discount="1.00"), 400, "invalid-request"),
]


@pytest.fixture(scope="module")
def bad_input_context(demo_server) -> dict[str, Any]:
    sale = Sale(demo_server).to_clerk()
    return {"customer_id": sale.customer["customer_id"], "contract_id": sale.id, "position": sale.position}


@pytest.mark.parametrize("who,where,build,status,code",
                         [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUT])
def test_bad_input_is_a_problem_never_a_500_and_records_nothing(demo_server, bad_input_context, who, where,
                                                                  build, status, code):
    ctx = bad_input_context
    url = "/contracts" if where == "draft" else f"/contracts/{ctx['contract_id']}/complete-terms"
    with demo_server.as_user(who) as user, nothing_recorded(demo_server):
        assert_problem(user.post(url, json=build(ctx)), status, code)
    with demo_server.as_user("clerk.chen") as chen:
        shown = contract(chen, ctx["contract_id"], ctx["position"])
        assert (shown["status"], shown["terms"]) == ("with_clerk", None)


# ------------------------------------------------------------------ rule change in flight (own server)
def test_a_rule_changed_in_flight_leaves_submitted_contracts_on_their_old_route(store, launcher):
    """A Hefei rule (which wins over the group rule) adds 'Group finance' to every amount. A contract
    submitted before keeps its one-step route; one submitted after needs both steps."""
    data = launcher.new_store(store)
    data.run_cli("demo")
    server = launcher.serve(data)
    before = Sale(server).in_approval()
    after = Sale(server).with_terms()
    assert queue(server, "manager.zhao", before.position)[before.id]["steps_total"] == 1

    rule = {"document_type": "sales_contract", "company_id": HF, "bands": [{"from_amount": "0.00", "steps": [
        {"name": "Sales manager", "role": "approver"},
        {"name": "Group finance", "role": "finance", "scope": "group"}]}]}
    with server.as_user("manager.zhao") as zhao, nothing_recorded(server):
        assert_problem(zhao.post("/approvals/rules", json=rule), 403, "forbidden")
    with server.as_admin() as admin:
        set_rule = ok(admin.post("/approvals/rules", json=rule), 201)
        assert (set_rule["company_id"], set_rule["revision"]) == (HF, 1)
        rules = ok(admin.get("/approvals/rules", params={"after": set_rule["position"]}))["items"]
    hefei_rule = next(r for r in rules if r["company_id"] == HF)
    assert [s["name"] for s in hefei_rule["bands"][0]["steps"]] == ["Sales manager", "Group finance"]
    assert any(r["company_id"] is None for r in rules)   # the group rule is still there
    with server.as_user("manager.zhao") as zhao:   # Hefei people see the rule that applies to them
        assert HF in {r["company_id"] for r in ok(zhao.get("/approvals/rules"))["items"]}

    # Submitted before the change: one step, as it was when submitted.
    assert queue(server, "manager.zhao", set_rule["position"])[before.id]["steps_total"] == 1
    with server.as_user("manager.zhao") as zhao:
        done = act(zhao, before.id, "approve")
    assert (done["status"], done["waiting_for"]) == ("approved", None)
    assert before.id not in queue(server, "finance.sun", done["position"])

    # Submitted after the change: the sales manager, then group finance.
    with server.as_user("clerk.chen") as chen:
        submitted = act(chen, after.id, "submit-for-approval")
    assert queue(server, "manager.zhao", submitted["position"])[after.id]["steps_total"] == 2
    with server.as_user("manager.zhao") as zhao:
        passed = act(zhao, after.id, "approve")
    assert (passed["status"], passed["waiting_for"]) == ("in_approval", {"step": "Group finance", "role": "finance"})
    assert after.id in queue(server, "finance.sun", passed["position"])
    with server.as_user("finance.sun") as sun:
        assert act(sun, after.id, "approve")["status"] == "approved"
    with server.as_user("clerk.chen") as chen:
        assert contract(chen, before.id, passed["position"])["status"] == "approved"
        assert [e["event"] for e in history(chen, before.id)][-1] == "Contract.Approved"
        assert [e["event"] for e in history(chen, after.id)][-2:] == ["Contract.ApprovalStepPassed",
                                                                      "Contract.Approved"]
