"""Importing external iCalendar files: parsing real-world-shaped feeds (events.imports)
and mirroring them as external events (events.services.external_calendars)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from events.database import Database
from events.errors import Conflict
from events.imports import (
    MAX_BYTES,
    MAX_COMPONENTS,
    ImportedEvent,
    ImportRefused,
    ParsedCalendar,
    parse_calendar,
    plain_text_markdown,
)
from events.models import Community, Event, EventStatus, ExternalCalendar
from events.services.external_calendars import (
    ExternalCalendarService,
    read_calendar_file,
    sync_source,
)
from events.services.registrations import RegistrationInput, RegistrationService
from events.text import markdown_to_text, render_markdown
from tests.factories import Factories

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ics"
#: The fixtures' events are in 2035; the import window is taken around this moment.
NOW = datetime(2034, 12, 1, 12, 0, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def by_title(parsed: ParsedCalendar) -> dict[str, ImportedEvent]:
    return {event.title: event for event in parsed.events}


def calendar(*events: str, header: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    text = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{header}{body}END:VCALENDAR\r\n"
    )
    return text.replace("\n", "\r\n").replace("\r\r\n", "\r\n").encode()


def huge_calendar(count: int, *, padding: int = 0) -> bytes:
    """``count`` distinct events within the import window (plus optional filler text)."""
    events = []
    for n in range(count):
        start = NOW + timedelta(days=1, minutes=n)
        stamp = start.strftime("%Y%m%dT%H%M%SZ")
        filler = f"\r\nDESCRIPTION:{'x' * padding}" if padding else ""
        events.append(f"UID:huge-{n}@example.org\r\nDTSTART:{stamp}\r\nSUMMARY:Event {n}{filler}")
    return calendar(*events)


# -- parsing ---------------------------------------------------------------------------------


def test_google_style_feed_lands_at_the_right_utc_times() -> None:
    parsed = parse_calendar(fixture("google_style.ics"), now=NOW, default_timezone="Europe/London")
    events = by_title(parsed)
    assert parsed.name == "Café Commun — agenda"
    assert parsed.timezone == "Europe/Paris"  # X-WR-TIMEZONE beats the community's zone
    games = events["Soirée jeux de société"]
    assert (games.starts_at, games.ends_at) == (utc(2035, 1, 16, 18), utc(2035, 1, 16, 20))
    assert games.timezone == "Europe/Paris"  # UTC in the file, Paris for people
    assert games.location == "Café Commun, 12 rue des Lilas, 75020 Paris, France"
    # Floating time in July: 19:30 in Paris is 17:30 UTC (summer time).
    apero = events["Apéro d'été *en terrasse*"]
    assert apero.starts_at == utc(2035, 7, 5, 17, 30)
    assert apero.url == "https://cafe-commun.example/apero"
    # All day: midnight to midnight in the calendar's zone.
    open_day = events["Journée portes ouvertes"]
    assert open_day.all_day
    assert (open_day.starts_at, open_day.ends_at) == (utc(2035, 2, 13, 23), utc(2035, 2, 14, 23))
    # No DTEND and no DURATION: the default length.
    volunteers = events["Rencontre des bénévoles"]
    assert volunteers.ends_at - volunteers.starts_at == timedelta(hours=2)
    assert events["Atelier couture (annulé)"].cancelled
    # Events long before the window are not part of the import.
    assert "Une soirée d'il y a longtemps" not in events


def test_an_unknown_tzid_is_read_in_the_calendars_zone_with_a_note() -> None:
    parsed = parse_calendar(fixture("google_style.ics"), now=NOW, default_timezone="Europe/London")
    odd = by_title(parsed)["Conférence 日本語 & ελληνικά"]
    assert odd.starts_at == utc(2035, 3, 10, 18)  # 19:00 in Paris
    assert [(n.code, n.params) for n in parsed.notes] == [
        ("unknown_timezone", {"tzid": "Customized Time Zone", "zone": "Europe/Paris"})
    ]


def test_floating_times_without_a_calendar_zone_use_the_communitys_zone() -> None:
    data = calendar("UID:f1\r\nDTSTART:20350110T190000\r\nDTEND:20350110T210000\r\nSUMMARY:Talk")
    parsed = parse_calendar(data, now=NOW, default_timezone="America/New_York")
    (event,) = parsed.events
    assert event.starts_at == utc(2035, 1, 11, 0)  # 19:00 in New York (UTC-5)
    assert event.timezone == "America/New_York"
    assert [n.code for n in parsed.notes] == ["floating_times"]


def test_rrule_with_an_exdate_and_a_moved_occurrence() -> None:
    parsed = parse_calendar(fixture("recurring_overrides.ics"), now=NOW, default_timezone="UTC")
    repair = [e for e in parsed.events if e.uid.startswith("repair-cafe-2035@")]
    # First Thursdays at 18:00 Paris; March is excluded; February moved to Friday 19:00.
    assert [e.starts_at for e in repair] == [
        utc(2035, 1, 4, 17),
        utc(2035, 2, 2, 18),
        utc(2035, 4, 5, 16),  # summer time from 25 March: 18:00 is 16:00 UTC
        utc(2035, 5, 3, 16),
        utc(2035, 6, 7, 16),
    ]
    moved = repair[1]
    assert moved.title == "Repair café (exceptionally on Friday)"
    assert moved.uid == "repair-cafe-2035@atelier.example#20350201T170000Z"  # its RECURRENCE-ID
    assert len({e.uid for e in parsed.events}) == len(parsed.events)
    # Outlook's Windows zone name, with its VTIMEZONE, across the change to summer time.
    knitting = [e.starts_at for e in parsed.events if e.title.startswith("Outlook weekly")]
    assert knitting == [
        utc(2035, 3, 16, 17, 30),
        utc(2035, 3, 23, 17, 30),
        utc(2035, 3, 30, 16, 30),
        utc(2035, 4, 6, 16, 30),
    ]


@pytest.mark.parametrize(
    "data",
    [
        fixture("malformed.ics"),
        b"<!doctype html><html><body><form>Log in</form></body></html>",
        b"BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n",
        b"",
        b"\xff\xfe\x00\x00binary",
    ],
    ids=["cut-short", "html-page", "garbage-line", "empty", "binary"],
)
def test_malformed_files_are_refused_with_a_clear_code(data: bytes) -> None:
    with pytest.raises(ImportRefused) as refused:
        parse_calendar(data, now=NOW)
    assert refused.value.code == "not_icalendar"
    assert refused.value.detail


def test_one_broken_event_does_not_sink_the_feed() -> None:
    data = calendar(
        "UID:bad\r\nDTSTART:2035-01-10 soon\r\nSUMMARY:Broken date",
        "UID:rule\r\nDTSTART:20350110T100000Z\r\nRRULE:FREQ=SOMETIMES\r\nSUMMARY:Broken rule",
        "UID:good\r\nDTSTART:20350110T180000Z\r\nSUMMARY:Fine",
    )
    parsed = parse_calendar(data, now=NOW)
    assert [e.title for e in parsed.events] == ["Fine"]
    assert [(n.code, n.params) for n in parsed.notes] == [("skipped_events", {"count": 2})]


def test_a_huge_file_is_refused_before_parsing() -> None:
    data = huge_calendar(2, padding=MAX_BYTES)
    with pytest.raises(ImportRefused) as refused:
        parse_calendar(data, now=NOW)
    assert refused.value.code == "too_large"


def test_too_many_events_are_refused_whole() -> None:
    with pytest.raises(ImportRefused) as refused:
        parse_calendar(huge_calendar(2_100), now=NOW)
    assert refused.value.code == "too_many_events"
    assert "2,000" in refused.value.detail


def test_too_many_components_are_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_parsed(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("parsed anyway")

    monkeypatch.setattr("events.imports.Calendar.from_ical", not_parsed)
    with pytest.raises(ImportRefused) as refused:
        parse_calendar(huge_calendar(MAX_COMPONENTS + 1), now=NOW)
    assert refused.value.code == "too_many_events"
    assert refused.value.detail == "20,001 events in the file"
    alarm = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT1H\r\nEND:VALARM"
    alarms = "\r\n".join([alarm] * 5)
    many = calendar(*[f"UID:{n}\r\nDTSTART:20350110T180000Z\r\n{alarms}" for n in range(7000)])
    with pytest.raises(ImportRefused) as refused:
        parse_calendar(many, now=NOW)
    assert refused.value.detail == "42,001 components in the file"


def test_reading_stops_at_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is checked between components, series and occurrences: a clock that
    moves a second per look stops a 20-event file after 5 looks."""
    ticks = iter(range(1_000_000))
    monkeypatch.setattr("events.imports.monotonic", lambda: float(next(ticks)))
    data = calendar(*[f"UID:{n}\r\nDTSTART:20350110T18{n:02d}00Z" for n in range(20)])
    with pytest.raises(ImportRefused) as refused:
        parse_calendar(data, now=NOW, time_limit=5)
    assert (refused.value.code, refused.value.detail) == (
        "too_complex",
        "reading stopped after 5 s",
    )
    assert next(ticks) < 10  # it stopped at once, not after reading everything
    assert len(parse_calendar(data, now=NOW, time_limit=None).events) == 20


