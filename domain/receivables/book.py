"""The timeline's arithmetic: the items' balances while time runs (``_Book``: payment
order, daily penalty), the result of a replay (``_Replay``), and penalty lines of
consecutive days. Pure calculations; nothing here is stored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from domain.money import ZERO, round_fen
from domain.receivables.rates import PenaltyRate
from domain.receivables.values import ONE_DAY, Allocation, DebtItem, PenaltyLine


# ================================================================ the timeline
class _Book:
    """The items' balances while time runs: what each still owes and its penalty."""

    def __init__(self, items: Iterable[DebtItem]) -> None:
        self.items = {i.key: i for i in items}
        self.order = [i.key for i in sorted(self.items.values(), key=lambda i: (i.due_date, i.rank))]
        self.principal = {k: i.principal for k, i in self.items.items()}
        self.interest = {k: i.interest for k, i in self.items.items()}
        self.penalty = {k: ZERO for k in self.items}     # charged, not yet paid (nor waived)

    def pay(self, amount: Decimal, allocate_to: tuple[str, ...],
            penalty_last: bool = False) -> tuple[tuple[Allocation, ...], Decimal]:
        """Pays ``amount`` down: items in order, each penalty, interest, principal; with
        ``penalty_last`` every item's interest and principal first, then penalties.
        Answers the split and what is left over (above zero means over-payment)."""
        left = amount
        taken: dict[str, list[Decimal]] = {}
        passes = ((1, 2), (0,)) if penalty_last else ((0, 1, 2),)
        pots = (self.penalty, self.interest, self.principal)
        for wanted in passes:
            for key in (allocate_to or self.order):
                if left == 0:
                    break
                for n in wanted:
                    take = min(left, pots[n][key])
                    pots[n][key] -= take
                    left -= take
                    taken.setdefault(key, [ZERO, ZERO, ZERO])[n] += take
        allocations = tuple(Allocation(key, *parts) for key, parts in taken.items() if any(parts))
        return allocations, left

    def undo(self, allocations: Iterable[Allocation]) -> None:
        for a in allocations:
            self.penalty[a.item_key] += a.penalty
            self.interest[a.item_key] += a.interest
            self.principal[a.item_key] += a.principal

    def accrue(self, day: date, rate: PenaltyRate | None) -> list[tuple[str, Decimal, Decimal]]:
        """Day ``day``'s penalty per item: (item, overdue amount, amount), charged."""
        if rate is None or rate.daily_rate == 0:
            return []
        charged = []
        last_due = day - timedelta(days=rate.grace_days + 1)
        for key in self.order:
            if self.items[key].due_date > last_due:
                break
            overdue = self.principal[key] + self.interest[key]
            if overdue > 0:
                amount = round_fen(overdue * rate.daily_rate)
                if amount > 0:
                    self.penalty[key] += amount
                    charged.append((key, overdue, amount))
        return charged


@dataclass
class _Replay:
    allocations: dict[UUID, tuple[Allocation, ...]] = field(default_factory=dict)
    left_over: dict[UUID, Decimal] = field(default_factory=dict)
    # waivers larger than the penalty left on their day: (application, item, short by)
    waiver_conflicts: list[tuple[UUID, str, Decimal]] = field(default_factory=list)
    # (item, day) → (overdue, daily rate, amount)
    penalty: dict[tuple[str, date], tuple[Decimal, Decimal, Decimal]] = field(default_factory=dict)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def _lines(per_day: dict[tuple[str, date], tuple[Decimal, Decimal, Decimal]]) -> tuple[PenaltyLine, ...]:
    """Per-day figures merged into lines of consecutive days with the same figures."""
    lines: list[PenaltyLine] = []
    for (key, day), (overdue, rate, amount) in sorted(per_day.items()):
        last = lines[-1] if lines else None
        if (last is not None and last.item_key == key and last.last_day + ONE_DAY == day
                and (last.overdue, last.daily_rate, last.daily_amount) == (overdue, rate, amount)):
            lines[-1] = replace(last, last_day=day)
        else:
            lines.append(PenaltyLine(key, day, day, overdue, rate, amount))
    return tuple(lines)
