"""Machine stock and delivery (交机出库) at the console, in a real Chromium, role by role: the
Hefei keeper receives a machine and finds it in the list, its counts and its export; the
salesperson picks it onto an approved contract, finance reviews the outbound from its
queue, the keeper dispatches it from theirs, and the machine's page shows it out with the
contract it went out under and its history; a pick by typed serial is released with its
reason; and the refusals: Chuzhou's keeper sees no Hefei machine (list, page, a forced
transfer), another salesperson's delivery is 404, review and dispatch are not offered to a
salesperson and refused when forced, a typed serial that does not exist comes back beside
the form; nothing is recorded by any of them.

The demo server is shared: every machine and contract here has a serial or price of its own."""

from __future__ import annotations

import re
import uuid

from tests.conftest import ADMIN_PASSWORD
from tests.e2e.conftest import CZ_MAIN, HF, HF_MAIN, XE60, Server

CUSTOMER = "Hefei Earthworks Construction Co."


def _serial(prefix: str = "XE60-UI") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def _receive_by_api(server: Server, serial: str) -> None:
    with server.as_user("keeper.hf") as keeper:
        answer = keeper.post("/machines/receive", json={"serial_number": serial, "model_id": XE60,
                                                        "warehouse_id": HF_MAIN, "nature": "purchased_sample"})
        assert answer.status_code == 201, answer.text


def _approved_contract(server: Server, price: str) -> tuple[str, str]:
    """sales.wang's approved contract for one XE60 (one approval step under 300,000.00): id and number."""
    with server.as_user("sales.wang") as wang, server.as_user("clerk.chen") as chen, \
            server.as_user("manager.zhao") as zhao:
        customers = wang.get("/customers", params={"page_size": 200}).json()["items"]
        customer = next(c["customer_id"] for c in customers if c["name"] == CUSTOMER)
        drafted = wang.post("/contracts", json={"company_id": HF, "customer_id": customer, "lines": [
            {"model_id": XE60, "quantity": 1, "unit_price": price}]})
        assert drafted.status_code == 201, drafted.text
        contract = drafted.json()["contract_id"]
        assert wang.post(f"/contracts/{contract}/submit-to-clerk").status_code == 200
        assert chen.post(f"/contracts/{contract}/complete-terms", json={"payment": "cash"}).status_code == 200
        assert chen.post(f"/contracts/{contract}/submit-for-approval").status_code == 200
        approved = zhao.post(f"/contracts/{contract}/approve")
        assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
        return contract, approved.json()["number"]


def _csrf(page) -> str:
    return page.locator("input[name=_csrf]").first.get_attribute("value")


def test_the_keeper_receives_a_machine_and_finds_it_in_the_list(person, demo_server):
    serial = _serial("SY-UI")
    keeper = person()
    keeper.sign_in("keeper.hf")
    page = keeper.open("/console/machines")
    counts = page.locator("#stock-counts").inner_text()
    assert "在库" in counts and "已出库" in counts
    assert page.locator("#machines tbody tr").count() > 0
    assert "CZ" not in page.locator("#machines").inner_text()         # Hefei's stock only
    keeper.shot("machines-keeper")
    page.click("text=整机入库")
    page.wait_for_url(re.compile(r"/console/machines/receive$"))
    page.fill("#f-serial_number", serial.lower())                     # serials are kept upper case
    page.select_option("#f-model_id", label="SY215C SY215C excavator")
    page.select_option("#f-warehouse_id", label="HF MAIN HF main warehouse")
    page.select_option("#f-nature", value="trade_in")
    keeper.shot("machine-receive")
    page.click("form.command button.primary")
    page.wait_for_url(re.compile(rf"/console/machines/{serial}\?after=\d+&done=ReceiveMachine"))
    assert "机器已入库" in page.content() and "在库" in page.locator("h1 .status").inner_text()
    facts = page.locator("#machine-facts").inner_text()
    assert "SY215C" in facts and "置换回收" in facts and "HF" in facts
    assert "入库" in page.locator("section.timeline").inner_text()
    keeper.shot("machine-received")

    listed = keeper.open(f"/console/machines?serial={serial[:6].lower()}&status=in_stock")
    row = listed.locator("#machines tr", has_text=serial)
    assert row.count() == 1 and "置换回收" in row.inner_text() and "在库" in row.inner_text()
    assert "在库" in listed.locator("#stock-counts strong").inner_text()
    exported = keeper.page.request.get(keeper.base_url + f"/console/machines/export.csv?serial={serial}")
    assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
    lines = exported.text().strip().splitlines()
    assert lines[0].startswith("serial_number,") and len(lines) == 2 and lines[1].startswith(serial + ",")


