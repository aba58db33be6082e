"""Per hot operation: the SQL statements it sends, the lock each one takes, and how long
the hot row stays locked (the figures behind docs/scaling.md).

Usage (from the repository root; the database's tables are dropped first, as for
``bench/run.py``)::

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54330/scaling_bench \\
        .venv/bin/python bench/statements.py --repeat 200

Each operation runs ``--repeat`` times, one at a time, through its real domain entry point,
in the transaction the web layer would give it: the registration, the door scan and the
support as units of the group-commit batcher (``web/write_batch.py``, with the app's own
write gate), the board mark and the offers request in a writer session committed at the
end, as a POST's session is. Every statement is recorded with SQLAlchemy's
``before_cursor_execute`` event, the end of the commit with the session's
``after_commit`` event. A row lock taken by a statement (``SELECT ... FOR UPDATE``, an
``UPDATE``, an upsert, a ``DELETE``) is held until the commit: its **hold time** is from
the moment that statement is sent to the end of the commit. Each operation names its hot
row (the one every concurrent request on the same event, proposal or board needs); the
content-version row is the one every stamped transaction of any event needs.

The registration also runs as full batches of ``--batch`` units (as under load), on one
event and over as many events, to show what the group commit does to the hold time.

Measured alone, one operation at a time: the hold times are the uncontended floor; under
load a holder also waits for the CPU (and, on a 2-core machine, for the benchmark itself).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
if str(REPO_ROOT) not in sys.path:  # the test helpers build the data (tests/ is a package)
    sys.path.insert(0, str(REPO_ROOT))

from harness import prepared_database  # noqa: E402

from events.database import Database  # noqa: E402

#: The row of the content version (events/content_version.py): one for the whole site.
CONTENT_ROW = "key_value"
DEFAULT_REPEAT = 100
DEFAULT_BATCH = 32


# -- recording -------------------------------------------------------------------------------
@dataclass
class Trace:
    """One transaction: its statements with the time each was sent, and when it committed."""

    statements: list[tuple[float, str]] = field(default_factory=list)
    committed_at: float | None = None


@contextmanager
def recording(db: Database) -> Iterator[list[Trace]]:
    """Every transaction run through ``db`` while inside the block, one :class:`Trace`
    each (a new one starts after each commit)."""
    traces: list[Trace] = [Trace()]

    def sent(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        traces[-1].statements.append((time.perf_counter(), statement))

    def committed(_session: Session) -> None:
        if traces[-1].statements:
            traces[-1].committed_at = time.perf_counter()
            traces.append(Trace())

    sa_event.listen(db.engine, "before_cursor_execute", sent)
    sa_event.listen(Session, "after_commit", committed)
    try:
        yield traces
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", sent)
        sa_event.remove(Session, "after_commit", committed)
        if not traces[-1].statements:
            traces.pop()


# -- reading a statement ---------------------------------------------------------------------
_WORD = r'"?(\w+)"?'
# Not the "FOR UPDATE" of a locking read, nor the "DO UPDATE SET" of an upsert.
_UPDATE = re.compile(rf"(?<!FOR )(?<!DO )\bUPDATE\s+{_WORD}", re.IGNORECASE)
_INSERT = re.compile(rf"\bINSERT\s+INTO\s+{_WORD}", re.IGNORECASE)
_DELETE = re.compile(rf"\bDELETE\s+FROM\s+{_WORD}", re.IGNORECASE)
_FROM = re.compile(rf"\bFROM\s+{_WORD}", re.IGNORECASE)


@dataclass(frozen=True)
class Lock:
    """What one statement locks: ``rows`` (held to the commit, others wait on them) and
    ``new`` (inserted rows: others wait only on an equal unique key)."""

    rows: tuple[str, ...] = ()
    new: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [f"row lock `{table}`" for table in self.rows]
        parts += [f"new row `{table}`" for table in self.new]
        return ", ".join(parts) or "none (snapshot read)"


def lock_of(statement: str) -> Lock:
    """The locks ``statement`` takes on PostgreSQL (read from its text)."""
    text = " ".join(statement.split())
    if text.upper() == "BEGIN IMMEDIATE":  # SQLite: the one database-wide write lock
        return Lock(rows=("(SQLite database)",))
    rows: list[str] = []
    new: list[str] = []
    if re.search(r"\bFOR UPDATE\b", text, re.IGNORECASE):
        found = _FROM.search(text)
        if found:
            rows.append(found.group(1))
    rows += [m.group(1) for m in _UPDATE.finditer(text)]
    rows += [m.group(1) for m in _DELETE.finditer(text)]
    for inserted in _INSERT.finditer(text):
        upsert = re.search(r"ON CONFLICT .*DO UPDATE", text[inserted.start() :], re.IGNORECASE)
        (rows if upsert else new).append(inserted.group(1))
    return Lock(tuple(dict.fromkeys(rows)), tuple(dict.fromkeys(new)))


def summary(statement: str) -> str:
    """A statement in a few words: its verb, its table and the clauses that lock."""
    text = " ".join(statement.split())
    verb = text.split(" ", 1)[0].upper()
    if verb in {"SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"}:
        return verb
    if verb == "WITH":
        parts = [f"UPDATE {m.group(1)}" for m in _UPDATE.finditer(text)]
        parts += [f"INSERT {m.group(1)}" for m in _INSERT.finditer(text)]
        if "FOR UPDATE" in text.upper():
            parts.insert(0, "SELECT … FOR UPDATE")
        return "WITH (one statement: " + ", ".join(dict.fromkeys(parts)) + ")"
    table = next(
        (
            m.group(1)
            for pattern in (_UPDATE, _INSERT, _DELETE, _FROM)
            if (m := pattern.search(text))
        ),
        "?",
    )
    extras = [
        clause
        for clause, pattern in (
            ("FOR UPDATE", r"\bFOR UPDATE\b"),
            ("ON CONFLICT DO UPDATE", r"ON CONFLICT .*DO UPDATE"),
            ("ON CONFLICT DO NOTHING", r"ON CONFLICT .*DO NOTHING"),
            ("RETURNING", r"\bRETURNING\b"),
        )
        if re.search(pattern, text, re.IGNORECASE)
    ]
    return f"{verb} {table}" + (f" ({', '.join(extras)})" if extras else "")


# -- operations ------------------------------------------------------------------------------
Unit = Callable[[Session], Any]


@dataclass
class Operation:
    """A hot operation: how to run its ``n``-th repetition, how the web layer runs it, and
    the table of the row every concurrent request on the same thing needs."""

    name: str
    hot_table: str
    hot_row: str  # in words, for the table
    unit: Callable[[int], Unit]
    batched: bool  # through the group-commit batcher (else a writer session per request)


def run_alone(db: Database, operation: Operation, repeat: int) -> list[Trace]:
    """``repeat`` repetitions, one transaction each, as the web layer would run them."""
    from web.write_batch import WriteBatcher
    from web.write_gate import WriteGate

    batcher = WriteBatcher(db, WriteGate(serialise=db.is_sqlite, lock_file=db.write_lock_file))

    async def batched() -> None:
        for n in range(repeat):
            await batcher.run(operation.unit(n))

    with recording(db) as traces:
        if operation.batched:
            asyncio.run(batched())
        else:
            for n in range(repeat):
                with db.session(write=True) as session:
                    operation.unit(n)(session)
                    session.commit()
    return [trace for trace in traces if trace.committed_at is not None]


def run_batches(db: Database, units: Sequence[Unit], size: int) -> list[Trace]:
    """``units`` handed to the batcher ``size`` at a time, all at once: full batches."""
    from web.write_batch import WriteBatcher
    from web.write_gate import WriteGate

    batcher = WriteBatcher(db, WriteGate(serialise=db.is_sqlite, lock_file=db.write_lock_file))

    async def all_at_once() -> None:
        for start in range(0, len(units), size):
            await asyncio.gather(*(batcher.run(unit) for unit in units[start : start + size]))

    with recording(db) as traces:
        asyncio.run(all_at_once())
    return [trace for trace in traces if trace.committed_at is not None]


def hold_ms(trace: Trace, table: str) -> float | None:
    """From the first statement locking a row of ``table`` to the end of the commit."""
    assert trace.committed_at is not None
    for sent_at, statement in trace.statements:
        if table in lock_of(statement).rows:
            return (trace.committed_at - sent_at) * 1000
    return None


def holds_of(traces: Sequence[Trace], table: str) -> list[float]:
    """The hold times of ``table``'s row lock, over the traces that take it."""
    return [held for trace in traces if (held := hold_ms(trace, table)) is not None]


