"""Customers (客户) and contacts (联系人) at the console, in a real Chromium: the salesperson
registers a customer and a contact and finds them in his lists; the clerk registers a
customer for another salesperson, links a contact and tags it; the administrator keeps the
catalogue of types and tags. And the refusals: another salesperson's customers are absent
from the list, the counts and the export, and their page is not found; another company's
approver sees none of Hefei's; a salesperson is not offered the catalogue's forms and a
forced post records nothing; a phone with letters comes back beside its field."""

from __future__ import annotations

import re
import uuid

from tests.browser.conftest import Office
from tests.conftest import ADMIN_PASSWORD

EARTHWORKS = "Hefei Earthworks Construction Co."


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def _register_customer(office: Office, name: str, phone: str = "0551 6000 0001", owner: str | None = None) -> str:
    """Registers a formal organisation customer of Hefei; answers its page's address."""
    page = office.open("/console/customers/new")
    assert page.input_value("#f-company_id") != ""          # one company: filled in
    page.fill("#f-name", name)
    page.select_option("#f-kind", value="organisation")
    page.select_option("#f-customer_type_id", label="FORMAL Formal")
    page.fill("#f-id_number", "91340100MA2N0001X")
    page.fill("#f-phone", phone)
    page.fill("#f-address", "Hefei, Shushan district, 88 Changjiang Road")
    if owner is not None:
        page.select_option("#f-owner_id", label=owner)
    page.click("form.command button.primary")
    page.wait_for_url(re.compile(r"/console/customers/[0-9a-f-]{36}\?after=\d+&done=CreateCustomer"))
    return page.url.split("?")[0].removeprefix(office.base_url)


def _register_contact(office: Office, name: str, owner: str | None = None) -> None:
    page = office.open("/console/contacts/new")
    page.fill("#f-name", name)
    page.fill("#f-phone", "139 0551 0099")
    page.fill("#f-title", "Site manager")
    if owner is not None:
        page.select_option("#f-owner_id", label=owner)
    page.click("form.command button.primary")
    page.wait_for_url(re.compile(r"/console/contacts\?name=.*done=CreateContact"))


def _counted(office: Office) -> str:
    return office.open("/console/customers").locator("#customer-counts").inner_text()


def test_a_salesperson_registers_a_customer_and_a_contact_and_finds_them_in_his_lists(person):
    wang = person()
    wang.sign_in("sales.wang")
    before = _counted(wang)
    name = _unique("Shushan Roadbuilders")
    customer = _register_customer(wang, name)
    page = wang.page
    assert "客户已登记" in page.content()
    assert page.locator("h1").inner_text().startswith(name)
    facts = page.locator("#customer-facts").inner_text()
    assert "Formal (FORMAL)" in facts and "0551 6000 0001" in facts and "sales.wang" in facts and "HF" in facts
    assert page.locator("#customer-contracts").count() == 0 and "暂无合同" in page.content()
    statement = page.locator("a", has_text="对账单")
    assert statement.get_attribute("href") == f"/console/receivables/statement?customer_id={customer.split('/')[-1]}"
    wang.shot("customer-registered")
    assert page.locator("#act-link-contact").count() == 0     # linking is the clerk's

    listed = wang.open("/console/customers")
    assert listed.locator("#customers tr", has_text=name).count() == 1
    assert "Feidong Quarry" in listed.content() and "Zhang Wei" not in listed.content()   # Li's is not his
    assert listed.locator("#customer-counts").inner_text() != before
    wang.shot("customers-salesperson")
    listed.fill("#q-name", name.split()[-1])
    listed.click(".filters button")
    listed.wait_for_load_state()
    assert listed.locator("#customers tbody tr").count() == 1

    contact = _unique("Sun Hao")
    _register_contact(wang, contact)
    page = wang.page
    assert "联系人已登记" in page.content()
    row = page.locator("#contacts tr", has_text=contact)
    assert row.count() == 1 and "sales.wang" in row.inner_text() and "Site manager" in row.inner_text()
    assert "Zhang Wei" not in wang.open("/console/contacts").content()
    wang.shot("contacts-salesperson")


