"""A Litestar ``Store`` kept in the application database (table ``key_value``).

Web sessions and rate-limit counters live here so every worker process sees the same
ones, with no Redis to run. Calls go to a worker thread (synchronous driver) and writes
pass through the process's write gate like every other write. Reading a session on a
SQLite file runs on the event loop itself (events/instant_reads.py: it never waits; when
it would, the read goes to a worker thread as on PostgreSQL).

Setting a value (a session written at the end of a request) goes through the process's
group commit (web/write_batch.py): a burst of new visitors who each
get a session (supporting a proposal from a ticket, say) shares commits with each other
and with the registrations and scans of the same moment, instead of queueing for the
database's write lock one commit at a time. The write is still committed before the
response leaves.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from functools import lru_cache, partial

import anyio.to_thread
from litestar.stores.base import NamespacedStore
from sqlalchemy import ColumnElement, Executable, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from events.clock import utcnow
from events.database import Database
from events.instant_reads import ReadWouldWait
from events.models import KeyValue
from web.write_batch import WriteBatcher
from web.write_gate import WriteGate

_GET_LIVE = select(KeyValue.value).where(
    KeyValue.namespace == bindparam("namespace"),
    KeyValue.key == bindparam("key"),
    KeyValue.expires_at.is_(None) | (KeyValue.expires_at > bindparam("now")),
)


@lru_cache(maxsize=2)  # SQLite, PostgreSQL
def _upsert_statement(sqlite: bool) -> Insert:
    """Set a value: built once (with bound parameters), as building it for each session
    written cost more than running it."""
    insert = sqlite_insert if sqlite else pg_insert
    new = insert(KeyValue).values(
        namespace=bindparam("namespace"),
        key=bindparam("key"),
        value=bindparam("value"),
        expires_at=bindparam("expires_at"),
    )
    return new.on_conflict_do_update(
        index_elements=["namespace", "key"],
        set_={
            "value": new.excluded.value,
            "expires_at": new.excluded.expires_at,
            "updated_at": bindparam("changed_at", type_=KeyValue.__table__.c.updated_at.type),
        },
    )


class DatabaseStore(NamespacedStore):
    def __init__(
        self, db: Database, gate: WriteGate, batcher: WriteBatcher, namespace: str = "default"
    ) -> None:
        self.db = db
        self.gate = gate
        self.batcher = batcher
        self.namespace = namespace

    def with_namespace(self, namespace: str) -> DatabaseStore:
        return DatabaseStore(self.db, self.gate, self.batcher, f"{self.namespace}.{namespace}")

    @staticmethod
    def _expiry(expires_in: int | timedelta | None) -> datetime | None:
        if expires_in is None:
            return None
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        return utcnow() + timedelta(seconds=seconds)

    def _live(self) -> ColumnElement[bool]:
        now = utcnow()
        return (KeyValue.namespace == self.namespace) & (
            KeyValue.expires_at.is_(None) | (KeyValue.expires_at > now)
        )

    def _upsert(
        self, key: str, value: bytes, expires_at: datetime | None, session: Session
    ) -> None:
        values = {
            "namespace": self.namespace,
            "key": key,
            "value": value,
            "expires_at": expires_at,
            "changed_at": utcnow(),
        }
        session.execute(_upsert_statement(self.db.is_sqlite), values)

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        expires_at = self._expiry(expires_in)
        # An upsert: running it twice (a batch retried with savepoints) is harmless.
        await self.batcher.run(
            partial(self._upsert, key, data, expires_at), lock_order=f"session:{key}"
        )

    def _lookup(self, key: str) -> dict[str, object]:
        return {"namespace": self.namespace, "key": key, "now": utcnow()}

    def _get_sync(self, key: str) -> bytes | None:
        # PostgreSQL's read of a session on every request that has one (and SQLite's when
        # it would wait): one statement built once, on a plain connection, no ORM session,
        # no transaction.
        with self.db.lone_read() as connection:
            value: bytes | None = connection.execute(_GET_LIVE, self._lookup(key)).scalar()
            return value

    async def _read(self, key: str) -> bytes | None:
        """On a SQLite file, on the event loop itself (events/instant_reads.py); in a
        worker thread on PostgreSQL, or when SQLite would make the read wait."""
        reads = self.db.instant_reads
        if reads is not None:
            with suppress(ReadWouldWait):
                value: bytes | None = reads.scalar(_GET_LIVE, self._lookup(key))
                return value
        return await anyio.to_thread.run_sync(self._get_sync, key)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        value = await self._read(key)
        if value is not None and renew_for:
            await self._write(
                update(KeyValue)
                .where(KeyValue.namespace == self.namespace, KeyValue.key == key)
                .values(expires_at=self._expiry(renew_for))
            )
        return value

    async def _write(self, statement: Executable) -> None:
        def run() -> None:
            with self.db.transaction() as session:
                session.execute(statement)

        async with self.gate:
            await anyio.to_thread.run_sync(run)

    async def delete(self, key: str) -> None:
        await self._write(
            delete(KeyValue).where(KeyValue.namespace == self.namespace, KeyValue.key == key)
        )

    async def delete_all(self) -> None:
        await self._write(delete(KeyValue).where(KeyValue.namespace == self.namespace))

    async def delete_expired(self) -> None:
        await self._write(delete(KeyValue).where(KeyValue.expires_at <= utcnow()))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        def run() -> datetime | None:
            with self.db.session() as session:
                return session.scalar(
                    select(KeyValue.expires_at).where(self._live(), KeyValue.key == key)
                )

        expires_at = await anyio.to_thread.run_sync(run)
        return None if expires_at is None else int((expires_at - utcnow()).total_seconds())
