"""One version stamp for everything the public pages show, shared by all processes.

Any transaction that adds, changes or deletes an event, venue, community, tag, series,
programme item, registration, cover image, volunteer shift, call for proposals,
open-space board or offers & needs board (switched on or off: the event page links to
them) writes a new random stamp in the same transaction (a session hook, so no service
can forget). Page caches key their entries on the stamp: a reader checks one small row
instead of re-rendering, and every worker process sees a change as soon as it is
committed.
"""

from __future__ import annotations

import secrets
import threading
from itertools import chain
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.models import (
    Board,
    Community,
    Event,
    EventCover,
    ExchangeBoard,
    KeyValue,
    ProgrammeItem,
    ProposalCall,
    Registration,
    Series,
    SeriesException,
    Shift,
    ShiftSignup,
    Tag,
    Venue,
    VolunteerRole,
)
from events.models.base import insert_for

NAMESPACE, KEY = "content", "version"
TRACKED = (
    Event,
    EventCover,
    Venue,
    Community,
    Tag,
    Series,
    SeriesException,
    ProgrammeItem,
    ProposalCall,
    Registration,
    # The event pages' "help us" section shows the shifts and their free spots.
    VolunteerRole,
    Shift,
    ShiftSignup,
    Board,
    # The event page links to offers & needs while they are on (and says whether public).
    ExchangeBoard,
)
_CHANGED = "rencontres.content_changed"
_STAMPED = "rencontres.content_stamped"


class _LocalCommits:
    """How many stamped transactions this process has committed: lets an in-process reader
    of the version (web/content_watch.py) notice its own process's changes at once."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self._count += 1

    @property
    def count(self) -> int:
        return self._count


local_commits = _LocalCommits()


def current_version(session: Session) -> str:
    value = session.scalar(
        select(KeyValue.value).where(KeyValue.namespace == NAMESPACE, KeyValue.key == KEY)
    )
    return value.decode() if value else "initial"


def mark_content_changed(session: Session) -> None:
    """Stamp a new version when ``session`` commits: for a change written with Core
    statements, which the ORM's flush hook below does not see."""
    session.info[_CHANGED] = True


def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    changed = chain(session.new, session.dirty, session.deleted)
    if any(isinstance(instance, TRACKED) for instance in changed):
        mark_content_changed(session)


def _stamp(session: Session) -> None:
    # Savepoints (web/write_batch.py) fire the commit hooks too: stamp once, at the end.
    if session.in_nested_transaction():
        return
    # before_commit runs before the final flush: flush now so its changes are noted.
    session.flush()
    if not session.info.pop(_CHANGED, False):
        return
    write_stamp(session, NAMESPACE, KEY)
    session.info[_STAMPED] = True


def write_stamp(session: Session, namespace: str, key: str) -> None:
    """A new random stamp under ``namespace``/``key`` in ``key_value``, in the session's
    transaction (the content version, and each offers board's: events/exchange_version.py)."""
    value = secrets.token_hex(8).encode()
    session.execute(
        insert_for(session)(KeyValue)
        .values(namespace=namespace, key=key, value=value, expires_at=None)
        .on_conflict_do_update(
            index_elements=["namespace", "key"], set_={"value": value, "updated_at": utcnow()}
        )
    )


def _committed(session: Session) -> None:
    if session.info.pop(_STAMPED, False):
        local_commits.bump()


def _forget(session: Session, *_args: Any) -> None:
    if session.in_nested_transaction():  # a savepoint: the others' changes still count
        return
    session.info.pop(_CHANGED, None)
    session.info.pop(_STAMPED, None)


event.listen(Session, "before_flush", _note_changes)
event.listen(Session, "before_commit", _stamp)
event.listen(Session, "after_commit", _committed)
event.listen(Session, "after_rollback", _forget)
