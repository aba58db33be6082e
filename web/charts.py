"""Bar charts drawn on the server as SVG: no JavaScript, no inline style (the CSP allows
none: colours are presentation attributes), titled and described for screen readers.

A chart never stands alone: the page puts the same numbers in a table beside it. A value
the public table hides ("<5", "suppressed") is drawn as no bar, with its text on the axis.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

BAR = 14
GAP = 10
PLOT_HEIGHT = 160
LEFT = 36
TOP = 12
BOTTOM = 64
#: Colours with at least 3:1 contrast against white (WCAG non-text contrast).
COLOURS = ("#1f5fbf", "#b4540a")


@dataclass(frozen=True)
class Series:
    name: str
    #: One per label; None where the value is hidden.
    values: list[int | None]


def _scale_top(peak: int) -> int:
    """A round top for the axis (1, 2, 5 × 10^n)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if top * step >= peak:
                return top * step
        top *= 10


def bar_chart(
    chart_id: str, title: str, description: str, labels: list[str], series: list[Series]
) -> Markup:
    """An SVG bar chart of ``series`` over ``labels`` (months), bars grouped per label."""
    groups = len(labels)
    group_width = len(series) * BAR + GAP
    width = LEFT + max(groups, 1) * group_width + GAP
    height = TOP + PLOT_HEIGHT + BOTTOM
    peak = max((v for s in series for v in s.values if v is not None), default=0)
    top = _scale_top(max(peak, 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    base = TOP + PLOT_HEIGHT
    for tick in (0, top // 2, top):
        y = base - PLOT_HEIGHT * tick / top
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="#d0d0d8" '
            'stroke-width="1"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#444">{tick}</text>'
        )
    for index, label in enumerate(labels):
        x0 = LEFT + GAP + index * group_width
        for position, line in enumerate(series):
            value = line.values[index]
            x = x0 + position * BAR
            if value is None:
                parts.append(
                    f'<text x="{x + BAR / 2:.1f}" y="{base - 3}" font-size="9" '
                    f'text-anchor="middle" fill="#444">–</text>'
                )
                continue
            bar = PLOT_HEIGHT * value / top
            parts.append(
                f'<rect x="{x}" y="{base - bar:.1f}" width="{BAR - 2}" height="{bar:.1f}" '
                f'fill="{COLOURS[position % len(COLOURS)]}"/>'
            )
        parts.append(
            f'<text x="{x0 + len(series) * BAR / 2:.1f}" y="{base + 14}" font-size="9" '
            f'text-anchor="end" fill="#333" transform="rotate(-45 {x0 + len(series) * BAR / 2:.1f} '
            f'{base + 14})">{escape(label)}</text>'
        )
    for position, line in enumerate(series):
        x = LEFT + position * 110
        parts.append(
            f'<rect x="{x}" y="{height - 12}" width="10" height="10" '
            f'fill="{COLOURS[position % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{height - 3}" font-size="10" fill="#333">'
            f"{escape(line.name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
