"""What a contract says: its status, the machine lines it sells and the commercial terms the
clerk completes, with the rules that check them (see the package's docstring for the flow).

Every class here keeps ``__module__ = "domain.contracts"``: snapshots store their topics
(see ``domain/contracts/__init__.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.base import InvalidValueError, require_text
from domain.money import ZERO, require_money


class ContractStatus(StrEnum):
    __module__ = "domain.contracts"

    DRAFT = "draft"                # with the salesperson: new, or returned to them
    WITH_CLERK = "with_clerk"      # with the sales clerk: submitted, rejected or un-approved
    IN_APPROVAL = "in_approval"
    APPROVED = "approved"


class PaymentMethod(StrEnum):
    __module__ = "domain.contracts"

    CASH = "cash"                  # 全款
    INSTALLMENT = "installment"    # 分期: down payment + schedule


class ScheduleMethod(StrEnum):
    __module__ = "domain.contracts"

    EQUAL_INSTALLMENT = "equal_installment"   # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"       # 等额本金
    TYPED = "typed"                           # dates and amounts typed by the clerk on the receivable


@dataclass(frozen=True)
class ContractLine:
    """A machine model sold: quantity × unit price."""

    __module__ = "domain.contracts"

    model_id: UUID
    model_code: str
    quantity: int
    unit_price: Decimal
    # 同类型替代: a unit of another model of the same machine type may be delivered.
    # Added after the first contracts were stored; they read as False.
    substitute_allowed: bool = False

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class InstallmentTerms:
    __module__ = "domain.contracts"

    months: int
    annual_rate: Decimal          # a fraction: 0.0435 is 4.35 % a year; 0 allowed
    first_due_date: date
    method: ScheduleMethod


@dataclass(frozen=True)
class AgreedAccessory:
    """附件 agreed in the contract; unit price 0.00 when it comes with the machine."""

    __module__ = "domain.contracts"

    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class GrantedCoupon:
    """A coupon the contract grants the customer once approved."""

    __module__ = "domain.contracts"

    face_value: Decimal
    quantity: int
    note: str | None


@dataclass(frozen=True)
class CommercialTerms:
    __module__ = "domain.contracts"

    payment: PaymentMethod
    down_payment: Decimal          # 首付; 0.00 for a cash sale
    installment: InstallmentTerms | None
    warranty_deposit: Decimal      # 质保金, paid after a year without quality problems; 0.00 if none
    warranty_due_date: date | None
    accessories: tuple[AgreedAccessory, ...]
    coupons: tuple[GrantedCoupon, ...]

    @property
    def accessories_amount(self) -> Decimal:
        return sum((a.unit_price * a.quantity for a in self.accessories), ZERO)


MAX_LINES = 20
MAX_QUANTITY = 1000
FIRST_DUE_WITHIN_DAYS = 730


def check_lines(lines: list[tuple]) -> tuple[ContractLine, ...]:
    if not lines:
        raise InvalidValueError("A contract sells at least one machine model.", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidValueError(f"A contract has at most {MAX_LINES} lines.", field="lines")
    checked = []
    for n, (model, quantity, unit_price, *substitute) in enumerate(lines, 1):
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidValueError(f"Line {n}: the quantity is between 1 and {MAX_QUANTITY}.", field="lines")
        checked.append(ContractLine(model.id, model.code, quantity,
                                    require_money(unit_price, f"lines[{n}].unit_price", positive=True),
                                    bool(substitute and substitute[0])))
    return tuple(checked)


def check_terms(terms: CommercialTerms, machines_amount: Decimal, drafted_on: date) -> CommercialTerms:
    accessories = []
    for n, a in enumerate(terms.accessories, 1):
        if not 1 <= a.quantity <= MAX_QUANTITY:
            raise InvalidValueError(f"Accessory {n}: the quantity is between 1 and {MAX_QUANTITY}.",
                                    field="accessories")
        accessories.append(AgreedAccessory(require_text(a.name, f"accessories[{n}].name", 100), a.quantity,
                                           require_money(a.unit_price, f"accessories[{n}].unit_price")))
    coupons = []
    for n, c in enumerate(terms.coupons, 1):
        if not 1 <= c.quantity <= 100:
            raise InvalidValueError(f"Coupon {n}: the quantity is between 1 and 100.", field="coupons")
        coupons.append(GrantedCoupon(require_money(c.face_value, f"coupons[{n}].face_value", positive=True),
                                     c.quantity, require_text(c.note, "note", 200) if c.note else None))
    down = require_money(terms.down_payment, "down_payment")
    deposit = require_money(terms.warranty_deposit, "warranty_deposit")
    total = machines_amount + sum((a.unit_price * a.quantity for a in accessories), ZERO)
    if deposit >= total:
        raise InvalidValueError(f"The warranty deposit ({deposit}) must be less than the contract amount ({total}).",
                                field="warranty_deposit")
    if deposit > 0 and terms.warranty_due_date is None:
        raise InvalidValueError("A warranty deposit needs its due date.", field="warranty_due_date")
    if deposit == 0 and terms.warranty_due_date is not None:
        raise InvalidValueError("A warranty due date needs a warranty deposit.", field="warranty_due_date")
    if terms.warranty_due_date is not None and terms.warranty_due_date <= drafted_on:
        raise InvalidValueError("The warranty deposit falls due after the contract date.", field="warranty_due_date")
    installment = terms.installment
    if terms.payment == PaymentMethod.CASH:
        if down != 0 or installment is not None:
            raise InvalidValueError("A cash sale has no down payment and no installment terms.", field="payment")
    else:
        if installment is None:
            raise InvalidValueError("An installment sale needs its installment terms.", field="installment")
        if down + deposit >= total:
            raise InvalidValueError(f"Down payment and warranty deposit ({down + deposit}) leave nothing to finance "
                                    f"of {total}; make it a cash sale.", field="down_payment")
        if not 1 <= installment.months <= 120:
            raise InvalidValueError("The term is between 1 and 120 months.", field="installment.months")
        rate = Decimal(str(installment.annual_rate))
        if not rate.is_finite() or not 0 <= rate < 1 or rate != rate.quantize(Decimal("0.000001")):
            raise InvalidValueError("The annual rate is a fraction from 0 to below 1 with at most six places "
                                    "(0.0435 for 4.35 %).", field="installment.annual_rate")
        if installment.first_due_date <= drafted_on:
            raise InvalidValueError("The first installment falls due after the contract date.",
                                    field="installment.first_due_date")
        if installment.first_due_date > drafted_on + timedelta(days=FIRST_DUE_WITHIN_DAYS):
            raise InvalidValueError(f"The first installment falls due within {FIRST_DUE_WITHIN_DAYS} days of the "
                                    "contract date.", field="installment.first_due_date")
        installment = InstallmentTerms(installment.months, rate, installment.first_due_date,
                                       ScheduleMethod(installment.method))
    return CommercialTerms(PaymentMethod(terms.payment), down, installment, deposit, terms.warranty_due_date,
                           tuple(accessories), tuple(coupons))


@dataclass(frozen=True)
class ApprovedSale:
    """What an approved contract hands to its receivable (应收): the parties, the amount, the
    date and the agreed terms, as plain values. The receivable is opened from these, never
    from the contract itself (an aggregate changes and reads only itself)."""

    __module__ = "domain.contracts"

    contract_id: UUID
    contract_number: str
    company_id: UUID
    owner_id: UUID
    customer_id: UUID
    drafted_on: date
    total_amount: Decimal
    terms: CommercialTerms