def total_ms(trace: Trace) -> float:
    assert trace.committed_at is not None
    return (trace.committed_at - trace.statements[0][0]) * 1000


# -- the data, made with the test helpers ----------------------------------------------------
@dataclass
class Scene:
    operations: list[Operation]
    #: Registration units for the batch runs: on one event, and one event per unit.
    one_event: Callable[[int], Unit]
    many_events: Callable[[int], Unit]


def build_scene(db: Database, repeat: int, batch: int) -> Scene:
    """Events, tickets, a call, a board and an offers board, through the domain services
    and the test suite's helpers; the operations that act on them."""
    from sqlalchemy import select

    from events.clock import utcnow
    from events.models import Event, Proposal, Registration
    from events.services import identity
    from events.services.board_topics import BoardTopics, TopicInput, participant
    from events.services.door import DoorService
    from events.services.door_input import scan_input
    from events.services.events import WITHOUT_COLLECTIONS, EventInput, EventService
    from events.services.exchange_access import seat_of
    from events.services.exchange_contacts import request_contact
    from events.services.registering import register_for_event
    from events.services.supports import SupportService
    from tests.domain.test_board import EARLY
    from tests.domain.test_exchange import attendee, before, flat_share_board, post
    from tests.domain.test_registrations import open_event, person, register
    from tests.factories import Factories
    from tests.proposal_scenario import open_call, published

    make = Factories(db)
    # Registration: one event with room for everyone; and one event per batch unit.
    hot = open_event(db, make, capacity="100000")
    community = make.community()
    with db.transaction() as session:
        events = EventService(session)
        spread = []
        for n in range(batch):
            created = events.create(
                session.merge(community),
                EventInput(
                    title=f"Spread {n:03d}",
                    starts_local="2027-03-05T19:00",
                    ends_local="2027-03-05T22:00",
                    capacity="100000",
                ),
            )
            events.publish(created)
            spread.append(created.slug)

    def registering(slug: str, tag: str) -> Callable[[int], Unit]:
        def unit(n: int) -> Unit:
            return lambda session: register_for_event(session, slug, person(f"{tag}{n}"))

        return unit

    # Door: tickets of another event, each scanned once.
    door_event = open_event(db, make, capacity="")
    codes = [
        register(db, door_event, person(f"door{n}")).registration.ticket_code for n in range(repeat)
    ]

    def scanning(n: int) -> Unit:
        def unit(session: Session) -> Any:
            # The web checks the door's access once per batch (web/controllers/door_scan.py)
            # and loads the event without its collections: not counted here.
            event = session.get(Event, door_event.id, options=WITHOUT_COLLECTIONS)
            assert event is not None
            scan = scan_input(
                {"scanned": codes[n], "nonce": f"bench-nonce-{n:04d}", "device": "bench"},
                now=utcnow(),
            )
            return DoorService(session).check_in(event, scan)

        return unit

    # Support: one proposal, a different person each time.
    call = open_call(db, make)
    proposal = published(db, call, 1)
    with db.transaction() as session:
        supporters = [
            identity.person(session, call.community_id, f"supporter{n}@example.org")
            for n in range(repeat)
        ]

    def supporting(n: int) -> Unit:
        def unit(session: Session) -> Any:
            found = session.get(Proposal, proposal.id)
            assert found is not None
            return SupportService(session).support(found, supporters[n])

        return unit

    # Board mark: one topic, a different ticket each time.
    space = make.open_space(participants=repeat + 1)
    with db.transaction() as session:
        topic = BoardTopics(session).post(
            participant(session, space.tickets[0]), TopicInput(title="Hot topic"), now=EARLY
        )

    def marking(n: int) -> Unit:
        def unit(session: Session) -> Any:
            who = participant(session, space.tickets[n + 1])
            return BoardTopics(session).mark(who, topic.id, "interested", now=EARLY)

        return unit

    # Offers request: one listing, a different requester each time.
    flat_share = flat_share_board(db, make)
    now = before(flat_share)
    listing = post(db, attendee(db, flat_share, "author"), now)
    requesters = [attendee(db, flat_share, f"seeker{n}") for n in range(repeat)]

    def requesting(n: int) -> Unit:
        def unit(session: Session) -> Any:
            loaded = session.scalar(select(Registration).where(Registration.id == requesters[n].id))
            assert loaded is not None
            return request_contact(session, seat_of(session, loaded, now), listing, "Hello", now)

        return unit

    operations = [
        Operation(
            "registration", "event", "the event's row (places)", registering(hot.slug, "r"), True
        ),
        Operation("door check-in", "registration", "the ticket's registration row", scanning, True),
        Operation("support", "proposal", "the proposal's row (its count)", supporting, True),
        Operation("board mark", "board", "the board's row (its version)", marking, False),
        Operation(
            "offers request",
            "exchange_participant",
            "the requester's own row (their cap): not shared",
            requesting,
            False,
        ),
    ]
    return Scene(
        operations,
        registering(hot.slug, "b"),
        lambda n: registering(spread[n % batch], "s")(n),
    )


