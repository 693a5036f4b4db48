"""The stored encoding (JSON by msgspec, interfaces/persistence/encoding.py):
every event round trips exactly; money stays an exact decimal string; old
versions are upcast; corrupt data is refused with a clear error, never guessed at."""

from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.persistence import Cipher, JSONTranscoder, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import TopicError, get_topic

from domain.access import Position, Role, Scope, User
from domain.approvals import AmountBand, ApprovalRule, ApprovalStep, Decider, DocumentType, StepScope
from domain.contracts import (
    AgreedAccessory,
    CommercialTerms,
    Contract,
    GrantedCoupon,
    InstallmentTerms,
    PaymentMethod,
    ScheduleMethod,
)
from domain.customers import Contact, Customer, CustomerTag, CustomerType, PartyKind
from domain.base import Context, DealerAggregate
from domain.collection import CollectionApplication
from domain.commands import CommandRecord
from domain.coupons import Coupon, CouponHolder, CouponOrigin, CouponUse, HolderKind
from domain.machines import MachineNature, MachineUnit
from domain.organisation import Company, MachineModel, MachineType, Warehouse, WarehouseKind
from domain.parts import (DocumentKind, DocumentRef, JobType, Part, PartCategory, PartLine, PartsOutbound, PartsQuote,
                          PartsRequest, PartsSale, PartStock, PurchaseOrder, ReceivedLine, RequestPath, SaleChannel,
                          SalePayment, WorkOrder, part_lines)
from domain.receivables import (ContactChannel, Debt, DebtItem, ItemKind, OverdueFacts, PenaltyPolicy, PenaltyRate,
                                ReceiptMethod)
from domain.schedules import ScheduleLine
from interfaces.persistence.encoding import MsgspecMapper
from tests.unit.given import ACTOR, ctx

mapper = MsgspecMapper()


def one_of_every_event() -> list[DealerAggregate.Event]:
    """Every command of the domain once, with non-ASCII text, None and a reason."""
    hefei = Company.create(ctx(), "HF", "合肥 Hefei")
    main = Warehouse.create(ctx(), hefei, "MAIN", "Hefei main", WarehouseKind.MAIN)
    yard = Warehouse.create(ctx(), hefei, "YARD", "Hefei yard", WarehouseKind.MAIN)
    van = Warehouse.create(ctx(), hefei, "VAN", "Zhou's van 周", WarehouseKind.MOBILE, "周伟", TECHNICIAN)
    model = MachineModel.register(ctx(), "SY215C", "SY215C 挖掘机", MachineType.EXCAVATOR)
    unit = MachineUnit.receive(ctx(), "SY215C-1", model, main, MachineNature.REPOSSESSED)
    unit.transfer(ctx(reason="库位调整 yard\n第二行"), yard)
    position = Position.create(ctx(), "Hefei", [hefei.id, uuid4()], False)
    position.change_companies(ctx(), [], True)
    user = User.create(ctx(), "keeper.hf", "Keeper", "$argon2id$v=19$hash")
    user.grant_role(ctx(), Role.WAREHOUSE_KEEPER)
    user.revoke_role(ctx(), Role.WAREHOUSE_KEEPER)
    user.assign_position(ctx(), position)
    user.unassign_position(ctx(), position.id)
    user.change_password(ctx(), "$argon2id$v=19$other")
    record = CommandRecord.record(ctx(), "k", "ReceiveMachine", "fp", 201, '{"a": "1.10"}')
    sales = _sales_events(hefei, model, main)
    return ([e for a in (hefei, main, yard, van, model, unit, position, user, record) for e in a.collect_events()]
            + sales + _receivable_events(hefei) + _collection_events(hefei, model, main) + _coupon_events(hefei)
            + _parts_events(hefei, main, van))


TECHNICIAN = UUID("66666666-6666-5666-8666-666666666666")


