from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from events.database import Database
from events.errors import ValidationFailed
from events.models import (
    Community,
    Event,
    EventStatus,
    OutboxMessage,
    Series,
)
from events.services.events import EventInput, EventService
from events.services.questions import QuestionInput, QuestionService
from events.services.registrations import RegistrationInput, RegistrationService
from events.services.series import (
    EndChoice,
    SeriesInput,
    SeriesQuestionService,
    SeriesService,
    preview,
)
from tests.domain.test_registrations import person, register
from tests.factories import Factories

TODAY = date(2026, 11, 25)


def first_thursdays(**overrides: str) -> SeriesInput:
    values = {
        "title": "Jeudis",
        "frequency": "monthly",
        "week_of_month": "1",
        "weekday": "3",
        "start_time": "19:00",
        "duration_minutes": "180",
        "timezone": "Europe/Paris",
        "starts_on": "2026-11-25",
        "publish": "on",
        "tags": "arts",
    }
    values.update(overrides)
    return SeriesInput(**values)


def create(db: Database, community: Community, data: SeriesInput) -> Series:
    with db.transaction() as session:
        return SeriesService(session).create(community, data, today=TODAY)


def occurrences(db: Database, series: Series) -> list[Event]:
    with db.session() as session:
        return SeriesService(session).occurrences(series)


def test_occurrences_are_materialised_six_months_ahead_across_dst(
    make: Factories, db: Database
) -> None:
    series = create(db, make.community(), first_thursdays())
    events = occurrences(db, series)
    assert [e.series_date for e in events] == [
        date(2026, 12, 3),
        date(2027, 1, 7),
        date(2027, 2, 4),
        date(2027, 3, 4),
        date(2027, 4, 1),
        date(2027, 5, 6),
    ]
    assert events[0].starts_at == datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    assert events[4].starts_at == datetime(2027, 4, 1, 17, 0, tzinfo=UTC)  # summer time
    assert all(e.status is EventStatus.PUBLISHED for e in events)
    assert events[0].slug == "jeudis-2026-12-03"
    assert series.rhythm_en == "Every first Thursday of the month at 19:00"
    assert series.rhythm_fr == "Tous les premiers jeudis du mois à 19h00"


def test_materialising_again_creates_nothing_twice(make: Factories, db: Database) -> None:
    create(db, make.community(), first_thursdays())
    with db.transaction() as session:
        service = SeriesService(session)
        assert service.extend_all(TODAY) == 0
        # The horizon moves from 2027-05-27 to 2027-07-03: June and July are added.
        assert service.extend_all(date(2027, 1, 1)) == 2


def test_a_skipped_date_is_cancelled_and_never_recreated(make: Factories, db: Database) -> None:
    series = create(db, make.community(), first_thursdays())
    with db.transaction() as session:
        SeriesService(session).skip(session.merge(series), date(2027, 1, 7))
    with db.transaction() as session:
        SeriesService(session).materialise(session.merge(series), date(2027, 12, 31))
    events = occurrences(db, series)
    skipped = [e for e in events if e.series_date == date(2027, 1, 7)]
    assert len(skipped) == 1 and skipped[0].status is EventStatus.CANCELLED


def test_moving_one_occurrence_keeps_its_identity(make: Factories, db: Database) -> None:
    community = make.community()
    series = create(db, community, first_thursdays())
    moved = occurrences(db, series)[1]
    with db.transaction() as session:
        service = EventService(session)
        event = service.in_community(community, moved.slug)
        service.update(
            event,
            EventInput(
                title="Jeudis",
                starts_local="2027-01-08T20:00",
                ends_local="2027-01-08T23:00",
                timezone="Europe/Paris",
            ),
        )
    with db.session() as session:
        event = session.get(Event, moved.id)
        assert event.detached and event.series_date == date(2027, 1, 7)
        assert event.starts_at == datetime(2027, 1, 8, 19, 0, tzinfo=UTC)
        assert event.revision == 1  # created published (0), then moved (1)


def test_this_and_following_leaves_earlier_and_detached_ones_alone(
    make: Factories, db: Database
) -> None:
    community = make.community()
    series = create(db, community, first_thursdays())
    events = occurrences(db, series)
    with db.transaction() as session:
        detached = EventService(session).in_community(community, events[3].slug)
        detached.detached = True
    with db.transaction() as session:
        changed = SeriesService(session).update_following(
            session.merge(series),
            first_thursdays(title="Jeudis v2", start_time="18:30"),
            from_date=date(2027, 2, 1),
        )
    assert changed == 3  # Feb, Apr, May (March is detached)
    after = {e.series_date: e for e in occurrences(db, series)}
    assert after[date(2027, 1, 7)].title == "Jeudis"
    assert after[date(2027, 2, 4)].title == "Jeudis v2"
    assert after[date(2027, 2, 4)].starts_at == datetime(2027, 2, 4, 17, 30, tzinfo=UTC)
    assert after[date(2027, 3, 4)].title == "Jeudis"
    assert after[date(2027, 2, 4)].revision == 1


