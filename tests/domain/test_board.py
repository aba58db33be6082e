"""The open-space board's rules: set-up, posting from a ticket, marks, placement, freezing,
pinning, the queue, hiding, the suggestion, and the programme the board writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.database import Database
from events.errors import Conflict, NotFound, RateLimited, ValidationFailed
from events.models import Board, BoardMark, BoardSlot, BoardTopic, Event, ProgrammeItem
from events.services import board_reports as reports_module
from events.services import board_topics as topics_module
from events.services.board_placement import BoardPlacement
from events.services.board_reports import report_topic
from events.services.board_state import board_state
from events.services.board_topics import BoardTopics, Participant, TopicInput, participant
from events.services.boards import BoardService, BoardSettingsInput, RoomInput, SlotInput
from events.services.door import DoorService
from events.services.door_input import WalkInInput
from tests.factories import Factories, OpenSpace

PARIS = ZoneInfo("Europe/Paris")
#: An hour before the evening starts: no slot is frozen yet.
EARLY = datetime(2030, 3, 7, 18, 0, tzinfo=PARIS)


def paris(hhmm: str) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime(2030, 3, 7, hours, minutes, tzinfo=PARIS)


@dataclass
class Acting:
    session: Session
    space: OpenSpace

    @property
    def event(self) -> Event:
        found = self.session.get(Event, self.space.event_id)
        assert found is not None
        return found

    @property
    def board(self) -> Board:
        found = self.session.get(Board, self.space.board_id)
        assert found is not None
        return found

    def who(self, n: int) -> Participant:
        return participant(self.session, self.space.tickets[n])

    def post(self, n: int, title: str = "A topic", **fields: str) -> BoardTopic:
        return BoardTopics(self.session).post(
            self.who(n), TopicInput(title=title, **fields), now=EARLY
        )

    def placement(self) -> BoardPlacement:
        return BoardPlacement(self.session, self.event, self.board)


@pytest.fixture
def space(make: Factories) -> OpenSpace:
    return make.open_space(participants=4)


@pytest.fixture
def acting(db: Database, space: OpenSpace) -> Iterator[Acting]:
    with db.transaction() as session:
        yield Acting(session, space)


@contextmanager
def fresh(db: Database, space: OpenSpace) -> Iterator[Acting]:
    with db.transaction() as session:
        yield Acting(session, space)


def programme(session: Session, event_id: UUID) -> list[ProgrammeItem]:
    return list(
        session.scalars(
            select(ProgrammeItem)
            .where(ProgrammeItem.event_id == event_id)
            .order_by(ProgrammeItem.starts_at)
        )
    )


# -- set-up ---------------------------------------------------------------------------------
def test_switching_off_hides_the_board_from_tickets_and_on_brings_it_back(
    db: Database, space: OpenSpace
) -> None:
    with fresh(db, space) as a:
        a.post(0, "Kept")
        BoardService(a.session).switch_off(a.event)
    with fresh(db, space) as a, pytest.raises(NotFound):
        a.who(0)
    with fresh(db, space) as a:
        BoardService(a.session).switch_on(a.event)
    with fresh(db, space) as a:
        assert [t.title for t in board_state(a.session, a.board).topics] == ["Kept"]


def test_settings_are_checked(acting: Acting) -> None:
    service = BoardService(acting.session)
    with pytest.raises(ValidationFailed) as failed:
        service.change_settings(
            acting.event,
            acting.board,
            BoardSettingsInput(posting_opens="later", topics_per_person="0", freeze_minutes="x"),
        )
    assert failed.value.errors == {
        "posting_opens": "invalid_choice",
        "topics_per_person": "out_of_range",
        "freeze_minutes": "invalid_number",
    }
    board = service.change_settings(
        acting.event,
        acting.board,
        BoardSettingsInput(posting_opens="start", topics_per_person="3", freeze_minutes="5"),
    )
    assert board.posting_opens_at == acting.event.starts_at
    assert (board.topics_per_person, board.freeze_minutes) == (3, 5)


def test_rooms_have_unique_names_and_a_capacity(acting: Acting) -> None:
    service = BoardService(acting.session)
    with pytest.raises(ValidationFailed) as failed:
        service.add_room(acting.board, RoomInput(name="hall", capacity="12"))
    assert failed.value.errors == {"name": "room_exists"}
    with pytest.raises(ValidationFailed) as failed:
        service.add_room(acting.board, RoomInput(name="Patio", capacity=""))
    assert failed.value.errors == {"capacity": "required"}


def test_rooms_can_come_from_the_programme(acting: Acting) -> None:
    from events.services.programme import ProgrammeInput, ProgrammeService

    ProgrammeService(acting.session).add(acting.event, ProgrammeInput(title="Talk", room="Attic"))
    ProgrammeService(acting.session).add(acting.event, ProgrammeInput(title="Talk", room="Hall"))
    service = BoardService(acting.session)
    assert service.programme_rooms(acting.event, acting.board) == ["Attic"]
    added = service.add_programme_rooms(acting.event, acting.board, "25")
    assert [(r.name, r.capacity) for r in added] == [("Attic", 25)]


def test_slots_may_not_overlap_and_a_common_slot_is_in_the_programme(acting: Acting) -> None:
    service = BoardService(acting.session)
    with pytest.raises(ValidationFailed) as failed:
        service.add_slot(acting.event, acting.board, SlotInput(start_time="19:50", minutes="30"))
    assert failed.value.errors == {"start_time": "slot_overlaps"}
    plenary = service.add_slot(
        acting.event,
        acting.board,
        SlotInput(start_time="22:00", minutes="30", common_label="Closing plenary"),
    )
    items = programme(acting.session, acting.space.event_id)
    assert [(i.title, i.starts_at) for i in items] == [("Closing plenary", paris("22:00"))]
    assert plenary.programme_item_id == items[0].id
    service.remove_slot(acting.event, acting.board, plenary.id)
    assert programme(acting.session, acting.space.event_id) == []


# -- posting ---------------------------------------------------------------------------------
def test_a_ticket_posts_a_topic(acting: Acting) -> None:
    topic = acting.post(
        0, " Rust for beginners ", summary="Bring a laptop", kind="workshop", cohost="Sam"
    )
    assert (topic.title, topic.summary, topic.kind, topic.cohost) == (
        "Rust for beginners",
        "Bring a laptop",
        "workshop",
        "Sam",
    )
    assert topic.host_id == acting.space.registrations[0]
    assert not topic.show_host


def test_topic_fields_are_checked(acting: Acting) -> None:
    with pytest.raises(ValidationFailed) as failed:
        acting.post(0, "", summary="one\ntwo\nthree", kind="party", cohost="x" * 81)
    assert failed.value.errors == {
        "title": "required",
        "summary": "too_many_lines",
        "kind": "invalid_choice",
        "cohost": "too_long",
    }


def test_one_ticket_posts_at_most_the_limit(acting: Acting) -> None:
    acting.post(0, "One")
    acting.post(0, "Two")
    with pytest.raises(Conflict) as refused:
        acting.post(0, "Three")
    assert refused.value.code == "topic_limit"
    assert refused.value.params == {"limit": 2}
    acting.post(1, "Someone else's")  # the limit is per ticket


def test_posting_waits_for_its_opening(acting: Acting) -> None:
    BoardService(acting.session).change_settings(
        acting.event, acting.board, BoardSettingsInput(posting_opens="start")
    )
    with pytest.raises(Conflict) as refused:
        acting.post(0)
    assert refused.value.code == "posting_not_open"
    topics = BoardTopics(acting.session)
    at_start = topics.post(acting.who(0), TopicInput(title="Now"), now=paris("19:00"))
    assert at_start.title == "Now"


def test_no_posting_once_the_event_is_over(acting: Acting) -> None:
    with pytest.raises(Conflict) as refused:
        BoardTopics(acting.session).post(
            acting.who(0), TopicInput(title="Late"), now=paris("23:00")
        )
    assert refused.value.code == "event_over"


def test_a_ticket_that_is_not_confirmed_is_nobody(acting: Acting) -> None:
    from events.models import Registration, RegistrationStatus

    registration = acting.session.get(Registration, acting.space.registrations[0])
    assert registration is not None
    registration.status = RegistrationStatus.CANCELLED
    acting.session.flush()
    with pytest.raises(NotFound):
        acting.who(0)
    with pytest.raises(NotFound):
        participant(acting.session, "not-a-ticket")


def test_a_walk_in_registered_at_the_door_can_post(acting: Acting) -> None:
    result = DoorService(acting.session).walk_in(
        acting.event, WalkInInput(name="Walk In", email="", guests=0, nonce="n1", device="d")
    )
    from events.models import Registration

    walk_in = acting.session.get(Registration, result.registration_id)
    assert walk_in is not None and walk_in.ticket_code
    who = participant(acting.session, walk_in.ticket_code)
    topic = BoardTopics(acting.session).post(who, TopicInput(title="From the door"), now=EARLY)
    assert topic.host_id == walk_in.id


def test_posting_is_rate_limited_per_ticket(
    acting: Acting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(topics_module, "POST_LIMIT", topics_module.Limit(2, timedelta(hours=1)))
    acting.session.get(Board, acting.space.board_id).topics_per_person = 10  # type: ignore[union-attr]
    acting.post(0, "One")
    acting.post(0, "Two")
    with pytest.raises(RateLimited):
        acting.post(0, "Three")
    acting.post(1, "Another ticket")


# -- marks -------------------------------------------------------------------------------------
def test_one_mark_per_ticket_and_topic(acting: Acting) -> None:
    topic = acting.post(0, "Rust")
    marks = BoardTopics(acting.session)
    assert marks.mark(acting.who(1), topic.id, "interested").interested is True
    assert marks.mark(acting.who(1), topic.id, "interested").interested is True
    assert marks.mark(acting.who(2), topic.id, "not_for_me").interested is False
    state = board_state(acting.session, acting.board)
    assert (state.topics[0].interested, state.topics[0].not_for_me) == (1, 1)
    marks.mark(acting.who(1), topic.id, "not_for_me")  # changing one's mind: still one mark
    marks.mark(acting.who(2), topic.id, "none")  # taking it back
    rows = acting.session.scalars(select(BoardMark)).all()
    assert [(r.registration_id, r.interested) for r in rows] == [
        (acting.space.registrations[1], False)
    ]
    assert marks.mine(acting.who(1)).not_for_me == {topic.id}


def test_marks_are_checked(acting: Acting) -> None:
    topic = acting.post(0, "Rust")
    marks = BoardTopics(acting.session)
    with pytest.raises(ValidationFailed):
        marks.mark(acting.who(1), topic.id, "love")
    with pytest.raises(Conflict) as refused:
        marks.mark(acting.who(0), topic.id, "interested")
    assert refused.value.code == "own_topic"
    with pytest.raises(NotFound):
        marks.mark(acting.who(1), "not-an-id", "interested")
    acting.placement().hide(topic.id, True)
    with pytest.raises(NotFound):
        marks.mark(acting.who(1), topic.id, "interested")


def test_marks_are_rate_limited_per_ticket(acting: Acting, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topics_module, "MARK_LIMIT", topics_module.Limit(3, timedelta(minutes=10)))
    topic = acting.post(0, "Rust")
    marks = BoardTopics(acting.session)
    for choice in ("interested", "none", "interested"):
        marks.mark(acting.who(1), topic.id, choice)
    with pytest.raises(RateLimited):
        marks.mark(acting.who(1), topic.id, "none")
    marks.mark(acting.who(2), topic.id, "interested")


# -- placement, freezing, pinning --------------------------------------------------------------
def test_placing_a_topic_makes_it_a_programme_session(acting: Acting) -> None:
    space = acting.space
    topic = acting.post(0, "Rust", summary="Ownership", show_host="on", cohost="Sam")
    before = acting.event.revision
    acting.placement().place(topic.id, space.rooms[1], space.slots[0], now=EARLY)
    [item] = programme(acting.session, space.event_id)
    assert (item.title, item.room, item.starts_at, item.ends_at) == (
        "Rust",
        "Lab",
        paris("19:30"),
        paris("20:10"),
    )
    assert item.speakers == "Participant1, Sam"  # first name only, and only when chosen
    assert item.description == "Ownership"
    assert acting.event.revision == before + 1


def test_moving_a_session_bumps_the_event_revision_once_per_change(
    db: Database, space: OpenSpace
) -> None:
    with fresh(db, space) as a:
        topic_id = a.post(0, "Rust").id
        a.placement().place(topic_id, space.rooms[0], space.slots[0], now=EARLY)
        placed = a.event.revision
    with fresh(db, space) as a:
        a.placement().place(topic_id, space.rooms[0], space.slots[0], now=EARLY)  # no change
        assert a.event.revision == placed
        a.placement().place(topic_id, space.rooms[2], space.slots[1], now=EARLY)
        [item] = programme(a.session, space.event_id)
        assert (item.room, item.starts_at) == ("Nook", paris("20:15"))
        assert a.event.revision == placed + 1
    with fresh(db, space) as a:
        a.placement().unplace(topic_id, now=EARLY)
        assert programme(a.session, space.event_id) == []
        assert a.event.revision == placed + 2


def test_one_topic_per_cell_and_one_host_per_slot(acting: Acting) -> None:
    space = acting.space
    first = acting.post(0, "First")
    second = acting.post(0, "Second")
    other = acting.post(1, "Other")
    placement = acting.placement()
    placement.place(first.id, space.rooms[0], space.slots[0], now=EARLY)
    with pytest.raises(Conflict) as refused:
        placement.place(other.id, space.rooms[0], space.slots[0], now=EARLY)
    assert refused.value.code == "cell_taken"
    with pytest.raises(Conflict) as refused:
        placement.place(second.id, space.rooms[1], space.slots[0], now=EARLY)
    assert refused.value.code == "host_busy"
    placement.place(second.id, space.rooms[1], space.slots[1], now=EARLY)


def test_nothing_goes_in_a_common_cell(acting: Acting) -> None:
    pause = BoardService(acting.session).add_slot(
        acting.event,
        acting.board,
        SlotInput(start_time="22:00", minutes="20", common_label="Pause"),
    )
    topic = acting.post(0)
    with pytest.raises(Conflict) as refused:
        acting.placement().place(topic.id, acting.space.rooms[0], pause.id, now=EARLY)
    assert refused.value.code == "slot_common"


def test_a_slot_freezes_its_minutes_before_the_start(acting: Acting) -> None:
    space = acting.space
    topic = acting.post(0)
    placement = acting.placement()
    # The first slot starts at 19:30 and freezes 15 minutes before.
    placement.place(topic.id, space.rooms[0], space.slots[0], now=paris("19:14"))
    with pytest.raises(Conflict) as refused:
        placement.place(topic.id, space.rooms[1], space.slots[1], now=paris("19:15"))
    assert refused.value.code == "slot_frozen"  # out of a frozen slot
    other = acting.post(1)
    with pytest.raises(Conflict) as refused:
        placement.place(other.id, space.rooms[1], space.slots[0], now=paris("19:15"))
    assert refused.value.code == "slot_frozen"  # into a frozen slot
    placement.place(other.id, space.rooms[1], space.slots[1], now=paris("19:15"))


def test_freeze_minutes_come_from_the_settings(acting: Acting) -> None:
    BoardService(acting.session).change_settings(
        acting.event, acting.board, BoardSettingsInput(freeze_minutes="0")
    )
    topic = acting.post(0)
    acting.placement().place(
        topic.id, acting.space.rooms[0], acting.space.slots[0], now=paris("19:29")
    )


def test_a_facilitator_freezes_a_slot_early_or_opens_a_frozen_one(acting: Acting) -> None:
    space = acting.space
    topic = acting.post(0)
    placement = acting.placement()
    placement.freeze(space.slots[2], True)
    with pytest.raises(Conflict):
        placement.place(topic.id, space.rooms[0], space.slots[2], now=EARLY)
    placement.freeze(space.slots[0], False)  # opened again, even inside its last minutes
    placement.place(topic.id, space.rooms[0], space.slots[0], now=paris("19:25"))
    state = board_state(acting.session, acting.board)
    assert state.at(paris("19:25")).frozen == {space.slots[2]}


def test_a_pinned_topic_does_not_move(acting: Acting) -> None:
    space = acting.space
    topic = acting.post(0)
    placement = acting.placement()
    with pytest.raises(Conflict) as refused:
        placement.pin(topic.id, True)
    assert refused.value.code == "topic_not_placed"
    placement.place(topic.id, space.rooms[0], space.slots[0], now=EARLY)
    placement.pin(topic.id, True)
    for move in (
        lambda: placement.place(topic.id, space.rooms[1], space.slots[1], now=EARLY),
        lambda: placement.unplace(topic.id, now=EARLY),
        lambda: placement.queue(topic.id, now=EARLY),
    ):
        with pytest.raises(Conflict) as refused:
            move()
        assert refused.value.code == "topic_pinned"
    placement.pin(topic.id, False)
    placement.place(topic.id, space.rooms[1], space.slots[1], now=EARLY)


def test_the_queue_waits_for_the_next_pitch_round(acting: Acting) -> None:
    space = acting.space
    topic = acting.post(0, "Later")
    placement = acting.placement()
    placement.place(topic.id, space.rooms[0], space.slots[0], now=EARLY)
    placement.queue(topic.id, now=EARLY)
    state = board_state(acting.session, acting.board)
    assert [t.title for t in state.queue] == ["Later"] and state.pool == []
    assert programme(acting.session, space.event_id) == []
    assert placement.suggest(now=EARLY) == []  # queued topics are not offered
    placement.unplace(topic.id, now=EARLY)
    assert [t.title for t in board_state(acting.session, acting.board).pool] == ["Later"]


def test_hiding_takes_a_topic_off_the_grid_and_the_programme(acting: Acting) -> None:
    space = acting.space
    topic = acting.post(0, "Spam")
    placement = acting.placement()
    placement.place(topic.id, space.rooms[0], space.slots[0], now=EARLY)
    placement.pin(topic.id, True)
    placement.freeze(space.slots[0], True)
    placement.hide(topic.id, True)  # moderation wins over pins and freezes
    assert programme(acting.session, space.event_id) == []
    assert board_state(acting.session, acting.board).topics == ()
    hidden = board_state(acting.session, acting.board, hidden_too=True).hidden
    assert [t.title for t in hidden] == ["Spam"]
    placement.hide(topic.id, False)
    assert [t.title for t in board_state(acting.session, acting.board).pool] == ["Spam"]


def test_the_suggestion_fills_open_cells_by_the_layout_rule(acting: Acting) -> None:
    space = acting.space
    popular = acting.post(0, "Popular")
    also = acting.post(0, "Same host")
    quiet = acting.post(1, "Quiet")
    marks = BoardTopics(acting.session)
    for n in (1, 2, 3):
        marks.mark(acting.who(n), popular.id, "interested")
    marks.mark(acting.who(2), quiet.id, "interested")
    placement = acting.placement()
    placement.freeze(space.slots[0], True)  # a frozen slot gets nothing new
    placed = placement.suggest(now=EARLY)
    assert {t.title for t in placed} == {"Popular", "Same host", "Quiet"}
    cells = {t.title: (t.slot_id, t.room_id) for t in placed}
    assert cells["Popular"] == (space.slots[1], space.rooms[0])  # the biggest room
    # Quiet shares a fan with Popular: the slot where it shares nobody, biggest room first.
    assert cells["Quiet"] == (space.slots[2], space.rooms[0])
    assert cells["Same host"] == (space.slots[2], space.rooms[1])  # never with "Popular"
    assert also.slot_id == space.slots[2]
    assert len(programme(acting.session, space.event_id)) == 3


# -- the host's own topic -------------------------------------------------------------------
def test_a_host_withdraws_their_topic_but_not_from_a_frozen_slot(acting: Acting) -> None:
    space = acting.space
    topic = acting.post(0, "Mine")
    topics = BoardTopics(acting.session)
    with pytest.raises(NotFound):
        topics.withdraw(acting.who(1), topic.id)  # not theirs
    acting.placement().place(topic.id, space.rooms[0], space.slots[0], now=EARLY)
    with pytest.raises(Conflict):
        topics.withdraw(acting.who(0), topic.id, now=paris("19:20"))
    topics.withdraw(acting.who(0), topic.id, now=EARLY)
    assert acting.session.scalar(select(func.count()).select_from(BoardTopic)) == 0
    assert programme(acting.session, space.event_id) == []


def test_notes_come_once_the_session_began_and_join_the_programme(acting: Acting) -> None:
    space = acting.space
    topic = acting.post(0, "Mine", summary="Intro")
    acting.placement().place(topic.id, space.rooms[0], space.slots[0], now=EARLY)
    topics = BoardTopics(acting.session)
    with pytest.raises(Conflict) as refused:
        topics.write_notes(acting.who(0), topic.id, "Slides", now=paris("19:29"))
    assert refused.value.code == "notes_not_open"
    topics.write_notes(acting.who(0), topic.id, "Slides: https://example.org/s", now=paris("20:30"))
    [item] = programme(acting.session, space.event_id)
    assert item.description == "Intro\n\nSlides: https://example.org/s"


# -- what the views read ----------------------------------------------------------------------
def test_the_state_shows_a_host_by_first_name_only_when_they_chose_it(acting: Acting) -> None:
    acting.post(0, "Shown", show_host="on")
    acting.post(1, "Not shown")
    state = board_state(acting.session, acting.board)
    assert [(t.title, t.host) for t in state.topics] == [
        ("Shown", "Participant1"),
        ("Not shown", ""),
    ]


def test_the_version_goes_up_with_every_change(db: Database, space: OpenSpace) -> None:
    def version() -> int:
        with db.session() as session:
            return int(session.scalar(select(Board.version).where(Board.id == space.board_id)))

    start = version()
    with fresh(db, space) as a:
        topic_id = a.post(0).id
    assert version() == start + 1
    with fresh(db, space) as a:
        BoardTopics(a.session).mark(a.who(1), topic_id, "interested")
    assert version() == start + 2


def test_now_and_next(acting: Acting) -> None:
    state = board_state(acting.session, acting.board)
    slots = acting.space.slots
    assert state.at(paris("19:00")).now is None and state.at(paris("19:00")).next == slots[0]
    moment = state.at(paris("19:45"))
    assert (moment.now, moment.next) == (slots[0], slots[1])
    assert state.at(paris("22:00")).next is None
    assert isinstance(state.slots[0], BoardSlot)


def test_the_feed_lists_the_programme_the_board_settles(db: Database, space: OpenSpace) -> None:
    from icalendar import Calendar

    from events.calendar import FeedScope, calendar_feed, feed_events

    with fresh(db, space) as a:
        topic_id = a.post(0, "Rust", show_host="on").id
        a.placement().place(topic_id, space.rooms[1], space.slots[0], now=EARLY)

    def description_and_sequence() -> tuple[str, int]:
        with db.session() as session:
            events = feed_events(session, FeedScope(), now=EARLY)
            ics = calendar_feed(
                events, name="x", description="", base_url="http://x", url="http://x"
            )
        [vevent] = Calendar.from_ical(ics).walk("VEVENT")
        return str(vevent["DESCRIPTION"]), int(vevent["SEQUENCE"])

    description, sequence = description_and_sequence()
    assert "Programme:\n19:30-20:10 · Lab · Rust (Participant1)" in description
    with fresh(db, space) as a:
        a.placement().place(topic_id, space.rooms[0], space.slots[1], now=EARLY)
    moved, later = description_and_sequence()
    assert "20:15-20:55 · Hall · Rust (Participant1)" in moved
    assert later == sequence + 1


# -- reports ----------------------------------------------------------------------------------
def test_three_distinct_reports_hide_a_topic(acting: Acting) -> None:
    topic = acting.post(0, "Spam")
    acting.placement().place(topic.id, acting.space.rooms[0], acting.space.slots[0], now=EARLY)
    before = board_state(acting.session, acting.board).version
    first = report_topic(acting.session, acting.who(1), topic.id, now=EARLY)
    again = report_topic(acting.session, acting.who(1), topic.id, now=EARLY)
    assert board_state(acting.session, acting.board).version > before  # facilitators see it
    assert (first.reports, again.reports, again.hidden) == (1, 1, False)  # one per ticket
    with pytest.raises(Conflict) as own:
        report_topic(acting.session, acting.who(0), topic.id, now=EARLY)
    assert own.value.code == "own_topic"
    assert report_topic(acting.session, acting.who(2), topic.id, now=EARLY).hidden is False
    [view] = board_state(acting.session, acting.board).topics
    assert view.reports == 2
    third = report_topic(acting.session, acting.who(3), topic.id, now=EARLY)
    assert (third.reports, third.hidden) == (3, True)
    # Hidden as a facilitator hides: off the grid, out of the programme, not markable.
    assert topic.hidden and not topic.is_placed
    assert programme(acting.session, acting.space.event_id) == []
    with pytest.raises(NotFound):
        BoardTopics(acting.session).mark(acting.who(1), topic.id, "interested", now=EARLY)
    with pytest.raises(NotFound):
        report_topic(acting.session, acting.who(2), topic.id, now=EARLY)


def test_reports_are_rate_limited_per_ticket(
    acting: Acting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports_module, "REPORT_LIMIT", topics_module.Limit(1, timedelta(hours=1)))
    first, second = acting.post(0, "One"), acting.post(1, "Two")
    report_topic(acting.session, acting.who(2), first.id, now=EARLY)
    with pytest.raises(RateLimited):
        report_topic(acting.session, acting.who(2), second.id, now=EARLY)
    report_topic(acting.session, acting.who(3), second.id, now=EARLY)  # another ticket
