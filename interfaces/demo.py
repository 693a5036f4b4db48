"""Demo data: the group of SCENARIO.md (Hefei, Chuzhou, Chizhou), its warehouses,
models, about fifty machines and users with different scopes. Loading it twice
changes nothing (every command carries a fixed idempotency key)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from application.caller import SYSTEM, Caller
from application.sales import ContractLineRequest
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
from application.stock.commands import ReceiveMachine
from application.access.commands import CreatePosition, CreateUser
from application.organisation.commands import CreateCompany, CreateWarehouse, RegisterMachineModel
from application.coupons.commands import IssueCoupon
from application.delivery.commands import AddAccessoryOutboundLine, DispatchMachine, PickMachine, ReviewOutbound, SwapMachine
from application.parts.commands import (
    AgreePartsQuote,
    ConfirmPartsReceipt,
    ConsumeParts,
    CreatePart,
    CreatePartsQuote,
    CreatePartsSale,
    CreatePurchaseOrder,
    HandlePartsRequest,
    LinePriceRequest,
    OpenWorkOrder,
    PartLineRequest,
    PartQuantityRequest,
    ReceivedLineRequest,
    ReceivePurchase,
    RecordPartsSaleReceipt,
    RequestParts,
    ShipPartsOutbound,
    SubmitPartsSale,
)
from application.sales.commands import CompleteContractTerms
from application.approvals.commands import SetApprovalRule
from application.sales.commands import ApproveContract, CreateContact, CreateCustomer, DefineCustomerTag, DefineCustomerType, DraftContract, SubmitContractForApproval, SubmitContractToClerk, TagCustomer
from application.receivables.commands import ConfirmReceipt, RecordReceipt, SetPenaltyRate
from application.collection.commands import ApplyLock, AssignCollector, WriteCollectionLog

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
    backoffice.access.ensure_administrator(backoffice.settings.admin_password)
    shown = [(username, DEMO_PASSWORD, ", ".join(position_names) + " / " + ", ".join(roles))
             for username, _, roles, position_names in USERS]
    if backoffice.commands.find(ids.coupon_id(LAST_DEMO_COUPON), Coupon) is not None:
        return shown
    company: dict[str, UUID] = {}
    for code, name in COMPANIES:
        company[code] = ids.company_id(code)
        backoffice.execute(SYSTEM, CreateCompany(code=code, name=name), f"demo:company:{code}")
    main: dict[str, UUID] = {}
    for code, _ in COMPANIES:
        main[code] = ids.warehouse_id(company[code], "MAIN")
        backoffice.execute(SYSTEM, CreateWarehouse(
            company_id=company[code], code="MAIN", name=f"{code} main warehouse", kind=WarehouseKind.MAIN),
            f"demo:warehouse:{code}:MAIN")
    backoffice.execute(SYSTEM, CreateWarehouse(
        company_id=company["HF"], code="PARTS", name="Hefei parts warehouse", kind=WarehouseKind.PARTS),
        "demo:warehouse:HF:PARTS")
    for code, name, machine_type in MODELS:
        backoffice.execute(SYSTEM, RegisterMachineModel(
            code=code, name=name, machine_type=machine_type), f"demo:model:{code}")

    positions = {"Hefei": [company["HF"]], "Chuzhou": [company["CZ"]],
                 "Risk Chuzhou+Chizhou": [company["CZ"], company["CHZ"]]}
    for name, companies in positions.items():
        backoffice.execute(SYSTEM, CreatePosition(
            name=name, company_ids=companies, all_companies=False), f"demo:position:{name}")

    for n in range(1, 51):
        company_code = ("HF", "HF", "CZ", "CHZ")[n % 4]
        model_code = MODELS[n % 3][0]
        backoffice.execute(SYSTEM, ReceiveMachine(
            serial_number=f"{model_code}-{2026_000 + n}", model_id=ids.machine_model_id(model_code),
            warehouse_id=main[company_code], nature=NATURES[n % len(NATURES)]), f"demo:machine:{n}")

    for username, display_name, roles, position_names in USERS:
        backoffice.execute(SYSTEM, CreateUser(
            username=username, display_name=display_name, password=DEMO_PASSWORD, roles=roles,
            position_ids=[ids.position_id(p) for p in position_names]), f"demo:user:{username}")
    # Technician Zhou's van: his mobile warehouse, his to request into and use from.
    backoffice.execute(SYSTEM, CreateWarehouse(
        company_id=company["HF"], code="ZHOU", name="Technician Zhou's mobile warehouse",
        kind=WarehouseKind.MOBILE, technician_name="Zhou", technician_id=ids.user_id("tech.zhou")),
        "demo:warehouse:HF:ZHOU")
    load_sales(backoffice, company)
    return shown


def load_sales(backoffice: BackOffice, company: dict[str, UUID]) -> None:
    """Customer types and tags, an approval rule, customers of two salespeople, and
    contracts at every stage: the SCENARIO.md sale approved, one waiting for the
    Hefei sales manager, one with the clerk, one draft."""

    def user(name: str) -> Caller:
        return backoffice.access.caller_of(backoffice.commands.get(ids.user_id(name), User, name))

    for code, name in (("FIRST", "First-time"), ("INTENDED", "Intended"), ("POTENTIAL", "Potential"),
                       ("FORMAL", "Formal")):
        backoffice.execute(SYSTEM, DefineCustomerType(code=code, name=name), f"demo:customer-type:{code}")
    for code, name in (("VIP", "Key account"), ("MINING", "Mining"), ("ROADWORKS", "Road works")):
        backoffice.execute(SYSTEM, DefineCustomerTag(code=code, name=name), f"demo:tag:{code}")
    backoffice.execute(SYSTEM, SetApprovalRule(
        document_type=DocumentType.SALES_CONTRACT, company_id=None,
        bands=[
        AmountBand(Decimal("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),)),
        AmountBand(Decimal("300000.00"), (ApprovalStep("Sales manager", Role.APPROVER),
                                          ApprovalStep("Group finance", Role.FINANCE, StepScope.GROUP))),
    ]),
        "demo:rule:sales-contract")

    wang, li, chen = user("sales.wang"), user("sales.li"), user("clerk.chen")
    zhao, sun = user("manager.zhao"), user("finance.sun")
    hf = company["HF"]

    def customer(owner: Caller, key: str, name: str, kind: PartyKind, type_code: str) -> UUID:
        result = backoffice.execute(owner, CreateCustomer(
            company_id=hf, name=name, kind=kind, customer_type_id=ids.customer_type_id(type_code)),
            f"demo:customer:{key}")
        return UUID(result.body["customer_id"])

    def contact(owner: Caller, key: str, name: str, phone: str, title: str) -> UUID:
        result = backoffice.execute(owner, CreateContact(
            company_id=hf, name=name, phone=phone, title=title), f"demo:contact:{key}")
        return UUID(result.body["contact_id"])

    earthworks = customer(wang, "earthworks", "Hefei Earthworks Construction Co.", PartyKind.ORGANISATION, "FORMAL")
    liu = contact(wang, "liu", "Liu Qiang", "138 0551 0001", "Legal representative")
    backoffice.execute(wang, TagCustomer(
        customer_id=earthworks, tag_id=ids.customer_tag_id("VIP")), "demo:tag:earthworks")
    quarry = customer(wang, "quarry", "Feidong Quarry", PartyKind.ORGANISATION, "INTENDED")
    farmer = customer(li, "farmer", "Zhang Wei (private buyer)", PartyKind.PERSON, "POTENTIAL")
    zhang = contact(li, "zhang", "Zhang Wei", "139 0551 0002", "Owner")

    sy215c, xe60 = ids.machine_model_id("SY215C"), ids.machine_model_id("XE60")

    def draft(owner: Caller, key: str, customer_id: UUID, contact_id: UUID | None, model: UUID,
              price: str) -> UUID:
        result = backoffice.execute(owner, DraftContract(
            company_id=hf, customer_id=customer_id, contact_id=contact_id,
            lines=[ContractLineRequest(model, 1, Decimal(price))]), f"demo:contract:{key}")
        return UUID(result.body["contract_id"])

    # SCENARIO.md: one SY215C at 380,000.00, 80,000.00 down, 12 months equal installment at 4.35 %;
    # the first installment falls due at the end of the month after today's.
    today = backoffice.commands.today()
    following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    first_due = date(following.year + following.month // 12, following.month % 12 + 1, 1) - timedelta(days=1)
    scenario = draft(wang, "scenario", earthworks, liu, sy215c, "380000.00")
    backoffice.execute(wang, SubmitContractToClerk(contract_id=scenario), "demo:contract:scenario:submit")
    backoffice.execute(chen, CompleteContractTerms.of(scenario, CommercialTerms(
        PaymentMethod.INSTALLMENT, Decimal("80000.00"),
        InstallmentTerms(12, Decimal("0.0435"), first_due, ScheduleMethod.EQUAL_INSTALLMENT),
        Decimal("0.00"), None, (AgreedAccessory("Breaker hammer", 1, Decimal("0.00")),), ())), "demo:contract:scenario:terms")
    backoffice.execute(chen, SubmitContractForApproval(
        contract_id=scenario), "demo:contract:scenario:approval")
    backoffice.execute(zhao, ApproveContract(contract_id=scenario), "demo:contract:scenario:approve-1")
    backoffice.execute(sun, ApproveContract(contract_id=scenario), "demo:contract:scenario:approve-2")

    waiting = draft(wang, "quarry", quarry, None, xe60, "168000.00")
    backoffice.execute(wang, SubmitContractToClerk(contract_id=waiting), "demo:contract:quarry:submit")
    backoffice.execute(chen, CompleteContractTerms.of(waiting, CommercialTerms(
        PaymentMethod.CASH, Decimal("0.00"), None, Decimal("8400.00"), today + timedelta(days=365), (), ())), "demo:contract:quarry:terms")
    backoffice.execute(chen, SubmitContractForApproval(contract_id=waiting), "demo:contract:quarry:approval")

    load_delivery(backoffice, scenario, company)
    backoffice.execute(chen, RecordReceipt(
        contract_id=scenario, amount=Decimal("80000.00"), value_date=today,
        method=ReceiptMethod.BANK_TRANSFER, reference="Down payment, bank slip 0001"),
        "demo:receipt:scenario:down-payment")
    overdue_sale = load_receivables(backoffice, company, earthworks)
    if overdue_sale is not None:
        load_collection(backoffice, overdue_sale)
    load_parts(backoffice, company, earthworks)
    # SCENARIO.md's promotion: Hefei Earthworks paid 1,000.00 for a coupon of 2,000.00 (spend it
    # with RecordReceipt's `coupons`); and Wang's reward to Mr Liu for referring the quarry.
    backoffice.execute(sun, IssueCoupon(
        code="PROMO-2026-001", company_id=company["HF"], origin=CouponOrigin.PROMOTION,
        holder_kind=HolderKind.CUSTOMER, holder_id=earthworks, face_value=Decimal("2000.00"),
        amount_paid=Decimal("1000.00"), valid_from=None, valid_until=None, promised_by=None,
        note="Spring promotion: pay 1,000, get 2,000"), "demo:coupon:PROMO-2026-001")
    backoffice.execute(chen, IssueCoupon(
        code=LAST_DEMO_COUPON, company_id=company["HF"], origin=CouponOrigin.GIFT,
        holder_kind=HolderKind.CONTACT, holder_id=liu, face_value=Decimal("1000.00"),
        amount_paid=Decimal("0.00"), valid_from=None, valid_until=None, promised_by=wang.user_id,
        note="Referral reward", reason="Referred Feixi Quarry to us"), "demo:coupon:GIFT-2026-001")

    with_clerk = draft(li, "farmer", farmer, zhang, xe60, "172000.00")
    backoffice.execute(li, SubmitContractToClerk(contract_id=with_clerk), "demo:contract:farmer:submit")
    draft(li, "farmer-2", farmer, zhang, sy215c, "375000.00")


def load_delivery(backoffice: BackOffice, scenario: UUID, company: dict[str, UUID]) -> None:
    """SCENARIO.md's swap: SY215C-0007 is picked for the approved sale, its breaker hammer
    put on the outbound, finance reviews it, the warehouse dispatches it, and it is
    swapped for SY215C-0011 for a hydraulic fault on delivery."""

    def user(name: str) -> Caller:
        return backoffice.access.caller_of(backoffice.commands.get(ids.user_id(name), User, name))

    for serial in ("SY215C-0007", "SY215C-0011"):
        backoffice.execute(SYSTEM, ReceiveMachine(
            serial_number=serial, model_id=ids.machine_model_id("SY215C"),
            warehouse_id=ids.warehouse_id(company["HF"], "MAIN"), nature=MachineNature.PURCHASED_SAMPLE),
            f"demo:machine:{serial}")
    backoffice.execute(user("sales.wang"), PickMachine(
        contract_id=scenario, serial_number="SY215C-0007"), "demo:delivery:pick")
    backoffice.execute(user("clerk.chen"), AddAccessoryOutboundLine(
        contract_id=scenario, quantity=1, agreed_accessory_no=1), "demo:delivery:hammer")
    backoffice.execute(user("finance.sun"), ReviewOutbound(
        contract_id=scenario, outbound_no=1), "demo:delivery:review")
    backoffice.execute(user("keeper.hf"), DispatchMachine(
        contract_id=scenario, outbound_no=1), "demo:delivery:dispatch")
    backoffice.execute(user("clerk.chen"), SwapMachine(
        contract_id=scenario, old_serial="SY215C-0007", new_serial="SY215C-0011",
        reason="Hydraulic fault on delivery"), "demo:delivery:swap")


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

    def user(name: str) -> Caller:
        return backoffice.access.caller_of(backoffice.commands.get(ids.user_id(name), User, name))

    wang, chen, zhao, sun = user("sales.wang"), user("clerk.chen"), user("manager.zhao"), user("finance.sun")
    clock = backoffice.commands.today
    try:
        def on(day: date) -> None:
            backoffice.commands.today = lambda: day

        on(date(2025, 12, 1))
        backoffice.execute(SYSTEM, SetPenaltyRate(
            company_id=company["HF"], effective_from=date(2026, 1, 1), daily_rate=Decimal("0.0005")),
            "demo:penalty-rate:HF:2026-01-01")
        backoffice.execute(SYSTEM, SetPenaltyRate(
            company_id=company["HF"], effective_from=date(2026, 4, 15), daily_rate=Decimal("0.0006")),
            "demo:penalty-rate:HF:2026-04-15")
        on(date(2025, 12, 15))
        sale = UUID(backoffice.execute(wang, DraftContract(
            company_id=company["HF"], customer_id=earthworks, contact_id=None,
            lines=[ContractLineRequest(ids.machine_model_id("SY215C"), 1,
                                                                Decimal("380000.00"))]),
            "demo:contract:overdue").body["contract_id"])
        backoffice.execute(wang, SubmitContractToClerk(contract_id=sale), "demo:contract:overdue:submit")
        backoffice.execute(chen, CompleteContractTerms.of(sale, CommercialTerms(
            PaymentMethod.INSTALLMENT, Decimal("80000.00"),
            InstallmentTerms(12, Decimal("0.0435"), date(2026, 1, 31), ScheduleMethod.EQUAL_INSTALLMENT),
            Decimal("0.00"), None, (), ())), "demo:contract:overdue:terms")
        backoffice.execute(chen, SubmitContractForApproval(
            contract_id=sale), "demo:contract:overdue:approval")
        backoffice.execute(zhao, ApproveContract(contract_id=sale), "demo:contract:overdue:approve-1")
        backoffice.execute(sun, ApproveContract(contract_id=sale), "demo:contract:overdue:approve-2")

        def paid(day: date, amount: str, key: str, value_date: date | None = None) -> None:
            on(day)
            receipt = backoffice.execute(chen, RecordReceipt(
                contract_id=sale, amount=Decimal(amount), value_date=value_date or day,
                method=ReceiptMethod.BANK_TRANSFER, reference=f"Bank slip {key}"),
                f"demo:receipt:overdue:{key}").body["receipt_id"]
            backoffice.execute(sun, ConfirmReceipt(
                contract_id=sale, receipt_id=UUID(receipt)), f"demo:confirm:overdue:{key}")

        paid(date(2025, 12, 15), "80000.00", "down-payment")
        paid(date(2026, 1, 31), "25592.97", "january")
        paid(date(2026, 2, 28), "25592.97", "february")
        on(date(2026, 4, 18))
        backoffice.accrue_penalties(SYSTEM, date(2026, 4, 17))     # the daily runs of 04-01 … 04-17
        paid(date(2026, 4, 18), "10000.00", "april-10", value_date=date(2026, 4, 10))
        # The machine of that sale went out in December.
        on(date(2025, 12, 16))
        backoffice.execute(SYSTEM, ReceiveMachine(
            serial_number="SY215C-0021", model_id=ids.machine_model_id("SY215C"),
            warehouse_id=ids.warehouse_id(company["HF"], "MAIN"), nature=MachineNature.PURCHASED_SAMPLE),
            "demo:machine:SY215C-0021")
        backoffice.execute(wang, PickMachine(
            contract_id=sale, serial_number="SY215C-0021"), "demo:overdue:pick")
        backoffice.execute(sun, ReviewOutbound(contract_id=sale, outbound_no=1), "demo:overdue:review")
        backoffice.execute(user("keeper.hf"), DispatchMachine(
            contract_id=sale, outbound_no=1), "demo:overdue:dispatch")
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
        backoffice.execute(SYSTEM, SetApprovalRule(
            document_type=document, company_id=None,
            bands=[
            AmountBand(Decimal("0.00"), (ApprovalStep("Sales manager", Role.APPROVER),)),
            AmountBand(Decimal("100000.00"), (ApprovalStep("Sales manager", Role.APPROVER),
                                              ApprovalStep("Group finance", Role.FINANCE, StepScope.GROUP))),
        ]),
            f"demo:approval-rule:{document}")
    zhang = user("collector.zhang")
    backoffice.execute(user("finance.sun"), AssignCollector(
        contract_id=overdue_sale, collector_id=zhang.user_id), "demo:collection:assign")
    backoffice.execute(zhang, WriteCollectionLog(
        contract_id=overdue_sale, contact_date=date(2026, 4, 21),
        contact_person="Mr Liu, owner of Hefei Earthworks", channel=ContactChannel.PHONE,
        result="Says the site has not paid him; promises part payment.", promised_date=date(2026, 4, 28),
        promised_amount=Decimal("10000.00")), "demo:collection:log-1")
    backoffice.execute(zhang, ApplyLock(
        contract_id=overdue_sale, serial_number="SY215C-0021",
        reason="March installment overdue since 2026-03-31; promises not kept."), "demo:collection:lock")


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
    today = backoffice.commands.today()

    def user(name: str) -> Caller:
        return backoffice.access.caller_of(backoffice.commands.get(ids.user_id(name), User, name))

    chen, keeper, zhou = user("clerk.chen"), user("keeper.hf"), user("tech.zhou")
    hf, parts_wh, van = company["HF"], ids.warehouse_id(company["HF"], "PARTS"), ids.warehouse_id(company["HF"], "ZHOU")
    part: dict[str, UUID] = {}
    for part_no, name, unit, category, cost, price in PARTS:
        part[part_no] = ids.part_id(part_no)
        backoffice.execute(chen, CreatePart(
            part_no=part_no, name=name, unit=unit, category=category, purchase_price=Decimal(cost),
            sale_price=Decimal(price)), f"demo:part:{part_no}")

    order = backoffice.execute(chen, CreatePurchaseOrder(
        company_id=hf, supplier="Sany parts centre Hefei", warehouse_id=parts_wh,
        lines=[PartLineRequest(part_id=part["OF-215C"], quantity=20),
               PartLineRequest(part_id=part["FF-215C"], quantity=20),
               PartLineRequest(part_id=part["BT-215C"], quantity=30),
               PartLineRequest(part_id=part["HO-15W40"], quantity=10),
               PartLineRequest(part_id=part["SK-BOOM"], quantity=5)]),
        "demo:parts:po-1")
    order_id = UUID(order.body["order_id"])
    backoffice.execute(keeper, ReceivePurchase(
        order_id=order_id,
        lines=[ReceivedLineRequest(line_no=1, quantity=20),
               ReceivedLineRequest(line_no=2, quantity=20),
               ReceivedLineRequest(line_no=3, quantity=30),
               ReceivedLineRequest(line_no=4, quantity=10),
               ReceivedLineRequest(line_no=5, quantity=3)]),
        "demo:parts:po-1:receipt-1")

    def sale(key: str, lines: list, channel: SaleChannel) -> tuple[UUID, UUID]:
        quote = backoffice.execute(chen, CreatePartsQuote(
            company_id=hf, customer_id=earthworks, customer_name=None,
            lines=[PartLineRequest(part_id=_part_id, quantity=_quantity, unit_price=_unit_price)
                   for _part_id, _quantity, _unit_price in lines],
            valid_until=today + timedelta(days=30)), f"demo:parts:{key}:quote")
        quote_id = UUID(quote.body["quote_id"])
        backoffice.execute(chen, AgreePartsQuote(quote_id=quote_id), f"demo:parts:{key}:agree")
        sale_id = UUID(backoffice.execute(chen, CreatePartsSale(
            quote_id=quote_id, channel=channel, warehouse_id=parts_wh), f"demo:parts:{key}:sale").body["sale_id"])
        submitted = backoffice.execute(chen, SubmitPartsSale(sale_id=sale_id), f"demo:parts:{key}:submit")
        return sale_id, UUID(submitted.body["outbound_id"])

    shipped, outbound = sale("sale-1", [(part["OF-215C"], 4, None), (part["HO-15W40"], 2, None)],
                             SaleChannel.OVERHAUL_SHOP)
    backoffice.execute(keeper, ShipPartsOutbound(outbound_id=outbound), "demo:parts:sale-1:ship")
    backoffice.execute(chen, RecordPartsSaleReceipt(
        sale_id=shipped, amount=Decimal("1000.00"), value_date=today, method=ReceiptMethod.CASH,
        reference="Counter receipt 0001"), "demo:parts:sale-1:receipt-1")
    sale("sale-2", [(part["BT-215C"], 8, Decimal("190.00"))], SaleChannel.CHANNEL_WHOLESALE)

    request = backoffice.execute(zhou, RequestParts(
        mobile_warehouse_id=van,
        lines=[PartQuantityRequest(part_id=part["OF-215C"], quantity=4),
               PartQuantityRequest(part_id=part["FF-215C"], quantity=2)],
        note="Van stock for 500-hour services"), "demo:parts:request-1")
    request_id = UUID(request.body["request_id"])
    handled = backoffice.execute(chen, HandlePartsRequest(
        request_id=request_id, path=RequestPath.FROM_WAREHOUSE, warehouse_id=parts_wh),
        "demo:parts:request-1:handle")
    backoffice.execute(keeper, ShipPartsOutbound(
        outbound_id=UUID(handled.body["outbound_id"])), "demo:parts:request-1:ship")
    backoffice.execute(zhou, ConfirmPartsReceipt(request_id=request_id), "demo:parts:request-1:confirm")
    work = backoffice.execute(zhou, OpenWorkOrder(
        mobile_warehouse_id=van, customer_id=earthworks, customer_name=None, serial_number="SY215C-0009",
        job_type=JobType.MAINTENANCE), "demo:parts:work-order-1")
    work_id = UUID(work.body["work_order_id"])
    backoffice.execute(zhou, ConsumeParts(
        work_order_id=work_id, lines=[PartQuantityRequest(part_id=part["OF-215C"], quantity=1)]),
        "demo:parts:work-order-1:consume")
    backoffice.execute(zhou, RequestParts(
        mobile_warehouse_id=van, lines=[PartQuantityRequest(part_id=part["BT-215C"], quantity=4)],
        work_order_id=work_id, note="Worn teeth found on the job"), "demo:parts:request-2")
    emergency = backoffice.execute(zhou, RequestParts(
        mobile_warehouse_id=van, lines=[PartQuantityRequest(part_id=part["SK-BOOM"], quantity=1)],
        note="Boom cylinder leaking at Feixi"), "demo:parts:request-3")
    backoffice.execute(chen, HandlePartsRequest(
        request_id=UUID(emergency.body["request_id"]), path=RequestPath.PURCHASE_TO_TECHNICIAN,
        warehouse_id=None, supplier="Hefei Hydraulics Co",
        unit_prices=[LinePriceRequest(line_no=1, unit_price=Decimal("275.00"))]),
        "demo:parts:request-3:handle")
