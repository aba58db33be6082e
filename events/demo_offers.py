"""Demo data for offers & needs: the flat-share evening ("Soirée colocation") with a dozen
offers and needs, posted through the same operations as the pages
(events/services/exchange_*.py), so the board, the match reasons and the counts are real.
One person (Léo) wrote the same pushy message to three room offers: two of their authors
reported it (one as spam, one as offensive), so the organisers' queue shows him under
"Reported people" with both reasons and when (never who); the third (Chloé) has not
answered yet. Suspending Léo from the queue hides that waiting message from Chloé's page
(and his listing from the board); *Restore* brings both back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from events.models import Community, Event, Registration
from events.services.exchange_access import seat_of
from events.services.exchange_boards import ExchangeBoardService
from events.services.exchange_contacts import request_contact
from events.services.exchange_listings import ListingInput, ListingService
from events.services.exchange_reports import report_message
from events.services.exchange_sharing import SharingInput, choose_what_to_share

#: (pseudonym, side, text, fields): rooms offered and sought around Paris, and some help.
LISTINGS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("Amina", "room", "offer", "Chambre de 12 m² dans un 4 pièces lumineux, près du canal.",
     {"f_area": "Canal Saint-Martin", "f_area_postcode": "75010", "f_budget_min": "650",
      "f_budget_max": "650", "f_move_in_from": "2027-02-01",
      "f_languages": ["français", "anglais"]}),
    ("Bastien", "room", "need", "Étudiant en master, calme, cherche une chambre pour la rentrée.",
     {"f_area": "Belleville", "f_area_postcode": "75020", "f_budget_max": "600",
      "f_move_in_from": "2027-01-15", "f_move_in_to": "2027-03-01",
      "f_languages": ["français"]}),
    ("Chloé", "room", "offer", "Grande chambre meublée, coloc de trois, plantes bienvenues.",
     {"f_area": "Ménilmontant", "f_area_postcode": "75020", "f_budget_min": "580",
      "f_budget_max": "620", "f_move_in_from": "2027-02-15",
      "f_languages": ["français", "espagnol"]}),
    ("Dario", "room", "need", "Looking for a room, I work nights at a bakery, very quiet at home.",
     {"f_area": "Canal", "f_area_postcode": "75010", "f_budget_min": "500", "f_budget_max": "700",
      "f_languages": ["anglais", "italien"]}),
    ("Elsa", "room", "offer", "Chambre dans une maison avec jardin, 15 min du métro.",
     {"f_area": "Montreuil", "f_area_postcode": "93100", "f_budget_min": "480",
      "f_budget_max": "480", "f_move_in_from": "2027-03-01"}),
    ("Farid", "room", "need", "Cherche coloc sympa, je cuisine pour tout le monde le dimanche.",
     {"f_area": "Montreuil ou Bagnolet", "f_area_postcode": "93", "f_budget_max": "520",
      "f_languages": ["français", "arabe"]}),
    ("Gaëlle", "room", "offer", "Petite chambre sous les toits, idéale pour un stage de 6 mois.",
     {"f_area": "Batignolles", "f_area_postcode": "75017", "f_budget_min": "700",
      "f_budget_max": "750", "f_move_in_from": "2027-01-20", "f_move_in_to": "2027-07-31"}),
    ("Hugo", "room", "need", "Stagiaire six mois, cherche une chambre à partir de février.",
     {"f_area": "17e", "f_area_postcode": "75017", "f_budget_max": "800",
      "f_move_in_from": "2027-02-01", "f_move_in_to": "2027-02-28"}),
    ("Inès", "help", "offer", "Je peux aider à déménager un samedi (j'ai une camionnette).",
     {"f_what": ["Déménagement"]}),
    ("Jules", "help", "need", "Besoin de conseils pour trouver un garant.",
     {"f_what": ["Garant"]}),
    ("Kenza", "help", "offer", "Je donne un lit, une table et deux chaises.",
     {"f_what": ["Meubles"]}),
    ("Léo", "help", "need", "Je cherche un bureau et une lampe pour ma chambre.",
     {"f_what": ["Meubles"]}),
)  # fmt: skip

#: Who wrote a pushy message, what, to whom, and why each recipient reported it ("" for
#: one who has not answered yet).
PUSHY = (
    "Léo",
    "Réponds vite, je paie en liquide, pas de questions.",
    (("Amina", "spam"), ("Elsa", "offensive"), ("Chloé", "")),
)


def seed_offers(
    session: Session, community: Community, event: Event, people: list[Registration], now: datetime
) -> int:
    """Switch offers & needs on for ``event`` (the French flat-share preset) and post one
    listing for each of ``people`` (as many as :data:`LISTINGS`). Returns the number."""
    ExchangeBoardService(session).switch_on(
        community, event=event, preset_id="flat_share", locale="fr"
    )
    listings = ListingService(session)
    posted: dict[str, tuple[Registration, UUID]] = {}
    for registration, (name, category, side, text, fields) in zip(people, LISTINGS, strict=False):
        seat = seat_of(session, registration, now)
        choose_what_to_share(
            session, seat, SharingInput(display_name=name, meet_note="Badge vert"), now
        )
        listing = ListingInput(category, side, text, fields)
        posted[name] = (
            registration,
            listings.post(seat_of(session, registration, now), listing, now).id,
        )
    sender, message, recipients = PUSHY
    if sender in posted and all(name in posted for name, _reason in recipients):
        for name, reason in recipients:
            author, listing_id = posted[name]
            asked = seat_of(session, posted[sender][0], now)
            contact = request_contact(session, asked, listing_id, message, now)
            if reason:
                report_message(session, seat_of(session, author, now), contact.id, reason, now)
    return min(len(people), len(LISTINGS))
