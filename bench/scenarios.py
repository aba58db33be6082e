"""The scenario registry: one decorated function per scenario.

A scenario function returns a :class:`harness.Scenario`: the path to load, an optional
seeding callback (receives the migrated database's URL, may return arguments for the wrk
Lua script), an optional request-building Lua script (POST scenarios), and the threshold.
Adding one, e.g. an event page over 1,000 seeded events, is one seed function plus::

    @register
    def event_page() -> Scenario:
        return Scenario(name="event-page", path="/e/...", description="...",
                        seed=seed_events, threshold=Threshold(min_ratio_pct=...))

A POST scenario adds ``script=LUA_DIR / "register.lua"`` (a script defining ``init`` and
``request``, see ``bench/lua/form_post.lua``), ``expect_status=None`` and, when requests
use up seeded places, ``warm_up=False``.

Thresholds are shares of the same run's ``/healthz`` throughput (the noisy 2-core machine
makes absolute req/s unreliable). The foundation bars come from the ratios measured while
choosing the architecture (shared CONVENTIONS.md §4: bare hello ~8,500 req/s, an 11 KB
Jinja page 1,060-1,410 req/s, page + one SQLite read 830-920 req/s), see
docs/performance.md.
"""

from __future__ import annotations

from collections.abc import Callable

from harness import Scenario, Threshold

ScenarioFactory = Callable[[], Scenario]

#: Every known scenario by name, in registration order.
SCENARIOS: dict[str, Scenario] = {}

SEEDED_COMMUNITIES = 20


def register(factory: ScenarioFactory) -> ScenarioFactory:
    """Add the scenario that ``factory`` describes to :data:`SCENARIOS`."""
    built = factory()
    if built.name in SCENARIOS:
        raise ValueError(f"scenario {built.name!r} registered twice")
    SCENARIOS[built.name] = built
    return factory


# -- seeding callbacks -----------------------------------------------------------------------
def seed_communities(database_url: str) -> None:
    """One organiser owning :data:`SEEDED_COMMUNITIES` communities, through the services."""
    from events.database import Database
    from events.services.accounts import AccountService
    from events.services.communities import CommunityService

    database = Database.from_url(database_url)
    try:
        with database.transaction() as session:
            owner = AccountService(session).sign_up(
                email="bench@example.org",
                display_name="Bench Organiser",
                password="bench password for seeding only",
            )
            communities = CommunityService(session)
            for n in range(1, SEEDED_COMMUNITIES + 1):
                communities.create(
                    owner,
                    name=f"Communauté {n:02d}",
                    description="Soirées ouvertes à toutes et tous. " * 4,
                )
    finally:
        database.dispose()


# -- foundation scenarios --------------------------------------------------------------------
@register
def login_page() -> Scenario:
    """GET /login: a Jinja template render, no database.

    Bar: 12 %, the low end of an 11 KB Jinja page against a bare hello (1,060/8,500).
    """
    return Scenario(
        name="login-page",
        path="/login",
        description="template render, no DB",
        threshold=Threshold(min_ratio_pct=12),
    )


@register
def readyz() -> Scenario:
    """GET /readyz: one ``SELECT 1`` round trip in the thread pool.

    Bar: 10 %, as for page + read; an async driver or a blocked event loop falls below it.
    """
    return Scenario(
        name="readyz",
        path="/readyz",
        description="one DB round trip",
        threshold=Threshold(min_ratio_pct=10),
    )


@register
def api_communities() -> Scenario:
    """GET /api/v1/communities: one read of 20 seeded communities, JSON out.

    Bar: 10 %, page + one sync SQLite read against a bare hello (830/8,500); the aiosqlite
    variant measured about half of that.
    """
    return Scenario(
        name="api-communities",
        path="/api/v1/communities",
        description=f"one DB read, {SEEDED_COMMUNITIES} rows, JSON",
        seed=seed_communities,
        threshold=Threshold(min_ratio_pct=10),
    )
