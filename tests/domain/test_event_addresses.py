"""An event's address follows its date (issue 14, item 13): a move to another day gives the
address of the new day, the old one redirects; new events never take a redirecting one."""

from __future__ import annotations

from datetime import date

from events.database import Database
from events.models import Community, Event
from events.services.events import EventInput, EventService
from events.services.series import SeriesInput, SeriesService
from tests.factories import Factories


def evening(day: str, start: str = "19:00", title: str = "Atelier vélo") -> EventInput:
    return EventInput(
        title=title,
        starts_local=f"{day}T{start}",
        ends_local=f"{day}T22:00",
        timezone="Europe/Paris",
    )


def create(db: Database, community: Community, data: EventInput) -> Event:
    with db.transaction() as session:
        service = EventService(session)
        return service.publish(service.create(community, data))


def move(db: Database, event: Event, data: EventInput) -> str:
    with db.transaction() as session:
        return EventService(session).update(session.get(Event, event.id), data).slug


def moved_to(db: Database, slug: str) -> str | None:
    with db.session() as session:
        return EventService(session).moved_to(slug)


def test_a_move_to_another_day_changes_the_address_and_keeps_the_old_one(
    make: Factories, db: Database
) -> None:
    event = create(db, make.community(), evening("2030-03-07"))
    assert event.slug == "atelier-velo-2030-03-07"
    assert move(db, event, evening("2030-03-07", start="20:00")) == event.slug  # same day
    assert moved_to(db, event.slug) is None

    assert move(db, event, evening("2030-03-14")) == "atelier-velo-2030-03-14"
    assert moved_to(db, "atelier-velo-2030-03-07") == "atelier-velo-2030-03-14"
    # Moved again: every former address leads to the current one.
    assert move(db, event, evening("2030-03-21")) == "atelier-velo-2030-03-21"
    assert moved_to(db, "atelier-velo-2030-03-07") == "atelier-velo-2030-03-21"
    assert moved_to(db, "atelier-velo-2030-03-14") == "atelier-velo-2030-03-21"
    # Back to the first day: its address is the event's own again.
    assert move(db, event, evening("2030-03-07")) == "atelier-velo-2030-03-07"
    assert moved_to(db, "atelier-velo-2030-03-07") is None
    assert moved_to(db, "atelier-velo-2030-03-21") == "atelier-velo-2030-03-07"


def test_addresses_that_redirect_or_live_are_never_given_twice(
    make: Factories, db: Database
) -> None:
    community = make.community()
    first = create(db, community, evening("2030-03-07"))
    move(db, first, evening("2030-03-14"))
    # A new event on the day the first one left does not take its redirecting address.
    second = create(db, community, evening("2030-03-07"))
    assert second.slug == "atelier-velo-2030-03-07-2"
    assert moved_to(db, "atelier-velo-2030-03-07") == "atelier-velo-2030-03-14"
    # A move onto a day whose address another event has gets a numbered one.
    assert move(db, second, evening("2030-03-14")) == "atelier-velo-2030-03-14-2"
    assert moved_to(db, "atelier-velo-2030-03-07-2") == "atelier-velo-2030-03-14-2"


def test_a_moved_occurrence_of_a_series_takes_the_address_of_its_new_day(
    make: Factories, db: Database
) -> None:
    community = make.community()
    with db.transaction() as session:
        series = SeriesService(session).create(
            community,
            SeriesInput(
                title="Jeudis",
                frequency="weekly",
                weekday="3",
                starts_on="2030-03-07",
                publish="on",
            ),
            today=date(2030, 3, 1),
        )
        occurrence = SeriesService(session).occurrences(series)[0]
    assert occurrence.slug == "jeudis-2030-03-07"
    assert move(db, occurrence, evening("2030-03-08", title="Jeudis")) == "jeudis-2030-03-08"
    assert moved_to(db, "jeudis-2030-03-07") == "jeudis-2030-03-08"
