"""What participants do on the open-space board, from their ticket: post a topic, mark
topics, withdraw their own, write notes after its session, follow topics for their notes.

The ticket is the identity: a confirmed registration of the board's event with a ticket
(:func:`participant`), walk-ins registered at the door included. No e-mail address, no
account. Rules:

- **Posting** needs the board's posting open (events/lifecycle.py) and stays within
  ``Board.topics_per_person`` topics per ticket. The ticket's registration row is locked
  first, so two posts sent at once cannot both pass the limit.
- **Marks**: one per ticket and topic, *interested* or *not for me* (or none: taken back).
  One statement writes it (``INSERT ... ON CONFLICT (topic, ticket) DO UPDATE``), so any
  number of simultaneous marks from one ticket leave one row. Nobody marks their own topic.
- **Rate limits per ticket** (events/attempts.py, exact across processes):
  :data:`MARK_LIMIT` marks and :data:`POST_LIMIT` posts or withdrawals per window; joining
  from the board's poster (typing a ticket code) :data:`JOIN_LIMIT` tries per client.
- **Withdrawing** a topic: its host, while it is not in a frozen slot.
- **Notes**: its host, once its session has begun (or the event is over if it was never
  placed); they join its programme entry, and the topic's followers are mailed them.
- **Following** a topic (events/services/board_follows.py): any ticket holder with an
  address, any visible topic but their own; following twice changes nothing.
- Hidden topics (moderation) cannot be marked and are not shown to anyone but
  facilitators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from events.attempts import count_attempt
from events.clock import utcnow
from events.errors import Conflict, NotFound, RateLimited, ValidationFailed
from events.lifecycle import (
    require_board_marking_open,
    require_board_posting_open,
    require_slot_movable,
    require_topic_notes_open,
)
from events.models import (
    Board,
    BoardMark,
    BoardSlot,
    BoardTopic,
    Event,
    Registration,
    RegistrationStatus,
    TopicKind,
)
from events.models.base import insert_for, new_id, table_of
from events.services import board_follows, boards, follows, identity
from events.services.board_programme import sync_programme, withdraw_from_programme
from events.services.events import WITHOUT_COLLECTIONS
from events.tickets import normalise_ticket_code
from events.validation import FieldErrors, clean_text, id_or_not_found, is_placeholder_email
from events.webhook_queue import queue_webhook


@dataclass(frozen=True)
class Limit:
    attempts: int
    window: timedelta


MARK_LIMIT = Limit(attempts=120, window=timedelta(minutes=10))
POST_LIMIT = Limit(attempts=20, window=timedelta(hours=1))
JOIN_LIMIT = Limit(attempts=30, window=timedelta(minutes=10))
TITLE_MAX_LENGTH = 120
SUMMARY_MAX_LENGTH = 280
SUMMARY_MAX_LINES = 2
COHOST_MAX_LENGTH = 80
NOTES_MAX_LENGTH = 2000
#: What a mark form sends: interested, not for me, or the mark taken back.
MARK_CHOICES: dict[str, bool | None] = {"interested": True, "not_for_me": False, "none": None}
_MARK = table_of(BoardMark)
_TRUE_FLAGS = frozenset({"on", "true", "1", "yes"})


#: Test hook: runs between the check and the write of a mark taken without the atomic
#: statement (the negative control of the concurrency test).
def _between_check_and_write(_session: Session) -> None:
    return None


@dataclass(frozen=True)
class Participant:
    """A ticket holder on a board: the ticket's registration, its event and the board."""

    registration: Registration
    event: Event
    board: Board


@dataclass
class TopicInput:
    title: str = ""
    summary: str = ""
    kind: str = TopicKind.DISCUSSION.value
    cohost: str = ""
    show_host: str = ""


@dataclass(frozen=True)
class Marked:
    topic_id: UUID
    #: The mark now held: True (interested), False (not for me) or None.
    interested: bool | None
    #: The board's version with this mark (the live views show it from that version on).
    version: int


@dataclass(frozen=True)
class Mine:
    """One ticket's own things on a board (for its phone view)."""

    topics: frozenset[UUID]
    interested: frozenset[UUID]
    not_for_me: frozenset[UUID]
    posted: int


def participant(session: Session, code: str | None) -> Participant:
    """The ticket holder behind ``code`` (a code or a ticket URL); ``NotFound`` for an
    unknown code, a registration without a valid ticket, or an event whose board is off."""
    normalised = normalise_ticket_code(code)
    if normalised is None:
        raise NotFound()
    registration = session.scalar(
        select(Registration).where(Registration.ticket_code == normalised)
    )
    if registration is None or registration.status is not RegistrationStatus.CONFIRMED:
        raise NotFound()
    event = session.get(Event, registration.event_id, options=WITHOUT_COLLECTIONS)
    assert event is not None
    board = boards.BoardService(session).require(event)
    return Participant(registration=registration, event=event, board=board)


