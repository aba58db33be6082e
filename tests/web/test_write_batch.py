"""Group commit: concurrent units share transactions, fail alone, and are only answered
once committed."""

from __future__ import annotations

import contextlib
import threading

import anyio
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from events.content_version import current_version
from events.database import Database
from events.models import Community, KeyValue
from tests.async_runner import run_async
from tests.factories import Factories
from web.store import DatabaseStore
from web.write_batch import WriteBatcher
from web.write_gate import WriteGate


def stored_keys(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(KeyValue.key).where(KeyValue.namespace == "batch")))


def put(key: str):  # type: ignore[no-untyped-def]
    def unit(session: Session) -> str:
        session.add(KeyValue(namespace="batch", key=key, value=b"x", expires_at=None))
        session.flush()
        return key

    return unit


def make_batcher(db: Database) -> WriteBatcher:
    return WriteBatcher(db, WriteGate(serialise=db.is_sqlite), max_batch=8)


def test_concurrent_units_share_transactions_and_all_commit(db: Database) -> None:
    batcher = make_batcher(db)
    results: list[str] = []

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for n in range(20):

                async def one(n: int = n) -> None:
                    results.append(await batcher.run(put(f"k{n}")))

                group.start_soon(one)

    run_async(main)
    assert sorted(results) == sorted(f"k{n}" for n in range(20))
    assert stored_keys(db) == {f"k{n}" for n in range(20)}
    # 20 units, at most 8 per batch: at least 3 transactions, and fewer than one per unit.
    assert 3 <= batcher.batches < 20


def test_a_failing_unit_is_rolled_back_alone_and_gets_its_own_error(db: Database) -> None:
    batcher = make_batcher(db)

    def half_then_fail(session: Session) -> None:
        put("failed-half")(session)
        raise ValueError("refused")

    async def main() -> list[object]:
        outcomes: list[object] = []

        async def run(unit) -> None:  # type: ignore[no-untyped-def]
            try:
                outcomes.append(await batcher.run(unit))
            except ValueError as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(run, put("before"))
            group.start_soon(run, half_then_fail)
            group.start_soon(run, put("after"))
        return outcomes

    outcomes = run_async(main)
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["after", "before"]
    assert [str(o) for o in outcomes if isinstance(o, ValueError)] == ["refused"]
    assert stored_keys(db) == {"before", "after"}
    # Tried plainly first (no savepoints), rolled back whole, then run unit by unit.
    assert (batcher.batches, batcher.retried) == (2, 1)


def test_a_failed_commit_fails_every_unit_of_the_batch_and_keeps_nothing(db: Database) -> None:
    batcher = make_batcher(db)

    def sabotage_commit(session: Session) -> str:
        def boom(session: Session) -> None:
            if not session.in_nested_transaction():  # the batch's commit, not a savepoint's
                raise RuntimeError("disk full")

        sa_event.listen(session, "before_commit", boom)
        return put("sabotaged")(session)

    async def main() -> list[BaseException]:
        errors: list[BaseException] = []

        async def run(unit) -> None:  # type: ignore[no-untyped-def]
            try:
                await batcher.run(unit)
            except RuntimeError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(run, put("innocent"))
            group.start_soon(run, sabotage_commit)
        return errors

    errors = run_async(main)
    assert [str(e) for e in errors] == ["disk full", "disk full"]
    assert stored_keys(db) == set()
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(KeyValue)) == 0


@pytest.mark.parametrize("size", [1, 5])
def test_a_lone_request_runs_at_once(db: Database, size: int) -> None:
    batcher = make_batcher(db)

    async def main() -> None:
        for n in range(size):
            assert await batcher.run(put(f"solo{n}")) == f"solo{n}"

    run_async(main)
    assert batcher.batches == size


def test_a_batch_stamps_the_content_version_even_when_a_later_unit_fails(
    db: Database, make: Factories
) -> None:
    community = make.community(name="Before")
    with db.session() as session:
        before = current_version(session)
    batcher = make_batcher(db)

    def rename(session: Session) -> None:
        session.get(Community, community.id).name = "After"

    def fail(session: Session) -> None:
        put("never")(session)
        raise ValueError("refused")

    async def main() -> None:
        async def run(unit) -> None:  # type: ignore[no-untyped-def]
            with contextlib.suppress(ValueError):
                await batcher.run(unit)

        async with anyio.create_task_group() as group:
            group.start_soon(run, rename)
            group.start_soon(run, fail)

    run_async(main)
    assert (batcher.batches, batcher.retried) == (2, 1)
    with db.session() as session:
        assert session.get(Community, community.id).name == "After"
        assert current_version(session) != before
    assert stored_keys(db) == set()


