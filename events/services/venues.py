"""Venues of a community."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from events.errors import NotFound, ValidationFailed
from events.models import Community, Venue
from events.services.slugs import available_slug
from events.validation import FieldErrors, clean_text, parse_int


@dataclass
class VenueInput:
    name: str = ""
    address: str = ""
    capacity: str = ""
    access_notes: str = ""
    latitude: str = ""
    longitude: str = ""


def _coordinate(field: str, value: str, limit: float) -> float | None:
    text = (value or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValidationFailed({field: "invalid_number"}) from None
    if not -limit <= number <= limit:
        raise ValidationFailed({field: "out_of_range"})
    return round(number, 6)


class VenueService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_community(self, community: Community) -> list[Venue]:
        return list(
            self.session.scalars(
                select(Venue).where(Venue.community_id == community.id).order_by(Venue.name)
            )
        )

    def by_slug(self, slug: str) -> Venue:
        venue = self.session.scalar(select(Venue).where(Venue.slug == slug))
        if venue is None:
            raise NotFound()
        return venue

    def slug_in_community(self, community: Community, slug: str) -> Venue:
        """The venue ``slug`` of ``community``; another community's venue is not found."""
        venue = self.by_slug(slug)
        if venue.community_id != community.id:
            raise NotFound()
        return venue

    def in_community(self, community: Community, venue_id: UUID | str) -> Venue:
        venue = self.session.get(Venue, UUID(str(venue_id))) if venue_id else None
        if venue is None or venue.community_id != community.id:
            raise NotFound()
        return venue

    @staticmethod
    def _clean(data: VenueInput) -> dict[str, object]:
        """Every field validated before anything is assigned (all errors at once)."""
        errors = FieldErrors()
        values: dict[str, object] = {
            "name": errors.check(clean_text, "name", data.name, max_length=120),
            "address": errors.check(
                clean_text, "address", data.address, max_length=500, required=False, multiline=True
            )
            or "",
            "capacity": errors.check(
                parse_int, "capacity", data.capacity, minimum=1, maximum=100_000
            ),
            "access_notes": errors.check(
                clean_text,
                "access_notes",
                data.access_notes,
                max_length=2000,
                required=False,
                multiline=True,
            )
            or "",
            "latitude": errors.check(_coordinate, "latitude", data.latitude, 90),
            "longitude": errors.check(_coordinate, "longitude", data.longitude, 180),
        }
        if (values["latitude"] is None) != (values["longitude"] is None):
            errors.add("longitude" if values["longitude"] is None else "latitude", "required")
        errors.raise_if_any()
        return values

    def _apply(self, venue: Venue, data: VenueInput) -> None:
        for name, value in self._clean(data).items():
            setattr(venue, name, value)

    def create(self, community: Community, data: VenueInput) -> Venue:
        venue = Venue(community_id=community.id)
        self._apply(venue, data)
        venue.slug = available_slug(self.session, Venue.slug, venue.name, fallback="venue")
        self.session.add(venue)
        self.session.flush()
        return venue

    def update(self, venue: Venue, data: VenueInput) -> Venue:
        self._apply(venue, data)
        self.session.flush()
        return venue
