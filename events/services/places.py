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

Other bounded counters
----------------------
``BoundedCounter`` is the mechanism itself — a counter column bounded by a limit column of
the same row, taken under the row lock with the conditional update above — for any
table: ``Places`` counts an event's places with it, volunteer shifts
(events/services/volunteers.py) count their sign-ups against "how many people needed" with
it. No other module writes a capacity check of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, RowMapping, Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from events import tickets
from events.clock import utcnow
from events.content_version import mark_content_changed
from events.errors import Conflict
from events.lifecycle import is_over
from events.mail.notify import MailKind
from events.models import (
    Event,
    Registration,
    RegistrationStatus,
    Shift,
    ShiftSignup,
    SignupStatus,
)
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


class BoundedCounter:
    """A counter column bounded by a limit column of the same row (a NULL limit: no bound),
    changed only by conditional updates, within the caller's transaction.

    ``lock`` reads the row ``FOR UPDATE`` (PostgreSQL; SQLite relies on ``BEGIN
    IMMEDIATE``, so use it in a writer session); ``take`` adds ``n`` only while
    ``count + n <= limit`` still holds in the row (so even without the lock nothing
    oversells); ``add`` adds (or, negative, gives back) without a bound. The statements
    are Core statements with bound parameters, built once: SQLAlchemy reuses their compiled
    form (building them per call was a third of the hottest write's time,
    docs/performance.md). ``updated_at`` is left alone: a change of a count changes no feed.

    ``locking=False`` is the TEST-ONLY negative control: no row lock and no conditional
    update, but the classic bug "read the count, check it in Python, write the new value".
    """

    def __init__(self, table: Table, *, count: str, limit: str, read: Sequence[str] = ()) -> None:
        columns = table.c
        self.count, self.limit = count, limit
        same_row = columns.id == bindparam("row_id")
        n = bindparam("n", type_=Integer)
        keep = {"updated_at": columns.updated_at} if "updated_at" in columns else {}
        self._read = select(*(columns[name] for name in (read or (count, limit)))).where(same_row)
        self._lock = self._read.with_for_update()
        self._take = (
            update(table)
            .where(
                same_row,
                or_(columns[limit].is_(None), columns[count] + n <= columns[limit]),
            )
            .values({count: columns[count] + n, **keep})
            .returning(columns[count])
        )
        self._add = (
            update(table)
            .where(same_row)
            .values({count: columns[count] + n, **keep})
            .returning(columns[count])
        )
        self._unsafe_read = select(columns[count], columns[limit]).where(same_row)
        self._unsafe_write = update(table).where(same_row).values({count: n, **keep})

    def lock(self, session: Session, row_id: Any, *, locking: bool = True) -> RowMapping:
        """Lock the row (unless ``locking`` is off) and return the ``read`` columns."""
        session.flush()  # Core does not autoflush: earlier changes must be visible
        query = self._lock if locking else self._read
        return session.connection().execute(query, {"row_id": row_id}).one()._mapping

    def take(self, session: Session, row_id: Any, n: int, *, locking: bool = True) -> int | None:
        """Add ``n`` if the bound allows it: the new count, or None (nothing changed)."""
        if not locking:
            return self._take_unsafely(session, row_id, n)
        if _between_check_and_write is not None:
            _between_check_and_write(session)
        row = session.connection().execute(self._take, {"row_id": row_id, "n": n}).first()
        return None if row is None else int(row[0])

    def add(self, session: Session, row_id: Any, n: int) -> int:
        """Add ``n`` whatever the bound (a release, or the door's walk-ins past it)."""
        row = session.connection().execute(self._add, {"row_id": row_id, "n": n}).one()
        return int(row[0])

    def _take_unsafely(self, session: Session, row_id: Any, n: int) -> int | None:
        """TEST-ONLY negative control: read, check, then write an absolute value."""
        current, bound = session.connection().execute(self._unsafe_read, {"row_id": row_id}).one()
        if bound is not None and current + n > bound:
            return None
        if _between_check_and_write is not None:
            _between_check_and_write(session)
        session.connection().execute(self._unsafe_write, {"row_id": row_id, "n": current + n})
        return int(current + n)


#: An event's places: ``taken`` bounded by ``capacity``; ``lock`` re-reads every setting
#: that decides a registration.
EVENT_PLACES = BoundedCounter(table_of(Event), count="taken", limit="capacity", read=_LOCKED_FIELDS)
#: A volunteer shift's spots: ``taken`` (confirmed sign-ups) bounded by ``needed``
#: (events/services/volunteers.py).
SHIFT_SPOTS = BoundedCounter(table_of(Shift), count="taken", limit="needed")


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
        row = EVENT_PLACES.lock(self.session, event.id, locking=self.locking)
        for key, value in row.items():
            set_committed_value(event, key, value)

    @staticmethod
    def fits(event: Event, people: int) -> bool:
        """Whether ``people`` more fit in the free places (as last read under the lock)."""
        return event.capacity is None or event.taken + people <= event.capacity

    def take(self, event: Event, people: int) -> bool:
        """Take ``people`` places if they are free; True on success."""
        taken = EVENT_PLACES.take(self.session, event.id, people, locking=self.locking)
        if taken is None:
            return False
        set_committed_value(event, "taken", taken)
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
        set_committed_value(event, "taken", EVENT_PLACES.add(self.session, event.id, people))

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


def release_spot(session: Session, signup: ShiftSignup) -> None:
    """End a volunteer's sign-up: cancelled, and its spot (if it held one) free again.
    Lock the shift first (``SHIFT_SPOTS.lock``) in a writer session."""
    if signup.status is SignupStatus.CONFIRMED:
        taken = SHIFT_SPOTS.add(session, signup.shift_id, -1)
        set_committed_value(signup.shift, "taken", taken)
        mark_content_changed(session)  # the event page shows the spots left
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = utcnow()
    session.flush()
