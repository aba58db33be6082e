"""Every registered route, with every role, gets the answer its access level promises.

The routes come from the real app, so a new route is checked the day it is added: one
that declares no access level answers 500 here and fails, one with a path parameter this
file cannot fill fails with a clear message.

The matrix has about two thousand cases, so they share one app and one database per test
process (building the app is most of a web test's cost): each case starts from an empty
database into which the world of its role is copied back, row for row, as it was first
built, and from a browser with no cookies. Nothing else carries over from case to case
that the app would not also keep between two requests in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy import select, text

from events.clock import utcnow
from events.database import Database
from events.models import (
    AddressConfirmation,
    Base,
    Invitation,
    Membership,
    PersonalFeed,
    Role,
    SessionFeedbackLink,
    SignupRequest,
    User,
)
from events.services import exchange_access, follows, identity, proposal_merges
from events.services.api_tokens import ApiTokenService
from events.services.board_topics import BoardTopics, TopicInput, participant
from events.services.boards import BoardService, RoomInput, SlotInput
from events.services.co_proposers import CoProposerService
from events.services.communities import CommunityService
from events.services.events import EventInput, EventService
from events.services.exchange_boards import ExchangeBoardService as ExchangeBoards
from events.services.programme import ProgrammeInput, ProgrammeService
from events.services.proposal_calls import CallService
from events.services.proposal_records import private_path, proposal_subject, proposer_of
from events.services.proposals import ProposalService
from events.services.registrations import RegistrationInput, RegistrationService
from events.services.series import SeriesInput, SeriesService
from events.services.venues import VenueInput, VenueService
from events.services.volunteers import RoleInput, ShiftInput, VolunteerService
from events.services.webhooks import WebhookService
from events.tokens import hash_token, new_token
from tests.conftest import BASE_URL, copy_sqlite, empty_tables, table_names, url_of
from tests.factories import Factories
from tests.proposal_scenario import call_input, proposal_input
from tests.web.conftest import Client
from web.app import create_app
from web.auth import Access, handler_access
from web.settings import Settings

ROLES = ("anonymous", "door", "facilitator", "organiser", "owner", "other_owner")
DENIED_LOGIN, DENIED_403, DENIED_404, ALLOWED = "login", "403", "404", "allowed"


def expected(level: Access, role: str) -> str:
    if level in {Access.PUBLIC, Access.TOKEN}:
        return ALLOWED
    if level is Access.API:  # a session never opens the token API (tests/api/ test tokens)
        return DENIED_LOGIN
    if level in {Access.EVENT_DOOR, Access.EVENT_FACILITATOR}:  # the world's event is "ours"
        needed = Role.DOOR if level is Access.EVENT_DOOR else Role.FACILITATOR
        if role == "anonymous":
            return DENIED_LOGIN
        if role == "other_owner" or not Role(role).at_least(needed):
            return DENIED_404  # an account with no such role there: as for an unknown event
        return ALLOWED
    if role == "anonymous":
        return DENIED_LOGIN
    if not level.community_scoped:
        return ALLOWED
    if role == "other_owner":
        return DENIED_404
    minimum = level.minimum_role
    return ALLOWED if minimum is None or Role(role).at_least(minimum) else DENIED_403


def _all_routes() -> list[tuple[str, str, Access]]:
    app: Litestar = create_app(
        Settings(
            data_dir=Path("/tmp"),
            database_url="sqlite:////tmp/rencontres-matrix.db",
            secret_key="k" * 40,
            base_url="http://testserver.local",
        )
    )
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            # Litestar's automatic OPTIONS handlers are checked once, below.
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                found.append((method, route.path, handler_access(handler)))
    return sorted(set(found))


@dataclass
class World:
    path_values: dict[str, str]
    users: dict[str, object]


def build_world(make: Factories, db: Database, role: str) -> World:
    owner = make.user(email="owner@example.org")
    community = make.community(owner=owner, slug="ours")
    users = {
        "owner": owner,
        "organiser": make.member(community, role=Role.ORGANISER),
        "door": make.member(community, role=Role.DOOR),
        "facilitator": make.member(community, role=Role.FACILITATOR),
    }
    other_owner = make.user(email="other@example.org")
    make.community(owner=other_owner, slug="theirs")
    users["other_owner"] = other_owner
    actor_email = users[role].email if role in users else "newcomer@example.org"  # type: ignore[attr-defined]
    with db.transaction() as session:
        service = CommunityService(session)
        ours = service.by_slug("ours")
        door_membership = service.membership(users["door"].id, "ours")  # type: ignore[attr-defined]
        assert isinstance(door_membership, Membership)
        issued = service.invite(ours, owner, email="invitee@example.org", role="door")
        # A second invitation addressed to whoever acts, so accepting it can succeed.
        token = new_token()
        session.add(
            Invitation(
                community_id=ours.id,
                email=actor_email,
                role=Role.DOOR,
                token_hash=hash_token(token),
                invited_by_id=owner.id,
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        # The same token opens a personal calendar feed, and finishes a sign-up.
        session.add(PersonalFeed(email=actor_email, token_hash=hash_token(token)))
        session.add(
            SignupRequest(
                email="signing-up@example.org",
                display_name="Signing up",
                password_hash=owner.password_hash,
                token_hash=hash_token(token),
                expires_at=utcnow() + timedelta(days=1),
            )
        )
    # Events, a venue, a tag, a series with its occurrences, a programme item: in "ours".
    with db.transaction() as session:
        ours = CommunityService(session).by_slug("ours")
        venue = VenueService(session).create(ours, VenueInput(name="Canteen"))
        event = EventService(session).create(
            ours,
            EventInput(
                title="Pitch night",
                starts_local="2030-03-07T19:00",
                ends_local="2030-03-07T22:00",
                timezone="Europe/Paris",
                venue_id=str(venue.id),
                tags="arts",
            ),
        )
        EventService(session).publish(event)
        # Offers & needs on, so the registration below sits at a board (/r/{token}/offers);
        # public, so /e/{event}/offers answers everyone.
        ExchangeBoards(session).switch_on(ours, event=event, preset_id="flat_share").public = True
        # A registration that the shared token opens (/r/{token}) and whose ticket is {code}.
        registered = (
            RegistrationService(session)
            .register(
                event,
                RegistrationInput(name="Matrix", email="matrix@example.org", consent="on"),
            )
            .registration
        )
        registered.manage_token_hash = hash_token(token)
        ticket = registered.ticket_code
        # Its seat at the offers board, whose "stop these mails" link the token also is.
        seat = exchange_access.enter(
            session, exchange_access.seat_of(session, registered, utcnow()), utcnow()
        )
        assert seat.participant is not None
        seat.participant.unsubscribe_token = token
        item = ProgrammeService(session).add(event, ProgrammeInput(title="Welcome"))
        # The same token is a host's link to that session's feedback.
        session.add(SessionFeedbackLink(programme_item_id=item.id, token_hash=hash_token(token)))
        # A door role with a shift, and someone on it.
        volunteers = VolunteerService(session)
        door_role = volunteers.add_role(event, RoleInput(kind="door"))
        shift = volunteers.add_shift(
            door_role,
            ShiftInput(starts_local="2030-03-07T18:30", ends_local="2030-03-07T20:00", needed="3"),
            created_by=owner.id,
        )
        signup = volunteers.sign_up_with_ticket(shift, registered).signup
        signup.manage_token_hash = hash_token(token)  # /v/{token}: the volunteer's page
        # The evening's open-space board, with a room, a slot and the ticket's topic.
        boards = BoardService(session)
        board = boards.switch_on(event)
        room = boards.add_room(board, RoomInput(name="Hall", capacity="30"))
        slot = boards.add_slot(event, board, SlotInput(start_time="19:30", minutes="30"))
        session.flush()
        topic = BoardTopics(session).post(
            participant(session, ticket), TopicInput(title="Matrix topic")
        )
        series = SeriesService(session).create(
            ours,
            SeriesInput(
                title="Thursdays",
                starts_on="2030-01-01",
                publish="on",
            ),
            today=date(2030, 1, 1),
        )
        series_board = ExchangeBoards(session).switch_on(ours, series=series, preset_id="projects")
        # Both boards have the {category} the matrix fills in ("room").
        ExchangeBoards(session).apply_preset(series_board, "flat_share", "en")
    # A webhook endpoint of "ours", and an API token of whoever acts (revoking it is theirs).
    with db.transaction() as session:
        ours = CommunityService(session).by_slug("ours")
        endpoint = (
            WebhookService(session)
            .add(
                ours,
                url="https://hooks.example.org/x",
                event_types=["event.published"],
                allow_private=False,
            )
            .endpoint
        )
        actor = session.get(User, users[role].id) if role in users else None  # type: ignore[attr-defined]
        api_token = (
            ApiTokenService(session)
            .create(
                actor,
                "ours" if role != "other_owner" else "theirs",
                name="matrix",
                scopes=["events:read"],
                expires_on="",
                now=utcnow(),
            )
            .token
            if actor is not None
            else None
        )
    proposals = _proposals_world(db, token, users)
    return World(
        path_values={
            **proposals,
            "endpoint_id": str(endpoint.id),
            "token_id": str(api_token.id if api_token else uuid4()),
            "group": "ours",
            "event": event.slug,
            "venue": venue.slug,
            "tag": "arts",
            "series": series.slug,
            "item_id": str(item.id),
            "role_id": str(door_role.id),
            "shift_id": str(shift.id),
            "category": "room",  # an offers & needs category of the flat-share preset
            "signup_id": str(signup.id),
            "community": "ours",
            "invitation_id": str(issued.invitation.id),
            "membership_id": str(door_membership.id),
            "token": token,
            "code": ticket,
            "topic_id": str(topic.id),
            "room_id": str(room.id),
            "slot_id": str(slot.id),
            "file_path": "css/app.css",
            "path": "openapi.json",
            "registration": str(uuid4()),
            "check_in": str(uuid4()),
        },
        users=users,
    )


def _proposals_world(db: Database, token: str, users: dict[str, object]) -> dict[str, str]:
    """A call of "ours" with a proposal (its proposer's private page), a request to join
    it, a merge waiting for an answer, a reported proposal, a follow, and a confirmation
    link opened by the shared ``token``."""
    with db.transaction() as session:
        ours = CommunityService(session).by_slug("ours")
        call = CallService(session).create(ours, call_input(title="Ideas"))
        service = ProposalService(session)
        people = [identity.person(session, ours.id, f"p{n}@example.org") for n in (1, 2)]
        first, second = (
            service.propose(call, proposal_input(n), person=people[n - 1]).proposal for n in (1, 2)
        )
        assert first is not None and second is not None
        proposer = proposer_of(session, first)
        asker = identity.person(session, ours.id, "asker@example.org")
        request = CoProposerService(session).ask(
            first, asker, name="Asker", message="", named="", locale="en"
        )
        merge = proposal_merges.request(session, second, first, actor_id=None)
        case = service.report(first, asker, "spam").case
        follows.follow(session, proposal_subject(first), people[0], locale="en")
        session.add(
            AddressConfirmation(
                community_id=ours.id,
                token_hash=hash_token(token),
                email="confirm@example.org",
                purpose="follow",
                payload={"kind": "call", "id": call.id.hex, "locale": "en"},
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        session.flush()
        follow = follows.follows_of(session, ours.id, "p1@example.org")[0]
        return {
            "call": call.slug,
            "number": str(first.number),
            "person_id": str(request.id),
            "merge_id": str(merge.id),
            "case_id": str(case.id),
            # Private pages and unsubscribe links are signed links of their own.
            "/p/": private_path(session, proposer, ours.id).removeprefix("/p/"),
            "/u/": follows.unsubscribe_path(session, follow).removeprefix("/u/"),
        }


def fill(path: str, values: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "token":  # a signed link where the route wants one
            for prefix in ("/p/", "/u/"):
                if path.startswith(prefix) and prefix in values:
                    return values[prefix]
        if name not in values:
            pytest.fail(f"the matrix cannot fill path parameter {name!r} in {path}: add it")
        return values[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", replace, path)


def outcome(response) -> str:
    location = response.headers.get("location", "")
    if response.status_code == 303 and location.startswith("/login"):
        return DENIED_LOGIN
    if response.status_code == 401:
        return DENIED_LOGIN
    if response.status_code == 403:
        return DENIED_403
    if response.status_code == 404:
        return DENIED_404
    assert response.status_code < 500, response.text[:500]
    return ALLOWED


ROUTES = _all_routes()


def test_the_matrix_sees_the_routes_we_know_of() -> None:
    paths = {path for _method, path, _level in ROUTES}
    assert {"/manage/{community:str}", "/login", "/healthz", "/invite/{token:str}"} <= paths


@dataclass
class Snapshot:
    """A role's world as first built: every row of every table, and its handles. The
    rows are also kept in the database server's hands (``keep_copy``), from where one
    batch of ``INSERT … SELECT`` puts them back: copying them from Python, table by
    table, was half of a case's time."""

    rows: dict[str, list[dict[str, Any]]]
    world: World
    copy: str = ""  # where the server keeps the rows: a schema, or an SQLite file


def take_snapshot(db: Database, world: World) -> Snapshot:
    with db.engine.connect() as connection:
        rows = {
            table.name: [dict(row) for row in connection.execute(select(table)).mappings()]
            for table in Base.metadata.sorted_tables
        }
    return Snapshot(rows, world)


def _filled(snapshot: Snapshot) -> list[str]:
    return [name for name in table_names() if snapshot.rows[name]]


def keep_copy(db: Database, snapshot: Snapshot, role: str) -> Snapshot:
    """Copy the database as it is now (the snapshot's rows) to where ``restore`` reads:
    a schema of its own on PostgreSQL, a file beside the database on SQLite."""
    if db.is_sqlite:
        path = Path(str(db.engine.url.database))
        snapshot.copy = str(path.with_name(f"snapshot-{role}.db"))
        copy_sqlite(path, Path(snapshot.copy))
        return snapshot
    snapshot.copy = f"matrix_snapshot_{role}"
    copies = "; ".join(
        f'CREATE TABLE {snapshot.copy}."{name}" AS TABLE "{name}"' for name in _filled(snapshot)
    )
    with db.engine.begin() as connection:
        connection.execute(
            text(
                f"DROP SCHEMA IF EXISTS {snapshot.copy} CASCADE;"
                f" CREATE SCHEMA {snapshot.copy}; {copies}"
            )
        )
    return snapshot


def drop_copies(db: Database, snapshots: dict[str, Snapshot]) -> None:
    if not db.is_sqlite:
        drops = "; ".join(f"DROP SCHEMA IF EXISTS {s.copy} CASCADE" for s in snapshots.values())
        with db.engine.begin() as connection:
            connection.execute(text(drops or "SELECT 1"))


def restore(db: Database, snapshot: Snapshot) -> None:
    """Copy a snapshot back into an empty database, in one batch of statements the
    server runs (foreign keys checked at commit on SQLite, not at all on PostgreSQL while
    copying: rows of one table may refer to each other in any order)."""
    if db.is_sqlite:
        connection = db.engine.raw_connection()
        try:
            # Outside any transaction (the driver's is off, events/database.py): SQLite
            # attaches no database inside one.
            cursor = connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute("ATTACH DATABASE ? AS snapshot", (snapshot.copy,))
            try:
                cursor.executescript(
                    "BEGIN; PRAGMA defer_foreign_keys = ON; "
                    + "".join(
                        f'INSERT INTO main."{name}" SELECT * FROM snapshot."{name}"; '
                        for name in _filled(snapshot)
                    )
                    + "COMMIT;"
                )
            except BaseException:
                if connection.driver_connection.in_transaction:  # type: ignore[union-attr]
                    cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.execute("DETACH DATABASE snapshot")
        finally:
            connection.close()
        return
    inserts = "; ".join(
        f'INSERT INTO "{name}" SELECT * FROM {snapshot.copy}."{name}"' for name in _filled(snapshot)
    )
    with db.engine.begin() as connection:
        connection.execute(text(f"SET LOCAL session_replication_role = replica; {inserts}"))


@pytest.fixture(scope="module")
def matrix_db(
    tmp_path_factory: pytest.TempPathFactory, _postgres_schema: Database | None
) -> Iterator[Database]:
    folder = tmp_path_factory.mktemp("matrix")
    url = url_of(_postgres_schema) if _postgres_schema else f"sqlite:///{folder / 'matrix.db'}"
    database = Database.from_url(url)
    if database.is_sqlite:
        Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def matrix_client(
    matrix_db: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Client]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("matrix-data"),
        database_url=url_of(matrix_db),
        secret_key="test-secret-" + "x" * 40,
        base_url=BASE_URL,
        login_rate_limit=1000,
    )
    with Client(app=create_app(settings, matrix_db), base_url=BASE_URL) as client:
        yield client


