"""Reports and moderation of what people post without an account, whatever the feature.

A thing that can be reported is a :class:`~events.services.follows.Subject` (kind, id,
community, title, address). The rules:

- **Who reports.** A proven person (events/services/identity.py): a reason among
  :data:`REASONS` and an optional note. A person counts once per thing (a unique key on
  their keyed hash): reporting again changes nothing.
- **Automatic hiding.** At :data:`AUTO_HIDE_AT` reports from distinct people the thing is
  hidden (``hidden_by = "reports"``) until an organiser decides. The count is a
  conditional increment, so simultaneous reports count each person exactly once and the
  threshold is crossed once. Once an organiser restored it, reports no longer hide it
  automatically (the decision stands; new reports show in the queue).
- **The queue** (:func:`queue`): per community, the things reported and not yet decided,
  or reported again since the decision, and what reports hid.
- **Decisions** (:func:`hide`, :func:`restore`): by an organiser, with a reason, recorded
  on the case. Telling the owner is the feature's business
  (events/services/moderation_decisions.py dispatches by kind).

Pages of each feature obey ``ModerationCase.hidden`` (:func:`hidden_clause` for lists,
:func:`is_hidden` for one thing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.content_version import mark_content_changed
from events.errors import NotFound, ValidationFailed
from events.models import Community, ModerationCase, ModerationReport
from events.models.base import insert_for, table_of
from events.services.follows import Subject
from events.services.identity import Person
from events.validation import clean_text

REASONS = ("spam", "offensive", "off_topic", "personal_data", "other")
AUTO_HIDE_AT = 3
NOTE_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 2000


@dataclass(frozen=True)
class Reported:
    case: ModerationCase
    #: False when this person had reported it already (nothing changed).
    counted: bool
    #: This report crossed the threshold and hid it.
    hid_it: bool


def clean_reason(reason: str | None) -> str:
    value = (reason or "").strip()
    if value not in REASONS:
        raise ValidationFailed({"reason": "invalid_choice"})
    return value


def case_of(session: Session, kind: str, subject_id: UUID) -> ModerationCase | None:
    return session.scalar(
        select(ModerationCase).where(
            ModerationCase.subject_kind == kind, ModerationCase.subject_id == subject_id
        )
    )


def _case(session: Session, subject: Subject) -> ModerationCase:
    """The subject's case, made on first need (two first reports at once agree on one),
    with the title and address it has now."""
    session.execute(
        insert_for(session)(ModerationCase)
        .values(
            community_id=subject.community_id,
            subject_kind=subject.kind,
            subject_id=subject.id,
            title=subject.title[:200],
            path=subject.path[:300],
        )
        .on_conflict_do_nothing(index_elements=["subject_kind", "subject_id"])
    )
    found = session.scalar(
        select(ModerationCase)
        .where(ModerationCase.subject_kind == subject.kind, ModerationCase.subject_id == subject.id)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    found.title, found.path = subject.title[:200], subject.path[:300]
    return found


def report(
    session: Session, subject: Subject, reporter: Person, reason: str, note: str = ""
) -> Reported:
    """``reporter`` reports ``subject``; see the module docstring for what it does."""
    reason = clean_reason(reason)
    note = clean_text("note", note, max_length=NOTE_MAX_LENGTH, required=False, multiline=True)
    case = _case(session, subject)
    inserted = session.execute(
        insert_for(session)(ModerationReport)
        .values(case_id=case.id, reporter_key=reporter.key, reason=reason, note=note)
        .on_conflict_do_nothing(index_elements=["case_id", "reporter_key"])
        .returning(ModerationReport.id)
    ).first()
    if inserted is None:
        return Reported(case, counted=False, hid_it=False)
    table = table_of(ModerationCase)
    reports = session.execute(
        update(table)
        .where(table.c.id == case.id)
        .values(reports=table.c.reports + 1)
        .returning(table.c.reports)
    ).scalar_one()
    session.refresh(case)
    hid_it = reports >= AUTO_HIDE_AT and not case.hidden and case.decision != "restored"
    if hid_it:
        # Under the row lock the increment took: one report crosses the threshold.
        case.hidden, case.hidden_by = True, "reports"
        mark_content_changed(session)  # cached lists drop it at once
    session.flush()
    return Reported(case, counted=True, hid_it=hid_it)


def _decide(
    session: Session, case: ModerationCase, *, hidden: bool, reason: str, actor_id: UUID | None
) -> ModerationCase:
    reason = clean_text("reason", reason, max_length=REASON_MAX_LENGTH, multiline=True)
    case.hidden = hidden
    case.hidden_by = "organiser" if hidden else ""
    case.decision = "hidden" if hidden else "restored"
    case.reason = reason
    case.decided_by_id = actor_id
    case.decided_at = utcnow()
    mark_content_changed(session)  # cached lists show or drop it at once
    session.flush()
    return case


def hide(
    session: Session, subject: Subject, *, reason: str, actor_id: UUID | None
) -> ModerationCase:
    """An organiser hides ``subject`` (reported or not), saying why."""
    return _decide(session, _case(session, subject), hidden=True, reason=reason, actor_id=actor_id)


def restore(
    session: Session, case: ModerationCase, *, reason: str, actor_id: UUID | None
) -> ModerationCase:
    """An organiser shows a hidden (or reported) thing again, saying why."""
    return _decide(session, case, hidden=False, reason=reason, actor_id=actor_id)


def hide_case(
    session: Session, case: ModerationCase, *, reason: str, actor_id: UUID | None
) -> ModerationCase:
    """:func:`hide`, from the queue (the case is known)."""
    return _decide(session, case, hidden=True, reason=reason, actor_id=actor_id)


def in_community(session: Session, community: Community, case_id: UUID) -> ModerationCase:
    found = session.get(ModerationCase, case_id)
    if found is None or found.community_id != community.id:
        raise NotFound()
    return found


def reports_since(session: Session, case: ModerationCase, moment: datetime | None) -> int:
    query = select(func.count()).where(ModerationReport.case_id == case.id)
    if moment is not None:
        query = query.where(ModerationReport.created_at > moment)
    return session.scalar(query) or 0


def queue(session: Session, community: Community) -> list[ModerationCase]:
    """What needs an organiser: undecided reported cases, cases reported again since the
    decision, and everything hidden by reports; most reported first."""
    newer_report = exists().where(
        ModerationReport.case_id == ModerationCase.id,
        ModerationReport.created_at > ModerationCase.decided_at,
    )
    return list(
        session.scalars(
            select(ModerationCase)
            .where(
                ModerationCase.community_id == community.id,
                or_(
                    and_(ModerationCase.decision == "", ModerationCase.reports > 0),
                    ModerationCase.hidden_by == "reports",
                    and_(ModerationCase.decision != "", newer_report),
                ),
            )
            .order_by(ModerationCase.reports.desc(), ModerationCase.updated_at.desc())
        )
    )


def decided(session: Session, community: Community, *, limit: int = 50) -> list[ModerationCase]:
    """The latest decisions (hidden things stay listed here, to restore them)."""
    return list(
        session.scalars(
            select(ModerationCase)
            .where(ModerationCase.community_id == community.id, ModerationCase.decision != "")
            .order_by(ModerationCase.decided_at.desc())
            .limit(limit)
        )
    )


def reasons_of(session: Session, case: ModerationCase) -> dict[str, int]:
    """How many reports gave each reason (who reported is never shown)."""
    rows = session.execute(
        select(ModerationReport.reason, func.count())
        .where(ModerationReport.case_id == case.id)
        .group_by(ModerationReport.reason)
    )
    return {reason: int(count) for reason, count in rows}


def notes_of(session: Session, case: ModerationCase) -> list[str]:
    return [
        note
        for note in session.scalars(
            select(ModerationReport.note)
            .where(ModerationReport.case_id == case.id, ModerationReport.note != "")
            .order_by(ModerationReport.created_at)
        )
    ]


def hidden_clause(kind: str | ColumnElement[str], subject_id: Any) -> ColumnElement[bool]:
    """SQL for "``subject_id`` (a column) is hidden": lists filter with ``~hidden_clause``."""
    return exists().where(
        ModerationCase.subject_kind == kind,
        ModerationCase.subject_id == subject_id,
        ModerationCase.hidden.is_(True),
    )


#: Asked on every read and write of a proposal or listing: built once (bound parameters).
_IS_HIDDEN = select(hidden_clause(bindparam("kind"), bindparam("subject_id")))


def is_hidden(session: Session, kind: str, subject_id: UUID) -> bool:
    return bool(session.scalar(_IS_HIDDEN, {"kind": kind, "subject_id": subject_id}))


def forget_reporters(session: Session, kind: str, ids: list[UUID]) -> None:
    """Delete the reports (keyed hashes and notes) about these subjects; the cases and
    their counts stay (the decisions are history)."""
    if not ids:
        return
    cases = select(ModerationCase.id).where(
        ModerationCase.subject_kind == kind, ModerationCase.subject_id.in_(ids)
    )
    session.execute(delete(ModerationReport).where(ModerationReport.case_id.in_(cases)))
