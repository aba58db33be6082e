"""Demo data for ``make run``: created once, on an empty database.

A community with two venues, a monthly meetup series with a programme, a one-off event,
tags across disciplines, one cancelled occurrence, and an open call for proposals on the
series with proposals in each state (supported, under discussion, accepted and on the
next programme, declined with a reason, withdrawn); events open for registration, made
through ``RegistrationService`` so the counters are right: one nearly full with a waitlist,
one where registrations wait for approval (and the organisers ask two questions), confirmed
registrations with tickets; the flat-share evening has offers & needs on, with a dozen
listings (events/demo_offers.py); an open-space evening whose board is half filled
(events/demo_open_space.py); volunteers on the bike-repair workshop (a door shift with its
door link, a welcome desk taken with a ticket, an open tidy-up shift), and three past
evenings with check-ins and feedback for the statistics and feedback pages
(events/demo_community.py); for integrators, a read-only API token (printed once by
``rencontres demo``) and a webhook endpoint, disabled (it points at example.org: nothing is
sent until an organiser adds their own).
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.clock import utcnow
from events.demo_community import seed_past_evenings, seed_volunteers
from events.demo_offers import seed_offers
from events.demo_open_space import seed_open_space
from events.models import Community, Event, Scope, Series, User
from events.services import identity
from events.services.accounts import AccountService
from events.services.api_tokens import ApiTokenService
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.proposal_calls import CallInput, CallService
from events.services.proposal_outcomes import as_session, session_input
from events.services.proposal_records import proposer_of
from events.services.proposals import ProposalInput, ProposalService
from events.services.questions import QuestionInput, QuestionService
from events.services.registrations import RegistrationInput, RegistrationService
from events.services.series import SeriesInput, SeriesService
from events.services.supports import SupportService
from events.services.venues import VenueInput, VenueService
from events.services.webhooks import WebhookService

DEMO_EMAIL = "demo@example.org"
ZONE = "Europe/Paris"


@dataclass(frozen=True)
class DemoResult:
    created: bool
    email: str
    password: str | None
    #: A personal access token of the demo organiser (``events:read``): shown once.
    api_token: str | None = None
    community: str = ""


def _local(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def seed_demo(session: Session, *, today: date, password: str | None = None) -> DemoResult:
    """Create the demo organiser, community, venues and events unless any account exists."""
    if session.scalar(select(func.count()).select_from(User)):
        return DemoResult(created=False, email=DEMO_EMAIL, password=None)
    password = password or secrets.token_urlsafe(12)
    owner = AccountService(session).sign_up(
        email=DEMO_EMAIL, display_name="Camille Demo", password=password, locale="fr"
    )
    community = CommunityService(session).create(
        owner,
        name="Café des Possibles",
        description=(
            "Soirées ouvertes à toutes et tous : projets d'innovation sociale, colocations, "
            "arts et sciences. Open evenings for everyone."
        ),
    )
    venues = VenueService(session)
    canteen = venues.create(
        community,
        VenueInput(
            name="La Cantine du Coworking",
            address="12 rue des Ateliers\n75011 Paris",
            capacity="120",
            access_notes="Step-free access, ground floor. Métro Parmentier (line 3).",
            latitude="48.8650",
            longitude="2.3745",
        ),
    )
    hall = venues.create(
        community,
        VenueInput(
            name="Salle des Fêtes du Quartier",
            address="3 place de la Fontaine\n75020 Paris",
            capacity="300",
            access_notes="Lift to the first floor.",
        ),
    )
    series_service = SeriesService(session)
    series = series_service.create(
        community,
        SeriesInput(
            title="Jeudis des Possibles",
            description=(
                "Every first Thursday: **pitches** of neighbourhood projects looking for "
                "contributors, then open tables by theme.\n\n"
                "- 19:00 doors\n- 19:30 pitches\n- 20:30 open tables\n\n"
                "[More about us](https://example.org/cafe-des-possibles)"
            ),
            frequency="monthly",
            week_of_month="1",
            weekday="3",
            start_time="19:00",
            duration_minutes="180",
            timezone=ZONE,
            starts_on=today.isoformat(),
            venue_id=str(canteen.id),
            capacity="100",
            tags="innovation sociale, arts, sciences",
            publish="on",
        ),
        today=today,
    )
    occurrences = series_service.occurrences(series)
    programme = ProgrammeService(session)
    for title, speakers, room, start, end, tag in [
        ("Welcome and introductions", "Camille", "Main room", "19:00", "19:30", "community"),
        (
            "Pitch: a tool library for the street",
            "Inès & Malik",
            "Main room",
            "19:30",
            "19:45",
            "innovation sociale",
        ),
        ("Pitch: a choir for beginners", "Léa", "Main room", "19:45", "20:00", "arts"),
        ("Open tables", "", "Everywhere", "20:30", "22:00", "community"),
    ]:
        programme.add(
            occurrences[0],
            ProgrammeInput(
                title=title,
                speakers=speakers,
                room=room,
                start_time=start,
                end_time=end,
                tag=tag,
            ),
        )
    skipped = occurrences[2].series_date if len(occurrences) > 2 else None
    if skipped is not None:
        series_service.skip(series, skipped)  # a cancelled occurrence
        cancelled = session.get(Event, occurrences[2].id)
        if cancelled is not None:
            cancelled.cancel_reason = "The canteen is closed for works this month."
    one_off_day = today + timedelta(days=10)
    events = EventService(session)
    one_off = events.create(
        community,
        EventInput(
            title="Soirée colocation : trouver sa coloc",
            description="Speed-meeting for people looking for a flat-share, and flat-shares "
            "looking for people. Bring a short description of what you offer or seek.",
            starts_local=_local(one_off_day, 19),
            ends_local=_local(one_off_day, 22),
            timezone=ZONE,
            venue_id=str(hall.id),
            capacity="300",
            tags="logement, rencontres",
        ),
    )
    events.publish(one_off)
    _seed_registrations(session, community, canteen.id, one_off, today, owner.id)
    seed_past_evenings(session, community, canteen.id, today)
    _seed_call(session, community, series, occurrences, owner.id, today)
    seed_open_space(session, community, day=today + timedelta(days=3))
    api_token = _seed_integrations(session, owner, community)
    session.flush()
    return DemoResult(
        created=True,
        email=DEMO_EMAIL,
        password=password,
        api_token=api_token,
        community=community.slug,
    )


DEMO_WEBHOOK_URL = "https://hooks.example.org/rencontres-demo"


def _seed_integrations(session: Session, owner: User, community: Community) -> str:
    """A read-only token to try the organiser API with, and a webhook endpoint made last
    (the demo's own changes queue nothing) and disabled (example.org is nobody's
    receiver): the webhooks page shows its shape; "Enable again" would start sending."""
    token = ApiTokenService(session).create(
        owner,
        community.slug,
        name="Site web du Café (démo)",
        scopes=[Scope.EVENTS_READ.value],
        expires_on="",
        now=utcnow(),
    )
    endpoint = (
        WebhookService(session)
        .add(
            community,
            url=DEMO_WEBHOOK_URL,
            event_types=["registration.created", "checkin.created", "proposal.published"],
            allow_private=False,
        )
        .endpoint
    )
    endpoint.enabled, endpoint.disabled_at = False, utcnow()
    return token.plain


#: Demo proposals: title, kind, text, what happens to it, supports.
DEMO_PROPOSALS = (
    ("Repair café: bring your broken toaster", "workshop",
     "Volunteers who can solder help you fix small appliances. **Bring the broken thing.**",
     "published", 7),
    ("How do we share a flat with strangers?", "topic",
     "An open table on the first weeks of a flat-share: chores, money, guests.",
     "published", 4),
    ("A seed library for the neighbourhood", "project",
     "We collect and lend seeds; looking for a shelf and a few hands.",
     "under_discussion", 5),
    ("Beginners' choir: sing together in 20 minutes", "workshop",
     "No experience needed: warm-up, two simple songs, and a song in a round.",
     "accepted", 9),
    ("Cryptocurrency investment evening", "talk",
     "Learn to trade like a pro.", "declined", 0),
    ("Board games night", "meetup", "Bring your favourite game.", "withdrawn", 0),
)  # fmt: skip


def _seed_call(
    session: Session,
    community: Community,
    series: Series,
    occurrences: list[Event],
    owner_id: object,
    today: date,
) -> None:
    """An open call on the demo series, with proposals in each state (made through the
    services, so their trails and counts are what the site would have made)."""
    call = CallService(session).create(
        community,
        CallInput(
            title="Propose the next Jeudis des Possibles",
            description=(
                "What should our next Thursdays be about? Propose a topic to discuss, a "
                "talk, a workshop or a project to present. Support what you would come to: "
                "5 supports each."
            ),
            kinds=["topic", "talk", "workshop", "project", "meetup"],
            opens_local=_local(today - timedelta(days=7), 9),
            closes_local=_local(today + timedelta(days=40), 23, 59),
            support_budget="5",
            threshold="8",
            series=series.slug,
        ),
    )
    service = ProposalService(session, actor_id=owner_id)  # type: ignore[arg-type]
    supports = SupportService(session)
    supporters = [
        identity.person(session, community.id, f"supporter{n}@example.org") for n in range(10)
    ]
    for n, (title, kind, body, fate, count) in enumerate(DEMO_PROPOSALS):
        name = f"{FIRST_NAMES[n]} {LAST_NAMES[n]}"
        proposer = identity.person(
            session, community.id, _ascii(name).lower().replace(" ", ".") + "@example.org"
        )
        proposal = service.propose(
            call,
            ProposalInput(
                title=title,
                kind=kind,
                body=body,
                name=name,
                named="on",
                consent="on",
                locale="fr",
            ),
            person=proposer,
        ).proposal
        assert proposal is not None
        for supporter in supporters[:count]:
            supports.support(proposal, supporter)
        if fate == "under_discussion":
            service.answer(proposal, fate, publish=True)
        elif fate == "accepted":
            service.answer(proposal, fate, note="See you on the next Thursday!", publish=True)
            if len(occurrences) > 1:
                as_session(
                    session,
                    proposal,
                    occurrences[1],
                    session_input(session, proposal),
                    actor_id=owner_id,  # type: ignore[arg-type]
                )
        elif fate == "declined":
            service.answer(
                proposal, fate, "off_topic", "Our evenings are not about selling.", publish=True
            )
        elif fate == "withdrawn":
            service.withdraw(proposer_of(session, proposal))


FIRST_NAMES = (
    "Amina", "Bastien", "Chloé", "Dario", "Elsa", "Farid", "Gaëlle", "Hugo", "Inès", "Jules",
    "Kenza", "Léo", "Maëlys", "Nour", "Oscar", "Paloma", "Quentin", "Rose", "Samir", "Thaïs",
    "Ulysse", "Valentina", "Wassim", "Xavier", "Yasmine", "Zoé",
)  # fmt: skip
PROJECTS = (
    "A seed library in the Belleville community garden.",
    "Repair cafés in three schools: we need volunteers who can solder.",
    "A choir for beginners; looking for a rehearsal room on Tuesdays.",
)
LAST_NAMES = ("Martin", "Benali", "Nguyen", "Rossi", "Diallo", "Moreau", "Costa", "Lefèvre")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _person(n: int, guests: int = 0) -> RegistrationInput:
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    last = LAST_NAMES[n % len(LAST_NAMES)]
    return RegistrationInput(
        name=f"{first} {last}",
        email=f"{_ascii(first).lower()}.{n}@example.org",
        guests=str(guests),
        consent="on",
        opt_in="on" if n % 3 == 0 else "",
        locale="fr" if n % 2 else "en",
    )


def _seed_registrations(
    session: Session,
    community: Community,
    venue_id: object,
    one_off: Event,
    today: date,
    organiser_id: UUID,
) -> None:
    """Registrations through the service (counters, tickets and waitlist as in real life)."""
    events = EventService(session)
    registrations = RegistrationService(session)
    repair_day = today + timedelta(days=17)
    repair = events.create(
        community,
        EventInput(
            title="Atelier réparation vélo & café",
            description="Bring your bike and a friend: volunteers show how to fix brakes, "
            "lights and punctures. Coffee and tools provided.",
            starts_local=_local(repair_day, 18, 30),
            ends_local=_local(repair_day, 21),
            timezone=ZONE,
            venue_id=str(venue_id),
            capacity="30",
            tags="vélo, réparation, rencontres",
            waitlist_enabled="on",
            guest_allowance="2",
        ),
    )
    events.publish(repair)
    # 28 of 30 places taken: 16 people alone and 6 with a guest; then three parties of
    # three that no longer fit in the 2 free places wait in line.
    first = [registrations.register(repair, _person(n)).registration for n in range(16)]
    for n in range(16, 22):
        registrations.register(repair, _person(n, guests=1))
    for n in range(22, 25):
        registrations.register(repair, _person(n, guests=2))
    seed_volunteers(session, repair, first[0], organiser_id)

    dinner_day = today + timedelta(days=24)
    dinner = events.create(
        community,
        EventInput(
            title="Dîner des porteurs de projets",
            description="A shared dinner for people running a neighbourhood project. "
            "Places are limited: tell us about your project, we confirm by e-mail.",
            starts_local=_local(dinner_day, 19, 30),
            ends_local=_local(dinner_day, 22, 30),
            timezone=ZONE,
            venue_id=str(venue_id),
            capacity="20",
            tags="innovation sociale, rencontres",
            waitlist_enabled="on",
            requires_approval="on",
            guest_allowance="1",
        ),
    )
    events.publish(dinner)
    questions = QuestionService(session)
    project = questions.add(
        dinner,
        QuestionInput(
            kind="long_text",
            label="Your project in a few words",
            required="on",
            help="What it does, where, and what help you are looking for.",
        ),
    )
    diet = questions.add(
        dinner,
        QuestionInput(kind="single_choice", label="Dinner", options="Vegetarian\nVegan\nAnything"),
    )
    pending = [
        registrations.register(
            dinner,
            replace(
                _person(n),
                answers={
                    project.field_name: PROJECTS[n % len(PROJECTS)],
                    diet.field_name: diet.options[n % len(diet.options)],
                },
            ),
        ).registration
        for n in range(30, 36)
    ]
    for registration in pending[:2]:
        registrations.approve(registration)  # confirmed, with a ticket; the rest wait

    flat_sharers = [registrations.register(one_off, _person(n)).registration for n in range(40, 52)]
    seed_offers(session, community, one_off, flat_sharers, utcnow())


def today_in_paris() -> date:
    from datetime import datetime

    return datetime.now(ZoneInfo(ZONE)).date()
