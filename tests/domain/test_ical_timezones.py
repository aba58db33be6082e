"""VTIMEZONEs from ``events.ical_timezones`` read the same in three independent parsers.

* icalendar re-parses the calendar (its TZIDs resolve through zoneinfo);
* dateutil's ``tzical`` reads only our VTIMEZONE text, never zoneinfo;
* ical.js (Thunderbird-family clients) through ``tests/js/expand.mjs``.

A control test shows the ical.js harness catches the comma-separated RDATE bug of
icalendar's own ``add_missing_timezones()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from dateutil.tz import tzical
from icalendar import Calendar, Event

from events.ical_timezones import add_timezones, vtimezone
from tests.ical_js import expand_with_ical_js, require_ical_js

FIRST = date(2026, 1, 1)
LAST = date(2028, 12, 31)
UNTIL = "2029-01-31"
DTSTAMP = datetime(2026, 1, 1, tzinfo=UTC)
MAX_VTIMEZONE_BYTES = 1024
MAX_PARIS_BYTES = 600

# (zone, local wall-clock start, expected UTC start), written out by hand.
CASES: list[tuple[str, datetime, str]] = [
    # Europe/Paris at 19:00: CET (+01) in winter, CEST (+02) in summer.
    ("Europe/Paris", datetime(2026, 1, 15, 19), "2026-01-15T18:00:00Z"),
    ("Europe/Paris", datetime(2026, 3, 28, 19), "2026-03-28T18:00:00Z"),
    ("Europe/Paris", datetime(2026, 3, 29, 19), "2026-03-29T17:00:00Z"),
    ("Europe/Paris", datetime(2026, 3, 30, 19), "2026-03-30T17:00:00Z"),
    ("Europe/Paris", datetime(2026, 7, 14, 19), "2026-07-14T17:00:00Z"),
    ("Europe/Paris", datetime(2026, 10, 24, 19), "2026-10-24T17:00:00Z"),
    ("Europe/Paris", datetime(2026, 10, 25, 19), "2026-10-25T18:00:00Z"),
    ("Europe/Paris", datetime(2026, 10, 26, 19), "2026-10-26T18:00:00Z"),
    ("Europe/Paris", datetime(2026, 12, 3, 19), "2026-12-03T18:00:00Z"),
    ("Europe/Paris", datetime(2027, 2, 11, 19), "2027-02-11T18:00:00Z"),
    ("Europe/Paris", datetime(2027, 4, 1, 19), "2027-04-01T17:00:00Z"),
    ("Europe/Paris", datetime(2027, 8, 19, 19), "2027-08-19T17:00:00Z"),
    ("Europe/Paris", datetime(2028, 2, 29, 19), "2028-02-29T18:00:00Z"),
    ("Europe/Paris", datetime(2028, 6, 21, 19), "2028-06-21T17:00:00Z"),
    ("Europe/Paris", datetime(2028, 12, 31, 19), "2028-12-31T18:00:00Z"),
    # Either side of the exact transition instants (01:00Z on both Sundays).
    ("Europe/Paris", datetime(2026, 3, 29, 1, 30), "2026-03-29T00:30:00Z"),
    ("Europe/Paris", datetime(2026, 3, 29, 3, 30), "2026-03-29T01:30:00Z"),
    ("Europe/Paris", datetime(2026, 10, 25, 1, 30), "2026-10-24T23:30:00Z"),
    ("Europe/Paris", datetime(2026, 10, 25, 3, 30), "2026-10-25T02:30:00Z"),
    # America/New_York: EDT from the 2nd Sunday of March to the 1st Sunday of November.
    ("America/New_York", datetime(2026, 3, 7, 19), "2026-03-08T00:00:00Z"),
    ("America/New_York", datetime(2026, 3, 8, 19), "2026-03-08T23:00:00Z"),
    ("America/New_York", datetime(2026, 10, 31, 19), "2026-10-31T23:00:00Z"),
    ("America/New_York", datetime(2026, 11, 1, 19), "2026-11-02T00:00:00Z"),
    ("America/New_York", datetime(2027, 4, 1, 19), "2027-04-01T23:00:00Z"),
    ("America/New_York", datetime(2028, 1, 20, 19), "2028-01-21T00:00:00Z"),
    # Australia/Sydney: AEDT (+11) from the 1st Sunday of October to the 1st Sunday of April.
    ("Australia/Sydney", datetime(2026, 4, 4, 19), "2026-04-04T08:00:00Z"),
    ("Australia/Sydney", datetime(2026, 4, 5, 19), "2026-04-05T09:00:00Z"),
    ("Australia/Sydney", datetime(2026, 10, 3, 19), "2026-10-03T09:00:00Z"),
    ("Australia/Sydney", datetime(2026, 10, 4, 19), "2026-10-04T08:00:00Z"),
    ("Australia/Sydney", datetime(2027, 4, 1, 19), "2027-04-01T08:00:00Z"),
    ("Australia/Sydney", datetime(2027, 7, 15, 19), "2027-07-15T09:00:00Z"),
    ("Australia/Sydney", datetime(2028, 12, 24, 19), "2028-12-24T08:00:00Z"),
    # Asia/Tokyo: JST (+09), no DST.
    ("Asia/Tokyo", datetime(2026, 1, 15, 19), "2026-01-15T10:00:00Z"),
    ("Asia/Tokyo", datetime(2027, 4, 1, 19), "2027-04-01T10:00:00Z"),
    ("Asia/Tokyo", datetime(2028, 8, 1, 19), "2028-08-01T10:00:00Z"),
]
ZONES = sorted({zone for zone, _, _ in CASES})

# Zones and year ranges whose VTIMEZONE takes a less regular shape: a rule change (US 2007),
# DST abolished (Brazil 2019), a standard offset change (Moscow 2011/2014), Ramadan-driven
# changes (Morocco), a 30-minute DST (Lord Howe), and a negative-DST zone (Dublin).
SHAPES: list[tuple[str, date, date]] = [
    ("Europe/Paris", FIRST, LAST),
    ("America/New_York", FIRST, LAST),
    ("Australia/Sydney", FIRST, LAST),
    ("Asia/Tokyo", FIRST, LAST),
    ("UTC", FIRST, LAST),
    ("America/New_York", date(2006, 1, 1), date(2008, 12, 31)),
    ("America/Sao_Paulo", date(2018, 1, 1), date(2020, 12, 31)),
    ("Europe/Moscow", date(2010, 1, 1), date(2015, 12, 31)),
    ("Africa/Casablanca", FIRST, LAST),
    ("Australia/Lord_Howe", FIRST, LAST),
    ("Europe/Dublin", FIRST, LAST),
]


def _iso(moment: datetime) -> str:
    """Format an aware datetime as the harness does: UTC, seconds, trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uid(zone: str, local: datetime) -> str:
    """A stable UID per test case."""
    return f"{zone.replace('/', '-')}-{local:%Y%m%dT%H%M}@rencontres.test"


