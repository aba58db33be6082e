"""TEST-ONLY switches, read from the server process's environment at start-up.

They exist so that the HTTP concurrency test (tests/integration/test_registration_http.py)
can prove that it is able to fail: its negative control starts ``rencontres serve`` with the
protections against overselling switched off and must then see the event oversold. Setting
any of them without ``RENCONTRES_TESTING=1`` as well stops the start-up (``create_app``
raises), so a deployment cannot switch a protection off by a stray variable. They are not
settings: never document them for operators, never set them outside tests.

``RENCONTRES_TEST_UNSAFE_NO_LOCK=1``
    Switches off exactly what keeps ``POST /e/{event}/register`` from overselling:

    - the registration controller builds ``RegistrationService(session, lock=False)``: no
      ``FOR UPDATE`` row lock and no conditional counter update, but "read ``taken``, check
      it in Python, write ``taken = :value``" (on PostgreSQL, READ COMMITTED then loses
      concurrent updates);
    - on SQLite, where the request's ``BEGIN IMMEDIATE`` transaction alone serialises the
      check and the write, the check is moved to an earlier transaction than the write:
      the service's hook commits the session between them (the form of the bug that the
      domain negative control reproduces, tests/domain/test_registration_concurrency.py).

    - the write gate (web/write_gate.py) loses its cross-process file lock on SQLite.

    The gate's in-process part stays: it only queues the writers of one process; with two
    worker processes the transactions still interleave. (Opening it too
    starved the connection pools: dozens of threads busy-waiting on SQLite's lock hit the
    30 s pool and busy timeouts instead of overselling.)

``RENCONTRES_TEST_RACE_DELAY_MS=N``
    Sleeps N milliseconds between the capacity check and the write (with or without the
    lock), to widen the race window the lock has to cover.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from litestar import Request
from sqlalchemy.orm import Session

from events.database import Database
from events.services import places as places_module

TESTING = "RENCONTRES_TESTING"
UNSAFE_NO_LOCK = "RENCONTRES_TEST_UNSAFE_NO_LOCK"
RACE_DELAY_MS = "RENCONTRES_TEST_RACE_DELAY_MS"
_TRUE = {"1", "true", "yes", "on"}


def _flag(env: Mapping[str, str], name: str) -> bool:
    return (env.get(name) or "").strip().lower() in _TRUE


@dataclass(frozen=True)
class UnsafeSwitches:
    """The test-only switches of one server process (all off in the application)."""

    unsafe_no_lock: bool = False
    race_delay_ms: float = 0.0

    @property
    def active(self) -> bool:
        return self.unsafe_no_lock or self.race_delay_ms > 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UnsafeSwitches:
        """The switches in ``env``; ``RuntimeError`` if one is on without ``TESTING``."""
        env = os.environ if env is None else env
        switches = cls(
            unsafe_no_lock=_flag(env, UNSAFE_NO_LOCK),
            race_delay_ms=max(float(env.get(RACE_DELAY_MS) or 0), 0.0),
        )
        if switches.active and not _flag(env, TESTING):
            raise RuntimeError(
                f"{UNSAFE_NO_LOCK} and {RACE_DELAY_MS} are test-only switches: "
                f"refused unless {TESTING}=1 is set too"
            )
        return switches

    def install(self, db: Database) -> None:
        """Set the registration service's test hook in this process, if a switch is on."""
        if not self.active:
            return  # leaves the hook alone (in-process tests set it themselves)
        delay_s = self.race_delay_ms / 1000
        end_the_read = self.unsafe_no_lock and db.is_sqlite

        def between_check_and_write(session: Session) -> None:
            if end_the_read:
                session.commit()  # nothing written yet: only ends the checking transaction
            if delay_s:
                time.sleep(delay_s)

        places_module._between_check_and_write = between_check_and_write


def registrations_lock(request: Request) -> bool:
    """Whether registrations lock: always, except under the TEST-ONLY switch (the negative
    controls of the HTTP concurrency tests, pages and API alike)."""
    switches: UnsafeSwitches = request.app.state.unsafe_switches
    return not switches.unsafe_no_lock
