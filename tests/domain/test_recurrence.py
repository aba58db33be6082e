"""Recurrence: expansion, DST, RRULE round trip and plain-language spelling (no database)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from itertools import takewhile
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st

from events.recurrence import InvalidRhythm, Occurrence, Rhythm, occurrences_between, spell_out

PARIS = "Europe/Paris"


def make_rhythm(**overrides: object) -> Rhythm:
    """A weekly Thursday 19:00 Paris meetup from 1 January 2026, unless told otherwise."""
    fields: dict[str, object] = {
        "frequency": "weekly",
        "weekday": 3,
        "start_time": time(19, 0),
        "duration": timedelta(hours=2),
        "timezone": PARIS,
        "starts_on": date(2026, 1, 1),
    }
    fields.update(overrides)
    return Rhythm(**fields)  # type: ignore[arg-type]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def starts(rhythm: Rhythm, start: datetime, end: datetime, **kwargs: object) -> list[datetime]:
    return [o.starts_at for o in occurrences_between(rhythm, start, end, **kwargs)]  # type: ignore[arg-type]


# --- Monthly and weekly patterns ---------------------------------------------------------------


def test_first_thursday_of_the_month_keeps_19h_local_through_spring():
    rhythm = make_rhythm(frequency="monthly", weekday=3, week_of_month=1)

    assert starts(rhythm, utc(2026, 1, 1), utc(2026, 7, 1)) == [
        utc(2026, 1, 1, 18),
        utc(2026, 2, 5, 18),
        utc(2026, 3, 5, 18),
        utc(2026, 4, 2, 17),
        utc(2026, 5, 7, 17),
        utc(2026, 6, 4, 17),
    ]


def test_third_wednesday_of_the_month():
    rhythm = make_rhythm(frequency="monthly", weekday=2, week_of_month=3)

    assert starts(rhythm, utc(2026, 1, 1), utc(2026, 5, 1)) == [
        utc(2026, 1, 21, 18),
        utc(2026, 2, 18, 18),
        utc(2026, 3, 18, 18),
        utc(2026, 4, 15, 17),
    ]


def test_last_friday_of_the_month():
    rhythm = make_rhythm(frequency="monthly", weekday=4, week_of_month=-1)

    assert starts(rhythm, utc(2026, 1, 1), utc(2026, 5, 1)) == [
        utc(2026, 1, 30, 18),
        utc(2026, 2, 27, 18),
        utc(2026, 3, 27, 18),
        utc(2026, 4, 24, 17),
    ]


def test_every_two_weeks_on_tuesday():
    rhythm = make_rhythm(interval=2, weekday=1, start_time=time(18, 30), starts_on=date(2026, 1, 6))

    assert starts(rhythm, utc(2026, 1, 1), utc(2026, 4, 15)) == [
        utc(2026, 1, 6, 17, 30),
        utc(2026, 1, 20, 17, 30),
        utc(2026, 2, 3, 17, 30),
        utc(2026, 2, 17, 17, 30),
        utc(2026, 3, 3, 17, 30),
        utc(2026, 3, 17, 17, 30),
        utc(2026, 3, 31, 16, 30),
        utc(2026, 4, 14, 16, 30),
    ]


def test_starts_on_need_not_match_the_rhythm():
    # Starting on a Monday: the first occurrence is the following Tuesday.
    rhythm = make_rhythm(interval=2, weekday=1, starts_on=date(2026, 1, 5))

    assert starts(rhythm, utc(2026, 1, 1), utc(2026, 2, 1)) == [
        utc(2026, 1, 6, 18),
        utc(2026, 1, 20, 18),
    ]


def test_monthly_on_the_31st_skips_months_without_a_31st():
    rhythm = make_rhythm(frequency="monthly", weekday=None, month_day=31)

    assert starts(rhythm, utc(2026, 1, 1), utc(2026, 8, 1)) == [
        utc(2026, 1, 31, 18),
        utc(2026, 3, 31, 17),
        utc(2026, 5, 31, 17),
        utc(2026, 7, 31, 17),
    ]


def test_until_is_an_inclusive_local_date():
    rhythm = make_rhythm(until=date(2026, 1, 15))

    assert [
        o.local_date for o in occurrences_between(rhythm, utc(2026, 1, 1), utc(2027, 1, 1))
    ] == [
        date(2026, 1, 1),
        date(2026, 1, 8),
        date(2026, 1, 15),
    ]


def test_window_includes_its_start_and_excludes_its_end():
    rhythm = make_rhythm()

    assert starts(rhythm, utc(2026, 1, 8, 18), utc(2026, 1, 22, 18)) == [
        utc(2026, 1, 8, 18),
        utc(2026, 1, 15, 18),
    ]


def test_occurrence_carries_local_date_end_and_no_adjustment():
    [occurrence] = occurrences_between(make_rhythm(), utc(2026, 1, 1), utc(2026, 1, 2))

    assert occurrence == Occurrence(
        local_date=date(2026, 1, 1),
        starts_at=utc(2026, 1, 1, 18),
        ends_at=utc(2026, 1, 1, 20),
        adjusted=None,
    )


def test_window_must_be_aware():
    with pytest.raises(ValueError, match="window_not_aware"):
        occurrences_between(make_rhythm(), datetime(2026, 1, 1), utc(2026, 2, 1))


# --- Exceptions ---------------------------------------------------------------------------------


def test_exdates_skip_local_dates_and_ignore_dates_without_an_occurrence():
    rhythm = make_rhythm()
    exdates = {date(2026, 1, 8), date(2026, 1, 22), date(2026, 1, 9)}

    assert starts(rhythm, utc(2026, 1, 1), utc(2026, 2, 1), exdates=exdates) == [
        utc(2026, 1, 1, 18),
        utc(2026, 1, 15, 18),
        utc(2026, 1, 29, 18),
    ]


def test_an_excluded_date_still_uses_up_one_of_count():
    rhythm = make_rhythm(count=4)

    assert starts(rhythm, utc(2026, 1, 1), utc(2027, 1, 1), exdates={date(2026, 1, 8)}) == [
        utc(2026, 1, 1, 18),
        utc(2026, 1, 15, 18),
        utc(2026, 1, 22, 18),
    ]


# --- Daylight saving time in Europe/Paris, 2026 -------------------------------------------------


def test_spring_forward_moves_a_19h_meetup_from_18z_to_17z():
    rhythm = make_rhythm(weekday=6, starts_on=date(2026, 3, 15))
    occurrences = occurrences_between(rhythm, utc(2026, 3, 1), utc(2026, 4, 6))

    assert [o.starts_at for o in occurrences] == [
        utc(2026, 3, 15, 18),
        utc(2026, 3, 22, 18),
        utc(2026, 3, 29, 17),
        utc(2026, 4, 5, 17),
    ]
    assert {o.adjusted for o in occurrences} == {None}


def test_fall_back_moves_a_19h_meetup_from_17z_to_18z():
    rhythm = make_rhythm(weekday=6, starts_on=date(2026, 10, 11))
    occurrences = occurrences_between(rhythm, utc(2026, 10, 1), utc(2026, 11, 2))

    assert [o.starts_at for o in occurrences] == [
        utc(2026, 10, 11, 17),
        utc(2026, 10, 18, 17),
        utc(2026, 10, 25, 18),
        utc(2026, 11, 1, 18),
    ]
    assert {o.adjusted for o in occurrences} == {None}


def test_nonexistent_0230_is_shifted_forward_by_the_gap():
    rhythm = make_rhythm(weekday=6, start_time=time(2, 30), starts_on=date(2026, 3, 22))
    occurrences = occurrences_between(rhythm, utc(2026, 3, 1), utc(2026, 4, 6))

    assert [(o.starts_at, o.adjusted) for o in occurrences] == [
        (utc(2026, 3, 22, 1, 30), None),
        (utc(2026, 3, 29, 1, 30), "nonexistent_shifted"),
        (utc(2026, 4, 5, 0, 30), None),
    ]
    shifted = occurrences[1]
    assert shifted.local_date == date(2026, 3, 29)
    assert shifted.starts_at.astimezone(ZoneInfo(PARIS)).time() == time(3, 30)


def test_ambiguous_0230_takes_the_first_summer_time_instant():
    rhythm = make_rhythm(weekday=6, start_time=time(2, 30), starts_on=date(2026, 10, 18))
    occurrences = occurrences_between(rhythm, utc(2026, 10, 1), utc(2026, 11, 2))

    assert [(o.starts_at, o.adjusted) for o in occurrences] == [
        (utc(2026, 10, 18, 0, 30), None),
        (utc(2026, 10, 25, 0, 30), "ambiguous_first"),
        (utc(2026, 11, 1, 1, 30), None),
    ]
    first = occurrences[1].starts_at.astimezone(ZoneInfo(PARIS))
    assert (first.time(), first.utcoffset()) == (time(2, 30), timedelta(hours=2))


def test_duration_is_elapsed_time_across_the_gap():
    rhythm = make_rhythm(weekday=6, start_time=time(1, 30), starts_on=date(2026, 3, 29))
    [occurrence] = occurrences_between(rhythm, utc(2026, 3, 28), utc(2026, 3, 30))

    assert (occurrence.starts_at, occurrence.ends_at) == (
        utc(2026, 3, 29, 0, 30),
        utc(2026, 3, 29, 2, 30),
    )
    assert occurrence.ends_at.astimezone(ZoneInfo(PARIS)).time() == time(4, 30)


# --- RRULE --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"frequency": "monthly", "week_of_month": 1}, "FREQ=MONTHLY;BYDAY=1TH"),
        ({"interval": 2, "weekday": 1}, "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        ({"frequency": "monthly", "weekday": 4, "week_of_month": -1}, "FREQ=MONTHLY;BYDAY=-1FR"),
        ({"frequency": "monthly", "weekday": None, "month_day": 15}, "FREQ=MONTHLY;BYMONTHDAY=15"),
        (
            {"frequency": "monthly", "week_of_month": 1, "count": 6},
            "FREQ=MONTHLY;BYDAY=1TH;COUNT=6",
        ),
        # End of 30 June local (23:59:59 CEST) in UTC, as RFC 5545 wants with a TZID DTSTART.
        ({"until": date(2026, 6, 30)}, "FREQ=WEEKLY;BYDAY=TH;UNTIL=20260630T215959Z"),
        ({"until": date(2026, 1, 31)}, "FREQ=WEEKLY;BYDAY=TH;UNTIL=20260131T225959Z"),
    ],
)
def test_to_rrule(overrides, expected):
    assert make_rhythm(**overrides).to_rrule() == expected


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"frequency": "monthly", "week_of_month": 1},
        {"frequency": "monthly", "weekday": 2, "week_of_month": 3, "interval": 3},
        {"frequency": "monthly", "weekday": 4, "week_of_month": -1, "count": 10},
        {"frequency": "monthly", "weekday": None, "month_day": 31, "until": date(2027, 1, 1)},
        {"interval": 2, "weekday": 1, "start_time": time(18, 30), "until": date(2026, 6, 30)},
    ],
)
def test_rrule_round_trip_gives_an_equal_rhythm(overrides):
    rhythm = make_rhythm(**overrides)

    assert round_trip(rhythm) == rhythm


def test_from_rrule_accepts_an_aware_start():
    parsed = Rhythm.from_rrule(
        "FREQ=MONTHLY;BYDAY=1TH",
        start=utc(2026, 1, 1, 18),
        duration=timedelta(hours=2),
        timezone=PARIS,
    )

    assert parsed == make_rhythm(frequency="monthly", week_of_month=1)


@pytest.mark.parametrize(
    ("rrule", "expected"),
    [
        ("RRULE:FREQ=WEEKLY;WKST=SU;BYDAY=TH", {}),
        ("freq=monthly;byday=+3we", {"frequency": "monthly", "weekday": 2, "week_of_month": 3}),
        ("FREQ=WEEKLY", {}),
        ("FREQ=MONTHLY", {"frequency": "monthly", "weekday": None, "month_day": 1}),
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20260115", {"until": date(2026, 1, 15)}),
        # 18:00Z is 19:00 in Paris: the 15 January meetup is still inside the rule...
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20260115T180000Z", {"until": date(2026, 1, 15)}),
        # ... 17:00Z is 18:00 in Paris, before the 19:00 start: the 15th is already out.
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20260115T170000Z", {"until": date(2026, 1, 14)}),
        ("FREQ=WEEKLY;BYDAY=TH;UNTIL=20260115T185959", {"until": date(2026, 1, 14)}),
    ],
)
def test_from_rrule_reads_rules_written_elsewhere(rrule, expected):
    parsed = Rhythm.from_rrule(
        rrule, start=datetime(2026, 1, 1, 19), duration=timedelta(hours=2), timezone=PARIS
    )

    assert parsed == make_rhythm(**expected)


def test_from_rrule_until_agrees_with_dateutil():
    rrule = "FREQ=WEEKLY;BYDAY=TH;UNTIL=20260115T170000Z"
    rhythm = Rhythm.from_rrule(
        rrule, start=datetime(2026, 1, 1, 19), duration=timedelta(hours=2), timezone=PARIS
    )
    reference = rrulestr(
        f"DTSTART;TZID={PARIS}:20260101T190000\nRRULE:{rrule}", tzids={PARIS: ZoneInfo(PARIS)}
    )

    assert starts(rhythm, utc(2026, 1, 1), utc(2027, 1, 1)) == [
        d.astimezone(UTC) for d in reference
    ]


@pytest.mark.parametrize(
    ("rrule", "code"),
    [
        ("FREQ=DAILY", "rrule_unsupported"),
        ("FREQ=YEARLY;BYMONTH=6", "rrule_unsupported"),
        ("FREQ=WEEKLY;BYDAY=MO,WE", "rrule_unsupported"),
        ("FREQ=WEEKLY;BYDAY=1TU", "rrule_unsupported"),
        ("FREQ=WEEKLY;BYMONTHDAY=3", "rrule_unsupported"),
        ("FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU", "rrule_unsupported"),
        ("FREQ=MONTHLY;BYDAY=TH", "rrule_unsupported"),
        ("FREQ=MONTHLY;BYDAY=5TH", "rrule_unsupported"),
        ("FREQ=MONTHLY;BYDAY=-2TH", "rrule_unsupported"),
        ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "rrule_unsupported"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "rrule_unsupported"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "rrule_unsupported"),
        ("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "rrule_unsupported"),
        ("FREQ=WEEKLY;BYHOUR=9", "rrule_unsupported"),
        ("", "rrule_invalid"),
        ("every thursday", "rrule_invalid"),
        ("FREQ=FORTNIGHTLY", "rrule_invalid"),
        ("FREQ=WEEKLY;INTERVAL=x", "rrule_invalid"),
        ("FREQ=WEEKLY;BYDAY=TU;UNTIL=2026", "rrule_invalid"),
        ("DTSTART:20260101T190000\nRRULE:FREQ=WEEKLY", "rrule_invalid"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20260601", "until_and_count"),
        ("FREQ=WEEKLY;INTERVAL=0", "interval_invalid"),
    ],
)
def test_from_rrule_refuses_what_the_form_cannot_hold(rrule, code):
    with pytest.raises(ValueError, match=code) as refused:
        Rhythm.from_rrule(
            rrule, start=datetime(2026, 1, 1, 19), duration=timedelta(hours=2), timezone=PARIS
        )

    assert isinstance(refused.value, InvalidRhythm)
    assert refused.value.code == code


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"frequency": "daily"}, "frequency_unsupported"),
        ({"interval": 0}, "interval_invalid"),
        ({"weekday": None}, "weekday_missing"),
        ({"weekday": 7}, "weekday_invalid"),
        ({"week_of_month": 1}, "monthly_field_on_weekly"),
        ({"frequency": "monthly", "week_of_month": 5}, "week_of_month_invalid"),
        ({"frequency": "monthly", "week_of_month": None}, "week_of_month_invalid"),
        ({"frequency": "monthly", "month_day": 15}, "monthly_mode_ambiguous"),
        ({"frequency": "monthly", "weekday": None, "month_day": 32}, "month_day_invalid"),
        ({"timezone": "Europe/Atlantis"}, "timezone_unknown"),
        ({"start_time": time(19, 0, tzinfo=UTC)}, "start_time_not_local"),
        ({"start_time": time(19, 0, 30)}, "start_time_not_whole_minute"),
        ({"duration": timedelta(0)}, "duration_invalid"),
        ({"until": date(2026, 6, 1), "count": 3}, "until_and_count"),
        ({"until": date(2025, 12, 31)}, "until_before_start"),
        ({"count": 0}, "count_invalid"),
    ],
)
def test_rhythm_refuses_inconsistent_fields(overrides, code):
    with pytest.raises(ValueError, match=code) as refused:
        make_rhythm(**overrides)

    assert refused.value.code == code


# --- Spelling out -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "english", "french"),
    [
        (
            {"frequency": "monthly", "week_of_month": 1},
            "Every first Thursday of the month at 19:00",
            "Tous les premiers jeudis du mois à 19h00",
        ),
        (
            {"interval": 2, "weekday": 1, "start_time": time(18, 30)},
            "Every two weeks on Tuesday at 18:30",
            "Toutes les deux semaines le mardi à 18h30",
        ),
        (
            {"frequency": "monthly", "weekday": 4, "week_of_month": -1},
            "Every last Friday of the month at 19:00",
            "Tous les derniers vendredis du mois à 19h00",
        ),
        (
            {"frequency": "monthly", "weekday": 2, "week_of_month": 3},
            "Every third Wednesday of the month at 19:00",
            "Tous les troisièmes mercredis du mois à 19h00",
        ),
        (
            {"frequency": "monthly", "weekday": None, "month_day": 15},
            "Every month on the 15th at 19:00",
            "Tous les mois le 15 à 19h00",
        ),
        (
            {"frequency": "monthly", "weekday": None, "month_day": 1, "interval": 3},
            "Every three months on the 1st at 19:00",
            "Tous les trois mois le 1er à 19h00",
        ),
        (
            {"frequency": "monthly", "week_of_month": 2, "interval": 2},
            "Every two months on the second Thursday at 19:00",
            "Tous les deux mois le deuxième jeudi à 19h00",
        ),
        (
            {"start_time": time(9, 5)},
            "Every Thursday at 09:05",
            "Tous les jeudis à 9h05",
        ),
        (
            {"interval": 12},
            "Every 12 weeks on Thursday at 19:00",
            "Toutes les 12 semaines le jeudi à 19h00",
        ),
        (
            {"until": date(2026, 6, 30)},
            "Every Thursday at 19:00 until June 30, 2026",
            "Tous les jeudis à 19h00 jusqu'au 30 juin 2026",
        ),
        (
            {"until": date(2026, 7, 1)},
            "Every Thursday at 19:00 until July 1, 2026",
            "Tous les jeudis à 19h00 jusqu'au 1er juillet 2026",
        ),
        (
            {"frequency": "monthly", "week_of_month": 1, "count": 6},
            "Every first Thursday of the month at 19:00 (6 times)",
            "Tous les premiers jeudis du mois à 19h00 (6 fois)",
        ),
        ({"count": 1}, "Every Thursday at 19:00 (once)", "Tous les jeudis à 19h00 (1 fois)"),
    ],
)
def test_spell_out_in_english_and_french(overrides, english, french):
    rhythm = make_rhythm(**overrides)

    assert spell_out(rhythm, "en") == english
    assert spell_out(rhythm, "fr") == french


def test_spell_out_uses_the_territory_for_dates():
    rhythm = make_rhythm(until=date(2026, 6, 30))

    assert spell_out(rhythm, "en_GB") == "Every Thursday at 19:00 until 30 June 2026"
    assert spell_out(rhythm, "fr-CA") == "Tous les jeudis à 19h00 jusqu'au 30 juin 2026"


@pytest.mark.parametrize("locale", ["de", "xx", ""])
def test_spell_out_refuses_other_languages(locale):
    with pytest.raises(ValueError, match="locale_unsupported"):
        spell_out(make_rhythm(), locale)


# --- Properties ---------------------------------------------------------------------------------

# Zones with DST gaps at 02:00 (Paris, New York), at midnight (Havana, Santiago), of 30 minutes
# (Lord Howe), reversed around Ramadan (Casablanca), and none at all (Kolkata, UTC).
ZONES = [
    "Europe/Paris",
    "America/New_York",
    "America/Havana",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Africa/Casablanca",
    "Asia/Kolkata",
    "UTC",
]
# Times that fall inside gaps and overlaps somewhere in ZONES, and ordinary ones.
TIMES = st.one_of(
    st.sampled_from([time(0, 0), time(0, 30), time(1, 45), time(2, 0), time(2, 30), time(19, 0)]),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
)


@st.composite
def rhythms(draw: st.DrawFn) -> Rhythm:
    frequency = draw(st.sampled_from(["weekly", "monthly"]))
    mode = "weekday" if frequency == "weekly" else draw(st.sampled_from(["weekday", "day"]))
    starts_on = draw(st.dates(date(2024, 1, 1), date(2028, 12, 31)))
    ending = draw(st.sampled_from(["open", "until", "count"]))
    return Rhythm(
        frequency=frequency,
        interval=draw(st.integers(1, 4)),
        weekday=draw(st.integers(0, 6)) if mode == "weekday" else None,
        week_of_month=(
            draw(st.sampled_from([1, 2, 3, 4, -1]))
            if frequency == "monthly" and mode == "weekday"
            else None
        ),
        month_day=draw(st.integers(1, 31)) if mode == "day" else None,
        start_time=draw(TIMES),
        duration=timedelta(minutes=draw(st.integers(15, 600))),
        timezone=draw(st.sampled_from(ZONES)),
        starts_on=starts_on,
        until=starts_on + timedelta(days=draw(st.integers(0, 900))) if ending == "until" else None,
        count=draw(st.integers(1, 60)) if ending == "count" else None,
    )


def round_trip(rhythm: Rhythm) -> Rhythm:
    return Rhythm.from_rrule(
        rhythm.to_rrule(), start=rhythm.dtstart, duration=rhythm.duration, timezone=rhythm.timezone
    )


def window(rhythm: Rhythm) -> tuple[datetime, datetime]:
    start = datetime.combine(rhythm.starts_on, time(), tzinfo=UTC) - timedelta(days=2)
    return start, start + timedelta(days=800)


def matches_pattern(rhythm: Rhythm, day: date) -> bool:
    if rhythm.month_day is not None:
        return day.day == rhythm.month_day
    if day.weekday() != rhythm.weekday:
        return False
    if rhythm.week_of_month is None:
        return True
    if rhythm.week_of_month == -1:
        return day.day + 7 > calendar.monthrange(day.year, day.month)[1]
    return (day.day - 1) // 7 + 1 == rhythm.week_of_month


@given(rhythm=rhythms(), data=st.data())
def test_occurrences_are_ordered_on_the_wall_clock_and_skip_exdates(rhythm, data):
    zone = ZoneInfo(rhythm.timezone)
    start, end = window(rhythm)
    everything = occurrences_between(rhythm, start, end)
    dates = [o.local_date for o in everything]
    exdates = data.draw(st.sets(st.sampled_from(dates))) if dates else set()

    kept = occurrences_between(rhythm, start, end, exdates=exdates)

    instants = [o.starts_at for o in kept]
    assert instants == sorted(set(instants))
    assert kept == [o for o in everything if o.local_date not in exdates]
    for occurrence in kept:
        assert occurrence.local_date not in exdates
        assert occurrence.local_date >= rhythm.starts_on
        assert matches_pattern(rhythm, occurrence.local_date)
        assert occurrence.starts_at.utcoffset() == timedelta(0)
        assert occurrence.ends_at - occurrence.starts_at == rhythm.duration
        assert occurrence.adjusted in (None, "nonexistent_shifted", "ambiguous_first")
        local = occurrence.starts_at.astimezone(zone)
        if occurrence.adjusted is None:
            assert (local.date(), local.time()) == (occurrence.local_date, rhythm.start_time)
    if rhythm.until is not None:
        assert all(d <= rhythm.until for d in dates)
    if rhythm.count is not None:
        assert len(everything) <= rhythm.count


@given(rhythm=rhythms())
def test_rrule_round_trip_property(rhythm):
    assert round_trip(rhythm) == rhythm


@given(rhythm=rhythms())
def test_rrule_means_what_the_expansion_does(rhythm):
    """The RRULE with a TZID DTSTART, expanded by dateutil itself, gives the same instants."""
    start, end = window(rhythm)
    reference = rrulestr(
        f"DTSTART;TZID={rhythm.timezone}:{rhythm.dtstart:%Y%m%dT%H%M%S}\nRRULE:{rhythm.to_rrule()}",
        tzids={rhythm.timezone: ZoneInfo(rhythm.timezone)},
    )

    assert starts(rhythm, start, end) == [
        d.astimezone(UTC) for d in takewhile(lambda d: d < end, reference)
    ]
