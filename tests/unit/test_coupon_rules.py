"""Given / when / then for coupons (卡券) without a store: issuing by origin (promotion, gift,
contract) and its validations, adjusting with an approver, changing details, voiding an unused
coupon, redeeming against a receipt (``check_redeem``: voided, other company, holder, validity on
the receipt's value date, balance), restoring what a rejected or reversed receipt took, the
contract's un-approval and re-approval (``void_for_unapproval``, ``regrant``), the balance
identity, and the coupons a receipt on a debt (``Debt.record_receipt``) carries.

Expected figures are worked out by hand (the arithmetic is in the comments), never with the
code under test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import ids
from domain.base import DomainError, InvalidValueError
from domain.coupons import (MAX_CODE, Coupon, CouponBalanceError, CouponCodeTakenError, CouponHolder,
                            CouponHolderError, CouponOrigin, CouponOtherCompanyError, CouponStatus, CouponUse,
                            CouponUsedError, CouponValidityError, CouponVoidedError, HolderKind, contract_coupon_code)
from domain.customers import Contact, Customer, CustomerType, PartyKind
from domain.organisation import Company
from domain.receivables import Debt, ReceiptMethod
from interfaces.persistence.encoding import MsgspecMapper
from tests.unit.given import ACTOR, ctx, given, then_events, then_metadata, then_refused
from tests.unit.test_collection_rules import I1, I2, RATES
from tests.unit.test_receivable_rules import CASHIER, FINANCE, HEFEI, debt_of, settle
from interfaces.http.errors import status_of

D = Decimal
ZERO = D("0.00")
WUHU = given(Company.create(ctx(), "WH", "Wuhu"))
FORMAL = given(CustomerType.define(ctx(), "FORMAL", "Formal"))
LIU = given(Contact.register(ctx(), uuid4(), HEFEI, ACTOR, "Liu Qiang"))         # a contact of the customer
ZHAO = given(Contact.register(ctx(), uuid4(), HEFEI, ACTOR, "Zhao Lei"))         # a contact of another customer
_customer = Customer.register(ctx(), uuid4(), HEFEI, ACTOR, "Hefei Earthworks", PartyKind.ORGANISATION, FORMAL)
_customer.link_contact(ctx(), LIU)
CUSTOMER = given(_customer)
OTHER_CUSTOMER = given(Customer.register(ctx(), uuid4(), HEFEI, ACTOR, "Feixi Quarry", PartyKind.ORGANISATION,
                                         FORMAL))
AS_CUSTOMER = CouponHolder(HolderKind.CUSTOMER, CUSTOMER.id)
AS_LIU = CouponHolder(HolderKind.CONTACT, LIU.id)
AS_ZHAO = CouponHolder(HolderKind.CONTACT, ZHAO.id)

CLERK = ACTOR                                                  # issues and manages coupons
APPROVER = UUID("66666666-6666-5666-8666-666666666666")        # approves adjustments
SALESPERSON = UUID("77777777-7777-5777-8777-777777777777")     # promises gift coupons
CONTRACT_ID = uuid4()
CONTRACT_NUMBER = "HF-20260301-ABC123"

ISSUED_ON = date(2026, 3, 2)
VALID_FROM, VALID_UNTIL = date(2026, 3, 5), date(2026, 6, 30)
# The receivable coupons are redeemed against: a contract of 2025-12-15, I1 10,000.00 due
# 01-31 and I2 9,800.00 due 02-28.
DEBT = debt_of(I1, I2)


# ------------------------------------------------------------------ building blocks
def issue(origin: CouponOrigin = CouponOrigin.PROMOTION, code: str = "PROMO-0001", face: str = "2000.00",
          paid: str | None = None, holder: CouponHolder = AS_CUSTOMER, valid_from: date | None = VALID_FROM,
          valid_until: date | None = VALID_UNTIL, promised_by: UUID | None = None, contract_id: UUID | None = None,
          contract_number: str | None = None, note: str | None = None, reason: str | None = None,
          company_id: UUID = HEFEI.id):
    """The issue command, with the fields an origin needs unless told: a promotion is paid
    1,000.00, a gift is promised by the salesperson for a reason, a contract coupon names its
    contract."""
    if paid is None:
        paid = "1000.00" if origin == CouponOrigin.PROMOTION else "0.00"
    if origin == CouponOrigin.GIFT:
        promised_by = promised_by or SALESPERSON
        reason = reason or "referred Feixi Quarry"
    if origin == CouponOrigin.CONTRACT and contract_id is None:
        contract_id, contract_number = CONTRACT_ID, contract_number or CONTRACT_NUMBER
    context = ctx(reason=reason, actor=CLERK, day=ISSUED_ON)
    return lambda: Coupon.issue(context, code, company_id, origin, holder, D(face), D(paid), valid_from, valid_until,
                                promised_by, contract_id, contract_number, note)


def issued(origin: CouponOrigin = CouponOrigin.PROMOTION, **fields: Any) -> Coupon:
    """A coupon as the store gives it back after its issue."""
    return given(issue(origin, **fields)())


def contract_coupon(face: str = "3000.00") -> Coupon:
    return issued(CouponOrigin.CONTRACT, code=contract_coupon_code(CONTRACT_NUMBER, 1, 1), face=face,
                  valid_from=None, valid_until=None, note="first purchase")


def redeem(coupon: Coupon, amount: str, on: date = date(2026, 3, 10), receipt_id: UUID | None = None,
           company_id: UUID = HEFEI.id, customer: Customer = CUSTOMER, day: date | None = None):
    """Redeeming ``amount`` as part of a receipt of value date ``on`` on DEBT."""
    receipt_id = receipt_id or uuid4()
    context = ctx(actor=CASHIER, day=day or on)
    return lambda: coupon.redeem(context, receipt_id, DEBT.id, DEBT.contract_id, DEBT.contract_number, D(amount),
                                 company_id, customer.id, customer.contact_ids, on)


def redeemed(coupon: Coupon, amount: str, on: date = date(2026, 3, 10)) -> UUID:
    """A receipt took ``amount`` from the coupon; what happened so far is the given."""
    receipt_id = uuid4()
    redeem(coupon, amount, on, receipt_id)()
    settle(coupon)
    return receipt_id


def check(coupon: Coupon, amount: str, on: date = date(2026, 3, 10), company_id: UUID = HEFEI.id,
          customer: Customer = CUSTOMER):
    return lambda: coupon.check_redeem(D(amount), company_id, customer.id, customer.contact_ids, on)


def adjusted(coupon: Coupon, amount: str) -> None:
    coupon.adjust(ctx(reason="goodwill", actor=CLERK), D(amount), APPROVER)
    settle(coupon)


def given_from(events: list[Any]) -> Coupon:
    """The coupon rebuilt from ``events``, as the store would rebuild it."""
    rebuilt: Any = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    return rebuilt


def by_events(events: list[Any]) -> Decimal:
    """face + adjustments − redeemed + restored − voided, from the events alone."""
    total = ZERO
    for event in events:
        if isinstance(event, Coupon.Issued):
            total += event.face_value
        elif isinstance(event, (Coupon.Adjusted, Coupon.RedemptionRestored)):
            total += event.amount
        elif isinstance(event, (Coupon.Redeemed, Coupon.Voided)):
            total -= event.amount
    return total


# ------------------------------------------------------------------ issuing
def test_a_promotion_coupon_is_issued_with_the_money_received_for_it():
    # 充值送券: pay 1,000.00, get a coupon of 2,000.00.
    context = ctx(actor=CLERK, day=ISSUED_ON)
    coupon = Coupon.issue(context, "PROMO-0001", HEFEI.id, CouponOrigin.PROMOTION, AS_CUSTOMER, D("2000.00"),
                          D("1000.00"), VALID_FROM, VALID_UNTIL, note=" spring promotion ")
    [event] = then_events(coupon, Coupon.Issued)
    then_metadata(event, context, HEFEI.id)
    assert coupon.id == ids.coupon_id("PROMO-0001") and event.originator_id == coupon.id
    assert (event.code, event.origin, event.holder, event.face_value, event.amount_paid, event.valid_from,
            event.valid_until, event.promised_by, event.contract_id, event.contract_number, event.note) == (
        "PROMO-0001", CouponOrigin.PROMOTION, AS_CUSTOMER, D("2000.00"), D("1000.00"), VALID_FROM, VALID_UNTIL,
        None, None, None, "spring promotion")
    assert (coupon.company_id, coupon.status, coupon.face_value, coupon.balance, coupon.redeemed, coupon.uses) == (
        HEFEI.id, CouponStatus.ACTIVE, D("2000.00"), D("2000.00"), ZERO, {})


def test_a_promotion_coupon_paid_its_whole_face_value_is_taken():
    coupon = issued(face="500.00", paid="500.00")
    assert (coupon.face_value, coupon.balance) == (D("500.00"), D("500.00"))


@pytest.mark.parametrize("paid", ["0.00", "2000.01", "-1.00", "0.001"],
                         ids=["nothing", "more-than-face", "negative", "three-decimals"])
def test_a_promotion_coupon_is_paid_more_than_nothing_and_no_more_than_its_face(paid):
    refusal = then_refused(None, issue(paid=paid), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "amount_paid"


@pytest.mark.parametrize("origin", [CouponOrigin.GIFT, CouponOrigin.CONTRACT])
def test_only_a_promotion_coupon_is_paid_for(origin):
    refusal = then_refused(None, issue(origin, paid="100.00"), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "amount_paid" and "Only a promotion" in refusal.message


def test_a_gift_coupon_names_who_promised_it_and_why():
    context = ctx(reason="referred Feixi Quarry", actor=CLERK, day=ISSUED_ON)
    coupon = Coupon.issue(context, "GIFT-0001", HEFEI.id, CouponOrigin.GIFT, AS_LIU, D("800.00"),
                          promised_by=SALESPERSON)
    [event] = then_events(coupon, Coupon.Issued)
    then_metadata(event, context, HEFEI.id)
    assert (event.origin, event.holder, event.amount_paid, event.promised_by, event.reason, event.valid_from,
            event.valid_until) == (CouponOrigin.GIFT, AS_LIU, ZERO, SALESPERSON, "referred Feixi Quarry", None, None)
    assert coupon.balance == D("800.00")


def test_a_gift_coupon_without_who_promised_it_is_refused():
    context = ctx(reason="referral", actor=CLERK)
    refusal = then_refused(None, lambda: Coupon.issue(context, "GIFT-0001", HEFEI.id, CouponOrigin.GIFT, AS_LIU,
                                                      D("800.00")), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "promised_by"


@pytest.mark.parametrize("reason", [None, "", "  \n "], ids=repr)
def test_a_gift_coupon_without_a_reason_is_refused(reason):
    context = ctx(reason=reason, actor=CLERK)
    refusal = then_refused(None, lambda: Coupon.issue(context, "GIFT-0001", HEFEI.id, CouponOrigin.GIFT, AS_LIU,
                                                      D("800.00"), promised_by=SALESPERSON),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "reason"


@pytest.mark.parametrize("origin", [CouponOrigin.PROMOTION, CouponOrigin.CONTRACT])
def test_only_a_gift_coupon_names_who_promised_it(origin):
    refusal = then_refused(None, issue(origin, promised_by=SALESPERSON), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "promised_by"


def test_a_contract_coupon_names_the_contract_that_granted_it():
    coupon = issue(CouponOrigin.CONTRACT, code=contract_coupon_code(CONTRACT_NUMBER, 2, 3), face="3000.00",
                   valid_from=None, valid_until=None, note="first purchase")()
    [event] = then_events(coupon, Coupon.Issued)
    assert (event.code, event.origin, event.amount_paid, event.contract_id, event.contract_number, event.note) == (
        "HF-20260301-ABC123-C2-3", CouponOrigin.CONTRACT, ZERO, CONTRACT_ID, CONTRACT_NUMBER, "first purchase")
    assert (coupon.contract_id, coupon.balance) == (CONTRACT_ID, D("3000.00"))


def test_a_contract_coupon_without_its_contract_is_refused():
    context = ctx(actor=CLERK)
    refusal = then_refused(None, lambda: Coupon.issue(context, "C-1", HEFEI.id, CouponOrigin.CONTRACT, AS_CUSTOMER,
                                                      D("3000.00")), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "contract_id"


@pytest.mark.parametrize("origin", [CouponOrigin.PROMOTION, CouponOrigin.GIFT])
def test_only_a_contract_coupon_names_a_contract(origin):
    refusal = then_refused(None, issue(origin, contract_id=CONTRACT_ID), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "contract_id"


def test_a_coupon_valid_until_a_day_before_it_is_valid_from_is_refused():
    refusal = then_refused(None, issue(valid_from=date(2026, 3, 10), valid_until=date(2026, 3, 9)),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "valid_until"


@pytest.mark.parametrize(("valid_from", "valid_until"), [
    (date(2026, 3, 10), date(2026, 3, 10)), (None, date(2026, 3, 10)), (date(2026, 3, 10), None), (None, None)],
    ids=["one-day", "until-only", "from-only", "open"])
def test_a_coupon_valid_for_one_day_or_open_ended_is_taken(valid_from, valid_until):
    coupon = issued(valid_from=valid_from, valid_until=valid_until)
    assert (coupon.valid_from, coupon.valid_until) == (valid_from, valid_until)


def test_the_code_is_kept_without_spaces_in_upper_case_and_names_the_coupon():
    coupon = issued(code="  hf promo 0001 ")
    assert coupon.code == "HFPROMO0001"
    assert coupon.id == ids.coupon_id("HFPROMO0001") == ids.coupon_id("Hf Promo 0001")


def test_a_code_of_the_maximum_length_is_taken_and_a_longer_one_refused():
    assert MAX_CODE == 40
    assert issued(code="x" * 40).code == "X" * 40
    refusal = then_refused(None, issue(code="X" * 41), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "code" and "40" in refusal.message
    # Upper case can lengthen it: 'ß' × 21 is 21 characters typed, 'SS' × 21 = 42 stored.
    refusal = then_refused(None, issue(code="ß" * 21), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "code"


@pytest.mark.parametrize("code", ["", "   "], ids=repr)
def test_a_coupon_without_a_code_is_refused(code):
    refusal = then_refused(None, issue(code=code), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "code"


@pytest.mark.parametrize("face", ["0.00", "-100.00", "100.005"], ids=["zero", "negative", "three-decimals"])
def test_a_face_value_that_is_not_a_positive_amount_is_refused(face):
    refusal = then_refused(None, issue(CouponOrigin.GIFT, face=face), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "face_value"


def test_a_second_coupon_with_the_same_code_is_refused_naming_the_code():
    coupon = issued(code="promo-0001")
    taken = coupon.refuse_second_creation()
    assert isinstance(taken, CouponCodeTakenError)
    assert (taken.code, status_of(taken), taken.details) == ("coupon-code-exists", 409, {"field": "code"})
    assert "PROMO-0001" in taken.message
    assert "PROMO-0001" in Coupon.code_taken(" promo - 0001").message         # named as stored


# ------------------------------------------------------------------ adjusting
def test_an_adjustment_raises_the_balance_with_the_reason_and_who_approved_it():
    coupon = issued()
    context = ctx(reason="customer complaint settled", actor=CLERK)
    coupon.adjust(context, D("500.00"), APPROVER)
    [event] = then_events(coupon, Coupon.Adjusted)
    then_metadata(event, context, HEFEI.id)
    assert (event.amount, event.approved_by) == (D("500.00"), APPROVER)
    # 2,000.00 + 500.00
    assert (coupon.balance, coupon.face_value) == (D("2500.00"), D("2000.00"))


def test_an_adjustment_lowers_the_balance_down_to_nothing_but_not_below():
    coupon = issued()
    redeemed(coupon, "600.00")                              # 2,000.00 − 600.00 = 1,400.00 left
    refusal = then_refused(coupon, lambda: coupon.adjust(ctx(reason="typo", actor=CLERK), D("-1400.01"), APPROVER),
                           CouponBalanceError, "coupon-balance", 422)
    assert refusal.details["balance"] == D("1400.00") and "1400.01" in refusal.message
    coupon.adjust(ctx(reason="typo", actor=CLERK), D("-1400.00"), APPROVER)
    [event] = then_events(coupon, Coupon.Adjusted)
    assert (event.amount, coupon.balance) == (D("-1400.00"), ZERO)


@pytest.mark.parametrize("amount", ["0", "0.00", "-0.00"])
def test_an_adjustment_of_nothing_is_refused(amount):
    coupon = issued()
    refusal = then_refused(coupon, lambda: coupon.adjust(ctx(reason="goodwill", actor=CLERK), D(amount), APPROVER),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "amount"


@pytest.mark.parametrize("amount", ["0.001", "-12.345", "NaN", "Infinity"])
def test_an_adjustment_that_is_not_an_amount_in_fen_is_refused(amount):
    coupon = issued()
    refusal = then_refused(coupon, lambda: coupon.adjust(ctx(reason="goodwill", actor=CLERK), D(amount), APPROVER),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "amount"


def test_an_adjustment_you_approve_yourself_is_refused():
    coupon = issued()
    refusal = then_refused(coupon, lambda: coupon.adjust(ctx(reason="goodwill", actor=CLERK), D("100.00"), CLERK),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "approved_by"


@pytest.mark.parametrize("reason", [None, " "], ids=repr)
def test_an_adjustment_without_a_reason_is_refused(reason):
    coupon = issued()
    refusal = then_refused(coupon, lambda: coupon.adjust(ctx(reason=reason, actor=CLERK), D("100.00"), APPROVER),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "reason"


def test_a_voided_coupon_is_not_adjusted():
    coupon = issued()
    coupon.void(ctx(reason="issued in error", actor=CLERK))
    settle(coupon)
    refusal = then_refused(coupon, lambda: coupon.adjust(ctx(reason="goodwill", actor=CLERK), D("100.00"), APPROVER),
                           CouponVoidedError, "coupon-voided", 409)
    assert "PROMO-0001" in refusal.message


# ------------------------------------------------------------------ changing details
def test_the_holder_validity_and_note_are_changed_with_a_reason():
    coupon = issued()
    context = ctx(reason="given on to the site manager", actor=CLERK)
    coupon.change_details(context, AS_LIU, date(2026, 4, 1), date(2026, 12, 31), "  for the site manager ")
    [event] = then_events(coupon, Coupon.DetailsChanged)
    then_metadata(event, context, HEFEI.id)
    assert (event.holder, event.valid_from, event.valid_until, event.note) == (
        AS_LIU, date(2026, 4, 1), date(2026, 12, 31), "for the site manager")
    assert (coupon.holder, coupon.valid_from, coupon.valid_until, coupon.note, coupon.balance) == (
        AS_LIU, date(2026, 4, 1), date(2026, 12, 31), "for the site manager", D("2000.00"))


def test_details_changed_to_what_they_are_are_refused_as_nothing_changed():
    coupon = issued(note="spring promotion")
    refusal = then_refused(coupon, lambda: coupon.change_details(ctx(reason="check", actor=CLERK), AS_CUSTOMER,
                                                                 VALID_FROM, VALID_UNTIL, " spring promotion "),
                           DomainError, "nothing-changed", 409)
    assert "PROMO-0001" in refusal.message


@pytest.mark.parametrize("reason", [None, ""], ids=repr)
def test_details_changed_without_a_reason_are_refused(reason):
    coupon = issued()
    refusal = then_refused(coupon, lambda: coupon.change_details(ctx(reason=reason, actor=CLERK), AS_LIU,
                                                                 VALID_FROM, VALID_UNTIL, None),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "reason"


def test_details_valid_until_before_valid_from_are_refused():
    coupon = issued()
    refusal = then_refused(coupon, lambda: coupon.change_details(ctx(reason="extend", actor=CLERK), AS_CUSTOMER,
                                                                 date(2026, 7, 1), date(2026, 6, 30), None),
                           InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "valid_until"


def test_the_details_of_a_voided_coupon_are_not_changed():
    coupon = issued()
    coupon.void(ctx(reason="issued in error", actor=CLERK))
    settle(coupon)
    then_refused(coupon, lambda: coupon.change_details(ctx(reason="extend", actor=CLERK), AS_LIU, VALID_FROM,
                                                       VALID_UNTIL, None), CouponVoidedError, "coupon-voided", 409)


# ------------------------------------------------------------------ voiding
def test_an_unused_coupon_is_voided_for_the_balance_it_had():
    coupon = issued()
    adjusted(coupon, "300.00")                              # 2,000.00 + 300.00 = 2,300.00
    context = ctx(reason="customer left the promotion", actor=CLERK)
    coupon.void(context)
    [event] = then_events(coupon, Coupon.Voided)
    then_metadata(event, context, HEFEI.id)
    assert event.amount == D("2300.00")
    assert (coupon.status, coupon.balance, coupon.face_value) == (CouponStatus.VOIDED, ZERO, D("2000.00"))


@pytest.mark.parametrize("reason", [None, "\t"], ids=repr)
def test_a_coupon_is_not_voided_without_a_reason(reason):
    coupon = issued()
    refusal = then_refused(coupon, lambda: coupon.void(ctx(reason=reason, actor=CLERK)), InvalidValueError,
                           "invalid-value", 422)
    assert refusal.details["field"] == "reason"


def test_a_used_coupon_is_not_voided():
    coupon = issued()
    redeemed(coupon, "300.00")
    redeemed(coupon, "200.00")
    refusal = then_refused(coupon, lambda: coupon.void(ctx(reason="issued in error", actor=CLERK)),
                           CouponUsedError, "coupon-used", 409)
    # 300.00 + 200.00 by 2 receipts
    assert refusal.details["redeemed"] == D("500.00") and "2 receipt(s)" in refusal.message


def test_a_coupon_whose_only_use_was_restored_is_unused_again_and_voided_for_its_whole_balance():
    coupon = issued()
    receipt_id = redeemed(coupon, "300.00")
    coupon.restore(ctx(actor=FINANCE, reason="bounced"), receipt_id)
    settle(coupon)
    coupon.void(ctx(reason="issued in error", actor=CLERK))
    [event] = then_events(coupon, Coupon.Voided)
    assert (event.amount, coupon.balance, coupon.redeemed) == (D("2000.00"), ZERO, ZERO)


def test_a_voided_coupon_is_not_voided_again():
    coupon = issued()
    coupon.void(ctx(reason="issued in error", actor=CLERK))
    settle(coupon)
    then_refused(coupon, lambda: coupon.void(ctx(reason="again", actor=CLERK)), CouponVoidedError, "coupon-voided",
                 409)


# ------------------------------------------------------------------ redeeming
def test_a_coupon_is_redeemed_as_part_of_a_receipt():
    coupon = issued()
    receipt_id = uuid4()
    context = ctx(actor=CASHIER, day=date(2026, 3, 12))
    coupon.redeem(context, receipt_id, DEBT.id, DEBT.contract_id, DEBT.contract_number, D("750.50"), HEFEI.id,
                  CUSTOMER.id, CUSTOMER.contact_ids, date(2026, 3, 10))
    [event] = then_events(coupon, Coupon.Redeemed)
    then_metadata(event, context, HEFEI.id)
    assert (event.receipt_id, event.debt_id, event.contract_id, event.contract_number, event.amount) == (
        receipt_id, DEBT.id, DEBT.contract_id, "HF-TEST", D("750.50"))
    # 2,000.00 − 750.50 = 1,249.50
    assert (coupon.balance, coupon.redeemed, coupon.uses) == (D("1249.50"), D("750.50"), {receipt_id: D("750.50")})


def test_checking_a_redemption_records_nothing_and_gives_the_amount_in_fen():
    coupon = issued()
    assert check(coupon, "750.5")() == D("750.50")
    assert list(coupon.collect_events()) == [] and coupon.balance == D("2000.00")


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "10.001"])
def test_a_redemption_that_is_not_a_positive_amount_in_fen_is_refused(amount):
    coupon = issued()
    refusal = then_refused(coupon, redeem(coupon, amount), InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "coupons[PROMO-0001].amount"


def test_a_voided_coupon_is_not_redeemed():
    coupon = issued()
    coupon.void(ctx(reason="issued in error", actor=CLERK))
    settle(coupon)
    then_refused(coupon, redeem(coupon, "100.00"), CouponVoidedError, "coupon-voided", 409)
    then_refused(coupon, check(coupon, "100.00"), CouponVoidedError, "coupon-voided", 409)


def test_a_coupon_of_another_company_is_not_redeemed():
    coupon = issued()
    refusal = then_refused(coupon, redeem(coupon, "100.00", company_id=WUHU.id), CouponOtherCompanyError,
                           "coupon-other-company", 422)
    assert refusal.details["field"] == "coupons"


def test_a_coupon_held_by_another_customer_is_not_redeemed():
    coupon = issued(holder=CouponHolder(HolderKind.CUSTOMER, OTHER_CUSTOMER.id))
    refusal = then_refused(coupon, redeem(coupon, "100.00"), CouponHolderError, "coupon-holder", 422)
    assert refusal.details["field"] == "coupons"


def test_a_coupon_held_by_the_customer_is_not_redeemed_on_another_customers_debt():
    coupon = issued()
    then_refused(coupon, redeem(coupon, "100.00", customer=OTHER_CUSTOMER), CouponHolderError, "coupon-holder", 422)


def test_a_coupon_held_by_a_contact_of_someone_else_is_not_redeemed():
    coupon = issued(holder=AS_ZHAO)
    assert ZHAO.id not in CUSTOMER.contact_ids
    then_refused(coupon, redeem(coupon, "100.00"), CouponHolderError, "coupon-holder", 422)


def test_a_coupon_held_by_a_contact_is_not_redeemed_by_a_customer_without_that_contact():
    coupon = issued(CouponOrigin.GIFT, holder=AS_LIU)
    then_refused(coupon, redeem(coupon, "100.00", customer=OTHER_CUSTOMER), CouponHolderError, "coupon-holder", 422)


def test_a_coupon_held_by_a_contact_of_the_customer_is_redeemed_on_its_debt():
    # A referral reward to Liu Qiang, who is a contact of the customer.
    coupon = issued(CouponOrigin.GIFT, holder=AS_LIU, face="800.00")
    assert LIU.id in CUSTOMER.contact_ids
    redeem(coupon, "800.00")()
    [event] = then_events(coupon, Coupon.Redeemed)
    assert (event.amount, coupon.balance) == (D("800.00"), ZERO)


def test_a_coupon_held_by_a_contact_is_checked_against_the_contacts_not_the_customer():
    # The holder's kind counts, not only its id: a contact-held coupon naming the customer's own
    # id is not held by one of its contacts.
    coupon = issued(holder=CouponHolder(HolderKind.CONTACT, CUSTOMER.id))
    then_refused(coupon, redeem(coupon, "100.00"), CouponHolderError, "coupon-holder", 422)


@pytest.mark.parametrize("on", [date(2026, 3, 4), date(2026, 7, 1)], ids=["before-valid-from", "after-valid-until"])
def test_a_coupon_is_not_redeemed_outside_its_validity(on):
    coupon = issued()
    refusal = then_refused(coupon, redeem(coupon, "100.00", on=on, day=date(2026, 7, 1)), CouponValidityError,
                           "coupon-not-valid", 422)
    assert refusal.details["field"] == "coupons" and str(on) in refusal.message


@pytest.mark.parametrize("on", [VALID_FROM, VALID_UNTIL], ids=["on-valid-from", "on-valid-until"])
def test_a_coupon_is_redeemed_on_the_first_and_the_last_day_of_its_validity(on):
    coupon = issued()
    redeem(coupon, "100.00", on=on)()
    then_events(coupon, Coupon.Redeemed)


def test_the_validity_is_held_to_the_receipts_value_date_not_the_day_it_is_recorded():
    # Recorded 07-03, after the coupon's last day, for money that arrived 06-30: taken.
    coupon = issued()
    redeem(coupon, "100.00", on=date(2026, 6, 30), day=date(2026, 7, 3))()
    then_events(coupon, Coupon.Redeemed)
    # Recorded 03-06, within the validity, for money that arrived 03-04, before it: refused.
    then_refused(coupon, redeem(coupon, "100.00", on=date(2026, 3, 4), day=date(2026, 3, 6)), CouponValidityError,
                 "coupon-not-valid", 422)


def test_a_coupon_is_never_redeemed_on_a_value_date_before_it_was_issued():
    # Issued 03-02 without a validity: money that arrived 03-01 cannot have been paid with it.
    coupon = issued(valid_from=None, valid_until=None)
    refusal = then_refused(coupon, redeem(coupon, "100.00", on=date(2026, 3, 1), day=date(2026, 3, 3)),
                           CouponValidityError, "coupon-not-valid", 422)
    assert "valid from 2026-03-02" in refusal.message
    redeem(coupon, "100.00", on=ISSUED_ON, day=date(2026, 3, 3))()
    then_events(coupon, Coupon.Redeemed)


def test_an_open_ended_coupon_is_redeemed_any_day_from_its_issue():
    coupon = issued(valid_from=None, valid_until=None)
    redeem(coupon, "100.00", on=ISSUED_ON)()
    redeem(coupon, "100.00", on=date(2030, 1, 1))()
    then_events(coupon, Coupon.Redeemed, Coupon.Redeemed)


def test_more_than_the_balance_is_not_redeemed_and_exactly_the_balance_is():
    coupon = issued()
    redeemed(coupon, "1500.00")                             # 2,000.00 − 1,500.00 = 500.00 left
    refusal = then_refused(coupon, redeem(coupon, "500.01"), CouponBalanceError, "coupon-balance", 422)
    assert (refusal.details["balance"], refusal.details["field"]) == (D("500.00"), "coupons")
    then_refused(coupon, check(coupon, "500.01"), CouponBalanceError, "coupon-balance", 422)
    redeem(coupon, "500.00")()
    [event] = then_events(coupon, Coupon.Redeemed)
    assert (event.amount, coupon.balance, coupon.redeemed) == (D("500.00"), ZERO, D("2000.00"))
    then_refused(coupon, redeem(coupon, "0.01"), CouponBalanceError, "coupon-balance", 422)


def test_a_raised_balance_can_be_redeemed_beyond_the_face_value():
    coupon = issued()
    adjusted(coupon, "250.00")                              # 2,000.00 + 250.00 = 2,250.00
    redeem(coupon, "2250.00")()
    then_events(coupon, Coupon.Redeemed)
    assert coupon.balance == ZERO


# ------------------------------------------------------------------ restoring
def test_a_rejected_receipt_gets_back_exactly_what_it_took():
    coupon = issued()
    first = redeemed(coupon, "300.00")
    second = redeemed(coupon, "500.00")                     # 2,000.00 − 300.00 − 500.00 = 1,200.00 left
    context = ctx(actor=FINANCE, reason="bounced")
    coupon.restore(context, first)
    [event] = then_events(coupon, Coupon.RedemptionRestored)
    then_metadata(event, context, HEFEI.id)
    assert (event.receipt_id, event.amount) == (first, D("300.00"))
    # 1,200.00 + 300.00 = 1,500.00; still 500.00 redeemed, by the second receipt
    assert (coupon.balance, coupon.redeemed, coupon.uses) == (D("1500.00"), D("500.00"), {second: D("500.00")})


def test_restoring_for_a_receipt_that_took_nothing_from_the_coupon_records_nothing():
    coupon = issued()
    receipt_id = redeemed(coupon, "300.00")
    coupon.restore(ctx(actor=FINANCE), uuid4())
    then_events(coupon)
    coupon.restore(ctx(actor=FINANCE), receipt_id)
    settle(coupon)
    coupon.restore(ctx(actor=FINANCE), receipt_id)              # already given back
    then_events(coupon)
    assert (coupon.balance, coupon.redeemed, coupon.uses) == (D("2000.00"), ZERO, {})


# ------------------------------------------------------------------ granted by a contract
def test_un_approving_the_contract_voids_its_unused_coupon():
    coupon = contract_coupon()
    context = ctx(reason="contract review")
    coupon.void_for_unapproval(context)
    [event] = then_events(coupon, Coupon.Voided)
    then_metadata(event, context, HEFEI.id)
    assert (event.amount, coupon.status, coupon.balance) == (D("3000.00"), CouponStatus.VOIDED, ZERO)


def test_un_approving_the_contract_again_leaves_a_voided_coupon_as_it_is():
    coupon = contract_coupon()
    coupon.void_for_unapproval(ctx())
    settle(coupon)
    coupon.void_for_unapproval(ctx())
    then_events(coupon)
    assert coupon.status == CouponStatus.VOIDED


def test_un_approving_the_contract_is_refused_while_its_coupon_is_used():
    coupon = contract_coupon()
    redeemed(coupon, "1000.00")
    refusal = then_refused(coupon, lambda: coupon.void_for_unapproval(ctx()), CouponUsedError, "coupon-used", 409)
    assert refusal.details["redeemed"] == D("1000.00") and "un-approving" in refusal.message


def test_re_approving_the_contract_grants_the_voided_coupon_again_at_its_new_face_value():
    coupon = contract_coupon()
    coupon.void_for_unapproval(ctx())
    settle(coupon)
    context = ctx(day=date(2026, 3, 5))
    coupon.regrant(context, D("3500.00"), "first purchase, revised", AS_LIU)
    [event] = then_events(coupon, Coupon.Regranted)
    then_metadata(event, context, HEFEI.id)
    assert (event.face_value, event.note, event.holder) == (D("3500.00"), "first purchase, revised", AS_LIU)
    assert coupon.holder == AS_LIU          # the contract's customer now (it may have changed meanwhile)
    assert (coupon.status, coupon.face_value, coupon.balance, coupon.note, coupon.redeemed) == (
        CouponStatus.ACTIVE, D("3500.00"), D("3500.00"), "first purchase, revised", ZERO)
    redeem(coupon, "3500.00")()
    then_events(coupon, Coupon.Redeemed)


def test_re_approving_leaves_an_active_coupon_as_it_is():
    coupon = contract_coupon()
    redeemed(coupon, "1000.00")
    coupon.regrant(ctx(), D("3500.00"), "revised", coupon.holder)
    then_events(coupon)
    # 3,000.00 − 1,000.00
    assert (coupon.face_value, coupon.balance, coupon.note) == (D("3000.00"), D("2000.00"), "first purchase")



def test_re_approving_the_contract_does_not_revive_a_coupon_voided_by_hand():
    coupon = contract_coupon()
    coupon.void(ctx(reason="customer declined the coupon", actor=CLERK))
    settle(coupon)
    coupon.void_for_unapproval(ctx(reason="contract review"))      # already voided: the un-approval does nothing
    then_events(coupon)
    coupon.regrant(ctx(), D("3000.00"), "first purchase", coupon.holder)
    then_events(coupon)                                             # it was not voided by the un-approval
    assert (coupon.status, coupon.balance) == (CouponStatus.VOIDED, ZERO)


# ------------------------------------------------------------------ the balance
def test_the_balance_is_face_plus_adjustments_less_what_is_redeemed_net_and_voided():
    coupon = issue()()
    events = list(coupon.collect_events())
    coupon = given_from(events)
    def step(command: Any, balance: str, redeemed_net: str) -> None:
        command()
        events.extend(coupon.collect_events())
        assert (coupon.balance, coupon.redeemed) == (D(balance), D(redeemed_net))
        assert by_events(events) == coupon.balance

    first, second = uuid4(), uuid4()
    step(lambda: coupon.adjust(ctx(reason="goodwill", actor=CLERK), D("300.00"), APPROVER), "2300.00", "0.00")
    step(redeem(coupon, "800.00", receipt_id=first), "1500.00", "800.00")              # 2,300 − 800
    step(redeem(coupon, "200.00", receipt_id=second), "1300.00", "1000.00")            # 1,500 − 200
    step(lambda: coupon.restore(ctx(actor=FINANCE), first), "2100.00", "200.00")       # 1,300 + 800
    step(lambda: coupon.adjust(ctx(reason="typo", actor=CLERK), D("-150.00"), APPROVER), "1950.00", "200.00")
    step(lambda: coupon.restore(ctx(actor=FINANCE), second), "2150.00", "0.00")        # 1,950 + 200
    step(lambda: coupon.void(ctx(reason="closed", actor=CLERK)), "0.00", "0.00")
    # face 2,000.00 + adjustments (300.00 − 150.00) − redeemed net 0.00 − voided 2,150.00 = 0.00
    [voided] = [e for e in events if isinstance(e, Coupon.Voided)]
    adjustments = sum((e.amount for e in events if isinstance(e, Coupon.Adjusted)), ZERO)
    assert (adjustments, voided.amount) == (D("150.00"), D("2150.00"))
    assert coupon.face_value + adjustments - coupon.redeemed - voided.amount == coupon.balance == ZERO
    assert [type(e) for e in events] == [Coupon.Issued, Coupon.Adjusted, Coupon.Redeemed, Coupon.Redeemed,
                                         Coupon.RedemptionRestored, Coupon.Adjusted, Coupon.RedemptionRestored,
                                         Coupon.Voided]


def test_the_balance_with_redemptions_left_standing():
    coupon = issued()
    adjusted(coupon, "500.00")
    redeemed(coupon, "700.00")
    kept = redeemed(coupon, "450.25")
    restored = redeemed(coupon, "100.00")
    adjusted(coupon, "-49.75")
    coupon.restore(ctx(actor=FINANCE), restored)
    settle(coupon)
    # 2,000.00 + (500.00 − 49.75) − (700.00 + 450.25) = 1,300.00
    assert (coupon.redeemed, coupon.balance) == (D("1150.25"), D("1300.00"))
    assert D("2000.00") + D("450.25") - coupon.redeemed == coupon.balance
    assert kept in coupon.uses and restored not in coupon.uses


def test_a_coupon_rebuilt_from_its_events_equals_the_live_one():
    coupon = issue(CouponOrigin.GIFT, holder=AS_LIU, note="referral")()
    coupon.adjust(ctx(reason="goodwill", actor=CLERK), D("200.00"), APPROVER)
    coupon.change_details(ctx(reason="extend", actor=CLERK), AS_LIU, VALID_FROM, date(2026, 12, 31), "extended")
    used = uuid4()
    redeem(coupon, "300.00", receipt_id=used)()
    redeem(coupon, "150.00")()
    coupon.restore(ctx(actor=FINANCE), used)
    events = list(coupon.collect_events())
    assert len(events) == 6 and coupon.version == 6
    rebuilt = given_from(events)
    assert vars(rebuilt) == vars(coupon)
    mapper = MsgspecMapper()   # and as the store encodes and decodes them
    decoded = given_from([mapper.to_domain_event(mapper.to_stored_event(e)) for e in events])
    assert vars(decoded) == vars(coupon)
    # 2,000.00 + 200.00 − 150.00
    assert (decoded.balance, decoded.holder, decoded.note) == (D("2050.00"), AS_LIU, "extended")


def test_a_voided_and_regranted_contract_coupon_rebuilt_from_its_events_equals_the_live_one():
    coupon = issue(CouponOrigin.CONTRACT, code="C-1", valid_from=None, valid_until=None)()
    coupon.void_for_unapproval(ctx())
    coupon.regrant(ctx(), D("2500.00"), None, coupon.holder)
    events = list(coupon.collect_events())
    assert vars(given_from(events)) == vars(coupon)
    assert (coupon.status, coupon.balance, coupon.note) == (CouponStatus.ACTIVE, D("2500.00"), None)


# ------------------------------------------------------------------ a receipt paid partly with coupons
def coupon_uses(*amounts: str) -> list[CouponUse]:
    return [CouponUse(uuid4(), f"PROMO-{n}", D(amount)) for n, amount in enumerate(amounts, 1)]


def record_with(debt: Debt, amount: str, coupons: list[CouponUse], day: date = date(2026, 1, 31)):
    receipt_id = uuid4()
    context = ctx(actor=CASHIER, day=day)
    return receipt_id, lambda: debt.record_receipt(context, receipt_id, D(amount), day, ReceiptMethod.BANK_TRANSFER,
                                                   "BANK-REF", coupons=coupons)


def test_a_receipt_carries_the_coupons_that_paid_part_of_it_and_its_amount_is_the_whole_receipt():
    debt = debt_of(I1, I2)
    uses = coupon_uses("1500.00", "500.00")
    receipt_id, command = record_with(debt, "10000.00", uses)
    command()
    [recorded] = then_events(debt, Debt.ReceiptRecorded)
    # 10,000.00 is the whole receipt: 1,500.00 + 500.00 by coupons, 8,000.00 by bank transfer
    assert (recorded.amount, recorded.coupons) == (D("10000.00"), tuple(uses))
    assert debt.receipts[receipt_id].coupons == tuple(uses)
    debt.confirm_receipt(ctx(actor=FINANCE, day=date(2026, 1, 31)), receipt_id, RATES)
    settle(debt)
    # I1 10,000.00 paid in full on its due date; I2 9,800.00 left
    assert (debt.received, debt.outstanding("I1"), debt.total_outstanding) == (D("10000.00"), ZERO, D("9800.00"))


def test_a_receipt_paid_entirely_with_coupons_is_taken():
    debt = debt_of(I1, I2)
    uses = coupon_uses("6000.00", "4000.00")                 # 6,000.00 + 4,000.00 = 10,000.00
    _, command = record_with(debt, "10000.00", uses)
    command()
    [recorded] = then_events(debt, Debt.ReceiptRecorded)
    assert recorded.coupons == tuple(uses)


def test_a_receipt_without_coupons_carries_none():
    debt = debt_of(I1, I2)
    _, command = record_with(debt, "100.00", [])
    command()
    [recorded] = then_events(debt, Debt.ReceiptRecorded)
    assert recorded.coupons == ()


def test_a_receipt_naming_a_coupon_twice_is_refused():
    debt = debt_of(I1, I2)
    [use] = coupon_uses("100.00")
    _, command = record_with(debt, "1000.00", [use, CouponUse(use.coupon_id, use.code, D("200.00"))])
    refusal = then_refused(debt, command, InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "coupons"


def test_coupons_paying_more_than_the_receipt_are_refused():
    debt = debt_of(I1, I2)
    # 600.00 + 400.01 = 1,000.01 > 1,000.00
    _, command = record_with(debt, "1000.00", coupon_uses("600.00", "400.01"))
    refusal = then_refused(debt, command, InvalidValueError, "invalid-value", 422)
    assert refusal.details["field"] == "coupons" and "1000.01" in refusal.message and "1000.00" in refusal.message


@pytest.mark.parametrize("origin", [CouponOrigin.PROMOTION, CouponOrigin.GIFT])
def test_a_code_shaped_like_a_contracts_coupon_is_kept_for_contracts(origin):
    # HF-20260301-ABC123-C1-1 is what the approval of contract HF-20260301-ABC123 will issue.
    refusal = then_refused(None, issue(origin, code="hf-20260301-abc123-c1-1"), InvalidValueError, "invalid-value",
                           422)
    assert refusal.details["field"] == "code"
    issued(origin, code="SPRING-C1")                        # not the contract shape: taken
