"""The write gate's bounds, and the test-only switches that must never reach production."""

from __future__ import annotations

import anyio
import pytest

from events.database import Database
from tests.async_runner import run_async
from web.app import create_app
from web.settings import Settings
from web.unsafe_switches import UnsafeSwitches
from web.write_gate import POSTGRES_WRITERS, WriteGate


@pytest.mark.parametrize(("serialise", "limit"), [(True, 1), (False, POSTGRES_WRITERS)])
def test_the_gate_admits_one_writer_on_sqlite_and_a_few_on_postgresql(
    serialise: bool, limit: int
) -> None:
    gate = WriteGate(serialise=serialise)
    inside = peak = 0

    async def writer() -> None:
        nonlocal inside, peak
        async with gate:
            inside += 1
            peak = max(peak, inside)
            await anyio.sleep(0.01)
            inside -= 1

    async def burst() -> None:
        async with anyio.create_task_group() as tasks:
            for _ in range(3 * limit + 1):
                tasks.start_soon(writer)

    run_async(burst)
    assert peak == limit


def test_the_unsafe_switches_are_off_unless_set() -> None:
    switches = UnsafeSwitches.from_env({})
    assert not switches.active and not switches.unsafe_no_lock


@pytest.mark.parametrize(
    "env", [{"RENCONTRES_TEST_UNSAFE_NO_LOCK": "1"}, {"RENCONTRES_TEST_RACE_DELAY_MS": "5"}]
)
def test_the_unsafe_switches_are_refused_without_the_testing_flag(env: dict[str, str]) -> None:
    with pytest.raises(RuntimeError, match="RENCONTRES_TESTING=1"):
        UnsafeSwitches.from_env(env)
    switches = UnsafeSwitches.from_env({**env, "RENCONTRES_TESTING": "1"})
    assert switches.active


def test_the_app_does_not_start_with_an_unsafe_switch_alone(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENCONTRES_TEST_UNSAFE_NO_LOCK", "1")
    monkeypatch.delenv("RENCONTRES_TESTING", raising=False)
    with pytest.raises(RuntimeError, match="test-only"):
        create_app(settings, db)
