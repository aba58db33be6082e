"""A community whose attendees received mails of every kind that carries a private link,
and every token those mails (and the registrations) hold: for the tests that prove
organisers never see them (events/private_links.py, the organiser pages)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from events.database import Database
from events.models import Community, Event, OutboxMessage, Registration
from events.services.registrations import RegistrationService
from tests.factories import Factories
from tests.mail.scenario import open_event, outbox, person, register, render_queued_mails

#: A token after /r/, /me/ or /t/ in a mail, as the attendee received it.
TOKEN_IN_LINK = re.compile(r"/(?:r|me|t)/([A-Za-z0-9_-]{16,})")


@dataclass(frozen=True)
class AttendeeTokens:
    #: Every private-page token, personal-feed token and ticket code of the attendees.
    values: frozenset[str]
    #: The community's mails, rendered (as the worker leaves them).
    mails: list[OutboxMessage]
    #: The event with confirmed, waiting and cancelled registrations.
    event: Event


def attendees_with_every_private_mail(
    db: Database, make: Factories, community: Community
) -> AttendeeTokens:
    """Confirmed, waitlisted, awaiting approval then approved, waiting to confirm their
    address, links sent again, ticket reissued; one attendee also registered elsewhere."""
    event = open_event(db, make, community=community, capacity="2", title="Pitch night")
    results = [register(db, event, person(n)) for n in (1, 2, 3)]  # 3 waits
    register(db, open_event(db, make, title="Elsewhere"), person(1))
    approval = open_event(db, make, community=community, title="Jury", requires_approval=True)
    results.append(register(db, approval, person(4)))
    confirm_first = open_event(
        db, make, community=community, title="Workshop", confirm_email_first=True
    )
    results.append(register(db, confirm_first, person(5)))
    results.append(register(db, event, person(1)))  # again: the links are mailed anew
    with db.transaction() as session:
        service = RegistrationService(session)
        service.reissue_ticket(session.get(Registration, results[0].registration.id))
        service.approve(session.get(Registration, results[3].registration.id))
        results.append(
            service.resend_links(session.get(Event, event.id), "person2@example.org")  # type: ignore[arg-type]
        )
    render_queued_mails(db)
    mails = outbox(db, community_id=community.id)
    kinds = {mail.kind for mail in mails}
    assert {"confirmed", "waitlisted", "pending_approval", "approved", "confirm_email"} <= kinds
    assert {"links", "ticket"} <= kinds, kinds
    values = {result.manage_token for result in results if result and result.manage_token}
    for mail in outbox(db):
        values.update(TOKEN_IN_LINK.findall(mail.text_body + mail.html_body))
    with db.session() as session:
        values.update(session.scalars(select(Registration.ticket_code)).all())
    values.discard(None)  # type: ignore[arg-type]
    return AttendeeTokens(values=frozenset(values), mails=mails, event=event)
