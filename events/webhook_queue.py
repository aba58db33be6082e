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
    hot path makes anyway (the door's one-statement admission on PostgreSQL), so that a community
    without webhooks pays no extra round trip; pass its answer as ``subscribed``."""
    return exists(select(_endpoints.c.id).where(*_subscribed(event_type, community_id)))


_TRANSACTION_ENDPOINTS = "rencontres.webhook_endpoints"


def _enabled_endpoints(
    session: Session, community_id: UUID | None, event_id: UUID | None
) -> list[tuple[UUID, str]]:
    """The enabled endpoints of the community (given, or the one of ``event_id``) with
    their types, read once per transaction: a registration queues two types, and a batch
    of 32 registrations (web/write_batch.py) would otherwise ask 64 times. An endpoint
    added meanwhile by another transaction hears of changes from the next one on, as if
    it had been added after this one."""
    transaction = session.get_transaction()
    held = session.info.get(_TRANSACTION_ENDPOINTS)
    if held is None or held[0] is not transaction:
        held = session.info[_TRANSACTION_ENDPOINTS] = (transaction, {})
    known: dict[tuple[UUID | None, UUID | None], list[tuple[UUID, str]]] = held[1]
    key = (community_id, event_id)
    if key not in known:
        if community_id is None:
            community: Any = (
                select(Event.community_id).where(Event.id == event_id).scalar_subquery()
            )
        else:
            community = community_id
        query = select(_endpoints.c.id, _endpoints.c.event_types).where(
            _endpoints.c.community_id == community, _endpoints.c.enabled.is_(True)
        )
        known[key] = [(row[0], row[1]) for row in session.connection().execute(query)]
    return known[key]


def forget_endpoints(session: Session) -> None:
    """After adding, removing or enabling an endpoint: read them again in this transaction."""
    session.info.pop(_TRANSACTION_ENDPOINTS, None)


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
    if event_type not in EVENT_TYPES:
        raise ValueError(event_type)
    if subscribed is False:
        return 0
    endpoint_ids = [
        endpoint_id
        for endpoint_id, types in _enabled_endpoints(session, community_id, event_id)
        if f",{event_type}," in types
    ]
    if not endpoint_ids:
        return 0
    connection = session.connection()
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