def _parts_events(hefei: Company, main: Warehouse, van: Warehouse) -> list[DealerAggregate.Event]:
    """Parts (配件) through every event: a part registered and repriced; a purchase order
    received in part; a quote agreed and sold, its sale submitted (the outbound reserves),
    paid with a coupon and shipped; a second sale cancelled with its outbound; a technician's
    request filled from a warehouse (path 1) and confirmed, another by a purchase to the
    warehouse (path 3) whose outbound is prepared on arrival; a work order consuming from the
    van and completed."""
    def on(day: date, reason: str | None = None) -> Context:
        return ctx(reason, day=day)

    day = date(2026, 3, 2)
    part = Part.register(on(day), "滤芯 f-001", "机油滤芯 oil filter", "件", PartCategory.FILTER, Decimal("38.50"),
                         Decimal("65.00"))
    part.change_prices(on(day, "供应商调价"), Decimal("40.10"), Decimal("68.00"))
    stock = PartStock.open(on(day), part, main)
    at_main = {part.id: stock}
    order = PurchaseOrder.place(on(day), uuid4(), hefei, "徐工配件 供应商", main,
                                part_lines([(part, 10, None)], use_sale_price=False), at_main)
    order.receive(on(day), {1: 6}, at_main)
    customer_id = uuid4()
    coupon = Coupon.issue(on(day), "配件券 P-1", hefei.id, CouponOrigin.PROMOTION,
                          CouponHolder(HolderKind.CUSTOMER, customer_id), Decimal("100.00"), Decimal("50.00"))

    def sold(count: int) -> tuple[PartsQuote, PartsSale, PartsOutbound]:
        quote = PartsQuote.offer(on(day), uuid4(), hefei, customer_id, "合肥土方",
                                 part_lines([(part, count, Decimal("66.60"))], use_sale_price=True),
                                 date(2026, 3, 31))
        quote.agree(on(day))
        sale = PartsSale.draft(on(day), uuid4(), hefei, quote, SaleChannel.OVERHAUL_SHOP, main)
        outbound = PartsOutbound.prepare(on(day), uuid4(), hefei, main, sale.ref, sale.lines, at_main)
        sale.submit(on(day), outbound)
        return quote, sale, outbound

    quote, sale, outbound = sold(2)
    receipt = uuid4()
    sale.receive_payment(on(day), receipt, Decimal("133.20"), ReceiptMethod.BANK_TRANSFER, day, "回单 7",
                         (CouponUse(coupon.id, coupon.code, Decimal("30.00")),))
    coupon.redeem_on_parts_sale(on(day), receipt, sale.id, sale.number, Decimal("30.00"), hefei.id, customer_id,
                                frozenset(), day)
    outbound.ship(on(day), at_main)
    sale.shipped(on(day), outbound)
    other_quote, cancelled, cancelled_outbound = sold(1)
    cancelled_outbound.cancel(on(day, "客户取消"), at_main)
    cancelled.cancel(on(day, "客户取消"))

    van_stock = PartStock.open(on(day), part, van)
    at_van = {part.id: van_stock}
    request = PartsRequest.request(on(day), uuid4(), hefei, van, part_lines([(part, 2, None)], use_sale_price=False),
                                   note="明天保养 需要滤芯")
    to_van = PartsOutbound.prepare(on(day), uuid4(), hefei, main, request.ref, request.lines, at_main, van)
    request.handle_from_warehouse(on(day), to_van)
    to_van.ship(on(day), at_main, at_van)
    request.shipped(on(day), to_van)
    request.confirm_receipt(on(day), at_van, outbounds=[to_van])
    emergency = PartsRequest.request(on(day), uuid4(), hefei, van, part_lines([(part, 1, None)], use_sale_price=False))
    urgent = PurchaseOrder.place(on(day), uuid4(), hefei, "紧急 供应商", main, emergency.lines, at_main, emergency)
    emergency.handle_by_purchase(on(day), RequestPath.PURCHASE_TO_WAREHOUSE, urgent)
    urgent.receive(on(day), {1: 1}, at_main)
    arrived = PartsOutbound.prepare(on(day), uuid4(), hefei, main, emergency.ref, tuple(urgent.lines.values()),
                                    at_main, van)
    emergency.purchase_arrived(on(day), arrived)
    work = WorkOrder.open(on(day), uuid4(), hefei, van, customer_id, "合肥土方", "SY215C-9", JobType.MAINTENANCE)
    work.consume(on(day), [(part, 1)], at_van, "周伟")
    work.complete(on(day))
    return [e for a in (part, stock, order, coupon, quote, sale, outbound, other_quote, cancelled, cancelled_outbound,
                        van_stock, request, to_van, emergency, urgent, arrived, work) for e in a.collect_events()]


def _receivable_events(hefei: Company) -> list[DealerAggregate.Event]:
    """A receivable through every event: typed schedule, accrual, a receipt, a backdated one that
    corrects penalties and re-splits the first, a rejection, reversals, closing and reopening."""
    def on(day: date, reason: str | None = None, actor: UUID = ACTOR) -> Context:
        return ctx(reason, actor=actor, day=day)

    finance = uuid4()
    policy = PenaltyPolicy.start(on(date(2025, 12, 1)), hefei.id, PenaltyRate(date(2026, 1, 1), Decimal("0.0005")))
    policy.set_rate(on(date(2025, 12, 1)), PenaltyRate(date(2026, 2, 15), Decimal("0.0006"), 3))
    items = (DebtItem("DP", ItemKind.DOWN_PAYMENT, date(2026, 1, 5), Decimal("500.00"), Decimal("0.00")),)
    debt = Debt._start(Debt.Opened, uuid4(), on(date(2026, 1, 5)), hefei.id, contract_id=uuid4(),
                       contract_number="HF-20260101-ABCDEF", contract_date=date(2026, 1, 1), customer_id=uuid4(),
                       owner_id=ACTOR, payment="installment", financed=Decimal("2000.00"), schedule_method="typed",
                       items=items)
    rates = policy.rates
    debt.set_schedule(on(date(2026, 1, 6)), [ScheduleLine(date(2026, 1, 31), Decimal("1000.00"), Decimal("10.00")),
                                              ScheduleLine(date(2026, 2, 28), Decimal("1000.00"), Decimal("9.99"))],
                      rates)
    debt.accrue_penalties(on(date(2026, 2, 11)), date(2026, 2, 10), rates)
    first, backdated, wrong = uuid4(), uuid4(), uuid4()
    debt.record_receipt(on(date(2026, 2, 20)), first, Decimal("900.00"), date(2026, 2, 20), ReceiptMethod.CASH)
    debt.confirm_receipt(on(date(2026, 2, 20), actor=finance), first, rates)
    debt.accrue_penalties(on(date(2026, 2, 26)), date(2026, 2, 25), rates)
    debt.record_receipt(on(date(2026, 2, 26)), backdated, Decimal("300.00"), date(2026, 2, 5),
                        ReceiptMethod.BANK_TRANSFER, "回单 0042", ["I1"])
    debt.confirm_receipt(on(date(2026, 2, 26), actor=finance), backdated, rates)
    debt.record_receipt(on(date(2026, 2, 27)), wrong, Decimal("10.00"), date(2026, 2, 27), ReceiptMethod.CARD)
    debt.reject_receipt(on(date(2026, 2, 27), "重复录入", finance), wrong)
    debt.reverse_receipt(on(date(2026, 3, 1), "退票", finance), backdated, rates)
    debt.reverse_receipt(on(date(2026, 3, 1), "退票", finance), first, rates)
    debt.close_for_unapproval(on(date(2026, 3, 2), "合同评审"))
    debt._record(Debt.Reopened, on(date(2026, 3, 2)), hefei.id, contract_date=date(2026, 1, 1),
                 customer_id=debt.customer_id, payment="cash", financed=Decimal("0.00"), schedule_method=None,
                 items=(DebtItem("FULL", ItemKind.FULL_PAYMENT, date(2026, 3, 2), Decimal("2500.00"),
                                 Decimal("0.00")),))
    return [*policy.collect_events(), *debt.collect_events()]