@pytest.fixture(scope="module")
def snapshots(matrix_db: Database) -> Iterator[dict[str, Snapshot]]:
    kept: dict[str, Snapshot] = {}
    yield kept
    drop_copies(matrix_db, kept)


@pytest.fixture
def world_of(
    matrix_db: Database, matrix_client: Client, snapshots: dict[str, Snapshot]
) -> Callable[[str], World]:
    """The world of a role, in a database holding nothing else, and a browser that has no
    cookies yet."""
    empty_tables(matrix_db)
    matrix_client.cookies.clear()

    def world(role: str) -> World:
        if role in snapshots:
            restore(matrix_db, snapshots[role])
        else:
            world = build_world(Factories(matrix_db), matrix_db, role)
            snapshots[role] = keep_copy(matrix_db, take_snapshot(matrix_db, world), role)
        return snapshots[role].world

    return world


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "level"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_route_answers_each_role_as_declared(
    matrix_client: Client,
    matrix_db: Database,
    world_of: Callable[[str], World],
    method: str,
    path: str,
    level: Access,
    role: str,
) -> None:
    client, world = matrix_client, world_of(role)
    if role != "anonymous":
        client.login_as(matrix_db, world.users[role])  # type: ignore[arg-type]
    url = fill(path, world.path_values)
    headers = {"x-csrftoken": client.csrf_token()}
    response = client.request(method, url, headers=headers, follow_redirects=False)
    assert outcome(response) == expected(level, role), (method, url, response.status_code)


