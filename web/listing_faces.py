"""The part of an offers & needs listing that is the same for every reader, rendered once.

A board page shows 30 listings to each of 500 attendees; what a listing says (its side,
its author's shown name, its text and fields) depends only on the listing's version, the
category's definition and the language. Each listing's item (``listing_item`` in
offers/_macros.html) is rendered once per (listing, ``updated_at``, shown name, category,
language) with marks where the reader's own parts go, and :func:`listing_items` puts a
page's items together in one pass: the "new" mark, the reasons line, the actions. The
reasons line is the reader's, but it depends only on the reasons (and language):
:func:`listing_reasons` renders each once. The template calls :func:`listing_items` once
per page rather than looping over the listings itself: a Jinja loop over 30 items, with
its macro and filter calls in each, was half of the page's rendering.

The forms are the reader's only through their private token and CSRF field: a listing's
actions (interested, report, block), the post form of each category and the edit form of
each of one's own listings are rendered once with stand-ins for those two
(:func:`listing_items`, :func:`post_form`, :func:`edit_form`), which each page then
replaces with its reader's own. A form showing a reader's input or errors (the one just
sent back with a mistake) is rendered in full by the page instead.

Safety: the parts are Jinja's own autoescaped output (``Markup`` from a macro of the
autoescaping environment), never built from strings here. The stand-ins contain NUL,
which no input can bring into a page (web/forms.py refuses it in every form, and
events/validation.py any control character), so no text inside a part can pose as one.
Bounded: each kind is cleared when full.

ASCII: each part is kept with its other characters written as character references
(``&#8364;`` for the euro sign of a budget): the same page for the browser. Python holds
a text one byte a character while all its characters are Latin-1, and encodes it to
UTF-8 quickly; one euro sign in one budget made it hold the whole page two bytes a
character and encode it slowly (0.26 ms of a board page's 10 ms, against 0.11;
docs/performance.md). Parts hold no ``<script>`` or ``<style>``, the only places a
reference would not read as its character.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import Environment, pass_context, pass_environment
from jinja2.runtime import Context
from markupsafe import Markup, escape

from events.services.exchange_categories import (
    Category,
    FieldKind,
    field_name,
    form_names,
    form_values,
)
from events.services.exchange_matching import ListingView, Scored
from web.i18n import current_locale, gettext

#: Where a kept item leaves room for what is the reader's own: the "new" mark, the reasons
#: line, the actions (see the module docstring; NUL, like the stand-ins below).
NEW_MARK = "\x00new\x00"
WHY_MARK = "\x00why\x00"
ACTIONS_MARK = "\x00actions\x00"

#: Each listing's item, cut where the reader's parts go: (up to the "new" mark, up to the
#: reasons line, up to the actions, the rest).
_ITEMS: dict[tuple[Any, ...], tuple[str, str, str, str]] = {}
FACES_KEPT = 4096


def _ascii(html: str) -> str:
    """``html`` with its non-ASCII characters as character references (see the module
    docstring)."""
    return html.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _macros(env: Environment) -> Any:
    return env.get_template("offers/_macros.html").make_module(
        {"kinds": FieldKind, "field_name": field_name, "csrf_input": Markup(CSRF_MARK)}
    )


def _item(
    env: Environment, listing: ListingView, category: Category | None
) -> tuple[str, str, str, str]:
    """``listing``'s item as ``category`` shows it in the current language, cut at the marks."""
    key = (listing.id, listing.updated_at, listing.display_name, category, current_locale.get())
    item = _ITEMS.get(key)
    if item is None:
        html = _ascii(
            str(_macros(env).listing_item(category, listing, NEW_MARK, WHY_MARK, ACTIONS_MARK))
        )
        start, rest = html.split(NEW_MARK)
        middle, rest = rest.split(WHY_MARK)
        gap, end = rest.split(ACTIONS_MARK)
        item = (start, middle, gap, end)
        if len(_ITEMS) >= FACES_KEPT:
            _ITEMS.clear()
        _ITEMS[key] = item
    return item


@pass_environment
def listing_items(
    env: Environment,
    shown: Iterable[Scored],
    categories: Mapping[str, Category],
    token: str | None = None,
    csrf_input: str = "",
    form: str = "",
    message: str = "",
    error: str = "",
) -> Markup:
    """The items of the listings ``shown``, each with the reader's "new" mark and reasons
    line, and with ``token`` their actions (the reader's token and CSRF field put in). The
    listing that ``form`` names (``contact:<id>``: its message sent back with ``error``)
    shows its message box open with ``message``, rendered in full."""
    badge = _kept(env, ("badge",), lambda macros: macros.new_badge())
    open_form = form.startswith("contact:")
    parts: list[str] = []
    for scored in shown:
        listing = scored.listing
        start, middle, gap, end = _item(env, listing, categories.get(listing.category))
        parts += (start, badge if scored.new else "", middle, listing_reasons(env, scored), gap)
        if token:
            if open_form and form == f"contact:{listing.id}":
                macros = _macros(env)
                parts.append(str(macros.actions_of(listing, TOKEN_MARK, True, message, error)))
            else:
                parts.append(_actions(env, listing))
        parts.append(end)
    html = "".join(parts)
    if token:
        html = html.replace(TOKEN_MARK, str(escape(token))).replace(CSRF_MARK, str(csrf_input))
    return Markup(html)


