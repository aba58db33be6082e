"""The layout suggestion on fixed inputs (events/board_layout.py): every rule, and the same
answer every time."""

from __future__ import annotations

import random

from events.board_layout import FreeCell, LayoutTopic, Suggestion, clash, suggest_layout


def cells(slots: int, rooms: tuple[int, ...]) -> list[FreeCell]:
    """Every cell of ``slots`` slots × rooms of the given capacities (room r{n}, slot s{n})."""
    return [
        FreeCell(slot=f"s{s}", room=f"r{r}", slot_order=s, capacity=capacity, room_position=r)
        for s in range(slots)
        for r, capacity in enumerate(rooms)
    ]


def topic(name: str, host: str, *fans: str, posted: int = 0) -> LayoutTopic:
    return LayoutTopic(id=name, host=host, interested=frozenset(fans), posted=posted)


def where(result: list[Suggestion]) -> dict[str, tuple[str, str]]:
    return {s.topic: (s.slot, s.room) for s in result}  # type: ignore[misc]


def test_more_interest_gets_a_bigger_room() -> None:
    waiting = [
        topic("small", "h1", "a", posted=0),
        topic("big", "h2", "a", "b", "c", "d", posted=1),
        topic("middle", "h3", "e", "f", posted=2),
    ]
    placed = where(suggest_layout(waiting, cells(1, (10, 40, 20))))
    # One slot, three rooms: the most wanted topic takes the 40 seats, then 20, then 10.
    assert placed == {"big": ("s0", "r1"), "middle": ("s0", "r2"), "small": ("s0", "r0")}


def test_never_two_topics_of_one_host_in_a_slot() -> None:
    waiting = [topic("one", "ada", "a", "b"), topic("two", "ada", "c")]
    placed = where(suggest_layout(waiting, cells(2, (40, 20))))
    assert placed["one"][0] != placed["two"][0]
    assert placed == {"one": ("s0", "r0"), "two": ("s1", "r0")}


def test_a_host_with_no_free_slot_left_waits() -> None:
    waiting = [topic("one", "ada", "a"), topic("two", "ada", "b")]
    assert where(suggest_layout(waiting, cells(1, (40, 20)))) == {"one": ("s0", "r0")}


def test_topics_that_many_of_the_same_people_want_go_to_different_slots() -> None:
    waiting = [
        topic("rust", "h1", "a", "b", "c", "d"),
        topic("go", "h2", "a", "b", "c"),  # three of its three fans also want rust
        topic("knitting", "h3", "x", "y"),
    ]
    placed = where(suggest_layout(waiting, cells(2, (40, 20))))
    assert placed["rust"][0] != placed["go"][0]
    # Knitting shares nobody: it joins rust's slot, in the room left there.
    assert placed == {"rust": ("s0", "r0"), "go": ("s1", "r0"), "knitting": ("s0", "r1")}


def test_a_clash_with_nowhere_else_to_go_leaves_the_topic_waiting() -> None:
    waiting = [topic("rust", "h1", "a", "b", "c"), topic("go", "h2", "a", "b")]
    assert where(suggest_layout(waiting, cells(1, (40, 20)))) == {"rust": ("s0", "r0")}


def test_the_clash_rule() -> None:
    assert clash(frozenset("abcd"), frozenset("abx"))  # 2 shared, half of 3 or more
    assert not clash(frozenset("abcd"), frozenset("axyz"))  # one person shared
    assert not clash(frozenset("abcdefgh"), frozenset("abwxyz"))  # 2 of 6: under half
    assert not clash(frozenset(), frozenset("ab"))


def test_a_small_overlap_prefers_the_slot_it_shares_least_with() -> None:
    placed_already = [(topic("fixed", "h0", "a", "b", "c", "d", "e", "f"), "s0")]
    # One fan in common with "fixed": allowed in s0, but s1 shares nobody.
    waiting = [topic("new", "h1", "a", "x", "y")]
    result = where(suggest_layout(waiting, cells(2, (40, 20)), placed_already))
    assert result == {"new": ("s1", "r0")}


def test_placed_topics_count_for_the_host_rule() -> None:
    placed_already = [(topic("fixed", "ada"), "s0")]
    free = [c for c in cells(2, (40, 20)) if not (c.slot == "s0" and c.room == "r0")]
    result = where(suggest_layout([topic("more", "ada", "a")], free, placed_already))
    assert result == {"more": ("s1", "r0")}


def test_equal_interest_goes_by_posting_order() -> None:
    waiting = [topic("later", "h1", "a", posted=5), topic("earlier", "h2", "b", posted=1)]
    assert where(suggest_layout(waiting, cells(1, (40, 20)))) == {
        "earlier": ("s0", "r0"),
        "later": ("s0", "r1"),
    }


def test_the_same_inputs_give_the_same_layout_whatever_their_order() -> None:
    rng = random.Random(7)
    people = [f"p{n}" for n in range(30)]
    waiting = [
        topic(f"t{n}", f"h{n % 7}", *rng.sample(people, rng.randint(0, 12)), posted=n)
        for n in range(14)
    ]
    free = cells(4, (50, 30, 20, 10))
    expected = suggest_layout(waiting, free)
    for _ in range(5):
        shuffled_topics, shuffled_cells = waiting[:], free[:]
        rng.shuffle(shuffled_topics)
        rng.shuffle(shuffled_cells)
        assert suggest_layout(shuffled_topics, shuffled_cells) == expected
    # And the result keeps every rule.
    by_slot: dict[str, list[LayoutTopic]] = {}
    topics = {t.id: t for t in waiting}
    for choice in expected:
        by_slot.setdefault(choice.slot, []).append(topics[choice.topic])  # type: ignore[arg-type,index]
    for together in by_slot.values():
        hosts = [t.host for t in together]
        assert len(hosts) == len(set(hosts))
        for i, one in enumerate(together):
            for other in together[i + 1 :]:
                assert not clash(one.interested, other.interested)
    assert len({(c.slot, c.room) for c in expected}) == len(expected)