def test_a_runaway_rule_is_left_out_quickly() -> None:
    data = calendar(
        "UID:bomb\r\nDTSTART:19700101T000000Z\r\nRRULE:FREQ=SECONDLY\r\nSUMMARY:Every second",
        "UID:ok\r\nDTSTART:20350110T180000Z\r\nSUMMARY:Fine",
    )
    started = time.monotonic()
    parsed = parse_calendar(data, now=NOW)
    # Unguarded, this rule took 141 s here; guarded it takes milliseconds (30 s: load room).
    assert time.monotonic() - started < 30
    assert [e.title for e in parsed.events] == ["Fine"]
    assert [(n.code, n.params) for n in parsed.notes] == [("frequent_rule", {"count": 1})]


def test_text_stays_plain_text_and_safe() -> None:
    parsed = parse_calendar(fixture("google_style.ics"), now=NOW, default_timezone="UTC")
    games = by_title(parsed)["Soirée jeux de société"]
    rendered = render_markdown(games.description)
    assert "<em>" not in rendered and "*et*" in rendered  # no accidental emphasis
    assert '<a href="https://cafe-commun.example/jeux"' in rendered
    assert markdown_to_text(games.description).splitlines() == [
        "Soirée jeux 🎲",
        "Entrée libre. Inscription : cafe-commun.example/jeux (https://cafe-commun.example/jeux)",
        "",
        "Apportez vos jeux préférés *et* vos amis !",
    ]
    hostile = plain_text_markdown("<script>alert(1)</script> [x](javascript:alert(1)) # title")
    assert "<script" not in render_markdown(hostile)
    assert "javascript:" not in render_markdown(hostile).replace("(javascript:alert(1))", "")
    assert markdown_to_text(hostile) == "<script>alert(1)</script> [x](javascript:alert(1)) # title"


