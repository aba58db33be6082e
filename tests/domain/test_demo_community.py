"""The demo's volunteers, past evenings and feedback (events/demo_community.py), seeded by
``seed_demo`` through the domain's operations: what the pages of issue 18 show in the demo."""

from __future__ import annotations

from sqlalchemy import select

from events.clock import utcnow
from events.database import Database
from events.demo import DEMO_PROPOSALS, seed_demo, today_in_paris
from events.demo_community import FEEDBACK, PAST_EVENINGS
from events.models import Community, DoorLink, Event, ShiftSignup
from events.services.feedback import FeedbackService
from events.services.statistics import Hidden, community_months, publish
from events.services.volunteers import VolunteerService


def test_the_demo_has_volunteers_statistics_and_feedback(db: Database) -> None:
    with db.transaction() as session:
        assert seed_demo(session, today=today_in_paris(), password="demo-password").created
    with db.session() as session:
        community = session.scalars(select(Community)).one()
        # Volunteers: a welcome desk taken with a ticket, a door shift given by the
        # organisers with its door link, and shifts still open on the community's page.
        signups = list(session.scalars(select(ShiftSignup)))
        assert sorted(s.registration_id is not None for s in signups) == [False, True]
        [door_link] = session.scalars(select(DoorLink).where(DoorLink.shift_signup_id.is_not(None)))
        assert door_link.valid_from is not None and door_link.valid_from > utcnow()
        open_shifts = VolunteerService(session).open_shifts(community)
        assert {item.role.kind.value for item in open_shifts} == {"door", "welcome", "tidyup"}
        # Statistics: three past months, people coming back, the smallest month hidden.
        every_month = community_months(session, community, now=utcnow())
        # The demo's proposals are made this month, which has no past event yet.
        assert sum(m.proposals for m in every_month) == len(DEMO_PROPOSALS)
        months = [m for m in every_month if m.events]
        assert [m.registered for m in months] == [n for _days, n, _came in PAST_EVENINGS]
        assert [m.came for m in months] == [came for _days, _n, came in PAST_EVENINGS]
        assert months[1].returning == PAST_EVENINGS[0][1] and months[2].returning > 0
        table = publish(months)
        assert table[0].registered.hidden is Hidden.SMALL and table[0].came.hidden
        assert table[2].registered.value == PAST_EVENINGS[2][1]
        # Feedback on the last evening, from people who came.
        last = session.scalars(select(Event).where(Event.title.endswith("12 jours"))).one()
        summary = FeedbackService(session).summary(last)
        assert summary.answers == len(FEEDBACK) and summary.could_answer == PAST_EVENINGS[2][2]
        assert "Name badges, please." in summary.change