def test_the_clerk_registers_a_customer_for_another_salesperson_links_a_contact_and_tags_it(person):
    chen = person()
    chen.sign_in("clerk.chen")
    name = _unique("Feixi Gravel")
    contact = _unique("Ma Lin")
    _register_contact(chen, contact, owner="sales.li")
    customer = _register_customer(chen, name, owner="sales.li")
    page = chen.page
    assert "sales.li" in page.locator("#customer-facts").inner_text()
    chen.shot("customer-clerk")
    option = page.locator("#act-link-contact option", has_text=contact)
    assert "sales.li" in option.inner_text()
    page.select_option("#act-link-contact select", value=option.get_attribute("value"))
    page.click("#act-link-contact button")
    page.wait_for_url(re.compile(r"done=LinkContactToCustomer"))
    linked = page.locator("#customer-contacts tr", has_text=contact)
    assert linked.count() == 1 and "内勤关联" in linked.inner_text()
    page.select_option("#act-tag select", label="MINING Mining")
    page.click("#act-tag button")
    page.wait_for_url(re.compile(r"done=TagCustomer"))
    assert "Mining" in page.locator("#customer-tags").inner_text()
    chen.shot("customer-tagged")
    page.select_option("#act-untag select", label="MINING Mining")
    page.click("#act-untag button")
    page.wait_for_url(re.compile(r"done=UntagCustomer"))
    assert "Mining" not in page.locator("#customer-tags").inner_text()

    li = person()
    li.sign_in("sales.li")
    assert li.open("/console/customers").locator("#customers tr", has_text=name).count() == 1   # his now
    page = li.open(customer)
    assert page.locator("#customer-contacts tr", has_text=contact).count() == 1
    page.select_option("#act-tag select", label="VIP Key account")          # he tags his own
    page.click("#act-tag button")
    page.wait_for_url(re.compile(r"done=TagCustomer"))
    listed = li.open("/console/customers")
    assert listed.locator("#q-owner").count() == 0          # he sees only his own: no salesperson to choose
    listed.select_option("#q-tag", label="VIP Key account")
    listed.click(".filters button")
    listed.wait_for_load_state()
    assert listed.locator("#customers tr", has_text=name).count() == 1
    assert listed.locator("#customers tr", has_text="Zhang Wei").count() == 0    # not tagged VIP
    listed = chen.open("/console/customers")
    listed.select_option("#q-tag", label="VIP Key account")
    listed.select_option("#q-owner", label="sales.li")
    listed.click(".filters button")
    listed.wait_for_load_state()
    assert listed.locator("#customers tr", has_text=name).count() == 1
    assert listed.locator("#customers tr", has_text=EARTHWORKS).count() == 0     # VIP, but Wang's
    chen.shot("customers-clerk-filtered")


