"""Receipts (收款) and receivables (应收) at the console, in a real Chromium, role by role: the
clerk records a receipt on the demo's approved contract, finance confirms it from the queue
and the receivable's page shows it received; finance rejects one with a reason and reverses
another; the aging report, a debt's page and a customer statement show the demo's figures,
checked against SCENARIO.md's independent ones; and the refusals: no confirm offered on
one's own receipt and a forced one refused beside the form with nothing recorded, another
company's and another salesperson's receivables absent from the lists and 404 on their pages.

The demo server is shared: receipts here go on the demo's approved contract (HF, current)
with amounts and references of their own, and never on the overdue one whose figures the
report checks."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal

from tests.browser.conftest import Office
from tests.e2e.conftest import HF

CUSTOMER = "Hefei Earthworks Construction Co."
DEMO_WAITING = "Down payment, bank slip 0001"     # the demo's receipt waiting on its approved contract
MONEY = re.compile(r"-?¥[\d,]+\.\d\d")


def _yuan(text: str) -> Decimal:
    found = MONEY.search(text)
    assert found, text
    return Decimal(found.group(0).replace("¥", "").replace(",", ""))


def _fmt(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def _path(office: Office, link) -> str:
    return link.get_attribute("href").split("?")[0].removeprefix(office.base_url)


def _approved_contract(office: Office) -> str:
    """The receivable page of the demo's approved contract (its down payment waits for finance)."""
    page = office.open("/console/receipts")
    return _path(office, page.locator("tr", has_text=DEMO_WAITING).locator("a").first)


def _overdue_contract(office: Office) -> str:
    """The receivable page of the demo's overdue sale (SCENARIO.md's penalty example)."""
    page = office.open("/console/receivables?overdue_only=on")
    rows = page.locator("#receivables tbody tr")
    assert rows.count() == 1
    return _path(office, rows.first.locator("a").first)


def _record(office: Office, receivable: str, amount: str, reference: str, tick: str | None = None):
    """Records a receipt from the receivable's page: by bank transfer, value date today
    (``tick``: an item's box, to direct it there)."""
    page = office.open(receivable)
    page.click("#act-record a")
    page.wait_for_url(re.compile(r"/console/receipts/new\?contract_id="))
    page.fill("#f-amount", amount)
    page.select_option("#f-method", value="bank_transfer")
    page.fill("#f-reference", reference)
    if tick:
        page.check(tick)
    page.click("form.command button.primary")
    page.wait_for_load_state()
    return page


def _csrf(page) -> str:
    return page.locator("input[name=_csrf]").first.get_attribute("value")


def test_the_clerk_records_a_receipt_and_finance_confirms_it_from_the_queue(person, demo_server):
    chen = person()
    chen.sign_in("clerk.chen")
    receivable = _approved_contract(chen)
    page = chen.open(receivable)
    received = _yuan(page.inner_text("#received"))
    assert page.locator("#act-record").count() == 1
    page.click("#act-record a")
    page.wait_for_url(re.compile(r"/console/receipts/new"))
    assert page.locator("#f-allocate_to input[type=checkbox]").count() >= 13    # DP and 12 installments
    assert page.input_value("#f-value_date") != ""                             # today, to start with
    chen.shot("receipt-new")
    page = _record(chen, receivable, "1234.56", "MONEY-T1 bank slip")
    assert re.search(r"done=RecordReceipt", page.url) and "收款已登记" in page.content()
    row = page.locator("#debt-receipts tr", has_text="MONEY-T1")
    assert "待确认" in row.inner_text() and "¥1,234.56" in row.inner_text() and "clerk.chen" in row.inner_text()
    assert row.locator(".act-confirm").count() == 0                # the clerk does not confirm
    assert _yuan(page.inner_text("#received")) == received         # it counts once confirmed
    chen.shot("receivable-receipt-recorded")

    sun = person()
    sun.sign_in("finance.sun")
    home = sun.open("/console/")
    waiting = int(home.locator("a.todo", has_text="待确认收款").locator(".count").inner_text())
    assert waiting >= 2
    queue = sun.open("/console/receipts?status=recorded")
    row = queue.locator("#receipts tr", has_text="MONEY-T1")
    assert "clerk.chen" in row.inner_text() and CUSTOMER in row.inner_text()
    sun.shot("receipts-queue")
    row.locator(".act-confirm button").click()
    queue.wait_for_url(re.compile(r"/console/receipts\?.*status=recorded.*done=ConfirmReceipt"))
    assert "收款已确认" in queue.content()
    assert queue.locator("#receipts tr", has_text="MONEY-T1").count() == 0   # out of the queue
    page = sun.open(receivable)
    row = page.locator("#debt-receipts tr", has_text="MONEY-T1")
    assert "已确认" in row.inner_text() and "finance.sun" in row.inner_text()
    # Oldest due first: the down payment, principal only.
    assert "DP：罚息 ¥0.00，利息 ¥0.00，本金 ¥1,234.56" in row.inner_text()
    assert _yuan(page.inner_text("#received")) == received + Decimal("1234.56")
    assert "确认收款" in page.locator("section.timeline").inner_text()
    sun.shot("receivable-receipt-confirmed")


