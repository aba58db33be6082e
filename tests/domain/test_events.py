from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.database import Database
from events.errors import Conflict, ValidationFailed
from events.models import Community, Event, EventStatus
from events.services.events import EventInput, EventService
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.registrations import RegistrationInput, RegistrationService
from events.services.venues import VenueInput, VenueService
from tests.factories import Factories


def event_input(**overrides: str) -> EventInput:
    values = {
        "title": "Pitch night",
        "description": "**Hello** <script>alert(1)</script>",
        "starts_local": "2026-12-03T19:00",
        "ends_local": "2026-12-03T22:00",
        "timezone": "Europe/Paris",
        "tags": "Arts, sciences, arts",
    }
    values.update(overrides)
    return EventInput(**values)


def create(db: Database, community: Community, **overrides: str) -> Event:
    with db.transaction() as session:
        return EventService(session).create(community, event_input(**overrides))


def test_an_event_is_stored_in_utc_with_its_zone_and_rendered_once(
    make: Factories, db: Database
) -> None:
    event = create(db, make.community())
    assert event.starts_at == datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    assert event.timezone == "Europe/Paris"
    assert event.status is EventStatus.DRAFT
    assert event.slug == "pitch-night-2026-12-03"
    assert "<strong>Hello</strong>" in event.description_html
    assert "<script" not in event.description_html
    assert [t.slug for t in event.tags] == ["arts", "sciences"]


def test_summer_time_is_kept_in_local_time(make: Factories, db: Database) -> None:
    event = create(
        db, make.community(), starts_local="2027-04-01T19:00", ends_local="2027-04-01T21:00"
    )
    assert event.starts_at == datetime(2027, 4, 1, 17, 0, tzinfo=UTC)


def test_a_nonexistent_local_time_is_shifted_and_flagged(make: Factories, db: Database) -> None:
    event = create(
        db, make.community(), starts_local="2026-03-29T02:30", ends_local="2026-03-29T04:00"
    )
    assert event.starts_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert event.time_adjusted == "nonexistent_shifted"


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"title": ""}, {"title": "required"}),
        ({"title": "x" * 10_000}, {"title": "too_long"}),
        ({"title": "a\r\nb"}, {"title": "invalid_characters"}),
        ({"ends_local": "2026-12-03T18:00"}, {"ends_local": "ends_before_start"}),
        ({"ends_local": "2027-01-30T18:00"}, {"ends_local": "too_long_event"}),
        ({"starts_local": "tomorrow"}, {"starts_local": "invalid_datetime"}),
        ({"timezone": "Mars/Olympus"}, {"timezone": "invalid_timezone"}),
        ({"online_url": "javascript:alert(1)"}, {"online_url": "invalid_url"}),
        ({"capacity": "-1"}, {"capacity": "out_of_range"}),
        ({"capacity": "lots"}, {"capacity": "invalid_number"}),
        ({"cover_color": "red"}, {"cover_color": "invalid_color"}),
        ({"tags": ",".join(f"t{i}" for i in range(11))}, {"tags": "too_many"}),
        ({"venue_id": "not-a-uuid"}, {"venue_id": "invalid_choice"}),
    ],
)
def test_bad_input_is_refused_field_by_field(
    make: Factories, db: Database, overrides: dict[str, str], errors: dict[str, str]
) -> None:
    community = make.community()
    with pytest.raises(ValidationFailed) as failed:
        create(db, community, **overrides)
    assert failed.value.errors == errors


def test_a_venue_of_another_community_cannot_be_used(make: Factories, db: Database) -> None:
    ours, theirs = make.community(), make.community()
    with db.transaction() as session:
        venue = VenueService(session).create(theirs, VenueInput(name="Elsewhere"))
    with pytest.raises(ValidationFailed) as failed:
        create(db, ours, venue_id=str(venue.id))
    assert failed.value.errors == {"venue_id": "invalid_choice"}


def test_revision_counts_changes_that_matter_to_attendees(make: Factories, db: Database) -> None:
    community = make.community()
    event = create(db, community)
    with db.transaction() as session:
        service = EventService(session)
        event = service.in_community(community, event.slug)
        service.publish(event)
        assert event.revision == 1
        service.update(event, event_input(description="Only the text changes"))
        assert event.revision == 1
        service.update(event, event_input(starts_local="2026-12-03T19:30"))
        assert event.revision == 2
        service.update(event, event_input(starts_local="2026-12-03T19:30", title="New title"))
        assert event.revision == 3
        service.cancel(event, "Storm warning")
        assert (event.status, event.revision, event.cancel_reason) == (
            EventStatus.CANCELLED,
            4,
            "Storm warning",
        )
        service.cancel(event, "again")  # a double submit cancels once
        assert event.revision == 4
        with pytest.raises(Conflict):
            service.publish(event)


