"""Demo data: an open-space evening whose board is half filled.

Made through the board's own operations (switch on, rooms, slots, posts from tickets, marks,
follows, placement), so everything is as in real life: tickets, per-ticket limits, the board's
version, the programme sessions that placed topics become. ``make run`` shows it (the
demo), and bench/board_live.py seeds its board with many more participants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy.orm import Session

from events.models import Board, Community, Event
from events.services.board_placement import BoardPlacement
from events.services.board_topics import BoardTopics, TopicInput, participant
from events.services.boards import BoardService, BoardSettingsInput, RoomInput, SlotInput
from events.services.events import EventInput, EventService
from events.services.registrations import RegistrationInput, RegistrationService

ZONE = "Europe/Paris"
ROOMS = (("Grande salle", 40), ("Atelier", 16), ("Terrasse", 10))
#: (start, minutes, label): a label makes a common cell (a break, the closing circle).
SLOTS = (("19:45", 40, ""), ("20:30", 40, ""), ("21:10", 15, "Pause"), ("21:25", 40, ""))
#: (title, summary, kind): what people pitch at a neighbourhood barcamp.
TOPICS = (
    ("Tool library for the street", "Who lends what, and how we keep track.", "discussion"),
    ("Repair café: soldering 101", "Bring a broken lamp, leave with a working one.", "workshop"),
    ("Mapping the neighbourhood's gardens", "An open map, and who waters what.", "demo"),
    ("A choir for beginners", "We need a room on Tuesdays and a pianist.", "help_wanted"),
    ("Flat-share without the drama", "House rules that worked, and those that didn't.", "demo"),
    ("Open data for our tenants' union", "Rents, repairs, response times.", "discussion"),
    ("Zero-waste canteen", "Leftovers from the market, cooked together.", "workshop"),
    ("Bike bus to school", "Routes, parents, insurance.", "help_wanted"),
)
FIRST_NAMES = (
    "Aïcha", "Baptiste", "Céline", "Driss", "Émilie", "Fatou", "Gaspard", "Hélène", "Idriss",
    "Jeanne", "Karim", "Lucie", "Mehdi", "Noémie", "Omar", "Pauline",
)  # fmt: skip


@dataclass(frozen=True)
class OpenSpaceDemo:
    event: Event
    board: Board
    #: The participants' ticket codes, in registration order (the first ones posted).
    tickets: list[str]
    topic_ids: list[UUID]


def _participant_input(n: int, slug: str) -> RegistrationInput:
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    return RegistrationInput(
        name=f"{first} Participant{n}",
        email=f"open-space-{n}@{slug}.example.org",
        consent="on",
        locale="fr" if n % 2 else "en",
    )


def seed_open_space(
    session: Session,
    community: Community,
    *,
    day: date,
    participants: int = 24,
    placed: int = 4,
    title: str = "Barcamp des Possibles",
) -> OpenSpaceDemo:
    """A published evening on ``day`` (19:00-22:30, Paris) with its board on, three rooms,
    four slots (one a break), ``participants`` tickets, one topic per person for the first
    :data:`TOPICS`, marks from everyone, ``placed`` topics in cells (the most wanted first,
    in the biggest rooms), one waiting for the next pitch round, the rest in the pool; two
    interested people follow each placed topic (for its notes)."""
    events = EventService(session)
    event = events.create(
        community,
        EventInput(
            title=title,
            description=(
                "An open space: the programme is made on the spot. Pitch a topic from your "
                "ticket, mark the ones you want to join, and go where your interest takes you."
            ),
            starts_local=f"{day.isoformat()}T19:00",
            ends_local=f"{day.isoformat()}T22:30",
            timezone=ZONE,
            capacity=str(max(participants, 60)),
            tags="open space, rencontres",
        ),
    )
    events.publish(event)
    service = BoardService(session)
    board = service.switch_on(event)
    service.change_settings(event, board, BoardSettingsInput(topics_per_person="2"))
    rooms = [service.add_room(board, RoomInput(name, str(seats))) for name, seats in ROOMS]
    slots = [
        service.add_slot(event, board, SlotInput(at, str(minutes), label))
        for at, minutes, label in SLOTS
    ]
    registrations = RegistrationService(session)
    tickets = [
        registrations.register(event, _participant_input(n, event.slug)).registration.ticket_code
        or ""
        for n in range(participants)
    ]
    topic_service = BoardTopics(session)
    topic_ids = []
    for n, (topic_title, summary, kind) in enumerate(TOPICS[: min(len(TOPICS), participants)]):
        who = participant(session, tickets[n])
        shown = "on" if n % 2 else ""  # half the hosts show their first name
        data = TopicInput(topic_title, summary, kind, show_host=shown)
        topic_ids.append(topic_service.post(who, data).id)
    # Everyone marks a few topics: topic k interests roughly one person in (k + 2).
    for n, code in enumerate(tickets):
        who = participant(session, code)
        for k, topic_id in enumerate(topic_ids):
            if k == n:
                continue  # one's own topic
            if n % (k + 2) == 0:
                topic_service.mark(who, topic_id, "interested")
            elif n % (k + 5) == 1:
                topic_service.mark(who, topic_id, "not_for_me")
    # Two of the people interested in each placed topic follow it: they will be mailed the
    # notes its host shares after the session (events/services/board_follows.py).
    for k, topic_id in enumerate(topic_ids[:placed]):
        interested = [code for n, code in enumerate(tickets) if n != k and n % (k + 2) == 0]
        for code in interested[:2]:
            topic_service.follow(participant(session, code), topic_id)
    placement = BoardPlacement(session, event, board)
    open_cells = [(slot, room) for slot in slots if not slot.is_common for room in rooms]
    for topic_id, (slot, room) in zip(topic_ids[:placed], open_cells, strict=False):
        placement.place(topic_id, room.id, slot.id)
    if len(topic_ids) > placed:
        placement.queue(topic_ids[placed])
    session.flush()
    return OpenSpaceDemo(event=event, board=board, tickets=tickets, topic_ids=topic_ids)
