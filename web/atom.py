"""Writing Atom (RFC 4287) documents with the standard library's ElementTree: element
text is escaped by the serializer, and characters XML 1.0 cannot carry are dropped, so
whatever people typed (titles, descriptions) is safe in a feed. Used by the calendar feeds
(web/controllers/feeds.py) and the calls for proposals (web/controllers/proposals.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree import ElementTree

ATOM_MEDIA_TYPE = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sub(
    parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str
) -> ElementTree.Element:
    """An Atom child element of ``parent`` with ``text`` (cleaned) and ``attributes``."""
    element = ElementTree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
    if text is not None:
        element.text = xml_text(text)
    return element


def new_feed(language: str) -> ElementTree.Element:
    """An empty ``<feed>`` in ``language``."""
    ElementTree.register_namespace("", ATOM_NS)
    feed = ElementTree.Element(f"{{{ATOM_NS}}}feed")
    feed.set(f"{{{XML_NS}}}lang", language)
    return feed


def serialize(feed: ElementTree.Element) -> bytes:
    document: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document
