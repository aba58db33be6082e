"""The login rate limit counts every attempt exactly, whichever process gets it.

The counter is one atomic upsert (events/attempts.py). The negative control counts the way
Litestar's own middleware does over a store (read the count, then write it back, in two
transactions) and lets more attempts through than the limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events.attempts import count_attempt, purge_ended_counters
from events.clock import utcnow
from events.database import Database
from events.models import AttemptCounter, KeyValue
from tests.conftest import BASE_URL
from tests.factories import Factories
from tests.web.conftest import Client
from web.app import create_app
from web.settings import Settings

LIMIT = 10
ATTEMPTS = 30
WINDOW = timedelta(minutes=1)


def _at_once(attempt: Callable[[], bool], *, threads: int = ATTEMPTS) -> int:
    """Run ``attempt`` in ``threads`` threads released together; how many were allowed."""
    start = threading.Barrier(threads)
    allowed: list[bool] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            allowed.append(attempt())
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    assert len(allowed) == threads
    return sum(allowed)


def test_thirty_simultaneous_attempts_let_exactly_the_limit_through(db: Database) -> None:
    counts: list[int] = []

    def attempt() -> bool:
        with db.transaction() as session:
            attempts = count_attempt(session, "login|192.0.2.1", window=WINDOW)
        counts.append(attempts.count)
        return attempts.allowed(LIMIT)

    assert _at_once(attempt) == LIMIT
    assert sorted(counts) == list(range(1, ATTEMPTS + 1))  # each attempt its own count


def test_negative_control_reading_then_writing_the_count_lets_more_through(
    db: Database,
) -> None:
    """Litestar's middleware over a store: read the count, check it, write count + 1. Every
    attempt that reads before the others write sees room left; here all read first (the
    barrier stands for the moment between the two statements, which the atomic counter
    does not have)."""
    between = threading.Barrier(ATTEMPTS)
    insert = sqlite_insert if db.is_sqlite else pg_insert

    def attempt() -> bool:
        with db.session() as session:
            stored = session.scalar(
                select(KeyValue.value).where(KeyValue.namespace == "rate", KeyValue.key == "k")
            )
        count = int(stored or b"0")
        between.wait()
        if count >= LIMIT:
            return False
        statement = insert(KeyValue).values(
            namespace="rate", key="k", value=str(count + 1).encode()
        )
        with db.transaction() as session:
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["namespace", "key"], set_={"value": statement.excluded.value}
                )
            )
        return True

    assert _at_once(attempt) > LIMIT


def test_a_window_ends_and_the_counting_starts_again(db: Database) -> None:
    now = utcnow()
    with db.transaction() as session:
        first = count_attempt(session, "k", window=WINDOW, now=now)
        second = count_attempt(session, "k", window=WINDOW, now=now + timedelta(seconds=59))
        third = count_attempt(session, "k", window=WINDOW, now=now + timedelta(seconds=61))
        other = count_attempt(session, "other", window=WINDOW, now=now)
    assert (first.count, second.count, third.count, other.count) == (1, 2, 1, 1)
    assert second.window_ends_at == first.window_ends_at == now + WINDOW  # not prolonged
    assert third.window_ends_at == now + timedelta(seconds=61) + WINDOW
    with db.transaction() as session:  # an hour after its window ended, a counter goes
        assert purge_ended_counters(session, now + timedelta(hours=1, seconds=59)) == 0
        assert purge_ended_counters(session, now + timedelta(hours=1, seconds=90)) == 1
        assert purge_ended_counters(session, now + timedelta(hours=1, seconds=150)) == 1


def _login(client: Client, user_email: str) -> tuple[int, dict[str, str]]:
    response = client.submit("/login", {"email": user_email, "password": "bad password"})
    return response.status_code, dict(response.headers)


def test_the_login_form_sends_the_rate_limit_headers_and_the_429_page(
    settings: Settings, db: Database, make: Factories
) -> None:
    user = make.user()
    with Client(app=create_app(replace(settings, login_rate_limit=3), db), base_url=BASE_URL) as c:
        answers = [_login(c, user.email) for _ in range(4)]
        assert [status for status, _headers in answers] == [400, 400, 400, 429]
        assert [h["ratelimit-remaining"] for _status, h in answers] == ["2", "1", "0", "0"]
        for _status, headers in answers:
            assert headers["ratelimit-limit"] == "3"
            assert headers["ratelimit-policy"] == "3; w=60"
            assert 0 < int(headers["ratelimit-reset"]) <= 60
        refused = c.submit("/login", {"email": user.email, "password": "x"})
        assert refused.status_code == 429 and "Please wait a minute" in refused.text
        assert c.get("/login").status_code == 200  # reading the page is not counted
        with db.transaction() as session:  # the minute is over
            session.execute(update(AttemptCounter).values(window_ends_at=utcnow()))
        assert _login(c, user.email)[0] == 400


def test_two_processes_share_one_count(settings: Settings, db: Database, make: Factories) -> None:
    # Two apps on one database stand for two worker processes (or two nodes).
    user = make.user()
    limited = replace(settings, login_rate_limit=3)
    with (
        Client(app=create_app(limited, db), base_url=BASE_URL) as first,
        Client(app=create_app(limited, db), base_url=BASE_URL) as second,
    ):
        statuses = [_login(client, user.email)[0] for client in (first, second, first, second)]
    assert statuses == [400, 400, 400, 429]
