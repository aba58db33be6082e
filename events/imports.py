"""Reading other people's iCalendar files: bytes in, a list of plain events out.

Pure functions, no network and no database (events/fetch.py fetches, the service in
events/services/external_calendars.py stores). Real-world feeds are messy, so this module
repairs what it can and says what it guessed, as :class:`Note` codes the organiser sees:

- Google-style feeds: UTC or floating times plus ``X-WR-TIMEZONE`` (the calendar's zone);
  recurring-ical-events applies the x-wr-timezone fix, so such times land where they should.
- Floating times without ``X-WR-TIMEZONE``: read in the community's zone (note
  ``floating_times``). ``TZID``s that neither zoneinfo, a VTIMEZONE of the file nor the
  Windows zone names know: read in the calendar's zone (note ``unknown_timezone``).
- RRULE/RDATE/EXDATE and RECURRENCE-ID overrides: expanded by recurring-ical-events over a
  window (:data:`WINDOW_PAST` back, :data:`WINDOW_FUTURE` ahead); each occurrence gets
  its own UID, the series' UID plus its RECURRENCE-ID, so an update finds it again.
  A rule that would need more than :data:`MAX_RULE_STEPS` steps to reach the end of the
  window (``FREQ=SECONDLY`` since 1970...) is skipped (note ``frequent_rule``), since
  expanding it would take minutes.
- All-day events start and end at midnight in the calendar's zone. A missing DTEND (and
  DURATION) means :data:`DEFAULT_LENGTH`.
- Text is plain text: titles become one line, descriptions (HTML ones too, Google writes
  ``<br>`` and ``<a>``) become Markdown that renders exactly that text, links included.

Limits refuse a feed whole, never half-imported: more than :data:`MAX_BYTES` bytes
(``too_large``), more than :data:`MAX_EVENTS` events in the window, or more than
:data:`MAX_COMPONENTS` events in the file (``too_many_events``, counted before parsing),
or more than ``time_limit`` seconds of reading (``too_complex``: checked between
components, series and occurrences, so a file of many events or many rules stops there).
Something that is not iCalendar at all is ``not_icalendar``.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nh3
import recurring_ical_events
from icalendar import Calendar
from icalendar.timezone import tzp
from icalendar.timezone.tzid import tzids_from_tzinfo
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from events.validation import UTC_ZONE, canonical_timezone

__all__ = [
    "DEFAULT_LENGTH",
    "MAX_BYTES",
    "MAX_EVENTS",
    "TIME_LIMIT",
    "ImportRefused",
    "ImportedEvent",
    "Note",
    "ParsedCalendar",
    "parse_calendar",
    "plain_text_markdown",
]

MAX_BYTES = 5 * 1024 * 1024
MAX_EVENTS = 2_000
#: More VEVENT components than this is not a calendar a community mirrors.
MAX_COMPONENTS = 20_000
#: Components of any kind (alarms, time zones...): each costs parsing time.
MAX_ALL_COMPONENTS = 2 * MAX_COMPONENTS
#: Seconds one calendar may take to read (20,000 small events take about 10 s).
TIME_LIMIT = 20.0
WINDOW_PAST = timedelta(days=30)
WINDOW_FUTURE = timedelta(days=365)
DEFAULT_LENGTH = timedelta(hours=2)
MAX_RULE_STEPS = 200_000
MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_LINE = 500
MAX_UID = 255
UNTITLED = "(no title)"

_BEGIN = re.compile(r"^BEGIN:([A-Z-]*)", re.MULTILINE | re.IGNORECASE)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_TZID_PARAMETER = re.compile(r';TZID=("[^"\r\n]*"|[^;:\r\n]*)', re.IGNORECASE)
_HTML_HINT = re.compile(r"<(br|p|div|a|b|i|u|em|strong|span|ul|ol|li|h[1-6])\b[^>]*>", re.I)
_HTML_BREAK = re.compile(r"<br\s*/?>|</(p|div|li|h[1-6])\s*>", re.I)
_HTML_LINK = re.compile(r'<a\b[^>]*\bhref\s*=\s*["\']([^"\']*)["\'][^>]*>(.*?)</a\s*>', re.I | re.S)
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.I)
_URL_TRAILING = ".,;:!?)]}"
_UTC_NAMES = frozenset({"UTC", "ETC/UTC", "GMT", "ETC/GMT", "Z", "ZULU", "UCT", "ETC/UCT"})
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
#: Seconds per FREQ step, to estimate how long expanding a rule takes.
_STEP = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3_600,
    "DAILY": 86_400,
    "WEEKLY": 604_800,
    "MONTHLY": 2_419_200,  # the shortest month: an overestimate of the steps, on purpose
    "YEARLY": 31_536_000,
}
_EXPANDING_PARTS = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY")


class ImportRefused(Exception):
    """The whole file is refused: ``code`` says why, ``detail`` gives the specifics."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Note:
    """Something the import had to guess or leave out (shown to the organiser)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> list[Any]:
        return [self.code, dict(self.params)]


@dataclass(frozen=True)
class ImportedEvent:
    uid: str
    title: str
    #: Markdown that renders the feed's plain-text description as it was.
    description: str
    location: str
    url: str
    online_url: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    cancelled: bool = False
    all_day: bool = False


@dataclass(frozen=True)
class ParsedCalendar:
    name: str
    timezone: str
    events: list[ImportedEvent]
    notes: list[Note]
    #: Events starting before this were outside the window: absent is not "removed".
    window_start: datetime
    window_end: datetime


# -- text ------------------------------------------------------------------------------------


def _clean(value: object) -> str:
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def _one_line(value: object, limit: int) -> str:
    text = " ".join(_clean(value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _html_to_text(text: str) -> str:
    """Google and Outlook put HTML in DESCRIPTION: keep its text, line breaks and links."""

    def link(match: re.Match[str]) -> str:
        href, label = html.unescape(match.group(1)).strip(), match.group(2)
        label_text = html.unescape(nh3.clean(label, tags=set())).strip()
        if not label_text or label_text == href:
            return href
        return f"{label_text} ({href})" if href.lower().startswith(("http:", "https:")) else label

    text = _HTML_LINK.sub(link, text)
    text = _HTML_BREAK.sub("\n", text)
    return html.unescape(nh3.clean(text, tags=set(), strip_comments=True))


def _escape_markdown(text: str) -> str:
    return "".join("\\" + ch if ch in _ASCII_PUNCTUATION else ch for ch in text)


def _markdown_line(line: str) -> str:
    """One line of plain text as Markdown: punctuation escaped, web addresses as links."""
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(line):
        url = match.group()
        trailing = len(url) - len(url.rstrip(_URL_TRAILING))
        url = url[: len(url) - trailing] if trailing else url
        if len(url) <= len("https://"):
            continue
        parts.append(_escape_markdown(line[position : match.start()]))
        parts.append(f"<{url}>")
        position = match.start() + len(url)
    parts.append(_escape_markdown(line[position:]))
    return "".join(parts)


def plain_text_markdown(text: str) -> str:
    """Markdown whose rendering is ``text`` itself: no emphasis, headings or lists appear
    from stray punctuation; line breaks stay line breaks; http(s) addresses become links."""
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [_markdown_line(line.strip()) for line in block.split("\n") if line.strip()]
        if lines:
            paragraphs.append("\\\n".join(lines))  # a backslash before a newline: a hard break
    return "\n\n".join(paragraphs)


def _description(value: object) -> str:
    text = _clean(value)
    if _HTML_HINT.search(text):
        text = _clean(_html_to_text(text))
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1].rstrip() + "…"
    return plain_text_markdown(text)


def _web_address(value: object) -> str:
    url = _one_line(value, 10_000)
    if len(url) > MAX_LINE or " " in url or not re.match(r"^https?://[^\s/$.?#]", url, re.I):
        return ""
    return url


# -- time zones ------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name and "\\" not in name and ".." not in name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone_name(zone: tzinfo | None, fallback: str) -> str:
    """An IANA name for ``zone`` (to show times in), else ``fallback``; UTC counts as
    unknown: a feed that writes UTC still means the calendar's local time for people."""
    candidates: list[str] = []
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        candidates.append(key)
    vtimezone_id = getattr(zone, "_tzid", None)  # dateutil's zone built from a VTIMEZONE
    if isinstance(vtimezone_id, str):
        candidates += [vtimezone_id, WINDOWS_TO_OLSON.get(vtimezone_id.strip(), "")]
        known = _known_tzid(vtimezone_id)
        if known:
            candidates.append(known)
    with contextlib.suppress(Exception):  # an exotic tzinfo: the fallback below
        candidates += list(tzids_from_tzinfo(zone))
    if any(name.upper() in _UTC_NAMES for name in candidates):
        return fallback  # not "Africa/Abidjan", which has been UTC+0 since 1912
    for name in candidates:
        canonical = canonical_timezone(name) if name and _zone(name) else None
        if canonical:
            return canonical
    return fallback


