"""Public feeds answer an unchanged poll from memory, and see changes: at once when this
process made them, within the watch's refresh delay when another process did."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from events.calendar import event_uid
from events.content_version import KEY, NAMESPACE, current_version
from events.database import Database
from events.models import Event, KeyValue
from tests.async_runner import run_async
from tests.factories import Factories
from tests.sql_statements import counting_statements
from tests.web.conftest import Client
from tests.web.test_feeds import IDENTITY, create_event, edit_event, uids
from web.content_watch import ContentWatch


def write_version_as_another_process(db: Database, value: bytes) -> None:
    """A commit that this process's session hooks never see, as from another worker."""
    with db.engine.begin() as connection:
        connection.execute(
            update(KeyValue)
            .where(KeyValue.namespace == NAMESPACE, KeyValue.key == KEY)
            .values(value=value)
        )


def test_an_unchanged_feed_is_answered_without_touching_the_database(
    client: Client, db: Database, make: Factories, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The version, once read, stays fresh for the whole test: on a loaded machine more
    # than the watch's second can pass between two polls, and it would be read again.
    monkeypatch.setattr(client.app.state.content_watch, "_max_age", 3600.0)
    make.community(slug="ours", name="Our group")
    create_event(db)
    first = client.get("/feeds/all.ics", headers=IDENTITY)
    assert first.status_code == 200
    etag = first.headers["etag"]
    with counting_statements(db) as statements:
        again = client.get("/feeds/all.ics", headers={**IDENTITY, "if-none-match": etag})
        group = client.get("/g/ours/feed.ics", headers=IDENTITY)
        group_again = client.get("/g/ours/feed.ics", headers=IDENTITY)
    assert again.status_code == 304
    assert group.status_code == group_again.status_code == 200
    assert group_again.content == group.content
    # Only the first group request read anything; the two polls of unchanged feeds did not.
    assert statements, "the first group feed request must have queried"
    with counting_statements(db) as statements:
        client.get("/feeds/all.ics", headers={**IDENTITY, "if-none-match": etag})
        client.get("/g/ours/feed.atom", headers=IDENTITY)
        client.get("/g/ours/feed.atom", headers=IDENTITY)
        reads_before_polls = len(statements)
        client.get("/feeds/all.ics", headers=IDENTITY)
        client.get("/g/ours/feed.atom", headers=IDENTITY)
    assert len(statements) == reads_before_polls


def test_a_change_made_in_this_process_shows_in_the_next_poll(
    client: Client, db: Database, make: Factories
) -> None:
    make.community(slug="ours", name="Our group")
    event = create_event(db)
    etag = client.get("/feeds/all.ics", headers=IDENTITY).headers["etag"]
    edit_event(db, event, title="Renamed night")
    changed = client.get("/feeds/all.ics", headers={**IDENTITY, "if-none-match": etag})
    assert changed.status_code == 200
    assert b"SUMMARY:Renamed night" in changed.content
    second = create_event(
        db, title="Another night", starts_local="2031-04-03T19:00", ends_local="2031-04-03T22:00"
    )
    assert event_uid(second) in uids(client.get("/feeds/all.ics").content)


def test_the_watch_sees_another_process_change_after_its_refresh_delay(
    db: Database, make: Factories
) -> None:

    make.community(slug="ours", name="Our group")
    create_event(db)  # writes a first version row
    with db.session() as session:
        before = current_version(session)
    patient = ContentWatch(db, max_age=3600)
    eager = ContentWatch(db, max_age=0)
    assert run_async(patient.current) == before
    assert run_async(eager.current) == before
    write_version_as_another_process(db, b"elsewhere")
    assert run_async(patient.current) == before  # within its delay: the remembered value
    assert run_async(eager.current) == "elsewhere"


def test_the_watch_rereads_at_once_after_a_local_commit(db: Database, make: Factories) -> None:

    make.community(slug="ours", name="Our group")
    event = create_event(db)
    watch = ContentWatch(db, max_age=3600)
    before = run_async(watch.current)
    edit_event(db, event, title="Changed here")
    after = run_async(watch.current)
    assert after != before
    with db.session() as session:
        assert session.get(Event, event.id).title == "Changed here"
        assert current_version(session) == after