def test_finance_rejects_a_receipt_with_a_reason(person, demo_server):
    chen = person()
    chen.sign_in("clerk.chen")
    receivable = _approved_contract(chen)
    _record(chen, receivable, "321.09", "MONEY-T2 slip")
    sun = person()
    sun.sign_in("finance.sun")
    queue = sun.open("/console/receipts?status=recorded")
    row = queue.locator("#receipts tr", has_text="MONEY-T2")
    before = demo_server.store.event_count()
    row.locator(".act-reject summary").click()
    row.locator(".act-reject button").click()                      # without a reason
    queue.wait_for_load_state()
    row = queue.locator("#receipts tr", has_text="MONEY-T2")
    assert row.locator(".act-reject[open] .field.has-error").count() == 1
    assert "请填写此项" in row.inner_text()
    assert demo_server.store.event_count() == before
    sun.shot("receipt-reject-refused")
    row.locator(".act-reject textarea").fill("No such transfer on the bank statement")
    row.locator(".act-reject button").click()
    queue.wait_for_url(re.compile(r"done=RejectReceipt"))
    assert "收款已驳回" in queue.content()
    rejected = sun.open("/console/receipts?status=rejected").locator("#receipts tr", has_text="MONEY-T2")
    assert "已驳回" in rejected.inner_text() and "No such transfer on the bank statement" in rejected.inner_text()
    assert rejected.locator(".act-confirm, .act-reject, .act-reverse").count() == 0
    sun.shot("receipts-rejected")


def test_finance_confirms_on_the_receivables_page_then_reverses_with_a_reason(person, demo_server):
    chen = person()
    chen.sign_in("clerk.chen")
    receivable = _approved_contract(chen)
    _record(chen, receivable, "432.10", "MONEY-T3 slip")
    sun = person()
    sun.sign_in("finance.sun")
    page = sun.open(receivable)
    received = _yuan(page.inner_text("#received"))
    page.locator("#debt-receipts tr", has_text="MONEY-T3").locator(".act-confirm button").click()
    page.wait_for_url(re.compile(re.escape(receivable) + r"\?after=\d+&done=ConfirmReceipt"))
    assert _yuan(page.inner_text("#received")) == received + Decimal("432.10")
    row = page.locator("#debt-receipts tr", has_text="MONEY-T3")
    row.locator(".act-reverse summary").click()
    row.locator(".act-reverse textarea").fill("Transfer bounced back by the bank")
    row.locator(".act-reverse button").click()
    page.wait_for_url(re.compile(r"done=ReverseReceipt"))
    assert "收款已冲销" in page.content()
    row = page.locator("#debt-receipts tr", has_text="MONEY-T3")
    assert "已冲销" in row.inner_text() and "Transfer bounced back by the bank" in row.inner_text()
    assert row.locator(".act-reverse").count() == 0
    assert _yuan(page.inner_text("#received")) == received
    assert "冲销收款" in page.locator("section.timeline").inner_text()
    sun.shot("receivable-receipt-reversed")
    # The statement shows the receipt and its reversal on the day.
    page.click("text=的对账单")
    page.wait_for_url(re.compile(r"/console/receivables/statement\?customer_id="))
    lines = page.locator("#statement tr", has_text="¥432.10")
    assert lines.count() == 2
    assert "冲销收款" in lines.nth(1).inner_text() and "Transfer bounced back" in lines.nth(1).inner_text()


