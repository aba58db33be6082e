"""Group commit for the hottest write: many requests' small writes in one transaction.

When an announcement sends hundreds of people to one event's form, every registration is
a short write transaction on the same row, and SQLite takes one writer at a time. Measured
(docs/performance.md): the time a writer *holds* the lock was mostly not the registration
itself but what surrounds it: beginning the transaction, three hops between the event loop
and worker threads, the commit, and the content-version stamp, each paid per request.

A :class:`WriteBatcher` queues units of work (``unit(session) -> result``) from concurrent
requests and runs whatever has gathered in ONE write transaction, in ONE worker-thread
call, behind the process's write gate, then commits once. No request is answered before
that commit, so every acknowledged write is on disk. If the commit itself fails, every
unit of the batch gets the error and none of their writes exists.

A unit that raises (a validation error, a full event) must be rolled back alone, its
exception going to its own request. The batch first runs its units one after the other
without savepoints (a SAVEPOINT and its RELEASE were two of a door scan's six statements);
if one raises, that whole attempt is rolled back, nothing of it kept, and the batch runs
again with each unit inside its own SAVEPOINT. Batches keep using savepoints while their
units keep failing (a full event refusing a burst), and go back to the plain run after a
batch where none failed. Units may run twice, so they must not act outside the session.

A request arriving while a batch runs waits for the next one: under load batches grow by
themselves, and a lone request runs at once (no timer, no added latency).

Units run in the order of the row they lock (``lock_order``, e.g. ``event:<slug>``; arrival
order among equals, so one event's registrations keep theirs). Every batch of every process
then takes its hot rows in one order, and the content-version row last (at commit,
events/content_version.py): two batches spread over the same events wait for each other
instead of deadlocking (seen with 4 processes, docs/scaling.md), which PostgreSQL would
settle by aborting one after a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from events.database import Database
from web.write_gate import WriteGate

T = TypeVar("T")
#: Enough to amortise the commit; small enough that a batch stays a few tens of ms.
MAX_BATCH = 32


@dataclass
class _Pending(Generic[T]):
    unit: Callable[[Session], T]
    lock_order: str = ""
    future: asyncio.Future[T] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def _lock_order(pending: _Pending[Any]) -> str:
    return pending.lock_order


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None


class WriteBatcher:
    def __init__(
        self, db: Database, gate: WriteGate, *, max_batch: int = MAX_BATCH, group: bool = True
    ) -> None:
        """``group=False``: each unit alone in its own transaction, no savepoint (only the
        TEST-ONLY unsafe switch asks for it: its race hook commits in mid-unit)."""
        self._db = db
        self._gate = gate
        self._max_batch = max_batch if group else 1
        self._group = group
        self._queue: list[_Pending[Any]] = []
        self._draining = False
        self._with_savepoints = False  # a unit failed lately: isolate each one
        self.batches = 0  # for tests and benchmarks: how many transactions ran
        self.retried = 0  # for tests: batches run again with savepoints after a failure

    def restart(self) -> None:
        """Start empty on a new event loop (web/app.py): nothing queued, counts at zero."""
        self._queue = []
        self._draining = False
        self._with_savepoints = False
        self.batches = self.retried = 0

    async def run(self, unit: Callable[[Session], T], *, lock_order: str = "") -> T:
        """Run ``unit`` in a shared write transaction; its result once committed.
        ``lock_order``: the row it locks first (see the module docstring)."""
        pending: _Pending[T] = _Pending(unit, lock_order)
        self._queue.append(pending)
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await pending.future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = sorted(self._queue[: self._max_batch], key=_lock_order)
                del self._queue[: self._max_batch]
                try:
                    outcomes = await self._gate.run_sync(partial(self._run_batch, batch))
                except BaseException as exc:  # the gate or the thread call itself failed
                    outcomes = [_Outcome(error=exc)] * len(batch)
                for pending, outcome in zip(batch, outcomes, strict=True):
                    if pending.future.done():  # its request was cancelled meanwhile
                        continue
                    if outcome.error is not None:
                        pending.future.set_exception(outcome.error)
                    else:
                        pending.future.set_result(outcome.value)
        finally:
            self._draining = False

    def _run_batch(self, batch: list[_Pending[Any]]) -> list[_Outcome]:
        if self._group and not self._with_savepoints:
            outcomes = self._transaction(batch, self._plain)
            if outcomes is not None:
                return outcomes
            self._with_savepoints = True
            self.retried += 1
        outcomes = self._transaction(batch, self._isolated)
        assert outcomes is not None
        self._with_savepoints = any(outcome.error is not None for outcome in outcomes)
        return outcomes

    def _transaction(
        self,
        batch: list[_Pending[Any]],
        run: Callable[[Session, list[_Pending[Any]]], list[_Outcome] | None],
    ) -> list[_Outcome] | None:
        """One write transaction: ``run`` the units, then one commit. None (and nothing
        written) when ``run`` gives up; every unit gets the error if the commit fails."""
        self.batches += 1
        session = self._db.session(write=True)
        try:
            outcomes = run(session, batch)
            if outcomes is None:
                session.rollback()
                return None
            session.commit()
        except Exception as exc:  # the commit failed: no write of this batch exists
            session.rollback()
            return [_Outcome(error=exc)] * len(batch)
        finally:
            session.close()
        return outcomes

    @staticmethod
    def _plain(session: Session, batch: list[_Pending[Any]]) -> list[_Outcome] | None:
        """Every unit, no savepoints; None as soon as one raises."""
        outcomes: list[_Outcome] = []
        try:
            for pending in batch:
                outcomes.append(_Outcome(value=pending.unit(session)))
                session.flush()  # its own errors are raised here, not in a later unit
        except Exception:
            return None
        return outcomes

    def _isolated(self, session: Session, batch: list[_Pending[Any]]) -> list[_Outcome]:
        """Each unit in its own SAVEPOINT: one that raises is rolled back alone."""
        if not self._group:
            return [_Outcome(value=batch[0].unit(session))]
        outcomes: list[_Outcome] = []
        for pending in batch:
            try:
                with session.begin_nested():
                    value = pending.unit(session)
            except Exception as exc:  # this unit only: its savepoint is rolled back
                outcomes.append(_Outcome(error=exc))
            else:  # appended once the savepoint is released, which can fail too
                outcomes.append(_Outcome(value=value))
        return outcomes
