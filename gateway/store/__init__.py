"""The gateway's store: content-addressed archive + ledger (files, documents, events, dedup keys,
control numbers, outbox, alerts) on SQLite or PostgreSQL."""

from gateway.store.archive import Archive, ArchivedBlob, ArchiveError
from gateway.store.engine import make_engine, normalize_url
from gateway.store.migrate import migrate
from gateway.store.rows import AckExpectation, AlertRow, DocumentRow, FileRow, OutboxRow
from gateway.store.store import NotFound, Store, StoreError, utc_now

__all__ = [
    "AckExpectation",
    "AlertRow",
    "Archive",
    "ArchiveError",
    "ArchivedBlob",
    "DocumentRow",
    "FileRow",
    "NotFound",
    "OutboxRow",
    "Store",
    "StoreError",
    "make_engine",
    "migrate",
    "normalize_url",
    "utc_now",
]
