"""Every model, imported here so ``Base.metadata`` is complete for Alembic and tests."""

from events.models.accounts import Community, Invitation, Membership, Role, User
from events.models.base import Base
from events.models.store import KeyValue

__all__ = ["Base", "Community", "Invitation", "KeyValue", "Membership", "Role", "User"]
