"""Seeding for the offers & needs benchmark: a 500-person flat-share evening with 800
listings, posted through the domain operations (events/services/exchange_*.py), and the
private link of one attendee whose board the benchmark loads, filtered.

The attendee's link is fixed (:data:`VIEWER_TOKEN`) so the scenario's path is known before
seeding: its hash replaces the one the registration was given, as the authorisation
matrix test does.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

OFFERS_EVENT_DAY = "2030-09-12"
PEOPLE = 500
LISTINGS = 800
#: The viewer's private link (32 URL-safe characters, like a real one).
VIEWER_TOKEN = "benchOffersViewer000000000000000"
#: The board filtered as people use it: rooms offered within a budget.
OFFERS_PATH = f"/r/{VIEWER_TOKEN}/offers?category=room&side=offer&f_budget_max=800"
POSTCODES = [f"750{n:02d}" for n in range(1, 21)] + ["93100", "93170", "94300"]
LANGUAGES = ["French", "English", "Spanish", "Arabic", "German", "Italian", "Portuguese"]
WORDS = ["sunny", "quiet", "furnished", "balcony", "garden", "near the canal", "metro"]


def _room_fields(pick: random.Random) -> dict[str, object]:
    low = pick.randrange(400, 900, 50)
    move_in = date(2030, 9, 1) + timedelta(days=pick.randrange(0, 90))
    return {
        "f_area": pick.choice(["Belleville", "Bastille", "Montreuil", "Nation", "Canal"]),
        "f_area_postcode": pick.choice(POSTCODES),
        "f_budget_min": str(low),
        "f_budget_max": str(low + pick.choice([0, 50, 100, 200])),
        "f_move_in_from": move_in.isoformat(),
        "f_languages": pick.sample(LANGUAGES, pick.randint(1, 3)),
    }


def seed_offers_evening(database_url: str) -> list[str]:
    """The evening, its 500 registrations, the board and 800 listings (two per person for
    400 of them, the viewer among them). No Lua arguments."""
    from events.clock import utcnow
    from events.database import Database
    from events.mail.prepare import prepare_outbox
    from events.mail.settings import MailSettings
    from events.models import Registration
    from events.services.accounts import AccountService
    from events.services.communities import CommunityService
    from events.services.events import EventInput, EventService
    from events.services.exchange_access import seat_of
    from events.services.exchange_boards import ExchangeBoardService
    from events.services.exchange_listings import ListingInput, ListingService
    from events.services.registrations import RegistrationInput, RegistrationService
    from events.tokens import hash_token

    started = time.perf_counter()
    pick = random.Random(17)
    database = Database.from_url(database_url)
    try:
        with database.transaction() as session:
            owner = AccountService(session).sign_up(
                email="offers@example.org",
                display_name="Offers Organiser",
                password="bench password for seeding only",
            )
            community = CommunityService(session).create(owner, name="Jeudis de la coloc")
            events = EventService(session)
            event = events.create(
                community,
                EventInput(
                    title="Soirée colocation",
                    starts_local=f"{OFFERS_EVENT_DAY}T19:00",
                    ends_local=f"{OFFERS_EVENT_DAY}T22:00",
                    timezone="Europe/Paris",
                    capacity="",
                ),
            )
            events.publish(event)
            ExchangeBoardService(session).switch_on(
                community, event=event, preset_id="flat_share", locale="en"
            )
            registrations = RegistrationService(session)
            people: list[Registration] = [
                registrations.register(
                    event,
                    RegistrationInput(
                        name=f"Colocataire {n}", email=f"coloc{n}@example.org", consent="on"
                    ),
                ).registration
                for n in range(PEOPLE)
            ]
            people[0].manage_token_hash = hash_token(VIEWER_TOKEN)
            listings = ListingService(session)
            now = utcnow()
            for n in range(LISTINGS):
                author = people[n % (LISTINGS // 2)]
                room = n % 5 != 4
                listing = ListingInput(
                    category="room" if room else "help",
                    side=pick.choice(["offer", "need"]) if n else "need",
                    text=f"Room, {pick.choice(WORDS)} and {pick.choice(WORDS)}"
                    if room
                    else "Help with moving on a Saturday",
                    fields=_room_fields(pick) if room else {"f_what": ["Moving"]},
                )
                listings.post(seat_of(session, author, now), listing, now)
        # Their confirmation mails are rendered now, not by the server while measuring.
        while prepare_outbox(database, MailSettings()):
            pass
    finally:
        database.dispose()
    print(
        f"   seeded {PEOPLE} people and {LISTINGS} listings in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return []