def join(session: Session, event: Event, code: str | None, *, client: str) -> Participant:
    """The board's QR poster asks for the ticket: the holder of ``code`` on ``event``'s
    board. ``NotFound`` for a code that is not a valid ticket of this event (one answer
    for every reason); ``RateLimited`` beyond :data:`JOIN_LIMIT` tries per client."""
    attempts = count_attempt(session, f"board:join:{client}", window=JOIN_LIMIT.window)
    if not attempts.allowed(JOIN_LIMIT.attempts):
        raise RateLimited()
    who = participant(session, code)
    if who.event.id != event.id:
        raise NotFound()
    return who


def within_limit(session: Session, kind: str, who: Participant, limit: Limit) -> None:
    """``RateLimited`` once ``who``'s ticket has done ``kind`` ``limit`` times in its window."""
    attempts = count_attempt(session, f"board:{kind}:{who.registration.id}", window=limit.window)
    if not attempts.allowed(limit.attempts):
        raise RateLimited()


class BoardTopics:
    def __init__(self, session: Session, *, atomic_marks: bool = True) -> None:
        self.session = session
        #: False only in the negative control of the concurrency test: check, then write.
        self.atomic_marks = atomic_marks

    # -- reading ---------------------------------------------------------------------------
    def topic(self, board: Board, topic_id: UUID | str, *, hidden_too: bool = False) -> BoardTopic:
        topic = self.session.get(BoardTopic, id_or_not_found(topic_id))
        if topic is None or topic.board_id != board.id or (topic.hidden and not hidden_too):
            raise NotFound()
        return topic

    def mine(self, who: Participant) -> Mine:
        topics = frozenset(
            self.session.scalars(
                select(BoardTopic.id).where(
                    BoardTopic.board_id == who.board.id,
                    BoardTopic.host_id == who.registration.id,
                )
            )
        )
        marks = self.session.execute(
            select(BoardMark.topic_id, BoardMark.interested)
            .join(BoardTopic, BoardTopic.id == BoardMark.topic_id)
            .where(
                BoardMark.registration_id == who.registration.id,
                BoardTopic.board_id == who.board.id,
            )
        ).all()
        return Mine(
            topics=topics,
            interested=frozenset(topic for topic, interested in marks if interested),
            not_for_me=frozenset(topic for topic, interested in marks if not interested),
            posted=len(topics),
        )

    # -- posting ---------------------------------------------------------------------------
    def _clean(self, data: TopicInput) -> dict[str, object]:
        errors = FieldErrors()
        title = errors.check(clean_text, "title", data.title, max_length=TITLE_MAX_LENGTH)
        summary = errors.check(
            clean_text,
            "summary",
            data.summary,
            max_length=SUMMARY_MAX_LENGTH,
            required=False,
            multiline=True,
        )
        if summary and summary.count("\n") >= SUMMARY_MAX_LINES:
            errors.add("summary", "too_many_lines")
        kind = (data.kind or "").strip()
        if kind not in {k.value for k in TopicKind}:
            errors.add("kind", "invalid_choice")
        cohost = errors.check(
            clean_text, "cohost", data.cohost, max_length=COHOST_MAX_LENGTH, required=False
        )
        errors.raise_if_any()
        return {
            "title": title,
            "summary": summary or "",
            "kind": kind,
            "cohost": cohost or "",
            "show_host": (data.show_host or "").strip().lower() in _TRUE_FLAGS,
        }

    def post(
        self, who: Participant, data: TopicInput, *, now: datetime | None = None
    ) -> BoardTopic:
        """Post a topic from ``who``'s ticket (see the module docstring for the rules).
        ``ValidationFailed`` for bad fields; ``Conflict`` "posting_not_open" (and the other
        lifecycle codes) or "topic_limit"; ``RateLimited``."""
        values = self._clean(data)
        now = now or utcnow()
        require_board_posting_open(who.board, who.event, now)
        within_limit(self.session, "post", who, POST_LIMIT)
        # The ticket's row lock makes "count, then insert" safe for one ticket.
        self.session.execute(
            select(Registration.id).where(Registration.id == who.registration.id).with_for_update()
        )
        posted = self.session.scalar(
            select(func.count())
            .select_from(BoardTopic)
            .where(BoardTopic.board_id == who.board.id, BoardTopic.host_id == who.registration.id)
        )
        if (posted or 0) >= who.board.topics_per_person:
            raise Conflict("topic_limit", limit=who.board.topics_per_person)
        topic = BoardTopic(board_id=who.board.id, host_id=who.registration.id, **values)
        self.session.add(topic)
        self.session.flush()
        boards.bump(self.session, who.board.id)
        queue_webhook(
            self.session,
            "board.topic_posted",
            {"event_id": who.event.id, "topic_id": topic.id, "kind": topic.kind},
            community_id=who.event.community_id,
        )
        return topic

    def withdraw(
        self, who: Participant, topic_id: UUID | str, *, now: datetime | None = None
    ) -> None:
        """The host takes their topic off the board (and out of the programme)."""
        topic = self._own(who, topic_id)
        within_limit(self.session, "post", who, POST_LIMIT)
        if topic.slot_id is not None:
            slot = self.session.get(BoardSlot, topic.slot_id)
            assert slot is not None
            require_slot_movable(who.board, slot, now or utcnow())
        withdraw_from_programme(self.session, who.event, topic)
        board_follows.forget_topic(self.session, topic)
        self.session.delete(topic)
        self.session.flush()
        boards.bump(self.session, who.board.id)

    def write_notes(
        self, who: Participant, topic_id: UUID | str, notes: str, *, now: datetime | None = None
    ) -> BoardTopic:
        topic = self._own(who, topic_id)
        slot = self.session.get(BoardSlot, topic.slot_id) if topic.slot_id is not None else None
        require_topic_notes_open(who.event, slot, now or utcnow())
        before = topic.notes
        topic.notes = clean_text(
            "notes", notes, max_length=NOTES_MAX_LENGTH, required=False, multiline=True
        )
        self.session.flush()
        sync_programme(self.session, who.event, topic)
        boards.bump(self.session, who.board.id)
        board_follows.tell_followers(self.session, who.event, topic, before=before)
        return topic

    # -- following -------------------------------------------------------------------------
    def _follower(self, who: Participant) -> identity.Person:
        """The person behind ``who``'s ticket; ``Conflict`` "no_address" for a walk-in
        registered without an address (nowhere to tell them)."""
        if is_placeholder_email(who.registration.email):
            raise Conflict("no_address")
        return identity.person_of_registration(self.session, who.registration)

    def follow(self, who: Participant, topic_id: UUID | str) -> None:
        """``who`` follows a visible topic that is not theirs: mailed when its notes
        change (events/services/board_follows.py)."""
        topic = self.topic(who.board, topic_id)
        if topic.host_id == who.registration.id:
            raise Conflict("own_topic")
        within_limit(self.session, "mark", who, MARK_LIMIT)
        follows.follow(
            self.session,
            board_follows.topic_subject(who.event, topic),
            self._follower(who),
            locale=who.registration.locale or "en",
        )

    def unfollow(self, who: Participant, topic_id: UUID | str) -> None:
        topic = self.topic(who.board, topic_id, hidden_too=True)
        subject = board_follows.topic_subject(who.event, topic)
        follows.unfollow(self.session, subject, self._follower(who))

    def followed(self, who: Participant) -> frozenset[UUID]:
        """The topics ``who`` follows (none for a ticket without an address)."""
        if is_placeholder_email(who.registration.email):
            return frozenset()
        person = identity.person_of_registration(self.session, who.registration)
        return frozenset(follows.subjects_followed(self.session, board_follows.TOPIC, person))

    def _own(self, who: Participant, topic_id: UUID | str) -> BoardTopic:
        topic = self.topic(who.board, topic_id, hidden_too=True)
        if topic.host_id != who.registration.id:
            raise NotFound()  # another ticket's topic: not theirs to change
        return topic

    # -- marks -----------------------------------------------------------------------------
    def mark(
        self, who: Participant, topic_id: UUID | str, choice: str, *, now: datetime | None = None
    ) -> Marked:
        """Mark a topic from ``who``'s ticket: "interested", "not_for_me" or "none" (take the
        mark back)."""
        if choice not in MARK_CHOICES:
            raise ValidationFailed({"mark": "invalid_choice"})
        value = MARK_CHOICES[choice]
        topic = self.topic(who.board, topic_id)
        require_board_marking_open(who.board, who.event, now or utcnow())
        if topic.host_id == who.registration.id:
            raise Conflict("own_topic")
        within_limit(self.session, "mark", who, MARK_LIMIT)
        ticket = who.registration.id
        if value is None:
            self.session.execute(
                delete(_MARK).where(
                    and_(_MARK.c.topic_id == topic.id, _MARK.c.registration_id == ticket)
                )
            )
        elif self.atomic_marks:
            self._upsert(topic.id, ticket, value)
        else:
            self._check_then_write(topic.id, ticket, value)
        return Marked(
            topic_id=topic.id, interested=value, version=boards.bump(self.session, who.board.id)
        )

    def _upsert(self, topic_id: UUID, ticket: UUID, value: bool) -> None:
        new = insert_for(self.session)(_MARK).values(
            id=new_id(),
            topic_id=topic_id,
            registration_id=ticket,
            interested=value,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        self.session.execute(
            new.on_conflict_do_update(
                index_elements=[_MARK.c.topic_id, _MARK.c.registration_id],
                set_={"interested": new.excluded.interested, "updated_at": new.excluded.updated_at},
            )
        )

    def _check_then_write(self, topic_id: UUID, ticket: UUID, value: bool) -> None:
        existing = self.session.scalar(
            select(BoardMark).where(
                BoardMark.topic_id == topic_id, BoardMark.registration_id == ticket
            )
        )
        _between_check_and_write(self.session)
        if existing is None:
            self.session.add(BoardMark(topic_id=topic_id, registration_id=ticket, interested=value))
        else:
            existing.interested = value
        self.session.flush()
