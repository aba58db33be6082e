"""A community's public statistics as an open-data document: one builder for the page's
``/g/{group}/stats.json`` and ``.csv`` and the API's ``/api/v1/communities/{c}/statistics``,
so both publish the same table under the same licence (the small-number rules are
events/services/statistics.py's)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import Community
from events.services.statistics import PublishedMonth, community_months, open_data, publish
from web.settings import Settings


def published_months(session: Session, community: Community) -> list[PublishedMonth]:
    return publish(community_months(session, community, now=utcnow()))


def statistics_document(
    request: Request, community: Community, months: list[PublishedMonth]
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    return open_data(
        months,
        community=community.name,
        url=settings.absolute_url(f"/g/{community.slug}/stats"),
        licence={"name": settings.open_data_licence, "url": settings.open_data_licence_url},
        generated_at=utcnow().replace(second=0, microsecond=0).isoformat(),
    )
