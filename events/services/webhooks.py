"""A community's webhook endpoints: add (the secret shown once), list, remove, enable
again, and the delivery log. Queuing is events/webhook_queue.py's; sending is the job's
(events/jobs/webhooks.py).

Rules: an endpoint's address is an ``http(s)://`` URL, checked again at every delivery
(public addresses only unless allowed, after DNS resolution and on every redirect:
events/fetch.py); at least one event type; at most ``MAX_ENDPOINTS`` per community.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from events.errors import NotFound, ValidationFailed
from events.models import Community, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from events.public_addresses import is_public_address
from events.validation import FieldErrors, clean_url
from events.webhook_queue import EVENT_TYPES, forget_endpoints
from events.webhook_signing import new_secret

MAX_ENDPOINTS = 20
LOG_LENGTH = 100


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    #: ``whsec_...``: shown once.
    secret: str


def clean_endpoint_url(field: str, value: str | None, *, allow_private: bool) -> str:
    url = clean_url(field, value, required=True)
    host = (urlsplit(url).hostname or "").lower()
    if not allow_private and (
        host == "localhost" or host.endswith(".localhost") or _literal_private(host)
    ):
        raise ValidationFailed({field: "private_address"})
    return url


def _literal_private(host: str) -> bool:
    """An address written as such (``10.0.0.1``, ``[::1]``) that is not public: refused at
    once; names are resolved and checked at each delivery."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not is_public_address(host.strip("[]"))


def clean_event_types(field: str, values: list[str] | None) -> str:
    chosen = [value for value in values or [] if value]
    if not chosen:
        raise ValidationFailed({field: "required"})
    if any(value not in EVENT_TYPES for value in chosen):
        raise ValidationFailed({field: "invalid_choice"})
    return "," + ",".join(t for t in EVENT_TYPES if t in chosen) + ","


class WebhookService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def endpoints_of(self, community: Community) -> list[WebhookEndpoint]:
        return list(
            self.session.scalars(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.community_id == community.id)
                .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
            )
        )

    def add(
        self,
        community: Community,
        *,
        url: str | None,
        event_types: list[str] | None,
        allow_private: bool,
    ) -> NewEndpoint:
        errors = FieldErrors()
        clean = errors.check(clean_endpoint_url, "url", url, allow_private=allow_private)
        types = errors.check(clean_event_types, "event_types", event_types)
        if len(self.endpoints_of(community)) >= MAX_ENDPOINTS:
            errors.add("url", "too_many")
        errors.raise_if_any()
        secret = new_secret()
        endpoint = WebhookEndpoint(
            community_id=community.id, url=clean, secret=secret, event_types=types, enabled=True
        )
        self.session.add(endpoint)
        self.session.flush()
        forget_endpoints(self.session)
        return NewEndpoint(endpoint, secret)

    def in_community(self, community: Community, endpoint_id: UUID) -> WebhookEndpoint:
        endpoint = self.session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None or endpoint.community_id != community.id:
            raise NotFound()
        return endpoint

    def remove(self, community: Community, endpoint_id: UUID) -> None:
        """Delete the endpoint and its delivery log."""
        self.session.delete(self.in_community(community, endpoint_id))
        self.session.flush()
        forget_endpoints(self.session)

    def enable(self, community: Community, endpoint_id: UUID) -> WebhookEndpoint:
        """Deliver again to an endpoint that was disabled: a fresh day of retries."""
        endpoint = self.in_community(community, endpoint_id)
        endpoint.enabled, endpoint.disabled_at, endpoint.failing_since = True, None, None
        self.session.flush()
        forget_endpoints(self.session)
        return endpoint

    def deliveries(self, community: Community, *, limit: int = LOG_LENGTH) -> list[WebhookDelivery]:
        """The newest deliveries to the community's endpoints (the delivery log)."""
        return list(
            self.session.scalars(
                select(WebhookDelivery)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookEndpoint.community_id == community.id)
                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                .limit(limit)
            )
        )

    def pending_count(self, endpoint: WebhookEndpoint) -> int:
        return (
            self.session.scalar(
                select(func.count()).where(
                    WebhookDelivery.endpoint_id == endpoint.id,
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                )
            )
            or 0
        )


def give_up_on(session: Session, endpoint_id: UUID, *, now: datetime) -> int:
    """Mark an endpoint's pending deliveries failed (it was disabled); how many."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.FAILED, last_error="endpoint disabled", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
