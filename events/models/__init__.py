"""Every model, imported here so ``Base.metadata`` is complete for Alembic and tests."""

from events.models.accounts import Community, Invitation, Membership, Role, User
from events.models.attempts import AttemptCounter
from events.models.base import Base
from events.models.board import (
    Board,
    BoardMark,
    BoardReport,
    BoardRoom,
    BoardSlot,
    BoardTopic,
    SlotFreeze,
    TopicKind,
)
from events.models.covers import EventCover
from events.models.door import CheckIn, CheckInAction, DoorLink
from events.models.events import (
    Event,
    EventStatus,
    ProgrammeItem,
    Series,
    SeriesException,
    Tag,
    Venue,
    event_tag,
)
from events.models.external import ExternalCalendar
from events.models.jobs import JobLease
from events.models.outbox import OutboxMessage, OutboxStatus
from events.models.personal_feeds import PersonalFeed
from events.models.registrations import (
    Registration,
    RegistrationLink,
    RegistrationLog,
    RegistrationStatus,
)
from events.models.store import KeyValue

__all__ = [
    "AttemptCounter",
    "Base",
    "Board",
    "BoardMark",
    "BoardReport",
    "BoardRoom",
    "BoardSlot",
    "BoardTopic",
    "CheckIn",
    "CheckInAction",
    "Community",
    "DoorLink",
    "Event",
    "EventCover",
    "EventStatus",
    "ExternalCalendar",
    "Invitation",
    "JobLease",
    "KeyValue",
    "Membership",
    "OutboxMessage",
    "OutboxStatus",
    "PersonalFeed",
    "ProgrammeItem",
    "Registration",
    "RegistrationLink",
    "RegistrationLog",
    "RegistrationStatus",
    "Role",
    "Series",
    "SeriesException",
    "SlotFreeze",
    "Tag",
    "TopicKind",
    "User",
    "Venue",
    "event_tag",
]
