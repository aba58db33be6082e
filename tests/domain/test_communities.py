from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, Forbidden, NotFound, ValidationFailed
from events.models import Invitation, Role
from events.services.communities import CommunityService
from tests.factories import Factories


def test_creating_a_community_makes_the_creator_its_owner(make: Factories, db: Database) -> None:
    owner = make.user()
    with db.transaction() as session:
        community = CommunityService(session).create(owner, name="Café des Sciences — Été!")
    assert community.slug == "cafe-des-sciences-ete"
    with db.session() as session:
        membership = CommunityService(session).require_role(owner.id, community.slug, Role.OWNER)
    assert membership.role is Role.OWNER


def test_slugs_stay_unique(make: Factories, db: Database) -> None:
    owner = make.user()
    with db.transaction() as session:
        slugs = [CommunityService(session).create(owner, name="Meetup").slug for _ in range(3)]
    assert slugs == ["meetup", "meetup-2", "meetup-3"]


def test_a_name_made_only_of_symbols_still_gets_a_slug(make: Factories, db: Database) -> None:
    owner = make.user()
    with db.transaction() as session:
        community = CommunityService(session).create(owner, name="🎉🎉")
    assert community.slug == "community"


def test_outsiders_are_told_the_community_does_not_exist(make: Factories, db: Database) -> None:
    community = make.community()
    stranger = make.user()
    with db.session() as session, pytest.raises(NotFound):
        CommunityService(session).require_role(stranger.id, community.slug, Role.DOOR)


def test_a_door_volunteer_cannot_act_as_organiser(make: Factories, db: Database) -> None:
    community = make.community()
    door = make.member(community, role=Role.DOOR)
    with db.session() as session:
        service = CommunityService(session)
        assert service.require_role(door.id, community.slug, Role.DOOR).role is Role.DOOR
        with pytest.raises(Forbidden):
            service.require_role(door.id, community.slug, Role.ORGANISER)


def test_an_invitation_is_accepted_once_by_the_invited_address(
    make: Factories, db: Database
) -> None:
    owner = make.user()
    community = make.community(owner=owner)
    invitee = make.user(email="vol@example.org")
    with db.transaction() as session:
        issued = CommunityService(session).invite(
            session.merge(community), owner, email="VOL@example.org", role="door"
        )
    with db.transaction() as session:
        membership = CommunityService(session).accept_invitation(issued.token, invitee)
        assert membership.role is Role.DOOR
    with db.transaction() as session, pytest.raises(Conflict) as used:
        CommunityService(session).accept_invitation(issued.token, invitee)
    assert used.value.code == "invitation_used"


def test_only_a_hash_of_the_invitation_token_is_stored(make: Factories, db: Database) -> None:
    owner = make.user()
    community = make.community(owner=owner)
    with db.transaction() as session:
        issued = CommunityService(session).invite(community, owner, email="a@b.org", role="door")
    assert len(issued.token) >= 32
    assert issued.invitation.token_hash != issued.token


def test_an_invitation_for_another_address_is_refused(make: Factories, db: Database) -> None:
    owner = make.user()
    community = make.community(owner=owner)
    with db.transaction() as session:
        issued = CommunityService(session).invite(community, owner, email="a@b.org", role="door")
    stranger = make.user()
    with db.transaction() as session, pytest.raises(Forbidden):
        CommunityService(session).accept_invitation(issued.token, stranger)


def test_expired_and_forged_invitations_are_refused(make: Factories, db: Database) -> None:
    owner = make.user()
    community = make.community(owner=owner)
    invitee = make.user(email="late@example.org")
    with db.transaction() as session:
        issued = CommunityService(session).invite(
            community, owner, email="late@example.org", role="organiser"
        )
    with db.transaction() as session:
        session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(days=1)))
    with db.transaction() as session, pytest.raises(Conflict) as expired:
        CommunityService(session).accept_invitation(issued.token, invitee)
    assert expired.value.code == "invitation_expired"
    with db.transaction() as session, pytest.raises(NotFound):
        CommunityService(session).accept_invitation(issued.token + "x", invitee)


def test_inviting_checks_the_address_and_the_role(make: Factories, db: Database) -> None:
    owner = make.user(email="own@example.org")
    community = make.community(owner=owner)
    with db.transaction() as session, pytest.raises(ValidationFailed) as failed:
        CommunityService(session).invite(community, owner, email="nope", role="king")
    assert failed.value.errors == {"email": "invalid_email", "role": "invalid_choice"}
    with db.transaction() as session, pytest.raises(ValidationFailed) as member:
        CommunityService(session).invite(community, owner, email="own@example.org", role="door")
    assert member.value.errors == {"email": "already_member"}


def test_the_last_owner_cannot_leave_or_be_demoted(make: Factories, db: Database) -> None:
    owner = make.user()
    community = make.community(owner=owner)
    with db.session() as session:
        membership_id = CommunityService(session).membership(owner.id, community.slug).id
    with db.transaction() as session, pytest.raises(Conflict):
        CommunityService(session).change_role(community, membership_id, "door")
    with db.transaction() as session, pytest.raises(Conflict):
        CommunityService(session).remove_member(community, membership_id)