def _new_calendar() -> Calendar:
    """An empty VCALENDAR with the mandatory properties."""
    calendar = Calendar()
    calendar.add("PRODID", "-//Rencontres//Tests//EN")
    calendar.add("VERSION", "2.0")
    return calendar


def _event(uid: str, start: datetime, summary: str = "Meetup") -> Event:
    """A two-hour VEVENT starting at ``start`` (aware)."""
    event = Event()
    event.add("UID", uid)
    event.add("DTSTAMP", DTSTAMP)
    event.add("SUMMARY", summary)
    event.add("DTSTART", start)
    event.add("DTEND", start + timedelta(hours=2))
    return event


def _cases_calendar() -> Calendar:
    """All CASES as events, without any VTIMEZONE yet."""
    calendar = _new_calendar()
    for zone, local, _ in CASES:
        calendar.add_component(_event(_uid(zone, local), local.replace(tzinfo=ZoneInfo(zone))))
    return calendar


def _ics_with_our_timezones() -> bytes:
    """CASES serialised with our VTIMEZONEs."""
    calendar = _cases_calendar()
    add_timezones(calendar, ZONES, FIRST, LAST)
    return calendar.to_ical()


def _expected_by_uid() -> dict[str, str]:
    """Expected UTC start per UID."""
    return {_uid(zone, local): expected for zone, local, expected in CASES}


def _daily_series_ics(zone: str, first: date, last: date, hour: int) -> bytes:
    """A daily series at ``hour`` local time from ``first`` to ``last``, with our VTIMEZONE."""
    calendar = _new_calendar()
    start = datetime.combine(first, time(hour), ZoneInfo(zone))
    until = datetime.combine(last, time.max, ZoneInfo(zone)).astimezone(UTC).replace(microsecond=0)
    event = _event(f"daily-{hour}@rencontres.test", start)
    event.add("RRULE", {"FREQ": "DAILY", "UNTIL": until})
    calendar.add_component(event)
    add_timezones(calendar, [zone], first, last)
    return calendar.to_ical()


