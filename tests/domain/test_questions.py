"""The organiser's questions on the registration form and the registrants' answers:
every kind, required or not, bad and forged input, edits after people answered, and the
answers' erasure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.demo import seed_demo, today_in_paris
from events.errors import NotFound, ValidationFailed
from events.models import Event, Registration
from events.services.events import EventService
from events.services.privacy import anonymise_past_registrations
from events.services.questions import (
    LONG_TEXT_MAX_LENGTH,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    SHORT_TEXT_MAX_LENGTH,
    Question,
    QuestionInput,
    QuestionKind,
    QuestionService,
    all_questions,
    answered_questions,
    clean_answers,
    clean_question,
    clean_questions,
    export_questions,
    form_questions,
)
from events.services.registrations import RegistrationService
from tests.domain.test_registrations import act, open_event, person, register
from tests.factories import Factories

K = QuestionKind


def failure(call: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        call(*args, **kwargs)
    return raised.value.errors


def q(
    kind: K, *, required: bool = False, options: tuple[str, ...] = (), qid: str = "a1"
) -> Question:
    return Question(id=qid, kind=kind, label="Question", required=required, options=options)


DIET = q(K.SINGLE_CHOICE, options=("Vegetarian", "Vegan", "Anything"), qid="diet")
TOPICS = q(K.MULTIPLE_CHOICE, options=("Arts", "Sciences", "Housing"), qid="topics")


# -- the organiser's questions ------------------------------------------------------------
@pytest.mark.parametrize("kind", list(K))
def test_every_kind_of_question_is_accepted(kind: K) -> None:
    question = clean_question(
        QuestionInput(kind=kind.value, label=" Diet  ", required="on", options="A\nB\n", help="Why")
    )
    assert question.kind is kind
    assert question.label == "Diet"
    assert question.required is True
    assert question.help == "Why"
    assert question.options == (("A", "B") if kind.has_options else ())
    assert len(question.id) == 8 and question.field_name == f"q_{question.id}"


def test_a_question_needs_a_kind_and_a_label() -> None:
    assert failure(clean_question, QuestionInput()) == {"kind": "required", "label": "required"}
    errors = failure(clean_question, QuestionInput(kind="file_upload", label="x" * 201))
    assert errors == {"kind": "invalid_choice", "label": "too_long"}
    assert clean_question(QuestionInput(kind="short_text", label="x" * 200)).label == "x" * 200


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ("", "required"),
        ("\n  \n", "required"),
        ("Same\nsame", "duplicate_option"),
        ("x" * 101, "too_long"),
        ("\n".join(f"Option {n}" for n in range(MAX_OPTIONS + 1)), "too_many"),
        ("A\x00B", "invalid_characters"),
        ("\n" * 10_000, "too_many"),
    ],
)
def test_bad_options_are_refused(options: str, code: str) -> None:
    data = QuestionInput(kind="multiple_choice", label="Topics", options=options)
    assert failure(clean_question, data) == {"options": code}


def test_twenty_options_of_a_hundred_characters_are_fine() -> None:
    options = [f"{n:02d}" + "x" * 98 for n in range(MAX_OPTIONS)]
    question = clean_question(
        QuestionInput(kind="single_choice", label="Pick", options="\r\n".join(options))
    )
    assert list(question.options) == options


def test_options_of_a_text_question_are_dropped_not_refused() -> None:
    question = clean_question(QuestionInput(kind="short_text", label="Job", options="a\na"))
    assert question.options == ()


def test_control_characters_in_label_and_help_are_refused() -> None:
    data = QuestionInput(kind="checkbox", label="Code\x00of conduct", help="line\nbreak")
    assert failure(clean_question, data) == {
        "label": "invalid_characters",
        "help": "invalid_characters",
    }


def test_a_whole_list_reports_each_question_by_position() -> None:
    errors = failure(
        clean_questions,
        [
            {"kind": "short_text", "label": "Fine"},
            {"kind": "single_choice", "label": "", "options": ["a", "A"]},
        ],
    )
    assert errors == {"1.label": "required", "1.options": "duplicate_option"}
    too_many = [{"kind": "checkbox", "label": f"Q{n}"} for n in range(MAX_QUESTIONS + 1)]
    assert failure(clean_questions, too_many) == {"questions": "too_many_questions"}


def test_a_whole_list_keeps_valid_unique_ids_only() -> None:
    cleaned = clean_questions(
        [
            {"id": "keep1", "kind": "short_text", "label": "A", "required": True},
            {"id": "keep1", "kind": "short_text", "label": "B"},
            {"id": "NOT OURS!", "kind": "checkbox", "label": "C"},
        ]
    )
    assert cleaned[0].id == "keep1" and cleaned[0].required
    assert len({question.id for question in cleaned}) == 3
    assert cleaned[2].id != "NOT OURS!"


def test_malformed_stored_questions_are_skipped_when_read() -> None:
    event = Event(
        questions=[
            {"id": "ok1", "kind": "short_text", "label": "Fine"},
            {"id": "bad id", "kind": "short_text", "label": "Bad id"},
            {"id": "ok2", "kind": "teleport", "label": "Bad kind"},
            "not a dict",
        ]
    )
    assert [question.id for question in all_questions(event)] == ["ok1"]


# -- answers --------------------------------------------------------------------------------
def test_short_text() -> None:
    short = q(K.SHORT_TEXT, required=True)
    assert clean_answers([short], {"q_a1": "  Développeuse  "}) == {"a1": "Développeuse"}
    assert failure(clean_answers, [short], {}) == {"q_a1": "required"}
    assert failure(clean_answers, [short], {"q_a1": "   "}) == {"q_a1": "required"}
    assert failure(clean_answers, [short], {"q_a1": "x" * (SHORT_TEXT_MAX_LENGTH + 1)}) == {
        "q_a1": "too_long"
    }
    assert failure(clean_answers, [short], {"q_a1": "two\nlines"}) == {"q_a1": "invalid_characters"}
    assert failure(clean_answers, [short], {"q_a1": ["one", "two"]}) == {"q_a1": "invalid"}


def test_long_text_keeps_line_breaks() -> None:
    long = q(K.LONG_TEXT)
    assert clean_answers([long], {"q_a1": "one\r\ntwo\n\tthree"}) == {"a1": "one\ntwo\n\tthree"}
    assert clean_answers([long], {"q_a1": "x" * LONG_TEXT_MAX_LENGTH}) == {
        "a1": "x" * LONG_TEXT_MAX_LENGTH
    }
    assert failure(clean_answers, [long], {"q_a1": "x" * (LONG_TEXT_MAX_LENGTH + 1)}) == {
        "q_a1": "too_long"
    }
    assert clean_answers([long], {"q_a1": ""}) == {}  # optional and empty: not stored


def test_nul_bytes_and_control_characters_are_refused_like_in_names() -> None:
    for kind in (K.SHORT_TEXT, K.LONG_TEXT):
        for value in ("bad\x00value", "bell\x07", "esc\x1b[31m"):
            assert failure(clean_answers, [q(kind)], {"q_a1": value}) == {
                "q_a1": "invalid_characters"
            }
    assert failure(clean_answers, [DIET], {"q_diet": "Vegan\x00"}) == {"q_diet": "invalid_choice"}


def test_unicode_is_kept_and_normalised() -> None:
    text = "Zoë 🎉 — 北京 e\u0301"  # the last one decomposed: stored composed (NFC)
    answers = clean_answers([q(K.SHORT_TEXT)], {"q_a1": text})
    assert answers == {"a1": "Zoë 🎉 — 北京 é"}
    accented = q(K.SINGLE_CHOICE, options=("Café",))
    assert clean_answers([accented], {"q_a1": "Cafe\u0301"}) == {"a1": "Café"}


def test_single_choice() -> None:
    assert clean_answers([DIET], {"q_diet": "Vegan"}) == {"diet": "Vegan"}
    assert clean_answers([DIET], {}) == {}
    required = q(K.SINGLE_CHOICE, options=DIET.options, qid="diet", required=True)
    assert failure(clean_answers, [required], {}) == {"q_diet": "required"}


@pytest.mark.parametrize(
    "forged", ["Carnivore", "vegan", "<script>", ["Vegan", "Anything"], {"a": 1}, 3]
)
def test_a_forged_single_choice_is_refused(forged: Any) -> None:
    assert failure(clean_answers, [DIET], {"q_diet": forged}) == {"q_diet": "invalid_choice"}


def test_multiple_choice_keeps_the_options_order_and_drops_repeats() -> None:
    answers = clean_answers([TOPICS], {"q_topics": ["Housing", "Arts", "Arts"]})
    assert answers == {"topics": ["Arts", "Housing"]}
    assert clean_answers([TOPICS], {"q_topics": "Sciences"}) == {"topics": ["Sciences"]}
    assert clean_answers([TOPICS], {"q_topics": []}) == {}
    required = q(K.MULTIPLE_CHOICE, options=TOPICS.options, qid="topics", required=True)
    assert failure(clean_answers, [required], {"q_topics": [""]}) == {"q_topics": "required"}


@pytest.mark.parametrize(
    "forged", [["Arts", "Cooking"], ["Arts"] * 50, "arts", [["Arts"]], ["Arts", None]]
)
def test_a_forged_multiple_choice_is_refused(forged: Any) -> None:
    assert failure(clean_answers, [TOPICS], {"q_topics": forged}) == {"q_topics": "invalid_choice"}


def test_checkbox() -> None:
    box = q(K.CHECKBOX)
    assert clean_answers([box], {"q_a1": "on"}) == {"a1": True}
    assert clean_answers([box], {}) == {"a1": False}
    assert clean_answers([box], {"q_a1": "anything else"}) == {"a1": False}
    required = q(K.CHECKBOX, required=True)
    assert failure(clean_answers, [required], {}) == {"q_a1": "required"}
    assert failure(clean_answers, [required], {"q_a1": ["on", "on"]}) == {"q_a1": "required"}


def test_every_error_comes_at_once_and_unknown_fields_are_ignored() -> None:
    questions = [q(K.SHORT_TEXT, required=True, qid="x1"), DIET, q(K.CHECKBOX, qid="x2")]
    errors = failure(clean_answers, questions, {"q_diet": "Beef", "q_zzz": "forged", "name": "Ada"})
    assert errors == {"q_x1": "required", "q_diet": "invalid_choice"}


def test_a_huge_answer_is_refused_quickly() -> None:
    huge = "x" * 5_000_000
    assert failure(clean_answers, [q(K.LONG_TEXT)], {"q_a1": huge}) == {"q_a1": "too_long"}
    many = ["Arts"] * 100_000
    assert failure(clean_answers, [TOPICS], {"q_topics": many}) == {"q_topics": "invalid_choice"}


# -- with the database: the editor's service, registering, editing after answers ------------
def add(db: Database, event: Event, **values: Any) -> Question:
    with db.transaction() as session:
        return QuestionService(session).add(session.get(Event, event.id), QuestionInput(**values))


def stored(db: Database, event: Event) -> Event:
    with db.session() as session:
        found = session.get(Event, event.id)
        assert found is not None
        return found


def answers_of(db: Database, registration_id: Any) -> dict[str, Any]:
    with db.session() as session:
        registration = session.get(Registration, registration_id)
        assert registration is not None
        return registration.answers


def test_questions_are_added_edited_moved_and_removed(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    diet = add(db, event, kind="single_choice", label="Diet", options="Veg\nAny", required="on")
    job = add(db, event, kind="short_text", label="Job")
    with db.transaction() as session:
        service = QuestionService(session)
        found = session.get(Event, event.id)
        service.move(found, job.id, -1)
        service.move(found, job.id, -1)  # already first: nothing happens
        service.update(found, diet.id, QuestionInput(kind="long_text", label="Food"))
    questions = form_questions(stored(db, event))
    assert [(qu.id, qu.label, qu.kind) for qu in questions] == [
        (job.id, "Job", K.SHORT_TEXT),
        (diet.id, "Food", K.LONG_TEXT),
    ]
    with db.transaction() as session:
        QuestionService(session).remove(session.get(Event, event.id), job.id)
    # Nobody answered it: it is gone for good.
    assert [qu.id for qu in all_questions(stored(db, event))] == [diet.id]
    with db.transaction() as session, pytest.raises(NotFound):
        QuestionService(session).remove(session.get(Event, event.id), "nope")


def test_an_edit_that_fails_changes_nothing(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    diet = add(db, event, kind="single_choice", label="Diet", options="Veg\nAny")
    with db.transaction() as session:
        data = QuestionInput(kind="single_choice", label="Diet", options="A\na")
        with pytest.raises(ValidationFailed):
            QuestionService(session).update(session.get(Event, event.id), diet.id, data)
    assert form_questions(stored(db, event)) == [diet]


def test_at_most_thirty_questions_are_asked(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    with db.transaction() as session:
        found = session.get(Event, event.id)
        service = QuestionService(session)
        for n in range(MAX_QUESTIONS):
            service.add(found, QuestionInput(kind="checkbox", label=f"Q{n}"))
        with pytest.raises(ValidationFailed) as raised:
            service.add(found, QuestionInput(kind="checkbox", label="One more"))
    assert raised.value.errors == {"form": "too_many_questions"}


def test_registering_stores_the_answers(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    diet = add(db, event, kind="single_choice", label="Diet", options="Veg\nAny", required="on")
    box = add(db, event, kind="checkbox", label="Photos OK")
    result = register(db, event, person(1, answers={diet.field_name: "Veg"}))
    assert answers_of(db, result.registration.id) == {diet.id: "Veg", box.id: False}


def test_a_missing_required_answer_stores_nothing(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    diet = add(db, event, kind="single_choice", label="Diet", options="Veg\nAny", required="on")
    with db.transaction() as session:
        service = RegistrationService(session)
        with pytest.raises(ValidationFailed) as raised:
            service.register(session.get(Event, event.id), person(1, name=""))
    assert raised.value.errors == {"name": "required", diet.field_name: "required"}
    with db.session() as session:
        assert session.query(Registration).count() == 0
        assert session.get(Event, event.id).taken == 0  # type: ignore[union-attr]


def test_editing_questions_after_registration_keeps_the_answers(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    diet = add(db, event, kind="single_choice", label="Diet", options="Veg\nAny")
    topics = add(db, event, kind="multiple_choice", label="Topics", options="Arts\nHousing")
    job = add(db, event, kind="short_text", label="Job")
    first = register(
        db, event, person(1, answers={diet.field_name: "Veg", topics.field_name: ["Arts"]})
    )
    with db.transaction() as session:
        found = session.get(Event, event.id)
        service = QuestionService(session)
        # Relabel, change the options (the given answer is no longer one), reorder, remove.
        service.update(
            found, diet.id, QuestionInput(kind="single_choice", label="Food", options="Any")
        )
        service.move(found, topics.id, -1)
        service.remove(found, topics.id)
        service.remove(found, job.id)
    event_now = stored(db, event)
    # The removed, answered question is no longer asked but still names its answers.
    assert [qu.id for qu in form_questions(event_now)] == [diet.id]
    assert [qu.label for qu in export_questions(event_now)] == ["Food", "Topics"]
    assert answers_of(db, first.registration.id) == {diet.id: "Veg", topics.id: ["Arts"]}
    shown = answered_questions(event_now, answers_of(db, first.registration.id))
    assert [(a.label, a.answer, a.removed) for a in shown] == [
        ("Food", "Veg", False),
        ("Topics", ["Arts"], True),
    ]
    # New registrations answer the current questions only; a value for a removed one is
    # ignored, and a value no longer offered is refused.
    second = register(
        db, event, person(2, answers={diet.field_name: "Any", topics.field_name: "Arts"})
    )
    assert answers_of(db, second.registration.id) == {diet.id: "Any"}
    with db.transaction() as session, pytest.raises(ValidationFailed):
        RegistrationService(session).register(
            session.get(Event, event.id), person(3, answers={diet.field_name: "Veg"})
        )


def test_a_question_added_later_is_simply_unanswered(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    first = register(db, event, person(1))
    late = add(db, event, kind="short_text", label="Late", required="on")
    assert answers_of(db, first.registration.id) == {}
    assert answered_questions(stored(db, event), {}) == []
    assert late.required


def test_erasing_removes_the_answers(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    job = add(db, event, kind="long_text", label="About you")
    result = register(db, event, person(1, answers={job.field_name: "Ada, 36, Paris"}))
    act(db, result.registration.id, "erase")
    assert answers_of(db, result.registration.id) == {}


def test_anonymisation_removes_the_answers(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    job = add(db, event, kind="short_text", label="Job")
    result = register(db, event, person(1, answers={job.field_name: "Nurse"}))
    with db.transaction() as session:
        found = session.get(Event, event.id)
        assert found is not None
        found.starts_at = utcnow() - timedelta(days=200, hours=3)
        found.ends_at = utcnow() - timedelta(days=200)
    with db.transaction() as session:
        assert anonymise_past_registrations(session, now=utcnow()) == 1
    assert answers_of(db, result.registration.id) == {}


def test_the_demo_has_an_event_with_two_answered_questions(db: Database) -> None:
    with db.transaction() as session:
        assert seed_demo(session, today=today_in_paris(), password="demo-password").created
    with db.session() as session:
        asking = [event for event in session.scalars(select(Event)) if form_questions(event)]
        assert len(asking) == 1
        kinds = [question.kind for question in form_questions(asking[0])]
        assert kinds == [K.LONG_TEXT, K.SINGLE_CHOICE]
        answers = session.scalars(
            select(Registration.answers).where(Registration.event_id == asking[0].id)
        ).all()
        assert answers and all(len(given) == 2 for given in answers)


def test_a_duplicated_event_asks_the_same_questions_but_not_removed_ones(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    diet = add(db, event, kind="single_choice", label="Diet", options="Veg\nAny", required="on")
    job = add(db, event, kind="short_text", label="Job")
    register(db, event, person(1, answers={diet.field_name: "Veg", job.field_name: "Baker"}))
    with db.transaction() as session:
        QuestionService(session).remove(session.get(Event, event.id), job.id)  # kept: answered
        copy = EventService(session).duplicate(session.get(Event, event.id))
    assert [qu.id for qu in all_questions(stored(db, event))] == [diet.id, job.id]
    copied = form_questions(stored(db, copy))
    assert [(qu.id, qu.label, qu.required) for qu in copied] == [(diet.id, "Diet", True)]
    assert all_questions(stored(db, copy)) == copied
