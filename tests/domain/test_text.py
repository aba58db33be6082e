from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.text import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    excerpt,
    markdown_to_text,
    render_markdown,
)

# Module-level so other test modules (templates, iCalendar, feeds...) can reuse the corpus.
XSS_PAYLOADS: list[str] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<a href="#" hx-get="/x" hx-trigger="load">x</a>',
    '<div data-hx-post="/x">',
    '<a href="x" onclick="alert(1)">',
    "![x](javascript:alert(1))",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<javascript:alert(1)>",
    "<style>body{}</style>",
    "<form action=x><input></form>",
    "<object data=x>",
    "<embed src=x>",
    "<base href=//evil>",
    "<meta http-equiv=refresh content=0;url=//evil>",
    '"><script>alert(1)</script>',
    '<img src="x" style="x">',
    '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    "[x](https://ok.example 'a' onmouseover='alert(1)')",
    "[x](vbscript:msgbox(1))",
    "[x](<javascript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](java%0ascript:alert(1))",
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    '![x" onerror="alert(1)](https://img.example/x.png)',
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    '<http://ok.example/"onmouseover="alert(1)>',
    "`<script>alert(1)</script>`",
    "<!--<script>alert(1)</script>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><script>alert(1)</script></template>",
    '<button hx-on:click="alert(1)" hx-post="/x">go</button>',
    '<a href="javascript&colon;alert(1)">x</a>',
    "```html\n<script>alert(1)</script>\n```",
    "    <iframe src=//evil></iframe>",
]

