"""Keep personal data only as long as it is useful: anonymise registrations after the event.

A configurable number of days after an event has ended (``ANONYMISE_AFTER_DAYS``, 90 by
default), each of its registrations loses everything that identifies a person, and keeps
what the public figures need, exactly as when the registrant erases their data
(events/services/personal_data.py declares both):

- removed: the name, the e-mail address (replaced by a placeholder unique per row, so the
  one-active-registration-per-address index still holds), the ticket code, the manage
  token (its hash is replaced by the hash of a token nobody knows, and the further links
  mailed later are deleted: no private link works any more), the double-submit nonce, the
  confirmation deadline, the opt-in, the language and the answers to the organiser's
  questions (free text may say anything about a person);
- also removed: everything they did on the event's offers & needs (pseudonym, what they
  shared, listings, requests both ways: events/services/exchange_privacy.py);
- kept: the status, the number of guests, the waitlist position, the arrivals and the
  timestamps, so ``RegistrationService.counts`` and the attendance figures do not change.

The audit log (``RegistrationLog``) already holds ids and numbers only. The function is
idempotent and can run as often as one likes (the CLI ``rencontres privacy anonymise``, or
a background loop): rows already anonymised are skipped. The volunteers' sign-ups and the
feedback of those events go the same way (events/services/personal_data.py:
``anonymise_contributions``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from events.mail.outbox import forget_registrations
from events.models import Event, Registration, RegistrationLog
from events.services import exchange_privacy
from events.services.personal_data import (
    ANONYMISED_DOMAIN,
    ANONYMISED_NAME,
    anonymise_contributions,
    clear_personal_data,
    forget_private_links,
)
from events.services.personal_feeds import revoke_feed_tokens

DEFAULT_AFTER_DAYS = 90
BATCH_SIZE = 500


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
            anonymise_contributions(session, ended)
            return done
        # Mails still queued for them and their personal feed links go too.
        forget_registrations(session, [registration.id for registration in batch])
        forget_private_links(session, [registration.id for registration in batch])
        exchange_privacy.forget_registrations(session, [registration.id for registration in batch])
        for registration in batch:
            revoke_feed_tokens(session, registration.email)
            clear_personal_data(registration)
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