def test_ending_a_series_cancels_the_later_occurrences(make: Factories, db: Database) -> None:
    series = create(db, make.community(), first_thursdays())
    with db.transaction() as session:
        ended = SeriesService(session).end(session.merge(series), after=date(2027, 2, 28))
    assert len(ended.cancelled) == 3 and ended.kept == []
    with db.transaction() as session:
        assert SeriesService(session).extend_all(date(2027, 12, 1)) == 0
        statuses = session.scalars(
            select(Event.status).where(Event.series_date > date(2027, 2, 28))
        ).all()
    assert set(statuses) == {EventStatus.CANCELLED}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"frequency": "daily"}, "frequency"),
        ({"weekday": "9"}, "weekday"),
        ({"week_of_month": "0"}, "week_of_month"),
        ({"start_time": "25:00"}, "start_time"),
        ({"starts_on": "soon"}, "starts_on"),
        ({"timezone": "Nowhere"}, "timezone"),
        ({"title": ""}, "title"),
        ({"interval": "0"}, "interval"),
    ],
)
def test_series_input_errors_name_the_field(
    make: Factories, db: Database, overrides: dict[str, str], field: str
) -> None:
    community = make.community()
    with pytest.raises(ValidationFailed) as failed:
        create(db, community, first_thursdays(**overrides))
    assert field in failed.value.errors
    with db.session() as session:
        assert session.scalars(select(Series)).all() == []


def test_preview_spells_out_the_rule_and_flags_adjusted_times() -> None:
    result = preview(
        SeriesInput(
            title="x",
            frequency="weekly",
            weekday="6",
            start_time="02:30",
            duration_minutes="60",
            timezone="Europe/Paris",
            starts_on="2026-03-22",
        ),
        date(2026, 3, 20),
    )
    assert result.rule_en == "Every Sunday at 02:30"
    assert result.rule_fr == "Tous les dimanches à 2h30"
    adjusted = {o.local_date: o.adjusted for o in result.occurrences}
    assert adjusted[date(2026, 3, 29)] == "nonexistent_shifted"
    assert adjusted[date(2026, 3, 22)] is None


def test_every_two_weeks_and_last_friday(make: Factories, db: Database) -> None:
    community = make.community()
    fortnight = create(
        db,
        community,
        first_thursdays(
            title="Coloc", frequency="weekly", interval="2", weekday="1", week_of_month=""
        ),
    )
    last_friday = create(
        db, community, first_thursdays(title="Fin de mois", week_of_month="-1", weekday="4")
    )
    # RFC 5545 counts fortnights from the week of DTSTART (Wed 25 Nov): its Tuesday is
    # before the start, so the first is two weeks later.
    fortnight_dates = [e.series_date for e in occurrences(db, fortnight)][:3]
    assert fortnight_dates == [date(2026, 12, 8), date(2026, 12, 22), date(2027, 1, 5)]
    assert [e.series_date for e in occurrences(db, last_friday)][:2] == [
        date(2026, 11, 27),
        date(2026, 12, 25),
    ]


def _register_on(db: Database, series: Series, day: date) -> None:
    with db.transaction() as session:
        (event,) = [e for e in SeriesService(session).occurrences(series) if e.series_date == day]
        person = RegistrationInput(name="Ada", email="ada@example.org", consent="on")
        RegistrationService(session).register(event, person)


def test_a_series_cannot_end_before_it_starts(make: Factories, db: Database) -> None:
    series = create(db, make.community(), first_thursdays())
    with db.transaction() as session:
        service = SeriesService(session)
        merged = session.merge(series)
        for refuse in (service.end, service.registered_after):
            with pytest.raises(ValidationFailed) as refused:
                refuse(merged, after=date(2026, 11, 24))  # the day before starts_on
            assert refused.value.errors == {"after": "until_before_start"}
        assert merged.ended_on is None
    assert {e.status for e in occurrences(db, series)} == {EventStatus.PUBLISHED}
    with db.transaction() as session:  # ending on the first date itself is allowed
        ended = SeriesService(session).end(session.merge(series), after=date(2026, 11, 25))
    assert len(ended.cancelled) == 6
    assert stored_end(db, series) == date(2026, 11, 25)


