"""When things may happen to an event and its registrations: one predicate per question.

One boundary convention, everywhere (pages, services, door, feeds, discovery queries):

- an event has **started** once ``now >= starts_at``;
- an event is **over** once ``now >= ends_at``: its end instant already belongs to the past.
  ``is_upcoming_clause`` / ``is_over_clause`` state the same thing in SQL.

The questions, and who asks them:

- **registration open** (``registration_open``): the event is published, not mirrored from
  another calendar, and not over. Registering, confirming an address, and walk-ins at the
  door need it.
- **registration changeable** (``registration_changeable``): the registration is active,
  nobody of the party has been let in yet, and the event is published and not over.
  Cancelling, declining, changing guests, promoting from the waitlist and approving need
  it, **whoever asks** (the registrant or an organiser): after the end, or once someone came
  in, the door's figures, its log, the arrival chart and the exports describe what
  happened, and nothing may rewrite them.
- **capacity changeable** (``capacity_changeable``): raising the capacity promotes from the
  waitlist, so it follows the same rule as a change of registration: not after the end.
- **back to draft** (``unpublish_refused_reason``): a published event may become a draft
  again (it leaves the pages and the feeds) only while nobody has registered for it; once
  someone has, the only way back is to cancel it, so that they hear of it.
- **shift open** (``shift_closed_reason``): a volunteer may sign up for a shift (or confirm
  the address of a sign-up) while its event is published and the shift has not started;
  they may cancel until it starts. An organiser may still put someone on a shift, or take
  them off, until the shift ends (``shift_over``).
- **feedback open** (``feedback_closed_reason``): the people who came answer once the
  event is over, for ``FEEDBACK_OPEN_FOR`` after its end; each answer stays editable for
  ``FEEDBACK_EDITABLE_FOR`` after it was first given.
- **offers & needs open** (``exchange_open``): an event's offers & needs board takes
  listings and requests while the event is published and until ``expire_days`` after its
  end (``exchange_closes_at``): people meet at the event and write to each other after.
  Listings posted for it expire then.
- **board posting open** (``board_posting_closed_reason``): the open-space board is on, the
  event is published and not over, and posting has opened (``Board.posting_opens_at``,
  none: at once). Posting a topic needs it; marking a topic needs the board on and the
  event published and not over (``board_marking_closed_reason``).
- **slot frozen** (``slot_frozen``): a slot stops moving ``Board.freeze_minutes`` before it
  starts, unless a facilitator froze it earlier or opened it again (``BoardSlot.freeze``).
  Nothing is placed in, moved into or out of a frozen slot.
- **notes open** (``topic_notes_open``): a host writes notes about their topic once its
  session has begun (or, never placed, once the event is over).

Each ``require_*`` raises the ``Conflict`` code the pages translate (web/messages.py).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from events.errors import Conflict
from events.models import (
    Board,
    BoardSlot,
    Event,
    EventStatus,
    Registration,
    Shift,
    SlotFreeze,
)

#: How long after its end an event takes feedback, and how long an answer stays editable.
FEEDBACK_OPEN_FOR = timedelta(days=30)
FEEDBACK_EDITABLE_FOR = timedelta(days=7)

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement


class Phase(enum.StrEnum):
    BEFORE = "before"
    DURING = "during"
    AFTER = "after"


def has_started(event: Event, now: datetime) -> bool:
    return now >= event.starts_at


def is_over(event: Event, now: datetime) -> bool:
    return now >= event.ends_at


def phase(event: Event, now: datetime) -> Phase:
    if is_over(event, now):
        return Phase.AFTER
    return Phase.DURING if has_started(event, now) else Phase.BEFORE


def is_upcoming_clause(now: datetime) -> ColumnElement[bool]:
    """SQL for "not over yet" (the same boundary as ``is_over``)."""
    return Event.ends_at > now


def is_over_clause(now: datetime) -> ColumnElement[bool]:
    return Event.ends_at <= now


def registration_closed_reason(event: Event, now: datetime) -> str | None:
    """Why nobody can register now ("draft", "cancelled", "external", "over"), or None."""
    if event.status is EventStatus.DRAFT:
        return "draft"
    if event.status is EventStatus.CANCELLED:
        return "cancelled"
    if event.is_external:  # mirrored from another calendar: people register there
        return "external"
    if is_over(event, now):
        return "over"
    return None


def registration_open(event: Event, now: datetime) -> bool:
    return registration_closed_reason(event, now) is None


def require_registration_open(event: Event, now: datetime) -> None:
    if not registration_open(event, now):
        raise Conflict("registration_closed")


def registration_unchangeable_reason(
    registration: Registration, event: Event, now: datetime
) -> str | None:
    """The ``Conflict`` code refusing a change of ``registration`` now, or None."""
    if not registration.status.is_active:
        return "registration_cancelled"
    if registration.arrived > 0:
        return "already_checked_in"
    if event.status is not EventStatus.PUBLISHED or is_over(event, now):
        return "registration_closed"
    return None


def registration_changeable(registration: Registration, event: Event, now: datetime) -> bool:
    return registration_unchangeable_reason(registration, event, now) is None


def require_registration_changeable(
    registration: Registration, event: Event, now: datetime
) -> None:
    reason = registration_unchangeable_reason(registration, event, now)
    if reason is not None:
        raise Conflict(reason)


def capacity_changeable(event: Event, now: datetime) -> bool:
    return not is_over(event, now)


def require_capacity_changeable(event: Event, now: datetime) -> None:
    if not capacity_changeable(event, now):
        raise Conflict("event_over")


def shift_closed_reason(shift: Shift, event: Event, now: datetime) -> str | None:
    """Why nobody can sign up for ``shift`` (or cancel a sign-up) now, or None."""
    if event.status is not EventStatus.PUBLISHED:
        return "shift_closed"
    if now >= shift.starts_at:
        return "shift_started"
    return None


def require_shift_open(shift: Shift, event: Event, now: datetime) -> None:
    reason = shift_closed_reason(shift, event, now)
    if reason is not None:
        raise Conflict(reason)


def shift_over(shift: Shift, now: datetime) -> bool:
    return now >= shift.ends_at


def require_shift_not_over(shift: Shift, now: datetime) -> None:
    """Organisers staff a shift (assign, remove) until it ends."""
    if shift_over(shift, now):
        raise Conflict("shift_over")


def feedback_closed_reason(
    event: Event, now: datetime, first_given_at: datetime | None = None
) -> str | None:
    """Why feedback on ``event`` cannot be given (or, ``first_given_at`` set, changed)
    now, or None."""
    if event.status is not EventStatus.PUBLISHED or not is_over(event, now):
        return "feedback_not_open"
    if first_given_at is not None:
        if now >= first_given_at + FEEDBACK_EDITABLE_FOR:
            return "feedback_closed"
    elif now >= event.ends_at + FEEDBACK_OPEN_FOR:
        return "feedback_closed"
    return None


def require_feedback_open(
    event: Event, now: datetime, first_given_at: datetime | None = None
) -> None:
    reason = feedback_closed_reason(event, now, first_given_at)
    if reason is not None:
        raise Conflict(reason)


def unpublish_refused_reason(event: Event, registrations: int) -> str | None:
    """Why ``event`` cannot go back to draft ("event_not_published",
    "event_has_registrations"), or None. ``registrations``: how many it has, whatever
    their status (a cancelled registrant was mailed about the event too)."""
    if event.status is not EventStatus.PUBLISHED:
        return "event_not_published"
    if registrations > 0:
        return "event_has_registrations"
    return None


def require_unpublishable(event: Event, registrations: int) -> None:
    reason = unpublish_refused_reason(event, registrations)
    if reason is not None:
        raise Conflict(reason)


def exchange_closes_at(event: Event, expire_days: int) -> datetime:
    """When the offers & needs posted for ``event`` expire."""
    return event.ends_at + timedelta(days=max(expire_days, 0))


def exchange_closed_reason(event: Event, expire_days: int, now: datetime) -> str | None:
    """Why ``event``'s offers & needs are closed ("exchange_closed"), or None."""
    if event.status is not EventStatus.PUBLISHED or now >= exchange_closes_at(event, expire_days):
        return "exchange_closed"
    return None


