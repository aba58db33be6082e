"""The organiser's view of a community's outbox: list, read one message, send again.

Messages belong to a community through ``OutboxMessage.community_id``; every method takes
the community and never returns another community's message. Bodies hold attendees'
private links: the page masks them (events/private_links.py). The body of a mail that
relays what one attendee wrote to another (offers & needs) is never shown to them at all
(:func:`body_for_organisers`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, case, delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from events.clock import utcnow
from events.database import Database
from events.errors import NotFound
from events.mail.notify import BULK_KINDS, MailKind
from events.models import Community, OutboxMessage, OutboxStatus
from events.private_links import mask_private_links

PER_PAGE = 50
#: Sent and failed messages are deleted after this long (they hold names, addresses and
#: links; registrations themselves are anonymised after ANONYMISE_AFTER_DAYS, 90 by default).
RETENTION = timedelta(days=90)


def queued_keys(session: Session, keys: Iterable[str]) -> set[str]:
    r"""Which of these ``dedupe_key``\ s the outbox already holds (a job's mails go once)."""
    wanted = list(keys)
    if not wanted:
        return set()
    found = session.scalars(
        select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(wanted))
    )
    return {key for key in found if key is not None}


#: Mails between attendees: the organisers see that they exist, never what they say.
PRIVATE_KINDS = frozenset({MailKind.EXCHANGE_REQUEST.value})


def body_for_organisers(message: OutboxMessage) -> str | None:
    """The text the organisers may read of ``message``: None for a mail between
    attendees, else the body with its private links masked (events/private_links.py)."""
    if message.kind in PRIVATE_KINDS:
        return None
    return mask_private_links(message.text_body)


@dataclass(frozen=True)
class OutboxPage:
    messages: list[OutboxMessage]
    page: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


class OutboxService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def page_of(
        self, community: Community, *, status: OutboxStatus | None = None, page: int = 1
    ) -> OutboxPage:
        """Newest first, ``PER_PAGE`` a page; a page past the end gives the last one."""
        query = select(OutboxMessage).where(OutboxMessage.community_id == community.id)
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        pages = max(math.ceil(total / PER_PAGE), 1)
        page = min(max(page, 1), pages)
        messages = self.session.scalars(
            query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
        return OutboxPage(messages=list(messages), page=page, pages=pages, total=total)

    def counts(self, community: Community) -> dict[OutboxStatus, int]:
        rows = self.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.community_id == community.id)
            .group_by(OutboxMessage.status)
        )
        counts = dict.fromkeys(OutboxStatus, 0)
        counts.update({status: int(count) for status, count in rows})
        return counts

    def in_community(self, community: Community, message_id: UUID) -> OutboxMessage:
        message = self.session.get(OutboxMessage, message_id)
        if message is None or message.community_id != community.id:
            raise NotFound()
        return message

    def send_again(
        self, community: Community, message_id: UUID, *, now: datetime | None = None
    ) -> bool:
        """Put a failed message back in line with fresh attempts; False if it was not
        failed (already sent, or still being tried: nothing to do)."""
        message = self.in_community(community, message_id)
        return self._requeue(community, [message.id], now) == 1

    def send_all_again(self, community: Community, *, now: datetime | None = None) -> int:
        """Every failed message of the community back in line (after an outage)."""
        return self._requeue(community, None, now)

    def _requeue(self, community: Community, ids: list[UUID] | None, now: datetime | None) -> int:
        statement = update(OutboxMessage).where(
            OutboxMessage.community_id == community.id,
            OutboxMessage.status == OutboxStatus.FAILED,
        )
        if ids is not None:
            statement = statement.where(OutboxMessage.id.in_(ids))
        result = self.session.execute(
            statement.values(
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=now or utcnow(),
                claimed_until=None,
            ).execution_options(synchronize_session="fetch")
        )
        self.session.flush()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


#: Sort key putting every mail before the bulk ones (:data:`BULK_KINDS`): who claims in
#: this order renders and sends a confirmation before a backlog of reminders.
TRANSACTIONAL_FIRST = case(
    (OutboxMessage.kind.in_([kind.value for kind in BULK_KINDS]), 1), else_=0
)


def claim_rows(
    db: Database,
    conditions: tuple[ColumnElement[bool], ...],
    order_by: tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...],
    *,
    limit: int,
    now: datetime,
    until: datetime,
) -> list[UUID]:
    """Claim up to ``limit`` rows meeting ``conditions`` and not claimed by anyone (or whose
    claim expired) until ``until``; returns their ids. One conditional ``UPDATE``, so two
    claimers (the senders or renderers of several processes) never get the same row, on
    SQLite or PostgreSQL; ``claimed_until = until`` identifies the claim afterwards."""
    claimable = (
        *conditions,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )
    # Look first in a read transaction: an idle outbox never takes the write lock.
    with db.session() as session:
        candidates = list(
            session.scalars(
                select(OutboxMessage.id).where(*claimable).order_by(*order_by).limit(limit)
            )
        )
    if not candidates:
        return []
    with db.queued_transaction() as session:
        # The conditions are repeated: a row claimed by another since the SELECT is skipped
        # (PostgreSQL re-checks them after waiting for the row lock).
        return list(
            session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(candidates), *claimable)
                .values(claimed_until=until)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
        )


def purge_old(session: Session, *, now: datetime | None = None) -> int:
    """Delete sent and failed messages written more than ``RETENTION`` ago (pending ones
    are kept: they are still to be sent); returns how many."""
    cutoff = (now or utcnow()) - RETENTION
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status != OutboxStatus.PENDING, OutboxMessage.created_at < cutoff
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def forget_registrations(session: Session, registration_ids: list[UUID]) -> int:
    """Delete every mail to these registrations (their personal data is being erased or
    anonymised; a mail still waiting for them has no one to go to any more)."""
    if not registration_ids:
        return 0
    result = session.execute(
        delete(OutboxMessage).where(OutboxMessage.registration_id.in_(registration_ids))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
