"""Personal access tokens of the organiser API: make, list, revoke, and authenticate.

The rules:

* A token belongs to one organiser and one community they are a member of, and carries
  scopes (events/models/api_tokens.py ``Scope``). A door volunteer may only make tokens
  that read events and check people in; organisers and owners may make any scope.
* The token is shown once, when made (``rt_`` + 192 random bits); only its SHA-256 is
  stored, with its first characters so its owner can tell tokens apart.
* On each use the token must exist, not be revoked, not be expired, and its owner must
  still be a member of its community: a member removed or demoted loses what the token
  could do (its scopes are cut to what their role allows *now*).
* A token of another community finds nothing (``NotFound``, as pages answer a
  non-member); a scope the token lacks is ``Forbidden("insufficient_scope")``.
* ``last_used_at`` is written at most once a minute per token, so reads stay reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from events.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from events.models import ApiToken, Community, Membership, Role, Scope, User
from events.services.communities import CommunityService
from events.tokens import hash_token, new_token
from events.validation import FieldErrors, clean_text

TOKEN_PREFIX = "rt_"
#: Characters of the token kept in clear for the list (``rt_`` + 7).
SHOWN_PREFIX = 10
MAX_TOKENS_PER_USER = 50
#: ``last_used_at`` is not written again within this time.
TOUCH_EVERY = timedelta(minutes=1)
SCOPE_VALUES = frozenset(scope.value for scope in Scope)
#: What each role may let a token do.
SCOPES_OF_ROLE = {
    Role.OWNER: frozenset(Scope),
    Role.ORGANISER: frozenset(Scope),
    Role.DOOR: frozenset({Scope.EVENTS_READ, Scope.CHECK_IN}),
    # The open-space board has no API yet: a facilitator's token reads events only.
    Role.FACILITATOR: frozenset({Scope.EVENTS_READ}),
}


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    #: The token itself: shown once, never stored.
    plain: str


@dataclass(frozen=True)
class Caller:
    """Who an authenticated API request acts as."""

    token_id: UUID
    user_id: UUID
    community_id: UUID
    community_slug: str
    #: The token's scopes cut to what its owner's role allows now.
    scopes: frozenset[Scope]
    last_used_at: datetime | None = None

    def due_for_touch(self, now: datetime) -> bool:
        """Whether this use should be recorded (see ``ApiTokenService.touch``)."""
        return self.last_used_at is None or self.last_used_at <= now - TOUCH_EVERY


def clean_scopes(field: str, values: list[str] | None, allowed: frozenset[Scope]) -> list[str]:
    chosen = [value.strip() for value in values or [] if value and value.strip()]
    if not chosen:
        raise ValidationFailed({field: "required"})
    if any(value not in SCOPE_VALUES or Scope(value) not in allowed for value in chosen):
        raise ValidationFailed({field: "invalid_choice"})
    return [scope.value for scope in Scope if scope.value in chosen]


def clean_expiry(field: str, value: str | None, today: date) -> datetime | None:
    """An optional last day of validity (``2027-06-30``): the token works until the end
    of that day (UTC). ``""`` means no expiry."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field: "invalid_date"}) from None
    if day < today:
        raise ValidationFailed({field: "expiry_in_past"})
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


class ApiTokenService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the organiser's tokens -----------------------------------------------------------
    def create(
        self,
        user: User,
        community_slug: str,
        *,
        name: str | None,
        scopes: list[str] | None,
        expires_on: str | None,
        now: datetime,
    ) -> IssuedToken:
        membership = CommunityService(self.session).membership(user.id, community_slug)
        errors = FieldErrors()
        label = errors.check(clean_text, "name", name, max_length=80)
        if membership is None:  # only one's own communities are offered
            errors.add("community", "invalid_choice")
        allowed = SCOPES_OF_ROLE[membership.role] if membership else frozenset()
        chosen = errors.check(clean_scopes, "scopes", scopes, allowed)
        expires_at = errors.check(clean_expiry, "expires_on", expires_on, now.date())
        if len(self.of_user(user)) >= MAX_TOKENS_PER_USER:
            errors.add("name", "too_many")
        errors.raise_if_any()
        assert membership is not None
        plain = TOKEN_PREFIX + new_token()
        token = ApiToken(
            user_id=user.id,
            community_id=membership.community_id,
            name=label,
            token_hash=hash_token(plain),
            prefix=plain[:SHOWN_PREFIX],
            scopes=chosen,
            expires_at=expires_at,
        )
        self.session.add(token)
        self.session.flush()
        return IssuedToken(token, plain)

    def of_user(self, user: User) -> list[ApiToken]:
        """The user's tokens, newest first, revoked ones included (they say so)."""
        return list(
            self.session.scalars(
                select(ApiToken)
                .where(ApiToken.user_id == user.id)
                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
            )
        )

    def revoke(self, user: User, token_id: UUID, *, now: datetime) -> ApiToken:
        """Revoke one of the user's tokens (again: nothing changes)."""
        token = self.session.get(ApiToken, token_id)
        if token is None or token.user_id != user.id:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = now
            self.session.flush()
        return token

    # -- a request ------------------------------------------------------------------------
    def authenticate(self, plain: str | None, *, now: datetime) -> Caller:
        """The caller behind ``plain``; ``Unauthenticated`` (``token_invalid``,
        ``token_revoked`` or ``token_expired``) otherwise."""
        text = (plain or "").strip()
        if not text.startswith(TOKEN_PREFIX) or len(text) > 100:
            raise Unauthenticated()
        row = self.session.execute(
            select(ApiToken, Membership.role)
            .join(
                Membership,
                (Membership.user_id == ApiToken.user_id)
                & (Membership.community_id == ApiToken.community_id),
                isouter=True,
            )
            .where(ApiToken.token_hash == hash_token(text))
        ).first()
        if row is None:
            raise Unauthenticated()
        token, role = row
        if token.revoked_at is not None:
            raise Unauthenticated("token_revoked")
        if token.expires_at is not None and token.expires_at <= now:
            raise Unauthenticated("token_expired")
        if role is None:
            raise Unauthenticated()  # no longer a member of the token's community
        return Caller(
            token_id=token.id,
            user_id=token.user_id,
            community_id=token.community_id,
            community_slug=token.community.slug,
            scopes=token.scope_set & SCOPES_OF_ROLE[role],
            last_used_at=token.last_used_at,
        )

    @staticmethod
    def require(caller: Caller, community_slug: str, scope: Scope) -> None:
        """``caller`` may use ``scope`` in the community ``community_slug``."""
        if caller.community_slug != community_slug:
            raise NotFound()
        if scope not in caller.scopes:
            raise Forbidden("insufficient_scope", scope=scope.value)

    def touch(self, token_id: UUID, *, now: datetime) -> None:
        """Record a use (at most once per ``TOUCH_EVERY``): one conditional update."""
        self.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )

    def community_of(self, caller: Caller) -> Community:
        community = self.session.get(Community, caller.community_id)
        if community is None:
            raise NotFound()
        return community
