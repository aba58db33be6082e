"""The part of an offers & needs listing that is the same for every reader, rendered once.

A board page shows 30 listings to each of 500 attendees; what a listing says (its side,
its author's shown name, its text and fields) depends only on the listing's version, the
category's definition and the language. :func:`listing_face` renders it once per
(listing, ``updated_at``, shown name, category, language) with the macros of
offers/_macros.html, and the page adds what is the reader's own around it (the "new" mark,
the forms with their token and CSRF field). The reasons line is the reader's, but it
depends only on the reasons (and language): :func:`listing_reasons` renders each once.

Safety: the parts are Jinja's own autoescaped output (``Markup`` from a macro of the
autoescaping environment), never built from strings here. Bounded: cleared when full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, pass_environment
from markupsafe import Markup

from events.services.exchange_categories import Category, FieldKind
from events.services.exchange_matching import ListingView, Scored
from web.i18n import current_locale


@dataclass(frozen=True)
class Face:
    #: Inside the listing's head line: its side and its author.
    head: Markup
    #: After the head line: the text and the fields.
    body: Markup


_FACES: dict[tuple[Any, ...], Face] = {}
FACES_KEPT = 4096


def _macros(env: Environment) -> Any:
    return env.get_template("offers/_macros.html").make_module({"kinds": FieldKind})


@pass_environment
def listing_face(env: Environment, listing: ListingView, category: Category | None) -> Face:
    """``listing``'s face as ``category`` shows it in the current language (see the module
    docstring)."""
    key = (listing.id, listing.updated_at, listing.display_name, category, current_locale.get())
    face = _FACES.get(key)
    if face is None:
        macros = _macros(env)
        face = Face(
            head=macros.listing_head(category, listing), body=macros.listing_body(category, listing)
        )
        if len(_FACES) >= FACES_KEPT:
            _FACES.clear()
        _FACES[key] = face
    return face


#: The reasons lines rendered lately, by reasons, score and language: a line depends on the
#: reader only through the reasons their listings give (events/services/exchange_matching.py
#: keeps those per pair of listing versions), and many readers share them.
_REASONS: dict[tuple[Any, ...], Markup] = {}


@pass_environment
def listing_reasons(env: Environment, scored: Scored) -> Markup:
    """The line saying why ``scored`` matches, in the current language ("" when none)."""
    if not scored.reasons:
        return Markup("")
    key = (scored.reasons, scored.score, current_locale.get())
    line = _REASONS.get(key)
    if line is None:
        line = _macros(env).reasons_line(scored)
        if len(_REASONS) >= FACES_KEPT:
            _REASONS.clear()
        _REASONS[key] = line
    return line
