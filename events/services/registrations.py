"""Registration without an account: the registrant's and the organiser's use cases.

One method per use case: ``register``, ``confirm_email``, ``resend_links``, ``cancel``,
``change_guests``, ``erase`` (the registrant's), ``approve``, ``decline``, ``promote``,
``set_capacity``, ``reissue_ticket`` (the organiser's). Each enforces every rule of its use
case, whoever calls it (pages, the door, the API, jobs), and flushes, never commits: the
caller's transaction commits (or rolls back everything on an error).

Places and the waitlist are events/services/places.py's (the only writer of
``Event.taken``, with the never-oversell rule and the promotion rule); when things may
happen (registration open, a registration changeable, the event over) is
events/lifecycle.py's. Everything that touches places first locks the event row
(``Places.lock``), so everything after the lock (duplicate checks, waitlist positions,
promotions) is serialised per event: **call these methods inside a writer session**
(``Database.transaction()`` / a POST request), never ``db.session()``.

Duplicates and probing
----------------------
A double submit carries the same ``request_key`` (the form's nonce): the second submit
returns the first result (outcome ``replayed``) and writes nothing. Registering again with an
address already active for the event (compared lower-case) creates nothing and returns the
existing registration (outcome ``duplicate_resent``); its links are mailed again with a
*further* private link (``RegistrationLink``: only hashes are stored, so a link cannot be
mailed twice, and the links already mailed keep working), at most ``LINKS_AGAIN_LIMIT``
times per window for the address and for the client that sends the form — beyond that,
silently nothing, with the same answer. The page never says that the address was known
(web/templates/registrations/_macros.html, "resent"). With ``event.confirm_email_first``
every registration answers ``pending_email`` whether or not the address was known
(``already_registered`` tells the caller which mail to send, and must never be shown), and
no place is held until ``confirm_email`` — so nobody can probe who registered or fill seats
with others' addresses.

Mail
----
Every method that changes what a registrant should know queues their mail in the same
transaction (events/mail/notify.py), so no caller can forget it and a rolled-back change
mails nothing: registration (confirmed / waitlisted / awaiting approval / "confirm your
address" / links again for a known address), ``confirm_email``, ``resend_links``,
``approve``, ``decline``, ``cancel`` (a receipt), every promotion from the waitlist, and
``reissue_ticket``. Mails that know a private link (register, confirm, resend) carry it;
the others cannot, since only hashes are stored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session, make_transient_to_detached

from events import tickets
from events.attempts import count_attempt
from events.clock import utcnow
from events.content_version import mark_content_changed
from events.errors import Conflict, NotFound, RateLimited, ValidationFailed
from events.lifecycle import (
    registration_changeable,
    require_capacity_changeable,
    require_registration_changeable,
    require_registration_open,
)
from events.mail.notify import MailKind
from events.mail.outbox import forget_registrations
from events.models import Event, Registration, RegistrationLink, RegistrationStatus
from events.models.base import new_id, table_of
from events.models.registrations import ACTIVE_ONLY, INACTIVE_STATUSES
from events.services import exchange_privacy
from events.services.personal_data import (
    clear_personal_data,
    erase_contributions,
    forget_private_links,
)
from events.services.personal_feeds import revoke_feed_tokens
from events.services.places import Places
from events.services.questions import clean_answers, form_questions
from events.services.registration_records import log_registration, mail_registrant
from events.services.registration_records import waitlist_rank as rank_in_waitlist
from events.tokens import hash_token, new_token
from events.validation import (
    NAME_MAX_LENGTH,
    FieldErrors,
    clean_email,
    clean_locale,
    clean_text,
    is_checked,
    parse_int,
)

#: How long an unconfirmed address (``pending_email``) may still be confirmed.
DEFAULT_HOLD = timedelta(hours=24)
MAX_CAPACITY = 100_000
#: Links mailed again ("resend my links", or the form sent again with a registered address):
#: per event, this many times per window for one address, and for one client.
LINKS_AGAIN_LIMIT = 5
LINKS_AGAIN_WINDOW = timedelta(minutes=15)
#: Further private links kept per registration (events/models/registrations.py).
MAX_EXTRA_LINKS = 10


def link_scope(token: str | None) -> dict[str, str]:
    """The parameters that find the registration of the private link ``token``
    (``OPENED_BY_FIRST_LINK``, the added links); ``NotFound`` for what cannot be one."""
    if not token or len(token) > 200:
        raise NotFound()
    return {"hashed": hash_token(token)}


# -- the registration's statements, built once -------------------------------------------
# Core statements with bound parameters, built at import: SQLAlchemy reuses their compiled
# form, where building them anew (and computing their cache keys) on every registration
# was a third of the hottest write's time (docs/performance.md).
_registrations = table_of(Registration)
_same_address = and_(_registrations.c.email == bindparam("email"), text(ACTIVE_ONLY))
_EARLIER_BY_ADDRESS = select(_registrations.c.id).where(
    _registrations.c.event_id == bindparam("event_id"), _same_address
)
_EARLIER_BY_KEY_OR_ADDRESS = select(_registrations.c.id).where(
    _registrations.c.event_id == bindparam("event_id"),
    or_(_registrations.c.request_key == bindparam("request_key"), _same_address),
)
_INSERT_REGISTRATION = insert(_registrations)
#: The registration a private link opens, by its first link's hash or by a link added
#: since (every ``/r/{token}`` page reads one of these first). ``OPENED_BY_FIRST_LINK``
#: binds ``hashed`` (:func:`link_scope`); a page that reads more with the registration
#: may select by it in its own statement (events/services/exchange_access.py).
OPENED_BY_FIRST_LINK = Registration.manage_token_hash == bindparam("hashed")
_BY_MANAGE_TOKEN = select(Registration).where(OPENED_BY_FIRST_LINK)
_BY_ADDED_LINK = (
    select(Registration)
    .join(RegistrationLink, RegistrationLink.registration_id == Registration.id)
    .where(RegistrationLink.token_hash == bindparam("hashed"))
)
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
    #: Who sends the form (an opaque key of the client, e.g. its address): links mailed
    #: again to an address already registered are limited per client too.
    client: str = ""


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


def _clean_request_key(value: str | None) -> str | None:
    key = (value or "").strip()
    # Not user-visible: a malformed nonce is ignored rather than reported.
    if key and len(key) <= 64 and key.isascii() and key.isprintable() and " " not in key:
        return key
    return None


class RegistrationService:
    """Registration rules for one unit of work.

    ``lock=False`` is the TEST-ONLY negative control of events/services/places.py (no row
    lock, no conditional counter update); never use it in the application. ``actor_id`` is
    the organiser acting (recorded in the audit log), None for the registrant.
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
        self.actor_id = actor_id
        self.hold = hold
        self.places = Places(session, lock=lock, actor_id=actor_id)

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
        self.places.lock(event)
        require_registration_open(event, now)
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
            token = None
            if self._may_mail_links_again(event, existing, data.client):
                token = self.add_private_link(existing)
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
            self.places.seat(event, registration, now)
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
        self.places.lock(event)
        self.session.refresh(registration)
        if registration.status is S.PENDING_EMAIL:
            expires = registration.hold_expires_at
            if expires is not None and expires <= now:
                raise Conflict("hold_expired")
            require_registration_open(event, now)
            registration.hold_expires_at = None
            if event.requires_approval:
                registration.status = S.PENDING_APPROVAL
            else:
                self.places.seat(event, registration, now)
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

    def resend_links(
        self, event: Event, email: str, *, client: str = ""
    ) -> RegistrationResult | None:
        """For the "resend my ticket" form: the active registration for ``email`` with a
        further private link to mail, or None. The page must answer the same either way.

        ``client`` (who sends the form) may try ``LINKS_AGAIN_LIMIT`` times per event and
        window, whatever the address (``RateLimited`` beyond: saying so reveals nothing);
        an address gets its links that many times per window, beyond that silently none.
        """
        if client and not self._within_links_limit(f"links|{event.id}|client|{client}"):
            raise RateLimited()
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
        if registration is None or not self._may_mail_links_again(event, registration, ""):
            return None
        token = self.add_private_link(registration)
        self.session.flush()
        self._log(registration, "links_resent")
        self._mail(event, registration, self._links_kind(registration), token)
        return RegistrationResult(
            registration, token, Outcome.DUPLICATE_RESENT, already_registered=True
        )

    # -- organiser decisions ---------------------------------------------------------
    def approve(self, registration: Registration) -> Registration:
        """Approve a pending registration: it takes places if they are free, else it joins
        the waitlist (never over capacity); ``Conflict("event_full")`` without a waitlist.
        Not once the event is over (events/lifecycle.py)."""
        event = self._event_of(registration)
        now = utcnow()
        self.places.lock(event)
        self.session.refresh(registration)
        status = registration.status
        if status in {S.CONFIRMED, S.WAITLISTED}:
            return registration  # already decided: a double submit approves once
        require_registration_changeable(registration, event, now)
        if status is not S.PENDING_APPROVAL:
            raise Conflict("registration_not_pending")
        self.places.seat(event, registration, now)
        self.session.flush()
        self._log(registration, "approved", status=registration.status.value)
        self._mail(event, registration, MailKind.APPROVED)
        return registration

    def decline(self, registration: Registration) -> list[Registration]:
        """Decline a registration (pending, waitlisted or even confirmed, nobody of it let in
        yet, the event not over); frees its places if it held any and returns the parties
        promoted from the waitlist. Declining it again changes nothing."""
        return self._end(registration, S.DECLINED, "declined")

    # -- the registrant's own changes --------------------------------------------------
    def cancel(self, registration: Registration) -> list[Registration]:
        """Cancel (idempotent: a second cancel changes nothing and frees nothing), free the
        party's places and promote from the waitlist; returns the promoted registrations.
        Refused once someone of the party was let in or the event is over, whoever asks
        (``Conflict``: events/lifecycle.py)."""
        return self._end(registration, S.CANCELLED, "cancelled")

    def change_guests(self, registration: Registration, guests: int | str) -> list[Registration]:
        """Change the number of guests (0..allowance). More guests on a confirmed
        registration need free places (``ValidationFailed {"guests": "not_enough_places"}``);
        fewer free places and promote. Returns the promoted registrations. The same rules
        as ``cancel`` for when it may happen (events/lifecycle.py)."""
        event = self._event_of(registration)
        value = parse_int("guests", guests, minimum=0, maximum=event.guest_allowance, required=True)
        assert value is not None
        self.places.lock(event)
        self.session.refresh(registration)
        require_registration_changeable(registration, event, utcnow())
        delta = value - registration.guests
        if delta == 0:
            return []
        promoted: list[Registration] = []
        if registration.status is S.CONFIRMED:
            if delta > 0 and not self.places.take(event, delta):
                raise ValidationFailed({"guests": "not_enough_places"})
            registration.guests = value
            if delta < 0:
                promoted = self.places.release(event, -delta)
        else:
            registration.guests = value
            if registration.status is S.WAITLISTED and delta < 0:
                # A smaller party may fit where the bigger one did not.
                promoted = self.places.promote_waiting(event)
        self.session.flush()
        self._log(registration, "guests_changed", guests=value)
        return promoted

    def erase(self, registration: Registration) -> list[Registration]:
        """Erase the registrant's personal data at their request ("delete my data").

        A registration that may still change (events/lifecycle.py: the event not over,
        nobody of the party let in) is cancelled first (places freed, waitlist promoted);
        otherwise it keeps its status, so the attendance figures stay true. Then the name,
        the address, the opt-in, the form nonce, the ticket and the answers to the
        organiser's questions are removed and no private link works any more (the
        volunteer shifts and feedback given with the ticket go the same way). The row
        stays as an anonymous party (status, guests, dates); the audit log holds ids only.
        Returns the parties promoted by the cancellation."""
        event = self._event_of(registration)
        self.places.lock(event)
        self.session.refresh(registration)
        promoted: list[Registration] = []
        # After the end, or once let in at the door, the status stays: the figures keep it.
        if registration_changeable(registration, event, utcnow()):
            promoted = self._end(registration, S.CANCELLED, "cancelled")
        # Nothing more goes to the erased address: no receipt, no queued mail, no feed.
        forget_registrations(self.session, [registration.id])
        forget_private_links(self.session, [registration.id])
        exchange_privacy.forget_registrations(self.session, [registration.id])
        revoke_feed_tokens(self.session, registration.email)
        erase_contributions(self.session, registration.id)  # their shifts and feedback
        # The same placeholders as the periodic anonymisation, which then skips the row.
        clear_personal_data(registration)
        self.session.flush()
        self._log(registration, "erased")
        return promoted

    # -- capacity ----------------------------------------------------------------------
    def set_capacity(self, event: Event, capacity: int | str | None) -> list[Registration]:
        """Change the capacity (None or "" = unlimited). Lowering it below the people
        already confirmed is refused (``ValidationFailed {"capacity": "below_confirmed"}``);
        raising it promotes from the waitlist. Returns the promoted registrations. Once the
        event is over the capacity is history: a change is ``Conflict("event_over")``."""
        value = parse_int("capacity", capacity, minimum=0, maximum=MAX_CAPACITY)
        self.places.lock(event)
        if value != event.capacity:
            require_capacity_changeable(event, utcnow())
            if value is not None and value < event.taken:
                raise ValidationFailed({"capacity": "below_confirmed"})
            event.capacity = value
            self.session.flush()
        return self.places.promote_waiting(event)

    def promote(self, registration: Registration) -> Registration:
        """An organiser moves one waiting party off the waitlist: it is confirmed if it fits
        in the free places, else ``Conflict("not_enough_free_places")`` (raise the capacity
        first: that promotes in order of arrival). A double submit promotes once; a party
        that is not waiting gives ``Conflict("registration_not_waitlisted")``."""
        event = self._event_of(registration)
        now = utcnow()
        self.places.lock(event)
        self.session.refresh(registration)
        if registration.status is S.CONFIRMED:
            return registration
        if registration.status is not S.WAITLISTED:
            raise Conflict("registration_not_waitlisted")
        require_registration_changeable(registration, event, now)
        self.places.promote_one(registration, event, now)
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
        """The registration a private link (``/r/{token}``) opens: its first link, or one
        added when its links were mailed again (``RegistrationLink``)."""
        return self.session.scalar(_BY_MANAGE_TOKEN, link_scope(token)) or self.by_added_link(token)

    def by_added_link(self, token: str | None) -> Registration:
        """The registration whose links were mailed again with ``token`` among them (a page
        that read by the first link already, events/services/exchange_access.py, asks this
        alone)."""
        registration = self.session.scalar(_BY_ADDED_LINK, link_scope(token))
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
        return rank_in_waitlist(self.session, registration)

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

    @staticmethod
    def _hopeless(event: Event, people: int) -> bool:
        """Full, and no waitlist to wait on."""
        return not Places.fits(event, people) and not event.waitlist_enabled

    def _end(
        self, registration: Registration, status: RegistrationStatus, action: str
    ) -> list[Registration]:
        """Cancel or decline: the registration's places go back, and whoever now fits is
        promoted (events/services/places.py)."""
        event = self._event_of(registration)
        self.places.lock(event)
        self.session.refresh(registration)  # a concurrent cancel may have committed meanwhile
        if not registration.status.is_active:
            return []
        require_registration_changeable(registration, event, utcnow())
        held_places = registration.status is S.CONFIRMED
        # An address nobody confirmed is not written to (it may not be the registrant's).
        address_confirmed = registration.status is not S.PENDING_EMAIL
        registration.status = status
        registration.cancelled_at = utcnow()
        self.session.flush()
        self._log(registration, action, freed=registration.people if held_places else 0)
        if address_confirmed:
            kind = MailKind.DECLINED if status is S.DECLINED else MailKind.CANCELLED
            self._mail(event, registration, kind)
        return self.places.release(event, registration.people) if held_places else []

    def _mail(
        self,
        event: Event,
        registration: Registration,
        kind: MailKind,
        token: str | None = None,
    ) -> None:
        mail_registrant(self.session, event, registration, kind, token)

    @staticmethod
    def _links_kind(registration: Registration) -> MailKind:
        """Links again: the confirmation link while the address is unconfirmed."""
        if registration.status is S.PENDING_EMAIL:
            return MailKind.CONFIRM_EMAIL
        return MailKind.LINKS

    def _may_mail_links_again(self, event: Event, registration: Registration, client: str) -> bool:
        """Whether links may be mailed again to ``registration``'s address now: at most
        ``LINKS_AGAIN_LIMIT`` times per window for the address and, when known, for the
        client. Both counters count (no short cut), so neither can be probed around."""
        allowed = self._within_links_limit(
            f"links|{event.id}|address|{hash_token(registration.email)}"
        )
        if client:
            allowed = self._within_links_limit(f"links|{event.id}|client|{client}") and allowed
        return allowed

    def _within_links_limit(self, key: str) -> bool:
        """Count one more mailing of links under ``key`` (events/attempts.py: atomic)."""
        attempts = count_attempt(self.session, key, window=LINKS_AGAIN_WINDOW)
        return attempts.allowed(LINKS_AGAIN_LIMIT)

    def add_private_link(self, registration: Registration) -> str:
        """A further private link, beside those already mailed (which keep working); the
        oldest further link goes beyond ``MAX_EXTRA_LINKS``."""
        token = new_token()
        self.session.add(
            RegistrationLink(registration_id=registration.id, token_hash=hash_token(token))
        )
        self.session.flush()
        newest = (
            select(RegistrationLink.id)
            .where(RegistrationLink.registration_id == registration.id)
            .order_by(RegistrationLink.created_at.desc(), RegistrationLink.id.desc())
            .limit(MAX_EXTRA_LINKS)
        )
        self.session.execute(
            delete(RegistrationLink).where(
                RegistrationLink.registration_id == registration.id,
                RegistrationLink.id.not_in(newest.scalar_subquery()),
            )
        )
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
        log_registration(self.session, registration, action, self.actor_id, **detail)
