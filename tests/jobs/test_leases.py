"""Periodic jobs run under a lease: one runner at a time, once per interval, and a lease
whose holder died is taken over once it expires (events/jobs/lease.py, runner.py)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.jobs.lease import HOLD_FOR, JobBusy, exclusively, release, renew, try_acquire
from events.jobs.periodic import EXTEND_SERIES
from events.jobs.runner import JobRunner, PeriodicJob
from events.models import JobLease
from tests.server_process import ROOT
from web.cli import main

MINUTE = timedelta(minutes=1)


class Counting:
    """A job that counts its runs (and can be made to fail)."""

    def __init__(self, name: str, *, every: timedelta = MINUTE, fail: bool = False) -> None:
        self.runs: list[datetime] = []
        self.fail = fail
        self.job = PeriodicJob(name, self.run, every=every)

    def run(self, now: datetime) -> int:
        self.runs.append(now)
        if self.fail:
            raise RuntimeError("boom")
        return 1


def test_a_job_runs_once_per_interval_whichever_runner_asks(db: Database) -> None:
    counting = Counting("count", every=timedelta(hours=1))
    first, second = JobRunner(db, [counting.job]), JobRunner(db, [counting.job])
    now = utcnow()
    assert first.run_due(now) == {"count": 1}
    assert second.run_due(now) == {}  # done: not due again for an hour
    assert second.run_due(now + timedelta(minutes=59)) == {}
    assert second.run_due(now + timedelta(hours=1)) == {"count": 1}
    assert first.run_due(now + timedelta(hours=1, minutes=30)) == {}
    assert counting.runs == [now, now + timedelta(hours=1)]


def test_a_held_lease_keeps_everyone_else_out_until_it_is_released(db: Database) -> None:
    now = utcnow()
    assert try_acquire(db, "job", "a", now=now)
    assert not try_acquire(db, "job", "b", now=now)
    assert not try_acquire(db, "job", "a", now=now)  # not even a second run of its holder
    assert renew(db, "job", "a", until=now + 2 * HOLD_FOR)
    assert not try_acquire(db, "job", "b", now=now + HOLD_FOR + MINUTE)  # renewed
    assert not renew(db, "job", "b", until=now + 3 * HOLD_FOR)  # only the holder renews
    assert release(db, "job", "a", now=now + MINUTE, due_at=now + 2 * MINUTE)
    assert not try_acquire(db, "job", "b", now=now + MINUTE)  # released, not yet due
    assert try_acquire(db, "job", "b", now=now + 2 * MINUTE)


def test_an_abandoned_lease_is_taken_over_once_it_expires(db: Database) -> None:
    now = utcnow()
    assert try_acquire(db, "job", "gone", now=now)  # and never renewed nor released
    assert not try_acquire(db, "job", "next", now=now + HOLD_FOR - timedelta(seconds=1))
    assert try_acquire(db, "job", "next", now=now + HOLD_FOR)
    # What the old holder does if it comes back changes nothing.
    assert not renew(db, "job", "gone", until=now + 10 * HOLD_FOR)
    assert not release(db, "job", "gone", now=now, due_at=now)
    with db.session() as session:
        lease = session.scalar(select(JobLease).where(JobLease.name == "job"))
        assert lease is not None and lease.holder == "next"


def test_a_failing_job_is_logged_tried_again_a_minute_later_and_stops_no_other(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    broken, working = Counting("broken", every=timedelta(days=1), fail=True), Counting("ok")
    runner = JobRunner(db, [broken.job, working.job])
    now = utcnow()
    with caplog.at_level(logging.ERROR, logger="rencontres.jobs"):
        assert runner.run_due(now) == {"ok": 1}
    assert [r.getMessage() for r in caplog.records] == ["periodic job broken failed"]
    assert runner.run_due(now + timedelta(seconds=59)) == {}
    assert runner.run_due(now + MINUTE) == {"ok": 1}
    assert len(broken.runs) == 2  # tried again after a minute, not a day


DIES_HOLDING = """
import sys, time
from events.database import Database
from events.jobs.runner import JobRunner, PeriodicJob

def hang(now):
    print("running", flush=True)
    time.sleep(600)
    return 1

JobRunner(Database.from_url(sys.argv[1]), [PeriodicJob("stuck", hang)]).run_due()
"""


@pytest.mark.slow
def test_a_lease_whose_holder_was_killed_is_taken_over_after_it_expires(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", DIES_HOLDING, database_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "running\n"
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    now = utcnow()  # the dead holder took the lease before this
    stuck = Counting("stuck")
    runner = JobRunner(db, [stuck.job])
    assert runner.run_due(now) == {}  # its lease still holds: the job is not run twice
    assert runner.run_due(now + HOLD_FOR) == {"stuck": 1}  # expired: taken over
    assert stuck.runs == [now + HOLD_FOR]


def test_a_command_runs_a_job_under_its_lease_and_leaves_the_schedule(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": database_url, "SECRET_KEY": "k" * 40}
    now = utcnow()
    assert try_acquire(db, EXTEND_SERIES, "a worker", now=now)  # the job is running

    busy = CliRunner().invoke(main, ["series", "extend"], env=env)

    assert busy.exit_code == 1
    assert "the extend_series job is running elsewhere" in busy.output
    assert release(db, EXTEND_SERIES, "a worker", now=now, due_at=now + timedelta(days=1))
    done = CliRunner().invoke(main, ["series", "extend"], env=env)
    assert done.exit_code == 0, done.output
    with db.session() as session:
        lease = session.scalar(select(JobLease).where(JobLease.name == EXTEND_SERIES))
        assert lease is not None and lease.due_at == now + timedelta(days=1)  # unchanged
        assert lease.holder != "a worker" and lease.expires_at <= utcnow()  # released
    with exclusively(db, EXTEND_SERIES), pytest.raises(JobBusy), exclusively(db, EXTEND_SERIES):
        pass  # pragma: no cover - refused before


def test_each_forked_worker_holds_leases_under_its_own_name(db: Database) -> None:
    # The server builds the app, and so the runner, once before forking its workers.
    runner = JobRunner(db, [])
    before = runner.holder
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(writing, runner.holder.encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    in_child = os.read(reading, 200).decode()
    os.close(reading)
    assert in_child and in_child != before and runner.holder == before
    assert in_child.split(":")[1] == str(child)
