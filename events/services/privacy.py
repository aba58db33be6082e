"""Keep personal data only as long as it is useful: anonymise registrations after the event.

A configurable number of days after an event has ended (``ANONYMISE_AFTER_DAYS``, 90 by
default), each of its registrations loses everything that identifies a person, and keeps
what the public figures need:

- removed: the name, the e-mail address (replaced by a placeholder unique per row, so the
  one-active-registration-per-address index still holds), the ticket code, the manage
  token (its hash is replaced by the hash of a token nobody knows, and the further links
  mailed later are deleted: no private link works any more), the double-submit nonce,
  the opt-in, the language and the answers to the organiser's questions (free text may
  say anything about a person);
- kept: the status, the number of guests, the waitlist position and the timestamps, so
  ``RegistrationService.counts`` and the attendance figures do not change.

The audit log (``RegistrationLog``) already holds ids and numbers only. The function is
idempotent and can run as often as one likes (the CLI ``rencontres privacy anonymise``, or
a background loop): rows already anonymised are skipped.

Volunteers' sign-ups of those events go the same way (name and address replaced, private
link dead; the shifts' figures stay), and so do the sign-ups made with a ticket whose
registrant erases their data (``erase_signups``: cancelled first when their shift is still
to come, so the spot is free again and the door link revoked).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.mail.outbox import forget_registrations
from events.models import (
    Event,
    Registration,
    RegistrationLink,
    RegistrationLog,
    ShiftSignup,
    SignupStatus,
)
from events.services.door_links import DoorLinkService
from events.services.personal_feeds import revoke_feed_tokens
from events.services.places import SHIFT_SPOTS, release_spot
from events.tokens import hash_token, new_token

DEFAULT_AFTER_DAYS = 90
ANONYMISED_NAME = "Anonymised"
ANONYMISED_DOMAIN = "anonymised.invalid"  # .invalid can never be a real address (RFC 2606)
BATCH_SIZE = 500


def placeholder_email(registration: Registration) -> str:
    return f"{registration.id.hex}@{ANONYMISED_DOMAIN}"


def is_anonymised(registration: Registration) -> bool:
    return registration.email == placeholder_email(registration)


def anonymise_past_registrations(
    session: Session, *, now: datetime, after_days: int = DEFAULT_AFTER_DAYS
) -> int:
    """Anonymise the registrations of events that ended at least ``after_days`` days before
    ``now``; returns how many rows were anonymised (0 when there is nothing left to do).

    Flushes, never commits: run it in a write transaction (``Database.transaction()``).
    """
    cutoff = now - timedelta(days=max(after_days, 0))
    ended = select(Event.id).where(Event.ends_at <= cutoff)
    query = (
        select(Registration)
        .where(
            Registration.event_id.in_(ended),
            or_(
                Registration.email.not_like(f"%@{ANONYMISED_DOMAIN}"),
                Registration.name != ANONYMISED_NAME,
                Registration.ticket_code.is_not(None),
                Registration.request_key.is_not(None),
                Registration.opt_in.is_(True),
            ),
        )
        .order_by(Registration.id)
    )
    done = 0
    last_id = None
    while True:
        batch_query = query if last_id is None else query.where(Registration.id > last_id)
        batch = list(session.scalars(batch_query.limit(BATCH_SIZE)))
        if not batch:
            anonymise_signups(session, ended)
            return done
        # Mails still queued for them and their personal feed links go too.
        forget_registrations(session, [registration.id for registration in batch])
        forget_private_links(session, [registration.id for registration in batch])
        for registration in batch:
            revoke_feed_tokens(session, registration.email)
            _anonymise(registration)
            session.add(
                RegistrationLog(
                    event_id=registration.event_id,
                    registration_id=registration.id,
                    actor_id=None,
                    action="anonymised",
                    detail={},
                )
            )
        session.flush()
        done += len(batch)
        last_id = batch[-1].id


def forget_private_links(session: Session, registration_ids: list[UUID]) -> None:
    """Delete the further private links of these registrations (their first link is
    replaced by whoever erases them)."""
    session.execute(
        delete(RegistrationLink).where(RegistrationLink.registration_id.in_(registration_ids))
    )


def _anonymise(registration: Registration) -> None:
    registration.name = ANONYMISED_NAME
    registration.email = placeholder_email(registration)
    registration.ticket_code = None
    registration.manage_token_hash = hash_token(new_token())
    registration.request_key = None
    registration.opt_in = False
    registration.locale = "en"
    registration.answers = {}


def anonymise_signups(session: Session, events: Any) -> int:
    """Anonymise the volunteers' sign-ups of ``events`` (ids, or a query of them)."""
    signups = list(
        session.scalars(
            select(ShiftSignup).where(
                ShiftSignup.event_id.in_(events),
                ShiftSignup.email.not_like(f"%@{ANONYMISED_DOMAIN}"),
            )
        )
    )
    for signup in signups:
        _anonymise_signup(signup)
    session.flush()
    return len(signups)


def erase_signups(session: Session, registration_id: UUID) -> None:
    """The registrant erased their data: the sign-ups made with their ticket are cancelled
    when their shift is still to come (spot freed, door link revoked), then anonymised."""
    signups = list(
        session.scalars(select(ShiftSignup).where(ShiftSignup.registration_id == registration_id))
    )
    now = utcnow()
    for signup in signups:
        if signup.status is not SignupStatus.CANCELLED and now < signup.shift.starts_at:
            SHIFT_SPOTS.lock(session, signup.shift_id)
            session.refresh(signup)
            release_spot(session, signup)
            DoorLinkService(session).revoke_for_signup(signup.id)
        _anonymise_signup(signup)
    session.flush()


def _anonymise_signup(signup: ShiftSignup) -> None:
    signup.name = ANONYMISED_NAME
    signup.email = f"{signup.id.hex}@{ANONYMISED_DOMAIN}"
    signup.manage_token_hash = hash_token(new_token())
    signup.locale = "en"
    signup.registration_id = None
