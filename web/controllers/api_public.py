"""The public read API (``/api/v1``): communities, venues, events, series. No token, open
CORS, cached with an ETag and 304 like the feeds (web/api_cache.py). Drafts never show.

Handlers parse the query, call one reading operation (events/services/event_listing.py,
the community and venue services, the calls' visible proposals, the board's state, the
published statistics) and present it with web/api_views.py. Only what the public pages
show is here: visible proposals without proposers' names (support counts only where the
call makes them public), board topics with the hosts' first names only if they chose so,
statistics with small numbers suppressed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from sqlalchemy import select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import Community
from events.services.board_state import board_state
from events.services.boards import BoardService
from events.services.communities import CommunityService
from events.services.event_listing import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    EventQuery,
    list_events,
    list_series,
    list_venues,
    next_occurrences,
    public_event,
    series_by_slug,
    venue_by_slug,
)
from events.services.proposal_calls import CallService
from events.services.proposal_listing import visible_cards
from web import api_examples as ex
from web.api_cache import public_json
from web.api_views import (
    EventListOut,
    ProposalListOut,
    board_out,
    call_out,
    community_out,
    event_detail_out,
    event_out,
    proposal_out,
    series_out,
    statistics_out,
    venue_out,
)
from web.auth import Access, access
from web.open_data import published_months, statistics_document
from web.settings import Settings

MAX_COMMUNITIES = 500
Slug = Annotated[str, QueryParameter(max_length=120, description="A slug; empty: any")]
PUBLIC = access(Access.PUBLIC)


def _base_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.base_url


class PublicApiController(Controller):
    path = "/api/v1"
    tags = ["public"]

    @get(
        "/communities",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="List communities",
        responses={200: ex.listed(ex.COMMUNITY), **ex.PUBLIC_ERRORS},
    )
    def list_communities(
        self, request: Request, db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        """Every community, by name."""

        def build() -> object:
            rows = db_session.scalars(
                select(Community).order_by(Community.name, Community.id).limit(MAX_COMMUNITIES)
            )
            return [community_out(c, _base_url(request)) for c in rows]

        return public_json(request, build)

    @get(
        "/communities/{community:str}",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="One community",
        responses={200: ex.ok(ex.COMMUNITY), **ex.PUBLIC_ONE_ERRORS},
    )
    def get_community(
        self, request: Request, community: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        """One community by its slug."""
        found = CommunityService(db_session).by_slug(community)
        return public_json(request, lambda: community_out(found, _base_url(request)))

    @get(
        "/venues",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="List venues",
        responses={200: ex.listed(ex.VENUE), **ex.PUBLIC_ERRORS},
    )
    def list_venues(
        self, request: Request, db_session: NamedDependency[Session], community: Slug = ""
    ) -> Response[bytes]:
        """Every venue, by name; ``community`` keeps one community's."""
        return public_json(
            request,
            lambda: [venue_out(v, _base_url(request)) for v in list_venues(db_session, community)],
        )

    @get(
        "/venues/{venue:str}",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="One venue",
        responses={200: ex.ok(ex.VENUE), **ex.PUBLIC_ONE_ERRORS},
    )
    def get_venue(
        self, request: Request, venue: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        found = venue_by_slug(db_session, venue)
        return public_json(request, lambda: venue_out(found, _base_url(request)))

    @get(
        "/events",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="List public events",
        responses={200: ex.ok(ex.EVENT_LIST), **ex.PUBLIC_ERRORS},
    )
    def list_events(
        self,
        request: Request,
        db_session: NamedDependency[Session],
        community: Slug = "",
        series: Slug = "",
        tag: Slug = "",
        venue: Slug = "",
        starts_from: Annotated[
            datetime | None,
            QueryParameter(
                name="from",
                description="RFC 3339 instant: events not over at that time "
                "(default: now, unless updated_since is given)",
            ),
        ] = None,
        ends_to: Annotated[
            datetime | None,
            QueryParameter(name="to", description="RFC 3339 instant: events starting before"),
        ] = None,
        updated_since: Annotated[
            datetime | None,
            QueryParameter(description="RFC 3339 instant: events changed at or after it"),
        ] = None,
        status: Annotated[
            str, QueryParameter(description="published or cancelled; empty: both")
        ] = "",
        cursor: Annotated[
            str, QueryParameter(max_length=200, description="next_cursor of the previous page")
        ] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> Response[bytes]:
        """Public events in a stable order (start, then id), one page at a time."""
        query = EventQuery(
            community=community,
            series=series,
            tag=tag,
            venue=venue,
            starts_from=starts_from,
            ends_to=ends_to,
            updated_since=updated_since,
            status=status,
            cursor=cursor,
            limit=limit,
        )
        base_url = _base_url(request)

        def build() -> EventListOut:
            now = utcnow()
            page = list_events(db_session, query, now=now)
            following = None
            if page.next_cursor is not None:
                params = {k: v for k, v in request.query_params.items() if k != "cursor"}
                params["cursor"] = page.next_cursor
                following = f"{base_url}/api/v1/events?{urlencode(params)}"
            return EventListOut(
                data=[event_out(event, base_url, now) for event in page.events],
                next_cursor=page.next_cursor,
                next=following,
            )

        return public_json(request, build)

    @get(
        "/events/{event:str}",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="One public event with its programme",
        responses={200: ex.ok(ex.EVENT_DETAIL), **ex.PUBLIC_ONE_ERRORS},
    )
    def get_event(
        self, request: Request, event: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        found = public_event(db_session, event)
        return public_json(request, lambda: event_detail_out(found, _base_url(request), utcnow()))

    @get(
        "/series",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="List recurring series",
        responses={200: ex.listed(ex.SERIES), **ex.PUBLIC_ERRORS},
    )
    def list_series(
        self, request: Request, db_session: NamedDependency[Session], community: Slug = ""
    ) -> Response[bytes]:
        """Every series with its rhythm and next occurrences; ``community`` keeps one's."""

        def build() -> object:
            now = utcnow()
            return [
                series_out(s, next_occurrences(db_session, s, now=now), _base_url(request))
                for s in list_series(db_session, community)
            ]

        return public_json(request, build)

    @get(
        "/series/{series:str}",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="One series",
        responses={200: ex.ok(ex.SERIES), **ex.PUBLIC_ONE_ERRORS},
    )
    def get_series(
        self, request: Request, series: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        found = series_by_slug(db_session, series)
        return public_json(
            request,
            lambda: series_out(
                found, next_occurrences(db_session, found, now=utcnow()), _base_url(request)
            ),
        )

    @get(
        "/communities/{community:str}/statistics",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="A community's public statistics",
        responses={200: ex.ok(ex.STATISTICS), **ex.PUBLIC_ONE_ERRORS},
    )
    def get_statistics(
        self, request: Request, community: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        """Per month: events, people registered and who came, no-shows, new and returning
        people, places from the waiting list; small numbers suppressed (as on
        ``/g/{group}/stats``, under the open-data licence it names)."""
        found = CommunityService(db_session).by_slug(community)
        return public_json(
            request,
            lambda: statistics_out(
                statistics_document(request, found, published_months(db_session, found))
            ),
        )

    @get(
        "/communities/{community:str}/calls",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="A community's calls for proposals",
        responses={200: ex.listed(ex.CALL), **ex.PUBLIC_ONE_ERRORS},
    )
    def list_calls(
        self, request: Request, community: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        """Every call of the community, the most recently opened first."""
        found = CommunityService(db_session).by_slug(community)

        def build() -> object:
            now = utcnow()
            calls = CallService(db_session).of_community(found)
            return [call_out(call, _base_url(request), now) for call in calls]

        return public_json(request, build)

    @get(
        "/communities/{community:str}/calls/{call:str}/proposals",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="A call and its visible proposals",
        responses={200: ex.ok(ex.PROPOSAL_LIST), **ex.PUBLIC_ONE_ERRORS},
    )
    def list_proposals(
        self,
        request: Request,
        community: FromPath[str],
        call: FromPath[str],
        db_session: NamedDependency[Session],
        kind: Slug = "",
        status: Annotated[
            str,
            QueryParameter(
                max_length=40,
                description="published, under_discussion, accepted, declined, merged or "
                "withdrawn; empty: any",
            ),
        ] = "",
    ) -> Response[bytes]:
        """The call and its visible proposals (public status, not hidden by moderation), by
        number; no proposer names."""
        found = CallService(db_session).in_community(
            CommunityService(db_session).by_slug(community), call
        )

        def build() -> ProposalListOut:
            about = call_out(found, _base_url(request), utcnow())
            cards = visible_cards(db_session, found.id, kind=kind, status=status)
            return ProposalListOut(call=about, data=[proposal_out(c, about) for c in cards])

        return public_json(request, build)

    @get(
        "/events/{event:str}/board",
        opt=PUBLIC,
        sync_to_thread=True,
        summary="An event's open-space board",
        responses={200: ex.ok(ex.BOARD), **ex.PUBLIC_ONE_ERRORS},
    )
    def get_board(
        self, request: Request, event: FromPath[str], db_session: NamedDependency[Session]
    ) -> Response[bytes]:
        """Rooms, time slots and the visible topics with where they are placed (404 when
        the event has no board or it is off)."""
        found = public_event(db_session, event)
        board = BoardService(db_session).require(found)
        return public_json(
            request,
            lambda: board_out(board_state(db_session, board), found),
            version=board.version,
        )
