"""The contract's path at the console, in a real Chromium, role by role: the salesperson
drafts (also on a phone), the clerk completes the terms after a schedule preview and
submits for approval, the approver approves from the inbox; and the refusals: another
salesperson's contract is absent, an act is not offered to the wrong role and refused
when forced, a form without its CSRF proof records nothing, a double submission records
once."""

from __future__ import annotations

import re

import httpx

from tests.browser.conftest import Office

CUSTOMER = "Hefei Earthworks Construction Co."


def _draft(wang: Office, price: str = "395000.00") -> str:
    """sales.wang drafts one SY215C for Hefei Earthworks; answers the contract's page address."""
    page = wang.open("/console/contracts/new")
    page.select_option("#f-company_id", label="HF Hefei (headquarters)")
    page.select_option("#f-customer_id", label=f"{CUSTOMER} (HF)")
    page.select_option("#f-lines\\.0\\.model_id", label="SY215C SY215C excavator")
    page.fill("#f-lines\\.0\\.quantity", "1")
    page.fill("#f-lines\\.0\\.unit_price", price)
    page.click("form.command button.primary")
    page.wait_for_url(re.compile(r"/console/contracts/[0-9a-f-]{36}\?after=\d+&done=DraftContract"))
    return page.url.split("?")[0].removeprefix(wang.base_url)


def test_the_contract_goes_from_draft_to_approved_role_by_role(person, demo_server):
    wang = person()
    wang.sign_in("sales.wang")
    home = wang.page
    assert home.locator("html").get_attribute("lang") == "zh-CN"
    assert "我的待办" in home.content()
    wang.shot("home-salesperson")
    contract = _draft(wang)
    page = wang.page
    assert "合同草稿已保存" in page.content() and "草稿" in page.locator("h1 .status").inner_text()
    assert "¥395,000.00" in page.content()
    wang.shot("contract-draft")
    page.click("#act-submit-to-clerk button")
    page.wait_for_url(re.compile(r"done=SubmitContractToClerk"))
    assert "内勤处理中" in page.locator("h1 .status").inner_text()
    assert page.locator("#act-revise").count() == 0          # no more edits by the salesperson

    chen = person()
    chen.sign_in("clerk.chen")
    page = chen.open(contract)
    page.select_option("#f-payment", value="installment")
    page.fill("#f-down_payment", "95000.00")
    page.fill("#f-installment\\.months", "12")
    page.fill("#f-installment\\.annual_rate", "0.0435")
    page.fill("#f-installment\\.first_due_date", "2027-01-31")
    page.click("#act-terms button[name=_preview]")
    preview = page.locator("#schedule-preview tbody tr")
    assert preview.count() == 13                              # the down payment and 12 installments
    assert "¥95,000.00" in preview.nth(0).inner_text()
    assert page.input_value("#f-installment\\.months") == "12"  # the clerk's values are kept
    chen.shot("contract-terms-preview")
    page.click("#act-terms button >> nth=0")
    page.wait_for_url(re.compile(r"done=CompleteContractTerms"))
    assert "分期" in page.locator("section.card").nth(1).inner_text()
    page.click("#act-submit-for-approval button")
    page.wait_for_url(re.compile(r"done=SubmitContractForApproval"))
    assert "审批中" in page.locator("h1 .status").inner_text()
    chen.shot("contract-in-approval")

    zhao = person()
    zhao.sign_in("manager.zhao")
    inbox = zhao.open("/console/approvals")
    number = chen.page.locator("h1").inner_text().split()[1]
    row = inbox.locator("tr", has_text=number)
    assert row.count() == 1 and "¥395,000.00" in row.inner_text() and "clerk.chen" in row.inner_text()
    zhao.shot("approval-inbox")
    row.locator("a.button").click()
    zhao.page.wait_for_load_state()
    zhao.page.click("#act-approve button")
    zhao.page.wait_for_url(re.compile(r"done=ApproveContract"))
    # Over 300,000.00 the demo's rule has a second step: group finance.
    assert "审批中" in zhao.page.locator("h1 .status").inner_text()
    assert "审批步骤通过" in zhao.page.locator("section.timeline").inner_text()
    assert zhao.page.locator("#act-approve").count() == 0       # the next step is not his

    sun = person()
    sun.sign_in("finance.sun")
    row = sun.open("/console/approvals").locator("tr", has_text=number)
    assert "2/2" in row.inner_text()
    row.locator("a.button").click()
    sun.page.wait_for_load_state()
    sun.page.click("#act-approve button")
    sun.page.wait_for_url(re.compile(r"done=ApproveContract"))
    page = sun.page
    assert "已审核" in page.locator("h1 .status").inner_text()
    assert "审批通过" in page.locator("section.timeline").inner_text()
    assert page.locator("h2", has_text="应收").count() == 1      # its receivable was opened with it
    receivable = page.locator("section.card", has_text="未收余额")
    # 300,000.00 over 12 months at 4.35 % equal installments is 25,592.97 a month: with the down
    # payment 95,000.00 + 12 × 25,592.97 = 402,115.64 is owed.
    assert "¥402,115.64" in receivable.inner_text() and "¥25,592.97" in receivable.inner_text()
    assert receivable.locator("tbody tr").count() == 13
    sun.shot("contract-approved")
    assert sun.open("/console/approvals").locator("tr", has_text=number).count() == 0


