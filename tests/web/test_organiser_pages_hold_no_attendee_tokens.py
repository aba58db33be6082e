"""No organiser page or export shows a token that acts for an attendee (security review,
issue 13 item 4 and issue 14 item 21).

A community's attendees got mails of every kind that carries a private link; then every
GET route an organiser (or the door) can open is read as the community's owner, and its
body searched for every live private-page token, personal-feed token and ticket code.
The routes come from the real app, so a new organiser page is scanned the day it exists.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from events.database import Database
from events.models import Role, Venue
from events.services.communities import CommunityService
from events.services.door_links import DoorLinkService
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.series import SeriesInput, SeriesService
from events.services.volunteers import RoleInput, ShiftInput, VolunteerService
from events.tokens import new_token
from tests.attendee_tokens import attendees_with_every_private_mail
from tests.factories import Factories
from tests.web.conftest import Client
from tests.web.test_authorisation_matrix import ROUTES, _proposals_world, fill
from web.auth import Access

ORGANISER_SURFACES = {Access.USER, Access.DOOR, Access.ORGANISER, Access.OWNER, Access.EVENT_DOOR}
#: Query strings that make a page show more (search results, filters).
QUERIES = {
    "/door/{event:str}/search": ["?q=Person"],
    "/manage/{community:str}/events/{event:str}/attendees": ["", "?q=person", "?status=waitlisted"],
    "/manage/{community:str}/outbox": ["", "?status=pending"],
}


def test_no_organiser_page_shows_an_attendee_token(
    client: Client, db: Database, make: Factories
) -> None:
    owner = make.user()
    community = make.community(owner=owner, slug="ours")
    make.member(community, role=Role.DOOR)
    tokens = attendees_with_every_private_mail(db, make, community)
    event = tokens.event
    with db.transaction() as session:
        ours = CommunityService(session).by_slug("ours")
        series = SeriesService(session).create(
            ours,
            SeriesInput(title="Thursdays", starts_on="2030-01-01", publish="on"),
            today=date(2030, 1, 1),
        )
        ours_event = session.merge(event)
        ProgrammeService(session).add(ours_event, ProgrammeInput(title="Welcome"))
        DoorLinkService(session).create(ours_event, label="Front desk", created_by=owner.id)
        venue = session.scalars(select(Venue).where(Venue.community_id == ours.id)).first()
        assert venue is not None
        membership = CommunityService(session).membership(owner.id, "ours")
        volunteers = VolunteerService(session)
        door_role = volunteers.add_role(ours_event, RoleInput(kind="door"))
        shift = volunteers.add_shift(
            door_role,
            ShiftInput(starts_local="2030-03-07T18:30", ends_local="2030-03-07T20:00", needed="3"),
            created_by=owner.id,
        )
    proposals = _proposals_world(db, new_token(), {"owner": owner})
    values = {
        "call": proposals["call"],
        "number": proposals["number"],
        "role_id": str(door_role.id),
        "shift_id": str(shift.id),
        "category": "room",  # an offers & needs category (the board is on only in the matrix)
        "community": "ours",
        "event": event.slug,
        "venue": venue.slug,
        "series": series.slug,
        "membership_id": str(membership.id),  # type: ignore[union-attr]
    }
    client.login_as(db, owner)

    urls: list[str] = []
    for method, path, level in ROUTES:
        if method != "GET" or level not in ORGANISER_SURFACES:
            continue
        if "{item_id" in path:  # the outbox's messages: every one of them
            urls += [fill(path, {**values, "item_id": str(mail.id)}) for mail in tokens.mails]
            continue
        urls += [fill(path, values) + query for query in QUERIES.get(path, [""])]

    read = 0
    for url in urls:
        response = client.get(url, follow_redirects=False)
        assert response.status_code < 500, url
        body = response.content.decode("utf-8", "replace")
        leaked = [token for token in tokens.values if token in body]
        assert leaked == [], f"{url} shows attendee tokens"
        read += response.status_code == 200 and len(body) > 0
    assert read >= 25 + len(tokens.mails)  # the pages were really read, not refused