def test_a_machine_transferred_to_chuzhou_leaves_hefeis_stock_for_chuzhous(person, demo_server):
    serial = _serial()
    _receive_by_api(demo_server, serial)
    admin = person()
    admin.sign_in("admin", ADMIN_PASSWORD)
    page = admin.open(f"/console/machines/{serial}")
    options = page.locator("#act-transfer select[name=to_warehouse_id] option").all_inner_texts()
    assert any(o.startswith("CZ MAIN") for o in options) and not any(o.startswith("HF MAIN") for o in options)
    page.select_option("#act-transfer select[name=to_warehouse_id]", value=CZ_MAIN)
    page.click("#act-transfer button")                               # without the reason: refused
    page.wait_for_load_state()
    assert page.locator("#act-transfer .field.has-error").count() == 1
    assert page.input_value("#act-transfer select[name=to_warehouse_id]") == CZ_MAIN
    page.fill("#act-transfer textarea[name=reason]", "滁州客户急需")
    admin.shot("machine-transfer")
    page.click("#act-transfer button")
    page.wait_for_url(re.compile(r"done=TransferMachine"))
    assert "CZ" in page.locator("#machine-facts").inner_text()
    assert "滁州客户急需" in page.locator("section.timeline").inner_text()
    hf, cz = person(), person()
    hf.sign_in("keeper.hf")
    cz.sign_in("keeper.cz")
    assert hf.open(f"/console/machines/{serial}").locator("h1").inner_text() == "未找到"
    row = cz.open(f"/console/machines?serial={serial}").locator("#machines tbody tr")
    assert row.count() == 1 and "CZ" in row.inner_text()


def test_a_refused_receipt_of_a_machine_comes_back_beside_its_field(person, demo_server):
    keeper = person()
    keeper.sign_in("keeper.hf")
    before = demo_server.store.event_count()
    page = keeper.open("/console/machines/receive")
    page.fill("#f-serial_number", "SY215C-0007")                      # the demo's: already in the group
    page.select_option("#f-model_id", label="SY215C SY215C excavator")
    page.select_option("#f-warehouse_id", label="HF MAIN HF main warehouse")
    page.click("form.command button.primary")
    page.wait_for_load_state()
    assert "机号已存在" in page.locator(".error-summary").inner_text()
    assert page.input_value("#f-serial_number") == "SY215C-0007"
    page.fill("#f-serial_number", "")
    page.click("form.command button.primary")
    page.wait_for_load_state()
    assert "请填写此项" in page.locator(".field.has-error").inner_text()
    assert demo_server.store.event_count() == before


