"""Coupons through the application, on real SQLite and PostgreSQL: SCENARIO.md's promotion
coupon paying part of the April installment, a receipt's rejection and reversal giving the
coupon back, coupons granted by a contract's approval and withdrawn by its un-approval,
concurrent redemptions never spending one balance twice, and the read model."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from application.caller import SYSTEM
from domain.base import DomainError
from domain.contracts import CommercialTerms, GrantedCoupon, InstallmentTerms, PaymentMethod, ScheduleMethod
from domain.coupons import CouponOrigin, HolderKind
from domain.receivables import ReceiptMethod
from projections import coupons
from tests.integration.test_receivables import (  # noqa: F401  (fixtures)
    Clock, People, approve_sale, clock, group, office, pay, people, receivable, scenario_until_april)
from application.coupons.commands import IssueCoupon, VoidCoupon
from application.sales.commands import ApproveContract, SubmitContractForApproval, UnapproveContract
from application.receivables.commands import ConfirmReceipt, CouponPart, RecordReceipt, RejectReceipt, ReverseReceipt

D = Decimal


def promotion(office, group, people, code: str = "PROMO-2026-001", face: str = "2000.00", paid: str = "1000.00",
              **kw):
    return office.execute(people.sun, IssueCoupon(
        code=code, company_id=group.hefei, origin=CouponOrigin.PROMOTION, holder_kind=HolderKind.CUSTOMER,
        holder_id=people.customer, face_value=D(face), amount_paid=D(paid), valid_from=kw.get("valid_from"),
        valid_until=kw.get("valid_until"), promised_by=None, note="Spring promotion"))


def coupon_row(office, code: str) -> dict:
    office.catch_up()
    with office.read() as cur:
        rows, _ = coupons.list_coupons(cur, SYSTEM.scope, coupons.CouponFilter(code_prefix=code), 1, 10)
        row = next(r for r in rows if r["code"] == code)
        row["usage"] = coupons.coupon_usage(cur, row["coupon_id"])
    return row


def test_the_scenario_coupon_pays_part_of_the_april_installment(office, clock, group, people):
    (contract,) = scenario_until_april(office, clock, group, people)
    clock.day = date(2026, 3, 20)
    promotion(office, group, people)
    clock.day = date(2026, 3, 31)
    pay(office, people, contract, "25592.97", date(2026, 3, 31))                  # March on time
    clock.day = date(2026, 4, 30)
    receipt = office.execute(people.chen, RecordReceipt(
        contract_id=contract, amount=D("25592.97"), value_date=date(2026, 4, 30),
        method=ReceiptMethod.BANK_TRANSFER, reference="Slip 0430", coupons=[CouponPart(code="promo-2026-001", amount=D("1500.00"))]))
    receipt_id = UUID(receipt.body["receipt_id"])
    office.execute(people.sun, ConfirmReceipt(contract_id=contract, receipt_id=receipt_id))
    row = coupon_row(office, "PROMO-2026-001")
    assert (row["face_value"], row["amount_paid"], row["redeemed"], row["balance"]) == (
        D("2000.00"), D("1000.00"), D("1500.00"), D("500.00"))
    redemption = next(u for u in row["usage"] if u["kind"] == "redeemed")
    assert str(redemption["receipt_id"]) == str(receipt_id) and str(redemption["contract_id"]) == str(contract)
    assert (redemption["amount"], redemption["balance_after"]) == (D("-1500.00"), D("500.00"))
    debt = receivable(office, people.chen, contract, date(2026, 4, 30))
    april = next(i for i in debt["items"] if i["item"] == "I4")
    assert april["unpaid"] == D("0.00")
    shown = next(r for r in debt["receipts"] if str(r["receipt_id"]) == str(receipt_id))
    assert shown["coupons"] == [{"code": "PROMO-2026-001", "amount": D("1500.00")}]
    assert shown["paid_with_coupons"] == D("1500.00")
    # Reversing the receipt gives the coupon its 1,500.00 back.
    office.execute(people.sun, ReverseReceipt(
        contract_id=contract, receipt_id=receipt_id, reason="Bank returned the transfer"))
    row = coupon_row(office, "PROMO-2026-001")
    assert (row["redeemed"], row["balance"]) == (D("0.00"), D("2000.00"))
    assert [u["kind"] for u in row["usage"]] == ["issued", "redeemed", "restored"]


def test_refusals_leave_the_coupon_and_the_receivable_as_they_were(office, clock, group, people):
    (contract,) = scenario_until_april(office, clock, group, people)
    clock.day = date(2026, 3, 1)
    promotion(office, group, people, "EXPIRES", valid_until=date(2026, 3, 10))
    promotion(office, group, people, "SMALL", face="100.00", paid="50.00")
    with pytest.raises(DomainError) as duplicate:
        promotion(office, group, people, "small")
    assert duplicate.value.code == "coupon-code-exists"
    clock.day = date(2026, 3, 31)
    events_before = office.ledger.recorder.max_notification_id()
    cases = {"coupon-balance": [("SMALL", D("100.01"))], "coupon-not-valid": [("EXPIRES", D("10.00"))],
             "coupon-not-found": [("NO-SUCH", D("1.00"))]}
    for code, used in cases.items():
        with pytest.raises(DomainError) as refused:
            office.execute(people.chen, RecordReceipt(
                contract_id=contract, amount=D("1000.00"), value_date=date(2026, 3, 31),
                method=ReceiptMethod.CASH, coupons=[CouponPart(code=c, amount=a) for c, a in used]))
        assert refused.value.code == code
    assert office.ledger.recorder.max_notification_id() == events_before      # nothing recorded
    office.execute(people.sun, VoidCoupon(code="SMALL", reason="Printed by mistake"))
    events_before = office.ledger.recorder.max_notification_id()
    with pytest.raises(DomainError) as voided:
        office.execute(people.chen, RecordReceipt(
            contract_id=contract, amount=D("1000.00"), value_date=date(2026, 3, 31),
            method=ReceiptMethod.CASH, coupons=[CouponPart(code="SMALL", amount=D("1.00"))]))
    assert voided.value.code == "coupon-voided"
    assert office.ledger.recorder.max_notification_id() == events_before
    assert coupon_row(office, "EXPIRES")["balance"] == D("2000.00")


def test_a_rejected_receipt_gives_the_coupon_back(office, clock, group, people):
    (contract,) = scenario_until_april(office, clock, group, people)
    clock.day = date(2026, 3, 31)
    promotion(office, group, people)
    receipt = office.execute(people.chen, RecordReceipt(
        contract_id=contract, amount=D("2000.00"), value_date=date(2026, 3, 31), method=ReceiptMethod.CASH,
        coupons=[CouponPart(code="PROMO-2026-001", amount=D("2000.00"))]))
    assert coupon_row(office, "PROMO-2026-001")["balance"] == D("0.00")
    with pytest.raises(DomainError) as spent:
        office.execute(people.sun, VoidCoupon(code="PROMO-2026-001", reason="customer left"))
    assert spent.value.code == "coupon-used"
    office.execute(people.sun, RejectReceipt(
        contract_id=contract, receipt_id=UUID(receipt.body["receipt_id"]), reason="Coupon not shown"))
    assert coupon_row(office, "PROMO-2026-001")["balance"] == D("2000.00")
    office.execute(people.sun, VoidCoupon(code="PROMO-2026-001", reason="customer left"))
    row = coupon_row(office, "PROMO-2026-001")
    assert (row["status"], row["voided"], row["balance"]) == ("voided", D("2000.00"), D("0.00"))


def test_coupons_granted_by_a_contract_come_with_its_approval_and_go_with_its_unapproval(office, clock, group,
                                                                                         people):
    terms = CommercialTerms(PaymentMethod.INSTALLMENT, D("80000.00"),
                            InstallmentTerms(12, D("0.0435"), date(2026, 1, 31), ScheduleMethod.EQUAL_INSTALLMENT),
                            D("0.00"), None, (), (GrantedCoupon(D("1000.00"), 2, "Service coupon"),))
    contract = approve_sale(office, group, people, terms)
    office.catch_up()
    with office.read() as cur:
        granted, total = coupons.list_coupons(cur, SYSTEM.scope, coupons.CouponFilter(origin="contract"), 1, 10)
    assert total == 2 and {r["balance"] for r in granted} == {D("1000.00")}
    assert {str(r["contract_id"]) for r in granted} == {str(contract)}
    office.execute(people.zhao, UnapproveContract(contract_id=contract, reason="Wrong customer"))
    office.catch_up()
    with office.read() as cur:
        granted, _ = coupons.list_coupons(cur, SYSTEM.scope, coupons.CouponFilter(origin="contract"), 1, 10)
    assert {r["status"] for r in granted} == {"voided"}
    office.execute(people.chen, SubmitContractForApproval(contract_id=contract))
    office.execute(people.zhao, ApproveContract(contract_id=contract))
    office.catch_up()
    with office.read() as cur:
        granted, _ = coupons.list_coupons(cur, SYSTEM.scope, coupons.CouponFilter(origin="contract"), 1, 10)
        summary = coupons.coupon_summary(cur, SYSTEM.scope)
    assert {(r["status"], r["balance"]) for r in granted} == {("active", D("1000.00"))}
    contract_row = next(r for r in summary if r["origin"] == "contract")
    assert (contract_row["issued"], contract_row["voided"], contract_row["outstanding"]) == (
        D("2000.00"), D("0.00"), D("2000.00"))


def test_two_receipts_at_once_never_spend_one_balance_twice(office, clock, group, people):
    contracts = scenario_until_april(office, clock, group, people, sales=2)
    clock.day = date(2026, 3, 31)
    promotion(office, group, people, face="1000.00", paid="500.00")
    outcomes: list[object] = [None, None]
    barrier = threading.Barrier(2)

    def spend(n: int) -> None:
        barrier.wait()
        try:
            outcomes[n] = office.execute(people.chen, RecordReceipt(
                contract_id=contracts[n], amount=D("800.00"), value_date=date(2026, 3, 31),
                method=ReceiptMethod.CASH, coupons=[CouponPart(code="PROMO-2026-001", amount=D("800.00"))]))
        except DomainError as error:
            outcomes[n] = error

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 1 and refused[0].code == "coupon-balance"
    row = coupon_row(office, "PROMO-2026-001")
    assert (row["redeemed"], row["balance"]) == (D("800.00"), D("200.00"))
