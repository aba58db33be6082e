"""Every user-facing string has a French translation, and the catalogue is current."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web.i18n import translations

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "web" / "locale" / "fr" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def source_messages() -> set[str | tuple[str, str]]:
    method_map = [
        ("events/**.py", "python"),
        ("web/**.py", "python"),
        ("web/templates/**.html", "jinja2"),
        ("events/mail/templates/**.html", "jinja2"),
        ("events/mail/templates/**.txt", "jinja2"),
    ]
    jinja = {"extensions": "jinja2.ext.i18n"}
    options = {pattern: jinja for pattern, method in method_map if method == "jinja2"}
    found: set[str | tuple[str, str]] = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map=method_map, options_map=options, keywords=KEYWORDS
    ):
        found.add(tuple(message) if isinstance(message, tuple) else message)
    return found


def test_every_message_in_the_code_has_a_french_translation() -> None:
    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle)

    def translated(message: str | tuple[str, str]) -> bool:
        singular = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(singular)
        if entry is None or entry.fuzzy:
            return False
        if isinstance(message, tuple):  # plural forms must be a plural entry, all filled
            return entry.pluralizable and all(entry.string)
        return bool(entry.string)

    missing = sorted(str(message) for message in source_messages() if not translated(message))
    assert missing == [], "run `make messages` and translate:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle)
    for entry in catalog:
        if not entry.id or not entry.string:
            continue
        placeholders = re.compile(r"%\(\w+\)s")
        if isinstance(entry.id, tuple):
            # French's first form also serves for one, where the number may go unsaid; the
            # other forms say everything the English plural says, and nothing it doesn't.
            singular, plural = entry.id
            known = set(placeholders.findall(singular)) | set(placeholders.findall(plural))
            first, *others = entry.string
            assert set(placeholders.findall(first)) <= known, singular
            for text in others:
                assert sorted(placeholders.findall(text)) == sorted(placeholders.findall(plural)), (
                    plural
                )
            continue
        wanted = sorted(placeholders.findall(entry.id))
        assert sorted(placeholders.findall(entry.string)) == wanted, entry.id


def test_french_plurals_are_used_at_runtime() -> None:
    french = translations("fr")
    assert french.ngettext("%(num)d event", "%(num)d events", 1) == "%(num)d événement"
    assert french.ngettext("%(num)d event", "%(num)d events", 3) == "%(num)d événements"


def test_one_word_for_the_waiting_list() -> None:
    """Issue 14, item 11: "waiting list" in English and "liste d’attente" in French, never
    "waitlist" or another word beside them (the mail queue is a "file d’attente", and the
    word is kept for it alone)."""
    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle)
    for entry in catalog:
        if not entry.id:
            continue
        sources = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for source in sources:
            assert not re.search(r"wait-?list", source, re.I), source
        if any(re.search(r"waiting list", source, re.I) for source in sources):
            assert all("liste d’attente" in text.lower() for text in strings), sources