def stored_end(db: Database, series: Series) -> date | None:
    with db.session() as session:
        return session.get(Series, series.id).ended_on  # type: ignore[union-attr]


@pytest.mark.parametrize("choice", list(EndChoice))
def test_ending_a_series_asks_about_occurrences_people_registered_for(
    make: Factories, db: Database, choice: EndChoice
) -> None:
    series = create(db, make.community(), first_thursdays())
    _register_on(db, series, date(2027, 4, 1))
    with db.transaction() as session:
        service = SeriesService(session)
        merged = session.merge(series)
        asked = service.registered_after(merged, after=date(2027, 2, 28))
        assert [(e.series_date, n) for e, n in asked] == [(date(2027, 4, 1), 1)]
        ended = service.end(merged, after=date(2027, 2, 28), registered=choice)
    kept = [e.series_date for e in ended.kept]
    cancelled = sorted(e.series_date for e in ended.cancelled)
    if choice is EndChoice.KEEP:
        assert kept == [date(2027, 4, 1)]
        assert cancelled == [date(2027, 3, 4), date(2027, 5, 6)]
    else:
        assert kept == []
        assert cancelled == [date(2027, 3, 4), date(2027, 4, 1), date(2027, 5, 6)]
    statuses = {e.series_date: e.status for e in occurrences(db, series)}
    expected = EventStatus.PUBLISHED if choice is EndChoice.KEEP else EventStatus.CANCELLED
    assert statuses[date(2027, 4, 1)] is expected


def test_moving_the_following_occurrences_tells_the_people_registered(
    make: Factories, db: Database
) -> None:
    series = create(db, make.community(), first_thursdays(capacity="10"))
    _register_on(db, series, date(2027, 4, 1))
    with db.transaction() as session:
        merged = session.merge(series)
        SeriesService(session).update_following(
            merged, first_thursdays(start_time="20:00", capacity="0"), from_date=date(2027, 3, 1)
        )
    with db.session() as session:
        kinds = session.scalars(select(OutboxMessage.kind)).all()
        (moved,) = [e for e in SeriesService(session).occurrences(series) if e.taken]
    assert kinds.count("event_changed") == 1
    assert moved.capacity == 1  # lowered to 0 in the form, kept at the one confirmed place


# -- publishing (issue 14, item 1) ---------------------------------------------------------


def test_ticking_publish_later_publishes_the_drafts_the_edit_reaches(
    make: Factories, db: Database
) -> None:
    community = make.community()
    series = create(db, community, first_thursdays(publish=""))
    assert {e.status for e in occurrences(db, series)} == {EventStatus.DRAFT}
    with db.transaction() as session:
        detached = EventService(session).in_community(community, occurrences(db, series)[3].slug)
        detached.detached = True
    with db.transaction() as session:
        changed = SeriesService(session).update_following(
            session.merge(series), first_thursdays(publish="on"), from_date=date(2027, 1, 1)
        )
    assert changed == 4  # January, February, April, May (March is edited on its own)
    after = {e.series_date: e for e in occurrences(db, series)}
    assert after[date(2026, 12, 3)].status is EventStatus.DRAFT  # before the chosen date
    assert after[date(2027, 3, 4)].status is EventStatus.DRAFT  # edited on its own
    for day in (date(2027, 1, 7), date(2027, 2, 4), date(2027, 4, 1), date(2027, 5, 6)):
        assert after[day].status is EventStatus.PUBLISHED
        assert after[day].revision == 1  # publishing is a change calendars hear of
    with db.session() as session:
        assert session.get(Series, series.id).publish_occurrences


def test_publish_upcoming_publishes_every_draft_still_to_come(
    make: Factories, db: Database
) -> None:
    community = make.community()
    series = create(db, community, first_thursdays(publish=""))
    events = occurrences(db, series)
    with db.transaction() as session:
        EventService(session).cancel(session.merge(events[2]), "")  # a draft: deleted
        session.merge(events[3]).detached = True
    now = datetime(2027, 1, 10, tzinfo=UTC)  # December and January are over
    with db.transaction() as session:
        published = SeriesService(session).publish_upcoming(session.merge(series), now=now)
    assert [e.series_date for e in published] == [
        date(2027, 3, 4),
        date(2027, 4, 1),
        date(2027, 5, 6),
    ]
    after = {e.series_date: e.status for e in occurrences(db, series)}
    assert after[date(2026, 12, 3)] is EventStatus.DRAFT
    assert after[date(2027, 1, 7)] is EventStatus.DRAFT
    assert date(2027, 2, 4) not in after
    with db.transaction() as session:
        again = SeriesService(session).publish_upcoming(session.merge(series), now=now)
    assert again == []


