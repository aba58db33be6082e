"""The organiser's own questions on the registration form, and the registrants' answers.

Questions live on the event (``Event.questions``, a JSON list, in form order); each is a dict

    {"id": "3f9a1c2e", "kind": "single_choice", "label": "Diet", "required": true,
     "options": ["Vegetarian", "Vegan", "Anything"], "help": "", "removed": false}

Answers live on the registration (``Registration.answers``), keyed by the question's id: a
string (short and long text, single choice), a list of strings (multiple choice, in the
options' order) or a bool (checkbox). Unanswered optional questions are left out, except
checkboxes, which always store True or False.

Editing questions never breaks answers already given:

- ids are random and never reused or changed, so relabelling or reordering keeps answers
  attached to their question;
- a question removed after someone answered it stays in the list marked ``removed``: it is
  no longer asked, but its label still names those answers in the organiser's export and in
  the registrant's "download my data"; one nobody answered is deleted outright;
- an answer is shown as it was given, even if the options or the kind changed since.

Text answers are cleaned like the registrant's name (events.validation.clean_text):
surrounding spaces stripped, NFC-normalised, control characters (NUL included) refused
with ``invalid_characters``; line breaks are allowed in long text only.
"""

from __future__ import annotations

import enum
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from events.errors import NotFound, ValidationFailed
from events.models import Event, Registration, Series
from events.validation import FieldErrors, clean_text, is_checked

#: What asks questions: an event, or the template of a series (copied to its occurrences).
Asker = Event | Series

LABEL_MAX_LENGTH = 200
OPTION_MAX_LENGTH = 100
HELP_MAX_LENGTH = 500
MAX_OPTIONS = 20
#: Questions asked at once (removed questions kept for their answers do not count).
MAX_QUESTIONS = 30
SHORT_TEXT_MAX_LENGTH = 200
LONG_TEXT_MAX_LENGTH = 5_000
#: The registration form's field of a question is ``q_<id>``.
FIELD_PREFIX = "q_"

_ID = re.compile(r"^[a-z0-9]{1,16}$")

Answer = str | list[str] | bool


class QuestionKind(enum.StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    CHECKBOX = "checkbox"

    @property
    def has_options(self) -> bool:
        return self in {QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE}


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    label: str
    required: bool = False
    options: tuple[str, ...] = ()
    help: str = ""
    #: No longer asked; kept because someone answered it.
    removed: bool = False

    @property
    def field_name(self) -> str:
        return FIELD_PREFIX + self.id

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "label": self.label,
            "required": self.required,
            "options": list(self.options),
            "help": self.help,
            "removed": self.removed,
        }

    @classmethod
    def from_json(cls, data: Any) -> Question | None:
        """The question stored as ``data``; None for anything malformed (never raises)."""
        if not isinstance(data, Mapping):
            return None
        qid, label = data.get("id"), data.get("label")
        try:
            kind = QuestionKind(str(data.get("kind")))
        except ValueError:
            return None
        if not isinstance(qid, str) or not _ID.match(qid) or not isinstance(label, str):
            return None
        options = data.get("options") or []
        return cls(
            id=qid,
            kind=kind,
            label=label,
            required=bool(data.get("required")),
            options=tuple(o for o in options if isinstance(o, str)) if kind.has_options else (),
            help=help_text if isinstance(help_text := data.get("help"), str) else "",
            removed=bool(data.get("removed")),
        )


@dataclass
class QuestionInput:
    """What the organiser's editor submits: strings; ``options`` one per line."""

    kind: str = ""
    label: str = ""
    required: bool | str = False
    options: str | Iterable[str] = ""
    help: str = ""


# -- reading ---------------------------------------------------------------------------------
def all_questions(event: Asker) -> list[Question]:
    """Every stored question in form order, removed ones included."""
    parsed = (Question.from_json(item) for item in (event.questions or []))
    return [question for question in parsed if question is not None]


def form_questions(event: Asker) -> list[Question]:
    """The questions the registration form asks, in order."""
    return [question for question in all_questions(event) if not question.removed]


def new_question_id(taken: Iterable[str] = ()) -> str:
    """A short random id (8 hex digits), different from ``taken``."""
    used = set(taken)
    while True:
        candidate = secrets.token_hex(4)
        if candidate not in used:
            return candidate


# -- the organiser's questions ---------------------------------------------------------------
def _option_lines(value: str | Iterable[str]) -> list[str]:
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [item if isinstance(item, str) else "" for item in value]


