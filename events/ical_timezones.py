"""VTIMEZONE components that every calendar client reads the same way.

``icalendar``'s ``Calendar.add_missing_timezones()`` lists the yearly transitions of a zone as
one comma-separated ``RDATE`` line. ical.js (Thunderbird and friends) only reads the first
date of such a line, so it shows events an hour off for every year after the first.

This module derives the transitions from :mod:`zoneinfo` instead and writes them the way
tzdata-derived VTIMEZONEs have always looked: one ``STANDARD``/``DAYLIGHT`` block with a
yearly ``RRULE`` per stable rule (``FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU``), and one block per
transition, each with only a ``DTSTART``, when no yearly rule fits. No ``RDATE`` is ever
emitted.

The definition covers whole calendar years, from 1 January of the year before ``first`` to
31 December of the year after ``last``, so the output depends only on the zone and on those
two years: generating it again with the same input gives byte-identical ``to_ical()`` output.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard

__all__ = ["add_timezones", "vtimezone"]

_SCAN_STEP = timedelta(days=1)
_PRECISION = timedelta(seconds=1)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_LAST = -1
_UNTIL_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class _Observance:
    """What a zone shows at one instant: UTC offset, abbreviation and DST flag."""

    offset: timedelta
    name: str
    is_dst: bool


@dataclass(frozen=True)
class _Transition:
    """A change of observance at the UTC instant ``at``."""

    at: datetime
    before: _Observance
    after: _Observance

    @property
    def onset(self) -> datetime:
        """The local (naive) onset, in the time in effect before it, as RFC 5545 wants."""
        return (self.at + self.before.offset).replace(tzinfo=None)

    @property
    def kind(self) -> tuple[_Observance, _Observance]:
        """Transitions of one kind can share a STANDARD or DAYLIGHT block."""
        return (self.before, self.after)


def vtimezone(zone_name: str, first: date, last: date) -> Timezone:
    """Return a VTIMEZONE for ``zone_name`` that is exact for events from ``first`` to ``last``.

    A year of margin is covered on each side. Raises ``zoneinfo.ZoneInfoNotFoundError`` for an
    unknown zone and ``ValueError`` if ``last`` is before ``first``.
    """
    if last < first:
        raise ValueError(f"last ({last}) is before first ({first})")
    zone = ZoneInfo(zone_name)
    start = _utc(datetime(first.year - 1, 1, 1, tzinfo=zone))
    end = _utc(datetime(last.year + 2, 1, 1, tzinfo=zone))
    transitions = list(_transitions(zone, start, end))
    component = Timezone()
    component.add("TZID", zone_name)
    initial = _observance(zone, start)
    component.add_component(_block(initial, initial, (start + initial.offset).replace(tzinfo=None)))
    for run in _runs(transitions):
        component.add_component(_run_block(run, open_ended=run[-1].onset.year > last.year))
    return component


def add_timezones(calendar: Calendar, zones: Iterable[str], first: date, last: date) -> None:
    """Put one VTIMEZONE per distinct zone name (sorted) at the front of ``calendar``.

    Existing VTIMEZONEs with the same TZID are replaced, so calling this twice is harmless.
    Other components keep their order.
    """
    names = sorted(set(zones))
    generated = [vtimezone(name, first, last) for name in names]
    kept = [c for c in calendar.subcomponents if isinstance(c, Timezone) and c.tz_name not in names]
    others = [c for c in calendar.subcomponents if not isinstance(c, Timezone)]
    calendar.subcomponents[:] = [*kept, *generated, *others]


def _utc(moment: datetime) -> datetime:
    """Convert an aware datetime to UTC."""
    return moment.astimezone(UTC)


def _observance(zone: ZoneInfo, instant: datetime) -> _Observance:
    """The observance of ``zone`` at the UTC instant ``instant``."""
    local = instant.astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    return _Observance(offset=offset, name=local.tzname() or "", is_dst=bool(local.dst()))


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[_Transition]:
    """Every change of observance in ``[start, end)``, found daily and bisected to the second."""
    previous, current = start, _observance(zone, start)
    while previous < end:
        probe = min(previous + _SCAN_STEP, end)
        while _observance(zone, probe) != current:  # a loop, in case of two changes in a day
            at = _bisect(zone, previous, probe, current)
            after = _observance(zone, at)
            yield _Transition(at=at, before=current, after=after)
            previous, current = at, after
        previous = probe


def _bisect(zone: ZoneInfo, low: datetime, high: datetime, before: _Observance) -> datetime:
    """The first instant in ``(low, high]`` where ``zone`` no longer shows ``before``."""
    while high - low > _PRECISION:
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            middle = low + _PRECISION
        if _observance(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def _ordinals(day: date) -> frozenset[int]:
    """BYDAY ordinals that describe ``day`` within its month: nth weekday and/or last."""
    days_in_month = _calendar.monthrange(day.year, day.month)[1]
    ordinals = {(day.day - 1) // 7 + 1}
    if day.day + 7 > days_in_month:
        ordinals.add(_LAST)
    return frozenset(ordinals)


def _fits(run: list[_Transition], candidate: _Transition) -> bool:
    """Whether ``candidate`` continues ``run`` as the next year of one yearly rule."""
    head, tail, onset = run[0].onset, run[-1].onset, candidate.onset
    return (
        candidate.kind == run[0].kind
        and onset.year == tail.year + 1
        and onset.month == head.month
        and onset.time() == head.time()
        and onset.weekday() == head.weekday()
        and bool(_common_ordinals([*run, candidate]))
    )


def _common_ordinals(run: list[_Transition]) -> frozenset[int]:
    """The BYDAY ordinals that describe every transition of ``run``."""
    common = _ordinals(run[0].onset.date())
    for transition in run[1:]:
        common &= _ordinals(transition.onset.date())
    return common


def _runs(transitions: list[_Transition]) -> list[list[_Transition]]:
    """Group transitions into runs that one yearly rule describes, ordered by first onset."""
    runs: list[list[_Transition]] = []
    open_runs: dict[tuple[_Observance, _Observance], list[_Transition]] = {}
    for transition in transitions:
        run = open_runs.get(transition.kind)
        if run is not None and _fits(run, transition):
            run.append(transition)
            continue
        run = [transition]
        open_runs[transition.kind] = run
        runs.append(run)
    return runs


def _block(
    before: _Observance, after: _Observance, onset: datetime
) -> TimezoneStandard | TimezoneDaylight:
    """A STANDARD or DAYLIGHT block for a change from ``before`` to ``after`` at ``onset``."""
    block = TimezoneDaylight() if after.is_dst else TimezoneStandard()
    block.add("DTSTART", onset)
    block.add("TZOFFSETFROM", before.offset)
    block.add("TZOFFSETTO", after.offset)
    if after.name:
        block.add("TZNAME", after.name)
    return block


def _run_block(run: list[_Transition], *, open_ended: bool) -> TimezoneStandard | TimezoneDaylight:
    """A block for one transition, or for a yearly rule when the run spans several years.

    A rule that stops inside the covered years gets an ``UNTIL`` (in UTC, as RFC 5545 requires
    for VTIMEZONE sub-components); one still in force at the end stays open-ended. The ``UNTIL``
    is a day after the last onset, not the onset itself: any value before next year's onset
    gives the same transitions, and this one still includes the last onset for parsers (such
    as dateutil) that read ``UNTIL`` as local time.
    """
    head = run[0]
    block = _block(head.before, head.after, head.onset)
    if len(run) > 1:
        ordinals = _common_ordinals(run)
        ordinal = _LAST if _LAST in ordinals else min(ordinals)
        rule: dict[str, object] = {
            "FREQ": "YEARLY",
            "BYMONTH": head.onset.month,
            "BYDAY": f"{ordinal}{_WEEKDAYS[head.onset.weekday()]}",
        }
        if not open_ended:
            rule["UNTIL"] = run[-1].at + _UNTIL_SLACK
        block.add("RRULE", rule)
    return block