def test_unicode_and_a_missing_uid() -> None:
    data = calendar("DTSTART:20350110T180000Z\r\nSUMMARY:Café 日本語 🎉\r\nLOCATION:Zürich")
    (event,) = parse_calendar(data, now=NOW).events
    assert event.title == "Café 日本語 🎉"
    assert event.location == "Zürich"
    assert event.uid.startswith("no-uid-")
    assert parse_calendar(data, now=NOW).events[0].uid == event.uid  # stable


# -- mirroring -------------------------------------------------------------------------------


@pytest.fixture
def source(db: Database, make: Factories) -> ExternalCalendar:
    community = make.community(slug="importers")
    with db.transaction() as session:
        found = session.get(Community, community.id)
        assert found is not None
        source = ExternalCalendar(community_id=found.id, name="Partner", url="https://x.test/c.ics")
        session.add(source)
    return source


def sync(db: Database, source: ExternalCalendar, data: bytes, now: datetime = NOW):
    prepared = read_calendar_file(data, now=now, default_timezone="Europe/Paris")
    with db.transaction() as session:
        found = session.get(ExternalCalendar, source.id)
        assert found is not None
        return sync_source(session, found, prepared, now=now)


def events_of(db: Database, source: ExternalCalendar) -> dict[str, Event]:
    with db.session() as session:
        rows = session.scalars(select(Event).where(Event.external_source_id == source.id))
        return {event.external_uid or "": event for event in rows}