def test_a_machine_goes_out_on_a_contract_role_by_role(person, demo_server):
    serial = _serial()
    _receive_by_api(demo_server, serial)
    contract, number = _approved_contract(demo_server, "151000.00")
    delivery = f"/console/contracts/{contract}/delivery"

    wang = person()
    wang.sign_in("sales.wang")
    page = wang.open(delivery)
    assert number in page.locator("h1").inner_text() and "已审核" in page.locator("h1 .status").inner_text()
    assert "1" in page.locator("#contract-lines tbody tr").inner_text()
    options = page.locator("#act-pick select[name=serial_number] option").all_inner_texts()
    assert any(serial in o for o in options)
    assert not any(o.startswith("SY215C") or "LG855" in o for o in options)   # only units fitting the XE60 line
    page.select_option("#act-pick select[name=serial_number]", value=serial)
    page.click("#act-pick button")
    page.wait_for_url(re.compile(r"/delivery\?after=\d+&done=PickMachine"))
    assert "机号已推选" in page.content()
    outbound = page.locator("#outbound-1")
    assert "待审核" in outbound.locator("h2").inner_text() and serial in outbound.inner_text()
    assert "已推选" in outbound.inner_text()
    assert page.locator("#act-pick").count() == 0                     # the one line has its machine
    assert page.locator("#act-review-1, #act-dispatch-1").count() == 0
    wang.shot("delivery-picked")
    # Review and dispatch are not the salesperson's: forced, they are refused and record nothing.
    before = demo_server.store.event_count()
    for act in ("review", "dispatch"):
        forced = wang.post_raw(f"{delivery}/1/{act}", {"_csrf": _csrf(page), "_form_key": f"forced{act}0001"})
        assert forced.status == 403 and "无权操作" in forced.text()
    assert demo_server.store.event_count() == before

    sun = person()
    sun.sign_in("finance.sun")
    queue = sun.open("/console/")
    queue.click("a.todo[href='/console/outbounds?status=open']")
    queue.wait_for_url(re.compile(r"/console/outbounds\?status=open"))
    row = queue.locator("#outbounds tr", has_text=number)
    assert row.count() == 1 and CUSTOMER in row.inner_text()
    sun.shot("outbounds-finance-queue")
    row.locator("a").first.click()
    queue.wait_for_url(re.compile(rf"/console/contracts/{contract}/delivery$"))
    assert queue.locator("#act-dispatch-1").count() == 0 and queue.locator("#act-pick").count() == 0
    queue.click("#act-review-1 button")
    queue.wait_for_url(re.compile(r"done=ReviewOutbound"))
    assert "已审核待发车" in queue.locator("#outbound-1 h2").inner_text()
    assert "finance.sun" in queue.locator("#outbound-1").inner_text()
    assert queue.locator("#act-return-1").count() == 1 and queue.locator("#act-dispatch-1").count() == 0
    sun.shot("delivery-reviewed")
    assert sun.open("/console/outbounds?status=open").locator("#outbounds tr", has_text=number).count() == 0

    keeper = person()
    keeper.sign_in("keeper.hf")
    home = keeper.open("/console/")
    home.click("a.todo[href='/console/outbounds?status=reviewed']")
    home.wait_for_url(re.compile(r"/console/outbounds\?status=reviewed"))
    home.locator("#outbounds tr", has_text=number).locator("a").first.click()
    home.wait_for_url(re.compile(r"/delivery$"))
    assert home.locator("#act-return-1").count() == 0 and home.locator("#contract-lines").count() == 0
    assert CUSTOMER in home.locator("section.card").first.inner_text()   # whom it goes to
    keeper.shot("delivery-keeper")
    home.click("#act-dispatch-1 button")
    home.wait_for_url(re.compile(r"done=DispatchMachine"))
    assert "已出库发车" in home.content() and "已发车" in home.locator("#outbound-1 h2").inner_text()
    home.locator("#outbound-1 a", has_text=serial).click()
    home.wait_for_url(re.compile(rf"/console/machines/{serial}$"))
    assert "已出库" in home.locator("h1 .status").inner_text()
    assert number in home.locator("#machine-facts").inner_text()
    passage = home.locator("#machine-contracts tbody tr")
    assert passage.count() == 1 and number in passage.inner_text()
    assert home.locator("section.timeline li .what").all_inner_texts() == ["入库", "预留", "出库"]
    assert home.locator("#act-transfer").count() == 0                  # out: nothing to transfer
    keeper.shot("machine-out")


def test_a_typed_pick_is_released_with_its_reason_and_an_unknown_serial_comes_back(person, demo_server):
    serial = _serial()
    _receive_by_api(demo_server, serial)
    contract, _ = _approved_contract(demo_server, "152000.00")
    delivery = f"/console/contracts/{contract}/delivery"
    wang = person()
    wang.sign_in("sales.wang")
    page = wang.open(delivery)
    before = demo_server.store.event_count()
    page.fill("#act-pick input[name=serial_number_typed]", "NO-SUCH-UNIT-42")
    page.click("#act-pick button")
    page.wait_for_load_state()
    assert "机号不存在" in page.locator(".error-summary").inner_text()
    assert page.input_value("#act-pick input[name=serial_number_typed]") == "NO-SUCH-UNIT-42"
    assert demo_server.store.event_count() == before
    wang.shot("delivery-pick-refused")
    page.fill("#act-pick input[name=serial_number_typed]", serial.lower())
    page.click("#act-pick button")
    page.wait_for_url(re.compile(r"done=PickMachine"))
    assert serial in page.locator("#outbound-1").inner_text()
    page.select_option("#act-release select[name=serial_number]", value=serial)
    page.fill("#act-release textarea[name=reason]", "客户改选其他机器")
    page.click("#act-release button")
    page.wait_for_url(re.compile(r"done=ReleaseMachine"))
    machines = page.locator("#outbound-1").inner_text()
    assert "已释放" in machines and "客户改选其他机器" in machines
    assert page.locator("#act-pick").count() == 1                      # the line waits for a machine again
    assert "在库" in wang.open(f"/console/machines/{serial}").locator("h1 .status").inner_text()


