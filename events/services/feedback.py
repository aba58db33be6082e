"""Feedback from the people who came, and only them: the ticket is the key.

``give`` records a registrant's answer: a rating of the evening (1-5), "what should we
keep", "what should we change", optional ratings of the programme's sessions and answers to
the organisers' own questions. The rules, whoever calls it:

- only a registration **of this event** (``NotFound`` otherwise: another event's ticket
  opens nothing here) whose party was **checked in** at the door (``arrived > 0``; walk-ins
  included) may answer (``not_checked_in``);
- the form opens when the event is over and takes new answers for 30 days
  (events/lifecycle.py: ``feedback_not_open``, ``feedback_closed``);
- **one answer per ticket**: answering again edits it, for 7 days after it was first given
  (``feedback_closed`` after that); the database holds one row per registration under
  concurrency (unique ``registration_id``).

The organisers see aggregates and the free text, never who wrote what (``summary``); a
session's host sees that session's aggregates through a link of their own
(``host_link`` / ``session_summary``). The feedback mail (events/jobs/feedback.py) invites
each checked-in registrant once, after the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.errors import Conflict, NotFound, ValidationFailed
from events.lifecycle import require_feedback_open
from events.models import (
    Event,
    Feedback,
    ProgrammeItem,
    Registration,
    SessionFeedbackLink,
)
from events.services.programme import ProgrammeService
from events.services.questions import Question, QuestionKind, clean_answers, new_question_id
from events.tokens import hash_token, new_token
from events.validation import FieldErrors, clean_text, id_or_not_found, parse_int

TEXT_MAX_LENGTH = 2_000
QUESTION_MAX_LENGTH = 200
MAX_QUESTIONS = 10
RATINGS = range(1, 6)
#: Field names of the session ratings in the form: ``s_<programme item id>``.
SESSION_PREFIX = "s_"


@dataclass
class FeedbackInput:
    """What the form sends (strings). ``sessions``: ``s_<item id>`` → "1".."5" or "";
    ``answers``: ``q_<question id>`` → the raw answer."""

    rating: str = ""
    keep: str = ""
    change: str = ""
    sessions: Mapping[str, str] = field(default_factory=dict)
    answers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ratings:
    """How many gave each rating 1..5, and the mean."""

    counts: tuple[int, int, int, int, int]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def mean(self) -> float | None:
        if not self.total:
            return None
        return sum(score * count for score, count in zip(RATINGS, self.counts, strict=True)) / (
            self.total
        )

    @classmethod
    def of(cls, scores: list[int]) -> Ratings:
        return cls(tuple(scores.count(score) for score in RATINGS))  # type: ignore[arg-type]


@dataclass(frozen=True)
class SessionRatings:
    item: ProgrammeItem
    ratings: Ratings


@dataclass(frozen=True)
class QuestionAnswers:
    question: Question
    answers: list[Any]


@dataclass(frozen=True)
class FeedbackSummary:
    """What the organisers see: numbers and anonymous text, in no particular person's order
    (oldest first, as given)."""

    answers: int
    #: People let in at the door (parties), who could answer.
    could_answer: int
    evening: Ratings
    sessions: list[SessionRatings]
    keep: list[str]
    change: list[str]
    questions: list[QuestionAnswers]


def feedback_questions(event: Event) -> list[Question]:
    """The organisers' own feedback questions, in order (long text answers)."""
    found = (Question.from_json(item) for item in event.feedback_questions or [])
    return [q for q in found if q is not None and not q.removed]


