"""Following an open-space topic: hear by e-mail when its host adds or changes its notes.

A topic is a follow subject (events/services/follows.py: one table, one unsubscribe
mechanism, one follower's page for every followed kind). What this feature adds:

- **Who follows**: a ticket holder of the board's event, from their ticket's board page
  (``/t/{code}/board``, which the ticket page and the registration's private page link
  to). The ticket proves the address it was issued to (events/services/identity.py), so
  no confirmation mail: they follow at once. A walk-in registered without an address has
  nowhere to be told: refused (``no_address``). A host does not follow their own topic
  (they write the notes). The use cases are :meth:`BoardTopics.follow` and
  :meth:`BoardTopics.unfollow` (events/services/board_topics.py), which check the ticket
  and the topic.
- **What a follower gets**: one mail (``topic_notes``) each time the host saves notes that
  differ from the ones before and are not empty (:func:`tell_followers`), with the notes,
  a link to the public board and the follow's one-click unsubscribe link. Taking notes
  away tells nobody.
- **Erasure**: a withdrawn topic's follows are deleted with it (:func:`forget_topic`);
  every mail's link stops the follow.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.orm import Session

from events.errors import NotFound
from events.models import Board, BoardTopic, Community, Event
from events.services import follows
from events.services.follows import Subject

#: The follow (and moderation) subject kind of a board topic.
TOPIC = "board_topic"


def topic_path(event: Event, topic: BoardTopic) -> str:
    """The topic on the event's public board (site-relative)."""
    return f"/e/{event.slug}/board#topic-{topic.id}"


def topic_subject(event: Event, topic: BoardTopic) -> Subject:
    return Subject(
        kind=TOPIC,
        id=topic.id,
        community_id=event.community_id,
        title=topic.title,
        path=topic_path(event, topic),
    )


def topic_subject_of(session: Session, topic_id: UUID) -> Subject:
    """The subject of a topic by id (``NotFound`` if it is gone or hidden)."""
    topic = session.get(BoardTopic, topic_id)
    board = session.get(Board, topic.board_id) if topic is not None else None
    event = session.get(Event, board.event_id) if board is not None else None
    if topic is None or event is None or topic.hidden:
        raise NotFound()
    return topic_subject(event, topic)


def tell_followers(
    session: Session,
    event: Event,
    topic: BoardTopic,
    *,
    before: str,
    leave_out: frozenset[str] = frozenset(),
) -> set[str]:
    """Mail the topic's followers its notes when they changed from ``before`` and are not
    empty (see the module docstring); returns the keys of those mailed."""
    if not topic.notes or topic.notes == before or topic.hidden:
        return set()
    community = session.get(Community, event.community_id)
    assert community is not None
    return follows.notify(
        session,
        community,
        topic_subject(event, topic),
        "topic_notes",
        {"notes": topic.notes, "event": event.title},
        leave_out=leave_out,
    )


def forget_topic(session: Session, topic: BoardTopic) -> int:
    """Delete the follows of a topic that leaves the board."""
    return follows.forget_subjects(session, TOPIC, [topic.id])
