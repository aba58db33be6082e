"""Search without accents or case (events/folding.py): the folded copy follows every
change of an event, whoever makes it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from sqlalchemy import insert, select

from events.database import Database
from events.folding import fold
from events.models import Event, EventStatus
from events.services.discovery import EventFilters, find_events
from events.services.events import EventInput, EventService
from events.services.series import SeriesInput, SeriesService
from tests.factories import Factories

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Vélo", "velo"),
        ("CAFÉ crème", "cafe creme"),
        ("Œuvre, ÆON", "oeuvre, aeon"),
        ("Straße", "strasse"),
        ("ﬁlm Noël", "film noel"),
        ("日本 ☕", "日本 ☕"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_the_folded_copy_follows_every_change(make: Factories, db: Database) -> None:
    community = make.community()
    with db.transaction() as session:
        service = EventService(session)
        event = service.create(
            community,
            EventInput(
                title="Atelier Vélo",
                description="Réparer *ensemble*",
                starts_local="2030-03-07T19:00",
                ends_local="2030-03-07T22:00",
                timezone="Europe/Paris",
            ),
        )
        service.publish(event)
    with db.session() as session:
        assert session.get(Event, event.id).search_folded == "atelier velo\nreparer ensemble"
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        EventService(session).update(
            loaded,
            EventInput(
                title="Café vélo",
                starts_local="2030-03-07T19:00",
                ends_local="2030-03-07T22:00",
                timezone="Europe/Paris",
            ),
        )
    with db.session() as session:
        assert session.get(Event, event.id).search_folded == "cafe velo\n"
        found = find_events(session, EventFilters(q="CAFE VÉLO"), now=NOW)
        assert [e.id for e in found.events] == [event.id]
        assert find_events(session, EventFilters(q="atelier"), now=NOW).total == 0


def test_series_occurrences_are_searchable_too(make: Factories, db: Database) -> None:
    community = make.community()
    with db.transaction() as session:
        series = SeriesService(session).create(
            community,
            SeriesInput(
                title="Réparation de vélos",
                frequency="monthly",
                week_of_month="1",
                weekday="3",
                starts_on="2029-12-01",
                publish="on",
            ),
            today=date(2029, 12, 1),
        )
    with db.session() as session:
        found = find_events(session, EventFilters(q="reparation velos"), now=NOW)
        assert found.total >= 4 and {e.series_id for e in found.events} == {series.id}


def test_a_multi_row_core_insert_is_folded_too(make: Factories, db: Database) -> None:
    """A calendar import writes its new events in one Core INSERT, which skips the model's
    listeners: the column default folds those rows."""
    community = make.community()
    rows = [
        {
            "id": uuid4(),
            "community_id": community.id,
            "slug": f"import-{number}",
            "title": title,
            "description_text": "Entrée libre",
            "status": EventStatus.PUBLISHED,
            "starts_at": datetime(2030, 3, number, 18, tzinfo=UTC),
            "ends_at": datetime(2030, 3, number, 20, tzinfo=UTC),
            "timezone": "Europe/Paris",
        }
        for number, title in ((1, "Fête du vélo"), (2, "Café CRÈME"))
    ]
    with db.transaction() as session:
        session.execute(insert(Event), rows)
    with db.session() as session:
        folded = session.scalars(select(Event.search_folded).order_by(Event.slug)).all()
        assert folded == ["fete du velo\nentree libre", "cafe creme\nentree libre"]
        found = find_events(session, EventFilters(q="creme"), now=NOW)
        assert [event.title for event in found.events] == ["Café CRÈME"]
