"""Installment schedules (分期计划): generated from a loan's terms, or typed by the clerk.

Conventions, the finance office's:

- Money to the fen, rounded half-up (``round_fen``).
- Monthly rate r = annual rate ÷ 12 (an annual rate of 0 is allowed: no interest).
- Installment k (k = 0 … n−1) falls due k months after the first due date, on the
  first due date's day of the month, clamped to the month's last day: a first due
  date of 01-31 gives 02-28 (02-29 in a leap year), 03-31, 04-30 …
- The last installment absorbs the rounding, so principal sums exactly to the
  financed amount.

Equal installment (等额本息): each payment
    A = round(P · r · (1+r)^n / ((1+r)^n − 1))        (A = round(P / n) when r = 0)
and each month
    interest_k  = round(remaining_k · r)
    principal_k = A − interest_k
    remaining_{k+1} = remaining_k − principal_k
except the last month, whose principal is the whole remaining balance (and whose
payment is that principal plus its interest).

Equal principal (等额本金): principal_k = round(P / n) each month, the last month
the remaining balance; interest_k = round(remaining_k · r), so payments fall.

A typed schedule gives, per installment, its due date, principal and interest;
the principal must add up to the financed amount exactly.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from domain.base import InvalidValueError
from domain.money import ZERO, require_money, round_fen

MAX_MONTHS = 120


@dataclass(frozen=True)
class ScheduleLine:
    """One installment: due date, principal, interest."""

    due_date: date
    principal: Decimal
    interest: Decimal

    @property
    def payment(self) -> Decimal:
        return self.principal + self.interest


def add_months(first: date, months: int) -> date:
    """``first`` moved ``months`` months on, keeping its day of the month, clamped to the
    month's last day."""
    month0 = first.month - 1 + months
    year, month = first.year + month0 // 12, month0 % 12 + 1
    if not 1 <= year <= 9999:
        raise InvalidValueError(f"{months} months from {first} is beyond the calendar.", field="first_due_date")
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def _check_loan(financed: Decimal, annual_rate: Decimal, months: int) -> tuple[Decimal, Decimal]:
    """The loan's figures, or the refusal a clerk can act on."""
    financed = require_money(financed, "financed amount", positive=True)
    rate = Decimal(str(annual_rate))
    if not rate.is_finite() or not 0 <= rate < 1 or rate != rate.quantize(Decimal("0.000001")):
        raise InvalidValueError("The annual rate is a fraction from 0 to below 1 with at most six places "
                                "(0.0435 for 4.35 %).", field="annual_rate")
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidValueError(f"The term is between 1 and {MAX_MONTHS} months.", field="months")
    return financed, rate


def equal_installment(financed: Decimal, annual_rate: Decimal, months: int, first_due: date) -> tuple[ScheduleLine, ...]:
    """等额本息: the same payment every month (the last absorbs rounding)."""
    financed, rate = _check_loan(financed, annual_rate, months)
    with localcontext() as context:
        context.prec = 50
        r = rate / 12
        if r == 0:
            payment = round_fen(financed / months)
        else:
            growth = (1 + r) ** months
            payment = round_fen(financed * r * growth / (growth - 1))
        lines, remaining = [], financed
        for k in range(months):
            interest = round_fen(remaining * r)
            principal = remaining if k == months - 1 else payment - interest
            if principal < 0 or principal > remaining:
                raise InvalidValueError("These terms give an installment that does not repay principal; "
                                        "check the rate and term.", field="annual_rate")
            lines.append(ScheduleLine(add_months(first_due, k), principal, interest))
            remaining -= principal
    return tuple(lines)


def equal_principal(financed: Decimal, annual_rate: Decimal, months: int, first_due: date) -> tuple[ScheduleLine, ...]:
    """等额本金: the same principal every month (the last absorbs rounding), interest on the rest."""
    financed, rate = _check_loan(financed, annual_rate, months)
    with localcontext() as context:
        context.prec = 50
        r = rate / 12
        share = round_fen(financed / months)
        if share == 0 or share * (months - 1) >= financed:
            raise InvalidValueError(f"{financed} over {months} months leaves an installment with no principal; "
                                    "shorten the term.", field="months")
        lines, remaining = [], financed
        for k in range(months):
            interest = round_fen(remaining * r)
            principal = remaining if k == months - 1 else min(share, remaining)
            lines.append(ScheduleLine(add_months(first_due, k), principal, interest))
            remaining -= principal
    return tuple(lines)


def typed_schedule(financed: Decimal, lines: Sequence[ScheduleLine], not_before: date) -> tuple[ScheduleLine, ...]:
    """A schedule typed by the clerk: due dates strictly increasing and after ``not_before``
    (the contract's date), principal above zero, interest zero or more, principal adding
    up to the financed amount to the fen."""
    if not 1 <= len(lines) <= MAX_MONTHS:
        raise InvalidValueError(f"A schedule has between 1 and {MAX_MONTHS} installments.", field="lines")
    checked: list[ScheduleLine] = []
    for n, line in enumerate(lines, 1):
        principal = require_money(line.principal, f"lines[{n}].principal", positive=True)
        interest = require_money(line.interest, f"lines[{n}].interest")
        if line.due_date <= not_before:
            raise InvalidValueError(f"Installment {n} falls due on {line.due_date}, not after the contract date "
                                    f"{not_before}.", field=f"lines[{n}].due_date")
        if checked and line.due_date <= checked[-1].due_date:
            raise InvalidValueError(f"Installment {n} falls due on {line.due_date}, not after installment {n - 1} "
                                    f"({checked[-1].due_date}); list them in date order.",
                                    field=f"lines[{n}].due_date")
        checked.append(ScheduleLine(line.due_date, principal, interest))
    total = sum((line.principal for line in checked), ZERO)
    if total != financed:
        raise InvalidValueError(f"The installments' principal adds up to {total}; the financed amount is "
                                f"{financed} (difference {financed - total}).", field="lines")
    return tuple(checked)