#: The reasons lines rendered lately, by reasons, score and language: a line depends on the
#: reader only through the reasons their listings give (events/services/exchange_matching.py
#: keeps those per pair of listing versions), and many readers share them.
_REASONS: dict[tuple[Any, ...], Markup] = {}


def listing_reasons(env: Environment, scored: Scored) -> Markup:
    """The line saying why ``scored`` matches, in the current language ("" when none)."""
    if not scored.reasons:
        return Markup("")
    key = (scored.reasons, scored.score, current_locale.get())
    line = _REASONS.get(key)
    if line is None:
        line = Markup(_ascii(_macros(env).reasons_line(scored)))
        if len(_REASONS) >= FACES_KEPT:
            _REASONS.clear()
        _REASONS[key] = line
    return line


# -- the forms, with the reader's token and CSRF field put in ---------------------------------
#: Stand-ins for the reader's private token and CSRF field (see the module docstring).
TOKEN_MARK = "\x00token\x00"
CSRF_MARK = "\x00csrf\x00"
_FORMS: dict[tuple[Any, ...], str] = {}


def _kept(env: Environment, key: tuple[Any, ...], render: Callable[[Any], Markup]) -> str:
    """The part kept under ``key`` in the current language, with its stand-ins (rendered by
    ``render(macros)`` the first time)."""
    key = (*key, current_locale.get())
    part = _FORMS.get(key)
    if part is None:
        part = _ascii(str(render(_macros(env))))
        if len(_FORMS) >= FACES_KEPT:
            _FORMS.clear()
        _FORMS[key] = part
    return part


def _for_reader(context: Context, key: tuple[Any, ...], render: Callable[[Any], Markup]) -> Markup:
    """The part kept under ``key`` with the token and CSRF field of the page's reader."""
    part = _kept(context.environment, key, render)
    token = str(escape(context["token"]))
    return Markup(part.replace(TOKEN_MARK, token).replace(CSRF_MARK, str(context["csrf_input"])))


def _actions(env: Environment, listing: ListingView) -> str:
    """ "I'm interested", report and block for ``listing``, its message box empty, with
    the stand-ins."""
    return _kept(
        env,
        ("actions", listing.id, listing.participant_id),
        lambda macros: macros.actions_of(listing, TOKEN_MARK),
    )


@pass_context
def post_form(context: Context, category: Category) -> Markup:
    """The empty form posting a listing in ``category``."""
    return _for_reader(
        context,
        ("post", category),
        lambda macros: macros.listing_form(
            category,
            {},
            {},
            f"/r/{TOKEN_MARK}/offers/listings",
            f"post-{category.id}",
            gettext("Post"),
        ),
    )


@pass_environment
def listing_details(env: Environment, category: Category | None, listing: ListingView) -> Markup:
    """What ``listing``'s fields say as ``category`` shows them (the reader's own listings:
    the others' are inside their kept items), rendered once per listing version."""
    key = ("details", category, listing.id, listing.updated_at)
    return Markup(_kept(env, key, lambda macros: macros.show_details(category, listing.details)))


@pass_context
def filter_fields(context: Context, category: Category) -> Markup:
    """The filter form's inputs for ``category``'s fields, showing the page's filter
    values and errors (``filter_values``, ``filter_errors``): rendered once per category,
    values and errors typed (many readers filter alike, and each reload is the same)."""
    values: Mapping[str, Any] = context["filter_values"]
    errors: Mapping[str, str] = context["filter_errors"]
    names = form_names(category)
    typed = tuple(repr(values.get(name)) for name in names)
    key = ("filter", category, typed, tuple(errors.get(name) for name in names))
    return Markup(
        _kept(
            context.environment,
            key,
            lambda macros: macros.field_inputs(category, values, errors, "filter"),
        )
    )


@pass_context
def edit_form(context: Context, category: Category, listing: ListingView) -> Markup:
    """The form editing the reader's own ``listing``, filled with what it says now."""
    return _for_reader(
        context,
        ("edit", listing.id, listing.updated_at, category),
        lambda macros: macros.listing_form(
            category,
            dict(form_values(category, listing.details), side=listing.side, text=listing.text),
            {},
            f"/r/{TOKEN_MARK}/offers/listings/edit",
            f"edit-{listing.id}",
            gettext("Save"),
            listing.id,
        ),
    )
