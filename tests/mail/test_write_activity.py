"""The inline mail worker steps aside for its process's writes (events/write_activity.py):
the gate marks every write it admits, and the renderer waits for them before each mail."""

from __future__ import annotations

import threading
import time

import pytest

from events.database import Database
from events.mail.prepare import prepare_outbox
from events.models import Event
from events.services.registrations import RegistrationService
from events.write_activity import WriteActivity
from tests.async_runner import run_async
from tests.factories import Factories
from tests.mail.scenario import MAIL, open_event, person
from web.write_gate import WriteGate


def _step_aside_in_thread(activity: WriteActivity, timeout: float) -> threading.Event:
    returned = threading.Event()

    def run() -> None:
        activity.step_aside(timeout)
        returned.set()

    threading.Thread(target=run, daemon=True).start()
    return returned


def _queue_mails(db: Database, event: Event, people: int) -> None:
    """Registrations whose mails wait in the outbox, unrendered (as after a request)."""
    with db.transaction() as session:
        loaded = session.get(Event, event.id)
        assert loaded is not None
        for n in range(people):
            RegistrationService(session).register(loaded, person(n))


def test_stepping_aside_returns_at_once_without_a_write() -> None:
    activity = WriteActivity()
    assert _step_aside_in_thread(activity, timeout=30).wait(5)


def test_stepping_aside_waits_for_the_write_under_way_then_goes_on() -> None:
    activity = WriteActivity()
    with activity.writing():
        assert activity.busy
        returned = _step_aside_in_thread(activity, timeout=30)
        assert not returned.wait(0.3)  # the write is still under way
    assert not activity.busy
    assert returned.wait(5)


def test_stepping_aside_gives_up_after_its_timeout_under_a_write_that_lasts() -> None:
    activity = WriteActivity()
    with activity.writing():
        started = time.monotonic()
        assert _step_aside_in_thread(activity, timeout=0.1).wait(5)
        assert time.monotonic() - started >= 0.1
        assert activity.busy


def test_the_gate_marks_the_writes_it_admits_while_they_run() -> None:
    gate = WriteGate(serialise=True)
    seen: list[bool] = []

    async def both_ways() -> None:
        assert not gate.activity.busy
        seen.append(await gate.run_sync(lambda: gate.activity.busy))
        assert not gate.activity.busy
        async with gate:
            seen.append(gate.activity.busy)
        assert not gate.activity.busy

    run_async(both_ways)
    assert seen == [True, True]


def test_the_gate_marks_a_write_that_fails_as_over() -> None:
    gate = WriteGate(serialise=False)

    def failing() -> None:
        raise ValueError("the write failed")

    async def fail() -> None:
        with pytest.raises(ValueError, match="the write failed"):
            await gate.run_sync(failing)

    run_async(fail)
    assert not gate.activity.busy


def test_the_renderer_waits_for_a_write_of_its_process_before_each_mail(
    db: Database, make: Factories
) -> None:
    event = open_event(db, make)
    _queue_mails(db, event, 3)
    activity = WriteActivity()
    rendered: list[int] = []

    def render() -> None:
        rendered.append(prepare_outbox(db, MAIL, step_aside=lambda: activity.step_aside(30)))

    write = activity.writing()
    write.__enter__()
    renderer = threading.Thread(target=render, daemon=True)
    renderer.start()
    try:
        renderer.join(0.5)
        assert renderer.is_alive() and rendered == []  # waiting for the write
    finally:
        write.__exit__(None, None, None)
    renderer.join(30)
    assert rendered == [3]


def test_the_renderer_steps_aside_once_per_mail(db: Database, make: Factories) -> None:
    event = open_event(db, make)
    _queue_mails(db, event, 1)
    calls: list[None] = []
    assert prepare_outbox(db, MAIL, step_aside=lambda: calls.append(None)) == 1
    assert len(calls) == 1  # once per mail
    assert prepare_outbox(db, MAIL, step_aside=lambda: calls.append(None)) == 0
    assert len(calls) == 1  # nothing left: no mail, no call
