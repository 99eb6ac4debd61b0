"""Small frozen row types the store hands out; field names are the ledger's column names."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar

Direction = Literal["in", "out"]
DedupLayer = Literal["transport", "content", "interchange", "group", "transaction", "business"]
ControlKind = Literal["isa", "gs", "st"]

T = TypeVar("T")


def from_mapping(cls: type[T], mapping: Any) -> T:
    """Build a row dataclass from a SQLAlchemy row mapping (extra columns are ignored)."""
    return cls(**{f.name: mapping[f.name] for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class FileRow:
    """One received (or sent) file in the ledger."""

    id: str
    transport: str
    transport_id: str
    filename: str
    partner_hint: str | None
    partner_id: str | None
    sha256: str
    size: int
    received_at: dt.datetime
    landed_at: dt.datetime
    state: str
    claimed_by: str | None
    claimed_until: dt.datetime | None
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    parent_id: str | None
    metadata_json: str
    updated_at: dt.datetime

    @property
    def metadata(self) -> dict[str, str]:
        """The transport's metadata (headers, remote path ...) as a dict."""
        data = json.loads(self.metadata_json or "{}")
        return data if isinstance(data, dict) else {}


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One transaction set (or XML/CSV document) within a file."""

    id: str
    file_id: str
    seq: int
    direction: str
    partner_id: str | None
    kind: str
    state: str
    sender_id: str | None
    receiver_id: str | None
    isa13: str | None
    gs06: str | None
    st02: str | None
    gs01: str | None
    st01: str | None
    version: str | None
    business_key: str | None
    purpose_code: str | None
    content_hash: str | None
    duplicate_of: str | None
    parent_id: str | None
    canonical_json: str | None
    issues_json: str | None
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message waiting to go out (ack, sink delivery, outbound document, MDN)."""

    id: str
    kind: str
    partner_id: str | None
    document_id: str | None
    destination: str
    idempotency_key: str
    payload_sha256: str | None
    state: str
    attempts: int
    next_attempt_at: dt.datetime | None
    claimed_by: str | None
    claimed_until: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    payload: bytes | None = field(default=None, repr=False)  # small payloads live in the row


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert for ops; ``repeats`` counts how often the same trouble was reported unsent."""

    id: str
    kind: str
    partner_id: str | None
    subject: str
    body: str
    dedup_key: str | None
    repeats: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    state: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    sent_at: dt.datetime | None
    digest_id: str | None


@dataclass(frozen=True, slots=True)
class AckExpectation:
    """An outbound transaction set whose functional acknowledgment we are waiting for."""

    id: int
    partner_id: str
    isa13: str
    gs06: str
    st02: str
    document_id: str | None
    sent_at: dt.datetime
    due_at: dt.datetime
    status: str
    detail: str | None
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ControlAllocation:
    """The control numbers one outbound interchange got: ISA13, GS06 and its ST02s in order."""

    isa13: int
    gs06: int
    st_numbers: list[int]
