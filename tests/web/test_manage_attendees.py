"""The organiser's attendee list (``/manage/{c}/events/{e}/attendees``): counts, search,
filters, paging, actions, CSV export, and who may see it."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import UUID

from sqlalchemy import select, update

from events.clock import utcnow
from events.database import Database
from events.models import Event, Registration, RegistrationStatus, Role
from events.services.communities import CommunityService
from events.services.door import DoorService, Verdict
from events.services.door_input import scan_input
from events.services.events import EventInput, EventService
from events.services.privacy import anonymise_past_registrations
from events.services.registrations import RegistrationInput, RegistrationService
from tests.domain.test_door import walk_in
from tests.factories import Factories
from tests.web.conftest import Client, Organiser

S = RegistrationStatus
HTMX = {"HX-Request": "true"}
EVENT = {
    "title": "Pitch night",
    "starts_local": "2030-03-07T19:00",
    "ends_local": "2030-03-07T22:00",
    "timezone": "Europe/Paris",
    "capacity": "3",
}


def open_event(db: Database, community_slug: str = "coloc", **settings: str) -> Event:
    with db.transaction() as session:
        community = CommunityService(session).by_slug(community_slug)
        service = EventService(session)
        event = service.create(community, EventInput(**{**EVENT, **settings}))
        service.publish(event)
    return event


def register(db: Database, event: Event, n: int | str, guests: int = 0, **extra: str) -> UUID:
    data = {
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "guests": str(guests),
        "consent": "on",
        **extra,
    }
    with db.transaction() as session:
        stored = session.get(Event, event.id)
        result = RegistrationService(session).register(stored, RegistrationInput(**data))
        return result.registration.id


def status_of(db: Database, registration_id: UUID) -> RegistrationStatus:
    with db.session() as session:
        registration = session.get(Registration, registration_id)
        assert registration is not None
        return registration.status


def taken(db: Database, event: Event) -> int:
    with db.session() as session:
        stored = session.get(Event, event.id)
        assert stored is not None
        return stored.taken


def url(event: Event, suffix: str = "", community: str = "coloc") -> str:
    return f"/manage/{community}/events/{event.slug}/attendees{suffix}"


def names_in(html: str) -> list[str]:
    return re.findall(r'<tr id="registration-[^"]+"[^>]*>\s*<td>([^<]*)</td>', html)


def count_of(html: str, label: str) -> str:
    match = re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>(.*?)</dd>", html, re.S)
    assert match, label
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# -- the list -------------------------------------------------------------------------------
def test_the_list_shows_counts_and_every_registration(organiser: Organiser, db: Database) -> None:
    event = open_event(db, guest_allowance="2")
    register(db, event, 1, guests=1)  # 2 people
    register(db, event, 2)  # 1 person: full
    register(db, event, 3, guests=2)  # waits
    gone = register(db, event, 4)  # waits, then cancels
    with db.transaction() as session:
        RegistrationService(session).cancel(session.get(Registration, gone))
    response = organiser.client.get(url(event))
    assert response.status_code == 200
    html = response.text
    assert count_of(html, "Confirmed people") == "3 of 3"
    assert count_of(html, "of whom guests") == "1"
    assert count_of(html, "Waiting list").startswith("1 party")
    assert count_of(html, "Pending") == "0"
    assert count_of(html, "Cancelled") == "1"
    assert names_in(html) == ["Person 1", "Person 2", "Person 3", "Person 4"]
    assert "person3@example.org" in html
    assert "How the waiting list works" in html
    assert 'href="/manage/coloc/events/' + event.slug + '/attendees.csv"' in html


def test_the_events_pages_link_to_the_attendees(organiser: Organiser, db: Database) -> None:
    event = open_event(db)
    register(db, event, 1)
    register(db, event, 2)
    link = f'href="/manage/coloc/events/{event.slug}/attendees"'
    events_list = organiser.client.get("/manage/coloc/events").text
    assert link in events_list and "Attendees (2)" in events_list
    edit_page = organiser.client.get(f"/manage/coloc/events/{event.slug}").text
    assert link in edit_page and "Attendees (2)" in edit_page


def test_search_by_name_or_email(organiser: Organiser, db: Database) -> None:
    event = open_event(db, capacity="")
    for n in ("ada", "bob", "carla"):
        register(db, event, n)
    by_name = organiser.client.get(url(event), params={"q": "person CARLA"}).text
    assert names_in(by_name) == ["Person carla"]
    by_email = organiser.client.get(url(event), params={"q": "bob@example"}).text
    assert names_in(by_email) == ["Person bob"]
    nothing = organiser.client.get(url(event), params={"q": "zzz"}).text
    assert names_in(nothing) == [] and "No registration matches" in nothing
    hostile = organiser.client.get(url(event), params={"q": "%_\\"}).text
    assert names_in(hostile) == []


def test_one_letter_searches_nothing_yet(organiser: Organiser, db: Database) -> None:
    event = open_event(db, capacity="")
    register(db, event, "ada")
    register(db, event, "bob")
    html = organiser.client.get(url(event), params={"q": "a"}).text
    assert names_in(html) == ["Person ada", "Person bob"]
    assert "at least 2 letters" in html


def test_htmx_search_returns_only_the_list(organiser: Organiser, db: Database) -> None:
    event = open_event(db, capacity="")
    register(db, event, "ada")
    register(db, event, "bob")
    response = organiser.client.get(url(event), params={"q": "ada"}, headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="attendees"')
    assert "<html" not in response.text
    assert names_in(response.text) == ["Person ada"]


def test_filter_by_status(organiser: Organiser, db: Database) -> None:
    event = open_event(db, capacity="1")
    register(db, event, 1)
    register(db, event, 2)
    register(db, event, 3)
    waiting = organiser.client.get(url(event), params={"status": "waitlisted"}).text
    assert names_in(waiting) == ["Person 2", "Person 3"]
    assert re.search(r'<option value="waitlisted" selected>', waiting)
    confirmed = organiser.client.get(url(event), params={"status": "confirmed"}).text
    assert names_in(confirmed) == ["Person 1"]
    unknown = organiser.client.get(url(event), params={"status": "nonsense"}).text
    assert len(names_in(unknown)) == 3


def test_the_waitlist_rank_is_shown(organiser: Organiser, db: Database) -> None:
    event = open_event(db, capacity="1")
    register(db, event, 1)
    register(db, event, 2)
    register(db, event, 3)
    html = organiser.client.get(url(event), params={"status": "waitlisted"}).text
    ranks = re.findall(
        r'reg-waitlisted">[^<]*</span></td>\s*<td data-label="Waiting list rank">(\d+)</td>', html
    )
    assert ranks == ["1", "2"]


def test_pages_of_fifty(organiser: Organiser, db: Database) -> None:
    event = open_event(db, capacity="")
    with db.transaction() as session:
        stored = session.get(Event, event.id)
        service = RegistrationService(session)
        for n in range(55):
            data = RegistrationInput(
                name=f"Person {n:02d}", email=f"p{n}@example.org", consent="on"
            )
            service.register(stored, data)
    first = organiser.client.get(url(event)).text
    assert len(names_in(first)) == 50 and names_in(first)[0] == "Person 00"
    assert "page 1 of 2" in first and 'href="' + url(event) + '?page=2"' in first
    second = organiser.client.get(url(event), params={"page": "2"}).text
    assert names_in(second) == [f"Person {n}" for n in range(50, 55)]
    searched = organiser.client.get(url(event), params={"q": "Person 5"}).text
    assert names_in(searched) == [f"Person {n}" for n in range(50, 55)]
    for odd in ("0", "-3", "abc", "99999999999999999999", "3"):
        response = organiser.client.get(url(event), params={"page": odd})
        assert response.status_code == 200, odd
        assert names_in(response.text), odd


# -- actions ----------------------------------------------------------------------------------
def test_approve_and_decline(organiser: Organiser, db: Database) -> None:
    event = open_event(db, requires_approval="on")
    first = register(db, event, 1)
    second = register(db, event, 2)
    html = organiser.client.get(url(event)).text
    assert count_of(html, "Pending").startswith("2")
    view = {"q": "", "status": "pending_approval", "page": "1"}
    response = organiser.client.submit(url(event, f"/{first}/approve"), view)
    assert response.status_code == 303
    assert response.headers["location"] == url(event) + "?status=pending_approval"
    assert status_of(db, first) is S.CONFIRMED and taken(db, event) == 1
    page = organiser.client.get(response.headers["location"]).text
    assert "Approved: Person 1 has a place." in page
    assert names_in(page) == ["Person 2"]
    again = organiser.client.submit(url(event, f"/{first}/approve"))
    assert again.status_code == 303 and taken(db, event) == 1  # approved once

    declined = organiser.client.submit(url(event, f"/{second}/decline"), headers=HTMX)
    assert declined.status_code == 200
    assert declined.text.lstrip().startswith('<section id="attendees"')
    assert "Declined: Person 2." in declined.text
    assert status_of(db, second) is S.DECLINED


def test_approving_when_full_joins_the_waitlist_or_is_refused(
    organiser: Organiser, db: Database
) -> None:
    event = open_event(db, capacity="1", requires_approval="on")
    first, second = register(db, event, 1), register(db, event, 2)
    organiser.client.submit(url(event, f"/{first}/approve"))
    assert "Person 1 has a place" in organiser.client.get(url(event)).text
    organiser.client.submit(url(event, f"/{second}/approve"))
    assert status_of(db, second) is S.WAITLISTED
    page = organiser.client.get(url(event)).text
    assert "the event is full: Person 2 is on the waiting list" in page

    closed = open_event(db, capacity="1", requires_approval="on", waitlist_enabled="")
    third, fourth = register(db, closed, 3), register(db, closed, 4)
    organiser.client.submit(url(closed, f"/{third}/approve"))
    organiser.client.get(url(closed))  # shows (and clears) the first message
    response = organiser.client.submit(url(closed, f"/{fourth}/approve"))
    assert response.status_code == 303
    assert "This event is full." in organiser.client.get(url(closed)).text
    assert status_of(db, fourth) is S.PENDING_APPROVAL


def test_cancel_on_someones_behalf_promotes_the_waitlist(
    organiser: Organiser, db: Database
) -> None:
    event = open_event(db, capacity="1")
    first, second = register(db, event, 1), register(db, event, 2)
    html = organiser.client.get(url(event)).text
    assert "Yes, cancel this registration" in html
    response = organiser.client.submit(url(event, f"/{first}/cancel"))
    assert response.status_code == 303
    assert status_of(db, first) is S.CANCELLED and status_of(db, second) is S.CONFIRMED
    page = organiser.client.get(url(event)).text
    assert "Registration of Person 1 cancelled. 1 party moved up from the waiting list." in page
    twice = organiser.client.submit(url(event, f"/{first}/cancel"))
    assert twice.status_code == 303 and taken(db, event) == 1


def test_move_from_the_waitlist(organiser: Organiser, db: Database) -> None:
    event = open_event(db, capacity="1", guest_allowance="1")
    register(db, event, 1)
    waiting = register(db, event, 2, guests=1)
    refused = organiser.client.submit(url(event, f"/{waiting}/promote"), headers=HTMX)
    assert refused.status_code == 200
    assert "Not enough free places for this party of 2" in refused.text
    assert status_of(db, waiting) is S.WAITLISTED
    with db.transaction() as session:  # places appear outside the rules (a manual fix)
        session.execute(update(Event).where(Event.id == event.id).values(capacity=4))
    moved = organiser.client.submit(url(event, f"/{waiting}/promote"))
    assert moved.status_code == 303
    assert status_of(db, waiting) is S.CONFIRMED and taken(db, event) == 3
    assert "moved from the waiting list" in organiser.client.get(url(event)).text


def test_change_guests(organiser: Organiser, db: Database) -> None:
    event = open_event(db, capacity="3", guest_allowance="2")
    first = register(db, event, 1)
    register(db, event, 2)
    ok = organiser.client.submit(url(event, f"/{first}/guests"), {"guests": "1"})
    assert ok.status_code == 303 and taken(db, event) == 3
    assert "Person 1 now comes with 1 guest." in organiser.client.get(url(event)).text

    too_many = organiser.client.submit(url(event, f"/{first}/guests"), {"guests": "2"})
    assert too_many.status_code == 400
    error = re.search(rf'id="guests-{first}-error" role="alert">([^<]+)<', too_many.text)
    assert error and "not enough places" in error.group(1).lower()
    assert "<html" in too_many.text  # the whole page again, without JavaScript
    assert taken(db, event) == 3

    through_htmx = organiser.client.submit(
        url(event, f"/{first}/guests"), {"guests": "9"}, headers=HTMX
    )
    assert through_htmx.status_code == 400
    assert through_htmx.text.lstrip().startswith('<section id="attendees"')
    assert re.search(rf'id="guests-{first}-error" role="alert">[^<]+<', through_htmx.text)
    empty = organiser.client.submit(url(event, f"/{first}/guests"))
    assert empty.status_code == 400


def test_an_unknown_or_foreign_registration_changes_nothing(
    organiser: Organiser, db: Database
) -> None:
    event = open_event(db)
    other = open_event(db, title="Another night")
    theirs = register(db, other, 1)
    for action in ("approve", "decline", "promote", "cancel", "guests"):
        response = organiser.client.submit(url(event, f"/{theirs}/{action}"))
        assert response.status_code == 303, action
    assert status_of(db, theirs) is S.CONFIRMED
    assert "no longer exists" in organiser.client.get(url(event)).text


def test_anonymised_registrations_show_no_personal_data(organiser: Organiser, db: Database) -> None:
    event = open_event(db)
    register(db, event, "secret")
    with db.transaction() as session:
        anonymise_past_registrations(session, now=event.ends_at + timedelta(days=91), after_days=90)
    html = organiser.client.get(url(event)).text
    assert "Anonymised attendee" in html and "secret" not in html
    assert count_of(html, "Confirmed people") == "1 of 3"


# -- the event form's registration settings ------------------------------------------------
def test_the_event_form_sets_the_registration_settings(organiser: Organiser, db: Database) -> None:
    event = open_event(db)
    edit = f"/manage/coloc/events/{event.slug}"
    page = organiser.client.get(edit).text
    assert re.search(r'id="f-waitlist_enabled"[^>]*checked', page)
    assert not re.search(r'id="f-requires_approval"[^>]*checked', page)
    form = {
        **EVENT,
        "requires_approval": "on",
        "confirm_email_first": "on",
        "guest_allowance": "4",
    }
    assert organiser.client.submit(edit, form).status_code == 303
    with db.session() as session:
        stored = session.get(Event, event.id)
        assert stored is not None
        assert (
            stored.waitlist_enabled,
            stored.requires_approval,
            stored.guest_allowance,
            stored.confirm_email_first,
        ) == (False, True, 4, True)
    page = organiser.client.get(edit).text
    assert re.search(r'id="f-requires_approval"[^>]*checked', page)
    assert not re.search(r'id="f-waitlist_enabled"[^>]*checked', page)
    assert 'id="f-guest_allowance" name="guest_allowance" type="number" value="4"' in page


def test_the_new_event_form_offers_the_waitlist_by_default(organiser: Organiser) -> None:
    page = organiser.client.get("/manage/coloc/events/new").text
    assert re.search(r'id="f-waitlist_enabled"[^>]*checked', page)


def test_invalid_settings_are_shown_next_to_their_field(organiser: Organiser, db: Database) -> None:
    event = open_event(db)
    response = organiser.client.submit(
        f"/manage/coloc/events/{event.slug}", {**EVENT, "guest_allowance": "50"}
    )
    assert response.status_code == 400
    match = re.search(r'<p class="error" id="f-guest_allowance-error">([^<]*)</p>', response.text)
    assert match and match.group(1).strip()


def test_capacity_below_the_confirmed_people_is_explained_next_to_the_field(
    organiser: Organiser, db: Database
) -> None:
    event = open_event(db, capacity="10")
    for n in range(3):
        register(db, event, n)
    response = organiser.client.submit(
        f"/manage/coloc/events/{event.slug}", {**EVENT, "capacity": "2", "title": "Changed"}
    )
    assert response.status_code == 400
    match = re.search(r'<p class="error" id="f-capacity-error">([^<]*)</p>', response.text)
    assert match and "capacity cannot be lower" in match.group(1)
    with db.session() as session:
        stored = session.get(Event, event.id)
        assert stored is not None and stored.capacity == 10 and stored.title == "Pitch night"


# -- CSV ---------------------------------------------------------------------------------------
def test_csv_exports_neutralise_formulas(organiser: Organiser, db: Database) -> None:
    event = open_event(db, capacity="1", guest_allowance="1")
    register(db, event, 1, name='=HYPERLINK("x")', opt_in="on")
    register(db, event, 2, guests=1, name="Zoé, Dupont")
    standard = organiser.client.get(url(event, ".csv"))
    assert standard.status_code == 200
    assert standard.headers["content-type"].startswith("text/csv")
    disposition = standard.headers["content-disposition"]
    assert disposition == f'attachment; filename="attendees-{event.slug}.csv"'
    assert "no-store" in standard.headers["cache-control"]
    body = standard.content
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8").lstrip("\ufeff").split("\r\n")
    assert lines[0] == "Name,E-mail,Guests,Status,Waiting list position,Registered at,Opt-in"
    assert lines[1].startswith('"\'=HYPERLINK(""x"")",person1@example.org,0,Confirmed,,')
    assert lines[1].endswith(",yes")
    assert lines[2].startswith('"Zoé, Dupont",person2@example.org,1,Waiting list,1,')

    for french in (url(event, "-fr.csv"), url(event, ".csv") + "?variant=excel-fr"):
        response = organiser.client.get(french)
        assert response.status_code == 200
        assert (
            'filename="attendees-' + event.slug + '-excel-fr.csv"'
            in (response.headers["content-disposition"])
        )
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeffName;E-mail;Guests;")
        assert '\r\n"\'=HYPERLINK(""x"")";person1@example.org;0;Confirmed;;' in text
        assert "\r\nZoé, Dupont;person2@example.org;1;Waiting list;1;" in text


# -- who may see it --------------------------------------------------------------------------
def test_another_communitys_owner_gets_404(client: Client, make: Factories, db: Database) -> None:
    make.community(slug="coloc")
    event = open_event(db)
    registration = register(db, event, 1)
    stranger = make.user()
    make.community(owner=stranger, slug="theirs")
    client.login_as(db, stranger)
    for path in ("", ".csv", "-fr.csv"):
        assert client.get(url(event, path)).status_code == 404, path
        assert client.get(url(event, path, community="theirs")).status_code == 404, path
    for action in ("approve", "decline", "promote", "cancel", "guests"):
        assert client.submit(url(event, f"/{registration}/{action}")).status_code == 404
        response = client.submit(url(event, f"/{registration}/{action}", community="theirs"))
        assert response.status_code == 404
    assert status_of(db, registration) is S.CONFIRMED


def test_a_door_volunteer_gets_403(client: Client, make: Factories, db: Database) -> None:
    community = make.community(slug="coloc")
    event = open_event(db)
    registration = register(db, event, 1)
    client.login_as(db, make.member(community, role=Role.DOOR))
    for path in ("", ".csv", "-fr.csv"):
        assert client.get(url(event, path)).status_code == 403, path
    for action in ("approve", "decline", "promote", "cancel", "guests"):
        assert client.submit(url(event, f"/{registration}/{action}")).status_code == 403
    assert status_of(db, registration) is S.CONFIRMED


def test_a_co_organiser_may_manage_attendees(client: Client, make: Factories, db: Database) -> None:
    community = make.community(slug="coloc")
    event = open_event(db)
    registration = register(db, event, 1)
    client.login_as(db, make.member(community, role=Role.ORGANISER))
    assert client.get(url(event)).status_code == 200
    assert client.submit(url(event, f"/{registration}/cancel")).status_code == 303
    assert status_of(db, registration) is S.CANCELLED
    with db.session() as session:
        rows = session.execute(select(Registration.status)).scalars().all()
    assert rows == [S.CANCELLED]


def test_after_the_event_organisers_cannot_cancel_either(
    organiser: Organiser, db: Database
) -> None:
    """The bug that one home for the lifecycle rule fixed: an organiser cancelled a checked-in
    (then anonymised) registration after the event, and the door's report said "came 0 of 1"
    while its log and arrival chart still showed the admission."""
    event = open_event(db, capacity="3")
    registration_id = register(db, event, 1)
    with db.transaction() as session:
        stored = session.get(Event, event.id)
        row = session.get(Registration, registration_id)
        assert stored is not None and row is not None
        now = utcnow()
        stored.starts_at, stored.ends_at = now - timedelta(hours=4), now + timedelta(hours=1)
        scan = scan_input({"scanned": row.ticket_code, "nonce": "came-in-at-door"}, now=now)
        admitted = DoorService(session).check_in(stored, scan)
        assert admitted.verdict is Verdict.ADMITTED
    with db.transaction() as session:
        stored = session.get(Event, event.id)
        assert stored is not None
        stored.ends_at = utcnow() - timedelta(hours=1)
    with db.transaction() as session:
        stored = session.get(Event, event.id)
        assert stored is not None
        anonymise_past_registrations(
            session, now=stored.ends_at + timedelta(days=91), after_days=90
        )
    for action in ("cancel", "decline"):
        response = organiser.client.submit(url(event, f"/{registration_id}/{action}"), headers=HTMX)
        assert response.status_code == 200
        assert "Someone of this party was already let in at the door" in response.text
        assert status_of(db, registration_id) is S.CONFIRMED
    with db.session() as session:
        stored = session.get(Event, event.id)
        assert stored is not None
        report = DoorService(session).report(stored, now=utcnow())
    assert (report.registered_people, report.attended_people) == (1, 1)
    assert taken(db, event) == 1


def test_a_walk_in_without_an_address_shows_no_made_up_one(
    organiser: Organiser, db: Database
) -> None:
    """Issue 14, item 20: "no e-mail" in the list, an empty cell in the CSV; the stand-in
    address the door gave the walk-in never appears."""
    event = open_event(db)
    register(db, event, 1)
    result = walk_in(db, event, "Walker Without Mail")
    assert result.ok
    with db.session() as session:
        stored = session.scalars(
            select(Registration.email).where(Registration.name == "Walker Without Mail")
        ).one()
    assert stored.endswith(".invalid")  # the stand-in is there, under the reserved TLD
    page = organiser.client.get(url(event)).text
    email_cell = '<td class="email" data-label="E-mail">'
    assert f'{email_cell}<span class="muted">no e-mail</span></td>' in page
    assert f"{email_cell}person1@example.org</td>" in page
    for suffix in (".csv", "-fr.csv"):
        text = organiser.client.get(url(event, suffix)).content.decode("utf-8")
        assert ".invalid" not in text and "person1@example.org" in text
    line = next(
        line
        for line in organiser.client.get(url(event, ".csv")).text.split("\r\n")
        if line.startswith("Walker Without Mail")
    )
    assert line.startswith("Walker Without Mail,,0,Confirmed,")
    assert ".invalid" not in page
