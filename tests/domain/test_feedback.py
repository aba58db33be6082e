"""Feedback from the people who came (events/services/feedback.py): who may answer, when,
once per ticket; the organisers' aggregates; the hosts' links; the feedback mail; privacy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from events.clock import utcnow
from events.database import Database
from events.errors import Conflict, NotFound, ValidationFailed
from events.jobs.feedback import queue_feedback_invitations
from events.models import Event, Feedback, OutboxMessage, ProgrammeItem, Registration
from events.services import feedback as feedback_module
from events.services.feedback import FeedbackInput, FeedbackService
from events.services.personal_data import export_personal_data
from events.services.privacy import anonymise_past_registrations
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.registrations import RegistrationService
from tests.domain.test_door import door, scan, walk_in_of
from tests.domain.test_registrations import open_event, person, register
from tests.factories import Factories
from tests.mail.scenario import render_queued_mails

ENDED = timedelta(hours=2)  # how long ago the test events ended


def past_event(db: Database, make: Factories, *, sessions: int = 0) -> Event:
    """An event with ``sessions`` programme items, that ended two hours ago."""
    event = open_event(db, make)
    with db.transaction() as session:
        for n in range(sessions):
            ProgrammeService(session).add(
                session.get(Event, event.id), ProgrammeInput(title=f"Talk {n + 1}")
            )
    return event


def end(db: Database, event: Event, ago: timedelta = ENDED) -> Event:
    """Move the event into the past (it ended ``ago``)."""
    ends = utcnow() - ago
    with db.transaction() as session:
        session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(starts_at=ends - timedelta(hours=3), ends_at=ends)
        )
    with db.session() as session:
        return session.get(Event, event.id)  # type: ignore[return-value]


def came(db: Database, event: Event, n: int | str = 1) -> Registration:
    """A registrant let in at the door."""
    registration = register(db, event, person(n)).registration
    scan(db, event, registration.ticket_code)
    return registration


def give(db: Database, event: Event, registration: Registration, **values: Any) -> Feedback:
    values.setdefault("rating", "4")
    with db.transaction() as session:
        return FeedbackService(session).give(
            session.get(Event, event.id),
            session.get(Registration, registration.id),
            FeedbackInput(**values),
        )


def items(db: Database, event: Event) -> list[ProgrammeItem]:
    with db.session() as session:
        return list(
            session.scalars(
                select(ProgrammeItem)
                .where(ProgrammeItem.event_id == event.id)
                .order_by(ProgrammeItem.position)
            )
        )


def feedback_rows(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Feedback)) or 0)


# -- who may answer ---------------------------------------------------------------------
def test_someone_who_came_answers_once_after_the_event(db: Database, make: Factories) -> None:
    event = past_event(db, make)
    registration = came(db, event)
    end(db, event)
    first = give(db, event, registration, rating="5", keep=" The soup ", change="More chairs")
    assert (first.rating, first.keep, first.change) == (5, "The soup", "More chairs")
    # Twice: the same answer, edited (one row per ticket).
    second = give(db, event, registration, rating="3", keep="", change="")
    assert second.id == first.id and second.rating == 3 and second.keep == ""
    assert feedback_rows(db) == 1


def test_someone_not_checked_in_cannot_answer(db: Database, make: Factories) -> None:
    event = past_event(db, make)
    no_show = register(db, event, person(1)).registration
    end(db, event)
    with pytest.raises(Conflict) as refused:
        give(db, event, no_show)
    assert refused.value.code == "not_checked_in"
    assert feedback_rows(db) == 0


def test_another_event_s_ticket_opens_nothing(db: Database, make: Factories) -> None:
    event, other = past_event(db, make), past_event(db, make)
    elsewhere = came(db, other)
    end(db, event)
    end(db, other)
    with pytest.raises(NotFound):
        give(db, event, elsewhere)
    assert feedback_rows(db) == 0


def test_a_walk_in_answers_too(db: Database, make: Factories) -> None:
    event = past_event(db, make)
    door(db, event, "walk_in", walk_in_of(email="walk@example.org"))
    with db.session() as session:
        walk_in = session.scalars(select(Registration).where(Registration.walk_in)).one()
    end(db, event)
    assert give(db, event, walk_in).rating == 4


def test_the_form_opens_after_the_end_and_closes(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = past_event(db, make)
    registration = came(db, event)
    with pytest.raises(Conflict) as early:
        give(db, event, registration)  # the event is not over yet
    assert early.value.code == "feedback_not_open"
    ended = end(db, event, ago=timedelta(days=29))
    feedback = give(db, event, registration)
    # Editable for 7 days after it was first given...
    given = utcnow()
    monkeypatch.setattr(feedback_module, "utcnow", lambda: given + timedelta(days=6))
    assert give(db, event, registration, rating="2").rating == 2
    monkeypatch.setattr(feedback_module, "utcnow", lambda: given + timedelta(days=7))
    with pytest.raises(Conflict) as late_edit:
        give(db, event, registration, rating="1")
    assert late_edit.value.code == "feedback_closed"
    # ... and nobody answers for the first time 30 days after the end.
    other = came(db, past_event(db, make), 2)
    with db.transaction() as session:
        session.execute(
            update(Registration).where(Registration.id == other.id).values(event_id=event.id)
        )
    monkeypatch.setattr(feedback_module, "utcnow", lambda: ended.ends_at + timedelta(days=30))
    with pytest.raises(Conflict) as late:
        give(db, event, other)
    assert late.value.code == "feedback_closed"
    assert feedback.id is not None


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"rating": ""}, {"rating": "required"}),
        ({"rating": "6"}, {"rating": "out_of_range"}),
        ({"rating": "4", "keep": "x" * 2001}, {"keep": "too_long"}),
        ({"rating": "4", "change": "a\x00b"}, {"change": "invalid_characters"}),
        ({"rating": "4", "sessions": {"s_nope": "3"}}, {"sessions": "invalid_choice"}),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(
    db: Database, make: Factories, values: dict[str, Any], errors: dict[str, str]
) -> None:
    event = past_event(db, make)
    registration = came(db, event)
    end(db, event)
    with pytest.raises(ValidationFailed) as refused:
        give(db, event, registration, **values)
    assert refused.value.errors == errors
    assert feedback_rows(db) == 0


# -- what the organisers and hosts see ---------------------------------------------------
def test_the_summary_has_numbers_and_anonymous_text(db: Database, make: Factories) -> None:
    event = past_event(db, make, sessions=2)
    talk1, talk2 = items(db, event)
    with db.transaction() as session:
        FeedbackService(session).set_questions(session.get(Event, event.id), "Next topic?\n\n")
    with db.session() as session:
        [question] = feedback_module.feedback_questions(session.get(Event, event.id))
    people = [came(db, event, n) for n in range(4)]
    end(db, event)
    give(db, event, people[0], rating="5", keep="Zoé's soup", sessions={f"s_{talk1.id}": "5"})
    give(
        db,
        event,
        people[1],
        rating="3",
        change="Louder mic",
        sessions={f"s_{talk1.id}": "3", f"s_{talk2.id}": ""},
        answers={question.field_name: "Housing"},
    )
    give(db, event, people[2], rating="4")
    with db.session() as session:
        summary = FeedbackService(session).summary(session.get(Event, event.id))
    assert (summary.answers, summary.could_answer) == (3, 4)
    assert summary.evening.counts == (0, 0, 1, 1, 1) and summary.evening.mean == 4
    assert [s.ratings.counts for s in summary.sessions] == [(0, 0, 1, 0, 1), (0, 0, 0, 0, 0)]
    assert summary.sessions[1].ratings.mean is None
    assert summary.keep == ["Zoé's soup"] and summary.change == ["Louder mic"]
    assert [qa.answers for qa in summary.questions] == [["Housing"]]
    # Nothing in it names a person.
    assert "Person" not in repr(summary) and "example.org" not in repr(summary)
    # Questions cannot change once people answered.
    with db.transaction() as session, pytest.raises(Conflict) as started:
        FeedbackService(session).set_questions(session.get(Event, event.id), "Other?")
    assert started.value.code == "feedback_started"


def test_a_host_sees_their_session_only(db: Database, make: Factories) -> None:
    event = past_event(db, make, sessions=2)
    talk1, talk2 = items(db, event)
    registration = came(db, event)
    end(db, event)
    give(db, event, registration, sessions={f"s_{talk1.id}": "2", f"s_{talk2.id}": "5"})
    with db.transaction() as session:
        item, token = FeedbackService(session).host_link(session.get(Event, event.id), talk2.id)
    assert item.id == talk2.id
    with db.session() as session:
        found_event, figures = FeedbackService(session).session_summary(token)
        assert found_event.id == event.id and figures.item.id == talk2.id
        assert figures.ratings.counts == (0, 0, 0, 0, 1)
        for bad in ("", "nope", None, "x" * 300):
            with pytest.raises(NotFound):
                FeedbackService(session).session_summary(bad)
    other = past_event(db, make, sessions=1)
    with db.transaction() as session, pytest.raises(NotFound):
        FeedbackService(session).host_link(session.get(Event, event.id), items(db, other)[0].id)


# -- the mail ---------------------------------------------------------------------------
def test_one_feedback_mail_per_person_who_came(db: Database, make: Factories) -> None:
    event = past_event(db, make)
    came(db, event, 1)
    came(db, event, 2)
    register(db, event, person(3))  # did not come
    end(db, event)
    now = utcnow()
    with db.transaction() as session:
        assert queue_feedback_invitations(session, now) == 2
    with db.transaction() as session:
        assert queue_feedback_invitations(session, now) == 0  # once only
    render_queued_mails(db)
    with db.session() as session:
        mails = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "feedback")))
        assert sorted(m.to_address for m in mails) == ["person1@example.org", "person2@example.org"]
        link = next(line for line in mails[0].text_body.splitlines() if "/feedback" in line)
        token = link.rsplit("/r/", 1)[1].removesuffix("/feedback")
        opened = RegistrationService(session).by_manage_token(token)
        assert opened.email == mails[0].to_address
        assert mails[0].subject == f"Comment était {event.title} ?"  # their language


def test_no_feedback_mail_for_long_past_events(db: Database, make: Factories) -> None:
    event = past_event(db, make)
    came(db, event)
    end(db, event, ago=timedelta(days=4))
    with db.transaction() as session:
        assert queue_feedback_invitations(session, utcnow()) == 0


# -- privacy ----------------------------------------------------------------------------
def test_feedback_is_exported_anonymised_and_erased(db: Database, make: Factories) -> None:
    event = past_event(db, make)
    kept, erased = came(db, event, 1), came(db, event, 2)
    ended = end(db, event)
    give(db, event, kept, rating="5", keep="Lovely", change="Nothing")
    give(db, event, erased, rating="2", keep="Meh")
    with db.session() as session:
        data = export_personal_data(
            session,
            session.get(Registration, kept.id),
            base_url="https://x.example",
            retention_days=90,
            now=utcnow(),
        )
    assert data["feedback"]["rating"] == 5 and data["feedback"]["keep"] == "Lovely"
    with db.transaction() as session:
        RegistrationService(session).erase(session.get(Registration, erased.id))
    assert feedback_rows(db) == 1
    with db.transaction() as session:
        anonymise_past_registrations(session, now=ended.ends_at + timedelta(days=91), after_days=90)
    with db.session() as session:
        [left] = session.scalars(select(Feedback)).all()
        assert (left.rating, left.keep, left.change, left.answers) == (5, "", "", {})
