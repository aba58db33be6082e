"""Recurring meetups: the organiser's rhythm, its RFC 5545 RRULE, and its dated occurrences.

A :class:`Rhythm` holds exactly what the series form asks for ("every first Thursday of the
month at 19:00 in Europe/Paris"). It converts to and from an RRULE value, expands into
:class:`Occurrence` values and reads itself out in English or French.

Wall-clock rule
    Rules are expanded on *naive local* date-times, so a meetup at 19:00 stays at 19:00 local
    time on both sides of a daylight-saving change; only its UTC instant moves. Each local
    date-time is then placed in the series' IANA time zone:

    * **Nonexistent local time** (inside the spring-forward gap, e.g. 02:30 on 2026-03-29 in
      Europe/Paris): the time is shifted forward by the length of the gap (02:30 becomes
      03:30 CEST, 01:30Z) and the occurrence is marked ``adjusted="nonexistent_shifted"``.
    * **Ambiguous local time** (inside the fall-back overlap, e.g. 02:30 on 2026-10-25 in
      Europe/Paris, which happens twice): the first of the two instants is taken (``fold=0``,
      still summer time: 02:30 CEST, 00:30Z) and the occurrence is marked
      ``adjusted="ambiguous_first"``.

    ``duration`` is elapsed time: ``ends_at = starts_at + duration`` in UTC.

Other documented behaviour
    * Monthly by day of month skips months that lack that day (the 31st has no occurrence in
      April), as RFC 5545 and dateutil do; it never moves to the last day instead.
    * ``starts_on`` is the earliest possible date; it need not itself match the rhythm.
    * ``until`` is an inclusive local date. ``count`` counts occurrences before ``exdates``
      are removed, as RFC 5545 counts before EXDATE.
    * Every refusal is an :class:`InvalidRhythm` (a ``ValueError``) with a machine-readable
      ``code``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, get_day_names
from dateutil import rrule as du

from events.errors import DomainError

Frequency = Literal["weekly", "monthly"]

WEEK_OF_MONTH_CHOICES = (1, 2, 3, 4, -1)
_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_END_OF_DAY = time(23, 59, 59)
_BYDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")
_RRULE_VALUE = re.compile(r"[A-Z0-9=;,+-]+")
_SUPPORTED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "UNTIL", "COUNT", "WKST"}


class InvalidRhythm(DomainError, ValueError):
    """A rhythm the form cannot hold; ``code`` says why, ``field`` says where."""

    code = "invalid_rhythm"


@dataclass(frozen=True, kw_only=True)
class Rhythm:
    """The fields of the series form. Monthly rhythms use either ``weekday`` with
    ``week_of_month`` (1-4, or -1 for the last) or ``month_day``, never both."""

    frequency: Frequency
    interval: int = 1
    weekday: int | None = None
    week_of_month: int | None = None
    month_day: int | None = None
    start_time: time
    duration: timedelta
    timezone: str
    starts_on: date
    until: date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidRhythm("timezone_unknown", field="timezone") from None
        if self.frequency not in ("weekly", "monthly"):
            raise InvalidRhythm("frequency_unsupported", field="frequency")
        if self.interval < 1:
            raise InvalidRhythm("interval_invalid", field="interval")
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise InvalidRhythm("weekday_invalid", field="weekday")
        if self.frequency == "weekly":
            if self.weekday is None:
                raise InvalidRhythm("weekday_missing", field="weekday")
            if self.week_of_month is not None or self.month_day is not None:
                raise InvalidRhythm("monthly_field_on_weekly", field="frequency")
        elif self.month_day is not None:
            if self.weekday is not None or self.week_of_month is not None:
                raise InvalidRhythm("monthly_mode_ambiguous", field="month_day")
            if not 1 <= self.month_day <= 31:
                raise InvalidRhythm("month_day_invalid", field="month_day")
        elif self.weekday is None:
            raise InvalidRhythm("weekday_missing", field="weekday")
        elif self.week_of_month not in WEEK_OF_MONTH_CHOICES:
            raise InvalidRhythm("week_of_month_invalid", field="week_of_month")
        if self.start_time.tzinfo is not None:
            raise InvalidRhythm("start_time_not_local", field="start_time")
        if self.start_time.second or self.start_time.microsecond:
            raise InvalidRhythm("start_time_not_whole_minute", field="start_time")
        if self.duration <= timedelta(0):
            raise InvalidRhythm("duration_invalid", field="duration")
        if self.until is not None and self.count is not None:
            raise InvalidRhythm("until_and_count", field="until")
        if self.until is not None and self.until < self.starts_on:
            raise InvalidRhythm("until_before_start", field="until")
        if self.count is not None and self.count < 1:
            raise InvalidRhythm("count_invalid", field="count")

    @property
    def dtstart(self) -> datetime:
        """The naive local date-time of ``starts_on`` at ``start_time`` (DTSTART with TZID)."""
        return datetime.combine(self.starts_on, self.start_time)

    def to_rrule(self) -> str:
        """The RFC 5545 RRULE value, e.g. ``FREQ=MONTHLY;BYDAY=1TH``.

        It goes with ``DTSTART;TZID=<timezone>:<dtstart>``; that is why ``UNTIL`` is written
        in UTC, as the end (23:59:59 local) of the ``until`` date.
        """
        parts = [f"FREQ={self.frequency.upper()}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.month_day is not None:
            parts.append(f"BYMONTHDAY={self.month_day}")
        else:
            assert self.weekday is not None
            ordinal = "" if self.week_of_month is None else str(self.week_of_month)
            parts.append(f"BYDAY={ordinal}{_DAY_CODES[self.weekday]}")
        if self.until is not None:
            end = datetime.combine(self.until, _END_OF_DAY, tzinfo=ZoneInfo(self.timezone))
            parts.append(f"UNTIL={end.astimezone(UTC):%Y%m%dT%H%M%SZ}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        return ";".join(parts)

    @classmethod
    def from_rrule(
        cls, rrule: str, *, start: datetime, duration: timedelta, timezone: str
    ) -> Rhythm:
        """Read an RRULE value (with or without the ``RRULE:`` prefix) back into a rhythm.

        ``start`` is DTSTART: naive local time, or aware (then converted to ``timezone``).
        Raises :class:`InvalidRhythm` with ``rrule_invalid`` for malformed rules and
        ``rrule_unsupported`` for valid rules the form cannot express (several weekdays,
        BYSETPOS, the fifth Thursday, DAILY...).
        """
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidRhythm("timezone_unknown", field="timezone") from None
        local_start = start.astimezone(zone).replace(tzinfo=None) if start.tzinfo else start
        text = rrule.strip().upper().removeprefix("RRULE:")
        if not _RRULE_VALUE.fullmatch(text):  # one bare value: no DTSTART, EXDATE or spaces
            raise InvalidRhythm("rrule_invalid", field="rrule")
        parts = dict(item.partition("=")[::2] for item in text.split(";"))
        if len(parts) != len(text.split(";")):  # a part given twice
            raise InvalidRhythm("rrule_invalid", field="rrule")
        if "UNTIL" in parts and "COUNT" in parts:  # RFC 5545 forbids it; dateutil only warns
            raise InvalidRhythm("until_and_count", field="UNTIL")
        try:
            # dateutil does the RFC 5545 validation; the mapping below only decides whether
            # the form can hold the rule. ignoretz: a UTC UNTIL with a naive DTSTART is fine.
            du.rrulestr(text, dtstart=local_start, ignoretz=True)
        except (ValueError, TypeError, KeyError):
            raise InvalidRhythm("rrule_invalid", field="rrule") from None
        unsupported = set(parts) - _SUPPORTED_PARTS
        if unsupported:
            raise InvalidRhythm("rrule_unsupported", field=sorted(unsupported)[0])

        named = parts["FREQ"].lower()
        if named not in ("weekly", "monthly"):
            raise InvalidRhythm("rrule_unsupported", field="FREQ")
        frequency: Frequency = "weekly" if named == "weekly" else "monthly"
        interval = int(parts.get("INTERVAL", "1"))
        # WKST only changes the dates of a weekly rhythm that skips weeks; the form's is MO.
        if parts.get("WKST", "MO") != "MO" and frequency == "weekly" and interval > 1:
            raise InvalidRhythm("rrule_unsupported", field="WKST")

        weekday = week_of_month = month_day = None
        if "BYDAY" in parts and "BYMONTHDAY" in parts:
            raise InvalidRhythm("rrule_unsupported", field="BYDAY")
        if "BYDAY" in parts:
            match = _BYDAY.fullmatch(parts["BYDAY"])
            if match is None:
                raise InvalidRhythm("rrule_unsupported", field="BYDAY")
            weekday = _DAY_CODES.index(match[2])
            if frequency == "monthly":
                week_of_month = int(match[1]) if match[1] else None
                if week_of_month not in WEEK_OF_MONTH_CHOICES:
                    raise InvalidRhythm("rrule_unsupported", field="BYDAY")
            elif match[1]:
                raise InvalidRhythm("rrule_unsupported", field="BYDAY")
        elif "BYMONTHDAY" in parts:
            if frequency == "weekly" or not parts["BYMONTHDAY"].isdigit():
                raise InvalidRhythm("rrule_unsupported", field="BYMONTHDAY")
            month_day = int(parts["BYMONTHDAY"])
        elif frequency == "weekly":
            weekday = local_start.weekday()
        else:
            month_day = local_start.day

        until = None
        if "UNTIL" in parts:
            until = _until_date(parts["UNTIL"], zone=zone, start_time=local_start.time())
        return cls(
            frequency=frequency,
            interval=interval,
            weekday=weekday,
            week_of_month=week_of_month,
            month_day=month_day,
            start_time=local_start.time(),
            duration=duration,
            timezone=timezone,
            starts_on=local_start.date(),
            until=until,
            count=int(parts["COUNT"]) if "COUNT" in parts else None,
        )


@dataclass(frozen=True)
class Occurrence:
    """One dated meetup of a rhythm. ``adjusted`` is ``nonexistent_shifted`` or
    ``ambiguous_first`` when the local time fell in a DST gap or overlap, else ``None``."""

    local_date: date
    starts_at: datetime
    ends_at: datetime
    adjusted: str | None = None


def occurrences_between(
    rhythm: Rhythm,
    start: datetime,
    end: datetime,
    *,
    exdates: Collection[date] = frozenset(),
) -> list[Occurrence]:
    """The occurrences with ``start <= starts_at < end``, in order, skipping the local dates
    in ``exdates``. ``start`` and ``end`` must be aware; results are in UTC."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidRhythm("window_not_aware", field="start")
    zone = ZoneInfo(rhythm.timezone)
    # A day of margin: a gap shifts a wall clock forward by at most a day (Samoa, 2011).
    margin = timedelta(days=1)
    local_from = start.astimezone(zone).replace(tzinfo=None) - margin
    local_to = end.astimezone(zone).replace(tzinfo=None) + margin
    found = []
    for wall_clock in _local_rule(rhythm).between(local_from, local_to, inc=True):
        if wall_clock.date() in exdates:
            continue
        starts_at, adjusted = _place(wall_clock, zone)
        if start <= starts_at < end:
            found.append(
                Occurrence(wall_clock.date(), starts_at, starts_at + rhythm.duration, adjusted)
            )
    return found


