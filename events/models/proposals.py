"""Calls for proposals: what the community proposes, supports and follows.

A ``ProposalCall`` is opened by organisers on a community, a series or one event; people
without an account propose (``Proposal``, with its ``ProposalPerson`` rows: the proposer
and co-proposers), support (``ProposalSupport``, one per person, only a keyed hash stored),
and follow (events/models/follows.py). The public status trail is ``ProposalLog``. The
rules are in events/services/proposals.py and events/proposal_lifecycle.py.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import expression

from events.models.accounts import Community
from events.models.base import Base


class ProposalKind(enum.StrEnum):
    TOPIC = "topic"  # a topic to discuss
    TALK = "talk"
    WORKSHOP = "workshop"
    MEETUP = "meetup"  # a whole meetup
    PROJECT = "project"  # a project to present


class ProposalStatus(enum.StrEnum):
    #: Waiting for the proposer to confirm their address: invisible to everyone else.
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    UNDER_DISCUSSION = "under_discussion"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    #: Merged into another proposal (``merged_into_id``), with both proposers' consent.
    MERGED = "merged"
    WITHDRAWN = "withdrawn"


class Supporters(enum.StrEnum):
    """Who may support the proposals of a call."""

    CONFIRMED_EMAIL = "confirmed_email"
    TICKET_HOLDERS = "ticket_holders"
    CHECKED_IN = "checked_in"


class CallOrder(enum.StrEnum):
    """How a call page lists its proposals: a random order per visitor unless the
    organisers ask for a ranking."""

    RANDOM = "random"
    MOST_SUPPORTED = "most_supported"
    NEWEST = "newest"


class ProposalCall(Base):
    __tablename__ = "proposal_call"

    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    #: The call is about this series' meetups, or this one event (else the community's).
    series_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True, default=None
    )
    event_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("event.id", ondelete="SET NULL"), index=True, default=None
    )
    slug: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    #: The ``ProposalKind`` values it accepts.
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    opens_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    supports_open_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    supports_close_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    supporters: Mapped[str] = mapped_column(String(20), default=Supporters.CONFIRMED_EMAIL.value)
    #: Supports one person may give in this call.
    support_budget: Mapped[int] = mapped_column(Integer, default=5)
    #: "Ready for the organisers" at this many supports (None: no threshold).
    threshold: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Proposals one person may have published in this call (withdrawn ones give it back).
    proposals_per_person: Mapped[int] = mapped_column(Integer, default=3)
    public_counts: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=expression.true()
    )
    order: Mapped[str] = mapped_column(String(20), default=CallOrder.RANDOM.value)
    #: Numbers handed out to its proposals so far (``Proposal.number``), never reused.
    proposals_made: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    community: Mapped[Community] = relationship(lazy="joined")


class Proposal(Base):
    __tablename__ = "proposal"
    __table_args__ = (
        UniqueConstraint("call_id", "number", name="uq_proposal_number"),
        # A double submit of the same form (same nonce) cannot create a second proposal.
        UniqueConstraint("call_id", "request_key", name="uq_proposal_request_key"),
        Index("ix_proposal_call_status", "call_id", "status"),
    )

    call_id: Mapped[UUID] = mapped_column(ForeignKey("proposal_call.id", ondelete="CASCADE"))
    community_id: Mapped[UUID] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    #: 1, 2, 3... within the call: the proposal's address is ``/g/{group}/proposals/{call}/{n}``.
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text, default="")
    #: Sanitised HTML and plain text of ``body`` (events/text.py), rendered once per change.
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    language: Mapped[str] = mapped_column(String(8), default="")
    #: Among "room", "projector", "material"; ``needs_note`` says what material.
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    needs_note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default=ProposalStatus.SUBMITTED.value)
    #: Supports it has: only ever changed by a conditional increment or decrement.
    supports: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When it first reached the call's threshold.
    ready_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    #: The main proposer's keyed hash (per-person limits, no supporting one's own).
    proposer_key: Mapped[str] = mapped_column(String(64))
    #: The organisers' public answer: a reason code (translated) and their own words.
    answer_reason: Mapped[str] = mapped_column(String(40), default="")
    answer_note: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    #: An answer decided but kept private until the organisers publish answers together:
    #: ``{"status", "reason", "note"}``.
    draft_answer: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None
    )
    merged_into_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("proposal.id", ondelete="SET NULL"), default=None
    )
    #: What it became: a programme session (``became_item_id`` in ``became_event_id``), or
    #: an event (a new draft, or a series occurrence).
    became_event_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("event.id", ondelete="SET NULL"), default=None
    )
    became_item_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("programme_item.id", ondelete="SET NULL"), default=None
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    #: Proposer updates mail followers at most once a day per proposal.
    update_mailed_at: Mapped[datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )
    request_key: Mapped[str | None] = mapped_column(String(64), default=None)
    call: Mapped[ProposalCall] = relationship(lazy="joined")


class PersonRole(enum.StrEnum):
    PROPOSER = "proposer"
    CO_PROPOSER = "co_proposer"


class PersonState(enum.StrEnum):
    #: The proposer, until their address is confirmed.
    PENDING = "pending"
    #: Named by the proposer as a co-proposer, not answered yet.
    INVITED = "invited"
    #: Asked to join forces, waiting for the proposer's answer.
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ProposalPerson(Base):
    """The proposer or a co-proposer. Named on the proposal only with ``named`` (their own
    consent); the address is never shown."""

    __tablename__ = "proposal_person"
    __table_args__ = (UniqueConstraint("proposal_id", "person_key", name="uq_proposal_person"),)

    proposal_id: Mapped[UUID] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(320), index=True)
    person_key: Mapped[str] = mapped_column(String(64))
    named: Mapped[bool] = mapped_column(Boolean, default=False, server_default=expression.false())
    #: A co-proposal request's words to the proposer.
    message: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class ProposalSupport(Base):
    """One person's support of one proposal: only the keyed hash of who, never an address,
    so the list of supporters cannot be exported or linked to another community."""

    __tablename__ = "proposal_support"
    __table_args__ = (
        UniqueConstraint("proposal_id", "supporter_key", name="uq_proposal_support_person"),
        Index("ix_proposal_support_call_supporter", "call_id", "supporter_key"),
    )

    proposal_id: Mapped[UUID] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    call_id: Mapped[UUID] = mapped_column(ForeignKey("proposal_call.id", ondelete="CASCADE"))
    supporter_key: Mapped[str] = mapped_column(String(64))


class CallAllowance(Base):
    """What one person has used of a call's allowances: supports given (the budget) and
    proposals published. Only conditional increments change it (``used < limit``), so
    simultaneous requests of one person can never go beyond."""

    __tablename__ = "call_allowance"
    __table_args__ = (UniqueConstraint("call_id", "person_key", name="uq_call_allowance_person"),)

    call_id: Mapped[UUID] = mapped_column(ForeignKey("proposal_call.id", ondelete="CASCADE"))
    person_key: Mapped[str] = mapped_column(String(64))
    supports_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    proposals_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ProposalLog(Base):
    """Every change of a proposal, in order: the public status trail (``public``) and what
    only organisers see (answers still private, moderation). Names and addresses never."""

    __tablename__ = "proposal_log"

    proposal_id: Mapped[UUID] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The organiser who acted (None: the proposer or the system).
    actor_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProposalUpdate(Base):
    """News the proposer posts on their proposal (shown on it, mailed to followers)."""

    __tablename__ = "proposal_update"

    proposal_id: Mapped[UUID] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")


class ProposalMerge(Base):
    """Organisers asked to merge ``proposal_id`` into ``into_id``: done once both main
    proposers agree (each from their private page), or dropped when one refuses."""

    __tablename__ = "proposal_merge"

    proposal_id: Mapped[UUID] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True
    )
    into_id: Mapped[UUID] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[UUID | None] = mapped_column(GUID, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    from_agreed_at: Mapped[datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )
    into_agreed_at: Mapped[datetime | None] = mapped_column(
        DateTimeUTC(timezone=True), default=None
    )
    refused_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    done_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
