"""Organiser-written Markdown turned into safe HTML, plain text and short excerpts.

Markdown is parsed by markdown-it-py (CommonMark plus tables and strikethrough) with raw
HTML disabled, so ``<script>`` in the source is rendered as text. The resulting HTML is
then run through nh3 with an explicit allow-list as a second line of defence: no
``style``/``class``/``id``/``on*``/``data-*``/``hx-*`` attributes, no active or embedding
elements, links limited to http, https, mailto and relative URLs and always given
``rel="nofollow noopener ugc"``, images limited to absolute http(s) sources.

``markdown_to_text`` and ``excerpt`` return *plain text* (entities decoded, so ``<`` may
appear literally): callers must escape it like any other user text when putting it in HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
        "h2", "h3", "h4", "h5", "h6", "a", "hr", "img",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title"}),
}
LINK_REL = "nofollow noopener ugc"
LINK_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES: frozenset[str] = frozenset({"http", "https"})

_URL_HEAD = re.compile(r"[/?#]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_TRAILING_SPACES = re.compile(r"[ \t]+\n")


def _filter_url(tag: str, attribute: str, value: str) -> str | None:
    """nh3 attribute filter: a stricter URL check on top of nh3's ``url_schemes``.

    Anything with a colon before the first ``/``, ``?`` or ``#`` must carry an allowed
    scheme (this rejects e.g. ``jav%09ascript:``, which nh3 would treat as relative), and
    images must be absolute http(s) URLs.
    """
    if attribute not in {"href", "src"}:
        return value
    head = _URL_HEAD.split(value.strip(), maxsplit=1)[0]
    allowed = IMAGE_SCHEMES if tag == "img" else LINK_SCHEMES
    if ":" not in head:
        return None if tag == "img" else value
    scheme = _SCHEME.match(head)
    return value if scheme and scheme.group(1).lower() in allowed else None


def _demote_h1(state: StateCore) -> None:
    """Core rule: the page owns the ``<h1>``, so ``# Title`` becomes an ``<h2>``."""
    for token in state.tokens:
        if token.type in {"heading_open", "heading_close"} and token.tag == "h1":
            token.tag = "h2"


def _new_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.core.ruler.push("demote_h1", _demote_h1)
    return parser


# --- plain-text rendering helpers -------------------------------------------------------