EVENT_A = "UID:a@x\r\nDTSTART:20350110T180000Z\r\nDTEND:20350110T200000Z\r\nSUMMARY:Alpha"
EVENT_B = "UID:b@x\r\nDTSTART:20350111T180000Z\r\nDTEND:20350111T200000Z\r\nSUMMARY:Beta"
EVENT_C = "UID:c@x\r\nDTSTART:20350112T180000Z\r\nDTEND:20350112T200000Z\r\nSUMMARY:Gamma"


def test_sync_creates_public_external_events(db: Database, source: ExternalCalendar) -> None:
    report = sync(db, source, calendar(EVENT_A, EVENT_B))
    assert (report.created, report.updated, report.removed) == (2, 0, 0)
    events = events_of(db, source)
    alpha = events["a@x"]
    assert alpha.status is EventStatus.PUBLISHED and alpha.is_external
    assert alpha.capacity is None and alpha.community_id == source.community_id
    assert alpha.slug == "alpha-2035-01-10"
    assert alpha.timezone == "Europe/Paris"
    with db.session() as session:
        assert session.get(ExternalCalendar, source.id).event_count == 2  # type: ignore[union-attr]


def test_sync_updates_by_uid_and_removes_what_disappeared(
    db: Database, source: ExternalCalendar
) -> None:
    sync(db, source, calendar(EVENT_A, EVENT_B, EVENT_C))
    before = events_of(db, source)
    moved_b = EVENT_B.replace("20350111T18", "20350111T19").replace("20350111T20", "20350111T21")
    report = sync(db, source, calendar(EVENT_A, moved_b))
    assert (report.created, report.updated, report.removed, report.unchanged) == (0, 1, 1, 1)
    after = events_of(db, source)
    assert set(after) == {"a@x", "b@x"}
    assert after["b@x"].id == before["b@x"].id  # the same row, updated in place
    assert after["b@x"].starts_at == utc(2035, 1, 11, 19)
    assert after["b@x"].revision == before["b@x"].revision + 1  # our feeds' SEQUENCE
    # Unchanged: untouched, so its DTSTAMP (updated_at) and our feeds' ETags stay.
    assert after["a@x"].revision == before["a@x"].revision
    assert after["a@x"].updated_at == before["a@x"].updated_at


def test_a_cancellation_in_the_feed_cancels_the_event(
    db: Database, source: ExternalCalendar
) -> None:
    sync(db, source, calendar(EVENT_A))
    sync(db, source, calendar(EVENT_A + "\r\nSTATUS:CANCELLED"))
    alpha = events_of(db, source)["a@x"]
    assert alpha.status is EventStatus.CANCELLED
    assert alpha.cancelled_at is not None and alpha.revision == 1


def test_events_before_the_window_are_history_not_removals(
    db: Database, source: ExternalCalendar
) -> None:
    sync(db, source, calendar(EVENT_A, EVENT_B))
    # A year later the feed no longer lists January 2035: those events stay.
    sync(db, source, calendar(), now=NOW + timedelta(days=400))
    assert set(events_of(db, source)) == {"a@x", "b@x"}