class FeedbackService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the registrant's ---------------------------------------------------------------
    def of_registration(self, registration: Registration) -> Feedback | None:
        return self.session.scalar(
            select(Feedback).where(Feedback.registration_id == registration.id)
        )

    def may_answer(self, event: Event, registration: Registration) -> None:
        """Raise the reason ``registration`` cannot answer about ``event`` now, if any."""
        if registration.event_id != event.id:
            raise NotFound()
        if registration.arrived <= 0:
            raise Conflict("not_checked_in")
        existing = self.of_registration(registration)
        require_feedback_open(event, utcnow(), existing.created_at if existing else None)

    def give(self, event: Event, registration: Registration, data: FeedbackInput) -> Feedback:
        """Record (or edit) the registrant's answer; see the module docstring's rules."""
        self.may_answer(event, registration)
        values = self._clean(event, data)
        feedback = self.of_registration(registration)
        if feedback is None:
            feedback = Feedback(event_id=event.id, registration_id=registration.id, **values)
            try:
                with self.session.begin_nested():
                    self.session.add(feedback)
                    self.session.flush()
            except IntegrityError:  # the same ticket answered at the same moment elsewhere
                raise Conflict("feedback_given") from None
            return feedback
        for name, value in values.items():
            setattr(feedback, name, value)
        self.session.flush()
        return feedback

    def _clean(self, event: Event, data: FeedbackInput) -> dict[str, Any]:
        errors = FieldErrors()
        rating = errors.check(parse_int, "rating", data.rating, minimum=1, maximum=5, required=True)
        keep = errors.check(
            clean_text,
            "keep",
            data.keep,
            max_length=TEXT_MAX_LENGTH,
            required=False,
            multiline=True,
        )
        change = errors.check(
            clean_text,
            "change",
            data.change,
            max_length=TEXT_MAX_LENGTH,
            required=False,
            multiline=True,
        )
        items = {str(item.id) for item in ProgrammeService(self.session).items(event)}
        sessions: dict[str, int] = {}
        for name, raw in (data.sessions or {}).items():
            item_id = name.removeprefix(SESSION_PREFIX)
            if not name.startswith(SESSION_PREFIX) or item_id not in items:
                errors.add("sessions", "invalid_choice")
                continue
            score = errors.check(parse_int, name, raw, minimum=1, maximum=5)
            if score is not None:
                sessions[item_id] = score
        answers = errors.check(clean_answers, feedback_questions(event), data.answers)
        errors.raise_if_any()
        return {
            "rating": rating,
            "keep": keep or "",
            "change": change or "",
            "session_ratings": sessions,
            "answers": answers or {},
        }

    # -- the organisers' -----------------------------------------------------------------
    def summary(self, event: Event) -> FeedbackSummary:
        rows = list(
            self.session.scalars(
                select(Feedback)
                .where(Feedback.event_id == event.id)
                .order_by(Feedback.created_at, Feedback.id)
            )
        )
        could_answer = self.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.event_id == event.id, Registration.arrived > 0)
        )
        questions = feedback_questions(event)
        return FeedbackSummary(
            answers=len(rows),
            could_answer=int(could_answer or 0),
            evening=Ratings.of([row.rating for row in rows]),
            sessions=[
                SessionRatings(item, self._session_ratings(rows, item))
                for item in ProgrammeService(self.session).items(event)
            ],
            keep=[row.keep for row in rows if row.keep],
            change=[row.change for row in rows if row.change],
            questions=[
                QuestionAnswers(q, [row.answers[q.id] for row in rows if q.id in row.answers])
                for q in questions
            ],
        )

    def set_questions(self, event: Event, text: str) -> list[Question]:
        """The organisers' own questions, one per line (long text answers). Refused once
        someone answered (``feedback_started``): answers would lose their question."""
        if self.session.scalar(select(exists().where(Feedback.event_id == event.id))):
            raise Conflict("feedback_started")
        labels = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if len(labels) > MAX_QUESTIONS:
            raise ValidationFailed({"questions": "too_many"})
        questions: list[Question] = []
        for label in labels:
            clean_label = clean_text("questions", label, max_length=QUESTION_MAX_LENGTH)
            question = Question(
                id=new_question_id(q.id for q in questions),
                kind=QuestionKind.LONG_TEXT,
                label=clean_label,
                required=False,
            )
            questions.append(question)
        event.feedback_questions = [question.to_json() for question in questions]
        self.session.flush()
        return questions

    # -- sessions' hosts -----------------------------------------------------------------
    def host_link(self, event: Event, item_id: Any) -> tuple[ProgrammeItem, str]:
        """A new link for the host of one session of ``event`` to its figures; the token
        is handed back once (only its hash is stored)."""
        item = ProgrammeService(self.session).item(event, id_or_not_found(item_id))
        token = new_token()
        self.session.add(
            SessionFeedbackLink(programme_item_id=item.id, token_hash=hash_token(token))
        )
        self.session.flush()
        return item, token

    def session_summary(self, token: str | None) -> tuple[Event, SessionRatings]:
        """The figures of the session a host's link names; ``NotFound`` for any other."""
        if not token or not isinstance(token, str) or len(token) > 200:
            raise NotFound()
        link = self.session.scalar(
            select(SessionFeedbackLink).where(SessionFeedbackLink.token_hash == hash_token(token))
        )
        item = self.session.get(ProgrammeItem, link.programme_item_id) if link else None
        event = self.session.get(Event, item.event_id) if item else None
        if item is None or event is None:
            raise NotFound()
        rows = list(self.session.scalars(select(Feedback).where(Feedback.event_id == event.id)))
        return event, SessionRatings(item, self._session_ratings(rows, item))

    # -- internals -----------------------------------------------------------------------
    @staticmethod
    def _session_ratings(rows: list[Feedback], item: ProgrammeItem) -> Ratings:
        key = str(item.id)
        return Ratings.of([row.session_ratings[key] for row in rows if key in row.session_ratings])