def clean_question(data: QuestionInput, *, question_id: str | None = None) -> Question:
    """One question as the organiser typed it; ``ValidationFailed`` with codes under
    ``kind``, ``label``, ``options`` and ``help``.

    Options (choices only; ignored for the other kinds): 1 to 20, each at most 100
    characters, no duplicates (compared ignoring case), blank lines skipped.
    """
    errors = FieldErrors()
    kind: QuestionKind | None = None
    try:
        kind = QuestionKind((data.kind or "").strip())
    except ValueError:
        errors.add("kind", "required" if not (data.kind or "").strip() else "invalid_choice")
    label = errors.check(clean_text, "label", data.label, max_length=LABEL_MAX_LENGTH)
    help_text = errors.check(
        clean_text, "help", data.help, max_length=HELP_MAX_LENGTH, required=False
    )
    options: list[str] = []
    if kind is not None and kind.has_options:
        options = _clean_options(errors, data.options)
    errors.raise_if_any()
    assert kind is not None
    return Question(
        id=question_id or new_question_id(),
        kind=kind,
        label=label,
        required=is_checked(data.required),
        options=tuple(options),
        help=help_text,
    )


def _clean_options(errors: FieldErrors, raw: str | Iterable[str]) -> list[str]:
    lines = _option_lines(raw)
    if len(lines) > MAX_OPTIONS * 5:  # a pasted novel: do not clean it line by line
        errors.add("options", "too_many")
        return []
    options: list[str] = []
    seen: set[str] = set()
    for line in lines:
        try:
            option = clean_text("options", line, max_length=OPTION_MAX_LENGTH, required=False)
        except ValidationFailed as failed:
            errors.add("options", failed.errors["options"])
            return []
        if not option:
            continue
        key = option.casefold()
        if key in seen:
            errors.add("options", "duplicate_option")
            return []
        seen.add(key)
        options.append(option)
    if not options:
        errors.add("options", "required")
    elif len(options) > MAX_OPTIONS:
        errors.add("options", "too_many")
    return options


def clean_questions(items: Iterable[QuestionInput | Mapping[str, Any]]) -> list[Question]:
    """A whole list of questions at once (an import, a copy): each cleaned as by
    ``clean_question``, errors under ``<index>.<field>`` (0-based), plus ``questions:
    too_many_questions`` past 30. A mapping may carry an ``id`` to keep (ids must be unique
    and look like ours; anything else gets a new one)."""
    items = list(items)
    errors: dict[str, str] = {}
    if len(items) > MAX_QUESTIONS:
        raise ValidationFailed({"questions": "too_many_questions"})
    cleaned: list[Question] = []
    used: set[str] = set()
    for index, item in enumerate(items):
        wanted: Any = None
        if isinstance(item, Mapping):
            wanted = item.get("id")
            required = item.get("required")
            data = QuestionInput(
                kind=str(item.get("kind") or ""),
                label=str(item.get("label") or ""),
                required=required if isinstance(required, bool) else str(required or ""),
                options=item.get("options") or "",
                help=str(item.get("help") or ""),
            )
        else:
            data = item
        keep = isinstance(wanted, str) and bool(_ID.match(wanted)) and wanted not in used
        try:
            question = clean_question(data, question_id=wanted if keep else new_question_id(used))
        except ValidationFailed as failed:
            errors.update({f"{index}.{name}": code for name, code in failed.errors.items()})
            continue
        used.add(question.id)
        cleaned.append(question)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


