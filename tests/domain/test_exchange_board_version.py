"""A board's list is kept per process under its version in the database
(events/exchange_version.py, events/services/exchange_listings.py ``_BOARDS``): every kind
of write changes what the next read shows at once, also when another process (here:
another ``Database`` on the same database) wrote it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from events.database import Database
from events.exchange_version import (
    ALL,
    NAMESPACE,
    board_version,
    community_key,
    mark_board_changed,
)
from events.models import Event, ExchangeBoard, ExchangeListing, KeyValue, Registration
from events.services.exchange_contacts import block
from events.services.exchange_listings import ListingInput, ListingService
from events.services.exchange_reports import moderate, moderate_person, report_listing
from tests.domain import test_exchange
from tests.domain.test_exchange import (
    _listing_of,
    attendee,
    before,
    board_of,
    post,
    profile,
    seated,
)
from tests.domain.test_registrations import act, open_event, person, register
from tests.factories import Factories

Evening = tuple[Event, Registration, Registration]
#: Ada offering a room, Bob seeking one: the fixture of tests/domain/test_exchange.py.
evening = test_exchange.evening


@pytest.fixture
def other(db: Database) -> Iterator[Database]:
    """Another process's view of the same database."""
    database = Database.from_url(str(db.engine.url.render_as_string(hide_password=False)))
    yield database
    database.dispose()


def names(db: Database, registration: Registration, now: datetime) -> list[tuple[str, str]]:
    with seated(db, registration, now) as (session, seat):
        return [
            (view.text, view.display_name)
            for view in ListingService(session).visible(seat.board, now, viewer=seat)
        ]


def _edit(other: Database, ada: Registration, now: datetime) -> None:
    listing = _listing_of(other, ada)
    with seated(other, ada, now) as (session, seat):
        ListingService(session).edit(
            seat, listing, ListingInput(category="room", side="offer", text="Edited"), now
        )


def _pause(other: Database, ada: Registration, now: datetime) -> None:
    listing = _listing_of(other, ada)
    with seated(other, ada, now) as (session, seat):
        ListingService(session).pause(seat, listing, paused=True)


def _delete(other: Database, ada: Registration, now: datetime) -> None:
    listing = _listing_of(other, ada)
    with seated(other, ada, now) as (session, seat):
        ListingService(session).delete(seat, listing)


def _hide(other: Database, ada: Registration, now: datetime) -> None:
    listing = _listing_of(other, ada)
    with seated(other, ada, now) as (session, seat):
        moderate(session, seat.board, listing, hide=True)


def _suspend(other: Database, ada: Registration, now: datetime) -> None:
    with seated(other, ada, now) as (session, seat):
        assert seat.participant is not None
        moderate_person(session, seat.board, seat.participant.id, suspend=True)


def _reported_away(other: Database, ada: Registration, now: datetime) -> None:
    """Three others report Ada's listing: a statement hides it for everyone."""
    listing = _listing_of(other, ada)
    event_id = ada.event_id
    for n in range(3):
        with other.transaction() as session:
            event = session.get(Event, event_id)
            assert event is not None
        reporter = attendee(other, event, f"reporter{n}")
        with seated(other, reporter, now) as (session, seat):
            report_listing(session, seat, listing, now)


WRITES: dict[
    str, tuple[Callable[[Database, Registration, datetime], object], list[tuple[str, str]]]
] = {
    "posted": (
        lambda other, ada, now: post(other, ada, now, text="A second room"),
        [("A second room", ""), ("Room in Belleville", "")],
    ),
    "edited": (_edit, [("Edited", "")]),
    "paused": (_pause, []),
    "deleted": (_delete, []),
    "renamed": (
        lambda other, ada, now: profile(other, ada, now, display_name="Ada L."),
        [("Room in Belleville", "Ada L.")],
    ),
    "suspended": (_suspend, []),
    "hidden by the organisers": (_hide, []),
    "hidden by reports": (_reported_away, []),
    "author cancelled": (lambda other, ada, now: act(other, ada.id, "cancel"), []),
}


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_write_shows_at_once_on_a_kept_board(
    db: Database,
    other: Database,
    evening: Evening,
    write: str,
) -> None:
    event, ada, bob = evening
    now = before(event)
    assert names(db, bob, now) == [("Room in Belleville", "")]
    assert names(db, bob, now) == [("Room in Belleville", "")]  # read from the kept list
    change, expected = WRITES[write]
    change(other, ada, now)
    assert names(db, bob, now) == expected