def test_part_of_a_receipt_is_paid_with_a_coupon(person, demo_server):
    """SCENARIO.md's coupon, on a coupon of this test's own: 150.00 of a receipt of 1,000.00
    from a coupon of 300.00 (the rest by bank transfer) leaves it 150.00."""
    chen = person()
    chen.sign_in("clerk.chen")
    receivable = _approved_contract(chen)
    customer_id = chen.open(receivable).locator("#figures a").first.get_attribute("href").split("customer_id=")[1]
    code = f"MONEY-{uuid.uuid4().hex[:8].upper()}"
    with demo_server.as_user("finance.sun") as sun_api:
        issued = sun_api.post("/coupons", json={
            "code": code, "company_id": HF, "origin": "promotion", "holder_kind": "customer",
            "holder_id": customer_id, "face_value": "300.00", "amount_paid": "150.00"})
        assert issued.status_code in (200, 201), issued.text
    page = chen.open(receivable)
    page.click("#act-record a")
    page.wait_for_url(re.compile(r"/console/receipts/new"))
    page.select_option("#f-coupons\\.0\\.code", value=code)
    page.fill("#f-coupons\\.0\\.amount", "150.00")
    page.fill("#f-amount", "1000.00")
    page.select_option("#f-method", value="bank_transfer")
    page.fill("#f-reference", "MONEY-T6 coupon")
    page.click("form.command button.primary")
    page.wait_for_url(re.compile(r"done=RecordReceipt"))
    row = page.locator("#debt-receipts tr", has_text="MONEY-T6")
    assert "¥1,000.00" in row.inner_text() and f"{code} ¥150.00" in row.inner_text()
    assert "其中卡券 ¥150.00" in row.inner_text()
    chen.shot("receivable-receipt-with-coupon")
    with demo_server.as_user("finance.sun") as sun_api:
        found = sun_api.get("/coupons", params={"code": code}).json()["items"]
    assert [c["balance"] for c in found] == ["150.00"]


def test_ones_own_receipt_is_not_offered_to_confirm_and_a_forced_confirm_is_refused(person, demo_server):
    sun = person()
    sun.sign_in("finance.sun")
    receivable = _approved_contract(sun)
    page = _record(sun, receivable, "111.11", "MONEY-T4 own")
    row = page.locator("#debt-receipts tr", has_text="MONEY-T4")
    assert row.locator(".act-confirm").count() == 0 and row.locator(".act-reject").count() == 1
    queue_row = sun.open("/console/receipts?status=recorded").locator("#receipts tr", has_text="MONEY-T4")
    assert queue_row.locator(".act-confirm").count() == 0
    receipt_id = queue_row.get_attribute("id").removeprefix("receipt-")
    confirm = f"{receivable}/receipts/{receipt_id}/confirm"
    before = demo_server.store.event_count()
    forced = sun.post_raw(confirm, {"_csrf": _csrf(sun.page), "_form_key": "forcedownconfirm1"})
    assert forced.status == 409 and "不能确认自己登记的收款" in forced.text()
    # On the page, the refusal stands beside the receipt it concerns.
    sun.page.set_content(forced.text())
    assert "不能确认自己登记的收款" in sun.page.locator(f"#receipt-{receipt_id} .error-summary").inner_text()
    assert demo_server.store.event_count() == before
    # The clerk may not confirm at all: refused the same, nothing recorded.
    chen = person()
    chen.sign_in("clerk.chen")
    page = chen.open(receivable)
    assert page.locator(f"#receipt-{receipt_id} .act-confirm").count() == 0
    forced = chen.post_raw(confirm, {"_csrf": _csrf(page), "_form_key": "forcedclerkconf01"})
    assert forced.status == 403 and demo_server.store.event_count() == before