def test_a_feed_that_empties_removes_its_upcoming_events(
    db: Database, source: ExternalCalendar
) -> None:
    sync(db, source, calendar(EVENT_A, EVENT_B))
    report = sync(db, source, calendar())
    assert report.removed == 2 and events_of(db, source) == {}


def test_nobody_registers_for_an_external_event(db: Database, source: ExternalCalendar) -> None:
    now = datetime.now(UTC)
    soon = (now + timedelta(days=7)).strftime("%Y%m%dT%H%M%SZ")
    sync(db, source, calendar(f"UID:soon@x\r\nDTSTART:{soon}\r\nSUMMARY:Soon"), now=now)
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        event = session.scalar(select(Event).where(Event.external_uid == "soon@x"))
        assert event is not None and event.status is EventStatus.PUBLISHED
        RegistrationService(session).register(
            event, RegistrationInput(name="Ada", email="ada@example.org", consent=True)
        )
    assert refused.value.code == "registration_closed"


def test_removing_a_subscription_removes_its_events(db: Database, source: ExternalCalendar) -> None:
    sync(db, source, calendar(EVENT_A, EVENT_B))
    with db.transaction() as session:
        found = session.get(ExternalCalendar, source.id)
        assert ExternalCalendarService(session).remove(found) == 2  # type: ignore[arg-type]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_uploading_the_same_file_again_updates_instead_of_duplicating(
    db: Database, make: Factories
) -> None:
    community = make.community()
    for title in ("Alpha", "Alpha renamed"):
        prepared = read_calendar_file(
            calendar(EVENT_A.replace("Alpha", title)), now=NOW, default_timezone="UTC"
        )
        with db.transaction() as session:
            found = session.get(Community, community.id)
            ExternalCalendarService(session).import_upload(
                found,  # type: ignore[arg-type]
                prepared,
                filename="partner.ics",
                now=NOW,
            )
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ExternalCalendar)) == 1
        (event,) = session.scalars(select(Event))
        assert event.title == "Alpha renamed" and event.revision == 1


# -- robustness and the fetcher's address check ----------------------------------------------

_LINES = [
    "BEGIN:VEVENT",
    "END:VEVENT",
    "BEGIN:VTIMEZONE",
    "END:VTIMEZONE",
    "UID:x",
    "DTSTART:20350110T180000Z",
    "DTSTART;VALUE=DATE:20350110",
    "DTSTART;TZID=Nowhere/Else:20350110T180000",
    "DTSTART:garbage",
    "DTEND:20350110T170000Z",
    "DURATION:PT1H",
    "DURATION:nonsense",
    "RRULE:FREQ=DAILY;COUNT=3",
    "RRULE:FREQ=WEEKLY;INTERVAL=0",
    "RRULE:FREQ=MONTHLY;BYDAY=1TH;UNTIL=20340101T000000Z",
    "RRULE:BROKEN",
    "EXDATE:20350111T180000Z",
    "RECURRENCE-ID:20350111T180000Z",
    "RDATE:20350120T180000Z",
    "SUMMARY:𝓤𝓷𝓲𝓬𝓸𝓭𝓮 \\, \\; \\n",
    "STATUS:CANCELLED",
    "X-WR-TIMEZONE:Europe/Paris",
    ":no name",
    'NAME;PARAM="unterminated:value',
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_LINES), max_size=25))
def test_any_mix_of_lines_is_imported_or_refused_never_a_crash(lines: list[str]) -> None:
    data = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", *lines, "END:VCALENDAR", ""]).encode()
    try:
        parsed = parse_calendar(data, now=NOW, default_timezone="Europe/Paris")
    except ImportRefused as refused:
        assert refused.code == "not_icalendar"
        return
    for event in parsed.events:
        assert event.starts_at < event.ends_at and event.starts_at.tzinfo is not None
        assert len(event.uid) <= 255
