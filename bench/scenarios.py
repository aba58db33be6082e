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


# -- events (issue: events and recurring meetups) ------------------------------------------
SEEDED_EVENTS = 1_000
EVENT_PAGE_SLUG = "soiree-500-2027-06-15"


def seed_events(database_url: str) -> None:
    """1,000 upcoming published events over 20 communities, with venues, tags, programmes.

    Inserted through the domain services, so descriptions are rendered and stored exactly
    as in production. The event page scenario loads event number 500.
    """
    from datetime import date, timedelta

    from events.database import Database
    from events.services.accounts import AccountService
    from events.services.communities import CommunityService
    from events.services.events import EventInput, EventService
    from events.services.programme import ProgrammeInput, ProgrammeService
    from events.services.venues import VenueInput, VenueService

    database = Database.from_url(database_url)
    disciplines = ["arts", "sciences", "logement", "innovation sociale", "musique", "code"]
    try:
        with database.transaction() as session:
            owner = AccountService(session).sign_up(
                email="bench@example.org",
                display_name="Bench Organiser",
                password="bench password for seeding only",
            )
            communities = [
                CommunityService(session).create(owner, name=f"Communauté {n:02d}")
                for n in range(1, SEEDED_COMMUNITIES + 1)
            ]
            venues = [
                VenueService(session).create(
                    c,
                    VenueInput(
                        name=f"Salle {i}",
                        address="12 rue des Ateliers\n75011 Paris",
                        capacity="120",
                        latitude="48.865",
                        longitude="2.3745",
                    ),
                )
                for i, c in enumerate(communities)
            ]
            service = EventService(session)
            first_day = date(2026, 12, 1)
            for n in range(1, SEEDED_EVENTS + 1):
                index = n % SEEDED_COMMUNITIES
                day = first_day + timedelta(days=n // 5)
                if n == 500:
                    day = date(2027, 6, 15)
                event = service.create(
                    communities[index],
                    EventInput(
                        title=f"Soirée {n}",
                        description=(
                            "Une soirée **ouverte** : pitchs, tables rondes et rencontres.\n\n"
                            "- 19:00 accueil\n- 19:30 pitchs\n- 20:30 tables\n\n"
                            "[Plus d'infos](https://example.org/soirees)"
                        )
                        * 2,
                        starts_local=f"{day.isoformat()}T19:00",
                        ends_local=f"{day.isoformat()}T22:00",
                        timezone="Europe/Paris",
                        venue_id=str(venues[index].id),
                        capacity="100",
                        tags=", ".join(disciplines[n % 6 : n % 6 + 2]),
                    ),
                )
                service.publish(event)
                if n == 500:
                    programme = ProgrammeService(session)
                    for hour, title in [
                        ("19:00", "Accueil"),
                        ("19:30", "Pitchs"),
                        ("20:30", "Tables rondes"),
                    ]:
                        programme.add(
                            event, ProgrammeInput(title=title, start_time=hour, room="Grande salle")
                        )
    finally:
        database.dispose()


@register
def event_page() -> Scenario:
    """GET /e/{slug} among 1,000 upcoming events: target >= 7 % of /healthz, p99 <= 300 ms."""
    return Scenario(
        name="event-page",
        path=f"/e/{EVENT_PAGE_SLUG}",
        description="public event page, 1,000 upcoming events in the database",
        seed=seed_events,
        threshold=Threshold(min_ratio_pct=7, max_p99_ms=300),
    )


@register
def home_page() -> Scenario:
    """GET / (first page of 20 of 1,000 upcoming events): target >= 5 %, p99 <= 300 ms."""
    return Scenario(
        name="home-page",
        path="/",
        description="home page, 1,000 upcoming events in the database",
        seed=seed_events,
        threshold=Threshold(min_ratio_pct=5, max_p99_ms=300),
    )
