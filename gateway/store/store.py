"""The ledger: every file, document, state change, dedup key, control number and outgoing message.

Rules:
- Each public method is one transaction and is safe to repeat: a worker that crashes and does the
  same step again after a restart gets the same answer, never a second row.
- Uniqueness is enforced by the database (UNIQUE constraints + INSERT ... ON CONFLICT), never by a
  read-then-write in Python, so concurrent workers and processes cannot both win.
- Work is handed out by leases: ``claim_*`` stamps ``claimed_by``/``claimed_until``; a row whose
  lease has expired may be claimed again (its worker is presumed dead). PostgreSQL skips rows
  another worker is claiming (``FOR UPDATE SKIP LOCKED``); SQLite serialises claims with
  ``BEGIN IMMEDIATE``.
- Every state change of a file, document or outbox message writes one ``events`` row in the same
  transaction: the trace ``history`` shows.
- Time comes from ``clock`` so tests can move it; it must return timezone-aware datetimes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: threads still queue on the thread lock
    fcntl = None  # type: ignore[assignment]
from sqlalchemy import Engine, Table, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from gateway.store.archive import Archive, ArchivedBlob
from gateway.store.engine import READ_ONLY, make_engine
from gateway.store.ids import new_id
from gateway.store.migrate import migrate_engine
from gateway.store.rawsql import RawSql
from gateway.store.rows import (
    AckExpectation,
    AlertRow,
    ControlAllocation,
    ControlKind,
    DedupLayer,
    Direction,
    DocumentRow,
    FileRow,
    OutboxRow,
    from_mapping,
)
from gateway.store.schema import (
    ALERT_OPEN,
    acks_expected,
    alerts,
    control_numbers,
    documents,
    events,
    files,
    outbox,
)
from inbox.base import LandingReceipt, RawDocument

if TYPE_CHECKING:
    from inbox.base import Alerter, Lander

Clock = Callable[[], dt.datetime]
Detail = str | Mapping[str, Any] | None

DEDUP_LAYERS: frozenset[str] = frozenset(DedupLayer.__args__)  # type: ignore[attr-defined]
OUTBOX_OPEN = ("pending", "failed")  # states an outbox message can still leave
TRANSPORT_ID_MAX = 1000  # longer ids (and dedup keys, idempotency keys) are stored as their hash
DEDUP_KEY_MAX = 500
IDEMPOTENCY_KEY_MAX = 300


INLINE_PAYLOAD_MAX = 256 * 1024  # outbox payloads up to this size live in the row, not the archive

# Hot-path statements (see rawsql.py): the ones every landed file, document and sent message runs.
_SQL_EVENT = ('INSERT INTO events (file_id, document_id, outbox_id, "at", state_from, state_to, detail) '
              "VALUES (:file_id, :document_id, :outbox_id, :at, :state_from, :state_to, :detail)")
_SQL_FILE_BY_TRANSPORT = "SELECT id, sha256, size FROM files WHERE transport = :transport AND transport_id = :tid"
_SQL_INSERT_FILE = (
    "INSERT INTO files (id, transport, transport_id, filename, partner_hint, partner_id, sha256, size, received_at, "
    "landed_at, state, attempts, parent_id, metadata_json, updated_at) VALUES (:id, :transport, :transport_id, "
    ":filename, :partner_hint, NULL, :sha256, :size, :received_at, :landed_at, 'received', 0, :parent_id, "
    ":metadata_json, :updated_at) ON CONFLICT (transport, transport_id) DO NOTHING RETURNING id")
_SQL_INSERT_DOCUMENT = (
    "INSERT INTO documents (id, file_id, seq, direction, partner_id, kind, state, sender_id, receiver_id, isa13, "
    "gs06, st02, gs01, st01, version, business_key, purpose_code, content_hash, parent_id, duplicate_of, "
    "canonical_json, issues_json, attempts, created_at, updated_at) VALUES (:id, :file_id, :seq, :direction, "
    ":partner_id, :kind, :state, :sender_id, :receiver_id, :isa13, :gs06, :st02, :gs01, :st01, :version, "
    ":business_key, :purpose_code, :content_hash, :parent_id, :duplicate_of, :canonical_json, :issues_json, 0, "
    ":created_at, :updated_at) ON CONFLICT (file_id, seq) DO NOTHING RETURNING id")
_SQL_CLAIM_DEDUP = (
    'INSERT INTO dedup_keys (partner_id, layer, "key", document_id, file_id, seen_at) VALUES (:partner_id, :layer, '
    ':key, :document_id, :file_id, :seen_at) ON CONFLICT (partner_id, layer, "key") DO UPDATE SET '
    "document_id = excluded.document_id, file_id = excluded.file_id, seen_at = excluded.seen_at "
    "WHERE dedup_keys.seen_at < :cutoff RETURNING seen_at")
_SQL_DEDUP_OWNER = ('SELECT document_id, file_id FROM dedup_keys WHERE partner_id = :partner_id AND layer = :layer '
                    'AND "key" = :key')
_SQL_BUMP_CONTROL = (
    "UPDATE control_numbers SET last_value = CASE WHEN last_value >= :maximum OR last_value < :start THEN :start "
    "ELSE last_value + 1 END, updated_at = :now WHERE partner_id = :partner_id AND direction = :direction "
    "AND kind = :kind RETURNING last_value")
_SQL_FIRST_CONTROL = (
    "INSERT INTO control_numbers (partner_id, direction, kind, last_value, updated_at) VALUES (:partner_id, "
    ":direction, :kind, :start, :now) ON CONFLICT (partner_id, direction, kind) DO NOTHING RETURNING last_value")
_SQL_ALLOCATION = 'SELECT isa13, gs06, st_first, st_count FROM control_allocations WHERE "key" = :key'
_SQL_INSERT_ALLOCATION = (
    'INSERT INTO control_allocations ("key", partner_id, direction, isa13, gs06, st_first, st_count, created_at) '
    "VALUES (:key, :partner_id, :direction, :isa13, :gs06, :st_first, :st_count, :created_at)")
_SQL_ENQUEUE = (
    "INSERT INTO outbox (id, kind, partner_id, document_id, destination, idempotency_key, payload_sha256, payload, "
    "state, attempts, next_attempt_at, created_at) VALUES (:id, :kind, :partner_id, :document_id, :destination, "
    ":key, :payload_sha256, :payload, 'pending', 0, :now, :now) ON CONFLICT (idempotency_key) DO NOTHING "
    "RETURNING id")
_SQL_OUTBOX_BY_KEY = "SELECT id FROM outbox WHERE idempotency_key = :key"
_SQL_FILE_OF_DOCUMENT = "SELECT file_id FROM documents WHERE id = :id"
_SQL_FILE_EXISTS = "SELECT 1 FROM files WHERE id = :id"
_SQL_SINK_FIELDS = "SELECT id, partner_id, kind, issues_json, canonical_json FROM documents WHERE id = :id"
_SQL_SINKS_UNSENT = (
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = 'sent' THEN 0 ELSE 1 END), 0) FROM outbox "
    "WHERE kind = 'sink' AND document_id = :id")
# what a compare-and-set transition reads first: state, lease holder, and the ids its event needs
_SQL_TRANSITION_READ = {
    "files": "SELECT state, claimed_by, NULL, NULL FROM files WHERE id = :id",
    "documents": "SELECT state, NULL, file_id, NULL FROM documents WHERE id = :id",
    "outbox": "SELECT o.state, o.claimed_by, d.file_id, o.document_id FROM outbox o "
              "LEFT JOIN documents d ON d.id = o.document_id WHERE o.id = :id",
}


class StoreError(Exception):
    """The ledger refused an operation (unknown row, bad argument); the message says which."""


class NotFound(StoreError, KeyError):
    """A file, document or outbox message id that is not in the ledger."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


