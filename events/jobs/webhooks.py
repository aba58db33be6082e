"""Deliver the queued webhooks (events/webhook_queue.py): the periodic job.

Each round claims the due deliveries (one conditional ``UPDATE``, so two processes never
send the same row at once), posts each with its Standard Webhooks signature
(events/webhook_signing.py) through events/fetch.py's protections, and records the answer.

* A 2xx answer delivers it; the endpoint is healthy again.
* Anything else (another status, a refusal, a timeout) is retried after ``RETRY_DELAYS``
  (about a day in all); then the delivery has failed. The same id and body are sent each
  time, with a fresh timestamp and signature.
* An endpoint that has failed for ``DISABLE_AFTER`` without one success is disabled: its
  pending deliveries fail, and the community's owners and organisers are mailed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from events.database import Database
from events.fetch import FetchPolicy, PostResult, Resolver, post_body
from events.mail.i18n import mail_locale, translations
from events.mail.notify import enqueue
from events.models import (
    DeliveryStatus,
    Membership,
    Role,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from events.services.webhooks import give_up_on
from events.webhook_signing import signed_headers

log = logging.getLogger("rencontres.webhooks")

#: The wait before each retry: the first attempt plus seven retries over a little more
#: than a day, so the last one finds an endpoint that never answered failing for a day.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=8),
    timedelta(hours=9),
)
DISABLE_AFTER = timedelta(days=1)
#: How long a claim keeps other processes off a delivery (longer than one POST can take).
CLAIM_FOR = timedelta(minutes=2)
BATCH = 50
WEBHOOK_POLICY = FetchPolicy(
    connect_timeout=5.0,
    total_timeout=15.0,
    user_agent="Rencontres-Webhooks/1 (+https://www.standardwebhooks.com)",
)


def _claim(db: Database, now: datetime) -> list[UUID]:
    due = (
        WebhookDelivery.status == DeliveryStatus.PENDING,
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
    )
    with db.session() as session:  # an idle outbox never takes the write lock
        candidates = list(
            session.scalars(
                select(WebhookDelivery.id)
                .where(*due)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(BATCH)
            )
        )
    if not candidates:
        return []
    with db.queued_transaction() as session:
        return list(
            session.scalars(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(candidates), *due)
                .values(claimed_until=now + CLAIM_FOR)
                .returning(WebhookDelivery.id)
                .execution_options(synchronize_session=False)
            )
        )


def deliver_due_webhooks(
    db: Database,
    *,
    now: datetime,
    policy: FetchPolicy = WEBHOOK_POLICY,
    resolver: Resolver | None = None,
    base_url: str = "",
) -> int:
    """Send what is due; how many were attempted."""
    attempted = 0
    for delivery_id in _claim(db, now):
        with db.session() as session:
            row = session.execute(
                select(WebhookDelivery, WebhookEndpoint)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.id == delivery_id)
            ).first()
            if row is None:
                continue
            delivery, endpoint = row
            message_id, body = delivery.message_id, delivery.body
            url, secret, enabled = endpoint.url, endpoint.secret, endpoint.enabled
        if not enabled:
            result = PostResult(None, "endpoint disabled")
        else:
            headers = signed_headers(secret, message_id, int(now.timestamp()), body)
            result = post_body(url, body.encode(), headers, policy=policy, resolver=resolver)
        _record(db, delivery_id, result, now, base_url)
        attempted += 1
    return attempted


def _record(
    db: Database, delivery_id: UUID, result: PostResult, now: datetime, base_url: str
) -> None:
    with db.queued_transaction() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        assert endpoint is not None
        delivery.attempts += 1
        delivery.claimed_until = None
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error[:500]
        if result.ok:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
            endpoint.failing_since = None
            return
        if delivery.attempts > len(RETRY_DELAYS) or not endpoint.enabled:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
        if endpoint.failing_since is None:
            endpoint.failing_since = now
        elif endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
            _disable(session, endpoint, now, base_url)


def _disable(session: Session, endpoint: WebhookEndpoint, now: datetime, base_url: str) -> None:
    endpoint.enabled, endpoint.disabled_at = False, now
    session.flush()
    give_up_on(session, endpoint.id, now=now)
    log.warning("webhook endpoint %s disabled after a day of failures", endpoint.id)
    people = session.execute(
        select(User.email, User.locale)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.community_id == endpoint.community_id,
            Membership.role.in_((Role.OWNER, Role.ORGANISER)),
        )
    ).all()
    for email, locale in people:
        gettext = translations(mail_locale(locale)).gettext
        enqueue(
            session,
            kind="webhook_disabled",
            to_address=email,
            subject=gettext("A webhook endpoint was disabled"),
            text_body=gettext(
                "Deliveries to %(url)s of %(community)s have failed for a day, so it was "
                "disabled. See the delivery log and enable it again once it answers: "
                "%(page)s"
            )
            % {
                "url": endpoint.url,
                "community": endpoint.community.name,
                "page": f"{base_url}/manage/{endpoint.community.slug}/webhooks",
            },
            community_id=endpoint.community_id,
            dedupe_key=f"webhook-disabled:{endpoint.id}:{now.date().isoformat()}",
            now=now,
        )