def test_cancelling_a_draft_deletes_it(make: Factories, db: Database) -> None:
    community = make.community()
    event = create(db, community)
    with db.transaction() as session:
        service = EventService(session)
        service.cancel(service.in_community(community, event.slug), "")
    with db.session() as session:
        assert session.get(Event, event.id) is None


def test_duplicate_is_a_draft_a_week_later_with_its_programme(
    make: Factories, db: Database
) -> None:
    community = make.community()
    event = create(db, community)
    with db.transaction() as session:
        original = EventService(session).in_community(community, event.slug)
        ProgrammeService(session).add(original, ProgrammeInput(title="Talk", start_time="19:30"))
        copy = EventService(session).duplicate(original)
        assert copy.status is EventStatus.DRAFT
        assert copy.starts_at == datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
        assert copy.slug == "pitch-night-2026-12-10"
        items = ProgrammeService(session).items(copy)
        assert [(i.title, i.starts_at) for i in items] == [
            ("Talk", datetime(2026, 12, 10, 18, 30, tzinfo=UTC))
        ]


def test_programme_items_keep_their_order_and_times(make: Factories, db: Database) -> None:
    community = make.community()
    event = create(db, community)
    with db.transaction() as session:
        event = EventService(session).in_community(community, event.slug)
        programme = ProgrammeService(session)
        first = programme.add(event, ProgrammeInput(title="Doors", start_time="19:00"))
        late = programme.add(event, ProgrammeInput(title="Late talk", start_time="00:30"))
        programme.move(event, late.id, -1)
        assert [i.title for i in programme.items(event)] == ["Late talk", "Doors"]
        # After midnight belongs to the same evening.
        assert late.starts_at == datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
        with pytest.raises(ValidationFailed) as failed:
            programme.add(event, ProgrammeInput(title="Bad", start_time="20:00", end_time="19:00"))
        assert failed.value.errors == {"end_time": "ends_before_start"}
        programme.remove(event, first.id)
        assert [i.position for i in programme.items(event)] == [0]


def test_venue_coordinates_come_in_pairs(make: Factories, db: Database) -> None:
    community = make.community()
    with db.transaction() as session, pytest.raises(ValidationFailed) as failed:
        VenueService(session).create(community, VenueInput(name="Hall", latitude="48.8"))
    assert failed.value.errors == {"longitude": "required"}
    with db.transaction() as session:
        venue = VenueService(session).create(
            community, VenueInput(name="Hall", latitude="48,8566", longitude="2.3522")
        )
        assert (venue.latitude, venue.longitude, venue.slug) == (48.8566, 2.3522, "hall")


def test_a_slug_never_takes_a_fixed_path_segment(make: Factories, db: Database) -> None:
    # /manage/{community}/venues/new must stay the form, not a venue called "New".
    community = make.community()
    with db.transaction() as session:
        venue = VenueService(session).create(community, VenueInput(name="New"))
        assert venue.slug == "new-2"


# -- back to draft (issue 14, item 3) -------------------------------------------------------


def test_a_published_event_nobody_registered_for_goes_back_to_draft(
    make: Factories, db: Database
) -> None:
    event = create(
        db, make.community(), starts_local="2030-03-07T19:00", ends_local="2030-03-07T22:00"
    )
    with db.transaction() as session:
        service = EventService(session)
        loaded = session.get(Event, event.id)
        with pytest.raises(Conflict) as not_yet:
            service.unpublish(loaded)  # a draft is a draft already
        assert not_yet.value.code == "event_not_published"
        service.publish(loaded)
        assert service.can_unpublish(loaded)
        service.unpublish(loaded)
        assert loaded.status is EventStatus.DRAFT and loaded.revision == 2


@pytest.mark.parametrize("status", ["confirmed", "cancelled"])
def test_back_to_draft_is_refused_once_anyone_registered(
    make: Factories, db: Database, status: str
) -> None:
    event = create(
        db, make.community(), starts_local="2030-03-07T19:00", ends_local="2030-03-07T22:00"
    )
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        EventService(session).publish(loaded)
        result = RegistrationService(session).register(
            loaded, RegistrationInput(name="Ada", email="ada@example.org", consent="on")
        )
        if status == "cancelled":
            RegistrationService(session).cancel(result.registration)
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert not EventService(session).can_unpublish(loaded)
        with pytest.raises(Conflict) as refused:
            EventService(session).unpublish(loaded)
        assert refused.value.code == "event_has_registrations"
        assert loaded.status is EventStatus.PUBLISHED
