"""Mails in the registrant's language, from the same gettext catalogues as the web pages.

The domain never imports ``web``; it reads the catalogue files themselves
(``web/locale/<lang>/LC_MESSAGES/messages.po``, compiled in memory once per process), so
one ``make messages`` run extracts and one ``.po`` file translates pages and mails alike.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

MAIL_LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent.parent / "web" / "locale"


def mail_locale(value: str | None) -> str:
    """One of the languages mails are written in, from a stored locale like ``fr-CA``."""
    language = (value or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return language if language in MAIL_LOCALES else DEFAULT_LOCALE


@lru_cache(maxsize=len(MAIL_LOCALES) + 1)  # one per language (and the fallback)
def translations(locale: str) -> NullTranslations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def format_when(starts_at: datetime, ends_at: datetime, zone: str, locale: str) -> str:
    """``Thursday 4 March 2027, 19:00–22:00`` in the event's zone (end date if another day)."""
    tz = ZoneInfo(zone)
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    text = babel_format_datetime(start, "EEEE d MMMM y, HH:mm", locale=locale)
    if end.date() == start.date():
        return f"{text}–{babel_format_time(end, 'HH:mm', locale=locale)}"
    return f"{text} – {babel_format_datetime(end, 'EEEE d MMMM y, HH:mm', locale=locale)}"


def format_moment(value: datetime, zone: str, locale: str) -> str:
    """``Thursday 4 March 2027, 19:00`` in ``zone``."""
    return babel_format_datetime(
        value.astimezone(ZoneInfo(zone)), "EEEE d MMMM y, HH:mm", locale=locale
    )