def _coupon_events(hefei: Company) -> list[DealerAggregate.Event]:
    """Coupons (卡券) through every event: a promotion coupon lowered by an approved adjustment,
    given on to a contact, redeemed as part of a receipt on a debt (the receipt carries it),
    restored by the receipt's rejection and voided; a contract coupon voided by the contract's
    un-approval and granted again."""
    def on(day: date, reason: str | None = None, actor: UUID = ACTOR) -> Context:
        return ctx(reason, actor=actor, day=day)

    customer_id, contact_id, approver, finance = uuid4(), uuid4(), uuid4(), uuid4()
    promo = Coupon.issue(on(date(2026, 3, 1)), "促销 promo-001", hefei.id, CouponOrigin.PROMOTION,
                         CouponHolder(HolderKind.CUSTOMER, customer_id), Decimal("2000.00"), Decimal("1000.00"),
                         date(2026, 3, 1), date(2026, 6, 30), note="春季促销")
    promo.adjust(on(date(2026, 3, 2), "录入错误"), Decimal("-150.50"), approver)      # 1,849.50 left
    promo.change_details(on(date(2026, 3, 3), "转给现场经理"), CouponHolder(HolderKind.CONTACT, contact_id),
                         date(2026, 3, 1), None, "现场经理 刘强\n第二行")
    items = (DebtItem("DP", ItemKind.DOWN_PAYMENT, date(2026, 1, 1), Decimal("1000.00"), Decimal("0.00")),)
    debt = Debt._start(Debt.Opened, uuid4(), on(date(2026, 1, 1)), hefei.id, contract_id=uuid4(),
                       contract_number="HF-20260101-COUPON", contract_date=date(2026, 1, 1), customer_id=customer_id,
                       owner_id=ACTOR, payment="cash", financed=Decimal("0.00"), schedule_method=None, items=items)
    receipt = uuid4()
    debt.record_receipt(on(date(2026, 3, 10)), receipt, Decimal("800.00"), date(2026, 3, 10), ReceiptMethod.CASH,
                        coupons=[CouponUse(promo.id, promo.code, Decimal("500.00"))])
    promo.redeem(on(date(2026, 3, 10)), receipt, debt.id, debt.contract_id, debt.contract_number, Decimal("500.00"),
                 hefei.id, customer_id, frozenset({contact_id}), date(2026, 3, 10))
    debt.reject_receipt(on(date(2026, 3, 11), "重复录入", finance), receipt)
    promo.restore(on(date(2026, 3, 11), "重复录入", finance), receipt)
    promo.void(on(date(2026, 3, 12), "客户退出活动"))
    granted = Coupon.issue(on(date(2026, 1, 1)), "HF-20260101-COUPON-C1-1", hefei.id, CouponOrigin.CONTRACT,
                           CouponHolder(HolderKind.CUSTOMER, customer_id), Decimal("3000.00"),
                           contract_id=debt.contract_id, contract_number=debt.contract_number, note="首购")
    granted.void_for_unapproval(on(date(2026, 3, 12), "合同评审"))
    granted.regrant(on(date(2026, 3, 13)), Decimal("3500.00"), None, granted.holder)
    return [*promo.collect_events(), *granted.collect_events(), *debt.collect_events()]