# -- measuring and reporting -----------------------------------------------------------------
def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(values: Sequence[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} / {percentile(values, 0.99):.2f}"


@dataclass
class Measured:
    operation: Operation
    traces: list[Trace]

    def holds(self, table: str) -> list[float]:
        return holds_of(self.traces, table)


def statements_table(measured: Measured) -> str:
    """The statements of the operation's last repetition, with their locks."""
    trace = measured.traces[-1]
    lines = [
        f"#### {measured.operation.name} ({len(trace.statements)} statements + COMMIT)",
        "",
        "| # | statement | lock it takes (held to COMMIT) |",
        "|---|---|---|",
    ]
    for n, (_at, statement) in enumerate(trace.statements, 1):
        hot = " **(hot)**" if measured.operation.hot_table in lock_of(statement).rows else ""
        lines.append(f"| {n} | {summary(statement)} | {lock_of(statement).describe()}{hot} |")
    lines.append(f"| {len(trace.statements) + 1} | COMMIT | releases them all |")
    return "\n".join(lines)


def summary_table(measured: Sequence[Measured]) -> str:
    lines = [
        "| operation | statements | hot row | hot lock held, ms (median / p99) "
        "| content-version row held, ms | transaction, ms | ceiling on one hot row |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in measured:
        hot = m.holds(m.operation.hot_table)
        ceiling = f"{1000 / statistics.median(hot):,.0f}/s" if hot else "-"
        lines.append(
            f"| {m.operation.name} | {statistics.median(len(t.statements) for t in m.traces):g} "
            f"| {m.operation.hot_row} | {figures(hot)} | {figures(m.holds(CONTENT_ROW))} "
            f"| {figures([total_ms(t) for t in m.traces])} | {ceiling} |"
        )
    return "\n".join(lines)


def batch_table(one_event: list[Trace], many_events: list[Trace], size: int) -> str:
    lines = [
        f"| batch of {size} registrations | statements "
        "| first event row locked to COMMIT, ms (median / p99) "
        "| content-version row held, ms | per registration, ms |",
        "|---|---|---|---|---|",
    ]
    for label, traces in (("one event", one_event), (f"{size} events", many_events)):
        holds = holds_of(traces, "event")
        lines.append(
            f"| {label} | {statistics.median(len(t.statements) for t in traces):g} "
            f"| {figures(holds)} | {figures(holds_of(traces, CONTENT_ROW))} "
            f"| {figures([held / size for held in holds])} |"
        )
    return "\n".join(lines)


def commit_of_repository() -> str:
    completed = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return completed.stdout.strip() or "unknown"


def report(database_url: str | None, repeat: int, batch: int, batches: int) -> str:
    """Build the scene, measure every operation, and return the Markdown report."""
    from harness import backend_of, machine_facts

    with prepared_database(None, database_url) as prepared:
        database_url = prepared.url
        db = Database.from_url(prepared.url)
        try:
            scene = build_scene(db, repeat, batch)
            measured = [Measured(op, run_alone(db, op, repeat)) for op in scene.operations]
            count = batch * batches
            one = run_batches(db, [scene.one_event(n) for n in range(count)], batch)
            many = run_batches(db, [scene.many_events(n) for n in range(count)], batch)
        finally:
            db.dispose()
    facts = machine_facts()
    lines = [
        f"Measured by `bench/statements.py` at commit {commit_of_repository()} on "
        f"{backend_of(database_url)}, {datetime.now().strftime('%Y-%m-%d %H:%M')}, "
        f"{facts['cpus']} CPUs ({facts['cpu_model']}), load average "
        f"{', '.join(f'{x:.2f}' for x in facts['load_average_at_end'])}; "
        f"{repeat} repetitions each, one at a time.",
        "",
        summary_table(measured),
        "",
        batch_table(one, many, batch),
        "",
        *("\n\n".join(statements_table(m) for m in measured).splitlines()),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="per operation")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="registrations a batch")
    parser.add_argument("--batches", type=int, default=10, help="full batches of each kind")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set BENCH_DATABASE_URL (its tables are dropped)")
    url = None if args.database_url == "sqlite" else args.database_url  # a temporary file
    print(report(url, args.repeat, args.batch, args.batches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
