"""The time-zone picker of the event and series forms: one list, the zones organisers
here use most first, then every other zone the domain accepts (canonical IANA names, no
legacy aliases such as ``US/Eastern``; events/validation.py). The form offers it as
suggestions of a text field, so typing "montr" or "paris" finds the zone.
"""

from __future__ import annotations

from functools import cache

from events.validation import timezone_choices

#: In this order at the top of the list.
COMMON_ZONES = (
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Zurich",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Africa/Casablanca",
    "Africa/Algiers",
    "Africa/Tunis",
    "Africa/Dakar",
    "Africa/Abidjan",
    "Africa/Kinshasa",
    "Indian/Reunion",
    "Indian/Mayotte",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "America/Toronto",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)


@cache
def zone_options() -> tuple[str, ...]:
    """Every zone the picker offers: exactly those the domain accepts
    (events.validation.timezone_choices), common ones first."""
    accepted = timezone_choices()
    known = set(accepted)
    common = [zone for zone in COMMON_ZONES if zone in known]
    return (*common, *(zone for zone in accepted if zone not in COMMON_ZONES))
