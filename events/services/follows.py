"""Follow without an account: hear by e-mail when something changes, stop with one click.

Anything can be followed: a :class:`Subject` names it by kind and id ("proposal", "call";
later an open-space topic, an offer) with what mails say of it (title, address). The rules:

- **Double opt-in.** A typed address follows only once it clicked the link mailed to it
  (:func:`ask_to_follow`; the confirmation lands in :func:`follow`); a person already
  proven (a ticket holder, an address confirmed in this session) follows at once.
- **Once per person.** One row per subject and keyed hash (a unique key): following twice
  changes nothing.
- **Mails** (:func:`notify`) go to every follower of the subject, and of the wider
  subjects given (a proposal's call), once per person whatever they follow; the one who
  caused the change is left out. Each mail carries the follow's signed link (so every
  mail can carry it): ``/u/{token}``, the page that lists and stops every follow of the
  address in the community, in the body, and ``/u/{token}/one-click`` in the
  ``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers (RFC 8058).
- **Erasure.** Stopping a follow deletes the row and the address with it; follows of
  subjects that are gone or anonymised are deleted by their feature
  (:func:`forget_subjects`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from events.errors import NotFound
from events.form_limits import FormLimit, require_within_limit
from events.mail.community import queue_community_mail
from events.models import Community, Follow
from events.models.base import insert_for
from events.services import identity
from events.services.identity import Person
from events.validation import clean_email

#: The purpose of follow confirmations and of unsubscribe links (events/services/identity.py).
PURPOSE = "follow"
UNSUBSCRIBE = "unsubscribe"
FOLLOW_LIMIT = FormLimit(attempts=10, window=timedelta(hours=1))


@dataclass(frozen=True)
class Subject:
    """Something that can be followed (or reported: events/services/moderation.py)."""

    kind: str
    id: UUID
    community_id: UUID
    title: str
    #: Its public page, site-relative (``/g/ours/proposals/call/3``).
    path: str


def ask_to_follow(
    session: Session,
    community: Community,
    subject: Subject,
    email: str,
    *,
    locale: str,
    client: str = "",
    trap: str = "",
) -> None:
    """Mail ``email`` the link that makes it follow ``subject`` (``ValidationFailed`` for
    an invalid address; ``RateLimited`` beyond the limits; a filled honeypot ``trap``
    does nothing, silently)."""
    email = clean_email("email", email)
    if trap.strip():
        return
    require_within_limit(session, "follow", FOLLOW_LIMIT, client=client, person=email)
    identity.request_confirmation(
        session,
        community,
        email,
        PURPOSE,
        {"kind": subject.kind, "id": subject.id.hex, "locale": locale},
        locale=locale,
        context={"title": subject.title},
    )


def follow(session: Session, subject: Subject, person: Person, *, locale: str) -> Follow:
    """``person`` (proven) follows ``subject``; following again returns the same row."""
    insert = insert_for(session)
    session.execute(
        insert(Follow)
        .values(
            community_id=subject.community_id,
            subject_kind=subject.kind,
            subject_id=subject.id,
            email=person.email,
            person_key=person.key,
            locale=locale,
        )
        .on_conflict_do_nothing(index_elements=["subject_kind", "subject_id", "person_key"])
    )
    found = session.scalar(
        select(Follow).where(
            Follow.subject_kind == subject.kind,
            Follow.subject_id == subject.id,
            Follow.person_key == person.key,
        )
    )
    assert found is not None
    return found


def is_following(session: Session, subject: Subject, person: Person) -> bool:
    return (
        session.scalar(
            select(Follow.id).where(
                Follow.subject_kind == subject.kind,
                Follow.subject_id == subject.id,
                Follow.person_key == person.key,
            )
        )
        is not None
    )


def subjects_followed(session: Session, kind: str, person: Person) -> set[UUID]:
    """The ids of the ``kind`` subjects ``person`` follows (to show "following" on a list)."""
    return set(
        session.scalars(
            select(Follow.subject_id).where(
                Follow.community_id == person.community_id,
                Follow.subject_kind == kind,
                Follow.person_key == person.key,
            )
        )
    )


def unfollow(session: Session, subject: Subject, person: Person) -> bool:
    """``person`` stops following ``subject`` from where they follow it (the mails' links
    do the same by token); returns whether there was a follow."""
    result = session.execute(
        delete(Follow).where(
            Follow.subject_kind == subject.kind,
            Follow.subject_id == subject.id,
            Follow.person_key == person.key,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def follows_of(session: Session, community_id: UUID, email: str) -> list[Follow]:
    """Every follow of ``email`` in the community, oldest first."""
    return list(
        session.scalars(
            select(Follow)
            .where(Follow.community_id == community_id, Follow.email == email)
            .order_by(Follow.created_at, Follow.id)
        )
    )


def stop(session: Session, follow: Follow) -> None:
    session.execute(delete(Follow).where(Follow.id == follow.id))


def stop_all(session: Session, community_id: UUID, email: str) -> int:
    """Stop every follow of ``email`` in the community; returns how many."""
    result = session.execute(
        delete(Follow).where(Follow.community_id == community_id, Follow.email == email)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def unsubscribe_path(session: Session, follow: Follow) -> str:
    return f"/u/{identity.signed_token(session, follow.community_id, UNSUBSCRIBE, follow.id)}"


def by_unsubscribe_token(session: Session, token: str | None) -> Follow:
    """The follow an unsubscribe link names (``NotFound`` if stopped or forged)."""
    follow_id = identity.signed_subject(token)
    found = session.get(Follow, follow_id) if follow_id else None
    if found is None or not identity.signature_valid(
        session, found.community_id, UNSUBSCRIBE, found.id, token or ""
    ):
        raise NotFound()
    return found


def notify(
    session: Session,
    community: Community,
    subject: Subject,
    kind: str,
    context: dict[str, Any],
    *,
    also: tuple[Subject, ...] = (),
    links: dict[str, str] | None = None,
    leave_out: frozenset[str] | set[str] = frozenset(),
) -> set[str]:
    """Queue a ``kind`` mail (events/mail/community.py) to every follower of ``subject``
    and of the ``also`` subjects, once per person, except the keys in ``leave_out``;
    returns the keys of those mailed. Each mail carries its follow's unsubscribe link."""
    subjects = (subject, *also)
    of_subjects = or_(
        *[and_(Follow.subject_kind == s.kind, Follow.subject_id == s.id) for s in subjects]
    )
    rows = list(
        session.scalars(
            select(Follow)
            .where(Follow.community_id == community.id, of_subjects)
            .order_by(Follow.created_at, Follow.id)
        )
    )
    mailed: set[str] = set(leave_out)
    told: set[str] = set()
    # The follow of the subject itself first, so the link stops what the mail is about.
    rows.sort(key=lambda row: row.subject_id != subject.id)
    for row in rows:
        if row.person_key in mailed:
            continue
        mailed.add(row.person_key)
        page = unsubscribe_path(session, row)
        queued = queue_community_mail(
            session,
            community=community,
            kind=kind,
            to_address=row.email,
            locale=row.locale,
            context={"title": subject.title, **context},
            links={"subject": subject.path, **(links or {})},
            unsubscribe=page,
            one_click=f"{page}/one-click",
        )
        if queued is not None:
            told.add(row.person_key)
    return told


def move(session: Session, source: Subject, target: Subject) -> None:
    """The followers of ``source`` follow ``target`` instead (two proposals merged); who
    followed both keeps one follow."""
    already = select(Follow.person_key).where(
        Follow.subject_kind == target.kind, Follow.subject_id == target.id
    )
    session.execute(
        delete(Follow).where(
            Follow.subject_kind == source.kind,
            Follow.subject_id == source.id,
            Follow.person_key.in_(already),
        )
    )
    session.execute(
        update(Follow)
        .where(Follow.subject_kind == source.kind, Follow.subject_id == source.id)
        .values(subject_kind=target.kind, subject_id=target.id)
        .execution_options(synchronize_session=False)
    )


def forget_subjects(session: Session, kind: str, ids: list[UUID]) -> int:
    """Delete the follows of these subjects (gone, or their personal data expired)."""
    if not ids:
        return 0
    result = session.execute(
        delete(Follow).where(Follow.subject_kind == kind, Follow.subject_id.in_(ids))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
