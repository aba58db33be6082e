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
    SlotFreeze,
)

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
