"""Reporting a listing, and the organisers' moderation queue.

- Someone seated at a board reports a listing they can see (:func:`report_listing`): one
  report per person and listing (reporting again changes nothing), never one's own. The
  reporter stops seeing it at once. Once :data:`REPORTS_TO_HIDE` different people reported
  it, it is **hidden** from everyone (a conditional ``UPDATE``: reports racing count once
  each, the listing is hidden once).
- The organisers see the reported listings with their number of reports, never who
  reported them (:func:`reported_listings`); they put a listing back (its reports are
  forgotten) or hide it themselves (:func:`moderate`). A listing is already visible to
  every attendee, so showing it to the organisers discloses nothing private; messages are
  never shown to them (a person who does not want to hear from someone blocks them,
  events/services/exchange_contacts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from events.errors import Conflict, NotFound
from events.models import ExchangeBoard, ExchangeListing, ExchangeParticipant, ExchangeReport
from events.services.exchange_access import Seat, enter, insert_for
from events.services.exchange_listings import ListingService

REPORTS_TO_HIDE = 3


def report_listing(session: Session, seat: Seat, listing_id: UUID | str, now: datetime) -> bool:
    """``seat`` reports the listing ``listing_id`` (see the module docstring); True when
    the listing is hidden now. ``NotFound`` for a listing they cannot see,
    ``Conflict("own_listing")`` for their own."""
    seat = enter(session, seat, now, visit=False)
    me = seat.require_participant()
    listing = ListingService(session).one_visible(seat.board, listing_id, now, viewer=seat)
    if listing.participant_id == me.id:
        raise Conflict("own_listing")
    session.execute(
        insert_for(session)(ExchangeReport)
        .values(board_id=seat.board.id, listing_id=listing.id, reporter_id=me.id)
        .on_conflict_do_nothing(index_elements=["listing_id", "reporter_id"])
    )
    reports = select(func.count()).where(ExchangeReport.listing_id == listing.id)
    hidden = session.execute(
        update(ExchangeListing)
        .where(
            ExchangeListing.id == listing.id,
            ExchangeListing.hidden.is_(False),
            reports.scalar_subquery() >= REPORTS_TO_HIDE,
        )
        .values(hidden=True)
        .execution_options(synchronize_session=False)
    )
    return bool(hidden.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ReportedListing:
    id: UUID
    category: str
    side: str
    text: str
    display_name: str
    reports: int
    hidden: bool


def reported_listings(session: Session, board: ExchangeBoard) -> list[ReportedListing]:
    """The board's listings that were reported or hidden, most reported first."""
    reports = (
        select(ExchangeReport.listing_id, func.count().label("reports"))
        .where(ExchangeReport.board_id == board.id)
        .group_by(ExchangeReport.listing_id)
        .subquery()
    )
    rows = session.execute(
        select(
            ExchangeListing.id,
            ExchangeListing.category,
            ExchangeListing.side,
            ExchangeListing.text,
            ExchangeParticipant.display_name,
            func.coalesce(reports.c.reports, 0),
            ExchangeListing.hidden,
        )
        .join(ExchangeParticipant, ExchangeParticipant.id == ExchangeListing.participant_id)
        .outerjoin(reports, reports.c.listing_id == ExchangeListing.id)
        .where(
            ExchangeListing.board_id == board.id,
            (reports.c.reports > 0) | ExchangeListing.hidden.is_(True),
        )
        .order_by(func.coalesce(reports.c.reports, 0).desc(), ExchangeListing.created_at)
    )
    return [ReportedListing(*row) for row in rows]


def moderate(session: Session, board: ExchangeBoard, listing_id: UUID | str, *, hide: bool) -> None:
    """The organisers hide a listing of ``board``, or put it back (forgetting its
    reports); ``NotFound`` for a listing of another board."""
    try:
        key = listing_id if isinstance(listing_id, UUID) else UUID(str(listing_id))
    except ValueError:
        raise NotFound() from None
    listing = session.get(ExchangeListing, key)
    if listing is None or listing.board_id != board.id:
        raise NotFound()
    listing.hidden = hide
    if not hide:
        session.execute(delete(ExchangeReport).where(ExchangeReport.listing_id == listing.id))
    session.flush()