def _collection_events(hefei: Company, model: MachineModel, main: Warehouse) -> list[DealerAggregate.Event]:
    """Debt collection (催收) through every event: a collector, a log with a promise, a receipt
    paying principal before penalty (``penalty_last``), a waiver of the penalty left, settlement
    and the release of the documents; applications of every kind (two approval steps, a
    rejection, lock, unlock, tow and the machine received back); the unit locked, unlocked,
    towed and received back as a repossessed machine."""
    def on(day: date, reason: str | None = None, actor: UUID = ACTOR) -> Context:
        return ctx(reason, actor=actor, day=day)

    finance, collector = uuid4(), uuid4()
    rates = PenaltyPolicy.start(on(date(2025, 12, 1)), hefei.id,
                                PenaltyRate(date(2026, 1, 1), Decimal("0.0005"))).rates
    contract_id = uuid4()
    items = (DebtItem("DP", ItemKind.DOWN_PAYMENT, date(2026, 1, 5), Decimal("500.00"), Decimal("0.00")),)
    debt = Debt._start(Debt.Opened, uuid4(), on(date(2026, 1, 5)), hefei.id, contract_id=contract_id,
                       contract_number="HF-20260105-COLLEC", contract_date=date(2026, 1, 1), customer_id=uuid4(),
                       owner_id=ACTOR, payment="installment", financed=Decimal("0.00"), schedule_method="typed",
                       items=items)
    debt.accrue_penalties(on(date(2026, 1, 16)), date(2026, 1, 15), rates)      # 10 × 0.25 = 2.50
    debt.assign_collector(on(date(2026, 1, 16)), collector, "催收 王")
    debt.write_log(on(date(2026, 1, 16), actor=collector), date(2026, 1, 16), "刘强", ContactChannel.VISIT,
                   "客户承诺月底付款\n第二行", date(2026, 1, 31), Decimal("500.00"))
    debt.write_log(on(date(2026, 1, 16), actor=collector), date(2026, 1, 15), "刘强", ContactChannel.PHONE, "未接通")
    receipt = uuid4()
    debt.record_receipt(on(date(2026, 1, 16)), receipt, Decimal("500.00"), date(2026, 1, 16), ReceiptMethod.CASH,
                        penalty_last=True)
    debt.confirm_receipt(on(date(2026, 1, 16), actor=finance), receipt, rates)
    facts = debt.overdue_facts(date(2026, 1, 16))
    rule = ApprovalRule.set_new(ctx(), DocumentType.INTEREST_WAIVER, hefei.id, [
        AmountBand(Decimal("0"), (ApprovalStep("经理", Role.APPROVER),)),
        AmountBand(Decimal("1000.00"), (ApprovalStep("经理", Role.APPROVER),
                                        ApprovalStep("财务总监", Role.FINANCE, StepScope.GROUP)))])
    manager = Decider(uuid4(), frozenset({Role.APPROVER, Role.FINANCE}), Scope(all_companies=True))

    def apply(kind: DocumentType, serial: str | None, amount: str) -> CollectionApplication:
        application = CollectionApplication.apply_for(
            on(date(2026, 1, 16), "客户逾期 30 天", collector), uuid4(), kind, debt.id, hefei.id, contract_id,
            debt.contract_number, debt.customer_id, serial, Decimal(amount), facts, rule)
        debt.open_application(on(date(2026, 1, 16)), application.id, str(kind), serial)
        return application

    waiver = apply(DocumentType.INTEREST_WAIVER, None, "2.50")
    waiver.approve(on(date(2026, 1, 17)), manager)
    debt.waive_penalty(on(date(2026, 1, 17)), waiver.id, Decimal("2.50"))
    rejected = apply(DocumentType.INTEREST_WAIVER, None, "1500.00")
    rejected.approve(on(date(2026, 1, 17)), manager)              # step 1 of 2
    rejected.reject(on(date(2026, 1, 17), "金额不符"), manager)
    debt.close_application(on(date(2026, 1, 17)), rejected.id, "rejected")
    unit = MachineUnit.receive(ctx(), "SY215C-COLLECT", model, main, MachineNature.PURCHASED_SAMPLE)
    unit.reserve(ctx(), contract_id, debt.contract_number)
    unit.dispatch(ctx(), contract_id)
    beijing = timezone(timedelta(hours=8))
    lock = apply(DocumentType.MACHINE_LOCK, unit.serial_number, "500.00")
    lock.approve(on(date(2026, 1, 16)), manager)
    locked_at = datetime(2026, 1, 16, 9, 30, tzinfo=beijing)
    lock.register_locked(on(date(2026, 1, 16)), locked_at)
    unit.lock(on(date(2026, 1, 16)), contract_id, lock.id, locked_at)
    debt.close_application(on(date(2026, 1, 16)), lock.id, "locked")
    unlock = apply(DocumentType.MACHINE_UNLOCK, unit.serial_number, "500.00")
    unlock.approve(on(date(2026, 1, 16)), manager)
    unlocked_at = datetime(2026, 1, 16, 17, 5, 30, tzinfo=beijing)
    unlock.register_unlocked(on(date(2026, 1, 16)), unlocked_at)
    unit.unlock(on(date(2026, 1, 16)), contract_id, unlock.id, unlocked_at)
    debt.close_application(on(date(2026, 1, 16)), unlock.id, "unlocked")
    unit.lock(on(date(2026, 1, 16)), contract_id, lock.id, locked_at)       # locked again: the tow lifts it
    tow = apply(DocumentType.TOW, unit.serial_number, "500.00")
    tow.approve(on(date(2026, 1, 16)), manager)
    tow.register_tow(on(date(2026, 1, 16)), date(2026, 1, 16), "合肥市肥西县工地", ["张三", "李四"])
    unit.tow(on(date(2026, 1, 16)), contract_id, tow.id, date(2026, 1, 16), "合肥市肥西县工地", ("张三", "李四"))
    tow.machine_received_back(on(date(2026, 1, 17)), main.id)
    unit.receive_repossessed(on(date(2026, 1, 17)), contract_id, tow.id, main)
    debt.close_application(on(date(2026, 1, 17)), tow.id, "received back")
    settlement = apply(DocumentType.SETTLEMENT, None, "500.00")
    settlement.approve(on(date(2026, 1, 18)), manager)
    debt.settle(on(date(2026, 1, 18)), settlement.id)
    debt.release_documents(on(date(2026, 1, 19)), "发票 0001", "合格证 0001", "刘强")
    return [e for a in (debt, waiver, rejected, settlement, lock, unlock, tow, unit) for e in a.collect_events()]