def test_a_receipt_directed_past_what_the_items_owe_is_refused_with_the_values_kept(person, demo_server):
    chen = person()
    chen.sign_in("clerk.chen")
    receivable = _approved_contract(chen)
    before = demo_server.store.event_count()
    # The demo's down payment (80,000.00) waits undirected, so it may pay I1 as well: I1 has no room left.
    page = _record(chen, receivable, "500.00", "MONEY-T5 directed", tick="#a-I1")
    assert page.locator(".error-summary").is_visible()
    assert "付款金额超过应付金额" in page.locator(".error-summary").inner_text()
    assert page.input_value("#f-amount") == "500.00" and page.is_checked("#a-I1")
    chen.shot("receipt-new-refused")
    page.fill("#f-amount", "")
    page.click("form.command button.primary")
    page.wait_for_load_state()
    assert "请填写此项" in page.locator(".field.has-error").inner_text()
    assert demo_server.store.event_count() == before


def test_the_aging_report_a_debt_and_a_statement_show_the_scenarios_figures(person, demo_server):
    sun = person()
    sun.sign_in("finance.sun")
    overdue = _overdue_contract(sun)
    page = sun.open(overdue)
    # SCENARIO.md, the March installment: 24,683.46 + 909.51; the receipt of 04-10 pays 115.20
    # penalty, 909.51 interest, 8,975.29 principal, leaving 15,708.17 unpaid.
    i3 = page.locator("#item-I3").inner_text()
    for amount in ("¥24,683.46", "¥909.51", "¥8,975.29", "¥15,708.17", "¥115.20"):
        assert amount in i3
    assert "I3：罚息 ¥115.20，利息 ¥909.51，本金 ¥8,975.29" in page.locator("#debt-receipts").inner_text()
    # Penalty on I3: 9 × 12.80 (04-01 … 04-09), 5 × 7.85 (04-10 … 04-14), then 9.42 a day from 04-15.
    through = date.fromisoformat(page.inner_text("#accrued-through").strip())
    days = (through - date(2026, 4, 15)).days + 1
    expected = Decimal("115.20") + Decimal("39.25") + Decimal("9.42") * days
    cells = page.locator("#item-I3 td")
    assert _yuan(cells.nth(7).inner_text()) == expected                  # penalty accrued
    assert _yuan(cells.nth(10).inner_text()) == expected - Decimal("115.20")
    sun.shot("receivable-overdue")

    aging = sun.open("/console/receivables/aging")
    as_of = date.fromisoformat(aging.input_value("#q-as-of"))
    # Unpaid of the overdue sale by its items' due dates (SCENARIO.md's schedule, 2026).
    unpaid = {date(2026, 3, 31): Decimal("15708.17"), **{d: Decimal("25592.97") for d in (
        date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 31), date(2026, 8, 31),
        date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30))}}
    buckets = [("1-30天", 1, 30), ("31-60天", 31, 60), ("61-90天", 61, 90), ("91-180天", 91, 180),
               ("180天以上", 181, 100_000)]
    hf = aging.locator("#aging tbody tr", has_text="HF")
    headers = [h.inner_text() for h in aging.locator("#aging thead th").all()]
    for label, low, high in buckets:
        owed = sum((a for d, a in unpaid.items() if d < as_of and low <= (as_of - d).days <= high), Decimal("0.00"))
        assert _yuan(hf.locator("td").nth(headers.index(label)).inner_text()) == owed, label
    sun.shot("aging-by-company")
    aging.select_option("#q-group", value="customer")
    aging.click("form.filters button")
    aging.wait_for_url(re.compile(r"group_by=customer"))
    assert aging.locator("#aging tbody tr", has_text=CUSTOMER).count() == 1
    sun.shot("aging-by-customer")

    aging.locator("#aging tbody tr", has_text=CUSTOMER).locator("a").click()
    aging.wait_for_url(re.compile(r"/console/receivables/statement\?customer_id="))
    aging.fill("#q-from", "2026-04-01")
    aging.fill("#q-to", "2026-04-30")
    aging.click("form.filters button")
    aging.wait_for_url(re.compile(r"date_from=2026-04-01"))
    # Before April: charged DP 80,000.00 + 3 × 25,592.97, paid 80,000.00 + 2 × 25,592.97.
    assert "¥25,592.97" in aging.locator("#statement-facts").inner_text().split("期末")[0]
    receipt = aging.locator("#statement tr", has_text="¥10,000.00")
    assert receipt.count() == 1 and "2026-04-10" in receipt.inner_text()
    assert "penalty 115.20, interest 909.51, principal 8975.29" in receipt.inner_text()
    sun.shot("customer-statement")
    aging.fill("#q-from", "2026-05-01")
    aging.click("form.filters button")
    aging.wait_for_url(re.compile(r"date_from=2026-05-01"))
    assert aging.locator(".error-summary").count() == 1 and aging.locator("#statement").count() == 0


