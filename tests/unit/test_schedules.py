"""Installment schedules (分期计划) against figures worked out independently of the code:
the 12-month 等额本息 table of the worked example (/work/shared/SCENARIO.md), the same loan
等额本金, a zero rate, the last installment absorbing rounding, due dates clamped to the
month's end, and the refusals of a typed schedule and of bad loan terms.

Every expected figure is written out here; none is recomputed with ``domain.schedules``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.base import InvalidValueError
from domain.schedules import MAX_MONTHS, ScheduleLine, add_months, equal_installment, equal_principal, typed_schedule
from interfaces.http.errors import status_of

FINANCED = Decimal("300000.00")
RATE = Decimal("0.0435")
FIRST_DUE = date(2026, 1, 31)
CONTRACT_DATE = date(2025, 12, 15)

# SCENARIO.md, "A sale on installments": due, payment, principal, interest.
EQUAL_INSTALLMENT_TABLE = [
    (date(2026, 1, 31), "25592.97", "24505.47", "1087.50"),
    (date(2026, 2, 28), "25592.97", "24594.30", "998.67"),
    (date(2026, 3, 31), "25592.97", "24683.46", "909.51"),
    (date(2026, 4, 30), "25592.97", "24772.93", "820.04"),
    (date(2026, 5, 31), "25592.97", "24862.74", "730.23"),
    (date(2026, 6, 30), "25592.97", "24952.86", "640.11"),
    (date(2026, 7, 31), "25592.97", "25043.32", "549.65"),
    (date(2026, 8, 31), "25592.97", "25134.10", "458.87"),
    (date(2026, 9, 30), "25592.97", "25225.21", "367.76"),
    (date(2026, 10, 31), "25592.97", "25316.65", "276.32"),
    (date(2026, 11, 30), "25592.97", "25408.43", "184.54"),
    (date(2026, 12, 31), "25592.97", "25500.53", "92.44"),
]


def figures(lines) -> list[tuple[date, Decimal, Decimal, Decimal]]:
    return [(line.due_date, line.payment, line.principal, line.interest) for line in lines]


def expected(rows) -> list[tuple[date, Decimal, Decimal, Decimal]]:
    return [(due, Decimal(payment), Decimal(principal), Decimal(interest))
            for due, payment, principal, interest in rows]


# ------------------------------------------------------------------ 等额本息
def test_equal_installment_gives_the_worked_example_table_row_by_row():
    lines = equal_installment(FINANCED, RATE, 12, FIRST_DUE)
    assert len(lines) == 12
    for n, (line, row) in enumerate(zip(figures(lines), expected(EQUAL_INSTALLMENT_TABLE)), 1):
        assert line == row, f"installment {n}"


def test_equal_installment_principal_sums_exactly_to_the_financed_amount():
    lines = equal_installment(FINANCED, RATE, 12, FIRST_DUE)
    assert sum(line.principal for line in lines) == Decimal("300000.00")
    assert sum(line.interest for line in lines) == Decimal("7115.64")   # 12 × 25,592.97 − 300,000.00


def test_equal_installment_figures_are_money_to_the_fen():
    for line in equal_installment(FINANCED, RATE, 12, FIRST_DUE):
        for amount in (line.principal, line.interest, line.payment):
            assert amount.as_tuple().exponent == -2


def test_equal_installment_last_payment_absorbs_the_rounding():
    # 1,000.00 over 3 months at 12 % a year, r = 0.01 (worked by hand):
    #   A = 1000 × 0.01 × 1.01³ / (1.01³ − 1) = 340.0221… → 340.02
    #   1: interest 1000.00 × 0.01 = 10.00,        principal 340.02 − 10.00 = 330.02, left 669.98
    #   2: interest 669.98 × 0.01 = 6.6998 → 6.70,  principal 333.32,                  left 336.66
    #   3: interest 336.66 × 0.01 = 3.3666 → 3.37,  principal the rest 336.66, payment 340.03
    lines = equal_installment(Decimal("1000.00"), Decimal("0.12"), 3, date(2026, 1, 15))
    assert figures(lines) == expected([
        (date(2026, 1, 15), "340.02", "330.02", "10.00"),
        (date(2026, 2, 15), "340.02", "333.32", "6.70"),
        (date(2026, 3, 15), "340.03", "336.66", "3.37"),
    ])


def test_equal_installment_at_rate_zero_splits_the_principal_and_the_last_takes_the_odd_fen():
    lines = equal_installment(Decimal("1000.00"), Decimal("0"), 3, date(2026, 1, 15))
    assert figures(lines) == expected([
        (date(2026, 1, 15), "333.33", "333.33", "0.00"),
        (date(2026, 2, 15), "333.33", "333.33", "0.00"),
        (date(2026, 3, 15), "333.34", "333.34", "0.00"),
    ])


def test_a_one_month_loan_is_one_installment_of_principal_plus_a_months_interest():
    # 300,000.00 × 0.0435 / 12 = 1,087.50
    [line] = equal_installment(FINANCED, RATE, 1, FIRST_DUE)
    assert (line.due_date, line.principal, line.interest, line.payment) == (
        date(2026, 1, 31), Decimal("300000.00"), Decimal("1087.50"), Decimal("301087.50"))


# ------------------------------------------------------------------ 等额本金
def test_equal_principal_repays_the_same_principal_each_month_with_falling_interest():
    lines = equal_principal(FINANCED, RATE, 12, FIRST_DUE)
    assert [line.principal for line in lines] == [Decimal("25000.00")] * 12
    assert (lines[0].payment, lines[0].interest) == (Decimal("26087.50"), Decimal("1087.50"))
    assert (lines[-1].payment, lines[-1].interest) == (Decimal("25090.63"), Decimal("90.63"))
    # month 2: 275,000.00 × 0.0435 / 12 = 996.875 → 996.88
    assert (lines[1].payment, lines[1].interest) == (Decimal("25996.88"), Decimal("996.88"))
    assert sum(line.principal for line in lines) == Decimal("300000.00")
    assert [line.due_date for line in lines] == [row[0] for row in EQUAL_INSTALLMENT_TABLE]


def test_equal_principal_last_installment_takes_the_rest_of_the_principal():
    # 1,000.00 / 3 = 333.33; at 12 % a year (r = 0.01):
    #   1: interest 10.00,                    payment 343.33, left 666.67
    #   2: interest 6.6667 → 6.67,            payment 340.00, left 333.34
    #   3: principal 333.34, interest 3.3334 → 3.33, payment 336.67
    lines = equal_principal(Decimal("1000.00"), Decimal("0.12"), 3, date(2026, 1, 15))
    assert figures(lines) == expected([
        (date(2026, 1, 15), "343.33", "333.33", "10.00"),
        (date(2026, 2, 15), "340.00", "333.33", "6.67"),
        (date(2026, 3, 15), "336.67", "333.34", "3.33"),
    ])


def test_equal_principal_at_rate_zero_splits_the_principal_and_the_last_takes_the_odd_fen():
    lines = equal_principal(Decimal("1000.00"), Decimal("0"), 3, date(2026, 1, 15))
    assert [(line.principal, line.interest) for line in lines] == [(Decimal("333.33"), Decimal("0.00")),
                                                                   (Decimal("333.33"), Decimal("0.00")),
                                                                   (Decimal("333.34"), Decimal("0.00"))]


@pytest.mark.parametrize(("financed", "months"), [("1.00", 120), ("0.02", 3), ("0.20", 20)])
def test_equal_principal_refuses_terms_that_leave_an_installment_with_no_principal(financed, months):
    # 1.00 / 120 = 0.00833… → 0.01: 119 × 0.01 = 1.19, the principal is gone after 100 months;
    # 0.02 / 3 = 0.00666… → 0.01: 2 × 0.01 = 0.02, nothing left for the third;
    # 0.20 / 20 = 0.01 exactly: 19 × 0.01 = 0.19, the last 0.01 (taken, see below).
    if (financed, months) == ("0.20", 20):
        lines = equal_principal(Decimal(financed), Decimal("0"), months, date(2026, 1, 15))
        assert [line.principal for line in lines] == [Decimal("0.01")] * 20
        return
    with pytest.raises(InvalidValueError) as refused:
        equal_principal(Decimal(financed), Decimal("0"), months, date(2026, 1, 15))
    assert refused.value.details["field"] == "months"


def test_equal_installment_refuses_terms_whose_installments_cannot_repay_the_principal():
    # 1.00 over 120 months at 0 %: payment round(0.00833…) = 0.01 a month would repay 1.20.
    with pytest.raises(InvalidValueError) as refused:
        equal_installment(Decimal("1.00"), Decimal("0"), 120, date(2026, 1, 15))
    assert refused.value.details["field"] == "annual_rate"


# ------------------------------------------------------------------ due dates
def test_due_dates_keep_the_day_of_month_clamped_to_the_months_last_day_in_a_leap_year():
    lines = equal_installment(Decimal("4000.00"), Decimal("0"), 4, date(2028, 1, 31))
    assert [line.due_date for line in lines] == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31),
                                                 date(2028, 4, 30)]


def test_due_dates_come_back_to_the_31st_after_a_short_month():
    lines = equal_principal(Decimal("4000.00"), Decimal("0"), 4, date(2026, 1, 31))
    assert [line.due_date for line in lines] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31),
                                                 date(2026, 4, 30)]


def test_a_first_due_date_on_the_28th_stays_on_the_28th():
    lines = equal_installment(Decimal("3000.00"), Decimal("0"), 3, date(2026, 2, 28))
    assert [line.due_date for line in lines] == [date(2026, 2, 28), date(2026, 3, 28), date(2026, 4, 28)]


def test_due_dates_run_over_the_year_end():
    lines = equal_installment(Decimal("3000.00"), Decimal("0"), 3, date(2026, 11, 30))
    assert [line.due_date for line in lines] == [date(2026, 11, 30), date(2026, 12, 30), date(2027, 1, 30)]


@pytest.mark.parametrize(("first", "months", "due"), [
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2027, 1, 31), 1, date(2027, 2, 28)),
    (date(2027, 1, 29), 1, date(2027, 2, 28)),
    (date(2027, 1, 29), 2, date(2027, 3, 29)),
    (date(2026, 8, 31), 1, date(2026, 9, 30)),
    (date(2026, 12, 31), 2, date(2027, 2, 28)),
    (date(2026, 1, 31), 24, date(2028, 1, 31)),
    (date(2026, 1, 31), 25, date(2028, 2, 29)),
    (date(2026, 5, 15), 0, date(2026, 5, 15)),
])
def test_add_months_keeps_the_day_clamped_to_the_months_end(first, months, due):
    assert add_months(first, months) == due


# ------------------------------------------------------------------ typed schedules
def typed(*rows: tuple[date, str, str]) -> list[ScheduleLine]:
    return [ScheduleLine(due, Decimal(principal), Decimal(interest)) for due, principal, interest in rows]


def refusal(when) -> InvalidValueError:
    with pytest.raises(InvalidValueError) as refused:
        when()
    assert (refused.value.code, status_of(refused.value)) == ("invalid-value", 422)
    assert refused.value.message
    return refused.value


def test_a_typed_schedule_adding_up_to_the_financed_amount_is_taken_as_typed():
    lines = typed((date(2026, 1, 10), "100000.00", "1000.00"), (date(2026, 3, 1), "150000.00", "0.00"),
                  (date(2026, 9, 30), "50000.00", "123.45"))
    assert figures(typed_schedule(FINANCED, lines, CONTRACT_DATE)) == expected([
        (date(2026, 1, 10), "101000.00", "100000.00", "1000.00"),
        (date(2026, 3, 1), "150000.00", "150000.00", "0.00"),
        (date(2026, 9, 30), "50123.45", "50000.00", "123.45"),
    ])


def test_a_typed_schedule_short_of_the_financed_amount_names_the_difference():
    lines = typed((date(2026, 1, 10), "100000.00", "0.00"), (date(2026, 2, 10), "199999.99", "0.00"))
    refused = refusal(lambda: typed_schedule(FINANCED, lines, CONTRACT_DATE))
    assert refused.details["field"] == "lines"
    assert "299999.99" in refused.message and "300000.00" in refused.message
    assert "difference 0.01" in refused.message


def test_a_typed_schedule_over_the_financed_amount_names_the_difference():
    lines = typed((date(2026, 1, 10), "100000.00", "0.00"), (date(2026, 2, 10), "200500.00", "0.00"))
    refused = refusal(lambda: typed_schedule(FINANCED, lines, CONTRACT_DATE))
    assert "300500.00" in refused.message and "difference -500.00" in refused.message


@pytest.mark.parametrize("second_due", [date(2026, 1, 10), date(2026, 1, 9)], ids=["same-day", "earlier"])
def test_a_typed_schedule_with_due_dates_not_increasing_is_refused(second_due):
    lines = typed((date(2026, 1, 10), "100000.00", "0.00"), (second_due, "200000.00", "0.00"))
    refused = refusal(lambda: typed_schedule(FINANCED, lines, CONTRACT_DATE))
    assert refused.details["field"] == "lines[2].due_date"
    assert "date order" in refused.message


@pytest.mark.parametrize("first_due", [CONTRACT_DATE, date(2025, 12, 1)], ids=["on-contract-date", "before"])
def test_a_typed_installment_not_after_the_contract_date_is_refused(first_due):
    lines = typed((first_due, "100000.00", "0.00"), (date(2026, 2, 10), "200000.00", "0.00"))
    refused = refusal(lambda: typed_schedule(FINANCED, lines, CONTRACT_DATE))
    assert refused.details["field"] == "lines[1].due_date"
    assert str(CONTRACT_DATE) in refused.message


def test_a_typed_schedule_of_more_than_120_installments_is_refused():
    # 120 × 2,479.33 = 297,519.60, and a 121st of 2,480.40: 300,000.00 adds up, but too many lines.
    lines = [ScheduleLine(date(2026 + (n // 12), n % 12 + 1, 1), Decimal("2479.33"), Decimal("0.00"))
             for n in range(120)]
    lines.append(ScheduleLine(date(2036, 1, 1), Decimal("2480.40"), Decimal("0.00")))
    assert MAX_MONTHS == 120 and len(lines) == 121
    refused = refusal(lambda: typed_schedule(FINANCED, lines, CONTRACT_DATE))
    assert refused.details["field"] == "lines" and "120" in refused.message


def test_a_typed_schedule_of_exactly_120_installments_is_taken():
    # 119 × 2,500.00 = 297,500.00; the last 2,500.00: 300,000.00.
    lines = [ScheduleLine(date(2026 + (n // 12), n % 12 + 1, 1), Decimal("2500.00"), Decimal("0.00"))
             for n in range(120)]
    assert len(typed_schedule(FINANCED, lines, CONTRACT_DATE)) == 120


def test_an_empty_typed_schedule_is_refused():
    assert refusal(lambda: typed_schedule(FINANCED, [], CONTRACT_DATE)).details["field"] == "lines"


@pytest.mark.parametrize(("principal", "interest", "field"), [
    ("100000.005", "0.00", "lines[1].principal"),
    ("100000.00", "0.001", "lines[1].interest"),
    ("0.00", "0.00", "lines[1].principal"),
    ("-100000.00", "0.00", "lines[1].principal"),
    ("100000.00", "-0.01", "lines[1].interest"),
], ids=["principal-3-places", "interest-3-places", "principal-zero", "principal-negative", "interest-negative"])
def test_a_typed_installment_with_bad_money_is_refused_naming_the_line(principal, interest, field):
    lines = typed((date(2026, 1, 10), principal, interest), (date(2026, 2, 10), "200000.00", "0.00"))
    assert refusal(lambda: typed_schedule(FINANCED, lines, CONTRACT_DATE)).details["field"] == field


def test_a_typed_line_with_bad_money_is_named_by_its_number():
    lines = typed((date(2026, 1, 10), "100000.00", "0.00"), (date(2026, 2, 10), "199999.995", "0.00"))
    assert refusal(lambda: typed_schedule(FINANCED, lines, CONTRACT_DATE)).details["field"] == "lines[2].principal"


# ------------------------------------------------------------------ bad loan terms
@pytest.mark.parametrize("generate", [equal_installment, equal_principal])
@pytest.mark.parametrize("rate", ["-0.0001", "1", "1.5", "0.0435001", "NaN", "Infinity"])
def test_a_rate_outside_0_to_1_or_with_more_than_six_places_is_refused(generate, rate):
    refused = refusal(lambda: generate(FINANCED, Decimal(rate), 12, FIRST_DUE))
    assert refused.details["field"] == "annual_rate"


@pytest.mark.parametrize("generate", [equal_installment, equal_principal])
def test_a_rate_with_six_places_just_below_1_is_taken(generate):
    assert len(generate(FINANCED, Decimal("0.999999"), 12, FIRST_DUE)) == 12
    assert len(generate(FINANCED, Decimal("0.043512"), 12, FIRST_DUE)) == 12


@pytest.mark.parametrize("generate", [equal_installment, equal_principal])
@pytest.mark.parametrize("months", [0, -1, 121])
def test_a_term_outside_1_to_120_months_is_refused(generate, months):
    refused = refusal(lambda: generate(FINANCED, RATE, months, FIRST_DUE))
    assert refused.details["field"] == "months" and "120" in refused.message


@pytest.mark.parametrize("generate", [equal_installment, equal_principal])
def test_a_120_month_term_is_taken_and_repays_the_principal_exactly(generate):
    lines = generate(FINANCED, RATE, 120, FIRST_DUE)
    assert len(lines) == 120 and sum(line.principal for line in lines) == Decimal("300000.00")
    assert lines[-1].due_date == date(2035, 12, 31)


@pytest.mark.parametrize("generate", [equal_installment, equal_principal])
@pytest.mark.parametrize("financed", ["0.00", "-300000.00", "300000.001"])
def test_a_financed_amount_not_above_zero_or_not_to_the_fen_is_refused(generate, financed):
    refusal(lambda: generate(Decimal(financed), RATE, 12, FIRST_DUE))