def utc_now() -> dt.datetime:
    """The default clock: the current time in UTC."""
    return dt.datetime.now(dt.UTC)


def bounded(value: str, limit: int) -> str:
    """``value`` if it fits in ``limit`` characters, else ``sha256:<hex>`` of it (stable, unique)."""
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _json(detail: Detail) -> str | None:
    """Event details as stored: strings as-is, mappings as JSON."""
    if detail is None or isinstance(detail, str):
        return detail
    return json.dumps(dict(detail), sort_keys=True, default=str)


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT construct (it has ``on_conflict_do_*`` on both backends)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


class _SqliteWriterLock:
    """The writer lock of one SQLite database for this process: a thread lock, and while it is held an
    ``flock`` on ``<database>-writer.lock`` shared with every other process using the database.

    Writers (the gateway's threads, its pipeline process, a `gateway ingest`) queue here instead of in
    SQLite's busy handler, which sleeps in steps of up to 100 ms: they are woken the moment the lock is
    free. A thread that waits longer than ``WRITER_LOCK_TIMEOUT`` for another thread gets a StoreError;
    the file lock is waited for without a limit (polling it cost a fifth of the daemon's throughput):
    its holders never do network I/O under it, and the kernel releases it when a process dies.
    Re-entrant.
    """

    def __init__(self, database: str) -> None:
        self._thread_lock = threading.RLock()
        self._path = f"{database}-writer.lock"
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        if not self._thread_lock.acquire(timeout=WRITER_LOCK_TIMEOUT):
            raise StoreError(f"the ledger stayed locked by another writer for {WRITER_LOCK_TIMEOUT:.0f} s")
        try:
            if self._depth == 0 and fcntl is not None:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o660)
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # the kernel wakes us the moment it is free
        except BaseException:
            self._thread_lock.release()
            raise
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None and fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