class QuestionService:
    """Add, change, remove and reorder an event's questions. Every change writes a new
    list (the JSON column is not change-tracked in place), which also renews the public
    pages' content version, so the cached registration form shows it at once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, event: Asker, question_id: str) -> Question:
        """One asked question of ``event``; ``NotFound`` for an unknown or removed id."""
        for question in form_questions(event):
            if question.id == question_id:
                return question
        raise NotFound()

    def add(self, event: Asker, data: QuestionInput) -> Question:
        stored = all_questions(event)
        if sum(1 for q in stored if not q.removed) >= MAX_QUESTIONS:
            raise ValidationFailed({"form": "too_many_questions"})
        question = clean_question(data, question_id=new_question_id(q.id for q in stored))
        self._save(event, [*stored, question])
        return question

    def update(self, event: Asker, question_id: str, data: QuestionInput) -> Question:
        current = self.get(event, question_id)
        question = clean_question(data, question_id=current.id)
        self._save(event, [question if q.id == current.id else q for q in all_questions(event)])
        return question

    def remove(self, event: Asker, question_id: str) -> None:
        """Stop asking the question; its answers stay (see the module docstring)."""
        current = self.get(event, question_id)
        answered = self._answered(event, current.id)
        kept = []
        for question in all_questions(event):
            if question.id != current.id:
                kept.append(question)
            elif answered:
                kept.append(replace(question, removed=True))
        self._save(event, kept)

    def move(self, event: Asker, question_id: str, delta: int) -> None:
        """Move an asked question up (``-1``) or down (``+1``) among the asked ones."""
        current = self.get(event, question_id)
        stored = all_questions(event)
        asked = [q for q in stored if not q.removed]
        index = next(i for i, q in enumerate(asked) if q.id == current.id)
        target = index + (1 if delta > 0 else -1)
        if not 0 <= target < len(asked):
            return
        asked[index], asked[target] = asked[target], asked[index]
        self._save(event, [*asked, *(q for q in stored if q.removed)])

    def ask_exactly(self, event: Asker, questions: list[Question]) -> None:
        """``event`` asks ``questions``, in this order (a series' template). A question it
        asked before that is not among them stays only if someone answered it, marked
        removed, like :meth:`remove`; ids are kept, so answers stay attached."""
        wanted = {question.id for question in questions}
        answered = self._answered_ids(event)
        kept = [
            replace(question, removed=True)
            for question in all_questions(event)
            if question.id not in wanted and question.id in answered
        ]
        asked = [replace(question, removed=False) for question in questions]
        if [q.to_json() for q in (*asked, *kept)] != (event.questions or []):
            self._store(event, [*asked, *kept])

    def _answered_ids(self, event: Asker) -> set[str]:
        answers = self.session.scalars(
            select(Registration.answers).where(Registration.event_id == event.id)
        )
        return {key for answer in answers if isinstance(answer, dict) for key in answer}

    def _answered(self, event: Asker, question_id: str) -> bool:
        return question_id in self._answered_ids(event)

    def _save(self, event: Asker, questions: list[Question]) -> None:
        """An organiser's change: an occurrence of a series edited on its own is
        ``detached`` (series edits leave its questions alone from then on)."""
        if isinstance(event, Event) and event.series_id is not None:
            event.detached = True
        self._store(event, questions)

    def _store(self, event: Asker, questions: list[Question]) -> None:
        event.questions = [question.to_json() for question in questions]
        self.session.flush()


# -- answers ---------------------------------------------------------------------------------
def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list | tuple):
        return [value if isinstance(value, str) else "\x00" for value in raw]
    return ["\x00"]  # anything else is not what a browser sends


def _choice(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip())


def clean_answer(question: Question, raw: Any) -> Answer | None:
    """The cleaned answer to one question (None = not answered); ``ValidationFailed``
    under the question's field name."""
    name = question.field_name
    if question.kind is QuestionKind.CHECKBOX:
        values = _values(raw)
        checked = len(values) == 1 and is_checked(values[0])
        if question.required and not checked:
            raise ValidationFailed({name: "required"})
        return checked
    values = [value for value in _values(raw) if value.strip()]
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        if len(values) > len(question.options):
            raise ValidationFailed({name: "invalid_choice"})
        chosen = {_choice(value) for value in values}
        if not chosen <= set(question.options):
            raise ValidationFailed({name: "invalid_choice"})
        if not chosen:
            if question.required:
                raise ValidationFailed({name: "required"})
            return None
        return [option for option in question.options if option in chosen]
    if len(values) > 1:  # one value expected: a forged form
        raise ValidationFailed({name: "invalid_choice" if question.kind.has_options else "invalid"})
    if question.kind is QuestionKind.SINGLE_CHOICE:
        if not values:
            if question.required:
                raise ValidationFailed({name: "required"})
            return None
        if _choice(values[0]) not in question.options:
            raise ValidationFailed({name: "invalid_choice"})
        return _choice(values[0])
    long = question.kind is QuestionKind.LONG_TEXT
    text = clean_text(
        name,
        values[0] if values else "",
        max_length=LONG_TEXT_MAX_LENGTH if long else SHORT_TEXT_MAX_LENGTH,
        required=question.required,
        multiline=long,
    )
    return text or None


def clean_answers(
    questions: Iterable[Question], raw: Mapping[str, Any] | None
) -> dict[str, Answer]:
    """The answers to the asked ``questions`` from the form's values (keys ``q_<id>``;
    other keys are ignored). Every question is checked, so all errors come at once:
    ``ValidationFailed`` with codes under ``q_<id>`` (``required``, ``too_long``,
    ``invalid_characters``, ``invalid_choice``, ``invalid``)."""
    raw = raw or {}
    errors = FieldErrors()
    answers: dict[str, Answer] = {}
    for question in questions:
        if question.removed:
            continue
        answer = errors.check(clean_answer, question, raw.get(question.field_name))
        if answer is not None:
            answers[question.id] = answer
    errors.raise_if_any()
    return answers


@dataclass(frozen=True)
class AnsweredQuestion:
    question_id: str
    label: str
    answer: Answer
    #: The question is no longer asked (its answer is kept).
    removed: bool


def answered_questions(event: Event, answers: Mapping[str, Any] | None) -> list[AnsweredQuestion]:
    """A registration's answers with their questions' labels, in form order (removed
    questions last). Answers to questions that no longer exist at all are left out."""
    answers = answers or {}
    found = [
        AnsweredQuestion(q.id, q.label, answers[q.id], q.removed)
        for q in all_questions(event)
        if q.id in answers
    ]
    return sorted(found, key=lambda item: item.removed)


def export_questions(event: Event) -> list[Question]:
    """The questions the organiser's export has a column for: the asked ones in order,
    then the removed ones kept for their answers."""
    stored = all_questions(event)
    return [q for q in stored if not q.removed] + [q for q in stored if q.removed]
