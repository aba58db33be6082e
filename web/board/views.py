"""What the board's pages show, shared by the pages and their live fragments: the fragment
templates, the renderer the live streams use, and the facilitators' cell choices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from jinja2 import Environment

from events.models import Event
from events.services.board_state import BoardState, Moment
from web.board.live import BoardSnapshot, Renderer
from web.i18n import current_locale, format_time

#: The live part of each view: the page includes it, the stream sends it again on change.
LIVE_TEMPLATES = {
    "public": "board/_public_live.html",
    "screen": "board/_screen_live.html",
    "phone": "board/_phone_live.html",
    "facilitate": "board/_facilitate_live.html",
}
#: What anyone may watch (the facilitators' view shows hidden topics: it has its own route).
PUBLIC_VIEWS = frozenset({"public", "screen", "phone"})


@dataclass(frozen=True)
class CellChoice:
    value: str
    label: str


def live_context(state: BoardState, event: Event, moment: Moment) -> dict[str, Any]:
    """The variables every live fragment reads (nothing personal, no request)."""
    return {"board": state, "event": event, "moment": moment}


def renderer(env: Environment, view: str) -> Renderer:
    """Renders ``view``'s live fragment for the streams (no request, no personal data)."""
    template = env.get_template(LIVE_TEMPLATES[view])

    def render(snapshot: BoardSnapshot, moment: Moment, locale: str) -> str:
        token = current_locale.set(locale)
        try:
            return template.render(**live_context(snapshot.state, snapshot.event, moment))
        finally:
            current_locale.reset(token)

    return render


def cell_value(slot_id: UUID, room_id: UUID) -> str:
    return f"{slot_id}:{room_id}"


def parse_cell(value: str) -> tuple[str, str]:
    """The (slot, room) of a cell choice; ("", "") when it cannot be one (the services
    answer NotFound for ids that are not the board's)."""
    slot, _sep, room = (value or "").partition(":")
    return slot.strip()[:40], room.strip()[:40]


def cell_choices(state: BoardState, event: Event, moment: Moment) -> list[CellChoice]:
    """Every cell a topic can go to now: open slots that are not frozen, each room."""
    return [
        CellChoice(
            value=cell_value(slot.id, room.id),
            label=f"{format_time(slot.starts_at, event.timezone)} · {room.name}",
        )
        for slot in state.slots
        if not slot.is_common and slot.id not in moment.frozen
        for room in state.rooms
    ]