DANGEROUS_TAGS = {"script", "iframe", "svg", "math", "object", "embed", "style", "form", "input"}
DANGEROUS_TAGS |= {"base", "meta", "link", "frame", "frameset", "template", "noscript"}
DANGEROUS_SCHEMES = re.compile(r"(javascript|data|vbscript):", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son\w+\s*=", re.IGNORECASE)
HTMX_ATTRIBUTE = re.compile(r"\s(data-)?hx-", re.IGNORECASE)
QUOTED_VALUE = re.compile(r'"[^"]*"')
DANGEROUS_TAG = re.compile(r"<\s*/?\s*(" + "|".join(sorted(DANGEROUS_TAGS)) + r")\b", re.I)


class _Tags(HTMLParser):
    """Collects every start tag: (name, attributes, raw markup)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        self.tags.append((tag, {name: value or "" for name, value in attrs}, raw))

    handle_startendtag = handle_starttag


def parse_tags(fragment: str) -> list[tuple[str, dict[str, str], str]]:
    parser = _Tags()
    parser.feed(fragment)
    parser.close()
    return parser.tags


def links_and_images(fragment: str) -> list[tuple[str, dict[str, str]]]:
    return [(tag, attrs) for tag, attrs, _ in parse_tags(fragment) if tag in {"a", "img"}]


def assert_safe(output: str) -> None:
    """The invariants every rendered fragment must satisfy, whatever the input."""
    assert "<script" not in output.lower()
    assert not DANGEROUS_TAG.search(output)
    for tag, attributes, raw in parse_tags(output):
        assert tag in ALLOWED_TAGS, raw
        allowed = ALLOWED_ATTRIBUTES.get(tag, frozenset()) | ({"rel"} if tag == "a" else set())
        assert set(attributes) <= allowed, raw
        # Regexes on each tag's markup minus its (quoted, &quot;-escaped) attribute values:
        # escaped text such as "&lt;img onerror=" or title="a&quot; onclick=" is harmless.
        names_only = QUOTED_VALUE.sub('""', raw)
        assert not EVENT_HANDLER.search(names_only), raw
        assert not HTMX_ATTRIBUTE.search(names_only), raw
        assert not re.search(r"\s(style|class|id)\s*=", names_only, re.I), raw
        for name in ("href", "src"):
            if name in attributes:
                squashed = re.sub(r"[\s\x00-\x1f]", "", unquote(attributes[name]))
                assert not DANGEROUS_SCHEMES.search(squashed), raw
        if tag == "a":
            assert attributes.get("rel") == "nofollow noopener ugc", raw


def test_the_corpus_is_big_enough() -> None:
    assert len(XSS_PAYLOADS) >= 25
    assert len(set(XSS_PAYLOADS)) == len(XSS_PAYLOADS)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_is_neutralised(payload: str) -> None:
    assert_safe(render_markdown(payload))


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_is_neutralised_inside_a_document(payload: str) -> None:
    document = f"# Meetup\n\nIntro *text*.\n\n- item {payload}\n\n> {payload}\n\n{payload}\n"
    assert_safe(render_markdown(document))


def test_raw_html_is_shown_escaped_rather_than_dropped() -> None:
    assert render_markdown("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_quote_breaking_link_title_stays_inside_the_attribute() -> None:
    [(tag, attributes)] = links_and_images(render_markdown(XSS_PAYLOADS[24]))
    assert tag == "a"
    assert attributes == {
        "href": "https://ok.example",
        "title": 'a" onmouseover="alert(1)',
        "rel": "nofollow noopener ugc",
    }


def test_headings_h1_becomes_h2() -> None:
    output = render_markdown("# One\n\n## Two\n\n###### Six")
    assert output == "<h2>One</h2>\n<h2>Two</h2>\n<h6>Six</h6>\n"


def test_emphasis_strong_strikethrough_and_inline_code() -> None:
    output = render_markdown("*em* **strong** ~~gone~~ `a<b`")
    assert output == "<p><em>em</em> <strong>strong</strong> <s>gone</s> <code>a&lt;b</code></p>\n"


def test_lists_and_blockquotes() -> None:
    output = render_markdown("- a\n- b\n\n1. one\n2. two\n\n> said\n\n---")
    assert "<ul>\n<li>a</li>\n<li>b</li>\n</ul>" in output
    assert "<ol>\n<li>one</li>\n<li>two</li>\n</ol>" in output
    assert "<blockquote>\n<p>said</p>\n</blockquote>" in output
    assert "<hr>" in output


def test_tables_render_without_style_attributes() -> None:
    output = render_markdown("| Name | Room |\n|:-----|-----:|\n| Ada | B12 |")
    assert "<table>" in output and "<thead>" in output and "<tbody>" in output
    assert "<th>Name</th>" in output and "<td>B12</td>" in output
    assert "style" not in output


def test_links_keep_https_href_and_get_a_forced_rel() -> None:
    output = render_markdown('[site](https://example.org/a?b=1&c=2 "Home")')
    assert output == (
        '<p><a href="https://example.org/a?b=1&amp;c=2" title="Home" '
        'rel="nofollow noopener ugc">site</a></p>\n'
    )


@pytest.mark.parametrize(
    ("source", "href"),
    [
        ("<https://example.org>", "https://example.org"),
        ("<ada@example.org>", "mailto:ada@example.org"),
        ("[next](/events/42#venue)", "/events/42#venue"),
        ("[http](http://example.org)", "http://example.org"),
    ],
)
def test_safe_link_targets_are_kept(source: str, href: str) -> None:
    [(_, attributes)] = links_and_images(render_markdown(source))
    assert attributes["href"] == href
    assert attributes["rel"] == "nofollow noopener ugc"


def test_images_only_keep_absolute_http_sources() -> None:
    [(tag, attributes)] = links_and_images(render_markdown("![Map](https://img.example/map.png)"))
    assert (tag, attributes) == ("img", {"src": "https://img.example/map.png", "alt": "Map"})
    for source in ("![a](relative.png)", "![a](//img.example/x.png)", "![a](ftp://x/y.png)"):
        assert all("src" not in attrs for _, attrs in links_and_images(render_markdown(source)))


def test_code_blocks_keep_angle_brackets_escaped() -> None:
    output = render_markdown('```python\nif a < b and c > d: print("<b>")\n```')
    assert output == ('<pre><code>if a &lt; b and c &gt; d: print("&lt;b&gt;")\n</code></pre>\n')


def test_unicode_and_emoji_round_trip() -> None:
    source = "Rencontre à Paris — café, 東京, مرحبا, 🎉👩🏽‍💻"
    assert render_markdown(source) == f"<p>{source}</p>\n"
    assert markdown_to_text(source) == source


def test_large_input_renders_whole() -> None:
    # Its speed is checked by the growth test below (a ratio, not a wall-clock bound).
    block = (
        "## Session\n\nSome *text* with a [link](https://example.org/x), `code` and "
        "<b>raw</b> 🎉.\n\n- a\n- b\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    )
    source = (block * (100_000 // len(block) + 1))[:100_000]
    output = render_markdown(source)
    text = markdown_to_text(source)
    assert output.count("<h2>") > 500 and "Session" in text


def _python_calls(source: str) -> int:
    """How many Python function calls rendering ``source`` makes: the parser's work,
    counted rather than timed, so a busy machine cannot change the answer."""
    calls = 0

    def count(_frame: object, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        output = render_markdown(source)
    finally:
        sys.setprofile(None)
    assert_safe(output)
    return calls


@pytest.mark.parametrize("unit", ["[", "*a", "> ", "<"])
def test_pathological_input_grows_linearly(unit: str) -> None:
    # Ten times the input costs about ten times the work; a quadratic parser would make a
    # hundred times the calls (the bound leaves room for constant overheads only).
    small = _python_calls(unit * 2_000)
    large = _python_calls(unit * 20_000)
    assert large < 20 * small


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from([*XSS_PAYLOADS, "*", "_", "[", "]", "(", ")", "<", ">", "\n", "`", " "])
        | st.text(max_size=20),
        max_size=12,
    )
)
def test_any_mix_of_markdown_and_payloads_is_safe(parts: list[str]) -> None:
    assert_safe(render_markdown("".join(parts)))


def test_empty_input() -> None:
    assert render_markdown("") == ""
    assert markdown_to_text("") == ""
    assert excerpt("") == ""


# --- markdown_to_text ------------------------------------------------------------------


def test_text_keeps_link_urls_visible() -> None:
    assert markdown_to_text("See [site](https://x.org) now.") == "See site (https://x.org) now."


def test_text_does_not_repeat_autolink_urls() -> None:
    assert markdown_to_text("<https://x.org> or <ada@example.org>") == (
        "https://x.org or ada@example.org"
    )


def test_text_shows_readable_non_ascii_urls_once() -> None:
    assert markdown_to_text("<https://x.org/café>") == "https://x.org/café"
    assert markdown_to_text("[menu](https://x.org/café)") == "menu (https://x.org/café)"


def test_text_unescapes_entities_and_has_no_tags() -> None:
    text = markdown_to_text("# Fish &amp; chips\n\n**Bold** <i>raw</i> &lt;3 &eacute; `a<b`")
    assert text == "Fish & chips\n\nBold <i>raw</i> <3 é a<b"
    assert not re.search(r"</?(p|h\d|strong|em|code|a)\b", text)


def test_text_has_blank_lines_between_blocks_and_list_markers() -> None:
    source = "Intro\n\n\n\n- one\n- two\n  1. deep\n\n![Map](https://i.example/m.png)\n\n---\n\nEnd"
    assert markdown_to_text(source) == "Intro\n\n- one\n- two\n  1. deep\n\nMap\n\nEnd"


def test_text_renders_tables_and_code() -> None:
    source = "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx < y\n```"
    assert markdown_to_text(source) == "a | b\n1 | 2\n\nx < y"


def test_text_never_contains_a_dangerous_link_as_a_link() -> None:
    # Rejected links stay literal text; the URL is not presented as a target.
    assert markdown_to_text("[x](javascript:alert(1))") == "[x](javascript:alert(1))"


# --- excerpt ---------------------------------------------------------------------------


def test_excerpt_returns_short_text_unchanged_on_one_line() -> None:
    assert excerpt("# Hello\n\nWorld  *wide*") == "Hello World wide"


def test_excerpt_cuts_on_a_word_boundary() -> None:
    source = "The quick brown fox jumps over the lazy dog"
    assert excerpt(source, 20) == "The quick brown fox…"
    assert excerpt(source, 18) == "The quick brown…"
    assert all(len(excerpt(source, n)) <= n for n in range(1, 50))


def test_excerpt_drops_trailing_punctuation_before_the_ellipsis() -> None:
    assert excerpt("Bring food, drinks and friends", 13) == "Bring food…"


def test_excerpt_cuts_a_single_long_word() -> None:
    assert excerpt("a" * 50, 10) == "a" * 9 + "…"


def test_excerpt_default_length_is_200() -> None:
    result = excerpt("word " * 100)
    assert len(result) <= 200 and result.endswith("word…")


def test_excerpt_rejects_non_positive_length() -> None:
    with pytest.raises(ValueError):
        excerpt("text", 0)
