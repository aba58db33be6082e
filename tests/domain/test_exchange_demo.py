"""The demo's flat-share evening has offers & needs on with a dozen listings that match."""

from __future__ import annotations

from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.demo import seed_demo, today_in_paris
from events.models import Event, ExchangeBoard, ExchangeListing, ExchangeParticipant, Registration
from events.services.exchange_access import seat_of
from events.services.exchange_contacts import contacts_of
from events.services.exchange_listings import ListingService
from events.services.exchange_matching import Filters
from events.services.exchange_reports import reported_people


def test_the_demo_flat_share_evening_has_a_dozen_offers_and_needs(db: Database) -> None:
    with db.transaction() as session:
        assert seed_demo(session, today=today_in_paris(), password="demo-password").created
    with db.transaction() as session:
        listings = list(session.scalars(select(ExchangeListing)))
        assert len(listings) == 12
        assert {listing.side for listing in listings} == {"offer", "need"}
        event = session.scalar(select(Event).where(Event.title.startswith("Soirée colocation")))
        assert event is not None
        # Bastien (need, Belleville, up to 600) finds Chloé's room (75020, 580-620) first.
        bastien = session.scalar(
            select(Registration)
            .join(ExchangeParticipant, ExchangeParticipant.registration_id == Registration.id)
            .where(ExchangeParticipant.display_name == "Bastien")
        )
        assert bastien is not None and bastien.event_id == event.id
        now = utcnow()
        seat = seat_of(session, bastien, now)
        found = ListingService(session).board(seat.board, now, viewer=seat, filters=Filters())
        assert found.found[0].listing.display_name == "Chloé"
        assert found.found[0].score >= 2
        # Léo's pushy message was reported by two of the three people he sent it to, each
        # with their reason; the third still sees it, waiting for an answer.
        board = session.get(ExchangeBoard, seat.board.id)
        assert board is not None
        assert [
            (p.display_name, p.reporters, p.suspended, sorted(r.reason for r in p.reports))
            for p in reported_people(session, board)
        ] == [("Léo", 2, False, ["offensive", "spam"])]
        chloe = session.scalar(
            select(Registration)
            .join(ExchangeParticipant, ExchangeParticipant.registration_id == Registration.id)
            .where(ExchangeParticipant.display_name == "Chloé")
        )
        assert chloe is not None
        waiting = contacts_of(session, seat_of(session, chloe, now), now)
        assert [(line.other_name, line.shown) for line in waiting] == [("Léo", "pending")]
