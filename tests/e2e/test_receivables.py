"""Receivables over HTTP (应收 / 收款 / 罚息), each act by the role that does it.

The demo (interfaces/demo.py) gives the people: sales.wang and sales.li sell in
Hefei and never see each other's contracts; clerk.chen completes terms, types
schedules and records receipts (收款); finance.sun (whole group) confirms, rejects
and reverses them (收款确认) and runs the penalty accrual; manager.zhao approves
Hefei contracts and un-approves them; risk.manager is approver and finance for
Chuzhou + Chizhou only; the administrator sets penalty rates.

A contract's receivable is opened by its approval and addressed by the contract's
id. The expected figures are computed here, independently of the product's
``domain.schedules``, and checked against SCENARIO.md's table.

The demo server is shared by the whole session: every test drafts contracts of
its own for customers of its own, and compares shared totals (aging, lists) as
differences before/after within itself. Queries are asked with ``after`` = the
position of the command whose effect they must show. "Nothing recorded" is the
event log's own count (``nothing_recorded``) plus the read model unchanged.

Dates: the server's business date (UTC+8) is read from the server (``as_of`` of
ListReceivables), never from this machine's clock. Penalty rates can only be set
for later days, so within a run nothing is overdue and no penalty accrues; the
arithmetic of penalties is covered by the unit and integration tiers.
"""

from __future__ import annotations

import calendar
import csv
import io
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import httpx
import pytest

from domain import ids
from tests.e2e.conftest import CZ, FORMAL, HF, SY215C, XE60, Server, assert_problem, every, nothing_recorded, ok, unique
from tests.e2e.test_idempotency import _at_once

NOWHERE = "5b7f7e1e-0000-4000-8000-000000000000"   # a well-formed id nothing has
FEN = Decimal("0.01")
SUN, CHEN = str(ids.user_id("finance.sun")), str(ids.user_id("clerk.chen"))

# SCENARIO.md, "A sale on installments": 300,000.00 over 12 months, equal installment at 4.35 %.
# (payment, principal, interest) per month; the figures do not depend on the dates.
SCENARIO_ROWS = [
    ("25592.97", "24505.47", "1087.50"), ("25592.97", "24594.30", "998.67"), ("25592.97", "24683.46", "909.51"),
    ("25592.97", "24772.93", "820.04"), ("25592.97", "24862.74", "730.23"), ("25592.97", "24952.86", "640.11"),
    ("25592.97", "25043.32", "549.65"), ("25592.97", "25134.10", "458.87"), ("25592.97", "25225.21", "367.76"),
    ("25592.97", "25316.65", "276.32"), ("25592.97", "25408.43", "184.54"), ("25592.97", "25500.53", "92.44"),
]
SCENARIO_CHARGED = "387115.64"     # 80,000.00 down + 12 × 25,592.97


