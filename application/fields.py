"""The shapes of the values commands carry: checked when a command is decoded (answered
400), before any business rule (the domain's, answered 404/409/422)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from msgspec import Meta

Code = Annotated[str, Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.\- ]+$",
                           description="Short code, letters and digits; case and spaces are ignored.")]
# Plain text: no control characters except tab and line breaks (PostgreSQL text cannot hold NUL).
PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=PLAIN)]
Text100 = Annotated[str, Meta(min_length=1, max_length=100, pattern=PLAIN)]
Serial = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\- ]+$",
                             description="Machine serial number (机号).")]
Reason = Annotated[str, Meta(min_length=1, max_length=500, pattern=PLAIN,
                             description="Why; kept in the audit trail.")]
Statement = Annotated[str, Meta(min_length=1, max_length=2000, pattern=PLAIN,
                                description="The applicant's statement of the facts and why; kept in the audit trail.")]
Username = Annotated[str, Meta(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._\-]+$")]
Password = Annotated[str, Meta(min_length=8, max_length=200)]
Money = Annotated[Decimal, Meta(description="CNY with at most two decimal places, sent as a string: \"380000.00\".")]
Phone = Annotated[str, Meta(min_length=1, max_length=30, pattern=r"^\+?[0-9][0-9 \-]*$")]
LineNo = Annotated[int, Meta(ge=1, le=10_000)]
