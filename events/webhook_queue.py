"""Queue a webhook in the transaction of the change it reports.

Called by the operations that make the change (registration records, the door, events),
below the services so that any of them may call it. One read finds the community's
enabled endpoints subscribed to the type (none: nothing else happens); each gets one
delivery row with the body fixed now, in the caller's transaction: a rolled-back change
leaves no delivery, a committed one cannot lose its delivery.

The body follows the Standard Webhooks shape: ``{"type", "timestamp", "data"}``. ``data``
holds ids and figures, no names or addresses: a receiver that needs them asks the API with
its token (``attendees:read``), so a webhook never spreads personal data further.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint
from events.models.base import new_id, table_of

#: Every type an endpoint may subscribe to.
EVENT_TYPES = (
    "registration.created",
    "registration.confirmed",
    "registration.waitlisted",
    "registration.promoted",
    "registration.cancelled",
    "checkin.created",
    "event.published",
    "event.changed",
    "event.cancelled",
)
_INSERT = insert(table_of(WebhookDelivery))
_endpoints = WebhookEndpoint.__table__


def queue_webhook(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    *,
    community_id: UUID | None = None,
    event_id: UUID | None = None,
    now: datetime | None = None,
) -> int:
    """Queue ``event_type`` with ``data`` for the subscribed endpoints of the community
    (given, or the one of ``event_id``); returns how many deliveries were queued."""
    if event_type not in EVENT_TYPES:
        raise ValueError(event_type)
    query = select(_endpoints.c.id).where(
        _endpoints.c.enabled.is_(True), _endpoints.c.event_types.contains(f",{event_type},")
    )
    if community_id is not None:
        query = query.where(_endpoints.c.community_id == community_id)
    else:
        community = select(Event.community_id).where(Event.id == event_id).scalar_subquery()
        query = query.where(_endpoints.c.community_id == community)
    connection = session.connection()
    endpoint_ids = list(connection.execute(query).scalars())
    if not endpoint_ids:
        return 0
    moment = now or utcnow()
    body = json.dumps(
        {"type": event_type, "timestamp": moment.isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    connection.execute(
        _INSERT,
        [
            {
                "id": new_id(),
                "endpoint_id": endpoint_id,
                "event_type": event_type,
                "body": body,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": moment,
                "last_error": "",
                "created_at": moment,
                "updated_at": moment,
            }
            for endpoint_id in endpoint_ids
        ],
    )
    return len(endpoint_ids)
