"""What every inbound source produces and the one call it makes before it lets go of a file.

Rules:
- A source hands a ``RawDocument`` to a ``Lander`` and gets a ``LandingReceipt`` back only once
  the bytes are archived and the ledger row is committed. Only then may the source acknowledge
  the file to its origin (move it out of the folder, delete it on the SFTP server, send the MDN).
- ``transport_id`` identifies the file at its origin (folder path + size + mtime, SFTP
  host:port:path:size:mtime:content hash, AS2 partner/Message-ID); landing the same transport id twice returns the first
  receipt, so a crash between landing and acknowledging leads to one document, not two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

Transport = Literal["folder", "sftp", "as2", "cli", "api", "replay", "outbound"]


@dataclass(frozen=True, slots=True)
class RawDocument:
    """Bytes as they arrived, and where, when and from whom they came."""

    transport: Transport
    transport_id: str
    filename: str
    received_at: dt.datetime
    body: bytes | None = None  # small documents in memory ...
    body_path: Path | None = None  # ... or a local spool file for large ones
    partner_hint: str | None = None  # partner id the transport already knows (SFTP account, AS2 id)
    metadata: dict[str, str] = field(default_factory=dict)

    def read_bytes(self) -> bytes:
        """The whole body (prefer ``open`` for large files)."""
        if self.body is not None:
            return self.body
        if self.body_path is None:
            raise ValueError("RawDocument has neither body nor body_path")
        return self.body_path.read_bytes()

    @property
    def size(self) -> int:
        """Size of the body in bytes."""
        if self.body is not None:
            return len(self.body)
        assert self.body_path is not None
        return self.body_path.stat().st_size


@dataclass(frozen=True, slots=True)
class LandingReceipt:
    """Proof that a RawDocument is archived and recorded; the source may now let go of it."""

    file_id: str
    sha256: str
    size: int
    already_landed: bool = False  # the same transport id was landed before (a crash replay)


class Lander(Protocol):
    """Durably archives and records a RawDocument; returns only after the commit."""

    def land(self, raw: RawDocument) -> LandingReceipt:
        """Archive the bytes and commit the ledger row; idempotent on (transport, transport_id)."""
        ...


class Alerter(Protocol):
    """Where a source reports trouble it cannot fix itself (host key changed, bad remote name)."""

    def alert(self, kind: str, subject: str, body: str, *, partner_id: str | None = None,
              dedup_key: str | None = None) -> None:
        """Record an alert for ops; ``dedup_key`` folds repeats of the same trouble into one."""
        ...
