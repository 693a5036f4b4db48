"""Debt collection over HTTP (催收), each act by the role that does it.

The demo (interfaces/demo.py) gives the people: finance.sun (whole group) is the
office that assigns debts to collectors and may act on any debt; collector.zhang
collects the demo's overdue sale; clerk.chen records receipts, applies for
settlements and registers locks, unlocks and tows; keeper.hf receives towed
machines back; manager.zhao decides Hefei applications (step 1) and group finance
(finance.sun) those from 100,000.00 (step 2); risk.manager is approver and finance
for Chuzhou + Chizhou only. The collection approval rules are the demo's.

**Overdue debts over HTTP.** Assignment, lock, unlock and tow need an overdue
debt, and a contract approved today owes nothing before tomorrow. The module
fixture ``shifted`` therefore makes a store of its own: the demo is loaded and the
contracts of these tests are approved, picked and dispatched by a server whose
business date is day D (``IRONLEDGER_UTC_OFFSET_HOURS`` -12); that server stops and
one at offset +12 (24 hours later: always day D + 1, whatever the hour of the run)
serves the tests. What fell due on D (down payment, full price of a cash sale) is
then one day overdue. No penalty accrues on those debts (day D + 1 has not ended).
The demo's own overdue sale of that store (approved in December 2025, penalty
accrued since April) is the debt with penalty interest: the interest waiver is
tried on it, privately to this module, so the shared demo server never sees it.

The shared demo server (as in the other e2e modules) serves what needs no overdue
debt: the settlement of a paid-up cash sale, the refusals of debts that are not
overdue, self-approval and bad bodies. Every read that follows a command is asked
with ``after`` = that command's position; refusals are checked against the event
log itself (``nothing_recorded``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from domain import ids
from interfaces.demo import DEMO_PASSWORD
from tests.e2e.conftest import (
    CZ,
    CZ_MAIN,
    HF,
    HF_MAIN,
    SY215C,
    Launcher,
    Server,
    assert_problem,
    every,
    nothing_recorded,
    ok,
    server_today,
    unique,
)
from tests.e2e.test_receivables import Deal

HEFEI, CHUZHOU = str(ids.position_id("Hefei")), str(ids.position_id("Chuzhou"))
ZHANG = str(ids.user_id("collector.zhang"))
EARLY, LATE = "-12", "12"         # UTC offsets 24 hours apart: business dates D and D + 1
CASH = {"payment": "cash"}
NOWHERE = "5b7f7e1e-0000-4000-8000-000000000000"   # a well-formed id nothing has


# ------------------------------------------------------------------ helpers
def user(server: Server, username: str) -> httpx.Client:
    """A client of a demo user, the administrator or a user made here (with the demo's password)."""
    return server.as_admin() if username == "admin" else server.as_user(username)


def new_user(server: Server, role: str, position: str, prefix: str) -> tuple[str, str]:
    """A user made by the administrator with one role and one position: (username, user_id).
    The demo's password, so that ``Deal.do`` signs them in too."""
    username = unique(prefix).lower()
    made = post(server, "admin", "/users", {"username": username, "display_name": f"{prefix} (collection tests)",
                                            "password": DEMO_PASSWORD, "roles": [role],
                                            "position_ids": [position]}, 201)
    return username, made["user_id"]


def post(server: Server, username: str, path: str, body: dict[str, Any] | None = None,
         status: int = 200) -> dict[str, Any]:
    with user(server, username) as client:
        return ok(client.post(path, json=body), status)


def get(server: Server, username: str, path: str, after: int, **params: Any) -> dict[str, Any]:
    with user(server, username) as client:
        return ok(client.get(path, params={"after": after, **params}))


def receive_unit(server: Server, warehouse: str = HF_MAIN) -> str:
    """An SY215C unit of our own, in stock; answers its serial number."""
    serial = unique("SY215C")
    post(server, "admin", "/machines/receive", {"serial_number": serial, "model_id": SY215C,
                                                "warehouse_id": warehouse, "nature": "purchased_sample"}, 201)
    return serial


def deliver(deal: Deal) -> str:
    """A unit of the deal's company picked, reviewed by finance and dispatched: out with the customer."""
    hefei = deal.company == HF
    serial = receive_unit(deal.server, HF_MAIN if hefei else CZ_MAIN)
    url = f"/contracts/{deal.id}/delivery"
    post(deal.server, "sales.wang" if hefei else "admin", f"{url}/pick", {"serial_number": serial})
    post(deal.server, "finance.sun", f"{url}/review", {"outbound_no": 1})
    deal.position = post(deal.server, "keeper.hf" if hefei else "keeper.cz", f"{url}/dispatch",
                         {"outbound_no": 1})["position"]
    return serial


def pay(deal: Deal, amount: str | Decimal, day: date, penalty_last: bool = False,
        recorder: str = "clerk.chen", confirmer: str = "finance.sun") -> dict[str, Any]:
    """A receipt recorded and confirmed (by two people)."""
    body = {"amount": str(amount), "value_date": day.isoformat(), "method": "bank_transfer",
            "penalty_last": penalty_last}
    receipt = deal.do(recorder, "/receipts", body, 201)["receipt_id"]
    return deal.confirm(receipt, confirmer)


def application_url(application_id: str) -> str:
    return f"/collection-applications/{application_id}"


def apply(deal: Deal, username: str, kind: str, serial: str | None = None, reason: str = "Overdue; no answer.",
          **body: Any) -> dict[str, Any]:
    """ApplyLock / ApplyUnlock / ApplyTow / ApplyInterestWaiver / ApplySettlement (``kind`` is the path)."""
    if serial is not None:
        body["serial_number"] = serial
    made = deal.do(username, f"/{kind}", {**body, "reason": reason}, 201)
    assert made["status"] == "in_approval" and made["contract_id"] == deal.id, made
    return made


def decide(server: Server, username: str, application_id: str, decision: str = "approve",
           reason: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    return post(server, username, f"{application_url(application_id)}/decide", body)


def approve_all(server: Server, application: dict[str, Any]) -> dict[str, Any]:
    """Every step of a Hefei application's route approved by the people whose step it is
    (manager.zhao, then group finance); answers the last decision (its ``position``)."""
    deciders = {"approver": "manager.zhao", "finance": "finance.sun"}
    while application["status"] == "in_approval":
        application = decide(server, deciders[application["waiting_for"]["role"]], application["application_id"])
    assert application["status"] == "approved" and application["waiting_for"] is None, application
    return application


def register(server: Server, username: str, application_id: str, act: str, body: dict[str, Any]) -> dict[str, Any]:
    """RegisterLocked / RegisterUnlocked / RegisterTow / ReceiveRepossessedMachine."""
    return post(server, username, f"{application_url(application_id)}/{act}", body)


def queue(server: Server, username: str, after: int, document_type: str) -> dict[str, dict[str, Any]]:
    """ListMyApprovals of one document type, by document id."""
    with user(server, username) as client:
        return {row["document_id"]: row for row in every(client, "/approvals/mine", after,
                                                         document_type=document_type)}


def receivable(server: Server, contract_id: str, after: int, username: str = "finance.sun",
               **params: Any) -> dict[str, Any]:
    return get(server, username, f"/receivables/{contract_id}", after, **params)


def application(server: Server, application_id: str, after: int, username: str = "finance.sun") -> dict[str, Any]:
    return get(server, username, application_url(application_id), after)


def applications(server: Server, username: str, after: int, **params: Any) -> dict[str, dict[str, Any]]:
    with user(server, username) as client:
        return {a["application_id"]: a for a in every(client, "/collection-applications", after, **params)}


def machine(server: Server, serial: str, after: int) -> dict[str, Any]:
    return get(server, "clerk.chen", f"/machines/{serial}", after)


def machine_events(server: Server, serial: str) -> list[str]:
    with user(server, "clerk.chen") as chen:
        return [e["event"] for e in ok(chen.get(f"/machines/{serial}/history"))["events"]]


def exported_ids(server: Server, username: str, after: int, **params: Any) -> dict[str, dict[str, str]]:
    with user(server, username) as client:
        answer = client.get("/receivables/export", params={"after": after, **params})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv"), answer.text[:300]
    return {row["contract_id"]: row for row in csv.DictReader(io.StringIO(answer.text))}


def at(day: date, hour: int = 9) -> str:
    """A moment of ``day`` with its time zone (the dealer's, UTC+8)."""
    return datetime(day.year, day.month, day.day, hour, 30, tzinfo=timezone(timedelta(hours=8))).isoformat()


def yuan(value: str | Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


class Known(Deal):
    """A receivable this module did not make (the demo's overdue sale), addressed like a Deal."""

    def __init__(self, server: Server, contract_id: str, company: str = HF) -> None:
        self.server, self.id, self.company, self.position = server, contract_id, company, 0


# ------------------------------------------------------------------ the store with overdue debts
@dataclass
class Shifted:
    """A store of this module's own, served on ``today`` = D + 1; its deals approved on ``early_day`` = D."""

    server: Server
    early_day: date
    today: date
    deals: dict[str, Deal] = field(default_factory=dict)
    serials: dict[str, str] = field(default_factory=dict)
    demo_sale: str = ""
    demo_lock: str = ""
    position: int = 0            # of the last command of the setup


# name: (terms, price, company, with a dispatched machine). The installment sales owe
# 10,000.00 down on D and their first installment on D + 10.
SHIFTED_DEALS = {
    "listed_paid": ("installments", "100000.00", HF, False),
    "listed_overdue": (CASH, "50000.00", HF, False),
    "order_paid": ("installments", "100000.00", HF, False),
    "order_overdue": (CASH, "40000.00", HF, False),
    "assign_refusals": (CASH, "45000.00", HF, False),
    "lock": (CASH, "150000.00", HF, True),
    "tow": (CASH, "90000.00", HF, True),
    "settled_lock": (CASH, "70000.00", HF, True),
    "scope_hf": (CASH, "80000.00", HF, True),
    "scope_cz": (CASH, "65000.00", CZ, True),
}


@pytest.fixture(scope="module")
def shifted(store: str, request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shifted]:
    if store == "postgres":  # set up first, so that the database is dropped after the servers stop
        request.getfixturevalue("postgres_database")
    launcher = Launcher(request, tmp_path_factory.mktemp("e2e-collection"))
    try:
        data = launcher.new_store(store)
        data.run_cli("demo", utc_offset_hours=EARLY)
        early = launcher.serve(data, utc_offset_hours=EARLY)
        day = server_today(early)
        installments = {"payment": "installment", "down_payment": "10000.00",
                        "installment": {"months": 12, "annual_rate": "0.0435",
                                        "first_due_date": (day + timedelta(days=10)).isoformat()}}
        deals: dict[str, Deal] = {}
        serials: dict[str, str] = {}
        for name, (terms, price, company, dispatched) in SHIFTED_DEALS.items():
            deals[name] = Deal(early, installments if terms == "installments" else terms, price=price,
                               company=company)
            if dispatched:
                serials[name] = deliver(deals[name])
        early.stop()

        late = launcher.serve(data, utc_offset_hours=LATE)
        today = server_today(late)
        # Always D + 1, unless the setup straddled midnight at UTC-12 (12:00 UTC): said here, loudly.
        assert today == day + timedelta(days=1), (day, today)
        for deal in deals.values():
            deal.server = late
        last = max(deal.position for deal in deals.values())
        with late.as_user("finance.sun") as sun:
            zhangs = every(sun, "/receivables", last, collector_id=ZHANG)
            assert len(zhangs) == 1, zhangs
            demo_sale = zhangs[0]["contract_id"]
            locks = every(sun, "/collection-applications", last, contract_id=demo_sale,
                          document_type="machine_lock")
            assert len(locks) == 1 and locks[0]["status"] == "in_approval", locks
            # Every deal is one day overdue on the server's day.
            overdue = {r["contract_id"]: r["days_past_due"] for r in every(sun, "/receivables", last)}
            assert {overdue[deal.id] for deal in deals.values()} == {1}, overdue
        yield Shifted(late, day, today, deals, serials, demo_sale, locks[0]["application_id"], last)
    finally:
        launcher.close()


# ------------------------------------------------------------------ 1. assignment, logs, my collections
def test_the_office_assigns_overdue_debts_and_the_collector_logs_and_lists_them(shifted):
    server, today = shifted.server, shifted.today
    paid, overdue = shifted.deals["listed_paid"], shifted.deals["listed_overdue"]
    collector, collector_id = new_user(server, "collector", HEFEI, "coll.hf")
    for deal in (paid, overdue):
        before = receivable(server, deal.id, deal.position)
        assert before["days_past_due"] == 1 and before["collection"]["collector_id"] is None, before
        assigned = deal.do("finance.sun", "/collector", {"collector_id": collector_id})
        assert assigned["collector_id"] == collector_id and assigned["settled"] is False, assigned
    # The installment sale's down payment is paid after the assignment: not overdue today any
    # more, but its first installment (due D + 10) is by D + 46.
    pay(paid, "10000.00", today)
    assert receivable(server, paid.id, paid.position)["days_past_due"] == 0

    promised = (today + timedelta(days=7)).isoformat()
    written = overdue.do(collector, "/collection-logs", {
        "contact_date": today.isoformat(), "contact_person": "Mr Gao, site manager", "channel": "visit",
        "result": "Promises to pay the machine by the end of next week.", "promised_date": promised,
        "promised_amount": "50000.00"}, 201)
    assert written["log_id"] and written["collector_id"] == collector_id

    shown = receivable(server, overdue.id, overdue.position, username=collector)
    collection = shown["collection"]
    assert (collection["collector_id"], collection["collector_name"]) == (collector_id, collector)
    assert collection["assigned_on"] == collection["last_contact_date"] == today.isoformat()
    assert collection["last_contact_result"] == "Promises to pay the machine by the end of next week."
    assert (collection["promised_date"], collection["promised_amount"]) == (promised, "50000.00")
    assert (collection["locked"], collection["tow_pending"], collection["tow_state"], collection["settled"]) == \
        (False, False, None, False)
    [log] = shown["collection_logs"]
    assert (log["log_id"], log["channel"], log["contact_person"], log["written_by_name"]) == \
        (written["log_id"], "visit", "Mr Gao, site manager", collector)

    later = today + timedelta(days=45)
    with user(server, collector) as client:
        mine = ok(client.get("/collections/mine", params={"after": overdue.position, "as_of": later.isoformat()}))
    assert mine["as_of"] == later.isoformat() and mine["total"] == 2
    # Longest overdue first: the cash sale (due D) before the installment sale (I1 due D + 10).
    assert [(r["contract_id"], r["days_past_due"]) for r in mine["items"]] == [(overdue.id, 46), (paid.id, 36)]
    assert mine["items"][0]["collection"]["last_contact_date"] == today.isoformat()
    # Another collector's list does not show them; finance finds them by collector.
    with user(server, "collector.zhang") as zhang:
        theirs = {r["contract_id"] for r in every(zhang, "/collections/mine", overdue.position)}
    assert not {paid.id, overdue.id} & theirs and shifted.demo_sale in theirs
    with user(server, "finance.sun") as sun:
        assert {r["contract_id"] for r in every(sun, "/receivables", overdue.position, collector_id=collector_id)} \
            == {paid.id, overdue.id}

    # Given to another collector, the debt leaves the first one's list.
    assert overdue.do("finance.sun", "/collector", {"collector_id": ZHANG})["collector_id"] == ZHANG
    with user(server, collector) as client:
        assert [r["contract_id"] for r in every(client, "/collections/mine", overdue.position)] == [paid.id]
    with user(server, "auditor") as auditor:
        events = [e["event"] for e in ok(auditor.get(f"/receivables/{overdue.id}/history"))]
    assert events.count("Debt.CollectorAssigned") == 2 and events.count("Debt.CollectionLogged") == 1


def test_assignments_and_logs_the_business_refuses_record_nothing(shifted):
    server, today = shifted.server, shifted.today
    deal = shifted.deals["assign_refusals"]
    cz_collector, cz_collector_id = new_user(server, "collector", CHUZHOU, "coll.cz")
    hf_collector, hf_collector_id = new_user(server, "collector", HEFEI, "coll.hf")
    log = {"contact_date": today.isoformat(), "contact_person": "Mr Gao", "channel": "phone", "result": "Called."}
    with nothing_recorded(server):
        with user(server, "finance.sun") as sun:
            # Not a collector; a collector whose positions do not reach Hefei; nobody at all.
            for collector_id in (str(ids.user_id("sales.wang")), cz_collector_id):
                problem = assert_problem(sun.post(f"{deal.url}/collector", json={"collector_id": collector_id}),
                                         422, "invalid-value", collector_id)
                assert problem["field"] == "collector_id"
            assert_problem(sun.post(f"{deal.url}/collector", json={"collector_id": NOWHERE}), 404, "user-not-found")
            assert_problem(sun.post(f"/receivables/{NOWHERE}/collector", json={"collector_id": hf_collector_id}),
                           404, "receivable-not-found")
        with user(server, hf_collector) as collector:
            # Only the office assigns; the debt is not this collector's, so no log either.
            assert_problem(collector.post(f"{deal.url}/collector", json={"collector_id": hf_collector_id}),
                           403, "forbidden")
            assert_problem(collector.post(f"{deal.url}/collection-logs", json=log), 403, "not-your-collection")
        with user(server, "clerk.chen") as chen:
            assert_problem(chen.post(f"{deal.url}/collection-logs", json=log), 403, "forbidden")
        with user(server, cz_collector) as collector:
            assert_problem(collector.post(f"{deal.url}/collection-logs", json=log), 404, "receivable-not-found")
    deal.do("finance.sun", "/collector", {"collector_id": hf_collector_id})
    with nothing_recorded(server):
        with user(server, "finance.sun") as sun:
            assert_problem(sun.post(f"{deal.url}/collector", json={"collector_id": hf_collector_id}),
                           409, "nothing-changed")
        with user(server, hf_collector) as collector:
            for changes, field_name in (
                    ({"contact_date": (today + timedelta(days=1)).isoformat()}, "contact_date"),
                    ({"contact_date": (shifted.early_day - timedelta(days=1)).isoformat()}, "contact_date"),
                    ({"promised_date": shifted.early_day.isoformat()}, "promised_date"),
                    ({"promised_amount": "100.00"}, "promised_date"),
                    ({"promised_date": today.isoformat(), "promised_amount": "0.00"}, "promised_amount"),
                    ({"contact_person": "   "}, "contact_person"),
                    ({"result": " "}, "result")):
                problem = assert_problem(collector.post(f"{deal.url}/collection-logs", json={**log, **changes}),
                                         422, "invalid-value", changes)
                assert problem["field"] == field_name, problem
    assert receivable(server, deal.id, deal.position)["collection_logs"] == []


def test_my_collections_list_a_debt_no_longer_overdue_after_the_overdue_ones(shifted, store, request):
    """ListMyCollections promises "longest overdue first": a debt assigned while overdue, then
    paid up to date (0 days past due), comes after one still overdue, on either store."""
    server, today = shifted.server, shifted.today
    paid, overdue = shifted.deals["order_paid"], shifted.deals["order_overdue"]
    collector, collector_id = new_user(server, "collector", HEFEI, "coll.order")
    for deal in (paid, overdue):
        deal.do("finance.sun", "/collector", {"collector_id": collector_id})
    pay(paid, "10000.00", today)
    with user(server, collector) as client:
        mine = ok(client.get("/collections/mine", params={"after": max(paid.position, overdue.position)}))
    days = [(r["contract_id"], r["days_past_due"]) for r in mine["items"]]
    assert sorted(d for _, d in days) == [0, 1], days
    assert days == [(overdue.id, 1), (paid.id, 0)], days
    with user(server, "finance.sun") as sun:
        ordered = every(sun, "/receivables", max(paid.position, overdue.position), collector_id=collector_id,
                        order="days_past_due")
    assert [r["contract_id"] for r in ordered] == [overdue.id, paid.id]


# ------------------------------------------------------------------ 2. lock and unlock
def test_a_machine_is_locked_and_unlocked_through_approved_applications(shifted):
    server, today = shifted.server, shifted.today
    deal, serial = shifted.deals["lock"], shifted.serials["lock"]
    deal.do("finance.sun", "/collector", {"collector_id": ZHANG})

    # The collector applies; 150,000.00 overdue: the sales manager, then group finance.
    lock = apply(deal, "collector.zhang", "lock-applications", serial.lower(), "Cash sale unpaid; no answer.")
    lock_id = lock["application_id"]
    assert (lock["document_type"], lock["serial_number"], lock["amount"]) == ("machine_lock", serial, "150000.00")
    assert lock["waiting_for"] == {"step": 1, "step_name": "Sales manager", "role": "approver"}
    shown = application(server, lock_id, deal.position, "collector.zhang")
    assert shown["facts"] == {"overdue_amount": "150000.00", "days_past_due": 1,
                              "principal_outstanding": "150000.00", "penalty_outstanding": "0.00"}
    assert (shown["status"], shown["applied_by_name"], shown["statement"], shown["company_code"]) == \
        ("in_approval", "collector.zhang", "Cash sale unpaid; no answer.", "HF")
    assert lock_id in queue(server, "manager.zhao", deal.position, "machine_lock")
    assert lock_id not in queue(server, "manager.zhao", deal.position, "machine_unlock")
    assert lock_id not in queue(server, "finance.sun", deal.position, "machine_lock")
    assert receivable(server, deal.id, deal.position)["collection"]["open_applications"] == 1

    with nothing_recorded(server):
        with user(server, "clerk.chen") as chen:          # not approved yet
            assert_problem(chen.post(f"{application_url(lock_id)}/register-locked", json={"at": at(today)}),
                           409, "application-state")
        with user(server, "collector.zhang") as zhang:    # one lock application of a machine at a time
            problem = assert_problem(zhang.post(f"{deal.url}/lock-applications",
                                                json={"serial_number": serial, "reason": "Again"}),
                                     409, "application-pending")
            assert problem["application_id"] == lock_id
            assert_problem(zhang.post(f"{deal.url}/lock-applications",      # not a machine of this contract
                                      json={"serial_number": shifted.serials["tow"], "reason": "Wrong one"}),
                           404, "machine-unit-not-found")
            assert_problem(zhang.post(f"{application_url(lock_id)}/decide", json={"decision": "approve"}),
                           403, "own-document")
        with user(server, "finance.sun") as sun:          # not finance's step yet
            assert_problem(sun.post(f"{application_url(lock_id)}/decide", json={"decision": "approve"}),
                           403, "not-your-approval-step")
        with user(server, "manager.zhao") as zhao:        # a rejection says why
            assert_problem(zhao.post(f"{application_url(lock_id)}/decide", json={"decision": "reject"}),
                           422, "invalid-value")

    first = decide(server, "manager.zhao", lock_id)
    assert first["status"] == "in_approval"
    assert first["waiting_for"] == {"step": 2, "step_name": "Group finance", "role": "finance"}
    assert lock_id not in queue(server, "manager.zhao", first["position"], "machine_lock")
    assert queue(server, "finance.sun", first["position"], "machine_lock")[lock_id]["step"] == 2
    approved = decide(server, "finance.sun", lock_id)
    assert approved["status"] == "approved" and approved["waiting_for"] is None
    p = approved["position"]
    assert lock_id not in queue(server, "finance.sun", p, "machine_lock")
    shown = application(server, lock_id, p)
    assert (shown["status"], shown["decided_by"], shown["decided_on"]) == \
        ("approved", str(ids.user_id("finance.sun")), today.isoformat())
    assert machine(server, serial, p)["locked"] is False      # approved is not done

    locked = register(server, "clerk.chen", lock_id, "register-locked", {"at": at(today)})
    assert locked["status"] == "done"
    p = locked["position"]
    assert machine(server, serial, p)["locked"] is True
    shown = application(server, lock_id, p)
    assert shown["status"] == "done" and shown["details"]["locked_at"].startswith(today.isoformat())
    collection = receivable(server, deal.id, p)["collection"]
    assert (collection["locked"], collection["locked_machines"], collection["open_applications"]) == (True, 1, 0)

    with nothing_recorded(server):
        with user(server, "collector.zhang") as zhang:    # never locked twice
            assert_problem(zhang.post(f"{deal.url}/lock-applications",
                                      json={"serial_number": serial, "reason": "Lock it again"}),
                           409, "machine-lock-state")
        with user(server, "clerk.chen") as chen:          # done is done; a lock is not an unlock
            assert_problem(chen.post(f"{application_url(lock_id)}/register-locked", json={"at": at(today)}),
                           409, "application-state")
            assert_problem(chen.post(f"{application_url(lock_id)}/register-unlocked", json={"at": at(today)}),
                           409, "application-state")
            assert_problem(chen.post(f"{application_url(lock_id)}/register-tow",
                                     json={"towed_on": today.isoformat(), "place": "Site", "people": ["Li"]}),
                           409, "application-state")

    unlock = apply(deal, "collector.zhang", "unlock-applications", serial, "Paid a first part; promises the rest.")
    unlock_id = unlock["application_id"]
    assert unlock["document_type"] == "machine_unlock"
    assert unlock_id in queue(server, "manager.zhao", deal.position, "machine_unlock")
    with nothing_recorded(server), user(server, "clerk.chen") as chen:
        assert_problem(chen.post(f"{application_url(unlock_id)}/register-unlocked", json={"at": at(today)}),
                       409, "application-state")
    approved = approve_all(server, unlock)
    assert unlock_id not in queue(server, "manager.zhao", approved["position"], "machine_unlock")
    with nothing_recorded(server), user(server, "clerk.chen") as chen:    # not in the future
        assert_problem(chen.post(f"{application_url(unlock_id)}/register-unlocked",
                                 json={"at": at(today + timedelta(days=2))}), 422, "invalid-value")
    unlocked = register(server, "clerk.chen", unlock_id, "register-unlocked", {"at": at(today, 15)})
    p = unlocked["position"]
    assert unlocked["status"] == "done"
    assert machine(server, serial, p)["locked"] is False
    collection = receivable(server, deal.id, p)["collection"]
    assert (collection["locked"], collection["locked_machines"], collection["open_applications"]) == (False, 0, 0)
    with nothing_recorded(server), user(server, "collector.zhang") as zhang:    # nothing left to unlock
        assert_problem(zhang.post(f"{deal.url}/unlock-applications",
                                  json={"serial_number": serial, "reason": "Unlock it again"}),
                       409, "machine-lock-state")
    assert machine_events(server, serial)[-2:] == ["MachineUnit.Locked", "MachineUnit.Unlocked"]
    listed = applications(server, "finance.sun", p, contract_id=deal.id)
    assert {k: v["status"] for k, v in listed.items()} == {lock_id: "done", unlock_id: "done"}
    assert set(applications(server, "finance.sun", p, contract_id=deal.id, document_type="machine_unlock")) == \
        {unlock_id}


# ------------------------------------------------------------------ 3. tow and repossession
def test_a_locked_machine_is_towed_back_received_as_repossessed_and_sold_again(shifted):
    server, today = shifted.server, shifted.today
    deal, serial = shifted.deals["tow"], shifted.serials["tow"]
    deal.do("finance.sun", "/collector", {"collector_id": ZHANG})
    lock = apply(deal, "collector.zhang", "lock-applications", serial, "No payment.")
    assert lock["waiting_for"]["role"] == "approver"
    approve_all(server, lock)        # 90,000.00: the sales manager alone
    register(server, "clerk.chen", lock["application_id"], "register-locked", {"at": at(today)})

    tow = apply(deal, "collector.zhang", "tow-applications", serial, "Locked and still no payment; site closing.")
    tow_id = tow["application_id"]
    collection = receivable(server, deal.id, deal.position)["collection"]
    assert (collection["tow_pending"], collection["tow_state"], collection["locked"]) == (True, "in_approval", True)
    assert tow_id in queue(server, "manager.zhao", deal.position, "tow")

    people = ["Li Ming", "Wu Gang"]
    towing = {"towed_on": today.isoformat(), "place": "Feixi site", "people": people}
    with nothing_recorded(server):
        with user(server, "clerk.chen") as chen:          # before approval
            assert_problem(chen.post(f"{application_url(tow_id)}/register-tow", json=towing),
                           409, "application-state")
        with user(server, "keeper.hf") as keeper:
            assert_problem(keeper.post(f"{application_url(tow_id)}/receive-machine", json={"warehouse_id": HF_MAIN}),
                           409, "application-state")
        with user(server, "collector.zhang") as zhang:    # the collector does not register the act
            assert_problem(zhang.post(f"{application_url(tow_id)}/register-tow", json=towing), 403, "forbidden")
            assert_problem(zhang.post(f"{deal.url}/tow-applications",
                                      json={"serial_number": serial, "reason": "Twice"}), 409, "application-pending")
    approved = approve_all(server, tow)
    p = approved["position"]
    assert tow_id not in queue(server, "manager.zhao", p, "tow")
    assert receivable(server, deal.id, p)["collection"]["tow_state"] == "approved"

    with nothing_recorded(server), user(server, "clerk.chen") as chen:
        assert_problem(chen.post(f"{application_url(tow_id)}/register-tow",
                                 json={**towing, "towed_on": (today + timedelta(days=1)).isoformat()}),
                       422, "invalid-value")
        assert_problem(chen.post(f"{application_url(tow_id)}/register-tow", json={**towing, "people": ["  "]}),
                       422, "invalid-value")
        assert_problem(chen.post(f"{application_url(tow_id)}/receive-machine", json={"warehouse_id": HF_MAIN}),
                       409, "application-state")      # not towed yet
    towed = register(server, "clerk.chen", tow_id, "register-tow", towing)
    assert towed["status"] == "towed"
    p = towed["position"]
    unit = machine(server, serial, p)
    assert (unit["status"], unit["contract_id"]) == ("repossessed", deal.id)
    assert receivable(server, deal.id, p)["collection"]["tow_state"] == "towed"
    assert application(server, tow_id, p)["details"] == {"towed_on": today.isoformat(), "place": "Feixi site",
                                                        "people": people}

    with nothing_recorded(server):
        with user(server, "keeper.hf") as keeper:     # the Chuzhou warehouse is not theirs to see
            assert_problem(keeper.post(f"{application_url(tow_id)}/receive-machine", json={"warehouse_id": CZ_MAIN}),
                           404)
        with server.as_admin() as admin:               # back to a main warehouse of its own company only
            assert_problem(admin.post(f"{application_url(tow_id)}/receive-machine", json={"warehouse_id": CZ_MAIN}),
                           422, "warehouse-cannot-hold-machines")
        with user(server, "collector.zhang") as zhang:
            assert_problem(zhang.post(f"{application_url(tow_id)}/receive-machine", json={"warehouse_id": HF_MAIN}),
                           403, "forbidden")
    received = register(server, "keeper.hf", tow_id, "receive-machine", {"warehouse_id": HF_MAIN})
    assert received["status"] == "done"
    p = received["position"]
    unit = machine(server, serial, p)
    assert (unit["status"], unit["nature"], unit["locked"], unit["warehouse_id"], unit["contract_id"]) == \
        ("in_stock", "repossessed", False, HF_MAIN, None)
    collection = receivable(server, deal.id, p)["collection"]
    assert (collection["locked"], collection["locked_machines"], collection["tow_pending"], collection["tow_state"]) \
        == (False, 0, False, None)
    assert application(server, tow_id, p)["details"]["warehouse_id"] == HF_MAIN
    with nothing_recorded(server), user(server, "keeper.hf") as keeper:
        assert_problem(keeper.post(f"{application_url(tow_id)}/receive-machine", json={"warehouse_id": HF_MAIN}),
                       409, "application-state")

    assert machine_events(server, serial) == [
        "MachineUnit.Received", "MachineUnit.Reserved", "MachineUnit.Dispatched", "MachineUnit.Locked",
        "MachineUnit.Towed", "MachineUnit.RepossessionReceived"]

    # The same unit, by its serial, is picked for another sale.
    again = Deal(server, CASH, price="85000.00")
    picked = post(server, "sales.wang", f"/contracts/{again.id}/delivery/pick", {"serial_number": serial})
    unit = machine(server, serial, picked["position"])
    assert (unit["status"], unit["contract_id"], unit["nature"]) == ("reserved", again.id, "repossessed")


# ------------------------------------------------------------------ 4. interest waiver, then settlement
def test_penalty_is_waived_once_the_principal_is_paid_and_the_debt_is_then_settled(shifted):
    """The demo's overdue sale, private to this module: the customer pays every item's
    principal and interest (penalty_last), its collector applies to waive most of the
    penalty, the rest is paid, the clerk applies for settlement, finance releases the
    invoice and the certificate."""
    server, today = shifted.server, shifted.today
    sale = Known(server, shifted.demo_sale)
    before = receivable(server, sale.id, shifted.position)
    owed = yuan(before["outstanding"])
    assert owed > 0 and yuan(before["penalty_outstanding"]) > 0 and before["days_past_due"] > 200, before
    assert before["collection"]["collector_id"] == ZHANG
    # The demo left a lock of its machine waiting; the customer is paying, so it is turned down
    # (a debt is settled only once no application of it is open).
    rejected = decide(server, "manager.zhao", shifted.demo_lock, "reject", "The customer is paying in full.")
    assert rejected["status"] == "rejected"
    assert application(server, shifted.demo_lock, rejected["position"])["decision_reason"] == \
        "The customer is paying in full."

    with nothing_recorded(server):
        with user(server, "collector.zhang") as zhang:
            problem = assert_problem(zhang.post(f"{sale.url}/interest-waivers",
                                                json={"amount": "100.00", "reason": "The customer asks."}),
                                     409, "principal-outstanding")
            assert yuan(problem["principal_outstanding"]) == owed
        with user(server, "clerk.chen") as chen:
            assert_problem(chen.post(f"{sale.url}/settlement-applications", json={"reason": "Paid?"}),
                           409, "debt-outstanding")

    paid = pay(sale, owed, today, penalty_last=True)
    after_principal = receivable(server, sale.id, paid["position"])
    assert (yuan(after_principal["outstanding"]), yuan(after_principal["principal_outstanding"])) == (0, 0)
    assert after_principal["days_past_due"] == 0
    penalty = yuan(after_principal["penalty_outstanding"])
    assert penalty >= yuan(before["penalty_outstanding"]) > 0     # nothing of the receipt went to penalty
    assert after_principal["penalty_received"] == before["penalty_received"]
    [receipt] = [r for r in after_principal["receipts"] if r["penalty_last"]]
    assert receipt["amount"] == str(owed) and receipt["status"] == "confirmed"
    assert all(a["penalty"] == "0.00" for a in receipt["allocations"])

    with nothing_recorded(server), user(server, "collector.zhang") as zhang:
        problem = assert_problem(zhang.post(f"{sale.url}/interest-waivers",
                                            json={"amount": str(penalty + Decimal("0.01")), "reason": "All of it"}),
                                 422, "waiver-exceeds-penalty")
        assert yuan(problem["penalty_outstanding"]) == penalty
    waived_amount = penalty - Decimal("100.00")
    waiver = apply(sale, "collector.zhang", "interest-waivers", None, "Principal paid in full; the customer asks.",
                   amount=str(waived_amount))
    waiver_id = waiver["application_id"]
    assert (waiver["document_type"], waiver["amount"], waiver["serial_number"]) == \
        ("interest_waiver", str(waived_amount), None)
    assert waiver_id in queue(server, "manager.zhao", sale.position, "interest_waiver")
    facts = application(server, waiver_id, sale.position, "manager.zhao")["facts"]
    assert (yuan(facts["principal_outstanding"]), yuan(facts["penalty_outstanding"])) == (0, penalty)
    with nothing_recorded(server), user(server, "collector.zhang") as zhang:
        assert_problem(zhang.post(f"{sale.url}/interest-waivers", json={"amount": "1.00", "reason": "Another"}),
                       409, "application-pending")
    assert yuan(receivable(server, sale.id, sale.position)["penalty_outstanding"]) == penalty   # not before approval

    approved = approve_all(server, waiver)
    p = approved["position"]
    assert waiver_id not in queue(server, "manager.zhao", p, "interest_waiver")
    waived = receivable(server, sale.id, p)
    assert yuan(waived["penalty_outstanding"]) == Decimal("100.00")
    assert yuan(waived["penalty_waived"]) == waived_amount
    assert sum(yuan(i["penalty_waived"]) for i in waived["items"]) == waived_amount
    assert sum(yuan(i["penalty_outstanding"]) for i in waived["items"]) == Decimal("100.00")
    assert application(server, waiver_id, p)["status"] == "approved"

    with nothing_recorded(server), user(server, "clerk.chen") as chen:
        problem = assert_problem(chen.post(f"{sale.url}/settlement-applications", json={"reason": "Done?"}),
                                 409, "debt-outstanding")
        assert yuan(problem["outstanding"]) == Decimal("100.00"), problem
    paid = pay(sale, "100.00", today)
    assert yuan(receivable(server, sale.id, paid["position"])["penalty_outstanding"]) == 0

    settlement = apply(sale, "clerk.chen", "settlement-applications", None, "Everything received or waived.")
    assert settlement["document_type"] == "settlement"
    assert settlement["application_id"] in queue(server, "manager.zhao", sale.position, "settlement")
    p = approve_all(server, settlement)["position"]
    settled = receivable(server, sale.id, p)
    assert settled["status"] == "settled"
    assert (settled["collection"]["settled"], settled["collection"]["settled_on"]) == (True, today.isoformat())
    released = sale.do("finance.sun", "/settlement-documents", {"invoice_number": "INV-2026-0001",
                                                               "certificate_number": "HGZ-0021",
                                                               "released_to": "Mr Liu"})
    assert released["documents_released"] is True and released["settled"] is True
    assert receivable(server, sale.id, sale.position)["collection"]["documents_released_on"] == today.isoformat()


# ------------------------------------------------------------------ 5. what a settlement leaves open
def test_a_debt_with_an_application_open_is_not_settled_so_no_lock_follows_a_settlement(shifted):
    """A lock application made while the debt was overdue; the customer then pays in full.
    Settling first would let the old lock be carried out on a paid-up customer's machine:
    the settlement waits until the lock application is decided."""
    server, today = shifted.server, shifted.today
    deal, serial = shifted.deals["settled_lock"], shifted.serials["settled_lock"]
    lock_id = apply(deal, "finance.sun", "lock-applications", serial, "Unpaid since yesterday.")["application_id"]
    pay(deal, "70000.00", today)
    with nothing_recorded(server), user(server, "clerk.chen") as chen:
        problem = assert_problem(chen.post(f"{deal.url}/settlement-applications", json={"reason": "Paid in full."}),
                                 409, "debt-outstanding")
        assert problem["application_id"] == lock_id
    rejected = decide(server, "manager.zhao", lock_id, "reject", "The customer paid in full.")
    assert rejected["status"] == "rejected"
    assert lock_id not in queue(server, "manager.zhao", rejected["position"], "machine_lock")
    settlement = apply(deal, "clerk.chen", "settlement-applications", None, "Paid in full.")
    p = approve_all(server, settlement)["position"]
    assert receivable(server, deal.id, p)["status"] == "settled"
    with nothing_recorded(server):
        with user(server, "manager.zhao") as zhao:
            assert_problem(zhao.post(f"{application_url(lock_id)}/decide", json={"decision": "approve"}),
                           409, "application-state")
        with user(server, "clerk.chen") as chen:
            assert_problem(chen.post(f"{application_url(lock_id)}/register-locked", json={"at": at(today)}),
                           409, "application-state")
        with user(server, "finance.sun") as sun:     # nothing is overdue, and the debt is closed
            assert_problem(sun.post(f"{deal.url}/lock-applications", json={"serial_number": serial,
                                                                            "reason": "Again"}), 409)
    assert machine(server, serial, p)["locked"] is False
    assert receivable(server, deal.id, p)["collection"]["locked"] is False


# ------------------------------------------------------------------ 6. data scope
def test_a_collector_of_one_company_never_sees_another_companys_debts(shifted):
    server, today = shifted.server, shifted.today
    hefei, chuzhou = shifted.deals["scope_hf"], shifted.deals["scope_cz"]
    cz_collector, cz_collector_id = new_user(server, "collector", CHUZHOU, "coll.cz")
    cz_clerk, _ = new_user(server, "sales_clerk", CHUZHOU, "clerk.cz")
    chuzhou.do("finance.sun", "/collector", {"collector_id": cz_collector_id})
    hefei.do("finance.sun", "/collector", {"collector_id": ZHANG})
    hf_lock = apply(hefei, "collector.zhang", "lock-applications", shifted.serials["scope_hf"])["application_id"]
    cz_lock = apply(chuzhou, cz_collector, "lock-applications", shifted.serials["scope_cz"])["application_id"]
    chuzhou.do(cz_collector, "/collection-logs", {"contact_date": today.isoformat(), "contact_person": "Mr Qian",
                                                  "channel": "phone", "result": "Will pay on Friday."}, 201)
    p = max(hefei.position, chuzhou.position)
    hidden = {hefei.id, shifted.demo_sale}

    with user(server, cz_collector) as collector:
        listed = {r["contract_id"]: r for r in every(collector, "/receivables", p)}
        assert chuzhou.id in listed and not hidden & set(listed)
        assert {r["company_code"] for r in listed.values()} == {"CZ"}
        assert ok(collector.get("/receivables", params={"after": p, "company_id": HF}))["total"] == 0
        assert ok(collector.get(chuzhou.url, params={"after": p}))["collection"]["collector_id"] == cz_collector_id
        for contract_id in hidden:
            assert_problem(collector.get(f"/receivables/{contract_id}", params={"after": p}), 404,
                           "receivable-not-found")
        assert [r["contract_id"] for r in every(collector, "/collections/mine", p)] == [chuzhou.id]
        seen = {a["application_id"]: a for a in every(collector, "/collection-applications", p)}
        assert cz_lock in seen and hf_lock not in seen and shifted.demo_lock not in seen
        assert {a["company_code"] for a in seen.values()} == {"CZ"}
        assert ok(collector.get("/collection-applications", params={"after": p, "company_id": HF}))["total"] == 0
        assert ok(collector.get("/collection-applications", params={"after": p, "contract_id": hefei.id}))[
            "total"] == 0
        assert ok(collector.get(application_url(cz_lock), params={"after": p}))["contract_id"] == chuzhou.id
        for application_id in (hf_lock, shifted.demo_lock):
            assert_problem(collector.get(application_url(application_id), params={"after": p}), 404,
                           "application-not-found")
    exported = exported_ids(server, cz_collector, p)
    assert chuzhou.id in exported and not hidden & set(exported)
    assert exported[chuzhou.id]["collector"] == cz_collector
    assert {row["company_code"] for row in exported.values()} == {"CZ"}

    # Commands on the Hefei debt and its application, by Chuzhou people who may do them in Chuzhou.
    serial = shifted.serials["scope_hf"]
    on_debt = {
        cz_collector: [("collection-logs", {"contact_date": today.isoformat(), "contact_person": "X",
                                            "channel": "phone", "result": "Y"}),
                       ("interest-waivers", {"amount": "1.00", "reason": "Z"}),
                       ("lock-applications", {"serial_number": serial, "reason": "Z"}),
                       ("unlock-applications", {"serial_number": serial, "reason": "Z"}),
                       ("tow-applications", {"serial_number": serial, "reason": "Z"})],
        "risk.manager": [("collector", {"collector_id": ZHANG}),
                         ("lock-applications", {"serial_number": serial, "reason": "Z"}),
                         ("settlement-applications", {"reason": "Z"}),
                         ("settlement-documents", {"invoice_number": "I", "certificate_number": "C",
                                                   "released_to": "R"})],
        cz_clerk: [("settlement-applications", {"reason": "Z"})],
    }
    on_application = {
        cz_collector: [("decide", {"decision": "approve"})],
        "risk.manager": [("decide", {"decision": "reject", "reason": "Not mine"})],
        cz_clerk: [("register-locked", {"at": at(today)}), ("register-unlocked", {"at": at(today)}),
                   ("register-tow", {"towed_on": today.isoformat(), "place": "P", "people": ["Q"]}),
                   ("receive-machine", {"warehouse_id": CZ_MAIN})],
        "keeper.cz": [("receive-machine", {"warehouse_id": CZ_MAIN})],
    }
    with nothing_recorded(server):
        for username, commands in on_debt.items():
            with user(server, username) as client:
                for path, body in commands:
                    assert_problem(client.post(f"{hefei.url}/{path}", json=body), 404, "receivable-not-found",
                                   (username, path))
        for username, commands in on_application.items():
            with user(server, username) as client:
                for path, body in commands:
                    assert_problem(client.post(f"{application_url(hf_lock)}/{path}", json=body), 404,
                                   "application-not-found", (username, path))
    # The approvers' queues follow the companies too.
    assert cz_lock in queue(server, "risk.manager", p, "machine_lock")
    assert hf_lock not in queue(server, "risk.manager", p, "machine_lock")
    assert hf_lock in queue(server, "manager.zhao", p, "machine_lock")
    assert cz_lock not in queue(server, "manager.zhao", p, "machine_lock")
    with user(server, "manager.zhao") as zhao:
        assert_problem(zhao.get(application_url(cz_lock), params={"after": p}), 404, "application-not-found")
        assert_problem(zhao.post(f"{application_url(cz_lock)}/decide", json={"decision": "approve"}), 404,
                       "application-not-found")
    assert decide(server, "risk.manager", cz_lock)["status"] == "approved"


# ------------------------------------------------------------------ 7. settlement of a paid-up debt (shared server)
def test_a_paid_up_debt_is_settled_by_approval_and_its_documents_released(demo_server, today):
    server = demo_server
    deal = Deal(server, CASH, price="120000.00")
    with nothing_recorded(server), user(server, "finance.sun") as sun:
        assert_problem(sun.post(f"{deal.url}/settlement-documents", json={
            "invoice_number": "INV-1", "certificate_number": "HGZ-1", "released_to": "Mr Hu"}), 409, "debt-state")
    pay(deal, "120000.00", today)

    first = apply(deal, "clerk.chen", "settlement-applications", None, "Paid in full by bank transfer.")
    assert (first["amount"], first["serial_number"]) == ("120000.00", None)
    assert first["waiting_for"] == {"step": 1, "step_name": "Sales manager", "role": "approver"}
    assert first["application_id"] in queue(server, "manager.zhao", deal.position, "settlement")
    assert first["application_id"] not in queue(server, "manager.zhao", deal.position, "interest_waiver")
    rejected = decide(server, "manager.zhao", first["application_id"], "reject", "The bank slip is not attached.")
    assert rejected["status"] == "rejected"
    p = rejected["position"]
    assert first["application_id"] not in queue(server, "manager.zhao", p, "settlement")
    shown = application(server, first["application_id"], p)
    assert (shown["status"], shown["decision_reason"]) == ("rejected", "The bank slip is not attached.")
    assert receivable(server, deal.id, p)["status"] == "open"

    second = apply(deal, "clerk.chen", "settlement-applications", None, "Paid in full; bank slip attached.")
    settlement_id = second["application_id"]
    step = decide(server, "manager.zhao", settlement_id)
    assert step["waiting_for"] == {"step": 2, "step_name": "Group finance", "role": "finance"}
    assert settlement_id in queue(server, "finance.sun", step["position"], "settlement")
    settled = decide(server, "finance.sun", settlement_id)
    assert settled["status"] == "approved"
    p = settled["position"]
    assert settlement_id not in queue(server, "finance.sun", p, "settlement")
    shown = receivable(server, deal.id, p)
    assert shown["status"] == "settled"
    assert (shown["collection"]["settled"], shown["collection"]["settled_on"]) == (True, today.isoformat())
    assert shown["collection"]["documents_released_on"] is None
    with user(server, "finance.sun") as sun:
        assert deal.id in {r["contract_id"] for r in every(sun, "/receivables", p, status="settled")}
    assert {k: a["status"] for k, a in applications(server, "finance.sun", p, contract_id=deal.id).items()} == \
        {first["application_id"]: "rejected", settlement_id: "approved"}

    with nothing_recorded(server):
        with user(server, "clerk.chen") as chen:
            assert_problem(chen.post(f"{deal.url}/settlement-documents", json={
                "invoice_number": "INV-2", "certificate_number": "HGZ-2", "released_to": "Mr Hu"}), 403, "forbidden")
            assert_problem(chen.post(f"{deal.url}/settlement-applications", json={"reason": "Again"}),
                           409, "debt-state")
            assert_problem(chen.post(f"{deal.url}/receipts", json={
                "amount": "1.00", "value_date": today.isoformat(), "method": "cash"}), 409, "debt-state")
    released = deal.do("finance.sun", "/settlement-documents", {"invoice_number": "INV-2026-1187",
                                                               "certificate_number": "HGZ-SY-5521",
                                                               "released_to": "Mr Hu, the buyer"})
    assert released["documents_released"] is True
    assert receivable(server, deal.id, deal.position)["collection"]["documents_released_on"] == today.isoformat()
    with nothing_recorded(server), user(server, "finance.sun") as sun:
        assert_problem(sun.post(f"{deal.url}/settlement-documents", json={
            "invoice_number": "INV-3", "certificate_number": "HGZ-3", "released_to": "Mr Hu"}),
            409, "documents-already-released")


# ------------------------------------------------------------------ 8. refusals on debts not overdue (shared server)
def test_collection_acts_the_business_refuses_are_problems_and_record_nothing(demo_server, today):
    server = demo_server
    unpaid = Deal(server, CASH, price="60000.00")
    serial = deliver(unpaid)
    paid = Deal(server, CASH, price="30000.00")
    pay(paid, "30000.00", today)
    waiting = Deal(server, CASH, price="35000.00")
    waiting.do("clerk.chen", "/receipts", {"amount": "35000.00", "value_date": today.isoformat(),
                                           "method": "cash"}, 201)
    in_approval = Deal(server, CASH, price="30000.00", stage="in_approval")
    lock = {"serial_number": serial, "reason": "Overdue?"}
    refusals = [
        # who, contract, path, body, status, code
        ("finance.sun", unpaid, "interest-waivers", {"amount": "100.00", "reason": "R"}, 409,
         "principal-outstanding"),
        ("finance.sun", paid, "interest-waivers", {"amount": "1.00", "reason": "R"}, 422, "waiver-exceeds-penalty"),
        ("finance.sun", paid, "interest-waivers", {"amount": "0.00", "reason": "R"}, 422, "invalid-value"),
        ("clerk.chen", unpaid, "settlement-applications", {"reason": "R"}, 409, "debt-outstanding"),
        ("finance.sun", waiting, "settlement-applications", {"reason": "R"}, 409, "debt-outstanding"),
        ("finance.sun", unpaid, "lock-applications", lock, 409, "debt-not-overdue"),
        ("finance.sun", unpaid, "tow-applications", lock, 409, "debt-not-overdue"),
        ("finance.sun", unpaid, "collector", {"collector_id": ZHANG}, 409, "debt-not-overdue"),
        ("finance.sun", unpaid, "unlock-applications", lock, 409, "machine-lock-state"),
        ("finance.sun", unpaid, "unlock-applications", {**lock, "serial_number": unique("SY215C")}, 404,
         "machine-unit-not-found"),
        # collector.zhang collects the demo sale, not these.
        ("collector.zhang", unpaid, "lock-applications", lock, 403, "not-your-collection"),
        ("collector.zhang", unpaid, "unlock-applications", lock, 403, "not-your-collection"),
        ("collector.zhang", unpaid, "tow-applications", lock, 403, "not-your-collection"),
        ("collector.zhang", paid, "interest-waivers", {"amount": "1.00", "reason": "R"}, 403,
         "not-your-collection"),
        ("collector.zhang", unpaid, "collection-logs", {"contact_date": today.isoformat(), "contact_person": "P",
                                                        "channel": "phone", "result": "R"}, 403,
         "not-your-collection"),
        # Roles that do not do these acts.
        ("collector.zhang", paid, "settlement-applications", {"reason": "R"}, 403, "forbidden"),
        ("sales.wang", unpaid, "lock-applications", lock, 403, "forbidden"),
        ("sales.wang", paid, "settlement-applications", {"reason": "R"}, 403, "forbidden"),
        ("manager.zhao", paid, "interest-waivers", {"amount": "1.00", "reason": "R"}, 403, "forbidden"),
        ("clerk.chen", unpaid, "collector", {"collector_id": ZHANG}, 403, "forbidden"),
        ("auditor", unpaid, "lock-applications", lock, 403, "read-only"),
        # No receivable: not approved, or nothing at all.
        ("finance.sun", in_approval, "settlement-applications", {"reason": "R"}, 404, "receivable-not-found"),
        ("finance.sun", in_approval, "lock-applications", lock, 404, "receivable-not-found"),
    ]
    with nothing_recorded(server):
        for username, deal, path, body, status, code in refusals:
            with user(server, username) as client:
                assert_problem(client.post(f"{deal.url}/{path}", json=body), status, code, (username, path))
        with user(server, "finance.sun") as sun:
            assert_problem(sun.post(f"/receivables/{NOWHERE}/settlement-applications", json={"reason": "R"}),
                           404, "receivable-not-found")
            assert_problem(sun.post(f"{application_url(NOWHERE)}/decide", json={"decision": "approve"}),
                           404, "application-not-found")
            assert_problem(sun.get(application_url(NOWHERE)), 404, "application-not-found")
        with user(server, "keeper.hf") as keeper:
            assert_problem(keeper.post(f"{application_url(NOWHERE)}/register-locked", json={"at": at(today)}),
                           403, "forbidden")
    for deal in (unpaid, paid, waiting):
        assert receivable(server, deal.id, deal.position)["collection"]["open_applications"] == 0
    assert applications(server, "finance.sun", waiting.position, contract_id=unpaid.id) == {}


def test_nobody_approves_a_collection_application_they_made(demo_server, today):
    server = demo_server
    # Chuzhou: risk.manager (approver and finance there) applies; step 1 would be theirs.
    chuzhou = Deal(server, CASH, price="50000.00", company=CZ)
    pay(chuzhou, "50000.00", today, recorder="admin", confirmer="risk.manager")
    own = apply(chuzhou, "risk.manager", "settlement-applications", None, "Paid in full.")
    assert own["waiting_for"]["role"] == "approver"
    # Hefei, from 100,000.00: finance.sun applies; step 2 (group finance) would be theirs.
    hefei = Deal(server, CASH, price="110000.00")
    pay(hefei, "110000.00", today)
    second = apply(hefei, "finance.sun", "settlement-applications", None, "Paid in full.")
    at_step_two = decide(server, "manager.zhao", second["application_id"])
    assert at_step_two["waiting_for"]["role"] == "finance"
    p = max(chuzhou.position, at_step_two["position"])
    assert own["application_id"] not in queue(server, "risk.manager", p, "settlement")
    assert second["application_id"] not in queue(server, "finance.sun", p, "settlement")
    with nothing_recorded(server):
        for username, application_id in (("risk.manager", own["application_id"]),
                                         ("finance.sun", second["application_id"])):
            with user(server, username) as client:
                for body in ({"decision": "approve"}, {"decision": "reject", "reason": "My own"}):
                    assert_problem(client.post(f"{application_url(application_id)}/decide", json=body),
                                   403, "own-document", (username, body))
        with server.as_admin() as admin:      # the administrator is no approver
            assert_problem(admin.post(f"{application_url(own['application_id'])}/decide",
                                      json={"decision": "approve"}), 403, "not-your-approval-step")
    assert application(server, own["application_id"], p, "risk.manager")["status"] == "in_approval"
    assert receivable(server, hefei.id, p)["status"] == "open"


# ------------------------------------------------------------------ 9. bad bodies (shared server)
def test_bad_collection_bodies_are_400_problems_and_record_nothing(demo_server, today):
    server = demo_server
    deal = Deal(server, CASH, price="30000.00")
    with user(server, "finance.sun") as sun:
        [demo_lock] = [a for a in every(sun, "/collection-applications", deal.position, document_type="machine_lock")
                       if a["serial_number"] == "SY215C-0021"]
    app = application_url(demo_lock["application_id"])
    d = deal.url
    naive = datetime(today.year, today.month, today.day, 9, 30).isoformat()
    cases = [
        ("finance.sun", f"{d}/collector", {"collector_id": 12}),
        ("finance.sun", f"{d}/collector", {"collector_id": "zhang"}),
        ("finance.sun", f"{d}/collector", {}),
        ("finance.sun", f"{d}/collection-logs", {"contact_date": "yesterday", "contact_person": "P",
                                                 "channel": "phone", "result": "R"}),
        ("finance.sun", f"{d}/collection-logs", {"contact_date": today.isoformat(), "contact_person": "P",
                                                 "channel": "pigeon", "result": "R"}),
        ("finance.sun", f"{d}/collection-logs", {"contact_date": today.isoformat(), "contact_person": "",
                                                 "channel": "phone", "result": "R"}),
        ("finance.sun", f"{d}/collection-logs", {"contact_date": today.isoformat(), "contact_person": "P",
                                                 "channel": "phone", "result": "R", "promised_amount": "lots",
                                                 "promised_date": today.isoformat()}),
        ("finance.sun", f"{d}/interest-waivers", {"amount": "abc", "reason": "R"}),
        ("finance.sun", f"{d}/interest-waivers", {"amount": 100, "reason": "R", "approved": True}),
        ("finance.sun", f"{d}/interest-waivers", {"amount": "100.00"}),
        ("finance.sun", f"{d}/interest-waivers", {"amount": "100.00", "reason": ""}),
        ("finance.sun", f"{d}/lock-applications", {"serial_number": "SY215C;DROP", "reason": "R"}),
        ("finance.sun", f"{d}/lock-applications", {"serial_number": ["SY215C-0021"], "reason": "R"}),
        ("finance.sun", f"{d}/unlock-applications", {"reason": "R"}),
        ("finance.sun", f"{d}/tow-applications", {"serial_number": "", "reason": "R"}),
        ("finance.sun", f"{d}/settlement-applications", {"reason": 5}),
        ("finance.sun", f"{d}/settlement-applications", {}),
        ("finance.sun", f"{d}/settlement-documents", {"invoice_number": "I", "certificate_number": "C"}),
        ("finance.sun", f"{d}/settlement-documents", {"invoice_number": "I", "certificate_number": "C",
                                                      "released_to": "R\x00"}),
        ("manager.zhao", f"{app}/decide", {"decision": "maybe"}),
        ("manager.zhao", f"{app}/decide", {"decision": True}),
        ("manager.zhao", f"{app}/decide", {}),
        ("clerk.chen", f"{app}/register-locked", {"at": naive}),
        ("clerk.chen", f"{app}/register-locked", {"at": today.isoformat()}),
        ("clerk.chen", f"{app}/register-locked", {"at": "09:30"}),
        ("clerk.chen", f"{app}/register-locked", {}),
        ("clerk.chen", f"{app}/register-unlocked", {"at": naive}),
        ("clerk.chen", f"{app}/register-tow", {"towed_on": today.isoformat(), "place": "Site", "people": []}),
        ("clerk.chen", f"{app}/register-tow", {"towed_on": today.isoformat(), "place": "Site", "people": "Li"}),
        ("clerk.chen", f"{app}/register-tow", {"towed_on": today.isoformat(), "place": "Site", "people": [""]}),
        ("clerk.chen", f"{app}/register-tow", {"towed_on": today.isoformat(), "place": "", "people": ["Li"]}),
        ("clerk.chen", f"{app}/register-tow", {"towed_on": "soon", "place": "Site", "people": ["Li"]}),
        ("clerk.chen", f"{app}/register-tow", {"towed_on": today.isoformat(), "place": "Site",
                                               "people": [f"P{n}" for n in range(21)]}),
        ("keeper.hf", f"{app}/receive-machine", {"warehouse_id": "main"}),
        ("keeper.hf", f"{app}/receive-machine", {}),
    ]
    with nothing_recorded(server):
        for username, path, body in cases:
            with user(server, username) as client:
                assert_problem(client.post(path, json=body), 400, "invalid-request", (path, body))
        with user(server, "finance.sun") as sun:
            assert_problem(sun.post(f"{d}/settlement-applications", content=b"{not json",
                                    headers={"Content-Type": "application/json"}), 400, "invalid-request")
            for params in ({"document_type": "sales_contract"}, {"status": "open"}, {"contract_id": "x"},
                           {"mine": "perhaps"}):
                assert_problem(sun.get("/collection-applications", params=params), 400, "invalid-request", params)
            assert_problem(sun.get("/collections/mine", params={"as_of": "today"}), 400, "invalid-request")
            assert_problem(sun.get("/collection-applications/not-a-uuid"), 404)
    assert application(server, demo_lock["application_id"], deal.position)["status"] == "in_approval"
