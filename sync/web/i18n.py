"""English and Simplified Chinese: the message catalog, choosing a language, and locale-aware formats.

Message ids are the English text, marked in Python with ``N_`` (or ``_`` at render time) and in
templates with ``_()`` / ``{% trans %}``; ``make i18n`` extracts them (``babel.cfg``) into
``locale/messages.pot``, merges them into ``locale/zh_Hans/LC_MESSAGES/messages.po`` and compiles the
``.mo`` file, which is committed (nothing compiles at run time). Numbers, dates, percentages, money and
units are formatted by Babel from CLDR for the page's language.
"""

from __future__ import annotations

import gettext
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Final

from babel import Locale
from babel.dates import format_datetime, format_timedelta, get_timezone
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations
from babel.units import format_unit

LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
DOMAIN: Final = "messages"
LOCALES: Final = ("en", "zh_Hans")
"""Every language a page speaks, by Babel locale id; English is the source language of the catalog."""
DEFAULT_LOCALE: Final = "en"
LANGUAGE_NAMES: Final = {"en": "English", "zh_Hans": "简体中文"}
"""Each language in its own words (shown by the switch, so never translated)."""
HTML_LANG: Final = {"en": "en", "zh_Hans": "zh-Hans"}


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown, in the viewer's language."""
    return message


def normalise(tag: str | None) -> str | None:
    """One of ``LOCALES`` for a language tag (``zh``, ``zh-CN``, ``zh_Hans``, ``en-GB``...), else ``None``."""
    if not tag:
        return None
    t = tag.strip().replace("-", "_").lower()
    if t.startswith("zh"):
        return None if t in ("zh_tw", "zh_hk", "zh_hant", "zh_mo") or t.startswith("zh_hant") else "zh_Hans"
    if t.startswith("en"):
        return "en"
    return None


def negotiate(*preferences: str | None, accept_language: str | None = None) -> str:
    """The first usable of ``preferences`` (a user's saved choice, a cookie, ``?lang=``), then the
    browser's ``Accept-Language`` in its order of quality, else English."""
    for pref in preferences:
        got = normalise(pref)
        if got:
            return got
    if accept_language:
        weighted = []
        for i, part in enumerate(accept_language.split(",")):
            tag, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            weighted.append((-weight, i, tag))
        for _w, _i, tag in sorted(weighted):
            got = normalise(tag)
            if got:
                return got
    return DEFAULT_LOCALE


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog for ``locale`` (English: the message ids themselves)."""
    if locale == DEFAULT_LOCALE:
        return gettext.NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


def gettext_for(locale: str) -> gettext.NullTranslations:
    return translations(locale if locale in LOCALES else DEFAULT_LOCALE)


class Formats:
    """Numbers, dates and units for one language (and one display time zone)."""

    def __init__(self, locale: str, tz: str = "UTC") -> None:
        self.locale = locale
        self.babel = Locale.parse(locale)
        self.tz = get_timezone(tz)

    def num(self, value: int | float | Decimal | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=fmt, locale=self.babel)

    def pct(self, value: float | Decimal | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        return format_percent(value, format="#,##0" + ("." + "0" * digits if digits else "") + "%", locale=self.babel)

    def money(self, value: float | Decimal | None, currency: str) -> str:
        if value is None:
            return "–"
        return format_currency(value, currency, locale=self.babel)

    def dt(self, value: datetime | None, fmt: str = "short") -> str:
        if value is None:
            return "–"
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return format_datetime(value, format=fmt, tzinfo=self.tz, locale=self.babel)

    def ago(self, value: datetime | None, now: datetime) -> str:
        """ "3 minutes ago" in the page's language."""
        if value is None:
            return "–"
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        delta: timedelta = value - now
        return format_timedelta(delta, add_direction=True, threshold=1.1, locale=self.babel)

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return "–"
        return format_timedelta(timedelta(seconds=seconds), threshold=1.1, format="short", locale=self.babel)

    def unit(self, value: float | Decimal | None, unit: str, digits: int = 1) -> str:
        """A measurement with its CLDR unit (``temperature-celsius``, ``duration-hour``...)."""
        if value is None:
            return "–"
        return format_unit(value, unit, length="short", format="#,##0." + "0" * digits, locale=self.babel)
