"""Delivery of approved contracts over HTTP (交机出库), each act by the role that does it.

The demo (interfaces/demo.py) gives the people: sales.wang and sales.li sell in
Hefei and never see each other's contracts; clerk.chen prepares outbounds and
swaps machines; finance.sun (whole group) reviews outbounds; keeper.hf dispatches
Hefei outbounds; manager.zhao approves (alone below 300000.00) and un-approves;
risk.manager sees Chuzhou + Chizhou only.

The demo server is shared by the whole session: every test receives machines
with serial numbers of its own and drafts contracts of its own, and never counts
shared data. Queries are asked with ``after`` = the position of the command
whose effect they must show.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import (
    CZ_MAIN,
    FORMAL,
    HF,
    HF_MAIN,
    LG855,
    SY215C,
    XE60,
    Server,
    assert_problem,
    every,
    nothing_recorded,
    ok,
    unique,
)

HAMMER = {"name": "Breaker hammer", "quantity": 1, "unit_price": "2500.00"}


# ------------------------------------------------------------------ helpers
def user(server: Server, username: str) -> httpx.Client:
    return server.as_admin() if username == "admin" else server.as_user(username)


def receive(server: Server, model: str = XE60, warehouse: str = HF_MAIN, prefix: str = "XE60") -> str:
    """A unit of our own, in stock; answers its serial number."""
    serial = unique(prefix)
    with server.as_admin() as admin:
        ok(admin.post("/machines/receive", json={"serial_number": serial, "model_id": model, "warehouse_id": warehouse,
                                                 "nature": "purchased_sample"}), 201)
    return serial


class Deal:
    """A contract of one salesperson's (sales.wang unless told), one line of one unit,
    taken as far as asked by the roles that do each step."""

    def __init__(self, server: Server, model: str = XE60, price: str = "150000.00", accessories: tuple = (HAMMER,),
                 stage: str = "approved", owner: str = "sales.wang") -> None:
        self.server = server
        with server.as_user(owner) as seller:
            customer = ok(seller.post("/customers", json={"company_id": HF, "name": unique("Delivery customer "),
                                                          "kind": "organisation", "customer_type_id": FORMAL}), 201)
            drafted = ok(seller.post("/contracts", json={
                "company_id": HF, "customer_id": customer["customer_id"],
                "lines": [{"model_id": model, "quantity": 1, "unit_price": price}]}), 201)
            self.id: str = drafted["contract_id"]
            self.number: str = drafted["number"]
            self.position: int = drafted["position"]
            if stage == "draft":
                return
            self.position = ok(seller.post(f"/contracts/{self.id}/submit-to-clerk"))["position"]
        with server.as_user("clerk.chen") as chen:
            ok(chen.post(f"/contracts/{self.id}/complete-terms",
                         json={"payment": "cash", "accessories": list(accessories)}))
            submitted = ok(chen.post(f"/contracts/{self.id}/submit-for-approval"))
        assert submitted["status"] == "in_approval", submitted
        self.position = submitted["position"]
        if stage == "in_approval":
            return
        with server.as_user("manager.zhao") as zhao:
            approved = ok(zhao.post(f"/contracts/{self.id}/approve"))
        assert approved["status"] == "approved" and approved["waiting_for"] is None, approved
        self.position = approved["position"]

    @property
    def delivery(self) -> str:
        return f"/contracts/{self.id}/delivery"

    def do(self, username: str, verb: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        with user(self.server, username) as client:
            done = ok(client.post(f"{self.delivery}/{verb}", json=body))
        self.position = done["position"]
        return done

    def picked(self, serial: str) -> Deal:
        self.do("sales.wang", "pick", {"serial_number": serial})
        return self

    def reviewed(self, outbound_no: int = 1) -> Deal:
        self.do("finance.sun", "review", {"outbound_no": outbound_no})
        return self

    def dispatched(self, outbound_no: int = 1) -> Deal:
        self.do("keeper.hf", "dispatch", {"outbound_no": outbound_no})
        return self

    def deliveries(self, username: str = "clerk.chen", after: int | None = None) -> dict[str, Any]:
        with user(self.server, username) as client:
            return ok(client.get(self.delivery, params={"after": after or self.position}))


def machine(server: Server, serial: str, after: int) -> dict[str, Any]:
    with server.as_user("clerk.chen") as chen:
        return ok(chen.get(f"/machines/{serial}", params={"after": after}))


def machine_history(server: Server, serial: str) -> dict[str, Any]:
    with server.as_user("clerk.chen") as chen:
        return ok(chen.get(f"/machines/{serial}/history"))


def contract_events(server: Server, contract_id: str) -> list[str]:
    with server.as_user("clerk.chen") as chen:
        return [e["event"] for e in ok(chen.get(f"/contracts/{contract_id}/history"))["events"]]


def outbound_rows(server: Server, username: str, contract_id: str, after: int,
                  status: str | None = None) -> list[dict[str, Any]]:
    """The rows of ListOutbounds for one contract, as the user sees them."""
    params = {"status": status} if status else {}
    with user(server, username) as client:
        return [o for o in every(client, "/outbounds", after, **params) if o["contract_id"] == contract_id]


def swap_rows(server: Server, username: str, contract_id: str, after: int) -> list[dict[str, Any]]:
    with user(server, username) as client:
        return [s for s in every(client, "/machine-swaps", after) if s["contract_id"] == contract_id]


def only_outbound(shown: dict[str, Any]) -> dict[str, Any]:
    assert len(shown["outbounds"]) == 1, shown
    return shown["outbounds"][0]


# ------------------------------------------------------------------ 1. the whole flow by role
def test_a_machine_is_picked_reviewed_dispatched_and_swapped_each_by_its_role(demo_server):
    server = demo_server
    deal = Deal(server)
    first, replacement = receive(server), receive(server)

    # 推选机号: the salesperson reserves a unit for his approved contract.
    picked = deal.do("sales.wang", "pick", {"serial_number": first})
    assert picked["contract_id"] == deal.id and picked["number"] == deal.number
    assert picked["outbounds"] == [{"outbound_no": 1, "status": "open", "serial_numbers": [first], "line_nos": []}]
    assert picked["machines"] == [{"serial_number": first, "line_no": 1, "outbound_no": 1, "dispatched": False}]
    assert picked["delivery_complete"] is False
    unit = machine(server, first, deal.position)
    assert (unit["status"], unit["contract_number"], unit["contract_id"]) == ("reserved", deal.number, deal.id)

    # The clerk puts the agreed breaker hammer and an extra line on the outbound.
    agreed = deal.do("clerk.chen", "accessory-lines", {"quantity": 1, "agreed_accessory_no": 1})
    assert agreed["line_no"] == 1
    extra = deal.do("clerk.chen", "accessory-lines", {"quantity": 2, "name": "Grease gun", "unit_price": "85.50"})
    assert extra["line_no"] == 2
    assert extra["outbounds"] == [{"outbound_no": 1, "status": "open", "serial_numbers": [first],
                                   "line_nos": [1, 2]}]
    outbound = only_outbound(deal.deliveries("sales.wang"))
    assert (outbound["outbound_no"], outbound["status"]) == (1, "open")
    assert [(m["serial_number"], m["status"], m["picked_by"], m["model_code"]) for m in outbound["machines"]] == \
           [(first, "picked", "sales.wang", "XE60")]
    assert [(line["line_no"], line["name"], line["quantity"], line["unit_price"], line["agreed_accessory_no"])
            for line in outbound["accessory_lines"]] == \
           [(1, "Breaker hammer", 1, "2500.00", 1), (2, "Grease gun", 2, "85.50", None)]

    # Finance's queue holds it while open; reviewed, it moves to the warehouse's queue.
    queued = outbound_rows(server, "finance.sun", deal.id, deal.position, "open")
    assert [(o["outbound_no"], o["contract_number"], o["company_code"], o["machines"], o["accessory_lines"])
            for o in queued] == [(1, deal.number, "HF", 1, 2)]
    assert outbound_rows(server, "finance.sun", deal.id, deal.position, "reviewed") == []
    reviewed = deal.do("finance.sun", "review", {"outbound_no": 1})
    assert reviewed["outbounds"][0]["status"] == "reviewed"
    assert outbound_rows(server, "finance.sun", deal.id, deal.position, "open") == []
    assert [o["outbound_no"] for o in outbound_rows(server, "keeper.hf", deal.id, deal.position, "reviewed")] == [1]
    assert machine(server, first, deal.position)["status"] == "reserved"

    # 出库发车 by the Hefei warehouse keeper: the unit is out under the contract.
    dispatched = deal.do("keeper.hf", "dispatch", {"outbound_no": 1})
    assert dispatched["outbounds"][0]["status"] == "dispatched"
    assert dispatched["machines"] == [{"serial_number": first, "line_no": 1, "outbound_no": 1, "dispatched": True}]
    assert dispatched["delivery_complete"] is True
    unit = machine(server, first, deal.position)
    assert (unit["status"], unit["contract_number"]) == ("out", deal.number)
    outbound = only_outbound(deal.deliveries("keeper.hf"))
    assert (outbound["status"], outbound["reviewed_by"], outbound["dispatched_by"]) == \
           ("dispatched", "finance.sun", "keeper.hf")
    assert outbound["reviewed_on"] is not None and outbound["dispatched_on"] is not None
    assert [(m["serial_number"], m["status"]) for m in outbound["machines"]] == [(first, "dispatched")]
    assert outbound_rows(server, "keeper.hf", deal.id, deal.position, "reviewed") == []
    assert [o["outbound_no"] for o in outbound_rows(server, "finance.sun", deal.id, deal.position, "dispatched")] \
        == [1]

    # 销售换机: the clerk swaps the unit for another, with the reason.
    reason = unique("Hydraulic fault on delivery ")
    swapped = deal.do("clerk.chen", "swap", {"old_serial": first, "new_serial": replacement, "reason": reason})
    assert swapped["machines"] == [{"serial_number": replacement, "line_no": 1, "outbound_no": 1,
                                    "dispatched": True}]
    assert swapped["delivery_complete"] is True
    old, new = machine(server, first, deal.position), machine(server, replacement, deal.position)
    assert (old["status"], old["contract_number"], old["contract_id"], old["warehouse_id"]) == \
           ("in_stock", None, None, HF_MAIN)
    assert (new["status"], new["contract_number"], new["contract_id"]) == ("out", deal.number, deal.id)

    swaps = swap_rows(server, "clerk.chen", deal.id, deal.position)
    assert [(s["contract_number"], s["swap_no"], s["line_no"], s["old_serial"], s["new_serial"], s["swapped_by"],
             s["reason"]) for s in swaps] == [(deal.number, 1, 1, first, replacement, "clerk.chen", reason)]
    assert swaps[0]["swapped_on"] is not None
    shown = deal.deliveries("sales.wang")
    assert [(s["old_serial"], s["new_serial"], s["swapped_by"], s["reason"]) for s in shown["swaps"]] == \
           [(first, replacement, "clerk.chen", reason)]
    outbound = only_outbound(shown)
    assert [(m["serial_number"], m["status"], m["end_reason"]) for m in outbound["machines"]] == \
           [(first, "swapped_out", reason), (replacement, "dispatched", None)]

    passages = machine_history(server, first)["contracts"]
    assert len(passages) == 1, passages
    passage = passages[0]
    assert (passage["contract_id"], passage["contract_number"], passage["reason"]) == (deal.id, deal.number, reason)
    assert passage["reserved_on"] and passage["dispatched_on"] and passage["swapped_out_on"]
    assert passage["released_on"] is None
    assert [(c["contract_number"], c["swapped_in_on"] is not None) for c in
            machine_history(server, replacement)["contracts"]] == [(deal.number, True)]

    # The unit that came back is in stock like any other: another contract may pick it.
    other = Deal(server)
    again = other.do("sales.wang", "pick", {"serial_number": first})
    assert again["machines"][0]["serial_number"] == first
    unit = machine(server, first, other.position)
    assert (unit["status"], unit["contract_number"]) == ("reserved", other.number)
    assert [c["contract_number"] for c in machine_history(server, first)["contracts"]] == [deal.number, other.number]


def test_a_pick_undone_with_a_reason_frees_the_unit_for_another_contract(demo_server):
    server = demo_server
    serial = receive(server)
    deal = Deal(server).picked(serial)
    reason = unique("Customer wants a newer unit ")
    released = deal.do("sales.wang", "release", {"serial_number": serial, "reason": reason})
    assert released["machines"] == [] and released["outbounds"][0]["serial_numbers"] == []
    unit = machine(server, serial, deal.position)
    assert (unit["status"], unit["contract_number"]) == ("in_stock", None)
    outbound = only_outbound(deal.deliveries("sales.wang"))
    assert outbound["status"] == "open"
    assert [(m["serial_number"], m["status"], m["end_reason"]) for m in outbound["machines"]] == \
           [(serial, "released", reason)]
    assert [o["machines"] for o in outbound_rows(server, "finance.sun", deal.id, deal.position)] == [0]
    passages = machine_history(server, serial)["contracts"]
    assert [(c["contract_number"], c["released_on"] is not None, c["reason"]) for c in passages] == \
           [(deal.number, True, reason)]
    other = Deal(server).picked(serial)
    assert machine(server, serial, other.position)["contract_number"] == other.number


def test_finance_returns_a_reviewed_outbound_to_be_changed(demo_server):
    server = demo_server
    serial, better = receive(server), receive(server)
    deal = Deal(server).picked(serial).reviewed()
    with server.as_user("sales.wang") as wang, nothing_recorded(server):   # reviewed: no change any more
        assert_problem(wang.post(f"{deal.delivery}/release", json={"serial_number": serial, "reason": "swap"}),
                       409, "outbound-state")
    reason = unique("Wrong unit picked ")
    returned = deal.do("finance.sun", "return", {"outbound_no": 1, "reason": reason})
    assert returned["outbounds"][0]["status"] == "open"
    outbound = only_outbound(deal.deliveries())
    assert (outbound["status"], outbound["reviewed_by"], outbound["last_reason"]) == ("open", None, reason)
    assert [o["outbound_no"] for o in outbound_rows(server, "finance.sun", deal.id, deal.position, "open")] == [1]
    with server.as_user("finance.sun") as sun, nothing_recorded(server):  # open again: nothing to return
        assert_problem(sun.post(f"{deal.delivery}/return", json={"outbound_no": 1, "reason": "again"}), 409,
                       "outbound-state")
    deal.do("sales.wang", "release", {"serial_number": serial, "reason": reason})
    deal.picked(better).reviewed().dispatched()
    outbound = only_outbound(deal.deliveries())
    assert outbound["status"] == "dispatched"
    assert [(m["serial_number"], m["status"]) for m in outbound["machines"]] == \
           [(serial, "released"), (better, "dispatched")]
    assert [machine(server, s, deal.position)["status"] for s in (serial, better)] == ["in_stock", "out"]


# ------------------------------------------------------------------ 2. out of order: 409, nothing recorded
def test_dispatch_before_finance_review_is_refused(demo_server):
    server = demo_server
    serial = receive(server)
    deal = Deal(server).picked(serial)
    with server.as_user("keeper.hf") as keeper, nothing_recorded(server):
        problem = assert_problem(keeper.post(f"{deal.delivery}/dispatch", json={"outbound_no": 1}), 409,
                                 "outbound-state")
    assert "open" in problem["detail"], problem
    outbound = only_outbound(deal.deliveries())
    assert outbound["status"] == "open" and outbound["dispatched_on"] is None
    assert [m["status"] for m in outbound["machines"]] == ["picked"]
    assert machine(server, serial, deal.position)["status"] == "reserved"


def test_review_of_an_empty_outbound_is_refused(demo_server):
    server = demo_server
    deal = Deal(server)
    deal.do("clerk.chen", "accessory-lines", {"quantity": 1, "name": "Tool kit", "unit_price": "0.00"})
    deal.do("clerk.chen", "accessory-lines/1/remove")
    assert only_outbound(deal.deliveries())["accessory_lines"] == []
    with server.as_user("finance.sun") as sun, nothing_recorded(server):
        assert_problem(sun.post(f"{deal.delivery}/review", json={"outbound_no": 1}), 409, "outbound-state")
    outbound = only_outbound(deal.deliveries())
    assert (outbound["status"], outbound["reviewed_by"]) == ("open", None)
    assert outbound_rows(server, "finance.sun", deal.id, deal.position, "reviewed") == []


def test_swap_before_dispatch_is_refused(demo_server):
    server = demo_server
    serial, other = receive(server), receive(server)
    deal = Deal(server).picked(serial).reviewed()
    with server.as_user("clerk.chen") as chen, nothing_recorded(server):
        assert_problem(chen.post(f"{deal.delivery}/swap", json={"old_serial": serial, "new_serial": other,
                                                                "reason": "too early"}), 409, "outbound-state")
    assert machine(server, serial, deal.position)["status"] == "reserved"
    assert machine(server, other, deal.position)["status"] == "in_stock"
    shown = deal.deliveries()
    assert shown["swaps"] == [] and only_outbound(shown)["status"] == "reviewed"
    assert swap_rows(server, "clerk.chen", deal.id, deal.position) == []


def test_a_swapped_out_unit_comes_back_only_to_a_main_warehouse(demo_server, demo):
    server = demo_server
    serial, other = receive(server), receive(server)
    deal = Deal(server).picked(serial).reviewed().dispatched()
    body = {"old_serial": serial, "new_serial": other, "reason": "fault",
            "return_warehouse_id": demo["warehouses"][("HF", "PARTS")]}
    with server.as_user("clerk.chen") as chen:
        with nothing_recorded(server):
            assert_problem(chen.post(f"{deal.delivery}/swap", json=body), 422, "warehouse-cannot-hold-machines")
        with nothing_recorded(server):   # a Chuzhou warehouse is out of the Hefei clerk's sight
            assert_problem(chen.post(f"{deal.delivery}/swap", json={**body, "return_warehouse_id": CZ_MAIN}), 404,
                           "warehouse-not-found")
    assert [machine(server, s, deal.position)["status"] for s in (serial, other)] == ["out", "in_stock"]
    assert deal.deliveries()["swaps"] == []


def test_release_after_dispatch_is_refused(demo_server):
    server = demo_server
    serial = receive(server)
    deal = Deal(server).picked(serial).reviewed().dispatched()
    with server.as_user("sales.wang") as wang, nothing_recorded(server):
        problem = assert_problem(wang.post(f"{deal.delivery}/release", json={"serial_number": serial,
                                                                             "reason": "changed my mind"}),
                                 409, "outbound-state")
    assert "swap" in problem["detail"], problem
    unit = machine(server, serial, deal.position)
    assert (unit["status"], unit["contract_number"]) == ("out", deal.number)
    assert [m["status"] for m in only_outbound(deal.deliveries())["machines"]] == ["dispatched"]


def test_pick_on_a_contract_not_approved_is_refused(demo_server):
    server = demo_server
    serial = receive(server)
    deal = Deal(server, stage="in_approval")
    with server.as_user("sales.wang") as wang, nothing_recorded(server):
        problem = assert_problem(wang.post(f"{deal.delivery}/pick", json={"serial_number": serial}), 409,
                                 "contract-state")
    assert "in_approval" in problem["detail"], problem
    assert (machine(server, serial, deal.position)["status"]) == "in_stock"
    assert deal.deliveries()["outbounds"] == []


def test_pick_of_a_unit_reserved_by_another_contract_names_that_contract(demo_server):
    server = demo_server
    serial = receive(server)
    holder = Deal(server).picked(serial)
    late = Deal(server)
    with server.as_user("sales.wang") as wang, nothing_recorded(server):
        problem = assert_problem(wang.post(f"{late.delivery}/pick", json={"serial_number": serial}), 409,
                                 "machine-already-reserved")
    assert holder.number in problem["detail"] and serial in problem["detail"], problem
    assert late.deliveries()["outbounds"] == []
    unit = machine(server, serial, late.position)
    assert (unit["status"], unit["contract_number"]) == ("reserved", holder.number)


def test_pick_of_a_unit_of_another_model_is_refused(demo_server):
    server = demo_server
    loader = receive(server, LG855, prefix="LG855")
    excavator = receive(server, SY215C, prefix="SY215C")
    deal = Deal(server, model=XE60)
    with server.as_user("sales.wang") as wang:
        for serial in (loader, excavator):   # no substitute allowed: another excavator model does not fit either
            with nothing_recorded(server):
                problem = assert_problem(wang.post(f"{deal.delivery}/pick", json={"serial_number": serial}), 409,
                                         "machine-does-not-fit-contract", serial)
            assert serial in problem["detail"], problem
    assert deal.deliveries()["outbounds"] == []
    assert [machine(server, s, deal.position)["status"] for s in (loader, excavator)] == ["in_stock", "in_stock"]


def test_picks_and_swaps_that_do_not_fit_are_refused_and_record_nothing(demo_server):
    server = demo_server
    serial, second, loader, held = receive(server), receive(server), receive(server, LG855, prefix="LG855"), \
        receive(server)
    holder = Deal(server).picked(held)
    deal = Deal(server).picked(serial).reviewed().dispatched()
    open_deal = Deal(server)
    unknown = unique("XE60NONE")
    cases = [
        # every unit the contract sells is already picked
        ("sales.wang", f"{deal.delivery}/pick", {"serial_number": second}, 409, "machine-does-not-fit-contract"),
        # the contract has one line only
        ("sales.wang", f"{open_deal.delivery}/pick", {"serial_number": second, "line_no": 2}, 422,
         "invalid-value"),
        ("sales.wang", f"{open_deal.delivery}/pick", {"serial_number": unknown}, 404, "machine-unit-not-found"),
        ("sales.wang", f"{deal.delivery}/release", {"serial_number": second, "reason": "not mine"}, 409,
         "machine-not-on-contract"),
        ("finance.sun", f"{deal.delivery}/review", {"outbound_no": 2}, 404, "outbound-not-found"),
        ("keeper.hf", f"{deal.delivery}/dispatch", {"outbound_no": 1}, 409, "outbound-state"),   # already out
        ("keeper.hf", f"{deal.delivery}/dispatch", {"outbound_no": 7}, 404, "outbound-not-found"),
        ("clerk.chen", f"{deal.delivery}/swap", {"old_serial": second, "new_serial": serial, "reason": "x"}, 409,
         "machine-not-on-contract"),
        ("clerk.chen", f"{deal.delivery}/swap", {"old_serial": serial, "new_serial": loader, "reason": "x"}, 409,
         "machine-does-not-fit-contract"),
        ("clerk.chen", f"{deal.delivery}/swap", {"old_serial": serial, "new_serial": held, "reason": "x"}, 409,
         "machine-already-reserved"),
        ("clerk.chen", f"{deal.delivery}/swap", {"old_serial": serial, "new_serial": serial, "reason": "x"}, 409,
         None),
        ("clerk.chen", f"{deal.delivery}/swap", {"old_serial": serial, "new_serial": unknown, "reason": "x"}, 404,
         "machine-unit-not-found"),
        # out of sight: the Chuzhou keeper and the Chuzhou/Chizhou risk manager (finance) see no Hefei contract
        ("keeper.cz", f"{holder.delivery}/dispatch", {"outbound_no": 1}, 404, "contract-not-found"),
        ("risk.manager", f"{holder.delivery}/review", {"outbound_no": 1}, 404, "contract-not-found"),
    ]
    for username, url, body, status, code in cases:
        with user(server, username) as client, nothing_recorded(server):
            problem = assert_problem(client.post(url, json=body), status, code, f"{username} POST {url} {body}")
        if code == "machine-already-reserved":
            assert holder.number in problem["detail"], problem
    assert [machine(server, s, deal.position)["status"] for s in (serial, second, loader, held)] == \
           ["out", "in_stock", "in_stock", "reserved"]
    assert deal.deliveries()["swaps"] == [] and open_deal.deliveries()["outbounds"] == []
    assert only_outbound(holder.deliveries())["status"] == "open"


def test_a_sales_clerk_may_dispatch_as_well_as_the_warehouse_keeper(demo_server):
    server = demo_server
    serial = receive(server)
    deal = Deal(server).picked(serial).reviewed()
    dispatched = deal.do("clerk.chen", "dispatch", {"outbound_no": 1})
    assert dispatched["outbounds"][0]["status"] == "dispatched"
    assert only_outbound(deal.deliveries())["dispatched_by"] == "clerk.chen"
    assert machine(server, serial, deal.position)["status"] == "out"


# ------------------------------------------------------------------ 3. roles: 403
def test_each_delivery_act_is_refused_to_a_role_that_does_not_do_it(demo_server):
    server = demo_server
    serial, spare, spare_too = receive(server), receive(server), receive(server)
    picked = Deal(server).picked(serial)
    open_deal = Deal(server)
    out = Deal(server).picked(spare).reviewed().dispatched()
    cases = [
        ("sales.wang", f"{picked.delivery}/review", {"outbound_no": 1}),             # a salesperson cannot review
        ("finance.sun", f"{open_deal.delivery}/pick", {"serial_number": spare_too}),  # finance cannot pick
        ("keeper.hf", f"{out.delivery}/swap", {"old_serial": spare, "new_serial": spare_too,
                                               "reason": "keeper's idea"}),           # a keeper cannot swap
    ]
    for username, url, body in cases:
        with server.as_user(username) as client, nothing_recorded(server):
            assert_problem(client.post(url, json=body), 403, "forbidden", f"{username} POST {url}")
    assert only_outbound(picked.deliveries())["status"] == "open"
    assert open_deal.deliveries()["outbounds"] == []
    assert out.deliveries()["swaps"] == []
    assert [machine(server, s, out.position)["status"] for s in (serial, spare, spare_too)] == \
           ["reserved", "out", "in_stock"]


# ------------------------------------------------------------------ 4. data scope: 404, not listed
def test_another_salesperson_neither_sees_nor_picks_on_wangs_contract(demo_server):
    server = demo_server
    serial, spare = receive(server), receive(server)
    deal = Deal(server).picked(serial)
    with server.as_user("sales.li") as li:
        assert_problem(li.get(deal.delivery, params={"after": deal.position}), 404, "contract-not-found")
        with nothing_recorded(server):
            assert_problem(li.post(f"{deal.delivery}/pick", json={"serial_number": spare}), 404,
                           "contract-not-found")
    assert outbound_rows(server, "sales.li", deal.id, deal.position) == []
    assert [o["outbound_no"] for o in outbound_rows(server, "sales.wang", deal.id, deal.position)] == [1]
    assert machine(server, spare, deal.position)["status"] == "in_stock"
    assert [m["serial_number"] for m in only_outbound(deal.deliveries())["machines"]] == [serial]


def test_the_chuzhou_chizhou_risk_manager_does_not_see_hefei_deliveries(demo_server):
    server = demo_server
    first, second = receive(server), receive(server)
    deal = Deal(server).picked(first).reviewed().dispatched()
    deal.do("clerk.chen", "swap", {"old_serial": first, "new_serial": second, "reason": unique("Cracked boom ")})
    # Seen by those whose companies it is, so that what follows is no empty list by accident.
    assert len(outbound_rows(server, "finance.sun", deal.id, deal.position)) == 1
    assert len(swap_rows(server, "finance.sun", deal.id, deal.position)) == 1
    with server.as_user("risk.manager") as risk:
        assert_problem(risk.get(deal.delivery, params={"after": deal.position}), 404, "contract-not-found")
    assert outbound_rows(server, "risk.manager", deal.id, deal.position) == []
    assert outbound_rows(server, "risk.manager", deal.id, deal.position, "dispatched") == []
    assert swap_rows(server, "risk.manager", deal.id, deal.position) == []
    # Nor does another Hefei salesperson: the contract is wang's.
    assert outbound_rows(server, "sales.li", deal.id, deal.position) == []
    assert swap_rows(server, "sales.li", deal.id, deal.position) == []
    assert len(swap_rows(server, "sales.wang", deal.id, deal.position)) == 1


def test_a_chuzhou_unit_cannot_be_picked_for_a_hefei_contract(demo_server):
    server = demo_server
    serial = receive(server, warehouse=CZ_MAIN)
    deal = Deal(server)
    with server.as_user("sales.wang") as wang, nothing_recorded(server):   # wang cannot see Chuzhou stock
        problem = assert_problem(wang.post(f"{deal.delivery}/pick", json={"serial_number": serial}), 404,
                                 "machine-unit-not-found")
    assert serial in problem["detail"]
    with server.as_admin() as admin, nothing_recorded(server):             # the administrator sees it
        problem = assert_problem(admin.post(f"{deal.delivery}/pick", json={"serial_number": serial}), 409,
                                 "machine-does-not-fit-contract")
    assert "another member company" in problem["detail"], problem
    with server.as_admin() as admin:
        unit = ok(admin.get(f"/machines/{serial}", params={"after": deal.position}))
    assert (unit["status"], unit["company_code"], unit["contract_number"]) == ("in_stock", "CZ", None)
    assert deal.deliveries()["outbounds"] == []


# ------------------------------------------------------------------ 5. un-approval
def test_unapproving_a_contract_releases_its_undispatched_unit_and_cancels_the_outbound(demo_server):
    server = demo_server
    serial = receive(server)
    deal = Deal(server).picked(serial)
    deal.do("clerk.chen", "accessory-lines", {"quantity": 1, "agreed_accessory_no": 1})
    deal.reviewed()
    reason = unique("Customer changes the bucket ")
    with server.as_user("manager.zhao") as zhao:
        undone = ok(zhao.post(f"/contracts/{deal.id}/unapprove", json={"reason": reason}))
    assert undone["status"] == "with_clerk"
    deal.position = undone["position"]
    unit = machine(server, serial, deal.position)
    assert (unit["status"], unit["contract_number"], unit["contract_id"]) == ("in_stock", None, None)
    outbound = only_outbound(deal.deliveries())
    assert outbound["status"] == "cancelled"
    assert [(m["serial_number"], m["status"]) for m in outbound["machines"]] == [(serial, "released")]
    assert [o["status"] for o in outbound_rows(server, "finance.sun", deal.id, deal.position)] == ["cancelled"]
    assert outbound_rows(server, "keeper.hf", deal.id, deal.position, "reviewed") == []
    passages = machine_history(server, serial)["contracts"]
    assert [(c["contract_number"], c["released_on"] is not None, c["reason"]) for c in passages] == \
           [(deal.number, True, reason)]
    # Released, the unit is anybody's again.
    other = Deal(server).picked(serial)
    assert machine(server, serial, other.position)["contract_number"] == other.number
    # Approved again, the contract delivers on a new outbound; the cancelled one's hammer no longer counts.
    with server.as_user("clerk.chen") as chen:
        ok(chen.post(f"/contracts/{deal.id}/submit-for-approval"))
    with server.as_user("manager.zhao") as zhao:
        assert ok(zhao.post(f"/contracts/{deal.id}/approve"))["status"] == "approved"
    fresh_unit = receive(server)
    deal.picked(fresh_unit)
    added = deal.do("clerk.chen", "accessory-lines", {"quantity": 1, "agreed_accessory_no": 1})
    assert [(o["outbound_no"], o["status"]) for o in added["outbounds"]] == [(1, "cancelled"), (2, "open")]
    shown = deal.deliveries()
    assert [(o["outbound_no"], o["status"], [m["serial_number"] for m in o["machines"]]) for o in
            shown["outbounds"]] == [(1, "cancelled", [serial]), (2, "open", [fresh_unit])]
    assert [line["agreed_accessory_no"] for line in shown["outbounds"][1]["accessory_lines"]] == [1]


def test_unapproving_a_contract_with_a_dispatched_unit_is_refused(demo_server):
    server = demo_server
    serial = receive(server)
    deal = Deal(server).picked(serial).reviewed().dispatched()
    with server.as_user("manager.zhao") as zhao, nothing_recorded(server):
        problem = assert_problem(zhao.post(f"/contracts/{deal.id}/unapprove", json={"reason": "too late"}), 409,
                                 "contract-already-started")
    assert serial in problem["detail"], problem
    with server.as_user("clerk.chen") as chen:
        assert ok(chen.get(f"/contracts/{deal.id}", params={"after": deal.position}))["status"] == "approved"
    unit = machine(server, serial, deal.position)
    assert (unit["status"], unit["contract_number"]) == ("out", deal.number)
    assert only_outbound(deal.deliveries())["status"] == "dispatched"


# ------------------------------------------------------------------ 6. bad input: 400, never 500
def test_bad_delivery_input_is_a_400_problem_and_records_nothing(demo_server):
    server = demo_server
    serial, spare = receive(server), receive(server)
    deal = Deal(server).picked(serial).reviewed().dispatched()
    open_deal = Deal(server)
    d, o = deal.delivery, open_deal.delivery
    cases = [
        ("sales.wang", f"{o}/pick", {"serial_number": spare, "colour": "red"}),
        ("sales.wang", f"{o}/pick", {"serial_number": spare, "contract_id": open_deal.id}),
        ("sales.wang", f"{o}/pick", {}),
        ("sales.wang", f"{o}/pick", {"serial_number": ""}),
        ("sales.wang", f"{o}/pick", {"serial_number": "XE60;DROP TABLE"}),
        ("sales.wang", f"{o}/pick", {"serial_number": "XE60<script>"}),
        ("sales.wang", f"{o}/pick", {"serial_number": "X" * 41}),
        ("sales.wang", f"{o}/pick", {"serial_number": 12345}),
        ("sales.wang", f"{o}/pick", {"serial_number": spare, "line_no": 0}),
        ("sales.wang", f"{o}/pick", [spare]),
        ("sales.wang", f"{o}/release", {"serial_number": spare}),
        ("sales.wang", f"{o}/release", {"serial_number": spare, "reason": ""}),
        ("sales.wang", f"{o}/release", {"serial_number": spare, "reason": "x" * 501}),
        ("sales.wang", f"{o}/release", {"serial_number": spare, "reason": "bad\x00byte"}),
        ("clerk.chen", f"{o}/accessory-lines", {"quantity": 0, "agreed_accessory_no": 1}),
        ("clerk.chen", f"{o}/accessory-lines", {"quantity": -1, "name": "Bucket", "unit_price": "10.00"}),
        ("clerk.chen", f"{o}/accessory-lines", {"quantity": 1001, "name": "Bucket", "unit_price": "10.00"}),
        ("clerk.chen", f"{o}/accessory-lines", {"name": "Bucket", "unit_price": "10.00"}),
        ("clerk.chen", f"{o}/accessory-lines", {"quantity": 1, "name": "Bucket", "unit_price": "abc"}),
        ("clerk.chen", f"{o}/accessory-lines", {"quantity": 1, "agreed_accessory_no": 1, "discount": "5.00"}),
        ("finance.sun", f"{d}/review", {"outbound_no": 0}),
        ("finance.sun", f"{d}/review", {"outbound_no": "one"}),
        ("finance.sun", f"{d}/return", {"outbound_no": 1}),
        ("keeper.hf", f"{d}/dispatch", {"outbound_no": 1, "truck": "AH-12345"}),
        ("clerk.chen", f"{d}/swap", {"old_serial": serial, "new_serial": spare}),
        ("clerk.chen", f"{d}/swap", {"old_serial": serial, "new_serial": spare, "reason": "   \x07"}),
        ("clerk.chen", f"{d}/swap", {"old_serial": serial, "new_serial": "NEW/SERIAL", "reason": "fault"}),
        ("clerk.chen", f"{d}/swap", {"old_serial": serial, "new_serial": spare, "reason": "fault",
                                     "return_warehouse_id": "main"}),
        ("clerk.chen", f"{d}/swap", {"old_serial": serial, "new_serial": spare, "reason": "fault",
                                     "approved_by": "manager.zhao"}),
    ]
    for username, url, body in cases:
        with user(server, username) as client, nothing_recorded(server):
            answer = client.post(url, json=body)
            assert_problem(answer, 400, "invalid-request", f"{username} POST {url} {body!r}")
    with server.as_user("sales.wang") as wang, nothing_recorded(server):
        for raw in (b"{not json", b"", b'{"serial_number": "' + spare.encode() + b'"'):
            assert_problem(wang.post(f"{o}/pick", content=raw, headers={"Content-Type": "application/json"}),
                           400, "invalid-request", raw)
    with server.as_user("clerk.chen") as chen:
        for path, params, status, code in (
                (f"/machines/{'XE60$1'}", {}, 400, "invalid-request"),
                (f"/machines/{'XE60$1'}/history", {}, 400, "invalid-request"),
                ("/outbounds", {"status": "lost"}, 400, "invalid-request"),
                ("/outbounds", {"page_size": 0}, 400, "invalid-request"),
                ("/machine-swaps", {"swapped_from": "yesterday"}, 400, "invalid-request"),
                (o, {"after": -1}, 400, "invalid-request"),
                # Well-formed, but a period that ends before it starts: the business says no.
                ("/machine-swaps", {"swapped_from": "2026-02-01", "swapped_to": "2026-01-01"}, 422,
                 "invalid-value")):
            answer = chen.get(path, params=params)
            assert answer.status_code < 500, (path, params, answer.text)
            assert_problem(answer, status, code, f"GET {path} {params}")
    # Nothing moved.
    assert machine(server, spare, open_deal.position)["status"] == "in_stock"
    assert open_deal.deliveries()["outbounds"] == []
    assert deal.deliveries()["swaps"] == []


def test_well_formed_but_unacceptable_accessory_lines_are_refused_by_the_business_not_500(demo_server):
    """Well-formed but not acceptable: the domain says why (422, or 409 against what the
    contract agrees), never a server error."""
    server = demo_server
    deal = Deal(server)
    url = f"{deal.delivery}/accessory-lines"
    with server.as_user("clerk.chen") as chen:
        for body, status, code in (
                ({"quantity": 1}, 422, "invalid-value"),
                ({"quantity": 1, "name": "Bucket"}, 422, "invalid-value"),
                ({"quantity": 1, "agreed_accessory_no": 2}, 422, "invalid-value"),
                ({"quantity": 1, "agreed_accessory_no": 1, "name": "Other hammer"}, 422, "invalid-value"),
                ({"quantity": 2, "agreed_accessory_no": 1}, 409, "accessory-over-delivered")):
            with nothing_recorded(server):
                assert_problem(chen.post(url, json=body), status, code, body)
    assert deal.deliveries()["outbounds"] == []


# ------------------------------------------------------------------ 7. idempotency
def test_a_pick_retried_with_the_same_idempotency_key_is_recorded_once(demo_server):
    server = demo_server
    serial = receive(server)
    deal = Deal(server)
    key = unique("pick-")
    url = f"{deal.delivery}/pick"
    with server.as_user("sales.wang") as wang:
        before = server.store.event_count()
        first = wang.post(url, json={"serial_number": serial}, headers={"Idempotency-Key": key})
        assert first.status_code == 200, first.text
        recorded = server.store.event_count() - before
        assert recorded == 3, recorded   # the contract's pick, the unit's reservation, the command record
        assert first.headers.get("Idempotent-Replayed") is None
        with nothing_recorded(server):
            second = wang.post(url, json={"serial_number": serial}, headers={"Idempotency-Key": key})
            assert second.status_code == 200, second.text
            assert second.json() == first.json()
            assert second.headers.get("Idempotent-Replayed") == "true"
            # The same key for another request is refused, not replayed.
            assert_problem(wang.post(url, json={"serial_number": receive_free_serial()},
                                     headers={"Idempotency-Key": key}), 422, "idempotency-key-reused")
        # Without the key, a second pick of the same unit is the business answer: already picked.
        with nothing_recorded(server):
            assert_problem(wang.post(url, json={"serial_number": serial}), 409, "machine-already-picked")
    deal.position = first.json()["position"]
    outbound = only_outbound(deal.deliveries())
    assert [m["serial_number"] for m in outbound["machines"]] == [serial]
    assert contract_events(server, deal.id).count("Contract.MachinePicked") == 1
    events = [e["event"] for e in machine_history(server, serial)["events"]]
    assert events.count("MachineUnit.Reserved") == 1
    unit = machine(server, serial, deal.position)
    assert (unit["status"], unit["contract_number"]) == ("reserved", deal.number)


def receive_free_serial() -> str:
    """A well-formed serial no unit has: the request differs from the first one under the key."""
    return unique("XE60NONE")
