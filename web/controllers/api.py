"""The JSON API (``/api/v1``), documented at ``/schema``."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.orm import Session

from events.models import Community
from events.services.communities import CommunityService
from web.auth import Access, access


class CommunityOut(msgspec.Struct):
    slug: str
    name: str
    description: str


def _community_out(community: Community) -> CommunityOut:
    return CommunityOut(slug=community.slug, name=community.name, description=community.description)


class ApiController(Controller):
    path = "/api/v1"
    tags = ["communities"]

    @get("/communities", opt=access(Access.PUBLIC), sync_to_thread=True)
    def list_communities(self, db_session: NamedDependency[Session]) -> list[CommunityOut]:
        """Every community, by name."""
        rows = db_session.scalars(select(Community).order_by(Community.name).limit(500))
        return [_community_out(c) for c in rows]

    @get("/communities/{community:str}", opt=access(Access.PUBLIC), sync_to_thread=True)
    def get_community(
        self, community: FromPath[str], db_session: NamedDependency[Session]
    ) -> CommunityOut:
        """One community by its slug; 404 problem details if it does not exist."""
        return _community_out(CommunityService(db_session).by_slug(community))
