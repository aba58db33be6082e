"""Organiser pages for one-off events and the programme editor (``/manage/{c}/events``)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from events.database import Database
from events.models import Event, EventStatus, Role
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.registrations import RegistrationInput, RegistrationService
from events.services.series import SeriesInput, SeriesService
from events.services.venues import VenueInput, VenueService
from tests.factories import Factories
from tests.web.conftest import Client, Organiser

HTMX = {"HX-Request": "true"}
CONFIRM = {"confirm": "yes"}
VALID = {
    "title": "Pitch night",
    "description": "Projects pitch, neighbours **help**.",
    "starts_local": "2030-03-07T19:00",
    "ends_local": "2030-03-07T22:00",
    "timezone": "Europe/Paris",
    "venue_id": "",
    "online_url": "",
    "capacity": "80",
    "tags": "arts, social innovation",
}


def make_event(db: Database, community_slug: str = "coloc", **overrides: Any) -> str:
    with db.transaction() as session:
        community = CommunityService(session).by_slug(community_slug)
        data = {**VALID, **overrides}
        return EventService(session).create(community, EventInput(**data)).slug


def stored(db: Database, slug: str) -> Event | None:
    with db.session() as session:
        return session.query(Event).filter_by(slug=slug).one_or_none()


def count_events(db: Database, community_slug: str = "coloc") -> int:
    with db.session() as session:
        return EventService(session).count_in(CommunityService(session).by_slug(community_slug))


def error_next_to(html: str, field: str, prefix: str = "f") -> str:
    match = re.search(rf'<p class="error" id="{prefix}-{field}-error">([^<]*)</p>', html)
    assert match, f"no error slot for {field}"
    return match.group(1).strip()


def programme_titles(db: Database, slug: str) -> list[str]:
    with db.session() as session:
        event = EventService(session).in_community(CommunityService(session).by_slug("coloc"), slug)
        return [item.title for item in ProgrammeService(session).items(event)]


# -- list ---------------------------------------------------------------------------------
def test_the_list_starts_empty_with_an_invitation_to_create(organiser: Organiser) -> None:
    response = organiser.client.get(organiser.base)
    assert response.status_code == 200
    assert "Create an event" in response.text
    assert f'href="{organiser.base}/new"' in response.text


def test_the_list_shows_upcoming_events_with_status_and_local_date(
    organiser: Organiser, db: Database
) -> None:
    draft = make_event(db, title="Draft night")
    published = make_event(
        db, title="Open night", starts_local="2030-04-04T19:00", ends_local="2030-04-04T22:00"
    )
    with db.transaction() as session:
        EventService(session).publish(EventService(session).by_slug(published, public=False))
    html = organiser.client.get(organiser.base).text
    assert "Draft night" in html and "Open night" in html
    assert "status-draft" in html and "status-published" in html
    assert "19:00" in html  # local time in the event's zone, not UTC (18:00)
    assert f"{organiser.base}/{draft}" in html
    assert f'href="/e/{published}"' in html
    assert f'href="/e/{draft}"' not in html  # a draft has no public page
    assert "?past=1" in html
    past = organiser.client.get(organiser.base + "?past=1")
    assert past.status_code == 200
    assert "No past public events yet." in past.text


@pytest.mark.parametrize("page", ["abc", "-3", "999999999999999999999", "2"])
def test_odd_page_numbers_never_fail(organiser: Organiser, page: str) -> None:
    assert organiser.client.get(f"{organiser.base}?page={page}").status_code == 200
    assert organiser.client.get(f"{organiser.base}?past=1&page={page}").status_code == 200


# -- create -------------------------------------------------------------------------------
def test_the_new_form_offers_zones_venues_and_tag_suggestions(
    organiser: Organiser, db: Database
) -> None:
    make_event(db, tags="board games")
    with db.transaction() as session:
        community = CommunityService(session).by_slug("coloc")
        VenueService(session).create(community, VenueInput(name="The canteen"))
    html = organiser.client.get(organiser.base + "/new").text
    # One zone picker: the community's zone filled in; every zone offered, common first.
    assert 'name="timezone" type="text" list="zone-list" value="Europe/Paris"' in html
    zones = re.findall(r'<option value="([A-Za-z_]+/[A-Za-z_/-]+|UTC)"></option>', html)
    assert zones[:2] == ["Europe/Paris", "Europe/Brussels"] and "Asia/Kathmandu" in zones
    assert len(zones) > 300
    assert 'type="datetime-local"' in html
    assert "The canteen" in html
    assert '<datalist id="tag-suggestions">' in html and 'value="board games"' in html
    assert 'type="color"' in html
    assert f'hx-post="{organiser.base}/preview"' in html
    assert 'hx-trigger="keyup changed delay:400ms' in html


def test_create_an_event(organiser: Organiser, db: Database) -> None:
    with db.transaction() as session:
        community = CommunityService(session).by_slug("coloc")
        venue_id = str(VenueService(session).create(community, VenueInput(name="Canteen")).id)
    response = organiser.client.submit(
        organiser.base + "/",
        {**VALID, "venue_id": venue_id, "use_cover_color": "on", "cover_color": "#FF8800"},
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == f"{organiser.base}/pitch-night-2030-03-07"
    event = stored(db, "pitch-night-2030-03-07")
    assert event is not None
    assert event.status is EventStatus.DRAFT
    assert event.starts_at.hour == 18  # 19:00 in Paris (winter) is 18:00 UTC
    assert event.capacity == 80
    assert str(event.venue_id) == venue_id
    assert event.cover_color == "#ff8800"
    assert "<strong>help</strong>" in event.description_html
    page = organiser.client.get(location)
    assert page.status_code == 200
    assert "created as a draft" in page.text
    assert 'value="2030-03-07T19:00"' in page.text
    assert "sent to calendars" not in page.text  # a draft is in no calendar


def test_an_unticked_cover_colour_is_not_stored(organiser: Organiser, db: Database) -> None:
    organiser.client.submit(organiser.base + "/", {**VALID, "cover_color": "#123456"})
    event = stored(db, "pitch-night-2030-03-07")
    assert event is not None and event.cover_color == ""


def test_create_through_htmx_redirects_the_browser(organiser: Organiser, db: Database) -> None:
    response = organiser.client.submit(organiser.base + "/", VALID, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == f"{organiser.base}/pitch-night-2030-03-07"
    assert count_events(db) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_local": "2030-03-07T18:00"}, "ends_local", ""),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", ""),
        ({"timezone": "Factory"}, "timezone", "Choose a time zone from the list."),
        ({"timezone": "EST5EDT"}, "timezone", ""),
        ({"timezone": "US/Eastern"}, "timezone", ""),
        ({"online_url": "javascript:alert(1)"}, "online_url", ""),
        ({"capacity": "-1"}, "capacity", ""),
        ({"capacity": "lots"}, "capacity", ""),
        ({"title": "x" * 10_000}, "title", "This is too long."),
        ({"title": "Line one\r\nBcc: line two"}, "title", "not allowed"),
        ({"title": ""}, "title", "This field is required."),
        ({"starts_local": "tomorrow"}, "starts_local", ""),
        ({"tags": ", ".join(f"tag{n}" for n in range(11))}, "tags", ""),
        ({"use_cover_color": "on", "cover_color": "red"}, "cover_color", ""),
        ({"venue_id": "not-a-uuid"}, "venue_id", ""),
    ],
)
def test_invalid_input_is_shown_next_to_the_field_and_nothing_is_stored(
    organiser: Organiser, db: Database, changes: dict[str, str], field: str, message: str
) -> None:
    response = organiser.client.submit(organiser.base + "/", {**VALID, **changes})
    assert response.status_code == 400
    error = error_next_to(response.text, field)
    assert error and message in error
    assert f'id="f-{field}"' in response.text
    assert "<html" in response.text  # without htmx: the whole page again
    if field != "title":
        assert 'value="Pitch night"' in response.text  # what was typed is kept
    assert count_events(db) == 0


def test_invalid_input_through_htmx_returns_only_the_form(
    organiser: Organiser, db: Database
) -> None:
    response = organiser.client.submit(
        organiser.base + "/", {**VALID, "ends_local": "2030-03-06T22:00"}, headers=HTMX
    )
    assert response.status_code == 400
    assert response.text.lstrip().startswith('<form id="event-form"')
    assert "<html" not in response.text
    assert error_next_to(response.text, "ends_local")
    assert count_events(db) == 0


def test_a_nul_byte_in_the_title_is_refused_and_nothing_is_stored(
    organiser: Organiser, db: Database
) -> None:
    response = organiser.client.submit(organiser.base + "/", {**VALID, "title": "A\x00B"})
    assert response.status_code == 400
    assert count_events(db) == 0


def test_an_empty_form_answers_400(organiser: Organiser, db: Database) -> None:
    response = organiser.client.submit(organiser.base + "/", {})
    assert response.status_code == 400
    assert error_next_to(response.text, "title") == "This field is required."


# -- preview ------------------------------------------------------------------------------
def test_the_markdown_preview_is_sanitised_and_stores_nothing(
    organiser: Organiser, db: Database
) -> None:
    response = organiser.client.submit(
        organiser.base + "/preview",
        {"description": "**Hello** <script>alert(1)</script> [x](javascript:alert(2))"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "<strong>Hello</strong>" in response.text
    assert "<script" not in response.text
    assert 'href="javascript' not in response.text
    assert "<html" not in response.text
    assert count_events(db) == 0


def test_an_empty_preview_shows_a_hint(organiser: Organiser) -> None:
    response = organiser.client.submit(organiser.base + "/preview", {})
    assert response.status_code == 200
    assert "appears here" in response.text


# -- edit ---------------------------------------------------------------------------------
def test_the_edit_page_is_prefilled_in_the_events_zone(organiser: Organiser, db: Database) -> None:
    slug = make_event(
        db,
        timezone="America/Toronto",
        starts_local="2030-07-01T18:30",
        ends_local="2030-07-01T21:00",
    )
    html = organiser.client.get(f"{organiser.base}/{slug}").text
    assert 'value="2030-07-01T18:30"' in html
    assert 'value="2030-07-01T21:00"' in html
    assert 'list="zone-list" value="America/Toronto"' in html
    assert 'value="arts, social innovation"' in html
    assert "Publish" in html and "Duplicate" in html
    assert 'id="programme"' in html
    assert "/e/" + slug not in html  # drafts have no public link yet


def test_update_an_event(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    response = organiser.client.submit(
        f"{organiser.base}/{slug}", {**VALID, "title": "Pitch night, second take"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{organiser.base}/{slug}"
    event = stored(db, slug)
    assert event is not None and event.title == "Pitch night, second take"
    assert "Saved." in organiser.client.get(response.headers["location"]).text


def test_update_through_htmx_redirects_and_errors_return_the_form(
    organiser: Organiser, db: Database
) -> None:
    slug = make_event(db)
    ok = organiser.client.submit(f"{organiser.base}/{slug}", VALID, headers=HTMX)
    assert ok.headers["hx-redirect"] == f"{organiser.base}/{slug}"
    bad = organiser.client.submit(
        f"{organiser.base}/{slug}", {**VALID, "title": "New", "capacity": "-1"}, headers=HTMX
    )
    assert bad.status_code == 400
    assert bad.text.lstrip().startswith('<form id="event-form"')
    assert error_next_to(bad.text, "capacity")
    event = stored(db, slug)
    assert event is not None and event.title == "Pitch night" and event.capacity == 80


def test_an_invalid_update_without_htmx_rerenders_the_page(
    organiser: Organiser, db: Database
) -> None:
    slug = make_event(db)
    response = organiser.client.submit(
        f"{organiser.base}/{slug}", {**VALID, "title": "Renamed", "timezone": "Nowhere/Land"}
    )
    assert response.status_code == 400
    assert "<html" in response.text and 'id="programme"' in response.text
    assert error_next_to(response.text, "timezone")
    assert 'value="Renamed"' in response.text
    event = stored(db, slug)
    assert event is not None and event.title == "Pitch night"


def test_revision_bumps_on_a_time_change_but_not_on_a_description_change(
    organiser: Organiser, db: Database
) -> None:
    slug = make_event(db)
    organiser.client.submit(f"{organiser.base}/{slug}", {**VALID, "description": "Other words"})
    event = stored(db, slug)
    assert event is not None and event.revision == 0 and event.description == "Other words"
    organiser.client.submit(
        f"{organiser.base}/{slug}",
        {**VALID, "starts_local": "2030-03-07T19:30", "description": "Other words"},
    )
    event = stored(db, slug)
    assert event is not None and event.revision == 1
    organiser.client.submit(f"{organiser.base}/{slug}/publish", CONFIRM)
    page = organiser.client.get(f"{organiser.base}/{slug}").text
    assert "2 changes sent to calendars" in page and "revision 2" not in page


# -- publish, cancel, duplicate -------------------------------------------------------------
def test_publish(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    response = organiser.client.submit(f"{organiser.base}/{slug}/publish", CONFIRM)
    assert response.status_code == 303
    event = stored(db, slug)
    assert event is not None and event.status is EventStatus.PUBLISHED and event.revision == 1
    html = organiser.client.get(f"{organiser.base}/{slug}").text
    assert f'href="/e/{slug}"' in html
    assert "status-published" in html
    assert f"{slug}/publish" not in html  # no Publish button any more


def test_cancel_is_idempotent(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    organiser.client.submit(f"{organiser.base}/{slug}/publish", CONFIRM)
    for _ in range(2):
        response = organiser.client.submit(
            f"{organiser.base}/{slug}/cancel", {"reason": "The venue flooded."}
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"{organiser.base}/{slug}"
    event = stored(db, slug)
    assert event is not None
    assert event.status is EventStatus.CANCELLED
    assert event.cancel_reason == "The venue flooded."
    assert event.revision == 2  # published (1), cancelled once (2)
    html = organiser.client.get(f"{organiser.base}/{slug}").text
    assert "status-cancelled" in html and "The venue flooded." in html
    assert f"{slug}/cancel" not in html


def test_a_too_long_cancel_reason_is_shown_and_nothing_changes(
    organiser: Organiser, db: Database
) -> None:
    slug = make_event(db)
    organiser.client.submit(f"{organiser.base}/{slug}/publish", CONFIRM)
    response = organiser.client.submit(f"{organiser.base}/{slug}/cancel", {"reason": "x" * 3000})
    assert response.status_code == 400
    assert error_next_to(response.text, "reason") == "This is too long."
    event = stored(db, slug)
    assert event is not None and event.status is EventStatus.PUBLISHED


def test_cancelling_a_draft_deletes_it(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    response = organiser.client.submit(f"{organiser.base}/{slug}/cancel")
    assert response.status_code == 303
    assert response.headers["location"] == organiser.base
    assert stored(db, slug) is None
    assert "Draft deleted." in organiser.client.get(organiser.base).text


def test_publishing_a_cancelled_event_answers_409(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    organiser.client.submit(f"{organiser.base}/{slug}/publish", CONFIRM)
    organiser.client.submit(f"{organiser.base}/{slug}/cancel")
    response = organiser.client.submit(f"{organiser.base}/{slug}/publish", CONFIRM)
    assert response.status_code == 409
    assert "cannot be published again" in response.text
    event = stored(db, slug)
    assert event is not None and event.status is EventStatus.CANCELLED


def test_duplicate(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    with db.transaction() as session:
        event = EventService(session).by_slug(slug, public=False)
        ProgrammeService(session).add(event, ProgrammeInput(title="Welcome", start_time="19:00"))
    response = organiser.client.submit(f"{organiser.base}/{slug}/duplicate")
    assert response.status_code == 303
    copy_slug = response.headers["location"].rsplit("/", 1)[1]
    assert copy_slug != slug
    copy, original = stored(db, copy_slug), stored(db, slug)
    assert copy is not None and original is not None
    assert copy.status is EventStatus.DRAFT
    assert copy.starts_at - original.starts_at == timedelta(days=7)
    assert programme_titles(db, copy_slug) == ["Welcome"]
    assert "Copy created" in organiser.client.get(response.headers["location"]).text


# -- access -------------------------------------------------------------------------------
def test_another_communitys_event_is_not_found(
    organiser: Organiser, make: Factories, db: Database
) -> None:
    make.community(slug="elsewhere")
    theirs = make_event(db, "elsewhere", title="Their night")
    assert organiser.client.get(f"{organiser.base}/{theirs}").status_code == 404
    for action in ("", "/publish", "/cancel", "/duplicate", "/programme"):
        response = organiser.client.submit(f"{organiser.base}/{theirs}{action}", VALID)
        assert response.status_code == 404, action
    assert organiser.client.get(f"/manage/elsewhere/events/{theirs}").status_code == 404
    event = stored(db, theirs)
    assert event is not None and event.status is EventStatus.DRAFT
    assert count_events(db) == 0


def test_a_door_volunteer_may_not_manage_events(
    client: Client, make: Factories, db: Database
) -> None:
    community = make.community(slug="coloc")
    door = make.member(community, role=Role.DOOR)
    slug = make_event(db)
    client.login_as(db, door)
    base = "/manage/coloc/events"
    assert client.get(base).status_code == 403
    assert client.get(base + "/new").status_code == 403
    assert client.get(f"{base}/{slug}").status_code == 403
    assert client.submit(base + "/", VALID).status_code == 403
    assert client.submit(f"{base}/{slug}/publish").status_code == 403
    assert count_events(db) == 1


def test_an_organiser_may_manage_events(client: Client, make: Factories, db: Database) -> None:
    community = make.community(slug="coloc")
    client.login_as(db, make.member(community, role=Role.ORGANISER))
    assert client.submit("/manage/coloc/events/", VALID).status_code == 303
    assert count_events(db) == 1


def test_anonymous_visitors_are_sent_to_log_in(client: Client, make: Factories) -> None:
    make.community(slug="coloc")
    response = client.get("/manage/coloc/events", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# -- series note --------------------------------------------------------------------------
def test_an_occurrence_links_to_its_series(organiser: Organiser, db: Database) -> None:
    with db.transaction() as session:
        community = CommunityService(session).by_slug("coloc")
        series = SeriesService(session).create(
            community,
            SeriesInput(title="Thursdays", starts_on="2030-01-01"),
            today=date(2030, 1, 1),
        )
        series_slug = series.slug
        occurrence = SeriesService(session).occurrences(series)[0].slug
    html = organiser.client.get(f"{organiser.base}/{occurrence}").text
    assert "changes this occurrence only" in html
    assert f'href="/manage/coloc/series/{series_slug}"' in html


# -- programme ------------------------------------------------------------------------------
def add_item(organiser: Organiser, slug: str, title: str, start: str = "", **headers: str) -> Any:
    return organiser.client.submit(
        f"{organiser.base}/{slug}/programme",
        {"title": title, "start_time": start, "speakers": "Ada", "room": "Main hall"},
        headers=headers,
    )


def test_programme_without_htmx_redirects_back_to_the_edit_page(
    organiser: Organiser, db: Database
) -> None:
    slug = make_event(db)
    back = f"{organiser.base}/{slug}#programme"
    for title, start in (("Welcome", "19:00"), ("Pitches", "19:30"), ("Drinks", "21:00")):
        response = add_item(organiser, slug, title, start)
        assert response.status_code == 303 and response.headers["location"] == back
    assert programme_titles(db, slug) == ["Welcome", "Pitches", "Drinks"]
    with db.session() as session:
        event = EventService(session).by_slug(slug, public=False)
        items = ProgrammeService(session).items(event)
    ids = {item.title: item.id for item in items}

    response = organiser.client.submit(f"{organiser.base}/{slug}/programme/{ids['Drinks']}/up")
    assert response.status_code == 303 and response.headers["location"] == back
    assert programme_titles(db, slug) == ["Welcome", "Drinks", "Pitches"]
    organiser.client.submit(f"{organiser.base}/{slug}/programme/{ids['Welcome']}/down")
    assert programme_titles(db, slug) == ["Drinks", "Welcome", "Pitches"]

    response = organiser.client.submit(
        f"{organiser.base}/{slug}/programme/{ids['Pitches']}",
        {"title": "Five pitches", "start_time": "19:45", "end_time": "20:30"},
    )
    assert response.status_code == 303
    assert programme_titles(db, slug) == ["Drinks", "Welcome", "Five pitches"]

    response = organiser.client.submit(f"{organiser.base}/{slug}/programme/{ids['Welcome']}/delete")
    assert response.status_code == 303
    assert programme_titles(db, slug) == ["Drinks", "Five pitches"]

    html = organiser.client.get(f"{organiser.base}/{slug}").text
    assert html.index("Drinks") < html.index("Five pitches")
    assert 'value="19:45"' in html and 'value="20:30"' in html
    assert "19:45–20:30" in html


def test_programme_with_htmx_returns_only_the_fragment(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    first = add_item(organiser, slug, "Welcome", "19:00", **HTMX)
    assert first.status_code == 200
    assert first.text.lstrip().startswith('<section id="programme"')
    assert "<html" not in first.text and "Welcome" in first.text
    second = add_item(organiser, slug, "Pitches", "19:30", **HTMX)
    assert second.text.index("Welcome") < second.text.index("Pitches")
    with db.session() as session:
        items = ProgrammeService(session).items(EventService(session).by_slug(slug, public=False))
    pitches = items[1].id

    moved = organiser.client.submit(f"{organiser.base}/{slug}/programme/{pitches}/up", headers=HTMX)
    assert moved.status_code == 200 and "<html" not in moved.text
    assert moved.text.index("Pitches") < moved.text.index("Welcome")
    assert programme_titles(db, slug) == ["Pitches", "Welcome"]

    edited = organiser.client.submit(
        f"{organiser.base}/{slug}/programme/{pitches}",
        {"title": "Lightning pitches", "start_time": "19:30"},
        headers=HTMX,
    )
    assert edited.status_code == 200 and "Lightning pitches" in edited.text

    deleted = organiser.client.submit(
        f"{organiser.base}/{slug}/programme/{pitches}/delete", headers=HTMX
    )
    assert deleted.status_code == 200 and "Lightning pitches" not in deleted.text
    assert programme_titles(db, slug) == ["Welcome"]


def test_programme_errors_are_shown_inline(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    response = organiser.client.submit(
        f"{organiser.base}/{slug}/programme",
        {"title": "", "start_time": "20:00", "end_time": "19:00", "speakers": "Ada"},
        headers=HTMX,
    )
    assert response.status_code == 400
    assert response.text.lstrip().startswith('<section id="programme"')
    assert error_next_to(response.text, "title", "p-new") == "This field is required."
    assert error_next_to(response.text, "end_time", "p-new")
    assert 'value="Ada"' in response.text
    assert programme_titles(db, slug) == []

    no_js = organiser.client.submit(
        f"{organiser.base}/{slug}/programme", {"title": "Talk", "start_time": "25:99"}
    )
    assert no_js.status_code == 400
    assert "<html" in no_js.text
    assert error_next_to(no_js.text, "start_time", "p-new")
    assert programme_titles(db, slug) == []


def test_programme_edit_errors_open_that_items_form(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    add_item(organiser, slug, "Welcome")
    with db.session() as session:
        item = ProgrammeService(session).items(EventService(session).by_slug(slug, public=False))[0]
    response = organiser.client.submit(
        f"{organiser.base}/{slug}/programme/{item.id}", {"title": "x" * 500}, headers=HTMX
    )
    assert response.status_code == 400
    assert error_next_to(response.text, "title", f"p-{item.id}") == "This is too long."
    assert error_next_to(response.text, "title", "p-new") == ""
    assert '<details class="programme-edit" open>' in response.text
    assert programme_titles(db, slug) == ["Welcome"]


def test_an_unknown_programme_item_is_not_found(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    unknown = "00000000-0000-0000-0000-000000000000"
    for action in ("", "/delete", "/up", "/down"):
        response = organiser.client.submit(
            f"{organiser.base}/{slug}/programme/{unknown}{action}", {"title": "x"}
        )
        assert response.status_code == 404, action


# -- preview, confirmation, back to draft (issue 14, item 3) --------------------------------
def test_a_draft_can_be_seen_by_its_organisers_with_a_banner(
    organiser: Organiser, db: Database, client: Client
) -> None:
    slug = make_event(db)
    edit = organiser.client.get(f"{organiser.base}/{slug}").text
    assert f'href="{organiser.base}/{slug}/view"' in edit
    view = organiser.client.get(f"{organiser.base}/{slug}/view")
    assert view.status_code == 200
    assert "Draft: only the organisers see this page." in view.text
    assert '<h1 id="event-title">Pitch night</h1>' in view.text
    assert "Registration is not open yet." in view.text
    assert '<meta name="robots" content="noindex">' in view.text
    assert organiser.client.get(f"/e/{slug}").status_code == 404  # still not public


def test_publish_says_what_happens_first(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    edit = organiser.client.get(f"{organiser.base}/{slug}").text
    assert "Publish…" in edit and "No e-mail is sent." in edit and "calendar feeds" in edit
    unconfirmed = organiser.client.submit(f"{organiser.base}/{slug}/publish")
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"{organiser.base}/{slug}/publish"
    question = organiser.client.get(f"{organiser.base}/{slug}/publish")
    assert question.status_code == 200 and "Publish now" in question.text
    assert stored(db, slug).status is EventStatus.DRAFT


def test_back_to_draft_while_nobody_registered(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    organiser.client.submit(f"{organiser.base}/{slug}/publish", CONFIRM)
    page = organiser.client.get(f"{organiser.base}/{slug}").text
    assert f'action="{organiser.base}/{slug}/unpublish"' in page
    response = organiser.client.submit(f"{organiser.base}/{slug}/unpublish")
    assert response.status_code == 303
    event = stored(db, slug)
    assert event.status is EventStatus.DRAFT and event.revision == 2
    assert organiser.client.get(f"/e/{slug}").status_code == 404


def test_back_to_draft_is_refused_once_someone_registered(
    organiser: Organiser, db: Database
) -> None:
    slug = make_event(db)
    organiser.client.submit(f"{organiser.base}/{slug}/publish", CONFIRM)
    with db.transaction() as session:
        RegistrationService(session).register(
            EventService(session).by_slug(slug),
            RegistrationInput(name="Ada", email="ada@example.org", consent="on"),
        )
    page = organiser.client.get(f"{organiser.base}/{slug}").text
    assert "/unpublish" not in page
    refused = organiser.client.submit(f"{organiser.base}/{slug}/unpublish", follow_redirects=True)
    assert "cannot go back to draft" in refused.text
    assert stored(db, slug).status is EventStatus.PUBLISHED


# -- the event page's sections (issue 14, item 6) -------------------------------------------
def test_the_event_page_has_a_section_navigation(organiser: Organiser, db: Database) -> None:
    slug = make_event(db)
    html = organiser.client.get(f"{organiser.base}/{slug}").text
    nav = html[
        html.index('<nav class="page-sections"') : html.index(
            "</nav>", html.index('<nav class="page-sections"')
        )
    ]
    targets = re.findall(r'href="([^"]+)"', nav)
    assert targets == [
        "#details",
        "#registration-settings",
        f"{organiser.base}/{slug}/questions",
        "#programme",
        "#cover",
        f"{organiser.base}/{slug}/door",
        f"{organiser.base}/{slug}/attendees",
        f"{organiser.base}/{slug}/volunteers",
        f"{organiser.base}/{slug}/feedback",
        f"{organiser.base}/{slug}/offers",
        f"{organiser.base}/{slug}/board",
    ]
    for anchor in ("details", "registration-settings", "programme", "cover"):
        assert f'id="{anchor}"' in html