def test_a_restored_world_is_the_world_as_built(
    matrix_db: Database, world_of: Callable[[str], World], snapshots: dict[str, Snapshot]
) -> None:
    """The copy the cases start from holds exactly what building the world wrote."""
    snapshots.pop("organiser", None)
    built = take_snapshot(matrix_db, world_of("organiser"))
    empty_tables(matrix_db)
    assert all(not rows for rows in take_snapshot(matrix_db, built.world).rows.values())
    world_of("organiser")  # now restored from the snapshot

    def in_order(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
        return {table: sorted(map(repr, found)) for table, found in rows.items()}

    assert in_order(take_snapshot(matrix_db, built.world).rows) == in_order(built.rows)
    assert sum(len(rows) for rows in built.rows.values()) > 50


def test_options_requests_reveal_nothing(client: Client) -> None:
    response = client.options("/manage/ours")
    assert response.status_code == 204
    assert response.content == b""


def test_a_route_without_declared_access_refuses_to_serve(settings: Settings, db: Database) -> None:
    from litestar import get

    @get("/undeclared", sync_to_thread=False)
    def undeclared() -> str:
        return "secret"

    app = create_app(settings, db)
    app.register(undeclared)
    with Client(
        app=app, base_url="http://testserver.local", raise_server_exceptions=False
    ) as client:
        response = client.get("/undeclared")
    assert response.status_code == 500
    assert "secret" not in response.text
