"""Coupons over HTTP (卡券), each act by the role that does it.

The demo (interfaces/demo.py) gives the people: clerk.chen (Hefei) and finance.sun
(whole group) issue promotion and gift coupons; finance adjusts, changes and voids
them (an adjustment approved by someone else: manager.zhao, the Hefei approver);
clerk.chen records receipts, part of them paid with coupons, finance.sun confirms,
rejects and reverses them; manager.zhao approves and un-approves Hefei contracts,
whose terms may grant coupons; collector.zhang, the auditor and the approvers only
read coupons; salespeople (sales.wang) do not see them at all. risk.manager is
approver and finance for Chuzhou + Chizhou only. The demo's own coupons
(PROMO-2026-001, GIFT-2026-001) are only read here, never spent.

The demo server is shared by the whole session: every test issues coupons with
codes of its own, for customers and contracts of its own, and compares shared
totals (the summary) as differences before/after within itself. Every read that
follows a command is asked with ``after`` = that command's position; refusals are
checked against the event log itself (``nothing_recorded``) and against what the
reads show before and after.

The races (two API processes on one PostgreSQL schema, ``twin_server``; skipped on SQLite)
spend one coupon twice, issue one code twice, and void a coupon while it is spent.

Dates: the server's business date (UTC+8) is read from the server; a receipt's
value date is that day (a contract approved today cannot be paid earlier), so
validity is tried with coupons valid from tomorrow or until yesterday.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain import ids
from interfaces.demo import DEMO_PASSWORD
from tests.e2e.conftest import CZ, FORMAL, HF, XE60, Server, assert_problem, every, nothing_recorded, ok, unique
from tests.e2e.test_idempotency import _at_once
from tests.e2e.test_receivables import Deal, scenario_terms, user

HEFEI = str(ids.position_id("Hefei"))
SUN, CHEN = str(ids.user_id("finance.sun")), str(ids.user_id("clerk.chen"))
WANG, ZHAO = str(ids.user_id("sales.wang")), str(ids.user_id("manager.zhao"))
NOWHERE = "5b7f7e1e-0000-4000-8000-000000000000"   # a well-formed id nothing has
CASH = {"payment": "cash"}
EXPORT_COLUMNS = ["code", "company_code", "origin", "status", "holder_kind", "holder_name", "face_value",
                  "amount_paid", "adjusted", "redeemed", "voided", "balance", "valid_from", "valid_until",
                  "contract_number", "issued_on", "coupon_id"]
READERS = ("clerk.chen", "finance.sun", "manager.zhao", "collector.zhang", "auditor")


@pytest.fixture(scope="module")
def hefei_finance(demo_server) -> str:
    """A finance user whose one position covers Hefei only (the demo's finance sees the group)."""
    username = unique("finance.hf.").lower()
    with demo_server.as_admin() as admin:
        ok(admin.post("/users", json={"username": username, "display_name": "Hefei-only finance (coupon tests)",
                                      "password": DEMO_PASSWORD, "roles": ["finance"], "position_ids": [HEFEI]}), 201)
    return username


# ------------------------------------------------------------------ helpers
def code_of(prefix: str = "TC") -> str:
    """A coupon code no other test uses (sorted after the demo's, in upper case)."""
    return unique(prefix)


def post(server: Server, username: str, path: str, body: dict[str, Any] | None = None,
         status: int = 200) -> dict[str, Any]:
    with user(server, username) as client:
        return ok(client.post(path, json=body), status)


def refused(server: Server, username: str, path: str, body: dict[str, Any] | None, status: int, code: str,
            context: Any = "") -> dict[str, Any]:
    """A command the business refuses: a problem with its code, and no event recorded."""
    with user(server, username) as client, nothing_recorded(server):
        return assert_problem(client.post(path, json=body), status, code, context or path)


def get(server: Server, username: str, path: str, after: int, **params: Any) -> dict[str, Any]:
    with user(server, username) as client:
        return ok(client.get(path, params={"after": after, **params}))


def new_customer(server: Server, company: str = HF, name: str | None = None) -> tuple[str, int]:
    """A customer of sales.wang (Hefei) or of the administrator (elsewhere): (id, position)."""
    with user(server, "sales.wang" if company == HF else "admin") as client:
        made = ok(client.post("/customers", json={"company_id": company, "name": name or unique("Coupon buyer "),
                                                  "kind": "organisation", "customer_type_id": FORMAL}), 201)
    return made["customer_id"], made["position"]


def new_contact(server: Server, customer_id: str | None = None) -> tuple[str, int]:
    """A Hefei contact of sales.wang, linked by the clerk to ``customer_id`` if given: (id, position)."""
    made = post(server, "sales.wang", "/contacts", {"company_id": HF, "name": unique("Referrer ")}, 201)
    position = made["position"]
    if customer_id is not None:
        position = post(server, "clerk.chen", f"/customers/{customer_id}/link-contact",
                        {"contact_id": made["contact_id"]})["position"]
    return made["contact_id"], position


def issue(server: Server, username: str, holder_id: str, face: str = "2000.00", origin: str = "promotion",
          paid: str | None = None, company: str = HF, code: str | None = None, holder_kind: str = "customer",
          **extra: Any) -> dict[str, Any]:
    """IssueCoupon that must succeed: a promotion (paid half its face unless told) or a gift."""
    body: dict[str, Any] = {"code": code or code_of(), "company_id": company, "origin": origin,
                            "holder_kind": holder_kind, "holder_id": holder_id, "face_value": face, **extra}
    if origin == "promotion":
        body["amount_paid"] = paid or str(Decimal(face) / 2)
    elif paid is not None:
        body["amount_paid"] = paid
    return post(server, username, "/coupons", body, 201)


def gift_body(holder_id: str, holder_kind: str = "contact", **changes: Any) -> dict[str, Any]:
    return {"code": code_of(), "company_id": HF, "origin": "gift", "holder_kind": holder_kind,
            "holder_id": holder_id, "face_value": "800.00", "promised_by": WANG,
            "reason": "Referred a quarry to us", **changes}


def coupon(server: Server, code: str, after: int, username: str = "finance.sun") -> dict[str, Any]:
    return get(server, username, f"/coupons/{code}", after)


def usage(server: Server, code: str, after: int, username: str = "finance.sun") -> list[dict[str, Any]]:
    shown = get(server, username, f"/coupons/{code}/usage", after)
    return shown["usage"]


def kinds(server: Server, code: str, after: int) -> list[tuple[str, str, str]]:
    """A coupon's history as (kind, amount, balance after)."""
    return [(u["kind"], u["amount"], u["balance_after"]) for u in usage(server, code, after)]


def listed(server: Server, username: str, after: int, **params: Any) -> dict[str, dict[str, Any]]:
    with user(server, username) as client:
        return {c["code"]: c for c in every(client, "/coupons", after, **params)}


def summary(server: Server, username: str, after: int, **params: Any) -> dict[tuple[str, str], dict[str, Any]]:
    rows = get(server, username, "/coupons/summary", after, **params)["rows"]
    return {(r["company_code"], r["origin"]): r for r in rows}


def summary_delta(before: dict, after: dict, key: tuple[str, str]) -> dict[str, Decimal]:
    """How much each figure of one summary row grew."""
    empty = {"coupons": 0, "issued": "0", "amount_paid": "0", "adjusted": "0", "redeemed": "0", "voided": "0",
             "outstanding": "0"}
    old, new = before.get(key, empty), after.get(key, empty)
    return {f: Decimal(str(new[f])) - Decimal(str(old[f])) for f in empty}


def exported(server: Server, username: str, after: int, **params: Any) -> tuple[list[str], dict[str, dict]]:
    with user(server, username) as client:
        answer = client.get("/coupons/export", params={"after": after, **params})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="coupons.csv"' in answer.headers.get("content-disposition", "")
    rows = list(csv.reader(io.StringIO(answer.text)))
    header = rows[0]
    return header, {r["code"]: r for r in (dict(zip(header, row)) for row in rows[1:])}


def figures(shown: dict[str, Any]) -> tuple[str, ...]:
    return tuple(shown[f] for f in ("status", "face_value", "amount_paid", "adjusted", "redeemed", "voided",
                                    "balance"))


class Sale(Deal):
    """A Hefei contract of one machine for a customer already registered (by sales.wang),
    its terms completed by the clerk and approved (unless ``stage`` says otherwise)."""

    def __init__(self, server: Server, customer_id: str, terms: dict[str, Any] | None = None,
                 price: str = "150000.00", model: str = XE60, stage: str = "approved") -> None:
        self.server, self.company, self.price = server, HF, Decimal(price)
        self.clerk = "clerk.chen"
        self.customer_id = customer_id
        with user(server, "sales.wang") as wang:
            drafted = ok(wang.post("/contracts", json={
                "company_id": HF, "customer_id": customer_id,
                "lines": [{"model_id": model, "quantity": 1, "unit_price": price}]}), 201)
            self.id, self.number = drafted["contract_id"], drafted["number"]
            self.position = ok(wang.post(f"/contracts/{self.id}/submit-to-clerk"))["position"]
        with user(server, self.clerk) as clerk:
            self.position = ok(clerk.post(f"/contracts/{self.id}/complete-terms", json=terms or CASH))["position"]
        self.submit()
        if stage == "approved":
            self.approve()

    def unapprove(self, reason: str = "Contract review") -> dict[str, Any]:
        done = post(self.server, "manager.zhao", f"/contracts/{self.id}/unapprove", {"reason": reason})
        assert done["status"] == "with_clerk", done
        self.position = done["position"]
        return done

    def status(self) -> str:
        return get(self.server, "manager.zhao", f"/contracts/{self.id}", self.position)["status"]


def receipt_body(today: date, amount: str, coupons: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    return {"amount": amount, "value_date": today.isoformat(), "method": "bank_transfer",
            "coupons": [{"code": c, "amount": a} for c, a in coupons], **extra}


def pay_with(deal: Deal, today: date, amount: str, coupons: list[tuple[str, str]], username: str = "clerk.chen",
             **extra: Any) -> str:
    """A receipt recorded (waiting for confirmation), part of it paid with coupons: its id."""
    return deal.do(username, "/receipts", receipt_body(today, amount, coupons, **extra), 201)["receipt_id"]


def refused_receipt(deal: Deal, today: date, amount: str, coupons: list[tuple[str, str]], status: int, code: str,
                    username: str = "clerk.chen", watched: tuple[str, ...] = ()) -> dict[str, Any]:
    """A receipt the business refuses: a problem, no event, and neither the receivable nor the
    coupons named in ``watched`` change."""
    before = deal.frozen(), [coupon(deal.server, c, deal.position) for c in watched]
    problem = refused(deal.server, username, f"{deal.url}/receipts", receipt_body(today, amount, coupons), status,
                      code, (amount, coupons))
    assert (deal.frozen(), [coupon(deal.server, c, deal.position) for c in watched]) == before
    return problem


# ------------------------------------------------------------------ 1. the demo's coupons, and who reads them
def test_the_demo_has_scenario_promotion_and_a_referral_gift_read_by_every_coupon_role(demo_server):
    with demo_server.as_user("finance.sun") as sun:
        earthworks = next(c for c in every(sun, "/customers", 0, name="Hefei Earthworks")
                          if c["name"] == "Hefei Earthworks Construction Co.")
    promo = coupon(demo_server, "promo-2026-001", 0)          # the code is case-insensitive
    assert (promo["code"], promo["company_code"], promo["origin"], promo["holder_kind"], promo["holder_id"],
            promo["holder_name"], promo["face_value"], promo["amount_paid"]) == \
           ("PROMO-2026-001", "HF", "promotion", "customer", earthworks["customer_id"],
            "Hefei Earthworks Construction Co.", "2000.00", "1000.00")
    gift = coupon(demo_server, "gift-2026-001", 0)
    assert (gift["origin"], gift["holder_kind"], gift["holder_name"], gift["promised_by"],
            gift["promised_by_name"], gift["amount_paid"], gift["face_value"]) == \
           ("gift", "contact", "Liu Qiang", WANG, "sales.wang", "0.00", "1000.00")
    assert gift["issue_reason"]                                # why it was given
    for username in READERS:
        for path in ("/coupons/PROMO-2026-001", "/coupons/GIFT-2026-001/usage", "/coupons", "/coupons/summary",
                     "/coupons/export"):
            with user(demo_server, username) as client:
                assert client.get(path).status_code == 200, (username, path)
        assert {"PROMO-2026-001", "GIFT-2026-001"} <= set(listed(demo_server, username, 0))


# ------------------------------------------------------------------ 2. every origin
def test_a_promotion_coupon_records_the_money_received_and_the_summary_sums_it(demo_server, today):
    server = demo_server
    customer, position = new_customer(server)
    before = summary(server, "finance.sun", position)
    code = code_of()
    # Issued by the clerk with the code typed in lower case and spaced: kept in upper case.
    typed = f" {code[:4].lower()} {code[4:].lower()} "
    issued = issue(server, "clerk.chen", customer, "2000.00", paid="1000.00", code=typed,
                   valid_until=(today + timedelta(days=365)).isoformat(), note="Pay 1,000, get 2,000")
    assert (issued["code"], issued["origin"], issued["status"], issued["face_value"], issued["balance"]) == \
           (code, "promotion", "active", "2000.00", "2000.00")
    shown = coupon(server, code, issued["position"])
    assert figures(shown) == ("active", "2000.00", "1000.00", "0.00", "0.00", "0.00", "2000.00")
    assert (shown["holder_kind"], shown["holder_id"], shown["company_code"], shown["issued_on"],
            shown["valid_until"], shown["note"], shown["promised_by"], shown["contract_id"]) == \
           ("customer", customer, "HF", today.isoformat(), (today + timedelta(days=365)).isoformat(),
            "Pay 1,000, get 2,000", None, None)
    assert [(u["kind"], u["amount"], u["balance_after"], u["actor_name"]) for u in usage(server, code,
                                                                                       issued["position"])] == \
           [("issued", "2000.00", "2000.00", "clerk.chen")]
    # Finance issues one too, paid in full.
    second = issue(server, "finance.sun", customer, "500.00", paid="500.00")
    assert list(listed(server, "finance.sun", second["position"], holder_id=customer)) == \
           sorted([code, second["code"]])
    grown = summary_delta(before, summary(server, "finance.sun", second["position"]), ("HF", "promotion"))
    assert grown == {"coupons": 2, "issued": Decimal("2500.00"), "amount_paid": Decimal("1500.00"),
                     "adjusted": 0, "redeemed": 0, "voided": 0, "outstanding": Decimal("2500.00")}
    assert summary(server, "finance.sun", second["position"], company_id=HF).keys() <= {("HF", o) for o in
                                                                                        ("promotion", "gift",
                                                                                         "contract")}

    # A promotion records the money received: more than 0.00 and at most its face value; no promiser.
    def body(**changes: Any) -> dict[str, Any]:
        return {"code": code_of(), "company_id": HF, "origin": "promotion", "holder_kind": "customer",
                "holder_id": customer, "face_value": "2000.00", "amount_paid": "1000.00", **changes}

    for changes, field in (({"amount_paid": "0.00"}, "amount_paid"), ({"amount_paid": "2000.01"}, "amount_paid"),
                           ({"promised_by": WANG}, "promised_by"), ({"face_value": "0.00"}, "face_value"),
                           ({"face_value": "10.001"}, "face_value"),
                           ({"valid_from": today.isoformat(),
                             "valid_until": (today - timedelta(days=1)).isoformat()}, "valid_until")):
        problem = refused(server, "clerk.chen", "/coupons", body(**changes), 422, "invalid-value", changes)
        assert problem.get("field") == field, problem
    refused(server, "clerk.chen", "/coupons", body(holder_id=NOWHERE), 404, "customer-not-found")
    # Roles that only read coupons, and those that do not see them, issue none.
    for username in ("manager.zhao", "collector.zhang", "auditor", "sales.wang", "keeper.hf"):
        refused(server, username, "/coupons", body(), 403, "read-only" if username == "auditor" else "forbidden",
                username)
    assert summary_delta(before, summary(server, "finance.sun", second["position"]), ("HF", "promotion")) == grown


def test_a_gift_names_the_salesperson_who_promised_it_and_why(demo_server, today):
    server = demo_server
    customer, _ = new_customer(server)
    contact, position = new_contact(server, customer)
    before = summary(server, "finance.sun", position)
    body = gift_body(contact)
    issued = post(server, "clerk.chen", "/coupons", body, 201)
    shown = coupon(server, body["code"], issued["position"])
    assert figures(shown) == ("active", "800.00", "0.00", "0.00", "0.00", "0.00", "800.00")
    assert (shown["origin"], shown["holder_kind"], shown["holder_id"], shown["promised_by"],
            shown["promised_by_name"], shown["issue_reason"]) == \
           ("gift", "contact", contact, WANG, "sales.wang", "Referred a quarry to us")
    assert usage(server, body["code"], issued["position"])[0]["reason"] == "Referred a quarry to us"
    grown = summary_delta(before, summary(server, "finance.sun", issued["position"]), ("HF", "gift"))
    assert (grown["coupons"], grown["issued"], grown["amount_paid"], grown["outstanding"]) == \
           (1, Decimal("800.00"), 0, Decimal("800.00"))

    # Refused: no promiser, a promiser who is not a salesperson, no reason, money paid for a gift.
    for changes, field in (({"promised_by": None}, "promised_by"), ({"promised_by": CHEN}, "promised_by"),
                           ({"promised_by": ZHAO}, "promised_by"), ({"promised_by": NOWHERE}, "promised_by"),
                           ({"reason": None}, "reason"), ({"amount_paid": "100.00"}, "amount_paid")):
        wrong = {k: v for k, v in gift_body(contact, **changes).items() if v is not None}
        problem = refused(server, "clerk.chen", "/coupons", wrong, 422, "invalid-value", changes)
        assert problem.get("field") == field, (changes, problem)
    # A contact of the coupon's company only.
    refused(server, "clerk.chen", "/coupons", gift_body(NOWHERE), 404, "contact-not-found")

    # The contact's gift pays part of a receipt of the customer it is linked to.
    sale = Sale(server, customer)
    receipt = pay_with(sale, today, "1000.00", [(body["code"], "300.00")])
    assert figures(coupon(server, body["code"], sale.position))[-2:] == ("0.00", "500.00")
    assert [r["receipt_id"] for r in sale.receipts() if r["coupons"]] == [receipt]


def test_contract_coupons_are_granted_by_approval_withdrawn_by_unapproval_and_granted_again(demo_server, today):
    server = demo_server
    customer, _ = new_customer(server)
    terms = {**CASH, "coupons": [{"face_value": "3000.00", "quantity": 2, "note": "Service voucher"},
                                 {"face_value": "500.00"}]}
    sale = Sale(server, customer, terms, stage="in_approval")
    codes = [f"{sale.number}-C1-1", f"{sale.number}-C1-2", f"{sale.number}-C2-1"]
    assert listed(server, "finance.sun", sale.position, code=sale.number) == {}   # nothing before approval
    before = summary(server, "finance.sun", sale.position)
    sale.approve()

    def shown() -> dict[str, dict[str, Any]]:
        return listed(server, "finance.sun", sale.position, code=sale.number)

    granted = shown()
    assert sorted(granted) == codes
    for code, face, note in zip(codes, ("3000.00", "3000.00", "500.00"), ("Service voucher", "Service voucher",
                                                                         None)):
        c = granted[code]
        assert (c["origin"], c["company_code"], c["holder_kind"], c["holder_id"], c["contract_id"],
                c["contract_number"], c["note"], c["promised_by"]) == \
               ("contract", "HF", "customer", customer, sale.id, sale.number, note, None)
        assert figures(c) == ("active", face, "0.00", "0.00", "0.00", "0.00", face)
    grown = summary_delta(before, summary(server, "finance.sun", sale.position), ("HF", "contract"))
    assert (grown["coupons"], grown["issued"], grown["outstanding"]) == (3, Decimal("6500.00"), Decimal("6500.00"))
    assert set(listed(server, "finance.sun", sale.position, origin="contract", code=sale.number)) == set(codes)

    # Un-approval withdraws them (unused).
    sale.unapprove()
    withdrawn = shown()
    assert {c: figures(withdrawn[c]) for c in codes} == \
           {c: ("voided", face, "0.00", "0.00", "0.00", face, "0.00")
            for c, face in zip(codes, ("3000.00", "3000.00", "500.00"))}
    assert kinds(server, codes[0], sale.position) == [("issued", "3000.00", "3000.00"),
                                                      ("voided", "-3000.00", "0.00")]
    assert listed(server, "finance.sun", sale.position, code=sale.number, usable_only="true") == {}
    # A withdrawn coupon pays nothing.
    other = Sale(server, customer)
    refused_receipt(other, today, "1000.00", [(codes[0], "100.00")], 409, "coupon-voided", watched=(codes[0],))

    # Approved again: granted again, as new.
    sale.submit()
    sale.approve()
    again = shown()
    assert {c: figures(again[c])[0::6] for c in codes} == \
           {c: ("active", face) for c, face in zip(codes, ("3000.00", "3000.00", "500.00"))}
    assert kinds(server, codes[0], sale.position) == [("issued", "3000.00", "3000.00"),
                                                      ("voided", "-3000.00", "0.00"),
                                                      ("regranted", "3000.00", "3000.00")]

    # Once one is spent (on another contract of the customer), the contract is not un-approved.
    spent = pay_with(other, today, "1000.00", [(codes[0].lower(), "1000.00")])
    assert coupon(server, codes[0], other.position)["balance"] == "2000.00"
    sale.position = other.position
    before_refusal = shown()
    problem = refused(server, "manager.zhao", f"/contracts/{sale.id}/unapprove", {"reason": "Contract review"},
                      409, "coupon-used")
    assert codes[0] in problem["detail"], problem
    assert sale.status() == "approved" and shown() == before_refusal
    assert get(server, "finance.sun", sale.url, sale.position)["status"] == "open"

    # The receipt rejected gives the coupon back; then the un-approval goes through.
    other.do("finance.sun", f"/receipts/{spent}/reject", {"reason": "Duplicate slip"})
    assert coupon(server, codes[0], other.position)["balance"] == "3000.00"
    sale.position = other.position
    sale.unapprove()
    assert {figures(c)[0] for c in shown().values()} == {"voided"}

    # A coupon voided by hand stays voided when the contract is approved again.
    sale.submit()
    sale.approve()
    sale.position = post(server, "finance.sun", f"/coupons/{codes[2]}/void", {"reason": "Customer declined"})[
        "position"]
    sale.unapprove()
    sale.submit()
    sale.approve()
    final = shown()
    assert {c: final[c]["status"] for c in codes} == {codes[0]: "active", codes[1]: "active", codes[2]: "voided"}
    # (withdrawn, granted again, withdrawn, granted again, voided by hand; not granted a third time)
    assert [k for k, _, _ in kinds(server, codes[2], sale.position)] == \
           ["issued", "voided", "regranted", "voided", "regranted", "voided"]


def test_contract_coupons_granted_again_follow_the_terms_approved_last(demo_server, today):
    """The clerk changes the coupons of an un-approved contract: the re-approval grants the
    withdrawn coupon again at its new face value and issues the coupons added."""
    server = demo_server
    customer, _ = new_customer(server)
    sale = Sale(server, customer, {**CASH, "coupons": [{"face_value": "3000.00", "note": "First terms"}]})
    first, second = f"{sale.number}-C1-1", f"{sale.number}-C1-2"
    assert set(listed(server, "finance.sun", sale.position, code=sale.number)) == {first}
    sale.unapprove()
    sale.position = post(server, "clerk.chen", f"/contracts/{sale.id}/complete-terms", {
        **CASH, "coupons": [{"face_value": "2500.00", "quantity": 2, "note": "Second terms"}]})["position"]
    assert coupon(server, first, sale.position)["status"] == "voided"
    sale.submit()
    sale.approve()
    shown = listed(server, "finance.sun", sale.position, code=sale.number)
    assert {c: (shown[c]["status"], shown[c]["face_value"], shown[c]["balance"], shown[c]["note"])
            for c in shown} == {first: ("active", "2500.00", "2500.00", "Second terms"),
                                second: ("active", "2500.00", "2500.00", "Second terms")}
    assert kinds(server, first, sale.position) == [("issued", "3000.00", "3000.00"), ("voided", "-3000.00", "0.00"),
                                                   ("regranted", "2500.00", "2500.00")]
    assert figures(shown[first]) == ("active", "2500.00", "0.00", "0.00", "0.00", "0.00", "2500.00")


def test_a_coupon_issued_by_hand_under_a_contract_coupon_code_is_never_taken_by_that_contract(demo_server, today):
    """The contract number is known from the draft, so a clerk can issue (by mistake or not) a promotion
    coupon named like the coupon the contract will grant. Whatever the product does about the clash
    (refuse the issue, refuse the approval with coupon-code-exists, ...), the promotion coupon of
    the other customer is never withdrawn nor handed over by the contract's approval and un-approval."""
    server = demo_server
    customer, _ = new_customer(server)
    stranger, _ = new_customer(server)
    sale = Sale(server, customer, {**CASH, "coupons": [{"face_value": "3000.00"}]}, stage="in_approval")
    clash = f"{sale.number}-C1-1"
    with user(server, "clerk.chen") as chen:
        issued = chen.post("/coupons", json={"code": clash, "company_id": HF, "origin": "promotion",
                                             "holder_kind": "customer", "holder_id": stranger,
                                             "face_value": "500.00", "amount_paid": "100.00"})
    if issued.status_code != 201:
        assert_problem(issued, issued.status_code)        # the clash refused at issue: nothing to protect
        return
    promotion = coupon(server, clash, issued.json()["position"])
    expected = (promotion["origin"], promotion["holder_id"], promotion["contract_id"], figures(promotion))
    assert expected == ("promotion", stranger, None,
                        ("active", "500.00", "100.00", "0.00", "0.00", "0.00", "500.00"))

    def unchanged(after: int) -> None:
        now = coupon(server, clash, after)
        assert (now["origin"], now["holder_id"], now["contract_id"], figures(now)) == expected, now

    with user(server, "manager.zhao") as zhao:
        approval = zhao.post(f"/contracts/{sale.id}/approve")
    if approval.status_code != 200:
        assert_problem(approval, 409, "coupon-code-exists")
        unchanged(sale.position)
        return
    sale.position = approval.json()["position"]
    unchanged(sale.position)
    sale.unapprove()
    unchanged(sale.position)                              # today: voided "by un-approval"
    sale.submit()
    sale.approve()
    unchanged(sale.position)                              # today: 3000.00, held by the contract's customer


def test_a_contract_coupon_granted_again_is_shown_held_by_the_holder_the_ledger_enforces(demo_server, today):
    server = demo_server
    customer, _ = new_customer(server)
    other, _ = new_customer(server)
    sale = Sale(server, customer, {**CASH, "coupons": [{"face_value": "3000.00"}]})
    code = f"{sale.number}-C1-1"
    # Finance hands the contract's coupon to another customer of the company, then the contract is
    # un-approved and approved again: granted again "with the terms and customer it has now".
    sale.position = post(server, "finance.sun", f"/coupons/{code}/details", {
        "holder_kind": "customer", "holder_id": other, "reason": "Customer sold the machine"})["position"]
    assert coupon(server, code, sale.position)["holder_id"] == other
    sale.unapprove()
    sale.submit()
    sale.approve()
    # What the ledger enforces: the contract's customer may spend it, the other customer may not.
    theirs, mine = Sale(server, other), Sale(server, customer)
    refused_receipt(theirs, today, "100.00", [(code, "100.00")], 422, "coupon-holder")
    pay_with(mine, today, "100.00", [(code, "100.00")])
    # What the reads show must be the same holder.
    shown = coupon(server, code, mine.position)
    assert (shown["holder_kind"], shown["holder_id"]) == ("customer", customer), shown
    assert code in listed(server, "finance.sun", mine.position, holder_id=customer)


def test_a_receipt_with_coupons_retried_with_its_idempotency_key_redeems_once(demo_server, today):
    server = demo_server
    customer, _ = new_customer(server)
    sale = Sale(server, customer)
    key = unique("coupon-issue-")
    body = {"code": code_of(), "company_id": HF, "origin": "promotion", "holder_kind": "customer",
            "holder_id": customer, "face_value": "1000.00", "amount_paid": "500.00"}
    with user(server, "clerk.chen") as chen:
        first = chen.post("/coupons", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        with nothing_recorded(server):
            again = chen.post("/coupons", json=body, headers={"Idempotency-Key": key})
            assert (again.status_code, again.json(), again.headers.get("idempotent-replayed")) == \
                   (201, first.json(), "true")
            assert_problem(chen.post("/coupons", json=body), 409, "coupon-code-exists")
        key = unique("coupon-receipt-")
        receipt = receipt_body(today, "1000.00", [(body["code"], "700.00")])
        recorded = chen.post(f"{sale.url}/receipts", json=receipt, headers={"Idempotency-Key": key})
        assert recorded.status_code == 201, recorded.text
        with nothing_recorded(server):
            replay = chen.post(f"{sale.url}/receipts", json=receipt, headers={"Idempotency-Key": key})
            assert (replay.status_code, replay.json()["receipt_id"], replay.headers.get("idempotent-replayed")) == \
                   (201, recorded.json()["receipt_id"], "true")
            other = receipt_body(today, "1000.00", [(body["code"], "300.00")])
            assert_problem(chen.post(f"{sale.url}/receipts", json=other, headers={"Idempotency-Key": key}), 422,
                           "idempotency-key-reused")
    sale.position = recorded.json()["position"]
    assert figures(coupon(server, body["code"], sale.position))[-3:] == ("700.00", "0.00", "300.00")
    assert [k for k, _, _ in kinds(server, body["code"], sale.position)] == ["issued", "redeemed"]
    assert [r["receipt_id"] for r in sale.receipts()] == [recorded.json()["receipt_id"]]


# ------------------------------------------------------------------ 3. SCENARIO.md's coupon
def test_scenario_a_receipt_paid_partly_by_a_promotion_coupon_and_restored_when_reversed_or_rejected(
        demo_server, today):
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    assert get(server, "finance.sun", deal.url, deal.position)["items"][1]["unpaid"] == "25592.97"
    promo = issue(server, "clerk.chen", deal.customer_id, "2000.00", paid="1000.00")
    code = promo["code"]

    # 25,592.97 for the installment: 1,500.00 from the coupon, 24,092.97 by bank transfer.
    receipt = pay_with(deal, today, "25592.97", [(code, "1500.00")], allocate_to=["I1"], reference="BOC 7731")
    shown = coupon(server, code, deal.position)
    assert figures(shown) == ("active", "2000.00", "1000.00", "0.00", "1500.00", "0.00", "500.00")
    history = usage(server, code, deal.position)
    assert [(u["kind"], u["amount"], u["balance_after"]) for u in history] == \
           [("issued", "2000.00", "2000.00"), ("redeemed", "-1500.00", "500.00")]
    assert (history[1]["receipt_id"], history[1]["contract_id"], history[1]["contract_number"],
            history[1]["actor_name"]) == (receipt, deal.id, deal.number, "clerk.chen")
    [recorded] = deal.receipts()
    assert (recorded["receipt_id"], recorded["amount"], recorded["status"], recorded["coupons"],
            recorded["paid_with_coupons"]) == \
           (receipt, "25592.97", "recorded", [{"code": code, "amount": "1500.00"}], "1500.00")

    # Finance confirms: the installment is paid in full, the coupon's part included.
    confirmed = deal.confirm(receipt)
    assert confirmed["received"] == "25592.97"
    paid = get(server, "finance.sun", deal.url, deal.position)
    assert (paid["received"], paid["items"][1]["item"], paid["items"][1]["unpaid"]) == ("25592.97", "I1", "0.00")
    line = next(ln for ln in deal.statement()["lines"] if ln["credit"] == "25592.97")
    assert "24092.97" in line["description"] and "1500.00" in line["description"], line

    # Reversed: the coupon gets its 1,500.00 back.
    deal.do("finance.sun", f"/receipts/{receipt}/reverse", {"reason": "Slip bounced"})
    assert figures(coupon(server, code, deal.position)) == \
           ("active", "2000.00", "1000.00", "0.00", "0.00", "0.00", "2000.00")
    restored = usage(server, code, deal.position)[-1]
    assert (restored["kind"], restored["amount"], restored["balance_after"], restored["receipt_id"],
            restored["contract_number"], restored["reason"]) == \
           ("restored", "1500.00", "2000.00", receipt, deal.number, "Slip bounced")
    assert get(server, "finance.sun", deal.url, deal.position)["received"] == "0.00"

    # Recorded again and rejected: given back again.
    again = pay_with(deal, today, "25592.97", [(code, "1500.00")], allocate_to=["I1"])
    assert coupon(server, code, deal.position)["balance"] == "500.00"
    deal.do("finance.sun", f"/receipts/{again}/reject", {"reason": "Wrong contract"})
    assert coupon(server, code, deal.position)["balance"] == "2000.00"
    assert kinds(server, code, deal.position) == [
        ("issued", "2000.00", "2000.00"), ("redeemed", "-1500.00", "500.00"), ("restored", "1500.00", "2000.00"),
        ("redeemed", "-1500.00", "500.00"), ("restored", "1500.00", "2000.00")]
    assert [u["receipt_id"] for u in usage(server, code, deal.position)[1:]] == [receipt, receipt, again, again]
    # Rejected or reversed receipts cannot be undone twice: the coupon is not restored twice.
    refused(server, "finance.sun", f"{deal.url}/receipts/{again}/reject", {"reason": "again"}, 409,
            "receipt-state")
    assert coupon(server, code, deal.position)["balance"] == "2000.00"


# ------------------------------------------------------------------ 4. refusals
def test_receipts_whose_coupons_the_business_refuses_are_problems_and_record_nothing(demo_server, today,
                                                                                   hefei_finance):
    server = demo_server
    customer, _ = new_customer(server)
    deal = Sale(server, customer)
    good = issue(server, "clerk.chen", customer, "1000.00")["code"]
    used = pay_with(deal, today, "2000.00", [(good, "600.00")])
    assert coupon(server, good, deal.position)["balance"] == "400.00"

    # Over the balance left.
    problem = refused_receipt(deal, today, "2000.00", [(good, "400.01")], 422, "coupon-balance", watched=(good,))
    assert "400.00" in problem["detail"], problem
    # Not yet valid, and expired (its validity changed by finance to days past).
    later = issue(server, "clerk.chen", customer, "1000.00", valid_from=(today + timedelta(days=1)).isoformat())
    deal.position = later["position"]
    refused_receipt(deal, today, "1000.00", [(later["code"], "100.00")], 422, "coupon-not-valid",
                    watched=(later["code"],))
    expired = issue(server, "clerk.chen", customer, "1000.00")["code"]
    deal.position = post(server, "finance.sun", f"/coupons/{expired}/details", {
        "holder_kind": "customer", "holder_id": customer, "valid_from": (today - timedelta(days=60)).isoformat(),
        "valid_until": (today - timedelta(days=1)).isoformat(), "reason": "Promotion ended"})["position"]
    assert [k for k, _, _ in kinds(server, expired, deal.position)] == ["issued", "details_changed"]
    refused_receipt(deal, today, "1000.00", [(expired, "100.00")], 422, "coupon-not-valid", watched=(expired,))
    # Voided.
    voided = issue(server, "clerk.chen", customer, "1000.00")["code"]
    deal.position = post(server, "finance.sun", f"/coupons/{voided}/void", {"reason": "Issued by mistake"})[
        "position"]
    refused_receipt(deal, today, "1000.00", [(voided, "100.00")], 409, "coupon-voided", watched=(voided,))
    # Held by another customer, or by a contact the customer does not have.
    stranger, _ = new_customer(server)
    theirs_issued = issue(server, "clerk.chen", stranger, "1000.00")
    theirs, deal.position = theirs_issued["code"], theirs_issued["position"]
    refused_receipt(deal, today, "1000.00", [(theirs, "100.00")], 422, "coupon-holder", watched=(theirs,))
    unlinked, _ = new_contact(server)
    gift = post(server, "clerk.chen", "/coupons", gift_body(unlinked), 201)
    deal.position = gift["position"]
    refused_receipt(deal, today, "1000.00", [(gift["code"], "100.00")], 422, "coupon-holder",
                    watched=(gift["code"],))
    # Another member company's coupon: a group-wide user is told so; a Hefei-only user does not see it.
    cz_customer, _ = new_customer(server, CZ)
    chuzhou = issue(server, "finance.sun", cz_customer, "1000.00", company=CZ)
    deal.position = chuzhou["position"]
    refused_receipt(deal, today, "1000.00", [(chuzhou["code"], "100.00")], 422, "coupon-other-company",
                    username="finance.sun", watched=(chuzhou["code"],))
    for username in ("clerk.chen", hefei_finance):
        refused_receipt(deal, today, "1000.00", [(chuzhou["code"], "100.00")], 404, "coupon-not-found",
                        username=username, watched=(chuzhou["code"],))
    refused_receipt(deal, today, "1000.00", [(code_of("NOSUCH"), "100.00")], 404, "coupon-not-found")
    # Coupons paying more than the whole receipt; one coupon named twice; nothing taken from a coupon.
    other_issued = issue(server, "clerk.chen", customer, "1000.00")
    other, deal.position = other_issued["code"], other_issued["position"]
    for coupons in ([(other, "500.01")], [(other, "300.00"), (good, "300.00")]):
        problem = refused_receipt(deal, today, "500.00", coupons, 422, "invalid-value", watched=(other, good))
        assert problem.get("field") == "coupons", problem
    for coupons in ([(other, "100.00"), (other, "100.00")], [(other, "100.00"), (" " + other.lower(), "50.00")],
                    [(other, "0.00")]):
        problem = refused_receipt(deal, today, "500.00", coupons, 422, "invalid-value", watched=(other,))
        assert "coupons" in problem.get("field", ""), problem
    # A salesperson takes no money, coupons or not.
    refused(server, "sales.wang", f"{deal.url}/receipts", receipt_body(today, "500.00", [(other, "100.00")]),
            403, "forbidden")

    # None of this touched the receipt that did use the coupon; it still goes through.
    assert [(r["receipt_id"], r["paid_with_coupons"]) for r in deal.receipts()] == [(used, "600.00")]
    deal.confirm(used)
    assert get(server, "finance.sun", deal.url, deal.position)["received"] == "2000.00"


def test_coupon_commands_the_business_refuses_are_problems_and_record_nothing(demo_server, today):
    server = demo_server
    customer, _ = new_customer(server)
    code = code_of()
    first = issue(server, "clerk.chen", customer, "1000.00", code=code)
    position = first["position"]

    # The code is the coupon's identity in the group: case and spaces do not make another one.
    for typed, username, company in ((code, "clerk.chen", HF), (code.lower(), "finance.sun", HF),
                                     (" ".join(code), "clerk.chen", HF), (code, "finance.sun", CZ)):
        holder = customer if company == HF else new_customer(server, CZ)[0]
        body = {"code": typed, "company_id": company, "origin": "gift", "holder_kind": "customer",
                "holder_id": holder, "face_value": "10.00", "promised_by": WANG, "reason": "again"}
        problem = refused(server, username, "/coupons", body, 409, "coupon-code-exists", typed)
        assert code in problem["detail"], problem
    assert figures(coupon(server, code, position)) == ("active", "1000.00", "500.00", "0.00", "0.00", "0.00",
                                                       "1000.00")

    adjust = f"/coupons/{code}/adjust"
    # Lowered below zero; approved by oneself or by someone who approves nothing; a change of nothing.
    problem = refused(server, "finance.sun", adjust, {"amount": "-1000.01", "approved_by": ZHAO, "reason": "fix"},
                      422, "coupon-balance")
    assert "1000.00" in problem["detail"], problem
    for body, field in (({"amount": "100.00", "approved_by": SUN, "reason": "mine"}, "approved_by"),
                        ({"amount": "100.00", "approved_by": CHEN, "reason": "clerk"}, "approved_by"),
                        ({"amount": "100.00", "approved_by": WANG, "reason": "seller"}, "approved_by"),
                        ({"amount": "100.00", "approved_by": NOWHERE, "reason": "nobody"}, "approved_by"),
                        ({"amount": "0.00", "approved_by": ZHAO, "reason": "zero"}, "amount"),
                        ({"amount": "0.001", "approved_by": ZHAO, "reason": "fen"}, "amount")):
        problem = refused(server, "finance.sun", adjust, body, 422, "invalid-value", body)
        assert problem.get("field") == field, (body, problem)
    for username in ("clerk.chen", "manager.zhao", "auditor", "sales.wang"):
        code_expected = "read-only" if username == "auditor" else "forbidden"
        refused(server, username, adjust, {"amount": "100.00", "approved_by": ZHAO, "reason": "x"}, 403,
                code_expected, username)
        refused(server, username, f"/coupons/{code}/void", {"reason": "x"}, 403, code_expected, username)
    refused(server, "finance.sun", f"/coupons/{code}/details", {"holder_kind": "customer", "holder_id": customer,
                                                               "reason": "same"}, 409, "nothing-changed")
    cz_customer, _ = new_customer(server, CZ)
    refused(server, "finance.sun", f"/coupons/{code}/details", {"holder_kind": "customer", "holder_id": cz_customer,
                                                               "reason": "to Chuzhou"}, 404, "customer-not-found")
    refused(server, "finance.sun", f"/coupons/{code}/details", {
        "holder_kind": "customer", "holder_id": customer, "valid_from": today.isoformat(),
        "valid_until": (today - timedelta(days=1)).isoformat(), "reason": "backwards"}, 422, "invalid-value")
    for path in ("adjust", "void", "details"):
        refused(server, "finance.sun", f"/coupons/{code_of('NOSUCH')}/{path}",
                {"amount": "1.00", "approved_by": ZHAO, "reason": "x"} if path == "adjust" else
                {"reason": "x"} if path == "void" else
                {"holder_kind": "customer", "holder_id": customer, "reason": "x"}, 404, "coupon-not-found", path)
    assert kinds(server, code, position) == [("issued", "1000.00", "1000.00")]

    # Adjusted up and down by finance, approved by the sales manager.
    position = post(server, "finance.sun", adjust, {"amount": "250.00", "approved_by": ZHAO,
                                                    "reason": "Goodwill"})["position"]
    position = post(server, "finance.sun", adjust, {"amount": "-50.00", "approved_by": ZHAO,
                                                    "reason": "Correction"})["position"]
    assert figures(coupon(server, code, position)) == ("active", "1000.00", "500.00", "200.00", "0.00", "0.00",
                                                       "1200.00")
    adjusted = [u for u in usage(server, code, position) if u["kind"] == "adjusted"]
    assert [(u["amount"], u["balance_after"], u["reason"], u["actor_name"]) for u in adjusted] == \
           [("250.00", "1250.00", "Goodwill", "finance.sun"), ("-50.00", "1200.00", "Correction", "finance.sun")]

    # Used, it is not voided; the receipt reversed, it is.
    sale = Sale(server, customer)
    spent = pay_with(sale, today, "1000.00", [(code, "700.00")])
    problem = refused(server, "finance.sun", f"/coupons/{code}/void", {"reason": "Stop it"}, 409, "coupon-used")
    assert "700.00" in problem["detail"], problem
    sale.confirm(spent)
    refused(server, "finance.sun", f"/coupons/{code}/void", {"reason": "Stop it"}, 409, "coupon-used")
    sale.do("finance.sun", f"/receipts/{spent}/reverse", {"reason": "Paid twice"})
    voided = post(server, "finance.sun", f"/coupons/{code}/void", {"reason": "Stop it"})
    assert (voided["status"], voided["balance"]) == ("voided", "0.00")
    assert figures(coupon(server, code, voided["position"])) == \
           ("voided", "1000.00", "500.00", "200.00", "0.00", "1200.00", "0.00")
    assert kinds(server, code, voided["position"])[-1] == ("voided", "-1200.00", "0.00")
    # Voided: nothing more is done with it.
    refused(server, "finance.sun", f"/coupons/{code}/void", {"reason": "again"}, 409, "coupon-voided")
    refused(server, "finance.sun", adjust, {"amount": "10.00", "approved_by": ZHAO, "reason": "x"}, 409,
            "coupon-voided")
    refused(server, "finance.sun", f"/coupons/{code}/details", {"holder_kind": "customer", "holder_id": customer,
                                                               "note": "x", "reason": "x"}, 409, "coupon-voided")


def test_bad_coupon_bodies_and_parameters_are_400_problems_and_record_nothing(demo_server, today):
    server = demo_server
    customer, _ = new_customer(server)
    code = issue(server, "clerk.chen", customer, "1000.00")["code"]
    sale = Sale(server, customer)
    issue_ok = {"code": code_of(), "company_id": HF, "origin": "promotion", "holder_kind": "customer",
                "holder_id": customer, "face_value": "100.00", "amount_paid": "50.00"}
    bad_issues = [
        {k: v for k, v in issue_ok.items() if k != "code"},
        {k: v for k, v in issue_ok.items() if k != "holder_id"},
        {**issue_ok, "origin": "contract"}, {**issue_ok, "origin": "voucher"},
        {**issue_ok, "holder_kind": "supplier"}, {**issue_ok, "code": "A" * 41}, {**issue_ok, "code": ""},
        {**issue_ok, "code": "bad/code"}, {**issue_ok, "code": "卡券1"}, {**issue_ok, "face_value": "abc"},
        {**issue_ok, "face_value": None}, {**issue_ok, "company_id": "not-a-uuid"},
        {**issue_ok, "valid_until": "2026-02-30"}, {**issue_ok, "colour": "red"},
        {**issue_ok, "note": "x" * 201}, {**issue_ok, "note": "bell\x07"}, {**issue_ok, "reason": ""},
    ]
    adjust_ok = {"amount": "10.00", "approved_by": ZHAO, "reason": "why"}
    bad_adjusts = [{k: v for k, v in adjust_ok.items() if k != "reason"},
                   {k: v for k, v in adjust_ok.items() if k != "approved_by"}, {**adjust_ok, "amount": "ten"},
                   {**adjust_ok, "reason": ""}, {**adjust_ok, "reason": "x" * 501}, {**adjust_ok, "extra": 1}]
    details_ok = {"holder_kind": "customer", "holder_id": customer, "reason": "why"}
    bad_details = [{k: v for k, v in details_ok.items() if k != "holder_id"},
                   {k: v for k, v in details_ok.items() if k != "reason"}, {**details_ok, "valid_from": "soon"},
                   {**details_ok, "holder_kind": "friend"}]
    receipt_ok = receipt_body(today, "500.00", [(code, "100.00")])
    bad_receipts = [{**receipt_ok, "coupons": [{"code": code}]}, {**receipt_ok, "coupons": [{"amount": "1.00"}]},
                    {**receipt_ok, "coupons": [{"code": code, "amount": "x"}]},
                    {**receipt_ok, "coupons": [{"code": "no/such", "amount": "1.00"}]},
                    {**receipt_ok, "coupons": [{"code": code, "amount": "1.00", "extra": True}]},
                    {**receipt_ok, "coupons": {"code": code, "amount": "1.00"}},
                    {**receipt_ok, "coupons": [{"code": code_of(), "amount": "1.00"} for _ in range(21)]}]
    cases = ([("/coupons", b) for b in bad_issues] + [(f"/coupons/{code}/adjust", b) for b in bad_adjusts]
             + [(f"/coupons/{code}/details", b) for b in bad_details]
             + [(f"/coupons/{code}/void", b) for b in ({}, {"reason": ""}, {"reason": "x", "amount": "1"})]
             + [(f"{sale.url}/receipts", b) for b in bad_receipts])
    with user(server, "finance.sun") as sun, nothing_recorded(server):
        for path, body in cases:
            assert_problem(sun.post(path, json=body), 400, "invalid-request", (path, body))
        for path in ("/coupons/bad!code", "/coupons/bad!code/usage", "/coupons/" + "A" * 41):
            assert_problem(sun.get(path), 400, "invalid-request", path)
        assert_problem(sun.post("/coupons/bad!code/void", json={"reason": "x"}), 400, "invalid-request")
        for params in ({"origin": "voucher"}, {"status": "spent"}, {"usable_only": "perhaps"},
                       {"company_id": "HF"}, {"holder_id": "x"}, {"page_size": 0}, {"page": 0}):
            assert_problem(sun.get("/coupons", params=params), 400, "invalid-request", params)
        assert_problem(sun.get("/coupons/export", params={"origin": "voucher"}), 400, "invalid-request")
        assert_problem(sun.get("/coupons/summary", params={"company_id": "HF"}), 400, "invalid-request")
        assert_problem(sun.post("/coupons", content=b"{not json", headers={"Content-Type": "application/json"}),
                       400, "invalid-request")
    assert coupon(server, code, sale.position)["balance"] == "1000.00"


# ------------------------------------------------------------------ 5. data scope
def test_a_user_of_one_company_never_sees_nor_touches_another_companys_coupons(demo_server, today, hefei_finance):
    server = demo_server
    cz_customer, _ = new_customer(server, CZ)
    hf_customer, _ = new_customer(server)
    chuzhou = issue(server, "finance.sun", cz_customer, "4000.00", company=CZ, paid="3000.00")
    hefei = issue(server, "clerk.chen", hf_customer, "1000.00")
    cz_code, hf_code = chuzhou["code"], hefei["code"]
    position = max(chuzhou["position"], hefei["position"])

    # The group sees both.
    assert {cz_code, hf_code} <= set(listed(server, "finance.sun", position))
    assert coupon(server, cz_code, position)["company_code"] == "CZ"
    assert ("CZ", "promotion") in summary(server, "finance.sun", position)
    assert cz_code in exported(server, "finance.sun", position)[1]

    # Hefei only: nothing of Chuzhou anywhere, also when asked for by company.
    for username in ("clerk.chen", "manager.zhao", hefei_finance):
        mine = listed(server, username, position)
        assert hf_code in mine and cz_code not in mine, username
        assert {c["company_code"] for c in mine.values()} == {"HF"}, username
        assert listed(server, username, position, company_id=CZ) == {}
        assert listed(server, username, position, code=cz_code) == {}
        with user(server, username) as client:
            for path in (f"/coupons/{cz_code}", f"/coupons/{cz_code}/usage", f"/coupons/{cz_code.lower()}"):
                assert_problem(client.get(path, params={"after": position}), 404, "coupon-not-found", path)
        rows = summary(server, username, position)
        assert {company for company, _ in rows} == {"HF"}, (username, rows)
        assert summary(server, username, position, company_id=CZ) == {}
        assert summary(server, username, position) == summary(server, "finance.sun", position, company_id=HF)
        header, csv_rows = exported(server, username, position)
        assert header == EXPORT_COLUMNS
        assert hf_code in csv_rows and cz_code not in csv_rows
        assert {r["company_code"] for r in csv_rows.values()} == {"HF"}
        assert exported(server, username, position, company_id=CZ)[1] == {}
    # ... and its commands answer 404 as if the coupon did not exist.
    for path, body in ((f"/coupons/{cz_code}/adjust", {"amount": "10.00", "approved_by": ZHAO, "reason": "x"}),
                       (f"/coupons/{cz_code}/void", {"reason": "x"}),
                       (f"/coupons/{cz_code}/details", {"holder_kind": "customer", "holder_id": cz_customer,
                                                        "note": "x", "reason": "x"})):
        refused(server, hefei_finance, path, body, 404, "coupon-not-found", path)
    # (the company is named in the answer or not, the Chuzhou customer is not found)
    problem = refused(server, "clerk.chen", "/coupons", {"code": code_of(), "company_id": CZ, "origin": "promotion",
                                                         "holder_kind": "customer", "holder_id": cz_customer,
                                                         "face_value": "100.00", "amount_paid": "50.00"}, 404, None)
    assert problem["code"] in {"company-not-found", "customer-not-found"}, problem
    # Hefei's coupon cannot be given to a Chuzhou customer either.
    refused(server, hefei_finance, f"/coupons/{hf_code}/details",
            {"holder_kind": "customer", "holder_id": cz_customer, "reason": "x"}, 404, "customer-not-found")

    # Chuzhou + Chizhou (risk.manager): the other way round.
    theirs = listed(server, "risk.manager", position)
    assert cz_code in theirs and hf_code not in theirs and "PROMO-2026-001" not in theirs
    with user(server, "risk.manager") as risk:
        assert_problem(risk.get(f"/coupons/{hf_code}", params={"after": position}), 404, "coupon-not-found")
        assert_problem(risk.get("/coupons/PROMO-2026-001/usage", params={"after": position}), 404,
                       "coupon-not-found")
    assert "HF" not in {company for company, _ in summary(server, "risk.manager", position)}
    refused(server, "risk.manager", f"/coupons/{hf_code}/void", {"reason": "x"}, 404, "coupon-not-found")
    assert figures(coupon(server, hf_code, position)) == ("active", "1000.00", "500.00", "0.00", "0.00", "0.00",
                                                          "1000.00")

    # Salespeople see no coupons at all; keepers and technicians neither.
    for username in ("sales.wang", "sales.li", "keeper.hf", "tech.zhou"):
        with user(server, username) as client:
            for path in ("/coupons", "/coupons/export", "/coupons/summary", f"/coupons/{hf_code}",
                         f"/coupons/{hf_code}/usage", "/coupons/PROMO-2026-001"):
                assert_problem(client.get(path, params={"after": position}), 403, "forbidden", (username, path))


# ------------------------------------------------------------------ 6. the list as CSV, and filters
def test_the_coupon_export_has_its_columns_and_follows_the_filters(demo_server, today):
    server = demo_server
    prefix = code_of("TX")
    customer, _ = new_customer(server, name="=HYPERLINK(\"http://x\") Builders")
    contact, _ = new_contact(server, customer)
    promo = issue(server, "clerk.chen", customer, "2000.00", paid="1000.00", code=f"{prefix}-PROMO",
                  valid_from=today.isoformat(), valid_until=(today + timedelta(days=90)).isoformat())
    gift = post(server, "clerk.chen", "/coupons", gift_body(contact, code=f"{prefix}-GIFT"), 201)
    gone = issue(server, "clerk.chen", customer, "300.00", code=f"{prefix}-VOID")
    post(server, "finance.sun", f"/coupons/{gone['code']}/void", {"reason": "Printed twice"})
    empty = issue(server, "finance.sun", customer, "400.00", code=f"{prefix}-ZERO")
    position = post(server, "finance.sun", f"/coupons/{empty['code']}/adjust",
                    {"amount": "-400.00", "approved_by": ZHAO, "reason": "Refunded in cash"})["position"]
    codes = {f"{prefix}-{k}" for k in ("PROMO", "GIFT", "VOID", "ZERO")}

    header, rows = exported(server, "finance.sun", position, code=prefix.lower())
    assert header == EXPORT_COLUMNS
    assert set(rows) == codes
    listed_ = listed(server, "finance.sun", position, code=prefix)
    assert set(listed_) == codes
    for code, row in rows.items():
        shown = listed_[code]
        assert row["coupon_id"] == shown["coupon_id"] == str(ids.coupon_id(code))
        for column in ("company_code", "origin", "status", "holder_kind", "face_value", "amount_paid", "adjusted",
                       "redeemed", "voided", "balance", "issued_on"):
            assert row[column] == str(shown[column]), (code, column)
        assert (row["valid_from"] or None, row["valid_until"] or None, row["contract_number"] or None) == \
               (shown["valid_from"], shown["valid_until"], shown["contract_number"])
    p = rows[f"{prefix}-PROMO"]
    assert (p["origin"], p["status"], p["face_value"], p["amount_paid"], p["balance"], p["valid_from"],
            p["valid_until"], p["issued_on"], p["company_code"], p["holder_kind"]) == \
           ("promotion", "active", "2000.00", "1000.00", "2000.00", today.isoformat(),
            (today + timedelta(days=90)).isoformat(), today.isoformat(), "HF", "customer")
    # A spreadsheet would run a cell starting with "=": the holder's name is exported as text.
    assert p["holder_name"] == "'=HYPERLINK(\"http://x\") Builders"
    assert listed_[f"{prefix}-PROMO"]["holder_name"] == "=HYPERLINK(\"http://x\") Builders"
    assert (rows[f"{prefix}-GIFT"]["origin"], rows[f"{prefix}-GIFT"]["holder_kind"]) == ("gift", "contact")
    assert (rows[f"{prefix}-VOID"]["status"], rows[f"{prefix}-VOID"]["voided"],
            rows[f"{prefix}-VOID"]["balance"]) == ("voided", "300.00", "0.00")
    assert (rows[f"{prefix}-ZERO"]["adjusted"], rows[f"{prefix}-ZERO"]["balance"]) == ("-400.00", "0.00")

    for params, expected in (({"origin": "gift"}, {"GIFT"}), ({"origin": "promotion"}, {"PROMO", "VOID", "ZERO"}),
                             ({"origin": "contract"}, set()), ({"status": "voided"}, {"VOID"}),
                             ({"status": "active"}, {"PROMO", "GIFT", "ZERO"}),
                             ({"usable_only": "true"}, {"PROMO", "GIFT"}),
                             ({"usable_only": "false"}, {"PROMO", "GIFT", "VOID", "ZERO"}),
                             ({"origin": "promotion", "usable_only": "true"}, {"PROMO"}),
                             ({"holder_id": contact}, {"GIFT"}), ({"company_id": CZ}, set()),
                             ({"company_id": HF, "status": "active", "origin": "promotion"}, {"PROMO", "ZERO"})):
        want = {f"{prefix}-{k}" for k in expected}
        assert set(exported(server, "finance.sun", position, code=prefix, **params)[1]) == want, params
        assert set(listed(server, "finance.sun", position, code=prefix, **params)) == want, params
    # The code filter is a prefix, typed in any case and spacing, without wildcards.
    assert set(exported(server, "finance.sun", position, code=f" {prefix.lower()}-p ")[1]) == {f"{prefix}-PROMO"}
    for pattern in (f"{prefix}_PROMO", f"{prefix}%", f"{prefix}-%O", "%" + prefix[1:], "_" + prefix[1:]):
        assert exported(server, "finance.sun", position, code=pattern)[1] == {}, pattern
        assert listed(server, "finance.sun", position, code=pattern) == {}, pattern
    # Every coupon role gets the same file; paging of the list agrees with it.
    for username in READERS:
        assert set(exported(server, username, position, code=prefix)[1]) == codes, username
    with user(server, "finance.sun") as sun:
        page = ok(sun.get("/coupons", params={"code": prefix, "page_size": 3, "page": 2, "after": position}))
    assert (page["total"], [c["code"] for c in page["items"]]) == (4, [sorted(codes)[3]])
    # Receipts and redemptions show in the export's figures.
    sale = Sale(server, customer)
    pay_with(sale, today, "800.00", [(promo["code"], "500.00"), (gift["code"], "300.00")])
    rows = exported(server, "finance.sun", sale.position, code=prefix, usable_only="true")[1]
    assert {c: (r["redeemed"], r["balance"]) for c, r in rows.items()} == \
           {f"{prefix}-PROMO": ("500.00", "1500.00"), f"{prefix}-GIFT": ("300.00", "500.00")}


# ------------------------------------------------------------------ 7. two processes spend one coupon (PostgreSQL)
RACE_ROUNDS = 20
RACE_FACE, RACE_TAKE = Decimal("1000.00"), Decimal("600.00")     # each takes more than half


def test_concurrent_redemptions_of_one_coupon_on_two_processes_never_overspend_it(demo_server, twin_server, today):
    """Twenty rounds: a fresh coupon of 1,000.00, and two receipts on two contracts of its holder,
    each taking 600.00 from it, sent at the same instant to two API processes on one schema. One
    receipt is recorded and redeems; the other is told coupon-balance (never a 500 nor a conflict
    left to the caller) and records nothing."""
    server = demo_server
    customer, _ = new_customer(server)
    sales = [Sale(server, customer) for _ in range(4)]
    before = summary(server, "finance.sun", sales[-1].position)
    chen = server.client(server.login("clerk.chen"))
    sun = twin_server.client(server.login("finance.sun"))
    winners: dict[str, tuple[str, str]] = {}           # coupon code -> (receipt id, contract id)
    losers: dict[str, str] = {}                        # coupon code -> contract id
    position = 0
    try:
        for client in (chen, sun):   # connections open first: the barrier releases requests, not handshakes
            assert client.get("/auth/me").status_code == 200
        for n in range(RACE_ROUNDS):
            code = issue(server, "finance.sun", customer, str(RACE_FACE))["code"]
            pair = (sales[n % 4], sales[(n + 1) % 4])
            clients = (chen, sun) if n % 2 == 0 else (sun, chen)
            count = server.store.event_count()
            answers = _at_once([(client, "POST", f"{sale.url}/receipts",
                                 receipt_body(today, str(RACE_TAKE), [(code if i else code.lower(), str(RACE_TAKE))],
                                              reference=f"race {n}"), {})
                                for i, (client, sale) in enumerate(zip(clients, pair))])
            assert all(a.status_code != 500 for a in answers), (server.log_tail(), twin_server.log_tail())
            won = [(sale, a) for sale, a in zip(pair, answers) if a.status_code == 201]
            lost = [(sale, a) for sale, a in zip(pair, answers) if a.status_code != 201]
            assert len(won) == 1 and len(lost) == 1, [a.text[:300] for a in answers]
            problem = assert_problem(lost[0][1], 422, "coupon-balance", n)
            assert "400.00" in problem["detail"], problem
            # The winner's receipt and its redemption: two events, nothing of the loser.
            assert server.store.event_count() - count == 2, n
            winners[code] = (won[0][1].json()["receipt_id"], won[0][0].id)
            losers[code] = lost[0][0].id
            position = max(position, won[0][1].json()["position"])
    finally:
        chen.close()
        sun.close()

    shown = listed(server, "finance.sun", position, holder_id=customer)
    assert set(shown) == set(winners)
    for code, (receipt_id, contract_id) in winners.items():
        c = shown[code]
        assert (c["redeemed"], c["balance"]) == (str(RACE_TAKE), str(RACE_FACE - RACE_TAKE)), c
        assert Decimal(c["balance"]) >= 0
        redemptions = [u for u in usage(server, code, position) if u["kind"] == "redeemed"]
        assert [(u["receipt_id"], u["contract_id"], u["amount"], u["balance_after"]) for u in redemptions] == \
               [(receipt_id, contract_id, f"-{RACE_TAKE}", str(RACE_FACE - RACE_TAKE))], code
    # Exactly the winners' receipts are recorded, each with its coupon, on its own contract.
    recorded: dict[str, tuple[str, str]] = {}
    for sale in sales:
        sale.position = position
        for r in sale.receipts():
            [part] = r["coupons"]
            assert (r["amount"], r["paid_with_coupons"], part["amount"]) == (str(RACE_TAKE),) * 3
            recorded[part["code"]] = (r["receipt_id"], sale.id)
    assert recorded == winners
    assert all(losers[code] != winners[code][1] for code in winners)
    grown = summary_delta(before, summary(server, "finance.sun", position), ("HF", "promotion"))
    assert grown == {"coupons": RACE_ROUNDS, "issued": RACE_FACE * RACE_ROUNDS,
                     "amount_paid": RACE_FACE / 2 * RACE_ROUNDS, "adjusted": 0, "redeemed": RACE_TAKE * RACE_ROUNDS,
                     "voided": 0, "outstanding": (RACE_FACE - RACE_TAKE) * RACE_ROUNDS}


def test_one_code_issued_at_once_on_two_processes_is_one_coupon(demo_server, twin_server, today):
    """The code is the coupon's identity: two issues of it at the same instant, on two processes,
    leave one coupon; the other caller is told coupon-code-exists."""
    server = demo_server
    customer, _ = new_customer(server)
    chen = server.client(server.login("clerk.chen"))
    sun = twin_server.client(server.login("finance.sun"))
    try:
        for client in (chen, sun):
            assert client.get("/auth/me").status_code == 200
        for n in range(10):
            code = code_of("TR")
            bodies = [{"code": typed, "company_id": HF, "origin": "promotion", "holder_kind": "customer",
                       "holder_id": customer, "face_value": face, "amount_paid": "100.00"}
                      for typed, face in ((code, "500.00"), (code.lower(), "700.00"))]
            count = server.store.event_count()
            answers = _at_once([(client, "POST", "/coupons", body, {}) for client, body in zip((chen, sun), bodies)])
            won = [(body, a) for body, a in zip(bodies, answers) if a.status_code == 201]
            lost = [a for a in answers if a.status_code != 201]
            assert len(won) == 1 and len(lost) == 1, [a.text[:300] for a in answers]
            assert_problem(lost[0], 409, "coupon-code-exists", n)
            assert server.store.event_count() - count == 1
            shown = coupon(server, code, won[0][1].json()["position"])
            assert shown["face_value"] == won[0][0]["face_value"] and shown["balance"] == shown["face_value"]
            assert [k for k, _, _ in kinds(server, code, won[0][1].json()["position"])] == ["issued"]
    finally:
        chen.close()
        sun.close()


def test_a_void_and_a_redemption_at_once_on_two_processes_leave_one_of_them(demo_server, twin_server, today):
    """Finance voids a coupon while the clerk spends it: either the coupon is voided (and the receipt
    refused coupon-voided) or the receipt redeems it (and the void is refused coupon-used)."""
    server = demo_server
    customer, _ = new_customer(server)
    sale = Sale(server, customer)
    chen = server.client(server.login("clerk.chen"))
    sun = twin_server.client(server.login("finance.sun"))
    outcomes = []
    try:
        for client in (chen, sun):
            assert client.get("/auth/me").status_code == 200
        for n in range(10):
            code = issue(server, "clerk.chen", customer, "1000.00")["code"]
            count = server.store.event_count()
            receipt, void = _at_once([
                (chen, "POST", f"{sale.url}/receipts", receipt_body(today, "500.00", [(code, "500.00")]), {}),
                (sun, "POST", f"/coupons/{code}/void", {"reason": "Withdrawn"}, {})])
            assert sorted([receipt.status_code, void.status_code]) in ([200, 409], [201, 409]), \
                (receipt.text[:300], void.text[:300])
            if receipt.status_code == 201:
                assert_problem(void, 409, "coupon-used", n)
                position = receipt.json()["position"]
                assert server.store.event_count() - count == 2       # the receipt and its redemption
                assert figures(coupon(server, code, position))[0::6] == ("active", "500.00")
                outcomes.append("redeemed")
            else:
                assert_problem(receipt, 409, "coupon-voided", n)
                position = void.json()["position"]
                assert server.store.event_count() - count == 1       # the void
                assert figures(coupon(server, code, position))[0::5] == ("voided", "1000.00")
                outcomes.append("voided")
            sale.position = position
    finally:
        chen.close()
        sun.close()
    receipts = sale.receipts()
    assert len(receipts) == outcomes.count("redeemed")
    assert all(r["paid_with_coupons"] == "500.00" for r in receipts)