def _sales_events(hefei: Company, model: MachineModel, main: Warehouse) -> list[DealerAggregate.Event]:
    formal = CustomerType.define(ctx(), "FORMAL", "正式客户")
    vip = CustomerTag.define(ctx(), "VIP", "大客户")
    customer = Customer.register(ctx(), uuid4(), hefei, ACTOR, "合肥土方工程有限公司", PartyKind.ORGANISATION, formal,
                                 "91340100MA2N0XXXX1", "0551-6000 0000", "合肥市蜀山区")
    contact = Contact.register(ctx(), uuid4(), hefei, ACTOR, "刘强", "138 0551 0001", "法人")
    customer.tag(ctx(), vip)
    customer.untag(ctx(), vip)
    customer.link_contact(ctx(), contact)
    steps = (ApprovalStep("经理", Role.APPROVER), ApprovalStep("财务", Role.FINANCE, StepScope.GROUP))
    rule = ApprovalRule.set_new(ctx(), DocumentType.SALES_CONTRACT, None,
                                [AmountBand(Decimal("0"), steps[:1]), AmountBand(Decimal("300000.00"), steps)])
    rule.revise(ctx(), [AmountBand(Decimal("0"), steps)])
    contract = Contract.draft(ctx(), uuid4(), hefei, customer, contact, [(model, 1, Decimal("380000.00"))])
    contract.submit_to_clerk(ctx())
    contract.complete_terms(ctx(), CommercialTerms(PaymentMethod.CASH, Decimal("0.00"), None, Decimal("0.00"), None,
                                                   (), ()))
    contract.return_to_salesperson(ctx(reason="两台"))
    contract.revise_draft(ctx(), customer, None, [(model, 2, Decimal("190000.10"))])     # and TermsCleared
    contract.submit_to_clerk(ctx())
    contract.return_to_salesperson(ctx(reason="补充首付"))
    contract.submit_to_clerk(ctx())
    contract.complete_terms(ctx(), CommercialTerms(
        PaymentMethod.INSTALLMENT, Decimal("80000.00"),
        InstallmentTerms(12, Decimal("0.0435"), date(2026, 4, 30), ScheduleMethod.EQUAL_INSTALLMENT),
        Decimal("19000.00"), date(2027, 3, 2), (AgreedAccessory("破碎锤", 1, Decimal("0.00")),),
        (GrantedCoupon(Decimal("2000.00"), 1, "首购"),)))
    contract.submit_for_approval(ctx(), rule)
    manager = Decider(uuid4(), frozenset({Role.APPROVER, Role.FINANCE}), Scope(all_companies=True))
    contract.reject(ctx(reason="价格偏低"), manager)
    contract.submit_for_approval(ctx(), rule)
    contract.approve(ctx(), manager)
    contract.approve(ctx(), manager)
    units = [MachineUnit.receive(ctx(), f"SY215C-{n}", model, main, MachineNature.PURCHASED_SAMPLE) for n in (2, 3, 4)]
    lines = {model.id: model}
    # The contract changes only itself; each unit is changed by its own command, as the handlers do.
    contract.pick_machine(ctx(), units[0].facts, model, lines)
    units[0].reserve(ctx(), contract.id, contract.number)
    contract.pick_machine(ctx(), units[2].facts, model, lines, line_no=1)
    units[2].reserve(ctx(), contract.id, contract.number)
    contract.release_machine(ctx(reason="换一台"), units[2].serial_number)
    units[2].release(ctx(reason="换一台"), contract.id)
    contract.unapprove(ctx(reason="合同评审"))
    units[0].release(ctx(reason="合同评审"), contract.id)
    contract.submit_for_approval(ctx(), rule)
    contract.approve(ctx(), manager)
    contract.approve(ctx(), manager)
    contract.pick_machine(ctx(), units[0].facts, model, lines)
    units[0].reserve(ctx(), contract.id, contract.number)
    contract.add_accessory_outbound_line(ctx(), 1, agreed_accessory_no=1)
    extra = contract.add_accessory_outbound_line(ctx(), 2, name="机油 5L", unit_price=Decimal("120.50"))
    contract.remove_accessory_outbound_line(ctx(), extra)
    contract.review_outbound(ctx(), 2)
    contract.return_outbound(ctx(reason="少了机油"), 2)
    contract.review_outbound(ctx(), 2)
    contract.dispatch(ctx(), 2)
    units[0].dispatch(ctx(), contract.id)
    contract.swap_machine(ctx(reason="液压故障"), units[0].facts, units[1].facts, model, lines, main)
    units[1].swap_in(ctx(reason="液压故障"), contract.id, contract.number, units[0].serial_number)
    units[0].swap_out(ctx(reason="液压故障"), contract.id, units[1].serial_number, main)
    return [e for a in (formal, vip, customer, contact, rule, contract, *units) for e in a.collect_events()]


EVENTS = one_of_every_event()


def test_the_sample_has_one_event_of_every_pinned_class():
    from tests.unit.test_event_topics import EVENT_TOPICS

    assert {get_topic(type(e)) for e in EVENTS} == EVENT_TOPICS


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__qualname__)
def test_every_event_round_trips_exactly(event):
    stored = mapper.to_stored_event(event)
    assert isinstance(stored.state, bytes)
    assert (stored.originator_id, stored.originator_version, stored.topic) == (
        event.originator_id, event.originator_version, get_topic(type(event)))
    assert not {"originator_id", "originator_version"} & set(msgspec.json.decode(stored.state))  # own columns
    back = mapper.to_domain_event(stored)
    assert type(back) is type(event)
    assert vars(back) == vars(event)


def test_an_aggregate_rebuilt_from_decoded_events_equals_the_one_that_recorded_them():
    position = Position.create(ctx(), "Two companies", [uuid4(), uuid4()], False)
    user = User.create(ctx(), "wang", "Wang", "h1")
    user.grant_role(ctx(), Role.FINANCE)
    user.grant_role(ctx(), Role.AUDITOR)
    user.assign_position(ctx(), position)
    user.change_password(ctx(), "h2")
    for aggregate in (position, user):
        rebuilt: Any = None
        for event in aggregate.collect_events():
            rebuilt = mapper.to_domain_event(mapper.to_stored_event(event)).mutate(rebuilt)
        assert vars(rebuilt) == vars(aggregate)
    assert rebuilt.roles == {Role.FINANCE, Role.AUDITOR} and rebuilt.credentials_version == 2


def test_a_contract_line_stored_before_substitutes_existed_reads_as_no_substitute():
    drafted = next(e for e in EVENTS if isinstance(e, Contract.Drafted))
    stored = mapper.to_stored_event(drafted)
    state = msgspec.json.decode(stored.state)
    for line in state["lines"]:
        del line["substitute_allowed"]
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, msgspec.json.encode(state))
    back = mapper.to_domain_event(old)
    assert [line.substitute_allowed for line in back.lines] == [False]
    assert back.lines[0].unit_price == drafted.lines[0].unit_price


def test_a_receipt_paying_penalty_last_keeps_the_flag_and_one_stored_before_it_existed_reads_as_before():
    recorded = next(e for e in EVENTS if isinstance(e, Debt.ReceiptRecorded) and e.penalty_last)
    stored = mapper.to_stored_event(recorded)
    state = msgspec.json.decode(stored.state)
    assert state["penalty_last"] is True and mapper.to_domain_event(stored).penalty_last is True
    del state["penalty_last"]
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, msgspec.json.encode(state))
    back = mapper.to_domain_event(old)
    assert back.penalty_last is False and back.amount == recorded.amount


