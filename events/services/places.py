"""An event's places: the only code that takes, releases or over-books them, and the only
code that promotes from the waitlist.

Never oversell
--------------
``Event.taken`` counts the people holding a confirmed place (registrants plus guests); only
this module writes it. Every change runs inside ONE transaction that

1. locks the event row first (``Places.lock``): ``SELECT ... FROM event WHERE id = :id
   FOR UPDATE`` — a row lock on PostgreSQL, held until the caller commits. SQLite has no row
   locks (SQLAlchemy drops ``FOR UPDATE``): there the caller's write transaction is
   ``BEGIN IMMEDIATE`` (see events/database.py), which serialises all writers, so **use
   this module inside a writer session** (``Database.transaction()`` / a POST request),
   never ``db.session()``;
2. takes places with a conditional counter update, and looks at the row count::

       UPDATE event SET taken = taken + :n
        WHERE id = :id AND (capacity IS NULL OR taken + :n <= capacity)

   so even a caller that forgot the lock cannot push ``taken`` over ``capacity``. The one
   exception is ``take_beyond_capacity``: walk-ins the organiser lets in past the capacity
   (``event.walk_ins_over_capacity``), which the door decides;
3. writes the registration's new state in the same transaction.

Waitlist and promotion rule
---------------------------
When the event is full, a new party joins the waitlist (if enabled) and gets the next
``waitlist_position`` (1, 2, 3... in order of arrival, never renumbered; the position shown
to a person is their rank among those still waiting). Whenever places free up (``release``:
a cancellation, fewer guests, a confirmed registration declined; ``promote_waiting`` after
the capacity was raised) the waitlist is walked in order of arrival and **every party that
fits in the free places is confirmed; a party too big for the free places is skipped — it
keeps its position — and is confirmed as soon as enough places free up**, ahead of anyone
who arrived after it. After every change no waiting party fits in the free places. A new
small party may take a free place that a bigger waiting party cannot use. Nobody is
promoted to an event that is over (events/lifecycle.py): its figures are history.

Each promotion is logged and mailed here (events/services/registration_records.py), so no
caller that frees places can forget to tell the people who got them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from events import tickets
from events.clock import utcnow
from events.errors import Conflict
from events.lifecycle import is_over
from events.mail.notify import MailKind
from events.models import Event, Registration, RegistrationStatus
from events.models.base import table_of
from events.services.registration_records import log_registration, mail_registrant

#: TEST-ONLY hook, called with the session between the capacity check and the write that
#: takes the places (in both lock modes). Tests set it to widen the race window (a short
#: sleep); it must stay None in the application.
_between_check_and_write: Callable[[Session], None] | None = None

S = RegistrationStatus
#: What ``lock`` re-reads from the locked event row: the counter and every setting that
#: decides a registration.
_LOCKED_FIELDS = (
    "taken",
    "capacity",
    "status",
    "ends_at",
    "waitlist_enabled",
    "requires_approval",
    "guest_allowance",
    "confirm_email_first",
)

# -- statements, built once ----------------------------------------------------------------
# Core statements with bound parameters, built at import: SQLAlchemy reuses their compiled
# form, where building them anew (and computing their cache keys) on every registration
# was a third of the hottest write's time (docs/performance.md).
_events = table_of(Event)
_READ_EVENT = select(*(_events.c[name] for name in _LOCKED_FIELDS)).where(
    _events.c.id == bindparam("event_id")
)
_LOCK_EVENT = _READ_EVENT.with_for_update()
_people = bindparam("people", type_=Integer)
# ``updated_at`` is left alone: feeds use it, and a change of places changes no feed.
_TAKE_PLACES = (
    update(_events)
    .where(
        _events.c.id == bindparam("event_id"),
        or_(_events.c.capacity.is_(None), _events.c.taken + _people <= _events.c.capacity),
    )
    .values(taken=_events.c.taken + _people, updated_at=_events.c.updated_at)
    .returning(_events.c.taken)
)
_ADD_TO_TAKEN = (
    update(_events)
    .where(_events.c.id == bindparam("event_id"))
    .values(taken=_events.c.taken + _people, updated_at=_events.c.updated_at)
    .returning(_events.c.taken)
)


class Places:
    """The places of events, within the caller's transaction.

    ``lock=False`` is a TEST-ONLY switch for the negative control of the concurrency tests:
    it skips the ``FOR UPDATE`` row lock AND the conditional counter update, doing instead
    the classic bug "read the count, check it in Python, write ``taken = :value``". It exists
    to prove that the concurrency tests can fail; never use it in the application.
    ``actor_id`` is who acts (recorded in the log of promotions), None for the registrant.
    """

    def __init__(self, session: Session, *, lock: bool = True, actor_id: Any = None) -> None:
        self.session = session
        self.locking = lock
        self.actor_id = actor_id

    def lock(self, event: Event) -> None:
        """Lock the event row (PostgreSQL; SQLite relies on BEGIN IMMEDIATE) and refresh
        the registration settings and counter from it, so decisions use committed values.
        Core statements on the session's connection: the hottest write runs this, and the
        ORM's per-statement work was a third of its time (docs/performance.md)."""
        self.session.flush()  # Core does not autoflush: earlier changes must be visible
        query = _LOCK_EVENT if self.locking else _READ_EVENT
        row = self.session.connection().execute(query, {"event_id": event.id}).one()
        for key, value in row._mapping.items():
            set_committed_value(event, key, value)

    @staticmethod
    def fits(event: Event, people: int) -> bool:
        """Whether ``people`` more fit in the free places (as last read under the lock)."""
        return event.capacity is None or event.taken + people <= event.capacity

    def take(self, event: Event, people: int) -> bool:
        """Take ``people`` places if they are free; True on success."""
        hook = _between_check_and_write
        if not self.locking:
            return self._take_unsafely(event, people)
        if hook is not None:
            hook(self.session)
        row = (
            self.session.connection()
            .execute(_TAKE_PLACES, {"event_id": event.id, "people": people})
            .first()
        )
        if row is None:
            return False
        set_committed_value(event, "taken", row[0])
        return True

    def take_beyond_capacity(self, event: Event, people: int) -> None:
        """Take ``people`` places whatever the capacity: only for walk-ins the organiser
        lets in past it (``event.walk_ins_over_capacity``; the door decides)."""
        self._add(event, people)

    def release(self, event: Event, people: int) -> list[Registration]:
        """Give back ``people`` places and promote whoever now fits; returns them."""
        self._add(event, -people)
        return self.promote_waiting(event)

    def seat(self, event: Event, registration: Registration, now: datetime) -> None:
        """Confirm the party if it fits, else put it on the waitlist (or refuse with
        ``Conflict("event_full")`` when the event has no waitlist)."""
        if self.take(event, registration.people):
            confirm(registration, now)
        elif event.waitlist_enabled:
            self._join_waitlist(event, registration)
        else:
            raise Conflict("event_full")

    def promote_one(self, registration: Registration, event: Event, now: datetime) -> None:
        """Confirm one waiting party chosen by an organiser, if it fits in the free places
        (``Conflict("not_enough_free_places")`` otherwise: raising the capacity promotes in
        order of arrival instead)."""
        if not self.take(event, registration.people):
            raise Conflict("not_enough_free_places")
        confirm(registration, now)

    def promote_waiting(self, event: Event) -> list[Registration]:
        """Confirm the waiting parties that fit (the rule in the module docstring), log and
        mail each; returns them in promotion order. Nothing happens once the event is over."""
        now = utcnow()
        if is_over(event, now) or (event.capacity is not None and event.capacity <= event.taken):
            return []
        waiting = self.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status == S.WAITLISTED)
            .order_by(Registration.waitlist_position)
        ).all()
        promoted: list[Registration] = []
        for registration in waiting:
            free = None if event.capacity is None else event.capacity - event.taken
            if free is not None and free <= 0:
                break
            if free is not None and registration.people > free:
                continue  # too big for now: keeps its position, promoted once it fits
            if self.take(event, registration.people):
                confirm(registration, now)
                promoted.append(registration)
        if promoted:
            self.session.flush()
            for registration in promoted:
                log_registration(
                    self.session,
                    registration,
                    "promoted",
                    self.actor_id,
                    position=registration.waitlist_position,
                )
                mail_registrant(self.session, event, registration, MailKind.PROMOTED)
        return promoted

    # -- internals ---------------------------------------------------------------------
    def _add(self, event: Event, people: int) -> None:
        row = (
            self.session.connection()
            .execute(_ADD_TO_TAKEN, {"event_id": event.id, "people": people})
            .one()
        )
        set_committed_value(event, "taken", row[0])

    def _take_unsafely(self, event: Event, people: int) -> bool:
        """TEST-ONLY negative control: read, check, then write an absolute value."""
        current, capacity = self.session.execute(
            select(Event.taken, Event.capacity).where(Event.id == event.id)
        ).one()
        if capacity is not None and current + people > capacity:
            return False
        if _between_check_and_write is not None:
            _between_check_and_write(self.session)
        self.session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(taken=current + people, updated_at=Event.updated_at)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(event, "taken", current + people)
        return True

    def _join_waitlist(self, event: Event, registration: Registration) -> None:
        registration.status = S.WAITLISTED
        if registration.waitlist_position is None:
            last = self.session.scalar(
                select(func.max(Registration.waitlist_position)).where(
                    Registration.event_id == event.id
                )
            )
            registration.waitlist_position = (last or 0) + 1


def confirm(registration: Registration, now: datetime) -> None:
    """The party holds its places now: confirmed, with a ticket (kept if it had one)."""
    registration.status = S.CONFIRMED
    registration.confirmed_at = now
    if registration.ticket_code is None:
        registration.ticket_code = tickets.new_ticket_code()
