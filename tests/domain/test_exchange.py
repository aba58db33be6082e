"""Offers & needs: who sees what, the double opt-in, limits, expiry, blocking, erasure.

The helpers at the top are shared with the concurrency test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from events.database import Database
from events.errors import Conflict, NotFound, ValidationFailed
from events.models import (
    Community,
    ContactState,
    Event,
    ExchangeBoard,
    ExchangeContact,
    ExchangeListing,
    ExchangeParticipant,
    Registration,
    Series,
)
from events.services.exchange_access import Seat, enter, public_board, seat_of, seat_of_link
from events.services.exchange_boards import BoardSettings, ExchangeBoardService
from events.services.exchange_categories import CategoryInput, FieldInput
from events.services.exchange_contacts import (
    NO_MATCH_AFTER,
    REQUESTS_PER_PERSON,
    answer,
    block,
    contacts_of,
    matches,
    request_contact,
    requester_sees,
    withdraw,
)
from events.services.exchange_listings import ListingInput, ListingService
from events.services.exchange_matching import Filters
from events.services.exchange_privacy import expire_listings
from events.services.personal_data import export_personal_data
from events.services.privacy import anonymise_past_registrations
from events.services.registrations import RegistrationService
from events.services.series import SeriesInput, SeriesService
from events.tokens import new_token
from tests.domain.test_registrations import act, open_event, person, register
from tests.factories import Factories


# -- helpers (also used by the concurrency test) ----------------------------------------
def flat_share_board(db: Database, make: Factories, **event_settings: Any) -> Event:
    """A published flat-share evening with offers & needs on (the preset, in English)."""
    event = open_event(db, make, **event_settings)
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        ExchangeBoardService(session).switch_on(
            loaded.community, event=loaded, preset_id="flat_share", locale="en"
        )
    return event


def before(event: Event) -> datetime:
    """A moment a day before the event starts."""
    return event.starts_at - timedelta(days=1)


def attendee(db: Database, event: Event, n: int | str, **overrides: Any) -> Registration:
    return register(db, event, person(n, **overrides)).registration


@contextmanager
def seated(
    db: Database, registration: Registration, now: datetime
) -> Iterator[tuple[Session, Seat]]:
    with db.transaction() as session:
        loaded = session.get(Registration, registration.id)
        assert loaded is not None
        yield session, seat_of(session, loaded, now)


def post(
    db: Database,
    registration: Registration,
    now: datetime,
    *,
    side: str = "offer",
    category: str = "room",
    text: str = "A sunny room near the canal",
    **fields: Any,
) -> UUID:
    with seated(db, registration, now) as (session, seat):
        listing = ListingService(session).post(
            seat, ListingInput(category=category, side=side, text=text, fields=fields), now
        )
        return listing.id


def board_of(db: Database, registration: Registration, now: datetime, **filters: Any) -> list[str]:
    """The texts of the listings the registrant finds on the board."""
    with seated(db, registration, now) as (session, seat):
        view = ListingService(session).board(
            seat.board, now, viewer=seat, filters=Filters(**filters)
        )
        return [scored.listing.text for scored in view.found]


def ask(
    db: Database,
    registration: Registration,
    listing_id: UUID,
    now: datetime,
    message: str = "Hello!",
) -> UUID:
    with seated(db, registration, now) as (session, seat):
        return request_contact(session, seat, listing_id, message, now).id


def reply(
    db: Database, registration: Registration, contact_id: UUID, now: datetime, *, accept: bool
) -> str:
    with seated(db, registration, now) as (session, seat):
        return answer(session, seat, contact_id, accept=accept, now=now).state


def lines(db: Database, registration: Registration, now: datetime) -> list[Any]:
    with seated(db, registration, now) as (session, seat):
        return contacts_of(session, seat, now)


def profile(db: Database, registration: Registration, now: datetime, **values: Any) -> None:
    with seated(db, registration, now) as (session, seat):
        participant = enter(session, seat, now, visit=False).require_participant()
        for name, value in values.items():
            setattr(participant, name, value)


@contextmanager
def series_of_evenings(
    db: Database, make: Factories, title: str
) -> Iterator[tuple[Session, Community, Series]]:
    """A published series of a new community starting 2027-01-01, in one transaction."""
    community = make.community()
    with db.transaction() as session:
        loaded = session.get(Community, community.id)
        assert loaded is not None
        series = SeriesService(session).create(
            loaded,
            SeriesInput(title=title, starts_on="2027-01-01", publish="on"),
            today=datetime(2027, 1, 1).date(),
        )
        yield session, loaded, series


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def evening(db: Database, make: Factories) -> tuple[Event, Registration, Registration]:
    """A flat-share evening, Ada offering a room and Bob seeking one."""
    event = flat_share_board(db, make)
    ada, bob = attendee(db, event, "ada"), attendee(db, event, "bob")
    now = before(event)
    post(
        db,
        ada,
        now,
        text="Room in Belleville",
        f_area="Belleville",
        f_area_postcode="75020",
        f_budget_min="600",
        f_budget_max="600",
    )
    post(
        db,
        bob,
        now,
        side="need",
        text="Seeking a room, east Paris",
        f_area="Belleville",
        f_budget_min="500",
        f_budget_max="700",
    )
    return event, ada, bob


# -- visibility ---------------------------------------------------------------------------
def test_ticket_holders_see_each_others_listings_not_their_own(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    now = before(event)
    assert board_of(db, ada, now) == ["Seeking a room, east Paris"]
    assert board_of(db, bob, now) == ["Room in Belleville"]
    with seated(db, ada, now) as (session, seat):
        assert [view.text for view in ListingService(session).mine(seat)] == ["Room in Belleville"]


def test_a_waitlisted_registrant_takes_part(db: Database, make: Factories) -> None:
    event = flat_share_board(db, make, capacity="1")
    attendee(db, event, "first")
    waiting = attendee(db, event, "second")
    assert waiting.status.value == "waitlisted"
    post(db, waiting, before(event), text="Waiting, and seeking a room", side="need")
    assert board_of(db, attendee(db, event, "third"), before(event)) == [
        "Waiting, and seeking a room"
    ]


@pytest.mark.parametrize("state", ["cancelled", "pending_approval", "declined"])
def test_a_registration_without_a_place_has_no_seat(
    db: Database, make: Factories, state: str
) -> None:
    event = flat_share_board(db, make, requires_approval=state != "cancelled")
    registration = attendee(db, event, "nobody")
    if state == "cancelled":
        act(db, registration.id, "cancel")
    elif state == "declined":
        act(db, registration.id, "decline")
    with pytest.raises(Conflict) as refused, seated(db, registration, before(event)):
        pass
    assert refused.value.code == "exchange_no_place"


def test_a_cancelled_authors_listings_leave_the_board(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    act(db, ada.id, "cancel")
    assert board_of(db, bob, before(event)) == []


def test_another_events_ticket_sees_only_its_own_board(
    db: Database, make: Factories, evening: tuple[Event, Registration, Registration]
) -> None:
    event, _ada, _bob = evening
    other = flat_share_board(db, make)
    stranger = attendee(db, other, "stranger")
    assert board_of(db, stranger, before(event)) == []
    without_board = open_event(db, make)
    outsider = attendee(db, without_board, "outsider")
    with pytest.raises(NotFound), seated(db, outsider, before(event)):
        pass


def test_listing_ids_of_another_board_are_not_found(
    db: Database, make: Factories, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, _bob = evening
    listing_id = post(db, ada, before(event), text="Another room")
    stranger = attendee(db, flat_share_board(db, make), "stranger")
    with pytest.raises(NotFound):
        ask(db, stranger, listing_id, before(event))
    with seated(db, stranger, before(event)) as (session, seat), pytest.raises(NotFound):
        ListingService(session).one_visible(seat.board, listing_id, before(event), viewer=seat)


def test_an_anonymised_registration_sees_nothing_and_leaves_nothing(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    contact = ask(db, bob, _listing_of(db, ada), before(event))
    reply(db, ada, contact, before(event), accept=True)
    with db.transaction() as session:
        anonymise_past_registrations(session, now=event.ends_at + timedelta(days=91))
    for model in (ExchangeParticipant, ExchangeListing, ExchangeContact):
        assert count(db, model) == 0
    with db.session() as session:
        anonymous = session.get(Registration, ada.id)
        assert anonymous is not None
        # Its status is still "confirmed": it must not give a seat for all that.
        assert anonymous.status.value == "confirmed"
        with pytest.raises(Conflict):
            seat_of(session, anonymous, before(event))


def test_erasing_my_data_removes_my_listings_and_requests(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    ask(db, bob, _listing_of(db, ada), before(event))
    with db.transaction() as session:
        loaded = session.get(Registration, bob.id)
        assert loaded is not None
        RegistrationService(session).erase(loaded)
    assert board_of(db, ada, before(event)) == []
    assert lines(db, ada, before(event)) == []
    assert count(db, ExchangeParticipant) == 1


def test_my_data_export_holds_my_listings_and_never_a_refusal(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    contact = ask(db, bob, _listing_of(db, ada), before(event), message="May I visit?")
    reply(db, ada, contact, before(event), accept=False)
    with db.session() as session:
        loaded = session.get(Registration, bob.id)
        assert loaded is not None
        data = export_personal_data(
            session, loaded, base_url="http://x", retention_days=90, now=before(event)
        )
    exchange = data["offers_and_needs"]
    assert [item["text"] for item in exchange["listings"]] == ["Seeking a room, east Paris"]
    assert exchange["requests"] == [
        {
            "direction": "sent",
            "about": "Room offered: Room in Belleville",
            "message": "May I visit?",
            "state": "sent",
            "at": exchange["requests"][0]["at"],
        }
    ]


def test_a_private_board_is_not_public_until_the_organisers_say_so(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, _ada, _bob = evening
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        with pytest.raises(NotFound):
            public_board(session, loaded, before(event))
        board = session.scalar(select(ExchangeBoard))
        assert board is not None
        ExchangeBoardService(session).configure(board, BoardSettings(public="on", expire_days="14"))
    with db.session() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        board = public_board(session, loaded, before(event))
        texts = {view.text for view in ListingService(session).visible(board, before(event))}
    assert texts == {"Room in Belleville", "Seeking a room, east Paris"}


def test_a_board_switched_off_is_gone_for_everyone(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, _bob = evening
    with db.transaction() as session:
        board = session.scalar(select(ExchangeBoard))
        assert board is not None
        ExchangeBoardService(session).switch_off(board)
    with pytest.raises(NotFound), seated(db, ada, before(event)):
        pass


def test_a_series_board_is_shared_by_its_occurrences_and_one_person_is_one_participant(
    db: Database, make: Factories
) -> None:
    with series_of_evenings(db, make, "Jeudis de la colocation") as (session, loaded, series):
        first, second = SeriesService(session).occurrences(series)[:2]
        ExchangeBoardService(session).switch_on(loaded, series=series, preset_id="flat_share")
    ada_first = attendee(db, first, "ada")
    ada_second = attendee(db, second, "ada")
    bob = attendee(db, second, "bob")
    now = first.starts_at - timedelta(days=1)
    post(db, ada_first, now, text="Room from January")
    assert board_of(db, bob, now) == ["Room from January"]
    # Coming through the next occurrence: the same person, the listing now lives longer.
    with seated(db, ada_second, now) as (session, seat):
        seat = enter(session, seat, now)
        assert [view.text for view in ListingService(session).mine(seat)] == ["Room from January"]
        assert session.scalar(select(ExchangeListing.expires_at)) == seat.closes_at
    assert count(db, ExchangeParticipant) == 1  # Ada, through both registrations (Bob only looked)
    # After the first evening's listings would have expired, it is still on the board.
    assert board_of(db, bob, first.ends_at + timedelta(days=20)) == ["Room from January"]


# -- listings -----------------------------------------------------------------------------
def test_a_listing_is_checked_field_by_field(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, _bob = evening
    with pytest.raises(ValidationFailed) as failed:
        post(db, ada, before(event), category="nope", side="maybe", text="", f_budget_min="lots")
    assert failed.value.errors == {
        "category": "invalid_choice",
        "side": "invalid_choice",
        "text": "required",
    }
    with pytest.raises(ValidationFailed) as failed:
        post(
            db,
            ada,
            before(event),
            f_budget_min="800",
            f_budget_max="500",
            f_move_in_from="2027-02-30",
            f_area_postcode="75<b>",
        )
    assert failed.value.errors == {
        "f_budget_max": "range_reversed",
        "f_move_in_from": "invalid_date",
        "f_area_postcode": "invalid_postcode",
    }


def test_the_author_edits_pauses_and_deletes(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    now = before(event)
    listing_id = _listing_of(db, ada)
    with seated(db, ada, now) as (session, seat):
        ListingService(session).pause(seat, listing_id, paused=True)
    assert board_of(db, bob, now) == []
    with seated(db, ada, now) as (session, seat):
        service = ListingService(session)
        service.pause(seat, listing_id, paused=False)
        service.edit(seat, listing_id, ListingInput("room", "offer", "Room, now furnished"), now)
    assert board_of(db, bob, now) == ["Room, now furnished"]
    with seated(db, bob, now) as (session, seat), pytest.raises(NotFound):
        ListingService(session).delete(seat, listing_id)  # not Bob's
    with seated(db, ada, now) as (session, seat):
        ListingService(session).delete(seat, listing_id)
    assert board_of(db, bob, now) == []


def test_listings_expire_days_after_the_event(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, _ada, bob = evening
    closes = event.ends_at + timedelta(days=14)
    assert board_of(db, bob, closes - timedelta(seconds=1)) == ["Room in Belleville"]
    with pytest.raises(Conflict) as closed, seated(db, bob, closes):
        pass
    assert closed.value.code == "exchange_closed"
    with db.session() as session:
        board = session.scalar(select(ExchangeBoard))
        assert board is not None
        assert ListingService(session).visible(board, closes) == []
    with db.transaction() as session:
        assert expire_listings(session, closes - timedelta(seconds=1)) == 0
        assert expire_listings(session, closes) == 2
    assert count(db, ExchangeListing) == 0


def test_changing_the_days_moves_every_expiry(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, _ada, _bob = evening
    with db.transaction() as session:
        board = session.scalar(select(ExchangeBoard))
        assert board is not None
        ExchangeBoardService(session).configure(board, BoardSettings(expire_days="3"))
    with db.session() as session:
        assert set(session.scalars(select(ExchangeListing.expires_at))) == {
            event.ends_at + timedelta(days=3)
        }


# -- matching -------------------------------------------------------------------------------
def _listing_of(db: Database, registration: Registration) -> UUID:
    with db.session() as session:
        found = session.scalar(
            select(ExchangeListing.id)
            .join(ExchangeParticipant)
            .where(ExchangeParticipant.registration_id == registration.id)
            .order_by(ExchangeListing.created_at)
        )
        assert found is not None
        return found


def test_matches_come_first_with_their_reasons(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, _ada, bob = evening
    now = before(event)
    carol = attendee(db, event, "carol")
    post(db, carol, now, text="Room far away", f_area="Versailles", f_budget_min="900")
    with seated(db, bob, now) as (session, seat):
        found = ListingService(session).board(seat.board, now, viewer=seat, filters=Filters()).found
    assert [(s.listing.text, s.score) for s in found] == [
        ("Room in Belleville", 2),
        ("Room far away", 0),
    ]
    reasons = found[0].reasons
    assert [(r.field_id, r.detail) for r in reasons] == [
        ("area", ("belleville",)),
        ("budget", ("600", "600")),
    ]


def test_filters_keep_only_what_agrees(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, _ada, _bob = evening
    now = before(event)
    carol = attendee(db, event, "carol")
    post(
        db,
        carol,
        now,
        text="Room in Lyon",
        f_area_postcode="69003",
        f_budget_max="450",
        f_languages="Spanish, french",
    )
    dan = attendee(db, event, "dan")

    def find(**details: Any) -> list[str]:
        with seated(db, dan, now) as (session, seat):
            filters = Filters(category="room", side="offer", details=details)
            return [
                s.listing.text
                for s in ListingService(session)
                .board(seat.board, now, viewer=seat, filters=filters)
                .found
            ]

    assert find() == ["Room in Lyon", "Room in Belleville"]
    assert find(budget={"min": None, "max": 500}) == ["Room in Lyon"]
    assert find(area={"text": "", "postcode": "75"}) == ["Room in Belleville"]
    assert find(languages=["FRENCH"]) == ["Room in Lyon"]
    assert board_of(db, dan, now, words="belleville") == [
        "Seeking a room, east Paris",
        "Room in Belleville",
    ]


def test_new_since_my_previous_visit(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, _ada, bob = evening
    first_visit = before(event)
    with seated(db, bob, first_visit) as (session, seat):
        enter(session, seat, first_visit)
    carol = attendee(db, event, "carol")
    post(db, carol, first_visit + timedelta(hours=2), text="A new room")
    later = first_visit + timedelta(hours=3)
    with seated(db, bob, later) as (session, seat):
        seat = enter(session, seat, later)
        found = (
            ListingService(session).board(seat.board, later, viewer=seat, filters=Filters()).found
        )
        marks = {s.listing.text: s.new for s in found}
        only_new = (
            ListingService(session)
            .board(seat.board, later, viewer=seat, filters=Filters(only_new=True))
            .found
        )
    # Rows are stamped by the database clock; only relative order matters here.
    assert set(marks) == {"A new room", "Room in Belleville"}
    assert [s.listing.text for s in only_new] == [t for t, new in marks.items() if new]


# -- the double opt-in ---------------------------------------------------------------------
def test_request_then_accept_shows_what_each_shares_and_nothing_before(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    now = before(event)
    profile(db, ada, now, display_name="Ada", share_email=True, phone="+33 6 12 34 56 78")
    profile(db, bob, now, display_name="Bob", meet_note="Green scarf, by the bar")
    contact = ask(db, bob, _listing_of(db, ada), now, message="Could I visit on Sunday?")
    [received] = lines(db, ada, now)
    assert (received.direction, received.shown, received.other_name) == (
        "received",
        "pending",
        "Bob",
    )
    assert received.contact.message == "Could I visit on Sunday?"
    assert received.shared is None
    [sent] = lines(db, bob, now)
    assert (sent.direction, sent.shown, sent.shared) == ("sent", "waiting", None)
    assert reply(db, ada, contact, now, accept=True) == "accepted"
    with seated(db, bob, now) as (session, seat):
        [match] = matches(session, seat, now)
    assert match.shared is not None
    assert (match.shared.display_name, match.shared.email, match.shared.phone) == (
        "Ada",
        "personada@example.org",
        "+33 6 12 34 56 78",
    )
    with seated(db, ada, now) as (session, seat):
        [match] = matches(session, seat, now)
    assert match.shared is not None
    assert (match.shared.email, match.shared.meet_note) == ("", "Green scarf, by the bar")


def test_a_decline_is_silent_then_reads_no_match(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    now = before(event)
    contact = ask(db, bob, _listing_of(db, ada), now)
    assert reply(db, ada, contact, now, accept=False) == "declined"
    [sent] = lines(db, bob, now + timedelta(hours=1))
    assert sent.shown == "waiting" and sent.shared is None
    [sent] = lines(db, bob, now + NO_MATCH_AFTER + timedelta(minutes=1))
    assert sent.shown == "no_match"
    with pytest.raises(Conflict) as refused:
        ask(db, bob, _listing_of(db, ada), now)
    assert refused.value.code == "already_asked"


def test_only_the_author_answers_and_only_once(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    now = before(event)
    contact = ask(db, bob, _listing_of(db, ada), now)
    with pytest.raises(NotFound):
        reply(db, bob, contact, now, accept=True)
    carol = attendee(db, event, "carol")
    with pytest.raises(NotFound):
        reply(db, carol, contact, now, accept=True)
    assert lines(db, carol, now) == []
    reply(db, ada, contact, now, accept=True)
    with pytest.raises(Conflict) as refused:
        reply(db, ada, contact, now, accept=False)
    assert refused.value.code == "contact_answered"


def test_one_live_request_per_pair_whoever_asks(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    now = before(event)
    ask(db, bob, _listing_of(db, ada), now)
    for who, listing in ((bob, _listing_of(db, ada)), (ada, _listing_of(db, bob))):
        with pytest.raises(Conflict) as refused:
            ask(db, who, listing, now)
        assert refused.value.code == "already_in_contact"


def test_a_withdrawn_request_vanishes_for_the_author(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    now = before(event)
    contact = ask(db, bob, _listing_of(db, ada), now)
    with seated(db, bob, now) as (session, seat):
        withdraw(session, seat, contact, now)
    assert lines(db, ada, now) == []
    assert [line.shown for line in lines(db, bob, now)] == ["withdrawn"]
    ask(db, bob, _listing_of(db, ada), now)  # asking again is fine


def test_no_request_on_my_own_listing(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, _bob = evening
    with pytest.raises(Conflict) as refused:
        ask(db, ada, _listing_of(db, ada), before(event))
    assert refused.value.code == "own_listing"


def test_requests_are_capped_per_person(db: Database, make: Factories) -> None:
    event = flat_share_board(db, make)
    now = before(event)
    seeker = attendee(db, event, "seeker")
    authors = [attendee(db, event, f"author{n}") for n in range(REQUESTS_PER_PERSON + 1)]
    listings = [post(db, author, now, text=f"Room {n}") for n, author in enumerate(authors)]
    for listing in listings[:REQUESTS_PER_PERSON]:
        ask(db, seeker, listing, now)
    with pytest.raises(Conflict) as refused:
        ask(db, seeker, listings[-1], now)
    assert refused.value.code == "request_cap"
    assert count(db, ExchangeContact) == REQUESTS_PER_PERSON


def test_a_pending_request_reads_no_match_once_the_board_closed(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    contact_id = ask(db, bob, _listing_of(db, ada), before(event))
    with db.session() as session:
        contact = session.get(ExchangeContact, contact_id)
        assert contact is not None
        closes = event.ends_at + timedelta(days=14)
        # Unanswered, it waits however long (the author may still say yes)...
        assert requester_sees(contact, closes - timedelta(seconds=1), closes) == "waiting"
        # ...until the board closes.
        assert requester_sees(contact, closes, closes) == "no_match"


# -- blocking --------------------------------------------------------------------------------
def test_blocking_hides_both_ways_and_ends_what_was_live(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    now = before(event)
    contact = ask(db, bob, _listing_of(db, ada), now)
    reply(db, ada, contact, now, accept=True)
    with seated(db, ada, now) as (session, seat):
        [line] = contacts_of(session, seat, now)
        block(session, seat, line.other_id, now)
        block(session, seat, line.other_id, now)  # twice: nothing more
    assert board_of(db, ada, now) == [] and board_of(db, bob, now) == []
    with pytest.raises(NotFound):
        ask(db, bob, _listing_of(db, ada), now)
    with db.session() as session:
        assert session.scalar(select(ExchangeContact.state)) == ContactState.ENDED.value
    with seated(db, bob, now) as (session, seat):
        assert matches(session, seat, now) == []
    # Someone else still sees both.
    carol = attendee(db, event, "carol")
    assert sorted(board_of(db, carol, now)) == ["Room in Belleville", "Seeking a room, east Paris"]


# -- the organisers ------------------------------------------------------------------------
def test_organisers_get_counts_only(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, ada, bob = evening
    now = before(event)
    contact = ask(db, bob, _listing_of(db, ada), now)
    reply(db, ada, contact, now, accept=True)
    with db.session() as session:
        board = session.scalar(select(ExchangeBoard))
        assert board is not None
        figures = ExchangeBoardService(session).figures(board, now)
    assert [(f.category.id, f.offers, f.needs) for f in figures.categories] == [
        ("room", 1, 1),
        ("help", 0, 0),
    ]
    assert (figures.participants, figures.listings, figures.requests, figures.matches) == (
        2,
        2,
        1,
        1,
    )


def test_organisers_edit_categories_without_breaking_listings(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    event, _ada, bob = evening
    with db.transaction() as session:
        board = session.scalar(select(ExchangeBoard))
        assert board is not None
        service = ExchangeBoardService(session)
        skills = service.add_category(
            board,
            CategoryInput(
                label="Skills",
                offer="I can",
                need="I need",
                fields=[FieldInput(kind="tags", label="Skills", options="design, code")],
            ),
        )
        service.remove_category(board, "room")  # used: only closed
        service.remove_category(board, skills.id)  # unused: deleted
        with pytest.raises(ValidationFailed) as failed:
            service.add_category(
                board,
                CategoryInput(
                    label="", offer="x", need="y", fields=[FieldInput(kind="colour", label="")]
                ),
            )
        assert failed.value.errors == {
            "label": "required",
            "field_0_kind": "invalid_choice",
            "field_0_label": "required",
        }
        assert [(c["id"], c["removed"]) for c in board.categories] == [
            ("room", True),
            ("help", False),
        ]
    assert board_of(db, bob, before(event)) == ["Room in Belleville"]
    with pytest.raises(ValidationFailed):
        post(db, bob, before(event), text="New room listing")


def test_an_event_board_comes_before_its_series_board(db: Database, make: Factories) -> None:
    with series_of_evenings(db, make, "Jeudis des projets") as (session, loaded, series):
        first, second = SeriesService(session).occurrences(series)[:2]
        boards = ExchangeBoardService(session)
        boards.switch_on(loaded, series=series, preset_id="flat_share", locale="en")
        own = boards.switch_on(loaded, event=first, preset_id="projects", locale="fr")
        assert [c["label"] for c in own.categories] == ["Compétences", "Lieux et matériel"]
        with pytest.raises(ValueError):
            boards.switch_on(loaded)
    now = first.starts_at - timedelta(days=1)
    with seated(db, attendee(db, first, "ada"), now) as (_session, seat):
        assert seat.board.event_id == first.id
    with seated(db, attendee(db, second, "bob"), now) as (_session, seat):
        assert seat.board.series_id == series.id


def test_a_board_read_again_shows_every_change_of_a_listing_and_its_author(
    db: Database, evening: tuple[Event, Registration, Registration]
) -> None:
    """Listing views are kept between reads (exchange_listings._VIEWS); each change of the
    listing, a Core ``UPDATE`` included, or of its author's shown name is seen at once."""
    event, ada, bob = evening
    now = before(event)

    def seen() -> list[tuple[str, str, str | None]]:
        with seated(db, bob, now) as (session, seat):
            view = ListingService(session).board(seat.board, now, viewer=seat, filters=Filters())
            return [
                (
                    s.listing.text,
                    s.listing.display_name,
                    s.listing.details.get("area", {}).get("postcode"),
                )
                for s in view.found
            ]

    [(text, _name, _postcode)] = seen()
    listing = _listing_of(db, ada)
    with seated(db, ada, now) as (session, seat):
        ListingService(session).edit(
            seat,
            listing,
            ListingInput(
                category="room",
                side="offer",
                text="Edited",
                fields={"f_area_postcode": "75011", "f_area": "Oberkampf"},
            ),
            now,
        )
    assert seen() == [("Edited", "", "75011")]
    profile(db, ada, now, display_name="Ada L.")
    assert seen() == [("Edited", "Ada L.", "75011")]
    with db.transaction() as session:  # a Core statement, as the expiry moves do
        session.execute(update(ExchangeListing).values(text="Changed by a statement"))
    assert seen() == [("Changed by a statement", "Ada L.", "75011")]
    assert text != "Edited"


def test_a_private_link_opens_the_same_seat_whether_first_or_mailed_again(
    db: Database, make: Factories
) -> None:
    """The board pages read the seat straight from the link (``seat_of_link``): a first
    link in one statement, a link mailed again through the registration."""
    event = flat_share_board(db, make)
    first = register(db, event, person(1))
    assert first.manage_token is not None
    with db.transaction() as session:
        loaded = session.get(Registration, first.registration.id)
        assert loaded is not None
        again = RegistrationService(session).add_private_link(loaded)
    now = before(event)
    with db.session() as session:
        by_first = seat_of_link(session, first.manage_token, now)
        by_again = seat_of_link(session, again, now)
        assert by_first.registration.id == by_again.registration.id == first.registration.id
        assert by_first.board.id == by_again.board.id
        assert by_first.person_key == by_again.person_key
        for forged in (None, "", "x" * 201, new_token()):
            with pytest.raises(NotFound):
                seat_of_link(session, forged, now)