def test_the_receivables_list_filters_exports_and_opens_the_collectors_overdue_debts(person):
    zhang = person()
    zhang.sign_in("collector.zhang")
    home = zhang.page
    home.locator("a.todo", has_text="派给我的逾期欠款").click()
    home.wait_for_url(re.compile(r"/console/receivables\?overdue_only=on&collector_id="))
    rows = home.locator("#receivables tbody tr")
    assert rows.count() == 1 and "collector.zhang" in rows.first.inner_text()
    assert "180天以上" in rows.first.inner_text() and home.is_checked("#q-overdue")
    zhang.shot("receivables-my-overdue")
    assert home.locator("#act-record").count() == 0
    sun = person()
    sun.sign_in("finance.sun")
    page = sun.open("/console/receivables")
    number = page.locator("#receivables tbody tr").first.locator("a").inner_text()
    page.select_option("#q-aging", value="current")
    page.click("form.filters button")
    page.wait_for_url(re.compile(r"aging=current"))
    assert page.locator("#receivables tr", has_text=number).count() == 0      # the overdue one is not current
    sun.shot("receivables-list")
    exported = page.request.get(sun.base_url + "/console/receivables/export.csv?overdue_only=on")
    assert exported.status == 200 and "text/csv" in exported.headers["content-type"]
    lines = exported.text().splitlines()
    assert lines[0].startswith("contract_number,company_code,customer_name") and len(lines) == 2
    assert lines[1].startswith(number)


def test_another_companys_and_another_salespersons_receivables_are_absent(person):
    sun = person()
    sun.sign_in("finance.sun")
    overdue = _overdue_contract(sun)
    statement = sun.open(overdue).locator("#figures a").first.get_attribute("href")
    number = sun.page.locator("h1").inner_text().split()[1]

    risk = person()
    risk.sign_in("risk.manager")                     # Chuzhou + Chizhou only
    for path in ("/console/receivables", "/console/receipts", "/console/receivables/aging"):
        shown = risk.open(path).content()
        assert "HF-" not in shown and CUSTOMER not in shown, path
    risk.shot("receivables-other-companies")
    assert risk.open(overdue).locator("h1").inner_text() == "未找到"
    assert risk.open(statement).locator("h1").inner_text() == "未找到"

    li = person()
    li.sign_in("sales.li")                           # Hefei, but not Wang's customers
    assert number not in li.open("/console/receivables").content()
    assert li.open(overdue).locator("h1").inner_text() == "未找到"
    assert li.open(statement).locator("h1").inner_text() == "未找到"
    li.shot("receivable-not-yours")

    wang = person()
    wang.sign_in("sales.wang")
    assert wang.open("/console/receivables").locator("#receivables tr", has_text=number).count() == 1
    page = wang.open(overdue)
    assert "¥15,708.17" in page.locator("#item-I3").inner_text()
    assert page.locator("#act-record, .act-confirm, .act-reverse").count() == 0   # a salesperson only looks
    assert wang.open("/console/receipts/new").locator("h1").inner_text() == "无权操作"


def test_a_receivable_and_the_queue_on_a_phone(person):
    sun = person(width=390)
    sun.sign_in("finance.sun")
    page = sun.open(_overdue_contract(sun))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sun.shot("receivable-phone")
    page = sun.open("/console/receipts?status=recorded")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sun.shot("receipts-queue-phone")
