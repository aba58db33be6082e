"""The time-zone picker of the event and series forms: one list, the zones organisers
here use most first, then every other IANA zone (canonical names only, no legacy aliases
such as ``US/Eastern``). The form offers it as suggestions of a text field, so typing
"montr" or "paris" finds the zone; the domain checks the value (events/validation.py).
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

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
_REGIONS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


@cache
def zone_options() -> tuple[str, ...]:
    """Every zone the picker offers, common ones first."""
    others = sorted(
        zone
        for zone in available_timezones()
        if zone.startswith(_REGIONS) and zone not in COMMON_ZONES
    )
    return (*COMMON_ZONES, *others)
