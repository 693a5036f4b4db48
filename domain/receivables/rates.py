"""Penalty rates (罚息率): a member company's ``PenaltyPolicy`` and the rates in force on each day.

Part of ``domain.receivables``: the classes whose topics (or, for values, snapshot topics) are
stored keep ``__module__ = "domain.receivables"`` (see the package's ``__init__``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from domain import ids
from domain.base import Context, DealerAggregate, InvalidValueError

MAX_DAILY_RATE = Decimal("0.01")     # 1 % a day; anything above is a typing error
MAX_GRACE_DAYS = 90


# ================================================================ penalty rates
@dataclass(frozen=True)
class PenaltyRate:
    """罚息率: a daily rate (a fraction: 0.0005 is 0.05 % a day) and grace days, in force
    from ``effective_from`` until the next rate's date."""

    __module__ = "domain.receivables"
    effective_from: date
    daily_rate: Decimal
    grace_days: int = 0


@dataclass(frozen=True)
class PenaltyRates:
    """A company's rates in date order; ``on(day)`` is the one in force that day."""

    __module__ = "domain.receivables"
    rates: tuple[PenaltyRate, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", [r.effective_from for r in self.rates])

    def on(self, day: date) -> PenaltyRate | None:
        i = bisect.bisect_right(self._starts, day)  # type: ignore[attr-defined]
        return self.rates[i - 1] if i else None


class PenaltyRateNotInFutureError(InvalidValueError):
    __module__ = "domain.receivables"
    code = "penalty-rate-not-in-future"


class PenaltyPolicy(DealerAggregate):
    """A member company's penalty rates. A rate takes effect from a later day than the
    one it is set on: days already accrued are never re-rated behind the office's back.
    Setting a rate for a date that already has one (still in the future) replaces it."""

    __module__ = "domain.receivables"

    class Created(DealerAggregate.Created):
        rate: PenaltyRate

        def apply(self, policy: PenaltyPolicy) -> None:
            policy.company_id = self.company_id
            policy.rates = PenaltyRates((self.rate,))

    class RateSet(DealerAggregate.Event):
        rate: PenaltyRate

        def apply(self, policy: PenaltyPolicy) -> None:
            kept = [r for r in policy.rates.rates if r.effective_from != self.rate.effective_from]
            policy.rates = PenaltyRates(tuple(sorted([*kept, self.rate], key=lambda r: r.effective_from)))

    def refuse_second_creation(self) -> None:
        """Two first rates of one company set at once: the loser runs again and adds its rate."""
        return None

    @staticmethod
    def check_rate(ctx: Context, effective_from: date, daily_rate: Decimal | str, grace_days: int) -> PenaltyRate:
        rate = Decimal(str(daily_rate))
        if not rate.is_finite() or not 0 <= rate <= MAX_DAILY_RATE or rate != rate.quantize(Decimal("0.00000001")):
            raise InvalidValueError(f"The daily penalty rate is a fraction from 0 to {MAX_DAILY_RATE} with at most "
                                    "eight places (0.0005 for 0.05 % a day).", field="daily_rate")
        if not 0 <= grace_days <= MAX_GRACE_DAYS:
            raise InvalidValueError(f"Grace days are between 0 and {MAX_GRACE_DAYS}.", field="grace_days")
        if effective_from <= ctx.business_date:
            raise PenaltyRateNotInFutureError(
                f"A penalty rate takes effect after the day it is set ({ctx.business_date}); days already past "
                "keep the rate they had. Choose a later effective date.", field="effective_from")
        return PenaltyRate(effective_from, rate.normalize() if rate else Decimal("0"), grace_days)

    @classmethod
    def start(cls, ctx: Context, company_id: UUID, rate: PenaltyRate) -> PenaltyPolicy:
        return cls._start(cls.Created, ids.penalty_policy_id(company_id), ctx, company_id, rate=rate)

    def set_rate(self, ctx: Context, rate: PenaltyRate) -> None:
        self._record(self.RateSet, ctx, self.company_id, rate=rate)