def test_collection_facts_times_and_names_come_back_typed():
    applied = next(e for e in EVENTS if isinstance(e, CollectionApplication.Applied))
    back = mapper.to_domain_event(mapper.to_stored_event(applied))
    assert type(back.facts) is OverdueFacts and back.facts == applied.facts
    assert type(back.facts.penalty_outstanding) is Decimal and type(back.facts.as_of) is date
    assert back.document_type is DocumentType.INTEREST_WAIVER
    locked = next(e for e in EVENTS if isinstance(e, MachineUnit.Locked))
    back_locked = mapper.to_domain_event(mapper.to_stored_event(locked))
    assert back_locked.locked_at == locked.locked_at and back_locked.locked_at.utcoffset() == timedelta(hours=8)
    towed = next(e for e in EVENTS if isinstance(e, CollectionApplication.TowRegistered))
    assert mapper.to_domain_event(mapper.to_stored_event(towed)).people == ("张三", "李四")
    logged = next(e for e in EVENTS if isinstance(e, Debt.CollectionLogged))
    back_log = mapper.to_domain_event(mapper.to_stored_event(logged)).log
    assert back_log == logged.log and back_log.channel is ContactChannel.VISIT
    assert type(back_log.promised_amount) is Decimal and str(back_log.promised_amount) == "500.00"


def test_coupon_holders_and_uses_come_back_typed():
    issued = next(e for e in EVENTS if isinstance(e, Coupon.Issued) and e.origin == CouponOrigin.PROMOTION)
    back = mapper.to_domain_event(mapper.to_stored_event(issued))
    assert type(back.holder) is CouponHolder and back.holder == issued.holder
    assert back.holder.kind is HolderKind.CUSTOMER and type(back.holder.holder_id) is UUID
    assert back.origin is CouponOrigin.PROMOTION and back.code == "促销PROMO-001"
    assert type(back.amount_paid) is Decimal and str(back.amount_paid) == "1000.00" and back.promised_by is None
    changed = next(e for e in EVENTS if isinstance(e, Coupon.DetailsChanged))
    back_changed = mapper.to_domain_event(mapper.to_stored_event(changed))
    assert type(back_changed.holder) is CouponHolder and back_changed.holder.kind is HolderKind.CONTACT
    assert back_changed.valid_until is None and type(back_changed.valid_from) is date
    adjusted = next(e for e in EVENTS if isinstance(e, Coupon.Adjusted))
    assert str(mapper.to_domain_event(mapper.to_stored_event(adjusted)).amount) == "-150.50"
    recorded = next(e for e in EVENTS if isinstance(e, Debt.ReceiptRecorded) and e.coupons)
    stored = mapper.to_stored_event(recorded)
    back_recorded = mapper.to_domain_event(stored)
    assert type(back_recorded.coupons) is tuple and [type(c) for c in back_recorded.coupons] == [CouponUse]
    [use] = back_recorded.coupons
    assert use == recorded.coupons[0] and type(use.coupon_id) is UUID and type(use.amount) is Decimal
    state = msgspec.json.decode(stored.state)
    assert state["coupons"] == [{"coupon_id": str(use.coupon_id), "code": "促销PROMO-001", "amount": "500.00"}]
    # A receipt stored before coupons existed reads as paid without coupons.
    del state["coupons"]
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, msgspec.json.encode(state))
    assert mapper.to_domain_event(old).coupons == ()


def test_parts_lines_document_refs_and_payments_come_back_typed():
    placed = next(e for e in EVENTS if isinstance(e, PurchaseOrder.Placed))
    back = mapper.to_domain_event(mapper.to_stored_event(placed))
    assert type(back.lines) is tuple and [type(line) for line in back.lines] == [PartLine]
    assert back.lines == placed.lines and type(back.lines[0].unit_price) is Decimal
    assert str(back.lines[0].unit_price) == "40.10" and back.lines[0].part_no == "滤芯F-001"
    expected = next(e for e in EVENTS if isinstance(e, PartStock.InboundExpected) and e.from_warehouse_id)
    back_expected = mapper.to_domain_event(mapper.to_stored_event(expected))
    assert type(back_expected.document) is DocumentRef and back_expected.document == expected.document
    assert back_expected.document.kind is DocumentKind.PARTS_OUTBOUND and type(back_expected.from_warehouse_id) is UUID
    paid = next(e for e in EVENTS if isinstance(e, PartsSale.PaymentReceived))
    back_paid = mapper.to_domain_event(mapper.to_stored_event(paid))
    assert type(back_paid.payment) is SalePayment and back_paid.payment == paid.payment
    assert [type(c) for c in back_paid.payment.coupons] == [CouponUse] and type(back_paid.payment.value_date) is date
    drafted = next(e for e in EVENTS if isinstance(e, PartsSale.Drafted))
    assert mapper.to_domain_event(mapper.to_stored_event(drafted)).channel is SaleChannel.OVERHAUL_SHOP
    confirmed = next(e for e in EVENTS if isinstance(e, PartsRequest.ReceiptConfirmed))
    assert mapper.to_domain_event(mapper.to_stored_event(confirmed)).lines == (ReceivedLine(1, 2),)
    handled = next(e for e in EVENTS if isinstance(e, PartsRequest.Handled) and e.purchase_order_id)
    assert mapper.to_domain_event(mapper.to_stored_event(handled)).path is RequestPath.PURCHASE_TO_WAREHOUSE
    opened = next(e for e in EVENTS if isinstance(e, WorkOrder.Opened))
    assert mapper.to_domain_event(mapper.to_stored_event(opened)).job_type is JobType.MAINTENANCE
    registered = next(e for e in EVENTS if isinstance(e, Part.Registered))
    assert mapper.to_domain_event(mapper.to_stored_event(registered)).category is PartCategory.FILTER