def test_a_salesperson_drafts_on_a_phone(person):
    wang = person(width=390)
    wang.sign_in("sales.wang")
    page = wang.open("/console/contracts/new")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wang.shot("contract-new-phone")
    _draft(wang, "401000.00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wang.shot("contract-draft-phone")


def test_a_refused_form_comes_back_with_the_message_beside_the_field(person, demo_server):
    wang = person()
    wang.sign_in("sales.wang")
    before = demo_server.store.event_count()
    page = wang.open("/console/contracts/new")
    page.select_option("#f-customer_id", label=f"{CUSTOMER} (HF)")
    page.select_option("#f-lines\\.0\\.model_id", label="SY215C SY215C excavator")
    page.fill("#f-lines\\.0\\.quantity", "0")
    page.fill("#f-lines\\.0\\.unit_price", "395000.00")
    page.click("form.command button.primary")
    assert page.locator(".error-summary").is_visible()
    error = page.locator(".field.has-error .field-error")
    assert error.count() == 1 and "1 到 1000" in error.inner_text()
    assert page.input_value("#f-lines\\.0\\.unit_price") == "395000.00"
    assert page.input_value("#f-customer_id") != ""
    wang.shot("contract-new-refused")
    assert demo_server.store.event_count() == before


def test_another_salespersons_contract_is_absent_and_acts_not_offered_are_refused(person, demo_server):
    wang = person()
    wang.sign_in("sales.wang")
    mine = _draft(wang, "399000.00")
    li = person()
    li.sign_in("sales.li")
    listed = li.open("/console/contracts").content()
    assert "sales.wang" not in listed and "Hefei Earthworks" not in listed
    page = li.open(mine)
    assert page.locator("h1").inner_text() == "未找到"
    li.shot("contract-not-yours")
    # The approve form is not offered to a salesperson; forced, it is refused and records nothing.
    own = wang.open(mine)
    assert own.locator("#act-approve").count() == 0
    csrf = own.locator("input[name=_csrf]").first.get_attribute("value")
    before = demo_server.store.event_count()
    forced = wang.post_raw(mine + "/approve", {"_csrf": csrf, "_form_key": "forcedapprove01"})
    assert forced.status in (403, 409) and demo_server.store.event_count() == before
    forced = li.post_raw(mine + "/submit-to-clerk", {"_csrf": csrf, "_form_key": "forcedsubmit001"})
    assert forced.status in (403, 404) and demo_server.store.event_count() == before


def test_a_form_without_its_csrf_proof_records_nothing(person, demo_server):
    wang = person()
    wang.sign_in("sales.wang")
    mine = _draft(wang, "398000.00")
    before = demo_server.store.event_count()
    for form in ({"_form_key": "nocsrf00000001"}, {"_csrf": "0" * 64, "_form_key": "badcsrf0000001"}):
        answer = wang.post_raw(mine + "/submit-to-clerk", form)
        assert answer.status == 403 and "表单已过期" in answer.text()
    # Another site's page posting with the person's cookie: the CSRF cookie is SameSite=Strict
    # and scoped to the console, and without it the proof cannot match.
    session = {c["name"]: c["value"] for c in wang.page.context.cookies()}["ironledger_session"]
    outside = httpx.post(demo_server.url + mine + "/submit-to-clerk", cookies={"ironledger_session": session},
                         data={"_form_key": "outside0000001"})
    assert outside.status_code == 403
    assert demo_server.store.event_count() == before


def test_a_form_sent_twice_records_once(person, demo_server):
    wang = person()
    wang.sign_in("sales.wang")
    mine = _draft(wang, "397000.00")
    page = wang.open(mine)
    form = {i.get_attribute("name"): i.get_attribute("value")
            for i in page.locator("#act-submit-to-clerk input[type=hidden]").all()}
    before = demo_server.store.event_count()
    first = wang.post_raw(mine + "/submit-to-clerk", form)
    recorded = demo_server.store.event_count()
    again = wang.post_raw(mine + "/submit-to-clerk", form)
    assert first.status == 303 and again.status == 303      # the second answers as the first did
    assert first.headers["location"] == again.headers["location"]
    assert recorded > before and demo_server.store.event_count() == recorded


def test_the_console_speaks_english_when_asked_and_sends_its_security_headers(person, demo_server):
    answer = httpx.get(demo_server.url + "/console/sign-in")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(demo_server.url + "/console/sign-in", headers={"Accept-Language": "en-GB,en"}).text.count(
        "Sign in") >= 2
    sun = person()
    page = sun.sign_in("finance.sun")
    cookie = {c["name"]: c for c in page.context.cookies()}["ironledger_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click("button[name=lang][value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en" and "My to-dos" in page.content()
    sun.shot("home-finance-english")
    assert "¥" in sun.open("/console/contracts").content()


def test_wrong_password_and_signing_out(person):
    someone = person()
    page = someone.open("/")
    assert page.url.endswith("/console/sign-in")
    page.fill("#f-username", "sales.wang")
    page.fill("#f-password", "not-the-password")
    page.click("button.primary")
    assert "用户名或密码错误" in page.content() and page.input_value("#f-username") == "sales.wang"
    someone.shot("sign-in-refused")
    someone.sign_in("sales.wang")
    page.click("text=退出")
    page.wait_for_url(re.compile(r"/console/sign-in"))
    assert someone.open("/console/contracts").url.split("?")[0].endswith("/console/sign-in")


def test_a_form_from_a_contract_someone_changed_since_says_so_and_shows_it_as_it_is(person, demo_server):
    wang = person()
    wang.sign_in("sales.wang")
    contract = _draft(wang, "396000.00")
    wang.page.click("#act-submit-to-clerk button")
    wang.page.wait_for_url(re.compile(r"done=SubmitContractToClerk"))
    first, second = person(), person()          # the clerk at two desks
    first.sign_in("clerk.chen")
    second.sign_in("clerk.chen")
    stale = first.open(contract)
    page = second.open(contract)
    page.fill("#f-accessories\\.0\\.name", "工具箱")
    page.click("#act-terms button >> nth=0")
    page.wait_for_url(re.compile(r"done=CompleteContractTerms"))
    before = demo_server.store.event_count()
    stale.fill("#act-return textarea", "请补充客户证件")
    stale.click("#act-return button")
    stale.wait_for_load_state()
    assert "其他人修改了这份单据" in stale.locator(".error-summary").inner_text()
    assert "工具箱" in stale.locator("section.card:not(.act)", has_text="付款方式").inner_text()   # as it is now
    assert stale.input_value("#act-return textarea") == "请补充客户证件"
    assert demo_server.store.event_count() == before
    first.shot("contract-conflict")
    stale.click("#act-return button")                      # checked, sent again: it goes through
    stale.wait_for_url(re.compile(r"done=ReturnContractToSalesperson"))
    assert "草稿" in stale.locator("h1 .status").inner_text()