def test_finance_returns_a_reviewed_outbound_and_the_clerk_swaps_a_dispatched_machine(person, demo_server):
    old, new = _serial(), _serial()
    for serial in (old, new):
        _receive_by_api(demo_server, serial)
    contract, number = _approved_contract(demo_server, "154000.00")
    delivery = f"/console/contracts/{contract}/delivery"
    with demo_server.as_user("sales.wang") as wang, demo_server.as_user("finance.sun") as sun:
        assert wang.post(f"/contracts/{contract}/delivery/pick", json={"serial_number": old}).status_code == 200
        assert sun.post(f"/contracts/{contract}/delivery/review", json={"outbound_no": 1}).status_code == 200
    finance = person()
    finance.sign_in("finance.sun")
    page = finance.open(delivery)
    page.click("#act-return-1 button")                                # without the reason: refused
    page.wait_for_load_state()
    assert page.locator("#act-return-1 .field.has-error").count() == 1
    page.fill("#act-return-1 textarea[name=reason]", "附件未齐")
    page.click("#act-return-1 button")
    page.wait_for_url(re.compile(r"done=ReturnOutbound"))
    assert "待审核" in page.locator("#outbound-1 h2").inner_text() and "附件未齐" in page.locator("#outbound-1").inner_text()
    page.click("#act-review-1 button")
    page.wait_for_url(re.compile(r"done=ReviewOutbound"))
    with demo_server.as_user("keeper.hf") as keeper:
        assert keeper.post(f"/contracts/{contract}/delivery/dispatch", json={"outbound_no": 1}).status_code == 200

    chen = person()
    chen.sign_in("clerk.chen")
    page = chen.open(delivery)
    assert page.locator("#act-pick, #act-release").count() == 0
    page.select_option("#act-swap select[name=old_serial]", value=old)
    page.select_option("#act-swap select[name=new_serial]", value=new)
    page.fill("#act-swap textarea[name=reason]", "交机时发现液压故障")
    chen.shot("delivery-swap")
    page.click("#act-swap button")
    page.wait_for_url(re.compile(r"done=SwapMachine"))
    swaps = page.locator("#swaps tbody tr")
    assert swaps.count() == 1 and old in swaps.inner_text() and new in swaps.inner_text()
    assert "交机时发现液压故障" in swaps.inner_text() and "clerk.chen" in swaps.inner_text()
    assert "已换出" in page.locator("#outbound-1 tr", has_text=old).inner_text()
    machine = chen.open(f"/console/machines/{old}")
    assert "在库" in machine.locator("h1 .status").inner_text()
    passage = machine.locator("#machine-contracts tbody tr")
    assert number in passage.inner_text() and "交机时发现液压故障" in passage.inner_text()
    assert "已出库" in chen.open(f"/console/machines/{new}").locator("h1 .status").inner_text()


def test_another_companys_machines_and_anothers_deliveries_are_absent(person, demo_server):
    contract, number = _approved_contract(demo_server, "153000.00")
    cz = person()
    cz.sign_in("keeper.cz")
    before = demo_server.store.event_count()
    page = cz.open("/console/machines?page_size=100")
    listed = page.locator("#machines").inner_text()
    assert "CZ" in listed and "HF" not in listed and "SY215C-0011" not in listed
    assert cz.open("/console/machines?serial=SY215C-0011").locator("#machines").count() == 0
    page = cz.open("/console/machines/SY215C-0011")
    assert page.locator("h1").inner_text() == "未找到"
    cz.shot("machine-not-yours")
    forced = cz.post_raw("/console/machines/SY215C-0011/transfer",
                         {"_csrf": _csrf(page), "_form_key": "forcedtransfer01", "to_warehouse_id": HF_MAIN,
                          "reason": "forced"})
    assert forced.status == 404
    exported = cz.page.request.get(cz.base_url + "/console/machines/export.csv?serial=SY215C-0011")
    assert exported.text().strip().splitlines()[1:] == []                       # the header only
    assert number not in cz.open("/console/outbounds").content()
    assert cz.open(f"/console/contracts/{contract}/delivery").locator("h1").inner_text() == "未找到"
    li = person()
    li.sign_in("sales.li")
    assert number not in li.open("/console/outbounds").content()
    page = li.open(f"/console/contracts/{contract}/delivery")
    assert page.locator("h1").inner_text() == "未找到"
    forced = li.post_raw(f"/console/contracts/{contract}/delivery/pick",
                         {"_csrf": _csrf(page), "_form_key": "forcedpick000001", "serial_number": "SY215C-0011"})
    assert forced.status == 404
    assert demo_server.store.event_count() == before
    tech = person()
    tech.sign_in("tech.zhou")
    assert tech.open("/console/machines").locator("h1").inner_text() == "无权操作"


def test_the_stock_list_reads_on_a_phone(person):
    keeper = person(width=390)
    keeper.sign_in("keeper.hf")
    page = keeper.open("/console/machines?status=in_stock&page_size=20")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    keeper.shot("machines-phone", full_page=False)