def test_another_salespersons_customers_are_absent_from_list_counts_export_and_page(person, demo_server):
    li = person()
    li.sign_in("sales.li")
    counted = _counted(li)
    exported_before = li.page.request.get(li.base_url + "/console/customers/export.csv").text()
    wang = person()
    wang.sign_in("sales.wang")
    name = _unique("Wang's secret client")
    customer = _register_customer(wang, name)

    listed = li.open("/console/customers").content()
    assert name not in listed and EARTHWORKS not in listed and "sales.wang" not in listed
    assert "Zhang Wei" in listed
    assert _counted(li) == counted                         # CountCustomers: his own only
    exported = li.page.request.get(li.base_url + "/console/customers/export.csv")
    assert exported.status == 200 and "text/csv" in exported.headers["content-type"]
    assert exported.text() == exported_before and name not in exported.text()
    assert "Zhang Wei" in exported.text()
    mine = wang.page.request.get(wang.base_url + "/console/customers/export.csv?name=" + name.split()[-1])
    assert name in mine.text() and len(mine.text().strip().splitlines()) == 2     # the header and his customer
    page = li.open(customer)
    assert page.locator("h1").inner_text() == "未找到"
    li.shot("customer-not-yours")
    # A tag put on it by hand is refused as not found and records nothing.
    csrf = li.open("/console/customers").locator("input[name=_csrf]").first.get_attribute("value")
    before = demo_server.store.event_count()
    forced = li.post_raw(customer + "/tag", {"_csrf": csrf, "_form_key": "forcedtag000001",
                                             "tag_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, "x"))})
    assert forced.status == 404 and demo_server.store.event_count() == before


def test_another_companys_approver_sees_none_of_hefeis_customers(person):
    risk = person()
    risk.sign_in("risk.manager")
    page = risk.open("/console/customers")
    content = page.content()
    assert EARTHWORKS not in content and "Feidong Quarry" not in content and "Zhang Wei" not in content
    assert "HF" not in page.locator("#customer-counts").inner_text()
    risk.shot("customers-other-company")
    assert page.locator("a.button", has_text="新建客户").count() == 0       # an approver registers none
    exported = page.request.get(risk.base_url + "/console/customers/export.csv")
    assert EARTHWORKS not in exported.text() and len(exported.text().strip().splitlines()) <= 1
    assert "Liu Qiang" not in risk.open("/console/contacts").content()
    chen = person()
    chen.sign_in("clerk.chen")
    row = chen.open("/console/customers").locator("#customers tr", has_text=EARTHWORKS)
    row.locator("a").click()
    chen.page.wait_for_load_state()
    hefei = chen.page.url
    assert "Liu Qiang" in chen.page.content()      # linked when the scenario's contract was approved
    assert "合同审核时关联" in chen.page.locator("#customer-contacts").inner_text()
    assert chen.page.locator("#customer-contracts tbody tr").count() >= 1
    chen.shot("customer-with-contracts")
    assert risk.open(hefei.removeprefix(risk.base_url)).locator("h1").inner_text() == "未找到"


def test_only_an_administrator_is_offered_the_catalogue_and_a_forced_post_records_nothing(person, demo_server):
    wang = person()
    wang.sign_in("sales.wang")
    page = wang.open("/console/customers/catalogue")
    assert "FORMAL" in page.locator("#customer-types").inner_text() and "VIP" in page.content()
    assert page.locator("form.command").count() == 0
    wang.shot("catalogue-salesperson")
    csrf = page.locator("input[name=_csrf]").first.get_attribute("value")
    before = demo_server.store.event_count()
    for kind in ("types", "tags"):
        forced = wang.post_raw(f"/console/customers/catalogue/{kind}",
                               {"_csrf": csrf, "_form_key": f"forced{kind}0001", "code": "FORCED", "name": "Forced"})
        assert forced.status == 403 and "无权操作" in forced.text()
    assert demo_server.store.event_count() == before

    admin = person()
    admin.sign_in("admin", ADMIN_PASSWORD)
    page = admin.open("/console/customers/catalogue")
    code = "T" + uuid.uuid4().hex[:6].upper()
    page.fill("#act-types #f-code", code)
    page.fill("#act-types #f-name", "Lease prospect")
    page.click("#act-types button.primary")
    page.wait_for_url(re.compile(r"done=DefineCustomerType"))
    assert code in page.locator("#customer-types").inner_text()
    page.fill("#act-tags #f-code", code)
    page.fill("#act-tags #f-name", "Quarry owners")
    page.click("#act-tags button.primary")
    page.wait_for_url(re.compile(r"done=DefineCustomerTag"))
    assert code in page.locator("#customer-tags").inner_text()
    admin.shot("catalogue-administrator")
    page.fill("#act-tags #f-code", code)                   # a second tag of that code: refused beside it
    page.fill("#act-tags #f-name", "Again")
    before = demo_server.store.event_count()
    page.click("#act-tags button.primary")
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible() and page.input_value("#act-tags #f-name") == "Again"
    assert demo_server.store.event_count() == before
    # The new type is offered to the salesperson.
    assert wang.open("/console/customers/new").locator("#f-customer_type_id option", has_text=code).count() == 1


def test_a_phone_with_letters_comes_back_beside_its_field_with_the_values_kept(person, demo_server):
    wang = person()
    wang.sign_in("sales.wang")
    before = demo_server.store.event_count()
    page = wang.open("/console/customers/new")
    page.fill("#f-name", "Luyang Cranes")
    page.select_option("#f-kind", value="person")
    page.select_option("#f-customer_type_id", label="INTENDED Intended")
    page.fill("#f-phone", "138 abcd 0000")
    page.fill("#f-address", "Luyang district")
    page.click("form.command button.primary")
    assert page.locator(".error-summary").is_visible()
    error = page.locator(".field.has-error")
    assert error.count() == 1 and "电话号码只能包含数字" in error.inner_text()
    assert page.locator(".field.has-error #f-phone").count() == 1
    assert page.input_value("#f-name") == "Luyang Cranes" and page.input_value("#f-phone") == "138 abcd 0000"
    assert page.input_value("#f-kind") == "person" and page.input_value("#f-address") == "Luyang district"
    wang.shot("customer-new-refused")
    page = wang.open("/console/contacts/new")
    page.fill("#f-name", "Hu Jun")
    page.fill("#f-phone", "call me")
    page.click("form.command button.primary")
    assert "电话号码只能包含数字" in page.locator(".field.has-error").inner_text()
    assert page.input_value("#f-name") == "Hu Jun"
    assert demo_server.store.event_count() == before


def test_the_customer_list_and_a_customer_on_a_phone(person):
    wang = person(width=390)
    wang.sign_in("sales.wang")
    page = wang.open("/console/customers")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wang.shot("customers-phone")
    page.locator("#customers a", has_text=EARTHWORKS).click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wang.shot("customer-phone")


def test_group_finance_reads_every_companys_customers_in_english(person):
    sun = person(locale="en-GB")
    sun.sign_in("finance.sun")
    page = sun.open("/console/customers")
    assert page.locator("h1").inner_text() == "Customers"
    assert page.locator("#customers tr", has_text=EARTHWORKS).count() == 1
    assert page.locator("#customers tr", has_text="Zhang Wei").count() == 1          # both salespeople's
    assert page.locator("a.button", has_text="Register a customer").count() == 0   # finance registers none
    page.locator("#customers a", has_text=EARTHWORKS).click()
    page.wait_for_load_state()
    assert "Key account" in page.locator("#customer-tags").inner_text()
    assert page.locator("#act-tag").count() == 0 and page.locator("#act-link-contact").count() == 0
    sun.shot("customer-finance-english")
