"""Calendar imports as the deployment configures them (settings → fetch policy), for the
organiser pages, the ``rencontres import refresh`` command and the background worker."""

from __future__ import annotations

from datetime import datetime, timedelta

from events.database import Database
from events.fetch import USER_AGENT, FetchPolicy
from events.services.external_calendars import RefreshOutcome, refresh_due_sources
from web.settings import Settings


def fetch_policy(settings: Settings) -> FetchPolicy:
    """How this installation fetches other calendars (its User-Agent names the site)."""
    return FetchPolicy(
        allow_private=settings.import_allow_private,
        user_agent=f"{USER_AGENT[:-1]}; +{settings.base_url})",
    )


def refresh_imports(
    settings: Settings, database: Database, *, now: datetime | None = None, force: bool = False
) -> list[RefreshOutcome]:
    """Fetch every subscribed calendar that is due (all of them with ``force``).

    The periodic job: call it from the background worker every few minutes; each
    subscription is fetched at most once per ``IMPORT_REFRESH_MINUTES``.
    """
    every = timedelta(0) if force else timedelta(minutes=settings.import_refresh_minutes)
    return refresh_due_sources(database, policy=fetch_policy(settings), now=now, every=every)