def spell_out(rhythm: Rhythm, locale: str) -> str:
    """The rhythm as a sentence in English or French, e.g. "Every first Thursday of the month
    at 19:00" or "Tous les premiers jeudis du mois à 19h00". ``locale`` may carry a
    territory ("fr_CA", "en-GB"); other languages raise ``InvalidRhythm("locale_unsupported")``.
    """
    try:
        language = Locale.parse(locale.replace("-", "_")).language
    except (UnknownLocaleError, ValueError, TypeError):
        language = None
    if language == "en":
        return _spell_en(rhythm, locale.replace("-", "_"))
    if language == "fr":
        return _spell_fr(rhythm, locale.replace("-", "_"))
    raise InvalidRhythm("locale_unsupported", field="locale")


def _local_rule(rhythm: Rhythm) -> du.rrule:
    if rhythm.month_day is not None:
        by_weekday = None
    else:
        assert rhythm.weekday is not None
        by_weekday = du.weekday(rhythm.weekday, rhythm.week_of_month)
    return du.rrule(
        du.WEEKLY if rhythm.frequency == "weekly" else du.MONTHLY,
        dtstart=rhythm.dtstart,
        interval=rhythm.interval,
        wkst=du.MO,
        byweekday=by_weekday,
        bymonthday=rhythm.month_day,
        until=datetime.combine(rhythm.until, _END_OF_DAY) if rhythm.until else None,
        count=rhythm.count,
    )


