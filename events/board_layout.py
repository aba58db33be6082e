"""Suggest a layout: fill the open cells of an open-space board with the topics waiting.

Plain values in, plain values out (no database): the rule is tested on fixed inputs and
always gives the same answer for the same inputs. The rule, in order:

1. **Most wanted first.** Waiting topics are taken by the number of people interested,
   most first (ties: the earlier posted, then the id).
2. **Never the same host twice in a slot.** A topic does not go in a slot where its host
   already has a topic.
3. **No clash in a slot.** Two topics *clash* when at least :data:`CLASH_MIN_SHARED`
   people are interested in both, and they are at least half of the people interested in
   the less wanted of the two: most of its audience would have to choose. A topic does not
   go in a slot holding a topic it clashes with.
4. **Least overlap, then the biggest room.** Among the free cells left, a topic takes the
   one in the slot whose topics share the fewest interested people with it, then the
   biggest room, then the earliest slot, then the room listed first.

A topic with no cell allowed stays waiting. Since the most wanted topics choose first and
each takes the biggest room left in its slot, more interest gets a bigger room. Cells the
suggestion fills are open ones only: placed, pinned and frozen topics stay where they are
(they count for rules 2-4 of their slot).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

#: Two topics clash from this many people interested in both (and half of the smaller).
CLASH_MIN_SHARED = 2


@dataclass(frozen=True)
class LayoutTopic:
    id: Hashable
    #: Who posted it (the ticket): two of theirs never share a slot.
    host: Hashable
    #: Who is interested in it (tickets).
    interested: frozenset[Hashable] = field(default_factory=frozenset)
    #: Order of posting (earlier first on equal interest).
    posted: int = 0


@dataclass(frozen=True)
class FreeCell:
    slot: Hashable
    room: Hashable
    #: The slot's order in the evening (earlier first on equal merit).
    slot_order: int
    capacity: int
    room_position: int


@dataclass(frozen=True)
class Suggestion:
    topic: Hashable
    slot: Hashable
    room: Hashable


def clash(one: frozenset[Hashable], other: frozenset[Hashable]) -> bool:
    """Whether two topics' audiences overlap too much to run at the same time."""
    shared = len(one & other)
    smaller = min(len(one), len(other))
    return shared >= CLASH_MIN_SHARED and shared * 2 >= smaller


def suggest_layout(
    waiting: Iterable[LayoutTopic],
    free_cells: Iterable[FreeCell],
    placed: Iterable[tuple[LayoutTopic, Hashable]] = (),
) -> list[Suggestion]:
    """Where to put ``waiting`` topics among ``free_cells``; ``placed`` are the topics
    already in a slot (topic, slot id). See the module docstring for the rule."""
    in_slot: dict[Hashable, list[LayoutTopic]] = {}
    for topic, slot in placed:
        in_slot.setdefault(slot, []).append(topic)
    cells = sorted(free_cells, key=lambda c: (c.slot_order, c.room_position, str(c.room)))
    taken: set[tuple[Hashable, Hashable]] = set()
    chosen: list[Suggestion] = []
    for topic in sorted(waiting, key=lambda t: (-len(t.interested), t.posted, str(t.id))):
        best = _best_cell(topic, cells, taken, in_slot)
        if best is None:
            continue
        taken.add((best.slot, best.room))
        in_slot.setdefault(best.slot, []).append(topic)
        chosen.append(Suggestion(topic=topic.id, slot=best.slot, room=best.room))
    return chosen


def _best_cell(
    topic: LayoutTopic,
    cells: Sequence[FreeCell],
    taken: set[tuple[Hashable, Hashable]],
    in_slot: dict[Hashable, list[LayoutTopic]],
) -> FreeCell | None:
    best: FreeCell | None = None
    best_key: tuple[int, int, int, int, str] | None = None
    for cell in cells:
        if (cell.slot, cell.room) in taken:
            continue
        others = in_slot.get(cell.slot, [])
        if any(other.host == topic.host for other in others):
            continue
        if any(clash(topic.interested, other.interested) for other in others):
            continue
        overlap = sum(len(topic.interested & other.interested) for other in others)
        key = (overlap, -cell.capacity, cell.slot_order, cell.room_position, str(cell.room))
        if best_key is None or key < best_key:
            best, best_key = cell, key
    return best
