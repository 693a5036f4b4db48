"""The console's languages: zh-CN first, English available.

Texts live in message catalogues (``locale/<lang>/LC_MESSAGES/messages.po``, read with
Babel when the server starts; no build step). Source strings are English; a language
without a translation for a string shows the English. The language is the ``lang``
cookie a person chose with the switch, else the browser's ``Accept-Language``, else
Chinese.

Money is shown as ``¥380,000.00`` in both languages, dates as ISO ``2026-12-06``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh_CN", "en")
DEFAULT = "zh_CN"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


@cache
def translations(language: str) -> Translations:
    """The catalogue of one language, compiled in memory from its .po file."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(chosen: str | None, accept_language: str | None) -> str:
    """The language of a request: the person's choice, else the browser's, else Chinese."""
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    wanted: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if tag:
            wanted.append((weight, tag.strip()))
    for _, tag in sorted(wanted, key=lambda w: -w[0]):
        try:
            locale = Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
        if locale.language == "zh":
            return "zh_CN"
        if locale.language == "en":
            return "en"
    return DEFAULT


@dataclass(frozen=True)
class Language:
    """What a page needs to speak one language."""

    code: str

    @property
    def html_lang(self) -> str:
        return "zh-CN" if self.code == "zh_CN" else "en"

    def gettext(self, text: str, **values: Any) -> str:
        translated = translations(self.code).gettext(text)
        return translated % values if values else translated

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        translated = translations(self.code).ngettext(singular, plural, n)
        return translated % ({"num": n} | values)

    def pgettext(self, context: str, text: str) -> str:
        """A word in a context (``status``, ``field``, ``error``…); untranslated, ``text`` itself."""
        return translations(self.code).pgettext(context, text)

    def has(self, context: str, text: str) -> bool:
        """Whether the catalogue translates this word (English always "has" its source)."""
        return self.code == "en" or translations(self.code).pgettext(context, text) != text

    # ------------------------------------------------------------ formats
    @staticmethod
    def money(amount: Decimal | str | int | None) -> str:
        if amount is None or amount == "":
            return ""
        return "¥" + format_decimal(Decimal(str(amount)), format="#,##0.00", locale="en")

    @staticmethod
    def day(value: date | datetime | str | None) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d")
        return value.isoformat()

    @staticmethod
    def moment(value: datetime | str | None) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.astimezone().strftime("%Y-%m-%d %H:%M")

    def word(self, context: str, value: Any) -> str:
        """An enum value or code shown in the office's words (``status`` ``approved`` → 已审核)."""
        if value is None:
            return ""
        text = str(getattr(value, "value", value))
        return self.pgettext(context, text)

    def templates(self) -> Mapping[str, Any]:
        """The names a template speaks with."""
        return {"_": self.gettext, "gettext": self.gettext, "ngettext": self.ngettext, "word": self.word,
                "money": self.money, "day": self.day, "moment": self.moment, "lang": self}
