"""Factory helpers (Indico style): ``make.user(...)``, ``make.community(...)``.

Each call commits its own transaction, so the objects exist for the HTTP client too.
Password hashes are computed once per password: argon2 is deliberately slow.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import count
from uuid import UUID

from events.database import Database
from events.models import Community, Membership, Role, User
from events.passwords import hash_password
from events.services.boards import BoardService, RoomInput, SlotInput
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationInput, RegistrationService

DEFAULT_PASSWORD = "correct horse battery"
_sequence = count(1)


@cache
def _hash(password: str) -> str:
    return hash_password(password)


class Factories:
    def __init__(self, db: Database) -> None:
        self.db = db

    def user(
        self, *, email: str | None = None, name: str | None = None, password: str = DEFAULT_PASSWORD
    ) -> User:
        n = next(_sequence)
        with self.db.transaction() as session:
            user = User(
                email=(email or f"user{n}@example.org").lower(),
                display_name=name or f"User {n}",
                password_hash=_hash(password),
            )
            session.add(user)
        return user

    def community(
        self, *, owner: User | None = None, name: str | None = None, slug: str | None = None
    ) -> Community:
        n = next(_sequence)
        owner = owner or self.user()
        with self.db.transaction() as session:
            community = Community(name=name or f"Community {n}", slug=slug or f"community-{n}")
            session.add(community)
            session.flush()
            session.add(Membership(community_id=community.id, user_id=owner.id, role=Role.OWNER))
        return community

    def member(self, community: Community, *, role: Role, user: User | None = None) -> User:
        user = user or self.user()
        with self.db.transaction() as session:
            session.add(Membership(community_id=community.id, user_id=user.id, role=role))
        return user

    def open_space(
        self,
        *,
        participants: int = 3,
        rooms: tuple[tuple[str, int], ...] = (("Hall", 40), ("Lab", 20), ("Nook", 10)),
        slot_times: tuple[str, ...] = ("19:30", "20:15", "21:00"),
        minutes: int = 40,
        community: Community | None = None,
    ) -> OpenSpace:
        """A published evening (7 March 2030, 19:00-23:00 Paris) with its open-space board
        on: ``rooms`` (name, capacity), one open slot at each of ``slot_times`` and
        ``participants`` confirmed tickets."""
        community = community or self.community()
        with self.db.transaction() as session:
            events = EventService(session)
            event = events.create(
                community,
                EventInput(
                    title="Open-space evening",
                    starts_local="2030-03-07T19:00",
                    ends_local="2030-03-07T23:00",
                    timezone="Europe/Paris",
                ),
            )
            events.publish(event)
            service = BoardService(session)
            board = service.switch_on(event)
            room_ids = [
                service.add_room(board, RoomInput(name=name, capacity=str(capacity))).id
                for name, capacity in rooms
            ]
            slot_ids = [
                service.add_slot(event, board, SlotInput(start_time=at, minutes=str(minutes))).id
                for at in slot_times
            ]
            registrations = [
                RegistrationService(session)
                .register(
                    event,
                    RegistrationInput(
                        name=f"Participant{n} Surname",
                        email=f"participant{n}-{event.slug}@example.org",
                        consent="on",
                    ),
                )
                .registration
                for n in range(1, participants + 1)
            ]
            space = OpenSpace(
                event_id=event.id,
                slug=event.slug,
                board_id=board.id,
                rooms=room_ids,
                slots=slot_ids,
                tickets=[r.ticket_code or "" for r in registrations],
                registrations=[r.id for r in registrations],
            )
        return space


@dataclass(frozen=True)
class OpenSpace:
    """What ``Factories.open_space`` made: ids and ticket codes, usable in any session."""

    event_id: UUID
    slug: str
    board_id: UUID
    rooms: list[UUID]
    slots: list[UUID]
    tickets: list[str]
    registrations: list[UUID]