WRITER_LOCK_TIMEOUT = 30.0  # seconds a SQLite writer waits for the lock, as SQLite's own busy timeout
_SQLITE_WRITERS: dict[str, _SqliteWriterLock] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> AbstractContextManager[Any]:
    """What a write transaction holds: for SQLite the database's ``_SqliteWriterLock`` (one per file
    in a process); PostgreSQL locks rows, not the database: nothing to hold."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    path = os.path.realpath(str(engine.url.database))
    with _SQLITE_WRITERS_GUARD:
        return _SQLITE_WRITERS.setdefault(path, _SqliteWriterLock(path))


def _lease_free(table: Table, now: dt.datetime) -> ColumnElement[bool]:
    """Rows nobody holds a live lease on."""
    return or_(table.c.claimed_until.is_(None), table.c.claimed_until <= now)


class Store:
    """The gateway's ledger and archive behind one object; implements inbox's Lander and Alerter."""

    def __init__(self, engine: Engine, archive: Archive, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.archive = archive
        self._clock = clock
        self._local = threading.local()
        self._raw = RawSql(engine.dialect)
        self._writer_lock = _writer_lock(engine)

    @classmethod
    def open(cls, url: str, archive_root: Path, *, clock: Clock = utc_now, migrate: bool = True) -> Store:
        """Connect to the ledger at ``url`` (migrating it to head) with its archive at ``archive_root``."""
        engine = make_engine(url)
        try:
            if migrate:
                migrate_engine(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, Archive(archive_root), clock)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    # ------------------------------------------------------------------ plumbing

    def now(self) -> dt.datetime:
        """The store's current time (from its clock), timezone-aware."""
        value = self._clock()
        if value.tzinfo is None:
            raise StoreError("the store's clock returned a naive datetime; it must be timezone-aware")
        return value

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run every store call in this thread inside ONE write transaction (one commit, one fsync).

        For batches: all the calls commit together or not at all. Nested use joins the outer one.
        """
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self._writer_lock, self.engine.begin() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on success."""
        shared = getattr(self._local, "conn", None)
        if shared is not None:
            yield shared
            return
        with self._writer_lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only transaction (deferred BEGIN on SQLite: never waits for writers)."""
        shared = getattr(self._local, "conn", None)
        if shared is not None:
            yield shared
            return
        with self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                yield conn

    def _event(self, conn: Connection, *, state_to: str, state_from: str | None = None,
               file_id: str | None = None, document_id: str | None = None,
               outbox_id: str | None = None, detail: Detail = None) -> None:
        """Record one state change."""
        self._raw.execute(conn, _SQL_EVENT, {
            "file_id": file_id, "document_id": document_id, "outbox_id": outbox_id, "at": self._raw.ts(self.now()),
            "state_from": state_from, "state_to": state_to, "detail": _json(detail),
        })

    def _claim(self, table: Table, claimable: ColumnElement[bool], worker: str, limit: int,
               lease_seconds: float) -> list[Any]:
        """Lease up to ``limit`` claimable rows of ``table`` to ``worker``; returns their new rows."""
        if limit <= 0:
            return []
        if lease_seconds <= 0:
            raise StoreError(f"lease_seconds must be positive, got {lease_seconds}")
        now = self.now()
        with self._write() as conn:
            ids = conn.scalars(
                select(table.c.id).where(claimable).order_by(table.c.id).limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            if not ids:
                return []
            rows = conn.execute(
                update(table).where(table.c.id.in_(ids))
                .values(claimed_by=worker, claimed_until=now + dt.timedelta(seconds=lease_seconds),
                        attempts=table.c.attempts + 1)
                .returning(*table.c)
            ).mappings().all()
        return sorted(rows, key=lambda row: row["id"])

    def _transition(self, conn: Connection, table: Table, row_id: str, state: str, *,
                    expect: Collection[str] | None, worker: str | None,
                    values: Mapping[str, Any], detail: Detail) -> bool:
        """Compare-and-set a row's state (and other columns), recording the event; False if refused."""
        raw = self._raw
        lock = (raw.for_update + " OF o" if table is outbox else raw.for_update) if raw.postgresql else ""
        current = raw.first(conn, _SQL_TRANSITION_READ[table.name] + lock, {"id": row_id})
        if current is None:
            raise NotFound(f"{table.name} row {row_id!r} is not in the ledger")
        state_from, claimed_by, file_id, document_id = current
        if expect is not None and state_from not in expect:
            return False
        if worker is not None and claimed_by != worker:
            return False
        plain = {k: v for k, v in values.items() if not isinstance(v, ColumnElement)}
        if len(plain) == len(values):
            names = sorted(plain)
            params = {k: raw.ts(v) if isinstance(v, dt.datetime) else v for k, v in plain.items()}
            params.update(id=row_id, state=state)
            raw.execute(conn, f"UPDATE {table.name} SET state = :state"
                        + "".join(f", {k} = :{k}" for k in names) + " WHERE id = :id", params)
        else:  # a value computed by the database (attempts + 1): SQLAlchemy builds it
            conn.execute(update(table).where(table.c.id == row_id).values(state=state, **values))
        if table is files:
            ids: dict[str, str | None] = {"file_id": row_id}
        elif table is documents:
            ids = {"file_id": file_id, "document_id": row_id}
        else:
            ids = {"outbox_id": row_id, "document_id": document_id, "file_id": file_id}
        self._event(conn, state_from=state_from, state_to=state, detail=detail, **ids)
        return True

    def _file_of_document(self, conn: Connection, document_id: str | None) -> str | None:
        """The file a document came in (None when there is no such document)."""
        if document_id is None:
            return None
        found = self._raw.first(conn, _SQL_FILE_OF_DOCUMENT, {"id": document_id})
        return None if found is None else found[0]

    # ------------------------------------------------------------------ files

    def land(self, raw: RawDocument) -> LandingReceipt:
        """Archive the bytes, then commit the file row + its 'received' event; idempotent on transport id."""
        existing = self._landed(raw.transport, bounded(raw.transport_id, TRANSPORT_ID_MAX))
        if existing is not None:
            return existing
        return self._record_landing(raw, self._archive_raw(raw))

    def land_many(self, raws: Sequence[RawDocument]) -> list[LandingReceipt | Exception]:
        """Land several documents: archive them together (two filesystem syncs for the batch, no ledger
        lock held meanwhile), then commit all their rows in ONE transaction. Each gets its receipt, or
        the error that kept it out of the archive (the others land regardless); a failing commit raises
        for the whole batch. Call it outside ``transaction()``: its receipts mean committed."""
        results: list[LandingReceipt | Exception | None] = [None] * len(raws)
        todo: list[int] = []
        for i, raw in enumerate(raws):
            if raw.received_at.tzinfo is None:  # what _insert_file would refuse, refused here for this one only
                results[i] = StoreError(f"received_at of {raw.transport}:{raw.transport_id} is naive; sources "
                                        "must give UTC times")
                continue
            existing = self._landed(raw.transport, bounded(raw.transport_id, TRANSPORT_ID_MAX))
            if existing is not None:
                results[i] = existing
            else:
                todo.append(i)
        blobs: dict[int, ArchivedBlob] = {}
        sources: list[Path | bytes] = []
        for i in todo:
            raw = raws[i]
            if raw.body is not None:
                sources.append(raw.body)
            elif raw.body_path is not None:
                sources.append(raw.body_path)
            else:
                sources.append(b"")
                results[i] = StoreError(f"cannot land {raw.transport}:{raw.transport_id}: it has neither body "
                                        "nor body_path")
        for i, archived in zip(todo, self.archive.put_many(sources) if todo else [], strict=True):
            if results[i] is not None:
                continue
            if isinstance(archived, Exception):
                results[i] = archived
            else:
                blobs[i] = archived
        if blobs:
            with self.transaction():
                for i, blob in blobs.items():
                    results[i] = self._record_landing(raws[i], blob)
        return [r if r is not None else StoreError("not landed") for r in results]

    def _archive_raw(self, raw: RawDocument) -> ArchivedBlob:
        """Put a RawDocument's bytes into the archive (durable when this returns)."""
        if raw.body is not None:
            return self.archive.put_bytes(raw.body)
        if raw.body_path is not None:
            return self.archive.put_file(raw.body_path)
        raise StoreError(f"cannot land {raw.transport}:{raw.transport_id}: it has neither body nor body_path")

    def _record_landing(self, raw: RawDocument, blob: ArchivedBlob) -> LandingReceipt:
        """Commit the file row of an archived RawDocument (idempotent on its transport id)."""
        transport_id = bounded(raw.transport_id, TRANSPORT_ID_MAX)
        metadata = dict(raw.metadata)
        if transport_id != raw.transport_id:
            metadata.setdefault("transport_id", raw.transport_id)
        return self._insert_file(
            transport=raw.transport, transport_id=transport_id, filename=raw.filename,
            partner_hint=raw.partner_hint, sha256=blob.sha256, size=blob.size,
            received_at=raw.received_at, metadata=metadata, parent_id=None,
            detail={"transport": raw.transport, "filename": raw.filename, "size": blob.size},
        )

    def replay_file(self, file_id: str, replay_id: str, *, reason: str | None = None) -> LandingReceipt:
        """Land an archived file again as a new file row (parent_id = the original); idempotent on replay_id."""
        original = self.get_file(file_id)
        if original is None:
            raise NotFound(f"file {file_id!r} is not in the ledger")
        if not self.archive.exists(original.sha256):
            raise StoreError(f"file {file_id} cannot be replayed: blob {original.sha256} is missing")
        return self._insert_file(
            transport="replay", transport_id=bounded(replay_id, TRANSPORT_ID_MAX),
            filename=original.filename, partner_hint=original.partner_hint, sha256=original.sha256,
            size=original.size, received_at=self.now(), metadata=original.metadata,
            parent_id=original.id, detail={"replay_of": original.id, "reason": reason},
        )

    def _insert_file(self, *, transport: str, transport_id: str, filename: str, partner_hint: str | None,
                     sha256: str, size: int, received_at: dt.datetime, metadata: Mapping[str, str],
                     parent_id: str | None, detail: Detail) -> LandingReceipt:
        """Insert a 'received' file row unless its transport id is known; one commit with its event."""
        if received_at.tzinfo is None:
            raise StoreError(f"received_at of {transport}:{transport_id} is naive; sources must give UTC times")
        now = self.now()
        file_id = new_id()
        raw = self._raw
        with self._write() as conn:
            inserted = raw.first(conn, _SQL_INSERT_FILE, {
                "id": file_id, "transport": transport, "transport_id": transport_id, "filename": filename,
                "partner_hint": partner_hint, "sha256": sha256, "size": size, "received_at": raw.ts(received_at),
                "landed_at": raw.ts(now), "parent_id": parent_id,
                "metadata_json": json.dumps(dict(metadata), sort_keys=True), "updated_at": raw.ts(now),
            })
            if inserted is not None:
                self._event(conn, file_id=file_id, state_to="received", detail=detail)
        if inserted is None:  # another worker landed the same transport id a moment ago
            existing = self._landed(transport, transport_id)
            assert existing is not None
            return existing
        return LandingReceipt(file_id, sha256, size)

    def _landed(self, transport: str, transport_id: str) -> LandingReceipt | None:
        """The receipt of the file landed under this transport id (``already_landed``), if any."""
        with self._read() as conn:
            row = self._raw.first(conn, _SQL_FILE_BY_TRANSPORT, {"transport": transport, "tid": transport_id})
        return None if row is None else LandingReceipt(row[0], row[1], int(row[2]), already_landed=True)

    def get_file(self, file_id: str) -> FileRow | None:
        """One file row, or None."""
        with self._read() as conn:
            row = conn.execute(select(files).where(files.c.id == file_id)).mappings().first()
        return None if row is None else from_mapping(FileRow, row)

    def find_files(self, *, state: str | None = None, partner_id: str | None = None,
                   sha256: str | None = None, parent_id: str | None = None, limit: int = 1000) -> list[FileRow]:
        """Files matching all the given filters, oldest first."""
        query = select(files).order_by(files.c.id).limit(limit)
        for column, value in (("state", state), ("partner_id", partner_id), ("sha256", sha256),
                              ("parent_id", parent_id)):
            if value is not None:
                query = query.where(files.c[column] == value)
        with self._read() as conn:
            return [from_mapping(FileRow, row) for row in conn.execute(query).mappings()]

    def claim_files(self, worker: str, limit: int, lease_seconds: float, *,
                    states: Collection[str] = ("received",)) -> list[FileRow]:
        """Lease files to ``worker``: those in ``states``, plus 'failed' ones whose retry is due.

        Only rows without a live lease are taken; each claim counts as an attempt. A failed file
        without ``next_attempt_at`` is not retried (give it a retry time, or move it to 'dead').
        """
        now = self.now()
        due_retry = and_(files.c.state == "failed", files.c.next_attempt_at <= now)
        claimable = and_(_lease_free(files, now), or_(files.c.state.in_(list(states)), due_retry))
        return [from_mapping(FileRow, row) for row in self._claim(files, claimable, worker, limit, lease_seconds)]

    def extend_file_lease(self, file_id: str, worker: str, lease_seconds: float) -> bool:
        """Extend ``worker``'s lease on a file (for long work); False if it is no longer theirs."""
        until = self.now() + dt.timedelta(seconds=lease_seconds)
        with self._write() as conn:
            result = conn.execute(
                update(files).where(files.c.id == file_id, files.c.claimed_by == worker)
                .values(claimed_until=until)
            )
        return bool(result.rowcount)

    def set_file_state(self, file_id: str, state: str, *, expect: str | None = None, worker: str | None = None,
                       detail: Detail = None, error: str | None = None, retry_at: dt.datetime | None = None,
                       release: bool = False) -> bool:
        """Move a file to ``state`` and record the event.

        ``expect`` makes it a compare-and-set on the current state, ``worker`` on the lease holder;
        either returns False when it does not match. ``error`` is kept as ``last_error``,
        ``retry_at`` becomes ``next_attempt_at``; ``release`` drops the lease.
        """
        values: dict[str, Any] = {"updated_at": self.now(), "next_attempt_at": retry_at}
        if error is not None:
            values["last_error"] = error
        if release:
            values.update(claimed_by=None, claimed_until=None)
        with self._write() as conn:
            return self._transition(conn, files, file_id, state, expect=None if expect is None else (expect,),
                                    worker=worker, values=values, detail=detail if error is None else
                                    _merge_error(detail, error))

    def set_file_partner(self, file_id: str, partner_id: str | None) -> None:
        """Record which partner a file turned out to be from (after identification)."""
        with self._write() as conn:
            changed = self._raw.execute(conn, "UPDATE files SET partner_id = :partner_id, updated_at = :now "
                                        "WHERE id = :id", {"partner_id": partner_id, "id": file_id,
                                                           "now": self._raw.ts(self.now())})
        if not changed:
            raise NotFound(f"file {file_id!r} is not in the ledger")

    # ------------------------------------------------------------------ documents

    def add_document(self, file_id: str, seq: int, *, kind: str, state: str = "received",
                     direction: Direction = "in", partner_id: str | None = None,
                     sender_id: str | None = None, receiver_id: str | None = None,
                     isa13: str | None = None, gs06: str | None = None, st02: str | None = None,
                     gs01: str | None = None, st01: str | None = None, version: str | None = None,
                     business_key: str | None = None, purpose_code: str | None = None,
                     content_hash: str | None = None, parent_id: str | None = None,
                     canonical_json: str | None = None, issues_json: str | None = None,
                     detail: Detail = None, document_id: str | None = None,
                     duplicate_of: str | None = None) -> str:
        """Record the ``seq``-th document of a file and return its id; the same (file, seq) again
        returns the first id and changes nothing (re-processing after a crash).

        ``document_id`` lets the caller choose the id (to claim dedup keys before the row exists).
        """
        if direction not in ("in", "out"):
            raise StoreError(f"direction must be 'in' or 'out', got {direction!r}")
        now = self.now()
        doc_id = document_id or new_id()
        raw = self._raw
        with self._write() as conn:
            if raw.first(conn, _SQL_FILE_EXISTS, {"id": file_id}) is None:
                raise NotFound(f"file {file_id!r} is not in the ledger")
            inserted = raw.first(conn, _SQL_INSERT_DOCUMENT, {
                "id": doc_id, "file_id": file_id, "seq": seq, "direction": direction, "partner_id": partner_id,
                "kind": kind, "state": state, "sender_id": sender_id, "receiver_id": receiver_id, "isa13": isa13,
                "gs06": gs06, "st02": st02, "gs01": gs01, "st01": st01, "version": version,
                "business_key": business_key, "purpose_code": purpose_code, "content_hash": content_hash,
                "parent_id": parent_id, "duplicate_of": duplicate_of, "canonical_json": canonical_json,
                "issues_json": issues_json, "created_at": raw.ts(now), "updated_at": raw.ts(now),
            })
            if inserted is None:
                existing = conn.scalar(select(documents.c.id)
                                       .where(documents.c.file_id == file_id, documents.c.seq == seq))
                assert existing is not None
                return str(existing)
            self._event(conn, file_id=file_id, document_id=doc_id, state_to=state, detail=detail)
        return doc_id

    def get_document(self, document_id: str) -> DocumentRow | None:
        """One document row, or None."""
        with self._read() as conn:
            row = conn.execute(select(documents).where(documents.c.id == document_id)).mappings().first()
        return None if row is None else from_mapping(DocumentRow, row)

    def documents_for_file(self, file_id: str) -> list[DocumentRow]:
        """A file's documents in file order."""
        with self._read() as conn:
            rows = conn.execute(select(documents).where(documents.c.file_id == file_id)
                                .order_by(documents.c.seq)).mappings()
            return [from_mapping(DocumentRow, row) for row in rows]

    def find_documents(self, partner_id: str | None = None, state: str | None = None, kind: str | None = None,
                       business_key: str | None = None, direction: Direction | None = None, *,
                       isa13: str | None = None, gs06: str | None = None, st02: str | None = None,
                       limit: int = 1000) -> list[DocumentRow]:
        """Documents matching all the given filters, oldest first."""
        filters = {"partner_id": partner_id, "state": state, "kind": kind, "business_key": business_key,
                   "direction": direction, "isa13": isa13, "gs06": gs06, "st02": st02}
        query = select(documents).order_by(documents.c.created_at, documents.c.id).limit(limit)
        for column, value in filters.items():
            if value is not None:
                query = query.where(documents.c[column] == value)
        with self._read() as conn:
            return [from_mapping(DocumentRow, row) for row in conn.execute(query).mappings()]

    def set_document_state(self, document_id: str, state: str, *, expect: str | Collection[str] | None = None,
                           detail: Detail = None, error: str | None = None, retry_at: dt.datetime | None = None,
                           duplicate_of: str | None = None, issues_json: str | None = None) -> bool:
        """Move a document to ``state`` and record the event; ``expect`` makes it a compare-and-set.

        An ``error`` is kept as ``last_error`` and counts an attempt; ``retry_at`` becomes
        ``next_attempt_at``; ``duplicate_of`` / ``issues_json`` are stored when given.
        """
        values: dict[str, Any] = {"updated_at": self.now(), "next_attempt_at": retry_at}
        if error is not None:
            values.update(last_error=error, attempts=documents.c.attempts + 1)
        if duplicate_of is not None:
            values["duplicate_of"] = duplicate_of
        if issues_json is not None:
            values["issues_json"] = issues_json
        expected = (expect,) if isinstance(expect, str) else expect
        with self._write() as conn:
            return self._transition(conn, documents, document_id, state, expect=expected, worker=None,
                                    values=values, detail=detail if error is None else _merge_error(detail, error))

    # ------------------------------------------------------------------ duplicates

    def claim_dedup_key(self, partner_id: str, layer: DedupLayer, key: str, document_id: str | None = None,
                        window_days: float = 90, *, file_id: str | None = None) -> str | None:
        """Record a dedup key; None if it is new (or its earlier record fell out of the window and is
        replaced), else the id of the original (its document id, or file id for file-level keys).

        The same document (or file) claiming its own key again gets None: re-runs are not duplicates.
        """
        if layer not in DEDUP_LAYERS:
            raise StoreError(f"unknown dedup layer {layer!r}; expected one of {sorted(DEDUP_LAYERS)}")
        if document_id is None and file_id is None:
            raise StoreError("claim_dedup_key needs the document_id or file_id that owns the key")
        key = bounded(key, DEDUP_KEY_MAX)
        now = self.now()
        raw = self._raw
        params = {"partner_id": partner_id, "layer": layer, "key": key, "document_id": document_id,
                  "file_id": file_id, "seen_at": raw.ts(now), "cutoff": raw.ts(now - dt.timedelta(days=window_days))}
        with self._write() as conn:
            if raw.first(conn, _SQL_CLAIM_DEDUP, params) is not None:
                return None
            original = raw.first(conn, _SQL_DEDUP_OWNER, params)
        assert original is not None
        original_id = original[0] or original[1]
        mine = document_id or file_id
        return None if original_id == mine else str(original_id)

    # ------------------------------------------------------------------ control numbers

    def next_control_number(self, partner_id: str, direction: Direction, kind: ControlKind, *,
                            start: int = 1, maximum: int = 999_999_999) -> int:
        """The next ISA13/GS06/ST02 for (partner, direction, kind): no gap, no repeat, across
        workers and restarts; after ``maximum`` it wraps to ``start``."""
        if not 0 <= start <= maximum:
            raise StoreError(f"control number range {start}..{maximum} is empty")
        raw = self._raw
        params = {"partner_id": partner_id, "direction": direction, "kind": kind, "start": start,
                  "maximum": maximum, "now": raw.ts(self.now())}
        with self._write() as conn:
            found = raw.first(conn, _SQL_BUMP_CONTROL, params)
            if found is None:  # first number for this key: insert it, unless a racing worker just did
                found = raw.first(conn, _SQL_FIRST_CONTROL, params)
                if found is None:
                    found = raw.first(conn, _SQL_BUMP_CONTROL, params)
        assert found is not None
        return int(found[0])

    def allocate_control_numbers(self, partner_id: str, direction: Direction, key: str, *,
                                 sets: int = 1) -> ControlAllocation:
        """ISA13, GS06 and ``sets`` ST02 numbers for one outbound interchange, allocated once per ``key``.

        Asking again with the same key (a retry after a crash) returns the same numbers, so no
        number is ever skipped or used twice. The counters and the allocation commit together.
        """
        key = bounded(key, DEDUP_KEY_MAX)
        raw = self._raw
        with self.transaction(), self._write() as conn:
            found = raw.first(conn, _SQL_ALLOCATION, {"key": key})
            row: dict[str, Any] | None = None
            if found is not None:
                row = dict(zip(("isa13", "gs06", "st_first", "st_count"), found, strict=True))
            else:
                isa13 = self.next_control_number(partner_id, direction, "isa")
                gs06 = self.next_control_number(partner_id, direction, "gs")
                st_first = 0
                for i in range(max(sets, 0)):
                    n = self.next_control_number(partner_id, direction, "st", maximum=9999)
                    st_first = n if i == 0 else st_first
                row = {"key": key, "partner_id": partner_id, "direction": direction, "isa13": isa13,
                       "gs06": gs06, "st_first": st_first, "st_count": max(sets, 0), "created_at": raw.ts(self.now())}
                raw.execute(conn, _SQL_INSERT_ALLOCATION, row)
        assert row is not None
        first, count = int(row["st_first"]), int(row["st_count"])
        st_numbers = [((first - 1 + i) % 9999) + 1 for i in range(count)]
        return ControlAllocation(int(row["isa13"]), int(row["gs06"]), st_numbers)

    def seed_control_number(self, partner_id: str, direction: Direction, kind: ControlKind, last_value: int) -> None:
        """Set the last used control number (taking over from another system); the next is last_value + 1."""
        now = self.now()
        with self._write() as conn:
            ins = _insert(conn, control_numbers).values(partner_id=partner_id, direction=direction, kind=kind,
                                                        last_value=last_value, updated_at=now)
            conn.execute(ins.on_conflict_do_update(index_elements=["partner_id", "direction", "kind"],
                                                   set_={"last_value": last_value, "updated_at": now}))

    # ------------------------------------------------------------------ outbox

    def enqueue(self, kind: str, partner_id: str | None, destination: str, idempotency_key: str,
                payload: bytes | None, document_id: str | None = None, *, file_id: str | None = None) -> str:
        """Queue a message to send; the same idempotency key returns the first id.

        A payload up to ``INLINE_PAYLOAD_MAX`` bytes is kept in the row, durable with the same commit;
        a larger one is archived first. ``file_id`` (the document's file, for the event) saves a lookup.
        """
        inline = payload if payload is not None and len(payload) <= INLINE_PAYLOAD_MAX else None
        payload_sha256 = None if payload is None or inline is not None else self.archive.put_bytes(payload).sha256
        key = bounded(idempotency_key, IDEMPOTENCY_KEY_MAX)
        outbox_id = new_id()
        raw = self._raw
        with self._write() as conn:
            inserted = raw.first(conn, _SQL_ENQUEUE, {
                "id": outbox_id, "kind": kind, "partner_id": partner_id, "document_id": document_id,
                "destination": destination, "key": key, "payload_sha256": payload_sha256, "payload": inline,
                "now": raw.ts(self.now())})
            if inserted is None:
                existing = raw.first(conn, _SQL_OUTBOX_BY_KEY, {"key": key})
                assert existing is not None
                return str(existing[0])
            if file_id is None:
                file_id = self._file_of_document(conn, document_id)
            self._event(conn, outbox_id=outbox_id, document_id=document_id, file_id=file_id, state_to="pending",
                        detail={"kind": kind, "destination": destination})
        return outbox_id

    def sink_fields(self, document_id: str) -> tuple[str, str | None, str, str | None, str | None] | None:
        """What a sink delivery is built from: (id, partner_id, kind, issues_json, canonical_json) of a document."""
        with self._read() as conn:
            row = self._raw.first(conn, _SQL_SINK_FIELDS, {"id": document_id})
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    def sink_deliveries(self, document_id: str) -> tuple[int, int]:
        """(all, not yet sent) sink deliveries queued for a document."""
        with self._read() as conn:
            row = self._raw.first(conn, _SQL_SINKS_UNSENT, {"id": document_id})
        assert row is not None
        return int(row[0]), int(row[1])

    def get_outbox(self, outbox_id: str) -> OutboxRow | None:
        """One outbox message, or None."""
        with self._read() as conn:
            row = conn.execute(select(outbox).where(outbox.c.id == outbox_id)).mappings().first()
        return None if row is None else from_mapping(OutboxRow, row)

    def outbox_payload(self, row: OutboxRow) -> bytes | None:
        """The payload of an outbox message, from its row or the archive (None when it has none)."""
        if row.payload_sha256 is not None:
            return self.archive.read(row.payload_sha256)
        if row.payload is not None:
            return bytes(row.payload)
        with self._read() as conn:
            data = conn.scalar(select(outbox.c.payload).where(outbox.c.id == row.id))
        return None if data is None else bytes(data)

    def claim_outbox(self, worker: str, limit: int, lease_seconds: float,
                     kinds: Collection[str] | None = None,
                     exclude_partners: Collection[str] = ()) -> list[OutboxRow]:
        """Lease due messages (pending, or failed with the retry time reached) to ``worker``;
        ``exclude_partners`` skips partners whose earlier messages are still being sent."""
        now = self.now()
        claimable = and_(outbox.c.state.in_(OUTBOX_OPEN), outbox.c.next_attempt_at <= now, _lease_free(outbox, now))
        if kinds is not None:
            claimable = and_(claimable, outbox.c.kind.in_(list(kinds)))
        if exclude_partners:
            claimable = and_(claimable, or_(outbox.c.partner_id.is_(None),
                                            outbox.c.partner_id.notin_(list(exclude_partners))))
        return [from_mapping(OutboxRow, row) for row in self._claim(outbox, claimable, worker, limit, lease_seconds)]

    def mark_sent(self, outbox_id: str, *, worker: str | None = None, detail: Detail = None) -> bool:
        """Record a message as delivered; False if it was already final (or, with ``worker``, not theirs)."""
        values = {"sent_at": self.now(), "claimed_by": None, "claimed_until": None, "next_attempt_at": None}
        with self._write() as conn:
            return self._transition(conn, outbox, outbox_id, "sent", expect=OUTBOX_OPEN, worker=worker,
                                    values=values, detail=detail)

    def mark_failed(self, outbox_id: str, error: str, retry_at: dt.datetime, *, worker: str | None = None) -> bool:
        """Record a failed send to be retried at ``retry_at``; False if the message is already final."""
        values = {"last_error": error, "next_attempt_at": retry_at, "claimed_by": None, "claimed_until": None}
        with self._write() as conn:
            return self._transition(conn, outbox, outbox_id, "failed", expect=OUTBOX_OPEN, worker=worker,
                                    values=values, detail={"error": error, "retry_at": retry_at.isoformat()})

    def mark_dead(self, outbox_id: str, error: str, *, worker: str | None = None) -> bool:
        """Give up on a message (dead letter); False if it is already final."""
        values = {"last_error": error, "next_attempt_at": None, "claimed_by": None, "claimed_until": None}
        with self._write() as conn:
            return self._transition(conn, outbox, outbox_id, "dead", expect=OUTBOX_OPEN, worker=worker,
                                    values=values, detail={"error": error})

    def find_outbox(self, *, state: str | None = None, kind: str | None = None,
                    document_id: str | None = None, key_prefix: str | None = None,
                    limit: int = 1000) -> list[OutboxRow]:
        """Outbox messages matching all the given filters (``key_prefix`` on the idempotency key), oldest first."""
        query = select(outbox).order_by(outbox.c.id).limit(limit)
        if key_prefix is not None:
            query = query.where(outbox.c.idempotency_key.startswith(key_prefix, autoescape=True))
        for column, value in (("state", state), ("kind", kind), ("document_id", document_id)):
            if value is not None:
                query = query.where(outbox.c[column] == value)
        with self._read() as conn:
            return [from_mapping(OutboxRow, row) for row in conn.execute(query).mappings()]

    # ------------------------------------------------------------------ alerts

    def add_alert(self, kind: str, subject: str, body: str, partner_id: str | None = None,
                  dedup_key: str | None = None) -> str:
        """Record an alert for ops and return its id; with ``dedup_key``, a repeat of an unsent alert
        only bumps its ``repeats`` count and returns its id."""
        now = self.now()
        # Alert text quotes partners' data; PostgreSQL text cannot hold NUL, so it is shown escaped.
        subject, body = subject.replace("\x00", "\\x00"), body.replace("\x00", "\\x00")
        values = {"id": new_id(), "kind": kind, "partner_id": partner_id, "subject": subject, "body": body,
                  "dedup_key": None if dedup_key is None else bounded(dedup_key, 300), "repeats": 1,
                  "created_at": now, "last_seen_at": now, "state": "pending", "attempts": 0,
                  "next_attempt_at": now}
        with self._write() as conn:
            stmt = _insert(conn, alerts).values(**values)
            if dedup_key is not None:
                stmt = stmt.on_conflict_do_update(
                    index_elements=["dedup_key"], index_where=ALERT_OPEN,
                    set_={"repeats": alerts.c.repeats + 1, "last_seen_at": now},
                )
            return str(conn.execute(stmt.returning(alerts.c.id)).scalar_one())

    def alert(self, kind: str, subject: str, body: str, *, partner_id: str | None = None,
              dedup_key: str | None = None) -> None:
        """inbox.base.Alerter: record an alert (see ``add_alert``)."""
        self.add_alert(kind, subject, body, partner_id=partner_id, dedup_key=dedup_key)

    def pending_alerts(self, limit: int = 100) -> list[AlertRow]:
        """Alerts to send now: pending ones, and failed ones whose retry time has come; oldest first."""
        now = self.now()
        due = or_(alerts.c.state == "pending", and_(alerts.c.state == "failed", alerts.c.next_attempt_at <= now))
        with self._read() as conn:
            rows = conn.execute(select(alerts).where(due).order_by(alerts.c.id).limit(limit)).mappings()
            return [from_mapping(AlertRow, row) for row in rows]

    def mark_alert_sent(self, ids: Sequence[str], *, digest_id: str | None = None) -> int:
        """Record alerts as sent (optionally in one digest); returns how many changed."""
        if not ids:
            return 0
        with self._write() as conn:
            result = conn.execute(
                update(alerts).where(alerts.c.id.in_(list(ids)), ALERT_OPEN)
                .values(state="sent", sent_at=self.now(), digest_id=digest_id, next_attempt_at=None,
                        attempts=alerts.c.attempts + 1)
            )
        return int(result.rowcount)

    def mark_alert_failed(self, ids: Sequence[str], error: str, retry_at: dt.datetime) -> int:
        """Record a failed attempt to send alerts, to retry at ``retry_at``; returns how many changed."""
        if not ids:
            return 0
        with self._write() as conn:
            result = conn.execute(
                update(alerts).where(alerts.c.id.in_(list(ids)), ALERT_OPEN)
                .values(state="failed", last_error=error, next_attempt_at=retry_at, attempts=alerts.c.attempts + 1)
            )
        return int(result.rowcount)

    # ------------------------------------------------------------------ expected acknowledgments

    def expect_ack(self, partner_id: str, isa13: str, gs06: str, st02: str, *, document_id: str | None,
                   sent_at: dt.datetime, due_at: dt.datetime) -> None:
        """Remember that a sent transaction set should be acknowledged by ``due_at`` (idempotent)."""
        with self._write() as conn:
            conn.execute(
                _insert(conn, acks_expected).values(
                    partner_id=partner_id, isa13=isa13, gs06=gs06, st02=st02, document_id=document_id,
                    sent_at=sent_at, due_at=due_at, status="pending", updated_at=self.now(),
                ).on_conflict_do_nothing(index_elements=["partner_id", "isa13", "gs06", "st02"])
            )

    def resolve_ack(self, partner_id: str, isa13: str, gs06: str, st02: str, status: str,
                    detail: str | None = None) -> bool:
        """Record the acknowledgment status (accepted, rejected, overdue ...) of an expected ack;
        False if nothing was expected under those control numbers or it was already resolved."""
        with self._write() as conn:
            result = conn.execute(
                update(acks_expected).where(
                    acks_expected.c.partner_id == partner_id, acks_expected.c.isa13 == isa13,
                    acks_expected.c.gs06 == gs06, acks_expected.c.st02 == st02,
                    acks_expected.c.status.in_(("pending", "overdue")),
                ).values(status=status, detail=detail, updated_at=self.now())
            )
        return bool(result.rowcount)

    def overdue_acks(self, limit: int = 1000) -> list[AckExpectation]:
        """Expected acks still pending after their due time."""
        now = self.now()
        with self._read() as conn:
            rows = conn.execute(
                select(acks_expected).where(acks_expected.c.status == "pending", acks_expected.c.due_at <= now)
                .order_by(acks_expected.c.due_at).limit(limit)
            ).mappings()
            return [from_mapping(AckExpectation, row) for row in rows]

    def find_acks_expected(self, *, partner_id: str | None = None, status: str | Collection[str] | None = None,
                           gs06: str | None = None, isa13: str | None = None, document_id: str | None = None,
                           limit: int = 1000) -> list[AckExpectation]:
        """Expected acks matching all the given filters, oldest sent first."""
        query = select(acks_expected).order_by(acks_expected.c.sent_at, acks_expected.c.id).limit(limit)
        for column, value in (("partner_id", partner_id), ("gs06", gs06), ("isa13", isa13),
                              ("document_id", document_id)):
            if value is not None:
                query = query.where(acks_expected.c[column] == value)
        if status is not None:
            query = query.where(acks_expected.c.status.in_([status] if isinstance(status, str) else list(status)))
        with self._read() as conn:
            return [from_mapping(AckExpectation, row) for row in conn.execute(query).mappings()]

    def mark_ack_overdue(self, ack_id: int, detail: str | None = None) -> bool:
        """Move one pending expectation to 'overdue'; False if it is no longer pending (only one caller wins)."""
        with self._write() as conn:
            result = conn.execute(
                update(acks_expected).where(acks_expected.c.id == ack_id, acks_expected.c.status == "pending")
                .values(status="overdue", detail=detail, updated_at=self.now())
            )
        return bool(result.rowcount)

    # ------------------------------------------------------------------ trace and counts

    def history(self, file_or_document_id: str) -> list[dict[str, Any]]:
        """Every event of a file (including its documents and their messages), document or outbox
        message, in the order they happened."""
        key = file_or_document_id
        with self._read() as conn:
            rows = conn.execute(
                select(events).where(or_(events.c.file_id == key, events.c.document_id == key,
                                         events.c.outbox_id == key)).order_by(events.c.id)
            ).mappings().all()
        return [{**row, "detail": _parse_detail(row["detail"])} for row in rows]

    def counts_by_partner_and_state(self, of: Literal["documents", "files"] = "documents",
                                    ) -> list[tuple[str | None, str, int]]:
        """(partner_id, state, count) for every partner and state of documents (or files)."""
        table = documents if of == "documents" else files
        with self._read() as conn:
            rows = conn.execute(
                select(table.c.partner_id, table.c.state, func.count())
                .group_by(table.c.partner_id, table.c.state).order_by(table.c.partner_id, table.c.state)
            ).all()
        return [(row[0], row[1], int(row[2])) for row in rows]


def _merge_error(detail: Detail, error: str) -> Detail:
    """Put the error into an event's detail."""
    if detail is None:
        return {"error": error}
    if isinstance(detail, str):
        return {"detail": detail, "error": error}
    return {**detail, "error": error}


def _parse_detail(text: str | None) -> Any:
    """Event detail as written: JSON objects back to dicts, plain text as text."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict | list) else text


if TYPE_CHECKING:

    def _implements_inbox_protocols(store: Store) -> tuple[Lander, Alerter]:
        """mypy checks here that Store is an inbox Lander and Alerter."""
        return store, store
