"""Demo data: the group of SCENARIO.md (Hefei, Chuzhou, Chizhou), its warehouses,
models, about fifty machines and users with different scopes. Loading it twice
changes nothing (every command carries a fixed idempotency key)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from application.caller import SYSTEM, Caller
from application.sales import LineRequest
from domain import ids
from domain.access import Role, User
from domain.approvals import AmountBand, ApprovalStep, DocumentType, StepScope
from domain.contracts import AgreedAccessory, CommercialTerms, InstallmentTerms, PaymentMethod, ScheduleMethod
from domain.customers import PartyKind
from domain.machines import MachineNature
from domain.organisation import MachineType, WarehouseKind
from domain.parts import JobType, PartCategory, RequestPath, SaleChannel
from domain.collection import COLLECTION_DOCUMENTS
from domain.coupons import Coupon, CouponOrigin, HolderKind
from domain.receivables import ContactChannel, ReceiptMethod
from interfaces.composition import BackOffice

COMPANIES = [("HF", "Hefei (headquarters)"), ("CZ", "Chuzhou"), ("CHZ", "Chizhou")]
MODELS = [("SY215C", "SY215C excavator", MachineType.EXCAVATOR),
          ("XE60", "XE60 mini excavator", MachineType.EXCAVATOR),
          ("LG855", "LG855 loader", MachineType.LOADER)]
NATURES = [MachineNature.PURCHASED_SAMPLE] * 6 + [MachineNature.TRADE_IN, MachineNature.SALES_RETURN,
                                                   MachineNature.LEASE_RETURN, MachineNature.REPOSSESSED]
DEMO_PASSWORD = "demo-pass-2026"
LAST_DEMO_COUPON = "GIFT-2026-001"     # the demo's last fact: once it exists, the demo is loaded

# username, display name, roles, positions
USERS = [
    ("risk.manager", "Group risk manager (Chuzhou + Chizhou)", [Role.APPROVER, Role.FINANCE], ["Risk Chuzhou+Chizhou"]),
    ("sales.wang", "Wang, salesperson Hefei", [Role.SALESPERSON], ["Hefei"]),
    ("sales.li", "Li, salesperson Hefei", [Role.SALESPERSON], ["Hefei"]),
    ("clerk.chen", "Chen, sales clerk Hefei", [Role.SALES_CLERK], ["Hefei"]),
    ("manager.zhao", "Zhao, sales manager Hefei", [Role.APPROVER], ["Hefei"]),
    ("finance.sun", "Sun, finance", [Role.FINANCE], ["Whole group"]),
    ("keeper.hf", "Warehouse keeper Hefei", [Role.WAREHOUSE_KEEPER], ["Hefei"]),
    ("keeper.cz", "Warehouse keeper Chuzhou", [Role.WAREHOUSE_KEEPER], ["Chuzhou"]),
    ("collector.zhang", "Zhang, collector", [Role.COLLECTOR], ["Whole group"]),
    ("tech.zhou", "Technician Zhou", [Role.TECHNICIAN], ["Hefei"]),
    ("auditor", "Auditor", [Role.AUDITOR], ["Whole group"]),
]


def load_demo(backoffice: BackOffice) -> list[tuple[str, str, str]]:
    """Loads the demo group; returns (username, password, what they may see). Once the whole
    demo is in (its last coupon exists), loading it again, on any later day, changes nothing."""
    org, access, stock = backoffice.organisation, backoffice.access, backoffice.stock
    backoffice.access.ensure_administrator(backoffice.settings.admin_password)
    shown = [(username, DEMO_PASSWORD, ", ".join(position_names) + " / " + ", ".join(roles))
             for username, _, roles, position_names in USERS]
    if backoffice.commands.find(ids.coupon_id(LAST_DEMO_COUPON), Coupon) is not None:
        return shown
    company: dict[str, UUID] = {}
    for code, name in COMPANIES:
        company[code] = ids.company_id(code)
        org.create_company(SYSTEM, code, name, idempotency_key=f"demo:company:{code}")
    main: dict[str, UUID] = {}
    for code, _ in COMPANIES:
        main[code] = ids.warehouse_id(company[code], "MAIN")
        org.create_warehouse(SYSTEM, company[code], "MAIN", f"{code} main warehouse", WarehouseKind.MAIN,
                             idempotency_key=f"demo:warehouse:{code}:MAIN")
    org.create_warehouse(SYSTEM, company["HF"], "PARTS", "Hefei parts warehouse", WarehouseKind.PARTS,
                         idempotency_key="demo:warehouse:HF:PARTS")
    for code, name, machine_type in MODELS:
        org.register_machine_model(SYSTEM, code, name, machine_type, idempotency_key=f"demo:model:{code}")

    positions = {"Hefei": [company["HF"]], "Chuzhou": [company["CZ"]],
                 "Risk Chuzhou+Chizhou": [company["CZ"], company["CHZ"]]}
    for name, companies in positions.items():
        access.create_position(SYSTEM, name, companies, all_companies=False, idempotency_key=f"demo:position:{name}")

    for n in range(1, 51):
        company_code = ("HF", "HF", "CZ", "CHZ")[n % 4]
        model_code = MODELS[n % 3][0]
        stock.receive_machine(SYSTEM, f"{model_code}-{2026_000 + n}", ids.machine_model_id(model_code),
                              main[company_code], NATURES[n % len(NATURES)], idempotency_key=f"demo:machine:{n}")

    for username, display_name, roles, position_names in USERS:
        access.create_user(SYSTEM, username, display_name, DEMO_PASSWORD, roles=roles,
                           position_ids=[ids.position_id(p) for p in position_names],
                           idempotency_key=f"demo:user:{username}")
    # Technician Zhou's van: his mobile warehouse, his to request into and use from.
    org.create_warehouse(SYSTEM, company["HF"], "ZHOU", "Technician Zhou's mobile warehouse", WarehouseKind.MOBILE,
                         technician_name="Zhou", idempotency_key="demo:warehouse:HF:ZHOU",
                         technician_id=ids.user_id("tech.zhou"))
    load_sales(backoffice, company)
    return shown


def load_sales(backoffice: BackOffice, company: dict[str, UUID]) -> None:
    """Customer types and tags, an approval rule, customers of two salespeople, and
    contracts at every stage: the SCENARIO.md sale approved, one waiting for the
    Hefei sales manager, one with the clerk, one draft."""
    customers, contracts, rules = backoffice.customers, backoffice.contracts, backoffice.approval_rules

    def user(name: str) -> Caller:
        return backoffice.access.caller_of(backoffice.commands.get(ids.user_id(name), User, name))

    for code, name in (("FIRST", "First-time"), ("INTENDED", "Intended"), ("POTENTIAL", "Potential"),
                       ("FORMAL", "Formal")):
        customers.define_customer_type(SYSTEM, code, name, idempotency_key=f"demo:customer-type:{code}")
    for code, name in (("VIP", "Key account"), ("MINING", "Mining"), ("ROADWORKS", "Road works")):
        customers.define_customer_tag(SYSTEM, code, name, idempotency_key=f"demo:tag:{code}")
    rules.set_approval_rule(SYSTEM, DocumentType.SALES_CONTRACT, None, [
        AmountBand(Decimal("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),)),
        AmountBand(Decimal("300000.00"), (ApprovalStep("Sales manager", Role.APPROVER),
                                          ApprovalStep("Group finance", Role.FINANCE, StepScope.GROUP))),
    ], idempotency_key="demo:rule:sales-contract")

    wang, li, chen = user("sales.wang"), user("sales.li"), user("clerk.chen")
    zhao, sun = user("manager.zhao"), user("finance.sun")
    hf = company["HF"]

    def customer(owner: Caller, key: str, name: str, kind: PartyKind, type_code: str) -> UUID:
        result = customers.register_customer(owner, hf, name, kind, ids.customer_type_id(type_code),
                                             idempotency_key=f"demo:customer:{key}")
        return UUID(result.body["customer_id"])

    def contact(owner: Caller, key: str, name: str, phone: str, title: str) -> UUID:
        result = customers.register_contact(owner, hf, name, phone, title, idempotency_key=f"demo:contact:{key}")
        return UUID(result.body["contact_id"])

    earthworks = customer(wang, "earthworks", "Hefei Earthworks Construction Co.", PartyKind.ORGANISATION, "FORMAL")
    liu = contact(wang, "liu", "Liu Qiang", "138 0551 0001", "Legal representative")
    customers.tag_customer(wang, earthworks, ids.customer_tag_id("VIP"), idempotency_key="demo:tag:earthworks")
    quarry = customer(wang, "quarry", "Feidong Quarry", PartyKind.ORGANISATION, "INTENDED")
    farmer = customer(li, "farmer", "Zhang Wei (private buyer)", PartyKind.PERSON, "POTENTIAL")
    zhang = contact(li, "zhang", "Zhang Wei", "139 0551 0002", "Owner")

    sy215c, xe60 = ids.machine_model_id("SY215C"), ids.machine_model_id("XE60")

    def draft(owner: Caller, key: str, customer_id: UUID, contact_id: UUID | None, model: UUID,
              price: str) -> UUID:
        result = contracts.draft_contract(owner, hf, customer_id, contact_id, [LineRequest(model, 1, Decimal(price))],
                                          idempotency_key=f"demo:contract:{key}")
        return UUID(result.body["contract_id"])

    # SCENARIO.md: one SY215C at 380,000.00, 80,000.00 down, 12 months equal installment at 4.35 %;
    # the first installment falls due at the end of the month after today's.
    today = backoffice.commands.today()
    following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    first_due = date(following.year + following.month // 12, following.month % 12 + 1, 1) - timedelta(days=1)
    scenario = draft(wang, "scenario", earthworks, liu, sy215c, "380000.00")
    contracts.submit_to_clerk(wang, scenario, idempotency_key="demo:contract:scenario:submit")
    contracts.complete_terms(chen, scenario, CommercialTerms(
        PaymentMethod.INSTALLMENT, Decimal("80000.00"),
        InstallmentTerms(12, Decimal("0.0435"), first_due, ScheduleMethod.EQUAL_INSTALLMENT),
        Decimal("0.00"), None, (AgreedAccessory("Breaker hammer", 1, Decimal("0.00")),), ()),
        idempotency_key="demo:contract:scenario:terms")
    contracts.submit_for_approval(chen, scenario, idempotency_key="demo:contract:scenario:approval")
    contracts.approve(zhao, scenario, idempotency_key="demo:contract:scenario:approve-1")
    contracts.approve(sun, scenario, idempotency_key="demo:contract:scenario:approve-2")

    waiting = draft(wang, "quarry", quarry, None, xe60, "168000.00")
    contracts.submit_to_clerk(wang, waiting, idempotency_key="demo:contract:quarry:submit")
    contracts.complete_terms(chen, waiting, CommercialTerms(
        PaymentMethod.CASH, Decimal("0.00"), None, Decimal("8400.00"), today + timedelta(days=365), (), ()),
        idempotency_key="demo:contract:quarry:terms")
    contracts.submit_for_approval(chen, waiting, idempotency_key="demo:contract:quarry:approval")

    load_delivery(backoffice, scenario, company)
    backoffice.receivables.record_receipt(chen, scenario, Decimal("80000.00"), today, ReceiptMethod.BANK_TRANSFER,
                                          "Down payment, bank slip 0001",
                                          idempotency_key="demo:receipt:scenario:down-payment")
    overdue_sale = load_receivables(backoffice, company, earthworks)
    if overdue_sale is not None:
        load_collection(backoffice, overdue_sale)
    load_parts(backoffice, company, earthworks)
    # SCENARIO.md's promotion: Hefei Earthworks paid 1,000.00 for a coupon of 2,000.00 (spend it
    # with RecordReceipt's `coupons`); and Wang's reward to Mr Liu for referring the quarry.
    backoffice.coupons.issue_coupon(sun, "PROMO-2026-001", company["HF"], CouponOrigin.PROMOTION,
                                    HolderKind.CUSTOMER, earthworks, Decimal("2000.00"), Decimal("1000.00"), None,
                                    None, None, "Spring promotion: pay 1,000, get 2,000",
                                    idempotency_key="demo:coupon:PROMO-2026-001")
    backoffice.coupons.issue_coupon(chen, LAST_DEMO_COUPON, company["HF"], CouponOrigin.GIFT, HolderKind.CONTACT,
                                    liu, Decimal("1000.00"), Decimal("0.00"), None, None, wang.user_id,
                                    "Referral reward", "Referred Feixi Quarry to us",
                                    idempotency_key="demo:coupon:GIFT-2026-001")

    with_clerk = draft(li, "farmer", farmer, zhang, xe60, "172000.00")
    contracts.submit_to_clerk(li, with_clerk, idempotency_key="demo:contract:farmer:submit")
    draft(li, "farmer-2", farmer, zhang, sy215c, "375000.00")


def load_delivery(backoffice: BackOffice, scenario: UUID, company: dict[str, UUID]) -> None:
    """SCENARIO.md's swap: SY215C-0007 is picked for the approved sale, its breaker hammer
    put on the outbound, finance reviews it, the warehouse dispatches it, and it is
    swapped for SY215C-0011 for a hydraulic fault on delivery."""
    deliveries = backoffice.deliveries

    def user(name: str) -> Caller:
        return backoffice.access.caller_of(backoffice.commands.get(ids.user_id(name), User, name))

    for serial in ("SY215C-0007", "SY215C-0011"):
        backoffice.stock.receive_machine(SYSTEM, serial, ids.machine_model_id("SY215C"),
                                         ids.warehouse_id(company["HF"], "MAIN"), MachineNature.PURCHASED_SAMPLE,
                                         idempotency_key=f"demo:machine:{serial}")
    deliveries.pick_machine(user("sales.wang"), scenario, "SY215C-0007", idempotency_key="demo:delivery:pick")
    deliveries.add_accessory_outbound_line(user("clerk.chen"), scenario, 1, agreed_accessory_no=1,
                                           idempotency_key="demo:delivery:hammer")
    deliveries.review_outbound(user("finance.sun"), scenario, 1, idempotency_key="demo:delivery:review")
    deliveries.dispatch(user("keeper.hf"), scenario, 1, idempotency_key="demo:delivery:dispatch")
    deliveries.swap_machine(user("clerk.chen"), scenario, "SY215C-0007", "SY215C-0011",
                            "Hydraulic fault on delivery", idempotency_key="demo:delivery:swap")


def load_receivables(backoffice: BackOffice, company: dict[str, UUID], earthworks: UUID) -> UUID | None:
    """SCENARIO.md's penalty example, replayed on its own dates: Hefei's penalty rates
    (0.05 % a day from 2026-01-01, 0.06 % from 2026-04-15); a second SY215C sale to Hefei
    Earthworks approved on 2025-12-15 with the same terms; down payment, January and
    February paid on time; the March installment overdue, the daily run accruing it; a
    10,000.00 receipt of 04-10 recorded late on 04-18 and corrected; then left overdue
    to this day, for the collectors. Skipped when today is not after 2026-04-20."""
    today = backoffice.commands.today()
    if today <= date(2026, 4, 20):
        return
    receivables, contracts = backoffice.receivables, backoffice.contracts

    def user(name: str) -> Caller:
        return backoffice.access.caller_of(backoffice.commands.get(ids.user_id(name), User, name))

    wang, chen, zhao, sun = user("sales.wang"), user("clerk.chen"), user("manager.zhao"), user("finance.sun")
    clock = backoffice.commands.today
    try:
        def on(day: date) -> None:
            backoffice.commands.today = lambda: day

        on(date(2025, 12, 1))
        receivables.set_penalty_rate(SYSTEM, company["HF"], date(2026, 1, 1), Decimal("0.0005"),
                                     idempotency_key="demo:penalty-rate:HF:2026-01-01")
        receivables.set_penalty_rate(SYSTEM, company["HF"], date(2026, 4, 15), Decimal("0.0006"),
                                     idempotency_key="demo:penalty-rate:HF:2026-04-15")
        on(date(2025, 12, 15))
        sale = UUID(contracts.draft_contract(
            wang, company["HF"], earthworks, None, [LineRequest(ids.machine_model_id("SY215C"), 1,
                                                                Decimal("380000.00"))],
            idempotency_key="demo:contract:overdue").body["contract_id"])
        contracts.submit_to_clerk(wang, sale, idempotency_key="demo:contract:overdue:submit")
        contracts.complete_terms(chen, sale, CommercialTerms(
            PaymentMethod.INSTALLMENT, Decimal("80000.00"),
            InstallmentTerms(12, Decimal("0.0435"), date(2026, 1, 31), ScheduleMethod.EQUAL_INSTALLMENT),
            Decimal("0.00"), None, (), ()), idempotency_key="demo:contract:overdue:terms")
        contracts.submit_for_approval(chen, sale, idempotency_key="demo:contract:overdue:approval")
        contracts.approve(zhao, sale, idempotency_key="demo:contract:overdue:approve-1")
        contracts.approve(sun, sale, idempotency_key="demo:contract:overdue:approve-2")

        def paid(day: date, amount: str, key: str, value_date: date | None = None) -> None:
            on(day)
            receipt = receivables.record_receipt(chen, sale, Decimal(amount), value_date or day,
                                                 ReceiptMethod.BANK_TRANSFER, f"Bank slip {key}",
                                                 idempotency_key=f"demo:receipt:overdue:{key}").body["receipt_id"]
            receivables.confirm_receipt(sun, sale, UUID(receipt), idempotency_key=f"demo:confirm:overdue:{key}")

        paid(date(2025, 12, 15), "80000.00", "down-payment")
        paid(date(2026, 1, 31), "25592.97", "january")
        paid(date(2026, 2, 28), "25592.97", "february")
        on(date(2026, 4, 18))
        backoffice.accrue_penalties(SYSTEM, date(2026, 4, 17))     # the daily runs of 04-01 … 04-17
        paid(date(2026, 4, 18), "10000.00", "april-10", value_date=date(2026, 4, 10))
        # The machine of that sale went out in December.
        on(date(2025, 12, 16))
        backoffice.stock.receive_machine(SYSTEM, "SY215C-0021", ids.machine_model_id("SY215C"),
                                         ids.warehouse_id(company["HF"], "MAIN"), MachineNature.PURCHASED_SAMPLE,
                                         idempotency_key="demo:machine:SY215C-0021")
        backoffice.deliveries.pick_machine(wang, sale, "SY215C-0021", idempotency_key="demo:overdue:pick")
        backoffice.deliveries.review_outbound(sun, sale, 1, idempotency_key="demo:overdue:review")
        backoffice.deliveries.dispatch(user("keeper.hf"), sale, 1, idempotency_key="demo:overdue:dispatch")
    finally:
        backoffice.commands.today = clock
    backoffice.accrue_penalties(SYSTEM, today - timedelta(days=1))
    return sale


def load_collection(backoffice: BackOffice, overdue_sale: UUID) -> None:
    """Collection of the overdue sale: approval rules for every collection application
    (the sales manager of the company decides; from 100,000.00 the group's finance too),
    the debt given to collector.zhang, a phone call logged, and a lock application of
    its machine SY215C-0021 waiting on manager.zhao's queue."""
    def user(name: str) -> Caller:
        return backoffice.access.caller_of(backoffice.commands.get(ids.user_id(name), User, name))

    for document in COLLECTION_DOCUMENTS:
        backoffice.approval_rules.set_approval_rule(SYSTEM, document, None, [
            AmountBand(Decimal("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),)),
            AmountBand(Decimal("100000.00"), (ApprovalStep("Sales manager", Role.APPROVER),
                                              ApprovalStep("Group finance", Role.FINANCE, StepScope.GROUP))),
        ], idempotency_key=f"demo:approval-rule:{document}")
    collection, zhang = backoffice.collection, user("collector.zhang")
    collection.assign_collector(user("finance.sun"), overdue_sale, zhang.user_id,
                                idempotency_key="demo:collection:assign")
    collection.write_collection_log(zhang, overdue_sale, date(2026, 4, 21), "Mr Liu, owner of Hefei Earthworks",
                                    ContactChannel.PHONE, "Says the site has not paid him; promises part payment.",
                                    date(2026, 4, 28), Decimal("10000.00"),
                                    idempotency_key="demo:collection:log-1")
    collection.apply_lock(zhang, overdue_sale, "SY215C-0021",
                          "March installment overdue since 2026-03-31; promises not kept.",
                          idempotency_key="demo:collection:lock")


PARTS = [("OF-215C", "Engine oil filter, SY215C", "pc", PartCategory.FILTER, "45.00", "78.00"),
         ("FF-215C", "Fuel filter, SY215C", "pc", PartCategory.FILTER, "38.00", "65.00"),
         ("BT-215C", "Bucket tooth, SY215C", "pc", PartCategory.WEAR, "120.00", "198.00"),
         ("HO-15W40", "Engine oil 15W-40, 18 L", "barrel", PartCategory.OIL, "680.00", "980.00"),
         ("SK-BOOM", "Boom cylinder seal kit", "set", PartCategory.HYDRAULIC, "260.00", "420.00")]


def load_parts(backoffice: BackOffice, company: dict[str, UUID], earthworks: UUID) -> None:
    """Parts (配件) in Hefei: a catalogue of five parts; a purchase received except two seal
    kits still pending inbound; a parts sale to Hefei Earthworks shipped and partly paid,
    another submitted and waiting for keeper.hf; Technician Zhou's van filled through a
    request from the parts warehouse and a work order that used a filter; a request for
    bucket teeth waiting for the office (try HandlePartsRequest) and an emergency purchase
    on its way straight to him (he confirms it with ConfirmPartsReceipt)."""
    parts = backoffice.parts
    today = backoffice.commands.today()

    def user(name: str) -> Caller:
        return backoffice.access.caller_of(backoffice.commands.get(ids.user_id(name), User, name))

    chen, keeper, zhou = user("clerk.chen"), user("keeper.hf"), user("tech.zhou")
    hf, parts_wh, van = company["HF"], ids.warehouse_id(company["HF"], "PARTS"), ids.warehouse_id(company["HF"], "ZHOU")
    part: dict[str, UUID] = {}
    for part_no, name, unit, category, cost, price in PARTS:
        part[part_no] = ids.part_id(part_no)
        parts.register_part(chen, part_no, name, unit, category, Decimal(cost), Decimal(price),
                            idempotency_key=f"demo:part:{part_no}")

    order = parts.create_purchase_order(chen, hf, "Sany parts centre Hefei", parts_wh,
                                        [(part["OF-215C"], 20, None), (part["FF-215C"], 20, None),
                                         (part["BT-215C"], 30, None), (part["HO-15W40"], 10, None),
                                         (part["SK-BOOM"], 5, None)], idempotency_key="demo:parts:po-1")
    order_id = UUID(order.body["order_id"])
    parts.receive_purchase(keeper, order_id, {1: 20, 2: 20, 3: 30, 4: 10, 5: 3},
                           idempotency_key="demo:parts:po-1:receipt-1")

    def sale(key: str, lines: list, channel: SaleChannel) -> tuple[UUID, UUID]:
        quote = parts.create_parts_quote(chen, hf, earthworks, None, lines, today + timedelta(days=30),
                                         idempotency_key=f"demo:parts:{key}:quote")
        quote_id = UUID(quote.body["quote_id"])
        parts.agree_parts_quote(chen, quote_id, idempotency_key=f"demo:parts:{key}:agree")
        sale_id = UUID(parts.create_parts_sale(chen, quote_id, channel, parts_wh,
                                               idempotency_key=f"demo:parts:{key}:sale").body["sale_id"])
        submitted = parts.submit_parts_sale(chen, sale_id, idempotency_key=f"demo:parts:{key}:submit")
        return sale_id, UUID(submitted.body["outbound_id"])

    shipped, outbound = sale("sale-1", [(part["OF-215C"], 4, None), (part["HO-15W40"], 2, None)],
                             SaleChannel.OVERHAUL_SHOP)
    parts.ship_parts_outbound(keeper, outbound, idempotency_key="demo:parts:sale-1:ship")
    parts.record_parts_sale_receipt(chen, shipped, Decimal("1000.00"), today, ReceiptMethod.CASH,
                                    "Counter receipt 0001", idempotency_key="demo:parts:sale-1:receipt-1")
    sale("sale-2", [(part["BT-215C"], 8, Decimal("190.00"))], SaleChannel.CHANNEL_WHOLESALE)

    request = parts.request_parts(zhou, van, [(part["OF-215C"], 4), (part["FF-215C"], 2)],
                                  note="Van stock for 500-hour services", idempotency_key="demo:parts:request-1")
    request_id = UUID(request.body["request_id"])
    handled = parts.handle_parts_request(chen, request_id, RequestPath.FROM_WAREHOUSE, parts_wh,
                                         idempotency_key="demo:parts:request-1:handle")
    parts.ship_parts_outbound(keeper, UUID(handled.body["outbound_id"]), idempotency_key="demo:parts:request-1:ship")
    parts.confirm_parts_receipt(zhou, request_id, idempotency_key="demo:parts:request-1:confirm")
    work = parts.open_work_order(zhou, van, earthworks, None, "SY215C-0009", JobType.MAINTENANCE,
                                 idempotency_key="demo:parts:work-order-1")
    work_id = UUID(work.body["work_order_id"])
    parts.consume_parts(zhou, work_id, [(part["OF-215C"], 1)], idempotency_key="demo:parts:work-order-1:consume")
    parts.request_parts(zhou, van, [(part["BT-215C"], 4)], work_id, "Worn teeth found on the job",
                        idempotency_key="demo:parts:request-2")
    emergency = parts.request_parts(zhou, van, [(part["SK-BOOM"], 1)], note="Boom cylinder leaking at Feixi",
                                    idempotency_key="demo:parts:request-3")
    parts.handle_parts_request(chen, UUID(emergency.body["request_id"]), RequestPath.PURCHASE_TO_TECHNICIAN, None,
                               "Hefei Hydraulics Co", {1: Decimal("275.00")},
                               idempotency_key="demo:parts:request-3:handle")
