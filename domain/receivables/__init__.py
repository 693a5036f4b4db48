"""Receivables (应收 / 债权): the debt of one contract, its receipts and its penalty interest.

A ``Debt`` is opened when its contract is approved (same transaction) and closed
again by events if the contract is un-approved while nothing was received. Its
**items** are what the customer owes and when:

    DP    down payment (首付), due on the day of approval
    I1…In installments (分期款) of the schedule (``domain.schedules``)
    WD    warranty deposit (质保金), due on its own date
    FULL  the whole price of a cash sale (全款), due on the day of approval

**Receipts (收款)** are recorded against the debt and count only once finance
confirms them (收款确认), by someone other than whoever recorded them. A confirmed
receipt can be reversed with a reason; nothing is edited. A receipt pays the
oldest due item first, and within an item penalty interest, then interest, then
principal; a clerk may direct it to named items instead (it then pays those
only, in the order named), or mark it ``penalty_last`` (interest and principal of
every item first, penalty after: the customer pays the principal and applies for
the penalty to be waived). **Over-payment is refused**: a receipt larger than
what it can pay is not confirmed (the office returns or re-books the money);
the customer holds no credit balance here.

**Penalty interest (罚息)**. A member company's ``PenaltyPolicy`` gives the daily
rate and grace days in force on each day. For each day D an item is overdue
(D after its due date plus the grace days in force on D, and after the day the
debt opened), the penalty of that item for D is

    round_half_up(overdue amount of the item at the end of D × daily rate on D)

where the overdue amount is its unpaid principal + unpaid interest after every
receipt with value date ≤ D (penalty does not compound). The day's figures are
recorded by ``PenaltyAccrued`` events, one per run, as lines of consecutive days
at one daily amount. Accruing a day twice changes nothing.

**Collection (催收).** The office assigns the overdue debt to a collector, who
writes collection logs. Applications (``domain.collection``) record their opening
and end here, so two of a kind for one machine never run side by side. An approved
**interest waiver** (利息减免, only once all principal and interest is received)
takes penalty off with ``PenaltyWaived``; waivers enter the replay on their day, in
one order with the confirmations. An approved **settlement** (结清, nothing
outstanding) closes the debt; the release of invoice and certificate follows.

**Backdated receipts and reversals.** Confirming a receipt (or reversing one)
replays the debt's whole timeline with every confirmed receipt on its value date
(``_Timeline``) and records the differences: ``PenaltyAdjusted`` lines for days
already accrued whose penalty changes, ``ReceiptReallocated`` for receipts whose
split changes, then the receipt's own ``ReceiptConfirmed``. The debt's figures
are therefore always exactly those of the replay, to the fen. Because of this,
every confirmed receipt has a value date no later than the day after the last
accrued day, which lets the daily run accrue new days from the current balances.
"""

# Why a package whose classes all say ``__module__ = "domain.receivables"``: the store keeps each
# event's topic (``domain.receivables:Debt.Opened``), each creation event its aggregate's topic,
# and each snapshot the topics of the values and enums in the aggregate's state
# (``domain.snapshots``). Stored topics are forever, so they name this package, and the file
# inside it that defines a class is an implementation detail: the aggregates, values and errors
# keep ``__module__ = "domain.receivables"`` (the library gives the nested event classes their
# aggregate's module) and are imported here, where ``resolve_topic`` finds them.
# tests/unit/test_event_topics.py pins every topic (tests/unit/test_values.py finds the errors by
# this module name). Only the mixins of ``Debt`` and the ``_Book`` arithmetic, never stored,
# keep their own modules.
#
# Since the values' module is this one, their (postponed) annotations are resolved here, e.g. by
# msgspec decoding an event's payload: the names they use (date, Decimal, UUID, CouponUse and the
# enums) must be importable from this module.

from __future__ import annotations

from datetime import date  # noqa: F401  (resolves the values' annotations, see above)
from decimal import Decimal  # noqa: F401
from uuid import UUID  # noqa: F401

from domain.coupons import CouponUse  # noqa: F401
from domain.receivables.rates import (MAX_DAILY_RATE, MAX_GRACE_DAYS, PenaltyPolicy, PenaltyRate,
                                      PenaltyRateNotInFutureError, PenaltyRates)
from domain.receivables.values import (ONE_DAY, Allocation, CollectionLog, ContactChannel, DebtItem, DebtStatus,
                                       ItemKind, OverdueFacts, Paid, PenaltyLine, Receipt, ReceiptMethod,
                                       ReceiptStatus, Waiver, WaiverLine)
from domain.receivables.errors import (ApplicationPendingError, DebtNotOverdueError, DebtOutstandingError,
                                       DebtStateError, DocumentsAlreadyReleasedError, NothingChangedError,
                                       OverpaymentError, OwnReceiptError, PenaltyDateError,
                                       PrincipalOutstandingError, ReceiptStateError, ScheduleLockedError,
                                       WaiverConflictError, WaiverExceedsPenaltyError)
from domain.receivables.debt import Debt

__all__ = [
    # penalty rates
    "MAX_DAILY_RATE", "MAX_GRACE_DAYS", "PenaltyPolicy", "PenaltyRate", "PenaltyRateNotInFutureError",
    "PenaltyRates",
    # the debt's parts
    "ONE_DAY", "Allocation", "CollectionLog", "ContactChannel", "DebtItem", "DebtStatus", "ItemKind",
    "OverdueFacts", "Paid", "PenaltyLine", "Receipt", "ReceiptMethod", "ReceiptStatus", "Waiver", "WaiverLine",
    # refusals
    "ApplicationPendingError", "DebtNotOverdueError", "DebtOutstandingError", "DebtStateError",
    "DocumentsAlreadyReleasedError", "NothingChangedError", "OverpaymentError", "OwnReceiptError",
    "PenaltyDateError", "PrincipalOutstandingError", "ReceiptStateError", "ScheduleLockedError",
    "WaiverConflictError", "WaiverExceedsPenaltyError",
    # the debt
    "Debt",
]
