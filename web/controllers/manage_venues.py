"""Organiser pages for a community's venues (``/manage/{community}/venues``): the list,
and one form to add or edit a venue (address, capacity, access notes, map position)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from events.errors import ValidationFailed
from events.models import Community, Membership, Venue
from events.services.venues import VenueInput, VenueService
from web.auth import Access, access
from web.forms import Form
from web.i18n import gettext as _
from web.messages import field_errors
from web.path_objects import MANAGED_VENUE, MEMBERSHIP
from web.rendering import flash, page


class VenueForm(Form):
    name: str = ""
    address: str = ""
    capacity: str = ""
    access_notes: str = ""
    latitude: str = ""
    longitude: str = ""


def _messages(errors: dict[str, str]) -> dict[str, str]:
    """A coordinate is a decimal number: "enter a whole number" would mislead there."""
    return field_errors(
        {
            field: "invalid_coordinate"
            if field in {"latitude", "longitude"} and code == "invalid_number"
            else code
            for field, code in errors.items()
        }
    )


def _venue_input(form: VenueForm) -> VenueInput:
    return VenueInput(**msgspec.structs.asdict(form))


def _form_of(venue: Venue) -> dict[str, str]:
    def number(value: float | int | None) -> str:
        return "" if value is None else str(value)

    return {
        "name": venue.name,
        "address": venue.address,
        "capacity": number(venue.capacity),
        "access_notes": venue.access_notes,
        "latitude": number(venue.latitude),
        "longitude": number(venue.longitude),
    }


def map_link(latitude: float | None, longitude: float | None) -> str | None:
    """An OpenStreetMap page centred on the venue, or None without coordinates."""
    if latitude is None or longitude is None:
        return None
    return (
        f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}"
        f"#map=18/{latitude}/{longitude}"
    )


class ManageVenuesController(Controller):
    path = "/manage/{community:str}/venues"
    include_in_schema = False
    dependencies = {**MEMBERSHIP, **MANAGED_VENUE}

    @get("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def list_venues(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template:
        venues = VenueService(db_session).of_community(membership.community)
        rows = [{"venue": v, "map": map_link(v.latitude, v.longitude)} for v in venues]
        return page(request, "manage/venues/list.html", community=membership.community, rows=rows)

    @get("/new", opt=access(Access.ORGANISER), sync_to_thread=True)
    def new_venue(
        self,
        request: Request,
        community: FromPath[str],
        membership: NamedDependency[Membership],
    ) -> Template:
        return page(request, "manage/venues/form.html", **_context(membership.community))

    @post("/", opt=access(Access.ORGANISER), sync_to_thread=True)
    def create_venue(
        self,
        request: Request,
        community: FromPath[str],
        data: URLEncodedBody[VenueForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        try:
            venue = VenueService(db_session).create(membership.community, _venue_input(data))
        except ValidationFailed as failed:
            return page(
                request,
                "manage/venues/form.html",
                status_code=400,
                **_context(
                    membership.community,
                    form=msgspec.structs.asdict(data),
                    errors=_messages(failed.errors),
                ),
            )
        flash(request, _("Venue “%(name)s” added.", name=venue.name))
        return Redirect(f"/manage/{membership.community.slug}/venues", status_code=303)

    @get("/{venue:str}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def edit_venue(
        self,
        request: Request,
        managed_venue: NamedDependency[Venue],
        membership: NamedDependency[Membership],
    ) -> Template:
        return page(
            request,
            "manage/venues/form.html",
            **_context(membership.community, venue=managed_venue, form=_form_of(managed_venue)),
        )

    @post("/{venue:str}", opt=access(Access.ORGANISER), sync_to_thread=True)
    def update_venue(
        self,
        request: Request,
        managed_venue: NamedDependency[Venue],
        data: URLEncodedBody[VenueForm],
        membership: NamedDependency[Membership],
        db_session: NamedDependency[Session],
    ) -> Template | Redirect:
        try:
            VenueService(db_session).update(managed_venue, _venue_input(data))
        except ValidationFailed as failed:
            return page(
                request,
                "manage/venues/form.html",
                status_code=400,
                **_context(
                    membership.community,
                    venue=managed_venue,
                    form=msgspec.structs.asdict(data),
                    errors=_messages(failed.errors),
                ),
            )
        flash(request, _("Venue “%(name)s” saved.", name=managed_venue.name))
        return Redirect(f"/manage/{membership.community.slug}/venues", status_code=303)


def _context(
    community: Community,
    *,
    venue: Venue | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "community": community,
        "venue": venue,
        "form": form or {},
        "errors": errors or {},
        # The saved position (not the typed one): the link shows where the venue is now.
        "map": map_link(venue.latitude, venue.longitude) if venue else None,
    }