def test_a_mobile_warehouse_stores_its_technician_at_version_2():
    created = next(e for e in EVENTS if isinstance(e, Warehouse.Created) and e.kind == WarehouseKind.MOBILE)
    state = msgspec.json.decode(mapper.to_stored_event(created).state)
    assert (state["class_version"], state["technician_id"]) == (2, str(TECHNICIAN))
    assert mapper.to_domain_event(mapper.to_stored_event(created)).technician_id == TECHNICIAN


@pytest.mark.parametrize("kind", [WarehouseKind.MOBILE, WarehouseKind.MAIN])
def test_a_warehouse_stored_at_version_1_reads_as_having_no_technician_id(kind):
    created = next(e for e in EVENTS if isinstance(e, Warehouse.Created) and e.kind == kind)
    v2 = msgspec.json.decode(mapper.to_stored_event(created).state)
    v1 = {k: v for k, v in v2.items() if k not in ("class_version", "technician_id")}     # what v1 wrote
    back = mapper.to_domain_event(_stored_as(created, v1))
    assert type(back) is Warehouse.Created and back.technician_id is None
    assert (back.code, back.kind, back.technician_name) == (created.code, created.kind, created.technician_name)
    warehouse = back.mutate(None)
    assert type(warehouse) is Warehouse and warehouse.technician_id is None


def test_a_contract_accessory_line_keeps_its_part_and_one_stored_before_parts_reads_as_none():
    added = next(e for e in EVENTS if isinstance(e, Contract.AccessoryOutboundLineAdded))
    stored = mapper.to_stored_event(added)
    state = msgspec.json.decode(stored.state)
    assert (state["line"]["part_id"], state["line"]["warehouse_id"]) == (None, None)
    part_id, warehouse_id = uuid4(), uuid4()
    state["line"] |= {"part_id": str(part_id), "warehouse_id": str(warehouse_id)}
    back = mapper.to_domain_event(_stored_as(added, state))
    assert (back.line.part_id, back.line.warehouse_id) == (part_id, warehouse_id)
    for key in ("part_id", "warehouse_id"):
        del state["line"][key]
    old = mapper.to_domain_event(_stored_as(added, state))
    assert (old.line.part_id, old.line.warehouse_id) == (None, None) and old.line == added.line


def test_stored_state_is_plain_json_an_auditor_can_read():
    received = next(e for e in EVENTS if isinstance(e, MachineUnit.Received))
    state = msgspec.json.decode(mapper.to_stored_event(received).state)
    assert (state["serial_number"], state["nature"], state["model_code"]) == ("SY215C-1", "repossessed", "SY215C")
    assert state["business_date"] == "2026-03-02"
    assert state["actor_id"] == str(received.actor_id) and state["warehouse_id"] == str(received.warehouse_id)
    assert state["reason"] is None and "class_version" not in state  # version 1 is implied


def test_dates_uuids_enums_and_tuples_come_back_typed():
    received = next(e for e in EVENTS if isinstance(e, MachineUnit.Received))
    back = mapper.to_domain_event(mapper.to_stored_event(received))
    assert isinstance(back.model_id, UUID) and isinstance(back.company_id, UUID)
    assert type(back.business_date) is date and back.business_date == date(2026, 3, 2)
    assert isinstance(back.timestamp, datetime) and back.timestamp.tzinfo is not None
    assert back.nature is MachineNature.REPOSSESSED
    created = next(e for e in EVENTS if isinstance(e, Position.Created))
    back_position = mapper.to_domain_event(mapper.to_stored_event(created))
    assert type(back_position.company_ids) is tuple and all(isinstance(c, UUID) for c in back_position.company_ids)


def test_an_originator_id_given_as_text_is_read_as_a_uuid():
    event = EVENTS[0]
    stored = mapper.to_stored_event(event)
    as_text = StoredEvent(originator_id=str(stored.originator_id), originator_version=stored.originator_version,
                          topic=stored.topic, state=stored.state)
    assert mapper.to_domain_event(as_text).originator_id == event.originator_id


def test_the_library_builds_it_with_its_own_transcoder_yet_it_writes_msgspec_json():
    library_built = MsgspecMapper(transcoder=JSONTranscoder(), compressor=None, cipher=None)
    received = next(e for e in EVENTS if isinstance(e, MachineUnit.Received))
    assert library_built.to_stored_event(received).state == mapper.to_stored_event(received).state


class ReversingCipher(Cipher):
    """Test-only stand-in for AES: reversible, and unreadable if applied in the wrong order."""

    def __init__(self, environment: Any = None) -> None:
        pass

    def encrypt(self, plaintext: bytes) -> bytes:
        return b"enc:" + plaintext[::-1]

    def decrypt(self, ciphertext: bytes) -> bytes:
        if not ciphertext.startswith(b"enc:"):
            raise ValueError("not encrypted by this cipher")
        return ciphertext[4:][::-1]


def test_compressed_and_encrypted_events_round_trip():
    wrapped = MsgspecMapper(compressor=ZlibCompressor(), cipher=ReversingCipher())
    for event in EVENTS:
        stored = wrapped.to_stored_event(event)
        assert stored.state.startswith(b"enc:")
        assert zlib.decompress(ReversingCipher().decrypt(stored.state)) == mapper.to_stored_event(event).state
        assert vars(wrapped.to_domain_event(stored)) == vars(event)


def test_state_that_cannot_be_decrypted_is_refused_with_a_clear_error():
    wrapped = MsgspecMapper(compressor=ZlibCompressor(), cipher=ReversingCipher())
    plain = mapper.to_stored_event(EVENTS[0])
    with pytest.raises(MapperDeserialisationError, match="not encrypted by this cipher"):
        wrapped.to_domain_event(plain)