def _known_tzid(tzid: str) -> str | None:
    """The IANA name icalendar reads ``tzid`` as (Windows names, ``/vendor/Area/City``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = tzp.timezone(tzid)
        except Exception:
            return None
    return str(found) if found is not None else None


def _unknown_tzids(text: str, calendar: Calendar) -> list[str]:
    declared = {str(tz.get("TZID", "")) for tz in calendar.walk("VTIMEZONE")}
    unknown: list[str] = []
    for raw in _TZID_PARAMETER.findall(text):
        tzid = raw.strip().strip('"')
        if tzid and tzid not in declared and tzid not in unknown and not _known_tzid(tzid):
            unknown.append(tzid)
    return unknown


def _aware(moment: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time(), tzinfo=zone)
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


# -- recurrence ------------------------------------------------------------------------------


def _rule_steps(component: Any, window_end: datetime) -> int:
    """An upper bound of the steps dateutil takes to expand the component's rules up to
    the end of the window (it always starts at DTSTART)."""
    start = component.get("DTSTART")
    if start is None:
        return 0
    first = start.dt if isinstance(start.dt, date) else None
    if first is None:
        return 0
    first_day = first.date() if isinstance(first, datetime) else first
    seconds = max((window_end.date() - first_day).days + 1, 1) * 86_400
    rules = component.get("RRULE")
    steps = 0
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        frequency = str((rule.get("FREQ") or ["YEARLY"])[0]).upper()
        interval = int((rule.get("INTERVAL") or [1])[0] or 1)
        per_step = 1
        for part in _EXPANDING_PARTS:
            values = rule.get(part)
            if values:
                per_step *= len(values)
        steps += seconds // (_STEP.get(frequency, 1) * max(interval, 1)) * per_step
    return steps


def _drop_backwards_end(component: Any) -> None:
    """A DTEND before DTSTART (it happens) is read as no DTEND: the default length."""
    start, end = component.get("DTSTART"), component.get("DTEND")
    if end is None:
        return
    try:
        backwards = end.dt < start.dt
    except TypeError:  # a date against a datetime, naive against aware: compare the days
        day = end.dt.date() if isinstance(end.dt, datetime) else end.dt
        first = start.dt.date() if isinstance(start.dt, datetime) else start.dt
        backwards = day < first
    if backwards:
        del component["DTEND"]


def _recurrence_key(value: Any) -> str:
    moment = getattr(value, "dt", value)
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return moment.strftime("%Y%m%dT%H%M%S")
    if isinstance(moment, date):
        return moment.strftime("%Y%m%d")
    return str(moment)


def _external_uid(uid: str) -> str:
    if len(uid) <= MAX_UID:
        return uid
    return "sha256:" + hashlib.sha256(uid.encode()).hexdigest()


# -- parsing ---------------------------------------------------------------------------------


def _decode(data: bytes, notes: list[Note]) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        notes.append(Note("not_utf8"))
        return data.decode("cp1252", errors="replace")


def _read_calendar(text: str) -> Calendar:
    if not text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        first = _one_line(text.lstrip()[:60], 60)
        raise ImportRefused("not_icalendar", f"does not start with BEGIN:VCALENDAR: {first!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calendars = Calendar.from_ical(text, multiple=True)
    except Exception as error:  # icalendar raises ValueError and friends on broken lines
        raise ImportRefused("not_icalendar", _one_line(error, 300)) from error
    calendars = [c for c in calendars if getattr(c, "name", "") == "VCALENDAR"]
    if not calendars:
        incomplete = "END:VCALENDAR" not in text.upper()
        raise ImportRefused(
            "not_icalendar",
            "the file ends before END:VCALENDAR (cut short?)"
            if incomplete
            else "no complete VCALENDAR in the file",
        )
    calendar = calendars[0]
    for extra in calendars[1:]:  # several calendars concatenated: read them as one
        calendar.subcomponents.extend(extra.subcomponents)
    return calendar


def parse_calendar(
    data: bytes,
    *,
    now: datetime,
    default_timezone: str = "UTC",
    max_bytes: int = MAX_BYTES,
    max_events: int = MAX_EVENTS,
    time_limit: float | None = TIME_LIMIT,
) -> ParsedCalendar:
    """The events of the iCalendar ``data`` that overlap the window around ``now``.

    Raises :class:`ImportRefused` when the file is refused as a whole (and nothing else,
    whatever the bytes); otherwise returns every usable event (sorted by start) and notes
    about what was guessed or skipped. ``time_limit`` (seconds, None for none) bounds
    the reading: past it, ``too_complex``.
    """
    limit = float("inf") if time_limit is None else time_limit
    clock = _Clock(monotonic() + limit, limit)
    try:
        return _parse(data, now, default_timezone, max_bytes, max_events, clock)
    except ImportRefused:
        raise
    except Exception as error:  # a case the rules above did not foresee: refuse, clearly
        raise ImportRefused("not_icalendar", f"unreadable: {_one_line(error, 300)}") from error


@dataclass(frozen=True)
class _Clock:
    deadline: float
    limit: float

    def check(self) -> None:
        if monotonic() > self.deadline:
            raise ImportRefused("too_complex", f"reading stopped after {self.limit:g} s")


def _count_components(text: str) -> None:
    """Refuse a file with too many components before parsing it (parsing is the cost)."""
    kinds = [kind.upper() for kind in _BEGIN.findall(text)]
    events = kinds.count("VEVENT")
    if events > MAX_COMPONENTS:
        raise ImportRefused("too_many_events", f"{events:,} events in the file")
    if len(kinds) > MAX_ALL_COMPONENTS:
        raise ImportRefused("too_many_events", f"{len(kinds):,} components in the file")


def _parse(
    data: bytes,
    now: datetime,
    default_timezone: str,
    max_bytes: int,
    max_events: int,
    clock: _Clock,
) -> ParsedCalendar:
    if len(data) > max_bytes:
        raise ImportRefused("too_large", f"{len(data):,} bytes; at most {max_bytes:,} accepted")
    notes: list[Note] = []
    text = _decode(data, notes)
    _count_components(text)
    calendar = _read_calendar(text)
    clock.check()
    vevents = [c for c in calendar.subcomponents if getattr(c, "name", "") == "VEVENT"]
    if len(vevents) > MAX_COMPONENTS:
        raise ImportRefused("too_many_events", f"{len(vevents):,} events in the file")

    name = _one_line(calendar.get("X-WR-CALNAME") or calendar.get("NAME") or "", 120)
    calendar_zone_name = _one_line(calendar.get("X-WR-TIMEZONE") or "", 64)
    if calendar_zone_name and _zone(calendar_zone_name) is None:
        notes.append(Note("unknown_timezone", {"tzid": calendar_zone_name, "zone": ""}))
        del calendar["X-WR-TIMEZONE"]
        calendar_zone_name = ""
    # Stored names are canonical (events/validation.py): an alias in the file stands for its
    # zone (US/Eastern is America/New_York); a zone with no region name, for the default.
    zone_name = (
        canonical_timezone(calendar_zone_name) or canonical_timezone(default_timezone) or UTC_ZONE
    )
    zone = ZoneInfo(zone_name)
    for tzid in _unknown_tzids(text, calendar):
        notes.append(Note("unknown_timezone", {"tzid": _one_line(tzid, 64), "zone": zone_name}))

    window_start = now - WINDOW_PAST
    window_end = now + WINDOW_FUTURE
    kept: list[Any] = []
    skipped = frequent = 0
    for component in calendar.subcomponents:
        if getattr(component, "name", "") != "VEVENT":
            kept.append(component)
            continue
        clock.check()
        steps = 0
        try:
            readable = component.get("DTSTART") is not None and not component.errors
            steps = _rule_steps(component, window_end) if readable else 0
            if readable:
                _drop_backwards_end(component)
        except Exception:  # a value icalendar kept but cannot interpret
            readable = False
        if not readable:
            skipped += 1
        elif steps > MAX_RULE_STEPS:
            frequent += 1
        else:
            kept.append(component)
    calendar.subcomponents = kept
    recurring = {
        str(c.get("UID", ""))
        for c in calendar.walk("VEVENT")
        if c.get("RRULE") is not None
        or c.get("RDATE") is not None
        or c.get("RECURRENCE-ID") is not None
    }

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            query = recurring_ical_events.of(calendar, skip_bad_series=True)
    except Exception as error:
        raise ImportRefused("not_icalendar", _one_line(error, 300)) from error
    occurrences: list[Any] = []
    for series in query.series:
        clock.check()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = list(series.between(window_start, window_end))
        except Exception:  # one broken series (a bad RRULE...) does not sink the feed
            skipped += 1
            continue
        occurrences.extend(found)
        if len(occurrences) > max_events:
            raise ImportRefused(
                "too_many_events",
                f"more than {max_events:,} events between {window_start:%Y-%m-%d} "
                f"and {window_end:%Y-%m-%d}",
            )

    events: dict[str, ImportedEvent] = {}
    floating = False
    for occurrence in occurrences:
        clock.check()
        try:
            item, was_floating = _imported(occurrence, zone, zone_name, recurring)
        except Exception:  # a value icalendar accepted but that makes no sense
            skipped += 1
            continue
        floating = floating or was_floating
        if item.uid in events:
            skipped += 1  # the same UID twice (without RECURRENCE-ID): keep the first
            continue
        if item.ends_at < window_start:
            continue
        events[item.uid] = item
    if floating and not calendar_zone_name:
        notes.append(Note("floating_times", {"zone": zone_name}))
    if frequent:
        notes.append(Note("frequent_rule", {"count": frequent}))
    if skipped:
        notes.append(Note("skipped_events", {"count": skipped}))
    return ParsedCalendar(
        name=name,
        timezone=zone_name,
        events=sorted(events.values(), key=lambda e: (e.starts_at, e.uid)),
        notes=notes,
        window_start=window_start,
        window_end=window_end,
    )


def _imported(
    occurrence: Any, zone: ZoneInfo, zone_name: str, recurring: Iterable[str]
) -> tuple[ImportedEvent, bool]:
    component = occurrence.as_component(False)
    start, end = occurrence.start, occurrence.end
    all_day = not isinstance(start, datetime)
    floating = isinstance(start, datetime) and start.tzinfo is None
    starts_at = _aware(start, zone)
    ends_at = _aware(end, zone) if end is not None else starts_at
    if ends_at <= starts_at:
        ends_at = starts_at + (timedelta(days=1) if all_day else DEFAULT_LENGTH)
    summary = _one_line(component.get("SUMMARY"), MAX_TITLE) or UNTITLED
    uid = _one_line(component.get("UID"), 100_000)
    if not uid:  # RFC 5545 requires one; make a stable one from what identifies the event
        uid = "no-uid-" + hashlib.sha256(f"{summary}|{starts_at.isoformat()}".encode()).hexdigest()
    if uid in recurring:
        uid = f"{uid}#{_recurrence_key(component.get('RECURRENCE-ID') or start)}"
    location = _one_line(component.get("LOCATION"), MAX_LINE)
    status = str(component.get("STATUS") or "").strip().upper()
    return (
        ImportedEvent(
            uid=_external_uid(uid),
            title=summary,
            description=_description(component.get("DESCRIPTION")),
            location=location,
            url=_web_address(component.get("URL")),
            online_url=_web_address(location),
            starts_at=starts_at.astimezone(UTC),
            ends_at=ends_at.astimezone(UTC),
            timezone=zone_name if all_day or floating else _zone_name(start.tzinfo, zone_name),
            cancelled=status == "CANCELLED",
            all_day=all_day,
        ),
        floating,
    )
