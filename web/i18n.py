"""French and English: gettext catalogues, locale negotiation, locale-aware dates.

Catalogues are the ``.po`` files under ``web/locale``; they are compiled in memory at
start-up, so there is no build step and no stale ``.mo`` file.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

SUPPORTED_LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "lang"
LOCALE_NAMES = {"en": "English", "fr": "Français"}
_LOCALE_DIR = Path(__file__).parent / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=len(SUPPORTED_LOCALES) + 1)
def translations(locale: str) -> NullTranslations:
    po_path = _LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(message: str, **params: object) -> str:
    text = translations(current_locale.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(current_locale.get()).ngettext(singular, plural, n)
    return text % {"num": n, **params}


_ = gettext


def negotiate_locale(cookie_value: str | None, accept_language: str | None) -> str:
    """The cookie's choice if valid, else the best match of Accept-Language, else English."""
    if cookie_value in SUPPORTED_LOCALES:
        return cookie_value
    preferences: list[tuple[float, str]] = []
    for index, part in enumerate((accept_language or "")[:500].split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            preferences.append((quality - index * 1e-6, tag.strip()))
    for _quality, tag in sorted(preferences, reverse=True):
        try:
            language = Locale.parse(tag.replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            continue
        if language in SUPPORTED_LOCALES:
            return language
    return DEFAULT_LOCALE


def _in_zone(value: datetime, zone: str | None) -> datetime:
    return value.astimezone(ZoneInfo(zone)) if zone else value


def format_datetime(value: datetime, zone: str | None = None, style: str = "full") -> str:
    """``jeudi 3 décembre 2026, 19:00`` / ``Thursday 3 December 2026, 19:00``."""
    value = _in_zone(value, zone)
    locale = current_locale.get()
    if style == "short":
        return babel_format_datetime(value, "EEE d MMM, HH:mm", locale=locale)
    return babel_format_datetime(value, "EEEE d MMMM y, HH:mm", locale=locale)


def format_date(value: date | datetime, zone: str | None = None, style: str = "full") -> str:
    if isinstance(value, datetime):
        value = _in_zone(value, zone)
    pattern = {
        "full": "EEEE d MMMM y",
        "medium": "d MMM y",
        "short": "EEE d MMM",
        "day": "EEEE d MMMM",  # no year: "Thursday 4 December"
    }[style]
    return babel_format_date(value, pattern, locale=current_locale.get())


def format_time(value: datetime, zone: str | None = None) -> str:
    return babel_format_time(_in_zone(value, zone), "HH:mm", locale=current_locale.get())
