"""The ledger's tables, in SQLAlchemy Core, for SQLite and PostgreSQL alike.

Rules:
- This module is the schema the code expects; ``gateway/migrations/versions`` is how a database
  gets there. A test compares the two, so a change here without a migration fails.
- Times are stored in UTC (``UtcDateTime``) and always come back timezone-aware.
- Ids of files, documents, outbox messages and alerts are 26-character sortable ids (ULID-like);
  events use an autoincrement integer so their order is the order they were written.
- Values that come from partners (ids, control numbers, keys, file names) are unbounded ``Text``:
  a malformed ISA13 of 40 characters is the partner's problem to hear about, not a column overflow.
- Free-form structures (file metadata, canonical documents, issues, event details) are JSON text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

ID = String(26)
PARTNER = String(100)
STATE = String(20)
SHA256 = String(64)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and returned timezone-aware; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Convert to UTC; SQLite has no zone, so it gets the naive UTC wall time."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only accepts timezone-aware times")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Hand back an aware UTC datetime whatever the backend returned."""
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


AUTO_ID = BigInteger().with_variant(Integer(), "sqlite")

files = Table(
    "files",
    metadata,
    Column("id", ID, primary_key=True),
    Column("transport", String(16), nullable=False),
    Column("transport_id", String(1000), nullable=False),
    Column("filename", Text, nullable=False),
    Column("partner_hint", PARTNER),
    Column("partner_id", PARTNER),
    Column("sha256", SHA256, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("landed_at", UtcDateTime, nullable=False),
    Column("state", STATE, nullable=False),
    Column("claimed_by", String(200)),
    Column("claimed_until", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("parent_id", ID, ForeignKey("files.id")),
    Column("metadata_json", Text, nullable=False, default="{}"),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("transport", "transport_id"),
    Index(None, "state", "next_attempt_at"),
    Index(None, "state", "claimed_until"),
    Index(None, "partner_id", "state"),
    Index(None, "sha256"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", ID, primary_key=True),
    Column("file_id", ID, ForeignKey("files.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("direction", String(3), nullable=False),
    Column("partner_id", PARTNER),
    Column("kind", String(40), nullable=False),
    Column("state", STATE, nullable=False),
    Column("sender_id", Text),
    Column("receiver_id", Text),
    Column("isa13", Text),
    Column("gs06", Text),
    Column("st02", Text),
    Column("gs01", Text),
    Column("st01", Text),
    Column("version", Text),
    Column("business_key", Text),
    Column("purpose_code", Text),
    Column("content_hash", SHA256),
    Column("duplicate_of", ID, ForeignKey("documents.id")),
    Column("parent_id", ID, ForeignKey("documents.id")),
    Column("canonical_json", Text),
    Column("issues_json", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("file_id", "seq"),
    Index(None, "partner_id", "state"),
    Index(None, "state", "next_attempt_at"),
    Index(None, "partner_id", "business_key"),
    Index(None, "partner_id", "isa13", "gs06", "st02"),
    Index(None, "kind", "state"),
)

events = Table(
    "events",
    metadata,
    Column("id", AUTO_ID, primary_key=True, autoincrement=True),
    Column("file_id", ID),
    Column("document_id", ID),
    Column("outbox_id", ID),
    Column("at", UtcDateTime, nullable=False),
    Column("state_from", STATE),
    Column("state_to", STATE, nullable=False),
    Column("detail", Text),
    Index(None, "file_id"),
    Index(None, "document_id"),
    Index(None, "outbox_id"),
)

dedup_keys = Table(
    "dedup_keys",
    metadata,
    Column("partner_id", PARTNER, nullable=False),
    Column("layer", String(16), nullable=False),
    Column("key", String(500), nullable=False),
    Column("document_id", ID),
    Column("file_id", ID),
    Column("seen_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("partner_id", "layer", "key"),
)

control_numbers = Table(
    "control_numbers",
    metadata,
    Column("partner_id", PARTNER, nullable=False),
    Column("direction", String(3), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("last_value", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("partner_id", "direction", "kind"),
)

control_allocations = Table(
    "control_allocations",
    metadata,
    Column("key", Text, primary_key=True),  # what the numbers are for, e.g. ack:<file>:<n>:<ISA13>
    Column("partner_id", PARTNER, nullable=False),
    Column("direction", String(3), nullable=False),
    Column("isa13", BigInteger, nullable=False),
    Column("gs06", BigInteger, nullable=False),
    Column("st_first", BigInteger, nullable=False),
    Column("st_count", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("partner_id", PARTNER),
    Column("document_id", ID),
    Column("destination", Text, nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("payload_sha256", SHA256),
    Column("payload", LargeBinary),  # small payloads kept in the row: durable with the same commit, no fsyncs
    Column("state", STATE, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime),
    Column("claimed_by", String(200)),
    Column("claimed_until", UtcDateTime),
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Index(None, "state", "next_attempt_at"),
    Index(None, "document_id"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("partner_id", PARTNER),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("dedup_key", String(300)),
    Column("repeats", Integer, nullable=False, default=1),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("state", STATE, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime),
    Column("digest_id", String(40)),
    Index(None, "state", "next_attempt_at"),
)

# At most one unsent alert per dedup key: repeats fold into it (see Store.add_alert).
# The literal (not a bound parameter) matters: PostgreSQL must match ON CONFLICT ... WHERE against the partial
# index even when psycopg runs the statement as a generic prepared plan.
ALERT_OPEN = alerts.c.state != literal_column("'sent'")
Index(
    "uq_alerts_open_dedup_key",
    alerts.c.dedup_key,
    unique=True,
    sqlite_where=ALERT_OPEN,
    postgresql_where=ALERT_OPEN,
)

acks_expected = Table(
    "acks_expected",
    metadata,
    Column("id", AUTO_ID, primary_key=True, autoincrement=True),
    Column("partner_id", PARTNER, nullable=False),
    Column("isa13", Text, nullable=False),
    Column("gs06", Text, nullable=False),
    Column("st02", Text, nullable=False),
    Column("document_id", ID),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", STATE, nullable=False),
    Column("detail", Text),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("partner_id", "isa13", "gs06", "st02"),
    Index(None, "status", "due_at"),
)