def _days(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last`` inclusive."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _unambiguous_local_hours(zone: ZoneInfo, first: date, last: date) -> Iterator[datetime]:
    """Every local wall-clock hour in the range that exists exactly once in ``zone``."""
    for day in _days(first, last):
        for hour in range(24):
            local = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
            if local.utcoffset() == local.replace(fold=1).utcoffset():
                yield local


@pytest.fixture
def ical_js() -> None:
    """Run only with the ical.js harness; fail instead of skipping when ``CI`` is set."""
    require_ical_js()


def test_expected_table_agrees_with_zoneinfo() -> None:
    for zone, local, expected in CASES:
        assert _iso(local.replace(tzinfo=ZoneInfo(zone))) == expected, (zone, local)


def test_icalendar_reparses_every_start_to_the_right_instant() -> None:
    calendar = Calendar.from_ical(_ics_with_our_timezones())
    expected = _expected_by_uid()
    events = calendar.walk("VEVENT")
    assert len(events) == len(CASES)
    for event in events:
        assert _iso(event.start) == expected[str(event["UID"])], event["UID"]
    assert sorted(tz.tz_name for tz in calendar.timezones) == ZONES
    assert not calendar.get_missing_tzids()


def test_dateutil_reads_the_vtimezones_alone_to_the_right_instant() -> None:
    zones = tzical(StringIO(_ics_with_our_timezones().decode()))
    for zone, local, expected in CASES:
        assert _iso(local.replace(tzinfo=zones.get(zone))) == expected, (zone, local)


@pytest.mark.parametrize(("zone_name", "first", "last"), SHAPES)
def test_dateutil_matches_zoneinfo_for_every_local_hour(
    zone_name: str, first: date, last: date
) -> None:
    ics = b"BEGIN:VCALENDAR\r\n" + vtimezone(zone_name, first, last).to_ical() + b"END:VCALENDAR"
    ours = tzical(StringIO(ics.decode())).get(zone_name)
    for local in _unambiguous_local_hours(ZoneInfo(zone_name), first, last):
        assert local.replace(tzinfo=ours).utcoffset() == local.utcoffset(), local


@pytest.mark.usefixtures("ical_js")
def test_ical_js_reads_every_start_to_the_right_instant() -> None:
    records = expand_with_ical_js(_ics_with_our_timezones(), UNTIL)
    expected = _expected_by_uid()
    assert {r["uid"]: r["start"] for r in records} == expected
    zone_of = {_uid(zone, local): zone for zone, local, _ in CASES}
    assert all(r["start_tzid"] == zone_of[r["uid"]] for r in records)


@pytest.mark.usefixtures("ical_js")
@pytest.mark.parametrize(("zone_name", "first", "last"), SHAPES)
def test_ical_js_matches_zoneinfo_every_day(zone_name: str, first: date, last: date) -> None:
    zone = ZoneInfo(zone_name)
    for hour in (12, 19):
        records = expand_with_ical_js(_daily_series_ics(zone_name, first, last, hour), UNTIL)
        expected = [_iso(datetime.combine(day, time(hour), zone)) for day in _days(first, last)]
        assert [r["start"] for r in records] == expected, hour


@pytest.mark.usefixtures("ical_js")
def test_control_ical_js_misreads_icalendars_own_vtimezone() -> None:
    calendar = _cases_calendar()
    calendar.add_missing_timezones()
    rdate_lines = [line for line in calendar.to_ical().split(b"\r\n") if line.startswith(b"RDATE")]
    assert any(b"," in line for line in rdate_lines)  # the comma-separated lists are there
    uid = _uid("Europe/Paris", datetime(2027, 4, 1, 19))
    record = next(r for r in expand_with_ical_js(calendar.to_ical(), UNTIL) if r["uid"] == uid)
    assert record["start_tzid"] == "Europe/Paris"  # the VTIMEZONE was used, yet:
    assert record["start"] == "2027-04-01T18:00:00Z"  # an hour late; right is 17:00Z


def test_output_is_byte_identical_for_identical_input() -> None:
    assert _ics_with_our_timezones() == _ics_with_our_timezones()
    shuffled = _cases_calendar()
    add_timezones(shuffled, [*reversed(ZONES), ZONES[0]], FIRST, LAST)
    assert shuffled.to_ical() == _ics_with_our_timezones()
    for zone in ZONES:
        assert vtimezone(zone, FIRST, LAST).to_ical() == vtimezone(zone, FIRST, LAST).to_ical()


def test_vtimezones_are_small() -> None:
    assert len(vtimezone("Europe/Paris", FIRST, LAST).to_ical()) <= MAX_PARIS_BYTES
    for zone in ZONES:
        assert len(vtimezone(zone, FIRST, LAST).to_ical()) <= MAX_VTIMEZONE_BYTES, zone


@pytest.mark.parametrize(("zone_name", "first", "last"), SHAPES)
def test_no_rdate_lists(zone_name: str, first: date, last: date) -> None:
    assert b"RDATE" not in vtimezone(zone_name, first, last).to_ical()


def test_paris_follows_the_eu_rule() -> None:
    paris = vtimezone("Europe/Paris", FIRST, LAST)
    rules = {block.name: block.get("RRULE") for block in paris.subcomponents if "RRULE" in block}
    assert rules["DAYLIGHT"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert rules["STANDARD"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    daylight = paris.daylight[0]
    onset, before, after = daylight.DTSTART, daylight.TZOFFSETFROM, daylight.TZOFFSETTO
    assert onset == datetime(2025, 3, 30, 2)  # 02:00 CET, the local time before the change
    assert (before, after) == (timedelta(hours=1), timedelta(hours=2))
    assert str(daylight["TZNAME"]) == "CEST"


def test_southern_hemisphere_rules() -> None:
    sydney = vtimezone("Australia/Sydney", FIRST, LAST)
    rules = {
        block.name: block["RRULE"].to_ical() for block in sydney.subcomponents if "RRULE" in block
    }
    assert rules == {
        "STANDARD": b"FREQ=YEARLY;BYDAY=1SU;BYMONTH=4",
        "DAYLIGHT": b"FREQ=YEARLY;BYDAY=1SU;BYMONTH=10",
    }


@pytest.mark.parametrize("zone_name", ["Asia/Tokyo", "UTC"])
def test_zones_without_dst_get_one_standard_block(zone_name: str) -> None:
    component = vtimezone(zone_name, FIRST, LAST)
    assert [block.name for block in component.subcomponents] == ["STANDARD"]
    (block,) = component.standard
    offset = datetime(2027, 1, 1, tzinfo=ZoneInfo(zone_name)).utcoffset()
    assert block.TZOFFSETFROM == block.TZOFFSETTO == offset
    assert "RRULE" not in block


def test_a_rule_that_ends_gets_an_until() -> None:
    new_york = vtimezone("America/New_York", date(2006, 1, 1), date(2008, 12, 31))
    rules = sorted(block["RRULE"].to_ical() for block in new_york.daylight if "RRULE" in block)
    assert rules == [
        b"FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
        b"FREQ=YEARLY;UNTIL=20060403T070000Z;BYDAY=1SU;BYMONTH=4",
    ]


def test_add_timezones_puts_vtimezones_first_and_replaces_stale_ones() -> None:
    calendar = _cases_calendar()
    calendar.add_missing_timezones()
    add_timezones(calendar, ZONES, FIRST, LAST)
    add_timezones(calendar, ZONES, FIRST, LAST)
    names = [component.name for component in calendar.subcomponents]
    assert names == ["VTIMEZONE"] * len(ZONES) + ["VEVENT"] * len(CASES)
    assert [tz.tz_name for tz in calendar.timezones] == ZONES
    assert calendar.to_ical() == _ics_with_our_timezones()


def test_vtimezone_rejects_a_reversed_range() -> None:
    with pytest.raises(ValueError, match="before"):
        vtimezone("Europe/Paris", LAST, FIRST)


@pytest.mark.usefixtures("ical_js")
def test_harness_honours_exdate_and_overrides() -> None:
    paris = ZoneInfo("Europe/Paris")
    calendar = _new_calendar()
    first = datetime(2027, 3, 18, 19, tzinfo=paris)  # a Thursday, before and after DST
    series = _event("series@rencontres.test", first, "Weekly")
    series.add("RRULE", {"FREQ": "WEEKLY", "COUNT": 5})
    series.add("EXDATE", first + timedelta(weeks=1))
    calendar.add_component(series)
    moved = _event("series@rencontres.test", first + timedelta(weeks=2, hours=1), "Moved")
    moved.add("RECURRENCE-ID", first + timedelta(weeks=2))
    moved.add("SEQUENCE", 2)
    calendar.add_component(moved)
    cancelled = _event("series@rencontres.test", first + timedelta(weeks=3), "Weekly")
    cancelled.add("RECURRENCE-ID", first + timedelta(weeks=3))
    cancelled.add("STATUS", "CANCELLED")
    calendar.add_component(cancelled)
    add_timezones(calendar, ["Europe/Paris"], FIRST, LAST)
    records = expand_with_ical_js(calendar.to_ical(), "2027-04-08")
    summary = [
        (r["start"], r["end"], r["summary"], r["status"], r["sequence"], r["recurrence_id"])
        for r in records
    ]
    assert summary == [
        ("2027-03-18T18:00:00Z", "2027-03-18T20:00:00Z", "Weekly", None, None, None),
        ("2027-04-01T18:00:00Z", "2027-04-01T20:00:00Z", "Moved", None, 2, "2027-04-01T17:00:00Z"),
        (
            "2027-04-08T17:00:00Z",
            "2027-04-08T19:00:00Z",
            "Weekly",
            "CANCELLED",
            None,
            "2027-04-08T17:00:00Z",
        ),
    ]
    assert {r["uid"] for r in records} == {"series@rencontres.test"}
