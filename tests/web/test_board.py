"""The open-space board over HTTP: the organiser's set-up, the participant's phone (forms and
JSON), the projector, the public board, the live stream, joining with a ticket, and the
facilitators' forms (no JavaScript) with their access rules."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.models import BoardTopic, DoorLink, Event, Follow, ProgrammeItem, Role
from events.services import follows
from events.services.board_topics import BoardTopics, TopicInput, participant
from events.services.door_links import DoorLinkService
from events.services.registrations import RegistrationInput, RegistrationService
from tests.factories import Factories, OpenSpace
from tests.web.conftest import Client


@pytest.fixture
def space(make: Factories) -> OpenSpace:
    return make.open_space(participants=3)


def post_topic(db: Database, space: OpenSpace, n: int, title: str, **fields: str) -> UUID:
    with db.transaction() as session:
        who = participant(session, space.tickets[n])
        return BoardTopics(session).post(who, TopicInput(title=title, **fields)).id


def facilitator_link(db: Database, space: OpenSpace, role: Role = Role.FACILITATOR) -> str:
    with db.transaction() as session:
        event = session.get(Event, space.event_id)
        assert event is not None
        _link, token = DoorLinkService(session).create(
            event, label="Sam", created_by=space.registrations[0], role=role
        )
    return token


def sse_events(body: str) -> list[tuple[str, dict[str, object]]]:
    found = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


# -- the participant's phone ------------------------------------------------------------
def test_a_ticket_opens_its_board_and_posts_a_topic(
    client: Client, db: Database, space: OpenSpace
) -> None:
    base = f"/t/{space.tickets[0]}/board"
    page = client.get(base + "/")
    assert page.status_code == 200
    assert "no-referrer" in page.headers["referrer-policy"]
    assert "Post a topic" in page.text
    response = client.submit(
        base + "/topics",
        {"title": "<script>alert(1)</script> Rust", "summary": "Ownership", "kind": "workshop"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == base + "#board-mine"
    page = client.get(base + "/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Rust" in page.text
    assert "<script>alert(1)" not in page.text


def test_a_bad_topic_is_answered_with_field_errors_and_changes_nothing(
    client: Client, db: Database, space: OpenSpace
) -> None:
    response = client.submit(
        f"/t/{space.tickets[0]}/board/topics", {"title": "", "kind": "party", "summary": "a\nb\nc"}
    )
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert "Keep it to one or two lines." in response.text
    with db.session() as session:
        assert session.scalars(select(BoardTopic)).all() == []


def test_the_post_limit_is_said_on_the_page(client: Client, db: Database, space: OpenSpace) -> None:
    post_topic(db, space, 0, "One")
    post_topic(db, space, 0, "Two")
    page = client.get(f"/t/{space.tickets[0]}/board/")
    assert "that is the limit per person" in page.text
    response = client.submit(f"/t/{space.tickets[0]}/board/topics", {"title": "Three"})
    assert response.status_code == 409
    assert "as many topics as one person may here (2)" in response.text


def test_marks_by_form_and_by_json(client: Client, db: Database, space: OpenSpace) -> None:
    topic = post_topic(db, space, 0, "Rust")
    base = f"/t/{space.tickets[1]}/board"
    response = client.submit(f"{base}/topics/{topic}/mark", {"mark": "interested"})
    assert response.status_code == 303 and response.headers["location"] == f"{base}#topic-{topic}"
    page = client.get(base + "/")
    assert 'value="none" class="board-mark board-mark-interested" aria-pressed="true"' in page.text
    answer = client.post(
        f"{base}/topics/{topic}/mark",
        data={"mark": "not_for_me"},
        headers={"x-csrftoken": client.csrf_token(), "accept": "application/json"},
    )
    assert answer.status_code == 200
    assert answer.json()["mark"] == "not_for_me" and answer.json()["topic"] == str(topic)
    refused = client.post(
        f"/t/{space.tickets[0]}/board/topics/{topic}/mark",
        data={"mark": "interested"},
        headers={"x-csrftoken": client.csrf_token(), "accept": "application/json"},
    )
    assert refused.status_code == 409 and refused.json()["code"] == "own_topic"
    bad = client.post(
        f"{base}/topics/{topic}/mark",
        data={"mark": "love"},
        headers={"x-csrftoken": client.csrf_token(), "accept": "application/json"},
    )
    assert bad.status_code == 400 and "mark" in bad.json()["errors"]


def test_reports_from_three_tickets_hide_a_topic(
    client: Client, db: Database, space: OpenSpace
) -> None:
    topic = post_topic(db, space, 0, "Buy cheap watches")
    with db.transaction() as session:
        event = session.get(Event, space.event_id)
        assert event is not None
        fourth = RegistrationService(session).register(
            event, RegistrationInput(name="Dee Four", email="dee@example.org", consent="on")
        )
        tickets = [*space.tickets, fourth.registration.ticket_code]
    page = client.get(f"/t/{tickets[1]}/board/")
    assert f'action="/t/{tickets[1]}/board/topics/{topic}/report"' in page.text
    own = client.submit(f"/t/{tickets[0]}/board/topics/{topic}/report")
    assert own.status_code == 303
    assert "This is your own topic" in client.get(own.headers["location"].split("#")[0]).text
    for ticket in tickets[1:]:
        answer = client.submit(f"/t/{ticket}/board/topics/{topic}/report")
        assert answer.status_code == 303
        if ticket == tickets[2]:  # two reports: still there, and the facilitators see them
            client.get(f"/door/{space.slug}/link/{facilitator_link(db, space)}")
            assert "2 reports" in client.get(f"/e/{space.slug}/board/facilitate/").text
    assert "your report is counted" in client.get(f"/t/{tickets[3]}/board/").text
    with db.session() as session:
        assert session.get(BoardTopic, topic).hidden  # type: ignore[union-attr]
    assert "Buy cheap watches" not in client.get(f"/e/{space.slug}/board/").text


def test_an_unknown_ticket_has_no_board(client: Client, space: OpenSpace) -> None:
    assert client.get("/t/not-a-ticket/board/").status_code == 404
    response = client.submit("/t/not-a-ticket/board/topics", {"title": "x"})
    assert response.status_code == 404


def test_withdrawing_and_notes(client: Client, db: Database, space: OpenSpace) -> None:
    topic = post_topic(db, space, 0, "Mine")
    base = f"/t/{space.tickets[0]}/board"
    notes = client.submit(f"{base}/topics/{topic}/notes", {"notes": "too early"})
    assert notes.status_code == 303
    assert "Notes can be written once the session has begun." in client.get(base + "/").text
    response = client.submit(f"{base}/topics/{topic}/withdraw")
    assert response.status_code == 303
    with db.session() as session:
        assert session.get(BoardTopic, topic) is None


def test_following_a_topic_from_the_ticket_and_stopping_from_the_mail_link(
    client: Client, db: Database, space: OpenSpace
) -> None:
    topic = post_topic(db, space, 0, "Offline maps")
    base = f"/t/{space.tickets[1]}/board"
    page = client.get(base + "/")
    assert 'id="board-follow"' in page.text
    assert f'action="{base}/topics/{topic}/follow"' in page.text
    response = client.submit(f"{base}/topics/{topic}/follow")
    assert response.status_code == 303
    assert response.headers["location"] == base + "#board-follow"
    page = client.get(base + "/")
    assert "You follow it: we will e-mail you its notes." in page.text
    assert f'action="{base}/topics/{topic}/unfollow"' in page.text
    # Its host is not offered to follow their own topic.
    own = client.get(f"/t/{space.tickets[0]}/board/")
    assert f"/topics/{topic}/follow" not in own.text
    with db.session() as session:
        [row] = session.scalars(select(Follow)).all()
        page_path = follows.unsubscribe_path(session, row)
    follower = client.get(page_path)
    assert follower.status_code == 200
    assert f'href="/e/{space.slug}/board#topic-{topic}"' in follower.text
    assert "Offline maps" in follower.text
    stopped = client.submit(page_path + "/stop")
    assert stopped.status_code == 303
    assert stopped.headers["location"] == f"/e/{space.slug}/board#topic-{topic}"
    with db.session() as session:
        assert session.scalars(select(Follow)).all() == []


# -- joining with a ticket ----------------------------------------------------------------
def test_the_poster_asks_for_the_ticket(client: Client, space: OpenSpace) -> None:
    assert client.get(f"/e/{space.slug}/board/join").status_code == 200
    wrong = client.submit(f"/e/{space.slug}/board/join", {"ticket": "nope"})
    assert wrong.status_code == 400
    assert "This is not a ticket for this event." in wrong.text
    right = client.submit(
        f"/e/{space.slug}/board/join",
        {"ticket": f"https://example.org/t/{space.tickets[1].upper()}"},
    )
    assert right.status_code == 303
    assert right.headers["location"] == f"/t/{space.tickets[1]}/board"
    poster = client.get(f"/e/{space.slug}/board/poster")
    assert f"/e/{space.slug}/board/join-qr.svg" in poster.text
    qr = client.get(f"/e/{space.slug}/board/join-qr.svg")
    assert qr.headers["content-type"].startswith("image/svg+xml")


def test_a_ticket_of_another_event_does_not_join(
    client: Client, make: Factories, space: OpenSpace
) -> None:
    other = make.open_space(participants=1)
    response = client.submit(f"/e/{space.slug}/board/join", {"ticket": other.tickets[0]})
    assert response.status_code == 400


# -- the projector and the public board ----------------------------------------------------
def test_the_projector_shows_the_grid_with_first_names_only_when_chosen(
    client: Client, db: Database, space: OpenSpace
) -> None:
    shown = post_topic(db, space, 0, "Shown", show_host="on")
    post_topic(db, space, 1, "Not shown")
    client.login_as(db, _owner(db, space))
    client.submit(
        f"/e/{space.slug}/board/facilitate/topics/{shown}/place",
        {"cell": f"{space.slots[0]}:{space.rooms[0]}"},
    )
    screen = client.get(f"/e/{space.slug}/board/screen")
    assert screen.status_code == 200
    assert "Participant1" in screen.text and "Surname" not in screen.text
    assert "Participant2" not in screen.text
    assert "participant1-" not in screen.text  # no e-mail address, ever
    assert "<form" not in screen.text  # no controls on the projector
    assert f"/e/{space.slug}/board/join-qr.svg" in screen.text
    public = client.get(f"/e/{space.slug}/board/")
    assert "Shown" in public.text and "Not shown" in public.text


def test_the_live_stream_sends_the_view(client: Client, db: Database, space: OpenSpace) -> None:
    post_topic(db, space, 0, "Live topic")
    response = client.get(f"/e/{space.slug}/board/live?view=screen")
    assert response.headers["content-type"].startswith("text/event-stream")
    [(name, data)] = sse_events(response.text)
    assert name == "board"
    assert "Live topic" in str(data["html"])
    assert isinstance(data["v"], int)
    assert client.get(f"/e/{space.slug}/board/live?view=facilitate").status_code == 404


def test_a_board_that_is_off_is_not_there(client: Client, db: Database, space: OpenSpace) -> None:
    client.login_as(db, _owner(db, space))
    community = _community_slug(db, space)
    assert client.submit(f"/manage/{community}/events/{space.slug}/board/off").status_code == 303
    client.cookies.clear()
    assert client.get(f"/e/{space.slug}/board/").status_code == 404
    assert client.get(f"/t/{space.tickets[0]}/board/").status_code == 404


def test_the_ticket_the_private_page_and_the_event_page_lead_to_the_board(
    client: Client, db: Database, space: OpenSpace
) -> None:
    with db.transaction() as session:
        event = session.get(Event, space.event_id)
        assert event is not None
        registered = RegistrationService(session).register(
            event,
            RegistrationInput(name="Late Comer", email="late@example.org", consent="on"),
        )
        code, token = registered.registration.ticket_code, registered.manage_token
    to_board = f'href="/t/{code}/board"'
    assert to_board in client.get(f"/t/{code}").text
    assert to_board in client.get(f"/r/{token}").text
    assert f'href="/e/{space.slug}/board"' in client.get(f"/e/{space.slug}").text
    client.login_as(db, _owner(db, space))
    community = _community_slug(db, space)
    assert client.submit(f"/manage/{community}/events/{space.slug}/board/off").status_code == 303
    client.cookies.clear()
    assert to_board not in client.get(f"/t/{code}").text
    assert to_board not in client.get(f"/r/{token}").text
    assert "/board" not in client.get(f"/e/{space.slug}").text


# -- the facilitators ---------------------------------------------------------------------
def test_the_no_javascript_facilitator_form_places_pins_and_refuses_clearly(
    client: Client, db: Database, space: OpenSpace
) -> None:
    first = post_topic(db, space, 0, "First")
    second = post_topic(db, space, 1, "Second")
    client.login_as(db, _owner(db, space))
    here = f"/e/{space.slug}/board/facilitate"
    page = client.get(here + "/")
    assert page.status_code == 200 and "Move or change" in page.text
    cell = f"{space.slots[0]}:{space.rooms[0]}"
    placed = client.submit(f"{here}/topics/{first}/place", {"cell": cell})
    assert placed.status_code == 303
    assert "Topic placed." in client.get(here + "/").text
    taken = client.submit(f"{here}/topics/{second}/place", {"cell": cell})
    assert taken.status_code == 303
    assert "Another topic is already in this cell." in client.get(here + "/").text
    client.submit(f"{here}/topics/{first}/pin", {"value": "on"})
    client.submit(f"{here}/topics/{first}/unplace")
    assert "This topic is pinned" in client.get(here + "/").text
    with db.session() as session:
        [item] = session.scalars(select(ProgrammeItem)).all()
        assert item.title == "First"
    garbage = client.submit(f"{here}/topics/{second}/place", {"cell": "x:y"})
    assert garbage.status_code == 303
    assert "not on the board" in client.get(here + "/").text


def test_the_facilitator_script_gets_json(client: Client, db: Database, space: OpenSpace) -> None:
    topic = post_topic(db, space, 0, "Dragged")
    client.login_as(db, _owner(db, space))
    here = f"/e/{space.slug}/board/facilitate"
    headers = {"x-csrftoken": client.csrf_token(), "accept": "application/json"}
    data = {"slot": str(space.slots[1]), "room": str(space.rooms[2])}
    answer = client.post(f"{here}/topics/{topic}/place", data=data, headers=headers)
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    freeze = f"{here}/slots/{space.slots[1]}/freeze"
    frozen = client.post(freeze, data={"value": "on"}, headers=headers)
    assert frozen.status_code == 200
    refused = client.post(f"{here}/topics/{topic}/unplace", headers=headers)
    assert refused.status_code == 409 and refused.json()["code"] == "slot_frozen"
    suggest = client.post(f"{here}/suggest", headers=headers)
    assert suggest.status_code == 200


def test_a_facilitator_link_opens_the_board_but_not_the_door(
    client: Client, db: Database, space: OpenSpace
) -> None:
    token = facilitator_link(db, space)
    opened = client.get(f"/door/{space.slug}/link/{token}", follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/e/{space.slug}/board/facilitate"
    assert client.get(f"/e/{space.slug}/board/facilitate/").status_code == 200
    assert client.get(f"/door/{space.slug}/", follow_redirects=False).status_code in {401, 303}


def test_a_door_link_does_not_facilitate(client: Client, db: Database, space: OpenSpace) -> None:
    token = facilitator_link(db, space, Role.DOOR)
    client.get(f"/door/{space.slug}/link/{token}")
    response = client.get(f"/e/{space.slug}/board/facilitate/", follow_redirects=False)
    assert response.status_code == 401
    assert "Facilitators only" in response.text


def test_a_revoked_facilitator_link_is_gone(client: Client, db: Database, space: OpenSpace) -> None:
    token = facilitator_link(db, space)
    client.get(f"/door/{space.slug}/link/{token}")
    with db.transaction() as session:
        link = session.scalars(select(DoorLink)).one()
        link.revoked_at = utcnow() - timedelta(seconds=1)
    response = client.get(f"/e/{space.slug}/board/facilitate/")
    assert response.status_code == 410


def test_facilitator_members_facilitate_and_door_members_do_not(
    client: Client, db: Database, make: Factories, space: OpenSpace
) -> None:
    with db.session() as session:
        community = session.get(Event, space.event_id).community  # type: ignore[union-attr]
    facilitator = make.member(community, role=Role.FACILITATOR)
    door = make.member(community, role=Role.DOOR)
    client.login_as(db, facilitator)
    assert client.get(f"/e/{space.slug}/board/facilitate/").status_code == 200
    assert client.get(f"/door/{space.slug}/").status_code == 404
    page = client.get(f"/manage/{community.slug}")
    assert page.status_code == 200 and f"/e/{space.slug}/board/facilitate" in page.text
    client.login_as(db, door)
    assert client.get(f"/e/{space.slug}/board/facilitate/").status_code == 404


# -- the organiser's set-up -------------------------------------------------------------------
def test_the_organiser_sets_the_board_up(
    client: Client, db: Database, make: Factories, space: OpenSpace
) -> None:
    client.login_as(db, _owner(db, space))
    here = f"/manage/{_community_slug(db, space)}/events/{space.slug}/board"
    assert "Add a room" in client.get(here + "/").text
    assert client.submit(here + "/rooms", {"name": "Patio", "capacity": "12"}).status_code == 303
    duplicate = client.submit(here + "/rooms", {"name": "patio", "capacity": "12"})
    assert duplicate.status_code == 400 and "already has a room" in duplicate.text
    bad_slot = client.submit(here + "/slots", {"start_time": "19:45", "minutes": "30"})
    assert bad_slot.status_code == 400 and "overlaps" in bad_slot.text
    pause = client.submit(
        here + "/slots", {"start_time": "22:00", "minutes": "15", "common_label": "Pause"}
    )
    assert pause.status_code == 303
    settings = client.submit(
        here + "/settings",
        {"posting_opens": "at", "posting_opens_local": "", "topics_per_person": "3"},
    )
    assert settings.status_code == 400
    saved = client.submit(
        here + "/settings",
        {"posting_opens": "start", "topics_per_person": "3", "freeze_minutes": "10"},
    )
    assert saved.status_code == 303
    page = client.get(here + "/")
    assert "Patio" in page.text and "Pause" in page.text


def _owner(db: Database, space: OpenSpace):  # type: ignore[no-untyped-def]
    from events.models import Membership, User

    with db.session() as session:
        event = session.get(Event, space.event_id)
        assert event is not None
        return session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == event.community_id, Membership.role == Role.OWNER)
        ).one()


def _community_slug(db: Database, space: OpenSpace) -> str:
    with db.session() as session:
        event = session.get(Event, space.event_id)
        assert event is not None
        return event.community.slug
