"""Following an open-space topic from a ticket: who may, and the mail a follower gets when
its host shares notes (events/services/board_follows.py through the follow mechanism)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.database import Database
from events.errors import Conflict, NotFound
from events.mail.community import render_community_mail
from events.mail.settings import MailSettings
from events.models import Board, BoardTopic, Event, Follow, OutboxMessage, Registration
from events.services import follows
from events.services.board_follows import TOPIC, topic_subject
from events.services.board_placement import BoardPlacement
from events.services.board_topics import BoardTopics, Participant, TopicInput, participant
from events.services.confirmations import subject_of
from events.services.door import DoorService
from events.services.door_input import WalkInInput
from tests.factories import Factories, OpenSpace

PARIS = ZoneInfo("Europe/Paris")
EARLY = datetime(2030, 3, 7, 18, 0, tzinfo=PARIS)
#: After the first slot (19:30-20:10) began: its host may write notes.
AFTER = datetime(2030, 3, 7, 20, 30, tzinfo=PARIS)


class Acting:
    def __init__(self, session: Session, space: OpenSpace) -> None:
        self.session = session
        self.space = space
        self.topics = BoardTopics(session)

    def who(self, n: int) -> Participant:
        return participant(self.session, self.space.tickets[n])

    def placed_topic(self, host: int = 0) -> BoardTopic:
        """A topic of participant ``host`` in the first slot."""
        topic = self.topics.post(self.who(host), TopicInput(title="Offline-first apps"), now=EARLY)
        event = self.session.get(Event, self.space.event_id)
        board = self.session.get(Board, self.space.board_id)
        assert event is not None and board is not None
        BoardPlacement(self.session, event, board).place(
            topic.id, self.space.rooms[0], self.space.slots[0], now=EARLY
        )
        return topic

    def hide(self, topic: BoardTopic) -> None:
        event = self.session.get(Event, self.space.event_id)
        board = self.session.get(Board, self.space.board_id)
        assert event is not None and board is not None
        BoardPlacement(self.session, event, board).hide(topic.id, True)

    def notes_mails(self) -> list[OutboxMessage]:
        return list(
            self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "topic_notes")
                .order_by(OutboxMessage.created_at, OutboxMessage.to_address)
            )
        )

    def email(self, n: int) -> str:
        registration = self.session.get(Registration, self.space.registrations[n])
        assert registration is not None
        return registration.email


@pytest.fixture
def acting(db: Database, make: Factories) -> Iterator[Acting]:
    space = make.open_space(participants=4)
    with db.transaction() as session:
        yield Acting(session, space)


def test_followers_are_mailed_the_notes_each_time_they_change(acting: Acting) -> None:
    topic = acting.placed_topic(host=0)
    acting.topics.follow(acting.who(1), topic.id)
    acting.topics.follow(acting.who(1), topic.id)  # twice: one follow
    acting.topics.follow(acting.who(2), topic.id)
    # Participant 3 marked it interested but did not follow: no mail.
    acting.topics.mark(acting.who(3), topic.id, "interested", now=EARLY)
    assert acting.topics.followed(acting.who(1)) == {topic.id}
    assert acting.topics.followed(acting.who(3)) == frozenset()

    acting.topics.write_notes(acting.who(0), topic.id, "Slides: https://example.org/s", now=AFTER)
    mails = acting.notes_mails()
    assert sorted(m.to_address for m in mails) == sorted([acting.email(1), acting.email(2)])
    spec = mails[0].render_spec
    assert spec["context"]["notes"] == "Slides: https://example.org/s"
    assert spec["links"]["subject"] == f"/e/{acting.space.slug}/board#topic-{topic.id}"
    assert spec["unsubscribe"].startswith("/u/") and spec["one_click"].endswith("/one-click")

    # The same notes saved again tell nobody; changed notes tell each follower once more.
    acting.topics.write_notes(acting.who(0), topic.id, "Slides: https://example.org/s", now=AFTER)
    assert len(acting.notes_mails()) == 2
    acting.topics.write_notes(acting.who(0), topic.id, "Slides and video", now=AFTER)
    assert len(acting.notes_mails()) == 4
    # Notes taken away: nothing to tell.
    acting.topics.write_notes(acting.who(0), topic.id, "", now=AFTER)
    assert len(acting.notes_mails()) == 4


def test_the_mail_says_the_notes_and_carries_the_unsubscribe_link(acting: Acting) -> None:
    topic = acting.placed_topic(host=0)
    acting.topics.follow(acting.who(1), topic.id)
    acting.topics.write_notes(acting.who(0), topic.id, "Read <this> first", now=AFTER)
    [mail] = acting.notes_mails()
    rendered = render_community_mail(mail.render_spec, MailSettings(base_url="https://x.test"))
    assert rendered.subject == "Notes on “Offline-first apps”"
    assert "Read <this> first" in rendered.text_body
    assert "Read &lt;this&gt; first" in rendered.html_body
    assert f"https://x.test/e/{acting.space.slug}/board#topic-{topic.id}" in rendered.text_body
    assert rendered.unsubscribe_url == f"https://x.test{mail.render_spec['one_click']}"


def test_who_may_follow(acting: Acting) -> None:
    topic = acting.placed_topic(host=0)
    with pytest.raises(Conflict) as refused:
        acting.topics.follow(acting.who(0), topic.id)  # the host writes the notes
    assert refused.value.code == "own_topic"
    # A walk-in registered without an address: nowhere to send the notes.
    event = acting.session.get(Event, acting.space.event_id)
    assert event is not None
    result = DoorService(acting.session).walk_in(
        event, WalkInInput(name="Walk In", email="", guests=0, nonce="n1", device="d")
    )
    walk_in = acting.session.get(Registration, result.registration_id)
    assert walk_in is not None and walk_in.ticket_code
    who = participant(acting.session, walk_in.ticket_code)
    with pytest.raises(Conflict) as refused:
        acting.topics.follow(who, topic.id)
    assert refused.value.code == "no_address"
    assert acting.topics.followed(who) == frozenset()
    # A hidden topic cannot be followed.
    acting.hide(topic)
    with pytest.raises(NotFound):
        acting.topics.follow(acting.who(1), topic.id)


def test_unfollowing_and_withdrawing_end_the_mails(acting: Acting) -> None:
    topic = acting.placed_topic(host=0)
    acting.topics.follow(acting.who(1), topic.id)
    acting.topics.unfollow(acting.who(1), topic.id)
    acting.topics.write_notes(acting.who(0), topic.id, "Notes", now=AFTER)
    assert acting.notes_mails() == []

    other = acting.topics.post(acting.who(2), TopicInput(title="Withdrawn"), now=EARLY)
    acting.topics.follow(acting.who(1), other.id)
    assert acting.session.scalar(select(func.count()).select_from(Follow)) == 1
    acting.topics.withdraw(acting.who(2), other.id, now=EARLY)
    assert acting.session.scalar(select(func.count()).select_from(Follow)) == 0


def test_the_follower_page_knows_a_topic(acting: Acting) -> None:
    """The follower's page (``/u/{token}``) lists a topic follow by its title and board."""
    topic = acting.placed_topic(host=0)
    acting.topics.follow(acting.who(1), topic.id)
    subject = subject_of(acting.session, TOPIC, topic.id)
    event = acting.session.get(Event, acting.space.event_id)
    assert event is not None
    assert subject == topic_subject(event, topic)
    [row] = follows.follows_of(acting.session, subject.community_id, acting.email(1))
    assert (row.subject_kind, row.subject_id) == (TOPIC, topic.id)
    acting.hide(topic)
    with pytest.raises(NotFound):
        subject_of(acting.session, TOPIC, topic.id)
