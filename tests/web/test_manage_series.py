"""The organiser's series pages through HTTP: create with the live preview, skip a date,
edit this and following, end the series, and the guards around them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from events.database import Database
from events.models import Community, Event, EventStatus, Role, Series
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationInput, RegistrationService
from events.services.series import SeriesInput, SeriesService
from tests.factories import Factories
from tests.web.conftest import Client, Member
from web.controllers import manage_questions, manage_series

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manage_series, "today_in_paris", lambda: TODAY)
    monkeypatch.setattr(manage_series, "utcnow", lambda: datetime(2026, 11, 25, 12, tzinfo=UTC))
    monkeypatch.setattr(manage_questions, "utcnow", lambda: datetime(2026, 11, 25, 12, tzinfo=UTC))


def first_thursdays(**overrides: str) -> dict[str, str]:
    form = {
        "title": "Jeudis de la Coloc",
        "description": "Bring **something** to share.",
        "frequency": "monthly",
        "interval": "1",
        "weekday": "3",
        "monthly_mode": "weekday",
        "week_of_month": "1",
        "month_day": "",
        "start_time": "19:00",
        "duration_minutes": "180",
        "timezone": "Europe/Paris",
        "starts_on": "2026-11-25",
        "until": "",
        "venue_id": "",
        "online_url": "",
        "capacity": "40",
        "tags": "arts, music",
        "publish": "on",
    }
    form.update(overrides)
    return form


@pytest.fixture
def community(organiser_member: Member) -> Community:
    return organiser_member.community


def stored_series(db: Database) -> list[Series]:
    with db.session() as session:
        return list(session.scalars(select(Series)))


def occurrences(db: Database, series: Series) -> dict[date, Event]:
    with db.session() as session:
        return {e.series_date: e for e in SeriesService(session).occurrences(series)}


def create_series(db: Database, community: Community, **overrides: str) -> Series:
    values = first_thursdays(**overrides)
    values.pop("monthly_mode")
    values["month_day"] = ""
    with db.transaction() as session:
        return SeriesService(session).create(community, SeriesInput(**values), today=TODAY)


def test_the_list_is_empty_at_first(member_client: Client) -> None:
    response = member_client.get("/manage/coloc/series/")
    assert response.status_code == 200
    assert "No recurring series yet" in response.text
    assert 'href="/manage/coloc/series/new"' in response.text


def test_create_a_first_thursday_series_through_the_form(
    member_client: Client, db: Database
) -> None:
    form = member_client.get("/manage/coloc/series/new")
    assert form.status_code == 200
    assert 'hx-post="/manage/coloc/series/preview"' in form.text
    assert 'hx-trigger="change, keyup changed delay:400ms"' in form.text
    assert 'formaction="/manage/coloc/series/preview"' in form.text

    response = member_client.submit("/manage/coloc/series", first_thursdays())
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/manage/coloc/series/jeudis-de-la-coloc"

    [series] = stored_series(db)
    events = occurrences(db, series)
    assert events[date(2026, 12, 3)].starts_at == datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    assert events[date(2027, 4, 1)].starts_at == datetime(2027, 4, 1, 17, 0, tzinfo=UTC)
    assert all(e.status is EventStatus.PUBLISHED for e in events.values())
    assert series.capacity == 40 and series.tag_names == "arts, music"

    page = member_client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Every first Thursday of the month at 19:00" in page.text
    assert "Tous les premiers jeudis du mois à 19h00" in page.text
    assert "Thursday 3 December 2026, 19:00" in page.text
    assert 'href="/manage/coloc/events/jeudis-de-la-coloc-2026-12-03"' in page.text
    assert "Skip this date" in page.text

    listing = member_client.get("/manage/coloc/series/")
    assert "Jeudis de la Coloc" in listing.text
    assert "Every first Thursday of the month at 19:00" in listing.text
    assert "Thu 3 Dec, 19:00" in listing.text


def test_the_list_speaks_the_visitors_language(
    member_client: Client, db: Database, community: Community
) -> None:
    create_series(db, community)
    member_client.cookies.set("lang", "fr", domain="testserver.local")
    listing = member_client.get("/manage/coloc/series/")
    assert "Tous les premiers jeudis du mois à 19h00" in listing.text


@pytest.mark.parametrize("htmx", [True, False])
def test_the_preview_spells_the_rule_in_both_languages(
    member_client: Client, db: Database, htmx: bool
) -> None:
    headers = {"HX-Request": "true"} if htmx else {}
    response = member_client.submit(
        "/manage/coloc/series/preview", first_thursdays(), headers=headers
    )
    assert response.status_code == 200
    assert "Every first Thursday of the month at 19:00" in response.text
    assert "Tous les premiers jeudis du mois à 19h00" in response.text
    assert "Thursday 3 December 2026, 19:00" in response.text
    assert response.text.count("<li><time") == 6
    assert ("<html" in response.text) is not htmx
    if not htmx:
        assert 'value="Jeudis de la Coloc"' in response.text  # the form, kept as typed
    assert stored_series(db) == []


def test_the_preview_notes_times_moved_by_daylight_saving(
    member_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manage_series, "today_in_paris", lambda: date(2026, 3, 1))
    sundays = first_thursdays(frequency="weekly", weekday="6", start_time="02:30")
    spring = member_client.submit(
        "/manage/coloc/series/preview",
        {**sundays, "starts_on": "2026-03-22"},
        headers={"HX-Request": "true"},
    )
    assert "Every Sunday at 02:30" in spring.text
    assert "Sunday 29 March 2026, 03:30" in spring.text
    assert "this time does not exist that day (clocks go forward): moved to 03:30" in spring.text
    autumn = member_client.submit(
        "/manage/coloc/series/preview",
        {**sundays, "starts_on": "2026-10-18"},
        headers={"HX-Request": "true"},
    )
    assert "this time happens twice that day (clocks go back): the first one is used" in (
        autumn.text
    )


def test_a_monthly_series_by_date(member_client: Client, db: Database) -> None:
    response = member_client.submit(
        "/manage/coloc/series",
        first_thursdays(monthly_mode="date", month_day="15", week_of_month="1"),
    )
    assert response.status_code == 303, response.text
    [series] = stored_series(db)
    assert "BYMONTHDAY=15" in series.rrule
    assert min(occurrences(db, series)) == date(2026, 12, 15)


def test_an_incomplete_rhythm_shows_the_messages_in_the_preview(member_client: Client) -> None:
    response = member_client.submit(
        "/manage/coloc/series/preview",
        first_thursdays(start_time="25:00", monthly_mode="date", month_day=""),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Enter a time, like 19:30." in response.text
    assert "Day of the month" in response.text
    assert "This field is required." in response.text


def test_invalid_series_is_refused_with_messages_next_to_fields(
    member_client: Client, db: Database
) -> None:
    response = member_client.submit(
        "/manage/coloc/series",
        first_thursdays(
            title="", interval="13", starts_on="soon", timezone="Nowhere", capacity="many"
        ),
    )
    assert response.status_code == 400
    assert 'id="f-title-error">This field is required.' in response.text
    assert 'id="f-interval-error">This number is out of the allowed range.' in response.text
    assert 'id="f-starts_on-error">Enter a date, like 2026-12-03.' in response.text
    assert 'id="f-timezone-error">Choose a time zone from the list.' in response.text
    assert 'id="f-capacity-error">Enter a whole number.' in response.text
    assert 'value="many"' in response.text
    assert stored_series(db) == []
    with db.session() as session:
        assert session.scalars(select(Event)).all() == []


def test_an_empty_form_is_a_400_not_a_crash(member_client: Client, db: Database) -> None:
    for url in ("/manage/coloc/series", "/manage/coloc/series/preview"):
        assert member_client.submit(url, {}).status_code in {200, 400}
    assert stored_series(db) == []


def test_skip_a_date_cancels_that_occurrence(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    response = member_client.submit(
        f"/manage/coloc/series/{series.slug}/skip", {"date": "2027-01-07"}
    )
    assert response.status_code == 303
    events = occurrences(db, series)
    assert events[date(2027, 1, 7)].status is EventStatus.CANCELLED
    assert events[date(2027, 2, 4)].status is EventStatus.PUBLISHED
    page = member_client.get(f"/manage/coloc/series/{series.slug}")
    assert "Cancelled" in page.text


@pytest.mark.parametrize("value", ["garbage", "", "2027-02-30"])
def test_skip_with_a_bad_date_is_a_400(
    member_client: Client, db: Database, community: Community, value: str
) -> None:
    series = create_series(db, community)
    response = member_client.submit(f"/manage/coloc/series/{series.slug}/skip", {"date": value})
    assert response.status_code == 400
    assert "This date could not be skipped" in response.text
    assert all(e.status is EventStatus.PUBLISHED for e in occurrences(db, series).values())


def test_edit_following_changes_later_occurrences_not_detached_ones(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    moved = occurrences(db, series)[date(2027, 3, 4)]
    with db.transaction() as session:
        service = EventService(session)
        service.update(
            service.in_community(session.merge(community), moved.slug),
            EventInput(
                title="Jeudis de la Coloc",
                starts_local="2027-03-05T20:00",
                ends_local="2027-03-05T23:00",
                timezone="Europe/Paris",
            ),
        )
    response = member_client.submit(
        f"/manage/coloc/series/{series.slug}/following",
        {
            "from_date": "2027-02-04",
            "title": "Jeudis v2",
            "description": "New description",
            "start_time": "18:30",
            "duration_minutes": "120",
            "capacity": "",
            "tags": "arts",
            "publish": "on",
        },
    )
    assert response.status_code == 303, response.text
    events = occurrences(db, series)
    assert events[date(2027, 1, 7)].title == "Jeudis de la Coloc"
    assert events[date(2027, 2, 4)].title == "Jeudis v2"
    assert events[date(2027, 2, 4)].starts_at == datetime(2027, 2, 4, 17, 30, tzinfo=UTC)
    assert events[date(2027, 3, 4)].title == "Jeudis de la Coloc"  # detached: untouched
    assert events[date(2027, 4, 1)].title == "Jeudis v2"
    assert events[date(2027, 4, 1)].starts_at == datetime(2027, 4, 1, 16, 30, tzinfo=UTC)
    page = member_client.get(f"/manage/coloc/series/{series.slug}")
    assert "edited on its own" in page.text


def test_edit_following_refuses_bad_values_and_keeps_everything(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    response = member_client.submit(
        f"/manage/coloc/series/{series.slug}/following",
        {"from_date": "garbage", "title": "", "start_time": "7pm", "duration_minutes": "0"},
    )
    assert response.status_code == 400
    assert 'id="f-from_date-error">Enter a date, like 2026-12-03.' in response.text
    response = member_client.submit(
        f"/manage/coloc/series/{series.slug}/following",
        {"from_date": "2027-02-04", "title": "", "start_time": "7pm", "duration_minutes": "0"},
    )
    assert response.status_code == 400
    assert 'id="f-title-error">This field is required.' in response.text
    assert 'id="f-start_time-error">Enter a time, like 19:30.' in response.text
    assert 'id="f-duration_minutes-error">This number is out of the allowed range.' in (
        response.text
    )
    assert {e.title for e in occurrences(db, series).values()} == {"Jeudis de la Coloc"}
    [stored] = stored_series(db)
    assert stored.title == "Jeudis de la Coloc"


def test_the_end_form_says_how_many_occurrences_it_cancels(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    page = member_client.get(f"/manage/coloc/series/{series.slug}")
    assert "6 later occurrences will be cancelled" in page.text  # ending today
    assert "3 later occurrences will be cancelled" in page.text  # after 4 February
    assert "hx-confirm=" in page.text and "will be cancelled" in page.text


def test_end_cancels_the_later_occurrences(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    response = member_client.submit(
        f"/manage/coloc/series/{series.slug}/end", {"after": "2027-02-04"}
    )
    assert response.status_code == 303
    events = occurrences(db, series)
    kept = {d for d, e in events.items() if e.status is EventStatus.PUBLISHED}
    assert kept == {date(2026, 12, 3), date(2027, 1, 7), date(2027, 2, 4)}
    assert {events[d].status for d in events if d > date(2027, 2, 4)} == {EventStatus.CANCELLED}
    [stored] = stored_series(db)
    assert stored.ended_on == date(2027, 2, 4)
    listing = member_client.get("/manage/coloc/series/")
    assert "Ends after" in listing.text


def test_end_asks_what_to_do_with_occurrences_people_registered_for(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    with db.transaction() as session:
        event = session.get(Event, occurrences(db, series)[date(2027, 3, 4)].id)
        person = RegistrationInput(name="Ada", email="ada@example.org", consent="on")
        RegistrationService(session).register(event, person)
    url = f"/manage/coloc/series/{series.slug}/end"

    asked = member_client.submit(url, {"after": "2027-02-04"})
    assert asked.status_code == 200
    assert "What should happen to them?" in asked.text and "1 registration" in asked.text
    assert stored_series(db)[0].ended_on is None
    refused = member_client.submit(url, {"after": "2027-02-04", "registered": "maybe"})
    assert refused.status_code == 400 and stored_series(db)[0].ended_on is None

    done = member_client.submit(url, {"after": "2027-02-04", "registered": "keep"})
    assert done.status_code == 303
    statuses = {d: e.status for d, e in occurrences(db, series).items() if d > date(2027, 2, 4)}
    assert statuses.pop(date(2027, 3, 4)) is EventStatus.PUBLISHED
    assert set(statuses.values()) == {EventStatus.CANCELLED}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("garbage", "Enter a date, like 2026-12-03."),
        ("", "This field is required."),
        ("2026-01-01", "The end date must be after the first date."),
    ],
)
def test_end_with_a_bad_date_is_a_400(
    member_client: Client, db: Database, community: Community, value: str, message: str
) -> None:
    series = create_series(db, community)
    response = member_client.submit(f"/manage/coloc/series/{series.slug}/end", {"after": value})
    assert response.status_code == 400
    assert f'id="f-after-error">{message}' in response.text
    assert stored_series(db)[0].ended_on is None
    assert all(e.status is EventStatus.PUBLISHED for e in occurrences(db, series).values())


def test_extend_creates_the_missing_occurrences(
    member_client: Client, db: Database, community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    series = create_series(db, community)
    assert len(occurrences(db, series)) == 6
    monkeypatch.setattr(manage_series, "today_in_paris", lambda: date(2027, 1, 1))
    response = member_client.submit(f"/manage/coloc/series/{series.slug}/extend")
    assert response.status_code == 303
    assert len(occurrences(db, series)) == 8  # June and July 2027
    page = member_client.get(response.headers["location"])
    assert "2 new occurrences created." in page.text


def test_another_communitys_series_is_not_found(
    member_client: Client, db: Database, make: Factories
) -> None:
    theirs = make.community(slug="theirs")
    series = create_series(db, theirs)
    # Through our community's address, their series does not exist.
    assert member_client.get(f"/manage/coloc/series/{series.slug}").status_code == 404
    response = member_client.submit(
        f"/manage/coloc/series/{series.slug}/end", {"after": "2027-01-01"}
    )
    assert response.status_code == 404
    # And their own address is closed to us.
    assert member_client.get(f"/manage/theirs/series/{series.slug}").status_code == 404
    assert member_client.get("/manage/coloc/series/nothing-here").status_code == 404
    assert stored_series(db)[0].ended_on is None


def test_a_door_volunteer_is_refused(
    client: Client, db: Database, make: Factories, community: Community
) -> None:
    series = create_series(db, community)
    client.login_as(db, make.member(community, role=Role.DOOR))
    assert client.get("/manage/coloc/series/").status_code == 403
    assert client.get(f"/manage/coloc/series/{series.slug}").status_code == 403
    response = client.submit(f"/manage/coloc/series/{series.slug}/skip", {"date": "2027-01-07"})
    assert response.status_code == 403
    assert all(e.status is EventStatus.PUBLISHED for e in occurrences(db, series).values())


def test_two_actions_in_a_row_keep_both_messages(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    for _ in range(2):
        assert member_client.submit(f"/manage/coloc/series/{series.slug}/extend").status_code == 303
    page = member_client.get(f"/manage/coloc/series/{series.slug}")
    assert page.text.count('<p class="flash flash-success">0 new occurrences created.</p>') == 2


# -- publishing (issue 14, item 1) ---------------------------------------------------------


def test_a_new_series_publishes_its_dates_by_default(member_client: Client) -> None:
    form = member_client.get("/manage/coloc/series/new")
    assert 'id="f-publish" name="publish" type="checkbox" checked' in form.text


def test_ticking_publish_on_this_and_following_publishes_those_drafts(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community, publish="")
    following = {
        "from_date": "2027-01-07",
        "title": "Jeudis de la Coloc",
        "start_time": "19:00",
        "duration_minutes": "180",
        "capacity": "40",
        "publish": "on",
    }
    response = member_client.submit(f"/manage/coloc/series/{series.slug}/following", following)
    assert response.status_code == 303, response.text
    statuses = {day: e.status for day, e in occurrences(db, series).items()}
    assert statuses[date(2026, 12, 3)] is EventStatus.DRAFT
    assert [s for day, s in statuses.items() if day >= date(2027, 1, 7)] == [
        EventStatus.PUBLISHED
    ] * 5


def test_publish_all_upcoming_drafts_after_saying_what_happens(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community, publish="")
    url = f"/manage/coloc/series/{series.slug}"
    detail = member_client.get(url)
    assert "Publish all 6 upcoming drafts…" in detail.text
    assert "No e-mail is sent." in detail.text

    # Without the confirmation, the POST leads to the page that asks for it.
    unconfirmed = member_client.submit(f"{url}/publish")
    assert unconfirmed.status_code == 303 and unconfirmed.headers["location"] == f"{url}/publish"
    question = member_client.get(f"{url}/publish")
    assert question.status_code == 200
    assert "calendar feeds" in question.text and "Publish 6 dates" in question.text
    assert all(e.status is EventStatus.DRAFT for e in occurrences(db, series).values())

    done = member_client.submit(f"{url}/publish", {"confirm": "yes"}, follow_redirects=True)
    assert "6 upcoming dates published." in done.text
    assert all(e.status is EventStatus.PUBLISHED for e in occurrences(db, series).values())
    assert "upcoming drafts…" not in done.text


# -- registration settings and questions of a series (issue 14, item 2) --------------------


def test_the_series_form_sets_how_people_register_for_every_date(
    member_client: Client, db: Database
) -> None:
    form = member_client.get("/manage/coloc/series/new")
    assert 'id="f-waitlist_enabled" name="waitlist_enabled" value="on"' in form.text
    assert 'id="f-guest_allowance"' in form.text and 'id="f-requires_approval"' in form.text
    response = member_client.submit(
        "/manage/coloc/series",
        first_thursdays(requires_approval="on", guest_allowance="2", waitlist_enabled=""),
    )
    assert response.status_code == 303, response.text
    [series] = stored_series(db)
    assert series.requires_approval and series.guest_allowance == 2
    assert not series.waitlist_enabled
    assert {(e.requires_approval, e.guest_allowance) for e in occurrences(db, series).values()} == {
        (True, 2)
    }
    refused = member_client.submit("/manage/coloc/series", first_thursdays(guest_allowance="50"))
    assert refused.status_code == 400 and 'id="f-guest_allowance-error"' in refused.text


def test_this_and_following_form_shows_and_changes_the_settings(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    detail = member_client.get(f"/manage/coloc/series/{series.slug}")
    assert "waiting list on" in detail.text and "no guests" in detail.text
    assert f'href="/manage/coloc/series/{series.slug}/questions"' in detail.text
    following = {
        "from_date": "2027-01-07",
        "title": "Jeudis de la Coloc",
        "start_time": "19:00",
        "duration_minutes": "180",
        "publish": "on",
        "confirm_email_first": "on",
        "guest_allowance": "1",
    }
    response = member_client.submit(f"/manage/coloc/series/{series.slug}/following", following)
    assert response.status_code == 303, response.text
    events = occurrences(db, series)
    assert (
        events[date(2026, 12, 3)].waitlist_enabled
        and events[date(2026, 12, 3)].guest_allowance == 0
    )
    january = events[date(2027, 1, 7)]
    assert january.confirm_email_first and january.guest_allowance == 1
    assert not january.waitlist_enabled  # unticked in the form


def test_the_series_question_editor_reaches_the_dates(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    url = f"/manage/coloc/series/{series.slug}/questions"
    page = member_client.get(url)
    assert page.status_code == 200
    assert "Every date of the series asks these questions." in page.text
    added = member_client.submit(url, {"kind": "short_text", "label": "Diet", "required": "on"})
    assert added.status_code == 303 and added.headers["location"] == url
    asked = {day: [q["label"] for q in e.questions] for day, e in occurrences(db, series).items()}
    assert all(labels == ["Diet"] for labels in asked.values())
    # Another community's organiser cannot reach it.
    assert member_client.get("/manage/coloc/series/nope/questions").status_code == 404


def test_ending_a_series_needs_a_date_chosen(
    member_client: Client, db: Database, community: Community
) -> None:
    series = create_series(db, community)
    page = member_client.get(f"/manage/coloc/series/{series.slug}").text
    select = page[page.index('id="f-after"') : page.index("</select>", page.index('id="f-after"'))]
    assert '<option value="" selected>Choose the last date kept…</option>' in select
    assert select.count(" selected") == 1
    response = member_client.submit(f"/manage/coloc/series/{series.slug}/end", {"after": ""})
    assert response.status_code == 400
    assert 'id="f-after-error">This field is required.' in response.text
    assert all(e.status is EventStatus.PUBLISHED for e in occurrences(db, series).values())
