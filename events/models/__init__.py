"""Every model, imported here so ``Base.metadata`` is complete for Alembic and tests."""

from events.models.accounts import (
    Community,
    Invitation,
    Membership,
    Role,
    SignupRequest,
    User,
)
from events.models.api_tokens import ApiToken, Scope
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
    EventSlugRedirect,
    EventStatus,
    ProgrammeItem,
    Series,
    SeriesException,
    Tag,
    Venue,
    event_tag,
)
from events.models.exchange import (
    ContactState,
    ExchangeBlock,
    ExchangeBoard,
    ExchangeContact,
    ExchangeListing,
    ExchangeMessageReport,
    ExchangeParticipant,
    ExchangeReport,
    Side,
)
from events.models.external import ExternalCalendar
from events.models.feedback import Feedback, SessionFeedbackLink
from events.models.follows import Follow
from events.models.identity import AddressConfirmation, CommunitySecret
from events.models.jobs import JobLease
from events.models.moderation import ModerationCase, ModerationReport
from events.models.outbox import OutboxMessage, OutboxStatus
from events.models.personal_feeds import PersonalFeed
from events.models.proposals import (
    CallAllowance,
    CallOrder,
    PersonRole,
    PersonState,
    Proposal,
    ProposalCall,
    ProposalKind,
    ProposalLog,
    ProposalMerge,
    ProposalPerson,
    ProposalStatus,
    ProposalSupport,
    ProposalUpdate,
    Supporters,
)
from events.models.registrations import (
    Registration,
    RegistrationLink,
    RegistrationLog,
    RegistrationStatus,
)
from events.models.store import KeyValue
from events.models.volunteers import RoleKind, Shift, ShiftSignup, SignupStatus, VolunteerRole
from events.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AddressConfirmation",
    "ApiToken",
    "AttemptCounter",
    "Base",
    "Board",
    "BoardMark",
    "BoardReport",
    "BoardRoom",
    "BoardSlot",
    "BoardTopic",
    "CallAllowance",
    "CallOrder",
    "CheckIn",
    "CheckInAction",
    "Community",
    "CommunitySecret",
    "ContactState",
    "DeliveryStatus",
    "DoorLink",
    "Event",
    "EventCover",
    "EventSlugRedirect",
    "EventStatus",
    "ExchangeBlock",
    "ExchangeBoard",
    "ExchangeContact",
    "ExchangeListing",
    "ExchangeMessageReport",
    "ExchangeParticipant",
    "ExchangeReport",
    "ExternalCalendar",
    "Feedback",
    "Follow",
    "Invitation",
    "JobLease",
    "KeyValue",
    "Membership",
    "ModerationCase",
    "ModerationReport",
    "OutboxMessage",
    "OutboxStatus",
    "PersonRole",
    "PersonState",
    "PersonalFeed",
    "ProgrammeItem",
    "Proposal",
    "ProposalCall",
    "ProposalKind",
    "ProposalLog",
    "ProposalMerge",
    "ProposalPerson",
    "ProposalStatus",
    "ProposalSupport",
    "ProposalUpdate",
    "Registration",
    "RegistrationLink",
    "RegistrationLog",
    "RegistrationStatus",
    "Role",
    "RoleKind",
    "Scope",
    "Series",
    "SeriesException",
    "SessionFeedbackLink",
    "Shift",
    "ShiftSignup",
    "Side",
    "SignupRequest",
    "SignupStatus",
    "SlotFreeze",
    "Supporters",
    "Tag",
    "TopicKind",
    "User",
    "Venue",
    "VolunteerRole",
    "WebhookDelivery",
    "WebhookEndpoint",
    "event_tag",
]
