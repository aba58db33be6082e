"""Only canonical IANA region zones (and UTC) are accepted: one rule, events/validation.py,
for the event and series forms and the imports' zones (security review, issue 13 item 9)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from events.database import Database
from events.errors import ValidationFailed
from events.imports import parse_calendar
from events.services.events import EventInput, EventService
from events.services.series import SeriesInput, SeriesService
from events.validation import canonical_timezone, clean_timezone, timezone_choices
from tests.factories import Factories

GOOD = [
    "Europe/Paris",
    "Europe/Amsterdam",  # a link to Brussels in tzdata, but the Netherlands' own name
    "America/Argentina/Buenos_Aires",
    "America/Guadeloupe",
    "Asia/Kolkata",
    "Europe/Kyiv",
    "Pacific/Auckland",
    "Antarctica/Troll",
    "Indian/Reunion",
    "UTC",
]
BAD = [
    "Factory",  # tzdata's placeholder zone, no time at all
    "localtime",  # the server's own clock
    "posixrules",
    "EST5EDT",
    "CST6CDT",
    "CET",
    "EST",
    "WET",
    "Etc/GMT+5",  # UTC-5, despite the sign
    "Etc/GMT-14",
    "GMT",
    "GMT+0",
    "Greenwich",
    "Zulu",
    "UCT",
    "Universal",
    "Etc/Universal",
    "Etc/Zulu",
    "US/Eastern",
    "Europe/Kiev",
    "Asia/Calcutta",
    "America/Buenos_Aires",
    "Australia/ACT",
    "Canada/Pacific",
    "Mars/Olympus_Mons",
    "europe/paris",
    " Europe/Paris/",
    "Europe/../Europe/Paris",
    "/etc/localtime",
    "../../etc/passwd",
    "Europe\\Paris",
    "Europe/Paris\x00",
]


@pytest.mark.parametrize("name", GOOD)
def test_canonical_region_zones_and_utc_are_accepted(name: str) -> None:
    assert clean_timezone("timezone", name) == name
    ZoneInfo(name)  # and they load


@pytest.mark.parametrize("name", BAD)
def test_other_zone_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_timezone("timezone", name)
    assert refused.value.errors == {"timezone": "invalid_timezone"}


def test_etc_utc_is_utc_and_an_empty_zone_is_required() -> None:
    assert clean_timezone("timezone", " Etc/UTC ") == "UTC"
    with pytest.raises(ValidationFailed) as refused:
        clean_timezone("zone", "  ")
    assert refused.value.errors == {"zone": "required"}


def test_the_choices_are_exactly_the_accepted_zones() -> None:
    choices = timezone_choices()
    assert choices[-1] == "UTC" and choices[:-1] == sorted(choices[:-1])
    assert len(choices) > 400 and "Europe/Paris" in choices
    assert not set(BAD) & set(choices)
    assert all(clean_timezone("timezone", name) == name for name in choices)


@pytest.mark.parametrize(
    ("alias", "zone"),
    [
        ("US/Eastern", "America/New_York"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Etc/UTC", "UTC"),
        ("Zulu", "UTC"),
        ("Europe/Paris", "Europe/Paris"),
        ("Factory", None),
        ("Etc/GMT+5", None),
        ("localtime", None),
        ("Nowhere/Land", None),
        ("", None),
    ],
)
def test_an_alias_stands_for_its_zone(alias: str, zone: str | None) -> None:
    assert canonical_timezone(alias) == zone


@pytest.mark.parametrize("name", ["Factory", "EST5EDT", "US/Eastern", "localtime", "Etc/GMT+5"])
def test_the_event_and_series_services_refuse_them(
    db: Database, make: Factories, name: str
) -> None:
    community = make.community()
    with db.transaction() as session, pytest.raises(ValidationFailed) as event_refused:
        EventService(session).create(
            community,
            EventInput(
                title="Talk",
                starts_local="2030-03-07T19:00",
                ends_local="2030-03-07T21:00",
                timezone=name,
            ),
        )
    assert event_refused.value.errors == {"timezone": "invalid_timezone"}
    with db.transaction() as session, pytest.raises(ValidationFailed) as series_refused:
        SeriesService(session).create(
            community,
            SeriesInput(title="Thursdays", starts_on="2030-01-01", timezone=name),
            today=datetime(2030, 1, 1).date(),
        )
    assert series_refused.value.errors.get("timezone") == "invalid_timezone"


def floating_calendar(header: str = "") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        f"{header}BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20350110T190000\r\n"
        "DTEND:20350110T210000\r\nSUMMARY:Talk\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


NOW = datetime(2034, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("default", ["Factory", "localtime", "EST5EDT", "Etc/GMT+5", "Nowhere"])
def test_an_imports_default_zone_that_is_not_canonical_is_not_used(default: str) -> None:
    parsed = parse_calendar(floating_calendar(), now=NOW, default_timezone=default)
    (event,) = parsed.events
    assert parsed.timezone == event.timezone == "UTC"
    assert event.starts_at == datetime(2035, 1, 10, 19, tzinfo=UTC)


def test_an_imports_alias_is_stored_as_the_zone_it_stands_for() -> None:
    parsed = parse_calendar(floating_calendar(), now=NOW, default_timezone="US/Eastern")
    assert parsed.events[0].timezone == "America/New_York"
    assert parsed.events[0].starts_at == datetime(2035, 1, 11, 0, tzinfo=UTC)
    in_file = parse_calendar(
        floating_calendar("X-WR-TIMEZONE:Asia/Calcutta\r\n"), now=NOW, default_timezone="UTC"
    )
    assert in_file.timezone == in_file.events[0].timezone == "Asia/Kolkata"
    with_tzid = parse_calendar(
        floating_calendar().replace(
            b"DTSTART:20350110T190000", b"DTSTART;TZID=Europe/Kiev:20350110T190000"
        ),
        now=NOW,
        default_timezone="Europe/Paris",
    )
    assert with_tzid.events[0].timezone == "Europe/Kyiv"
    assert with_tzid.events[0].starts_at == datetime(2035, 1, 10, 17, tzinfo=UTC)