def _run_batch_of(batcher: WriteBatcher, units: list) -> list[object]:  # type: ignore[type-arg]
    """Run ``units`` as one batch; their results or exceptions, in order."""

    async def main() -> list[object]:
        outcomes: list[object] = [None] * len(units)

        async def run(index: int) -> None:
            try:
                outcomes[index] = await batcher.run(units[index])
            except Exception as exc:
                outcomes[index] = exc

        async with anyio.create_task_group() as group:
            for index in range(len(units)):
                group.start_soon(run, index)
        return outcomes

    return run_async(main)


def test_a_unit_whose_write_breaks_a_constraint_fails_alone(db: Database) -> None:
    batcher = make_batcher(db)
    outcomes = _run_batch_of(batcher, [put("same"), put("same"), put("other")])
    assert outcomes[0] == "same" and outcomes[2] == "other"
    assert isinstance(outcomes[1], IntegrityError)
    assert stored_keys(db) == {"same", "other"}


def test_savepoints_are_used_while_units_fail_and_dropped_after_a_clean_batch(
    db: Database,
) -> None:
    batcher = make_batcher(db)

    def refuse(session: Session) -> None:
        raise ValueError("full")

    _run_batch_of(batcher, [put("a"), refuse])  # plain attempt, then isolated
    assert (batcher.batches, batcher.retried) == (2, 1)
    _run_batch_of(batcher, [put("b"), refuse])  # straight to savepoints: still failing
    assert (batcher.batches, batcher.retried) == (3, 1)
    _run_batch_of(batcher, [put("c")])  # isolated, and clean: plain from now on
    _run_batch_of(batcher, [put("d")])
    assert (batcher.batches, batcher.retried) == (5, 1)
    assert stored_keys(db) == {"a", "b", "c", "d"}


def test_sessions_set_at_once_share_commits_through_the_store(db: Database) -> None:
    """The session store writes through the batcher it is given (web/store.py): twenty
    new visitors' sessions stored at once take fewer transactions than sessions, and each
    is readable once ``set`` returned; with batches of one, each is written alone."""
    gate = WriteGate(serialise=db.is_sqlite)
    batcher = WriteBatcher(db, gate, max_batch=8)
    one_by_one = WriteBatcher(db, gate, max_batch=1)
    grouped = DatabaseStore(db, gate, batcher, "t").with_namespace("session")
    alone = DatabaseStore(db, gate, one_by_one, "t").with_namespace("alone")

    async def store_all() -> None:
        async with anyio.create_task_group() as group:
            for n in range(20):
                group.start_soon(grouped.set, f"s{n}", f"data{n}", 3600)
                group.start_soon(alone.set, f"a{n}", f"data{n}", 3600)

    run_async(store_all)
    for n in range(20):
        assert run_async(grouped.get, f"s{n}") == f"data{n}".encode()
        assert run_async(alone.get, f"a{n}") == f"data{n}".encode()
    assert 3 <= batcher.batches < 20  # the 20 "alone" writes never went through it
    assert one_by_one.batches == 20


def test_a_batch_runs_its_units_in_lock_order_keeping_arrival_order_among_equals(
    db: Database,
) -> None:
    """Every batch of every process locks its hot rows in one order (no deadlock between
    two batches spread over the same events); one event's units keep their arrival order."""
    batcher = make_batcher(db)
    ran: list[str] = []
    first_runs = threading.Event()
    others_queued = threading.Event()

    def unit(name: str, wait: bool = False):  # type: ignore[no-untyped-def]
        def run(session: Session) -> str:
            if wait:  # holds the first batch until every other unit is queued
                first_runs.set()
                assert others_queued.wait(30)
            ran.append(name)
            return name

        return run

    arrivals = [("b1", "event:b"), ("a1", "event:a"), ("c1", "event:c"), ("b2", "event:b")]
    arrivals += [("a2", "event:a")]

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: batcher.run(unit("first", wait=True), lock_order="event:z"))
            await anyio.to_thread.run_sync(first_runs.wait, 30)
            for name, order in arrivals:
                group.start_soon(lambda n=name, o=order: batcher.run(unit(n), lock_order=o))
                await anyio.sleep(0)
            await anyio.sleep(0.05)
            others_queued.set()

    run_async(main)
    assert ran == ["first", "a1", "a2", "b1", "b2", "c1"]
