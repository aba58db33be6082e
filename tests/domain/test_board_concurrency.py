"""One mark per ticket and topic, and the post limit, under real concurrent threads on both
databases. Each thread runs its own transaction, as a web worker would.

The positive tests release 50 threads at once (the connection pool queues what it cannot
serve). The negative control takes the same 50 marks the naive way (read the ticket's
mark, then insert or update it), the first 16 held between the two until all have read:
some must then fail, proving that the race really happens in this test and that the
one-statement write is what keeps it safe.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from events.database import Database
from events.models import Board, BoardMark, BoardTopic
from events.services import board_topics as topics_module
from events.services.board_state import board_state
from events.services.board_topics import BoardTopics, Marked, TopicInput, participant
from tests.domain.test_board import EARLY
from tests.domain.test_registration_concurrency import deferred
from tests.factories import Factories, OpenSpace

MARKS = 50
WORKERS = 16


def race(count: int, work: Callable[[int], Any], *, at_once: bool = False) -> list[Any]:
    """``work(0..count-1)`` on real threads; results or raised exceptions. ``at_once``: one
    thread each, all released together (then the connection pool is what queues them:
    up to 45 at once on PostgreSQL, 16 on SQLite, events/database.py)."""
    if not at_once:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [pool.submit(work, n) for n in range(count)]
            return [future.exception() or future.result() for future in futures]
    start = threading.Barrier(count, timeout=30)

    def released(n: int) -> Any:
        start.wait()
        return work(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(released, n) for n in range(count)]
        return [future.exception() or future.result() for future in futures]


def a_topic(db: Database, space: OpenSpace) -> Any:
    with db.transaction() as session:
        who = participant(session, space.tickets[0])
        return BoardTopics(session).post(who, TopicInput(title="Hot topic"), now=EARLY).id


def mark_rows(db: Database) -> list[BoardMark]:
    with db.session() as session:
        return list(session.scalars(select(BoardMark)))


def test_fifty_simultaneous_marks_from_one_ticket_leave_one_mark(
    db: Database, make: Factories
) -> None:
    space = make.open_space(participants=2)
    topic_id = a_topic(db, space)

    def one(n: int) -> Marked:
        with db.transaction() as session:
            who = participant(session, space.tickets[1])
            choice = "interested" if n % 2 == 0 else "not_for_me"
            return BoardTopics(session).mark(who, topic_id, choice)

    results = race(MARKS, one, at_once=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    rows = mark_rows(db)
    assert len(rows) == 1 and rows[0].registration_id == space.registrations[1]


def test_fifty_tickets_marking_at_once_are_all_counted(db: Database, make: Factories) -> None:
    space = make.open_space(participants=MARKS + 1)
    topic_id = a_topic(db, space)

    def one(n: int) -> Marked:
        with db.transaction() as session:
            who = participant(session, space.tickets[n + 1])
            return BoardTopics(session).mark(who, topic_id, "interested")

    results = race(MARKS, one, at_once=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    with db.session() as session:
        board = session.get(Board, space.board_id)
        assert board is not None
        [topic] = board_state(session, board).topics
    assert topic.interested == MARKS
    assert len(mark_rows(db)) == MARKS


def test_negative_control_check_then_write_breaks_one_mark_per_ticket(
    db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the one-statement write, simultaneous marks of one ticket collide: some
    fail (the unique key refuses a second row, or SQLite refuses a stale writer). The
    test above would catch that regression. The per-ticket rate limit is switched off
    here too: on PostgreSQL its counter row's lock happens to queue one ticket's marks,
    which would hide the race."""
    space = make.open_space(participants=2)
    topic_id = a_topic(db, space)
    # The first WORKERS marks (as many as run at once) have all read "no mark yet" before
    # any of them writes; the rest of the 50 go straight through.
    all_checked = threading.Barrier(WORKERS, timeout=10)
    checked = itertools.count()

    def between(_session: object) -> None:
        if next(checked) < WORKERS:
            all_checked.wait()

    monkeypatch.setattr(topics_module, "_between_check_and_write", between)
    monkeypatch.setattr(topics_module, "within_limit", lambda *_args: None)

    def one(n: int) -> Marked:
        with deferred(db) as session:
            who = participant(session, space.tickets[1])
            return BoardTopics(session, atomic_marks=False).mark(who, topic_id, "interested")

    results = race(MARKS, one)
    errors = [r for r in results if isinstance(r, BaseException)]
    print(f"negative control on {db.engine.dialect.name}: {len(errors)} of {MARKS} failed")
    assert errors  # the naive way loses marks: the guarantee needs the atomic write


def test_simultaneous_posts_from_one_ticket_stay_within_the_limit(
    db: Database, make: Factories
) -> None:
    space = make.open_space(participants=1)

    def one(n: int) -> Any:
        with db.transaction() as session:
            who = participant(session, space.tickets[0])
            return BoardTopics(session).post(who, TopicInput(title=f"Topic {n}"), now=EARLY).id

    results = race(12, one)
    posted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(posted) == 2
    assert {getattr(r, "code", repr(r)) for r in refused} == {"topic_limit"}
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(BoardTopic)) == 2
