"""The object a route's path names, handed to its handler as a dependency.

Organiser routes (``/manage/{community}/...``): the app-wide guard (web/auth.py) has already
answered 404 to a non-member and 403 to a member whose role is too small; these providers
then look the path's event, series or venue up *within the caller's community*, so another
community's object is 404 exactly like one that does not exist. Public routes get the
event of ``/e/{event}/...`` (drafts are 404 too). What the pages show with the object
(community, venue, tags, cover) loads with it (events/models).

A controller declares the providers it uses in its ``dependencies``; a handler names the
object (``managed_event: NamedDependency[Event]``) instead of looking it up itself.
"""

from __future__ import annotations

from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.orm import Session

from events.models import Event, Membership, Series, Venue
from events.services.events import EventService
from events.services.series import SeriesService
from events.services.venues import VenueService
from web.auth import provide_membership


def provide_managed_event(
    event: FromPath[str],
    membership: NamedDependency[Membership],
    db_session: NamedDependency[Session],
) -> Event:
    """The ``{event}`` of the caller's community, drafts included."""
    return EventService(db_session).in_community(membership.community, event)


def provide_managed_series(
    series: FromPath[str],
    membership: NamedDependency[Membership],
    db_session: NamedDependency[Session],
) -> Series:
    """The ``{series}`` of the caller's community."""
    return SeriesService(db_session).in_community(membership.community, series)


def provide_managed_venue(
    venue: FromPath[str],
    membership: NamedDependency[Membership],
    db_session: NamedDependency[Session],
) -> Venue:
    """The ``{venue}`` of the caller's community."""
    return VenueService(db_session).slug_in_community(membership.community, venue)


def provide_public_event(event: FromPath[str], db_session: NamedDependency[Session]) -> Event:
    """The public (published or cancelled) ``{event}``."""
    return EventService(db_session).by_slug(event)


#: The caller's membership in the path's community (every organiser controller).
MEMBERSHIP = {"membership": Provide(provide_membership, sync_to_thread=True)}
MANAGED_EVENT = {"managed_event": Provide(provide_managed_event, sync_to_thread=True)}
MANAGED_SERIES = {"managed_series": Provide(provide_managed_series, sync_to_thread=True)}
MANAGED_VENUE = {"managed_venue": Provide(provide_managed_venue, sync_to_thread=True)}
PUBLIC_EVENT = {"public_event": Provide(provide_public_event, sync_to_thread=True)}
