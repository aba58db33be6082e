"""Text folded for searching: lower case, without accents, so that "velo" finds "Vélo" and
"cafe" finds "Café" (and the other way round), on SQLite and PostgreSQL alike.

Each event keeps its title and plain-text description folded in ``Event.search_folded``
(maintained by the model on every insert and update, ORM or multi-row Core insert:
events/models/events.py); a search
folds its words the same way and looks for them there. One Python function decides what
"the same letters" means, instead of two databases' collations.
"""

from __future__ import annotations

import unicodedata

#: Letters that Unicode does not decompose but people type without their ligature.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})


def fold(text: str) -> str:
    """``"Œuvres & Café VÉLO"`` → ``"oeuvres & cafe velo"``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def searchable_text(title: str | None, description_text: str | None) -> str:
    """What a search looks into for one event: its title and plain-text description."""
    return fold(f"{title or ''}\n{description_text or ''}")
