"""Queue a webhook in the transaction of the change it reports.

Called by the operations that make the change (registration records, the door, events,
the proposals' trail, the board's topics and placement),
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

from sqlalchemy import ColumnElement, exists, insert, select
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
    "proposal.published",
    "proposal.status_changed",
    "board.topic_posted",
    "board.topic_placed",
)
_INSERT = insert(table_of(WebhookDelivery))
_endpoints = WebhookEndpoint.__table__


def _subscribed(event_type: str, community_id: Any) -> list[ColumnElement[bool]]:
    """The endpoints that hear of ``event_type`` in the community (a value or a column)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(event_type)
    return [
        _endpoints.c.community_id == community_id,
        _endpoints.c.enabled.is_(True),
        _endpoints.c.event_types.contains(f",{event_type},"),
    ]


def anyone_subscribed(event_type: str, community_id: Any) -> ColumnElement[bool]:
    """Whether any endpoint hears of ``event_type``: an EXISTS to fold into a statement a
    hot path makes anyway (the door's one-statement admission), so that a community
    without webhooks pays no extra round trip; pass its answer as ``subscribed``."""
    return exists(select(_endpoints.c.id).where(*_subscribed(event_type, community_id)))


def queue_webhook(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    *,
    community_id: UUID | None = None,
    event_id: UUID | None = None,
    now: datetime | None = None,
    subscribed: bool | None = None,
) -> int:
    """Queue ``event_type`` with ``data`` for the subscribed endpoints of the community
    (given, or the one of ``event_id``); returns how many deliveries were queued.
    ``subscribed``: what :func:`anyone_subscribed` answered in the caller's own statement,
    in this transaction (False: nothing to look up); None: look them up here."""
    if community_id is None:
        community: Any = select(Event.community_id).where(Event.id == event_id).scalar_subquery()
    else:
        community = community_id
    query = select(_endpoints.c.id).where(*_subscribed(event_type, community))
    if subscribed is False:
        return 0
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