def _show_link_urls(state: StateCore) -> None:
    """Core rule: insert `` (url)`` after each link whose text is not already its URL."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        href = ""
        label: list[str] = []
        for child in block.children:
            if child.type == "link_open":
                # Show the human-readable form ("café", not "caf%C3%A9").
                href = state.md.normalizeLinkText(str(child.attrGet("href") or ""))
                label = []
            elif child.type in {"text", "code_inline", "image"}:
                label.append(child.content)
            children.append(child)
            if child.type == "link_close" and href:
                text = "".join(label).strip()
                if text not in {href, href.removeprefix("mailto:")}:
                    extra = Token("text", "", 0)
                    extra.content = f" ({href})" if text else href
                    children.append(extra)
                href = ""
        block.children = children


def _mark_list_depth(state: StateCore) -> None:
    """Core rule: record how deeply each list and list item is nested (0 = top level)."""
    depth = 0
    for token in state.tokens:
        if token.type in {"bullet_list_close", "ordered_list_close"}:
            depth -= 1
        if token.type.endswith("_list_open") or token.type.endswith("_list_close"):
            token.meta["depth"] = depth
        elif token.type == "list_item_open":
            token.meta["depth"] = depth - 1
        if token.type in {"bullet_list_open", "ordered_list_open"}:
            depth += 1


_Rule = Callable[[RendererHTML, Sequence[Token], int, OptionsDict, EnvType], str]


def _constant(text: str) -> _Rule:
    def rule(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return text

    return rule


def _paragraph_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return "" if tokens[idx].hidden else "\n\n"


def _list_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # A list nested right after a tight item's text starts on the next line.
    previous = tokens[idx - 1] if idx else None
    nested_in_text = previous is not None and previous.type == "paragraph_close" and previous.hidden
    return "\n" if nested_in_text else ""


def _list_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return "" if tokens[idx].meta.get("depth", 0) else "\n"


def _list_item_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    marker = f"{token.info}{token.markup} " if token.info else "- "
    return "  " * int(token.meta.get("depth", 0)) + marker


def _list_item_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    previous = tokens[idx - 1]
    ends_with_newline = previous.type.endswith("_list_close") or (
        previous.type == "paragraph_close" and not previous.hidden
    )
    return "" if ends_with_newline else "\n"


def _cell_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return "" if tokens[idx - 1].type == "tr_open" else " | "


def _code(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return html.escape(tokens[idx].content, quote=False) + "\n"


def _image_as_alt_text(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    alt = self.renderInlineAsText(tokens[idx].children or [], options, env)
    return html.escape(alt, quote=False)


def _new_text_parser() -> MarkdownIt:
    """A parser whose renderer emits text with line breaks and list markers, not block tags.

    Inline tags (``<em>``, ``<a>``...) are still emitted and removed later by nh3.
    """
    parser = _new_parser()
    parser.core.ruler.push("show_link_urls", _show_link_urls)
    parser.core.ruler.push("mark_list_depth", _mark_list_depth)
    rules: dict[str, _Rule] = {
        "paragraph_close": _paragraph_close,
        "heading_close": _constant("\n\n"),
        "bullet_list_open": _list_open,
        "ordered_list_open": _list_open,
        "bullet_list_close": _list_close,
        "ordered_list_close": _list_close,
        "list_item_open": _list_item_open,
        "list_item_close": _list_item_close,
        "th_open": _cell_open,
        "td_open": _cell_open,
        "tr_close": _constant("\n"),
        "table_close": _constant("\n"),
        "hr": _constant("\n"),
        "fence": _code,
        "code_block": _code,
        "image": _image_as_alt_text,
    }
    silent = (
        *("paragraph_open", "heading_open", "blockquote_open", "blockquote_close"),
        *("table_open", "thead_open", "thead_close", "tbody_open", "tbody_close"),
        *("tr_open", "th_close", "td_close"),
    )
    for name in silent:
        rules[name] = _constant("")
    for name, rule in rules.items():
        parser.add_render_rule(name, rule)
    return parser


_HTML_PARSER = _new_parser()
_TEXT_PARSER = _new_text_parser()


def _sanitise(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_url,
        url_schemes=set(LINK_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    """Render organiser Markdown to sanitised HTML that is safe to insert into a page.

    Raw HTML in ``source`` is not interpreted (it shows up escaped), ``# headings`` become
    ``<h2>``, and the output only contains the tags and attributes of ``ALLOWED_TAGS`` /
    ``ALLOWED_ATTRIBUTES``; every link gets ``rel="nofollow noopener ugc"``.
    """
    return _sanitise(_HTML_PARSER.render(source))


def markdown_to_text(source: str) -> str:
    """Render organiser Markdown to plain text (for iCalendar and meta descriptions).

    Tags are removed and entities decoded; link targets stay visible as ``text (url)``,
    images become their alt text, and paragraphs are separated by one blank line. The
    result is *not* HTML-escaped.
    """
    stripped = nh3.clean(_TEXT_PARSER.render(source), tags=set(), strip_comments=True)
    text = _TRAILING_SPACES.sub("\n", html.unescape(stripped))
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def excerpt(source: str, length: int = 200) -> str:
    """Return a one-line plain-text summary of at most ``length`` characters.

    Whitespace is collapsed to single spaces. Longer texts are cut on a word boundary
    (or mid-word when a single word exceeds ``length``) and end with "…", which counts
    towards ``length``.
    """
    if length < 1:
        raise ValueError("length must be positive")
    text = " ".join(markdown_to_text(source).split())
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    if not text[length - 1].isspace():
        head, space, _ = cut.rpartition(" ")
        if space and head:
            cut = head
    cut = cut.rstrip(" ,;:.-–—") or text[: length - 1]
    return cut + "…"
