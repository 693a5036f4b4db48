"""Money: CNY as exact decimals with two places (fen), never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.base import InvalidValueError

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
# Ten billion yuan: above any single document of a dealer, below numeric(16,2).
MAX_AMOUNT = Decimal("9999999999.99")


def require_money(value: Decimal | str | int, field: str, *, positive: bool = False) -> Decimal:
    """An amount in yuan with at most two decimal places, not negative (or, with
    ``positive``, above zero). More places are refused, not rounded: a clerk who
    typed 0.005 meant something we must not guess."""
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise InvalidValueError(f"{field} is not an amount.", field=field) from None
    if not amount.is_finite():
        raise InvalidValueError(f"{field} is not an amount.", field=field)
    if amount < 0 or (positive and amount == 0):
        raise InvalidValueError(f"{field} must be {'above' if positive else 'at least'} zero.", field=field)
    if amount > MAX_AMOUNT:
        raise InvalidValueError(f"{field} is larger than {MAX_AMOUNT}.", field=field)
    if amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        raise InvalidValueError(f"{field} has more than two decimal places (fen).", field=field)
    return amount.quantize(FEN) if amount else ZERO   # never "-0.00"


def round_fen(amount: Decimal) -> Decimal:
    """Rounded half-up to the fen, as the finance office rounds."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)