# -- registration settings, questions (issue 14, item 2) ---------------------------------


def test_every_occurrence_gets_the_series_registration_settings(
    make: Factories, db: Database
) -> None:
    series = create(
        db,
        make.community(),
        first_thursdays(
            waitlist_enabled="", requires_approval="on", guest_allowance="2", capacity="30"
        ),
    )
    for event in occurrences(db, series):
        assert not event.waitlist_enabled and event.requires_approval
        assert event.guest_allowance == 2 and not event.confirm_email_first
    # Unset (another caller that does not offer them): the model's defaults.
    plain = create(db, make.community(), first_thursdays())
    assert {(e.waitlist_enabled, e.guest_allowance) for e in occurrences(db, plain)} == {(True, 0)}


def test_this_and_following_changes_the_registration_settings(
    make: Factories, db: Database
) -> None:
    community = make.community()
    series = create(db, community, first_thursdays())
    with db.transaction() as session:
        EventService(session).in_community(
            community, occurrences(db, series)[4].slug
        ).detached = True
    with db.transaction() as session:
        SeriesService(session).update_following(
            session.merge(series),
            first_thursdays(waitlist_enabled="", confirm_email_first="on", guest_allowance="3"),
            from_date=date(2027, 3, 1),
        )
    after = {e.series_date: e for e in occurrences(db, series)}
    assert after[date(2027, 2, 4)].guest_allowance == 0  # before the date
    assert after[date(2027, 4, 1)].guest_allowance == 0  # edited on its own
    for day in (date(2027, 3, 4), date(2027, 5, 6)):
        assert after[day].guest_allowance == 3 and after[day].confirm_email_first
        assert not after[day].waitlist_enabled
    with db.transaction() as session:  # and the dates created later get them too
        SeriesService(session).materialise(session.get(Series, series.id), date(2027, 7, 31))
    assert occurrences(db, series)[-1].guest_allowance == 3


def test_series_questions_reach_upcoming_dates_and_keep_answers(
    make: Factories, db: Database
) -> None:
    community = make.community()
    series = create(db, community, first_thursdays())
    dates = occurrences(db, series)
    now = datetime(2027, 1, 10, tzinfo=UTC)
    with db.transaction() as session:
        EventService(session).in_community(community, dates[4].slug).detached = True
    with db.transaction() as session:
        question = SeriesQuestionService(session, now=now).add(
            session.merge(series), QuestionInput(kind="short_text", label="Diet")
        )
    asked = {e.series_date: [q["label"] for q in e.questions] for e in occurrences(db, series)}
    assert asked[date(2027, 1, 7)] == []  # already over
    assert asked[date(2027, 2, 4)] == asked[date(2027, 3, 4)] == ["Diet"]
    assert asked[date(2027, 4, 1)] == []  # edited on its own
    # Dates created later ask it as well, with the same id (answers stay attached).
    with db.transaction() as session:
        SeriesService(session).materialise(session.get(Series, series.id), date(2027, 7, 31))
    assert occurrences(db, series)[-1].questions[0]["id"] == question.id

    february = dates[2]
    register(db, february, person("ada", answers={f"q_{question.id}": "vegan"}))
    with db.transaction() as session:
        SeriesQuestionService(session, now=now).remove(session.get(Series, series.id), question.id)
    after = {e.series_date: e.questions for e in occurrences(db, series)}
    assert session_free(after[date(2027, 2, 4)]) == [("Diet", True)]  # answered: kept, removed
    assert after[date(2027, 3, 4)] == []
    with db.session() as session:
        assert session.get(Series, series.id).questions == []


def session_free(questions: list[dict]) -> list[tuple[str, bool]]:
    return [(q["label"], q["removed"]) for q in questions]


def test_editing_one_dates_questions_detaches_it(make: Factories, db: Database) -> None:
    community = make.community()
    series = create(db, community, first_thursdays())
    slug = occurrences(db, series)[3].slug
    with db.transaction() as session:
        event = EventService(session).in_community(community, slug)
        QuestionService(session).add(event, QuestionInput(kind="checkbox", label="Code of conduct"))
    with db.session() as session:
        assert EventService(session).in_community(community, slug).detached
