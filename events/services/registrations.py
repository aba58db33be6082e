"""Registration without an account: capacity, waitlist, approval, e-mail confirmation, tickets.

Never oversell
--------------
``Event.taken`` counts the people holding a confirmed place (registrants plus guests). Every
method that can change it runs as ONE transaction that

1. locks the event row first: ``SELECT ... FROM event WHERE id = :id FOR UPDATE`` — a row
   lock on PostgreSQL, held until the caller commits. SQLite has no row locks (SQLAlchemy
   drops ``FOR UPDATE``): there the caller's write transaction is ``BEGIN IMMEDIATE`` (see
   events/database.py), which serialises all writers, so **call these methods inside a
   writer session** (``Database.transaction()`` / a POST request), never ``db.session()``;
2. takes places with a conditional counter update, and looks at the row count::

       UPDATE event SET taken = taken + :n
        WHERE id = :id AND (capacity IS NULL OR taken + :n <= capacity)

   so even a caller that forgot the lock cannot push ``taken`` over ``capacity``;
3. writes the registration in the same transaction.

Everything after the lock (duplicate checks, waitlist positions, promotions) is serialised
per event, so concurrent requests see each other's committed work. Service methods flush,
never commit: the caller's transaction commits (or rolls back everything on an error).

Waitlist and promotion rule
---------------------------
When the event is full, a new party joins the waitlist (if enabled) and gets the next
``waitlist_position`` (1, 2, 3... in order of arrival, never renumbered; the position shown
to a person is their rank among those still waiting, ``waitlist_rank``). Whenever places free
up (cancellation, fewer guests, capacity raised, a confirmed registration declined) the
waitlist is walked in order of arrival and **every party that fits in the free places is
confirmed; a party too big for the free places is skipped — it keeps its position — and is
confirmed as soon as enough places free up**, ahead of anyone who arrived after it. After
every change no waiting party fits in the free places. A new small party may take a free
place that a bigger waiting party cannot use.

Duplicates and probing
----------------------
A double submit carries the same ``request_key`` (the form's nonce): the second submit
returns the first result (outcome ``replayed``) and writes nothing. Registering again with an
address already active for the event (compared lower-case) creates nothing and returns the
existing registration with a *new* manage token (outcome ``duplicate_resent``): only a hash
of the token is stored, so the links are mailed again with a rotated token, and the previous
link stops working. With ``event.confirm_email_first`` every registration answers
``pending_email`` whether or not the address was known (``already_registered`` tells the
caller which mail to send, and must never be shown), and no place is held until
``confirm_email`` — so nobody can probe who registered or fill seats with others' addresses.

Mail
----
Every method that changes what a registrant should know queues their mail in the same
transaction (events/mail/notify.py), so no caller can forget it and a rolled-back change
mails nothing: registration (confirmed / waitlisted / awaiting approval / "confirm your
address" / links again for a known address), ``confirm_email``, ``resend_links``,
``approve``, ``decline``, ``cancel`` (a receipt), every promotion from the waitlist, and
``reissue_ticket``. Mails that know the manage token (register, confirm, resend) carry the
private link; the others cannot, since only its hash is stored.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from events import tickets
from events.clock import utcnow
from events.content_version import mark_content_changed
from events.errors import Conflict, NotFound, ValidationFailed
from events.mail.notify import MailKind, queue_registration_mail
from events.mail.outbox import forget_registrations
from events.models import Event, EventStatus, Registration, RegistrationLog, RegistrationStatus
from events.models.base import new_id
from events.models.registrations import ACTIVE_ONLY, INACTIVE_STATUSES
from events.services.personal_feeds import revoke_feed_tokens
from events.services.privacy import ANONYMISED_NAME, placeholder_email
from events.services.questions import clean_answers, form_questions
from events.tokens import hash_token, new_token
from events.validation import FieldErrors, clean_email, clean_text, is_checked, parse_int

#: TEST-ONLY hook, called with the session between the capacity check and the write that
#: takes the places (in both lock modes). Tests set it to widen the race window (a short
#: sleep); it must stay None in the application.
_between_check_and_write: Callable[[Session], None] | None = None

#: How long an unconfirmed address (``pending_email``) may still be confirmed.
DEFAULT_HOLD = timedelta(hours=24)
MAX_CAPACITY = 100_000
NAME_MAX_LENGTH = 120

_LOCALE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,4})?$")
#: What ``_lock`` re-reads from the locked event row.
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

# -- the registration's statements, built once -------------------------------------------
# Core statements with bound parameters, built at import: SQLAlchemy reuses their compiled
# form, where building them anew (and computing their cache keys) on every registration
# was a third of the hottest write's time (docs/performance.md).
_events = Event.__table__
_registrations = Registration.__table__
_same_address = and_(_registrations.c.email == bindparam("email"), text(ACTIVE_ONLY))
_EARLIER_BY_ADDRESS = select(_registrations.c.id).where(
    _registrations.c.event_id == bindparam("event_id"), _same_address
)
_EARLIER_BY_KEY_OR_ADDRESS = select(_registrations.c.id).where(
    _registrations.c.event_id == bindparam("event_id"),
    or_(_registrations.c.request_key == bindparam("request_key"), _same_address),
)
_READ_EVENT = select(*(_events.c[name] for name in _LOCKED_FIELDS)).where(
    _events.c.id == bindparam("event_id")
)
_LOCK_EVENT = _READ_EVENT.with_for_update()
_people = bindparam("people")
# ``updated_at`` is left alone: feeds use it, and a registration changes no feed.
_TAKE_PLACES = (
    update(_events)
    .where(
        _events.c.id == bindparam("event_id"),
        or_(_events.c.capacity.is_(None), _events.c.taken + _people <= _events.c.capacity),
    )
    .values(taken=_events.c.taken + _people, updated_at=_events.c.updated_at)
    .returning(_events.c.taken)
)
_INSERT_LOG = insert(RegistrationLog.__table__)
_INSERT_REGISTRATION = insert(_registrations)
#: What ``_insert_new`` writes: every mapped column (attribute keys are the column names)
#: but advanced-alchemy's ``_sentinel``, which only its bulk inserts use.
_REGISTRATION_COLUMNS = tuple(
    attr.key for attr in Registration.__mapper__.column_attrs if not attr.key.startswith("_")
)

S = RegistrationStatus
#: The mail telling a registrant the status they are now in.
_MAIL_FOR_STATUS = {
    S.CONFIRMED: MailKind.CONFIRMED,
    S.WAITLISTED: MailKind.WAITLISTED,
    S.PENDING_APPROVAL: MailKind.PENDING_APPROVAL,
    S.PENDING_EMAIL: MailKind.CONFIRM_EMAIL,
}


class Outcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    PENDING_APPROVAL = "pending_approval"
    PENDING_EMAIL = "pending_email"
    #: The address is already registered: nothing new, the links are to be mailed again.
    DUPLICATE_RESENT = "duplicate_resent"
    #: The same form was submitted again (same ``request_key``): nothing new.
    REPLAYED = "replayed"


@dataclass
class RegistrationInput:
    """What a registrant submits. Forms send strings; checkboxes send "on"."""

    name: str = ""
    email: str = ""
    guests: str | int = ""
    consent: bool | str = False
    opt_in: bool | str = False
    locale: str = "en"
    #: The form's random nonce (idempotency key of a double submit); optional.
    request_key: str = ""
    #: The raw values of the event's questions, by form field name ``q_<id>`` (a string, or
    #: a list for multiple choice); events/services/questions.py cleans them.
    answers: dict[str, Any] | None = None


@dataclass(frozen=True)
class CleanRegistration:
    name: str
    email: str
    guests: int
    opt_in: bool
    locale: str
    request_key: str | None
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RegistrationResult:
    registration: Registration
    #: The manage token, to be mailed (``/r/{token}``); None when there is nothing to mail
    #: (a replayed submit: the first one's mail is already on its way).
    manage_token: str | None
    outcome: Outcome
    #: The address was already registered (for choosing the mail; NEVER shown to the
    #: visitor when ``confirm_email_first`` is on).
    already_registered: bool = False


def clean_locale(value: str | None) -> str:
    locale = (value or "").strip()
    return locale if len(locale) <= 8 and _LOCALE.match(locale) else "en"


def _clean_request_key(value: str | None) -> str | None:
    key = (value or "").strip()
    # Not user-visible: a malformed nonce is ignored rather than reported.
    if key and len(key) <= 64 and key.isascii() and key.isprintable() and " " not in key:
        return key
    return None


class RegistrationService:
    """Registration rules for one unit of work.

    ``lock=False`` is a TEST-ONLY switch for the negative control of the concurrency test:
    it skips the ``FOR UPDATE`` row lock AND the conditional counter update, doing instead
    the classic bug "read the count, check it in Python, write ``taken = :value``". It exists
    to prove that the concurrency test can fail; never use it in the application.
    ``actor_id`` is the organiser acting (recorded in the audit log), None for the registrant.
    """

    def __init__(
        self,
        session: Session,
        *,
        lock: bool = True,
        actor_id: Any = None,
        hold: timedelta = DEFAULT_HOLD,
    ) -> None:
        self.session = session
        self.lock = lock
        self.actor_id = actor_id
        self.hold = hold

    # -- validation ------------------------------------------------------------------
    def clean(self, event: Event, data: RegistrationInput) -> CleanRegistration:
        """Validate every field at once; raises ``ValidationFailed`` with field codes."""
        errors = FieldErrors()
        name = errors.check(clean_text, "name", data.name, max_length=NAME_MAX_LENGTH)
        email = errors.check(clean_email, "email", data.email)
        guests = errors.check(
            parse_int, "guests", data.guests, minimum=0, maximum=event.guest_allowance
        )
        if not is_checked(data.consent):
            errors.add("consent", "required")
        answers = errors.check(clean_answers, form_questions(event), data.answers)
        errors.raise_if_any()
        return CleanRegistration(
            name=name,
            email=email,
            guests=guests or 0,
            opt_in=is_checked(data.opt_in),
            locale=clean_locale(data.locale),
            request_key=_clean_request_key(data.request_key),
            answers=answers,
        )

    # -- registering -----------------------------------------------------------------
    def register(self, event: Event, data: RegistrationInput) -> RegistrationResult:
        """Register a party; see the module docstring for outcomes and duplicates.

        Raises ``ValidationFailed`` (field codes), ``Conflict("registration_closed")`` when
        the event is not published or has ended, ``Conflict("event_full")`` when it is full
        and has no waitlist.
        """
        clean = self.clean(event, data)
        now = utcnow()
        self._lock(event)
        self._check_open(event, now)
        people = 1 + clean.guests
        request_key = clean.request_key
        previous, existing = self._earlier(event, clean.email, request_key)
        if previous is not None:
            if previous.email == clean.email:
                outcome = Outcome.PENDING_EMAIL if event.confirm_email_first else None
                return RegistrationResult(previous, None, outcome or Outcome.REPLAYED)
            request_key = None  # the same form reused for someone else: a new registration
        if event.confirm_email_first and self._hopeless(event, people):
            # Checked before looking at the address, so the answer does not depend on it.
            raise Conflict("event_full")
        if existing is not None:
            token = self._rotate_manage_token(existing)
            if existing.status is S.PENDING_EMAIL:
                existing.hold_expires_at = now + self.hold
            self.session.flush()
            self._log(existing, "links_resent")
            self._mail(event, existing, self._links_kind(existing), token)
            outcome = Outcome.PENDING_EMAIL if event.confirm_email_first else None
            return RegistrationResult(
                existing, token, outcome or Outcome.DUPLICATE_RESENT, already_registered=True
            )
        if event.requires_approval and self._hopeless(event, people):
            raise Conflict("event_full")
        token = new_token()
        # Every column is given: the row is written with one Core insert (_insert_new).
        registration = Registration(
            id=new_id(),
            created_at=now,
            updated_at=now,
            event_id=event.id,
            name=clean.name,
            email=clean.email,
            guests=clean.guests,
            status=None,
            waitlist_position=None,
            manage_token_hash=hash_token(token),
            ticket_code=None,
            locale=clean.locale,
            opt_in=clean.opt_in,
            consent_at=now,
            request_key=request_key,
            confirmed_at=None,
            cancelled_at=None,
            hold_expires_at=None,
            answers=clean.answers,
            walk_in=False,
            arrived=0,
        )
        if event.confirm_email_first:
            registration.status = S.PENDING_EMAIL
            registration.hold_expires_at = now + self.hold
        elif event.requires_approval:
            registration.status = S.PENDING_APPROVAL
        else:
            self._place(event, registration, now)
        self._insert_new(registration)
        self._log(registration, "registered", status=registration.status.value, people=people)
        self._mail(event, registration, _MAIL_FOR_STATUS[registration.status], token)
        return RegistrationResult(registration, token, Outcome(registration.status.value))

    def _earlier(
        self, event: Event, email: str, request_key: str | None
    ) -> tuple[Registration | None, Registration | None]:
        """In one query: the registration this form already made (same ``request_key``: a
        double submit), and the active registration of this address, if any."""
        # Core first: on the hot path nothing matches, and no ORM object is needed.
        found = self.session.connection().execute(
            _EARLIER_BY_ADDRESS if request_key is None else _EARLIER_BY_KEY_OR_ADDRESS,
            {"event_id": event.id, "email": email, "request_key": request_key},
        )
        ids = [row.id for row in found]
        if not ids:
            return None, None
        matches = self.session.scalars(select(Registration).where(Registration.id.in_(ids))).all()
        previous = (
            None
            if request_key is None
            else next((r for r in matches if r.request_key == request_key), None)
        )
        existing = next(
            (r for r in matches if r.email == email and r.status not in INACTIVE_STATUSES), None
        )
        return previous, existing

    def confirm_email(self, token: str) -> RegistrationResult:
        """The registrant clicked the link mailed to them: take a place now (or join the
        waitlist, or wait for approval). A second click changes nothing."""
        registration = self.by_manage_token(token)
        event = self._event_of(registration)
        now = utcnow()
        self._lock(event)
        self.session.refresh(registration)
        if registration.status is S.PENDING_EMAIL:
            expires = registration.hold_expires_at
            if expires is not None and expires <= now:
                raise Conflict("hold_expired")
            self._check_open(event, now)
            registration.hold_expires_at = None
            if event.requires_approval:
                registration.status = S.PENDING_APPROVAL
            else:
                self._place(event, registration, now)
            self.session.flush()
            self._log(registration, "email_confirmed", status=registration.status.value)
            self._mail(event, registration, _MAIL_FOR_STATUS[registration.status], token)
        elif not registration.status.is_active:
            expired = (
                registration.status is S.CANCELLED
                and registration.confirmed_at is None
                and registration.hold_expires_at is not None
            )
            raise Conflict("hold_expired" if expired else "registration_cancelled")
        return RegistrationResult(registration, None, Outcome(registration.status.value))

    def expire_holds(self, now: datetime | None = None) -> int:
        """Cancel unconfirmed addresses whose hold has expired (they held no place)."""
        now = now or utcnow()
        expired = list(
            self.session.scalars(
                select(Registration).where(
                    Registration.status == S.PENDING_EMAIL, Registration.hold_expires_at <= now
                )
            )
        )
        for registration in expired:
            registration.status = S.CANCELLED
            registration.cancelled_at = now
        self.session.flush()
        for registration in expired:
            self._log(registration, "hold_expired")
        return len(expired)

    def resend_links(self, event: Event, email: str) -> RegistrationResult | None:
        """For the "resend my ticket" form: the active registration for ``email`` with a new
        manage token to mail, or None. The page must answer the same either way."""
        try:
            address = clean_email("email", email)
        except ValidationFailed:
            return None
        registration = self.session.scalar(
            select(Registration).where(
                Registration.event_id == event.id,
                Registration.email == address,
                Registration.status.not_in(INACTIVE_STATUSES),
            )
        )
        if registration is None:
            return None
        token = self._rotate_manage_token(registration)
        self.session.flush()
        self._log(registration, "links_resent")
        self._mail(event, registration, self._links_kind(registration), token)
        return RegistrationResult(
            registration, token, Outcome.DUPLICATE_RESENT, already_registered=True
        )

    # -- organiser decisions ---------------------------------------------------------
    def approve(self, registration: Registration) -> Registration:
        """Approve a pending registration: it takes places if they are free, else it joins
        the waitlist (never over capacity); ``Conflict("event_full")`` without a waitlist."""
        event = self._event_of(registration)
        now = utcnow()
        self._lock(event)
        self.session.refresh(registration)
        status = registration.status
        if status in {S.CONFIRMED, S.WAITLISTED}:
            return registration  # already decided: a double submit approves once
        if not status.is_active:
            raise Conflict("registration_cancelled")
        if status is not S.PENDING_APPROVAL:
            raise Conflict("registration_not_pending")
        self._place(event, registration, now)
        self.session.flush()
        self._log(registration, "approved", status=registration.status.value)
        self._mail(event, registration, MailKind.APPROVED)
        return registration

    def decline(self, registration: Registration) -> list[Registration]:
        """Decline a registration (pending, waitlisted or even confirmed); frees its places
        if it held any and returns the parties promoted from the waitlist."""
        return self._end(registration, S.DECLINED, "declined")

    # -- the registrant's own changes --------------------------------------------------
    def cancel(self, registration: Registration) -> list[Registration]:
        """Cancel (idempotent: a second cancel changes nothing and frees nothing), free the
        party's places and promote from the waitlist; returns the promoted registrations."""
        return self._end(registration, S.CANCELLED, "cancelled")

    def change_guests(self, registration: Registration, guests: int | str) -> list[Registration]:
        """Change the number of guests (0..allowance). More guests on a confirmed
        registration need free places (``ValidationFailed {"guests": "not_enough_places"}``);
        fewer free places and promote. Returns the promoted registrations."""
        event = self._event_of(registration)
        value = parse_int("guests", guests, minimum=0, maximum=event.guest_allowance, required=True)
        assert value is not None
        self._lock(event)
        self.session.refresh(registration)
        if not registration.status.is_active:
            raise Conflict("registration_cancelled")
        delta = value - registration.guests
        if delta == 0:
            return []
        if registration.status is S.CONFIRMED:
            if delta > 0 and not self._take(event, delta):
                raise ValidationFailed({"guests": "not_enough_places"})
            if delta < 0:
                self._release(event, -delta)
        registration.guests = value
        self.session.flush()
        self._log(registration, "guests_changed", guests=value)
        if registration.status is S.CONFIRMED and delta > 0:
            return []
        if registration.status in {S.CONFIRMED, S.WAITLISTED}:
            return self._promote(event)
        return []

    def erase(self, registration: Registration) -> list[Registration]:
        """Erase the registrant's personal data at their request ("delete my data").

        An active registration for an event that has not ended is cancelled first (places
        freed, waitlist promoted); after the end it keeps its status, so the attendance
        figures stay true. Then the name, the address, the opt-in, the form nonce, the
        ticket and the answers to the organiser's questions are removed and the manage link
        stops working. The row stays as an anonymous party (status, guests, dates); the
        audit log holds ids only. Returns the parties promoted by the cancellation."""
        event = self._event_of(registration)
        self._lock(event)
        self.session.refresh(registration)
        promoted: list[Registration] = []
        if registration.status.is_active and event.ends_at > utcnow():
            promoted = self._end(registration, S.CANCELLED, "cancelled")
        # Nothing more goes to the erased address: no receipt, no queued mail, no feed.
        forget_registrations(self.session, [registration.id])
        revoke_feed_tokens(self.session, registration.email)
        # The placeholders of events/services/privacy.py: unique per row (the one-active-
        # address-per-event index holds for anonymous parties of a past event), never a
        # deliverable address, and skipped by the periodic anonymisation.
        registration.name = ANONYMISED_NAME
        registration.email = placeholder_email(registration)
        registration.locale = "en"
        registration.opt_in = False
        registration.request_key = None
        registration.answers = {}
        registration.ticket_code = None
        registration.hold_expires_at = None
        registration.manage_token_hash = hash_token(new_token())
        self.session.flush()
        self._log(registration, "erased")
        return promoted

    # -- capacity ----------------------------------------------------------------------
    def set_capacity(self, event: Event, capacity: int | str | None) -> list[Registration]:
        """Change the capacity (None or "" = unlimited). Lowering it below the people
        already confirmed is refused (``ValidationFailed {"capacity": "below_confirmed"}``);
        raising it promotes from the waitlist. Returns the promoted registrations."""
        value = parse_int("capacity", capacity, minimum=0, maximum=MAX_CAPACITY)
        self._lock(event)
        if value is not None and value < event.taken:
            raise ValidationFailed({"capacity": "below_confirmed"})
        if value != event.capacity:
            event.capacity = value
            self.session.flush()
        return self._promote(event)

    def promote_from_waitlist(self, event: Event) -> list[Registration]:
        """Confirm waiting parties that fit in the free places (the rule is in the module
        docstring); returns them in promotion order."""
        self._lock(event)
        return self._promote(event)

    def promote(self, registration: Registration) -> Registration:
        """An organiser moves one waiting party off the waitlist: it is confirmed if it fits
        in the free places, else ``Conflict("not_enough_free_places")`` (raise the capacity
        first: that promotes in order of arrival). A double submit promotes once; a party
        that is not waiting gives ``Conflict("registration_not_waitlisted")``."""
        event = self._event_of(registration)
        now = utcnow()
        self._lock(event)
        self.session.refresh(registration)
        if registration.status is S.CONFIRMED:
            return registration
        if registration.status is not S.WAITLISTED:
            raise Conflict("registration_not_waitlisted")
        if not self._take(event, registration.people):
            raise Conflict("not_enough_free_places")
        self._confirm(registration, now)
        self.session.flush()
        self._log(registration, "promoted", position=registration.waitlist_position, manual=True)
        self._mail(event, registration, MailKind.PROMOTED)
        return registration

    # -- tickets -----------------------------------------------------------------------
    def reissue_ticket(self, registration: Registration) -> str:
        """A new ticket code for a confirmed registration; the old code stops working."""
        if registration.status is not S.CONFIRMED:
            raise Conflict("no_ticket")
        code = tickets.reissue_ticket(registration)
        self.session.flush()
        self._log(registration, "ticket_reissued")
        self._mail(self._event_of(registration), registration, MailKind.TICKET)
        return code

    # -- reading -----------------------------------------------------------------------
    def by_manage_token(self, token: str | None) -> Registration:
        if not token or len(token) > 200:
            raise NotFound()
        registration = self.session.scalar(
            select(Registration).where(Registration.manage_token_hash == hash_token(token))
        )
        if registration is None:
            raise NotFound()
        return registration

    def by_ticket_code(self, code: str | None) -> Registration:
        """The registration whose ticket is ``code`` (a bare code or the ticket URL)."""
        normalised = tickets.normalise_ticket_code(code)
        if normalised is None:
            raise NotFound()
        registration = self.session.scalar(
            select(Registration).where(Registration.ticket_code == normalised)
        )
        if registration is None:
            raise NotFound()
        return registration

    def counts(self, event: Event) -> dict[str, int]:
        """Confirmed people (guests included), confirmed registrations and their guests,
        waiting parties and people, pending (approval + e-mail), cancelled, declined."""
        rows = self.session.execute(
            select(
                Registration.status,
                func.count(),
                func.coalesce(func.sum(Registration.guests), 0),
            )
            .where(Registration.event_id == event.id)
            .group_by(Registration.status)
        ).all()
        parties = {status: 0 for status in S}
        guests = {status: 0 for status in S}
        for status, count, guest_sum in rows:
            parties[status], guests[status] = int(count), int(guest_sum)
        return {
            "confirmed": parties[S.CONFIRMED] + guests[S.CONFIRMED],
            "registrations": parties[S.CONFIRMED],
            "guests": guests[S.CONFIRMED],
            "waitlist": parties[S.WAITLISTED],
            "waitlist_people": parties[S.WAITLISTED] + guests[S.WAITLISTED],
            "pending": parties[S.PENDING_APPROVAL] + parties[S.PENDING_EMAIL],
            "pending_approval": parties[S.PENDING_APPROVAL],
            "pending_email": parties[S.PENDING_EMAIL],
            "cancelled": parties[S.CANCELLED],
            "declined": parties[S.DECLINED],
        }

    def waitlist_rank(self, registration: Registration) -> int | None:
        """The place in line shown to a waiting person (1 = next), or None."""
        if registration.status is not S.WAITLISTED or registration.waitlist_position is None:
            return None
        ahead = self.session.scalar(
            select(func.count()).where(
                Registration.event_id == registration.event_id,
                Registration.status == S.WAITLISTED,
                Registration.waitlist_position < registration.waitlist_position,
            )
        )
        return (ahead or 0) + 1

    def attendees(
        self,
        event: Event,
        *,
        status: RegistrationStatus | None = None,
        search: str = "",
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Registration]:
        """The organiser's list: optionally one status, optionally a name/e-mail search,
        optionally one page (``offset``/``limit``). Waiting parties come in waitlist order,
        any other selection in order of registration."""
        query = self._attendee_query(event, status, search)
        if status is S.WAITLISTED:
            order: tuple[Any, ...] = (Registration.waitlist_position,)
        else:
            order = (Registration.created_at, Registration.id)
        query = query.order_by(*order).offset(max(offset, 0))
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.scalars(query))

    def count_attendees(
        self, event: Event, *, status: RegistrationStatus | None = None, search: str = ""
    ) -> int:
        """How many registrations ``attendees`` lists with the same filters (for paging)."""
        filtered = self._attendee_query(event, status, search).subquery()
        return self.session.scalar(select(func.count()).select_from(filtered)) or 0

    def waitlist_ranks(self, event: Event) -> dict[Any, int]:
        """Registration id → rank among the parties still waiting (1 = next), in one query."""
        waiting = self.session.scalars(
            select(Registration.id)
            .where(Registration.event_id == event.id, Registration.status == S.WAITLISTED)
            .order_by(Registration.waitlist_position)
        )
        return {registration_id: rank for rank, registration_id in enumerate(waiting, 1)}

    def in_event(self, event: Event, registration_id: Any) -> Registration:
        """One registration of ``event``; ``NotFound`` for an unknown id or another event's."""
        registration = self.session.get(Registration, registration_id)
        if registration is None or registration.event_id != event.id:
            raise NotFound()
        return registration

    @staticmethod
    def _attendee_query(event: Event, status: RegistrationStatus | None, search: str) -> Any:
        query = select(Registration).where(Registration.event_id == event.id)
        if status is not None:
            query = query.where(Registration.status == status)
        term = " ".join((search or "").split())[:120]
        if term:
            pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern += "%"
            query = query.where(
                or_(
                    Registration.name.ilike(pattern, escape="\\"),
                    Registration.email.ilike(pattern, escape="\\"),
                )
            )
        return query

    # -- internals ---------------------------------------------------------------------
    def _event_of(self, registration: Registration) -> Event:
        event = self.session.get(Event, registration.event_id)
        if event is None:
            raise NotFound()
        return event

    def _lock(self, event: Event) -> None:
        """Lock the event row (PostgreSQL; SQLite relies on BEGIN IMMEDIATE) and refresh the
        registration settings and counter from it, so decisions use the committed values.
        Core statements on the session's connection: the hottest write runs this, and the
        ORM's per-statement work was a third of its time (docs/performance.md)."""
        self.session.flush()  # Core does not autoflush: earlier changes must be visible
        query = _LOCK_EVENT if self.lock else _READ_EVENT
        row = self.session.connection().execute(query, {"event_id": event.id}).one()
        for key, value in row._mapping.items():
            set_committed_value(event, key, value)

    @staticmethod
    def _check_open(event: Event, now: datetime) -> None:
        if event.status is not EventStatus.PUBLISHED or event.ends_at <= now:
            raise Conflict("registration_closed")
        if event.is_external:  # mirrored from another calendar: people register there
            raise Conflict("registration_closed")

    @staticmethod
    def _hopeless(event: Event, people: int) -> bool:
        """Full, and no waitlist to wait on."""
        full = event.capacity is not None and event.taken + people > event.capacity
        return full and not event.waitlist_enabled

    def _take(self, event: Event, people: int) -> bool:
        """Take ``people`` places if they are free; True on success."""
        hook = _between_check_and_write
        if not self.lock:
            # TEST-ONLY negative control: read, check, then write an absolute value.
            current, capacity = self.session.execute(
                select(Event.taken, Event.capacity).where(Event.id == event.id)
            ).one()
            if capacity is not None and current + people > capacity:
                return False
            if hook is not None:
                hook(self.session)
            self.session.execute(
                update(Event)
                .where(Event.id == event.id)
                .values(taken=current + people, updated_at=Event.updated_at)
                .execution_options(synchronize_session=False)
            )
            set_committed_value(event, "taken", current + people)
            return True
        if hook is not None:
            hook(self.session)
        result = self.session.connection().execute(
            _TAKE_PLACES, {"event_id": event.id, "people": people}
        )
        row = result.first()
        if row is None:
            return False
        set_committed_value(event, "taken", row[0])
        return True

    def _release(self, event: Event, people: int) -> None:
        result = self.session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(taken=Event.taken - people, updated_at=Event.updated_at)
            .returning(Event.taken)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(event, "taken", result.scalar_one())

    def _place(self, event: Event, registration: Registration, now: datetime) -> None:
        """Confirm the party if it fits, else put it on the waitlist (or refuse)."""
        if self._take(event, registration.people):
            self._confirm(registration, now)
        elif event.waitlist_enabled:
            self._waitlist(event, registration)
        else:
            raise Conflict("event_full")

    @staticmethod
    def _confirm(registration: Registration, now: datetime) -> None:
        registration.status = S.CONFIRMED
        registration.confirmed_at = now
        if registration.ticket_code is None:
            registration.ticket_code = tickets.new_ticket_code()

    def _waitlist(self, event: Event, registration: Registration) -> None:
        registration.status = S.WAITLISTED
        if registration.waitlist_position is None:
            last = self.session.scalar(
                select(func.max(Registration.waitlist_position)).where(
                    Registration.event_id == event.id
                )
            )
            registration.waitlist_position = (last or 0) + 1

    def _end(
        self, registration: Registration, status: RegistrationStatus, action: str
    ) -> list[Registration]:
        event = self._event_of(registration)
        self._lock(event)
        self.session.refresh(registration)  # a concurrent cancel may have committed meanwhile
        if not registration.status.is_active:
            return []
        held_places = registration.status is S.CONFIRMED
        # An address nobody confirmed is not written to (it may not be the registrant's).
        address_confirmed = registration.status is not S.PENDING_EMAIL
        registration.status = status
        registration.cancelled_at = utcnow()
        if held_places:
            self._release(event, registration.people)
        self.session.flush()
        self._log(registration, action, freed=registration.people if held_places else 0)
        if address_confirmed:
            kind = MailKind.DECLINED if status is S.DECLINED else MailKind.CANCELLED
            self._mail(event, registration, kind)
        return self._promote(event) if held_places else []

    def _promote(self, event: Event) -> list[Registration]:
        if event.capacity is not None and event.capacity - event.taken <= 0:
            return []
        waiting = self.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status == S.WAITLISTED)
            .order_by(Registration.waitlist_position)
        ).all()
        promoted: list[Registration] = []
        now = utcnow()
        for registration in waiting:
            free = None if event.capacity is None else event.capacity - event.taken
            if free is not None and free <= 0:
                break
            if free is not None and registration.people > free:
                continue  # too big for now: keeps its position, promoted once it fits
            if self._take(event, registration.people):
                self._confirm(registration, now)
                promoted.append(registration)
        if promoted:
            self.session.flush()
            for registration in promoted:
                self._log(registration, "promoted", position=registration.waitlist_position)
                self._mail(event, registration, MailKind.PROMOTED)
        return promoted

    def _mail(
        self,
        event: Event,
        registration: Registration,
        kind: MailKind,
        token: str | None = None,
    ) -> None:
        """Queue the registrant's mail in this transaction (events/mail/notify.py)."""
        queue_registration_mail(
            self.session,
            event,
            registration,
            kind,
            token=token,
            waitlist_rank=self.waitlist_rank(registration),
        )

    @staticmethod
    def _links_kind(registration: Registration) -> MailKind:
        """Links again: the confirmation link while the address is unconfirmed."""
        if registration.status is S.PENDING_EMAIL:
            return MailKind.CONFIRM_EMAIL
        return MailKind.LINKS

    def _rotate_manage_token(self, registration: Registration) -> str:
        token = new_token()
        registration.manage_token_hash = hash_token(token)
        return token

    def _insert_new(self, registration: Registration) -> None:
        """Write a new registration (every column set) with one Core insert, then attach it
        to the session as already stored: the ORM's flush of one new object was a sixth of
        a registration's time under the event's lock (docs/performance.md)."""
        values = {key: getattr(registration, key) for key in _REGISTRATION_COLUMNS}
        self.session.connection().execute(_INSERT_REGISTRATION, values)
        make_transient_to_detached(registration)
        self.session.add(registration)
        mark_content_changed(self.session)  # the ORM's flush would have noted it

    def _log(self, registration: Registration, action: str, **detail: Any) -> None:
        """Append to the audit log: ids, statuses and numbers only, never names. A Core
        insert, nothing the session has to track (it is written, never read back here)."""
        self.session.connection().execute(
            _INSERT_LOG,
            {
                "event_id": registration.event_id,
                "registration_id": registration.id,
                "actor_id": self.actor_id,
                "action": action,
                "detail": detail,
            },
        )