def _place(wall_clock: datetime, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """Apply the module's wall-clock rule to one naive local date-time."""
    first = wall_clock.replace(tzinfo=zone, fold=0)
    second = wall_clock.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC), None
    exists = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall_clock
    if exists:
        return first.astimezone(UTC), "ambiguous_first"
    # In a gap, fold=0 reads the wall clock with the offset from before the transition,
    # which lands exactly one gap later on the new wall clock (02:30 CET = 03:30 CEST).
    return first.astimezone(UTC), "nonexistent_shifted"


def _until_date(value: str, *, zone: ZoneInfo, start_time: time) -> date:
    """The last local date an UNTIL value lets an occurrence at ``start_time`` fall on."""
    match = _UNTIL.fullmatch(value)
    if match is None:
        raise InvalidRhythm("rrule_invalid", field="UNTIL")
    day = datetime.strptime(match[1], "%Y%m%d").date()
    if match[2] is None:  # a DATE value covers its whole day
        return day
    moment = datetime.combine(day, datetime.strptime(match[2], "%H%M%S").time())
    if match[3]:
        moment = moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
    return moment.date() if moment.time() >= start_time else moment.date() - timedelta(days=1)


_NUMBER_WORDS = {  # 2 to 11; larger intervals are written in digits
    "en": ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"),
    "fr": ("deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze"),
}
_WEEK_ORDINALS = {
    "en": {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"},
    "fr": {1: "premier", 2: "deuxième", 3: "troisième", 4: "quatrième", -1: "dernier"},
}


def _number(language: str, n: int) -> str:
    words = _NUMBER_WORDS[language]
    return words[n - 2] if 2 <= n < 2 + len(words) else str(n)


def _spell_en(rhythm: Rhythm, locale: str) -> str:
    every = "Every" if rhythm.interval == 1 else f"Every {_number('en', rhythm.interval)}"
    day = get_day_names("wide", locale=locale)[rhythm.weekday] if rhythm.weekday is not None else ""
    if rhythm.frequency == "weekly":
        rhythm_text = f"Every {day}" if rhythm.interval == 1 else f"{every} weeks on {day}"
    elif rhythm.month_day is not None:
        n = rhythm.month_day
        suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        months = "month" if rhythm.interval == 1 else "months"
        rhythm_text = f"{every} {months} on the {n}{suffix}"
    else:
        assert rhythm.week_of_month is not None
        nth = _WEEK_ORDINALS["en"][rhythm.week_of_month]
        if rhythm.interval == 1:
            rhythm_text = f"Every {nth} {day} of the month"
        else:
            rhythm_text = f"{every} months on the {nth} {day}"
    sentence = f"{rhythm_text} at {rhythm.start_time:%H:%M}"
    if rhythm.until is not None:
        sentence += f" until {format_date(rhythm.until, 'long', locale=locale)}"
    if rhythm.count is not None:
        sentence += " (once)" if rhythm.count == 1 else f" ({rhythm.count} times)"
    return sentence


def _spell_fr(rhythm: Rhythm, locale: str) -> str:
    n = _number("fr", rhythm.interval)
    day = get_day_names("wide", locale=locale)[rhythm.weekday] if rhythm.weekday is not None else ""
    if rhythm.frequency == "weekly":
        rhythm_text = (
            f"Tous les {day}s" if rhythm.interval == 1 else f"Toutes les {n} semaines le {day}"
        )
    elif rhythm.month_day is not None:
        months = "Tous les mois" if rhythm.interval == 1 else f"Tous les {n} mois"
        rhythm_text = f"{months} le {_french_day_number(rhythm.month_day)}"
    else:
        assert rhythm.week_of_month is not None
        nth = _WEEK_ORDINALS["fr"][rhythm.week_of_month]
        if rhythm.interval == 1:
            rhythm_text = f"Tous les {nth}s {day}s du mois"
        else:
            rhythm_text = f"Tous les {n} mois le {nth} {day}"
    time_text = f"{rhythm.start_time.hour}h{rhythm.start_time.minute:02d}"
    sentence = f"{rhythm_text} à {time_text}"
    if rhythm.until is not None:
        month_year = format_date(rhythm.until, "MMMM y", locale=locale)
        sentence += f" jusqu'au {_french_day_number(rhythm.until.day)} {month_year}"
    if rhythm.count is not None:
        sentence += f" ({rhythm.count} fois)"
    return sentence


def _french_day_number(n: int) -> str:
    # French writes the first day of a month as an ordinal: « le 1er », « jusqu'au 1er mai ».
    return "1er" if n == 1 else str(n)


def localise(wall_clock: datetime, timezone: str) -> tuple[datetime, str | None]:
    """A naive local date-time in ``timezone`` as a UTC instant, by the wall-clock rule
    above; the second value says whether (and how) the time had to be adjusted."""
    return _place(wall_clock.replace(tzinfo=None), ZoneInfo(timezone))
