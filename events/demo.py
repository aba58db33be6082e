"""Demo data for ``make run``: created once, on an empty database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from events.models import User
from events.services.accounts import AccountService
from events.services.communities import CommunityService

DEMO_EMAIL = "demo@example.org"


@dataclass(frozen=True)
class DemoResult:
    created: bool
    email: str
    password: str | None


def seed_demo(session: Session, *, password: str | None = None) -> DemoResult:
    """Create the demo organiser and community unless any account exists already."""
    if session.scalar(select(func.count()).select_from(User)):
        return DemoResult(created=False, email=DEMO_EMAIL, password=None)
    password = password or secrets.token_urlsafe(12)
    owner = AccountService(session).sign_up(
        email=DEMO_EMAIL, display_name="Camille Demo", password=password, locale="fr"
    )
    CommunityService(session).create(
        owner,
        name="Café des Possibles",
        description=(
            "Soirées ouvertes à toutes et tous : projets d'innovation sociale, colocations, "
            "arts et sciences. Open evenings for everyone."
        ),
    )
    return DemoResult(created=True, email=DEMO_EMAIL, password=password)
