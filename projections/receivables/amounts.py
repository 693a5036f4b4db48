"""Amounts in fen and yuan, the aging buckets, and the row helpers the projection and its
queries share (JSON columns, dates as either store gives them back, the order of item keys).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec


def fen(amount: Decimal) -> int:
    return int(amount * 100)


def yuan(value: int | None) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


BUCKETS = (("current", None, None), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90),
           ("91-180", 91, 180), ("over-180", 181, None))


def bucket_of(days_past_due: int) -> str:
    for name, low, high in BUCKETS:
        if low is None and days_past_due <= 0:
            return name
        if low is not None and days_past_due >= low and (high is None or days_past_due <= high):
            return name
    raise AssertionError(days_past_due)


# ------------------------------------------------------------ row helpers
_encoder = msgspec.json.Encoder(decimal_format="string")


def _json_encode(value: Any) -> str:
    return _encoder.encode(value).decode()


def _json_decode(text: str) -> Any:
    return msgspec.json.decode(text)


def _opt_date(value: Any) -> date | None:
    return None if value is None else _as_date(value)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _rank(key: str) -> int:
    return int(key[1:]) if key.startswith("I") else (10_000 if key == "WD" else 0)
