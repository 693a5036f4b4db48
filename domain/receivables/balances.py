"""Reading a debt: what is outstanding and received, and the replay of its timeline that
everything recorded must equal. A part of ``Debt`` (``domain.receivables.debt``), mixed in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from domain.money import ZERO
from domain.receivables.book import _Book, _days, _Replay
from domain.receivables.rates import PenaltyRates
from domain.receivables.values import ONE_DAY, Receipt, ReceiptStatus, Waiver


class DebtBalances:
    """The debt's figures (a mixin of ``Debt``: its state is set by ``Debt``'s events)."""

    # ------------------------------------------------------------ reading
    @property
    def active_receipts(self) -> list[Receipt]:
        """Confirmed receipts, in the order they apply: value date, then confirmation."""
        return sorted((r for r in self.receipts.values() if r.status == ReceiptStatus.CONFIRMED),
                      key=lambda r: (r.value_date, r.sequence))

    def outstanding(self, key: str) -> Decimal:
        """Unpaid principal and interest of an item."""
        item, paid = self.items[key], self.paid[key]
        return item.principal - paid.principal + item.interest - paid.interest

    def penalty_outstanding(self, key: str) -> Decimal:
        return self.penalty_charged.get(key, ZERO) - self.paid[key].penalty - self.penalty_waived.get(key, ZERO)

    @property
    def total_outstanding(self) -> Decimal:
        return sum((self.outstanding(k) + self.penalty_outstanding(k) for k in self.items), ZERO)

    @property
    def received(self) -> Decimal:
        return sum((r.amount for r in self.active_receipts), ZERO)

    def _current_book(self) -> _Book:
        book = _Book(self.items.values())
        for key, paid in self.paid.items():
            book.principal[key] -= paid.principal
            book.interest[key] -= paid.interest
            book.penalty[key] = self.penalty_outstanding(key)
        return book

    def _replay(self, receipts: Sequence[Receipt], rates: PenaltyRates, through: date) -> _Replay:
        """The debt's timeline from its opening, with ``receipts`` on their value dates and the
        penalty of each day up to ``through``: the figures everything recorded must equal."""
        book = _Book(self.items.values())
        replay = _Replay()
        by_day: dict[date, list[Receipt | Waiver]] = {}
        for receipt in receipts:
            by_day.setdefault(receipt.value_date, []).append(receipt)
        for waiver in self.waivers:
            by_day.setdefault(waiver.day, []).append(waiver)
        first_penalty_day = self.opened_on + ONE_DAY
        first = min([first_penalty_day, *by_day])
        last = max([through, *by_day])
        for day in _days(first, last):
            # Receipts and waivers of one day in the order they were confirmed / approved.
            for fact in sorted(by_day.get(day, ()), key=lambda f: f.sequence):
                if isinstance(fact, Waiver):
                    for line in fact.lines:
                        if book.penalty[line.item_key] < line.amount:
                            replay.waiver_conflicts.append(
                                (fact.application_id, line.item_key, line.amount - book.penalty[line.item_key]))
                        book.penalty[line.item_key] = max(ZERO, book.penalty[line.item_key] - line.amount)
                    continue
                replay.allocations[fact.receipt_id], left = book.pay(fact.amount, fact.allocate_to, fact.penalty_last)
                if left:
                    replay.left_over[fact.receipt_id] = left
            if first_penalty_day <= day <= through:
                rate = rates.on(day)
                for key, overdue, amount in book.accrue(day, rate):
                    assert rate is not None
                    replay.penalty[(key, day)] = (overdue, rate.daily_rate, amount)
        return replay

    def recorded_penalty(self) -> dict[tuple[str, date], Decimal]:
        """The penalty recorded per item and day, net of adjustments."""
        per_day: dict[tuple[str, date], Decimal] = {}
        for line in self.penalty_lines:
            for day in line.each_day():
                per_day[(line.item_key, day)] = per_day.get((line.item_key, day), ZERO) + line.daily_amount
        return {k: v for k, v in per_day.items() if v != 0}
