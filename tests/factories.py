"""Factory helpers (Indico style): ``make.user(...)``, ``make.community(...)``.

Each call commits its own transaction, so the objects exist for the HTTP client too.
Password hashes are computed once per password: argon2 is deliberately slow.
"""

from __future__ import annotations

from functools import cache
from itertools import count

from events.database import Database
from events.models import Community, Membership, Role, User
from events.passwords import hash_password

DEFAULT_PASSWORD = "correct horse battery"
_sequence = count(1)


@cache
def _hash(password: str) -> str:
    return hash_password(password)


class Factories:
    def __init__(self, db: Database) -> None:
        self.db = db

    def user(
        self, *, email: str | None = None, name: str | None = None, password: str = DEFAULT_PASSWORD
    ) -> User:
        n = next(_sequence)
        with self.db.transaction() as session:
            user = User(
                email=(email or f"user{n}@example.org").lower(),
                display_name=name or f"User {n}",
                password_hash=_hash(password),
            )
            session.add(user)
        return user

    def community(
        self, *, owner: User | None = None, name: str | None = None, slug: str | None = None
    ) -> Community:
        n = next(_sequence)
        owner = owner or self.user()
        with self.db.transaction() as session:
            community = Community(name=name or f"Community {n}", slug=slug or f"community-{n}")
            session.add(community)
            session.flush()
            session.add(Membership(community_id=community.id, user_id=owner.id, role=Role.OWNER))
        return community

    def member(self, community: Community, *, role: Role, user: User | None = None) -> User:
        user = user or self.user()
        with self.db.transaction() as session:
            session.add(Membership(community_id=community.id, user_id=user.id, role=role))
        return user