# ------------------------------------------------------------------ independent arithmetic
def q(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def month_on(first: date, months: int) -> date:
    """``first`` moved ``months`` on, same day of the month clamped to the month's last day."""
    m0 = first.month - 1 + months
    year, month = first.year + m0 // 12, m0 % 12 + 1
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def equal_installment_rows(financed: str, annual_rate: str, months: int,
                           first: date) -> list[tuple[date, Decimal, Decimal]]:
    """等额本息 as SCENARIO.md states it: A = P·r·(1+r)^n / ((1+r)^n − 1) rounded; interest on the
    remaining principal rounded; the last month takes the remaining principal."""
    with localcontext() as ctx:
        ctx.prec = 60
        principal, r = Decimal(financed), Decimal(annual_rate) / 12
        growth = (1 + r) ** months
        payment = q(principal * r * growth / (growth - 1)) if r else q(principal / months)
        rows, remaining = [], principal
        for k in range(months):
            interest = q(remaining * r)
            paid = remaining if k == months - 1 else payment - interest
            rows.append((month_on(first, k), paid, interest))
            remaining -= paid
    return rows


def equal_principal_rows(financed: str, annual_rate: str, months: int,
                         first: date) -> list[tuple[date, Decimal, Decimal]]:
    """等额本金: the same principal each month (the last the remainder), interest on the rest."""
    with localcontext() as ctx:
        ctx.prec = 60
        principal, r = Decimal(financed), Decimal(annual_rate) / 12
        share = q(principal / months)
        rows, remaining = [], principal
        for k in range(months):
            interest = q(remaining * r)
            paid = remaining if k == months - 1 else share
            rows.append((month_on(first, k), paid, interest))
            remaining -= paid
    return rows


def money(value: Decimal | str) -> str:
    return str(q(Decimal(value)))


def first_31st_after(day: date) -> date:
    """The first 31st of a month after ``day``: a due day that gets clamped in short months."""
    day += timedelta(days=1)
    while day.day != 31:
        day += timedelta(days=1)
    return day


def scenario_terms(today: date, down_payment: str = "80000.00") -> dict[str, Any]:
    return {"payment": "installment", "down_payment": down_payment,
            "installment": {"months": 12, "annual_rate": "0.0435", "method": "equal_installment",
                            "first_due_date": first_31st_after(today).isoformat()}}


# ------------------------------------------------------------------ helpers
def user(server: Server, username: str, password: str | None = None) -> httpx.Client:
    if username == "admin":
        return server.as_admin()
    return server.as_user(username, password) if password else server.as_user(username)


class Deal:
    """A contract of one machine, its terms completed by the clerk and taken through the
    approval route by the people whose step it is. Hefei: drafted by ``owner``; Chuzhou:
    drafted by the administrator and approved by risk.manager (and group finance from 300000)."""

    def __init__(self, server: Server, terms: dict[str, Any], price: str = "380000.00", model: str = SY215C,
                 owner: str = "sales.wang", company: str = HF, stage: str = "approved",
                 customer_name: str | None = None) -> None:
        self.server, self.company, self.price = server, company, Decimal(price)
        seller = owner if company == HF else "admin"
        self.clerk = "clerk.chen" if company == HF else "admin"
        with user(server, seller) as client:
            customer = ok(client.post("/customers", json={"company_id": company,
                                                          "name": customer_name or unique("Debtor "),
                                                          "kind": "organisation", "customer_type_id": FORMAL}), 201)
            self.customer_id: str = customer["customer_id"]
            drafted = ok(client.post("/contracts", json={
                "company_id": company, "customer_id": self.customer_id,
                "lines": [{"model_id": model, "quantity": 1, "unit_price": price}]}), 201)
            self.id: str = drafted["contract_id"]
            self.number: str = drafted["number"]
            self.position: int = drafted["position"]
            self.position = ok(client.post(f"/contracts/{self.id}/submit-to-clerk"))["position"]
        with user(server, self.clerk) as clerk:
            ok(clerk.post(f"/contracts/{self.id}/complete-terms", json=terms))
            if stage == "with_clerk":
                return
        self.submit()
        if stage == "in_approval":
            return
        self.approve()

    def submit(self) -> None:
        with user(self.server, self.clerk) as clerk:
            submitted = ok(clerk.post(f"/contracts/{self.id}/submit-for-approval"))
        assert submitted["status"] == "in_approval", submitted
        self.position = submitted["position"]

    def approve(self) -> None:
        first = "manager.zhao" if self.company == HF else "risk.manager"
        with user(self.server, first) as approver:
            done = ok(approver.post(f"/contracts/{self.id}/approve"))
        if done["waiting_for"] is not None:
            assert done["waiting_for"] == {"step": "Group finance", "role": "finance"}, done
            with user(self.server, "finance.sun") as sun:
                done = ok(sun.post(f"/contracts/{self.id}/approve"))
        assert done["status"] == "approved" and done["waiting_for"] is None, done
        self.position = done["position"]

    @property
    def url(self) -> str:
        return f"/receivables/{self.id}"

    def do(self, username: str, path: str, body: dict[str, Any] | None = None, status: int = 200,
           headers: dict[str, str] | None = None) -> dict[str, Any]:
        """A command on the receivable; remembers its position for the queries that follow."""
        with user(self.server, username) as client:
            done = ok(client.post(f"{self.url}{path}", json=body, headers=headers or {}), status)
        self.position = done["position"]
        return done

    def record(self, amount: str, value_date: date, username: str = "clerk.chen", method: str = "bank_transfer",
               allocate_to: list[str] | None = None, reference: str | None = None) -> str:
        body: dict[str, Any] = {"amount": amount, "value_date": value_date.isoformat(), "method": method}
        if allocate_to is not None:
            body["allocate_to"] = allocate_to
        if reference is not None:
            body["reference"] = reference
        return self.do(username, "/receipts", body, 201)["receipt_id"]

    def confirm(self, receipt_id: str, username: str = "finance.sun") -> dict[str, Any]:
        return self.do(username, f"/receipts/{receipt_id}/confirm")

    def receivable(self, username: str = "finance.sun", after: int | None = None) -> dict[str, Any]:
        with user(self.server, username) as client:
            return ok(client.get(self.url, params={"after": after or self.position}))

    def receipts(self, username: str = "finance.sun", **params: Any) -> list[dict[str, Any]]:
        with user(self.server, username) as client:
            return every(client, "/receipts", self.position, contract_id=self.id, **params)

    def statement(self, username: str = "finance.sun", **params: Any) -> dict[str, Any]:
        with user(self.server, username) as client:
            return ok(client.get(f"/receivables/customers/{self.customer_id}/statement",
                                 params={"after": self.position, **params}))

    def frozen(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """What finance sees of the receivable and its receipts: compared before and after refusals."""
        return self.receivable(), self.receipts()


def receivables_of(server: Server, username: str, after: int, **params: Any) -> dict[str, dict[str, Any]]:
    with user(server, username) as client:
        return {r["contract_id"]: r for r in every(client, "/receivables", after, **params)}


def aging(server: Server, username: str, after: int, group_by: str = "company") -> dict[str, dict[str, Any]]:
    with user(server, username) as client:
        report = ok(client.get("/receivables/aging", params={"after": after, "group_by": group_by}))
    assert report["group_by"] == group_by
    return {row["name"] if group_by == "company" else row["id"]: row for row in report["rows"]}


def exported(server: Server, username: str, after: int, **params: Any) -> tuple[list[str], dict[str, dict[str, str]]]:
    with user(server, username) as client:
        answer = client.get("/receivables/export", params={"after": after, **params})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    header = rows[0]
    return header, {r["contract_id"]: r for r in (dict(zip(header, row)) for row in rows[1:])}


def items_of(receivable: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    return [(i["item"], i["kind"], i["due_date"], i["principal"], i["interest"], i["unpaid"])
            for i in receivable["items"]]


def expected_items(down: str | None, rows: list[tuple[date, Decimal, Decimal]], today: date,
                   deposit: tuple[str, date] | None = None) -> list[tuple[str, str, str, str, str, str]]:
    items = []
    if down:
        items.append(("DP", "down_payment", today.isoformat(), money(down), "0.00", money(down)))
    items += [(f"I{n}", "installment", due.isoformat(), money(p), money(i), money(p + i))
              for n, (due, p, i) in enumerate(rows, 1)]
    if deposit:
        items.append(("WD", "warranty_deposit", deposit[1].isoformat(), money(deposit[0]), "0.00",
                      money(deposit[0])))
    return items


def dec(value: str) -> Decimal:
    return Decimal(value)


def check_running_balance(statement: dict[str, Any]) -> None:
    """Lines in date order, each balance the previous one plus its debit minus its credit."""
    balance = dec(statement["opening_balance"])
    dates = [line["date"] for line in statement["lines"]]
    assert dates == sorted(dates), dates
    for line in statement["lines"]:
        balance += dec(line["debit"]) - dec(line["credit"])
        assert dec(line["balance"]) == balance, (line, balance)
    assert dec(statement["closing_balance"]) == balance


# ------------------------------------------------------------------ 1. the whole flow by role
def test_an_approved_installment_sale_is_paid_down_by_clerk_and_finance(demo_server, today):
    server = demo_server
    with server.as_user("finance.sun") as sun:
        start = ok(sun.get("/receivables", params={"page_size": 1}))
    first_due = first_31st_after(today)
    rows = equal_installment_rows("300000.00", "0.0435", 12, first_due)
    # Our arithmetic reproduces SCENARIO.md's table, to the fen.
    assert [(money(p + i), money(p), money(i)) for _, p, i in rows] == SCENARIO_ROWS
    assert [due.day for due, _, _ in rows] == [min(31, calendar.monthrange(d.year, d.month)[1]) for d, _, _ in rows]

    before_hf = aging(server, "finance.sun", 0).get("HF")
    deal = Deal(server, scenario_terms(today))

    # GetReceivable: DP and I1 … I12, nothing due before today.
    shown = deal.receivable()
    assert (shown["contract_number"], shown["company_code"], shown["salesperson"], shown["status"],
            shown["payment"], shown["schedule_method"], shown["schedule_pending"]) == \
           (deal.number, "HF", "sales.wang", "open", "installment", "equal_installment", False)
    assert (shown["financed"], shown["charged"], shown["received"], shown["outstanding"],
            shown["principal_outstanding"], shown["overdue_amount"], shown["penalty_outstanding"]) == \
           ("300000.00", SCENARIO_CHARGED, "0.00", SCENARIO_CHARGED, "380000.00", "0.00", "0.00")
    assert items_of(shown) == expected_items("80000.00", rows, today)
    installments = [i for i in shown["items"] if i["kind"] == "installment"]
    assert sum(dec(i["principal"]) for i in installments) == dec("300000.00")
    assert (installments[0]["principal"], installments[0]["interest"], installments[0]["unpaid"]) == \
           ("24505.47", "1087.50", "25592.97")
    assert (shown["next_due_date"], shown["next_due_amount"]) == (today.isoformat(), "80000.00")
    assert (shown["aging_bucket"], shown["days_past_due"], shown["oldest_overdue_date"]) == ("current", 0, None)
    assert not any(i["overdue"] for i in shown["items"]) and shown["receipts"] == []
    assert shown == deal.receivable("sales.wang")          # the salesperson sees his own contract's
    assert shown["as_of"] == start["as_of"] == today.isoformat()

    # The salesperson does not take money; the clerk records the down payment (收款).
    with server.as_user("sales.wang") as wang, nothing_recorded(server):
        assert_problem(wang.post(f"{deal.url}/receipts", json={"amount": "80000.00", "value_date": today.isoformat(),
                                                               "method": "bank_transfer"}), 403, "forbidden")
    recorded = deal.do("clerk.chen", "/receipts", {"amount": "80000.00", "value_date": today.isoformat(),
                                                   "method": "bank_transfer", "reference": "BOC 0091"}, 201)
    receipt_id = recorded["receipt_id"]
    assert (recorded["contract_id"], recorded["received"], recorded["outstanding"]) == \
           (deal.id, "0.00", SCENARIO_CHARGED)   # recorded, it does not count yet

    # Finance's queue (status=recorded) shows it; the clerk cannot confirm it.
    with server.as_user("finance.sun") as sun:
        waiting = [r for r in every(sun, "/receipts", deal.position, status="recorded") if r["contract_id"] == deal.id]
    assert [(r["receipt_id"], r["contract_number"], r["amount"], r["value_date"], r["method"], r["reference"],
             r["status"], r["recorded_by"], r["decided_by"]) for r in waiting] == \
           [(receipt_id, deal.number, "80000.00", today.isoformat(), "bank_transfer", "BOC 0091", "recorded", CHEN,
             None)]
    before = deal.frozen()
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        assert_problem(chen.post(f"{deal.url}/receipts/{receipt_id}/confirm"), 403, "forbidden")
    assert deal.frozen() == before

    # 收款确认 by finance: the down payment is paid.
    confirmed = deal.confirm(receipt_id)
    assert (confirmed["received"], confirmed["outstanding"]) == ("80000.00", "307115.64")
    assert confirmed["items"][0] == {"item": "DP", "due_date": today.isoformat(), "amount": "80000.00",
                                     "outstanding": "0.00", "penalty_outstanding": "0.00"}
    shown = deal.receivable()
    assert (shown["received"], shown["outstanding"], shown["principal_outstanding"], shown["charged"]) == \
           ("80000.00", "307115.64", "300000.00", SCENARIO_CHARGED)
    dp = shown["items"][0]
    assert (dp["item"], dp["principal_paid"], dp["interest_paid"], dp["unpaid"]) == ("DP", "80000.00", "0.00", "0.00")
    assert items_of(shown)[1:] == expected_items("80000.00", rows, today)[1:]   # the installments untouched
    assert (shown["next_due_date"], shown["next_due_amount"]) == (first_due.isoformat(), "25592.97")
    assert [(r["receipt_id"], r["status"], r["decided_by"], r["allocations"]) for r in shown["receipts"]] == \
           [(receipt_id, "confirmed", SUN,
             [{"item": "DP", "penalty": "0.00", "interest": "0.00", "principal": "80000.00"}])]
    assert [r["status"] for r in deal.receipts()] == ["confirmed"]
    assert deal.receipts(status="recorded") == []

    # 对账单: every line in date order, the running balance ending at what is outstanding.
    whole = deal.statement(date_to=rows[-1][0].isoformat())
    check_running_balance(whole)
    assert (whole["opening_balance"], whole["closing_balance"]) == ("0.00", shown["outstanding"])
    assert [(line["date"], line["kind"], line["item"], line["debit"], line["credit"]) for line in whole["lines"]] == \
           [(today.isoformat(), "charge", "DP", "80000.00", "0.00"),
            (today.isoformat(), "receipt", None, "0.00", "80000.00")] + \
           [(due.isoformat(), "charge", f"I{n}", money(p + i), "0.00") for n, (due, p, i) in enumerate(rows, 1)]
    assert whole["lines"][1]["receipt_id"] == receipt_id and "BOC 0091" in whole["lines"][1]["description"]
    assert {line["contract_number"] for line in whole["lines"]} == {deal.number}
    so_far = deal.statement()   # up to today: what has fallen due, and what was paid
    check_running_balance(so_far)
    assert so_far["date_to"] == today.isoformat()
    assert [(line["kind"], line["balance"]) for line in so_far["lines"]] == [("charge", "80000.00"),
                                                                             ("receipt", "0.00")]
    # From the first installment on: what came before is the opening balance.
    later = deal.statement(date_from=first_due.isoformat(), date_to=rows[-1][0].isoformat())
    check_running_balance(later)
    assert (later["opening_balance"], later["closing_balance"]) == ("0.00", "307115.64")
    assert [line["item"] for line in later["lines"]] == [f"I{n}" for n in range(1, 13)]
    with server.as_user("finance.sun") as sun:
        assert_problem(sun.get(f"/receivables/customers/{deal.customer_id}/statement", params={
            "date_from": first_due.isoformat(), "date_to": today.isoformat()}), 422, "invalid-value")

    # ExportReceivables: a header row, then the contract's row with the same figures.
    header, rows_by_contract = exported(server, "finance.sun", deal.position)
    assert header[0] == "contract_number" and {"outstanding", "received", "aging_bucket", "contract_id"} <= set(header)
    row = rows_by_contract[deal.id]
    assert (row["contract_number"], row["company_code"], row["salesperson"], row["status"], row["financed"],
            row["received"], row["outstanding"], row["next_due_date"], row["next_due_amount"], row["aging_bucket"]) == \
           (deal.number, "HF", "sales.wang", "open", "300000.00", "80000.00", "307115.64", first_due.isoformat(),
            "25592.97", "current")

    # GetAgingReport: Hefei's totals grew by exactly this receivable, all of it current.
    after_hf = aging(server, "finance.sun", deal.position)["HF"]
    grew = {k: dec(after_hf[k]) - dec(before_hf[k] if before_hf else "0.00")
            for k in ("outstanding", "current", "1-30", "overdue", "penalty_outstanding")}
    assert grew == {"outstanding": dec("307115.64"), "current": dec("307115.64"), "1-30": 0, "overdue": 0,
                    "penalty_outstanding": 0}
    assert after_hf["receivables"] == (before_hf["receivables"] if before_hf else 0) + 1
    by_customer = aging(server, "finance.sun", deal.position, group_by="customer")[deal.customer_id]
    assert (by_customer["receivables"], by_customer["outstanding"], by_customer["current"], by_customer["overdue"]) == \
           (1, "307115.64", "307115.64", "0.00")


# ------------------------------------------------------------------ 2. refusals record nothing
def test_receipts_the_business_refuses_are_problems_and_record_nothing(demo_server, today):
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    url, day = f"{deal.url}/receipts", today.isoformat()

    def receipt(amount: str = "1000.00", **changes: Any) -> dict[str, Any]:
        return {"amount": amount, "value_date": day, "method": "cash", **changes}

    before = deal.frozen()
    cases = [
        # (body, status, code)
        (receipt("387115.65"), 422, "overpayment"),                               # a fen more than all it owes
        (receipt("80000.01", allocate_to=["DP"]), 422, "overpayment"),           # more than the item it names
        (receipt(value_date=(today + timedelta(days=1)).isoformat()), 422, "invalid-value"),   # money not here yet
        (receipt(value_date=(today - timedelta(days=1)).isoformat()), 422, "invalid-value"),   # before the contract
        (receipt(allocate_to=["I13"]), 422, "invalid-value"),                    # no such item
        (receipt(allocate_to=["WD"]), 422, "invalid-value"),                     # no deposit on this contract
        (receipt("100.005"), 422, "invalid-value"),                              # three places: refused, not rounded
        (receipt("0.00"), 422, "invalid-value"),
        (receipt("-100.00"), 422, "invalid-value"),
        (receipt("abc"), 400, "invalid-request"),
        (receipt(method="barter"), 400, "invalid-request"),
        (receipt(allocate_to=["D P"]), 400, "invalid-request"),
        (receipt(payer="someone"), 400, "invalid-request"),
        (receipt(reference="R" * 101), 400, "invalid-request"),
        (receipt(reference="bad\x00byte"), 400, "invalid-request"),
        (receipt(value_date="2026-13-01"), 400, "invalid-request"),
        (receipt(allocate_to="DP"), 400, "invalid-request"),
        ({"amount": "1000.00", "method": "cash"}, 400, "invalid-request"),
    ]
    with server.as_user("clerk.chen") as chen:
        for body, status, code in cases:
            with nothing_recorded(server):
                problem = assert_problem(chen.post(url, json=body), status, code, body)
            if code == "overpayment":
                assert deal.number in problem["detail"], problem
    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        assert_problem(sun.post(f"{url}/{NOWHERE}/confirm"), 404, "receipt-not-found")
        assert_problem(sun.post(f"/receivables/{NOWHERE}/receipts/{NOWHERE}/confirm"), 404, "receivable-not-found")
    assert deal.frozen() == before

    # What is waiting for confirmation counts against what is owed.
    pending = deal.record("300000.00", today)
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        problem = assert_problem(chen.post(url, json=receipt("87115.65")), 422, "overpayment")
    assert "87115.64" in problem["detail"], problem

    # The one who recorded a receipt does not confirm it.
    own = deal.record("1000.00", today, username="finance.sun")
    before = deal.frozen()
    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        assert_problem(sun.post(f"{url}/{own}/confirm"), 403, "own-receipt")
    assert deal.frozen() == before

    # Reverse only what counts; reject only with a reason; confirm only once.
    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        assert_problem(sun.post(f"{url}/{pending}/reverse", json={"reason": "wrong contract"}), 409, "receipt-state")
        assert_problem(sun.post(f"{url}/{pending}/reject"), 400, "invalid-request")
        assert_problem(sun.post(f"{url}/{pending}/reject", json={"reason": ""}), 400, "invalid-request")
        assert_problem(sun.post(f"{url}/{pending}/reject", json={}), 400, "invalid-request")
    assert deal.frozen() == before
    deal.confirm(pending)
    before = deal.frozen()
    assert before[0]["received"] == "300000.00"
    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        problem = assert_problem(sun.post(f"{url}/{pending}/confirm"), 409, "receipt-state")
        assert "confirmed" in problem["detail"], problem
        assert_problem(sun.post(f"{url}/{pending}/reject", json={"reason": "late"}), 409, "receipt-state")
        assert_problem(sun.post(f"{url}/{pending}/reverse"), 400, "invalid-request")
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        assert_problem(chen.post(f"{url}/{pending}/reverse", json={"reason": "mine"}), 403, "forbidden")
        assert_problem(chen.post(f"{url}/{own}/reject", json={"reason": "mine"}), 403, "forbidden")
    assert deal.frozen() == before

    # Rejected with its reason, a receipt never counts and can be neither confirmed nor reversed.
    reason = unique("Cheque bounced ")
    rejected = deal.do("finance.sun", f"/receipts/{own}/reject", {"reason": reason})
    assert rejected["received"] == "300000.00"
    shown = {r["receipt_id"]: r for r in deal.receipts()}
    assert (shown[own]["status"], shown[own]["reason"], shown[own]["decided_by"]) == ("rejected", reason, SUN)
    before = deal.frozen()
    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        assert_problem(sun.post(f"{url}/{own}/confirm"), 409, "receipt-state")
        assert_problem(sun.post(f"{url}/{own}/reverse", json={"reason": "again"}), 409, "receipt-state")
    assert deal.frozen() == before


def test_a_contract_not_approved_has_no_receivable(demo_server, today):
    server = demo_server
    waiting = Deal(server, scenario_terms(today), stage="in_approval")
    with server.as_user("finance.sun") as sun:
        assert_problem(sun.get(waiting.url, params={"after": waiting.position}), 404, "receivable-not-found")
        assert_problem(sun.get(f"/receivables/{NOWHERE}"), 404, "receivable-not-found")
        assert waiting.id not in receivables_of(server, "finance.sun", waiting.position)
        # The customer has no receivable yet: an empty statement; an unknown customer is not found.
        empty = sun.get(f"/receivables/customers/{waiting.customer_id}/statement")
        assert empty.status_code == 200, empty.text
        assert (empty.json()["lines"], empty.json()["closing_balance"]) == ([], "0.00")
        assert_problem(sun.get(f"/receivables/customers/{NOWHERE}/statement"), 404, "customer-not-found")
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        assert_problem(chen.post(f"{waiting.url}/receipts", json={"amount": "1000.00", "value_date": today.isoformat(),
                                                                  "method": "cash"}), 404, "receivable-not-found")
        assert_problem(chen.post(f"{waiting.url}/schedule/generate", json={
            "annual_rate": "0.05", "months": 6, "first_due_date": first_31st_after(today).isoformat()}), 404,
            "receivable-not-found")
    assert waiting.receipts() == []


def test_schedules_are_refused_on_a_cash_sale_and_when_they_do_not_add_up(demo_server, today):
    server = demo_server
    deposit_due = today + timedelta(days=365)
    cash = Deal(server, {"payment": "cash", "warranty_deposit": "7500.00", "warranty_due_date": deposit_due.isoformat(),
                         "accessories": [{"name": "Breaker hammer", "quantity": 1, "unit_price": "2500.00"}]},
                price="150000.00", model=XE60)
    shown = cash.receivable()   # the whole price with the agreed accessory, less the deposit, is due today
    assert (shown["payment"], shown["schedule_method"], shown["financed"], shown["charged"]) == \
           ("cash", None, "0.00", "152500.00")
    assert [(i["item"], i["kind"], i["due_date"], i["unpaid"]) for i in shown["items"]] == \
           [("FULL", "full_payment", today.isoformat(), "145000.00"),
            ("WD", "warranty_deposit", deposit_due.isoformat(), "7500.00")]
    first = first_31st_after(today).isoformat()
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        problem = assert_problem(chen.post(f"{cash.url}/schedule/generate", json={
            "annual_rate": "0.0435", "months": 12, "first_due_date": first}), 409, "debt-state")
        assert cash.number in problem["detail"]
        assert_problem(chen.post(f"{cash.url}/schedule", json={"lines": [
            {"due_date": first, "principal": "145000.00"}]}), 409, "debt-state")
    assert cash.receivable() == shown

    deal = Deal(server, scenario_terms(today))
    before = deal.frozen()
    dates = [month_on(first_31st_after(today), k).isoformat() for k in range(3)]
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        problem = assert_problem(chen.post(f"{deal.url}/schedule", json={"lines": [
            {"due_date": dates[0], "principal": "100000.00", "interest": "500.00"},
            {"due_date": dates[1], "principal": "100000.00", "interest": "300.00"},
            {"due_date": dates[2], "principal": "99999.99", "interest": "100.00"}]}), 422, "invalid-value")
        assert "299999.99" in problem["detail"] and "300000.00" in problem["detail"], problem
        assert "difference 0.01" in problem["detail"], problem
        for lines, code, status in (
                ([{"due_date": dates[1], "principal": "150000.00"}, {"due_date": dates[0], "principal": "150000.00"}],
                 "invalid-value", 422),                                                     # not in date order
                ([{"due_date": today.isoformat(), "principal": "300000.00"}], "invalid-value", 422),   # not after
                ([{"due_date": dates[0], "principal": "300000.005"}], "invalid-value", 422),
                ([], "invalid-request", 400)):
            assert_problem(chen.post(f"{deal.url}/schedule", json={"lines": lines}), status, code, lines)
        for body, status, code in (
                ({"annual_rate": "0.0435", "months": 12, "first_due_date": today.isoformat()}, 422, "invalid-value"),
                ({"annual_rate": "1.5", "months": 12, "first_due_date": dates[0]}, 422, "invalid-value"),
                ({"annual_rate": "0.0435", "months": 0, "first_due_date": dates[0]}, 400, "invalid-request"),
                ({"annual_rate": "0.0435", "months": 12, "first_due_date": dates[0], "method": "typed"}, 422,
                 "invalid-value")):
            assert_problem(chen.post(f"{deal.url}/schedule/generate", json=body), status, code, body)
    with server.as_user("sales.wang") as wang, nothing_recorded(server):
        assert_problem(wang.post(f"{deal.url}/schedule/generate", json={
            "annual_rate": "0.05", "months": 6, "first_due_date": dates[0]}), 403, "forbidden")
    assert deal.frozen() == before


def test_penalty_rates_are_set_by_an_administrator_for_later_days_only(demo_server, today):
    server = demo_server
    later = today + timedelta(days=400)
    body = {"company_id": HF, "effective_from": later.isoformat(), "daily_rate": "0.0005", "grace_days": 3}
    with server.as_user("finance.sun") as sun:
        rates_before = ok(sun.get("/penalty-rates"))["items"]
    for username in ("finance.sun", "clerk.chen", "manager.zhao", "sales.wang"):
        with user(server, username) as client, nothing_recorded(server):
            assert_problem(client.post("/penalty-rates", json=body), 403, "forbidden", username)
    with server.as_admin() as admin, nothing_recorded(server):
        for day in (today, today - timedelta(days=1)):
            problem = assert_problem(admin.post("/penalty-rates", json={**body, "effective_from": day.isoformat()}),
                                     422, "penalty-rate-not-in-future", day)
            assert today.isoformat() in problem["detail"], problem
        for changes, status, code in (({"daily_rate": "0.02"}, 422, "invalid-value"),
                                      ({"daily_rate": "-0.0005"}, 422, "invalid-value"),
                                      ({"daily_rate": "0.000000001"}, 422, "invalid-value"),
                                      ({"grace_days": 91}, 400, "invalid-request"),
                                      ({"company_id": NOWHERE}, 404, None)):
            assert_problem(admin.post("/penalty-rates", json={**body, **changes}), status, code, changes)
    with server.as_user("finance.sun") as sun:
        assert ok(sun.get("/penalty-rates"))["items"] == rates_before

    with server.as_admin() as admin:
        done = ok(admin.post("/penalty-rates", json=body))
    assert done["company_id"] == HF
    assert {"effective_from": later.isoformat(), "daily_rate": "0.0005", "grace_days": 3} in done["rates"]
    with server.as_user("finance.sun") as sun:
        listed = ok(sun.get("/penalty-rates", params={"after": done["position"], "company_id": HF}))["items"]
    assert [(r["company_code"], r["daily_rate"], r["grace_days"], r["set_on"]) for r in listed
            if r["effective_from"] == later.isoformat()] == [("HF", "0.0005", 3, today.isoformat())]
    with server.as_user("risk.manager") as risk:   # Chuzhou + Chizhou: not Hefei's rates
        assert HF not in {r["company_id"] for r in ok(risk.get("/penalty-rates", params={"after": done["position"]}))
                          ["items"]}


def test_penalty_accrual_is_for_days_that_have_ended_and_runs_twice_to_no_effect(demo_server, today):
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    before = deal.frozen()
    for username in ("clerk.chen", "sales.wang", "manager.zhao", "auditor"):
        with user(server, username) as client, nothing_recorded(server):
            assert_problem(client.post("/penalty-accruals", json={"through": (today - timedelta(days=1)).isoformat()}),
                           403, "read-only" if username == "auditor" else "forbidden", username)
    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        for day in (today, today + timedelta(days=1), today + timedelta(days=40)):
            problem = assert_problem(sun.post("/penalty-accruals", json={"through": day.isoformat()}), 422,
                                     "penalty-date", day)
            assert day.isoformat() in problem["detail"]
        assert_problem(sun.post("/penalty-accruals", json={"through": "yesterday"}), 400, "invalid-request")
        assert_problem(sun.post("/penalty-accruals", json={}), 400, "invalid-request")
        # Yesterday has ended: the run answers with its counts; nothing is overdue, so nothing is charged,
        # and running it again changes nothing either.
        yesterday = (today - timedelta(days=1)).isoformat()
        runs = [ok(sun.post("/penalty-accruals", json={"through": yesterday})) for _ in range(2)]
    for run in runs:
        assert run["through"] == yesterday
        assert run["debts_charged"] == 0 and run["debts_examined"] >= 0 and run["batches"] >= 0
    assert runs[1]["debts_charged"] == 0
    assert deal.frozen() == before
    assert before[0]["penalty_accrued"] == "0.00" and before[0]["penalty_accrued_through"] == today.isoformat()


def test_a_receipt_directed_to_an_item_is_refused_at_confirmation_when_another_paid_it(demo_server, today):
    """Two receipts of 80,000.00 for the down payment: the second cannot be confirmed once the
    first is (over-payment, 422), and finance rejects it."""
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    first = deal.record("80000.00", today, allocate_to=["dp"])   # item keys in any case
    assert [r["allocate_to"] for r in deal.receipts()] == [["DP"]]
    deal.confirm(first)
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):   # DP is paid: nothing more goes to it
        problem = assert_problem(chen.post(f"{deal.url}/receipts", json={
            "amount": "0.01", "value_date": today.isoformat(), "method": "cash", "allocate_to": ["DP"]}), 422,
            "overpayment")
    assert "0.00" in problem["detail"], problem


def test_a_second_receipt_for_an_item_a_waiting_receipt_already_pays_is_refused_when_recorded(demo_server, today):
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    waiting = deal.record("80000.00", today, allocate_to=["DP"])
    # Not directed: refused at once, what waits counts against what is owed (this holds) …
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        assert_problem(chen.post(f"{deal.url}/receipts", json={
            "amount": "307115.65", "value_date": today.isoformat(), "method": "cash"}), 422, "overpayment")
    # … directed to the same item, the second 80,000.00 is taken, though the item can never take it.
    with server.as_user("clerk.chen") as chen:
        answer = chen.post(f"{deal.url}/receipts", json={
            "amount": "80000.00", "value_date": today.isoformat(), "method": "cash", "allocate_to": ["DP"]})
    second = answer.json().get("receipt_id")
    if second:   # what it leads to: recorded, then refused by confirmation
        deal.confirm(waiting)
        with server.as_user("finance.sun") as sun, nothing_recorded(server):
            assert_problem(sun.post(f"{deal.url}/receipts/{second}/confirm"), 422, "overpayment")
    assert_problem(answer, 422, "overpayment")


# ------------------------------------------------------------------ aging as of later days
BUCKETS = (("current", -10**6, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("91-180", 91, 180),
           ("over-180", 181, 10**6))


def bucket(days: int) -> str:
    return next(name for name, low, high in BUCKETS if low <= days <= high)


def test_overdue_days_and_aging_buckets_follow_the_day_asked_about(demo_server, today):
    """Nothing is overdue today, but the figures ``as_of`` a later day are what they will be then
    if nothing more is paid: computed here from the due dates and what is unpaid."""
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    deal.confirm(deal.record("100000.00", today))    # the down payment, I1's interest and part of its principal
    first_due = first_31st_after(today)
    rows = equal_installment_rows("300000.00", "0.0435", 12, first_due)
    unpaid = [(f"I{n}", due, p + i) for n, (due, p, i) in enumerate(rows, 1)]
    unpaid[0] = ("I1", first_due, rows[0][1] + rows[0][2] - dec("20000.00"))
    assert money(unpaid[0][2]) == "5592.97"
    last_due = rows[-1][0]
    days = [today, today + timedelta(days=1), first_due, first_due + timedelta(days=1),
            first_due + timedelta(days=30), first_due + timedelta(days=31), first_due + timedelta(days=60),
            first_due + timedelta(days=61), first_due + timedelta(days=90), first_due + timedelta(days=91),
            first_due + timedelta(days=180), first_due + timedelta(days=181), last_due, last_due + timedelta(days=1),
            last_due + timedelta(days=400)]
    with server.as_user("finance.sun") as sun:
        for as_of in days:
            overdue = [(key, due, amount) for key, due, amount in unpaid if due < as_of]
            oldest = min((due for _, due, _ in overdue), default=None)
            past_due = (as_of - oldest).days if oldest else 0
            coming = [(due, amount) for _, due, amount in unpaid if due >= as_of]
            next_due = min((due for due, _ in coming), default=None)
            where = f"as of {as_of}"

            shown = ok(sun.get(deal.url, params={"after": deal.position, "as_of": as_of.isoformat()}))
            assert shown["as_of"] == as_of.isoformat(), where
            assert (shown["overdue_amount"], shown["oldest_overdue_date"], shown["days_past_due"],
                    shown["aging_bucket"]) == \
                   (money(sum((a for _, _, a in overdue), Decimal(0))), oldest and oldest.isoformat(), past_due,
                    bucket(past_due)), where
            assert (shown["next_due_date"], shown["next_due_amount"]) == \
                   ((next_due.isoformat(), money(sum(a for d, a in coming if d == next_due))) if next_due
                    else (None, None)), where
            assert shown["outstanding"] == "287115.64", where
            flags = {i["item"]: (i["overdue"], i["days_past_due"]) for i in shown["items"]}
            assert flags == {"DP": (False, 0), **{key: (due < as_of, max((as_of - due).days, 0))
                                                   for key, due, _ in unpaid}}, where

            rows_by_customer = {r["id"]: r for r in ok(sun.get("/receivables/aging", params={
                "as_of": as_of.isoformat(), "group_by": "customer"}))["rows"]}
            row = rows_by_customer[deal.customer_id]
            expected = {name: Decimal(0) for name, _, _ in BUCKETS}
            for _, due, amount in unpaid:
                expected[bucket((as_of - due).days)] += amount
            assert {name: row[name] for name, _, _ in BUCKETS} == {k: money(v) for k, v in expected.items()}, where
            assert (row["outstanding"], row["overdue"]) == ("287115.64", shown["overdue_amount"]), where
            if as_of == today:   # as_of left out is today
                assert aging(server, "finance.sun", deal.position, "customer")[deal.customer_id] == row

            for name, _, _ in BUCKETS:
                listed = ok(sun.get("/receivables", params={"customer_id": deal.customer_id, "aging": name,
                                                            "as_of": as_of.isoformat()}))
                assert listed["total"] == (1 if name == bucket(past_due) else 0), (where, name)
            only_overdue = ok(sun.get("/receivables", params={"customer_id": deal.customer_id, "overdue_only": True,
                                                              "as_of": as_of.isoformat(),
                                                              "order": "days_past_due"}))
            assert only_overdue["total"] == (1 if overdue else 0), where
    _, rows_by_contract = exported(server, "finance.sun", deal.position, as_of=(first_due + timedelta(days=31))
                                   .isoformat(), aging="31-60")
    assert rows_by_contract[deal.id]["days_past_due"] == "31"


# ------------------------------------------------------------------ 3. a typed schedule
def test_a_typed_schedule_is_set_by_the_clerk_and_replaced_while_untouched(demo_server, today):
    server = demo_server
    deposit_due = today + timedelta(days=700)
    first = first_31st_after(today)
    terms = {"payment": "installment", "down_payment": "30000.00", "warranty_deposit": "10000.00",
             "warranty_due_date": deposit_due.isoformat(),
             "installment": {"months": 3, "annual_rate": "0", "first_due_date": first.isoformat(), "method": "typed"}}
    deal = Deal(server, terms, price="150000.00", model=XE60)
    shown = deal.receivable()
    assert (shown["schedule_method"], shown["schedule_pending"], shown["financed"], shown["charged"],
            shown["outstanding"]) == ("typed", True, "110000.00", "40000.00", "40000.00")
    assert items_of(shown) == expected_items("30000.00", [], today, ("10000.00", deposit_due))
    listed = receivables_of(server, "finance.sun", deal.position)[deal.id]
    assert (listed["schedule_pending"], listed["charged"]) == (True, "40000.00")

    # The clerk types the schedule as agreed: it must add up to the financed 110,000.00.
    typed = [(first, "40000.00", "500.00"), (month_on(first, 1), "40000.00", "300.00"),
             (month_on(first, 2), "30000.00", "100.00")]
    done = deal.do("clerk.chen", "/schedule", {"lines": [
        {"due_date": d.isoformat(), "principal": p, "interest": i} for d, p, i in typed]})
    assert done["schedule_pending"] is False
    assert [i["item"] for i in done["items"]] == ["DP", "I1", "I2", "I3", "WD"]
    shown = deal.receivable()
    assert (shown["schedule_method"], shown["schedule_pending"], shown["charged"], shown["outstanding"]) == \
           ("typed", False, "150900.00", "150900.00")
    assert items_of(shown) == expected_items(
        "30000.00", [(d, dec(p), dec(i)) for d, p, i in typed], today, ("10000.00", deposit_due))

    # The down payment paid does not lock the schedule: GenerateSchedule replaces the installments.
    deal.confirm(deal.record("30000.00", today, allocate_to=["DP"]))
    generated = equal_principal_rows("110000.00", "0.06", 4, first)
    assert [(money(p), money(i)) for _, p, i in generated] == \
           [("27500.00", "550.00"), ("27500.00", "412.50"), ("27500.00", "275.00"), ("27500.00", "137.50")]
    done = deal.do("finance.sun", "/schedule/generate", {"method": "equal_principal", "annual_rate": "0.06",
                                                        "months": 4, "first_due_date": first.isoformat()})
    assert [i["item"] for i in done["items"]] == ["DP", "I1", "I2", "I3", "I4", "WD"]
    shown = deal.receivable()
    assert (shown["schedule_method"], shown["schedule_pending"], shown["received"]) == \
           ("equal_principal", False, "30000.00")
    expected = expected_items("30000.00", generated, today, ("10000.00", deposit_due))
    expected[0] = ("DP", "down_payment", today.isoformat(), "30000.00", "0.00", "0.00")
    assert items_of(shown) == expected
    assert (shown["charged"], shown["outstanding"]) == ("151375.00", "121375.00")
    # The statement shows the installments in force, not the ones replaced.
    statement = deal.statement(date_to=deposit_due.isoformat())
    check_running_balance(statement)
    assert [(line["kind"], line["item"], line["debit"]) for line in statement["lines"] if line["kind"] == "charge"] == \
           [("charge", "DP", "30000.00")] + [("charge", f"I{n}", money(p + i)) for n, (_, p, i) in
                                             enumerate(generated, 1)] + [("charge", "WD", "10000.00")]
    assert statement["closing_balance"] == shown["outstanding"]

    # Once an installment is paid, the schedule stays as it is.
    deal.confirm(deal.record("1000.00", today, allocate_to=["I2"]))
    before = deal.frozen()
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        problem = assert_problem(chen.post(f"{deal.url}/schedule/generate", json={
            "annual_rate": "0.05", "months": 6, "first_due_date": first.isoformat()}), 409, "schedule-locked")
        assert "I2" in problem["detail"], problem
        assert_problem(chen.post(f"{deal.url}/schedule", json={"lines": [
            {"due_date": first.isoformat(), "principal": "110000.00"}]}), 409, "schedule-locked")
    assert deal.frozen() == before
    i2 = next(i for i in before[0]["items"] if i["item"] == "I2")
    assert (i2["interest_paid"], i2["principal_paid"], i2["unpaid"]) == ("412.50", "587.50", "26912.50")


def test_a_schedule_change_waits_until_no_receipt_waits(demo_server, today):
    """A receipt for I12 waits; regenerating the schedule over 6 months (no I12) is refused
    while it waits, and the receipt is then confirmed on the schedule it was recorded for."""
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    waiting = deal.record("100.00", today, allocate_to=["I12"])
    before = deal.frozen()
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        changed = chen.post(f"{deal.url}/schedule/generate", json={
            "annual_rate": "0.0435", "months": 6, "first_due_date": first_31st_after(today).isoformat()})
    assert_problem(changed, 409, "schedule-locked")
    assert "waiting for confirmation" in changed.json()["detail"]
    assert deal.frozen() == before
    deal.confirm(waiting)
    paid = next(i for i in deal.receivable()["items"] if i["item"] == "I12")
    assert Decimal(paid["interest_paid"]) + Decimal(paid["principal_paid"]) == Decimal("100.00")


# ------------------------------------------------------------------ 4. reversal
def test_a_confirmed_receipt_reversed_with_a_reason_restores_every_figure(demo_server, today):
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    untouched = deal.receivable()
    hf_before = aging(server, "finance.sun", deal.position)["HF"]
    receipt_id = deal.record("100000.00", today, reference="ICBC 5521")
    deal.confirm(receipt_id)
    paid = deal.receivable()
    assert (paid["received"], paid["outstanding"], paid["principal_outstanding"]) == \
           ("100000.00", "287115.64", "281087.50")
    by_item = {i["item"]: i for i in paid["items"]}
    assert (by_item["DP"]["unpaid"], by_item["I1"]["interest_paid"], by_item["I1"]["principal_paid"],
            by_item["I1"]["unpaid"]) == ("0.00", "1087.50", "18912.50", "5592.97")
    assert paid["receipts"][0]["allocations"] == [
        {"item": "DP", "penalty": "0.00", "interest": "0.00", "principal": "80000.00"},
        {"item": "I1", "penalty": "0.00", "interest": "1087.50", "principal": "18912.50"}]

    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        assert_problem(sun.post(f"{deal.url}/receipts/{receipt_id}/reverse", json={"reason": " "}), 422,
                       "invalid-value")
    reason = unique("Paid into the wrong account ")
    reversed_ = deal.do("finance.sun", f"/receipts/{receipt_id}/reverse", {"reason": reason})
    assert (reversed_["received"], reversed_["outstanding"]) == ("0.00", SCENARIO_CHARGED)

    shown = deal.receivable()
    changing = ("receipts", "last_change_on")
    assert {k: v for k, v in shown.items() if k not in changing} == \
           {k: v for k, v in untouched.items() if k not in changing}
    assert [(r["receipt_id"], r["status"], r["reason"], r["decided_by"], r["allocations"]) for r in
            shown["receipts"]] == [(receipt_id, "reversed", reason, SUN, [])]
    assert [(r["receipt_id"], r["reason"]) for r in deal.receipts(status="reversed")] == [(receipt_id, reason)]
    assert deal.receipts(status="confirmed") == []
    assert aging(server, "finance.sun", deal.position)["HF"]["outstanding"] == hf_before["outstanding"]

    statement = deal.statement()
    check_running_balance(statement)
    assert [(line["kind"], line["debit"], line["credit"], line["balance"]) for line in statement["lines"]] == \
           [("charge", "80000.00", "0.00", "80000.00"), ("receipt", "0.00", "100000.00", "-20000.00"),
            ("reversal", "100000.00", "0.00", "80000.00")]
    assert statement["lines"][2]["receipt_id"] == receipt_id and reason in statement["lines"][2]["description"]

    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        assert_problem(sun.post(f"{deal.url}/receipts/{receipt_id}/reverse", json={"reason": reason}), 409,
                       "receipt-state")
        assert_problem(sun.post(f"{deal.url}/receipts/{receipt_id}/confirm"), 409, "receipt-state")
    # The money may be taken again, in full.
    again = deal.record(SCENARIO_CHARGED, today)
    done = deal.confirm(again)
    assert (done["received"], done["outstanding"]) == (SCENARIO_CHARGED, "0.00")
    assert all(i["outstanding"] == "0.00" for i in done["items"])
    settled = deal.receivable()
    assert (settled["outstanding"], settled["next_due_date"], settled["next_due_amount"]) == ("0.00", None, None)


def test_reversing_an_earlier_receipt_re_splits_the_later_ones(demo_server, today):
    """Receipts of one value date apply in the order finance confirmed them; reversing the first
    moves what the second pays onto the oldest item again."""
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    big, small = deal.record("80000.00", today), deal.record("10000.00", today)
    deal.confirm(small)   # confirmed first: it pays the down payment
    deal.confirm(big)
    splits = {r["receipt_id"]: r["allocations"] for r in deal.receivable()["receipts"]}
    assert splits[small] == [{"item": "DP", "penalty": "0.00", "interest": "0.00", "principal": "10000.00"}]
    assert splits[big] == [{"item": "DP", "penalty": "0.00", "interest": "0.00", "principal": "70000.00"},
                           {"item": "I1", "penalty": "0.00", "interest": "1087.50", "principal": "8912.50"}]
    deal.do("finance.sun", f"/receipts/{small}/reverse", {"reason": "returned to the payer"})
    shown = deal.receivable()
    splits = {r["receipt_id"]: r["allocations"] for r in shown["receipts"]}
    assert splits == {small: [], big: [{"item": "DP", "penalty": "0.00", "interest": "0.00",
                                        "principal": "80000.00"}]}
    by_item = {i["item"]: i for i in shown["items"]}
    assert (by_item["DP"]["principal_paid"], by_item["DP"]["unpaid"]) == ("80000.00", "0.00")
    assert (by_item["I1"]["interest_paid"], by_item["I1"]["principal_paid"], by_item["I1"]["unpaid"]) == \
           ("0.00", "0.00", "25592.97")
    assert (shown["received"], shown["outstanding"], shown["principal_outstanding"]) == \
           ("80000.00", "307115.64", "300000.00")


# ------------------------------------------------------------------ 5. un-approval
def test_a_contract_with_money_received_or_waiting_cannot_be_unapproved(demo_server, today):
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    waiting = deal.record("5000.00", today)
    for state in ("recorded", "confirmed"):
        before = deal.frozen()
        with server.as_user("manager.zhao") as zhao, nothing_recorded(server):
            problem = assert_problem(zhao.post(f"/contracts/{deal.id}/unapprove", json={"reason": "review"}), 409,
                                     "contract-already-started")
            assert deal.number in problem["detail"], (state, problem)
            assert ok(zhao.get(f"/contracts/{deal.id}", params={"after": deal.position}))["status"] == "approved"
        assert deal.frozen() == before
        if state == "recorded":
            deal.confirm(waiting)
    assert deal.receivable()["status"] == "open"


def test_unapproval_closes_an_untouched_receivable_and_approval_reopens_it_on_the_new_terms(demo_server, today):
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    opened = deal.receivable()
    hf_before = aging(server, "finance.sun", deal.position)["HF"]
    # A receipt recorded and rejected, or confirmed and reversed, leaves nothing received.
    deal.do("finance.sun", f"/receipts/{deal.record('1000.00', today)}/reject", {"reason": "duplicate"})
    reversed_id = deal.record("2000.00", today)
    deal.confirm(reversed_id)
    deal.do("finance.sun", f"/receipts/{reversed_id}/reverse", {"reason": "bounced"})

    reason = unique("Customer wants a bigger down payment ")
    with server.as_user("manager.zhao") as zhao:
        undone = ok(zhao.post(f"/contracts/{deal.id}/unapprove", json={"reason": reason}))
    assert undone["status"] == "with_clerk"
    deal.position = undone["position"]
    closed = deal.receivable()
    assert (closed["status"], closed["outstanding"], closed["received"], closed["next_due_date"]) == \
           ("closed", "0.00", "0.00", None)
    assert closed["items"] == []
    assert deal.id in receivables_of(server, "finance.sun", deal.position, status="closed")
    assert deal.id not in receivables_of(server, "finance.sun", deal.position, status="open")
    hf_closed = aging(server, "finance.sun", deal.position)["HF"]
    assert dec(hf_before["outstanding"]) - dec(hf_closed["outstanding"]) == dec(SCENARIO_CHARGED)
    assert hf_closed["receivables"] == hf_before["receivables"] - 1
    statement = deal.statement()
    assert statement["lines"] == [] and statement["closing_balance"] == "0.00"
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        assert_problem(chen.post(f"{deal.url}/receipts", json={"amount": "1000.00", "value_date": today.isoformat(),
                                                               "method": "cash"}), 409, "debt-state")
        assert_problem(chen.post(f"{deal.url}/schedule/generate", json={
            "annual_rate": "0.05", "months": 6, "first_due_date": first_31st_after(today).isoformat()}), 409,
            "debt-state")
    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        assert_problem(sun.post(f"{deal.url}/receipts/{reversed_id}/reverse", json={"reason": "x"}), 409,
                       "debt-state")

    # The clerk changes the terms and the contract is approved again: the receivable starts over.
    with server.as_user("clerk.chen") as chen:
        ok(chen.post(f"/contracts/{deal.id}/complete-terms", json=scenario_terms(today, down_payment="100000.00")))
    deal.submit()
    deal.approve()
    reopened = deal.receivable()
    rows = equal_installment_rows("280000.00", "0.0435", 12, first_31st_after(today))
    assert (reopened["status"], reopened["financed"], reopened["received"], reopened["schedule_pending"]) == \
           ("open", "280000.00", "0.00", False)
    assert items_of(reopened) == expected_items("100000.00", rows, today)
    charged = dec("100000.00") + sum(p + i for _, p, i in rows)
    assert (reopened["charged"], reopened["outstanding"]) == (money(charged), money(charged))
    assert sum(dec(i["principal"]) for i in reopened["items"]) == dec("380000.00")
    assert reopened["contract_number"] == opened["contract_number"]
    hf_again = aging(server, "finance.sun", deal.position)["HF"]
    assert dec(hf_again["outstanding"]) - dec(hf_closed["outstanding"]) == charged
    # And takes money again.
    deal.confirm(deal.record("100000.00", today))
    assert deal.receivable()["items"][0]["unpaid"] == "0.00"


# ------------------------------------------------------------------ 6. data scope
def test_receivables_are_seen_only_within_the_callers_companies_and_own_contracts(demo_server, today):
    server = demo_server
    wang = Deal(server, scenario_terms(today), customer_name=unique("=HYPERLINK(1) "))
    wang_receipt = wang.record("80000.00", today)
    wang.confirm(wang_receipt)
    li = Deal(server, scenario_terms(today, down_payment="50000.00"), owner="sales.li")
    chuzhou = Deal(server, {"payment": "installment", "down_payment": "20000.00",
                            "installment": {"months": 6, "annual_rate": "0.05",
                                            "first_due_date": first_31st_after(today).isoformat()}},
                   price="120000.00", model=XE60, company=CZ)
    cz_receipt = chuzhou.record("20000.00", today, username="admin")
    chuzhou.confirm(cz_receipt, username="risk.manager")
    p = chuzhou.position
    assert chuzhou.receivable("risk.manager")["received"] == "20000.00"

    # Who sees which: (GetReceivable, in lists/exports/statements).
    sees = {
        "finance.sun": {wang.id, li.id, chuzhou.id},
        "collector.zhang": {wang.id, li.id, chuzhou.id},
        "auditor": {wang.id, li.id, chuzhou.id},
        "clerk.chen": {wang.id, li.id},
        "manager.zhao": {wang.id, li.id},
        "sales.wang": {wang.id},
        "sales.li": {li.id},
        "risk.manager": {chuzhou.id},
    }
    deals = {d.id: d for d in (wang, li, chuzhou)}
    for username, visible in sees.items():
        listed = receivables_of(server, username, p)
        _, exported_rows = exported(server, username, p)
        with user(server, username) as client:
            receipts = {r["receipt_id"]: r for r in every(client, "/receipts", p)}
            for contract_id, deal in deals.items():
                where = (username, deal.number)
                seen = contract_id in visible
                assert (contract_id in listed) is seen, (*where, "ListReceivables")
                assert (contract_id in exported_rows) is seen, (*where, "ExportReceivables")
                answer = client.get(deal.url, params={"after": p})
                statement = client.get(f"/receivables/customers/{deal.customer_id}/statement", params={"after": p})
                if seen:
                    assert ok(answer)["contract_id"] == contract_id, where
                    assert ok(statement)["lines"], where
                else:
                    assert_problem(answer, 404, "receivable-not-found", where)
                    assert_problem(statement, 404, "customer-not-found", where)
                    assert ok(client.get("/receivables", params={"customer_id": deal.customer_id}))["total"] == 0
                    assert ok(client.get("/receipts", params={"contract_id": contract_id}))["total"] == 0
            assert (wang_receipt in receipts) is (wang.id in visible), (username, "ListReceipts")
            assert (cz_receipt in receipts) is (chuzhou.id in visible), (username, "ListReceipts")
            # Totals are sums of what the caller sees, never more: the aging report per company
            # equals the open receivables listed, company by company.
            report = aging(server, username, p)
        open_rows = [r for r in listed.values() if r["status"] == "open"]
        for code in {r["company_code"] for r in open_rows} | set(report):
            mine = [r for r in open_rows if r["company_code"] == code]
            assert report[code]["receivables"] == len(mine), (username, code)
            assert dec(report[code]["outstanding"]) == sum((dec(r["outstanding"]) for r in mine), Decimal(0)), \
                (username, code)
        if wang.id in visible:   # a cell a spreadsheet would run as a formula is exported as text
            assert exported_rows[wang.id]["customer_name"] == "'" + listed[wang.id]["customer_name"], username
        if username.startswith("sales."):
            assert {r["salesperson"] for r in listed.values()} == {username}
            assert {r["salesperson"] for r in exported_rows.values()} == {username}
        if username == "risk.manager":
            assert "HF" not in report and {r["company_code"] for r in listed.values()} <= {"CZ", "CHZ"}

    # Finance of other companies is told "not found", and nothing is recorded.
    before = wang.frozen()
    with server.as_user("risk.manager") as risk, nothing_recorded(server):
        assert_problem(risk.post(f"{wang.url}/receipts", json={
            "amount": "10.00", "value_date": today.isoformat(), "method": "cash"}), 404, "receivable-not-found")
        assert_problem(risk.post(f"{wang.url}/receipts/{wang_receipt}/reverse", json={"reason": "not mine"}), 404,
                       "receivable-not-found")
    assert wang.frozen() == before
    with server.as_user("sales.li") as li_client:
        assert ok(li_client.get("/receivables", params={"owner_id": str(ids.user_id("sales.wang"))}))["total"] == 0
        assert ok(li_client.get("/receipts", params={"contract_id": wang.id}))["total"] == 0
    assert wang.receivable()["received"] == "80000.00"


def test_a_chuzhou_only_user_sees_no_hefei_receivable_anywhere(demo_server, today):
    """A user made for this test: finance, one position granting Chuzhou only."""
    server = demo_server
    username, password = unique("finance.cz").lower(), "cz-pass-2026"
    with server.as_admin() as admin:
        chuzhou = next(p["position_id"] for p in ok(admin.get("/positions"))["items"] if p["name"] == "Chuzhou")
        ok(admin.post("/users", json={"username": username, "display_name": "Chuzhou finance", "password": password,
                                      "roles": ["finance"], "position_ids": [chuzhou]}), 201)
    hefei = Deal(server, scenario_terms(today))
    hefei_receipt = hefei.record("1000.00", today)
    p = hefei.position
    with user(server, username, password) as cz:
        assert_problem(cz.get(hefei.url, params={"after": p}), 404, "receivable-not-found")
        assert_problem(cz.get(f"/receivables/customers/{hefei.customer_id}/statement"), 404, "customer-not-found")
        assert {r["company_code"] for r in every(cz, "/receivables", p)} <= {"CZ"}
        assert {r["company_id"] for r in every(cz, "/receipts", p)} <= {CZ}
        assert ok(cz.get("/receivables", params={"company_id": HF}))["total"] == 0
        assert ok(cz.get("/receipts", params={"company_id": HF}))["total"] == 0
        report = ok(cz.get("/receivables/aging", params={"after": p}))["rows"]
        assert {row["name"] for row in report} <= {"CZ"}
        assert ok(cz.get("/receivables/aging", params={"company_id": HF}))["rows"] == []
        by_customer = ok(cz.get("/receivables/aging", params={"group_by": "customer"}))["rows"]
        assert hefei.customer_id not in {row["id"] for row in by_customer}
        answer = cz.get("/receivables/export", params={"after": p})
        exported_rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert {r["company_code"] for r in exported_rows} <= {"CZ"}
        assert hefei.id not in {r["contract_id"] for r in exported_rows}
        with nothing_recorded(server):
            assert_problem(cz.post(f"{hefei.url}/receipts/{hefei_receipt}/confirm"), 404, "receivable-not-found")
            assert_problem(cz.post(f"{hefei.url}/receipts/{hefei_receipt}/reject", json={"reason": "x"}), 404,
                           "receivable-not-found")
    assert [r["status"] for r in hefei.receipts()] == ["recorded"]


# ------------------------------------------------------------------ 7. idempotency
def test_a_receipt_retried_with_the_same_idempotency_key_is_recorded_once(demo_server, today):
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    key = unique("receipt-")
    body = {"amount": "80000.00", "value_date": today.isoformat(), "method": "bank_transfer", "reference": "CCB 7"}
    url = f"{deal.url}/receipts"
    with server.as_user("clerk.chen") as chen:
        before = server.store.event_count()
        first = chen.post(url, json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        assert first.headers.get("Idempotent-Replayed") is None
        assert server.store.event_count() - before == 2   # the receipt and the command's record
        with nothing_recorded(server):
            second = chen.post(url, json=body, headers={"Idempotency-Key": key})
            assert second.status_code == 201, second.text
            assert second.headers.get("Idempotent-Replayed") == "true"
            assert second.json() == first.json()
            assert_problem(chen.post(url, json={**body, "amount": "1000.00"}, headers={"Idempotency-Key": key}), 422,
                           "idempotency-key-reused")
    receipt_id = first.json()["receipt_id"]
    deal.position = first.json()["position"]
    assert [(r["receipt_id"], r["amount"], r["status"]) for r in deal.receipts()] == \
           [(receipt_id, "80000.00", "recorded")]
    # Confirmed with a key of its own, retried: confirmed once, the same answer.
    confirm_key = unique("confirm-")
    with server.as_user("finance.sun") as sun:
        answers = [sun.post(f"{url}/{receipt_id}/confirm", headers={"Idempotency-Key": confirm_key}) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json() == answers[1].json() and answers[1].headers.get("Idempotent-Replayed") == "true"
    deal.position = answers[0].json()["position"]
    shown = deal.receivable()
    assert (shown["received"], [r["status"] for r in shown["receipts"]]) == ("80000.00", ["confirmed"])


# ------------------------------------------------------------------ 8. two processes, one receipt (PostgreSQL)
ROUNDS = 3


@pytest.fixture(scope="module")
def second_finance(demo_server: Server) -> str:
    """Another finance user for the whole group beside finance.sun."""
    username = unique("finance.qian").lower()
    with demo_server.as_admin() as admin:
        group = next(p["position_id"] for p in ok(admin.get("/positions"))["items"] if p["name"] == "Whole group")
        ok(admin.post("/users", json={"username": username, "display_name": "Qian, finance",
                                      "password": "qian-pass-2026", "roles": ["finance"],
                                      "position_ids": [group]}), 201)
    return username


def test_two_finance_users_confirming_one_receipt_on_two_processes_count_it_once(demo_server, twin_server, today,
                                                                                 second_finance):
    server = demo_server
    deal = Deal(server, scenario_terms(today))
    sun = server.client(server.login("finance.sun"))
    qian = twin_server.client(server.login(second_finance, "qian-pass-2026"))
    winners: dict[str, str] = {}
    try:
        for client in (sun, qian):   # connections open first: the barrier releases requests, not handshakes
            assert client.get("/auth/me").status_code == 200
        for _ in range(ROUNDS):
            receipt_id = deal.record("1000.00", today)
            before = server.store.event_count()
            answers = _at_once([(client, "POST", f"{deal.url}/receipts/{receipt_id}/confirm", None, {})
                                for client in (sun, qian)])
            won = [(n, a) for n, a in enumerate(answers) if a.status_code == 200]
            lost = [a for a in answers if a.status_code != 200]
            assert len(won) == 1 and len(lost) == 1, [a.text for a in answers]
            problem = assert_problem(lost[0], 409)
            assert problem["code"] in {"receipt-state", "concurrent-change"}, problem
            assert server.store.event_count() - before == 1   # one ReceiptConfirmed
            winners[receipt_id] = (SUN, str(ids.user_id(second_finance)))[won[0][0]]
            deal.position = won[0][1].json()["position"]
    finally:
        sun.close()
        qian.close()
    shown = deal.receivable()
    assert shown["received"] == money(Decimal("1000.00") * ROUNDS)
    assert {r["receipt_id"]: r["decided_by"] for r in shown["receipts"]} == winners
    assert [r["status"] for r in shown["receipts"]] == ["confirmed"] * ROUNDS
    assert shown["items"][0]["principal_paid"] == money(Decimal("1000.00") * ROUNDS)


def test_a_receipt_and_an_unapproval_at_once_on_two_processes_leave_one_of_them(demo_server, twin_server, today):
    """The clerk records a receipt while the contract review un-approves the contract: either the
    receipt is recorded (and the un-approval refused), or the receivable is closed (and the receipt
    refused); never both."""
    server = demo_server
    chen = server.client(server.login("clerk.chen"))
    zhao = twin_server.client(server.login("manager.zhao"))
    outcomes = []
    try:
        for client in (chen, zhao):
            assert client.get("/auth/me").status_code == 200
        for _ in range(ROUNDS):
            deal = Deal(server, scenario_terms(today))
            receipt, unapproval = _at_once([
                (chen, "POST", f"{deal.url}/receipts", {"amount": "80000.00", "value_date": today.isoformat(),
                                                       "method": "cash"}, {}),
                (zhao, "POST", f"/contracts/{deal.id}/unapprove", {"reason": "contract review"}, {})])
            assert sorted([receipt.status_code, unapproval.status_code]) in ([200, 409], [201, 409]), \
                (receipt.text[:300], unapproval.text[:300])
            if receipt.status_code == 201:
                assert_problem(unapproval, 409, "contract-already-started")
                deal.position = receipt.json()["position"]
                shown = deal.receivable()
                assert (shown["status"], [r["status"] for r in shown["receipts"]]) == ("open", ["recorded"])
                outcomes.append("receipt")
            else:
                assert_problem(receipt, 409, "debt-state")
                deal.position = unapproval.json()["position"]
                shown = deal.receivable()
                assert (shown["status"], shown["receipts"], shown["items"]) == ("closed", [], [])
                outcomes.append("unapproval")
            with server.as_user("clerk.chen") as clerk:
                status = ok(clerk.get(f"/contracts/{deal.id}", params={"after": deal.position}))["status"]
            assert status == ("approved" if outcomes[-1] == "receipt" else "with_clerk")
    finally:
        chen.close()
        zhao.close()