# -- the open-space board ------------------------------------------------------------------


def board_marking_closed_reason(board: Board, event: Event, now: datetime) -> str | None:
    """Why nobody can mark topics now ("board_off", "registration_closed", "event_over")."""
    if not board.enabled:
        return "board_off"
    if event.status is not EventStatus.PUBLISHED:
        return "registration_closed"
    if is_over(event, now):
        return "event_over"
    return None


def board_posting_closed_reason(board: Board, event: Event, now: datetime) -> str | None:
    """Why nobody can post a topic now: a marking reason, or "posting_not_open"."""
    reason = board_marking_closed_reason(board, event, now)
    if reason is None and board.posting_opens_at is not None and now < board.posting_opens_at:
        return "posting_not_open"
    return reason


def require_board_posting_open(board: Board, event: Event, now: datetime) -> None:
    reason = board_posting_closed_reason(board, event, now)
    if reason is not None:
        raise Conflict(reason)


def require_board_marking_open(board: Board, event: Event, now: datetime) -> None:
    reason = board_marking_closed_reason(board, event, now)
    if reason is not None:
        raise Conflict(reason)


def slot_frozen(board: Board, slot: BoardSlot, now: datetime) -> bool:
    """Whether ``slot`` no longer moves (see the module docstring)."""
    if slot.freeze == SlotFreeze.FROZEN:
        return True
    if slot.freeze == SlotFreeze.OPEN:
        return False
    return now >= slot.starts_at - timedelta(minutes=board.freeze_minutes)


def require_slot_movable(board: Board, slot: BoardSlot, now: datetime) -> None:
    if slot_frozen(board, slot, now):
        raise Conflict("slot_frozen")


def topic_notes_open(event: Event, slot: BoardSlot | None, now: datetime) -> bool:
    if slot is not None:
        return now >= slot.starts_at
    return is_over(event, now)


def require_topic_notes_open(event: Event, slot: BoardSlot | None, now: datetime) -> None:
    if not topic_notes_open(event, slot, now):
        raise Conflict("notes_not_open")