def test_the_viewers_own_rules_apply_on_a_kept_board(
    db: Database,
    evening: Evening,
) -> None:
    event, ada, bob = evening
    now = before(event)
    carol = attendee(db, event, "carol")
    assert board_of(db, carol, now) == ["Seeking a room, east Paris", "Room in Belleville"]
    with seated(db, bob, now) as (session, seat):
        assert seat.participant is not None
        bob_id = seat.participant.id
    with seated(db, ada, now) as (session, seat):
        block(session, seat, bob_id, now)
    # Ada's block changes nothing of the board for Carol, and hides each from the other.
    assert board_of(db, carol, now) == ["Seeking a room, east Paris", "Room in Belleville"]
    assert board_of(db, bob, now) == []
    assert board_of(db, ada, now) == []
    with seated(db, carol, now) as (session, seat):
        report_listing(session, seat, _listing_of(db, ada), now)
    assert board_of(db, carol, now) == ["Seeking a room, east Paris"]


def test_a_write_that_stamps_nothing_is_not_seen_until_the_version_moves(
    db: Database,
    other: Database,
    evening: Evening,
) -> None:
    """Negative control: a change written below the session hooks (a plain SQL string on
    the connection) keeps the kept list, proving the version is what makes writes show."""
    event, _ada, bob = evening
    now = before(event)
    assert names(db, bob, now) == [("Room in Belleville", "")]
    with other.transaction() as session:
        board_id = session.scalars(select(ExchangeListing.board_id)).first()
        board = session.get(ExchangeBoard, board_id)
        assert board_id is not None and board is not None
        before_version = board_version(session, board)
        session.connection().execute(text("update exchange_listing set text = 'Unstamped'"))
    with db.session() as session:
        assert board_version(session, board) == before_version
    assert names(db, bob, now) == [("Room in Belleville", "")]  # the kept list
    with other.transaction() as session:
        mark_board_changed(session, board_id)
    assert names(db, bob, now) == [("Unstamped", "")]


def test_a_visit_does_not_move_the_version(db: Database, evening: Evening) -> None:
    event, _ada, bob = evening
    now = before(event)
    names(db, bob, now)
    with seated(db, bob, now) as (session, seat):
        version = board_version(session, seat.board)
    profile(db, bob, now, seen_until=now)
    with seated(db, bob, now) as (session, seat):
        assert board_version(session, seat.board) == version


def test_a_listing_leaves_the_kept_board_when_it_expires(db: Database, evening: Evening) -> None:
    """Expiry moves no version: the kept list is read again once its first listing
    expires (the rule stays in the SQL of events/services/exchange_listings.py)."""
    event, ada, bob = evening
    now = before(event)
    with db.session() as session:
        expires = session.get(ExchangeListing, _listing_of(db, ada)).expires_at
    with seated(db, bob, now) as (session, seat):
        service = ListingService(session)
        assert [view.text for view in service.visible(seat.board, now, viewer=seat)] == [
            "Room in Belleville"
        ]
        assert service.visible(seat.board, expires - timedelta(seconds=1), viewer=seat)
        assert service.visible(seat.board, expires, viewer=seat) == []


def _stamps(db: Database) -> dict[str, bytes]:
    with db.session() as session:
        rows = session.execute(
            select(KeyValue.key, KeyValue.value).where(KeyValue.namespace == NAMESPACE)
        )
        return {key: value for key, value in rows}


def test_a_cancellation_moves_the_boards_of_its_own_community_only(
    db: Database, other: Database, make: Factories, evening: Evening
) -> None:
    """A registration's status is its community's business: a cancellation elsewhere
    leaves this board's version (and its kept list) alone and writes no stamp every
    community shares; one in this community moves it (the "author cancelled" case above
    shows the list then changes)."""
    event, _ada, bob = evening
    now = before(event)
    elsewhere = open_event(db, make)
    stranger = register(db, elsewhere, person("stranger"))
    with seated(db, bob, now) as (session, seat):
        version = board_version(session, seat.board)
        community = community_key(seat.board.community_id)
    stamps = _stamps(db)
    act(other, stranger.registration.id, "cancel")
    with seated(db, bob, now) as (session, seat):
        assert board_version(session, seat.board) == version
    moved = {key for key, value in _stamps(db).items() if stamps.get(key) != value}
    assert ALL not in moved and community not in moved and len(moved) == 1
    # The control: the same write in this community moves this board's version.
    carol = attendee(db, event, "carol")
    act(other, carol.id, "cancel")
    with seated(db, bob, now) as (session, seat):
        assert board_version(session, seat.board) != version
    assert ALL not in {key for key, value in _stamps(db).items() if stamps.get(key) != value}
