"""Reporting a listing or a relayed message, and the organisers' moderation queue.

- Someone seated at a board reports a listing they can see (:func:`report_listing`): one
  report per person and listing (reporting again changes nothing), never one's own. The
  reporter stops seeing it at once. Once :data:`REPORTS_TO_HIDE` different people reported
  it, it is **hidden** from everyone (a conditional ``UPDATE`` run while the listing's row
  is locked, see below: reports racing count once each, the listing is hidden once).
- The organisers see the reported listings with their number of reports, never who
  reported them (:func:`reported_listings`); they put a listing back (its reports are
  forgotten) or hide it themselves (:func:`moderate`). A listing is already visible to
  every attendee, so showing it to the organisers discloses nothing private; messages are
  never shown to them (a person who does not want to hear from someone blocks them,
  events/services/exchange_contacts.py).
- **A message** has one recipient, who may report it (:func:`report_message`, with a
  reason among events/services/moderation.py's ``REASONS``): they block its sender at once
  (``block``, events/services/exchange_contacts.py), and one report is recorded against
  the **sender**, one per person and sender (reporting again changes nothing). Nobody else
  can report it: not the sender, not a third person (``NotFound``). Once
  :data:`REPORTS_TO_HIDE` different people reported someone's messages, that person is
  **suspended** on the board: their listings are hidden from everyone else and they can no
  longer write to anyone (``Conflict("suspended")``). The threshold is one conditional
  ``UPDATE`` run while the sender's row is locked, so reports racing each other are
  counted in turn and the sender is suspended once. (A count in a conditional ``UPDATE``
  alone is not enough here: on PostgreSQL, three reports at once each count only their
  own row, none of the others being committed yet, and nobody crosses the threshold:
  tests/domain/test_exchange_message_reports.py shows it.) Whether someone is suspended
  is read through events/services/exchange_suspension.py only.
- The person who reported a message sees it marked on their page, with the reason and
  the moment, and is not offered to report that sender again (:func:`my_message_reports`,
  keyed like the rule above: by reporter and sender).
- The organisers see the **reported people**: their pseudonym, how many people reported
  their messages, each report's reason and moment, and whether they are suspended; never
  a message nor who reported (:func:`reported_people`). They suspend someone, or restore
  them, which forgets the reports against them (:func:`moderate_person`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from events.errors import Conflict, NotFound
from events.models import (
    ExchangeBoard,
    ExchangeListing,
    ExchangeMessageReport,
    ExchangeParticipant,
    ExchangeReport,
)
from events.models.base import insert_for
from events.plain_reads import plain_rows
from events.services.exchange_access import Seat, enter
from events.services.exchange_contacts import block, received
from events.services.exchange_listings import ListingService
from events.services.moderation import clean_reason
from events.validation import id_or_not_found

REPORTS_TO_HIDE = 3


def lock_row(session: Session, key_column: InstrumentedAttribute[UUID], key: UUID) -> None:
    """Lock the reported row (a listing, a sender) until the end of the transaction, so
    that reports of it count in turn (``FOR NO KEY UPDATE``: rows that only reference it,
    such as requests, go on); SQLite has one writer."""
    session.execute(select(key_column).where(key_column == key).with_for_update(key_share=True))


def report_listing(session: Session, seat: Seat, listing_id: UUID | str, now: datetime) -> bool:
    """``seat`` reports the listing ``listing_id`` (see the module docstring); True when
    the listing is hidden now. ``NotFound`` for a listing they cannot see,
    ``Conflict("own_listing")`` for their own."""
    seat = enter(session, seat, now, visit=False)
    me = seat.require_participant()
    listing = ListingService(session).one_visible(seat.board, listing_id, now, viewer=seat)
    if listing.participant_id == me.id:
        raise Conflict("own_listing")
    lock_row(session, ExchangeListing.id, listing.id)
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
    listing = session.get(ExchangeListing, id_or_not_found(listing_id))
    if listing is None or listing.board_id != board.id:
        raise NotFound()
    listing.hidden = hide
    if not hide:
        session.execute(delete(ExchangeReport).where(ExchangeReport.listing_id == listing.id))
    session.flush()


# -- messages -----------------------------------------------------------------------------
def record_message_report(
    session: Session,
    board_id: UUID,
    contact_id: UUID,
    sender_id: UUID,
    reporter_id: UUID,
    reason: str,
    now: datetime,
) -> bool:
    """Count ``reporter_id``'s report against ``sender_id`` (once per pair) and suspend the
    sender when it makes :data:`REPORTS_TO_HIDE`; True when this report suspended them.
    The sender's row is locked first: a report racing this one waits for it to commit,
    then counts it (PostgreSQL; SQLite has one writer)."""
    lock_row(session, ExchangeParticipant.id, sender_id)
    session.execute(
        insert_for(session)(ExchangeMessageReport)
        .values(
            board_id=board_id,
            contact_id=contact_id,
            sender_id=sender_id,
            reporter_id=reporter_id,
            reason=reason,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["sender_id", "reporter_id"])
    )
    reporters = select(func.count()).where(ExchangeMessageReport.sender_id == sender_id)
    suspended = session.execute(
        update(ExchangeParticipant)
        .where(
            ExchangeParticipant.id == sender_id,
            ExchangeParticipant.suspended.is_(False),
            reporters.scalar_subquery() >= REPORTS_TO_HIDE,
        )
        .values(suspended=True)
        .execution_options(synchronize_session=False)
    )
    return bool(suspended.rowcount)  # type: ignore[attr-defined]


def report_message(
    session: Session, seat: Seat, contact_id: UUID | str, reason: str, now: datetime
) -> bool:
    """The recipient of the message of request ``contact_id`` reports it (see the module
    docstring); True when its sender is suspended now. ``NotFound`` for a request
    ``seat`` did not receive (or that was withdrawn), ``ValidationFailed {"reason": ...}``
    for a reason not among ``REASONS``."""
    cleaned = clean_reason(reason)
    seat = enter(session, seat, now, visit=False)
    me = seat.require_participant()
    contact = received(session, seat, contact_id)
    sender_id = contact.requester_id
    suspended = record_message_report(
        session, seat.board.id, contact.id, sender_id, me.id, cleaned, now
    )
    block(session, seat, sender_id, now)
    return suspended


@dataclass(frozen=True)
class MessageReportSeen:
    """One report of a message as the organisers see it: why and when, never by whom."""

    reason: str
    at: datetime


@dataclass(frozen=True)
class ReportedPerson:
    id: UUID
    display_name: str
    #: How many different people reported their messages.
    reporters: int
    suspended: bool
    #: Each report's reason and moment, oldest first (one per person who reported).
    reports: tuple[MessageReportSeen, ...] = ()


def reported_people(session: Session, board: ExchangeBoard) -> list[ReportedPerson]:
    """The board's participants whose messages were reported, or who are suspended, most
    reported first, each with the reasons and moments of the reports: never a message,
    never who reported (the reporter's column is not even read)."""
    reports: dict[UUID, list[MessageReportSeen]] = {}
    for sender_id, reason, at in session.execute(
        select(
            ExchangeMessageReport.sender_id,
            ExchangeMessageReport.reason,
            ExchangeMessageReport.created_at,
        )
        .where(ExchangeMessageReport.board_id == board.id)
        .order_by(ExchangeMessageReport.created_at, ExchangeMessageReport.id)
    ):
        reports.setdefault(sender_id, []).append(MessageReportSeen(reason, at))
    people = session.execute(
        select(
            ExchangeParticipant.id,
            ExchangeParticipant.display_name,
            ExchangeParticipant.suspended,
            ExchangeParticipant.created_at,
        ).where(
            ExchangeParticipant.board_id == board.id,
            ExchangeParticipant.id.in_(list(reports)) | ExchangeParticipant.suspended.is_(True),
        )
    )
    found = sorted(people, key=lambda row: (-len(reports.get(row.id, ())), row.created_at))
    return [
        ReportedPerson(
            id=row.id,
            display_name=row.display_name,
            reporters=len(reports.get(row.id, ())),
            suspended=row.suspended,
            reports=tuple(reports.get(row.id, ())),
        )
        for row in found
    ]


@dataclass(frozen=True)
class MyMessageReport:
    """A report one made of a message: which message, why and when."""

    contact_id: UUID | None
    reason: str
    at: datetime


#: The message reports the participant ``me`` made (built once: every board page runs it).
_MESSAGE_REPORTS_BY = select(
    ExchangeMessageReport.sender_id,
    ExchangeMessageReport.contact_id,
    ExchangeMessageReport.reason,
    ExchangeMessageReport.created_at,
).where(ExchangeMessageReport.reporter_id == bindparam("me"))


def my_message_reports(session: Session, seat: Seat) -> dict[UUID, MyMessageReport]:
    """The reports ``seat`` made, by the sender they reported. Keyed by sender because
    a report counts once per person and sender (:func:`record_message_report`): a message
    of someone already reported is not offered to report again; the one reported is
    marked as such on the reporter's page."""
    me = seat.participant_id
    if me is None:
        return {}
    rows = plain_rows(session, _MESSAGE_REPORTS_BY, {"me": me})
    return {sender: MyMessageReport(contact, reason, at) for sender, contact, reason, at in rows}


def moderate_person(
    session: Session, board: ExchangeBoard, participant_id: UUID | str, *, suspend: bool
) -> None:
    """The organisers suspend a participant of ``board``, or restore them (forgetting the
    reports against them); ``NotFound`` for someone of another board."""
    participant = session.get(ExchangeParticipant, id_or_not_found(participant_id))
    if participant is None or participant.board_id != board.id:
        raise NotFound()
    participant.suspended = suspend
    if not suspend:
        session.execute(
            delete(ExchangeMessageReport).where(ExchangeMessageReport.sender_id == participant.id)
        )
    session.flush()
