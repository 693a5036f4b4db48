"""The debt's parts: its items, receipts and what they paid, penalty lines, waivers,
collection logs and the facts of an overdue debt.

Part of ``domain.receivables``: these values are held in a debt's state and carried in its
events, and a snapshot stores each one's class topic, so every class keeps
``__module__ = "domain.receivables"`` (see the package's ``__init__``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.coupons import CouponUse
from domain.money import ZERO

ONE_DAY = timedelta(days=1)


# ================================================================ the debt's parts
class ItemKind(StrEnum):
    __module__ = "domain.receivables"
    DOWN_PAYMENT = "down_payment"            # 首付
    INSTALLMENT = "installment"              # 分期款
    WARRANTY_DEPOSIT = "warranty_deposit"    # 质保金
    FULL_PAYMENT = "full_payment"            # 全款 of a cash sale


@dataclass(frozen=True)
class DebtItem:
    __module__ = "domain.receivables"
    key: str                 # DP, I1 … In, WD, FULL
    kind: ItemKind
    due_date: date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest

    @property
    def rank(self) -> int:
        """Order among items due the same day: down payment, installments by number, deposit."""
        if self.kind == ItemKind.INSTALLMENT:
            return int(self.key[1:])
        return 10_000 if self.kind == ItemKind.WARRANTY_DEPOSIT else 0


class ReceiptMethod(StrEnum):
    __module__ = "domain.receivables"
    CASH = "cash"                          # 现金
    BANK_TRANSFER = "bank_transfer"        # 银行转账
    ACCEPTANCE_BILL = "acceptance_bill"    # 承兑汇票
    CARD = "card"                          # POS 刷卡
    CHEQUE = "cheque"                      # 支票
    OTHER = "other"


class ReceiptStatus(StrEnum):
    __module__ = "domain.receivables"
    RECORDED = "recorded"      # waiting for finance to confirm it
    CONFIRMED = "confirmed"    # counts
    REJECTED = "rejected"      # finance refused it before it counted
    REVERSED = "reversed"      # counted, then reversed with a reason


@dataclass(frozen=True)
class Allocation:
    """What one receipt paid on one item."""

    __module__ = "domain.receivables"
    item_key: str
    penalty: Decimal
    interest: Decimal
    principal: Decimal

    @property
    def amount(self) -> Decimal:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class PenaltyLine:
    """Penalty of one item over consecutive days at one daily amount. In an adjustment
    ``daily_amount`` is the change per day (negative when a backdated receipt lowers
    it) and ``overdue`` / ``daily_rate`` are the corrected figures of those days."""

    __module__ = "domain.receivables"
    item_key: str
    first_day: date
    last_day: date
    overdue: Decimal
    daily_rate: Decimal
    daily_amount: Decimal

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def amount(self) -> Decimal:
        return self.daily_amount * self.days

    def each_day(self) -> Iterator[date]:
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += ONE_DAY


@dataclass
class Receipt:
    __module__ = "domain.receivables"
    receipt_id: UUID
    amount: Decimal
    value_date: date
    method: ReceiptMethod
    reference: str | None
    allocate_to: tuple[str, ...]
    recorded_by: UUID
    recorded_on: date
    status: ReceiptStatus = ReceiptStatus.RECORDED
    penalty_last: bool = False
    coupons: tuple[CouponUse, ...] = ()     # part of ``amount`` paid with coupons
    sequence: int = 0                      # order of confirmation, for receipts of one value date
    allocations: tuple[Allocation, ...] = ()


@dataclass
class Paid:
    __module__ = "domain.receivables"
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    penalty: Decimal = ZERO


class DebtStatus(StrEnum):
    __module__ = "domain.receivables"
    OPEN = "open"
    CLOSED = "closed"          # the contract was un-approved while nothing was received
    SETTLED = "settled"        # 结清: everything received or waived, closed by an approved settlement


class ContactChannel(StrEnum):
    """How a collector reached the customer (催收方式)."""

    __module__ = "domain.receivables"
    PHONE = "phone"            # 电话
    VISIT = "visit"            # 上门
    SMS = "sms"                # 短信
    WECHAT = "wechat"          # 微信
    LETTER = "letter"          # 函件 / 律师函
    OTHER = "other"


@dataclass(frozen=True)
class CollectionLog:
    """催收记录: one contact with the customer, as the collector wrote it."""

    __module__ = "domain.receivables"
    log_id: UUID
    contact_date: date
    contact_person: str
    channel: ContactChannel
    result: str
    promised_date: date | None = None
    promised_amount: Decimal | None = None


@dataclass(frozen=True)
class WaiverLine:
    """Penalty of one item taken off by a waiver."""

    __module__ = "domain.receivables"
    item_key: str
    amount: Decimal


@dataclass
class Waiver:
    __module__ = "domain.receivables"
    application_id: UUID
    day: date                  # the approval's business date: from then on the penalty is lower
    sequence: int              # in the one order of confirmations and waivers
    lines: tuple[WaiverLine, ...]


@dataclass(frozen=True)
class OverdueFacts:
    """What is overdue on ``as_of``: recorded on a collection application so its approvers
    judge the facts of the day it was made."""

    __module__ = "domain.receivables"
    as_of: date
    overdue_amount: Decimal          # unpaid principal and interest of items due before as_of
    days_past_due: int               # since the oldest such item fell due
    oldest_overdue_item: str | None
    principal_outstanding: Decimal   # unpaid principal and interest of every item
    penalty_outstanding: Decimal