# ------------------------------------------------------------------ a test-only aggregate with money, in versions
class Ledgered(DealerAggregate):
    """Test-only: events carrying money and dates; ``Paid`` is at version 3."""

    class Opened(DealerAggregate.Created):
        amount: Decimal
        due_on: date

    class Paid(DealerAggregate.Event):
        """v2 added the payment method (every v1 payment was cash);
        v3 added the payment date (v1 and v2 payments were paid on the due date, unknown: None)."""

        class_version = 3
        amount: Decimal
        method: str
        paid_on: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["method"] = "cash"

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            assert state["method"], "v2 comes after v1, never before"
            state["paid_on"] = None

    class Closed(DealerAggregate.Event):
        """Version 2 without its upcast method: a programming error the reader must name."""

        class_version = 2


def _opened(amount: str = "1") -> Ledgered:
    ledger = Ledgered._start(Ledgered.Opened, uuid4(), ctx(), None, amount=Decimal(amount), due_on=date(2026, 4, 30))
    return ledger


def _paid(amount: str = "0.10", method: str = "transfer") -> Ledgered.Paid:
    ledger = _opened()
    ledger.collect_events()
    ledger._record(Ledgered.Paid, ctx(), None, amount=Decimal(amount), method=method, paid_on=date(2026, 3, 2))
    [paid] = ledger.collect_events()
    return paid


def _stored_as(event: Any, state: dict[str, Any] | bytes) -> StoredEvent:
    good = mapper.to_stored_event(event)
    data = state if isinstance(state, bytes) else msgspec.json.encode(state)
    return StoredEvent(originator_id=good.originator_id, originator_version=good.originator_version,
                       topic=good.topic, state=data)


@pytest.mark.parametrize("amount", ["1234567890.15", "0.10", "-12.30", "0.01", "99999999999999.99"])
def test_money_is_stored_as_an_exact_decimal_string_never_a_float(amount):
    [opened] = _opened(amount).collect_events()
    stored = mapper.to_stored_event(opened)
    assert msgspec.json.decode(stored.state)["amount"] == amount  # a JSON string, as typed
    back = mapper.to_domain_event(stored)
    assert type(back.amount) is Decimal and str(back.amount) == amount  # two places kept: 0.10 stays 0.10
    assert back.due_on == date(2026, 4, 30)


def test_the_current_version_is_written_with_its_class_version():
    stored = mapper.to_stored_event(_paid())
    assert msgspec.json.decode(stored.state)["class_version"] == 3
    back = mapper.to_domain_event(stored)
    assert (back.amount, back.method, back.paid_on) == (Decimal("0.10"), "transfer", date(2026, 3, 2))
    assert "class_version" not in vars(back)


def test_a_version_1_event_is_upcast_through_every_version_when_read():
    v3 = msgspec.json.decode(mapper.to_stored_event(_paid()).state)
    v1 = {k: v for k, v in v3.items() if k not in ("class_version", "method", "paid_on")}  # what v1 wrote
    back = mapper.to_domain_event(_stored_as(_paid(), v1))
    assert type(back) is Ledgered.Paid
    assert (back.amount, back.method, back.paid_on) == (Decimal("0.10"), "cash", None)


def test_a_version_2_event_is_upcast_from_version_2_only():
    v3 = msgspec.json.decode(mapper.to_stored_event(_paid(method="cheque")).state)
    v2 = {k: v for k, v in v3.items() if k != "paid_on"} | {"class_version": 2}
    back = mapper.to_domain_event(_stored_as(_paid(), v2))
    assert (back.method, back.paid_on) == ("cheque", None)  # v1→v2 did not run: the method is kept


def test_a_missing_upcast_method_is_refused_with_a_clear_error():
    ledger = _opened()
    ledger.collect_events()
    ledger._record(Ledgered.Closed, ctx(), None)
    [closed] = ledger.collect_events()
    v1 = {k: v for k, v in msgspec.json.decode(mapper.to_stored_event(closed).state).items() if k != "class_version"}
    with pytest.raises(MapperDeserialisationError, match="upcast_v1_v2"):
        mapper.to_domain_event(_stored_as(closed, v1))


# ------------------------------------------------------------------ corrupt stored state
def _paid_state(**changes: Any) -> dict[str, Any]:
    state = msgspec.json.decode(mapper.to_stored_event(_paid()).state)
    state.update(changes)
    return {k: v for k, v in state.items() if v is not ...}


@pytest.mark.parametrize("state", [
    b"not json",
    b'{"amount": "0.10"',
    b"\xff\xfe\x00garbage",
    b"[]",
    _paid_state(amount=[]),
    _paid_state(amount="ten"),
    _paid_state(amount=...),
    _paid_state(actor_id="not-a-uuid"),
    _paid_state(business_date="2026-02-30"),
], ids=["garbage", "truncated", "not-utf8", "not-an-object", "wrong-type", "not-a-number", "missing-field",
        "bad-uuid", "impossible-date"])
def test_corrupt_stored_state_is_refused_with_a_clear_error(state):
    corrupt = _stored_as(_paid(), state)
    with pytest.raises(MapperDeserialisationError) as refused:
        mapper.to_domain_event(corrupt)
    message = str(refused.value)
    assert corrupt.topic in message and str(corrupt.originator_id) in message
    assert f"v{corrupt.originator_version}" in message


def test_an_unknown_enum_value_is_refused_not_kept_as_text():
    received = next(e for e in EVENTS if isinstance(e, MachineUnit.Received))
    state = msgspec.json.decode(mapper.to_stored_event(received).state) | {"nature": "stolen"}
    with pytest.raises(MapperDeserialisationError, match="nature"):
        mapper.to_domain_event(_stored_as(received, state))


def test_an_unknown_topic_is_refused_naming_the_topic():
    stored = mapper.to_stored_event(EVENTS[0])
    renamed = StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                          topic="domain.organisation:Company.Founded", state=stored.state)
    with pytest.raises(TopicError, match="domain.organisation:Company.Founded"):
        mapper.to_domain_event(renamed)
