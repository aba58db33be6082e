"""Calendar imports as the deployment configures them (settings → fetch policy), for the
organiser pages, the ``rencontres import refresh`` command and the periodic job.

Fetches run in background threads of the process that starts them, within the process's
slots and a deadline (events/services/calendar_refresh.py). Three ways in:

- the periodic job (events/jobs/periodic.py) calls ``CalendarRefresher.refresh_due``
  with the policy and interval of :func:`web.mail.job_settings` (returns at once); a
  process that exits after one round waits with :func:`wait_for_imports`;
- a page that queued a fetch answers with :func:`fetch_soon` as its background task,
  which starts it once the answer is sent and the queueing committed;
- the command line calls :func:`refresh_imports_and_wait`.
"""

from __future__ import annotations

from datetime import timedelta

from litestar import Request
from litestar.background_tasks import BackgroundTask

from events.database import Database
from events.fetch import USER_AGENT, FetchPolicy
from events.services import calendar_refresh
from events.services.calendar_refresh import CalendarRefresher, RefreshOutcome
from web.settings import Settings


def fetch_policy(settings: Settings) -> FetchPolicy:
    """How this installation fetches other calendars (its User-Agent names the site)."""
    return FetchPolicy(
        allow_private=settings.import_allow_private,
        user_agent=f"{USER_AGENT[:-1]}; +{settings.base_url})",
    )


def calendar_refresher(settings: Settings, database: Database) -> CalendarRefresher:
    """A refresher for ``database``; every one of the process shares its fetch slots."""
    return CalendarRefresher(database, fetch_policy(settings))


def wait_for_imports(timeout: float | None = None) -> bool:
    """Until this process's calendar fetches have ended; False if ``timeout`` came first."""
    return calendar_refresh.PROCESS_SLOTS.wait(timeout)


def refresh_imports_and_wait(
    settings: Settings, database: Database, *, force: bool = False
) -> list[RefreshOutcome]:
    """Fetch what is due (everything with ``force``) and wait: the command line."""
    every = timedelta(minutes=settings.import_refresh_minutes)
    return calendar_refresher(settings, database).refresh_and_wait(force=force, every=every)


def start_queued_imports(settings: Settings, database: Database) -> None:
    """Start the queued fetches that this process's slots allow (returns at once)."""
    calendar_refresher(settings, database).start_queued()


def fetch_soon(request: Request) -> BackgroundTask:
    """For a response whose request queued a fetch: starts it once the response is sent,
    after the request's transaction committed."""
    return BackgroundTask(start_queued_imports, request.app.state.settings, request.app.state.db)
