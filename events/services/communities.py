"""Communities, their members and roles, and invitations to join them.

Access rule: a user who is not a member of a community is told it does not exist
(``NotFound``), so organiser routes never reveal another community's objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from advanced_alchemy.utils.text import slugify
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, Forbidden, NotFound, ValidationFailed
from events.models import Community, Invitation, Membership, Role, User
from events.tokens import hash_token, new_token
from events.validation import FieldErrors, clean_email, clean_text

INVITATION_LIFETIME = timedelta(days=14)
MAX_SLUG_LENGTH = 60


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation and its token; the token is shown once and never stored."""

    invitation: Invitation
    token: str


#: Every community page starts with it: built once, with a bound parameter.
_BY_SLUG = select(Community).where(Community.slug == bindparam("slug"))


class CommunityService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- reading -----------------------------------------------------------------------
    def by_slug(self, slug: str) -> Community:
        community = self.session.scalar(_BY_SLUG, {"slug": slug})
        if community is None:
            raise NotFound()
        return community

    def memberships_of(self, user: User) -> list[Membership]:
        return list(
            self.session.scalars(
                select(Membership)
                .where(Membership.user_id == user.id)
                .join(Membership.community)
                .order_by(Community.name)
            )
        )

    def membership(self, user_id: UUID | None, slug: str) -> Membership | None:
        if user_id is None:
            return None
        return self.session.scalar(
            select(Membership)
            .join(Membership.community)
            .where(Membership.user_id == user_id, Community.slug == slug)
        )

    def require_role(self, user_id: UUID | None, slug: str, minimum: Role | None) -> Membership:
        """The caller's membership if their role is at least ``minimum`` (any role: None).

        Non-members get ``NotFound`` (the community's private side does not exist for
        them); members with too small a role get ``Forbidden``.
        """
        membership = self.membership(user_id, slug)
        if membership is None:
            raise NotFound()
        if minimum is not None and not membership.role.at_least(minimum):
            raise Forbidden("role_too_low")
        return membership

    def members(self, community: Community) -> list[Membership]:
        return list(
            self.session.scalars(
                select(Membership)
                .where(Membership.community_id == community.id)
                .join(Membership.user)
                .order_by(Membership.role, User.display_name)
            )
        )

    def pending_invitations(self, community: Community) -> list[Invitation]:
        return list(
            self.session.scalars(
                select(Invitation)
                .where(
                    Invitation.community_id == community.id,
                    Invitation.accepted_at.is_(None),
                    Invitation.revoked_at.is_(None),
                    Invitation.expires_at > utcnow(),
                )
                .order_by(Invitation.created_at.desc())
            )
        )

    # -- writing -----------------------------------------------------------------------
    def _available_slug(self, wanted: str) -> str:
        base = (slugify(wanted) or "community")[:MAX_SLUG_LENGTH].strip("-") or "community"
        taken = set(
            self.session.scalars(
                select(Community.slug).where(
                    (Community.slug == base) | Community.slug.like(f"{base}-%")
                )
            )
        )
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        return slug

    def create(self, owner: User, *, name: str | None, description: str | None = "") -> Community:
        errors = FieldErrors()
        name = errors.check(clean_text, "name", name, max_length=120)
        description = errors.check(
            clean_text,
            "description",
            description,
            max_length=5000,
            required=False,
            multiline=True,
        )
        errors.raise_if_any()
        community = Community(
            slug=self._available_slug(name), name=name, description=description or ""
        )
        self.session.add(community)
        self.session.flush()
        self.session.add(Membership(community_id=community.id, user_id=owner.id, role=Role.OWNER))
        self.session.flush()
        return community

    def invite(
        self, community: Community, by: User, *, email: str | None, role: str | None
    ) -> IssuedInvitation:
        errors = FieldErrors()
        email = errors.check(clean_email, "email", email)
        try:
            chosen = Role(role or "")
        except ValueError:
            errors.add("role", "invalid_choice")
            chosen = Role.DOOR
        errors.raise_if_any()
        already = self.session.scalar(
            select(func.count())
            .select_from(Membership)
            .join(Membership.user)
            .where(Membership.community_id == community.id, User.email == email)
        )
        if already:
            raise ValidationFailed({"email": "already_member"})
        token = new_token()
        invitation = Invitation(
            community_id=community.id,
            email=email,
            role=chosen,
            token_hash=hash_token(token),
            invited_by_id=by.id,
            expires_at=utcnow() + INVITATION_LIFETIME,
        )
        self.session.add(invitation)
        self.session.flush()
        return IssuedInvitation(invitation, token)

    def invitation_for_token(self, token: str) -> Invitation:
        invitation = self.session.scalar(
            select(Invitation).where(Invitation.token_hash == hash_token(token))
        )
        if invitation is None or invitation.revoked_at is not None:
            raise NotFound("invitation_unknown")
        if invitation.accepted_at is not None:
            raise Conflict("invitation_used")
        if invitation.expires_at <= utcnow():
            raise Conflict("invitation_expired")
        return invitation

    def accept_invitation(self, token: str, user: User) -> Membership:
        invitation = self.invitation_for_token(token)
        if invitation.email != user.email:
            raise Forbidden("invitation_other_email", email=invitation.email)
        existing = self.membership(user.id, invitation.community.slug)
        invitation.accepted_at = utcnow()
        if existing is not None:
            # Accepting never lowers a role someone already has.
            if invitation.role.rank > existing.role.rank:
                existing.role = invitation.role
            self.session.flush()
            return existing
        membership = Membership(
            community_id=invitation.community_id, user_id=user.id, role=invitation.role
        )
        self.session.add(membership)
        self.session.flush()
        return membership

    def revoke_invitation(self, community: Community, invitation_id: UUID) -> None:
        invitation = self.session.get(Invitation, invitation_id)
        if invitation is None or invitation.community_id != community.id:
            raise NotFound()
        invitation.revoked_at = utcnow()
        self.session.flush()

    def _owner_count(self, community: Community) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.community_id == community.id, Membership.role == Role.OWNER)
            )
            or 0
        )

    def _member(self, community: Community, membership_id: UUID) -> Membership:
        membership = self.session.get(Membership, membership_id)
        if membership is None or membership.community_id != community.id:
            raise NotFound()
        return membership

    def change_role(self, community: Community, membership_id: UUID, role: str | None) -> None:
        membership = self._member(community, membership_id)
        try:
            new_role = Role(role or "")
        except ValueError:
            raise ValidationFailed({"role": "invalid_choice"}) from None
        if (
            membership.role is Role.OWNER
            and new_role is not Role.OWNER
            and self._owner_count(community) == 1
        ):
            raise Conflict("last_owner")
        membership.role = new_role
        self.session.flush()

    def remove_member(self, community: Community, membership_id: UUID) -> None:
        membership = self._member(community, membership_id)
        if membership.role is Role.OWNER and self._owner_count(community) == 1:
            raise Conflict("last_owner")
        self.session.delete(membership)
        self.session.flush()
