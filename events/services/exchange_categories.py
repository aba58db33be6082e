"""The categories of an offers & needs board, their structured fields, and the presets.

A board's categories live on it (``ExchangeBoard.categories``, a JSON list in display
order); each is a dict

    {"id": "room", "label": "Room", "offer": "Room offered", "need": "Room sought",
     "fields": [{"id": "area", "kind": "area", "label": "Area", "options": []}, ...],
     "removed": false}

A field is one of :class:`FieldKind`: free ``text`` (shown, never matched), an ``area``
(free text plus an optional postcode), a ``range`` of whole numbers (a budget), a ``date``
window (a move-in date, availability) or ``tags`` (skills, languages; the organiser may
suggest some). A listing stores its values by field id (:func:`clean_details`):

    text  "Quiet, non-smoker"
    area  {"text": "Belleville", "postcode": "75020"}
    range {"min": 500, "max": 700}        (either may be None)
    date  {"from": "2027-04-01", "to": null}
    tags  ["Python", "design"]

Editing categories never breaks listings: ids are never reused or changed, and a category
that listings use is only marked ``removed`` (no new listings; the old ones still read).
The presets (:data:`PRESETS`) ship in English and French; applying one writes its
categories in the organiser's language, to edit like any other.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from events.errors import ValidationFailed
from events.validation import FieldErrors, clean_text

LABEL_MAX_LENGTH = 80
OPTION_MAX_LENGTH = 40
MAX_OPTIONS = 30
MAX_FIELDS = 6
#: Categories offered at once (removed ones kept for their listings do not count).
MAX_CATEGORIES = 12
TEXT_MAX_LENGTH = 200
AREA_MAX_LENGTH = 100
TAG_MAX_LENGTH = 40
MAX_TAGS = 12
#: The largest number a range takes (a budget in euros is far below).
RANGE_MAX = 10_000_000

_ID = re.compile(r"^[a-z0-9_]{1,16}$")
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,9}$")


class FieldKind(enum.StrEnum):
    TEXT = "text"
    AREA = "area"
    RANGE = "range"
    DATE = "date"
    TAGS = "tags"


@dataclass(frozen=True)
class CategoryField:
    id: str
    kind: FieldKind
    label: str
    #: Suggested tags (``tags`` fields only).
    options: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "label": self.label,
            "options": list(self.options),
        }

    @classmethod
    def from_json(cls, data: Any) -> CategoryField | None:
        if not isinstance(data, Mapping):
            return None
        fid, label = data.get("id"), data.get("label")
        try:
            kind = FieldKind(str(data.get("kind")))
        except ValueError:
            return None
        if not isinstance(fid, str) or not _ID.match(fid) or not isinstance(label, str):
            return None
        options = data.get("options") or []
        return cls(
            id=fid,
            kind=kind,
            label=label,
            options=tuple(o for o in options if isinstance(o, str))
            if kind is FieldKind.TAGS
            else (),
        )


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    #: What an offer and a need of this category are called ("Room offered").
    offer: str
    need: str
    fields: tuple[CategoryField, ...] = ()
    removed: bool = False
    # A category keys the memos of every listing shown (events/services/exchange_matching.py,
    # web/listing_faces.py): its hash is worked out once, not on each look-up.
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        values = (self.id, self.label, self.offer, self.need, self.fields, self.removed)
        object.__setattr__(self, "_hash", hash(values))

    def __hash__(self) -> int:
        return self._hash

    def side_label(self, side: str) -> str:
        return self.offer if side == "offer" else self.need

    def field(self, field_id: str) -> CategoryField | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "offer": self.offer,
            "need": self.need,
            "fields": [f.to_json() for f in self.fields],
            "removed": self.removed,
        }

    @classmethod
    def from_json(cls, data: Any) -> Category | None:
        """The category stored as ``data``; None for anything malformed (never raises)."""
        if not isinstance(data, Mapping):
            return None
        cid = data.get("id")
        label, offer, need = data.get("label"), data.get("offer"), data.get("need")
        if not isinstance(cid, str) or not _ID.match(cid):
            return None
        if not all(isinstance(value, str) for value in (label, offer, need)):
            return None
        parsed = (CategoryField.from_json(item) for item in data.get("fields") or [])
        return cls(
            id=cid,
            label=str(label),
            offer=str(offer),
            need=str(need),
            fields=tuple(f for f in parsed if f is not None),
            removed=bool(data.get("removed")),
        )


#: The categories read from each stored form lately (a board's are read on each of its
#: pages): bounded, cleared when full.
_PARSED: dict[str, tuple[Category, ...]] = {}
PARSED_KEPT = 1024


def all_categories(stored: Iterable[Any] | None) -> list[Category]:
    """Every stored category in order, removed ones included."""
    items = list(stored or [])
    key = repr(items)
    found = _PARSED.get(key)
    if found is None:
        parsed = (Category.from_json(item) for item in items)
        found = tuple(category for category in parsed if category is not None)
        if len(_PARSED) >= PARSED_KEPT:
            _PARSED.clear()
        _PARSED[key] = found
    return list(found)


def open_categories(stored: Iterable[Any] | None) -> list[Category]:
    """The categories new listings may use, in order."""
    return [category for category in all_categories(stored) if not category.removed]


def new_id(taken: Iterable[str] = ()) -> str:
    used = set(taken)
    while True:
        candidate = secrets.token_hex(3)
        if candidate not in used:
            return candidate


# -- presets ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    id: str
    #: Its name and its categories per language (``en``, ``fr``).
    names: Mapping[str, str]
    categories: Mapping[str, tuple[Category, ...]] = field(default_factory=dict)

    def name(self, locale: str) -> str:
        return self.names.get(locale[:2], self.names["en"])

    def categories_in(self, locale: str) -> tuple[Category, ...]:
        return self.categories.get(locale[:2], self.categories["en"])


def _f(fid: str, kind: FieldKind, label: str, *options: str) -> CategoryField:
    return CategoryField(fid, kind, label, tuple(options))


FLAT_SHARE = Preset(
    id="flat_share",
    names={"en": "Flat-share evening", "fr": "Soirée colocation"},
    categories={
        "en": (
            Category(
                "room",
                "Room",
                "Room offered",
                "Room sought",
                (
                    _f("area", FieldKind.AREA, "Area"),
                    _f("budget", FieldKind.RANGE, "Budget (€ per month)"),
                    _f("move_in", FieldKind.DATE, "Move-in date"),
                    _f(
                        "languages",
                        FieldKind.TAGS,
                        "Languages",
                        "French",
                        "English",
                        "Spanish",
                        "Arabic",
                        "German",
                        "Italian",
                        "Portuguese",
                    ),
                ),
            ),
            Category(
                "help",
                "Help and things",
                "I can help with",
                "I need help with",
                (_f("what", FieldKind.TAGS, "What", "Moving", "Furniture", "Guarantor advice"),),
            ),
        ),
        "fr": (
            Category(
                "room",
                "Chambre",
                "Chambre proposée",
                "Chambre recherchée",
                (
                    _f("area", FieldKind.AREA, "Quartier"),
                    _f("budget", FieldKind.RANGE, "Budget (€ par mois)"),
                    _f("move_in", FieldKind.DATE, "Date d'emménagement"),
                    _f(
                        "languages",
                        FieldKind.TAGS,
                        "Langues",
                        "français",
                        "anglais",
                        "espagnol",
                        "arabe",
                        "allemand",
                        "italien",
                        "portugais",
                    ),
                ),
            ),
            Category(
                "help",
                "Coups de main",
                "Je peux aider pour",
                "J'ai besoin d'aide pour",
                (_f("what", FieldKind.TAGS, "Quoi", "Déménagement", "Meubles", "Garant"),),
            ),
        ),
    },
)

PROJECTS = Preset(
    id="projects",
    names={"en": "Project evening", "fr": "Soirée projets"},
    categories={
        "en": (
            Category(
                "skills",
                "Skills",
                "Skills offered",
                "Skills sought",
                (
                    _f(
                        "skills",
                        FieldKind.TAGS,
                        "Skills",
                        "design",
                        "development",
                        "communication",
                        "legal",
                        "fundraising",
                        "translation",
                        "photo and video",
                        "accounting",
                        "DIY",
                    ),
                    _f("when", FieldKind.DATE, "Available"),
                    _f("area", FieldKind.AREA, "Where"),
                ),
            ),
            Category(
                "space",
                "Space and equipment",
                "Space or equipment offered",
                "Space or equipment sought",
                (
                    _f("what", FieldKind.TAGS, "What", "room", "workshop", "tools", "storage"),
                    _f("area", FieldKind.AREA, "Where"),
                    _f("when", FieldKind.DATE, "When"),
                ),
            ),
        ),
        "fr": (
            Category(
                "skills",
                "Compétences",
                "Compétences proposées",
                "Compétences recherchées",
                (
                    _f(
                        "skills",
                        FieldKind.TAGS,
                        "Compétences",
                        "design",
                        "développement",
                        "communication",
                        "juridique",
                        "financement",
                        "traduction",
                        "photo et vidéo",
                        "comptabilité",
                        "bricolage",
                    ),
                    _f("when", FieldKind.DATE, "Disponible"),
                    _f("area", FieldKind.AREA, "Où"),
                ),
            ),
            Category(
                "space",
                "Lieux et matériel",
                "Lieu ou matériel proposé",
                "Lieu ou matériel recherché",
                (
                    _f("what", FieldKind.TAGS, "Quoi", "salle", "atelier", "outils", "stockage"),
                    _f("area", FieldKind.AREA, "Où"),
                    _f("when", FieldKind.DATE, "Quand"),
                ),
            ),
        ),
    },
)

PRESETS: dict[str, Preset] = {preset.id: preset for preset in (FLAT_SHARE, PROJECTS)}


def preset(preset_id: str | None) -> Preset:
    found = PRESETS.get((preset_id or "").strip())
    if found is None:
        raise ValidationFailed({"preset": "invalid_choice"})
    return found


# -- the organiser's categories --------------------------------------------------------
@dataclass
class FieldInput:
    """One row of the category editor: strings; ``options`` one per line or comma."""

    kind: str = ""
    label: str = ""
    options: str = ""


@dataclass
class CategoryInput:
    label: str = ""
    offer: str = ""
    need: str = ""
    fields: list[FieldInput] = field(default_factory=list)


def _options(raw: str) -> list[str]:
    parts = re.split(r"[\n,;]", (raw or "").replace("\r", "\n"))
    seen: set[str] = set()
    options: list[str] = []
    for part in parts:
        value = part.strip()
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            options.append(value)
    return options


def clean_category(
    data: CategoryInput, *, category_id: str, previous: Category | None = None
) -> Category:
    """A category as the organiser typed it; ``ValidationFailed`` with codes under
    ``label``, ``offer``, ``need`` and ``field_<n>_kind|label|options`` (``n`` from 0).
    A field row with neither kind nor label is skipped; a kept field keeps its id when
    it keeps its position and kind (listings' values stay attached)."""
    errors = FieldErrors()
    label = errors.check(clean_text, "label", data.label, max_length=LABEL_MAX_LENGTH)
    offer = errors.check(clean_text, "offer", data.offer, max_length=LABEL_MAX_LENGTH)
    need = errors.check(clean_text, "need", data.need, max_length=LABEL_MAX_LENGTH)
    fields: list[CategoryField] = []
    old = list(previous.fields) if previous else []
    rows = [row for row in data.fields if (row.kind or "").strip() or (row.label or "").strip()]
    if len(rows) > MAX_FIELDS:
        errors.add("fields", "too_many")
    for n, row in enumerate(data.fields):
        if not ((row.kind or "").strip() or (row.label or "").strip()):
            continue
        prefix = f"field_{n}_"
        kind: FieldKind | None = None
        try:
            kind = FieldKind((row.kind or "").strip())
        except ValueError:
            errors.add(prefix + "kind", "invalid_choice")
        field_label = errors.check(
            clean_text, prefix + "label", row.label, max_length=LABEL_MAX_LENGTH
        )
        options: list[str] = []
        if kind is FieldKind.TAGS:
            options = _options(row.options)
            if len(options) > MAX_OPTIONS:
                errors.add(prefix + "options", "too_many")
            for option in options:
                errors.check(clean_text, prefix + "options", option, max_length=OPTION_MAX_LENGTH)
        if kind is None or field_label is None:
            continue
        kept = old[n] if n < len(old) and old[n].kind is kind else None
        taken = [f.id for f in fields] + [f.id for f in old]
        fields.append(
            CategoryField(
                id=kept.id if kept else new_id(taken),
                kind=kind,
                label=field_label,
                options=tuple(options),
            )
        )
    errors.raise_if_any()
    return Category(
        id=category_id, label=label, offer=offer, need=need, fields=tuple(fields[:MAX_FIELDS])
    )


# -- a listing's values ----------------------------------------------------------------
def field_name(category_field: CategoryField, part: str = "") -> str:
    """The form field of one part of a field (``f_budget_min``)."""
    return f"f_{category_field.id}{'_' + part if part else ''}"


#: The parts a field's form input has besides its own name, by kind (``f_budget_min``).
_PARTS = {
    FieldKind.AREA: ("postcode",),
    FieldKind.RANGE: ("min", "max"),
    FieldKind.DATE: ("from", "to"),
}


def form_names(category: Category) -> tuple[str, ...]:
    """Every form field a form of ``category``'s fields may send."""
    return tuple(
        name
        for item in category.fields
        for name in (
            field_name(item),
            *(field_name(item, part) for part in _PARTS.get(item.kind, ())),
        )
    )


def _one(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def _many(raw: Mapping[str, Any], name: str) -> list[str]:
    value = raw.get(name, [])
    values = value if isinstance(value, list) else [value]
    return [item for item in values if isinstance(item, str)]


def _number(errors: FieldErrors, name: str, value: str) -> int | None:
    text = value.strip().replace(" ", "").replace("\u202f", "")
    if not text:
        return None
    if not text.isdigit():
        errors.add(name, "invalid_number")
        return None
    number = int(text)
    if number > RANGE_MAX:
        errors.add(name, "out_of_range")
        return None
    return number


def _date(errors: FieldErrors, name: str, value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        errors.add(name, "invalid_date")
        return None
    if not 2000 <= parsed.year <= 2200:
        errors.add(name, "invalid_date")
        return None
    return parsed.isoformat()


def clean_tags(name: str, values: Iterable[str]) -> list[str]:
    """Tags typed (comma-separated) or ticked: trimmed, deduplicated ignoring case."""
    tags: list[str] = []
    seen: set[str] = set()
    for value in values:
        for part in value.split(","):
            tag = clean_text(name, part, max_length=TAG_MAX_LENGTH, required=False)
            if tag and tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationFailed({name: "too_many"})
    return tags


def clean_details(category: Category, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``category``'s fields from the form ``raw`` (field names from
    :func:`field_name`); every field is optional. ``ValidationFailed`` names the form
    field: ``too_long``, ``invalid_characters``, ``invalid_number``, ``out_of_range``,
    ``invalid_date``, ``range_reversed``, ``too_many``."""
    errors = FieldErrors()
    details: dict[str, Any] = {}
    for item in category.fields:
        name = field_name(item)
        if item.kind is FieldKind.TEXT:
            value = errors.check(
                clean_text, name, _one(raw, name), max_length=TEXT_MAX_LENGTH, required=False
            )
            if value:
                details[item.id] = value
        elif item.kind is FieldKind.AREA:
            area = errors.check(
                clean_text, name, _one(raw, name), max_length=AREA_MAX_LENGTH, required=False
            )
            postcode = _one(raw, field_name(item, "postcode")).strip().upper()
            if postcode and not _POSTCODE.match(postcode):
                errors.add(field_name(item, "postcode"), "invalid_postcode")
                postcode = ""
            if area or postcode:
                details[item.id] = {"text": area or "", "postcode": postcode}
        elif item.kind is FieldKind.RANGE:
            low_name, high_name = field_name(item, "min"), field_name(item, "max")
            low = _number(errors, low_name, _one(raw, low_name))
            high = _number(errors, high_name, _one(raw, high_name))
            if low is not None and high is not None and low > high:
                errors.add(high_name, "range_reversed")
            elif low is not None or high is not None:
                details[item.id] = {"min": low, "max": high}
        elif item.kind is FieldKind.DATE:
            start_name, end_name = field_name(item, "from"), field_name(item, "to")
            start = _date(errors, start_name, _one(raw, start_name))
            end = _date(errors, end_name, _one(raw, end_name))
            if start and end and start > end:
                errors.add(end_name, "range_reversed")
            elif start or end:
                details[item.id] = {"from": start, "to": end}
        else:
            tags = errors.check(clean_tags, name, _many(raw, name))
            if tags:
                details[item.id] = tags
    errors.raise_if_any()
    return details


def form_values(category: Category, details: Mapping[str, Any]) -> dict[str, Any]:
    """The form fields that show ``details`` again (the edit form of a listing)."""
    values: dict[str, Any] = {}
    for item in category.fields:
        value = details.get(item.id)
        if value is None:
            continue
        name = field_name(item)
        if item.kind is FieldKind.TEXT:
            values[name] = value
        elif item.kind is FieldKind.AREA:
            values[name] = value.get("text", "")
            values[field_name(item, "postcode")] = value.get("postcode", "")
        elif item.kind is FieldKind.RANGE:
            low, high = value.get("min"), value.get("max")
            values[field_name(item, "min")] = "" if low is None else str(low)
            values[field_name(item, "max")] = "" if high is None else str(high)
        elif item.kind is FieldKind.DATE:
            values[field_name(item, "from")] = value.get("from") or ""
            values[field_name(item, "to")] = value.get("to") or ""
        else:
            values[name] = list(value)
    return values
