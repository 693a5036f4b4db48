"""Coupons (卡券): a value the holder spends against later charges.

A ``Coupon`` has a code unique in the group (its id is derived from the code, so a
second coupon with the same code is refused, also when two clerks issue it at the
same instant), a member company, a holder (a customer, or a contact rewarded for a
referral), an origin and a face value:

    promotion  pay 1,000.00, get a coupon of 2,000.00: ``amount_paid`` is money received
    gift       a salesperson's reward for a referral: who promised it (``promised_by``) and why
    contract   granted by a sales contract when it is approved; voided again if the contract
               is un-approved while the coupon is unused, granted again on re-approval

Its **balance** moves only by events:

    balance = face value + adjustments − redeemed + restored − voided

A coupon is **redeemed** as part of a receipt on a debt (the receipt and the coupon are
saved in one transaction): never beyond its balance, never outside its validity (nor on a value date
before it was issued),
never once voided, only against a debt of its own company. If the receipt is rejected
or reversed, what it redeemed is **restored**. Adjusting (with a reason and the
person who approved it), changing details and voiding (only an unused coupon) are
events with actor and reason too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain import ids
from domain.base import AlreadyExistsError, Context, DealerAggregate, DomainError, InvalidValueError, require_key, require_text
from domain.money import ZERO, require_money


class CouponOrigin(StrEnum):
    PROMOTION = "promotion"    # 充值送券
    GIFT = "gift"              # 赠送 (referral reward)
    CONTRACT = "contract"      # granted by a sales contract


class HolderKind(StrEnum):
    CUSTOMER = "customer"
    CONTACT = "contact"


class CouponStatus(StrEnum):
    ACTIVE = "active"
    VOIDED = "voided"


@dataclass(frozen=True)
class CouponHolder:
    kind: HolderKind
    holder_id: UUID


@dataclass(frozen=True)
class CouponUse:
    """What a receipt takes from one coupon."""

    coupon_id: UUID
    code: str
    amount: Decimal


# ---------------------------------------------------------------- refusals
class CouponCodeTakenError(AlreadyExistsError):
    code = "coupon-code-exists"


class CouponBalanceError(InvalidValueError):
    code = "coupon-balance"


class CouponValidityError(InvalidValueError):
    code = "coupon-not-valid"


class CouponVoidedError(DomainError):
    code = "coupon-voided"


class CouponUsedError(DomainError):
    code = "coupon-used"


class CouponOtherCompanyError(InvalidValueError):
    code = "coupon-other-company"


class CouponHolderError(InvalidValueError):
    code = "coupon-holder"


MAX_CODE = 40
CONTRACT_CODE = re.compile(r"-C\d+-\d+$")     # see contract_coupon_code


class Coupon(DealerAggregate):
    """卡券: one coupon, known by its code."""

    class Issued(DealerAggregate.Created):
        code: str
        origin: CouponOrigin
        holder: CouponHolder
        face_value: Decimal
        amount_paid: Decimal             # promotion: the money received for it; else 0.00
        valid_from: date | None
        valid_until: date | None
        promised_by: UUID | None         # gift: the salesperson who promised it
        contract_id: UUID | None         # contract: the contract that granted it
        contract_number: str | None
        note: str | None

        def apply(self, coupon: Coupon) -> None:
            coupon.code = self.code
            coupon.company_id = self.company_id
            coupon.origin = self.origin
            coupon.holder = self.holder
            coupon.face_value = self.face_value
            coupon.valid_from = self.valid_from
            coupon.valid_until = self.valid_until
            coupon.contract_id = self.contract_id
            coupon.note = self.note
            coupon.balance = self.face_value
            coupon.redeemed = ZERO            # net of restorations
            coupon.status = CouponStatus.ACTIVE
            coupon.uses = {}
            coupon.withdrawn_by_unapproval = False
            coupon.issued_on = self.business_date

    class Adjusted(DealerAggregate.Event):
        """The balance raised (positive) or lowered (negative) by ``amount``, with the reason
        and who approved it."""

        amount: Decimal
        approved_by: UUID

        def apply(self, coupon: Coupon) -> None:
            coupon.balance += self.amount

    class DetailsChanged(DealerAggregate.Event):
        holder: CouponHolder
        valid_from: date | None
        valid_until: date | None
        note: str | None

        def apply(self, coupon: Coupon) -> None:
            coupon.holder = self.holder
            coupon.valid_from = self.valid_from
            coupon.valid_until = self.valid_until
            coupon.note = self.note

    class Voided(DealerAggregate.Event):
        """作废: the unused coupon no longer counts; ``amount`` is the balance it had.
        ``by_unapproval``: withdrawn because the contract that granted it was un-approved
        (it is granted again if the contract is approved again)."""

        amount: Decimal
        by_unapproval: bool = False

        def apply(self, coupon: Coupon) -> None:
            coupon.balance -= self.amount
            coupon.status = CouponStatus.VOIDED
            coupon.withdrawn_by_unapproval = self.by_unapproval

    class Regranted(DealerAggregate.Event):
        """The contract that granted it (and withdrew it when un-approved) is approved again,
        with the terms and customer it has now."""

        face_value: Decimal
        note: str | None
        holder: CouponHolder

        def apply(self, coupon: Coupon) -> None:
            coupon.face_value = self.face_value
            coupon.note = self.note
            coupon.holder = self.holder
            coupon.balance = self.face_value
            coupon.status = CouponStatus.ACTIVE
            coupon.withdrawn_by_unapproval = False

    class Redeemed(DealerAggregate.Event):
        """Part of receipt ``receipt_id`` on the debt of ``contract_id`` (same transaction)."""

        receipt_id: UUID
        debt_id: UUID
        contract_id: UUID
        contract_number: str
        amount: Decimal

        def apply(self, coupon: Coupon) -> None:
            coupon.balance -= self.amount
            coupon.redeemed += self.amount
            coupon.uses[self.receipt_id] = self.amount

    class RedeemedOnPartsSale(DealerAggregate.Event):
        """Part of receipt ``receipt_id`` of parts sale ``sale_id`` (same transaction)."""

        receipt_id: UUID
        sale_id: UUID
        sale_number: str
        amount: Decimal

        def apply(self, coupon: Coupon) -> None:
            coupon.balance -= self.amount
            coupon.redeemed += self.amount
            coupon.uses[self.receipt_id] = self.amount

    class RedemptionRestored(DealerAggregate.Event):
        """The receipt was rejected or reversed: what it took comes back."""

        receipt_id: UUID
        amount: Decimal

        def apply(self, coupon: Coupon) -> None:
            coupon.balance += self.amount
            coupon.redeemed -= self.amount
            del coupon.uses[self.receipt_id]

    def refuse_second_creation(self) -> CouponCodeTakenError:
        return self.code_taken(self.code)

    @staticmethod
    def code_taken(code: str) -> CouponCodeTakenError:
        return CouponCodeTakenError(f"Coupon code {ids.normalise_key(code)} is already used in the group; "
                                    "choose another code.", field="code")

    # ------------------------------------------------------------ commands
    @classmethod
    def issue(cls, ctx: Context, code: str, company_id: UUID, origin: CouponOrigin, holder: CouponHolder,
              face_value: Decimal, amount_paid: Decimal = ZERO, valid_from: date | None = None,
              valid_until: date | None = None, promised_by: UUID | None = None, contract_id: UUID | None = None,
              contract_number: str | None = None, note: str | None = None) -> Coupon:
        key = require_key(code, "code", MAX_CODE)
        origin = CouponOrigin(origin)
        if origin != CouponOrigin.CONTRACT and CONTRACT_CODE.search(key):
            raise InvalidValueError("Codes ending in -C<line>-<n> are kept for the coupons contracts grant; choose "
                                    "another code.", field="code")
        face = require_money(face_value, "face_value", positive=True)
        paid = require_money(amount_paid, "amount_paid")
        if origin == CouponOrigin.PROMOTION:
            if paid <= 0 or paid > face:
                raise InvalidValueError("A promotion coupon records the money received for it: more than 0.00 and "
                                        "no more than its face value.", field="amount_paid")
        elif paid:
            raise InvalidValueError("Only a promotion coupon is paid for.", field="amount_paid")
        if origin == CouponOrigin.GIFT:
            if promised_by is None:
                raise InvalidValueError("A gift coupon names the salesperson who promised it.", field="promised_by")
            require_text(ctx.reason or "", "reason", 500)
        elif promised_by is not None:
            raise InvalidValueError("Only a gift coupon names who promised it.", field="promised_by")
        if (origin == CouponOrigin.CONTRACT) != (contract_id is not None):
            raise InvalidValueError("A coupon granted by a contract, and only such a coupon, names the contract.",
                                    field="contract_id")
        _check_validity(valid_from, valid_until)
        return cls._start(cls.Issued, ids.coupon_id(key), ctx, company_id, code=key, origin=origin, holder=holder,
                          face_value=face, amount_paid=paid, valid_from=valid_from, valid_until=valid_until,
                          promised_by=promised_by, contract_id=contract_id, contract_number=contract_number,
                          note=require_text(note, "note", 200) if note else None)

    def adjust(self, ctx: Context, amount: Decimal, approved_by: UUID) -> None:
        self._require_active("adjusted")
        amount = Decimal(str(amount))
        amount = require_money(abs(amount), "amount").copy_sign(amount) if amount.is_finite() else amount
        if not amount.is_finite() or amount == 0:
            raise InvalidValueError("An adjustment changes the balance: give an amount other than 0.00.",
                                    field="amount")
        require_text(ctx.reason or "", "reason", 500)
        if approved_by == ctx.actor_id:
            raise InvalidValueError("Another person approves an adjustment you make.", field="approved_by")
        if self.balance + amount < 0:
            raise CouponBalanceError(f"Coupon {self.code} has {self.balance} left; it cannot be lowered by "
                                     f"{-amount}.", balance=self.balance)
        self._record(self.Adjusted, ctx, self.company_id, amount=amount, approved_by=approved_by)

    def change_details(self, ctx: Context, holder: CouponHolder, valid_from: date | None, valid_until: date | None,
                       note: str | None) -> None:
        self._require_active("changed")
        require_text(ctx.reason or "", "reason", 500)
        _check_validity(valid_from, valid_until)
        note = require_text(note, "note", 200) if note else None
        if (holder, valid_from, valid_until, note) == (self.holder, self.valid_from, self.valid_until, self.note):
            raise DomainError(f"Coupon {self.code} already has exactly these details.", code="nothing-changed")
        self._record(self.DetailsChanged, ctx, self.company_id, holder=holder, valid_from=valid_from,
                     valid_until=valid_until, note=note)

    def void(self, ctx: Context) -> None:
        self._require_active("voided")
        require_text(ctx.reason or "", "reason", 500)
        self._refuse_if_used("voided")
        self._record(self.Voided, ctx, self.company_id, amount=self.balance)

    def check_redeem(self, amount: Decimal, company_id: UUID, customer_id: UUID, customer_contacts: frozenset[UUID],
                     on: date) -> Decimal:
        amount = require_money(amount, f"coupons[{self.code}].amount", positive=True)
        if self.status == CouponStatus.VOIDED:
            raise CouponVoidedError(f"Coupon {self.code} is voided; it cannot be used.")
        if company_id != self.company_id:
            raise CouponOtherCompanyError(f"Coupon {self.code} belongs to another member company; it is used only "
                                          "there.", field="coupons")
        holder_ok = (self.holder.holder_id == customer_id if self.holder.kind == HolderKind.CUSTOMER
                     else self.holder.holder_id in customer_contacts)
        if not holder_ok:
            raise CouponHolderError(f"Coupon {self.code} is held by someone else than this customer or one of its "
                                    "contacts.", field="coupons")
        first = max(self.valid_from or self.issued_on, self.issued_on)   # never before it existed
        if on < first or (self.valid_until and on > self.valid_until):
            raise CouponValidityError(f"Coupon {self.code} is valid from {first} until "
                                      f"{self.valid_until or 'used up'}; it cannot be used on {on}.", field="coupons")
        if amount > self.balance:
            raise CouponBalanceError(f"Coupon {self.code} has {self.balance} left; {amount} cannot be taken from it.",
                                     balance=self.balance, field="coupons")
        return amount

    def redeem(self, ctx: Context, receipt_id: UUID, debt_id: UUID, contract_id: UUID, contract_number: str,
               amount: Decimal, company_id: UUID, customer_id: UUID, customer_contacts: frozenset[UUID],
               on: date) -> None:
        amount = self.check_redeem(amount, company_id, customer_id, customer_contacts, on)
        self._record(self.Redeemed, ctx, self.company_id, receipt_id=receipt_id, debt_id=debt_id,
                     contract_id=contract_id, contract_number=contract_number, amount=amount)

    def redeem_on_parts_sale(self, ctx: Context, receipt_id: UUID, sale_id: UUID, sale_number: str, amount: Decimal,
                             company_id: UUID, customer_id: UUID, customer_contacts: frozenset[UUID],
                             on: date) -> None:
        amount = self.check_redeem(amount, company_id, customer_id, customer_contacts, on)
        self._record(self.RedeemedOnPartsSale, ctx, self.company_id, receipt_id=receipt_id, sale_id=sale_id,
                     sale_number=sale_number, amount=amount)

    def restore(self, ctx: Context, receipt_id: UUID) -> None:
        """The receipt that used it was rejected or reversed (same transaction)."""
        amount = self.uses.get(receipt_id)
        if amount is not None:
            self._record(self.RedemptionRestored, ctx, self.company_id, receipt_id=receipt_id, amount=amount)

    # ------------------------------------------------------------ granted by a contract
    def granted_by(self, contract_id: UUID) -> bool:
        return self.origin == CouponOrigin.CONTRACT and self.contract_id == contract_id

    def void_for_unapproval(self, ctx: Context) -> None:
        if self.status == CouponStatus.VOIDED:
            return
        self._refuse_if_used("withdrawn by un-approving its contract")
        self._record(self.Voided, ctx, self.company_id, amount=self.balance, by_unapproval=True)

    def regrant(self, ctx: Context, face_value: Decimal, note: str | None, holder: CouponHolder) -> None:
        """Granted again on re-approval, only if the un-approval withdrew it: a coupon voided
        by hand stays voided, an active one stays as it is."""
        if self.status == CouponStatus.ACTIVE or not self.withdrawn_by_unapproval:
            return
        self._record(self.Regranted, ctx, self.company_id,
                     face_value=require_money(face_value, "face_value", positive=True), note=note, holder=holder)

    def _refuse_if_used(self, act: str) -> None:
        if self.uses:
            raise CouponUsedError(f"Coupon {self.code} has been used ({self.redeemed} by {len(self.uses)} "
                                  f"receipt(s)); it cannot be {act}. Reverse those receipts first.",
                                  redeemed=self.redeemed)

    def _require_active(self, act: str) -> None:
        if self.status != CouponStatus.ACTIVE:
            raise CouponVoidedError(f"Coupon {self.code} is voided; it cannot be {act}.")


def _check_validity(valid_from: date | None, valid_until: date | None) -> None:
    if valid_from and valid_until and valid_until < valid_from:
        raise InvalidValueError("A coupon is valid until a day on or after the day it is valid from.",
                                field="valid_until")


def contract_coupon_code(contract_number: str, line: int, n: int) -> str:
    """The code of the n-th coupon of a contract's coupon line: ``HF-20260301-ABC123-C1-2``."""
    return f"{contract_number}-C{line}-{n}"
